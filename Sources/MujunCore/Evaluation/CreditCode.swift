/// The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
/// 31-character set, the last one a check character over the first 17.
public enum CreditCode {
    static let charset = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    static let valueOf: [Character: Int] = Dictionary(uniqueKeysWithValues: charset.enumerated().map { ($1, $0) })

    /// Lookup tables for the fast paths, in plain memory made once and never freed (so that
    /// threads reading them never touch a reference count): the value of each ASCII byte
    /// (-1 when not in the set) at [0..<128], the weights at [128..<145], and the ASCII
    /// character of each value at [145..<176].
    nonisolated(unsafe) static let table: UnsafePointer<Int16> = {
        let t = UnsafeMutablePointer<Int16>.allocate(capacity: 176)
        t.initialize(repeating: -1, count: 128)
        for (v, c) in charset.enumerated() { t[Int(c.asciiValue!)] = Int16(v) }
        for (i, w) in weights.enumerated() { t[128 + i] = Int16(w) }
        for (v, c) in charset.enumerated() { t[145 + v] = Int16(c.asciiValue!) }
        return UnsafePointer(t)
    }()

    @inline(__always) static func valueOfByte(_ b: UInt8) -> Int { b < 0x80 ? Int(table[Int(b)]) : -1 }
    @inline(__always) static func weight(_ i: Int) -> Int { Int(table[128 + i]) }
    @inline(__always) static func checkByte(_ v: Int) -> UInt8 { UInt8(table[145 + v]) }

    /// Upper-cases and trims a code as typed.
    public static func normalize(_ s: String) -> String {
        // Fast path: ASCII without surrounding spaces or tabs (the only ASCII characters
        // `.whitespaces` holds); upper-casing ASCII only maps a–z.
        let fast: String?? = s.utf8.withContiguousStorageIfAvailable { buf -> String? in
            guard let first = buf.first, let last = buf.last else { return "" }
            if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return nil }
            var lower = false
            for b in buf {
                if b >= 0x80 { return nil }
                if b >= 0x61 && b <= 0x7A { lower = true }
            }
            if !lower { return s }
            return String(unsafeUninitializedCapacity: buf.count) { out in
                for (i, b) in buf.enumerated() { out[i] = (b >= 0x61 && b <= 0x7A) ? b - 0x20 : b }
                return buf.count
            }
        }
        if let fast, let fast { return fast }
        return s.trimmingCharacters(in: .whitespaces).uppercased()
    }

    /// ``normalize(_:)`` of `s`, and ``packed(_:)`` of the result, in one look at the bytes
    /// for the usual code (18 characters of the set, upper case, no spaces), which is then
    /// returned as it is (moved, not copied).
    static func normalizeAndPack(_ s: consuming String) -> (code: String, packed: (hi: UInt64, lo: UInt64)?) {
        enum Fast { case same((hi: UInt64, lo: UInt64)?), slow }
        let fast: Fast? = s.utf8.withContiguousStorageIfAvailable { buf -> Fast in
            guard let first = buf.first, let last = buf.last else { return .same(nil) }
            if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return .slow }
            for b in buf where b >= 0x80 || (b >= 0x61 && b <= 0x7A) { return .slow }
            return .same(pack(buf))
        }
        if case .same(let key)? = fast { return (s, key) }
        let code = normalize(s)
        return (code, packed(code))
    }

    /// A valid code packed into 90 bits (5 per character, in order, so equal codes and only
    /// equal codes give equal keys), or nil when the code is not a valid 18-character code.
    static func packed(_ code: String) -> (hi: UInt64, lo: UInt64)? {
        if let r = code.utf8.withContiguousStorageIfAvailable({ pack($0) }) { return r }
        return Array(code.utf8).withUnsafeBufferPointer { pack($0) }
    }

    private static func pack(_ buf: UnsafeBufferPointer<UInt8>) -> (hi: UInt64, lo: UInt64)? {
        guard buf.count == 18 else { return nil }
        var hi: UInt64 = 0, lo: UInt64 = 0, sum = 0
        for i in 0..<18 {
            let v = valueOfByte(buf[i])
            guard v >= 0 else { return nil }
            if i < 17 { sum += v * weight(i) }
            if i < 12 { hi = hi << 5 | UInt64(v) } else { lo = lo << 5 | UInt64(v) }
        }
        guard checkByte((31 - sum % 31) % 31) == buf[17] else { return nil }
        return (hi, lo)
    }

    /// The check character for the first 17 characters, or nil if one is not in the set.
    public static func checkCharacter(_ first17: some Collection<Character>) -> Character? {
        guard first17.count == 17 else { return nil }
        var sum = 0
        for (c, w) in zip(first17, weights) {
            guard let v = valueOf[c] else { return nil }
            sum += v * w
        }
        return charset[(31 - sum % 31) % 31]
    }

    /// Why a code is invalid (Chinese, English), or nil when valid.
    public static func problem(_ code: String) -> (zh: String, en: String)? {
        // Fast path: 18 bytes of the set (so 18 characters) with the right check character.
        if code.utf8.count == 18, let ok = code.utf8.withContiguousStorageIfAvailable({ buf -> Bool in
            var sum = 0
            for i in 0..<17 {
                let v = valueOfByte(buf[i])
                guard v >= 0 else { return false }
                sum += v * weight(i)
            }
            return checkByte((31 - sum % 31) % 31) == buf[17]
        }), ok {
            return nil
        }
        let chars = Array(code)
        guard chars.count == 18 else {
            return ("应为 18 位，实为 \(chars.count) 位", "must have 18 characters, has \(chars.count)")
        }
        if let bad = chars.first(where: { valueOf[$0] == nil }) {
            return ("含非法字符 \"\(bad)\"", "contains the invalid character \"\(bad)\"")
        }
        let expected = checkCharacter(chars[0..<17])!
        if expected != chars[17] {
            return ("校验位错误（应为 \(expected)）", "wrong check character (expected \(expected))")
        }
        return nil
    }

    public static func isValid(_ code: String) -> Bool { problem(code) == nil }

    /// Completes 17 characters with their check character.
    public static func complete(_ first17: String) -> String {
        first17 + String(checkCharacter(Array(first17))!)
    }
}
