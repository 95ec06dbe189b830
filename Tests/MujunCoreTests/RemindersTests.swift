import Foundation
import Testing
@testable import MujunCore

/// The reminder jobs' rules (issue 12, part 2): which case changed since the last working day,
/// the days a monthly report is reminded, the draft bulletin's period, the messages' form; and
/// the requester told of a reply (part 3, per-user settings).
@Suite struct RemindersTests {
    let cal = WorkCalendar.shipped
    func d(_ s: String) -> CalendarDate { CalendarDate(s)! }

    @Test func theDayBeforeIsTheLastWorkingDay() {
        #expect(Reminders.previousWorkday(d("2026-03-09"), calendar: cal) == d("2026-03-06"), "Monday → Friday")
        #expect(Reminders.previousWorkday(d("2026-03-10"), calendar: cal) == d("2026-03-09"))
        // after the National Day holiday of 2025 (10/1–10/8): the last working day is 9/30
        #expect(Reminders.previousWorkday(d("2025-10-09"), calendar: cal) == d("2025-09-30"))
    }

    @Test func aCaseIsNamedOnTheDayItChangesOnly() {
        func change(_ due: String?, _ before: CaseFlag, _ now: CaseFlag, on day: String) -> Reminders.Change? {
            let day = d(day)
            return Reminders.change(nextDue: due.map(d), flagBefore: before, flagNow: now,
                                    before: Reminders.previousWorkday(day, calendar: cal), day: day, calendar: cal, soonDays: 3)
        }
        // due Thursday 3/12: within 3 working days from Monday 3/9, not from Friday 3/6
        #expect(change("2026-03-12", .none, .none, on: "2026-03-09") == .dueSoon)
        #expect(change("2026-03-12", .none, .none, on: "2026-03-10") == nil, "named once")
        #expect(change("2026-03-13", .none, .none, on: "2026-03-09") == nil, "not yet")
        #expect(change("2026-03-13", .none, .none, on: "2026-03-10") == .dueSoon)
        // a deadline already missed is not due soon; no deadline, nothing
        #expect(change("2026-03-06", .none, .none, on: "2026-03-09") == nil)
        #expect(change(nil, .none, .none, on: "2026-03-09") == nil)
        // overdue: the first day late; red: the day it turns red, also straight from on time
        #expect(change("2026-03-06", .none, .yellow, on: "2026-03-09") == .overdue)
        #expect(change("2026-03-06", .yellow, .yellow, on: "2026-03-10") == nil)
        #expect(change("2026-03-06", .yellow, .red, on: "2026-03-20") == .red)
        #expect(change("2026-03-06", .none, .red, on: "2026-03-20") == .red)
        #expect(change("2026-03-06", .red, .red, on: "2026-03-23") == nil)
    }

    @Test func aUnitsMessageNamesTheCasesByChangeAndCountsTheRest() throws {
        #expect(Reminders.deadlineMessage(unit: "古山镇", day: d("2026-03-09"), items: []) == nil)
        var items = (1...25).map { Reminders.Item(ref: String(format: "2026-RW%03d", $0), title: "拆违\($0)", due: d("2026-03-06"), change: .overdue) }
        items.append(.init(ref: "2026-RD001", title: "道路", due: d("2026-03-12"), change: .dueSoon))
        items.append(.init(ref: "2026-RW100", title: "围墙", due: d("2026-02-20"), change: .red))
        let m = try #require(Reminders.deadlineMessage(unit: "古山镇", day: d("2026-03-09"), items: items))
        #expect(m.subject == "【亩均督办】古山镇 期限提醒：转为红牌 1 件，今日起逾期（黄牌） 25 件，进入 3 个工作日内到期 1 件")
        let lines = m.body.split(separator: "\n").map(String.init)
        #expect(lines[1] == "转为红牌（1 件）：" && lines[2].contains("2026-RW100「围墙」，期限 2026-02-20"))
        #expect(lines.filter { $0.contains("2026-RW0") }.count == Reminders.listed)
        #expect(lines.contains("  …等 25 件") && m.body.contains("2026-RD001「道路」，期限 2026-03-12"))
    }

    @Test func monthlyReportsAreRemindedOnTheFirstWorkingDayAndOnTheDueDay() throws {
        let types = ProjectTypes.default
        let feb = YearMonth(year: 2026, month: 2)
        // March 2026: the 2nd is its first working day; the 5th working day, the 6th, is the due day
        #expect(Reminders.reportStage(on: d("2026-03-02"), month: feb, types: types, calendar: cal) == .opening)
        #expect(Reminders.reportStage(on: d("2026-03-06"), month: feb, types: types, calendar: cal) == .dueToday)
        #expect(Reminders.reportStage(on: d("2026-03-03"), month: feb, types: types, calendar: cal) == nil)
        #expect(Reminders.reportStage(on: d("2026-03-01"), month: feb, types: types, calendar: cal) == nil, "a Sunday")
        let m = try #require(Reminders.reportMessage(town: "古山镇", month: feb, due: d("2026-03-06"), stage: .dueToday,
                                                     projects: [("XM-2", "乙"), ("XM-1", "甲")]))
        #expect(m.subject == "【亩均督办】古山镇 2026年2月项目月报待报送 2 个（今日截止）")
        #expect(m.body.contains("今天（2026-03-06）是报送截止日") && m.body.range(of: "XM-1")!.lowerBound < m.body.range(of: "XM-2")!.lowerBound)
        #expect(Reminders.reportMessage(town: "古山镇", month: feb, due: d("2026-03-06"), stage: .opening, projects: []) == nil)
    }

    @Test func theDraftCoversLastMonth() {
        #expect(Reminders.draftPeriod(madeIn: YearMonth(year: 2026, month: 3)) == (d("2026-02-01"), d("2026-02-28")))
        #expect(Reminders.draftPeriod(madeIn: YearMonth(year: 2026, month: 1)) == (d("2025-12-01"), d("2025-12-31")))
    }

    @Test func aReplyTellsTheRequestersWhoAskedToBeTold() throws {
        var loop = CaseLoop(type: CaseTypes.default.type(named: "人大建议")!)
        for e in [CaseEvent(.register, d("2025-09-26"), unit: "王代表"), CaseEvent(.assign, d("2025-09-30"), unit: "古山镇"),
                  CaseEvent(.accept, d("2025-10-09"), unit: "古山镇")] {
            try loop.apply(e)
        }
        let reply = CaseEvent(.reply, d("2025-11-03"), unit: "古山镇", category: "B")
        try loop.apply(reply)
        let m = CaseNotice.messages(after: reply, loop: loop, caseID: 5, ref: "2025-RD012", title: "道路", seq: 4, requesters: ["daibiao"])
        #expect(m.map(\.recipient) == ["user:daibiao"] && m[0].dedupeKey == "case:5:4:user:daibiao")
        #expect(m[0].body.contains("古山镇 答复（答复类别 B）") && m[0].body.contains("满意/基本满意/不满意"))
        #expect(CaseNotice.messages(after: reply, loop: loop, caseID: 5, ref: "2025-RD012", title: "道路", seq: 4).isEmpty,
                "nobody asked to be told")
    }
}
