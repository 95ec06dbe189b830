import Foundation
import ArgumentParser
import Vapor
import MujunCore
import MujunStore
import MujunServer

/// The project's own benchmarks (`make bench` runs them in a release build). Each figure is
/// printed as `name value unit`, with the target beside it where the issue names one.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench",
        abstract: "性能基准（请用 release 构建）/ benchmarks (use a release build)",
        discussion: "MUJUN_BENCH_POSTGRES_URL 设为 postgres://… 时同时测 PostgreSQL 导入。")
    @Option(help: "导入基准的行数") var importRows = 100_000
    @Option(help: "排名页基准的企业数") var rankingEnterprises = 10_000
    @Option(help: "每个请求重复次数") var repeats = 30
    @Option(help: "临时文件目录") var workDir = "bench-data"

    func run() async throws {
        #if DEBUG
        print("warning: debug build — figures are not representative; use `swift build -c release`")
        #endif
        let dir = URL(fileURLWithPath: workDir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)

        // 1. import of N rows, from a CSV file into the database, end to end (read, check, write)
        let csv = dir.appendingPathComponent("import-\(importRows).csv")
        let city = DemoCity(enterprises: importRows, seed: 11)
        try DemoFiles.write(city.records(year: 2025, latestYear: 2025), to: csv)
        let sqlitePath = dir.appendingPathComponent("bench-import.sqlite").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: sqlitePath + suffix) }
        let t1 = try await timeImport(csv: csv, databaseURL: "sqlite://" + sqlitePath)
        report("import_\(importRows / 1000)k_sqlite", t1, "s", target: 5)
        let t1b = try await timeImport(csv: csv, databaseURL: "sqlite://" + sqlitePath)
        report("reimport_\(importRows / 1000)k_sqlite", t1b, "s", target: 5)
        if let pg = ProcessInfo.processInfo.environment["MUJUN_BENCH_POSTGRES_URL"], !pg.isEmpty {
            try await resetPostgres(pg)
            let t2 = try await timeImport(csv: csv, databaseURL: pg)
            report("import_\(importRows / 1000)k_postgres", t2, "s", target: 10)
        } else {
            print("import_\(importRows / 1000)k_postgres skipped (MUJUN_BENCH_POSTGRES_URL not set)")
        }

        // 2. evaluation of the same rows in memory (no I/O)
        let records = city.records(year: 2025, latestYear: 2025)
        let e0 = Date()
        _ = Evaluator().evaluate(year: 2025, records: records)
        report("evaluate_\(importRows / 1000)k_in_memory", Date().timeIntervalSince(e0) * 1000, "ms")

        // 3. ranking page and API over N enterprises: server time, in process (no network)
        let rankPath = dir.appendingPathComponent("bench-ranking.sqlite").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: rankPath + suffix) }
        let app = try await Application.make(Environment(name: "production", arguments: ["mujun"]))
        app.logger.logLevel = .error
        do {
            try await configure(app, ServerConfig(databaseURL: "sqlite://" + rankPath, secret: "bench"))
            let rcity = DemoCity(enterprises: rankingEnterprises, seed: 5)
            let services = app.systemService(as: "bench")
            _ = try await services.ranking.importEnterprises(rcity.records(year: 2025, latestYear: 2025), fileName: "bench")
            _ = try await services.ranking.evaluate(year: 2025)
            _ = try await services.accounts.createUser(.init(login: "bench", displayName: "基准测试", unit: "bench", role: .headquarters,
                                                             password: "Bench#2025x", mustChangePassword: false))
            let cookie = "mujun_session=" + (try await services.accounts.openSession(login: "bench"))
            try await app.asyncBoot()
            let code = rcity.enterprises[0].creditCode
            let n = rankingEnterprises / 1000
            for (name, path) in [
                ("ranking_page_\(n)k", "/ranking?year=2025&group=above"),
                ("ranking_page_\(n)k_below_sorted", "/ranking?year=2025&group=below&sort=total&order=desc"),
                ("api_results_\(n)k", "/api/v1/results?year=2025&per=100"),
                ("api_results_\(n)k_town", "/api/v1/results?year=2025&town=%E5%8F%A4%E5%B1%B1%E9%95%87&per=100"),
                ("api_counts_\(n)k", "/api/v1/results/counts?year=2025&group=below"),
                ("enterprise_page_\(n)k", "/enterprises/\(code)?year=2025"),
                ("export_xlsx_\(n)k_above", "/export/ranking.xlsx?year=2025&group=above"),
            ] {
                let ms = try await timeRequest(app, path, cookie: cookie)
                report(name, ms, "ms", target: name.hasPrefix("export") ? nil : 100)
            }
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    func report(_ name: String, _ value: Double, _ unit: String, target: Double? = nil) { Bench.report(name, value, unit, target: target) }

    static func report(_ name: String, _ value: Double, _ unit: String, target: Double? = nil) {
        var line = String(format: "%@ %.3f %@", name, value, unit)
        if let target { line += String(format: "  (target ≤ %g %@: %@)", target, unit, value <= target ? "PASS" : "FAIL") }
        print(line)
    }

    func timeImport(csv: URL, databaseURL: String) async throws -> Double {
        let start = Date()
        let table = try TableReader.open(url: csv)
        let records = try EnterpriseImport.read(table, year: 2025, rules: .default)
        let options = try DatabaseOptions.parse(["--database", databaseURL])
        _ = try await withServices(options, actor: "bench") { s in
            try await s.ranking.importEnterprises(records, fileName: csv.lastPathComponent)
        }
        return Date().timeIntervalSince(start)
    }

    func resetPostgres(_ url: String) async throws {
        let options = try DatabaseOptions.parse(["--database", url])
        try await withServices(options, actor: "bench") { s in try await s.system.clearDataForBenchmark() }
    }

    /// Median server time of a GET over `repeats` runs after two warm-ups.
    func timeRequest(_ app: Application, _ path: String, cookie: String) async throws -> Double {
        try await Bench.timeRequest(app, path, cookie: cookie, repeats: repeats)
    }

    static func timeRequest(_ app: Application, _ path: String, cookie: String, repeats: Int) async throws -> Double {
        var times: [Double] = []
        for i in 0..<(repeats + 2) {
            let req = Request(application: app, method: .GET, url: URI(string: path), headers: ["Cookie": cookie],
                              on: app.eventLoopGroup.next())
            let start = DispatchTime.now().uptimeNanoseconds
            let res = try await app.responder.current.respond(to: req).get()
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            guard res.status == .ok else { throw ValidationError("\(path) answered \(res.status.code)") }
            if i >= 2 { times.append(ms) }
        }
        return times.sorted()[times.count / 2]
    }
}
