import Foundation

/// What the reminder jobs tell, as data: a case that entered its due-soon window, became overdue
/// or turned red since the last working day (each named once, not every day like the digest's
/// counts); the monthly report a project still owes, on the first working day of the month and
/// on its due day; and the draft of last month's 督导通报 for headquarters to check and issue.
///
/// ```swift
/// let before = Reminders.previousWorkday(day, calendar: cal)
/// Reminders.change(nextDue: due, flagBefore: .none, flagNow: .yellow, before: before, day: day,
///                  calendar: cal, soonDays: 3)                          // .overdue
/// Reminders.reportStage(on: day, month: YearMonth(day).previous, types: projectTypes, calendar: cal)  // .opening
/// ```
public enum Reminders {
    /// What happened to a case's deadline between the previous working day and today.
    public enum Change: String, Sendable, Hashable, CaseIterable {
        case red, overdue, dueSoon = "due-soon"

        public var chinese: String {
            switch self {
            case .red: "转为红牌"
            case .overdue: "今日起逾期（黄牌）"
            case .dueSoon: "进入 3 个工作日内到期"
            }
        }
    }

    /// The working day before `d` (the day the previous reminders were worked out for).
    public static func previousWorkday(_ d: CalendarDate, calendar: WorkCalendar) -> CalendarDate {
        var k = d.dayNumber - 1
        while !calendar.isWorkday(CalendarDate(dayNumber: k)) { k -= 1 }
        return CalendarDate(dayNumber: k)
    }

    /// The change of a case between `before` and `day`: red when it is red now and was not;
    /// overdue when it is late now and was not; due-soon when its next deadline (`nextDue`, not
    /// missed) is within `soonDays` working days of `day` and was not within them of `before`.
    public static func change(nextDue: CalendarDate?, flagBefore: CaseFlag, flagNow: CaseFlag, before: CalendarDate, day: CalendarDate,
                              calendar: WorkCalendar, soonDays: Int) -> Change? {
        if flagNow == .red { return flagBefore == .red ? nil : .red }
        if flagNow == .yellow { return flagBefore == .none ? .overdue : nil }
        guard let due = nextDue, due >= day, due <= calendar.addingWorkdays(soonDays, to: day) else { return nil }
        return due > calendar.addingWorkdays(soonDays, to: before) ? .dueSoon : nil
    }

    /// One case in a unit's reminder.
    public struct Item: Sendable, Hashable {
        public var ref: String
        public var title: String
        public var due: CalendarDate?
        public var change: Change
        public init(ref: String, title: String, due: CalendarDate?, change: Change) {
            self.ref = ref; self.title = title; self.due = due; self.change = change
        }
    }

    /// At most this many cases are named per group; the rest are counted.
    public static let listed = 20

    /// The message to `unit` about `items` on `day` (subject, body); nil when there is nothing.
    public static func deadlineMessage(unit: String, day: CalendarDate, items: [Item]) -> (subject: String, body: String)? {
        guard !items.isEmpty else { return nil }
        var lines = ["\(unit)：\(day) 期限提醒"]
        var counts: [String] = []
        for change in Change.allCases {
            let group = items.filter { $0.change == change }.sorted { ($0.due?.dayNumber ?? 0, $0.ref) < ($1.due?.dayNumber ?? 0, $1.ref) }
            guard !group.isEmpty else { continue }
            counts.append("\(change.chinese) \(group.count) 件")
            lines.append("\(change.chinese)（\(group.count) 件）：")
            for i in group.prefix(listed) {
                lines.append("  \(i.ref)「\(i.title)」" + (i.due.map { "，期限 \($0)" } ?? ""))
            }
            if group.count > listed { lines.append("  …等 \(group.count) 件") }
        }
        lines.append("请登录亩均平台“我的待办”办理。")
        return ("【亩均督办】\(unit) 期限提醒：" + counts.joined(separator: "，"), lines.joined(separator: "\n"))
    }

    // MARK: monthly reports (每月有进展)

    public enum ReportStage: String, Sendable, Hashable {
        /// the month's first working day: last month's report may be filed now
        case opening
        /// the report's due day
        case dueToday = "due-today"
    }

    /// Whether `day` is a day to remind the report of `month`: the first working day of the
    /// month after it, and its due day (the `report_day`-th working day).
    public static func reportStage(on day: CalendarDate, month: YearMonth, types: ProjectTypes, calendar: WorkCalendar) -> ReportStage? {
        let due = types.reportDue(for: month, calendar: calendar)
        if day == due { return .dueToday }
        let next = month.next
        guard let first = CalendarDate(year: next.year, month: next.month, day: 1) else { return nil }
        return day == calendar.workdayOnOrAfter(first) ? .opening : nil
    }

    /// The message to a town about its projects that owe `month`'s report.
    public static func reportMessage(town: String, month: YearMonth, due: CalendarDate, stage: ReportStage,
                                     projects: [(ref: String, name: String)]) -> (subject: String, body: String)? {
        guard !projects.isEmpty else { return nil }
        let when = stage == .dueToday ? "今天（\(due)）是报送截止日" : "请于 \(due) 前报送"
        var lines = ["\(town)：\(month.chinese)的项目月报尚未报送 \(projects.count) 个，\(when)，逾期未报的项目将判为滞后并督办。"]
        for p in projects.sorted(by: { $0.ref < $1.ref }).prefix(listed) { lines.append("  \(p.ref) \(p.name)") }
        if projects.count > listed { lines.append("  …等 \(projects.count) 个") }
        lines.append("请登录亩均平台“项目”页报送月报。")
        return ("【亩均督办】\(town) \(month.chinese)项目月报待报送 \(projects.count) 个" + (stage == .dueToday ? "（今日截止）" : ""),
                lines.joined(separator: "\n"))
    }

    // MARK: the bulletin's draft (督导通报草稿)

    /// The period of the draft made in `month`: the whole month before, as of its last day.
    public static func draftPeriod(madeIn month: YearMonth) -> (from: CalendarDate, to: CalendarDate) {
        let last = month.previous
        let from = CalendarDate(year: last.year, month: last.month, day: 1)!
        let to = CalendarDate(dayNumber: CalendarDate(year: month.year, month: month.month, day: 1)!.dayNumber - 1)
        return (from, to)
    }

    /// The message to headquarters with the draft's figures and the link that opens it.
    public static func draftMessage(_ b: Bulletin, link: String) -> (subject: String, body: String) {
        let assigned = b.rows.reduce(0) { $0 + $1.assigned }
        let due = b.rows.reduce(0) { $0 + $1.replyDue }, onTime = b.rows.reduce(0) { $0 + $1.repliedOnTime }
        let yellow = b.rows.reduce(0) { $0 + $1.yellow }, red = b.rows.reduce(0) { $0 + $1.red }
        let rate = due > 0 ? String(format: "%.1f%%", Double(onTime) * 100 / Double(due)) : "—"
        let bottom = b.rows.filter(\.bottom).map(\.unit)
        var lines = ["督导通报草稿：\(b.from) 至 \(b.to) 交办的事项，截至 \(b.asOf)。",
                     "交办 \(assigned) 件，应答复 \(due) 件，按时答复 \(onTime) 件（按时率 \(rate)），黄牌 \(yellow) 件，红牌 \(red) 件。"]
        if !bottom.isEmpty { lines.append("末位单位：" + bottom.joined(separator: "、")) }
        lines.append("核对后在平台填写文号发布：\(link)")
        return ("【亩均督办】\(b.from.year)年\(b.from.month)月督导通报草稿（待核发）", lines.joined(separator: "\n"))
    }
}
