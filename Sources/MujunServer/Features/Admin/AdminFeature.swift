import Foundation
import Vapor
import MujunCore
import MujunStore

/// The administrator's pages: users, API tokens, the audit log (searched and exported, never
/// edited) and the settings. Every change goes through a service step that appends to the
/// audit log; secrets (temporary passwords, tokens) are shown once in the answer to the POST
/// and never kept. There is deliberately no endpoint that changes or deletes audit entries.
enum AdminFeature: Feature {
    static let endpoints: [Endpoint] = [
        .page("/admin", .permission(.manageUsers), "管理首页（转到用户）/ admin home", tag: "admin", parameters: NoParameters.self) { req, _ in
            req.redirect(to: "/admin/users")
        },
        .page("/admin/users", .permission(.manageUsers), "用户管理 / users", tag: "admin", parameters: DoneQuery.self) { req, q in
            try await usersPage(req, notice: .text(q.done.map(\.message)), error: nil, form: nil, status: .ok)
        },
        .form("/admin/users", .permission(.manageUsers), "新建用户 / create a user", tag: "admin", parameters: NoParameters.self, body: UserForm.self, accepts: [.form]) { req, _, form in
            try await createUser(req, form)
        },
        .form("/admin/users/:id/reset-password", .permission(.manageUsers), "重置密码 / reset a password", tag: "admin",
              parameters: IDPath.self, body: NoParameters.self) { req, q, _ in
            try await resetPassword(req, id: q.id.value)
        },
        .form("/admin/users/:id/disable", .permission(.manageUsers), "停用用户 / disable a user", tag: "admin",
              parameters: IDPath.self, body: NoParameters.self) { req, q, _ in
            try await setDisabled(req, id: q.id.value, true)
        },
        .form("/admin/users/:id/enable", .permission(.manageUsers), "启用用户 / enable a user", tag: "admin",
              parameters: IDPath.self, body: NoParameters.self) { req, q, _ in
            try await setDisabled(req, id: q.id.value, false)
        },
        .page("/admin/tokens", .permission(.manageUsers), "API 令牌 / API tokens", tag: "admin", parameters: DoneQuery.self) { req, q in
            try await tokensPage(req, notice: .text(q.done.map(\.message)), error: nil, form: nil, status: .ok)
        },
        .form("/admin/tokens", .permission(.manageUsers), "签发令牌 / issue a token", tag: "admin", parameters: NoParameters.self, body: TokenForm.self, accepts: [.form]) { req, _, form in
            try await issueToken(req, form)
        },
        .form("/admin/tokens/:id/revoke", .permission(.manageUsers), "撤销令牌 / revoke a token", tag: "admin",
              parameters: IDPath.self, body: NoParameters.self) { req, q, _ in
            try await req.service.accounts.revokeToken(id: q.id.value)
            return req.redirect(to: "/admin/tokens?done=revoked", redirectType: .normal)
        },
        .page("/admin/audit", .permission(.viewAudit), "审计日志 / the audit log", tag: "admin", parameters: AuditQuery.self) { req, q in
            try await auditPage(req, q)
        },
        .download("/admin/audit.xlsx", .permission(.viewAudit), "导出审计日志 Excel / the audit log as XLSX", tag: "admin",
                  parameters: AuditQuery.self, mediaType: Page.xlsxType, documented: false) { req, q in
            try await auditExport(req, q)
        },
        .page("/admin/jobs", .permission(.manageSettings), "定时任务与发件箱 / scheduled jobs and the outbox", tag: "admin",
              parameters: NoParameters.self) { req, _ in
            let jobs = req.service.jobs
            let (outbox, counts) = try await jobs.outbox(limit: 50)
            let on = req.application.serverConfig.jobsEnabled
            return AdminViews.jobs(runs: try await jobs.runs(limit: 100), outbox: outbox, counts: counts,
                                   targets: try await req.service.notify.targets(), units: try await req.service.cases.units(),
                                   scheduler: on ? "本实例的调度每 \(Int(req.application.serverConfig.jobsEvery)) 秒检查一次。" : "本实例未开启调度（MUJUN_JOBS=off），由 cron 调用 mujun jobs run-due。")
        },
        .form("/admin/jobs/:name/run", .permission(.manageSettings), "立即运行一个定时任务 / run a scheduled job now", tag: "admin",
              parameters: JobPath.self, body: NoParameters.self) { req, q, _ in
            let c = req.application.serverConfig
            let settings = JobService.Settings(instance: c.instanceName ?? ProcessInfo.processInfo.hostName, databaseURL: c.databaseURL,
                                               backupDir: c.backupDir, backupKeep: c.backupKeep)
            let ran = try await req.service.jobs.runNow(q.name, settings: settings)
            _ = ran  // its row leads the page's table
            return req.redirect(to: "/admin/jobs", redirectType: .normal)
        },
        .form("/admin/notify-targets", .permission(.manageSettings), "设置单位的接收方式（邮箱、钉钉机器人）/ set how a unit is told",
              tag: "admin", parameters: NoParameters.self, body: TargetForm.self, accepts: [.form]) { req, _, f in
            try await req.service.notify.setTarget(unit: f.unit, email: f.email, webhookURL: f.webhook_url, webhookSecret: f.webhook_secret)
            return req.redirect(to: "/admin/jobs", redirectType: .normal)
        },
        .json(.GET, "/api/v1/admin/jobs", .permission(.manageSettings), "定时任务最近的运行 / the latest runs of the scheduled jobs", tag: "admin",
              parameters: NoParameters.self, output: [JobRunDTO].self) { req, _ in
            try await req.service.jobs.runs(limit: 200).map(JobRunDTO.init)
        },
        .page("/admin/settings", .permission(.manageSettings), "设置 / settings", tag: "admin", parameters: DoneQuery.self) { req, q in
            try await settingsPage(req, notice: q.done?.message)
        },
        .form("/admin/settings", .permission(.manageSettings), "保存设置 / save the settings", tag: "admin", parameters: NoParameters.self,
              body: SettingsForm.self, accepts: [.form]) { req, _, form in
            var keys = Set<String>()
            if form.public_rules?.value == true { keys.insert("rules") }
            if form.public_openapi?.value == true { keys.insert("openapi") }
            try await req.service.admin.setPublicPages(keys, expected: form.expected)
            return req.redirect(to: "/admin/settings?done=saved", redirectType: .normal)
        },
    ]

    // MARK: inputs

    struct IDPath: Decodable, Sendable { var id: RecordID }

    /// Notices passed through a redirect (only fixed keys; no user text in the URL).
    enum Done: String, ParameterEnum {
        case disabled, enabled, revoked, saved
        var message: String {
            switch self {
            case .disabled: "已停用该用户，其会话已全部结束。"
            case .enabled: "已启用该用户。"
            case .revoked: "已撤销该令牌，使用它的请求将被拒绝（401）。"
            case .saved: "设置已保存。"
            }
        }
    }
    struct DoneQuery: Decodable, Sendable { var done: Done? }

    struct UserForm: Decodable, Sendable {
        var login: String?
        var displayName: String?
        var role: String?
        var unit: String?
        var town: String?
        var creditCode: String?
    }

    struct TokenForm: Decodable, Sendable { var login: String?; var name: String? }

    struct SettingsForm: Decodable, Sendable {
        var public_rules: Flag?
        var public_openapi: Flag?
        /// the value the form was made from (another admin's change in between is a 409)
        var expected: String?
    }

    struct AuditQuery: Decodable, Sendable {
        var actor: NameText?
        var action: NameText?
        var q: SearchText?
        var from: DayText?
        var to: DayText?
        var page: PageNumber?

        /// The store's query; `to` is inclusive (the whole day).
        var query: Store.AuditQuery {
            var q = Store.AuditQuery(actor: actor?.value.nilIfEmpty, action: action?.value.nilIfEmpty, text: self.q?.value.nilIfEmpty)
            q.from = from?.date
            q.to = to?.date.addingTimeInterval(86400)
            return q
        }

        func href(_ path: String, page: Int? = nil) -> String {
            HTML.url(path, [("actor", actor?.value), ("action", action?.value), ("q", q?.value), ("from", from?.text), ("to", to?.text),
                            ("page", page.map(String.init))])
        }
    }

    /// A day `yyyy-MM-dd` (Beijing).
    struct DayText: ParameterValue {
        var text: String
        var date: Date
        init(parameterText: String) throws(ParameterReason) {
            let t = parameterText.trimmingCharacters(in: .whitespaces)
            guard t.count == 10, ChinaDay.isValid(t), let d = ChinaDay.formatter().date(from: t) else {
                throw ParameterReason(zh: "应为 YYYY-MM-DD 格式的日期", en: "must be a date YYYY-MM-DD")
            }
            text = t; date = d
        }
        init(from decoder: any Decoder) throws {
            let s = try decoder.singleValueContainer().decode(String.self)
            do { try self.init(parameterText: s) } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
            }
        }
        static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue { ["type": "string", "format": "date"] }
        static var schemaExample: DayText { try! DayText(parameterText: "2025-01-01") }
    }

    static let perPage = 100
    /// The most rows one export holds.
    static let exportLimit = 100_000

    static let actionPrefixes: [(String, String)] = [
        ("auth.", "登录与退出"), ("auth.sign_in", "登录成功"), ("auth.failure", "登录失败"), ("user.", "用户变更"),
        ("token.", "API 令牌"), ("setting.", "设置"), ("security.", "安全事件"), ("import.", "数据导入"),
        ("evaluation.", "评价运行"), ("publication.", "结果发布"), ("appeal.", "申诉"), ("survey.", "现场调查"),
        ("land.", "用地认定"), ("audit.", "审计日志导出"),
    ]

    // MARK: users

    /// A notice that is plain text, or a secret shown once (built here, escaped).
    enum Notice { case text(String?), secret(HTMLWriter) }

    static func usersPage(_ req: Request, notice: Notice, error: String?, form: UserForm?, status: HTTPResponseStatus) async throws -> Response {
        let me = try req.principal()
        let users = try await req.service.accounts.users()
        return AdminViews.users(me: me, users: users, towns: req.application.serviceContext.rules.towns, notice: notice, error: error,
                                form: form ?? UserForm(), status: status)
    }

    static func createUser(_ req: Request, _ form: UserForm) async throws -> Response {
        guard let role = form.role.flatMap(Role.init(text:)) else {
            return try await usersPage(req, notice: .text(nil), error: "请选择角色", form: form, status: .badRequest)
        }
        let login = (form.login ?? "").trimmingCharacters(in: .whitespaces)
        let new: (id: Int64, password: String)
        do {
            new = try await req.service.accounts.createUser(.init(
                login: login, displayName: form.displayName ?? "", unit: form.unit ?? "", role: role,
                town: role == .town ? form.town?.nilIfEmpty : nil,
                creditCode: role == .enterprise ? form.creditCode?.trimmingCharacters(in: .whitespaces).nilIfEmpty : nil))
        } catch let e as ServiceError where e.kind == .invalid || e.kind == .conflict {
            return try await usersPage(req, notice: .text(nil), error: e.message, form: form, status: .badRequest)
        }
        var h = HTMLWriter()
        h.text("已创建用户 "); h.el(.b, text: login); h.text("（\(role.chinese)）。临时密码：")
        h.el(.code, .cls("secret"), .id("temp-password"), text: new.password)
        h.text(" ——只显示这一次，请当面或通过安全渠道交给本人；首次登录时须修改密码。")
        return try await usersPage(req, notice: .secret(h), error: nil, form: nil, status: .ok)
    }

    static func resetPassword(_ req: Request, id: Int64) async throws -> Response {
        let me = try req.principal()
        let accounts = req.service.accounts
        let user = try await accounts.user(id: id)
        let password = try await accounts.resetPassword(userID: id)
        if user.id == me.userID {
            // the reset ended the admin's own session too
            let res = req.redirect(to: "/login", redirectType: .normal)
            res.cookies[SessionCookie.name] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/")
            return res
        }
        var h = HTMLWriter()
        h.text("已重置用户 "); h.el(.b, text: user.login); h.text(" 的密码。临时密码：")
        h.el(.code, .cls("secret"), .id("temp-password"), text: password)
        h.text(" ——只显示这一次；该用户的会话已结束，下次登录须修改密码。")
        return try await usersPage(req, notice: .secret(h), error: nil, form: nil, status: .ok)
    }

    static func setDisabled(_ req: Request, id: Int64, _ disabled: Bool) async throws -> Response {
        do {
            try await req.service.accounts.setDisabled(userID: id, disabled)
        } catch let e as ServiceError where e.kind == .invalid {
            return try await usersPage(req, notice: .text(nil), error: e.message, form: nil, status: .badRequest)
        } catch let e as ServiceError where e.kind == .conflict {
            // already so: nothing changed, say so
            return req.redirect(to: "/admin/users?done=\(disabled ? "disabled" : "enabled")", redirectType: .normal)
        }
        return req.redirect(to: "/admin/users?done=\(disabled ? "disabled" : "enabled")", redirectType: .normal)
    }

    // MARK: tokens

    static func tokensPage(_ req: Request, notice: Notice, error: String?, form: TokenForm?, status: HTTPResponseStatus) async throws -> Response {
        let accounts = req.service.accounts
        return AdminViews.tokens(users: try await accounts.users(), tokens: try await accounts.tokens(), notice: notice, error: error,
                                 form: form ?? TokenForm(), status: status)
    }

    static func issueToken(_ req: Request, _ form: TokenForm) async throws -> Response {
        let name = (form.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let issued: (id: Int64, token: String)
        do {
            guard let login = form.login?.nilIfEmpty else { throw ServiceError(.invalid, "请选择一个已有用户") }
            issued = try await req.service.accounts.issueToken(login: login, name: name)
        } catch let e as ServiceError where e.kind != .forbidden {
            return try await tokensPage(req, notice: .text(nil), error: e.message, form: form, status: .badRequest)
        }
        let token = issued.token
        let base = "http://" + (req.headers.first(name: .host) ?? "127.0.0.1:8080")
        var h = HTMLWriter()
        h.text("已为 "); h.el(.b, text: form.login ?? ""); h.text(" 签发令牌“\(name)”：")
        h.el(.code, .cls("secret"), .id("new-token"), text: token)
        h.text(" ——只显示这一次，请立即复制保存。"); h.void(.br)
        h.text("调用接口：")
        h.el(.pre, .cls("hint"), .id("curl-hint"), text: "curl -H \"Authorization: Bearer \(token)\" \(base)/api/v1/years")
        h.text("GDAL / QGIS（如 ogrinfo、QGIS 的 GDAL 选项）：")
        h.el(.pre, .cls("hint"), .id("gdal-hint"), text: "--config GDAL_HTTP_HEADERS \"Authorization: Bearer \(token)\"")
        return try await tokensPage(req, notice: .secret(h), error: nil, form: nil, status: .ok)
    }

    // MARK: audit

    static func auditPage(_ req: Request, _ q: AuditQuery) async throws -> Response {
        let page = q.page?.int ?? 1
        let (entries, total) = try await req.service.admin.auditLog(q.query, limit: perPage, offset: (page - 1) * perPage)
        return AdminViews.audit(q, entries: entries, total: total, page: page)
    }

    static func auditExport(_ req: Request, _ q: AuditQuery) async throws -> Response {
        let me = try req.principal()
        let admin = req.service.admin
        let (entries, total) = try await admin.auditLog(q.query, limit: exportLimit, offset: 0)
        let rows: [[XLSXCell]] = entries.map { e in
            [.number(Double(e.id)), .text(HTML.dateTime(e.at)), .text(e.actor), .text(e.action),
             e.target.map { .text($0) } ?? .empty, e.detail.map { .text($0) } ?? .empty]
        }
        var w = XLSXWriter()
        w.addSheet(name: "审计日志", headers: ["编号", "时间（北京时间）", "操作人", "操作", "对象", "详情"], rows: rows,
                   columnWidths: [8, 17, 14, 22, 28, 60], numberFormats: ["0", nil, nil, nil, nil, nil])
        let notes: [(String, String)] = [
            ("操作人", q.actor?.value.nilIfEmpty ?? "全部"),
            ("操作（前缀）", q.action?.value.nilIfEmpty ?? "全部"),
            ("对象或详情包含", q.q?.value.nilIfEmpty ?? "无"),
            ("起始日期", q.from?.text ?? "不限"),
            ("截止日期", q.to?.text ?? "不限"),
            ("记录数", total > entries.count ? "\(entries.count)（共 \(total) 条，仅导出最新的 \(entries.count) 条）" : "\(entries.count)"),
            ("导出人", me.login),
            ("导出时间", HTML.dateTime(Date())),
        ]
        w.addSheet(name: "说明", headers: ["项目", "内容"], rows: notes.map { [.text($0.0), .text($0.1)] }, columnWidths: [16, 60])
        let data = try w.data()
        try await admin.recordExport("audit.export", target: q.href("/admin/audit.xlsx"), detail: "\(entries.count) 条")
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyyMMdd-HHmm"
        let stamp = f.string(from: Date())
        return Page.download(data, type: Page.xlsxType, asciiName: "audit-\(stamp).xlsx", name: "审计日志-\(stamp).xlsx")
    }

    // MARK: settings

    static func settingsPage(_ req: Request, notice: String?) async throws -> Response {
        let current = try await req.service.admin.publicPages()
        return AdminViews.settings(current: current, config: req.application.serverConfig,
                                   rulesName: req.application.serviceContext.rules.name, notice: notice)
    }
}

/// A run of a scheduled job, as `/api/v1/admin/jobs` answers it.
struct JobPath: Decodable, Sendable { var name: String }

struct TargetForm: Decodable, Sendable {
    var unit: String
    var email: String?
    var webhook_url: String?
    var webhook_secret: String?
}

struct JobRunDTO: Content {
    var job: String
    var period: String
    var state: String
    var attempts: Int
    var instance: String
    var startedUs: Int64
    var finishedUs: Int64?
    var error: String?
    var detail: String?
    init(_ r: Store.JobRun) {
        job = r.job; period = r.period; state = r.state; attempts = r.attempts; instance = r.instance
        startedUs = r.startedUs; finishedUs = r.finishedUs; error = r.error; detail = r.detail
    }
}
