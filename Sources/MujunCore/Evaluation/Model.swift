import Foundation

/// Enterprise group (规上 / 规下): above or below designated size. Groups are scored
/// and ranked separately.
public enum EnterpriseGroup: String, Codable, Sendable, CaseIterable, Hashable, Comparable {
    /// 规上
    case above
    /// 规下
    case below

    /// The Chinese name shown to users.
    public var chinese: String { self == .above ? "规上" : "规下" }

    /// Parses 规上 / 规下 / above / below (case-insensitive, surrounding spaces ignored).
    public init?(text: String) {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "规上", "above", "规模以上": self = .above
        case "规下", "below", "规模以下": self = .below
        default: return nil
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a == .above && b == .below }
}

/// Evaluation class (A/B/C/D).
public enum EnterpriseClass: String, Codable, Sendable, CaseIterable, Hashable, Comparable {
    case A, B, C, D

    /// Order: A is best. `A < B` means A is better than B.
    public var order: Int { switch self { case .A: 0; case .B: 1; case .C: 2; case .D: 3 } }
    public static func < (a: Self, b: Self) -> Bool { a.order < b.order }
    /// The next better class, nil for A.
    public var better: EnterpriseClass? { switch self { case .A: nil; case .B: .A; case .C: .B; case .D: .C } }
}

/// One enterprise's annual data (企业亩均数据), one row of the import template.
/// `nil` means missing (empty cell).
public struct EnterpriseRecord: Codable, Sendable, Hashable {
    /// Spreadsheet row number (header = 1); 0 when not from a file.
    public var row: Int
    public var year: Int
    /// 统一社会信用代码
    public var creditCode: String
    public var name: String
    /// 所属镇街
    public var town: String
    public var group: EnterpriseGroup
    /// 行业代码 (GB/T 4754)
    public var industry: String?
    /// 用地面积(亩)
    public var landMu: Double?
    /// 评价税收(万元)
    public var tax: Double?
    /// 工业增加值(万元)
    public var valueAdded: Double?
    /// 营业收入(万元)
    public var revenue: Double?
    /// 研发经费(万元)
    public var rnd: Double?
    /// 综合能耗(吨标煤)
    public var energyTce: Double?
    /// 排放当量(吨)
    public var emissions: Double?
    /// 用电量(万千瓦时)
    public var electricity: Double?
    /// 年平均职工人数
    public var employees: Double?
    /// 一票否决 kinds
    public var vetoes: [String]
    /// 不参评原因 given in the data (non-empty = not evaluated)
    public var exempt: String?

    public init(row: Int = 0, year: Int, creditCode: String, name: String, town: String,
                group: EnterpriseGroup, industry: String? = nil, landMu: Double? = nil,
                tax: Double? = nil, valueAdded: Double? = nil, revenue: Double? = nil,
                rnd: Double? = nil, energyTce: Double? = nil, emissions: Double? = nil,
                electricity: Double? = nil, employees: Double? = nil,
                vetoes: [String] = [], exempt: String? = nil) {
        self.row = row; self.year = year; self.creditCode = creditCode; self.name = name
        self.town = town; self.group = group; self.industry = industry; self.landMu = landMu
        self.tax = tax; self.valueAdded = valueAdded; self.revenue = revenue; self.rnd = rnd
        self.energyTce = energyTce; self.emissions = emissions; self.electricity = electricity
        self.employees = employees; self.vetoes = vetoes; self.exempt = exempt
    }
}

/// The per-mu indicators of EVALUATION.md §2.
public enum Indicator: String, Codable, Sendable, CaseIterable, Hashable {
    /// 亩均税收 tax / land_mu, 万元/亩
    case taxPerMu = "tax_per_mu"
    /// 亩均增加值 value_added / land_mu, 万元/亩
    case vaPerMu = "va_per_mu"
    /// 单位能耗增加值 value_added / energy_tce, 万元/吨标煤
    case vaPerEnergy = "va_per_energy"
    /// 单位排放增加值 value_added / emissions, 万元/吨
    case vaPerEmission = "va_per_emission"
    /// 全员劳动生产率 value_added / employees, 万元/人
    case labourProductivity = "labour_productivity"
    /// 研发经费占营业收入比重 rnd / revenue
    case rndRatio = "rnd_ratio"
    /// 单位电耗税收 tax / electricity, 万元/万千瓦时
    case taxPerKwh = "tax_per_kwh"

    public var chinese: String {
        switch self {
        case .taxPerMu: "亩均税收"
        case .vaPerMu: "亩均增加值"
        case .vaPerEnergy: "单位能耗增加值"
        case .vaPerEmission: "单位排放增加值"
        case .labourProductivity: "全员劳动生产率"
        case .rndRatio: "研发经费占营业收入比重"
        case .taxPerKwh: "单位电耗税收"
        }
    }

    public var unit: String {
        switch self {
        case .taxPerMu, .vaPerMu: "万元/亩"
        case .vaPerEnergy: "万元/吨标煤"
        case .vaPerEmission: "万元/吨"
        case .labourProductivity: "万元/人"
        case .rndRatio: "比值"
        case .taxPerKwh: "万元/万千瓦时"
        }
    }

    /// The input field names of numerator and denominator (template keys).
    public var fields: (numerator: String, denominator: String) {
        switch self {
        case .taxPerMu: ("tax", "land_mu")
        case .vaPerMu: ("value_added", "land_mu")
        case .vaPerEnergy: ("value_added", "energy_tce")
        case .vaPerEmission: ("value_added", "emissions")
        case .labourProductivity: ("value_added", "employees")
        case .rndRatio: ("rnd", "revenue")
        case .taxPerKwh: ("tax", "electricity")
        }
    }

    public func numerator(_ r: EnterpriseRecord) -> Double? {
        switch self {
        case .taxPerMu, .taxPerKwh: r.tax
        case .vaPerMu, .vaPerEnergy, .vaPerEmission, .labourProductivity: r.valueAdded
        case .rndRatio: r.rnd
        }
    }

    public func denominator(_ r: EnterpriseRecord) -> Double? {
        switch self {
        case .taxPerMu, .vaPerMu: r.landMu
        case .vaPerEnergy: r.energyTce
        case .vaPerEmission: r.emissions
        case .labourProductivity: r.employees
        case .rndRatio: r.revenue
        case .taxPerKwh: r.electricity
        }
    }

    /// The value, or nil when missing: numerator or denominator absent, or denominator 0.
    public func value(_ r: EnterpriseRecord) -> Double? {
        guard let n = numerator(r), let d = denominator(r), d != 0 else { return nil }
        return n / d
    }
}
