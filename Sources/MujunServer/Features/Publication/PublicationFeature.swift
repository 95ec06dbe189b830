import Foundation
import Vapor
import MujunCore
import MujunStore

/// Publication of a year's results: draft → publicity period (公示) → final.
extension PublicationStatus: ParameterEnum {}

enum PublicationFeature: Feature {
    static let endpoints: [Endpoint] = [
        .page("/publish", .permission(.publishResults), "评价结果发布 / publication of results", tag: "publication", parameters: NoParameters.self) { req, _ in
            try await page(req, error: nil, status: .ok)
        },
        .form("/publish/:year", .permission(.publishResults), "公示、正式发布或撤回 / start publicity, finalise or return to draft",
              tag: "publication", parameters: YearPath.self, body: PublishForm.self, accepts: [.form]) { req, q, form in
            do {
                try await req.service.publication.change(year: q.year.int, try form.change(), expected: form.from)
            } catch let e as ServiceError where e.kind != .forbidden {
                return try await page(req, error: e.message, status: ErrorMiddleware.status(e.kind))
            }
            return req.redirect(to: "/publish", redirectType: .normal)
        },
    ]

    struct YearPath: Decodable, Sendable { var year: Year }

    struct PublishForm: Decodable, Sendable {
        var action: Action
        var start: String?
        var end: String?
        /// the state the page showed (the change applies only from it)
        var from: PublicationStatus?
        enum Action: String, ParameterEnum { case publicity, final, draft }

        func change() throws -> PublicationService.Change {
            switch action {
            case .publicity:
                return .publicity(start: (start ?? "").trimmingCharacters(in: .whitespaces), end: (end ?? "").trimmingCharacters(in: .whitespaces))
            case .final: return .final
            case .draft: return .draft
            }
        }
    }

    static func page(_ req: Request, error: String?, status: HTTPResponseStatus) async throws -> Response {
        let years = try await req.service.publication.years()
        let today = ChinaDay.today()
        return Page.render(title: "评价结果发布", status: status, active: "publish") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "评价结果发布")
                h.el(.p, .cls("muted"), text: "今天（北京时间）：\(today)")
            }
            h.formError(error)
            h.el(.section, .cls("card")) { h in
                h.el(.p, .cls("muted")) { h in
                    h.text("每个年度的评价结果先为"); h.el(.b, text: "草稿")
                    h.text("（仅管理员和指挥部可见），进入"); h.el(.b, text: "公示")
                    h.text("后企业、镇街可查看，企业可在公示期内提出申诉；申诉全部答复后方可"); h.el(.b, text: "正式发布")
                    h.text("，正式发布的结果进入亩均英雄贷名单。每次变更都记入审计日志。")
                }
                if years.isEmpty {
                    h.el(.p, .id("no-years"), text: "尚无评价结果。请先导入数据并运行评价。")
                    return
                }
                h.table(id: "publications", headers: [("年度", false), ("状态", false), ("公示期", false), ("未答复申诉", true),
                                                       ("当前评价运行", false), ("最近变更", false), ("操作", false)], rows: years) { h, y in
                    row(&h, y, today: today)
                }
            }
        }
    }

    static func row(_ h: inout HTMLWriter, _ y: PublicationService.YearStatus, today: String) {
        let p = y.publication
        h.el(.tr, .data("year", y.year), .data("status", p.status.rawValue)) { h in
            h.el(.td) { h in h.el(.b, text: String(y.year)) }
            h.el(.td, .cls("status"), text: p.status.chinese + (p.inPublicity(day: today) ? "（公示期内）" : ""))
            h.el(.td, text: p.publicityStart.map { "\($0) 至 \(p.publicityEnd ?? "")" } ?? "—")
            h.el(.td, .cls("num")) { h in
                h.el(.a, .href("/appeals?year=\(y.year)"), text: String(y.openAppeals))
                h.text(" / \(y.appeals)")
            }
            h.el(.td, text: y.run.map { "#\($0.id)（\(HTML.dateTime($0.createdAt))）" } ?? "—")
            h.el(.td, text: p.updatedBy.isEmpty ? "—" : "\(p.updatedBy)，\(HTML.dateTime(p.updatedAt))")
            h.el(.td) { h in
                if p.status != .final {
                    let start = p.publicityStart ?? today, end = p.publicityEnd ?? ChinaDay.shift(today, days: 7)
                    h.el(.form, .method("post"), .action("/publish/\(y.year)"), .cls("publicity-form")) { h in
                        h.csrfField()
                        h.void(.input, .type("hidden"), .name("action"), .value("publicity"))
                        h.void(.input, .type("hidden"), .name("from"), .value(p.status.rawValue))
                        h.el(.label) { h in h.text("开始 "); h.void(.input, .type("date"), .name("start"), .value(start), .required) }
                        h.el(.label) { h in h.text("结束 "); h.void(.input, .type("date"), .name("end"), .value(end), .required) }
                        h.el(.button, .type("submit"), text: p.status == .draft ? "开始公示" : "修改公示期")
                    }
                }
                if p.status == .publicity {
                    h.el(.form, .method("post"), .action("/publish/\(y.year)"), .cls("final-form")) { h in
                        h.csrfField()
                        h.void(.input, .type("hidden"), .name("action"), .value("final"))
                        h.void(.input, .type("hidden"), .name("from"), .value(p.status.rawValue))
                        h.el(.button, .type("submit"), .disabled(y.openAppeals > 0), .title(y.openAppeals > 0 ? "尚有申诉未答复" : nil), text: "正式发布")
                    }
                }
                if p.status != .draft {
                    h.el(.form, .method("post"), .action("/publish/\(y.year)"), .cls("draft-form")) { h in
                        h.csrfField()
                        h.void(.input, .type("hidden"), .name("action"), .value("draft"))
                        h.void(.input, .type("hidden"), .name("from"), .value(p.status.rawValue))
                        h.el(.button, .type("submit"), .cls("secondary"), text: "撤回为草稿")
                    }
                }
            }
        }
    }
}
