import Foundation
import FluentKit
import SQLKit
import MujunCore

/// All reads and writes of Mujun's data, for the services of this module (nothing outside it
/// can reach the database: the server and the tool work through `Services`). Invariants
/// (all-or-nothing imports, one current run per year, append-only audit, atomic steps) live
/// inside these methods. The nested model types (`Store.Appeal`, `Store.ResultRow`…) are what
/// the services return.
public struct Store: Sendable {
    let db: any Database
    var sql: any SQLDatabase { db as! any SQLDatabase }
    /// The enterprise-level data the reader may see: every read of results, counts, history
    /// and exports is filtered by it, so no caller can forget the jurisdiction.
    var scope: DataScope
    /// When set, years whose results are still a draft read as if they had no evaluation.
    var publishedOnly: Bool

    init(_ db: any Database, scope: DataScope = .all, publishedOnly: Bool = false) {
        self.db = db; self.scope = scope; self.publishedOnly = publishedOnly
    }

    /// Whether the reader may see a year's results.
    func yearVisible(_ year: Int) async throws -> Bool {
        guard publishedOnly else { return true }
        return try await publication(year: year).status != .draft
    }

    static let jsonEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }()
    static let jsonDecoder: JSONDecoder = {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }()

    /// Rows per INSERT statement, under SQLite's and PostgreSQL's bind limits.
    static func chunkSize(columns: Int) -> Int { max(1, 30_000 / columns) }

    // MARK: - Enterprise annual data

    public struct ImportSummary: Codable, Sendable {
        public var importID: Int64
        public var rows: Int
        public var year: Int?
    }

    static let enterpriseColumns = ["year", "credit_code", "name", "town", "grp", "industry", "land_mu", "tax",
                                    "value_added", "revenue", "rnd", "energy_tce", "emissions", "electricity",
                                    "employees", "veto", "exempt", "import_id"]

    /// Loads checked records in one transaction: a row for the same enterprise and year is
    /// replaced, so importing the same file twice leaves the same data.
    func importEnterprises(_ records: [EnterpriseRecord], fileName: String, actor: String, detail: String? = nil) async throws -> ImportSummary {
        let years = Set(records.map(\.year))
        return try await db.transaction { db in
            let sql = db as! any SQLDatabase
            let batch = try await sql.insert(into: "import_batches")
                .columns("kind", "file_name", "year", "rows", "actor", "created_at")
                .values(SQLBind("enterprises"), SQLBind(fileName), SQLBind(years.count == 1 ? years.first : nil),
                        SQLBind(records.count), SQLBind(actor), SQLBind(Date()))
                .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
            let cols = Self.enterpriseColumns
            let updated = cols.filter { $0 != "year" && $0 != "credit_code" }
            for chunk in records.chunked(Self.chunkSize(columns: cols.count)) {
                let rows: [[any SQLExpression]] = chunk.map { r in
                    [SQLBind(r.year), SQLBind(r.creditCode), SQLBind(r.name), SQLBind(r.town), SQLBind(r.group.rawValue),
                     SQLBind(r.industry), SQLBind(r.landMu), SQLBind(r.tax), SQLBind(r.valueAdded), SQLBind(r.revenue),
                     SQLBind(r.rnd), SQLBind(r.energyTce), SQLBind(r.emissions), SQLBind(r.electricity),
                     SQLBind(r.employees), SQLBind(r.vetoes.isEmpty ? nil : r.vetoes.joined(separator: ";")),
                     SQLBind(r.exempt), SQLBind(batch)]
                }
                try await sql.insert(into: "enterprise_years").columns(cols).rows(rows)
                    .onConflict(with: ["year", "credit_code"]) { u in
                        var u = u
                        for c in updated { u = u.set(excludedValueOf: c) }
                        return u
                    }.run()
            }
            try await Store(db).audit(actor: actor, action: "import.enterprises", target: fileName,
                                      detail: ["\(records.count) 行，年度 \(years.sorted().map(String.init).joined(separator: ","))", detail].compactMap { $0 }.joined(separator: " · "))
            return ImportSummary(importID: batch, rows: records.count, year: years.count == 1 ? years.first : nil)
        }
    }

    struct EnterpriseRow: Decodable {
        var year: Int; var credit_code: String; var name: String; var town: String; var grp: String
        var industry: String?; var land_mu: Double?; var tax: Double?; var value_added: Double?
        var revenue: Double?; var rnd: Double?; var energy_tce: Double?; var emissions: Double?
        var electricity: Double?; var employees: Double?; var veto: String?; var exempt: String?
    }

    /// One year's stored records, in credit-code order.
    func records(year: Int) async throws -> [EnterpriseRecord] {
        try await sql.select().columns(Self.enterpriseColumns.filter { $0 != "import_id" }.map { SQLColumn($0) })
            .from("enterprise_years").where("year", .equal, year).orderBy("credit_code")
            .all(decoding: EnterpriseRow.self)
            .map { r in
                EnterpriseRecord(year: r.year, creditCode: r.credit_code, name: r.name, town: r.town,
                                 group: EnterpriseGroup(rawValue: r.grp) ?? .below, industry: r.industry, landMu: r.land_mu,
                                 tax: r.tax, valueAdded: r.value_added, revenue: r.revenue, rnd: r.rnd,
                                 energyTce: r.energy_tce, emissions: r.emissions, electricity: r.electricity,
                                 employees: r.employees, vetoes: r.veto.map { $0.split(separator: ";").map(String.init) } ?? [],
                                 exempt: r.exempt)
            }
    }

    /// Years that have stored data, newest first.
    func dataYears() async throws -> [Int] {
        try await sql.select().distinct().column("year").from("enterprise_years").orderBy("year", .descending)
            .all(decodingColumn: "year", as: Int.self)
    }

    // MARK: - Evaluation runs

    public struct RunInfo: Codable, Sendable {
        public var id: Int64
        public var year: Int
        public var rulesYAML: String
        public var enterprises: Int
        public var evaluated: Int
        public var actor: String
        public var createdAt: Date
        enum CodingKeys: String, CodingKey {
            case id, year, rulesYAML = "rules_yaml", enterprises, evaluated, actor, createdAt = "created_at"
        }
    }

    /// Final classes of every year before `year`, from each year's current run.
    func history(before year: Int) async throws -> Evaluator.History {
        struct Row: Decodable { var credit_code: String; var year: Int; var final_class: String? }
        let rows = try await sql.select().column(SQLColumn("credit_code", table: "r")).column(SQLColumn("year", table: "r"))
            .column(SQLColumn("final_class", table: "r"))
            .from(SQLAlias(SQLIdentifier("evaluation_results"), as: SQLIdentifier("r")))
            .join(SQLAlias(SQLIdentifier("evaluation_runs"), as: SQLIdentifier("u")), method: SQLJoinMethod.inner,
                  on: SQLColumn("run_id", table: "r"), .equal, SQLColumn("id", table: "u"))
            .where(SQLColumn("is_current", table: "u"), .equal, SQLBind(true))
            .where(SQLColumn("year", table: "r"), .lessThan, SQLBind(year))
            .all(decoding: Row.self)
        var h: Evaluator.History = [:]
        for r in rows { if let c = r.final_class.flatMap(EnterpriseClass.init(rawValue:)) { h[r.credit_code, default: [:]][r.year] = c } }
        return h
    }

    /// Evaluates a stored year under `rules` and stores the run with every explanation;
    /// the new run becomes the year's current one, earlier runs stay.
    @discardableResult
    func evaluate(year: Int, rules: Rules, rulesYAML: String, actor: String, detail: String? = nil) async throws -> (RunInfo, EvaluationOutcome) {
        let records = try await records(year: year)
        guard !records.isEmpty else { throw StoreError.noData(year: year) }
        let history = try await history(before: year)
        let outcome = Evaluator(rules: rules).evaluate(year: year, records: records, history: history)
        let run = try await save(outcome, rulesYAML: rulesYAML, actor: actor, detail: detail)
        return (run, outcome)
    }

    static let resultColumns = ["run_id", "year", "credit_code", "name", "town", "grp", "evaluated", "exempt_reason",
                                "land_mu", "tax_per_mu", "total_score", "rank", "class_before", "final_class", "veto",
                                "explanation"]

    /// Stores an outcome as the year's current run.
    func save(_ outcome: EvaluationOutcome, rulesYAML: String, actor: String, detail: String? = nil) async throws -> RunInfo {
        let now = Date()
        let evaluated = outcome.results.filter(\.evaluated).count
        let benchmarks = String(decoding: try Self.jsonEncoder.encode(outcome.benchmarks), as: UTF8.self)
        let explanations = try outcome.results.map { String(decoding: try Self.jsonEncoder.encode($0), as: UTF8.self) }
        return try await db.transaction { db in
            let sql = db as! any SQLDatabase
            try await sql.update("evaluation_runs").set("is_current", to: false).where("year", .equal, outcome.year).run()
            let id = try await sql.insert(into: "evaluation_runs")
                .columns("year", "rules_yaml", "benchmarks_json", "enterprises", "evaluated", "is_current", "actor", "created_at")
                .values(SQLBind(outcome.year), SQLBind(rulesYAML), SQLBind(benchmarks), SQLBind(outcome.results.count),
                        SQLBind(evaluated), SQLBind(true), SQLBind(actor), SQLBind(now))
                .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
            let cols = Self.resultColumns
            for chunk in Array(zip(outcome.results, explanations)).chunked(Self.chunkSize(columns: cols.count)) {
                let rows: [[any SQLExpression]] = chunk.map { (r, json) in
                    [SQLBind(id), SQLBind(r.year), SQLBind(r.creditCode), SQLBind(r.name), SQLBind(r.town),
                     SQLBind(r.group.rawValue), SQLBind(r.evaluated), SQLBind(r.exemptReason), SQLBind(r.landMu),
                     SQLBind(r.items.first { $0.indicator == .taxPerMu }?.value), SQLBind(r.totalScore), SQLBind(r.rank),
                     SQLBind(r.classBeforeVeto?.rawValue), SQLBind(r.finalClass?.rawValue),
                     SQLBind(r.vetoes.isEmpty ? nil : r.vetoes.joined(separator: ";")), SQLBind(json)]
                }
                try await sql.insert(into: "evaluation_results").columns(cols).rows(rows).run()
            }
            try await Store(db).audit(actor: actor, action: "evaluation.run", target: "\(outcome.year)",
                                      detail: ["运行 #\(id)：\(outcome.results.count) 家企业，参评 \(evaluated) 家", detail].compactMap { $0 }.joined(separator: " · "))
            return RunInfo(id: id, year: outcome.year, rulesYAML: rulesYAML, enterprises: outcome.results.count,
                           evaluated: evaluated, actor: actor, createdAt: now)
        }
    }

    /// The year's current run, if the year was evaluated.
    func currentRun(year: Int) async throws -> RunInfo? {
        guard try await yearVisible(year) else { return nil }
        return try await sql.select().columns("id", "year", "rules_yaml", "enterprises", "evaluated", "actor", "created_at")
            .from("evaluation_runs").where("year", .equal, year).where("is_current", .equal, true)
            .first(decoding: RunInfo.self)
    }

    /// Every run of a year, newest first.
    func runs(year: Int) async throws -> [RunInfo] {
        try await sql.select().columns("id", "year", "rules_yaml", "enterprises", "evaluated", "actor", "created_at")
            .from("evaluation_runs").where("year", .equal, year).orderBy("id", .descending)
            .all(decoding: RunInfo.self)
    }

    /// Years with a current run, newest first.
    func evaluatedYears() async throws -> [Int] {
        let years = try await sql.select().column("year").from("evaluation_runs").where("is_current", .equal, true)
            .orderBy("year", .descending).all(decodingColumn: "year", as: Int.self)
        guard publishedOnly else { return years }
        let published = Set(try await publishedYears())
        return years.filter { published.contains($0) }
    }

    func benchmarks(runID: Int64) async throws -> [BenchmarkValue] {
        guard let json = try await sql.select().column("benchmarks_json").from("evaluation_runs")
            .where("id", .equal, runID).first(decodingColumn: "benchmarks_json", as: String.self) else { return [] }
        return try Self.jsonDecoder.decode([BenchmarkValue].self, from: Data(json.utf8))
    }

    // MARK: - Reading results

    /// Filters of a result list.
    public struct ResultFilter: Sendable {
        public var year: Int
        public var group: EnterpriseGroup?
        public var town: String?
        /// A class, or nil for all; `exempt` lists the enterprises not evaluated.
        public var cls: String?
        /// Part of a name or credit code.
        public var search: String?
        /// Towns the reader may see (nil = all).
        public var towns: [String]?
        public init(year: Int, group: EnterpriseGroup? = nil, town: String? = nil, cls: String? = nil,
                    search: String? = nil, towns: [String]? = nil) {
            self.year = year; self.group = group; self.town = town; self.cls = cls; self.search = search; self.towns = towns
        }
    }

    public enum ResultSort: String, Sendable, CaseIterable {
        case rank, total, name, town, land, taxPerMu = "tax_per_mu", cls = "class"
    }

    /// One row of a ranking.
    public struct ResultRow: Codable, Sendable {
        public var creditCode: String
        public var name: String
        public var town: String
        public var group: String
        public var evaluated: Bool
        public var exemptReason: String?
        public var landMu: Double?
        public var taxPerMu: Double?
        public var totalScore: Double?
        public var rank: Int?
        public var classBefore: String?
        public var finalClass: String?
        public var veto: String?
        enum CodingKeys: String, CodingKey {
            case creditCode = "credit_code", name, town, group = "grp", evaluated, exemptReason = "exempt_reason"
            case landMu = "land_mu", taxPerMu = "tax_per_mu", totalScore = "total_score", rank
            case classBefore = "class_before", finalClass = "final_class", veto
        }
    }

    public struct Page<T: Sendable & Codable>: Sendable, Codable {
        public var items: [T]
        public var total: Int
        public var page: Int
        public var per: Int
    }


    private func applyFilter<B: SQLPredicateBuilder>(_ b: B, runID: Int64, _ f: ResultFilter) -> B {
        var b = b.where("run_id", .equal, runID)
        if let towns = scope.towns { b = b.where("town", .in, towns) }
        if let codes = scope.creditCodes { b = b.where("credit_code", .in, codes) }
        if let g = f.group { b = b.where("grp", .equal, g.rawValue) }
        if let t = f.town, !t.isEmpty { b = b.where("town", .equal, t) }
        if let towns = f.towns { b = b.where("town", .in, towns) }
        if let c = f.cls, !c.isEmpty {
            if c == "exempt" { b = b.where("evaluated", .equal, false) } else { b = b.where("final_class", .equal, c) }
        }
        if let s = f.search?.trimmingCharacters(in: .whitespaces), !s.isEmpty {
            let pattern = "%" + s.replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "_", with: "") + "%"
            b = b.where(SQLGroupExpression(SQLBinaryExpression(
                SQLBinaryExpression(SQLColumn("name"), .like, SQLBind(pattern)), .or,
                SQLBinaryExpression(SQLColumn("credit_code"), .like, SQLBind(pattern.uppercased())))))
        }
        return b
    }

    static let rowColumns = ["credit_code", "name", "town", "grp", "evaluated", "exempt_reason", "land_mu", "tax_per_mu",
                             "total_score", "rank", "class_before", "final_class", "veto"]

    /// A page of the ranking of the year's current run. Evaluated enterprises come first,
    /// in the chosen order; those not evaluated follow.
    func results(_ f: ResultFilter, sort: ResultSort = .rank, descending: Bool = false,
                        page: Int = 1, per: Int = 50) async throws -> Page<ResultRow> {
        guard let run = try await currentRun(year: f.year) else { return Page(items: [], total: 0, page: page, per: per) }
        let count = try await applyFilter(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from("evaluation_results"), runID: run.id, f)
            .first(decodingColumn: "n", as: Int.self) ?? 0
        var q = applyFilter(sql.select().columns(Self.rowColumns.map { SQLColumn($0) }).from("evaluation_results"), runID: run.id, f)
        q = q.orderBy("evaluated", .descending)
        let dir: SQLDirection = descending ? .descending : .ascending
        switch sort {
        case .rank: q = q.orderBy("grp").orderBy("rank", dir)
        case .total: q = q.orderBy("total_score", dir)
        case .name: q = q.orderBy("name", dir)
        case .town: q = q.orderBy("town", dir).orderBy("rank")
        case .land: q = q.orderBy("land_mu", dir)
        case .taxPerMu: q = q.orderBy("tax_per_mu", dir)
        case .cls: q = q.orderBy("final_class", dir).orderBy("rank")
        }
        q = q.orderBy("credit_code")
        let per = min(max(per, 1), 10_000), page = max(page, 1)
        let items = try await q.limit(per).offset((page - 1) * per).all(decoding: ResultRow.self)
        return Page(items: items, total: count, page: page, per: per)
    }

    /// Every matching result with its explanation, ranking order (for exports).
    func fullResults(_ f: ResultFilter) async throws -> [EnterpriseResult] {
        guard let run = try await currentRun(year: f.year) else { return [] }
        let json = try await applyFilter(sql.select().column("explanation").from("evaluation_results"), runID: run.id, f)
            .orderBy("evaluated", .descending).orderBy("grp").orderBy("rank")
            .orderBy("credit_code")
            .all(decodingColumn: "explanation", as: String.self)
        return try json.map { try Self.jsonDecoder.decode(EnterpriseResult.self, from: Data($0.utf8)) }
    }

    /// Class counts per town (final classes) of a year's current run.
    func classCountsByTown(_ f: ResultFilter) async throws -> [String: [String: Int]] {
        guard let run = try await currentRun(year: f.year) else { return [:] }
        struct Row: Decodable { var town: String; var final_class: String?; var n: Int }
        var filter = f
        filter.cls = nil
        filter.town = nil
        let rows = try await applyFilter(sql.select().column("town").column("final_class")
            .column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("evaluation_results"), runID: run.id, filter)
            .groupBy("town").groupBy("final_class")
            .all(decoding: Row.self)
        var out: [String: [String: Int]] = [:]
        for r in rows { out[r.town, default: [:]][r.final_class ?? "exempt", default: 0] += r.n }
        return out
    }

    /// One enterprise's result in a year's current run.
    func result(creditCode: String, year: Int) async throws -> EnterpriseResult? {
        guard let run = try await currentRun(year: year) else { return nil }
        guard let json = try await sql.select().column("explanation").from("evaluation_results")
            .where("run_id", .equal, run.id).where("credit_code", .equal, creditCode)
            .first(decodingColumn: "explanation", as: String.self) else { return nil }
        let r = try Self.jsonDecoder.decode(EnterpriseResult.self, from: Data(json.utf8))
        return scope.contains(town: r.town, creditCode: r.creditCode) ? r : nil
    }

    /// One line of an enterprise's history.
    public struct HistoryEntry: Codable, Sendable {
        public var year: Int
        public var group: String
        public var totalScore: Double?
        public var rank: Int?
        public var groupSize: Int?
        public var finalClass: String?
        public var exemptReason: String?
        public var taxPerMu: Double?
    }

    /// An enterprise's results over the years (current runs), oldest first.
    func history(creditCode: String) async throws -> [HistoryEntry] {
        let rows = try await sql.select().column(SQLColumn("explanation", table: "r"))
            .from(SQLAlias(SQLIdentifier("evaluation_results"), as: SQLIdentifier("r")))
            .join(SQLAlias(SQLIdentifier("evaluation_runs"), as: SQLIdentifier("u")), method: SQLJoinMethod.inner,
                  on: SQLColumn("run_id", table: "r"), .equal, SQLColumn("id", table: "u"))
            .where(SQLColumn("is_current", table: "u"), .equal, SQLBind(true))
            .where(SQLColumn("credit_code", table: "r"), .equal, SQLBind(creditCode))
            .orderBy(SQLColumn("year", table: "r"))
            .all(decodingColumn: "explanation", as: String.self)
        let published = publishedOnly ? Set(try await publishedYears()) : nil
        return try rows.compactMap {
            let r = try Self.jsonDecoder.decode(EnterpriseResult.self, from: Data($0.utf8))
            guard scope.contains(town: r.town, creditCode: r.creditCode), published?.contains(r.year) ?? true else { return nil }
            return HistoryEntry(year: r.year, group: r.group.rawValue, totalScore: r.totalScore, rank: r.rank,
                                groupSize: r.evaluated ? r.groupSize : nil, finalClass: r.finalClass?.rawValue,
                                exemptReason: r.exemptReason, taxPerMu: r.items.first { $0.indicator == .taxPerMu }?.value)
        }
    }

    // MARK: - Audit

    /// Appends to the audit log. There is no method to change or remove an entry.
    func audit(actor: String, action: String, target: String? = nil, detail: String? = nil) async throws {
        try await sql.insert(into: "audit_log").columns("at", "actor", "action", "target", "detail")
            .values(SQLBind(Date()), SQLBind(actor), SQLBind(action), SQLBind(target), SQLBind(detail)).run()
    }

    public struct AuditEntry: Codable, Sendable {
        public var id: Int64; public var at: Date; public var actor: String; public var action: String
        public var target: String?; public var detail: String?
    }

    func auditLog(limit: Int = 100) async throws -> [AuditEntry] {
        try await sql.select().columns("id", "at", "actor", "action", "target", "detail").from("audit_log")
            .orderBy("id", .descending).limit(limit).all(decoding: AuditEntry.self)
    }

    /// Whether the database answers with the schema in place (one row of a table every
    /// migrated database has).
    func ping() async throws {
        _ = try await sql.select().column("revision").from("data_revisions").limit(1).all()
    }
}

public enum StoreError: Error, CustomStringConvertible {
    case noData(year: Int)
    public var description: String {
        switch self {
        case .noData(let y): "\(y) 年度没有企业数据，请先导入 / no enterprise data for \(y); import it first"
        }
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
