import FluentKit
import SQLKit

/// The history a project bulletin (项目推进通报) is recomputed from, and the bulletins issued:
/// `project_snapshots` (each project as it stood after each change, JSON), `project_target_log`
/// (every targets import, whole per year and unit) and `project_bulletins` (number, day, the
/// recording time at issue and the SHA-256 of its bytes). The projects and targets already stored
/// get their first snapshot and log entry here.
///
/// ```sql
/// SELECT project_id, data FROM project_snapshots
///  WHERE id IN (SELECT MAX(id) FROM project_snapshots WHERE recorded_us <= 1764900000000000 GROUP BY project_id)
/// ```
struct CreateProjectBulletins: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("project_snapshots")
            .field("id", .int64, .identifier(auto: true))
            .field("project_id", .int64, .required, .references("projects", "id"))
            .field("data", .string, .required)
            .field("recorded_us", .int64, .required)
            .create()
        try await database.schema("project_target_log")
            .field("id", .int64, .identifier(auto: true))
            .field("year", .int, .required)
            .field("unit", .string, .required)
            .field("indicator", .string, .required)
            .field("value", .double, .required)
            .field("batch_us", .int64, .required)
            .create()
        try await database.schema("project_bulletins")
            .field("id", .int64, .identifier(auto: true))
            .field("number", .string, .required)
            .field("title", .string, .required)
            .field("issued_on", .string, .required)
            .field("recorded_us", .int64, .required)
            .field("issued_by", .string, .required)
            .field("sha256", .string, .required)
            .unique(on: "number")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX project_snapshots_project ON project_snapshots (project_id, recorded_us)").run()
        try await sql.raw("CREATE INDEX project_target_log_unit ON project_target_log (year, unit, batch_us)").run()
        // what is stored already becomes the history's first entry
        try await Store(database).snapshotProjects(ids: nil, recordedUs: nil)
        try await sql.raw("""
            INSERT INTO project_target_log (year, unit, indicator, value, batch_us)
            SELECT year, unit, indicator, value, recorded_us FROM project_targets
            """).run()
    }

    func revert(on database: any Database) async throws {
        for t in ["project_bulletins", "project_target_log", "project_snapshots"] { try await database.schema(t).delete() }
    }
}
