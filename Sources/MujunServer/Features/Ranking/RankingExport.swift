import Foundation
import Vapor
import MujunCore
import MujunStore

/// The ranking as an Excel workbook officials can print: every matching enterprise (not just
/// one page), the benchmarks, and a sheet saying what was exported.
enum RankingExport {
    /// `2025年度亩均评价排名.xlsx`, or `2025年度亩均评价排名（规上）.xlsx` for one group.
    static func fileName(year: Int, group: EnterpriseGroup?) -> String {
        "\(year)年度亩均评价排名\(group.map { "（\($0.chinese)）" } ?? "").xlsx"
    }

    /// The indicators that get columns: those weighted for the exported groups, plus any
    /// found in the results, in the canonical order.
    static func indicators(results: [EnterpriseResult], groups: [EnterpriseGroup], rules: Rules) -> [Indicator] {
        var set = Set<Indicator>()
        for g in groups { for (ind, _) in rules.indicators(for: g) { set.insert(ind) } }
        for r in results { for it in r.items { set.insert(it.indicator) } }
        return Indicator.allCases.filter(set.contains)
    }

    /// Builds the workbook: 排名 (one row per enterprise), 基准值, 说明.
    static func workbook(results: [EnterpriseResult], benchmarks: [BenchmarkValue], filter: Store.ResultFilter,
                         run: Store.RunInfo, rules: Rules) -> XLSXWriter {
        let groups = filter.group.map { [$0] } ?? EnterpriseGroup.allCases
        let inds = indicators(results: results, groups: groups, rules: rules)
        var headers = ["排名", "统一社会信用代码", "企业名称", "所属镇街", "规模", "用地面积(亩)"]
        var formats: [String?] = ["0", nil, nil, nil, nil, "0.00"]
        var widths: [Double] = [7, 22, 36, 14, 7, 12]
        for ind in inds {
            headers += ["\(ind.chinese)(\(ind == .rndRatio ? "%" : ind.unit))", "\(ind.chinese)得分"]
            formats += [ind == .rndRatio ? "0.00%" : "0.00", "0.00"]
            widths += [Double(max(12, ind.chinese.count * 2 + ind.unit.count + 2)), Double(max(10, ind.chinese.count * 2 + 4))]
        }
        headers += ["总分", "否决前分类", "最终分类", "一票否决", "不参评原因"]
        formats += ["0.00", nil, nil, nil, nil]
        widths += [9, 10, 9, 18, 16]

        func num(_ x: Double?) -> XLSXCell { x.map { $0.isFinite ? .number($0) : .empty } ?? .empty }
        func text(_ s: String?) -> XLSXCell { s.map { $0.isEmpty ? .empty : .text($0) } ?? .empty }
        let rows: [[XLSXCell]] = results.map { r in
            var row: [XLSXCell] = [r.rank.map { .number(Double($0)) } ?? .empty, .text(r.creditCode), .text(r.name),
                                   .text(r.town), .text(r.group.chinese), num(r.landMu)]
            for ind in inds {
                if let it = r.items.first(where: { $0.indicator == ind }) {
                    row += [num(it.value), num(it.score)]
                } else {
                    row += [.empty, .empty]
                }
            }
            row += [num(r.totalScore), text(r.classBeforeVeto?.rawValue), text(r.finalClass?.rawValue ?? "不参评"),
                    text(r.vetoes.joined(separator: "；")), text(r.exemptReason)]
            return row
        }
        var w = XLSXWriter()
        w.addSheet(name: "排名", headers: headers, rows: rows, columnWidths: widths, numberFormats: formats)

        // benchmarks
        let modeNames: [BenchmarkMode: String] = [.aggregate: "Σ分子/Σ分母", .mean: "平均数", .median: "中位数", .fixed: "规则给定"]
        let bRows: [[XLSXCell]] = benchmarks
            .filter { groups.contains($0.group) }
            .sorted { ($0.group, Indicator.allCases.firstIndex(of: $0.indicator)!) < ($1.group, Indicator.allCases.firstIndex(of: $1.indicator)!) }
            .map { b in
                [.text(b.group.chinese), .text(b.indicator.chinese), .text(b.indicator.rawValue), .text(b.indicator.unit),
                 .text(modeNames[b.mode] ?? b.mode.rawValue), num(b.value), num(b.numeratorSum), num(b.denominatorSum),
                 .number(Double(b.count)), num(b.meanScore)]
            }
        w.addSheet(name: "基准值", headers: ["规模", "指标", "指标代码", "单位", "计算方式", "基准值", "分子合计", "分母合计", "企业数", "平均单项得分"],
                   rows: bRows, columnWidths: [7, 22, 20, 14, 12, 12, 14, 14, 8, 12],
                   numberFormats: [nil, nil, nil, nil, nil, "0.0000", "#,##0.00", "#,##0.00", "0", "0.00"])

        // notes
        let notes: [(String, String)] = [
            ("评价年度", "\(filter.year)"),
            ("评价规则", rules.name),
            ("评价运行", "#\(run.id)（\(HTML.dateTime(run.createdAt))，操作人 \(run.actor)）"),
            ("规模", filter.group.map(\.chinese) ?? "全部（规上、规下分组排名）"),
            ("镇街", filter.town.flatMap { $0.isEmpty ? nil : $0 } ?? "全部镇街"),
            ("分类", filter.cls.flatMap { $0.isEmpty ? nil : className($0) } ?? "全部"),
            ("关键词", filter.search.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } ?? "无"),
            ("企业数", "\(results.count)"),
            ("导出时间", HTML.dateTime(Date())),
            ("说明", "总分未四舍五入，按两位小数显示；排名为组内名次（同分同名次）；不参评企业排在最后。"),
        ]
        w.addSheet(name: "说明", headers: ["项目", "内容"], rows: notes.map { [.text($0.0), .text($0.1)] }, columnWidths: [12, 70])
        return w
    }
}
