import FluentKit
import SQLKit

/// A `calendar` revision in `data_revisions`, raised by the database on every change of
/// `calendar_years`: an instance compares it with the revision of the calendar it holds before a
/// request and reads the stored years again when another instance (or the `mujun` tool) added one.
struct AddCalendarRevision: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.insert(into: "data_revisions").columns("name", "revision").values(SQLBind("calendar"), SQLBind(Int64(0))).run()
        let bump = "UPDATE data_revisions SET revision = revision + 1 WHERE name = 'calendar'"
        if sql.dialect.name == "postgresql" {
            try await sql.raw("""
                CREATE OR REPLACE FUNCTION mujun_bump_calendar_revision() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN \(unsafeRaw: bump); RETURN NULL; END $$
                """).run()
            try await sql.raw("""
                CREATE TRIGGER calendar_years_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON calendar_years
                FOR EACH STATEMENT EXECUTE FUNCTION mujun_bump_calendar_revision()
                """).run()
        } else {
            for op in ["INSERT", "UPDATE", "DELETE"] {
                try await sql.raw("""
                    CREATE TRIGGER calendar_years_revision_\(unsafeRaw: op.lowercased()) AFTER \(unsafeRaw: op) ON calendar_years
                    BEGIN \(unsafeRaw: bump); END
                    """).run()
            }
        }
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("DROP TRIGGER IF EXISTS calendar_years_revision ON calendar_years").run()
            try await sql.raw("DROP FUNCTION IF EXISTS mujun_bump_calendar_revision()").run()
        } else {
            for op in ["insert", "update", "delete"] { try await sql.raw("DROP TRIGGER IF EXISTS calendar_years_revision_\(unsafeRaw: op)").run() }
        }
        try await sql.delete(from: "data_revisions").where("name", .equal, "calendar").run()
    }
}
