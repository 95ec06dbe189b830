import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The projects' rows (项目, issue 10): `projects` with the 滞后 rules' last verdict, their
/// milestones, parcels, monthly reports and photos, and their history. The rules themselves are
/// MujunCore's `ProjectJudge`; these methods store and read what the service decided.
extension Store {
    /// A project as stored.
    public struct ProjectRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var ref: String
        public var name: String
        public var type: String
        public var mode: String?
        public var town: String
        public var block: String?
        public var leadUnit: String
        public var targetMu: Double?
        public var households: Int?
        public var signed: Int
        public var vacated: Int
        public var demolished: Int
        public var startOn: String
        public var freedMu: Double?
        public var newInvestment: Double?
        public var newOccupants: String?
        /// `not_started` | `on_track` | `late` | `completed` as of `judgedOn`.
        public var state: String
        public var progress: Double
        public var judgedOn: String
        public var version: Int
        enum CodingKeys: String, CodingKey {
            case id, ref, name, type, mode, town, block, leadUnit = "lead_unit", targetMu = "target_mu", households, signed, vacated,
                 demolished, startOn = "start_on", freedMu = "freed_mu", newInvestment = "new_investment",
                 newOccupants = "new_occupants", state, progress, judgedOn = "judged_on", version
        }
        public var projectState: ProjectState? { ProjectState(rawValue: state) }
    }

    /// A milestone as stored.
    public struct MilestoneRecord: Codable, Sendable, Hashable {
        public var projectId: Int64
        public var seq: Int
        public var name: String
        public var weight: Int
        public var plannedOn: String
        public var doneOn: String?
        public var measure: String?
        public var reported: Double?
        enum CodingKeys: String, CodingKey {
            case projectId = "project_id", seq, name, weight, plannedOn = "planned_on", doneOn = "done_on", measure, reported
        }
        public var milestone: Milestone? {
            guard let planned = CalendarDate(plannedOn) else { return nil }
            return Milestone(name: name, weight: weight, planned: planned, done: doneOn.flatMap(CalendarDate.init),
                             measure: measure.flatMap(RenewalMeasure.init(rawValue:)), reported: reported)
        }
    }

    /// A monthly report (月报) as stored.
    public struct ProjectReportRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var projectId: Int64
        public var month: String
        public var text: String
        /// JSON object of the month's figures.
        public var figures: String
        public var unit: String
        public var filedOn: String
        public var filedBy: String
        enum CodingKeys: String, CodingKey {
            case id, projectId = "project_id", month, text, figures, unit, filedOn = "filed_on", filedBy = "filed_by"
        }
    }

    /// A photo of a report (its bytes are read on their own).
    public struct ProjectPhotoRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var reportId: Int64
        public var name: String
        public var contentType: String
        public var size: Int64
        enum CodingKeys: String, CodingKey { case id, reportId = "report_id", name, contentType = "content_type", size }
    }

    /// One entry of a project's history.
    public struct ProjectEventRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var projectId: Int64
        public var kind: String
        public var date: String
        public var actor: String
        public var detail: String
        public var recordedUs: Int64
        enum CodingKeys: String, CodingKey {
            case id, projectId = "project_id", kind, date, actor, detail, recordedUs = "recorded_us"
        }
    }

    static let projectColumns = ["id", "ref", "name", "type", "mode", "town", "block", "lead_unit", "target_mu", "households",
                                 "signed", "vacated", "demolished", "start_on", "freed_mu", "new_investment", "new_occupants",
                                 "state", "progress", "judged_on", "version"]

    /// The condition that keeps the projects of `scope`: a town's, a lead department's, or those on
    /// parcels an enterprise owns or occupies. Used by every read of projects.
    static func projectCondition(_ scope: ProjectScope) -> SQLQueryString {
        switch scope {
        case .all: return "1 = 1"
        case .none: return "1 = 0"
        case .town(let t): return "town = \(bind: t)"
        case .unit(let u): return "lead_unit = \(bind: u)"
        case .enterprise(let code):
            return "id IN (SELECT pp.project_id FROM project_parcels pp JOIN parcels p ON p.parcel_id = pp.parcel_id WHERE p.owner_credit_code = \(bind: code) UNION SELECT pp.project_id FROM project_parcels pp JOIN land_use u ON u.parcel_id = pp.parcel_id WHERE u.credit_code = \(bind: code) UNION SELECT project_id FROM challenges WHERE winner_code = \(bind: code) AND project_id IS NOT NULL)"
        }
    }

    /// What a project list is filtered by.
    public struct ProjectQuery: Sendable, Hashable {
        public var town: String?
        public var type: String?
        public var state: String?
        public var leadUnit: String?
        public var text: String?
        public init(town: String? = nil, type: String? = nil, state: String? = nil, leadUnit: String? = nil, text: String? = nil) {
            self.town = town; self.type = type; self.state = state; self.leadUnit = leadUnit; self.text = text
        }
    }

    /// The projects of `scope` matching `q`, by ref.
    func projects(scope: ProjectScope, _ q: ProjectQuery = ProjectQuery()) async throws -> [ProjectRecord] {
        var s = sql.select().columns(Self.projectColumns.map { SQLColumn($0) }).from("projects")
        if scope != .all { s = s.where(Self.projectCondition(scope)) }
        if let t = q.town { s = s.where("town", .equal, t) }
        if let t = q.type { s = s.where("type", .equal, t) }
        if let st = q.state { s = s.where("state", .equal, st) }
        if let u = q.leadUnit { s = s.where("lead_unit", .equal, u) }
        if let t = q.text, !t.isEmpty {
            let p = "%" + t + "%"
            s = s.where(SQLGroupExpression(SQLBinaryExpression(
                SQLBinaryExpression(SQLColumn("name"), .like, SQLBind(p)), .or,
                SQLBinaryExpression(SQLColumn("ref"), .like, SQLBind(p)))))
        }
        return try await s.orderBy("ref").all(decoding: ProjectRecord.self, with: Self.caseDecoder)
    }

    /// One project, if it lies within `scope`.
    func project(id: Int64, scope: ProjectScope = .all) async throws -> ProjectRecord? {
        var q = sql.select().columns(Self.projectColumns.map { SQLColumn($0) }).from("projects").where("id", .equal, id)
        if scope != .all { q = q.where(Self.projectCondition(scope)) }
        return try await q.first(decoding: ProjectRecord.self, with: Self.caseDecoder)
    }

    func projectIDs(refs: [String]) async throws -> [String: Int64] {
        struct Row: Decodable { var id: Int64; var ref: String }
        var out: [String: Int64] = [:]
        for chunk in Array(Set(refs)).chunked(500) {
            for r in try await sql.select().columns("id", "ref").from("projects").where("ref", .in, Array(chunk)).all(decoding: Row.self) {
                out[r.ref] = r.id
            }
        }
        return out
    }

    /// The milestones of the projects (all projects when `ids` is nil), in order.
    func milestones(projectIDs ids: [Int64]?) async throws -> [Int64: [MilestoneRecord]] {
        let cols = ["project_id", "seq", "name", "weight", "planned_on", "done_on", "measure", "reported"].map { SQLColumn($0) }
        var rows: [MilestoneRecord] = []
        if let ids {
            for chunk in ids.chunked(500) {
                rows += try await sql.select().columns(cols).from("project_milestones").where("project_id", .in, Array(chunk))
                    .orderBy("project_id").orderBy("seq").all(decoding: MilestoneRecord.self, with: Self.caseDecoder)
            }
        } else {
            rows = try await sql.select().columns(cols).from("project_milestones").orderBy("project_id").orderBy("seq")
                .all(decoding: MilestoneRecord.self, with: Self.caseDecoder)
        }
        return Dictionary(grouping: rows, by: \.projectId)
    }

    /// The months each project has reported (all projects when `ids` is nil).
    func reportedMonths(projectIDs ids: [Int64]?) async throws -> [Int64: Set<YearMonth>] {
        struct Row: Decodable { var project_id: Int64; var month: String }
        var rows: [Row] = []
        if let ids {
            for chunk in ids.chunked(500) {
                rows += try await sql.select().columns("project_id", "month").from("project_reports").where("project_id", .in, Array(chunk)).all(decoding: Row.self)
            }
        } else {
            rows = try await sql.select().columns("project_id", "month").from("project_reports").all(decoding: Row.self)
        }
        var out: [Int64: Set<YearMonth>] = [:]
        for r in rows { if let m = YearMonth(parsing: r.month) { out[r.project_id, default: []].insert(m) } }
        return out
    }

    func projectParcels(projectID: Int64) async throws -> [String] {
        try await sql.select().column("parcel_id").from("project_parcels").where("project_id", .equal, projectID).orderBy("parcel_id")
            .all(decodingColumn: "parcel_id", as: String.self)
    }

    /// The state of the project covering each of the parcels (the most urgent when several do:
    /// 滞后, then 按期推进, 未启动, 已完成); parcels in no project are absent.
    func parcelProjectStates(_ ids: [String]) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        struct Row: Decodable { var parcel_id: String; var state: String }
        let urgency = [ProjectState.late.rawValue: 4, ProjectState.onTrack.rawValue: 3, ProjectState.notStarted.rawValue: 2,
                       ProjectState.completed.rawValue: 1]
        var rows: [Row] = []
        let base = sql.select().column(SQLColumn("parcel_id", table: "pp")).column(SQLColumn("state", table: "pr"))
            .from(SQLAlias(SQLIdentifier("project_parcels"), as: SQLIdentifier("pp")))
            .join(SQLAlias(SQLIdentifier("projects"), as: SQLIdentifier("pr")), method: SQLJoinMethod.inner,
                  on: SQLColumn("id", table: "pr"), .equal, SQLColumn("project_id", table: "pp"))
        if ids.count > 5000 {
            // a whole map: every covered parcel at once (few compared with the parcels)
            let wanted = Set(ids)
            rows = try await base.all(decoding: Row.self).filter { wanted.contains($0.parcel_id) }
        } else {
            for chunk in ids.chunked(1000) {
                rows += try await sql.select().column(SQLColumn("parcel_id", table: "pp")).column(SQLColumn("state", table: "pr"))
                    .from(SQLAlias(SQLIdentifier("project_parcels"), as: SQLIdentifier("pp")))
                    .join(SQLAlias(SQLIdentifier("projects"), as: SQLIdentifier("pr")), method: SQLJoinMethod.inner,
                          on: SQLColumn("id", table: "pr"), .equal, SQLColumn("project_id", table: "pp"))
                    .where(SQLColumn("parcel_id", table: "pp"), .in, SQLBind.group(Array(chunk))).all(decoding: Row.self)
            }
        }
        var out: [String: String] = [:]
        for r in rows where (urgency[r.state] ?? 0) > (out[r.parcel_id].flatMap { urgency[$0] } ?? 0) { out[r.parcel_id] = r.state }
        return out
    }

    /// The computed area (mu) of each of the parcels.
    func parcelAreas(_ ids: [String]) async throws -> [String: Double] {
        struct Row: Decodable { var parcel_id: String; var area_mu: Double }
        var out: [String: Double] = [:]
        for chunk in ids.chunked(500) {
            for r in try await sql.select().columns("parcel_id", "area_mu").from("parcels").where("parcel_id", .in, Array(chunk)).all(decoding: Row.self) {
                out[r.parcel_id] = r.area_mu
            }
        }
        return out
    }

    /// The projects covering a parcel, by ref.
    func projectIDs(parcelID: String) async throws -> [Int64] {
        try await sql.select().column("project_id").from("project_parcels").where("parcel_id", .equal, parcelID).orderBy("project_id")
            .all(decodingColumn: "project_id", as: Int64.self)
    }

    func projectReports(projectID: Int64) async throws -> [ProjectReportRecord] {
        try await sql.select().columns("id", "project_id", "month", "text", "figures", "unit", "filed_on", "filed_by").from("project_reports")
            .where("project_id", .equal, projectID).orderBy("month", .descending)
            .all(decoding: ProjectReportRecord.self, with: Self.caseDecoder)
    }

    func projectPhotos(reportIDs: [Int64]) async throws -> [ProjectPhotoRecord] {
        guard !reportIDs.isEmpty else { return [] }
        return try await sql.select().columns("id", "report_id", "name", "content_type", "size").from("project_photos")
            .where("report_id", .in, reportIDs).orderBy("id").all(decoding: ProjectPhotoRecord.self, with: Self.caseDecoder)
    }

    func projectPhotoData(id: Int64) async throws -> (ProjectPhotoRecord, Int64, Data)? {
        guard let row = try await sql.select().column(SQLColumn("id", table: "ph"), as: "id")
            .columns(["report_id", "name", "content_type", "size", "data"].map { SQLColumn($0, table: "ph") })
            .column(SQLColumn("project_id", table: "r"))
            .from(SQLAlias(SQLIdentifier("project_photos"), as: SQLIdentifier("ph")))
            .join(SQLAlias(SQLIdentifier("project_reports"), as: SQLIdentifier("r")), method: SQLJoinMethod.inner,
                  on: SQLColumn("id", table: "r"), .equal, SQLColumn("report_id", table: "ph"))
            .where(SQLColumn("id", table: "ph"), .equal, SQLBind(id)).first() else { return nil }
        let rec = try row.decode(model: ProjectPhotoRecord.self, with: Self.caseDecoder)
        return (rec, try row.decode(column: "project_id", as: Int64.self), try row.decode(column: "data", as: Data.self))
    }

    func projectEvents(projectID: Int64) async throws -> [ProjectEventRecord] {
        try await sql.select().columns("id", "project_id", "kind", "date", "actor", "detail", "recorded_us").from("project_events")
            .where("project_id", .equal, projectID).orderBy("id").all(decoding: ProjectEventRecord.self, with: Self.caseDecoder)
    }

    func recordProjectEvent(projectID: Int64, kind: String, date: CalendarDate, actor: String, detail: String, recordedUs: Int64) async throws {
        try await sql.insert(into: "project_events").columns("project_id", "kind", "date", "actor", "detail", "recorded_us")
            .values(SQLBind(projectID), SQLBind(kind), SQLBind(date.description), SQLBind(actor), SQLBind(detail), SQLBind(recordedUs))
            .run()
    }

    /// The cases opened for a project, newest first.
    func projectCases(projectID: Int64) async throws -> [CaseRecord] {
        try await sql.select().columns(Self.caseColumns.map { SQLColumn($0) }).from("cases").where("project_id", .equal, projectID)
            .orderBy("id", .descending).all(decoding: CaseRecord.self, with: Self.caseDecoder)
    }

    /// The unfinished supervision case of each project that has one: project id → case id.
    func openProjectCases() async throws -> [Int64: Int64] {
        struct Row: Decodable { var id: Int64; var project_id: Int64 }
        var out: [Int64: Int64] = [:]
        for r in try await sql.select().columns("id", "project_id").from("cases").where("type", .equal, CaseType.project.key)
            .where("state", .notEqual, CaseLoop.State.closed.rawValue).where(SQLColumn("project_id"), .isNot, SQLLiteral.null)
            .all(decoding: Row.self) {
            out[r.project_id] = max(out[r.project_id] ?? 0, r.id)
        }
        return out
    }

    /// The unfinished supervision case of one project, if any (the newest).
    func openProjectCase(projectID: Int64) async throws -> Int64? {
        try await sql.select().column("id").from("cases").where("type", .equal, CaseType.project.key)
            .where("project_id", .equal, projectID).where("state", .notEqual, CaseLoop.State.closed.rawValue)
            .orderBy("id", .descending).limit(1).first(decodingColumn: "id", as: Int64.self)
    }

    /// The highest number of a type's refs of a year (`2026-0042` → 42), read with one row.
    func lastCaseNumber(type: String, year: Int) async throws -> Int? {
        let ref = try await sql.select().column("ref").from("cases").where("type", .equal, type).where("ref", .like, "\(year)-%")
            .orderBy(SQLOrderBy(expression: SQLFunction("LENGTH", args: SQLColumn("ref")), direction: SQLDirection.descending))
            .orderBy("ref", .descending).limit(1)
            .first(decodingColumn: "ref", as: String.self)
        return ref.flatMap { Int($0.dropFirst(5)) }
    }

    /// A new project and its milestones and parcels (checked by the service), with its history's first entry.
    struct NewProject: Sendable {
        var plan: ProjectPlan
        var parcelIDs: [String]
        var status: ProjectStatus
        var judgedOn: CalendarDate
        /// The month whose report the judgement on `judgedOn` checked (`ProjectJudge.checkedMonth`).
        var checkedMonth: YearMonth
    }

    /// Inserts projects (none of whose refs exist), in multi-row statements.
    func insertProjects(_ items: [NewProject], actor: String, recordedUs: Int64, source: String) async throws {
        let cols = ["ref", "name", "type", "mode", "town", "block", "lead_unit", "target_mu", "households", "signed", "vacated",
                    "demolished", "start_on", "state", "progress", "judged_on", "checked_month", "version", "created_by", "recorded_us"]
        for chunk in items.chunked(Self.chunkSize(columns: cols.count)) {
            let rows: [[any SQLExpression]] = chunk.map { n in
                let p = n.plan
                return [SQLBind(p.ref), SQLBind(p.name), SQLBind(p.type), SQLBind(p.mode), SQLBind(p.town), SQLBind(p.block),
                        SQLBind(p.leadUnit), SQLBind(p.targetMu), SQLBind(p.households), SQLBind(p.signed), SQLBind(p.vacated),
                        SQLBind(p.demolished), SQLBind(p.start.description), SQLBind(n.status.state.rawValue), SQLBind(n.status.progress),
                        SQLBind(n.judgedOn.description), SQLBind(n.checkedMonth.description), SQLBind(1), SQLBind(actor), SQLBind(recordedUs)]
            }
            try await sql.insert(into: "projects").columns(cols).rows(rows).run()
            let ids = try await projectIDs(refs: chunk.map(\.plan.ref))
            var stones: [[any SQLExpression]] = [], parcels: [[any SQLExpression]] = [], events: [[any SQLExpression]] = []
            for n in chunk {
                guard let id = ids[n.plan.ref] else { continue }
                for (i, m) in n.plan.milestones.enumerated() {
                    stones.append([SQLBind(id), SQLBind(i + 1), SQLBind(m.name), SQLBind(m.weight), SQLBind(m.planned.description),
                                   SQLBind(m.done?.description), SQLBind(m.measure?.rawValue), SQLBind(m.reported)])
                }
                for p in Set(n.parcelIDs).sorted() { parcels.append([SQLBind(id), SQLBind(p)]) }
                events.append([SQLBind(id), SQLBind("created"), SQLBind(n.judgedOn.description), SQLBind(actor),
                               SQLBind("立项（\(source)）：\(n.plan.milestones.count) 个节点，\(n.parcelIDs.count) 块地块"), SQLBind(recordedUs)])
            }
            for part in stones.chunked(Self.chunkSize(columns: 8)) {
                try await sql.insert(into: "project_milestones")
                    .columns("project_id", "seq", "name", "weight", "planned_on", "done_on", "measure", "reported").rows(Array(part)).run()
            }
            for part in parcels.chunked(Self.chunkSize(columns: 2)) {
                try await sql.insert(into: "project_parcels").columns("project_id", "parcel_id").rows(Array(part)).run()
            }
            for part in events.chunked(Self.chunkSize(columns: 6)) {
                try await sql.insert(into: "project_events").columns("project_id", "kind", "date", "actor", "detail", "recorded_us")
                    .rows(Array(part)).run()
            }
            try await insertSnapshots(chunk.compactMap { n in ids[n.plan.ref].map { ($0, ProjectSnapshot(n.plan, freedMu: nil)) } }, recordedUs: recordedUs)
        }
    }

    /// Stores a project's verdict (state and progress as of a day, and the month whose report that
    /// day's judgement checked); true when the state or progress changed. Every write that changes
    /// what the 滞后 rules read stores the verdict in its own transaction, so that a verdict of
    /// today against today's checked month is what judging afresh would give (the roll-up relies on it).
    @discardableResult
    func setProjectVerdict(id: Int64, _ s: ProjectStatus, on day: CalendarDate, checked month: YearMonth) async throws -> Bool {
        let changed = try await sql.update("projects").set("state", to: s.state.rawValue).set("progress", to: s.progress)
            .set("judged_on", to: day.description).set("checked_month", to: month.description)
            .where("id", .equal, id)
            .where(SQLGroupExpression(SQLBinaryExpression(
                SQLBinaryExpression(SQLColumn("state"), .notEqual, SQLBind(s.state.rawValue)), .or,
                SQLBinaryExpression(SQLColumn("progress"), .notEqual, SQLBind(s.progress)))))
            .returning("id").all().count
        if changed == 0 {
            try await sql.update("projects").set("judged_on", to: day.description).set("checked_month", to: month.description)
                .where("id", .equal, id).run()
        }
        return changed > 0
    }

    /// Marks the stored verdicts of `ids` as not to be trusted (written beside the services' steps:
    /// the demo's reports, the benchmark's): the roll-up judges them afresh until the next check.
    func markVerdictsStale(ids: [Int64]) async throws {
        for chunk in ids.chunked(500) {
            try await sql.update("projects").set("checked_month", to: SQLLiteral.null).where("id", .in, Array(chunk)).run()
        }
    }

    /// A stored verdict, as the roll-up reads it.
    struct StoredVerdict: Sendable {
        var id: Int64
        var town: String
        var targetMu: Double?
        var state: ProjectState?
        var progress: Double
        var judgedOn: String
        var checkedMonth: String
    }

    /// The stored verdicts of `scope`, by id, in one packed query.
    func projectVerdicts(scope: ProjectScope) async throws -> [StoredVerdict] {
        let cols = ["id", "target_mu", "state", "progress", "judged_on", "COALESCE(checked_month, '')", "town"]
        var text = try await aggregated("SELECT " + packed(cols) + " AS p, id FROM projects WHERE " + Self.projectCondition(scope), order: "id")
        var out: [StoredVerdict] = []
        func string(_ b: UnsafeBufferPointer<UInt8>) -> String { String(decoding: b, as: UTF8.self) }
        try Self.forEachPacked(&text, count: cols.count) { f in
            guard let id = Int64(decimal: f[0]), let progress = Double(string(f[3])) else {
                throw ServiceError(.unprocessable, "项目数据无法读取 / a project row cannot be read")
            }
            out.append(StoredVerdict(id: id, town: string(f[6]), targetMu: f[1].isEmpty ? nil : Double(string(f[1])),
                                     state: ProjectState(rawValue: string(f[2])), progress: progress,
                                     judgedOn: string(f[4]), checkedMonth: string(f[5])))
        }
        return out
    }
}

// MARK: - targets (目标任务清单)

extension Store {
    /// Replaces the targets of each (year, unit) the import names, in one transaction.
    func importTargets(_ targets: [ProjectTarget], fileName: String, actor: String, detail: String?) async throws {
        try await db.transaction { db in
            let tx = Store(db)
            let now = Store.nowMicros()
            for key in Set(targets.map { "\($0.year)\u{1F}\($0.unit)" }) {
                let parts = key.split(separator: "\u{1F}", omittingEmptySubsequences: false)
                try await tx.sql.delete(from: "project_targets").where("year", .equal, Int(parts[0])!).where("unit", .equal, String(parts[1])).run()
            }
            for chunk in targets.chunked(Self.chunkSize(columns: 6)) {
                try await tx.sql.insert(into: "project_targets").columns("year", "unit", "indicator", "value", "set_by", "recorded_us")
                    .rows(chunk.map { [SQLBind($0.year), SQLBind($0.unit), SQLBind($0.indicator.rawValue), SQLBind($0.value), SQLBind(actor), SQLBind(now)] })
                    .run()
                try await tx.sql.insert(into: "project_target_log").columns("year", "unit", "indicator", "value", "batch_us")
                    .rows(chunk.map { [SQLBind($0.year), SQLBind($0.unit), SQLBind($0.indicator.rawValue), SQLBind($0.value), SQLBind(now)] })
                    .run()
            }
            try await tx.audit(actor: actor, action: "projects.targets", target: fileName, detail: detail)
        }
    }

    /// The targets of a year (all units), by unit and indicator.
    func targets(year: Int) async throws -> [ProjectTarget] {
        struct Row: Decodable { var year: Int; var unit: String; var indicator: String; var value: Double }
        return try await sql.select().columns("year", "unit", "indicator", "value").from("project_targets").where("year", .equal, year)
            .orderBy("unit").orderBy("indicator").all(decoding: Row.self)
            .compactMap { r in TargetIndicator(rawValue: r.indicator).map { ProjectTarget(year: r.year, unit: r.unit, indicator: $0, value: r.value) } }
    }

    /// The years with targets, newest first.
    func targetYears() async throws -> [Int] {
        try await sql.select().distinct().column("year").from("project_targets").orderBy("year", .descending)
            .all(decodingColumn: "year", as: Int.self)
    }
}

// MARK: - the roll-up's read

extension Store {
    /// Every project of `scope` as the 滞后 rules judge it (its plan with milestones and reported
    /// months), read in three packed queries whatever the count (10,000 projects, 100,000
    /// milestones and 120,000 reports cross as three values).
    ///
    /// `onlyMonth` (a roll-up): the reports of that month only, and no names (projects' and
    /// milestones' are empty) — the plans a judgement on one day needs, without the rest.
    /// `ids`: only these projects (of the scope).
    func projectPlans(scope: ProjectScope, onlyMonth: YearMonth? = nil, ids: [Int64]? = nil) async throws -> [(id: Int64, plan: ProjectPlan)] {
        var condition = Self.projectCondition(scope)
        if let ids {
            // integers, written as literals: no limit on the number of binds
            condition = "(" + condition + ") AND id IN (\(unsafeRaw: ids.isEmpty ? "NULL" : ids.map(String.init).joined(separator: ",")))"
        }
        let lean = onlyMonth != nil
        var pCols = ["id", "ref", "type", "mode", "town", "block", "lead_unit", "target_mu", "households", "signed", "vacated",
                     "demolished", "start_on"]
        if !lean { pCols.append("name") }
        var pText = try await aggregated("SELECT " + packed(pCols) + " AS p, id FROM projects WHERE " + condition, order: "id")
        let inScope: SQLQueryString = "project_id IN (SELECT id FROM projects WHERE " + condition + ")"
        // (the last column is text: `packed` strips the separators from it)
        var mCols = ["project_id", "seq", "weight", "planned_on", "done_on", "reported", "measure"]
        if !lean { mCols.append("name") }
        async let mFetch = aggregated("SELECT " + packed(mCols) + " AS p, project_id, seq FROM project_milestones WHERE " + inScope,
                                      order: "project_id, seq")
        var rQuery: SQLQueryString = "SELECT " + packed(["project_id", "month"]) + " AS p, project_id FROM project_reports WHERE " + inScope
        if let m = onlyMonth { rQuery = rQuery + " AND month = \(bind: m.description)" }
        async let rFetch = aggregated(rQuery, order: "project_id")
        var mText = try await mFetch, rText = try await rFetch
        func text(_ b: UnsafeBufferPointer<UInt8>) -> String { String(decoding: b, as: UTF8.self) }
        func opt(_ b: UnsafeBufferPointer<UInt8>) -> String? { b.isEmpty ? nil : text(b) }
        func int(_ b: UnsafeBufferPointer<UInt8>) -> Int? { Int64(decimal: b).map(Int.init) }
        func double(_ b: UnsafeBufferPointer<UInt8>) -> Double? { b.isEmpty ? nil : Double(text(b)) }
        var plans: [(id: Int64, plan: ProjectPlan)] = []
        var index: [Int64: Int] = [:]
        try Self.forEachPacked(&pText, count: pCols.count) { f in
            guard let id = Int64(decimal: f[0]), let start = CalendarDate(utf8: f[12]) else {
                throw ServiceError(.unprocessable, "项目数据无法读取 / a project row cannot be read")
            }
            var p = ProjectPlan(ref: text(f[1]), name: lean ? "" : text(f[13]), type: text(f[2]), mode: opt(f[3]), town: text(f[4]), block: opt(f[5]),
                                leadUnit: text(f[6]), targetMu: double(f[7]), households: int(f[8]), start: start, milestones: [])
            p.signed = int(f[9]) ?? 0; p.vacated = int(f[10]) ?? 0; p.demolished = int(f[11]) ?? 0
            index[id] = plans.count
            plans.append((id, p))
        }
        try Self.forEachPacked(&mText, count: mCols.count) { f in
            guard let id = Int64(decimal: f[0]), let i = index[id], let weight = int(f[2]), let planned = CalendarDate(utf8: f[3]) else {
                throw ServiceError(.unprocessable, "节点数据无法读取 / a milestone row cannot be read")
            }
            plans[i].plan.milestones.append(Milestone(name: lean ? "" : text(f[7]), weight: weight, planned: planned,
                                                      done: f[4].isEmpty ? nil : CalendarDate(utf8: f[4]),
                                                      measure: opt(f[6]).flatMap(RenewalMeasure.init(rawValue:)), reported: double(f[5])))
        }
        try Self.forEachPacked(&rText, count: 2) { f in
            guard let id = Int64(decimal: f[0]), let i = index[id], let m = YearMonth(utf8: f[1]) ?? YearMonth(parsing: text(f[1])) else { return }
            plans[i].plan.reportedMonths.insert(m)
        }
        return plans
    }
}
