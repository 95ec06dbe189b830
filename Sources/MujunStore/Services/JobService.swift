import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The scheduled jobs: each runs once per period across every instance (see ``JobSpec`` and
/// `Store.claimJob`), by the scheduler inside `mujun serve` or by `mujun jobs run-due` from cron.
///
/// ```swift
/// let ran = try await services.jobs.runDue(settings: .init(instance: "i1", databaseURL: url))
/// // [daily-digest 2026-12-05: succeeded, 43 messages] …
/// try await services.jobs.runs(limit: 50)      // what the admin page shows, failures with their error
/// ```
public struct JobService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    /// What a job needs from the process: who runs it, the database (for backups), where backups go.
    public struct Settings: Sendable {
        public var instance: String
        public var databaseURL: String
        /// MUJUN_BACKUP_DIR: the daily backup's folder (nil: the backup job says so and does nothing)
        public var backupDir: String?
        /// MUJUN_BACKUP_KEEP: how many daily backups to keep (14)
        public var backupKeep: Int
        public init(instance: String, databaseURL: String, backupDir: String? = nil, backupKeep: Int = 14) {
            self.instance = instance; self.databaseURL = databaseURL; self.backupDir = backupDir; self.backupKeep = backupKeep
        }
    }

    /// Every scheduled job (China Standard Time).
    public static let specs: [JobSpec] = [
        JobSpec(name: "daily-backup", chinese: "每日备份（保留最近若干份）", schedule: .daily(hour: 2, minute: 30)),
        JobSpec(name: "projects-check", chinese: "项目滞后检查与自动督办", schedule: .daily(hour: 6, minute: 0)),
        JobSpec(name: "daily-digest", chinese: "各单位每日待办提醒（待签收、临期、逾期、待验收）", schedule: .daily(hour: 7, minute: 30)),
        JobSpec(name: "deadline-reminders", chinese: "期限提醒：新进入临期、新逾期、转红牌的事项逐件点名（工作日）", schedule: .daily(hour: 8, minute: 0)),
        JobSpec(name: "report-reminders", chinese: "项目月报提醒（每月第一个工作日、报送截止日）", schedule: .daily(hour: 8, minute: 30)),
        JobSpec(name: "bulletin-draft", chinese: "上月督导通报草稿（发指挥部核对后发布）", schedule: .monthly(day: 1, hour: 8, minute: 0)),
    ]

    /// One run made by this call.
    public struct Ran: Sendable, CustomStringConvertible {
        public var job: String
        public var period: String
        public var attempt: Int
        public var succeeded: Bool
        public var detail: String
        public var messages: Int
        public var description: String {
            "\(job) \(period)（第 \(attempt) 次 / attempt \(attempt)）：\(succeeded ? "完成 / succeeded" : "失败 / failed")，\(detail)"
                + (messages > 0 ? "；\(messages) 条消息进入发件箱 / messages queued" : "")
        }
    }

    /// Runs every job whose period is due at `now` and that no instance has claimed (or whose
    /// retry or takeover is due), one after another; `only` runs just that job.
    public func runDue(now: Date = Date(), settings: Settings, only: String? = nil) async throws -> [Ran] {
        if !caller.isSystem { try caller.require(.manageSettings) }
        let t = ChinaTime(now)
        var ran: [Ran] = []
        for spec in Self.specs where only == nil || spec.name == only {
            guard let period = spec.period(at: t), let r = try await run(spec, period: period, now: now, settings: settings) else { continue }
            ran.append(r)
        }
        return ran
    }

    /// Runs `name` now, whatever its schedule (the admin's 立即运行): a period of its own,
    /// `manual-<time>`, so that it never takes the place of the scheduled run.
    public func runNow(_ name: String, now: Date = Date(), settings: Settings) async throws -> Ran {
        try caller.require(.manageSettings)
        guard let spec = Self.specs.first(where: { $0.name == name }) else { throw ServiceError(.notFound, "没有任务 \(name) / no such job") }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let ran = try await run(spec, period: "manual-" + f.string(from: now), now: now, settings: settings) else {
            throw ServiceError(.conflict, "任务正在运行 / the job is running")
        }
        try await unscoped.audit(actor: caller.actor, action: "jobs.run", target: spec.name, detail: caller.detail(ran.detail))
        return ran
    }

    /// One run of `spec` for `period`, when this caller claims it (nil: another has it, it is
    /// done, or its retry is not due): the work, then its end and its messages in one transaction.
    func run(_ spec: JobSpec, period: String, now: Date, settings: Settings) async throws -> Ran? {
        guard let attempt = try await unscoped.claimJob(spec, period: period, instance: settings.instance, nowUs: Store.micros(now)) else {
            return nil
        }
        var outcome: (detail: String, messages: [Store.OutboxMessage]) = ("", [])
        var failure: String?
        do { outcome = try await work(spec, period: period, now: now, settings: settings) } catch {
            failure = (error as? ServiceError)?.message ?? String(describing: error)
        }
        let written = try await unscoped.finishJob(spec.name, period: period, attempt: attempt, succeeded: failure == nil, error: failure,
                                                   detail: outcome.detail.isEmpty ? nil : outcome.detail, messages: outcome.messages,
                                                   nowUs: Store.micros(Date()))
        return Ran(job: spec.name, period: period, attempt: attempt, succeeded: failure == nil, detail: failure ?? outcome.detail, messages: written)
    }

    /// A job's work at `now`: what it did (for the run's row) and the messages it wants sent.
    func work(_ spec: JobSpec, period: String, now: Date, settings: Settings) async throws -> (String, [Store.OutboxMessage]) {
        let t = ChinaTime(now)
        let day = CalendarDate(year: t.year, month: t.month, day: t.day)!
        switch spec.name {
        case "daily-backup":
            guard let dir = settings.backupDir, !dir.isEmpty else { return ("未设置 MUJUN_BACKUP_DIR，未备份 / MUJUN_BACKUP_DIR not set: nothing backed up", []) }
            let engine = try Backup.engine(of: settings.databaseURL)
            let made = try await Backup.make(url: settings.databaseURL, to: Backup.timestampedPath(dir: dir, engine: engine))
            let removed = try Backup.prune(dir: dir, keep: settings.backupKeep)
            return ("\(made.path)（\(made.bytes) 字节）；删除旧备份 \(removed.count) 份", [])
        case "projects-check":
            let s = try await services.acting(as: .system("job:projects-check")).projects.supervise()
            return ("判定 \(s.judged) 个项目，滞后 \(s.late) 个，新督办 \(s.opened) 件，销号 \(s.closed) 件", [])
        case "daily-digest":
            return try await digest(period: period)
        case "deadline-reminders":
            return try await deadlineReminders(period: period, day: day)
        case "report-reminders":
            return try await reportReminders(period: period, day: day)
        case "bulletin-draft":
            return try await bulletinDraft(period: period, day: day)
        default:
            throw ServiceError.invalid("未知的任务 \(spec.name) / unknown job")
        }
    }

    /// Each unit with open work gets one message: how many cases wait for it to sign, are due
    /// within the next working days, are overdue (yellow, red) and await its verification.
    func digest(period: String) async throws -> (String, [Store.OutboxMessage]) {
        let cases = services.acting(as: .system("job:daily-digest")).cases
        var messages: [Store.OutboxMessage] = []
        // a manual run's period is `manual-<time>`: its messages carry the day
        let day = period.hasPrefix("manual-") ? cases.today.description : period
        for unit in try await cases.units() {
            let box = try await cases.inbox(unit: unit, page: 1, per: 1)
            let toAccept = box.counts[.toAccept] ?? 0, soon = box.counts[.dueSoon] ?? 0
            let overdue = box.counts[.overdue] ?? 0, verify = box.counts[.verification] ?? 0
            guard toAccept + soon + overdue + verify > 0 else { continue }
            var lines = ["\(unit)：今日待办（\(day)）"]
            if toAccept > 0 { lines.append("待签收 \(toAccept) 件") }
            if soon > 0 { lines.append("3 个工作日内到期 \(soon) 件") }
            if overdue > 0 { lines.append("已逾期 \(overdue) 件（黄牌 \(box.yellow)、红牌 \(box.red)）") }
            if verify > 0 { lines.append("待验收 \(verify) 件") }
            lines.append("请登录亩均平台“我的待办”办理。")
            messages.append(Store.OutboxMessage(kind: "digest", recipient: unit,
                                                subject: "【亩均督办】\(unit) \(day) 待办：逾期 \(overdue) 件，待签收 \(toAccept) 件",
                                                body: lines.joined(separator: "\n"), dedupeKey: "digest:\(period):\(unit)"))
        }
        return ("\(messages.count) 个单位有待办", messages)
    }

    /// Each unit with a case that, since the last working day, came within its due-soon window,
    /// became overdue or turned red gets one message naming those cases (``Reminders``). Working
    /// days only: on the first after a weekend or a holiday, what changed over it is named.
    func deadlineReminders(period: String, day: CalendarDate) async throws -> (String, [Store.OutboxMessage]) {
        let cases = services.acting(as: .system("job:deadline-reminders")).cases
        let calendar = cases.calendar, types = cases.types
        guard calendar.isWorkday(day) else { return ("\(day) 不是工作日，不提醒 / not a working day", []) }
        let before = Reminders.previousWorkday(day, calendar: calendar)
        var messages: [Store.OutboxMessage] = []
        var named = 0
        for unit in try await cases.units() {
            // the unit's inbox as it stands on `day`: due within its window, and overdue
            let w = cases.window(unit: unit, on: day)
            var items: [Reminders.Item] = []
            for group in [InboxGroup.dueSoon, .overdue] {
                var offset = 0
                while true {
                    let rows = try await unscoped.inboxRows(group, w, limit: 500, offset: offset)
                    for r in rows {
                        let now = CaseService.flag(r, at: day, calendar: calendar, redAfter: types.redAfter)
                        let then = CaseService.flag(r, at: before, calendar: calendar, redAfter: types.redAfter)
                        let due = CaseService.nextDue(r)
                        if let change = Reminders.change(nextDue: due, flagBefore: then, flagNow: now, before: before, day: day,
                                                         calendar: calendar, soonDays: types.dueSoon) {
                            items.append(.init(ref: r.ref, title: r.title, due: due, change: change))
                        }
                    }
                    if rows.count < 500 { break }
                    offset += 500
                }
            }
            guard let m = Reminders.deadlineMessage(unit: unit, day: day, items: items) else { continue }
            named += items.count
            messages.append(Store.OutboxMessage(kind: "reminder", recipient: unit, subject: m.subject, body: m.body,
                                                dedupeKey: "deadline:\(period):\(unit)"))
        }
        return ("\(messages.count) 个单位、\(named) 件事项需提醒", messages)
    }

    /// On the first working day of a month and on the report's due day, each town with projects
    /// that owe last month's report (每月有进展) gets one message naming them.
    func reportReminders(period: String, day: CalendarDate) async throws -> (String, [Store.OutboxMessage]) {
        let projects = services.acting(as: .system("job:report-reminders")).projects
        let month = YearMonth(day).previous
        guard let stage = Reminders.reportStage(on: day, month: month, types: projects.types, calendar: projects.calendar) else {
            return ("今天不是\(month.chinese)月报的提醒日 / not a reminder day", [])
        }
        let due = projects.types.reportDue(for: month, calendar: projects.calendar)
        let open = try await projects.list().filter {
            $0.state != "completed" && (CalendarDate($0.startOn).map { YearMonth($0) <= month } ?? false)
        }
        let reported = try await unscoped.reportedMonths(projectIDs: open.map(\.id))
        let owing = Dictionary(grouping: open.filter { !(reported[$0.id]?.contains(month) ?? false) }, by: \.town)
        var messages: [Store.OutboxMessage] = []
        for (town, list) in owing.sorted(by: { $0.key < $1.key }) {
            guard let m = Reminders.reportMessage(town: town, month: month, due: due, stage: stage, projects: list.map { ($0.ref, $0.name) }) else { continue }
            messages.append(Store.OutboxMessage(kind: "reminder", recipient: town, subject: m.subject, body: m.body,
                                                dedupeKey: "report:\(period):\(month):\(stage.rawValue):\(town)"))
        }
        return ("\(month.chinese)月报未报 \(owing.values.reduce(0) { $0 + $1.count }) 个项目，提醒 \(messages.count) 个镇街", messages)
    }

    /// On the first of a month: last month's bulletin, worked out as a draft, and a message to
    /// headquarters with its figures and the link that opens it for checking and issuing.
    func bulletinDraft(period: String, day: CalendarDate) async throws -> (String, [Store.OutboxMessage]) {
        let cases = services.acting(as: .system("job:bulletin-draft")).cases
        let month = YearMonth(parsing: period) ?? YearMonth(day)
        let (from, to) = Reminders.draftPeriod(madeIn: month)
        let b = try await cases.bulletin(from: from, to: to, asOf: to)
        guard b.rows.contains(where: { $0.assigned > 0 }) else { return ("\(from)–\(to) 没有交办事项，不出草稿 / nothing assigned", []) }
        let link = "/cases/bulletin?from=\(from)&to=\(to)&as_of=\(to)"
        let m = Reminders.draftMessage(b, link: link)
        // to the unit(s) of the headquarters' accounts, whatever the city calls it
        let hq = Set(try await unscoped.users().filter { $0.role == Role.headquarters.rawValue && !$0.disabled && !$0.unit.isEmpty }.map(\.unit))
        let recipients = hq.isEmpty ? [Role.headquarters.chinese] : hq.sorted()
        return ("草稿 \(from)–\(to)：\(b.rows.count) 个单位；\(link)",
                recipients.map { Store.OutboxMessage(kind: "bulletin-draft", recipient: $0, subject: m.subject, body: m.body,
                                             dedupeKey: "bulletin-draft:\(period):\($0)") })
    }

    /// The latest runs, newest first (the admin page).
    public func runs(limit: Int = 100) async throws -> [Store.JobRun] {
        if !caller.isSystem { try caller.require(.manageSettings) }
        return try await unscoped.jobRuns(limit: min(max(limit, 1), 1000))
    }

    /// How many runs of each job are in each state (for /metrics).
    public func runCounts() async throws -> [(job: String, state: String, count: Int)] {
        if !caller.isSystem { try caller.require(.manageSettings) }
        return try await unscoped.jobRunCounts()
    }

    /// The outbox: the latest messages and the count in each state.
    public func outbox(limit: Int = 50) async throws -> (messages: [Store.OutboxRecord], counts: [String: Int]) {
        if !caller.isSystem { try caller.require(.manageSettings) }
        return (try await unscoped.outbox(limit: min(max(limit, 1), 1000)), try await unscoped.outboxCounts())
    }
}
