import Foundation
import Testing
@testable import MujunCore

/// Hand-computed cases for every rule of EVALUATION.md.
@Suite struct EvaluatorTests {
    /// A valid credit code from a short tag, so records are easy to tell apart.
    static func code(_ n: Int) -> String {
        CreditCode.complete("91330784" + String(format: "%09d", n))
    }

    func below(_ n: Int, land: Double?, tax: Double?, kwh: Double?, vetoes: [String] = [], exempt: String? = nil) -> EnterpriseRecord {
        EnterpriseRecord(year: 2025, creditCode: Self.code(n), name: "企业\(n)", town: "古山镇", group: .below,
                         landMu: land, tax: tax, electricity: kwh, vetoes: vetoes, exempt: exempt)
    }

    func rules(_ patch: (inout Rules) -> Void) -> Rules {
        var r = Rules.default
        patch(&r)
        return r
    }

    func result(_ o: EvaluationOutcome, _ n: Int) -> EnterpriseResult {
        o.results.first { $0.creditCode == Self.code(n) }!
    }

    // Three 规下 enterprises, weights 50/50.
    // E1: land 10, tax 100, kwh 50  → 10 万元/亩, 2 万元/万kWh
    // E2: land 20, tax 100, kwh 100 → 5, 1
    // E3: land 10, tax 400, kwh 100 → 40, 4
    // aggregate benchmarks: 600/40 = 15, 600/250 = 2.4
    var three: [EnterpriseRecord] {
        [below(1, land: 10, tax: 100, kwh: 50), below(2, land: 20, tax: 100, kwh: 100), below(3, land: 10, tax: 400, kwh: 100)]
    }

    @Test func aggregateBenchmarkAndItemScores() {
        let o = Evaluator().evaluate(year: 2025, records: three)
        #expect(abs(o.benchmark(.below, .taxPerMu)!.value! - 15) < 1e-12)
        #expect(abs(o.benchmark(.below, .taxPerKwh)!.value! - 2.4) < 1e-12)
        let e1 = result(o, 1)
        #expect(abs(e1.items[0].score - 50 * 10 / 15) < 1e-9)
        #expect(abs(e1.totalScore! - 75) < 1e-9)
        #expect(abs(result(o, 2).totalScore! - 37.5) < 1e-9)
        #expect(abs(result(o, 3).totalScore! - (50 * 40 / 15 + 50 * 4 / 2.4)) < 1e-9)
        #expect(result(o, 3).rank == 1 && result(o, 1).rank == 2 && result(o, 2).rank == 3)
    }

    @Test func meanAndMedianBenchmarks() {
        let mean = Evaluator(rules: rules { $0.benchmark.mode = .mean }).evaluate(year: 2025, records: three)
        #expect(abs(mean.benchmark(.below, .taxPerMu)!.value! - 55.0 / 3) < 1e-12)
        let median = Evaluator(rules: rules { $0.benchmark.mode = .median }).evaluate(year: 2025, records: three)
        #expect(median.benchmark(.below, .taxPerMu)!.value! == 10)
        #expect(median.benchmark(.below, .taxPerKwh)!.value! == 2)
        // even count: mean of the middle two
        let four = three + [below(4, land: 10, tax: 200, kwh: 100)]  // 20 万元/亩
        let m4 = Evaluator(rules: rules { $0.benchmark.mode = .median }).evaluate(year: 2025, records: four)
        #expect(m4.benchmark(.below, .taxPerMu)!.value! == 15)
    }

    @Test func fixedBenchmarkFromRules() throws {
        let r = rules {
            $0.benchmark.mode = .fixed
            $0.benchmark.fixed = ["below": ["tax_per_mu": 20, "tax_per_kwh": 2], "above": Dictionary(uniqueKeysWithValues: Indicator.allCases.map { ($0.rawValue, 1.0) })]
        }
        let o = Evaluator(rules: r).evaluate(year: 2025, records: three)
        #expect(abs(result(o, 1).totalScore! - (50 * 10 / 20 + 50 * 2 / 2)) < 1e-9)
        // a fixed mode without the numbers is refused when the rules are read
        #expect(throws: RulesError.self) {
            _ = try Rules(yaml: defaultRulesYAML.replacingOccurrences(of: "mode: aggregate", with: "mode: fixed"))
        }
    }

    @Test func missingValueGetsGroupMeanItemScore() {
        // E4 has no electricity: its tax_per_kwh item = mean item score of E1..E3
        let recs = three + [below(4, land: 10, tax: 150, kwh: nil)]
        let o = Evaluator().evaluate(year: 2025, records: recs)
        // benchmarks: tax_per_mu over all four = 750/50 = 15; tax_per_kwh over E1..E3 only = 2.4
        let scores = [2.0, 1.0, 4.0].map { 50 * $0 / 2.4 }
        let mean = scores.reduce(0, +) / 3
        let e4 = result(o, 4)
        #expect(e4.items[1].missing)
        #expect(abs(e4.items[1].score - mean) < 1e-9)
        #expect(abs(e4.totalScore! - (50 * 15 / 15 + mean)) < 1e-9)
        #expect(e4.reasons.contains { $0.contains("单位电耗税收缺失") })
        // missing: zero
        let z = Evaluator(rules: rules { $0.scoring.missing = .zero }).evaluate(year: 2025, records: recs)
        #expect(result(z, 4).items[1].score == 0)
    }

    @Test func zeroDenominatorIsMissingNotADivision() {
        let recs = three + [below(4, land: 10, tax: 150, kwh: 0)]
        let o = Evaluator().evaluate(year: 2025, records: recs)
        let e4 = result(o, 4)
        #expect(e4.items[1].value == nil && e4.items[1].missing)
        #expect(e4.totalScore!.isFinite)
    }

    @Test func floorAndCap() {
        // a refund (negative tax) is floored at 0; a cap of 2 × weight holds the best item
        let recs = three + [below(4, land: 10, tax: -50, kwh: 100)]
        let o = Evaluator().evaluate(year: 2025, records: recs)
        #expect(result(o, 4).items.allSatisfy { $0.score >= 0 })
        #expect(result(o, 4).items[0].score == 0)
        let capped = Evaluator(rules: rules { $0.scoring.cap = 2 }).evaluate(year: 2025, records: three)
        #expect(result(capped, 3).items[0].score == 100)  // 133.3 capped at 2 × 50
        let floored = Evaluator(rules: rules { $0.scoring.floor = 5 }).evaluate(year: 2025, records: recs)
        #expect(result(floored, 4).items[0].score == 5)
    }

    /// n enterprises with distinct totals: enterprise i has tax 10·(n−i+1) on 10 mu.
    func ladder(_ n: Int, taxes: [Double]? = nil) -> [EnterpriseRecord] {
        (1...n).map { i in below(i, land: 10, tax: taxes?[i - 1] ?? Double(10 * (n - i + 1)), kwh: 10) }
    }

    @Test func quotaRoundsHalfUp() {
        let e = Evaluator()
        #expect(e.quotaLimits(10) == [2, 7, 10])   // 9.5 rounds up to 10: no D
        #expect(e.quotaLimits(5) == [1, 4, 5])     // 3.5 → 4, 4.75 → 5
        #expect(e.quotaLimits(3) == [1, 2, 3])     // 0.6 → 1, 2.1 → 2, 2.85 → 3
        #expect(e.quotaLimits(1) == [0, 1, 1])     // 0.2 → 0
        #expect(e.quotaLimits(30) == [6, 21, 29])  // 28.5 → 29
        let o = e.evaluate(year: 2025, records: ladder(10))
        let classes = (1...10).map { result(o, $0).finalClass! }
        #expect(classes == [.A, .A, .B, .B, .B, .B, .B, .C, .C, .C])
        let o20 = e.evaluate(year: 2025, records: ladder(20))
        #expect(o20.classCounts(.below) == [.A: 4, .B: 10, .C: 5, .D: 1])
    }

    @Test func tiesNeverSplitAcrossClasses() {
        // ten enterprises; #2 and #3 tie at the A/B boundary → both A; ranks 1,2,2,4
        var taxes = (1...10).map { Double(10 * (11 - $0)) }
        taxes[2] = taxes[1]
        let o = Evaluator().evaluate(year: 2025, records: ladder(10, taxes: taxes))
        #expect(result(o, 2).finalClass == .A && result(o, 3).finalClass == .A)
        #expect(result(o, 2).rank == 2 && result(o, 3).rank == 2 && result(o, 4).rank == 4)
        #expect(result(o, 4).finalClass == .B)
        // a tie spanning C/D: all three tied at the bottom of 20 take C
        var t20 = (1...20).map { Double(10 * (21 - $0)) }
        t20[19] = t20[18]
        let o20 = Evaluator().evaluate(year: 2025, records: ladder(20, taxes: t20))
        #expect(result(o20, 20).finalClass == .C)
    }

    @Test func scoreThresholdClasses() {
        let r = rules { $0.classes.mode = .score; $0.classes.score = ["A": 120, "B": 80, "C": 60] }
        let o = Evaluator(rules: r).evaluate(year: 2025, records: three)
        #expect(result(o, 3).finalClass == .A)   // 216.7
        #expect(result(o, 1).finalClass == .C)   // 75: below 80, at least 60
        #expect(result(o, 2).finalClass == .D)   // 37.5
        #expect(abs(result(o, 1).gap!.boundary - 80) < 1e-12)
    }

    @Test func vetoesForceAndCap() {
        var recs = ladder(10)
        recs[0].vetoes = ["重大安全生产事故"]   // A → D
        recs[1].vetoes = ["欠缴税款"]           // A → at best C
        recs[9].vetoes = ["欠缴税款"]           // C stays C
        recs[2].vetoes = ["欠缴税款", "违法用地"] // D
        let o = Evaluator().evaluate(year: 2025, records: recs)
        #expect(result(o, 1).classBeforeVeto == .A && result(o, 1).finalClass == .D)
        #expect(result(o, 2).finalClass == .C)
        #expect(result(o, 10).finalClass == .C)
        #expect(result(o, 3).finalClass == .D)
        #expect(result(o, 1).rank == 1)  // the rank is by score; the veto changes the class only
        #expect(result(o, 1).reasons.contains { $0.contains("重大安全生产事故") })
        #expect(o.classCounts(.below)[.A] == nil)
    }

    @Test func consecutiveYearsInD() {
        let recs = ladder(10)
        let r20 = ladder(20)
        let d = Self.code(20)
        let history: Evaluator.History = [d: [2024: .D, 2023: .D, 2021: .D]]
        let o = Evaluator().evaluate(year: 2025, records: r20, history: history)
        let res = o.results.first { $0.creditCode == d }!
        #expect(res.finalClass == .D)
        #expect(res.policy!.consecutiveYears == 3)
        #expect(res.policy!.electricitySurcharge == 0.4)
        // two years only: the ordinary D surcharge
        let o2 = Evaluator().evaluate(year: 2025, records: r20, history: [d: [2024: .D, 2022: .D]])
        #expect(o2.results.first { $0.creditCode == d }!.policy!.electricitySurcharge == 0.3)
        #expect(Evaluator().evaluate(year: 2025, records: recs).results[0].policy!.creditEligible)
    }

    @Test func exemptions() {
        let recs = three + [
            below(4, land: 10, tax: 100, kwh: 10, exempt: "新办企业"),
            below(5, land: 0, tax: 100, kwh: 10),
            below(6, land: nil, tax: 100, kwh: 10),
            below(7, land: 2.5, tax: 100, kwh: 10),
        ]
        let o = Evaluator().evaluate(year: 2025, records: recs)
        #expect(result(o, 4).exemptReason == "新办企业")
        #expect(result(o, 5).exemptReason == "无用地面积")
        #expect(result(o, 6).exemptReason == "无用地面积")
        #expect(result(o, 7).exemptReason == "用地面积不足3亩")
        for n in 4...7 { #expect(result(o, n).finalClass == nil && result(o, n).totalScore == nil) }
        // exempt enterprises do not move the benchmark
        #expect(abs(o.benchmark(.below, .taxPerMu)!.value! - 15) < 1e-12)
        #expect(result(o, 1).groupSize == 3)
        // 规上 with less than 3 mu is still evaluated
        var above = recs[6]; above.group = .above
        #expect(Evaluator().exemption(above) == nil)
    }

    @Test func gapToNextClassCloses() {
        let recs = ladder(10)
        let o = Evaluator().evaluate(year: 2025, records: recs)
        let e5 = result(o, 5)  // B; A's lowest total is #2
        let gap = e5.gap!
        #expect(gap.target == .A)
        #expect(abs(gap.boundary - result(o, 2).totalScore!) < 1e-9)
        #expect(abs(gap.pointsNeeded - (result(o, 2).totalScore! - e5.totalScore!)) < 1e-9)
        // raising tax per mu by the suggested amount reaches the boundary exactly
        let tpm = gap.indicators.first { $0.indicator == .taxPerMu }!
        let bench = o.benchmark(.below, .taxPerMu)!.value!
        let newItem = 50 * tpm.target! / bench
        #expect(abs(newItem - e5.items[0].score - gap.pointsNeeded) < 1e-9)
        #expect(abs(tpm.numeratorIncrease! - tpm.increase! * 10) < 1e-9)
        #expect(result(o, 1).gap == nil)  // A has no better class
    }

    @Test func deterministic() {
        let city = DemoCity(enterprises: 500, seed: TestSeed.seed(9))
        let recs = city.records(year: 2025, latestYear: 2025)
        let a = Evaluator().evaluate(year: 2025, records: recs)
        let b = Evaluator().evaluate(year: 2025, records: recs.reversed())
        for r in a.results {
            let s = b.results.first { $0.creditCode == r.creditCode }!
            #expect(s.totalScore == r.totalScore && s.finalClass == r.finalClass && s.rank == r.rank)
        }
    }
}

@Suite struct CreditCodeTests {
    @Test func checkCharacter() {
        #expect(CreditCode.isValid("91350100M000100Y43"))
        #expect(!CreditCode.isValid("91350100M000100Y44"))
        #expect(CreditCode.problem("91350100M000100Y4")!.en.contains("18"))
        #expect(CreditCode.problem("91350100M000100YI3")!.en.contains("invalid character"))
        #expect(CreditCode.problem("91350100M000100Y44")!.zh.contains("应为 3"))
    }
}

@Suite struct RulesTests {
    @Test func defaultsMatchTheDocument() {
        let r = Rules.default
        #expect(r.indicators(for: .above).map(\.1) == [30, 20, 20, 10, 10, 10])
        #expect(r.indicators(for: .below).map(\.0) == [.taxPerMu, .taxPerKwh])
        #expect(r.benchmark.mode == .aggregate && r.scoring.missing == .average && r.scoring.cap == nil)
        #expect(r.vetoes["欠缴税款"]?.atBest == .C && r.vetoes["违法用地"]?.force == .D)
        #expect(r.policy(for: .D)?.consecutiveElectricitySurcharge == 0.4)
        #expect(r.towns.count == 17)
    }

    @Test func badRulesAreNamed() {
        #expect(throws: RulesError.self) { try Rules(yaml: "weights: {above: {tax_per_mu: -1}}") }
        #expect(throws: RulesError.self) { try Rules(yaml: "weights: {above: {no_such: 1}}") }
        #expect(throws: RulesError.self) { try Rules(yaml: ": : :") }
        do {
            _ = try Rules(yaml: "weights: {middle: {tax_per_mu: 1}}")
            Issue.record("accepted an unknown group")
        } catch { #expect(error.description.contains("middle")) }
    }
}
