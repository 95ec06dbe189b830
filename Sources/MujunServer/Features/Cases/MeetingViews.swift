import Foundation
import Vapor
import MujunCore
import MujunStore

/// The pages of meetings that assign: the list with each meeting's answered share
/// (事事有回音), the form that records a meeting and assigns its items on the spot, and one meeting
/// with every item's state.
enum MeetingViews {
    static func list(_ rows: [(Store.MeetingRecord, items: Int, answered: Int)], canCreate: Bool) -> Response {
        Page.render(title: "会议交办", active: "meetings") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "会议交办")
                h.el(.p, .cls("muted"), text: "永商会客厅、日会商、周例会、现场办公、领导接访：会上提出的事项一一作出回应和交办，下次会议从“事事有回音”开始。")
                if canCreate {
                    h.el(.p, .cls("filters")) { h in
                        for k in MeetingKind.allCases {
                            h.el(.a, .cls("button"), .id("new-\(k.rawValue)"), .href("/meetings/new?kind=\(k.rawValue)"), text: "记录\(k.chinese)")
                            h.text(" ")
                        }
                    }
                }
            }
            h.el(.section, .cls("card")) { h in
                h.table(id: "meetings-table", headers: [("日期", false), ("类型", false), ("会议", false), ("主持", false), ("事项", true),
                                                        ("已答复", true), ("回音率", true)],
                        rows: rows, empty: "暂无会议记录。") { h, row in
                    let (m, items, answered) = row
                    h.el(.tr, .data("meeting-id", m.id)) { h in
                        h.el(.td, text: m.heldOn)
                        h.el(.td, text: MeetingKind(rawValue: m.kind)?.chinese ?? m.kind)
                        h.el(.td, .cls("name")) { h in h.el(.a, .href("/meetings/\(m.id)"), text: m.title) }
                        h.el(.td, text: m.chair)
                        h.el(.td, .cls("num"), text: String(items))
                        h.el(.td, .cls("num"), text: String(answered))
                        h.el(.td, .cls("num"), text: items == 0 ? "—" : "\(answered * 100 / items)%")
                    }
                }
            }
        }
    }

    static let itemRows = 6

    static func form(types: CaseTypes, units: [String], kind: MeetingKind, input f: CaseWorkFeature.MeetingForm?, error: String?,
                     status: HTTPResponseStatus = .ok) -> Response {
        Page.render(title: "记录\(kind.chinese)", status: status, active: "meetings", head: [.script("/static/meeting.js")]) { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.p, .cls("muted")) { h in h.el(.a, .href("/meetings"), text: "← 会议交办") }
                h.el(.h1, text: "记录\(kind.chinese)并交办")
                h.el(.p, .cls("muted"), text: "每个事项保存后即登记为督办事项并交办给主办单位，期限按类型与工作日历计算（整治任务等须填写办理期限）。任何一项有误时整场会议都不保存。")
            }
            h.formError(error)
            h.el(.form, .method("post"), .action("/meetings/new"), .id("meeting-form"), .cls("card")) { h in
                h.csrfField()
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("会议类型 ")
                        h.select(name: "kind", id: "m-kind", options: MeetingKind.allCases.map { ($0.rawValue, $0.chinese) }, selected: f?.kind ?? kind.rawValue)
                    }
                    h.text(" ")
                    h.el(.label) { h in
                        h.text("日期 ")
                        h.void(.input, .type("date"), .name("held_on"), .id("m-held_on"), .value(f?.heldOn ?? ""))
                    }
                }
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("会议名称 ")
                        h.void(.input, .type("text"), .name("title"), .id("m-title"), .required, .attr("maxlength", CaseService.maxTitle),
                               .value(f?.title ?? ""), .placeholder("如 第12期永商会客厅"))
                    }
                }
                h.el(.p) { h in
                    h.el(.label) { h in
                        h.text("主持人 ")
                        h.void(.input, .type("text"), .name("chair"), .id("m-chair"), .required, .value(f?.chair ?? ""))
                    }
                    h.text(" ")
                    h.el(.label) { h in
                        h.text("地点 ")
                        h.void(.input, .type("text"), .name("place"), .id("m-place"), .value(f?.place ?? ""))
                    }
                }
                h.el(.p) { h in
                    h.el(.label, .for("m-attendees"), text: "参会人员（每行一个，或用顿号分隔）")
                    h.el(.textarea, .name("attendees"), .id("m-attendees"), .attr("rows", 3), text: f?.attendees ?? "")
                }
                h.el(.h2, text: "会上提出的事项")
                h.el(.div, .cls("table-wrap")) { h in
                    h.el(.table, .cls("data"), .id("items-table")) { h in
                        h.el(.thead) { h in
                            h.el(.tr) { h in
                                for t in ["类型", "事项", "提出人", "主办单位", "协办单位（顿号分隔）", "办理期限"] { h.el(.th, text: t) }
                            }
                        }
                        h.el(.tbody) { h in
                            let n = max(itemRows, f?.rowCount ?? 0)
                            for i in 0..<n {
                                h.el(.tr, .cls("item-row"), .data("row", i)) { h in
                                    h.el(.td) { h in
                                        h.select(name: "item_type[]", id: "item-type-\(i)", options: types.types.map { ($0.key, $0.name) },
                                                 selected: f.map { $0.at($0.itemType, i) } ?? kind.usualCaseType)
                                    }
                                    h.el(.td) { h in
                                        h.void(.input, .type("text"), .name("item_title[]"), .id("item-title-\(i)"), .attr("maxlength", CaseService.maxTitle),
                                               .value(f.map { $0.at($0.itemTitle, i) } ?? ""))
                                    }
                                    h.el(.td) { h in
                                        h.void(.input, .type("text"), .name("item_requester[]"), .id("item-requester-\(i)"),
                                               .value(f.map { $0.at($0.itemRequester, i) } ?? ""), .placeholder("如 某公司 张总"))
                                    }
                                    h.el(.td) { h in
                                        h.select(name: "item_lead[]", id: "item-lead-\(i)", options: [("", "（选择）")] + units.map { ($0, $0) },
                                                 selected: f.map { $0.at($0.itemLead, i) } ?? "")
                                    }
                                    h.el(.td) { h in
                                        h.void(.input, .type("text"), .name("item_co[]"), .id("item-co-\(i)"), .value(f.map { $0.at($0.itemCo, i) } ?? ""))
                                    }
                                    h.el(.td) { h in
                                        h.void(.input, .type("date"), .name("item_due[]"), .id("item-due-\(i)"), .value(f.map { $0.at($0.itemDue, i) } ?? ""))
                                    }
                                }
                            }
                        }
                    }
                }
                h.el(.p) { h in
                    h.el(.button, .type("button"), .id("add-item"), text: "添加一行")
                    h.el(.span, .cls("muted"), text: " 事项一栏留空的行不保存。")
                }
                h.el(.p) { h in
                    h.el(.label, .for("m-notes"), text: "会议纪要（可选）")
                    h.el(.textarea, .name("notes"), .id("m-notes"), .attr("rows", 3), .attr("maxlength", CaseService.maxBody), text: f?.notes ?? "")
                }
                h.el(.p) { h in h.el(.button, .type("submit"), .id("meeting-submit"), text: "保存并交办") }
            }
        }
    }

    static func detail(_ v: CaseService.MeetingView, types: CaseTypes, calendar: WorkCalendar, today: CalendarDate, notice: String?,
                       status: HTTPResponseStatus) -> Response {
        let m = v.meeting
        let kind = MeetingKind(rawValue: m.kind)?.chinese ?? m.kind
        return Page.render(title: "\(kind) \(m.title)", status: status, active: "meetings") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.p, .cls("muted")) { h in h.el(.a, .href("/meetings"), text: "← 会议交办") }
                h.el(.h1, .id("meeting-title"), text: "\(kind)：\(m.title)")
            }
            h.notice(notice)
            h.el(.section, .cls("card"), .id("meeting-facts")) { h in
                h.el(.dl, .cls("facts")) { h in
                    h.el(.dt, text: "日期"); h.el(.dd, .id("meeting-date"), text: m.heldOn)
                    h.el(.dt, text: "主持"); h.el(.dd, text: m.chair)
                    if !m.place.isEmpty { h.el(.dt, text: "地点"); h.el(.dd, text: m.place) }
                    h.el(.dt, text: "参会"); h.el(.dd, .id("meeting-attendees"), text: m.attendeeList.isEmpty ? "—" : "\(m.attendeeList.count) 人：\(m.attendeeList.joined(separator: "、"))")
                    h.el(.dt, text: "事事有回音")
                    h.el(.dd, .id("meeting-answered")) { h in
                        h.el(.progress, .attr("max", max(v.itemCount, 1)), .attr("value", v.answered), text: "\(v.answered)/\(v.itemCount)")
                        h.text(" \(v.itemCount) 项交办，已答复 \(v.answered) 项")
                    }
                }
                if !m.notes.isEmpty { h.el(.p, .id("meeting-notes"), text: m.notes) }
            }
            h.el(.section, .cls("card")) { h in
                h.el(.h2) { h in
                    h.text("交办事项 ")
                    h.el(.small, text: v.items.count == v.itemCount ? "\(v.itemCount) 项" : "本单位可见 \(v.items.count) 项（共 \(v.itemCount) 项）")
                }
                CaseViews.table(&h, id: "meeting-items", v.items, types: types, calendar: calendar, today: today, empty: "没有本单位可见的事项。")
            }
        }
    }
}
