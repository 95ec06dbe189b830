import FluentKit
import SQLKit

/// Users, their sessions and API tokens.
struct CreateAccounts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("users")
            .field("id", .int64, .identifier(auto: true))
            .field("login", .string, .required)
            .field("display_name", .string, .required)
            .field("unit", .string, .required)
            .field("role", .string, .required)
            .field("town", .string)
            .field("credit_code", .string)
            .field("password_hash", .string, .required)
            .field("must_change_password", .bool, .required)
            .field("failed_attempts", .int, .required)
            .field("locked_until", .datetime)
            .field("disabled", .bool, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "login")
            .create()
        try await database.schema("sessions")
            .field("id", .string, .identifier(auto: false))
            .field("user_id", .int64, .required)
            .field("csrf_token", .string, .required)
            .field("created_at", .datetime, .required)
            .field("last_seen", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("address", .string)
            .create()
        try await database.schema("api_tokens")
            .field("id", .int64, .identifier(auto: true))
            .field("user_id", .int64, .required)
            .field("name", .string, .required)
            .field("token_hash", .string, .required)
            .field("prefix", .string, .required)
            .field("created_at", .datetime, .required)
            .field("created_by", .string, .required)
            .field("revoked_at", .datetime)
            .field("last_used", .datetime)
            .unique(on: "token_hash")
            .create()
        try await database.schema("settings")
            .field("key", .string, .identifier(auto: false))
            .field("value", .string, .required)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "sessions_user").on("sessions").column("user_id").run()
        }
    }
    func revert(on database: any Database) async throws {
        for t in ["settings", "api_tokens", "sessions", "users"] { try await database.schema(t).delete() }
    }
}
