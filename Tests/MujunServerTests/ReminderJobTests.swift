import Foundation
import Testing
import Vapor
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// The reminder jobs (issue 12, part 2) and the per-user notification settings (part 3), in the
/// database: a case named on the working day it turned overdue, once; last month's bulletin
/// drafted for headquarters; the monthly report owed, by town; a requester told of a reply; a
/// unit's staff member who follows the unit. On SQLite, and on PostgreSQL in `make test-postgres`.
@Suite("Reminder jobs and per-user notification settings", .serialized)
struct ReminderJobTests {
    static func at(_ day: CalendarDate, _ time: String) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: "\(day)T\(time):00+08:00"))
    }
    static let settings = JobService.Settings(instance: "t", databaseURL: "sqlite://:memory:")

    @Test("a case is named on the working day it turns overdue, once; weekends are quiet; last month's bulletin is drafted for 指挥部")
    func deadlineRemindersAndDraft() async throws {
        try await TestApp.with { app in
            let p = try await CaseServiceTests.people(app)
            let hq = app.services(p.hq).cases
            let new = try await hq.register(.init(type: "task", title: "拆除违建围墙", requester: "指挥部", date: "2026-02-27",
                                                  assign: .init(unit: "古山镇", due: "2026-03-31")))
            let record = try await hq.view(id: new.id).record
            #expect(record.state == "assigned")
            let acceptDue = try #require(record.acceptDue.flatMap(CalendarDate.init))
            let cal = WorkCalendar.shipped
            let day = cal.addingWorkdays(1, to: acceptDue)
            let jobs = app.systemService(as: "test").jobs
            let ran = try await jobs.runDue(now: try Self.at(day, "08:10"), settings: Self.settings, only: "deadline-reminders")
            #expect(ran.count == 1 && ran[0].succeeded && ran[0].messages == 1, "\(ran)")
            let box = try await jobs.outbox(limit: 50).messages
            let m = try #require(box.first { $0.kind == "reminder" })
            #expect(m.recipient == "古山镇" && m.subject.contains("今日起逾期（黄牌） 1 件"), "\(m.subject)")
            #expect(m.body.contains("\(new.ref)「拆除违建围墙」，期限 \(acceptDue)"), "\(m.body)")
            // the same period again: nothing; the next working day: the case is not named again
            #expect(try await jobs.runDue(now: try Self.at(day, "09:00"), settings: Self.settings, only: "deadline-reminders").isEmpty)
            let next = cal.addingWorkdays(1, to: day)
            let later = try await jobs.runDue(now: try Self.at(next, "08:10"), settings: Self.settings, only: "deadline-reminders")
            #expect(later.count == 1 && later[0].messages == 0, "\(later)")
            // a Saturday: not a working day, nobody told
            var saturday = next
            while cal.isWorkday(saturday) { saturday = saturday.adding(days: 1) }
            let weekend = try await jobs.runDue(now: try Self.at(saturday, "08:10"), settings: Self.settings, only: "deadline-reminders")
            #expect(weekend.count == 1 && weekend[0].messages == 0 && weekend[0].detail.contains("不是工作日"), "\(weekend)")

            // on 1 March the bulletin of February is drafted: the case assigned on 27 February counted, HQ told
            let draft = try await jobs.runDue(now: try Self.at(CalendarDate("2026-03-01")!, "08:30"), settings: Self.settings, only: "bulletin-draft")
            #expect(draft.count == 1 && draft[0].succeeded && draft[0].messages == 1, "\(draft)")
            let d = try #require(try await jobs.outbox(limit: 50).messages.first { $0.kind == "bulletin-draft" })
            #expect(d.recipient == "指挥部" && d.subject == "【亩均督办】2026年2月督导通报草稿（待核发）")
            #expect(d.body.contains("2026-02-01 至 2026-02-28 交办的事项") && d.body.contains("交办 1 件"), "\(d.body)")
            #expect(d.body.contains("/cases/bulletin?from=2026-02-01&to=2026-02-28&as_of=2026-02-28"))
            // a month with nothing assigned: no draft
            let empty = try await jobs.runDue(now: try Self.at(CalendarDate("2026-05-01")!, "08:30"), settings: Self.settings, only: "bulletin-draft")
            #expect(empty.count == 1 && empty[0].messages == 0 && empty[0].detail.contains("没有交办事项"), "\(empty)")
        }
    }

    @Test("on the first working day of the month a town is told of its projects that owe last month's report, and only those; once filed, not again")
    func reportReminders() async throws {
        try await TestApp.with { app in
            let p = try await CaseServiceTests.people(app)
            // A (古山镇) started three months back and filed nothing; B (古山镇) and C (石柱镇) started this month
            let ids = try await ProjectServiceTests.load(app, p)
            let s = app.systemService(as: "test")
            let cal = WorkCalendar.shipped
            let today = s.cases.today
            let first = cal.workdayOnOrAfter(CalendarDate(year: today.year, month: today.month, day: 1)!)
            let month = YearMonth(first).previous
            let ran = try await s.jobs.runDue(now: try Self.at(first, "08:40"), settings: Self.settings, only: "report-reminders")
            #expect(ran.count == 1 && ran[0].succeeded && ran[0].messages == 1, "\(ran)")
            let messages = try await s.jobs.outbox(limit: 50).messages.filter { $0.kind == "reminder" }
            #expect(messages.map(\.recipient) == ["古山镇"])
            let m = try #require(messages.first)
            #expect(m.subject == "【亩均督办】古山镇 \(month.chinese)项目月报待报送 1 个", "\(m.subject)")
            #expect(m.body.contains("  A 古山镇甲片整治") && !m.body.contains("古山镇乙片整治"), "\(m.body)")
            #expect(m.body.contains("请于 \(ProjectTypes.default.reportDue(for: month, calendar: cal)) 前报送"))
            // a day between the first working day and the due day: not a reminder day
            let second = cal.addingWorkdays(1, to: first)
            let due = ProjectTypes.default.reportDue(for: month, calendar: cal)
            if second < due {
                let quiet = try await s.jobs.runDue(now: try Self.at(second, "08:40"), settings: Self.settings, only: "report-reminders")
                #expect(quiet.count == 1 && quiet[0].messages == 0 && quiet[0].detail.contains("不是"), "\(quiet)")
            }
            // A's report filed: on the due day nobody is reminded
            _ = try await app.services(p.town).projects.fileReport(id: ids["A"]!, .init(month: month.description, text: "完成权属核查"))
            let onDue = try await s.jobs.runDue(now: try Self.at(due, "08:40"), settings: Self.settings, only: "report-reminders")
            #expect(onDue.count == 1 && onDue[0].succeeded && onDue[0].messages == 0, "\(onDue)")
        }
    }

    @Test("per-user settings: refused when wrong (nothing stored); the requester who set them is told of the reply, another is not; a follower gets the unit's messages")
    func perUserSettings() async throws {
        try await TestApp.with { app in
            let p = try await CaseServiceTests.people(app)
            let wang = app.services(p.deputy).notify, li = app.services(p.otherDeputy).notify
            await CaseServiceTests.expectRefusal(.invalid, "邮箱") {
                try await li.setOwnTarget(email: "not an address", webhookURL: nil, webhookSecret: nil, followUnit: false)
            }
            await CaseServiceTests.expectRefusal(.invalid, "密钥") {
                try await li.setOwnTarget(email: "li@example.cn", webhookURL: nil, webhookSecret: "SEC123", followUnit: false)
            }
            await CaseServiceTests.expectRefusal(.invalid, "本单位") {
                try await li.setOwnTarget(email: nil, webhookURL: nil, webhookSecret: nil, followUnit: true)
            }
            #expect(try await li.ownTarget() == nil)
            try await wang.setOwnTarget(email: "wang@example.cn", webhookURL: nil, webhookSecret: nil, followUnit: false)
            #expect(try await wang.ownTarget()?.email == "wang@example.cn")
            // a member of 住建局 follows the unit by DingTalk; the secret is kept when left blank with the same robot
            let zj = app.services(p.zhujian).notify
            try await zj.setOwnTarget(email: nil, webhookURL: "https://oapi.dingtalk.com/robot/send?access_token=zj", webhookSecret: "SECzj", followUnit: true)
            try await zj.setOwnTarget(email: nil, webhookURL: "https://oapi.dingtalk.com/robot/send?access_token=zj", webhookSecret: "", followUnit: true)
            #expect(try await zj.ownTarget()?.webhookSecret == "SECzj")

            let hq = app.services(p.hq).cases, unit = app.services(p.zhujian).cases
            let mine = try await hq.register(.init(type: "人大建议", title: "加快园区道路建设", requester: "王代表", requesterUser: p.deputy.principal!.userID,
                                                   assign: .init(unit: "住建局")))
            let theirs = try await hq.register(.init(type: "人大建议", title: "增设公交站", requester: "李代表", requesterUser: p.otherDeputy.principal!.userID,
                                                     assign: .init(unit: "住建局")))
            for id in [mine.id, theirs.id] {
                try await unit.step(id: id, .accept)
                try await unit.step(id: id, .reply, .init(category: "A", note: "已完成"))
            }
            let box = try await app.systemService(as: "test").jobs.outbox(limit: 50).messages
            let toUsers = box.filter { $0.recipient.hasPrefix("user:") }
            #expect(toUsers.map(\.recipient) == ["user:wang"], "\(toUsers.map(\.recipient))")
            #expect(toUsers[0].subject.contains(mine.ref) && toUsers[0].body.contains("请登录亩均平台查看答复并评价"))

            // the sender's routes: the unit's own channels and its follower's; a user's own
            let notify = app.systemService(as: "test").notify
            try await app.systemService(as: "test").notify.setTarget(unit: "住建局", email: "zj@example.cn", webhookURL: nil, webhookSecret: nil)
            let targets = Dictionary(uniqueKeysWithValues: try await notify.targets().map { ($0.unit, $0) })
            let followers = try await notify.followers()
            #expect(OutboxSender.channels("住建局", targets: targets, followers: followers).map(\.token) == ["email", "user:zj:webhook"])
            #expect(OutboxSender.channels("user:wang", targets: targets, followers: followers).map(\.token) == ["email"])
            #expect(OutboxSender.channels("经信局", targets: targets, followers: followers).isEmpty)
            // turning it off: no more messages to wang
            try await wang.setOwnTarget(email: nil, webhookURL: nil, webhookSecret: nil, followUnit: false)
            #expect(try await wang.ownTarget() == nil)
            let audit = try await app.store.auditLog(limit: 100).filter { $0.action == "notify.target" }
            #expect(audit.count == 5, "every change audited: \(audit.map(\.target))")
        }
    }
}
