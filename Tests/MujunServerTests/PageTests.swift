import Foundation
import Testing
import VaporTesting
import MujunCore
@testable import MujunStore
@testable import MujunServer

@Suite("Pages and export", .serialized)
struct PageTests {
    // MARK: helpers

    func get(_ app: Application, _ path: String) async throws -> TestingHTTPResponse {
        try await app.testing().sendRequest(.GET, path, headers: try await TestAuth.hq(app).headers)
    }

    /// The `data-…` attributes of the `#class-counts` element.
    func countsAttributes(_ html: String) -> [String: Int] {
        guard let tag = html.captures(#"(<div id="class-counts"[^>]*>)"#).first else { return [:] }
        var out: [String: Int] = [:]
        for key in ["a", "b", "c", "d", "exempt"] {
            if let v = tag.captures(#"data-\#(key)="(\d+)""#).first { out[key] = Int(v) }
        }
        return out
    }

    func sum(_ byTown: [String: [String: Int]], town: String? = nil) -> [String: Int] {
        var out: [String: Int] = [:]
        for (t, c) in byTown where town == nil || t == town { for (k, n) in c { out[k.lowercased(), default: 0] += n } }
        for k in ["a", "b", "c", "d", "exempt"] where out[k] == nil { out[k] = 0 }
        return out
    }

    // MARK: ranking

    @Test("the ranking page shows the stored class counts, the chart data, the table and the export link")
    func rankingPage() async throws {
        try await TestApp.withDemo { app in
            let res = try await get(app, "/ranking")
            #expect(res.status == .ok)
            let html = res.body.string
            #expect(html.contains("2025 年度亩均效益评价排名"))
            #expect(res.headers.first(name: "Content-Security-Policy") != nil)
            let byTown = try await app.store.classCountsByTown(.init(year: 2025, group: .above))
            #expect(countsAttributes(html) == sum(byTown))
            #expect(html.contains(#"<canvas id="class-chart""#))
            #expect(html.contains(#"<script type="application/json" id="chart-data">"#))
            #expect(html.contains(#"<script src="/vendor/chart.js""#))
            #expect(html.contains(#"id="export-xlsx""#))
            #expect(html.contains(#"<table id="ranking-table""#))
            #expect(html.contains(#"<th id="sort-total""#))
            // all 17 towns of the rules in the town selector
            let options = html.captures(#"<select id="town"[^>]*>(.*?)</select>"#).first ?? ""
            for town in Rules.default.towns { #expect(options.contains(">\(town)</option>")) }
            // no inline script: every <script> either has a src or is JSON data
            for tag in html.captures(#"(<script[^>]*>)"#) {
                #expect(tag.contains("src=") || tag.contains("application/json"), "inline script: \(tag)")
            }
            // the rows: 100 per page, rank order, each with its credit code
            let page = try await app.store.results(.init(year: 2025, group: .above), page: 1, per: 100)
            let codes = html.captures(#"<tr data-credit-code="([^"]+)""#)
            #expect(codes == page.items.map(\.creditCode))
            #expect(html.contains("共 \(page.total) 家"))
            // a class filter shows only that class
            let d = try await get(app, "/ranking?year=2025&group=below&class=D")
            #expect(Set(d.body.string.captures(#"<td class="class cls-([A-Za-z]+)">"#)) == ["D"])
            // benchmarks of the group
            #expect(html.contains(#"id="benchmarks""#) && html.contains("万元/亩"))
        }
    }

    @Test("sorting by total score flips between descending and ascending")
    func rankingSort() async throws {
        try await TestApp.withDemo { app in
            let first = try await get(app, "/ranking?year=2025&group=below")
            let link = first.body.string.captures(#"<th id="sort-total"[^>]*><a href="([^"]+)""#).first ?? ""
            #expect(link.contains("sort=total") && link.contains("order=desc"))
            let desc = try await get(app, "/ranking?year=2025&group=below&sort=total&order=desc")
            let scores = desc.body.string.captures(#"<td class="num total">([0-9.\-]+)</td>"#).compactMap(Double.init)
            #expect(scores.count == 100)
            #expect(scores == scores.sorted(by: >))
            let flip = desc.body.string.captures(#"<th id="sort-total"[^>]*><a href="([^"]+)""#).first ?? ""
            #expect(flip.contains("order=asc"))
        }
    }

    @Test("the town filter only shows that town's enterprises and counts")
    func townFilter() async throws {
        try await TestApp.withDemo { app in
            let town = "东城街道"
            let res = try await get(app, "/ranking?year=2025&group=below&town=\(town.queryEncoded)")
            #expect(res.status == .ok)
            let html = res.body.string
            let towns = html.captures(#"<td class="town">([^<]*)</td>"#)
            #expect(!towns.isEmpty)
            #expect(Set(towns) == [town])
            let total = try await app.store.results(.init(year: 2025, group: .below, town: town)).total
            #expect(towns.count == min(total, 100))
            #expect(html.contains("共 \(total) 家"))
            let byTown = try await app.store.classCountsByTown(.init(year: 2025, group: .below))
            #expect(countsAttributes(html) == sum(byTown, town: town))
            #expect(html.contains(#"<option value="\#(town)" selected>"#))
            // the export link carries the same filters
            #expect(html.contains("town=\(town.queryEncoded)"))
        }
    }

    @Test("names are escaped everywhere")
    func escaping() async throws {
        try await TestApp.withDemo(enterprises: 60) { app in
            let code = CreditCode.complete("91330784" + "000000001")
            let evil = "<script>alert(1)</script>有限公司"
            let rec = EnterpriseRecord(year: 2025, creditCode: code, name: evil, town: "东城街道", group: .below,
                                       landMu: 10, tax: 150, electricity: 120, vetoes: [])
            _ = try await app.store.importEnterprises([rec], fileName: "evil", actor: "test")
            _ = try await app.store.evaluate(year: 2025, rules: .default, rulesYAML: defaultRulesYAML, actor: "test")
            let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;有限公司"
            for path in ["/ranking?year=2025&group=below&q=\(code)", "/enterprises/\(code)?year=2025",
                         "/ranking?year=2025&group=below&q=\("<script>".queryEncoded)"] {
                let res = try await get(app, path)
                #expect(res.status == .ok, "\(path)")
                let html = res.body.string
                #expect(html.contains(escaped), "\(path)")
                #expect(!html.contains("<script>alert"), "\(path)")
            }
            // the search box keeps the query escaped
            let res = try await get(app, "/ranking?year=2025&group=below&q=\("\"><script>x".queryEncoded)")
            #expect(!res.body.string.contains("\"><script>x"))
        }
    }

    // MARK: enterprise

    @Test("the enterprise page shows its class, every indicator, policies, history and the gap")
    func enterprisePage() async throws {
        try await TestApp.withDemo { app in
            let rows = try await app.store.results(.init(year: 2025, group: .above), per: 1000).items
            // one enterprise per final class, and one not evaluated
            var picks: [String] = []
            for c in ["A", "B", "C", "D"] { if let r = rows.first(where: { $0.finalClass == c }) { picks.append(r.creditCode) } }
            #expect(picks.count == 4)
            for code in picks {
                let result = try #require(try await app.store.result(creditCode: code, year: 2025))
                let res = try await get(app, "/enterprises/\(code)?year=2025")
                #expect(res.status == .ok)
                let html = res.body.string
                #expect(html.contains(#"<h1 id="enterprise-name">\#(HTMLWriter.escape(result.name))</h1>"#))
                let cls = try #require(result.finalClass?.rawValue)
                #expect(html.contains(#"id="final-class" class="big-badge cls-\#(cls)" data-class="\#(cls)">\#(cls)</div>"#))
                #expect(html.contains("组内第 \(result.rank!) / \(result.groupSize) 名"))
                let table = html.captures(#"<table id="indicators"(.*?)</table>"#).first ?? ""
                let keys = table.captures(#"<tr data-indicator="([a-z_]+)""#)
                #expect(keys == result.items.map(\.indicator.rawValue))
                #expect(keys.count == 6)
                #expect(html.contains(#"<canvas id="indicator-chart""#))
                #expect(html.contains(#"id="enterprise-data""#))
                #expect(html.contains(#"id="policies""#) && html.contains("差别化电价加价") && html.contains("亩均英雄贷"))
                let history = html.captures(#"<table id="history"(.*?)</table>"#).first ?? ""
                let historyYears = try await app.store.history(creditCode: code).map(\.year)
                #expect(history.captures(#"<tr data-year="(\d+)""#) == historyYears.map(String.init))
                #expect(historyYears.contains(2024) && historyYears.contains(2025))
                let gap = html.captures(#"<section class="card" id="gap">(.*?)</section>"#).first ?? ""
                if result.classBeforeVeto == .A && result.finalClass == .A {
                    #expect(gap.contains("已是 A 类"))
                } else if let g = result.gap {
                    #expect(gap.contains("距 <b>\(g.target.rawValue) 类</b>还差"))
                    #expect(gap.contains("需增加税收"))
                    if let barred = g.barredByVeto { #expect(gap.contains(barred)) }
                }
                for item in result.items where item.missing {
                    #expect(table.contains("缺失，按平均分计"))
                }
            }
            // an enterprise not evaluated says why
            let all = try await app.store.results(.init(year: 2025, cls: "exempt"), per: 10)
            if let ex = all.items.first {
                let html = try await get(app, "/enterprises/\(ex.creditCode)?year=2025").body.string
                #expect(html.contains("不参评：\(HTMLWriter.escape(ex.exemptReason ?? ""))"))
                #expect(html.contains(#"data-class="exempt""#))
            }
        }
    }

    @Test("the gap section says when a veto bars the better class")
    func vetoedGap() async throws {
        try await TestApp.withDemo(enterprises: 60) { app in
            let row = try #require(try await app.store.results(.init(year: 2025, group: .below, cls: "C"), per: 1).items.first)
            var r = try #require(try await app.store.result(creditCode: row.creditCode, year: 2025))
            let history = try await app.store.history(creditCode: row.creditCode)
            // scored B, forced to D by a veto: the gap to A is shown, with the veto that bars it
            r.classBeforeVeto = .B; r.finalClass = .D; r.vetoes = ["重大环境违法"]
            r.gap?.barredByVeto = "重大环境违法"
            r.gap?.target = .A
            var html = RankingViews.enterprise(EnterpriseView(result: r, history: history, years: [2025]), crumbs: true, yearHref: nil).html
            #expect(html.contains("距 <b>A 类</b>还差"))
            #expect(html.contains(#"id="gap-barred""#) && html.contains("因一票否决（重大环境违法）"))
            #expect(html.contains("否决前为 B 类"))
            // scored A, forced to D: no better class by score, the veto is what keeps it down
            r.classBeforeVeto = .A; r.gap = nil
            html = RankingViews.enterprise(EnterpriseView(result: r, history: history, years: [2025]), crumbs: true, yearHref: nil).html
            #expect(html.contains("按总分已属 A 类") && html.contains(#"id="gap-barred""#))
            // a name with markup stays text in the JSON for the charts too
            r.name = "</script><script>alert(1)</script>"
            html = RankingViews.enterprise(EnterpriseView(result: r, history: history, years: [2025]), crumbs: true, yearHref: nil).html
            #expect(!html.contains("<script>alert"))
        }
    }

    @Test("an unknown enterprise answers 404 in Chinese")
    func unknownEnterprise() async throws {
        try await TestApp.withDemo(enterprises: 40) { app in
            let code = CreditCode.complete("91330784" + "YYYYYYYY1")
            let res = try await get(app, "/enterprises/\(code)?year=2025")
            #expect(res.status == .notFound)
            #expect(res.body.string.contains("未找到该企业"))
            #expect(res.headers.contentType == .html)
            let garbage = try await get(app, "/enterprises/%3Cb%3E?year=1999")
            #expect(garbage.status == .notFound)
            #expect(!garbage.body.string.contains("<b>"))
        }
    }

    // MARK: rules and empty state

    @Test("the rules page shows the weights, the YAML and the runs")
    func rulesPage() async throws {
        try await TestApp.withDemo(enterprises: 40) { app in
            let res = try await get(app, "/rules")
            #expect(res.status == .ok)
            let html = res.body.string
            #expect(html.contains("亩均税收"))
            #expect(html.contains(#"<td class="num weight-above">30</td>"#))
            #expect(html.contains(#"<td class="num weight-below">50</td>"#))
            #expect(html.contains(#"<pre id="rules-yaml">"#))
            #expect(html.contains("重大安全生产事故"))
            #expect(html.contains("现代农业装备高新区"))
            #expect(html.contains(#"id="runs-table""#) && html.contains("当前结果"))
        }
    }

    @Test("without any evaluation the ranking explains how to get one, and / redirects")
    func emptyState() async throws {
        try await TestApp.with { app in
            let res = try await get(app, "/ranking")
            #expect(res.status == .ok)
            #expect(res.body.string.contains(#"id="empty-state""#))
            #expect(res.body.string.contains("mujun demo"))
            let root = try await get(app, "/")
            #expect(root.status == .seeOther || root.status == .found || root.status == .movedPermanently)
            #expect(root.headers.first(name: .location) == "/ranking")
            let css = try await get(app, "/static/mujun.css")
            #expect(css.status == .ok)
            for js in ["/static/ranking.js", "/static/enterprise.js"] {
                #expect(try await get(app, js).status == .ok)
            }
        }
    }

    // MARK: export

    /// Data rows of the first sheet.
    func xlsxRows(_ data: Data) throws -> (headers: [String], rows: [[String]]) {
        let table = try XLSXTable(data: data)
        var rows: [[String]] = []
        try table.forEachRow { _, cells in rows.append(cells) }
        return (table.headers, rows)
    }

    func apiTotal(_ app: Application, _ query: String) async throws -> Int {
        let res = try await get(app, "/api/v1/results?\(query)")
        #expect(res.status == .ok)
        let json = try JSONSerialization.jsonObject(with: Data(buffer: res.body)) as? [String: Any]
        return try #require(json?["total"] as? Int)
    }

    @Test("the export is an XLSX with one data row per matching enterprise")
    func export() async throws {
        try await TestApp.withDemo { app in
            for query in ["year=2025&group=above", "year=2025&group=below&town=\("东城街道".queryEncoded)",
                          "year=2025", "year=2024&class=D", "year=2025&group=below&class=exempt"] {
                let res = try await get(app, "/export/ranking.xlsx?\(query)")
                #expect(res.status == .ok, "\(query)")
                #expect(res.headers.first(name: .contentType) == Page.xlsxType)
                let disposition = res.headers.first(name: .contentDisposition) ?? ""
                #expect(disposition.hasPrefix("attachment;") && disposition.contains("filename*=UTF-8''"))
                let data = Data(buffer: res.body)
                #expect(data.starts(with: [0x50, 0x4B, 0x03, 0x04]))
                let (headers, rows) = try xlsxRows(data)
                #expect(rows.count == (try await apiTotal(app, query)), "\(query)")
                #expect(headers.first == "排名" && headers.contains("总分") && headers.contains("最终分类"))
                #expect(headers.contains("亩均税收(万元/亩)") && headers.contains("亩均税收得分"))
            }
            // one group: its indicators only; both groups: the union
            let above = try xlsxRows(Data(buffer: try await get(app, "/export/ranking.xlsx?year=2025&group=above").body)).headers
            #expect(above.contains("研发经费占营业收入比重得分") && !above.contains("单位电耗税收得分"))
            let both = try xlsxRows(Data(buffer: try await get(app, "/export/ranking.xlsx?year=2025").body)).headers
            #expect(both.contains("研发经费占营业收入比重得分") && both.contains("单位电耗税收得分"))
            // the first row is the group's rank 1 with its numbers
            let (headers, rows) = try xlsxRows(Data(buffer: try await get(app, "/export/ranking.xlsx?year=2025&group=above").body))
            let top = try #require(try await app.store.results(.init(year: 2025, group: .above), per: 1).items.first)
            let row = try #require(rows.first)
            #expect(row[1] == top.creditCode)
            #expect(row[0] == "1")
            let total = try #require(Double(row[headers.firstIndex(of: "总分")!]))
            #expect(abs(total - top.totalScore!) < 1e-9)
            #expect(RankingExport.fileName(year: 2025, group: nil) == "2025年度亩均评价排名.xlsx")
        }
    }
}
