import FluentKit
import SQLKit

/// Challenges (揭榜挂帅, issue 10): the problem HQ puts up (发榜) with its reward, deadline and
/// eligibility; the enterprises' applications (揭榜, a consortium's partners named); the experts
/// each application is assigned to and their score sheets (评审遴选); and the reward's tranches,
/// each payable once a milestone of the winner's project (立项) is done (兑现).
///
/// ```sql
/// SELECT a.enterprise, AVG(r.total) FROM challenge_applications a JOIN challenge_reviews r ON r.application_id = a.id
///  WHERE a.challenge_id = 1 AND r.total IS NOT NULL GROUP BY a.id, a.enterprise
/// ```
struct CreateChallenges: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("challenges")
            .field("id", .int64, .identifier(auto: true))
            .field("ref", .string, .required)
            .field("title", .string, .required)
            .field("problem", .string, .required)
            // 万元
            .field("reward", .double, .required)
            .field("deadline", .string, .required)
            .field("eligibility", .string, .required)
            .field("consortium", .bool, .required)
            .field("town", .string, .required)
            .field("lead_unit", .string, .required)
            .field("published_on", .string, .required)
            // open (through the deadline, then under review) | awarded | closed (流榜)
            .field("state", .string, .required)
            .field("winner_id", .int64)
            .field("winner_code", .string)
            .field("project_id", .int64, .references("projects", "id"))
            // 军令状: what the winner pledged to reach
            .field("pledge", .string)
            .field("version", .int, .required)
            .field("created_by", .string, .required)
            .field("recorded_us", .int64, .required)
            .unique(on: "ref")
            .create()
        try await database.schema("challenge_applications")
            .field("id", .int64, .identifier(auto: true))
            .field("challenge_id", .int64, .required, .references("challenges", "id"))
            .field("credit_code", .string, .required)
            .field("enterprise", .string, .required)
            // the consortium's other members' credit codes, `;`-separated (empty: none)
            .field("partners", .string, .required)
            .field("plan", .string, .required)
            .field("contact", .string, .required)
            .field("filed_on", .string, .required)
            .field("filed_by", .string, .required)
            // submitted | won | lost
            .field("state", .string, .required)
            .field("recorded_us", .int64, .required)
            .unique(on: "challenge_id", "credit_code")
            .create()
        try await database.schema("challenge_reviews")
            .field("id", .int64, .identifier(auto: true))
            .field("application_id", .int64, .required, .references("challenge_applications", "id"))
            .field("expert_id", .int64, .required)
            .field("expert", .string, .required)
            .field("assigned_on", .string, .required)
            .field("assigned_by", .string, .required)
            // the score sheet as JSON {"tech": 26, …}; null until scored
            .field("scores", .string)
            .field("total", .double)
            .field("comment", .string)
            .field("scored_on", .string)
            .field("recorded_us", .int64, .required)
            .unique(on: "application_id", "expert_id")
            .create()
        try await database.schema("challenge_tranches")
            .field("challenge_id", .int64, .required, .references("challenges", "id"))
            .field("seq", .int, .required)
            .field("milestone", .string, .required)
            .field("share", .int, .required)
            .field("amount", .double, .required)
            .field("paid_on", .string)
            .field("paid_by", .string)
            .unique(on: "challenge_id", "seq")
            .create()
        let sql = database as! any SQLDatabase
        for stmt in [
            "CREATE INDEX challenge_applications_code ON challenge_applications (credit_code)",
            "CREATE INDEX challenge_reviews_expert ON challenge_reviews (expert_id)",
        ] {
            try await sql.raw(SQLQueryString(stmt)).run()
        }
    }

    func revert(on database: any Database) async throws {
        for t in ["challenge_tranches", "challenge_reviews", "challenge_applications", "challenges"] {
            try await database.schema(t).delete()
        }
    }
}
