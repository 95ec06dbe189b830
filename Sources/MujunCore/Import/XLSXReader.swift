import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// The first worksheet of an Excel workbook (Excel 工作簿, .xlsx) read as a table.
///
/// The worksheet is found the way Excel finds it: `_rels/.rels` → the workbook part →
/// its first visible `<sheet>` → `xl/_rels/workbook.xml.rels` → the worksheet part (not by
/// assuming `sheet1.xml`). Cells are turned into text: shared strings (including rich-text
/// runs, without phonetic guides), inline strings, formula strings, booleans (`TRUE` /
/// `FALSE`), error values (`#N/A`…), and numbers as written in the file (`12`, `1234.5`).
/// Numbers formatted as dates or times become `yyyy-MM-dd`, `HH:mm:ss` or
/// `yyyy-MM-dd HH:mm:ss`. Formula cells give their cached value ("" if the file has none).
///
/// Row numbers are the worksheet's own (`<row r="…">`); gaps between cells are filled with
/// "", and rows without any text are skipped. The first row with any text is the header.
/// The whole sheet is read at `init`, so a damaged workbook fails before any row is used.
public final class XLSXTable: TableSource {
    /// The header row as written in the file (trailing empty header cells removed).
    public let headers: [String]
    /// The name of the worksheet that was read.
    public let sheetName: String
    /// The spreadsheet row number of the header (1 unless the sheet starts with empty rows).
    public let headerRow: Int

    private let rows: [(Int, [String])]

    /// Upper bound on the uncompressed size of one part, against ZIP bombs.
    static let maxPartSize: UInt64 = 1 << 31

    /// Reads the first worksheet of the workbook file at `url`.
    public convenience init(url: URL) throws(ImportFailure) {
        let head: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            head = try handle.read(upToCount: 8) ?? Data()
        } catch {
            throw ImportFailure.file(
                zh: "无法读取文件 \(url.lastPathComponent)：\(error.localizedDescription)",
                en: "cannot read the file \(url.lastPathComponent): \(error.localizedDescription)")
        }
        try XLSXTable.checkSignature(head)
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw XLSXTable.invalid("ZIP 结构损坏或文件不完整", "the ZIP structure is damaged or the file is truncated")
        }
        try self.init(archive: archive)
    }

    /// Reads the first worksheet of a workbook held in memory.
    ///
    /// The bytes go through a temporary file: ZIPFoundation's in-memory archives are not safe
    /// against damaged offsets, its file-backed archives are.
    public convenience init(data: Data) throws(ImportFailure) {
        try XLSXTable.checkSignature(data.prefix(8))
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("mujun-import-\(UUID().uuidString).xlsx")
        do {
            try data.write(to: url)
        } catch {
            throw ImportFailure.file(
                zh: "无法写入临时文件：\(error.localizedDescription)",
                en: "cannot write a temporary file: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: url) }
        try self.init(url: url)
    }

    private static func checkSignature(_ head: Data) throws(ImportFailure) {
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return }
        if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw XLSXTable.invalid(
                "这是旧版 Excel 97-2003 (.xls) 文件或加密的工作簿，请另存为 .xlsx",
                "this is a legacy Excel 97-2003 (.xls) file or an encrypted workbook; save it as .xlsx")
        }
        throw XLSXTable.invalid("文件不是 ZIP 格式", "the file is not a ZIP archive")
    }

    private init(archive: Archive) throws(ImportFailure) {
        let parts = PartReader(archive: archive)

        // 1. The workbook part, from the package relationships.
        var workbookPath = "xl/workbook.xml"
        if let rootRels = try parts.read("_rels/.rels") {
            let rels = try XLSXTable.parseRelationships(rootRels, base: "", part: "_rels/.rels")
            if let office = rels.first(where: { $0.type.hasSuffix("/officeDocument") }) {
                workbookPath = office.target
            }
        }
        guard let workbookXML = try parts.read(workbookPath) else {
            throw XLSXTable.invalid("找不到工作簿部件 \(workbookPath)", "the workbook part \(workbookPath) is missing")
        }
        let workbook = try XLSXTable.parseWorkbook(workbookXML, part: workbookPath)
        guard let sheet = workbook.sheets.first(where: { !$0.hidden }) ?? workbook.sheets.first else {
            throw XLSXTable.invalid("工作簿中没有工作表", "the workbook has no worksheet")
        }

        // 2. Its relationships: the worksheet and the shared strings.
        let baseDir = XLSXTable.directory(of: workbookPath)
        let relsPath = (baseDir.isEmpty ? "" : baseDir + "/") + "_rels/" + XLSXTable.fileName(of: workbookPath) + ".rels"
        let wbRels: [Relationship]
        if let relsXML = try parts.read(relsPath) {
            wbRels = try XLSXTable.parseRelationships(relsXML, base: baseDir, part: relsPath)
        } else {
            wbRels = []
        }
        guard let sheetRel = wbRels.first(where: { $0.id == sheet.relationshipID }) else {
            throw XLSXTable.invalid(
                "找不到工作表“\(sheet.name)”的关系（\(relsPath)）",
                "the relationship of worksheet \"\(sheet.name)\" is missing (\(relsPath))")
        }
        if sheetRel.type.hasSuffix("/chartsheet") {
            throw XLSXTable.invalid(
                "第一个工作表“\(sheet.name)”是图表，不是数据表",
                "the first sheet \"\(sheet.name)\" is a chart, not a worksheet")
        }
        var sharedStrings: [String] = []
        let sstPath = wbRels.first(where: { $0.type.hasSuffix("/sharedStrings") })?.target
            ?? (baseDir.isEmpty ? "" : baseDir + "/") + "sharedStrings.xml"
        if let sstXML = try parts.read(sstPath) {
            sharedStrings = try XLSXTable.parseSharedStrings(sstXML, part: sstPath)
        }
        var dateStyles: [XLSXDateKind?] = []
        let stylesPath = wbRels.first(where: { $0.type.hasSuffix("/styles") })?.target
            ?? (baseDir.isEmpty ? "" : baseDir + "/") + "styles.xml"
        if let stylesXML = try parts.read(stylesPath) {
            dateStyles = XLSXTable.parseDateStyles(stylesXML)
        }

        // 3. The worksheet.
        guard let sheetXML = try parts.read(sheetRel.target) else {
            throw XLSXTable.invalid(
                "找不到工作表部件 \(sheetRel.target)", "the worksheet part \(sheetRel.target) is missing")
        }
        let delegate = SheetDelegate(sharedStrings: sharedStrings, dateStyles: dateStyles, date1904: workbook.date1904)
        try XLSXTable.run(sheetXML, delegate: delegate, part: sheetRel.target)
        if let bad = delegate.badSharedString {
            throw XLSXTable.invalid(
                "第 \(bad) 行引用了不存在的共享字符串", "row \(bad) refers to a shared string that does not exist")
        }

        var all = delegate.rows
        guard let headerIndex = all.firstIndex(where: { $0.1.contains(where: { !$0.isEmpty }) }) else {
            throw ImportFailure.file(
                zh: "工作表“\(sheet.name)”是空的，没有表头行（第一行应为列名）",
                en: "the worksheet \"\(sheet.name)\" is empty: there is no header row (the first row must hold the column names)")
        }
        var hdr = all[headerIndex].1
        while let last = hdr.last, last.isEmpty { hdr.removeLast() }
        self.headers = hdr
        self.headerRow = all[headerIndex].0
        self.sheetName = sheet.name
        all.removeFirst(headerIndex + 1)
        self.rows = all.filter { $0.1.contains(where: { !$0.isEmpty }) }
    }

    /// Calls `body` for each non-empty data row with its worksheet row number and cells.
    public func forEachRow(_ body: (_ row: Int, _ cells: [String]) throws -> Void) throws {
        for (row, cells) in rows { try body(row, cells) }
    }

    // MARK: - Errors

    static func invalid(_ zh: String, _ en: String) -> ImportFailure {
        ImportFailure.file(zh: "不是有效的 Excel 工作簿：\(zh)", en: "not a valid XLSX workbook: \(en)")
    }

    // MARK: - Package parts

    /// Reads parts of the ZIP package by path (case-insensitively, as Excel does).
    struct PartReader {
        let archive: Archive
        let entries: [String: Entry]

        init(archive: Archive) {
            self.archive = archive
            var map: [String: Entry] = [:]
            for entry in archive where entry.type == .file {
                let key = entry.path.replacingOccurrences(of: "\\", with: "/").lowercased()
                if map[key] == nil { map[key] = entry }
            }
            self.entries = map
        }

        func read(_ path: String) throws(ImportFailure) -> Data? {
            var key = path.lowercased()
            while key.hasPrefix("/") { key.removeFirst() }
            guard let entry = entries[key] else { return nil }
            if entry.uncompressedSize > XLSXTable.maxPartSize {
                throw XLSXTable.invalid("部件 \(path) 过大", "the part \(path) is too large")
            }
            var data = Data()
            data.reserveCapacity(Int(min(entry.uncompressedSize, 64 << 20)))
            do {
                let crc = try archive.extract(entry, skipCRC32: false) { chunk in
                    data.append(chunk)
                    if UInt64(data.count) > XLSXTable.maxPartSize { throw CocoaError(.fileReadTooLarge) }
                }
                if crc != entry.checksum {
                    throw CocoaError(.fileReadCorruptFile)
                }
            } catch {
                throw XLSXTable.invalid(
                    "部件 \(path) 已损坏，无法解压", "the part \(path) is damaged and cannot be decompressed")
            }
            return data
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Resolves a relationship target against the directory of the part that owns it.
    static func resolve(_ target: String, base: String) -> String {
        var t = target.replacingOccurrences(of: "\\", with: "/")
        if t.hasPrefix("/") {
            while t.hasPrefix("/") { t.removeFirst() }
            return t
        }
        var parts = base.isEmpty ? [] : base.split(separator: "/").map(String.init)
        for comp in t.split(separator: "/", omittingEmptySubsequences: true) {
            if comp == "." { continue }
            if comp == ".." { if !parts.isEmpty { parts.removeLast() } } else { parts.append(String(comp)) }
        }
        return parts.joined(separator: "/")
    }

    // MARK: - Small XML parts

    struct Relationship { var id: String; var type: String; var target: String }
    struct SheetRef { var name: String; var relationshipID: String; var hidden: Bool }
    struct Workbook { var sheets: [SheetRef]; var date1904: Bool }

    static func run(_ xml: Data, delegate: XMLPartDelegate, part: String) throws(ImportFailure) {
        let parser = XMLParser(data: xml)
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = delegate
        let ok = parser.parse()
        // FoundationXML on Linux lets libxml2 recover from errors and may still return true,
        // and does not notice a document that simply stops: check both ourselves.
        if !ok || delegate.fatalLine != nil || !delegate.rootClosed {
            let line = delegate.fatalLine ?? parser.lineNumber
            throw invalid(
                "部件 \(part) 的 XML 已损坏（第 \(line) 行）",
                "the XML of part \(part) is damaged (line \(line))")
        }
    }

    static func parseRelationships(_ xml: Data, base: String, part: String) throws(ImportFailure) -> [Relationship] {
        let d = ElementCollector(names: ["Relationship"])
        try run(xml, delegate: d, part: part)
        return d.found.compactMap { _, attrs in
            guard let id = attrs["Id"], let target = attrs["Target"] else { return nil }
            if attrs["TargetMode"] == "External" { return nil }
            return Relationship(id: id, type: attrs["Type"] ?? "", target: resolve(target, base: base))
        }
    }

    static func parseWorkbook(_ xml: Data, part: String) throws(ImportFailure) -> Workbook {
        let d = ElementCollector(names: ["sheet", "workbookPr"])
        try run(xml, delegate: d, part: part)
        var wb = Workbook(sheets: [], date1904: false)
        for (name, attrs) in d.found {
            if name == "workbookPr" {
                let v = attrs["date1904"]?.lowercased()
                wb.date1904 = v == "1" || v == "true"
            } else {
                // r:id, whatever the prefix of the relationships namespace.
                let rid = attrs.first(where: { $0.key == "id" || $0.key.hasSuffix(":id") })?.value ?? ""
                let state = attrs["state"] ?? "visible"
                wb.sheets.append(SheetRef(name: attrs["name"] ?? "", relationshipID: rid, hidden: state != "visible"))
            }
        }
        return wb
    }

    static func parseSharedStrings(_ xml: Data, part: String) throws(ImportFailure) -> [String] {
        let d = SharedStringsDelegate()
        try run(xml, delegate: d, part: part)
        return d.strings
    }

    /// For each cell style (`cellXfs` index), whether its number format shows a date or time.
    static func parseDateStyles(_ xml: Data) -> [XLSXDateKind?] {
        let d = StylesDelegate()
        // Styles only refine how dates are shown: damaged styles are not fatal.
        do { try run(xml, delegate: d, part: "styles") } catch { return [] }
        return d.xfNumFmtIDs.map { id in
            if let code = d.customFormats[id] { return XLSXDateKind(formatCode: code) }
            return XLSXDateKind(builtinID: id)
        }
    }
}

// MARK: - Dates

/// How a date-formatted number is shown.
enum XLSXDateKind: Equatable {
    case date, time, dateTime

    init?(builtinID id: Int) {
        switch id {
        case 14...17, 27...31, 36, 50...54, 57, 58: self = .date
        case 18...21, 32...35, 45...47, 55, 56: self = .time
        case 22: self = .dateTime
        default: return nil
        }
    }

    init?(formatCode code: String) {
        // Drop quoted text, escaped characters and [..] sections (colours, locales, conditions).
        var stripped = ""
        var inQuote = false, inBracket = false, escape = false
        var bracket = ""
        for ch in code {
            if escape { escape = false; continue }
            if inQuote { if ch == "\"" { inQuote = false }; continue }
            if inBracket {
                if ch == "]" {
                    inBracket = false
                    // Elapsed-time sections [h], [mm], [ss] are time parts.
                    if !bracket.isEmpty, bracket.lowercased().allSatisfy({ "hms".contains($0) }) { stripped += bracket }
                } else { bracket.append(ch) }
                continue
            }
            switch ch {
            case "\"": inQuote = true
            case "\\", "_", "*": escape = true
            case "[": inBracket = true; bracket = ""
            default: stripped.append(ch)
            }
        }
        let lower = stripped.lowercased()
        if lower.contains("general") { return nil }
        let hasDate = lower.contains("y") || lower.contains("d")
        let hasTime = lower.contains("h") || lower.contains("s")
        let hasM = lower.contains("m")
        if hasDate && hasTime { self = .dateTime }
        else if hasDate { self = .date }
        else if hasTime { self = .time }
        else if hasM { self = .date }
        else { return nil }
    }

    /// Formats an Excel serial date number.
    func format(serial: Double, date1904: Bool) -> String? {
        guard serial.isFinite, serial >= 0, serial < 2_958_466 else { return nil }
        var days = serial.rounded(.down)
        var seconds = ((serial - days) * 86_400).rounded()
        if seconds >= 86_400 { seconds -= 86_400; days += 1 }
        // Days since 1970-01-01.
        var unixDays: Int
        if date1904 {
            unixDays = Int(days) - 24_107  // 1904-01-01
        } else {
            // Serial 1 = 1900-01-01; Excel's phantom 1900-02-29 (serial 60) shifts earlier dates.
            let d = Int(days)
            unixDays = (d < 60 ? d + 1 : d) - 25_569
        }
        if self == .time { unixDays = 0 }
        let (y, m, dd) = XLSXDateKind.civil(fromDays: unixDays)
        let s = Int(seconds)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let dateText = "\(y)-\(two(m))-\(two(dd))"
        let timeText = "\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))"
        switch self {
        case .date: return s == 0 ? dateText : dateText + " " + timeText
        case .time: return timeText
        case .dateTime: return dateText + " " + timeText
        }
    }

    /// Howard Hinnant's days-to-civil algorithm.
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

// MARK: - XML delegates

@inline(__always)
private func localName(_ qualified: String) -> Substring {
    if let colon = qualified.lastIndex(of: ":") { return qualified[qualified.index(after: colon)...] }
    return qualified[...]
}

/// Base of the part readers: element names without namespace prefix, and the bookkeeping
/// that tells a damaged document from a good one.
class XMLPartDelegate: NSObject, XMLParserDelegate {
    /// libxml2 codes that are warnings or namespace complaints, not damage.
    private static let harmless: Set<Int> = [27, 93, 97, 98, 99, 100, 101, 102, 103, 106, 107]

    private var depth = 0
    /// Whether the root element was closed (a cut-off document never closes it).
    private(set) var rootClosed = false
    /// The line of the first real error, if any.
    private(set) var fatalLine: Int? = nil

    func start(_ name: Substring, _ attributes: [String: String]) {}
    func end(_ name: Substring) {}
    func text(_ string: String) {}

    final func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                      qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        depth += 1
        start(localName(elementName), attributeDict)
    }

    final func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                      qualifiedName qName: String?) {
        depth -= 1
        if depth == 0 { rootClosed = true }
        end(localName(elementName))
    }

    final func parser(_ parser: XMLParser, foundCharacters string: String) {
        text(string)
    }

    final func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        text(String(decoding: CDATABlock, as: UTF8.self))
    }

    final func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        let code = (parseError as NSError).code
        if XMLPartDelegate.harmless.contains(code) || (200..<300).contains(code) { return }
        if fatalLine == nil { fatalLine = parser.lineNumber }
    }
}

/// Collects the attributes of every element with one of the given local names.
private final class ElementCollector: XMLPartDelegate {
    let names: Set<String>
    var found: [(String, [String: String])] = []
    init(names: Set<String>) { self.names = names }

    override func start(_ name: Substring, _ attributes: [String: String]) {
        if names.contains(String(name)) { found.append((String(name), attributes)) }
    }
}

/// Reads `<sst>`: each `<si>` is the text of its `<t>` elements (plain or rich-text runs),
/// leaving out phonetic guides (`<rPh>`).
private final class SharedStringsDelegate: XMLPartDelegate {
    var strings: [String] = []
    private var current = ""
    private var inSI = false, inT = false, phonetic = 0

    override func start(_ name: Substring, _ attributes: [String: String]) {
        switch name {
        case "si": inSI = true; current = ""
        case "rPh": phonetic += 1
        case "t": inT = inSI && phonetic == 0
        default: break
        }
    }

    override func end(_ name: Substring) {
        switch name {
        case "si": strings.append(XLSXText.unescape(current)); inSI = false; inT = false
        case "rPh": phonetic -= 1
        case "t": inT = false
        default: break
        }
    }

    override func text(_ string: String) {
        if inT { current += string }
    }
}

/// Reads `numFmts` and `cellXfs` from styles.xml.
private final class StylesDelegate: XMLPartDelegate {
    var customFormats: [Int: String] = [:]
    var xfNumFmtIDs: [Int] = []
    private var inCellXfs = false

    override func start(_ name: Substring, _ attributes: [String: String]) {
        switch name {
        case "numFmt":
            if let id = attributes["numFmtId"].flatMap({ Int($0) }), let code = attributes["formatCode"] {
                customFormats[id] = code
            }
        case "cellXfs": inCellXfs = true
        case "xf" where inCellXfs:
            xfNumFmtIDs.append(attributes["numFmtId"].flatMap { Int($0) } ?? 0)
        default: break
        }
    }

    override func end(_ name: Substring) {
        if name == "cellXfs" { inCellXfs = false }
    }
}

/// Streams `<sheetData>` into rows of text cells.
private final class SheetDelegate: XMLPartDelegate {
    static let maxColumns = 16_384

    let sharedStrings: [String]
    let dateStyles: [XLSXDateKind?]
    let date1904: Bool

    var rows: [(Int, [String])] = []
    var badSharedString: Int? = nil

    private var rowNumber = 0
    private var cells: [String] = []
    private var inRow = false
    private var column = -1
    private var cellType = ""
    private var cellStyle = 0
    private var value = ""
    private var inline = ""
    private var capture: Capture = .none
    private var inInlineString = false
    private var phonetic = 0
    private var hasValue = false

    private enum Capture { case none, value, inline }

    init(sharedStrings: [String], dateStyles: [XLSXDateKind?], date1904: Bool) {
        self.sharedStrings = sharedStrings
        self.dateStyles = dateStyles
        self.date1904 = date1904
    }

    override func start(_ name: Substring, _ attributes: [String: String]) {
        switch name {
        case "row":
            inRow = true
            if let r = attributes["r"].flatMap({ Int($0) }), r > rowNumber { rowNumber = r } else { rowNumber += 1 }
            cells.removeAll(keepingCapacity: true)
            column = -1
        case "c" where inRow:
            if let ref = attributes["r"], let col = SheetDelegate.columnIndex(ref) { column = col } else { column += 1 }
            cellType = attributes["t"] ?? "n"
            cellStyle = attributes["s"].flatMap { Int($0) } ?? 0
            value = ""; inline = ""; hasValue = false
        case "v" where inRow:
            capture = .value; hasValue = true
        case "is" where inRow:
            inInlineString = true
        case "rPh":
            phonetic += 1
        case "t" where inInlineString && phonetic == 0:
            capture = .inline
        default: break
        }
    }

    override func end(_ name: Substring) {
        switch name {
        case "v", "t": capture = .none
        case "is": inInlineString = false
        case "rPh": phonetic -= 1
        case "c" where inRow:
            guard column >= 0 && column < SheetDelegate.maxColumns else { return }
            let text = cellText()
            if text.isEmpty { return }
            if cells.count <= column {
                cells.append(contentsOf: repeatElement("", count: column + 1 - cells.count))
            }
            cells[column] = text
        case "row":
            inRow = false
            if !cells.isEmpty { rows.append((rowNumber, cells)) }
        default: break
        }
    }

    override func text(_ string: String) {
        switch capture {
        case .none: break
        case .value: value += string
        case .inline: inline += string
        }
    }

    private func cellText() -> String {
        switch cellType {
        case "s":
            guard let i = Int(value.trimmingCharacters(in: .whitespaces)), i >= 0, i < sharedStrings.count else {
                if hasValue && badSharedString == nil { badSharedString = rowNumber }
                return ""
            }
            return sharedStrings[i]
        case "inlineStr":
            return XLSXText.unescape(hasValue && inline.isEmpty ? value : inline)
        case "str", "e", "d":
            return XLSXText.unescape(value)
        case "b":
            let v = value.trimmingCharacters(in: .whitespaces)
            if v.isEmpty { return "" }
            return (v == "1" || v.lowercased() == "true") ? "TRUE" : "FALSE"
        default:
            let v = value.trimmingCharacters(in: .whitespacesAndNewlines)
            if !v.isEmpty, cellStyle >= 0, cellStyle < dateStyles.count, let kind = dateStyles[cellStyle],
               let serial = Double(v), let text = kind.format(serial: serial, date1904: date1904) {
                return text
            }
            return v
        }
    }

    /// "C5" → 2, "AA10" → 26; nil when the reference has no column letters.
    static func columnIndex(_ ref: String) -> Int? {
        var col = 0
        var letters = 0
        for u in ref.utf8 {
            let upper = u & 0xDF
            if upper >= 0x41 && upper <= 0x5A {
                col = col * 26 + Int(upper - 0x40)
                letters += 1
                if letters > 3 { return nil }
            } else if u == 0x24 {  // "$"
                continue
            } else {
                break
            }
        }
        return letters == 0 ? nil : col - 1
    }
}

/// Excel's `_xHHHH_` escapes for characters XML cannot carry (e.g. `_x000D_` for CR).
enum XLSXText {
    static func unescape(_ s: String) -> String {
        guard s.contains("_x") else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "_", let end = s.index(i, offsetBy: 7, limitedBy: s.endIndex), end <= s.endIndex,
               s[s.index(after: i)] == "x", s[s.index(before: end)] == "_",
               let code = UInt32(s[s.index(i, offsetBy: 2)..<s.index(before: end)], radix: 16),
               s.distance(from: s.index(i, offsetBy: 2), to: s.index(before: end)) == 4,
               let scalar = Unicode.Scalar(code) {
                out.unicodeScalars.append(scalar)
                i = end
            } else {
                out.append(s[i])
                i = s.index(after: i)
            }
        }
        return out
    }
}
