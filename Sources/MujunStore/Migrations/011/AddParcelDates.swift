import FluentKit
import SQLKit

/// A parcel's dates (FORMATS.md, parcels): when its use was approved (批) and the land supplied
/// (供), the start and completion agreed in the supply contract, and when it went into operation.
/// With them the yearly assessment tells the five kinds of low-efficiency land apart
/// (批而未供、供而未用、用而未尽、建而未投、投而未达标). `YYYY-MM-DD`, NULL when the file gave none.
///
/// ```sql
/// SELECT parcel_id FROM parcels WHERE approved_on <= '2025-12-31' AND (supplied_on IS NULL OR supplied_on > '2025-12-31')
/// ```
struct AddParcelDates: AsyncMigration {
    static let columns = ["approved_on", "supplied_on", "start_by", "finish_by", "operating_since"]

    func prepare(on database: any Database) async throws {
        for c in Self.columns {
            try await database.schema("parcels").field(.definition(name: .key(.string(c)), dataType: .string, constraints: [])).update()
        }
    }

    func revert(on database: any Database) async throws {
        for c in Self.columns { try await database.schema("parcels").deleteField(.string(c)).update() }
    }
}
