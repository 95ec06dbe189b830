import Foundation

/// One bad cell or row of an import, named the way a user finds it in the spreadsheet.
public struct RowError: Error, Sendable, Codable, Hashable {
    /// Spreadsheet row number: header = 1, first data row = 2. 0 = the whole file.
    public var row: Int
    /// The column as written in the file's header (or the template key when absent).
    public var column: String
    public var messageZh: String
    public var messageEn: String

    public init(row: Int, column: String, zh: String, en: String) {
        self.row = row; self.column = column; self.messageZh = zh; self.messageEn = en
    }

    /// `第 3 行 [用地面积(亩)]：不是数字 "abc" / row 3 [用地面积(亩)]: not a number "abc"`
    public var description: String {
        let place = row > 0 ? "第 \(row) 行" : "文件"
        let placeEn = row > 0 ? "row \(row)" : "file"
        let col = column.isEmpty ? "" : " [\(column)]"
        return "\(place)\(col)：\(messageZh) / \(placeEn)\(col): \(messageEn)"
    }
}

/// An import that was refused as a whole: nothing was written.
public struct ImportFailure: Error, Sendable, CustomStringConvertible {
    /// Every bad row found, up to `ImportFailure.limit`.
    public var errors: [RowError]
    /// How many more errors were found past the limit.
    public var omitted: Int
    /// Set when the file was refused for its size, not its content (an XLSX past its
    /// ``XLSXLimits``): the server answers 413 rather than 422. `errors` holds the message.
    public var limitExceeded: XLSXLimitExceeded?

    public static let limit = 1000

    public init(errors: [RowError], omitted: Int = 0) {
        self.errors = errors; self.omitted = omitted
    }

    /// A failure of the whole file (encoding, broken workbook, missing column…).
    public static func file(zh: String, en: String, column: String = "") -> ImportFailure {
        ImportFailure(errors: [RowError(row: 0, column: column, zh: zh, en: en)])
    }

    /// A workbook too large to read: the limit's message, and ``limitExceeded`` set.
    public static func tooLarge(_ exceeded: XLSXLimitExceeded) -> ImportFailure {
        var f = file(zh: exceeded.zh, en: exceeded.en)
        f.limitExceeded = exceeded
        return f
    }

    public var description: String {
        var lines = ["导入失败，未写入任何数据 / Import refused, nothing was written (\(errors.count + omitted) 处错误 / errors):"]
        lines += errors.map { "  " + $0.description }
        if omitted > 0 { lines.append("  …另有 \(omitted) 处错误未列出 / \(omitted) more errors not listed") }
        return lines.joined(separator: "\n")
    }
}

/// Collects row errors up to the limit.
public struct RowErrorCollector: Sendable {
    public private(set) var errors: [RowError] = []
    public private(set) var omitted = 0
    public init() {}
    public mutating func add(_ e: RowError) {
        if errors.count < ImportFailure.limit { errors.append(e) } else { omitted += 1 }
    }
    /// Adds `other`'s errors (their rows moved on by `rowOffset`) and what it omitted.
    public mutating func merge(_ other: RowErrorCollector, rowOffset: Int = 0) {
        for var e in other.errors { e.row += rowOffset; add(e) }
        omitted += other.omitted
    }
    public var isEmpty: Bool { errors.isEmpty && omitted == 0 }
    public func failure() -> ImportFailure? { isEmpty ? nil : ImportFailure(errors: errors, omitted: omitted) }
}
