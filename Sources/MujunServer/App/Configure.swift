import Foundation
import Vapor
import Fluent
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
    /// The folder of the project's own CSS and JS (MUJUN_PUBLIC_DIR; default: `Public/` found
    /// beside the executable's package, else in the working directory).
    public var publicDirectory: String?
    /// The case types: MUJUN_CASE_TYPES, else `cases.yaml` beside the rules file when there is
    /// one, else the defaults of CASES.md §2.
    public var caseTypesPath: String?
    /// The project types: MUJUN_PROJECT_TYPES, else `projects.yaml` beside the rules file when
    /// there is one, else issue 10's defaults.
    public var projectTypesPath: String?
    /// Further years of the work calendar (MUJUN_CALENDAR), added to the shipped 2025 and 2026.
    public var calendarPath: String?
    /// This instance's name (MUJUN_INSTANCE), sent as `X-Mujun-Instance` on every answer when set,
    /// so that the proxy's log and an operator can tell which of several instances answered.
    public var instanceName: String?
    /// Addresses (and IPv4 CIDR ranges) that may read `/metrics` without signing in
    /// (MUJUN_METRICS_ALLOW, comma-separated: the Prometheus server); the admin always may.
    public var metricsAllow: AddressRanges
    /// MUJUN_LOG_FORMAT=json: one JSON object per log line (with the request id), and one line
    /// per request answered (as MUJUN_LOG_REQUESTS=1 also asks in the plain format).
    public var jsonLogs: Bool
    public var logRequests: Bool
    /// The scheduler inside `mujun serve` (MUJUN_JOBS=off: cron runs `mujun jobs run-due`
    /// instead), how often it looks (MUJUN_JOBS_EVERY seconds, 30), the daily backup's folder and
    /// how many it keeps (MUJUN_BACKUP_DIR, MUJUN_BACKUP_KEEP).
    public var jobsEnabled: Bool
    public var jobsEvery: Double
    public var backupDir: String?
    public var backupKeep: Int

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
        self.publicDirectory = env["MUJUN_PUBLIC_DIR"]
        self.caseTypesPath = env["MUJUN_CASE_TYPES"].flatMap { $0.isEmpty ? nil : $0 }
            ?? self.rulesPath.flatMap { rules in
                let beside = URL(fileURLWithPath: rules).deletingLastPathComponent().appendingPathComponent("cases.yaml").path
                return FileManager.default.fileExists(atPath: beside) ? beside : nil
            }
        self.projectTypesPath = env["MUJUN_PROJECT_TYPES"].flatMap { $0.isEmpty ? nil : $0 }
            ?? self.rulesPath.flatMap { rules in
                let beside = URL(fileURLWithPath: rules).deletingLastPathComponent().appendingPathComponent("projects.yaml").path
                return FileManager.default.fileExists(atPath: beside) ? beside : nil
            }
        self.calendarPath = env["MUJUN_CALENDAR"].flatMap { $0.isEmpty ? nil : $0 }
        self.instanceName = env["MUJUN_INSTANCE"].flatMap { $0.isEmpty ? nil : $0 }
        self.metricsAllow = AddressRanges(env["MUJUN_METRICS_ALLOW"] ?? "")
        self.jsonLogs = env["MUJUN_LOG_FORMAT"]?.lowercased() == "json"
        self.logRequests = jsonLogs || env["MUJUN_LOG_REQUESTS"] == "1"
        self.jobsEnabled = !["off", "0", "false", "no"].contains(env["MUJUN_JOBS"]?.lowercased() ?? "")
        self.jobsEvery = max(1, env["MUJUN_JOBS_EVERY"].flatMap(Double.init) ?? 30)
        self.backupDir = env["MUJUN_BACKUP_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        self.backupKeep = max(1, env["MUJUN_BACKUP_KEEP"].flatMap(Int.init) ?? 14)
    }

    /// The case types in force (checked: a bad file stops the start, naming the problem).
    public func loadCaseTypes() throws -> CaseTypes {
        guard let path = caseTypesPath else { return .default }
        return try CaseTypes(yaml: try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8))
    }

    /// The project types in force (checked: a bad file stops the start, naming the problem).
    public func loadProjectTypes() throws -> ProjectTypes {
        guard let path = projectTypesPath else { return .default }
        return try ProjectTypes(yaml: try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8))
    }

    /// The work calendar in force: the shipped years plus MUJUN_CALENDAR's.
    public func loadCalendar() throws -> WorkCalendar {
        guard let path = calendarPath else { return .shipped }
        return WorkCalendar.shipped.merging(try WorkCalendar(yaml: try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)))
    }

    public var isPostgres: Bool { databaseURL.hasPrefix("postgres") }

    /// The rules in force and their YAML text.
    public func loadRules() throws -> (Rules, String) {
        guard let path = rulesPath else { return (Rules.default, defaultRulesYAML) }
        let text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)
        let rules = try Rules(yaml: text)
        // the land section too: a bad one stops the start (as `mujun rules check` reports it),
        // instead of pages quietly using the default thresholds
        _ = try LandRules.from(yaml: text)
        return (rules, text)
    }

    /// What the services need, from this configuration.
    public func serviceContext() throws -> ServiceContext {
        let (rules, yaml) = try loadRules()
        var context = ServiceContext(rules: rules, rulesYAML: yaml, passwords: PasswordHasher(cost: bcryptCost),
                                     secret: try SecretKey.load(secret: secret, file: secretFile))
        context.caseTypes = try loadCaseTypes()
        context.projectTypes = try loadProjectTypes()
        context.calendar = try loadCalendar()
        return context
    }
}

struct ServerConfigKey: StorageKey { typealias Value = ServerConfig }
struct ServiceContextKey: StorageKey { typealias Value = ServiceContext }
struct EndpointTableKey: StorageKey { typealias Value = EndpointTable }

extension Application {
    public var serverConfig: ServerConfig {
        get { storage[ServerConfigKey.self] ?? ServerConfig() }
        set { storage[ServerConfigKey.self] = newValue }
    }

    /// The rules, hasher and keys every request's services use (set up by `configure`).
    public var serviceContext: ServiceContext {
        get {
            guard let c = storage[ServiceContextKey.self] else { fatalError("configure(_:_:) sets up the service context") }
            return c
        }
        set { storage[ServiceContextKey.self] = newValue }
    }

    /// Services acting as the system (jobs, tools that drive the app in process, tests).
    public func systemService(as actor: String = "system") -> MujunStore.Services {
        MujunStore.Services(db: db, caller: .system(actor), context: serviceContext)
    }

    /// Every endpoint, resolved at start-up.
    public var endpoints: EndpointTable {
        get {
            guard let t = storage[EndpointTableKey.self] else { fatalError("configure(_:_:) registers the endpoints") }
            return t
        }
        set { storage[EndpointTableKey.self] = newValue }
    }
}

/// Registers the database named by `config.databaseURL` and the migrations.
public func configureDatabase(_ app: Application, _ config: ServerConfig) throws {
    let (factory, id) = try DatabaseHost.configuration(url: config.databaseURL)
    app.databases.use(factory, as: id)
    app.migrations.add(MujunMigrations.all)
}

/// Builds the whole application without running it: database, migrations, rules, routes.
/// Tests drive the returned application directly.
public func configure(_ app: Application, _ config: ServerConfig = ServerConfig()) async throws {
    try configureDatabase(app, config)
    // WAL first: the migrations of a new database then commit with one sync each
    try await DatabaseHost.prepareConnection(app.db, isPostgres: config.isPostgres)
    try await app.autoMigrate()
    app.serviceContext = try config.serviceContext()
    // the years the administrator added on the calendar page (none before the migrations ran)
    try await app.systemService(as: "configure").calendar.followStoredYears()
    app.serverConfig = config
    app.routes.defaultMaxBodySize = ByteCount(value: config.maxUpload)
    // the map's GeoJSON and the exports compress well
    app.http.server.configuration.responseCompression = .enabled

    let json = JSONEncoder()
    json.keyEncodingStrategy = .convertToSnakeCase
    json.outputFormatting = [.sortedKeys]
    json.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    json.dateEncodingStrategy = .iso8601
    ContentConfiguration.global.use(encoder: json, for: .json)

    app.ogcParcelCache = OGCParcelCache(budget: config.ogcCacheBytes)
    app.staticFiles = try StaticFiles.locate(config)

    let metrics = Metrics()
    app.storage[MetricsKey.self] = metrics
    app.middleware = Middlewares()
    app.middleware.use(MetricsMiddleware(metrics: metrics, trustedProxies: config.trustedProxies, logRequests: config.logRequests))
    app.middleware.use(SecurityHeadersMiddleware(instance: config.instanceName))
    app.middleware.use(ErrorMiddleware())
    app.middleware.use(AuthMiddleware())
    try registerEndpoints(app)
}

/// Security headers on every answer (pages set their own CSP too).
struct SecurityHeadersMiddleware: AsyncMiddleware {
    /// MUJUN_INSTANCE, sent as `X-Mujun-Instance`
    var instance: String?

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let res = try await next.respond(to: request)
        if let instance { res.headers.replaceOrAdd(name: "X-Mujun-Instance", value: instance) }
        res.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        if res.headers.first(name: "X-Frame-Options") == nil { res.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY") }
        if res.headers.first(name: "Referrer-Policy") == nil { res.headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin") }
        return res
    }
}

/// The scheduler inside `mujun serve`: every `jobsEvery` seconds it runs the jobs that are due
/// and that no instance has claimed (`JobService.runDue`); stopped with the application.
public func startJobScheduler(_ app: Application) {
    let config = app.serverConfig
    guard config.jobsEnabled else { return }
    let settings = JobService.Settings(instance: config.instanceName ?? "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)",
                                       databaseURL: config.databaseURL, backupDir: config.backupDir, backupKeep: config.backupKeep)
    let logger = app.logger
    let services = app.systemService(as: "scheduler")
    let task = Task.detached {
        while !Task.isCancelled {
            do {
                for r in try await services.jobs.runDue(settings: settings) {
                    if r.succeeded { logger.info("job \(r)") } else { logger.error("job \(r)") }
                }
            } catch {
                logger.warning("scheduler: \(String(reflecting: error))")
            }
            try? await Task.sleep(nanoseconds: UInt64(config.jobsEvery * 1e9))
        }
    }
    app.lifecycle.use(SchedulerLifecycle(task: task))
}

struct SchedulerLifecycle: LifecycleHandler {
    let task: Task<Void, Never>
    func shutdown(_ application: Application) { task.cancel() }
}
