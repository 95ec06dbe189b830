import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The challenges' rows (揭榜挂帅, issue 10): `challenges`, their applications, the experts'
/// reviews and the reward's tranches. The rules are MujunCore's `ChallengeRules` and `ScoreSheet`;
/// `ChallengeService` decides, these methods store and read.
extension Store {
    public struct ChallengeRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var ref: String
        public var title: String
        public var problem: String
        public var reward: Double
        public var deadline: String
        public var eligibility: String
        public var consortium: Bool
        public var town: String
        public var leadUnit: String
        public var publishedOn: String
        public var state: String
        public var winnerId: Int64?
        public var winnerCode: String?
        public var projectId: Int64?
        public var pledge: String?
        public var version: Int
        enum CodingKeys: String, CodingKey {
            case id, ref, title, problem, reward, deadline, eligibility, consortium, town, leadUnit = "lead_unit", publishedOn = "published_on",
                 state, winnerId = "winner_id", winnerCode = "winner_code", projectId = "project_id", pledge, version
        }
        /// Where it stands on `day`.
        public func stage(on day: CalendarDate) -> ChallengeStage {
            ChallengeStage.of(stored: state, deadline: CalendarDate(deadline) ?? day, on: day)
        }
    }

    public struct ApplicationRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var challengeId: Int64
        public var creditCode: String
        public var enterprise: String
        public var partners: String
        public var plan: String
        public var contact: String
        public var filedOn: String
        public var filedBy: String
        /// submitted | won | lost
        public var state: String
        enum CodingKeys: String, CodingKey {
            case id, challengeId = "challenge_id", creditCode = "credit_code", enterprise, partners, plan, contact, filedOn = "filed_on",
                 filedBy = "filed_by", state
        }
        public var partnerCodes: [String] { partners.split(separator: ";").map(String.init) }
    }

    public struct ReviewRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var applicationId: Int64
        public var expertId: Int64
        public var expert: String
        public var assignedOn: String
        public var scores: String?
        public var total: Double?
        public var comment: String?
        public var scoredOn: String?
        enum CodingKeys: String, CodingKey {
            case id, applicationId = "application_id", expertId = "expert_id", expert, assignedOn = "assigned_on", scores, total, comment,
                 scoredOn = "scored_on"
        }
        /// The sheet's points by criterion.
        public var sheet: [String: Double] {
            guard let s = scores, let d = try? JSONDecoder().decode([String: Double].self, from: Data(s.utf8)) else { return [:] }
            return d
        }
    }

    public struct TrancheRecord: Codable, Sendable, Hashable {
        public var challengeId: Int64
        public var seq: Int
        public var milestone: String
        public var share: Int
        public var amount: Double
        public var paidOn: String?
        public var paidBy: String?
        enum CodingKeys: String, CodingKey {
            case challengeId = "challenge_id", seq, milestone, share, amount, paidOn = "paid_on", paidBy = "paid_by"
        }
    }

    static let challengeColumns = ["id", "ref", "title", "problem", "reward", "deadline", "eligibility", "consortium", "town", "lead_unit",
                                   "published_on", "state", "winner_id", "winner_code", "project_id", "pledge", "version"]
    static let applicationColumns = ["id", "challenge_id", "credit_code", "enterprise", "partners", "plan", "contact", "filed_on", "filed_by", "state"]
    static let reviewColumns = ["id", "application_id", "expert_id", "expert", "assigned_on", "scores", "total", "comment", "scored_on"]

    func challenges() async throws -> [ChallengeRecord] {
        try await sql.select().columns(Self.challengeColumns.map { SQLColumn($0) }).from("challenges").orderBy("id", .descending)
            .all(decoding: ChallengeRecord.self, with: Self.caseDecoder)
    }

    func challenge(id: Int64) async throws -> ChallengeRecord? {
        try await sql.select().columns(Self.challengeColumns.map { SQLColumn($0) }).from("challenges").where("id", .equal, id)
            .first(decoding: ChallengeRecord.self, with: Self.caseDecoder)
    }

    /// The challenge whose winner's project is `projectID`.
    func challenge(projectID: Int64) async throws -> ChallengeRecord? {
        try await sql.select().columns(Self.challengeColumns.map { SQLColumn($0) }).from("challenges").where("project_id", .equal, projectID)
            .first(decoding: ChallengeRecord.self, with: Self.caseDecoder)
    }

    /// Applications of a challenge, or of every challenge (nil), optionally only one enterprise's.
    func applications(challengeID: Int64?, creditCode: String? = nil) async throws -> [ApplicationRecord] {
        var q = sql.select().columns(Self.applicationColumns.map { SQLColumn($0) }).from("challenge_applications")
        if let challengeID { q = q.where("challenge_id", .equal, challengeID) }
        if let creditCode { q = q.where("credit_code", .equal, creditCode) }
        return try await q.orderBy("id").all(decoding: ApplicationRecord.self, with: Self.caseDecoder)
    }

    func applications(ids: [Int64]) async throws -> [ApplicationRecord] {
        guard !ids.isEmpty else { return [] }
        return try await sql.select().columns(Self.applicationColumns.map { SQLColumn($0) }).from("challenge_applications")
            .where("id", .in, ids).orderBy("id").all(decoding: ApplicationRecord.self, with: Self.caseDecoder)
    }

    func application(id: Int64) async throws -> ApplicationRecord? {
        try await sql.select().columns(Self.applicationColumns.map { SQLColumn($0) }).from("challenge_applications").where("id", .equal, id)
            .first(decoding: ApplicationRecord.self, with: Self.caseDecoder)
    }

    /// Reviews of some applications, or an expert's (every application assigned to it).
    func reviews(applicationIDs: [Int64]? = nil, expertID: Int64? = nil) async throws -> [ReviewRecord] {
        var q = sql.select().columns(Self.reviewColumns.map { SQLColumn($0) }).from("challenge_reviews")
        if let ids = applicationIDs {
            guard !ids.isEmpty else { return [] }
            q = q.where("application_id", .in, ids)
        }
        if let expertID { q = q.where("expert_id", .equal, expertID) }
        return try await q.orderBy("id").all(decoding: ReviewRecord.self, with: Self.caseDecoder)
    }

    func tranches(challengeID: Int64) async throws -> [TrancheRecord] {
        try await sql.select().columns("challenge_id", "seq", "milestone", "share", "amount", "paid_on", "paid_by").from("challenge_tranches")
            .where("challenge_id", .equal, challengeID).orderBy("seq").all(decoding: TrancheRecord.self, with: Self.caseDecoder)
    }

    /// The next free number of a year: JB-2026-01 … (the projects take JB-2026-001 …).
    func nextChallengeRef(year: Int) async throws -> String {
        let used = Set(try await sql.select().column("ref").from("challenges").where("ref", .like, "BD-\(year)-%")
            .all(decodingColumn: "ref", as: String.self))
        var k = used.count + 1
        while used.contains(String(format: "BD-%d-%02d", year, k)) { k += 1 }
        return String(format: "BD-%d-%02d", year, k)
    }
}
