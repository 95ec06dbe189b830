import Foundation
import Vapor
import MujunCore
import MujunStore

/// The pages of challenges (揭榜挂帅): `/challenges` (the notices), `/challenges/new` (发榜),
/// `/challenges/:id` (the enterprise's application form or its own application; for HQ the
/// applications ranked by the experts' scores, the experts' assignment, the award and the
/// reward's tranches) and the expert's `/reviews` with its score sheets.
enum ChallengeViews {
    static func stageBadge(_ h: inout HTMLWriter, _ s: ChallengeStage) {
        h.el(.span, .cls("cstage cstage-\(s.rawValue)"), .data("stage", s.rawValue), text: s.chinese)
    }

    static func applicationState(_ raw: String) -> String {
        switch raw {
        case "won": "中榜"
        case "lost": "未入选"
        default: "已提交"
        }
    }

    static func score(_ x: Double?) -> String { x.map { String(format: "%.1f", $0) } ?? "—" }

    // MARK: the list

    static func list(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let items = try await req.service.challenges.list()
        let manage = AccessPolicy.allows(p.role, .manageChallenges)
        return Page.render(title: "揭榜挂帅", active: "challenges") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: "揭榜挂帅")
                h.el(.p, text: p.role == .enterprise
                     ? "榜单公开征集攻关方案。截止日期前，本企业可在榜单页揭榜（允许联合体的榜单可列出联合体成员）。"
                     : "发榜 → 揭榜 → 专家评审遴选 → 立项（军令状）→ 里程碑考核 → 验收 → 奖励分期兑现。")
                if manage { h.el(.p) { h in h.el(.a, .href("/challenges/new"), .id("new-challenge"), .cls("button"), text: "发榜") } }
            }
            h.table(id: "challenges-table", headers: [("编号", false), ("榜单", false), ("奖励（万元）", true), ("揭榜截止", false),
                                                       ("责任镇街", false), ("牵头部门", false), ("状态", false),
                                                       (p.role == .enterprise ? "本企业" : "申请", p.role != .enterprise)],
                    rows: items, empty: "暂无榜单。") { h, i in
                let r = i.record
                h.el(.tr, .data("ref", r.ref), .data("stage", i.stage.rawValue)) { h in
                    h.el(.td, text: r.ref)
                    h.el(.td) { h in h.el(.a, .href("/challenges/\(r.id)"), text: r.title) }
                    h.el(.td, .cls("num"), text: HTML.num(r.reward))
                    h.el(.td, text: r.deadline)
                    h.el(.td, text: r.town)
                    h.el(.td, text: r.leadUnit)
                    h.el(.td) { h in stageBadge(&h, i.stage) }
                    if p.role == .enterprise {
                        h.el(.td, .cls("own"), text: i.own.map { "已揭榜（\(applicationState($0.state))）" } ?? (i.stage == .open ? "可揭榜" : "—"))
                    } else {
                        h.el(.td, .cls("num"), text: String(i.applications))
                    }
                }
            }
        }
    }

    // MARK: 发榜

    static func newForm(_ req: Request, input: ChallengesFeature.NewChallengeInput?, error: String?, status: HTTPResponseStatus = .ok) -> Response {
        let towns = req.application.serviceContext.rules.towns
        let deadline = CalendarDate(ChinaDay.today())!.adding(months: 1)
        return Page.render(title: "发榜", status: status, active: "challenges") { h in
            h.el(.section, .cls("page-head")) { h in h.el(.h1, .id("page-title"), text: "发榜：揭榜挂帅") }
            h.formError(error)
            h.el(.form, .method("post"), .action("/challenges/new"), .id("challenge-form"), .cls("card")) { h in
                h.csrfField()
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("榜单名称 ")
                        h.void(.input, .type("text"), .name("title"), .id("c-title"), .required, .value(input?.title ?? ""), .attr("size", 40))
                    }
                }
                h.el(.p) { h in
                    h.el(.label, .for("c-problem"), text: "需攻关的关键技术问题")
                    h.el(.textarea, .name("problem"), .id("c-problem"), .attr("rows", 5), .required, text: input?.problem ?? "")
                }
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("奖励（万元） ")
                        h.void(.input, .type("number"), .name("reward"), .id("c-reward"), .attr("step", "any"), .attr("min", "0"), .required,
                               .value(input?.reward.text ?? ""))
                    }
                    h.text(" ")
                    h.el(.label) { h in
                        h.text("揭榜截止日期 ")
                        h.void(.input, .type("date"), .name("deadline"), .id("c-deadline"), .required, .value(input?.deadline ?? deadline.description))
                    }
                    h.text(" ")
                    h.el(.label) { h in
                        h.void(.input, .type("checkbox"), .name("consortium"), .id("c-consortium"), .value("on"),
                               .checked(input.map { $0.consortium != nil } ?? true))
                        h.text(" 允许联合体揭榜")
                    }
                }
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("责任镇街 ")
                        h.select(name: "town", id: "c-town", options: towns.map { ($0, $0) }, selected: input?.town)
                    }
                    h.text(" ")
                    h.el(.label) { h in
                        h.text("牵头部门 ")
                        h.void(.input, .type("text"), .name("lead_unit"), .id("c-lead"), .required, .value(input?.leadUnit ?? "科技局"))
                    }
                }
                h.el(.p) { h in
                    h.el(.label, .for("c-eligibility"), text: "揭榜条件")
                    h.el(.textarea, .name("eligibility"), .id("c-eligibility"), .attr("rows", 3), text: input?.eligibility ?? "")
                }
                h.el(.button, .type("submit"), .id("challenge-submit"), text: "发榜")
            }
        }
    }

    // MARK: one challenge

    /// A step on the challenge page: done, back to the page; refused, the page with the message.
    static func step(_ req: Request, id: Int64, anchor: String, _ body: () async throws -> Void) async throws -> Response {
        do {
            try await body()
            return req.redirect(to: "/challenges/\(id)#\(anchor)", redirectType: .normal)
        } catch let e as ServiceError where e.kind != .forbidden && e.kind != .notFound {
            return try await detail(req, id: id, error: e.message, status: ErrorMiddleware.status(e.kind))
        }
    }

    static func detail(_ req: Request, id: Int64, error: String?, status: HTTPResponseStatus = .ok) async throws -> Response {
        let v = try await req.service.challenges.view(id: id)
        let role = try req.principal().role
        let r = v.record
        let sheet = req.application.serviceContext.projectTypes.scoreSheet
        return Page.render(title: "揭榜挂帅 \(r.ref)", status: status, active: "challenges") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: "\(r.ref) \(r.title)")
                h.el(.p) { h in
                    stageBadge(&h, v.stage)
                    h.text(" 奖励 \(HTML.num(r.reward)) 万元 · 揭榜截止 \(r.deadline)")
                    if let pid = r.projectId {
                        h.text(" · ")
                        h.el(.a, .href("/projects/\(pid)"), .id("challenge-project"), text: "立项项目")
                    }
                }
            }
            h.formError(error)
            h.el(.section, .cls("card"), .id("facts")) { h in
                h.el(.h2, text: "榜单")
                h.el(.dl, .cls("facts")) { h in
                    func row(_ h: inout HTMLWriter, _ k: String, _ val: String) { h.el(.dt, text: k); h.el(.dd, text: val) }
                    row(&h, "需攻关的问题", r.problem)
                    row(&h, "揭榜条件", r.eligibility.isEmpty ? "—" : r.eligibility)
                    row(&h, "联合体", r.consortium ? "允许" : "不接受")
                    row(&h, "责任镇街", r.town)
                    row(&h, "牵头部门", r.leadUnit)
                    row(&h, "发榜日期", r.publishedOn)
                    if let pledge = r.pledge { row(&h, r.state == "closed" ? "流榜原因" : "军令状目标", pledge) }
                }
            }
            if let own = v.own {
                h.el(.section, .cls("card"), .id("own")) { h in
                    h.el(.h2, text: "本企业的揭榜申请")
                    h.el(.dl, .cls("facts")) { h in
                        func row(_ h: inout HTMLWriter, _ k: String, _ val: String, id: String? = nil) { h.el(.dt, text: k); h.el(.dd, .id(id), text: val) }
                        row(&h, "状态", applicationState(own.state), id: "own-state")
                        row(&h, "提交日期", own.filedOn)
                        if !own.partners.isEmpty { row(&h, "联合体成员", own.partnerCodes.joined(separator: "、"), id: "own-partners") }
                        row(&h, "攻关方案", own.plan)
                        row(&h, "联系人", own.contact)
                    }
                }
            } else if v.canApply {
                h.el(.form, .method("post"), .action("/challenges/\(r.id)/applications"), .id("apply-form"), .cls("card")) { h in
                    h.csrfField()
                    h.el(.h2, text: "揭榜")
                    h.el(.p) { h in
                        h.el(.label, .for("apply-plan"), text: "攻关方案（技术路线、团队、进度、经费）")
                        h.el(.textarea, .name("plan"), .id("apply-plan"), .attr("rows", 6), .required, text: "")
                    }
                    if r.consortium {
                        h.el(.p) { h in
                            h.el(.label, .for("apply-partners"), text: "联合体成员的统一社会信用代码（每行一个；单独揭榜留空）")
                            h.el(.textarea, .name("partners"), .id("apply-partners"), .attr("rows", 2), text: "")
                        }
                    }
                    h.el(.p) { h in
                        h.el(.label) { h in
                            h.text("联系人及电话 ")
                            h.void(.input, .type("text"), .name("contact"), .id("apply-contact"), .required)
                        }
                    }
                    h.el(.button, .type("submit"), .id("apply-submit"), text: "提交揭榜申请")
                }
            } else if role == .enterprise {
                h.el(.p, .cls("card"), .id("apply-closed"), text: "揭榜已截止（\(r.deadline)），不再受理申请。")
            }
            if !v.entries.isEmpty || v.canManage {
                h.el(.section, .cls("card"), .id("applications")) { h in
                    h.el(.h2, text: "揭榜申请与专家评分（满分 \(sheet.maxTotal)）")
                    h.table(id: "applications-table", headers: [("排名", true), ("申请单位", false), ("联合体", false), ("提交日期", false),
                                                                 ("专家评分", false), ("平均分", true), ("状态", false)],
                            rows: v.entries, empty: "尚无揭榜申请。") { h, e in
                        let a = e.application
                        h.el(.tr, .data("application", a.id), .data("code", a.creditCode)) { h in
                            h.el(.td, .cls("num"), text: e.mean == nil ? "—" : String(e.rank))
                            h.el(.td, text: a.enterprise)
                            h.el(.td, text: a.partners.isEmpty ? "—" : a.partnerCodes.joined(separator: "、"))
                            h.el(.td, text: a.filedOn)
                            h.el(.td, .cls("reviews")) { h in
                                if e.reviews.isEmpty { h.text("未分配") }
                                for (i, rv) in e.reviews.enumerated() {
                                    if i > 0 { h.text("；") }
                                    h.text("\(rv.expert) \(rv.total.map { String(format: "%.1f", $0) } ?? "待评")")
                                }
                            }
                            h.el(.td, .cls("num mean"), text: score(e.mean))
                            h.el(.td, text: applicationState(a.state))
                        }
                    }
                    if v.canManage && r.state == "open" && !v.entries.isEmpty {
                        h.el(.form, .method("post"), .action("/challenges/\(r.id)/experts"), .id("assign-form")) { h in
                            h.csrfField()
                            h.el(.h3, text: "分配评审专家")
                            h.el(.p) { h in
                                h.text("专家：")
                                if v.experts.isEmpty { h.text("尚无专家账号（管理员在「用户」中添加角色为专家的账号）。") }
                                for x in v.experts {
                                    h.el(.label) { h in
                                        h.void(.input, .type("checkbox"), .name("experts[]"), .value(String(x.id)), .id("expert-\(x.id)"))
                                        h.text(" \(x.name)（\(x.unit)） ")
                                    }
                                }
                            }
                            h.el(.p) { h in
                                h.text("申请（不勾选即全部）：")
                                for e in v.entries {
                                    h.el(.label) { h in
                                        h.void(.input, .type("checkbox"), .name("applications[]"), .value(String(e.application.id)))
                                        h.text(" \(e.application.enterprise) ")
                                    }
                                }
                            }
                            h.el(.button, .type("submit"), .id("assign-submit"), text: "分配评审")
                        }
                    }
                    if v.canManage && v.stage == .reviewing && !v.entries.isEmpty {
                        h.el(.form, .method("post"), .action("/challenges/\(r.id)/award"), .id("award-form")) { h in
                            h.csrfField()
                            h.void(.input, .type("hidden"), .name("version"), .value(String(r.version)))
                            h.el(.h3, text: "确定中榜单位并立项")
                            h.el(.p) { h in
                                h.el(.label) { h in
                                    h.text("中榜单位 ")
                                    h.select(name: "application", id: "award-application",
                                             options: v.entries.map { (String($0.application.id), "\($0.application.enterprise)（\(score($0.mean))）") },
                                             selected: v.entries.first.map { String($0.application.id) })
                                }
                            }
                            h.el(.p) { h in
                                h.el(.label, .for("award-pledge"), text: "军令状目标（可量化的攻关指标与期限）")
                                h.el(.textarea, .name("pledge"), .id("award-pledge"), .attr("rows", 3), .required, text: "")
                            }
                            h.el(.p) { h in
                                for (i, m) in v.toPlan.enumerated() {
                                    h.el(.label) { h in
                                        h.text("\(m.name)计划 ")
                                        h.void(.input, .type("date"), .name("planned[]"), .id("award-planned-\(i + 1)"), .required, .value(m.planned.description))
                                    }
                                    h.text(" ")
                                }
                            }
                            h.el(.button, .type("submit"), .id("award-submit"), text: "立项")
                        }
                        h.el(.form, .method("post"), .action("/challenges/\(r.id)/close"), .id("close-form")) { h in
                            h.csrfField()
                            h.el(.label) { h in
                                h.text("流榜原因 ")
                                h.void(.input, .type("text"), .name("reason"), .id("close-reason"), .required)
                            }
                            h.el(.button, .type("submit"), .id("close-submit"), text: "流榜")
                        }
                    }
                }
            }
            if !v.tranches.isEmpty {
                h.el(.section, .cls("card"), .id("tranches")) { h in
                    h.el(.h2, text: "奖励兑现")
                    h.table(id: "tranches-table", headers: [("批次", true), ("兑现节点", false), ("比例", true), ("金额（万元）", true), ("状态", false)],
                            rows: v.tranches) { h, t in
                        let payable = t.paidOn == nil && v.doneMilestones.contains(t.milestone)
                        h.el(.tr, .data("seq", t.seq), .data("paid", t.paidOn != nil)) { h in
                            h.el(.td, .cls("num"), text: String(t.seq))
                            h.el(.td, text: t.milestone)
                            h.el(.td, .cls("num"), text: "\(t.share)%")
                            h.el(.td, .cls("num"), text: HTML.num(t.amount))
                            h.el(.td) { h in
                                if let paid = t.paidOn { h.text("已兑现 \(paid)") }
                                else if payable && v.canManage {
                                    h.el(.form, .method("post"), .action("/challenges/\(r.id)/payments"), .cls("inline")) { h in
                                        h.csrfField()
                                        h.void(.input, .type("hidden"), .name("seq"), .value(String(t.seq)))
                                        h.el(.button, .type("submit"), .id("pay-\(t.seq)"), text: "兑现")
                                    }
                                } else { h.text(payable ? "应兑现" : "节点未完成") }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: the expert's reviews

    static func reviews(_ req: Request) async throws -> Response {
        let list = try await req.service.challenges.assignments()
        let scored = try? req.query.get(Int64.self, at: "scored")
        return Page.render(title: "评审任务", active: "reviews") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: "评审任务")
                h.el(.p, text: "只列出分配给您的揭榜申请。按评分表打分；榜单立项前可修改。")
            }
            if scored != nil { h.notice("评分已提交。") }
            h.table(id: "reviews-table", headers: [("榜单", false), ("申请单位", false), ("分配日期", false), ("总分", true), ("", false)],
                    rows: list, empty: "暂无分配给您的评审任务。") { h, a in
                h.el(.tr, .data("application", a.application.id)) { h in
                    h.el(.td, text: "\(a.challenge.ref) \(a.challenge.title)")
                    h.el(.td, text: a.application.enterprise)
                    h.el(.td, text: a.review.assignedOn)
                    h.el(.td, .cls("num total"), text: a.review.total.map { String(format: "%.1f", $0) } ?? "待评")
                    h.el(.td) { h in
                        h.el(.a, .href("/reviews/\(a.application.id)"), text: a.open ? (a.review.total == nil ? "评分" : "修改评分") : "查看")
                    }
                }
            }
        }
    }

    static func review(_ req: Request, application id: Int64, input: ChallengesFeature.ScoreInput?, error: String?,
                       status: HTTPResponseStatus = .ok) async throws -> Response {
        let a = try await req.service.challenges.assignment(application: id)
        let sheet = req.application.serviceContext.projectTypes.scoreSheet
        let current = a.review.sheet
        return Page.render(title: "评审 \(a.challenge.ref)", status: status, active: "reviews") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: "评审：\(a.application.enterprise)")
                h.el(.p, text: "\(a.challenge.ref) \(a.challenge.title) · 揭榜截止 \(a.challenge.deadline)")
            }
            h.formError(error)
            h.el(.section, .cls("card"), .id("application")) { h in
                h.el(.dl, .cls("facts")) { h in
                    func row(_ h: inout HTMLWriter, _ k: String, _ val: String) { h.el(.dt, text: k); h.el(.dd, text: val) }
                    row(&h, "需攻关的问题", a.challenge.problem)
                    row(&h, "申请单位", a.application.enterprise)
                    if !a.application.partners.isEmpty { row(&h, "联合体成员", a.application.partnerCodes.joined(separator: "、")) }
                    row(&h, "攻关方案", a.application.plan)
                    row(&h, "提交日期", a.application.filedOn)
                }
            }
            h.el(.form, .method("post"), .action("/reviews/\(id)"), .id("score-form"), .cls("card")) { h in
                h.csrfField()
                h.el(.h2, text: "评分表（满分 \(sheet.maxTotal)）")
                h.table(id: "score-sheet", headers: [("评分项", false), ("满分", true), ("得分", true)], rows: sheet.criteria) { h, c in
                    h.el(.tr, .data("criterion", c.key)) { h in
                        h.el(.td, text: c.name)
                        h.el(.td, .cls("num"), text: String(c.max))
                        h.el(.td) { h in
                            h.void(.input, .type("number"), .name("scores[\(c.key)]"), .id("score-\(c.key)"), .attr("min", "0"),
                                   .attr("max", String(c.max)), .attr("step", "0.5"), .required, .disabled(!a.open),
                                   .value(input?.scores[c.key]?.text ?? current[c.key].map { formatNumber($0) } ?? ""))
                        }
                    }
                }
                h.el(.p) { h in
                    h.el(.label, .for("score-comment"), text: "评审意见")
                    h.el(.textarea, .name("comment"), .id("score-comment"), .attr("rows", 3), .disabled(!a.open),
                         text: input?.comment ?? a.review.comment ?? "")
                }
                if a.open { h.el(.button, .type("submit"), .id("score-submit"), text: "提交评分") }
                else { h.el(.p, .id("score-locked"), text: "榜单已立项或已流榜，评分已锁定。") }
            }
        }
    }
}
