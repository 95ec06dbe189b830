import Foundation
import Yams

/// A day of the calendar, without time or zone: the date a deadline falls on.
///
/// ```swift
/// let d = CalendarDate("2025-09-30")!
/// d.adding(days: 1)            // 2025-10-01
/// d.adding(months: 5)          // 2026-02-28 (February has no 30th)
/// d.weekday                    // 2 (Tuesday; 1 = Monday … 7 = Sunday)
/// ```
public struct CalendarDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01, and the year, month and day packed (`year << 9 | month << 5 | day`):
    /// eight bytes, compared as one integer (a history holds a million events of several dates each).
    private let days: Int32
    private let ymd: Int32

    public var year: Int { Int(ymd >> 9) }
    public var month: Int { Int((ymd >> 5) & 0xF) }
    public var day: Int { Int(ymd & 0x1F) }
    /// Days since 1970-01-01 (negative before).
    public var dayNumber: Int { Int(days) }

    /// nil when the day does not exist (2025-02-29) or the year is outside 1…9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= CalendarDate.daysIn(month: month, year: year) else { return nil }
        ymd = Int32(year << 9 | month << 5 | day)
        days = Int32(CalendarDate.daysFromCivil(year, month, day))
    }

    /// `YYYY-MM-DD`; nil for anything else.
    public init?(_ iso: String) {
        // the stored and written form, read byte by byte (a bulletin parses hundreds of thousands)
        var fast: CalendarDate?? = nil
        var iso = iso
        iso.withUTF8 { b in
            guard b.count == 10 else { return }
            fast = .some(CalendarDate(utf8: b))
        }
        if let fast { guard let d = fast else { return nil }; self = d; return }
        let parts = iso.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The UTF-8 bytes of `YYYY-MM-DD` (exactly ten); nil for anything else.
    @inline(__always) public init?(utf8 b: UnsafeBufferPointer<UInt8>) {
        guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D else { return nil }
        var y = 0, m = 0, d = 0
        for i in 0..<10 where i != 4 && i != 7 {
            let c = b[i] &- 0x30
            guard c <= 9 else { return nil }
            if i < 4 { y = y * 10 + Int(c) } else if i < 7 { m = m * 10 + Int(c) } else { d = d * 10 + Int(c) }
        }
        self.init(year: y, month: m, day: d)
    }

    /// H. Hinnant's days_from_civil.
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date `dayNumber` days after 1970-01-01.
    public init(dayNumber z0: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        ymd = Int32(truncatingIfNeeded: year << 9 | m << 5 | d)
        days = Int32(truncatingIfNeeded: z0)
    }

    /// 1 = Monday … 7 = Sunday.
    public var weekday: Int { ((dayNumber % 7) + 7 + 3) % 7 + 1 }  // 1970-01-01 was a Thursday

    public var isWeekend: Bool { weekday >= 6 }

    public func adding(days n: Int) -> CalendarDate { CalendarDate(dayNumber: dayNumber + n) }

    /// The same day of the month `n` months later, or that month's last day when it has no such day.
    public func adding(months n: Int) -> CalendarDate {
        let total = year * 12 + (month - 1) + n
        let y = total / 12, m = total % 12 + 1
        return CalendarDate(year: y, month: m, day: min(day, CalendarDate.daysIn(month: m, year: y)))!
    }

    /// `YYYY-MM-DD` (written digit by digit: String(format:) costs microseconds, and a bulletin writes hundreds of thousands).
    public var description: String {
        // ten ASCII bytes: a small string, made without any allocation
        String(unsafeUninitializedCapacity: 10) { b in
            let y = max(0, min(9999, year))
            b[0] = UInt8(48 + y / 1000); b[1] = UInt8(48 + y / 100 % 10); b[2] = UInt8(48 + y / 10 % 10); b[3] = UInt8(48 + y % 10)
            b[4] = 0x2D; b[5] = UInt8(48 + month / 10); b[6] = UInt8(48 + month % 10)
            b[7] = 0x2D; b[8] = UInt8(48 + day / 10); b[9] = UInt8(48 + day % 10)
            return 10
        }
    }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool { a.days < b.days }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// Which days are working days (CASES.md §3): Monday to Friday, except public holidays, plus the
/// make-up working days (调休) of the State Council's arrangement for the year. 2025 and 2026 are
/// shipped (``shippedYAML``); more years come from configuration in the same form. A date in a
/// year that is not configured counts weekends only (``covers(_:)`` tells, for a warning).
///
/// ```swift
/// let cal = WorkCalendar.shipped
/// cal.addingWorkdays(1, to: CalendarDate("2025-09-30")!)    // 2025-10-09 (国庆、中秋 Oct 1–8)
/// cal.isWorkday(CalendarDate("2025-09-28")!)                // true: a Sunday worked (调休)
/// cal.due(months: 3, from: CalendarDate("2025-07-01")!)     // 2025-10-09: Oct 1 is a holiday
/// ```
public struct WorkCalendar: Sendable {
    /// One year's arrangement: days off on weekdays and weekend days worked.
    public struct Year: Sendable, Equatable {
        public var holidays: Set<CalendarDate>
        public var workdays: Set<CalendarDate>
    }

    public private(set) var years: [Int: Year]
    /// Whether each day is a working day, from the day number `tableStart`, over the configured
    /// years and one before and two after them (outside: weekends only), worked out once.
    private var table: [Bool] = []
    private var tableStart = 0

    public init(years: [Int: Year] = [:]) {
        self.years = years
        buildTable()
    }

    private mutating func buildTable() {
        guard let lo = years.keys.min(), let hi = years.keys.max(),
              let first = CalendarDate(year: max(1, lo - 1), month: 1, day: 1),
              let last = CalendarDate(year: min(9999, hi + 2), month: 12, day: 31) else { table = []; return }
        tableStart = first.dayNumber
        table = (first.dayNumber...last.dayNumber).map { arranged(CalendarDate(dayNumber: $0)) }
    }

    /// The year's arrangement, else the weekend.
    private func arranged(_ d: CalendarDate) -> Bool {
        if let y = years[d.year] {
            if y.workdays.contains(d) { return true }
            if y.holidays.contains(d) { return false }
        }
        return !d.isWeekend
    }

    /// Whether the day `k` days after 1970-01-01 is a working day.
    @inline(__always) func isWorkday(dayNumber k: Int) -> Bool {
        let i = k - tableStart
        if i >= 0 && i < table.count { return table[i] }
        return ((k % 7) + 7 + 3) % 7 < 5  // Monday to Friday (1970-01-01 was a Thursday)
    }

    /// The arrangement in YAML:
    /// ```yaml
    /// years:
    ///   2025:
    ///     holidays: [2025-01-01, 2025-01-28..2025-02-04]   # a day, or first..last
    ///     workdays: [2025-01-26, 2025-02-08]               # 调休 make-up days
    /// ```
    /// Refused, naming the entry: a date that is not `YYYY-MM-DD` or not in its year, a range
    /// whose end is before its start, a day that is both a holiday and a make-up day, and a
    /// make-up day that is not a Saturday or Sunday.
    public init(yaml: String) throws(CalendarError) {
        struct File: Decodable { var years: [Int: Entry] }
        struct Entry: Decodable { var holidays: [String]?; var workdays: [String]? }
        let file: File
        do { file = try YAMLDecoder().decode(File.self, from: yaml) } catch {
            throw CalendarError(zh: "工作日历无法解析：\(error)", en: "the work calendar cannot be parsed: \(error)")
        }
        var years: [Int: Year] = [:]
        for (year, entry) in file.years.sorted(by: { $0.key < $1.key }) {
            var y = Year(holidays: [], workdays: [])
            func day(_ s: String, _ what: String) throws(CalendarError) -> CalendarDate {
                guard let d = CalendarDate(s.trimmingCharacters(in: .whitespaces)) else {
                    throw CalendarError(zh: "\(year) 年\(what)「\(s)」不是 YYYY-MM-DD 日期", en: "\(year) \(what) \"\(s)\" is not a YYYY-MM-DD date")
                }
                guard d.year == year else {
                    throw CalendarError(zh: "\(year) 年\(what)「\(s)」不在 \(year) 年内", en: "\(year) \(what) \"\(s)\" is not in \(year)")
                }
                return d
            }
            for item in entry.holidays ?? [] {
                let ends = item.components(separatedBy: "..")
                guard ends.count <= 2 else {
                    throw CalendarError(zh: "\(year) 年假日「\(item)」应为日期或 起..止", en: "\(year) holiday \"\(item)\" must be a date or first..last")
                }
                let first = try day(ends[0], "假日"), last = try day(ends[ends.count - 1], "假日")
                guard first <= last else {
                    throw CalendarError(zh: "\(year) 年假日「\(item)」止日早于起日", en: "\(year) holiday \"\(item)\" ends before it starts")
                }
                for n in first.dayNumber...last.dayNumber { y.holidays.insert(CalendarDate(dayNumber: n)) }
            }
            for item in entry.workdays ?? [] {
                let d = try day(item, "调休上班日")
                guard d.isWeekend else {
                    throw CalendarError(zh: "\(year) 年调休上班日 \(d) 不是周六或周日", en: "\(year) make-up working day \(d) is not a Saturday or Sunday")
                }
                y.workdays.insert(d)
            }
            if let both = y.holidays.intersection(y.workdays).min() {
                throw CalendarError(zh: "\(both) 既是假日又是调休上班日", en: "\(both) is both a holiday and a make-up working day")
            }
            years[year] = y
        }
        self.years = years
        buildTable()
    }

    /// This calendar with `other`'s years added (a year in both: `other`'s arrangement).
    public func merging(_ other: WorkCalendar) -> WorkCalendar {
        WorkCalendar(years: years.merging(other.years) { _, new in new })
    }

    /// Whether the year's arrangement is configured (else weekends only).
    public func covers(_ year: Int) -> Bool { years[year] != nil }

    public func isWorkday(_ d: CalendarDate) -> Bool { isWorkday(dayNumber: d.dayNumber) }

    /// The `n`-th working day after `s` (`s` itself not counted); `s` for `n` ≤ 0.
    public func addingWorkdays(_ n: Int, to s: CalendarDate) -> CalendarDate {
        guard n > 0 else { return s }
        var k = s.dayNumber, left = n
        while left > 0 {
            k += 1
            if isWorkday(dayNumber: k) { left -= 1 }
        }
        return CalendarDate(dayNumber: k)
    }

    /// `d`, or the first working day after it.
    public func workdayOnOrAfter(_ d: CalendarDate) -> CalendarDate {
        var k = d.dayNumber
        while !isWorkday(dayNumber: k) { k += 1 }
        return k == d.dayNumber ? d : CalendarDate(dayNumber: k)
    }

    /// `n` calendar days from `s`, moved to the next working day when it falls on a day off.
    public func due(days n: Int, from s: CalendarDate) -> CalendarDate { workdayOnOrAfter(s.adding(days: n)) }

    /// `n` months from `s` (the month's last day when it has no such day), moved to the next
    /// working day when it falls on a day off.
    public func due(months n: Int, from s: CalendarDate) -> CalendarDate { workdayOnOrAfter(s.adding(months: n)) }

    /// The working days in (`a`, `b`]: after `a`, up to and including `b` (0 when `b` ≤ `a`).
    public func workdays(after a: CalendarDate, through b: CalendarDate) -> Int {
        guard b > a else { return 0 }
        var n = 0
        for k in (a.dayNumber + 1)...b.dayNumber where isWorkday(dayNumber: k) { n += 1 }
        return n
    }

    /// The arrangements of 2025 and 2026 as the State Council published them
    /// (国办发明电〔2024〕12号, 国办发明电〔2025〕7号).
    public static let shippedYAML = """
        years:
          2025:
            # 元旦 1/1; 春节 1/28–2/4; 清明 4/4–6; 劳动节 5/1–5; 端午 5/31–6/2; 国庆、中秋 10/1–8
            holidays: [2025-01-01, 2025-01-28..2025-02-04, 2025-04-04..2025-04-06, 2025-05-01..2025-05-05,
                       2025-05-31..2025-06-02, 2025-10-01..2025-10-08]
            workdays: [2025-01-26, 2025-02-08, 2025-04-27, 2025-09-28, 2025-10-11]
          2026:
            # 元旦 1/1–3; 春节 2/15–23; 清明 4/4–6; 劳动节 5/1–5; 端午 6/19–21; 中秋 9/25–27; 国庆 10/1–7
            holidays: [2026-01-01..2026-01-03, 2026-02-15..2026-02-23, 2026-04-04..2026-04-06,
                       2026-05-01..2026-05-05, 2026-06-19..2026-06-21, 2026-09-25..2026-09-27,
                       2026-10-01..2026-10-07]
            workdays: [2026-01-04, 2026-02-14, 2026-02-28, 2026-05-09, 2026-09-20, 2026-10-10]
        """

    /// The shipped calendar (2025 and 2026).
    public static let shipped: WorkCalendar = {
        do { return try WorkCalendar(yaml: shippedYAML) } catch { fatalError("the shipped work calendar: \(error)") }
    }()
}

/// Why a work calendar was refused, in Chinese and English.
public struct CalendarError: Error, Sendable, CustomStringConvertible {
    public let zh: String, en: String
    public var description: String { "工作日历错误：\(zh) / work calendar error: \(en)" }
}

/// A date is written as `YYYY-MM-DD` in JSON (a parcel's dates, in its stored detail).
extension CalendarDate: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let d = CalendarDate(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a date (YYYY-MM-DD): \(s)")
        }
        self = d
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
