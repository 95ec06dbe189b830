import Foundation
import FluentKit
import SQLKit
import MujunCore
import Crypto

/// Projects (项目, issue 10): reads within the caller's project scope, imports all or nothing,
/// monthly reports (每月有进展) and milestones recorded by the responsible unit, and the 滞后
/// rules run on the case engine — a late project gets a supervision case (项目督办) for its
/// responsible town, which the engine replies to and closes once the report is filed or the
/// milestone done.
///
/// ```swift
/// let s = services.projects
/// try await s.importTables(projects: p, milestones: m, fileName: "projects.xlsx")
/// try await s.supervise(on: today)                 // judges every project, opens and closes 督办 cases
/// try await s.fileReport(id: 7, .init(month: "2026-11", text: "完成签约 12 户"))   // clears its case
/// ```
public struct ProjectService: ServiceBase {
    let services: Services
    init(_ services: Services) { self.services = services }

    var types: ProjectTypes { context.projectTypes }
    var calendar: WorkCalendar { context.calendar }
    var judge: ProjectJudge { ProjectJudge(types: types, calendar: calendar) }
    /// Today in Asia/Shanghai.
    public var today: CalendarDate { CalendarDate(ChinaDay.today())! }
    /// Who the engine's own steps on supervision cases are recorded as.
    static let engineActor = "系统（项目督办）"
    /// Who opens the supervision cases.
    static let requester = "项目指挥部"
    public static let maxText = 4000
    public static let maxPhotos = 6
    /// The largest report request: its photos and a little text.
    public static let maxRequest = maxPhotos * CaseService.maxAttachmentBytes + (1 << 20)

    // MARK: reads

    /// The projects the caller may see, filtered.
    public func list(_ q: Store.ProjectQuery = Store.ProjectQuery()) async throws -> [Store.ProjectRecord] {
        try caller.require(.viewProjects)
        return try await unscoped.projects(scope: caller.projectScope, q)
    }

    /// A project as its page shows it.
    public struct View: Sendable {
        public var record: Store.ProjectRecord
        public var type: ProjectType?
        public var plan: ProjectPlan
        /// The rules' verdict today.
        public var status: ProjectStatus
        public var milestones: [Store.MilestoneRecord]
        public var parcels: [String]
        public var reports: [Store.ProjectReportRecord]
        public var photos: [Store.ProjectPhotoRecord]
        public var events: [Store.ProjectEventRecord]
        /// Its supervision cases (newest first).
        public var cases: [Store.CaseRecord]
        /// Whether the caller may file reports and record milestones.
        public var canReport: Bool
        /// The months a report may be filed for now (oldest first), those not yet filed.
        public var reportableMonths: [YearMonth]
        /// The challenge (揭榜挂帅) whose winner's project this is.
        public var challenge: Store.ChallengeRecord?
    }

    public func view(id: Int64) async throws -> View {
        let r = try await visible(id)
        let store = unscoped
        let stones = try await store.milestones(projectIDs: [id])[id] ?? []
        let months = try await store.reportedMonths(projectIDs: [id])[id] ?? []
        let plan = try Self.plan(r, stones, months)
        let reports = try await store.projectReports(projectID: id)
        let today = self.today
        return View(record: r, type: types.type(named: r.type), plan: plan, status: judge.status(of: plan, on: today),
                    milestones: stones, parcels: try await store.projectParcels(projectID: id), reports: reports,
                    photos: try await store.projectPhotos(reportIDs: reports.map(\.id)), events: try await store.projectEvents(projectID: id),
                    cases: try await store.projectCases(projectID: id), canReport: mayReport(r),
                    reportableMonths: Self.months(from: plan.start, to: today).filter { !months.contains($0) },
                    challenge: try await store.challenge(projectID: id))
    }

    /// The projects on a parcel that the caller may see (the map's card), each as its page shows it.
    public func onParcel(_ parcelID: String) async throws -> [View] {
        guard caller.allows(.viewProjects) else { return [] }
        var out: [View] = []
        for id in try await unscoped.projectIDs(parcelID: parcelID) {
            do { out.append(try await view(id: id)) } catch let e as ServiceError where e.kind == .notFound { continue }
        }
        return out
    }

    /// A report's photo (the caller's right to see the project checked).
    public func photo(id: Int64) async throws -> (Store.ProjectPhotoRecord, Data) {
        guard let (rec, project, data) = try await unscoped.projectPhotoData(id: id) else { throw ServiceError.notFound("照片不存在 / photo not found") }
        _ = try await visible(project)
        return (rec, data)
    }

    /// The project, if the caller may see it (else 404, as if it did not exist).
    func visible(_ id: Int64) async throws -> Store.ProjectRecord {
        try caller.require(.viewProjects)
        guard let r = try await unscoped.project(id: id, scope: caller.projectScope) else {
            throw ServiceError.notFound("项目不存在 / project not found")
        }
        return r
    }

    /// Whether the caller is the project's responsible town or lead department (or HQ, for milestones).
    func mayReport(_ r: Store.ProjectRecord) -> Bool {
        guard caller.allows(.reportProjects) else { return false }
        if caller.isSystem { return true }
        guard let p = caller.principal else { return false }
        switch p.role {
        case .town: return p.town == r.town
        case .department: return p.unit == r.leadUnit
        default: return false
        }
    }

    /// The months from the project's start to today's (a month's report may be filed from its first day).
    static func months(from start: CalendarDate, to day: CalendarDate) -> [YearMonth] {
        var out: [YearMonth] = []
        var m = YearMonth(start)
        let last = YearMonth(day)
        while m <= last { out.append(m); m = m.next }
        return out
    }

    /// A stored project as the rules judge it.
    static func plan(_ r: Store.ProjectRecord, _ stones: [Store.MilestoneRecord], _ months: Set<YearMonth>) throws -> ProjectPlan {
        guard let start = CalendarDate(r.startOn) else {
            throw ServiceError(.unprocessable, "项目 \(r.ref) 的开始日期无法读取 / the project's start date cannot be read")
        }
        var p = ProjectPlan(ref: r.ref, name: r.name, type: r.type, mode: r.mode, town: r.town, block: r.block, leadUnit: r.leadUnit,
                            targetMu: r.targetMu, households: r.households, start: start,
                            milestones: stones.compactMap(\.milestone), reportedMonths: months)
        p.signed = r.signed; p.vacated = r.vacated; p.demolished = r.demolished
        return p
    }

    // MARK: a new project (立项), from a page

    /// What the new-project form starts from: a renewal candidate's parcels, town and area when
    /// it comes from `/clusters/N`, and the type's milestones planned two months apart.
    public struct Draft: Sendable {
        public var type: ProjectType
        public var name: String = ""
        public var town: String?
        public var targetMu: Double?
        public var parcelIDs: [String] = []
        public var start: CalendarDate
        public var planned: [CalendarDate]
        /// The towns the caller may choose (a town: its own).
        public var towns: [String]
    }

    public func draft(type key: String?, clusterYear: Int?, cluster: Int?) async throws -> Draft {
        try caller.require(.createProjects)
        guard let type = types.type(named: key ?? "") ?? types.types.first else { throw ServiceError.invalid("没有项目类型 / no project type") }
        let start = today
        var d = Draft(type: type, town: caller.role == .town ? caller.principal?.town : nil, start: start,
                      planned: type.milestones.indices.map { start.adding(months: 2 * ($0 + 1)) },
                      towns: caller.role == .town ? [caller.principal?.town].compactMap { $0 } : context.rules.towns)
        if let y = clusterYear, let n = cluster, let detail = try await services.land.clusterDetail(year: y, number: n) {
            let rows = detail.parcels.map(\.row)
            let town = Dictionary(grouping: rows, by: \.parcel.town).max { $0.value.count < $1.value.count }?.key
            let own = rows.filter { $0.parcel.town == (d.town ?? town) }
            d.town = d.town ?? town
            d.parcelIDs = own.map(\.parcel.parcelID)
            d.targetMu = (own.reduce(0) { $0 + $1.parcel.areaMu } * 100).rounded() / 100
            d.name = "\(d.town ?? "")第\(n)片低效用地整治项目"
        }
        return d
    }

    /// A project entered on the page: checked as an imported one (weights, dates in order, the
    /// parcels in its town unless HQ, a mode the type has); a town creates projects of its own
    /// town only. Returns the new project's id; the 滞后 check runs on it at once.
    public struct NewProject: Sendable {
        public var ref: String, name: String, type: String, mode: String?, town: String, leadUnit: String
        public var targetMu: Double?, parcelIDs: [String], households: Int?, start: String, planned: [String]
        public init(ref: String, name: String, type: String, mode: String?, town: String, leadUnit: String, targetMu: Double?,
                    parcelIDs: [String], households: Int?, start: String, planned: [String]) {
            self.ref = ref; self.name = name; self.type = type; self.mode = mode; self.town = town; self.leadUnit = leadUnit
            self.targetMu = targetMu; self.parcelIDs = parcelIDs; self.households = households; self.start = start; self.planned = planned
        }
    }

    public func create(_ n: NewProject) async throws -> Int64 {
        try caller.require(.createProjects)
        let hq = caller.isSystem || caller.allows(.manageProjects)
        if !hq, n.town != caller.principal?.town {
            throw ServiceError(.forbidden, "镇街只能为本镇街立项 / a town creates projects of its own town only")
        }
        var ref = n.ref.trimmingCharacters(in: .whitespaces)
        let name = n.name.trimmingCharacters(in: .whitespaces)
        if ref.isEmpty { ref = try await nextRef(type: n.type) }
        guard ref.count <= 40 else { throw ServiceError.invalid("项目编号不超过 40 字 / the project number is too long") }
        guard !name.isEmpty, name.count <= CaseService.maxTitle else { throw ServiceError.invalid("请填写项目名称 / the name is required") }
        guard context.rules.towns.contains(n.town) else { throw ServiceError.invalid("未知的镇街「\(n.town)」/ unknown town") }
        let lead = n.leadUnit.trimmingCharacters(in: .whitespaces)
        guard !lead.isEmpty else { throw ServiceError.invalid("请填写牵头部门 / the lead department is required") }
        guard let type = types.type(named: n.type) else { throw ServiceError.invalid("未知的项目类型「\(n.type)」/ unknown project type") }
        guard let start = CaseHistory.parseDate(n.start) else { throw ServiceError.invalid("开始日期「\(n.start)」不是 YYYY-MM-DD 日期 / not a date") }
        guard n.planned.count == type.milestones.count else {
            throw ServiceError.invalid("\(type.name)有 \(type.milestones.count) 个节点，请为每个节点填写计划完成日期 / one planned date per milestone")
        }
        var planned: [CalendarDate] = []
        for (t, raw) in zip(type.milestones, n.planned) {
            guard let d = CaseHistory.parseDate(raw.trimmingCharacters(in: .whitespaces)) else {
                throw ServiceError.invalid("节点「\(t.name)」的计划完成日期「\(raw)」不是 YYYY-MM-DD 日期 / not a date")
            }
            planned.append(d)
        }
        let parcels = Array(Set(n.parcelIDs.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })).sorted()
        let towns = try await unscoped.parcelTowns(parcels)
        for id in parcels {
            guard let t = towns[id] else { throw ServiceError.invalid("地块编号 \(id) 不存在 / unknown parcel \(id)") }
            if t != n.town && !hq {
                throw ServiceError.invalid("地块 \(id) 属于\(t)，不在责任镇街\(n.town) / parcel \(id) lies in \(t), not in \(n.town)")
            }
        }
        var plan = ProjectPlan(ref: ref, name: name, type: type.key, mode: n.mode?.nilIfEmpty, town: n.town, leadUnit: lead, targetMu: n.targetMu,
                               households: n.households, start: start, milestones: ProjectPlan.milestones(of: type, planned: planned))
        if !type.households { plan.households = nil }
        if let problem = plan.problems(types: types, today: today).first { throw ServiceError.invalid(problem.zh + " / " + problem.en) }
        guard try await unscoped.projectIDs(refs: [ref])[ref] == nil else { throw ServiceError.conflict("项目编号 \(ref) 已存在 / project \(ref) exists") }
        let blocks = try await unscoped.parcelBlocks(parcels)
        let bs = Set(parcels.compactMap { blocks[$0] })
        if bs.count == 1 { plan.block = bs.first }
        let today = self.today
        let item = Store.NewProject(plan: plan, parcelIDs: parcels, status: judge.status(of: plan, on: today), judgedOn: today,
                                    checkedMonth: judge.checkedMonth(on: today))
        let actor = caller.actor, detail = caller.detail("\(type.name)，\(n.town)，\(parcels.count) 块地块"), target = "项目 \(ref)"
        try await unscoped.db.transaction { db in
            let tx = Store(db)
            try await tx.insertProjects([item], actor: actor, recordedUs: Store.nowMicros(), source: "页面立项")
            try await tx.audit(actor: actor, action: "project.created", target: target, detail: detail)
        }
        guard let id = try await unscoped.projectIDs(refs: [ref])[ref] else { throw ServiceError(.unprocessable, "项目未能保存 / not stored") }
        _ = try await services.acting(as: .system(ProjectService.engineActor)).projects.supervise(on: today, only: [id])
        return id
    }

    /// The next free ref of a type this year: ZZ-2026-001 (整治), JB- (揭榜挂帅), GX- (城市更新), XM- (others).
    func nextRef(type: String) async throws -> String {
        let prefix = ["remediation": "ZZ", "challenge": "JB", "renewal": "GX"][types.type(named: type)?.key ?? ""] ?? "XM"
        let year = today.year
        let used = Set(try await unscoped.projects(scope: .all, .init(text: "\(prefix)-\(year)-")).map(\.ref))
        var k = used.count + 1
        while used.contains(String(format: "%@-%d-%03d", prefix, year, k)) { k += 1 }
        return String(format: "%@-%d-%03d", prefix, year, k)
    }

    // MARK: import

    public struct ImportSummary: Sendable, Codable {
        public var projects: Int
        public var milestones: Int
        public var opened: Int
    }

    /// Reads two uploads (CSV in UTF-8 or GB18030, or XLSX) and imports them as ``importTables(projects:milestones:fileName:)``.
    public func importFiles(projects: Data, milestones: Data, fileName: String) async throws -> ImportSummary {
        try caller.require(.manageProjects)
        guard !projects.isEmpty, !milestones.isEmpty else {
            throw ServiceError.invalid("请选择项目表和节点表（CSV 或 XLSX）/ choose the projects and the milestones file")
        }
        func table(_ d: Data) throws -> any TableSource {
            d.starts(with: [0x50, 0x4B, 0x03, 0x04]) ? try XLSXTable(data: d) : try CSVTable(data: d, encoding: nil)
        }
        return try await importTables(projects: try table(projects), milestones: try table(milestones), fileName: fileName)
    }

    /// Imports the project and milestone tables (FORMATS.md) all or nothing: every bad row named
    /// (a ref that exists already included), nothing written; then the 滞后 rules run on the new
    /// projects (a late one gets its 督办 case at once).
    public func importTables(projects: any TableSource, milestones: any TableSource, fileName: String,
                             supervising: Bool = true) async throws -> ImportSummary {
        try caller.require(.manageProjects)
        let today = self.today
        let store = unscoped
        // every parcel a project names must exist and (unless HQ) lie in its town: read their towns first
        var named: [String] = []
        let pm = HeaderMatcher(headers: projects.headers, fields: ProjectImport.projectFields)
        try projects.forEachRow { _, cells in
            named += pm.value("parcel_ids", in: cells).split(whereSeparator: { $0 == ";" || $0 == "；" }).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let parcelTowns = try await store.parcelTowns(Array(Set(named)))
        let rows = try ProjectImport.read(projects: projects, milestones: milestones, types: types, towns: context.rules.towns,
                                          parcelTowns: parcelTowns, crossTown: caller.isSystem || caller.role == .headquarters || caller.role == .admin,
                                          today: today)
        let existing = try await store.projectIDs(refs: rows.map(\.plan.ref))
        let clashes = rows.filter { existing[$0.plan.ref] != nil }
        if !clashes.isEmpty {
            throw ImportFailure(errors: clashes.map {
                RowError(row: $0.row, column: "项目编号", zh: "项目编号 \($0.plan.ref) 已存在", en: "project \($0.plan.ref) exists already")
            })
        }
        // the block of a project is its parcels' block when they share one
        let blocks = try await store.parcelBlocks(Array(Set(rows.flatMap(\.parcelIDs))))
        let judge = self.judge
        let items: [Store.NewProject] = rows.map { row in
            var plan = row.plan
            let bs = Set(row.parcelIDs.compactMap { blocks[$0] })
            if bs.count == 1 { plan.block = bs.first }
            return Store.NewProject(plan: plan, parcelIDs: row.parcelIDs, status: judge.status(of: plan, on: today), judgedOn: today,
                                    checkedMonth: judge.checkedMonth(on: today))
        }
        let actor = caller.actor, detail = caller.detail("\(items.count) 个项目")
        try await store.db.transaction { db in
            let tx = Store(db)
            try await tx.insertProjects(items, actor: actor, recordedUs: Store.nowMicros(), source: fileName)
            try await tx.audit(actor: actor, action: "projects.import", target: fileName, detail: detail)
        }
        let ids = try await store.projectIDs(refs: items.map(\.plan.ref))
        let opened = supervising ? try await supervise(on: today, only: Set(ids.values)).opened : 0
        return ImportSummary(projects: items.count, milestones: items.reduce(0) { $0 + $1.plan.milestones.count }, opened: opened)
    }

    /// Benchmarks only (the system): records monthly reports in bulk, as `mujun bench-projects` needs.
    public func benchReports(_ reports: [(ref: String, months: [YearMonth])]) async throws {
        guard caller.isSystem else { throw ServiceError(.forbidden, "仅限系统 / system only") }
        let ids = try await unscoped.projectIDs(refs: reports.map(\.ref))
        let now = Store.nowMicros()
        var rows: [[any SQLExpression]] = []
        for (ref, months) in reports {
            guard let id = ids[ref] else { continue }
            for m in months {
                rows.append([SQLBind(id), SQLBind(m.description), SQLBind("基准月报"), SQLBind("{}"), SQLBind("基准"),
                             SQLBind(today.description), SQLBind("bench"), SQLBind(now)])
            }
        }
        let all = rows
        try await unscoped.db.transaction { db in
            let tx = Store(db)
            for chunk in all.chunked(Store.chunkSize(columns: 8)) {
                try await tx.sql.insert(into: "project_reports")
                    .columns("project_id", "month", "text", "figures", "unit", "filed_on", "filed_by", "recorded_us").rows(Array(chunk)).run()
            }
            // written beside the steps: the verdicts wait for the next check
            try await tx.markVerdictsStale(ids: Array(ids.values))
        }
    }

    // MARK: the roll-up

    /// Progress rolled up by town and for the city: each project of the caller's scope as the 滞后
    /// rules judge it on `day`, then summed.
    ///
    /// The verdicts stored today against today's checked month are used as they are: every step
    /// that changes what the rules read (立项, import, milestones, reports, households, the daily
    /// check) stores the project's verdict in its own transaction, so they are what judging afresh
    /// gives. The rest (another day, another checked month after a calendar change, rows marked
    /// stale) are judged afresh from their milestones and reports. `fresh`: judge every project afresh.
    public struct RollUp: Sendable {
        public var day: CalendarDate
        public var projects: Int
        public var byTown: [String: ProjectJudge.Rollup]
        public var city: ProjectJudge.Rollup?
        /// How many projects were judged afresh (the others' stored verdicts stood).
        public var judgedAfresh: Int
    }

    public func rollUp(on day: CalendarDate? = nil, fresh: Bool = false) async throws -> RollUp {
        try caller.require(.viewProjects)
        let day = day ?? today
        let judge = self.judge, checked = judge.checkedMonth(on: day)
        let store = unscoped, scope = caller.projectScope
        var statuses: [ProjectStatus]
        var afresh = 0
        if fresh {
            // only what a judgement on `day` reads: the month it checks, no names, no reasons
            statuses = judge.statuses(of: try await store.projectPlans(scope: scope, onlyMonth: checked).map(\.plan), on: day, explained: false)
            afresh = statuses.count
        } else {
            let stored = try await store.projectVerdicts(scope: scope)
            let (dayText, monthText) = (day.description, checked.description)
            let stale = stored.filter { $0.judgedOn != dayText || $0.checkedMonth != monthText || $0.state == nil }.map(\.id)
            var judged: [Int64: ProjectStatus] = [:]
            if !stale.isEmpty {
                // most stale (a new day before its check): one read of all; else only those
                let plans = try await store.projectPlans(scope: scope, onlyMonth: checked, ids: stale.count * 2 > stored.count ? nil : stale)
                let wanted = Set(stale)
                let some = plans.filter { wanted.contains($0.id) }
                for (p, s) in zip(some, judge.statuses(of: some.map(\.plan), on: day, explained: false)) { judged[p.id] = s }
                afresh = some.count
            }
            statuses = stored.map { v in
                judged[v.id] ?? ProjectStatus(ref: "", town: v.town, block: nil, leadUnit: "", targetMu: v.targetMu, progress: v.progress,
                                              state: v.state ?? .notStarted, late: [])
            }
        }
        return RollUp(day: day, projects: statuses.count, byTown: ProjectJudge.rollUp(statuses, by: \.town),
                      city: ProjectJudge.rollUp(statuses) { _ in "" }[""], judgedAfresh: afresh)
    }

    // MARK: the meeting agenda (周例会、日会商)

    /// What a weekly meeting (周例会) or a daily consultation (日会商) goes through, from the data:
    /// the late projects with why, the milestones due in the window, the red 督办 cases, and the
    /// targets behind the year's pace — within the caller's scope.
    public struct Agenda: Sendable {
        public struct LateProject: Sendable { public var record: Store.ProjectRecord; public var reasons: [String] }
        public struct DueMilestone: Sendable { public var record: Store.ProjectRecord; public var milestone: Milestone }
        public var day: CalendarDate
        /// The window of "due": today through `until`.
        public var until: CalendarDate
        public var late: [LateProject]
        public var due: [DueMilestone]
        public var redCases: [Store.CaseRecord]
        /// Targets whose completion is under the share of the year gone by.
        public var behind: [TargetProgress.Line]
        /// The share of the year gone by (the pace a target is measured against).
        public var pace: Double
    }

    public func agenda(weekly: Bool) async throws -> Agenda {
        try caller.require(.viewProjects)
        let day = today
        // a weekly meeting looks at the rest of the week (to Sunday), a daily one at today and tomorrow
        let weekday = (day.dayNumber + 3) % 7   // 0 = Monday (1970-01-01 was a Thursday)
        let until = weekly ? day.adding(days: 6 - (weekday < 0 ? weekday + 7 : weekday)) : day.adding(days: 1)
        let store = unscoped
        let records = try await store.projects(scope: caller.projectScope)
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
        let plans = try await store.projectPlans(scope: caller.projectScope)
        let statuses = judge.statuses(of: plans.map(\.plan), on: day)
        var late: [Agenda.LateProject] = [], due: [Agenda.DueMilestone] = []
        for ((id, plan), status) in zip(plans, statuses) {
            guard let r = byID[id] else { continue }
            if status.state == .late { late.append(.init(record: r, reasons: status.late.map(\.zh))) }
            for m in plan.milestones where m.done == nil && m.planned >= day && m.planned <= until {
                due.append(.init(record: r, milestone: m))
            }
        }
        late.sort { ($0.record.town, $0.record.ref) < ($1.record.town, $1.record.ref) }
        due.sort { ($0.milestone.planned, $0.record.ref) < ($1.milestone.planned, $1.record.ref) }
        var red: [Store.CaseRecord] = []
        if caller.allows(.viewCases) {
            let open = try await store.cases(scope: caller.caseScope, .init(states: ["assigned", "handling", "returned"]))
            let redAfter = context.caseTypes.redAfter
            red = open.filter { CaseService.flag($0, at: day, calendar: calendar, redAfter: redAfter) == .red }
        }
        let start = CalendarDate(year: day.year, month: 1, day: 1)!, end = CalendarDate(year: day.year, month: 12, day: 31)!
        let pace = Double(day.dayNumber - start.dayNumber + 1) / Double(end.dayNumber - start.dayNumber + 1)
        let board = try await dashboard(year: day.year)
        let behind = board.lines.filter { ($0.rate ?? 1) < pace }.sorted { ($0.rate ?? 0) < ($1.rate ?? 0) }
        return Agenda(day: day, until: until, late: late, due: due, redCases: red, behind: behind, pace: pace)
    }

    // MARK: targets and the dashboard (任务清单、作战室)

    /// Imports the targets template (FORMATS.md: 年度, 责任单位, 指标, 目标值), all or nothing; a
    /// unit's targets of a year are replaced by the file's. Units: the towns and every project's
    /// lead department.
    public func importTargets(data: Data, fileName: String) async throws -> [ProjectTarget] {
        try caller.require(.manageProjects)
        guard !data.isEmpty else { throw ServiceError.invalid("请选择目标任务清单（CSV 或 XLSX）/ choose the targets file") }
        let table: any TableSource = data.starts(with: [0x50, 0x4B, 0x03, 0x04]) ? try XLSXTable(data: data) : try CSVTable(data: data, encoding: nil)
        let leads = Set(try await unscoped.projects(scope: .all).map(\.leadUnit))
        let targets = try TargetImport.read(table: table, units: context.rules.towns + leads.sorted() + context.caseTypes.units)
        try await unscoped.importTargets(targets, fileName: fileName, actor: caller.actor,
                                         detail: caller.detail("\(targets.count) 项目标，\(Set(targets.map(\.unit)).count) 个单位"))
        return targets
    }

    /// The war room of a year (作战室): each target of the units the caller may see against what
    /// their projects achieved by today, the city's totals, and the city's monthly trend.
    public struct Dashboard: Sendable {
        public var year: Int
        public var years: [Int]
        public var asOf: CalendarDate
        public var lines: [TargetProgress.Line]
        /// indicator → the city's target and done (over the units the caller sees)
        public var totals: [TargetIndicator: (target: Double, done: Double)]
        /// indicator → the cumulative done at the end of each month so far
        public var trend: [TargetIndicator: [Double]]
        /// Units ranked by their mean completion over their indicators (each capped at 100 %).
        public var ranking: [(unit: String, rate: Double)]
    }

    public func dashboard(year asked: Int?) async throws -> Dashboard {
        try caller.require(.viewProjects)
        let today = self.today
        let store = unscoped
        let years = Array(Set(try await store.targetYears() + [today.year])).sorted(by: >)
        let year = asked.flatMap { years.contains($0) ? $0 : nil } ?? (years.contains(today.year) ? today.year : years[0])
        let records = try await store.projects(scope: caller.projectScope)
        let stones = try await store.milestones(projectIDs: nil)
        let facts = records.map { r in
            ProjectFacts(ref: r.ref, type: r.type, town: r.town, leadUnit: r.leadUnit, targetMu: r.targetMu, freedMu: r.freedMu,
                         signed: r.signed, completedOn: ProjectFacts.completion(of: (stones[r.id] ?? []).compactMap(\.milestone)))
        }
        var targets = try await store.targets(year: year)
        switch caller.projectScope {
        case .all: break
        case .town(let t): targets = targets.filter { $0.unit == t }
        case .unit(let u): targets = targets.filter { $0.unit == u }
        case .enterprise, .none: targets = []
        }
        let lines = TargetProgress.lines(targets: targets, projects: facts, types: types, year: year, asOf: today)
        var totals: [TargetIndicator: (target: Double, done: Double)] = [:]
        for l in lines {
            let t = totals[l.indicator] ?? (0, 0)
            totals[l.indicator] = (t.target + l.target, t.done + l.done)
        }
        var trend: [TargetIndicator: [Double]] = [:]
        for i in TargetIndicator.allCases {
            trend[i] = TargetProgress.monthly(i, projects: facts, types: types, year: year, asOf: today)
        }
        var ranking: [(unit: String, rate: Double)] = []
        for (unit, ls) in Dictionary(grouping: lines, by: \.unit) {
            var sum = 0.0
            for l in ls { sum += min(1, l.rate ?? 1) }
            ranking.append((unit: unit, rate: sum / Double(ls.count)))
        }
        ranking.sort { a, b in a.rate != b.rate ? a.rate > b.rate : a.unit < b.unit }
        return Dashboard(year: year, years: years, asOf: today, lines: lines, totals: totals, trend: trend, ranking: ranking)
    }

    // MARK: reports and milestones

    /// A milestone change: done on a date (or not done any more), or the share done so far.
    public struct MilestoneChange: Sendable {
        public var seq: Int
        public var done: String?
        public var reported: Double?
        public init(seq: Int, done: String? = nil, reported: Double? = nil) { self.seq = seq; self.done = done; self.reported = reported }
    }

    /// A monthly report (月报): the month, what was done, the figures, milestone progress, photos.
    public struct Report: Sendable {
        public var month: String
        public var text: String
        /// 本月完成投资 (万元)
        public var invested: Double?
        /// 城市更新: households signed, vacated, demolished so far
        public var signed: Int?, vacated: Int?, demolished: Int?
        public var milestones: [MilestoneChange]
        public var photos: [Store.NewAttachment]
        /// The version of the project the user saw (409 when it changed since).
        public var version: Int?
        public init(month: String, text: String, invested: Double? = nil, signed: Int? = nil, vacated: Int? = nil, demolished: Int? = nil,
                    milestones: [MilestoneChange] = [], photos: [Store.NewAttachment] = [], version: Int? = nil) {
            self.month = month; self.text = text; self.invested = invested; self.signed = signed; self.vacated = vacated
            self.demolished = demolished; self.milestones = milestones; self.photos = photos; self.version = version
        }
    }

    /// What a report or a milestone change did to the project and its 督办 case.
    public struct Outcome: Sendable, Codable {
        public var state: String
        public var progress: Double
        /// Supervision cases the engine closed (ids).
        public var closed: [Int64]
        /// A supervision case opened (still late).
        public var opened: Int64?
    }

    /// Files a month's report for project `id` (the responsible town or lead department only):
    /// a month in the future, before the project's start or already reported, a milestone done
    /// before the start or after today, shares outside 0–100 %, households beyond the project's:
    /// refused, nothing written. In one transaction: the report and its photos, the milestones,
    /// the history, the verdict, and the supervision case closed when the project is no longer late.
    @discardableResult
    public func fileReport(id: Int64, _ input: Report) async throws -> Outcome {
        try caller.require(.reportProjects)
        let r = try await visible(id)
        guard mayReport(r), caller.role != .headquarters else {
            throw ServiceError(.forbidden, "只有责任镇街（\(r.town)）或牵头部门（\(r.leadUnit)）可以报送月报 / only the responsible town or lead department files reports")
        }
        let today = self.today
        guard let month = YearMonth(parsing: input.month) else {
            throw ServiceError.invalid("月份「\(input.month)」应写作 YYYY-MM / the month must be YYYY-MM")
        }
        guard month <= YearMonth(today) else {
            throw ServiceError.invalid("不能报送未来月份（\(month.chinese)）的进展 / \(month) is in the future")
        }
        let text = input.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= Self.maxText else {
            throw ServiceError.invalid("请填写本月进展（不超过 \(Self.maxText) 字）/ the month's progress is required (at most \(Self.maxText) characters)")
        }
        if let v = input.invested, !(v >= 0 && v.isFinite) { throw ServiceError.invalid("本月完成投资应为非负数 / the investment must not be negative") }
        guard input.photos.count <= Self.maxPhotos else { throw ServiceError.invalid("照片最多 \(Self.maxPhotos) 张 / at most \(Self.maxPhotos) photos") }
        let photos = try CaseService.checked(input.photos)
        for p in photos where !p.contentType.hasPrefix("image/") {
            throw ServiceError(.unsupportedType, "「\(p.name)」不是照片（JPG、PNG）/ \"\(p.name)\" is not a photo (JPG, PNG)")
        }
        var figures: [String: Double] = [:]
        if let v = input.invested { figures["invested"] = v }
        let input_ = input, monthFigures = figures
        return try await change(r, version: input.version, today: today, kind: "report",
                                before: { plan in
                                    guard month >= YearMonth(plan.start) else {
                                        throw ServiceError.invalid("\(month.chinese)早于项目开始日期 \(plan.start) / \(month) is before the project starts")
                                    }
                                    guard !plan.reportedMonths.contains(month) else {
                                        throw ServiceError.conflict("\(month.chinese)的月报已报送 / the report for \(month) was filed already")
                                    }
                                    if let s = input_.signed { plan.signed = s }
                                    if let v = input_.vacated { plan.vacated = v }
                                    if let d = input_.demolished { plan.demolished = d }
                                    plan.reportedMonths.insert(month)
                                },
                                milestones: input.milestones,
                                write: { tx, plan, day in
                                    _ = try await tx.insertProjectReport(projectID: r.id, month: month, text: text, figures: monthFigures,
                                                                                 unit: caller.principal.map { $0.role == .town ? ($0.town ?? $0.unit) : $0.unit } ?? Self.requester,
                                                                                 filedOn: day, by: caller.actor, photos: photos)
                                    if r.signed != plan.signed || r.vacated != plan.vacated || r.demolished != plan.demolished {
                                        try await tx.sql.update("projects").set("signed", to: plan.signed).set("vacated", to: plan.vacated)
                                            .set("demolished", to: plan.demolished).where("id", .equal, r.id).run()
                                    }
                                    var d = "\(month.chinese)月报：\(text.prefix(60))"
                                    if !photos.isEmpty { d += "（照片 \(photos.count) 张）" }
                                    if let s = input_.signed { d += "；签约 \(s) 户" }
                                    return d
                                })
    }

    /// Records milestone changes outside a report (the responsible unit, or HQ).
    @discardableResult
    public func recordMilestones(id: Int64, _ changes: [MilestoneChange], version: Int? = nil) async throws -> Outcome {
        try caller.require(.reportProjects)
        let r = try await visible(id)
        guard mayReport(r) || caller.role == .headquarters else {
            throw ServiceError(.forbidden, "只有责任镇街（\(r.town)）、牵头部门（\(r.leadUnit)）或指挥部可以更新节点 / only the responsible unit or HQ records milestones")
        }
        guard !changes.isEmpty else { throw ServiceError.invalid("没有要更新的节点 / no milestone to record") }
        return try await change(r, version: version, today: today, kind: "milestone", before: { _ in }, milestones: changes,
                                write: { _, _, _ in "节点更新" })
    }

    /// The one way a project changes: checks the new plan, then in one transaction claims the
    /// project at the version read (else 409), writes, records the history and the verdict, and
    /// lets the case engine close (or open) its supervision case.
    func change(_ r: Store.ProjectRecord, version: Int?, today: CalendarDate, kind: String,
                before: (inout ProjectPlan) throws -> Void, milestones changes: [MilestoneChange],
                write: @escaping @Sendable (Store, ProjectPlan, CalendarDate) async throws -> String) async throws -> Outcome {
        if let v = version, v != r.version {
            throw ServiceError.conflict("项目 \(r.ref) 已被他人更新，请刷新后再操作 / the project was changed by someone else; reload it")
        }
        let store = unscoped
        let stones = try await store.milestones(projectIDs: [r.id])[r.id] ?? []
        let months = try await store.reportedMonths(projectIDs: [r.id])[r.id] ?? []
        var plan = try Self.plan(r, stones, months)
        try before(&plan)
        var changed: [(seq: Int, done: String?, reported: Double?, note: String)] = []
        for c in changes {
            guard let i = stones.firstIndex(where: { $0.seq == c.seq }) else {
                throw ServiceError.invalid("项目 \(r.ref) 没有第 \(c.seq) 个节点 / no milestone \(c.seq)")
            }
            var m = plan.milestones[i]
            var note: [String] = []
            if let raw = c.done {
                let t = raw.trimmingCharacters(in: .whitespaces)
                if t.isEmpty { m.done = nil; note.append("取消完成") } else {
                    guard let d = CaseHistory.parseDate(t) else {
                        throw ServiceError.invalid("节点「\(m.name)」实际完成日期「\(t)」不是 YYYY-MM-DD 日期 / not a date")
                    }
                    m.done = d; note.append("\(d) 完成")
                }
            }
            if let s = c.reported {
                guard s.isFinite, (0...100).contains(s) else {
                    throw ServiceError.invalid("节点「\(m.name)」完成比例应在 0–100% 之间 / the share done must be 0–100 %")
                }
                m.reported = s / 100; note.append(String(format: "完成 %.0f%%", s))
            }
            plan.milestones[i] = m
            changed.append((c.seq, m.done?.description, m.reported, "节点「\(m.name)」" + note.joined(separator: "，")))
        }
        if let problem = plan.problems(types: types, today: today).first { throw ServiceError.invalid(problem.zh + " / " + problem.en) }
        let status = judge.status(of: plan, on: today), checked = judge.checkedMonth(on: today)
        let actor = caller.actor, detail = caller.detail(nil), edits = changed
        let caseTypes = context.caseTypes, calendar = self.calendar
        let planned = plan
        let now = Store.nowMicros()
        return try await store.db.transaction { db in
            let tx = Store(db)
            let claimed = try await tx.sql.update("projects").set("version", to: SQLLiteral.numeric("version + 1"))
                .where("id", .equal, r.id).where("version", .equal, r.version).returning("id").all().count
            guard claimed == 1 else {
                throw ServiceError.conflict("项目 \(r.ref) 已被他人更新，本次未保存，请刷新后再操作 / the project was changed by someone else; nothing was saved")
            }
            for c in edits {
                try await tx.sql.update("project_milestones").set("done_on", to: SQLBind(c.done)).set("reported", to: SQLBind(c.reported))
                    .where("project_id", .equal, r.id).where("seq", .equal, c.seq).run()
                try await tx.recordProjectEvent(projectID: r.id, kind: "milestone", date: today, actor: actor, detail: c.note, recordedUs: now)
            }
            let what = try await write(tx, planned, today)
            try await tx.insertSnapshots([(r.id, ProjectSnapshot(planned, freedMu: r.freedMu))], recordedUs: now)
            if kind != "milestone" {
                try await tx.recordProjectEvent(projectID: r.id, kind: kind, date: today, actor: actor, detail: what, recordedUs: now)
            }
            let outcome = try await Self.settle(tx, record: r, plan: planned, status: status, on: today, checked: checked, caseTypes: caseTypes, calendar: calendar,
                                                openCase: try await tx.openProjectCase(projectID: r.id), recordedUs: now)
            try await tx.audit(actor: actor, action: "project.\(kind)", target: "项目 \(r.ref)",
                               detail: [what, edits.map(\.note).joined(separator: "；"), detail].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: " · "))
            return outcome
        }
    }

    // MARK: completion (腾出空间、新增投资、新进企业)

    /// What a finished remediation project left: the land freed (腾出空间, mu), the new investment
    /// (万元) and the enterprises now on its parcels.
    public struct Completion: Sendable {
        public var freedMu: Double
        public var newInvestment: Double?
        /// 统一社会信用代码 of the new occupants (empty: the parcels' occupants stay as they are).
        public var occupants: [String]
        public var version: Int?
        public init(freedMu: Double, newInvestment: Double? = nil, occupants: [String] = [], version: Int? = nil) {
            self.freedMu = freedMu; self.newInvestment = newInvestment; self.occupants = occupants; self.version = version
        }
    }

    /// Records a completed project's results (HQ or the responsible unit), once: every milestone
    /// must be done, the freed area at most its parcels' area (or its target area without
    /// parcels), the occupants known enterprises. In one transaction with the project claimed at
    /// its version: the figures, and — when occupants are named — the parcels' land use replaced
    /// by them (the parcel's area shared equally, 自有) and the parcels set 在用, so that the next
    /// land assessment and evaluation see the new occupants.
    @discardableResult
    public func complete(id: Int64, _ c: Completion) async throws -> Store.ProjectRecord {
        try caller.require(.reportProjects)
        let r = try await visible(id)
        guard mayReport(r) || caller.role == .headquarters else {
            throw ServiceError(.forbidden, "只有责任镇街（\(r.town)）、牵头部门（\(r.leadUnit)）或指挥部可以登记完成情况 / only the responsible unit or HQ records completion")
        }
        if let v = c.version, v != r.version {
            throw ServiceError.conflict("项目 \(r.ref) 已被他人更新，请刷新后再操作 / the project was changed by someone else; reload it")
        }
        guard r.freedMu == nil else { throw ServiceError.conflict("项目 \(r.ref) 的完成情况已登记 / the completion is recorded already") }
        let store = unscoped
        let stones = try await store.milestones(projectIDs: [id])[id] ?? []
        let plan = try Self.plan(r, stones, [])
        guard let finished = ProjectFacts.completion(of: plan.milestones) else {
            let open = plan.milestones.filter { $0.done == nil }.map(\.name)
            throw ServiceError.conflict("项目 \(r.ref) 尚有节点未完成（\(open.joined(separator: "、"))），不能登记完成情况 / milestones are still open")
        }
        let parcels = try await store.projectParcels(projectID: id)
        let areas = try await store.parcelAreas(parcels)
        let limit = parcels.isEmpty ? (r.targetMu ?? 0) : areas.values.reduce(0, +)
        guard c.freedMu.isFinite, c.freedMu >= 0 else { throw ServiceError.invalid("腾出空间应为非负数（亩）/ the freed area must not be negative") }
        guard c.freedMu <= limit + 1e-9 else {
            throw ServiceError.invalid("腾出空间 \(formatNumber(c.freedMu)) 亩超过项目\(parcels.isEmpty ? "目标" : "地块")面积 \(formatNumber(limit)) 亩 / the freed area exceeds the project's \(formatNumber(limit)) mu")
        }
        if let v = c.newInvestment, !(v >= 0 && v.isFinite) { throw ServiceError.invalid("新增投资应为非负数（万元）/ the investment must not be negative") }
        let codes = Array(Set(c.occupants.map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty })).sorted()
        if !codes.isEmpty {
            guard !parcels.isEmpty else { throw ServiceError.invalid("项目没有地块，不能登记新进企业 / the project has no parcels for new occupants") }
            let known = try await store.enterpriseCodes()
            for code in codes where !CreditCode.isValid(code) || !known.contains(code) {
                throw ServiceError.invalid("统一社会信用代码 \(code) \(CreditCode.isValid(code) ? "不是已有企业" : "无效") / \(code) is not a known enterprise")
            }
        }
        let actor = caller.actor, detail = caller.detail(nil), now = Store.nowMicros()
        let text = "腾出空间 \(formatNumber(c.freedMu)) 亩" + (c.newInvestment.map { "，新增投资 \(formatNumber($0)) 万元" } ?? "")
            + (codes.isEmpty ? "" : "，新进企业 \(codes.joined(separator: "、"))")
        return try await store.db.transaction { db in
            let tx = Store(db)
            let claimed = try await tx.sql.update("projects").set("freed_mu", to: c.freedMu).set("new_investment", to: SQLBind(c.newInvestment))
                .set("new_occupants", to: SQLBind(codes.isEmpty ? nil : codes.joined(separator: ";")))
                .set("version", to: SQLLiteral.numeric("version + 1"))
                .where("id", .equal, id).where("version", .equal, r.version).where(SQLColumn("freed_mu"), .is, SQLLiteral.null)
                .returning("id").all().count
            guard claimed == 1 else {
                throw ServiceError.conflict("项目 \(r.ref) 已被他人更新，本次未保存，请刷新后再操作 / the project was changed by someone else; nothing was saved")
            }
            if !codes.isEmpty {
                for chunk in parcels.chunked(500) {
                    try await tx.sql.delete(from: "land_use").where("parcel_id", .in, Array(chunk)).run()
                }
                for p in parcels {
                    let share = (areas[p] ?? 0) / Double(codes.count)
                    for code in codes {
                        try await tx.sql.insert(into: "land_use").columns("parcel_id", "credit_code", "relation", "area_mu")
                            .values(SQLBind(p), SQLBind(code), SQLBind(LandRelation.owned.rawValue), SQLBind((share * 10_000).rounded() / 10_000)).run()
                    }
                    try await tx.sql.update("parcels").set("status", to: ParcelStatus.inUse.rawValue).where("parcel_id", .equal, p).run()
                    try await tx.sql.update("parcels").set("operating_since", to: finished.description).where("parcel_id", .equal, p)
                        .where(SQLColumn("operating_since"), .is, SQLLiteral.null).run()
                }
            }
            try await tx.recordProjectEvent(projectID: id, kind: "completed", date: self.today, actor: actor, detail: text, recordedUs: now)
            try await tx.snapshotProjects(ids: [id], recordedUs: now)
            try await tx.audit(actor: actor, action: "project.completed", target: "项目 \(r.ref)", detail: [text, detail].compactMap { $0 }.joined(separator: " · "))
            guard let after = try await tx.project(id: id) else { throw ServiceError.notFound("项目不存在 / project not found") }
            return after
        }
    }

    // MARK: the 滞后 rules on the case engine

    public struct Supervision: Sendable, Codable {
        public var judged: Int
        public var late: Int
        public var opened: Int
        public var closed: Int
    }

    /// Judges every project (or `only` these) on `day`: stores each verdict, opens a supervision
    /// case (项目督办) for each late project without an unfinished one, and replies to and closes
    /// the case of each project no longer late. Each project is one transaction.
    @discardableResult
    public func supervise(on day: CalendarDate? = nil, only: Set<Int64>? = nil, town: String? = nil) async throws -> Supervision {
        if !caller.isSystem { try caller.require(.manageProjects) }
        if let town, !context.rules.towns.contains(town) { throw ServiceError.invalid("未知的镇街「\(town)」/ unknown town \"\(town)\"") }
        let day = day ?? today
        let store = unscoped
        let all = try await store.projects(scope: .all, .init(town: town))
        let records = only.map { ids in all.filter { ids.contains($0.id) } } ?? all
        // a part (some projects, one town's): read the milestones and reports of that part only
        let ids = only != nil || town != nil ? records.map(\.id) : nil
        let stones = try await store.milestones(projectIDs: ids)
        let months = try await store.reportedMonths(projectIDs: ids)
        let open = try await store.openProjectCases()
        let judge = self.judge, checked = judge.checkedMonth(on: day)
        // the month each stored verdict checked (a verdict of `day` against another month is re-stored)
        let stored = Dictionary(uniqueKeysWithValues: try await store.projectVerdicts(scope: .all).map { ($0.id, $0.checkedMonth) })
        let plans = try records.map { try Self.plan($0, stones[$0.id] ?? [], months[$0.id] ?? []) }
        let statuses = Array(zip(records, judge.statuses(of: plans, on: day)))
        let late = Set(statuses.filter { $0.1.state == .late }.map { String($0.0.id) })
        let (toOpen, toClose) = ProjectSupervision.reconcile(late: late, open: Dictionary(uniqueKeysWithValues: open.map { (String($0.key), $0.value) }))
        let touched = Set(toOpen.compactMap(Int64.init)).union(open.filter { toClose.contains($0.value) }.map(\.key))
        var opened = 0, closed = 0
        let caseTypes = context.caseTypes, calendar = self.calendar
        for (r, status) in statuses {
            let needsCase = touched.contains(r.id)
            if !needsCase {
                if r.state != status.state.rawValue || r.progress != status.progress || r.judgedOn != day.description
                    || stored[r.id] != checked.description {
                    try await store.setProjectVerdict(id: r.id, status, on: day, checked: checked)
                }
                continue
            }
            let plan = try Self.plan(r, stones[r.id] ?? [], months[r.id] ?? [])
            let now = Store.nowMicros()
            let o = try await store.db.transaction { db in
                let tx = Store(db)
                return try await Self.settle(tx, record: r, plan: plan, status: status, on: day, checked: checked, caseTypes: caseTypes, calendar: calendar,
                                             openCase: try await tx.openProjectCase(projectID: r.id), recordedUs: now)
            }
            if o.opened != nil { opened += 1 }
            closed += o.closed.count
        }
        if opened + closed > 0 {
            try await store.audit(actor: caller.actor, action: "projects.supervise", target: day.description,
                                  detail: "研判 \(statuses.count) 个项目：滞后 \(late.count)，新开督办 \(opened)，办结 \(closed)")
        }
        return Supervision(judged: statuses.count, late: late.count, opened: opened, closed: closed)
    }

    /// Inside a transaction: stores the verdict; a late project without an unfinished case gets
    /// one (registered by 项目指挥部, assigned to its town), a project no longer late has its
    /// case replied to and closed by the engine.
    static func settle(_ tx: Store, record r: Store.ProjectRecord, plan: ProjectPlan, status: ProjectStatus, on day: CalendarDate,
                       checked: YearMonth, caseTypes: CaseTypes, calendar: WorkCalendar, openCase: Int64?, recordedUs: Int64) async throws -> Outcome {
        let changedState = r.state != status.state.rawValue
        try await tx.setProjectVerdict(id: r.id, status, on: day, checked: checked)
        var outcome = Outcome(state: status.state.rawValue, progress: status.progress, closed: [], opened: nil)
        if changedState {
            try await tx.recordProjectEvent(projectID: r.id, kind: status.state == .late ? "late" : "state", date: day, actor: engineActor,
                                            detail: "状态：\(ProjectState(rawValue: r.state)?.chinese ?? r.state) → \(status.state.chinese)"
                                                + (status.late.isEmpty ? "" : "（" + status.late.map(\.zh).joined(separator: "；") + "）"),
                                            recordedUs: recordedUs)
        }
        if status.state == .late, openCase == nil {
            let type = caseTypes.projectType
            var loop = CaseLoop(type: type)
            let due: CalendarDate? = type.reply == nil ? calendar.addingWorkdays(5, to: day) : nil
            let events = [CaseEvent(.register, day, unit: requester),
                          CaseEvent(.assign, day, unit: r.town, due: due, note: "项目滞后，自动督办")]
            for e in events { try loop.apply(e, calendar: calendar) }
            let ref = String(format: "%d-%04d", day.year, (try await tx.lastCaseNumber(type: type.key, year: day.year) ?? 0) + 1)
            let new = Store.NewCase(type: type.key, ref: ref, title: "项目滞后督办：\(r.name)（\(r.ref)）",
                                    body: status.late.map(\.zh).joined(separator: "\n"), requester: requester, requesterUser: nil,
                                    creditCode: nil, parcelID: nil, clusterYear: nil, clusterNumber: nil, town: r.town, meetingID: nil,
                                    queryCodeHash: nil)
            let id = try await tx.insertCase(new, loop: loop, events: events, actor: engineActor, recordedUs: recordedUs)
            try await tx.notifyCase(id: id, ref: new.ref, title: new.title, loop: loop, events: events, firstSeq: 1, from: day, nowUs: recordedUs)
            try await tx.sql.update("cases").set("project_id", to: r.id).where("id", .equal, id).run()
            try await tx.recordProjectEvent(projectID: r.id, kind: "supervised", date: day, actor: engineActor,
                                            detail: "自动督办 \(type.name) \(ref)，交办 \(r.town)：" + status.late.map(\.zh).joined(separator: "；"),
                                            recordedUs: recordedUs)
            try await tx.audit(actor: engineActor, action: "case.registered", target: "\(type.name) \(ref)", detail: "项目 \(r.ref) 滞后，交办 \(r.town)")
            outcome.opened = id
        } else if status.state != .late, let id = openCase {
            let why = status.state == .completed ? "项目已完成" : "月报已报送、节点按期，项目不再滞后"
            if try await tx.finishProjectCase(id: id, on: day, note: why, caseTypes: caseTypes, calendar: calendar, recordedUs: recordedUs) {
                try await tx.recordProjectEvent(projectID: r.id, kind: "cleared", date: day, actor: engineActor,
                                                detail: "督办事项办结：\(why)", recordedUs: recordedUs)
                outcome.closed.append(id)
            }
        }
        return outcome
    }
}

extension Store {
    /// Inserts a monthly report and its photos; returns its id.
    func insertProjectReport(projectID: Int64, month: YearMonth, text: String, figures: [String: Double], unit: String,
                             filedOn: CalendarDate, by actor: String, photos: [NewAttachment]) async throws -> Int64 {
        let json = String(decoding: try Store.jsonEncoder.encode(figures), as: UTF8.self)
        let now = Store.nowMicros()
        let id = try await sql.insert(into: "project_reports")
            .columns("project_id", "month", "text", "figures", "unit", "filed_on", "filed_by", "recorded_us")
            .values(SQLBind(projectID), SQLBind(month.description), SQLBind(text), SQLBind(json), SQLBind(unit),
                    SQLBind(filedOn.description), SQLBind(actor), SQLBind(now))
            .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
        for p in photos {
            try await sql.insert(into: "project_photos").columns("report_id", "name", "content_type", "size", "sha256", "data")
                .values(SQLBind(id), SQLBind(p.name), SQLBind(p.contentType), SQLBind(Int64(p.data.count)),
                        SQLBind(Tokens.hex(Array(SHA256.hash(data: p.data)))), SQLBind(p.data))
                .run()
        }
        return id
    }

    /// The engine's own steps that finish a supervision case: whatever the loop still needs from
    /// its state (交办 again after a return, 签收, 答复, 验收 where the type verifies) and 销号,
    /// dated `day`, each checked by the loop; the case is claimed at the version read (else 409).
    /// False when the case cannot be closed by the engine (a configured type that is evaluated).
    func finishProjectCase(id: Int64, on day: CalendarDate, note: String, caseTypes: CaseTypes, calendar: WorkCalendar,
                           recordedUs: Int64) async throws -> Bool {
        guard let r = try await caseRecord(id: id), let type = caseTypes.stored(r.type) else { return false }
        let stored = try await loopEvents(caseID: id)
        var loop = CaseLoop(type: type)
        for e in stored { if let ev = e.event { try? loop.apply(ev, calendar: calendar) } }
        let unit = r.town ?? r.leadUnit ?? ""
        var steps: [MujunCore.CaseEvent] = []
        var state = loop.state
        while state != .closed {
            let e: MujunCore.CaseEvent
            switch state {
            case .registered, .returned: e = MujunCore.CaseEvent(.assign, day, unit: unit, due: type.reply == nil ? calendar.addingWorkdays(5, to: day) : nil)
            case .assigned: e = MujunCore.CaseEvent(.accept, day, unit: unit)
            case .handling: e = MujunCore.CaseEvent(.reply, day, unit: unit, note: note)
            case .replied where type.verify: e = MujunCore.CaseEvent(.verify, day, unit: ProjectService.requester, passed: true)
            case .replied where type.evaluate: return false
            case .replied, .verified, .evaluated: e = MujunCore.CaseEvent(.close, day, unit: ProjectService.requester, note: note)
            case .closed: return true
            }
            try loop.apply(e, calendar: calendar)
            steps.append(e)
            state = loop.state
        }
        let set = Store.loopColumns(loop) + [("version", SQLLiteral.numeric("version + 1"))]
        var update = sql.update("cases")
        for (c, v) in set { update = update.set(SQLColumn(c), to: v) }
        let claimed = try await update.where("id", .equal, id).where("version", .equal, r.version).returning("id").all().count
        guard claimed == 1 else { throw ServiceError.conflict("督办事项 \(r.ref) 已被他人更新 / the case was changed meanwhile") }
        var seq = stored.last?.seq ?? 0
        for e in steps {
            seq += 1
            try await insertLoopEvent(caseID: id, seq: seq, e, actor: ProjectService.engineActor, recordedUs: recordedUs)
        }
        try await audit(actor: ProjectService.engineActor, action: "case.close", target: "\(type.name) \(r.ref)", detail: note)
        return true
    }

    /// The block of each parcel that has one.
    func parcelBlocks(_ ids: [String]) async throws -> [String: String] {
        struct Row: Decodable { var parcel_id: String; var block: String? }
        var out: [String: String] = [:]
        for chunk in ids.chunked(500) {
            for r in try await sql.select().columns("parcel_id", "block").from("parcels").where("parcel_id", .in, Array(chunk)).all(decoding: Row.self) {
                if let b = r.block { out[r.parcel_id] = b }
            }
        }
        return out
    }
}
