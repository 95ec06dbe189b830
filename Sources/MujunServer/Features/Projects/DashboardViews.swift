import Foundation
import Vapor
import MujunCore
import MujunStore

/// `/projects/dashboard` (任务清单 · 作战室): the year's targets per town and department against
/// what their projects achieved, ranked, with the city's totals, a chart of each unit's
/// completion and the city's monthly trend; its Excel export; HQ imports the targets there.
enum DashboardViews {
    static let colours: [TargetIndicator: String] = [.remediatedMu: "#c62828", .freedMu: "#2e7d32", .projectsDone: "#1565c0",
                                                     .householdsSigned: "#ef6c00"]

    struct ChartData: Encodable {
        struct Indicator: Encodable { var key: String; var name: String; var colour: String; var rates: [Double?] }
        var units: [String]
        var indicators: [Indicator]
        var trend: [Double]
        var trend_name: String
        var trend_target: Double
    }

    static func page(_ req: Request, year: Int?, outcome: ProjectViews.Outcome?, imported: Int? = nil,
                     status: HTTPResponseStatus = .ok) async throws -> Response {
        let d = try await req.service.projects.dashboard(year: year)
        let p = try req.principal()
        let units = d.ranking.map(\.unit)
        let shown = TargetIndicator.allCases.filter { i in d.lines.contains { $0.indicator == i } }
        let trendIndicator = shown.first ?? .remediatedMu
        let data = ChartData(
            units: units,
            indicators: shown.map { i in
                .init(key: i.rawValue, name: i.chinese, colour: colours[i] ?? "#607d8b",
                      rates: units.map { u in d.lines.first { $0.unit == u && $0.indicator == i }?.rate.map { $0 * 100 } })
            },
            trend: d.trend[trendIndicator] ?? [], trend_name: trendIndicator.chinese, trend_target: d.totals[trendIndicator]?.target ?? 0)
        return Page.render(title: "任务清单 · 作战室", status: status, active: "projects",
                           head: Page.Head.chart + [.script("/static/dashboard.js")]) { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: "\(d.year) 年度任务清单 · 作战室")
                h.yearLinks(label: "年度：", years: d.years, current: d.year) { HTML.url("/projects/dashboard", [("year", String($0))]) }
                h.el(.p) { h in
                    h.el(.a, .href("/projects"), text: "项目清单")
                    h.text(" · ")
                    h.el(.a, .cls("button secondary"), .id("export-xlsx"), .href(HTML.url("/projects/dashboard.xlsx", [("year", String(d.year))])),
                         text: "导出 Excel")
                    h.el(.span, .cls("muted"), text: " 截至 \(d.asOf)")
                }
            }
            if let outcome { ProjectViews.result(&h, outcome) }
            if let imported {
                h.el(.section, .cls("card notice-ok"), .id("targets-result"), .data("targets", imported)) { h in
                    h.el(.p, text: "已导入 \(imported) 项目标。")
                }
            }
            h.el(.section, .cls("card"), .id("totals")) { h in
                h.el(.h2, text: "全市目标完成情况")
                if d.lines.isEmpty { h.el(.p, .cls("muted"), .id("no-targets"), text: "本年度尚未下达目标任务。") }
                h.el(.div, .cls("overview")) { h in
                    for i in shown {
                        let t = d.totals[i] ?? (0, 0)
                        h.el(.div, .cls("total"), .data("indicator", i.rawValue), .data("target", HTML.num(t.target)),
                             .data("done", HTML.num(t.done))) { h in
                            h.el(.h3, text: i.chinese)
                            h.el(.p) { h in
                                h.el(.b, text: HTML.num(t.done, i == .projectsDone || i == .householdsSigned ? 0 : 2))
                                h.text(" / \(HTML.num(t.target, i == .projectsDone || i == .householdsSigned ? 0 : 2)) ")
                                ProjectViews.progressBar(&h, t.target > 0 ? min(1, t.done / t.target) : 0)
                            }
                        }
                    }
                }
            }
            if !d.lines.isEmpty {
                h.el(.div, .cls("overview")) { h in
                    h.el(.section, .cls("card")) { h in
                        h.el(.h2, text: "各单位完成率")
                        h.el(.div, .cls("chart-box"), .attr("style", "height: \(max(220, units.count * 34 + 80))px")) { h in
                            h.el(.canvas, .id("chart-units"), .attr("aria-label", "各单位目标完成率"))
                        }
                    }
                    h.el(.section, .cls("card")) { h in
                        h.el(.h2, text: "全市\(trendIndicator.chinese)逐月累计")
                        h.el(.div, .cls("chart-box"), .attr("style", "height: 300px")) { h in
                            h.el(.canvas, .id("chart-trend"), .attr("aria-label", "逐月累计完成"))
                        }
                    }
                }
                h.jsonScript(id: "dashboard-data", data)
            }
            h.el(.section, .cls("card")) { h in
                h.el(.h2, text: "单位排名（各指标完成率的平均，单项最高按 100% 计）")
                h.table(id: "ranking-table", headers: [("名次", true), ("责任单位", false), ("平均完成率", false)],
                        rows: Array(d.ranking.enumerated()), empty: "暂无目标。") { h, e in
                    let (i, r) = e
                    h.el(.tr, .data("unit", r.unit), .data("rate", String(format: "%.4f", r.rate))) { h in
                        h.el(.td, .cls("num"), text: String(i + 1))
                        h.el(.td) { h in h.el(.a, .href(HTML.url("/projects", [("town", r.unit)])), text: r.unit) }
                        h.el(.td) { h in ProjectViews.progressBar(&h, r.rate) }
                    }
                }
            }
            h.el(.section, .cls("card")) { h in
                h.el(.h2, text: "目标任务清单")
                h.table(id: "targets-table", headers: [("责任单位", false), ("指标", false), ("目标值", true), ("完成值", true), ("完成率", false)],
                        rows: d.lines.sorted { ($0.unit, $0.indicator.rawValue) < ($1.unit, $1.indicator.rawValue) }, empty: "暂无目标。") { h, l in
                    h.el(.tr, .data("unit", l.unit), .data("indicator", l.indicator.rawValue), .cls((l.rate ?? 1) < 0.5 ? "behind" : nil)) { h in
                        h.el(.td, text: l.unit)
                        h.el(.td, text: l.indicator.chinese)
                        h.el(.td, .cls("num"), text: HTML.num(l.target))
                        h.el(.td, .cls("num done"), text: HTML.num(l.done))
                        h.el(.td) { h in if let r = l.rate { ProjectViews.progressBar(&h, min(1, r)) } else { h.text("—") } }
                    }
                }
                h.el(.p, .cls("muted"), text: "整治低效用地：当年竣工投产（全部节点完成）的整治项目的目标面积；腾出空间：当年完成项目记录的腾出面积；完成项目：当年全部节点完成的项目数；城中村签约：城市更新项目至今的签约户数。单位的项目为其作为责任镇街或牵头部门的项目。")
            }
            if AccessPolicy.allows(p.role, .manageProjects) {
                h.el(.section, .cls("card"), .id("targets-import")) { h in
                    h.el(.h2, text: "下达目标任务（CSV 或 XLSX）")
                    h.el(.form, .method("post"), .action("/projects/targets"), .id("targets-form"), .attr("enctype", "multipart/form-data")) { h in
                        h.csrfField()
                        h.void(.input, .type("file"), .name("file"), .id("targets-file"), .attr("accept", ".csv,.xlsx"))
                        h.el(.button, .type("submit"), .id("targets-button"), text: "上传并导入")
                    }
                    h.el(.p, .cls("muted"), text: "列：年度、责任单位、指标（\(TargetIndicator.allCases.map(\.chinese).joined(separator: "、"))）、目标值。同一单位同一年度的目标整体替换；任何一行有错则整个文件不导入。")
                }
            }
        }
    }

    /// `GET /projects/dashboard.xlsx`: the targets against what was done, and the ranking.
    static func export(_ req: Request, year: Int?) async throws -> Response {
        let d = try await req.service.projects.dashboard(year: year)
        var w = XLSXWriter()
        w.addSheet(name: "目标任务清单", headers: ["责任单位", "指标", "目标值", "完成值", "完成率"],
                   rows: d.lines.sorted { ($0.unit, $0.indicator.rawValue) < ($1.unit, $1.indicator.rawValue) }.map { l in
                       [.text(l.unit), .text(l.indicator.chinese), .number(l.target), .number(l.done), l.rate.map { .number($0) } ?? .empty]
                   },
                   columnWidths: [16, 20, 12, 12, 10], numberFormats: [nil, nil, "0.00", "0.00", "0.0%"])
        w.addSheet(name: "单位排名", headers: ["名次", "责任单位", "平均完成率"],
                   rows: d.ranking.enumerated().map { [.number(Double($0.offset + 1)), .text($0.element.unit), .number($0.element.rate)] },
                   columnWidths: [8, 16, 12], numberFormats: ["0", nil, "0.0%"])
        w.addSheet(name: "说明", headers: ["项目", "内容"],
                   rows: [("年度", "\(d.year)"), ("截至", d.asOf.description), ("导出时间", HTML.dateTime(Date()))].map { [.text($0.0), .text($0.1)] },
                   columnWidths: [12, 40])
        return Page.download(try w.data(), type: Page.xlsxType, asciiName: "targets-\(d.year).xlsx", name: "\(d.year)年度目标任务完成情况.xlsx")
    }

    static func importTargets(_ req: Request, _ input: ProjectsFeature.TargetsInput) async throws -> Response {
        guard let f = input.file, f.data.readableBytes > 0 else {
            return try await page(req, year: nil, outcome: .problem("请选择目标任务清单（CSV 或 XLSX）/ choose the targets file"), status: .badRequest)
        }
        let name = UploadCheck.cleanName(f.filename)
        do {
            let t = try await req.service.projects.importTargets(data: Data(buffer: f.data), fileName: name)
            return try await page(req, year: t.first?.year, outcome: nil, imported: t.count)
        } catch let failure as ImportFailure {
            return try await page(req, year: nil, outcome: .refused(file: name, failure), status: .unprocessableEntity)
        }
    }
}
