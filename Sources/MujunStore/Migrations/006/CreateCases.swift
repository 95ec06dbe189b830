import FluentKit
import SQLKit

/// The case engine's tables (CASES.md): `cases` holds each case with its loop's state and
/// deadlines as of its latest event (what the inbox, the map and the lists read), and
/// `loop_events` its history — every event with its business date and the time it was recorded,
/// from which the state is rebuilt on every step and a bulletin is recomputed as of any date.
struct CreateCases: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("cases")
            .field("id", .int64, .identifier(auto: true))
            .field("type", .string, .required)
            .field("ref", .string, .required)
            .field("title", .string, .required)
            .field("body", .string, .required)
            // who raised it: a name, and the account when the requester has one (deputy, enterprise)
            .field("requester", .string, .required)
            .field("requester_user", .int64)
            // links: an enterprise, a parcel, a cluster (year + number); the town it is located in
            .field("credit_code", .string)
            .field("parcel_id", .string)
            .field("cluster_year", .int)
            .field("cluster_number", .int)
            .field("town", .string)
            .field("meeting_id", .int64)
            // a petitioner's query code (查询码), hashed
            .field("query_code_hash", .string)
            // the loop as of the latest event (CaseLoop)
            .field("state", .string, .required)
            .field("lead_unit", .string)
            .field("co_units", .string, .required)
            .field("level", .string, .required)
            .field("registered_on", .string, .required)
            .field("assigned_on", .string)
            .field("accept_due", .string)
            .field("accepted_on", .string)
            .field("reply_due", .string)
            .field("rehandle_due", .string)
            .field("first_reply_on", .string)
            .field("rating", .string)
            .field("category", .string)
            .field("head", .bool, .required)
            .field("last_event_on", .string, .required)
            // optimistic locking: every step updates `WHERE id = ? AND version = ?`
            .field("version", .int, .required)
            .unique(on: "type", "ref")
            .create()
        try await database.schema("loop_events")
            .field("id", .int64, .identifier(auto: true))
            .field("case_id", .int64, .required, .references("cases", "id"))
            .field("seq", .int, .required)
            .field("kind", .string, .required)
            .field("date", .string, .required)
            .field("recorded_us", .int64, .required)
            .field("actor", .string, .required)
            .field("unit", .string, .required)
            .field("co_units", .string, .required)
            .field("due", .string)
            .field("category", .string)
            .field("rating", .string)
            .field("head", .bool, .required)
            .field("passed", .bool)
            .field("level", .string, .required)
            .field("note", .string, .required)
            .unique(on: "case_id", "seq")
            .create()
        let sql = database as! any SQLDatabase
        for stmt in [
            "CREATE INDEX cases_lead_state ON cases (lead_unit, state)",
            "CREATE INDEX cases_state ON cases (state)",
            "CREATE INDEX cases_town ON cases (town)",
            "CREATE INDEX cases_requester ON cases (requester_user)",
            "CREATE INDEX cases_credit ON cases (credit_code)",
            "CREATE INDEX cases_parcel ON cases (parcel_id)",
            "CREATE INDEX cases_assigned ON cases (assigned_on)",
            "CREATE INDEX loop_events_recorded ON loop_events (recorded_us)",
        ] {
            try await sql.raw(SQLQueryString(stmt)).run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("loop_events").delete()
        try await database.schema("cases").delete()
    }
}
