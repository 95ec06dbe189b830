import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The projects' history for bulletins (项目推进通报): a snapshot of each project after every
/// change, every targets import kept whole, and the bulletins issued. A bulletin recomputed
/// from the rows recorded by its time of issue gives the bytes it had when issued.
extension Store {
    /// Appends snapshots (the caller's transaction).
    func insertSnapshots(_ items: [(id: Int64, snapshot: ProjectSnapshot)], recordedUs: Int64) async throws {
        var rows: [[any SQLExpression]] = []
        for (id, s) in items { rows.append([SQLBind(id), SQLBind(try s.json()), SQLBind(recordedUs)]) }
        for chunk in rows.chunked(Self.chunkSize(columns: 3)) {
            try await sql.insert(into: "project_snapshots").columns("project_id", "data", "recorded_us").rows(Array(chunk)).run()
        }
    }

    /// Snapshots projects as they are stored now (`ids`, or all); `recordedUs` nil: each project's own recording time.
    func snapshotProjects(ids: [Int64]?, recordedUs: Int64?) async throws {
        struct Row: Decodable { var id: Int64; var recorded_us: Int64 }
        if let ids, ids.isEmpty { return }
        var q = sql.select().columns(Self.projectColumns.map { SQLColumn($0) }).from("projects")
        if let ids { q = q.where("id", .in, ids) }
        let records = try await q.all(decoding: ProjectRecord.self, with: Self.caseDecoder)
        guard !records.isEmpty else { return }
        var times: [Int64: Int64] = [:]
        if recordedUs == nil {
            times = Dictionary(uniqueKeysWithValues: try await sql.select().columns("id", "recorded_us").from("projects")
                .all(decoding: Row.self).map { ($0.id, $0.recorded_us) })
        }
        let stones = try await milestones(projectIDs: ids)
        let months = try await reportedMonths(projectIDs: ids)
        var byTime: [Int64: [(id: Int64, snapshot: ProjectSnapshot)]] = [:]
        for r in records {
            let plan = try ProjectService.plan(r, stones[r.id] ?? [], months[r.id] ?? [])
            byTime[recordedUs ?? times[r.id] ?? Store.nowMicros(), default: []].append((r.id, ProjectSnapshot(plan, freedMu: r.freedMu)))
        }
        for (t, items) in byTime { try await insertSnapshots(items, recordedUs: t) }
    }

    /// Every project as its latest snapshot recorded by `recordedBy` (nil: the latest of all) has it.
    func snapshotPlans(recordedBy: Int64?) async throws -> [(plan: ProjectPlan, freedMu: Double?)] {
        struct Row: Decodable { var data: String }
        var inner: SQLQueryString = "SELECT MAX(id) FROM project_snapshots"
        if let recordedBy { inner = inner + " WHERE recorded_us <= \(bind: recordedBy)" }
        let rows = try await sql.raw("SELECT data FROM project_snapshots WHERE id IN (" + inner + " GROUP BY project_id)").all(decoding: Row.self)
        return try rows.compactMap { r in
            let s = try ProjectSnapshot(json: r.data)
            return s.plan.map { ($0, s.freedMu) }
        }
    }

    /// The targets of a year as the last import of each unit recorded by `recordedBy` (nil: the latest) set them.
    func targets(year: Int, recordedBy: Int64?) async throws -> [ProjectTarget] {
        struct Row: Decodable { var year: Int; var unit: String; var indicator: String; var value: Double }
        var last: SQLQueryString = "SELECT MAX(m.batch_us) FROM project_target_log m WHERE m.year = l.year AND m.unit = l.unit"
        if let recordedBy { last = last + " AND m.batch_us <= \(bind: recordedBy)" }
        let rows = try await sql.raw("SELECT year, unit, indicator, value FROM project_target_log l WHERE l.year = \(bind: year) AND l.batch_us = (" + last + ") ORDER BY unit, indicator")
            .all(decoding: Row.self)
        return rows.compactMap { r in TargetIndicator(rawValue: r.indicator).map { ProjectTarget(year: r.year, unit: r.unit, indicator: $0, value: r.value) } }
    }

    /// An issued project bulletin.
    public struct ProjectBulletinRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var number: String
        public var title: String
        public var issuedOn: String
        public var recordedUs: Int64
        public var issuedBy: String
        public var sha256: String
        enum CodingKeys: String, CodingKey {
            case id, number, title, issuedOn = "issued_on", recordedUs = "recorded_us", issuedBy = "issued_by", sha256
        }
    }

    func projectBulletins() async throws -> [ProjectBulletinRecord] {
        try await sql.select().columns("id", "number", "title", "issued_on", "recorded_us", "issued_by", "sha256").from("project_bulletins")
            .orderBy("id", .descending).all(decoding: ProjectBulletinRecord.self, with: Self.caseDecoder)
    }

    func projectBulletin(id: Int64) async throws -> ProjectBulletinRecord? {
        try await sql.select().columns("id", "number", "title", "issued_on", "recorded_us", "issued_by", "sha256").from("project_bulletins")
            .where("id", .equal, id).first(decoding: ProjectBulletinRecord.self, with: Self.caseDecoder)
    }
}
