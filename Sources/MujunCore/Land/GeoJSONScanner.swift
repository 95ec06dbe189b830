import Foundation

// The JSON side of the parcel import: a byte-level reader for GeoJSON. The compact scan of
// the features is in ParcelScan.swift, the checks of each parcel in ParcelImport.swift.

/// A JSON value as read from a GeoJSON file's `properties` or `crs` member.
enum JSONValue {
    case null
    case bool(Bool)
    /// The number and its text as written (for messages).
    case number(Double, String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// Coordinates as nested arrays: a ring is an array of positions, kept flat `[x0, y0, …]`.
indirect enum JSONCoordinates {
    /// A single position `[x, y, …]`.
    case position(Double, Double)
    /// An array of positions, flattened to x, y pairs (z/m dropped).
    case positions([Double])
    /// An array of deeper arrays (or an empty array).
    case list([JSONCoordinates])
    /// Something that is not a coordinate array (the reason in Chinese and English).
    case malformed(String, String)
}

/// A syntax error with its byte offset.
struct JSONSyntaxError: Error {
    var offset: Int
    var zh: String
    var en: String
}

/// A byte-level GeoJSON reader: reads the members Mujun needs and skips the rest, with
/// coordinates parsed straight into flat `Double` arrays. About 10× faster than going through
/// `JSONSerialization` and `Any`, which matters for 200,000-parcel files. The features are
/// scanned into a compact form by the extension in ParcelScan.swift; the generic pieces here
/// (`value()`, `skipValue()`, `string()`, `coordinates()`) read everything that is not of the
/// usual form, so that every syntax message and position comes from one place.
struct GeoJSONScanner {
    let b: UnsafeBufferPointer<UInt8>  // ends with a 0 sentinel (not part of the JSON)
    let end: Int
    var i = 0
    var depth = 0

    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        b = buffer
        end = buffer.count - 1
    }

    /// Line and column (1-based) of a byte offset in `data`, for messages.
    static func lineColumn<C: Collection<UInt8>>(_ data: C, offset: Int) -> (line: Int, column: Int) {
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

    /// `[` … `]` of positions or deeper arrays.
    mutating func coordinates() throws(JSONSyntaxError) -> JSONCoordinates {
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
            var problem: JSONCoordinates?
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
        var items: [JSONCoordinates] = []
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
    mutating func object(_ body: (inout GeoJSONScanner, String) throws(JSONSyntaxError) -> Void) throws(JSONSyntaxError) {
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
    mutating func array(_ body: (inout GeoJSONScanner) throws(JSONSyntaxError) -> Void) throws(JSONSyntaxError) {
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
    mutating func value() throws(JSONSyntaxError) -> JSONValue {
        skipSpace()
        switch peek {
        case UInt8(ascii: "{"):
            var members: [(String, JSONValue)] = []
            try object { (s: inout GeoJSONScanner, key: String) throws(JSONSyntaxError) in members.append((key, try s.value())) }
            return .object(members)
        case UInt8(ascii: "["):
            var items: [JSONValue] = []
            try array { (s: inout GeoJSONScanner) throws(JSONSyntaxError) in items.append(try s.value()) }
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
    mutating func skipValue() throws(JSONSyntaxError) {
        skipSpace()
        switch peek {
        case UInt8(ascii: "{"): try object { (s: inout GeoJSONScanner, _: String) throws(JSONSyntaxError) in try s.skipValue() }
        case UInt8(ascii: "["): try array { (s: inout GeoJSONScanner) throws(JSONSyntaxError) in try s.skipValue() }
        case UInt8(ascii: "\""): try skipString()
        default: _ = try value()
        }
    }

    mutating func stringOrSkip() throws(JSONSyntaxError) -> String? {
        skipSpace()
        if peek == UInt8(ascii: "\"") { return try string() }
        try skipValue()
        return nil
    }

    mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for c in w {
            guard peek == c else { throw fail("无效的 JSON 值", "invalid JSON value") }
            i += 1
        }
    }

    mutating func skipString() throws(JSONSyntaxError) {
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

    mutating func string() throws(JSONSyntaxError) -> String {
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

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
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

    static let powersOf10: [Double] = (0...22).map { pow(10, Double($0)) }

    /// A JSON number's value, as ``number()`` reads it, without keeping its text.
    mutating func numberValue() throws(JSONSyntaxError) -> Double {
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
    mutating func number() throws(JSONSyntaxError) -> (Double, String) {
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

    var peek: UInt8 { b[i] }  // the sentinel 0 at `end`

    @inline(__always) func isNumberStart(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39)
    }

    mutating func skipSpace() {
        while i < end {
            let c = b[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { return }
        }
    }

    mutating func expect(_ c: UInt8) throws(JSONSyntaxError) {
        guard i < end else { throw fail("文件意外结束（应为 \"\(Character(Unicode.Scalar(c)))\"）", "unexpected end of file (\"\(Character(Unicode.Scalar(c)))\" expected)") }
        guard b[i] == c else {
            throw fail("应为 \"\(Character(Unicode.Scalar(c)))\"", "\"\(Character(Unicode.Scalar(c)))\" was expected")
        }
        i += 1
    }

    func fail(_ zh: String, _ en: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: min(i, end), zh: zh, en: en)
    }
}
