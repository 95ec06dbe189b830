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
        var results = [EnterpriseResult](unsafeUninitializedCapacity: records.count) { buf, initialized in
            for (i, r) in records.enumerated() {
                (buf.baseAddress! + i).initialize(to: EnterpriseResult(
                    year: year, creditCode: r.creditCode, name: r.name, town: r.town, group: r.group,
                    industry: r.industry, landMu: r.landMu, evaluated: false, exemptReason: exemption(r),
                    items: [], bonus: 0, bonusReasons: [], totalScore: nil, rank: nil, groupSize: 0,
                    classBeforeVeto: nil, finalClass: nil, vetoes: r.vetoes, reasons: [], policy: nil, gap: nil))
                initialized = i + 1
            }
        }
        let order = CodeOrder(records)
        var benchmarks: [BenchmarkValue] = []
        for group in EnterpriseGroup.allCases {
            // credit-code order makes every sum independent of the input's row order
            var members: [Int] = []
            members.reserveCapacity(records.count)
            for i in records.indices where records[i].group == group && results[i].exemptReason == nil { members.append(i) }
            order.sort(&members, records)
            benchmarks += scoreGroup(group, members: members, records: records, order: order, results: &results)
        }
        let policies = EnterpriseClass.allCases.map { rules.policy(for: $0) }
        results.withUnsafeMutableBufferPointer { rp in
            Parallel.chunks(rp.count) { range in
                for i in range {
                    if let reason = rp[i].exemptReason {
                        rp[i].reasons.append("不参评：\(reason)")
                    } else {
                        let h = history.isEmpty ? [:] : history[records[i].creditCode] ?? [:]
                        applyPolicy(&rp[i], history: h, year: year, policies: policies)
                    }
                }
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

    private func scoreGroup(_ group: EnterpriseGroup, members: [Int], records: [EnterpriseRecord], order codeOrder: CodeOrder,
                            results: inout [EnterpriseResult]) -> [BenchmarkValue] {
        let indicators = rules.indicators(for: group)
        let n = members.count
        let m = indicators.count
        let average = rules.scoring.missing == .average
        var benchmarks: [BenchmarkValue] = []
        // per indicator: the members' values and scores (nil = missing), the benchmark and the
        // score a missing value gets
        var values = [[Double?]]()
        var scores = [[Double?]]()
        var benchValues = [Double?]()
        var fills = [Double]()
        var missingReasons = [String]()
        for (indicator, weight) in indicators {
            var vals = [Double?](repeating: nil, count: n)
            vals.withUnsafeMutableBufferPointer { vp in
                Parallel.chunks(n) { range in
                    for k in range { vp[k] = indicator.value(records[members[k]]) }
                }
            }
            var bench = benchmark(group, indicator, values: vals, members: members, records: records)
            let b = bench.value
            var sum = 0.0, count = 0
            var sc = [Double?](repeating: nil, count: n)
            if let b {
                for k in 0..<n {
                    guard let v = vals[k] else { continue }
                    let s = clamp(weight * v / b, weight: weight)
                    sc[k] = s; sum += s; count += 1
                }
            }
            let fill: Double = (average && count > 0) ? sum / Double(count) : 0
            bench.meanScore = count > 0 ? sum / Double(count) : 0
            benchmarks.append(bench)
            values.append(vals); scores.append(sc); benchValues.append(b); fills.append(fill)
            let how = average ? "按组内平均得分 \(formatScore(fill)) 计" : "记 0 分"
            missingReasons.append("\(indicator.chinese)缺失，\(how)")
        }
        let bonusTexts = rules.bonus.map { "\($0.name) +\(formatNumber($0.points))" }
        // items and totals
        var totals = [Double](repeating: 0, count: n)
        var itemsOf = [[IndicatorScore]](repeating: [], count: n)
        results.withUnsafeMutableBufferPointer { rp in
            totals.withUnsafeMutableBufferPointer { tp in
                itemsOf.withUnsafeMutableBufferPointer { ip in
                    Parallel.chunks(n) { range in
                        for k in range {
                            let i = members[k]
                            let items = [IndicatorScore](unsafeUninitializedCapacity: m) { buf, initialized in
                                for j in 0..<m {
                                    let s = scores[j][k]
                                    (buf.baseAddress! + j).initialize(to: IndicatorScore(
                                        indicator: indicators[j].0, weight: indicators[j].1, value: values[j][k],
                                        benchmark: benchValues[j], score: s ?? fills[j], missing: s == nil))
                                }
                                initialized = m
                            }
                            var total = 0.0
                            for item in items { total += item.score }
                            var bonus = 0.0
                            for (r, rule) in rules.bonus.enumerated() {
                                if let v = rule.indicator.value(records[i]), v >= rule.atLeast {
                                    bonus += rule.points
                                    rp[i].bonusReasons.append(bonusTexts[r])
                                }
                            }
                            total += bonus
                            tp[k] = total
                            ip[k] = items
                            rp[i].evaluated = true
                            rp[i].items = items
                            rp[i].bonus = bonus
                            rp[i].totalScore = total
                            rp[i].groupSize = n
                            for j in 0..<m where items[j].missing {
                                rp[i].reasons.append(missingReasons[j])
                            }
                        }
                    }
                }
            }
        }
        values = []; scores = []
        // rank: descending total, ties share a rank; listing order ties broken by credit code
        let order = (0..<n).sorted { a, b in
            totals[a] != totals[b] ? totals[a] > totals[b] : codeOrder.less(members[a], members[b], records)
        }
        var classes = [EnterpriseClass](repeating: .D, count: n)
        var ranks = [Int](repeating: 0, count: n)
        let limits = quotaLimits(n)
        var rank = 0
        for (position, k) in order.enumerated() {
            let p = position + 1
            let tiedWithPrevious = position > 0 && totals[order[position - 1]] == totals[k]
            if !tiedWithPrevious { rank = p }
            ranks[k] = rank
            switch rules.classes.mode {
            case .quota:
                // ties never split across classes: an equal total takes the better class
                classes[k] = tiedWithPrevious ? classes[order[position - 1]] : quotaClass(position: p, limits: limits)
            case .score:
                classes[k] = scoreClass(totals[k])
            }
        }
        // boundaries: the lowest total in each class (what reaches it)
        var lowestByOrder = [Double?](repeating: nil, count: 4)
        for k in 0..<n {
            let o = classes[k].order
            lowestByOrder[o] = min(lowestByOrder[o] ?? .infinity, totals[k])
        }
        let lowest = lowestByOrder
        let mode = rules.classes.mode
        results.withUnsafeMutableBufferPointer { rp in
            Parallel.chunks(n) { range in
                var text: [UInt8] = []
                text.reserveCapacity(128)
                for k in range {
                    let i = members[k]
                    let cls = classes[k]
                    rp[i].rank = ranks[k]
                    rp[i].classBeforeVeto = cls
                    text.removeAll(keepingCapacity: true)
                    text += Self.totalPrefix
                    FastFormat.appendFixed2(totals[k], to: &text)
                    switch mode {
                    case .quota:
                        // "总分 \(score)，组内第 \(rank)/\(n) 名，按比例评为 \(cls) 类"
                        text += Self.rankPrefix
                        FastFormat.appendInt(ranks[k], to: &text)
                        text.append(0x2F)
                        FastFormat.appendInt(n, to: &text)
                        text += Self.quotaInfix
                    case .score:
                        // "总分 \(score)，按分数线评为 \(cls) 类"
                        text += Self.scoreInfix
                    }
                    text += cls.rawValue.utf8
                    text += Self.classSuffix
                    rp[i].reasons.append(String(decoding: text, as: UTF8.self))
                    let kinds = records[i].vetoes
                    if kinds.isEmpty {
                        rp[i].finalClass = cls
                    } else {
                        let (final, vetoReasons) = applyVetoes(cls, kinds: kinds)
                        rp[i].finalClass = final
                        rp[i].reasons += vetoReasons
                    }
                    rp[i].gap = gap(from: cls, total: totals[k], items: itemsOf[k], record: records[i], lowest: lowest)
                }
            }
        }
        return benchmarks
    }

    private static let totalPrefix = Array("总分 ".utf8)
    private static let rankPrefix = Array("，组内第 ".utf8)
    private static let quotaInfix = Array(" 名，按比例评为 ".utf8)
    private static let scoreInfix = Array("，按分数线评为 ".utf8)
    private static let classSuffix = Array(" 类".utf8)

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
                     lowest: [Double?]) -> ClassGap? {
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

    private func applyPolicy(_ r: inout EnterpriseResult, history: [Int: EnterpriseClass], year: Int,
                             policies: [ClassPolicy?]) {
        guard let cls = r.finalClass else { return }
        var consecutive = 1
        if !history.isEmpty {
            while history[year - consecutive] == cls { consecutive += 1 }
        }
        guard let p = policies[cls.order] else {
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
public func formatScore(_ x: Double) -> String { FastFormat.fixed2(x) }

/// The canonical order of records: by credit code (String order). When every code is ASCII,
/// String order is byte order, so codes are compared by their first 16 bytes packed into
/// two big-endian integers, and as Strings only when those are equal.
struct CodeOrder: Sendable {
    private let keys: [CodeSortKey]?

    init(_ records: [EnterpriseRecord]) {
        var keys = [CodeSortKey]()
        keys.reserveCapacity(records.count)
        for r in records {
            var code = r.creditCode
            let key: CodeSortKey? = code.withUTF8 { buf in
                var a: UInt64 = 0, b: UInt64 = 0
                for j in 0..<16 {
                    let byte: UInt64
                    if j < buf.count {
                        guard buf[j] < 0x80 else { return nil }
                        byte = UInt64(buf[j])
                    } else {
                        byte = 0
                    }
                    if j < 8 { a = a << 8 | byte } else { b = b << 8 | byte }
                }
                for j in 16..<max(buf.count, 16) where buf[j] >= 0x80 { return nil }
                return CodeSortKey(a: a, b: b)
            }
            guard let key else { self.keys = nil; return }
            keys.append(key)
        }
        self.keys = keys
    }

    /// Whether record `x`'s code comes before record `y`'s (`<` on the codes).
    @inline(__always)
    func less(_ x: Int, _ y: Int, _ records: [EnterpriseRecord]) -> Bool {
        if let keys {
            let p = keys[x], q = keys[y]
            if p.a != q.a { return p.a < q.a }
            if p.b != q.b { return p.b < q.b }
        }
        return records[x].creditCode < records[y].creditCode
    }

    func sort(_ indices: inout [Int], _ records: [EnterpriseRecord]) {
        indices.sort { less($0, $1, records) }
    }
}

struct CodeSortKey: Sendable {
    var a: UInt64
    var b: UInt64
}

/// Splits index ranges over the cores for loops whose iterations are independent.
enum Parallel {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body` with consecutive ranges that together cover `0..<n`, concurrently when
    /// `n` is large enough to be worth it.
    static func chunks(_ n: Int, minimum: Int = 16_384, _ body: (Range<Int>) -> Void) {
        let parts = min(cores, n / minimum)
        if parts <= 1 { body(0..<n); return }
        DispatchQueue.concurrentPerform(iterations: parts) { t in
            body((t * n / parts)..<((t + 1) * n / parts))
        }
    }
}
