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
/// file is removed afterwards). When `MUJUN_TEST_DATABASE_URL` is set (a `postgres://…` URL
/// of a superuser), each application has a database of its own on that server instead, copied
/// from one migrated once per process and dropped afterwards (`PostgresTestDatabases`), so the
/// tests run side by side as on SQLite; `MUJUN_TEST_PG_PARALLEL` (default 4) bounds how many
/// at once.
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
        if let shared = sharedDatabaseURL {
            return try await PostgresTestDatabases.shared.with(server: shared, migrated: true) { url in
                try await run(databaseURL: url, maxUpload: maxUpload, body)
            }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-test-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) } }
        return try await run(databaseURL: "sqlite://" + file, maxUpload: maxUpload, body)
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

    /// Runs `sql` on the database named by `url` through a throw-away application that
    /// registers the database but runs no migrations.
    static func administer(_ url: String, _ sql: [String]) async throws {
        let app = try await Application.make(.testing)
        do {
            try configureDatabase(app, ServerConfig(databaseURL: url, secret: "test-secret", bcryptCost: 4))
            let db = app.db as! any SQLDatabase
            for statement in sql { try await db.raw(SQLQueryString(statement)).run() }
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}

/// The PostgreSQL databases of the tests: one per application, on the server of
/// `MUJUN_TEST_DATABASE_URL`, so that tests never share one.
///
/// A migrated database is copied (`CREATE DATABASE … TEMPLATE`) from a template that the first
/// test migrates, once per process; an unmigrated one is created empty. Each is dropped when
/// its test ends, whatever the outcome.
actor PostgresTestDatabases {
    static let shared = PostgresTestDatabases(limit: Int(ProcessInfo.processInfo.environment["MUJUN_TEST_PG_PARALLEL"] ?? "") ?? 4)

    private let limit: Int
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var template: Task<String, any Error>?

    init(limit: Int) { self.limit = max(1, limit) }

    /// Runs `body` with the URL of a new database of its own on `server`'s cluster.
    nonisolated func with<T>(server: String, migrated: Bool, _ body: (String) async throws -> T) async throws -> T {
        await acquire()
        let name = "mujun_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let outcome: Result<T, any Error>
        do {
            let from = migrated ? try await templateName(server: server) : nil
            try await TestApp.administer(server, ["CREATE DATABASE \(name)" + (from.map { " TEMPLATE \($0) STRATEGY FILE_COPY" } ?? "")])
            outcome = .success(try await body(Self.url(server, database: name)))
        } catch {
            outcome = .failure(error)
        }
        // dropped whatever the outcome (one that cannot be only stays in the throw-away cluster)
        try? await TestApp.administer(server, ["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"])
        await release()
        return try outcome.get()
    }

    /// The template's name: made and migrated by the first caller, once per process.
    private func templateName(server: String) async throws -> String {
        if let template { return try await template.value }
        let task = Task<String, any Error> {
            let name = "mujun_tpl_\(ProcessInfo.processInfo.processIdentifier)"
            try await TestApp.administer(server, ["DROP DATABASE IF EXISTS \(name) WITH (FORCE)", "CREATE DATABASE \(name)"])
            let app = try await Application.make(.testing)
            do {
                try await configure(app, ServerConfig(databaseURL: Self.url(server, database: name), secret: "test-secret", bcryptCost: 4))
                try await app.asyncShutdown()
            } catch {
                try? await app.asyncShutdown()
                throw error
            }
            return name
        }
        template = task
        return try await task.value
    }

    /// `server` with its database replaced by `database`.
    static func url(_ server: String, database: String) -> String {
        guard var parts = URLComponents(string: server) else { return server }
        parts.path = "/" + database
        return parts.string ?? server
    }

    private func acquire() async {
        if running < limit { running += 1; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { running -= 1 } else { waiters.removeFirst().resume() }
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
