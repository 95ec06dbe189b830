import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The cross-township quota ledger (全域土地综合整治, issue 11, LEDGER.md): consolidation projects
/// with their towns; postings (验收入账、供地使用、冲正) checked by every rule of LEDGER.md §3 inside
/// their transaction; transfers (调剂) requested by a town from its own balance and approved by HQ,
/// which then posts them; balances per town and type at any date; the journal with filters.
///
/// Who sees what: HQ and the administrator all; a pilot town the projects that include it (and it
/// posts and requests for its own town only); the natural-resources department reads; nobody else.
///
/// ```swift
/// let id = try await hq.quota.createProject(name: "古山·方岩·舟山全域整治", towns: ["古山镇", "方岩镇", "舟山镇"], start: "2025-01-01")
/// try await town.quota.post(id: id, .init(action: "credit", town: "舟山镇", quota: "new_farmland", amount: "12.5", grade: "6", note: "验收"))
/// let t = try await town.quota.requestTransfer(id: id, .init(from: "舟山镇", to: "古山镇", quota: "new_farmland", amount: "5", reason: "产业用地"))
/// try await hq.quota.decide(transfer: t, approve: true)
/// try await hq.quota.balances(id: id, asOf: nil)
/// ```
public struct QuotaService: ServiceBase {
    let services: Services
    init(_ services: Services) { self.services = services }

    public var today: CalendarDate { CalendarDate(ChinaDay.today())! }

    // MARK: scope

    /// Whether the caller sees project `r`: HQ/admin and the natural-resources department all, a town those including it.
    func sees(_ r: Store.QuotaProjectRecord) -> Bool {
        guard let p = caller.principal else { return caller.isSystem }
        switch p.role {
        case .admin, .headquarters: return true
        case .department: return Self.isNaturalResources(p.unit)
        case .town: return p.town.map { r.townList.contains($0) } ?? false
        default: return false
        }
    }

    /// 自然资源和规划局、自然资源局 …
    static func isNaturalResources(_ unit: String) -> Bool { unit.contains("自然资源") }

    /// The town the caller posts for (nil: HQ or the system, any town of the project).
    var ownTown: String? { caller.principal?.role == .town ? caller.principal?.town : nil }

    func visible(_ id: Int64) async throws -> Store.QuotaProjectRecord {
        try caller.require(.viewQuota)
        guard let r = try await unscoped.quotaProject(id: id), sees(r) else {
            throw ServiceError.notFound("全域整治项目不存在或不在您的范围内 / no such consolidation project in your scope")
        }
        return r
    }

    // MARK: reads

    public func projects() async throws -> [Store.QuotaProjectRecord] {
        try caller.require(.viewQuota)
        return try await unscoped.quotaProjects().filter(sees)
    }

    public func project(id: Int64) async throws -> Store.QuotaProjectRecord { try await visible(id) }

    /// One (town, type) line of the balance sheet.
    public struct Line: Sendable, Hashable {
        public var town: String
        public var quota: QuotaType
        public var balance: QuotaLedger.Balance
    }

    /// The balance sheet at the end of `asOf` (nil: now), summed from the journal.
    public func balances(id: Int64, asOf: CalendarDate? = nil) async throws -> [Line] {
        let r = try await visible(id)
        let towns = r.townList
        let b = try await unscoped.quotaBalances(r, asOf: asOf)
        return towns.enumerated().flatMap { (t, town) in QuotaType.allCases.map { Line(town: town, quota: $0, balance: b[t * 3 + $0.rawValue]) } }
    }

    /// The project-wide checks as gauges: basic farmland added back against (1 + margin) × moved
    /// out, and the weighted grades of new farmland credited and used (LEDGER.md §3 rules 6, 7).
    public struct Checks: Sendable, Hashable {
        public var basicAdded: Int64, basicOut: Int64, marginUnits: Int64
        public var farmCredited: Int64, farmCreditedGrade: Int64, farmUsed: Int64, farmUsedGrade: Int64
        /// (1 + margin) × moved out, in ten-thousandths (rounded up).
        public var basicRequired: Int64 { (basicOut * (10_000 + marginUnits) + 9_999) / 10_000 }
        public var creditedGrade: Double? { farmCredited > 0 ? Double(farmCreditedGrade) / Double(farmCredited) : nil }
        public var usedGrade: Double? { farmUsed > 0 ? Double(farmUsedGrade) / Double(farmUsed) : nil }
    }

    public func checks(id: Int64) async throws -> Checks {
        let r = try await visible(id)
        return Checks(basicAdded: r.basicAdded, basicOut: r.basicOut, marginUnits: r.marginUnits, farmCredited: r.farmCredited,
                      farmCreditedGrade: r.farmCreditedGrade, farmUsed: r.farmUsed, farmUsedGrade: r.farmUsedGrade)
    }

    public struct JournalFilter: Sendable {
        public var town: String?, quota: String?, action: String?, from: String?, to: String?
        public var limit: Int
        public init(town: String? = nil, quota: String? = nil, action: String? = nil, from: String? = nil, to: String? = nil, limit: Int = 500) {
            self.town = town; self.quota = quota; self.action = action; self.from = from; self.to = to; self.limit = limit
        }
    }

    public func journal(id: Int64, _ f: JournalFilter = .init()) async throws -> [Store.QuotaEntryRecord] {
        _ = try await visible(id)
        func blank(_ s: String?) -> String? { s.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) } }
        var quota: String?
        if let q = blank(f.quota) {
            guard let t = QuotaType(cell: q) else { throw ServiceError.invalid("未知的指标类型「\(q)」/ unknown quota type") }
            quota = t.key
        }
        var action: String?
        if let a = blank(f.action) {
            guard let t = QuotaAction(cell: a) else { throw ServiceError.invalid("未知的动作「\(a)」/ unknown action") }
            action = t.key
        }
        func date(_ s: String?, _ what: String) throws -> CalendarDate? {
            guard let s = blank(s) else { return nil }
            guard let d = CalendarDate(s) else { throw ServiceError.invalid("\(what)「\(s)」不是 YYYY-MM-DD 日期 / not a date") }
            return d
        }
        return try await unscoped.quotaJournal(id: id, town: blank(f.town), quota: quota, action: action, from: try date(f.from, "起始日期"),
                                               to: try date(f.to, "截止日期"), limit: max(1, min(f.limit, 10_000)))
    }

    // MARK: writes

    /// Defines a consolidation project (HQ): its name, towns (known towns of the city), start and margin.
    public func createProject(name: String, towns: [String], start: String, margin: String = "0.05") async throws -> Int64 {
        try caller.require(.manageQuota)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw ServiceError.invalid("请填写项目名称（不超过 100 字）/ the name is required") }
        let towns = towns.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for t in towns where !context.rules.towns.contains(t) { throw ServiceError.invalid("未知的镇街「\(t)」/ unknown town \"\(t)\"") }
        guard towns.count >= 2 else { throw ServiceError.invalid("跨镇整治至少需要两个镇街 / at least two towns") }
        guard let d = CalendarDate(start.trimmingCharacters(in: .whitespaces)) else {
            throw ServiceError.invalid("开始日期「\(start)」不是 YYYY-MM-DD 日期 / the start is not a date")
        }
        let project: QuotaProject
        do { project = try QuotaProject(name: name, towns: towns, start: d, margin: margin) } catch { throw ServiceError.invalid(error.description) }
        guard try await unscoped.quotaProjects().allSatisfy({ $0.name != name }) else {
            throw ServiceError.conflict("已有同名的全域整治项目 / a project of that name exists")
        }
        return try await unscoped.insertQuotaProject(project, actor: caller.actor)
    }

    /// A posting from a page or the API: the cells of a journal row (the system numbers it and dates it today unless given).
    public struct Posting: Sendable {
        public var action: String, town: String, toTown: String, quota: String, amount: String, grade: String, reverses: String, note: String
        public var date: String?
        public init(action: String, town: String = "", toTown: String = "", quota: String = "", amount: String = "", grade: String = "",
                    reverses: String = "", note: String = "", date: String? = nil) {
            self.action = action; self.town = town; self.toTown = toTown; self.quota = quota; self.amount = amount; self.grade = grade
            self.reverses = reverses; self.note = note; self.date = date
        }
    }

    /// Posts one entry (credit, use or reversal; a transfer goes through ``requestTransfer``):
    /// refused with the rule and the figures (422), or appended with the state, in one transaction.
    @discardableResult
    public func post(id: Int64, _ input: Posting) async throws -> Store.QuotaEntryRecord {
        try caller.require(.postQuota)
        let r = try await visible(id)
        guard let action = QuotaAction(cell: input.action), action != .transfer else {
            throw ServiceError.invalid("动作应为 入账/使用/冲正（调剂请提出申请）/ the action must be credit, use or reverse (a transfer is requested)")
        }
        let p = try posting(input, action: action)
        if let own = ownTown {
            if action == .reverse {
                guard let n = Int64(p.reverses), let target = try await unscoped.quotaEntry(projectID: id, seq: n), target.town == own else {
                    throw ServiceError(.forbidden, "镇街只能冲正本镇的记录 / a town reverses its own entries only")
                }
            } else if p.town != own {
                throw ServiceError(.forbidden, "只能为本镇（\(own)）记账 / a town posts for its own town only")
            }
        }
        _ = r
        return try await Self.posting(unscoped, id: id, [(p, .init())], actor: caller.actor, detail: caller.detail(nil))[0]
    }

    func posting(_ input: Posting, action: QuotaAction) throws -> QuotaPosting {
        var date = today
        if let d = input.date?.trimmingCharacters(in: .whitespaces), !d.isEmpty {
            guard let day = CalendarDate(d) else { throw ServiceError.invalid("日期「\(d)」不是 YYYY-MM-DD 日期 / not a date") }
            guard day <= today else { throw ServiceError.invalid("日期不能晚于今天 / the date is in the future") }
            date = day
        }
        let amount = QuotaAmount.parse(input.amount), grade = QuotaAmount.parse(input.grade)
        if action != .reverse, amount == .text { throw ServiceError.invalid("数量「\(input.amount)」不是数字 / the amount is not a number") }
        if grade == .text { throw ServiceError.invalid("等别「\(input.grade)」不是数字 / the grade is not a number") }
        guard input.note.count <= 500 else { throw ServiceError.invalid("说明不超过 500 字 / the note is too long") }
        return QuotaPosting(seq: "", date: date, action: action, town: input.town.trimmingCharacters(in: .whitespaces),
                            toTown: input.toTown.trimmingCharacters(in: .whitespaces),
                            quota: QuotaType(cell: input.quota), amount: amount, grade: grade,
                            reverses: input.reverses.trimmingCharacters(in: .whitespaces), note: input.note.trimmingCharacters(in: .whitespaces))
    }

    /// Posts, checked again on the new state when another posting claimed the project first
    /// (so of two postings that together break a rule, exactly one is accepted, the other refused by the rule).
    static func posting(_ store: Store, id: Int64, _ postings: [(QuotaPosting, Store.QuotaLink)], numbered: Bool = false,
                        actor: String, detail: String?) async throws -> [Store.QuotaEntryRecord] {
        // (a file's refusal names every row; a single posting's is its one message)
        try await retryingConflicts(keepFailure: postings.count != 1) {
            try await store.postQuota(id: id, postings, numbered: numbered, actor: actor, detail: detail)
        }
    }

    /// Runs `step` — a transaction that posts through `Store.postQuota` — again when another posting
    /// claimed the project first, so that it is checked on the new state (up to 20 times, then 409).
    /// A refusal becomes 422 naming its rules, unless `keepFailure` (a file: every row named).
    static func retryingConflicts<T: Sendable>(keepFailure: Bool = false, _ step: () async throws -> T) async throws -> T {
        for _ in 0..<20 {
            do {
                return try await step()
            } catch let f as ImportFailure where !keepFailure {
                throw ServiceError(.unprocessable, f.errors.map { $0.messageZh + " / " + $0.messageEn }.joined(separator: "；"))
            } catch is QuotaConflict {
                continue
            }
        }
        throw ServiceError.conflict("台账正忙，请稍后再试 / the ledger is busy; try again")
    }

    /// Loads a journal file into the database (the system: `mujun quota post`), all or nothing:
    /// every row that cannot be read or would be refused is named, and then nothing is written.
    /// The file's seqs continue the stored journal (each greater than the last).
    public func load(id: Int64, journal: QuotaJournal, fileName: String) async throws -> Int {
        guard caller.isSystem || caller.principal?.role == .headquarters else {
            throw ServiceError(.forbidden, "仅限系统或指挥部 / system or HQ only")
        }
        _ = try await visible(id)
        let records = try await Self.posting(unscoped, id: id, journal.postings.map { ($0, Store.QuotaLink()) }, numbered: true,
                                             actor: caller.actor, detail: "导入 \(fileName)")
        return records.count
    }

    // MARK: sub-projects (子项目)

    /// A sub-project: a project of the projects engine (its milestones and monthly reports as there)
    /// in one of the towns, with the quantities its acceptance (验收) credits to its town.
    public struct SubProjectRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var quotaProjectId: Int64
        public var projectId: Int64
        public var kind: String
        public var town: String
        public var plannedNewFarmland: Int64
        public var plannedReclaimed: Int64
        public var plannedBasic: Int64
        public var grade: Int?
        /// approved (立项) | underway (实施) | accepted (验收)
        public var status: String
        public var acceptedOn: String?
        public var version: Int64
        /// (joined) the project's number and name
        public var ref: String?
        public var name: String?
        enum CodingKeys: String, CodingKey {
            case id, quotaProjectId = "quota_project_id", projectId = "project_id", kind, town, plannedNewFarmland = "planned_new_farmland",
                 plannedReclaimed = "planned_reclaimed", plannedBasic = "planned_basic", grade, status, acceptedOn = "accepted_on", version, ref, name
        }
        public var statusName: String { ["approved": "立项", "underway": "实施", "accepted": "验收"][status] ?? status }
    }

    public func subProjects(id: Int64) async throws -> [SubProjectRecord] {
        _ = try await visible(id)
        return try await unscoped.sql.raw("""
            SELECT s.id, s.quota_project_id, s.project_id, s.kind, s.town, s.planned_new_farmland, s.planned_reclaimed, s.planned_basic,
                   s.grade, s.status, s.accepted_on, s.version, p.ref, p.name
              FROM quota_subprojects s JOIN projects p ON p.id = s.project_id WHERE s.quota_project_id = \(bind: id) ORDER BY s.id
            """).all(decoding: SubProjectRecord.self)
    }

    public struct SubProjectInput: Sendable {
        public var projectID: Int64
        public var newFarmland: String, reclaimed: String, basic: String, grade: String
        public init(projectID: Int64, newFarmland: String = "", reclaimed: String = "", basic: String = "", grade: String = "") {
            self.projectID = projectID; self.newFarmland = newFarmland; self.reclaimed = reclaimed; self.basic = basic; self.grade = grade
        }
    }

    /// Links a project of the projects engine (a 全域整治子项目 in one of the towns, not linked yet)
    /// as a sub-project with its planned quantities (HQ). Its kind is the project's mode.
    @discardableResult
    public func addSubProject(id: Int64, _ input: SubProjectInput) async throws -> Int64 {
        try caller.require(.manageQuota)
        let r = try await visible(id)
        // (the body names the project: an unknown one is bad input, not a missing page)
        guard let p = try await unscoped.project(id: input.projectID) else { throw ServiceError.invalid("项目 \(input.projectID) 不存在 / no such project") }
        guard r.townList.contains(p.town) else { throw ServiceError.invalid("项目 \(p.ref) 在\(p.town)，不是本全域整治项目的镇街 / the project is in another town") }
        func units(_ s: String, _ what: String) throws -> Int64 {
            switch QuotaAmount.parse(s) {
            case .empty: return 0
            case .value(let a) where a.units >= 0: return a.units
            default: throw ServiceError.invalid("\(what)「\(s)」应为不小于 0、至多 4 位小数的亩数 / \(what) must be mu ≥ 0 with at most 4 decimals")
            }
        }
        let nf = try units(input.newFarmland, "计划新增耕地"), rc = try units(input.reclaimed, "计划建设用地复垦"), bf = try units(input.basic, "计划补划永久基本农田")
        guard nf + rc + bf > 0 else { throw ServiceError.invalid("请至少填写一项计划指标 / at least one planned quantity") }
        var grade: Int?
        if nf > 0 {
            guard case .value(let g) = QuotaAmount.parse(input.grade), g.units % 10_000 == 0, (1...15).contains(g.units / 10_000) else {
                throw ServiceError.invalid("新增耕地须填写 1–15 的等别 / new farmland needs its grade 1–15")
            }
            grade = Int(g.units / 10_000)
        }
        let actor = caller.actor, now = Store.nowMicros(), plannedGrade = grade
        do {
            return try await unscoped.db.transaction { db in
                let tx = Store(db)
                guard let sid = try await tx.sql.insert(into: "quota_subprojects")
                    .columns("quota_project_id", "project_id", "kind", "town", "planned_new_farmland", "planned_reclaimed", "planned_basic", "grade",
                             "status", "version", "recorded_us")
                    .values(SQLBind(id), SQLBind(p.id), SQLBind(p.mode ?? p.type), SQLBind(p.town), SQLBind(nf), SQLBind(rc), SQLBind(bf), SQLBind(plannedGrade),
                            SQLBind("approved"), SQLBind(1), SQLBind(now))
                    .returning("id").first(decodingColumn: "id", as: Int64.self) else { throw ServiceError(.unprocessable, "未能保存 / not saved") }
                try await tx.audit(actor: actor, action: "quota.subproject", target: "全域整治项目 \(r.name)",
                                   detail: "子项目 \(p.ref) \(p.name)（\(p.town)）：新增耕地 \(QuotaAmount.format(nf))、复垦 \(QuotaAmount.format(rc))、补划 \(QuotaAmount.format(bf)) 亩")
                return sid
            }
        } catch let e as ServiceError { throw e } catch {
            throw ServiceError.conflict("项目 \(p.ref) 已是子项目 / the project is a sub-project already")
        }
    }

    /// What each sub-project's acceptance credited, net of reversals, by sub-project id and quota type
    /// (ten-thousandths of a mu), optionally at the end of `day`.
    public func subProjectCredits(id: Int64, asOf day: CalendarDate? = nil) async throws -> [Int64: [QuotaType: Int64]] {
        _ = try await visible(id)
        struct Row: Decodable { var subproject_id: Int64; var quota: String; var total: Int64? }
        var q = unscoped.sql.select().column("subproject_id").column("quota").column(SQLRaw("CAST(SUM(sign * units) AS BIGINT)"), as: "total")
            .from("quota_entries").where("project_id", .equal, id).where(SQLColumn("subproject_id"), .isNot, SQLLiteral.null)
        if let day { q = q.where("date", .lessThanOrEqual, day.description) }
        var out: [Int64: [QuotaType: Int64]] = [:]
        for r in try await q.groupBy("subproject_id").groupBy("quota").all(decoding: Row.self) {
            if let t = QuotaType(cell: r.quota) { out[r.subproject_id, default: [:]][t] = r.total ?? 0 }
        }
        return out
    }

    /// The parcels of each sub-project (its project's), by sub-project id.
    public func subProjectParcels(id: Int64) async throws -> [Int64: [String]] {
        _ = try await visible(id)
        struct Row: Decodable { var sid: Int64; var parcel_id: String }
        let rows = try await unscoped.sql.raw("""
            SELECT s.id AS sid, pp.parcel_id FROM quota_subprojects s JOIN project_parcels pp ON pp.project_id = s.project_id
             WHERE s.quota_project_id = \(bind: id) ORDER BY s.id, pp.parcel_id
            """).all(decoding: Row.self)
        return Dictionary(grouping: rows, by: \.sid).mapValues { $0.map(\.parcel_id) }
    }

    /// The projects HQ may link as sub-projects: in the project's towns, not linked yet (全域整治子项目 first).
    public func linkable(id: Int64) async throws -> [(id: Int64, label: String)] {
        let r = try await visible(id)
        struct Row: Decodable { var id: Int64; var ref: String; var name: String; var town: String; var type: String }
        let rows = try await unscoped.sql.raw("""
            SELECT id, ref, name, town, type FROM projects
             WHERE id NOT IN (SELECT project_id FROM quota_subprojects) ORDER BY CASE WHEN type = 'consolidation' THEN 0 ELSE 1 END, ref
            """).all(decoding: Row.self)
        return rows.filter { r.townList.contains($0.town) }.map { ($0.id, "\($0.ref) \($0.name)（\($0.town)）") }
    }

    /// The consolidation project a sub-project belongs to (404 when the caller does not see it).
    public func subProjectProject(id sid: Int64) async throws -> Int64 { try await subProject(sid).1.id }

    func subProject(_ sid: Int64) async throws -> (SubProjectRecord, Store.QuotaProjectRecord) {
        guard let pid = try await unscoped.sql.select().column("quota_project_id").from("quota_subprojects").where("id", .equal, sid)
            .first(decodingColumn: "quota_project_id", as: Int64.self) else { throw ServiceError.notFound("子项目不存在 / no such sub-project") }
        let r = try await visible(pid)
        guard let s = try await subProjects(id: pid).first(where: { $0.id == sid }) else { throw ServiceError.notFound("子项目不存在 / no such sub-project") }
        return (s, r)
    }

    /// 立项 → 实施 (HQ, or the sub-project's town).
    public func startSubProject(_ sid: Int64) async throws {
        try caller.require(.postQuota)
        let (s, r) = try await subProject(sid)
        if let own = ownTown, own != s.town { throw ServiceError(.forbidden, "只能操作本镇的子项目 / a town acts on its own sub-projects") }
        let actor = caller.actor
        try await unscoped.db.transaction { db in
            let tx = Store(db)
            let n = try await tx.sql.update("quota_subprojects").set("status", to: "underway").set("version", to: SQLLiteral.numeric("version + 1"))
                .where("id", .equal, sid).where("status", .equal, "approved").where("version", .equal, s.version).returning("id").all().count
            guard n == 1 else { throw ServiceError.conflict("子项目 \(s.ref ?? "") 不在立项状态（现为 \(s.statusName)）/ not approved") }
            try await tx.audit(actor: actor, action: "quota.subproject.started", target: "全域整治项目 \(r.name)", detail: "子项目 \(s.ref ?? "") 开始实施")
        }
    }

    /// 实施 → 验收 (HQ, or the sub-project's town): in one transaction, the sub-project claimed at its
    /// version and its planned quantities credited to its town through the ledger (new farmland with
    /// its grade) — refused whole when a rule refuses any of them.
    public func acceptSubProject(_ sid: Int64) async throws -> [Store.QuotaEntryRecord] {
        try caller.require(.postQuota)
        let (s, r) = try await subProject(sid)
        if let own = ownTown, own != s.town { throw ServiceError(.forbidden, "只能操作本镇的子项目 / a town acts on its own sub-projects") }
        let day = today, actor = caller.actor
        let note = "子项目 \(s.ref ?? "") \(s.name ?? "") 验收"
        var postings: [(QuotaPosting, Store.QuotaLink)] = []
        for (q, units) in [(QuotaType.newFarmland, s.plannedNewFarmland), (.reclaimedConstruction, s.plannedReclaimed), (.basicFarmland, s.plannedBasic)] where units > 0 {
            postings.append((QuotaPosting(seq: "", date: day, action: .credit, town: s.town, quota: q, amount: .value(QuotaAmount(units: units)),
                                          grade: q == .newFarmland ? .value(QuotaAmount(units: Int64(s.grade ?? 0) * 10_000)) : .empty, note: note),
                             Store.QuotaLink(subproject: sid)))
        }
        let credits = postings
        return try await Self.retryingConflicts {
            try await unscoped.db.transaction { db in
                let tx = Store(db)
                let n = try await tx.sql.update("quota_subprojects").set("status", to: "accepted").set("accepted_on", to: day.description)
                    .set("version", to: SQLLiteral.numeric("version + 1"))
                    .where("id", .equal, sid).where("status", .equal, "underway").where("version", .equal, s.version).returning("id").all().count
                guard n == 1 else { throw ServiceError.conflict("子项目 \(s.ref ?? "") 不在实施状态（现为 \(s.statusName)）/ not underway") }
                return try await tx.postQuota(id: r.id, credits, numbered: false, actor: actor, detail: note)
            }
        }
    }

    /// Benchmarks only (the system): posts many at once through the ledger, every rule checked.
    public func benchPost(id: Int64, _ postings: [QuotaPosting]) async throws -> Int {
        guard caller.isSystem else { throw ServiceError(.forbidden, "仅限系统 / system only") }
        return try await Self.posting(unscoped, id: id, postings.map { ($0, Store.QuotaLink()) }, actor: caller.actor, detail: "基准").count
    }

    // MARK: transfers (调剂)

    public struct TransferRequest: Sendable {
        public var from: String, to: String, quota: String, amount: String, reason: String
        public init(from: String, to: String, quota: String, amount: String, reason: String) {
            self.from = from; self.to = to; self.quota = quota; self.amount = amount; self.reason = reason
        }
    }

    public struct TransferRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var quotaProjectId: Int64
        public var fromTown: String
        public var toTown: String
        public var quota: String
        public var units: Int64
        public var reason: String
        public var state: String
        public var requestedBy: String
        public var requestedOn: String
        public var decidedBy: String?
        public var decidedOn: String?
        public var decisionNote: String?
        public var entrySeq: Int64?
        public var version: Int64
        enum CodingKeys: String, CodingKey {
            case id, quotaProjectId = "quota_project_id", fromTown = "from_town", toTown = "to_town", quota, units, reason, state,
                 requestedBy = "requested_by", requestedOn = "requested_on", decidedBy = "decided_by", decidedOn = "decided_on",
                 decisionNote = "decision_note", entrySeq = "entry_seq", version
        }
    }

    /// A town asks to move quota from its own balance to another town of the project (HQ may ask
    /// for any town). Checked now as a posting would be (the town, the type, the amount, the balance);
    /// posted only when HQ approves, and checked again then.
    public func requestTransfer(id: Int64, _ t: TransferRequest) async throws -> Int64 {
        try caller.require(.postQuota)
        let r = try await visible(id)
        let from = t.from.trimmingCharacters(in: .whitespaces), to = t.to.trimmingCharacters(in: .whitespaces)
        if let own = ownTown, from != own { throw ServiceError(.forbidden, "只能从本镇（\(own)）的余额调出 / a town transfers from its own balance only") }
        let reason = t.reason.trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty, reason.count <= 500 else { throw ServiceError.invalid("请填写调剂理由 / the reason is required") }
        // the ledger's check on the state now, without posting
        let posting = try self.posting(.init(action: "transfer", town: from, toTown: to, quota: t.quota, amount: t.amount), action: .transfer)
        let project = try r.project
        var ledger = QuotaLedger(project: project, state: try await unscoped.quotaState(r, towns: project.towns), entries: [])
        if let refusal = ledger.post(posting) { throw ServiceError(.unprocessable, refusal.description) }
        guard case .value(let amount) = posting.amount, let q = posting.quota else { throw ServiceError.invalid("数量无效 / bad amount") }
        let actor = caller.actor, now = Store.nowMicros(), day = today.description
        return try await unscoped.db.transaction { db in
            let tx = Store(db)
            guard let newID = try await tx.sql.insert(into: "quota_transfers")
                .columns("quota_project_id", "from_town", "to_town", "quota", "units", "reason", "state", "requested_by", "requested_on", "version", "recorded_us")
                .values(SQLBind(id), SQLBind(from), SQLBind(to), SQLBind(q.key), SQLBind(amount.units), SQLBind(reason), SQLBind("requested"),
                        SQLBind(actor), SQLBind(day), SQLBind(1), SQLBind(now))
                .returning("id").first(decodingColumn: "id", as: Int64.self) else { throw ServiceError(.unprocessable, "未能保存 / not saved") }
            try await tx.audit(actor: actor, action: "quota.transfer.requested", target: "全域整治项目 \(r.name)",
                               detail: "调剂申请 #\(newID)：\(from) → \(to) \(q.chinese) \(amount) 亩（\(reason)）")
            return newID
        }
    }

    /// The project a transfer request belongs to (404 when the caller does not see it).
    public func transferProject(id tid: Int64) async throws -> Int64 {
        guard let pid = try await unscoped.sql.select().column("quota_project_id").from("quota_transfers").where("id", .equal, tid)
            .first(decodingColumn: "quota_project_id", as: Int64.self) else { throw ServiceError.notFound("调剂申请不存在 / no such transfer") }
        return try await visible(pid).id
    }

    public func transfers(id: Int64) async throws -> [TransferRecord] {
        _ = try await visible(id)
        return try await unscoped.sql.select().columns("*").from("quota_transfers").where("quota_project_id", .equal, id)
            .orderBy("id", .descending).all(decoding: TransferRecord.self)
    }

    /// HQ decides a requested transfer: approval posts it (both sides, one entry, checked by the
    /// rules on the state then — refused, the request stays open and nothing is posted); a
    /// rejection records the note. The request is claimed at its version (409 when decided meanwhile).
    @discardableResult
    public func decide(transfer tid: Int64, approve: Bool, note: String = "") async throws -> TransferRecord {
        try caller.require(.manageQuota)
        guard let t = try await unscoped.sql.select().columns("*").from("quota_transfers").where("id", .equal, tid)
            .first(decoding: TransferRecord.self) else { throw ServiceError.notFound("调剂申请不存在 / no such transfer") }
        let r = try await visible(t.quotaProjectId)
        guard t.state == "requested" else { throw ServiceError.conflict("调剂申请 #\(tid) 已处理（\(t.state)）/ already decided") }
        let note = note.trimmingCharacters(in: .whitespaces)
        if !approve, note.isEmpty { throw ServiceError.invalid("不予批准须说明理由 / a rejection needs a reason") }
        let actor = caller.actor, day = today
        if !approve {
            let n = try await unscoped.db.transaction { db in
                let tx = Store(db)
                let n = try await tx.sql.update("quota_transfers").set("state", to: "rejected").set("decided_by", to: actor)
                    .set("decided_on", to: day.description).set("decision_note", to: note).set("version", to: SQLLiteral.numeric("version + 1"))
                    .where("id", .equal, tid).where("version", .equal, t.version).returning("id").all().count
                if n == 1 {
                    try await tx.audit(actor: actor, action: "quota.transfer.rejected", target: "全域整治项目 \(r.name)", detail: "调剂申请 #\(tid)：\(note)")
                }
                return n
            }
            guard n == 1 else { throw ServiceError.conflict("调剂申请 #\(tid) 已被他人处理 / decided by someone else") }
        } else {
            let posting = QuotaPosting(seq: "", date: day, action: .transfer, town: t.fromTown, toTown: t.toTown, quota: QuotaType(cell: t.quota),
                                       amount: .value(QuotaAmount(units: t.units)), note: "调剂申请 #\(tid)：\(t.reason)")
            // the request is claimed in the posting's own transaction
            try await Self.retryingConflicts {
                try await unscoped.db.transaction { db in
                    let tx = Store(db)
                    let n = try await tx.sql.update("quota_transfers").set("state", to: "approved").set("decided_by", to: actor)
                        .set("decided_on", to: day.description).set("decision_note", to: note).set("version", to: SQLLiteral.numeric("version + 1"))
                        .where("id", .equal, tid).where("version", .equal, t.version).returning("id").all().count
                    guard n == 1 else { throw ServiceError.conflict("调剂申请 #\(tid) 已被他人处理 / decided by someone else") }
                    let e = try await tx.postQuota(id: r.id, [(posting, .init(transfer: tid))], numbered: false, actor: actor,
                                                   detail: "批准调剂申请 #\(tid)")
                    try await tx.sql.update("quota_transfers").set("entry_seq", to: e[0].seq).where("id", .equal, tid).run()
                }
            }
        }
        return try await unscoped.sql.select().columns("*").from("quota_transfers").where("id", .equal, tid).first(decoding: TransferRecord.self)!
    }
}
