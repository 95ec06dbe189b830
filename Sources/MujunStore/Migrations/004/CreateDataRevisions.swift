import FluentKit
import SQLKit

/// A revision number per group of tables, raised by the database itself (triggers) on every
/// insert, update or delete, whoever writes: the server, the `mujun` command in another
/// process, or someone at the `sqlite3`/`psql` prompt. The server keeps answers built from
/// those tables (the OGC API's serialized parcels) only while the revision is unchanged.
///
/// - SQLite: one row-level trigger per table and operation (SQLite has no statement triggers).
/// - PostgreSQL: one statement-level trigger per table (also on TRUNCATE), so a bulk import
///   raises the revision once per statement, not once per row.
struct CreateDataRevisions: AsyncMigration {
    /// The tables whose changes raise the `land` revision.
    static let landTables = ["parcels", "land_use", "parcel_assessments", "land_clusters", "surveys"]

    func prepare(on database: any Database) async throws {
        try await database.schema("data_revisions")
            .field("name", .string, .identifier(auto: false))
            .field("revision", .int64, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.insert(into: "data_revisions").columns("name", "revision").values(SQLBind("land"), SQLBind(Int64(0))).run()
        let bump = "UPDATE data_revisions SET revision = revision + 1 WHERE name = 'land'"
        if sql.dialect.name == "postgresql" {
            try await sql.raw("""
                CREATE OR REPLACE FUNCTION mujun_bump_land_revision() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN \(unsafeRaw: bump); RETURN NULL; END $$
                """).run()
            for t in Self.landTables {
                try await sql.raw("""
                    CREATE TRIGGER \(unsafeRaw: t)_land_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON \(unsafeRaw: t)
                    FOR EACH STATEMENT EXECUTE FUNCTION mujun_bump_land_revision()
                    """).run()
            }
        } else {
            for t in Self.landTables {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    try await sql.raw("""
                        CREATE TRIGGER \(unsafeRaw: t)_land_revision_\(unsafeRaw: op.lowercased()) AFTER \(unsafeRaw: op) ON \(unsafeRaw: t)
                        BEGIN \(unsafeRaw: bump); END
                        """).run()
                }
            }
        }
    }

    func revert(on database: any Database) async throws {
        if let sql = database as? any SQLDatabase {
            if sql.dialect.name == "postgresql" {
                for t in Self.landTables { try await sql.raw("DROP TRIGGER IF EXISTS \(unsafeRaw: t)_land_revision ON \(unsafeRaw: t)").run() }
                try await sql.raw("DROP FUNCTION IF EXISTS mujun_bump_land_revision()").run()
            } else {
                for t in Self.landTables {
                    for op in ["insert", "update", "delete"] { try await sql.raw("DROP TRIGGER IF EXISTS \(unsafeRaw: t)_land_revision_\(unsafeRaw: op)").run() }
                }
            }
        }
        try await database.schema("data_revisions").delete()
    }
}
