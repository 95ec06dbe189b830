import Foundation
import Testing
@testable import MujunCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Helpers

/// Encodes `s` as GB18030 with iconv (the same converter family the reader uses).
func gb18030Bytes(_ s: String) -> [UInt8] {
    let cd = iconv_open("GB18030", "UTF-8")
    precondition(cd != UnsafeMutableRawPointer(bitPattern: -1), "iconv has no GB18030")
    defer { iconv_close(cd) }
    var input = Array(s.utf8)
    var output = [UInt8](repeating: 0, count: input.count * 2 + 16)
    let produced = input.withUnsafeMutableBufferPointer { inBuf -> Int in
        output.withUnsafeMutableBufferPointer { outBuf -> Int in
            var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
            var inLeft = inBuf.count
            var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
            var outLeft = outBuf.count
            let rc = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
            precondition(rc != -1, "iconv failed")
            return outBuf.count - outLeft
        }
    }
    return Array(output.prefix(produced))
}

/// All rows of a table as (row number, cells).
func allRows(_ t: any TableSource) throws -> [(Int, [String])] {
    var out: [(Int, [String])] = []
    try t.forEachRow { out.append(($0, $1)) }
    return out
}

func csv(_ text: String, encoding: TextEncodingChoice? = nil) throws(ImportFailure) -> CSVTable {
    try CSVTable(data: Data(text.utf8), encoding: encoding)
}

/// The whole-file message of an ImportFailure, both languages.
func message(_ f: ImportFailure) -> String {
    f.errors.map { $0.messageZh + " / " + $0.messageEn }.joined(separator: "\n")
}

// MARK: - CSV structure

@Suite("CSV reader")
struct CSVReaderTests {
    @Test func quotingEdgeCases() throws {
        let t = try csv("名称,备注,金额\r\n\"a,b\",\"he said \"\"hi\"\"\",1\r\n\"multi\nline\",x,2\r\n\"\",\"\"\"\",3\r\n")
        #expect(t.headers == ["名称", "备注", "金额"])
        let rows = try allRows(t)
        #expect(rows.count == 3)
        #expect(rows[0].0 == 2 && rows[0].1 == ["a,b", "he said \"hi\"", "1"])
        #expect(rows[1].0 == 3 && rows[1].1 == ["multi\nline", "x", "2"])
        // A line break inside quotes does not start a new spreadsheet row.
        #expect(rows[2].0 == 4 && rows[2].1 == ["", "\"", "3"])
    }

    @Test func quotedCRLFInsideCellIsKept() throws {
        let rows = try allRows(try csv("a,b\r\n\"x\r\ny\",z\r\nlast,1"))
        #expect(rows.map(\.0) == [2, 3])
        #expect(rows[0].1 == ["x\r\ny", "z"])
        #expect(rows[1].1 == ["last", "1"])
    }

    @Test func lenientStrayQuotes() throws {
        // A quote inside an unquoted cell is literal; text after a closing quote is kept (as Excel does).
        let rows = try allRows(try csv("a,b\nab\"c,\"xy\"z\n"))
        #expect(rows[0].1 == ["ab\"c", "xyz"])
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func lineEnds(_ eol: String) throws {
        let text = ["h1,h2", "1,2", "", "3,4", ""].joined(separator: eol)
        let t = try csv(text)
        #expect(t.headers == ["h1", "h2"])
        let rows = try allRows(t)
        // The empty line (row 3) is skipped but still counted; the trailing line end adds nothing.
        #expect(rows.map(\.0) == [2, 4])
        #expect(rows.map(\.1) == [["1", "2"], ["3", "4"]])
    }

    @Test func trailingCommasAndEmptyRows() throws {
        let t = try csv("a,b,c,,\n1,,3\n,,\n , ,\n4,5,\n")
        #expect(t.headers == ["a", "b", "c"])  // trailing empty header cells dropped
        let rows = try allRows(t)
        #expect(rows.map(\.0) == [2, 4, 5])  // ",," is an empty row; " , ," is not
        #expect(rows[0].1 == ["1", "", "3"])
        #expect(rows[1].1 == [" ", " ", ""])
        #expect(rows[2].1 == ["4", "5", ""])
    }

    @Test func noTrailingNewlineAndRepeatableIteration() throws {
        let t = try csv("k\nv1\nv2")
        #expect(try allRows(t).map(\.1) == [["v1"], ["v2"]])
        #expect(try allRows(t).map(\.1) == [["v1"], ["v2"]])
    }

    @Test func headerAfterLeadingEmptyLines() throws {
        let t = try csv("\n\na,b\n1,2\n")
        #expect(t.headers == ["a", "b"])
        #expect(t.headerRow == 3)
        #expect(try allRows(t).map(\.0) == [4])
    }

    @Test func unclosedQuoteIsAnError() throws {
        let t = try csv("a,b\n1,2\n\"open,3\n4,5\n")
        do {
            try t.forEachRow { _, _ in }
            Issue.record("expected an error")
        } catch let f as ImportFailure {
            #expect(f.errors.first?.row == 3)
            #expect(f.description.contains("第 3 行"))
            #expect(f.description.contains("row 3"))
            #expect(message(f).contains("unclosed quote"))
        }
    }

    @Test func emptyFilesHaveNoHeader() throws {
        for text in ["", "\u{FEFF}", "\n\n\r\n", ",,,\n"] {
            #expect(throws: ImportFailure.self) { try csv(text) }
            do { _ = try csv(text) } catch {
                #expect(message(error).contains("header row"))
                #expect(message(error).contains("表头"))
            }
        }
    }

    @Test func tabSeparatedText() throws {
        let t = try csv("企业名称\t用地面积(亩)\r\n甲公司\t1,234.5\r\n\"乙\t公司\"\t2\r\n")
        #expect(t.separator == "\t")
        #expect(t.headers == ["企业名称", "用地面积(亩)"])
        #expect(try allRows(t).map(\.1) == [["甲公司", "1,234.5"], ["乙\t公司", "2"]])
        // A comma in the header keeps the comma separator even when cells hold tabs.
        let c = try csv("a,b\n1\t2,3\n")
        #expect(c.separator == ",")
        #expect(try allRows(c).map(\.1) == [["1\t2", "3"]])
    }

    @Test func errorsFromTheBodyPropagate() throws {
        struct Stop: Error {}
        let t = try csv("a\n1\n2\n")
        var seen = 0
        #expect(throws: Stop.self) {
            try t.forEachRow { _, _ in seen += 1; throw Stop() }
        }
        #expect(seen == 1)
    }
}

// MARK: - Encodings

@Suite("CSV encodings")
struct CSVEncodingTests {
    let sample = "统一社会信用代码,企业名称,用地面积（亩）\r\n91330784MA2EXAMPLE,\"永康市示范五金有限公司，二厂\",12.5\r\n"

    @Test func utf8WithoutBOM() throws {
        let t = try CSVTable(data: Data(sample.utf8))
        #expect(t.encoding == .utf8)
        #expect(t.headers == ["统一社会信用代码", "企业名称", "用地面积（亩）"])
        #expect(try allRows(t)[0].1[1] == "永康市示范五金有限公司，二厂")
    }

    @Test func utf8WithBOM() throws {
        let t = try CSVTable(data: Data([0xEF, 0xBB, 0xBF] + Array(sample.utf8)))
        #expect(t.encoding == .utf8)
        #expect(t.headers.first == "统一社会信用代码")  // no BOM left in the first header
        let forced = try CSVTable(data: Data([0xEF, 0xBB, 0xBF] + Array(sample.utf8)), encoding: .utf8)
        #expect(forced.headers == t.headers)
    }

    @Test func gbkLiteralBytes() throws {
        // "企业名称" in GBK, then ",x\r\n" and a data row "是,1" (是 = CA C7).
        let bytes: [UInt8] = [0xC6, 0xF3, 0xD2, 0xB5, 0xC3, 0xFB, 0xB3, 0xC6, 0x2C, 0x78, 0x0D, 0x0A,
                              0xCA, 0xC7, 0x2C, 0x31, 0x0D, 0x0A]
        #expect(CSVTable.detectEncoding(bytes) == .gb18030)
        #expect(CSVTable.detectEncoding(Data(bytes)) == .gb18030)
        let t = try CSVTable(data: Data(bytes))
        #expect(t.encoding == .gb18030)
        #expect(t.headers == ["企业名称", "x"])
        #expect(try allRows(t).map(\.1) == [["是", "1"]])
    }

    @Test func gb18030ViaIconv() throws {
        // Includes a four-byte GB18030 character (𠀀, U+20000) and the euro sign.
        let text = sample + "9133,𠀀€,3\r\n"
        let bytes = gb18030Bytes(text)
        #expect(bytes.count < Array(text.utf8).count)
        let auto = try CSVTable(data: Data(bytes))
        #expect(auto.encoding == .gb18030)
        #expect(auto.headers == ["统一社会信用代码", "企业名称", "用地面积（亩）"])
        let rows = try allRows(auto)
        #expect(rows.map(\.1) == [["91330784MA2EXAMPLE", "永康市示范五金有限公司，二厂", "12.5"], ["9133", "𠀀€", "3"]])
        let forced = try CSVTable(data: Data(bytes), encoding: .gb18030)
        #expect(try allRows(forced).map(\.1) == rows.map(\.1))
    }

    @Test func gb18030SplitAcrossChunks() throws {
        let text = String(repeating: "企业名称𠀀a,", count: 50)
        let bytes = gb18030Bytes(text)
        for chunk in [1, 4, 5, 7, 13, 64] {
            let out = try bytes.withUnsafeBufferPointer { try CSVTable.convertGB18030($0, chunk: chunk) }
            #expect(String(decoding: out, as: UTF8.self) == text, "chunk \(chunk)")
        }
    }

    @Test func asciiIsUTF8() {
        #expect(CSVTable.detectEncoding(Array("a,b\n1,2\n".utf8)) == .utf8)
        #expect(CSVTable.detectEncoding(Data()) == .utf8)
    }

    @Test func forcedUTF8OnGBKNamesTheEncodingAndRow() throws {
        let bytes = Array("name,x\r\nabc,1\r\n".utf8) + gb18030Bytes("永康,2\r\n")
        do {
            _ = try CSVTable(data: Data(bytes), encoding: .utf8)
            Issue.record("expected an encoding error")
        } catch {
            let m = message(error)
            #expect(m.contains("UTF-8"))
            #expect(m.contains("第 3 行"))
            #expect(m.contains("row 3"))
            #expect(m.contains("gb18030"))  // the hint to use --encoding gb18030
        }
    }

    @Test func invalidGB18030NamesTheEncoding() throws {
        // 0xFF is never valid in GB18030; the file is not UTF-8 either, so it is detected as GB18030.
        let bytes = Array("a,b\n1,2\nx,".utf8) + [0xFF, 0xFE, 0x41] + Array("\n".utf8)
        for enc in [nil, TextEncodingChoice.gb18030] {
            do {
                _ = try CSVTable(data: Data(bytes), encoding: enc)
                Issue.record("expected an encoding error")
            } catch {
                let m = message(error)
                #expect(m.contains("GB18030"))
                #expect(m.contains("row 3"))
            }
        }
    }

    @Test func damagedUTF8IsNotMistakenForGBK() throws {
        // A UTF-8 file cut in the middle of its last character.
        let cut = Array("企业名称,备注\n永康市示范五金有限公司,好".utf8).dropLast()
        do {
            _ = try CSVTable(data: Data(cut))
            Issue.record("expected an error")
        } catch {
            #expect(message(error).contains("looks like UTF-8"))
            #expect(message(error).contains("--encoding gb18030"))
        }
        // Mostly UTF-8 with one stray GBK word.
        let mixed = Array(String(repeating: "企业名称,用地面积\n", count: 10).utf8) + gb18030Bytes("永康,1\n")
        #expect(throws: ImportFailure.self) { try CSVTable(data: Data(mixed)) }
        // Forcing GB18030 is still possible.
        #expect(try CSVTable(data: Data(mixed), encoding: .gb18030).encoding == .gb18030)
        // Real GBK text is far from that threshold.
        let gbk = gb18030Bytes(String(repeating: "统一社会信用代码,企业名称,所属镇街,用地面积（亩）\n", count: 50))
        #expect(try CSVTable(data: Data(gbk)).encoding == .gb18030)
    }

    @Test func truncatedGB18030Character() throws {
        let bytes = gb18030Bytes("a,b\n1,企").dropLast()
        #expect(throws: ImportFailure.self) { try CSVTable(data: Data(bytes)) }
    }

    @Test func gb18030ForcedOnUTF8BOMFileIsRefused() throws {
        let data = Data([0xEF, 0xBB, 0xBF] + Array("企业名称\n".utf8))
        do {
            _ = try CSVTable(data: data, encoding: .gb18030)
            Issue.record("expected an error")
        } catch {
            #expect(message(error).contains("BOM"))
        }
    }

    @Test func binaryFilesAreRefused() throws {
        var bytes: [UInt8] = Array("a,b\n".utf8)
        bytes += [0x00, 0x01, 0x02, 0x9F, 0x00]
        #expect(throws: ImportFailure.self) { try CSVTable(data: Data(bytes)) }
        // UTF-16 ("Unicode text" from Excel).
        do {
            _ = try CSVTable(data: Data([0xFF, 0xFE, 0x61, 0x00]))
            Issue.record("expected an error")
        } catch {
            #expect(message(error).contains("UTF-16"))
        }
    }

    @Test func utf8Validator() {
        func bad(_ b: [UInt8]) -> Int? { b.withUnsafeBufferPointer { CSVTable.firstInvalidUTF8($0) } }
        #expect(bad(Array("plain ascii text that is longer than eight bytes".utf8)) == nil)
        #expect(bad(Array("中文 ✓ 𠀀 é".utf8)) == nil)
        #expect(bad([0x61, 0xC0, 0x80]) == 1)  // overlong
        #expect(bad([0xED, 0xA0, 0x80]) == 0)  // surrogate
        #expect(bad([0xF4, 0x90, 0x80, 0x80]) == 0)  // > U+10FFFF
        #expect(bad(Array("abcdefgh".utf8) + [0xE4, 0xB8]) == 8)  // truncated
        #expect(bad([0x80]) == 0)
    }
}

// MARK: - TableReader

@Suite("TableReader")
struct TableReaderTests {
    func removeTemp(_ url: URL) {
        try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
    }

    func temp(_ name: String, _ data: Data) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-import-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    @Test func opensCSVAndXLSXByContent() throws {
        let csvURL = try temp("数据.csv", Data(gb18030Bytes("企业名称,用地面积(亩)\n甲,1\n")))
        defer { removeTemp(csvURL) }
        let c = try TableReader.open(url: csvURL)
        #expect(c is CSVTable)
        #expect(c.headers == ["企业名称", "用地面积(亩)"])

        var w = XLSXWriter()
        w.addSheet(name: "S", headers: ["企业名称"], rows: [[.text("乙")]])
        // An .xlsx saved under another name is still recognised by its ZIP signature.
        let xURL = try temp("export.dat", try w.data())
        defer { removeTemp(xURL) }
        let x = try TableReader.open(url: xURL)
        #expect(x is XLSXTable)
        #expect(try allRows(x).map(\.1) == [["乙"]])
    }

    @Test func forcedEncodingIsPassedToCSV() throws {
        let url = try temp("a.csv", Data(gb18030Bytes("企业名称\n甲\n")))
        defer { removeTemp(url) }
        #expect(throws: ImportFailure.self) { try TableReader.open(url: url, encoding: .utf8) }
    }

    @Test func missingFileAndFolder() throws {
        do {
            _ = try TableReader.open(url: URL(fileURLWithPath: "/nonexistent/没有.csv"))
            Issue.record("expected an error")
        } catch {
            #expect(message(error).contains("no such file"))
            #expect(error.errors.first?.row == 0)
        }
        let dir = FileManager.default.temporaryDirectory
        #expect(throws: ImportFailure.self) { try TableReader.open(url: dir) }
    }

    @Test func xlsxExtensionWithTextContent() throws {
        let url = try temp("fake.xlsx", Data("a,b\n".utf8))
        defer { removeTemp(url) }
        do {
            _ = try TableReader.open(url: url)
            Issue.record("expected an error")
        } catch {
            #expect(message(error).contains("not a valid XLSX workbook"))
        }
    }

    @Test func htmlSavedAsXLSIsRefused() throws {
        let url = try temp("导出.xls", Data("\u{FEFF}<html><body><table><tr><td>企业名称</td></tr></table></body></html>".utf8))
        defer { removeTemp(url) }
        do {
            _ = try TableReader.open(url: url)
            Issue.record("expected an error")
        } catch {
            #expect(message(error).contains("HTML"))
        }
    }

    @Test func legacyXLSIsRefused() throws {
        let url = try temp("old.xls", Data([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0]))
        defer { removeTemp(url) }
        do {
            _ = try TableReader.open(url: url)
            Issue.record("expected an error")
        } catch {
            #expect(message(error).contains(".xls"))
        }
    }
}

// MARK: - Header matching

@Suite("HeaderMatcher")
struct HeaderMatcherTests {
    let fields = [
        FieldSpec(key: "credit_code", chinese: "统一社会信用代码", required: true),
        FieldSpec(key: "name", chinese: "企业名称", required: true),
        FieldSpec(key: "land_mu", chinese: "用地面积(亩)", required: true),
        FieldSpec(key: "tax", chinese: "评价税收(万元)"),
        FieldSpec(key: "veto", chinese: "一票否决"),
    ]

    @Test func matchesChineseWithFullWidthBracketsAndSpaces() {
        let m = HeaderMatcher(headers: ["\u{3000}统一社会信用代码 ", "企业 名称", "用地面积（亩）", "备注", "评价税收（万元）"],
                              fields: fields)
        #expect(m.index(of: "credit_code") == 0)
        #expect(m.index(of: "name") == 1)
        #expect(m.index(of: "land_mu") == 2)
        #expect(m.index(of: "tax") == 4)
        #expect(m.index(of: "veto") == nil)
        #expect(m.missingRequired.isEmpty)
        // The header as written in the file (trimmed), for error messages.
        #expect(m.header(of: "land_mu") == "用地面积（亩）")
        // Fallback to the template's Chinese name when the column is absent.
        #expect(m.header(of: "veto") == "一票否决")
    }

    @Test func matchesEnglishKeysCaseInsensitively() {
        let m = HeaderMatcher(headers: ["CREDIT_CODE", "Name", " Land Mu ", "ｔａｘ"], fields: fields)
        #expect(m.index(of: "credit_code") == 0)
        #expect(m.index(of: "name") == 1)
        #expect(m.index(of: "land_mu") == 2)
        #expect(m.index(of: "tax") == 3)
        #expect(m.header(of: "name") == "Name")
    }

    @Test func lineBreaksInsideHeaderCells() {
        let m = HeaderMatcher(headers: ["用地面积\n(亩)"], fields: fields)
        #expect(m.index(of: "land_mu") == 0)
    }

    @Test func missingRequiredAndUnknownColumns() throws {
        let m = HeaderMatcher(headers: ["企业名称", "不认识的列", "其他"], fields: fields)
        #expect(m.missingRequired.map(\.key) == ["credit_code", "land_mu"])
        #expect(m.index(of: "other") == nil)
        #expect(throws: ImportFailure.self) { try m.checkRequired() }
        do { try m.checkRequired() } catch {
            #expect(error.errors.count == 2)
            #expect(error.errors[0].column == "统一社会信用代码")
        }
    }

    @Test func duplicateColumnsUseTheFirst() {
        let m = HeaderMatcher(headers: ["name", "企业名称"], fields: fields)
        #expect(m.index(of: "name") == 0)
        #expect(m.duplicates.map(\.key) == ["name"])
        #expect(m.value("name", in: ["甲", "乙"]) == "甲")
        #expect(m.value("tax", in: ["甲"]) == "")
    }

    @Test func nestedTypeAlias() {
        let f: HeaderMatcher.FieldSpec = FieldSpec(key: "k", chinese: "中")
        #expect(f.required == false)
    }
}

// MARK: - Numbers

@Suite("Number parsing")
struct NumberParseTests {
    @Test(arguments: [
        ("0", 0.0), ("12", 12), ("-3.25", -3.25), ("+7", 7), (" 1,234.5 ", 1234.5),
        ("1,234,567", 1_234_567), ("-1,000", -1000), (".5", 0.5), ("5.", 5), ("1e3", 1000),
        ("1.5E-2", 0.015), ("2e+2", 200), ("１２３．５", 123.5), ("－５", -5), ("１，２３４", 1234),
        ("\u{3000}42\u{3000}", 42), ("\u{2212}8", -8), ("0.001", 0.001), ("007", 7),
    ])
    func accepts(_ text: String, _ value: Double) {
        #expect(HeaderMatcher.parseNumber(text) == .value(value), "\(text)")
        #expect(TableReader.parseNumber(text) == .value(value))
    }

    @Test(arguments: ["abc", "1.2.3", "NaN", "nan", "inf", "-Infinity", "1,5", "12,34", "1,2345",
                      ",123", "1e", "e5", "+", "-", ".", "0x1F", "12%", "¥12", "1 234", "1e400", "--1", "1-"])
    func rejects(_ text: String) {
        #expect(HeaderMatcher.parseNumber(text) == .invalid, "\(text)")
    }

    @Test(arguments: ["", " ", "\u{3000}", "\t\n"])
    func empty(_ text: String) {
        #expect(HeaderMatcher.parseNumber(text) == .empty)
    }
}
