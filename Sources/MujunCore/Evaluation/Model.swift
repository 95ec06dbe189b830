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
