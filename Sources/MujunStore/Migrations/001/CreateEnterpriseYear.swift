import FluentKit

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
