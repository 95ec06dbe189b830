import Foundation
import ArgumentParser
import MujunCore
import MujunServer

/// `mujun cases …`: the case engine without the database (case types, the standalone bulletin).
struct CasesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "闭环督办 / the closed loop: case types and bulletins",
        subcommands: [Types.self, BulletinCommand.self])

    /// `--types FILE`, else `MUJUN_CASE_TYPES`, else `cases.yaml` beside the rules file, else the defaults.
    struct TypesOption: ParsableArguments {
        @Option(name: .customLong("types"), help: "督办事项类型 YAML（默认：MUJUN_CASE_TYPES、规则文件旁的 cases.yaml 或内置默认）/ case types YAML")
        var typesPath: String?
        @Option(help: "附加的工作日历 YAML / a work calendar YAML adding or replacing years") var calendar: String?

        func load() throws -> CaseTypes {
            guard let path = CasesCommand.typesPath(typesPath) else { return .default }
            do {
                return try CaseTypes(yaml: try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8))
            } catch let e as CaseTypesError {
                warn("\(path)：\(e.description)"); throw ExitCode(2)
            } catch {
                warn("无法读取督办事项类型 / cannot read the case types: \(path): \(error.localizedDescription)"); throw ExitCode(2)
            }
        }

        func loadCalendar() throws -> WorkCalendar {
            try CalendarCommand.CalendarOption.load(calendar ?? ServerConfig().calendarPath)
        }
    }

    /// The case-types file in force: explicit, else as the server resolves it (MUJUN_CASE_TYPES,
    /// or cases.yaml beside MUJUN_RULES).
    static func typesPath(_ explicit: String?) -> String? {
        explicit ?? ServerConfig().caseTypesPath
    }

    /// `mujun cases types`: the configured types with their deadlines.
    struct Types: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "types",
            abstract: "列出督办事项类型及其期限 / print the case types and their deadlines",
            discussion: "--yaml 打印默认配置（可复制为规则文件旁的 cases.yaml 后修改）。")
        @OptionGroup var options: TypesOption
        @Flag(help: "打印默认的 cases.yaml / print the default cases.yaml") var yaml = false

        func run() throws {
            if yaml { print(CaseTypes.defaultYAML); return }
            let config = try options.load()
            print("类型 type | 签收 accept | 答复 reply | 延期上限 extend | 验收 | 评价 | 答复类别 | 不满意重办")
            for t in config.types {
                let reply = t.reply.map { "\($0.chinese)（自\(t.from.chinese)）" } ?? "交办时指定 given"
                var extend = t.extendUpTo.map { "\($0.chinese)（自\(t.from.chinese)）" } ?? (t.reply == nil ? "批准的任意日期" : "—")
                if let m = t.maxExtensions { extend += "，限 \(m) 次" }
                print([
                    "\(t.key) \(t.name)", t.accept.chinese, reply, extend, t.verify ? "是" : "否", t.evaluate ? "是" : "否",
                    t.categories.isEmpty ? "—" : t.categories.joined(separator: " "),
                    t.evaluate ? t.rehandle.chinese : "—",
                ].joined(separator: " | "))
            }
            print("红牌 red: 超期后 > \(config.redAfter) 个工作日 · 排名 min_cases \(config.minCases) · 末位 bottom \(config.bottom)")
        }
    }

    /// What a command read and keeps until the process exits (freeing it costs a fifth of a second).
    final class Leftover {
        let history: CaseHistory, bulletin: Bulletin
        init(history: CaseHistory, bulletin: Bulletin) { self.history = history; self.bulletin = bulletin }
    }

    /// `mujun cases bulletin HISTORY --from --to --as-of --out bulletin.csv`
    struct BulletinCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bulletin",
            abstract: "由办理记录计算督导通报（不使用数据库）/ a bulletin from a handling history, without the database",
            discussion: """
            HISTORY：办理记录 CSV（UTF-8/GB18030）或 XLSX，每行一个事件（CASES.md §5）。每一行都先检查，
            有错误时逐行列出、不写任何文件并以非零状态退出。--out 以 .csv 结尾写英文键 CSV，以 .xlsx 结尾写
            可在 A4 上打印的工作簿（含案件清单）。
            """)
        @Argument(help: "办理记录 .csv/.xlsx") var history: String
        @Option(help: "交办日期起 YYYY-MM-DD") var from: String
        @Option(help: "交办日期止 YYYY-MM-DD") var to: String
        @Option(name: .customLong("as-of"), help: "统计截止日 YYYY-MM-DD") var asOf: String
        @Option(help: "只统计一个类型（键或中文名）") var type: String?
        @Option(help: "输出 bulletin.csv 或 .xlsx") var out: String
        @Option(name: .customLong("cases-out"), help: "逐案清单 cases.csv 或 .xlsx") var casesOut: String?
        @Option(help: "CSV 编码：utf-8 或 gb18030（默认自动识别）") var encoding: String?
        @OptionGroup var options: TypesOption

        func validate() throws {
            for p in [out] + (casesOut.map { [$0] } ?? []) {
                let ext = URL(fileURLWithPath: p).pathExtension.lowercased()
                guard ext == "csv" || ext == "xlsx" else {
                    throw ValidationError("输出文件须为 .csv 或 .xlsx / outputs must end in .csv or .xlsx: \(p)")
                }
            }
        }

        func run() throws {
            let types = try options.load()
            let calendar = try options.loadCalendar()
            let from = try CalendarCommand.date(self.from), to = try CalendarCommand.date(self.to)
            let asOf = try CalendarCommand.date(self.asOf)
            guard from <= to else { throw ValidationError("--from 晚于 --to / --from is after --to") }
            var typeKey: String?
            if let type {
                guard let t = types.type(named: type) else {
                    warn("未知的类型 / unknown case type: \(type)（\(types.types.map(\.key).joined(separator: ", "))）")
                    throw ExitCode(2)
                }
                typeKey = t.key
            }
            var encodingChoice: TextEncodingChoice?
            if let encoding {
                guard let e = TextEncodingChoice(name: encoding) else { throw ValidationError("未知的编码 / unknown encoding: \(encoding)") }
                encodingChoice = e
            }
            let timing = Timing()
            if timing.enabled { CaseHistory.stepDone = { timing.mark($0) } }
            guard let h = BulletinCommand.read(history, encoding: encodingChoice, types: types, calendar: calendar, snapshotAt: asOf) else {
                warn("办理记录有错误，未写出任何文件 / the history has errors; nothing was written")
                throw ExitCode(1)
            }
            timing.mark("read: snapshots kept")
            for y in h.uncoveredYears {
                warn("警告：\(y) 年未配置放假安排，只按周末计算 / warning: no arrangement for \(y), weekends only")
            }
            let b = Bulletin(history: h, from: from, to: to, asOf: asOf, type: typeKey)
            timing.mark("bulletin")
            do {
                try write(b, to: out, cases: false)
                if let casesOut { try write(b, to: casesOut, cases: true) }
            } catch {
                warn("无法写出通报 / cannot write the bulletin: \(error)")
                throw ExitCode(1)
            }
            timing.mark("write")
            let ranked = b.rows.filter { $0.rank != nil }.count
            // the process ends here: the million events read are left to the exit, not freed one by one
            _ = Unmanaged.passRetained(Leftover(history: h, bulletin: b))
            print("\(h.rowCount) 条事件、\(h.cases.count) 件；统计 \(b.cases.count) 件、\(b.rows.count) 个单位（排名 \(ranked) 个）/ "
                  + "\(h.rowCount) events, \(h.cases.count) cases; \(b.cases.count) counted, \(b.rows.count) units (\(ranked) ranked)")
        }

        /// The history, or nil after printing every bad row; with `snapshotAt`, only every case as of that date is kept (``CaseHistory/init(table:types:calendar:onlyAsOf:)``).
        static func read(_ path: String, encoding: TextEncodingChoice?, types: CaseTypes, calendar: WorkCalendar,
                         snapshotAt: CalendarDate? = nil) -> CaseHistory? {
            do {
                let table = try TableReader.open(url: URL(fileURLWithPath: path), encoding: encoding)
                CaseHistory.stepDone?("read: file")
                if let snapshotAt { return try CaseHistory(table: table, types: types, calendar: calendar, onlyAsOf: snapshotAt) }
                return try CaseHistory(table: table, types: types, calendar: calendar)
            } catch {
                warn(error.description)
                return nil
            }
        }

        func write(_ b: Bulletin, to path: String, cases: Bool) throws {
            let url = URL(fileURLWithPath: path)
            if url.pathExtension.lowercased() == "xlsx" {
                var w = XLSXWriter()
                if cases {
                    w.addSheet(name: "案件清单", headers: Bulletin.casesChineseHeader, rows: b.caseSheetRows())
                } else {
                    w = b.workbook()
                }
                try w.write(to: url)
            } else {
                try (cases ? Data(b.casesCSVBytes()) : Data(b.csv().utf8)).write(to: url, options: .atomic)
            }
        }
    }
}
