import Foundation
import Yams

/// How a benchmark (基准值) is computed for an indicator within a group.
public enum BenchmarkMode: String, Codable, Sendable, CaseIterable {
    /// Σ numerator / Σ denominator over the evaluated enterprises that have the indicator.
    case aggregate
    case mean
    case median
    /// A number given in the rules.
    case fixed
}

/// What an enterprise scores on an indicator it has no value for.
public enum MissingPolicy: String, Codable, Sendable {
    /// The group's mean item score over the enterprises that have it.
    case average
    case zero
}

/// How classes are given: by share of the ranked group, or by score thresholds.
public enum ClassMode: String, Codable, Sendable {
    case quota
    case score
}

/// A bonus rule: `points` when an indicator's value is at least `at_least`.
public struct BonusRule: Codable, Sendable, Hashable {
    public var name: String
    public var indicator: Indicator
    public var atLeast: Double
    public var points: Double

    enum CodingKeys: String, CodingKey { case name, indicator, atLeast = "at_least", points }
}

/// A veto kind (一票否决): forces a class, or bars the classes better than `atBest`.
public struct VetoRule: Codable, Sendable, Hashable {
    public var force: EnterpriseClass?
    public var atBest: EnterpriseClass?
    enum CodingKeys: String, CodingKey { case force, atBest = "at_best" }
    public init(force: EnterpriseClass? = nil, atBest: EnterpriseClass? = nil) {
        self.force = force; self.atBest = atBest
    }
}

/// Differentiated policies (差别化政策) for one class.
public struct ClassPolicy: Codable, Sendable, Hashable {
    /// 差别化电价加价, 元/千瓦时
    public var electricitySurcharge: Double
    /// 用能指标系数
    public var energyQuotaFactor: Double?
    /// 亩均英雄贷 eligibility
    public var creditEligible: Bool
    /// After this many consecutive years in this class…
    public var consecutiveYears: Int?
    /// …this surcharge applies instead.
    public var consecutiveElectricitySurcharge: Double?
    /// Any other named policy, shown as text.
    public var other: [String: String]
    /// 亩均英雄贷 利率优惠, percentage points below the bank's usual rate
    public var creditRateDiscount: Double?
    /// 亩均英雄贷 授信额度倍数 (multiple of the usual credit line)
    public var creditLineMultiple: Double?

    enum CodingKeys: String, CodingKey {
        case electricitySurcharge = "electricity_surcharge", energyQuotaFactor = "energy_quota_factor"
        case creditEligible = "credit_eligible", consecutiveYears = "consecutive_years"
        case consecutiveElectricitySurcharge = "consecutive_electricity_surcharge", other
        case creditRateDiscount = "credit_rate_discount", creditLineMultiple = "credit_line_multiple"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        electricitySurcharge = try c.decodeIfPresent(Double.self, forKey: .electricitySurcharge) ?? 0
        energyQuotaFactor = try c.decodeIfPresent(Double.self, forKey: .energyQuotaFactor)
        creditEligible = try c.decodeIfPresent(Bool.self, forKey: .creditEligible) ?? false
        consecutiveYears = try c.decodeIfPresent(Int.self, forKey: .consecutiveYears)
        consecutiveElectricitySurcharge = try c.decodeIfPresent(Double.self, forKey: .consecutiveElectricitySurcharge)
        other = try c.decodeIfPresent([String: String].self, forKey: .other) ?? [:]
        creditRateDiscount = try c.decodeIfPresent(Double.self, forKey: .creditRateDiscount)
        creditLineMultiple = try c.decodeIfPresent(Double.self, forKey: .creditLineMultiple)
    }
}

/// The rules of an evaluation (EVALUATION.md): every number is configuration.
/// The same rules and data always give the same result.
public struct Rules: Codable, Sendable {
    public struct Benchmark: Codable, Sendable {
        public var mode: BenchmarkMode
        public var fixed: [String: [String: Double]]
    }
    public struct Scoring: Codable, Sendable {
        public var floor: Double
        public var cap: Double?
        public var missing: MissingPolicy
    }
    public struct Classes: Codable, Sendable {
        public var mode: ClassMode
        public var quota: [String: Double]
        public var score: [String: Double]
    }

    public var name: String
    public var minLandMu: Double
    /// group key (above/below) → indicator key → weight
    public var weights: [String: [String: Double]]
    public var benchmark: Benchmark
    public var scoring: Scoring
    public var bonus: [BonusRule]
    public var classes: Classes
    public var vetoes: [String: VetoRule]
    public var policies: [String: ClassPolicy]
    public var towns: [String]

    enum CodingKeys: String, CodingKey {
        case name, minLandMu = "min_land_mu", weights, benchmark, scoring, bonus, classes, vetoes, policies, towns
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        minLandMu = try c.decodeIfPresent(Double.self, forKey: .minLandMu) ?? 3
        weights = try c.decode([String: [String: Double]].self, forKey: .weights)
        benchmark = try c.decodeIfPresent(Benchmark.self, forKey: .benchmark) ?? Benchmark(mode: .aggregate, fixed: [:])
        scoring = try c.decodeIfPresent(Scoring.self, forKey: .scoring) ?? Scoring(floor: 0, cap: nil, missing: .average)
        bonus = try c.decodeIfPresent([BonusRule].self, forKey: .bonus) ?? []
        classes = try c.decodeIfPresent(Classes.self, forKey: .classes)
            ?? Classes(mode: .quota, quota: ["A": 0.2, "B": 0.7, "C": 0.95], score: [:])
        vetoes = try c.decodeIfPresent([String: VetoRule].self, forKey: .vetoes) ?? [:]
        policies = try c.decodeIfPresent([String: ClassPolicy].self, forKey: .policies) ?? [:]
        towns = try c.decodeIfPresent([String].self, forKey: .towns) ?? []
    }

    /// The rules of EVALUATION.md.
    public static let `default`: Rules = try! Rules(yaml: defaultRulesYAML)

    /// Parses and validates a rules file.
    public init(yaml: String) throws(RulesError) {
        do {
            self = try YAMLDecoder().decode(Rules.self, from: yaml)
        } catch let e as RulesError {
            throw e
        } catch {
            throw RulesError(zh: "规则文件无法解析：\(Rules.describe(error))", en: "rules file cannot be parsed: \(Rules.describe(error))")
        }
        try validate()
    }

    /// Reads a rules file from disk.
    public init(contentsOf url: URL) throws(RulesError) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw RulesError(zh: "无法读取规则文件 \(url.path)", en: "cannot read rules file \(url.path)")
        }
        try self.init(yaml: text)
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            return "缺少 \((ctx.codingPath + [key]).map(\.stringValue).joined(separator: ".")) / missing key"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "\(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)"
        case DecodingError.dataCorrupted(let ctx):
            return "\(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)"
        default:
            return "\(error)"
        }
    }

    /// The weighted indicators of a group, in the canonical order of `Indicator.allCases`.
    public func indicators(for group: EnterpriseGroup) -> [(Indicator, Double)] {
        let w = weights[group.rawValue] ?? [:]
        return Indicator.allCases.compactMap { ind in
            guard let weight = w[ind.rawValue], weight > 0 else { return nil }
            return (ind, weight)
        }
    }

    public func fixedBenchmark(_ group: EnterpriseGroup, _ indicator: Indicator) -> Double? {
        benchmark.fixed[group.rawValue]?[indicator.rawValue]
    }

    public func policy(for cls: EnterpriseClass) -> ClassPolicy? { policies[cls.rawValue] }

    func validate() throws(RulesError) {
        for (group, w) in weights {
            guard EnterpriseGroup(rawValue: group) != nil else {
                throw RulesError(zh: "weights 中的未知分组 \(group)（应为 above 或 below）", en: "unknown group \(group) in weights (above or below)")
            }
            for (key, value) in w {
                guard Indicator(rawValue: key) != nil else {
                    throw RulesError(zh: "weights.\(group) 中的未知指标 \(key)", en: "unknown indicator \(key) in weights.\(group)")
                }
                guard value >= 0, value.isFinite else {
                    throw RulesError(zh: "weights.\(group).\(key) 必须为非负数", en: "weights.\(group).\(key) must be ≥ 0")
                }
            }
        }
        if benchmark.mode == .fixed {
            for group in EnterpriseGroup.allCases {
                for (ind, _) in indicators(for: group) where fixedBenchmark(group, ind) == nil {
                    throw RulesError(zh: "benchmark.mode 为 fixed，但缺少 benchmark.fixed.\(group.rawValue).\(ind.rawValue)",
                                     en: "benchmark.mode is fixed but benchmark.fixed.\(group.rawValue).\(ind.rawValue) is missing")
                }
            }
        }
        if let cap = scoring.cap, !(cap > 0) {
            throw RulesError(zh: "scoring.cap 必须大于 0", en: "scoring.cap must be > 0")
        }
        switch classes.mode {
        case .quota:
            let q = ["A", "B", "C"].map { classes.quota[$0] }
            guard let a = q[0], let b = q[1], let c = q[2], 0 <= a, a <= b, b <= c, c <= 1 else {
                throw RulesError(zh: "classes.quota 需要 A ≤ B ≤ C 的累计比例（0 到 1）", en: "classes.quota needs cumulative shares 0 ≤ A ≤ B ≤ C ≤ 1")
            }
        case .score:
            let s = ["A", "B", "C"].map { classes.score[$0] }
            guard let a = s[0], let b = s[1], let c = s[2], a >= b, b >= c else {
                throw RulesError(zh: "classes.score 需要 A ≥ B ≥ C 的分数阈值", en: "classes.score needs thresholds A ≥ B ≥ C")
            }
        }
        for (kind, v) in vetoes where v.force == nil && v.atBest == nil {
            throw RulesError(zh: "一票否决 \(kind) 需要 force 或 at_best", en: "veto \(kind) needs force or at_best")
        }
        for key in policies.keys where EnterpriseClass(rawValue: key) == nil {
            throw RulesError(zh: "policies 中的未知分类 \(key)", en: "unknown class \(key) in policies")
        }
    }

    /// The quota share (cumulative) of a class, for display.
    public func quotaShare(_ cls: EnterpriseClass) -> Double? { classes.quota[cls.rawValue] }
    public func scoreThreshold(_ cls: EnterpriseClass) -> Double? { classes.score[cls.rawValue] }
}

/// A rules file that cannot be used, with a bilingual reason.
public struct RulesError: Error, Sendable, CustomStringConvertible {
    public var zh: String
    public var en: String
    public init(zh: String, en: String) { self.zh = zh; self.en = en }
    public var description: String { "规则错误：\(zh) / rules error: \(en)" }
}
