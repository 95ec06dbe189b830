import Foundation
import Vapor
import MujunCore
import MujunStore

/// `/projects/bulletin` (项目推进通报): today's bulletin by town and by lead department, with its
/// chart and Excel export, the form that issues it, and the bulletins issued — each reopened
/// from the history recorded by its issue and checked against the SHA-256 it was issued with.
enum BulletinViews {
    struct ChartData: Encodable {
        var units: [String]
        var completed: [Int], on_track: [Int], late: [Int], not_started: [Int]
        var progress: [Double]
    }

    static func pct(_ x: Double?) -> String { x.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }

    /// The live bulletin (`record` nil) or an issued one.
    static func page(_ req: Request, issued: (record: Store.ProjectBulletinRecord, intact: Bool)?, bulletin b: ProjectBulletin,
                     error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let list = try await req.service.projects.issuedBulletins()
        let data = ChartData(units: b.towns.map(\.unit), completed: b.towns.map(\.completed), on_track: b.towns.map(\.onTrack),
                             late: b.towns.map(\.late), not_started: b.towns.map(\.notStarted),
                             progress: b.towns.map { ($0.progress * 1000).rounded() / 10 })
        let title = issued.map { "\($0.record.title)（\($0.record.number)）" } ?? "项目推进情况通报（截至 \(b.asOf)）"
        let xlsx = issued.map { "/projects/bulletins/\($0.record.id).xlsx" } ?? "/projects/bulletin.xlsx"
        return Page.render(title: "项目推进通报", status: status, active: "projects",
                           head: Page.Head.chart + [.script("/static/project-bulletin.js")]) { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: title)
                h.el(.p) { h in
                    if let i = issued {
                        h.text("发布日期 \(i.record.issuedOn) · 发布人 \(i.record.issuedBy) · ")
                        h.el(.span, .id("bulletin-check"), .data("intact", i.intact),
                             text: i.intact ? "按发布时的记录重算，与发布内容逐字节一致（SHA-256 \(i.record.sha256.prefix(16))…）"
                                            : "警告：按发布时的记录重算，与发布内容不一致")
                        h.text(" · ")
                        h.el(.a, .href("/projects/bulletin"), text: "今日通报")
                    } else {
                        h.text("截至 \(b.asOf)，\(b.year) 年度目标。")
                    }
                    h.text(" ")
                    h.el(.a, .cls("button secondary"), .id("export-xlsx"), .href(xlsx), text: "导出 Excel")
                }
            }
            h.formError(error)
            h.el(.section, .cls("card"), .id("city-line")) { h in
                let c = b.city
                h.el(.p, .id("city-summary"), .data("projects", c.projects), .data("late", c.late),
                     text: "全市 \(c.projects) 个项目：已完成 \(c.completed)、按期推进 \(c.onTrack)、滞后 \(c.late)、未启动 \(c.notStarted)；"
                        + "进度 \(pct(c.progress))，滞后节点 \(c.lateMilestones) 个，腾出空间 \(HTML.num(c.freedMu)) 亩"
                        + (c.completion.map { "，目标平均完成率 \(pct($0))" } ?? "") + "。")
            }
            h.el(.section, .cls("card chart-card")) { h in
                h.el(.h2, text: "各镇街项目状态与进度")
                h.el(.div, .cls("chart-box")) { h in h.el(.canvas, .id("chart-towns"), .attr("aria-label", "各镇街项目状态与进度")) }
            }
            h.jsonScript(id: "bulletin-data", data)
            for (id, heading, lines) in [("towns", "镇街", b.towns), ("departments", "牵头部门", b.departments)] {
                h.el(.section, .cls("card"), .id("bulletin-\(id)")) { h in
                    h.el(.h2, text: "\(heading)排名（按目标平均完成率，其次进度）")
                    table(&h, id: "bulletin-\(id)-table", lines, unitLabel: heading)
                }
            }
            if issued == nil {
                h.el(.form, .method("post"), .action("/projects/bulletins"), .id("issue-form"), .cls("card")) { h in
                    h.csrfField()
                    h.el(.h2, text: "发布通报（发布后冻结，可随时按发布时记录重算核对）")
                    h.el(.label) { h in
                        h.text("文号 ")
                        h.void(.input, .type("text"), .name("number"), .id("issue-number"), .required, .placeholder("如 项目通报〔\(b.year)〕1号"))
                    }
                    h.text(" ")
                    h.el(.label) { h in
                        h.text("标题 ")
                        h.void(.input, .type("text"), .name("title"), .id("issue-title"), .placeholder("项目推进情况通报"))
                    }
                    h.text(" ")
                    h.el(.button, .type("submit"), .id("issue-submit"), text: "发布")
                }
            }
            h.el(.section, .cls("card"), .id("issued")) { h in
                h.el(.h2, text: "已发布的通报")
                h.table(id: "issued-table", headers: [("文号", false), ("标题", false), ("发布日期", false), ("发布人", false)],
                        rows: list, empty: "尚未发布通报。") { h, r in
                    h.el(.tr, .data("bulletin", r.id)) { h in
                        h.el(.td) { h in h.el(.a, .href("/projects/bulletins/\(r.id)"), text: r.number) }
                        h.el(.td, text: r.title)
                        h.el(.td, text: r.issuedOn)
                        h.el(.td, text: r.issuedBy)
                    }
                }
            }
        }
    }

    static func table(_ h: inout HTMLWriter, id: String, _ lines: [ProjectBulletin.Line], unitLabel: String) {
        h.table(id: id, headers: [("名次", true), (unitLabel, false), ("项目", true), ("已完成", true), ("按期", true), ("滞后", true),
                                  ("未启动", true), ("进度", true), ("滞后节点", true), ("腾出空间（亩）", true), ("目标完成", false),
                                  ("平均完成率", true)],
                rows: lines, empty: "没有项目或目标。") { h, l in
            h.el(.tr, .data("unit", l.unit), .data("late", l.late), .data("rank", l.rank)) { h in
                h.el(.td, .cls("num"), text: String(l.rank))
                h.el(.td, text: l.unit)
                h.el(.td, .cls("num"), text: String(l.projects))
                h.el(.td, .cls("num"), text: String(l.completed))
                h.el(.td, .cls("num"), text: String(l.onTrack))
                h.el(.td, .cls("num late"), text: String(l.late))
                h.el(.td, .cls("num"), text: String(l.notStarted))
                h.el(.td, .cls("num"), text: pct(l.progress))
                h.el(.td, .cls("num"), text: String(l.lateMilestones))
                h.el(.td, .cls("num"), text: HTML.num(l.freedMu))
                h.el(.td, .cls("targets")) { h in
                    if l.targets.isEmpty { h.text("—") }
                    for t in l.targets {
                        h.el(.div, .data("indicator", t.indicator), text: "\(t.name) \(HTML.num(t.done))/\(HTML.num(t.target))（\(pct(t.rate))）")
                    }
                }
                h.el(.td, .cls("num completion"), text: pct(l.completion))
            }
        }
    }

    /// The bulletin as XLSX: towns, departments, the targets line by line, and what it is.
    static func export(_ b: ProjectBulletin, name: String, note: [(String, String)]) throws -> Response {
        var w = XLSXWriter()
        for (sheet, label, lines) in [("镇街", "镇街", b.towns), ("牵头部门", "牵头部门", b.departments), ("全市", "", [b.city])] {
            w.addSheet(name: sheet, headers: ["名次", label.isEmpty ? "范围" : label, "项目", "已完成", "按期推进", "滞后", "未启动", "进度",
                                               "滞后节点", "腾出空间（亩）", "目标平均完成率"],
                       rows: lines.map { l in
                           [.number(Double(l.rank)), .text(l.unit), .number(Double(l.projects)), .number(Double(l.completed)),
                            .number(Double(l.onTrack)), .number(Double(l.late)), .number(Double(l.notStarted)), .number(l.progress),
                            .number(Double(l.lateMilestones)), .number(l.freedMu), l.completion.map { .number($0) } ?? .empty]
                       },
                       columnWidths: [6, 16, 8, 8, 10, 8, 8, 10, 10, 14, 14],
                       numberFormats: ["0", nil, "0", "0", "0", "0", "0", "0.0%", "0", "0.00", "0.0%"])
        }
        w.addSheet(name: "目标任务", headers: ["责任单位", "指标", "目标值", "完成值", "完成率"],
                   rows: (b.towns + b.departments).flatMap { l in
                       l.targets.map { t in [.text(l.unit), .text(t.name), .number(t.target), .number(t.done), t.rate.map { .number($0) } ?? .empty] }
                   },
                   columnWidths: [16, 20, 12, 12, 10], numberFormats: [nil, nil, "0.00", "0.00", "0.0%"])
        w.addSheet(name: "说明", headers: ["项目", "内容"], rows: note.map { [.text($0.0), .text($0.1)] }, columnWidths: [12, 60])
        return Page.download(try w.data(), type: Page.xlsxType, asciiName: "project-bulletin-\(b.asOf).xlsx", name: name)
    }
}
