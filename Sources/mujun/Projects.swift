import Foundation
import ArgumentParser
import MujunCore
import MujunStore

/// `mujun projects …`: projects (issue 10): files checked without the database, and the 滞后 check on the database.
struct ProjectsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projects",
        abstract: "项目（整治项目、揭榜挂帅、城市更新）/ projects: remediation, challenges, urban renewal",
        subcommands: [Check.self, Supervise.self])

    /// `mujun projects supervise [--town 古山镇]`: the 滞后 check on the database's projects as of
    /// today — what the headquarters' button does, for cron until the scheduler of issue 12.
    struct Supervise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "supervise",
            abstract: "滞后研判与自动督办（数据库中的项目）/ judge the stored projects today, open and close 督办 cases")
        @Option(help: "只研判该镇街的项目 / only this town's projects") var town: String?
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let s = try await withServices(db) { s in try await s.projects.supervise(town: town) }
            print("已研判 \(s.judged) 个项目：滞后 \(s.late) 个，新交办督办 \(s.opened) 件，自动办结 \(s.closed) 件 / judged \(s.judged), "
                  + "late \(s.late), opened \(s.opened), closed \(s.closed)")
        }
    }

    /// `mujun projects check 项目.csv 节点.csv --as-of 2025-10-15 [--reports 月报.csv]`: reads the
    /// project and milestone templates (all or nothing), then prints each project's progress and
    /// state, and the roll-up by town and for the city.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "检查项目表与节点表，并按日期给出进度、滞后情况和按镇街汇总 / check project files, print progress, lateness and the roll-up",
            discussion: "表格式见 FORMATS.md（项目、节点）。--reports：已报送的月报（列：项目编号、月份 YYYY-MM）；不给出时不判断月报滞后。出错时列出每个错误行，退出码 2。")
        @Argument(help: "项目表（CSV/XLSX）/ the projects table") var projects: String
        @Argument(help: "节点表（CSV/XLSX）/ the milestones table") var milestones: String
        @Option(name: .customLong("as-of"), help: "判断日期 YYYY-MM-DD（默认今天）/ the day judged (default today)") var asOf: String?
        @Option(help: "已报送月报表 / the monthly reports filed (项目编号, 月份)") var reports: String?
        @OptionGroup var calendar: CalendarCommand.CalendarOption

        func run() throws {
            let today = try asOf.map(CalendarCommand.date) ?? CalendarDate(ISO8601DateFormatter.string(
                from: Date(), timeZone: TimeZone(identifier: "Asia/Shanghai")!, formatOptions: [.withFullDate]))!
            let rows: [ProjectImport.Row]
            var filed: [String: Set<YearMonth>]?
            do {
                rows = try ProjectImport.read(projects: try TableReader.open(url: URL(fileURLWithPath: projects)),
                                              milestones: try TableReader.open(url: URL(fileURLWithPath: milestones)),
                                              types: .default, towns: Rules.default.towns, crossTown: true, today: today)
                if let reports { filed = try Self.reports(reports) }
            } catch {
                warn("项目导入失败，未读取任何数据 / projects refused, nothing was read:")
                for e in error.errors { warn("  \(e.description)") }
                if error.omitted > 0 { warn("  …另有 \(error.omitted) 处错误 / \(error.omitted) more") }
                throw ExitCode(2)
            }
            let judge = ProjectJudge(types: .default, calendar: try calendar.load())
            var statuses: [ProjectStatus] = []
            print("项目编号\t镇街\t进度\t状态\t滞后原因")
            for r in rows {
                var plan = r.plan
                // without the reports file, every month counts as reported: only milestones judge
                plan.reportedMonths = filed?[plan.ref] ?? (filed == nil ? Self.months(from: plan.start, to: today) : [])
                let s = judge.status(of: plan, on: today)
                statuses.append(s)
                print("\(s.ref)\t\(s.town)\t\(String(format: "%.1f%%", s.progress * 100))\t\(s.state.chinese)\t\(s.late.map(\.zh).joined(separator: "；"))")
            }
            if filed == nil { print("（未提供月报表，不判断月报滞后 / no reports given: monthly reports not judged）") }
            print("")
            print("镇街\t项目数\t目标面积(亩)\t按面积进度\t平均进度\t滞后\t已完成")
            let byTown = ProjectJudge.rollUp(statuses, by: \.town)
            let city = ProjectJudge.rollUp(statuses) { _ in "全市" }
            for (name, r) in byTown.sorted(by: { $0.key < $1.key }) + city.map({ ($0.key, $0.value) }) {
                print("\(name)\t\(r.projects)\t\(formatNumber(r.targetMu))\t\(r.areaProgress.map { String(format: "%.1f%%", $0 * 100) } ?? "—")\t\(String(format: "%.1f%%", r.meanProgress * 100))\t\(r.counts[.late] ?? 0)\t\(r.counts[.completed] ?? 0)")
            }
        }

        static func months(from start: CalendarDate, to end: CalendarDate) -> Set<YearMonth> {
            var out: Set<YearMonth> = []
            var m = YearMonth(start)
            while m <= YearMonth(end) { out.insert(m); m = m.next }
            return out
        }

        /// 项目编号, 月份 (YYYY-MM); every bad row named.
        static func reports(_ path: String) throws(ImportFailure) -> [String: Set<YearMonth>] {
            let t = try TableReader.open(url: URL(fileURLWithPath: path))
            let m = HeaderMatcher(headers: t.headers, fields: [FieldSpec(key: "ref", chinese: "项目编号", required: true),
                                                               FieldSpec(key: "month", chinese: "月份", required: true)])
            try m.checkRequired()
            var out: [String: Set<YearMonth>] = [:]
            var errors = RowErrorCollector()
            do {
                try t.forEachRow { row, cells in
                    let ref = m.value("ref", in: cells).trimmingCharacters(in: .whitespaces)
                    let text = m.value("month", in: cells)
                    guard !ref.isEmpty, let month = YearMonth(parsing: text) else {
                        errors.add(RowError(row: row, column: m.header(of: "month"), zh: "月报表第 \(row) 行：项目编号或月份无效：\"\(ref)\" \"\(text)\"",
                                            en: "reports row \(row): bad project ref or month: \"\(ref)\" \"\(text)\""))
                        return
                    }
                    out[ref, default: []].insert(month)
                }
            } catch let f as ImportFailure { throw f } catch {
                throw ImportFailure.file(zh: "读取月报表失败：\(error)", en: "reading the reports failed: \(error)")
            }
            if let f = errors.failure() { throw f }
            return out
        }
    }
}
