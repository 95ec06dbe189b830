import FluentKit
import SQLKit

/// 企业亩均数据: one enterprise's figures for one year, as imported.
struct CreateEnterpriseYear: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("enterprise_years")
            .field("id", .int64, .identifier(auto: true))
            .field("year", .int, .required)
            .field("credit_code", .string, .required)
            .field("name", .string, .required)
            .field("town", .string, .required)
            .field("grp", .string, .required)
            .field("industry", .string)
            .field("land_mu", .double)
            .field("tax", .double)
            .field("value_added", .double)
            .field("revenue", .double)
            .field("rnd", .double)
            .field("energy_tce", .double)
            .field("emissions", .double)
            .field("electricity", .double)
            .field("employees", .double)
            .field("veto", .string)
            .field("exempt", .string)
            .field("import_id", .int64)
            .unique(on: "year", "credit_code")
            .create()
    }
    func revert(on database: any Database) async throws {
        try await database.schema("enterprise_years").delete()
    }
}

/// One import of a file: who, when, what (the rows themselves live in their tables).
struct CreateImportBatch: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("import_batches")
            .field("id", .int64, .identifier(auto: true))
            .field("kind", .string, .required)
            .field("file_name", .string, .required)
            .field("year", .int)
            .field("rows", .int, .required)
            .field("actor", .string, .required)
            .field("created_at", .datetime, .required)
            .create()
    }
    func revert(on database: any Database) async throws { try await database.schema("import_batches").delete() }
}

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

/// The append-only audit log: who did what, when, with before/after where it applies.
struct CreateAuditEntry: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("audit_log")
            .field("id", .int64, .identifier(auto: true))
            .field("at", .datetime, .required)
            .field("actor", .string, .required)
            .field("action", .string, .required)
            .field("target", .string)
            .field("detail", .string)
            .create()
    }
    func revert(on database: any Database) async throws { try await database.schema("audit_log").delete() }
}
