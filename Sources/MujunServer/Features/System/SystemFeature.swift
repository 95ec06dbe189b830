import Foundation
import Vapor
import MujunCore
import MujunStore

/// Health, the static files (our CSS/JS from Public/, Chart.js and Leaflet from Debian) and
/// the OpenAPI document.
enum SystemFeature: Feature {
    static let endpoints: [Endpoint] = [
        .json(.GET, "/healthz", .open, "健康检查 / health check", tag: "system", parameters: NoParameters.self, output: HealthDTO.self, errors: [503]) { req, _ in
            try await health(req)
        }.with { $0.duringPasswordChange = true },
        .custom(.GET, "/static/**", .open, "本项目的样式与脚本 / the project's CSS and JS", kind: .asset, tag: "system") { req in
            try await staticFile(req)
        }.with { $0.duringPasswordChange = true },
        .custom(.GET, "/vendor/:file", .open, "Chart.js、Leaflet（Debian 软件包）/ Chart.js and Leaflet from Debian", kind: .asset, tag: "system") { req in
            try await vendorFile(req)
        }.with { $0.duringPasswordChange = true },
        .bytes(.GET, "/openapi.json", .signedIn, "本接口文档（OpenAPI 3.0.3）/ this API document", tag: "system",
             parameters: NoParameters.self, documents: AnyJSONObject.self) { req, _ in
            Response(status: .ok, headers: ["Content-Type": "application/json; charset=utf-8"], body: .init(string: req.application.endpoints.openAPI))
        }.with { $0.publicKey = "openapi" },
        .custom(.GET, "/metrics", .permission(.viewMetrics),
                "运行指标（Prometheus 文本格式；管理员或 MUJUN_METRICS_ALLOW 的地址）/ metrics in the Prometheus text format",
                kind: .download, tag: "system") { req in
            try await metrics(req)
        }.with { $0.scrapeable = true },
    ]

    /// The Prometheus text of this instance: its requests, the database, the process.
    static func metrics(_ req: Request) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let up = (try? await req.service.system.ping()) != nil
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let config = req.application.serverConfig
        var extra: [String] = []
        if up {
            let system = req.application.systemService(as: "metrics")
            if let depth = try? await system.notify.depth() {
                extra += ["# HELP mujun_outbox_depth Messages of the outbox not yet sent (every instance's, from the database).",
                          "# TYPE mujun_outbox_depth gauge", "mujun_outbox_depth \(depth)"]
            }
            if let runs = try? await system.jobs.runCounts() {
                extra += ["# HELP mujun_job_runs Runs of the scheduled jobs by their state (every instance's, from the database).",
                          "# TYPE mujun_job_runs gauge"]
                extra += runs.map { "mujun_job_runs{job=\"\($0.job)\",state=\"\($0.state)\"} \($0.count)" }
            }
        }
        let text = req.application.metrics.render(instance: config.instanceName, database: (up, seconds),
                                                  poolMax: config.isPostgres ? 4 * System.coreCount : 1, extra: extra)
        return Response(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store"],
                        body: .init(string: text))
    }

    /// `{"status": "ok"}`, or 503 `{"status": "unavailable"}`; the reason is logged, never told.
    static func health(_ req: Request) async throws -> HealthDTO {
        do {
            try await req.service.system.ping()
            return HealthDTO(status: "ok")
        } catch {
            req.logger.error("healthz: the database does not answer: \(error)")
            throw HealthUnavailable()
        }
    }

    /// Answered `{"error": "unavailable", "status": "unavailable"}` (the common error shape,
    /// and the health shape): nothing about why.
    struct HealthUnavailable: AbortError {
        var status: HTTPResponseStatus { .serviceUnavailable }
        var reason: String { "unavailable" }
    }

    static func staticFile(_ req: Request) async throws -> Response {
        let parts = req.parameters.getCatchall()
        guard !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0.hasPrefix(".") || $0.contains("\\") }) else {
            throw Abort(.notFound, reason: "没有该文件 / no such file")
        }
        let path = req.application.staticFiles.publicDirectory + "/" + parts.joined(separator: "/")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw Abort(.notFound, reason: "没有该文件 / no such file")
        }
        return try await req.fileio.asyncStreamFile(at: path)
    }

    static func vendorFile(_ req: Request) async throws -> Response {
        guard let name = req.parameters.get("file"), let path = StaticFiles.vendor[name],
              FileManager.default.fileExists(atPath: path) else {
            throw Abort(.notFound, reason: "未安装该前端库 / library not installed")
        }
        return try await req.fileio.asyncStreamFile(at: path)
    }
}

struct HealthDTO: Content { var status: String }

/// A JSON object whose members are not described further (the OpenAPI document itself).
struct AnyJSONObject: Decodable, SchemaDescribing {
    static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue { ["type": "object"] }
    static var schemaExample: AnyJSONObject { AnyJSONObject() }
    init() {}
    init(from decoder: any Decoder) throws {}
}

/// Where the static files are: found once at start-up (not relative to whatever the working
/// directory happens to be), and checked.
struct StaticFiles: Sendable {
    /// The folder of Public/ (the project's CSS and JS), without a trailing slash.
    var publicDirectory: String

    static let vendor = ["chart.js": "/usr/share/javascript/chart.js/chart.min.js",
                         "leaflet.js": "/usr/share/javascript/leaflet/leaflet.js",
                         "leaflet.css": "/usr/share/javascript/leaflet/leaflet.css"]

    /// MUJUN_PUBLIC_DIR; else `Public/` of the package the executable was built in (walking up
    /// from the executable); else `Public/` in the working directory. Start-up fails with a
    /// clear message when none holds mujun.css.
    static func locate(_ config: ServerConfig) throws -> StaticFiles {
        var candidates: [String] = []
        if let d = config.publicDirectory { candidates.append(d) }
        var dir = URL(fileURLWithPath: CommandLine.arguments.first.flatMap { Self.resolved($0) } ?? "").deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent("Public").path)
            candidates.append(dir.appendingPathComponent("share/mujun/Public").path)
            dir.deleteLastPathComponent()
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/Public")
        for c in candidates where FileManager.default.fileExists(atPath: c + "/mujun.css") {
            return StaticFiles(publicDirectory: URL(fileURLWithPath: c).standardizedFileURL.path)
        }
        throw Abort(.internalServerError, reason: "找不到前端静态文件目录 Public/（含 mujun.css）：请设置 MUJUN_PUBLIC_DIR / cannot find Public/ with mujun.css; set MUJUN_PUBLIC_DIR (looked in: \(candidates.joined(separator: ", ")))")
    }

    /// The absolute path of the running executable.
    static func resolved(_ argv0: String) -> String? {
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return exe }
        return argv0.hasPrefix("/") ? argv0 : FileManager.default.currentDirectoryPath + "/" + argv0
    }
}

struct StaticFilesKey: StorageKey { typealias Value = StaticFiles }

extension Application {
    var staticFiles: StaticFiles {
        get { storage[StaticFilesKey.self] ?? StaticFiles(publicDirectory: directory.publicDirectory) }
        set { storage[StaticFilesKey.self] = newValue }
    }
}
