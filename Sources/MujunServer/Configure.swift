import Foundation
import Vapor
import Fluent
import FluentSQLiteDriver
import FluentPostgresDriver
import MujunCore
import MujunStore

/// Where the data lives and which rules are in force, from the environment.
public struct ServerConfig: Sendable {
    /// `sqlite://data/mujun.sqlite` (relative), `sqlite:///abs/path.sqlite`, `sqlite://:memory:`,
    /// or `postgres://user:pass@host:port/db`.
    public var databaseURL: String
    /// A rules file; nil = the default rules of EVALUATION.md.
    public var rulesPath: String?
    /// Largest accepted upload, bytes.
    public var maxUpload: Int

    public static let defaultDatabaseURL = "sqlite://data/mujun.sqlite"

    public init(databaseURL: String? = nil, rulesPath: String? = nil, maxUpload: Int = 200 << 20) {
        let env = ProcessInfo.processInfo.environment
        self.databaseURL = databaseURL ?? env["DATABASE_URL"] ?? Self.defaultDatabaseURL
        self.rulesPath = rulesPath ?? env["MUJUN_RULES"]
        self.maxUpload = maxUpload
    }

    public var isPostgres: Bool { databaseURL.hasPrefix("postgres") }

    /// The rules in force and their YAML text.
    public func loadRules() throws -> (Rules, String) {
        guard let path = rulesPath else { return (Rules.default, defaultRulesYAML) }
        let url = URL(fileURLWithPath: path)
        let text = try String(contentsOf: url, encoding: .utf8)
        return (try Rules(yaml: text), text)
    }
}

/// The rules in force, kept on the application.
struct RulesKey: StorageKey { typealias Value = RulesInForce }
public struct RulesInForce: Sendable {
    public var rules: Rules
    public var yaml: String
}

extension Application {
    public var rulesInForce: RulesInForce {
        get { storage[RulesKey.self] ?? RulesInForce(rules: .default, yaml: defaultRulesYAML) }
        set { storage[RulesKey.self] = newValue }
    }
    public var store: Store { Store(db) }
}

extension Request {
    public var store: Store { Store(db) }
}

/// Registers the database named by `config.databaseURL` and the migrations.
public func configureDatabase(_ app: Application, _ config: ServerConfig) throws {
    let url = config.databaseURL
    if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") || url.hasPrefix("postgres+") {
        var pg = try SQLPostgresConfiguration(url: url.replacingOccurrences(of: "postgresql://", with: "postgres://"))
        pg.searchPath = nil
        app.databases.use(.postgres(configuration: pg, maxConnectionsPerEventLoop: 4, sqlLogLevel: .debug), as: .psql)
    } else if url.hasPrefix("sqlite:") {
        var path = String(url.dropFirst("sqlite:".count))
        if path.hasPrefix("//") { path.removeFirst(2) }
        if path == ":memory:" || path.isEmpty {
            app.databases.use(.sqlite(.memory, sqlLogLevel: .debug), as: .sqlite)
        } else {
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            app.databases.use(.sqlite(.file(path), sqlLogLevel: .debug), as: .sqlite)
        }
    } else {
        throw Abort(.internalServerError, reason: "DATABASE_URL 无法识别 / unsupported DATABASE_URL: \(url)")
    }
    app.migrations.add(MujunMigrations.all)
}

/// Builds the whole application without running it: database, migrations, rules, routes.
/// Tests drive the returned application directly.
public func configure(_ app: Application, _ config: ServerConfig = ServerConfig()) async throws {
    try configureDatabase(app, config)
    try await app.autoMigrate()
    if !config.isPostgres {
        // WAL lets readers go on while an import writes
        _ = try? await (app.db as? any SQLDatabase)?.raw("PRAGMA journal_mode=WAL").all()
    }
    let (rules, yaml) = try config.loadRules()
    app.rulesInForce = RulesInForce(rules: rules, yaml: yaml)
    app.routes.defaultMaxBodySize = ByteCount(value: config.maxUpload)

    let json = JSONEncoder()
    json.keyEncodingStrategy = .convertToSnakeCase
    json.outputFormatting = [.sortedKeys]
    json.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    json.dateEncodingStrategy = .iso8601
    ContentConfiguration.global.use(encoder: json, for: .json)

    app.middleware = Middlewares()
    app.middleware.use(ErrorPageMiddleware())
    try routes(app)
}

/// Answers errors as JSON under /api and as a Chinese page elsewhere.
struct ErrorPageMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let status: HTTPResponseStatus
            let reason: String
            if let abort = error as? any AbortError {
                status = abort.status; reason = abort.reason
            } else {
                request.logger.report(error: error)
                status = .internalServerError; reason = "服务器内部错误 / internal server error"
            }
            if request.url.path.hasPrefix("/api") || request.url.path.hasPrefix("/openapi") || request.url.path == "/healthz" {
                let body = try JSONEncoder().encode(["error": reason, "status": "\(status.code)"])
                return Response(status: status, headers: ["Content-Type": "application/json; charset=utf-8"], body: .init(data: body))
            }
            return HTML.page(title: "出错了", status: status, body: """
                <section class="card"><h2>\(status.code) \(HTML.escape(status.reasonPhrase))</h2>
                <p>\(HTML.escape(reason))</p><p><a href="/ranking">返回排名</a></p></section>
                """)
        }
    }
}
