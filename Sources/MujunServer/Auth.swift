import Foundation
import Vapor
import MujunCore
import MujunStore

/// Who is signed in for this request, and how.
public struct AuthContext: Sendable {
    public var principal: Principal
    /// the session's hash (nil for API tokens)
    public var sessionID: String?
    /// the session's CSRF token (nil for API tokens: bearer requests carry no ambient credential)
    public var csrfToken: String?
    public var mustChangePassword: Bool
}

struct AuthContextKey: StorageKey { typealias Value = AuthContext }

/// What the page frame needs to know about the request (set by `AuthMiddleware`).
enum PageContext {
    @TaskLocal static var auth: AuthContext?
    /// The CSRF token forms must carry: the session's, or the pre-session one of the sign-in page.
    @TaskLocal static var csrf: String?
}

extension Request {
    public var authContext: AuthContext? {
        get { storage[AuthContextKey.self] }
        set { storage[AuthContextKey.self] = newValue }
    }

    /// The signed-in principal; 401 when none (the middleware already turned anonymous page
    /// requests into a redirect to the sign-in page).
    public func principal() throws -> Principal {
        guard let p = authContext?.principal else { throw Abort(.unauthorized, reason: "请先登录 / sign in first") }
        return p
    }

    /// The principal, if it holds `permission`; 403 otherwise.
    @discardableResult
    public func require(_ permission: Permission) throws -> Principal {
        let p = try principal()
        guard AccessPolicy.allows(p.role, permission) else {
            throw Abort(.forbidden, reason: "无权访问 / not allowed for role \(p.role.rawValue)")
        }
        return p
    }

    /// The enterprise-level data the principal may read.
    public var scope: DataScope {
        guard let p = authContext?.principal else { return .none }
        return AccessPolicy.scope(p)
    }

    /// Whether the principal may see results that are not yet published (drafts).
    public var seesDrafts: Bool {
        guard let r = authContext?.principal.role else { return false }
        return r == .admin || r == .headquarters
    }

    /// The audit name of whoever is acting.
    public var actor: String { authContext.map { "\($0.principal.login)" } ?? "anonymous" }

    /// The client's address, for rate limits and the audit log: the peer's, or behind a trusted
    /// reverse proxy (MUJUN_TRUSTED_PROXIES) the one that proxy put in `X-Forwarded-For`.
    public var clientAddress: String {
        ClientAddress.resolve(peer: remoteAddress?.ipAddress, forwardedFor: headers[.xForwardedFor],
                              trusted: application.serverConfig.trustedProxies)
    }
}

/// The secret that keys session and token hashes: from MUJUN_SECRET, or generated once and
/// kept in a file (default data/secret.key, mode 0600). Never in the repository.
struct SecretKey: Sendable {
    let key: SymmetricKey

    static func load(_ config: ServerConfig) throws -> SecretKey {
        if let s = config.secret ?? ProcessInfo.processInfo.environment["MUJUN_SECRET"], !s.isEmpty {
            return SecretKey(key: SymmetricKey(data: SHA256.hash(data: Data(s.utf8))))
        }
        let url = URL(fileURLWithPath: config.secretFile)
        if let text = try? String(contentsOf: url, encoding: .utf8), let data = Data(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count >= 32 {
            return SecretKey(key: SymmetricKey(data: data))
        }
        let bytes = [UInt8].random(count: 32)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: url.path, contents: Data(bytes.hex.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Abort(.internalServerError, reason: "无法写入密钥文件 \(url.path) / cannot write the secret file \(url.path)")
        }
        return SecretKey(key: SymmetricKey(data: bytes))
    }

    /// HMAC-SHA256 of a token, hex: what the database keeps instead of the token.
    func hash(_ token: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: key)).hex
    }
}

struct SecretKeyStorage: StorageKey { typealias Value = SecretKey }

extension Application {
    var secretKey: SecretKey {
        get { storage[SecretKeyStorage.self]! }
        set { storage[SecretKeyStorage.self] = newValue }
    }
}

extension Array where Element == UInt8 {
    static func random(count: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &g) }
    }
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

extension Data {
    var hex: String { [UInt8](self).hex }
    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
            bytes.append(b)
            i = j
        }
        self.init(bytes)
    }
}

/// A random URL-safe token.
func randomToken(_ bytes: Int = 32) -> String {
    Data([UInt8].random(count: bytes)).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}

/// Constant-time comparison of two secrets.
func secureEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var d: UInt8 = 0
    for i in 0..<x.count { d |= x[i] ^ y[i] }
    return d == 0
}

/// Session and sign-in rules.
enum SessionPolicy {
    static let cookie = "mujun_session"
    static let preSessionCookie = "mujun_csrf"
    /// idle time after which a session ends
    static let idle: TimeInterval = 4 * 3600
    /// absolute lifetime
    static let lifetime: TimeInterval = 12 * 3600
    static let maxFailuresPerAccount = 5
    static let lockout: TimeInterval = 15 * 60
    static let maxFailuresPerAddress = 20
    static let addressWindow: TimeInterval = 15 * 60
    static let minPasswordLength = 8
}

/// Failed sign-ins per client address in a sliding window (in memory: a restart forgets).
actor SignInLimiter {
    private var failures: [String: [Date]] = [:]

    func isBlocked(_ address: String, now: Date = Date()) -> Bool {
        prune(address, now)
        return (failures[address]?.count ?? 0) >= SessionPolicy.maxFailuresPerAddress
    }

    func recordFailure(_ address: String, now: Date = Date()) {
        prune(address, now)
        failures[address, default: []].append(now)
        // many addresses (a spread-out guessing run): forget every address whose window passed
        if failures.count > 10_000 {
            for a in Array(failures.keys) { prune(a, now) }
            failures = failures.filter { !$0.value.isEmpty }
        }
    }

    private func prune(_ address: String, _ now: Date) {
        failures[address]?.removeAll { now.timeIntervalSince($0) > SessionPolicy.addressWindow }
    }
}

struct SignInLimiterKey: StorageKey { typealias Value = SignInLimiter }

extension Application {
    /// Set up by `configure` (storage is not written from requests, which run on many threads).
    var signInLimiter: SignInLimiter {
        get {
            guard let l = storage[SignInLimiterKey.self] else { fatalError("configure(_:_:) sets up the sign-in limiter") }
            return l
        }
        set { storage[SignInLimiterKey.self] = newValue }
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

/// Paths anyone may open without signing in.
enum PublicPaths {
    static func isPublic(_ path: String, method: HTTPMethod, publicPages: Set<String>) -> Bool {
        if path == "/login" || path == "/healthz" || path.hasPrefix("/static/") || path.hasPrefix("/vendor/") || path == "/favicon.ico" {
            return true
        }
        guard method == .GET else { return false }
        if publicPages.contains("rules") && (path == "/rules" || path == "/api/v1/rules") { return true }
        if publicPages.contains("openapi") && path == "/openapi.json" { return true }
        return false
    }

    /// Pages the admin may mark public (setting `public_pages`).
    static let markable: [(key: String, label: String)] = [("rules", "评价规则页"), ("openapi", "接口文档 /openapi.json")]
}

/// Identifies the caller (bearer token or session cookie), enforces sign-in, forced password
/// change and CSRF, and publishes the context to the page frame.
struct AuthMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let secret = req.application.secretKey
        let path = req.url.path
        let isAPI = path.hasPrefix("/api/") || path == "/openapi.json" || path.hasPrefix("/ogc")
        var context: AuthContext?

        if let bearer = req.headers.bearerAuthorization?.token {
            guard let user = try await req.store.user(tokenHash: secret.hash(bearer)), !user.disabled,
                  let p = user.principal else {
                throw Abort(.unauthorized, headers: ["WWW-Authenticate": "Bearer"], reason: "令牌无效或已撤销 / invalid or revoked token")
            }
            context = AuthContext(principal: p, sessionID: nil, csrfToken: nil, mustChangePassword: false)
        } else if let token = req.cookies[SessionPolicy.cookie]?.string, !token.isEmpty {
            let id = secret.hash(token)
            let now = Date()
            if let s = try await req.store.session(idHash: id) {
                if s.expiresAt < now || now.timeIntervalSince(s.lastSeen) > SessionPolicy.idle {
                    try await req.store.deleteSession(idHash: id)
                } else if let user = try await req.store.user(id: s.userID), !user.disabled, let p = user.principal {
                    context = AuthContext(principal: p, sessionID: id, csrfToken: s.csrfToken,
                                          mustChangePassword: user.mustChangePassword)
                    if now.timeIntervalSince(s.lastSeen) > 60 { try await req.store.touchSession(idHash: id, at: now) }
                }
            }
        }
        req.authContext = context

        let requirement = RouteAccess.requirement(req.method, path) ?? .permission(.manageSettings)
        if context == nil, requirement != .open {
            let publicPages = try await req.application.publicPages(req)
            if !PublicPaths.isPublic(path, method: req.method, publicPages: publicPages) {
                if isAPI || req.method != .GET {
                    throw Abort(.unauthorized, reason: "请先登录 / sign in first")
                }
                let target = req.url.string
                return req.redirect(to: "/login?next=" + (target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
            }
        }

        if let context, context.mustChangePassword,
           !(path == "/account/password" || path == "/logout" || path.hasPrefix("/static/") || path.hasPrefix("/vendor/")) {
            if isAPI { throw Abort(.forbidden, reason: "请先修改初始密码 / change your initial password first") }
            return req.redirect(to: "/account/password")
        }

        if let context, case .permission(let p) = requirement, !AccessPolicy.allows(context.principal.role, p) {
            throw Abort(.forbidden, reason: "无权访问此页面或接口 / your role (\(context.principal.role.chinese)) may not use this")
        }

        // CSRF: a state-changing request made with the session cookie must carry the session's token
        if let context, let expected = context.csrfToken, ![.GET, .HEAD, .OPTIONS].contains(req.method) {
            var sent = req.headers.first(name: "X-CSRF-Token")
            if sent == nil {
                // A form body larger than one network read arrives as a stream, which the route
                // collects only after the middleware: collect it here (within the upload limit,
                // 413 beyond) so that the form's `_csrf` field can be read.
                if req.body.data == nil, req.headers.contentType != nil {
                    _ = try await req.body.collect(max: req.application.routes.defaultMaxBodySize.value).get()
                }
                sent = try? req.content.get(String.self, at: "_csrf")
            }
            guard let sent, secureEquals(sent, expected) else {
                try? await req.store.audit(actor: req.actor, action: "security.csrf_rejected", target: path, detail: req.clientAddress)
                throw Abort(.forbidden, reason: "表单已过期或来源无效，请刷新页面后重试 / missing or wrong CSRF token")
            }
        }

        let csrf = context?.csrfToken ?? req.cookies[SessionPolicy.preSessionCookie]?.string
        return try await PageContext.$auth.withValue(context) {
            try await PageContext.$csrf.withValue(csrf) {
                try await next.respond(to: req)
            }
        }
    }
}

extension Application {
    /// The pages the admin marked public (setting `public_pages`, comma-separated keys).
    func publicPages(_ req: Request) async throws -> Set<String> {
        guard let v = try await req.store.setting("public_pages") else { return [] }
        return Set(v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }
}

/// Guards a group of routes with a permission.
struct Require: AsyncMiddleware {
    let permission: Permission
    init(_ permission: Permission) { self.permission = permission }
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        try req.require(permission)
        return try await next.respond(to: req)
    }
}

/// A hidden form field with the CSRF token, for every form of a page.
func csrfField() -> String {
    "<input type=\"hidden\" name=\"_csrf\" value=\"\(HTML.escape(PageContext.csrf ?? ""))\">"
}
