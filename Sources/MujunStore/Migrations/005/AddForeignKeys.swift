import FluentKit
import SQLKit

/// Foreign keys wherever one row refers to another, so that neither the server, nor the
/// `mujun` command, nor someone at the `sqlite3`/`psql` prompt can leave a row pointing at
/// nothing. SQLite enforces them because every connection opens with `PRAGMA foreign_keys=ON`
/// (sqlite-kit's `enableForeignKeys`, on by default; a test checks each connection).
///
/// What deleting a referenced row does (`ON DELETE`):
/// - CASCADE where the referring rows are a part of the referenced one and mean nothing
///   without it: a user's sessions and API tokens, an evaluation run's results.
/// - RESTRICT everywhere else: imported figures, appeals, land use, surveys (with their
///   photos) and assessments are records in their own right; deleting what they refer to is
///   refused until they have been dealt with on purpose.
///
/// Not keys, for want of a table to refer to: the credit codes of `users`, `consents`,
/// `land_use` and `parcels.owner_credit_code` name an enterprise, not an enterprise-year
/// (an enterprise may own land or consent in a year without figures). `case_events` refers
/// to its case by (case_type, case_id): see ``AddCaseEventChecks``.
///
/// PostgreSQL: `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY`. SQLite cannot add a constraint
/// to a table, so each referring table is rebuilt with it (``SQLiteTableRebuild``: same
/// columns, types, defaults, NOT NULLs and unique constraints, same rows and ids, its indexes
/// and triggers — the `land` revision triggers of ``CreateDataRevisions`` — made again),
/// parents before children, so that no DROP TABLE meets a table already referred to.
///
/// Rows that already break a key stop the migration before anything changes, with one line per
/// key naming the table, the key, the number of rows and a query that lists them.
struct AddForeignKeys: AsyncMigration {
    /// In rebuild order: a table that is referred to (enterprise_years, parcels) comes before
    /// the tables that refer to it.
    static let keys: [ForeignKey] = [
        ForeignKey("sessions", ["user_id"], references: "users", ["id"], onDelete: .cascade),
        ForeignKey("api_tokens", ["user_id"], references: "users", ["id"], onDelete: .cascade),
        ForeignKey("enterprise_years", ["import_id"], references: "import_batches", ["id"], onDelete: .restrict),
        ForeignKey("evaluation_results", ["run_id"], references: "evaluation_runs", ["id"], onDelete: .cascade),
        ForeignKey("evaluation_results", ["year", "credit_code"], references: "enterprise_years", ["year", "credit_code"], onDelete: .restrict),
        ForeignKey("appeals", ["year", "credit_code"], references: "enterprise_years", ["year", "credit_code"], onDelete: .restrict),
        ForeignKey("parcels", ["import_id"], references: "import_batches", ["id"], onDelete: .restrict),
        ForeignKey("land_use", ["parcel_id"], references: "parcels", ["parcel_id"], onDelete: .restrict),
        ForeignKey("surveys", ["parcel_id"], references: "parcels", ["parcel_id"], onDelete: .restrict),
        ForeignKey("parcel_assessments", ["parcel_id"], references: "parcels", ["parcel_id"], onDelete: .restrict),
        ForeignKey("parcel_assessments", ["year", "cluster"], references: "land_clusters", ["year", "number"], onDelete: .restrict),
    ]

    /// The tables that get keys, in rebuild order.
    static var tables: [String] {
        var seen: Set<String> = []
        return keys.map(\.table).filter { seen.insert($0).inserted }
    }

    func prepare(on database: any Database) async throws {
        try await database.transaction { db in
            let sql = db as! any SQLDatabase
            let problems = try await SchemaGuard.orphans(Self.keys, on: sql)
            guard problems.isEmpty else { throw SchemaGuardError(migration: "AddForeignKeys", problems: problems) }
            if SchemaGuard.isPostgres(sql) {
                for k in Self.keys {
                    try await sql.raw("ALTER TABLE \(unsafeRaw: quoted(k.table)) ADD \(unsafeRaw: k.constraint)").run()
                }
            } else {
                for table in Self.tables {
                    let clauses = Self.keys.filter { $0.table == table }.map(\.constraint)
                    try await SQLiteTableRebuild.rebuild(table, on: sql) { try SQLiteTableRebuild.appending(clauses, to: $0) }
                }
                try await SQLiteTableRebuild.checkForeignKeys(on: sql)
            }
        }
    }

    func revert(on database: any Database) async throws {
        try await database.transaction { db in
            let sql = db as! any SQLDatabase
            if SchemaGuard.isPostgres(sql) {
                for k in Self.keys.reversed() {
                    try await sql.raw("ALTER TABLE \(unsafeRaw: quoted(k.table)) DROP CONSTRAINT IF EXISTS \(unsafeRaw: quoted(k.name))").run()
                }
            } else {
                for table in Self.tables.reversed() {
                    let clauses = Self.keys.filter { $0.table == table }.map(\.constraint)
                    try await SQLiteTableRebuild.rebuild(table, on: sql) { try SQLiteTableRebuild.removing(clauses, from: $0) }
                }
            }
        }
    }
}
