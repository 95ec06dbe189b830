import FluentKit
import SQLKit

/// The foreign key of `case_events`, kept by triggers: an event names its case by
/// (case_type, case_id), and a column that refers to different tables by type cannot carry a
/// FOREIGN KEY. Appeals are the only case type so far, so:
///
/// - an event is refused unless case_type is 'appeal' and `appeals` has the row case_id
///   (an unknown type is refused too: a new case type comes with a migration that says where
///   its cases live — the case engine of a later issue adds a `cases` table);
/// - an appeal that has events cannot be deleted, nor its id changed (RESTRICT, like the
///   data keys of ``AddForeignKeys``).
///
/// Named `case_events_case_fkey` in every message, like a key. SQLite: BEFORE triggers that
/// RAISE(ABORT); PostgreSQL: row triggers that raise `foreign_key_violation` and lock the
/// appeal (FOR KEY SHARE) as a real key does. Existing events that break the rule stop the
/// migration before anything changes.
struct AddCaseEventChecks: AsyncMigration {
    static let name = "case_events_case_fkey"
    /// Events whose case is not an existing appeal.
    static let orphans = """
        SELECT e.* FROM case_events e WHERE e.case_type <> 'appeal' \
        OR NOT EXISTS (SELECT 1 FROM appeals a WHERE a.id = e.case_id)
        """
    static let message = "FOREIGN KEY constraint failed: \(name): case_events (case_type, case_id) must name an existing appeal (case_type appeal, appeals.id) / 案件事件须指向存在的申诉"
    static let restrictMessage = "FOREIGN KEY constraint failed: \(name): the appeal has case events / 该申诉有办理记录，不能删除"

    func prepare(on database: any Database) async throws {
        try await database.transaction { db in
            let sql = db as! any SQLDatabase
            let n = try await SchemaGuard.count("SELECT COUNT(*) AS n FROM (\(Self.orphans)) o", on: sql)
            guard n == 0 else {
                throw SchemaGuardError(migration: "AddCaseEventChecks", problems: [.init(
                    table: "case_events", constraint: Self.name, rows: n,
                    chinese: "case_events(case_type, case_id) → appeals(id)：类型不是 appeal 或所指申诉不存在",
                    english: "case_events(case_type, case_id) → appeals(id): the type is not appeal or the appeal does not exist",
                    find: Self.orphans)])
            }
            if SchemaGuard.isPostgres(sql) {
                try await sql.raw("""
                    CREATE FUNCTION mujun_case_events_case_fkey() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF NEW.case_type <> 'appeal' THEN
                            RAISE EXCEPTION '\(unsafeRaw: Self.message)' USING ERRCODE = 'foreign_key_violation';
                        END IF;
                        PERFORM 1 FROM appeals WHERE id = NEW.case_id FOR KEY SHARE;
                        IF NOT FOUND THEN
                            RAISE EXCEPTION '\(unsafeRaw: Self.message)' USING ERRCODE = 'foreign_key_violation';
                        END IF;
                        RETURN NEW;
                    END $$
                    """).run()
                try await sql.raw("""
                    CREATE TRIGGER case_events_case_fkey BEFORE INSERT OR UPDATE OF case_type, case_id ON case_events
                    FOR EACH ROW EXECUTE FUNCTION mujun_case_events_case_fkey()
                    """).run()
                try await sql.raw("""
                    CREATE FUNCTION mujun_appeals_case_events_fkey() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN RETURN NEW; END IF;
                        IF EXISTS (SELECT 1 FROM case_events WHERE case_type = 'appeal' AND case_id = OLD.id) THEN
                            RAISE EXCEPTION '\(unsafeRaw: Self.restrictMessage)' USING ERRCODE = 'foreign_key_violation';
                        END IF;
                        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                        RETURN NEW;
                    END $$
                    """).run()
                try await sql.raw("""
                    CREATE TRIGGER appeals_case_events_fkey BEFORE DELETE OR UPDATE OF id ON appeals
                    FOR EACH ROW EXECUTE FUNCTION mujun_appeals_case_events_fkey()
                    """).run()
            } else {
                let missing = { (row: String) in
                    "\(row).case_type <> 'appeal' OR NOT EXISTS (SELECT 1 FROM appeals WHERE id = \(row).case_id)"
                }
                let hasEvents = "EXISTS (SELECT 1 FROM case_events WHERE case_type = 'appeal' AND case_id = OLD.id)"
                for statement in [
                    "CREATE TRIGGER case_events_case_fkey_insert BEFORE INSERT ON case_events WHEN \(missing("NEW")) "
                        + "BEGIN SELECT RAISE(ABORT, '\(Self.message)'); END",
                    "CREATE TRIGGER case_events_case_fkey_update BEFORE UPDATE OF case_type, case_id ON case_events WHEN \(missing("NEW")) "
                        + "BEGIN SELECT RAISE(ABORT, '\(Self.message)'); END",
                    "CREATE TRIGGER appeals_case_events_fkey_delete BEFORE DELETE ON appeals WHEN \(hasEvents) "
                        + "BEGIN SELECT RAISE(ABORT, '\(Self.restrictMessage)'); END",
                    "CREATE TRIGGER appeals_case_events_fkey_update BEFORE UPDATE OF id ON appeals WHEN NEW.id <> OLD.id AND \(hasEvents) "
                        + "BEGIN SELECT RAISE(ABORT, '\(Self.restrictMessage)'); END",
                ] {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
            }
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if SchemaGuard.isPostgres(sql) {
            try await sql.raw("DROP TRIGGER IF EXISTS case_events_case_fkey ON case_events").run()
            try await sql.raw("DROP TRIGGER IF EXISTS appeals_case_events_fkey ON appeals").run()
            try await sql.raw("DROP FUNCTION IF EXISTS mujun_case_events_case_fkey()").run()
            try await sql.raw("DROP FUNCTION IF EXISTS mujun_appeals_case_events_fkey()").run()
        } else {
            for t in ["case_events_case_fkey_insert", "case_events_case_fkey_update", "appeals_case_events_fkey_delete", "appeals_case_events_fkey_update"] {
                try await sql.raw("DROP TRIGGER IF EXISTS \(unsafeRaw: t)").run()
            }
        }
    }
}
