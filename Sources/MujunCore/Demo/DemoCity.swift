import Foundation

/// A small deterministic random generator (SplitMix64): the same seed gives the same city
/// on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-12), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
    /// Log-normal with the given median and spread (sigma of the log).
    public mutating func logNormal(median: Double, sigma: Double) -> Double { median * exp(sigma * normal()) }
    public mutating func chance(_ p: Double) -> Bool { unit() < p }
    public mutating func pick<T>(_ xs: [T]) -> T { xs[Int(next() % UInt64(xs.count))] }
}

/// The synthetic Yongkang of DEMO.md: invented enterprises with plausible figures,
/// deterministic for a seed. Used by `mujun demo`, the tests and the benchmarks.
public struct DemoCity: Sendable {
    public struct Enterprise: Sendable, Hashable {
        public var creditCode: String
        public var name: String
        public var town: String
        public var group: EnterpriseGroup
        public var industry: String
    }

    public var enterprises: [Enterprise]
    public let seed: UInt64
    /// per-enterprise base figures for the latest year, scaled for earlier years
    private var base: [Base]

    struct Base: Sendable {
        var landMu: Double, taxPerMu: Double, vaRatio: Double, revenueRatio: Double, rndShare: Double
        var vaPerTce: Double, vaPerEmission: Double, vaPerEmployee: Double, taxPerKwh: Double
        var growth: Double, missingEmissions: Bool, missingEnergy: Bool, exempt: String?, noLand: Bool
        var chronicVeto: String?
    }

    /// Towns with a weight for how many enterprises each holds.
    static let townWeights: [(String, Int)] = [
        ("经济开发区", 16), ("西城街道", 9), ("东城街道", 7), ("江南街道", 6), ("芝英街道", 8), ("石柱镇", 6),
        ("前仓镇", 5), ("舟山镇", 4), ("古山镇", 8), ("方岩镇", 3), ("龙山镇", 5), ("西溪镇", 4), ("象珠镇", 5),
        ("唐先镇", 4), ("花街镇", 4), ("城西新区", 6), ("现代农业装备高新区", 6),
    ]
    static let brands = Array("恒金永鼎华盛顺泰瑞丰宏达隆兴嘉和正昌联创新源锐欣佳美康威博远腾耀晟铭浩宇东方")
    static let products: [(String, String)] = [
        ("五金制品", "C3389"), ("工具", "C3321"), ("门业", "C3312"), ("杯业", "C3381"), ("厨具", "C3381"),
        ("电动工具", "C3465"), ("车业", "C3761"), ("电器", "C3857"), ("机械", "C3422"), ("金属材料", "C3399"),
        ("工贸", "C3389"), ("实业", "C3311"), ("锁业", "C3351"), ("休闲用品", "C2444"), ("汽配", "C3670"),
    ]
    static let suffixes = ["有限公司", "股份有限公司", "有限公司", "有限公司"]

    /// Builds a city of `enterprises` enterprises (about 15 % above designated size).
    public init(enterprises count: Int, seed: UInt64 = 1) {
        self.seed = seed
        var rng = SeededRandom(seed: seed)
        let totalWeight = Self.townWeights.reduce(0) { $0 + $1.1 }
        var codes = Set<String>()
        var names = Set<String>()
        enterprises = []
        base = []
        enterprises.reserveCapacity(count)
        base.reserveCapacity(count)
        for i in 0..<count {
            var w = Int(rng.next() % UInt64(totalWeight))
            var town = Self.townWeights[0].0
            for (t, tw) in Self.townWeights { if w < tw { town = t; break }; w -= tw }
            let above = rng.chance(0.15)
            var code: String
            repeat {
                var s = "91330784"
                for _ in 0..<9 { s.append(CreditCode.charset[Int(rng.next() % 31)]) }
                code = CreditCode.complete(s)
            } while !codes.insert(code).inserted
            let (product, industry) = rng.pick(Self.products)
            var name: String
            repeat {
                let b1 = rng.pick(Self.brands), b2 = rng.pick(Self.brands)
                name = "永康市\(b1)\(b2)\(product)\(rng.pick(Self.suffixes))"
                if names.contains(name) { name = "浙江\(b1)\(b2)\(product)\(i)号\(rng.pick(Self.suffixes))" }
            } while names.contains(name)
            names.insert(name)
            enterprises.append(Enterprise(creditCode: code, name: name, town: town,
                                          group: above ? .above : .below, industry: industry))
            let land = above ? rng.logNormal(median: 32, sigma: 0.7) : rng.logNormal(median: 7, sigma: 0.65)
            let exemptKinds = ["新办企业", "新供地未满3年", "政策性搬迁"]
            let vetoKinds = ["重大安全生产事故", "重大环境违法", "违法用地", "欠缴税款"]
            base.append(Base(
                landMu: (land * 100).rounded() / 100,
                taxPerMu: above ? rng.logNormal(median: 24, sigma: 0.55) : rng.logNormal(median: 12, sigma: 0.6),
                vaRatio: rng.logNormal(median: 3.6, sigma: 0.3),
                revenueRatio: rng.logNormal(median: 4.2, sigma: 0.25),
                rndShare: rng.chance(0.1) ? 0 : rng.logNormal(median: 0.025, sigma: 0.6),
                vaPerTce: rng.logNormal(median: 2.4, sigma: 0.6),
                vaPerEmission: rng.logNormal(median: 45, sigma: 0.7),
                vaPerEmployee: rng.logNormal(median: 22, sigma: 0.45),
                taxPerKwh: rng.logNormal(median: 0.9, sigma: 0.5),
                growth: rng.logNormal(median: 1.05, sigma: 0.12),
                missingEmissions: rng.chance(0.03), missingEnergy: rng.chance(0.01),
                exempt: rng.chance(0.015) ? rng.pick(exemptKinds) : nil,
                noLand: rng.chance(0.005),
                chronicVeto: rng.chance(0.004) ? rng.pick(vetoKinds) : nil))
        }
    }

    /// One year's data: the latest year is `latestYear`; earlier years are scaled back by each
    /// enterprise's growth, with fresh noise, refunds and vetoes.
    public func records(year: Int, latestYear: Int) -> [EnterpriseRecord] {
        var rng = SeededRandom(seed: seed &* 1_000_003 &+ UInt64(truncatingIfNeeded: year))
        let back = Double(latestYear - year)
        var out: [EnterpriseRecord] = []
        out.reserveCapacity(enterprises.count)
        for (e, b) in zip(enterprises, base) {
            let scale = pow(b.growth, -back) * rng.logNormal(median: 1, sigma: 0.08)
            var tax = b.taxPerMu * b.landMu * scale
            if rng.chance(0.025) { tax = -rng.logNormal(median: 0.05, sigma: 0.8) * abs(tax) }  // refunds
            let va = abs(b.taxPerMu * b.landMu * scale) * b.vaRatio
            let revenue = va * b.revenueRatio
            let employees = max(1, (va / b.vaPerEmployee).rounded())
            var vetoes: [String] = []
            if let v = b.chronicVeto { vetoes.append(v) }
            if rng.chance(0.006) { vetoes.append(rng.pick(["重大安全生产事故", "重大环境违法", "违法用地", "欠缴税款"])) }
            vetoes = Array(NSOrderedSet(array: vetoes)) as! [String]
            let exempt = year == latestYear || b.exempt == "政策性搬迁" ? b.exempt : nil
            out.append(EnterpriseRecord(
                year: year, creditCode: e.creditCode, name: e.name, town: e.town, group: e.group,
                industry: e.industry, landMu: b.noLand ? nil : b.landMu,
                tax: round2(tax), valueAdded: round2(va), revenue: round2(revenue),
                rnd: round2(revenue * b.rndShare),
                energyTce: b.missingEnergy ? nil : round2(va / b.vaPerTce),
                emissions: b.missingEmissions ? nil : round2(va / b.vaPerEmission),
                electricity: round2(abs(tax) / b.taxPerKwh + b.landMu * 0.5),
                employees: employees, vetoes: vetoes, exempt: exempt))
        }
        return out
    }

    private func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
}
