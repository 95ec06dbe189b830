import Foundation
import Vapor
import MujunCore
import MujunStore

/// Sign-in, sign-out, password change and the account page.
struct SessionController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("login", use: loginPage)
        routes.post("login", use: login)
        routes.post("logout", use: logout)
        routes.get("account", use: account)
        routes.get("account", "password", use: passwordPage)
        routes.post("account", "password", use: changePassword)
    }

    /// Where a role lands after signing in.
    static func home(_ role: Role) -> String {
        switch role {
        case .admin, .headquarters, .town: "/ranking"
        case .enterprise: "/my"
        case .bank: "/bank"
        case .department, .requester: "/account"
        }
    }

    /// Only local paths are followed after sign-in (no open redirect). Browsers drop tabs and
    /// line breaks from a URL and read `\\` as `/`, so `/\t/evil.example` or `/\\evil.example`
    /// would leave the site: any control character or backslash refuses the path.
    static func safeNext(_ next: String?) -> String? {
        guard let n = next, n.hasPrefix("/"), !n.hasPrefix("//"),
              !n.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" }) else { return nil }
        return n
    }

    func loginPage(req: Request) async throws -> Response {
        if let p = req.authContext?.principal { return req.redirect(to: Self.home(p.role)) }
        return renderLogin(req, message: nil, login: "", status: .ok)
    }

    func renderLogin(_ req: Request, message: String?, login: String, status: HTTPResponseStatus) -> Response {
        let csrf = req.cookies[SessionPolicy.preSessionCookie]?.string ?? randomToken(18)
        let next = Self.safeNext(req.query[String.self, at: "next"]) ?? ""
        let body = """
        <section class="card login-card">
          <h1>登录</h1>
          <p class="muted">永康市工业用地“亩均论英雄”综合平台</p>
          \(message.map { "<p class=\"error\" id=\"login-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
          <form method="post" action="/login" id="login-form">
            <input type="hidden" name="_csrf" value="\(HTML.escape(csrf))">
            <input type="hidden" name="next" value="\(HTML.escape(next))">
            <label>用户名 <input type="text" name="login" id="login" value="\(HTML.escape(login))" autocomplete="username" required autofocus></label>
            <label>密码 <input type="password" name="password" id="password" autocomplete="current-password" required></label>
            <button type="submit" id="login-submit">登录</button>
          </form>
        </section>
        """
        let res = PageContext.$csrf.withValue(csrf) { HTML.page(title: "登录", status: status, body: body) }
        res.cookies[SessionPolicy.preSessionCookie] = HTTPCookies.Value(
            string: csrf, maxAge: 3600, path: "/login", isSecure: req.application.serverConfig.secureCookies,
            isHTTPOnly: true, sameSite: .strict)
        return res
    }

    struct LoginForm: Content {
        var login: String
        var password: String
        var _csrf: String?
        var next: String?
    }

    func login(req: Request) async throws -> Response {
        let form = try req.content.decode(LoginForm.self)
        let login = form.login.trimmingCharacters(in: .whitespaces)
        guard let cookie = req.cookies[SessionPolicy.preSessionCookie]?.string, let sent = form._csrf, secureEquals(cookie, sent) else {
            try await req.store.audit(actor: login.isEmpty ? "anonymous" : login, action: "security.csrf_rejected", target: "/login", detail: req.clientAddress)
            return renderLogin(req, message: "页面已过期，请重新登录 / the form expired, please sign in again", login: login, status: .forbidden)
        }
        let address = req.clientAddress
        let limiter = req.application.signInLimiter
        if await limiter.isBlocked(address) {
            try await req.store.audit(actor: login, action: "auth.rate_limited", detail: address)
            return renderLogin(req, message: "登录失败次数过多，请 15 分钟后再试 / too many failed sign-ins, try again in 15 minutes", login: login, status: .tooManyRequests)
        }
        let failure = "用户名或密码错误 / wrong user name or password"
        guard let user = try await req.store.user(login: login), !user.disabled else {
            // spend the time a password check takes, so the answer does not tell which user names exist
            _ = try? await req.password.async.hash(form.password)
            await limiter.recordFailure(address)
            try await req.store.audit(actor: login.isEmpty ? "anonymous" : login, action: "auth.failure", detail: "\(address)：用户不存在或已停用")
            return renderLogin(req, message: failure, login: login, status: .unauthorized)
        }
        let now = Date()
        if let until = user.lockedUntil, until > now {
            await limiter.recordFailure(address)
            try await req.store.audit(actor: login, action: "auth.locked", detail: address)
            let minutes = Int((until.timeIntervalSince(now) / 60).rounded(.up))
            return renderLogin(req, message: "账户已临时锁定，请 \(minutes) 分钟后再试 / account locked for \(minutes) more minutes", login: login, status: .tooManyRequests)
        }
        guard try await req.password.async.verify(form.password, created: user.passwordHash) else {
            await limiter.recordFailure(address)
            let lock = user.failedAttempts + 1 >= SessionPolicy.maxFailuresPerAccount ? now.addingTimeInterval(SessionPolicy.lockout) : nil
            try await req.store.recordFailedSignIn(userID: user.id, lockUntil: lock)
            try await req.store.audit(actor: login, action: "auth.failure", detail: "\(address)：密码错误\(lock != nil ? "，账户锁定 15 分钟" : "")")
            return renderLogin(req, message: failure, login: login, status: .unauthorized)
        }
        try await req.store.recordSignIn(userID: user.id)
        let token = randomToken()
        try await req.store.createSession(idHash: req.application.secretKey.hash(token), userID: user.id, csrfToken: randomToken(24),
                                          expiresAt: now.addingTimeInterval(SessionPolicy.lifetime), address: address)
        try await req.store.audit(actor: login, action: "auth.sign_in", detail: address)
        let target = user.mustChangePassword ? "/account/password"
            : (Self.safeNext(form.next) ?? Self.home(Role(rawValue: user.role) ?? .requester))
        let res = req.redirect(to: target, redirectType: .normal)
        res.cookies[SessionPolicy.cookie] = HTTPCookies.Value(
            string: token, expires: now.addingTimeInterval(SessionPolicy.lifetime), path: "/",
            isSecure: req.application.serverConfig.secureCookies, isHTTPOnly: true, sameSite: .lax)
        res.cookies[SessionPolicy.preSessionCookie] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/login")
        return res
    }

    func logout(req: Request) async throws -> Response {
        if let id = req.authContext?.sessionID {
            try await req.store.deleteSession(idHash: id)
            try await req.store.audit(actor: req.actor, action: "auth.sign_out", detail: req.clientAddress)
        }
        let res = req.redirect(to: "/login", redirectType: .normal)
        res.cookies[SessionPolicy.cookie] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/")
        return res
    }

    func account(req: Request) async throws -> Response {
        let p = try req.principal()
        let links: [(String, String)] = [
            (AccessPolicy.allows(p.role, .viewResults), ("/ranking", "亩均排名")),
            (p.role == .enterprise, ("/my", "本企业评价")),
            (AccessPolicy.allows(p.role, .viewAppeals), ("/appeals", "申诉")),
            (AccessPolicy.allows(p.role, .viewCreditList), ("/bank", "亩均英雄贷名单")),
            (AccessPolicy.allows(p.role, .publishResults), ("/publish", "结果发布")),
            (AccessPolicy.allows(p.role, .manageUsers), ("/admin/users", "用户管理")),
            (AccessPolicy.allows(p.role, .viewAudit), ("/admin/audit", "审计日志")),
        ].filter(\.0).map(\.1)
        let body = """
        <section class="card" id="account">
          <h1>我的账户</h1>
          <dl class="facts">
            <dt>用户名</dt><dd id="account-login">\(HTML.escape(p.login))</dd>
            <dt>姓名</dt><dd>\(HTML.escape(p.displayName))</dd>
            <dt>角色</dt><dd id="account-role">\(HTML.escape(p.role.chinese))</dd>
            <dt>单位</dt><dd>\(HTML.escape(p.unit))</dd>
            \(p.town.map { "<dt>管辖镇街</dt><dd id=\"account-town\">\(HTML.escape($0))</dd>" } ?? "")
            \(p.creditCode.map { "<dt>企业信用代码</dt><dd>\(HTML.escape($0))</dd>" } ?? "")
          </dl>
          <p>\(links.map { "<a class=\"button\" href=\"\($0.0)\">\($0.1)</a>" }.joined(separator: " "))</p>
          <p><a href="/account/password">修改密码</a></p>
        </section>
        """
        return HTML.page(title: "我的账户", active: "account", body: body)
    }

    func passwordPage(req: Request) async throws -> Response {
        _ = try req.principal()
        return renderPassword(req, message: nil, status: .ok)
    }

    func renderPassword(_ req: Request, message: String?, status: HTTPResponseStatus) -> Response {
        let forced = req.authContext?.mustChangePassword == true
        let body = """
        <section class="card login-card">
          <h1>修改密码</h1>
          \(forced ? "<p class=\"notice\" id=\"forced-change\">首次登录或密码被重置，请先设置新密码。</p>" : "")
          \(message.map { "<p class=\"error\" id=\"password-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
          <form method="post" action="/account/password" id="password-form">
            \(csrfField())
            <label>当前密码 <input type="password" name="current" autocomplete="current-password" required></label>
            <label>新密码（至少 \(SessionPolicy.minPasswordLength) 位） <input type="password" name="new" autocomplete="new-password" required></label>
            <label>确认新密码 <input type="password" name="confirm" autocomplete="new-password" required></label>
            <button type="submit">保存</button>
          </form>
        </section>
        """
        return HTML.page(title: "修改密码", status: status, body: body)
    }

    struct PasswordForm: Content { var current: String; var new: String; var confirm: String }

    func changePassword(req: Request) async throws -> Response {
        let p = try req.principal()
        let form = try req.content.decode(PasswordForm.self)
        guard let user = try await req.store.user(id: p.userID),
              try await req.password.async.verify(form.current, created: user.passwordHash) else {
            return renderPassword(req, message: "当前密码不正确 / the current password is wrong", status: .badRequest)
        }
        if let problem = Self.passwordProblem(form.new, login: p.login) {
            return renderPassword(req, message: problem, status: .badRequest)
        }
        guard form.new == form.confirm else {
            return renderPassword(req, message: "两次输入的新密码不一致 / the new passwords differ", status: .badRequest)
        }
        guard form.new != form.current else {
            return renderPassword(req, message: "新密码不能与当前密码相同 / choose a new password", status: .badRequest)
        }
        let hash = try await req.password.async.hash(form.new)
        try await req.store.setPassword(userID: p.userID, hash: hash, mustChange: false, actor: p.login)
        // setPassword ended every session: sign in again with the new password
        let res = req.redirect(to: "/login?changed=1", redirectType: .normal)
        res.cookies[SessionPolicy.cookie] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/")
        return res
    }

    /// Why a password is not acceptable, or nil.
    static func passwordProblem(_ pw: String, login: String) -> String? {
        if pw.count < SessionPolicy.minPasswordLength { return "新密码至少 \(SessionPolicy.minPasswordLength) 位 / at least \(SessionPolicy.minPasswordLength) characters" }
        if pw.lowercased() == login.lowercased() { return "密码不能与用户名相同 / must differ from the user name" }
        if Set(pw).count < 4 { return "密码过于简单 / too simple" }
        return nil
    }
}
