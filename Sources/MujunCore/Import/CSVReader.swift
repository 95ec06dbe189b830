import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A CSV file (逗号分隔值文件) read as a table: RFC 4180 quoting (quoted fields, doubled
/// quotes, commas and line breaks inside quotes), CRLF / LF / CR line ends, a trailing
/// empty line, and completely empty lines skipped.
///
/// Encodings: UTF-8 with or without BOM, or GB18030 (a superset of GBK and GB2312, what
/// Excel on Chinese Windows writes). With `encoding == nil` the encoding is detected:
/// valid UTF-8 is UTF-8, anything else is GB18030. The whole file is decoded once at
/// `init` (so encoding errors are reported before any row is handed out) and parsed
/// straight from the UTF-8 bytes on each `forEachRow`.
///
/// Row numbers are physical spreadsheet rows: the header is row 1, the first data row 2;
/// a quoted cell with an embedded line break is still one row, and skipped empty lines
/// still count (as they do when Excel opens the file).
public final class CSVTable: TableSource {
    /// The header row, as written in the file (trailing empty header cells removed).
    public let headers: [String]
    /// The encoding the file was read with (detected or forced).
    public let encoding: TextEncodingChoice
    /// The spreadsheet row number of the header row (1 unless the file starts with empty lines).
    public let headerRow: Int

    /// The cell separator: `,`, or a tab for tab-separated text (detected from the first
    /// line, which then has tabs and no comma, as web systems' "Excel" exports often do).
    public var separator: Character { delimiter == 0x09 ? "\t" : "," }

    let delimiter: UInt8
    /// The file as UTF-8 bytes (BOM removed): the file's own bytes when it is UTF-8 (not copied).
    let utf8: CSVBytes
    /// Offset of the first byte after the header record.
    let bodyStart: Int

    /// Reads and decodes a CSV file.
    /// - Parameters:
    ///   - url: the file.
    ///   - encoding: `nil` to detect (UTF-8 if valid, else GB18030), or the encoding to force.
    public convenience init(url: URL, encoding: TextEncodingChoice? = nil) throws(ImportFailure) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw ImportFailure.file(
                zh: "无法读取文件 \(url.lastPathComponent)：\(error.localizedDescription)",
                en: "cannot read the file \(url.lastPathComponent): \(error.localizedDescription)")
        }
        try self.init(data: data, encoding: encoding)
    }

    /// Decodes CSV bytes.
    /// - Parameters:
    ///   - data: the raw file contents.
    ///   - encoding: `nil` to detect (UTF-8 if valid, else GB18030), or the encoding to force.
    public init(data: Data, encoding: TextEncodingChoice? = nil) throws(ImportFailure) {
        let (bytes, chosen) = try CSVTable.decode(data, encoding: encoding)
        self.utf8 = bytes
        self.encoding = chosen
        let delimiter = bytes.withUnsafeBufferPointer { CSVTable.detectDelimiter($0) }
        self.delimiter = delimiter
        let first = try bytes.withUnsafeBufferPointer { (buf) throws(ImportFailure) -> (Int, [String], Int)? in
            var parser = CSVByteParser(buf, delimiter: delimiter)
            while let (row, cells) = try parser.next() {
                if cells.contains(where: { !$0.isEmpty }) { return (row, cells, parser.position) }
            }
            return nil
        }
        guard let (row, cells, end) = first else {
            throw ImportFailure.file(
                zh: "文件为空，没有表头行（第一行应为列名）",
                en: "the file is empty: there is no header row (the first row must hold the column names)")
        }
        var hdr = cells
        while let last = hdr.last, last.isEmpty { hdr.removeLast() }
        self.headers = hdr
        self.headerRow = row
        self.bodyStart = end
    }

    /// Calls `body` for each non-empty data row with its spreadsheet row number and cells.
    /// Throws `ImportFailure` for an unclosed quote, or whatever `body` throws.
    public func forEachRow(_ body: (_ row: Int, _ cells: [String]) throws -> Void) throws {
        try utf8.withUnsafeBufferPointer { buf in
            var parser = CSVByteParser(buf, start: bodyStart, row: headerRow + 1, delimiter: delimiter)
            while let (row, cells) = try parser.next() {
                var empty = true
                for c in cells where !c.isEmpty { empty = false; break }
                if empty { continue }
                try body(row, cells)
            }
        }
    }

    /// Tab when the first non-empty line has tabs and no comma, else comma.
    static func detectDelimiter(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var commas = 0, tabs = 0, seen = false
        for b in bytes {
            if b == 0x0A || b == 0x0D { if seen { break } else { continue } }
            seen = true
            if b == 0x2C { commas += 1 } else if b == 0x09 { tabs += 1 }
        }
        return commas == 0 && tabs > 0 ? 0x09 : 0x2C
    }

    // MARK: - Encoding

    /// Detects the encoding of CSV bytes: UTF-8 (with or without BOM) when the bytes are
    /// valid UTF-8, else GB18030 (which covers GBK and GB2312).
    public static func detectEncoding(_ bytes: Data) -> TextEncodingChoice {
        bytes.withUnsafeBytes { raw in
            detectEncoding(raw.bindMemory(to: UInt8.self))
        }
    }

    /// Detects the encoding of CSV bytes: UTF-8 when valid UTF-8, else GB18030.
    public static func detectEncoding(_ bytes: [UInt8]) -> TextEncodingChoice {
        bytes.withUnsafeBufferPointer { detectEncoding($0) }
    }

    static func detectEncoding(_ buf: UnsafeBufferPointer<UInt8>) -> TextEncodingChoice {
        firstInvalidUTF8(buf) == nil ? .utf8 : .gb18030
    }

    /// Returns the file as UTF-8 bytes without BOM (the data itself when it is UTF-8), and the encoding used.
    static func decode(_ data: Data, encoding: TextEncodingChoice?) throws(ImportFailure)
        -> (CSVBytes, TextEncodingChoice)
    {
        let result: Result<([UInt8]?, Int, TextEncodingChoice), ImportFailure> = data.withUnsafeBytes { raw in
            let all = raw.bindMemory(to: UInt8.self)
            do throws(ImportFailure) {
                return .success(try decode(all, encoding: encoding))
            } catch {
                return .failure(error)
            }
        }
        let (converted, start, chosen) = try result.get()
        if let converted { return (CSVBytes(Data(converted), start: 0), chosen) }
        return (CSVBytes(data, start: start), chosen)
    }

    /// The converted bytes (nil: the input itself from the offset), the offset, the encoding.
    private static func decode(_ all: UnsafeBufferPointer<UInt8>, encoding: TextEncodingChoice?) throws(ImportFailure)
        -> ([UInt8]?, Int, TextEncodingChoice)
    {
        // Refuse what is clearly not a CSV text file, with a message that says what it is.
        if all.count >= 2, (all[0] == 0xFF && all[1] == 0xFE) || (all[0] == 0xFE && all[1] == 0xFF) {
            throw ImportFailure.file(
                zh: "文件是 UTF-16 编码（Excel 的“Unicode 文本”），不受支持；请另存为“CSV UTF-8（逗号分隔）”或 .xlsx",
                en: "the file is UTF-16 encoded (Excel's \"Unicode Text\"), which is not supported; save it as \"CSV UTF-8 (Comma delimited)\" or .xlsx")
        }
        if all.count >= 4, all[0] == 0x50, all[1] == 0x4B, all[2] == 0x03, all[3] == 0x04 {
            throw ImportFailure.file(
                zh: "这是一个 Excel (.xlsx) 或 ZIP 文件，不是 CSV 文本",
                en: "this is an Excel (.xlsx) or ZIP file, not CSV text")
        }
        if all.count >= 4, all[0] == 0xD0, all[1] == 0xCF, all[2] == 0x11, all[3] == 0xE0 {
            throw ImportFailure.file(
                zh: "这是旧版 Excel 97-2003 (.xls) 文件，不受支持；请另存为 .xlsx 或 CSV",
                en: "this is a legacy Excel 97-2003 (.xls) file, which is not supported; save it as .xlsx or CSV")
        }
        if let nul = memchrOffset(all, 0) {
            let row = physicalRow(all, atOffset: nul)
            throw ImportFailure.file(
                zh: "文件含有 NUL 字节（第 \(row) 行附近，字节偏移 \(nul)），看起来是二进制文件而不是 CSV 文本",
                en: "the file contains a NUL byte (around row \(row), byte offset \(nul)); it looks like a binary file, not CSV text")
        }

        let hasBOM = all.count >= 3 && all[0] == 0xEF && all[1] == 0xBB && all[2] == 0xBF
        let body = hasBOM ? UnsafeBufferPointer(rebasing: all[3...]) : all

        let chosen: TextEncodingChoice
        // the body's first invalid UTF-8 byte, looked for once (and in pieces at once for a large file)
        var firstInvalid: Int?? = nil
        func invalid() -> Int? {
            if let known = firstInvalid { return known }
            let found = firstInvalidUTF8InPieces(body)
            firstInvalid = .some(found)
            return found
        }
        if let forced = encoding {
            chosen = forced
            if forced == .gb18030 && hasBOM {
                throw ImportFailure.file(
                    zh: "文件以 UTF-8 BOM 标记开头，却指定了 GB18030 (GBK) 编码；请改用 UTF-8 或不指定编码",
                    en: "the file starts with a UTF-8 byte-order mark but GB18030 (GBK) was requested; use UTF-8 or let the encoding be detected")
            }
        } else if hasBOM {
            chosen = .utf8
        } else if let bad = invalid() {
            // Not valid UTF-8. Usually GBK; but a UTF-8 file that is damaged or cut short would
            // be silently garbled by reading it as GB18030, so say so instead.
            if looksLikeDamagedUTF8(body, firstInvalid: bad) {
                let row = physicalRow(body, atOffset: bad)
                throw ImportFailure.file(
                    zh: "文件看起来是 UTF-8 编码，但第 \(row) 行附近有无效字节（字节偏移 \(bad)）；文件可能已损坏、被截断或混用了两种编码。如确为 GBK 编码，请用 --encoding gb18030",
                    en: "the file looks like UTF-8 but has invalid bytes around row \(row) (byte offset \(bad)); it may be damaged, cut short or mix two encodings. If it really is GBK, use --encoding gb18030")
            }
            chosen = .gb18030
        } else {
            chosen = .utf8
        }

        switch chosen {
        case .utf8:
            if let bad = invalid() {
                let row = physicalRow(body, atOffset: bad)
                let offset = bad + (hasBOM ? 3 : 0)
                let hint = hasBOM ? "" : "文件可能是 GBK/GB18030 编码，可改用 --encoding gb18030 或不指定编码；"
                let hintEn = hasBOM ? "" : "the file may be GBK/GB18030 encoded: use --encoding gb18030 or let the encoding be detected; "
                throw ImportFailure.file(
                    zh: "文件不是有效的 UTF-8 编码（第 \(row) 行附近，字节偏移 \(offset)）；\(hint)或在 Excel 中另存为“CSV UTF-8”",
                    en: "the file is not valid UTF-8 text (around row \(row), byte offset \(offset)); \(hintEn)or save it from Excel as \"CSV UTF-8\"")
            }
            return (nil, hasBOM ? 3 : 0, .utf8)
        case .gb18030:
            var out = try convertGB18030(body)
            // A GB18030-encoded BOM (84 31 95 33) becomes a UTF-8 BOM: drop it too.
            if out.count >= 3 && out[0] == 0xEF && out[1] == 0xBB && out[2] == 0xBF { out.removeFirst(3) }
            return (out, 0, .gb18030)
        }
    }

    /// Converts GB18030 bytes to UTF-8 with iconv, in large chunks.
    /// `chunk` bounds the input handed to one iconv call (small values are for tests).
    static func convertGB18030(_ input: UnsafeBufferPointer<UInt8>, chunk: Int = 64 << 20) throws(ImportFailure) -> [UInt8] {
        if input.isEmpty { return [] }
        let cd = iconv_open("UTF-8", "GB18030")
        if cd == UnsafeMutableRawPointer(bitPattern: -1) {
            throw ImportFailure.file(
                zh: "系统不支持 GB18030 编码转换（iconv），请将文件另存为 UTF-8",
                en: "this system cannot convert GB18030 text (iconv); save the file as UTF-8")
        }
        defer { iconv_close(cd) }
        // Every GB18030 character takes at least 2/3 as many bytes as its UTF-8 form
        // (ASCII 1→1, two bytes → at most 3, four bytes → 4), so 1.5 × input always fits.
        let capacity = input.count + input.count / 2 + 16
        var failure: ImportFailure? = nil
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { outBuf, initialized in
            var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(mutating: input.baseAddress!)
                .assumingMemoryBound(to: CChar.self)
            var inLeft = input.count
            var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress!)
                .assumingMemoryBound(to: CChar.self)
            while inLeft > 0 {
                var thisIn = min(inLeft, max(chunk, 4))  // 4 = the longest GB18030 character
                let before = thisIn
                var outLeft = capacity - (UnsafeMutableRawPointer(outPtr!) - UnsafeMutableRawPointer(outBuf.baseAddress!))
                let rc = iconv(cd, &inPtr, &thisIn, &outPtr, &outLeft)
                let consumed = before - thisIn
                inLeft -= consumed
                if rc == -1 {
                    let err = errno
                    let offset = input.count - inLeft
                    if err == EINVAL && inLeft > thisIn {
                        // A character split by the chunk boundary: carry on with the next chunk.
                        continue
                    }
                    if err == E2BIG { failure = conversionFailure(input, offset: offset, truncated: false); break }
                    failure = conversionFailure(input, offset: offset, truncated: err == EINVAL)
                    break
                }
            }
            initialized = UnsafeMutableRawPointer(outPtr!) - UnsafeMutableRawPointer(outBuf.baseAddress!)
        }
        if let failure { throw failure }
        return out
    }

    private static func conversionFailure(_ input: UnsafeBufferPointer<UInt8>, offset: Int, truncated: Bool) -> ImportFailure {
        let row = physicalRow(input, atOffset: offset)
        if truncated {
            return ImportFailure.file(
                zh: "文件不是有效的 GB18030 (GBK) 编码：文件末尾的字符不完整（第 \(row) 行），文件可能被截断",
                en: "the file is not valid GB18030 (GBK) text: the last character is incomplete (row \(row)); the file may be truncated")
        }
        return ImportFailure.file(
            zh: "文件不是有效的 GB18030 (GBK) 编码（第 \(row) 行附近，字节偏移 \(offset)）；文件可能是其他编码或不是文本文件，请在 Excel 中另存为“CSV UTF-8”",
            en: "the file is not valid GB18030 (GBK) text (around row \(row), byte offset \(offset)); it may use another encoding or not be a text file: save it from Excel as \"CSV UTF-8\"")
    }

    private static func memchrOffset(_ buf: UnsafeBufferPointer<UInt8>, _ byte: UInt8) -> Int? {
        guard let base = buf.baseAddress, !buf.isEmpty else { return nil }
        guard let p = memchr(base, Int32(byte), buf.count) else { return nil }
        return UnsafeRawPointer(p) - UnsafeRawPointer(base)
    }

    /// The spreadsheet row (1-based, counting records outside quotes) that holds the byte at
    /// `offset`. Works on UTF-8 and GB18030 bytes alike: neither uses bytes < 0x40 inside a
    /// multibyte character except GB18030's digits, which are never quotes or line ends.
    static func physicalRow(_ buf: UnsafeBufferPointer<UInt8>, atOffset offset: Int) -> Int {
        var row = 1
        var inQuotes = false
        var i = 0
        let end = min(offset, buf.count)
        while i < end {
            let b = buf[i]
            if b == 0x22 { inQuotes.toggle() }
            else if !inQuotes {
                if b == 0x0A { row += 1 }
                else if b == 0x0D {
                    row += 1
                    if i + 1 < end && buf[i + 1] == 0x0A { i += 1 }
                }
            }
            i += 1
        }
        return row
    }

    /// Whether bytes that are not valid UTF-8 are nevertheless UTF-8 text with a few bad bytes
    /// (a damaged file, or one cut in the middle of a character) rather than GBK text. Chinese
    /// GBK text breaks the UTF-8 rules every few characters; damaged UTF-8 almost never does.
    /// Looks at the first 4 MB.
    static func looksLikeDamagedUTF8(_ buf: UnsafeBufferPointer<UInt8>, firstInvalid: Int) -> Bool {
        let n = min(buf.count, 4 << 20)
        var valid = 0, invalid = 0
        var i = 0
        while i < n {
            let b0 = buf[i]
            if b0 < 0x80 { i += 1; continue }
            let len = b0 >= 0xC2 && b0 < 0xE0 ? 2 : b0 >= 0xE0 && b0 < 0xF0 ? 3 : b0 >= 0xF0 && b0 < 0xF5 ? 4 : 0
            if len > 0, i + len <= buf.count,
               firstInvalidUTF8(UnsafeBufferPointer(rebasing: buf[i..<(i + len)])) == nil {
                valid += 1; i += len
            } else {
                // One bad sequence: the byte and the continuation bytes that follow it.
                invalid += 1; i += 1
                while i < n && buf[i] & 0xC0 == 0x80 { i += 1 }
            }
        }
        // Cut short inside the last character, after real UTF-8 text.
        if invalid == 1 && valid >= 1 && firstInvalid >= buf.count - 3 { return true }
        // GBK text measures about one valid sequence per three bad ones; damaged UTF-8 the reverse.
        return valid >= 16 && invalid * 10 < valid
    }

    /// ``firstInvalidUTF8(_:)`` of a large buffer, its pieces (cut before a byte that starts a
    /// character) looked at on every core at once: the first invalid offset of the first piece that has one.
    static func firstInvalidUTF8InPieces(_ buf: UnsafeBufferPointer<UInt8>) -> Int? {
        let parts = min(Parallel.cores, buf.count / (4 << 20))
        guard parts > 1, let base = buf.baseAddress else { return firstInvalidUTF8(buf) }
        var cuts = [0]
        for k in 1..<parts {
            var c = buf.count * k / parts
            while c < buf.count && buf[c] & 0xC0 == 0x80 { c += 1 }
            cuts.append(max(c, cuts.last!))
        }
        cuts.append(buf.count)
        var found = [Int?](repeating: nil, count: parts)
        found.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Parallel.perform(parts) { k in
                let piece = UnsafeBufferPointer(start: base + cuts[k], count: cuts[k + 1] - cuts[k])
                out.value[k] = firstInvalidUTF8(piece).map { $0 + cuts[k] }
            }
        }
        return found.compactMap { $0 }.first
    }

    /// Offset of the first byte that is not part of a valid UTF-8 sequence, or nil.
    /// Rejects overlong forms, surrogates, code points above U+10FFFF and truncated sequences.
    static func firstInvalidUTF8(_ buf: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = buf.baseAddress else { return nil }
        let n = buf.count
        var i = 0
        while i < n {
            // ASCII fast path: eight bytes at a time.
            while i + 8 <= n {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                if w & 0x8080_8080_8080_8080 != 0 { break }
                i += 8
            }
            if i >= n { break }
            let b0 = base[i]
            if b0 < 0x80 { i += 1; continue }
            if b0 < 0xC2 { return i }
            if b0 < 0xE0 {
                guard i + 1 < n, base[i + 1] & 0xC0 == 0x80 else { return i }
                i += 2; continue
            }
            if b0 < 0xF0 {
                guard i + 2 < n else { return i }
                let b1 = base[i + 1], b2 = base[i + 2]
                guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80 else { return i }
                if b0 == 0xE0 && b1 < 0xA0 { return i }  // overlong
                if b0 == 0xED && b1 > 0x9F { return i }  // surrogate
                i += 3; continue
            }
            if b0 < 0xF5 {
                guard i + 3 < n else { return i }
                let b1 = base[i + 1], b2 = base[i + 2], b3 = base[i + 3]
                guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80 else { return i }
                if b0 == 0xF0 && b1 < 0x90 { return i }  // overlong
                if b0 == 0xF4 && b1 > 0x8F { return i }  // > U+10FFFF
                i += 4; continue
            }
            return i
        }
        return nil
    }
}

/// A CSV file's UTF-8 bytes: the file's data (perhaps mapped) from an offset, or converted bytes.
struct CSVBytes {
    private let data: Data
    private let start: Int

    init(_ data: Data, start: Int) { self.data = data; self.start = start }

    func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = data.withUnsafeBytes { raw in
            let all = raw.bindMemory(to: UInt8.self)
            do throws(E) {
                return .success(try body(UnsafeBufferPointer(rebasing: all[start...])))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// RFC 4180 record parser over UTF-8 bytes. Cells become Strings once; quoted cells with
/// doubled quotes are unescaped through a small scratch buffer.
struct CSVByteParser {
    let buf: UnsafeBufferPointer<UInt8>
    private(set) var position: Int
    /// Physical row number of the next record.
    private(set) var row: Int
    private var scratch: [UInt8] = []
    private var capacityHint = 8

    init(_ buf: UnsafeBufferPointer<UInt8>, start: Int = 0, row: Int = 1, delimiter: UInt8 = 0x2C) {
        self.buf = buf
        self.comma = delimiter
        self.position = start
        self.row = row
    }

    private static let quote: UInt8 = 0x22, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D
    /// The cell separator: `,` (or a tab for tab-separated text).
    let comma: UInt8

    @inline(__always)
    private func makeString(_ from: Int, _ to: Int) -> String {
        if from == to { return "" }
        return String(decoding: UnsafeBufferPointer(rebasing: buf[from..<to]), as: UTF8.self)
    }

    /// The next record with its row number, or nil at the end. An empty line yields `[""]`.
    mutating func next() throws(ImportFailure) -> (Int, [String])? {
        let n = buf.count
        var i = position
        if i >= n { return nil }
        let recordRow = row
        var cells: [String] = []
        cells.reserveCapacity(capacityHint)

        while true {
            // Start of a cell.
            if i < n && buf[i] == CSVByteParser.quote {
                // Quoted cell.
                let openRow = recordRow
                i += 1
                let start = i
                var hasDoubled = false
                var closed = false
                while i < n {
                    let b = buf[i]
                    if b == CSVByteParser.quote {
                        if i + 1 < n && buf[i + 1] == CSVByteParser.quote { hasDoubled = true; i += 2; continue }
                        closed = true
                        break
                    }
                    i += 1
                }
                if !closed {
                    throw ImportFailure(errors: [RowError(
                        row: openRow, column: "",
                        zh: "引号没有闭合：以 \" 开头的单元格直到文件末尾都没有结束",
                        en: "unclosed quote: a cell starting with \" does not end before the end of the file")])
                }
                let end = i
                i += 1  // closing quote
                // Text after the closing quote up to the delimiter is kept literally (as Excel does).
                let tailStart = i
                while i < n {
                    let b = buf[i]
                    if b == comma || b == CSVByteParser.lf || b == CSVByteParser.cr { break }
                    i += 1
                }
                if !hasDoubled && tailStart == i {
                    cells.append(makeString(start, end))
                } else {
                    scratch.removeAll(keepingCapacity: true)
                    var j = start
                    while j < end {
                        let b = buf[j]
                        scratch.append(b)
                        j += (b == CSVByteParser.quote) ? 2 : 1
                    }
                    if tailStart < i { scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buf[tailStart..<i])) }
                    cells.append(String(decoding: scratch, as: UTF8.self))
                }
            } else {
                let start = i
                while i < n {
                    let b = buf[i]
                    if b == comma || b == CSVByteParser.lf || b == CSVByteParser.cr { break }
                    i += 1
                }
                cells.append(makeString(start, i))
            }
            // After a cell: a comma, a line end, or the end of the data.
            if i >= n { break }
            let b = buf[i]
            if b == comma { i += 1; continue }
            // Line end.
            i += 1
            if b == CSVByteParser.cr && i < n && buf[i] == CSVByteParser.lf { i += 1 }
            break
        }
        position = i
        // A line break inside a quoted cell does not start a new spreadsheet row.
        row = recordRow + 1
        if cells.count > capacityHint { capacityHint = cells.count }
        return (recordRow, cells)
    }
}
