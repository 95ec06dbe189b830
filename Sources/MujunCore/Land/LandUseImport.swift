import Foundation

// Who occupies which parcel: the land-use template. The parcels themselves are read by
// ParcelImport.swift.

/// Reads the land-use template (用地关系, FORMATS.md): who occupies which parcel. All or
/// nothing, every bad row named (row, column, reason) like the enterprise import.
public enum LandUseImport {
    public static let fields: [FieldSpec] = [
        FieldSpec(key: "parcel_id", chinese: "地块编号", required: true),
        FieldSpec(key: "credit_code", chinese: "统一社会信用代码", required: true),
        FieldSpec(key: "relation", chinese: "关系", required: true),
        FieldSpec(key: "area_mu", chinese: "面积(亩)"),
    ]

    /// Reads and checks every row.
    /// - Parameters:
    ///   - knownParcels: the parcel ids that exist; a row naming another is an error.
    ///   - knownEnterprises: when given, the credit codes that exist; a row naming another
    ///     is an error.
    public static func read(table: any TableSource, knownParcels: Set<String>,
                            knownEnterprises: Set<String>? = nil) throws(ImportFailure) -> [LandUse] {
        let m = HeaderMatcher(headers: table.headers, fields: fields)
        var errors = RowErrorCollector()
        for f in m.missingRequired {
            errors.add(RowError(row: 1, column: f.chinese, zh: "缺少必需的列 \(f.chinese)（\(f.key)）",
                                en: "required column \(f.chinese) (\(f.key)) is missing"))
        }
        if let f = errors.failure() { throw f }
        let col = Dictionary(uniqueKeysWithValues: fields.map { ($0.key, m.index(of: $0.key)) })
        let header = Dictionary(uniqueKeysWithValues: fields.map { ($0.key, m.header(of: $0.key)) })
        var seen: [String: Int] = [:]  // parcel + code → first row
        var out: [LandUse] = []
        do {
            try table.forEachRow { row, cells in
                func cell(_ key: String) -> String {
                    guard let i = col[key] ?? nil, i < cells.count else { return "" }
                    return cells[i].trimmingCharacters(in: .whitespaces)
                }
                var ok = true
                func fail(_ key: String, _ zh: String, _ en: String) {
                    ok = false
                    errors.add(RowError(row: row, column: header[key]!, zh: zh, en: en))
                }
                let parcel = cell("parcel_id")
                if parcel.isEmpty {
                    fail("parcel_id", "缺少地块编号", "the parcel id is missing")
                } else if !knownParcels.contains(parcel) {
                    fail("parcel_id", "地块 \(parcel) 不存在（请先导入地块）", "no parcel \(parcel) (import the parcels first)")
                }
                let code = CreditCode.normalize(cell("credit_code"))
                if code.isEmpty {
                    fail("credit_code", "缺少统一社会信用代码", "credit code is missing")
                } else if let p = CreditCode.problem(code) {
                    fail("credit_code", "统一社会信用代码 \(code) 无效：\(p.zh)", "invalid credit code \(code): \(p.en)")
                } else if let known = knownEnterprises, !known.contains(code) {
                    fail("credit_code", "统一社会信用代码 \(code) 不是已知企业", "credit code \(code) is not a known enterprise")
                } else if !parcel.isEmpty, let first = seen[parcel + "\u{1F}" + code] {
                    fail("credit_code", "地块 \(parcel) 与企业 \(code) 的关系与第 \(first) 行重复", "parcel \(parcel) and enterprise \(code) repeat row \(first)")
                } else if !parcel.isEmpty {
                    seen[parcel + "\u{1F}" + code] = row
                }
                let relationText = cell("relation")
                let relation = LandRelation(text: relationText)
                if relationText.isEmpty {
                    fail("relation", "缺少关系（自有 或 租赁）", "the relation is missing (自有 owned or 租赁 leased)")
                } else if relation == nil {
                    fail("relation", "关系应为 自有 或 租赁，实为 \"\(relationText)\"", "relation must be 自有 (owned) or 租赁 (leased), got \"\(relationText)\"")
                }
                var area: Double?
                let areaText = cell("area_mu")
                switch HeaderMatcher.parseNumber(areaText) {
                case .empty: break
                case .invalid: fail("area_mu", "不是数字：\"\(areaText)\"", "not a number: \"\(areaText)\"")
                case .value(let v):
                    if v < 0 { fail("area_mu", "不能为负数：\(areaText)", "must not be negative: \(areaText)") } else { area = v }
                }
                guard ok, let relation else { return }
                out.append(LandUse(row: row, parcelID: parcel, creditCode: code, relation: relation, areaMu: area))
            }
        } catch let f as ImportFailure {
            throw f
        } catch {
            throw ImportFailure.file(zh: "读取失败：\(error)", en: "read failed: \(error)")
        }
        if let f = errors.failure() { throw f }
        if out.isEmpty { throw ImportFailure.file(zh: "文件中没有数据行", en: "the file has no data rows") }
        return out
    }
}
