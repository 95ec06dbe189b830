import Foundation

/// Reads the enterprise annual data template (企业亩均数据, FORMATS.md) into records,
/// checking every row. All or nothing: any bad row fails the whole read, and the failure
/// lists every bad row (row number, column, reason in Chinese and English).
public enum EnterpriseImport {
    /// The template's columns: who and where, the figures (``RecordField``, of which only
    /// 用地面积 is required), then vetoes and exemption.
    public static let fields: [FieldSpec] = [
        FieldSpec(key: "year", chinese: "年度", required: false),
        FieldSpec(key: "credit_code", chinese: "统一社会信用代码", required: true),
        FieldSpec(key: "name", chinese: "企业名称", required: true),
        FieldSpec(key: "town", chinese: "所属镇街", required: true),
        FieldSpec(key: "scale", chinese: "规模", required: true),
        FieldSpec(key: "industry", chinese: "行业代码", required: false),
    ] + RecordField.allCases.map { FieldSpec(key: $0.key, chinese: $0.chinese, required: $0 == .landMu) } + [
        FieldSpec(key: "veto", chinese: "一票否决", required: false),
        FieldSpec(key: "exempt", chinese: "不参评原因", required: false),
    ]

    /// Reads and checks every row.
    /// - Parameters:
    ///   - year: the year given on the command line; when nil, every row needs 年度.
    ///   - progress: called now and then with the number of rows read so far.
    ///
    /// Rows are handed out by the table in batches and checked on every core (each batch on
    /// its own, so the outcome never depends on scheduling); duplicates are then found and
    /// the error report assembled in row order, exactly as a row-by-row check would.
    public static func read(_ table: any TableSource, year: Int?, rules: Rules,
                            progress: ((Int) -> Void)? = nil) throws(ImportFailure) -> [EnterpriseRecord] {
        let m = HeaderMatcher(headers: table.headers, fields: fields)
        var errors = RowErrorCollector()
        for f in m.missingRequired {
            errors.add(RowError(row: 1, column: f.chinese, zh: "缺少必需的列 \(f.chinese)（\(f.key)）",
                                en: "required column \(f.chinese) (\(f.key)) is missing"))
        }
        if year == nil && m.index(of: "year") == nil {
            errors.add(RowError(row: 1, column: "年度", zh: "文件没有年度列，请用 --year 指定年度",
                                en: "the file has no year column; give the year with --year"))
        }
        if let f = errors.failure() { throw f }

        let checker = RowChecker(matcher: m, year: year, rules: rules)
        let pipeline = CheckPipeline(checker: checker)
        let workers = max(0, min(ProcessInfo.processInfo.activeProcessorCount - 1, 7))
        var count = 0
        var batchRows: [Int] = []
        var batchCells: [[String]] = []
        var started = 0
        do {
            try table.forEachRow { row, cells in
                count += 1
                if count % 10_000 == 0 { progress?(count) }
                batchRows.append(row)
                batchCells.append(cells)
                if batchRows.count == CheckPipeline.batchSize {
                    _ = pipeline.submit(rows: batchRows, cells: batchCells)
                    batchRows = []; batchCells = []
                    batchRows.reserveCapacity(CheckPipeline.batchSize)
                    batchCells.reserveCapacity(CheckPipeline.batchSize)
                    // Helpers start once there is more than one batch of work.
                    if started < workers {
                        started += 1
                        DispatchQueue.global(qos: .userInitiated).async { pipeline.work() }
                    }
                }
            }
        } catch let f as ImportFailure {
            pipeline.cancel()
            throw f
        } catch {
            pipeline.cancel()
            throw ImportFailure.file(zh: "读取失败：\(error)", en: "read failed: \(error)")
        }
        if !batchRows.isEmpty { _ = pipeline.submit(rows: batchRows, cells: batchCells) }
        batchRows = []; batchCells = []
        pipeline.finish()
        pipeline.work()
        let batches = pipeline.results()

        // The report, in row order (duplicates were found as the batches came in).
        for batch in batches where !batch.bad.isEmpty || !batch.duplicates.isEmpty {
            let recs = batch.records
            var b = 0  // next bad row of the batch
            var d = 0  // next duplicate among the good records
            while b < batch.bad.count || d < batch.duplicates.count {
                let goodRow = d < batch.duplicates.count ? recs.base[batch.duplicates[d].k].row : Int.max
                if b < batch.bad.count && batch.bad[b].row < goodRow {
                    var rowErrors = batch.bad[b].errors
                    if let first = batch.bad[b].firstRow {
                        rowErrors.insert(checker.duplicate(row: batch.bad[b].row, code: batch.bad[b].code, first: first),
                                         at: batch.bad[b].duplicateAt)
                    }
                    for e in rowErrors { errors.add(e) }
                    b += 1
                } else {
                    let k = batch.duplicates[d].k
                    errors.add(checker.duplicate(row: goodRow, code: recs.base[k].creditCode, first: batch.duplicates[d].first))
                    d += 1
                }
            }
        }
        if let f = errors.failure() { throw f }
        let total = batches.reduce(0) { $0 + $1.records.count }
        if total == 0 {
            throw ImportFailure.file(zh: "文件中没有数据行", en: "the file has no data rows")
        }
        // Every row is good: the records of the batches, moved (not copied) into one array.
        var offsets: [Int] = []
        var offset = 0
        for batch in batches { offsets.append(offset); offset += batch.records.count }
        let records = [EnterpriseRecord](unsafeUninitializedCapacity: total) { buf, initialized in
            MemoryHint.hugePages(buf.baseAddress, bytes: total * MemoryLayout<EnterpriseRecord>.stride)
            Parallel.perform(min(Parallel.cores, batches.count)) { part in
                var b = part
                while b < batches.count {
                    batches[b].records.moveAll(to: buf.baseAddress! + offsets[b])
                    b += Parallel.cores
                }
            }
            initialized = total
        }
        progress?(count)
        return records
    }
}

/// Records built by one thread and later moved out in one go.
final class RecordBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<EnterpriseRecord>
    let capacity: Int
    /// Records at base[0..<count] are initialised (the checker writes them in place).
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: max(capacity, 1))
    }



    /// Moves every record to `dst` (uninitialised memory); the buffer is then empty.
    func moveAll(to dst: UnsafeMutablePointer<EnterpriseRecord>) {
        dst.moveInitialize(from: base, count: count)
        count = 0
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }
}

/// What checking a batch of rows gave: the good records (with their code keys), and the bad
/// rows with their errors (duplicates not yet known).
struct CheckedBatch: Sendable {
    var records: RecordBuffer
    var keys: [CodeKey] = []
    var bad: [BadRow] = []
    /// Good records whose code an earlier row already has: (index in `records`, that row).
    var duplicates: [(k: Int, first: Int)] = []
}

/// A valid credit code with the year it is unique in.
struct CodeKey: Sendable {
    var hi: UInt64
    var lo: UInt64
    var year: Int
}

struct BadRow: Sendable {
    var row: Int
    var errors: [RowError]
    /// Where a duplicate-code error goes among `errors` (after the year's).
    var duplicateAt: Int
    /// The code's key when the code itself is valid (so it counts for duplicates).
    var key: CodeKey?
    var code: String
    /// The earlier row with the same code, once duplicates are looked for.
    var firstRow: Int?
}

/// Credit code (and year) → first row: one open-addressing table of packed codes per year.
struct SeenCodes {
    private var tables: [Int: CodeTable] = [:]
    private var lastYear = Int.min
    private var last: CodeTable?

    init(capacity: Int) {}

    /// Records `key` at `row` and returns nil, or returns the row that already has it.
    mutating func insert(_ key: CodeKey, row: Int) -> Int? {
        if key.year != lastYear || last == nil {
            if tables[key.year] == nil { tables[key.year] = CodeTable() }
            last = tables[key.year]
            lastYear = key.year
        }
        return last!.insert(hi: key.hi, lo: key.lo, row: row)
    }
}

/// Packed code → first row. Each slot is 16 bytes: the code's first 60 bits, then its last
/// 30 bits with the row above them (0 = empty slot).
final class CodeTable {
    private var slots: UnsafeMutablePointer<(UInt64, UInt64)>
    private var mask: Int
    private var count = 0

    init() {
        let n = 1 << 16
        slots = CodeTable.zeroed(n)
        mask = n - 1
    }

    deinit { free(slots) }

    private static func zeroed(_ n: Int) -> UnsafeMutablePointer<(UInt64, UInt64)> {
        calloc(n, MemoryLayout<(UInt64, UInt64)>.stride)!.bindMemory(to: (UInt64, UInt64).self, capacity: n)
    }

    @inline(__always)
    private static func slot(_ hi: UInt64, _ lo: UInt64, _ mask: Int) -> Int {
        var h = (hi &* 0x9E37_79B9_7F4A_7C15) ^ (lo &* 0xC2B2_AE3D_27D4_EB4F)
        h ^= h >> 29
        return Int(truncatingIfNeeded: h) & mask
    }

    func insert(hi: UInt64, lo: UInt64, row: Int) -> Int? {
        if (count + 1) * 2 > mask + 1 { grow() }
        var i = CodeTable.slot(hi, lo, mask)
        while true {
            let (h, lr) = slots[i]
            if lr == 0 { break }
            if h == hi && lr & 0x3FFF_FFFF == lo { return Int(lr >> 30) }
            i = (i + 1) & mask
        }
        slots[i] = (hi, lo | UInt64(row) << 30)
        count += 1
        return nil
    }

    private func grow() {
        let old = slots, oldCount = mask + 1
        let n = oldCount * 2
        slots = CodeTable.zeroed(n)
        mask = n - 1
        for j in 0..<oldCount {
            let (h, lr) = old[j]
            guard lr != 0 else { continue }
            var i = CodeTable.slot(h, lr & 0x3FFF_FFFF, mask)
            while slots[i].1 != 0 { i = (i + 1) & mask }
            slots[i] = (h, lr)
        }
        free(old)
    }
}

/// Hands batches of rows to the threads that check them, keeping their results in order,
/// and looks for duplicate codes in each checked batch, strictly in row order, as soon as
/// the batches before it are done.
final class CheckPipeline: @unchecked Sendable {
    static let batchSize = 4096
    let checker: RowChecker
    private let cond = NSCondition()
    private var pending: [(index: Int, rows: [Int], cells: [[String]])] = []
    private var head = 0
    private var done: [CheckedBatch?] = []
    private var outstanding = 0
    private var finished = false
    /// credit code (and year) → first row; used by one thread at a time (`deduping`)
    private var seen = SeenCodes(capacity: 1 << 16)
    private var dedupeNext = 0
    private var deduping = false
    /// rows already checked
    private var recycled: [[[String]]] = []

    init(checker: RowChecker) { self.checker = checker }

    /// Adds a batch. Returns the rows of checked batches, for the caller to free: memory is
    /// best freed by the thread that allocated it (it then reuses it, without contention).
    func submit(rows: [Int], cells: [[String]]) -> [[[String]]] {
        cond.lock()
        pending.append((done.count, rows, cells))
        done.append(nil)
        outstanding += 1
        let spent = recycled
        recycled = []
        cond.signal()
        cond.unlock()
        return spent
    }

    /// No more batches will come.
    func finish() {
        cond.lock(); finished = true; cond.broadcast(); cond.unlock()
    }

    /// Drops the batches not yet started (the read failed).
    func cancel() {
        cond.lock()
        outstanding -= pending.count - head
        pending.removeAll(); head = 0
        finished = true
        cond.broadcast()
        cond.unlock()
    }

    /// Checks batches until there are none left.
    func work() {
        while true {
            cond.lock()
            while head == pending.count && !finished { cond.wait() }
            if head == pending.count { cond.unlock(); return }
            let (index, rows, _) = pending[head]
            var cells = pending[head].cells
            pending[head] = (index, [], [])
            head += 1
            cond.unlock()
            let result = checker.check(rows: rows, cells: &cells)
            cond.lock()
            done[index] = result
            outstanding -= 1
            // the rows go back to the thread that made them, to be freed there
            recycled.append(cells)
            cond.unlock()
            dedupeReady()
        }
    }

    /// Looks for duplicates in the checked batches that are next in row order.
    private func dedupeReady() {
        while true {
            cond.lock()
            guard !deduping, dedupeNext < done.count, var batch = done[dedupeNext] else {
                if outstanding == 0 { cond.broadcast() }
                cond.unlock()
                return
            }
            deduping = true
            let index = dedupeNext
            done[index] = nil  // so that the batch's arrays are not shared while they change
            cond.unlock()
            dedupe(&batch)
            cond.lock()
            done[index] = batch
            dedupeNext += 1
            deduping = false
            cond.broadcast()
            cond.unlock()
        }
    }

    /// Enters the batch's codes in `seen`, good and bad rows alike, in row order.
    private func dedupe(_ batch: inout CheckedBatch) {
        let recs = batch.records
        var b = 0, k = 0
        while k < recs.count || b < batch.bad.count {
            if b < batch.bad.count && (k == recs.count || batch.bad[b].row < recs.base[k].row) {
                if let key = batch.bad[b].key {
                    batch.bad[b].firstRow = seen.insert(key, row: batch.bad[b].row)
                }
                b += 1
            } else {
                if let first = seen.insert(batch.keys[k], row: recs.base[k].row) {
                    batch.duplicates.append((k, first))
                }
                k += 1
            }
        }
        batch.keys = []
    }

    /// Every batch's result, in order, once all are checked and searched for duplicates.
    func results() -> [CheckedBatch] {
        dedupeReady()
        cond.lock()
        while outstanding > 0 || dedupeNext < done.count { cond.wait() }
        let r = done.map { $0! }
        done = []
        cond.unlock()
        return r
    }
}

/// The checks of one row of the template, with everything they need resolved up front.
struct RowChecker: Sendable {
    let year: Int?
    // column indices, -1 when the file has no such column
    let iYear, iCode, iName, iTown, iScale, iIndustry, iLand, iTax, iValueAdded, iRevenue, iRnd: Int
    let iEnergy, iEmissions, iElectricity, iEmployees, iVeto, iExempt: Int
    /// the header of each field as written in the file, for error messages
    let header: [String: String]
    let towns: Set<String>
    /// The towns' UTF-8 bytes one after another, with (offset, length) of each; the pointers
    /// are `townTable`'s, read without touching its reference count.
    let townTable: TownTable
    nonisolated(unsafe) let townBytes: UnsafePointer<UInt8>
    nonisolated(unsafe) let townSpans: UnsafePointer<(Int, Int)>
    let townCount: Int
    let vetoKinds: Set<String>
    let vetoList: String

    init(matcher m: HeaderMatcher, year: Int?, rules: Rules) {
        self.year = year
        func idx(_ key: String) -> Int { m.index(of: key) ?? -1 }
        iYear = idx("year"); iCode = idx("credit_code"); iName = idx("name"); iTown = idx("town")
        iScale = idx("scale"); iIndustry = idx("industry"); iVeto = idx("veto"); iExempt = idx("exempt")
        iLand = idx(RecordField.landMu.key); iTax = idx(RecordField.tax.key)
        iValueAdded = idx(RecordField.valueAdded.key); iRevenue = idx(RecordField.revenue.key)
        iRnd = idx(RecordField.rnd.key); iEnergy = idx(RecordField.energyTce.key)
        iEmissions = idx(RecordField.emissions.key); iElectricity = idx(RecordField.electricity.key)
        iEmployees = idx(RecordField.employees.key)
        header = Dictionary(uniqueKeysWithValues: EnterpriseImport.fields.map { ($0.key, m.header(of: $0.key)) })
        towns = Set(rules.towns)
        townTable = TownTable(rules.towns)
        townBytes = UnsafePointer(townTable.bytes)
        townSpans = UnsafePointer(townTable.spans)
        townCount = rules.towns.count
        vetoKinds = Set(rules.vetoes.keys)
        vetoList = vetoKinds.sorted().joined(separator: "、")
    }

    static let placeholder = EnterpriseRecord(year: 0, creditCode: "", name: "", town: "", group: .above)

    func duplicate(row: Int, code: String, first: Int) -> RowError {
        RowError(row: row, column: header["credit_code"]!, zh: "统一社会信用代码 \(code) 与第 \(first) 行重复",
                 en: "duplicate credit code \(code) (also on row \(first))")
    }

    /// The trimmed cell at column `i` ("" when absent).
    @inline(__always)
    private func cell(_ cells: UnsafeMutableBufferPointer<String>, _ i: Int) -> String {
        guard i >= 0, i < cells.count else { return "" }
        // moved out of the row (each cell is read once): no reference counting between threads
        let p = cells.baseAddress! + i
        let s = p.move()
        p.initialize(to: "")
        return FastText.trimmed(s)
    }

    /// Checks a batch of rows; the cells are moved out of `rowCells` as they are read.
    func check(rows: [Int], cells rowCells: inout [[String]]) -> CheckedBatch {
        var out = CheckedBatch(records: RecordBuffer(capacity: rows.count))
        out.keys.reserveCapacity(rows.count)
        var errs: [RowError] = []
        for (b, row) in rows.enumerated() {
            rowCells[b].withUnsafeMutableBufferPointer { cells in
                checkRow(row, cells, &out, &errs)
            }
        }
        return out
    }

    private func checkRow(_ row: Int, _ cells: UnsafeMutableBufferPointer<String>, _ out: inout CheckedBatch,
                          _ errs: inout [RowError]) {
        errs.removeAll(keepingCapacity: true)
        func fail(_ key: String, _ zh: String, _ en: String) {
            errs.append(RowError(row: row, column: header[key]!, zh: zh, en: en))
        }
        // year
        var rowYear = year ?? 0
        let yearText = cell(cells, iYear)
        if !yearText.isEmpty {
            if case .value(let y) = FastText.parseNumber(yearText), y == y.rounded(), y >= 1900, y <= 2999 {
                if let year, Int(y) != year {
                    fail("year", "年度 \(Int(y)) 与指定的年度 \(year) 不一致", "year \(Int(y)) differs from the requested year \(year)")
                }
                rowYear = Int(y)
            } else {
                fail("year", "年度无效：\"\(yearText)\"", "invalid year: \"\(yearText)\"")
            }
        } else if year == nil {
            fail("year", "缺少年度", "year is missing")
        }
        let duplicateAt = errs.count

        // credit code (duplicates are found when the batches are put together)
        let (code, packed) = CreditCode.normalizeAndPack(cell(cells, iCode))
        var key: CodeKey?
        if code.isEmpty {
            fail("credit_code", "缺少统一社会信用代码", "credit code is missing")
        } else if let (hi, lo) = packed {
            key = CodeKey(hi: hi, lo: lo, year: rowYear)
        } else if let p = CreditCode.problem(code) {
            fail("credit_code", "统一社会信用代码 \(code) 无效：\(p.zh)", "invalid credit code \(code): \(p.en)")
        }

        let name = cell(cells, iName)
        if name.isEmpty { fail("name", "缺少企业名称", "name is missing") }
        let town = cell(cells, iTown)
        if town.isEmpty {
            fail("town", "缺少所属镇街", "town is missing")
        } else if !isTown(town) {
            fail("town", "未知镇街：\"\(town)\"", "unknown town: \"\(town)\"")
        }
        let scaleText = cell(cells, iScale)
        let group = FastText.group(scaleText)
        if group == nil {
            fail("scale", "规模应为 规上 或 规下，实为 \"\(scaleText)\"", "scale must be 规上 (above) or 规下 (below), got \"\(scaleText)\"")
        }
        let landMu = number(cells, iLand, .landMu, &errs, row)
        let tax = number(cells, iTax, .tax, &errs, row)
        let valueAdded = number(cells, iValueAdded, .valueAdded, &errs, row)
        let revenue = number(cells, iRevenue, .revenue, &errs, row)
        let rnd = number(cells, iRnd, .rnd, &errs, row)
        let energy = number(cells, iEnergy, .energyTce, &errs, row)
        let emissions = number(cells, iEmissions, .emissions, &errs, row)
        let electricity = number(cells, iElectricity, .electricity, &errs, row)
        let employees = number(cells, iEmployees, .employees, &errs, row)
        var vetoes: [String] = []
        let vetoText = cell(cells, iVeto)
        if !vetoText.isEmpty {
            for kind in vetoText.split(whereSeparator: { $0 == ";" || $0 == "；" }) {
                let k = kind.trimmingCharacters(in: .whitespaces)
                guard !k.isEmpty else { continue }
                if vetoKinds.contains(k) {
                    if !vetoes.contains(k) { vetoes.append(k) }
                } else {
                    fail("veto", "未知的一票否决类型：\"\(k)\"（可用：\(vetoList)）", "unknown veto kind: \"\(k)\"")
                }
            }
        }
        let industry = cell(cells, iIndustry)
        let exempt = cell(cells, iExempt)
        guard errs.isEmpty, let group, let key else {
            out.bad.append(BadRow(row: row, errors: errs, duplicateAt: duplicateAt, key: key, code: code, firstRow: nil))
            return
        }
        // (the strings are moved into the record, not copied: no reference counting)
        precondition(out.records.count < out.records.capacity)
        var record = EnterpriseRecord(
            row: row, year: rowYear, creditCode: consume code, name: consume name, town: consume town, group: group,
            industry: industry.isEmpty ? nil : consume industry, landMu: landMu, tax: tax, valueAdded: valueAdded,
            revenue: revenue, rnd: rnd, energyTce: energy, emissions: emissions, electricity: electricity,
            employees: employees, vetoes: consume vetoes, exempt: exempt.isEmpty ? nil : consume exempt)
        let destination = out.records.base + out.records.count
        withUnsafeMutablePointer(to: &record) { source in
            destination.moveInitialize(from: source, count: 1)
            source.initialize(to: RowChecker.placeholder)  // holds nothing to release
        }
        out.records.count += 1
        out.keys.append(key)
    }

    /// Whether `town` is one of the rules' towns: byte-equal first, then String equality
    /// (which also accepts canonically equivalent spellings, as a Set lookup does).
    @inline(__always)
    private func isTown(_ town: String) -> Bool {
        let found: Bool? = town.utf8.withContiguousStorageIfAvailable { buf in
            for k in 0..<townCount {
                let (offset, length) = townSpans[k]
                if length == buf.count && memcmp(townBytes + offset, buf.baseAddress!, length) == 0 { return true }
            }
            return false
        }
        if found == true { return true }
        return towns.contains(town)
    }

    /// The figure `field` in column `i`, checked as the table says (sign, whole number).
    @inline(__always)
    private func number(_ cells: UnsafeMutableBufferPointer<String>, _ i: Int, _ field: RecordField,
                        _ errs: inout [RowError], _ row: Int) -> Double? {
        let text = cell(cells, i)
        switch FastText.parseNumber(text) {
        case .empty: return nil
        case .invalid:
            errs.append(RowError(row: row, column: header[field.key]!, zh: "不是数字：\"\(text)\"", en: "not a number: \"\(text)\""))
            return nil
        case .value(let v):
            if !field.allowsNegative && v < 0 {
                errs.append(RowError(row: row, column: header[field.key]!, zh: "不能为负数：\(text)", en: "must not be negative: \(text)"))
                return nil
            }
            if field.isWholeNumber && v != v.rounded() {
                errs.append(RowError(row: row, column: header[field.key]!, zh: "应为整数：\(text)", en: "must be a whole number: \(text)"))
                return nil
            }
            return v
        }
    }
}

/// The towns' UTF-8 bytes in plain memory.
final class TownTable: @unchecked Sendable {
    let bytes: UnsafeMutablePointer<UInt8>
    let spans: UnsafeMutablePointer<(Int, Int)>

    init(_ towns: [String]) {
        let all = towns.flatMap { Array($0.utf8) }
        bytes = .allocate(capacity: max(all.count, 1))
        bytes.initialize(from: all, count: all.count)
        spans = .allocate(capacity: max(towns.count, 1))
        var offset = 0
        for (k, t) in towns.enumerated() {
            spans[k] = (offset, t.utf8.count)
            offset += t.utf8.count
        }
    }

    deinit {
        bytes.deallocate()
        spans.deallocate()
    }
}

/// Fast paths for the text of cells, each giving exactly what its general counterpart gives.
enum FastText {
    /// `s.trimmingCharacters(in: .whitespaces)`. The whitespace set (tab and the Zs
    /// characters) only has characters whose UTF-8 starts with 09, 20, C2, E1, E2 or E3, so a
    /// string whose first and last characters start otherwise is returned as it is.
    @inline(__always)
    static func trimmed(_ s: String) -> String {
        let clean: Bool? = s.utf8.withContiguousStorageIfAvailable { buf in
            guard let first = buf.first else { return true }
            if mayStartSpace(first) { return false }
            var j = buf.count - 1
            let last = buf[j]
            if last < 0x80 { return last != 0x20 && last != 0x09 }
            while j > 0 && buf[j] & 0xC0 == 0x80 { j -= 1 }
            return !mayStartSpace(buf[j])
        }
        if clean == true { return s }
        return s.trimmingCharacters(in: .whitespaces)
    }

    @inline(__always)
    private static func mayStartSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0xC2 || b == 0xE1 || b == 0xE2 || b == 0xE3
    }

    /// `EnterpriseGroup(text:)`, with 规上 / 规下 compared as bytes.
    @inline(__always)
    static func group(_ s: String) -> EnterpriseGroup? {
        let fast: EnterpriseGroup?? = s.utf8.withContiguousStorageIfAvailable { buf in
            guard buf.count == 6 else { return nil }
            if equal(buf, "规上") { return .above }
            if equal(buf, "规下") { return .below }
            return nil
        }
        if let fast, let fast { return fast }
        return EnterpriseGroup(text: s)
    }

    @inline(__always)
    static func equal(_ buf: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        buf.count == s.utf8CodeUnitCount && memcmp(buf.baseAddress!, s.utf8Start, buf.count) == 0
    }

    /// 10^0 … 10^15 (exact), in plain memory made once.
    nonisolated(unsafe) private static let powersOf10: UnsafePointer<Double> = {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: 16)
        var x = 1.0
        for i in 0..<16 { p[i] = x; x *= 10 }
        return UnsafePointer(p)
    }()

    /// `HeaderMatcher.parseNumber(s)`. Plain decimals (`-12.34`: at most 15 digits) are
    /// converted directly: the digits as an integer divided by a power of ten, both exact, is
    /// the correctly rounded value, as `Double(String)` gives. Anything else goes the general way.
    @inline(__always)
    static func parseNumber(_ s: String) -> NumberParse {
        let fast: Double?? = s.utf8.withContiguousStorageIfAvailable { buf -> Double? in
            let n = buf.count
            guard n > 0, n <= 17 else { return nil }
            var i = 0
            let negative = buf[0] == 0x2D
            if negative { i = 1 }
            var m: UInt64 = 0
            var digits = 0
            while i < n {
                let d = buf[i] &- 0x30
                if d > 9 { break }
                m = m &* 10 &+ UInt64(d); digits += 1; i += 1
            }
            guard digits > 0 else { return nil }
            var frac = 0
            if i < n && buf[i] == 0x2E {
                i += 1
                while i < n {
                    let d = buf[i] &- 0x30
                    if d > 9 { break }
                    m = m &* 10 &+ UInt64(d); frac += 1; i += 1
                }
                guard frac > 0 else { return nil }
            }
            guard i == n, digits + frac <= 15 else { return nil }
            let v = frac == 0 ? Double(m) : Double(m) / powersOf10[frac]
            return negative ? -v : v
        }
        if let fast, let v = fast { return .value(v) }
        if s.isEmpty { return .empty }
        return HeaderMatcher.parseNumber(s)
    }
}
