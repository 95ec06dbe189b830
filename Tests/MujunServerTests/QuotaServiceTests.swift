import Foundation
import Testing
import Vapor
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// The quota ledger in the database (issue 11): who sees and posts what, every refusal naming
/// its rule and figures with nothing written, transfers requested and approved, balances at a
/// date equal to the journal's sums and to the standalone replay, a journal file loaded all or
/// nothing, and two postings at the same moment that together would break rule 5: exactly one
/// accepted. On SQLite, and on PostgreSQL in `make test-postgres`.
@Suite("Quota ledger: postings, transfers, balances, concurrency", .serialized)
struct QuotaServiceTests {
    static let towns = ["古山镇", "方岩镇", "舟山镇"]

    static func caller(_ login: String, _ role: Role, unit: String = "", town: String? = nil) -> Caller {
        .user(Principal(userID: Int64(abs(login.hashValue % 100_000)) + 10, login: login, displayName: login, role: role, unit: unit, town: town))
    }
    static let hq = caller("hq", .headquarters, unit: "指挥部")
    static let zhoushan = caller("zs", .town, unit: "舟山镇", town: "舟山镇")
    static let gushan = caller("gs", .town, unit: "古山镇", town: "古山镇")
    static let shizhu = caller("sz", .town, unit: "石柱镇", town: "石柱镇")
    static let ziran = caller("zr", .department, unit: "自然资源和规划局")
    static let jingxin = caller("jx", .department, unit: "经信局")

    static func project(_ app: Application) async throws -> Int64 {
        try await app.services(hq).quota.createProject(name: "古山·方岩·舟山全域土地综合整治", towns: towns, start: "2025-01-01")
    }

    static func count(_ app: Application, _ table: String) async throws -> Int {
        try await app.store.sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first(decodingColumn: "n", as: Int.self) ?? -1
    }

    static func line(_ lines: [QuotaService.Line], _ town: String, _ q: QuotaType) -> QuotaLedger.Balance {
        lines.first { $0.town == town && $0.quota == q }!.balance
    }

    @Test("who sees and posts: HQ all, a pilot town its project and its own town, natural resources reads, other towns and departments nothing")
    func scope() async throws {
        try await TestApp.with { app in
            let id = try await Self.project(app)
            await CaseServiceTests.expectRefusal(.forbidden) { _ = try await app.services(Self.zhoushan).quota.createProject(name: "x", towns: Self.towns, start: "2025-01-01") }
            #expect(try await app.services(Self.zhoushan).quota.projects().map(\.id) == [id])
            #expect(try await app.services(Self.ziran).quota.projects().map(\.id) == [id])
            #expect(try await app.services(Self.shizhu).quota.projects().isEmpty)
            #expect(try await app.services(Self.jingxin).quota.projects().isEmpty)
            await CaseServiceTests.expectRefusal(.notFound) { _ = try await app.services(Self.shizhu).quota.balances(id: id) }
            await CaseServiceTests.expectRefusal(.forbidden) {
                try await app.services(Self.ziran).quota.post(id: id, .init(action: "credit", town: "舟山镇", quota: "新增耕地", amount: "1", grade: "5"))
            }
            // a town posts for its own town only
            await CaseServiceTests.expectRefusal(.forbidden, "本镇") {
                try await app.services(Self.zhoushan).quota.post(id: id, .init(action: "credit", town: "古山镇", quota: "新增耕地", amount: "1", grade: "5"))
            }
            let e = try await app.services(Self.zhoushan).quota.post(id: id, .init(action: "credit", town: "舟山镇", quota: "新增耕地", amount: "12.5", grade: "6", note: "验收"))
            #expect(e.seq == 1 && e.units == 125_000 && e.grade == 6)
            // and reverses its own entries only
            await CaseServiceTests.expectRefusal(.forbidden) {
                try await app.services(Self.gushan).quota.post(id: id, .init(action: "reverse", reverses: "1", note: "错"))
            }
            await CaseServiceTests.expectRefusal(.invalid, "火星镇") { _ = try await app.services(Self.hq).quota.createProject(name: "y", towns: ["古山镇", "火星镇"], start: "2025-01-01") }
        }
    }

    @Test("a refused posting names its rule and figures and writes nothing: no entry, the same balances, no audit entry")
    func refusals() async throws {
        try await TestApp.with { app in
            let id = try await Self.project(app)
            let zs = app.services(Self.zhoushan).quota
            try await zs.post(id: id, .init(action: "credit", town: "舟山镇", quota: "new_farmland", amount: "12.5", grade: "6"))
            let audits = try await Self.count(app, "audit_log")
            await CaseServiceTests.expectRefusal(.unprocessable, "舟山镇 新增耕地 余额 12.5000 亩，本次使用 12.5001 亩") {
                try await zs.post(id: id, .init(action: "use", town: "舟山镇", quota: "新增耕地", amount: "12.5001", grade: "6"))
            }
            await CaseServiceTests.expectRefusal(.unprocessable, "规则7") {
                // a use of better land (grade 5) than the farmland credited (grade 6): quality would fall
                try await zs.post(id: id, .init(action: "use", town: "舟山镇", quota: "新增耕地", amount: "1", grade: "5"))
            }
            await CaseServiceTests.expectRefusal(.unprocessable, "规则6") {
                try await zs.post(id: id, .init(action: "use", town: "舟山镇", quota: "永久基本农田", amount: "1"))
            }
            await CaseServiceTests.expectRefusal(.invalid) {
                try await zs.post(id: id, .init(action: "use", town: "舟山镇", quota: "新增耕地", amount: "十亩", grade: "6"))
            }
            await CaseServiceTests.expectRefusal(.unprocessable, "规则4") {
                try await zs.post(id: id, .init(action: "credit", town: "舟山镇", quota: "新增耕地", amount: "1", grade: "6", date: "2024-12-31"))
            }
            #expect(try await Self.count(app, "quota_entries") == 1)
            #expect(try await Self.count(app, "audit_log") == audits)
            let b = try await zs.balances(id: id)
            #expect(Self.line(b, "舟山镇", .newFarmland).balance == 125_000)
            // exactly the balance is accepted
            try await zs.post(id: id, .init(action: "use", town: "舟山镇", quota: "新增耕地", amount: "12.5", grade: "6"))
            #expect(Self.line(try await zs.balances(id: id), "舟山镇", .newFarmland).balance == 0)
        }
    }

    @Test("a transfer: requested by a town from its own balance, checked then; approved by HQ it posts both sides as one entry; decided once")
    func transfers() async throws {
        try await TestApp.with { app in
            let id = try await Self.project(app)
            let zs = app.services(Self.zhoushan).quota, hq = app.services(Self.hq).quota
            try await zs.post(id: id, .init(action: "credit", town: "舟山镇", quota: "reclaimed_construction", amount: "7"))
            await CaseServiceTests.expectRefusal(.forbidden) {
                _ = try await app.services(Self.gushan).quota.requestTransfer(id: id, .init(from: "舟山镇", to: "古山镇", quota: "建设用地复垦", amount: "1", reason: "x"))
            }
            await CaseServiceTests.expectRefusal(.unprocessable, "规则5") {
                _ = try await zs.requestTransfer(id: id, .init(from: "舟山镇", to: "古山镇", quota: "建设用地复垦", amount: "7.0001", reason: "产业用地"))
            }
            await CaseServiceTests.expectRefusal(.unprocessable, "规则3") {
                _ = try await zs.requestTransfer(id: id, .init(from: "舟山镇", to: "古山镇", quota: "永久基本农田", amount: "1", reason: "x"))
            }
            let t = try await zs.requestTransfer(id: id, .init(from: "舟山镇", to: "古山镇", quota: "建设用地复垦", amount: "5", reason: "古山五金园区供地"))
            #expect(try await Self.count(app, "quota_entries") == 1, "a request posts nothing")
            await CaseServiceTests.expectRefusal(.forbidden) { try await zs.decide(transfer: t, approve: true) }
            let done = try await hq.decide(transfer: t, approve: true)
            #expect(done.state == "approved" && done.entrySeq == 2)
            let b = try await hq.balances(id: id)
            #expect(Self.line(b, "舟山镇", .reclaimedConstruction).balance == 20_000 && Self.line(b, "舟山镇", .reclaimedConstruction).transferredOut == 50_000)
            #expect(Self.line(b, "古山镇", .reclaimedConstruction).transferredIn == 50_000)
            let j = try await hq.journal(id: id, .init(town: "古山镇"))
            #expect(j.count == 1 && j[0].transferId == t && j[0].action == "transfer")
            await CaseServiceTests.expectRefusal(.conflict) { try await hq.decide(transfer: t, approve: false, note: "重复") }
            // a second request that no longer fits when HQ approves it: refused by the rule then, still open
            let t2 = try await zs.requestTransfer(id: id, .init(from: "舟山镇", to: "方岩镇", quota: "建设用地复垦", amount: "2", reason: "甲"))
            try await zs.post(id: id, .init(action: "use", town: "舟山镇", quota: "建设用地复垦", amount: "1", note: "供地"))
            await CaseServiceTests.expectRefusal(.unprocessable, "规则5") { try await hq.decide(transfer: t2, approve: true) }
            #expect(try await hq.transfers(id: id).first { $0.id == t2 }?.state == "requested")
            await CaseServiceTests.expectRefusal(.invalid) { try await hq.decide(transfer: t2, approve: false) }
            #expect(try await hq.decide(transfer: t2, approve: false, note: "余额不足").state == "rejected")
            // a reversal of the transfer undoes both sides
            try await hq.post(id: id, .init(action: "reverse", reverses: "2", note: "调剂撤回"))
            let after = try await hq.balances(id: id)
            #expect(Self.line(after, "古山镇", .reclaimedConstruction).balance == 0 && Self.line(after, "舟山镇", .reclaimedConstruction).balance == 60_000)
            #expect(try await app.store.quotaEntry(projectID: id, seq: 2)?.reversedBy == 4)
        }
    }

    static var repo: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    @Test("a journal file loads all or nothing (every refused row named); loaded, the balances at every date equal the standalone replay's and the stored state")
    func loadAndReplay() async throws {
        try await TestApp.with { app in
            let id = try await Self.project(app)
            let file = Self.repo.appendingPathComponent("bench/quota/testdata/small-journal.csv")
            let journal = try QuotaJournal(table: try TableReader.open(url: file))
            let project = try await app.store.quotaProject(id: id)!.project
            let replay = QuotaReplay(project: project, postings: journal.postings)
            #expect(!replay.refused.isEmpty)
            do {
                _ = try await app.services(Self.hq).quota.load(id: id, journal: journal, fileName: "small-journal.csv")
                Issue.record("not refused")
            } catch let f as ImportFailure {
                #expect(f.errors.map(\.row) == replay.refused.map(\.row), "every refused row named")
                #expect(f.errors.first?.messageZh.hasPrefix("规则\(replay.refused[0].refusal.rule)") == true)
            }
            #expect(try await Self.count(app, "quota_entries") == 0)
            // the accepted rows alone load
            let refusedRows = Set(replay.refused.map(\.row))
            var clean = journal
            clean.postings = journal.postings.filter { !refusedRows.contains($0.row) }
            #expect(try await app.services(Self.hq).quota.load(id: id, journal: clean, fileName: "clean.csv") == clean.postings.count)
            let svc = app.services(Self.hq).quota
            let days = Set(clean.postings.map(\.date)).sorted()
            for day in days + [days.last!.adding(days: 30)] {
                let db = try await svc.balances(id: id, asOf: day)
                let standalone = replay.ledger.balances(asOf: day)
                #expect(db.map(\.balance) == standalone.map(\.balance), "\(day)")
            }
            // the stored running state is the journal's sum
            let r = try await app.store.quotaProject(id: id)!
            let state = try await app.store.quotaState(r, towns: project.towns)
            #expect(state.balances == replay.ledger.state.balances && state.basicAdded == replay.ledger.basicAdded
                    && state.farmUsedGrade == replay.ledger.farmUsedGrade)
            // a file whose seqs do not continue the journal is refused
            do {
                _ = try await svc.load(id: id, journal: clean, fileName: "again.csv")
                Issue.record("not refused")
            } catch let f as ImportFailure {
                #expect(f.errors.first?.messageZh.contains("接续") == true)
            }
        }
    }

    @Test("a seeded random journal over many months, loaded: the balances at every day (monthly checkpoints plus the days since) equal the standalone replay's")
    func balancesAtEveryDate() async throws {
        try await TestApp.with { app in
            let id = try await Self.project(app)
            let project = try await app.store.quotaProject(id: id)!.project
            let seed: UInt64 = 20_261_205
            print("quota balances at every date: seed \(seed)")
            var rng = SeededRandom(seed: seed)
            var day = project.start
            var all: [QuotaPosting] = []
            for k in 0..<400 {
                day = day.adding(days: Int(rng.next() % 4))
                let q = QuotaType.allCases[Int(rng.next() % 3)]
                let town = Self.towns[Int(rng.next() % 3)], to = Self.towns[Int(rng.next() % 3)]
                let amount = QuotaAmount.parse(String(format: "%d.%04d", Int(rng.next() % 6), Int(rng.next() % 10_000)))
                let grade = QuotaAmount.parse(String(1 + Int(rng.next() % 15)))
                var p: QuotaPosting
                switch rng.next() % 10 {
                case 0...3: p = QuotaPosting(seq: "", date: day, action: .credit, town: town, quota: q, amount: amount, grade: grade)
                case 4...6: p = QuotaPosting(seq: "", date: day, action: .use, town: town, quota: q, amount: amount, grade: grade)
                case 7...8: p = QuotaPosting(seq: "", date: day, action: .transfer, town: town, toTown: to, quota: q, amount: amount)
                default: p = QuotaPosting(seq: "", date: day, action: .reverse, reverses: String(1 + Int(rng.next() % UInt64(k + 1))), note: "更正")
                }
                p.seq = String(k + 1); p.row = k + 2
                all.append(p)
            }
            let replay = QuotaReplay(project: project, postings: all)
            let refused = Set(replay.refused.map(\.row))
            let clean = QuotaJournal(postings: all.filter { !refused.contains($0.row) })
            #expect(clean.postings.count > 150, "\(clean.postings.count) accepted")
            _ = try await app.services(Self.hq).quota.load(id: id, journal: clean, fileName: "random.csv")
            #expect(try await Self.count(app, "quota_checkpoints") > 0, "the journal crossed months")
            let svc = app.services(Self.hq).quota
            var d = project.start.adding(days: -1)
            while d <= day.adding(days: 2) {
                #expect(try await svc.balances(id: id, asOf: d).map(\.balance) == replay.ledger.balances(asOf: d).map(\.balance), "\(d)")
                d = d.adding(days: 1)
            }
            #expect(try await svc.balances(id: id).map(\.balance) == replay.ledger.allBalances.map(\.balance))
        }
    }

    static func consolidationProject(_ app: Application, town: String, mode: String = "农用地整理") async throws -> Int64 {
        let t = CalendarDate(ChinaDay.today())!
        return try await app.services(hq).projects.create(.init(ref: "", name: "\(town)\(mode)子项目", type: "consolidation", mode: mode, town: town,
                                                                leadUnit: "自然资源和规划局", targetMu: 50, parcelIDs: [], households: nil,
                                                                start: t.adding(days: -30).description,
                                                                planned: [t.adding(days: -20), t.adding(days: 60), t.adding(days: 120)].map(\.description)))
    }

    @Test("a sub-project (a project of the projects engine): linked with its planned quantities, started, accepted — its quotas credited to its town in the same step, once")
    func subProjects() async throws {
        try await TestApp.with { app in
            let id = try await Self.project(app)
            let hq = app.services(Self.hq).quota, zs = app.services(Self.zhoushan).quota
            let pz = try await Self.consolidationProject(app, town: "舟山镇")
            let ps = try await Self.consolidationProject(app, town: "石柱镇")
            await CaseServiceTests.expectRefusal(.invalid, "石柱镇") { try await hq.addSubProject(id: id, .init(projectID: ps, newFarmland: "1", grade: "5")) }
            await CaseServiceTests.expectRefusal(.invalid, "等别") { try await hq.addSubProject(id: id, .init(projectID: pz, newFarmland: "10.5")) }
            await CaseServiceTests.expectRefusal(.forbidden) { try await zs.addSubProject(id: id, .init(projectID: pz, reclaimed: "1")) }
            let sid = try await hq.addSubProject(id: id, .init(projectID: pz, newFarmland: "10.5", reclaimed: "3", grade: "5"))
            await CaseServiceTests.expectRefusal(.conflict) { try await hq.addSubProject(id: id, .init(projectID: pz, reclaimed: "1")) }
            var s = try await hq.subProjects(id: id)
            #expect(s.count == 1 && s[0].status == "approved" && s[0].kind == "农用地整理" && s[0].town == "舟山镇" && s[0].ref != nil)
            // not accepted before it is underway; another town cannot act on it
            await CaseServiceTests.expectRefusal(.conflict) { _ = try await zs.acceptSubProject(sid) }
            await CaseServiceTests.expectRefusal(.forbidden) { try await app.services(Self.gushan).quota.startSubProject(sid) }
            try await zs.startSubProject(sid)
            let credited = try await zs.acceptSubProject(sid)
            #expect(credited.map(\.quota) == ["new_farmland", "reclaimed_construction"] && credited.allSatisfy { $0.subprojectId == sid })
            #expect(credited[0].grade == 5 && credited[0].units == 105_000)
            let b = try await hq.balances(id: id)
            #expect(Self.line(b, "舟山镇", .newFarmland).credited == 105_000 && Self.line(b, "舟山镇", .reclaimedConstruction).credited == 30_000)
            s = try await hq.subProjects(id: id)
            #expect(s[0].status == "accepted" && s[0].acceptedOn != nil)
            // per sub-project: what its acceptance credited, net of reversals
            #expect(try await hq.subProjectCredits(id: id)[sid] == [.newFarmland: 105_000, .reclaimedConstruction: 30_000])
            try await hq.post(id: id, .init(action: "reverse", reverses: String(credited[1].seq), note: "复垦面积复核"))
            #expect(try await hq.subProjectCredits(id: id)[sid] == [.newFarmland: 105_000, .reclaimedConstruction: 0])
            #expect(try await hq.subProjectCredits(id: id, asOf: CalendarDate(ChinaDay.today())!.adding(days: -1))[sid] == nil)
            await CaseServiceTests.expectRefusal(.conflict) { _ = try await zs.acceptSubProject(sid) }
            #expect(try await Self.count(app, "quota_entries") == 3, "accepted once (and one reversal)")
            // it is a project of the engine: the projects list has it, with its milestones
            #expect(try await app.services(Self.hq).projects.view(id: pz).plan.milestones.map(\.name) == ["立项", "实施", "验收"])
        }
    }

    @Test("two uses at the same moment that together exceed the balance: exactly one accepted, the other refused by rule 5 (20 rounds)")
    func concurrentPostings() async throws {
        try await TestApp.with { app in
            let id = try await Self.project(app)
            let zs = app.services(Self.zhoushan).quota
            for round in 0..<20 {
                // the balance is 10 mu before each round: two uses of 6 cannot both fit
                try await zs.post(id: id, .init(action: "credit", town: "舟山镇", quota: "建设用地复垦", amount: round == 0 ? "10" : "6"))
                let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            do {
                                try await zs.post(id: id, .init(action: "use", town: "舟山镇", quota: "建设用地复垦", amount: "6", note: "供地"))
                                return "ok"
                            } catch let e as ServiceError {
                                return e.message.contains("规则5") ? "rule5" : e.message
                            }
                        }
                    }
                    var out: [String] = []
                    for try await o in group { out.append(o) }
                    return out.sorted()
                }
                #expect(outcomes == ["ok", "rule5"], "round \(round)")
                let b = Self.line(try await zs.balances(id: id), "舟山镇", .reclaimedConstruction)
                #expect(b.balance == 40_000, "round \(round)")
            }
            #expect(try await Self.count(app, "quota_entries") == 40)
        }
    }
}
