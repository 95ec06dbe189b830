import FluentKit

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
