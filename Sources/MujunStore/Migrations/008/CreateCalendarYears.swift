import FluentKit

/// The years of the work calendar the administrator added on the calendar page (the State
/// Council publishes each year's holiday arrangement in November): the holidays as written
/// (a day or first..last per entry) and the make-up working days (调休), by whom and when.
struct CreateCalendarYears: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("calendar_years")
            .field("year", .int, .required)
            .field("holidays", .string, .required)
            .field("workdays", .string, .required)
            .field("recorded_by", .string, .required)
            .field("recorded_us", .int64, .required)
            .unique(on: "year")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("calendar_years").delete()
    }
}
