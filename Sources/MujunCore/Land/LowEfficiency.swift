import Foundation
import Yams

/// The land rules (用地规则, EVALUATION.md §8 and the clusters of issue 4): which parcels are
/// low-efficiency, how contiguous clusters are formed, and how closely a parcel's computed
/// area must match its registered one. Read from the `land:` section of the rules YAML:
///
/// ```yaml
/// land:
///   idle_status: [闲置]        # statuses that make a parcel low-efficiency; [] disables
///   tax_per_mu_below: 3         # 万元/亩; null disables
///   occupant_classes: [D]       # any occupant in one of these classes; [] disables
///   far_below: 1.0              # 容积率, when known; null disables
///   cluster_gap: 20             # metres (EPSG:4549) bridging roads between parcels
///   min_mu: 50                  # a cluster of at least this area is a renewal candidate
///   area_tolerance: 0.05        # |computed − registered| / registered above this is flagged
/// ```
public struct LandRules: Codable, Sendable, Hashable {
    /// Statuses that make a parcel low-efficiency (default 闲置).
    public var idleStatuses: [ParcelStatus]
    /// 亩均税收 below this (万元/亩) is low-efficiency; nil disables the rule.
    public var taxPerMuBelow: Double?
    /// An occupant whose final class is one of these makes the parcel low-efficiency.
    public var occupantClasses: [EnterpriseClass]
    /// A floor-area ratio (容积率) below this, when known, is low-efficiency; nil disables.
    public var farBelow: Double?
    /// Two parcels are contiguous when their distance is at most this (metres).
    public var clusterGap: Double
    /// A cluster of at least this many mu is a renewal candidate (集中连片整治).
    public var minMu: Double
    /// The share by which the computed area may differ from the registered one.
    public var areaTolerance: Double

    public init(idleStatuses: [ParcelStatus] = [.idle], taxPerMuBelow: Double? = 3,
                occupantClasses: [EnterpriseClass] = [.D], farBelow: Double? = 1.0,
                clusterGap: Double = 20, minMu: Double = 50, areaTolerance: Double = 0.05) {
        self.idleStatuses = idleStatuses; self.taxPerMuBelow = taxPerMuBelow
        self.occupantClasses = occupantClasses; self.farBelow = farBelow
        self.clusterGap = clusterGap; self.minMu = minMu; self.areaTolerance = areaTolerance
    }

    /// The defaults of EVALUATION.md §8.
    public static let `default` = LandRules()

    enum CodingKeys: String, CodingKey {
        case idleStatuses = "idle_status", taxPerMuBelow = "tax_per_mu_below", occupantClasses = "occupant_classes"
        case farBelow = "far_below", clusterGap = "cluster_gap", minMu = "min_mu", areaTolerance = "area_tolerance"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LandRules.default
        // A key given as null disables a threshold; an absent key keeps the default.
        func optional(_ key: CodingKeys, _ fallback: Double?) throws -> Double? {
            guard c.contains(key) else { return fallback }
            if try c.decodeNil(forKey: key) { return nil }
            return try c.decode(Double.self, forKey: key)
        }
        if c.contains(.idleStatuses), try !c.decodeNil(forKey: .idleStatuses) {
            let texts: [String]
            if let one = try? c.decode(String.self, forKey: .idleStatuses) { texts = [one] } else {
                texts = try c.decode([String].self, forKey: .idleStatuses)
            }
            idleStatuses = try texts.map { t in
                guard let s = ParcelStatus(text: t) else {
                    throw DecodingError.dataCorruptedError(forKey: .idleStatuses, in: c,
                        debugDescription: "未知现状 \(t)（在用、闲置、在建）/ unknown status \(t)")
                }
                return s
            }
        } else {
            idleStatuses = c.contains(.idleStatuses) ? [] : d.idleStatuses
        }
        taxPerMuBelow = try optional(.taxPerMuBelow, d.taxPerMuBelow)
        if c.contains(.occupantClasses), try !c.decodeNil(forKey: .occupantClasses) {
            if let one = try? c.decode(EnterpriseClass.self, forKey: .occupantClasses) { occupantClasses = [one] } else {
                occupantClasses = try c.decode([EnterpriseClass].self, forKey: .occupantClasses)
            }
        } else {
            occupantClasses = c.contains(.occupantClasses) ? [] : d.occupantClasses
        }
        farBelow = try optional(.farBelow, d.farBelow)
        clusterGap = try c.decodeIfPresent(Double.self, forKey: .clusterGap) ?? d.clusterGap
        minMu = try c.decodeIfPresent(Double.self, forKey: .minMu) ?? d.minMu
        areaTolerance = try c.decodeIfPresent(Double.self, forKey: .areaTolerance) ?? d.areaTolerance
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(idleStatuses.map(\.chinese), forKey: .idleStatuses)
        try c.encode(taxPerMuBelow, forKey: .taxPerMuBelow)
        try c.encode(occupantClasses, forKey: .occupantClasses)
        try c.encode(farBelow, forKey: .farBelow)
        try c.encode(clusterGap, forKey: .clusterGap)
        try c.encode(minMu, forKey: .minMu)
        try c.encode(areaTolerance, forKey: .areaTolerance)
    }

    private struct Wrapper: Decodable { var land: LandRules? }

    /// The `land:` section of a rules YAML file, or the defaults when it has none.
    public static func from(yaml: String) throws(RulesError) -> LandRules {
        let rules: LandRules
        do {
            rules = try YAMLDecoder().decode(Wrapper.self, from: yaml).land ?? .default
        } catch {
            throw RulesError(zh: "规则文件的 land 部分无法解析：\(error)", en: "the land section of the rules file cannot be parsed: \(error)")
        }
        try rules.validate()
        return rules
    }

    /// Checks the numbers are usable.
    public func validate() throws(RulesError) {
        guard clusterGap >= 0, clusterGap.isFinite else {
            throw RulesError(zh: "land.cluster_gap 必须为非负数", en: "land.cluster_gap must be ≥ 0")
        }
        guard minMu >= 0, minMu.isFinite else { throw RulesError(zh: "land.min_mu 必须为非负数", en: "land.min_mu must be ≥ 0") }
        guard areaTolerance >= 0, areaTolerance.isFinite else {
            throw RulesError(zh: "land.area_tolerance 必须为非负数（如 0.05 表示 5%）", en: "land.area_tolerance must be ≥ 0 (0.05 = 5 %)")
        }
        if let t = taxPerMuBelow, !t.isFinite { throw RulesError(zh: "land.tax_per_mu_below 无效", en: "land.tax_per_mu_below is invalid") }
        if let f = farBelow, !(f.isFinite && f >= 0) { throw RulesError(zh: "land.far_below 必须为非负数", en: "land.far_below must be ≥ 0") }
    }

    /// The rules as YAML, under `land:`.
    public var yaml: String {
        (try? YAMLEncoder().encode(["land": self])) ?? ""
    }
}

/// Why a parcel is low-efficiency (低效用地认定理由).
public enum LowEfficiencyKind: String, Codable, Sendable, CaseIterable, Hashable {
    /// 闲置 (or another configured status)
    case idle
    /// 亩均税收 below the threshold
    case lowTaxPerMu = "low_tax_per_mu"
    /// an occupant in class D (or another configured class)
    case occupantClass = "occupant_class"
    /// 容积率 below the threshold
    case lowFAR = "low_far"
    /// approved (批准日期) by the year's end, not supplied (供地日期) by then
    case notSupplied = "not_supplied"
    /// supplied, the agreed start (约定开工日期) passed, not started: idle and not operating
    case notStarted = "not_started"
    /// the agreed completion (约定竣工日期) passed, still under construction or not operating
    case notOperating = "not_operating"

    public var chinese: String {
        switch self {
        case .idle: "闲置"
        case .lowTaxPerMu: "\(Indicator.taxPerMu.chinese)低"
        case .occupantClass: "用地企业评价为 D 类"
        case .lowFAR: "容积率低"
        case .notSupplied: "批准后未供地"
        case .notStarted: "逾期未开工"
        case .notOperating: "逾期未投产"
        }
    }
}

/// The five kinds of low-efficiency land Zhejiang uses (低效用地五类), in their order. A
/// low-efficiency parcel falls into the first kind its data show (FORMATS.md, parcels), or
/// none when they do not say (``LowEfficiencyAssessor``).
public enum LowEfficiencyCategory: String, Codable, Sendable, CaseIterable, Hashable {
    /// 批而未供: approved, not supplied
    case approvedNotSupplied = "approved_not_supplied"
    /// 供而未用: supplied, not started by the agreed start
    case suppliedNotUsed = "supplied_not_used"
    /// 用而未尽: in use, the floor-area ratio below the rule (or operated and now idle)
    case usedNotFully = "used_not_fully"
    /// 建而未投: past the agreed completion, not operating
    case builtNotOperating = "built_not_operating"
    /// 投而未达标: operating, below the per-mu thresholds (tax per mu, the occupants' class)
    case operatingBelowStandard = "operating_below_standard"

    public var chinese: String {
        switch self {
        case .approvedNotSupplied: "批而未供"
        case .suppliedNotUsed: "供而未用"
        case .usedNotFully: "用而未尽"
        case .builtNotOperating: "建而未投"
        case .operatingBelowStandard: "投而未达标"
        }
    }

    public var english: String {
        switch self {
        case .approvedNotSupplied: "approved, not supplied"
        case .suppliedNotUsed: "supplied, not used"
        case .usedNotFully: "used, not fully"
        case .builtNotOperating: "built, not operating"
        case .operatingBelowStandard: "operating, below standard"
        }
    }

    /// The kind a low-efficiency parcel falls into, given its reasons and whether it operates
    /// at the year's end; nil when the data do not say.
    ///
    /// ```swift
    /// LowEfficiencyCategory.of(reasons: [.lowTaxPerMu], operating: true, idleAfterOperating: false)  // .operatingBelowStandard
    /// ```
    public static func of(reasons: [LowEfficiencyKind], operating: Bool, idleAfterOperating: Bool) -> LowEfficiencyCategory? {
        if reasons.contains(.notSupplied) { return .approvedNotSupplied }
        if reasons.contains(.notStarted) { return .suppliedNotUsed }
        if operating && reasons.contains(.lowFAR) || idleAfterOperating && reasons.contains(.idle) { return .usedNotFully }
        if reasons.contains(.notOperating) { return .builtNotOperating }
        if operating && (reasons.contains(.lowTaxPerMu) || reasons.contains(.occupantClass)) { return .operatingBelowStandard }
        return nil
    }
}

/// One reason a parcel is low-efficiency, with the figures behind it.
public struct LowEfficiencyReason: Codable, Sendable, Hashable {
    public var kind: LowEfficiencyKind
    /// The reason as shown to users, e.g. `亩均税收 1.20 万元/亩，低于 3 万元/亩`.
    public var zh: String
    public var en: String
    /// The parcel's value (tax per mu, FAR) and the threshold it fell below, when numeric.
    public var value: Double?
    public var threshold: Double?
}

/// An enterprise occupying a parcel, and the tax attributed to the parcel from it.
public struct OccupantShare: Codable, Sendable, Hashable {
    /// 统一社会信用代码
    public var creditCode: String
    public var name: String?
    public var relation: LandRelation
    /// The area of this parcel the enterprise uses (mu): 面积(亩), or the parcel's area when
    /// the land-use row gives none.
    public var areaMu: Double
    /// The enterprise's area over all parcels (mu).
    public var totalAreaMu: Double
    /// The enterprise's whole 评价税收 for the year (万元), nil when unknown.
    public var tax: Double?
    /// tax × areaMu / totalAreaMu (万元), nil when the tax is unknown or the total area is 0.
    public var attributedTax: Double?
    /// The enterprise's final class for the year, when evaluated.
    public var finalClass: EnterpriseClass?
    /// True when there is no land-use row and the parcel's 权利人 is taken as its occupant.
    public var implicit: Bool
}

/// A parcel's low-efficiency assessment (低效用地认定) for one year.
public struct ParcelAssessment: Codable, Sendable, Hashable {
    public var parcelID: String
    public var town: String
    public var block: String?
    /// The parcel's area from its geometry (mu).
    public var areaMu: Double
    /// Occupants, by credit code.
    public var occupants: [OccupantShare]
    /// Σ attributed tax over the occupants with a known tax (万元); nil when none has one.
    public var attributedTax: Double?
    /// 亩均税收 of the parcel: attributedTax / areaMu (万元/亩).
    public var taxPerMu: Double?
    /// Every rule that applies, in the order of ``LowEfficiencyKind``.
    public var reasons: [LowEfficiencyReason]
    /// Which of the five kinds (低效用地五类) the parcel falls into, when low-efficiency and its
    /// data say which.
    public var category: LowEfficiencyCategory?

    /// 低效用地: at least one reason applies.
    public var isLowEfficiency: Bool { !reasons.isEmpty }
}

/// The low-efficiency pass over all parcels for a year.
public struct LandAssessment: Codable, Sendable {
    public var year: Int
    public var rules: LandRules
    /// In the order of the parcels given.
    public var parcels: [ParcelAssessment]

    /// Ids of the low-efficiency parcels.
    public var lowEfficiencyIDs: Set<String> { Set(parcels.lazy.filter(\.isLowEfficiency).map(\.parcelID)) }

    public func assessment(of parcelID: String) -> ParcelAssessment? { parcels.first { $0.parcelID == parcelID } }
}

/// Identifies low-efficiency parcels (EVALUATION.md §8). Pure and deterministic.
public struct LowEfficiencyAssessor: Sendable {
    public var rules: LandRules

    public init(rules: LandRules = .default) { self.rules = rules }

    /// Assesses every parcel for `year`.
    /// - Parameters:
    ///   - landUse: who occupies which parcel. A parcel with no row but a 权利人信用代码 is
    ///     taken as occupied by its owner on its whole area.
    ///   - records: enterprise data (the tax); only records of `year` are used.
    ///   - results: evaluation results (the final classes); only results of `year` are used.
    public func assess(year: Int, parcels: [Parcel], landUse: [LandUse],
                       records: [EnterpriseRecord], results: [EnterpriseResult]) -> LandAssessment {
        var recordOf: [String: EnterpriseRecord] = [:]
        for r in records where r.year == year { recordOf[r.creditCode] = r }
        var classOf: [String: EnterpriseClass] = [:]
        var nameOf: [String: String] = [:]
        for r in results where r.year == year {
            if let c = r.finalClass { classOf[r.creditCode] = c }
            nameOf[r.creditCode] = r.name
        }
        let parcelArea = Dictionary(parcels.map { ($0.parcelID, $0.areaMu) }, uniquingKeysWith: { a, _ in a })

        // Occupancies: explicit rows, else the owner on the whole parcel.
        struct Occupancy { var creditCode: String; var relation: LandRelation; var areaMu: Double; var implicit: Bool }
        var byParcel: [String: [Occupancy]] = [:]
        for u in landUse {
            guard let whole = parcelArea[u.parcelID] else { continue }
            byParcel[u.parcelID, default: []].append(
                Occupancy(creditCode: u.creditCode, relation: u.relation, areaMu: u.areaMu ?? whole, implicit: false))
        }
        for p in parcels where byParcel[p.parcelID] == nil {
            if let owner = p.ownerCreditCode {
                byParcel[p.parcelID] = [Occupancy(creditCode: owner, relation: .owned, areaMu: p.areaMu, implicit: true)]
            }
        }
        // Each enterprise's total area, summed in a fixed order.
        var totalArea: [String: Double] = [:]
        for id in byParcel.keys.sorted() {
            for o in byParcel[id]! { totalArea[o.creditCode, default: 0] += o.areaMu }
        }

        let idle = Set(rules.idleStatuses)
        let badClasses = Set(rules.occupantClasses)
        let yearEnd = CalendarDate(year: min(max(year, 1), 9999), month: 12, day: 31)!
        var out: [ParcelAssessment] = []
        out.reserveCapacity(parcels.count)
        for p in parcels {
            var occupants: [OccupantShare] = []
            let occ = (byParcel[p.parcelID] ?? []).sorted { ($0.creditCode, $0.relation.rawValue) < ($1.creditCode, $1.relation.rawValue) }
            var taxSum = 0.0, anyTax = false
            for o in occ {
                let total = totalArea[o.creditCode] ?? 0
                let tax = recordOf[o.creditCode]?.tax
                var attributed: Double?
                if let tax, total > 0 {
                    attributed = tax * o.areaMu / total
                    taxSum += attributed!; anyTax = true
                }
                occupants.append(OccupantShare(
                    creditCode: o.creditCode, name: nameOf[o.creditCode] ?? recordOf[o.creditCode]?.name,
                    relation: o.relation, areaMu: o.areaMu, totalAreaMu: total, tax: tax,
                    attributedTax: attributed, finalClass: classOf[o.creditCode], implicit: o.implicit))
            }
            let attributedTax: Double? = anyTax ? taxSum : nil
            let taxPerMu: Double? = attributedTax.flatMap { p.areaMu > 0 ? $0 / p.areaMu : nil }

            var reasons: [LowEfficiencyReason] = []
            if let s = p.status, idle.contains(s) {
                reasons.append(LowEfficiencyReason(kind: .idle, zh: "现状\(s.chinese)", en: "the parcel is \(s.rawValue.replacingOccurrences(of: "_", with: " ")) (\(s.chinese))"))
            }
            if let limit = rules.taxPerMuBelow, let t = taxPerMu, t < limit {
                reasons.append(LowEfficiencyReason(
                    kind: .lowTaxPerMu,
                    zh: "\(Indicator.taxPerMu.chinese) \(fixed2(t)) \(Indicator.taxPerMu.unit)，低于 \(formatNumber(limit)) \(Indicator.taxPerMu.unit)",
                    en: "tax per mu \(fixed2(t)) (10k yuan/mu) is below \(formatNumber(limit))",
                    value: t, threshold: limit))
            }
            let bad = occupants.filter { o in o.finalClass.map { badClasses.contains($0) } ?? false }
            if !bad.isEmpty {
                let names = bad.map { "\($0.name ?? $0.creditCode)（\($0.finalClass!.rawValue) 类）" }.joined(separator: "、")
                let namesEn = bad.map { "\($0.name ?? $0.creditCode) (class \($0.finalClass!.rawValue))" }.joined(separator: ", ")
                reasons.append(LowEfficiencyReason(
                    kind: .occupantClass, zh: "用地企业评价为 \(bad.map { $0.finalClass!.rawValue }.uniqued.joined(separator: "/")) 类：\(names)",
                    en: "occupant(s) evaluated in class \(bad.map { $0.finalClass!.rawValue }.uniqued.joined(separator: "/")): \(namesEn)"))
            }
            if let limit = rules.farBelow, let far = p.far, far < limit {
                reasons.append(LowEfficiencyReason(
                    kind: .lowFAR, zh: "容积率 \(formatNumber(far))，低于 \(formatNumber(limit))",
                    en: "floor-area ratio \(formatNumber(far)) is below \(formatNumber(limit))", value: far, threshold: limit))
            }
            let life = Self.lifeCycle(p, yearEnd: yearEnd)
            reasons += life.reasons
            let category = reasons.isEmpty ? nil
                : LowEfficiencyCategory.of(reasons: reasons.map(\.kind), operating: life.operating,
                                           idleAfterOperating: life.operatedBefore && p.status == .idle)
            out.append(ParcelAssessment(parcelID: p.parcelID, town: p.town, block: p.block, areaMu: p.areaMu,
                                        occupants: occupants, attributedTax: attributedTax, taxPerMu: taxPerMu,
                                        reasons: reasons, category: category))
        }
        return LandAssessment(year: year, rules: rules, parcels: out)
    }

    private func fixed2(_ x: Double) -> String { String(format: "%.2f", x) }

    /// The reasons a parcel's dates give at the year's end (`yearEnd`), and whether it operates then:
    /// - operating: 投产日期 on or before the year's end, or, without one, a status other than
    ///   闲置 and 在建;
    /// - 批而未供 (`notSupplied`): 批准日期 on or before the year's end, no 供地日期 by then;
    /// - 供而未用 (`notStarted`): supplied by the year's end, 约定开工日期 before it, not operating
    ///   and not under construction;
    /// - 建而未投 (`notOperating`): 约定竣工日期 before the year's end, still 在建, or in use with a
    ///   投产日期 after the year's end.
    static func lifeCycle(_ p: Parcel, yearEnd d: CalendarDate) -> (reasons: [LowEfficiencyReason], operating: Bool, operatedBefore: Bool) {
        let operatedBefore = p.operatingSince.map { $0 <= d } ?? false
        let operating = operatedBefore || (p.operatingSince == nil && p.status != .idle && p.status != .underConstruction)
        var reasons: [LowEfficiencyReason] = []
        let supplied = p.suppliedOn.map { $0 <= d } ?? false
        if let a = p.approvedOn, a <= d, !supplied {
            reasons.append(LowEfficiencyReason(kind: .notSupplied, zh: "\(a) 批准用地，至 \(d) 未供地",
                                               en: "approved on \(a), not supplied by \(d)"))
        }
        if supplied, let s = p.startBy, s < d, !operating, p.status != .underConstruction {
            reasons.append(LowEfficiencyReason(kind: .notStarted, zh: "约定 \(s) 开工，至 \(d) 未开工",
                                               en: "construction agreed to start by \(s), not started by \(d)"))
        }
        if let f = p.finishBy, f < d, !operating,
           p.status == .underConstruction || (p.status == .inUse && p.operatingSince != nil) {
            reasons.append(LowEfficiencyReason(kind: .notOperating, zh: "约定 \(f) 竣工，至 \(d) 未投产",
                                               en: "completion agreed by \(f), not operating by \(d)"))
        }
        return (reasons, operating, operatedBefore)
    }
}

private extension Array where Element == String {
    var uniqued: [String] {
        var seen = Set<String>()
        return filter { seen.insert($0).inserted }
    }
}
