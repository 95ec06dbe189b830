import Foundation
import Vapor
import MujunCore
import MujunStore

/// The pages of projects: `/projects` (roll-up by town, the list, the 滞后 check and the import
/// for HQ) and `/projects/:id` (milestones, the monthly report form, reports with photos,
/// supervision cases, history).
enum ProjectViews {
    enum Outcome {
        case supervised(ProjectService.Supervision)
        case imported(file: String, ProjectService.ImportSummary)
        case refused(file: String, ImportFailure)
        case problem(String)
    }

    static func stateBadge(_ h: inout HTMLWriter, _ raw: String) {
        h.el(.span, .cls("pstate pstate-\(raw)"), .data("state", raw), text: ProjectState(rawValue: raw)?.chinese ?? raw)
    }

    static func progressBar(_ h: inout HTMLWriter, _ x: Double) {
        h.el(.span, .cls("pbar"), .attr("title", String(format: "%.1f%%", x * 100))) { h in
            h.el(.progress, .attr("max", "100"), .value(String(format: "%.1f", x * 100)))
            h.el(.span, .cls("pct"), text: String(format: "%.1f%%", x * 100))
        }
    }

    static func typeName(_ types: ProjectTypes, _ key: String) -> String { types.type(named: key)?.name ?? key }

    // MARK: the list

    static func list(_ req: Request, _ q: ProjectsFeature.ListQuery, outcome: Outcome?, status: HTTPResponseStatus) async throws -> Response {
        let s = req.service.projects
        let p = try req.principal()
        let rows = try await s.list(q.query)
        let types = req.application.serviceContext.projectTypes
        let towns = req.service.towns
        let manage = AccessPolicy.allows(p.role, .manageProjects)
        // the roll-up by town of what is listed, from each project's stored verdict
        let statuses = rows.map { r in
            ProjectStatus(ref: r.ref, town: r.town, block: r.block, leadUnit: r.leadUnit, targetMu: r.targetMu, progress: r.progress,
                          state: r.projectState ?? .notStarted, late: [])
        }
        let byTown = ProjectJudge.rollUp(statuses, by: \.town)
        let city = ProjectJudge.rollUp(statuses, by: { _ in "全市" })["全市"]
        return Page.render(title: "项目推进", status: status, active: "projects", head: [.stylesheet("/static/map.css")]) { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: "项目推进 · 挂图作战")
                h.el(.p) { h in
                    h.el(.a, .href("/projects/dashboard"), .id("dashboard-link"), text: "任务清单 · 作战室")
                    h.text(" · ")
                    h.el(.a, .href("/map?layer=project"), .id("map-link"), text: "在地图上查看项目")
                    h.text(" · ")
                    h.el(.a, .href("/projects/agenda?kind=weekly"), .id("agenda-link"), text: "周例会议程")
                    if manage {
                        h.text(" · ")
                        h.el(.a, .href("/projects/bulletin"), .id("bulletin-link"), text: "项目推进通报")
                    }
                    if AccessPolicy.allows(p.role, .createProjects) {
                        h.text(" · ")
                        h.el(.a, .href("/projects/new"), .id("new-project"), text: "立项")
                    }
                }
            }
            if let outcome { result(&h, outcome) }
            h.el(.form, .id("filters"), .cls("filters"), .method("get"), .action("/projects")) { h in
                if towns.count > 1 {
                    h.el(.label) { h in
                        h.text("镇街 ")
                        h.select(name: "town", id: "town", options: [("", "全部镇街")] + towns.map { ($0, $0) }, selected: q.town ?? "")
                    }
                }
                h.el(.label) { h in
                    h.text("类型 ")
                    h.select(name: "type", id: "type", options: [("", "全部类型")] + types.types.map { ($0.key, $0.name) }, selected: q.type ?? "")
                }
                h.el(.label) { h in
                    h.text("状态 ")
                    h.select(name: "state", id: "state", options: [("", "全部状态")] + ProjectState.allCases.map { ($0.rawValue, $0.chinese) },
                             selected: q.state?.rawValue ?? "")
                }
                h.el(.label) { h in
                    h.text("搜索 ")
                    h.void(.input, .type("search"), .name("q"), .value(q.q?.value ?? ""), .attr("placeholder", "项目名称或编号"))
                }
                h.el(.button, .type("submit"), text: "查询")
                h.el(.a, .cls("button secondary"), .id("export-xlsx"),
                     .href(HTML.url("/projects.xlsx", [("town", q.town), ("type", q.type), ("state", q.state?.rawValue), ("q", q.q?.value)])),
                     text: "导出 Excel")
            }
            h.el(.section, .cls("card"), .id("rollup")) { h in
                h.el(.h2, text: "各镇街项目推进汇总")
                if let city {
                    h.el(.p, .id("city-total"), .data("projects", city.projects), .data("late", city.counts[.late] ?? 0)) { h in
                        h.text("全市 "); h.el(.b, text: String(city.projects)); h.text(" 个项目：")
                        h.text(ProjectState.allCases.map { "\($0.chinese) \(city.counts[$0] ?? 0)" }.joined(separator: "，"))
                        h.text("；目标面积 \(HTML.num(city.targetMu)) 亩，按面积加权进度 ")
                        h.el(.b, text: city.areaProgress.map { String(format: "%.1f%%", $0 * 100) } ?? "—")
                        h.text("。")
                    }
                }
                h.table(id: "rollup-table", headers: [("镇街", false), ("项目数", true), ("未启动", true), ("按期推进", true), ("滞后", true),
                                                       ("已完成", true), ("目标面积(亩)", true), ("面积加权进度", false), ("平均进度", false)],
                        rows: byTown.sorted { ($0.value.areaProgress ?? $0.value.meanProgress) > ($1.value.areaProgress ?? $1.value.meanProgress) },
                        empty: "暂无项目。") { h, e in
                    let (town, r) = e
                    h.el(.tr, .data("town", town)) { h in
                        h.el(.td) { h in h.el(.a, .href(HTML.url("/projects", [("town", town)])), text: town) }
                        h.el(.td, .cls("num"), text: String(r.projects))
                        for st in ProjectState.allCases { h.el(.td, .cls("num count-\(st.rawValue)"), text: String(r.counts[st] ?? 0)) }
                        h.el(.td, .cls("num"), text: HTML.num(r.targetMu))
                        h.el(.td) { h in if let a = r.areaProgress { progressBar(&h, a) } else { h.text("—") } }
                        h.el(.td) { h in progressBar(&h, r.meanProgress) }
                    }
                }
            }
            h.el(.section, .cls("card")) { h in
                h.el(.h2, text: "项目清单（\(rows.count)）")
                h.table(id: "projects-table", headers: [("项目编号", false), ("项目名称", false), ("类型", false), ("整治方式", false),
                                                         ("责任镇街", false), ("牵头部门", false), ("目标面积(亩)", true), ("进度", false),
                                                         ("状态", false)],
                        rows: rows, empty: "没有符合条件的项目。") { h, r in
                    h.el(.tr, .data("project", r.id), .data("ref", r.ref), .data("state", r.state)) { h in
                        h.el(.td) { h in h.el(.a, .href("/projects/\(r.id)"), text: r.ref) }
                        h.el(.td, .cls("name")) { h in h.el(.a, .href("/projects/\(r.id)"), text: r.name) }
                        h.el(.td, text: typeName(types, r.type))
                        h.el(.td, text: r.mode ?? "—")
                        h.el(.td, text: r.town)
                        h.el(.td, text: r.leadUnit)
                        h.el(.td, .cls("num"), text: r.targetMu.map { HTML.num($0) } ?? "—")
                        h.el(.td) { h in progressBar(&h, r.progress) }
                        h.el(.td) { h in stateBadge(&h, r.state) }
                    }
                }
                h.el(.p, .cls("muted"), text: "状态为最近一次研判的结果：有节点超过计划完成日期未完成，或上月进展未在次月第 \(types.reportDay) 个工作日前报送的项目为“滞后”，系统自动向责任镇街交办项目督办事项；报送月报、完成节点后自动办结。")
            }
            if manage {
                h.el(.div, .cls("overview")) { h in
                    h.el(.section, .cls("card"), .id("supervise")) { h in
                        h.el(.h2, text: "滞后研判")
                        h.el(.p, .cls("muted"), text: "按今天的日期研判全部项目：新滞后的项目自动交办督办事项，不再滞后的项目的督办事项自动办结。")
                        h.el(.form, .method("post"), .action("/projects/supervise"), .id("supervise-form")) { h in
                            h.csrfField()
                            h.el(.button, .type("submit"), .id("supervise-button"), text: "运行滞后研判")
                        }
                    }
                    h.el(.section, .cls("card"), .id("project-import")) { h in
                        h.el(.h2, text: "导入项目与节点（CSV 或 XLSX）")
                        h.el(.form, .method("post"), .action("/projects/import"), .id("import-form"), .attr("enctype", "multipart/form-data")) { h in
                            h.csrfField()
                            h.el(.p) { h in h.el(.label) { h in h.text("项目表 "); h.void(.input, .type("file"), .name("projects"), .id("projects-file"), .attr("accept", ".csv,.xlsx")) } }
                            h.el(.p) { h in h.el(.label) { h in h.text("节点表 "); h.void(.input, .type("file"), .name("milestones"), .id("milestones-file"), .attr("accept", ".csv,.xlsx")) } }
                            h.el(.button, .type("submit"), .id("import-button"), text: "上传并导入")
                        }
                        h.el(.p, .cls("muted"), text: "项目表：项目编号、项目名称、项目类型、整治方式、责任镇街、牵头部门、目标面积(亩)、地块编号（分号分隔）、户数、开始日期；节点表：项目编号、节点名称、权重、计划完成日期、实际完成日期（见 FORMATS.md）。任何一行有错则整个文件不导入。")
                    }
                }
            }
        }
    }

    /// `GET /projects.xlsx`: the listed projects (as filtered) and their roll-up by town.
    static func export(_ req: Request, _ q: ProjectsFeature.ListQuery) async throws -> Response {
        let rows = try await req.service.projects.list(q.query)
        let types = req.application.serviceContext.projectTypes
        func num(_ x: Double?) -> XLSXCell { x.map { $0.isFinite ? .number($0) : .empty } ?? .empty }
        var w = XLSXWriter()
        w.addSheet(name: "项目清单", headers: ["项目编号", "项目名称", "类型", "整治方式", "责任镇街", "区块", "牵头部门", "目标面积(亩)", "开始日期",
                                          "进度", "状态", "研判日期", "腾出空间(亩)", "新增投资(万元)"],
                   rows: rows.map { r in
                       [.text(r.ref), .text(r.name), .text(typeName(types, r.type)), .text(r.mode ?? ""), .text(r.town), .text(r.block ?? ""),
                        .text(r.leadUnit), num(r.targetMu), .text(r.startOn), .number(r.progress), .text(r.projectState?.chinese ?? r.state),
                        .text(r.judgedOn), num(r.freedMu), num(r.newInvestment)]
                   },
                   columnWidths: [14, 36, 10, 10, 12, 14, 12, 11, 11, 8, 9, 11, 11, 12],
                   numberFormats: [nil, nil, nil, nil, nil, nil, nil, "0.00", nil, "0.0%", nil, nil, "0.00", "0.00"])
        let statuses = rows.map { r in
            ProjectStatus(ref: r.ref, town: r.town, block: r.block, leadUnit: r.leadUnit, targetMu: r.targetMu, progress: r.progress,
                          state: r.projectState ?? .notStarted, late: [])
        }
        let byTown = ProjectJudge.rollUp(statuses, by: \.town).sorted { $0.key < $1.key }
        w.addSheet(name: "镇街汇总", headers: ["镇街", "项目数", "未启动", "按期推进", "滞后", "已完成", "目标面积(亩)", "面积加权进度", "平均进度"],
                   rows: byTown.map { town, r in
                       [.text(town), .number(Double(r.projects))] + ProjectState.allCases.map { .number(Double(r.counts[$0] ?? 0)) }
                           + [.number(r.targetMu), num(r.areaProgress), .number(r.meanProgress)]
                   },
                   columnWidths: [14, 8, 8, 9, 8, 8, 12, 12, 10],
                   numberFormats: [nil, "0", "0", "0", "0", "0", "0.00", "0.0%", "0.0%"])
        return Page.download(try w.data(), type: Page.xlsxType, asciiName: "projects.xlsx", name: "项目推进清单.xlsx")
    }

    static func result(_ h: inout HTMLWriter, _ o: Outcome) {
        switch o {
        case .supervised(let s):
            h.el(.section, .cls("card notice-ok"), .id("supervise-result"), .data("opened", s.opened), .data("closed", s.closed)) { h in
                h.el(.p, text: "已研判 \(s.judged) 个项目：滞后 \(s.late) 个，新交办督办事项 \(s.opened) 件，自动办结 \(s.closed) 件。")
            }
        case .imported(let file, let s):
            h.el(.section, .cls("card notice-ok"), .id("import-result"), .data("projects", s.projects)) { h in
                h.el(.p, text: "已从 \(file) 导入 \(s.projects) 个项目、\(s.milestones) 个节点；其中 \(s.opened) 个项目滞后，已自动交办督办事项。")
            }
        case .refused(let file, let failure):
            h.el(.section, .cls("card notice-error"), .id("import-errors"), .data("errors", failure.errors.count + failure.omitted)) { h in
                h.el(.h2, text: "项目导入失败，未写入任何数据")
                h.el(.p, text: "\(file) 中发现 \(failure.errors.count + failure.omitted) 处错误，请修改后重新上传：")
                h.table(id: "error-table", headers: [("行号", false), ("列", false), ("问题", false)], rows: failure.errors) { h, e in
                    h.el(.tr) { h in
                        h.el(.td, .cls("num"), text: e.row > 0 ? String(e.row) : "文件")
                        h.el(.td, text: e.column)
                        h.el(.td, .cls("wrap"), text: e.messageZh)
                    }
                }
            }
        case .problem(let m):
            h.formError(m)
        }
    }

    static func importTables(_ req: Request, _ input: ProjectsFeature.ImportInput) async throws -> Response {
        guard let p = input.projects, p.data.readableBytes > 0, let m = input.milestones, m.data.readableBytes > 0 else {
            return try await list(req, .init(), outcome: .problem("请选择项目表和节点表（CSV 或 XLSX）/ choose the projects and the milestones file"), status: .badRequest)
        }
        let name = UploadCheck.cleanName(p.filename)
        do {
            let s = try await req.service.projects.importFiles(projects: Data(buffer: p.data), milestones: Data(buffer: m.data), fileName: name)
            return try await list(req, .init(), outcome: .imported(file: name, s), status: .ok)
        } catch let failure as ImportFailure {
            return try await list(req, .init(), outcome: .refused(file: name, failure), status: .unprocessableEntity)
        }
    }

    // MARK: one project

    static func detail(_ req: Request, id: Int64, error: String?, status: HTTPResponseStatus) async throws -> Response {
        let s = req.service.projects
        let v = try await s.view(id: id)
        let p = try req.principal()
        let r = v.record
        let types = req.application.serviceContext.projectTypes
        let caseTypes = req.application.serviceContext.caseTypes
        let calendar = req.application.serviceContext.calendar
        let today = s.today
        let files = v.canReport && p.role != .headquarters
        return Page.render(title: "\(r.name) · 项目", status: status, active: "projects", head: [.stylesheet("/static/map.css")]) { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title")) { h in
                    h.text(r.name + " ")
                    h.el(.small, text: r.ref)
                }
                h.el(.p) { h in
                    stateBadge(&h, v.status.state.rawValue)
                    h.text(" ")
                    progressBar(&h, v.status.progress)
                    h.el(.a, .href("/projects"), text: " 返回项目清单")
                }
            }
            h.formError(error)
            if !v.status.late.isEmpty {
                h.el(.section, .cls("card warning"), .id("late-reasons")) { h in
                    h.el(.h2, text: "滞后原因")
                    h.el(.ul) { h in for l in v.status.late { h.el(.li, text: l.zh) } }
                }
            }
            h.el(.div, .cls("overview")) { h in
                h.el(.section, .cls("card"), .id("facts")) { h in
                    h.el(.h2, text: "项目信息")
                    h.el(.dl, .cls("facts")) { h in
                        func row(_ h: inout HTMLWriter, _ k: String, _ val: String) { h.el(.dt, text: k); h.el(.dd, text: val) }
                        row(&h, "项目类型", typeName(types, r.type))
                        if let m = r.mode { row(&h, "整治方式", m) }
                        row(&h, "责任镇街", r.town)
                        if let b = r.block { row(&h, "区块", b) }
                        row(&h, "牵头部门", r.leadUnit)
                        if let t = r.targetMu { row(&h, "目标面积", "\(HTML.num(t)) 亩") }
                        row(&h, "开始日期", r.startOn)
                        if let hh = r.households {
                            row(&h, "户数", "\(hh) 户")
                            for m in RenewalMeasure.allCases {
                                row(&h, m.chinese, v.plan.rate(m).map { String(format: "%.1f%%", $0 * 100) } ?? "—")
                            }
                        }
                        if let f = r.freedMu { row(&h, "腾出空间", "\(HTML.num(f)) 亩") }
                        if let c = v.challenge {
                            h.el(.dt, text: "揭榜挂帅")
                            h.el(.dd, .id("project-challenge")) { h in
                                h.el(.a, .href("/challenges/\(c.id)"), text: "\(c.ref) \(c.title)")
                                h.text("（奖励 \(HTML.num(c.reward)) 万元）")
                            }
                            if let pledge = c.pledge { row(&h, "军令状目标", pledge) }
                        }
                        row(&h, "最近研判", r.judgedOn)
                    }
                    if !v.parcels.isEmpty {
                        h.el(.p, .id("project-parcels")) { h in
                            h.text("地块：")
                            for (i, pid) in v.parcels.enumerated() {
                                if i > 0 { h.text("、") }
                                h.el(.a, .href("/parcels/\(pid)"), text: pid)
                            }
                        }
                    }
                }
                h.el(.section, .cls("card"), .id("project-cases")) { h in
                    h.el(.h2, text: "项目督办")
                    CaseViews.table(&h, id: "project-cases-table", v.cases, types: caseTypes, calendar: calendar, today: today,
                                    empty: "该项目没有督办事项。")
                }
            }
            h.el(.section, .cls("card"), .id("milestones")) { h in
                h.el(.h2, text: "节点")
                h.table(id: "milestones-table", headers: [("序号", true), ("节点", false), ("权重", true), ("计划完成", false),
                                                           ("实际完成", false), ("完成比例", false), ("", false)],
                        rows: v.milestones) { h, m in
                    let overdue = m.doneOn == nil && m.plannedOn < today.description
                    h.el(.tr, .data("seq", m.seq), .data("done", m.doneOn ?? ""), .cls(overdue ? "overdue" : nil)) { h in
                        h.el(.td, .cls("num"), text: String(m.seq))
                        h.el(.td, text: m.name)
                        h.el(.td, .cls("num"), text: String(m.weight))
                        h.el(.td, text: m.plannedOn + (overdue ? "（已超期）" : ""))
                        h.el(.td, text: m.doneOn ?? "—")
                        h.el(.td) { h in
                            if let ms = m.milestone { progressBar(&h, v.plan.share(of: ms, asOf: today)) }
                        }
                        h.el(.td) { h in
                            if v.canReport || p.role == .headquarters, m.doneOn == nil {
                                h.el(.form, .method("post"), .action("/projects/\(r.id)/milestones"), .cls("inline milestone-form")) { h in
                                    h.csrfField()
                                    h.void(.input, .type("hidden"), .name("seq"), .value(String(m.seq)))
                                    h.void(.input, .type("hidden"), .name("version"), .value(String(r.version)))
                                    h.void(.input, .type("date"), .name("done"), .attr("max", today.description), .attr("aria-label", "实际完成日期"))
                                    h.el(.button, .type("submit"), text: "记为完成")
                                }
                            }
                        }
                    }
                }
            }
            if files {
                h.el(.section, .cls("card"), .id("report")) { h in
                    h.el(.h2, text: "报送月报（每月有进展）")
                    if v.reportableMonths.isEmpty {
                        h.el(.p, .cls("muted"), text: "截至本月的月报均已报送。")
                    } else {
                        let due = ProjectJudge(types: types, calendar: calendar).lastDueMonth(on: today, since: v.plan.start)
                        let preferred = v.reportableMonths.first { $0 == due } ?? v.reportableMonths.last!
                        h.el(.form, .method("post"), .action("/projects/\(r.id)/reports"), .id("report-form"), .attr("enctype", "multipart/form-data")) { h in
                            h.csrfField()
                            h.void(.input, .type("hidden"), .name("version"), .value(String(r.version)))
                            h.el(.p) { h in
                                h.el(.label) { h in
                                    h.text("月份 ")
                                    h.select(name: "month", id: "report-month",
                                             options: v.reportableMonths.reversed().map { ($0.description, $0.chinese + "（\(types.reportDue(for: $0, calendar: calendar)) 前报送）") },
                                             selected: preferred.description)
                                }
                            }
                            h.el(.p) { h in
                                h.el(.label) { h in
                                    h.text("本月进展 ")
                                    h.el(.textarea, .name("text"), .id("report-text"), .attr("rows", "4"), .attr("required", "required"),
                                         .attr("maxlength", String(ProjectService.maxText)), text: "")
                                }
                            }
                            h.el(.p) { h in
                                h.el(.label) { h in
                                    h.text("本月完成投资（万元） ")
                                    h.void(.input, .type("number"), .name("invested"), .id("report-invested"), .attr("min", "0"), .attr("step", "any"))
                                }
                            }
                            if r.households != nil {
                                h.el(.p) { h in
                                    for (name, label, value) in [("signed", "累计签约户数", r.signed), ("vacated", "累计腾空户数", r.vacated), ("demolished", "累计拆除户数", r.demolished)] {
                                        h.el(.label) { h in
                                            h.text(label + " ")
                                            h.void(.input, .type("number"), .name(name), .id("report-\(name)"), .value(String(value)), .attr("min", "0"),
                                                   .attr("max", String(r.households ?? 0)))
                                        }
                                        h.text(" ")
                                    }
                                }
                            }
                            let open = v.milestones.filter { $0.doneOn == nil }
                            if !open.isEmpty {
                                h.el(.p) { h in
                                    h.el(.label) { h in
                                        h.text("本月完成节点 ")
                                        h.select(name: "milestone", id: "report-milestone", options: [("", "（无）")] + open.map { (String($0.seq), "\($0.seq). \($0.name)（计划 \($0.plannedOn)）") },
                                                 selected: "")
                                    }
                                    h.text(" ")
                                    h.el(.label) { h in
                                        h.text("完成日期 ")
                                        h.void(.input, .type("date"), .name("milestone_done"), .id("report-milestone-done"), .value(today.description),
                                               .attr("max", today.description))
                                    }
                                }
                            }
                            h.el(.p) { h in
                                h.el(.label) { h in
                                    h.text("现场照片（JPG/PNG，最多 \(ProjectService.maxPhotos) 张） ")
                                    h.void(.input, .type("file"), .name("photos[]"), .id("report-photos"), .attr("accept", ".jpg,.jpeg,.png"), .flag("multiple"))
                                }
                            }
                            h.el(.button, .type("submit"), .id("report-submit"), text: "报送")
                        }
                    }
                }
            }
            if let f = r.freedMu {
                h.el(.section, .cls("card notice-ok"), .id("completion")) { h in
                    h.el(.h2, text: "完成情况")
                    h.el(.p, .data("freed", HTML.num(f))) { h in
                        h.text("腾出空间 "); h.el(.b, text: HTML.num(f)); h.text(" 亩")
                        if let i = r.newInvestment { h.text("，新增投资 \(HTML.num(i)) 万元") }
                        if let o = r.newOccupants { h.text("，新进企业：\(o.replacingOccurrences(of: ";", with: "、"))") }
                        h.text("。")
                    }
                }
            } else if v.status.state == .completed, (v.canReport || p.role == .headquarters), r.type == "remediation" || !(v.type?.modes.isEmpty ?? true) {
                h.el(.section, .cls("card"), .id("completion")) { h in
                    h.el(.h2, text: "登记完成情况（腾出空间、新增投资、新进企业）")
                    h.el(.form, .method("post"), .action("/projects/\(r.id)/completion"), .id("completion-form")) { h in
                        h.csrfField()
                        h.void(.input, .type("hidden"), .name("version"), .value(String(r.version)))
                        h.el(.p) { h in
                            h.el(.label) { h in
                                h.text("腾出空间（亩） ")
                                h.void(.input, .type("number"), .name("freed_mu"), .id("completion-freed"), .attr("min", "0"), .attr("step", "any"), .required)
                            }
                            h.text(" ")
                            h.el(.label) { h in
                                h.text("新增投资（万元） ")
                                h.void(.input, .type("number"), .name("new_investment"), .id("completion-investment"), .attr("min", "0"), .attr("step", "any"))
                            }
                        }
                        h.el(.p) { h in
                            h.el(.label, .for("completion-occupants"), text: "新进企业统一社会信用代码（每行一个；填写后项目地块的用地关系改为这些企业，供下一次认定和评价使用）")
                            h.el(.textarea, .name("occupants"), .id("completion-occupants"), .attr("rows", 3), text: "")
                        }
                        h.el(.button, .type("submit"), .id("completion-submit"), text: "登记")
                    }
                }
            }
            h.el(.section, .cls("card"), .id("reports")) { h in
                h.el(.h2, text: "月报")
                if v.reports.isEmpty { h.el(.p, .cls("muted"), .id("reports-none"), text: "尚未报送月报。") }
                for rep in v.reports {
                    h.el(.div, .cls("report"), .data("month", rep.month)) { h in
                        h.el(.h3, text: (YearMonth(parsing: rep.month)?.chinese ?? rep.month) + " · \(rep.unit) · \(rep.filedOn) 报送")
                        h.el(.p, .cls("wrap"), text: rep.text)
                        let photos = v.photos.filter { $0.reportId == rep.id }
                        if !photos.isEmpty {
                            h.el(.div, .cls("photos")) { h in
                                for ph in photos {
                                    h.el(.a, .href("/projects/photos/\(ph.id)")) { h in
                                        h.void(.img, .src("/projects/photos/\(ph.id)"), .attr("alt", ph.name), .attr("loading", "lazy"), .cls("photo"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h.el(.section, .cls("card"), .id("history")) { h in
                h.el(.h2, text: "项目记录")
                h.table(id: "history-table", headers: [("日期", false), ("事项", false), ("经办", false), ("内容", false)], rows: v.events.reversed()) { h, e in
                    h.el(.tr, .data("kind", e.kind)) { h in
                        h.el(.td, text: e.date)
                        h.el(.td, text: eventName(e.kind))
                        h.el(.td, text: e.actor)
                        h.el(.td, .cls("wrap"), text: e.detail)
                    }
                }
            }
        }
    }

    static func eventName(_ kind: String) -> String {
        switch kind {
        case "created": "立项"
        case "milestone": "节点"
        case "report": "月报"
        case "late": "滞后"
        case "state": "状态"
        case "supervised": "自动督办"
        case "cleared": "督办办结"
        case "completed": "完成登记"
        default: kind
        }
    }
}
