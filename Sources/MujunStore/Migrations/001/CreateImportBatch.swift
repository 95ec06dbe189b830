import FluentKit

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
