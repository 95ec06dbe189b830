// The parcel reader as it was before the compact scanner (commit 7ae9e53), kept verbatim but
// renamed, so that tests can check that the new reader gives exactly the same parcels and
// the same messages. Not used by the library.

import Foundation
@testable import MujunCore

// MARK: - A small, fast JSON reader for GeoJSON

/// A JSON value as read from a GeoJSON file's `properties` or `crs` member.
enum LegacyJSONValue {
    case null
    case bool(Bool)
    /// The number and its text as written (for messages).
    case number(Double, String)
    case string(String)
    case array([LegacyJSONValue])
    case object([(String, LegacyJSONValue)])

    subscript(key: String) -> LegacyJSONValue? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// Coordinates as nested arrays: a ring is an array of positions, kept flat `[x0, y0, …]`.
indirect enum LegacyJSONCoordinates {
    /// A single position `[x, y, …]`.
    case position(Double, Double)
    /// An array of positions, flattened to x, y pairs (z/m dropped).
    case positions([Double])
    /// An array of deeper arrays (or an empty array).
    case list([LegacyJSONCoordinates])
    /// Something that is not a coordinate array (the reason in Chinese and English).
    case malformed(String, String)
}

/// A syntax error with its byte offset.
struct LegacyJSONSyntaxError: Error {
    var offset: Int
    var zh: String
    var en: String
}

/// One feature as read, before checking (a class: the checking loop shares it, no copies).
final class LegacyRawFeature {
    let number: Int
    var type: String?
    var properties: [(String, LegacyJSONValue)] = []
    var propertiesPresent = false
    var geometryType: String?
    var coordinates: LegacyJSONCoordinates?
    /// `"geometry": null` or absent
    var geometryMissing = true

    init(number: Int) { self.number = number }
}

/// The top level of a GeoJSON file.
struct LegacyRawFeatureCollection {
    var type: String?
    var crs: LegacyJSONValue?
    var features: [LegacyRawFeature] = []
    var featuresPresent = false
}

/// A byte-level GeoJSON reader: reads the members Mujun needs and skips the rest, with
/// coordinates parsed straight into flat `Double` arrays. About 10× faster than going through
/// `JSONSerialization` and `Any`, which matters for 200,000-parcel files.
struct LegacyGeoJSONScanner {
    private let b: UnsafeBufferPointer<UInt8>  // ends with a 0 sentinel (not part of the JSON)
    private let end: Int
    private var i = 0
    private var depth = 0

    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        b = buffer
        end = buffer.count - 1
    }

    /// Reads a whole GeoJSON file given with a trailing 0 byte.
    static func read(_ data: Data) throws(LegacyJSONSyntaxError) -> LegacyRawFeatureCollection {
        var bytes = [UInt8]()
        bytes.reserveCapacity(data.count + 1)
        bytes.append(contentsOf: data)
        bytes.append(0)
        // A UTF-8 byte-order mark is tolerated.
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let r: Result<LegacyRawFeatureCollection, LegacyJSONSyntaxError> = bytes.withUnsafeBufferPointer { buf in
            var s = LegacyGeoJSONScanner(buf)
            s.i = start
            do throws(LegacyJSONSyntaxError) { return .success(try s.document()) } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// Line and column (1-based) of a byte offset in `data`, for messages.
    static func lineColumn(_ data: Data, offset: Int) -> (line: Int, column: Int) {
        var line = 1, col = 1
        var k = 0
        for byte in data {
            if k >= offset { break }
            if byte == 0x0A { line += 1; col = 1 } else if byte & 0xC0 != 0x80 { col += 1 }
            k += 1
        }
        return (line, col)
    }

    // MARK: Structure

    private mutating func document() throws(LegacyJSONSyntaxError) -> LegacyRawFeatureCollection {
        skipSpace()
        guard peek == UInt8(ascii: "{") else {
            if i >= end { throw fail("文件为空", "the file is empty") }
            throw fail("顶层应为 JSON 对象（GeoJSON FeatureCollection）", "the top level must be a JSON object (a GeoJSON FeatureCollection)")
        }
        var fc = LegacyRawFeatureCollection()
        try object { (s: inout LegacyGeoJSONScanner, key: String) throws(LegacyJSONSyntaxError) in
            switch key {
            case "type": fc.type = try s.stringOrSkip()
            case "crs": fc.crs = try s.value()
            case "features":
                fc.featuresPresent = true
                s.skipSpace()
                guard s.peek == UInt8(ascii: "[") else { try s.skipValue(); return }
                try s.array { (s: inout LegacyGeoJSONScanner) throws(LegacyJSONSyntaxError) in
                    fc.features.append(try s.feature(number: fc.features.count + 1))
                }
            default: try s.skipValue()
            }
        }
        skipSpace()
        if i < end { throw fail("JSON 结束后还有多余内容", "unexpected content after the end of the JSON") }
        return fc
    }

    private mutating func feature(number: Int) throws(LegacyJSONSyntaxError) -> LegacyRawFeature {
        let f = LegacyRawFeature(number: number)
        skipSpace()
        guard peek == UInt8(ascii: "{") else {
            try skipValue()
            f.type = "(不是对象 / not an object)"
            return f
        }
        try object { (s: inout LegacyGeoJSONScanner, key: String) throws(LegacyJSONSyntaxError) in
            switch key {
            case "type": f.type = try s.stringOrSkip()
            case "properties":
                s.skipSpace()
                if s.peek == UInt8(ascii: "{"), case .object(let members) = try s.value() {
                    f.properties = members; f.propertiesPresent = true
                } else {
                    try s.skipValue()
                }
            case "geometry":
                s.skipSpace()
                if s.peek == UInt8(ascii: "{") {
                    f.geometryMissing = false
                    try s.object { (s: inout LegacyGeoJSONScanner, key: String) throws(LegacyJSONSyntaxError) in
                        switch key {
                        case "type": f.geometryType = try s.stringOrSkip()
                        case "coordinates":
                            s.skipSpace()
                            if s.peek == UInt8(ascii: "[") { f.coordinates = try s.coordinates() } else {
                                try s.skipValue(); f.coordinates = .malformed("coordinates 不是数组", "coordinates is not an array")
                            }
                        default: try s.skipValue()
                        }
                    }
                } else {
                    try s.skipValue()
                }
            default: try s.skipValue()
            }
        }
        return f
    }

    /// `[` … `]` of positions or deeper arrays.
    private mutating func coordinates() throws(LegacyJSONSyntaxError) -> LegacyJSONCoordinates {
        skipSpace()
        guard peek == UInt8(ascii: "[") else {
            try skipValue()
            return .malformed("坐标中应为数组", "an array was expected in the coordinates")
        }
        try expect(UInt8(ascii: "["))
        depth += 1
        defer { depth -= 1 }
        if depth > 64 { throw fail("嵌套过深", "nesting too deep") }
        skipSpace()
        if peek == UInt8(ascii: "]") { i += 1; return .list([]) }
        if isNumberStart(peek) {
            // a position: two or more numbers
            var values: (Double, Double) = (0, 0)
            var n = 0
            while true {
                skipSpace()
                guard isNumberStart(peek) else { throw fail("坐标中应为数字", "a number was expected in a coordinate") }
                let v = try numberValue()
                if n == 0 { values.0 = v } else if n == 1 { values.1 = v }
                n += 1
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "]"))
                break
            }
            if n < 2 { return .malformed("坐标位置只有 \(n) 个数（至少需要 x, y）", "a position has \(n) number(s); x and y are needed") }
            return .position(values.0, values.1)
        }
        var first = try coordinates()
        if case .position(let x, let y) = first {
            // an array of positions: collect them flat
            var flat: [Double] = [x, y]
            var problem: LegacyJSONCoordinates?
            while true {
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    i += 1
                    let next = try coordinates()
                    switch next {
                    case .position(let x, let y): flat.append(x); flat.append(y)
                    case .malformed: if problem == nil { problem = next }
                    default: if problem == nil { problem = .malformed("坐标数组的层次不一致", "coordinate arrays are nested inconsistently") }
                    }
                    continue
                }
                try expect(UInt8(ascii: "]"))
                break
            }
            return problem ?? .positions(flat)
        }
        var items: [LegacyJSONCoordinates] = []
        items.append(first)
        first = .list([])
        while true {
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; items.append(try coordinates()); continue }
            try expect(UInt8(ascii: "]"))
            break
        }
        return .list(items)
    }

    // MARK: Generic JSON

    /// Calls `body` for each member of an object, positioned at the value.
    private mutating func object(_ body: (inout LegacyGeoJSONScanner, String) throws(LegacyJSONSyntaxError) -> Void) throws(LegacyJSONSyntaxError) {
        try expect(UInt8(ascii: "{"))
        depth += 1
        defer { depth -= 1 }
        if depth > 64 { throw fail("嵌套过深", "nesting too deep") }
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw fail("应为带引号的成员名", "a quoted member name was expected") }
            let key = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            try body(&self, key)
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            if peek == UInt8(ascii: "}") { i += 1; return }
            throw fail("应为 , 或 }", "\",\" or \"}\" was expected")
        }
    }

    /// Calls `body` for each element of an array, positioned at the element.
    private mutating func array(_ body: (inout LegacyGeoJSONScanner) throws(LegacyJSONSyntaxError) -> Void) throws(LegacyJSONSyntaxError) {
        try expect(UInt8(ascii: "["))
        depth += 1
        defer { depth -= 1 }
        if depth > 64 { throw fail("嵌套过深", "nesting too deep") }
        skipSpace()
        if peek == UInt8(ascii: "]") { i += 1; return }
        while true {
            skipSpace()
            try body(&self)
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            if peek == UInt8(ascii: "]") { i += 1; return }
            throw fail("应为 , 或 ]", "\",\" or \"]\" was expected")
        }
    }

    /// Any JSON value.
    mutating func value() throws(LegacyJSONSyntaxError) -> LegacyJSONValue {
        skipSpace()
        switch peek {
        case UInt8(ascii: "{"):
            var members: [(String, LegacyJSONValue)] = []
            try object { (s: inout LegacyGeoJSONScanner, key: String) throws(LegacyJSONSyntaxError) in members.append((key, try s.value())) }
            return .object(members)
        case UInt8(ascii: "["):
            var items: [LegacyJSONValue] = []
            try array { (s: inout LegacyGeoJSONScanner) throws(LegacyJSONSyntaxError) in items.append(try s.value()) }
            return .array(items)
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null"); return .null
        default:
            guard isNumberStart(peek) else {
                if i >= end { throw fail("文件意外结束", "unexpected end of file") }
                throw fail("无效的 JSON 值", "invalid JSON value")
            }
            let (v, text) = try number()
            return .number(v, text)
        }
    }

    /// Skips any value without building it.
    mutating func skipValue() throws(LegacyJSONSyntaxError) {
        skipSpace()
        switch peek {
        case UInt8(ascii: "{"): try object { (s: inout LegacyGeoJSONScanner, _: String) throws(LegacyJSONSyntaxError) in try s.skipValue() }
        case UInt8(ascii: "["): try array { (s: inout LegacyGeoJSONScanner) throws(LegacyJSONSyntaxError) in try s.skipValue() }
        case UInt8(ascii: "\""): try skipString()
        default: _ = try value()
        }
    }

    private mutating func stringOrSkip() throws(LegacyJSONSyntaxError) -> String? {
        skipSpace()
        if peek == UInt8(ascii: "\"") { return try string() }
        try skipValue()
        return nil
    }

    private mutating func literal(_ word: StaticString) throws(LegacyJSONSyntaxError) {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for c in w {
            guard peek == c else { throw fail("无效的 JSON 值", "invalid JSON value") }
            i += 1
        }
    }

    private mutating func skipString() throws(LegacyJSONSyntaxError) {
        try expect(UInt8(ascii: "\""))
        while i < end {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return }
            if c == UInt8(ascii: "\\") { i += 2; continue }
            if c < 0x20 { throw fail("字符串中有控制字符", "control character in a string") }
            i += 1
        }
        throw fail("字符串没有结束引号", "unterminated string")
    }

    mutating func string() throws(LegacyJSONSyntaxError) -> String {
        try expect(UInt8(ascii: "\""))
        let start = i
        // fast path: no escapes
        while i < end {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("字符串中有控制字符", "control character in a string") }
            i += 1
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: b[start..<i]))
        while i < end {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if c < 0x20 { throw fail("字符串中有控制字符", "control character in a string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            let e = peek
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), peek == UInt8(ascii: "\\"), i + 1 < end, b[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        out.append(contentsOf: Array(String(Unicode.Scalar(0xFFFD)!).utf8)); code = low
                    }
                }
                let scalar = Unicode.Scalar(code) ?? Unicode.Scalar(0xFFFD)!
                out.append(contentsOf: Array(String(scalar).utf8))
            default:
                i -= 1
                throw fail("无效的转义字符", "invalid escape sequence")
            }
        }
        throw fail("字符串没有结束引号", "unterminated string")
    }

    private mutating func hex4() throws(LegacyJSONSyntaxError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = peek
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("无效的 \\u 转义", "invalid \\u escape")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }

    private static let powersOf10: [Double] = (0...22).map { pow(10, Double($0)) }

    /// A JSON number's value, as ``number()`` reads it, without keeping its text.
    private mutating func numberValue() throws(LegacyJSONSyntaxError) -> Double {
        let start = i
        var negative = false
        if peek == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fracDigits = 0
        let intStart = i
        while case let c = peek, c >= 0x30 && c <= 0x39 {
            mantissa = mantissa &* 10 &+ UInt64(c - 0x30); digits += 1; i += 1
        }
        if i == intStart || (i - intStart > 1 && b[intStart] == 0x30) || peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            i = start; return try number().0
        }
        if peek == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while case let c = peek, c >= 0x30 && c <= 0x39 {
                mantissa = mantissa &* 10 &+ UInt64(c - 0x30); digits += 1; fracDigits += 1; i += 1
            }
            if i == fracStart || peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") { i = start; return try number().0 }
        }
        if digits <= 15 && fracDigits <= 22 {
            var v = Double(mantissa) / Self.powersOf10[fracDigits]
            if negative { v = -v }
            return v
        }
        i = start
        return try number().0
    }

    /// A JSON number: exact fast path for up to 15 significant digits (Clinger), else the
    /// standard library's correctly rounded parser.
    private mutating func number() throws(LegacyJSONSyntaxError) -> (Double, String) {
        let start = i
        var negative = false
        if peek == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fracDigits = 0
        let intStart = i
        while case let c = peek, c >= 0x30 && c <= 0x39 {
            mantissa = mantissa &* 10 &+ UInt64(c - 0x30); digits += 1; i += 1
        }
        if i == intStart { throw fail("无效的数字", "invalid number") }
        if i - intStart > 1 && b[intStart] == 0x30 { throw fail("数字不能以 0 开头", "a number must not start with 0") }
        if peek == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while case let c = peek, c >= 0x30 && c <= 0x39 {
                mantissa = mantissa &* 10 &+ UInt64(c - 0x30); digits += 1; fracDigits += 1; i += 1
            }
            if i == fracStart { throw fail("无效的数字：小数点后没有数字", "invalid number: no digits after the point") }
        }
        var hasExponent = false
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            hasExponent = true
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            let expStart = i
            while case let c = peek, c >= 0x30 && c <= 0x39 { i += 1 }
            if i == expStart { throw fail("无效的数字：指数没有数字", "invalid number: no digits in the exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        if !hasExponent && digits <= 15 && fracDigits <= 22 {
            var v = Double(mantissa) / Self.powersOf10[fracDigits]
            if negative { v = -v }
            return (v, text)
        }
        guard let v = Double(text), v.isFinite else { throw fail("数字超出范围：\(text)", "number out of range: \(text)") }
        return (v, text)
    }

    // MARK: Bytes

    private var peek: UInt8 { b[i] }  // the sentinel 0 at `end`

    @inline(__always) private func isNumberStart(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39)
    }

    private mutating func skipSpace() {
        while i < end {
            let c = b[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { return }
        }
    }

    private mutating func expect(_ c: UInt8) throws(LegacyJSONSyntaxError) {
        guard i < end else { throw fail("文件意外结束（应为 \"\(Character(Unicode.Scalar(c)))\"）", "unexpected end of file (\"\(Character(Unicode.Scalar(c)))\" expected)") }
        guard b[i] == c else {
            throw fail("应为 \"\(Character(Unicode.Scalar(c)))\"", "\"\(Character(Unicode.Scalar(c)))\" was expected")
        }
        i += 1
    }

    private func fail(_ zh: String, _ en: String) -> LegacyJSONSyntaxError {
        LegacyJSONSyntaxError(offset: min(i, end), zh: zh, en: en)
    }
}

// MARK: - Parcels

/// Results filled in by concurrent workers, one slot each.
private final class LegacyPartResults<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); slots[i] = v; lock.unlock() }
    var values: [T] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}

/// Non-Sendable values handed to concurrent workers that use them on one thread at a time.
private final class LegacyUncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Property name → field slot for each feature, remembering the last property order (files
/// repeat one order).
private struct LegacySlotMapper {
    private var columnOf: [String: Int?] = [:]  // property name → field index
    private var lastNames: [String] = [], lastSlots: [Int?] = []

    mutating func slots(of f: LegacyRawFeature) -> [Int?] {
        let sameOrder = f.properties.count == lastNames.count
            && zip(f.properties, lastNames).allSatisfy { $0.0 == $1 }
        if !sameOrder {
            lastNames = f.properties.map(\.0)
            lastSlots = lastNames.map { name in
                if let k = columnOf[name] { return k }
                let k = LegacyParcelImport.fieldKey(name).flatMap { key in LegacyParcelImport.fields.firstIndex { $0.key == key } }
                columnOf[name] = k
                return k
            }
        }
        return lastSlots
    }
}

/// Holds a value so that it can be released on another thread (it is never read again).
private final class LegacyDisposal: @unchecked Sendable {
    private var value: Any?
    init(_ value: Any) { self.value = value }
    func drop() { value = nil }
}

/// Reads parcels (地块) from a GeoJSON FeatureCollection (FORMATS.md), checking every
/// feature. All or nothing: any bad feature fails the whole read, and the failure names every
/// bad feature by its 地块编号 (or its position in the file when it has none), the property
/// and the reason, in Chinese and English.
///
/// In the `ImportFailure`, `row` is the 1-based position of the feature in the file and
/// `column` the property as written (or `geometry`, or `crs`); the message starts with the
/// parcel id. ``describe(_:)`` prints it the way a GIS user reads it.
enum LegacyParcelImport {
    /// The properties of the template.
    public static let fields: [FieldSpec] = [
        FieldSpec(key: "parcel_id", chinese: "地块编号", required: true),
        FieldSpec(key: "town", chinese: "所属镇街", required: true),
        FieldSpec(key: "block", chinese: "区块"),
        FieldSpec(key: "owner_credit_code", chinese: "权利人信用代码"),
        FieldSpec(key: "registered_mu", chinese: "登记面积(亩)"),
        FieldSpec(key: "land_use", chinese: "用途"),
        FieldSpec(key: "far", chinese: "容积率"),
        FieldSpec(key: "status", chinese: "现状"),
    ]

    /// Reads and checks a GeoJSON file.
    /// - Parameters:
    ///   - geojson: the file's bytes (UTF-8).
    ///   - crs: a CRS name that overrides the file's `crs` member (`--crs`); without either,
    ///     coordinates are CRS84 (longitude, latitude).
    ///   - towns: the known towns (镇街); every parcel's 所属镇街 must be one of them. `nil`
    ///     accepts any town and lets it be absent (the standalone `mujun land clusters`).
    ///   - tolerance: the share by which the computed area may differ from 登记面积(亩)
    ///     before ``Parcel/areaMismatch`` is set (0.05 = 5 %).
    /// - Returns: the parcels in file order, geometry in EPSG:4549.
    public static func read(geojson: Data, crs override: String? = nil, towns: [String]?,
                            tolerance: Double = LandRules.default.areaTolerance) throws(ImportFailure) -> [Parcel] {
        try read(geojson: geojson, crs: override, towns: towns, tolerance: tolerance, context: GEOSContext())
    }

    /// As ``read(geojson:crs:towns:tolerance:)``, in the given GEOS context.
    public static func read(geojson: Data, crs override: String?, towns: [String]?, tolerance: Double,
                            context: GEOSContext) throws(ImportFailure) -> [Parcel] {
        // 1. Syntax and the top level.
        let fc: LegacyRawFeatureCollection
        do { fc = try LegacyGeoJSONScanner.read(geojson) } catch {
            let (line, col) = LegacyGeoJSONScanner.lineColumn(geojson, offset: error.offset)
            throw ImportFailure.file(zh: "不是有效的 JSON：第 \(line) 行第 \(col) 列：\(error.zh)",
                                     en: "not valid JSON: line \(line), column \(col): \(error.en)")
        }
        guard fc.type == "FeatureCollection" else {
            let got = fc.type.map { "\"\($0)\"" } ?? "无 / none"
            throw ImportFailure.file(
                zh: "不是 GeoJSON FeatureCollection（type 为 \(got)）；请用 ogr2ogr -f GeoJSON 转换",
                en: "not a GeoJSON FeatureCollection (type is \(got)); convert with ogr2ogr -f GeoJSON",
                column: "type")
        }
        guard fc.featuresPresent else {
            throw ImportFailure.file(zh: "FeatureCollection 缺少 features 数组", en: "the FeatureCollection has no features array", column: "features")
        }

        // 2. The CRS.
        let crs: CRSName
        if let override {
            do { crs = try CRSName(override) } catch {
                throw ImportFailure.file(zh: error.zh, en: error.en, column: "--crs")
            }
        } else if let member = fc.crs, !isNull(member) {
            guard let name = crsName(member) else {
                throw ImportFailure.file(zh: "无法识别文件的 crs 成员（应为 {\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4549\"}}）",
                                         en: "the file's crs member is not understood (expected {\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4549\"}})",
                                         column: "crs")
            }
            do { crs = try CRSName(name) } catch {
                throw ImportFailure.file(zh: error.zh, en: error.en, column: "crs")
            }
        } else {
            crs = .crs84
        }
        let projector: Reprojector
        do { projector = try Reprojector(from: crs, to: .working) } catch {
            throw ImportFailure.file(zh: error.zh, en: error.en, column: "crs")
        }

        // 3. Every feature: the duplicate ids first (in file order), then the checks, on two
        // threads for large files (each with its own GEOS and PROJ context), merged in order.
        let knownTowns = towns.map(Set.init)
        let features = fc.features
        var duplicateOf = [Int](repeating: 0, count: features.count)  // feature number of the first use, or 0
        do {
            var mapper = LegacySlotMapper()
            var firstFeature: [String: Int] = [:]  // parcel id → feature number
            firstFeature.reserveCapacity(features.count)
            let idSlot = slotOf("parcel_id")
            for (k, f) in features.enumerated() {
                let slots = mapper.slots(of: f)
                guard let i = slots.firstIndex(where: { $0 == idSlot }) else { continue }
                let id: String
                switch f.properties[i].1 {
                case .string(let s): id = legacyTrimmed(s)
                case .number(_, let t): id = t
                case .bool(let x): id = x ? "true" : "false"
                case .null, .array, .object: id = ""
                }
                if id.isEmpty { continue }
                if let first = firstFeature[id] { duplicateOf[k] = first } else { firstFeature[id] = f.number }
            }
        }
        let duplicates = duplicateOf
        struct Part {
            var errors: [RowError] = []
            var outOfArea: [RowError] = []
            var withCoordinates = 0
            var parcels: [Parcel] = []
        }
        func check(_ range: Range<Int>, context: GEOSContext, projector: Reprojector) -> Part {
            var part = Part()
            part.parcels.reserveCapacity(range.count)
            var mapper = LegacySlotMapper()
            for k in range { checkFeature(features[k], k) }
            return part

            func checkFeature(_ f: LegacyRawFeature, _ k: Int) {
                // the properties by field: slot = index in `fields`
                var slots = [(name: String, value: LegacyJSONValue)?](repeating: nil, count: 8)  // fields.count
                let lastSlots = mapper.slots(of: f)
                for (i, (name, value)) in f.properties.enumerated() {
                    if let slot = lastSlots[i], slots[slot] == nil { slots[slot] = (name, value) }
                }
                func prop(_ key: String) -> (name: String, value: LegacyJSONValue)? { slots[slotOf(key)] }
                func header(_ key: String) -> String { prop(key)?.name ?? fields[slotOf(key)].chinese }
                var ok = true
                var parcelID = ""
                var label: (zh: String, en: String) { parcelID.isEmpty
                    ? ("第 \(f.number) 个要素（无地块编号）", "feature \(f.number) (no parcel id)")
                    : ("地块 \(parcelID)", "parcel \(parcelID)") }
                func fail(_ column: String, _ zh: String, _ en: String) {
                    ok = false
                    part.errors.append(RowError(row: f.number, column: column, zh: "\(label.zh)：\(zh)", en: "\(label.en): \(en)"))
                }
                func text(_ key: String) -> String {
                    guard let (name, v) = prop(key) else { return "" }
                    switch v {
                    case .string(let s): return legacyTrimmed(s)
                    case .number(_, let t): return t
                    case .null: return ""
                    case .bool(let x): return x ? "true" : "false"
                    case .array, .object:
                        fail(name, "应为文本", "must be text")
                        return ""
                    }
                }
                func number(_ key: String, positive: Bool) -> Double? {
                    guard let (name, v) = prop(key) else { return nil }
                    var value: Double?
                    switch v {
                    case .null: return nil
                    case .number(let x, _): value = x
                    case .string(let s):
                        switch HeaderMatcher.parseNumber(s) {
                        case .empty: return nil
                        case .value(let x): value = x
                        case .invalid:
                            fail(name, "不是数字：\"\(s)\"", "not a number: \"\(s)\"")
                            return nil
                        }
                    default:
                        fail(name, "不是数字", "not a number")
                        return nil
                    }
                    guard let x = value else { return nil }
                    if positive ? !(x > 0) : x < 0 {
                        fail(name, positive ? "应大于 0：\(formatNumber(x))" : "不能为负数：\(formatNumber(x))",
                             positive ? "must be greater than 0: \(formatNumber(x))" : "must not be negative: \(formatNumber(x))")
                        return nil
                    }
                    return x
                }

                if f.type != "Feature" {
                    fail("type", "不是 GeoJSON Feature（type 为 \(f.type ?? "无")）", "not a GeoJSON Feature (type is \(f.type ?? "none"))")
                }
                parcelID = text("parcel_id")
                if parcelID.isEmpty {
                    fail(header("parcel_id"), "缺少地块编号", "the parcel id is missing")
                } else if duplicates[k] > 0 {
                    let first = duplicates[k]
                    fail(header("parcel_id"), "地块编号 \(parcelID) 重复（第 \(first) 个要素已使用）",
                         "duplicate parcel id \(parcelID) (also feature \(first))")
                }
                let town = text("town")
                if let knownTowns {
                    if town.isEmpty {
                        fail(header("town"), "缺少所属镇街", "the town is missing")
                    } else if !knownTowns.contains(town) {
                        fail(header("town"), "未知镇街：\"\(town)\"", "unknown town: \"\(town)\"")
                    }
                }
                let block = text("block")
                var owner = text("owner_credit_code")
                if owner.utf8.contains(where: { $0 >= 0x61 && $0 <= 0x7A }) { owner = owner.uppercased() }
                if !owner.isEmpty, let p = CreditCode.problem(owner) {
                    fail(header("owner_credit_code"), "权利人信用代码 \(owner) 无效：\(p.zh)", "invalid owner credit code \(owner): \(p.en)")
                    owner = ""
                }
                let registered = number("registered_mu", positive: true)
                let far = number("far", positive: false)
                let landUse = text("land_use")
                let statusText = text("status")
                var status: ParcelStatus?
                if !statusText.isEmpty {
                    status = ParcelStatus(text: statusText)
                    if status == nil {
                        fail(header("status"), "未知现状 \"\(statusText)\"（应为 在用、闲置 或 在建）",
                             "unknown status \"\(statusText)\" (must be 在用 in use, 闲置 idle or 在建 under construction)")
                    }
                }

                // Geometry.
                guard let rings = polygons(f, fail: { fail("geometry", $0, $1) }) else { return }
                var transformed = rings
                var ringProblem = false
                for (p, poly) in rings.enumerated() {
                    for (r, ring) in poly.enumerated() {
                        let n = ring.count / 2
                        var which: (zh: String, en: String) { ringName(polygon: p, ring: r, multi: rings.count > 1) }
                        if n < 4 {
                            fail("geometry", "\(which.zh)只有 \(n) 个点，至少需要 4 个（首尾相同）",
                                 "\(which.en) has \(n) position(s); at least 4 are needed (first = last): too few points")
                            ringProblem = true
                        } else if ring[0] != ring[ring.count - 2] || ring[1] != ring[ring.count - 1] {
                            fail("geometry", "\(which.zh)未闭合：首点 (\(formatCoordinate(ring[0])), \(formatCoordinate(ring[1]))) 与末点 (\(formatCoordinate(ring[ring.count - 2])), \(formatCoordinate(ring[ring.count - 1]))) 不同",
                                 "\(which.en) is not closed (unclosed ring): the first position (\(formatCoordinate(ring[0])), \(formatCoordinate(ring[1]))) differs from the last (\(formatCoordinate(ring[ring.count - 2])), \(formatCoordinate(ring[ring.count - 1])))")
                            ringProblem = true
                        }
                    }
                }
                if ringProblem { return }
                part.withCoordinates += 1
                var outside: (Double, Double)?
                for p in transformed.indices {
                    for r in transformed[p].indices {
                        let good = projector.transform(&transformed[p][r])
                        if outside == nil {
                            let ring = transformed[p][r]
                            var k = 0
                            while k < ring.count {
                                let x = ring[k], y = ring[k + 1]
                                if !good || !x.isFinite || !y.isFinite || x < Projection.workingArea.minX || x > Projection.workingArea.maxX
                                    || y < Projection.workingArea.minY || y > Projection.workingArea.maxY {
                                    outside = (rings[p][r][k], rings[p][r][k + 1]); break
                                }
                                k += 2
                            }
                        }
                    }
                }
                if let (x, y) = outside {
                    let hint = areaHint(crs: crs, x: x, y: y)
                    let e = RowError(row: f.number, column: "geometry",
                                     zh: "\(label.zh)：坐标 (\(formatCoordinate(x)), \(formatCoordinate(y))) 远在 \(crs.code) 的适用范围之外\(hint.zh)",
                                     en: "\(label.en): the coordinate (\(formatCoordinate(x)), \(formatCoordinate(y))) lies far outside the area of \(crs.code)\(hint.en)")
                    part.outOfArea.append(e)
                    ok = false
                    return
                }
                let geometry: Geometry
                do {
                    var parts: [Geometry] = []
                    for poly in transformed { parts.append(try Geometry.polygon(rings: poly, context: context)) }
                    geometry = parts.count == 1 && f.geometryType == "Polygon" ? parts[0] : try Geometry.multiPolygon(parts, context: context)
                } catch {
                    fail("geometry", "几何无法构造：\(error.message)", "the geometry cannot be built: \(error.message)")
                    return
                }
                if let problem = geometry.validityProblem {
                    var place = (zh: "", en: "")
                    if let px = problem.x, let py = problem.y {
                        if let back = try? projector.transform(x: px, y: py, inverse: true) {
                            place = ("，位置 (\(formatCoordinate(back.x)), \(formatCoordinate(back.y)))", " at (\(formatCoordinate(back.x)), \(formatCoordinate(back.y)))")
                        }
                    }
                    fail("geometry", "几何无效：\(problem.chinese)\(place.zh)（GEOS：\(problem.description)）",
                         "invalid geometry: \(problem.reason)\(place.en) (GEOS: \(problem.description))")
                    return
                }
                guard ok, let area = try? geometry.area(), let bbox = geometry.bbox else { return }
                let wkb = Self.wkb(transformed, multi: !(transformed.count == 1 && f.geometryType == "Polygon"))
                assert(wkb == geometry.wkb, "WKB written from the coordinates differs from GEOS's")
                part.parcels.append(Parcel(
                    parcelID: parcelID, town: town, block: block.isEmpty ? nil : block,
                    ownerCreditCode: owner.isEmpty ? nil : owner, registeredMu: registered,
                    landUse: landUse.isEmpty ? nil : landUse, far: far, status: status,
                    geometry: wkb, bbox: bbox, areaMu: Projection.mu(squareMetres: area),
                    areaTolerance: tolerance, feature: f.number))
        
            }
        }
        let parallel = features.count >= 4000
        let split = parallel ? features.count / 2 : features.count
        var parts: [Part] = []
        if parallel {
            let results = LegacyPartResults<Part>(count: 2)
            let total = features.count
            let unchecked = LegacyUncheckedBox((check, projector, context))
            DispatchQueue.concurrentPerform(iterations: 2) { t in
                let (check, projector, context) = unchecked.value
                if t == 0 {
                    results.set(0, check(0..<split, context, projector))
                } else {
                    let ownContext = GEOSContext()
                    let ownProjector = (try? Reprojector(from: crs, to: .working)) ?? projector
                    results.set(1, check(split..<total, ownContext, ownProjector))
                }
            }
            parts = results.values
        } else {
            parts = [check(0..<features.count, context: context, projector: projector)]
        }
        var errors = RowErrorCollector()
        var outOfArea: [RowError] = []
        var withCoordinates = 0
        var parcels: [Parcel] = []
        swap(&parcels, &parts[0].parcels)  // the first part's parcels without copying them
        for part in parts {
            for e in part.errors { errors.add(e) }
            outOfArea += part.outOfArea
            withCoordinates += part.withCoordinates
            parcels += part.parcels
        }

        // Every feature outside the area: the CRS is wrong; say it once.
        if !outOfArea.isEmpty && outOfArea.count == withCoordinates && outOfArea.count > 3 {
            let first = outOfArea[0]
            errors.add(RowError(row: 0, column: "crs",
                                zh: "全部 \(outOfArea.count) 个要素的坐标都不在 \(crs.code) 的适用范围内，坐标参考系应有误。例如 \(first.messageZh)",
                                en: "the coordinates of all \(outOfArea.count) features lie outside the area of \(crs.code): the CRS must be wrong. For example \(first.messageEn)"))
        } else {
            for e in outOfArea { errors.add(e) }
        }
        if let failure = errors.failure() {
            throw ImportFailure(errors: failure.errors.sorted { ($0.row, $0.column) < ($1.row, $1.column) }, omitted: failure.omitted)
        }
        if parcels.isEmpty {
            throw ImportFailure.file(zh: "文件中没有地块（features 为空）", en: "the file has no parcels (features is empty)", column: "features")
        }
        // The raw features (hundreds of thousands of small allocations) are freed on another
        // thread while the caller goes on.
        if fc.features.count >= 10_000 {
            let trash = LegacyDisposal(fc)
            DispatchQueue.global(qos: .utility).async { trash.drop() }
        }
        return parcels
    }

    /// Reads a GeoJSON file from disk; see ``read(geojson:crs:towns:tolerance:)``.
    public static func read(url: URL, crs: String? = nil, towns: [String]?,
                            tolerance: Double = LandRules.default.areaTolerance) throws(ImportFailure) -> [Parcel] {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw ImportFailure.file(zh: "无法读取文件 \(url.path)：\(error.localizedDescription)",
                                     en: "cannot read the file \(url.path): \(error.localizedDescription)")
        }
        return try read(geojson: data, crs: crs, towns: towns, tolerance: tolerance)
    }

    /// An import failure as a GIS user reads it: `要素 3 [现状]：地块 X：… / feature 3 [status]: parcel X: …`.
    public static func describe(_ failure: ImportFailure) -> String {
        var lines = ["地块导入失败，未写入任何数据 / parcel import refused, nothing was written (\(failure.errors.count + failure.omitted) 处错误 / errors):"]
        for e in failure.errors {
            let col = e.column.isEmpty ? "" : " [\(e.column)]"
            if e.row > 0 {
                lines.append("  要素 \(e.row)\(col)：\(e.messageZh) / feature \(e.row)\(col): \(e.messageEn)")
            } else {
                lines.append("  文件\(col)：\(e.messageZh) / file\(col): \(e.messageEn)")
            }
        }
        if failure.omitted > 0 { lines.append("  …另有 \(failure.omitted) 处错误未列出 / \(failure.omitted) more errors not listed") }
        return lines.joined(separator: "\n")
    }

    // MARK: Helpers

    /// Little-endian 2D WKB of a polygon (or multipolygon) straight from its rings, byte for
    /// byte what GEOS's writer gives for the geometry built from them.
    static func wkb(_ polygons: [[[Double]]], multi: Bool) -> Data {
        var size = multi ? 9 : 0
        for p in polygons {
            size += 9
            for r in p { size += 4 + 8 * r.count }
        }
        var data = Data(count: size)
        data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            var o = 0
            func u8(_ v: UInt8) { raw[o] = v; o += 1 }
            func u32(_ v: Int) { raw.storeBytes(of: UInt32(v).littleEndian, toByteOffset: o, as: UInt32.self); o += 4 }
            if multi { u8(1); u32(6); u32(polygons.count) }
            for p in polygons {
                u8(1); u32(3); u32(p.count)
                for r in p {
                    u32(r.count / 2)
                    for v in r { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: o, as: UInt64.self); o += 8 }
                }
            }
        }
        return data
    }

    /// The index in ``fields`` of a field key (a linear scan: cheaper than hashing for 8).
    @inline(__always) static func slotOf(_ key: String) -> Int {
        // the order of `fields` (no access to the shared array: no reference counting on
        // a buffer both checking threads would touch)
        switch key {
        case "parcel_id": return 0
        case "town": return 1
        case "block": return 2
        case "owner_credit_code": return 3
        case "registered_mu": return 4
        case "land_use": return 5
        case "far": return 6
        case "status": return 7
        default: preconditionFailure("unknown field \(key)")
        }
    }

    /// The field key of a property name: by Chinese name or English key (HeaderMatcher's
    /// rules), or a name cut by the 10-byte limit of Shapefile (DBF) field names, as
    /// `ogr2ogr` leaves it (`登记面积(`, `权利人`, `owner_cred`, `registered`).
    static func fieldKey(_ name: String) -> String? {
        let n = HeaderMatcher.normalize(name)
        for f in fields where HeaderMatcher.normalize(f.chinese) == n || HeaderMatcher.normalize(f.key) == n {
            return f.key
        }
        // DBF truncation: GDAL may leave a broken last character (U+FFFD).
        var cut = name
        var broken = false
        while cut.hasSuffix("\u{FFFD}") { cut.removeLast(); broken = true }
        let bytesUTF8 = name.utf8.count, bytesGBK = cut.unicodeScalars.reduce(0) { $0 + ($1.isASCII ? 1 : 2) }
        guard broken || (bytesUTF8 >= 8 && bytesUTF8 <= 10) || (bytesGBK >= 8 && bytesGBK <= 10) else { return nil }
        let c = HeaderMatcher.normalize(cut)
        guard c.count >= 2 else { return nil }
        let matches = fields.filter {
            let zh = HeaderMatcher.normalize($0.chinese), en = HeaderMatcher.normalize($0.key)
            return (zh.hasPrefix(c) && zh != c) || (en.hasPrefix(c) && en != c)
        }
        return matches.count == 1 ? matches[0].key : nil
    }

    private static func isNull(_ v: LegacyJSONValue) -> Bool {
        if case .null = v { return true }
        return false
    }

    /// The CRS name in a GeoJSON 2008 `crs` member: `{"type":"name","properties":{"name":…}}`
    /// or `{"type":"EPSG","properties":{"code":4549}}`.
    static func crsName(_ member: LegacyJSONValue) -> String? {
        let props = member["properties"]
        switch member["type"]?.string?.lowercased() {
        case "name": return props?["name"]?.string
        case "epsg":
            switch props?["code"] {
            case .number(_, let t): return "EPSG:\(t)"
            case .string(let s): return "EPSG:\(s)"
            default: return nil
            }
        default: return nil
        }
    }

    private static func ringName(polygon: Int, ring: Int, multi: Bool) -> (zh: String, en: String) {
        let p = multi ? ("第 \(polygon + 1) 个多边形的", "polygon \(polygon + 1), ") : ("", "")
        if ring == 0 { return ("\(p.0)外环", "\(p.1)outer ring".capitalizedFirst) }
        return ("\(p.0)第 \(ring) 个内环", "\(p.1)inner ring \(ring)".capitalizedFirst)
    }

    /// Polygon rings of a feature's geometry (`[polygon][ring][x, y, …]`), or nil after
    /// reporting why there are none.
    private static func polygons(_ f: LegacyRawFeature, fail: (String, String) -> Void) -> [[[Double]]]? {
        if f.geometryMissing {
            fail("缺少几何（geometry 为空）", "the geometry is missing (null)")
            return nil
        }
        guard let type = f.geometryType else {
            fail("几何缺少 type", "the geometry has no type")
            return nil
        }
        guard type == "Polygon" || type == "MultiPolygon" else {
            fail("几何类型为 \(type)，应为 Polygon 或 MultiPolygon", "the geometry is a \(type), not a Polygon or MultiPolygon")
            return nil
        }
        guard let coords = f.coordinates else {
            fail("几何缺少 coordinates", "the geometry has no coordinates")
            return nil
        }
        if case .malformed(let zh, let en) = coords { fail(zh, en); return nil }
        func polygon(_ c: LegacyJSONCoordinates) -> [[Double]]? {
            guard case .list(let items) = c else { return nil }
            var rings: [[Double]] = []
            for item in items {
                switch item {
                case .positions(let flat): rings.append(flat)
                case .list(let l) where l.isEmpty: rings.append([])
                default: return nil
                }
            }
            return rings
        }
        var out: [[[Double]]] = []
        if type == "Polygon" {
            guard let p = polygon(coords) else {
                fail("Polygon 的 coordinates 应为 [[[x, y], …], …]", "Polygon coordinates must be [[[x, y], …], …]")
                return nil
            }
            if !p.isEmpty { out.append(p) }
        } else {
            guard case .list(let items) = coords else {
                fail("MultiPolygon 的 coordinates 应为 [[[[x, y], …], …], …]", "MultiPolygon coordinates must be [[[[x, y], …], …], …]")
                return nil
            }
            for item in items {
                if case .malformed(let zh, let en) = item { fail(zh, en); return nil }
                guard let p = polygon(item) else {
                    fail("MultiPolygon 的 coordinates 应为 [[[[x, y], …], …], …]", "MultiPolygon coordinates must be [[[[x, y], …], …], …]")
                    return nil
                }
                if !p.isEmpty { out.append(p) }
            }
        }
        if out.isEmpty {
            fail("几何为空（没有坐标）", "the geometry is empty (no coordinates)")
            return nil
        }
        return out
    }

    /// What probably went wrong when coordinates fall outside the working area.
    private static func areaHint(crs: CRSName, x: Double, y: Double) -> (zh: String, en: String) {
        if crs.isGeographic {
            if (14...54).contains(x) && (73...136).contains(y) {
                return ("：经纬度顺序似乎颠倒了，GeoJSON 应经度在前、纬度在后", ": longitude and latitude seem swapped; GeoJSON puts longitude first")
            }
            if abs(x) > 180 || abs(y) > 90 {
                return ("：这些坐标像是投影坐标（米），不是经纬度；请用 --crs EPSG:4549（或带 40 带号的 EPSG:4528）",
                        ": these look like projected coordinates (metres), not degrees; use --crs EPSG:4549 (or EPSG:4528 with the zone prefix 40)")
            }
            return ("：不在永康所在的 CGCS2000 3度带（中央经线 120°E）附近", ": not near the CGCS2000 3-degree zone of Yongkang (central meridian 120°E)")
        }
        if abs(x) <= 180 && abs(y) <= 90 {
            return ("：这些坐标像是经纬度；请用 --crs CRS84 或 EPSG:4490", ": these look like longitude/latitude; use --crs CRS84 or EPSG:4490")
        }
        if crs == .epsg(4528) && x < 1_000_000 {
            return ("：EPSG:4528 的东坐标带带号 40（约 40,500,000）；不带带号的坐标请用 EPSG:4549",
                    ": EPSG:4528 eastings carry the zone number 40 (about 40,500,000); without it use EPSG:4549")
        }
        if crs == .epsg(4549) && x > 10_000_000 {
            return ("：东坐标带有带号；请用 EPSG:4528", ": the eastings carry a zone number; use EPSG:4528")
        }
        if crs.authorityAxisOrderIsNorthEast && y > 0 && y < 1_000_000 && x > 1_500_000 {
            return ("：东、北坐标顺序似乎颠倒了，GeoJSON 应东坐标在前", ": easting and northing seem swapped; GeoJSON puts the easting first")
        }
        return ("", "")
    }
}

private extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

/// `s` without surrounding white space; returns `s` itself (no copy) when there is none,
/// which is the usual case and far cheaper than Foundation's `trimmingCharacters`.
func legacyTrimmed(_ s: String) -> String {
    let u = s.unicodeScalars
    guard let first = u.first, let last = u.last else { return s }
    if !legacyIsSpace(first) && !legacyIsSpace(last) { return s }
    var lo = u.startIndex, hi = u.endIndex
    while lo < hi && legacyIsSpace(u[lo]) { lo = u.index(after: lo) }
    while hi > lo && legacyIsSpace(u[u.index(before: hi)]) { hi = u.index(before: hi) }
    return String(u[lo..<hi])
}

/// Unicode white space (and the byte-order mark), without a property-table lookup.
@inline(__always) private func legacyIsSpace(_ c: Unicode.Scalar) -> Bool {
    let v = c.value
    if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
    return v == 0x85 || v == 0xA0 || v == 0x1680 || (v >= 0x2000 && v <= 0x200B) || v == 0x2028 || v == 0x2029
        || v == 0x202F || v == 0x205F || v == 0x3000 || v == 0xFEFF
}

