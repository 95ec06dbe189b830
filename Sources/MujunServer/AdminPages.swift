import Foundation
import Vapor
import MujunCore
import MujunStore

extension RouteAccess {
    /// The admin pages' routes (users, tokens, audit, settings). There is deliberately no route
    /// that changes or deletes audit entries: the audit log is append-only.
    static let adminRoutes: [(HTTPMethod, String, Requirement)] = [
        (.GET, "/admin", .permission(.manageUsers)),
        (.GET, "/admin/users", .permission(.manageUsers)),
        (.POST, "/admin/users", .permission(.manageUsers)),
        (.POST, "/admin/users/:id/reset-password", .permission(.manageUsers)),
        (.POST, "/admin/users/:id/disable", .permission(.manageUsers)),
        (.POST, "/admin/users/:id/enable", .permission(.manageUsers)),
        (.GET, "/admin/tokens", .permission(.manageUsers)),
        (.POST, "/admin/tokens", .permission(.manageUsers)),
        (.POST, "/admin/tokens/:id/revoke", .permission(.manageUsers)),
        (.GET, "/admin/audit", .permission(.viewAudit)),
        (.GET, "/admin/audit.xlsx", .permission(.viewAudit)),
        (.GET, "/admin/settings", .permission(.manageSettings)),
        (.POST, "/admin/settings", .permission(.manageSettings)),
    ]
}

/// The administrator's pages: users, API tokens, the audit log (search and export, never
/// edit) and the settings (which pages are public). Every change goes through a `Store`
/// method that appends to the audit log; secrets (temporary passwords, tokens) are shown once
/// in the answer to the POST and never kept.
struct AdminController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped("admin")
        admin.get { req -> Response in
            try req.require(.manageUsers)
            return req.redirect(to: "/admin/users")
        }
        admin.get("users", use: usersPage)
        admin.post("users", use: createUser)
        admin.post("users", ":id", "reset-password", use: resetPassword)
        admin.post("users", ":id", "disable") { req in try await setDisabled(req, true) }
        admin.post("users", ":id", "enable") { req in try await setDisabled(req, false) }
        admin.get("tokens", use: tokensPage)
        admin.post("tokens", use: issueToken)
        admin.post("tokens", ":id", "revoke", use: revokeToken)
        admin.get("audit", use: auditPage)
        admin.get("audit.xlsx", use: auditExport)
        admin.get("settings", use: settingsPage)
        admin.post("settings", use: saveSettings)
    }

    // MARK: - frame

    /// A little styling of notices and admin forms (the CSP allows inline styles, not scripts).
    static let head = """
    <style>
    .notice { margin: .6rem 0; background: #eef7ee; border: 1px solid #9cc99c; border-radius: 6px; padding: .6rem .9rem; }
    .error { margin: .6rem 0; background: #fdeeee; border: 1px solid #e3a0a0; border-radius: 6px; padding: .6rem .9rem; color: #8a1f1f; }
    .secret { font-size: 1.1rem; background: #fff; border: 1px dashed #888; padding: .1rem .4rem; user-select: all; }
    form.inline { display: inline; }
    table.data td form.inline button { padding: .15rem .6rem; font-size: .85rem; }
    .admin-form { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: flex-end; }
    .admin-form label { display: flex; flex-direction: column; font-size: .9rem; gap: .2rem; }
    .flag { color: #a15c00; font-weight: 600; }
    .off { color: #8a1f1f; font-weight: 600; }
    pre.hint { white-space: pre-wrap; word-break: break-all; background: #f4f6f8; padding: .5rem .7rem; border-radius: 4px; }
    </style>
    """

    static func tabs(_ active: String) -> String {
        let items = [("users", "/admin/users", "用户"), ("tokens", "/admin/tokens", "API 令牌"),
                     ("audit", "/admin/audit", "审计日志"), ("settings", "/admin/settings", "设置")]
        return "<nav class=\"tabs\" id=\"admin-tabs\">" + items.map { key, href, label -> String in
            "<a href=\"\(href)\"\(key == active ? " class=\"active\"" : "")>\(label)</a>"
        }.joined() + "</nav>"
    }

    static func notice(_ text: String?) -> String {
        text.map { "<div class=\"notice\" id=\"notice\" role=\"status\">\($0)</div>" } ?? ""
    }

    static func error(_ text: String?) -> String {
        text.map { "<p class=\"error\" id=\"form-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? ""
    }

    static func time(_ d: Date?) -> String { d.map(HTML.dateTime) ?? "—" }

    /// Notices passed through a redirect (only fixed keys; no user text in the URL).
    static let doneMessages: [String: String] = [
        "disabled": "已停用该用户，其会话已全部结束。",
        "enabled": "已启用该用户。",
        "revoked": "已撤销该令牌，使用它的请求将被拒绝（401）。",
        "saved": "设置已保存。",
    ]

    // MARK: - users

    struct CreateUserForm: Content {
        var login: String?
        var displayName: String?
        var role: String?
        var unit: String?
        var town: String?
        var creditCode: String?
    }

    func usersPage(req: Request) async throws -> Response {
        try req.require(.manageUsers)
        let done = req.query[String.self, at: "done"].flatMap { Self.doneMessages[$0] }.map(HTML.escape)
        return try await renderUsers(req, notice: done, error: nil, form: nil, status: .ok)
    }

    func renderUsers(_ req: Request, notice: String?, error: String?, form: CreateUserForm?,
                     status: HTTPResponseStatus) async throws -> Response {
        let me = try req.require(.manageUsers)
        let users = try await req.fullStore.users()
        let towns = req.application.rulesInForce.rules.towns
        let now = Date()
        var rows = ""
        for u in users {
            let role = Role(rawValue: u.role)
            let scope = [u.town, u.creditCode].compactMap { $0 }.joined(separator: " / ")
            let locked = u.lockedUntil.flatMap { $0 > now ? $0 : nil }
            var actions = "<form method=\"post\" action=\"/admin/users/\(u.id)/reset-password\" class=\"inline\">\(csrfField())<button type=\"submit\" class=\"reset-password\">重置密码</button></form>"
            if u.id != me.userID {
                let verb = u.disabled ? "enable" : "disable"
                actions += " <form method=\"post\" action=\"/admin/users/\(u.id)/\(verb)\" class=\"inline\">\(csrfField())<button type=\"submit\" class=\"\(verb)\">\(u.disabled ? "启用" : "停用")</button></form>"
            }
            rows += """
            <tr data-login="\(HTML.escape(u.login))" data-user-id="\(u.id)"\(u.disabled ? " class=\"disabled-user\"" : "")>
              <td class="login">\(HTML.escape(u.login))</td>
              <td class="name">\(HTML.escape(u.displayName))</td>
              <td class="role" data-role="\(HTML.escape(u.role))">\(HTML.escape(role?.chinese ?? u.role))</td>
              <td>\(HTML.escape(u.unit))</td>
              <td>\(scope.isEmpty ? "—" : HTML.escape(scope))</td>
              <td class="must-change">\(u.mustChangePassword ? "<span class=\"flag\">待改密</span>" : "—")</td>
              <td class="locked">\(locked.map { "<span class=\"flag\">\(HTML.escape(HTML.dateTime($0)))</span>" } ?? "—")</td>
              <td class="state">\(u.disabled ? "<span class=\"off\">已停用</span>" : "正常")</td>
              <td>\(HTML.escape(HTML.dateTime(u.createdAt)))</td>
              <td class="actions">\(actions)</td>
            </tr>
            """
        }
        let f = form ?? CreateUserForm()
        let roleOptions = Role.allCases.map { r -> String in
            "<option value=\"\(r.rawValue)\"\(f.role == r.rawValue ? " selected" : "")>\(HTML.escape(r.chinese))</option>"
        }.joined()
        let townOptions = "<option value=\"\">（非镇街用户不填）</option>" + towns.map { t -> String in
            "<option value=\"\(HTML.escape(t))\"\(f.town == t ? " selected" : "")>\(HTML.escape(t))</option>"
        }.joined()
        let body = """
        \(Self.tabs("users"))
        <section class="card" id="admin-users">
          <h1>用户管理</h1>
          \(Self.notice(notice))
          <div class="table-wrap"><table class="data" id="users-table">
            <thead><tr><th>用户名</th><th>姓名</th><th>角色</th><th>单位</th><th>镇街 / 信用代码</th><th>首次登录改密</th><th>锁定至</th><th>状态</th><th>创建时间</th><th>操作</th></tr></thead>
            <tbody>\(rows)</tbody>
          </table></div>
          <p class="muted">重置密码会生成新的临时密码（只显示一次），该用户的所有会话随即结束，下次登录须修改密码。停用的用户不能登录，其会话与 API 令牌立即失效。</p>
        </section>
        <section class="card" id="create-user">
          <h2>新建用户</h2>
          \(Self.error(error))
          <form method="post" action="/admin/users" class="admin-form" id="create-user-form">
            \(csrfField())
            <label>用户名 <input type="text" name="login" id="new-login" value="\(HTML.escape(f.login ?? ""))" required pattern="[A-Za-z0-9._\\-]{2,40}" maxlength="40"></label>
            <label>姓名 <input type="text" name="displayName" id="new-name" value="\(HTML.escape(f.displayName ?? ""))" maxlength="60"></label>
            <label>角色 <select name="role" id="new-role">\(roleOptions)</select></label>
            <label>单位 <input type="text" name="unit" id="new-unit" value="\(HTML.escape(f.unit ?? ""))" maxlength="100"></label>
            <label>镇街（镇街用户） <select name="town" id="new-town">\(townOptions)</select></label>
            <label>统一社会信用代码（企业用户） <input type="text" name="creditCode" id="new-credit-code" value="\(HTML.escape(f.creditCode ?? ""))" maxlength="18"></label>
            <button type="submit" id="create-user-submit">创建</button>
          </form>
          <p class="muted">系统生成临时密码并只显示一次；用户首次登录时必须修改密码。</p>
        </section>
        """
        return HTML.page(title: "用户管理", status: status, active: "users", head: Self.head, body: body)
    }

    func createUser(req: Request) async throws -> Response {
        let me = try req.require(.manageUsers)
        let form = try req.content.decode(CreateUserForm.self)
        func fail(_ message: String) async throws -> Response {
            try await renderUsers(req, notice: nil, error: message, form: form, status: .badRequest)
        }
        guard let role = form.role.flatMap(Role.init(text:)) else { return try await fail("请选择角色") }
        let login = (form.login ?? "").trimmingCharacters(in: .whitespaces)
        let name = (form.displayName ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let unit = (form.unit ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.count <= 60 else { return try await fail("姓名不能超过 60 个字") }
        guard unit.count <= 100 else { return try await fail("单位名称不能超过 100 个字") }
        let town = form.town.flatMap { $0.isEmpty ? nil : $0 }
        let code = form.creditCode.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        var password = AccountTools.temporaryPassword()
        while AccountTools.passwordProblem(password, login: login) != nil { password = AccountTools.temporaryPassword() }
        do {
            _ = try await AccountTools.createUser(
                store: req.fullStore, login: login, displayName: name, unit: unit, role: role,
                town: role == .town ? town : nil, creditCode: role == .enterprise ? code : nil,
                password: password, mustChange: true, towns: req.application.rulesInForce.rules.towns,
                bcryptCost: req.application.serverConfig.bcryptCost, actor: me.login)
        } catch let e as AccountTools.AccountError {
            return try await fail(e.description)
        }
        let notice = """
        已创建用户 <b>\(HTML.escape(login))</b>（\(HTML.escape(role.chinese))）。临时密码：<code class="secret" id="temp-password">\(HTML.escape(password))</code>
        ——只显示这一次，请当面或通过安全渠道交给本人；首次登录时须修改密码。
        """
        return try await renderUsers(req, notice: notice, error: nil, form: nil, status: .ok)
    }

    func userParameter(_ req: Request) async throws -> Store.UserRecord {
        guard let id = req.parameters.get("id", as: Int64.self), let user = try await req.fullStore.user(id: id) else {
            throw Abort(.notFound, reason: "没有该用户 / no such user")
        }
        return user
    }

    func resetPassword(req: Request) async throws -> Response {
        let me = try req.require(.manageUsers)
        let user = try await userParameter(req)
        var password = AccountTools.temporaryPassword()
        while AccountTools.passwordProblem(password, login: user.login) != nil { password = AccountTools.temporaryPassword() }
        try await AccountTools.resetPassword(store: req.fullStore, login: user.login, password: password,
                                             bcryptCost: req.application.serverConfig.bcryptCost, actor: me.login)
        if user.id == me.userID {
            // the reset ended the admin's own session too
            let res = req.redirect(to: "/login", redirectType: .normal)
            res.cookies[SessionPolicy.cookie] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/")
            return res
        }
        let notice = """
        已重置用户 <b>\(HTML.escape(user.login))</b> 的密码。临时密码：<code class="secret" id="temp-password">\(HTML.escape(password))</code>
        ——只显示这一次；该用户的会话已结束，下次登录须修改密码。
        """
        return try await renderUsers(req, notice: notice, error: nil, form: nil, status: .ok)
    }

    func setDisabled(_ req: Request, _ disabled: Bool) async throws -> Response {
        let me = try req.require(.manageUsers)
        let user = try await userParameter(req)
        if disabled && user.id == me.userID {
            return try await renderUsers(req, notice: nil, error: "不能停用自己的账户", form: nil, status: .badRequest)
        }
        if user.disabled != disabled {
            try await req.fullStore.setDisabled(userID: user.id, disabled, actor: me.login)
        }
        return req.redirect(to: "/admin/users?done=\(disabled ? "disabled" : "enabled")", redirectType: .normal)
    }

    // MARK: - API tokens

    struct TokenForm: Content {
        var login: String?
        var name: String?
    }

    func tokensPage(req: Request) async throws -> Response {
        try req.require(.manageUsers)
        let done = req.query[String.self, at: "done"].flatMap { Self.doneMessages[$0] }.map(HTML.escape)
        return try await renderTokens(req, notice: done, error: nil, form: nil, status: .ok)
    }

    func renderTokens(_ req: Request, notice: String?, error: String?, form: TokenForm?,
                      status: HTTPResponseStatus) async throws -> Response {
        try req.require(.manageUsers)
        let store = req.fullStore
        let users = try await store.users()
        let logins = Dictionary(uniqueKeysWithValues: users.map { ($0.id, $0.login) })
        let tokens = try await store.tokens()
        var rows = ""
        for t in tokens {
            let action = t.revokedAt == nil
                ? "<form method=\"post\" action=\"/admin/tokens/\(t.id)/revoke\" class=\"inline\">\(csrfField())<button type=\"submit\" class=\"revoke\">撤销</button></form>"
                : ""
            rows += """
            <tr data-token-id="\(t.id)" data-prefix="\(HTML.escape(t.prefix))">
              <td class="name">\(HTML.escape(t.name))</td>
              <td class="user">\(HTML.escape(logins[t.userID] ?? "#\(t.userID)"))</td>
              <td><code>\(HTML.escape(t.prefix))…</code></td>
              <td>\(HTML.escape(Self.time(t.createdAt)))</td>
              <td>\(HTML.escape(t.createdBy))</td>
              <td>\(HTML.escape(Self.time(t.lastUsed)))</td>
              <td class="revoked">\(t.revokedAt.map { "<span class=\"off\">已撤销 \(HTML.escape(HTML.dateTime($0)))</span>" } ?? "有效")</td>
              <td>\(action)</td>
            </tr>
            """
        }
        let f = form ?? TokenForm()
        let userOptions = users.filter { !$0.disabled }.map { u -> String in
            let role = Role(rawValue: u.role)?.chinese ?? u.role
            return "<option value=\"\(HTML.escape(u.login))\"\(f.login == u.login ? " selected" : "")>\(HTML.escape(u.login))（\(HTML.escape(u.displayName))，\(HTML.escape(role))）</option>"
        }.joined()
        let body = """
        \(Self.tabs("tokens"))
        <section class="card" id="admin-tokens">
          <h1>API 令牌</h1>
          \(Self.notice(notice))
          <p class="muted">供自动化脚本、QGIS/GDAL 等程序调用接口；令牌具有所属用户的全部权限和数据范围。系统只保存令牌的摘要，令牌原文只在签发时显示一次。</p>
          <div class="table-wrap"><table class="data" id="tokens-table">
            <thead><tr><th>名称</th><th>用户</th><th>前缀</th><th>签发时间</th><th>签发人</th><th>最近使用</th><th>状态</th><th>操作</th></tr></thead>
            <tbody>\(rows.isEmpty ? "<tr class=\"none\"><td colspan=\"8\">尚未签发令牌</td></tr>" : rows)</tbody>
          </table></div>
        </section>
        <section class="card" id="issue-token">
          <h2>签发令牌</h2>
          \(Self.error(error))
          <form method="post" action="/admin/tokens" class="admin-form" id="issue-token-form">
            \(csrfField())
            <label>用户 <select name="login" id="token-user">\(userOptions)</select></label>
            <label>用途 / 名称 <input type="text" name="name" id="token-name" value="\(HTML.escape(f.name ?? ""))" required maxlength="60"></label>
            <button type="submit" id="issue-token-submit">签发</button>
          </form>
        </section>
        """
        return HTML.page(title: "API 令牌", status: status, active: "users", head: Self.head, body: body)
    }

    func issueToken(req: Request) async throws -> Response {
        let me = try req.require(.manageUsers)
        let form = try req.content.decode(TokenForm.self)
        let name = (form.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        func fail(_ message: String) async throws -> Response {
            try await renderTokens(req, notice: nil, error: message, form: form, status: .badRequest)
        }
        guard !name.isEmpty, name.count <= 60 else { return try await fail("请填写令牌用途（不超过 60 个字）") }
        guard let login = form.login, let user = try await req.fullStore.user(login: login) else {
            return try await fail("请选择一个已有用户")
        }
        guard !user.disabled else { return try await fail("用户 \(login) 已停用，不能签发令牌") }
        let token: String
        do {
            token = try await AccountTools.issueToken(store: req.fullStore, config: req.application.serverConfig,
                                                      login: user.login, name: name, actor: me.login)
        } catch let e as AccountTools.AccountError {
            return try await fail(e.description)
        }
        let t = HTML.escape(token)
        let notice = """
        已为 <b>\(HTML.escape(user.login))</b> 签发令牌“\(HTML.escape(name))”：<code class="secret" id="new-token">\(t)</code>
        ——只显示这一次，请立即复制保存。<br>
        调用接口：<pre class="hint" id="curl-hint">\(HTML.escape("curl -H \"Authorization: Bearer \(token)\" \(Self.baseURL(req))/api/v1/years"))</pre>
        GDAL / QGIS（如 ogrinfo、QGIS 的 GDAL 选项）：<pre class="hint" id="gdal-hint">\(HTML.escape("--config GDAL_HTTP_HEADERS \"Authorization: Bearer \(token)\""))</pre>
        """
        return try await renderTokens(req, notice: notice, error: nil, form: nil, status: .ok)
    }

    /// The server's address as the browser used it (for the copy-paste hints).
    static func baseURL(_ req: Request) -> String {
        let host = req.headers.first(name: .host) ?? "127.0.0.1:8080"
        return "http://" + host
    }

    func revokeToken(req: Request) async throws -> Response {
        let me = try req.require(.manageUsers)
        guard let id = req.parameters.get("id", as: Int64.self),
              let token = try await req.fullStore.tokens().first(where: { $0.id == id }) else {
            throw Abort(.notFound, reason: "没有该令牌 / no such token")
        }
        if token.revokedAt == nil { try await req.fullStore.revokeToken(id: id, actor: me.login) }
        return req.redirect(to: "/admin/tokens?done=revoked", redirectType: .normal)
    }

    // MARK: - audit

    struct AuditForm: Content {
        var actor: String?
        var action: String?
        var q: String?
        var from: String?
        var to: String?
        var page: Int?

        func trimmed(_ s: String?) -> String? {
            guard let t = s?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return nil }
            return t
        }

        /// `yyyy-MM-dd` in Beijing time → the start of that day.
        static func day(_ s: String) -> Date? {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "Asia/Shanghai")
            f.dateFormat = "yyyy-MM-dd"
            f.isLenient = false
            return f.date(from: s)
        }

        /// The store's query; `to` is inclusive (the whole day). 400 for a malformed date.
        func query() throws -> Store.AuditQuery {
            var q = Store.AuditQuery(actor: trimmed(actor), action: trimmed(action), text: trimmed(self.q))
            if let f = trimmed(from) {
                guard let d = Self.day(f) else { throw Abort(.badRequest, reason: "起始日期应为 YYYY-MM-DD / from must be YYYY-MM-DD") }
                q.from = d
            }
            if let t = trimmed(to) {
                guard let d = Self.day(t) else { throw Abort(.badRequest, reason: "截止日期应为 YYYY-MM-DD / to must be YYYY-MM-DD") }
                q.to = d.addingTimeInterval(86400)
            }
            return q
        }

        func href(_ path: String, page: Int? = nil) -> String {
            HTML.url(path, [("actor", trimmed(actor)), ("action", trimmed(action)), ("q", trimmed(q)),
                            ("from", trimmed(from)), ("to", trimmed(to)), ("page", page.map(String.init))])
        }
    }

    static let perPage = 100
    /// The most rows one export holds.
    static let exportLimit = 100_000

    static let actionPrefixes: [(String, String)] = [
        ("auth.", "登录与退出"), ("auth.sign_in", "登录成功"), ("auth.failure", "登录失败"), ("user.", "用户变更"),
        ("token.", "API 令牌"), ("setting.", "设置"), ("security.", "安全事件"), ("import.", "数据导入"),
        ("evaluation.", "评价运行"), ("publication.", "结果发布"), ("appeal.", "申诉"), ("audit.", "审计日志导出"),
    ]

    func auditPage(req: Request) async throws -> Response {
        try req.require(.viewAudit)
        let form = try req.query.decode(AuditForm.self)
        let query = try form.query()
        let page = max(1, form.page ?? 1)
        let (entries, total) = try await req.fullStore.auditLog(query, limit: Self.perPage, offset: (page - 1) * Self.perPage)
        let pages = max(1, (total + Self.perPage - 1) / Self.perPage)
        var rows = ""
        for e in entries {
            rows += """
            <tr data-audit-id="\(e.id)">
              <td class="num">\(e.id)</td>
              <td class="at">\(HTML.escape(HTML.dateTime(e.at)))</td>
              <td class="actor">\(HTML.escape(e.actor))</td>
              <td class="action"><code>\(HTML.escape(e.action))</code></td>
              <td class="target">\(HTML.escape(e.target ?? ""))</td>
              <td class="detail">\(HTML.escape(e.detail ?? ""))</td>
            </tr>
            """
        }
        let actionList = Self.actionPrefixes.map { p -> String in "<option value=\"\(HTML.escape(p.0))\">\(HTML.escape(p.1))</option>" }.joined()
        func input(_ name: String, _ label: String, _ value: String?, type: String = "text", extra: String = "") -> String {
            "<label>\(label) <input type=\"\(type)\" name=\"\(name)\" id=\"audit-\(name)\" value=\"\(HTML.escape(value ?? ""))\"\(extra)></label>"
        }
        var pager = "<nav class=\"pager\" id=\"pager\">"
        pager += page > 1 ? "<a rel=\"prev\" href=\"\(HTML.escape(form.href("/admin/audit", page: page - 1)))\">上一页</a>" : "<span class=\"disabled\">上一页</span>"
        pager += "<span class=\"info\">第 \(page)/\(pages) 页，共 \(total) 条</span>"
        pager += page < pages ? "<a rel=\"next\" href=\"\(HTML.escape(form.href("/admin/audit", page: page + 1)))\">下一页</a>" : "<span class=\"disabled\">下一页</span>"
        pager += "</nav>"
        let body = """
        \(Self.tabs("audit"))
        <section class="card" id="admin-audit">
          <h1>审计日志</h1>
          <p class="muted">每一次导入、评价、发布、申诉、用户与设置变更、登录成功与失败都记入审计日志；日志只能追加，任何角色都不能修改或删除。时间为北京时间，最新的在前。</p>
          <form method="get" action="/admin/audit" class="filters" id="audit-filters">
            \(input("actor", "操作人", form.actor, extra: " maxlength=\"60\""))
            \(input("action", "操作（前缀）", form.action, extra: " list=\"audit-actions\" maxlength=\"60\""))
            <datalist id="audit-actions">\(actionList)</datalist>
            \(input("q", "对象或详情包含", form.q, type: "search", extra: " maxlength=\"100\""))
            \(input("from", "起始日期", form.from, type: "date"))
            \(input("to", "截止日期", form.to, type: "date"))
            <button type="submit" id="audit-search">查询</button>
            <a class="reset" href="/admin/audit">清除条件</a>
            <a class="button" id="audit-export" href="\(HTML.escape(form.href("/admin/audit.xlsx")))">导出 Excel</a>
          </form>
          <div class="table-wrap"><table class="data" id="audit-table">
            <thead><tr><th>编号</th><th>时间</th><th>操作人</th><th>操作</th><th>对象</th><th>详情</th></tr></thead>
            <tbody>\(rows.isEmpty ? "<tr class=\"none\"><td colspan=\"6\">没有符合条件的记录</td></tr>" : rows)</tbody>
          </table></div>
          \(pager)
        </section>
        """
        return HTML.page(title: "审计日志", active: "audit", head: Self.head, body: body)
    }

    func auditExport(req: Request) async throws -> Response {
        let me = try req.require(.viewAudit)
        let form = try req.query.decode(AuditForm.self)
        let query = try form.query()
        let (entries, total) = try await req.fullStore.auditLog(query, limit: Self.exportLimit, offset: 0)
        let rows: [[XLSXCell]] = entries.map { e in
            [.number(Double(e.id)), .text(HTML.dateTime(e.at)), .text(e.actor), .text(e.action),
             e.target.map { .text($0) } ?? .empty, e.detail.map { .text($0) } ?? .empty]
        }
        var w = XLSXWriter()
        w.addSheet(name: "审计日志", headers: ["编号", "时间（北京时间）", "操作人", "操作", "对象", "详情"], rows: rows,
                   columnWidths: [8, 17, 14, 22, 28, 60], numberFormats: ["0", nil, nil, nil, nil, nil])
        let notes: [(String, String)] = [
            ("操作人", form.trimmed(form.actor) ?? "全部"),
            ("操作（前缀）", form.trimmed(form.action) ?? "全部"),
            ("对象或详情包含", form.trimmed(form.q) ?? "无"),
            ("起始日期", form.trimmed(form.from) ?? "不限"),
            ("截止日期", form.trimmed(form.to) ?? "不限"),
            ("记录数", total > entries.count ? "\(entries.count)（共 \(total) 条，仅导出最新的 \(entries.count) 条）" : "\(entries.count)"),
            ("导出人", me.login),
            ("导出时间", HTML.dateTime(Date())),
        ]
        w.addSheet(name: "说明", headers: ["项目", "内容"], rows: notes.map { [.text($0.0), .text($0.1)] }, columnWidths: [16, 60])
        let data = try w.data()
        try await req.fullStore.audit(actor: me.login, action: "audit.export", target: form.href("/admin/audit.xlsx"),
                                      detail: "\(entries.count) 条")
        let stamp: String = {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "Asia/Shanghai")
            f.dateFormat = "yyyyMMdd-HHmm"
            return f.string(from: Date())
        }()
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: ExportController.xlsxType)
        headers.replaceOrAdd(name: .contentDisposition,
                             value: "attachment; filename=\"audit-\(stamp).xlsx\"; filename*=UTF-8''\(HTML.percent("审计日志-\(stamp).xlsx"))")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    // MARK: - settings

    func settingsPage(req: Request) async throws -> Response {
        try req.require(.manageSettings)
        let done = req.query[String.self, at: "done"].flatMap { Self.doneMessages[$0] }.map(HTML.escape)
        let current = try await req.application.publicPages(req)
        let boxes = PublicPaths.markable.map { item -> String in
            """
            <label class="check"><input type="checkbox" name="public_\(HTML.escape(item.key))" id="public-\(HTML.escape(item.key))" value="1"\(current.contains(item.key) ? " checked" : "")> \(HTML.escape(item.label))</label>
            """
        }.joined(separator: "<br>")
        let rules = req.application.rulesInForce.rules
        let config = req.application.serverConfig
        let body = """
        \(Self.tabs("settings"))
        <section class="card" id="admin-settings">
          <h1>设置</h1>
          \(Self.notice(done))
          <h2>公开页面</h2>
          <p class="muted">除登录页和健康检查外，所有页面和接口都需要登录。勾选的页面允许未登录的访客查看（只读）。</p>
          <form method="post" action="/admin/settings" id="settings-form">
            \(csrfField())
            <p>\(boxes)</p>
            <button type="submit" id="settings-save">保存</button>
          </form>
        </section>
        <section class="card" id="server-facts">
          <h2>运行参数（只读）</h2>
          <dl class="facts">
            <dt>评价规则</dt><dd>\(HTML.escape(rules.name))</dd>
            <dt>数据库</dt><dd>\(config.isPostgres ? "PostgreSQL" : "SQLite")</dd>
            <dt>上传大小上限</dt><dd>\(config.maxUpload >> 20) MB</dd>
            <dt>密码哈希</dt><dd>bcrypt，cost \(config.bcryptCost)</dd>
            <dt>会话 Cookie</dt><dd>HttpOnly，SameSite=Lax\(config.secureCookies ? "，Secure" : "（未启用 Secure，部署在 HTTPS 之后请设置 MUJUN_SECURE_COOKIES=1）")</dd>
          </dl>
        </section>
        """
        return HTML.page(title: "设置", active: "users", head: Self.head, body: body)
    }

    func saveSettings(req: Request) async throws -> Response {
        let me = try req.require(.manageSettings)
        let fields = (try? req.content.decode([String: String].self)) ?? [:]
        let keys = PublicPaths.markable.map(\.key).filter { key in
            guard let v = fields["public_" + key] else { return false }
            return !v.isEmpty && v != "0"
        }
        let value = keys.joined(separator: ",")
        let before = try await req.fullStore.setting("public_pages") ?? ""
        if before != value {
            try await req.fullStore.setSetting("public_pages", value, actor: me.login)
        }
        return req.redirect(to: "/admin/settings?done=saved", redirectType: .normal)
    }
}
