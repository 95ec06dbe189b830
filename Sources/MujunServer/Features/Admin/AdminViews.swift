import Foundation
import Vapor
import MujunCore
import MujunStore

/// The admin pages (inside `<div class="admin">`, styled by Public/mujun.css).
enum AdminViews {
    static func frame(title: String, status: HTTPResponseStatus = .ok, active: String, tab: String,
                      body: (inout HTMLWriter) -> Void) -> Response {
        Page.render(title: title, status: status, active: active) { h in
            h.el(.div, .cls("admin")) { h in
                h.el(.nav, .cls("tabs"), .id("admin-tabs")) { h in
                    for (key, href, label) in [("users", "/admin/users", "用户"), ("tokens", "/admin/tokens", "API 令牌"),
                                               ("audit", "/admin/audit", "审计日志"), ("jobs", "/admin/jobs", "定时任务"), ("settings", "/admin/settings", "设置")] {
                        h.el(.a, .href(href), .cls(key == tab ? "active" : nil), text: label)
                    }
                }
                body(&h)
            }
        }
    }

    static func notice(_ h: inout HTMLWriter, _ n: AdminFeature.Notice) {
        switch n {
        case .text(let t): h.notice(t)
        case .secret(let content): h.el(.div, .cls("notice"), .id("notice"), .role("status")) { h in h.append(content) }
        }
    }

    static func time(_ d: Date?) -> String { d.map(HTML.dateTime) ?? "—" }

    // MARK: users

    static func users(me: Principal, users: [Store.UserRecord], towns: [String], notice n: AdminFeature.Notice, error: String?,
                      form f: AdminFeature.UserForm, status: HTTPResponseStatus) -> Response {
        let now = Date()
        return frame(title: "用户管理", status: status, active: "users", tab: "users") { h in
            h.el(.section, .cls("card"), .id("admin-users")) { h in
                h.el(.h1, text: "用户管理")
                notice(&h, n)
                h.table(id: "users-table", headers: [("用户名", false), ("姓名", false), ("角色", false), ("单位", false),
                                                    ("镇街 / 信用代码", false), ("首次登录改密", false), ("锁定至", false), ("状态", false),
                                                    ("创建时间", false), ("操作", false)], rows: users) { h, u in
                    let scope = [u.town, u.creditCode].compactMap { $0 }.joined(separator: " / ")
                    let locked = u.lockedUntil.flatMap { $0 > now ? $0 : nil }
                    h.el(.tr, .data("login", u.login), .data("user-id", u.id), .cls(u.disabled ? "disabled-user" : nil)) { h in
                        h.el(.td, .cls("login"), text: u.login)
                        h.el(.td, .cls("name"), text: u.displayName)
                        h.el(.td, .cls("role"), .data("role", u.role), text: Role(rawValue: u.role)?.chinese ?? u.role)
                        h.el(.td, text: u.unit)
                        h.el(.td, text: scope.isEmpty ? "—" : scope)
                        h.el(.td, .cls("must-change")) { h in
                            if u.mustChangePassword { h.el(.span, .cls("flag"), text: "待改密") } else { h.text("—") }
                        }
                        h.el(.td, .cls("locked")) { h in
                            if let l = locked { h.el(.span, .cls("flag"), text: HTML.dateTime(l)) } else { h.text("—") }
                        }
                        h.el(.td, .cls("state")) { h in
                            if u.disabled { h.el(.span, .cls("off"), text: "已停用") } else { h.text("正常") }
                        }
                        h.el(.td, text: HTML.dateTime(u.createdAt))
                        h.el(.td, .cls("actions")) { h in
                            h.el(.form, .method("post"), .action("/admin/users/\(u.id)/reset-password"), .cls("inline")) { h in
                                h.csrfField()
                                h.el(.button, .type("submit"), .cls("reset-password"), text: "重置密码")
                            }
                            if u.id != me.userID {
                                let verb = u.disabled ? "enable" : "disable"
                                h.text(" ")
                                h.el(.form, .method("post"), .action("/admin/users/\(u.id)/\(verb)"), .cls("inline")) { h in
                                    h.csrfField()
                                    h.el(.button, .type("submit"), .cls(verb), text: u.disabled ? "启用" : "停用")
                                }
                            }
                        }
                    }
                }
                h.el(.p, .cls("muted"), text: "重置密码会生成新的临时密码（只显示一次），该用户的所有会话随即结束，下次登录须修改密码。停用的用户不能登录，其会话与 API 令牌立即失效。")
            }
            h.el(.section, .cls("card"), .id("create-user")) { h in
                h.el(.h2, text: "新建用户")
                h.formError(error, cls: "error")
                h.el(.form, .method("post"), .action("/admin/users"), .cls("admin-form"), .id("create-user-form")) { h in
                    h.csrfField()
                    h.el(.label) { h in
                        h.text("用户名 ")
                        h.void(.input, .type("text"), .name("login"), .id("new-login"), .value(f.login ?? ""), .required,
                               .attr("pattern", "[A-Za-z0-9._\\-]{2,40}"), .attr("maxlength", 40))
                    }
                    h.el(.label) { h in
                        h.text("姓名 ")
                        h.void(.input, .type("text"), .name("displayName"), .id("new-name"), .value(f.displayName ?? ""), .attr("maxlength", 60))
                    }
                    h.el(.label) { h in
                        h.text("角色 ")
                        h.select(name: "role", id: "new-role", options: Role.allCases.map { ($0.rawValue, $0.chinese) }, selected: f.role)
                    }
                    h.el(.label) { h in
                        h.text("单位 ")
                        h.void(.input, .type("text"), .name("unit"), .id("new-unit"), .value(f.unit ?? ""), .attr("maxlength", 100))
                    }
                    h.el(.label) { h in
                        h.text("镇街（镇街用户） ")
                        h.select(name: "town", id: "new-town", options: [("", "（非镇街用户不填）")] + towns.map { ($0, $0) }, selected: f.town ?? "")
                    }
                    h.el(.label) { h in
                        h.text("统一社会信用代码（企业用户） ")
                        h.void(.input, .type("text"), .name("creditCode"), .id("new-credit-code"), .value(f.creditCode ?? ""), .attr("maxlength", 18))
                    }
                    h.el(.button, .type("submit"), .id("create-user-submit"), text: "创建")
                }
                h.el(.p, .cls("muted"), text: "系统生成临时密码并只显示一次；用户首次登录时必须修改密码。")
            }
        }
    }

    // MARK: tokens

    static func tokens(users: [Store.UserRecord], tokens: [Store.TokenRecord], notice n: AdminFeature.Notice, error: String?,
                       form f: AdminFeature.TokenForm, status: HTTPResponseStatus) -> Response {
        let logins = Dictionary(uniqueKeysWithValues: users.map { ($0.id, $0.login) })
        return frame(title: "API 令牌", status: status, active: "users", tab: "tokens") { h in
            h.el(.section, .cls("card"), .id("admin-tokens")) { h in
                h.el(.h1, text: "API 令牌")
                notice(&h, n)
                h.el(.p, .cls("muted"), text: "供自动化脚本、QGIS/GDAL 等程序调用接口；令牌具有所属用户的全部权限和数据范围。系统只保存令牌的摘要，令牌原文只在签发时显示一次。")
                h.table(id: "tokens-table", headers: [("名称", false), ("用户", false), ("前缀", false), ("签发时间", false), ("签发人", false),
                                                     ("最近使用", false), ("状态", false), ("操作", false)],
                        rows: tokens, empty: "尚未签发令牌") { h, t in
                    h.el(.tr, .data("token-id", t.id), .data("prefix", t.prefix)) { h in
                        h.el(.td, .cls("name"), text: t.name)
                        h.el(.td, .cls("user"), text: logins[t.userID] ?? "#\(t.userID)")
                        h.el(.td) { h in h.el(.code, text: t.prefix + "…") }
                        h.el(.td, text: time(t.createdAt))
                        h.el(.td, text: t.createdBy)
                        h.el(.td, text: time(t.lastUsed))
                        h.el(.td, .cls("revoked")) { h in
                            if let r = t.revokedAt { h.el(.span, .cls("off"), text: "已撤销 \(HTML.dateTime(r))") } else { h.text("有效") }
                        }
                        h.el(.td) { h in
                            if t.revokedAt == nil {
                                h.el(.form, .method("post"), .action("/admin/tokens/\(t.id)/revoke"), .cls("inline")) { h in
                                    h.csrfField()
                                    h.el(.button, .type("submit"), .cls("revoke"), text: "撤销")
                                }
                            }
                        }
                    }
                }
            }
            h.el(.section, .cls("card"), .id("issue-token")) { h in
                h.el(.h2, text: "签发令牌")
                h.formError(error, cls: "error")
                h.el(.form, .method("post"), .action("/admin/tokens"), .cls("admin-form"), .id("issue-token-form")) { h in
                    h.csrfField()
                    h.el(.label) { h in
                        h.text("用户 ")
                        h.select(name: "login", id: "token-user",
                                 options: users.filter { !$0.disabled }.map { u in
                                     (u.login, "\(u.login)（\(u.displayName)，\(Role(rawValue: u.role)?.chinese ?? u.role)）")
                                 }, selected: f.login)
                    }
                    h.el(.label) { h in
                        h.text("用途 / 名称 ")
                        h.void(.input, .type("text"), .name("name"), .id("token-name"), .value(f.name ?? ""), .required, .attr("maxlength", 60))
                    }
                    h.el(.button, .type("submit"), .id("issue-token-submit"), text: "签发")
                }
            }
        }
    }

    // MARK: audit

    static func audit(_ q: AdminFeature.AuditQuery, entries: [Store.AuditEntry], total: Int, page: Int) -> Response {
        let pages = max(1, (total + AdminFeature.perPage - 1) / AdminFeature.perPage)
        return frame(title: "审计日志", active: "audit", tab: "audit") { h in
            h.el(.section, .cls("card"), .id("admin-audit")) { h in
                h.el(.h1, text: "审计日志")
                h.el(.p, .cls("muted"), text: "每一次导入、评价、发布、申诉、用户与设置变更、登录成功与失败都记入审计日志；日志只能追加，任何角色都不能修改或删除。时间为北京时间，最新的在前。")
                h.el(.form, .method("get"), .action("/admin/audit"), .cls("filters"), .id("audit-filters")) { h in
                    func input(_ h: inout HTMLWriter, _ name: StaticString, _ label: String, _ value: String?, type: StaticString = "text",
                               _ extra: Attribute?...) {
                        h.el(.label) { h in
                            h.text(label + " ")
                            h.void(.input, attrs: [.type(type), .attr("name", name.description), .id("audit-\(name)"), .value(value ?? "")] + extra)
                        }
                    }
                    input(&h, "actor", "操作人", q.actor?.value, .attr("maxlength", 60))
                    input(&h, "action", "操作（前缀）", q.action?.value, .attr("list", "audit-actions"), .attr("maxlength", 60))
                    h.el(.datalist, .id("audit-actions")) { h in
                        for p in AdminFeature.actionPrefixes { h.el(.option, .value(p.0), text: p.1) }
                    }
                    input(&h, "q", "对象或详情包含", q.q?.value, type: "search", .attr("maxlength", 100))
                    input(&h, "from", "起始日期", q.from?.text, type: "date")
                    input(&h, "to", "截止日期", q.to?.text, type: "date")
                    h.el(.button, .type("submit"), .id("audit-search"), text: "查询")
                    h.el(.a, .cls("reset"), .href("/admin/audit"), text: "清除条件")
                    h.el(.a, .cls("button"), .id("audit-export"), .href(q.href("/admin/audit.xlsx")), text: "导出 Excel")
                }
                h.table(id: "audit-table", headers: [("编号", false), ("时间", false), ("操作人", false), ("操作", false), ("对象", false), ("详情", false)],
                        rows: entries, empty: "没有符合条件的记录") { h, e in
                    h.el(.tr, .data("audit-id", e.id)) { h in
                        h.el(.td, .cls("num"), text: String(e.id))
                        h.el(.td, .cls("at"), text: HTML.dateTime(e.at))
                        h.el(.td, .cls("actor"), text: e.actor)
                        h.el(.td, .cls("action")) { h in h.el(.code, text: e.action) }
                        h.el(.td, .cls("target"), text: e.target ?? "")
                        h.el(.td, .cls("detail"), text: e.detail ?? "")
                    }
                }
                h.pager(page: page, pages: pages, info: "第 \(page)/\(pages) 页，共 \(total) 条") { q.href("/admin/audit", page: $0) }
            }
        }
    }

    // MARK: jobs

    static func jobs(runs: [Store.JobRun], outbox: [Store.OutboxRecord], counts: [String: Int], targets: [Store.NotifyTarget], units: [String],
                     scheduler: String) -> Response {
        func us(_ v: Int64?) -> String { v.map { HTML.dateTime(Date(timeIntervalSince1970: Double($0) / 1e6)) } ?? "—" }
        let stateNames = ["running": "运行中", "succeeded": "完成", "failed": "失败"]
        let messageStates = ["pending": "待发送", "sending": "发送中", "sent": "已发送", "retry": "待重试"]
        return frame(title: "定时任务", active: "audit", tab: "jobs") { h in
            h.el(.section, .cls("card"), .id("admin-jobs")) { h in
                h.el(.h1, text: "定时任务")
                h.el(.p, .cls("muted"), text: "每个任务每个周期（日、月）在所有实例中只运行一次：先领取者运行；失败后隔 1、4、16… 分钟重试（最多 4 次）；运行中的实例中断 15 分钟后由其他实例接手。\(scheduler)")
                h.table(id: "job-specs", headers: [("任务", false), ("时间（北京时间）", false), ("内容", false), ("", false)], rows: JobService.specs, empty: "") { h, s in
                    h.el(.tr, .data("job", s.name)) { h in
                        h.el(.td) { h in h.el(.code, text: s.name) }
                        h.el(.td, text: s.scheduleText)
                        h.el(.td, text: s.chinese)
                        h.el(.td) { h in
                            h.el(.form, .method("post"), .action("/admin/jobs/\(s.name)/run"), .cls("inline")) { h in
                                h.csrfField()
                                h.el(.button, .type("submit"), .cls("run-now"), .data("job", s.name), text: "立即运行")
                            }
                        }
                    }
                }
                h.el(.h2, text: "最近的运行")
                h.table(id: "job-runs", headers: [("任务", false), ("周期", false), ("状态", false), ("次数", true), ("实例", false),
                                                   ("开始", false), ("结束", false), ("结果或错误", false)],
                        rows: runs, empty: "还没有运行记录") { h, r in
                    h.el(.tr, .cls(r.state == "failed" ? "failed" : nil), .data("job", r.job), .data("period", r.period), .data("state", r.state)) { h in
                        h.el(.td) { h in h.el(.code, text: r.job) }
                        h.el(.td, text: r.period)
                        h.el(.td, .cls("state"), text: stateNames[r.state] ?? r.state)
                        h.el(.td, .cls("num"), text: String(r.attempts))
                        h.el(.td, text: r.instance)
                        h.el(.td, text: us(r.startedUs))
                        h.el(.td, text: us(r.finishedUs))
                        h.el(.td, .cls(r.error != nil ? "error" : "detail"), text: r.error ?? r.detail ?? "")
                    }
                }
                h.el(.h2, text: "接收方式")
                h.el(.p, .cls("muted"), text: "每条消息按收件单位的设置发出：邮件（MUJUN_SMTP_HOST 所指的邮件服务器）和/或钉钉（浙政钉）群机器人；机器人开启“加签”时填写其密钥。发送失败的渠道隔 30 秒、1、2、4… 分钟（最长 30 分钟）重试，消息不会丢失，已送达的渠道不再重发。个人的接收方式由本人在“我的账户”中设置，列在下表中。")
                h.table(id: "notify-targets", headers: [("单位/个人", false), ("邮箱", false), ("钉钉机器人", false)], rows: targets, empty: "尚未设置任何单位") { h, t in
                    h.el(.tr, .data("unit", t.unit)) { h in
                        h.el(.td, text: t.login.map { "个人 \($0)" + (t.followUnit == true ? "（同时接收本单位消息）" : "") } ?? t.unit)
                        h.el(.td, text: t.email ?? "")
                        h.el(.td, text: t.webhookURL.map { (URL(string: $0)?.host ?? $0) + (t.webhookSecret != nil ? "（加签）" : "") } ?? "")
                    }
                }
                h.el(.form, .method("post"), .action("/admin/notify-targets"), .id("notify-target-form"), .cls("filters")) { h in
                    h.csrfField()
                    h.el(.label) { h in
                        h.text("单位 ")
                        h.el(.select, .name("unit"), .id("target-unit"), .required) { h in
                            for u in units { h.el(.option, .value(u), text: u) }
                        }
                    }
                    h.el(.label) { h in h.text("邮箱 "); h.void(.input, .type("email"), .name("email"), .id("target-email"), .attr("maxlength", 200)) }
                    h.el(.label) { h in h.text("机器人地址 "); h.void(.input, .type("url"), .name("webhook_url"), .id("target-webhook"), .attr("maxlength", 1000)) }
                    h.el(.label) { h in h.text("加签密钥 "); h.void(.input, .type("password"), .name("webhook_secret"), .id("target-secret"), .attr("maxlength", 200), .attr("autocomplete", "off")) }
                    h.el(.button, .type("submit"), .id("target-save"), text: "保存")
                }
                h.el(.h2, text: "发件箱")
                h.el(.p, .id("outbox-counts"), text: counts.isEmpty ? "发件箱为空" : counts.sorted { $0.key < $1.key }.map { "\(messageStates[$0.key] ?? $0.key)：\($0.value)" }.joined(separator: "，"))
                h.table(id: "outbox-table", headers: [("编号", true), ("类型", false), ("收件单位", false), ("标题", false), ("状态", false), ("次数", true), ("最近错误", false)],
                        rows: outbox, empty: "没有消息") { h, m in
                    h.el(.tr, .data("outbox-id", m.id)) { h in
                        h.el(.td, .cls("num"), text: String(m.id))
                        h.el(.td, text: m.kind)
                        h.el(.td, text: m.recipient)
                        h.el(.td, text: m.subject)
                        h.el(.td, .data("state", m.state), text: messageStates[m.state] ?? m.state)
                        h.el(.td, .cls("num"), text: String(m.attempts))
                        h.el(.td, text: m.lastError ?? "")
                    }
                }
            }
        }
    }

    // MARK: settings

    static func settings(current: Set<String>, config: ServerConfig, rulesName: String, notice n: String?) -> Response {
        frame(title: "设置", active: "users", tab: "settings") { h in
            h.el(.section, .cls("card"), .id("admin-settings")) { h in
                h.el(.h1, text: "设置")
                h.notice(n)
                h.el(.h2, text: "公开页面")
                h.el(.p, .cls("muted"), text: "除登录页和健康检查外，所有页面和接口都需要登录。勾选的页面允许未登录的访客查看（只读）。")
                h.el(.form, .method("post"), .action("/admin/settings"), .id("settings-form")) { h in
                    h.csrfField()
                    h.void(.input, .type("hidden"), .name("expected"),
                           .value(AdminService.markablePages.map(\.key).filter(current.contains).joined(separator: ",")))
                    h.el(.p) { h in
                        for (i, item) in AdminService.markablePages.enumerated() {
                            if i > 0 { h.void(.br) }
                            h.el(.label, .cls("check")) { h in
                                h.void(.input, .type("checkbox"), .name("public_\(item.key)"), .id("public-\(item.key)"), .value("1"),
                                       .checked(current.contains(item.key)))
                                h.text(" " + item.label)
                            }
                        }
                    }
                    h.el(.button, .type("submit"), .id("settings-save"), text: "保存")
                }
            }
            h.el(.section, .cls("card"), .id("server-facts")) { h in
                h.el(.h2, text: "运行参数（只读）")
                h.el(.dl, .cls("facts")) { h in
                    h.el(.dt, text: "评价规则"); h.el(.dd, text: rulesName)
                    h.el(.dt, text: "数据库"); h.el(.dd, text: config.isPostgres ? "PostgreSQL" : "SQLite")
                    h.el(.dt, text: "上传大小上限"); h.el(.dd, text: "\(config.maxUpload >> 20) MB")
                    h.el(.dt, text: "密码哈希"); h.el(.dd, text: "bcrypt，cost \(config.bcryptCost)")
                    h.el(.dt, text: "会话 Cookie")
                    h.el(.dd, text: "HttpOnly，SameSite=Lax" + (config.secureCookies ? "，Secure" : "（未启用 Secure，部署在 HTTPS 之后请设置 MUJUN_SECURE_COOKIES=1）"))
                }
            }
        }
    }
}
