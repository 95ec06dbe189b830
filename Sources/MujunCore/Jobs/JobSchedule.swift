import Foundation

/// When a scheduled job is due, as data: each run of a job belongs to a period (a day, a month);
/// a period's run is claimed once across every instance (`job_runs`, unique on job and period),
/// retried after a failure with a growing pause, and taken over when the instance running it
/// stopped answering (its lease ran out).
///
/// ```swift
/// let spec = JobSpec(name: "daily-digest", chinese: "每日待办提醒", schedule: .daily(hour: 7, minute: 30))
/// spec.period(at: ChinaTime(year: 2026, month: 12, day: 5, hour: 8, minute: 0))   // "2026-12-05"
/// spec.period(at: ChinaTime(year: 2026, month: 12, day: 5, hour: 7, minute: 0))   // nil: not yet
/// ```
public struct JobSpec: Sendable, Hashable {
    public enum Schedule: Sendable, Hashable {
        /// every day at this time (China Standard Time)
        case daily(hour: Int, minute: Int)
        /// every month on this day at this time
        case monthly(day: Int, hour: Int, minute: Int)
    }

    public var name: String
    public var chinese: String
    public var schedule: Schedule
    /// runs of a period, the first included, before it stays failed
    public var maxAttempts: Int
    /// how long a run may go without finishing before another instance takes it over, seconds
    public var lease: Int

    public init(name: String, chinese: String, schedule: Schedule, maxAttempts: Int = 4, lease: Int = 900) {
        self.name = name; self.chinese = chinese; self.schedule = schedule; self.maxAttempts = maxAttempts; self.lease = lease
    }

    /// The period due at `t`: today's (this month's) once its time has come, else nil. A period
    /// whose time passed while nothing ran (every instance down) is not run late: the next one is.
    public func period(at t: ChinaTime) -> String? {
        switch schedule {
        case let .daily(hour, minute):
            guard (t.hour, t.minute) >= (hour, minute) else { return nil }
            return String(format: "%04d-%02d-%02d", t.year, t.month, t.day)
        case let .monthly(day, hour, minute):
            guard (t.day, t.hour, t.minute) >= (day, hour, minute) else { return nil }
            return String(format: "%04d-%02d", t.year, t.month)
        }
    }

    /// The pause after failed attempt `n` (1-based) before the next: 1, 4, 16 minutes… at most an hour.
    public static func retryPause(afterAttempt n: Int) -> Int {
        min(3600, 60 * Int(pow(4.0, Double(max(0, n - 1)))))
    }

    public var scheduleText: String {
        switch schedule {
        case let .daily(h, m): String(format: "每天 %02d:%02d", h, m)
        case let .monthly(d, h, m): String(format: "每月 %d 日 %02d:%02d", d, h, m)
        }
    }
}

/// A wall-clock time in China (UTC+8, no daylight saving), the zone every schedule is written in.
public struct ChinaTime: Sendable, Hashable {
    public var year, month, day, hour, minute: Int
    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        self.year = year; self.month = month; self.day = day; self.hour = hour; self.minute = minute
    }

    public init(_ date: Date) {
        let s = Int64(floor(date.timeIntervalSince1970)) + 8 * 3600
        let days = Int(s >= 0 ? s / 86400 : (s - 86399) / 86400)
        let rest = Int(s - Int64(days) * 86400)
        let d = CalendarDate(dayNumber: days)
        self.init(year: d.year, month: d.month, day: d.day, hour: rest / 3600, minute: rest % 3600 / 60)
    }
}
