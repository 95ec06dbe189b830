import Foundation
import ArgumentParser
import Vapor
import MujunCore
import MujunStore
import MujunServer

/// Reads an enterprise spreadsheet with a progress bar; on bad rows prints every one and exits 1.
func readEnterprises(path: String, year: Int?, encoding: String?, rules: Rules, timing: Timing? = nil) throws -> [EnterpriseRecord] {
    let url = URL(fileURLWithPath: path)
    var choice: TextEncodingChoice?
    if let encoding {
        guard let c = TextEncodingChoice(name: encoding) else {
            warn("不支持的编码 \(encoding)（可用 utf-8、gb18030/gbk）/ unsupported encoding \(encoding)")
            throw ExitCode(2)
        }
        choice = c
    }
    do {
        let table = try TableReader.open(url: url, encoding: choice)
        timing?.mark("open")
        let bar = ProgressBar("读取 \(url.lastPathComponent)", total: ProgressBar.estimateRows(url))
        let records = try EnterpriseImport.read(table, year: year, rules: rules) { bar.update($0) }
        bar.finish(records.count)
        return records
    } catch {
        warn(error.description)
        throw ExitCode(1)
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import",
        abstract: "导入数据（全部成功或全部不写入）/ import data, all or nothing",
        subcommands: [Enterprises.self, Parcels.self, LandUseFile.self, CaseHistoryFile.self, CasesFile.self, ProjectsFiles.self])

    struct Parcels: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "parcels", abstract: "导入地块 GeoJSON / import parcels (GeoJSON FeatureCollection)",
            discussion: "Shapefile 或 GeoPackage 先用 GDAL 转换：ogr2ogr -f GeoJSON parcels.geojson input.shp")
        @Argument(help: "GeoJSON 文件") var file: String
        @Option(help: "坐标系（覆盖文件的 crs），如 EPSG:4549、EPSG:4490、CRS84") var crs: String?
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let (rules, yaml) = try loadRules(db.rules)
            let land = try LandRules.from(yaml: yaml)  // loadRules has checked it
            let parcels: [Parcel]
            do {
                parcels = try ParcelImport.read(url: URL(fileURLWithPath: file), crs: crs, towns: rules.towns, tolerance: land.areaTolerance)
            } catch {
                warn(ParcelImport.describe(error)); throw ExitCode(1)
            }
            try await withServices(db) { s in
                try await s.land.importParcels(parcels, fileName: URL(fileURLWithPath: file).lastPathComponent)
            }
            let n = parcels.count
            let mismatched = parcels.filter(\.areaMismatch).count
            print("已导入 \(n) 个地块 / imported \(n) parcels；面积与登记面积差异超过 \(formatNumber(land.areaTolerance * 100))% 的 \(mismatched) 个")
        }
    }

    /// `mujun import case-history FILE`: past years' handling records (CASES.md §5), all or nothing.
    struct CaseHistoryFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "case-history", abstract: "导入督办事项办理记录 / import a handling history (CASES.md §5), all or nothing",
            discussion: "每行一个事件；每一行都按闭环规则检查，有错误时逐行列出且不写入任何数据。已存在且记录相同的事项保持不变。")
        @Argument(help: "办理记录 CSV（UTF-8/GB18030）或 XLSX") var file: String
        @Option(help: "CSV 编码：utf-8 或 gb18030（默认自动识别）") var encoding: String?
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let config = db.config
            let (types, calendar) = try loadCaseConfig(config)
            let choice = encoding.flatMap(TextEncodingChoice.init(name:))
            guard let h = CasesCommand.BulletinCommand.read(file, encoding: choice, types: types, calendar: calendar) else {
                warn("办理记录有错误，未导入任何数据 / the history has errors; nothing was imported")
                throw ExitCode(1)
            }
            let summary = try await withServices(db) { s in
                do { return try await s.cases.importHistory(h, fileName: URL(fileURLWithPath: file).lastPathComponent) } catch let f as ImportFailure {
                    warn(f.description); throw ExitCode(1)
                }
            }
            print("已导入 \(summary.cases) 件、\(summary.events) 条事件，\(summary.unchanged) 件已存在且未变 / imported \(summary.cases) cases, "
                  + "\(summary.events) events; \(summary.unchanged) unchanged")
        }
    }

    /// `mujun import projects 项目.csv 节点.csv`: projects and their milestones (FORMATS.md), all or
    /// nothing; the 滞后 check then runs on them (a late one gets its 项目督办 case).
    struct ProjectsFiles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "projects", abstract: "导入项目与节点 / import projects and their milestones (FORMATS.md), all or nothing",
            discussion: "项目表与节点表（CSV UTF-8/GB18030 或 XLSX）一起检查；任何一行有错则逐行列出、不写入任何数据，退出码 1。")
        @Argument(help: "项目表 / the projects table") var projects: String
        @Argument(help: "节点表 / the milestones table") var milestones: String
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let summary = try await withServices(db) { s in
                do {
                    return try await s.projects.importTables(projects: try TableReader.open(url: URL(fileURLWithPath: projects)),
                                                             milestones: try TableReader.open(url: URL(fileURLWithPath: milestones)),
                                                             fileName: URL(fileURLWithPath: projects).lastPathComponent)
                } catch let f as ImportFailure {
                    warn("项目导入失败，未写入任何数据 / projects refused, nothing was written:")
                    warn(f.description); throw ExitCode(1)
                }
            }
            print("已导入 \(summary.projects) 个项目、\(summary.milestones) 个节点；滞后并已自动交办督办 \(summary.opened) 个 / imported "
                  + "\(summary.projects) projects, \(summary.milestones) milestones; \(summary.opened) late, 督办 opened")
        }
    }

    /// `mujun import cases FILE`: bulk registration (FORMATS.md, cases), all or nothing.
    struct CasesFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cases", abstract: "批量登记督办事项 / register cases from a file (FORMATS.md), all or nothing")
        @Argument(help: "CSV（UTF-8/GB18030）或 XLSX") var file: String
        @Option(help: "CSV 编码：utf-8 或 gb18030（默认自动识别）") var encoding: String?
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let choice = encoding.flatMap(TextEncodingChoice.init(name:))
            let summary = try await withServices(db) { s in
                do {
                    let table = try TableReader.open(url: URL(fileURLWithPath: file), encoding: choice)
                    return try await s.cases.registerFile(table, fileName: URL(fileURLWithPath: file).lastPathComponent)
                } catch let f as ImportFailure {
                    warn(f.description); throw ExitCode(1)
                }
            }
            print("已登记 \(summary.cases) 件 / registered \(summary.cases) cases")
        }
    }

    struct LandUseFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "land-use", abstract: "导入用地关系 / import land use (who occupies which parcel)")
        @Argument(help: "CSV 或 XLSX") var file: String
        @Option(help: "CSV 编码：utf-8 或 gb18030（默认自动识别）") var encoding: String?
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let choice = encoding.flatMap(TextEncodingChoice.init(name:))
            let rows = try await withServices(db) { s -> [LandUse] in
                let known = try await s.land.parcelIDs()
                do {
                    let table = try TableReader.open(url: URL(fileURLWithPath: file), encoding: choice)
                    let rows = try LandUseImport.read(table: table, knownParcels: known)
                    try await s.land.importLandUse(rows, fileName: URL(fileURLWithPath: file).lastPathComponent)
                    return rows
                } catch let f as ImportFailure {
                    warn(f.description); throw ExitCode(1)
                }
            }
            print("已导入 \(rows.count) 条用地关系 / imported \(rows.count) land-use rows")
        }
    }

    struct Enterprises: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enterprises", abstract: "导入企业亩均数据 / import enterprise annual data (CSV or XLSX)")
        @Argument(help: "CSV（UTF-8/GB18030）或 XLSX 文件") var file: String
        @Option(help: "年度（文件无年度列时必填）") var year: Int?
        @Option(help: "CSV 编码：utf-8 或 gb18030（默认自动识别）") var encoding: String?
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let (rules, _) = try loadRules(db.rules)
            let records = try readEnterprises(path: file, year: year, encoding: encoding, rules: rules)
            let start = Date()
            let summary = try await withServices(db) { s in
                try await s.ranking.importEnterprises(records, fileName: URL(fileURLWithPath: file).lastPathComponent)
            }
            print(String(format: "已导入 %d 行（批次 #%lld，%.2f 秒）/ imported %d rows", summary.rows, summary.importID,
                         Date().timeIntervalSince(start), summary.rows))
        }
    }
}

struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate",
        abstract: "亩均效益综合评价 / run the per-mu evaluation",
        discussion: """
        给出 FILE：独立评价该表格（不使用数据库），结果写入 --out（.csv/.xlsx/.json）。
        不给 FILE：评价数据库中该年度的数据并保存结果与说明。
        """)
    @Argument(help: "企业亩均数据表（可选）") var file: String?
    @Option(help: "年度") var year: Int
    @Option(help: "输出文件 .csv/.xlsx/.json（独立评价时必填）") var out: String?
    @Option(help: "CSV 表头：en（英文键）或 zh（中文）") var headers: ResultsWriter.HeaderStyle = .en
    @Option(help: "CSV 编码：utf-8 或 gb18030（默认自动识别）") var encoding: String?
    @OptionGroup var db: DatabaseOptions

    func validate() throws {
        if file != nil {
            guard let out else { throw ValidationError("独立评价需要 --out 输出文件 / --out is required with FILE") }
            guard ResultsWriter.Format(path: out) != nil else {
                throw ValidationError("--out 须为 .csv、.xlsx 或 .json / --out must end in .csv, .xlsx or .json")
            }
        }
    }

    func run() async throws {
        let (rules, yaml) = try loadRules(db.rules)
        if let file {
            let timing = Timing()
            let records = try readEnterprises(path: file, year: year, encoding: encoding, rules: rules, timing: timing)
            timing.mark("read")
            let outcome = Evaluator(rules: rules).evaluate(year: year, records: records)
            timing.mark("evaluate")
            let url = URL(fileURLWithPath: out!)
            do { try ResultsWriter.write(outcome, to: url, headers: headers) } catch {
                warn("无法写出结果 / cannot write results: \(error)")
                throw ExitCode(1)
            }
            timing.mark("write")
            printSummary(outcome)
            // the standalone run is over: leave without freeing a million results one by one
            // (exit flushes the standard streams)
            Foundation.exit(0)
        }
        let outcome = try await withServices(db) { s in
            let (run, outcome) = try await s.ranking.evaluate(year: year)
            print("评价运行 #\(run.id) 已保存 / run saved")
            return outcome
        }
        if let out { try ResultsWriter.write(outcome, to: URL(fileURLWithPath: out), headers: headers) }
        printSummary(outcome)
    }

    func printSummary(_ o: EvaluationOutcome) {
        // one pass by index: copying a million results costs more than the evaluation
        var evaluated = 0
        var counts = [[Int]](repeating: [0, 0, 0, 0], count: 2)
        for i in o.results.indices where o.results[i].evaluated {
            evaluated += 1
            if let c = o.results[i].finalClass { counts[o.results[i].group == .above ? 0 : 1][c.order] += 1 }
        }
        print("\(o.year) 年度：\(o.results.count) 家企业，参评 \(evaluated) 家")
        for (k, g) in EnterpriseGroup.allCases.enumerated() {
            let c = counts[k]
            print("  \(g.chinese)：A \(c[0])  B \(c[1])  C \(c[2])  D \(c[3])")
        }
    }
}

extension ResultsWriter.HeaderStyle: ExpressibleByArgument {}

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rules", abstract: "评价规则 / evaluation rules",
                                                    subcommands: [Show.self, Check.self])
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "打印当前生效的规则 / print the rules in force")
        @Option(help: "规则文件（默认：MUJUN_RULES 或内置默认规则）") var rules: String?
        func run() throws {
            let (_, yaml) = try loadRules(rules)
            print(yaml)
        }
    }
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: "检查规则文件 / validate a rules file")
        @Argument var file: String
        func run() throws {
            let (r, _) = try loadRules(file)
            print("规则有效 / rules valid: \(r.name)")
        }
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo",
        abstract: "生成演示城市数据 / build the demo city",
        discussion: "默认写入数据库并评价各年度；给出 --out 时只写出一个年度的导入表格。")
    @Option(help: "企业数") var enterprises = 8000
    @Option(help: "随机种子") var seed: UInt64 = 1
    @Option(help: "年度，逗号分隔") var years = "2023,2024,2025"
    @Option(help: "写出单个年度的导入表格（CSV/XLSX）而不写数据库") var out: String?
    @Option(help: "与 --out 同用：年度") var year: Int?
    @Option(help: "与 --out 同用：CSV 编码 utf-8 或 gb18030") var encoding = "utf-8"
    @OptionGroup var db: DatabaseOptions

    func run() async throws {
        let yearList = years.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.sorted()
        guard let latest = yearList.last else { throw ValidationError("--years 无效") }
        let city = DemoCity(enterprises: enterprises, seed: seed)
        if let out {
            let y = year ?? latest
            let records = city.records(year: y, latestYear: max(latest, y))
            guard let enc = TextEncodingChoice(name: encoding) else { throw ValidationError("--encoding 应为 utf-8 或 gb18030") }
            try DemoFiles.write(records, to: URL(fileURLWithPath: out), encoding: enc)
            print("已写出 \(records.count) 家企业的 \(y) 年度数据 / wrote \(out)")
            return
        }
        _ = try loadRules(db.rules)
        let logins = try await withServices(db, actor: "demo") { s in
            try await s.demo.loadCity(city, years: yearList) { print($0) }
        }
        let text = DemoService.describe(logins)
        let config = db.config
        var dir = "data"
        if config.databaseURL.hasPrefix("sqlite://"), !config.databaseURL.contains(":memory:") {
            dir = URL(fileURLWithPath: String(config.databaseURL.dropFirst("sqlite://".count))).deletingLastPathComponent().path
        }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? (text + "\n").write(toFile: dir + "/demo-logins.txt", atomically: true, encoding: .utf8)
        print(text)
        print("演示数据已载入 / demo city loaded (\(enterprises) 家企业，\(yearList.count) 个年度)")
    }
}

/// Phase times on standard error when MUJUN_TIMING=1 (for profiling the benchmarks).
final class Timing {
    let enabled = ProcessInfo.processInfo.environment["MUJUN_TIMING"] == "1"
    var last = DispatchTime.now().uptimeNanoseconds
    func mark(_ phase: String) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        warn(String(format: "timing %@ %.3f s", phase, Double(now - last) / 1e9))
        last = now
    }
}

/// The case types and work calendar in force (exits 2 naming a bad file).
func loadCaseConfig(_ config: ServerConfig) throws -> (CaseTypes, WorkCalendar) {
    do {
        return (try config.loadCaseTypes(), try config.loadCalendar())
    } catch let e as CaseTypesError {
        warn(e.description); throw ExitCode(2)
    } catch let e as CalendarError {
        warn(e.description); throw ExitCode(2)
    } catch {
        warn("无法读取督办事项类型或工作日历 / cannot read the case types or the work calendar: \(error)"); throw ExitCode(2)
    }
}
