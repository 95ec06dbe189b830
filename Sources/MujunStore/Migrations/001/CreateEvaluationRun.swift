import FluentKit

/// An evaluation run of one year: the rules used, the benchmarks, when and by whom.
/// Earlier runs stay; `is_current` marks the one in force for the year.
struct CreateEvaluationRun: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("evaluation_runs")
            .field("id", .int64, .identifier(auto: true))
            .field("year", .int, .required)
            .field("rules_yaml", .string, .required)
            .field("benchmarks_json", .string, .required)
            .field("enterprises", .int, .required)
            .field("evaluated", .int, .required)
            .field("is_current", .bool, .required)
            .field("actor", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
    }
    func revert(on database: any Database) async throws { try await database.schema("evaluation_runs").delete() }
}
