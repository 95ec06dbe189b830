import Foundation
import Vapor
import NIOConcurrencyHelpers
import MujunStore

/// What `/metrics` reports, in the Prometheus text format (version 0.0.4): requests by route
/// pattern, method and status; their latency as a histogram; requests in flight; the database
/// (answering, its round trip, its pool size); the process (start time, resident memory).
/// Counted by `MetricsMiddleware` for every request, in this process (each instance reports its
/// own: Prometheus scrapes every instance and sums).
///
/// ```
/// curl -s -H "Authorization: Bearer $ADMIN_TOKEN" http://127.0.0.1:8080/metrics | grep mujun_http_requests_total
/// mujun_http_requests_total{route="/cases/:id",method="GET",status="200"} 42
/// ```
final class Metrics: Sendable {
    /// Upper bounds of the latency buckets, seconds.
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct Key: Hashable { var route: String; var method: String; var status: UInt }
    struct Latency { var counts = [Int](repeating: 0, count: Metrics.buckets.count); var sum = 0.0; var count = 0 }
    struct State {
        var requests: [Key: Int] = [:]
        var latency: [Key: Latency] = [:]  // status 0: all statuses
        var inFlight = 0
    }

    private let state = NIOLockedValueBox(State())
    let started = Date()

    func begin() { state.withLockedValue { $0.inFlight += 1 } }

    func end(route: String, method: String, status: UInt, seconds: Double) {
        state.withLockedValue { s in
            s.inFlight -= 1
            s.requests[Key(route: route, method: method, status: status), default: 0] += 1
            let k = Key(route: route, method: method, status: 0)
            var l = s.latency[k] ?? Latency()
            if let i = Self.buckets.firstIndex(where: { seconds <= $0 }) { l.counts[i] += 1 }
            l.sum += seconds
            l.count += 1
            s.latency[k] = l
        }
    }

    var snapshot: State { state.withLockedValue { $0 } }

    /// The text `/metrics` answers, with the database's and the process's figures given.
    func render(instance: String?, database: (up: Bool, seconds: Double), poolMax: Int, extra: [String] = []) -> String {
        let s = snapshot
        var out: [String] = []
        func label(_ k: Key, status: Bool = true) -> String {
            var l = "route=\"\(Self.escape(k.route))\",method=\"\(k.method)\""
            if status { l += ",status=\"\(k.status)\"" }
            return l
        }
        out.append("# HELP mujun_http_requests_total Requests answered, by route pattern, method and status.")
        out.append("# TYPE mujun_http_requests_total counter")
        for (k, n) in s.requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            out.append("mujun_http_requests_total{\(label(k))} \(n)")
        }
        out.append("# HELP mujun_http_request_duration_seconds Time from a request's arrival to its answer, by route pattern and method.")
        out.append("# TYPE mujun_http_request_duration_seconds histogram")
        for (k, l) in s.latency.sorted(by: { ($0.key.route, $0.key.method) < ($1.key.route, $1.key.method) }) {
            var cumulative = 0
            for (i, le) in Self.buckets.enumerated() {
                cumulative += l.counts[i]
                out.append("mujun_http_request_duration_seconds_bucket{\(label(k, status: false)),le=\"\(Self.number(le))\"} \(cumulative)")
            }
            out.append("mujun_http_request_duration_seconds_bucket{\(label(k, status: false)),le=\"+Inf\"} \(l.count)")
            out.append("mujun_http_request_duration_seconds_sum{\(label(k, status: false))} \(Self.number(l.sum))")
            out.append("mujun_http_request_duration_seconds_count{\(label(k, status: false))} \(l.count)")
        }
        out.append("# HELP mujun_http_requests_in_flight Requests being answered now.")
        out.append("# TYPE mujun_http_requests_in_flight gauge")
        out.append("mujun_http_requests_in_flight \(max(0, s.inFlight - 1))")  // not counting this one
        out.append("# HELP mujun_db_up Whether the database answered this scrape's query.")
        out.append("# TYPE mujun_db_up gauge")
        out.append("mujun_db_up \(database.up ? 1 : 0)")
        out.append("# HELP mujun_db_ping_seconds The round trip of that query.")
        out.append("# TYPE mujun_db_ping_seconds gauge")
        out.append("mujun_db_ping_seconds \(Self.number(database.seconds))")
        out.append("# HELP mujun_db_pool_connections_max Database connections this instance may open.")
        out.append("# TYPE mujun_db_pool_connections_max gauge")
        out.append("mujun_db_pool_connections_max \(poolMax)")
        out += extra
        out.append("# HELP mujun_instance_info This instance (MUJUN_INSTANCE).")
        out.append("# TYPE mujun_instance_info gauge")
        out.append("mujun_instance_info{instance=\"\(Self.escape(instance ?? ""))\"} 1")
        out.append("# HELP process_start_time_seconds When this process started, seconds since the epoch.")
        out.append("# TYPE process_start_time_seconds gauge")
        out.append("process_start_time_seconds \(Self.number(started.timeIntervalSince1970))")
        if let rss = Self.residentBytes() {
            out.append("# HELP process_resident_memory_bytes Resident memory of this process.")
            out.append("# TYPE process_resident_memory_bytes gauge")
            out.append("process_resident_memory_bytes \(rss)")
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(format: "%.6g", x)
    }

    /// From /proc/self/statm (pages × page size).
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let f = text.split(separator: " ")
        guard f.count > 1, let pages = Int(f[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

struct MetricsKey: StorageKey { typealias Value = Metrics }

extension Application {
    /// Set up by `configure`.
    var metrics: Metrics {
        guard let m = storage[MetricsKey.self] else { fatalError("configure(_:_:) sets up the metrics") }
        return m
    }
}

/// Counts every request for `/metrics` (outermost, so that it sees the status the client gets),
/// and gives it a request id: `X-Request-Id` from a trusted proxy, else a new one, on the answer
/// and in every log line of the request.
struct MetricsMiddleware: AsyncMiddleware {
    let metrics: Metrics
    let trustedProxies: Set<String>
    let logRequests: Bool

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let peer = req.remoteAddress?.ipAddress.map(ClientAddress.normalized)
        let given = req.headers.first(name: "X-Request-Id").flatMap { id in
            peer.map { trustedProxies.contains($0) } == true && id.count <= 128 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) } ? id : nil
        }
        // (Vapor's own `req.id` takes any client's X-Request-Id: not believed unless from a trusted proxy)
        let id = given ?? (req.headers.first(name: "X-Request-Id") == nil ? req.id : UUID().uuidString)
        req.logger[metadataKey: "request-id"] = .string(id)
        metrics.begin()
        var status: UInt = 500
        defer {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let route = req.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "unmatched"
            metrics.end(route: route, method: req.method.rawValue, status: status, seconds: seconds)
            if logRequests {
                req.logger.info("request", metadata: [
                    "method": .string(req.method.rawValue), "route": .string(route), "path": .string(req.url.path),
                    "status": .stringConvertible(status), "ms": .string(String(format: "%.1f", seconds * 1000)),
                    "client": .string(req.clientAddress), "user": .string(req.identity?.principal.login ?? "-"),
                ])
            }
        }
        let res = try await next.respond(to: req)
        status = res.status.code
        res.headers.replaceOrAdd(name: "X-Request-Id", value: id)
        return res
    }
}

/// One JSON object per log line on standard output (MUJUN_LOG_FORMAT=json): `ts`, `level`,
/// `logger`, `msg`, and the metadata — `request-id` on every line of a request, and for the
/// line of each answered request `method`, `route`, `path`, `status`, `ms`, `client`, `user`.
///
/// ```
/// {"client":"10.8.0.7","level":"info","logger":"codes.vapor.application","method":"GET","ms":"3.1","msg":"request","path":"/ranking","request-id":"8C1F0D6E-3A57-4F0B-9E1A-2B6C5D7E8F90","route":"/ranking","status":"200","ts":"2026-12-05T10:31:07.412Z","user":"hq"}
/// ```
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    private static let lock = NIOLock()
    /// made once: a JSON log writes a line per request (ISO8601DateFormatter is thread-safe)
    nonisolated(unsafe) private static let timestamps: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        var fields: [String: String] = ["level": level.rawValue, "logger": label, "msg": message.description]
        fields["ts"] = Self.timestamps.string(from: Date())
        for (k, v) in metadata.merging(extra ?? [:], uniquingKeysWith: { $1 }) { fields[k] = "\(v)" }
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        Self.lock.withLock {
            FileHandle.standardOutput.write(data + Data([0x0A]))
        }
    }
}
