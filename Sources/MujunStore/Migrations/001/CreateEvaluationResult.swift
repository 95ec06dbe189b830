import FluentKit
import SQLKit

/// One enterprise's result in a run, with its whole explanation as JSON.
struct CreateEvaluationResult: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("evaluation_results")
            .field("id", .int64, .identifier(auto: true))
            .field("run_id", .int64, .required)
            .field("year", .int, .required)
            .field("credit_code", .string, .required)
            .field("name", .string, .required)
            .field("town", .string, .required)
            .field("grp", .string, .required)
            .field("evaluated", .bool, .required)
            .field("exempt_reason", .string)
            .field("land_mu", .double)
            .field("tax_per_mu", .double)
            .field("total_score", .double)
            .field("rank", .int)
            .field("class_before", .string)
            .field("final_class", .string)
            .field("veto", .string)
            .field("explanation", .string, .required)
            .unique(on: "run_id", "credit_code")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "evaluation_results_run_group").on("evaluation_results")
                .column("run_id").column("grp").column("total_score").run()
            try await sql.create(index: "evaluation_results_code_year").on("evaluation_results")
                .column("credit_code").column("year").run()
            try await sql.create(index: "evaluation_runs_year").on("evaluation_runs")
                .column("year").column("is_current").run()
        }
    }
    func revert(on database: any Database) async throws { try await database.schema("evaluation_results").delete() }
}
