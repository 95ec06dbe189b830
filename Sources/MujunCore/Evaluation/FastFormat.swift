import Foundation

/// Allocation-free number formatting for the hot paths of evaluation and export. Every
/// function gives exactly the text of its slow counterpart (`String(format: "%.2f")`,
/// `Double.description`, `String(Int)`); the tests compare them on millions of values.
enum FastFormat {
    // MARK: - "%.2f"

    /// Appends `x` with two decimals, exactly as `String(format: "%.2f", x)` writes it: the
    /// exact binary value rounded half to even, `-0.00` for negative values that round to zero.
    @inline(__always)
    static func appendFixed2(_ x: Double, to out: inout [UInt8]) {
        if let hundredths = fixed2Hundredths(x) {
            if x.sign == .minus { out.append(0x2D) }
            appendDecimal(hundredths / 100, to: &out)
            let frac = Int(hundredths % 100)
            out.append(0x2E)
            out.append(UInt8(0x30 + frac / 10))
            out.append(UInt8(0x30 + frac % 10))
        } else {
            out += String(format: "%.2f", x).utf8
        }
    }

    /// `String(format: "%.2f", x)`, without going through the C formatter for ordinary values.
    static func fixed2(_ x: Double) -> String {
        guard let hundredths = fixed2Hundredths(x) else { return String(format: "%.2f", x) }
        // At most "-" + 15 digits + "." + 2 digits: build it on the stack.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buf in
            var n = 0
            if x.sign == .minus { buf[n] = 0x2D; n += 1 }
            var intPart = hundredths / 100
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            withUnsafeMutableBytes(of: &digits) { d in
                repeat {
                    d[count] = UInt8(0x30 + intPart % 10)
                    intPart /= 10
                    count += 1
                } while intPart > 0
                for k in stride(from: count - 1, through: 0, by: -1) { buf[n] = d[k]; n += 1 }
            }
            let frac = Int(hundredths % 100)
            buf[n] = 0x2E
            buf[n + 1] = UInt8(0x30 + frac / 10)
            buf[n + 2] = UInt8(0x30 + frac % 10)
            n += 3
            return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<n]), as: UTF8.self)
        }
    }

    /// |x| × 100 rounded half to even (computed exactly), or nil when x is not finite or too
    /// large for the fast path (|x| ≥ 2^50).
    @inline(__always)
    static func fixed2Hundredths(_ x: Double) -> UInt64? {
        let a = abs(x)
        guard a < 1_125_899_906_842_624 else { return nil }  // 2^50; also excludes inf and nan
        if a == 0 { return 0 }
        // a = m × 2^e exactly, m < 2^53
        let m = a.significandBitPattern | (a.exponentBitPattern == 0 ? 0 : 1 << 52)
        let e = (a.exponentBitPattern == 0 ? -1074 : Int(a.exponentBitPattern) - 1075)
        let p = m &* 100  // < 2^60
        if e >= 0 { return p << UInt64(e) }  // a < 2^50 → p × 2^e < 2^57 × 2^... bounded below
        let s = -e
        if s >= 64 { return 0 }  // a × 100 < 2^60 / 2^64 < 1/2
        let q = p >> UInt64(s)
        let rem = p & ((1 << UInt64(s)) &- 1)
        let half: UInt64 = 1 << UInt64(s - 1)
        if rem > half || (rem == half && q & 1 == 1) { return q + 1 }
        return q
    }

    // MARK: - Integers

    /// Appends the decimal digits of `v` (as `String(v)`).
    @inline(__always)
    static func appendDecimal(_ v: UInt64, to out: inout [UInt8]) {
        if v < 10 { out.append(UInt8(0x30 + v)); return }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes ≥ 20 digits
        var v = v
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { d in
            while v > 0 {
                d[23 - n] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                v /= 10
                n += 1
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[(24 - n)...]))
        }
    }

    /// Appends `String(v)`.
    @inline(__always)
    static func appendInt(_ v: Int, to out: inout [UInt8]) {
        if v < 0 {
            out.append(0x2D)
            appendDecimal(UInt64(bitPattern: Int64(v)).magnitudeOfNegative, to: &out)
        } else {
            appendDecimal(UInt64(v), to: &out)
        }
    }

    // MARK: - Double.description

    /// Appends `x.description` (the shortest text that reads back as `x`).
    ///
    /// Fast paths, each giving exactly `description`'s text: integers below 10^15 ("123.0"),
    /// and values below 10^9 that are the double nearest to a number of hundredths (the
    /// typical input value "45.21"): for those the hundredths are the unique shortest
    /// round-trip digits, since the double's rounding interval is far narrower than 0.01.
    @inline(__always)
    static func appendDescription(_ x: Double, to out: inout [UInt8]) {
        let a = abs(x)
        if a < 1e9 {
            let h = (a * 100).rounded()
            if h / 100 == a {
                let k = UInt64(h)
                if x.sign == .minus { out.append(0x2D) }
                appendDecimal(k / 100, to: &out)
                out.append(0x2E)
                let frac = Int(k % 100)
                out.append(UInt8(0x30 + frac / 10))
                if frac % 10 != 0 { out.append(UInt8(0x30 + frac % 10)) }
                return
            }
        } else if a < 1e15, a == a.rounded(.towardZero) {
            if x.sign == .minus { out.append(0x2D) }
            appendDecimal(UInt64(a), to: &out)
            out.append(0x2E); out.append(0x30)
            return
        }
        out += x.description.utf8
    }
}

private extension UInt64 {
    /// The magnitude of a negative Int64 stored as a bit pattern (two's complement).
    var magnitudeOfNegative: UInt64 { 0 &- self }
}
