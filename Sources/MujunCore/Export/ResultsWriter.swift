import Foundation

/// Writes an evaluation outcome as CSV (UTF-8, header row), JSON or XLSX: one row per input
/// enterprise, with every indicator's value, benchmark and score, the total (unrounded in
/// CSV and JSON), the rank, the classes before and after vetoes, and why an enterprise was
/// not evaluated.
public enum ResultsWriter {
    public enum Format: String, Sendable, CaseIterable {
        case csv, json, xlsx
        /// From a file name's extension.
        public init?(path: String) {
            switch URL(fileURLWithPath: path).pathExtension.lowercased() {
            case "csv": self = .csv
            case "json": self = .json
            case "xlsx": self = .xlsx
            default: return nil
            }
        }
    }

    /// Header language of CSV output.
    public enum HeaderStyle: String, Sendable, CaseIterable { case en, zh }

    struct Column {
        var en: String
        var zh: String
        var value: (EnterpriseResult) -> Value
    }

    enum Value {
        case text(String?)
        case number(Double?)
        case integer(Int?)
    }

    /// The columns, in order: identity, per-indicator value/benchmark/score/missing, totals.
    static func columns(_ outcome: EvaluationOutcome) -> [Column] {
        var cols: [Column] = [
            Column(en: "credit_code", zh: "统一社会信用代码") { .text($0.creditCode) },
            Column(en: "name", zh: "企业名称") { .text($0.name) },
            Column(en: "town", zh: "所属镇街") { .text($0.town) },
            Column(en: "group", zh: "规模") { .text($0.group.chinese) },
            Column(en: "land_mu", zh: "用地面积(亩)") { .number($0.landMu) },
        ]
        let used = Indicator.allCases.filter { ind in outcome.benchmarks.contains { $0.indicator == ind } }
        for ind in used {
            func item(_ r: EnterpriseResult) -> IndicatorScore? { r.items.first { $0.indicator == ind } }
            cols += [
                Column(en: "\(ind.rawValue)_value", zh: "\(ind.chinese)(\(ind.unit))") { .number(item($0)?.value) },
                Column(en: "\(ind.rawValue)_benchmark", zh: "\(ind.chinese)基准值") { .number(item($0)?.benchmark) },
                Column(en: "\(ind.rawValue)_score", zh: "\(ind.chinese)得分") { .number(item($0)?.score) },
                Column(en: "\(ind.rawValue)_missing", zh: "\(ind.chinese)缺失") { r in
                    .text(item(r).map { $0.missing ? "1" : "0" })
                },
            ]
        }
        cols += [
            Column(en: "bonus", zh: "加分") { .number($0.evaluated ? $0.bonus : nil) },
            Column(en: "total_score", zh: "总分") { .number($0.totalScore) },
            Column(en: "rank", zh: "组内排名") { .integer($0.rank) },
            Column(en: "group_size", zh: "组内参评企业数") { .integer($0.evaluated ? $0.groupSize : nil) },
            Column(en: "class_before_veto", zh: "否决前分类") { .text($0.classBeforeVeto?.rawValue) },
            Column(en: "class", zh: "最终分类") { .text($0.finalClass?.rawValue) },
            Column(en: "vetoes", zh: "一票否决") { .text($0.vetoes.joined(separator: ";")) },
            Column(en: "exempt_reason", zh: "不参评原因") { .text($0.exemptReason) },
            Column(en: "electricity_surcharge", zh: "差别化电价加价(元/千瓦时)") { .number($0.policy?.electricitySurcharge) },
            Column(en: "credit_eligible", zh: "亩均英雄贷") { r in .text(r.policy.map { $0.creditEligible ? "是" : "否" }) },
        ]
        return cols
    }

    /// CSV bytes (UTF-8, no BOM unless asked, header row).
    public static func csv(_ outcome: EvaluationOutcome, headers: HeaderStyle = .en, bom: Bool = false) -> Data {
        let cols = columns(outcome)
        var out = [UInt8]()
        out.reserveCapacity(outcome.results.count * 256 + 1024)
        if bom { out += [0xEF, 0xBB, 0xBF] }
        func field(_ s: String) {
            if s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
                out.append(0x22)
                for b in s.utf8 { if b == 0x22 { out.append(0x22) }; out.append(b) }
                out.append(0x22)
            } else {
                out += s.utf8
            }
        }
        for (i, c) in cols.enumerated() {
            if i > 0 { out.append(0x2C) }
            field(headers == .en ? c.en : c.zh)
        }
        out.append(0x0A)
        for r in outcome.results {
            for (i, c) in cols.enumerated() {
                if i > 0 { out.append(0x2C) }
                switch c.value(r) {
                case .text(let s): if let s { field(s) }
                case .number(let d): if let d { out += d.description.utf8 }
                case .integer(let n): if let n { out += String(n).utf8 }
                }
            }
            out.append(0x0A)
        }
        return Data(out)
    }

    /// JSON: `{year, benchmarks, results}` with snake_case keys.
    public static func json(_ outcome: EvaluationOutcome) throws -> Data {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(outcome)
    }

    /// XLSX with Chinese headers, a results sheet and a benchmarks sheet.
    public static func xlsx(_ outcome: EvaluationOutcome, rulesName: String = "") throws -> Data {
        let cols = columns(outcome)
        var w = XLSXWriter()
        let rows: [[XLSXCell]] = outcome.results.map { r in
            cols.map { c in
                switch c.value(r) {
                case .text(let s): s.map { .text($0) } ?? .empty
                case .number(let d): d.map { .number($0) } ?? .empty
                case .integer(let n): n.map { .number(Double($0)) } ?? .empty
                }
            }
        }
        w.addSheet(name: "\(outcome.year)年度评价结果", headers: cols.map(\.zh), rows: rows,
                   columnWidths: cols.map { $0.en == "name" ? 36 : ($0.en == "credit_code" ? 22 : 14) })
        w.addSheet(name: "基准值", headers: ["规模", "指标", "单位", "基准值", "计算方式", "有该指标企业数"],
                   rows: outcome.benchmarks.map { b in
                       [.text(b.group.chinese), .text(b.indicator.chinese), .text(b.indicator.unit),
                        b.value.map { .number($0) } ?? .empty, .text(b.mode.rawValue), .number(Double(b.count))]
                   }, columnWidths: [8, 24, 14, 14, 12, 16])
        return try w.data()
    }

    /// Writes to `url` in the format its extension names.
    public static func write(_ outcome: EvaluationOutcome, to url: URL, headers: HeaderStyle = .en) throws {
        guard let format = Format(path: url.path) else {
            throw RulesError(zh: "输出文件须为 .csv、.json 或 .xlsx", en: "output file must end in .csv, .json or .xlsx")
        }
        let data: Data
        switch format {
        case .csv: data = csv(outcome, headers: headers)
        case .json: data = try json(outcome)
        case .xlsx: data = try xlsx(outcome)
        }
        try data.write(to: url, options: .atomic)
    }
}
