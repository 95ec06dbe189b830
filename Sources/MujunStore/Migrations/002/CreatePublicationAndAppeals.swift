import FluentKit
import SQLKit

/// Publication of a year's results (草稿 → 公示 → 正式), appeals (申诉) with their event
/// history, and enterprises' consent to share their class with banks.
struct CreatePublicationAndAppeals: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("publications")
            .field("year", .int, .identifier(auto: false))
            .field("status", .string, .required)
            .field("publicity_start", .string)
            .field("publicity_end", .string)
            .field("updated_by", .string, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await database.schema("appeals")
            .field("id", .int64, .identifier(auto: true))
            .field("year", .int, .required)
            .field("credit_code", .string, .required)
            .field("town", .string, .required)
            .field("field", .string, .required)
            .field("current_value", .string)
            .field("claimed_value", .string, .required)
            .field("reason", .string, .required)
            .field("attachment_name", .string)
            .field("attachment", .data)
            .field("state", .string, .required)
            .field("answer", .string)
            .field("filed_by", .string, .required)
            .field("decided_by", .string)
            .field("created_at", .datetime, .required)
            .field("decided_at", .datetime)
            .field("result_before", .string)
            .field("result_after", .string)
            .field("rating", .int)
            .create()
        try await database.schema("case_events")
            .field("id", .int64, .identifier(auto: true))
            .field("case_type", .string, .required)
            .field("case_id", .int64, .required)
            .field("from_state", .string)
            .field("to_state", .string, .required)
            .field("actor", .string, .required)
            .field("note", .string)
            .field("at", .datetime, .required)
            .create()
        try await database.schema("consents")
            .field("credit_code", .string, .identifier(auto: false))
            .field("consent", .bool, .required)
            .field("updated_by", .string, .required)
            .field("updated_at", .datetime, .required)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "appeals_code").on("appeals").column("credit_code").column("year").run()
            try await sql.create(index: "case_events_case").on("case_events").column("case_type").column("case_id").run()
        }
    }
    func revert(on database: any Database) async throws {
        for t in ["consents", "case_events", "appeals", "publications"] { try await database.schema(t).delete() }
    }
}
