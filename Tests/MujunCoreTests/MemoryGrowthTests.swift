import Foundation
import Testing
@testable import MujunCore

/// Memory-growth (leak) tests: many cycles must not grow the process (resident set size).
///
/// They measure the whole process, so whatever else runs in it shows up in their numbers: the
/// Makefile runs them in a process of their own and skips them in the main run,
///
///     swift test --filter MujunCoreTests.MemoryGrowthTests
///     swift test --skip MujunCoreTests.MemoryGrowthTests
///
/// and they run one at a time (`.serialized`). Each sets up, warms up and measures what it
/// needs by itself, so they pass alone, together or in any order.
@Suite("Memory growth", .serialized)
struct MemoryGrowthTests {
    /// The resident set size of the process, from /proc/self/statm (0 where there is none).
    static func residentBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = s.split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static var measurable: Bool { FileManager.default.fileExists(atPath: "/proc/self/statm") }

    /// The highest resident set size since the last ``resetPeak()`` (VmHWM), or nil.
    static func peakResidentBytes() -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kB = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) else { return nil }
        return kB << 10
    }

    /// Sets the peak resident set size to the current one (Linux: `5` to /proc/self/clear_refs).
    static func resetPeak() -> Bool {
        guard let f = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? f.close() }
        do { try f.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
    }

    /// A closed rectangle as interleaved coordinates.
    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> [Double] {
        [x, y, x + w, y, x + w, y + h, x, y + h, x, y]
    }

    /// 20,000 create / area / distance / intersects / WKB / validity / free cycles must not
    /// grow the process: every GEOS object is freed.
    @Test(.enabled(if: measurable, "needs /proc/self/statm"))
    func geosWrapperDoesNotLeak() throws {
        let shared = GEOSContext()
        func cycles(_ n: Int) throws {
            for i in 0..<n {
                let ctx = i % 1000 == 0 ? GEOSContext() : shared
                let x = Double(i % 100)
                let a = try Geometry.polygon(rings: [Self.rect(x, 0, 50, 50)], context: ctx)
                let b = try Geometry(wkt: "POLYGON((\(x + 60) 0, \(x + 110) 0, \(x + 110) 50, \(x + 60) 50, \(x + 60) 0))", context: ctx)
                _ = try a.area() + a.distance(to: b)
                _ = try a.intersects(b) || a.isWithinDistance(b, 20)
                let c = try Geometry(wkb: a.wkb, context: ctx)
                _ = c.validityProblem
                _ = try Geometry(wkt: "POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))", context: ctx).validityReason
                _ = try c.union(b).bbox
                _ = try? Geometry(wkb: Data([1, 3, 0, 0, 0, 9]), context: ctx)
                let tree = STRtree(context: ctx)
                tree.insert(a.bbox!, item: 0); tree.insert(b.bbox!, item: 1)
                _ = tree.query(a.bbox!.expanded(by: 20))
            }
        }
        try cycles(3_000)  // warm up allocator pools
        var growth = Int.max
        for _ in 0..<2 {  // a second try absorbs what the allocator keeps after the first
            let before = Self.residentBytes()
            try cycles(20_000)
            growth = Self.residentBytes() - before
            if growth < 4 << 20 { break }
        }
        #expect(growth < 4 << 20, "RSS grew by \(growth / 1024) KiB over 20,000 cycles")
    }

    /// 300 reprojectors made and dropped must not grow the process; the pool hands out the
    /// same few again.
    @Test(.enabled(if: measurable, "needs /proc/self/statm"))
    func reprojectorsDoNotLeak() throws {
        func cycles(_ n: Int) throws {
            for _ in 0..<n {
                let r = try Reprojector(from: .crs84, to: .working)
                var xy = [120.0, 28.9, 120.01, 28.91]
                r.transform(&xy)
            }
        }
        try cycles(50)
        for _ in 0..<100 {
            let p = try Reprojector.withPooled(from: .working, to: .epsg(4490), targetAxes: .authority) { r in
                try r.transform(x: 503_000, y: 3_197_000)
            }
            #expect(abs(p.x - 28.889) < 0.01 && abs(p.y - 120.03) < 0.01)   // lat, lon
        }
        // a leak grows on every try; the allocator only sometimes (keep the smallest)
        var growth = Int.max
        for _ in 0..<3 {
            let before = Self.residentBytes()
            try cycles(300)
            growth = min(growth, Self.residentBytes() - before)
            if growth < 6 << 20 { break }
        }
        #expect(growth < 6 << 20, "RSS grew by \(growth / 1024) KiB over 300 reprojectors")
    }

    /// A workbook whose sheet inflates to 600 MB is refused with the default limits without
    /// the process growing, even for a moment (peak RSS): nothing of the sheet is inflated.
    @Test(.enabled(if: measurable, "needs /proc/self/statm"))
    func anXLSXBombIsRefusedWithoutGrowing() throws {
        let repeats = 600_000_000 / DeflateBomb.unitSize
        let bomb = DeflateBomb.workbook(unit: DeflateBomb.twoCells, repeats: repeats, crc: false)
        let liar = DeflateBomb.workbook(unit: DeflateBomb.twoCells, repeats: repeats, declared: 1024, crc: false)
        for data in [bomb, liar] {
            _ = try? XLSXTable(data: data, limits: .default)  // warm up
            let peakKnown = Self.resetPeak()
            let before = Self.residentBytes()
            var refused = 0
            for _ in 0..<3 {
                do { _ = try XLSXTable(data: data, limits: .default) } catch { refused += 1 }
            }
            // the peak when it can be reset, else what is left
            let high = (peakKnown ? Self.peakResidentBytes() : nil) ?? Self.residentBytes()
            #expect(refused == 3)
            #expect(high - before < 32 << 20, "RSS rose by \((high - before) >> 20) MB refusing a 600 MB sheet")
        }
    }
}
