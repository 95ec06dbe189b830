import Foundation
import ArgumentParser
import MujunCore
import MujunStore
import MujunServer

/// `mujun jobs run-due` (for cron, when the scheduler of `mujun serve` is off) and `mujun jobs list`.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "定时任务 / scheduled jobs",
        subcommands: [RunDue.self, List.self])

    struct RunDue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run-due",
            abstract: "运行到期且未被其他实例领取的任务 / run the jobs that are due and not claimed elsewhere",
            discussion: """
                每个任务每个周期（日、月）在所有实例中只运行一次：先领取者运行，失败后隔 1、4、16… 分钟重试，
                实例中断（租约 15 分钟）由其他实例接手。mujun serve 内置调度（MUJUN_JOBS=off 关闭），
                关闭时可由 cron 每分钟调用本命令。
                """)
        @OptionGroup var db: DatabaseOptions
        @Option(help: "按此时刻判断是否到期（ISO 8601，默认现在）/ judge what is due at this time") var at: String?
        @Option(help: "只运行此任务 / only this job") var only: String?
        @Option(help: "实例名（默认主机名:pid）/ this runner's name") var instance: String?

        func run() async throws {
            var now = Date()
            if let at {
                guard let d = ISO8601DateFormatter().date(from: at) else { throw ValidationError("--at 须为 ISO 8601 时刻，如 2026-12-05T08:00:00+08:00") }
                now = d
            }
            let settings = JobService.Settings(instance: instance ?? defaultInstanceName(), databaseURL: db.config.databaseURL,
                                               backupDir: ProcessInfo.processInfo.environment["MUJUN_BACKUP_DIR"],
                                               backupKeep: ProcessInfo.processInfo.environment["MUJUN_BACKUP_KEEP"].flatMap(Int.init) ?? 14)
            let ran = try await withServices(db, actor: "jobs") { s in try await s.jobs.runDue(now: now, settings: settings, only: only) }
            if ran.isEmpty { print("没有到期的任务 / nothing due") }
            for r in ran { print(r) }
            if ran.contains(where: { !$0.succeeded }) { throw ExitCode(1) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "任务、最近的运行与发件箱 / the jobs, their latest runs and the outbox")
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            for s in JobService.specs { print("\(s.name)\t\(s.scheduleText)\t\(s.chinese)") }
            let (runs, counts) = try await withServices(db, actor: "jobs") { s in
                (try await s.jobs.runs(limit: 30), try await s.jobs.outbox(limit: 1).counts)
            }
            print("")
            for r in runs { print("\(r.job)\t\(r.period)\t\(r.state)\t\(r.attempts)\t\(r.instance)\t\(r.error ?? r.detail ?? "")") }
            print("")
            print("发件箱 / outbox: " + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "，"))
        }
    }
}

/// host:pid, the name a runner has when none is given.
func defaultInstanceName() -> String {
    "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
}
