import Foundation
import Vapor
import MujunCore
import MujunStore

/// The pages of the quota ledger (全域土地综合整治): `/quota` (the projects the caller sees) and
/// `/quota/:id` — the balance sheet per town and type at a date with its chart, the project-wide
/// checks as gauges against their limits (先补后调, 质量不降低), the transfer requests with HQ's
/// decision, the posting and request forms, and the journal with its filters; both tables export
/// to Excel.
enum QuotaViews {
    static func mu(_ units: Int64) -> String { QuotaAmount.format(units) }

    // MARK: the list

    static func list(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let projects = try await req.service.quota.projects()
        return Page.render(title: "全域土地综合整治", active: "quota") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: "全域土地综合整治：跨镇指标台账")
                h.el(.p, text: "验收入账、供地使用、跨镇调剂、冲正，每一笔按规则检查：耕地不减少、质量不降低、永久基本农田先补后调，余额精确到万分之一亩。")
                if AccessPolicy.allows(p.role, .manageQuota) {
                    h.el(.details, .id("new-project")) { h in
                        h.el(.summary, text: "新建全域整治项目")
                        h.el(.form, .method("post"), .action("/quota"), .id("quota-project-form"), .cls("card")) { h in
                            h.csrfField()
                            h.el(.label) { h in h.text("项目名称 "); h.void(.input, .type("text"), .name("name"), .required, .attr("size", 30)) }
                            h.text(" ")
                            h.el(.label) { h in h.text("镇街（逗号分隔）"); h.void(.input, .type("text"), .name("towns"), .required, .attr("size", 24)) }
                            h.text(" ")
                            h.el(.label) { h in h.text("开始日期 "); h.void(.input, .type("date"), .name("start"), .required) }
                            h.text(" ")
                            h.el(.label) { h in h.text("先补后调余量 "); h.void(.input, .type("text"), .name("margin"), .value("0.05"), .attr("size", 6)) }
                            h.text(" ")
                            h.el(.button, .type("submit"), text: "新建")
                        }
                    }
                }
            }
            h.table(id: "quota-projects", headers: [("项目", false), ("镇街", false), ("开始日期", false), ("最近记账", false)],
                    rows: projects, empty: "暂无您可查看的全域整治项目。") { h, r in
                h.el(.tr, .data("id", r.id)) { h in
                    h.el(.td) { h in h.el(.a, .href("/quota/\(r.id)"), text: r.name) }
                    h.el(.td, text: r.townList.joined(separator: "、"))
                    h.el(.td, text: r.startOn)
                    h.el(.td, text: r.latestOn ?? "—")
                }
            }
        }
    }

    // MARK: one project

    struct ChartData: Encodable {
        var towns: [String]
        /// per quota key: credited, used, balance per town (mu)
        var series: [String: [String: [Double]]]
    }

    static func step(_ req: Request, id: Int64, anchor: String, _ body: () async throws -> Void) async throws -> Response {
        do {
            try await body()
            return req.redirect(to: "/quota/\(id)#\(anchor)", redirectType: .normal)
        } catch let e as ServiceError where e.kind != .forbidden && e.kind != .notFound {
            return try await detail(req, id: id, query: .init(id: RecordID(id)), error: e.message, status: ErrorMiddleware.status(e.kind))
        }
    }

    static func detail(_ req: Request, id: Int64, query q: QuotaFeature.PageQuery, error: String?, status: HTTPResponseStatus = .ok) async throws -> Response {
        let s = req.service.quota
        let p = try req.principal()
        let r = try await s.project(id: id)
        let day = try q.day()
        let lines = try await s.balances(id: id, asOf: day)
        let checks = try await s.checks(id: id)
        let transfers = try await s.transfers(id: id)
        let subs = try await s.subProjects(id: id)
        let linkable = AccessPolicy.allows(p.role, .manageQuota) ? try await s.linkable(id: id) : []
        let filter = q.filter
        let journal = try await s.journal(id: id, filter)
        let towns = r.townList
        let canPost = AccessPolicy.allows(p.role, .postQuota) && (p.role != .town || towns.contains(p.town ?? ""))
        let ownTown = p.role == .town ? p.town : nil
        let manage = AccessPolicy.allows(p.role, .manageQuota)
        var series: [String: [String: [Double]]] = [:]
        for qt in QuotaType.allCases {
            let ls = towns.map { t in lines.first { $0.town == t && $0.quota == qt }!.balance }
            let planned = towns.map { t in
                subs.filter { $0.town == t }.reduce(Int64(0)) { $0 + (qt == .newFarmland ? $1.plannedNewFarmland : qt == .reclaimedConstruction ? $1.plannedReclaimed : $1.plannedBasic) }
            }
            series[qt.key] = ["planned": planned.map { Double($0) / 10_000 }, "credited": ls.map { Double($0.credited) / 10_000 },
                              "used": ls.map { Double($0.used) / 10_000 }, "balance": ls.map { Double($0.balance) / 10_000 }]
        }
        let quotaOptions = QuotaType.allCases.map { ($0.key, $0.chinese) }
        // the sub-projects' parcels on a small map (the reader's own land scope), coloured by status
        let parcelsBySub = try await s.subProjectParcels(id: id)
        let creditsBySub = try await s.subProjectCredits(id: id, asOf: day)
        var mapJSON: [UInt8]?
        var mapped = 0
        if AccessPolicy.allows(p.role, .viewLand), !parcelsBySub.isEmpty {
            let statusOf = Dictionary(parcelsBySub.flatMap { sid, ids in ids.map { ($0, subs.first { $0.id == sid }?.status ?? "") } },
                                      uniquingKeysWith: { a, _ in a })
            let year = try await req.service.land.years().max() ?? -1
            let rows = try await req.service.land.parcels(Store.ParcelFilter(year: year, ids: Array(statusOf.keys)), limit: 2_000).rows
            mapped = rows.count
            var fc = Array("{\"type\":\"FeatureCollection\",\"features\":[".utf8)
            fc += try LandGeo.features(rows) { statusOf[$0.parcel.parcelID].map { "sub-\($0)" } }
            fc += Array("]}".utf8)
            mapJSON = fc
        }
        return Page.render(title: r.name, status: status, active: "quota", head: Page.Head.map + Page.Head.chart + [.script("/static/quota.js")]) { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: r.name)
                h.el(.p, text: "镇街 \(towns.joined(separator: "、")) · 开始 \(r.startOn) · 永久基本农田先补后调余量 \(QuotaLedger.plain(r.marginUnits)) · 最近记账 \(r.latestOn ?? "—")")
                h.el(.form, .method("get"), .action("/quota/\(id)"), .id("as-of-form")) { h in
                    h.el(.label) { h in
                        h.text("余额截至 ")
                        h.void(.input, .type("date"), .name("as_of"), .id("as-of"), .value(day?.description ?? ""))
                    }
                    h.text(" ")
                    h.el(.button, .type("submit"), .cls("secondary"), text: "查看")
                    h.text(" ")
                    h.el(.a, .cls("button secondary"), .id("export-balances"), .href("/quota/\(id)/balances.xlsx" + (day.map { "?as_of=\($0)" } ?? "")),
                         text: "导出余额表 Excel")
                }
            }
            h.formError(error)
            h.el(.section, .cls("card"), .id("balances")) { h in
                h.el(.h2, text: day.map { "各镇各类指标余额（截至 \($0)）" } ?? "各镇各类指标余额")
                h.table(id: "balance-sheet", headers: [("镇街", false), ("指标类型", false), ("入账（亩）", true), ("使用（亩）", true),
                                                       ("调入（亩）", true), ("调出（亩）", true), ("余额（亩）", true)], rows: lines) { h, l in
                    h.el(.tr, .data("town", l.town), .data("quota", l.quota.key)) { h in
                        h.el(.td, text: l.town)
                        h.el(.td, text: l.quota.chinese)
                        for v in [l.balance.credited, l.balance.used, l.balance.transferredIn, l.balance.transferredOut] {
                            h.el(.td, .cls("num"), text: mu(v))
                        }
                        h.el(.td, .cls(l.balance.balance < 0 ? "num negative balance" : "num balance"), text: mu(l.balance.balance))
                    }
                }
            }
            h.el(.section, .cls("card chart-card")) { h in
                h.el(.h2, text: "新增耕地与建设用地复垦指标：子项目计划、入账、使用与余额（亩）")
                h.el(.div, .cls("chart-box")) { h in h.el(.canvas, .id("chart-quota"), .attr("aria-label", "各镇入账、使用与余额")) }
            }
            h.jsonScript(id: "quota-data", ChartData(towns: towns, series: series))
            h.el(.section, .cls("card"), .id("checks")) { h in
                h.el(.h2, text: "全项目校验（每一笔记账时检查）")
                let need = checks.basicRequired
                h.el(.p) { h in
                    h.el(.label, .for("gauge-basic"), text: "永久基本农田：补划 \(mu(checks.basicAdded)) 亩，调出 \(mu(checks.basicOut)) 亩，须补划不少于 \(mu(need)) 亩 ")
                    h.el(.meter, .id("gauge-basic"), .attr("min", "0"), .attr("max", String(max(need, checks.basicAdded, 1))),
                         .attr("low", String(need)), .attr("optimum", String(max(need, checks.basicAdded, 1))),
                         .attr("value", String(checks.basicAdded)), .data("added", mu(checks.basicAdded)), .data("required", mu(need)),
                         text: "\(mu(checks.basicAdded)) / \(mu(need))")
                }
                h.el(.p) { h in
                    let cg = checks.creditedGrade.map { String(format: "%.4f", $0) } ?? "—"
                    let ug = checks.usedGrade.map { String(format: "%.4f", $0) } ?? "—"
                    h.el(.label, .for("gauge-grade"), text: "新增耕地质量：入账加权等别 \(cg)，使用加权等别 \(ug)（等别越小越好，入账不得劣于使用）")
                    h.text(" ")
                    h.el(.meter, .id("gauge-grade"), .attr("min", "1"), .attr("max", "15"), .attr("high", ug == "—" ? "15" : ug),
                         .attr("optimum", "1"), .attr("value", cg == "—" ? "0" : cg), .data("credited", cg), .data("used", ug), text: "\(cg) / \(ug)")
                }
            }
            h.el(.section, .cls("card"), .id("subprojects")) { h in
                h.el(.h2, text: "子项目（立项 → 实施 → 验收；验收时计划指标记入所在镇街）")
                h.table(id: "subproject-table", headers: [("项目", false), ("类型", false), ("镇街", false), ("计划新增耕地（亩）", true), ("等别", true),
                                                          ("计划复垦（亩）", true), ("计划补划（亩）", true), ("已入账（亩）", false), ("状态", false), ("操作", false)],
                        rows: subs, empty: "暂无子项目。") { h, sp in
                    h.el(.tr, .data("id", sp.id), .data("status", sp.status), .data("town", sp.town)) { h in
                        h.el(.td) { h in h.el(.a, .href("/projects/\(sp.projectId)"), text: "\(sp.ref ?? "") \(sp.name ?? "")") }
                        h.el(.td, text: sp.kind)
                        h.el(.td, text: sp.town)
                        h.el(.td, .cls("num"), text: mu(sp.plannedNewFarmland))
                        h.el(.td, .cls("num"), text: sp.grade.map(String.init) ?? "")
                        h.el(.td, .cls("num"), text: mu(sp.plannedReclaimed))
                        h.el(.td, .cls("num"), text: mu(sp.plannedBasic))
                        let got = creditsBySub[sp.id] ?? [:]
                        h.el(.td, .cls("credited"), .data("credited", mu(got.values.reduce(0, +))),
                             text: got.isEmpty ? "—" : QuotaType.allCases.compactMap { q in got[q].map { "\(q.chinese) \(mu($0))" } }.joined(separator: "；"))
                        h.el(.td, .cls("subproject-status"), text: sp.statusName + (sp.acceptedOn.map { "（\($0)）" } ?? ""))
                        h.el(.td) { h in
                            let mayAct = canPost && (ownTown == nil || ownTown == sp.town)
                            if mayAct && sp.status == "approved" {
                                h.el(.form, .method("post"), .action("/quota/subprojects/\(sp.id)/start"), .cls("inline start-form")) { h in
                                    h.csrfField(); h.el(.button, .type("submit"), .cls("secondary"), text: "开始实施")
                                }
                            } else if mayAct && sp.status == "underway" {
                                h.el(.form, .method("post"), .action("/quota/subprojects/\(sp.id)/accept"), .cls("inline accept-form")) { h in
                                    h.csrfField(); h.el(.button, .type("submit"), text: "验收入账")
                                }
                            }
                        }
                    }
                }
                if manage && !linkable.isEmpty {
                    h.el(.form, .method("post"), .action("/quota/\(id)/subprojects"), .id("subproject-form")) { h in
                        h.csrfField()
                        h.el(.h3, text: "关联子项目（在“项目推进”中立项的全域整治子项目）")
                        h.el(.label) { h in h.text("项目 "); h.select(name: "project", id: "s-project", options: linkable.map { (String($0.id), $0.label) }, selected: nil) }
                        h.text(" ")
                        h.el(.label) { h in h.text("计划新增耕地（亩）"); h.void(.input, .type("text"), .name("new_farmland"), .id("s-nf"), .attr("size", 8)) }
                        h.el(.label) { h in h.text(" 等别 "); h.void(.input, .type("text"), .name("grade"), .id("s-grade"), .attr("size", 3)) }
                        h.el(.label) { h in h.text(" 计划复垦（亩）"); h.void(.input, .type("text"), .name("reclaimed"), .id("s-rc"), .attr("size", 8)) }
                        h.el(.label) { h in h.text(" 计划补划永久基本农田（亩）"); h.void(.input, .type("text"), .name("basic"), .id("s-bf"), .attr("size", 8)) }
                        h.text(" ")
                        h.el(.button, .type("submit"), .id("subproject-submit"), text: "关联")
                    }
                }
            }
            h.el(.section, .cls("card"), .id("quota-map-card")) { h in
                h.el(.h2, text: "子项目地块（\(towns.joined(separator: "、"))）")
                if let mapJSON {
                    h.el(.p, text: "\(mapped) 块地块；点击地块查看详情。在挂图作战的“项目状态”图层中，子项目与其他项目一同显示。")
                    h.el(.div, .cls("mini-map"), .id("quota-map"), .data("source", "quota-map-data"))
                    h.jsonScript(id: "quota-map-data", json: mapJSON)
                } else {
                    h.el(.p, .id("quota-map-empty"), text: parcelsBySub.isEmpty ? "子项目尚未关联地块（在“项目推进”中为子项目选择地块）。" : "您的账号不查看地块图。")
                }
            }
            h.el(.section, .cls("card"), .id("transfers")) { h in
                h.el(.h2, text: "跨镇调剂申请")
                h.table(id: "transfer-table", headers: [("编号", true), ("调出", false), ("调入", false), ("指标类型", false), ("数量（亩）", true),
                                                        ("理由", false), ("申请", false), ("状态", false), ("处理", false)],
                        rows: transfers, empty: "暂无调剂申请。") { h, t in
                    h.el(.tr, .data("id", t.id), .data("state", t.state)) { h in
                        h.el(.td, .cls("num"), text: String(t.id))
                        h.el(.td, text: t.fromTown)
                        h.el(.td, text: t.toTown)
                        h.el(.td, text: QuotaType(cell: t.quota)?.chinese ?? t.quota)
                        h.el(.td, .cls("num"), text: mu(t.units))
                        h.el(.td, text: t.reason)
                        h.el(.td, text: "\(t.requestedBy) \(t.requestedOn)")
                        h.el(.td, .cls("transfer-state"), text: ["requested": "待批准", "approved": "已批准（第 \(t.entrySeq.map(String.init) ?? "—") 号）",
                                                                  "rejected": "不予批准"][t.state] ?? t.state)
                        h.el(.td) { h in
                            if t.state == "requested" && manage {
                                h.el(.form, .method("post"), .action("/quota/transfers/\(t.id)/decision"), .cls("inline decide-form")) { h in
                                    h.csrfField()
                                    h.void(.input, .type("text"), .name("note"), .attr("placeholder", "意见（不予批准须填写）"), .attr("size", 14))
                                    h.el(.button, .type("submit"), .name("decision"), .value("approve"), .cls("approve"), text: "批准")
                                    h.el(.button, .type("submit"), .name("decision"), .value("reject"), .cls("secondary reject"), text: "不予批准")
                                }
                            } else {
                                h.text(t.decisionNote ?? "")
                            }
                        }
                    }
                }
                if canPost {
                    h.el(.form, .method("post"), .action("/quota/\(id)/transfers"), .id("transfer-form")) { h in
                        h.csrfField()
                        h.el(.h3, text: "申请调剂")
                        h.el(.label) { h in
                            h.text("调出镇街 ")
                            h.select(name: "from", id: "t-from", options: (ownTown.map { [$0] } ?? towns).map { ($0, $0) }, selected: ownTown)
                        }
                        h.text(" ")
                        h.el(.label) { h in h.text("调入镇街 "); h.select(name: "to", id: "t-to", options: towns.map { ($0, $0) }, selected: towns.first { $0 != ownTown }) }
                        h.text(" ")
                        h.el(.label) { h in h.text("指标类型 "); h.select(name: "quota", id: "t-quota", options: quotaOptions.filter { $0.0 != "basic_farmland" }, selected: nil) }
                        h.text(" ")
                        h.el(.label) { h in h.text("数量（亩）"); h.void(.input, .type("text"), .name("amount"), .id("t-amount"), .required, .attr("size", 10)) }
                        h.text(" ")
                        h.el(.label) { h in h.text("理由 "); h.void(.input, .type("text"), .name("reason"), .id("t-reason"), .required, .attr("size", 24)) }
                        h.text(" ")
                        h.el(.button, .type("submit"), .id("transfer-submit"), text: "提交申请")
                    }
                }
            }
            if canPost {
                h.el(.section, .cls("card"), .id("posting")) { h in
                    h.el(.h2, text: "记账（验收入账、供地使用、冲正）")
                    h.el(.form, .method("post"), .action("/quota/\(id)/postings"), .id("posting-form")) { h in
                        h.csrfField()
                        h.el(.label) { h in
                            h.text("动作 ")
                            h.select(name: "action", id: "p-action", options: [("credit", "入账"), ("use", "使用"), ("reverse", "冲正")], selected: nil)
                        }
                        h.text(" ")
                        h.el(.label) { h in h.text("镇街 "); h.select(name: "town", id: "p-town", options: (ownTown.map { [$0] } ?? towns).map { ($0, $0) }, selected: ownTown) }
                        h.text(" ")
                        h.el(.label) { h in h.text("指标类型 "); h.select(name: "quota", id: "p-quota", options: quotaOptions, selected: nil) }
                        h.text(" ")
                        h.el(.label) { h in h.text("数量（亩）"); h.void(.input, .type("text"), .name("amount"), .id("p-amount"), .attr("size", 10)) }
                        h.text(" ")
                        h.el(.label) { h in h.text("等别（新增耕地）"); h.void(.input, .type("text"), .name("grade"), .id("p-grade"), .attr("size", 3)) }
                        h.text(" ")
                        h.el(.label) { h in h.text("冲正序号 "); h.void(.input, .type("text"), .name("reverses"), .id("p-reverses"), .attr("size", 5)) }
                        h.text(" ")
                        h.el(.label) { h in h.text("说明 "); h.void(.input, .type("text"), .name("note"), .id("p-note"), .attr("size", 24)) }
                        h.text(" ")
                        h.el(.button, .type("submit"), .id("posting-submit"), text: "记账")
                    }
                }
            }
            h.el(.section, .cls("card"), .id("journal")) { h in
                h.el(.h2, text: "台账流水")
                h.el(.form, .method("get"), .action("/quota/\(id)"), .id("journal-filter")) { h in
                    h.el(.label) { h in h.text("镇街 "); h.select(name: "town", id: "f-town", options: [("", "全部")] + towns.map { ($0, $0) }, selected: filter.town ?? "") }
                    h.text(" ")
                    h.el(.label) { h in h.text("指标类型 "); h.select(name: "quota", id: "f-quota", options: [("", "全部")] + quotaOptions, selected: filter.quota ?? "") }
                    h.text(" ")
                    h.el(.label) { h in
                        h.text("动作 ")
                        h.select(name: "action", id: "f-action", options: [("", "全部")] + QuotaAction.allCases.map { ($0.key, $0.chinese) }, selected: filter.action ?? "")
                    }
                    h.text(" ")
                    h.el(.label) { h in h.text("自 "); h.void(.input, .type("date"), .name("from"), .id("f-from"), .value(filter.from ?? "")) }
                    h.el(.label) { h in h.text(" 至 "); h.void(.input, .type("date"), .name("to"), .id("f-to"), .value(filter.to ?? "")) }
                    h.text(" ")
                    h.el(.button, .type("submit"), .cls("secondary"), text: "筛选")
                    h.text(" ")
                    h.el(.a, .cls("button secondary"), .id("export-journal"), .href("/quota/\(id)/journal.xlsx" + q.filterQuery), text: "导出流水 Excel")
                }
                h.table(id: "journal-table", headers: [("序号", true), ("日期", false), ("动作", false), ("镇街", false), ("调入镇街", false),
                                                       ("指标类型", false), ("数量（亩）", true), ("等别", true), ("冲正", false), ("依据", false), ("说明", false),
                                                       ("记账人", false)],
                        rows: journal, empty: "没有符合条件的记录。") { h, e in
                    h.el(.tr, .data("seq", e.seq), .data("action", e.action)) { h in
                        h.el(.td, .cls("num"), text: String(e.seq))
                        h.el(.td, text: e.date)
                        h.el(.td, text: QuotaAction(cell: e.action)?.chinese ?? e.action)
                        h.el(.td, text: e.town)
                        h.el(.td, text: e.toTown ?? "")
                        h.el(.td, text: QuotaType(cell: e.quota)?.chinese ?? e.quota)
                        h.el(.td, .cls("num"), text: (e.sign < 0 ? "−" : "") + mu(e.units))
                        h.el(.td, .cls("num"), text: e.grade.map(String.init) ?? "")
                        h.el(.td, text: e.reverses.map { "冲正第 \($0) 号" } ?? e.reversedBy.map { "已被第 \($0) 号冲正" } ?? "")
                        h.el(.td, .cls("basis")) { h in
                            if let sid = e.subprojectId, let sp = subs.first(where: { $0.id == sid }) {
                                h.el(.a, .href("/projects/\(sp.projectId)"), .data("subproject", sid), text: "子项目 \(sp.ref ?? "")验收")
                            } else if let t = e.transferId {
                                h.el(.a, .href("#transfers"), .data("transfer", t), text: "调剂申请 #\(t)")
                            }
                        }
                        h.el(.td, text: e.note)
                        h.el(.td, text: e.actor)
                    }
                }
            }
        }
    }

    // MARK: Excel

    static func balancesXLSX(_ req: Request, id: Int64, day: CalendarDate?) async throws -> Response {
        let s = req.service.quota
        let r = try await s.project(id: id)
        let lines = try await s.balances(id: id, asOf: day)
        let c = try await s.checks(id: id)
        var w = XLSXWriter()
        w.addSheet(name: "余额表", headers: ["镇街", "指标类型", "入账（亩）", "使用（亩）", "调入（亩）", "调出（亩）", "余额（亩）"],
                   rows: lines.map { l in
                       [.text(l.town), .text(l.quota.chinese)] + [l.balance.credited, l.balance.used, l.balance.transferredIn, l.balance.transferredOut,
                                                                  l.balance.balance].map { .number(Double($0) / 10_000) }
                   },
                   columnWidths: [12, 16, 14, 14, 14, 14, 14], numberFormats: [nil, nil, "0.0000", "0.0000", "0.0000", "0.0000", "0.0000"])
        w.addSheet(name: "说明", headers: ["项目", "内容"],
                   rows: [("项目", r.name), ("镇街", r.townList.joined(separator: "、")), ("余额截至", day?.description ?? "最新"),
                          ("永久基本农田补划 / 调出（亩）", "\(mu(c.basicAdded)) / \(mu(c.basicOut))"), ("导出时间", HTML.dateTime(Date()))]
                       .map { [.text($0.0), .text($0.1)] }, columnWidths: [26, 50])
        return Page.download(try w.data(), type: Page.xlsxType, asciiName: "quota-balances-\(id).xlsx",
                             name: "\(r.name)指标余额表\(day.map { "（截至\($0)）" } ?? "").xlsx")
    }

    static func journalXLSX(_ req: Request, id: Int64, filter: QuotaService.JournalFilter) async throws -> Response {
        let s = req.service.quota
        let r = try await s.project(id: id)
        var f = filter
        f.limit = 10_000
        let entries = try await s.journal(id: id, f)
        let subs = try await s.subProjects(id: id)
        var w = XLSXWriter()
        w.addSheet(name: "台账流水", headers: ["序号", "日期", "动作", "镇街", "调入镇街", "指标类型", "数量（亩）", "等别", "冲正序号", "被冲正于", "调剂申请",
                                               "子项目", "说明", "记账人"],
                   rows: entries.map { e in
                       [.number(Double(e.seq)), .text(e.date), .text(QuotaAction(cell: e.action)?.chinese ?? e.action), .text(e.town), .text(e.toTown ?? ""),
                        .text(QuotaType(cell: e.quota)?.chinese ?? e.quota), .number(Double(e.units) / 10_000), e.grade.map { .number(Double($0)) } ?? .empty,
                        e.reverses.map { .number(Double($0)) } ?? .empty, e.reversedBy.map { .number(Double($0)) } ?? .empty,
                        e.transferId.map { .number(Double($0)) } ?? .empty, .text(e.subprojectId.flatMap { sid in subs.first { $0.id == sid }?.ref } ?? ""),
                        .text(e.note), .text(e.actor)]
                   },
                   columnWidths: [8, 12, 8, 10, 10, 14, 12, 6, 10, 10, 10, 14, 36, 14],
                   numberFormats: ["0", nil, nil, nil, nil, nil, "0.0000", "0", "0", "0", "0", nil, nil, nil])
        return Page.download(try w.data(), type: Page.xlsxType, asciiName: "quota-journal-\(id).xlsx", name: "\(r.name)台账流水.xlsx")
    }
}
