import FluentKit

/// Per-user notification settings. A user's own channels are a `notify_targets` row keyed
/// `user:<login>` (the recipient of the messages addressed to that user, such as a deputy told of
/// a reply); `follow_unit` says that the user also wants every message addressed to their unit
/// (a staff member's own mailbox beside the unit's shared one).
///
/// ```sql
/// SELECT unit, email, follow_unit FROM notify_targets WHERE unit LIKE 'user:%'
/// ```
struct AddNotifyFollowUnit: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("notify_targets")
            .field(.definition(name: .key(.string("follow_unit")), dataType: .bool, constraints: [])).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("notify_targets").deleteField(.string("follow_unit")).update()
    }
}
