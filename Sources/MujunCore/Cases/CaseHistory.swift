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

    /// Reads and checks every row of `table`: values (§5) and the order of each case's events (§1).
    /// Throws an ``ImportFailure`` naming every bad row (row number, column, reason) when any is bad.
    public init(table: any TableSource, types: CaseTypes = .default, calendar: WorkCalendar = .shipped) throws(ImportFailure) {
        self.types = types
        self.calendar = calendar
        let m = HeaderMatcher(headers: table.headers, fields: CaseHistory.fields)
        try m.checkRequired()
        var errors = RowErrorCollector()
        let col = Dictionary(uniqueKeysWithValues: CaseHistory.fields.map { ($0.key, m.index(of: $0.key)) })
        let header = Dictionary(uniqueKeysWithValues: CaseHistory.fields.map { ($0.key, m.header(of: $0.key)) })
        // the column of each field, looked up once (-1: absent)
        func at(_ key: String) -> Int { (col[key] ?? nil) ?? -1 }
        let cRef = at("ref"), cTitle = at("title"), cType = at("type"), cEvent = at("event"), cDate = at("date")
        let cUnit = at("unit"), cCo = at("co_units"), cDue = at("due"), cCategory = at("category"), cRating = at("rating")
        let cHead = at("head"), cPassed = at("passed"), cNote = at("note"), cLevel = at("level"), cParcel = at("parcel_id")
        let cCode = at("credit_code")
        var caseIndex: [String: Int] = [:]
        var broken: Set<Int> = []  // cases with an unreadable row: their order is not checked
        var cases: [Case] = []
        var typeNames: [String: Int] = [:]
        var first: CalendarDate?, last: CalendarDate?
        var count = 0
        do {
            try table.forEachRow { row, cells in
                count += 1
                @inline(__always) func cell(_ key: Int) -> String {
                    guard key >= 0, key < cells.count else { return "" }
                    return cells[key]
                }
                func bad(_ key: String, _ zh: String, _ en: String) {
                    errors.add(RowError(row: row, column: header[key]!, zh: zh, en: en))
                }
                let ref = CaseHistory.trimmed(cell(cRef))
                let typeText = cell(cType)
                var typeIndex = typeNames[typeText]
                if typeIndex == nil, let p = types.position(of: typeText) { typeIndex = p; typeNames[typeText] = p }
                var ok = true
                if ref.isEmpty { bad("ref", "缺少编号", "the ref is missing"); ok = false }
                if typeIndex == nil {
                    bad("type", "未知的类型「\(typeText)」", "unknown case type \"\(typeText)\""); ok = false
                }
                let key = "\(typeIndex ?? -1)\u{1}\(ref)"
                var ci = caseIndex[key]
                if ci == nil, ok {
                    ci = cases.count; caseIndex[key] = ci
                    cases.append(Case(type: typeIndex!, ref: ref, title: "", events: [], rows: []))
                }
                let eventText = cell(cEvent)
                let kind = CaseEventKind(named: eventText)
                if kind == nil { bad("event", "未知的事件「\(eventText)」", "unknown event \"\(eventText)\""); ok = false }
                let dateText = cell(cDate)
                let date = CaseHistory.parseDate(dateText)
                if date == nil {
                    bad("date", "日期「\(dateText)」不是 YYYY-MM-DD 日期", "the date \"\(dateText)\" is not a YYYY-MM-DD date"); ok = false
                }
                var e = CaseEvent(kind ?? .progress, date ?? CalendarDate(dayNumber: 0))
                e.unit = CaseHistory.trimmed(cell(cUnit))
                let co = cell(cCo)
                if !co.isEmpty {
                    e.coUnits = co.split(whereSeparator: { $0 == ";" || $0 == "；" })
                        .map { CaseHistory.trimmed(String($0)) }.filter { !$0.isEmpty }
                }
                let dueText = CaseHistory.trimmed(cell(cDue))
                if !dueText.isEmpty {
                    if let d = CaseHistory.parseDate(dueText) { e.due = d } else {
                        bad("due", "办理期限「\(dueText)」不是 YYYY-MM-DD 日期", "the due date \"\(dueText)\" is not a YYYY-MM-DD date"); ok = false
                    }
                }
                let cat = CaseHistory.trimmed(cell(cCategory))
                if !cat.isEmpty {
                    if kind == .reply { e.category = cat.uppercased() } else if kind != nil {
                        bad("category", "只有答复可以填写类别", "only a reply has a category"); ok = false
                    }
                }
                let ratingText = CaseHistory.trimmed(cell(cRating))
                if !ratingText.isEmpty {
                    if let r = CaseRating(named: ratingText) { e.rating = r } else {
                        bad("rating", "评价「\(ratingText)」应为 满意/基本满意/不满意", "the rating \"\(ratingText)\" must be 满意, 基本满意 or 不满意"); ok = false
                    }
                }
                let headText = cell(cHead)
                switch CaseHistory.parseYesNo(headText) {
                case .some(let b): e.head = b ?? false
                case .none: bad("head", "一把手参与「\(headText)」应为 是/否", "head \"\(headText)\" must be yes or no"); ok = false
                }
                let passedText = cell(cPassed)
                switch CaseHistory.parseYesNo(passedText, yes: "通过", no: "不通过") {
                case .some(let b): e.passed = b
                case .none: bad("passed", "验收结果「\(passedText)」应为 通过/不通过", "passed \"\(passedText)\" must be 通过 or 不通过"); ok = false
                }
                e.note = CaseHistory.trimmed(cell(cNote))
                let levelText = cell(cLevel)
                if let l = SupervisionLevel(named: levelText) { e.level = l } else {
                    bad("level", "督办级别「\(levelText)」应为 一般/重点/挂牌督办", "the level \"\(levelText)\" must be 一般, 重点 or 挂牌督办"); ok = false
                }
                guard let ci else { return }
                if !ok { broken.insert(ci); return }
                let title = cell(cTitle)
                if !title.isEmpty && (cases[ci].title.isEmpty || kind == .register) { cases[ci].title = title }
                if kind == .register {
                    let parcel = CaseHistory.trimmed(cell(cParcel))
                    let code = CaseHistory.trimmed(cell(cCode))
                    if !parcel.isEmpty { cases[ci].parcelID = parcel }
                    if !code.isEmpty { cases[ci].creditCode = code }
                }
                cases[ci].events.append(e)
                cases[ci].rows.append(row)
                if let d = date {
                    if first == nil || d < first! { first = d }
                    if last == nil || d > last! { last = d }
                }
            }
        } catch let f as ImportFailure {
            throw f
        } catch {
            throw ImportFailure.file(zh: "无法读取文件：\(error)", en: "cannot read the file: \(error)")
        }
        // each case in order of (date, row), checked against the loop
        for ci in cases.indices {
            var c = cases[ci]
            if !CaseHistory.isSorted(c) {
                let order = c.events.indices.sorted {
                    (c.events[$0].date, c.rows[$0]) < (c.events[$1].date, c.rows[$1])
                }
                c.events = order.map { c.events[$0] }
                c.rows = order.map { c.rows[$0] }
            }
            cases[ci] = c
            if broken.contains(ci) { continue }
            var loop = CaseLoop(type: types.types[c.type])
            for (k, e) in c.events.enumerated() {
                do { try loop.apply(e, calendar: calendar) } catch {
                    errors.add(RowError(row: c.rows[k], column: header["event"]!,
                                        zh: "\(types.types[c.type].name) \(c.ref)：\(e.kind.chinese)（\(e.date)）——\(error.zh)",
                                        en: "\(types.types[c.type].key) \(c.ref): \(e.kind.rawValue) on \(e.date): \(error.en)"))
                    break
                }
            }
        }
        if var failure = errors.failure() {
            failure.errors.sort { $0.row < $1.row }
            throw failure
        }
        self.cases = cases
        self.rowCount = count
        self.firstDate = first
        self.lastDate = last
    }

    /// `s` without surrounding whitespace; a cell that has none (nearly every one) is returned as it is,
    /// without going through Foundation.
    @inline(__always) static func trimmed(_ s: String) -> String {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return s }
        @inline(__always) func space(_ u: Unicode.Scalar) -> Bool {
            switch u.value {
            case 0...0x20, 0x7F, 0x85, 0xA0, 0x1680, 0x2000...0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: true
            default: false
            }
        }
        if !space(first) && !space(last) { return s }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func isSorted(_ c: Case) -> Bool {
        for k in c.events.indices.dropFirst() where c.events[k].date < c.events[k - 1].date { return false }
        return true  // rows are appended in file order, so equal dates are already in row order
    }

    /// Every case as of `d`: the loop after its events dated on or before `d`.
    public func replay(asOf d: CalendarDate) -> [CaseLoop] {
        cases.map { c in
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
