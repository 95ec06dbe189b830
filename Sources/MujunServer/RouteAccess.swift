import Foundation
import Vapor
import MujunCore

/// What a route needs. Every route of the app has one line in `RouteAccess.table`; a test
/// fails when a route is registered without one (docs/SECURITY.md prints the table).
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

public enum RouteAccess {
    /// (method, path pattern, requirement). `:x` matches one component, `**` the rest.
    public static var table: [(HTTPMethod, String, Requirement)] { coreRoutes + adminRoutes + appealRoutes + landRoutes + ogcRoutes }

    static let coreRoutes: [(HTTPMethod, String, Requirement)] = [
        (.GET, "/healthz", .open),
        (.GET, "/static/**", .open),
        (.GET, "/vendor/:file", .open),
        (.GET, "/login", .open),
        (.POST, "/login", .open),
        (.POST, "/logout", .signedIn),
        (.GET, "/", .signedIn),
        (.GET, "/account", .signedIn),
        (.GET, "/account/password", .signedIn),
        (.POST, "/account/password", .signedIn),
        (.GET, "/openapi.json", .signedIn),
        (.GET, "/rules", .permission(.viewRules)),
        (.GET, "/ranking", .permission(.viewResults)),
        (.GET, "/enterprises/:code", .permission(.viewEnterprise)),
        (.GET, "/export/ranking.xlsx", .permission(.viewResults)),
        (.GET, "/api/v1/years", .signedIn),
        (.GET, "/api/v1/results", .permission(.viewResults)),
        (.GET, "/api/v1/results/counts", .permission(.viewResults)),
        (.GET, "/api/v1/enterprises/:code", .permission(.viewEnterprise)),
        (.GET, "/api/v1/rules", .permission(.viewRules)),
        (.GET, "/api/v1/evaluations", .permission(.runEvaluation)),
        (.POST, "/api/v1/evaluations", .permission(.runEvaluation)),
        (.POST, "/api/v1/imports/enterprises", .permission(.importData)),
    ]

    /// The requirement of a request path, or nil when no line matches (then the route is
    /// treated as needing an admin: an unlisted route is never open by accident).
    ///
    /// When several lines match, the most specific one wins, as in Vapor's router: a constant
    /// component beats a `:parameter`, which beats `**` (so `GET /appeals/new` takes the
    /// line of `/appeals/new`, not that of `/appeals/:id`, whatever their order in the table).
    public static func requirement(_ method: HTTPMethod, _ path: String) -> Requirement? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var best: (score: [Int], req: Requirement)?
        for (m, pattern, req) in allRoutes where m == method || (method == .HEAD && m == .GET) {
            guard matches(pattern, parts) else { continue }
            let score = specificity(pattern)
            if best == nil || score.lexicographicallyPrecedes(best!.score, by: >) { best = (score, req) }
        }
        return best?.req
    }

    /// Per component: 2 for a constant, 1 for a `:parameter`, 0 for `**`.
    static func specificity(_ pattern: String) -> [Int] {
        pattern.split(separator: "/", omittingEmptySubsequences: true).map { seg in
            seg == "**" ? 0 : (seg.hasPrefix(":") ? 1 : 2)
        }
    }

    static var allRoutes: [(HTTPMethod, String, Requirement)] { table }

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
