import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Appeals move onto the case engine: every appeal filed before this migration gets its case
/// (type `appeal`, ref = the appeal's id) with the events of its history in `case_events`
/// (filing → 登记 + 交办 to the headquarters, 已签收 → 签收, 已答复 → 答复, 已评价 → 评价 with the
/// appeal's rating, 已销号 → 销号, 已退回 → 退回), dated in Asia/Shanghai, replayed by the engine.
/// `case_events` stays as it was (the record of those years); new steps write `loop_events`.
struct MoveAppealsOntoCases: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let store = Store(database)
        // which case each appeal is (the link keeps an appeal with a history from being deleted)
        try await database.schema("appeal_cases")
            .field("appeal_id", .int64, .required, .references("appeals", "id"))
            .field("case_id", .int64, .required, .references("cases", "id"))
            .unique(on: "appeal_id")
            .unique(on: "case_id")
            .create()
        struct A: Decodable { var id: Int64; var credit_code: String; var town: String; var field: String; var reason: String; var filed_by: String; var rating: Int? }
        struct E: Decodable { var case_id: Int64; var to_state: String; var actor: String; var note: String?; var at: Date }
        let appeals = try await sql.select().columns("id", "credit_code", "town", "field", "reason", "filed_by", "rating").from("appeals")
            .orderBy("id").all(decoding: A.self)
        guard !appeals.isEmpty else { return }
        var events: [Int64: [E]] = [:]
        for e in try await sql.select().columns("case_id", "to_state", "actor", "note", "at").from("case_events")
            .where("case_type", .equal, "appeal").orderBy("id").all(decoding: E.self) {
            events[e.case_id, default: []].append(e)
        }
        let users = try await sql.select().columns("id", "login").from("users").all().reduce(into: [String: Int64]()) { m, r in
            if let login = try? r.decode(column: "login", as: String.self), let id = try? r.decode(column: "id", as: Int64.self) { m[login] = id }
        }
        let now = Store.nowMicros()
        for a in appeals {
            guard try await store.caseID(type: CaseType.appeal.key, ref: String(a.id)) == nil else { continue }
            let history = events[a.id] ?? []
            func day(_ d: Date) -> CalendarDate { CalendarDate(ChinaDay.today(d))! }
            let filed = history.first.map { day($0.at) } ?? CalendarDate(ChinaDay.today())!
            var loopEvents = Store.appealFiling(requester: a.credit_code, reason: a.reason, on: filed)
            var last = filed
            for e in history.dropFirst() {
                let d = max(last, day(e.at))
                last = d
                let note = e.note ?? ""
                switch CaseState(rawValue: e.to_state) {
                case .accepted: loopEvents.append(.init(.accept, d, unit: CaseType.appealUnit, note: note))
                case .replied: loopEvents.append(.init(.reply, d, unit: CaseType.appealUnit, note: String(note.prefix(2000))))
                case .evaluated: loopEvents.append(.init(.evaluate, d, rating: CaseRating(score: a.rating ?? 5) ?? .satisfied, note: note))
                case .closed:
                    if !loopEvents.contains(where: { $0.kind == .evaluate }) {
                        loopEvents.append(.init(.evaluate, d, rating: CaseRating(score: a.rating ?? 5) ?? .satisfied))
                    }
                    loopEvents.append(.init(.close, d, unit: CaseType.appealUnit))
                case .returned: loopEvents.append(.init(.return, d, unit: CaseType.appealUnit, note: note.isEmpty ? "退回" : note))
                default: continue
                }
            }
            // an event the engine would refuse is left out, so that the rest is kept
            var loop = CaseLoop(type: .appeal)
            let kept = loopEvents.filter { (try? loop.apply($0, calendar: .shipped)) != nil }
            try await store.insertAppealCase(appealID: a.id, creditCode: a.credit_code, town: a.town,
                                             field: AppealField(rawValue: a.field) ?? .tax, reason: a.reason, requester: a.credit_code,
                                             requesterUser: users[a.filed_by], on: filed, calendar: .shipped, actor: "migration",
                                             recordedUs: now, history: kept)
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await database.schema("appeal_cases").delete()
        try await sql.raw("DELETE FROM case_attachments WHERE case_id IN (SELECT id FROM cases WHERE type = 'appeal')").run()
        try await sql.raw("DELETE FROM case_notes WHERE case_id IN (SELECT id FROM cases WHERE type = 'appeal')").run()
        try await sql.raw("DELETE FROM loop_events WHERE case_id IN (SELECT id FROM cases WHERE type = 'appeal')").run()
        try await sql.raw("DELETE FROM cases WHERE type = 'appeal'").run()
    }
}
