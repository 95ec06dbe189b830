import Foundation
import Vapor
import MujunCore
import MujunStore

/// Every feature of the application, in the order their routes are registered.
enum Features {
    static let all: [any Feature.Type] = [
        SystemFeature.self, AccountFeature.self, RankingFeature.self, PublicationFeature.self, AppealsFeature.self,
        BankFeature.self, LandFeature.self, OGCFeature.self, AdminFeature.self, CasesFeature.self, CaseWorkFeature.self,
        ProjectsFeature.self,
        ChallengesFeature.self,
        QuotaFeature.self,
    ]

    /// Every endpoint of every feature.
    static var endpoints: [Endpoint] { all.flatMap { $0.endpoints } }
}

/// The endpoints resolved at start-up: the access table and the OpenAPI document are
/// computed once here, and each route's responder applies its own endpoint's gate, so a
/// request costs no lookup in these lists.
public final class EndpointTable: Sendable {
    public let endpoints: [Endpoint]
    /// The OpenAPI document of the JSON API, serialized.
    public let openAPI: String

    init(_ endpoints: [Endpoint]) throws {
        self.endpoints = endpoints
        openAPI = try OpenAPIDocument.build(endpoints).serialized(pretty: true)
    }

    /// (method, path pattern, requirement) of every endpoint: what docs/SECURITY.md prints.
    public var accessTable: [(HTTPMethod, String, Requirement)] { endpoints.map { ($0.method, $0.path, $0.requirement) } }

    /// The endpoint a method and concrete path go to, as the router would choose (constant
    /// components before `:parameters` before `**`); nil when none.
    public func endpoint(_ method: HTTPMethod, _ path: String) -> Endpoint? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var best: (score: [Int], e: Endpoint)?
        for e in endpoints where e.method == method || (method == .HEAD && e.method == .GET) {
            guard Self.matches(e.path, parts) else { continue }
            let score = Self.specificity(e.path)
            if best == nil || score.lexicographicallyPrecedes(best!.score, by: >) { best = (score, e) }
        }
        return best?.e
    }

    /// The methods the endpoints at a concrete path take (empty: no such path).
    public func allowedMethods(_ path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var names = Set(endpoints.filter { Self.matches($0.path, parts) }.map(\.method.rawValue))
        if names.contains("GET") { names.insert("HEAD") }
        return names.sorted()
    }

    /// Per component: 2 for a constant, 1 for a `:parameter`, 0 for `**`.
    static func specificity(_ pattern: String) -> [Int] {
        pattern.split(separator: "/", omittingEmptySubsequences: true).map { $0 == "**" ? 0 : ($0.hasPrefix(":") ? 1 : 2) }
    }

    static func matches(_ pattern: String, _ parts: [String]) -> Bool {
        let p = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var i = 0
        for (k, seg) in p.enumerated() {
            if seg == "**" { return parts.count >= k }
            guard i < parts.count else { return false }
            if !seg.hasPrefix(":") && seg != parts[i] { return false }
            i += 1
        }
        return i == parts.count
    }
}

/// Registers every endpoint with Vapor; its route's responder applies the endpoint's gate and
/// then its handler. (A method an existing path does not take is answered 405 by the error
/// middleware, from `EndpointTable.allowedMethods`.)
func registerEndpoints(_ app: Application) throws {
    let table = try EndpointTable(Features.endpoints)
    app.endpoints = table
    for e in table.endpoints {
        let body: HTTPBodyStreamStrategy = e.streamsBody ? .stream : .collect(maxSize: e.maxBody.map { ByteCount(value: $0) })
        app.on(e.method, e.path.pathComponents, body: body) { req async throws -> Response in
            if let early = try await Gate.check(e, req) { return early }
            return try await e.handler(req)
        }
    }
}

/// What an endpoint needs. Every endpoint declares one; docs/SECURITY.md prints them all.
public enum Requirement: Sendable, Hashable, CustomStringConvertible {
    /// anyone, signed in or not
    case open
    /// any signed-in user
    case signedIn
    /// a signed-in user whose role holds the permission
    case permission(Permission)

    public var description: String {
        switch self {
        case .open: "public"
        case .signedIn: "signed in"
        case .permission(let p): p.rawValue
        }
    }
}

/// The access table, derived from the endpoint declarations (kept under this name for the
/// tests and docs that read it).
public enum RouteAccess {
    /// (method, path pattern, requirement) of every endpoint.
    public static var table: [(HTTPMethod, String, Requirement)] { Features.endpoints.map { ($0.method, $0.path, $0.requirement) } }

    /// The requirement of a request path, or nil when no endpoint matches.
    public static func requirement(_ method: HTTPMethod, _ path: String) -> Requirement? {
        EndpointTable.shared.endpoint(method, path)?.requirement
    }

    /// The OpenAPI document of the JSON API, as `/openapi.json` serves it.
    public static var openAPI: String { EndpointTable.shared.openAPI }

    /// The route table of docs/SECURITY.md (between its `routes:begin`/`routes:end` markers),
    /// written from the declarations: `mujun docs routes --write docs/SECURITY.md` refreshes it
    /// and a test fails while it differs.
    public static func markdown() -> String {
        var lines = ["| route | requirement | who may use it | anonymous | what |", "|---|---|---|---|---|"]
        for e in Features.endpoints {
            let who: String
            switch e.requirement {
            case .open: who = "everyone"
            case .signedIn: who = "every role"
            case .permission(let p):
                let roles = Role.allCases.filter { AccessPolicy.allows($0, p) }
                who = roles.count == Role.allCases.count ? "every role" : roles.map(\.chinese).joined(separator: "、")
            }
            var anonymous: String
            if e.requirement == .open {
                anonymous = "allowed"
            } else {
                let json = e.path.hasPrefix("/api/") || e.path.hasPrefix("/ogc") || e.path == "/openapi.json" || e.path == "/metrics"
                anonymous = json || e.method != .GET ? "401" : "→ /login"
                if let key = e.publicKey { anonymous += "; allowed when the admin marks `\(key)` public" }
                if e.scrapeable { anonymous += "; allowed from the addresses of `MUJUN_METRICS_ALLOW`" }
            }
            lines.append("| `\(e.method.rawValue) \(e.path)` | `\(e.requirement)` | \(who) | \(anonymous) | \(e.summary.replacingOccurrences(of: "|", with: "\\|")) |")
        }
        return lines.joined(separator: "\n")
    }

    /// `text` with its `<!-- routes:begin -->…<!-- routes:end -->` section replaced by `markdown()`.
    public static func document(_ text: String) -> String? {
        guard let a = text.range(of: "<!-- routes:begin -->"), let b = text.range(of: "<!-- routes:end -->"), a.upperBound <= b.lowerBound else {
            return nil
        }
        return String(text[..<a.upperBound]) + "\n" + markdown() + "\n" + String(text[b.lowerBound...])
    }

}

extension EndpointTable {
    /// The table of the declarations, built once per process (for `RouteAccess`).
    static let shared: EndpointTable = {
        do { return try EndpointTable(Features.endpoints) } catch { fatalError("the endpoint declarations are inconsistent: \(error)") }
    }()
}
