import FluentKit
import SQLKit

/// Failed sign-ins (and petition look-ups) per client address and per unknown user name, in the
/// database so that every instance behind the reverse proxy counts the same failures: twenty from
/// one address in 15 minutes block it on all of them. Rows older than their window are deleted
/// as new ones come in (`Store.recordSignInFailure`).
///
/// ```sql
/// SELECT COUNT(*) FROM sign_in_failures WHERE kind = 'address' AND key = '203.0.113.7' AND at_us > 1733390000000000
/// ```
struct CreateSignInFailures: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("sign_in_failures")
            .field("kind", .string, .required)
            .field("key", .string, .required)
            .field("at_us", .int64, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("CREATE INDEX sign_in_failures_key ON sign_in_failures (kind, key, at_us)").run()
        try await sql.raw("CREATE INDEX sign_in_failures_at ON sign_in_failures (at_us)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("sign_in_failures").delete()
    }
}
