import Foundation
import Vapor
import MujunCore
import MujunStore

/// `/map`: the battle map. The page holds the filters, legend and summary; Public/map.js draws
/// the parcels it fetches from `/api/v1/map/parcels` (configured by the `#map-config` JSON).
enum MapPage {
    /// Configuration of the battle map for Public/map.js (`#map-config`).
    struct MapConfig: Encodable {
        var year: Int
        var years: [Int]
        var towns: [String]
        var lockedTown: String?
        var town: String?
        var block: String?
        var blocks: [[String]]
        var layer: String
        var tileURL: String?
        var tileAttribution: String?
        var focus: Focus?
        var threshold: Int
        /// a lower threshold asked for in the page's query (`/map?limit=`), to try the bbox mode
        var limit: Int?
        var enterprisePages: Bool
        var canManage: Bool
        var role: String
        struct Focus: Encodable { var kind: String; var id: String; var bbox: [Double]; var cluster: ClusterInfo? }
        struct ClusterInfo: Encodable {
            var number: Int; var year: Int; var area_mu: Double; var count: Int; var towns: [String]; var blocks: [String]
            var low_count: Int; var low_mu: Double; var low_share: Double; var candidate: Bool; var occupants: Int; var parcels: [String]
        }
    }

    static let layers: [(key: String, name: String)] = [("cls", "评价分类"), ("low", "低效用地"), ("cluster", "低效连片"), ("survey", "调查状态"), ("project", "项目状态")]

    static func render(_ req: Request, _ q: LandFeature.MapQuery) async throws -> Response {
        let p = try req.principal()
        let land = req.service.land
        let (year, years) = try await land.year(q.year?.int)
        guard let year else { return LandViews.noLand(p, title: "挂图作战", active: "map") }
        let towns = p.role == .enterprise ? [] : land.towns
        let locked = land.lockedTown
        var town = locked ?? q.town?.value.nilIfEmpty
        if let t = town, !towns.contains(t) { town = nil }
        let blocks = try await land.blocks()
        var block = q.block?.value.nilIfEmpty
        if let b = block, !blocks.contains(where: { $0.block == b }) { block = nil }
        var layer = q.layer?.rawValue ?? "cls"

        var focus: MapConfig.Focus?
        if let n = q.cluster?.int, let c = try await land.cluster(year: year, number: n), let box = LandGeo.crs84(c.summary.bbox) {
            let s = c.summary
            let visible = Set(try await land.parcels(Store.ParcelFilter(year: year, cluster: n), limit: 10_000).rows.map(\.parcel.parcelID))
            let info = MapConfig.ClusterInfo(
                number: n, year: year, area_mu: s.areaMu, count: s.count, towns: s.towns, blocks: s.blocks,
                low_count: s.lowEfficiencyCount, low_mu: s.lowEfficiencyMu, low_share: s.blockLowEfficiencyShare, candidate: s.candidate,
                occupants: s.occupants.count, parcels: Array(s.parcelIDs.filter(visible.contains).prefix(200)))
            focus = .init(kind: "cluster", id: String(n), bbox: box, cluster: info)
            if q.layer == nil { layer = "cluster" }
        } else if let id = q.parcel?.value.nilIfEmpty, let r = try await land.parcel(id: id, year: year), let box = LandGeo.crs84(r.parcel.bbox) {
            focus = .init(kind: "parcel", id: r.parcel.parcelID, bbox: box, cluster: nil)
        }
        let env = ProcessInfo.processInfo.environment
        let tile = env["MUJUN_TILE_URL"]?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        let config = MapConfig(
            year: year, years: years, towns: towns, lockedTown: locked, town: town, block: block,
            blocks: blocks.map { [$0.block, $0.town] }, layer: layer, tileURL: tile,
            tileAttribution: env["MUJUN_TILE_ATTRIBUTION"]?.trimmingCharacters(in: .whitespaces).nilIfEmpty, focus: focus,
            threshold: LandGeo.mapLimit, limit: q.limit?.int,
            enterprisePages: AccessPolicy.allows(p.role, .viewEnterprise), canManage: AccessPolicy.allows(p.role, .manageLand),
            role: p.role.rawValue)

        let res = Page.render(title: "挂图作战 · \(year) 年度", active: "map", head: Page.Head.map) { h in
            h.el(.div, .cls("map-page"), .id("map-page")) { h in
                h.el(.aside, .cls("map-side")) { h in side(&h, p, config: config, years: years, towns: towns, blocks: blocks, focus: focus) }
                h.el(.div, .cls("map-wrap")) { h in
                    h.el(.div, .id("map"), .cls("battle-map"), .role("region"), .aria("label", "工业用地地块挂图"))
                    h.el(.div, .id("map-status"), .cls("map-status"), .role("status"), text: "正在加载地块…")
                    h.el(.aside, .id("parcel-card"), .cls("parcel-card"), .hidden(true), .aria("live", "polite"))
                }
            }
            h.jsonScript(id: "map-config", config)
        }
        if let tile, let origin = origin(of: tile) {
            res.headers.replaceOrAdd(name: "Content-Security-Policy",
                                     value: "default-src 'self'; img-src 'self' data: \(origin); style-src 'self' 'unsafe-inline'")
        }
        return res
    }

    static func side(_ h: inout HTMLWriter, _ p: Principal, config: MapConfig, years: [Int], towns: [String],
                     blocks: [(block: String, town: String)], focus: MapConfig.Focus?) {
        let year = config.year
        h.el(.h1, .id("page-title")) { h in
            h.text("挂图作战 ")
            h.el(.small, text: "\(year) 年度")
        }
        h.el(.form, .id("map-filters"), .cls("map-filters"), .method("get"), .action("/map")) { h in
            h.el(.label) { h in
                h.text("年度 ")
                h.select(name: "year", id: "map-year", options: years.map { (String($0), String($0)) }, selected: String(year))
            }
            if p.role != .enterprise {
                h.el(.label) { h in
                    h.text("镇街 ")
                    if let locked = config.lockedTown {
                        h.el(.select, .id("map-town"), .name("town"), .disabled(true)) { h in
                            h.el(.option, .value(locked), .selected(true), text: locked)
                        }
                    } else {
                        h.select(name: "town", id: "map-town", options: [("", "全部镇街")] + towns.map { ($0, $0) }, selected: config.town ?? "")
                    }
                }
            }
            h.el(.label) { h in
                h.text("区块 ")
                h.el(.select, .id("map-block"), .name("block")) { h in
                    h.el(.option, .value(""), text: "全部区块")
                    for b in blocks {
                        h.el(.option, .value(b.block), .data("town", b.town), .selected(b.block == config.block), text: "\(b.block)（\(b.town)）")
                    }
                }
            }
            h.el(.noscript) { h in h.el(.button, .type("submit"), text: "应用") }
        }
        h.el(.form, .id("map-search"), .cls("map-search"), .role("search"), .action("/map"), .method("get")) { h in
            h.void(.input, .type("search"), .id("map-q"), .name("q"), .placeholder("地块编号、企业名称或信用代码"), .attr("autocomplete", "off"))
            h.el(.button, .type("submit"), .id("map-search-go"), text: "定位")
        }
        h.el(.div, .id("search-results"), .cls("search-results"), .hidden(true))
        h.el(.fieldset, .id("layer-select"), .cls("layers")) { h in
            h.el(.legend, text: "着色图层")
            for l in layers {
                h.el(.label) { h in
                    h.void(.input, .type("radio"), .name("layer"), .value(l.key), .checked(l.key == config.layer))
                    h.text(" " + l.name)
                }
            }
        }
        h.el(.label, .cls("toggle")) { h in
            h.void(.input, .type("checkbox"), .id("cluster-outlines"), .checked(focus?.kind == "cluster"))
            h.text(" 显示集中连片整治候选片区轮廓")
        }
        if AccessPolicy.allows(p.role, .viewCases) {
            h.el(.label, .cls("toggle")) { h in
                h.void(.input, .type("checkbox"), .id("case-markers"))
                h.text(" 显示未销号督办事项（")
                h.el(.span, .cls("dot dot-open"), text: "●")
                h.text("办理中 ")
                h.el(.span, .cls("dot dot-yellow"), text: "●")
                h.text("黄牌 ")
                h.el(.span, .cls("dot dot-red"), text: "●")
                h.text("红牌）")
            }
        }
        h.el(.div, .id("legend"), .cls("legend"), .aria("label", "图例"))
        h.el(.section, .id("map-summary"), .cls("map-summary")) { h in
            h.el(.h2) { h in h.text("统计 "); h.el(.small, .id("summary-scope"), text: "当前筛选") }
            h.el(.dl) { h in
                h.el(.dt, text: "地块")
                h.el(.dd) { h in h.el(.b, .id("sum-parcels"), text: "—"); h.text(" 个，"); h.el(.span, .id("sum-area"), text: "—"); h.text(" 亩") }
                h.el(.dt, text: "低效用地")
                h.el(.dd) { h in h.el(.b, .id("sum-low"), text: "—"); h.text(" 个，"); h.el(.span, .id("sum-low-area"), text: "—"); h.text(" 亩") }
                h.el(.dt, text: "整治候选片区")
                h.el(.dd) { h in h.el(.b, .id("sum-cand"), text: "—"); h.text(" 片，"); h.el(.span, .id("sum-cand-area"), text: "—"); h.text(" 亩") }
                h.el(.dt, text: "现场调查")
                h.el(.dd, .id("sum-surveys"), text: "—")
            }
        }
        h.el(.p, .cls("map-links")) { h in
            h.el(.a, .href(HTML.url("/clusters", [("year", String(year))])), .id("link-clusters"), text: "集中连片整治候选清单")
            if p.role != .enterprise { h.text(" · "); h.el(.a, .href("/surveys"), .id("link-surveys"), text: "调查与复核") }
            if config.canManage { h.text(" · "); h.el(.a, .href("/land"), .id("link-land"), text: "地块数据导入") }
        }
    }

    /// `scheme://host[:port]` of a tile URL template, for the page's img-src.
    static func origin(of template: String) -> String? {
        let cleaned = template.replacingOccurrences(of: "{s}", with: "a")
        guard let scheme = cleaned.range(of: "://") else { return nil }
        let rest = cleaned[scheme.upperBound...]
        let host = rest.prefix { $0 != "/" }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) }) else { return nil }
        let proto = cleaned[..<scheme.lowerBound].lowercased()
        guard proto == "http" || proto == "https" else { return nil }
        let wildcardHost = template.contains("{s}") ? "*." + host.split(separator: ".").dropFirst().joined(separator: ".") : String(host)
        return "\(proto)://\(wildcardHost)"
    }
}
