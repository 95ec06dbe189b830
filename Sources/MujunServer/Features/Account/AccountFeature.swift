import Foundation
import Vapor
import MujunCore
import MujunStore

/// Signing in and out, the account page (with the user's own notification settings) and the
/// password change.
enum AccountFeature: Feature {
    static let endpoints: [Endpoint] = [
        .page("/login", .open, "登录页 / the sign-in page", tag: "account", parameters: LoginQuery.self) { req, q in
            if let p = req.identity?.principal { return req.redirect(to: home(p.role)) }
            return loginPage(req, message: nil, login: "", next: q.next?.value, status: .ok)
        },
        .form("/login", .open, "登录 / sign in", tag: "account", parameters: NoParameters.self, body: LoginForm.self, accepts: [.form]) { req, _, form in
            try await signIn(req, form)
        },
        .form("/logout", .signedIn, "退出 / sign out", tag: "account", parameters: NoParameters.self, body: NoParameters.self) { req, _, _ in
            if let id = req.identity?.sessionID { try await req.service.accounts.signOut(sessionID: id) }
            let res = req.redirect(to: "/login", redirectType: .normal)
            res.cookies[SessionCookie.name] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/")
            return res
        }.with { $0.duringPasswordChange = true },
        .page("/", .signedIn, "首页：按角色转到常用页面 / home", tag: "account", parameters: NoParameters.self) { req, _ in
            req.redirect(to: home(try req.principal().role))
        },
        .page("/account", .signedIn, "我的账户 / my account", tag: "account", parameters: AccountQuery.self) { req, q in
            AccountViews.account(try req.principal(), notify: try await req.service.notify.ownTarget(),
                                 notice: q.saved?.value == "notify" ? "通知方式已保存" : nil, error: nil, status: .ok)
        },
        .form("/account/notify", .signedIn, "设置我的通知方式（邮箱、钉钉机器人、是否接收本单位消息）/ set how I am told", tag: "account",
              parameters: NoParameters.self, body: NotifyForm.self, accepts: [.form]) { req, _, f in
            let notify = req.service.notify
            do {
                try await notify.setOwnTarget(email: f.email, webhookURL: f.webhook_url, webhookSecret: f.webhook_secret,
                                              followUnit: f.follow_unit?.value == true)
            } catch let e as ServiceError where e.kind == .invalid {
                return AccountViews.account(try req.principal(), notify: try await notify.ownTarget(), notice: nil, error: e.message,
                                            status: .badRequest)
            }
            return req.redirect(to: "/account?saved=notify", redirectType: .normal)
        },
        .json(.GET, "/api/v1/account/notify", .signedIn, "我的通知方式 / how I am told", tag: "account",
              parameters: NoParameters.self, output: NotifySettingsDTO.self) { req, _ in
            NotifySettingsDTO(try await req.service.notify.ownTarget())
        },
        .json(.PUT, "/api/v1/account/notify", .signedIn, "设置我的通知方式（不填邮箱和机器人即取消）/ set how I am told (neither address: off)",
              tag: "account", parameters: NoParameters.self, body: NotifySettingsInput.self, output: NotifySettingsDTO.self) { req, _, b in
            let notify = req.service.notify
            try await notify.setOwnTarget(email: b.email, webhookURL: b.webhook_url, webhookSecret: b.webhook_secret, followUnit: b.follow_unit ?? false)
            return NotifySettingsDTO(try await notify.ownTarget())
        },
        .page("/account/password", .signedIn, "修改密码页 / change the password", tag: "account", parameters: NoParameters.self) { req, _ in
            AccountViews.password(forced: req.identity?.mustChangePassword == true, message: nil, status: .ok)
        }.with { $0.duringPasswordChange = true },
        .form("/account/password", .signedIn, "修改密码 / change the password", tag: "account", parameters: NoParameters.self, body: PasswordForm.self,
              accepts: [.form]) { req, _, form in
            do {
                try await req.service.accounts.changePassword(current: form.current ?? "", new: form.new ?? "", confirm: form.confirm ?? "")
            } catch let e as ServiceError where e.kind == .invalid {
                return AccountViews.password(forced: req.identity?.mustChangePassword == true, message: e.message, status: .badRequest)
            }
            // every session of the user ended: sign in again with the new password
            let res = req.redirect(to: "/login?changed=1", redirectType: .normal)
            res.cookies[SessionCookie.name] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/")
            return res
        }.with { $0.duringPasswordChange = true },
    ]

    struct LoginQuery: Decodable, Sendable { var next: RawText?; var changed: String? }
    struct AccountQuery: Decodable, Sendable { var saved: NameText? }
    struct NotifyForm: Decodable, Sendable {
        var email: String?; var webhook_url: String?; var webhook_secret: String?; var follow_unit: Flag?; var _csrf: String?
    }
    struct NotifySettingsInput: Decodable, Sendable {
        var email: String?; var webhook_url: String?; var webhook_secret: String?; var follow_unit: Bool?
    }
    struct LoginForm: Decodable, Sendable { var login: String?; var password: String?; var _csrf: String?; var next: String? }
    struct PasswordForm: Decodable, Sendable { var current: String?; var new: String?; var confirm: String?; var _csrf: String? }

    /// Where a role lands after signing in.
    static func home(_ role: Role) -> String {
        switch role {
        case .admin, .headquarters, .town: "/ranking"
        case .enterprise: "/my"
        case .bank: "/bank"
        case .department, .requester: "/account"
        case .expert: "/reviews"
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

    /// The sign-in page, with a fresh pre-session CSRF token in a cookie limited to /login.
    static func loginPage(_ req: Request, message: String?, login: String, next: String?, status: HTTPResponseStatus) -> Response {
        let csrf = req.cookies[SessionCookie.preSession]?.string ?? Tokens.random(18)
        let res = PageContext.$csrf.withValue(csrf) {
            AccountViews.login(message: message, login: login, next: safeNext(next) ?? "", status: status)
        }
        res.cookies[SessionCookie.preSession] = HTTPCookies.Value(
            string: csrf, maxAge: 3600, path: "/login", isSecure: req.application.serverConfig.secureCookies,
            isHTTPOnly: true, sameSite: .strict)
        return res
    }

    static func signIn(_ req: Request, _ form: LoginForm) async throws -> Response {
        let login = (form.login ?? "").trimmingCharacters(in: .whitespaces)
        let admin = req.service.admin
        guard let cookie = req.cookies[SessionCookie.preSession]?.string, let sent = form._csrf, Tokens.equal(cookie, sent) else {
            try await admin.acting(login.isEmpty ? "anonymous" : login).recordSecurityEvent("security.csrf_rejected", target: "/login")
            return loginPage(req, message: "页面已过期，请重新登录 / the form expired, please sign in again", login: login, next: form.next, status: .forbidden)
        }
        let address = req.clientAddress
        let limiter = req.service.signInLimits
        if try await limiter.isBlocked(address) {
            try await admin.acting(login).recordSecurityEvent("auth.rate_limited", target: nil, detail: address)
            return loginPage(req, message: "登录失败次数过多，请 15 分钟后再试 / too many failed sign-ins, try again in 15 minutes",
                             login: login, next: form.next, status: .tooManyRequests)
        }
        let unknownLocked = try await limiter.unknownNameLocked(login)
        let outcome = try await req.service.accounts.signIn(login: login, password: form.password ?? "", address: address,
                                                             unknownLocked: unknownLocked)
        switch outcome {
        case .failed, .locked:
            try await limiter.recordFailure(address)
            if case .failed = outcome, try await req.service.accounts.isUnknown(login: login) { try await limiter.recordUnknownName(login) }
            if case .locked(let minutes) = outcome {
                return loginPage(req, message: "账户已临时锁定，请 \(minutes) 分钟后再试 / account locked for \(minutes) more minutes",
                                 login: login, next: form.next, status: .tooManyRequests)
            }
            return loginPage(req, message: "用户名或密码错误 / wrong user name or password", login: login, next: form.next, status: .unauthorized)
        case .success(let token, _, let user):
            let target = user.mustChangePassword ? "/account/password"
                : (safeNext(form.next) ?? home(Role(rawValue: user.role) ?? .requester))
            let res = req.redirect(to: target, redirectType: .normal)
            res.cookies[SessionCookie.name] = HTTPCookies.Value(
                string: token, expires: Date().addingTimeInterval(AccountService.Policy.lifetime), path: "/",
                isSecure: req.application.serverConfig.secureCookies, isHTTPOnly: true, sameSite: .lax)
            res.cookies[SessionCookie.preSession] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/login")
            return res
        }
    }
}

enum AccountViews {
    static func login(message: String?, login: String, next: String, status: HTTPResponseStatus) -> Response {
        Page.render(title: "登录", status: status) { h in
            h.el(.section, .cls("card login-card")) { h in
                h.el(.h1, text: "登录")
                h.el(.p, .cls("muted"), text: "永康市工业用地“亩均论英雄”综合平台")
                h.formError(message, id: "login-error", cls: "error")
                h.el(.form, .method("post"), .action("/login"), .id("login-form")) { h in
                    h.csrfField()
                    h.void(.input, .type("hidden"), .name("next"), .value(next))
                    h.el(.label) { h in
                        h.text("用户名 ")
                        h.void(.input, .type("text"), .name("login"), .id("login"), .value(login), .attr("autocomplete", "username"),
                               .required, .flag("autofocus"))
                    }
                    h.el(.label) { h in
                        h.text("密码 ")
                        h.void(.input, .type("password"), .name("password"), .id("password"), .attr("autocomplete", "current-password"), .required)
                    }
                    h.el(.button, .type("submit"), .id("login-submit"), text: "登录")
                }
            }
        }
    }

    static func account(_ p: Principal, notify: Store.NotifyTarget?, notice: String?, error: String?, status: HTTPResponseStatus) -> Response {
        let links: [(String, String)] = [
            (AccessPolicy.allows(p.role, .viewResults), ("/ranking", "亩均排名")),
            (p.role == .enterprise, ("/my", "本企业评价")),
            (AccessPolicy.allows(p.role, .viewAppeals), ("/appeals", "申诉")),
            (AccessPolicy.allows(p.role, .viewCreditList), ("/bank", "亩均英雄贷名单")),
            (AccessPolicy.allows(p.role, .publishResults), ("/publish", "结果发布")),
            (AccessPolicy.allows(p.role, .manageUsers), ("/admin/users", "用户管理")),
            (AccessPolicy.allows(p.role, .viewAudit), ("/admin/audit", "审计日志")),
        ].filter(\.0).map(\.1)
        return Page.render(title: "我的账户", status: status, active: "account") { h in
            h.el(.section, .cls("card"), .id("account")) { h in
                h.el(.h1, text: "我的账户")
                h.el(.dl, .cls("facts")) { h in
                    h.el(.dt, text: "用户名"); h.el(.dd, .id("account-login"), text: p.login)
                    h.el(.dt, text: "姓名"); h.el(.dd, text: p.displayName)
                    h.el(.dt, text: "角色"); h.el(.dd, .id("account-role"), text: p.role.chinese)
                    h.el(.dt, text: "单位"); h.el(.dd, text: p.unit)
                    if let t = p.town { h.el(.dt, text: "管辖镇街"); h.el(.dd, .id("account-town"), text: t) }
                    if let c = p.creditCode { h.el(.dt, text: "企业信用代码"); h.el(.dd, text: c) }
                }
                h.el(.p) { h in
                    for (i, l) in links.enumerated() {
                        if i > 0 { h.text(" ") }
                        h.el(.a, .cls("button"), .href(l.0), text: l.1)
                    }
                }
                h.el(.p) { h in h.el(.a, .href("/account/password"), text: "修改密码") }
            }
            notifySection(&h, p, notify, notice: notice, error: error)
        }
    }

    /// The user's own notification settings: where messages addressed to them go (a deputy told
    /// of a reply to her suggestion), and, for a unit's staff, whether they also get the unit's.
    static func notifySection(_ h: inout HTMLWriter, _ p: Principal, _ t: Store.NotifyTarget?, notice: String?, error: String?) {
        h.el(.section, .cls("card"), .id("notify")) { h in
            h.el(.h2, text: "通知方式")
            h.el(.p, .cls("muted"), text: "填写邮箱或钉钉（浙政钉）群机器人后，发给您本人的提醒（如您提出的事项已答复、待您评价）会发到这里；两项都不填即不再发送。")
            if let notice { h.el(.p, .cls("notice"), .id("notify-saved"), text: notice) }
            h.formError(error, id: "notify-error", cls: "error")
            h.el(.form, .method("post"), .action("/account/notify"), .id("notify-form"), .cls("filters")) { h in
                h.csrfField()
                h.el(.label) { h in
                    h.text("邮箱 ")
                    h.void(.input, .type("email"), .name("email"), .id("notify-email"), .value(t?.email ?? ""), .attr("maxlength", 200))
                }
                h.el(.label) { h in
                    h.text("钉钉机器人地址 ")
                    h.void(.input, .type("url"), .name("webhook_url"), .id("notify-webhook"), .value(t?.webhookURL ?? ""), .attr("maxlength", 1000))
                }
                h.el(.label) { h in
                    h.text(t?.webhookSecret != nil ? "加签密钥（已设置，留空不变） " : "加签密钥 ")
                    h.void(.input, .type("password"), .name("webhook_secret"), .id("notify-secret"), .attr("maxlength", 200), .attr("autocomplete", "off"))
                }
                if [.department, .town, .headquarters].contains(p.role) {
                    h.el(.label) { h in
                        h.void(.input, .type("checkbox"), .name("follow_unit"), .value("1"), .id("notify-follow"),
                               t?.followUnit == true ? .flag("checked") : nil)
                        h.text(" 同时接收发给本单位（\(p.unit)）的督办提醒")
                    }
                }
                h.el(.button, .type("submit"), .id("notify-save"), text: "保存")
            }
        }
    }

    static func password(forced: Bool, message: String?, status: HTTPResponseStatus) -> Response {
        Page.render(title: "修改密码", status: status) { h in
            h.el(.section, .cls("card login-card")) { h in
                h.el(.h1, text: "修改密码")
                if forced { h.el(.p, .cls("notice"), .id("forced-change"), text: "首次登录或密码被重置，请先设置新密码。") }
                h.formError(message, id: "password-error", cls: "error")
                h.el(.form, .method("post"), .action("/account/password"), .id("password-form")) { h in
                    h.csrfField()
                    for (label, name, auto) in [("当前密码", "current", "current-password"),
                                                ("新密码（至少 \(AccountService.Policy.minPasswordLength) 位）", "new", "new-password"),
                                                ("确认新密码", "confirm", "new-password")] {
                        h.el(.label) { h in
                            h.text(label + " ")
                            h.void(.input, .type("password"), .name(name), .attr("autocomplete", auto), .required)
                        }
                    }
                    h.el(.button, .type("submit"), text: "保存")
                }
            }
        }
    }
}

/// A user's own notification settings, as the API shows them (the secret never: only whether one is set).
struct NotifySettingsDTO: Content {
    var email: String?
    var webhook_url: String?
    var webhook_secret_set: Bool
    var follow_unit: Bool
    init(_ t: Store.NotifyTarget?) {
        email = t?.email; webhook_url = t?.webhookURL; webhook_secret_set = t?.webhookSecret != nil; follow_unit = t?.followUnit == true
    }
}
