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
        if a.isFinite && runtimeShortestWorks {
            // the formatter `description` itself uses, writing into a stack buffer
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buf in
                appendShortest(x, buf, to: &out)
            }
        } else {
            out += x.description.utf8
        }
    }

    @inline(__always)
    private static func appendShortest(_ x: Double, _ buf: UnsafeMutableBufferPointer<UInt8>, to out: inout [UInt8]) {
        // This entry point expects the buffer pre-filled with "0" (Swift 6.2+ leaves some zero
        // digits unwritten); older runtimes fill it themselves.
        buf.initialize(repeating: 0x30)
        let n = Int(truncatingIfNeeded: _swift_float64ToString(buf.baseAddress!, UInt(buf.count), x, false))
        out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<min(n, buf.count)]))
    }

    /// Whether the runtime's `swift_float64ToString` writes exactly `description`'s text,
    /// checked once on values of every shape (else `description` is used).
    static let runtimeShortestWorks: Bool = {
        var samples: [Double] = [
            0, -0.0, 1, -1, 0.1, -0.1, 1.5, 123.0, 1e15, 1e16, 1e22, 1e300, -1e300, 5e-324, 2.2250738585072014e-308,
            1.7976931348623157e308, 1e-4, 1e-5, 0.000123, 9007199254740993, 18.848484848484848, 14.007895288410333,
            67.27807590080809, -0.005504220702686753, 0.015625, 1.0 / 3.0, 2.0 / 3.0, 100.0 / 7.0, -5945121138497477.0,
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let x = Double(bitPattern: state)
            if !x.isNaN { samples.append(x) }
            samples.append(Double(state >> 11) / Double(1 << 53) * 1000)
        }
        var out: [UInt8] = []
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buf in
            for x in samples {
                out.removeAll(keepingCapacity: true)
                appendShortest(x, buf, to: &out)
                if !out.elementsEqual(x.description.utf8) { return false }
            }
            return true
        }
    }()
}

/// The Swift runtime's shortest round-trip formatter (a stable ABI entry point of the
/// standard library, the one `Double.description` has always been built on).
@_silgen_name("swift_float64ToString")
private func _swift_float64ToString(_ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt,
                                    _ value: Double, _ debug: Bool) -> UInt64

private extension UInt64 {
    /// The magnitude of a negative Int64 stored as a bit pattern (two's complement).
    var magnitudeOfNegative: UInt64 { 0 &- self }
}

/// Memory hints for the few very large buffers of an evaluation.
enum MemoryHint {
    /// Asks the kernel to back `bytes` at `p` with huge pages when it can: far fewer page
    /// faults when a buffer of hundreds of megabytes is first written. A hint only.
    static func hugePages(_ p: UnsafeMutableRawPointer?, bytes: Int) {
        #if os(Linux)
        guard let p, bytes >= 8 << 20 else { return }
        let huge = 2 << 20
        let start = (Int(bitPattern: p) + huge - 1) & ~(huge - 1)
        let end = (Int(bitPattern: p) + bytes) & ~(huge - 1)
        if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE) }
        #endif
    }
}
