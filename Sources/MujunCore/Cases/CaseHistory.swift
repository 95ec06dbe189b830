import Foundation

/// A handling history (办理记录, CASES.md §5): one row per event, any order, read from CSV or XLSX,
/// every row checked against the closed loop.
///
/// ```swift
/// let table = try TableReader.open(url: URL(fileURLWithPath: "history.csv"))
/// let history = try CaseHistory(table: table)              // ImportFailure names every bad row
/// let asOf = try history.replay(asOf: CalendarDate("2026-03-31")!)   // every case as of that date
/// ```
public struct CaseHistory: Sendable {
    /// One case of the file: its type, ref, title and its events in order of (date, row).
    public struct Case: Sendable {
        public var type: Int
        public var ref: String
        public var title: String
        public var events: [CaseEvent]
        public var rows: [Int]
        /// Links given on the register row (optional columns 地块编号 and 统一社会信用代码).
        public var parcelID: String?
        public var creditCode: String?
    }

    /// The columns of the history template.
    public static let fields: [FieldSpec] = [
        FieldSpec(key: "ref", chinese: "编号", required: true),
        FieldSpec(key: "title", chinese: "标题"),
        FieldSpec(key: "type", chinese: "类型", required: true),
        FieldSpec(key: "event", chinese: "事件", required: true),
        FieldSpec(key: "date", chinese: "日期", required: true),
        FieldSpec(key: "unit", chinese: "单位"),
        FieldSpec(key: "co_units", chinese: "协办单位"),
        FieldSpec(key: "due", chinese: "办理期限"),
        FieldSpec(key: "category", chinese: "类别"),
        FieldSpec(key: "rating", chinese: "评价"),
        FieldSpec(key: "head", chinese: "一把手参与"),
        FieldSpec(key: "passed", chinese: "验收结果"),
        FieldSpec(key: "note", chinese: "说明"),
        FieldSpec(key: "level", chinese: "督办级别"),
        FieldSpec(key: "parcel_id", chinese: "地块编号"),
        FieldSpec(key: "credit_code", chinese: "统一社会信用代码"),
    ]

    public let types: CaseTypes
    public let calendar: WorkCalendar
    public private(set) var cases: [Case] = []
    /// How many event rows were read.
    public private(set) var rowCount = 0
    /// The earliest and latest event dates (for the calendar's warning).
    public private(set) var firstDate: CalendarDate?
    public private(set) var lastDate: CalendarDate?

    /// Every case as of ``snapshotDate`` (the loop after its events dated on or before it), kept
    /// while checking when `snapshotAt` is given, so that a bulletin need not replay the history.
    public private(set) var snapshots: [CaseLoop]?
    public private(set) var snapshotDate: CalendarDate?
    /// How many pieces of the file were read at once.
    private(set) var pieces = 1

    /// Reads and checks every row of `table`: values (§5) and the order of each case's events (§1).
    /// Throws an ``ImportFailure`` naming every bad row (row number, column, reason) when any is bad.
    /// A CSV file is read in as many pieces at once as there are cores; the result (and every error)
    /// is that of reading it row by row. With `snapshotAt`, ``snapshots`` holds every case as of that date.
    public init(table: any TableSource, types: CaseTypes = .default, calendar: WorkCalendar = .shipped,
                snapshotAt: CalendarDate? = nil) throws(ImportFailure) {
        try self.init(table: table, types: types, calendar: calendar, snapshotAt: snapshotAt, minimumPiece: 1 << 20, parts: Parallel.cores * 4)
    }

    /// As the public one, a CSV file read in up to `parts` pieces of at least `minimumPiece` bytes,
    /// and the cases checked in `caseParts` ranges (tests cut small files).
    init(table: any TableSource, types: CaseTypes, calendar: WorkCalendar, snapshotAt: CalendarDate?,
         minimumPiece: Int, parts: Int, caseParts: Int? = nil) throws(ImportFailure) {
        self.types = types
        self.calendar = calendar
        let m = HeaderMatcher(headers: table.headers, fields: CaseHistory.fields)
        try m.checkRequired()
        let layout = HistoryLayout(m)
        // 1. the rows, read and checked one by one (in pieces of the file at once)
        var pieces = try TableReader.cellsInPieces(table, parts: parts, minimumPiece: minimumPiece,
                                                    make: { _ in HistoryPiece(layout, types) }) { piece, record, cells in
            piece.read(record, cells)
        }
        // 2. the cases in order of first appearance; each piece's events renumbered to them (the
        // events themselves stay in the pieces' logs until step 3 moves them)
        var errors = RowErrorCollector()
        var cases: [Case] = []
        var caseIndex = ByteKeyTable()
        var broken: [Bool] = []  // cases with an unreadable row: their order is not checked
        var first: CalendarDate?, last: CalendarDate?
        var count = 0
        var logs: [EventLog] = [], rowBase: [Int] = []
        for p in pieces.indices {
            let firstRow = pieces[p].firstRow
            errors.merge(pieces[p].state.errors, rowOffset: firstRow)
            count += pieces[p].state.count
            if let f = pieces[p].state.first, first == nil || f < first! { first = f }
            if let l = pieces[p].state.last, last == nil || l > last! { last = l }
            var numbers = [Int32](repeating: 0, count: pieces[p].state.cases.count)
            pieces[p].state.cases.withUnsafeBufferPointer { list in
                for (k, c) in list.enumerated() {
                    var ref = c.key.ref
                    let (ci, new) = ref.withUTF8 { caseIndex.index(of: $0, tag: c.key.type) }  // numbered in order, as `cases`
                    numbers[k] = Int32(ci)
                    if new {
                        cases.append(Case(type: c.key.type, ref: c.key.ref, title: c.title, events: [], rows: [],
                                          parcelID: c.parcel, creditCode: c.code))
                        broken.append(c.broken)
                        continue
                    }
                    // the same case in an earlier piece: its rows come first
                    if cases[ci].title.isEmpty { cases[ci].title = c.title } else if let t = c.registerTitle { cases[ci].title = t }
                    if let p = c.parcel { cases[ci].parcelID = p }
                    if let code = c.code { cases[ci].creditCode = code }
                    if c.broken { broken[ci] = true }
                }
            }
            pieces[p].state.log.renumber(numbers)
            logs.append(pieces[p].state.log)
            rowBase.append(firstRow)
        }
        self.pieces = pieces.count
        pieces.removeAll()
        // 3. each case given its events (moved out of the logs, in file order), put in order of
        // (date, row) and checked against the loop: cases at once, in ranges
        let logged = LoggedEvents(logs, rowBase: rowBase, cases: cases.count)
        let n = cases.count
        let caseParts = max(1, min(n, caseParts ?? (n >= 20_000 ? Parallel.cores * 4 : 1)))
        var loopErrors = [RowErrorCollector](repeating: RowErrorCollector(), count: caseParts)
        let eventHeader = layout.header("event")
        let brokenCases = broken
        var snapshots: [CaseLoop]?
        cases.withUnsafeMutableBufferPointer { all in
            loopErrors.withUnsafeMutableBufferPointer { errs in
                let all = UncheckedSendable(all), errs = UncheckedSendable(errs)
                func pass(_ snaps: UnsafeMutablePointer<CaseLoop>?) {
                    let snaps = UncheckedSendable(snaps)
                    Parallel.perform(caseParts) { t in
                        for ci in (t * n / caseParts)..<((t + 1) * n / caseParts) {
                            (all.value[ci].events, all.value[ci].rows) = logged.take(ci)
                            let loop = CaseHistory.check(&all.value[ci], broken: brokenCases[ci], types: types, calendar: calendar,
                                                         eventHeader: eventHeader, errors: &errs.value[t], snapshotAt: snapshotAt)
                            if let p = snaps.value { (p + ci).initialize(to: loop ?? CaseLoop(type: types.types[all.value[ci].type])) }
                        }
                    }
                }
                if snapshotAt != nil {
                    snapshots = [CaseLoop](unsafeUninitializedCapacity: n) { buf, initialized in
                        pass(buf.baseAddress)
                        initialized = n
                    }
                } else {
                    pass(nil)
                }
            }
        }
        logged.finish()  // every event is in its case now
        for c in loopErrors { errors.merge(c) }
        if var failure = errors.failure() {
            failure.errors.sort { $0.row < $1.row }
            throw failure
        }
        self.cases = cases
        self.rowCount = count
        self.firstDate = first
        self.lastDate = last
        if let snapshots {
            self.snapshots = snapshots
            self.snapshotDate = snapshotAt
        }
    }

    /// Puts `c`'s events in order of (date, row) and applies them to a loop, adding the first step
    /// the loop refuses to `errors`; returns the loop as of `snapshotAt` (nil without one, or when
    /// the case is not checked).
    private static func check(_ c: inout Case, broken: Bool, types: CaseTypes, calendar: WorkCalendar, eventHeader: String,
                              errors: inout RowErrorCollector, snapshotAt: CalendarDate?) -> CaseLoop? {
        if !CaseHistory.isSorted(c) {
            let order = c.events.indices.sorted {
                (c.events[$0].date, c.rows[$0]) < (c.events[$1].date, c.rows[$1])
            }
            c.events = order.map { c.events[$0] }
            c.rows = order.map { c.rows[$0] }
        }
        if broken { return nil }
        let type = types.types[c.type]
        var loop = CaseLoop(type: type)
        var snapshot: CaseLoop?
        for (k, e) in c.events.enumerated() {
            if let d = snapshotAt, e.date > d, snapshot == nil { snapshot = loop }
            do { try loop.apply(e, calendar: calendar) } catch {
                errors.add(RowError(row: c.rows[k], column: eventHeader,
                                    zh: "\(type.name) \(c.ref)：\(e.kind.chinese)（\(e.date)）——\(error.zh)",
                                    en: "\(type.key) \(c.ref): \(e.kind.rawValue) on \(e.date): \(error.en)"))
                return nil
            }
        }
        if snapshotAt != nil, snapshot == nil { snapshot = loop }
        return snapshot
    }

    /// `s` without surrounding whitespace; a cell that has none (nearly every one) is returned as it is,
    /// without going through Foundation.
    @inline(__always) static func trimmed(_ s: String) -> String {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return s }
        if !mayTrim(first.value) && !mayTrim(last.value) { return s }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether ``trimmed(_:)`` may remove the scalar `v` at an end (a superset of what it removes).
    @inline(__always) static func mayTrim(_ v: UInt32) -> Bool {
        switch v {
        case 0...0x20, 0x7F, 0x85, 0xA0, 0x1680, 0x2000...0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: true
        default: false
        }
    }

    private static func isSorted(_ c: Case) -> Bool {
        for k in c.events.indices.dropFirst() where c.events[k].date < c.events[k - 1].date { return false }
        return true  // rows are appended in file order, so equal dates are already in row order
    }

    /// Every case as of `d`: the loop after its events dated on or before `d`.
    public func replay(asOf d: CalendarDate) -> [CaseLoop] {
        if let snapshots, snapshotDate == d { return snapshots }
        return cases.map { c in
            var loop = CaseLoop(type: types.types[c.type])
            for e in c.events where e.date <= d {
                try? loop.apply(e, calendar: calendar)  // checked on reading
            }
            return loop
        }
    }

    /// The years the file's dates fall in that the work calendar does not configure (weekends only there).
    public var uncoveredYears: [Int] {
        guard let f = firstDate, let l = lastDate else { return [] }
        return (f.year...(l.year + 1)).filter { !calendar.covers($0) }
    }

    /// `YYYY-MM-DD`, `YYYY/M/D`, `YYYY-M-D`, `YYYY.M.D`, or an Excel serial day number.
    public static func parseDate(_ text: String) -> CalendarDate? {
        var s = trimmed(text)
        // a spreadsheet's date-time cell ("2024-12-26 00:00:00", "2024-12-26T00:00:00"): its date
        if let cut = s.firstIndex(where: { $0 == " " || $0 == "T" }),
           s[s.index(after: cut)...].allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ":" || $0 == ".") }) {
            s = String(s[..<cut])
        }
        var parts: [Int] = []
        var n = 0, digits = 0
        for u in s.utf8 {
            if u >= 0x30 && u <= 0x39 {
                n = n * 10 + Int(u - 0x30); digits += 1
                if digits > 6 { return nil }
            } else if u == 0x2D || u == 0x2F || u == 0x2E {
                guard digits > 0 else { return nil }
                parts.append(n); n = 0; digits = 0
            } else { return nil }
        }
        guard digits > 0 else { return nil }
        parts.append(n)
        if parts.count == 1 {
            // an Excel serial number (1900 date system): day 25569 is 1970-01-01
            guard s.utf8.count == 5, let serial = parts.first, serial > 0 else { return nil }
            return CalendarDate(dayNumber: serial - 25569)
        }
        guard parts.count == 3, parts[0] >= 1900, parts[0] <= 9999 else { return nil }
        return CalendarDate(year: parts[0], month: parts[1], day: parts[2])
    }

    /// `.some(nil)` for an empty cell, `.some(true/false)` for 是/否, yes/no, 1/0, true/false (or
    /// the given words), `nil` for anything else.
    static func parseYesNo(_ text: String, yes: String = "是", no: String = "否") -> Bool?? {
        if text.isEmpty { return .some(nil) }
        let s = trimmed(text)
        if s.isEmpty { return .some(nil) }
        switch s.lowercased() {
        case "是", "yes", "y", "1", "true", "通过", "pass", "passed": return .some(true)
        case "否", "no", "n", "0", "false", "不通过", "fail", "failed": return .some(false)
        default: return s == yes ? .some(true) : s == no ? .some(false) : nil
        }
    }
}
