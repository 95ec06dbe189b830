import Foundation

/// Writes an evaluation outcome as CSV (UTF-8, header row), JSON or XLSX: one row per input
/// enterprise, with every indicator's value, benchmark and score, the total (unrounded in
/// CSV and JSON), the rank, the classes before and after vetoes, and why an enterprise was
/// not evaluated.
public enum ResultsWriter {
    public enum Format: String, Sendable, CaseIterable {
        case csv, json, xlsx
        /// From a file name's extension.
        public init?(path: String) {
            switch URL(fileURLWithPath: path).pathExtension.lowercased() {
            case "csv": self = .csv
            case "json": self = .json
            case "xlsx": self = .xlsx
            default: return nil
            }
        }
    }

    /// Header language of CSV output.
    public enum HeaderStyle: String, Sendable, CaseIterable { case en, zh }

    struct Column {
        var en: String
        var zh: String
        var value: (EnterpriseResult) -> Value
    }

    enum Value {
        case text(String?)
        case number(Double?)
        case integer(Int?)
    }

    /// The columns, in order: identity, per-indicator value/benchmark/score/missing, totals.
    static func columns(_ outcome: EvaluationOutcome) -> [Column] {
        var cols: [Column] = [
            Column(en: "credit_code", zh: "统一社会信用代码") { .text($0.creditCode) },
            Column(en: "name", zh: "企业名称") { .text($0.name) },
            Column(en: "town", zh: "所属镇街") { .text($0.town) },
            Column(en: "group", zh: "规模") { .text($0.group.chinese) },
            Column(en: RecordField.landMu.key, zh: RecordField.landMu.chinese) { .number($0.landMu) },
        ]
        let used = Indicator.allCases.filter { ind in outcome.benchmarks.contains { $0.indicator == ind } }
        for ind in used {
            func item(_ r: EnterpriseResult) -> IndicatorScore? { r.items.first { $0.indicator == ind } }
            cols += [
                Column(en: "\(ind.rawValue)_value", zh: "\(ind.chinese)(\(ind.unit))") { .number(item($0)?.value) },
                Column(en: "\(ind.rawValue)_benchmark", zh: "\(ind.chinese)基准值") { .number(item($0)?.benchmark) },
                Column(en: "\(ind.rawValue)_score", zh: "\(ind.chinese)得分") { .number(item($0)?.score) },
                Column(en: "\(ind.rawValue)_missing", zh: "\(ind.chinese)缺失") { r in
                    .text(item(r).map { $0.missing ? "1" : "0" })
                },
            ]
        }
        cols += [
            Column(en: "bonus", zh: "加分") { .number($0.evaluated ? $0.bonus : nil) },
            Column(en: "total_score", zh: "总分") { .number($0.totalScore) },
            Column(en: "rank", zh: "组内排名") { .integer($0.rank) },
            Column(en: "group_size", zh: "组内参评企业数") { .integer($0.evaluated ? $0.groupSize : nil) },
            Column(en: "class_before_veto", zh: "否决前分类") { .text($0.classBeforeVeto?.rawValue) },
            Column(en: "class", zh: "最终分类") { .text($0.finalClass?.rawValue) },
            Column(en: "vetoes", zh: "一票否决") { .text($0.vetoes.joined(separator: ";")) },
            Column(en: "exempt_reason", zh: "不参评原因") { .text($0.exemptReason) },
            Column(en: "electricity_surcharge", zh: "差别化电价加价(元/千瓦时)") { .number($0.policy?.electricitySurcharge) },
            Column(en: "credit_eligible", zh: "亩均英雄贷") { r in .text(r.policy.map { $0.creditEligible ? "是" : "否" }) },
        ]
        return cols
    }

    /// CSV bytes (UTF-8, no BOM unless asked, header row).
    ///
    /// The rows are the cells of ``columns(_:)``, written directly (and in parallel chunks for
    /// large outcomes) rather than through the column closures; the text is the same.
    public static func csv(_ outcome: EvaluationOutcome, headers: HeaderStyle = .en, bom: Bool = false) -> Data {
        let chunks = csvChunks(outcome, headers: headers, bom: bom)
        var data = Data(capacity: chunks.reduce(0) { $0 + $1.count })
        for c in chunks { data.append(contentsOf: c) }
        return data
    }

    /// The CSV text in consecutive pieces: the header row, then the rows in chunks.
    static func csvChunks(_ outcome: EvaluationOutcome, headers: HeaderStyle, bom: Bool) -> [[UInt8]] {
        let head = csvHeader(outcome, headers: headers, bom: bom)
        let used = Indicator.allCases.filter { ind in outcome.benchmarks.contains { $0.indicator == ind } }
        let results = outcome.results
        let n = results.count
        let parts = n < 20_000 ? 1 : max(1, Parallel.cores) * 4
        var chunks = [[UInt8]](repeating: [], count: parts + 1)
        chunks[0] = head
        chunks.withUnsafeMutableBufferPointer { cp in
            results.withUnsafeBufferPointer { rp in
                let writer = CSVRows(used: used)
                if parts == 1 {
                    cp[1] = writer.rows(rp, 0..<n)
                } else {
                    Parallel.perform(parts) { t in
                        cp[t + 1] = writer.rows(rp, (t * n / parts)..<((t + 1) * n / parts))
                    }
                }
            }
        }
        return chunks
    }

    /// The header row (with the BOM when asked).
    static func csvHeader(_ outcome: EvaluationOutcome, headers: HeaderStyle, bom: Bool) -> [UInt8] {
        var head = [UInt8]()
        if bom { head += [0xEF, 0xBB, 0xBF] }
        for (i, c) in columns(outcome).enumerated() {
            if i > 0 { head.append(0x2C) }
            CSVRows.field(headers == .en ? c.en : c.zh, to: &head)
        }
        head.append(0x0A)
        return head
    }

    /// Writes the CSV to a new file next to `url`, syncs it and renames it over `url`, as
    /// `Data.write(to:options: .atomic)` does. The rows are formatted on all cores in chunks,
    /// each written as soon as the ones before it are, so formatting and writing overlap and
    /// the whole text is never held in memory. Returns false (leaving nothing behind) if any
    /// step fails: the caller then writes the usual way, which reports the error as usual.
    static func writeCSVFile(_ outcome: EvaluationOutcome, headers: HeaderStyle, to url: URL) -> Bool {
        let path = url.path
        var dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty && !dir.hasSuffix("/") { dir += "/" }
        let prefix = dir + ".dat.nosync" + String(getpid(), radix: 16, uppercase: true) + "."
        var fd: Int32 = -1
        var temp = ""
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for _ in 0..<7 {
            temp = prefix + String((0..<6).map { _ in letters.randomElement()! })
            fd = open(temp, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { return false }
        let head = csvHeader(outcome, headers: headers, bom: false)
        let used = Indicator.allCases.filter { ind in outcome.benchmarks.contains { $0.indicator == ind } }
        let order = WriteOrder(fd: fd)
        var ok = order.write(head)
        if ok {
            let results = outcome.results
            let n = results.count
            let rowsPerChunk = 16_384
            let chunks = (n + rowsPerChunk - 1) / rowsPerChunk
            results.withUnsafeBufferPointer { rp in
                let writer = CSVRows(used: used)
                Parallel.perform(min(Parallel.cores, max(chunks, 1))) { _ in
                    var buffer: [UInt8] = []
                    while let c = order.nextChunk(of: chunks) {
                        writer.rows(rp, (c * rowsPerChunk)..<min(n, (c + 1) * rowsPerChunk), into: &buffer)
                        order.write(buffer, chunk: c)
                    }
                }
            }
            ok = order.ok
        }
        if ok && fsync(fd) < 0 && errno != EINVAL { ok = false }
        if close(fd) != 0 { ok = false }
        // Deleting a large file being replaced takes a while (its blocks are freed). Keeping
        // the old file open across the rename leaves that to the close, done in the
        // background (or by the system at exit at the latest); the rename stays atomic.
        let old = openReplacedFile(path)
        defer { if let old { DispatchQueue.global(qos: .utility).async { close(old.value) } } }
        if ok && rename(temp, path) == 0 { return true }
        unlink(temp)
        return false
    }

    /// The file at `path`, opened when it is a regular file, else nil.
    private static func openReplacedFile(_ path: String) -> UncheckedSendable<Int32>? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { close(fd); return nil }
        return UncheckedSendable(fd)
    }

    /// Hands out chunk numbers in order and lets each chunk be written only after the one
    /// before it.
    private final class WriteOrder: @unchecked Sendable {
        let fd: Int32
        private let cond = NSCondition()
        private var handedOut = 0
        private var written = 0
        private(set) var ok = true

        init(fd: Int32) { self.fd = fd }

        func nextChunk(of count: Int) -> Int? {
            cond.lock(); defer { cond.unlock() }
            guard ok, handedOut < count else { return nil }
            handedOut += 1
            return handedOut - 1
        }

        /// Writes `bytes` (the text of chunk `chunk`) once every earlier chunk is written.
        func write(_ bytes: [UInt8], chunk: Int) {
            cond.lock()
            while written != chunk && ok { cond.wait() }
            let go = ok
            cond.unlock()
            let done = go && write(bytes)
            cond.lock()
            if !done { ok = false }
            written += 1
            cond.broadcast()
            cond.unlock()
        }

        private var offset = 0

        /// Writes all of `bytes` at the file's end, and starts writing them out to the disk
        /// (so that the final `fsync` has little left to wait for).
        func write(_ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let r = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                    if r > 0 { done += r } else if r < 0 && errno == EINTR { continue } else { return false }
                }
                #if os(Linux)
                // starts the write-back of these (still dirty) pages without waiting for it
                _ = posix_fadvise(fd, off_t(offset), off_t(raw.count), POSIX_FADV_DONTNEED)
                #endif
                offset += raw.count
                return true
            }
        }
    }

    /// JSON: `{year, benchmarks, results}` with snake_case keys.
    public static func json(_ outcome: EvaluationOutcome) throws -> Data {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(outcome)
    }

    /// XLSX with Chinese headers, a results sheet and a benchmarks sheet.
    public static func xlsx(_ outcome: EvaluationOutcome, rulesName: String = "") throws -> Data {
        let cols = columns(outcome)
        var w = XLSXWriter()
        let rows: [[XLSXCell]] = outcome.results.map { r in
            cols.map { c in
                switch c.value(r) {
                case .text(let s): s.map { .text($0) } ?? .empty
                case .number(let d): d.map { .number($0) } ?? .empty
                case .integer(let n): n.map { .number(Double($0)) } ?? .empty
                }
            }
        }
        w.addSheet(name: "\(outcome.year)年度评价结果", headers: cols.map(\.zh), rows: rows,
                   columnWidths: cols.map { $0.en == "name" ? 36 : ($0.en == "credit_code" ? 22 : 14) })
        w.addSheet(name: "基准值", headers: ["规模", "指标", "单位", "基准值", "计算方式", "有该指标企业数"],
                   rows: outcome.benchmarks.map { b in
                       [.text(b.group.chinese), .text(b.indicator.chinese), .text(b.indicator.unit),
                        b.value.map { .number($0) } ?? .empty, .text(b.mode.rawValue), .number(Double(b.count))]
                   }, columnWidths: [8, 24, 14, 14, 12, 16])
        return try w.data()
    }

    /// Writes to `url` in the format its extension names.
    public static func write(_ outcome: EvaluationOutcome, to url: URL, headers: HeaderStyle = .en) throws {
        guard let format = Format(path: url.path) else {
            throw RulesError(zh: "输出文件须为 .csv、.json 或 .xlsx", en: "output file must end in .csv, .json or .xlsx")
        }
        let data: Data
        switch format {
        case .csv:
            if writeCSVFile(outcome, headers: headers, to: url) { return }
            data = csv(outcome, headers: headers)
        case .json: data = try json(outcome)
        case .xlsx: data = try xlsx(outcome)
        }
        try data.write(to: url, options: .atomic)
    }
}

/// The data rows of the CSV output, cell for cell what ``ResultsWriter/columns(_:)`` gives.
struct CSVRows {
    let used: [Indicator]

    /// Appends a text cell, quoted when it holds a comma, quote or line break.
    @inline(__always)
    static func field(_ s: String, to out: inout [UInt8]) {
        if s.utf8.withContiguousStorageIfAvailable({ field(bytes: $0, to: &out) }) == nil {
            let bytes = Array(s.utf8)
            bytes.withUnsafeBufferPointer { field(bytes: $0, to: &out) }
        }
    }

    @inline(__always)
    private static func field(bytes buf: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var special = false
        for b in buf where b == 0x2C || b == 0x22 || b == 0x0A || b == 0x0D { special = true; break }
        if special {
            out.append(0x22)
            for b in buf { if b == 0x22 { out.append(0x22) }; out.append(b) }
            out.append(0x22)
        } else {
            out.append(contentsOf: buf)
        }
    }

    /// A number cell (`description`), with the last value's text kept for repeated values.
    struct CachedNumber {
        var bits: UInt64 = 0
        var valid = false
        var text: [UInt8] = []

        @inline(__always)
        mutating func append(_ x: Double, to out: inout [UInt8]) {
            if valid && x.bitPattern == bits {
                text.withUnsafeBufferPointer { out.append(contentsOf: $0) }
                return
            }
            let start = out.count
            FastFormat.appendDescription(x, to: &out)
            text.removeAll(keepingCapacity: true)
            out.withUnsafeBufferPointer { text.append(contentsOf: UnsafeBufferPointer(rebasing: $0[start...])) }
            bits = x.bitPattern
            valid = true
        }
    }

    @inline(__always)
    static func append(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    func rows(_ results: UnsafeBufferPointer<EnterpriseResult>, _ range: Range<Int>) -> [UInt8] {
        var out = [UInt8]()
        rows(results, range, into: &out)
        return out
    }

    /// Replaces `out` with the rows `range` of `results`.
    func rows(_ results: UnsafeBufferPointer<EnterpriseResult>, _ range: Range<Int>, into out: inout [UInt8]) {
        let used = self.used.map { $0 }  // this thread's own copy
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(range.count * (80 + used.count * 30))
        var benchmarkCache = [CachedNumber](repeating: CachedNumber(), count: used.count)
        var scoreCache = [CachedNumber](repeating: CachedNumber(), count: used.count)
        var bonusCache = CachedNumber(), surchargeCache = CachedNumber()
        for idx in range {
            let r = results.baseAddress! + idx
            CSVRows.field(r.pointee.creditCode, to: &out)
            out.append(0x2C)
            CSVRows.field(r.pointee.name, to: &out)
            out.append(0x2C)
            CSVRows.field(r.pointee.town, to: &out)
            out.append(0x2C)
            CSVRows.append(r.pointee.group == .above ? "规上" : "规下", to: &out)  // EnterpriseGroup.chinese
            out.append(0x2C)
            if let d = r.pointee.landMu { FastFormat.appendDescription(d, to: &out) }
            r.pointee.items.withUnsafeBufferPointer { items in
                for (u, ind) in used.enumerated() {
                    out.append(0x2C)
                    // the first item of the indicator, as `items.first { $0.indicator == ind }`
                    var j = 0
                    while j < items.count && items[j].indicator != ind { j += 1 }
                    if j < items.count {
                        let item = items.baseAddress! + j
                        if let v = item.pointee.value { FastFormat.appendDescription(v, to: &out) }
                        out.append(0x2C)
                        if let b = item.pointee.benchmark { benchmarkCache[u].append(b, to: &out) }
                        out.append(0x2C)
                        if item.pointee.missing {
                            scoreCache[u].append(item.pointee.score, to: &out)
                        } else {
                            FastFormat.appendDescription(item.pointee.score, to: &out)
                        }
                        out.append(0x2C)
                        out.append(item.pointee.missing ? 0x31 : 0x30)
                    } else {
                        out.append(0x2C); out.append(0x2C); out.append(0x2C)
                    }
                }
            }
            out.append(0x2C)
            if r.pointee.evaluated { bonusCache.append(r.pointee.bonus, to: &out) }
            out.append(0x2C)
            if let t = r.pointee.totalScore { FastFormat.appendDescription(t, to: &out) }
            out.append(0x2C)
            if let k = r.pointee.rank { FastFormat.appendInt(k, to: &out) }
            out.append(0x2C)
            if r.pointee.evaluated { FastFormat.appendInt(r.pointee.groupSize, to: &out) }
            out.append(0x2C)
            if let c = r.pointee.classBeforeVeto { out.append(0x41 + UInt8(c.order)) }  // rawValue "A"…"D"
            out.append(0x2C)
            if let c = r.pointee.finalClass { out.append(0x41 + UInt8(c.order)) }
            out.append(0x2C)
            if r.pointee.vetoes.count == 1 {
                CSVRows.field(r.pointee.vetoes[0], to: &out)
            } else if !r.pointee.vetoes.isEmpty {
                CSVRows.field(r.pointee.vetoes.joined(separator: ";"), to: &out)
            }
            out.append(0x2C)
            if let e = r.pointee.exemptReason { CSVRows.field(e, to: &out) }
            out.append(0x2C)
            if let s = r.pointee.policy?.electricitySurcharge { surchargeCache.append(s, to: &out) }
            out.append(0x2C)
            if let e = r.pointee.policy?.creditEligible { CSVRows.append(e ? "是" : "否", to: &out) }
            out.append(0x0A)
        }
    }
}
