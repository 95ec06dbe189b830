import Foundation
import Vapor
import MujunCore
import MujunStore

// The ranking, enterprise and rules pages: view models and how they are written. Chart data is
// embedded as JSON in `<script type="application/json">` elements and drawn by Public/*.js,
// because the Content-Security-Policy forbids inline scripts.

extension Indicator {
    /// The Chinese name of the numerator (all numerators are in 万元).
    var numeratorChinese: String {
        switch fields.numerator {
        case "tax": "税收"
        case "value_added": "工业增加值"
        case "rnd": "研发经费"
        default: fields.numerator
        }
    }
}

/// Class keys of the counts, in display order.
let classKeys = ["A", "B", "C", "D", "exempt"]
func className(_ key: String) -> String { key == "exempt" ? "不参评" : "\(key) 类" }

// MARK: - Ranking page model

/// The ranking page's parameters, after defaults.
struct RankingParams: Sendable {
    var year: Int
    var group: EnterpriseGroup
    var town: String?
    var cls: String?
    var q: String?
    var sort: Store.ResultSort
    var descending: Bool
    var page: Int
    var per: Int = 100

    /// Reads the query; `year` is the latest evaluated year when absent.
    init(_ query: RankingFeature.ResultsQuery, defaultYear: Int) {
        year = query.year?.int ?? defaultYear
        group = query.group?.group ?? .above
        town = query.town?.value.nilIfEmpty
        cls = query.class?.rawValue
        q = query.q?.value.nilIfEmpty
        sort = query.sort?.sort ?? .rank
        descending = query.order.map { $0 == .desc } ?? RankingParams.defaultDescending(sort)
        page = query.page?.int ?? 1
        per = query.per?.int ?? 100
    }

    init(year: Int, group: EnterpriseGroup = .above, town: String? = nil, cls: String? = nil, q: String? = nil,
         sort: Store.ResultSort = .rank, descending: Bool = false, page: Int = 1) {
        self.year = year; self.group = group; self.town = town; self.cls = cls; self.q = q
        self.sort = sort; self.descending = descending; self.page = page
    }

    /// A column's first click: scores and per-mu figures from the highest, the rest ascending.
    static func defaultDescending(_ s: Store.ResultSort) -> Bool {
        switch s {
        case .total, .land, .taxPerMu: true
        case .rank, .name, .town, .cls: false
        }
    }

    var filter: Store.ResultFilter {
        Store.ResultFilter(year: year, group: group, town: town, cls: cls, search: q)
    }

    /// The link to this page with some parameters changed.
    func href(year: Int? = nil, group: EnterpriseGroup? = nil, town: String?? = nil, cls: String?? = nil,
              sort: Store.ResultSort? = nil, descending: Bool? = nil, page: Int? = nil, path: String = "/ranking") -> String {
        let s = sort ?? self.sort
        let d = descending ?? self.descending
        let p = page ?? 1
        var items: [(String, String?)] = [("year", String(year ?? self.year)), ("group", (group ?? self.group).rawValue),
                                          ("town", town ?? self.town), ("class", cls ?? self.cls), ("q", q)]
        if s != .rank || d { items += [("sort", s.rawValue), ("order", d ? "desc" : "asc")] }
        if p > 1 { items.append(("page", String(p))) }
        return HTML.url(path, items)
    }

    /// The export link: the same filters, every row.
    var exportHref: String {
        HTML.url("/export/ranking.xlsx", [("year", String(year)), ("group", group.rawValue), ("town", town), ("class", cls), ("q", q)])
    }
}

/// Everything the ranking page shows.
struct RankingView: Sendable {
    var params: RankingParams
    var years: [Int]
    var towns: [String]
    var page: Store.Page<Store.ResultRow>
    /// town → class key → count, for the chosen year and group
    var byTown: [String: [String: Int]]
    var benchmarks: [BenchmarkValue]
    var run: Store.RunInfo?

    /// Class counts shown in `#class-counts`: the chosen town's, or the whole group's.
    var counts: [String: Int] {
        var out = Dictionary(uniqueKeysWithValues: classKeys.map { ($0, 0) })
        for (town, c) in byTown where params.town == nil || params.town == town {
            for (k, n) in c { out[k, default: 0] += n }
        }
        return out
    }

    var pageCount: Int { max(1, (page.total + page.per - 1) / page.per) }

    /// Towns for the chart: the rules' towns in order, then any other town found in the data.
    var chartTowns: [String] {
        towns + byTown.keys.filter { !towns.contains($0) }.sorted()
    }
}

// MARK: - Enterprise page model

struct EnterpriseView: Sendable {
    var result: EnterpriseResult
    var history: [Store.HistoryEntry]
    var years: [Int]
}


// MARK: - Pages

enum RankingViews {
    // MARK: the ranking

    static func ranking(_ v: RankingView) -> Response {
        Page.render(title: "\(v.params.year) 年度亩均效益评价排名", active: "ranking",
                    head: Page.Head.chart + [.script("/static/ranking.js")]) { h in
            ranking(&h, v)
        }
    }

    static func ranking(_ h: inout HTMLWriter, _ v: RankingView) {
        let p = v.params
        h.el(.section, .cls("page-head")) { h in
            h.el(.h1, .id("page-title"), text: "\(p.year) 年度亩均效益评价排名")
            h.yearLinks(label: "评价年度：", years: v.years, current: p.year) { p.href(year: $0, page: 1) }
        }
        h.el(.nav, .cls("tabs"), .id("group-tabs")) { h in
            for g in EnterpriseGroup.allCases {
                h.el(.a, .id("tab-\(g.rawValue)"), .href(p.href(group: g, cls: .some(nil), page: 1)), .cls(g == p.group ? "active" : nil),
                     text: "\(g.chinese)企业")
            }
        }
        filters(&h, v)
        h.el(.div, .cls("overview")) { h in
            summary(&h, v)
            h.el(.section, .cls("card chart-card")) { h in
                h.el(.h2) { h in
                    h.text("各镇街分类分布 ")
                    h.el(.small, text: p.group.chinese)
                }
                h.el(.div, .cls("chart-box")) { h in
                    h.el(.canvas, .id("class-chart"), .aria("label", "各镇街分类企业数"), .role("img"))
                }
            }
        }
        struct ChartData: Encodable { var towns: [String]; var classes: [String]; var labels: [String]; var counts: [String: [Int]]; var selected: String? }
        let towns = v.chartTowns
        var series: [String: [Int]] = [:]
        for k in classKeys { series[k] = towns.map { v.byTown[$0]?[k] ?? 0 } }
        h.jsonScript(id: "chart-data", ChartData(towns: towns, classes: classKeys, labels: classKeys.map(className),
                                                 counts: series, selected: p.town))
        h.el(.section, .cls("card")) { h in
            h.el(.div, .cls("toolbar")) { h in
                h.el(.span, .id("result-total"), .data("total", v.page.total), text: "共 \(v.page.total) 家企业")
                h.el(.a, .id("export-xlsx"), .cls("button"), .href(p.exportHref), text: "导出 Excel")
            }
            resultTable(&h, v)
            h.pager(page: v.page.page, pages: v.pageCount, info: "第 \(v.page.page)/\(v.pageCount) 页，共 \(v.page.total) 家") {
                p.href(page: $0)
            }
        }
    }

    /// The filter form: town, class, search.
    private static func filters(_ h: inout HTMLWriter, _ v: RankingView) {
        let p = v.params
        h.el(.form, .id("filters"), .cls("filters"), .method("get"), .action("/ranking")) { h in
            h.void(.input, .type("hidden"), .name("year"), .value(p.year))
            h.void(.input, .type("hidden"), .name("group"), .value(p.group.rawValue))
            h.el(.label) { h in
                h.text("镇街 ")
                h.el(.select, .id("town"), .name("town")) { h in
                    h.el(.option, .value(""), text: "全部镇街")
                    for t in v.chartTowns { h.el(.option, .value(t), .selected(t == p.town), text: t) }
                }
            }
            h.el(.label) { h in
                h.text("分类 ")
                h.el(.select, .id("class"), .name("class")) { h in
                    h.el(.option, .value(""), text: "全部")
                    for k in classKeys { h.el(.option, .value(k), .selected(k == p.cls), text: k == "exempt" ? "不参评" : k) }
                }
            }
            h.el(.label) { h in
                h.text("搜索 ")
                h.void(.input, .type("search"), .id("q"), .name("q"), .value(p.q ?? ""), .placeholder("企业名称或信用代码"))
            }
            h.el(.button, .type("submit"), text: "查询")
            h.el(.a, .cls("reset"), .href(HTML.url("/ranking", [("year", String(p.year)), ("group", p.group.rawValue)])), text: "重置")
        }
    }

    /// The class counts (links that filter by class), the run and the benchmarks.
    private static func summary(_ h: inout HTMLWriter, _ v: RankingView) {
        let p = v.params
        let counts = v.counts
        func n(_ k: String) -> Int { counts[k] ?? 0 }
        h.el(.section, .cls("card"), .id("summary")) { h in
            h.el(.h2) { h in
                h.text("分类统计 ")
                h.el(.small, text: p.group.chinese + (p.town.map { "·" + $0 } ?? "·全市"))
            }
            h.el(.div, .id("class-counts"), .cls("class-counts"),
                 .data("a", n("A")), .data("b", n("B")), .data("c", n("C")), .data("d", n("D")), .data("exempt", n("exempt"))) { h in
                for k in classKeys {
                    h.el(.a, .cls("count cls-\(k)\(p.cls == k ? " selected" : "")"), .data("class", k), .href(p.href(cls: .some(k), page: 1))) { h in
                        h.el(.span, .cls("label"), text: className(k))
                        h.el(.span, .cls("n"), text: String(n(k)))
                    }
                }
            }
            let evaluated = ["A", "B", "C", "D"].reduce(0) { $0 + n($1) }
            h.el(.p, .cls("muted"),
                 text: "参评 \(evaluated) 家，不参评 \(n("exempt")) 家" + (v.run.map { "；评价运行 #\($0.id)，\(HTML.dateTime($0.createdAt))" } ?? ""))
            h.el(.p, .id("benchmarks"), .cls("benchmarks")) { h in
                h.el(.strong, text: "基准值（\(p.group.chinese)）：")
                let order = Indicator.allCases
                let sorted = v.benchmarks.sorted { (order.firstIndex(of: $0.indicator) ?? 0) < (order.firstIndex(of: $1.indicator) ?? 0) }
                for (i, b) in sorted.enumerated() {
                    if i > 0 { h.el(.span, .cls("sep"), text: "·") }
                    h.el(.span, .data("indicator", b.indicator.rawValue)) { h in
                        h.text(b.indicator.chinese + " ")
                        h.el(.b, text: HTML.value(b.value, b.indicator))
                        h.text(" " + HTML.unit(b.indicator))
                    }
                }
            }
        }
    }

    /// The ranking table: sortable headers, one row per enterprise.
    private static func resultTable(_ h: inout HTMLWriter, _ v: RankingView) {
        let p = v.params
        func th(_ h: inout HTMLWriter, _ key: Store.ResultSort, _ label: String, numeric: Bool = false) {
            let current = p.sort == key
            let desc = current ? !p.descending : RankingParams.defaultDescending(key)
            let arrow = current ? (p.descending ? " ▼" : " ▲") : ""
            let cls = ((numeric ? ["num"] : []) + (current ? ["sorted \(p.descending ? "desc" : "asc")"] : [])).joined(separator: " ")
            h.el(.th, .id("sort-\(key.rawValue)"), .cls(cls)) { h in
                h.el(.a, .href(p.href(sort: key, descending: desc, page: 1)), text: label + arrow)
            }
        }
        dataTable(&h, id: "ranking-table", head: { h in
            th(&h, .rank, "排名", numeric: true)
            th(&h, .name, "企业名称")
            h.el(.th, text: "统一社会信用代码")
            th(&h, .town, "镇街")
            th(&h, .land, "用地面积(亩)", numeric: true)
            th(&h, .taxPerMu, "亩均税收(万元/亩)", numeric: true)
            th(&h, .total, "总分", numeric: true)
            th(&h, .cls, "分类")
            h.el(.th, text: "一票否决")
            h.el(.th, text: "不参评原因")
        }, body: { h in
            if v.page.items.isEmpty {
                h.el(.tr, .cls("none")) { h in h.el(.td, .colspan(10), text: "没有符合条件的企业。") }
            }
            for r in v.page.items {
                let cls = r.finalClass ?? "exempt"
                h.el(.tr, .data("credit-code", r.creditCode), .data("class", cls)) { h in
                    h.el(.td, .cls("num rank"), text: r.rank.map(String.init) ?? "—")
                    h.el(.td, .cls("name")) { h in h.el(.a, .href(enterpriseHref(r.creditCode, year: p.year)), text: r.name) }
                    h.el(.td, .cls("code"), text: r.creditCode)
                    h.el(.td, .cls("town"), text: r.town)
                    h.el(.td, .cls("num"), text: HTML.num(r.landMu))
                    h.el(.td, .cls("num"), text: HTML.num(r.taxPerMu))
                    h.el(.td, .cls("num total"), text: HTML.num(r.totalScore))
                    h.el(.td, .cls("class cls-\(cls)")) { h in
                        if let fc = r.finalClass { h.el(.span, .cls("badge cls-\(fc)"), text: fc) } else { h.text("不参评") }
                    }
                    h.el(.td, .cls("veto"), text: (r.veto ?? "").split(separator: ";").joined(separator: "、"))
                    h.el(.td, .cls("exempt"), text: r.exemptReason)
                }
            }
        })
    }

    // MARK: one enterprise

    static func enterprise(_ v: EnterpriseView, after: HTMLWriter = HTMLWriter()) -> Response {
        Page.render(title: "\(v.result.name) · \(v.result.year) 年度亩均评价", active: "ranking",
                    head: Page.Head.chart + [.script("/static/enterprise.js")]) { h in
            enterprise(&h, v)
            h.append(after)
        }
    }

    /// The enterprise page's content for another page (`/my`): without the crumbs, with the
    /// year links pointing where that page wants them (nil: to the enterprise page).
    static func enterprise(_ v: EnterpriseView, crumbs: Bool, yearHref: ((Int) -> String)?) -> HTMLWriter {
        var h = HTMLWriter()
        enterprise(&h, v, crumbs: crumbs, yearHref: yearHref)
        return h
    }

    /// `/enterprises/{code}?year=`.
    static func enterpriseHref(_ code: String, year: Int) -> String {
        HTML.url("/enterprises/\(HTML.percent(code))", [("year", String(year))])
    }

    /// The enterprise page's content: head card, explanation, indicators, gap, policies,
    /// history and the charts' data. `yearHref` is where a link to another year goes.
    static func enterprise(_ h: inout HTMLWriter, _ v: EnterpriseView, crumbs: Bool = true, yearHref: ((Int) -> String)? = nil) {
        let r = v.result
        let yearLink = yearHref ?? { enterpriseHref(r.creditCode, year: $0) }
        if crumbs {
            h.el(.p, .cls("crumbs")) { h in
                h.el(.a, .href(HTML.url("/ranking", [("year", String(r.year)), ("group", r.group.rawValue)])),
                     text: "← 返回 \(r.year) 年度\(r.group.chinese)企业排名")
            }
        }
        enterpriseHead(&h, v, yearLink: yearLink)
        explanation(&h, r)
        h.el(.div, .cls("overview wide-left")) { h in
            indicators(&h, r)
            h.el(.section, .cls("card chart-card")) { h in
                h.el(.h2, text: "指标值与基准值之比")
                h.el(.div, .cls("chart-box")) { h in
                    h.el(.canvas, .id("indicator-chart"), .role("img"), .aria("label", "指标值/基准值"))
                }
            }
        }
        gap(&h, r)
        policies(&h, r)
        h.el(.div, .cls("overview")) { h in
            history(&h, v, yearLink: yearLink)
            h.el(.section, .cls("card chart-card")) { h in
                h.el(.h2, text: "历年总分")
                h.el(.div, .cls("chart-box")) { h in
                    h.el(.canvas, .id("history-chart"), .role("img"), .aria("label", "历年总分"))
                }
            }
        }

        struct Ind: Encodable { var key: String; var name: String; var ratio: Double?; var value: Double?; var benchmark: Double?; var missing: Bool }
        struct Hist: Encodable { var year: Int; var score: Double?; var cls: String? }
        struct EntData: Encodable { var indicators: [Ind]; var history: [Hist]; var year: Int }
        let data = EntData(
            indicators: r.items.map { it in
                Ind(key: it.indicator.rawValue, name: it.indicator.chinese, ratio: HTML.finite(ratio(it)),
                    value: HTML.finite(it.value), benchmark: HTML.finite(it.benchmark), missing: it.missing)
            },
            history: v.history.map { Hist(year: $0.year, score: HTML.finite($0.totalScore), cls: $0.finalClass) },
            year: r.year)
        h.jsonScript(id: "enterprise-data", data)
    }

    /// Value ÷ benchmark, when both are there and the benchmark is positive.
    private static func ratio(_ it: IndicatorScore) -> Double? {
        guard let value = it.value, let benchmark = it.benchmark, benchmark > 0 else { return nil }
        return value / benchmark
    }

    /// Name, facts, years, and the class with score and rank.
    private static func enterpriseHead(_ h: inout HTMLWriter, _ v: EnterpriseView, yearLink: (Int) -> String) {
        let r = v.result
        h.el(.section, .cls("card ent-head")) { h in
            h.el(.div, .cls("ent-facts")) { h in
                h.el(.h1, .id("enterprise-name"), text: r.name)
                h.el(.dl, .cls("facts")) { h in
                    h.el(.dt, text: "统一社会信用代码"); h.el(.dd, .id("credit-code"), text: r.creditCode)
                    h.el(.dt, text: "所属镇街"); h.el(.dd, .id("town"), text: r.town)
                    h.el(.dt, text: "企业规模"); h.el(.dd, .id("group"), text: r.group.chinese)
                    if let ind = r.industry, !ind.isEmpty { h.el(.dt, text: "行业代码"); h.el(.dd, text: ind) }
                    h.el(.dt, text: "用地面积"); h.el(.dd, .id("land"), text: "\(HTML.num(r.landMu)) 亩")
                    let resultYears = v.history.map(\.year)
                    h.el(.dt, text: "评价年度")
                    h.el(.dd, .id("years")) { h in
                        for (i, y) in (resultYears.isEmpty ? [r.year] : resultYears).enumerated() {
                            if i > 0 { h.text(" ") }
                            if y == r.year { h.el(.strong, text: String(y)) } else { h.el(.a, .href(yearLink(y)), text: String(y)) }
                        }
                    }
                }
            }
            h.el(.div, .cls("ent-class")) { h in
                let fc = r.finalClass?.rawValue
                h.el(.div, .cls("caption"), text: "\(r.year) 年度最终分类")
                h.el(.div, .id("final-class"), .cls("big-badge cls-\(fc ?? "exempt")"), .data("class", fc ?? "exempt"), text: fc ?? "不参评")
                if r.evaluated {
                    if let before = r.classBeforeVeto, before != r.finalClass {
                        h.el(.div, .id("class-before"), .cls("before"), text: "否决前为 \(before.rawValue) 类")
                    }
                    h.el(.div, .id("total-score"), .cls("score")) { h in
                        h.text("总分 ")
                        h.el(.b, text: HTML.num(r.totalScore))
                    }
                    if let rank = r.rank { h.el(.div, .id("rank"), .cls("rank"), text: "组内第 \(rank) / \(r.groupSize) 名") }
                } else {
                    h.el(.div, .id("exempt-reason"), .cls("before"), text: "不参评：\(r.exemptReason ?? "")")
                }
            }
        }
    }

    /// Vetoes, the reasons of the class, bonus points.
    private static func explanation(_ h: inout HTMLWriter, _ r: EnterpriseResult) {
        h.el(.section, .cls("card"), .id("explanation")) { h in
            h.el(.h2, text: "评价说明")
            if !r.vetoes.isEmpty {
                h.el(.p, .id("vetoes"), .cls("veto-line")) { h in
                    h.el(.strong, text: "一票否决：")
                    for (i, veto) in r.vetoes.enumerated() {
                        if i > 0 { h.text(" ") }
                        h.el(.span, .cls("veto-tag"), text: veto)
                    }
                }
            }
            h.el(.ul, .id("reasons")) { h in
                for reason in r.reasons { h.el(.li, text: reason) }
            }
            if !r.bonusReasons.isEmpty || r.bonus != 0 {
                h.el(.p, .id("bonus"), text: "加分 \(HTML.num(r.bonus))：" + r.bonusReasons.joined(separator: "；"))
            }
        }
    }

    /// The indicator scores.
    private static func indicators(_ h: inout HTMLWriter, _ r: EnterpriseResult) {
        h.el(.section, .cls("card"), .id("indicator-card")) { h in
            h.el(.h2, text: "指标得分")
            if r.items.isEmpty {
                h.el(.p, .cls("muted"), text: "不参评企业不计算指标得分。")
                return
            }
            dataTable(&h, id: "indicators", head: { h in
                headerCells(&h, [("指标", false), ("单位", false), ("指标值", true), ("基准值", true), ("值/基准", true),
                                 ("权重", true), ("得分", true), ("说明", false)])
            }, body: { h in
                for it in r.items {
                    h.el(.tr, .data("indicator", it.indicator.rawValue), .cls(it.missing ? "missing" : nil)) { h in
                        h.el(.td, text: it.indicator.chinese)
                        h.el(.td, text: HTML.unit(it.indicator))
                        h.el(.td, .cls("num"), text: HTML.value(it.value, it.indicator))
                        h.el(.td, .cls("num"), text: HTML.value(it.benchmark, it.indicator))
                        h.el(.td, .cls("num"), text: ratio(it).map { String(format: "%.2f", $0) } ?? "—")
                        h.el(.td, .cls("num"), text: formatNumber(it.weight))
                        h.el(.td, .cls("num score"), text: HTML.num(it.score))
                        h.el(.td) { h in
                            if it.missing { h.el(.span, .cls("missing-tag"), text: "缺失，按平均分计") }
                        }
                    }
                }
            }, foot: { h in
                h.el(.tr) { h in
                    h.el(.td, .colspan(5), text: "合计" + (r.bonus != 0 ? "（含加分 \(HTML.num(r.bonus))）" : ""))
                    h.el(.td, .cls("num"), text: formatNumber(r.items.reduce(0) { $0 + $1.weight }))
                    h.el(.td, .cls("num")) { h in h.el(.b, text: HTML.num(r.totalScore)) }
                    h.el(.td)
                }
            })
        }
    }

    /// The gap to the next better class, and what one indicator alone would need.
    private static func gap(_ h: inout HTMLWriter, _ r: EnterpriseResult) {
        h.el(.section, .cls("card"), .id("gap")) { h in
            h.el(.h2, text: "提升空间")
            if !r.evaluated {
                h.el(.p, .cls("gap-line"), text: "不参评：\(r.exemptReason ?? "")")
            } else if r.classBeforeVeto == .A && r.finalClass == .A {
                h.el(.p, .cls("gap-line"), text: "已是 A 类。")
            } else if r.classBeforeVeto == .A, let fc = r.finalClass {
                h.el(.p, .cls("gap-line"), text: "按总分已属 A 类，但因一票否决（\(r.vetoes.joined(separator: "、"))）最终为 \(fc.rawValue) 类。")
                h.el(.p, .id("gap-barred"), .cls("warning"), text: "否决情形消除前，提高得分不能改变分类。")
            } else if let g = r.gap {
                h.el(.p, .cls("gap-line")) { h in
                    h.text("距 ")
                    h.el(.b, text: "\(g.target.rawValue) 类")
                    h.text("还差 ")
                    h.el(.b, .id("points-needed"), text: HTML.num(g.pointsNeeded))
                    h.text(" 分")
                    h.el(.span, .cls("muted"), text: "（\(g.target.rawValue) 类最低总分 \(HTML.num(g.boundary))，当前 \(HTML.num(r.totalScore))）")
                }
                if let before = r.classBeforeVeto, before != r.finalClass {
                    h.el(.p, .cls("muted"), text: "按否决前分类 \(before.rawValue) 类计算。")
                }
                if let barred = g.barredByVeto {
                    h.el(.p, .id("gap-barred"), .cls("warning"), text: "因一票否决（\(barred)），即使总分达到也不能评为 \(g.target.rawValue) 类。")
                }
                h.el(.p, .cls("muted"), text: "以下为单靠一项指标提升（其他指标与基准值不变）所需达到的数值：")
                h.table(id: "gap-table", headers: [("指标", false), ("当前值", true), ("目标值", true), ("需提高", true), ("折合", false)],
                        rows: g.indicators) { h, ig in
                    let ind = ig.indicator
                    h.el(.tr, .data("indicator", ind.rawValue)) { h in
                        h.el(.td, text: "\(ind.chinese)（\(HTML.unit(ind))）")
                        h.el(.td, .cls("num"), text: HTML.value(ig.current, ind))
                        guard ig.target != nil else {
                            h.el(.td, .cls("num"), text: "—")
                            h.el(.td, .cls("num"), text: "—")
                            h.el(.td, text: "单靠该指标无法达到（受得分上限限制）")
                            return
                        }
                        h.el(.td, .cls("num"), text: HTML.value(ig.target, ind))
                        h.el(.td, .cls("num"), text: ig.increase.map { HTML.value($0, ind) } ?? "—")
                        h.el(.td) { h in
                            if ig.current == nil {
                                h.text("该指标缺失，补齐数据后按实际值计分")
                            } else if let n = ig.numeratorIncrease {
                                h.text("需增加\(ind.numeratorChinese) \(String(format: "%.1f", n)) 万元")
                            }
                        }
                    }
                }
            } else {
                h.el(.p, .cls("gap-line"), text: "暂无可比较的更高分类。")
            }
        }
    }

    /// The differentiated policies that apply to the enterprise's class.
    private static func policies(_ h: inout HTMLWriter, _ r: EnterpriseResult) {
        h.el(.section, .cls("card"), .id("policies")) { h in
            h.el(.h2, text: "适用的差别化政策")
            guard let pol = r.policy, let fc = r.finalClass else {
                h.el(.p, .cls("muted"), text: "不参评企业不适用按分类的差别化政策。")
                return
            }
            h.el(.dl, .cls("facts policies")) { h in
                h.el(.dt, text: "差别化电价加价"); h.el(.dd, .id("policy-surcharge"), text: "\(formatNumber(pol.electricitySurcharge)) 元/千瓦时")
                h.el(.dt, text: "用能指标系数"); h.el(.dd, .id("policy-energy"), text: pol.energyQuotaFactor.map(formatNumber) ?? "—")
                h.el(.dt, text: "亩均英雄贷")
                h.el(.dd, .id("policy-credit"), .data("eligible", pol.creditEligible), text: pol.creditEligible ? "可申请" : "不可申请")
                h.el(.dt, text: "连续年数"); h.el(.dd, .id("policy-years"), text: "连续 \(pol.consecutiveYears) 年 \(fc.rawValue) 类")
                for (k, val) in pol.other.sorted(by: { $0.key < $1.key }) {
                    h.el(.dt, text: k); h.el(.dd, text: val)
                }
            }
        }
    }

    /// The results of every year.
    private static func history(_ h: inout HTMLWriter, _ v: EnterpriseView, yearLink: (Int) -> String) {
        h.el(.section, .cls("card")) { h in
            h.el(.h2, text: "历年评价")
            dataTable(&h, id: "history", head: { h in
                headerCells(&h, [("年度", false), ("规模", false), ("亩均税收", true), ("总分", true), ("排名", true), ("分类", false)])
            }, body: { h in
                for e in v.history {
                    h.el(.tr, .data("year", e.year), .cls(e.year == v.result.year ? "current" : nil)) { h in
                        h.el(.td) { h in h.el(.a, .href(yearLink(e.year)), text: String(e.year)) }
                        h.el(.td, text: EnterpriseGroup(rawValue: e.group)?.chinese ?? e.group)
                        h.el(.td, .cls("num"), text: HTML.num(e.taxPerMu))
                        h.el(.td, .cls("num"), text: HTML.num(e.totalScore))
                        h.el(.td, .cls("num"), text: e.rank.map { "\($0)" + (e.groupSize.map { " / \($0)" } ?? "") } ?? "—")
                        h.el(.td) { h in
                            if e.finalClass != nil {
                                h.classBadge(e.finalClass)
                            } else {
                                h.el(.span, .cls("badge cls-exempt"), .title(e.exemptReason ?? ""), text: "不参评")
                            }
                        }
                    }
                }
            })
        }
    }

    // MARK: not found, nothing evaluated

    static func notFound(code: String, year: Int?) -> Response {
        Page.render(title: "未找到企业", status: .notFound, active: "ranking") { h in
            h.el(.section, .cls("card empty"), .id("not-found")) { h in
                h.el(.h1, text: "未找到该企业的评价结果")
                h.el(.p) { h in
                    h.text("\(year.map { "\($0) 年度" } ?? "最新年度")没有统一社会信用代码为 ")
                    h.el(.code, text: code)
                    h.text(" 的企业评价结果。")
                }
                h.el(.p) { h in
                    h.text("请检查信用代码是否正确，或在 ")
                    h.el(.a, .href("/ranking"), text: "亩均排名")
                    h.text(" 中按企业名称搜索。")
                }
            }
        }
    }

    static func emptyState(dataYears: [Int], year: Int?, evaluated: [Int]) -> Response {
        let y = year ?? dataYears.first(where: { !evaluated.contains($0) }) ?? dataYears.first ?? Calendar.current.component(.year, from: Date()) - 1
        let pending = dataYears.filter { !evaluated.contains($0) }
        return Page.render(title: "暂无评价结果", active: "ranking") { h in
            h.el(.section, .cls("card empty"), .id("empty-state")) { h in
                h.el(.h1, text: "\(year.map { "\($0) 年度" } ?? "")暂无亩均效益评价结果")
                if let year, !evaluated.isEmpty {
                    h.el(.p) { h in
                        h.text("\(year) 年度尚无评价结果。已有评价结果的年度：")
                        for (i, e) in evaluated.enumerated() {
                            if i > 0 { h.text("、") }
                            h.el(.a, .href("/ranking?year=\(e)"), text: "\(e) 年度")
                        }
                    }
                } else {
                    h.el(.p, text: "数据库中还没有任何年度的评价结果。")
                }
                if let first = pending.first {
                    h.el(.p) { h in
                        h.text("已导入数据但尚未评价的年度：\(pending.map(String.init).joined(separator: "、"))，运行评价即可生成排名：")
                        h.el(.code, text: "mujun evaluate --year \(first)")
                    }
                }
                h.el(.p, text: "可以按以下任一方式生成评价结果：")
                h.el(.ol) { h in
                    h.el(.li) { h in
                        h.text("载入演示数据（永康市 17 个镇街的模拟企业、多个年度，并完成评价）：")
                        h.el(.code, text: "mujun demo")
                    }
                    h.el(.li) { h in
                        h.text("导入本市企业亩均数据后运行评价：")
                        h.void(.br)
                        h.el(.code, text: "mujun import enterprises 企业亩均数据.xlsx --year \(y)")
                        h.void(.br)
                        h.el(.code, text: "mujun evaluate --year \(y)")
                    }
                    h.el(.li) { h in
                        h.text("通过接口：")
                        h.el(.code, text: "POST /api/v1/imports/enterprises?year=\(y)")
                        h.text(" 上传 CSV 或 XLSX 文件，再 ")
                        h.el(.code, text: "POST /api/v1/evaluations")
                        h.text("（请求体 ")
                        h.el(.code, text: "{\"year\": \(y)}")
                        h.text("）。")
                    }
                }
                h.el(.p) { h in
                    h.text("评价方法与权重见 ")
                    h.el(.a, .href("/rules"), text: "评价规则")
                    h.text("；接口说明见 ")
                    h.el(.a, .href("/openapi.json"), text: "OpenAPI 文档")
                    h.text("。")
                }
            }
        }
    }

    // MARK: the rules

    static func rules(_ rules: Rules, yaml: String, year: Int?, runs: [Store.RunInfo], currentRun: Int64?) -> Response {
        Page.render(title: "评价规则", active: "rules") { h in
            self.rules(&h, rules, yaml: yaml, year: year, runs: runs, currentRun: currentRun)
        }
    }

    static func rules(_ h: inout HTMLWriter, _ rules: Rules, yaml: String, year: Int?, runs: [Store.RunInfo], currentRun: Int64?) {
        h.el(.section, .cls("page-head")) { h in
            h.el(.h1, text: "亩均效益综合评价规则")
            h.el(.p, .cls("muted"), .id("rules-name"), text: "现行规则：\(rules.name)")
        }
        weights(&h, rules)
        h.el(.div, .cls("overview")) { h in
            scoring(&h, rules)
            classes(&h, rules)
        }
        rulePolicies(&h, rules)
        h.el(.section, .cls("card"), .id("rules-towns")) { h in
            h.el(.h2, text: "镇街（\(rules.towns.count) 个）")
            h.el(.p, .cls("towns")) { h in
                for (i, t) in rules.towns.enumerated() {
                    if i > 0 { h.text(" ") }
                    h.el(.span, .cls("tag"), text: t)
                }
            }
        }
        h.el(.section, .cls("card"), .id("runs")) { h in
            h.el(.h2, text: "评价运行记录\(year.map { "（\($0) 年度）" } ?? "")")
            if runs.isEmpty {
                h.el(.p, .cls("muted"), text: "尚无评价运行。")
                return
            }
            h.table(id: "runs-table", headers: [("运行号", true), ("年度", false), ("企业数", true), ("参评数", true), ("操作人", false),
                                                ("时间", false), ("规则", false), ("状态", false)], rows: runs) { h, run in
                h.el(.tr, .data("run", run.id)) { h in
                    h.el(.td, .cls("num"), text: "#\(run.id)")
                    h.el(.td, text: String(run.year))
                    h.el(.td, .cls("num"), text: String(run.enterprises))
                    h.el(.td, .cls("num"), text: String(run.evaluated))
                    h.el(.td, text: run.actor)
                    h.el(.td, text: HTML.dateTime(run.createdAt))
                    h.el(.td) { h in
                        h.text((try? Rules(yaml: run.rulesYAML))?.name ?? "—")
                        if run.rulesYAML != yaml {
                            h.text(" ")
                            h.el(.span, .cls("muted"), text: "（与现行规则不同）")
                        }
                    }
                    h.el(.td) { h in
                        if run.id == currentRun { h.el(.b, text: "当前结果") } else { h.text("已被替代") }
                    }
                }
            }
        }
        h.el(.section, .cls("card")) { h in
            h.el(.h2, text: "规则文件（YAML）")
            h.el(.pre, .id("rules-yaml"), text: yaml)
        }
    }

    /// The indicators and their weights in each group.
    private static func weights(_ h: inout HTMLWriter, _ rules: Rules) {
        let above = rules.weights["above"] ?? [:], below = rules.weights["below"] ?? [:]
        let fieldNames = ["tax": "评价税收", "land_mu": "用地面积", "value_added": "工业增加值", "energy_tce": "综合能耗",
                          "emissions": "排放当量", "employees": "年平均职工人数", "rnd": "研发经费", "revenue": "营业收入", "electricity": "用电量"]
        func weight(_ w: Double?) -> String { w.flatMap { $0 > 0 ? formatNumber($0) : nil } ?? "—" }
        h.el(.section, .cls("card")) { h in
            h.el(.h2, text: "指标与权重")
            dataTable(&h, id: "weights", head: { h in
                headerCells(&h, [("指标", false), ("代码", false), ("计算方法", false), ("单位", false), ("规上权重", true), ("规下权重", true)])
            }, body: { h in
                for ind in Indicator.allCases where (above[ind.rawValue] ?? 0) > 0 || (below[ind.rawValue] ?? 0) > 0 {
                    let f = ind.fields
                    h.el(.tr, .data("indicator", ind.rawValue)) { h in
                        h.el(.td, text: ind.chinese)
                        h.el(.td) { h in h.el(.code, text: ind.rawValue) }
                        h.el(.td, text: "\(fieldNames[f.numerator] ?? f.numerator) ÷ \(fieldNames[f.denominator] ?? f.denominator)")
                        h.el(.td, text: ind.unit)
                        h.el(.td, .cls("num weight-above"), text: weight(above[ind.rawValue]))
                        h.el(.td, .cls("num weight-below"), text: weight(below[ind.rawValue]))
                    }
                }
            }, foot: { h in
                h.el(.tr) { h in
                    h.el(.td, .colspan(4), text: "合计")
                    h.el(.td, .cls("num"), text: formatNumber(above.values.reduce(0, +)))
                    h.el(.td, .cls("num"), text: formatNumber(below.values.reduce(0, +)))
                }
            })
            h.el(.p, .cls("muted"),
                 text: "规上、规下企业分组评分、分组排名。规下企业用地面积低于 \(formatNumber(rules.minLandMu)) 亩不参评；用地面积缺失或不大于 0 不参评。")
        }
    }

    /// Benchmarks, scoring bounds, missing indicators, bonus points.
    private static func scoring(_ h: inout HTMLWriter, _ rules: Rules) {
        let modeText: String
        switch rules.benchmark.mode {
        case .aggregate: modeText = "aggregate：组内有该指标的参评企业 Σ分子 ÷ Σ分母"
        case .mean: modeText = "mean：组内指标值的平均数"
        case .median: modeText = "median：组内指标值的中位数"
        case .fixed: modeText = "fixed：规则中给定的数值"
        }
        h.el(.section, .cls("card"), .id("rules-benchmark")) { h in
            h.el(.h2, text: "基准值与计分")
            h.el(.dl, .cls("facts")) { h in
                h.el(.dt, text: "基准值"); h.el(.dd, .id("benchmark-mode"), .data("mode", rules.benchmark.mode.rawValue), text: modeText)
                if rules.benchmark.mode == .fixed {
                    for g in EnterpriseGroup.allCases {
                        let items = rules.indicators(for: g).map { ind, _ in
                            "\(ind.chinese) \(rules.fixedBenchmark(g, ind).map(formatNumber) ?? "—") \(ind.unit)"
                        }
                        h.el(.dt, text: "\(g.chinese)基准值"); h.el(.dd, text: items.joined(separator: "；"))
                    }
                }
                h.el(.dt, text: "单项得分"); h.el(.dd, text: "权重 × 指标值 ÷ 基准值")
                h.el(.dt, text: "得分下限"); h.el(.dd, .id("scoring-floor"), text: formatNumber(rules.scoring.floor))
                h.el(.dt, text: "得分上限"); h.el(.dd, .id("scoring-cap"), text: rules.scoring.cap.map { "权重 × \(formatNumber($0))" } ?? "不封顶")
                h.el(.dt, text: "缺失指标")
                h.el(.dd, .id("scoring-missing"),
                     text: rules.scoring.missing == .average ? "average：按组内有该指标企业的平均单项得分计" : "zero：记 0 分")
                h.el(.dt, text: "加分项")
                h.el(.dd, .id("bonus-rules"), text: rules.bonus.isEmpty ? "无" : rules.bonus.map { b in
                    "\(b.name)：\(b.indicator.chinese) ≥ \(formatNumber(b.atLeast)) 加 \(formatNumber(b.points)) 分"
                }.joined(separator: "；"))
            }
        }
    }

    /// How classes are given, and the vetoes.
    private static func classes(_ h: inout HTMLWriter, _ rules: Rules) {
        h.el(.section, .cls("card"), .id("rules-classes")) { h in
            h.el(.h2, text: "分类")
            let letters: [EnterpriseClass] = [.A, .B, .C]
            switch rules.classes.mode {
            case .quota:
                h.el(.p, text: "按比例（quota）：组内按总分从高到低排序，累计比例")
                func pct(_ x: Double) -> String { formatNumber((x * 10_000).rounded() / 100) + "%" }
                var prev = 0.0
                h.el(.ul, .id("class-rules")) { h in
                    for c in letters {
                        let share = rules.quotaShare(c) ?? prev
                        h.el(.li) { h in
                            h.classBadge(c.rawValue)
                            h.text(prev == 0 ? " 前 \(pct(share))" : " \(pct(prev))–\(pct(share))")
                        }
                        prev = share
                    }
                    h.el(.li) { h in
                        h.classBadge("D")
                        h.text(" 其余（后 \(pct(1 - prev))）")
                    }
                }
                h.el(.p, .cls("muted"), text: "位次 p 的企业：p ≤ round(比例 × n) 即入该类（四舍五入）；总分相同的企业不拆分到不同分类。")
            case .score:
                h.el(.p, text: "按分数线（score）：")
                h.el(.ul, .id("class-rules")) { h in
                    for c in letters {
                        h.el(.li) { h in
                            h.classBadge(c.rawValue)
                            h.text(" 总分 ≥ \(rules.scoreThreshold(c).map(formatNumber) ?? "—")")
                        }
                    }
                    h.el(.li) { h in
                        h.classBadge("D")
                        h.text(" 其余")
                    }
                }
            }
            h.el(.h3, text: "一票否决")
            h.el(.table, .id("vetoes"), .cls("data")) { h in
                h.el(.thead) { h in h.el(.tr) { h in headerCells(&h, [("情形", false), ("处理", false)]) } }
                h.el(.tbody) { h in
                    for (kind, v) in rules.vetoes.sorted(by: { $0.key < $1.key }) {
                        var effect: [String] = []
                        if let f = v.force { effect.append("直接评为 \(f.rawValue) 类") }
                        if let b = v.atBest { effect.append("最高评为 \(b.rawValue) 类") }
                        h.el(.tr) { h in
                            h.el(.td, text: kind)
                            h.el(.td, text: effect.joined(separator: "；"))
                        }
                    }
                }
            }
        }
    }

    /// The policies of each class.
    private static func rulePolicies(_ h: inout HTMLWriter, _ rules: Rules) {
        h.el(.section, .cls("card"), .id("rules-policies")) { h in
            h.el(.h2, text: "差别化政策")
            dataTable(&h, id: "policies-table", head: { h in
                headerCells(&h, [("分类", false), ("电价加价(元/千瓦时)", true), ("用能指标系数", true), ("亩均英雄贷", false),
                                 ("连续年份加价", false), ("其他政策", false)])
            }, body: { h in
                for c in EnterpriseClass.allCases {
                    guard let p = rules.policy(for: c) else {
                        h.el(.tr) { h in
                            h.el(.td) { h in h.classBadge(c.rawValue) }
                            h.el(.td, .colspan(5), text: "未规定")
                        }
                        continue
                    }
                    h.el(.tr, .data("class", c.rawValue)) { h in
                        h.el(.td) { h in h.classBadge(c.rawValue) }
                        h.el(.td, .cls("num"), text: formatNumber(p.electricitySurcharge))
                        h.el(.td, .cls("num"), text: p.energyQuotaFactor.map(formatNumber) ?? "—")
                        h.el(.td, text: p.creditEligible ? "可申请" : "不可申请")
                        if let y = p.consecutiveYears, let s = p.consecutiveElectricitySurcharge {
                            h.el(.td, text: "连续 \(y) 年及以上：\(formatNumber(s)) 元/千瓦时")
                        } else {
                            h.el(.td, text: "—")
                        }
                        h.el(.td) { h in
                            for (i, o) in p.other.sorted(by: { $0.key < $1.key }).enumerated() {
                                if i > 0 { h.void(.br) }
                                h.text("\(o.key)：\(o.value)")
                            }
                        }
                    }
                }
            })
        }
    }

    // MARK: pieces

    /// `<div class="table-wrap"><table id=… class="data">` with a head row, a body and an optional foot.
    private static func dataTable(_ h: inout HTMLWriter, id: String, head: (inout HTMLWriter) -> Void, body: (inout HTMLWriter) -> Void,
                                  foot: ((inout HTMLWriter) -> Void)? = nil) {
        h.el(.div, .cls("table-wrap")) { h in
            h.el(.table, .id(id), .cls("data")) { h in
                h.el(.thead) { h in h.el(.tr, content: head) }
                h.el(.tbody, content: body)
                if let foot { h.el(.tfoot, content: foot) }
            }
        }
    }

    /// Header cells, numeric ones right-aligned.
    private static func headerCells(_ h: inout HTMLWriter, _ cells: [(label: String, numeric: Bool)]) {
        for c in cells { h.el(.th, .cls(c.numeric ? "num" : nil), text: c.label) }
    }
}
