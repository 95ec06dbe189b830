import Foundation
import ArgumentParser
import MujunStore
import MujunServer

/// `mujun backup --out FILE` (or `--dir D --keep N`): a consistent copy of the database while it is in use.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "备份数据库（运行中也可）/ back up the database, also while it is in use",
        discussion: """
            SQLite：VACUUM INTO 写出一致的副本并做完整性检查；PostgreSQL：pg_dump --format=custom。
            --out 写一个文件；--dir 按时间命名（mujun-YYYYMMDD-HHMMSS.sqlite|.dump）并只保留最新 --keep 份（每日备份用）。
            mujun restore FILE 恢复；mujun verify 列出每张表的行数与校验和，可比较两库。
            """)
    @OptionGroup var db: DatabaseOptions
    @Option(help: "备份文件（不得已存在）/ the backup file (must not exist)") var out: String?
    @Option(help: "备份目录：文件按时间命名 / a folder: the file named by the time") var dir: String?
    @Option(help: "与 --dir 同用：保留最新几份（默认 14）/ with --dir: how many to keep") var keep = 14

    func validate() throws {
        guard (out == nil) != (dir == nil) else { throw ValidationError("请给出 --out 或 --dir 之一 / give --out or --dir") }
        guard keep >= 1 else { throw ValidationError("--keep 至少为 1 / --keep is at least 1") }
    }

    func run() async throws {
        let url = db.config.databaseURL
        try await reportingFailures {
            let engine = try Backup.engine(of: url)
            let path = out ?? Backup.timestampedPath(dir: dir!, engine: engine)
            let made = try await Backup.make(url: url, to: path)
            print("已备份 / backed up: \(made.path)（\(made.engine.rawValue)，\(made.bytes) 字节 / bytes，\(String(format: "%.1f", made.seconds)) 秒 / s）")
            if let dir {
                for name in try Backup.prune(dir: dir, keep: keep) { print("已删除旧备份 / removed an old backup: \(dir)/\(name)") }
            }
        }
    }
}

/// `mujun restore FILE`: a backup into an empty database (or, with --replace, over one).
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "从备份恢复数据库 / restore the database from a backup",
        discussion: """
            恢复到 DATABASE_URL（或 --database）所指的数据库；目标须为空，--replace 时覆盖其内容。
            全部或全不：失败时目标保持原样。恢复前请停止使用该数据库的所有 mujun serve 实例。
            """)
    @OptionGroup var db: DatabaseOptions
    @Argument(help: "mujun backup 写出的文件 / a file written by mujun backup") var file: String
    @Flag(help: "覆盖非空的目标数据库 / overwrite a target that holds data") var replace = false

    func run() async throws {
        let url = db.config.databaseURL
        try await reportingFailures {
            try await Backup.restore(from: file, into: url, replace: replace)
            let check = try await Backup.check(url: url)
            let rows = check.tables.reduce(0) { $0 + $1.rows }
            print("已恢复 / restored \(file) → \(url)：\(check.tables.count) 张表 / tables，\(rows) 行 / rows，完整性 / integrity \(check.integrity)")
            guard check.integrity == "ok" else { throw ExitCode(1) }
        }
    }
}

/// `mujun verify`: the integrity check, and every table's rows and checksum (to compare two databases).
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "检查数据库完整性并列出每张表的行数与校验和 / check the database, list every table's rows and checksum",
        discussion: """
            输出制表符分隔：table、rows、sha256（行按文本排序后的 SHA-256，同一引擎上同样的数据得同样的值）。
            第一行为 integrity（ok 或发现的问题）；有问题时以状态 1 退出。
            """)
    @OptionGroup var db: DatabaseOptions
    @Option(help: "只列这些表（逗号分隔）/ only these tables") var tables: String?

    func run() async throws {
        let only = tables.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        try await reportingFailures {
            let check = try await Backup.check(url: db.config.databaseURL, tables: only)
            print("integrity\t\(check.integrity)")
            for t in check.tables { print("\(t.table)\t\(t.rows)\t\(t.sha256)") }
            guard check.integrity == "ok" else { throw ExitCode(1) }
        }
    }
}

/// Runs `body`; a refusal or an error of the database tools is printed and the command exits 1.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as ServiceError {
        warn(e.message)
        throw ExitCode(1)
    } catch let e as ExitCode {
        throw e
    } catch {
        warn(String(reflecting: error))
        throw ExitCode(1)
    }
}
