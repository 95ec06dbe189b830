import Foundation
import ArgumentParser
import MujunCore
import MujunServer

/// `mujun calendar …`: the work calendar of deadlines (CASES.md §3), without the database.
struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "工作日历（节假日与调休）/ the work calendar (holidays and make-up days)",
        discussion: "内置 2025、2026 年国务院放假安排；--calendar FILE 增加或替换年度（格式见 mujun calendar show）。",
        subcommands: [AddWorkdays.self, IsWorkday.self, Show.self])

    /// The shipped calendar, with the years of `--calendar FILE` added.
    struct CalendarOption: ParsableArguments {
        @Option(help: "附加的工作日历 YAML（默认 MUJUN_CALENDAR）/ a work calendar YAML adding or replacing years") var calendar: String?

        func load() throws -> WorkCalendar { try CalendarOption.load(calendar ?? ServerConfig().calendarPath) }

        /// The shipped calendar with the years of the YAML at `path` added; exits 2 naming a bad entry.
        static func load(_ path: String?) throws -> WorkCalendar {
            guard let path else { return .shipped }
            do {
                let text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)
                return WorkCalendar.shipped.merging(try WorkCalendar(yaml: text))
            } catch let e as CalendarError {
                warn(e.description); throw ExitCode(2)
            } catch {
                warn("无法读取工作日历 / cannot read the work calendar: \(path): \(error.localizedDescription)"); throw ExitCode(2)
            }
        }
    }

    static func date(_ s: String) throws -> CalendarDate {
        guard let d = CalendarDate(s) else { throw ValidationError("日期应为 YYYY-MM-DD / a date is YYYY-MM-DD: \(s)") }
        return d
    }

    /// Warns (on stderr) about dates in years without an arrangement.
    static func warnUncovered(_ dates: [CalendarDate], _ cal: WorkCalendar) {
        for y in Set(dates.map(\.year)).sorted() where !cal.covers(y) {
            warn("警告：\(y) 年未配置放假安排，只按周末计算 / warning: no arrangement for \(y), weekends only")
        }
    }

    /// `mujun calendar add-workdays 2025-09-30 1` → `2025-10-09`
    struct AddWorkdays: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-workdays", abstract: "DATE 之后第 N 个工作日（不含 DATE）/ the N-th working day after DATE")
        @Argument(help: "起始日期 YYYY-MM-DD") var date: String
        @Argument(help: "工作日数 N（≥ 0）") var days: Int
        @OptionGroup var options: CalendarOption

        func validate() throws {
            guard (0...10_000).contains(days) else { throw ValidationError("N 应在 0…10000 / N must be 0…10000") }
        }

        func run() throws {
            let cal = try options.load()
            let start = try CalendarCommand.date(date)
            let due = cal.addingWorkdays(days, to: start)
            CalendarCommand.warnUncovered([start, due], cal)
            print(due)
        }
    }

    /// `mujun calendar is-workday 2025-09-28` → `yes`
    struct IsWorkday: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "is-workday", abstract: "是否工作日：打印 yes 或 no / whether DATE is a working day: yes or no")
        @Argument(help: "日期 YYYY-MM-DD") var date: String
        @OptionGroup var options: CalendarOption

        func run() throws {
            let cal = try options.load()
            let d = try CalendarCommand.date(date)
            CalendarCommand.warnUncovered([d], cal)
            print(cal.isWorkday(d) ? "yes" : "no")
        }
    }

    /// `mujun calendar show [YEAR]`: the configured years, as YAML a `--calendar` file takes.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "打印节假日与调休上班日 / print the holidays and make-up days")
        @Argument(help: "年度（默认全部已配置年度）") var year: Int?
        @OptionGroup var options: CalendarOption

        func run() throws {
            let cal = try options.load()
            let years = year.map { [$0] } ?? cal.years.keys.sorted()
            print("years:")
            for y in years {
                guard let a = cal.years[y] else {
                    warn("\(y) 年未配置放假安排 / no arrangement for \(y)"); throw ExitCode(1)
                }
                print("  \(y):")
                print("    holidays: [\(a.holidays.sorted().map(\.description).joined(separator: ", "))]")
                print("    workdays: [\(a.workdays.sorted().map(\.description).joined(separator: ", "))]")
            }
        }
    }
}
