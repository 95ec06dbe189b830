import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The work calendar's years added by the administrator on the calendar page, checked as the
/// configuration file is (a make-up day must be a Saturday or Sunday, no day both a holiday and a
/// make-up day, every day in its year), stored, audited and put in force at once.
///
/// ```swift
/// try await services.calendar.setYear(2027, holidays: "2027-01-01\n2027-02-05..2027-02-13", workdays: "2027-02-14")
/// services.context.calendar.isWorkday(CalendarDate("2027-02-08")!)   // false: 春节
/// ```
public struct CalendarService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    /// A year as recorded on the page.
    public struct StoredYear: Codable, Sendable, Hashable {
        public var year: Int
        public var holidays: String
        public var workdays: String
        public var recordedBy: String
        public var recordedUs: Int64
        enum CodingKeys: String, CodingKey { case year, holidays, workdays, recordedBy = "recorded_by", recordedUs = "recorded_us" }

        /// The entries, one per line.
        static func entries(_ text: String) -> [String] {
            text.split(whereSeparator: { $0.isNewline || ",，、;；".contains($0) || $0 == " " })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }

        /// The calendar of this year alone, or the first problem with it.
        public func calendar() throws(CalendarError) -> WorkCalendar {
            func list(_ xs: [String]) -> String { "[" + xs.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
            let yaml = "years:\n  \(year):\n    holidays: \(list(Self.entries(holidays)))\n    workdays: \(list(Self.entries(workdays)))\n"
            return try WorkCalendar(yaml: yaml)
        }
    }

    /// The years recorded on the page (oldest first).
    public func storedYears() async throws -> [StoredYear] {
        try await unscoped.sql.select().columns("*").from("calendar_years").orderBy("year")
            .all(decoding: StoredYear.self, with: Store.caseDecoder)
    }

    /// The stored years as one calendar (what `configure` adds to the shipped and configured years).
    public func storedCalendar() async throws -> WorkCalendar {
        var c = WorkCalendar()
        for y in try await storedYears() { c = c.merging(try y.calendar()) }
        return c
    }

    /// Puts the stored years in force when they changed since this process last read them — on
    /// another instance, or by the `mujun` tool: one read of the `calendar` revision (raised by
    /// the database on every change of `calendar_years`), the years read again only when it moved.
    /// The server calls it before every request, so the next request to any instance counts a
    /// year added on one of them.
    public func followStoredYears() async throws {
        let revision = try await unscoped.revision("calendar")
        guard revision != context.calendarRevision else { return }
        context.replaceStoredCalendarYears(try await storedCalendar(), revision: revision)
    }

    /// Records (or replaces) a year's arrangement. Refused: a year before this one (its deadlines
    /// are already counted), a year out of range, a bad entry (named), no holidays at all.
    public func setYear(_ year: Int, holidays: String, workdays: String) async throws {
        try caller.require(.manageSettings)
        let this = CalendarDate(ChinaDay.today())!.year
        guard (this...(this + 5)).contains(year) else {
            throw ServiceError.invalid("只能录入 \(this)–\(this + 5) 年的放假安排（往年的期限已按当时的日历计算）/ only \(this) to \(this + 5) can be entered")
        }
        guard !StoredYear.entries(holidays).isEmpty else {
            throw ServiceError.invalid("请填写 \(year) 年的节假日 / the holidays are required")
        }
        guard holidays.count <= 5000, workdays.count <= 2000 else { throw ServiceError.invalid("内容过长 / too long") }
        let y = StoredYear(year: year, holidays: StoredYear.entries(holidays).joined(separator: "\n"),
                           workdays: StoredYear.entries(workdays).joined(separator: "\n"), recordedBy: caller.actor, recordedUs: Store.nowMicros())
        let cal: WorkCalendar
        do { cal = try y.calendar() } catch { throw ServiceError.invalid(error.description) }
        let actor = caller.actor
        let detail = caller.detail("节假日 \(cal.years[year]?.holidays.count ?? 0) 天，调休上班 \(cal.years[year]?.workdays.count ?? 0) 天")
        try await unscoped.db.transaction { db in
            let tx = Store(db)
            try await tx.sql.delete(from: "calendar_years").where("year", .equal, year).run()
            try await tx.sql.insert(into: "calendar_years").columns("year", "holidays", "workdays", "recorded_by", "recorded_us")
                .values(SQLBind(y.year), SQLBind(y.holidays), SQLBind(y.workdays), SQLBind(y.recordedBy), SQLBind(y.recordedUs)).run()
            try await tx.audit(actor: actor, action: "calendar.year", target: "工作日历 \(year) 年", detail: detail)
        }
        context.addCalendarYears(cal)
    }
}
