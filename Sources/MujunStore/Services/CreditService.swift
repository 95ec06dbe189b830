import Foundation
import FluentKit
import SQLKit
import MujunCore

/// 亩均英雄贷: an enterprise's consent to share its class with the partner banks, and the
/// banks' list of consenting enterprises of the eligible classes in final years.
public struct CreditService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    /// Whether the caller's own enterprise consents.
    public func consent() async throws -> Bool {
        guard let code = caller.principal?.creditCode else { throw ServiceError(.forbidden, "本账号未关联企业 / the account has no enterprise") }
        return try await unscoped.consent(creditCode: code)
    }

    /// Sets the caller's own enterprise's consent (a step on its consent row: 409 when it
    /// already is so).
    public func setConsent(_ consent: Bool) async throws {
        try caller.require(.setConsent)
        guard let code = caller.principal?.creditCode else { throw ServiceError(.forbidden, "本账号未关联企业 / the account has no enterprise") }
        try await unscoped.db.transaction { db in
            let tx = Store(db)
            try await tx.sql.insert(into: "consents").columns("credit_code", "consent", "updated_by", "updated_at")
                .values(SQLBind(code), SQLBind(false), SQLBind(caller.actor), SQLBind(Date()))
                .ignoringConflicts(with: ["credit_code"]).run()
            var step = Store.Step(table: "consents", key: [("credit_code", code)], subject: code, stateColumn: nil, from: nil, to: nil,
                                  set: [("consent", SQLBind(consent)), ("updated_by", SQLBind(caller.actor)), ("updated_at", SQLBind(Date()))],
                                  action: consent ? "consent.grant" : "consent.withdraw", detail: nil,
                                  verb: consent ? ("同意授权", "consent") : ("撤回授权", "withdraw consent"))
            step.condition = SQLBinaryExpression(SQLColumn("consent"), .equal, SQLBind(!consent))
            step.conflictMessage = consent ? "已同意授权 / consent was already given" : "尚未同意授权 / there is no consent to withdraw"
            try await tx.perform(step, by: caller)
        }
    }

    /// The years whose results are final, newest first.
    public func finalYears() async throws -> [Int] {
        let store = unscoped
        var out: [Int] = []
        for y in try await store.evaluatedYears() where try await store.publication(year: y).status == .final { out.append(y) }
        return out
    }

    /// The credit list of a final year.
    public struct CreditList: Sendable {
        public var year: Int
        public var finalYears: [Int]
        /// the rules of the year's run (its class policies say who is eligible, on which terms)
        public var rules: Rules
        public var eligible: [EnterpriseClass]
        public var rows: [Store.CreditListRow]
    }

    /// The list of `year` (the latest final year when nil); nil when no year is final;
    /// `notFound` for a year that is not final.
    public func creditList(year asked: Int?) async throws -> CreditList? {
        try caller.require(.viewCreditList)
        let years = try await finalYears()
        guard let year = asked ?? years.first else { return nil }
        guard years.contains(year) else {
            throw ServiceError.notFound("\(year) 年度评价结果尚未正式发布 / results of \(year) are not final")
        }
        let store = unscoped
        let run = try await store.currentRun(year: year)
        let rules = run.flatMap { try? Rules(yaml: $0.rulesYAML) } ?? context.rules
        let classes = EnterpriseClass.allCases.filter { rules.policy(for: $0)?.creditEligible == true }
        let rows = try await store.creditList(year: year, classes: classes.map(\.rawValue))
        return CreditList(year: year, finalYears: years, rules: rules, eligible: classes, rows: rows)
    }
}
