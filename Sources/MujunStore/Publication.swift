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

    func publication(year: Int) async throws -> Publication {
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
    func publishedYears() async throws -> [Int] {
        try await sql.select().column("year").from("publications").where("status", .notEqual, PublicationStatus.draft.rawValue)
            .orderBy("year", .descending).all(decodingColumn: "year", as: Int.self)
    }

    // MARK: - Consent

    func consent(creditCode: String) async throws -> Bool {
        try await sql.select().column("consent").from("consents").where("credit_code", .equal, creditCode)
            .first(decodingColumn: "consent", as: Bool.self) ?? false
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

    func creditList(year: Int, classes: [String]) async throws -> [CreditListRow] {
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

    /// Inserts a filed appeal (the service checks it and writes its event and audit entry).
    func insertAppeal(year: Int, creditCode: String, town: String, field: AppealField, currentValue: Double?,
                      claimedValue: Double, reason: String, attachment: UploadedFile?, actor: String) async throws -> Int64 {
        try await sql.insert(into: "appeals")
            .columns("year", "credit_code", "town", "field", "current_value", "claimed_value", "reason",
                     "attachment_name", "attachment", "state", "filed_by", "created_at")
            .values(SQLBind(year), SQLBind(creditCode), SQLBind(town), SQLBind(field.rawValue),
                    SQLBind(currentValue.map(formatNumber)), SQLBind(formatNumber(claimedValue)), SQLBind(reason),
                    SQLBind(attachment?.filename), SQLBind(attachment?.data), SQLBind(CaseState.assigned.rawValue),
                    SQLBind(actor), SQLBind(Date()))
            .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
    }

    /// Enterprise names by "year|code" (and by code, any year).
    func enterpriseNames(_ codes: [String]) async throws -> [String: String] {
        guard !codes.isEmpty else { return [:] }
        struct Row: Decodable { var year: Int; var credit_code: String; var name: String }
        var out: [String: String] = [:]
        for chunk in codes.chunked(500) {
            let rows = try await sql.select().columns("year", "credit_code", "name").from("enterprise_years")
                .where("credit_code", .in, Array(chunk)).all(decoding: Row.self)
            for r in rows {
                out["\(r.year)|\(r.credit_code)"] = r.name
                if out[r.credit_code] == nil { out[r.credit_code] = r.name }
            }
        }
        return out
    }

    /// The current figures of an enterprise in a year (the columns an appeal can dispute).
    func figures(year: Int, creditCode: String) async throws -> [AppealField: Double]? {
        guard let row = try await sql.select().columns(AppealField.allCases.map { SQLColumn($0.rawValue) })
            .from("enterprise_years").where("year", .equal, year).where("credit_code", .equal, creditCode).first() else { return nil }
        var out: [AppealField: Double] = [:]
        for f in AppealField.allCases {
            if let v = try? row.decode(column: f.rawValue, as: Double?.self) { out[f] = v }
        }
        return out
    }

    func appeals(year: Int? = nil, scope: DataScope) async throws -> [Appeal] {
        var q = sql.select().columns(Self.appealColumns.map { SQLColumn($0) }).from("appeals")
        if let year { q = q.where("year", .equal, year) }
        if let towns = scope.towns { q = q.where("town", .in, towns) }
        if let codes = scope.creditCodes { q = q.where("credit_code", .in, codes) }
        return try await q.orderBy("id", .descending).all(decoding: Appeal.self)
    }

    func appeal(id: Int64) async throws -> Appeal? {
        try await sql.select().columns(Self.appealColumns.map { SQLColumn($0) }).from("appeals")
            .where("id", .equal, id).first(decoding: Appeal.self)
    }

    func appealAttachment(id: Int64) async throws -> (String, Data)? {
        struct Row: Decodable { var attachment_name: String?; var attachment: Data? }
        guard let r = try await sql.select().columns("attachment_name", "attachment").from("appeals")
            .where("id", .equal, id).first(decoding: Row.self), let name = r.attachment_name, let data = r.attachment else { return nil }
        return (name, data)
    }

    func caseEvents(type: String, id: Int64) async throws -> [CaseEvent] {
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
}
