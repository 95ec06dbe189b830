import Foundation
import Testing
@testable import MujunCore

// MARK: - ZIP bombs made in the test

/// Raw deflate streams made by hand with the fixed Huffman codes, for ZIP bombs: `prefix`,
/// the 4,128-byte `unit` once as literals and then `repeats` times more as matches, then
/// `suffix`. Each further copy of the unit is 16 matches of 258 bytes at distance 4,128, of 3
/// bytes each, so a sheet of 600 MB takes 7 MB and a moment to make.
enum DeflateBomb {
    /// 16 × 258: whole matches copy whole units.
    static let unitSize = 4128

    /// Bits packed as deflate packs them (RFC 1951 §3.1.1).
    struct Bits {
        var bytes: [UInt8] = []
        private var acc: UInt64 = 0
        private var count = 0

        /// `n` bits of `value`, least significant first (header fields, extra bits).
        mutating func put(_ value: UInt64, _ n: Int) {
            acc |= value << UInt64(count)
            count += n
            while count >= 8 { bytes.append(UInt8(acc & 0xFF)); acc >>= 8; count -= 8 }
        }

        /// A Huffman code of `n` bits, most significant first.
        mutating func code(_ value: UInt64, _ n: Int) {
            var reversed: UInt64 = 0
            for i in 0..<n { reversed |= ((value >> UInt64(i)) & 1) << UInt64(n - 1 - i) }
            put(reversed, n)
        }

        mutating func literal(_ b: UInt8) {
            if b < 144 { code(0x30 + UInt64(b), 8) } else { code(0x190 + UInt64(b) - 144, 9) }
        }

        /// Length 258 (symbol 285), distance 4,128 (code 24, 11 extra bits): 24 bits.
        mutating func match() {
            code(0xC0 + 5, 8)
            code(24, 5)
            put(UInt64(unitSize - 4097), 11)
        }

        /// End of block, and the last byte filled up.
        mutating func finish() {
            code(0, 7)
            if count > 0 { put(0, 8 - count) }
        }
    }

    static func stream(prefix: [UInt8], unit: [UInt8], repeats: Int, suffix: [UInt8]) -> [UInt8] {
        precondition(unit.count == unitSize)
        var w = Bits()
        w.put(1, 1)  // the final block
        w.put(1, 2)  // with fixed Huffman codes
        for b in prefix + unit { w.literal(b) }
        let matches = repeats * 16
        if matches >= 1 { w.match() }
        if matches >= 2 {
            // every match after the first leaves the same 3 bytes (24 bits on the same bit offset)
            let before = w.bytes.count
            w.match()
            let pattern = Array(w.bytes[before...])
            precondition(pattern.count == 3)
            let total = 3 * (matches - 2)
            var region: [UInt8] = []
            region.reserveCapacity(total)
            if total > 0 { region += pattern }
            while region.count > 0 && region.count * 2 <= total { region += region }
            region += region[0..<(total - region.count)]
            w.bytes += region
        }
        for b in suffix { w.literal(b) }
        w.finish()
        return w.bytes
    }

    /// CRC-32 (ZIP) of the inflated stream, table-driven (the test's `zipCRC32` is bitwise).
    static func crc(prefix: [UInt8], unit: [UInt8], repeats: Int, suffix: [UInt8]) -> UInt32 {
        let table: [UInt32] = (0..<256).map { n in
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            return c
        }
        var c: UInt32 = 0xFFFF_FFFF
        func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { b in
                table.withUnsafeBufferPointer { t in
                    for x in b { c = t[Int((c ^ UInt32(x)) & 0xFF)] ^ (c >> 8) }
                }
            }
        }
        update(prefix)
        for _ in 0...repeats { update(unit) }
        update(suffix)
        return ~c
    }

    static let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    static let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    static let sheetPrefix = Array(#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="\#(main)"><sheetData>"#.utf8)
    static let sheetSuffix = Array("</sheetData></worksheet>".utf8)

    /// 16 rows, each padded with spaces to 258 bytes.
    static func unit(row: String) -> [UInt8] {
        let bytes = Array(row.utf8)
        precondition(bytes.count <= 258)
        let padded = bytes + [UInt8](repeating: 0x20, count: 258 - bytes.count)
        return Array([[UInt8]](repeating: padded, count: 16).joined())
    }

    /// Two cells a row.
    static let twoCells = unit(row: #"<row><c t="inlineStr"><is><t>x</t></is></c><c><v>1</v></c></row>"#)
    /// Ten cells a row.
    static let tenCells = unit(row: "<row>" + String(repeating: "<c><v>1</v></c>", count: 10) + "</row>")

    /// The inflated size of a sheet of `unit` and `repeats` more.
    static func size(repeats: Int) -> Int { sheetPrefix.count + unitSize * (1 + repeats) + sheetSuffix.count }

    /// A workbook whose worksheet is `unit` repeated; its declared size is the real one unless
    /// `declared` is given, and its CRC is right only when `crc` is true.
    static func workbook(unit: [UInt8], repeats: Int, declared: Int? = nil, crc: Bool = true,
                         sharedStrings: String? = nil) -> Data {
        let sheet = stream(prefix: sheetPrefix, unit: unit, repeats: repeats, suffix: sheetSuffix)
        let sum = crc ? Self.crc(prefix: sheetPrefix, unit: unit, repeats: repeats, suffix: sheetSuffix) : 0
        func stored(_ name: String, _ text: String) -> RawZipEntry {
            let b = Array(text.utf8)
            return RawZipEntry(name: name, method: 0, payload: b, crc: zipCRC32(b), uncompressedSize: b.count)
        }
        var rels = #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="\#(rel)/worksheet" Target="worksheets/sheet1.xml"/>"#
        if sharedStrings != nil { rels += #"<Relationship Id="rId2" Type="\#(rel)/sharedStrings" Target="sharedStrings.xml"/>"# }
        var entries = [
            stored("xl/workbook.xml", #"<workbook xmlns="\#(main)" xmlns:r="\#(rel)"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
            stored("xl/_rels/workbook.xml.rels", rels + "</Relationships>"),
        ]
        if let sharedStrings { entries.append(stored("xl/sharedStrings.xml", sharedStrings)) }
        entries.append(RawZipEntry(name: "xl/worksheets/sheet1.xml", method: 8, payload: sheet, crc: sum,
                                   uncompressedSize: declared ?? size(repeats: repeats)))
        return makeRawZip(entries)
    }
}

// MARK: - Tests

/// XLSX uploads are bounded: the bytes their parts inflate to and the cells of the sheet
/// (``XLSXLimits``), refused with ``XLSXLimitExceeded`` before the cost is paid.
@Suite("XLSX limits")
struct XLSXLimitTests {
    /// The refusal of reading `data`, with the time it took.
    static func refusal(_ data: Data, limits: XLSXLimits) -> (failure: ImportFailure?, seconds: Double) {
        let start = ContinuousClock.now
        var failure: ImportFailure?
        do { _ = try XLSXTable(data: data, limits: limits) } catch { failure = error }
        let d = ContinuousClock.now - start
        return (failure, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }

    @Test func theHandMadeStreamInflatesToWhatItSays() throws {
        let table = try XLSXTable(data: DeflateBomb.workbook(unit: DeflateBomb.twoCells, repeats: 5), limits: .default)
        #expect(table.headers == ["x", "1"])
        var rows = 0
        try table.forEachRow { _, cells in rows += 1; #expect(cells == ["x", "1"]) }
        #expect(rows == 16 * 6 - 1)
    }

    @Test func aBombIsRefusedBeforeItIsInflated() throws {
        // 20 MB declared (truthfully), 1 MB allowed
        let bomb = DeflateBomb.workbook(unit: DeflateBomb.twoCells, repeats: 5000, crc: false)
        #expect(bomb.count < 300_000 && DeflateBomb.size(repeats: 5000) > 20_000_000)
        let limits = XLSXLimits(maxInflatedBytes: 1 << 20)
        let (failure, seconds) = Self.refusal(bomb, limits: limits)
        let f = try #require(failure)
        #expect(f.limitExceeded == .inflatedSize(limit: 1 << 20))
        #expect(f.errors.count == 1 && f.errors[0].row == 0)
        #expect(f.errors[0].messageZh.contains("1 MB") && f.errors[0].messageZh.contains("MUJUN_XLSX_MAX_MB"))
        #expect(f.errors[0].messageEn.contains("1 MB") && f.errors[0].messageEn.contains("MUJUN_XLSX_MAX_MB"))
        #expect(seconds < 2, "refused after \(seconds) s")
        // nothing of the sheet was inflated
        var parts = try XLSXTable.PartReader(data: bomb, limits: limits)
        _ = try parts.read("xl/workbook.xml")
        let small = parts.inflated
        #expect(small > 0 && small < 1000)
        #expect(throws: ImportFailure.self) { try parts.read("xl/worksheets/sheet1.xml") }
        #expect(parts.inflated == small)
    }

    /// The real defaults: a 2.4 MB-ish file whose sheet is 600 MB is refused at once.
    @Test func aSixHundredMegabyteSheetIsRefusedQuicklyWithTheDefaults() throws {
        let repeats = 600_000_000 / DeflateBomb.unitSize
        let bomb = DeflateBomb.workbook(unit: DeflateBomb.twoCells, repeats: repeats, crc: false)
        #expect(bomb.count < 10_000_000 && DeflateBomb.size(repeats: repeats) > 600_000_000)
        let (failure, seconds) = Self.refusal(bomb, limits: .default)
        #expect(failure?.limitExceeded == .inflatedSize(limit: 200 << 20))
        #expect(failure?.errors.first?.messageZh.contains("200 MB") == true)
        #expect(failure?.description.contains("MUJUN_XLSX_MAX_MB") == true)
        #expect(seconds < 2, "refused after \(seconds) s")
        var parts = try XLSXTable.PartReader(data: bomb, limits: .default)
        #expect(throws: ImportFailure.self) { try parts.read("xl/worksheets/sheet1.xml") }
        #expect(parts.inflated == 0)
    }

    /// A sheet that declares 1 KB and inflates to 600 MB: inflating stops at once.
    @Test func aLyingDeclaredSizeStopsTheInflater() throws {
        let repeats = 600_000_000 / DeflateBomb.unitSize
        let liar = DeflateBomb.workbook(unit: DeflateBomb.twoCells, repeats: repeats, declared: 1024, crc: false)
        // with the defaults the part is damaged (more than it declares) as soon as it passes 1 KB
        let (damaged, seconds) = Self.refusal(liar, limits: .default)
        let f = try #require(damaged)
        #expect(f.limitExceeded == nil)
        #expect(f.errors.first?.messageEn.contains("damaged") == true)
        #expect(seconds < 2, "refused after \(seconds) s")
        // and whatever it declares, the limit holds on the bytes actually inflated
        let (over, quick) = Self.refusal(liar, limits: XLSXLimits(maxInflatedBytes: 32 << 10))
        #expect(over?.limitExceeded == .inflatedSize(limit: 32 << 10))
        #expect(over?.errors.first?.messageEn.contains("32 KB") == true)
        #expect(quick < 2, "refused after \(quick) s")
    }

    @Test func theCellLimit() throws {
        // 160 cells a unit: 8,160 cells
        let sheet = DeflateBomb.workbook(unit: DeflateBomb.tenCells, repeats: 50)
        var cells = 0
        try XLSXTable(data: sheet, limits: .default).forEachRow { _, c in cells += c.count }
        #expect(cells == 8160 - 10)  // less the header's
        _ = try XLSXTable(data: sheet, limits: XLSXLimits(maxCells: 8160))
        let (failure, _) = Self.refusal(sheet, limits: XLSXLimits(maxCells: 8159))
        let f = try #require(failure)
        #expect(f.limitExceeded == .cellCount(limit: 8159))
        #expect(f.errors[0].messageZh.contains("8,159") && f.errors[0].messageZh.contains("MUJUN_XLSX_MAX_CELLS"))
        #expect(f.errors[0].messageEn.contains("8,159 cells"))

        // the empty cells a row gets before a far cell count too: one cell in column XFD
        let far = DeflateBomb.workbook(unit: DeflateBomb.unit(row: #"<row><c r="XFD1"><v>1</v></c></row>"#), repeats: 0)
        #expect(Self.refusal(far, limits: XLSXLimits(maxCells: 100_000)).failure?.limitExceeded == .cellCount(limit: 100_000))
        _ = try XLSXTable(data: far, limits: XLSXLimits(maxCells: 16 * 16_384))

        // so do shared strings
        let sst = #"<sst xmlns="\#(DeflateBomb.main)">"# + String(repeating: "<si><t>a</t></si>", count: 2000) + "</sst>"
        let withStrings = DeflateBomb.workbook(unit: DeflateBomb.tenCells, repeats: 0, sharedStrings: sst)
        #expect(Self.refusal(withStrings, limits: XLSXLimits(maxCells: 1000)).failure?.limitExceeded == .cellCount(limit: 1000))
        _ = try XLSXTable(data: withStrings, limits: .default)
    }

    /// Reading stops at the limit: a sheet of 192,000 cells is refused after 1,000 of them
    /// (reading it all takes about 2.5 s in a debug build, stopping 0.2 s).
    @Test func readingStopsAtTheCellLimit() throws {
        let sheet = DeflateBomb.workbook(unit: DeflateBomb.tenCells, repeats: 1200)
        #expect(DeflateBomb.size(repeats: 1200) > 4_900_000)
        let (failure, seconds) = Self.refusal(sheet, limits: XLSXLimits(maxCells: 1000))
        #expect(failure?.limitExceeded == .cellCount(limit: 1000))
        #expect(seconds < 1.5, "refused after \(seconds) s")
    }

    @Test func limitsFromTheEnvironment() {
        #expect(XLSXLimits.fromEnvironment([:]) == .default)
        #expect(XLSXLimits.default == XLSXLimits(maxInflatedBytes: 200 << 20, maxCells: 5_000_000))
        let set = XLSXLimits.fromEnvironment(["MUJUN_XLSX_MAX_MB": "50", "MUJUN_XLSX_MAX_CELLS": " 1000 "])
        #expect(set == XLSXLimits(maxInflatedBytes: 50 << 20, maxCells: 1000))
        for bad in ["", "0", "-5", "lots", "1.5"] {
            #expect(XLSXLimits.fromEnvironment(["MUJUN_XLSX_MAX_MB": bad, "MUJUN_XLSX_MAX_CELLS": bad]) == .default)
        }
    }

    /// `TableReader.open` (what `mujun import` uses) reads with the limits given.
    @Test func tableReaderPassesTheLimits() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-limits-\(getpid()).xlsx")
        defer { try? FileManager.default.removeItem(at: url) }
        try DeflateBomb.workbook(unit: DeflateBomb.twoCells, repeats: 1000, crc: false).write(to: url)
        do {
            _ = try TableReader.open(url: url, limits: XLSXLimits(maxInflatedBytes: 1 << 20))
            Issue.record("read")
        } catch {
            #expect(error.limitExceeded == .inflatedSize(limit: 1 << 20))
        }
    }
}
