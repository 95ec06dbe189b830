import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The demo city (`mujun demo`, `make run`): its enterprises imported and evaluated, its
/// parcels assessed, one account per role, publication states, consents and four appeals at
/// different stages — so that a newcomer sees a living system. Runs as the system.
public struct DemoService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    /// A demo login, printed by `make run`.
    public struct Login: Sendable {
        public var login: String
        public var password: String
        public var role: Role
        public var note: String
    }

    /// Demo-only accounts (never use these passwords for real data).
    public static func accounts(city: DemoCity, evaluatedTown: String = "古山镇") -> [(login: String, name: String, unit: String, role: Role, town: String?, code: String?, password: String)] {
        let ent = city.enterprises.first { $0.town == evaluatedTown && $0.group == .above } ?? city.enterprises[0]
        return [
            ("admin", "系统管理员", "市大数据中心", .admin, nil, nil, "Admin#2025demo"),
            ("hq", "指挥部值班员", "五金产业转型升级指挥部", .headquarters, nil, nil, "Hq#2025demo"),
            ("tax", "税务局数据专员", "市税务局", .department, nil, nil, "Tax#2025demo"),
            ("gushan", "古山镇经发办", "古山镇人民政府", .town, "古山镇", nil, "Town#2025demo"),
            ("qiye", ent.name, ent.name, .enterprise, nil, ent.creditCode, "Ent#2025demo"),
            ("bank", "农商银行客户经理", "永康农商银行", .bank, nil, nil, "Bank#2025demo"),
            ("daibiao", "人大代表", "市人大代表", .requester, nil, nil, "Rep#2025demo"),
            ("zhuanjia", "王立新", "市科技专家库", .expert, nil, nil, "Expert#2025demo"),
            ("zhuanjia2", "陈慧", "市科技专家库", .expert, nil, nil, "Expert#2025demo"),
        ]
    }

    /// Loads the whole demo city: each year imported and evaluated, parcels and land use
    /// imported and assessed, then accounts, publication, consents and appeals. `progress`
    /// gets a line per stage.
    public func loadCity(_ city: DemoCity, years: [Int], today: Date = Date(), progress: (String) -> Void = { _ in }) async throws -> [Login] {
        guard caller.isSystem else { throw ServiceError(.forbidden, "仅限系统 / system only") }
        let yearList = years.sorted()
        guard let latest = yearList.last else { throw ServiceError.invalid("没有年度 / no years") }
        for y in yearList {
            let records = city.records(year: y, latestYear: latest)
            _ = try await services.ranking.importEnterprises(records, fileName: "demo-\(y)")
            let (run, outcome) = try await services.ranking.evaluate(year: y)
            let a = outcome.classCounts(.above), b = outcome.classCounts(.below)
            progress("\(y) 年度：\(records.count) 家企业，评价运行 #\(run.id)；规上 A\(a[.A] ?? 0)/B\(a[.B] ?? 0)/C\(a[.C] ?? 0)/D\(a[.D] ?? 0)，规下 A\(b[.A] ?? 0)/B\(b[.B] ?? 0)/C\(b[.C] ?? 0)/D\(b[.D] ?? 0)")
        }
        let land = DemoLand(city: city)
        try await services.land.importParcels(land.parcels, fileName: "demo-parcels")
        try await services.land.importLandUse(land.landUse, fileName: "demo-land-use")
        for y in yearList {
            let s = try await services.land.assess(year: y)
            progress("\(y) 年度地块：\(s.parcels) 个，低效 \(s.lowEfficiency) 个，低效地块连片 \(s.clusters) 片（集中连片整治候选 \(s.candidates) 片）")
        }
        let logins = try await loadPeople(city: city, years: yearList, today: today)
        let n = try await demoCases(city: city, year: latest, today: today)
        progress("督办事项：\(n.cases) 件、\(n.events) 条办理记录（相对今天生成，含超期黄牌、红牌）")
        let p = try await demoProjects(city: city, year: latest, today: today)
        progress("项目：\(p.projects) 个（整治、揭榜挂帅、城市更新），月报 \(p.reports) 份；滞后 \(p.late) 个，已自动交办项目督办 \(p.opened) 件")
        let c = try await demoChallenges(city: city, today: today)
        progress("揭榜挂帅：榜单 \(c.challenges) 个（揭榜中、评审中、已立项各一），揭榜申请 \(c.applications) 份，专家评分 \(c.scores) 份")
        let q = try await demoQuota(today: today)
        if q.entries > 0 {
            progress("全域土地综合整治：古山镇、方岩镇、舟山镇跨镇试点 1 个，子项目 3 个（立项、实施、验收各一），台账 \(q.entries) 笔（含调剂、冲正），调剂申请 \(q.transfers) 件（1 件待批）")
        }
        if try await unscoped.projectBulletins().isEmpty {
            let year = CalendarDate(ChinaDay.today(today))!.year
            _ = try await services.projects.issueBulletin(number: "项目通报〔\(year)〕1号", title: "项目推进情况通报")
            progress("项目推进通报：已发布 1 期（项目通报〔\(year)〕1号）")
        }
        return logins
    }

    /// The demo's cases (DemoCases), relative to `today`, imported as a handling history with the
    /// deputy's suggestions linked to the `daibiao` account and one 永商会客厅 request to `qiye`.
    func demoCases(city: DemoCity, year: Int, today: Date) async throws -> CaseService.ImportSummary {
        let store = unscoped
        // (the demo appeals filed before are cases too: only the configured types count here)
        let others = try await store.sql.raw("SELECT COUNT(*) AS n FROM cases WHERE type <> \(bind: CaseType.appeal.key)")
            .first(decodingColumn: "n", as: Int.self) ?? 0
        guard others == 0 else { return .init(cases: 0, events: 0, unchanged: 0) }
        struct P: Decodable { var parcel_id: String; var town: String }
        let parcels = try await store.sql.select().columns("parcel_id", "town").from("parcel_assessments")
            .where("year", .equal, year).where("low_efficiency", .equal, true).orderBy("parcel_id").limit(30)
            .all(decoding: P.self).map { (id: $0.parcel_id, town: $0.town) }
        var gen = DemoCases(today: CalendarDate(ChinaDay.today(today))!, seed: city.seed, parcels: parcels)
        let people = Self.accounts(city: city)
        if let deputy = people.first(where: { $0.role == .requester }) { gen.deputyName = deputy.name }
        if let ent = people.first(where: { $0.role == .enterprise }) { gen.enterpriseName = ent.name; gen.enterpriseCode = ent.code }
        let history = try CaseHistory(table: try CSVTable(data: Data(gen.historyCSV().utf8)), types: context.caseTypes, calendar: context.calendar)
        var links: [String: Int64] = [:]
        for a in people where a.role == .requester || a.role == .enterprise {
            if let u = try await store.user(login: a.login) { links[a.name] = u.id }
        }
        let summary = try await services.cases.importHistory(history, fileName: "demo-cases", requesterAccounts: links)
        try await demoCaseWork(gen, enterpriseName: gen.enterpriseName)
        // one bulletin issued: the year's suggestions as of today
        let day = CalendarDate(ChinaDay.today(today))!
        _ = try await services.cases.issue(number: "督办通报〔\(day.year)〕1号", title: "人大建议办理督导通报",
                                           from: CalendarDate(year: day.year - 1, month: 1, day: 1)!, to: day, asOf: day, type: "suggestion")
        return summary
    }

    /// The demo's projects (DemoProjects), relative to `today`: imported through the projects'
    /// importer, their monthly reports and households recorded, then the 滞后 check run (which
    /// opens the 督办 cases of the late ones).
    func demoProjects(city: DemoCity, year: Int, today: Date) async throws -> (projects: Int, reports: Int, late: Int, opened: Int) {
        let store = unscoped
        guard try await store.projects(scope: .all).isEmpty else { return (0, 0, 0, 0) }
        struct Row: Decodable { var cluster: Int; var parcel_id: String; var town: String; var area_mu: Double; var candidate: Bool }
        let rows = try await store.sql.raw("""
            SELECT a.cluster, a.parcel_id, a.town, p.area_mu, a.candidate FROM parcel_assessments a JOIN parcels p ON p.parcel_id = a.parcel_id
            WHERE a.year = \(bind: year) AND a.cluster IS NOT NULL
              AND (a.candidate = \(bind: true) OR a.town = \(bind: DemoProjects.focusTown))
            ORDER BY a.cluster, a.parcel_id
            """).all(decoding: Row.self)
        // the candidates, and the demo town's largest cluster of low-efficiency parcels (a candidate or not), so that its account has a project
        var clusters: [DemoProjects.Cluster] = []
        for (n, parts) in Dictionary(grouping: rows, by: \.cluster).sorted(by: { $0.key < $1.key }) {
            let town = Dictionary(grouping: parts, by: \.town).max { $0.value.count < $1.value.count }?.key ?? parts[0].town
            let own = parts.filter { $0.town == town }
            clusters.append(.init(number: n, town: town, areaMu: own.reduce(0) { $0 + $1.area_mu }, parcelIDs: own.map(\.parcel_id)))
        }
        let candidates = Set(rows.filter(\.candidate).map(\.cluster))
        let focus = clusters.filter { $0.town == DemoProjects.focusTown }.max { $0.areaMu < $1.areaMu }
        clusters = clusters.filter { candidates.contains($0.number) || $0.number == focus?.number }
        let day = CalendarDate(ChinaDay.today(today))!
        let demo = DemoProjects(today: day, seed: city.seed, clusters: clusters, towns: context.rules.towns, types: context.projectTypes,
                                calendar: context.calendar)
        _ = try await services.projects.importTables(projects: try CSVTable(data: Data(demo.projectsCSV.utf8)),
                                                     milestones: try CSVTable(data: Data(demo.milestonesCSV.utf8)), fileName: "demo-projects",
                                                     supervising: false)
        let ids = try await store.projectIDs(refs: demo.projects.map(\.ref))
        try await store.db.transaction { db in
            let tx = Store(db)
            for r in demo.reports {
                guard let id = ids[r.ref] else { continue }
                _ = try await tx.insertProjectReport(projectID: id, month: r.month, text: r.text, figures: [:], unit: r.unit, filedOn: r.filedOn,
                                                     by: "demo", photos: [])
                try await tx.recordProjectEvent(projectID: id, kind: "report", date: r.filedOn, actor: "demo",
                                                detail: "\(r.month.chinese)月报：\(r.text)", recordedUs: Store.nowMicros())
            }
            for (ref, h) in demo.households {
                guard let id = ids[ref] else { continue }
                try await tx.sql.update("projects").set("signed", to: h.signed).set("vacated", to: h.vacated).set("demolished", to: h.demolished)
                    .where("id", .equal, id).run()
            }
            for (ref, mu) in demo.freed {
                guard let id = ids[ref] else { continue }
                try await tx.sql.update("projects").set("freed_mu", to: mu).where("id", .equal, id).run()
            }
            // the demo's reports and figures went in beside the steps: the history records where they left the
            // projects, and their verdicts wait for the check below
            try await tx.snapshotProjects(ids: Array(ids.values), recordedUs: Store.nowMicros())
            try await tx.markVerdictsStale(ids: Array(ids.values))
        }
        let s = try await services.projects.supervise(on: day)
        _ = try await services.projects.importTargets(data: Data(demo.targetsCSV(year: day.year).utf8), fileName: "demo-targets")
        return (demo.projects.count, demo.reports.count, s.late, s.opened)
    }

    /// The cross-township pilot (全域土地综合整治: 古山镇, 方岩镇, 舟山镇), relative to `today`: a journal
    /// of acceptances, uses, transfers and a reversal loaded through the ledger (every rule checked;
    /// the basic farmland exactly at its 5 % margin, 古山镇's new farmland used to the last mu), then
    /// one transfer requested and approved and one left awaiting HQ; and three sub-projects (projects
    /// of the projects engine) at 立项, 实施 and 验收 — the last one's quotas credited today.
    func demoQuota(today: Date) async throws -> (entries: Int, transfers: Int) {
        let pilot = ["古山镇", "方岩镇", "舟山镇"]
        guard try await unscoped.quotaProjects().isEmpty, pilot.allSatisfy(context.rules.towns.contains) else { return (0, 0) }
        let day = CalendarDate(ChinaDay.today(today))!
        let start = CalendarDate(year: day.year - 1, month: 1, day: 1)!
        let id = try await services.quota.createProject(name: "古山·方岩·舟山全域土地综合整治试点", towns: pilot, start: start.description)
        let rows: [(String, String, String, String, String, String, String, String)] = [
            // action, town, to_town, quota, amount, grade, reverses, note
            ("入账", "古山镇", "", "新增耕地", "120", "6", "", "古山镇农用地整理一期验收"),
            ("入账", "舟山镇", "", "新增耕地", "85.5", "5", "", "舟山镇高标准农田建设验收"),
            ("入账", "方岩镇", "", "建设用地复垦", "46.25", "", "", "方岩镇建设用地复垦（增减挂钩）验收"),
            ("入账", "舟山镇", "", "建设用地复垦", "38", "", "", "舟山镇废弃工矿用地复垦验收"),
            ("入账", "古山镇", "", "永久基本农田", "63", "", "", "永久基本农田补划（先补后调）"),
            ("使用", "古山镇", "", "永久基本农田", "60", "", "", "古山五金产业园调出永久基本农田"),
            ("使用", "古山镇", "", "新增耕地", "90", "6", "", "古山五金产业园一期占用耕地"),
            ("调剂", "舟山镇", "古山镇", "新增耕地", "40", "", "", "跨镇调剂：舟山镇新增耕地支持古山镇产业用地"),
            ("使用", "古山镇", "", "新增耕地", "70", "6", "", "古山五金产业园二期占用耕地"),
            ("调剂", "方岩镇", "古山镇", "建设用地复垦", "20", "", "", "跨镇调剂：方岩镇节余指标支持古山镇"),
            ("使用", "古山镇", "", "建设用地复垦", "18.5", "", "", "供地：古山镇五金智造园"),
            ("入账", "方岩镇", "", "新增耕地", "30", "7", "", "方岩镇农用地整理验收"),
            ("冲正", "", "", "", "", "", "12", "验收面积复核后更正"),
            ("入账", "方岩镇", "", "新增耕地", "28.6", "7", "", "方岩镇农用地整理验收（复核后）"),
            ("使用", "舟山镇", "", "建设用地复垦", "30", "", "", "供地：舟山镇先进装备产业园"),
        ]
        var csv = "序号,日期,动作,镇街,调入镇街,指标类型,数量(亩),等别,冲正序号,说明\n"
        for (i, r) in rows.enumerated() {
            csv += "\(i + 1),\(start.adding(days: 20 * (i + 1))),\(r.0),\(r.1),\(r.2),\(r.3),\(r.4),\(r.5),\(r.6),\(r.7)\n"
        }
        let journal = try QuotaJournal(table: try CSVTable(data: Data(csv.utf8)))
        let n = try await services.quota.load(id: id, journal: journal, fileName: "demo-quota")
        let approved = try await services.quota.requestTransfer(id: id, .init(from: "方岩镇", to: "舟山镇", quota: "建设用地复垦", amount: "5",
                                                                                reason: "舟山镇先进装备产业园二期供地"))
        try await services.quota.decide(transfer: approved, approve: true, note: "同意，按程序调剂")
        _ = try await services.quota.requestTransfer(id: id, .init(from: "舟山镇", to: "方岩镇", quota: "建设用地复垦", amount: "13",
                                                                   reason: "舟山镇节余指标调剂方岩镇工业用地"))
        // sub-projects, projects of the projects engine, one at each status: 立项, 实施, 验收 (credited today)
        var credited = 0
        // each sub-project on two of its town's parcels (the battle map's 项目状态 layer shows them)
        func parcels(_ town: String) async throws -> [String] {
            try await unscoped.sql.select().column("parcel_id").from("parcels").where("town", .equal, town)
                .where(SQLColumn("parcel_id"), .notIn, SQLGroupExpression(SQLRaw("SELECT parcel_id FROM project_parcels")))
                .orderBy("parcel_id").limit(2).all(decodingColumn: "parcel_id", as: String.self)
        }
        for (i, (town, mode, nf, rc, bf, grade)) in [("古山镇", "农用地整理", "20", "", "", "6"), ("方岩镇", "建设用地复垦", "", "15", "", ""),
                                                     ("舟山镇", "农用地整理", "12.5", "", "3", "5")].enumerated() {
            let pid = try await services.projects.create(.init(ref: "", name: "\(town)全域整治\(mode)子项目", type: "consolidation", mode: mode, town: town,
                                                                leadUnit: "自然资源和规划局", targetMu: nil, parcelIDs: try await parcels(town), households: nil, start: day.description,
                                                                planned: [day.adding(days: 10), day.adding(days: 90), day.adding(days: 150)].map(\.description)))
            let sid = try await services.quota.addSubProject(id: id, .init(projectID: pid, newFarmland: nf, reclaimed: rc, basic: bf, grade: grade))
            if i >= 1 { try await services.quota.startSubProject(sid) }
            if i == 2 { credited = try await services.quota.acceptSubProject(sid).count }
        }
        return (n + 1 + credited, 2)
    }

    /// Three challenges (揭榜挂帅) at different stages, relative to `today`, through the service's
    /// own steps: one taking applications (one from a consortium; `qiye` has not applied, so it
    /// can), one past its deadline under review (experts assigned, one sheet still to fill), one
    /// awarded to `qiye` with its project and the first tranche of the reward paid.
    func demoChallenges(city: DemoCity, today: Date) async throws -> (challenges: Int, applications: Int, scores: Int) {
        let store = unscoped
        guard try await store.challenges().isEmpty, context.projectTypes.challenge != nil else { return (0, 0, 0) }
        let day = CalendarDate(ChinaDay.today(today))!
        let people = Self.accounts(city: city)
        guard let qiye = people.first(where: { $0.role == .enterprise }), let qiyeCode = qiye.code else { return (0, 0, 0) }
        let others = city.enterprises.filter { $0.group == .above && $0.creditCode != qiyeCode }.prefix(5).map { ($0.creditCode, $0.name) }
        guard others.count == 5 else { return (0, 0, 0) }
        func enterprise(_ code: String, _ name: String) -> ChallengeService {
            services.acting(as: .user(Principal(userID: 0, login: "demo-\(code.suffix(6))", displayName: name, role: .enterprise, creditCode: code))).challenges
        }
        var experts: [(id: Int64, principal: Principal)] = []
        for login in ["zhuanjia", "zhuanjia2"] {
            if let u = try await store.user(login: login), let p = u.principal { experts.append((u.id, p)) }
        }
        let hq = services.challenges
        let towns = context.rules.towns
        let town = towns.contains("古山镇") ? "古山镇" : towns[0]
        var applications = 0, scores = 0
        // 1. 揭榜中
        let open = try await hq.publish(.init(title: "高端五金精密锻造近净成形工艺攻关",
                                              problem: "五金工具锻件余量大、材料利用率不足 60%，需攻克精密锻造近净成形及模具寿命关键技术，材料利用率提升到 85% 以上。",
                                              reward: 300, deadline: day.adding(days: 25).description,
                                              eligibility: "本市注册的规上工业企业，近三年研发投入占营收 3% 以上；可联合高校、科研院所揭榜。",
                                              consortium: true, town: town, leadUnit: "科技局"), on: day.adding(days: -20))
        _ = try await enterprise(others[0].0, others[0].1).apply(id: open, .init(
            plan: "联合浙江工业大学开发多工位温锻工艺与模具表面强化技术，12 个月完成中试，18 个月量产。", contact: "周工 0579-8721xxxx",
            partners: [others[4].0]), on: day.adding(days: -6))
        applications += 1
        // 2. 评审遴选: past its deadline, three applications, the experts' sheets partly in
        let review = try await hq.publish(.init(title: "电动工具无刷电机能效提升",
                                                problem: "电动工具用无刷电机效率 82%，需提升到 90% 以上并降低温升，形成自主控制器方案。",
                                                reward: 200, deadline: day.adding(days: -10).description,
                                                eligibility: "本市电动工具及电机企业。", consortium: false, town: town, leadUnit: "经信局"),
                                          on: day.adding(days: -70))
        var reviewApps: [Int64] = []
        for (i, (code, name)) in ([(qiyeCode, qiye.name)] + Array(others[1...2])).enumerated() {
            reviewApps.append(try await enterprise(code, name).apply(id: review, .init(
                plan: ["自研 FOC 矢量控制器与扁线绕组方案，样机效率 90.5%。", "采用高性能钕铁硼转子与低损耗硅钢片，配套散热结构优化。",
                       "与电机厂共建测试平台，分阶段优化电磁设计。"][i], contact: "技术中心 0579-8700000\(i)"), on: day.adding(days: -30 + i * 5)))
        }
        applications += reviewApps.count
        let sheets: [[String: Double]] = [["tech": 27, "team": 17, "plan": 17, "funds": 13, "impact": 13],
                                          ["tech": 23, "team": 15, "plan": 16, "funds": 12, "impact": 11],
                                          ["tech": 20, "team": 14, "plan": 14, "funds": 10, "impact": 10]]
        if !experts.isEmpty {
            try await hq.assign(id: review, experts: experts.map(\.id), applications: nil)
            let first = services.acting(as: .user(experts[0].principal)).challenges
            for (a, s) in zip(reviewApps, sheets) { try await first.score(application: a, s, comment: "方案可行，指标明确。"); scores += 1 }
            if experts.count > 1 {
                try await services.acting(as: .user(experts[1].principal)).challenges.score(application: reviewApps[1], sheets[0], comment: "")
                scores += 1
            }
        }
        // 3. 已立项: awarded to qiye, the first tranche paid
        let won = try await hq.publish(.init(title: "不锈钢保温杯真空封口工艺节能改造",
                                             problem: "真空封口炉能耗高、良品率 93%，需开发无尾真空钎焊工艺，能耗下降 30%，良品率 98% 以上。",
                                             reward: 150, deadline: day.adding(days: -40).description,
                                             eligibility: "本市杯壶类规上企业。", consortium: true, town: town, leadUnit: "科技局"),
                                       on: day.adding(days: -100))
        let winner = try await enterprise(qiyeCode, qiye.name).apply(id: won, .init(plan: "无尾真空钎焊连续炉与在线检漏系统。", contact: "生产部 0579-87000010"),
                                                                     on: day.adding(days: -60))
        let second = try await enterprise(others[3].0, others[3].1).apply(id: won, .init(plan: "改造现有封口炉温控系统。", contact: "0579-87000011"),
                                                                         on: day.adding(days: -50))
        applications += 2
        if !experts.isEmpty {
            try await hq.assign(id: won, experts: [experts[0].id], applications: nil)
            let first = services.acting(as: .user(experts[0].principal)).challenges
            try await first.score(application: winner, sheets[0], comment: "工艺路线清晰。")
            try await first.score(application: second, sheets[2], comment: "改造幅度有限。")
            scores += 2
            try await hq.award(id: won, .init(application: winner, pledge: "12 个月内能耗下降 30%、良品率 98% 以上，形成发明专利 2 项。",
                                              planned: [day.adding(months: 6).description, day.adding(months: 12).description,
                                                        day.adding(months: 13).description]))
            try await hq.pay(id: won, tranche: 1)
        }
        return (3, applications, scores)
    }

    /// What the demo records beside the steps: the 永商会客厅 evening as a meeting whose items are
    /// its 14 requests, follow-up reports owed by the B/C replies of suggestions and proposals
    /// (some already late), the three ones of some suggestions, co-unit opinions and one extension
    /// request awaiting the headquarters.
    func demoCaseWork(_ gen: DemoCases, enterpriseName: String?) async throws {
        let store = unscoped
        let evening = gen.yongshangEvening
        let now = Store.nowMicros()
        let attendees = (1...14).map { $0 == 1 && enterpriseName != nil ? enterpriseName! : "企业家\($0)" }
        let all = try await store.cases(scope: .all)
        let cal = context.calendar, types = context.caseTypes
        let today = gen.today
        try await store.db.transaction { db in
            let tx = Store(db)
            let meeting = try await tx.insertMeeting(kind: MeetingKind.yongshang.rawValue, title: "永商会客厅（第\(evening.month)月专场）",
                                                     heldOn: evening.description, place: "市民中心二楼会客厅", chair: "市长",
                                                     attendees: attendees + ["市经济和信息化局", "市自然资源和规划局", "市住房和城乡建设局"],
                                                     notes: "14 位企业家现场提出诉求，逐一回应并当场交办。", createdBy: "demo", recordedUs: now)
            try await tx.sql.update("cases").set("meeting_id", to: meeting).where("type", .equal, "enterprise_request")
                .where("ref", .like, "%-QY%").run()
            var notes = 0, extensionAsked = false
            for r in all {
                guard let type = types.type(named: r.type) else { continue }
                // 续报: B and C replies owe one six months after the reply, until resolved
                if let c = r.category, type.followUpCategories.contains(c), let replied = r.firstReplyOn.flatMap(CalendarDate.init) {
                    let period = type.followUp ?? .months(6)
                    var due = period.due(from: replied, calendar: cal)
                    // half of the units reported on time (a 续报 on the day it was owed), the rest are late
                    while due < today, r.id % 2 == 0 {
                        _ = try await tx.insertNote(caseID: r.id, kind: CaseNoteKind.followup.rawValue, date: due.description, unit: r.leadUnit ?? "",
                                                    actor: "demo", text: "续报：相关工作正在推进", due: period.due(from: due, calendar: cal).description,
                                                    recordedUs: now)
                        due = period.due(from: due, calendar: cal)
                    }
                    try await tx.sql.update("cases").set("follow_up_due", to: due.description).where("id", .equal, r.id).run()
                }
                // the three ones of some suggestions, a co-unit's opinion on some open cases
                if CaseService.hasThreeOnes(type), let accepted = r.acceptedOn, r.id % 3 == 0 {
                    for (i, k) in CaseNoteKind.threeOnes.enumerated() where i == 0 || r.state != "handling" {
                        _ = try await tx.insertNote(caseID: r.id, kind: k.rawValue, date: accepted, unit: r.leadUnit ?? "", actor: "demo",
                                                    text: ["向代表委员当面报到", "赴现场察看", "邀请代表委员回访"][i], due: nil, head: r.id % 2 == 0,
                                                    recordedUs: now)
                        notes += 1
                    }
                }
                if let co = r.coUnitList.first, let accepted = r.acceptedOn, r.id % 4 == 0 {
                    _ = try await tx.insertNote(caseID: r.id, kind: CaseNoteKind.opinion.rawValue, date: accepted, unit: co, actor: "demo",
                                                text: "建议结合\(co)辖区实际一并研究解决", due: nil, recordedUs: now)
                    notes += 1
                }
                if !extensionAsked, r.type == "suggestion", r.state == "handling", let due = r.replyDue.flatMap(CalendarDate.init) {
                    var loop = CaseLoop(type: type)
                    for e in try await tx.loopEvents(caseID: r.id) { if let ev = e.event { try? loop.apply(ev, calendar: cal) } }
                    let asked = due.adding(days: 30)
                    var trial = loop
                    if (try? trial.apply(CaseEvent(.extend, max(due, CalendarDate(r.lastEventOn)!), due: asked), calendar: cal)) != nil {
                        _ = try await tx.insertNote(caseID: r.id, kind: CaseNoteKind.extension.rawValue, date: r.lastEventOn, unit: r.leadUnit ?? "",
                                                    actor: "demo", text: "涉及跨部门协调，需待省级部门批复", due: asked.description,
                                                    decision: "pending", recordedUs: now)
                        extensionAsked = true
                    }
                }
            }
            try await tx.audit(actor: "demo", action: "meeting.created", target: "永商会客厅 \(evening)", detail: "演示数据：14 项诉求、\(notes) 条办理记录")
        }
    }

    /// Creates the accounts (skipping existing ones), publishes earlier years as final and the
    /// latest year into a publicity period around today, records consents of about two
    /// thirds of the enterprises, and files the demo appeals. Returns the logins to print.
    /// `appeals: false` leaves the appeals out (a database of an older release is given its
    /// appeals the way that release stored them).
    public func loadPeople(city: DemoCity, years: [Int], today: Date = Date(), appeals: Bool = true) async throws -> [Login] {
        guard caller.isSystem else { throw ServiceError(.forbidden, "仅限系统 / system only") }
        var logins: [Login] = []
        let store = unscoped
        for a in Self.accounts(city: city) {
            if try await store.user(login: a.login) == nil {
                _ = try await services.accounts.createUser(.init(login: a.login, displayName: a.name, unit: a.unit, role: a.role,
                                                                 town: a.town, creditCode: a.code, password: a.password,
                                                                 mustChangePassword: false))
            }
            let note = [a.unit, a.town, a.code].compactMap { $0 }.joined(separator: "，")
            logins.append(Login(login: a.login, password: a.password, role: a.role, note: note))
        }
        let sorted = years.sorted()
        let publication = services.publication
        for y in sorted.dropLast() where try await store.publication(year: y).status != .final {
            try await publication.change(year: y, .publicity(start: "\(y + 1)-04-01", end: "\(y + 1)-04-10"))
            try await publication.change(year: y, .final)
        }
        if let last = sorted.last, try await store.publication(year: last).status == .draft {
            try await publication.change(year: last, .publicity(start: ChinaDay.today(today.addingTimeInterval(-3 * 86400)),
                                                                end: ChinaDay.today(today.addingTimeInterval(7 * 86400))))
        }
        var rng = SeededRandom(seed: city.seed &+ 77)
        for chunk in city.enterprises.filter({ _ in rng.chance(0.65) }).chunked(1000) {
            let rows: [[any SQLExpression]] = chunk.map { [SQLBind($0.creditCode), SQLBind(true), SQLBind("demo"), SQLBind(today)] }
            try await store.sql.insert(into: "consents").columns("credit_code", "consent", "updated_by", "updated_at").rows(rows)
                .onConflict(with: ["credit_code"]) { $0.set(excludedValueOf: "consent") }.run()
        }
        if appeals, let last = sorted.last, try await store.appeals(year: last, scope: .all).isEmpty {
            try await demoAppeals(city: city, year: last)
        }
        return logins
    }

    /// Four appeals of 古山镇 enterprises in the latest year, one per stage of the loop:
    /// upheld and replied (the demo enterprise `qiye` can rate it), rejected and closed with a
    /// rating, accepted, and just filed (also `qiye`). Filed through the appeal service as
    /// the enterprises themselves, so that they pass the same checks as real ones.
    func demoAppeals(city: DemoCity, year: Int) async throws {
        let town = "古山镇"
        guard let qiye = Self.accounts(city: city, evaluatedTown: town).first(where: { $0.login == "qiye" })?.code else { return }
        let store = unscoped
        let records = try await store.records(year: year).filter { $0.town == town && ($0.landMu ?? 0) > 0 }
        let evaluated = Set(try await store.fullResults(.init(year: year, town: town)).filter(\.evaluated).map(\.creditCode))
        let candidates = records.filter { evaluated.contains($0.creditCode) }
        guard let own = candidates.first(where: { $0.creditCode == qiye }) else { return }
        let others = candidates.filter { $0.creditCode != qiye }
        guard let second = others.first(where: { $0.tax != nil }),
              let third = others.last(where: { $0.energyTce != nil && $0.creditCode != second.creditCode }) else { return }
        func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }
        func as_(_ code: String, login: String) -> AppealService {
            services.acting(as: .user(Principal(userID: 0, login: login, displayName: login, role: .enterprise, creditCode: code))).appeals
        }
        let hq = services.acting(as: .user(Principal(userID: 0, login: "hq", displayName: "hq", role: .headquarters))).appeals
        // a minimal one-page PDF standing in for the certificate
        let pdf = Data("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".utf8)

        // 1. qiye: land area, upheld → corrected and re-evaluated, replied (waits for its rating)
        let land = own.landMu ?? 0
        let claimedLand = round1(land * 0.85)
        let upheld = try await as_(own.creditCode, login: "qiye").file(.init(
            year: year, field: AppealField.landMu.rawValue, claimedValue: formatNumber(claimedLand),
            reason: "本企业东侧约 \(formatNumber(round1(land - claimedLand))) 亩厂房已于上年度退还园区，不动产权证书已变更，请按变更后的登记面积计算用地面积。",
            attachment: UploadedFile(filename: "不动产权证书（变更后）.pdf", data: pdf)))
        try await hq.accept(id: upheld, note: "已签收，转自然资源和规划局核对不动产登记信息")
        try await hq.decide(id: upheld, outcome: .upheld,
                            answer: "经自然资源和规划局核对，企业东侧厂房已退还园区并完成不动产登记变更，支持申诉，用地面积按变更后的登记面积计算。",
                            corrected: formatNumber(claimedLand))

        // 2. another enterprise: tax, rejected, rated and closed
        let tax = second.tax ?? 0
        let secondAppeals = as_(second.creditCode, login: "demo")
        let rejected = try await secondAppeals.file(.init(
            year: year, field: AppealField.tax.rawValue, claimedValue: formatNumber(round1(tax * 1.2 + 10)),
            reason: "本年度部分税款由集团总部汇总缴纳，应计入本企业评价税收。", attachment: nil))
        try await hq.accept(id: rejected, note: nil)
        try await hq.decide(id: rejected, outcome: .rejected,
                            answer: "经市税务局核实，总部汇总缴纳的税款按规定计入总部所在地企业，不计入本企业评价税收，驳回申诉。", corrected: nil)
        try await secondAppeals.rate(id: rejected, rating: 3)

        // 3. a third enterprise: energy use, accepted and being checked
        let energy = third.energyTce ?? 0
        let accepted = try await as_(third.creditCode, login: "demo").file(.init(
            year: year, field: AppealField.energyTce.rawValue, claimedValue: formatNumber(round1(energy * 0.8)),
            reason: "能耗数据误将同一园区内另一企业的天然气用量计入本企业，请核减。", attachment: nil))
        try await hq.accept(id: accepted, note: "已签收，请发改局核对能耗在线监测数据")

        // 4. qiye: employees, just filed
        let employees = own.employees ?? 0
        _ = try await as_(own.creditCode, login: "qiye").file(.init(
            year: year, field: AppealField.employees.rawValue, claimedValue: formatNumber((employees + 12).rounded()),
            reason: "年平均职工人数漏报了 12 名劳务派遣人员，社保缴纳记录可证明。", attachment: nil))
    }

    /// The lines `make run` prints.
    public static func describe(_ logins: [Login], url: String = "http://127.0.0.1:8080") -> String {
        var lines = ["亩均 Mujun 演示账号（仅用于演示数据）/ demo logins — \(url)"]
        for l in logins {
            lines.append("  \(l.role.chinese.padding(toLength: 6, withPad: "　", startingAt: 0)) 用户名 \(l.login.padding(toLength: 9, withPad: " ", startingAt: 0)) 密码 \(l.password)   \(l.note)")
        }
        return lines.joined(separator: "\n")
    }
}
