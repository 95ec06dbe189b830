import Foundation
import Vapor
import MujunCore
import MujunStore

/// The appeal pages and `/my`.
enum AppealViews {
    // MARK: the list

    static func list(principal p: Principal, appeals: [AppealService.View], years: [Int], year: Int?, state: String?,
                     counts: [CaseState: Int]) -> Response {
        Page.render(title: "申诉", active: "appeals") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "申诉")
                switch p.role {
                case .enterprise: h.el(.p, .cls("muted"), text: "本企业提出的申诉")
                case .town: h.el(.p, .cls("muted"), text: "\(p.town ?? "") 辖区企业的申诉")
                default: h.el(.p, .cls("muted"), text: "全市企业的申诉")
                }
            }
            h.el(.form, .id("filters"), .cls("filters"), .method("get"), .action("/appeals")) { h in
                h.el(.label) { h in
                    h.text("年度 ")
                    h.select(name: "year", id: "year", options: [("", "全部")] + years.map { (String($0), String($0)) }, selected: year.map(String.init) ?? "")
                }
                h.el(.label) { h in
                    h.text("状态 ")
                    h.select(name: "state", id: "state", options: [("", "全部")] + CaseState.allCases.map { ($0.rawValue, $0.chinese) }, selected: state ?? "")
                }
                h.el(.button, .type("submit"), text: "查询")
                h.el(.a, .cls("reset"), .href("/appeals"), text: "重置")
            }
            h.el(.p, .cls("muted"), .id("state-counts")) { h in
                for (i, s) in CaseState.allCases.filter({ counts[$0] != nil }).enumerated() {
                    if i > 0 { h.text(" · ") }
                    h.el(.span, .data("state", s.rawValue), text: "\(s.chinese) \(counts[s] ?? 0)")
                }
            }
            table(&h, appeals, id: "appeals-table", title: "申诉列表", showEnterprise: p.role != .enterprise)
            if p.role == .enterprise {
                h.el(.p) { h in h.el(.a, .href("/my#appeals-card"), text: "提出新的申诉 →") }
            }
        }
    }

    /// A table of appeals with its heading (in a card unless `card` is false).
    static func table(_ h: inout HTMLWriter, _ appeals: [AppealService.View], id: String, title: String, showEnterprise: Bool,
                      card: Bool = true) {
        func content(_ h: inout HTMLWriter) {
            h.el(.h2) { h in
                h.text(title + " ")
                h.el(.small, text: "\(appeals.count) 件")
            }
            if appeals.isEmpty {
                h.el(.p, .cls("muted"), .id("\(id)-none"), text: "暂无申诉。")
                return
            }
            var headers: [(String, Bool)] = [("编号", true), ("年度", false)]
            if showEnterprise { headers += [("企业", false), ("镇街", false)] }
            headers += [("数据项", false), ("原值", true), ("申报值", true), ("状态", false), ("结果", false), ("提交时间", false)]
            h.table(id: id, headers: headers, rows: appeals) { h, v in
                let a = v.appeal
                h.el(.tr, .data("appeal-id", a.id), .data("state", a.state)) { h in
                    h.el(.td, .cls("num")) { h in h.el(.a, .href("/appeals/\(a.id)"), text: "#\(a.id)") }
                    h.el(.td, text: String(a.year))
                    if showEnterprise {
                        h.el(.td, .cls("name")) { h in h.el(.a, .href("/appeals/\(a.id)"), text: v.enterpriseName ?? a.creditCode) }
                        h.el(.td, text: a.town)
                    }
                    h.el(.td, text: a.appealField?.chinese ?? a.field)
                    h.el(.td, .cls("num"), text: a.currentValue ?? "—")
                    h.el(.td, .cls("num"), text: a.claimedValue)
                    h.el(.td, .cls("state"), text: a.caseState.chinese)
                    h.el(.td, text: (a.outcome?.chinese ?? "—") + (a.rating.map { "，评价 \($0) 分" } ?? ""))
                    h.el(.td, text: HTML.dateTime(a.createdAt))
                }
            }
        }
        if card {
            h.el(.section, .cls("card"), .id("\(id)-card"), content: content)
        } else {
            content(&h)
        }
    }

    // MARK: one appeal

    static func detail(principal p: Principal, view v: AppealService.View, events: [Store.CaseEvent]) -> Response {
        let a = v.appeal
        return Page.render(title: "申诉 #\(a.id)", active: "appeals") { h in
            h.el(.p, .cls("crumbs")) { h in
                h.el(.a, .href("/appeals"), text: "← 申诉列表")
                if p.role == .enterprise {
                    h.text(" · ")
                    h.el(.a, .href("/my"), text: "本企业评价")
                }
            }
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "申诉 #\(a.id)")
                h.el(.p, .id("appeal-state"), .data("state", a.state)) { h in
                    h.text("状态：")
                    h.el(.b, text: a.caseState.chinese)
                }
            }
            h.el(.div, .cls("overview")) { h in
                facts(&h, v)
                h.el(.section, .cls("card"), .id("appeal-answer")) { h in
                    answer(&h, v)
                    actions(&h, p, a)
                }
            }
            h.el(.section, .cls("card")) { h in
                h.el(.h2, text: "办理记录")
                h.table(id: "events", headers: [("时间", false), ("操作人", false), ("状态变化", false), ("说明", false)], rows: events) { h, e in
                    let from = e.fromState.flatMap(CaseState.init(rawValue:))?.chinese ?? "—"
                    let to = CaseState(rawValue: e.toState)?.chinese ?? e.toState
                    h.el(.tr, .data("to", e.toState)) { h in
                        h.el(.td, text: HTML.dateTime(e.at))
                        h.el(.td, text: e.actor)
                        h.el(.td, text: "\(from) → \(to)")
                        h.el(.td, .style("white-space: pre-wrap"), text: e.note)
                    }
                }
            }
        }
    }

    static func facts(_ h: inout HTMLWriter, _ v: AppealService.View) {
        let a = v.appeal
        h.el(.section, .cls("card"), .id("appeal-facts")) { h in
            h.el(.h2, text: "申诉内容")
            h.el(.dl, .cls("facts")) { h in
                h.el(.dt, text: "企业"); h.el(.dd, .id("appeal-enterprise"), text: v.enterpriseName ?? a.creditCode)
                h.el(.dt, text: "统一社会信用代码"); h.el(.dd, text: a.creditCode)
                h.el(.dt, text: "镇街"); h.el(.dd, text: a.town)
                h.el(.dt, text: "评价年度"); h.el(.dd, text: String(a.year))
                h.el(.dt, text: "申诉数据项"); h.el(.dd, .id("appeal-field"), .data("field", a.field), text: a.appealField?.chinese ?? a.field)
                h.el(.dt, text: "原值"); h.el(.dd, .id("current-value"), text: a.currentValue ?? "—")
                h.el(.dt, text: "申报值"); h.el(.dd, .id("claimed-value"), text: a.claimedValue)
                h.el(.dt, text: "申诉理由"); h.el(.dd, .id("appeal-reason"), .style("white-space: pre-wrap"), text: a.reason)
                h.el(.dt, text: "证明材料")
                h.el(.dd, .id("appeal-attachment")) { h in
                    if let name = a.attachmentName { h.el(.a, .href("/appeals/\(a.id)/attachment"), text: name) } else { h.text("无") }
                }
                h.el(.dt, text: "提交"); h.el(.dd, text: "\(a.filedBy)，\(HTML.dateTime(a.createdAt))")
            }
        }
    }

    static func answer(_ h: inout HTMLWriter, _ v: AppealService.View) {
        let a = v.appeal
        h.el(.h2, text: "答复")
        if let answer = a.answer {
            h.el(.dl, .cls("facts")) { h in
                h.el(.dt, text: "结果")
                h.el(.dd, .id("appeal-outcome"), .data("outcome", a.outcome?.rawValue ?? "")) { h in h.el(.b, text: a.outcome?.chinese ?? "—") }
                h.el(.dt, text: "答复意见"); h.el(.dd, .id("answer-text"), .style("white-space: pre-wrap"), text: answer)
                h.el(.dt, text: "答复人"); h.el(.dd, text: (a.decidedBy ?? "") + (a.decidedAt.map { "，" + HTML.dateTime($0) } ?? ""))
                if let r = a.rating {
                    h.el(.dt, text: "企业评价")
                    h.el(.dd, .id("appeal-rating"), .data("rating", r),
                         text: "\(String(repeating: "★", count: r))\(String(repeating: "☆", count: max(0, 5 - r))) \(r) 分")
                }
            }
        } else {
            h.el(.p, .cls("muted"), text: "尚未答复。")
        }
        if let before = v.before, let after = v.after {
            h.el(.h3, text: "更正前后评价结果")
            h.el(.table, .cls("data"), .id("before-after")) { h in
                h.el(.thead) { h in h.el(.tr) { h in h.el(.th); h.el(.th, text: "更正前"); h.el(.th, text: "更正后") } }
                h.el(.tbody) { h in
                    h.el(.tr, .data("row", "class")) { h in
                        h.el(.td, text: "分类")
                        h.el(.td) { h in h.classBadge(before.finalClass?.rawValue) }
                        h.el(.td) { h in h.classBadge(after.finalClass?.rawValue) }
                    }
                    h.el(.tr, .data("row", "total")) { h in
                        h.el(.td, text: "总分")
                        h.el(.td, .cls("num before"), text: HTML.num(before.totalScore))
                        h.el(.td, .cls("num after"), text: HTML.num(after.totalScore))
                    }
                    h.el(.tr, .data("row", "rank")) { h in
                        h.el(.td, text: "组内排名")
                        h.el(.td, .cls("num"), text: before.rank.map(String.init) ?? "—")
                        h.el(.td, .cls("num"), text: after.rank.map(String.init) ?? "—")
                    }
                    h.el(.tr, .data("row", "land")) { h in
                        h.el(.td, text: "用地面积(亩)")
                        h.el(.td, .cls("num"), text: HTML.num(before.landMu))
                        h.el(.td, .cls("num"), text: HTML.num(after.landMu))
                    }
                }
            }
        }
    }

    /// What the reader can do next: sign for it, reply, or (its enterprise) rate the reply.
    static func actions(_ h: inout HTMLWriter, _ p: Principal, _ a: Store.Appeal) {
        let state = a.caseState
        if AccessPolicy.allows(p.role, .decideAppeal) {
            if state == .assigned {
                h.el(.form, .method("post"), .action("/appeals/\(a.id)/accept"), .id("accept-form")) { h in
                    h.csrfField()
                    h.el(.p) { h in
                        h.el(.label) { h in
                            h.text("签收说明（可选） ")
                            h.void(.input, .type("text"), .name("note"), .attr("maxlength", AppealService.maxNote))
                        }
                        h.text(" ")
                        h.el(.button, .type("submit"), text: "签收")
                    }
                }
            } else if state == .accepted || state == .handling {
                h.el(.h3, text: "答复")
                h.el(.form, .method("post"), .action("/appeals/\(a.id)/decide"), .id("decide-form")) { h in
                    h.csrfField()
                    h.el(.p) { h in
                        h.el(.label) { h in
                            h.void(.input, .type("radio"), .name("outcome"), .value("upheld"), .required)
                            h.text(" 支持（更正数据并重新评价）")
                        }
                        h.el(.label) { h in
                            h.void(.input, .type("radio"), .name("outcome"), .value("rejected"))
                            h.text(" 驳回")
                        }
                    }
                    h.el(.p) { h in
                        h.el(.label) { h in
                            h.text("更正值（支持时适用，留空则按申报值 \(a.claimedValue)） ")
                            h.void(.input, .type("text"), .attr("inputmode", "decimal"), .name("corrected_value"), .placeholder(a.claimedValue))
                        }
                    }
                    h.el(.p) { h in
                        h.el(.label, .for("answer"), text: "书面答复（必填，企业可见）")
                        h.el(.textarea, .name("answer"), .id("answer"), .attr("maxlength", AppealService.maxAnswer), .required, .attr("rows", 4))
                    }
                    h.el(.p) { h in h.el(.button, .type("submit"), text: "提交答复") }
                }
            }
        }
        if p.role == .enterprise, p.creditCode == a.creditCode, state == .replied {
            h.el(.h3, text: "评价答复")
            h.el(.form, .method("post"), .action("/appeals/\(a.id)/rate"), .id("rate-form")) { h in
                h.csrfField()
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("满意度 ")
                        h.el(.select, .name("rating"), .required) { h in
                            for r in stride(from: 5, through: 1, by: -1) {
                                h.el(.option, .value(r), text: "\(r) 分\(r == 5 ? "（非常满意）" : r == 1 ? "（不满意）" : "")")
                            }
                        }
                    }
                    h.text(" ")
                    h.el(.button, .type("submit"), text: "评价并销号")
                }
            }
        }
    }

    // MARK: /my

    static func noEnterprise(status: HTTPResponseStatus) -> Response {
        Page.render(title: "本企业评价", status: status, active: "my") { h in
            h.el(.section, .cls("card empty"), .id("no-enterprise")) { h in
                h.el(.h1, text: "账号未关联企业")
                h.el(.p, text: "本账号没有关联统一社会信用代码，请联系管理员。")
            }
        }
    }

    static func my(_ v: MyView, status: HTTPResponseStatus) -> Response {
        guard let result = v.result, let year = v.year, let publication = v.publication else {
            return Page.render(title: "本企业评价", status: status, active: "my") { h in
                h.formError(v.error)
                h.el(.section, .cls("card empty"), .id("no-result")) { h in
                    h.el(.h1, text: "本企业暂无已公示的评价结果")
                    h.el(.p, text: "亩均效益评价结果经指挥部公示后，将在这里显示本企业的指标、基准值、分类、适用政策和提升空间。")
                    h.el(.p, .cls("muted")) { h in
                        h.text("统一社会信用代码：")
                        h.el(.code, text: PageContext.identity?.principal.creditCode ?? "")
                        h.text("。如对本企业数据有疑问，请联系所在镇街经发办。")
                    }
                }
                consent(&h, consent: v.consent, result: nil, rules: v.rules)
                table(&h, v.appeals, id: "my-appeals", title: "我的申诉", showEnterprise: false)
            }
        }
        return Page.render(title: "\(result.name) · \(year) 年度亩均评价", status: status, active: "my",
                           head: Page.Head.chart + [.script("/static/enterprise.js")]) { h in
            h.formError(v.error)
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "本企业亩均评价 · \(year) 年度")
                h.yearLinks(label: "评价年度：", years: v.years, current: year) { "/my?year=\($0)" }
            }
            h.el(.p, .cls("card"), .id("publication-status"), .data("status", publication.status.rawValue)) { h in
                h.text("结果状态：")
                h.el(.b, text: publication.status.chinese)
                if publication.status == .publicity, let s = publication.publicityStart, let e = publication.publicityEnd {
                    h.text("，公示期 \(s) 至 \(e)\(publication.inPublicity(day: v.today) ? "，公示期内可对本企业数据提出申诉" : "")")
                }
            }
            // the enterprise page: indicators vs benchmarks, class, policies, gap, history
            h.append(RankingViews.enterprise(EnterpriseView(result: result, history: v.history, years: v.years),
                                             crumbs: false, yearHref: { "/my?year=\($0)" }))
            consent(&h, consent: v.consent, result: result, rules: v.rules)
            h.append(v.parcels)
            h.el(.section, .cls("card"), .id("appeals-card")) { h in
                table(&h, v.appeals, id: "my-appeals", title: "我的申诉", showEnterprise: false, card: false)
                if publication.inPublicity(day: v.today) {
                    appealForm(&h, year: year, figures: v.figures, form: v.form)
                } else {
                    h.el(.p, .cls("notice"), .id("appeal-closed"), text: closedText(year: year, publication, today: v.today))
                }
            }
        }
    }

    static func closedText(year: Int, _ p: Store.Publication, today: String) -> String {
        switch p.status {
        case .publicity:
            let s = p.publicityStart ?? "", e = p.publicityEnd ?? ""
            return today < s ? "\(year) 年度评价结果的公示期为 \(s) 至 \(e)，公示期开始后可在此提出申诉。"
                : "\(year) 年度评价结果的公示期（\(s) 至 \(e)）已结束，不再受理申诉。"
        case .final:
            return "\(year) 年度评价结果已正式发布\(p.publicityStart.map { "（公示期 \($0) 至 \(p.publicityEnd ?? "")）" } ?? "")，不再受理申诉。"
        case .draft:
            return "\(year) 年度评价结果尚未公示。"
        }
    }

    static func consent(_ h: inout HTMLWriter, consent: Bool, result: EnterpriseResult?, rules: Rules) {
        h.el(.section, .cls("card"), .id("consent")) { h in
            h.el(.h2, text: "亩均英雄贷授权")
            h.el(.p, .id("consent-state"), .data("consent", consent)) { h in
                h.text("当前：")
                h.el(.b, text: consent ? "已同意向合作银行提供本企业分类和得分" : "未同意")
            }
            h.el(.form, .method("post"), .action("/my/consent"), .id("consent-form")) { h in
                h.csrfField()
                h.void(.input, .type("hidden"), .name("consent"), .value(consent ? "0" : "1"))
                h.el(.button, .type("submit"), .id("consent-toggle"), .cls(consent ? "secondary" : nil),
                     text: consent ? "撤回同意" : "同意向合作银行提供本企业分类和得分")
            }
            h.el(.p, .cls("muted"), text: "亩均英雄贷：同意后，结果正式发布且本企业为可申请分类时，合作银行可看到本企业的名称、统一社会信用代码、镇街、规模、分类和总分（不含其他数据），并据此给予授信优惠。可随时撤回。")
            if let fc = result?.finalClass, let pol = rules.policy(for: fc) {
                if pol.creditEligible {
                    var terms: [String] = []
                    if let d = pol.creditRateDiscount { terms.append("利率优惠 \(formatNumber(d)) 个百分点") }
                    if let m = pol.creditLineMultiple { terms.append("授信额度 \(formatNumber(m)) 倍") }
                    h.el(.p, .id("credit-terms-own"), text: "本企业 \(fc.rawValue) 类可申请亩均英雄贷\(terms.isEmpty ? "" : "：" + terms.joined(separator: "，"))。")
                } else {
                    h.el(.p, .id("credit-terms-own"), .cls("muted"), text: "本企业 \(fc.rawValue) 类不在亩均英雄贷可申请范围内。")
                }
            }
        }
    }

    static func appealForm(_ h: inout HTMLWriter, year: Int, figures: [AppealField: Double], form: AppealsFeature.AppealInput?) {
        h.el(.h3, text: "提出申诉")
        h.el(.p, .cls("muted"), text: "对 \(year) 年度评价所用的本企业数据有异议的，可在公示期内提出申诉，写明理由并附证明材料；指挥部将书面答复，支持的申诉将更正数据并重新评价。")
        h.table(id: "current-figures", headers: [("数据项", false), ("当前值", true)], rows: AppealField.allCases) { h, f in
            h.el(.tr, .data("field", f.rawValue)) { h in
                h.el(.td, text: f.chinese)
                h.el(.td, .cls("num"), text: figures[f].map(formatNumber) ?? "—")
            }
        }
        h.el(.form, .id("appeal-form"), .method("post"), .action("/my/appeals"), .attr("enctype", "multipart/form-data")) { h in
            h.csrfField()
            h.void(.input, .type("hidden"), .name("year"), .value(year))
            h.el(.p) { h in
                h.el(.label) { h in
                    h.text("申诉数据项 ")
                    h.select(name: "field", id: "appeal-field",
                             options: [("", "请选择")] + AppealField.allCases.map { ($0.rawValue, "\($0.chinese)（当前 \(figures[$0].map(formatNumber) ?? "空")）") },
                             selected: form?.field ?? "", attrs: [.required])
                }
                h.el(.label) { h in
                    h.text("申报值 ")
                    h.void(.input, .type("text"), .attr("inputmode", "decimal"), .name("claimed_value"), .id("claimed-value"), .required,
                           .value(form?.claimedValue.text ?? ""))
                }
            }
            h.el(.p) { h in
                h.el(.label, .for("appeal-reason"), text: "申诉理由（必填，不超过 \(AppealService.maxReason) 字）")
                h.el(.textarea, .name("reason"), .id("appeal-reason"), .attr("maxlength", AppealService.maxReason), .required,
                     .attr("rows", 5), text: form?.reason)
            }
            h.el(.p) { h in
                h.el(.label) { h in
                    h.text("证明材料（可选，PDF、JPG 或 PNG，不超过 10 MB） ")
                    h.void(.input, .type("file"), .name("attachment"), .id("appeal-attachment"),
                           .attr("accept", ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"))
                }
            }
            h.el(.p) { h in h.el(.button, .type("submit"), .id("appeal-submit"), text: "提交申诉") }
        }
    }
}
