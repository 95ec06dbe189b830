import FluentKit
import SQLKit

/// Projects (项目, issue 10): remediation, challenges and urban renewal, each with its milestones
/// (节点: planned and actual dates, weights), the parcels it covers, its monthly reports (每月有进展)
/// with their photos, and its history (who changed what, when). `state` and `progress` are the
/// 滞后 rules' verdict as of the last change or check (the map and the roll-up read them);
/// `cases.project_id` links the supervision cases (项目督办) the rules opened.
///
/// ```sql
/// SELECT town, state, COUNT(*) FROM projects GROUP BY town, state
/// ```
struct CreateProjects: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("projects")
            .field("id", .int64, .identifier(auto: true))
            .field("ref", .string, .required)
            .field("name", .string, .required)
            .field("type", .string, .required)
            .field("mode", .string)
            .field("town", .string, .required)
            .field("block", .string)
            .field("lead_unit", .string, .required)
            .field("target_mu", .double)
            .field("households", .int)
            .field("signed", .int, .required)
            .field("vacated", .int, .required)
            .field("demolished", .int, .required)
            .field("start_on", .string, .required)
            // 腾出空间 (mu), 新增投资 (万元) and the new occupants, recorded on completion
            .field("freed_mu", .double)
            .field("new_investment", .double)
            .field("new_occupants", .string)
            // the rules' verdict: not_started | on_track | late | completed, progress 0…1, as of judged_on
            .field("state", .string, .required)
            .field("progress", .double, .required)
            .field("judged_on", .string, .required)
            .field("version", .int, .required)
            .field("created_by", .string, .required)
            .field("recorded_us", .int64, .required)
            .unique(on: "ref")
            .create()
        try await database.schema("project_parcels")
            .field("project_id", .int64, .required, .references("projects", "id"))
            .field("parcel_id", .string, .required)
            .unique(on: "project_id", "parcel_id")
            .create()
        try await database.schema("project_milestones")
            .field("project_id", .int64, .required, .references("projects", "id"))
            .field("seq", .int, .required)
            .field("name", .string, .required)
            .field("weight", .int, .required)
            .field("planned_on", .string, .required)
            .field("done_on", .string)
            .field("measure", .string)
            // the share done as last reported (0…1)
            .field("reported", .double)
            .unique(on: "project_id", "seq")
            .create()
        try await database.schema("project_reports")
            .field("id", .int64, .identifier(auto: true))
            .field("project_id", .int64, .required, .references("projects", "id"))
            .field("month", .string, .required)
            .field("text", .string, .required)
            // the figures of the month: JSON {"invested": …, "freed_mu": …, "signed": …}
            .field("figures", .string, .required)
            .field("unit", .string, .required)
            .field("filed_on", .string, .required)
            .field("filed_by", .string, .required)
            .field("recorded_us", .int64, .required)
            .unique(on: "project_id", "month")
            .create()
        try await database.schema("project_photos")
            .field("id", .int64, .identifier(auto: true))
            .field("report_id", .int64, .required, .references("project_reports", "id"))
            .field("name", .string, .required)
            .field("content_type", .string, .required)
            .field("size", .int64, .required)
            .field("sha256", .string, .required)
            .field("data", .data, .required)
            .create()
        try await database.schema("project_events")
            .field("id", .int64, .identifier(auto: true))
            .field("project_id", .int64, .required, .references("projects", "id"))
            // created | milestone | report | figures | completed | late | supervised | cleared
            .field("kind", .string, .required)
            .field("date", .string, .required)
            .field("actor", .string, .required)
            .field("detail", .string, .required)
            .field("recorded_us", .int64, .required)
            .create()
        try await database.schema("cases")
            .field("project_id", .int64)
            .update()
        let sql = database as! any SQLDatabase
        for stmt in [
            "CREATE INDEX projects_town ON projects (town, state)",
            "CREATE INDEX projects_lead ON projects (lead_unit)",
            "CREATE INDEX project_parcels_parcel ON project_parcels (parcel_id)",
            "CREATE INDEX project_reports_project ON project_reports (project_id)",
            "CREATE INDEX project_photos_report ON project_photos (report_id)",
            "CREATE INDEX project_events_project ON project_events (project_id)",
            "CREATE INDEX cases_project ON cases (project_id)",
        ] {
            try await sql.raw(SQLQueryString(stmt)).run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DROP INDEX cases_project").run()
        try await database.schema("cases").deleteField("project_id").update()
        for t in ["project_events", "project_photos", "project_reports", "project_milestones", "project_parcels", "projects"] {
            try await database.schema(t).delete()
        }
    }
}
