import Foundation

/// Opens an import file (导入文件) as a table, whatever its format.
public enum TableReader {
    /// Opens `url` as XLSX when the file starts with the ZIP signature `PK\u{3}\u{4}` or is
    /// named `*.xlsx`, else as CSV (with `encoding`, or detected when `nil`).
    /// A missing or unreadable file, a legacy `.xls`, or a damaged file → `ImportFailure`; a
    /// workbook past `limits` → `ImportFailure` with ``ImportFailure/limitExceeded`` set.
    public static func open(url: URL, encoding: TextEncodingChoice? = nil,
                            limits: XLSXLimits = .fromEnvironment()) throws(ImportFailure) -> any TableSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ImportFailure.file(
                zh: "文件不存在：\(url.path)", en: "no such file: \(url.path)")
        }
        if isDirectory.boolValue {
            throw ImportFailure.file(
                zh: "这是一个文件夹，不是文件：\(url.path)", en: "this is a folder, not a file: \(url.path)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw ImportFailure.file(
                zh: "无法读取文件 \(url.lastPathComponent)：\(error.localizedDescription)",
                en: "cannot read the file \(url.lastPathComponent): \(error.localizedDescription)")
        }
        return try open(data: data, name: url.lastPathComponent, encoding: encoding, limits: limits)
    }

    /// The same for the bytes of an uploaded file named `name`.
    public static func open(data: Data, name: String, encoding: TextEncodingChoice? = nil,
                            limits: XLSXLimits = .fromEnvironment()) throws(ImportFailure) -> any TableSource {
        let ext = (name as NSString).pathExtension.lowercased()
        if data.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            throw ImportFailure.file(
                zh: "这是旧版 Excel 97-2003 (.xls) 文件或加密的工作簿，不受支持；请在 Excel 中另存为 .xlsx 或 CSV",
                en: "this is a legacy Excel 97-2003 (.xls) file or an encrypted workbook, which is not supported; save it from Excel as .xlsx or CSV")
        }
        if let kind = markupKind(data) {
            throw ImportFailure.file(
                zh: "这是一个\(kind.zh)文件（常见于网页系统导出的“Excel”），不是真正的 Excel 工作簿或 CSV；请用 Excel 打开后另存为 .xlsx 或 CSV",
                en: "this is \(kind.en) (as web systems often export as \"Excel\"), not a real workbook or CSV; open it in Excel and save it as .xlsx or CSV")
        }
        if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) || ext == "xlsx" || ext == "xlsm" {
            return try XLSXTable(data: data, limits: limits)
        }
        return try CSVTable(data: data, encoding: encoding)
    }

    /// HTML or XML Spreadsheet 2003 content, judged from the start of the file.
    static func markupKind(_ data: Data) -> (zh: String, en: String)? {
        var head = [UInt8](data.prefix(2048))
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { head.removeFirst(3) }
        guard let first = head.firstIndex(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
              head[first] == 0x3C else { return nil }  // "<"
        let text = String(decoding: head[first...], as: UTF8.self).lowercased()
        if text.contains("<html") || text.contains("<table") || text.hasPrefix("<!doctype") {
            return ("网页 (HTML) ", "an HTML page")
        }
        if text.contains("urn:schemas-microsoft-com:office:spreadsheet") || text.contains("<workbook") {
            return (" XML 电子表格 2003 ", "an XML Spreadsheet 2003 file")
        }
        return nil
    }

    /// Parses a number cell; see ``HeaderMatcher/parseNumber(_:)``.
    public static func parseNumber(_ s: String) -> NumberParse {
        HeaderMatcher.parseNumber(s)
    }
}

/// The result of parsing a number cell (数值单元格).
public enum NumberParse: Sendable, Equatable {
    /// The cell is empty or only spaces: a missing value.
    case empty
    /// A finite number.
    case value(Double)
    /// Text that is not a number ("abc", "1.2.3", "NaN", "1,5"…).
    case invalid
}

/// One column of an import template (导入模板的列): its English key, Chinese header and
/// whether the import is refused without it.
public struct FieldSpec: Sendable, Hashable {
    /// English key, e.g. `land_mu`.
    public var key: String
    /// Chinese header, e.g. `用地面积(亩)`.
    public var chinese: String
    /// Whether the import is refused when the column is absent.
    public var required: Bool

    public init(key: String, chinese: String, required: Bool = false) {
        self.key = key; self.chinese = chinese; self.required = required
    }
}

/// Maps a template's fields to the columns of a file's header row (表头匹配).
///
/// A header matches a field when it equals the field's Chinese name or English key after
/// normalisation: case ignored, all whitespace (including the full-width space U+3000 and
/// line breaks inside a header cell) ignored, full-width forms folded to ASCII
/// (（）→ (), Ａ→A), and `_` / `-` ignored (so `Credit Code`, `credit-code`, `CREDIT_CODE`
/// all match `credit_code`). Columns that match no field are ignored; when several columns
/// match one field the first is used and the field is listed in ``duplicates``.
public struct HeaderMatcher: Sendable {
    /// One column of an import template; the same type as the top-level ``FieldSpec``.
    public typealias FieldSpec = MujunCore.FieldSpec

    /// The file's header row as written.
    public let headers: [String]
    /// The template's fields.
    public let fields: [FieldSpec]
    private let indexByKey: [String: Int]
    /// Required fields with no matching column.
    public let missingRequired: [FieldSpec]
    /// Fields matched by more than one column (the first column is used).
    public let duplicates: [FieldSpec]

    public init(headers: [String], fields: [FieldSpec]) {
        self.headers = headers
        self.fields = fields
        var lookup: [String: String] = [:]  // normalised name → key
        for f in fields {
            for name in [f.chinese, f.key] {
                let n = HeaderMatcher.normalize(name)
                if !n.isEmpty && lookup[n] == nil { lookup[n] = f.key }
            }
        }
        var index: [String: Int] = [:]
        var dup: Set<String> = []
        for (i, h) in headers.enumerated() {
            guard let key = lookup[HeaderMatcher.normalize(h)] else { continue }
            if index[key] == nil { index[key] = i } else { dup.insert(key) }
        }
        self.indexByKey = index
        self.missingRequired = fields.filter { $0.required && index[$0.key] == nil }
        self.duplicates = fields.filter { dup.contains($0.key) }
    }

    /// The column index of field `key`, or nil when the file has no such column.
    public func index(of key: String) -> Int? { indexByKey[key] }

    /// The header of field `key` as written in the file, for error messages; the template's
    /// Chinese name when the file has no such column (or the key if the field is unknown).
    public func header(of key: String) -> String {
        if let i = indexByKey[key], i < headers.count {
            let h = headers[i].trimmingCharacters(in: .whitespacesAndNewlines)
            if !h.isEmpty { return h }
        }
        return fields.first(where: { $0.key == key })?.chinese ?? key
    }

    /// The cell of field `key` in a row: "" when the column is absent or the row is short.
    public func value(_ key: String, in cells: [String]) -> String {
        guard let i = indexByKey[key], i < cells.count else { return "" }
        return cells[i]
    }

    /// Throws an `ImportFailure` naming every missing required column, in Chinese and English.
    public func checkRequired() throws(ImportFailure) {
        guard !missingRequired.isEmpty else { return }
        let errors = missingRequired.map { f in
            RowError(row: 1, column: f.chinese,
                     zh: "缺少必需的列“\(f.chinese)”（或 \(f.key)）",
                     en: "the required column \"\(f.chinese)\" (or \(f.key)) is missing")
        }
        throw ImportFailure(errors: errors)
    }

    /// The comparison form of a header: NFKC, lowercased, without whitespace, `_` or `-`.
    public static func normalize(_ s: String) -> String {
        let folded = s.precomposedStringWithCompatibilityMapping.lowercased()
        var out = String.UnicodeScalarView()
        for u in folded.unicodeScalars {
            if u.properties.isWhitespace || u == "_" || u == "-" || u == "\u{FEFF}" || u == "\u{200B}" { continue }
            out.append(u)
        }
        return String(out)
    }

    // MARK: - Numbers

    /// Parses a number cell: surrounding spaces ignored, a leading `+` or `-`, thousands
    /// separators in groups of three (`1,234.5`), scientific notation (`1.5e3`), and
    /// full-width digits, signs, comma and point (`１２３．５`, `－５`).
    /// Rejects everything else, including `NaN`, `inf`, `1.2.3`, `1,5` and hexadecimal.
    public static func parseNumber(_ s: String) -> NumberParse {
        var bytes: [UInt8] = []
        var result = NumberParse.invalid
        var isASCII = true
        for u in s.utf8 where u >= 0x80 { isASCII = false; break }
        if isASCII {
            var copy = s
            result = copy.withUTF8 { parseASCIINumber($0, scratch: &bytes) }
        } else {
            var folded = s.precomposedStringWithCompatibilityMapping
            folded = folded.replacingOccurrences(of: "\u{2212}", with: "-")  // minus sign
            var trimmed = ""
            for u in folded.unicodeScalars {
                if u.properties.isWhitespace || u == "\u{FEFF}" || u == "\u{200B}" { trimmed.unicodeScalars.append(" ") }
                else { trimmed.unicodeScalars.append(u) }
            }
            guard trimmed.utf8.allSatisfy({ $0 < 0x80 }) else { return .invalid }
            result = trimmed.withUTF8 { parseASCIINumber($0, scratch: &bytes) }
        }
        return result
    }

    /// Validates and converts ASCII text; `scratch` receives the number without separators.
    private static func parseASCIINumber(_ buf: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8]) -> NumberParse {
        var lo = 0, hi = buf.count
        while lo < hi, buf[lo] == 0x20 || buf[lo] == 0x09 || buf[lo] == 0x0A || buf[lo] == 0x0D { lo += 1 }
        while hi > lo, buf[hi - 1] == 0x20 || buf[hi - 1] == 0x09 || buf[hi - 1] == 0x0A || buf[hi - 1] == 0x0D { hi -= 1 }
        if lo == hi { return .empty }
        scratch.removeAll(keepingCapacity: true)
        scratch.reserveCapacity(hi - lo + 1)
        var i = lo
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        if buf[i] == 0x2B { i += 1 }  // +
        else if buf[i] == 0x2D { scratch.append(0x2D); i += 1 }  // -
        // Integer part, with optional thousands separators.
        var intDigits = 0
        var groupDigits = 0
        var sawComma = false
        while i < hi {
            let b = buf[i]
            if isDigit(b) {
                scratch.append(b); intDigits += 1; groupDigits += 1
            } else if b == 0x2C {  // ,
                if intDigits == 0 { return .invalid }
                if sawComma ? groupDigits != 3 : groupDigits > 3 { return .invalid }
                sawComma = true; groupDigits = 0
            } else { break }
            i += 1
        }
        if sawComma && groupDigits != 3 { return .invalid }
        var fracDigits = 0
        if i < hi && buf[i] == 0x2E {  // .
            scratch.append(0x2E); i += 1
            while i < hi && isDigit(buf[i]) { scratch.append(buf[i]); fracDigits += 1; i += 1 }
        }
        if intDigits + fracDigits == 0 { return .invalid }
        if i < hi && (buf[i] == 0x65 || buf[i] == 0x45) {  // e E
            scratch.append(0x65); i += 1
            if i < hi && (buf[i] == 0x2B || buf[i] == 0x2D) { scratch.append(buf[i]); i += 1 }
            var expDigits = 0
            while i < hi && isDigit(buf[i]) { scratch.append(buf[i]); expDigits += 1; i += 1 }
            if expDigits == 0 { return .invalid }
        }
        if i != hi { return .invalid }
        // Double(String) is locale-independent (unlike strtod).
        guard let v = Double(String(decoding: scratch, as: UTF8.self)), v.isFinite else { return .invalid }
        return .value(v)
    }
}
