import FluentKit
import SQLKit

/// What the closed loop records besides its steps: meetings that assign (永商会客厅, 日会商, 周例会,
/// 现场办公, 领导接访) and whose items are cases (`cases.meeting_id`); a case's notes — a co-unit's
/// opinion (协办意见), an extension request and its decision, the "three ones" of a proposal's
/// handling (报到、现场、回访) and follow-up reports (续报) — and the files attached to an event or a
/// note, kept in the database so that every instance serves them; and each case's follow-up due
/// date (a reply in category B or C owes a 续报 until the matter is resolved).
struct CreateCaseWork: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("meetings")
            .field("id", .int64, .identifier(auto: true))
            .field("kind", .string, .required)
            .field("title", .string, .required)
            .field("held_on", .string, .required)
            .field("place", .string, .required)
            .field("chair", .string, .required)
            .field("attendees", .string, .required)
            .field("notes", .string, .required)
            .field("created_by", .string, .required)
            .field("recorded_us", .int64, .required)
            .create()
        try await database.schema("case_notes")
            .field("id", .int64, .identifier(auto: true))
            .field("case_id", .int64, .required, .references("cases", "id"))
            // opinion | extension | report | visit | revisit | followup
            .field("kind", .string, .required)
            .field("date", .string, .required)
            .field("unit", .string, .required)
            .field("actor", .string, .required)
            .field("text", .string, .required)
            // extension: the date asked for; followup: the next report's due date
            .field("due", .string)
            .field("head", .bool, .required)
            // followup: the matter is resolved (no further report owed)
            .field("resolved", .bool, .required)
            // extension: pending | approved | refused, by whom, when, why
            .field("decision", .string)
            .field("decided_by", .string)
            .field("decided_on", .string)
            .field("decision_note", .string)
            .field("recorded_us", .int64, .required)
            .create()
        try await database.schema("case_attachments")
            .field("id", .int64, .identifier(auto: true))
            .field("case_id", .int64, .required, .references("cases", "id"))
            // the event (loop_events.seq) or the note it belongs to
            .field("event_seq", .int)
            .field("note_id", .int64)
            .field("name", .string, .required)
            .field("content_type", .string, .required)
            .field("size", .int64, .required)
            .field("sha256", .string, .required)
            .field("data", .data, .required)
            .field("uploaded_by", .string, .required)
            .field("recorded_us", .int64, .required)
            .create()
        try await database.schema("cases")
            .field("follow_up_due", .string)
            .update()
        let sql = database as! any SQLDatabase
        for stmt in [
            "CREATE INDEX case_notes_case ON case_notes (case_id)",
            "CREATE INDEX case_notes_pending ON case_notes (kind, decision)",
            "CREATE INDEX case_attachments_case ON case_attachments (case_id)",
            "CREATE INDEX cases_meeting ON cases (meeting_id)",
            "CREATE INDEX cases_follow_up ON cases (lead_unit, follow_up_due)",
        ] {
            try await sql.raw(SQLQueryString(stmt)).run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for stmt in ["DROP INDEX cases_follow_up", "DROP INDEX cases_meeting"] { try await sql.raw(SQLQueryString(stmt)).run() }
        try await database.schema("cases").deleteField("follow_up_due").update()
        try await database.schema("case_attachments").delete()
        try await database.schema("case_notes").delete()
        try await database.schema("meetings").delete()
    }
}
