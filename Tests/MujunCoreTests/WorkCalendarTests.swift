import Foundation
import Testing
@testable import MujunCore

/// The work calendar of CASES.md §3: dates, the shipped 2025/2026 arrangements, and refusals.
@Suite struct WorkCalendarTests {
    let cal = WorkCalendar.shipped
    func d(_ s: String) -> CalendarDate { CalendarDate(s)! }

    @Test func datesAgreeWithFoundationEveryDayFrom1900To2100() {
        var g = Calendar(identifier: .gregorian)
        g.timeZone = TimeZone(identifier: "UTC")!
        var date = g.date(from: DateComponents(year: 1900, month: 1, day: 1))!
        let end = g.date(from: DateComponents(year: 2100, month: 12, day: 31))!
        var n = CalendarDate(year: 1900, month: 1, day: 1)!.dayNumber
        while date <= end {
            let c = g.dateComponents([.year, .month, .day, .weekday], from: date)
            let ours = CalendarDate(dayNumber: n)
            #expect(ours.year == c.year && ours.month == c.month && ours.day == c.day, "\(ours) vs \(c)")
            #expect(ours.dayNumber == n)
            #expect(ours.weekday == (c.weekday! + 5) % 7 + 1, "\(ours)")  // Foundation: 1 = Sunday
            if ours.year != c.year || ours.month != c.month || ours.day != c.day { return }
            n += 1
            date = g.date(byAdding: .day, value: 1, to: date)!
        }
    }

    @Test func parsingAndMonths() {
        #expect(CalendarDate("2025-02-29") == nil && CalendarDate("2024-02-29") != nil)
        #expect(CalendarDate("2025-1-01") == nil && CalendarDate("2025-01-01x") == nil && CalendarDate("") == nil)
        #expect(d("1970-01-01").dayNumber == 0 && d("1970-01-01").weekday == 4)
        #expect(d("2025-01-31").adding(months: 1) == d("2025-02-28"))
        #expect(d("2024-01-31").adding(months: 1) == d("2024-02-29"))
        #expect(d("2025-11-30").adding(months: 3) == d("2026-02-28"))
        #expect(d("2025-12-15").adding(months: 1) == d("2026-01-15"))
        #expect(d("2025-09-30").description == "2025-09-30")
    }

    @Test func shippedArrangements() {
        // the issue's example: National Day and Mid-Autumn, October 1–8, 2025
        #expect(cal.addingWorkdays(1, to: d("2025-09-30")) == d("2025-10-09"))
        #expect(cal.isWorkday(d("2025-09-28")) && d("2025-09-28").isWeekend)    // a Sunday worked
        #expect(cal.isWorkday(d("2025-10-11")))                                  // a Saturday worked
        #expect(!cal.isWorkday(d("2025-10-08")) && !cal.isWorkday(d("2025-01-28")))
        #expect(cal.isWorkday(d("2026-01-04")) && cal.isWorkday(d("2026-02-14")) && cal.isWorkday(d("2026-02-28")))
        #expect(!cal.isWorkday(d("2026-02-23")) && !cal.isWorkday(d("2026-10-07")) && !cal.isWorkday(d("2026-09-25")))
        // counted by hand from the notices: 261 weekdays, 18 / 19 of them off, 5 / 6 weekend days worked
        #expect(cal.workdays(after: d("2024-12-31"), through: d("2025-12-31")) == 248)
        #expect(cal.workdays(after: d("2025-12-31"), through: d("2026-12-31")) == 248)
        #expect(cal.covers(2025) && cal.covers(2026) && !cal.covers(2027))
    }

    @Test func deadlines() {
        #expect(cal.addingWorkdays(0, to: d("2025-10-01")) == d("2025-10-01"))
        #expect(cal.addingWorkdays(3, to: d("2025-09-26")) == d("2025-09-30"))      // Sat 27 off, Sun 28 worked
        #expect(cal.due(months: 3, from: d("2025-07-01")) == d("2025-10-09"))       // Oct 1 is a holiday
        #expect(cal.due(days: 15, from: d("2025-09-16")) == d("2025-10-09"))
        #expect(cal.due(days: 1, from: d("2025-11-06")) == d("2025-11-07"))
        #expect(cal.workdays(after: d("2025-09-30"), through: d("2025-10-09")) == 1)
        #expect(cal.workdays(after: d("2025-10-09"), through: d("2025-10-09")) == 0)
        // a year without an arrangement: weekends only
        #expect(!cal.isWorkday(d("2027-01-02")) && cal.isWorkday(d("2027-01-01")))
    }

    @Test func moreYearsFromConfiguration() throws {
        let extra = try WorkCalendar(yaml: """
            years:
              2027:
                holidays: [2027-01-01]
                workdays: [2027-01-02]
            """)
        let merged = cal.merging(extra)
        #expect(merged.covers(2027) && !merged.isWorkday(d("2027-01-01")) && merged.isWorkday(d("2027-01-02")))
        #expect(merged.years[2025] == cal.years[2025])
    }

    @Test(arguments: [
        ("years:\n  2027:\n    holidays: [2027-13-01]", "2027-13-01"),
        ("years:\n  2027:\n    holidays: [2028-01-01]", "不在 2027 年内"),
        ("years:\n  2027:\n    holidays: [2027-02-10..2027-02-01]", "止日早于起日"),
        ("years:\n  2027:\n    holidays: [2027-01-02]\n    workdays: [2027-01-02]", "既是假日又是调休上班日"),
        ("years:\n  2027:\n    workdays: [2027-01-04]", "不是周六或周日"),
        ("years: [", "无法解析"),
    ])
    func badArrangementsAreRefusedNamingTheEntry(yaml: String, expected: String) {
        do {
            _ = try WorkCalendar(yaml: yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }
}
