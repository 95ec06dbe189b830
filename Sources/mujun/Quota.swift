import Foundation
import ArgumentParser
import MujunCore

/// `mujun quota …`: the quota ledger of a cross-township consolidation project (全域土地综合整治,
/// LEDGER.md), here without the database.
struct QuotaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota", abstract: "全域土地综合整治指标台账 / the cross-township quota ledger",
        subcommands: [Replay.self, Project.self, Post.self, Balances.self])

    /// `mujun quota project --name … --towns 古山镇,方岩镇,舟山镇 --start 2025-01-01 [--margin 0.05]`: defines a consolidation project.
    struct Project: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "project", abstract: "新建全域整治项目 / define a consolidation project (prints its id)")
        @Option(help: "项目名称") var name: String
        @Option(help: "镇街，逗号分隔") var towns: String
        @Option(help: "开始日期 YYYY-MM-DD") var start: String
        @Option(help: "永久基本农田先补后调的余量（默认 0.05）") var margin = "0.05"
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let list = towns.split(whereSeparator: { ",，、;； ".contains($0) }).map(String.init)
            let id = try await withServices(db) { s in try await s.quota.createProject(name: name, towns: list, start: start, margin: margin) }
            print(id)
        }
    }

    /// `mujun quota post JOURNAL --project-id N`: a journal file loaded into the database's ledger,
    /// all or nothing — every row that cannot be read or would be refused is named, and then
    /// nothing is written. The file's seqs continue the stored journal.
    struct Post: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "post",
            abstract: "把台账文件记入数据库（全部或全不）/ load a journal file into the database, all or nothing",
            discussion: "每一行按 LEDGER.md §3 检查；有无法读取或被拒的行时逐行列出、不写入任何记录并以状态 2 退出。序号须接续库中台账（大于最后一笔的序号）。")
        @Argument(help: "台账 .csv/.xlsx") var journal: String
        @Option(name: .customLong("project-id"), help: "全域整治项目编号（见 /api/v1/quota/projects）") var projectID: Int64
        @Option(help: "CSV 编码：utf-8 或 gb18030（默认自动识别）") var encoding: String?
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let parsed: QuotaJournal
            do {
                let choice = try encoding.map { e -> TextEncodingChoice in
                    guard let c = TextEncodingChoice(name: e) else { throw ValidationError("未知的编码 / unknown encoding: \(e)") }
                    return c
                }
                parsed = try QuotaJournal(table: try TableReader.open(url: URL(fileURLWithPath: journal), encoding: choice))
            } catch let f as ImportFailure {
                warn(f.description); throw ExitCode(2)
            }
            let name = URL(fileURLWithPath: journal).lastPathComponent
            do {
                let n = try await withServices(db) { s in try await s.quota.load(id: projectID, journal: parsed, fileName: name) }
                print("已记入 \(n) 笔 / \(n) postings loaded")
            } catch let f as ImportFailure {
                warn(f.description); throw ExitCode(2)
            }
        }
    }

    /// `mujun quota balances --project-id N [--as-of D]`: the stored ledger's balance sheet.
    struct Balances: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "balances", abstract: "数据库中台账的各镇各类指标余额 / the stored ledger's balances")
        @Option(name: .customLong("project-id"), help: "全域整治项目编号") var projectID: Int64
        @Option(name: .customLong("as-of"), help: "截止日 YYYY-MM-DD（默认：全部）") var asOf: String?
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let day = try asOf.map(CalendarCommand.date)
            let lines = try await withServices(db) { s in try await s.quota.balances(id: projectID, asOf: day) }
            print("town,quota,credited,used,transferred_in,transferred_out,balance")
            for l in lines {
                let b = l.balance
                print([l.town, l.quota.key, QuotaAmount.format(b.credited), QuotaAmount.format(b.used), QuotaAmount.format(b.transferredIn),
                       QuotaAmount.format(b.transferredOut), QuotaAmount.format(b.balance)].joined(separator: ","))
            }
        }
    }

    /// `mujun quota replay JOURNAL --project project.yaml [--as-of D] --out balances.csv --refused refused.csv`
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "按行序重放指标台账，输出各镇各类指标余额与被拒记录（不使用数据库）/ replay a quota journal, without the database",
            discussion: """
            JOURNAL：台账 CSV（UTF-8/GB18030）或 XLSX，每行一笔（LEDGER.md §4；bench/quota/README.md 写明每个细节）。
            无法读取的文件（日期不是日期、数量或等别为文字、未知动作、序号重复、缺少 序号/日期/动作 列）逐行列出，
            不写任何文件，以状态 2 退出。违反 LEDGER.md §3 规则的行逐行拒绝并写入 --refused（不影响余额），以状态 0 退出。
            --as-of：只计该日及以前已入账的记录（是否入账仍按整个文件判定）。
            """)
        @Argument(help: "台账 .csv/.xlsx") var journal: String
        @Option(help: "项目 project.yaml（name, towns, start, margin）") var project: String
        @Option(name: .customLong("as-of"), help: "余额截止日 YYYY-MM-DD（默认：全部）") var asOf: String?
        @Option(help: "余额输出 balances.csv") var out: String
        @Option(help: "被拒记录输出 refused.csv") var refused: String
        @Option(help: "CSV 编码：utf-8 或 gb18030（默认自动识别）") var encoding: String?

        func run() throws {
            let project: QuotaProject
            do {
                let text = try String(contentsOfFile: self.project, encoding: .utf8)
                project = try QuotaProject(yaml: text)
            } catch let e as QuotaError {
                warn(e.description); throw ExitCode(2)
            } catch {
                warn("无法读取 \(self.project) / cannot read \(self.project): \(error.localizedDescription)"); throw ExitCode(2)
            }
            var day: CalendarDate?
            if let asOf {
                guard let d = CalendarDate(asOf.trimmingCharacters(in: .whitespaces)) else {
                    warn("--as-of「\(asOf)」不是 YYYY-MM-DD 日期 / --as-of is not a date"); throw ExitCode(2)
                }
                day = d
            }
            var encodingChoice: TextEncodingChoice?
            if let encoding {
                guard let e = TextEncodingChoice(name: encoding) else { warn("未知的编码 / unknown encoding: \(encoding)"); throw ExitCode(2) }
                encodingChoice = e
            }
            let timing = Timing()
            let journal: QuotaJournal
            do {
                let table = try TableReader.open(url: URL(fileURLWithPath: self.journal), encoding: encodingChoice)
                journal = try QuotaJournal(table: table)
            } catch {
                warn(error.description)
                warn("台账无法读取，未写出任何文件 / the journal cannot be read; nothing was written")
                throw ExitCode(2)
            }
            timing.mark("read")
            let replay = QuotaReplay(project: project, postings: journal.postings, asOf: day)
            timing.mark("replay")
            do {
                try Data(replay.balancesCSV().utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
                try Data(replay.refusedCSV().utf8).write(to: URL(fileURLWithPath: refused), options: .atomic)
            } catch {
                warn("无法写出结果 / cannot write the results: \(error.localizedDescription)"); throw ExitCode(1)
            }
            timing.mark("write")
            let n = journal.postings.count
            print("\(n) 笔，入账 \(n - replay.refused.count) 笔，拒绝 \(replay.refused.count) 笔 / \(n) postings, \(n - replay.refused.count) accepted, \(replay.refused.count) refused")
            // the process ends here: the postings are left to the exit, not freed one by one
            _ = Unmanaged.passRetained(Leftover(journal: journal, replay: replay))
        }

        final class Leftover {
            let journal: QuotaJournal, replay: QuotaReplay
            init(journal: QuotaJournal, replay: QuotaReplay) { self.journal = journal; self.replay = replay }
        }
    }
}
