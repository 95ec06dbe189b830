import Foundation
import ZIPFoundation

/// One cell of a sheet written by ``XLSXWriter``.
public enum XLSXCell: Sendable, Equatable {
    /// Text, written as a shared string.
    case text(String)
    /// A number, written as a real numeric cell (NaN and infinities are written as empty cells).
    case number(Double)
    /// No cell.
    case empty
}

/// Writes an Excel workbook (Excel 工作簿, .xlsx) with one or more sheets, each with a bold,
/// shaded, frozen header row with an autofilter, column widths, numeric cells with optional
/// number formats, and a page setup for printing (A4 landscape, fit to one page wide, the
/// header row repeated on every page, page numbers in the footer).
///
/// The XML is built as text, so 10,000+ rows are written quickly; the package is deflated
/// with ZIPFoundation. The output opens in Excel, WPS, LibreOffice and openpyxl.
public struct XLSXWriter: Sendable {
    struct Sheet: Sendable {
        var name: String
        var headers: [String]
        var rows: [[XLSXCell]]
        var columnWidths: [Double]?
        var numberFormats: [String?]?
    }

    private(set) var sheets: [Sheet] = []
    /// The time written into the package (entries and document properties); nil = now. An issued
    /// document sets its issue time, so that writing it again gives the same bytes.
    public var timestamp: Date?

    public init() {}

    /// The sheet names as they will be written (after sanitising), in order.
    public var sheetNames: [String] { sheets.map(\.name) }

    /// Adds a sheet.
    /// - Parameters:
    ///   - name: the tab name; characters Excel forbids (`[]:*?/\`) are replaced, it is cut
    ///     to 31 characters, and made unique within the workbook.
    ///   - headers: the header row (row 1).
    ///   - rows: data rows; rows may be shorter or longer than the header.
    ///   - columnWidths: widths in Excel character units; `nil` (or a missing entry) estimates
    ///     the width from the content (CJK characters count double).
    ///   - numberFormats: per column, an Excel number format for numeric cells such as
    ///     `"0.00"`, `"#,##0"` or `"0.0%"`; `nil` = General.
    public mutating func addSheet(name: String, headers: [String], rows: [[XLSXCell]],
                                  columnWidths: [Double]? = nil, numberFormats: [String?]? = nil) {
        let clean = XLSXWriter.sanitizeSheetName(name, existing: sheets.map(\.name), index: sheets.count + 1)
        sheets.append(Sheet(name: clean, headers: headers, rows: rows,
                            columnWidths: columnWidths, numberFormats: numberFormats))
    }

    /// Writes the workbook to `url`, replacing any existing file.
    public func write(to url: URL) throws {
        try data().write(to: url, options: .atomic)
    }

    /// The workbook as .xlsx bytes.
    public func data() throws -> Data {
        var sheets = self.sheets
        if sheets.isEmpty { sheets = [Sheet(name: "Sheet1", headers: [], rows: [], columnWidths: nil, numberFormats: nil)] }

        // Styles: 0 = default, 1 = header, 2… = one per distinct number format.
        var formatIDs: [String: Int] = [:]  // format code → numFmtId
        var formatOrder: [String] = []
        for s in sheets {
            for f in s.numberFormats ?? [] {
                guard let f, !f.isEmpty, formatIDs[f] == nil else { continue }
                formatIDs[f] = 164 + formatOrder.count
                formatOrder.append(f)
            }
        }
        var shared = SharedStrings()
        // [Content_Types].xml first, as Office writes it.
        var parts: [(String, Data)] = [("[Content_Types].xml", Data(XLSXWriter.contentTypes(count: sheets.count).utf8))]
        for (i, s) in sheets.enumerated() {
            let xml = XLSXWriter.sheetXML(s, index: i, formatStyle: { code in
                guard let code, let id = formatIDs[code] else { return 0 }
                return 2 + (id - 164)
            }, shared: &shared)
            parts.append(("xl/worksheets/sheet\(i + 1).xml", Data(xml.utf8)))
        }
        parts.append(("xl/sharedStrings.xml", Data(shared.xml().utf8)))
        parts.append(("xl/styles.xml", Data(XLSXWriter.stylesXML(formats: formatOrder).utf8)))
        parts.append(("xl/workbook.xml", Data(XLSXWriter.workbookXML(sheets).utf8)))
        parts.append(("xl/_rels/workbook.xml.rels", Data(XLSXWriter.workbookRels(count: sheets.count).utf8)))
        parts.append(("_rels/.rels", Data(XLSXWriter.rootRels.utf8)))
        parts.append(("docProps/app.xml", Data(XLSXWriter.appXML(sheets).utf8)))
        let now = timestamp ?? Date()
        parts.append(("docProps/core.xml", Data(XLSXWriter.coreXML(now).utf8)))

        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, data) in parts {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count),
                                 modificationDate: now, compressionMethod: .deflate,
                                 bufferSize: 1 << 16) { position, size in
                let start = Int(position)
                return data.subdata(in: start..<min(start + size, data.count))
            }
        }
        guard let out = archive.data else {
            throw CocoaError(.fileWriteUnknown)
        }
        return out
    }

    // MARK: - Sheet names

    /// Makes `name` a valid, unique Excel sheet name.
    static func sanitizeSheetName(_ name: String, existing: [String], index: Int) -> String {
        var s = ""
        for u in name.unicodeScalars {
            if "[]:*?/\\".unicodeScalars.contains(u) { s.unicodeScalars.append("_") }
            else if u.value < 0x20 || !XMLText.isLegal(u) { continue }
            else { s.unicodeScalars.append(u) }
        }
        s = s.trimmingCharacters(in: .whitespaces)
        while s.hasPrefix("'") { s.removeFirst() }
        while s.hasSuffix("'") { s.removeLast() }
        if s.isEmpty || s.lowercased() == "history" { s = s.isEmpty ? "Sheet\(index)" : s + "_" }
        func cut(_ t: String, _ limit: Int) -> String {
            var out = ""
            for ch in t {
                if out.utf16.count + String(ch).utf16.count > limit { break }
                out.append(ch)
            }
            return out
        }
        s = cut(s, 31)
        let taken = Set(existing.map { $0.lowercased() })
        var candidate = s
        var n = 2
        while taken.contains(candidate.lowercased()) {
            let suffix = " (\(n))"
            candidate = cut(s, 31 - suffix.utf16.count) + suffix
            n += 1
        }
        return candidate
    }

    /// `'Sheet name'` as used in formulas and defined names.
    static func quotedSheetName(_ name: String) -> String {
        "'" + name.replacingOccurrences(of: "'", with: "''") + "'"
    }

    // MARK: - Cell references

    static func columnName(_ index: Int) -> String {
        var n = index + 1
        var out: [Character] = []
        while n > 0 {
            let r = (n - 1) % 26
            out.append(Character(Unicode.Scalar(UInt8(65 + r))))
            n = (n - 1) / 26
        }
        return String(out.reversed())
    }

    // MARK: - Parts

    private static func sheetXML(_ sheet: Sheet, index: Int, formatStyle: (String?) -> Int,
                                 shared: inout SharedStrings) -> String {
        let columnCount = max(sheet.headers.count, sheet.rows.map(\.count).max() ?? 0)
        let firstDataRow = sheet.headers.isEmpty ? 1 : 2
        let lastRow = max(sheet.rows.count + firstDataRow - 1, 1)
        let lastCol = columnName(max(columnCount, 1) - 1)
        let colNames = (0..<max(columnCount, 1)).map(columnName)
        let styleForColumn: [Int] = (0..<columnCount).map { c in
            formatStyle(c < (sheet.numberFormats?.count ?? 0) ? sheet.numberFormats![c] : nil)
        }

        var x = ""
        x.reserveCapacity(256 + sheet.rows.count * max(columnCount, 1) * 24)
        x += #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
        x += "\n"
        x += #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#
        x += #"<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>"#
        x += "<dimension ref=\"A1:\(lastCol)\(lastRow)\"/>"
        x += "<sheetViews><sheetView workbookViewId=\"0\"\(index == 0 ? " tabSelected=\"1\"" : "")>"
        if !sheet.headers.isEmpty {
            x += #"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
            x += #"<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>"#
        }
        x += "</sheetView></sheetViews>"
        x += #"<sheetFormatPr defaultRowHeight="15"/>"#
        if columnCount > 0 {
            x += "<cols>"
            for c in 0..<columnCount {
                var width: Double
                if let w = sheet.columnWidths, c < w.count, w[c].isFinite, w[c] > 0 {
                    width = min(w[c], 255)
                } else {
                    width = estimatedWidth(sheet, column: c)
                }
                width = (width * 100).rounded() / 100
                x += "<col min=\"\(c + 1)\" max=\"\(c + 1)\" width=\"\(width)\" customWidth=\"1\"/>"
            }
            x += "</cols>"
        }
        x += "<sheetData>"
        if !sheet.headers.isEmpty {
            x += #"<row r="1">"#
            for (c, h) in sheet.headers.enumerated() {
                x += "<c r=\"\(colNames[c])1\" s=\"1\" t=\"s\"><v>\(shared.index(h))</v></c>"
            }
            x += "</row>"
        }
        for (i, row) in sheet.rows.enumerated() {
            let r = i + firstDataRow
            x += "<row r=\"\(r)\">"
            for (c, cell) in row.enumerated() {
                switch cell {
                case .empty:
                    continue
                case .text(let t):
                    if t.isEmpty { continue }
                    x += "<c r=\""; x += colNames[c]; x += String(r); x += "\" t=\"s\"><v>"
                    x += String(shared.index(t)); x += "</v></c>"
                case .number(let v):
                    guard v.isFinite else { continue }
                    x += "<c r=\""; x += colNames[c]; x += String(r); x += "\""
                    let s = styleForColumn[c]
                    if s != 0 { x += " s=\""; x += String(s); x += "\"" }
                    x += "><v>"; x += numberText(v); x += "</v></c>"
                }
            }
            x += "</row>"
        }
        x += "</sheetData>"
        if !sheet.headers.isEmpty {
            x += "<autoFilter ref=\"A1:\(columnName(sheet.headers.count - 1))\(lastRow)\"/>"
        }
        x += #"<printOptions gridLines="1"/>"#
        x += #"<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>"#
        x += #"<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>"#
        x += "<headerFooter><oddFooter>&amp;C第 &amp;P 页，共 &amp;N 页 / Page &amp;P of &amp;N</oddFooter></headerFooter>"
        x += "</worksheet>"
        return x
    }

    /// The text of a number cell: integers without ".0", others in the shortest exact form.
    static func numberText(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 {
            return String(Int64(v))
        }
        return "\(v)"
    }

    /// A column width from the header and the first 1,000 rows, CJK characters counting double.
    private static func estimatedWidth(_ sheet: Sheet, column c: Int) -> Double {
        func width(_ s: String) -> Int {
            var w = 0
            for u in s.unicodeScalars {
                if u == "\n" { break }
                w += u.value >= 0x1100 && (u.properties.isIdeographic || (0xFF00...0xFFEF).contains(u.value)
                    || (0x3000...0x303F).contains(u.value)) ? 2 : 1
            }
            return w
        }
        var best = c < sheet.headers.count ? width(sheet.headers[c]) + 3 : 0  // room for the filter button
        for row in sheet.rows.prefix(1000) where c < row.count {
            switch row[c] {
            case .text(let t): best = max(best, width(t))
            case .number(let v): best = max(best, numberText(v).count + 2)
            case .empty: break
            }
        }
        return Double(min(max(best + 2, 8), 60))
    }

    private static func stylesXML(formats: [String]) -> String {
        var x = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
        x += "\n"
        x += #"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#
        if !formats.isEmpty {
            x += "<numFmts count=\"\(formats.count)\">"
            for (i, f) in formats.enumerated() {
                x += "<numFmt numFmtId=\"\(164 + i)\" formatCode=\"\(XMLText.escape(f, attribute: true))\"/>"
            }
            x += "</numFmts>"
        }
        x += #"<fonts count="2">"#
        x += #"<font><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/><scheme val="minor"/></font>"#
        x += #"<font><b/><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/><scheme val="minor"/></font>"#
        x += "</fonts>"
        x += #"<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>"#
        x += #"<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill></fills>"#
        x += #"<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>"#
        x += #"<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>"#
        x += #"<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>"#
        x += #"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#
        x += "<cellXfs count=\"\(2 + formats.count)\">"
        x += #"<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#
        x += #"<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1">"#
        x += #"<alignment horizontal="center" vertical="center" wrapText="1"/></xf>"#
        for i in formats.indices {
            x += "<xf numFmtId=\"\(164 + i)\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>"
        }
        x += "</cellXfs>"
        x += #"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#
        x += "</styleSheet>"
        return x
    }

    private static func workbookXML(_ sheets: [Sheet]) -> String {
        var x = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
        x += "\n"
        x += #"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#
        x += #"<workbookPr/><bookViews><workbookView activeTab="0"/></bookViews><sheets>"#
        for (i, s) in sheets.enumerated() {
            x += "<sheet name=\"\(XMLText.escape(s.name, attribute: true))\" sheetId=\"\(i + 1)\" r:id=\"rId\(i + 1)\"/>"
        }
        x += "</sheets>"
        var names = ""
        for (i, s) in sheets.enumerated() where !s.headers.isEmpty {
            let q = XMLText.escape(quotedSheetName(s.name), attribute: false)
            let lastCol = columnName(s.headers.count - 1)
            names += "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"\(i)\" hidden=\"1\">\(q)!$A$1:$\(lastCol)$\(s.rows.count + 1)</definedName>"
            names += "<definedName name=\"_xlnm.Print_Titles\" localSheetId=\"\(i)\">\(q)!$1:$1</definedName>"
        }
        if !names.isEmpty { x += "<definedNames>" + names + "</definedNames>" }
        x += "</workbook>"
        return x
    }

    private static func workbookRels(count: Int) -> String {
        var x = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
        x += "\n"
        x += #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
        for i in 1...count {
            x += "<Relationship Id=\"rId\(i)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\(i).xml\"/>"
        }
        x += "<Relationship Id=\"rId\(count + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>"
        x += "<Relationship Id=\"rId\(count + 2)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"
        x += "</Relationships>"
        return x
    }

    private static func contentTypes(count: Int) -> String {
        var x = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
        x += "\n"
        x += #"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#
        x += #"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#
        x += #"<Default Extension="xml" ContentType="application/xml"/>"#
        x += #"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
        for i in 1...count {
            x += "<Override PartName=\"/xl/worksheets/sheet\(i).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        }
        x += #"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#
        x += #"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>"#
        x += #"<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>"#
        x += #"<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>"#
        x += "</Types>"
        return x
    }

    private static let rootRels = #"""
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>
        """#

    private static func appXML(_ sheets: [Sheet]) -> String {
        var x = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
        x += "\n"
        x += #"<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">"#
        x += "<Application>Mujun</Application>"
        x += "<HeadingPairs><vt:vector size=\"2\" baseType=\"variant\"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>\(sheets.count)</vt:i4></vt:variant></vt:vector></HeadingPairs>"
        x += "<TitlesOfParts><vt:vector size=\"\(sheets.count)\" baseType=\"lpstr\">"
        for s in sheets { x += "<vt:lpstr>\(XMLText.escape(s.name, attribute: false))</vt:lpstr>" }
        x += "</vt:vector></TitlesOfParts></Properties>"
        return x
    }

    private static func coreXML(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        let now = f.string(from: date)
        var x = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
        x += "\n"
        x += #"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#
        x += "<dc:creator>Mujun</dc:creator>"
        x += "<dcterms:created xsi:type=\"dcterms:W3CDTF\">\(now)</dcterms:created>"
        x += "<dcterms:modified xsi:type=\"dcterms:W3CDTF\">\(now)</dcterms:modified>"
        x += "</cp:coreProperties>"
        return x
    }
}

/// The shared-string table being built.
private struct SharedStrings {
    var index: [String: Int] = [:]
    var strings: [String] = []
    var references = 0

    mutating func index(_ s: String) -> Int {
        references += 1
        if let i = index[s] { return i }
        let i = strings.count
        index[s] = i
        strings.append(s)
        return i
    }

    func xml() -> String {
        var x = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
        x += "\n"
        x += "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"\(references)\" uniqueCount=\"\(strings.count)\">"
        for s in strings {
            let text = XMLText.cellText(s)
            if XMLText.needsPreserve(text) { x += "<si><t xml:space=\"preserve\">" } else { x += "<si><t>" }
            x += XMLText.escape(text, attribute: false)
            x += "</t></si>"
        }
        x += "</sst>"
        return x
    }
}

/// XML text helpers for the writer.
enum XMLText {
    /// Whether XML 1.0 allows the character.
    static func isLegal(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        if v < 0x20 { return v == 0x09 || v == 0x0A || v == 0x0D }
        if v == 0xFFFE || v == 0xFFFF { return false }
        return true
    }

    /// Escapes `& < >` (and `"` in attributes) and drops characters XML 1.0 forbids.
    static func escape(_ s: String, attribute: Bool) -> String {
        var needs = false
        for u in s.utf8 where u == 0x26 || u == 0x3C || u == 0x3E || u == 0x22 || u < 0x20 || u == 0xEF {
            needs = true; break
        }
        if !needs { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            switch u {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: (attribute ? "&quot;" : "\"").unicodeScalars)
            case "\r": out.append(contentsOf: (attribute ? "&#13;" : "&#13;").unicodeScalars)
            case "\n" where attribute: out.append(contentsOf: "&#10;".unicodeScalars)
            case "\t" where attribute: out.append(contentsOf: "&#9;".unicodeScalars)
            default: if isLegal(u) { out.append(u) }
            }
        }
        return String(out)
    }

    /// Cell text as Excel stores it: at most 32,767 UTF-16 units, with a literal `_xHHHH_`
    /// protected (`_x005F_`) so that Excel does not read it as an escape.
    static func cellText(_ s: String) -> String {
        var t = s
        if t.utf16.count > 32_767 {
            var out = ""
            for ch in t {
                if out.utf16.count + String(ch).utf16.count > 32_767 { break }
                out.append(ch)
            }
            t = out
        }
        guard t.contains("_x") else { return t }
        var out = ""
        var i = t.startIndex
        while i < t.endIndex {
            if t[i] == "_", let end = t.index(i, offsetBy: 7, limitedBy: t.endIndex),
               t[t.index(after: i)] == "x", t[t.index(before: end)] == "_",
               t[t.index(i, offsetBy: 2)..<t.index(before: end)].allSatisfy(\.isHexDigit) {
                out += "_x005F_"
            } else {
                out.append(t[i])
            }
            i = t.index(after: i)
        }
        return out
    }

    /// Whether leading/trailing whitespace or line breaks need `xml:space="preserve"`.
    static func needsPreserve(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, let l = s.unicodeScalars.last else { return false }
        return f.properties.isWhitespace || l.properties.isWhitespace || s.contains("\n")
    }
}
