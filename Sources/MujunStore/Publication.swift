import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Publication of results, appeals (申诉) and consent to the credit list.
extension Store {
    public struct Publication: Codable, Sendable, Hashable {
        public var year: Int
        public var status: PublicationStatus
        /// yyyy-MM-dd
        public var publicityStart: String?
        public var publicityEnd: String?
        public var updatedBy: String
        public var updatedAt: Date

        /// Whether `day` (yyyy-MM-dd) lies in the publicity period.
        public func inPublicity(day: String) -> Bool {
            guard status == .publicity, let s = publicityStart, let e = publicityEnd else { return false }
            return s <= day && day <= e
        }
    }

    public func publication(year: Int) async throws -> Publication {
        struct Row: Decodable {
            var year: Int; var status: String; var publicity_start: String?; var publicity_end: String?
            var updated_by: String; var updated_at: Date
        }
        guard let r = try await sql.select().columns("year", "status", "publicity_start", "publicity_end", "updated_by", "updated_at")
            .from("publications").where("year", .equal, year).first(decoding: Row.self) else {
            return Publication(year: year, status: .draft, publicityStart: nil, publicityEnd: nil, updatedBy: "", updatedAt: .distantPast)
        }
        return Publication(year: r.year, status: PublicationStatus(rawValue: r.status) ?? .draft,
                           publicityStart: r.publicity_start, publicityEnd: r.publicity_end,
                           updatedBy: r.updated_by, updatedAt: r.updated_at)
    }

    /// Years whose results a role that sees only published results may read.
    public func publishedYears() async throws -> [Int] {
        try await sql.select().column("year").from("publications").where("status", .notEqual, PublicationStatus.draft.rawValue)
            .orderBy("year", .descending).all(decodingColumn: "year", as: Int.self)
    }

    public func setPublication(year: Int, status: PublicationStatus, start: String?, end: String?, actor: String) async throws {
        let before = try await publication(year: year)
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            try await sql.delete(from: "publications").where("year", .equal, year).run()
            try await sql.insert(into: "publications").columns("year", "status", "publicity_start", "publicity_end", "updated_by", "updated_at")
                .values(SQLBind(year), SQLBind(status.rawValue), SQLBind(start), SQLBind(end), SQLBind(actor), SQLBind(Date())).run()
            try await Store(db).audit(actor: actor, action: "publication.\(status.rawValue)", target: "\(year)",
                                      detail: "\(before.status.chinese) → \(status.chinese)\(start.map { "，公示期 \($0) 至 \(end ?? "")" } ?? "")")
        }
    }

    // MARK: - Consent

    public func consent(creditCode: String) async throws -> Bool {
        try await sql.select().column("consent").from("consents").where("credit_code", .equal, creditCode)
            .first(decodingColumn: "consent", as: Bool.self) ?? false
    }

    public func setConsent(creditCode: String, _ consent: Bool, actor: String) async throws {
        try await sql.delete(from: "consents").where("credit_code", .equal, creditCode).run()
        try await sql.insert(into: "consents").columns("credit_code", "consent", "updated_by", "updated_at")
            .values(SQLBind(creditCode), SQLBind(consent), SQLBind(actor), SQLBind(Date())).run()
        try await audit(actor: actor, action: consent ? "consent.grant" : "consent.withdraw", target: creditCode)
    }

    /// 亩均英雄贷: consenting enterprises of the given classes in a year's current run, with
    /// class and score only.
    public struct CreditListRow: Codable, Sendable {
        public var creditCode: String
        public var name: String
        public var town: String
        public var group: String
        public var finalClass: String
        public var totalScore: Double
        enum CodingKeys: String, CodingKey {
            case creditCode = "credit_code", name, town, group = "grp", finalClass = "final_class", totalScore = "total_score"
        }
    }

    public func creditList(year: Int, classes: [String]) async throws -> [CreditListRow] {
        guard let run = try await currentRun(year: year) else { return [] }
        return try await sql.select()
            .column(SQLColumn("credit_code", table: "r")).column(SQLColumn("name", table: "r"))
            .column(SQLColumn("town", table: "r")).column(SQLColumn("grp", table: "r"))
            .column(SQLColumn("final_class", table: "r")).column(SQLColumn("total_score", table: "r"))
            .from(SQLAlias(SQLIdentifier("evaluation_results"), as: SQLIdentifier("r")))
            .join(SQLAlias(SQLIdentifier("consents"), as: SQLIdentifier("c")), method: SQLJoinMethod.inner,
                  on: SQLColumn("credit_code", table: "r"), .equal, SQLColumn("credit_code", table: "c"))
            .where(SQLColumn("run_id", table: "r"), .equal, SQLBind(run.id))
            .where(SQLColumn("consent", table: "c"), .equal, SQLBind(true))
            .where(SQLColumn("final_class", table: "r"), .in, SQLBind.group(classes))
            .orderBy(SQLColumn("final_class", table: "r"), SQLDirection.ascending)
            .orderBy(SQLColumn("total_score", table: "r"), SQLDirection.descending)
            .all(decoding: CreditListRow.self)
    }

    // MARK: - Appeals

    public struct Appeal: Codable, Sendable, Hashable {
        public var id: Int64
        public var year: Int
        public var creditCode: String
        public var town: String
        public var field: String
        public var currentValue: String?
        public var claimedValue: String
        public var reason: String
        public var attachmentName: String?
        public var state: String
        public var answer: String?
        public var filedBy: String
        public var decidedBy: String?
        public var createdAt: Date
        public var decidedAt: Date?
        public var resultBefore: String?
        public var resultAfter: String?
        public var rating: Int?
        enum CodingKeys: String, CodingKey {
            case id, year, creditCode = "credit_code", town, field, currentValue = "current_value"
            case claimedValue = "claimed_value", reason, attachmentName = "attachment_name", state, answer
            case filedBy = "filed_by", decidedBy = "decided_by", createdAt = "created_at", decidedAt = "decided_at"
            case resultBefore = "result_before", resultAfter = "result_after", rating
        }
        public var caseState: CaseState { CaseState(rawValue: state) ?? .assigned }
        public var appealField: AppealField? { AppealField(rawValue: field) }
        /// The outcome given with the reply, when there is one.
        public var outcome: AppealOutcome? { resultAfter != nil ? .upheld : (answer != nil ? .rejected : nil) }
    }

    static let appealColumns = ["id", "year", "credit_code", "town", "field", "current_value", "claimed_value", "reason",
                                "attachment_name", "state", "answer", "filed_by", "decided_by", "created_at", "decided_at",
                                "result_before", "result_after", "rating"]

    public struct CaseEvent: Codable, Sendable {
        public var fromState: String?
        public var toState: String
        public var actor: String
        public var note: String?
        public var at: Date
        enum CodingKeys: String, CodingKey { case fromState = "from_state", toState = "to_state", actor, note, at }
    }

    func recordEvent(_ sql: any SQLDatabase, type: String, id: Int64, from: CaseState?, to: CaseState, actor: String, note: String?) async throws {
        try await sql.insert(into: "case_events").columns("case_type", "case_id", "from_state", "to_state", "actor", "note", "at")
            .values(SQLBind(type), SQLBind(id), SQLBind(from?.rawValue), SQLBind(to.rawValue), SQLBind(actor), SQLBind(note), SQLBind(Date()))
            .run()
    }

    public func fileAppeal(year: Int, creditCode: String, town: String, field: AppealField, currentValue: Double?,
                           claimedValue: Double, reason: String, attachmentName: String?, attachment: Data?,
                           actor: String) async throws -> Int64 {
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            let id = try await sql.insert(into: "appeals")
                .columns("year", "credit_code", "town", "field", "current_value", "claimed_value", "reason",
                         "attachment_name", "attachment", "state", "filed_by", "created_at")
                .values(SQLBind(year), SQLBind(creditCode), SQLBind(town), SQLBind(field.rawValue),
                        SQLBind(currentValue.map(formatNumber)), SQLBind(formatNumber(claimedValue)), SQLBind(reason),
                        SQLBind(attachmentName), SQLBind(attachment), SQLBind(CaseState.assigned.rawValue),
                        SQLBind(actor), SQLBind(Date()))
                .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
            try await Store(db).recordEvent(sql, type: "appeal", id: id, from: nil, to: .assigned, actor: actor, note: reason)
            try await Store(db).audit(actor: actor, action: "appeal.file", target: "申诉 #\(id) \(creditCode)",
                                      detail: "\(field.chinese)：\(currentValue.map(formatNumber) ?? "空") → \(formatNumber(claimedValue))")
            return id
        }
    }

    public func appeals(year: Int? = nil, scope: DataScope) async throws -> [Appeal] {
        var q = sql.select().columns(Self.appealColumns.map { SQLColumn($0) }).from("appeals")
        if let year { q = q.where("year", .equal, year) }
        if let towns = scope.towns { q = q.where("town", .in, towns) }
        if let codes = scope.creditCodes { q = q.where("credit_code", .in, codes) }
        return try await q.orderBy("id", .descending).all(decoding: Appeal.self)
    }

    public func appeal(id: Int64) async throws -> Appeal? {
        try await sql.select().columns(Self.appealColumns.map { SQLColumn($0) }).from("appeals")
            .where("id", .equal, id).first(decoding: Appeal.self)
    }

    public func appealAttachment(id: Int64) async throws -> (String, Data)? {
        struct Row: Decodable { var attachment_name: String?; var attachment: Data? }
        guard let r = try await sql.select().columns("attachment_name", "attachment").from("appeals")
            .where("id", .equal, id).first(decoding: Row.self), let name = r.attachment_name, let data = r.attachment else { return nil }
        return (name, data)
    }

    public func caseEvents(type: String, id: Int64) async throws -> [CaseEvent] {
        try await sql.select().columns("from_state", "to_state", "actor", "note", "at").from("case_events")
            .where("case_type", .equal, type).where("case_id", .equal, id).orderBy("id").all(decoding: CaseEvent.self)
    }

    public enum AppealError: Error, CustomStringConvertible {
        case notFound, badTransition(from: CaseState, to: CaseState), noData
        public var description: String {
            switch self {
            case .notFound: "申诉不存在 / appeal not found"
            case .badTransition(let f, let t): "申诉当前为“\(f.chinese)”，不能转为“\(t.chinese)” / cannot move an appeal from \(f.rawValue) to \(t.rawValue)"
            case .noData: "该企业本年度没有数据 / no data for the enterprise in that year"
            }
        }
    }

    /// Moves an appeal along the closed loop, recording the event.
    public func moveAppeal(id: Int64, to state: CaseState, actor: String, note: String? = nil) async throws {
        guard let a = try await appeal(id: id) else { throw AppealError.notFound }
        guard a.caseState.canMove(to: state) else { throw AppealError.badTransition(from: a.caseState, to: state) }
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            try await sql.update("appeals").set("state", to: state.rawValue).where("id", .equal, id).run()
            try await Store(db).recordEvent(sql, type: "appeal", id: id, from: a.caseState, to: state, actor: actor, note: note)
            try await Store(db).audit(actor: actor, action: "appeal.\(state.rawValue)", target: "申诉 #\(id)", detail: note)
        }
    }

    /// Replies to an appeal. Upheld: the disputed figure is set to `correctedValue` (default
    /// the claimed value), the year is re-evaluated under `rules`, and the result before and
    /// after is kept with the appeal.
    public func decideAppeal(id: Int64, outcome: AppealOutcome, answer: String, correctedValue: Double?,
                             rules: Rules, rulesYAML: String, actor: String) async throws {
        guard let a = try await appeal(id: id) else { throw AppealError.notFound }
        guard a.caseState.canMove(to: .replied) else { throw AppealError.badTransition(from: a.caseState, to: .replied) }
        let before = try await result(creditCode: a.creditCode, year: a.year)
        var after: EnterpriseResult?
        if outcome == .upheld, let field = a.appealField {
            var records = try await records(year: a.year)
            guard let i = records.firstIndex(where: { $0.creditCode == a.creditCode }) else { throw AppealError.noData }
            field.set(correctedValue ?? Double(a.claimedValue), on: &records[i])
            _ = try await importEnterprises([records[i]], fileName: "申诉 #\(id) 更正", actor: actor)
            let (_, outcome) = try await evaluate(year: a.year, rules: rules, rulesYAML: rulesYAML, actor: actor)
            after = outcome.results.first { $0.creditCode == a.creditCode }
        }
        let enc = { @Sendable (r: EnterpriseResult?) -> String? in
            r.flatMap { try? Self.jsonEncoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) }
        }
        let afterResult = after
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            try await sql.update("appeals").set("state", to: CaseState.replied.rawValue).set("answer", to: answer)
                .set("decided_by", to: actor).set("decided_at", to: Date())
                .set("result_before", to: SQLBind(enc(before))).set("result_after", to: SQLBind(enc(afterResult)))
                .where("id", .equal, id).run()
            let note = "\(outcome.chinese)：\(answer)"
            try await Store(db).recordEvent(sql, type: "appeal", id: id, from: a.caseState, to: .replied, actor: actor, note: note)
            try await Store(db).audit(actor: actor, action: "appeal.\(outcome.rawValue)", target: "申诉 #\(id) \(a.creditCode)",
                                      detail: "\(note)\(afterResult.map { "；分类 \(before?.finalClass?.rawValue ?? "—") → \($0.finalClass?.rawValue ?? "—")，总分 \(formatScore(before?.totalScore ?? 0)) → \(formatScore($0.totalScore ?? 0))" } ?? "")")
        }
    }

    /// The enterprise rates the reply (1–5) and the appeal is closed.
    public func rateAppeal(id: Int64, rating: Int, actor: String) async throws {
        guard let a = try await appeal(id: id) else { throw AppealError.notFound }
        guard a.caseState.canMove(to: .evaluated) else { throw AppealError.badTransition(from: a.caseState, to: .evaluated) }
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            try await sql.update("appeals").set("state", to: CaseState.closed.rawValue).set("rating", to: rating)
                .where("id", .equal, id).run()
            try await Store(db).recordEvent(sql, type: "appeal", id: id, from: a.caseState, to: .evaluated, actor: actor, note: "评价 \(rating) 分")
            try await Store(db).recordEvent(sql, type: "appeal", id: id, from: .evaluated, to: .closed, actor: actor, note: nil)
            try await Store(db).audit(actor: actor, action: "appeal.rate", target: "申诉 #\(id)", detail: "评价 \(rating) 分，销号")
        }
    }
}
