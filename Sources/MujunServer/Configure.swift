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
    /// The key for session and token hashes; nil = MUJUN_SECRET, else `secretFile`
    /// (generated on first start).
    public var secret: String?
    public var secretFile: String
    /// bcrypt cost for new password hashes
    public var bcryptCost: Int
    /// Mark the session cookie Secure (behind TLS).
    public var secureCookies: Bool
    /// Memory for the OGC API's serialized parcels, bytes (MUJUN_OGC_CACHE_MB, default 256; 0 = off).
    public var ogcCacheBytes: Int
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed (MUJUN_TRUSTED_PROXIES,
    /// comma-separated); none by default, so a client cannot choose its own address.
    public var trustedProxies: Set<String>

    public static let defaultDatabaseURL = "sqlite://data/mujun.sqlite"

    public init(databaseURL: String? = nil, rulesPath: String? = nil, maxUpload: Int? = nil, secret: String? = nil,
                bcryptCost: Int = 12) {
        let env = ProcessInfo.processInfo.environment
        self.databaseURL = databaseURL ?? env["DATABASE_URL"] ?? Self.defaultDatabaseURL
        self.rulesPath = rulesPath ?? env["MUJUN_RULES"]
        self.maxUpload = maxUpload ?? env["MUJUN_MAX_UPLOAD_MB"].flatMap(Int.init).map { $0 << 20 } ?? (100 << 20)
        self.secret = secret
        self.secretFile = env["MUJUN_SECRET_FILE"] ?? "data/secret.key"
        self.bcryptCost = bcryptCost
        self.secureCookies = env["MUJUN_SECURE_COOKIES"] == "1"
        self.ogcCacheBytes = max(0, env["MUJUN_OGC_CACHE_MB"].flatMap(Int.init) ?? 256) << 20
        self.trustedProxies = Set((env["MUJUN_TRUSTED_PROXIES"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " })
            .map { ClientAddress.normalized(String($0)) }.filter { !$0.isEmpty })
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
    /// The store as the signed-in user may read it: filtered to the user's jurisdiction or
    /// enterprise, and to published years for roles that do not see drafts.
    public var store: Store { Store(db, scope: scope, publishedOnly: !seesDrafts) }
    /// The store without the reader's filter, for writes and checks made on the user's behalf.
    public var fullStore: Store { Store(db) }
}

struct ServerConfigKey: StorageKey { typealias Value = ServerConfig }

extension Application {
    public var serverConfig: ServerConfig {
        get { storage[ServerConfigKey.self] ?? ServerConfig() }
        set { storage[ServerConfigKey.self] = newValue }
    }
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
        // every connection opens with PRAGMA foreign_keys=ON (SQLite's default is off): the
        // schema's foreign keys (migration AddForeignKeys) hold only where it is on
        if path == ":memory:" || path.isEmpty {
            app.databases.use(.sqlite(SQLiteConfiguration(storage: .memory, enableForeignKeys: true), sqlLogLevel: .debug), as: .sqlite)
        } else {
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            app.databases.use(.sqlite(SQLiteConfiguration(storage: .file(path: path), enableForeignKeys: true), sqlLogLevel: .debug), as: .sqlite)
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
    // the map's GeoJSON and the exports compress well
    app.http.server.configuration.responseCompression = .enabled

    let json = JSONEncoder()
    json.keyEncodingStrategy = .convertToSnakeCase
    json.outputFormatting = [.sortedKeys]
    json.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    json.dateEncodingStrategy = .iso8601
    ContentConfiguration.global.use(encoder: json, for: .json)

    app.secretKey = try SecretKey.load(config)
    app.passwords.use(.bcrypt(cost: config.bcryptCost))
    app.serverConfig = config
    app.ogcParcelCache = OGCParcelCache(budget: config.ogcCacheBytes)
    app.signInLimiter = SignInLimiter()

    app.middleware = Middlewares()
    app.middleware.use(SecurityHeadersMiddleware())
    app.middleware.use(ErrorPageMiddleware())
    app.middleware.use(AuthMiddleware())
    try routes(app)
}

/// Answers errors as JSON under /api and as a Chinese page elsewhere.
struct ErrorPageMiddleware: AsyncMiddleware {
    /// Status, reason and headers of the answer to `error` (an unexpected one is logged and
    /// answered 500 without its details).
    static func answer(_ error: any Error, _ request: Request) -> (HTTPResponseStatus, String, HTTPHeaders) {
        if let abort = error as? any AbortError { return (abort.status, abort.reason, abort.headers) }
        request.logger.report(error: error)
        return (.internalServerError, "服务器内部错误 / internal server error", [:])
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let (status, reason, extra) = Self.answer(error, request)
            if request.url.path.hasPrefix("/api") || request.url.path.hasPrefix("/openapi") || request.url.path.hasPrefix("/ogc")
                || request.url.path == "/healthz" {
                let body = try JSONEncoder().encode(["error": reason, "status": "\(status.code)"])
                var headers = extra
                headers.replaceOrAdd(name: .contentType, value: "application/json; charset=utf-8")
                return Response(status: status, headers: headers, body: .init(data: body))
            }
            return HTML.page(title: "出错了", status: status, body: """
                <section class="card"><h2>\(status.code) \(HTML.escape(status.reasonPhrase))</h2>
                <p>\(HTML.escape(reason))</p><p><a href="/">返回首页</a></p></section>
                """)
        }
    }
}

/// Security headers on every answer (pages set their own CSP too).
struct SecurityHeadersMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let res = try await next.respond(to: request)
        res.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        if res.headers.first(name: "X-Frame-Options") == nil { res.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY") }
        if res.headers.first(name: "Referrer-Policy") == nil { res.headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin") }
        return res
    }
}
