import Foundation

// The fast sorts of the evaluation: records in credit-code order, and a group's totals in
// descending order, each giving exactly what a comparison sort gives.

/// The canonical order of records: by credit code (String order). When every code is ASCII,
/// String order is byte order, so codes are compared by their first 16 bytes packed into
/// two big-endian integers, and as Strings only when those are equal.
struct CodeOrder: Sendable {
    private let keys: [CodeSortKey]?

    init(_ records: UnsafeBufferPointer<EnterpriseRecord>) {
        let n = records.count
        var ascii = [Bool](repeating: true, count: Parallel.cores)
        var keys = [CodeSortKey](repeating: CodeSortKey(a: 0, b: 0), count: n)
        keys.withUnsafeMutableBufferPointer { kp in
            ascii.withUnsafeMutableBufferPointer { ap in
                Parallel.chunks(n) { range in
                    var allASCII = true
                    for i in range {
                        let key = records[i].creditCode.utf8.withContiguousStorageIfAvailable { CodeOrder.key($0) }
                            ?? CodeOrder.key(Array(records[i].creditCode.utf8))
                        if let key { kp[i] = key } else { allASCII = false; break }
                    }
                    if !allASCII { ap[range.lowerBound * ap.count / max(n, 1)] = false }
                }
            }
        }
        self.keys = ascii.contains(false) ? nil : keys
    }

    /// The first 16 bytes big-endian (zero-padded), or nil when the code is not ASCII.
    private static func key(_ buf: some Collection<UInt8>) -> CodeSortKey? {
        var a: UInt64 = 0, b: UInt64 = 0
        var j = 0
        for byte in buf {
            guard byte < 0x80 else { return nil }
            if j < 8 { a |= UInt64(byte) << (56 - 8 * j) } else if j < 16 { b |= UInt64(byte) << (56 - 8 * (j - 8)) }
            j += 1
        }
        return CodeSortKey(a: a, b: b)
    }

    /// Whether record `x`'s code comes before record `y`'s (`<` on the codes).
    @inline(__always)
    func less(_ x: Int, _ y: Int, _ records: UnsafeBufferPointer<EnterpriseRecord>) -> Bool {
        if let keys {
            let p = keys[x], q = keys[y]
            if p.a != q.a { return p.a < q.a }
            if p.b != q.b { return p.b < q.b }
        }
        return records[x].creditCode < records[y].creditCode
    }

    /// The positions in `rows` (record indices) sorted by credit code: what
    /// `Array(rows.indices).sorted { less(rows[$0], rows[$1]) }` gives.
    func sortedPositions(_ rows: [Int], _ records: UnsafeBufferPointer<EnterpriseRecord>) -> [Int] {
        guard let keys else {
            return Array(rows.indices).sorted { records[rows[$0]].creditCode < records[rows[$1]].creditCode }
        }
        // stable radix sort by (a, b), then runs of equal (a, b) by the whole code
        let n = rows.count
        guard n > 1 else { return Array(0..<n) }
        var ts = Array(0..<n)
        var bs = rows.map { keys[$0].b }
        RadixSort.sort(&bs, &ts)
        let a0 = keys[rows[0]].a
        let sameA = !rows.contains { keys[$0].a != a0 }  // usual: one region code
        if !sameA {
            var as_ = ts.map { keys[rows[$0]].a }
            RadixSort.sort(&as_, &ts)
            bs = ts.map { keys[rows[$0]].b }
        }
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && bs[end] == bs[start] && (sameA || keys[rows[ts[end]]].a == keys[rows[ts[start]]].a) {
                end += 1
            }
            if end - start > 1 {
                ts[start..<end].sort { records[rows[$0]].creditCode < records[rows[$1]].creditCode }
            }
            start = end
        }
        return ts
    }
}

/// Stable least-significant-digit radix sort on 64-bit keys.
enum RadixSort {
    /// A key whose unsigned order is the order of `x` (not NaN; -0 and +0 alike).
    @inline(__always)
    static func ascendingKey(_ x: Double) -> UInt64 {
        let bits = (x == 0 ? 0.0 : x).bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    /// Sorts `keys` ascending, stably, applying the same moves to `values`.
    static func sort(_ keys: inout [UInt64], _ values: inout [Int]) {
        let n = keys.count
        guard n > 1 else { return }
        let bits = 11, buckets = 1 << bits, mask = UInt64(buckets - 1)
        var keys2 = [UInt64](repeating: 0, count: n)
        var values2 = [Int](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: buckets)
        for shift in stride(from: 0, to: 64, by: bits) {
            var moved = false
            keys.withUnsafeBufferPointer { k in
                values.withUnsafeBufferPointer { v in
                    keys2.withUnsafeMutableBufferPointer { k2 in
                        values2.withUnsafeMutableBufferPointer { v2 in
                            counts.withUnsafeMutableBufferPointer { c in
                                for d in 0..<buckets { c[d] = 0 }
                                for i in 0..<n { c[Int((k[i] >> UInt64(shift)) & mask)] += 1 }
                                if c[Int((k[0] >> UInt64(shift)) & mask)] == n { return }  // one digit: nothing moves
                                var sum = 0
                                for d in 0..<buckets { let x = c[d]; c[d] = sum; sum += x }
                                for i in 0..<n {
                                    let d = Int((k[i] >> UInt64(shift)) & mask)
                                    k2[c[d]] = k[i]; v2[c[d]] = v[i]; c[d] += 1
                                }
                                moved = true
                            }
                        }
                    }
                }
            }
            if moved {
                swap(&keys, &keys2)
                swap(&values, &values2)
            }
        }
    }
}

/// A member's total and its position k in credit-code order, as the ranking sorts them.
struct RankEntry {
    var total: Double
    var k: Int
}

/// The first 16 bytes of a credit code as two big-endian integers (see ``CodeOrder``).
struct CodeSortKey: Sendable {
    var a: UInt64
    var b: UInt64
}
