import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The closed loop (闭环督办) for every case type: registration (one, a file, a handling history),
/// the steps of CASES.md §1 each as one atomic, optimistically locked transaction decided by
/// MujunCore's `CaseLoop`, and the reads of the caller's case scope (HQ all; a department or town
/// what its unit leads or assists, a town also what lies in its jurisdiction; a requester its own).
///
/// ```swift
/// let s = services.cases
/// let new = try await s.register(.init(type: "suggestion", title: "加快园区道路建设", requester: "王代表",
///                                      assign: .init(unit: "住建局")))
/// try await services.acting(as: unitCaller).cases.step(id: new.id, .accept)   // 409 if already accepted
/// ```
public struct CaseService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    public static let maxTitle = 200
    public static let maxBody = 5000
    public static let maxNote = 2000

    var types: CaseTypes { context.caseTypes }
    var calendar: WorkCalendar { context.calendar }

    // MARK: - reading

    /// A case with its history and what the engine says about it now.
    public struct CaseView: Sendable {
        public var record: Store.CaseRecord
        public var events: [Store.LoopEventRecord]
        public var type: CaseType
        public var loop: CaseLoop
        /// Yellow / red today.
        public var flag: CaseFlag
        /// The steps the caller may take now.
        public var actions: [CaseEventKind]
        /// Opinions, extension requests, the three ones, follow-up reports (oldest first).
        public var notes: [Store.CaseNoteRecord] = []
        /// The files attached to its events and notes.
        public var attachments: [Store.AttachmentRecord] = []
        /// What the caller may record besides the steps.
        public var noteActions: [CaseNoteKind] = []
        /// Suggestions and proposals record the three ones (报到、现场、回访).
        public var threeOnes: Bool = false
    }

    /// The cases the caller may see, newest first.
    public func list(_ q: Store.CaseQuery = Store.CaseQuery(), limit: Int = 200, offset: Int = 0) async throws -> [Store.CaseRecord] {
        try caller.require(.viewCases)
        return try await unscoped.cases(scope: caller.caseScope, q, limit: limit, offset: offset)
    }

    /// One case the caller may see (another unit's case reads as if it did not exist).
    public func view(id: Int64) async throws -> CaseView {
        try caller.require(.viewCases)
        return try await makeView(try await visible(id))
    }

    /// The view of a stored case (the caller's right to see it already checked).
    func makeView(_ r: Store.CaseRecord) async throws -> CaseView {
        let events = try await unscoped.loopEvents(caseID: r.id)
        let (type, loop) = try replay(r, events)
        let today = self.today
        let (notes, files) = try await notesAndFiles(r.id)
        return CaseView(record: r, events: events, type: type, loop: loop,
                        flag: loop.flag(at: today, calendar: calendar, redAfter: types.redAfter),
                        actions: loop.allowed.filter { authorize($0, r) == nil }, notes: notes, attachments: files,
                        noteActions: noteActions(r, type: type, loop: loop, notes: notes), threeOnes: Self.hasThreeOnes(type))
    }

    func visible(_ id: Int64) async throws -> Store.CaseRecord {
        guard let r = try await unscoped.caseRecord(id: id), Self.contains(caller.caseScope, r) else {
            throw ServiceError.notFound("督办事项不存在 / case not found")
        }
        return r
    }

    static func contains(_ scope: CaseScope, _ r: Store.CaseRecord) -> Bool {
        switch scope {
        case .all: true
        case .none: false
        case .units(let unit, let town): r.leadUnit == unit || r.coUnitList.contains(unit) || (town != nil && r.town == town)
        case .requester(let id, let code): r.requesterUser == id || (code != nil && r.creditCode == code)
        }
    }

    /// The engine's loop rebuilt from the stored events.
    func replay(_ r: Store.CaseRecord, _ events: [Store.LoopEventRecord]) throws -> (CaseType, CaseLoop) {
        guard let type = types.stored(r.type) else {
            throw ServiceError(.unprocessable, "督办事项类型 \(r.type) 未配置 / the case type \(r.type) is not configured")
        }
        var loop = CaseLoop(type: type)
        for e in events {
            guard let ev = e.event else { continue }
            try? loop.apply(ev, calendar: calendar)
        }
        return (type, loop)
    }

    /// Today in Asia/Shanghai.
    public var today: CalendarDate { CalendarDate(ChinaDay.today())! }

    /// A unit's inbox (待办): every group counted, and a page of each (most urgent first).
    public struct Inbox: Sendable {
        public var unit: String
        public var counts: [InboxGroup: Int] = [:]
        public var yellow = 0, red = 0
        /// The page shown of each group.
        public var rows: [InboxGroup: [Store.CaseRecord]] = [:]
        /// Rows per page, and the page shown (of `only`, or of every group).
        public var per: Int
        public var page: Int
        /// When set, only this group was read.
        public var only: InboxGroup?
        /// The flags of the overdue rows shown.
        public var flags: [Int64: CaseFlag] = [:]

        public func count(_ g: InboxGroup) -> Int { counts[g] ?? 0 }
        public var toAccept: [Store.CaseRecord] { rows[.toAccept] ?? [] }
        public var inProgress: [Store.CaseRecord] { rows[.inProgress] ?? [] }
        public var dueSoon: [Store.CaseRecord] { rows[.dueSoon] ?? [] }
        public var overdue: [(Store.CaseRecord, CaseFlag)] { (rows[.overdue] ?? []).map { ($0, flags[$0.id] ?? .yellow) } }
        public var awaitingVerification: [Store.CaseRecord] { rows[.verification] ?? [] }
        public var assisting: [Store.CaseRecord] { rows[.assisting] ?? [] }
        public var followUps: [Store.CaseRecord] { rows[.followUp] ?? [] }
    }

    /// The inbox of the caller's unit (or, for HQ and the system, of `unit`): every group's count
    /// over all its open cases, and page `page` of `per` rows of each group (or of `only`).
    public func inbox(unit: String? = nil, only: InboxGroup? = nil, page: Int = 1, per: Int = 50) async throws -> Inbox {
        try caller.require(.viewInbox)
        let u: String
        switch caller.caseScope {
        case .units(let mine, _): u = mine
        case .all:
            guard let unit, !unit.isEmpty else { throw ServiceError.invalid("请指定单位 / choose a unit") }
            u = unit
        default: throw ServiceError(.forbidden, "只有承办单位有待办 / only units have an inbox")
        }
        let today = self.today
        let w = window(unit: u, on: today)
        let per = min(max(per, 1), 500), page = max(page, 1)
        var box = Inbox(unit: u, per: per, page: page, only: only)
        // the counts and every group's page are asked for at once (on as many connections as the pool gives)
        let store = unscoped, offset = (page - 1) * per
        async let counts = store.inboxCounts(w)
        box.rows = try await withThrowingTaskGroup(of: (InboxGroup, [Store.CaseRecord]).self) { group in
            for g in only.map({ [$0] }) ?? InboxGroup.allCases {
                group.addTask { (g, try await store.inboxRows(g, w, limit: per, offset: offset)) }
            }
            var rows: [InboxGroup: [Store.CaseRecord]] = [:]
            for try await (g, r) in group { rows[g] = r }
            return rows
        }
        (box.counts, box.yellow, box.red) = try await counts
        for r in box.rows[.overdue] ?? [] { box.flags[r.id] = Self.flag(r, at: today, calendar: calendar, redAfter: types.redAfter) }
        return box
    }

    /// The bounds of `unit`'s inbox groups on `day`: the red boundary, the due-soon window, the
    /// types whose replies are verified.
    func window(unit: String, on day: CalendarDate) -> InboxWindow {
        InboxWindow(unit: unit, today: day, redOnOrBefore: InboxWindow.redBoundary(today: day, calendar: calendar, redAfter: types.redAfter),
                    soon: calendar.addingWorkdays(types.dueSoon, to: day), verifyTypes: types.types.filter(\.verify).map(\.key))
    }

    /// The deadline a case in the inbox is working towards: accept while assigned, else the reply.
    public static func nextDue(_ r: Store.CaseRecord) -> CalendarDate? {
        let s = r.state == "assigned" ? r.acceptDue : r.currentReplyDue
        return s.flatMap(CalendarDate.init)
    }

    /// The flag of a stored case at `d` from its columns (the same rule as `CaseLoop.flag`).
    public static func flag(_ r: Store.CaseRecord, at d: CalendarDate, calendar: WorkCalendar, redAfter: Int) -> CaseFlag {
        flag(state: r.state, acceptDue: r.acceptDue, replyDue: r.replyDue, rehandleDue: r.rehandleDue, at: d, calendar: calendar, redAfter: redAfter)
    }

    /// The same from the stored columns' values.
    static func flag(state: String, acceptDue: String?, replyDue: String?, rehandleDue: String?, at d: CalendarDate,
                     calendar: WorkCalendar, redAfter: Int) -> CaseFlag {
        guard let s = CaseLoop.State(rawValue: state) else { return .none }
        return flag(state: s, acceptDue: acceptDue.flatMap(CalendarDate.init), replyDue: replyDue.flatMap(CalendarDate.init),
                    rehandleDue: rehandleDue.flatMap(CalendarDate.init), at: d, calendar: calendar, redAfter: redAfter)
    }

    /// The same from parsed dates: yellow with a missed deadline at `d`, red more than `redAfter`
    /// working days after the earliest one.
    static func flag(state: CaseLoop.State, acceptDue: CalendarDate?, replyDue: CalendarDate?, rehandleDue: CalendarDate?,
                     at d: CalendarDate, calendar: WorkCalendar, redAfter: Int) -> CaseFlag {
        var earliest: CalendarDate?
        switch state {
        case .assigned:
            if let a = acceptDue, a < d { earliest = a }
            if let p = replyDue, p < d, earliest == nil || p < earliest! { earliest = p }
        case .handling:
            if let p = rehandleDue ?? replyDue, p < d { earliest = p }
        default: break
        }
        guard let e = earliest else { return .none }
        return calendar.addingWorkdays(redAfter + 1, to: e) <= d ? .red : .yellow
    }

    // MARK: - registering

    /// A new case: what it is, who raised it, what it is linked to, and optionally its assignment.
    public struct Registration: Sendable {
        public struct Assign: Sendable {
            public var unit: String
            public var coUnits: [String]
            public var due: String?
            public var level: String?
            public init(unit: String, coUnits: [String] = [], due: String? = nil, level: String? = nil) {
                self.unit = unit; self.coUnits = coUnits; self.due = due; self.level = level
            }
        }
        public var type: String
        public var ref: String?
        public var title: String
        public var body: String
        public var requester: String
        public var requesterUser: Int64?
        /// The requester's account by login (a deputy or an enterprise user), instead of `requesterUser`.
        public var requesterLogin: String?
        public var creditCode: String?
        public var parcelID: String?
        /// A renewal cluster: `2025-3` (the year's cluster number 3).
        public var cluster: String?
        public var town: String?
        public var meetingID: Int64?
        /// The business date (default today); the CLI and imports give their own.
        public var date: String?
        public var assign: Assign?

        public init(type: String, ref: String? = nil, title: String, body: String = "", requester: String,
                    requesterUser: Int64? = nil, requesterLogin: String? = nil, creditCode: String? = nil, parcelID: String? = nil, cluster: String? = nil,
                    town: String? = nil, meetingID: Int64? = nil, date: String? = nil, assign: Assign? = nil) {
            self.cluster = cluster
            self.type = type; self.ref = ref; self.title = title; self.body = body; self.requester = requester
            self.requesterUser = requesterUser; self.requesterLogin = requesterLogin; self.creditCode = creditCode; self.parcelID = parcelID; self.town = town
            self.meetingID = meetingID; self.date = date; self.assign = assign
        }
    }

    public struct Registered: Sendable, Codable {
        public var id: Int64
        public var ref: String
        /// A petition's query code (查询码), shown once.
        public var queryCode: String?
    }

    /// The units cases may be assigned to: the configured towns, the units of department accounts,
    /// `units:` of cases.yaml, and every unit a case has been assigned to.
    public func units() async throws -> [String] {
        var set = Set(context.rules.towns).union(types.units)
        for u in try await unscoped.accountUnits() where !u.isEmpty { set.insert(u) }
        for u in try await unscoped.caseLeadUnits() where !u.isEmpty { set.insert(u) }
        return set.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }

    /// Registers (and, with `assign`, assigns) a case in one transaction.
    public func register(_ r: Registration) async throws -> Registered {
        try caller.require(.superviseCases)
        let knownUnits = Set(try await units())
        var r = r
        if r.requesterUser == nil, let login = r.requesterLogin?.trimmingCharacters(in: .whitespaces), !login.isEmpty {
            guard let u = try await unscoped.user(login: login), u.role == Role.requester.rawValue || u.role == Role.enterprise.rawValue else {
                throw ServiceError.invalid("没有账号为「\(login)」的代表、群众或企业用户 / no requester or enterprise account \"\(login)\"")
            }
            r.requesterUser = u.id
            if u.role == Role.enterprise.rawValue, r.creditCode == nil { r.creditCode = u.creditCode }
        }
        let (new, events, loop, code): (Store.NewCase, [MujunCore.CaseEvent], CaseLoop, String?)
        do { (new, events, loop, code) = try await prepare(r, knownUnits: knownUnits) } catch { throw error.error }
        let now = Store.nowMicros()
        let actor = caller.actor
        let detail = caller.detail(r.assign.map { "交办 \($0.unit)" })
        let id = try await unscoped.db.transaction { db in
            let tx = Store(db)
            if try await tx.caseID(type: new.type, ref: new.ref) != nil {
                throw ServiceError.conflict("\(loop.type.name) \(new.ref) 已存在 / \(new.type) \(new.ref) exists")
            }
            let id = try await tx.insertCase(new, loop: loop, events: events, actor: actor, recordedUs: now)
            try await tx.notifyCase(id: id, ref: new.ref, title: new.title, loop: loop, events: events, firstSeq: 1, from: today, nowUs: now)
            try await tx.audit(actor: actor, action: "case.registered", target: "\(loop.type.name) \(new.ref)",
                               detail: detail)
            return id
        }
        return Registered(id: id, ref: new.ref, queryCode: code)
    }

    /// Checks a registration; returns the row, its events and loop, and a petition's query code.
    func prepare(_ r: Registration, knownUnits: Set<String>) async throws(FieldRefusal) -> (Store.NewCase, [MujunCore.CaseEvent], CaseLoop, String?) {
        guard let type = types.type(named: r.type) else {
            throw FieldRefusal("type", "未知的督办事项类型「\(r.type)」（可选：\(types.types.map(\.name).joined(separator: "、"))）/ unknown case type \"\(r.type)\"")
        }
        let title = r.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= Self.maxTitle else {
            throw FieldRefusal("title", "标题不能为空且不超过 \(Self.maxTitle) 字 / the title is required (at most \(Self.maxTitle) characters)")
        }
        guard r.body.count <= Self.maxBody else { throw FieldRefusal("body", "内容过长 / the text is too long") }
        let requester = r.requester.trimmingCharacters(in: .whitespaces)
        guard !requester.isEmpty else { throw FieldRefusal("requester", "请填写提出人 / the requester is required") }
        let date = try await FieldRefusal.on("assigned_on") { try parseDate(r.date, "日期 / date") } ?? today
        var events = [MujunCore.CaseEvent(.register, date, unit: requester)]
        if let a = r.assign {
            let unit = a.unit.trimmingCharacters(in: .whitespaces)
            guard knownUnits.contains(unit) else {
                throw FieldRefusal("lead_unit", "未知的单位「\(unit)」/ unknown unit \"\(unit)\"")
            }
            for u in a.coUnits where !knownUnits.contains(u) {
                throw FieldRefusal("co_units", "未知的协办单位「\(u)」/ unknown co-unit \"\(u)\"")
            }
            guard let level = SupervisionLevel(named: a.level ?? "") else {
                throw FieldRefusal("level", "督办级别应为 一般/重点/挂牌督办 / the level must be 一般, 重点 or 挂牌督办")
            }
            events.append(MujunCore.CaseEvent(.assign, date, unit: unit, coUnits: a.coUnits.filter { $0 != unit },
                                    due: try await FieldRefusal.on("due") { try parseDate(a.due, "办理期限 / due date") }, level: level))
        }
        var loop = CaseLoop(type: type)
        for e in events {
            do { try loop.apply(e, calendar: calendar) } catch { throw FieldRefusal(e.kind == .assign ? "due" : "assigned_on", error.description) }
        }
        var ref = r.ref?.trimmingCharacters(in: .whitespaces) ?? ""
        if ref.isEmpty { ref = try await FieldRefusal.on("ref") { try await nextRef(type: type, year: date.year) } }
        var code: String?
        var hash: String?
        if type.key == "petition" {
            let c = String(format: "%08d", UInt32.random(in: 0..<100_000_000))
            code = c; hash = context.secret.hash("case-query:\(type.key):\(ref):\(c)")
        }
        let code_ = r.creditCode?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        if let c = code_, !CreditCode.isValid(c) {
            throw FieldRefusal("credit_code", "统一社会信用代码 \(c) 无效 / invalid credit code \(c)")
        }
        let parcel = r.parcelID?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        var town = r.town?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        if let parcel {
            let towns = try await FieldRefusal.on("parcel_id") { try await unscoped.parcelTowns([parcel]) }
            guard let t = towns[parcel] else { throw FieldRefusal("parcel_id", "地块编号 \(parcel) 不存在 / unknown parcel \(parcel)") }
            town = town ?? t
        }
        var clusterKey: (year: Int, number: Int)?
        if let raw = r.cluster?.trimmingCharacters(in: .whitespaces).nilIfEmpty {
            let parts = raw.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard parts.count == 2 else {
                throw FieldRefusal("cluster", "片区应写作 年度-片区号，如 2025-3 / a cluster is written year-number, e.g. 2025-3")
            }
            let towns = try await FieldRefusal.on("cluster") { try await unscoped.clusterTowns(year: parts[0], number: parts[1]) }
            guard let towns else {
                throw FieldRefusal("cluster", "\(parts[0]) 年没有第 \(parts[1]) 片 / no cluster \(parts[1]) in \(parts[0])")
            }
            clusterKey = (parts[0], parts[1])
            town = town ?? towns.first
        }
        let new = Store.NewCase(type: type.key, ref: ref, title: title, body: r.body, requester: requester,
                                requesterUser: r.requesterUser, creditCode: code_, parcelID: parcel,
                                clusterYear: clusterKey?.year, clusterNumber: clusterKey?.number, town: town, meetingID: r.meetingID,
                                queryCodeHash: hash)
        return (new, events, loop, code)
    }

    /// The next free ref of a type in a year: `2026-0001`, `2026-0002`, …
    func nextRef(type: CaseType, year: Int) async throws -> String {
        let used = try await unscoped.caseRefs(type: type.key, prefix: "\(year)-")
        let n = used.compactMap { Int($0.dropFirst(5)) }.max() ?? 0
        return String(format: "%d-%04d", year, n + 1)
    }

    func parseDate(_ s: String?, _ what: String) throws -> CalendarDate? {
        guard let s = s?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
        guard let d = CaseHistory.parseDate(s) else { throw ServiceError.invalid("\(what)「\(s)」不是 YYYY-MM-DD 日期 / not a date") }
        return d
    }

    // MARK: - the steps

    /// What a step carries (CASES.md §1); which fields count depends on the step.
    public struct StepInput: Sendable {
        public var unit: String?
        public var coUnits: [String]
        public var due: String?
        public var category: String?
        public var rating: String?
        public var head: Bool
        public var passed: Bool?
        public var note: String
        public var level: String?
        /// The business date (default today; only the system may back-date).
        public var date: String?
        /// The version the user saw (optimistic locking): a different one is refused with 409.
        public var version: Int?
        public init(unit: String? = nil, coUnits: [String] = [], due: String? = nil, category: String? = nil,
                    rating: String? = nil, head: Bool = false, passed: Bool? = nil, note: String = "",
                    level: String? = nil, date: String? = nil, version: Int? = nil) {
            self.unit = unit; self.coUnits = coUnits; self.due = due; self.category = category; self.rating = rating
            self.head = head; self.passed = passed; self.note = note; self.level = level; self.date = date; self.version = version
        }
    }

    /// Why the caller may not take step `kind` on case `r` (nil when allowed).
    func authorize(_ kind: CaseEventKind, _ r: Store.CaseRecord) -> String? {
        if r.type == CaseType.appeal.key {
            return "申诉在申诉页面办理 / appeals are handled on their own pages"
        }
        if caller.isSystem { return nil }
        if r.type == CaseType.project.key, [.reply, .close].contains(kind) {
            return "项目督办在报送月报或完成节点后由系统办结 / project supervision is closed by filing the report or finishing the milestone"
        }
        guard let p = caller.principal else { return "请先登录 / sign in first" }
        switch kind {
        case .register, .assign, .extend, .verify, .close:
            return caller.allows(.superviseCases) ? nil : "只有指挥部可以\(kind.chinese) / only the headquarters may \(kind.rawValue)"
        case .accept, .return, .progress, .reply:
            let mine = p.role == .town ? p.town : p.unit  // a town acts under its town's name
            guard caller.allows(.handleCases), let lead = r.leadUnit, mine == lead else {
                return "只有主办单位（\(r.leadUnit ?? "未交办")）可以\(kind.chinese) / only the lead unit may \(kind.rawValue)"
            }
            return nil
        case .evaluate:
            let own = r.requesterUser == p.userID || (p.role == .enterprise && p.creditCode != nil && r.creditCode == p.creditCode)
            return caller.allows(.evaluateCases) && own ? nil : "只有提出人本人可以评价 / only the requester may evaluate"
        }
    }

    /// Takes one step of the loop on case `id`: allowed only to the right role and unit (403
    /// naming why), only from the right state (409 naming the current one), and only when the
    /// case is still at the version the caller saw; the event, the case's columns and the audit
    /// entry are written in one transaction.
    @discardableResult
    /// `files` are attached to the event; `inside` runs in the step's transaction (an extension's
    /// approval marks its request decided there).
    public func step(id: Int64, _ kind: CaseEventKind, _ input: StepInput = StepInput(), files: [Store.NewAttachment] = [],
                     inside: (@Sendable (Store) async throws -> Void)? = nil) async throws -> CaseView {
        try caller.require(.viewCases)
        let r = try await visible(id)
        if let why = authorize(kind, r) { throw ServiceError(.forbidden, why) }
        if let v = input.version, v != r.version {
            throw ServiceError.conflict("督办事项 \(r.ref) 已被他人更新（当前状态：\(r.loopState?.chinese ?? r.state)），请刷新后再操作 / the case was changed by someone else; reload it")
        }
        if input.date != nil && !caller.isSystem { throw ServiceError.invalid("只能按当天办理 / steps are dated today") }
        var prepared = try await prepareStep(r, kind, input, files: files)
        prepared.inside = inside
        try await perform(prepared)
        // the case as the step left it (a unit that returned a case no longer sees it afterwards)
        guard let after = try await unscoped.caseRecord(id: id) else { throw ServiceError.notFound("督办事项不存在 / case not found") }
        return try await makeView(after)
    }

    /// A step decided by the engine and ready to be written: the loop after it, its event, the
    /// conditional update of the case, and the files to attach. Appeals take their steps through
    /// this too, with their own audit names and work inside.
    struct PreparedStep: Sendable {
        var record: Store.CaseRecord
        var type: CaseType
        var loop: CaseLoop
        var event: MujunCore.CaseEvent
        var seq: Int
        var step: Store.Step
        var files: [Store.NewAttachment]
        var inside: (@Sendable (Store) async throws -> Void)?
    }

    /// Rebuilds the loop of `r` from its events, applies `kind` (409 in the wrong state, 400 for
    /// bad content) and builds the step's update: `WHERE id AND state AND version`.
    func prepareStep(_ r: Store.CaseRecord, _ kind: CaseEventKind, _ input: StepInput, files: [Store.NewAttachment] = []) async throws -> PreparedStep {
        let id = r.id
        let events = try await unscoped.loopEvents(caseID: id)
        var (type, loop) = try replay(r, events)
        let date = try parseDate(input.date, "日期 / date") ?? today
        guard input.note.count <= Self.maxNote else { throw ServiceError.invalid("说明过长 / the note is too long") }
        var e = MujunCore.CaseEvent(kind, date, unit: input.unit ?? caller.principal?.unit ?? "", coUnits: input.coUnits,
                          due: try parseDate(input.due, "期限 / due date"), category: input.category?.uppercased(),
                          rating: nil, head: input.head, passed: input.passed, note: input.note)
        if let rating = input.rating, !rating.isEmpty {
            guard let rt = CaseRating(named: rating) else {
                throw ServiceError.invalid("评价应为 满意/基本满意/不满意 / the rating must be satisfied, basically_satisfied or unsatisfied")
            }
            e.rating = rt
        }
        if kind == .assign {
            guard let u = input.unit, try await Set(units()).contains(u) else {
                throw ServiceError.invalid("未知的单位「\(input.unit ?? "")」/ unknown unit")
            }
            guard let level = SupervisionLevel(named: input.level ?? "") else {
                throw ServiceError.invalid("督办级别应为 一般/重点/挂牌督办 / unknown supervision level")
            }
            e.level = level
        }
        let files = try Self.checked(files)
        let from = loop.state
        do { try loop.apply(e, calendar: calendar) } catch {
            throw ServiceError(error.kind == .wrongState ? .conflict : .invalid, "\(type.name) \(r.ref)：\(error.zh) / \(type.key) \(r.ref): \(error.en)")
        }
        var set = Store.loopColumns(loop).filter { $0.0 != "state" } + [("version", SQLLiteral.numeric("version + 1"))]
        // a reply in category B or C owes a follow-up report (续报) by the type's period; A or D ends it
        if kind == .reply, let c = e.category {
            let owed = type.followUpCategories.contains(c)
            let due = owed ? (type.followUp ?? .months(6)).due(from: date, calendar: calendar).description : nil
            set.append(("follow_up_due", SQLBind(due)))
        }
        let step = Store.Step(
            table: "cases", key: [("id", id)], subject: "\(type.name) \(r.ref)", stateColumn: "state",
            from: [from.rawValue], to: loop.state.rawValue,
            set: set,
            condition: SQLBinaryExpression(SQLColumn("version"), .equal, SQLBind(r.version)),
            action: "case.\(kind.rawValue)", detail: e.note.isEmpty ? nil : e.note,
            verb: (kind.chinese, kind.rawValue), stateName: { CaseLoop.State(rawValue: $0)?.chinese ?? $0 },
            conflictMessage: "\(type.name) \(r.ref) 已被他人更新，本次\(kind.chinese)未保存，请刷新后再操作 / the case was changed by someone else; nothing was saved")
        return PreparedStep(record: r, type: type, loop: loop, event: e, seq: (events.last?.seq ?? 0) + 1, step: step, files: files)
    }

    /// Writes a prepared step in one transaction: the case's conditional update (0 rows → 409),
    /// the event, its files, the caller's further work, the audit entry.
    func perform(_ p: PreparedStep, work: (@Sendable (Store) async throws -> String?)? = nil) async throws {
        let now = Store.nowMicros()
        let actor = caller.actor, id = p.record.id, seq = p.seq, event = p.event, files = p.files, inside = p.inside
        let ref = p.record.ref, title = p.record.title, loop = p.loop, today = self.today
        try await unscoped.perform(p.step, by: caller) { tx in
            try await tx.insertLoopEvent(caseID: id, seq: seq, event, actor: actor, recordedUs: now)
            // who the step tells (an assignment, an unsatisfied rating…), in its own transaction
            try await tx.notifyCase(id: id, ref: ref, title: title, loop: loop, events: [event], firstSeq: seq, from: today, nowUs: now)
            for f in files { try await tx.insertAttachment(caseID: id, eventSeq: seq, noteID: nil, f, by: actor, recordedUs: now) }
            if let inside { try await inside(tx) }
            return ((), try await work?(tx))
        }
    }
}

// MARK: - files

extension CaseService {
    /// What an import did.
    public struct ImportSummary: Sendable, Codable {
        public var cases: Int
        public var events: Int
        /// Cases already there with the same history (re-importing a file changes nothing).
        public var unchanged: Int
    }

    /// Imports a handling history (CASES.md §5) all or nothing: the file was checked row by row
    /// when read; a case already stored must have the same history (then it is left as it is),
    /// else its first row is named and nothing is written.
    /// `requesterAccounts` links the cases of a requester (by name) to an account (the demo's deputy).
    public func importHistory(_ h: CaseHistory, fileName: String, requesterAccounts: [String: Int64] = [:]) async throws -> ImportSummary {
        try caller.require(.superviseCases)
        let parcelTowns = try await unscoped.parcelTowns(Array(Set(h.cases.compactMap(\.parcelID))))
        let actor = caller.actor
        let now = Store.nowMicros()
        let types = self.types
        return try await unscoped.db.transaction { db in
            let tx = Store(db)
            var errors = RowErrorCollector()
            var fresh: [(CaseHistory.Case, CaseLoop)] = []
            var unchanged = 0
            let loops = h.replay(asOf: CalendarDate(year: 9999, month: 12, day: 31)!)
            let existing = try await tx.caseIDs(keys: h.cases.map { (types.types[$0.type].key, $0.ref) })
            for (i, c) in h.cases.enumerated() {
                let key = types.types[c.type].key
                if let id = existing["\(key)\u{1}\(c.ref)"] {
                    let stored = try await tx.loopEvents(caseID: id).compactMap(\.event)
                    if stored == c.events { unchanged += 1; continue }
                    errors.add(RowError(row: c.rows.first ?? 0, column: "编号",
                                        zh: "\(types.types[c.type].name) \(c.ref) 已存在，且办理记录与文件不同",
                                        en: "\(key) \(c.ref) exists with a different history"))
                    continue
                }
                fresh.append((c, loops[i]))
            }
            if let f = errors.failure() { throw f }
            var events = 0
            var items: [(Store.NewCase, CaseLoop, [MujunCore.CaseEvent])] = []
            items.reserveCapacity(fresh.count)
            for (c, loop) in fresh {
                let type = types.types[c.type]
                let new = Store.NewCase(type: type.key, ref: c.ref, title: c.title.isEmpty ? "\(type.name) \(c.ref)" : c.title,
                                        body: "", requester: loop.requester, requesterUser: requesterAccounts[loop.requester],
                                        creditCode: c.creditCode, parcelID: c.parcelID, clusterYear: nil, clusterNumber: nil,
                                        town: c.parcelID.flatMap { parcelTowns[$0] }, meetingID: nil, queryCodeHash: nil)
                items.append((new, loop, c.events))
                events += c.events.count
            }
            try await tx.insertCases(items, actor: actor, recordedUs: now)
            try await tx.audit(actor: actor, action: "case.history_imported", target: fileName,
                               detail: caller.detail("\(fresh.count) 件、\(events) 条事件；未变 \(unchanged) 件"))
            return ImportSummary(cases: fresh.count, events: events, unchanged: unchanged)
        }
    }

    /// The columns of the bulk-registration template (FORMATS.md, cases).
    public static let registrationFields: [FieldSpec] = [
        FieldSpec(key: "type", chinese: "类型", required: true),
        FieldSpec(key: "ref", chinese: "编号"),
        FieldSpec(key: "title", chinese: "标题", required: true),
        FieldSpec(key: "body", chinese: "内容"),
        FieldSpec(key: "requester", chinese: "提出人", required: true),
        FieldSpec(key: "lead_unit", chinese: "主办单位"),
        FieldSpec(key: "co_units", chinese: "协办单位"),
        FieldSpec(key: "assigned_on", chinese: "交办日期"),
        FieldSpec(key: "due", chinese: "办理期限"),
        FieldSpec(key: "level", chinese: "督办级别"),
        FieldSpec(key: "parcel_id", chinese: "地块编号"),
        FieldSpec(key: "credit_code", chinese: "统一社会信用代码"),
    ]

    /// Registers (and assigns) every row of a cases file, all or nothing: every bad row is named
    /// with its row number, column and reason (Chinese and English), and nothing is written.
    public func registerFile(_ table: any TableSource, fileName: String) async throws -> ImportSummary {
        try caller.require(.superviseCases)
        let m = HeaderMatcher(headers: table.headers, fields: Self.registrationFields)
        try m.checkRequired()
        let knownUnits = Set(try await units())
        let parcels = try await unscoped.parcelIDs()
        var errors = RowErrorCollector()
        var prepared: [(Store.NewCase, [MujunCore.CaseEvent], CaseLoop)] = []
        var rowsOf: [String: Int] = [:]
        var nextNumber: [String: Int] = [:]
        var rows: [(Int, [String])] = []
        try table.forEachRow { row, cells in rows.append((row, cells)) }
        for (row, cells) in rows {
            func v(_ k: String) -> String { m.value(k, in: cells).trimmingCharacters(in: .whitespacesAndNewlines) }
            func bad(_ k: String, _ message: String) {
                let parts = message.components(separatedBy: " / ")
                errors.add(RowError(row: row, column: m.header(of: k), zh: parts[0], en: parts.count > 1 ? parts[1] : parts[0]))
            }
            let unit = v("lead_unit")
            let code = v("credit_code")
            if !code.isEmpty && !CreditCode.isValid(code) { bad("credit_code", "统一社会信用代码 \(code) 无效 / invalid credit code \(code)"); continue }
            let parcel = v("parcel_id")
            if !parcel.isEmpty && !parcels.contains(parcel) { bad("parcel_id", "地块编号 \(parcel) 不存在 / unknown parcel \(parcel)"); continue }
            let reg = Registration(
                type: v("type"), ref: v("ref"), title: v("title"), body: v("body"), requester: v("requester"),
                creditCode: code.isEmpty ? nil : code, parcelID: parcel.isEmpty ? nil : parcel,
                date: v("assigned_on").isEmpty ? nil : v("assigned_on"),
                assign: unit.isEmpty ? nil : Registration.Assign(
                    unit: unit, coUnits: v("co_units").split(whereSeparator: { $0 == ";" || $0 == "；" })
                        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
                    due: v("due"), level: v("level")))
            do throws(FieldRefusal) {
                var (new, events, loop, _) = try await prepare(reg, knownUnits: knownUnits)
                if v("ref").isEmpty {  // numbered after the refs already given out in this file
                    let year = loop.registeredOn?.year ?? today.year
                    let k = "\(new.type)|\(year)"
                    let n = (nextNumber[k] ?? (Int(new.ref.dropFirst(5)) ?? 1)) 
                    new.ref = String(format: "%d-%04d", year, n)
                    nextNumber[k] = n + 1
                }
                let key = "\(new.type)\u{1}\(new.ref)"
                if let first = rowsOf[key] { bad("ref", "编号 \(new.ref) 与第 \(first) 行重复 / ref \(new.ref) repeats row \(first)"); continue }
                rowsOf[key] = row
                prepared.append((new, events, loop))
            } catch {
                bad(error.field, error.error.message)
            }
        }
        if let f = errors.failure() { throw f }
        let actor = caller.actor
        let now = Store.nowMicros()
        let all = prepared
        let firstRows = rowsOf
        return try await unscoped.db.transaction { db in
            let tx = Store(db)
            let existing = try await tx.caseIDs(keys: all.map { ($0.0.type, $0.0.ref) })
            var errors = RowErrorCollector()
            for (new, _, _) in all where existing["\(new.type)\u{1}\(new.ref)"] != nil {
                errors.add(RowError(row: firstRows["\(new.type)\u{1}\(new.ref)"] ?? 0, column: m.header(of: "ref"),
                                    zh: "编号 \(new.ref) 已存在", en: "ref \(new.ref) exists"))
            }
            if let f = errors.failure() { throw f }
            try await tx.insertCases(all.map { ($0.0, $0.2, $0.1) }, actor: actor, recordedUs: now)
            let events = all.reduce(0) { $0 + $1.1.count }
            try await tx.audit(actor: actor, action: "case.file_registered", target: fileName,
                               detail: caller.detail("\(all.count) 件"))
            return ImportSummary(cases: all.count, events: events, unchanged: 0)
        }
    }
}

/// A refusal of one field of a registration (the column a file's row error names).
struct FieldRefusal: Error {
    var field: String
    var error: ServiceError
    init(_ field: String, _ message: String) { self.field = field; self.error = .invalid(message) }

    /// Runs `body`, naming `field` in whatever it throws.
    static func on<T>(_ field: String, _ body: () async throws -> T) async throws(FieldRefusal) -> T {
        do { return try await body() } catch let e as ServiceError {
            throw FieldRefusal(field, e.message)
        } catch {
            throw FieldRefusal(field, "\(error)")
        }
    }
}

// MARK: - bulletins

extension CaseService {
    /// The bulletin (督导通报, CASES.md §4) of the stored cases: for a type (or all) and the cases
    /// whose current assignment is dated within [from, to], as of `asOf`, from the events dated by
    /// then and (for an issued bulletin) recorded by `recordedBy`.
    public func bulletin(from: CalendarDate, to: CalendarDate, asOf: CalendarDate, type: String? = nil,
                         recordedBy: Int64? = nil) async throws -> Bulletin {
        try caller.require(.superviseCases)
        var typeKey: String?
        if let type, !type.isEmpty {
            guard let t = types.counted(type) else { throw ServiceError.invalid("未知的督办事项类型「\(type)」/ unknown case type") }
            typeKey = t.key
        }
        guard from <= to else { throw ServiceError.invalid("起始日期晚于截止日期 / from is after to") }
        // A case whose every event is dated by D (and, for an issued bulletin, recorded by its time)
        // is counted from its stored columns; the others are replayed from their events.
        let asOfText = asOf.description
        // the cases and the replayed events are read at once, on two connections
        let store = unscoped
        async let fetchedRows = store.bulletinRows(type: typeKey)
        async let fetchedEvents = store.bulletinEvents(type: typeKey, asOf: asOfText, recordedBy: recordedBy)
        var lateRecorded = Set<Int64>()
        if let recordedBy { lateRecorded = try await store.casesRecorded(after: recordedBy) }
        let rows = try await fetchedRows, byCase = try await fetchedEvents
        var out: [BulletinCase] = []
        out.reserveCapacity(rows.count)
        let types = self.types, calendar = self.calendar
        var typeOf: [String: CaseType?] = [:]
        for c in rows {
            let found: CaseType?
            if let t = typeOf[c.type] { found = t } else { found = types.counted(c.type); typeOf[c.type] = found }
            guard let type = found else { continue }
            if c.lastEventOn > asOf || lateRecorded.contains(c.id) {
                var loop = CaseLoop(type: type)
                for e in byCase[c.id] ?? [] { try? loop.apply(e, calendar: calendar) }
                if let b = BulletinCase(loop, ref: c.ref, title: c.title, at: asOf, calendar: calendar, redAfter: types.redAfter),
                   b.assignedOn >= from, b.assignedOn <= to {
                    out.append(b)
                }
                continue
            }
            // only the cases the bulletin counts (assigned within the period) are made: then it
            // puts them in order by moving them, not copying
            guard let unit = c.leadUnit, let assigned = c.assignedOn, assigned >= from, assigned <= to, let acceptDue = c.acceptDue,
                  let state = CaseLoop.State(rawValue: c.state) else { continue }
            out.append(BulletinCase(ref: c.ref, type: type, title: c.title, unit: unit, assignedOn: assigned, acceptDue: acceptDue,
                                    acceptedOn: c.acceptedOn, replyDue: c.replyDue, repliedOn: c.firstReplyOn, state: state,
                                    flag: Self.flag(state: state, acceptDue: acceptDue, replyDue: c.replyDue, rehandleDue: c.rehandleDue,
                                                    at: asOf, calendar: calendar, redAfter: types.redAfter),
                                    rating: c.rating.flatMap(CaseRating.init(rawValue:)), category: c.category, head: c.head))
        }
        return Bulletin(cases: out, from: from, to: to, asOf: asOf, type: typeKey, minCases: types.minCases, bottom: types.bottom)
    }
}

extension CaseService {
    /// Issues a bulletin: its number (unique), title and parameters are stored with the time of
    /// issue; from then on it is frozen (``issued(id:)`` recomputes it from the events recorded by then).
    public func issue(number: String, title: String, from: CalendarDate, to: CalendarDate, asOf: CalendarDate,
                      type: String?) async throws -> Store.BulletinRecord {
        try caller.require(.superviseCases)
        let number = number.trimmingCharacters(in: .whitespaces)
        guard !number.isEmpty, number.count <= 100 else { throw ServiceError.invalid("请填写通报文号 / the number is required") }
        // checks the parameters the same way a bulletin page does
        let b = try await bulletin(from: from, to: to, asOf: asOf, type: type)
        let now = Store.nowMicros()
        let today = self.today.description
        let actor = caller.actor
        let detail = caller.detail("\(b.type ?? "全部") \(from)–\(to) 截至 \(asOf)")
        let title = title.trimmingCharacters(in: .whitespaces).isEmpty ? "督导通报" : title.trimmingCharacters(in: .whitespaces)
        let id = try await unscoped.db.transaction { db in
            let tx = Store(db)
            if try await tx.sql.select().column("id").from("bulletins").where("number", .equal, number).first() != nil {
                throw ServiceError.conflict("文号 \(number) 已发布 / a bulletin numbered \(number) exists")
            }
            let id = try await tx.sql.insert(into: "bulletins")
                .columns("number", "title", "issued_on", "type", "from_date", "to_date", "as_of", "recorded_us", "issued_by")
                .values(SQLBind(number), SQLBind(title), SQLBind(today), SQLBind(b.type), SQLBind(from.description),
                        SQLBind(to.description), SQLBind(asOf.description), SQLBind(now), SQLBind(actor))
                .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
            try await tx.audit(actor: actor, action: "bulletin.issued", target: number, detail: detail)
            return id
        }
        guard let r = try await unscoped.bulletin(id: id) else { throw ServiceError.notFound("通报不存在 / bulletin not found") }
        return r
    }

    /// The issued bulletins, newest first.
    public func issuedBulletins() async throws -> [Store.BulletinRecord] {
        try caller.require(.superviseCases)
        return try await unscoped.bulletins()
    }

    /// An issued bulletin, recomputed from the events recorded by its time of issue.
    public func issued(id: Int64) async throws -> (Store.BulletinRecord, Bulletin) {
        try caller.require(.superviseCases)
        guard let r = try await unscoped.bulletin(id: id),
              let from = CalendarDate(r.fromDate), let to = CalendarDate(r.toDate), let asOf = CalendarDate(r.asOf) else {
            throw ServiceError.notFound("通报不存在 / bulletin not found")
        }
        return (r, try await bulletin(from: from, to: to, asOf: asOf, type: r.type, recordedBy: r.recordedUs))
    }
}

// MARK: - the petitioner (no account): the case number and the query code

extension CaseService {
    /// A petition found by its number and the query code issued at registration (nil when the
    /// pair does not match: the answer does not tell which part was wrong).
    public func petition(ref: String, code: String) async throws -> CaseView? {
        let ref = ref.trimmingCharacters(in: .whitespaces), code = code.trimmingCharacters(in: .whitespaces)
        guard !ref.isEmpty, !code.isEmpty, ref.count <= 100, code.count <= 20,
              let id = try await unscoped.caseID(type: "petition", ref: ref),
              let r = try await unscoped.caseRecord(id: id), let stored = try await unscoped.queryCodeHash(caseID: id),
              Tokens.equal(stored, context.secret.hash("case-query:petition:\(ref):\(code)")) else { return nil }
        return try await makeView(r)
    }

    /// The petitioner rates the reply (满意 / 基本满意 / 不满意), with the number and the query code.
    public func ratePetition(ref: String, code: String, rating: String, note: String) async throws -> CaseView {
        guard let v = try await petition(ref: ref, code: code) else {
            throw ServiceError.notFound("编号或查询码不正确 / the number or the query code is wrong")
        }
        return try await services.acting(as: .system("信访人")).cases
            .step(id: v.record.id, .evaluate, .init(rating: rating, note: note, version: v.record.version))
    }
}
