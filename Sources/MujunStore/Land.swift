import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Parcels, land use, the yearly low-efficiency assessment and clusters, and field surveys.
/// Reads are filtered by the store's scope: a town sees its own parcels, an enterprise the
/// parcels it owns or occupies.
extension Store {
    static let parcelColumns = ["parcel_id", "town", "block", "owner_credit_code", "registered_mu", "land_use", "far", "status",
                                "area_mu", "area_mismatch", "geom", "minx", "miny", "maxx", "maxy",
                                "approved_on", "supplied_on", "start_by", "finish_by", "operating_since"]

    /// Loads checked parcels in one transaction; a parcel with the same id is replaced.
    @discardableResult
    func importParcels(_ parcels: [Parcel], fileName: String, actor: String, detail: String? = nil) async throws -> Int {
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            let batch = try await sql.insert(into: "import_batches")
                .columns("kind", "file_name", "rows", "actor", "created_at")
                .values(SQLBind("parcels"), SQLBind(fileName), SQLBind(parcels.count), SQLBind(actor), SQLBind(Date()))
                .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
            let cols = Self.parcelColumns + ["import_id"]
            let updated = cols.filter { $0 != "parcel_id" }
            for chunk in parcels.chunked(Self.chunkSize(columns: cols.count)) {
                let rows: [[any SQLExpression]] = chunk.map { p in
                    [SQLBind(p.parcelID), SQLBind(p.town), SQLBind(p.block), SQLBind(p.ownerCreditCode), SQLBind(p.registeredMu),
                     SQLBind(p.landUse), SQLBind(p.far), SQLBind(p.status?.rawValue), SQLBind(p.areaMu), SQLBind(p.areaMismatch),
                     SQLBind(p.geometry), SQLBind(p.bbox.minX), SQLBind(p.bbox.minY), SQLBind(p.bbox.maxX), SQLBind(p.bbox.maxY),
                     SQLBind(p.approvedOn?.description), SQLBind(p.suppliedOn?.description), SQLBind(p.startBy?.description),
                     SQLBind(p.finishBy?.description), SQLBind(p.operatingSince?.description), SQLBind(batch)]
                }
                try await sql.insert(into: "parcels").columns(cols).rows(rows)
                    .onConflict(with: ["parcel_id"]) { u in
                        var u = u
                        for c in updated { u = u.set(excludedValueOf: c) }
                        return u
                    }.run()
            }
            try await Store(db).audit(actor: actor, action: "import.parcels", target: fileName, detail: ["\(parcels.count) 个地块", detail].compactMap { $0 }.joined(separator: " · "))
            return parcels.count
        }
    }

    /// Loads land-use rows in one transaction: the relations of every parcel named in the file
    /// are replaced by the file's.
    @discardableResult
    func importLandUse(_ rows: [LandUse], fileName: String, actor: String, detail: String? = nil) async throws -> Int {
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            let ids = Array(Set(rows.map(\.parcelID)))
            for chunk in ids.chunked(500) {
                try await sql.delete(from: "land_use").where("parcel_id", .in, Array(chunk)).run()
            }
            for chunk in rows.chunked(Self.chunkSize(columns: 4)) {
                let values: [[any SQLExpression]] = chunk.map {
                    [SQLBind($0.parcelID), SQLBind($0.creditCode), SQLBind($0.relation.rawValue), SQLBind($0.areaMu)]
                }
                try await sql.insert(into: "land_use").columns("parcel_id", "credit_code", "relation", "area_mu").rows(values)
                    .onConflict(with: ["parcel_id", "credit_code"]) { $0.set(excludedValueOf: "relation").set(excludedValueOf: "area_mu") }
                    .run()
            }
            try await Store(db).audit(actor: actor, action: "import.land_use", target: fileName, detail: ["\(rows.count) 条用地关系", detail].compactMap { $0 }.joined(separator: " · "))
            return rows.count
        }
    }

    struct ParcelDBRow: Decodable {
        var parcel_id: String; var town: String; var block: String?; var owner_credit_code: String?
        var registered_mu: Double?; var land_use: String?; var far: Double?; var status: String?
        var area_mu: Double; var area_mismatch: Bool; var geom: Data
        var minx: Double; var miny: Double; var maxx: Double; var maxy: Double
        var approved_on: String?; var supplied_on: String?; var start_by: String?; var finish_by: String?; var operating_since: String?

        var parcel: Parcel {
            var p = Parcel(parcelID: parcel_id, town: town, block: block, ownerCreditCode: owner_credit_code,
                           registeredMu: registered_mu, landUse: land_use, far: far,
                           status: status.flatMap(ParcelStatus.init(rawValue:)), geometry: geom,
                           bbox: BBox(minX: minx, minY: miny, maxX: maxx, maxY: maxy), areaMu: area_mu,
                           approvedOn: approved_on.flatMap(CalendarDate.init), suppliedOn: supplied_on.flatMap(CalendarDate.init),
                           startBy: start_by.flatMap(CalendarDate.init), finishBy: finish_by.flatMap(CalendarDate.init),
                           operatingSince: operating_since.flatMap(CalendarDate.init))
            p.areaMismatch = area_mismatch
            return p
        }
    }

    /// Every parcel, unfiltered (for the assessment).
    func allParcels() async throws -> [Parcel] {
        try await sql.select().columns(Self.parcelColumns.map { SQLColumn($0) }).from("parcels").orderBy("parcel_id")
            .all(decoding: ParcelDBRow.self).map(\.parcel)
    }

    func parcelIDs() async throws -> Set<String> {
        Set(try await sql.select().column("parcel_id").from("parcels").all(decodingColumn: "parcel_id", as: String.self))
    }

    func landUse() async throws -> [LandUse] {
        struct Row: Decodable { var parcel_id: String; var credit_code: String; var relation: String; var area_mu: Double? }
        return try await sql.select().columns("parcel_id", "credit_code", "relation", "area_mu").from("land_use")
            .orderBy("parcel_id").orderBy("credit_code").all(decoding: Row.self)
            .map { LandUse(parcelID: $0.parcel_id, creditCode: $0.credit_code, relation: LandRelation(rawValue: $0.relation) ?? .leased, areaMu: $0.area_mu) }
    }

    // MARK: - Reading parcels

    /// Filters of a parcel list or map layer. `bbox` is in EPSG:4549.
    public struct ParcelFilter: Sendable {
        public var year: Int?
        public var bbox: BBox?
        public var town: String?
        public var block: String?
        /// parcel id, or part of an occupant's name or credit code
        public var search: String?
        public var lowEfficiencyOnly: Bool
        public var cluster: Int?
        /// exact parcel ids
        public var ids: [String]?
        public init(year: Int? = nil, bbox: BBox? = nil, town: String? = nil, block: String? = nil, search: String? = nil,
                    lowEfficiencyOnly: Bool = false, cluster: Int? = nil, ids: [String]? = nil) {
            self.year = year; self.bbox = bbox; self.town = town; self.block = block; self.search = search
            self.lowEfficiencyOnly = lowEfficiencyOnly; self.cluster = cluster; self.ids = ids
        }
    }

    /// A parcel with its assessment of the year (when there is one) and its latest survey.
    public struct ParcelRow: Codable, Sendable {
        public var parcel: Parcel
        public var lowEfficiency: Bool?
        public var taxPerMu: Double?
        public var occupantClass: String?
        public var cluster: Int?
        public var candidate: Bool?
        public var surveyState: String?
        /// The state of the project covering it (the most urgent, 滞后 first, when several do).
        public var projectState: String? = nil
    }

    /// The parcels of the scope, with the year's assessment, in parcel-id order.
    /// Limits a query on `parcels p` (left-joined with the year's `parcel_assessments a`, see
    /// ``parcelsJoined(_:year:)``) to the store's scope and to the filter `f`. Shared by every
    /// reader of parcels (lists, map, OGC API) so that they select the same parcels.
    func whereParcels<B: SQLPredicateBuilder>(_ b: B, _ f: ParcelFilter) -> B {
        var b = b
        switch scope {
        case .all: break
        case .none: b = b.where(SQLLiteral.boolean(false))
        case .town(let t): b = b.where(SQLColumn("town", table: "p"), .equal, SQLBind(t))
        case .enterprise(let c):
            b = b.where(SQLQueryString("(p.owner_credit_code = \(bind: c) OR p.parcel_id IN (SELECT parcel_id FROM land_use WHERE credit_code = \(bind: c)))"))
        }
        if let box = f.bbox {
            b = b.where(SQLColumn("maxx", table: "p"), .greaterThanOrEqual, SQLBind(box.minX))
                .where(SQLColumn("minx", table: "p"), .lessThanOrEqual, SQLBind(box.maxX))
                .where(SQLColumn("maxy", table: "p"), .greaterThanOrEqual, SQLBind(box.minY))
                .where(SQLColumn("miny", table: "p"), .lessThanOrEqual, SQLBind(box.maxY))
        }
        if let t = f.town, !t.isEmpty { b = b.where(SQLColumn("town", table: "p"), .equal, SQLBind(t)) }
        if let k = f.block, !k.isEmpty { b = b.where(SQLColumn("block", table: "p"), .equal, SQLBind(k)) }
        if let s = f.search?.trimmingCharacters(in: .whitespaces), !s.isEmpty {
            let pattern = "%" + s.replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "_", with: "") + "%"
            b = b.where(SQLQueryString("""
                (p.parcel_id LIKE \(bind: pattern) OR p.parcel_id IN (SELECT lu.parcel_id FROM land_use lu \
                JOIN enterprise_years e ON e.credit_code = lu.credit_code WHERE e.name LIKE \(bind: pattern) OR e.credit_code LIKE \(bind: pattern.uppercased())))
                """))
        }
        if f.lowEfficiencyOnly { b = b.where(SQLColumn("low_efficiency", table: "a"), .equal, SQLBind(true)) }
        if let c = f.cluster { b = b.where(SQLColumn("cluster", table: "a"), .equal, SQLBind(c)) }
        if let ids = f.ids { b = b.where(SQLColumn("parcel_id", table: "p"), .in, SQLBind.group(ids)) }
        return b
    }

    /// `FROM parcels p LEFT JOIN parcel_assessments a` (the year's assessment; none for nil).
    func parcelsJoined(_ q: SQLSelectBuilder, year: Int?) -> SQLSelectBuilder {
        q.from(SQLAlias(SQLIdentifier("parcels"), as: SQLIdentifier("p")))
            .join(SQLAlias(SQLIdentifier("parcel_assessments"), as: SQLIdentifier("a")), method: SQLJoinMethod.left,
                  on: SQLQueryString("a.parcel_id = p.parcel_id AND a.year = \(bind: year ?? -1)"))
    }

    /// How many parcels of the scope match `f`.
    func parcelCount(_ f: ParcelFilter) async throws -> Int {
        try await whereParcels(parcelsJoined(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n"), year: f.year), f)
            .first(decodingColumn: "n", as: Int.self) ?? 0
    }

    /// The parcels of the scope, with the year's assessment, in parcel-id order.
    func parcels(_ f: ParcelFilter, limit: Int = 10_000, offset: Int = 0) async throws -> (rows: [ParcelRow], total: Int) {
        func where_<B: SQLPredicateBuilder>(_ b: B) -> B { whereParcels(b, f) }
        func joined(_ q: SQLSelectBuilder) -> SQLSelectBuilder { parcelsJoined(q, year: f.year) }
        let total = try await parcelCount(f)
        struct Row: Decodable {
            var parcel_id: String; var town: String; var block: String?; var owner_credit_code: String?
            var registered_mu: Double?; var land_use: String?; var far: Double?; var status: String?
            var area_mu: Double; var area_mismatch: Bool; var geom: Data
            var minx: Double; var miny: Double; var maxx: Double; var maxy: Double
            var approved_on: String?; var supplied_on: String?; var start_by: String?; var finish_by: String?; var operating_since: String?
            var low_efficiency: Bool?; var tax_per_mu: Double?; var occupant_class: String?; var cluster: Int?; var candidate: Bool?
        }
        var q = joined(sql.select().columns(Self.parcelColumns.map { SQLColumn($0, table: "p") }))
        q = q.columns(["low_efficiency", "tax_per_mu", "occupant_class", "cluster", "candidate"].map { SQLColumn($0, table: "a") })
        let rows = try await where_(q).orderBy(SQLColumn("parcel_id", table: "p"), SQLDirection.ascending)
            .limit(limit).offset(offset).all(decoding: Row.self)
        let states = try await latestSurveyStates(rows.map(\.parcel_id))
        let projectStates = try await parcelProjectStates(rows.map(\.parcel_id))
        return (rows.map { r in
            let base = ParcelDBRow(parcel_id: r.parcel_id, town: r.town, block: r.block, owner_credit_code: r.owner_credit_code,
                                   registered_mu: r.registered_mu, land_use: r.land_use, far: r.far, status: r.status,
                                   area_mu: r.area_mu, area_mismatch: r.area_mismatch, geom: r.geom,
                                   minx: r.minx, miny: r.miny, maxx: r.maxx, maxy: r.maxy, approved_on: r.approved_on,
                                   supplied_on: r.supplied_on, start_by: r.start_by, finish_by: r.finish_by, operating_since: r.operating_since)
            return ParcelRow(parcel: base.parcel, lowEfficiency: r.low_efficiency, taxPerMu: r.tax_per_mu,
                             occupantClass: r.occupant_class, cluster: r.cluster, candidate: r.candidate,
                             surveyState: states[r.parcel_id], projectState: projectStates[r.parcel_id])
        }, total)
    }

    /// One parcel of the scope with the year's assessment (nil outside the scope).
    func parcel(id: String, year: Int?) async throws -> ParcelRow? {
        try await parcels(ParcelFilter(year: year, ids: [id]), limit: 1).rows.first
    }

    /// The assessment of a parcel in a year (reasons, occupants, attributed tax).
    func assessment(parcelID: String, year: Int) async throws -> ParcelAssessment? {
        guard let json = try await sql.select().column("detail").from("parcel_assessments")
            .where("year", .equal, year).where("parcel_id", .equal, parcelID)
            .first(decodingColumn: "detail", as: String.self) else { return nil }
        return try Self.jsonDecoder.decode(ParcelAssessment.self, from: Data(json.utf8))
    }

    /// Years with a land assessment, newest first.
    /// The revision of the land tables (parcels, land use, assessments, clusters, surveys),
    /// raised by database triggers on every change (migration CreateDataRevisions).
    func landRevision() async throws -> Int64 { try await revision("land") }

    /// A revision of `data_revisions` (`land`, `calendar`), 0 when the row is missing.
    func revision(_ name: String) async throws -> Int64 {
        try await sql.select().column("revision").from("data_revisions").where("name", .equal, name)
            .first(decodingColumn: "revision", as: Int64.self) ?? 0
    }

    func landYears() async throws -> [Int] {
        try await sql.select().distinct().column("year").from("parcel_assessments").orderBy("year", .descending)
            .all(decodingColumn: "year", as: Int.self)
    }

    // MARK: - Assessment and clusters

    public struct LandRunSummary: Codable, Sendable {
        public var year: Int
        public var parcels: Int
        public var lowEfficiency: Int
        public var clusters: Int
        public var candidates: Int
    }

    /// Assesses every parcel for `year` (EVALUATION.md §8) from the stored figures and the
    /// year's current evaluation, clusters the low-efficiency ones (``RenewalCandidates``), and
    /// stores both (replacing the year's earlier assessment). `land_clusters.low_share` is the
    /// share of the block each cluster lies in.
    @discardableResult
    func assessLand(year: Int, rules: LandRules, actor: String, detail: String? = nil) async throws -> LandRunSummary {
        let full = Store(db)
        let parcels = try await full.allParcels()
        let landUse = try await full.landUse()
        let records = try await full.records(year: year)
        let results = try await full.fullResults(ResultFilter(year: year))
        let assessment = LowEfficiencyAssessor(rules: rules).assess(year: year, parcels: parcels, landUse: landUse,
                                                                   records: records, results: results)
        let low = assessment.lowEfficiencyIDs
        // the clusters of the low-efficiency parcels: the renewal candidates (and the smaller ones)
        let clusters = try RenewalCandidates.find(parcels: parcels, assessment: assessment, landUse: landUse, rules: rules)
        let byID = Dictionary(uniqueKeysWithValues: parcels.map { ($0.parcelID, $0) })
        var outlines: [Int: Data] = [:]
        for c in clusters.clusters {
            if c.count == 1, let p = byID[c.parcelIDs[0]] { outlines[c.number] = p.geometry; continue }
            outlines[c.number] = try Clustering.outline(of: c.parcelIDs.compactMap { byID[$0] }, gap: rules.clusterGap)
        }
        let outlineOf = outlines
        let assessJSON = try assessment.parcels.map { String(decoding: try Self.jsonEncoder.encode($0), as: UTF8.self) }
        let clusterJSON = try clusters.clusters.map { String(decoding: try Self.jsonEncoder.encode($0), as: UTF8.self) }
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            try await sql.delete(from: "parcel_assessments").where("year", .equal, year).run()
            try await sql.delete(from: "land_clusters").where("year", .equal, year).run()
            // clusters before the assessments that name them (parcel_assessments (year, cluster) → land_clusters)
            let ccols = ["year", "number", "area_mu", "parcels", "towns", "blocks", "low_share", "candidate", "geom",
                         "minx", "miny", "maxx", "maxy", "detail"]
            for chunk in Array(zip(clusters.clusters, clusterJSON)).chunked(Self.chunkSize(columns: ccols.count)) {
                let rows: [[any SQLExpression]] = chunk.map { pair in
                    let (c, json) = pair
                    return [SQLBind(year), SQLBind(c.number), SQLBind(c.areaMu), SQLBind(c.count), SQLBind(c.towns.joined(separator: ";")),
                     SQLBind(c.blocks.joined(separator: ";")), SQLBind(c.blockLowEfficiencyShare), SQLBind(c.candidate),
                     SQLBind(outlineOf[c.number] ?? Data()), SQLBind(c.bbox.minX), SQLBind(c.bbox.minY), SQLBind(c.bbox.maxX),
                     SQLBind(c.bbox.maxY), SQLBind(json)]
                }
                try await sql.insert(into: "land_clusters").columns(ccols).rows(rows).run()
            }
            let cols = ["year", "parcel_id", "town", "low_efficiency", "tax_per_mu", "occupant_class", "cluster", "candidate", "detail"]
            for chunk in Array(zip(assessment.parcels, assessJSON)).chunked(Self.chunkSize(columns: cols.count)) {
                let rows: [[any SQLExpression]] = chunk.map { pair in
                    let (a, json) = pair
                    let main = a.occupants.max { x, y in
                        x.areaMu != y.areaMu ? x.areaMu < y.areaMu : (x.finalClass?.order ?? -1) < (y.finalClass?.order ?? -1)
                    }
                    let cluster = clusters.clusterOf[a.parcelID]
                    return [SQLBind(year), SQLBind(a.parcelID), SQLBind(a.town), SQLBind(a.isLowEfficiency), SQLBind(a.taxPerMu),
                            SQLBind(main?.finalClass?.rawValue), SQLBind(cluster),
                            SQLBind(clusters.cluster(of: a.parcelID)?.candidate ?? false), SQLBind(json)]
                }
                try await sql.insert(into: "parcel_assessments").columns(cols).rows(rows).run()
            }
            try await Store(db).audit(actor: actor, action: "land.assess", target: "\(year)",
                                      detail: ["\(parcels.count) 个地块，低效 \(low.count) 个，低效地块连片 \(clusters.clusters.count) 片（整治候选 \(clusters.candidates.count) 片）", detail].compactMap { $0 }.joined(separator: " · "))
        }
        return LandRunSummary(year: year, parcels: parcels.count, lowEfficiency: low.count, clusters: clusters.clusters.count,
                              candidates: clusters.candidates.count)
    }

    /// A stored cluster: its summary and outline (WKB, EPSG:4549).
    public struct ClusterRow: Codable, Sendable {
        public var year: Int
        public var summary: ClusterSummary
        public var outline: Data
    }

    /// The clusters of a year that touch the scope (a town sees clusters with a parcel of its
    /// own), optionally within a bbox (EPSG:4549) or only candidates.
    func clusters(year: Int, bbox: BBox? = nil, candidatesOnly: Bool = false, limit: Int = 100_000,
                         offset: Int = 0) async throws -> (rows: [ClusterRow], total: Int) {
        func where_<B: SQLPredicateBuilder>(_ b: B) -> B {
            var b = b.where("year", .equal, year)
            if candidatesOnly { b = b.where("candidate", .equal, true) }
            if let box = bbox {
                b = b.where("maxx", .greaterThanOrEqual, box.minX).where("minx", .lessThanOrEqual, box.maxX)
                    .where("maxy", .greaterThanOrEqual, box.minY).where("miny", .lessThanOrEqual, box.maxY)
            }
            b = whereClusters(b, year: year, number: SQLColumn("number"))
            return b
        }
        let total = try await where_(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("land_clusters"))
            .first(decodingColumn: "n", as: Int.self) ?? 0
        struct Row: Decodable { var detail: String; var geom: Data }
        let rows = try await where_(sql.select().columns("detail", "geom").from("land_clusters"))
            .orderBy("number").limit(limit).offset(offset).all(decoding: Row.self)
        return (try rows.map { ClusterRow(year: year, summary: try Self.jsonDecoder.decode(ClusterSummary.self, from: Data($0.detail.utf8)), outline: $0.geom) }, total)
    }

    // MARK: - Surveys (地毯式排查 / 点对点复核)

    public struct Survey: Codable, Sendable, Hashable {
        public var id: Int64
        public var parcelID: String
        public var town: String
        public var actualUse: String
        public var occupantsSeen: String?
        public var idle: Bool
        public var remarks: String?
        public var photoName: String?
        /// submitted / confirmed / returned
        public var state: String
        public var surveyedBy: String
        public var surveyedAt: Date
        public var reviewedBy: String?
        public var reviewedAt: Date?
        public var reviewNote: String?
        enum CodingKeys: String, CodingKey {
            case id, parcelID = "parcel_id", town, actualUse = "actual_use", occupantsSeen = "occupants_seen", idle, remarks
            case photoName = "photo_name", state, surveyedBy = "surveyed_by", surveyedAt = "surveyed_at"
            case reviewedBy = "reviewed_by", reviewedAt = "reviewed_at", reviewNote = "review_note"
        }
    }

    static let surveyColumns = ["id", "parcel_id", "town", "actual_use", "occupants_seen", "idle", "remarks", "photo_name", "state",
                                "surveyed_by", "surveyed_at", "reviewed_by", "reviewed_at", "review_note"]

    /// Inserts a survey (the service checks it and writes the audit entry).
    func insertSurvey(parcelID: String, town: String, actualUse: String, occupantsSeen: String?, idle: Bool, remarks: String?,
                      photo: UploadedFile?, actor: String) async throws -> Int64 {
        try await sql.insert(into: "surveys")
            .columns("parcel_id", "town", "actual_use", "occupants_seen", "idle", "remarks", "photo_name", "photo", "state",
                     "surveyed_by", "surveyed_at")
            .values(SQLBind(parcelID), SQLBind(town), SQLBind(actualUse), SQLBind(occupantsSeen), SQLBind(idle), SQLBind(remarks),
                    SQLBind(photo?.filename), SQLBind(photo?.data), SQLBind("submitted"), SQLBind(actor), SQLBind(Date()))
            .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
    }

    func surveys(parcelID: String) async throws -> [Survey] {
        try await sql.select().columns(Self.surveyColumns.map { SQLColumn($0) }).from("surveys").where("parcel_id", .equal, parcelID)
            .orderBy("id", .descending).all(decoding: Survey.self)
    }

    func survey(id: Int64) async throws -> Survey? {
        try await sql.select().columns(Self.surveyColumns.map { SQLColumn($0) }).from("surveys").where("id", .equal, id)
            .first(decoding: Survey.self)
    }

    func surveyPhoto(id: Int64) async throws -> (String, Data)? {
        struct Row: Decodable { var photo_name: String?; var photo: Data? }
        guard let r = try await sql.select().columns("photo_name", "photo").from("surveys").where("id", .equal, id)
            .first(decoding: Row.self), let n = r.photo_name, let d = r.photo else { return nil }
        return (n, d)
    }

    /// Surveys waiting for review, within the scope's towns.
    func pendingSurveys() async throws -> [Survey] {
        var q = sql.select().columns(Self.surveyColumns.map { SQLColumn($0) }).from("surveys").where("state", .equal, "submitted")
        if let towns = scope.towns { q = q.where("town", .in, towns) }
        return try await q.orderBy("id").all(decoding: Survey.self)
    }

    /// The latest survey state of each parcel.
    func latestSurveyStates(_ ids: [String]) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        struct Row: Decodable { var parcel_id: String; var state: String; var id: Int64 }
        var out: [String: (Int64, String)] = [:]
        for chunk in ids.chunked(1000) {
            let rows = try await sql.select().columns("parcel_id", "state", "id").from("surveys")
                .where("parcel_id", .in, Array(chunk)).all(decoding: Row.self)
            for r in rows where (out[r.parcel_id]?.0 ?? -1) < r.id { out[r.parcel_id] = (r.id, r.state) }
        }
        return out.mapValues(\.1)
    }
}
