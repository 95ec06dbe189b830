import Foundation
import Vapor
import SQLKit
import MujunCore
import MujunStore

/// What `mujun demo` adds beyond the figures: one account per role, publication states, and
/// consents to the credit list — so a newcomer sees a living system.
public enum DemoSetup {
    public struct Login: Sendable {
        public var login: String
        public var password: String
        public var role: Role
        public var note: String
    }

    /// Demo-only passwords, printed by `make run`; never use them for real data.
    public static func accounts(city: DemoCity, evaluatedTown: String = "古山镇") -> [(login: String, name: String, unit: String, role: Role, town: String?, code: String?, password: String)] {
        let ent = city.enterprises.first { $0.town == evaluatedTown && $0.group == .above } ?? city.enterprises[0]
        return [
            ("admin", "系统管理员", "市大数据中心", .admin, nil, nil, "Admin#2025demo"),
            ("hq", "指挥部值班员", "五金产业转型升级指挥部", .headquarters, nil, nil, "Hq#2025demo"),
            ("tax", "税务局数据专员", "市税务局", .department, nil, nil, "Tax#2025demo"),
            ("gushan", "古山镇经发办", "古山镇人民政府", .town, "古山镇", nil, "Town#2025demo"),
            ("qiye", ent.name, ent.name, .enterprise, nil, ent.creditCode, "Ent#2025demo"),
            ("bank", "农商银行客户经理", "永康农商银行", .bank, nil, nil, "Bank#2025demo"),
            ("daibiao", "人大代表", "市人大代表", .requester, nil, nil, "Rep#2025demo"),
        ]
    }

    /// Creates the accounts (skipping existing ones), publishes earlier years as final and the
    /// latest year into a publicity period around today, and records consents of about two
    /// thirds of the A/B enterprises. Returns the logins to print.
    public static func load(store: Store, city: DemoCity, years: [Int], rules: Rules, bcryptCost: Int = 10,
                            today: Date = Date()) async throws -> [Login] {
        var logins: [Login] = []
        for a in accounts(city: city) {
            if try await store.user(login: a.login) == nil {
                _ = try await AccountTools.createUser(store: store, login: a.login, displayName: a.name, unit: a.unit, role: a.role,
                                                      town: a.town, creditCode: a.code, password: a.password, mustChange: false,
                                                      towns: rules.towns, bcryptCost: bcryptCost, actor: "demo")
            }
            let note = [a.unit, a.town, a.code].compactMap { $0 }.joined(separator: "，")
            logins.append(Login(login: a.login, password: a.password, role: a.role, note: note))
        }
        let sorted = years.sorted()
        let day = DateFormatter()
        day.dateFormat = "yyyy-MM-dd"
        day.timeZone = TimeZone(identifier: "Asia/Shanghai")
        for y in sorted.dropLast() {
            try await store.setPublication(year: y, status: .final, start: "\(y + 1)-04-01", end: "\(y + 1)-04-10", actor: "demo")
        }
        if let last = sorted.last {
            try await store.setPublication(year: last, status: .publicity, start: day.string(from: today.addingTimeInterval(-3 * 86400)),
                                           end: day.string(from: today.addingTimeInterval(7 * 86400)), actor: "demo")
        }
        var rng = SeededRandom(seed: city.seed &+ 77)
        for e in city.enterprises where rng.chance(0.65) {
            try await store.sql.insert(into: "consents").columns("credit_code", "consent", "updated_by", "updated_at")
                .values(SQLBind(e.creditCode), SQLBind(true), SQLBind("demo"), SQLBind(today))
                .onConflict(with: ["credit_code"]) { $0.set(excludedValueOf: "consent") }
                .run()
        }
        if let last = sorted.last, try await store.appeals(year: last, scope: .all).isEmpty {
            try await demoAppeals(store: store, city: city, year: last, rules: rules)
        }
        return logins
    }

    /// Four appeals of 古山镇 enterprises in the latest year, one per stage of the loop:
    /// upheld and replied (with the result before and after; the demo enterprise `qiye` can
    /// rate it), rejected and closed with a rating, accepted, and just filed (also `qiye`).
    static func demoAppeals(store: Store, city: DemoCity, year: Int, rules: Rules) async throws {
        let town = "古山镇"
        guard let qiye = accounts(city: city, evaluatedTown: town).first(where: { $0.login == "qiye" })?.code else { return }
        let run = try await store.currentRun(year: year)
        let yaml = run?.rulesYAML ?? defaultRulesYAML
        let runRules = (try? Rules(yaml: yaml)) ?? rules
        let records = try await store.records(year: year).filter { $0.town == town && ($0.landMu ?? 0) > 0 }
        let evaluated = Set(try await store.fullResults(.init(year: year, town: town)).filter(\.evaluated).map(\.creditCode))
        let candidates = records.filter { evaluated.contains($0.creditCode) }
        guard let own = candidates.first(where: { $0.creditCode == qiye }) else { return }
        let others = candidates.filter { $0.creditCode != qiye }
        guard let second = others.first(where: { $0.tax != nil }),
              let third = others.last(where: { $0.energyTce != nil && $0.creditCode != second.creditCode }) else { return }
        func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }
        // a minimal one-page PDF standing in for the certificate
        let pdf = Data("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".utf8)

        // 1. qiye: land area, upheld → corrected and re-evaluated, replied (waits for its rating)
        let land = own.landMu ?? 0
        let claimedLand = round1(land * 0.85)
        let upheld = try await store.fileAppeal(
            year: year, creditCode: own.creditCode, town: town, field: .landMu, currentValue: own.landMu, claimedValue: claimedLand,
            reason: "本企业东侧约 \(formatNumber(round1(land - claimedLand))) 亩厂房已于上年度退还园区，不动产权证书已变更，请按变更后的登记面积计算用地面积。",
            attachmentName: "不动产权证书（变更后）.pdf", attachment: pdf, actor: "qiye")
        try await store.moveAppeal(id: upheld, to: .accepted, actor: "hq", note: "已签收，转自然资源和规划局核对不动产登记信息")
        try await store.decideAppeal(id: upheld, outcome: .upheld,
                                     answer: "经自然资源和规划局核对，企业东侧厂房已退还园区并完成不动产登记变更，支持申诉，用地面积按变更后的登记面积计算。\n（已将\(AppealField.landMu.chinese)更正为 \(formatNumber(claimedLand))，并重新评价。）",
                                     correctedValue: claimedLand, rules: runRules, rulesYAML: yaml, actor: "hq")

        // 2. another enterprise: tax, rejected, rated and closed
        let tax = second.tax ?? 0
        let rejected = try await store.fileAppeal(
            year: year, creditCode: second.creditCode, town: town, field: .tax, currentValue: second.tax,
            claimedValue: round1(tax * 1.2 + 10),
            reason: "本年度部分税款由集团总部汇总缴纳，应计入本企业评价税收。", attachmentName: nil, attachment: nil, actor: "demo")
        try await store.moveAppeal(id: rejected, to: .accepted, actor: "hq", note: nil)
        try await store.decideAppeal(id: rejected, outcome: .rejected,
                                     answer: "经市税务局核实，总部汇总缴纳的税款按规定计入总部所在地企业，不计入本企业评价税收，驳回申诉。",
                                     correctedValue: nil, rules: runRules, rulesYAML: yaml, actor: "hq")
        try await store.rateAppeal(id: rejected, rating: 3, actor: "demo")

        // 3. a third enterprise: energy use, accepted and being checked
        let energy = third.energyTce ?? 0
        let accepted = try await store.fileAppeal(
            year: year, creditCode: third.creditCode, town: town, field: .energyTce, currentValue: third.energyTce,
            claimedValue: round1(energy * 0.8),
            reason: "能耗数据误将同一园区内另一企业的天然气用量计入本企业，请核减。", attachmentName: nil, attachment: nil, actor: "demo")
        try await store.moveAppeal(id: accepted, to: .accepted, actor: "hq", note: "已签收，请发改局核对能耗在线监测数据")

        // 4. qiye: employees, just filed
        let employees = own.employees ?? 0
        _ = try await store.fileAppeal(
            year: year, creditCode: own.creditCode, town: town, field: .employees, currentValue: own.employees,
            claimedValue: (employees + 12).rounded(),
            reason: "年平均职工人数漏报了 12 名劳务派遣人员，社保缴纳记录可证明。", attachmentName: nil, attachment: nil, actor: "qiye")
    }

    /// The lines `make run` prints.
    public static func describe(_ logins: [Login], url: String = "http://127.0.0.1:8080") -> String {
        var lines = ["亩均 Mujun 演示账号（仅用于演示数据）/ demo logins — \(url)"]
        for l in logins {
            lines.append("  \(l.role.chinese.padding(toLength: 6, withPad: "　", startingAt: 0)) 用户名 \(l.login.padding(toLength: 8, withPad: " ", startingAt: 0)) 密码 \(l.password)   \(l.note)")
        }
        return lines.joined(separator: "\n")
    }
}
