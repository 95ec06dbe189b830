import Foundation
import Crypto
import FluentKit
import SQLKit
import Logging

/// Backups that restore: a consistent copy of the whole database taken while it is being
/// written to, its restore into an empty database, and a check of a database (integrity, every
/// table's rows and a checksum of them) to compare the two.
///
/// ```swift
/// let made = try await Backup.make(url: "sqlite://data/mujun.sqlite", to: "backups/mujun-20261205.sqlite")
/// try await Backup.restore(from: made.path, into: "sqlite:///srv/restored.sqlite")
/// let check = try await Backup.check(url: "sqlite:///srv/restored.sqlite")   // check.integrity == "ok"
/// ```
///
/// - SQLite: `VACUUM INTO`, which reads the database in one read transaction (writers go on,
///   in WAL mode) and writes a compact, consistent copy; restored by copying it into place.
/// - PostgreSQL: `pg_dump --format=custom` (one snapshot of every table); restored by
///   `pg_restore --single-transaction`, so a failed restore leaves the target as it was.
public enum Backup {
    public enum Engine: String, Sendable { case sqlite, postgres }

    public struct Made: Sendable {
        public var path: String
        public var engine: Engine
        public var bytes: Int64
        public var seconds: Double
    }

    /// One table's rows and the SHA-256 of their text, sorted (the same data gives the same sum
    /// on the same engine, whatever the order it was written in).
    public struct TableSum: Sendable, Hashable {
        public var table: String
        public var rows: Int
        public var sha256: String
    }

    public struct Check: Sendable {
        /// "ok", or what the integrity check found
        public var integrity: String
        public var tables: [TableSum]
    }

    public static func engine(of url: String) throws -> Engine {
        if url.hasPrefix("postgres") { return .postgres }
        if url.hasPrefix("sqlite:") { return .sqlite }
        throw ServiceError(.invalid, "DATABASE_URL 无法识别 / unsupported DATABASE_URL: \(url)")
    }

    /// The file of a `sqlite:` URL (nil for an in-memory one).
    public static func sqlitePath(_ url: String) -> String? {
        var path = String(url.dropFirst("sqlite:".count))
        if path.hasPrefix("//") { path.removeFirst(2) }
        return path.isEmpty || path == ":memory:" ? nil : path
    }

    /// What a backup file holds, from its first bytes: a SQLite database or a pg_dump archive.
    public static func engine(ofFile path: String) throws -> Engine {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw ServiceError(.invalid, "备份文件不存在或无法读取：\(path) / cannot read the backup file")
        }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 16)) ?? Data()
        if head.starts(with: Data("SQLite format 3\u{0}".utf8)) { return .sqlite }
        if head.starts(with: Data("PGDMP".utf8)) { return .postgres }
        throw ServiceError(.invalid, "不是亩均的备份文件（SQLite 数据库或 pg_dump 归档）：\(path) / not a backup made by mujun backup")
    }

    // MARK: - backup

    /// Writes a consistent copy of the database at `url` to `path` (first to `path.partial`, then
    /// renamed: a file at `path` is always whole). Refuses to overwrite an existing file.
    public static func make(url: String, to path: String, logger: Logger = Logger(label: "mujun.backup")) async throws -> Made {
        let started = Date()
        let engine = try engine(of: url)
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ServiceError(.invalid, "备份文件已存在：\(path) / the backup file exists")
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let partial = path + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            switch engine {
            case .sqlite:
                guard sqlitePath(url) != nil else { throw ServiceError(.invalid, "内存数据库无法备份 / an in-memory database has no backup") }
                try await withHost(url, logger) { sql, _ in try await sql.raw("VACUUM INTO \(bind: partial)").run() }
                // the copy is checked before it counts as a backup
                let check = try await integrity(url: "sqlite://" + absolute(partial), logger: logger)
                guard check == "ok" else { throw ServiceError(.unprocessable, "备份副本未通过完整性检查 / the copy failed its integrity check: \(check)") }
            case .postgres:
                try run("pg_dump", ["--format=custom", "--no-owner", "--no-acl", "--file", partial, "--dbname", url])
            }
            try fsync(path: partial)
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        return Made(path: path, engine: engine, bytes: bytes ?? 0, seconds: Date().timeIntervalSince(started))
    }

    /// Keeps the newest `keep` backups of `dir` whose names start with `prefix` (the ones
    /// `mujun backup --dir` writes); returns the removed ones.
    public static func prune(dir: String, prefix: String = "mujun-", keep: Int) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasPrefix(prefix) && !$0.hasSuffix(".partial") && ($0.hasSuffix(".sqlite") || $0.hasSuffix(".dump")) }
            .sorted(by: >)  // the names carry the time, oldest last
        var removed: [String] = []
        for name in names.dropFirst(max(0, keep)) {
            try FileManager.default.removeItem(atPath: dir + "/" + name)
            removed.append(name)
        }
        return removed
    }

    /// A file name for a backup taken now, in `dir`.
    public static func timestampedPath(dir: String, engine: Engine, now: Date = Date()) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return dir + "/mujun-" + f.string(from: now) + (engine == .sqlite ? ".sqlite" : ".dump")
    }

    // MARK: - restore

    /// Restores `file` into the database at `url`, which must be empty (no tables) unless
    /// `replace`: then what it holds is replaced. The engines must match. All or nothing: a
    /// restore that fails leaves the target as it was.
    public static func restore(from file: String, into url: String, replace: Bool = false,
                               logger: Logger = Logger(label: "mujun.backup")) async throws {
        let fileEngine = try engine(ofFile: file)
        let target = try engine(of: url)
        guard fileEngine == target else {
            throw ServiceError(.invalid, "备份是 \(fileEngine.rawValue) 的，目标数据库是 \(target.rawValue) 的 / a \(fileEngine.rawValue) backup cannot be restored into \(target.rawValue)")
        }
        switch target {
        case .sqlite:
            guard let dest = sqlitePath(url) else { throw ServiceError(.invalid, "内存数据库无法恢复 / cannot restore into memory") }
            let check = try await integrity(url: "sqlite://" + absolute(file), logger: logger)
            guard check == "ok" else { throw ServiceError(.unprocessable, "备份文件未通过完整性检查 / the backup failed its integrity check: \(check)") }
            if FileManager.default.fileExists(atPath: dest), try await tableCount(url: url, logger: logger) > 0, !replace {
                throw ServiceError(.conflict, "目标数据库不是空的：\(dest)（确认要覆盖请加 --replace）/ the target database is not empty (--replace to overwrite it)")
            }
            let partial = dest + ".restoring"
            try? FileManager.default.removeItem(atPath: partial)
            try FileManager.default.createDirectory(at: URL(fileURLWithPath: dest).deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: file, toPath: partial)
            try fsync(path: partial)
            // the old database's log must not be replayed into the restored one
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dest + suffix) }
            if rename(partial, dest) != 0 {
                try? FileManager.default.removeItem(atPath: partial)
                throw ServiceError(.unprocessable, "无法写入 \(dest) / cannot write the target")
            }
        case .postgres:
            if try await tableCount(url: url, logger: logger) > 0 {
                guard replace else {
                    throw ServiceError(.conflict, "目标数据库不是空的（确认要覆盖请加 --replace）/ the target database is not empty (--replace to overwrite it)")
                }
                // in the same transaction as the restore: a failed one leaves the old data
                try run("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
                                       "--dbname", url, file])
            } else {
                try run("pg_restore", ["--no-owner", "--no-acl", "--exit-on-error", "--single-transaction", "--dbname", url, file])
            }
        }
    }

    // MARK: - check

    /// The integrity check, every table's rows and a checksum of them.
    public static func check(url: String, tables only: Set<String>? = nil, logger: Logger = Logger(label: "mujun.backup")) async throws -> Check {
        try await withHost(url, logger) { sql, isPostgres in
            let verdict = try await integrity(sql, isPostgres: isPostgres)
            var sums: [TableSum] = []
            for t in try await tables(sql, isPostgres: isPostgres) where only?.contains(t) ?? true {
                sums.append(try await sum(sql, table: t, isPostgres: isPostgres))
            }
            return Check(integrity: verdict, tables: sums)
        }
    }

    static func integrity(url: String, logger: Logger) async throws -> String {
        try await withHost(url, logger) { try await integrity($0, isPostgres: $1) }
    }

    /// Opens the database at `url` without migrating it, runs `body`, and closes it.
    static func withHost<T: Sendable>(_ url: String, _ logger: Logger,
                                      _ body: (any SQLDatabase, Bool) async throws -> T) async throws -> T {
        let host = try await DatabaseHost.open(url: url, migrate: false, logger: logger)
        do {
            let result = try await body(host.db as! any SQLDatabase, host.isPostgres)
            await host.shutdown()
            return result
        } catch {
            await host.shutdown()
            throw error
        }
    }

    /// SQLite: `PRAGMA integrity_check` and `PRAGMA foreign_key_check`. PostgreSQL: amcheck's
    /// `bt_index_check` on every B-tree index (when the extension can be created), and every
    /// foreign key and check constraint validated.
    static func integrity(_ sql: any SQLDatabase, isPostgres: Bool) async throws -> String {
        if !isPostgres {
            let rows = try await sql.raw("PRAGMA integrity_check").all()
            let found = try rows.map { try $0.decode(column: "integrity_check", as: String.self) }
            guard found == ["ok"] else { return found.prefix(5).joined(separator: "; ") }
            let broken = try await sql.raw("PRAGMA foreign_key_check").all()
            return broken.isEmpty ? "ok" : "\(broken.count) 行外键不成立 / rows break a foreign key"
        }
        var problems: [String] = []
        if (try? await sql.raw("CREATE EXTENSION IF NOT EXISTS amcheck").run()) != nil {
            struct Index: Decodable { var name: String; var id: Int64 }
            let indexes = try await sql.raw("""
                SELECT c.relname AS name, c.oid::bigint AS id FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE a.amname = 'btree' AND n.nspname = current_schema() ORDER BY 1
                """).all(decoding: Index.self)
            for ix in indexes {
                do { try await sql.raw("SELECT bt_index_check(\(bind: ix.id)::oid::regclass, true)").run() } catch {
                    problems.append("\(ix.name): \(String(reflecting: error))")
                }
            }
        }
        // constraints PostgreSQL already enforces, validated again over the rows that are there
        struct Constraint: Decodable { var tbl: String; var name: String }
        let constraints = try await sql.raw("""
            SELECT t.relname AS tbl, c.conname AS name FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = current_schema() AND c.contype IN ('f', 'c') ORDER BY 1, 2
            """).all(decoding: Constraint.self)
        for c in constraints {
            do {
                try await sql.raw("ALTER TABLE \(ident: c.tbl) VALIDATE CONSTRAINT \(ident: c.name)").run()
            } catch {
                problems.append("\(c.tbl).\(c.name): \(String(reflecting: error))")
            }
        }
        return problems.isEmpty ? "ok" : problems.prefix(5).joined(separator: "; ")
    }

    static func tables(_ sql: any SQLDatabase, isPostgres: Bool) async throws -> [String] {
        struct Name: Decodable { var name: String }
        let q: SQLQueryString = isPostgres
            ? "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
            : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        return try await sql.raw(q).all(decoding: Name.self).map(\.name)
    }

    static func tableCount(url: String, logger: Logger) async throws -> Int {
        try await withHost(url, logger) { sql, isPostgres in (try? await tables(sql, isPostgres: isPostgres).count) ?? 0 }
    }

    static func sum(_ sql: any SQLDatabase, table: String, isPostgres: Bool) async throws -> TableSum {
        let q: SQLQueryString
        if isPostgres {
            q = "SELECT t::text AS x FROM \(ident: table) t ORDER BY t::text COLLATE \"C\""
        } else {
            struct Column: Decodable { var name: String }
            let cols = try await sql.raw("SELECT name FROM pragma_table_info(\(bind: table)) ORDER BY cid").all(decoding: Column.self)
            let text = cols.map { "quote(\"\($0.name.replacingOccurrences(of: "\"", with: "\"\""))\")" }.joined(separator: " || char(31) || ")
            q = "SELECT x FROM (SELECT \(unsafeRaw: text) AS x FROM \(ident: table)) ORDER BY x"
        }
        var hash = SHA256()
        var rows = 0
        for row in try await sql.raw(q).all() {
            let x = try row.decode(column: "x", as: String.self)
            hash.update(data: Data(x.utf8))
            hash.update(data: Data([0x0A]))
            rows += 1
        }
        return TableSum(table: table, rows: rows, sha256: hash.finalize().map { String(format: "%02x", $0) }.joined())
    }

    // MARK: - helpers

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func fsync(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ServiceError(.unprocessable, "无法打开 \(path) / cannot open it") }
        defer { close(fd) }
        guard Glibc.fsync(fd) == 0 else { throw ServiceError(.unprocessable, "无法写入磁盘 \(path) / cannot sync it") }
    }

    /// Runs a PostgreSQL client tool (found on PATH, else in Debian's /usr/lib/postgresql/*/bin);
    /// its error output becomes the error.
    static func run(_ tool: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try locate(tool))
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw ServiceError(.unprocessable, "\(tool) 失败 / failed (\(p.terminationStatus)): \(text.prefix(2000))")
        }
    }

    static func locate(_ tool: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        var candidates = path.split(separator: ":").map { "\($0)/\(tool)" }
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            candidates += versions.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin/\(tool)" }
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ServiceError(.unprocessable, "找不到 \(tool)（Debian 软件包 postgresql-client）/ \(tool) not found")
        }
        return found
    }
}
