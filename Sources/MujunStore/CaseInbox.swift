import Foundation
import FluentKit
import SQLKit
import MujunCore

/// A unit's inbox (待办) read in SQL: its groups counted over every open case and listed a page at
/// a time, most urgent first, so an inbox of thousands of open cases costs two counting queries
/// and one short list per group instead of decoding every case.
///
/// ```swift
/// let c = try await store.inboxCounts(InboxWindow(unit: "古山镇", today: d, redOnOrBefore: r, soon: s, verifyTypes: ["hazard"]))
/// c[.overdue]   // cases led by 古山镇, not yet replied, past a deadline
/// ```
public enum InboxGroup: String, Sendable, CaseIterable, Codable {
    case toAccept = "to-accept", inProgress = "in-progress", dueSoon = "due-soon", overdue, verification, assisting, followUp = "follow-up"

    /// 待签收 办理中 将到期 已超期 待验收 协办 待续报
    public var chinese: String {
        switch self {
        case .toAccept: "待签收"
        case .inProgress: "办理中"
        case .dueSoon: "将到期"
        case .overdue: "已超期"
        case .verification: "待验收"
        case .assisting: "协办"
        case .followUp: "待续报"
        }
    }

    /// The key in the JSON counts (`to_accept`, …).
    public var key: String { rawValue.replacingOccurrences(of: "-", with: "_") }
}

/// What an inbox is read against: the unit, today, and the dates the flags turn on.
public struct InboxWindow: Sendable {
    public var unit: String
    public var today: CalendarDate
    /// A case whose earliest missed deadline is on or before this date is red (else yellow).
    public var redOnOrBefore: CalendarDate
    /// Due soon: the next deadline on or before this date (and not before today).
    public var soon: CalendarDate
    /// The type keys whose replies are verified (验收).
    public var verifyTypes: [String]

    /// The red boundary for `today`: the latest date `e` before today with the (redAfter+1)-th
    /// working day after `e` on or before today — the same rule as `CaseLoop.flag`.
    public static func redBoundary(today: CalendarDate, calendar: WorkCalendar, redAfter: Int) -> CalendarDate {
        var e = today.adding(days: -1)
        var n = 0
        while calendar.addingWorkdays(redAfter + 1, to: e) > today, n < 1000 { e = e.adding(days: -1); n += 1 }
        return e
    }

    public init(unit: String, today: CalendarDate, redOnOrBefore: CalendarDate, soon: CalendarDate, verifyTypes: [String]) {
        self.unit = unit; self.today = today; self.redOnOrBefore = redOnOrBefore; self.soon = soon; self.verifyTypes = verifyTypes
    }
}

extension Store {
    /// The earliest missed-deadline candidate of an open case (CaseService.flag): while assigned the
    /// earlier of the accept and reply deadlines, while handling the re-handling or reply deadline.
    static let inboxEffectiveDue = "(CASE WHEN state = 'assigned' THEN (CASE WHEN reply_due IS NOT NULL AND reply_due < accept_due THEN reply_due ELSE accept_due END) WHEN state = 'handling' THEN COALESCE(rehandle_due, reply_due) END)"
    /// The deadline a case is working towards: accept while assigned, else the reply.
    static let inboxNextDue = "(CASE WHEN state = 'assigned' THEN accept_due ELSE COALESCE(rehandle_due, reply_due) END)"

    /// The SQL condition of `group` (with its binds) for `w`.
    static func inboxCondition(_ group: InboxGroup, _ w: InboxWindow) -> SQLQueryString {
        let today = w.today.description
        let led: SQLQueryString = "lead_unit = \(bind: w.unit)"
        let open: SQLQueryString = "state IN ('assigned', 'handling')"
        let eff = SQLQueryString(inboxEffectiveDue), next = SQLQueryString(inboxNextDue)
        switch group {
        case .toAccept: return led + " AND state = 'assigned'"
        case .inProgress: return led + " AND state = 'handling'"
        case .overdue: return led + " AND " + open + " AND " + eff + " < \(bind: today)"
        case .dueSoon:
            return led + " AND " + open + " AND (" + eff + " IS NULL OR " + eff + " >= \(bind: today)) AND "
                + next + " >= \(bind: today) AND " + next + " <= \(bind: w.soon.description)"
        case .verification:
            if w.verifyTypes.isEmpty { return "1 = 0" }
            var s = led + " AND state = 'replied' AND type IN ("
            for (i, t) in w.verifyTypes.enumerated() { s = s + (i == 0 ? "" : ", ") + "\(bind: t)" }
            return s + ")"
        case .assisting: return "co_units LIKE \(bind: "%;\(w.unit);%") AND lead_unit <> \(bind: w.unit) AND " + open
        case .followUp: return led + " AND follow_up_due IS NOT NULL"
        }
    }

    /// Every group's count, and the yellow and red among the overdue.
    public func inboxCounts(_ w: InboxWindow) async throws -> (counts: [InboxGroup: Int], yellow: Int, red: Int) {
        var select: SQLQueryString = "SELECT "
        let led: [InboxGroup] = InboxGroup.allCases.filter { $0 != .assisting }
        for g in led {
            select = select + "COALESCE(SUM(CASE WHEN " + Self.inboxCondition(g, w) + " THEN 1 ELSE 0 END), 0) AS " + SQLQueryString(g.key.replacingOccurrences(of: "-", with: "_")) + ", "
        }
        select = select + "COALESCE(SUM(CASE WHEN " + Self.inboxCondition(.overdue, w) + " AND " + SQLQueryString(Self.inboxEffectiveDue)
            + " <= \(bind: w.redOnOrBefore.description) THEN 1 ELSE 0 END), 0) AS red FROM cases WHERE lead_unit = \(bind: w.unit)"
        // the unit's own cases and the ones it assists (a scan of co_units), asked for at once
        let sql = self.sql
        async let assisting = sql.raw("SELECT COUNT(*) AS n FROM cases WHERE " + Self.inboxCondition(.assisting, w)).first()
        var counts: [InboxGroup: Int] = [:]
        var red = 0
        if let row = try await sql.raw(select).first() {
            for g in led { counts[g] = Int(try row.decode(column: g.key, as: Int64.self)) }
            red = Int(try row.decode(column: "red", as: Int64.self))
        }
        counts[.assisting] = Int(try await assisting?.decode(column: "n", as: Int64.self) ?? 0)
        let overdue = counts[.overdue] ?? 0
        return (counts, overdue - red, red)
    }

    /// A page of `group`, most urgent first (the next deadline, then the case number).
    public func inboxRows(_ group: InboxGroup, _ w: InboxWindow, limit: Int, offset: Int) async throws -> [CaseRecord] {
        let order = group == .followUp ? "follow_up_due" : Self.inboxNextDue
        let q: SQLQueryString = "SELECT " + SQLQueryString(Self.caseColumns.joined(separator: ", ")) + " FROM cases WHERE "
            + Self.inboxCondition(group, w) + " ORDER BY " + SQLQueryString(order) + ", id LIMIT \(unsafeRaw: String(max(0, limit))) OFFSET \(unsafeRaw: String(max(0, offset)))"
        return try await sql.raw(q).all(decoding: CaseRecord.self, with: Self.caseDecoder)
    }
}
