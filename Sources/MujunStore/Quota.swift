import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The quota ledger's rows (全域土地综合整治, issue 11): a consolidation project with the ledger's
/// running state, its (town, type) state, its journal and its transfers. The rules are MujunCore's
/// `QuotaLedger`; `postQuota` is the one write of the journal, and runs them inside its transaction.
extension Store {
    /// A consolidation project as stored.
    public struct QuotaProjectRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var name: String
        public var towns: String
        public var startOn: String
        public var marginUnits: Int64
        public var basicAdded: Int64
        public var basicOut: Int64
        public var farmCredited: Int64
        public var farmCreditedGrade: Int64
        public var farmUsed: Int64
        public var farmUsedGrade: Int64
        public var latestOn: String?
        public var nextSeq: Int64
        public var version: Int64
        public var createdBy: String
        enum CodingKeys: String, CodingKey {
            case id, name, towns, startOn = "start_on", marginUnits = "margin_units", basicAdded = "basic_added", basicOut = "basic_out",
                 farmCredited = "farm_credited", farmCreditedGrade = "farm_credited_grade", farmUsed = "farm_used",
                 farmUsedGrade = "farm_used_grade", latestOn = "latest_on", nextSeq = "next_seq", version, createdBy = "created_by"
        }
        public var townList: [String] { towns.split(separator: ";").map(String.init) }

        /// The project as the ledger needs it.
        public var project: QuotaProject {
            get throws {
                guard let start = CalendarDate(startOn) else { throw ServiceError(.unprocessable, "项目开始日期无法读取 / the start cannot be read") }
                do {
                    return try QuotaProject(name: name, towns: townList, start: start, margin: QuotaAmount.format(marginUnits))
                } catch {
                    throw ServiceError(.unprocessable, error.description)
                }
            }
        }
    }

    /// A journal entry as stored.
    public struct QuotaEntryRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var projectId: Int64
        public var seq: Int64
        public var date: String
        public var action: String
        public var base: String
        public var sign: Int
        public var town: String
        public var toTown: String?
        public var quota: String
        public var units: Int64
        public var grade: Int?
        public var reverses: Int64?
        public var reversedBy: Int64?
        public var note: String
        public var subprojectId: Int64?
        public var transferId: Int64?
        public var actor: String
        public var recordedUs: Int64
        enum CodingKeys: String, CodingKey {
            case id, projectId = "project_id", seq, date, action, base, sign, town, toTown = "to_town", quota, units, grade, reverses,
                 reversedBy = "reversed_by", note, subprojectId = "subproject_id", transferId = "transfer_id", actor, recordedUs = "recorded_us"
        }
    }

    static let quotaProjectColumns = ["id", "name", "towns", "start_on", "margin_units", "basic_added", "basic_out", "farm_credited",
                                      "farm_credited_grade", "farm_used", "farm_used_grade", "latest_on", "next_seq", "version", "created_by"]

    func quotaProjects() async throws -> [QuotaProjectRecord] {
        try await sql.select().columns(Self.quotaProjectColumns.map { SQLColumn($0) }).from("quota_projects").orderBy("id")
            .all(decoding: QuotaProjectRecord.self)
    }

    func quotaProject(id: Int64) async throws -> QuotaProjectRecord? {
        try await sql.select().columns(Self.quotaProjectColumns.map { SQLColumn($0) }).from("quota_projects").where("id", .equal, id)
            .first(decoding: QuotaProjectRecord.self)
    }

    func insertQuotaProject(_ p: QuotaProject, actor: String) async throws -> Int64 {
        try await db.transaction { db in
            let tx = Store(db)
            let now = Self.nowMicros()
            let id = try await tx.sql.insert(into: "quota_projects")
                .columns("name", "towns", "start_on", "margin_units", "basic_added", "basic_out", "farm_credited", "farm_credited_grade",
                         "farm_used", "farm_used_grade", "next_seq", "version", "created_by", "recorded_us")
                .values(SQLBind(p.name), SQLBind(p.towns.joined(separator: ";")), SQLBind(p.start.description), SQLBind(p.marginNumerator),
                        SQLBind(0), SQLBind(0), SQLBind(0), SQLBind(0), SQLBind(0), SQLBind(0), SQLBind(1), SQLBind(1), SQLBind(actor), SQLBind(now))
                .returning("id").first(decodingColumn: "id", as: Int64.self)
            guard let id else { throw ServiceError(.unprocessable, "项目未能保存 / the project was not saved") }
            for town in p.towns {
                for q in QuotaType.allCases {
                    try await tx.sql.insert(into: "quota_balances")
                        .columns("project_id", "town", "quota", "credited", "used", "transferred_in", "transferred_out")
                        .values(SQLBind(id), SQLBind(town), SQLBind(q.key), SQLBind(0), SQLBind(0), SQLBind(0), SQLBind(0)).run()
                }
            }
            try await tx.audit(actor: actor, action: "quota.project", target: "全域整治项目 \(p.name)",
                               detail: "镇街 \(p.towns.joined(separator: "、"))，开始 \(p.start)，余量 \(p.marginText)")
            return id
        }
    }

    /// The ledger's stored state of project `r`.
    func quotaState(_ r: QuotaProjectRecord, towns: [String]) async throws -> QuotaLedger.State {
        struct Row: Decodable { var town: String; var quota: String; var credited: Int64; var used: Int64; var transferred_in: Int64; var transferred_out: Int64 }
        let rows = try await sql.select().columns("town", "quota", "credited", "used", "transferred_in", "transferred_out")
            .from("quota_balances").where("project_id", .equal, r.id).all(decoding: Row.self)
        var s = QuotaLedger.State(towns: towns.count)
        for row in rows {
            guard let t = towns.firstIndex(of: row.town), let q = QuotaType(cell: row.quota) else { continue }
            s.balances[t * 3 + q.rawValue].credited = row.credited
            s.balances[t * 3 + q.rawValue].used = row.used
            s.balances[t * 3 + q.rawValue].transferredIn = row.transferred_in
            s.balances[t * 3 + q.rawValue].transferredOut = row.transferred_out
        }
        s.basicAdded = r.basicAdded; s.basicOut = r.basicOut
        s.farmCredited = r.farmCredited; s.farmCreditedGrade = r.farmCreditedGrade
        s.farmUsed = r.farmUsed; s.farmUsedGrade = r.farmUsedGrade
        s.latest = r.latestOn.flatMap(CalendarDate.init)
        return s
    }

    func quotaEntry(projectID: Int64, seq: Int64) async throws -> QuotaEntryRecord? {
        try await sql.select().columns("*").from("quota_entries").where("project_id", .equal, projectID).where("seq", .equal, seq)
            .first(decoding: QuotaEntryRecord.self)
    }

    /// What a posting carries beside the ledger's fields: its sub-project or transfer, and who.
    struct QuotaLink: Sendable {
        var subproject: Int64?
        var transfer: Int64?
    }

    /// Posts `postings` to project `id`, all or none, in one transaction: the project's state read,
    /// each posting checked by the ledger against the state after the ones before it (a refusal
    /// throws 422 naming its row and rule; nothing is written), the entries appended, the state
    /// written, and the project claimed at the version read — two postings at the same moment
    /// cannot both pass on the same state (the later one is checked again on the new state, see
    /// `QuotaService.posting`). `seqs`: the postings' numbers (nil: the next ones).
    func postQuota(id: Int64, _ postings: [(QuotaPosting, QuotaLink)], numbered: Bool, actor: String, detail: String?) async throws -> [QuotaEntryRecord] {
        try await db.transaction { db in
            let tx = Store(db)
            // PostgreSQL: the project row locked first, so a posting at the same moment waits and then
            // sees this one's state (SQLite writes one transaction at a time; the version claim below guards both)
            if tx.sql.dialect.name == "postgresql" {
                _ = try await tx.sql.raw("SELECT id FROM quota_projects WHERE id = \(bind: id) FOR UPDATE").all()
            }
            guard let r = try await tx.quotaProject(id: id) else { throw ServiceError.notFound("全域整治项目不存在 / no such consolidation project") }
            let project = try r.project
            var ledger = QuotaLedger(project: project, state: try await tx.quotaState(r, towns: project.towns), entries: [])
            var nextSeq = r.nextSeq
            var written: [(QuotaLedger.Entry, QuotaLink, String)] = []
            var reversed: [(target: Int64, by: Int64)] = []
            var errors = RowErrorCollector()
            // the state at the end of each month the journal leaves (the last accepted day's)
            var checkpoints: [(CalendarDate, QuotaLedger.State)] = []
            // the sub-project and approval of each entry posted or named here, by seq
            var links: [String: QuotaLink] = [:]
            for (var p, link) in postings {
                if numbered {
                    guard let n = Int64(p.seq), n >= nextSeq else {
                        errors.add(RowError(row: p.row, column: "序号", zh: "序号 \(p.seq) 应为大于 \(nextSeq - 1) 的整数（接续库中台账）",
                                            en: "seq \(p.seq) must be a whole number after \(nextSeq - 1), continuing the journal"))
                        continue
                    }
                    nextSeq = n + 1
                } else {
                    p.seq = String(nextSeq); nextSeq += 1
                }
                if p.action == .reverse, ledger.entry(seq: p.reverses) == nil, let n = Int64(p.reverses),
                   let target = try await tx.quotaEntry(projectID: id, seq: n), let e = Self.entry(target, project) {
                    ledger.restore(e)
                    links[e.seq] = QuotaLink(subproject: target.subprojectId, transfer: target.transferId)
                }
                let latest = ledger.latest
                let before: QuotaLedger.State? = latest.map { YearMonth(p.date) > YearMonth($0) } == true ? ledger.state : nil
                if let refusal = ledger.post(p) {
                    errors.add(RowError(row: p.row, column: "", zh: "规则\(refusal.rule)：\(refusal.zh)", en: "rule \(refusal.rule): \(refusal.en)"))
                    continue
                }
                if let before, let latest { checkpoints.append((latest, before)) }
                let e = ledger.entries.last!
                var own = link
                if let t = e.reverses {
                    if let targetSeq = Int64(ledger.entries[t].seq), let by = Int64(e.seq) { reversed.append((targetSeq, by)) }
                    // a reversal keeps its target's sub-project and approval: sums per sub-project are net of it
                    let inherited = links[ledger.entries[t].seq] ?? QuotaLink()
                    if own.subproject == nil { own.subproject = inherited.subproject }
                    if own.transfer == nil { own.transfer = inherited.transfer }
                }
                links[e.seq] = own
                written.append((e, own, p.note))
            }
            if let failure = errors.failure() { throw failure }
            let now = Self.nowMicros()
            var records: [QuotaEntryRecord] = []
            for (e, link, note) in written {
                let rec = QuotaEntryRecord(id: 0, projectId: id, seq: Int64(e.seq)!, date: e.date.description, action: e.action.key, base: e.base.key,
                                           sign: Int(e.sign), town: project.towns[e.town], toTown: e.toTown >= 0 ? project.towns[e.toTown] : nil,
                                           quota: e.quota.key, units: e.units, grade: e.grade > 0 ? Int(e.grade) : nil,
                                           reverses: e.reverses.flatMap { Int64(ledger.entries[$0].seq) }, reversedBy: nil, note: note,
                                           subprojectId: link.subproject, transferId: link.transfer, actor: actor, recordedUs: now)
                records.append(rec)
            }
            for chunk in records.chunked(Self.chunkSize(columns: 18)) {
                try await tx.sql.insert(into: "quota_entries")
                    .columns("project_id", "seq", "date", "action", "base", "sign", "town", "to_town", "quota", "units", "grade", "reverses",
                             "note", "subproject_id", "transfer_id", "actor", "recorded_us")
                    .rows(chunk.map { r in [SQLBind(r.projectId), SQLBind(r.seq), SQLBind(r.date), SQLBind(r.action), SQLBind(r.base), SQLBind(r.sign),
                                            SQLBind(r.town), SQLBind(r.toTown), SQLBind(r.quota), SQLBind(r.units), SQLBind(r.grade), SQLBind(r.reverses),
                                            SQLBind(r.note), SQLBind(r.subprojectId), SQLBind(r.transferId), SQLBind(r.actor), SQLBind(r.recordedUs)] })
                    .run()
            }
            for (target, by) in reversed {
                try await tx.sql.update("quota_entries").set("reversed_by", to: by).where("project_id", .equal, id).where("seq", .equal, target).run()
            }
            var cpRows: [[any SQLExpression]] = []
            for (day, state) in checkpoints {
                for (t, town) in project.towns.enumerated() {
                    for q in QuotaType.allCases {
                        let b = state.balances[t * 3 + q.rawValue]
                        cpRows.append([SQLBind(id), SQLBind(day.description), SQLBind(town), SQLBind(q.key), SQLBind(b.credited), SQLBind(b.used),
                                       SQLBind(b.transferredIn), SQLBind(b.transferredOut)])
                    }
                }
            }
            for chunk in cpRows.chunked(Self.chunkSize(columns: 8)) {
                try await tx.sql.insert(into: "quota_checkpoints")
                    .columns("project_id", "as_of", "town", "quota", "credited", "used", "transferred_in", "transferred_out").rows(Array(chunk)).run()
            }
            let s = ledger.state
            for (t, town) in project.towns.enumerated() {
                for q in QuotaType.allCases {
                    let b = s.balances[t * 3 + q.rawValue]
                    try await tx.sql.update("quota_balances").set("credited", to: b.credited).set("used", to: b.used)
                        .set("transferred_in", to: b.transferredIn).set("transferred_out", to: b.transferredOut)
                        .where("project_id", .equal, id).where("town", .equal, town).where("quota", .equal, q.key).run()
                }
            }
            let claimed = try await tx.sql.update("quota_projects")
                .set("basic_added", to: s.basicAdded).set("basic_out", to: s.basicOut)
                .set("farm_credited", to: s.farmCredited).set("farm_credited_grade", to: s.farmCreditedGrade)
                .set("farm_used", to: s.farmUsed).set("farm_used_grade", to: s.farmUsedGrade)
                .set("latest_on", to: SQLBind(s.latest?.description)).set("next_seq", to: nextSeq)
                .set("version", to: SQLLiteral.numeric("version + 1"))
                .where("id", .equal, id).where("version", .equal, r.version)
                .returning("id").all().count
            guard claimed == 1 else { throw QuotaConflict() }
            let what = records.count == 1
                ? "\(records[0].seq) 号 \(QuotaAction(cell: records[0].action)?.chinese ?? records[0].action) \(records[0].town) \(QuotaType(cell: records[0].quota)?.chinese ?? "") \(QuotaAmount.format(records[0].units)) 亩"
                : "\(records.count) 笔（\(records.first.map { String($0.seq) } ?? "")–\(records.last.map { String($0.seq) } ?? "") 号）"
            try await tx.audit(actor: actor, action: "quota.post", target: "全域整治项目 \(r.name)", detail: [what, detail].compactMap { $0 }.joined(separator: " · "))
            return records
        }
    }

    /// A stored entry as the ledger keeps it.
    static func entry(_ r: QuotaEntryRecord, _ p: QuotaProject) -> QuotaLedger.Entry? {
        guard let date = CalendarDate(r.date), let action = QuotaAction(cell: r.action), let base = QuotaAction(cell: r.base),
              let town = p.towns.firstIndex(of: r.town), let q = QuotaType(cell: r.quota) else { return nil }
        return QuotaLedger.Entry(seq: String(r.seq), date: date, action: action, base: base, town: town,
                                 toTown: r.toTown.flatMap { p.towns.firstIndex(of: $0) } ?? -1, quota: q, units: r.units,
                                 grade: Int64(r.grade ?? 0), sign: Int64(r.sign), reversedBy: r.reversedBy.map(String.init))
    }

    /// The balances of every (town, type) of project `id` at the end of `day` (nil: now): the stored
    /// running state when `day` is on or after the latest entry; else the last monthly checkpoint
    /// on or before `day` plus the journal since, summed in one grouped query (a month at most).
    func quotaBalances(_ r: QuotaProjectRecord, asOf day: CalendarDate?) async throws -> [QuotaLedger.Balance] {
        let id = r.id, towns = r.townList
        if day == nil || r.latestOn.map({ day!.description >= $0 }) ?? true {
            if r.latestOn == nil { return Array(repeating: QuotaLedger.Balance(), count: towns.count * 3) }
            return try await quotaState(r, towns: towns).balances
        }
        let d = day!.description
        var out = Array(repeating: QuotaLedger.Balance(), count: towns.count * 3)
        let cp = try await sql.select().column(SQLFunction("MAX", args: SQLColumn("as_of")), as: "a").from("quota_checkpoints")
            .where("project_id", .equal, id).where("as_of", .lessThanOrEqual, d).first(decodingColumn: "a", as: String?.self) ?? nil
        if let cp {
            struct Row: Decodable { var town: String; var quota: String; var credited: Int64; var used: Int64; var transferred_in: Int64; var transferred_out: Int64 }
            for row in try await sql.select().columns("town", "quota", "credited", "used", "transferred_in", "transferred_out").from("quota_checkpoints")
                .where("project_id", .equal, id).where("as_of", .equal, cp).all(decoding: Row.self) {
                guard let i = towns.firstIndex(of: row.town), let qt = QuotaType(cell: row.quota) else { continue }
                out[i * 3 + qt.rawValue] = { var b = QuotaLedger.Balance(); b.credited = row.credited; b.used = row.used
                                             b.transferredIn = row.transferred_in; b.transferredOut = row.transferred_out; return b }()
            }
        }
        struct Row: Decodable { var town: String; var to_town: String?; var quota: String; var base: String; var total: Int64? }
        var q = sql.select().column("town").column("to_town").column("quota").column("base")
            .column(SQLRaw("CAST(SUM(sign * units) AS BIGINT)"), as: "total")
            .from("quota_entries").where("project_id", .equal, id).where("date", .lessThanOrEqual, d)
        if let cp { q = q.where("date", .greaterThan, cp) }
        for r in try await q.groupBy("town").groupBy("to_town").groupBy("quota").groupBy("base").all(decoding: Row.self) {
            guard let i = towns.firstIndex(of: r.town), let qt = QuotaType(cell: r.quota) else { continue }
            let v = r.total ?? 0
            switch r.base {
            case "credit": out[i * 3 + qt.rawValue].credited += v
            case "use": out[i * 3 + qt.rawValue].used += v
            case "transfer":
                out[i * 3 + qt.rawValue].transferredOut += v
                if let to = r.to_town.flatMap({ towns.firstIndex(of: $0) }) { out[to * 3 + qt.rawValue].transferredIn += v }
            default: break
            }
        }
        return out
    }

    /// The journal of project `id`, filtered, in seq order (newest first), up to `limit`.
    func quotaJournal(id: Int64, town: String?, quota: String?, action: String?, from: CalendarDate?, to: CalendarDate?, limit: Int) async throws -> [QuotaEntryRecord] {
        var q = sql.select().columns("*").from("quota_entries").where("project_id", .equal, id)
        if let town { q = q.where(SQLGroupExpression(SQLBinaryExpression(SQLBinaryExpression(SQLColumn("town"), .equal, SQLBind(town)), .or,
                                                                          SQLBinaryExpression(SQLColumn("to_town"), .equal, SQLBind(town))))) }
        if let quota { q = q.where("quota", .equal, quota) }
        if let action { q = q.where("action", .equal, action) }
        if let from { q = q.where("date", .greaterThanOrEqual, from.description) }
        if let to { q = q.where("date", .lessThanOrEqual, to.description) }
        return try await q.orderBy("seq", .descending).limit(limit).all(decoding: QuotaEntryRecord.self)
    }
}

/// Another posting claimed the project first: the service checks again on the new state.
struct QuotaConflict: Error {}
