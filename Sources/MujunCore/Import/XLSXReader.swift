import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// What reading an XLSX upload may cost, against ZIP bombs (a 2.4 MB workbook can inflate to
/// 600 MB): the bytes its parts inflate to, and the cells of its worksheet. Past either, the
/// workbook is refused with ``XLSXLimitExceeded`` (HTTP 413), before inflating what is too
/// large and without reading further.
public struct XLSXLimits: Sendable, Hashable {
    /// The most bytes the parts read (relationships, workbook, shared strings, styles and the
    /// worksheet) may inflate to, together.
    public var maxInflatedBytes: Int
    /// The most cells the worksheet may have: its `<c>` elements and the empty cells that rows
    /// get before their cells (also the most shared strings).
    public var maxCells: Int

    public init(maxInflatedBytes: Int = XLSXLimits.default.maxInflatedBytes, maxCells: Int = XLSXLimits.default.maxCells) {
        self.maxInflatedBytes = maxInflatedBytes
        self.maxCells = maxCells
    }

    /// 200 MB inflated, 5,000,000 cells.
    public static let `default` = XLSXLimits(maxInflatedBytes: 200 << 20, maxCells: 5_000_000)

    /// The environment variable that sets ``maxInflatedBytes``, in MB (MiB).
    public static let inflatedMBVariable = "MUJUN_XLSX_MAX_MB"
    /// The environment variable that sets ``maxCells``.
    public static let cellsVariable = "MUJUN_XLSX_MAX_CELLS"

    /// ``default``, with each limit replaced by its environment variable when that is a
    /// positive whole number (``inflatedMBVariable``, ``cellsVariable``); other values are
    /// ignored. The readers use this unless given limits.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> XLSXLimits {
        func positive(_ name: String) -> Int? {
            guard let text = environment[name], let v = Int(text.trimmingCharacters(in: .whitespaces)), v > 0 else { return nil }
            return v
        }
        var limits = XLSXLimits.default
        if let mb = positive(inflatedMBVariable) { limits.maxInflatedBytes = min(mb, 1 << 30) << 20 }
        if let n = positive(cellsVariable) { limits.maxCells = n }
        return limits
    }
}

/// A workbook refused for its size (``XLSXLimits``), not for its content: answered with 413
/// Payload Too Large. Carried by ``ImportFailure/limitExceeded``.
public enum XLSXLimitExceeded: Error, Sendable, Hashable {
    /// The parts read declare, or inflate to, more than `limit` bytes.
    case inflatedSize(limit: Int)
    /// The worksheet has more than `limit` cells (or the workbook more shared strings).
    case cellCount(limit: Int)

    /// The reason in Chinese: the limit, and how to change it.
    public var zh: String {
        switch self {
        case .inflatedSize(let limit):
            "Excel 工作簿解压后超过 \(Self.bytes(limit).zh) 的上限，未读取（XLSX 是压缩文件，解压后的内容受此限制）。"
                + "请拆分文件或另存为 CSV 后再导入；此上限由环境变量 \(XLSXLimits.inflatedMBVariable)（单位 MB）设定。"
        case .cellCount(let limit):
            "Excel 工作表超过 \(Self.grouped(limit)) 个单元格的上限，未读取。"
                + "请拆分文件或另存为 CSV 后再导入；此上限由环境变量 \(XLSXLimits.cellsVariable) 设定。"
        }
    }

    /// The reason in English: the limit, and how to change it.
    public var en: String {
        switch self {
        case .inflatedSize(let limit):
            "the workbook inflates to more than the limit of \(Self.bytes(limit).en) and was not read (an XLSX file is "
                + "compressed; what it inflates to is limited). Split the file or save it as CSV and import that; the limit "
                + "is set with the environment variable \(XLSXLimits.inflatedMBVariable) (in MB)."
        case .cellCount(let limit):
            "the worksheet has more than the limit of \(Self.grouped(limit)) cells and was not read. Split the file or save "
                + "it as CSV and import that; the limit is set with the environment variable \(XLSXLimits.cellsVariable)."
        }
    }

    /// `200 MB`, `64 KB` or `1000 字节 / bytes`.
    private static func bytes(_ n: Int) -> (zh: String, en: String) {
        if n >= 1 << 20 && n % (1 << 20) == 0 { return ("\(grouped(n >> 20)) MB", "\(grouped(n >> 20)) MB") }
        if n >= 1 << 10 && n % (1 << 10) == 0 { return ("\(grouped(n >> 10)) KB", "\(grouped(n >> 10)) KB") }
        return ("\(grouped(n)) 字节", "\(grouped(n)) bytes")
    }

    /// `5,000,000`.
    private static func grouped(_ n: Int) -> String {
        var digits = Array(String(n))
        var k = digits.count - 3
        while k > 0 && digits[k - 1] != "-" { digits.insert(",", at: k); k -= 3 }
        return String(digits)
    }
}

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

    /// Reads the first worksheet of the workbook file at `url`, within `limits`.
    public convenience init(url: URL, limits: XLSXLimits = .fromEnvironment()) throws(ImportFailure) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw ImportFailure.file(
                zh: "无法读取文件 \(url.lastPathComponent)：\(error.localizedDescription)",
                en: "cannot read the file \(url.lastPathComponent): \(error.localizedDescription)")
        }
        try self.init(data: data, limits: limits)
    }

    /// Reads the first worksheet of a workbook held in memory, within `limits`: a workbook
    /// past them fails with ``ImportFailure/limitExceeded`` set.
    public init(data: Data, limits: XLSXLimits = .fromEnvironment()) throws(ImportFailure) {
        try XLSXTable.checkSignature(data.prefix(8))
        var parts = try PartReader(data: data, limits: limits)

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
            sharedStrings = try XLSXTable.parseSharedStrings(sstXML, part: sstPath, maxCount: limits.maxCells)
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
        let delegate = SheetDelegate(sharedStrings: sharedStrings, dateStyles: dateStyles, date1904: workbook.date1904,
                                     maxCells: limits.maxCells)
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

    private static func checkSignature(_ head: Data) throws(ImportFailure) {
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return }
        if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw XLSXTable.invalid(
                "这是旧版 Excel 97-2003 (.xls) 文件或加密的工作簿，请另存为 .xlsx",
                "this is a legacy Excel 97-2003 (.xls) file or an encrypted workbook; save it as .xlsx")
        }
        throw XLSXTable.invalid("文件不是 ZIP 格式", "the file is not a ZIP archive")
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

    /// Reads parts of the ZIP package by path (case-insensitively, as Excel does), within
    /// ``XLSXLimits/maxInflatedBytes`` over all the parts read.
    ///
    /// The ZIP directory is read here with every offset and size checked against the file;
    /// the parts are inflated with ZIPFoundation's `Data.decompress`, fed from a bounded
    /// buffer that throws when the compressed data runs out. (ZIPFoundation's own `Archive`
    /// reading traps on out-of-range offsets in memory archives and, on Linux, spins forever
    /// on a deflate stream cut short, so it is not used for untrusted input.)
    struct PartReader {
        struct Item { var method: UInt16; var flags: UInt16; var crc: UInt32
                      var compressedSize: Int; var uncompressedSize: UInt64; var dataOffset: Int }
        let data: Data
        let items: [String: Item]
        let limits: XLSXLimits
        /// The bytes inflated so far, by every part read.
        private(set) var inflated = 0

        private static let damaged = XLSXTable.invalid(
            "ZIP 结构损坏或文件不完整", "the ZIP structure is damaged or the file is truncated")

        init(data: Data, limits: XLSXLimits) throws(ImportFailure) {
            self.data = data
            self.limits = limits
            let parsed: [String: Item]? = data.withUnsafeBytes { raw in PartReader.directory(raw) }
            guard let parsed else { throw PartReader.damaged }
            self.items = parsed
        }

        /// Parses the central directory; nil when anything points outside the file.
        private static func directory(_ b: UnsafeRawBufferPointer) -> [String: Item]? {
            let n = b.count
            func u16(_ o: Int) -> Int? { o >= 0 && o + 2 <= n ? Int(b[o]) | Int(b[o + 1]) << 8 : nil }
            func u32(_ o: Int) -> Int? {
                guard o >= 0 && o + 4 <= n else { return nil }
                return Int(b[o]) | Int(b[o + 1]) << 8 | Int(b[o + 2]) << 16 | Int(b[o + 3]) << 24
            }
            func u64(_ o: Int) -> UInt64? {
                guard let lo = u32(o), let hi = u32(o + 4) else { return nil }
                return UInt64(lo) | UInt64(hi) << 32
            }
            // End of central directory record, searched backwards over a possible comment.
            guard n >= 22 else { return nil }
            var eocd = -1
            var o = n - 22
            let lowest = max(0, n - 22 - 65_535)
            while o >= lowest {
                if b[o] == 0x50 && b[o + 1] == 0x4B && b[o + 2] == 0x05 && b[o + 3] == 0x06 { eocd = o; break }
                o -= 1
            }
            guard eocd >= 0, var count = u16(eocd + 10), var cdSize = u32(eocd + 12), var cdOffset = u32(eocd + 16)
            else { return nil }
            if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
                // ZIP64: locator just before the record points to the ZIP64 end record.
                guard let sig = u32(eocd - 20), sig == 0x0706_4B50, let z = u64(eocd - 12), z < UInt64(n),
                      let zsig = u32(Int(z)), zsig == 0x0606_4B50,
                      let c = u64(Int(z) + 32), let s = u64(Int(z) + 40), let off = u64(Int(z) + 48),
                      c < UInt64(n), s < UInt64(n), off < UInt64(n) else { return nil }
                count = Int(c); cdSize = Int(s); cdOffset = Int(off)
            }
            guard cdOffset + cdSize <= n else { return nil }
            var items: [String: Item] = [:]
            var p = cdOffset
            for _ in 0..<count {
                guard let sig = u32(p), sig == 0x0201_4B50, let flags = u16(p + 8), let method = u16(p + 10),
                      let crc = u32(p + 16), let csize32 = u32(p + 20), let usize32 = u32(p + 24),
                      let nameLen = u16(p + 28), let extraLen = u16(p + 30), let commentLen = u16(p + 32),
                      let local32 = u32(p + 42), p + 46 + nameLen + extraLen + commentLen <= n else { return nil }
                var csize = UInt64(csize32), usize = UInt64(usize32), local = UInt64(local32)
                // ZIP64 extra field: the 0xFFFFFFFF sizes and offset, in this order.
                var e = p + 46 + nameLen
                let extraEnd = e + extraLen
                while e + 4 <= extraEnd, let id = u16(e), let len = u16(e + 2), e + 4 + len <= extraEnd {
                    if id == 0x0001 {
                        var f = e + 4
                        if usize32 == 0xFFFF_FFFF, f + 8 <= e + 4 + len, let v = u64(f) { usize = v; f += 8 }
                        if csize32 == 0xFFFF_FFFF, f + 8 <= e + 4 + len, let v = u64(f) { csize = v; f += 8 }
                        if local32 == 0xFFFF_FFFF, f + 8 <= e + 4 + len, let v = u64(f) { local = v; f += 8 }
                    }
                    e += 4 + len
                }
                let name = String(decoding: UnsafeRawBufferPointer(rebasing: b[(p + 46)..<(p + 46 + nameLen)]), as: UTF8.self)
                p += 46 + nameLen + extraLen + commentLen
                guard local < UInt64(n), csize < UInt64(n) else { return nil }
                let lh = Int(local)
                guard let lsig = u32(lh), lsig == 0x0403_4B50, let ln = u16(lh + 26), let le = u16(lh + 28) else { return nil }
                let dataOffset = lh + 30 + ln + le
                guard dataOffset + Int(csize) <= n else { return nil }
                if name.hasSuffix("/") { continue }  // a folder
                let key = name.replacingOccurrences(of: "\\", with: "/").lowercased()
                if items[key] == nil {
                    items[key] = Item(method: UInt16(method), flags: UInt16(flags), crc: UInt32(crc),
                                      compressedSize: Int(csize), uncompressedSize: usize, dataOffset: dataOffset)
                }
            }
            return items
        }

        private struct OutOfInput: Error {}
        private struct TooLarge: Error {}
        private struct OverLimit: Error {}

        /// The bytes of the part at `path`, or nil when the package has no such part.
        ///
        /// A part whose declared size does not fit in what is left of the limit is refused
        /// before it is inflated; and since declared sizes can lie, inflating stops as soon as
        /// the bytes it produced pass what is left (the limit's error) or the declared size
        /// (a damaged part).
        mutating func read(_ path: String) throws(ImportFailure) -> Data? {
            var key = path.lowercased()
            while key.hasPrefix("/") { key.removeFirst() }
            guard let item = items[key] else { return nil }
            if item.flags & 1 != 0 {
                throw XLSXTable.invalid("工作簿已加密，请先取消密码", "the workbook is encrypted; remove its password first")
            }
            let left = max(limits.maxInflatedBytes - inflated, 0)
            if item.uncompressedSize > UInt64(left) {
                throw ImportFailure.tooLarge(.inflatedSize(limit: limits.maxInflatedBytes))
            }
            let damaged = XLSXTable.invalid(
                "部件 \(path) 已损坏，无法解压", "the part \(path) is damaged and cannot be decompressed")
            let start = data.startIndex + item.dataOffset
            let compressed = data.subdata(in: start..<(start + item.compressedSize))
            let limit = Int(item.uncompressedSize)
            var out = Data()
            switch item.method {
            case 0:
                out = compressed
                guard out.count == limit, out.crc32(checksum: 0) == item.crc else { throw damaged }
            case 8:
                out.reserveCapacity(min(limit, 256 << 20))
                var position = 0
                do {
                    let crc = try Data.decompress(
                        size: Int64(item.compressedSize), bufferSize: 1 << 16, skipCRC32: false,
                        provider: { _, size in
                            // Throwing when the input is used up stops ZIPFoundation's inflate loop,
                            // which would otherwise wait for more input forever.
                            guard position < compressed.count else { throw OutOfInput() }
                            let end = min(position + size, compressed.count)
                            defer { position = end }
                            return compressed.subdata(in: position..<end)
                        },
                        consumer: { chunk in
                            out.append(chunk)
                            if out.count > left { throw OverLimit() }
                            if out.count > limit { throw TooLarge() }
                        })
                    guard crc == item.crc, out.count == limit else { throw damaged }
                } catch is OverLimit {
                    throw ImportFailure.tooLarge(.inflatedSize(limit: limits.maxInflatedBytes))
                } catch {
                    throw damaged
                }
            default:
                throw XLSXTable.invalid(
                    "部件 \(path) 使用了不支持的压缩方式 \(item.method)",
                    "the part \(path) uses an unsupported compression method (\(item.method))")
            }
            inflated += out.count
            return out
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
        // A stream, not XMLParser(data:): FoundationXML hands `data` to libxml2 in one piece,
        // which fails with an internal error on parts of more than about 10 MB.
        let parser = XMLParser(stream: InputStream(data: xml))
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = delegate
        let ok = parser.parse()
        if let stop = delegate.stop { throw stop }
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

    /// The shared strings, at most `maxCount` of them (more fail with the cell limit).
    static func parseSharedStrings(_ xml: Data, part: String, maxCount: Int) throws(ImportFailure) -> [String] {
        let d = SharedStringsDelegate(maxCount: maxCount)
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
    /// Set by a subclass to stop reading at once (a limit was passed); `run` throws it.
    var stop: ImportFailure?

    func start(_ name: Substring, _ attributes: [String: String]) {}
    func end(_ name: Substring) {}
    func text(_ string: String) {}

    final func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                      qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        depth += 1
        start(localName(elementName), attributeDict)
        if stop != nil { parser.abortParsing() }
    }

    final func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                      qualifiedName qName: String?) {
        depth -= 1
        if depth == 0 { rootClosed = true }
        end(localName(elementName))
        if stop != nil { parser.abortParsing() }
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
    private let maxCount: Int
    private var count = 0
    private var current = ""
    private var inSI = false, inT = false, phonetic = 0

    init(maxCount: Int) { self.maxCount = maxCount }

    override func start(_ name: Substring, _ attributes: [String: String]) {
        switch name {
        case "si":
            count += 1
            if count > maxCount { stop = ImportFailure.tooLarge(.cellCount(limit: maxCount)); return }
            inSI = true; current = ""
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
    let maxCells: Int
    /// The cells so far: `<c>` elements, and the empty cells put before them in their rows.
    private var cellCount = 0

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

    init(sharedStrings: [String], dateStyles: [XLSXDateKind?], date1904: Bool, maxCells: Int) {
        self.sharedStrings = sharedStrings
        self.dateStyles = dateStyles
        self.date1904 = date1904
        self.maxCells = maxCells
    }

    /// Counts `n` more cells; false (and reading stops) past the limit.
    private func count(_ n: Int) -> Bool {
        cellCount += n
        if cellCount <= maxCells { return true }
        stop = ImportFailure.tooLarge(.cellCount(limit: maxCells))
        return false
    }

    override func start(_ name: Substring, _ attributes: [String: String]) {
        switch name {
        case "row":
            inRow = true
            if let r = attributes["r"].flatMap({ Int($0) }), r > rowNumber { rowNumber = r } else { rowNumber += 1 }
            cells.removeAll(keepingCapacity: true)
            column = -1
        case "c" where inRow:
            guard count(1) else { return }
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
                guard count(column - cells.count) else { return }
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
            guard let i = Int(SheetDelegate.trim(value)), i >= 0, i < sharedStrings.count else {
                if hasValue && badSharedString == nil { badSharedString = rowNumber }
                return ""
            }
            return sharedStrings[i]
        case "inlineStr":
            return XLSXText.unescape(hasValue && inline.isEmpty ? value : inline)
        case "str", "e", "d":
            return XLSXText.unescape(value)
        case "b":
            let v = SheetDelegate.trim(value)
            if v.isEmpty { return "" }
            return (v == "1" || v.lowercased() == "true") ? "TRUE" : "FALSE"
        default:
            let v = SheetDelegate.trim(value)
            if !v.isEmpty, cellStyle >= 0, cellStyle < dateStyles.count, let kind = dateStyles[cellStyle],
               let serial = Double(v), let text = kind.format(serial: serial, date1904: date1904) {
                return text
            }
            return v
        }
    }

    /// `s` without surrounding ASCII whitespace (cheap when there is none, the usual case).
    static func trim(_ s: String) -> String {
        func ws(_ u: UInt8) -> Bool { u == 0x20 || u == 0x09 || u == 0x0A || u == 0x0D }
        guard let f = s.utf8.first, let l = s.utf8.last, ws(f) || ws(l) else { return s }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
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
