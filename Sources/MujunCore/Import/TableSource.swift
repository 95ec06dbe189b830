import Foundation

/// A spreadsheet as the importers see it: a header row and data rows of text cells,
/// whatever the file format (CSV in any supported encoding, or XLSX).
public protocol TableSource {
    /// The header row (row 1), as written in the file.
    var headers: [String] { get }
    /// Calls `body` for each data row with its spreadsheet row number (first data row = 2)
    /// and its cells as text (missing trailing cells may be absent; empty cell = "").
    /// Completely empty rows are skipped.
    func forEachRow(_ body: (_ row: Int, _ cells: [String]) throws -> Void) throws
}

/// Text encodings the CSV reader accepts. `nil` (auto) = UTF-8 with or without BOM when the
/// bytes are valid UTF-8, else GB18030 (which includes GBK).
public enum TextEncodingChoice: String, Sendable, CaseIterable {
    case utf8 = "utf-8"
    case gb18030 = "gb18030"

    /// Parses names a user types: utf8, utf-8, UTF-8-BOM, gbk, gb2312, gb18030, cp936.
    public init?(name: String) {
        switch name.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "utf8", "utf-8", "utf-8-bom", "utf8-bom", "utf-8-sig": self = .utf8
        case "gbk", "gb2312", "gb18030", "cp936", "936": self = .gb18030
        default: return nil
        }
    }
}
