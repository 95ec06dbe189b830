import FluentKit
import SQLKit

/// One current evaluation run per year: a partial unique index on `evaluation_runs(year)`
/// over the rows with `is_current` (both databases have partial indexes). Every reader of
/// results takes "the" current run of a year; `Store.save` clears the year's flag before it
/// inserts the new run, in one transaction, so it never holds two.
///
/// The other unique constraints the code relies on were there from the start and are kept:
/// enterprise_years (year, credit_code), parcels (parcel_id), land_use (parcel_id,
/// credit_code) and consents (credit_code) — the ON CONFLICT targets of the imports and the
/// demo —, evaluation_results (run_id, credit_code), parcel_assessments (year, parcel_id),
/// land_clusters (year, number), users (login), api_tokens (token_hash), and the primary keys
/// of sessions, publications, settings and data_revisions.
///
/// Years that already have more than one current run stop the migration before anything
/// changes.
struct AddCurrentRunIndex: AsyncMigration {
    static let name = "evaluation_runs_one_current"

    func prepare(on database: any Database) async throws {
        try await database.transaction { db in
            let sql = db as! any SQLDatabase
            struct Row: Decodable { var year: Int; var n: Int }
            let years = try await sql.raw("""
                SELECT year, COUNT(*) AS n FROM evaluation_runs WHERE is_current = \(bind: true)
                GROUP BY year HAVING COUNT(*) > 1 ORDER BY year
                """).all(decoding: Row.self)
            guard years.isEmpty else {
                let list = years.map { "\($0.year): \($0.n)" }.joined(separator: ", ")
                throw SchemaGuardError(migration: "AddCurrentRunIndex", problems: [.init(
                    table: "evaluation_runs", constraint: Self.name, rows: years.reduce(0) { $0 + $1.n },
                    chinese: "每个年度只能有一个当前运行（is_current），这些年度有多个：\(list)；保留一个，其余设为 false",
                    english: "one current run (is_current) per year; these years have more: \(list); keep one, set the others to false",
                    find: "SELECT id, year, created_at FROM evaluation_runs WHERE is_current AND year IN (\(years.map { String($0.year) }.joined(separator: ", "))) ORDER BY year, id")])
            }
            try await sql.raw("CREATE UNIQUE INDEX \(unsafeRaw: quoted(Self.name)) ON evaluation_runs (year) WHERE is_current").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP INDEX IF EXISTS \(unsafeRaw: quoted(Self.name))").run()
    }
}
