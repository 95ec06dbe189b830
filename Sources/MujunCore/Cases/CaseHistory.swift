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
    /// Each type in a box that the loops of its cases share.
    let boxes: [CaseTypeBox]
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
    /// Whether each case holds its events (else only ``snapshots`` tell what the file said).
    public let keepsEvents: Bool
    /// The events as read, when the cases do not hold them (they live as long as the history).
    private let unkept: UncheckedSendable<[EventLog]>

    /// Told the end of each step of reading a history (`mujun` sets it under `MUJUN_TIMING=1`).
    public nonisolated(unsafe) static var stepDone: ((String) -> Void)?

    /// Reads and checks every row of `table`: values (§5) and the order of each case's events (§1).
    /// Throws an ``ImportFailure`` naming every bad row (row number, column, reason) when any is bad.
    /// A CSV file is read in as many pieces at once as there are cores; the result (and every error)
    /// is that of reading it row by row. With `snapshotAt`, ``snapshots`` holds every case as of that date.
    public init(table: any TableSource, types: CaseTypes = .default, calendar: WorkCalendar = .shipped,
                snapshotAt: CalendarDate? = nil) throws(ImportFailure) {
        try self.init(table: table, types: types, calendar: calendar, snapshotAt: snapshotAt, keepEvents: true,
                      minimumPiece: 1 << 20, parts: Parallel.cores * 4)
    }

    /// Reads and checks every row of `table` as the other does, and keeps every case only as of
    /// `asOf` (``snapshots``): each case's `events` and `rows` stay empty, and ``replay(asOf:)`` answers
    /// for `asOf` alone. What a bulletin of one date needs (`mujun cases bulletin`), without moving a
    /// million events into their cases.
    ///
    /// ```swift
    /// let h = try CaseHistory(table: table, onlyAsOf: CalendarDate("2026-06-30")!)
    /// let b = Bulletin(history: h, from: from, to: to, asOf: CalendarDate("2026-06-30")!)
    /// ```
    public init(table: any TableSource, types: CaseTypes = .default, calendar: WorkCalendar = .shipped,
                onlyAsOf asOf: CalendarDate) throws(ImportFailure) {
        try self.init(table: table, types: types, calendar: calendar, snapshotAt: asOf, keepEvents: false,
                      minimumPiece: 1 << 20, parts: Parallel.cores * 4)
    }

    /// As the public ones, a CSV file read in up to `parts` pieces of at least `minimumPiece` bytes,
    /// and the cases checked in `caseParts` ranges (tests cut small files).
    init(table: any TableSource, types: CaseTypes, calendar: WorkCalendar, snapshotAt: CalendarDate?, keepEvents: Bool = true,
         minimumPiece: Int, parts: Int, caseParts: Int? = nil) throws(ImportFailure) {
        precondition(keepEvents || snapshotAt != nil, "a history that keeps no events keeps its cases as of a date")
        self.types = types
        self.calendar = calendar
        self.keepsEvents = keepEvents
        let boxes = types.types.map(CaseTypeBox.init)
        self.boxes = boxes
        let m = HeaderMatcher(headers: table.headers, fields: CaseHistory.fields)
        try m.checkRequired()
        let layout = HistoryLayout(m)
        // 1. the rows, read and checked one by one (in pieces of the file at once)
        var pieces = try TableReader.cellsInPieces(table, parts: parts, minimumPiece: minimumPiece,
                                                    make: { _ in HistoryPiece(layout, types) }) { piece, record, cells in
            piece.read(record, cells)
        }
        CaseHistory.stepDone?("read: rows")
        // 2. the cases in order of first appearance; each piece's events renumbered to them (the
        // events themselves stay in the pieces' logs until step 3 moves them)
        var errors = RowErrorCollector()
        var cases: [Case] = []
        var caseIndex = ByteKeyTable(capacity: pieces.map(\.state.cases.count).max() ?? 0)
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
                for k in list.indices {
                    var ref = list[k].key.ref
                    let (ci, new) = ref.withUTF8 { caseIndex.index(of: $0, tag: list[k].key.type) }  // numbered in order, as `cases`
                    numbers[k] = Int32(ci)
                    if new {
                        cases.append(Case(type: list[k].key.type, ref: ref, title: list[k].title, events: [], rows: [],
                                          parcelID: list[k].parcel, creditCode: list[k].code))
                        broken.append(list[k].broken)
                        continue
                    }
                    // the same case in an earlier piece: its rows come first
                    if cases[ci].title.isEmpty { cases[ci].title = list[k].title } else if let t = list[k].registerTitle { cases[ci].title = t }
                    if let p = list[k].parcel { cases[ci].parcelID = p }
                    if let code = list[k].code { cases[ci].creditCode = code }
                    if list[k].broken { broken[ci] = true }
                }
            }
            pieces[p].state.log.renumber(numbers)
            logs.append(pieces[p].state.log)
            rowBase.append(firstRow)
        }
        self.pieces = pieces.count
        pieces.removeAll()
        CaseHistory.stepDone?("read: cases merged")
        // 3. each case's events put in order of (date, row) where they lie in the logs, checked against
        // the loop, and (when kept) moved into the case: cases at once, in ranges
        let logged = LoggedEvents(logs, rowBase: rowBase, cases: cases.count)
        CaseHistory.stepDone?("read: events by case")
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
                        var slots: [LoggedEvents.Slot] = []
                        for ci in (t * n / caseParts)..<((t + 1) * n / caseParts) {
                            let box = boxes[all.value[ci].type]
                            logged.ordered(ci, into: &slots)
                            let loop = brokenCases[ci] ? nil
                                : CaseHistory.check(slots, ref: all.value[ci].ref, box: box, calendar: calendar, eventHeader: eventHeader,
                                                    errors: &errs.value[t], snapshotAt: snapshotAt)
                            if keepEvents { (all.value[ci].events, all.value[ci].rows) = logged.take(slots) }
                            if let p = snaps.value { (p + ci).initialize(to: loop ?? CaseLoop(box: box)) }
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
        if keepEvents {
            logged.finish()  // every event is in its case now
            unkept = UncheckedSendable([])
        } else {
            unkept = UncheckedSendable(logs)
        }
        CaseHistory.stepDone?("read: cases checked")
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

    /// Applies a case's events (in order of date and row, read where they lie in the logs) to a loop
    /// of its type, adding the first step the loop refuses to `errors`; returns the loop as of
    /// `snapshotAt` (nil without one, or when a step was refused).
    private static func check(_ slots: [LoggedEvents.Slot], ref: String, box: CaseTypeBox, calendar: WorkCalendar, eventHeader: String,
                              errors: inout RowErrorCollector, snapshotAt: CalendarDate?) -> CaseLoop? {
        var loop = CaseLoop(box: box)
        var snapshot: CaseLoop?
        for slot in slots {
            let e = slot.event
            if let d = snapshotAt, e.pointee.date > d, snapshot == nil { snapshot = loop }
            do throws(CaseStepError) { try loop.apply(e.pointee, calendar: calendar) } catch {
                let type = box.type
                errors.add(RowError(row: slot.row, column: eventHeader,
                                    zh: "\(type.name) \(ref)：\(e.pointee.kind.chinese)（\(e.pointee.date)）——\(error.zh)",
                                    en: "\(type.key) \(ref): \(e.pointee.kind.rawValue) on \(e.pointee.date): \(error.en)"))
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

    /// Every case as of `d`: the loop after its events dated on or before `d`.
    public func replay(asOf d: CalendarDate) -> [CaseLoop] {
        if let snapshots, snapshotDate == d { return snapshots }
        precondition(keepsEvents, "a history read only as of \(snapshotDate.map(\.description) ?? "-") replayed as of \(d)")
        return cases.map { c in
            var loop = CaseLoop(box: boxes[c.type])
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
