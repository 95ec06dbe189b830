import Foundation

/// One indicator's part in an enterprise's score: what went in and what came out.
public struct IndicatorScore: Codable, Sendable, Hashable {
    public var indicator: Indicator
    public var weight: Double
    /// nil when missing (numerator or denominator absent, or denominator 0)
    public var value: Double?
    /// nil when the group has no usable benchmark for the indicator
    public var benchmark: Double?
    /// item score after floor and cap; for a missing value, the score the missing rule gave
    public var score: Double
    public var missing: Bool
}

/// The benchmark (基准值) of an indicator in a group and year, with how it was obtained.
public struct BenchmarkValue: Codable, Sendable, Hashable {
    public var group: EnterpriseGroup
    public var indicator: Indicator
    public var mode: BenchmarkMode
    /// nil when no evaluated enterprise has the indicator or the result is not positive
    public var value: Double?
    /// Σ numerator and Σ denominator (aggregate mode)
    public var numeratorSum: Double?
    public var denominatorSum: Double?
    /// how many enterprises had the indicator
    public var count: Int
    /// the group's mean item score, used for missing values (missing: average)
    public var meanScore: Double
}

/// How far an enterprise is from the next better class, and what would close the gap.
public struct ClassGap: Codable, Sendable, Hashable {
    public var target: EnterpriseClass
    /// the total score that reaches the target class
    public var boundary: Double
    public var pointsNeeded: Double
    public var indicators: [IndicatorGap]
    /// set when a veto bars the target class whatever the score
    public var barredByVeto: String?
}

/// What one indicator alone would need to be to close the gap (other things equal,
/// benchmarks held where they are).
public struct IndicatorGap: Codable, Sendable, Hashable {
    public var indicator: Indicator
    public var current: Double?
    /// nil when the indicator alone cannot close the gap (cap reached)
    public var target: Double?
    /// target − current, nil when either is unknown
    public var increase: Double?
    /// the same increase expressed in the numerator's unit (e.g. 万元 of tax), when the
    /// denominator is known
    public var numeratorIncrease: Double?
}

/// The policies an enterprise gets from its final class.
public struct PolicyOutcome: Codable, Sendable, Hashable {
    public var electricitySurcharge: Double
    public var energyQuotaFactor: Double?
    public var creditEligible: Bool
    /// consecutive years in this class, this one included (from stored earlier results)
    public var consecutiveYears: Int
    public var other: [String: String]
}

/// The result of one enterprise in one year, with its whole explanation (EVALUATION.md §7).
public struct EnterpriseResult: Codable, Sendable, Hashable {
    public var year: Int
    public var creditCode: String
    public var name: String
    public var town: String
    public var group: EnterpriseGroup
    public var industry: String?
    public var landMu: Double?
    public var evaluated: Bool
    /// 不参评原因
    public var exemptReason: String?
    public var items: [IndicatorScore]
    public var bonus: Double
    public var bonusReasons: [String]
    /// unrounded; nil when not evaluated
    public var totalScore: Double?
    /// competition rank in the group (ties share a rank)
    public var rank: Int?
    /// evaluated enterprises in the group
    public var groupSize: Int
    public var classBeforeVeto: EnterpriseClass?
    /// final class (after vetoes); nil when not evaluated
    public var finalClass: EnterpriseClass?
    public var vetoes: [String]
    /// every reason that shaped the class, in Chinese
    public var reasons: [String]
    public var policy: PolicyOutcome?
    public var gap: ClassGap?
}

/// A whole evaluation run of one year.
public struct EvaluationOutcome: Codable, Sendable {
    public var year: Int
    public var benchmarks: [BenchmarkValue]
    /// in the order of the input records
    public var results: [EnterpriseResult]

    public func benchmark(_ group: EnterpriseGroup, _ indicator: Indicator) -> BenchmarkValue? {
        benchmarks.first { $0.group == group && $0.indicator == indicator }
    }

    /// Class counts per group (final classes).
    public func classCounts(_ group: EnterpriseGroup) -> [EnterpriseClass: Int] {
        var counts: [EnterpriseClass: Int] = [:]
        for r in results where r.group == group { if let c = r.finalClass { counts[c, default: 0] += 1 } }
        return counts
    }
}
