import Foundation
import Testing
import Vapor
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// Builds applications for the server tests.
///
/// By default each application has its own SQLite database in a temporary file (WAL, as in
/// production: readers and one writer at a time, which the concurrency tests rely on; the
/// file is removed afterwards). When
/// `MUJUN_TEST_DATABASE_URL` is set (a `postgres://…` URL), every application uses that
/// database instead: the schema is dropped and recreated before the migrations run, so each
/// test starts from an empty database, and a process-wide lock keeps tests from using the
/// shared database at the same time.
enum TestApp {
    /// The PostgreSQL (or other) database the tests should use, if any.
    static var sharedDatabaseURL: String? {
        guard let url = ProcessInfo.processInfo.environment["MUJUN_TEST_DATABASE_URL"], !url.isEmpty else { return nil }
        return url
    }

    static var isPostgres: Bool { sharedDatabaseURL?.hasPrefix("postgres") ?? false }

    /// Runs `body` with a configured application on an empty database, then shuts it down.
    /// `maxUpload` (bytes) overrides the configured upload limit.
    static func with<T>(maxUpload: Int? = nil, _ body: (Application) async throws -> T) async throws -> T {
        let shared = sharedDatabaseURL
        if shared != nil { await SharedDatabaseLock.shared.acquire() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-test-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) } }
        do {
            let result = try await run(databaseURL: shared ?? "sqlite://" + file, maxUpload: maxUpload, body)
            if shared != nil { await SharedDatabaseLock.shared.release() }
            return result
        } catch {
            if shared != nil { await SharedDatabaseLock.shared.release() }
            throw error
        }
    }

    /// Runs `body` with an application holding a demo city (2024 and 2025 imported and
    /// evaluated under the default rules).
    static func withDemo<T>(enterprises: Int = 300, seed: UInt64 = 3, _ body: (Application) async throws -> T) async throws -> T {
        try await with { app in
            try await loadDemo(app, enterprises: enterprises, seed: seed)
            return try await body(app)
        }
    }

    /// Imports and evaluates the demo city's 2024 and 2025 data.
    static func loadDemo(_ app: Application, enterprises: Int = 300, seed: UInt64 = 3) async throws {
        let city = DemoCity(enterprises: enterprises, seed: seed)
        for year in [2024, 2025] {
            _ = try await app.store.importEnterprises(city.records(year: year, latestYear: 2025), fileName: "t", actor: "test")
            _ = try await app.store.evaluate(year: year, rules: .default, rulesYAML: defaultRulesYAML, actor: "test")
        }
    }

    private static func run<T>(databaseURL: String, maxUpload: Int? = nil, _ body: (Application) async throws -> T) async throws -> T {
        let config = ServerConfig(databaseURL: databaseURL, rulesPath: nil, maxUpload: maxUpload, secret: "test-secret", bcryptCost: 4)
        if config.isPostgres { try await resetSchema(config) }
        let app = try await Application.make(.testing)
        do {
            try await configure(app, config)
            let result = try await body(app)
            try await app.asyncShutdown()
            return result
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Drops every table of the shared PostgreSQL database (through a throw-away application
    /// that registers the database but runs no migrations).
    private static func resetSchema(_ config: ServerConfig) async throws {
        let app = try await Application.make(.testing)
        do {
            try configureDatabase(app, config)
            let sql = app.db as! any SQLDatabase
            try await sql.raw("DROP SCHEMA IF EXISTS public CASCADE").run()
            try await sql.raw("CREATE SCHEMA public").run()
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}

/// A lock across all test suites of the process (async, FIFO).
actor SharedDatabaseLock {
    static let shared = SharedDatabaseLock()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}

extension String {
    /// Percent-encodes a query value for a test request path.
    var queryEncoded: String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }

    /// Every first capture group of `pattern`.
    func captures(_ pattern: String) -> [String] {
        guard let re = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]) else { return [] }
        let ns = self as NSString
        return re.matches(in: self, range: NSRange(location: 0, length: ns.length)).map { m in
            m.numberOfRanges > 1 ? ns.substring(with: m.range(at: 1)) : ns.substring(with: m.range)
        }
    }
}
