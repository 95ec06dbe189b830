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
        var assignedOn: CalendarDate?, acceptDue: CalendarDate?, acceptedOn: CalendarDate?, replyDue: CalendarDate?
        var rehandleDue: CalendarDate?, firstReplyOn: CalendarDate?, rating: String?, category: String?, head: Bool
        var lastEventOn: CalendarDate
    }

    /// The columns of `cols` as one text per row, separated by U+001F (a NULL as empty text), the
    /// last one (free text) without U+001E: a bulletin reads 100,000 cases and up to a million events,
    /// and one text per row is many times cheaper than a dozen columns decoded one by one. Made by one
    /// call (`printf` on SQLite, `format` on PostgreSQL: `%s` of NULL is empty on both), which costs
    /// half of a chain of `||`.
    func packed(_ cols: [String]) -> SQLQueryString {
        let function = sql.dialect.name == "postgresql" ? "format" : "printf"
        let format = Array(repeating: "%s", count: cols.count).joined(separator: "\u{1F}")
        var q = SQLQueryString("\(function)(") + "\(bind: format)"
        for (i, c) in cols.enumerated() {
            if i == cols.count - 1 {
                q = q + SQLQueryString(", REPLACE(\(c), ") + "\(bind: "\u{1E}"), '')"
            } else {
                q = q + SQLQueryString(", \(c)")
            }
        }
        return q + ")"
    }

    /// Every `p` of `inner` (a query of packed rows with the columns of `order`) in that order, as one
    /// text with U+001E between rows: a single value crosses from the database, whatever the count.
    func aggregated(_ inner: SQLQueryString, order: String) async throws -> String {
        let agg = sql.dialect.name == "postgresql" ? "string_agg" : "group_concat"
        let q = SQLQueryString("SELECT \(agg)(p, ") + "CAST(\(bind: "\u{1E}") AS TEXT) ORDER BY \(unsafeRaw: order)) AS a FROM ("
            + inner + ") AS t"
        return try await sql.raw(q).first()?.decode(column: "a", as: String?.self) ?? ""
    }

    /// Calls `body` with the fields of each row of an ``aggregated(_:order:)`` text (`count` fields,
    /// the last taking the rest); throws when a row has fewer.
    static func forEachPacked(_ text: inout String, count: Int,
                              _ body: (UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>) throws -> Void) throws {
        guard !text.isEmpty else { return }
        var fields = [UnsafeBufferPointer<UInt8>](repeating: UnsafeBufferPointer(start: nil, count: 0), count: count)
        try text.withUTF8 { all in
            guard let base = all.baseAddress else { return }
            let n = all.count
            var i = 0
            while i <= n {
                var k = 0, start = i
                while i < n, all[i] != 0x1E {
                    if all[i] == 0x1F, k < count - 1 {
                        fields[k] = UnsafeBufferPointer(start: base + start, count: i - start); k += 1; start = i + 1
                    }
                    i += 1
                }
                guard k == count - 1 else { throw ServiceError(.unprocessable, "督办事项数据无法读取 / a case row cannot be read") }
                fields[k] = UnsafeBufferPointer(start: base + start, count: i - start)
                try fields.withUnsafeBufferPointer { try body($0) }
                i += 1
            }
        }
    }

    /// The cases a bulletin reads (id order).
    func bulletinRows(type: String?) async throws -> [BulletinRow] {
        // the title last: free text, it may hold anything (the fields after the 15th are rejoined)
        let cols = ["id", "type", "ref", "state", "lead_unit", "assigned_on", "accept_due", "accepted_on", "reply_due",
                    "rehandle_due", "first_reply_on", "rating", "category", "head", "last_event_on", "title"]
        var q: SQLQueryString = "SELECT " + packed(cols) + " AS p, id FROM cases"
        if let type { q = q + " WHERE type = \(bind: type)" }
        var text = try await aggregated(q, order: "id")
        var out: [BulletinRow] = []
        var strings = TextInterner()
        try Self.forEachPacked(&text, count: cols.count) { f in
            func date(_ i: Int) -> CalendarDate? { f[i].isEmpty ? nil : CalendarDate(utf8: f[i]) }
            func opt(_ i: Int) -> String? { f[i].isEmpty ? nil : strings.text(f[i]) }
            guard let id = Int64(decimal: f[0]), let last = date(14) else {
                throw ServiceError(.unprocessable, "督办事项数据无法读取 / a case row cannot be read")
            }
            out.append(BulletinRow(
                id: id, type: strings.text(f[1]), ref: String(decoding: f[2], as: UTF8.self),
                title: String(decoding: f[15], as: UTF8.self), state: strings.text(f[3]), leadUnit: opt(4),
                assignedOn: date(5), acceptDue: date(6), acceptedOn: date(7), replyDue: date(8), rehandleDue: date(9),
                firstReplyOn: date(10), rating: opt(11), category: opt(12), head: Self.packedBool(f[13]), lastEventOn: last))
        }
        return out
    }

    /// The ids of the cases with an event recorded after `recordedUs` (in id order).
    func casesRecorded(after recordedUs: Int64) async throws -> Set<Int64> {
        var text = try await aggregated("SELECT DISTINCT case_id, CAST(case_id AS TEXT) AS p FROM loop_events WHERE recorded_us > \(bind: recordedUs)",
                                        order: "case_id")
        var out = Set<Int64>()
        try Self.forEachPacked(&text, count: 1) { f in if let id = Int64(decimal: f[0]) { out.insert(id) } }
        return out
    }

    /// The events a bulletin replays — of the cases with an event after `asOf` (of `type`) or among
    /// `alsoCases`' condition (recorded after `recordedBy`): those dated by `asOf` and recorded by
    /// `recordedBy`, grouped by case in (case, seq) order.
    func bulletinEvents(type: String?, asOf: String, recordedBy: Int64?) async throws -> [Int64: [MujunCore.CaseEvent]] {
        let cols = ["case_id", "kind", "date", "unit", "co_units", "due", "category", "rating", "head", "passed", "level", "note"]
        var replayed: SQLQueryString = "SELECT id FROM cases WHERE last_event_on > \(bind: asOf)"
        if let type { replayed = replayed + " AND type = \(bind: type)" }
        var q: SQLQueryString = "SELECT " + packed(cols) + " AS p, case_id, seq FROM loop_events WHERE date <= \(bind: asOf)"
        if let recordedBy {
            q = q + " AND recorded_us <= \(bind: recordedBy) AND (case_id IN (" + replayed + ")"
                + " OR case_id IN (SELECT case_id FROM loop_events WHERE recorded_us > \(bind: recordedBy)))"
        } else {
            q = q + " AND case_id IN (" + replayed + ")"
        }
        var text = try await aggregated(q, order: "case_id, seq")
        var out: [Int64: [MujunCore.CaseEvent]] = [:]
        var strings = TextInterner()
        var currentID: Int64 = -1
        var current: [MujunCore.CaseEvent] = []
        try Self.forEachPacked(&text, count: cols.count) { f in
            guard let caseID = Int64(decimal: f[0]), let kind = CaseEventKind(rawValue: strings.text(f[1])),
                  let date = CalendarDate(utf8: f[2]) else { return }
            if caseID != currentID {
                if currentID >= 0 { out[currentID] = current }
                currentID = caseID; current = []
            }
            var e = MujunCore.CaseEvent(kind, date)
            e.unit = strings.text(f[3])
            if !f[4].isEmpty { e.coUnits = strings.text(f[4]).split(separator: ";").map(String.init) }
            e.due = f[5].isEmpty ? nil : CalendarDate(utf8: f[5])
            e.category = f[6].isEmpty ? nil : strings.text(f[6])
            e.rating = f[7].isEmpty ? nil : CaseRating(rawValue: strings.text(f[7]))
            e.head = Self.packedBool(f[8])
            e.passed = f[9].isEmpty ? nil : Self.packedBool(f[9])
            e.level = SupervisionLevel(rawValue: strings.text(f[10])) ?? .normal
            e.note = String(decoding: f[11], as: UTF8.self)
            current.append(e)
        }
        if currentID >= 0 { out[currentID] = current }
        return out
    }

    /// A packed boolean: SQLite writes 1/0, PostgreSQL true/false (t/f).
    static func packedBool(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let c = b.first else { return false }
        return c == 0x31 || c == 0x74  // "1", "t(rue)"
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

extension Int64 {
    /// A decimal number's UTF-8 bytes (an optional minus sign, then digits only).
    init?(decimal b: UnsafeBufferPointer<UInt8>) {
        guard !b.isEmpty else { return nil }
        var v: Int64 = 0, negative = false
        for (i, c) in b.enumerated() {
            if i == 0 && c == 0x2D && b.count > 1 { negative = true; continue }
            let d = c &- 0x30
            guard d <= 9 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            v = a
        }
        self = negative ? -v : v
    }
}
