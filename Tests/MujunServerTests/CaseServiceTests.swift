import Foundation
import Testing
import Vapor
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// The case engine stored (CaseService): registration, every step by the right role and unit
/// only (403), from the right state only (409), optimistic locking, scope, the history import
/// and bulk registration all or nothing. On SQLite, and on PostgreSQL in `make test-postgres`.
@Suite("Cases (闭环督办) in the database", .serialized)
struct CaseServiceTests {
    struct People {
        var hq: Caller, zhujian: Caller, jingxin: Caller, town: Caller, deputy: Caller, otherDeputy: Caller
    }

    /// Accounts: HQ, two departments, a town (古山镇), two deputies.
    static func people(_ app: Application) async throws -> People {
        var callers: [String: Caller] = [:]
        for (login, role, unit, town) in [("hq", Role.headquarters, "指挥部", nil), ("zj", .department, "住建局", nil),
                                          ("jx", .department, "经信局", nil), ("gs", .town, "古山镇", "古山镇"),
                                          ("wang", .requester, "", nil), ("li", .requester, "", nil)] as [(String, Role, String, String?)] {
            let id = try await AccountTools.createUser(store: app.store, login: login, displayName: login, unit: unit, role: role,
                                                       town: town, creditCode: nil, password: "Passw0rd!Passw0rd", mustChange: false,
                                                       towns: Rules.default.towns, actor: "test")
            callers[login] = .user(Principal(userID: id, login: login, displayName: login, role: role, unit: unit, town: town))
        }
        return People(hq: callers["hq"]!, zhujian: callers["zj"]!, jingxin: callers["jx"]!, town: callers["gs"]!,
                      deputy: callers["wang"]!, otherDeputy: callers["li"]!)
    }

    static func expectRefusal(_ kind: ServiceError.Kind, _ contains: String = "", _ body: () async throws -> Void,
                              sourceLocation: SourceLocation = #_sourceLocation) async {
        do { try await body(); Issue.record("not refused", sourceLocation: sourceLocation) } catch let e as ServiceError {
            #expect(e.kind == kind, "\(e.message)", sourceLocation: sourceLocation)
            #expect(contains.isEmpty || e.message.contains(contains), "\(e.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    static func counts(_ app: Application) async throws -> (cases: Int, events: Int) {
        let sql = app.store.sql
        let c = try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("cases").first(decodingColumn: "n", as: Int.self) ?? -1
        let e = try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("loop_events").first(decodingColumn: "n", as: Int.self) ?? -1
        return (c, e)
    }

    @Test("a suggestion round the loop: HQ assigns, the unit accepts and replies, the deputy rates 不满意 → re-handling → 满意, HQ closes")
    func suggestionRoundTheLoop() async throws {
        try await TestApp.with { app in
            let p = try await Self.people(app)
            let s = app.services(p.hq).cases
            let deputyID = p.deputy.principal!.userID
            let new = try await s.register(.init(type: "人大建议", title: "加快园区道路建设", requester: "王代表", requesterUser: deputyID,
                                                 assign: .init(unit: "住建局", coUnits: ["古山镇"], level: "重点")))
            #expect(new.ref.hasSuffix("-0001") && new.queryCode == nil)
            var v = try await s.view(id: new.id)
            #expect(v.record.state == "assigned" && v.record.leadUnit == "住建局" && v.record.level == "key")
            // the deadlines the engine computed, from today
            let today = CalendarDate(ChinaDay.today())!
            #expect(v.record.acceptDue == WorkCalendar.shipped.addingWorkdays(5, to: today).description)
            #expect(v.record.replyDue == WorkCalendar.shipped.due(months: 3, from: today).description)

            // who may see it: HQ, the lead unit, the co-unit, the deputy; not 经信局, not another deputy
            for c in [p.zhujian, p.town, p.deputy] { #expect(try await app.services(c).cases.list().map(\.id) == [new.id]) }
            for c in [p.jingxin, p.otherDeputy] {
                #expect(try await app.services(c).cases.list().isEmpty)
                await Self.expectRefusal(.notFound) { _ = try await app.services(c).cases.view(id: new.id) }
            }
            // who may act: only the lead unit accepts; the co-unit and HQ are refused with the reason
            await Self.expectRefusal(.forbidden, "主办单位") { try await app.services(p.town).cases.step(id: new.id, .accept) }
            await Self.expectRefusal(.forbidden, "主办单位") { try await s.step(id: new.id, .accept) }
            await Self.expectRefusal(.forbidden) { try await app.services(p.deputy).cases.step(id: new.id, .accept) }
            // a stale version: 409, nothing changed
            await Self.expectRefusal(.conflict, "他人") {
                try await app.services(p.zhujian).cases.step(id: new.id, .accept, .init(version: v.record.version + 1))
            }
            let unit = app.services(p.zhujian).cases
            v = try await unit.step(id: new.id, .accept, .init(version: v.record.version))
            #expect(v.record.state == "handling" && v.record.acceptedOn == today.description && v.record.version == 2)
            await Self.expectRefusal(.conflict, "办理中") { try await unit.step(id: new.id, .accept) }
            // the deputy cannot rate before the reply
            await Self.expectRefusal(.conflict) {
                try await app.services(p.deputy).cases.step(id: new.id, .evaluate, .init(rating: "满意"))
            }
            try await unit.step(id: new.id, .progress, .init(head: true, note: "局长带队现场调研"))
            await Self.expectRefusal(.invalid) { try await unit.step(id: new.id, .reply, .init(category: "E", note: "答复")) }
            v = try await unit.step(id: new.id, .reply, .init(category: "B", note: "已列入计划"))
            #expect(v.record.state == "replied" && v.record.category == "B" && v.record.head)
            // only the requester rates; 不满意 sends it back for one month
            await Self.expectRefusal(.forbidden, "提出人") { try await s.step(id: new.id, .evaluate, .init(rating: "满意")) }
            await Self.expectRefusal(.notFound) {  // another deputy does not even see it
                try await app.services(p.otherDeputy).cases.step(id: new.id, .evaluate, .init(rating: "满意"))
            }
            v = try await app.services(p.deputy).cases.step(id: new.id, .evaluate, .init(rating: "不满意", note: "进度太慢"))
            #expect(v.record.state == "handling" && v.record.rehandleDue == WorkCalendar.shipped.due(months: 1, from: today).description)
            try await unit.step(id: new.id, .reply, .init(category: "A", note: "已完成"))
            v = try await app.services(p.deputy).cases.step(id: new.id, .evaluate, .init(rating: "满意"))
            #expect(v.record.state == "evaluated" && v.record.rating == "satisfied")
            await Self.expectRefusal(.forbidden) { try await unit.step(id: new.id, .close) }
            v = try await s.step(id: new.id, .close)
            #expect(v.record.state == "closed" && v.actions.isEmpty)
            #expect(v.events.map(\.kind) == ["register", "assign", "accept", "progress", "reply", "evaluate", "reply", "evaluate", "close"])
            #expect(v.events.map(\.actor) == ["hq", "hq", "zj", "zj", "zj", "wang", "zj", "wang", "hq"])
            // registration with its assignment is one audited action, then one per step
            let audits = try await app.store.auditLog(limit: 100).filter { $0.action.hasPrefix("case.") }
            #expect(audits.count == 8, "\(audits.map(\.action))")
        }
    }

    @Test("bad input is refused with a clear message and nothing is written")
    func badInput() async throws {
        try await TestApp.with { app in
            let p = try await Self.people(app)
            let s = app.services(p.hq).cases
            await Self.expectRefusal(.invalid, "未知的单位") { _ = try await s.register(.init(type: "task", title: "拆违", requester: "指挥部", assign: .init(unit: "不存在局", due: "2099-01-01"))) }
            await Self.expectRefusal(.invalid, "未知的督办事项类型") { _ = try await s.register(.init(type: "letter", title: "x", requester: "y")) }
            await Self.expectRefusal(.invalid, "须在交办时确定办理期限") { _ = try await s.register(.init(type: "hazard", title: "隐患", requester: "安委办", assign: .init(unit: "古山镇"))) }
            await Self.expectRefusal(.invalid, "早于交办日期") { _ = try await s.register(.init(type: "hazard", title: "隐患", requester: "安委办", assign: .init(unit: "古山镇", due: "2020-01-01"))) }
            await Self.expectRefusal(.forbidden) { _ = try await app.services(p.zhujian).cases.register(.init(type: "task", title: "x", requester: "y")) }
            #expect(try await Self.counts(app) == (0, 0))

            let e = try await s.register(.init(type: "enterprise_request", title: "用电增容", requester: "某公司", assign: .init(unit: "经信局")))
            let unit = app.services(p.jingxin).cases
            await Self.expectRefusal(.invalid, "理由") { try await unit.step(id: e.id, .return, .init(note: "  ")) }
            try await unit.step(id: e.id, .accept)
            // an extension beyond 20 working days from the assignment, or not later: refused
            let today = CalendarDate(ChinaDay.today())!
            let limit = WorkCalendar.shipped.addingWorkdays(20, to: today)
            await Self.expectRefusal(.invalid, "超过最长期限") { try await s.step(id: e.id, .extend, .init(due: limit.adding(days: 1).description)) }
            await Self.expectRefusal(.invalid, "不晚于") { try await s.step(id: e.id, .extend, .init(due: today.description)) }
            await Self.expectRefusal(.forbidden) { try await unit.step(id: e.id, .extend, .init(due: limit.description)) }
            let v = try await s.step(id: e.id, .extend, .init(due: limit.description))
            #expect(v.record.replyDue == limit.description)
            // only today's date from a user
            await Self.expectRefusal(.invalid) { try await unit.step(id: e.id, .progress, .init(date: "2020-01-01")) }
            #expect(try await Self.counts(app) == (1, 4))
        }
    }

    @Test("a unit's inbox: to accept, in progress, overdue yellow and red, awaiting verification, assisting")
    func inbox() async throws {
        try await TestApp.with { app in
            let p = try await Self.people(app)
            let today = CalendarDate(ChinaDay.today())!
            // a history dated around today: one red, one yellow, one to accept, one awaiting verification
            func d(_ n: Int) -> String { today.adding(days: n).description }
            let csv = """
                编号,类型,事件,日期,单位,协办单位,办理期限,说明
                R1,整改事项,登记,\(d(-60)),指挥部,,,
                R1,整改事项,交办,\(d(-60)),古山镇,,\(d(-30)),
                R1,整改事项,签收,\(d(-59)),古山镇,,,
                Y1,整改事项,登记,\(d(-3)),指挥部,,,
                Y1,整改事项,交办,\(d(-3)),古山镇,,\(d(-1)),
                Y1,整改事项,签收,\(d(-3)),古山镇,,,
                A1,安全隐患,登记,\(d(0)),安委办,,,
                A1,安全隐患,交办,\(d(0)),古山镇,住建局,\(d(20)),
                V1,安全隐患,登记,\(d(-5)),安委办,,,
                V1,安全隐患,交办,\(d(-5)),古山镇,,\(d(10)),
                V1,安全隐患,签收,\(d(-5)),古山镇,,,
                V1,安全隐患,答复,\(d(-1)),古山镇,,,
                """
            let h = try CaseHistory(table: try CSVTable(data: Data(csv.utf8)))
            _ = try await app.services(p.hq).cases.importHistory(h, fileName: "inbox.csv")
            let box = try await app.services(p.town).cases.inbox()
            #expect(box.unit == "古山镇")
            #expect(box.toAccept.map(\.ref) == ["A1"])
            #expect(Set(box.inProgress.map(\.ref)) == ["R1", "Y1"])
            #expect(box.overdue.map(\.0.ref).sorted() == ["R1", "Y1"])
            #expect(box.overdue.first { $0.0.ref == "R1" }?.1 == .red)
            #expect(box.overdue.first { $0.0.ref == "Y1" }?.1 == .yellow)
            #expect(box.awaitingVerification.map(\.ref) == ["V1"])
            #expect(try await app.services(p.zhujian).cases.inbox().assisting.map(\.ref) == ["A1"])
            await Self.expectRefusal(.forbidden) { _ = try await app.services(p.deputy).cases.inbox() }
        }
    }

    @Test("the history import is all or nothing and re-importing it changes nothing")
    func historyImport() async throws {
        try await TestApp.with { app in
            let s = app.services(try await Self.people(app).hq).cases
            let csv = """
                ref,type,event,date,unit,due,category,rating,note
                S1,suggestion,register,2025-09-20,王代表,,,,
                S1,suggestion,assign,2025-09-26,住建局,,,,
                S1,suggestion,accept,2025-10-10,住建局,,,,
                S1,suggestion,reply,2025-12-19,住建局,,B,,
                S1,suggestion,evaluate,2026-01-05,王代表,,,满意,
                T1,task,register,2025-12-01,指挥部,,,,
                T1,task,assign,2025-12-01,古山镇,2025-12-31,,,
                """
            let h = try CaseHistory(table: try CSVTable(data: Data(csv.utf8)))
            let first = try await s.importHistory(h, fileName: "h.csv")
            #expect(first.cases == 2 && first.events == 7 && first.unchanged == 0)
            let again = try await s.importHistory(h, fileName: "h.csv")
            #expect(again.cases == 0 && again.unchanged == 2)
            let s1 = try #require(try await s.list(.init(type: "suggestion")).first)
            #expect(s1.state == "evaluated" && s1.replyDue == "2025-12-26" && s1.firstReplyOn == "2025-12-19" && s1.requester == "王代表")
            // the same refs with another history, and a new case: refused as a whole, naming S1's first row
            let changed = csv.replacingOccurrences(of: "2025-12-19,住建局,,B", with: "2025-12-20,住建局,,A") + "\nN1,task,register,2025-12-01,指挥部,,,,"
            do {
                _ = try await s.importHistory(try CaseHistory(table: try CSVTable(data: Data(changed.utf8))), fileName: "h2.csv")
                Issue.record("a changed history was imported")
            } catch let f as ImportFailure {
                #expect(f.errors.map(\.row) == [2])
            }
            #expect(try await Self.counts(app) == (2, 7))
        }
    }

    @Test("bulk registration: every bad row named, nothing written; then a good file registers and assigns")
    func registerFile() async throws {
        try await TestApp.with { app in
            let s = app.services(try await Self.people(app).hq).cases
            let bad = """
                类型,编号,标题,提出人,主办单位,协办单位,交办日期,办理期限,督办级别
                人大建议,J1,道路,王代表,住建局,,2026-03-02,,重点
                信件,J2,x,y,住建局,,2026-03-02,,
                整治任务,J3,拆违,指挥部,古山镇,,2026-03-02,,
                整治任务,J4,拆违,指挥部,不存在局,,2026-03-02,2026-04-01,
                安全隐患,J5,隐患,安委办,古山镇,,2026-03-02,2026-03-01,
                人大建议,J1,重复,王代表,住建局,,2026-03-02,,
                政协提案,P1,,李委员,经信局,,2026-03-02,,
                政协提案,P2,提案,李委员,经信局,,2026-03-02,,特急
                """
            do {
                _ = try await s.registerFile(try CSVTable(data: Data(bad.utf8)), fileName: "bad.csv")
                Issue.record("a bad file was registered")
            } catch let f as ImportFailure {
                #expect(f.errors.map(\.row) == [3, 4, 5, 6, 7, 8, 9], "\(f.errors)")
                #expect(f.errors.map(\.column) == ["类型", "办理期限", "主办单位", "办理期限", "编号", "标题", "督办级别"], "\(f.errors)")
            }
            #expect(try await Self.counts(app) == (0, 0))
            let good = """
                类型,标题,提出人,主办单位,协办单位,交办日期,办理期限
                人大建议,道路,王代表,住建局,古山镇；经信局,2026-03-02,
                人大建议,桥梁,王代表,住建局,,2026-03-02,
                安全隐患,隐患,安委办,古山镇,,2026-03-02,2026-03-20
                """
            let summary = try await s.registerFile(try CSVTable(data: Data(good.utf8)), fileName: "good.csv")
            #expect(summary.cases == 3 && summary.events == 6)
            let rows = try await s.list().sorted { $0.id < $1.id }
            #expect(rows.map(\.ref) == ["2026-0001", "2026-0002", "2026-0001"])
            #expect(rows[0].coUnitList == ["古山镇", "经信局"] && rows[0].replyDue == "2026-06-02")
            #expect(rows[2].replyDue == "2026-03-20" && rows[2].acceptDue == "2026-03-03")
        }
    }

    @Test("an issued bulletin is frozen: regenerated after later and back-dated entries it gives the same bytes")
    func issuedBulletinIsFrozen() async throws {
        try await TestApp.with { app in
            let p = try await Self.people(app)
            let s = app.services(p.hq).cases
            let today = CalendarDate(ChinaDay.today())!
            func d(_ n: Int) -> String { today.adding(days: n).description }
            let csv = """
                ref,type,event,date,unit,due,category,rating
                A,suggestion,register,\(d(-120)),王代表,,,
                A,suggestion,assign,\(d(-120)),住建局,,,
                A,suggestion,accept,\(d(-118)),住建局,,,
                B,suggestion,register,\(d(-100)),李代表,,,
                B,suggestion,assign,\(d(-100)),住建局,,,
                B,suggestion,accept,\(d(-99)),住建局,,,
                B,suggestion,reply,\(d(-60)),住建局,,A,
                C,suggestion,register,\(d(-90)),李代表,,,
                C,suggestion,assign,\(d(-90)),住建局,,,
                """
            _ = try await s.importHistory(try CaseHistory(table: try CSVTable(data: Data(csv.utf8))), fileName: "h.csv")
            let from = today.adding(days: -365), to = today
            let issued = try await s.issue(number: "督办通报〔2026〕1号", title: "督导通报", from: from, to: to, asOf: today, type: "suggestion")
            func bytes(_ id: Int64) async throws -> (String, Data) {
                let (r, b) = try await s.issued(id: id)
                var w = b.workbook(title: r.title)
                w.timestamp = Date(timeIntervalSince1970: Double(r.recordedUs) / 1_000_000)
                return (b.csv(), try w.data())
            }
            let (csv1, xlsx1) = try await bytes(issued.id)
            #expect(csv1.contains("住建局,3,"))
            // later: A is replied today, a back-dated case D (assigned within the window) is imported
            let unit = app.services(p.zhujian).cases
            let a = try #require(try await s.list(.init(text: "A")).first { $0.ref == "A" })
            try await unit.step(id: a.id, .reply, .init(category: "B", note: "已答复"))
            let late = """
                ref,type,event,date,unit
                D,suggestion,register,\(d(-200)),王代表
                D,suggestion,assign,\(d(-200)),住建局
                """
            _ = try await s.importHistory(try CaseHistory(table: try CSVTable(data: Data(late.utf8))), fileName: "late.csv")
            let (csv2, xlsx2) = try await bytes(issued.id)
            #expect(csv2 == csv1)
            #expect(xlsx2 == xlsx1)
            // the live bulletin of the same parameters sees the new entries
            let live = try await s.bulletin(from: from, to: to, asOf: today, type: "suggestion")
            #expect(live.csv() != csv1 && live.csv().contains("住建局,4,"))
            // a number is issued once
            await Self.expectRefusal(.conflict, "已发布") {
                _ = try await s.issue(number: "督办通报〔2026〕1号", title: "", from: from, to: to, asOf: today, type: nil)
            }
            await Self.expectRefusal(.forbidden) { _ = try await unit.issuedBulletins() }
        }
    }

    @Test("a petitioner without an account follows and rates a petition with its number and query code")
    func petitionerByQueryCode() async throws {
        try await TestApp.with { app in
            let p = try await Self.people(app)
            let s = app.services(p.hq).cases
            let new = try await s.register(.init(type: "信访", title: "反映拖欠工资", requester: "来访群众", assign: .init(unit: "住建局")))
            let code = try #require(new.queryCode)
            #expect(code.count == 8 && code.allSatisfy(\.isNumber))
            let anonymous = app.services(.anonymous).cases
            #expect(try await anonymous.petition(ref: new.ref, code: code)?.record.id == new.id)
            let wrong = code == "00000000" ? "00000001" : "00000000"
            #expect(try await anonymous.petition(ref: new.ref, code: wrong) == nil)
            #expect(try await anonymous.petition(ref: "nonsense", code: code) == nil)
            // the code is stored hashed, never as it is
            let stored = try await app.store.queryCodeHash(caseID: new.id)
            #expect(stored != nil && stored?.contains(code) == false)
            await Self.expectRefusal(.conflict) { _ = try await anonymous.ratePetition(ref: new.ref, code: code, rating: "满意", note: "") }
            let unit = app.services(p.zhujian).cases
            try await unit.step(id: new.id, .accept)
            try await unit.step(id: new.id, .reply, .init(note: "已督促企业支付"))
            await Self.expectRefusal(.notFound) { _ = try await anonymous.ratePetition(ref: new.ref, code: wrong, rating: "满意", note: "") }
            let v = try await anonymous.ratePetition(ref: new.ref, code: code, rating: "满意", note: "已收到工资")
            #expect(v.record.state == "evaluated" && v.record.rating == "satisfied")
            #expect(v.events.last?.actor == "信访人")
        }
    }

    @Test("the stored bulletin equals the standalone one on the hand-worked history, as of the end and mid-way")
    func storedBulletinEqualsStandalone() async throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("bench/cases/testdata/small-history.csv")
        let h = try CaseHistory(table: try TableReader.open(url: url))
        try await TestApp.with { app in
            let s = app.services(try await Self.people(app).hq).cases
            _ = try await s.importHistory(h, fileName: "small-history.csv")
            let from = CalendarDate("2025-01-01")!, to = CalendarDate("2026-12-31")!
            // after every event (counted from the stored columns) and mid-way (replayed), all types and one
            for asOf in ["2027-01-01", "2026-03-16", "2025-10-20"] {
                for type in [nil, "suggestion", "task"] as [String?] {
                    let d = CalendarDate(asOf)!
                    let stored = try await s.bulletin(from: from, to: to, asOf: d, type: type)
                    let standalone = Bulletin(history: h, from: from, to: to, asOf: d, type: type)
                    #expect(stored.csv() == standalone.csv(), "as of \(asOf), \(type ?? "all")")
                    #expect(stored.casesCSV() == standalone.casesCSV(), "as of \(asOf), \(type ?? "all")")
                    if type == nil { #expect(stored.rows.count > 0, "as of \(asOf)") }
                }
            }
        }
    }
}
