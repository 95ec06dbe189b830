import Foundation
import Testing
import Vapor
import VaporTesting
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

@Suite("Admin pages: users, tokens, audit, settings", .serialized)
struct AdminTests {
    // MARK: helpers

    static let formType = "application/x-www-form-urlencoded"

    func formBody(_ fields: [(String, String)]) -> ByteBuffer {
        ByteBuffer(string: fields.map { "\($0.0.queryEncoded)=\($0.1.queryEncoded)" }.joined(separator: "&"))
    }

    /// A form POST with the session's cookie and CSRF header.
    func post(_ app: Application, _ path: String, _ s: TestAuth.Session, _ fields: [(String, String)] = []) async throws -> TestingHTTPResponse {
        var headers = s.postHeaders
        headers.replaceOrAdd(name: .contentType, value: Self.formType)
        return try await app.testing().sendRequest(.POST, path, headers: headers, body: formBody(fields))
    }

    func get(_ app: Application, _ path: String, _ s: TestAuth.Session) async throws -> TestingHTTPResponse {
        try await app.testing().sendRequest(.GET, path, headers: s.headers)
    }

    func location(_ res: TestingHTTPResponse) -> String? { res.headers.first(name: .location) }

    func auditRows(_ app: Application, action: String) async throws -> [Store.AuditEntry] {
        try await app.store.auditLog(.init(action: action), limit: 1000).entries
    }

    /// Creates a user through the admin page; returns the temporary password shown once.
    func createUser(_ app: Application, _ admin: TestAuth.Session, login: String, name: String = "新用户", role: Role,
                    unit: String = "测试单位", town: String = "", code: String = "") async throws -> String {
        let res = try await post(app, "/admin/users", admin, [("login", login), ("displayName", name), ("role", role.rawValue),
                                                              ("unit", unit), ("town", town), ("creditCode", code)])
        #expect(res.status == .ok, "\(res.body.string.captures(#"id="form-error"[^>]*>(.*?)</p>"#))")
        let pw = res.body.string.captures(#"<code class="secret" id="temp-password">([^<]+)</code>"#).first
        try #require(pw != nil)
        return pw!
    }

    struct SignIn {
        var response: TestingHTTPResponse
        var session: String?
        var location: String? { response.headers.first(name: .location) }
        var headers: HTTPHeaders { ["Cookie": "\(SessionPolicy.cookie)=\(session ?? "")"] }
    }

    /// The real sign-in: GET /login for the pre-session CSRF cookie and field, then POST the form.
    func signIn(_ app: Application, _ login: String, _ password: String) async throws -> SignIn {
        let page = try await app.testing().sendRequest(.GET, "/login")
        #expect(page.status == .ok)
        let cookie = try #require(page.headers.setCookie?[SessionPolicy.preSessionCookie]?.string)
        let field = try #require(page.body.string.captures(#"name="_csrf" value="([^"]*)""#).first)
        #expect(cookie == field)
        let res = try await app.testing().sendRequest(
            .POST, "/login",
            headers: ["Cookie": "\(SessionPolicy.preSessionCookie)=\(cookie)", "Content-Type": Self.formType],
            body: formBody([("login", login), ("password", password), ("_csrf", field), ("next", "")]))
        return SignIn(response: res, session: res.headers.setCookie?[SessionPolicy.cookie]?.string)
    }

    /// A route pattern with its parameters filled in.
    func concrete(_ pattern: String) -> String {
        pattern.split(separator: "/").map { $0.hasPrefix(":") ? "1" : String($0) }.reduce("") { $0 + "/" + $1 }
    }

    static var beijingToday: String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date())
    }

    static func beijingDay(offset days: Int) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date().addingTimeInterval(Double(days) * 86400))
    }

    // MARK: users

    @Test("the admin lists, creates, resets, disables and enables users; every change is audited")
    func manageUsers() async throws {
        try await TestApp.with { app in
            let admin = try await TestAuth.session(app, .admin)
            let page = try await get(app, "/admin/users", admin)
            #expect(page.status == .ok)
            let html = page.body.string
            #expect(html.contains(#"<table class="data" id="users-table""#))
            #expect(html.contains(#"data-login="\#(admin.principal.login)""#))
            #expect(html.contains("管理员"))
            // the town selector offers the rules' towns
            let towns = html.captures(#"<select name="town" id="new-town">(.*?)</select>"#).first ?? ""
            for t in app.serviceContext.rules.towns { #expect(towns.contains(">\(t)</option>")) }
            // the form carries the session's CSRF token
            #expect(html.captures(#"name="_csrf" value="([^"]*)""#).allSatisfy { $0 == admin.csrf })

            // create a town user
            let pw = try await createUser(app, admin, login: "zhang.san", name: "张三", role: .town, unit: "古山镇人民政府", town: "古山镇")
            let user = try #require(try await app.store.user(login: "zhang.san"))
            #expect(user.role == "town" && user.town == "古山镇" && user.displayName == "张三" && user.unit == "古山镇人民政府")
            #expect(user.mustChangePassword)
            #expect(try Bcrypt.verify(pw, created: user.passwordHash))
            let created = try await auditRows(app, action: "user.create")
            #expect(created.contains { $0.actor == admin.principal.login && $0.target == "zhang.san" })
            // the list shows the new user with its role in Chinese and the must-change flag
            let list = try await get(app, "/admin/users", admin).body.string
            let row = list.captures(#"(<tr data-login="zhang\.san".*?</tr>)"#).first ?? ""
            #expect(row.contains("镇街") && row.contains("古山镇") && row.contains("待改密") && row.contains("正常"))

            // an enterprise user with a credit code
            let code = DemoCity(enterprises: 5, seed: 1).enterprises[0].creditCode
            _ = try await createUser(app, admin, login: "ent1", role: .enterprise, code: code)
            #expect(try await app.store.user(login: "ent1")?.creditCode == code)

            // errors are answered in the form, in Chinese, with the values kept
            var res = try await post(app, "/admin/users", admin, [("login", "zhang.san"), ("displayName", "又一个"), ("role", "town"), ("town", "古山镇")])
            #expect(res.status == .badRequest)
            #expect(res.body.string.contains("已存在"))
            #expect(res.body.string.contains(#"value="又一个""#))
            res = try await post(app, "/admin/users", admin, [("login", "li.si"), ("role", "town"), ("town", "")])
            #expect(res.status == .badRequest)
            #expect(res.body.string.contains("镇街用户须指定已知镇街"))
            res = try await post(app, "/admin/users", admin, [("login", "bad login!"), ("role", "headquarters")])
            #expect(res.status == .badRequest)
            #expect(res.body.string.contains("用户名须为"))
            res = try await post(app, "/admin/users", admin, [("login", "e2"), ("role", "enterprise"), ("creditCode", "123")])
            #expect(res.status == .badRequest)
            #expect(res.body.string.contains("统一社会信用代码"))
            res = try await post(app, "/admin/users", admin, [("login", "x1"), ("role", "nobody")])
            #expect(res.status == .badRequest)
            #expect(try await app.store.user(login: "li.si") == nil)
            #expect(try await app.store.user(login: "e2") == nil)

            // reset: a new temporary password, shown once, must be changed
            try await app.store.setPassword(userID: user.id, hash: try Bcrypt.hash("Changed#2025", cost: 4), mustChange: false, actor: "test")
            // (set directly: Store.recordFailedSignIn's lock-out UPDATE assigns failed_attempts twice,
            // which PostgreSQL rejects)
            try await app.store.sql.update("users").set("locked_until", to: Date().addingTimeInterval(600))
                .where("id", .equal, user.id).run()
            let locked = try await get(app, "/admin/users", admin).body.string
            let lockedRow = locked.captures(#"(<tr data-login="zhang\.san".*?</tr>)"#).first ?? ""
            #expect(lockedRow.captures(#"<td class="locked"><span class="flag">(\d{4}-\d\d-\d\d \d\d:\d\d)</span>"#).count == 1)
            res = try await post(app, "/admin/users/\(user.id)/reset-password", admin)
            #expect(res.status == .ok)
            let newPW = try #require(res.body.string.captures(#"id="temp-password">([^<]+)<"#).first)
            #expect(newPW != pw)
            let reset = try #require(try await app.store.user(id: user.id))
            #expect(reset.mustChangePassword && reset.lockedUntil == nil)
            #expect(try Bcrypt.verify(newPW, created: reset.passwordHash))
            #expect(try await auditRows(app, action: "user.reset_password").contains { $0.actor == admin.principal.login && $0.target == "zhang.san" })
            // the password is not kept anywhere: not in the audit log, not on the next page
            #expect(try await app.store.auditLog(.init(text: newPW)).total == 0)
            #expect(!(try await get(app, "/admin/users", admin).body.string.contains(newPW)))

            // disable, enable
            res = try await post(app, "/admin/users/\(user.id)/disable", admin)
            #expect(res.status == .seeOther)
            #expect(location(res) == "/admin/users?done=disabled")
            #expect(try await app.store.user(id: user.id)?.disabled == true)
            #expect(try await auditRows(app, action: "user.disable").contains { $0.target == "zhang.san" && $0.actor == admin.principal.login })
            let disabledRow = (try await get(app, "/admin/users?done=disabled", admin).body.string)
            #expect(disabledRow.contains(#"id="notice""#))
            #expect((disabledRow.captures(#"(<tr data-login="zhang\.san".*?</tr>)"#).first ?? "").contains("已停用"))
            res = try await post(app, "/admin/users/\(user.id)/enable", admin)
            #expect(res.status == .seeOther)
            #expect(try await app.store.user(id: user.id)?.disabled == false)
            #expect(try await auditRows(app, action: "user.enable").contains { $0.target == "zhang.san" })

            // the admin cannot disable itself; unknown ids are 404
            res = try await post(app, "/admin/users/\(admin.principal.userID)/disable", admin)
            #expect(res.status == .badRequest)
            #expect(try await app.store.user(id: admin.principal.userID)?.disabled == false)
            res = try await post(app, "/admin/users/999999/reset-password", admin)
            #expect(res.status == .notFound)
        }
    }

    @Test("a form POST needs the session's CSRF token (header or _csrf field)")
    func csrf() async throws {
        try await TestApp.with { app in
            let admin = try await TestAuth.session(app, .admin)
            // without a token: 403, nothing created
            var res = try await app.testing().sendRequest(.POST, "/admin/users",
                headers: ["Cookie": "\(SessionPolicy.cookie)=\(admin.token)", "Content-Type": Self.formType],
                body: formBody([("login", "nocsrf"), ("role", "headquarters")]))
            #expect(res.status == .forbidden)
            #expect(try await app.store.user(login: "nocsrf") == nil)
            // with the hidden field of the page, as a browser sends it
            let field = try #require(try await get(app, "/admin/users", admin).body.string.captures(#"name="_csrf" value="([^"]*)""#).first)
            res = try await app.testing().sendRequest(.POST, "/admin/users",
                headers: ["Cookie": "\(SessionPolicy.cookie)=\(admin.token)", "Content-Type": Self.formType],
                body: formBody([("_csrf", field), ("login", "withcsrf"), ("role", "headquarters")]))
            #expect(res.status == .ok)
            #expect(try await app.store.user(login: "withcsrf") != nil)
        }
    }

    @Test("a created user must change the password at the first sign-in, then signs in with the new one")
    func firstSignIn() async throws {
        try await TestApp.with { app in
            let admin = try await TestAuth.session(app, .admin)
            let temp = try await createUser(app, admin, login: "wang.wu", name: "王五", role: .headquarters, unit: "指挥部")

            let first = try await signIn(app, "wang.wu", temp)
            #expect(first.response.status == .seeOther)
            #expect(first.location == "/account/password")
            let session = try #require(first.session)
            #expect(try await app.store.auditLog(.init(actor: "wang.wu", action: "auth.sign_in")).total == 1)

            // every other page sends the user back to the password form
            var res = try await app.testing().sendRequest(.GET, "/account", headers: first.headers)
            #expect(res.status == .seeOther)
            #expect(location(res) == "/account/password")
            res = try await app.testing().sendRequest(.GET, "/api/v1/years", headers: first.headers)
            #expect(res.status == .forbidden)

            // the password form, with the session's CSRF token
            let form = try await app.testing().sendRequest(.GET, "/account/password", headers: first.headers)
            #expect(form.status == .ok)
            #expect(form.body.string.contains(#"id="forced-change""#))
            let csrf = try #require(form.body.string.captures(#"<form method="post" action="/account/password"[^>]*>\s*<input type="hidden" name="_csrf" value="([^"]*)""#).first)
            res = try await app.testing().sendRequest(.POST, "/account/password",
                headers: ["Cookie": "\(SessionPolicy.cookie)=\(session)", "Content-Type": Self.formType],
                body: formBody([("_csrf", csrf), ("current", temp), ("new", "Wang#Wu2025!"), ("confirm", "Wang#Wu2025!")]))
            #expect(res.status == .seeOther)
            #expect(location(res)?.hasPrefix("/login") == true)
            #expect(try await app.store.user(login: "wang.wu")?.mustChangePassword == false)

            // the temporary password no longer works; the new one does and lands on the role's home
            let old = try await signIn(app, "wang.wu", temp)
            #expect(old.response.status == .unauthorized)
            #expect(old.session == nil)
            let again = try await signIn(app, "wang.wu", "Wang#Wu2025!")
            #expect(again.response.status == .seeOther)
            #expect(again.location == AccountFeature.home(.headquarters))
            res = try await app.testing().sendRequest(.GET, "/account", headers: again.headers)
            #expect(res.status == .ok)
            #expect(res.body.string.contains("王五"))
        }
    }

    // MARK: access

    @Test("every /admin route answers 403 to headquarters and town users, and needs a sign-in")
    func nonAdminsForbidden() async throws {
        try await TestApp.with { app in
            let hq = try await TestAuth.session(app, .headquarters)
            let town = try await TestAuth.session(app, .town, town: "古山镇")
            let bank = try await TestAuth.session(app, .bank)
            #expect(RouteAccess.table.filter { $0.1.hasPrefix("/admin") }.count >= 10)
            for s in [hq, town, bank] {
                for (method, pattern, requirement) in RouteAccess.table.filter { $0.1.hasPrefix("/admin") } {
                    #expect(requirement != .open && requirement != .signedIn)
                    let path = concrete(pattern)
                    let res: TestingHTTPResponse
                    if method == .GET {
                        res = try await get(app, path, s)
                    } else {
                        res = try await post(app, path, s, [("login", "intruder"), ("role", "admin"), ("public_rules", "1"), ("name", "x")])
                    }
                    #expect(res.status == .forbidden, "\(s.principal.role) \(method) \(path) → \(res.status)")
                }
            }
            // nothing changed
            #expect(try await app.store.user(login: "intruder") == nil)
            #expect(try await app.store.setting("public_pages") == nil)
            // anonymous: pages redirect to the sign-in page, form posts are 401
            for (method, pattern, _) in RouteAccess.table.filter { $0.1.hasPrefix("/admin") } {
                let res = try await app.testing().sendRequest(method, concrete(pattern))
                if method == .GET {
                    #expect(res.status == .seeOther, "\(pattern)")
                    #expect(location(res)?.hasPrefix("/login") == true)
                } else {
                    #expect(res.status == .unauthorized, "\(pattern)")
                }
            }
            // the menu of a non-admin does not link to the admin pages
            let menu = try await get(app, "/account", hq).body.string
            #expect(!menu.contains("href=\"/admin/"))
        }
    }

    @Test("there is no route that edits or deletes audit entries, and every /admin route has an access line")
    func auditIsAppendOnly() async throws {
        try await TestApp.with { app in
            let adminRoutes = app.routes.all.filter { $0.path.first?.description == "admin" }
            #expect(adminRoutes.count == RouteAccess.table.filter { $0.1.hasPrefix("/admin") }.count)
            for route in app.routes.all {
                let path = "/" + route.path.map(\.description).joined(separator: "/")
                if path.hasPrefix("/admin/audit") {
                    #expect(route.method == .GET, "\(route.method) \(path)")
                }
                if path.hasPrefix("/admin") {
                    #expect(![HTTPMethod.DELETE, .PUT, .PATCH].contains(route.method), "\(route.method) \(path)")
                    #expect(RouteAccess.requirement(route.method, path) != nil, "no access line for \(route.method) \(path)")
                }
                #expect(!(path.contains("audit") && route.method != .GET), "\(route.method) \(path)")
            }
            // and the methods are not answered
            let admin = try await TestAuth.session(app, .admin)
            for m in [HTTPMethod.DELETE, .PUT, .PATCH, .POST] {
                let res = try await app.testing().sendRequest(m, "/admin/audit", headers: admin.postHeaders)
                #expect(res.status == .notFound || res.status == .methodNotAllowed || res.status == .forbidden, "\(m) → \(res.status)")
            }
        }
    }

    // MARK: audit

    @Test("the audit page searches by actor, action, text and dates, pages by 100, newest first; the export has the same rows")
    func auditSearchAndExport() async throws {
        try await TestApp.with { app in
            let admin = try await TestAuth.session(app, .admin)
            try await app.store.audit(actor: "zhao", action: "import.enterprises", target: "企业数据-独特标记XYZ.xlsx", detail: "120 行")
            for i in 1...150 {
                try await app.store.audit(actor: "bulk", action: "evaluation.run", target: "year 2025", detail: "批量记录 \(i)")
            }

            // free text
            var res = try await get(app, "/admin/audit?q=" + "独特标记XYZ".queryEncoded, admin)
            #expect(res.status == .ok)
            var ids = res.body.string.captures(#"<tr data-audit-id="(\d+)""#)
            #expect(ids.count == 1)
            #expect(res.body.string.contains("企业数据-独特标记XYZ.xlsx"))
            #expect(res.body.string.contains(#"value="独特标记XYZ""#))

            // actor, action prefix; paging by 100, newest first
            res = try await get(app, "/admin/audit?actor=bulk&action=evaluation.", admin)
            ids = res.body.string.captures(#"<tr data-audit-id="(\d+)""#)
            #expect(ids.count == 100)
            let numbers = ids.compactMap { Int64($0) }
            #expect(numbers == numbers.sorted(by: >))
            #expect(res.body.string.contains("批量记录 150"))
            #expect(res.body.string.contains("共 150 条"))
            let next = try #require(res.body.string.captures(#"<a rel="next" href="([^"]+)""#).first)
            #expect(next.contains("actor=bulk") && next.contains("page=2"))
            res = try await get(app, next.replacingOccurrences(of: "&amp;", with: "&"), admin)
            #expect(res.body.string.captures(#"<tr data-audit-id="(\d+)""#).count == 50)
            #expect(res.body.string.contains("批量记录 1<"))
            res = try await get(app, "/admin/audit?action=import.", admin)
            #expect(res.body.string.captures(#"<tr data-audit-id="(\d+)""#).count == 1)

            // dates (Beijing days, both ends inclusive)
            let today = Self.beijingToday
            res = try await get(app, "/admin/audit?actor=zhao&from=\(today)&to=\(today)", admin)
            #expect(res.body.string.captures(#"<tr data-audit-id="(\d+)""#).count == 1)
            res = try await get(app, "/admin/audit?actor=zhao&from=\(Self.beijingDay(offset: 1))", admin)
            #expect(res.body.string.captures(#"<tr data-audit-id="(\d+)""#).count == 0)
            res = try await get(app, "/admin/audit?actor=zhao&to=\(Self.beijingDay(offset: -1))", admin)
            #expect(res.body.string.captures(#"<tr data-audit-id="(\d+)""#).count == 0)
            res = try await get(app, "/admin/audit?from=yesterday", admin)
            #expect(res.status == .badRequest)

            // the export link carries the filter; the workbook has every matching row
            res = try await get(app, "/admin/audit?actor=bulk", admin)
            let link = try #require(res.body.string.captures(#"id="audit-export" href="([^"]+)""#).first)
            #expect(link == "/admin/audit.xlsx?actor=bulk")
            res = try await get(app, link, admin)
            #expect(res.status == .ok)
            #expect(res.headers.contentType?.description.contains("spreadsheetml") == true)
            #expect(res.headers.first(name: .contentDisposition)?.contains("attachment") == true)
            let table = try XLSXTable(data: Data(buffer: res.body))
            #expect(table.headers.prefix(4) == ["编号", "时间（北京时间）", "操作人", "操作"])
            var rows: [[String]] = []
            try table.forEachRow { _, cells in rows.append(cells) }
            #expect(rows.count == 150)
            #expect(rows.allSatisfy { $0[2] == "bulk" && $0[3] == "evaluation.run" })
            #expect(rows.first?[5] == "批量记录 150")
            #expect(rows.last?[5] == "批量记录 1")
            // text search in the export
            res = try await get(app, "/admin/audit.xlsx?q=" + "独特标记XYZ".queryEncoded, admin)
            let one = try XLSXTable(data: Data(buffer: res.body))
            var found: [[String]] = []
            try one.forEachRow { _, cells in found.append(cells) }
            #expect(found.count == 1 && found.first?[4] == "企业数据-独特标记XYZ.xlsx")
            // the export itself is audited
            #expect(try await auditRows(app, action: "audit.export").count == 2)
        }
    }

    @Test("sign-in entries and the admin's own changes appear in the audit log")
    func auditShowsSignIns() async throws {
        try await TestApp.with { app in
            let admin = try await TestAuth.session(app, .admin)
            _ = try await createUser(app, admin, login: "sun.qi", role: .bank, unit: "银行")
            _ = try await signIn(app, "sun.qi", "wrong-password")
            let html = try await get(app, "/admin/audit?actor=sun.qi", admin).body.string
            #expect(html.contains("auth.failure"))
            let all = try await get(app, "/admin/audit", admin).body.string
            #expect(all.contains("user.create") && all.contains("sun.qi"))
        }
    }

    // MARK: tokens

    @Test("an issued token works with the API once, and answers 401 after it is revoked")
    func tokens() async throws {
        try await TestApp.with { app in
            let admin = try await TestAuth.session(app, .admin)
            let hq = try await TestAuth.session(app, .headquarters)
            // the form offers the (enabled) users by login
            let page = try await get(app, "/admin/tokens", admin).body.string
            let options = page.captures(#"<select name="login" id="token-user">(.*?)</select>"#).first ?? ""
            #expect(options.captures(#"<option value="([^"]+)""#).sorted() == [admin.principal.login, hq.principal.login].sorted())
            #expect(options.contains("（测试指挥部，指挥部）") || options.contains("指挥部"))
            var res = try await post(app, "/admin/tokens", admin, [("login", hq.principal.login), ("name", "QGIS 工作站")])
            #expect(res.status == .ok)
            let html = res.body.string
            let token = try #require(html.captures(#"<code class="secret" id="new-token">([^<]+)</code>"#).first)
            #expect(token.hasPrefix("mj_"))
            #expect(html.contains("--config GDAL_HTTP_HEADERS &quot;Authorization: Bearer \(token)&quot;"))
            // kept as a hash only
            let stored = try #require(try await app.store.tokens().first)
            #expect(stored.name == "QGIS 工作站" && stored.userID == hq.principal.userID && stored.revokedAt == nil)
            #expect(token.hasPrefix(stored.prefix))
            #expect(try await app.store.auditLog(.init(text: token)).total == 0)
            #expect(try await auditRows(app, action: "token.create").contains { $0.actor == admin.principal.login && $0.target == hq.principal.login })

            // the API answers the bearer
            let bearer: HTTPHeaders = ["Authorization": "Bearer \(token)"]
            res = try await app.testing().sendRequest(.GET, "/api/v1/years", headers: bearer)
            #expect(res.status == .ok)
            // the list shows it (name, user, prefix, last use), never the token itself
            let list = try await get(app, "/admin/tokens", admin).body.string
            let row = list.captures(#"(<tr data-token-id="\#(stored.id)".*?</tr>)"#).first ?? ""
            #expect(row.contains("QGIS 工作站") && row.contains(hq.principal.login) && row.contains(stored.prefix) && row.contains("有效"))
            #expect(!list.contains(token))
            #expect(try await app.store.tokens().first?.lastUsed != nil)

            // errors
            res = try await post(app, "/admin/tokens", admin, [("login", "nobody"), ("name", "x")])
            #expect(res.status == .badRequest)
            res = try await post(app, "/admin/tokens", admin, [("login", hq.principal.login), ("name", " ")])
            #expect(res.status == .badRequest)

            // revoke
            res = try await post(app, "/admin/tokens/\(stored.id)/revoke", admin)
            #expect(res.status == .seeOther)
            #expect(location(res) == "/admin/tokens?done=revoked")
            #expect(try await app.store.tokens().first?.revokedAt != nil)
            #expect(try await auditRows(app, action: "token.revoke").contains { $0.target == "#\(stored.id)" })
            res = try await app.testing().sendRequest(.GET, "/api/v1/years", headers: bearer)
            #expect(res.status == .unauthorized)
            let after = try await get(app, "/admin/tokens", admin).body.string
            #expect((after.captures(#"(<tr data-token-id="\#(stored.id)".*?</tr>)"#).first ?? "").contains("已撤销"))
            res = try await post(app, "/admin/tokens/424242/revoke", admin)
            #expect(res.status == .notFound)
        }
    }

    @Test("a disabled user's session and tokens stop working at once")
    func disabledUser() async throws {
        try await TestApp.with { app in
            let admin = try await TestAuth.session(app, .admin)
            let hq = try await TestAuth.session(app, .headquarters)
            var res = try await post(app, "/admin/tokens", admin, [("login", hq.principal.login), ("name", "script")])
            let token = try #require(res.body.string.captures(#"id="new-token">([^<]+)<"#).first)
            res = try await get(app, "/account", hq)
            #expect(res.status == .ok)

            res = try await post(app, "/admin/users/\(hq.principal.userID)/disable", admin)
            #expect(res.status == .seeOther)
            res = try await get(app, "/account", hq)
            #expect(res.status == .seeOther)
            #expect(location(res)?.hasPrefix("/login") == true)
            res = try await post(app, "/logout", hq)
            #expect(res.status == .unauthorized)
            res = try await app.testing().sendRequest(.GET, "/api/v1/years", headers: ["Authorization": "Bearer \(token)"])
            #expect(res.status == .unauthorized)
            // nor can the disabled user sign in, even after being given a new password
            res = try await post(app, "/admin/users/\(hq.principal.userID)/reset-password", admin)
            let pw = try #require(res.body.string.captures(#"id="temp-password">([^<]+)<"#).first)
            #expect(try await signIn(app, hq.principal.login, pw).response.status == .unauthorized)
            // enabled again: signs in (and must change the reset password)
            _ = try await post(app, "/admin/users/\(hq.principal.userID)/enable", admin)
            let s = try await signIn(app, hq.principal.login, pw)
            #expect(s.location == "/account/password")
        }
    }

    // MARK: escaping

    @Test("script-like names and units are escaped on the users page and in the audit log")
    func escaping() async throws {
        try await TestApp.with { app in
            let admin = try await TestAuth.session(app, .admin)
            let evil = "<img src=x onerror=alert(1)>"
            _ = try await createUser(app, admin, login: "evil", name: evil, role: .requester, unit: "<script>alert('u')</script>' OR 1=1; --")
            #expect(try await app.store.user(login: "evil")?.displayName == evil)
            let html = try await get(app, "/admin/users", admin).body.string
            #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
            #expect(!html.contains(evil))
            #expect(!html.contains("<script>alert"))
            #expect(html.contains("&lt;script&gt;alert(&#39;u&#39;)&lt;/script&gt;&#39; OR 1=1; --"))
            let audit = try await get(app, "/admin/audit?q=" + "script".queryEncoded, admin).body.string
            #expect(audit.contains("&lt;script&gt;alert"))
            #expect(!audit.contains("<script>alert"))
            let tokens = try await get(app, "/admin/tokens", admin).body.string
            #expect(tokens.contains("evil（&lt;img src=x onerror=alert(1)&gt;"))
            #expect(!tokens.contains(evil))
            // a script-like search is echoed escaped
            let search = try await get(app, "/admin/audit?q=" + "\"><script>x</script>".queryEncoded, admin).body.string
            #expect(!search.contains("<script>x"))
            #expect(search.contains("&quot;&gt;&lt;script&gt;x&lt;/script&gt;"))
        }
    }

    // MARK: settings

    @Test("the admin marks pages public; the setting is audited and anonymous visitors see exactly those pages")
    func settings() async throws {
        try await TestApp.with { app in
            let admin = try await TestAuth.session(app, .admin)
            var res = try await get(app, "/admin/settings", admin)
            #expect(res.status == .ok)
            for item in AdminService.markablePages {
                #expect(res.body.string.contains(#"name="public_\#(item.key)""#))
            }
            #expect(!res.body.string.contains("checked"))
            // before: anonymous visitors are sent to the sign-in page
            res = try await app.testing().sendRequest(.GET, "/rules")
            #expect(res.status == .seeOther)

            res = try await post(app, "/admin/settings", admin, [("public_rules", "1"), ("public_bogus", "1")])
            #expect(res.status == .seeOther)
            #expect(try await app.store.setting("public_pages") == "rules")
            let changed = try await auditRows(app, action: "setting.change")
            #expect(changed.count == 1 && changed[0].target == "public_pages" && changed[0].actor == admin.principal.login)
            res = try await get(app, "/admin/settings", admin)
            #expect(res.body.string.contains(#"id="public-rules" value="1" checked"#))
            #expect(!res.body.string.contains(#"id="public-openapi" value="1" checked"#))
            res = try await app.testing().sendRequest(.GET, "/rules")
            #expect(res.status == .ok)
            res = try await app.testing().sendRequest(.GET, "/openapi.json")
            #expect(res.status == .unauthorized)

            // saving the same choice again adds no audit entry; clearing it closes the page
            _ = try await post(app, "/admin/settings", admin, [("public_rules", "1")])
            #expect(try await auditRows(app, action: "setting.change").count == 1)
            _ = try await post(app, "/admin/settings", admin, [])
            #expect(try await app.store.setting("public_pages") == "")
            #expect(try await auditRows(app, action: "setting.change").count == 2)
            res = try await app.testing().sendRequest(.GET, "/rules")
            #expect(res.status == .seeOther)
        }
    }
}
