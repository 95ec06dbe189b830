import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Challenges (揭榜挂帅, issue 10): HQ puts up a problem with its reward (发榜); enterprises apply
/// from their own portal, a consortium naming its partners (揭榜); HQ assigns experts, who each
/// see and score only the applications assigned to them on the score sheet (评审遴选); HQ selects
/// the winner, whose project starts with the challenge type's milestones and its pledge (立项,
/// 军令状); the reward is paid in tranches, each once its milestone is done (兑现).
///
/// ```swift
/// let c = try await services.challenges.publish(.init(title: "高端五金精密锻造工艺攻关", problem: "…", reward: 300,
///                                                     deadline: "2027-01-15", town: "古山镇", leadUnit: "科技局"))
/// try await enterprise.challenges.apply(id: c, .init(plan: "…", contact: "张工 138…"))
/// try await hq.challenges.assign(id: c, experts: [expertID], applications: nil)
/// try await expert.challenges.score(application: a, ["tech": 26, "team": 16, "plan": 17, "funds": 12, "impact": 11])
/// try await hq.challenges.award(id: c, .init(application: a, pledge: "…", planned: ["2027-06-30", "2027-12-31", "2028-01-31"]))
/// ```
public struct ChallengeService: ServiceBase {
    let services: Services
    init(_ services: Services) { self.services = services }

    var types: ProjectTypes { context.projectTypes }
    public var today: CalendarDate { CalendarDate(ChinaDay.today())! }
    public static let maxPlan = 8000
    public static let maxText = 4000

    /// The challenge type (揭榜挂帅) configured, else a clear refusal.
    func challengeType() throws -> ProjectType {
        guard let t = types.challenge else {
            throw ServiceError(.unprocessable, "项目类型配置中没有揭榜挂帅（challenge）/ no challenge type is configured")
        }
        return t
    }

    // MARK: reads

    /// A challenge in a list: where it stands, how many applied, and the caller's own application.
    public struct Item: Sendable {
        public var record: Store.ChallengeRecord
        public var stage: ChallengeStage
        public var applications: Int
        /// The caller's enterprise's application to it.
        public var own: Store.ApplicationRecord?
    }

    /// The published challenges (a notice every viewer may read), newest first.
    public func list() async throws -> [Item] {
        try caller.require(.viewChallenges)
        let store = unscoped
        let all = try await store.challenges()
        let apps = try await store.applications(challengeID: nil)
        let counts = Dictionary(grouping: apps, by: \.challengeId).mapValues(\.count)
        let code = caller.principal?.role == .enterprise ? caller.principal?.creditCode : nil
        let today = self.today
        return all.map { r in
            Item(record: r, stage: r.stage(on: today), applications: counts[r.id] ?? 0,
                 own: code.flatMap { c in apps.first { $0.challengeId == r.id && $0.creditCode == c } })
        }
    }

    /// An application with its reviews, as HQ (or the challenge's town and lead department) sees it.
    public struct Entry: Sendable {
        public var application: Store.ApplicationRecord
        public var reviews: [Store.ReviewRecord]
        /// Mean of the scored sheets; nil when none is scored.
        public var mean: Double?
        public var rank: Int
        public var scored: Int { reviews.filter { $0.total != nil }.count }
    }

    public struct View: Sendable {
        public var record: Store.ChallengeRecord
        public var stage: ChallengeStage
        /// Every application with its reviews (HQ, the responsible town, the lead department), ranked.
        public var entries: [Entry]
        /// The caller's enterprise's application.
        public var own: Store.ApplicationRecord?
        public var tranches: [Store.TrancheRecord]
        /// The winner's project's milestones done (by name), for the tranches.
        public var doneMilestones: Set<String>
        /// The experts HQ may assign (id, name, unit).
        public var experts: [(id: Int64, name: String, unit: String)]
        public var canApply: Bool
        public var canManage: Bool
        /// Milestones the award form plans (those after 立项), with a first guess at their dates.
        public var toPlan: [(name: String, planned: CalendarDate)]
    }

    public func view(id: Int64) async throws -> View {
        try caller.require(.viewChallenges)
        let store = unscoped
        guard let r = try await store.challenge(id: id) else { throw ServiceError.notFound("榜单不存在 / challenge not found") }
        let today = self.today
        let stage = r.stage(on: today)
        let p = caller.principal
        let seesAll = caller.isSystem || caller.allows(.manageChallenges)
            || (p?.role == .town && p?.town == r.town) || (p?.role == .department && p?.unit == r.leadUnit)
        var entries: [Entry] = []
        if seesAll {
            let apps = try await store.applications(challengeID: id)
            let reviews = Dictionary(grouping: try await store.reviews(applicationIDs: apps.map(\.id)), by: \.applicationId)
            let ranked = ChallengeRules.ranked(apps.map { a in
                let rs = reviews[a.id] ?? []
                return (a.id, rs.compactMap(\.total), rs.count)
            })
            let byID = Dictionary(uniqueKeysWithValues: apps.map { ($0.id, $0) })
            entries = ranked.enumerated().compactMap { i, x in
                byID[x.id].map { Entry(application: $0, reviews: reviews[$0.id] ?? [], mean: x.mean, rank: i + 1) }
            }
        }
        var own: Store.ApplicationRecord?
        if p?.role == .enterprise, let code = p?.creditCode {
            own = try await store.applications(challengeID: id, creditCode: code).first
        }
        var done: Set<String> = []
        if let pid = r.projectId {
            done = Set((try await store.milestones(projectIDs: [pid])[pid] ?? []).filter { $0.doneOn != nil }.map(\.name))
        }
        var experts: [(id: Int64, name: String, unit: String)] = []
        let canManage = caller.isSystem || caller.allows(.manageChallenges)
        if canManage {
            experts = try await store.users().filter { $0.role == Role.expert.rawValue && !$0.disabled }.map { ($0.id, $0.displayName, $0.unit) }
        }
        var toPlan: [(name: String, planned: CalendarDate)] = []
        if let t = types.challenge {
            let k = t.milestones.firstIndex { $0.name == "立项" } ?? 0
            toPlan = t.milestones.dropFirst(k + 1).enumerated().map { ($1.name, today.adding(months: 6 * ($0 + 1))) }
        }
        return View(record: r, stage: stage, entries: entries, own: own, tranches: try await store.tranches(challengeID: id), doneMilestones: done,
                    experts: experts, canApply: caller.allows(.applyChallenges) && own == nil && stage == .open, canManage: canManage,
                    toPlan: toPlan)
    }

    // MARK: 发榜

    public struct NewChallenge: Sendable {
        public var title: String, problem: String, reward: Double, deadline: String, eligibility: String
        public var consortium: Bool, town: String, leadUnit: String
        public init(title: String, problem: String, reward: Double, deadline: String, eligibility: String = "", consortium: Bool = false,
                    town: String, leadUnit: String) {
            self.title = title; self.problem = problem; self.reward = reward; self.deadline = deadline; self.eligibility = eligibility
            self.consortium = consortium; self.town = town; self.leadUnit = leadUnit
        }
    }

    /// Publishes a challenge (HQ): a title, the problem, a reward above 0 (万元), a deadline not
    /// before today, a known town and a lead department. Returns its id.
    public func publish(_ n: NewChallenge, on day: CalendarDate? = nil) async throws -> Int64 {
        try caller.require(.manageChallenges)
        _ = try challengeType()
        let today = day ?? self.today
        let title = n.title.trimmingCharacters(in: .whitespacesAndNewlines)
        let problem = n.problem.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= CaseService.maxTitle else { throw ServiceError.invalid("请填写榜单名称 / the title is required") }
        guard !problem.isEmpty, problem.count <= Self.maxText else {
            throw ServiceError.invalid("请填写需攻关的问题（不超过 \(Self.maxText) 字）/ the problem is required (at most \(Self.maxText) characters)")
        }
        guard n.reward.isFinite, n.reward > 0, n.reward < 1e7 else { throw ServiceError.invalid("奖励金额应大于 0（万元）/ the reward must be above 0 (10,000 yuan)") }
        guard let deadline = CaseHistory.parseDate(n.deadline.trimmingCharacters(in: .whitespaces)) else {
            throw ServiceError.invalid("揭榜截止日期「\(n.deadline)」不是 YYYY-MM-DD 日期 / the deadline is not a date")
        }
        guard deadline >= today else { throw ServiceError.invalid("揭榜截止日期 \(deadline) 早于今天 / the deadline \(deadline) is in the past") }
        guard context.rules.towns.contains(n.town) else { throw ServiceError.invalid("未知的镇街「\(n.town)」/ unknown town") }
        let lead = n.leadUnit.trimmingCharacters(in: .whitespaces)
        guard !lead.isEmpty, lead.count <= 100 else { throw ServiceError.invalid("请填写牵头部门 / the lead department is required") }
        let eligibility = n.eligibility.trimmingCharacters(in: .whitespacesAndNewlines)
        guard eligibility.count <= Self.maxText else { throw ServiceError.invalid("揭榜条件过长 / the eligibility is too long") }
        let actor = caller.actor, detail = caller.detail("\(formatNumber(n.reward)) 万元，截止 \(deadline)")
        return try await unscoped.db.transaction { db in
            let tx = Store(db)
            let ref = try await tx.nextChallengeRef(year: today.year)
            let id = try await tx.sql.insert(into: "challenges")
                .columns("ref", "title", "problem", "reward", "deadline", "eligibility", "consortium", "town", "lead_unit", "published_on",
                         "state", "version", "created_by", "recorded_us")
                .values(SQLBind(ref), SQLBind(title), SQLBind(problem), SQLBind(n.reward), SQLBind(deadline.description), SQLBind(eligibility),
                        SQLBind(n.consortium), SQLBind(n.town), SQLBind(lead), SQLBind(today.description), SQLBind("open"), SQLBind(1),
                        SQLBind(actor), SQLBind(Store.nowMicros()))
                .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
            try await tx.audit(actor: actor, action: "challenge.published", target: "榜单 \(ref)", detail: detail)
            return id
        }
    }

    // MARK: 揭榜

    public struct Application: Sendable {
        public var plan: String
        public var contact: String
        /// The consortium's other members (统一社会信用代码).
        public var partners: [String]
        public init(plan: String, contact: String, partners: [String] = []) { self.plan = plan; self.contact = contact; self.partners = partners }
    }

    /// An enterprise applies (揭榜) from its own portal, once per challenge, by the deadline; a
    /// consortium's partners only where the challenge allows one. Returns the application's id.
    public func apply(id: Int64, _ a: Application, on day: CalendarDate? = nil) async throws -> Int64 {
        try caller.require(.applyChallenges)
        guard let p = caller.principal, let code = p.creditCode else {
            throw ServiceError(.forbidden, "账号未关联企业 / the account has no enterprise")
        }
        let store = unscoped
        guard let r = try await store.challenge(id: id), let deadline = CalendarDate(r.deadline) else {
            throw ServiceError.notFound("榜单不存在 / challenge not found")
        }
        let today = day ?? self.today
        let partners = a.partners.map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
        do {
            try ChallengeRules.checkApplication(stage: r.stage(on: today), deadline: deadline, day: today, consortium: r.consortium,
                                                applicant: code, partners: partners, plan: a.plan, maxPlan: Self.maxPlan)
        } catch { throw ServiceError.invalid(error.zh + " / " + error.en) }
        let contact = a.contact.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !contact.isEmpty, contact.count <= 200 else { throw ServiceError.invalid("请填写联系人及电话 / the contact is required") }
        let name = try await store.enterpriseNames([code])[code] ?? p.displayName
        let plan = a.plan.trimmingCharacters(in: .whitespacesAndNewlines)
        let actor = caller.actor, detail = caller.detail(partners.isEmpty ? nil : "联合体：\(partners.joined(separator: "、"))")
        return try await store.db.transaction { db in
            let tx = Store(db)
            // the challenge is claimed as still open, so that an application never lands after an award
            let open = try await tx.sql.update("challenges").set("version", to: SQLLiteral.numeric("version"))
                .where("id", .equal, id).where("state", .equal, "open").where("deadline", .greaterThanOrEqual, today.description)
                .returning("id").all().count
            guard open == 1 else { throw ServiceError.conflict("榜单 \(r.ref) 已截止或已立项，不再受理申请 / the challenge is closed") }
            if try await tx.applications(challengeID: id, creditCode: code).first != nil {
                throw ServiceError.conflict("本企业已揭榜 \(r.ref)，不能重复申请 / your enterprise has applied already")
            }
            let aid = try await tx.sql.insert(into: "challenge_applications")
                .columns("challenge_id", "credit_code", "enterprise", "partners", "plan", "contact", "filed_on", "filed_by", "state", "recorded_us")
                .values(SQLBind(id), SQLBind(code), SQLBind(name), SQLBind(partners.joined(separator: ";")), SQLBind(plan), SQLBind(contact),
                        SQLBind(today.description), SQLBind(actor), SQLBind("submitted"), SQLBind(Store.nowMicros()))
                .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
            try await tx.audit(actor: actor, action: "challenge.applied", target: "榜单 \(r.ref)", detail: detail)
            return aid
        }
    }

    // MARK: 评审遴选

    /// Assigns experts to applications of a challenge (HQ; nil: all of them) before the award;
    /// an assignment that exists is kept as it is. Returns the number of new assignments.
    @discardableResult
    public func assign(id: Int64, experts: [Int64], applications: [Int64]?) async throws -> Int {
        try caller.require(.manageChallenges)
        let store = unscoped
        guard let r = try await store.challenge(id: id) else { throw ServiceError.notFound("榜单不存在 / challenge not found") }
        guard r.state == "open" else { throw ServiceError.conflict("榜单 \(r.ref) 已立项或已流榜 / the challenge is decided") }
        guard !experts.isEmpty else { throw ServiceError.invalid("请选择评审专家 / choose the experts") }
        let users = Dictionary(uniqueKeysWithValues: try await store.users().map { ($0.id, $0) })
        var names: [Int64: String] = [:]
        for e in Set(experts) {
            guard let u = users[e], u.role == Role.expert.rawValue, !u.disabled else {
                throw ServiceError.invalid("用户 \(e) 不是可用的评审专家 / user \(e) is not an active expert")
            }
            names[e] = u.displayName
        }
        let apps = try await store.applications(challengeID: id)
        let chosen = applications.map(Set.init) ?? Set(apps.map(\.id))
        guard !chosen.isEmpty else { throw ServiceError.invalid("还没有揭榜申请可分配 / no application to assign") }
        for a in chosen where !apps.contains(where: { $0.id == a }) {
            throw ServiceError.invalid("申请 \(a) 不属于榜单 \(r.ref) / application \(a) is not of this challenge")
        }
        let existing = Set(try await store.reviews(applicationIDs: Array(chosen)).map { "\($0.applicationId)|\($0.expertId)" })
        var rows: [[any SQLExpression]] = []
        let now = Store.nowMicros(), actor = caller.actor, today = self.today
        for a in chosen.sorted() {
            for e in Set(experts).sorted() where !existing.contains("\(a)|\(e)") {
                rows.append([SQLBind(a), SQLBind(e), SQLBind(names[e] ?? ""), SQLBind(today.description), SQLBind(actor), SQLBind(now)])
            }
        }
        guard !rows.isEmpty else { return 0 }
        let all = rows, detail = caller.detail("\(names.values.sorted().joined(separator: "、")) 评审 \(chosen.count) 份申请")
        try await store.db.transaction { db in
            let tx = Store(db)
            let open = try await tx.sql.update("challenges").set("version", to: SQLLiteral.numeric("version + 1"))
                .where("id", .equal, id).where("state", .equal, "open").returning("id").all().count
            guard open == 1 else { throw ServiceError.conflict("榜单 \(r.ref) 已立项或已流榜 / the challenge is decided") }
            for chunk in all.chunked(Store.chunkSize(columns: 6)) {
                try await tx.sql.insert(into: "challenge_reviews")
                    .columns("application_id", "expert_id", "expert", "assigned_on", "assigned_by", "recorded_us").rows(Array(chunk)).run()
            }
            try await tx.audit(actor: actor, action: "challenge.experts", target: "榜单 \(r.ref)", detail: detail)
        }
        return rows.count
    }

    /// What an expert sees of an application assigned to it: the challenge, the application and its own sheet.
    public struct Assignment: Sendable {
        public var challenge: Store.ChallengeRecord
        public var application: Store.ApplicationRecord
        public var review: Store.ReviewRecord
        /// Whether the sheet may still be (re)filled: until the challenge is decided.
        public var open: Bool
    }

    /// The applications assigned to the calling expert (专家), newest first.
    public func assignments() async throws -> [Assignment] {
        try caller.require(.scoreApplications)
        guard let me = caller.principal?.userID else { return [] }
        let store = unscoped
        let reviews = try await store.reviews(expertID: me)
        let apps = Dictionary(uniqueKeysWithValues: try await store.applications(ids: reviews.map(\.applicationId)).map { ($0.id, $0) })
        let challenges = Dictionary(uniqueKeysWithValues: try await store.challenges().map { ($0.id, $0) })
        return reviews.reversed().compactMap { r in
            guard let a = apps[r.applicationId], let c = challenges[a.challengeId] else { return nil }
            return Assignment(challenge: c, application: a, review: r, open: c.state == "open")
        }
    }

    /// One application assigned to the calling expert; any other answers 404, as if it did not exist.
    public func assignment(application id: Int64) async throws -> Assignment {
        try caller.require(.scoreApplications)
        guard let me = caller.principal?.userID, let r = try await unscoped.reviews(applicationIDs: [id], expertID: me).first,
              let a = try await unscoped.application(id: id), let c = try await unscoped.challenge(id: a.challengeId) else {
            throw ServiceError.notFound("该申请不存在或未分配给您评审 / no such application assigned to you")
        }
        return Assignment(challenge: c, application: a, review: r, open: c.state == "open")
    }

    /// The calling expert scores an application assigned to it on the score sheet (every
    /// criterion, 0…its maximum); may score again until the challenge is decided. Returns the total.
    @discardableResult
    public func score(application id: Int64, _ scores: [String: Double], comment: String = "") async throws -> Double {
        try caller.require(.scoreApplications)
        guard let me = caller.principal?.userID else { throw ServiceError(.forbidden, "仅限评审专家 / experts only") }
        let store = unscoped
        guard let a = try await store.application(id: id), let c = try await store.challenge(id: a.challengeId) else {
            throw ServiceError.notFound("申请不存在 / application not found")
        }
        guard try await store.reviews(applicationIDs: [id], expertID: me).first != nil else {
            throw ServiceError(.forbidden, "该申请未分配给您评审，不能打分 / this application is not assigned to you")
        }
        let total: Double
        do { total = try types.scoreSheet.total(scores) } catch { throw ServiceError.invalid(error.zh + " / " + error.en) }
        let note = comment.trimmingCharacters(in: .whitespacesAndNewlines)
        guard note.count <= Self.maxText else { throw ServiceError.invalid("评审意见过长 / the comment is too long") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(scores), as: UTF8.self)
        let actor = caller.actor, today = self.today
        try await store.db.transaction { db in
            let tx = Store(db)
            let open = try await tx.sql.update("challenges").set("version", to: SQLLiteral.numeric("version"))
                .where("id", .equal, c.id).where("state", .equal, "open").returning("id").all().count
            guard open == 1 else { throw ServiceError.conflict("榜单 \(c.ref) 已立项或已流榜，评分已锁定 / the challenge is decided; scores are locked") }
            try await tx.sql.update("challenge_reviews").set("scores", to: json).set("total", to: total).set("comment", to: SQLBind(note.nilIfEmpty))
                .set("scored_on", to: today.description).set("recorded_us", to: Store.nowMicros())
                .where("application_id", .equal, id).where("expert_id", .equal, me).run()
            try await tx.audit(actor: actor, action: "challenge.scored", target: "榜单 \(c.ref) 申请 \(id)", detail: "总分 \(formatNumber(total))")
        }
        return total
    }

    // MARK: 立项 and 兑现

    public struct Award: Sendable {
        public var application: Int64
        /// 军令状: what the winner pledges.
        public var pledge: String
        /// Planned dates of the milestones after 立项 (里程碑考核, 验收, 兑现).
        public var planned: [String]
        public var version: Int?
        public init(application: Int64, pledge: String, planned: [String], version: Int? = nil) {
            self.application = application; self.pledge = pledge; self.planned = planned; self.version = version
        }
    }

    /// Selects the winner (HQ), after the deadline, once every expert assigned to it has scored:
    /// in one transaction the challenge is claimed at its version, the winner's project is created
    /// (the milestones up to 立项 done today, the rest planned), the reward's tranches are set and
    /// the other applications are marked not selected. Returns the project's id.
    @discardableResult
    public func award(id: Int64, _ w: Award) async throws -> Int64 {
        try caller.require(.manageChallenges)
        let type = try challengeType()
        let store = unscoped
        guard let r = try await store.challenge(id: id) else { throw ServiceError.notFound("榜单不存在 / challenge not found") }
        if let v = w.version, v != r.version { throw ServiceError.conflict("榜单 \(r.ref) 已被他人更新，请刷新 / the challenge changed; reload it") }
        let today = self.today
        switch r.stage(on: today) {
        case .open: throw ServiceError.conflict("揭榜截止日期 \(r.deadline) 未到，不能遴选 / the deadline has not passed")
        case .awarded, .closed: throw ServiceError.conflict("榜单 \(r.ref) 已立项或已流榜 / the challenge is decided")
        case .reviewing: break
        }
        guard let app = try await store.application(id: w.application), app.challengeId == id else {
            throw ServiceError.invalid("请选择本榜单的一份申请 / choose an application of this challenge")
        }
        let reviews = try await store.reviews(applicationIDs: [app.id])
        guard !reviews.isEmpty else { throw ServiceError.conflict("\(app.enterprise) 的申请尚未分配专家评审 / no expert has reviewed it") }
        let missing = reviews.filter { $0.total == nil }.map(\.expert)
        guard missing.isEmpty else {
            throw ServiceError.conflict("\(missing.joined(separator: "、")) 尚未为 \(app.enterprise) 的申请打分 / experts have still to score it")
        }
        let pledge = w.pledge.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !pledge.isEmpty, pledge.count <= Self.maxText else { throw ServiceError.invalid("请填写军令状目标 / the pledge is required") }
        let k = type.milestones.firstIndex { $0.name == "立项" } ?? 0
        let later = Array(type.milestones.dropFirst(k + 1))
        guard w.planned.count == later.count else {
            throw ServiceError.invalid("请为\(later.map(\.name).joined(separator: "、"))填写计划完成日期 / one planned date per milestone after 立项")
        }
        var planned: [CalendarDate] = Array(repeating: today, count: k + 1)
        for (m, raw) in zip(later, w.planned) {
            guard let d = CaseHistory.parseDate(raw.trimmingCharacters(in: .whitespaces)) else {
                throw ServiceError.invalid("节点「\(m.name)」的计划完成日期「\(raw)」不是 YYYY-MM-DD 日期 / not a date")
            }
            planned.append(d)
        }
        let projects = services.projects
        let ref = try await projects.nextRef(type: type.key)
        var plan = ProjectPlan(ref: ref, name: r.title, type: type.key, mode: nil, town: r.town, leadUnit: r.leadUnit, targetMu: nil,
                               households: nil, start: today, milestones: ProjectPlan.milestones(of: type, planned: planned))
        for i in 0...k where i < plan.milestones.count { plan.milestones[i].done = today }
        if let problem = plan.problems(types: types, today: today).first { throw ServiceError.invalid(problem.zh + " / " + problem.en) }
        let status = projects.judge.status(of: plan, on: today)
        let newProject = Store.NewProject(plan: plan, parcelIDs: [], status: status, judgedOn: today,
                                          checkedMonth: projects.judge.checkedMonth(on: today))
        let amounts = ChallengeRules.amounts(reward: r.reward, tranches: types.tranches)
        let tranches = types.tranches
        let actor = caller.actor, now = Store.nowMicros()
        let detail = caller.detail("中榜：\(app.enterprise)（\(app.creditCode)），项目 \(ref)")
        let projectID: Int64 = try await store.db.transaction { db in
            let tx = Store(db)
            let claimed = try await tx.sql.update("challenges").set("version", to: SQLLiteral.numeric("version + 1"))
                .where("id", .equal, id).where("version", .equal, r.version).where("state", .equal, "open").returning("id").all().count
            guard claimed == 1 else { throw ServiceError.conflict("榜单 \(r.ref) 已被他人更新，本次未保存 / the challenge changed; nothing was saved") }
            try await tx.insertProjects([newProject], actor: actor,
                                        recordedUs: now, source: "揭榜挂帅 \(r.ref)")
            guard let pid = try await tx.projectIDs(refs: [ref])[ref] else { throw ServiceError(.unprocessable, "项目未能保存 / not stored") }
            try await tx.sql.update("challenges").set("state", to: "awarded").set("winner_id", to: app.id).set("winner_code", to: app.creditCode)
                .set("project_id", to: pid).set("pledge", to: pledge).where("id", .equal, id).run()
            try await tx.sql.update("challenge_applications").set("state", to: "lost").where("challenge_id", .equal, id).run()
            try await tx.sql.update("challenge_applications").set("state", to: "won").where("id", .equal, app.id).run()
            for (i, (t, amount)) in zip(tranches, amounts).enumerated() {
                try await tx.sql.insert(into: "challenge_tranches").columns("challenge_id", "seq", "milestone", "share", "amount")
                    .values(SQLBind(id), SQLBind(i + 1), SQLBind(t.milestone), SQLBind(t.share), SQLBind(amount)).run()
            }
            try await tx.recordProjectEvent(projectID: pid, kind: "awarded", date: today, actor: actor,
                                            detail: "揭榜挂帅 \(r.ref) 中榜：\(app.enterprise)；军令状：\(pledge.prefix(80))", recordedUs: now)
            try await tx.audit(actor: actor, action: "challenge.awarded", target: "榜单 \(r.ref)", detail: detail)
            return pid
        }
        _ = try await services.acting(as: .system(ProjectService.engineActor)).projects.supervise(on: today, only: [projectID])
        return projectID
    }

    /// Closes a challenge without a winner (流榜, HQ), after the deadline.
    public func close(id: Int64, reason: String) async throws {
        try caller.require(.manageChallenges)
        guard let r = try await unscoped.challenge(id: id) else { throw ServiceError.notFound("榜单不存在 / challenge not found") }
        guard r.stage(on: today) == .reviewing else {
            throw ServiceError.conflict("只有截止后、未立项的榜单可以流榜 / only a challenge past its deadline and not decided can be closed")
        }
        let why = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !why.isEmpty, why.count <= Self.maxText else { throw ServiceError.invalid("请填写流榜原因 / the reason is required") }
        let actor = caller.actor, detail = caller.detail(why)
        try await unscoped.db.transaction { db in
            let tx = Store(db)
            let n = try await tx.sql.update("challenges").set("state", to: "closed").set("pledge", to: why).set("version", to: SQLLiteral.numeric("version + 1"))
                .where("id", .equal, id).where("state", .equal, "open").returning("id").all().count
            guard n == 1 else { throw ServiceError.conflict("榜单 \(r.ref) 已被他人更新 / the challenge changed") }
            try await tx.sql.update("challenge_applications").set("state", to: "lost").where("challenge_id", .equal, id).run()
            try await tx.audit(actor: actor, action: "challenge.closed", target: "榜单 \(r.ref)", detail: detail)
        }
    }

    /// Pays a tranche of the reward (兑现, HQ), once its milestone of the winner's project is done.
    /// Paying the last one records the 兑现 milestone done, in the same transaction as the payment
    /// (the project claimed at its version, its history and verdict updated).
    public func pay(id: Int64, tranche seq: Int) async throws {
        try caller.require(.manageChallenges)
        let store = unscoped
        guard let r = try await store.challenge(id: id) else { throw ServiceError.notFound("榜单不存在 / challenge not found") }
        guard let pid = r.projectId, let project = try await store.project(id: pid) else {
            throw ServiceError.conflict("榜单 \(r.ref) 尚未立项 / the challenge has no winner yet")
        }
        let tranches = try await store.tranches(challengeID: id)
        guard let t = tranches.first(where: { $0.seq == seq }) else { throw ServiceError.notFound("没有第 \(seq) 笔奖励 / no such tranche") }
        guard t.paidOn == nil else { throw ServiceError.conflict("第 \(seq) 笔奖励已于 \(t.paidOn!) 兑现 / paid already") }
        let stones = try await store.milestones(projectIDs: [pid])[pid] ?? []
        guard stones.contains(where: { $0.name == t.milestone && $0.doneOn != nil }) else {
            throw ServiceError.conflict("节点「\(t.milestone)」尚未完成，第 \(seq) 笔奖励不能兑现 / its milestone is not done")
        }
        let last = tranches.allSatisfy { $0.seq == seq || $0.paidOn != nil }
        var changes: [ProjectService.MilestoneChange] = []
        if last, let s = stones.first(where: { $0.name == "兑现" && $0.doneOn == nil }) { changes.append(.init(seq: s.seq, done: today.description)) }
        let actor = caller.actor
        let what = "兑现第 \(seq) 笔奖励 \(formatNumber(t.amount)) 万元（\(t.milestone)，\(t.share)%）"
        _ = try await services.projects.change(project, version: nil, today: today, kind: "payment", before: { _ in }, milestones: changes,
                                               write: { tx, _, day in
            let n = try await tx.sql.update("challenge_tranches").set("paid_on", to: day.description).set("paid_by", to: actor)
                .where("challenge_id", .equal, id).where("seq", .equal, seq).where(SQLColumn("paid_on"), .is, SQLLiteral.null)
                .returning("seq").all().count
            guard n == 1 else { throw ServiceError.conflict("第 \(seq) 笔奖励已兑现 / paid already") }
            return what
        })
    }
}
