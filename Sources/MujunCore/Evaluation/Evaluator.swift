import Foundation

// The evaluation method: exemptions, benchmarks, scores, ranks, classes, vetoes, gaps and
// policies. Its fast sorts are in EvaluationSort.swift, its sentences (and the assembly of
// each result) in EvaluationReasons.swift.

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
        records.withUnsafeBufferPointer { evaluate(year: year, records: $0, history: history) }
    }

    /// The evaluation proper. Scores, benchmarks, ranks and classes are computed per group
    /// (in credit-code order wherever order matters, so every sum is as in a plain loop over
    /// the group in that order); then each result is built whole, in row order, on all cores.
    private func evaluate(year: Int, records: UnsafeBufferPointer<EnterpriseRecord>, history: History) -> EvaluationOutcome {
        let count = records.count
        let recordBase = records.baseAddress
        let smallLand = ReasonText.smallLand(minLandMu: rules.minLandMu)
        var exempt = [String?](repeating: nil, count: count)
        exempt.withUnsafeMutableBufferPointer { ep in
            Parallel.chunks(count) { range in
                let smallLand = String(decoding: Array(smallLand.utf8), as: UTF8.self)  // this thread's own copy
                for i in range {
                    let r = recordBase! + i
                    ep[i] = exemption(exempt: r.pointee.exempt, landMu: r.pointee.landMu, group: r.pointee.group,
                                      smallLand: smallLand)
                }
            }
        }
        let codeOrder = CodeOrder(records)
        var benchmarks: [BenchmarkValue] = []
        var groups: [GroupScores] = []
        // position of each evaluated record in its group's rows
        let position = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
        defer { position.deallocate() }
        for group in EnterpriseGroup.allCases {
            var rows: [Int] = []
            rows.reserveCapacity(count)
            for i in 0..<count where records[i].group == group && exempt[i] == nil {
                position[i] = rows.count
                rows.append(i)
            }
            let scores = scoreGroup(group, rows: rows, records: records, order: codeOrder)
            benchmarks += scores.benchmarks
            groups.append(scores)
        }
        let policies = EnterpriseClass.allCases.map { rules.policy(for: $0) }
        let firstGroup = groups[0].group  // EnterpriseGroup has two cases: index 0 or 1
        let noHistory = history.isEmpty
        let results = [EnterpriseResult](unsafeUninitializedCapacity: count) { buf, initialized in
            MemoryHint.hugePages(buf.baseAddress, bytes: count * MemoryLayout<EnterpriseResult>.stride)
            exempt.withUnsafeBufferPointer { exempt in
                Parallel.chunks(count) { range in
                    var builder = ResultBuilder(evaluator: self, year: year, policies: policies, groups: groups)
                    for i in range {
                        let r = recordBase! + i
                        if let reason = exempt[i] {
                            (buf.baseAddress! + i).initialize(to: builder.exempt(r, reason: reason))
                        } else {
                            let h = noHistory ? [:] : history[r.pointee.creditCode] ?? [:]
                            let g = r.pointee.group == firstGroup ? 0 : 1
                            (buf.baseAddress! + i).initialize(to: builder.evaluated(r, group: g, t: position[i], history: h))
                        }
                    }
                }
            }
            initialized = count
        }
        withExtendedLifetime(groups) {}
        return EvaluationOutcome(year: year, benchmarks: benchmarks, results: results)
    }

    /// Why a record is not evaluated (不参评原因), or nil when it is.
    public func exemption(_ r: EnterpriseRecord) -> String? {
        exemption(exempt: r.exempt, landMu: r.landMu, group: r.group,
                  smallLand: ReasonText.smallLand(minLandMu: rules.minLandMu))
    }

    /// ``exemption(_:)`` with the text for a too small area made once.
    @inline(__always)
    private func exemption(exempt: String?, landMu: Double?, group: EnterpriseGroup, smallLand: String) -> String? {
        if let exempt, case let e = FastText.trimmed(exempt), !e.isEmpty { return e }
        guard let land = landMu, land > 0 else { return ReasonText.noLand }
        if group == .below && land < rules.minLandMu { return smallLand }
        return nil
    }

    // MARK: - One group

    /// Scores one group: `rows` are its evaluated records in row order. The numbers are
    /// worked out in credit-code order (k), then handed over in row order (t), the order in
    /// which the results are built.
    private func scoreGroup(_ group: EnterpriseGroup, rows: [Int], records: UnsafeBufferPointer<EnterpriseRecord>,
                            order codeOrder: CodeOrder) -> GroupScores {
        let indicators = rules.indicators(for: group)
        let n = rows.count
        let m = indicators.count
        let average = rules.scoring.missing == .average
        let recordBase = records.baseAddress
        let scores = GroupScores(group: group, indicators: indicators, n: n)
        let ind = UnsafeBufferPointer(scores.indicators)
        // byCode[k] = the position t in `rows` of the k-th member in credit-code order
        let byCode = codeOrder.sortedPositions(rows, records)
        let members = byCode.map { rows[$0] }  // record indices in credit-code order
        // per indicator j and member k (credit-code order) at [j * n + k]
        let values = UnsafeMutableBufferPointer<Double?>.allocate(capacity: max(m * n, 1))
        let itemScores = UnsafeMutableBufferPointer<Double?>.allocate(capacity: max(m * n, 1))
        let numerators = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(m * n, 1))
        let denominators = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(m * n, 1))
        let totals = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(n, 1))
        let ranks = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(n, 1))
        let classes = UnsafeMutableBufferPointer<EnterpriseClass>.allocate(capacity: max(n, 1))
        defer {
            values.deallocate(); itemScores.deallocate(); numerators.deallocate(); denominators.deallocate()
            totals.deallocate(); ranks.deallocate(); classes.deallocate()
        }
        // the inputs, read from each record once
        members.withUnsafeBufferPointer { mp in
            Parallel.chunks(n) { range in
                for k in range {
                    let r = recordBase! + mp[k]
                    for j in 0..<m {
                        let num = ind[j].0.numerator(at: r), den = ind[j].0.denominator(at: r)
                        numerators[j * n + k] = num ?? 0
                        denominators[j * n + k] = den ?? 0
                        // as Indicator.value: missing when either is absent or the denominator is 0
                        if let num, let den, den != 0 { values[j * n + k] = num / den } else { values[j * n + k] = nil }
                    }
                }
            }
        }
        for j in 0..<m {
            let (indicator, weight) = ind[j]
            let vals = UnsafeBufferPointer(rebasing: values[(j * n)..<(j * n + n)])
            var bench = benchmark(group, indicator, values: vals,
                                  numerators: UnsafeBufferPointer(rebasing: numerators[(j * n)..<(j * n + n)]),
                                  denominators: UnsafeBufferPointer(rebasing: denominators[(j * n)..<(j * n + n)]))
            let b = bench.value
            var sum = 0.0, present = 0
            for k in 0..<n {
                guard let v = vals[k], let b else { itemScores[j * n + k] = nil; continue }
                let s = clamp(weight * v / b, weight: weight)
                itemScores[j * n + k] = s; sum += s; present += 1
            }
            let fill: Double = (average && present > 0) ? sum / Double(present) : 0
            bench.meanScore = present > 0 ? sum / Double(present) : 0
            scores.benchmarks.append(bench)
            scores.benchmarkValues[j] = b
            scores.fills[j] = fill
            scores.missingReasons.append(ReasonText.missing(indicator, average: average, fill: fill))
        }
        // totals: the item scores in indicator order, then the bonus
        let bonusRules = rules.bonus
        let fills = UnsafeBufferPointer(scores.fills)
        members.withUnsafeBufferPointer { mp in
            Parallel.chunks(n) { range in
                let bonusRules = bonusRules.map { $0 }
                for k in range {
                    var total = 0.0
                    for j in 0..<m { total += itemScores[j * n + k] ?? fills[j] }
                    var bonus = 0.0
                    for rule in bonusRules {
                        if let v = rule.indicator.value(at: recordBase! + mp[k]), v >= rule.atLeast { bonus += rule.points }
                    }
                    total += bonus
                    totals[k] = total
                }
            }
        }
        // rank: descending total, ties share a rank; listing order ties broken by credit code
        var order: [RankEntry]
        if !UnsafeBufferPointer(rebasing: totals[0..<n]).contains(where: \.isNaN) {
            // Equal totals keep credit-code order, which is k order (a stable sort of 0..<n
            // by "total descending, then code" leaves equal codes in k order too): a stable
            // radix sort on the descending total gives the very same order.
            var keys = [UInt64](repeating: 0, count: n)
            for k in 0..<n { keys[k] = ~RadixSort.ascendingKey(totals[k]) }
            var ks = Array(0..<n)
            RadixSort.sort(&keys, &ks)
            order = ks.map { RankEntry(total: totals[$0], k: $0) }
        } else {
            order = (0..<n).map { RankEntry(total: totals[$0], k: $0) }
            order.sort { x, y in
                x.total != y.total ? x.total > y.total : codeOrder.less(members[x.k], members[y.k], records)
            }
        }
        let limits = quotaLimits(n)
        var rank = 0
        for position in 0..<n {
            let k = order[position].k
            let p = position + 1
            let tiedWithPrevious = position > 0 && order[position - 1].total == order[position].total
            if !tiedWithPrevious { rank = p }
            ranks[k] = rank
            switch rules.classes.mode {
            case .quota:
                // ties never split across classes: an equal total takes the better class
                classes[k] = tiedWithPrevious ? classes[order[position - 1].k] : quotaClass(position: p, limits: limits)
            case .score:
                classes[k] = scoreClass(totals[k])
            }
        }
        // boundaries: the lowest total in each class (what reaches it)
        var lowest = ClassBoundaries()
        for k in 0..<n {
            let o = classes[k].order
            lowest[o] = min(lowest[o] ?? .infinity, totals[k])
        }
        scores.lowest = lowest
        // hand over in row order
        var kOf = [Int](repeating: 0, count: n)
        for k in 0..<n { kOf[byCode[k]] = k }
        kOf.withUnsafeBufferPointer { kp in
            Parallel.chunks(n) { range in
                for t in range {
                    let k = kp[t]
                    for j in 0..<m {
                        scores.values[j * n + t] = values[j * n + k]
                        scores.scores[j * n + t] = itemScores[j * n + k]
                    }
                    scores.totals[t] = totals[k]
                    scores.ranks[t] = ranks[k]
                    scores.classes[t] = classes[k]
                }
            }
        }
        return scores
    }

    private func clamp(_ s: Double, weight: Double) -> Double {
        var s = max(s, rules.scoring.floor)
        if let cap = rules.scoring.cap { s = min(s, cap * weight) }
        return s
    }

    /// The benchmark of an indicator; `values` (nil = missing), `numerators` and
    /// `denominators` are the members' in credit-code order.
    private func benchmark(_ group: EnterpriseGroup, _ indicator: Indicator, values: UnsafeBufferPointer<Double?>,
                           numerators: UnsafeBufferPointer<Double>, denominators: UnsafeBufferPointer<Double>) -> BenchmarkValue {
        let mode = rules.benchmark.mode
        var count = 0
        for value in values where value != nil { count += 1 }
        let present = mode == .mean || mode == .median ? values.compactMap { $0 } : []
        var result = BenchmarkValue(group: group, indicator: indicator, mode: mode, value: nil,
                                    numeratorSum: nil, denominatorSum: nil, count: count, meanScore: 0)
        let v: Double?
        switch mode {
        case .aggregate:
            var num = 0.0, den = 0.0
            for k in values.indices where values[k] != nil {
                num += numerators[k]
                den += denominators[k]
            }
            result.numeratorSum = num; result.denominatorSum = den
            v = count == 0 || den == 0 ? nil : num / den
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
                reasons.append(ReasonText.vetoUndefined(kind))
                continue
            }
            if let f = rule.force {
                forced = max(forced ?? f, f)
                reasons.append(ReasonText.vetoForces(kind, f))
            }
        }
        if let forced { final = forced }
        for kind in kinds {
            if let cap = rules.vetoes[kind]?.atBest {
                if final < cap { final = cap }
                reasons.append(ReasonText.vetoCaps(kind, cap))
            }
        }
        if final != cls { reasons.append(ReasonText.vetoed(from: cls, to: final)) }
        return (final, reasons)
    }

    /// How far a result is from the next better class that any total reaches.
    func gap(from cls: EnterpriseClass, total: Double, items: [IndicatorScore],
             record: UnsafePointer<EnterpriseRecord>, lowest: ClassBoundaries) -> ClassGap? {
        var target = cls.better
        var boundary: Double?
        while let t = target {
            switch rules.classes.mode {
            case .quota: boundary = lowest[t.order]
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
                if let d = item.indicator.denominator(at: record), d > 0 { g.numeratorIncrease = inc * d }
            }
            return g
        }
        var barred: String?
        for kind in record.pointee.vetoes {
            guard let rule = rules.vetoes[kind] else { continue }
            if let f = rule.force, target < f { barred = kind; break }
            if let c = rule.atBest, target < c { barred = kind; break }
        }
        return ClassGap(target: target, boundary: boundary, pointsNeeded: needed, indicators: perIndicator, barredByVeto: barred)
    }

    /// The policy of a final class (and the reason added when consecutive years change it).
    func policy(_ cls: EnterpriseClass, history: [Int: EnterpriseClass], year: Int,
                policies: [PolicyEntry?]) -> (PolicyOutcome, String?) {
        var consecutive = 1
        if !history.isEmpty {
            while history[year - consecutive] == cls { consecutive += 1 }
        }
        guard let p = policies[cls.order] else {
            return (PolicyOutcome(electricitySurcharge: 0, energyQuotaFactor: nil, creditEligible: false,
                                  consecutiveYears: consecutive, other: [:]), nil)
        }
        var surcharge = p.electricitySurcharge
        var reason: String?
        if let years = p.consecutiveYears, let s = p.consecutiveElectricitySurcharge, consecutive >= years {
            surcharge = s
            reason = ReasonText.consecutive(years: consecutive, cls, surcharge: s)
        }
        return (PolicyOutcome(electricitySurcharge: surcharge, energyQuotaFactor: p.energyQuotaFactor,
                              creditEligible: p.creditEligible, consecutiveYears: consecutive, other: p.other), reason)
    }
}

/// What scoring a group gave, per member (indexed like the group's rows, in row order).
/// The per-member tables live in plain memory so that threads can read them through
/// ``GroupView`` without touching reference counts.
final class GroupScores {
    let group: EnterpriseGroup
    let indicators: UnsafeMutableBufferPointer<(Indicator, Double)>
    let n: Int
    let m: Int
    var benchmarks: [BenchmarkValue] = []
    /// value and score of member t for indicator j at [j * n + t] (nil = missing)
    let values: UnsafeMutableBufferPointer<Double?>
    let scores: UnsafeMutableBufferPointer<Double?>
    let benchmarkValues: UnsafeMutableBufferPointer<Double?>
    /// per indicator: the score a missing value gets, and the reason given for it
    let fills: UnsafeMutableBufferPointer<Double>
    var missingReasons: [String] = []
    let totals: UnsafeMutableBufferPointer<Double>
    let ranks: UnsafeMutableBufferPointer<Int>
    let classes: UnsafeMutableBufferPointer<EnterpriseClass>
    var lowest = ClassBoundaries()

    init(group: EnterpriseGroup, indicators: [(Indicator, Double)], n: Int) {
        self.group = group
        self.n = n
        let m = indicators.count
        self.m = m
        self.indicators = .allocate(capacity: max(m, 1))
        _ = self.indicators.initialize(from: indicators)
        // (plain values, every one written by the scoring before it is read)
        values = .allocate(capacity: max(m * n, 1))
        scores = .allocate(capacity: max(m * n, 1))
        benchmarkValues = .allocate(capacity: max(m, 1))
        benchmarkValues.initialize(repeating: nil)
        fills = .allocate(capacity: max(m, 1))
        fills.initialize(repeating: 0)
        totals = .allocate(capacity: max(n, 1))
        ranks = .allocate(capacity: max(n, 1))
        classes = .allocate(capacity: max(n, 1))
    }

    deinit {
        indicators.deallocate(); values.deallocate(); scores.deallocate(); benchmarkValues.deallocate()
        fills.deallocate(); totals.deallocate(); ranks.deallocate(); classes.deallocate()
    }

    var view: GroupView {
        GroupView(n: n, m: m, indicators: UnsafeBufferPointer(indicators),
                  values: UnsafeBufferPointer(values), scores: UnsafeBufferPointer(scores),
                  benchmarkValues: UnsafeBufferPointer(benchmarkValues), fills: UnsafeBufferPointer(fills),
                  totals: UnsafeBufferPointer(totals), ranks: UnsafeBufferPointer(ranks),
                  classes: UnsafeBufferPointer(classes), lowest: lowest)
    }
}

/// Read-only access to a ``GroupScores`` (valid while it lives).
struct GroupView {
    let n: Int
    let m: Int
    let indicators: UnsafeBufferPointer<(Indicator, Double)>
    let values: UnsafeBufferPointer<Double?>
    let scores: UnsafeBufferPointer<Double?>
    let benchmarkValues: UnsafeBufferPointer<Double?>
    let fills: UnsafeBufferPointer<Double>
    let totals: UnsafeBufferPointer<Double>
    let ranks: UnsafeBufferPointer<Int>
    let classes: UnsafeBufferPointer<EnterpriseClass>
    let lowest: ClassBoundaries
}

/// The lowest total of each class, by ``EnterpriseClass/order``.
struct ClassBoundaries {
    private var a: Double?, b: Double?, c: Double?, d: Double?
    subscript(_ order: Int) -> Double? {
        get { order == 0 ? a : order == 1 ? b : order == 2 ? c : d }
        set {
            switch order {
            case 0: a = newValue
            case 1: b = newValue
            case 2: c = newValue
            default: d = newValue
            }
        }
    }
}
