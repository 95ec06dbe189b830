import Foundation
import Vapor
import MujunCore
import MujunStore

/// `/clusters` (renewal candidates, 集中连片) and its Excel export, and `/surveys` (surveys
/// waiting for review).
enum ClusterPages {
    struct Params {
        var year: Int
        var all: Bool
        var town: String?
        var sort: LandFeature.ClusterSort
        var descending: Bool

        init(_ q: LandFeature.ClusterListQuery, year: Int, towns: [String]) {
            self.year = year
            all = q.all?.value ?? false
            town = q.town?.value.nilIfEmpty.flatMap { towns.contains($0) ? $0 : nil }
            sort = q.sort ?? .area
            descending = q.order.map { $0 == .desc } ?? (sort != .number)
        }

        func href(_ path: String = "/clusters", year: Int? = nil, sort: LandFeature.ClusterSort? = nil, descending: Bool? = nil) -> String {
            HTML.url(path, [("year", String(year ?? self.year)), ("all", all ? "1" : nil), ("town", town),
                            ("sort", (sort ?? self.sort).rawValue), ("order", (descending ?? self.descending) ? "desc" : "asc")])
        }
    }

    /// The clusters of the list (candidates, or all), filtered and sorted.
    static func clusters(_ land: LandService, _ p: Params) async throws -> [ClusterSummary] {
        var rows = try await land.clusters(year: p.year, candidatesOnly: !p.all).rows.map(\.summary)
        if let t = p.town { rows = rows.filter { $0.towns.contains(t) } }
        func key(_ c: ClusterSummary) -> Double {
            switch p.sort {
            case .area: c.areaMu
            case .count: Double(c.count)
            case .low: c.blockLowEfficiencyShare
            case .occupants: Double(c.occupants.count)
            case .number: Double(c.number)
            }
        }
        rows.sort { a, b in
            let ka = key(a), kb = key(b)
            if ka != kb { return p.descending ? ka > kb : ka < kb }
            return a.number < b.number
        }
        return rows
    }

    static func list(_ req: Request, _ q: LandFeature.ClusterListQuery) async throws -> Response {
        let land = req.service.land
        let (year, years) = try await land.year(q.year?.int)
        guard let year else { return LandViews.noLand(try req.principal(), title: "集中连片整治候选", active: "map") }
        let towns = land.towns
        let p = Params(q, year: year, towns: towns)
        let rows = try await clusters(land, p)
        let rules = req.application.serviceContext.landRules
        return Page.render(title: "集中连片整治候选 · \(year) 年度", active: "map", head: [.stylesheet("/static/map.css")]) { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, .id("page-title"), text: "\(year) 年度\(p.all ? "低效用地连片" : "集中连片整治候选")")
                h.yearLinks(label: "认定年度：", years: years, current: year) { p.href(year: $0) }
            }
            h.el(.form, .id("filters"), .cls("filters"), .method("get"), .action("/clusters")) { h in
                h.void(.input, .type("hidden"), .name("year"), .value(year))
                if land.lockedTown == nil {
                    h.el(.label) { h in
                        h.text("镇街 ")
                        h.select(name: "town", id: "town", options: [("", "全部镇街")] + towns.map { ($0, $0) }, selected: p.town ?? "")
                    }
                }
                h.el(.label) { h in
                    h.void(.input, .type("checkbox"), .name("all"), .value("1"), .checked(p.all))
                    h.text(" 含面积不足的低效连片")
                }
                h.el(.button, .type("submit"), text: "查询")
                h.el(.a, .cls("button secondary"), .id("export-xlsx"), .href(p.href("/clusters.xlsx")), text: "导出 Excel")
            }
            let area = rows.reduce(0) { $0 + $1.areaMu }
            h.el(.section, .cls("card")) { h in
                h.el(.p, .id("cluster-total"), .data("count", rows.count)) { h in
                    h.text("共 "); h.el(.b, text: String(rows.count)); h.text(" 片低效用地连片，合计 \(HTML.num(area)) 亩。")
                    h.el(.span, .cls("muted"), text: "当年认定的低效地块间距不超过 \(formatNumber(rules.clusterGap)) 米即视为连片；连片面积不小于 \(formatNumber(rules.minMu)) 亩为集中连片整治候选。“所在区块低效占比”为该连片所在区块（全部地块按同一间距连成的片）中低效用地面积的占比。")
                }
                h.el(.div, .cls("table-wrap")) { h in
                    h.el(.table, .cls("data"), .id("clusters-table")) { h in
                        h.el(.thead) { h in
                            h.el(.tr) { h in
                                func th(_ h: inout HTMLWriter, _ key: LandFeature.ClusterSort, _ label: String) {
                                    let current = p.sort == key
                                    let desc = current ? !p.descending : key != .number
                                    h.el(.th, .id("sort-\(key.rawValue)"), .cls("num" + (current ? " sorted" : ""))) { h in
                                        h.el(.a, .href(p.href(sort: key, descending: desc)), text: label + (current ? (p.descending ? " ▼" : " ▲") : ""))
                                    }
                                }
                                th(&h, .number, "片区编号"); th(&h, .area, "面积(亩)"); th(&h, .count, "地块数")
                                h.el(.th, text: "镇街"); h.el(.th, text: "区块")
                                h.el(.th, text: "低效类型"); th(&h, .low, "所在区块低效占比"); th(&h, .occupants, "用地企业数")
                                h.el(.th, text: "候选"); h.el(.th)
                            }
                        }
                        h.el(.tbody) { h in
                            if rows.isEmpty { h.el(.tr, .cls("none")) { h in h.el(.td, .colspan(10), text: "没有符合条件的低效用地连片。") } }
                            for c in rows {
                                h.el(.tr, .data("cluster", c.number)) { h in
                                    h.el(.td, .cls("num"), text: String(c.number))
                                    h.el(.td, .cls("num"), text: HTML.num(c.areaMu))
                                    h.el(.td, .cls("num"), text: String(c.count))
                                    h.el(.td, text: c.towns.joined(separator: "、"))
                                    h.el(.td, text: c.blocks.joined(separator: "、"))
                                    h.el(.td, .cls("kinds"), text: categoriesText(c))
                                    h.el(.td, .cls("num block-share"), text: String(format: "%.1f%%", c.blockLowEfficiencyShare * 100))
                                    h.el(.td, .cls("num"), text: String(c.occupants.count))
                                    h.el(.td) { h in if c.candidate { h.el(.span, .cls("tag-cand"), text: "候选") } else { h.text("—") } }
                                    h.el(.td) { h in
                                        h.el(.a, .href(HTML.url("/clusters/\(c.number)", [("year", String(year))])), .cls("detail-link"), text: "地块清单")
                                        h.text(" · ")
                                        h.el(.a, .href(HTML.url("/map", [("year", String(year)), ("cluster", String(c.number))])), .cls("map-link"), text: "在地图上查看")
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `GET /clusters.xlsx`: one row per cluster of the list, and the parcels of its candidate clusters.
    static func export(_ req: Request, _ q: LandFeature.ClusterListQuery) async throws -> Response {
        let land = req.service.land
        let (year, _) = try await land.year(q.year?.int)
        guard let year else { throw Abort(.notFound, reason: "尚无地块认定结果 / no land assessment yet") }
        let p = Params(q, year: year, towns: land.towns)
        let clusters = try await clusters(land, p)
        func num(_ x: Double?) -> XLSXCell { x.map { $0.isFinite ? .number($0) : .empty } ?? .empty }
        let cRows: [[XLSXCell]] = clusters.map { c in
            [.number(Double(c.number)), num(c.areaMu), .number(Double(c.count)), .text(c.towns.joined(separator: "、")),
             .text(c.blocks.joined(separator: "、")), .text(categoriesText(c)), .text(reasonsText(c)),
             num(c.block?.areaMu), num(c.blockLowEfficiencyShare), .number(Double(c.occupants.count)), .text(c.candidate ? "是" : "否")]
        }
        var w = XLSXWriter()
        w.addSheet(name: p.all ? "低效用地连片" : "集中连片整治候选",
                   headers: ["片区编号", "面积(亩)", "地块数", "镇街", "区块", "低效类型", "认定理由", "所在区块面积(亩)", "所在区块低效占比",
                             "用地企业数", "整治候选"],
                   rows: cRows, columnWidths: [9, 11, 8, 24, 24, 30, 36, 14, 14, 10, 9],
                   numberFormats: ["0", "0.00", "0", nil, nil, nil, nil, "0.00", "0.0%", "0", nil])

        // the parcels of the candidate clusters listed
        let numbers = Set(clusters.filter(\.candidate).map(\.number))
        let rows = try await land.parcels(Store.ParcelFilter(year: year), limit: 10_000_000).rows
            .filter { r in r.cluster.map { numbers.contains($0) } ?? false }
            .sorted { ($0.cluster ?? 0, $0.parcel.parcelID) < ($1.cluster ?? 0, $1.parcel.parcelID) }
        let details = try await land.assessments(year: year, ids: rows.map(\.parcel.parcelID))
        let vis = try await land.visibility(year: year)
        let pRows: [[XLSXCell]] = rows.map { r in
            let p = r.parcel, a = details[p.parcelID]
            let reasons = (a?.reasons ?? []).map { $0.kind == .occupantClass && (!vis.classes || vis.isEnterprise) ? $0.kind.chinese : $0.zh }
            return [.number(Double(r.cluster ?? 0)), .text(p.parcelID), .text(p.town), .text(p.block ?? ""), num(p.areaMu),
                    num(p.registeredMu), .text(p.status?.chinese ?? ""), .text(r.lowEfficiency == true ? "是" : "否"),
                    .text(a?.category?.chinese ?? ""), .text(reasons.joined(separator: "；")), num(r.taxPerMu), .text(vis.mapClass(r) ?? ""),
                    .text((a?.occupants ?? []).map { $0.name ?? $0.creditCode }.joined(separator: "、")),
                    .text(SurveyService.State.short(r.surveyState))]
        }
        w.addSheet(name: "候选片区地块",
                   headers: ["片区编号", "地块编号", "镇街", "区块", "面积(亩)", "登记面积(亩)", "现状", "低效", "低效类型", "低效认定理由",
                             "亩均税收(万元/亩)", "主要用地企业分类", "用地企业", "调查状态"],
                   rows: pRows, columnWidths: [9, 18, 12, 14, 10, 12, 7, 6, 11, 48, 14, 10, 48, 9],
                   numberFormats: ["0", nil, nil, nil, "0.00", "0.00", nil, nil, nil, nil, "0.00", nil, nil, nil])
        let rules = req.application.serviceContext.landRules
        let notes: [(String, String)] = [
            ("认定年度", "\(year)"), ("范围", p.town ?? (land.lockedTown ?? "全部镇街")),
            ("片区", p.all ? "全部低效用地连片" : "集中连片整治候选（面积不小于 \(formatNumber(rules.minMu)) 亩）"),
            ("连片规则", "当年认定的低效地块间距不超过 \(formatNumber(rules.clusterGap)) 米（CGCS2000 高斯-克吕格投影）即相连，连通的低效地块为一片；所在区块为全部地块按同一间距连成的片"),
            ("低效类型", "批而未供、供而未用、用而未尽、建而未投、投而未达标，按地块的批准、供地、约定开工/竣工与投产日期及认定理由归类；数据不足以归类的为“未归类”"),
            ("片区数", "\(clusters.count)"), ("候选片区地块数", "\(rows.count)"), ("导出时间", HTML.dateTime(Date())),
        ]
        w.addSheet(name: "说明", headers: ["项目", "内容"], rows: notes.map { [.text($0.0), .text($0.1)] }, columnWidths: [14, 70])
        return Page.download(try w.data(), type: Page.xlsxType, asciiName: "clusters-\(year).xlsx",
                             name: "\(year)年度\(p.all ? "低效用地连片" : "集中连片整治候选").xlsx")
    }

    /// A cluster's parcels by the five kinds: `投而未达标 5（12.3亩）、未归类 1（2.0亩）`.
    static func categoriesText(_ c: ClusterSummary) -> String {
        (c.categories ?? []).map { "\($0.category?.chinese ?? "未归类") \($0.parcels)（\(HTML.num($0.areaMu))亩）" }.joined(separator: "、")
    }

    /// A cluster's parcels by reason: `亩均税收低 5、闲置 2`.
    static func reasonsText(_ c: ClusterSummary) -> String {
        (c.reasons ?? []).map { "\($0.kind.chinese) \($0.parcels)" }.joined(separator: "、")
    }

    /// `/clusters/:number`: one cluster of low-efficiency parcels with its block, its parcels by
    /// kind and reason, and every parcel with its occupants (and their classes, when the caller
    /// may see them) and reasons.
    static func detail(_ req: Request, number: Int, year asked: Int?) async throws -> Response {
        let land = req.service.land
        let (year, years) = try await land.year(asked)
        guard let year else { return LandViews.noLand(try req.principal(), title: "低效用地连片", active: "map") }
        guard let d = try await land.clusterDetail(year: year, number: number) else {
            throw Abort(.notFound, reason: "\(year) 年度没有第 \(number) 片低效用地连片 / no cluster \(number) in \(year)")
        }
        let c = d.summary
        let rules = req.application.serviceContext.landRules
        return Page.render(title: "第 \(number) 片低效用地连片 · \(year) 年度", active: "map", head: [.stylesheet("/static/map.css")]) { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.p) { h in h.el(.a, .href(HTML.url("/clusters", [("year", String(year))])), text: "← 集中连片整治候选") }
                h.el(.h1, .id("page-title")) { h in
                    h.text("\(year) 年度第 \(number) 片低效用地连片 ")
                    if c.candidate { h.el(.span, .cls("tag-cand"), .id("candidate-tag"), text: "整治候选") }
                }
                h.yearLinks(label: "认定年度：", years: years, current: year) { HTML.url("/clusters", [("year", String($0))]) }
            }
            h.el(.section, .cls("card"), .id("cluster-summary")) { h in
                h.el(.dl, .cls("facts")) { h in
                    h.el(.dt, text: "面积"); h.el(.dd, .id("cluster-area"), text: "\(HTML.num(c.areaMu)) 亩（\(c.count) 个低效地块）")
                    h.el(.dt, text: "镇街"); h.el(.dd, text: c.towns.joined(separator: "、"))
                    h.el(.dt, text: "区块"); h.el(.dd, text: c.blocks.isEmpty ? "—" : c.blocks.joined(separator: "、"))
                    if let b = c.block {
                        h.el(.dt, text: "所在区块")
                        h.el(.dd, .id("block-share"), .data("share", String(format: "%.4f", b.lowEfficiencyShare)),
                             text: "\(b.parcels) 个地块，\(HTML.num(b.areaMu)) 亩，其中低效 \(b.lowEfficiencyCount) 个、\(HTML.num(b.lowEfficiencyMu)) 亩（占 \(String(format: "%.1f%%", b.lowEfficiencyShare * 100))）")
                    }
                    h.el(.dt, text: "用地企业"); h.el(.dd, text: "\(c.occupants.count) 家")
                }
                h.el(.p, .cls("muted"), text: "低效地块间距不超过 \(formatNumber(rules.clusterGap)) 米即连成一片；面积不小于 \(formatNumber(rules.minMu)) 亩的为集中连片整治候选。")
                h.el(.p) { h in
                    h.el(.a, .cls("button secondary"), .href(HTML.url("/map", [("year", String(year)), ("cluster", String(number))])), text: "在地图上查看")
                    if let role = PageContext.identity?.principal.role, AccessPolicy.allows(role, .createProjects) {
                        h.text(" ")
                        h.el(.a, .cls("button"), .id("new-project"),
                             .href(HTML.url("/projects/new", [("type", "remediation"), ("year", String(year)), ("cluster", String(number))])), text: "立项整治")
                    }
                }
            }
            h.el(.section, .cls("card"), .id("cluster-kinds")) { h in
                h.el(.h2, text: "低效类型与认定理由")
                h.table(id: "categories-table", headers: [("低效类型", false), ("地块数", true), ("面积(亩)", true)], rows: c.categories ?? []) { h, t in
                    h.el(.tr, .data("category", t.category?.rawValue ?? "none")) { h in
                        h.el(.td, text: t.category.map { "\($0.chinese)（\($0.english)）" } ?? "未归类（数据不足）")
                        h.el(.td, .cls("num"), text: String(t.parcels))
                        h.el(.td, .cls("num"), text: HTML.num(t.areaMu))
                    }
                }
                h.table(id: "reasons-table", headers: [("认定理由", false), ("地块数", true), ("面积(亩)", true)], rows: c.reasons ?? []) { h, t in
                    h.el(.tr, .data("reason", t.kind.rawValue)) { h in
                        h.el(.td, text: t.kind.chinese)
                        h.el(.td, .cls("num"), text: String(t.parcels))
                        h.el(.td, .cls("num"), text: HTML.num(t.areaMu))
                    }
                }
            }
            h.el(.section, .cls("card"), .id("cluster-parcels")) { h in
                h.el(.h2) { h in h.text("地块 "); h.el(.small, text: "\(d.parcels.count) 个") }
                h.el(.div, .cls("table-wrap")) { h in
                    h.table(id: "cluster-parcels-table", headers: [("地块编号", false), ("镇街", false), ("区块", false), ("面积(亩)", true),
                                                                  ("现状", false), ("低效类型", false), ("认定理由", false),
                                                                  ("用地企业（分类）", false), ("亩均税收", true)], rows: d.parcels) { h, row in
                        let p = row.row.parcel
                        h.el(.tr, .data("parcel", p.parcelID)) { h in
                            h.el(.td) { h in h.el(.a, .href(HTML.url("/parcels/\(HTML.percent(p.parcelID))", [("year", String(year))])), text: p.parcelID) }
                            h.el(.td, text: p.town)
                            h.el(.td, text: p.block ?? "—")
                            h.el(.td, .cls("num"), text: HTML.num(p.areaMu))
                            h.el(.td, text: p.status?.chinese ?? "—")
                            h.el(.td, .cls("category"), text: row.assessment?.category?.chinese ?? "未归类")
                            h.el(.td, .cls("reasons"), text: row.reasons.map(\.text).joined(separator: "；"))
                            h.el(.td, .cls("occupants")) { h in
                                if row.occupants.isEmpty { h.text("—") }
                                for (i, o) in row.occupants.enumerated() {
                                    if i > 0 { h.text("、") }
                                    h.el(.span, .cls("occupant"), .data("code", o.creditCode), text: o.name)
                                    if let cls = o.cls { h.el(.span, .cls("cls cls-\(cls)"), text: "（\(cls) 类）") }
                                }
                            }
                            h.el(.td, .cls("num"), text: HTML.num(row.row.taxPerMu))
                        }
                    }
                }
            }
        }
    }

    /// `/surveys`: the surveys waiting for review within the caller's towns.
    static func surveys(_ req: Request) async throws -> Response {
        let p = try req.principal()
        let s = req.service.surveys
        let pending = try await s.pending()
        let names = try await s.accountNames(Set(pending.map(\.surveyedBy)))
        return Page.render(title: "现场调查与复核", active: "map", head: [.stylesheet("/static/map.css")]) { h in
            h.el(.section, .cls("page-head")) { h in h.el(.h1, text: "现场调查与复核") }
            guard p.role != .enterprise else {
                h.el(.section, .cls("card")) { h in h.el(.p, .cls("muted"), text: "现场调查记录仅供镇街与指挥部使用。") }
                return
            }
            h.el(.section, .cls("card"), .id("pending")) { h in
                h.el(.h2) { h in h.text("待复核的调查 "); h.el(.small, text: "\(pending.count) 条") }
                if pending.isEmpty {
                    h.el(.p, .cls("muted"), .id("no-pending"), text: "没有待复核的调查。")
                    return
                }
                h.table(id: "pending-table", headers: [("编号", false), ("地块", false), ("镇街", false), ("实际用途", false), ("闲置", false),
                                                      ("调查人", false), ("调查时间", false), ("", false)], rows: pending) { h, sv in
                    let link = "/parcels/\(HTML.percent(sv.parcelID))#survey-\(sv.id)"
                    h.el(.tr, .data("survey", sv.id)) { h in
                        h.el(.td, text: "#\(sv.id)")
                        h.el(.td) { h in h.el(.a, .href(link), text: sv.parcelID) }
                        h.el(.td, text: sv.town)
                        h.el(.td, text: sv.actualUse)
                        h.el(.td, text: sv.idle ? "是" : "否")
                        h.el(.td, text: names[sv.surveyedBy] ?? sv.surveyedBy)
                        h.el(.td, text: HTML.dateTime(sv.surveyedAt))
                        h.el(.td) { h in h.el(.a, .href(link), text: AccessPolicy.allows(p.role, .reviewSurvey) ? "复核" : "查看") }
                    }
                }
            }
            h.el(.p, .cls("muted")) { h in
                h.text("在 "); h.el(.a, .href("/map?layer=survey"), text: "挂图作战"); h.text(" 中选择“调查状态”图层，可查看各地块的调查进度。")
            }
        }
    }
}

enum LandViews {
    /// The page shown when no land has been imported or assessed yet.
    static func noLand(_ p: Principal, title: String, active: String) -> Response {
        Page.render(title: title, active: active) { h in
            h.el(.section, .cls("card empty"), .id("no-land")) { h in
                h.el(.h1, text: "暂无地块认定数据")
                h.el(.p, text: "尚未导入工业用地地块，或尚未运行低效用地认定。")
                h.el(.ol) { h in
                    if AccessPolicy.allows(p.role, .manageLand) {
                        h.el(.li) { h in h.text("在 "); h.el(.a, .href("/land"), text: "地块数据导入"); h.text(" 页面上传地块 GeoJSON 与用地关系表，然后运行认定；") }
                    }
                    h.el(.li) { h in
                        h.text("或用命令行：")
                        for c in ["mujun import parcels 地块.geojson", "mujun import land-use 用地关系.xlsx", "mujun land assess --year 2025"] {
                            h.void(.br); h.el(.code, text: c)
                        }
                    }
                    h.el(.li) { h in h.text("载入演示城市（含地块）："); h.el(.code, text: "mujun demo") }
                }
                h.el(.p, .cls("muted")) { h in
                    h.text("Shapefile 先转换为 GeoJSON：")
                    h.el(.code, text: "ogr2ogr -f GeoJSON -t_srs EPSG:4549 地块.geojson 地块.shp")
                }
            }
        }
    }

    /// The `#my-parcels` section of /my: the enterprise's parcels in the land assessment of
    /// `year` (or the latest one), with a small map.
    static func myParcels(_ req: Request, year asked: Int?) async throws -> HTMLWriter {
        let land = req.service.land
        let (year, _) = try await land.year(asked)
        let rows = try await land.parcels(Store.ParcelFilter(year: year ?? -1), limit: 1000).rows
        var vis: LandService.Visibility?
        if let year { vis = try await land.visibility(year: year) }
        var fc = Array("{\"type\":\"FeatureCollection\",\"features\":[".utf8)
        fc += try LandGeo.features(rows) { vis?.mapClass($0) }
        fc += Array("]}".utf8)
        var h = HTMLWriter()
        h.el(.section, .cls("card"), .id("my-parcels")) { h in
            h.el(.h2, text: "本企业地块")
            guard !rows.isEmpty else {
                h.el(.p, .cls("muted"), .id("no-parcels"), text: "系统中没有登记在本企业名下或由本企业使用的工业用地地块。如有出入，请联系所在镇街。")
                return
            }
            let area = rows.reduce(0) { $0 + $1.parcel.areaMu }
            h.el(.p) { h in
                h.text("共 "); h.el(.b, .id("my-parcel-count"), text: String(rows.count))
                h.text(" 个地块，合计 \(HTML.num(area)) 亩\(year.map { "（\($0) 年度认定）" } ?? "")。")
            }
            h.el(.div, .cls("my-parcels")) { h in
                h.table(id: "my-parcels-table", headers: [("地块编号", false), ("镇街", false), ("区块", false), ("面积(亩)", true), ("现状", false),
                                                         ("亩均税收", true), ("低效认定", false)], rows: rows) { h, r in
                    let p = r.parcel
                    h.el(.tr, .data("parcel", p.parcelID)) { h in
                        h.el(.td) { h in h.el(.a, .href(HTML.url("/parcels/\(HTML.percent(p.parcelID))", [("year", year.map(String.init))])), text: p.parcelID) }
                        h.el(.td, text: p.town)
                        h.el(.td, text: p.block ?? "—")
                        h.el(.td, .cls("num"), text: HTML.num(p.areaMu))
                        h.el(.td, text: p.status?.chinese ?? "—")
                        h.el(.td, .cls("num"), text: HTML.num(r.taxPerMu))
                        h.el(.td) { h in
                            if r.lowEfficiency == nil { h.text("—") }
                            else if r.lowEfficiency == true { h.el(.span, .cls("tag-low"), text: "低效") }
                            else { h.el(.span, .cls("tag-ok"), text: "非低效") }
                        }
                    }
                }
                h.el(.div, .cls("mini-map"), .id("my-parcels-map"), .data("source", "my-parcels-data"), .data("year", year.map(String.init) ?? ""))
            }
            h.el(.p, .cls("muted"), text: "低效用地按地块认定（闲置、亩均税收、用地企业分类、容积率），详见各地块页面。")
            h.jsonScript(id: "my-parcels-data", json: fc)
            h.void(.link, .attr("rel", "stylesheet"), .href("/vendor/leaflet.css"))
            h.void(.link, .attr("rel", "stylesheet"), .href("/static/map.css"))
            h.el(.script, .src("/vendor/leaflet.js"), .flag("defer"))
            h.el(.script, .src("/static/map.js"), .flag("defer"))
        }
        return h
    }
}
