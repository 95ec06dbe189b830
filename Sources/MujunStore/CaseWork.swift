import Foundation
import FluentKit
import SQLKit
import MujunCore
import Crypto

/// The rows the closed loop keeps beside its steps (migration 008): meetings, a case's notes
/// (co-unit opinions, extension requests and decisions, the "three ones", follow-up reports) and
/// attachments. The services decide; these methods store and read.
extension Store {
    /// A meeting that assigns (一一作出回应和交办): its items are the cases with its `meeting_id`.
    public struct MeetingRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var kind: String
        public var title: String
        public var heldOn: String
        public var place: String
        public var chair: String
        /// One name per line.
        public var attendees: String
        public var notes: String
        public var createdBy: String
        public var recordedUs: Int64
        enum CodingKeys: String, CodingKey { case id, kind, title, heldOn = "held_on", place, chair, attendees, notes, createdBy = "created_by", recordedUs = "recorded_us" }

        public var attendeeList: [String] { attendees.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty } }
    }

    /// A note on a case: an opinion, an extension request (with its decision), a handling record
    /// of the "three ones", or a follow-up report.
    public struct CaseNoteRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var caseId: Int64
        public var kind: String
        public var date: String
        public var unit: String
        public var actor: String
        public var text: String
        public var due: String?
        public var head: Bool
        public var resolved: Bool
        public var decision: String?
        public var decidedBy: String?
        public var decidedOn: String?
        public var decisionNote: String?
        public var recordedUs: Int64
        enum CodingKeys: String, CodingKey { case id, caseId = "case_id", kind, date, unit, actor, text, due, head, resolved, decision, decidedBy = "decided_by", decidedOn = "decided_on", decisionNote = "decision_note", recordedUs = "recorded_us" }
    }

    /// An attachment's description (its bytes are read on their own).
    public struct AttachmentRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var caseId: Int64
        public var eventSeq: Int?
        public var noteId: Int64?
        public var name: String
        public var contentType: String
        public var size: Int64
        public var sha256: String
        public var uploadedBy: String
        public var recordedUs: Int64
        enum CodingKeys: String, CodingKey { case id, caseId = "case_id", eventSeq = "event_seq", noteId = "note_id", name, contentType = "content_type", size, sha256, uploadedBy = "uploaded_by", recordedUs = "recorded_us" }
    }

    /// A file to attach.
    public struct NewAttachment: Sendable {
        public var name: String
        public var contentType: String
        public var data: Data
        public init(name: String, contentType: String, data: Data) { self.name = name; self.contentType = contentType; self.data = data }
    }

    // MARK: meetings

    func insertMeeting(kind: String, title: String, heldOn: String, place: String, chair: String, attendees: [String], notes: String,
                       createdBy: String, recordedUs: Int64) async throws -> Int64 {
        try await sql.insert(into: "meetings")
            .columns("kind", "title", "held_on", "place", "chair", "attendees", "notes", "created_by", "recorded_us")
            .values(SQLBind(kind), SQLBind(title), SQLBind(heldOn), SQLBind(place), SQLBind(chair), SQLBind(attendees.joined(separator: "\n")),
                    SQLBind(notes), SQLBind(createdBy), SQLBind(recordedUs))
            .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
    }

    public func meetings(limit: Int = 200) async throws -> [MeetingRecord] {
        try await sql.select().columns("*").from("meetings").orderBy("held_on", .descending).orderBy("id", .descending).limit(limit)
            .all(decoding: MeetingRecord.self, with: Self.caseDecoder)
    }

    public func meeting(id: Int64) async throws -> MeetingRecord? {
        try await sql.select().columns("*").from("meetings").where("id", .equal, id)
            .first(decoding: MeetingRecord.self, with: Self.caseDecoder)
    }

    /// How many items each meeting has, and how many of them have an answer (replied or further).
    func meetingItemCounts() async throws -> [Int64: (items: Int, answered: Int)] {
        let rows = try await sql.raw("""
            SELECT meeting_id, COUNT(*) AS n,
                   SUM(CASE WHEN state IN ('replied', 'verified', 'evaluated', 'closed') THEN 1 ELSE 0 END) AS answered
            FROM cases WHERE meeting_id IS NOT NULL GROUP BY meeting_id
            """).all()
        var out: [Int64: (Int, Int)] = [:]
        for r in rows {
            out[try r.decode(column: "meeting_id", as: Int64.self)] = (Int(try r.decode(column: "n", as: Int64.self)),
                                                                         Int(try r.decode(column: "answered", as: Int64?.self) ?? 0))
        }
        return out
    }

    // MARK: notes

    func insertNote(caseID: Int64, kind: String, date: String, unit: String, actor: String, text: String, due: String?,
                    head: Bool = false, resolved: Bool = false, decision: String? = nil, recordedUs: Int64) async throws -> Int64 {
        try await sql.insert(into: "case_notes")
            .columns("case_id", "kind", "date", "unit", "actor", "text", "due", "head", "resolved", "decision", "recorded_us")
            .values(SQLBind(caseID), SQLBind(kind), SQLBind(date), SQLBind(unit), SQLBind(actor), SQLBind(text), SQLBind(due),
                    SQLBind(head), SQLBind(resolved), SQLBind(decision), SQLBind(recordedUs))
            .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
    }

    public func notes(caseID: Int64) async throws -> [CaseNoteRecord] {
        try await sql.select().columns("*").from("case_notes").where("case_id", .equal, caseID).orderBy("id")
            .all(decoding: CaseNoteRecord.self, with: Self.caseDecoder)
    }

    func note(id: Int64) async throws -> CaseNoteRecord? {
        try await sql.select().columns("*").from("case_notes").where("id", .equal, id)
            .first(decoding: CaseNoteRecord.self, with: Self.caseDecoder)
    }

    /// Decides a pending extension request: only one decision can land (the update is conditional
    /// on the request still pending); false when another decision came first.
    func decideExtension(noteID: Int64, approved: Bool, by actor: String, on date: String, note: String) async throws -> Bool {
        let changed = try await sql.update("case_notes")
            .set("decision", to: approved ? "approved" : "refused").set("decided_by", to: actor)
            .set("decided_on", to: date).set("decision_note", to: note)
            .where("id", .equal, noteID).where("decision", .equal, "pending")
            .returning("id").all().count
        return changed == 1
    }

    /// The pending extension requests of the cases among `caseIDs` (nil: all).
    public func pendingExtensions() async throws -> [CaseNoteRecord] {
        try await sql.select().columns("*").from("case_notes").where("kind", .equal, "extension").where("decision", .equal, "pending")
            .orderBy("id").all(decoding: CaseNoteRecord.self, with: Self.caseDecoder)
    }

    func setFollowUpDue(caseID: Int64, _ due: String?) async throws {
        try await sql.update("cases").set("follow_up_due", to: SQLBind(due)).set("version", to: SQLLiteral.numeric("version + 1"))
            .where("id", .equal, caseID).run()
    }

    public func followUpDue(caseID: Int64) async throws -> String? {
        try await sql.select().column("follow_up_due").from("cases").where("id", .equal, caseID)
            .first(decodingColumn: "follow_up_due", as: String?.self) ?? nil
    }

    /// The towns of a renewal cluster, nil when there is no such cluster.
    func clusterTowns(year: Int, number: Int) async throws -> [String]? {
        guard let towns = try await sql.select().column("towns").from("land_clusters").where("year", .equal, year).where("number", .equal, number)
            .first(decodingColumn: "towns", as: String.self) else { return nil }
        return towns.split(whereSeparator: { ",;、，".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    // MARK: attachments

    func insertAttachment(caseID: Int64, eventSeq: Int?, noteID: Int64?, _ a: NewAttachment, by actor: String, recordedUs: Int64) async throws {
        try await sql.insert(into: "case_attachments")
            .columns("case_id", "event_seq", "note_id", "name", "content_type", "size", "sha256", "data", "uploaded_by", "recorded_us")
            .values(SQLBind(caseID), SQLBind(eventSeq), SQLBind(noteID), SQLBind(a.name), SQLBind(a.contentType), SQLBind(Int64(a.data.count)),
                    SQLBind(Tokens.hex(Array(SHA256.hash(data: a.data)))), SQLBind(a.data), SQLBind(actor), SQLBind(recordedUs))
            .run()
    }

    public func attachments(caseID: Int64) async throws -> [AttachmentRecord] {
        try await sql.select().columns("id", "case_id", "event_seq", "note_id", "name", "content_type", "size", "sha256", "uploaded_by", "recorded_us")
            .from("case_attachments").where("case_id", .equal, caseID).orderBy("id")
            .all(decoding: AttachmentRecord.self, with: Self.caseDecoder)
    }

    func attachmentData(id: Int64, caseID: Int64) async throws -> (AttachmentRecord, Data)? {
        guard let row = try await sql.select().columns("*").from("case_attachments").where("id", .equal, id).where("case_id", .equal, caseID).first()
        else { return nil }
        return (try row.decode(model: AttachmentRecord.self, with: Self.caseDecoder), try row.decode(column: "data", as: Data.self))
    }

    /// Cases linked to parcels, not yet closed, with their parcel's bounding box (the battle map's
    /// layer of open cases).
    public struct OpenCaseOnMap: Sendable, Codable {
        public var id: Int64, type: String, ref: String, title: String, state: String, parcelId: String?
        public var clusterYear: Int?, clusterNumber: Int?
        public var leadUnit: String?, acceptDue: String?, replyDue: String?, rehandleDue: String?
        public var bbox: BBox?
        enum CodingKeys: String, CodingKey { case id, type, ref, title, state, parcelId = "parcel_id", clusterYear = "cluster_year", clusterNumber = "cluster_number", leadUnit = "lead_unit", acceptDue = "accept_due", replyDue = "reply_due", rehandleDue = "rehandle_due", bbox }
    }

    func openCasesOnParcels(scope: CaseScope) async throws -> [OpenCaseOnMap] {
        var s = sql.select().columns("id", "type", "ref", "title", "state", "parcel_id", "cluster_year", "cluster_number", "lead_unit",
                                     "accept_due", "reply_due", "rehandle_due")
            .from("cases").where("state", .notEqual, "closed")
            .where(SQLGroupExpression(SQLBinaryExpression(SQLBinaryExpression(SQLColumn("parcel_id"), .isNot, SQLLiteral.null), .or,
                                                          SQLBinaryExpression(SQLColumn("cluster_number"), .isNot, SQLLiteral.null))))
        if let c = Self.caseCondition(scope) { s = s.where(c) }
        var rows = try await s.orderBy("id").all(decoding: OpenCaseOnMap.self, with: Self.caseDecoder)
        struct Box: Decodable { var parcel_id: String; var minx: Double; var miny: Double; var maxx: Double; var maxy: Double }
        var boxes: [String: BBox] = [:]
        for chunk in Array(Set(rows.compactMap(\.parcelId))).chunked(500) {
            for b in try await sql.select().columns("parcel_id", "minx", "miny", "maxx", "maxy").from("parcels")
                .where("parcel_id", .in, Array(chunk)).all(decoding: Box.self) {
                boxes[b.parcel_id] = BBox(minX: b.minx, minY: b.miny, maxX: b.maxx, maxY: b.maxy)
            }
        }
        struct CBox: Decodable { var year: Int; var number: Int; var minx: Double; var miny: Double; var maxx: Double; var maxy: Double }
        var clusters: [String: BBox] = [:]
        if rows.contains(where: { $0.parcelId == nil }) {
            for b in try await sql.select().columns("year", "number", "minx", "miny", "maxx", "maxy").from("land_clusters").all(decoding: CBox.self) {
                clusters["\(b.year)-\(b.number)"] = BBox(minX: b.minx, minY: b.miny, maxX: b.maxx, maxY: b.maxy)
            }
        }
        for i in rows.indices {
            if let p = rows[i].parcelId { rows[i].bbox = boxes[p] }
            else if let y = rows[i].clusterYear, let n = rows[i].clusterNumber { rows[i].bbox = clusters["\(y)-\(n)"] }
        }
        return rows
    }
}
