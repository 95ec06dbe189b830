import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes records as the import template (FORMATS.md, Chinese headers): CSV in UTF-8 or
/// GB18030 (as Excel on Chinese Windows saves it), or XLSX.
public enum DemoFiles {
    public static let headers = EnterpriseImport.fields.map(\.chinese)

    /// A record's cells in the order of ``headers`` (``EnterpriseImport/fields``).
    static func cells(_ r: EnterpriseRecord) -> [String] {
        var cells: [String] = []
        cells.reserveCapacity(headers.count)
        cells.append(String(r.year)); cells.append(r.creditCode); cells.append(r.name); cells.append(r.town)
        cells.append(r.group.chinese); cells.append(r.industry ?? "")
        for f in figures { cells.append(r[f].map { formatNumber($0) } ?? "") }
        cells.append(r.vetoes.joined(separator: ";")); cells.append(r.exempt ?? "")
        return cells
    }

    private static let figures = RecordField.allCases

    /// The positions of the figures among the cells (written as numbers to XLSX).
    static let figureColumns = Set(EnterpriseImport.fields.indices.filter { RecordField(rawValue: EnterpriseImport.fields[$0].key) != nil })

    /// The template as UTF-8 CSV bytes.
    public static func csv(_ records: [EnterpriseRecord]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(records.count * 160)
        out += headers.joined(separator: ",").utf8
        out.append(0x0A)
        for r in records {
            for (i, c) in cells(r).enumerated() {
                if i > 0 { out.append(0x2C) }
                if c.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A }) {
                    out += ("\"" + c.replacingOccurrences(of: "\"", with: "\"\"") + "\"").utf8
                } else {
                    out += c.utf8
                }
            }
            out.append(0x0A)
        }
        return out
    }

    /// Writes CSV (by encoding) or XLSX (by the .xlsx extension).
    public static func write(_ records: [EnterpriseRecord], to url: URL, encoding: TextEncodingChoice = .utf8) throws {
        if url.pathExtension.lowercased() == "xlsx" {
            var w = XLSXWriter()
            w.addSheet(name: "企业亩均数据", headers: headers, rows: records.map { r in
                cells(r).enumerated().map { i, c in
                    if c.isEmpty { return .empty }
                    if figureColumns.contains(i), let d = Double(c) { return .number(d) }
                    return .text(c)
                }
            })
            try w.write(to: url)
            return
        }
        let utf8 = csv(records)
        let bytes = encoding == .gb18030 ? try toGB18030(utf8) : utf8
        try Data(bytes).write(to: url)
    }

    /// Converts UTF-8 bytes to GB18030 with iconv.
    public static func toGB18030(_ utf8: [UInt8]) throws -> [UInt8] {
        let cd = iconv_open("GB18030", "UTF-8")
        guard cd != iconv_t(bitPattern: -1) else {
            throw ImportFailure.file(zh: "系统不支持 GB18030 编码", en: "iconv cannot convert to GB18030")
        }
        defer { iconv_close(cd) }
        var out = [UInt8](repeating: 0, count: utf8.count + 16)
        var input = utf8
        let written: Int = input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                var inLeft = inBuf.count, outLeft = outBuf.count
                _ = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                return inLeft == 0 ? outBuf.count - outLeft : -1
            }
        }
        guard written >= 0 else { throw ImportFailure.file(zh: "无法转换为 GB18030", en: "cannot convert to GB18030") }
        return Array(out[0..<written])
    }
}
