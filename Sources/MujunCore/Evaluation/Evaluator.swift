import Foundation

/// Runs the per-mu evaluation (亩均效益综合评价) of one year, exactly as EVALUATION.md
/// describes it, under the given rules. Pure and deterministic: the same rules, records
/// and history always give the same outcome.
public struct Evaluator: Sendable {
    public var rules: Rules

    public init(rules: Rules = .default) { self.rules = rules }

    /// Final classes of earlier years: credit code → year → class.
    public typealias History = [String: [Int: EnterpriseClass]]

    /// Evaluates `records` (one year's data; one record per enterprise).
    /// - Parameter history: earlier years' final classes, for consecutive-year policies.
    public func evaluate(year: Int, records: [EnterpriseRecord], history: History = [:]) -> EvaluationOutcome {
        var results = records.map { r in
            EnterpriseResult(year: year, creditCode: r.creditCode, name: r.name, town: r.town, group: r.group,
                             industry: r.industry, landMu: r.landMu, evaluated: false, exemptReason: exemption(r),
                             items: [], bonus: 0, bonusReasons: [], totalScore: nil, rank: nil, groupSize: 0,
                             classBeforeVeto: nil, finalClass: nil, vetoes: r.vetoes, reasons: [], policy: nil, gap: nil)
        }
        var benchmarks: [BenchmarkValue] = []
        for group in EnterpriseGroup.allCases {
            // credit-code order makes every sum independent of the input's row order
            let members = records.indices.filter { records[$0].group == group && results[$0].exemptReason == nil }
                .sorted { records[$0].creditCode < records[$1].creditCode }
            benchmarks += scoreGroup(group, members: members, records: records, results: &results)
        }
        for i in results.indices {
            if let reason = results[i].exemptReason {
                results[i].reasons.append("不参评：\(reason)")
            } else {
                applyPolicy(&results[i], history: history[records[i].creditCode] ?? [:], year: year)
            }
        }
        return EvaluationOutcome(year: year, benchmarks: benchmarks, results: results)
    }

    /// Why a record is not evaluated (不参评原因), or nil when it is.
    public func exemption(_ r: EnterpriseRecord) -> String? {
        if let e = r.exempt?.trimmingCharacters(in: .whitespaces), !e.isEmpty { return e }
        guard let land = r.landMu, land > 0 else { return "无用地面积" }
        if r.group == .below && land < rules.minLandMu { return "用地面积不足\(formatNumber(rules.minLandMu))亩" }
        return nil
    }

    // MARK: - One group

    private func scoreGroup(_ group: EnterpriseGroup, members: [Int], records: [EnterpriseRecord],
                            results: inout [EnterpriseResult]) -> [BenchmarkValue] {
        let indicators = rules.indicators(for: group)
        let n = members.count
        var benchmarks: [BenchmarkValue] = []
        // item scores per member, indexed like `members`
        var items = [[IndicatorScore]](repeating: [], count: n)
        for (indicator, weight) in indicators {
            let values = members.map { indicator.value(records[$0]) }
            var bench = benchmark(group, indicator, values: values, members: members, records: records)
            let b = bench.value
            var sum = 0.0, count = 0
            var scores = [Double?](repeating: nil, count: n)
            for k in 0..<n {
                guard let v = values[k], let b else { continue }
                let s = clamp(weight * v / b, weight: weight)
                scores[k] = s; sum += s; count += 1
            }
            let fill: Double = (rules.scoring.missing == .average && count > 0) ? sum / Double(count) : 0
            bench.meanScore = count > 0 ? sum / Double(count) : 0
            benchmarks.append(bench)
            for k in 0..<n {
                items[k].append(IndicatorScore(indicator: indicator, weight: weight, value: values[k], benchmark: b,
                                               score: scores[k] ?? fill, missing: scores[k] == nil))
            }
        }
        // totals
        var totals = [Double](repeating: 0, count: n)
        for k in 0..<n {
            let i = members[k]
            var total = 0.0
            for item in items[k] { total += item.score }
            var bonus = 0.0
            for rule in rules.bonus {
                if let v = rule.indicator.value(records[i]), v >= rule.atLeast {
                    bonus += rule.points
                    results[i].bonusReasons.append("\(rule.name) +\(formatNumber(rule.points))")
                }
            }
            total += bonus
            totals[k] = total
            results[i].evaluated = true
            results[i].items = items[k]
            results[i].bonus = bonus
            results[i].totalScore = total
            results[i].groupSize = n
            for item in items[k] where item.missing {
                let how = rules.scoring.missing == .average ? "按组内平均得分 \(formatScore(item.score)) 计" : "记 0 分"
                results[i].reasons.append("\(item.indicator.chinese)缺失，\(how)")
            }
        }
        // rank: descending total, ties share a rank; listing order ties broken by credit code
        let order = (0..<n).sorted { a, b in
            totals[a] != totals[b] ? totals[a] > totals[b] : records[members[a]].creditCode < records[members[b]].creditCode
        }
        var classes = [EnterpriseClass](repeating: .D, count: n)
        let limits = quotaLimits(n)
        var rank = 0
        for (position, k) in order.enumerated() {
            let p = position + 1
            let tiedWithPrevious = position > 0 && totals[order[position - 1]] == totals[k]
            if !tiedWithPrevious { rank = p }
            results[members[k]].rank = rank
            switch rules.classes.mode {
            case .quota:
                // ties never split across classes: an equal total takes the better class
                classes[k] = tiedWithPrevious ? classes[order[position - 1]] : quotaClass(position: p, limits: limits)
            case .score:
                classes[k] = scoreClass(totals[k])
            }
        }
        // boundaries: the lowest total in each class (what reaches it)
        var lowest: [EnterpriseClass: Double] = [:]
        for k in 0..<n { lowest[classes[k]] = min(lowest[classes[k]] ?? .infinity, totals[k]) }
        for k in 0..<n {
            let i = members[k]
            let cls = classes[k]
            results[i].classBeforeVeto = cls
            switch rules.classes.mode {
            case .quota:
                results[i].reasons.append("总分 \(formatScore(totals[k]))，组内第 \(results[i].rank!)/\(n) 名，按比例评为 \(cls.rawValue) 类")
            case .score:
                results[i].reasons.append("总分 \(formatScore(totals[k]))，按分数线评为 \(cls.rawValue) 类")
            }
            let (final, vetoReasons) = applyVetoes(cls, kinds: records[i].vetoes)
            results[i].finalClass = final
            results[i].reasons += vetoReasons
            results[i].gap = gap(from: cls, total: totals[k], items: items[k], record: records[i], lowest: lowest)
        }
        return benchmarks
    }

    private func clamp(_ s: Double, weight: Double) -> Double {
        var s = max(s, rules.scoring.floor)
        if let cap = rules.scoring.cap { s = min(s, cap * weight) }
        return s
    }

    private func benchmark(_ group: EnterpriseGroup, _ indicator: Indicator, values: [Double?], members: [Int],
                           records: [EnterpriseRecord]) -> BenchmarkValue {
        let present = values.compactMap { $0 }
        var result = BenchmarkValue(group: group, indicator: indicator, mode: rules.benchmark.mode, value: nil,
                                    numeratorSum: nil, denominatorSum: nil, count: present.count, meanScore: 0)
        let v: Double?
        switch rules.benchmark.mode {
        case .aggregate:
            var num = 0.0, den = 0.0
            for (k, i) in members.enumerated() where values[k] != nil {
                num += indicator.numerator(records[i])!
                den += indicator.denominator(records[i])!
            }
            result.numeratorSum = num; result.denominatorSum = den
            v = present.isEmpty || den == 0 ? nil : num / den
        case .mean:
            v = present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
        case .median:
            let s = present.sorted()
            v = s.isEmpty ? nil : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
        case .fixed:
            v = rules.fixedBenchmark(group, indicator)
        }
        // a benchmark that is not positive cannot be divided by: every item scores as missing
        if let v, v > 0, v.isFinite { result.value = v }
        return result
    }

    /// Cumulative position limits of classes A, B, C for a group of n (round half up).
    func quotaLimits(_ n: Int) -> [Int] {
        ["A", "B", "C"].map { key in
            let share = rules.classes.quota[key] ?? 0
            return Int((share * Double(n) + 0.5 + 1e-9).rounded(.down))
        }
    }

    private func quotaClass(position p: Int, limits: [Int]) -> EnterpriseClass {
        if p <= limits[0] { return .A }
        if p <= limits[1] { return .B }
        if p <= limits[2] { return .C }
        return .D
    }

    private func scoreClass(_ total: Double) -> EnterpriseClass {
        for cls in [EnterpriseClass.A, .B, .C] {
            if let t = rules.scoreThreshold(cls), total >= t { return cls }
        }
        return .D
    }

    /// Applies the veto kinds: forced classes first (the worst of them), then at-best caps.
    func applyVetoes(_ cls: EnterpriseClass, kinds: [String]) -> (EnterpriseClass, [String]) {
        var final = cls
        var reasons: [String] = []
        var forced: EnterpriseClass?
        for kind in kinds {
            guard let rule = rules.vetoes[kind] else {
                reasons.append("一票否决：\(kind)（规则中未定义，未计）")
                continue
            }
            if let f = rule.force {
                forced = max(forced ?? f, f)
                reasons.append("一票否决：\(kind) → 直接评为 \(f.rawValue) 类")
            }
        }
        if let forced { final = forced }
        for kind in kinds {
            if let cap = rules.vetoes[kind]?.atBest {
                if final < cap { final = cap }
                reasons.append("一票否决：\(kind) → 最高评为 \(cap.rawValue) 类")
            }
        }
        if final != cls { reasons.append("否决前 \(cls.rawValue) 类，最终 \(final.rawValue) 类") }
        return (final, reasons)
    }

    private func gap(from cls: EnterpriseClass, total: Double, items: [IndicatorScore], record: EnterpriseRecord,
                     lowest: [EnterpriseClass: Double]) -> ClassGap? {
        var target = cls.better
        var boundary: Double?
        while let t = target {
            switch rules.classes.mode {
            case .quota: boundary = lowest[t]
            case .score: boundary = rules.scoreThreshold(t)
            }
            if boundary != nil { break }
            target = t.better
        }
        guard let target, let boundary else { return nil }
        let needed = max(boundary - total, 0)
        let perIndicator = items.map { item -> IndicatorGap in
            var g = IndicatorGap(indicator: item.indicator, current: item.value, target: nil, increase: nil, numeratorIncrease: nil)
            guard let b = item.benchmark, item.weight > 0 else { return g }
            let targetScore = item.score + needed
            if let cap = rules.scoring.cap, targetScore > cap * item.weight { return g }
            let tv = targetScore * b / item.weight
            g.target = tv
            if let cur = item.value {
                let inc = max(tv - cur, 0)
                g.increase = inc
                if let d = item.indicator.denominator(record), d > 0 { g.numeratorIncrease = inc * d }
            }
            return g
        }
        var barred: String?
        for kind in record.vetoes {
            guard let rule = rules.vetoes[kind] else { continue }
            if let f = rule.force, target < f { barred = kind; break }
            if let c = rule.atBest, target < c { barred = kind; break }
        }
        return ClassGap(target: target, boundary: boundary, pointsNeeded: needed, indicators: perIndicator, barredByVeto: barred)
    }

    private func applyPolicy(_ r: inout EnterpriseResult, history: [Int: EnterpriseClass], year: Int) {
        guard let cls = r.finalClass else { return }
        var consecutive = 1
        while history[year - consecutive] == cls { consecutive += 1 }
        guard let p = rules.policy(for: cls) else {
            r.policy = PolicyOutcome(electricitySurcharge: 0, energyQuotaFactor: nil, creditEligible: false,
                                     consecutiveYears: consecutive, other: [:])
            return
        }
        var surcharge = p.electricitySurcharge
        if let years = p.consecutiveYears, let s = p.consecutiveElectricitySurcharge, consecutive >= years {
            surcharge = s
            r.reasons.append("连续 \(consecutive) 年 \(cls.rawValue) 类，差别化电价加价 \(formatNumber(s)) 元/千瓦时")
        }
        r.policy = PolicyOutcome(electricitySurcharge: surcharge, energyQuotaFactor: p.energyQuotaFactor,
                                 creditEligible: p.creditEligible, consecutiveYears: consecutive, other: p.other)
    }
}

/// A number without trailing zeros: 3 → "3", 2.5 → "2.5".
public func formatNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    return String(x)
}

/// A score as shown: 2 decimals.
public func formatScore(_ x: Double) -> String { String(format: "%.2f", x) }
