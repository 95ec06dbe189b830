import FluentKit
import SQLKit

/// The yearly quantified targets (目标任务清单, issue 10): one value per year, unit (a town or a
/// department) and indicator (`remediated_mu`, `freed_mu`, `projects_done`, `households_signed`).
/// A new import for a year and unit replaces that unit's targets of the year.
///
/// ```sql
/// SELECT unit, indicator, value FROM project_targets WHERE year = 2026 ORDER BY unit
/// ```
struct CreateProjectTargets: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("project_targets")
            .field("id", .int64, .identifier(auto: true))
            .field("year", .int, .required)
            .field("unit", .string, .required)
            .field("indicator", .string, .required)
            .field("value", .double, .required)
            .field("set_by", .string, .required)
            .field("recorded_us", .int64, .required)
            .unique(on: "year", "unit", "indicator")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("project_targets").delete()
    }
}
