import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Appeals on the case engine: every appeal has a case of type `appeal` (ref = the appeal's id)
/// whose loop — filed (登记 + 交办 to the headquarters), 签收, 答复, 评价, 销号 — is the engine's;
/// the `appeals` row keeps what only an appeal has (the figure, the values, the results before and
/// after) and mirrors the loop's state in the names its pages use.
extension Store {
    /// The case of appeal `id`.
    func appealCase(appealID id: Int64) async throws -> CaseRecord? {
        guard let caseID = try await sql.select().column("case_id").from("appeal_cases").where("appeal_id", .equal, id)
            .first(decodingColumn: "case_id", as: Int64.self) else { return nil }
        return try await caseRecord(id: caseID)
    }

    /// The events that file an appeal on `date`: registered by the enterprise and assigned to the headquarters.
    static func appealFiling(requester: String, reason: String, on date: CalendarDate) -> [MujunCore.CaseEvent] {
        [MujunCore.CaseEvent(.register, date, unit: requester, note: reason),
         MujunCore.CaseEvent(.assign, date, unit: CaseType.appealUnit)]
    }

    /// Registers and assigns the case of a newly filed appeal (inside the filing's transaction).
    @discardableResult
    func insertAppealCase(appealID: Int64, creditCode: String, town: String, field: AppealField, reason: String,
                          requester: String, requesterUser: Int64?, on date: CalendarDate, calendar: WorkCalendar,
                          actor: String, recordedUs: Int64, history: [MujunCore.CaseEvent]? = nil) async throws -> Int64 {
        let events = history ?? Self.appealFiling(requester: requester, reason: reason, on: date)
        var loop = CaseLoop(type: .appeal)
        for e in events { try loop.apply(e, calendar: calendar) }
        let c = NewCase(type: CaseType.appeal.key, ref: String(appealID), title: "申诉 #\(appealID)：\(field.chinese)", body: reason,
                        requester: requester, requesterUser: requesterUser, creditCode: creditCode, parcelID: nil,
                        clusterYear: nil, clusterNumber: nil, town: town, meetingID: nil, queryCodeHash: nil)
        let id = try await insertCase(c, loop: loop, events: events, actor: actor, recordedUs: recordedUs)
        try await sql.insert(into: "appeal_cases").columns("appeal_id", "case_id").values(SQLBind(appealID), SQLBind(id)).run()
        return id
    }

    /// Mirrors the loop's state on the appeals row; false when the row was not in `from`.
    func setAppealState(id: Int64, from: String, to: CaseState, extra: [(String, any SQLExpression)] = []) async throws -> Bool {
        var u = sql.update("appeals").set("state", to: to.rawValue)
        for (c, v) in extra { u = u.set(SQLColumn(c), to: v) }
        return try await u.where("id", .equal, id).where("state", .equal, from).returning("id").all().count == 1
    }
}
