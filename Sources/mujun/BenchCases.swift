import Foundation
import ArgumentParser
import Vapor
import MujunCore
import MujunStore
import MujunServer

/// `mujun bench-cases`: the case engine's speed figures of issue 9 in a database — a handling
/// history of 100,000 cases (~1,000,000 events, bench/cases/gen_history.py) imported, the bulletin
/// over all of it (≤ 1 s), a unit's inbox with 5,000 open cases (≤ 100 ms server time) and a case
/// page (≤ 50 ms); on SQLite, and on PostgreSQL when MUJUN_BENCH_POSTGRES_URL is set.
struct BenchCases: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-cases", abstract: "督办事项性能基准（请用 release 构建）/ case engine benchmarks (use a release build)")
    @Option(help: "办理记录（bench/cases/gen_history.py 生成）") var history = "bench-data/cases-100k.csv"
    @Option(help: "统计截至") var asOf = "2026-06-30"
    @Option(help: "每个请求重复次数") var repeats = 20
    @Option(help: "临时文件目录") var workDir = "bench-data"

    func run() async throws {
        #if DEBUG
        print("warning: debug build — figures are not representative; use `swift build -c release`")
        #endif
        let t0 = Date()
        guard let h = CasesCommand.BulletinCommand.read(history, encoding: nil, types: .default, calendar: .shipped) else {
            throw ExitCode(1)
        }
        Bench.report("cases_history_read_\(h.cases.count / 1000)k", Date().timeIntervalSince(t0), "s")
        let path = URL(fileURLWithPath: workDir).appendingPathComponent("bench-cases.sqlite").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try await measure(h, databaseURL: "sqlite://" + path, label: "sqlite")
        if let pg = ProcessInfo.processInfo.environment["MUJUN_BENCH_POSTGRES_URL"], !pg.isEmpty {
            let options = try DatabaseOptions.parse(["--database", pg])
            try await withServices(options, actor: "bench") { s in try await s.system.clearDataForBenchmark() }
            try await measure(h, databaseURL: pg, label: "postgres")
        } else {
            print("cases_postgres skipped (MUJUN_BENCH_POSTGRES_URL not set)")
        }
    }

    func measure(_ h: CaseHistory, databaseURL: String, label: String) async throws {
        let app = try await Application.make(Environment(name: "production", arguments: ["mujun"]))
        app.logger.logLevel = .error
        do {
            try await configure(app, ServerConfig(databaseURL: databaseURL, secret: "bench"))
            let s = app.systemService(as: "bench")
            let n = h.cases.count / 1000
            var t = Date()
            let summary = try await s.cases.importHistory(h, fileName: "bench")
            Bench.report("cases_import_\(n)k_\(label)", Date().timeIntervalSince(t), "s")
            print("cases_import_\(n)k_\(label)_events \(summary.events) events")

            // the bulletin over every case, as of a date: median of 5
            let asOf = CalendarDate(self.asOf)!
            var times: [Double] = []
            var units = 0
            for _ in 0..<5 {
                t = Date()
                let b = try await s.cases.bulletin(from: CalendarDate("2025-01-01")!, to: CalendarDate("2026-12-31")!, asOf: asOf)
                times.append(Date().timeIntervalSince(t) * 1000)
                units = b.rows.count
            }
            Bench.report("cases_bulletin_\(n)k_\(label)", times.sorted()[2], "ms", target: 1000)
            print("cases_bulletin_\(n)k_\(label)_units \(units) units")

            // a unit with 5,000 open cases (assigned or being handled), registered today
            let today = CalendarDate(ChinaDay.today())!
            var csv = "ref,type,event,date,unit,due\n"
            for i in 0..<5000 {
                let ref = "INBOX-\(i)", d = today.adding(days: -(i % 40)).description
                csv += "\(ref),hazard,register,\(d),安委办,\n"
                csv += "\(ref),hazard,assign,\(d),基准单位,\(today.adding(days: 10 + i % 30))\n"
                if i % 3 != 0 { csv += "\(ref),hazard,accept,\(d),基准单位,\n" }  // a third still to accept, many of them late
            }
            let inboxHistory = try CaseHistory(table: try CSVTable(data: Data(csv.utf8)))
            _ = try await s.cases.importHistory(inboxHistory, fileName: "bench-inbox")
            _ = try await s.accounts.createUser(.init(login: "bench-unit", displayName: "基准单位", unit: "基准单位", role: .department,
                                                      password: "Bench#2025x", mustChangePassword: false))
            let cookie = "mujun_session=" + (try await s.accounts.openSession(login: "bench-unit"))
            _ = try await s.accounts.createUser(.init(login: "bench-hq", displayName: "基准", unit: "指挥部", role: .headquarters,
                                                      password: "Bench#2025x", mustChangePassword: false))
            let hqCookie = "mujun_session=" + (try await s.accounts.openSession(login: "bench-hq"))
            try await app.asyncBoot()
            let busiest = try await s.cases.list(.init(type: "suggestion"), limit: 1).first?.id ?? 1
            for (name, path, cookie, target) in [
                ("cases_inbox_api_5000_\(label)", "/api/v1/cases/inbox", cookie, 100.0),
                ("cases_inbox_page_5000_\(label)", "/inbox", cookie, 100.0),
                ("cases_case_page_\(label)", "/cases/\(busiest)", hqCookie, 50.0),
                ("cases_case_api_\(label)", "/api/v1/cases/\(busiest)", hqCookie, 50.0),
            ] {
                let ms = try await Bench.timeRequest(app, path, cookie: cookie, repeats: repeats)
                Bench.report(name, ms, "ms", target: target)
            }
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
