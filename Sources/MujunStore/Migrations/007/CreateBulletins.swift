import FluentKit

/// Issued bulletins (督导通报): the number, the date of issue, the parameters and the recording
/// time at issue — regenerating one reads only the events recorded by then, so it gives the same
/// bytes whatever was entered (or back-dated) later.
struct CreateBulletins: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("bulletins")
            .field("id", .int64, .identifier(auto: true))
            .field("number", .string, .required)
            .field("title", .string, .required)
            .field("issued_on", .string, .required)
            .field("type", .string)
            .field("from_date", .string, .required)
            .field("to_date", .string, .required)
            .field("as_of", .string, .required)
            .field("recorded_us", .int64, .required)
            .field("issued_by", .string, .required)
            .unique(on: "number")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("bulletins").delete()
    }
}
