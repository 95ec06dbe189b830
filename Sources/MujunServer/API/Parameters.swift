import Foundation
import Vapor
import MujunCore

// Every path and query parameter of every endpoint is parsed here, once, with its bounds.
//
// An endpoint names a `Decodable` struct as its parameters; `ParameterDecoder` fills it from
// the path (`:id`) and the query string. Numbers must be `Bounded<…>` (a plain `Int` is refused
// when the document is built, so no endpoint can forget a bound), text is limited in length,
// enums accept only their cases. Anything else is answered 400 with the parameter named and the
// reason in Chinese and English — never a crash, never a silent default.
//
// ```swift
// struct ResultsQuery: Decodable {
//     var year: Year?          // 1990…2100
//     var page: PageNumber?    // 1…1,000,000
//     var sort: ResultSort?    // one of its cases
//     var q: SearchText?       // at most 100 characters
// }
// ```

/// A parameter value was refused: 400 with this reason.
struct ParameterProblem: Error {
    var parameter: String
    var zh: String
    var en: String
    var abort: Abort { Abort(.badRequest, reason: "参数 \(parameter)：\(zh) / parameter \(parameter): \(en)") }
}

/// A scalar that parses itself from parameter text (and from JSON, with the same rules).
protocol ParameterValue: Decodable, Sendable, SchemaDescribing {
    /// Parses the text of a parameter; throws the reason (without the parameter's name).
    init(parameterText: String) throws(ParameterReason)
}

/// Why a value was refused.
struct ParameterReason: Error {
    var zh: String
    var en: String
}

// MARK: - bounded integers

/// The allowed range of a `Bounded` integer and how to name it.
protocol IntegerBounds: Sendable {
    static var range: ClosedRange<Int64> { get }
}

/// An integer within `B.range`; anything else is refused with the range named.
struct Bounded<B: IntegerBounds>: ParameterValue, Hashable, Encodable {
    var value: Int64
    var int: Int { Int(value) }

    init(_ value: Int64) { self.value = value }

    init(parameterText: String) throws(ParameterReason) {
        let t = parameterText.trimmingCharacters(in: .whitespaces)
        guard t.count <= 20, let v = Int64(t) else { throw Self.reason }
        guard B.range.contains(v) else { throw Self.reason }
        value = v
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let v: Int64
        if let n = try? c.decode(Int64.self) {
            v = n
        } else if let s = try? c.decode(String.self), let n = Int64(s.trimmingCharacters(in: .whitespaces)) {
            v = n
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: Self.reason.message))
        }
        guard B.range.contains(v) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: Self.reason.message))
        }
        value = v
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }

    static var reason: ParameterReason {
        ParameterReason(zh: "应为 \(B.range.lowerBound) 到 \(B.range.upperBound) 之间的整数",
                        en: "must be an integer from \(B.range.lowerBound) to \(B.range.upperBound)")
    }

    static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue {
        ["type": "integer", "format": "int64", "minimum": .int(Int(B.range.lowerBound)), "maximum": .int(Int(B.range.upperBound))]
    }
    static var schemaExample: Self { Self(B.range.lowerBound) }
}

extension ParameterReason {
    var message: String { "\(zh) / \(en)" }
}

enum YearBounds: IntegerBounds { static let range: ClosedRange<Int64> = 1990...2100 }
enum PageBounds: IntegerBounds { static let range: ClosedRange<Int64> = 1...1_000_000 }
enum PerPageBounds: IntegerBounds { static let range: ClosedRange<Int64> = 1...10_000 }
enum RecordIDBounds: IntegerBounds { static let range: ClosedRange<Int64> = 1...Int64(Int32.max) * 1024 }
enum MapLimitBounds: IntegerBounds { static let range: ClosedRange<Int64> = 1...20_000 }
enum ClusterNumberBounds: IntegerBounds { static let range: ClosedRange<Int64> = 1...10_000_000 }
enum RatingBounds: IntegerBounds { static let range: ClosedRange<Int64> = 1...5 }

/// An evaluation or assessment year (1990–2100).
typealias Year = Bounded<YearBounds>
/// A page number (1–1,000,000).
typealias PageNumber = Bounded<PageBounds>
/// Rows per page (1–10,000; pages show at most 1,000).
typealias PerPage = Bounded<PerPageBounds>
/// The id of a stored record (appeal, survey, user, token).
typealias RecordID = Bounded<RecordIDBounds>

// MARK: - text

/// Limits of a `Text` parameter.
protocol TextBounds: Sendable {
    static var maxLength: Int { get }
}

/// Text of at most `B.maxLength` characters (trimmed; control characters refused).
struct Text<B: TextBounds>: ParameterValue, Hashable, Encodable {
    var value: String

    init(_ value: String) { self.value = value }

    init(parameterText: String) throws(ParameterReason) {
        let t = parameterText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.count <= B.maxLength else {
            throw ParameterReason(zh: "不能超过 \(B.maxLength) 个字符", en: "must be at most \(B.maxLength) characters")
        }
        guard !t.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ParameterReason(zh: "含有控制字符", en: "must not contain control characters")
        }
        value = t
    }

    init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parameterText: s) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }

    static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue {
        ["type": "string", "maxLength": .int(B.maxLength), "pattern": "^[^\\u0000-\\u001F\\u007F]*$"]
    }
    static var schemaExample: Self { Self("") }
}

enum SearchBounds: TextBounds { static let maxLength = 100 }

/// Text taken as it is (control characters included: a `next` path is checked by its user),
/// at most 2,000 characters.
struct RawText: ParameterValue, Hashable {
    var value: String
    init(parameterText: String) throws(ParameterReason) {
        guard parameterText.count <= 2_000 else {
            throw ParameterReason(zh: "不能超过 2000 个字符", en: "must be at most 2000 characters")
        }
        value = parameterText
    }
    init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parameterText: s) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }
    static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue { ["type": "string", "maxLength": 2000] }
    static var schemaExample: RawText { try! RawText(parameterText: "") }
}
enum NameBounds: TextBounds { static let maxLength = 200 }

/// A search text: part of a name, credit code or parcel id (at most 100 characters).
typealias SearchText = Text<SearchBounds>
/// A name given as a filter (a town, a block, a parcel id…; at most 200 characters).
typealias NameText = Text<NameBounds>

// MARK: - enums

/// An enum that parameters accept by its raw value; anything else is refused, the allowed
/// values named.
protocol ParameterEnum: ParameterValue, CaseIterable, RawRepresentable where RawValue == String {}

extension ParameterEnum {
    init(parameterText: String) throws(ParameterReason) {
        guard let v = Self(rawValue: parameterText.trimmingCharacters(in: .whitespaces)) else {
            let allowed = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw ParameterReason(zh: "应为 \(allowed) 之一", en: "must be one of \(allowed)")
        }
        self = v
    }

    static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue {
        ["type": "string", "enum": .array(allCases.map { .string($0.rawValue) })]
    }
    static var schemaExample: Self { allCases.first! }
}

extension ParameterEnum {
    init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parameterText: s) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }
}

/// A yes/no parameter: 1/true/yes/on or 0/false/no/off.
struct Flag: ParameterValue, Hashable {
    var value: Bool
    init(_ value: Bool) { self.value = value }
    init(parameterText: String) throws(ParameterReason) {
        switch parameterText.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "true", "yes", "on": value = true
        case "0", "false", "no", "off": value = false
        default: throw ParameterReason(zh: "应为 1 或 0（true/false）", en: "must be 1 or 0 (true/false)")
        }
    }
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self.init(b); return }
        let s = try c.decode(String.self)
        do { try self.init(parameterText: s) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }
    static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue {
        ["type": "string", "enum": ["1", "0", "true", "false"]]
    }
    static var schemaExample: Flag { Flag(false) }
}

/// No parameters.
struct NoParameters: Decodable, Sendable {}

// MARK: - the decoder

/// The query string, split once (`+` is a space; percent-encoding decoded). At most
/// `maxItems` parameters; a malformed escape or too many parameters is a 400.
struct QueryItems: Sendable {
    static let maxItems = 100
    private(set) var pairs: [(name: String, value: String)] = []

    init(_ query: String?) throws {
        guard let q = query, !q.isEmpty else { return }
        var count = 0
        for part in q.split(separator: "&", omittingEmptySubsequences: true) {
            count += 1
            guard count <= Self.maxItems else {
                throw Abort(.badRequest, reason: "查询参数过多（最多 \(Self.maxItems) 个）/ too many query parameters (at most \(Self.maxItems))")
            }
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) throws -> String {
                let plus = s.replacingOccurrences(of: "+", with: " ")
                guard let d = plus.removingPercentEncoding else {
                    throw Abort(.badRequest, reason: "查询参数编码无效 / malformed percent-encoding in the query")
                }
                return d
            }
            pairs.append((try decode(kv[0]), kv.count > 1 ? try decode(kv[1]) : ""))
        }
    }

    subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }
}

/// Fills a parameters struct from path parameters and the query string.
struct ParameterDecoder {
    /// Pages read forms, where an empty field means "not given"; the JSON API refuses empty
    /// values of enums and numbers.
    var emptyMeansAbsent: Bool

    func decode<P: Decodable>(_ type: P.Type, path: [String: String], query: QueryItems) throws -> P {
        var seen = Set<String>()
        for (name, _) in query.pairs where !seen.insert(name).inserted {
            throw Abort(.badRequest, reason: "查询参数 \(name) 重复 / query parameter \"\(name)\" given more than once")
        }
        var values: [String: String] = [:]
        for (n, v) in query.pairs { values[n] = v }
        for (n, v) in path { values[n] = v }
        do {
            return try P(from: Reader(values: values, emptyMeansAbsent: emptyMeansAbsent))
        } catch let p as ParameterProblem {
            throw p.abort
        }
    }

    private struct Reader: Decoder {
        var values: [String: String]
        var emptyMeansAbsent: Bool
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<K: CodingKey>(keyedBy type: K.Type) throws -> KeyedDecodingContainer<K> {
            KeyedDecodingContainer(Keyed<K>(reader: self))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            throw ParameterProblem(parameter: "?", zh: "不支持的参数结构", en: "unsupported parameter structure")
        }
        func singleValueContainer() throws -> any SingleValueDecodingContainer {
            throw ParameterProblem(parameter: "?", zh: "不支持的参数结构", en: "unsupported parameter structure")
        }
    }

    private struct Keyed<K: CodingKey>: KeyedDecodingContainerProtocol {
        let reader: Reader
        var codingPath: [any CodingKey] { [] }
        var allKeys: [K] { reader.values.keys.compactMap { K(stringValue: $0) } }

        func raw(_ key: K) -> String? {
            guard let v = reader.values[key.stringValue] else { return nil }
            if v.isEmpty && reader.emptyMeansAbsent { return nil }
            return v
        }

        func contains(_ key: K) -> Bool { raw(key) != nil }
        func decodeNil(forKey key: K) throws -> Bool { raw(key) == nil }

        func decode<T: Decodable>(_ type: T.Type, forKey key: K) throws -> T {
            guard let text = raw(key) else {
                throw ParameterProblem(parameter: key.stringValue, zh: "必须提供", en: "is required")
            }
            return try value(T.self, text, key.stringValue)
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: K) throws -> T? {
            guard let text = raw(key) else { return nil }
            return try value(T.self, text, key.stringValue)
        }

        func value<T: Decodable>(_ type: T.Type, _ text: String, _ name: String) throws -> T {
            if let p = T.self as? any ParameterValue.Type {
                do {
                    return try p.init(parameterText: text) as! T
                } catch {
                    throw ParameterProblem(parameter: name, zh: error.zh, en: error.en)
                }
            }
            if T.self == String.self {
                // free text without a declared bound: names, notes, filters
                do {
                    return try NameText(parameterText: text).value as! T
                } catch {
                    throw ParameterProblem(parameter: name, zh: error.zh, en: error.en)
                }
            }
            throw ParameterProblem(parameter: name, zh: "参数类型 \(T.self) 未声明取值范围", en: "type \(T.self) has no declared bounds")
        }

        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: K) throws -> KeyedDecodingContainer<N> {
            throw ParameterProblem(parameter: key.stringValue, zh: "不支持的参数结构", en: "unsupported parameter structure")
        }
        func nestedUnkeyedContainer(forKey key: K) throws -> any UnkeyedDecodingContainer {
            throw ParameterProblem(parameter: key.stringValue, zh: "不支持的参数结构", en: "unsupported parameter structure")
        }
        func superDecoder() throws -> any Decoder { reader }
        func superDecoder(forKey key: K) throws -> any Decoder { reader }
    }
}
