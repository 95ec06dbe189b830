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


enum RankingViews {
    /// The enterprise page's content for another page (`/my`): without the crumbs, with the
    /// year links pointing where that page wants them.
    static func enterprise(_ v: EnterpriseView, crumbs: Bool, yearHref: ((Int) -> String)?) -> HTMLWriter {
        var s = renderEnterprise(v)
        if !crumbs, let r = s.range(of: "<p class=\"crumbs\">"), let e = s.range(of: "</p>", range: r.upperBound..<s.endIndex) {
            s.removeSubrange(r.lowerBound..<e.upperBound)
        }
        if let yearHref {
            for y in v.history.map(\.year) {
                s = s.replacingOccurrences(of: LegacyHTML.escape(HTML.url("/enterprises/\(HTML.percent(v.result.creditCode))", [("year", String(y))])),
                                           with: LegacyHTML.escape(yearHref(y)))
            }
        }
        var h = HTMLWriter()
        h.appendVerbatim(s)
        return h
    }

    static func notFound(code: String, year: Int?) -> Response {
        let body = """
        <section class="card empty" id="not-found"><h1>未找到该企业的评价结果</h1>
        <p>\(year.map { "\($0) 年度" } ?? "最新年度")没有统一社会信用代码为 <code>\(LegacyHTML.escape(code))</code> 的企业评价结果。</p>
        <p>请检查信用代码是否正确，或在 <a href="/ranking">亩均排名</a> 中按企业名称搜索。</p></section>
        """
        return LegacyHTML.page(title: "未找到企业", status: .notFound, active: "ranking", body: body)
    }

    static func emptyState(dataYears: [Int], year: Int?, evaluated: [Int]) -> Response {
        let y = year ?? dataYears.first(where: { !evaluated.contains($0) }) ?? dataYears.first ?? Calendar.current.component(.year, from: Date()) - 1
        var notes = ""
        if let year, !evaluated.isEmpty {
            notes += "<p>\(year) 年度尚无评价结果。已有评价结果的年度："
                + evaluated.map { "<a href=\"/ranking?year=\($0)\">\($0) 年度</a>" }.joined(separator: "、") + "</p>"
        } else {
            notes += "<p>数据库中还没有任何年度的评价结果。</p>"
        }
        let pending = dataYears.filter { !evaluated.contains($0) }
        if let first = pending.first {
            notes += "<p>已导入数据但尚未评价的年度：\(pending.map(String.init).joined(separator: "、"))，运行评价即可生成排名：<code>mujun evaluate --year \(first)</code></p>"
        }
        let body = """
        <section class="card empty" id="empty-state">
        <h1>\(year.map { "\($0) 年度" } ?? "")暂无亩均效益评价结果</h1>
        \(notes)
        <p>可以按以下任一方式生成评价结果：</p>
        <ol>
        <li>载入演示数据（永康市 17 个镇街的模拟企业、多个年度，并完成评价）：<code>mujun demo</code></li>
        <li>导入本市企业亩均数据后运行评价：<br><code>mujun import enterprises 企业亩均数据.xlsx --year \(y)</code><br><code>mujun evaluate --year \(y)</code></li>
        <li>通过接口：<code>POST /api/v1/imports/enterprises?year=\(y)</code> 上传 CSV 或 XLSX 文件，再 <code>POST /api/v1/evaluations</code>（请求体 <code>{"year": \(y)}</code>）。</li>
        </ol>
        <p>评价方法与权重见 <a href="/rules">评价规则</a>；接口说明见 <a href="/openapi.json">OpenAPI 文档</a>。</p>
        </section>
        """
        return LegacyHTML.page(title: "暂无评价结果", active: "ranking", body: body)
    }


    static func renderRanking(_ v: RankingView) -> String {
        let p = v.params
        let counts = v.counts
        var h = ""
        // heading and year selector
        h += "<section class=\"page-head\"><h1 id=\"page-title\">\(p.year) 年度亩均效益评价排名</h1>"
        h += "<nav class=\"years\" id=\"year-select\" aria-label=\"评价年度\"><span>评价年度：</span>"
        for y in v.years {
            h += "<a href=\"\(LegacyHTML.escape(p.href(year: y, page: 1)))\"\(y == p.year ? " class=\"active\"" : "")>\(y)</a>"
        }
        h += "</nav></section>"
        // group tabs
        h += "<nav class=\"tabs\" id=\"group-tabs\">"
        for g in EnterpriseGroup.allCases {
            h += "<a id=\"tab-\(g.rawValue)\" href=\"\(LegacyHTML.escape(p.href(group: g, cls: .some(nil), page: 1)))\"\(g == p.group ? " class=\"active\"" : "")>\(g.chinese)企业</a>"
        }
        h += "</nav>"
        // filters
        h += "<form id=\"filters\" class=\"filters\" method=\"get\" action=\"/ranking\">"
        h += "<input type=\"hidden\" name=\"year\" value=\"\(p.year)\"><input type=\"hidden\" name=\"group\" value=\"\(p.group.rawValue)\">"
        h += "<label>镇街 <select id=\"town\" name=\"town\"><option value=\"\">全部镇街</option>"
        for t in v.chartTowns {
            h += "<option value=\"\(LegacyHTML.escape(t))\"\(t == p.town ? " selected" : "")>\(LegacyHTML.escape(t))</option>"
        }
        h += "</select></label>"
        h += "<label>分类 <select id=\"class\" name=\"class\"><option value=\"\">全部</option>"
        for k in classKeys {
            h += "<option value=\"\(k)\"\(k == p.cls ? " selected" : "")>\(k == "exempt" ? "不参评" : k)</option>"
        }
        h += "</select></label>"
        h += "<label>搜索 <input type=\"search\" id=\"q\" name=\"q\" value=\"\(LegacyHTML.escape(p.q))\" placeholder=\"企业名称或信用代码\"></label>"
        h += "<button type=\"submit\">查询</button>"
        h += "<a class=\"reset\" href=\"\(LegacyHTML.escape(HTML.url("/ranking", [("year", String(p.year)), ("group", p.group.rawValue)])))\">重置</a>"
        h += "</form>"

        // counts, benchmarks and chart
        let evaluated = ["A", "B", "C", "D"].reduce(0) { $0 + (counts[$1] ?? 0) }
        h += "<div class=\"overview\"><section class=\"card\" id=\"summary\">"
        h += "<h2>分类统计 <small>\(p.group.chinese)\(p.town.map { "·" + LegacyHTML.escape($0) } ?? "·全市")</small></h2>"
        h += "<div id=\"class-counts\" class=\"class-counts\""
        for k in classKeys { h += " data-\(k.lowercased())=\"\(counts[k] ?? 0)\"" }
        h += ">"
        for k in classKeys {
            let href = p.href(cls: .some(k), page: 1)
            h += "<a class=\"count cls-\(k)\(p.cls == k ? " selected" : "")\" data-class=\"\(k)\" href=\"\(LegacyHTML.escape(href))\">"
            h += "<span class=\"label\">\(className(k))</span><span class=\"n\">\(counts[k] ?? 0)</span></a>"
        }
        h += "</div>"
        h += "<p class=\"muted\">参评 \(evaluated) 家，不参评 \(counts["exempt"] ?? 0) 家\(v.run.map { "；评价运行 #\($0.id)，\(HTML.dateTime($0.createdAt))" } ?? "")</p>"
        h += "<p id=\"benchmarks\" class=\"benchmarks\"><strong>基准值（\(p.group.chinese)）：</strong>"
        h += v.benchmarks.sorted { Indicator.allCases.firstIndex(of: $0.indicator)! < Indicator.allCases.firstIndex(of: $1.indicator)! }
            .map { b in
                "<span data-indicator=\"\(b.indicator.rawValue)\">\(b.indicator.chinese) <b>\(HTML.value(b.value, b.indicator))</b> \(LegacyHTML.escape(HTML.unit(b.indicator)))</span>"
            }.joined(separator: "<span class=\"sep\">·</span>")
        h += "</p></section>"
        h += "<section class=\"card chart-card\"><h2>各镇街分类分布 <small>\(p.group.chinese)</small></h2>"
        h += "<div class=\"chart-box\"><canvas id=\"class-chart\" aria-label=\"各镇街分类企业数\" role=\"img\"></canvas></div></section></div>"

        struct ChartData: Encodable { var towns: [String]; var classes: [String]; var labels: [String]; var counts: [String: [Int]]; var selected: String? }
        let towns = v.chartTowns
        var series: [String: [Int]] = [:]
        for k in classKeys { series[k] = towns.map { v.byTown[$0]?[k] ?? 0 } }
        h += LegacyHTML.jsonScript(id: "chart-data", ChartData(towns: towns, classes: classKeys, labels: classKeys.map(className),
                                                          counts: series, selected: p.town))

        // the table
        h += "<section class=\"card\"><div class=\"toolbar\"><span id=\"result-total\" data-total=\"\(v.page.total)\">共 \(v.page.total) 家企业</span>"
        h += "<a id=\"export-xlsx\" class=\"button\" href=\"\(LegacyHTML.escape(p.exportHref))\">导出 Excel</a></div>"
        h += "<div class=\"table-wrap\"><table id=\"ranking-table\" class=\"data\"><thead><tr>"
        func th(_ key: Store.ResultSort, _ label: String, numeric: Bool = false) -> String {
            let current = p.sort == key
            let desc = current ? !p.descending : RankingParams.defaultDescending(key)
            let arrow = current ? (p.descending ? " ▼" : " ▲") : ""
            let cls = (numeric ? "num " : "") + (current ? "sorted \(p.descending ? "desc" : "asc")" : "")
            return "<th id=\"sort-\(key.rawValue)\" class=\"\(cls)\"><a href=\"\(LegacyHTML.escape(p.href(sort: key, descending: desc, page: 1)))\">\(label)\(arrow)</a></th>"
        }
        h += th(.rank, "排名", numeric: true) + th(.name, "企业名称") + "<th>统一社会信用代码</th>" + th(.town, "镇街")
        h += th(.land, "用地面积(亩)", numeric: true) + th(.taxPerMu, "亩均税收(万元/亩)", numeric: true)
        h += th(.total, "总分", numeric: true) + th(.cls, "分类") + "<th>一票否决</th><th>不参评原因</th>"
        h += "</tr></thead><tbody>"
        if v.page.items.isEmpty {
            h += "<tr class=\"none\"><td colspan=\"10\">没有符合条件的企业。</td></tr>"
        }
        for r in v.page.items {
            let link = HTML.url("/enterprises/\(HTML.percent(r.creditCode))", [("year", String(p.year))])
            let cls = r.finalClass ?? "exempt"
            h += "<tr data-credit-code=\"\(LegacyHTML.escape(r.creditCode))\" data-class=\"\(LegacyHTML.escape(cls))\">"
            h += "<td class=\"num rank\">\(r.rank.map(String.init) ?? "—")</td>"
            h += "<td class=\"name\"><a href=\"\(LegacyHTML.escape(link))\">\(LegacyHTML.escape(r.name))</a></td>"
            h += "<td class=\"code\">\(LegacyHTML.escape(r.creditCode))</td>"
            h += "<td class=\"town\">\(LegacyHTML.escape(r.town))</td>"
            h += "<td class=\"num\">\(HTML.num(r.landMu))</td>"
            h += "<td class=\"num\">\(HTML.num(r.taxPerMu))</td>"
            h += "<td class=\"num total\">\(HTML.num(r.totalScore))</td>"
            h += "<td class=\"class cls-\(LegacyHTML.escape(cls))\">\(r.finalClass.map { "<span class=\"badge cls-\(LegacyHTML.escape($0))\">\(LegacyHTML.escape($0))</span>" } ?? "不参评")</td>"
            let vetoes = (r.veto ?? "").split(separator: ";").map { LegacyHTML.escape(String($0)) }.joined(separator: "、")
            h += "<td class=\"veto\">\(vetoes)</td>"
            h += "<td class=\"exempt\">\(LegacyHTML.escape(r.exemptReason))</td></tr>"
        }
        h += "</tbody></table></div>"
        // pager
        let pages = v.pageCount
        h += "<nav class=\"pager\" id=\"pager\">"
        h += v.page.page > 1 ? "<a rel=\"prev\" href=\"\(LegacyHTML.escape(p.href(page: v.page.page - 1)))\">上一页</a>" : "<span class=\"disabled\">上一页</span>"
        h += "<span class=\"info\">第 \(v.page.page)/\(pages) 页，共 \(v.page.total) 家</span>"
        h += v.page.page < pages ? "<a rel=\"next\" href=\"\(LegacyHTML.escape(p.href(page: v.page.page + 1)))\">下一页</a>" : "<span class=\"disabled\">下一页</span>"
        h += "</nav></section>"
        return h
    }


    static func renderEnterprise(_ v: EnterpriseView) -> String {
        let r = v.result
        let back = HTML.url("/ranking", [("year", String(r.year)), ("group", r.group.rawValue)])
        var h = "<p class=\"crumbs\"><a href=\"\(LegacyHTML.escape(back))\">← 返回 \(r.year) 年度\(r.group.chinese)企业排名</a></p>"
        // head card
        h += "<section class=\"card ent-head\"><div class=\"ent-facts\">"
        h += "<h1 id=\"enterprise-name\">\(LegacyHTML.escape(r.name))</h1><dl class=\"facts\">"
        h += "<dt>统一社会信用代码</dt><dd id=\"credit-code\">\(LegacyHTML.escape(r.creditCode))</dd>"
        h += "<dt>所属镇街</dt><dd id=\"town\">\(LegacyHTML.escape(r.town))</dd>"
        h += "<dt>企业规模</dt><dd id=\"group\">\(r.group.chinese)</dd>"
        if let ind = r.industry, !ind.isEmpty { h += "<dt>行业代码</dt><dd>\(LegacyHTML.escape(ind))</dd>" }
        h += "<dt>用地面积</dt><dd id=\"land\">\(HTML.num(r.landMu)) 亩</dd>"
        let resultYears = v.history.map(\.year)
        h += "<dt>评价年度</dt><dd id=\"years\">"
        h += (resultYears.isEmpty ? [r.year] : resultYears).map { y in
            y == r.year ? "<strong>\(y)</strong>"
                : "<a href=\"\(LegacyHTML.escape(HTML.url("/enterprises/\(HTML.percent(r.creditCode))", [("year", String(y))])))\">\(y)</a>"
        }.joined(separator: " ")
        h += "</dd></dl></div>"
        h += "<div class=\"ent-class\">"
        let fc = r.finalClass?.rawValue
        h += "<div class=\"caption\">\(r.year) 年度最终分类</div>"
        h += "<div id=\"final-class\" class=\"big-badge cls-\(fc ?? "exempt")\" data-class=\"\(fc ?? "exempt")\">\(fc ?? "不参评")</div>"
        if r.evaluated {
            if let before = r.classBeforeVeto, before != r.finalClass {
                h += "<div id=\"class-before\" class=\"before\">否决前为 \(before.rawValue) 类</div>"
            }
            h += "<div id=\"total-score\" class=\"score\">总分 <b>\(HTML.num(r.totalScore))</b></div>"
            if let rank = r.rank { h += "<div id=\"rank\" class=\"rank\">组内第 \(rank) / \(r.groupSize) 名</div>" }
        } else {
            h += "<div id=\"exempt-reason\" class=\"before\">不参评：\(LegacyHTML.escape(r.exemptReason))</div>"
        }
        h += "</div></section>"

        // vetoes and reasons
        h += "<section class=\"card\" id=\"explanation\"><h2>评价说明</h2>"
        if !r.vetoes.isEmpty {
            h += "<p id=\"vetoes\" class=\"veto-line\"><strong>一票否决：</strong>" + r.vetoes.map { "<span class=\"veto-tag\">\(LegacyHTML.escape($0))</span>" }.joined(separator: " ") + "</p>"
        }
        h += "<ul id=\"reasons\">" + r.reasons.map { "<li>\(LegacyHTML.escape($0))</li>" }.joined() + "</ul>"
        if !r.bonusReasons.isEmpty || r.bonus != 0 {
            h += "<p id=\"bonus\">加分 \(HTML.num(r.bonus))：" + r.bonusReasons.map { LegacyHTML.escape($0) }.joined(separator: "；") + "</p>"
        }
        h += "</section>"

        // indicators
        h += "<div class=\"overview wide-left\"><section class=\"card\" id=\"indicator-card\"><h2>指标得分</h2>"
        if r.items.isEmpty {
            h += "<p class=\"muted\">不参评企业不计算指标得分。</p>"
        } else {
            h += "<div class=\"table-wrap\"><table id=\"indicators\" class=\"data\"><thead><tr><th>指标</th><th>单位</th><th class=\"num\">指标值</th>"
            h += "<th class=\"num\">基准值</th><th class=\"num\">值/基准</th><th class=\"num\">权重</th><th class=\"num\">得分</th><th>说明</th></tr></thead><tbody>"
            for it in r.items {
                let ratio = (it.value != nil && (it.benchmark ?? 0) > 0) ? it.value! / it.benchmark! : nil
                h += "<tr data-indicator=\"\(it.indicator.rawValue)\"\(it.missing ? " class=\"missing\"" : "")>"
                h += "<td>\(it.indicator.chinese)</td><td>\(LegacyHTML.escape(HTML.unit(it.indicator)))</td>"
                h += "<td class=\"num\">\(HTML.value(it.value, it.indicator))</td><td class=\"num\">\(HTML.value(it.benchmark, it.indicator))</td>"
                h += "<td class=\"num\">\(ratio.map { String(format: "%.2f", $0) } ?? "—")</td>"
                h += "<td class=\"num\">\(formatNumber(it.weight))</td><td class=\"num score\">\(HTML.num(it.score))</td>"
                h += "<td>\(it.missing ? "<span class=\"missing-tag\">缺失，按平均分计</span>" : "")</td></tr>"
            }
            h += "</tbody><tfoot><tr><td colspan=\"5\">合计\(r.bonus != 0 ? "（含加分 \(HTML.num(r.bonus))）" : "")</td>"
            h += "<td class=\"num\">\(formatNumber(r.items.reduce(0) { $0 + $1.weight }))</td><td class=\"num\"><b>\(HTML.num(r.totalScore))</b></td><td></td></tr></tfoot></table></div>"
        }
        h += "</section><section class=\"card chart-card\"><h2>指标值与基准值之比</h2>"
        h += "<div class=\"chart-box\"><canvas id=\"indicator-chart\" role=\"img\" aria-label=\"指标值/基准值\"></canvas></div></section></div>"

        // gap to the next better class
        h += "<section class=\"card\" id=\"gap\"><h2>提升空间</h2>"
        if !r.evaluated {
            h += "<p class=\"gap-line\">不参评：\(LegacyHTML.escape(r.exemptReason))</p>"
        } else if r.classBeforeVeto == .A && r.finalClass == .A {
            h += "<p class=\"gap-line\">已是 A 类。</p>"
        } else if r.classBeforeVeto == .A, let fc = r.finalClass {
            let kinds = r.vetoes.map { LegacyHTML.escape($0) }.joined(separator: "、")
            h += "<p class=\"gap-line\">按总分已属 A 类，但因一票否决（\(kinds)）最终为 \(fc.rawValue) 类。</p>"
            h += "<p id=\"gap-barred\" class=\"warning\">否决情形消除前，提高得分不能改变分类。</p>"
        } else if let g = r.gap {
            h += "<p class=\"gap-line\">距 <b>\(g.target.rawValue) 类</b>还差 <b id=\"points-needed\">\(HTML.num(g.pointsNeeded))</b> 分"
            h += "<span class=\"muted\">（\(g.target.rawValue) 类最低总分 \(HTML.num(g.boundary))，当前 \(HTML.num(r.totalScore))）</span></p>"
            if let before = r.classBeforeVeto, before != r.finalClass {
                h += "<p class=\"muted\">按否决前分类 \(before.rawValue) 类计算。</p>"
            }
            if let barred = g.barredByVeto {
                h += "<p id=\"gap-barred\" class=\"warning\">因一票否决（\(LegacyHTML.escape(barred))），即使总分达到也不能评为 \(g.target.rawValue) 类。</p>"
            }
            h += "<p class=\"muted\">以下为单靠一项指标提升（其他指标与基准值不变）所需达到的数值：</p>"
            h += "<div class=\"table-wrap\"><table class=\"data\" id=\"gap-table\"><thead><tr><th>指标</th><th class=\"num\">当前值</th><th class=\"num\">目标值</th>"
            h += "<th class=\"num\">需提高</th><th>折合</th></tr></thead><tbody>"
            for ig in g.indicators {
                let ind = ig.indicator
                h += "<tr data-indicator=\"\(ind.rawValue)\"><td>\(ind.chinese)（\(LegacyHTML.escape(HTML.unit(ind)))）</td>"
                h += "<td class=\"num\">\(HTML.value(ig.current, ind))</td>"
                if ig.target == nil {
                    h += "<td class=\"num\">—</td><td class=\"num\">—</td><td>单靠该指标无法达到（受得分上限限制）</td></tr>"
                    continue
                }
                h += "<td class=\"num\">\(HTML.value(ig.target, ind))</td>"
                h += "<td class=\"num\">\(ig.increase.map { HTML.value($0, ind) } ?? "—")</td><td>"
                if ig.current == nil {
                    h += "该指标缺失，补齐数据后按实际值计分"
                } else if let n = ig.numeratorIncrease {
                    h += "需增加\(ind.numeratorChinese) \(String(format: "%.1f", n)) 万元"
                }
                h += "</td></tr>"
            }
            h += "</tbody></table></div>"
        } else {
            h += "<p class=\"gap-line\">暂无可比较的更高分类。</p>"
        }
        h += "</section>"

        // policies
        h += "<section class=\"card\" id=\"policies\"><h2>适用的差别化政策</h2>"
        if let pol = r.policy, let fc = r.finalClass {
            h += "<dl class=\"facts policies\">"
            h += "<dt>差别化电价加价</dt><dd id=\"policy-surcharge\">\(formatNumber(pol.electricitySurcharge)) 元/千瓦时</dd>"
            h += "<dt>用能指标系数</dt><dd id=\"policy-energy\">\(pol.energyQuotaFactor.map(formatNumber) ?? "—")</dd>"
            h += "<dt>亩均英雄贷</dt><dd id=\"policy-credit\" data-eligible=\"\(pol.creditEligible)\">\(pol.creditEligible ? "可申请" : "不可申请")</dd>"
            h += "<dt>连续年数</dt><dd id=\"policy-years\">连续 \(pol.consecutiveYears) 年 \(fc.rawValue) 类</dd>"
            for (k, val) in pol.other.sorted(by: { $0.key < $1.key }) {
                h += "<dt>\(LegacyHTML.escape(k))</dt><dd>\(LegacyHTML.escape(val))</dd>"
            }
            h += "</dl>"
        } else {
            h += "<p class=\"muted\">不参评企业不适用按分类的差别化政策。</p>"
        }
        h += "</section>"

        // history
        h += "<div class=\"overview\"><section class=\"card\"><h2>历年评价</h2><div class=\"table-wrap\"><table id=\"history\" class=\"data\"><thead><tr>"
        h += "<th>年度</th><th>规模</th><th class=\"num\">亩均税收</th><th class=\"num\">总分</th><th class=\"num\">排名</th><th>分类</th></tr></thead><tbody>"
        for e in v.history {
            let link = HTML.url("/enterprises/\(HTML.percent(r.creditCode))", [("year", String(e.year))])
            h += "<tr data-year=\"\(e.year)\"\(e.year == r.year ? " class=\"current\"" : "")><td><a href=\"\(LegacyHTML.escape(link))\">\(e.year)</a></td>"
            h += "<td>\(EnterpriseGroup(rawValue: e.group)?.chinese ?? LegacyHTML.escape(e.group))</td>"
            h += "<td class=\"num\">\(HTML.num(e.taxPerMu))</td><td class=\"num\">\(HTML.num(e.totalScore))</td>"
            h += "<td class=\"num\">\(e.rank.map { r in "\(r)" + (e.groupSize.map { " / \($0)" } ?? "") } ?? "—")</td>"
            h += "<td>\(e.finalClass != nil ? LegacyHTML.classBadge(e.finalClass) : "<span class=\"badge cls-exempt\" title=\"\(LegacyHTML.escape(e.exemptReason))\">不参评</span>")</td></tr>"
        }
        h += "</tbody></table></div></section>"
        h += "<section class=\"card chart-card\"><h2>历年总分</h2><div class=\"chart-box\"><canvas id=\"history-chart\" role=\"img\" aria-label=\"历年总分\"></canvas></div></section></div>"

        struct Ind: Encodable { var key: String; var name: String; var ratio: Double?; var value: Double?; var benchmark: Double?; var missing: Bool }
        struct Hist: Encodable { var year: Int; var score: Double?; var cls: String? }
        struct EntData: Encodable { var indicators: [Ind]; var history: [Hist]; var year: Int }
        let data = EntData(
            indicators: r.items.map { it in
                let ratio = (it.value != nil && (it.benchmark ?? 0) > 0) ? it.value! / it.benchmark! : nil
                return Ind(key: it.indicator.rawValue, name: it.indicator.chinese, ratio: HTML.finite(ratio),
                           value: HTML.finite(it.value), benchmark: HTML.finite(it.benchmark), missing: it.missing)
            },
            history: v.history.map { Hist(year: $0.year, score: HTML.finite($0.totalScore), cls: $0.finalClass) },
            year: r.year)
        h += LegacyHTML.jsonScript(id: "enterprise-data", data)
        return h
    }

    static func renderRules(_ rules: Rules, yaml: String, year: Int?, runs: [Store.RunInfo], currentRun: Int64?) -> String {
        var h = "<section class=\"page-head\"><h1>亩均效益综合评价规则</h1><p class=\"muted\" id=\"rules-name\">现行规则：\(LegacyHTML.escape(rules.name))</p></section>"
        // weights
        let above = rules.weights["above"] ?? [:], below = rules.weights["below"] ?? [:]
        h += "<section class=\"card\"><h2>指标与权重</h2><div class=\"table-wrap\"><table id=\"weights\" class=\"data\"><thead><tr>"
        h += "<th>指标</th><th>代码</th><th>计算方法</th><th>单位</th><th class=\"num\">规上权重</th><th class=\"num\">规下权重</th></tr></thead><tbody>"
        let fieldNames = ["tax": "评价税收", "land_mu": "用地面积", "value_added": "工业增加值", "energy_tce": "综合能耗",
                          "emissions": "排放当量", "employees": "年平均职工人数", "rnd": "研发经费", "revenue": "营业收入", "electricity": "用电量"]
        for ind in Indicator.allCases where (above[ind.rawValue] ?? 0) > 0 || (below[ind.rawValue] ?? 0) > 0 {
            let f = ind.fields
            h += "<tr data-indicator=\"\(ind.rawValue)\"><td>\(ind.chinese)</td><td><code>\(ind.rawValue)</code></td>"
            h += "<td>\(fieldNames[f.numerator] ?? f.numerator) ÷ \(fieldNames[f.denominator] ?? f.denominator)</td><td>\(LegacyHTML.escape(ind.unit))</td>"
            h += "<td class=\"num weight-above\">\(above[ind.rawValue].flatMap { $0 > 0 ? formatNumber($0) : nil } ?? "—")</td>"
            h += "<td class=\"num weight-below\">\(below[ind.rawValue].flatMap { $0 > 0 ? formatNumber($0) : nil } ?? "—")</td></tr>"
        }
        h += "</tbody><tfoot><tr><td colspan=\"4\">合计</td><td class=\"num\">\(formatNumber(above.values.reduce(0, +)))</td>"
        h += "<td class=\"num\">\(formatNumber(below.values.reduce(0, +)))</td></tr></tfoot></table></div>"
        h += "<p class=\"muted\">规上、规下企业分组评分、分组排名。规下企业用地面积低于 \(formatNumber(rules.minLandMu)) 亩不参评；用地面积缺失或不大于 0 不参评。</p></section>"

        // benchmark and scoring
        h += "<div class=\"overview\"><section class=\"card\" id=\"rules-benchmark\"><h2>基准值与计分</h2><dl class=\"facts\">"
        let modeText: String
        switch rules.benchmark.mode {
        case .aggregate: modeText = "aggregate：组内有该指标的参评企业 Σ分子 ÷ Σ分母"
        case .mean: modeText = "mean：组内指标值的平均数"
        case .median: modeText = "median：组内指标值的中位数"
        case .fixed: modeText = "fixed：规则中给定的数值"
        }
        h += "<dt>基准值</dt><dd id=\"benchmark-mode\" data-mode=\"\(rules.benchmark.mode.rawValue)\">\(modeText)</dd>"
        if rules.benchmark.mode == .fixed {
            for g in EnterpriseGroup.allCases {
                let items = rules.indicators(for: g).map { ind, _ in
                    "\(ind.chinese) \(rules.fixedBenchmark(g, ind).map(formatNumber) ?? "—") \(LegacyHTML.escape(ind.unit))"
                }
                h += "<dt>\(g.chinese)基准值</dt><dd>\(items.joined(separator: "；"))</dd>"
            }
        }
        h += "<dt>单项得分</dt><dd>权重 × 指标值 ÷ 基准值</dd>"
        h += "<dt>得分下限</dt><dd id=\"scoring-floor\">\(formatNumber(rules.scoring.floor))</dd>"
        h += "<dt>得分上限</dt><dd id=\"scoring-cap\">\(rules.scoring.cap.map { "权重 × \(formatNumber($0))" } ?? "不封顶")</dd>"
        h += "<dt>缺失指标</dt><dd id=\"scoring-missing\">\(rules.scoring.missing == .average ? "average：按组内有该指标企业的平均单项得分计" : "zero：记 0 分")</dd>"
        h += "<dt>加分项</dt><dd id=\"bonus-rules\">"
        h += rules.bonus.isEmpty ? "无" : rules.bonus.map { b in
            "\(LegacyHTML.escape(b.name))：\(b.indicator.chinese) ≥ \(formatNumber(b.atLeast)) 加 \(formatNumber(b.points)) 分"
        }.joined(separator: "；")
        h += "</dd></dl></section>"

        // classes
        h += "<section class=\"card\" id=\"rules-classes\"><h2>分类</h2>"
        let letters: [EnterpriseClass] = [.A, .B, .C]
        switch rules.classes.mode {
        case .quota:
            h += "<p>按比例（quota）：组内按总分从高到低排序，累计比例</p><ul id=\"class-rules\">"
            func pct(_ x: Double) -> String { formatNumber((x * 10_000).rounded() / 100) + "%" }
            var prev = 0.0
            for c in letters {
                let share = rules.quotaShare(c) ?? prev
                h += "<li>\(LegacyHTML.classBadge(c.rawValue)) " + (prev == 0 ? "前 \(pct(share))" : "\(pct(prev))–\(pct(share))") + "</li>"
                prev = share
            }
            h += "<li>\(LegacyHTML.classBadge("D")) 其余（后 \(pct(1 - prev))）</li></ul>"
            h += "<p class=\"muted\">位次 p 的企业：p ≤ round(比例 × n) 即入该类（四舍五入）；总分相同的企业不拆分到不同分类。</p>"
        case .score:
            h += "<p>按分数线（score）：</p><ul id=\"class-rules\">"
            for c in letters {
                h += "<li>\(LegacyHTML.classBadge(c.rawValue)) 总分 ≥ \(rules.scoreThreshold(c).map(formatNumber) ?? "—")</li>"
            }
            h += "<li>\(LegacyHTML.classBadge("D")) 其余</li></ul>"
        }
        h += "<h3>一票否决</h3><table id=\"vetoes\" class=\"data\"><thead><tr><th>情形</th><th>处理</th></tr></thead><tbody>"
        for (kind, v) in rules.vetoes.sorted(by: { $0.key < $1.key }) {
            var effect: [String] = []
            if let f = v.force { effect.append("直接评为 \(f.rawValue) 类") }
            if let b = v.atBest { effect.append("最高评为 \(b.rawValue) 类") }
            h += "<tr><td>\(LegacyHTML.escape(kind))</td><td>\(effect.joined(separator: "；"))</td></tr>"
        }
        h += "</tbody></table></section></div>"

        // policies
        h += "<section class=\"card\" id=\"rules-policies\"><h2>差别化政策</h2><div class=\"table-wrap\"><table id=\"policies-table\" class=\"data\"><thead><tr>"
        h += "<th>分类</th><th class=\"num\">电价加价(元/千瓦时)</th><th class=\"num\">用能指标系数</th><th>亩均英雄贷</th><th>连续年份加价</th><th>其他政策</th></tr></thead><tbody>"
        for c in EnterpriseClass.allCases {
            guard let p = rules.policy(for: c) else {
                h += "<tr><td>\(LegacyHTML.classBadge(c.rawValue))</td><td colspan=\"5\">未规定</td></tr>"
                continue
            }
            h += "<tr data-class=\"\(c.rawValue)\"><td>\(LegacyHTML.classBadge(c.rawValue))</td><td class=\"num\">\(formatNumber(p.electricitySurcharge))</td>"
            h += "<td class=\"num\">\(p.energyQuotaFactor.map(formatNumber) ?? "—")</td><td>\(p.creditEligible ? "可申请" : "不可申请")</td>"
            if let y = p.consecutiveYears, let s = p.consecutiveElectricitySurcharge {
                h += "<td>连续 \(y) 年及以上：\(formatNumber(s)) 元/千瓦时</td>"
            } else { h += "<td>—</td>" }
            h += "<td>" + p.other.sorted(by: { $0.key < $1.key }).map { "\(LegacyHTML.escape($0.key))：\(LegacyHTML.escape($0.value))" }.joined(separator: "<br>") + "</td></tr>"
        }
        h += "</tbody></table></div></section>"

        // towns
        h += "<section class=\"card\" id=\"rules-towns\"><h2>镇街（\(rules.towns.count) 个）</h2><p class=\"towns\">"
        h += rules.towns.map { "<span class=\"tag\">\(LegacyHTML.escape($0))</span>" }.joined(separator: " ") + "</p></section>"

        // runs
        h += "<section class=\"card\" id=\"runs\"><h2>评价运行记录\(year.map { "（\($0) 年度）" } ?? "")</h2>"
        if runs.isEmpty {
            h += "<p class=\"muted\">尚无评价运行。</p>"
        } else {
            h += "<div class=\"table-wrap\"><table class=\"data\" id=\"runs-table\"><thead><tr><th class=\"num\">运行号</th><th>年度</th><th class=\"num\">企业数</th>"
            h += "<th class=\"num\">参评数</th><th>操作人</th><th>时间</th><th>规则</th><th>状态</th></tr></thead><tbody>"
            for run in runs {
                let name = (try? Rules(yaml: run.rulesYAML))?.name ?? "—"
                let same = run.rulesYAML == yaml
                h += "<tr data-run=\"\(run.id)\"><td class=\"num\">#\(run.id)</td><td>\(run.year)</td><td class=\"num\">\(run.enterprises)</td>"
                h += "<td class=\"num\">\(run.evaluated)</td><td>\(LegacyHTML.escape(run.actor))</td><td>\(HTML.dateTime(run.createdAt))</td>"
                h += "<td>\(LegacyHTML.escape(name))\(same ? "" : " <span class=\"muted\">（与现行规则不同）</span>")</td>"
                h += "<td>\(run.id == currentRun ? "<b>当前结果</b>" : "已被替代")</td></tr>"
            }
            h += "</tbody></table></div>"
        }
        h += "</section>"

        h += "<section class=\"card\"><h2>规则文件（YAML）</h2><pre id=\"rules-yaml\">\(LegacyHTML.escape(yaml))</pre></section>"
        return h
    }
}
