import Foundation
import MujunCore

// JSON schemas of the API's input and output types, derived from the types themselves.
//
// A type's schema is read off its `Decodable` conformance: `SchemaRegistry` runs
// `T(from:)` against a recording decoder that notes every key asked for (required when
// decoded with `decode`, optional with `decodeIfPresent`) and the type of its value, and
// answers with sample values so that decoding goes on. Structs become named components
// (`#/components/schemas/Name`); enums that are `CaseIterable` with string raw values become
// `enum` lists; arrays, optionals, sets and string-keyed dictionaries are understood. A type
// whose decoding cannot be recorded this way (a custom `init(from:)` that validates, or JSON
// written by hand) conforms to `SchemaDescribing` and states its schema itself.
//
// Output keys are converted exactly as the server's JSON encoder converts them (snake_case),
// input keys are taken as they are. The whole document is built at start-up and by the tests,
// so a type that cannot be described fails there, not in front of a client.

/// A type that states its own JSON schema and gives a sample value.
///
/// ```swift
/// extension NumberText: SchemaDescribing {
///     static func jsonSchema(_ r: SchemaRegistry) -> JSONValue { ["oneOf": [["type": "string"], ["type": "number"]]] }
///     static var schemaExample: NumberText { NumberText("0") }
/// }
/// ```
protocol SchemaDescribing {
    static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue
    static var schemaExample: Self { get }
}

/// Why a type could not be described.
public struct SchemaError: Error, CustomStringConvertible {
    public var type: String
    public var reason: String
    public var description: String {
        "无法为类型 \(type) 生成 JSON Schema：\(reason)；请让它遵循 SchemaDescribing / cannot describe \(type): \(reason); conform it to SchemaDescribing"
    }
}

/// Builds and keeps the named schemas of one document.
public final class SchemaRegistry: @unchecked Sendable {
    /// How keys appear on the wire: as declared (an input; its components are named `…Input`),
    /// converted by the server's encoder (an output), or as declared for JSON the server
    /// writes by hand (`verbatim`).
    public enum KeyStyle: Sendable { case asIs, snakeCase, verbatim }

    /// Named schemas, in the order they were first met.
    public private(set) var components: [(String, JSONValue)] = []
    private var names: [String: (ObjectIdentifier, KeyStyle)] = [:]
    private var named: [Key: String] = [:]
    private var inProgress: Set<Key> = []
    private var snakeCache: [String: String] = [:]

    private struct Key: Hashable { var type: ObjectIdentifier; var style: KeyStyle }

    public init() {}

    /// The schema of `T` (a `$ref` for structs) with keys in `style`.
    public func schema<T: Decodable>(_ type: T.Type, keys style: KeyStyle) throws -> JSONValue {
        try describe(T.self, style).schema
    }

    /// The properties of a struct type as (wire name, schema, required), for query parameters.
    public func properties<T: Decodable>(_ type: T.Type) throws -> [(name: String, schema: JSONValue, required: Bool)] {
        let recorder = Recorder()
        _ = try T(from: RecordingDecoder(registry: self, style: .asIs, recorder: recorder))
        if recorder.shape == .none { return [] }
        guard recorder.shape == .object else { throw SchemaError(type: "\(T.self)", reason: "query input must be a struct of named values") }
        return recorder.properties.map { ($0.name, $0.schema, $0.required) }
    }

    /// A named schema given by hand (for `SchemaDescribing` types); returns its `$ref`.
    public func define(_ name: String, _ schema: JSONValue) -> JSONValue {
        if !components.contains(where: { $0.0 == name }) { components.append((name, schema)) }
        return .object([("$ref", .string("#/components/schemas/\(name)"))])
    }

    // MARK: describing

    func describe<T: Decodable>(_ type: T.Type, _ style: KeyStyle) throws -> (schema: JSONValue, sample: T) {
        if let d = T.self as? any SchemaDescribing.Type {
            return (d.jsonSchema(self), d.schemaExample as! T)
        }
        if let p = Self.primitive(T.self) { return (p.0, p.1 as! T) }
        if let o = T.self as? any SchemaOptional.Type {
            var inner = try o.wrappedSchema(self, style)
            inner = Self.nullable(inner)
            return (inner, o.schemaNone as! T)
        }
        if let a = T.self as? any SchemaSequence.Type {
            return (["type": "array", "items": try a.elementSchema(self, style)], a.schemaEmpty as! T)
        }
        if let d = T.self as? any SchemaDictionary.Type {
            return (["type": "object", "additionalProperties": try d.valueSchema(self, style)], d.schemaEmpty as! T)
        }
        if let e = T.self as? any CaseIterable.Type, let cases = Self.enumCases(e) {
            return (cases.schema, cases.first as! T)
        }
        let key = Key(type: ObjectIdentifier(T.self), style: style)
        if inProgress.contains(key), let name = named[key] {
            throw SchemaError(type: "\(T.self)", reason: "recursive type \(name)")
        }
        let name = componentName(T.self, style)
        named[key] = name
        inProgress.insert(key)
        defer { inProgress.remove(key) }
        let recorder = Recorder()
        let sample: T
        do {
            sample = try T(from: RecordingDecoder(registry: self, style: style, recorder: recorder))
        } catch let e as SchemaError {
            throw e
        } catch {
            throw SchemaError(type: "\(T.self)", reason: "decoding a sample failed (\(error))")
        }
        let schema: JSONValue
        switch recorder.shape {
        case .object:
            var props: [(String, JSONValue)] = []
            var required: [JSONValue] = []
            for p in recorder.properties {
                props.append((p.name, p.schema))
                if p.required { required.append(.string(p.name)) }
            }
            var pairs: [(String, JSONValue)] = [("type", "object")]
            if !required.isEmpty { pairs.append(("required", .array(required))) }
            pairs.append(("properties", .object(props)))
            schema = .object(pairs)
        case .single(let s):
            schema = s
        case .array(let s):
            schema = ["type": "array", "items": s]
        case .none:
            schema = ["type": "object"]
        }
        if case .object = recorder.shape {
            if !components.contains(where: { $0.0 == name }) { components.append((name, schema)) }
            return (.object([("$ref", .string("#/components/schemas/\(name)"))]), sample)
        }
        return (schema, sample)
    }

    /// A component name for a type: its short name without a `DTO` suffix, made unique.
    private func componentName(_ type: Any.Type, _ style: KeyStyle) -> String {
        // the type's name with its enclosing types (`MapParcelsDoc.Feature` → `MapParcelsDoc_Feature`), not its module
        var parts = String(reflecting: type).split(separator: ".").map(String.init)
        if parts.count > 1 { parts.removeFirst() }
        var base = parts.map { $0.hasSuffix("DTO") ? String($0.dropLast(3)) : $0 }.joined(separator: "_")
        if base.hasPrefix("Store_") { base.removeFirst("Store_".count) }
        base = String(base.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" ? $0 : "_" })
        while base.hasSuffix("_") { base.removeLast() }
        if style == .asIs { base += "Input" }
        if style == .verbatim && !base.contains("Doc") { base += "Doc" }
        var name = base
        var n = 2
        while let owner = names[name], owner.0 != ObjectIdentifier(type) || owner.1 != style {
            name = "\(base)\(n)"; n += 1
        }
        names[name] = (ObjectIdentifier(type), style)
        return name
    }

    /// The wire name of a key.
    func wireName(_ key: String, _ style: KeyStyle) -> String {
        guard style == .snakeCase else { return key }
        if let s = snakeCache[key] { return s }
        let s = Self.snakeCase(key)
        snakeCache[key] = s
        return s
    }

    /// The key as the server's JSON encoder writes it (`.convertToSnakeCase`), found by asking
    /// that encoder, so the documents cannot drift from the answers.
    static func snakeCase(_ key: String) -> String {
        struct One: Encodable {
            var key: String
            struct K: CodingKey {
                var stringValue: String
                init(stringValue: String) { self.stringValue = stringValue }
                var intValue: Int? { nil }
                init?(intValue: Int) { nil }
            }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: K.self)
                try c.encode(0, forKey: K(stringValue: key))
            }
        }
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? e.encode(One(key: key)),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let k = obj.keys.first else { return key }
        return k
    }

    static func nullable(_ s: JSONValue) -> JSONValue {
        if case .object(let pairs) = s {
            if pairs.first?.0 == "$ref" { return ["nullable": true, "allOf": [s]] }
            return s.setting("nullable", true)
        }
        return s
    }

    /// Schemas and samples of the scalar types.
    static func primitive(_ t: Any.Type) -> (JSONValue, Any)? {
        switch t {
        case is String.Type: return (["type": "string"], "")
        case is Bool.Type: return (["type": "boolean"], false)
        case is Int.Type: return (["type": "integer", "format": "int64"], 0)
        case is Int64.Type: return (["type": "integer", "format": "int64"], Int64(0))
        case is Int32.Type: return (["type": "integer", "format": "int32"], Int32(0))
        case is UInt8.Type: return (["type": "integer", "minimum": 0, "maximum": 255], UInt8(0))
        case is Double.Type: return (["type": "number", "format": "double"], 0.0)
        case is Float.Type: return (["type": "number", "format": "float"], Float(0))
        case is Date.Type: return (["type": "string", "format": "date-time"], Date(timeIntervalSince1970: 0))
        case is Data.Type: return (["type": "string", "format": "byte"], Data())
        case is URL.Type: return (["type": "string", "format": "uri"], URL(fileURLWithPath: "/"))
        case is UUID.Type: return (["type": "string", "format": "uuid"], UUID())
        default: return nil
        }
    }

    /// The cases of a string- or integer-valued enum, as a schema and its first case.
    static func enumCases(_ e: any CaseIterable.Type) -> (schema: JSONValue, first: Any)? {
        func open<C: CaseIterable>(_ c: C.Type) -> (JSONValue, Any)? {
            let all = Array(C.allCases)
            guard let first = all.first else { return nil }
            var strings: [JSONValue] = [], ints: [JSONValue] = []
            for v in all {
                guard let r = v as? any RawRepresentable else { return nil }
                if let s = r.rawValue as? String { strings.append(.string(s)) } else if let i = r.rawValue as? Int { ints.append(.int(i)) }
            }
            if strings.count == all.count { return (["type": "string", "enum": .array(strings)], first) }
            if ints.count == all.count { return (["type": "integer", "enum": .array(ints)], first) }
            return nil
        }
        return open(e)
    }
}

// MARK: - containers the registry understands

protocol SchemaOptional {
    static var schemaNone: Self { get }
    static func wrappedSchema(_ r: SchemaRegistry, _ s: SchemaRegistry.KeyStyle) throws -> JSONValue
}
extension Optional: SchemaOptional where Wrapped: Decodable {
    static var schemaNone: Self { .none }
    static func wrappedSchema(_ r: SchemaRegistry, _ s: SchemaRegistry.KeyStyle) throws -> JSONValue { try r.describe(Wrapped.self, s).schema }
}

protocol SchemaSequence {
    static var schemaEmpty: Self { get }
    static func elementSchema(_ r: SchemaRegistry, _ s: SchemaRegistry.KeyStyle) throws -> JSONValue
}
extension Array: SchemaSequence where Element: Decodable {
    static var schemaEmpty: Self { [] }
    static func elementSchema(_ r: SchemaRegistry, _ s: SchemaRegistry.KeyStyle) throws -> JSONValue { try r.describe(Element.self, s).schema }
}
extension Set: SchemaSequence where Element: Decodable {
    static var schemaEmpty: Self { [] }
    static func elementSchema(_ r: SchemaRegistry, _ s: SchemaRegistry.KeyStyle) throws -> JSONValue { try r.describe(Element.self, s).schema }
}

protocol SchemaDictionary {
    static var schemaEmpty: Self { get }
    static func valueSchema(_ r: SchemaRegistry, _ s: SchemaRegistry.KeyStyle) throws -> JSONValue
}
extension Dictionary: SchemaDictionary where Key == String, Value: Decodable {
    static var schemaEmpty: Self { [:] }
    static func valueSchema(_ r: SchemaRegistry, _ s: SchemaRegistry.KeyStyle) throws -> JSONValue { try r.describe(Value.self, s).schema }
}

// MARK: - the recording decoder

private final class Recorder {
    enum Shape: Equatable {
        case none, object, single(JSONValue), array(JSONValue)
    }
    var shape: Shape = .none
    var properties: [(name: String, schema: JSONValue, required: Bool)] = []

    func add(_ name: String, _ schema: JSONValue, required: Bool) {
        if let i = properties.firstIndex(where: { $0.name == name }) {
            // asked twice (e.g. `try? decode(String)` then `decode(Double)`): keep the first, required if either was
            properties[i].required = properties[i].required || required
            return
        }
        properties.append((name, schema, required))
    }
}

private struct RecordingDecoder: Decoder {
    let registry: SchemaRegistry
    let style: SchemaRegistry.KeyStyle
    let recorder: Recorder
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<K: CodingKey>(keyedBy type: K.Type) throws -> KeyedDecodingContainer<K> {
        recorder.shape = .object
        return KeyedDecodingContainer(KeyedRecorder<K>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        UnkeyedRecorder(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleRecorder(decoder: self)
    }

    func value<T: Decodable>(_ type: T.Type) throws -> (JSONValue, T) {
        try registry.describe(T.self, style)
    }
}

private struct KeyedRecorder<K: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [K] { [] }

    func contains(_ key: K) -> Bool { true }
    func decodeNil(forKey key: K) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: K) throws -> T {
        let (schema, sample) = try decoder.value(T.self)
        decoder.recorder.add(decoder.registry.wireName(key.stringValue, decoder.style), schema, required: !(T.self is any SchemaOptional.Type))
        return sample
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: K) throws -> T? { try decodeIfPresent(T.self, key) }

    // The standard library's own overloads for the basic types would otherwise take its default
    // implementation (`contains` + `decodeNil` + `decode`), which records the key as required.
    func decodeIfPresent(_ type: String.Type, forKey key: K) throws -> String? { try decodeIfPresent(String.self, key) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: K) throws -> Bool? { try decodeIfPresent(Bool.self, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: K) throws -> Double? { try decodeIfPresent(Double.self, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: K) throws -> Float? { try decodeIfPresent(Float.self, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: K) throws -> Int? { try decodeIfPresent(Int.self, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: K) throws -> Int8? { try decodeIfPresent(Int8.self, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: K) throws -> Int16? { try decodeIfPresent(Int16.self, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: K) throws -> Int32? { try decodeIfPresent(Int32.self, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: K) throws -> Int64? { try decodeIfPresent(Int64.self, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: K) throws -> UInt? { try decodeIfPresent(UInt.self, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: K) throws -> UInt8? { try decodeIfPresent(UInt8.self, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: K) throws -> UInt16? { try decodeIfPresent(UInt16.self, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: K) throws -> UInt32? { try decodeIfPresent(UInt32.self, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: K) throws -> UInt64? { try decodeIfPresent(UInt64.self, key) }

    /// The one place an optional key is recorded.
    private func decodeIfPresent<T: Decodable>(_ type: T.Type, _ key: K) throws -> T? {
        let (schema, _) = try decoder.value(T.self)
        decoder.recorder.add(decoder.registry.wireName(key.stringValue, decoder.style), SchemaRegistry.nullable(schema), required: false)
        return nil
    }

    func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: K) throws -> KeyedDecodingContainer<N> {
        throw SchemaError(type: "\(K.self)", reason: "nested keyed containers are not described")
    }
    func nestedUnkeyedContainer(forKey key: K) throws -> any UnkeyedDecodingContainer {
        throw SchemaError(type: "\(K.self)", reason: "nested unkeyed containers are not described")
    }
    func superDecoder() throws -> any Decoder { throw SchemaError(type: "\(K.self)", reason: "superDecoder is not described") }
    func superDecoder(forKey key: K) throws -> any Decoder { throw SchemaError(type: "\(K.self)", reason: "superDecoder is not described") }
}

private struct SingleRecorder: SingleValueDecodingContainer {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    func decodeNil() -> Bool { false }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (schema, sample) = try decoder.value(T.self)
        if case .none = decoder.recorder.shape { decoder.recorder.shape = .single(schema) }
        return sample
    }
}

private struct UnkeyedRecorder: UnkeyedDecodingContainer {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { 0 }
    var isAtEnd: Bool { true }
    var currentIndex: Int { 0 }
    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (schema, sample) = try decoder.value(T.self)
        decoder.recorder.shape = .array(schema)
        return sample
    }
    mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
        throw SchemaError(type: "\(N.self)", reason: "nested containers are not described")
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw SchemaError(type: "array", reason: "nested arrays are not described")
    }
    mutating func superDecoder() throws -> any Decoder { throw SchemaError(type: "array", reason: "superDecoder is not described") }
}
