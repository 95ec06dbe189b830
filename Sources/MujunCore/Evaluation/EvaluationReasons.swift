import Foundation

// The sentences of an evaluation (不参评原因, 评价理由) and the builder that puts each result
// together with them. When each sentence applies is decided in Evaluator.swift.

/// The reason sentences of the results, each written once. (The sentence with the total,
/// rank and class is written byte by byte in ``ResultBuilder``, for speed.)
enum ReasonText {
    /// 不参评: a 规下 enterprise below the rules' smallest area.
    static func smallLand(minLandMu: Double) -> String {
        "\(RecordField.landMu.name)不足\(formatNumber(minLandMu))\(RecordField.landMu.unit)"
    }

    /// 不参评: no area, or an area that is not positive.
    static let noLand = "无\(RecordField.landMu.name)"

    /// The first reason of a result that is not evaluated.
    static func exempt(_ reason: String) -> String { "不参评：\(reason)" }

    /// An indicator the enterprise has no value for, and what it scores instead.
    static func missing(_ indicator: Indicator, average: Bool, fill: Double) -> String {
        let how = average ? "按组内平均得分 \(formatScore(fill)) 计" : "记 0 分"
        return "\(indicator.chinese)缺失，\(how)"
    }

    /// A bonus the enterprise earned, e.g. `高新技术企业 +3`.
    static func bonus(_ rule: BonusRule) -> String { "\(rule.name) +\(formatNumber(rule.points))" }

    /// A veto kind the rules do not define (it changes nothing).
    static func vetoUndefined(_ kind: String) -> String { "一票否决：\(kind)（规则中未定义，未计）" }

    /// A veto kind that forces a class.
    static func vetoForces(_ kind: String, _ cls: EnterpriseClass) -> String { "一票否决：\(kind) → 直接评为 \(cls.rawValue) 类" }

    /// A veto kind that bars the classes better than `cls`.
    static func vetoCaps(_ kind: String, _ cls: EnterpriseClass) -> String { "一票否决：\(kind) → 最高评为 \(cls.rawValue) 类" }

    /// The class before and after the vetoes, when they changed it.
    static func vetoed(from before: EnterpriseClass, to after: EnterpriseClass) -> String {
        "否决前 \(before.rawValue) 类，最终 \(after.rawValue) 类"
    }

    /// The surcharge that applies after `years` consecutive years in a class.
    static func consecutive(years: Int, _ cls: EnterpriseClass, surcharge: Double) -> String {
        "连续 \(years) 年 \(cls.rawValue) 类，差别化电价加价 \(formatNumber(surcharge)) 元/千瓦时"
    }
}

/// What a class's policy gives, with a thread's own copy of the texts.
struct PolicyEntry {
    var electricitySurcharge: Double
    var energyQuotaFactor: Double?
    var creditEligible: Bool
    var consecutiveYears: Int?
    var consecutiveElectricitySurcharge: Double?
    var other: [String: String]
}

/// Builds whole results on one thread. It keeps its own copies of the texts and policy
/// tables that many results share, so threads never contend for their reference counts.
struct ResultBuilder {
    let evaluator: Evaluator
    let year: Int
    let policies: [PolicyEntry?]
    let groups: [GroupView]
    let missingReasons: [[String]]
    let bonusTexts: [String]
    let bonusRules: [BonusRule]
    let mode: ClassMode
    var text: [UInt8] = []
    var lastExempt: (reason: String, reasons: [String])?

    init(evaluator: Evaluator, year: Int, policies: [ClassPolicy?], groups: [GroupScores]) {
        self.evaluator = evaluator
        self.year = year
        self.groups = groups.map(\.view)
        func own(_ s: String) -> String { String(decoding: Array(s.utf8), as: UTF8.self) }
        self.policies = policies.map { p in
            p.map { p in
                var other: [String: String] = [:]
                for (k, v) in p.other { other[own(k)] = own(v) }
                return PolicyEntry(electricitySurcharge: p.electricitySurcharge, energyQuotaFactor: p.energyQuotaFactor,
                                   creditEligible: p.creditEligible, consecutiveYears: p.consecutiveYears,
                                   consecutiveElectricitySurcharge: p.consecutiveElectricitySurcharge, other: other)
            }
        }
        missingReasons = groups.map { $0.missingReasons.map(own) }
        bonusRules = evaluator.rules.bonus
        bonusTexts = bonusRules.map { own(ReasonText.bonus($0)) }
        mode = evaluator.rules.classes.mode
        text.reserveCapacity(128)
    }

    mutating func exempt(_ r: UnsafePointer<EnterpriseRecord>, reason: String) -> EnterpriseResult {
        let reasons: [String]
        // consecutive exempt results with the same reason (byte for byte) share one array
        if let last = lastExempt, last.reason.utf8.elementsEqual(reason.utf8) {
            reasons = last.reasons
        } else {
            reasons = [ReasonText.exempt(reason)]
            lastExempt = (reason, reasons)
        }
        return EnterpriseResult(
            year: year, creditCode: r.pointee.creditCode, name: r.pointee.name, town: r.pointee.town,
            group: r.pointee.group, industry: r.pointee.industry, landMu: r.pointee.landMu, evaluated: false,
            exemptReason: reason, items: [], bonus: 0, bonusReasons: [], totalScore: nil, rank: nil, groupSize: 0,
            classBeforeVeto: nil, finalClass: nil, vetoes: r.pointee.vetoes, reasons: reasons, policy: nil, gap: nil)
    }

    mutating func evaluated(_ r: UnsafePointer<EnterpriseRecord>, group g: Int, t: Int,
                            history: [Int: EnterpriseClass]) -> EnterpriseResult {
        let gs = groups[g]
        let m = gs.m, n = gs.n
        var missing = 0
        let items = [IndicatorScore](unsafeUninitializedCapacity: m) { buf, initialized in
            for j in 0..<m {
                let s = gs.scores[j * n + t]
                if s == nil { missing += 1 }
                (buf.baseAddress! + j).initialize(to: IndicatorScore(
                    indicator: gs.indicators[j].0, weight: gs.indicators[j].1, value: gs.values[j * n + t],
                    benchmark: gs.benchmarkValues[j], score: s ?? gs.fills[j], missing: s == nil))
            }
            initialized = m
        }
        var bonus = 0.0
        var bonusReasons: [String] = []
        for (k, rule) in bonusRules.enumerated() {
            if let v = rule.indicator.value(at: r), v >= rule.atLeast {
                bonus += rule.points
                bonusReasons.append(bonusTexts[k])
            }
        }
        let total = gs.totals[t]
        let cls = gs.classes[t]
        let rank = gs.ranks[t]
        var reasons: [String] = []
        reasons.reserveCapacity(missing + 1)
        for j in 0..<m where items[j].missing { reasons.append(missingReasons[g][j]) }
        // "总分 \(score)，组内第 \(rank)/\(n) 名，按比例评为 \(cls) 类" or "总分 \(score)，按分数线评为 \(cls) 类"
        text.removeAll(keepingCapacity: true)
        Self.append("总分 ", to: &text)
        FastFormat.appendFixed2(total, to: &text)
        switch mode {
        case .quota:
            Self.append("，组内第 ", to: &text)
            FastFormat.appendInt(rank, to: &text)
            text.append(0x2F)
            FastFormat.appendInt(gs.n, to: &text)
            Self.append(" 名，按比例评为 ", to: &text)
        case .score:
            Self.append("，按分数线评为 ", to: &text)
        }
        text.append(0x41 + UInt8(cls.order))  // "A"…"D"
        Self.append(" 类", to: &text)
        reasons.append(String(decoding: text, as: UTF8.self))
        var final = cls
        if !r.pointee.vetoes.isEmpty {
            let (f, vetoReasons) = evaluator.applyVetoes(cls, kinds: r.pointee.vetoes)
            final = f
            reasons += vetoReasons
        }
        let gap = evaluator.gap(from: cls, total: total, items: items, record: r, lowest: gs.lowest)
        let (policy, policyReason) = evaluator.policy(final, history: history, year: year, policies: policies)
        if let policyReason { reasons.append(policyReason) }
        return EnterpriseResult(
            year: year, creditCode: r.pointee.creditCode, name: r.pointee.name, town: r.pointee.town,
            group: r.pointee.group, industry: r.pointee.industry, landMu: r.pointee.landMu, evaluated: true,
            exemptReason: nil, items: items, bonus: bonus, bonusReasons: bonusReasons, totalScore: total, rank: rank,
            groupSize: gs.n, classBeforeVeto: cls, finalClass: final, vetoes: r.pointee.vetoes, reasons: reasons,
            policy: policy, gap: gap)
    }

    @inline(__always)
    private static func append(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}

/// A number without trailing zeros: 3 → "3", 2.5 → "2.5".
public func formatNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    return String(x)
}

/// A score as shown: 2 decimals.
public func formatScore(_ x: Double) -> String { FastFormat.fixed2(x) }
