import Foundation
import Testing
import Vapor
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// Challenges (揭榜挂帅, issue 10): publish, apply from the enterprise (a consortium), the experts'
/// assignments and score sheets (an expert sees and scores only its own), the award that starts the
/// winner's project, and the reward paid in tranches as milestones are done — each refusal clear,
/// nothing written. On SQLite, and on PostgreSQL in `make test-postgres`.
@Suite("Challenges: 发榜, 揭榜, 评审遴选, 立项, 兑现", .serialized)
struct ChallengeServiceTests {
    typealias P = CaseServiceTests
    static var today: CalendarDate { CalendarDate(ChinaDay.today())! }
    static let codeA = CreditCode.complete("91330784MA2HAAAA0"), codeB = CreditCode.complete("91330784MA2HBBBB0")
    static let partner = CreditCode.complete("12330700MB1CCCC00")

    struct World {
        var p: P.People
        var entA: Caller, entB: Caller, expert1: Caller, expert2: Caller
        var expert1ID: Int64, expert2ID: Int64
    }

    static func world(_ app: Application) async throws -> World {
        let p = try await P.people(app)
        var callers: [String: (Caller, Int64)] = [:]
        for (login, role, code) in [("ea", Role.enterprise, codeA as String?), ("eb", .enterprise, codeB), ("x1", .expert, nil), ("x2", .expert, nil)] {
            let id = try await AccountTools.createUser(store: app.store, login: login, displayName: "专家\(login)", unit: "专家库", role: role,
                                                       town: nil, creditCode: code, password: "Passw0rd!Passw0rd", mustChange: false,
                                                       towns: Rules.default.towns, actor: "test")
            callers[login] = (.user(Principal(userID: id, login: login, displayName: "企业\(login)", role: role, unit: "专家库", creditCode: code)), id)
        }
        return World(p: p, entA: callers["ea"]!.0, entB: callers["eb"]!.0, expert1: callers["x1"]!.0, expert2: callers["x2"]!.0,
                     expert1ID: callers["x1"]!.1, expert2ID: callers["x2"]!.1)
    }

    static func challenge(deadline: CalendarDate, consortium: Bool = true) -> ChallengeService.NewChallenge {
        .init(title: "精密锻造攻关", problem: "材料利用率提升到 85%", reward: 100, deadline: deadline.description, eligibility: "规上企业",
              consortium: consortium, town: "古山镇", leadUnit: "科技局")
    }

    static let sheet: [String: Double] = ["tech": 26, "team": 16, "plan": 17.5, "funds": 12, "impact": 11]

    static func count(_ app: Application, _ table: String) async throws -> Int {
        try await ProjectServiceTests.count(app, table)
    }

    @Test("an application is refused after the deadline, twice, with a consortium where none is allowed, or with a bad partner; nothing written")
    func applicationRefusals() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = app.services(w.p.hq).challenges
            // only HQ publishes; a deadline in the past is refused
            await P.expectRefusal(.forbidden) { _ = try await app.services(w.p.town).challenges.publish(Self.challenge(deadline: Self.today)) }
            await P.expectRefusal(.invalid, "早于今天") { _ = try await hq.publish(Self.challenge(deadline: Self.today.adding(days: -1))) }
            let open = try await hq.publish(Self.challenge(deadline: Self.today.adding(days: 10)))
            let solo = try await hq.publish(Self.challenge(deadline: Self.today.adding(days: 10), consortium: false))
            let past = try await hq.publish(Self.challenge(deadline: Self.today.adding(days: -5)), on: Self.today.adding(days: -30))
            let a = app.services(w.entA).challenges
            await P.expectRefusal(.invalid, "已过") { _ = try await a.apply(id: past, .init(plan: "方案", contact: "张工")) }
            await P.expectRefusal(.invalid, "不接受联合体") { _ = try await a.apply(id: solo, .init(plan: "方案", contact: "张工", partners: [Self.partner])) }
            await P.expectRefusal(.invalid, "12345") { _ = try await a.apply(id: open, .init(plan: "方案", contact: "张工", partners: ["12345"])) }
            await P.expectRefusal(.invalid, "方案") { _ = try await a.apply(id: open, .init(plan: "  ", contact: "张工")) }
            // a town or an expert cannot apply
            await P.expectRefusal(.forbidden) { _ = try await app.services(w.p.town).challenges.apply(id: open, .init(plan: "方案", contact: "x")) }
            #expect(try await Self.count(app, "challenge_applications") == 0)
            _ = try await a.apply(id: open, .init(plan: "温锻成形", contact: "张工", partners: [Self.partner]))
            await P.expectRefusal(.conflict, "重复") { _ = try await a.apply(id: open, .init(plan: "再来", contact: "张工")) }
            #expect(try await Self.count(app, "challenge_applications") == 1)
            // the enterprise sees its own application, not the others' and not the scores
            _ = try await app.services(w.entB).challenges.apply(id: open, .init(plan: "另一方案", contact: "李工"))
            let seen = try await a.view(id: open)
            #expect(seen.own?.partnerCodes == [Self.partner] && seen.entries.isEmpty)
            #expect(try await hq.view(id: open).entries.count == 2)
            // the responsible town sees them too; a department that does not lead it, no
            #expect(try await app.services(w.p.town).challenges.view(id: open).entries.count == 2)
            #expect(try await app.services(w.p.zhujian).challenges.view(id: open).entries.isEmpty)
        }
    }

    @Test("an expert sees and scores only what it is assigned, on the score sheet; the award waits for every sheet and starts the winner's project")
    func reviewAndAward() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = app.services(w.p.hq).challenges
            let id = try await hq.publish(Self.challenge(deadline: Self.today.adding(days: -1)), on: Self.today.adding(days: -20))
            let a = try await app.services(w.entA).challenges.apply(id: id, .init(plan: "温锻", contact: "张工"), on: Self.today.adding(days: -10))
            let b = try await app.services(w.entB).challenges.apply(id: id, .init(plan: "冷锻", contact: "李工"), on: Self.today.adding(days: -9))
            let x1 = app.services(w.expert1).challenges, x2 = app.services(w.expert2).challenges
            // not assigned: not listed, not shown (404), not scored (403); nothing written
            #expect(try await x1.assignments().isEmpty)
            await P.expectRefusal(.notFound) { _ = try await x1.assignment(application: a) }
            await P.expectRefusal(.forbidden, "未分配") { try await x1.score(application: a, Self.sheet) }
            // only experts can be assigned
            await P.expectRefusal(.invalid, "不是可用的评审专家") { try await hq.assign(id: id, experts: [w.p.hq.principal!.userID], applications: nil) }
            #expect(try await hq.assign(id: id, experts: [w.expert1ID], applications: nil) == 2)
            #expect(try await hq.assign(id: id, experts: [w.expert2ID], applications: [a]) == 1)
            #expect(try await hq.assign(id: id, experts: [w.expert2ID], applications: [a]) == 0, "an assignment is made once")
            #expect(try await x2.assignments().map(\.application.id) == [a])
            await P.expectRefusal(.notFound) { _ = try await x2.assignment(application: b) }
            await P.expectRefusal(.forbidden) { try await x2.score(application: b, Self.sheet) }
            // the sheet: every criterion, within its maximum, in halves
            var over = Self.sheet; over["tech"] = 31
            await P.expectRefusal(.invalid, "0 到 30") { try await x1.score(application: a, over) }
            var missing = Self.sheet; missing["impact"] = nil
            await P.expectRefusal(.invalid, "预期成效") { try await x1.score(application: a, missing) }
            var odd = Self.sheet; odd["team"] = 15.3
            await P.expectRefusal(.invalid, "0.5") { try await x1.score(application: a, odd) }
            #expect(try await Self.count(app, "challenge_reviews") == 3)
            #expect(try await app.store.reviews(applicationIDs: [a, b]).allSatisfy { $0.total == nil })
            #expect(try await x1.score(application: a, Self.sheet) == 82.5)
            var lower = Self.sheet; lower["tech"] = 20
            #expect(try await x1.score(application: b, lower) == 76.5)
            // HQ may not award before every sheet of the winner is in, nor a non-expert score
            await P.expectRefusal(.forbidden) { try await app.services(w.p.hq).challenges.score(application: a, Self.sheet) }
            let planned = [Self.today.adding(months: 6), Self.today.adding(months: 12), Self.today.adding(months: 13)].map(\.description)
            await P.expectRefusal(.conflict, "尚未") { try await hq.award(id: id, .init(application: a, pledge: "效率 90%", planned: planned)) }
            #expect(try await Self.count(app, "projects") == 0)
            // a sheet may be revised until the award
            #expect(try await x2.score(application: a, lower) == 76.5)
            #expect(try await x2.score(application: a, Self.sheet) == 82.5)
            let v = try await hq.view(id: id)
            #expect(v.stage == .reviewing && v.entries.map(\.application.id) == [a, b] && v.entries[0].mean == 82.5 && v.entries[1].mean == 76.5)
            await P.expectRefusal(.invalid, "军令状") { try await hq.award(id: id, .init(application: a, pledge: " ", planned: planned)) }
            let pid = try await hq.award(id: id, .init(application: a, pledge: "效率 90%", planned: planned))
            // the winner's project: 发榜 … 立项 done today, the rest planned; the winner enterprise sees it, the other does not
            let project = try await app.services(w.p.hq).projects.view(id: pid)
            #expect(project.record.type == "challenge" && project.record.town == "古山镇" && project.record.ref.hasPrefix("JB-"))
            #expect(project.milestones.prefix(4).allSatisfy { $0.doneOn == Self.today.description } && project.milestones.dropFirst(4).allSatisfy { $0.doneOn == nil })
            #expect(project.status.state == .onTrack && project.cases.isEmpty)
            #expect(try await app.services(w.entA).projects.list().map(\.id) == [pid])
            #expect(try await app.services(w.entB).projects.list().isEmpty)
            #expect(try await app.store.applications(challengeID: id).map(\.state) == ["won", "lost"])
            // decided: no more scores, assignments or awards
            await P.expectRefusal(.conflict, "锁定") { try await x1.score(application: b, Self.sheet) }
            await P.expectRefusal(.conflict) { try await hq.assign(id: id, experts: [w.expert2ID], applications: nil) }
            await P.expectRefusal(.conflict) { try await hq.award(id: id, .init(application: b, pledge: "x", planned: planned)) }

            // the reward: 30 / 40 / 30 of 100 万元; the first payable now, the others once their milestones are done
            let t = try await app.store.tranches(challengeID: id)
            #expect(t.map(\.amount) == [30, 40, 30] && t.map(\.milestone) == ["立项", "里程碑考核", "验收"])
            await P.expectRefusal(.conflict, "尚未完成") { try await hq.pay(id: id, tranche: 2) }
            try await hq.pay(id: id, tranche: 1)
            await P.expectRefusal(.conflict, "已") { try await hq.pay(id: id, tranche: 1) }
            let stones = try await app.store.milestones(projectIDs: [pid])[pid]!
            let seq = { (name: String) in stones.first { $0.name == name }!.seq }
            _ = try await app.services(w.p.hq).projects.recordMilestones(id: pid, [.init(seq: seq("里程碑考核"), done: Self.today.description),
                                                                                   .init(seq: seq("验收"), done: Self.today.description)])
            try await hq.pay(id: id, tranche: 2)
            try await hq.pay(id: id, tranche: 3)
            // the last tranche records 兑现 done: the project is completed
            let after = try await app.services(w.p.hq).projects.view(id: pid)
            #expect(after.milestones.allSatisfy { $0.doneOn != nil } && after.status.state == .completed)
            #expect(after.events.contains { $0.kind == "payment" && $0.detail.contains("第 3 笔") })
            #expect(try await app.store.tranches(challengeID: id).allSatisfy { $0.paidOn == Self.today.description })
        }
    }
}
