import Foundation
import ArgumentParser
import Vapor
import MujunCore
import MujunStore
import MujunServer

/// `mujun bench-projects`: issue 10's speed figure — the roll-up of 10,000 projects with 100,000
/// milestones and 120,000 monthly reports to town and city (≤ 200 ms) as served after the day's
/// 滞后 check (today's stored verdicts), and the same with every project judged afresh (no
/// target: what the first roll-up of a day costs before the check); on SQLite, and on PostgreSQL
/// when MUJUN_BENCH_POSTGRES_URL is set. Also the check itself over all of them (stores every
/// verdict, opens the 督办 cases).
struct BenchProjects: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-projects", abstract: "项目汇总性能基准（请用 release 构建）/ project roll-up benchmark (use a release build)")
    @Option(help: "项目数") var projects = 10_000
    @Option(help: "每个项目的节点数") var milestones = 10
    @Option(help: "每个项目的月报数") var reports = 12
    @Option(help: "每个请求重复次数（取中位数）") var repeats = 7
    @Option(help: "临时文件目录") var workDir = "bench-data"
    @Option(help: "随机种子") var seed: UInt64 = 10

    func run() async throws {
        #if DEBUG
        print("warning: debug build — figures are not representative; use `swift build -c release`")
        #endif
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: workDir).appendingPathComponent("bench-projects.sqlite").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try await measure(databaseURL: "sqlite://" + path, label: "sqlite")
        if let pg = ProcessInfo.processInfo.environment["MUJUN_BENCH_POSTGRES_URL"], !pg.isEmpty {
            let options = try DatabaseOptions.parse(["--database", pg])
            try await withServices(options, actor: "bench") { s in try await s.system.clearDataForBenchmark() }
            try await measure(databaseURL: pg, label: "postgres")
        } else {
            print("projects_postgres skipped (MUJUN_BENCH_POSTGRES_URL not set)")
        }
    }

    /// The generated tables: `projects` projects over the towns, each with `milestones` milestones
    /// (weights summing to 100) and its first `reports` months reported.
    func tables(today: CalendarDate, towns: [String]) -> (String, String, [(String, [YearMonth])]) {
        var rng = SeededRandom(seed: seed)
        var p = "项目编号,项目名称,项目类型,整治方式,责任镇街,牵头部门,目标面积(亩),地块编号,户数,开始日期\n"
        var m = "项目编号,节点名称,权重,计划完成日期,实际完成日期\n"
        var r: [(String, [YearMonth])] = []
        let modes = ProjectTypes.default.type(named: "remediation")!.modes
        for i in 0..<projects {
            let ref = String(format: "B-%05d", i)
            let start = today.adding(days: -(60 + Int(rng.next() % 700)))
            let town = towns[i % towns.count]
            p += "\(ref),基准项目\(i),整治项目,\(modes[i % modes.count]),\(town),经信局,\(10 + Int(rng.next() % 90)),,,\(start)\n"
            let base = 100 / milestones
            for k in 0..<milestones {
                let planned = start.adding(days: 45 * (k + 1))
                let weight = k == milestones - 1 ? 100 - base * (milestones - 1) : base
                let done = planned < today && rng.chance(0.8) ? max(start, planned.adding(days: -Int(rng.next() % 20))) : nil
                m += "\(ref),节点\(k + 1),\(weight),\(planned),\(done.map { min($0, today).description } ?? "")\n"
            }
            var months: [YearMonth] = []
            var month = YearMonth(start)
            for _ in 0..<reports { months.append(month); month = month.next }
            r.append((ref, months))
        }
        return (p, m, r)
    }

    func measure(databaseURL: String, label: String) async throws {
        let app = try await Application.make(Environment(name: "production", arguments: ["mujun"]))
        app.logger.logLevel = .error
        do {
            try await configure(app, ServerConfig(databaseURL: databaseURL, secret: "bench"))
            let s = app.systemService(as: "bench")
            let today = CalendarDate(ChinaDay.today())!
            let (p, m, r) = tables(today: today, towns: app.serviceContext.rules.towns)
            var t = Date()
            let summary = try await s.projects.importTables(projects: try CSVTable(data: Data(p.utf8)), milestones: try CSVTable(data: Data(m.utf8)),
                                                            fileName: "bench", supervising: false)
            try await s.projects.benchReports(r)
            Bench.report("projects_load_\(summary.projects / 1000)k_\(label)", Date().timeIntervalSince(t), "s")
            print("projects_load_\(label)_rows \(summary.projects) projects, \(summary.milestones) milestones, \(r.count * reports) reports")
            // the daily 滞后 check first (it stores every verdict, opens the 督办 cases): what a city runs each morning
            t = Date()
            let sv = try await s.projects.supervise(on: today)
            Bench.report("projects_supervise_\(projects / 1000)k_\(label)", Date().timeIntervalSince(t), "s")
            print("projects_supervise_\(label)_opened \(sv.opened) 督办 cases opened")
            // the roll-up as served: today's stored verdicts; then every project judged afresh (what it costs before the day's check)
            for fresh in [false, true] {
                var times: [Double] = []
                var late = 0, afresh = 0
                for _ in 0..<repeats {
                    t = Date()
                    let roll = try await s.projects.rollUp(on: today, fresh: fresh)
                    times.append(Date().timeIntervalSince(t) * 1000)
                    late = roll.city?.counts[.late] ?? 0
                    afresh = roll.judgedAfresh
                    precondition(roll.projects == projects, "the roll-up read \(roll.projects) projects")
                }
                precondition(afresh == (fresh ? projects : 0), "\(afresh) judged afresh")
                let name = "projects_rollup_\(projects / 1000)k_\(fresh ? "afresh_" : "")\(label)"
                let median = times.sorted()[times.count / 2]
                Bench.report(name, median, "ms", target: fresh ? nil : 200)
                print("\(name)_late \(late) late of \(projects)")
            }
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}
