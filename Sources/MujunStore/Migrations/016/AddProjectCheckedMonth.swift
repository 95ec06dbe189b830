import FluentKit

/// The month whose report a stored verdict checked (`YYYY-MM`), beside `judged_on`: a verdict
/// stands for a day only if it was judged that day **and** against the month a judgement on that
/// day checks now (a calendar year added on the page or another `report_day` can move it). NULL:
/// not known (rows from before this migration, rows written outside the services) — such a
/// project is judged afresh by the roll-up until the next check stores its verdict.
///
/// ```sql
/// SELECT town, state, progress FROM projects WHERE judged_on = '2026-12-05' AND checked_month = '2026-10'
/// ```
struct AddProjectCheckedMonth: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("projects").field(.definition(name: .key(.string("checked_month")), dataType: .string, constraints: [])).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("projects").deleteField(.string("checked_month")).update()
    }
}
