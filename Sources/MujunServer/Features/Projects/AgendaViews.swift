import Foundation
import Vapor
import MujunCore
import MujunStore

/// `/projects/agenda` (周例会 / 日会商议程): generated from the data — late projects with why,
/// milestones due in the window, red 督办 cases, targets behind the year's pace; HQ turns it into
/// a meeting whose items (one per late project) become cases on the spot (`/meetings/new?agenda=…`).
enum AgendaViews {
    static func page(_ req: Request, weekly: Bool) async throws -> Response {
        let a = try await req.service.projects.agenda(weekly: weekly)
        let p = try req.principal()
        let name = weekly ? "周例会" : "日会商"
        let caseTypes = req.application.serviceContext.caseTypes
        let calendar = req.application.serviceContext.calendar
        return Page.render(title: "\(name)议程", active: "projects") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: "\(name)议程 · \(a.day)")
                h.el(.p) { h in
                    h.el(.a, .href("/projects/agenda?kind=weekly"), .cls(weekly ? "active" : nil), .id("agenda-weekly"), text: "周例会")
                    h.text(" · ")
                    h.el(.a, .href("/projects/agenda?kind=daily"), .cls(weekly ? nil : "active"), .id("agenda-daily"), text: "日会商")
                    h.el(.span, .cls("muted"), text: "　议程由数据生成：滞后项目、\(a.day) 至 \(a.until) 到期的节点、红牌督办事项、低于全年进度（\(String(format: "%.0f%%", a.pace * 100))）的目标。")
                }
                if AccessPolicy.allows(p.role, .superviseCases) {
                    h.el(.p) { h in
                        h.el(.a, .cls("button"), .id("agenda-meeting"), .href("/meetings/new?kind=\(weekly ? "weekly" : "daily")&agenda=1"),
                             text: "按议程记录\(name)并交办")
                        h.el(.span, .cls("muted"), text: "　每个滞后项目预填为一项整治任务，交办给责任镇街；会上可增删修改。")
                    }
                }
            }
            h.el(.section, .cls("card"), .id("agenda-late")) { h in
                h.el(.h2, text: "一、滞后项目（\(a.late.count)）")
                h.table(id: "agenda-late-table", headers: [("项目", false), ("责任镇街", false), ("牵头部门", false), ("进度", false), ("滞后原因", false)],
                        rows: a.late, empty: "没有滞后项目。") { h, l in
                    h.el(.tr, .data("project", l.record.id)) { h in
                        h.el(.td) { h in h.el(.a, .href("/projects/\(l.record.id)"), text: "\(l.record.ref) \(l.record.name)") }
                        h.el(.td, text: l.record.town)
                        h.el(.td, text: l.record.leadUnit)
                        h.el(.td) { h in ProjectViews.progressBar(&h, l.record.progress) }
                        h.el(.td, .cls("wrap"), text: l.reasons.joined(separator: "；"))
                    }
                }
            }
            h.el(.section, .cls("card"), .id("agenda-due")) { h in
                h.el(.h2, text: "二、\(a.day) 至 \(a.until) 到期的节点（\(a.due.count)）")
                h.table(id: "agenda-due-table", headers: [("计划完成", false), ("项目", false), ("节点", false), ("责任镇街", false)],
                        rows: a.due, empty: "这段时间没有到期的节点。") { h, d in
                    h.el(.tr, .data("project", d.record.id)) { h in
                        h.el(.td, text: d.milestone.planned.description)
                        h.el(.td) { h in h.el(.a, .href("/projects/\(d.record.id)"), text: "\(d.record.ref) \(d.record.name)") }
                        h.el(.td, text: d.milestone.name)
                        h.el(.td, text: d.record.town)
                    }
                }
            }
            h.el(.section, .cls("card"), .id("agenda-red")) { h in
                h.el(.h2, text: "三、红牌督办事项（\(a.redCases.count)）")
                CaseViews.table(&h, id: "agenda-red-table", a.redCases, types: caseTypes, calendar: calendar, today: a.day, empty: "没有红牌督办事项。")
            }
            h.el(.section, .cls("card"), .id("agenda-behind")) { h in
                h.el(.h2, text: "四、进度落后的目标（\(a.behind.count)）")
                h.table(id: "agenda-behind-table", headers: [("责任单位", false), ("指标", false), ("目标值", true), ("完成值", true), ("完成率", false)],
                        rows: a.behind, empty: "没有落后于全年进度的目标。") { h, l in
                    h.el(.tr, .data("unit", l.unit), .data("indicator", l.indicator.rawValue)) { h in
                        h.el(.td, text: l.unit)
                        h.el(.td, text: l.indicator.chinese)
                        h.el(.td, .cls("num"), text: HTML.num(l.target))
                        h.el(.td, .cls("num"), text: HTML.num(l.done))
                        h.el(.td) { h in ProjectViews.progressBar(&h, min(1, l.rate ?? 0)) }
                    }
                }
            }
        }
    }

    /// The meeting form filled from the agenda: one task (整治任务) per late project, assigned to
    /// its town, due in 5 working days.
    static func meetingForm(_ req: Request, weekly: Bool) async throws -> CaseWorkFeature.MeetingForm {
        let a = try await req.service.projects.agenda(weekly: weekly)
        let calendar = req.application.serviceContext.calendar
        let due = calendar.addingWorkdays(5, to: a.day).description
        let kind: MeetingKind = weekly ? .weekly : .daily
        return CaseWorkFeature.MeetingForm(
            kind: kind.rawValue, title: "\(kind.chinese)（\(a.day)）", heldOn: a.day.description, place: nil, chair: "", attendees: nil,
            notes: "议程：滞后项目 \(a.late.count) 个，到期节点 \(a.due.count) 个，红牌督办 \(a.redCases.count) 件，落后目标 \(a.behind.count) 项。",
            itemType: a.late.map { _ in "task" },
            itemTitle: a.late.map { String("督促\($0.record.name)（\($0.record.ref)）赶上进度".prefix(CaseService.maxTitle)) },
            itemRequester: a.late.map { _ in "项目指挥部" }, itemLead: a.late.map(\.record.town), itemCo: a.late.map { _ in "" },
            itemDue: a.late.map { _ in due })
    }
}
