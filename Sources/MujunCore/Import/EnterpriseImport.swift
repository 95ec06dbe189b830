import Foundation

/// Reads the enterprise annual data template (企业亩均数据, FORMATS.md) into records,
/// checking every row. All or nothing: any bad row fails the whole read, and the failure
/// lists every bad row (row number, column, reason in Chinese and English).
public enum EnterpriseImport {
    /// The template's columns.
    public static let fields: [FieldSpec] = [
        FieldSpec(key: "year", chinese: "年度", required: false),
        FieldSpec(key: "credit_code", chinese: "统一社会信用代码", required: true),
        FieldSpec(key: "name", chinese: "企业名称", required: true),
        FieldSpec(key: "town", chinese: "所属镇街", required: true),
        FieldSpec(key: "scale", chinese: "规模", required: true),
        FieldSpec(key: "industry", chinese: "行业代码", required: false),
        FieldSpec(key: "land_mu", chinese: "用地面积(亩)", required: true),
        FieldSpec(key: "tax", chinese: "评价税收(万元)", required: false),
        FieldSpec(key: "value_added", chinese: "工业增加值(万元)", required: false),
        FieldSpec(key: "revenue", chinese: "营业收入(万元)", required: false),
        FieldSpec(key: "rnd", chinese: "研发经费(万元)", required: false),
        FieldSpec(key: "energy_tce", chinese: "综合能耗(吨标煤)", required: false),
        FieldSpec(key: "emissions", chinese: "排放当量(吨)", required: false),
        FieldSpec(key: "electricity", chinese: "用电量(万千瓦时)", required: false),
        FieldSpec(key: "employees", chinese: "年平均职工人数", required: false),
        FieldSpec(key: "veto", chinese: "一票否决", required: false),
        FieldSpec(key: "exempt", chinese: "不参评原因", required: false),
    ]

    /// Reads and checks every row.
    /// - Parameters:
    ///   - year: the year given on the command line; when nil, every row needs 年度.
    ///   - progress: called now and then with the number of rows read so far.
    public static func read(_ table: any TableSource, year: Int?, rules: Rules,
                            progress: ((Int) -> Void)? = nil) throws(ImportFailure) -> [EnterpriseRecord] {
        let m = HeaderMatcher(headers: table.headers, fields: fields)
        var errors = RowErrorCollector()
        for f in m.missingRequired {
            errors.add(RowError(row: 1, column: f.chinese, zh: "缺少必需的列 \(f.chinese)（\(f.key)）",
                                en: "required column \(f.chinese) (\(f.key)) is missing"))
        }
        if year == nil && m.index(of: "year") == nil {
            errors.add(RowError(row: 1, column: "年度", zh: "文件没有年度列，请用 --year 指定年度",
                                en: "the file has no year column; give the year with --year"))
        }
        if let f = errors.failure() { throw f }

        let towns = Set(rules.towns)
        let vetoKinds = Set(rules.vetoes.keys)
        let col = Dictionary(uniqueKeysWithValues: fields.map { ($0.key, m.index(of: $0.key)) })
        let header = Dictionary(uniqueKeysWithValues: fields.map { ($0.key, m.header(of: $0.key)) })
        var seen: [Int: [String: Int]] = [:]  // year → code → first row
        var records: [EnterpriseRecord] = []
        var count = 0

        do {
            try table.forEachRow { row, cells in
                count += 1
                if count % 10_000 == 0 { progress?(count) }
                func cell(_ key: String) -> String {
                    guard let i = col[key] ?? nil, i < cells.count else { return "" }
                    return cells[i].trimmingCharacters(in: .whitespaces)
                }
                var ok = true
                func fail(_ key: String, _ zh: String, _ en: String) {
                    ok = false
                    errors.add(RowError(row: row, column: header[key]!, zh: zh, en: en))
                }
                func number(_ key: String, nonNegative: Bool, integer: Bool = false) -> Double? {
                    let text = cell(key)
                    switch HeaderMatcher.parseNumber(text) {
                    case .empty: return nil
                    case .invalid:
                        fail(key, "不是数字：\"\(text)\"", "not a number: \"\(text)\"")
                        return nil
                    case .value(let v):
                        if nonNegative && v < 0 {
                            fail(key, "不能为负数：\(text)", "must not be negative: \(text)")
                            return nil
                        }
                        if integer && v != v.rounded() {
                            fail(key, "应为整数：\(text)", "must be a whole number: \(text)")
                            return nil
                        }
                        return v
                    }
                }

                // year
                var rowYear = year ?? 0
                let yearText = cell("year")
                if !yearText.isEmpty {
                    if case .value(let y) = HeaderMatcher.parseNumber(yearText), y == y.rounded(), y >= 1900, y <= 2999 {
                        if let year, Int(y) != year {
                            fail("year", "年度 \(Int(y)) 与指定的年度 \(year) 不一致", "year \(Int(y)) differs from the requested year \(year)")
                        }
                        rowYear = Int(y)
                    } else {
                        fail("year", "年度无效：\"\(yearText)\"", "invalid year: \"\(yearText)\"")
                    }
                } else if year == nil {
                    fail("year", "缺少年度", "year is missing")
                }

                // credit code
                let code = CreditCode.normalize(cell("credit_code"))
                if code.isEmpty {
                    fail("credit_code", "缺少统一社会信用代码", "credit code is missing")
                } else if let p = CreditCode.problem(code) {
                    fail("credit_code", "统一社会信用代码 \(code) 无效：\(p.zh)", "invalid credit code \(code): \(p.en)")
                } else if let first = seen[rowYear]?[code] {
                    fail("credit_code", "统一社会信用代码 \(code) 与第 \(first) 行重复", "duplicate credit code \(code) (also on row \(first))")
                } else {
                    seen[rowYear, default: [:]][code] = row
                }

                let name = cell("name")
                if name.isEmpty { fail("name", "缺少企业名称", "name is missing") }
                let town = cell("town")
                if town.isEmpty {
                    fail("town", "缺少所属镇街", "town is missing")
                } else if !towns.contains(town) {
                    fail("town", "未知镇街：\"\(town)\"", "unknown town: \"\(town)\"")
                }
                let scaleText = cell("scale")
                let group = EnterpriseGroup(text: scaleText)
                if group == nil {
                    fail("scale", "规模应为 规上 或 规下，实为 \"\(scaleText)\"", "scale must be 规上 (above) or 规下 (below), got \"\(scaleText)\"")
                }
                let landMu = number("land_mu", nonNegative: true)
                let tax = number("tax", nonNegative: false)
                let valueAdded = number("value_added", nonNegative: false)
                let revenue = number("revenue", nonNegative: true)
                let rnd = number("rnd", nonNegative: true)
                let energy = number("energy_tce", nonNegative: true)
                let emissions = number("emissions", nonNegative: true)
                let electricity = number("electricity", nonNegative: true)
                let employees = number("employees", nonNegative: true, integer: true)
                var vetoes: [String] = []
                for kind in cell("veto").split(whereSeparator: { $0 == ";" || $0 == "；" }) {
                    let k = kind.trimmingCharacters(in: .whitespaces)
                    guard !k.isEmpty else { continue }
                    if vetoKinds.contains(k) {
                        if !vetoes.contains(k) { vetoes.append(k) }
                    } else {
                        fail("veto", "未知的一票否决类型：\"\(k)\"（可用：\(vetoKinds.sorted().joined(separator: "、"))）",
                             "unknown veto kind: \"\(k)\"")
                    }
                }
                let industry = cell("industry")
                let exempt = cell("exempt")
                guard ok, let group else { return }
                records.append(EnterpriseRecord(
                    row: row, year: rowYear, creditCode: code, name: name, town: town, group: group,
                    industry: industry.isEmpty ? nil : industry, landMu: landMu, tax: tax, valueAdded: valueAdded,
                    revenue: revenue, rnd: rnd, energyTce: energy, emissions: emissions, electricity: electricity,
                    employees: employees, vetoes: vetoes, exempt: exempt.isEmpty ? nil : exempt))
            }
        } catch let f as ImportFailure {
            throw f
        } catch {
            throw ImportFailure.file(zh: "读取失败：\(error)", en: "read failed: \(error)")
        }
        if let f = errors.failure() { throw f }
        if records.isEmpty {
            throw ImportFailure.file(zh: "文件中没有数据行", en: "the file has no data rows")
        }
        progress?(count)
        return records
    }
}
