import Foundation
import Testing
import Vapor
import VaporTesting
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// Projects on the case engine (issue 10): the import all or nothing, the project scope of each
/// role, the monthly report and the milestone steps with their refusals, and the 滞后 rules
/// opening a 督办 case for the responsible town and closing it when the report is filed or the
/// milestone done. On SQLite, and on PostgreSQL in `make test-postgres`.
@Suite("Projects: import, scope, monthly reports, milestones, automatic 督办", .serialized)
struct ProjectServiceTests {
    typealias P = CaseServiceTests

    static var today: CalendarDate { CalendarDate(ChinaDay.today())! }

    static func table(_ csv: String) throws -> any TableSource { try TableReader.open(data: Data(csv.utf8), name: "t.csv") }

    /// Three projects relative to today: A (古山镇, 经信局) has filed no report for the last month
    /// whose report is due (late by its report only); B (古山镇, 住建局) started this month (no report
    /// due yet) and its first milestone was due yesterday; C (石柱镇, 经信局) is on track.
    static func projects(start a: CalendarDate) -> (String, String) {
        let t = today
        let startB = CalendarDate(year: t.year, month: t.month, day: 1)!
        let p = """
            项目编号,项目名称,项目类型,整治方式,责任镇街,牵头部门,目标面积(亩),地块编号,户数,开始日期
            A,古山镇甲片整治,整治项目,腾退,古山镇,经信局,30,,,\(a)
            B,古山镇乙片整治,整治项目,政府收储,古山镇,住建局,12.5,,,\(startB)
            C,石柱镇丙片整治,整治项目,自主改造,石柱镇,经信局,20,,,\(t)
            """
        var m = "项目编号,节点名称,权重,计划完成日期,实际完成日期\n"
        let names = ["排查确认", "方案制定", "签约", "腾退/拆除", "供地/开工", "竣工投产"], weights = [10, 15, 20, 20, 15, 20]
        for (i, n) in names.enumerated() {
            // A: every milestone after today; B: the first one was due yesterday (or on its start) and is not done
            m += "A,\(n),\(weights[i]),\(t.adding(days: 30 * (i + 1))),\n"
            m += "B,\(n),\(weights[i]),\(i == 0 ? max(startB, t.adding(days: -1)) : t.adding(days: 30 * (i + 1))),\n"
            m += "C,\(n),\(weights[i]),\(t.adding(days: 40 * (i + 1))),\n"
        }
        return (p, m)
    }

    /// A start date three months back: its last due report is missing.
    static var startA: CalendarDate { today.adding(months: -3) }

    static func load(_ app: Application, _ p: P.People) async throws -> [String: Int64] {
        let (pc, mc) = projects(start: startA)
        _ = try await app.services(p.hq).projects.importTables(projects: try table(pc), milestones: try table(mc), fileName: "p.csv")
        return try await app.store.projectIDs(refs: ["A", "B", "C"])
    }

    static func count(_ app: Application, _ table: String, _ cond: String = "1 = 1") async throws -> Int {
        try await app.store.sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table) WHERE \(unsafeRaw: cond)").first(decodingColumn: "n", as: Int.self) ?? -1
    }

    @Test("an import is all or nothing: weights not summing to 100, dates out of order and an existing ref are named by row; nothing written")
    func importRefusals() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let hq = app.services(p.hq).projects
            let (pc, mc) = Self.projects(start: Self.startA)
            // a weight changed: A's weights sum to 105
            let badWeights = mc.replacingOccurrences(of: "A,排查确认,10,", with: "A,排查确认,15,")
            do {
                _ = try await hq.importTables(projects: try Self.table(pc), milestones: try Self.table(badWeights), fileName: "p.csv")
                Issue.record("not refused")
            } catch let f as ImportFailure {
                #expect(f.errors.contains { $0.row == 2 && $0.messageZh.contains("105") }, "\(f.errors)")
            }
            #expect(try await Self.count(app, "projects") == 0)
            #expect(try await Self.count(app, "project_milestones") == 0)
            // a town may not import
            await P.expectRefusal(.forbidden) {
                _ = try await app.services(p.town).projects.importTables(projects: try Self.table(pc), milestones: try Self.table(mc), fileName: "p.csv")
            }
            _ = try await Self.load(app, p)
            #expect(try await Self.count(app, "projects") == 3)
            #expect(try await Self.count(app, "project_milestones") == 18)
            do {
                _ = try await hq.importTables(projects: try Self.table(pc), milestones: try Self.table(mc), fileName: "again.csv")
                Issue.record("not refused")
            } catch let f as ImportFailure {
                #expect(f.errors.map(\.row) == [2, 3, 4] && f.errors.allSatisfy { $0.messageZh.contains("已存在") }, "\(f.errors)")
            }
            #expect(try await Self.count(app, "projects") == 3)
        }
    }

    @Test("each role sees its projects: HQ all, a town its own, a department those it leads, a requester none")
    func scope() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let ids = try await Self.load(app, p)
            #expect(try await app.services(p.hq).projects.list().map(\.ref) == ["A", "B", "C"])
            #expect(try await app.services(p.town).projects.list().map(\.ref) == ["A", "B"])
            #expect(try await app.services(p.zhujian).projects.list().map(\.ref) == ["B"])
            #expect(try await app.services(p.jingxin).projects.list().map(\.ref) == ["A", "C"])
            await P.expectRefusal(.forbidden) { _ = try await app.services(p.deputy).projects.list() }
            await P.expectRefusal(.notFound) { _ = try await app.services(p.town).projects.view(id: ids["C"]!) }
            await P.expectRefusal(.notFound) { _ = try await app.services(p.zhujian).projects.view(id: ids["A"]!) }
            #expect(try await app.services(p.zhujian).projects.view(id: ids["B"]!).record.ref == "B")
        }
    }

    @Test("a late project gets a 督办 case for its town; filing the missing report closes it through the engine, in one step")
    func reportClearsCase() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let ids = try await Self.load(app, p)
            let a = ids["A"]!
            let town = app.services(p.town).projects
            var v = try await town.view(id: a)
            #expect(v.record.state == "late" && v.status.late.count == 1)
            guard case .report(let month, _)? = v.status.late.first?.kind else { Issue.record("not late by its report"); return }
            #expect(v.cases.count == 1 && v.cases[0].leadUnit == "古山镇" && v.cases[0].state == "assigned" && v.cases[0].type == "project")
            let caseID = v.cases[0].id
            // the case is in the town's inbox
            #expect(try await app.services(p.town).cases.inbox().count(.toAccept) >= 1)
            // the town may sign for it but not reply to or close it by hand
            _ = try await app.services(p.town).cases.step(id: caseID, .accept)
            await P.expectRefusal(.forbidden, "月报") { _ = try await app.services(p.town).cases.step(id: caseID, .reply, .init(note: "已报")) }

            // refusals, nothing written
            let future = YearMonth(Self.today).next
            await P.expectRefusal(.invalid, "未来") { try await town.fileReport(id: a, .init(month: future.description, text: "x")) }
            await P.expectRefusal(.invalid, "早于") {
                try await town.fileReport(id: a, .init(month: YearMonth(Self.startA).previous.description, text: "x"))
            }
            await P.expectRefusal(.invalid) { try await town.fileReport(id: a, .init(month: month.description, text: "  ")) }
            await P.expectRefusal(.invalid, "早于项目开始日期") {
                try await town.fileReport(id: a, .init(month: month.description, text: "完成排查", milestones: [.init(seq: 1, done: Self.startA.adding(days: -1).description)]))
            }
            await P.expectRefusal(.conflict) { try await town.fileReport(id: a, .init(month: month.description, text: "x", version: v.record.version + 5)) }
            await P.expectRefusal(.forbidden) { try await app.services(p.hq).projects.fileReport(id: a, .init(month: month.description, text: "x")) }
            await P.expectRefusal(.notFound) { try await app.services(p.zhujian).projects.fileReport(id: a, .init(month: month.description, text: "x")) }
            #expect(try await Self.count(app, "project_reports") == 0)

            let outcome = try await town.fileReport(id: a, .init(month: month.description, text: "完成地块排查，形成整治清单", invested: 120,
                                                                milestones: [.init(seq: 1, done: Self.today.description)], version: v.record.version))
            #expect(outcome.closed == [caseID] && outcome.state == "on_track" && abs(outcome.progress - 0.10) < 1e-9)
            let c = try await app.services(p.hq).cases.view(id: caseID)
            #expect(c.record.state == "closed")
            #expect(c.events.map(\.kind) == ["register", "assign", "accept", "reply", "close"])
            v = try await town.view(id: a)
            #expect(v.record.state == "on_track" && v.reports.map(\.month) == [month.description] && v.milestones[0].doneOn == Self.today.description)
            #expect(Set(v.events.map(\.kind)).isSuperset(of: ["created", "supervised", "report", "milestone", "state", "cleared"]))
            // the same month again: 409, nothing written
            await P.expectRefusal(.conflict, "已报送") { try await town.fileReport(id: a, .init(month: month.description, text: "再报")) }
            #expect(try await Self.count(app, "project_reports") == 1)
            #expect(try await Self.count(app, "audit_log", "action = 'project.report'") == 1)
        }
    }

    @Test("an overdue milestone opens a case; recording it done closes it; a second check opens nothing twice")
    func milestoneClearsCase() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let ids = try await Self.load(app, p)
            let b = ids["B"]!
            let hq = app.services(p.hq).projects
            var v = try await hq.view(id: b)
            let first = try #require(v.milestones.first)
            let overdue = first.plannedOn < Self.today.description
            if overdue {
                #expect(v.record.state == "late" && v.cases.count == 1)
                // checking again opens no second case
                let again = try await hq.supervise()
                #expect(again.opened == 0 && again.closed == 0)
                #expect(try await Self.count(app, "cases", "type = 'project' AND project_id = \(b)") == 1)
                // another unit may not record it; the lead department may
                await P.expectRefusal(.notFound) { try await app.services(p.jingxin).projects.recordMilestones(id: b, [.init(seq: 1, done: Self.today.description)]) }
                await P.expectRefusal(.invalid, "晚于今天") {
                    try await app.services(p.zhujian).projects.recordMilestones(id: b, [.init(seq: 1, done: Self.today.adding(days: 1).description)])
                }
                let o = try await app.services(p.zhujian).projects.recordMilestones(id: b, [.init(seq: 1, done: Self.today.description)])
                #expect(o.closed.count == 1 && o.state != "late")
                v = try await hq.view(id: b)
                #expect(v.cases.first?.state == "closed")
            }
            // out of range shares are refused
            await P.expectRefusal(.invalid, "0–100") { try await hq.recordMilestones(id: b, [.init(seq: 2, reported: 120)]) }
            await P.expectRefusal(.invalid) { try await hq.recordMilestones(id: b, [.init(seq: 9, reported: 10)]) }
            let o = try await hq.recordMilestones(id: b, [.init(seq: 2, reported: 50)])
            #expect(abs(o.progress - ((overdue ? 10 : 0) + 7.5) / 100) < 1e-9)
        }
    }

    /// The eight-byte signature of a PNG and a little more (the check reads the signature).
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])

    @Test("a report's photos: images only, stored with the report, served to whoever sees the project and to nobody else")
    func photos() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let ids = try await Self.load(app, p)
            let c = ids["C"]!
            let unit = app.services(p.jingxin).projects   // 经信局 leads C
            let month = YearMonth(Self.today).description
            await P.expectRefusal(.unsupportedType, "照片") {
                try await unit.fileReport(id: c, .init(month: month, text: "进展", photos: [.init(name: "说明.pdf", contentType: "", data: CaseWorkTests.pdf)]))
            }
            #expect(try await Self.count(app, "project_reports") == 0)
            try await unit.fileReport(id: c, .init(month: month, text: "完成排查", photos: [.init(name: "现场.png", contentType: "", data: Self.png)]))
            let v = try await unit.view(id: c)
            let photo = try #require(v.photos.first)
            #expect(v.photos.count == 1 && photo.name == "现场.png" && photo.contentType == "image/png" && photo.reportId == v.reports[0].id)
            #expect(try await app.services(p.hq).projects.photo(id: photo.id).1 == Self.png)
            await P.expectRefusal(.notFound) { _ = try await app.services(p.town).projects.photo(id: photo.id) }
            await P.expectRefusal(.notFound) { _ = try await app.services(p.zhujian).projects.photo(id: photo.id) }
        }
    }

    @Test("targets: imported all or nothing by HQ; the dashboard counts what the projects achieved, per unit, within the caller's scope")
    func targetsAndDashboard() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let ids = try await Self.load(app, p)
            let y = Self.today.year
            let hq = app.services(p.hq).projects
            let bad = "年度,责任单位,指标,目标值\n\(y),古山镇,整治低效用地(亩),50\n\(y),火星镇,完成项目(个),2\n\(y),古山镇,腾出空间,-1\n"
            do {
                _ = try await hq.importTargets(data: Data(bad.utf8), fileName: "t.csv")
                Issue.record("not refused")
            } catch let f as ImportFailure {
                #expect(f.errors.map(\.row) == [3, 4], "\(f.errors)")
            }
            #expect(try await Self.count(app, "project_targets") == 0)
            await P.expectRefusal(.forbidden) { _ = try await app.services(p.town).projects.importTargets(data: Data(bad.utf8), fileName: "t.csv") }
            let good = "年度,责任单位,指标,目标值\n\(y),古山镇,整治低效用地(亩),50\n\(y),古山镇,完成项目(个),2\n\(y),石柱镇,完成项目(个),1\n\(y),住建局,完成项目(个),4\n"
            #expect(try await hq.importTargets(data: Data(good.utf8), fileName: "t.csv").count == 4)
            // A is completed today: every milestone done (the town records them)
            let a = ids["A"]!
            let town = app.services(p.town).projects
            for seq in 1...6 { try await town.recordMilestones(id: a, [.init(seq: seq, done: Self.today.description)]) }
            let d = try await hq.dashboard(year: y)
            func line(_ unit: String, _ i: TargetIndicator) -> TargetProgress.Line? { d.lines.first { $0.unit == unit && $0.indicator == i } }
            #expect(line("古山镇", .remediatedMu)?.done == 30 && line("古山镇", .remediatedMu)?.rate == 0.6)
            #expect(line("古山镇", .projectsDone)?.done == 1 && line("石柱镇", .projectsDone)?.done == 0)
            #expect(line("住建局", .projectsDone)?.done == 0)
            #expect(d.totals[.projectsDone]?.target == 7 && d.totals[.projectsDone]?.done == 1)
            #expect(d.ranking.first?.unit == "古山镇")
            #expect(d.trend[.remediatedMu]?.last == 30 && d.trend[.remediatedMu]?.count == Self.today.month)
            // a town sees its own lines only; a department its own
            #expect(Set(try await town.dashboard(year: y).lines.map(\.unit)) == ["古山镇"])
            #expect(Set(try await app.services(p.zhujian).projects.dashboard(year: y).lines.map(\.unit)) == ["住建局"])
            // a new file for 古山镇 replaces its targets of the year, not the others'
            _ = try await hq.importTargets(data: Data("年度,责任单位,指标,目标值\n\(y),古山镇,完成项目(个),3\n".utf8), fileName: "t2.csv")
            #expect(try await Self.count(app, "project_targets") == 3)
        }
    }

    @Test("the roll-up reads every plan in three packed queries: the same plans as one by one, judged and summed by town and city")
    func rollUp() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let ids = try await Self.load(app, p)
            let hq = app.services(p.hq).projects
            try await app.services(p.jingxin).projects.recordMilestones(id: ids["C"]!, [.init(seq: 2, reported: 40)])
            let fast = try await app.store.projectPlans(scope: .all)
            #expect(fast.map(\.plan.ref) == ["A", "B", "C"])
            for (id, plan) in fast {
                #expect(plan == (try await hq.view(id: id).plan), "\(plan.ref)")
            }
            let r = try await hq.rollUp(on: Self.today)
            #expect(r.projects == 3 && r.city?.projects == 3)
            #expect(r.byTown["古山镇"]?.projects == 2 && r.byTown["古山镇"]?.counts[.late] == 2)
            #expect(r.byTown["石柱镇"]?.counts[.onTrack] == 1)
            // 石柱镇: C has 40 % of its 15 % milestone → 6 %; by area alone (20 mu) the same
            #expect(abs((r.byTown["石柱镇"]?.areaProgress ?? -1) - 0.06) < 1e-9)
            // (30 × 0 + 12.5 × 0 + 20 × 0.06) / 62.5
            #expect(abs((r.city?.areaProgress ?? -1) - 1.2 / 62.5) < 1e-9)
            #expect(try await app.services(p.town).projects.rollUp(on: Self.today).byTown.keys.sorted() == ["古山镇"])
            // the roll-up's lean read (the checked month's reports, no names) and unexplained verdicts give the same states and progress
            try await app.services(p.town).projects.fileReport(id: ids["A"]!, .init(month: YearMonth(Self.startA).description, text: "首月"))
            let all = try await app.store.projectPlans(scope: .all)
            let judge = ProjectJudge(types: app.serviceContext.projectTypes, calendar: app.serviceContext.calendar)
            for day in [Self.today, Self.today.adding(days: 45), Self.today.adding(days: 400), Self.startA.adding(days: 40)] {
                let full = judge.statuses(of: all.map(\.plan), on: day)
                let lean = try await app.store.projectPlans(scope: .all, onlyMonth: judge.checkedMonth(on: day))
                let quick = judge.statuses(of: lean.map(\.plan), on: day, explained: false)
                #expect(full.map(\.state) == quick.map(\.state) && full.map(\.progress) == quick.map(\.progress), "\(day)")
                #expect(quick.allSatisfy(\.late.isEmpty) && lean.allSatisfy { $0.plan.reportedMonths.count <= 1 })
            }
        }
    }

    /// The two roll-ups agree: counts and areas exactly, progress to 1e-9 (a stored progress crosses as text).
    static func expectSame(_ a: ProjectService.RollUp, _ b: ProjectService.RollUp, _ what: String) {
        #expect(a.projects == b.projects && Set(a.byTown.keys) == Set(b.byTown.keys), "\(what)")
        for (k, x) in a.byTown.map({ ($0.key, $0.value) }) + [("全市", a.city!)] {
            let y = k == "全市" ? b.city! : b.byTown[k]!
            #expect(x.projects == y.projects && x.counts == y.counts && x.targetMu == y.targetMu, "\(what) \(k): \(x) vs \(y)")
            #expect(abs(x.meanProgress - y.meanProgress) < 1e-9 && abs((x.areaProgress ?? -1) - (y.areaProgress ?? -1)) < 1e-9, "\(what) \(k)")
        }
    }

    @Test("the roll-up reads today's stored verdicts: after every kind of step (seeded) they equal judging afresh; another day, a moved checked month and rows marked stale are judged afresh")
    func rollUpFromStoredVerdicts() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let ids = try await Self.load(app, p)
            let hq = app.services(p.hq).projects
            let today = Self.today
            var r = try await hq.rollUp(on: today)
            #expect(r.judgedAfresh == 0 && r.projects == 3)
            Self.expectSame(r, try await hq.rollUp(on: today, fresh: true), "after the import")
            let seed: UInt64 = 11
            print("roll-up from stored verdicts: seed \(seed)")
            var rng = SeededRandom(seed: seed)
            let refs = ["A", "B", "C"]
            var applied = 0
            for step in 0..<24 {
                let ref = refs[Int(rng.next() % 3)], id = ids[ref]!
                let unit = ref == "C" ? p.jingxin : p.town
                let seq = Int(rng.next() % 6) + 1
                do {
                    switch rng.next() % 4 {
                    case 0: _ = try await hq.recordMilestones(id: id, [.init(seq: seq, done: today.adding(days: -Int(rng.next() % 40)).description)])
                    case 1: _ = try await hq.recordMilestones(id: id, [.init(seq: seq, done: "")])
                    case 2: _ = try await hq.recordMilestones(id: id, [.init(seq: seq, reported: Double(rng.next() % 101))])
                    default:
                        let month = YearMonth(today.adding(months: -Int(rng.next() % 4)))
                        _ = try await app.services(unit).projects.fileReport(id: id, .init(month: month.description, text: "第 \(step) 步"))
                    }
                    applied += 1
                } catch is ServiceError {
                    // (a refused step: a date before the start, a month reported already) — nothing written, nothing to compare
                }
                r = try await hq.rollUp(on: today)
                #expect(r.judgedAfresh == 0, "step \(step)")
                Self.expectSame(r, try await hq.rollUp(on: today, fresh: true), "step \(step)")
            }
            #expect(applied >= 12, "most steps went through (\(applied) of 24)")
            // a town's roll-up: its own projects, from the stored verdicts too
            let town = app.services(p.town).projects
            r = try await town.rollUp(on: today)
            #expect(r.projects == 2 && r.judgedAfresh == 0)
            Self.expectSame(r, try await town.rollUp(on: today, fresh: true), "古山镇")
            // another day: every verdict judged afresh
            for day in [today.adding(days: 45), today.adding(days: 400)] {
                r = try await hq.rollUp(on: day)
                #expect(r.judgedAfresh == 3, "\(day)")
                Self.expectSame(r, try await hq.rollUp(on: day, fresh: true), "\(day)")
            }
            // a verdict stored against another checked month (a calendar year added since), one marked stale: those two afresh
            try await app.store.sql.raw("UPDATE projects SET checked_month = '1999-01', state = 'completed', progress = 0.99 WHERE id = \(bind: ids["A"]!)").run()
            try await app.store.markVerdictsStale(ids: [ids["B"]!])
            r = try await hq.rollUp(on: today)
            #expect(r.judgedAfresh == 2)
            // (A's stored 'completed' at 99 % would show in the counts and the progress if it were used)
            Self.expectSame(r, try await hq.rollUp(on: today, fresh: true), "stale rows")
            // the daily check stores them again
            _ = try await hq.supervise(on: today)
            r = try await hq.rollUp(on: today)
            #expect(r.judgedAfresh == 0)
            Self.expectSame(r, try await hq.rollUp(on: today, fresh: true), "after the check")
        }
    }

    @Test("completion: only when every milestone is done, once, the freed area within the parcels'; new occupants replace the parcels' land use")
    func completion() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            try await LandPageTests.loadLand(app)
            let parcels = LandPageTests.land.parcels.filter { $0.town == "古山镇" }.prefix(2).map(\.parcelID)
            let area = LandPageTests.land.parcels.filter { parcels.contains($0.parcelID) }.reduce(0) { $0 + $1.areaMu }
            let start = Self.today.adding(days: -200)
            let code = LandPageTests.city.enterprises.first { $0.town == "石柱镇" }!.creditCode
            let pc = "项目编号,项目名称,项目类型,整治方式,责任镇街,牵头部门,目标面积(亩),地块编号,户数,开始日期\nD,古山镇丁片整治,整治项目,兼并重组,古山镇,经信局,\(formatNumber((area * 100).rounded() / 100)),\(parcels.joined(separator: ";")),,\(start)\n"
            var mc = "项目编号,节点名称,权重,计划完成日期,实际完成日期\n"
            for (i, (n, w)) in zip(["排查确认", "方案制定", "签约", "腾退/拆除", "供地/开工", "竣工投产"], [10, 15, 20, 20, 15, 20]).enumerated() {
                mc += "D,\(n),\(w),\(start.adding(days: 30 * (i + 1))),\(i < 5 ? start.adding(days: 30 * (i + 1) - 2).description : "")\n"
            }
            _ = try await app.services(p.hq).projects.importTables(projects: try Self.table(pc), milestones: try Self.table(mc), fileName: "d.csv")
            let id = try #require(try await app.store.projectIDs(refs: ["D"])["D"])
            let town = app.services(p.town).projects
            await P.expectRefusal(.conflict, "竣工投产") { try await town.complete(id: id, .init(freedMu: 1)) }
            try await town.recordMilestones(id: id, [.init(seq: 6, done: Self.today.description)])
            #expect(try await town.view(id: id).status.state == .completed)
            await P.expectRefusal(.invalid, "超过") { try await town.complete(id: id, .init(freedMu: area + 1)) }
            await P.expectRefusal(.invalid, "91330784000000000X") { try await town.complete(id: id, .init(freedMu: 1, occupants: ["91330784000000000X"])) }
            await P.expectRefusal(.notFound) { try await app.services(p.zhujian).projects.complete(id: id, .init(freedMu: 1)) }
            let done = try await town.complete(id: id, .init(freedMu: 5.5, newInvestment: 3000, occupants: [code]))
            #expect(done.freedMu == 5.5 && done.newInvestment == 3000 && done.newOccupants == code)
            struct Use: Decodable { var parcel_id: String; var credit_code: String }
            let uses = try await app.store.sql.select().columns("parcel_id", "credit_code").from("land_use").where("parcel_id", .in, parcels)
                .all(decoding: Use.self)
            #expect(Set(uses.map(\.parcel_id)) == Set(parcels) && Set(uses.map(\.credit_code)) == [code])
            await P.expectRefusal(.conflict, "已登记") { try await town.complete(id: id, .init(freedMu: 6)) }
            #expect(try await town.view(id: id).events.contains { $0.kind == "completed" })
        }
    }

    @Test("a project entered on the page: a town for its own town and parcels only, dates in order, numbered by the system; HQ across towns")
    func createOnPage() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            try await LandPageTests.loadLand(app)
            let own = LandPageTests.land.parcels.first { $0.town == "古山镇" }!.parcelID
            let other = LandPageTests.land.parcels.first { $0.town == "石柱镇" }!.parcelID
            let t = Self.today
            let planned = (1...6).map { t.adding(months: $0).description }
            func new(_ town: String, _ parcels: [String], planned: [String] = planned) -> ProjectService.NewProject {
                .init(ref: "", name: "整治项目", type: "remediation", mode: "腾退", town: town, leadUnit: "经信局", targetMu: 10,
                      parcelIDs: parcels, households: nil, start: t.description, planned: planned)
            }
            let town = app.services(p.town).projects
            await P.expectRefusal(.forbidden, "本镇街") { _ = try await town.create(new("石柱镇", [other])) }
            await P.expectRefusal(.invalid, "石柱镇") { _ = try await town.create(new("古山镇", [own, other])) }
            var swapped = planned; swapped.swapAt(1, 2)
            await P.expectRefusal(.invalid, "早于前一节点") { _ = try await town.create(new("古山镇", [own], planned: swapped)) }
            await P.expectRefusal(.invalid, "计划完成日期") { _ = try await town.create(new("古山镇", [own], planned: Array(planned.prefix(5)))) }
            await P.expectRefusal(.forbidden) { _ = try await app.services(p.zhujian).projects.create(new("古山镇", [own])) }
            #expect(try await Self.count(app, "projects") == 0)
            let id = try await town.create(new("古山镇", [own]))
            let v = try await town.view(id: id)
            #expect(v.record.ref == "ZZ-\(t.year)-001" && v.parcels == [own] && v.milestones.count == 6 && v.record.state == "not_started")
            let cross = try await app.services(p.hq).projects.create(new("古山镇", [own, other]))
            #expect(try await app.services(p.hq).projects.view(id: cross).record.ref == "ZZ-\(t.year)-002")
            // an enterprise on the parcel sees the projects on it, another enterprise none; the bank nothing
            let occupant = try #require(LandPageTests.land.landUse.first { $0.parcelID == own }?.creditCode
                                        ?? LandPageTests.land.parcels.first { $0.parcelID == own }?.ownerCreditCode)
            let stranger = try #require(LandPageTests.city.enterprises.first { $0.creditCode != occupant && $0.town == "石柱镇" }?.creditCode)
            func enterprise(_ code: String) -> MujunStore.Services {
                app.services(.user(Principal(userID: 999, login: "e", displayName: "e", role: .enterprise, creditCode: code)))
            }
            #expect(Set(try await enterprise(occupant).projects.list().map(\.id)) == [id, cross])
            #expect(try await enterprise(stranger).projects.list().isEmpty)
            await P.expectRefusal(.notFound) { _ = try await enterprise(stranger).projects.view(id: id) }
            await P.expectRefusal(.forbidden) {
                _ = try await app.services(.user(Principal(userID: 998, login: "b", displayName: "b", role: .bank))).projects.list()
            }
            // the draft from a candidate takes its parcels, town and area
            let c = try #require(try await app.services(p.hq).land.clusters(year: LandPageTests.year, candidatesOnly: true).rows.first?.summary)
            let d = try await app.services(p.hq).projects.draft(type: "remediation", clusterYear: LandPageTests.year, cluster: c.number)
            #expect(!d.parcelIDs.isEmpty && d.town != nil && (d.targetMu ?? 0) > 0 && d.planned.count == 6)
        }
    }

    @Test("the pages: the list with its roll-up and Excel export (as filtered), a project's page, the war room and the agenda, each within the reader's scope")
    func pages() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let ids = try await Self.load(app, p)
            let hq = try await TestAuth.hq(app), town = try await TestAuth.session(app, .town, town: "古山镇")
            func get(_ path: String, _ s: TestAuth.Session) async throws -> TestingHTTPResponse {
                try await app.testing().sendRequest(.GET, path, headers: s.headers)
            }
            var res = try await get("/projects", hq)
            #expect(res.status == .ok && res.body.string.contains(#"id="rollup-table""#))
            #expect(res.body.string.captures(#"data-ref="([A-Z])""#) == ["A", "B", "C"])
            res = try await get("/projects?town=古山镇", town)
            #expect(res.body.string.captures(#"data-ref="([A-Z])""#) == ["A", "B"])
            res = try await get("/projects.xlsx?state=late", hq)
            #expect(res.status == .ok && res.headers.first(name: .contentDisposition)?.contains("attachment") == true)
            let table = try XLSXTable(data: Data(buffer: res.body))
            var refs: [String] = []
            try table.forEachRow { _, cells in refs.append(cells[0]) }
            #expect(table.headers.prefix(3) == ["项目编号", "项目名称", "类型"] && refs == ["A", "B"])
            res = try await get("/projects/\(ids["A"]!)", town)
            #expect(res.status == .ok && res.body.string.contains(#"id="report-form""#) && res.body.string.contains(#"id="late-reasons""#))
            res = try await get("/projects/\(ids["C"]!)", town)
            #expect(res.status == .notFound)
            res = try await get("/projects/dashboard", hq)
            #expect(res.status == .ok && res.body.string.contains(#"id="no-targets""#))
            res = try await get("/projects/agenda?kind=weekly", hq)
            #expect(res.status == .ok && res.body.string.captures(#"<tr data-project="([0-9]+)"><td><a href="/projects/[0-9]+">A "#).count == 1)
            res = try await get("/projects/agenda?kind=monthly", hq)
            #expect(res.status == .badRequest)
        }
    }
}
