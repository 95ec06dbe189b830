import Foundation
import Testing
@testable import MujunCore

// MARK: - Helpers

/// CRC-32 as ZIP uses it.
func zipCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}

/// One entry for ``makeRawZip(_:)``: `method` 0 = stored, 8 = deflate (payload already encoded).
struct RawZipEntry {
    var name: String
    var method: Int
    var payload: [UInt8]
    var crc: UInt32
    var uncompressedSize: Int
}

/// A minimal ZIP writer for hand-made and deliberately broken workbooks.
func makeRawZip(_ entries: [RawZipEntry]) -> Data {
    var out: [UInt8] = []
    var central: [UInt8] = []
    func u16(_ v: Int, _ a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    func u32(_ v: UInt32, _ a: inout [UInt8]) { for s in stride(from: 0, to: 32, by: 8) { a.append(UInt8(v >> UInt32(s) & 0xFF)) } }
    for e in entries {
        let nameBytes = Array(e.name.utf8)
        let offset = UInt32(out.count)
        u32(0x0403_4B50, &out); u16(20, &out); u16(0x0800, &out); u16(e.method, &out); u16(0, &out); u16(0x21, &out)
        u32(e.crc, &out); u32(UInt32(e.payload.count), &out); u32(UInt32(e.uncompressedSize), &out)
        u16(nameBytes.count, &out); u16(0, &out); out += nameBytes; out += e.payload
        u32(0x0201_4B50, &central); u16(20, &central); u16(20, &central); u16(0x0800, &central); u16(e.method, &central)
        u16(0, &central); u16(0x21, &central); u32(e.crc, &central); u32(UInt32(e.payload.count), &central)
        u32(UInt32(e.uncompressedSize), &central); u16(nameBytes.count, &central); u16(0, &central); u16(0, &central)
        u16(0, &central); u16(0, &central); u32(0, &central); u32(offset, &central); central += nameBytes
    }
    let cdOffset = UInt32(out.count)
    out += central
    u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(entries.count, &out); u16(entries.count, &out)
    u32(UInt32(central.count), &out); u32(cdOffset, &out); u16(0, &out)
    return Data(out)
}

/// A raw deflate stream made of stored blocks (valid input for any inflater).
func deflateStored(_ bytes: [UInt8], final: Bool = true) -> [UInt8] {
    var out: [UInt8] = []
    var chunks = stride(from: 0, to: bytes.count, by: 65_535).map { Array(bytes[$0..<min($0 + 65_535, bytes.count)]) }
    if chunks.isEmpty { chunks = [[]] }
    for (i, c) in chunks.enumerated() {
        out.append(final && i == chunks.count - 1 ? 1 : 0)
        let len = c.count
        out += [UInt8(len & 0xFF), UInt8(len >> 8), UInt8(~len & 0xFF), UInt8((~len >> 8) & 0xFF)]
        out += c
    }
    return out
}

/// A ZIP of text files; `deflate` stores them as deflate streams instead of plain.
func makeZip(_ files: [(String, String)], deflate: Bool = false) -> Data {
    makeRawZip(files.map { name, text in
        let bytes = Array(text.utf8)
        return RawZipEntry(name: name, method: deflate ? 8 : 0, payload: deflate ? deflateStored(bytes) : bytes,
                           crc: zipCRC32(bytes), uncompressedSize: bytes.count)
    })
}

let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// Runs python3 with a script and arguments; returns stdout, or nil when it fails.
func runPython(_ script: String, _ args: [String] = []) -> Data? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return p.terminationStatus == 0 ? data : nil
}

let openpyxlAvailable: Bool = runPython("import openpyxl") != nil

// MARK: - Writer → reader round trip

@Suite("XLSX")
struct XLSXTests {
    static let headers = ["统一社会信用代码", "企业名称", "用地面积（亩）", "评价税收(万元)", "备注"]

    static func sampleWorkbook() -> XLSXWriter {
        var w = XLSXWriter()
        w.addSheet(name: "企业/数据:2024", headers: headers, rows: [
            [.text("91330784MA2EXAMPLE"), .text("永康 & <五金> \"有限\" '公司'"), .number(12.5), .number(1234), .empty],
            [.text("  前后空格 "), .empty, .empty, .number(-3.25), .text("多行\n文本")],
            [.empty, .empty, .empty, .empty, .empty],
            [.text("控制\u{1}字符\u{FFFE}"), .text("_x000D_ literal"), .number(0.1), .number(1e20), .number(.nan)],
            [.text("x"), .number(12)],
        ], columnWidths: [24, 30], numberFormats: [nil, nil, "0.00", "#,##0.00", nil])
        w.addSheet(name: "忽略", headers: ["不应读取"], rows: [[.text("ignored")]])
        return w
    }

    @Test func roundTrip() throws {
        let data = try XLSXTests.sampleWorkbook().data()
        #expect(data.starts(with: [0x50, 0x4B, 0x03, 0x04]))
        let t = try XLSXTable(data: data)
        #expect(t.sheetName == "企业_数据_2024")
        #expect(t.headers == XLSXTests.headers)
        let rows = try allRows(t)
        #expect(rows.map(\.0) == [2, 3, 5, 6])  // the empty row 4 is skipped
        #expect(rows[0].1 == ["91330784MA2EXAMPLE", "永康 & <五金> \"有限\" '公司'", "12.5", "1234"])
        #expect(rows[1].1 == ["  前后空格 ", "", "", "-3.25", "多行\n文本"])
        #expect(rows[2].1 == ["控制字符", "_x000D_ literal", "0.1", "1e+20"])
        #expect(rows[3].1 == ["x", "12"])
    }

    @Test func writeToFileAndOpen() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-\(UUID().uuidString).xlsx")
        defer { try? FileManager.default.removeItem(at: url) }
        try XLSXTests.sampleWorkbook().write(to: url)
        let t = try TableReader.open(url: url)
        #expect(t.headers.count == 5)
        let direct = try XLSXTable(url: url)
        #expect(try allRows(direct).count == 4)
    }

    @Test func sheetNamesAreSanitised() {
        var w = XLSXWriter()
        w.addSheet(name: "a[b]c:d*e?f/g\\h", headers: [], rows: [])
        w.addSheet(name: String(repeating: "很长的名字", count: 10), headers: [], rows: [])
        w.addSheet(name: String(repeating: "很长的名字", count: 10), headers: [], rows: [])
        w.addSheet(name: "  ", headers: [], rows: [])
        w.addSheet(name: "'quoted'", headers: [], rows: [])
        w.addSheet(name: "History", headers: [], rows: [])
        let names = w.sheetNames
        #expect(names[0] == "a_b_c_d_e_f_g_h")
        #expect(names[1].count == 31)
        #expect(names[2].count == 31 && names[2].hasSuffix(" (2)") && names[2] != names[1])
        #expect(names[3] == "Sheet4")
        #expect(names[4] == "quoted")
        #expect(names[5] == "History_")
        for n in names { #expect(n.utf16.count <= 31 && !n.contains(where: { "[]:*?/\\".contains($0) })) }
    }

    @Test func helpers() {
        #expect(XLSXWriter.columnName(0) == "A")
        #expect(XLSXWriter.columnName(25) == "Z")
        #expect(XLSXWriter.columnName(26) == "AA")
        #expect(XLSXWriter.columnName(16383) == "XFD")
        #expect(XLSXWriter.numberText(12) == "12")
        #expect(XLSXWriter.numberText(-0.0) == "0")
        #expect(XLSXWriter.numberText(1234.5) == "1234.5")
        #expect(XMLText.escape("a&b<c>\"d\"", attribute: true) == "a&amp;b&lt;c&gt;&quot;d&quot;")
        #expect(XMLText.escape("x\u{0}\u{8}y\u{FFFF}", attribute: false) == "xy")
        #expect(XMLText.cellText("_x0041_") == "_x005F_x0041_")
        #expect(XLSXText.unescape("_x005F_x0041_") == "_x0041_")
        #expect(XLSXText.unescape("A_x000D_B") == "A\rB")
        #expect(XLSXWriter.quotedSheetName("it's") == "'it''s'")
    }

    @Test func tenThousandRows() throws {
        var rows: [[XLSXCell]] = []
        rows.reserveCapacity(10_000)
        for i in 0..<10_000 {
            var r: [XLSXCell] = [.text("9133078400000\(i)"), .text("企业\(i % 500)")]
            for c in 0..<15 { r.append(.number(Double(i * 15 + c) / 4)) }
            rows.append(r)
        }
        var w = XLSXWriter()
        w.addSheet(name: "数据", headers: (1...17).map { "列\($0)" }, rows: rows)
        let start = Date()
        let data = try w.data()
        let t = try XLSXTable(data: data)
        let elapsed = Date().timeIntervalSince(start)
        let read = try allRows(t)
        #expect(read.count == 10_000)
        #expect(read.last?.0 == 10_001)
        #expect(read.last?.1[16] == XLSXWriter.numberText(Double(9_999 * 15 + 14) / 4))
        #expect(elapsed < 60)
    }

    // MARK: - Reading real and hand-made workbooks

    @Test func openpyxlFixture() throws {
        // Made with openpyxl 3.1.5; since openpyxl writes inline strings only, three cells were
        // moved into a shared-string table (one plain, one rich text with a phonetic guide).
        let t = try XLSXTable(url: fixturesDirectory.appendingPathComponent("openpyxl-sample.xlsx"))
        #expect(t.sheetName == "企业数据")
        #expect(t.headers == ["统一社会信用代码", "企业名称", "用地面积（亩）", "评价税收(万元)", "备注"])
        let rows = try allRows(t)
        #expect(rows.map(\.0) == [2, 3, 5, 7, 8])
        #expect(rows[0].1 == ["91330784MA2EXAMPLE", "永康市示范五金有限公司", "12.5", "1234", "共享字符串"])
        #expect(rows[1].1 == ["91330784MA2EXAMPL2", "共享字符串", "", "-3.25"])
        #expect(rows[2].1 == ["91330784MA2EXAMPL3", "浙江某某科技股份有限公司", "0", "0.001", "末尾"])
        #expect(rows[3].1 == ["91330784MA2EXAMPL4", "", "7", "", "", "表头外"])
        #expect(rows[4].1 == ["日期行", "2024-03-15"])
        // The header matcher sees the full-width brackets as ordinary ones.
        let m = HeaderMatcher(headers: t.headers, fields: [FieldSpec(key: "land_mu", chinese: "用地面积(亩)", required: true)])
        #expect(m.index(of: "land_mu") == 2)
        #expect(m.missingRequired.isEmpty)
    }

    @Test(arguments: [false, true])
    func handMadeWorkbookFeatures(deflate: Bool) throws {
        let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        let pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
        let zip = makeZip([
            ("_rels/.rels", #"<Relationships xmlns="\#(pkg)"><Relationship Id="rId1" Type="\#(rel)/officeDocument" Target="/xl/wb.xml"/></Relationships>"#),
            ("xl/wb.xml", #"<x:workbook xmlns:x="\#(main)" xmlns:rel="\#(rel)"><x:workbookPr date1904="1"/><x:sheets><x:sheet name="Hidden" sheetId="3" state="hidden" rel:id="rId9"/><x:sheet name="数据" sheetId="1" rel:id="rId2"/><x:sheet name="Other" sheetId="2" rel:id="rId1"/></x:sheets></x:workbook>"#),
            ("xl/_rels/wb.xml.rels", #"<Relationships xmlns="\#(pkg)"><Relationship Id="rId1" Type="\#(rel)/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="\#(rel)/worksheet" Target="worksheets/data.xml"/><Relationship Id="rId9" Type="\#(rel)/worksheet" Target="worksheets/hidden.xml"/><Relationship Id="rId5" Type="\#(rel)/sharedStrings" Target="../xl/strings.xml"/><Relationship Id="rId6" Type="\#(rel)/styles" Target="styles.xml"/></Relationships>"#),
            ("xl/strings.xml", #"<x:sst xmlns:x="\#(main)"><x:si><x:t>名称</x:t></x:si><x:si><x:r><x:t>富</x:t></x:r><x:r><x:rPr/><x:t xml:space="preserve">文本 </x:t></x:r><x:rPh sb="0" eb="1"><x:t>ふ</x:t></x:rPh></x:si><x:si><x:t>A_x000D_B</x:t></x:si></x:sst>"#),
            ("xl/styles.xml", #"<styleSheet xmlns="\#(main)"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/m/d\ h:mm"/></numFmts><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="2"/></cellXfs></styleSheet>"#),
            ("xl/worksheets/data.xml", #"""
                <x:worksheet xmlns:x="\#(main)"><x:sheetData>
                <x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="inlineStr"><x:is><x:t>金额</x:t></x:is></x:c><x:c r="C1" t="str"><x:f>"公"&amp;"式"</x:f><x:v>公式</x:v></x:c><x:c r="D1" t="s"><x:v>1</x:v></x:c><x:c r="E1" t="s"><x:v>2</x:v></x:c></x:row>
                <x:row r="3"><x:c t="b"><x:v>1</x:v></x:c><x:c><x:v>1234.50</x:v></x:c><x:c t="e"><x:v>#N/A</x:v></x:c><x:c r="F3" s="1"><x:v>0</x:v></x:c><x:c r="G3" s="2"><x:v>1.5</x:v></x:c></x:row>
                <x:row><x:c r="B4" s="3"><x:v>7</x:v></x:c><x:c r="C4"><x:f>SUM(B4)</x:f></x:c></x:row>
                <x:row r="10"><x:c r="A10"/></x:row>
                <x:row r="11"><x:c r="AA11" t="inlineStr"><x:is><x:t>far</x:t></x:is></x:c></x:row>
                </x:sheetData></x:worksheet>
                """#),
            ("xl/worksheets/sheet1.xml", #"<worksheet xmlns="\#(main)"><sheetData><row r="1"><c t="inlineStr"><is><t>WRONG</t></is></c></row></sheetData></worksheet>"#),
            ("xl/worksheets/hidden.xml", #"<worksheet xmlns="\#(main)"><sheetData><row r="1"><c t="inlineStr"><is><t>HIDDEN</t></is></c></row></sheetData></worksheet>"#),
        ], deflate: deflate)
        let t = try XLSXTable(data: zip)
        #expect(t.sheetName == "数据")
        #expect(t.headers == ["名称", "金额", "公式", "富文本 ", "A\rB"])
        let rows = try allRows(t)
        #expect(rows.map(\.0) == [3, 4, 11])
        #expect(rows[0].1 == ["TRUE", "1234.50", "#N/A", "", "", "1904-01-01", "1904-01-02 12:00:00"])
        #expect(rows[1].1 == ["", "7"])
        #expect(rows[2].1.count == 27 && rows[2].1[26] == "far" && rows[2].1[0].isEmpty)
    }

    @Test func excelDates() {
        #expect(XLSXDateKind(builtinID: 14) == .date)
        #expect(XLSXDateKind(builtinID: 22) == .dateTime)
        #expect(XLSXDateKind(builtinID: 2) == nil)
        #expect(XLSXDateKind(formatCode: "0.00") == nil)
        #expect(XLSXDateKind(formatCode: "#,##0.00\"万元\"") == nil)
        #expect(XLSXDateKind(formatCode: "General") == nil)
        #expect(XLSXDateKind(formatCode: "0.00E+00") == nil)
        #expect(XLSXDateKind(formatCode: "[$-F800]dddd, mmmm dd, yyyy") == .date)
        #expect(XLSXDateKind(formatCode: "yyyy\"年\"m\"月\"d\"日\"") == .date)
        #expect(XLSXDateKind(formatCode: "[h]:mm:ss") == .time)
        #expect(XLSXDateKind.date.format(serial: 45366, date1904: false) == "2024-03-15")
        #expect(XLSXDateKind.date.format(serial: 1, date1904: false) == "1900-01-01")
        #expect(XLSXDateKind.date.format(serial: 61, date1904: false) == "1900-03-01")
        #expect(XLSXDateKind.time.format(serial: 0.75, date1904: false) == "18:00:00")
    }

    // MARK: - Broken workbooks

    static func expectInvalidWorkbook(_ data: Data, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try XLSXTable(data: data)
            Issue.record("expected ImportFailure", sourceLocation: sourceLocation)
        } catch {
            #expect(message(error).contains("不是有效的 Excel 工作簿"), sourceLocation: sourceLocation)
            #expect(message(error).contains("not a valid XLSX workbook"), sourceLocation: sourceLocation)
        }
    }

    @Test func randomBytesWithZipHeader() {
        var g = TestSeed.generator()
        for size in [4, 30, 100, 5000] {
            let bytes: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + (0..<size).map { _ in UInt8.random(in: 0...255, using: &g) }
            XLSXTests.expectInvalidWorkbook(Data(bytes))
        }
        XLSXTests.expectInvalidWorkbook(Data())
        XLSXTests.expectInvalidWorkbook(Data("not a zip at all".utf8))
    }

    @Test func truncatedWorkbooks() throws {
        let good = try XLSXTests.sampleWorkbook().data()
        for length in stride(from: 0, to: good.count - 1, by: max(1, good.count / 97)) {
            XLSXTests.expectInvalidWorkbook(good.prefix(length))
        }
        XLSXTests.expectInvalidWorkbook(good.dropLast())
    }

    @Test func corruptedBytesNeverCrash() throws {
        let good = try XLSXTests.sampleWorkbook().data()
        var g = TestSeed.generator()
        var failures = 0
        for _ in 0..<300 {
            var bytes = [UInt8](good)
            for _ in 0..<Int.random(in: 1...4, using: &g) {
                bytes[Int.random(in: 0..<bytes.count, using: &g)] = UInt8.random(in: 0...255, using: &g)
            }
            // Either still readable (a harmless byte changed) or an ImportFailure; never a crash.
            do { _ = try XLSXTable(data: Data(bytes)) } catch { failures += 1; #expect(!error.errors.isEmpty) }
        }
        #expect(failures > 0)
    }

    @Test func cutDeflateStreamAndBadChecksums() {
        let xml = Array(#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>"#.utf8)
        // A deflate stream that stops after a non-final block: the inflater wants more input
        // than the entry has (ZIPFoundation's own extraction would spin forever on Linux).
        let cut = deflateStored(Array(xml.prefix(10)), final: false)
        XLSXTests.expectInvalidWorkbook(makeRawZip([
            RawZipEntry(name: "xl/workbook.xml", method: 8, payload: cut, crc: zipCRC32(xml), uncompressedSize: xml.count),
        ]))
        // Wrong CRC, wrong size, unknown compression method.
        XLSXTests.expectInvalidWorkbook(makeRawZip([
            RawZipEntry(name: "xl/workbook.xml", method: 8, payload: deflateStored(xml), crc: 1234, uncompressedSize: xml.count),
        ]))
        XLSXTests.expectInvalidWorkbook(makeRawZip([
            RawZipEntry(name: "xl/workbook.xml", method: 0, payload: xml, crc: zipCRC32(xml), uncompressedSize: xml.count + 1),
        ]))
        XLSXTests.expectInvalidWorkbook(makeRawZip([
            RawZipEntry(name: "xl/workbook.xml", method: 14, payload: xml, crc: zipCRC32(xml), uncompressedSize: xml.count),
        ]))
        // A deflated part that inflates to more than its declared size.
        XLSXTests.expectInvalidWorkbook(makeRawZip([
            RawZipEntry(name: "xl/workbook.xml", method: 8, payload: deflateStored(xml + xml), crc: zipCRC32(xml), uncompressedSize: xml.count),
        ]))
    }

    @Test func zipWithoutWorkbook() {
        XLSXTests.expectInvalidWorkbook(makeZip([("hello.txt", "你好")]))
        XLSXTests.expectInvalidWorkbook(makeZip([]))
    }

    @Test func damagedWorksheetXML() {
        let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        let zip = makeZip([
            ("xl/workbook.xml", #"<workbook xmlns="\#(main)" xmlns:r="\#(rel)"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
            ("xl/_rels/workbook.xml.rels", #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="\#(rel)/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#),
            ("xl/worksheets/sheet1.xml", #"<worksheet xmlns="\#(main)"><sheetData><row r="1"><c><v>1</v></row></sheetData>"#),
        ])
        XLSXTests.expectInvalidWorkbook(zip)
        // A missing worksheet part, and a dangling relationship id.
        XLSXTests.expectInvalidWorkbook(makeZip([
            ("xl/workbook.xml", #"<workbook xmlns="\#(main)" xmlns:r="\#(rel)"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
            ("xl/_rels/workbook.xml.rels", #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="\#(rel)/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#),
        ]))
        XLSXTests.expectInvalidWorkbook(makeZip([
            ("xl/workbook.xml", #"<workbook xmlns="\#(main)" xmlns:r="\#(rel)"><sheets><sheet name="S" sheetId="1" r:id="rId7"/></sheets></workbook>"#),
        ]))
    }

    @Test func emptyWorksheetHasNoHeader() throws {
        var w = XLSXWriter()
        w.addSheet(name: "空", headers: [], rows: [])
        do {
            _ = try XLSXTable(data: try w.data())
            Issue.record("expected an error")
        } catch let f as ImportFailure {
            #expect(message(f).contains("header row"))
        }
    }

    // MARK: - openpyxl reads what we write

    @Test(.enabled(if: openpyxlAvailable, "python3 with openpyxl is not installed"))
    func openpyxlReadsWriterOutput() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-\(UUID().uuidString).xlsx")
        defer { try? FileManager.default.removeItem(at: url) }
        try XLSXTests.sampleWorkbook().write(to: url)
        let script = """
            import json, sys, openpyxl
            wb = openpyxl.load_workbook(sys.argv[1])
            ws = wb.worksheets[0]
            print(json.dumps({
              "sheets": wb.sheetnames,
              "values": [[c.value for c in row] for row in ws.iter_rows()],
              "types": [ws["C2"].data_type, ws["A2"].data_type],
              "freeze": ws.freeze_panes,
              "filter": ws.auto_filter.ref,
              "titles": ws.print_title_rows,
              "orientation": ws.page_setup.orientation,
              "fitToWidth": ws.page_setup.fitToWidth,
              "fitToPage": ws.sheet_properties.pageSetUpPr.fitToPage,
              "widthA": ws.column_dimensions["A"].width,
              "bold": ws["A1"].font.b,
              "fill": ws["A1"].fill.fgColor.rgb,
              "formatC": ws["C2"].number_format,
              "formatD": ws["D2"].number_format,
            }, ensure_ascii=False))
            """
        let out = try #require(runPython(script, [url.path]))
        let json = try #require(try JSONSerialization.jsonObject(with: out) as? [String: Any])
        #expect(json["sheets"] as? [String] == ["企业_数据_2024", "忽略"])
        let values = try #require(json["values"] as? [[Any]])
        #expect(values.count == 6)
        #expect(values[0].compactMap { $0 as? String } == XLSXTests.headers)
        #expect(values[1][1] as? String == "永康 & <五金> \"有限\" '公司'")
        #expect((values[1][2] as? NSNumber)?.doubleValue == 12.5)
        #expect((values[1][3] as? NSNumber)?.doubleValue == 1234)
        #expect(values[2][0] as? String == "  前后空格 ")
        #expect(values[2][4] as? String == "多行\n文本")
        #expect(values[4][1] as? String == "_x000D_ literal")
        #expect(json["types"] as? [String] == ["n", "s"])
        #expect(json["freeze"] as? String == "A2")
        #expect(json["filter"] as? String == "A1:E6")
        #expect(json["titles"] as? String == "$1:$1")
        #expect(json["orientation"] as? String == "landscape")
        #expect((json["fitToWidth"] as? NSNumber)?.intValue == 1)
        #expect(json["fitToPage"] as? Bool == true)
        #expect((json["widthA"] as? NSNumber)?.doubleValue == 24)
        #expect(json["bold"] as? Bool == true)
        #expect(json["fill"] as? String == "FFDDEBF7")
        #expect(json["formatC"] as? String == "0.00")
        #expect(json["formatD"] as? String == "#,##0.00")
    }
}
