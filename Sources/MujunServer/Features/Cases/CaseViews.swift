import Foundation
import Vapor
import MujunCore
import MujunStore

/// The pages of the closed loop: the case list, registration, one case with its deadlines,
/// timeline and the forms of the steps the reader may take, a unit's inbox, the work calendar
/// and the bulletin.
enum CaseViews {
    static func flagBadge(_ h: inout HTMLWriter, _ f: CaseFlag) {
        switch f {
        case .none: h.text("")
        case .yellow: h.el(.span, .cls("flag flag-yellow"), .data("flag", "yellow"), text: "黄牌")
        case .red: h.el(.span, .cls("flag flag-red"), .data("flag", "red"), text: "红牌")
        }
    }

    static func levelName(_ raw: String) -> String { SupervisionLevel(rawValue: raw)?.chinese ?? raw }

    /// A table of cases.
    static func table(_ h: inout HTMLWriter, id: String, _ rows: [Store.CaseRecord], types: CaseTypes, calendar: WorkCalendar,
                      today: CalendarDate, empty: String = "暂无督办事项。") {
        if rows.isEmpty { h.el(.p, .cls("muted"), .id("\(id)-none"), text: empty); return }
        h.table(id: id, headers: [("编号", false), ("类型", false), ("标题", false), ("主办单位", false), ("交办日期", false),
                                  ("期限", false), ("状态", false), ("超期", false)], rows: rows) { h, r in
            let flag = CaseService.flag(r, at: today, calendar: calendar, redAfter: types.redAfter)
            h.el(.tr, .data("case-id", r.id), .data("state", r.state), .data("flag", flag.rawValue)) { h in
                h.el(.td) { h in h.el(.a, .href("/cases/\(r.id)"), text: r.ref) }
                h.el(.td, text: types.stored(r.type)?.name ?? r.type)
                h.el(.td, .cls("name")) { h in h.el(.a, .href("/cases/\(r.id)"), text: r.title) }
                h.el(.td, text: r.leadUnit ?? "—")
                h.el(.td, text: r.assignedOn ?? "—")
                h.el(.td, text: (r.state == "assigned" ? r.acceptDue : r.currentReplyDue) ?? "—")
                h.el(.td, .cls("state"), text: r.loopState?.chinese ?? r.state)
                h.el(.td) { h in flagBadge(&h, flag) }
            }
        }
    }

    /// The cases linked to a parcel or an enterprise (within the reader's case scope), for its page;
    /// nothing for a reader who may not see cases.
    static func linked(_ req: Request, _ q: Store.CaseQuery, what: String) async throws -> HTMLWriter {
        var h = HTMLWriter()
        guard let p = try? req.principal(), AccessPolicy.allows(p.role, .viewCases) else { return h }
        let ctx = req.application.serviceContext
        let s = req.service.cases
        let rows = try await s.list(q, limit: 200)
        h.el(.section, .cls("card"), .id("linked-cases")) { h in
            h.el(.h2) { h in
                h.text("督办事项 ")
                h.el(.small, .id("linked-case-count"), text: "\(rows.count) 件")
            }
            table(&h, id: "linked-cases-table", rows, types: ctx.caseTypes, calendar: ctx.calendar, today: s.today,
                  empty: "\(what)暂无督办事项。")
        }
        return h
    }

    // MARK: list

    static func list(principal p: Principal, rows: [Store.CaseRecord], q: CasesFeature.CaseListQuery, types: CaseTypes,
                     calendar: WorkCalendar, today: CalendarDate) -> Response {
        Page.render(title: "督办事项", active: "cases") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "督办事项")
                h.el(.p, .cls("muted"), text: p.role == .headquarters || p.role == .admin ? "全市督办事项：交办、签收、办理、答复、评价、销号"
                     : p.role == .requester || p.role == .enterprise ? "本人提出的建议、诉求及其办理情况" : "本单位主办、协办及辖区内的督办事项")
            }
            h.el(.form, .id("filters"), .cls("filters"), .method("get"), .action("/cases")) { h in
                h.el(.label) { h in
                    h.text("类型 ")
                    h.select(name: "type", id: "type", options: [("", "全部")] + types.types.map { ($0.key, $0.name) }, selected: q.type?.value ?? "")
                }
                h.el(.label) { h in
                    h.text("状态 ")
                    h.select(name: "state", id: "state", options: [("", "全部")] + CaseLoop.State.allCases.map { ($0.rawValue, $0.chinese) },
                             selected: q.state?.rawValue ?? "")
                }
                h.el(.label) { h in
                    h.text("关键词 ")
                    h.void(.input, .type("search"), .name("q"), .id("q"), .value(q.q?.value ?? ""), .placeholder("标题或编号"))
                }
                h.el(.button, .type("submit"), text: "查询")
                h.el(.a, .cls("reset"), .href("/cases"), text: "重置")
                if AccessPolicy.allows(p.role, .superviseCases) {
                    h.el(.a, .cls("button"), .id("new-case"), .href("/cases/new"), text: "登记督办事项")
                    h.el(.a, .cls("button"), .id("import-cases"), .href("/cases/import"), text: "批量登记 / 导入历史")
                }
            }
            h.el(.section, .cls("card")) { h in
                h.el(.h2) { h in
                    h.text("督办事项 ")
                    h.el(.small, .id("case-count"), text: "\(rows.count) 件")
                }
                table(&h, id: "cases-table", rows, types: types, calendar: calendar, today: today)
            }
        }
    }

    // MARK: registration

    static func newForm(types: CaseTypes, units: [String], input: CasesFeature.RegistrationInput?, error: String?,
                        status: HTTPResponseStatus = .ok) -> Response {
        Page.render(title: "登记督办事项", status: status, active: "cases") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "登记督办事项")
                h.el(.p, .cls("muted"), text: "登记后即交办给主办单位；签收与答复期限由类型按工作日历自动计算（整治任务、整改事项、安全隐患须填写办理期限）。")
            }
            h.formError(error)
            h.el(.form, .method("post"), .action("/cases/new"), .id("case-form"), .cls("card")) { h in
                h.csrfField()
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("类型 ")
                        h.select(name: "type", id: "case-type", options: types.types.map { ($0.key, "\($0.name)（\($0.reply.map { "答复\($0.chinese)" } ?? "指定期限")）") },
                                 selected: input?.type ?? types.types.first?.key)
                    }
                }
                func field(_ name: String, _ label: String, _ value: String?, required: Bool = false, type: StaticString = "text", hint: String? = nil) {
                    h.el(.p) { h in
                        h.el(.label) { h in
                            h.text(label + " ")
                            h.void(.input, attrs: [.type(type), .name(name), .id("f-\(name)"), .value(value ?? ""),
                                                   required ? .required : nil, hint.flatMap { .placeholder($0) }])
                        }
                    }
                }
                field("title", "标题", input?.title, required: true)
                h.el(.p) { h in
                    h.el(.label, .for("f-body"), text: "内容")
                    h.el(.textarea, .name("body"), .id("f-body"), .attr("rows", 4), .attr("maxlength", CaseService.maxBody), text: input?.body ?? "")
                }
                field("requester", "提出人", input?.requester, required: true, hint: "如 王代表、某公司、安委办")
                field("requester_login", "提出人账号（可选，代表或企业的登录名，可让其在线查看并评价）", input?.requesterLogin)
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("主办单位 ")
                        h.select(name: "lead_unit", id: "f-lead_unit", options: [("", "（暂不交办）")] + units.map { ($0, $0) }, selected: input?.leadUnit ?? "")
                    }
                }
                h.el(.fieldset, .id("f-co_units")) { h in
                    h.el(.legend, text: "协办单位")
                    for u in units {
                        h.el(.label, .cls("check")) { h in
                            h.void(.input, .type("checkbox"), .name("co_units[]"), .value(u), .checked(input?.coUnits?.contains(u) == true))
                            h.text(u)
                        }
                    }
                }
                field("due", "办理期限", input?.due, type: "date")
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("督办级别 ")
                        h.select(name: "level", id: "f-level", options: SupervisionLevel.allCases.map { ($0.rawValue, $0.chinese) }, selected: input?.level ?? "normal")
                    }
                }
                field("parcel_id", "地块编号（可选）", input?.parcelId)
                field("cluster", "整治片区（可选，年度-片区号，如 2025-3）", input?.cluster)
                field("credit_code", "统一社会信用代码（可选）", input?.creditCode)
                h.el(.p) { h in h.el(.button, .type("submit"), .id("register"), text: "登记并交办") }
            }
        }
    }

    // MARK: one case

    static func detail(principal p: Principal, view v: CaseService.CaseView, types: CaseTypes, units: [String], today: CalendarDate,
                       notice: String? = nil, error: String? = nil, status: HTTPResponseStatus = .ok) -> Response {
        let r = v.record
        return Page.render(title: "\(v.type.name) \(r.ref)", status: status, active: "cases") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.p, .cls("muted")) { h in h.el(.a, .href("/cases"), text: "← 督办事项") }
                h.el(.h1, .id("case-title")) { h in
                    h.text("\(v.type.name) \(r.ref)：\(r.title) ")
                    flagBadge(&h, v.flag)
                }
            }
            h.notice(notice)
            h.formError(error)
            h.el(.section, .cls("card"), .id("case-facts")) { h in
                h.el(.dl, .cls("facts")) { h in
                    func fact(_ k: String, _ value: String, id: String) {
                        h.el(.dt, text: k)
                        h.el(.dd, .id(id), text: value)
                    }
                    fact("状态", r.loopState?.chinese ?? r.state, id: "case-state")
                    fact("提出人", r.requester, id: "case-requester")
                    fact("主办单位", r.leadUnit ?? "（待交办）", id: "case-lead")
                    fact("协办单位", r.coUnitList.isEmpty ? "—" : r.coUnitList.joined(separator: "、"), id: "case-co")
                    fact("督办级别", levelName(r.level), id: "case-level")
                    fact("交办日期", r.assignedOn ?? "—", id: "case-assigned")
                    fact("签收期限", r.acceptDue.map { "\($0)（\(v.type.acceptBasis)）" } ?? "—", id: "case-accept-due")
                    fact("答复期限", r.replyDue.map { "\($0)（\(v.type.replyBasis)\((v.loop.assignment?.extensions ?? 0) > 0 ? "，已延期 \(v.loop.assignment!.extensions) 次" : "")）" }
                         ?? (v.type.from == .accept ? "签收后计算（\(v.type.replyBasis)）" : "—"), id: "case-reply-due")
                    if let re = r.rehandleDue { fact("重新办理期限", re, id: "case-rehandle-due") }
                    if let c = r.category { fact("答复类别", c, id: "case-category") }
                    if let fu = r.followUpDue { fact("续报期限", "\(fu)（答复为 B、C 类的，每 \(v.type.followUp?.description ?? "6个月") 续报一次，直至解决）", id: "case-follow-up-due") }
                    if let rt = r.rating { fact("评价", CaseRating(rawValue: rt)?.chinese ?? rt, id: "case-rating") }
                    if r.type == CaseType.appeal.key {
                        h.el(.dt, text: "申诉")
                        h.el(.dd) { h in h.el(.a, .id("case-appeal"), .href("/appeals/\(r.ref)"), text: "在申诉页面办理（申诉 #\(r.ref)）") }
                    }
                    if let y = r.clusterYear, let n = r.clusterNumber {
                        h.el(.dt, text: "整治片区")
                        h.el(.dd) { h in h.el(.a, .id("case-cluster"), .href("/map?year=\(y)&cluster=\(n)"), text: "\(y) 年第 \(n) 片") }
                    }
                    if let parcel = r.parcelId {
                        h.el(.dt, text: "地块")
                        h.el(.dd) { h in h.el(.a, .href("/parcels/\(parcel)"), text: parcel) }
                    }
                }
                if !r.body.isEmpty { h.el(.p, .id("case-body"), text: r.body) }
            }
            actions(&h, v, units: units, types: types)
            notes(&h, v, canDecide: AccessPolicy.allows(p.role, .superviseCases))
            h.el(.section, .cls("card"), .id("timeline")) { h in
                h.el(.h2, text: "办理过程")
                h.table(id: "timeline-table", headers: [("日期", false), ("事件", false), ("单位/人", false), ("内容", false), ("记录人", false)],
                        rows: v.events) { h, e in
                    h.el(.tr, .data("kind", e.kind)) { h in
                        h.el(.td, text: e.date)
                        h.el(.td, text: CaseEventKind(rawValue: e.kind)?.chinese ?? e.kind)
                        h.el(.td, text: e.unit)
                        var parts: [String] = []
                        if let d = e.due { parts.append(e.kind == "extend" ? "延期至 \(d)" : "办理期限 \(d)") }
                        if let c = e.category { parts.append("类别 \(c)") }
                        if let rt = e.rating { parts.append(CaseRating(rawValue: rt)?.chinese ?? rt) }
                        if let ok = e.passed { parts.append(ok ? "验收通过" : "验收不通过") }
                        if e.head { parts.append("一把手参与") }
                        if !e.note.isEmpty { parts.append(e.note) }
                        h.el(.td) { h in
                            h.text(parts.joined(separator: "；"))
                            attachmentLinks(&h, v.attachments.filter { $0.eventSeq == e.seq })
                        }
                        h.el(.td, text: e.actor)
                    }
                }
            }
        }
    }

    /// The forms of the steps the reader may take now.
    static func actions(_ h: inout HTMLWriter, _ v: CaseService.CaseView, units: [String], types: CaseTypes) {
        guard !v.actions.isEmpty else { return }
        let id = v.record.id, version = v.record.version
        h.el(.section, .cls("card"), .id("case-actions")) { h in
            h.el(.h2, text: "办理")
            for kind in v.actions {
                h.el(.form, .method("post"), .action("/cases/\(id)/\(kind.rawValue)"), .id("\(kind.rawValue)-form"), .cls("step"),
                     .attr("enctype", "multipart/form-data")) { h in
                    h.csrfField()
                    h.void(.input, .type("hidden"), .name("version"), .value(version))
                    h.el(.h3, text: kind.chinese)
                    switch kind {
                    case .assign:
                        h.el(.label) { h in
                            h.text("主办单位 ")
                            h.select(name: "unit", id: "assign-unit", options: units.map { ($0, $0) }, selected: nil)
                        }
                        h.el(.label) { h in
                            h.text(" 办理期限 ")
                            h.void(.input, .type("date"), .name("due"))
                        }
                    case .return:
                        h.el(.label) { h in
                            h.text("退回理由（必填） ")
                            h.void(.input, .type("text"), .name("note"), .required, .attr("maxlength", CaseService.maxNote))
                        }
                    case .extend:
                        h.el(.label) { h in
                            h.text("延期至 ")
                            h.void(.input, .type("date"), .name("due"), .required)
                        }
                    case .progress, .reply:
                        if kind == .reply, !v.type.categories.isEmpty {
                            h.el(.label) { h in
                                h.text("答复类别 ")
                                h.select(name: "category", id: "reply-category",
                                         options: [("A", "A 已解决或基本解决"), ("B", "B 正在解决或列入计划"), ("C", "C 因条件限制暂难解决"), ("D", "D 留作参考")]
                                            .filter { v.type.categories.contains($0.0) }, selected: nil)
                            }
                        }
                        h.el(.label) { h in
                            h.text(kind == .reply ? " 答复内容 " : "办理情况 ")
                            h.void(.input, .type("text"), .name("note"), .attr("maxlength", CaseService.maxNote), .required)
                        }
                        h.el(.label, .cls("check")) { h in
                            h.void(.input, .type("checkbox"), .name("head"), .value("true"))
                            h.text("一把手参与")
                        }
                    case .verify:
                        h.el(.label, .cls("check")) { h in
                            h.void(.input, .type("radio"), .name("passed"), .value("true"), .required)
                            h.text("通过")
                        }
                        h.el(.label, .cls("check")) { h in
                            h.void(.input, .type("radio"), .name("passed"), .value("false"))
                            h.text("不通过（退回重新办理）")
                        }
                    case .evaluate:
                        for r in CaseRating.allCases {
                            h.el(.label, .cls("check")) { h in
                                h.void(.input, .type("radio"), .name("rating"), .value(r.rawValue), .required)
                                h.text(r.chinese)
                            }
                        }
                        h.el(.label) { h in
                            h.text(" 意见 ")
                            h.void(.input, .type("text"), .name("note"), .attr("maxlength", CaseService.maxNote))
                        }
                    case .accept, .close, .register:
                        h.el(.label) { h in
                            h.text("说明（可选） ")
                            h.void(.input, .type("text"), .name("note"), .attr("maxlength", CaseService.maxNote))
                        }
                    }
                    if kind != .evaluate {
                        h.el(.label) { h in
                            h.text(" 附件（可选） ")
                            h.void(.input, .type("file"), .name("attachment"), .id("\(kind.rawValue)-attachment"), .attr("accept", ".pdf,.jpg,.jpeg,.png,.doc,.docx,.xls,.xlsx,.ofd"))
                        }
                    }
                    h.text(" ")
                    h.el(.button, .type("submit"), .id("\(kind.rawValue)-submit"), text: kind.chinese)
                }
            }
        }
    }

    static func attachmentLinks(_ h: inout HTMLWriter, _ files: [Store.AttachmentRecord]) {
        guard !files.isEmpty else { return }
        h.el(.span, .cls("attachments")) { h in
            for a in files {
                h.text(" ")
                h.el(.a, .cls("attachment"), .href("/cases/\(a.caseId)/attachments/\(a.id)"), .data("attachment-id", a.id),
                     text: "📎\(a.name)（\(max(1, Int(a.size) / 1024)) KB）")
            }
        }
    }

    static func fileInput(_ h: inout HTMLWriter, id: String) {
        h.el(.label) { h in
            h.text(" 附件（可选） ")
            h.void(.input, .type("file"), .name("attachment"), .id(id), .attr("accept", ".pdf,.jpg,.jpeg,.png,.doc,.docx,.xls,.xlsx,.ofd"))
        }
    }

    /// Opinions, extension requests (with the headquarters' decision forms), the three ones and
    /// follow-up reports, and the forms of what the reader may record.
    static func notes(_ h: inout HTMLWriter, _ v: CaseService.CaseView, canDecide: Bool) {
        let id = v.record.id
        let can = Set(v.noteActions)
        if v.threeOnes {
            h.el(.section, .cls("card"), .id("three-ones")) { h in
                h.el(.h2, text: "办理“三个一”")
                h.el(.ul, .cls("checklist")) { h in
                    for k in CaseNoteKind.threeOnes {
                        let done = v.notes.filter { $0.kind == k.rawValue }
                        h.el(.li, .data("kind", k.rawValue), .data("done", !done.isEmpty), .cls(done.isEmpty ? "todo" : "done")) { h in
                            h.el(.strong, text: (done.isEmpty ? "☐ " : "☑ ") + k.chinese)
                            if let first = done.first {
                                h.text("：\(first.date) \(first.unit)\(done.contains(where: \.head) ? "，单位主要负责人参加" : "")\(first.text.isEmpty ? "" : "——\(first.text)")")
                            } else {
                                h.text("：尚未记录")
                            }
                        }
                    }
                }
                let kinds = CaseNoteKind.threeOnes.filter { can.contains($0) }
                if !kinds.isEmpty {
                    h.el(.form, .method("post"), .action("/cases/\(id)/notes"), .id("three-ones-form"), .cls("step"), .attr("enctype", "multipart/form-data")) { h in
                        h.csrfField()
                        h.el(.label) { h in
                            h.text("记录 ")
                            h.select(name: "kind", id: "three-kind", options: kinds.map { ($0.rawValue, $0.chinese) }, selected: nil)
                        }
                        h.el(.label) { h in
                            h.text(" 情况 ")
                            h.void(.input, .type("text"), .name("text"), .attr("maxlength", CaseService.maxNote), .placeholder("如 赴代表所在单位当面沟通"))
                        }
                        h.el(.label, .cls("check")) { h in
                            h.void(.input, .type("checkbox"), .name("head"), .value("true"))
                            h.text("单位主要负责人参加")
                        }
                        fileInput(&h, id: "three-attachment")
                        h.el(.button, .type("submit"), .id("three-submit"), text: "记录")
                    }
                }
            }
        }
        let listed = v.notes.filter { !CaseNoteKind.threeOnes.map(\.rawValue).contains($0.kind) }
        guard !listed.isEmpty || can.contains(.opinion) || can.contains(.extension) || can.contains(.followup) else { return }
        h.el(.section, .cls("card"), .id("case-notes")) { h in
            h.el(.h2, text: "协办意见、延期与续报")
            if listed.isEmpty { h.el(.p, .cls("muted"), .id("notes-none"), text: "暂无。") }
            h.el(.ul, .cls("notes"), .id("notes-list")) { h in
                for n in listed {
                    h.el(.li, .data("note-id", n.id), .data("kind", n.kind), .data("decision", n.decision)) { h in
                        h.el(.strong, text: CaseNoteKind(rawValue: n.kind)?.chinese ?? n.kind)
                        h.text(" \(n.date) \(n.unit)：")
                        switch n.kind {
                        case "extension":
                            h.text("申请延期至 \(n.due ?? "—")，理由：\(n.text)")
                            let decision = n.decision == "approved" ? "已批准" : n.decision == "refused" ? "已驳回" : "待指挥部审批"
                            h.el(.span, .cls("decision decision-\(n.decision ?? "")"), text: "【\(decision)\(n.decidedOn.map { " \($0)" } ?? "")\(n.decisionNote.flatMap { $0.isEmpty ? nil : "：\($0)" } ?? "")】")
                        case "followup":
                            h.text(n.text.isEmpty ? "已续报" : n.text)
                            h.text(n.resolved ? "（已解决，不再续报）" : n.due.map { "（下次续报 \($0) 前）" } ?? "")
                        default:
                            h.text(n.text)
                        }
                        attachmentLinks(&h, v.attachments.filter { $0.noteId == n.id })
                        if canDecide, n.kind == "extension", n.decision == "pending" {
                            h.el(.form, .method("post"), .action("/extension-requests/\(n.id)/decision"), .id("decide-\(n.id)"), .cls("step inline")) { h in
                                h.csrfField()
                                h.el(.label) { h in
                                    h.text("审批意见 ")
                                    h.void(.input, .type("text"), .name("note"), .id("decision-note-\(n.id)"), .attr("maxlength", CaseService.maxNote))
                                }
                                h.el(.button, .type("submit"), .name("approve"), .value("true"), .id("approve-\(n.id)"), text: "批准")
                                h.text(" ")
                                h.el(.button, .type("submit"), .name("approve"), .value("false"), .id("refuse-\(n.id)"), text: "驳回（须填意见）")
                            }
                        }
                    }
                }
            }
            if can.contains(.opinion) {
                h.el(.form, .method("post"), .action("/cases/\(id)/notes"), .id("opinion-form"), .cls("step"), .attr("enctype", "multipart/form-data")) { h in
                    h.csrfField()
                    h.void(.input, .type("hidden"), .name("kind"), .value("opinion"))
                    h.el(.h3, text: "协办意见（送主办单位）")
                    h.el(.label) { h in
                        h.text("意见 ")
                        h.void(.input, .type("text"), .name("text"), .id("opinion-text"), .required, .attr("maxlength", CaseService.maxNote))
                    }
                    fileInput(&h, id: "opinion-attachment")
                    h.el(.button, .type("submit"), .id("opinion-submit"), text: "提交意见")
                }
            }
            if can.contains(.extension) {
                h.el(.form, .method("post"), .action("/cases/\(id)/extension-request"), .id("extension-request-form"), .cls("step"),
                     .attr("enctype", "multipart/form-data")) { h in
                    h.csrfField()
                    h.el(.h3, text: "申请延期（报指挥部审批）")
                    h.el(.label) { h in
                        h.text("延期至 ")
                        h.void(.input, .type("date"), .name("due"), .id("extension-due"), .required)
                    }
                    h.el(.label) { h in
                        h.text(" 理由 ")
                        h.void(.input, .type("text"), .name("reason"), .id("extension-reason"), .required, .attr("maxlength", CaseService.maxNote))
                    }
                    fileInput(&h, id: "extension-attachment")
                    h.el(.button, .type("submit"), .id("extension-request-submit"), text: "提交申请")
                }
            }
            if can.contains(.followup) {
                h.el(.form, .method("post"), .action("/cases/\(id)/notes"), .id("followup-form"), .cls("step"), .attr("enctype", "multipart/form-data")) { h in
                    h.csrfField()
                    h.void(.input, .type("hidden"), .name("kind"), .value("followup"))
                    h.el(.h3, text: "续报")
                    h.el(.label) { h in
                        h.text("进展 ")
                        h.void(.input, .type("text"), .name("text"), .id("followup-text"), .required, .attr("maxlength", CaseService.maxNote))
                    }
                    h.el(.label, .cls("check")) { h in
                        h.void(.input, .type("checkbox"), .name("resolved"), .value("true"), .id("followup-resolved"))
                        h.text("问题已解决（不再续报）")
                    }
                    fileInput(&h, id: "followup-attachment")
                    h.el(.button, .type("submit"), .id("followup-submit"), text: "提交续报")
                }
            }
        }
    }

    // MARK: inbox

    static func inbox(_ b: CaseService.Inbox, types: CaseTypes, calendar: WorkCalendar, today: CalendarDate) -> Response {
        Page.render(title: "待办", active: "inbox") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "\(b.unit) 待办")
                h.el(.p, .cls("muted"), text: "今天 \(today)；将到期：\(types.dueSoon) 个工作日内到期；每组按期限先后，每页 \(b.per) 件")
            }
            let unitParam = b.unit.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            func link(_ g: InboxGroup?, page: Int = 1) -> String {
                var q = ["unit=\(unitParam)"]
                if let g { q.append("group=\(g.rawValue)"); if page > 1 { q.append("page=\(page)") } }
                return "/inbox?" + q.joined(separator: "&") + (g == nil ? "" : "#\(g!.rawValue)")
            }
            h.el(.div, .cls("tiles"), .id("inbox-counts")) { h in
                for g in InboxGroup.allCases {
                    h.el(.a, .cls(g == b.only ? "tile active" : "tile"), .href(link(g)), .data("group", g.rawValue)) { h in
                        h.el(.strong, .cls("count"), text: String(b.count(g)))
                        h.el(.span, text: g.chinese)
                    }
                }
                h.el(.span, .cls("tile"), .id("flag-counts"), .data("yellow", b.yellow), .data("red", b.red), text: "黄牌 \(b.yellow) · 红牌 \(b.red)")
            }
            if b.only != nil {
                h.el(.p) { h in h.el(.a, .id("inbox-all"), .href(link(nil)), text: "← 全部分组") }
            }
            for g in InboxGroup.allCases {
                guard let rows = b.rows[g] else { continue }
                h.el(.section, .cls("card"), .id(g.rawValue)) { h in
                    h.el(.h2) { h in
                        h.text(g.chinese + " ")
                        h.el(.small, text: "\(b.count(g)) 件")
                    }
                    if g == .followUp {
                        followUpTable(&h, rows, types: types, today: today)
                    } else {
                        table(&h, id: "\(g.rawValue)-table", rows, types: types, calendar: calendar, today: today, empty: "无。")
                    }
                    let pages = (b.count(g) + b.per - 1) / b.per
                    if pages > 1 {
                        h.el(.nav, .cls("pager"), .id("\(g.rawValue)-pager")) { h in
                            let page = b.only == g ? b.page : 1
                            h.text("第 \(page)/\(pages) 页 ")
                            if page > 1 { h.el(.a, .href(link(g, page: page - 1)), .cls("prev"), text: "上一页") }
                            h.text(" ")
                            if page < pages { h.el(.a, .href(link(g, page: page + 1)), .cls("next"), text: "下一页") }
                        }
                    }
                }
            }
        }
    }

    /// The follow-up reports owed (续报): the case and the date it is owed by.
    static func followUpTable(_ h: inout HTMLWriter, _ rows: [Store.CaseRecord], types: CaseTypes, today: CalendarDate) {
        h.table(id: "follow-up-table", headers: [("编号", false), ("类型", false), ("标题", false), ("答复类别", false), ("续报期限", false)],
                rows: rows, empty: "无。") { h, r in
            let late = (r.followUpDue ?? "9999") < today.description
            h.el(.tr, .data("case-id", r.id), .data("late", late), .cls(late ? "late" : nil)) { h in
                h.el(.td) { h in h.el(.a, .href("/cases/\(r.id)"), text: r.ref) }
                h.el(.td, text: types.stored(r.type)?.name ?? r.type)
                h.el(.td, .cls("name")) { h in h.el(.a, .href("/cases/\(r.id)"), text: r.title) }
                h.el(.td, text: r.category ?? "—")
                h.el(.td, text: (r.followUpDue ?? "—") + (late ? "（已逾期）" : ""))
            }
        }
    }

    // MARK: calendar

    static func calendar(year: Int, calendar cal: WorkCalendar, years: [Int], stored: [CalendarService.StoredYear] = [],
                         canEdit: Bool = false, form: (holidays: String, workdays: String)? = nil, error: String? = nil,
                         notice: String? = nil, status: HTTPResponseStatus = .ok) -> Response {
        Page.render(title: "工作日历 \(year)", status: status, active: "calendar") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "工作日历 \(year) 年")
                h.el(.p, .cls("muted"), text: cal.covers(year)
                     ? "按国务院办公厅 \(year) 年部分节假日安排：节假日休息，调休上班日上班。所有签收、答复期限按此计算。"
                     : "\(year) 年的放假安排尚未配置：只按周末计算（管理员可在配置中增加）。")
                h.yearLinks(label: "年度：", years: years, current: year) { "/calendar?year=\($0)" }
                if let st = stored.first(where: { $0.year == year }) {
                    h.el(.p, .cls("muted"), .id("calendar-source"),
                         text: "\(year) 年的安排由 \(st.recordedBy) 于 \(Date(timeIntervalSince1970: Double(st.recordedUs) / 1e6).formatted(.iso8601.year().month().day())) 在本页录入。")
                }
            }
            h.notice(notice)
            h.formError(error)
            h.el(.p, .cls("legend")) { h in
                h.el(.span, .cls("day holiday"), text: "休")
                h.text(" 节假日  ")
                h.el(.span, .cls("day makeup"), text: "班")
                h.text(" 调休上班  ")
                h.el(.span, .cls("day weekend"), text: "末")
                h.text(" 周末")
            }
            h.el(.div, .cls("calendar-year"), .id("calendar")) { h in
                for month in 1...12 {
                    h.el(.table, .cls("month"), .data("month", month)) { h in
                        h.el(.caption, text: "\(month) 月")
                        h.el(.tr) { h in for w in ["一", "二", "三", "四", "五", "六", "日"] { h.el(.th, text: w) } }
                        let first = CalendarDate(year: year, month: month, day: 1)!
                        var d = first
                        var cells: [CalendarDate?] = Array(repeating: nil, count: first.weekday - 1)
                        while d.month == month { cells.append(d); d = d.adding(days: 1) }
                        while cells.count % 7 != 0 { cells.append(nil) }
                        for row in stride(from: 0, to: cells.count, by: 7) {
                            h.el(.tr) { h in
                                for c in cells[row..<row + 7] {
                                    guard let c else { h.el(.td); continue }
                                    let y = cal.years[year]
                                    let cls = y?.holidays.contains(c) == true ? "holiday" : y?.workdays.contains(c) == true ? "makeup"
                                        : c.isWeekend ? "weekend" : "workday"
                                    h.el(.td, .cls("day \(cls)"), .data("date", c.description), .attr("title", cls == "holiday" ? "节假日" : cls == "makeup" ? "调休上班" : cls == "weekend" ? "周末" : "工作日"),
                                         text: String(c.day))
                                }
                            }
                        }
                    }
                }
            }
            if canEdit {
                let st = stored.first { $0.year == year }
                let y = cal.years[year]
                func listed(_ days: Set<CalendarDate>) -> String {
                    // consecutive days as first..last
                    var out: [String] = []
                    var run: [CalendarDate] = []
                    for d in days.sorted() {
                        if let last = run.last, last.adding(days: 1) != d {
                            out.append(run.count == 1 ? "\(run[0])" : "\(run[0])..\(run.last!)"); run = []
                        }
                        run.append(d)
                    }
                    if !run.isEmpty { out.append(run.count == 1 ? "\(run[0])" : "\(run[0])..\(run.last!)") }
                    return out.joined(separator: "\n")
                }
                h.el(.section, .cls("card"), .id("calendar-edit")) { h in
                    h.el(.h2, text: cal.covers(year) ? "修改 \(year) 年放假安排" : "录入 \(year) 年放假安排")
                    h.el(.p, .cls("muted"), text: "按国务院办公厅当年通知填写：每行一个日期或“起..止”（如 \(year)-02-05..\(year)-02-13）；调休上班日须为周六或周日。保存后新的期限即按此计算，已计算的期限不变。")
                    h.el(.form, .method("post"), .action("/calendar/years"), .id("calendar-form")) { h in
                        h.csrfField()
                        h.void(.input, .type("hidden"), .name("year"), .value(year))
                        h.el(.p) { h in
                            h.el(.label, .for("cal-holidays"), text: "节假日（放假）")
                            h.el(.textarea, .name("holidays"), .id("cal-holidays"), .attr("rows", 8), .required,
                                 text: form?.holidays ?? st?.holidays ?? y.map { listed($0.holidays) } ?? "")
                        }
                        h.el(.p) { h in
                            h.el(.label, .for("cal-workdays"), text: "调休上班日")
                            h.el(.textarea, .name("workdays"), .id("cal-workdays"), .attr("rows", 4),
                                 text: form?.workdays ?? st?.workdays ?? y.map { listed($0.workdays) } ?? "")
                        }
                        h.el(.button, .type("submit"), .id("calendar-save"), text: "保存 \(year) 年安排")
                    }
                }
            }
        }
    }

    // MARK: bulletin

    static func bulletin(_ b: Bulletin, types: CaseTypes, issued: Store.BulletinRecord? = nil, list: [Store.BulletinRecord] = [],
                         error: String? = nil, status: HTTPResponseStatus = .ok) -> Response {
        Page.render(title: issued?.number ?? "督导通报", status: status, active: "bulletin", head: Page.Head.chart + [.script("/static/bulletin.js")]) { h in
            h.el(.section, .cls("page-head")) { h in
                if let issued {
                    h.el(.p, .cls("muted")) { h in h.el(.a, .href("/cases/bulletin"), text: "← 督导通报") }
                    h.el(.h1, .id("bulletin-title"), text: "\(issued.title)（\(issued.number)）")
                    h.el(.p, .id("bulletin-issued"), text: "\(issued.issuedOn) 由 \(issued.issuedBy) 发布；内容已冻结，按发布时的办理记录生成。")
                } else {
                    h.el(.h1, text: "督导通报")
                }
                h.el(.p, .cls("muted"), .id("bulletin-scope"),
                     text: "\(b.type.flatMap { types.type(named: $0)?.name } ?? "全部类型")，交办日期 \(b.from) 至 \(b.to)，统计截至 \(b.asOf)；按时办复率、满意率排名（应办复不足 \(types.minCases) 件的单位不排名），后 \(types.bottom) 名为末位。")
            }
            h.formError(error)
            if let issued {
                h.el(.p, .cls("filters")) { h in
                    h.el(.a, .cls("button"), .id("bulletin-xlsx"), .href("/cases/bulletins/\(issued.id)/xlsx"), text: "导出 Excel")
                    h.text(" ")
                    h.el(.a, .cls("button"), .id("bulletin-csv"), .href("/cases/bulletins/\(issued.id)/csv"), text: "导出 CSV")
                }
            } else {
            h.el(.form, .id("filters"), .cls("filters"), .method("get"), .action("/cases/bulletin")) { h in
                h.el(.label) { h in
                    h.text("类型 ")
                    h.select(name: "type", id: "type", options: [("", "全部")] + types.types.map { ($0.key, $0.name) }, selected: b.type ?? "")
                }
                for (name, label, value) in [("from", "交办自", b.from.description), ("to", "至", b.to.description), ("as_of", "统计截至", b.asOf.description)] {
                    h.el(.label) { h in
                        h.text(label + " ")
                        h.void(.input, .type("date"), .name(name), .id(name), .value(value))
                    }
                }
                h.el(.button, .type("submit"), text: "生成")
                h.el(.a, .cls("button"), .id("bulletin-xlsx"),
                     .href(HTML.url("/cases/bulletin.xlsx", [("type", b.type), ("from", b.from.description), ("to", b.to.description), ("as_of", b.asOf.description)])),
                     text: "导出 Excel")
            }
            h.el(.form, .id("issue-form"), .cls("filters"), .method("post"), .action("/cases/bulletin/issue")) { h in
                h.csrfField()
                for (name, value) in [("type", b.type ?? ""), ("from", b.from.description), ("to", b.to.description), ("as_of", b.asOf.description)] {
                    h.void(.input, .type("hidden"), .name(name), .value(value))
                }
                h.el(.label) { h in
                    h.text("文号 ")
                    h.void(.input, .type("text"), .name("number"), .id("issue-number"), .required, .placeholder("督办通报〔\(b.asOf.year)〕1号"))
                }
                h.el(.label) { h in
                    h.text("标题 ")
                    h.void(.input, .type("text"), .name("title"), .id("issue-title"), .value("督导通报"))
                }
                h.el(.button, .type("submit"), .id("issue-submit"), text: "发布（发布后冻结）")
            }
            if !list.isEmpty {
                h.el(.section, .cls("card"), .id("issued")) { h in
                    h.el(.h2, text: "已发布的通报")
                    h.table(id: "issued-table", headers: [("文号", false), ("标题", false), ("发布日期", false), ("统计截至", false), ("发布人", false)],
                            rows: list) { h, r in
                        h.el(.tr, .data("bulletin-id", r.id)) { h in
                            h.el(.td) { h in h.el(.a, .href("/cases/bulletins/\(r.id)"), text: r.number) }
                            h.el(.td, text: r.title)
                            h.el(.td, text: r.issuedOn)
                            h.el(.td, text: r.asOf)
                            h.el(.td, text: r.issuedBy)
                        }
                    }
                }
            }
            }
            h.el(.section, .cls("card chart-card")) { h in
                h.el(.h2, text: "按时办复率与满意率（已排名单位）")
                h.el(.div, .cls("chart-box")) { h in
                    h.el(.canvas, .id("bulletin-chart"), .aria("label", "各单位按时办复率与满意率"), .role("img"))
                }
            }
            struct ChartData: Encodable { var units: [String]; var onTime: [Double?]; var satisfaction: [Double?]; var yellow: [Int]; var red: [Int] }
            let ranked = b.rows.filter { $0.rank != nil }
            h.jsonScript(id: "bulletin-data", ChartData(units: ranked.map(\.unit), onTime: ranked.map { $0.onTimeRate.value.map { $0 * 100 } },
                                                        satisfaction: ranked.map { $0.satisfactionRate.value.map { $0 * 100 } },
                                                        yellow: ranked.map(\.yellow), red: ranked.map(\.red)))
            h.el(.section, .cls("card")) { h in
                h.el(.h2) { h in
                    h.text("各单位办理情况 ")
                    h.el(.small, text: "\(b.rows.count) 个单位、\(b.cases.count) 件")
                }
                h.table(id: "bulletin-table", headers: Bulletin.chineseHeader.enumerated().map { ($0.element, $0.offset > 0 && $0.offset < 16) },
                        rows: b.rows) { h, r in
                    h.el(.tr, .data("unit", r.unit), .data("bottom", r.bottom ? "1" : "0"), .cls(r.bottom ? "bottom" : "")) { h in
                        h.el(.td, .cls("name"), text: r.unit)
                        for n in [r.assigned, r.acceptedOnTime, r.acceptLate, r.replied, r.replyDue, r.repliedOnTime] { h.el(.td, .cls("num"), text: String(n)) }
                        h.el(.td, .cls("num"), text: r.onTimeRate.percent)
                        for n in [r.overdueNow, r.yellow, r.red, r.evaluated] { h.el(.td, .cls("num"), text: String(n)) }
                        for rate in [r.satisfactionRate, r.resolutionRate, r.headRate] { h.el(.td, .cls("num"), text: rate.percent) }
                        h.el(.td, .cls("num"), text: r.rank.map(String.init) ?? "不排名")
                        h.el(.td, text: r.bottom ? "末位" : "")
                    }
                }
            }
        }
    }

    // MARK: the petitioner

    static func petition(view v: CaseService.CaseView?, ref: String, code: String, message: String?, status: HTTPResponseStatus) -> Response {
        Page.render(title: "信访件查询", status: status) { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "信访件办理进度查询")
                h.el(.p, .cls("muted"), text: "请输入登记时告知的信访件编号和 8 位查询码。")
            }
            h.formError(message)
            h.el(.form, .method("post"), .action("/petition"), .id("petition-form"), .cls("card")) { h in
                h.csrfField()
                h.el(.label) { h in
                    h.text("编号 ")
                    h.void(.input, .type("text"), .name("ref"), .id("petition-ref"), .value(ref), .required, .attr("maxlength", 100))
                }
                h.el(.label) { h in
                    h.text(" 查询码 ")
                    h.void(.input, .type("password"), .name("code"), .id("petition-code"), .required, .attr("maxlength", 20), .attr("autocomplete", "off"))
                }
                h.text(" ")
                h.el(.button, .type("submit"), .id("petition-submit"), text: "查询")
            }
            guard let v else { return }
            let r = v.record
            h.el(.section, .cls("card"), .id("petition-result")) { h in
                h.el(.h2, text: "\(r.ref)：\(r.title)")
                h.el(.dl, .cls("facts")) { h in
                    h.el(.dt, text: "办理状态")
                    h.el(.dd, .id("petition-state"), text: r.loopState?.chinese ?? r.state)
                    h.el(.dt, text: "承办单位")
                    h.el(.dd, text: r.leadUnit ?? "（待交办）")
                    h.el(.dt, text: "受理（签收）日期")
                    h.el(.dd, text: r.acceptedOn ?? "尚未签收")
                    h.el(.dt, text: "答复期限")
                    h.el(.dd, text: r.replyDue.map { "\($0)（\(v.type.replyBasis)）" } ?? "签收后计算")
                }
                let replies = v.events.filter { $0.kind == "reply" }
                if !replies.isEmpty {
                    h.el(.h3, text: "答复")
                    h.el(.ul, .id("petition-replies")) { h in
                        for e in replies { h.el(.li, text: "\(e.date) \(e.unit)：\(e.note.isEmpty ? "已答复" : e.note)") }
                    }
                }
                if v.loop.check(.evaluate) == nil {
                    h.el(.form, .method("post"), .action("/petition/rate"), .id("petition-rate-form")) { h in
                        h.csrfField()
                        h.void(.input, .type("hidden"), .name("ref"), .value(ref))
                        h.void(.input, .type("hidden"), .name("code"), .value(code))
                        h.el(.h3, text: "评价答复")
                        for rt in CaseRating.allCases {
                            h.el(.label, .cls("check")) { h in
                                h.void(.input, .type("radio"), .name("rating"), .value(rt.rawValue), .required)
                                h.text(rt.chinese)
                            }
                        }
                        h.el(.label) { h in
                            h.text(" 意见 ")
                            h.void(.input, .type("text"), .name("note"), .attr("maxlength", CaseService.maxNote))
                        }
                        h.el(.button, .type("submit"), .id("petition-rate-submit"), text: "提交评价")
                    }
                } else if let rt = r.rating {
                    h.el(.p, .id("petition-rating"), text: "您的评价：\(CaseRating(rawValue: rt)?.chinese ?? rt)")
                }
            }
        }
    }
}
