import Foundation
import Testing
import Vapor
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// What the closed loop records beside its steps: co-unit opinions, extension requests and their
/// decisions, the three ones, follow-up reports, attachments, meetings that assign, and the
/// inbox counted and paged in SQL. On SQLite, and on PostgreSQL in `make test-postgres`.
@Suite("Case work: opinions, extensions, 三个一, 续报, attachments, meetings, the inbox", .serialized)
struct CaseWorkTests {
    typealias P = CaseServiceTests

    static func count(_ app: Application, _ table: String) async throws -> Int {
        try await app.store.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(table)
            .first(decodingColumn: "n", as: Int.self) ?? -1
    }

    static let pdf = Data("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".utf8)

    /// A suggestion assigned to 住建局 with 古山镇 assisting, accepted.
    static func acceptedSuggestion(_ app: Application, _ p: CaseServiceTests.People) async throws -> Int64 {
        let new = try await app.services(p.hq).cases.register(.init(
            type: "suggestion", title: "加快园区道路建设", requester: "王代表", requesterUser: p.deputy.principal!.userID,
            assign: .init(unit: "住建局", coUnits: ["古山镇"])))
        try await app.services(p.zhujian).cases.step(id: new.id, .accept)
        return new.id
    }

    @Test("a co-unit gives its opinion while the case is open; the lead unit, another unit and a closed case may not")
    func opinion() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let id = try await Self.acceptedSuggestion(app, p)
            let town = app.services(p.town).cases
            #expect(try await town.view(id: id).noteActions == [.opinion])
            try await town.addNote(id: id, .opinion, text: "建议同步实施雨污分流", files: [.init(name: "现场照片.pdf", contentType: "", data: Self.pdf)])
            let v = try await app.services(p.zhujian).cases.view(id: id)
            #expect(v.notes.map(\.kind) == ["opinion"] && v.notes[0].unit == "古山镇" && v.notes[0].text == "建议同步实施雨污分流")
            #expect(v.attachments.map(\.name) == ["现场照片.pdf"] && v.attachments[0].noteId == v.notes[0].id)
            await P.expectRefusal(.forbidden, "协办单位") { try await app.services(p.zhujian).cases.addNote(id: id, .opinion, text: "x") }
            await P.expectRefusal(.notFound) { try await app.services(p.jingxin).cases.addNote(id: id, .opinion, text: "x") }
            await P.expectRefusal(.invalid, "内容") { try await town.addNote(id: id, .opinion, text: "  ") }
            try await app.services(p.zhujian).cases.step(id: id, .reply, .init(category: "A", note: "已完成"))
            await P.expectRefusal(.forbidden) { try await town.addNote(id: id, .opinion, text: "补充") }
            #expect(try await Self.count(app, "case_notes") == 1)
        }
    }

    @Test("an extension: the lead unit requests, beyond the limit and a second request are refused, HQ approves (the deadline moves) or refuses with a reason, once")
    func extensionRequest() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let id = try await Self.acceptedSuggestion(app, p)
            let unit = app.services(p.zhujian).cases, hq = app.services(p.hq).cases
            let before = try await unit.view(id: id)
            let due = CalendarDate(before.record.replyDue!)!
            let limit = before.loop.assignment!.extendLimit!
            #expect(before.noteActions.contains(.extension))
            // bad requests: nothing written
            await P.expectRefusal(.invalid, "\(limit)") { try await unit.requestExtension(id: id, due: limit.adding(days: 1).description, reason: "需省厅批复") }
            await P.expectRefusal(.invalid) { try await unit.requestExtension(id: id, due: due.description, reason: "需省厅批复") }
            await P.expectRefusal(.invalid, "理由") { try await unit.requestExtension(id: id, due: due.adding(days: 30).description, reason: " ") }
            await P.expectRefusal(.forbidden) { try await app.services(p.town).cases.requestExtension(id: id, due: due.adding(days: 30).description, reason: "x") }
            #expect(try await Self.count(app, "case_notes") == 0)

            let first = try await unit.requestExtension(id: id, due: due.adding(days: 30).description, reason: "需省厅批复")
            await P.expectRefusal(.conflict, "待审批") { try await unit.requestExtension(id: id, due: due.adding(days: 40).description, reason: "再延") }
            #expect(try await hq.pendingExtensions().map(\.id) == [first])
            await P.expectRefusal(.forbidden) { try await unit.decideExtension(noteID: first, approve: true) }
            await P.expectRefusal(.invalid, "理由") { try await hq.decideExtension(noteID: first, approve: false) }
            let refused = try await hq.decideExtension(noteID: first, approve: false, note: "理由不充分")
            #expect(refused.record.replyDue == due.description && refused.notes.first?.decision == "refused")
            await P.expectRefusal(.conflict) { try await hq.decideExtension(noteID: first, approve: true) }

            let second = try await unit.requestExtension(id: id, due: due.adding(days: 30).description, reason: "需省厅批复，已补充材料")
            let approved = try await hq.decideExtension(noteID: second, approve: true, note: "同意")
            let moved = calendarDue(due.adding(days: 30))
            #expect(approved.record.replyDue == moved.description, "\(approved.record.replyDue ?? "")")
            #expect(approved.events.last?.kind == "extend" && approved.loop.assignment?.extensions == 1)
            #expect(approved.notes.last?.decision == "approved" && approved.notes.last?.decidedBy == "hq")
            await P.expectRefusal(.conflict) { try await hq.decideExtension(noteID: second, approve: true) }
            #expect(try await hq.pendingExtensions().isEmpty)
        }
    }

    /// A date as the engine keeps an extension's due date (as given).
    func calendarDue(_ d: CalendarDate) -> CalendarDate { d }

    @Test("the three ones are recorded by the lead unit; a reply in category B owes a 续报 six months on, a report moves it, resolved ends it; A owes none")
    func threeOnesAndFollowUp() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let id = try await Self.acceptedSuggestion(app, p)
            let unit = app.services(p.zhujian).cases
            var v = try await unit.view(id: id)
            #expect(v.threeOnes && Set(v.noteActions).isSuperset(of: [.report, .visit, .revisit]))
            try await unit.addNote(id: id, .report, text: "向王代表当面报到", head: true)
            try await unit.addNote(id: id, .visit, text: "赴园区道路现场")
            await P.expectRefusal(.forbidden) { try await app.services(p.town).cases.addNote(id: id, .visit, text: "x") }
            await P.expectRefusal(.forbidden, "续报") { try await unit.addNote(id: id, .followup, text: "进展") }
            let today = CalendarDate(ChinaDay.today())!
            v = try await unit.step(id: id, .reply, .init(category: "B", note: "已列入明年计划"))
            let owed = CasePeriod.months(6).due(from: today, calendar: .shipped)
            #expect(v.record.followUpDue == owed.description)
            #expect(v.noteActions.contains(.followup))
            let box = try await unit.inbox()
            #expect(box.count(.followUp) == 1 && box.followUps.map(\.id) == [id])
            try await unit.addNote(id: id, .followup, text: "已完成设计招标")
            #expect(try await unit.view(id: id).record.followUpDue == CasePeriod.months(6).due(from: today, calendar: .shipped).description)
            try await unit.addNote(id: id, .followup, text: "道路已开工建设", resolved: true)
            v = try await unit.view(id: id)
            #expect(v.record.followUpDue == nil && !v.noteActions.contains(.followup))
            #expect(v.notes.map(\.kind) == ["report", "visit", "followup", "followup"] && v.notes[0].head)

            let other = try await Self.acceptedSuggestion(app, p)
            #expect(try await unit.step(id: other, .reply, .init(category: "A", note: "已解决")).record.followUpDue == nil)
            let hazard = try await app.services(p.hq).cases.register(.init(type: "hazard", title: "厂房消防通道堵塞", requester: "安委办",
                                                                             assign: .init(unit: "住建局", due: today.adding(days: 10).description)))
            #expect(!(try await unit.view(id: hazard.id).threeOnes))
        }
    }

    @Test("attachments: a PDF on a step is listed and served to those who see the case; a file of another kind is refused and nothing is written")
    func attachments() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let id = try await Self.acceptedSuggestion(app, p)
            let unit = app.services(p.zhujian).cases
            let exe = Data([0x4D, 0x5A, 0x90, 0x00] + Array(repeating: 0, count: 60))
            await P.expectRefusal(.unsupportedType, "答复函.pdf") {
                try await unit.step(id: id, .reply, .init(category: "A", note: "已解决"), files: [.init(name: "答复函.pdf", contentType: "", data: exe)])
            }
            #expect(try await unit.view(id: id).record.state == "handling")
            #expect(try await Self.count(app, "case_attachments") == 0)
            let v = try await unit.step(id: id, .reply, .init(category: "A", note: "已解决"),
                                        files: [.init(name: "../../答复函.pdf", contentType: "", data: Self.pdf)])
            let a = try #require(v.attachments.first)
            #expect(a.name == "答复函.pdf" && a.eventSeq == v.events.last?.seq && a.size == Int64(Self.pdf.count))
            #expect(try await app.services(p.deputy).cases.attachment(caseID: id, id: a.id).1 == Self.pdf)
            await P.expectRefusal(.notFound) { _ = try await app.services(p.jingxin).cases.attachment(caseID: id, id: a.id) }
            await P.expectRefusal(.notFound) { _ = try await app.services(p.otherDeputy).cases.attachment(caseID: id, id: a.id) }
        }
    }

    @Test("a meeting assigns its items on the spot: a bad item names its number and nothing is written; its page counts the answered")
    func meeting() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let hq = app.services(p.hq).cases
            let today = CalendarDate(ChinaDay.today())!
            func input(_ items: [CaseService.MeetingInput.Item]) -> CaseService.MeetingInput {
                .init(kind: "永商会客厅", title: "第12期永商会客厅", chair: "常务副市长", attendees: ["甲公司 张总", "乙公司 李总"], items: items)
            }
            let good: [CaseService.MeetingInput.Item] = [
                .init(type: "enterprise_request", title: "厂区门前道路破损", requester: "甲公司 张总", leadUnit: "住建局"),
                .init(type: "enterprise_request", title: "用工招聘难", requester: "乙公司 李总", leadUnit: "经信局", coUnits: ["古山镇"]),
                .init(type: "task", title: "协调园区供电扩容", leadUnit: "古山镇", due: today.adding(days: 20).description),
            ]
            await P.expectRefusal(.invalid, "第 3 项") {
                _ = try await hq.createMeeting(input(Array(good.prefix(2)) + [.init(type: "task", title: "无期限的任务", leadUnit: "古山镇")]))
            }
            await P.expectRefusal(.invalid, "第 2 项") {
                _ = try await hq.createMeeting(input([good[0], .init(type: "enterprise_request", title: "x", leadUnit: "不存在局")]))
            }
            await P.expectRefusal(.invalid, "会议类型") { _ = try await hq.createMeeting(.init(kind: "茶话会", title: "x", chair: "y", items: good)) }
            await P.expectRefusal(.forbidden) { _ = try await app.services(p.zhujian).cases.createMeeting(input(good)) }
            #expect(try await Self.count(app, "meetings") == 0)
            #expect(try await CaseServiceTests.counts(app).cases == 0)

            let made = try await hq.createMeeting(input(good))
            var m = try await hq.meeting(id: made.id)
            #expect(m.meeting.kind == "yongshang" && m.meeting.attendeeList.count == 2)
            #expect(m.items.map(\.title) == good.map(\.title) && m.items.allSatisfy { $0.state == "assigned" && $0.meetingId == made.id })
            #expect(Set(m.items.map { $0.type + $0.ref }).count == 3 && m.itemCount == 3 && m.answered == 0)
            #expect(m.items[0].requester == "甲公司 张总" && m.items[2].requester == "常务副市长")
            // 住建局 sees its own item only; answering it counts
            let zj = app.services(p.zhujian).cases
            let mine = try await zj.meeting(id: made.id)
            #expect(mine.items.map(\.title) == ["厂区门前道路破损"] && mine.itemCount == 3)
            try await zj.step(id: mine.items[0].id, .accept)
            try await zj.step(id: mine.items[0].id, .reply, .init(note: "已修复"))
            m = try await hq.meeting(id: made.id)
            #expect(m.answered == 1)
            #expect(try await hq.meetings().first?.answered == 1)
        }
    }

    @Test("the inbox counts every open case and shows a page of each group; yellow and red agree with each case's flag")
    func inboxPaging() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let today = CalendarDate(ChinaDay.today())!
            func d(_ n: Int) -> String { today.adding(days: n).description }
            var lines = ["编号,类型,事件,日期,单位,协办单位,办理期限,说明"]
            // 70 overdue (assigned between 75 and 6 days ago, due a few days after), 5 to accept
            for i in 0..<70 {
                let start = -75 + i
                lines += ["O\(i),整改事项,登记,\(d(start)),指挥部,,,", "O\(i),整改事项,交办,\(d(start)),古山镇,,\(d(start + 3)),",
                          "O\(i),整改事项,签收,\(d(start)),古山镇,,,"]
            }
            for i in 0..<5 { lines += ["N\(i),安全隐患,登记,\(d(0)),安委办,,,", "N\(i),安全隐患,交办,\(d(0)),古山镇,,\(d(30)),"] }
            let h = try CaseHistory(table: try CSVTable(data: Data(lines.joined(separator: "\n").utf8)))
            _ = try await app.services(p.hq).cases.importHistory(h, fileName: "inbox.csv")
            let s = app.services(p.town).cases
            let box = try await s.inbox(per: 50)
            #expect(box.count(.overdue) == 70 && box.overdue.count == 50 && box.count(.inProgress) == 70 && box.count(.toAccept) == 5)
            // the most urgent first
            #expect(box.overdue.map(\.0.ref).prefix(3) == ["O0", "O1", "O2"])
            let page2 = try await s.inbox(only: .overdue, page: 2, per: 50)
            #expect(page2.overdue.count == 20 && page2.rows.keys.map(\.self) == [.overdue] && page2.count(.overdue) == 70)
            // every overdue case's own flag, counted, equals the SQL counts
            let all = try await s.inbox(only: .overdue, per: 500).overdue
            let cal = app.serviceContext.calendar, red = app.serviceContext.caseTypes.redAfter
            let flags = all.map { CaseService.flag($0.0, at: today, calendar: cal, redAfter: red) }
            #expect(flags.filter { $0 == .red }.count == box.red && flags.filter { $0 == .yellow }.count == box.yellow)
            #expect(box.red > 0 && box.yellow > 0, "red \(box.red), yellow \(box.yellow)")
        }
    }

    @Test("over HTTP: a multipart reply with a PDF, its download (the deputy yes, another unit 404), a meeting in JSON, an extension requested and approved")
    func overHTTP() async throws {
        typealias S = SecurityTests
        try await TestApp.with { app in
            let w = try await S.world(app)
            let hq = try await S.session(app, w.account(.headquarters).id)
            let tax = try await S.session(app, w.account(.department).id)
            let deputy = try await S.session(app, w.account(.requester).id)
            let town = try await S.session(app, w.account(.town).id)
            var r = try await CasesAPITests.post(app, "/api/v1/cases", hq, #"{"type": "人大建议", "title": "减轻企业税费负担", "requester": "人大代表", "requester_login": "daibiao", "lead_unit": "市税务局"}"#)
            let id = try #require(try CasesAPITests.object(r)["id"] as? Int, "\(r.text)")
            r = try await CasesAPITests.post(app, "/api/v1/cases/\(id)/accept", tax, "{}")
            #expect(r.status == .ok, "\(r.text)")

            // the extension: requested in JSON, approved in JSON
            let due = try #require((try CasesAPITests.object(r)["case"] as? [String: Any])?["reply_due"] as? String)
            let later = CalendarDate(due)!.adding(days: 20).description
            r = try await CasesAPITests.post(app, "/api/v1/cases/\(id)/extension-requests", tax, #"{"due": "\#(later)", "reason": "需调研"}"#)
            #expect(try r.status == .created && (CasesAPITests.object(r)["notes"] as? [[String: Any]])?.first?["decision"] as? String == "pending", "\(r.text)")
            r = try await S.send(app, .GET, "/api/v1/extension-requests", headers: hq.headers)
            let note = try #require((try JSONSerialization.jsonObject(with: r.data) as? [[String: Any]])?.first?["id"] as? Int, "\(r.text)")
            r = try await CasesAPITests.post(app, "/api/v1/extension-requests/\(note)/decision", tax, #"{"approve": true}"#)
            #expect(r.status == .forbidden)
            r = try await CasesAPITests.post(app, "/api/v1/extension-requests/\(note)/decision", hq, #"{"approve": true, "note": "同意"}"#)
            #expect(try r.status == .ok && (CasesAPITests.object(r)["case"] as? [String: Any])?["reply_due"] as? String == later, "\(r.text)")

            // a multipart reply with a file
            let boundary = "----mujun\(UInt32.random(in: 0...UInt32.max))"
            var body = ByteBuffer()
            func part(_ name: String, _ value: String) { body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n") }
            part("category", "B"); part("note", "已列入计划"); part("head", "true")
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"dafu.pdf\"\r\nContent-Type: application/pdf\r\n\r\n")
            body.writeBytes(Self.pdf)
            body.writeString("\r\n--\(boundary)--\r\n")
            var headers = tax.postHeaders
            headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
            r = try await S.send(app, .POST, "/api/v1/cases/\(id)/reply", headers: headers, body: body)
            #expect(r.status == .ok, "\(r.text)")
            let detail = try CasesAPITests.object(r)
            let url = try #require((detail["attachments"] as? [[String: Any]])?.first?["url"] as? String, "\(r.text)")
            #expect(detail["follow_up_due"] is String, "a B reply owes a follow-up report")
            r = try await S.send(app, .GET, url, headers: deputy.headers)
            #expect(r.status == .ok && r.data == Self.pdf && r.headers.contentType?.subType == "pdf")
            r = try await S.send(app, .GET, url, headers: town.headers)
            #expect(r.status == .notFound)

            // a meeting in JSON; a bad item is 400 naming it
            r = try await CasesAPITests.post(app, "/api/v1/meetings", hq, #"{"kind": "weekly", "title": "第5周例会", "chair": "指挥长", "items": [{"type": "task", "title": "清理违建", "lead_unit": "古山镇"}]}"#)
            #expect(r.status == .badRequest && r.text.contains("第 1 项"), "\(r.text)")
            let dueTask = CalendarDate(ChinaDay.today())!.adding(days: 14).description
            r = try await CasesAPITests.post(app, "/api/v1/meetings", hq, #"{"kind": "weekly", "title": "第5周例会", "chair": "指挥长", "items": [{"type": "task", "title": "清理违建", "lead_unit": "古山镇", "due": "\#(dueTask)"}]}"#)
            #expect(r.status == .created, "\(r.text)")
            let mid = try #require(try CasesAPITests.object(r)["id"] as? Int)
            r = try await S.send(app, .GET, "/api/v1/meetings/\(mid)", headers: town.headers)
            #expect(try r.status == .ok && (CasesAPITests.object(r)["cases"] as? [[String: Any]])?.first?["title"] as? String == "清理违建", "\(r.text)")
        }
    }

    @Test("the battle map's layer: open cases on parcels as points with today's flag, within the reader's scope; the parcel page lists them")
    func mapLayerAndParcelPage() async throws {
        typealias S = SecurityTests
        try await TestApp.with { app in
            let w = try await S.world(app)
            try await LandPageTests.loadLand(app)
            struct Row: Decodable { var parcel_id: String; var town: String }
            let parcels = try await app.store.sql.select().columns("parcel_id", "town").from("parcels").orderBy("parcel_id").all(decoding: Row.self)
            let mine = try #require(parcels.first { $0.town == "古山镇" }), other = try #require(parcels.first { $0.town != "古山镇" })
            let today = CalendarDate(ChinaDay.today())!
            func d(_ n: Int) -> String { today.adding(days: n).description }
            let csv = """
                编号,类型,事件,日期,单位,协办单位,办理期限,说明,地块编号,验收结果
                M1,整治任务,登记,\(d(-60)),指挥部,,,,\(mine.parcel_id),
                M1,整治任务,交办,\(d(-60)),古山镇,,\(d(-30)),,,
                M1,整治任务,签收,\(d(-59)),古山镇,,,,,
                M2,整治任务,登记,\(d(-2)),指挥部,,,,\(other.parcel_id),
                M2,整治任务,交办,\(d(-2)),\(other.town),,\(d(40)),,,
                M3,整治任务,登记,\(d(-90)),指挥部,,,,\(mine.parcel_id),
                M3,整治任务,交办,\(d(-90)),古山镇,,\(d(-80)),,,
                M3,整治任务,签收,\(d(-90)),古山镇,,,,,
                M3,整治任务,答复,\(d(-85)),古山镇,,,,,
                M3,整治任务,验收,\(d(-84)),指挥部,,,,,通过
                M3,整治任务,销号,\(d(-84)),指挥部,,,,,
                """
            let h = try CaseHistory(table: try CSVTable(data: Data(csv.utf8)))
            _ = try await app.services(.system("test")).cases.importHistory(h, fileName: "map.csv")
            let hq = try await S.session(app, w.account(.headquarters).id)
            let town = try await S.session(app, w.account(.town).id)
            var r = try await S.send(app, .GET, "/api/v1/map/cases", headers: hq.headers)
            #expect(r.status == .ok, "\(r.text)")
            let all = try CasesAPITests.object(r)
            let features = try #require(all["features"] as? [[String: Any]])
            let props = features.compactMap { $0["properties"] as? [String: Any] }
            // the closed M3 is not on the map; M1 is red, M2 in progress
            #expect(props.compactMap { $0["ref"] as? String }.sorted() == ["M1", "M2"], "\(r.text)")
            #expect(props.first { $0["ref"] as? String == "M1" }?["flag"] as? String == "red")
            #expect(props.first { $0["ref"] as? String == "M2" }?["flag"] as? String == "")
            let point = try #require((features.first?["geometry"] as? [String: Any])?["coordinates"] as? [Double])
            #expect(point.count == 2 && (119...121).contains(point[0]) && (28...30).contains(point[1]), "\(point)")
            // the town sees its own case only
            r = try await S.send(app, .GET, "/api/v1/map/cases", headers: town.headers)
            #expect(try (CasesAPITests.object(r)["features"] as? [[String: Any]])?.compactMap { ($0["properties"] as? [String: Any])?["ref"] as? String } == ["M1"])
            // a case linked to a renewal cluster is on the map at the cluster; an unknown cluster is refused, naming it
            struct C: Decodable { var year: Int; var number: Int }
            let cluster = try #require(try await app.store.sql.select().columns("year", "number").from("land_clusters").first(decoding: C.self))
            let hqs = app.services(.system("test")).cases
            await P.expectRefusal(.invalid, "第 9999 片") {
                _ = try await hqs.register(.init(type: "task", title: "片区整治", requester: "指挥部", cluster: "\(cluster.year)-9999",
                                                 assign: .init(unit: "古山镇", due: d(30))))
            }
            let linked = try await hqs.register(.init(type: "task", title: "片区整治", requester: "指挥部", cluster: "\(cluster.year)-\(cluster.number)",
                                                      assign: .init(unit: "古山镇", due: d(30))))
            r = try await S.send(app, .GET, "/api/v1/map/cases", headers: hq.headers)
            let onCluster = try #require((try CasesAPITests.object(r)["features"] as? [[String: Any]])?.first { ($0["id"] as? Int).map(Int64.init) == linked.id })
            #expect((onCluster["properties"] as? [String: Any])?["cluster"] as? String == "\(cluster.year)-\(cluster.number)")
            #expect(((onCluster["geometry"] as? [String: Any])?["coordinates"] as? [Double])?.count == 2)
            r = try await S.send(app, .GET, "/cases/\(linked.id)", headers: hq.headers)
            #expect(r.text.contains("/map?year=\(cluster.year)&amp;cluster=\(cluster.number)") || r.text.contains("/map?year=\(cluster.year)&cluster=\(cluster.number)"))
            // the parcel page lists its cases (the closed one too)
            r = try await S.send(app, .GET, "/parcels/\(mine.parcel_id)", headers: town.headers)
            #expect(r.status == .ok && r.text.contains("id=\"linked-cases-table\"") && r.text.contains(">M1<") && r.text.contains(">M3<"), "\(r.text.prefix(300))")
        }
    }

    @Test("the administrator adds next year's arrangement: checked like the file, audited, in force at once and after a restart; others may not")
    func calendarYear() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let admin = try await AccountTools.createUser(store: app.store, login: "adm", displayName: "adm", unit: "", role: .admin, town: nil,
                                                          creditCode: nil, password: "Passw0rd!Passw0rd", mustChange: false,
                                                          towns: Rules.default.towns, actor: "test")
            let a = app.services(.user(Principal(userID: admin, login: "adm", displayName: "adm", role: .admin, unit: "", town: nil))).calendar
            let next = CalendarDate(ChinaDay.today())!.year + 1
            // a make-up day on a weekday is refused, naming it; a year long past is refused
            let weekday = (1...7).map { CalendarDate(year: next, month: 2, day: $0)! }.first { !$0.isWeekend }!
            await P.expectRefusal(.invalid, weekday.description) { try await a.setYear(next, holidays: "\(next)-01-01", workdays: weekday.description) }
            await P.expectRefusal(.invalid, "\(next)") { try await a.setYear(next, holidays: "\(next)-02-30", workdays: "") }
            await P.expectRefusal(.invalid) { try await a.setYear(2020, holidays: "2020-01-01", workdays: "") }
            await P.expectRefusal(.forbidden) { try await app.services(p.hq).calendar.setYear(next, holidays: "\(next)-01-01", workdays: "") }
            #expect(try await a.storedYears().isEmpty)
            #expect(!app.serviceContext.calendar.covers(next))

            let saturday = (1...14).map { CalendarDate(year: next, month: 2, day: $0)! }.first { $0.weekday == 6 }!
            try await a.setYear(next, holidays: "\(next)-01-01\n\(next)-02-15..\(next)-02-21", workdays: saturday.description)
            let cal = app.serviceContext.calendar
            #expect(cal.covers(next) && !cal.isWorkday(CalendarDate(year: next, month: 2, day: 16)!) && cal.isWorkday(saturday))
            // a case assigned on the last working day before the holiday counts past it
            let before = CalendarDate(year: next, month: 2, day: 13)!
            #expect(cal.addingWorkdays(1, to: before) == cal.workdayOnOrAfter(CalendarDate(year: next, month: 2, day: 22)!))
            #expect(try await a.storedYears().map(\.year) == [next])
            // a fresh application on the same database puts the stored year in force again
            var fresh = app.serviceContext
            fresh.calendar = .shipped
            #expect(!fresh.calendar.covers(next))
            fresh.addCalendarYears(try await app.services(.system("t")).calendar.storedCalendar())
            #expect(fresh.calendar.covers(next) && !fresh.calendar.isWorkday(CalendarDate(year: next, month: 2, day: 16)!))
            let audit = try await app.store.sql.select().column("target").from("audit_log").where("action", .equal, "calendar.year")
                .all(decodingColumn: "target", as: String.self)
            #expect(audit == ["工作日历 \(next) 年"])
        }
    }

    @Test("appeals run on the engine: filing registers and assigns an appeal case to the headquarters with its deadlines; the generic steps refuse it")
    func appealsOnTheEngine() async throws {
        typealias S = SecurityTests
        try await TestApp.with { app in
            let w = try await S.world(app)
            let c = try #require(try await app.store.appealCase(appealID: w.appealID))
            #expect(c.type == "appeal" && c.leadUnit == "指挥部" && c.state == "assigned" && c.creditCode == w.ownCode)
            let today = CalendarDate(ChinaDay.today())!
            #expect(c.acceptDue == WorkCalendar.shipped.addingWorkdays(2, to: today).description, "签收: 2 working days")
            let hq = try await S.session(app, w.account(.headquarters).id)
            var r = try await CasesAPITests.post(app, "/api/v1/cases/\(c.id)/close", hq, "{}")
            #expect(r.status == .forbidden && r.text.contains("申诉页面"), "\(r.text)")
            r = try await S.send(app, .GET, "/cases/\(c.id)", headers: hq.headers)
            #expect(r.status == .ok && r.text.contains("/appeals/\(w.appealID)") && !r.text.contains("id=\"case-actions\""))
            // the appeal's own step is the engine's: the case is signed for with it, in one transaction
            r = try await CasesAPITests.post(app, "/api/v1/appeals/\(w.appealID)/accept", hq, "{}")
            #expect(r.status == .ok, "\(r.text)")
            let after = try #require(try await app.store.appealCase(appealID: w.appealID))
            #expect(after.state == "handling" && after.acceptedOn == today.description && after.replyDue == WorkCalendar.shipped.addingWorkdays(10, to: today).description)
            // not counted in the bulletins of the configured types
            let b = try await app.services(.system("t")).cases.bulletin(from: today.adding(days: -10), to: today, asOf: today)
            #expect(!b.cases.contains(where: { $0.type == "appeal" }))
        }
    }

    @Test("the bulletin's packed reads keep free text whole (a title and a note holding the field separator U+001F; the row separator U+001E dropped), on SQLite and PostgreSQL")
    func packedReads() async throws {
        try await TestApp.with { app in
            let csv = """
                ref,title,type,event,date,unit,due,note
                P1,甲\u{1F}乙\u{1E}丙,suggestion,register,2025-03-01,王代表,,
                P1,,suggestion,assign,2025-03-03,住建局,,交办\u{1F}说明\u{1E}完
                P1,,suggestion,accept,2025-03-04,住建局,,
                P2,另一件,task,register,2025-03-01,指挥部,,
                P2,,task,assign,2025-03-02,古山镇,2025-03-31,
                """
            _ = try await app.services(.system("t")).cases.importHistory(try CaseHistory(table: try CSVTable(data: Data(csv.utf8))), fileName: "p.csv")
            let rows = try await app.store.bulletinRows(type: "suggestion")
            #expect(rows.map(\.title) == ["甲\u{1F}乙丙"] && rows.first?.state == "handling" && rows.first?.head == false)
            #expect(rows.first?.lastEventOn == CalendarDate("2025-03-04") && rows.first?.acceptedOn == CalendarDate("2025-03-04"))
            // replayed as of 3/3: only the case with a later event, with its events dated by then
            let events = try await app.store.bulletinEvents(type: nil, asOf: "2025-03-03", recordedBy: nil)
            let p1 = try #require(rows.first?.id)
            #expect(Array(events.keys) == [p1])
            #expect(events[p1]?.map(\.kind) == [.register, .assign] && events[p1]?.last?.note == "交办\u{1F}说明完")
            #expect(events[p1]?[1].unit == "住建局" && events[p1]?[1].due == nil && events[p1]?[1].passed == nil)
            // recorded after a time: no case yet; every case once the time is before them
            #expect(try await app.store.casesRecorded(after: Store.nowMicros()).isEmpty)
            #expect(try await app.store.casesRecorded(after: 0).count == 2)
        }
    }
}
