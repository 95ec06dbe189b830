import Foundation
import FluentKit
import FluentSQLiteDriver
import FluentPostgresDriver
import SQLKit
import NIOCore
import NIOPosix
import Logging
import PostgresNIO
import AsyncKit

/// The database named by a URL, opened and migrated without a web server: what the
/// command-line tool works on (the server registers the same configuration with Vapor).
///
/// ```swift
/// let host = try await DatabaseHost.open(url: "sqlite://data/mujun.sqlite")
/// defer { Task { await host.shutdown() } }
/// let services = Services(db: host.db, caller: .system("cli"), context: context)
/// ```
public final class DatabaseHost: Sendable {
    public let databases: Databases
    public let db: any Database
    public let isPostgres: Bool

    private init(databases: Databases, db: any Database, isPostgres: Bool) {
        self.databases = databases; self.db = db; self.isPostgres = isPostgres
    }

    /// `sqlite://data/mujun.sqlite` (relative), `sqlite:///abs/path.sqlite`, `sqlite://:memory:`,
    /// or `postgres://user:pass@host:port/db`: the driver configuration and its id.
    public static func configuration(url: String) throws -> (DatabaseConfigurationFactory, DatabaseID) {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") || url.hasPrefix("postgres+") {
            var pg = try SQLPostgresConfiguration(url: url.replacingOccurrences(of: "postgresql://", with: "postgres://"))
            pg.searchPath = nil
            return (.postgres(configuration: pg, maxConnectionsPerEventLoop: 4, sqlLogLevel: .debug), .psql)
        }
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            // every connection opens with PRAGMA foreign_keys=ON (SQLite's default is off): the
            // schema's foreign keys (migration AddForeignKeys) hold only where it is on
            if path == ":memory:" || path.isEmpty {
                return (.sqlite(SQLiteConfiguration(storage: .memory, enableForeignKeys: true), sqlLogLevel: .debug), .sqlite)
            }
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            return (.sqlite(SQLiteConfiguration(storage: .file(path: path), enableForeignKeys: true), sqlLogLevel: .debug), .sqlite)
        }
        throw ServiceError(.invalid, "DATABASE_URL 无法识别 / unsupported DATABASE_URL: \(url)")
    }

    /// Opens the database and runs the migrations it has not run yet.
    public static func open(url: String, migrate: Bool = true, logger: Logger = Logger(label: "mujun.db")) async throws -> DatabaseHost {
        let databases = Databases(threadPool: NIOThreadPool.singleton, on: MultiThreadedEventLoopGroup.singleton)
        let (factory, id) = try configuration(url: url)
        databases.use(factory, as: id, isDefault: true)
        guard let db = databases.database(logger: logger, on: MultiThreadedEventLoopGroup.singleton.any()) else {
            throw ServiceError(.invalid, "无法打开数据库 / cannot open the database")
        }
        let host = DatabaseHost(databases: databases, db: db, isPostgres: id == .psql)
        do {
            // WAL first: the migrations of a new database then commit with one sync each
            try await prepareConnection(db, isPostgres: host.isPostgres)
            if migrate {
                let migrations = Migrations()
                migrations.add(MujunMigrations.all)
                let migrator = Migrator(databases: databases, migrations: migrations, logger: logger,
                                        on: MultiThreadedEventLoopGroup.singleton.any())
                try await migrator.setupIfNeeded().get()
                try await migrator.prepareBatch().get()
            }
        } catch {
            await host.shutdown()
            throw error
        }
        return host
    }

    /// WAL on SQLite, so that readers go on while an import writes.
    public static func prepareConnection(_ db: any Database, isPostgres: Bool) async throws {
        if !isPostgres { _ = try? await (db as? any SQLDatabase)?.raw("PRAGMA journal_mode=WAL").all() }
    }

    public func shutdown() async {
        await databases.shutdownAsync()
    }

    /// Whether `error` says the database cannot be reached now (not that a query was wrong): a
    /// connection refused, reset or closed, the server shutting down or starting (SQLSTATE 08…,
    /// 57P…), or no pooled connection in time. The server answers such requests 503 at once,
    /// and the next request opens a new connection: after a PostgreSQL restart it recovers alone.
    public static func isUnavailable(_ error: any Error) -> Bool {
        if let e = error as? PSQLError {
            switch e.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
                return true
            case .server:
                let state = e.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || state.hasPrefix("57P")
            default:
                return false
            }
        }
        if error is ConnectionPoolTimeoutError || error is ConnectionPoolError { return true }
        if error is NIOConnectionError || error is ChannelError { return true }
        if let io = error as? IOError, [ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT].contains(io.errnoCode) { return true }
        return false
    }
}
