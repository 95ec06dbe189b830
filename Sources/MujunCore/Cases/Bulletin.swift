import Foundation

/// An exact fraction of two counts (a rate of CASES.md §4); nil value when the denominator is 0.
public struct CountRate: Sendable, Hashable {
    public var numerator: Int
    public var denominator: Int

    public init(_ numerator: Int, _ denominator: Int) { self.numerator = numerator; self.denominator = denominator }

    /// The nearest double, nil when the denominator is 0.
    public var value: Double? { denominator == 0 ? nil : Double(numerator) / Double(denominator) }

    /// Shortest round-trip decimal (`0.6666666666666666`, `1.0`), "" when the denominator is 0.
    public var csv: String { value.map { "\($0)" } ?? "" }

    /// 66.7% (one decimal), "—" when the denominator is 0.
    public var percent: String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }

    /// Exact comparison; an empty rate counts as 0.
    public static func compare(_ a: CountRate, _ b: CountRate) -> Int {
        let an = a.denominator == 0 ? 0 : a.numerator, ad = a.denominator == 0 ? 1 : a.denominator
        let bn = b.denominator == 0 ? 0 : b.numerator, bd = b.denominator == 0 ? 1 : b.denominator
        let l = an * bd, r = bn * ad
        return l < r ? -1 : l > r ? 1 : 0
    }
}

/// One case as a bulletin counts it (CASES.md §6): its current assignment and deadlines as of D.
public struct BulletinCase: Sendable, Hashable {
    public var ref: String
    public var type: String
    public var typeName: String
    public var title: String
    public var unit: String
    public var assignedOn: CalendarDate
    public var acceptDue: CalendarDate
    public var acceptedOn: CalendarDate?
    /// The first reply's due date, as extended by D.
    public var replyDue: CalendarDate?
    /// The first reply of the current assignment.
    public var repliedOn: CalendarDate?
    public var state: CaseLoop.State
    public var flag: CaseFlag
    public var rating: CaseRating?
    public var category: String?
    /// Whether the latest category counts as resolved.
    public var resolved: Bool
    public var head: Bool

    public var acceptedOnTime: Bool { acceptedOn.map { $0 <= acceptDue } ?? false }
    public func acceptLate(at d: CalendarDate) -> Bool {
        if let a = acceptedOn { return a > acceptDue }
        return acceptDue < d
    }
    /// In `reply_due`: replied, or not replied with the reply due date before D.
    public func replyIsDue(at d: CalendarDate) -> Bool {
        if repliedOn != nil { return true }
        if let r = replyDue { return r < d }
        return false
    }
    public var repliedOnTime: Bool {
        guard let r = repliedOn, let due = replyDue else { return false }
        return r <= due
    }

    /// A case as counted, from stored columns (the loop as of its latest event, all dated by D).
    public init(ref: String, type: CaseType, title: String, unit: String, assignedOn: CalendarDate, acceptDue: CalendarDate,
                acceptedOn: CalendarDate?, replyDue: CalendarDate?, repliedOn: CalendarDate?, state: CaseLoop.State, flag: CaseFlag,
                rating: CaseRating?, category: String?, head: Bool) {
        self.ref = ref; self.type = type.key; self.typeName = type.name; self.title = title; self.unit = unit
        self.assignedOn = assignedOn; self.acceptDue = acceptDue; self.acceptedOn = acceptedOn; self.replyDue = replyDue
        self.repliedOn = repliedOn; self.state = state; self.flag = flag; self.rating = rating; self.category = category
        self.resolved = category.map { type.resolved.contains($0) } ?? false; self.head = head
    }

    /// The case as counted at `d`, or nil when it has no current assignment.
    public init?(_ loop: CaseLoop, ref: String, title: String = "", at d: CalendarDate, calendar: WorkCalendar, redAfter: Int) {
        guard let a = loop.assignment else { return nil }
        self.ref = ref; self.type = loop.type.key; self.typeName = loop.type.name; self.title = title
        self.unit = a.unit; self.assignedOn = a.on; self.acceptDue = a.acceptDue; self.acceptedOn = a.acceptedOn
        self.replyDue = a.replyDue; self.repliedOn = a.firstReplyOn; self.state = loop.state
        self.flag = loop.flag(at: d, calendar: calendar, redAfter: redAfter)
        self.rating = loop.rating; self.category = loop.category
        self.resolved = loop.category.map { loop.type.resolved.contains($0) } ?? false
        self.head = loop.head
    }
}

/// One unit's line of a bulletin (督导通报, CASES.md §4).
public struct BulletinRow: Sendable, Hashable {
    public var unit: String
    public var assigned = 0
    public var acceptedOnTime = 0
    public var acceptLate = 0
    public var replied = 0
    public var replyDue = 0
    public var repliedOnTime = 0
    public var overdueNow = 0
    public var yellow = 0
    public var red = 0
    public var evaluated = 0
    public var satisfied = 0
    public var withCategory = 0
    public var resolved = 0
    public var headTookPart = 0
    /// Competition rank (1, 2, 2, 4); nil = unranked (fewer than `min_cases` in reply_due).
    public var rank: Int?
    /// 末位
    public var bottom = false

    public init(unit: String) { self.unit = unit }

    public var onTimeRate: CountRate { CountRate(repliedOnTime, replyDue) }
    public var satisfactionRate: CountRate { CountRate(satisfied, evaluated) }
    public var resolutionRate: CountRate { CountRate(resolved, withCategory) }
    public var headRate: CountRate { CountRate(headTookPart, replied) }

    mutating func count(_ c: BulletinCase, at d: CalendarDate) {
        assigned += 1
        if c.acceptedOnTime { acceptedOnTime += 1 }
        if c.acceptLate(at: d) { acceptLate += 1 }
        if c.repliedOn != nil {
            replied += 1
            if c.head { headTookPart += 1 }
            if c.category != nil { withCategory += 1; if c.resolved { resolved += 1 } }
        }
        if c.replyIsDue(at: d) { replyDue += 1 }
        if c.repliedOnTime { repliedOnTime += 1 }
        switch c.flag {
        case .none: break
        case .yellow: overdueNow += 1; yellow += 1
        case .red: overdueNow += 1; red += 1
        }
        if let r = c.rating {
            evaluated += 1
            if r != .unsatisfied { satisfied += 1 }
        }
    }
}

/// A bulletin: per lead unit, the figures and ranking of CASES.md §4 for the cases whose current
/// assignment is dated within [from, to], as of a date; and the counted cases (§6).
///
/// ```swift
/// let history = try CaseHistory(table: try TableReader.open(url: url))
/// let b = Bulletin(history: history, from: CalendarDate("2025-01-01")!, to: CalendarDate("2025-12-31")!,
///                  asOf: CalendarDate("2026-01-15")!)
/// b.rows.first?.unit           // the best unit of the period
/// ```
public struct Bulletin: Sendable {
    public struct Parameters: Sendable, Hashable, Codable {
        public var from: String
        public var to: String
        public var asOf: String
        /// A type key, or nil for all types.
        public var type: String?
    }

    public var from: CalendarDate, to: CalendarDate, asOf: CalendarDate
    public var type: String?
    /// Ranked units in rank order (equal rank by name), then the unranked by name.
    public var rows: [BulletinRow]
    /// The counted cases, by type key then ref.
    public var cases: [BulletinCase]

    /// Counts `cases` (each as of `asOf`) and ranks the units with `types`' `min_cases` and `bottom`.
    public init(cases all: consuming [BulletinCase], from: CalendarDate, to: CalendarDate, asOf: CalendarDate,
                type: String? = nil, minCases: Int = 3, bottom: Int = 3) {
        self.from = from; self.to = to; self.asOf = asOf; self.type = type
        // the counted cases by number; units numbered by their bytes (hashing a String normalizes
        // it first, slow for Chinese names a hundred thousand times); types likewise
        var counted: [Int] = []
        counted.reserveCapacity(all.count)
        var units = ByteKeyTable(), rows: [BulletinRow] = []
        var types = ByteKeyTable(), typeKeys: [String] = [], typeOf: [Int] = []
        typeOf.reserveCapacity(all.count)
        all.withUnsafeBufferPointer { all in
            for i in all.indices where all[i].assignedOn >= from && all[i].assignedOn <= to && (type == nil || all[i].type == type) {
                counted.append(i)
                var unit = all[i].unit
                let (u, newUnit) = unit.withUTF8 { units.index(of: $0) }
                if newUnit { rows.append(BulletinRow(unit: unit)) }
                rows[u].count(all[i], at: asOf)
                var key = all[i].type
                let (t, newType) = key.withUTF8 { types.index(of: $0) }
                if newType { typeKeys.append(key) }
                typeOf.append(t)
            }
        }
        self.rows = Bulletin.rank(rows, minCases: minCases, bottom: bottom)
        // by type, then ref, in code point order: each case's type rank and first 8 bytes of its ref
        // compared as numbers, the rest of the ref (when those are equal) with memcmp
        let sortedTypes = typeKeys.indices.sorted { Bulletin.codePointsPrecede(typeKeys[$0], typeKeys[$1]) }
        var typeRank = [Int](repeating: 0, count: typeKeys.count)
        for (r, t) in sortedTypes.enumerated() { typeRank[t] = r }
        var arena: [UInt8] = [], start: [Int] = []
        var keys: [RefSortKey] = []
        keys.reserveCapacity(counted.count); start.reserveCapacity(counted.count + 1)
        all.withUnsafeBufferPointer { all in
            for (k, i) in counted.enumerated() {
                var ref = all[i].ref
                let word = ref.withUTF8 { b -> UInt64 in
                    start.append(arena.count); arena.append(contentsOf: b)
                    var w: UInt64 = 0
                    for j in 0..<8 { w = w << 8 | (j < b.count ? UInt64(b[j]) : 0) }
                    return w
                }
                keys.append(RefSortKey(rank: Int32(typeRank[typeOf[k]]), index: Int32(k), word: word))
            }
        }
        start.append(arena.count)
        arena.withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress
            keys.sort { x, y in
                if x.rank != y.rank { return x.rank < y.rank }
                if x.word != y.word { return x.word < y.word }
                let a = Int(x.index), b = Int(y.index)
                let la = start[a + 1] - start[a], lb = start[b + 1] - start[b], n = min(la, lb)
                let r = n <= 8 ? 0 : memcmp(base! + start[a] + 8, base! + start[b] + 8, n - 8)
                return r != 0 ? r < 0 : la < lb
            }
        }
        let order = keys.map { Int($0.index) }
        if counted.count == all.count {
            // every case counts (a history's bulletin builds no other): put them in order in place
            var cases = consume all  // unique when the caller gave its array up: no copy
            Bulletin.permute(&cases, by: order)
            self.cases = cases
        } else {
            self.cases = order.map { all[counted[$0]] }
        }
    }

    /// A counted case's place in the order of type, then ref: its type's rank, its number among the
    /// counted cases, and its ref's first 8 bytes as a big-endian number (zeros after its end).
    private struct RefSortKey {
        var rank: Int32
        var index: Int32
        var word: UInt64
    }

    /// Rearranges `a` so that `a[k]` is the old `a[order[k]]` (`order` a permutation of its
    /// indices), by moving elements along the permutation's cycles: no element is copied.
    static func permute<T>(_ a: inout [T], by order: [Int]) {
        precondition(order.count == a.count)
        var done = [Bool](repeating: false, count: a.count)
        a.withUnsafeMutableBufferPointer { buf in
            guard let p = buf.baseAddress else { return }
            for i in 0..<order.count where !done[i] {
                done[i] = true
                if order[i] == i { continue }
                let held = (p + i).move()
                var j = i
                while true {
                    let k = order[j]
                    if k == i { (p + j).initialize(to: held); break }
                    (p + j).moveInitialize(from: p + k, count: 1)
                    done[k] = true
                    j = k
                }
            }
        }
    }

    /// The bulletin of a history file as of `asOf` (only events dated on or before it count).
    public init(history: CaseHistory, from: CalendarDate, to: CalendarDate, asOf: CalendarDate, type: String? = nil) {
        let loops = history.replay(asOf: asOf)
        // only the cases it counts (the same test as below, before making them), made at once; the
        // loops and cases read where they are (a copy of either retains every one of its texts)
        var counted: [Int] = []
        counted.reserveCapacity(loops.count)
        loops.withUnsafeBufferPointer { loops in
            for i in loops.indices {
                guard let on = loops[i].assignment?.on, on >= from, on <= to, type == nil || loops[i].type.key == type else { continue }
                counted.append(i)
            }
        }
        let n = counted.count
        let cases = loops.withUnsafeBufferPointer { loops in
            history.cases.withUnsafeBufferPointer { all in
                let loops = UncheckedSendable(loops), all = UncheckedSendable(all)
                return [BulletinCase](unsafeUninitializedCapacity: n) { buf, initialized in
                    let out = UncheckedSendable(buf.baseAddress!)
                    Parallel.chunks(n, minimum: 8192) { range in
                        for k in range {
                            let i = counted[k]
                            (out.value + k).initialize(to: BulletinCase(loops.value[i], ref: all.value[i].ref, title: all.value[i].title, at: asOf,
                                                                        calendar: history.calendar, redAfter: history.types.redAfter)!)
                        }
                    }
                    initialized = n
                }
            }
        }
        self.init(cases: cases, from: from, to: to, asOf: asOf, type: type,
                  minCases: history.types.minCases, bottom: history.types.bottom)
    }

    /// Ranks units with at least `minCases` in reply_due: on-time rate descending, satisfaction
    /// rate descending (empty = 0), overdue ascending; equal keys share a rank (1, 2, 2, 4); the
    /// last `bottom` positions, and every unit sharing a rank with them, are 末位.
    public static func rank(_ rows: [BulletinRow], minCases: Int, bottom: Int) -> [BulletinRow] {
        func compareKeys(_ a: BulletinRow, _ b: BulletinRow) -> Int {
            let t = CountRate.compare(b.onTimeRate, a.onTimeRate)  // descending
            if t != 0 { return t }
            let s = CountRate.compare(b.satisfactionRate, a.satisfactionRate)
            if s != 0 { return s }
            return a.overdueNow < b.overdueNow ? -1 : a.overdueNow > b.overdueNow ? 1 : 0
        }
        var ranked = rows.filter { $0.replyDue >= minCases }
        let unranked = rows.filter { $0.replyDue < minCases }.sorted { codePointsPrecede($0.unit, $1.unit) }
        ranked.sort { a, b in
            let k = compareKeys(a, b)
            return k != 0 ? k < 0 : codePointsPrecede(a.unit, b.unit)
        }
        for i in ranked.indices {
            ranked[i].rank = (i > 0 && compareKeys(ranked[i - 1], ranked[i]) == 0) ? ranked[i - 1].rank : i + 1
        }
        if bottom > 0, !ranked.isEmpty {
            let cut = max(0, ranked.count - bottom)
            let bottomRank = ranked[cut].rank!
            for i in ranked.indices where ranked[i].rank! >= bottomRank { ranked[i].bottom = true }
        }
        return ranked + unranked
    }

    /// Code point order (which UTF-8 byte order is), compared with memcmp.
    @inline(__always) static func codePointsPrecede(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let n = min(x.count, y.count)
                let r = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                return r != 0 ? r < 0 : x.count < y.count
            }
        }
    }

    // MARK: - Output

    /// The English keys of `bulletin.csv`.
    public static let csvHeader = ["unit", "assigned", "accepted_on_time", "accept_late", "replied", "reply_due",
                                   "replied_on_time", "on_time_rate", "overdue_now", "yellow", "red", "evaluated",
                                   "satisfaction_rate", "resolution_rate", "head_rate", "rank", "bottom"]
    /// The Chinese headers of the bulletin as pages and XLSX show it.
    public static let chineseHeader = ["单位", "交办", "按时签收", "签收超时", "已办复", "应办复", "按时办复", "按时办复率",
                                       "超期", "黄牌", "红牌", "已评价", "满意率", "解决率", "一把手参与率", "排名", "末位"]
    /// The columns of `cases.csv` (§6).
    public static let casesHeader = ["ref", "type", "unit", "assigned_on", "accept_due", "accepted_on", "reply_due",
                                     "replied_on", "state", "flag", "rating", "category"]
    public static let casesChineseHeader = ["编号", "类型", "主办单位", "交办日期", "签收期限", "签收日期", "办复期限",
                                            "办复日期", "状态", "超期", "评价", "类别"]

    /// `bulletin.csv`: UTF-8, header row, rates as unrounded decimal fractions.
    public func csv() -> String {
        var out = Bulletin.csvHeader.joined(separator: ",") + "\n"
        for r in rows {
            let fields: [String] = [
                CSVField.escape(r.unit), "\(r.assigned)", "\(r.acceptedOnTime)", "\(r.acceptLate)", "\(r.replied)",
                "\(r.replyDue)", "\(r.repliedOnTime)", r.onTimeRate.csv, "\(r.overdueNow)", "\(r.yellow)", "\(r.red)",
                "\(r.evaluated)", r.satisfactionRate.csv, r.resolutionRate.csv, r.headRate.csv,
                r.rank.map(String.init) ?? "", r.bottom ? "1" : "0",
            ]
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    /// `cases.csv`: the §6 columns, one row per counted case (written as bytes: a bulletin may count
    /// a hundred thousand cases).
    public func casesCSV() -> String { String(decoding: casesCSVBytes(), as: UTF8.self) }

    /// `cases.csv` as UTF-8 bytes, its rows written in ranges at once.
    public func casesCSVBytes() -> [UInt8] { casesCSVBytes(parts: cases.count >= 16_384 ? Parallel.cores * 2 : 1) }

    /// The same in `parts` ranges (tests cut small bulletins).
    func casesCSVBytes(parts: Int) -> [UInt8] {
        var head = Array((Bulletin.casesHeader.joined(separator: ",") + "\n").utf8)
        let n = cases.count
        var chunks = [[UInt8]](repeating: [], count: parts)
        chunks.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Parallel.perform(parts) { t in
                out.value[t] = casesCSVRows((t * n / parts)..<((t + 1) * n / parts))
            }
        }
        head.reserveCapacity(head.count + chunks.reduce(0) { $0 + $1.count })
        for c in chunks { head.append(contentsOf: c) }
        return head
    }

    /// The rows of `cases.csv` for the counted cases in `range`.
    private func casesCSVRows(_ range: Range<Int>) -> [UInt8] {
        var w = CSVByteWriter(capacity: range.count * 120)
        cases.withUnsafeBufferPointer { cases in
            for i in range {
                let c = cases[i]
                w.field(c.ref); w.comma(); w.field(c.type); w.comma(); w.field(c.unit); w.comma()
                w.date(c.assignedOn); w.comma(); w.date(c.acceptDue); w.comma(); w.date(c.acceptedOn); w.comma()
                w.date(c.replyDue); w.comma(); w.date(c.repliedOn); w.comma()
                w.field(c.state.rawValue); w.comma(); w.field(c.flag.rawValue); w.comma()
                w.field(c.rating?.rawValue ?? ""); w.comma(); w.field(c.category ?? ""); w.out.append(0x0A)
            }
        }
        return w.out
    }

    /// The bulletin as rows for a sheet (rates as fractions formatted as percentages with one decimal).
    public func sheetRows() -> [[XLSXCell]] {
        func rate(_ r: CountRate) -> XLSXCell { r.value.map { .number($0) } ?? .text("—") }
        return rows.map { r in
            [.text(r.unit), .number(Double(r.assigned)), .number(Double(r.acceptedOnTime)), .number(Double(r.acceptLate)),
             .number(Double(r.replied)), .number(Double(r.replyDue)), .number(Double(r.repliedOnTime)), rate(r.onTimeRate),
             .number(Double(r.overdueNow)), .number(Double(r.yellow)), .number(Double(r.red)), .number(Double(r.evaluated)),
             rate(r.satisfactionRate), rate(r.resolutionRate), rate(r.headRate),
             r.rank.map { .number(Double($0)) } ?? .text("不排名"), .text(r.bottom ? "末位" : "")]
        }
    }

    /// The counted cases as rows for a sheet, in Chinese.
    public func caseSheetRows() -> [[XLSXCell]] {
        cases.map { c in
            [.text(c.ref), .text(c.typeName), .text(c.unit), .text(c.assignedOn.description), .text(c.acceptDue.description),
             .text(c.acceptedOn?.description ?? ""), .text(c.replyDue?.description ?? ""), .text(c.repliedOn?.description ?? ""),
             .text(c.state.chinese), .text(c.flag.chinese), .text(c.rating?.chinese ?? ""), .text(c.category ?? "")]
        }
    }

    /// The bulletin as a workbook that prints on A4: the unit table, then the case list.
    public func workbook(title: String = "督导通报") -> XLSXWriter {
        var w = XLSXWriter()
        let pct = "0.0%"
        w.addSheet(name: title, headers: Bulletin.chineseHeader, rows: sheetRows(),
                   numberFormats: [nil, "0", "0", "0", "0", "0", "0", pct, "0", "0", "0", "0", pct, pct, pct, "0", nil])
        w.addSheet(name: "案件清单", headers: Bulletin.casesChineseHeader, rows: caseSheetRows())
        return w
    }
}

/// Minimal CSV quoting: a field with a comma, quote or line break is quoted, quotes doubled.
public enum CSVField {
    public static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

}

/// CSV fields written as bytes: a text quoted only when it holds a comma, quote or line break.
struct CSVByteWriter {
    var out: [UInt8] = []

    init(capacity: Int) { out.reserveCapacity(capacity) }

    @inline(__always) mutating func comma() { out.append(0x2C) }

    mutating func field(_ s: String) {
        var s = s
        let plain = s.withUTF8 { b -> Bool in
            for u in b where u == 0x2C || u == 0x22 || u == 0x0A || u == 0x0D { return false }
            out.append(contentsOf: b)
            return true
        }
        if !plain { out.append(contentsOf: CSVField.escape(s).utf8) }
    }

    /// `YYYY-MM-DD`, nothing for nil.
    mutating func date(_ d: CalendarDate?) {
        guard let d else { return }
        let y = max(0, min(9999, d.year))
        out.append(UInt8(48 + y / 1000)); out.append(UInt8(48 + y / 100 % 10)); out.append(UInt8(48 + y / 10 % 10))
        out.append(UInt8(48 + y % 10)); out.append(0x2D)
        out.append(UInt8(48 + d.month / 10)); out.append(UInt8(48 + d.month % 10)); out.append(0x2D)
        out.append(UInt8(48 + d.day / 10)); out.append(UInt8(48 + d.day % 10))
    }
}
