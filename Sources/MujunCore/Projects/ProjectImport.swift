import Foundation

/// Reads the project and milestone templates (项目、节点, FORMATS.md) together: all or nothing,
/// every bad row named with its table, row, column and reason, and every project checked as
/// ``ProjectPlan/problems(types:today:)`` checks one entered on a page.
///
/// ```swift
/// let plans = try ProjectImport.read(projects: try TableReader.open(url: projectsURL),
///                                    milestones: try TableReader.open(url: milestonesURL),
///                                    types: .default, towns: Rules.default.towns, today: today)
/// ```
public enum ProjectImport {
    public static let projectFields: [FieldSpec] = [
        FieldSpec(key: "ref", chinese: "项目编号", required: true),
        FieldSpec(key: "name", chinese: "项目名称", required: true),
        FieldSpec(key: "type", chinese: "项目类型", required: true),
        FieldSpec(key: "mode", chinese: "整治方式"),
        FieldSpec(key: "town", chinese: "责任镇街", required: true),
        FieldSpec(key: "lead_unit", chinese: "牵头部门", required: true),
        FieldSpec(key: "target_mu", chinese: "目标面积(亩)"),
        FieldSpec(key: "parcel_ids", chinese: "地块编号"),
        FieldSpec(key: "households", chinese: "户数"),
        FieldSpec(key: "start", chinese: "开始日期", required: true),
    ]

    public static let milestoneFields: [FieldSpec] = [
        FieldSpec(key: "ref", chinese: "项目编号", required: true),
        FieldSpec(key: "name", chinese: "节点名称", required: true),
        FieldSpec(key: "weight", chinese: "权重", required: true),
        FieldSpec(key: "planned", chinese: "计划完成日期", required: true),
        FieldSpec(key: "done", chinese: "实际完成日期"),
    ]

    /// A project as imported: its plan, the parcels it covers, and the row it came from.
    public struct Row: Sendable, Hashable {
        public var plan: ProjectPlan
        public var parcelIDs: [String]
        /// The row of the projects table (first data row = 2).
        public var row: Int
    }

    /// Reads both tables. A project's milestones are its rows of the milestone table, in order;
    /// a milestone of a type's template takes the template's measure (城市更新).
    /// - Parameters:
    ///   - towns: the known towns (责任镇街 must be one).
    ///   - parcelTowns: when given, each known parcel's town: a project's parcels must exist and,
    ///     unless `crossTown` (HQ), lie in its responsible town.
    ///   - today: actual dates after it are refused.
    /// - Throws: ``ImportFailure`` whose rows are those of the projects table (a milestone's
    ///   problem names its table as `节点表第 N 行`).
    public static func read(projects: any TableSource, milestones: any TableSource, types: ProjectTypes, towns: [String],
                            parcelTowns: [String: String]? = nil, crossTown: Bool = false,
                            today: CalendarDate) throws(ImportFailure) -> [Row] {
        var errors = RowErrorCollector()
        let pm = HeaderMatcher(headers: projects.headers, fields: projectFields)
        let mm = HeaderMatcher(headers: milestones.headers, fields: milestoneFields)
        for f in pm.missingRequired {
            errors.add(RowError(row: 1, column: f.chinese, zh: "项目表缺少必需的列 \(f.chinese)（\(f.key)）",
                                en: "the projects table has no column \(f.chinese) (\(f.key))"))
        }
        for f in mm.missingRequired {
            errors.add(RowError(row: 1, column: f.chinese, zh: "节点表缺少必需的列 \(f.chinese)（\(f.key)）",
                                en: "the milestones table has no column \(f.chinese) (\(f.key))"))
        }
        if let f = errors.failure() { throw f }

        // milestones first, by project
        var stones: [String: [(row: Int, m: Milestone)]] = [:]
        do {
            try milestones.forEachRow { row, cells in
                let cell = cellReader(mm, cells)
                func fail(_ key: String, _ zh: String, _ en: String) {
                    errors.add(RowError(row: row, column: mm.header(of: key), zh: "节点表第 \(row) 行：\(zh)", en: "milestones row \(row): \(en)"))
                }
                let ref = cell("ref"), name = cell("name")
                if ref.isEmpty { fail("ref", "缺少项目编号", "the project ref is missing") }
                if name.isEmpty { fail("name", "缺少节点名称", "the milestone name is missing") }
                let weightText = cell("weight")
                let weight = Int(weightText)
                if weight == nil || weight! <= 0 { fail("weight", "权重应为正整数：\"\(weightText)\"", "the weight must be a positive whole number: \"\(weightText)\"") }
                let planned = CaseHistory.parseDate(cell("planned"))
                if planned == nil { fail("planned", "计划完成日期无效：\"\(cell("planned"))\"", "the planned date is not a date: \"\(cell("planned"))\"") }
                var done: CalendarDate?
                if !cell("done").isEmpty {
                    done = CaseHistory.parseDate(cell("done"))
                    if done == nil { fail("done", "实际完成日期无效：\"\(cell("done"))\"", "the date done is not a date: \"\(cell("done"))\"") }
                }
                guard !ref.isEmpty, !name.isEmpty, let weight, weight > 0, let planned else { return }
                if stones[ref]?.contains(where: { $0.m.name == name }) == true {
                    fail("name", "项目 \(ref) 的节点「\(name)」重复", "milestone \(name) of project \(ref) is repeated")
                    return
                }
                stones[ref, default: []].append((row, Milestone(name: name, weight: weight, planned: planned, done: done)))
            }
        } catch let f as ImportFailure { throw f } catch {
            throw ImportFailure.file(zh: "读取节点表失败：\(error)", en: "reading the milestones failed: \(error)")
        }

        var out: [Row] = []
        var seen: [String: Int] = [:]
        do {
            try projects.forEachRow { row, cells in
                let cell = cellReader(pm, cells)
                var ok = true
                func fail(_ key: String, _ zh: String, _ en: String) {
                    ok = false
                    errors.add(RowError(row: row, column: pm.header(of: key), zh: zh, en: en))
                }
                let ref = cell("ref")
                if ref.isEmpty { fail("ref", "缺少项目编号", "the project ref is missing") }
                else if let first = seen[ref] { fail("ref", "项目编号 \(ref) 与第 \(first) 行重复", "project ref \(ref) repeats row \(first)") }
                else { seen[ref] = row }
                let name = cell("name")
                if name.isEmpty { fail("name", "缺少项目名称", "the project name is missing") }
                let type = types.type(named: cell("type"))
                if type == nil { fail("type", "未知项目类型 \"\(cell("type"))\"（\(types.types.map(\.name).joined(separator: "、"))）", "unknown project type \"\(cell("type"))\"") }
                let town = cell("town")
                if !towns.contains(town) { fail("town", town.isEmpty ? "缺少责任镇街" : "未知镇街 \"\(town)\"", town.isEmpty ? "the town is missing" : "unknown town \"\(town)\"") }
                let lead = cell("lead_unit")
                if lead.isEmpty { fail("lead_unit", "缺少牵头部门", "the lead unit is missing") }
                var target: Double?
                switch HeaderMatcher.parseNumber(cell("target_mu")) {
                case .empty: break
                case .invalid: fail("target_mu", "不是数字：\"\(cell("target_mu"))\"", "not a number: \"\(cell("target_mu"))\"")
                case .value(let v): target = v
                }
                var households: Int?
                if !cell("households").isEmpty {
                    households = Int(cell("households"))
                    if households == nil { fail("households", "户数应为整数：\"\(cell("households"))\"", "households must be a whole number: \"\(cell("households"))\"") }
                }
                let start = CaseHistory.parseDate(cell("start"))
                if start == nil { fail("start", "开始日期无效：\"\(cell("start"))\"", "the start date is not a date: \"\(cell("start"))\"") }
                let parcels = cell("parcel_ids").split(whereSeparator: { $0 == ";" || $0 == "；" })
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                if let parcelTowns {
                    for id in parcels {
                        guard let t = parcelTowns[id] else {
                            fail("parcel_ids", "地块 \(id) 不存在", "no parcel \(id)")
                            continue
                        }
                        if !crossTown && !town.isEmpty && t != town {
                            fail("parcel_ids", "地块 \(id) 属于\(t)，不属于责任镇街\(town)（跨镇街项目由指挥部登记）",
                                 "parcel \(id) lies in \(t), not in the responsible town \(town) (HQ registers cross-town projects)")
                        }
                    }
                }
                let rows = stones[ref] ?? []
                if !ref.isEmpty && rows.isEmpty { fail("ref", "项目 \(ref) 在节点表中没有节点", "project \(ref) has no milestone in the milestones table") }
                // the checks of a whole project too, whatever else is wrong with the row
                guard !ref.isEmpty, !rows.isEmpty, let type, let start else { return }
                var ms = rows.map(\.m)
                for i in ms.indices { ms[i].measure = type.milestones.first { $0.name == ms[i].name }?.measure }
                let mode = cell("mode")
                let plan = ProjectPlan(ref: ref, name: name, type: type.key, mode: mode.isEmpty ? nil : mode, town: town,
                                       leadUnit: lead, targetMu: target, households: households, start: start, milestones: ms)
                for p in plan.problems(types: types, today: today) {
                    errors.add(RowError(row: row, column: pm.header(of: "ref"), zh: p.zh, en: p.en))
                    ok = false
                }
                if ok { out.append(Row(plan: plan, parcelIDs: parcels, row: row)) }
            }
        } catch let f as ImportFailure { throw f } catch {
            throw ImportFailure.file(zh: "读取项目表失败：\(error)", en: "reading the projects failed: \(error)")
        }
        for (ref, rows) in stones.sorted(by: { $0.key < $1.key }) where seen[ref] == nil {
            errors.add(RowError(row: rows[0].row, column: mm.header(of: "ref"), zh: "节点表第 \(rows[0].row) 行：项目 \(ref) 不在项目表中",
                                en: "milestones row \(rows[0].row): project \(ref) is not in the projects table"))
        }
        if let f = errors.failure() { throw f }
        if out.isEmpty { throw ImportFailure.file(zh: "项目表中没有数据行", en: "the projects table has no data rows") }
        return out
    }

    /// The trimmed cell of a field in a row.
    static func cellReader(_ m: HeaderMatcher, _ cells: [String]) -> (String) -> String {
        { m.value($0, in: cells).trimmingCharacters(in: .whitespaces) }
    }
}

/// A yearly quantified target (目标任务清单, FORMATS.md): a unit's target for an indicator.
public struct ProjectTarget: Sendable, Hashable {
    public var year: Int
    /// 责任单位: a town or a department
    public var unit: String
    public var indicator: TargetIndicator
    public var value: Double

    public init(year: Int, unit: String, indicator: TargetIndicator, value: Double) {
        self.year = year; self.unit = unit; self.indicator = indicator; self.value = value
    }
}

/// The indicators a target may set (指标).
public enum TargetIndicator: String, Sendable, CaseIterable, Hashable, Codable {
    /// 整治低效用地(亩)
    case remediatedMu = "remediated_mu"
    /// 腾出空间(亩)
    case freedMu = "freed_mu"
    /// 完成项目(个)
    case projectsDone = "projects_done"
    /// 城中村签约(户)
    case householdsSigned = "households_signed"

    public var chinese: String {
        switch self {
        case .remediatedMu: "整治低效用地(亩)"
        case .freedMu: "腾出空间(亩)"
        case .projectsDone: "完成项目(个)"
        case .householdsSigned: "城中村签约(户)"
        }
    }

    /// By the Chinese name (with or without its unit) or the key.
    public init?(text: String) {
        let t = HeaderMatcher.normalize(text)
        guard let found = Self.allCases.first(where: {
            HeaderMatcher.normalize($0.chinese) == t || HeaderMatcher.normalize($0.rawValue) == t
                || HeaderMatcher.normalize(String($0.chinese.prefix { $0 != "(" })) == t
        }) else { return nil }
        self = found
    }
}

/// Reads the targets template: 年度, 责任单位, 指标, 目标值; all or nothing with row numbers.
public enum TargetImport {
    public static let fields: [FieldSpec] = [
        FieldSpec(key: "year", chinese: "年度", required: true),
        FieldSpec(key: "unit", chinese: "责任单位", required: true),
        FieldSpec(key: "indicator", chinese: "指标", required: true),
        FieldSpec(key: "value", chinese: "目标值", required: true),
    ]

    /// - Parameter units: the towns and departments a target may be set for.
    public static func read(table: any TableSource, units: [String]) throws(ImportFailure) -> [ProjectTarget] {
        let m = HeaderMatcher(headers: table.headers, fields: fields)
        var errors = RowErrorCollector()
        for f in m.missingRequired {
            errors.add(RowError(row: 1, column: f.chinese, zh: "缺少必需的列 \(f.chinese)（\(f.key)）", en: "required column \(f.chinese) (\(f.key)) is missing"))
        }
        if let f = errors.failure() { throw f }
        var out: [ProjectTarget] = []
        var seen: [String: Int] = [:]
        do {
            try table.forEachRow { row, cells in
                let cell = ProjectImport.cellReader(m, cells)
                var ok = true
                func fail(_ key: String, _ zh: String, _ en: String) {
                    ok = false
                    errors.add(RowError(row: row, column: m.header(of: key), zh: zh, en: en))
                }
                let year = Int(cell("year"))
                if year == nil || !(1990...2100).contains(year!) { fail("year", "年度无效：\"\(cell("year"))\"", "not a year: \"\(cell("year"))\"") }
                let unit = cell("unit")
                if !units.contains(unit) { fail("unit", unit.isEmpty ? "缺少责任单位" : "未知责任单位 \"\(unit)\"", unit.isEmpty ? "the unit is missing" : "unknown unit \"\(unit)\"") }
                let indicator = TargetIndicator(text: cell("indicator"))
                if indicator == nil {
                    fail("indicator", "未知指标 \"\(cell("indicator"))\"（\(TargetIndicator.allCases.map(\.chinese).joined(separator: "、"))）", "unknown indicator \"\(cell("indicator"))\"")
                }
                var value: Double?
                switch HeaderMatcher.parseNumber(cell("value")) {
                case .value(let v) where v >= 0 && v.isFinite: value = v
                default: fail("value", "目标值应为非负数：\"\(cell("value"))\"", "the target must be a number ≥ 0: \"\(cell("value"))\"")
                }
                guard ok, let year, let indicator, let value else { return }
                let key = "\(year)\u{1F}\(unit)\u{1F}\(indicator.rawValue)"
                if let first = seen[key] {
                    fail("indicator", "\(year) 年 \(unit) 的「\(indicator.chinese)」与第 \(first) 行重复", "\(year) \(unit) \(indicator.rawValue) repeats row \(first)")
                    return
                }
                seen[key] = row
                out.append(ProjectTarget(year: year, unit: unit, indicator: indicator, value: value))
            }
        } catch let f as ImportFailure { throw f } catch {
            throw ImportFailure.file(zh: "读取失败：\(error)", en: "read failed: \(error)")
        }
        if let f = errors.failure() { throw f }
        if out.isEmpty { throw ImportFailure.file(zh: "文件中没有数据行", en: "the file has no data rows") }
        return out
    }
}
