import Foundation
import Vapor
import MujunCore
import MujunStore

// Who is asking, and whether they may. `AuthMiddleware` identifies the caller of every
// request (bearer token or session cookie) once; `Gate` applies an endpoint's requirement,
// a pending password change and CSRF before its handler runs. Data scope is not decided here:
// `req.service` carries the caller into the services, which filter every read.

/// What the page frame needs to know about the request (set by `AuthMiddleware`).
enum PageContext {
    @TaskLocal static var identity: AccountService.Identity?
    /// The CSRF token forms must carry: the session's, or the pre-session one of the sign-in page.
    @TaskLocal static var csrf: String?
}

struct IdentityKey: StorageKey { typealias Value = AccountService.Identity }

extension Request {
    /// Who is signed in (nil: nobody).
    public var identity: AccountService.Identity? {
        get { storage[IdentityKey.self] }
        set { storage[IdentityKey.self] = newValue }
    }

    /// The signed-in principal; 401 when none.
    public func principal() throws -> Principal {
        guard let p = identity?.principal else { throw Abort(.unauthorized, reason: "请先登录 / sign in first") }
        return p
    }

    /// The caller as the services see it.
    public var caller: Caller {
        guard let i = identity else {
            return Caller(principal: nil, actor: "anonymous", address: clientAddress, scope: .none, seesDrafts: false)
        }
        return .user(i.principal, via: i.tokenName.map { "API 令牌「\($0)」" }, address: clientAddress)
    }

    /// The services, working for this request's caller.
    public var service: MujunStore.Services {
        MujunStore.Services(db: db, caller: caller, context: application.serviceContext)
    }

    /// The client's address, for rate limits and the audit log: the peer's, or behind a trusted
    /// reverse proxy (MUJUN_TRUSTED_PROXIES) the one that proxy put in `X-Forwarded-For`.
    public var clientAddress: String {
        ClientAddress.resolve(peer: remoteAddress?.ipAddress, forwardedFor: headers[.xForwardedFor],
                              trusted: application.serverConfig.trustedProxies)
    }

    /// Whether errors of this request are answered as JSON (API, OpenAPI, OGC, health).
    var wantsJSON: Bool {
        let p = url.path
        return p.hasPrefix("/api/") || p == "/api" || p.hasPrefix("/openapi") || p.hasPrefix("/ogc") || p == "/healthz" || p == "/metrics"
    }
}

/// Session cookie names.
enum SessionCookie {
    static let name = "mujun_session"
    static let preSession = "mujun_csrf"
}

/// Addresses and IPv4 CIDR ranges (`127.0.0.1`, `10.8.0.0/16`, `::1`), from a comma-separated list.
public struct AddressRanges: Sendable {
    var exact: Set<String> = []
    var ranges: [(base: UInt32, mask: UInt32)] = []

    public init(_ list: String) {
        for item in list.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init) where !item.isEmpty {
            let parts = item.split(separator: "/", maxSplits: 1).map(String.init)
            if parts.count == 2, let base = Self.ipv4(parts[0]), let bits = Int(parts[1]), (0...32).contains(bits) {
                let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
                ranges.append((base & mask, mask))
            } else {
                exact.insert(ClientAddress.normalized(item))
            }
        }
    }

    public func contains(_ address: String) -> Bool {
        if exact.contains(address) { return true }
        guard let a = Self.ipv4(address) else { return false }
        return ranges.contains { a & $0.mask == $0.base }
    }

    static func ipv4(_ s: String) -> UInt32? {
        let p = s.split(separator: ".", omittingEmptySubsequences: false)
        guard p.count == 4 else { return nil }
        var v: UInt32 = 0
        for x in p {
            guard let n = UInt32(x), n <= 255, x.count <= 3 else { return nil }
            v = v << 8 | n
        }
        return v
    }
}

/// Which address a request comes from.
enum ClientAddress {
    /// `peer` unless it is a trusted proxy; then the right-most address of `X-Forwarded-For`
    /// (all its header lines, in order) that is not a trusted proxy: the one the outermost
    /// trusted proxy saw. Entries further left were written by the client and are not believed.
    static func resolve(peer: String?, forwardedFor: [String], trusted: Set<String>) -> String {
        guard let peer = peer.map(normalized), !peer.isEmpty else { return "unknown" }
        guard trusted.contains(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { normalized(String($0)) }
        var client = peer
        for hop in hops.reversed() {
            guard isIP(hop) else { break }  // not written by a proxy: stop at the last good one
            client = hop
            if !trusted.contains(hop) { break }
        }
        return client
    }

    /// An address without spaces, IPv6 brackets or zone.
    static func normalized(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("["), let close = t.firstIndex(of: "]") { t = String(t[t.index(after: t.startIndex)..<close]) }
        return t.lowercased()
    }

    /// Whether `s` is an IPv4 or IPv6 address.
    static func isIP(_ s: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
    }
}

/// Identifies the caller (bearer token or session cookie) and publishes it to the page frame.
/// An invalid or revoked token is refused at once (401); a stale cookie just counts as
/// nobody. Everything else — what the caller may do — is the endpoint's gate.
struct AuthMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let system = MujunStore.Services(db: req.db, caller: .system("auth"), context: req.application.serviceContext)
        let accounts = system.accounts
        // a calendar year added on another instance counts from the next request here on
        if !req.url.path.hasPrefix("/static/"), !req.url.path.hasPrefix("/vendor/") {
            // the database may be away (a restart): the request then fails at its own reads, as
            // it would have; /healthz answers 503
            do { try await system.calendar.followStoredYears() } catch {
                req.logger.warning("the calendar's revision could not be read: \(String(reflecting: error))")
            }
        }
        if let bearer = req.headers.bearerAuthorization?.token {
            guard let identity = try await accounts.identify(bearer: bearer) else {
                throw Abort(.unauthorized, headers: ["WWW-Authenticate": "Bearer"], reason: "令牌无效或已撤销 / invalid or revoked token")
            }
            req.identity = identity
        } else if let token = req.cookies[SessionCookie.name]?.string, !token.isEmpty {
            req.identity = try await accounts.identify(sessionToken: token)
        }
        let csrf = req.identity?.csrfToken ?? req.cookies[SessionCookie.preSession]?.string
        return try await PageContext.$identity.withValue(req.identity) {
            try await PageContext.$csrf.withValue(csrf) {
                try await next.respond(to: req)
            }
        }
    }
}

/// An endpoint's requirement, applied before its handler: sign-in (a page redirects to the
/// sign-in page, the API answers 401), a pending password change (403 / redirect), the
/// permission (403), and the CSRF token of a state-changing request made with a session.
enum Gate {
    static func check(_ e: Endpoint, _ req: Request) async throws -> Response? {
        // a monitoring endpoint (/metrics) from an address the configuration lets scrape it
        if e.scrapeable, req.application.serverConfig.metricsAllow.contains(req.clientAddress) { return nil }
        guard let identity = req.identity else {
            if e.requirement == .open { return nil }
            if let key = e.publicKey, try await req.service.admin.publicPages().contains(key) { return nil }
            if req.wantsJSON || req.method != .GET { throw Abort(.unauthorized, reason: "请先登录 / sign in first") }
            return req.redirect(to: "/login?next=" + (req.url.string.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
        }
        if identity.mustChangePassword && !e.duringPasswordChange {
            if req.wantsJSON || req.method != .GET { throw Abort(.forbidden, reason: "请先修改初始密码 / change your initial password first") }
            return req.redirect(to: "/account/password")
        }
        if case .permission(let p) = e.requirement, !AccessPolicy.allows(identity.principal.role, p) {
            throw Abort(.forbidden, reason: "无权访问此页面或接口 / your role (\(identity.principal.role.chinese)) may not use this")
        }
        // CSRF: a state-changing request made with the session cookie must carry the session's token
        if let expected = identity.csrfToken, ![.GET, .HEAD, .OPTIONS].contains(req.method) {
            var sent = req.headers.first(name: "X-CSRF-Token")
            if sent == nil {
                // a streamed body (a large form) is collected here, within its limit, so that `_csrf` can be read
                if req.body.data == nil, req.headers.contentType != nil {
                    do {
                        _ = try await req.body.collect(max: e.maxBody ?? req.application.routes.defaultMaxBodySize.value).get()
                    } catch {
                        throw Abort(.payloadTooLarge, reason: "上传内容过大 / the upload is too large")
                    }
                }
                try MultipartGuard.check(req)
                sent = try? req.content.get(String.self, at: "_csrf")
            }
            guard let sent, Tokens.equal(sent, expected) else {
                try? await req.service.admin.recordSecurityEvent("security.csrf_rejected", target: req.url.path)
                throw Abort(.forbidden, reason: "表单已过期或来源无效，请刷新页面后重试 / missing or wrong CSRF token")
            }
        }
        return nil
    }
}

/// A hidden form field with the CSRF token, for every form of a page.
extension HTMLWriter {
    mutating func csrfField() {
        void(.input, .type("hidden"), .name("_csrf"), .value(PageContext.csrf ?? ""))
    }
}
