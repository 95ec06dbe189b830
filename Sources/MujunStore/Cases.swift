import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The case engine's rows: `cases` (each case with its loop as of its latest event) and
/// `loop_events` (its history). The loop itself is MujunCore's `CaseLoop`; these methods only
/// store and read what it decided.
extension Store {
    /// A case as stored.
    public struct CaseRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var type: String
        public var ref: String
        public var title: String
        public var body: String
        public var requester: String
        public var requesterUser: Int64?
        public var creditCode: String?
        public var parcelId: String?
        public var clusterYear: Int?
        public var clusterNumber: Int?
        public var town: String?
        public var meetingId: Int64?
        public var state: String
        public var leadUnit: String?
        /// `;A;B;` (the separators around every name make a unit's match exact)
        public var coUnits: String
        public var level: String
        public var registeredOn: String
        public var assignedOn: String?
        public var acceptDue: String?
        public var acceptedOn: String?
        public var replyDue: String?
        public var rehandleDue: String?
        public var firstReplyOn: String?
        public var rating: String?
        public var category: String?
        public var head: Bool
        public var lastEventOn: String
        public var version: Int
        /// A follow-up report (续报) is owed by this date (a reply in category B or C), until resolved.
        public var followUpDue: String?
        enum CodingKeys: String, CodingKey { case followUpDue = "follow_up_due", id, type, ref, title, body, requester, requesterUser = "requester_user", creditCode = "credit_code", parcelId = "parcel_id", clusterYear = "cluster_year", clusterNumber = "cluster_number", town, meetingId = "meeting_id", state, leadUnit = "lead_unit", coUnits = "co_units", level, registeredOn = "registered_on", assignedOn = "assigned_on", acceptDue = "accept_due", acceptedOn = "accepted_on", replyDue = "reply_due", rehandleDue = "rehandle_due", firstReplyOn = "first_reply_on", rating, category, head, lastEventOn = "last_event_on", version }

        public var coUnitList: [String] { coUnits.split(separator: ";").map(String.init) }
        public var loopState: CaseLoop.State? { CaseLoop.State(rawValue: state) }
        /// The reply deadline that counts now (re-handling, else the first reply's).
        public var currentReplyDue: String? { rehandleDue ?? replyDue }
    }

    /// One event of a case as stored.
    public struct LoopEventRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var caseId: Int64
        public var seq: Int
        public var kind: String
        public var date: String
        /// When it was recorded (microseconds since 1970): a bulletin issued at T reads only events recorded by T.
        public var recordedUs: Int64
        public var actor: String
        public var unit: String
        public var coUnits: String
        public var due: String?
        public var category: String?
        public var rating: String?
        public var head: Bool
        public var passed: Bool?
        public var level: String
        public var note: String
        enum CodingKeys: String, CodingKey { case id, caseId = "case_id", seq, kind, date, recordedUs = "recorded_us", actor, unit, coUnits = "co_units", due, category, rating, head, passed, level, note }

        /// The event as the engine applies it (nil for a row no engine wrote).
        public var event: MujunCore.CaseEvent? {
            guard let k = CaseEventKind(rawValue: kind), let d = CalendarDate(date) else { return nil }
            return MujunCore.CaseEvent(k, d, unit: unit, coUnits: coUnits.split(separator: ";").map(String.init),
                             due: due.flatMap(CalendarDate.init), category: category,
                             rating: rating.flatMap(CaseRating.init(rawValue:)), head: head, passed: passed,
                             note: note, level: SupervisionLevel(rawValue: level) ?? .normal)
        }
    }

    /// Rows decode by the types' own snake_case CodingKeys (a key strategy converts every key of every row).
    static let caseDecoder = SQLRowDecoder()

    /// `;A;B;` for a list of units.
    static func unitList(_ units: [String]) -> String { units.isEmpty ? "" : ";" + units.joined(separator: ";") + ";" }

    /// The condition that keeps the rows of `scope` (nil = every row).
    static func caseCondition(_ scope: CaseScope) -> (any SQLExpression)? {
        func eq(_ c: String, _ v: any Encodable & Sendable) -> any SQLExpression {
            SQLBinaryExpression(SQLColumn(c), .equal, SQLBind(v))
        }
        func or(_ parts: [any SQLExpression]) -> any SQLExpression {
            SQLGroupExpression(parts.dropFirst().reduce(parts[0]) { SQLBinaryExpression($0, .or, $1) })
        }
        switch scope {
        case .all: return nil
        case .none: return SQLBinaryExpression(SQLLiteral.numeric("1"), .equal, SQLLiteral.numeric("0"))
        case .units(let unit, let town):
            var parts: [any SQLExpression] = [eq("lead_unit", unit),
                                              SQLBinaryExpression(SQLColumn("co_units"), .like, SQLBind("%;\(unit);%"))]
            if let town { parts.append(eq("town", town)) }
            return or(parts)
        case .requester(let id, let code):
            var parts: [any SQLExpression] = [eq("requester_user", id)]
            if let code { parts.append(eq("credit_code", code)) }
            return or(parts)
        }
    }

    static let caseColumns = ["id", "type", "ref", "title", "body", "requester", "requester_user", "credit_code", "parcel_id",
                              "cluster_year", "cluster_number", "town", "meeting_id", "state", "lead_unit", "co_units", "level",
                              "registered_on", "assigned_on", "accept_due", "accepted_on", "reply_due", "rehandle_due",
                              "first_reply_on", "rating", "category", "head", "last_event_on", "version", "follow_up_due"]

    /// What a case list is filtered by.
    public struct CaseQuery: Sendable, Hashable {
        public var type: String?
        public var states: [String]?
        public var leadUnit: String?
        public var parcelID: String?
        public var creditCode: String?
        public var meetingID: Int64?
        public var text: String?
        public init(type: String? = nil, states: [String]? = nil, leadUnit: String? = nil, parcelID: String? = nil,
                    creditCode: String? = nil, meetingID: Int64? = nil, text: String? = nil) {
            self.type = type; self.states = states; self.leadUnit = leadUnit; self.parcelID = parcelID
            self.creditCode = creditCode; self.meetingID = meetingID; self.text = text
        }
    }

    /// The cases of `scope` matching `q`, newest first.
    func cases(scope: CaseScope, _ q: CaseQuery = CaseQuery(), limit: Int? = nil, offset: Int = 0) async throws -> [CaseRecord] {
        var s = sql.select().columns(Self.caseColumns.map { SQLColumn($0) }).from("cases")
        if let c = Self.caseCondition(scope) { s = s.where(c) }
        if let t = q.type { s = s.where("type", .equal, t) }
        if let st = q.states { s = s.where("state", .in, st) }
        if let u = q.leadUnit { s = s.where("lead_unit", .equal, u) }
        if let p = q.parcelID { s = s.where("parcel_id", .equal, p) }
        if let c = q.creditCode { s = s.where("credit_code", .equal, c) }
        if let m = q.meetingID { s = s.where("meeting_id", .equal, m) }
        if let t = q.text, !t.isEmpty {
            let p = "%" + t + "%"
            s = s.where(SQLGroupExpression(SQLBinaryExpression(
                SQLBinaryExpression(SQLColumn("title"), .like, SQLBind(p)), .or,
                SQLBinaryExpression(SQLColumn("ref"), .like, SQLBind(p)))))
        }
        s = s.orderBy("id", .descending)
        if let limit { s = s.limit(limit).offset(offset) }
        return try await s.all(decoding: CaseRecord.self, with: Self.caseDecoder)
    }

    func caseRecord(id: Int64) async throws -> CaseRecord? {
        try await sql.select().columns(Self.caseColumns.map { SQLColumn($0) }).from("cases").where("id", .equal, id)
            .first(decoding: CaseRecord.self, with: Self.caseDecoder)
    }

    func caseID(type: String, ref: String) async throws -> Int64? {
        try await sql.select().column("id").from("cases").where("type", .equal, type).where("ref", .equal, ref)
            .first(decodingColumn: "id", as: Int64.self)
    }

    /// The ids of the cases among `keys` (type, ref) that exist, by `type\u{1}ref`.
    func caseIDs(keys: [(String, String)]) async throws -> [String: Int64] {
        struct Row: Decodable { var id: Int64; var type: String; var ref: String }
        var out: [String: Int64] = [:]
        let refs = Array(Set(keys.map(\.1)))
        for chunk in refs.chunked(500) {
            for r in try await sql.select().columns("id", "type", "ref").from("cases").where("ref", .in, Array(chunk)).all(decoding: Row.self) {
                out["\(r.type)\u{1}\(r.ref)"] = r.id
            }
        }
        return out
    }

    /// The refs of a type starting with `prefix` (for numbering new cases).
    func caseRefs(type: String, prefix: String) async throws -> [String] {
        try await sql.select().column("ref").from("cases").where("type", .equal, type).where("ref", .like, prefix + "%")
            .all(decodingColumn: "ref", as: String.self)
    }

    func loopEvents(caseID: Int64) async throws -> [LoopEventRecord] {
        try await sql.select().columns("*").from("loop_events").where("case_id", .equal, caseID).orderBy("seq")
            .all(decoding: LoopEventRecord.self, with: Self.caseDecoder)
    }

    /// The columns of `cases` that mirror the loop.
    static func loopColumns(_ loop: CaseLoop) -> [(String, any SQLExpression)] {
        let a = loop.assignment
        return [
            ("state", SQLBind(loop.state.rawValue)), ("lead_unit", SQLBind(a?.unit)),
            ("co_units", SQLBind(unitList(a?.coUnits ?? []))), ("level", SQLBind((a?.level ?? .normal).rawValue)),
            ("assigned_on", SQLBind(a?.on.description)), ("accept_due", SQLBind(a?.acceptDue.description)),
            ("accepted_on", SQLBind(a?.acceptedOn?.description)), ("reply_due", SQLBind(a?.replyDue?.description)),
            ("rehandle_due", SQLBind(loop.rehandleDue?.description)), ("first_reply_on", SQLBind(a?.firstReplyOn?.description)),
            ("rating", SQLBind(loop.rating?.rawValue)), ("category", SQLBind(loop.category)), ("head", SQLBind(loop.head)),
            ("last_event_on", SQLBind(loop.lastEventOn?.description ?? loop.registeredOn?.description ?? "")),
        ]
    }

    /// The fields of a new case besides its loop.
    struct NewCase: Sendable {
        var type: String, ref: String, title: String, body: String, requester: String
        var requesterUser: Int64?, creditCode: String?, parcelID: String?, clusterYear: Int?, clusterNumber: Int?
        var town: String?, meetingID: Int64?, queryCodeHash: String?
    }

    /// Inserts a case with its events (already checked by the loop) and returns its id.
    func insertCase(_ c: NewCase, loop: CaseLoop, events: [MujunCore.CaseEvent], actor: String, recordedUs: Int64) async throws -> Int64 {
        try await insertCases([(c, loop, events)], actor: actor, recordedUs: recordedUs)
        guard let id = try await caseID(type: c.type, ref: c.ref) else {
            throw ServiceError(.unprocessable, "督办事项未能保存 / the case was not stored")
        }
        return id
    }

    /// Inserts many new cases with their events (already checked by the loop), in multi-row
    /// statements (an import of a city's past years: 100,000 cases, a million events).
    func insertCases(_ items: [(NewCase, CaseLoop, [MujunCore.CaseEvent])], actor: String, recordedUs: Int64) async throws {
        let caseCols = ["type", "ref", "title", "body", "requester", "requester_user", "credit_code", "parcel_id", "cluster_year",
                        "cluster_number", "town", "meeting_id", "query_code_hash", "registered_on", "version"]
            + Self.loopColumns(CaseLoop(type: CaseTypes.default.types[0])).map(\.0)
        let eventCols = ["case_id", "seq", "kind", "date", "recorded_us", "actor", "unit", "co_units", "due", "category",
                         "rating", "head", "passed", "level", "note"]
        for chunk in items.chunked(Self.chunkSize(columns: caseCols.count)) {
            let rows: [[any SQLExpression]] = chunk.map { c, loop, _ in
                [SQLBind(c.type), SQLBind(c.ref), SQLBind(c.title), SQLBind(c.body), SQLBind(c.requester), SQLBind(c.requesterUser),
                 SQLBind(c.creditCode), SQLBind(c.parcelID), SQLBind(c.clusterYear), SQLBind(c.clusterNumber), SQLBind(c.town),
                 SQLBind(c.meetingID), SQLBind(c.queryCodeHash), SQLBind(loop.registeredOn?.description ?? ""), SQLBind(1)]
                    + Self.loopColumns(loop).map(\.1)
            }
            try await sql.insert(into: "cases").columns(caseCols).rows(rows).run()
            let ids = try await caseIDs(keys: chunk.map { ($0.0.type, $0.0.ref) })
            var events: [[any SQLExpression]] = []
            for (c, _, evs) in chunk {
                guard let id = ids["\(c.type)\u{1}\(c.ref)"] else { continue }
                for (i, e) in evs.enumerated() {
                    events.append([SQLBind(id), SQLBind(i + 1), SQLBind(e.kind.rawValue), SQLBind(e.date.description), SQLBind(recordedUs),
                                   SQLBind(actor), SQLBind(e.unit), SQLBind(Self.unitList(e.coUnits)), SQLBind(e.due?.description),
                                   SQLBind(e.category), SQLBind(e.rating?.rawValue), SQLBind(e.head), SQLBind(e.passed),
                                   SQLBind(e.level.rawValue), SQLBind(e.note)])
                }
            }
            for part in events.chunked(Self.chunkSize(columns: eventCols.count)) {
                try await sql.insert(into: "loop_events").columns(eventCols).rows(Array(part)).run()
            }
        }
    }

    func insertLoopEvent(caseID: Int64, seq: Int, _ e: MujunCore.CaseEvent, actor: String, recordedUs: Int64) async throws {
        try await sql.insert(into: "loop_events")
            .columns("case_id", "seq", "kind", "date", "recorded_us", "actor", "unit", "co_units", "due", "category",
                     "rating", "head", "passed", "level", "note")
            .values(SQLBind(caseID), SQLBind(seq), SQLBind(e.kind.rawValue), SQLBind(e.date.description), SQLBind(recordedUs),
                    SQLBind(actor), SQLBind(e.unit), SQLBind(Self.unitList(e.coUnits)), SQLBind(e.due?.description),
                    SQLBind(e.category), SQLBind(e.rating?.rawValue), SQLBind(e.head), SQLBind(e.passed),
                    SQLBind(e.level.rawValue), SQLBind(e.note))
            .run()
    }

    /// The units of department accounts (towns act under their town's name, which is configured).
    func accountUnits() async throws -> [String] {
        try await sql.select().distinct().column("unit").from("users").where("role", .equal, "department")
            .all(decodingColumn: "unit", as: String.self)
    }

    /// What a bulletin reads of a case: its loop's columns as of its latest event.
    struct BulletinRow: Sendable {
        var id: Int64, type: String, ref: String, title: String, state: String, leadUnit: String?
        var assignedOn: String?, acceptDue: String?, acceptedOn: String?, replyDue: String?, rehandleDue: String?
        var firstReplyOn: String?, rating: String?, category: String?, head: Bool, lastEventOn: String, recordedUs: Int64
    }

    /// The cases a bulletin reads (id order), with the latest recording time of their events.
    func bulletinRows(type: String?) async throws -> [BulletinRow] {
        let cols = ["id", "type", "ref", "title", "state", "lead_unit", "assigned_on", "accept_due", "accepted_on", "reply_due",
                    "rehandle_due", "first_reply_on", "rating", "category", "head", "last_event_on"]
        var q = sql.select().columns(cols.map { SQLColumn($0, table: "c") })
            .column(SQLFunction("MAX", args: SQLColumn("recorded_us", table: "e")), as: "recorded")
            .from(SQLAlias(SQLIdentifier("cases"), as: SQLIdentifier("c")))
            .join(SQLAlias(SQLIdentifier("loop_events"), as: SQLIdentifier("e")), method: SQLJoinMethod.inner,
                  on: SQLColumn("case_id", table: "e"), .equal, SQLColumn("id", table: "c"))
        if let type { q = q.where(SQLColumn("type", table: "c"), .equal, SQLBind(type)) }
        // grouped by the key: PostgreSQL lets the other columns of `cases` follow it, SQLite takes them as they are
        q = q.groupBy(SQLColumn("id", table: "c")).orderBy(SQLColumn("id", table: "c"))
        var out: [BulletinRow] = []
        for r in try await q.all() {
            out.append(BulletinRow(
                id: try r.decode(column: "id", as: Int64.self), type: try r.decode(column: "type", as: String.self),
                ref: try r.decode(column: "ref", as: String.self), title: try r.decode(column: "title", as: String.self),
                state: try r.decode(column: "state", as: String.self), leadUnit: try r.decode(column: "lead_unit", as: String?.self),
                assignedOn: try r.decode(column: "assigned_on", as: String?.self), acceptDue: try r.decode(column: "accept_due", as: String?.self),
                acceptedOn: try r.decode(column: "accepted_on", as: String?.self), replyDue: try r.decode(column: "reply_due", as: String?.self),
                rehandleDue: try r.decode(column: "rehandle_due", as: String?.self),
                firstReplyOn: try r.decode(column: "first_reply_on", as: String?.self), rating: try r.decode(column: "rating", as: String?.self),
                category: try r.decode(column: "category", as: String?.self), head: try r.decode(column: "head", as: Bool.self),
                lastEventOn: try r.decode(column: "last_event_on", as: String.self), recordedUs: try r.decode(column: "recorded", as: Int64.self)))
        }
        return out
    }

    /// The events of some cases a bulletin replays: dated by `asOf`, recorded by `recordedBy`, in (case, seq) order.
    func bulletinEvents(caseIDs: [Int64], asOf: String, recordedBy: Int64?) async throws -> [(caseID: Int64, event: MujunCore.CaseEvent)] {
        var out: [(Int64, MujunCore.CaseEvent)] = []
        for chunk in caseIDs.chunked(2000) {
            var q = sql.select().columns(["case_id", "kind", "date", "unit", "co_units", "due", "category", "rating", "head", "passed", "level", "note"]
                                            .map { SQLColumn($0) })
                .from("loop_events")
                .where("case_id", .in, Array(chunk))
                .where("date", .lessThanOrEqual, asOf)
            if let recordedBy { q = q.where("recorded_us", .lessThanOrEqual, recordedBy) }
            q = q.orderBy("case_id").orderBy("seq")
            for row in try await q.all() {
                guard let kind = CaseEventKind(rawValue: try row.decode(column: "kind", as: String.self)),
                      let date = CalendarDate(try row.decode(column: "date", as: String.self)) else { continue }
                var e = MujunCore.CaseEvent(kind, date)
                e.unit = try row.decode(column: "unit", as: String.self)
                let co = try row.decode(column: "co_units", as: String.self)
                if !co.isEmpty { e.coUnits = co.split(separator: ";").map(String.init) }
                e.due = try row.decode(column: "due", as: String?.self).flatMap(CalendarDate.init)
                e.category = try row.decode(column: "category", as: String?.self)
                e.rating = try row.decode(column: "rating", as: String?.self).flatMap(CaseRating.init(rawValue:))
                e.head = try row.decode(column: "head", as: Bool.self)
                e.passed = try row.decode(column: "passed", as: Bool?.self)
                e.level = SupervisionLevel(rawValue: try row.decode(column: "level", as: String.self)) ?? .normal
                e.note = try row.decode(column: "note", as: String.self)
                out.append((try row.decode(column: "case_id", as: Int64.self), e))
            }
        }
        return out
    }

    /// An issued bulletin as stored.
    public struct BulletinRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var number: String
        public var title: String
        public var issuedOn: String
        public var type: String?
        public var fromDate: String
        public var toDate: String
        public var asOf: String
        public var recordedUs: Int64
        enum CodingKeys: String, CodingKey { case id, number, title, issuedOn = "issued_on", type, fromDate = "from_date", toDate = "to_date", asOf = "as_of", recordedUs = "recorded_us", issuedBy = "issued_by" }
        public var issuedBy: String
    }

    func bulletins() async throws -> [BulletinRecord] {
        try await sql.select().columns("*").from("bulletins").orderBy("id", .descending)
            .all(decoding: BulletinRecord.self, with: Self.caseDecoder)
    }

    func bulletin(id: Int64) async throws -> BulletinRecord? {
        try await sql.select().columns("*").from("bulletins").where("id", .equal, id)
            .first(decoding: BulletinRecord.self, with: Self.caseDecoder)
    }

    func queryCodeHash(caseID: Int64) async throws -> String? {
        try await sql.select().column("query_code_hash").from("cases").where("id", .equal, caseID)
            .first(decodingColumn: "query_code_hash", as: String?.self) ?? nil
    }

    /// Every unit a case has been assigned to.
    func caseLeadUnits() async throws -> [String] {
        try await sql.select().distinct().column("lead_unit").from("cases").where("lead_unit", .isNot, SQLLiteral.null)
            .all(decodingColumn: "lead_unit", as: String.self)
    }

    /// The town of each of `ids` that is a parcel.
    func parcelTowns(_ ids: [String]) async throws -> [String: String] {
        struct Row: Decodable { var parcel_id: String; var town: String }
        var out: [String: String] = [:]
        for chunk in ids.chunked(500) {
            for r in try await sql.select().columns("parcel_id", "town").from("parcels").where("parcel_id", .in, Array(chunk)).all(decoding: Row.self) {
                out[r.parcel_id] = r.town
            }
        }
        return out
    }

    /// Now, in microseconds since 1970 (the recording time of events).
    static func nowMicros() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) }
}
