import Foundation
import ArgumentParser
import Vapor
import MujunCore
import MujunStore
import MujunServer

/// `mujun bench-quota`: issue 11's speed figure for the database — the balances of every town and
/// quota type at a date over 1,000,000 journal entries (≤ 200 ms), on SQLite, and on PostgreSQL
/// when MUJUN_BENCH_POSTGRES_URL is set. The entries are posted through the ledger (every rule
/// checked) in batches: credits, uses, transfers and reversals of the three-town pilot.
struct BenchQuota: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-quota", abstract: "指标台账余额查询性能基准（请用 release 构建）/ quota balances benchmark (use a release build)")
    @Option(help: "台账笔数") var entries = 1_000_000
    @Option(help: "每批记账笔数") var batch = 100_000
    @Option(help: "每个查询重复次数（取中位数）") var repeats = 7
    @Option(help: "临时文件目录") var workDir = "bench-data"
    @Option(help: "随机种子") var seed: UInt64 = 11

    func run() async throws {
        #if DEBUG
        print("warning: debug build — figures are not representative; use `swift build -c release`")
        #endif
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: workDir).appendingPathComponent("bench-quota.sqlite").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try await measure(databaseURL: "sqlite://" + path, label: "sqlite")
        if let pg = ProcessInfo.processInfo.environment["MUJUN_BENCH_POSTGRES_URL"], !pg.isEmpty {
            let options = try DatabaseOptions.parse(["--database", pg])
            try await withServices(options, actor: "bench") { s in try await s.system.clearDataForBenchmark() }
            try await measure(databaseURL: pg, label: "postgres")
        } else {
            print("quota_postgres skipped (MUJUN_BENCH_POSTGRES_URL not set)")
        }
    }

    /// `n` postings that the rules accept, from `start`: mostly credits and uses within the balance,
    /// transfers, and now and then a reversal of the posting before.
    static func postings(_ n: Int, from first: Int, start: CalendarDate, rng: inout SeededRandom) -> [QuotaPosting] {
        let towns = ["古山镇", "方岩镇", "舟山镇"]
        var out: [QuotaPosting] = []
        out.reserveCapacity(n)
        for i in first..<(first + n) {
            let day = start.adding(days: i / 1_000)
            let town = towns[i % 3], other = towns[(i + 1) % 3]
            let amount = QuotaAmount.Parse.value(QuotaAmount(units: Int64(1 + rng.next() % 50_000)))
            let p: QuotaPosting
            switch i % 10 {
            case 0, 1, 2:
                p = QuotaPosting(seq: "", date: day, action: .credit, town: town, quota: .reclaimedConstruction, amount: .value(QuotaAmount(units: 200_000)))
            case 3:
                p = QuotaPosting(seq: "", date: day, action: .credit, town: town, quota: .newFarmland, amount: .value(QuotaAmount(units: 60_000)), grade: .value(QuotaAmount(units: 50_000)))
            case 4:
                // (in the town credited just before)
                p = QuotaPosting(seq: "", date: day, action: .use, town: towns[(i - 1) % 3], quota: .newFarmland, amount: amount, grade: .value(QuotaAmount(units: 60_000)))
            case 5:
                p = QuotaPosting(seq: "", date: day, action: .credit, town: town, quota: .basicFarmland, amount: .value(QuotaAmount(units: 21_000)))
            case 6:
                p = QuotaPosting(seq: "", date: day, action: .use, town: other, quota: .basicFarmland, amount: .value(QuotaAmount(units: 20_000)))
            case 7:
                p = QuotaPosting(seq: "", date: day, action: .transfer, town: town, toTown: other, quota: .reclaimedConstruction, amount: amount)
            case 8:
                p = QuotaPosting(seq: "", date: day, action: .use, town: town, quota: .reclaimedConstruction, amount: amount)
            default:
                // (seqs are numbered 1, 2, … by the ledger: i + 1 is this one's, i the one before)
                p = QuotaPosting(seq: "", date: day, action: .reverse, reverses: String(i), note: "基准冲正")
            }
            out.append(p)
        }
        return out
    }

    func measure(databaseURL: String, label: String) async throws {
        let app = try await Application.make(Environment(name: "production", arguments: ["mujun"]))
        app.logger.logLevel = .error
        do {
            try await configure(app, ServerConfig(databaseURL: databaseURL, secret: "bench"))
            let s = app.systemService(as: "bench")
            let start = CalendarDate("2025-01-01")!
            let id = try await s.quota.createProject(name: "基准全域整治", towns: ["古山镇", "方岩镇", "舟山镇"], start: start.description)
            var rng = SeededRandom(seed: seed)
            var t = Date()
            var posted = 0
            while posted < entries {
                let n = min(batch, entries - posted)
                posted += try await s.quota.benchPost(id: id, Self.postings(n, from: posted, start: start, rng: &rng))
            }
            Bench.report("quota_load_\(entries / 1000)k_\(label)", Date().timeIntervalSince(t), "s")
            print("quota_load_\(label)_entries \(posted) entries")
            let end = start.adding(days: entries / 1_000)
            // now (the running state), mid-month dates (half a month of the journal after the checkpoint),
            // and the 30th of a month (the most days after a checkpoint)
            let mid = start.adding(days: entries / 2_000)
            let midMonth = CalendarDate(year: mid.year, month: mid.month, day: 15)!
            let late = CalendarDate(year: mid.year, month: mid.month == 2 ? 3 : mid.month, day: 30)!
            for (name, day) in [("latest", nil), ("mid_month", midMonth), ("month_end", late), ("early", CalendarDate(year: start.year, month: 2, day: 14)!)]
                    as [(String, CalendarDate?)] {
                var times: [Double] = []
                var total: Int64 = 0
                for _ in 0..<repeats {
                    t = Date()
                    let lines = try await s.quota.balances(id: id, asOf: day)
                    times.append(Date().timeIntervalSince(t) * 1000)
                    total = lines.reduce(0) { $0 + $1.balance.balance }
                }
                Bench.report("quota_balances_\(entries / 1000)k_\(name)_\(label)", times.sorted()[times.count / 2], "ms", target: 200)
                print("quota_balances_\(name)_\(label)_as_of \(day?.description ?? end.description) Σ balance \(QuotaAmount.format(total)) mu")
            }
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}
