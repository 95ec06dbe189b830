import Foundation
import Vapor
import MujunCore
import MujunStore

/// `/projects/new` (立项): a project entered on a page — from a renewal candidate (`/clusters/N` →
/// 立项整治) with its parcels, town and area filled in, the type's milestones planned two months
/// apart to start from; the number is given by the system when left empty.
enum NewProjectViews {
    static func form(_ req: Request, _ q: ProjectsFeature.NewProjectQuery, input: ProjectsFeature.NewProjectInput?, error: String?,
                     status: HTTPResponseStatus = .ok) async throws -> Response {
        let s = req.service.projects
        let d = try await s.draft(type: input?.type ?? q.type, clusterYear: q.year?.int, cluster: q.cluster?.int)
        let types = req.application.serviceContext.projectTypes
        return Page.render(title: "立项", status: status, active: "projects") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: "立项：\(d.type.name)")
                h.el(.p) { h in
                    h.text("项目类型：")
                    for (i, t) in types.types.enumerated() {
                        if i > 0 { h.text(" · ") }
                        h.el(.a, .href(HTML.url("/projects/new", [("type", t.key), ("year", q.year.map { String($0.int) }), ("cluster", q.cluster.map { String($0.int) })])),
                             .cls(t.key == d.type.key ? "active" : nil), .id("type-\(t.key)"), text: t.name)
                    }
                }
            }
            h.formError(error)
            h.el(.form, .method("post"), .action("/projects/new"), .id("project-form"), .cls("card")) { h in
                h.csrfField()
                h.void(.input, .type("hidden"), .name("type"), .value(d.type.key))
                func field(_ h: inout HTMLWriter, _ label: String, _ name: String, _ value: String?, type: StaticString = "text", required: Bool = false,
                           placeholder: String? = nil) {
                    h.el(.label) { h in
                        h.text(label + " ")
                        h.void(.input, .type(type), .name(name), .id("p-\(name)"), .value(value ?? ""), required ? .required : nil,
                               placeholder.flatMap { .placeholder($0) }, type.description == "number" ? .attr("step", "any") : nil)
                    }
                    h.text(" ")
                }
                h.el(.p) { h in
                    field(&h, "项目编号", "ref", input?.ref, placeholder: "留空自动编号")
                    field(&h, "项目名称", "name", input?.name ?? d.name, required: true)
                }
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("责任镇街 ")
                        h.select(name: "town", id: "p-town", options: d.towns.map { ($0, $0) }, selected: input?.town ?? d.town ?? "")
                    }
                    h.text(" ")
                    field(&h, "牵头部门", "lead_unit", input?.leadUnit, required: true, placeholder: "如 经信局")
                    if !d.type.modes.isEmpty {
                        h.el(.label) { h in
                            h.text("整治方式 ")
                            h.select(name: "mode", id: "p-mode", options: d.type.modes.map { ($0, $0) }, selected: input?.mode ?? d.type.modes[0])
                        }
                    }
                }
                h.el(.p) { h in
                    field(&h, "目标面积（亩）", "target_mu", input?.targetMu?.text ?? d.targetMu.map { formatNumber($0) }, type: "number")
                    if d.type.households { field(&h, "户数", "households", input?.households?.text, type: "number", required: true) }
                    field(&h, "开始日期", "start", input?.start ?? d.start.description, type: "date", required: true)
                }
                h.el(.p) { h in
                    h.el(.label, .for("p-parcels"), text: "地块编号（每行一个）")
                    h.el(.textarea, .name("parcels"), .id("p-parcels"), .attr("rows", 3), text: input?.parcels ?? d.parcelIDs.joined(separator: "\n"))
                }
                h.el(.h2, text: "节点计划（权重按项目类型配置）")
                h.table(id: "plan-table", headers: [("节点", false), ("权重", true), ("计划完成日期", false)],
                        rows: Array(zip(d.type.milestones, d.planned).enumerated())) { h, e in
                    let (i, (m, planned)) = e
                    h.el(.tr, .data("seq", i + 1)) { h in
                        h.el(.td, text: m.name)
                        h.el(.td, .cls("num"), text: String(m.weight))
                        h.el(.td) { h in
                            h.void(.input, .type("date"), .name("planned[]"), .id("p-planned-\(i + 1)"), .required,
                                   .value(input?.planned?.indices.contains(i) == true ? input!.planned![i] : planned.description))
                        }
                    }
                }
                h.el(.button, .type("submit"), .id("project-submit"), text: "立项")
            }
        }
    }

    static func submit(_ req: Request, _ input: ProjectsFeature.NewProjectInput) async throws -> Response {
        do {
            let id = try await req.service.projects.create(input.project)
            return req.redirect(to: "/projects/\(id)", redirectType: .normal)
        } catch let e as ServiceError where e.kind != .forbidden {
            return try await form(req, .init(type: input.type), input: input, error: e.message, status: ErrorMiddleware.status(e.kind))
        }
    }
}
