import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Reads of land data beside `Store.parcels`: blocks, assessments, one cluster, the OGC API's
/// rows and extents. Each is filtered by the store's scope with the same rules as
/// `whereParcels` and `clusters` (a town its own parcels and the clusters that touch them, an
/// enterprise the parcels it owns or occupies).
extension Store {
    /// Blocks (区块) of the scope with their towns.
    func blocks() async throws -> [(block: String, town: String)] {
        struct Row: Decodable { var block: String?; var town: String }
        var q = sql.select().distinct().column(SQLColumn("block", table: "p")).column(SQLColumn("town", table: "p"))
        q = parcelsJoined(q, year: nil)
        q = whereParcels(q, ParcelFilter()).where(SQLColumn("block", table: "p"), .isNot, SQLLiteral.null)
        return try await q.orderBy(SQLColumn("town", table: "p"), SQLDirection.ascending)
            .orderBy(SQLColumn("block", table: "p"), SQLDirection.ascending)
            .all(decoding: Row.self).compactMap { r in r.block.map { ($0, r.town) } }
    }

    /// Assessments of some parcels in a year (unfiltered: the caller passes ids within its scope).
    func assessments(year: Int, ids: [String]) async throws -> [String: ParcelAssessment] {
        guard !ids.isEmpty else { return [:] }
        struct Row: Decodable { var parcel_id: String; var detail: String }
        var out: [String: ParcelAssessment] = [:]
        for chunk in ids.chunked(500) {
            let rows = try await sql.select().columns("parcel_id", "detail").from("parcel_assessments")
                .where("year", .equal, year).where("parcel_id", .in, Array(chunk)).all(decoding: Row.self)
            for r in rows { out[r.parcel_id] = try? Self.jsonDecoder.decode(ParcelAssessment.self, from: Data(r.detail.utf8)) }
        }
        return out
    }

    /// One cluster of a year when it touches the scope.
    func cluster(year: Int, number: Int) async throws -> ClusterRow? {
        struct Row: Decodable { var minx: Double; var miny: Double; var maxx: Double; var maxy: Double }
        guard let box = try await sql.select().columns("minx", "miny", "maxx", "maxy").from("land_clusters")
            .where("year", .equal, year).where("number", .equal, number).first(decoding: Row.self) else { return nil }
        let bbox = BBox(minX: box.minx, minY: box.miny, maxX: box.maxx, maxY: box.maxy)
        return try await clusters(year: year, bbox: bbox).rows.first { $0.summary.number == number }
    }

    /// Credit codes that have enterprise data in some year.
    func enterpriseCodes() async throws -> Set<String> {
        Set(try await sql.select().distinct().column("credit_code").from("enterprise_years")
            .all(decodingColumn: "credit_code", as: String.self))
    }

    /// The EPSG:4549 box of the scope's parcels (or the year's clusters that touch the scope).
    func extent(clusters: Bool, year: Int?) async throws -> BBox? {
        struct Row: Decodable { var minx: Double?; var miny: Double?; var maxx: Double?; var maxy: Double? }
        var q = sql.select()
        let table = clusters ? "c" : "p"
        for (fn, col) in [("MIN", "minx"), ("MIN", "miny"), ("MAX", "maxx"), ("MAX", "maxy")] {
            q = q.column(SQLFunction(fn, args: SQLColumn(col, table: table)), as: col)
        }
        if clusters {
            guard let year else { return nil }
            q = q.from(SQLAlias(SQLIdentifier("land_clusters"), as: SQLIdentifier("c"))).where(SQLColumn("year", table: "c"), .equal, SQLBind(year))
            q = whereClusters(q, year: year, number: SQLColumn("number", table: "c"))
        } else {
            q = whereParcels(parcelsJoined(q, year: nil), ParcelFilter())
        }
        guard let r = try await q.first(decoding: Row.self), let a = r.minx, let b = r.miny, let x = r.maxx, let y = r.maxy else { return nil }
        return BBox(minX: a, minY: b, maxX: x, maxY: y)
    }

    /// Limits a query on clusters to those that touch the scope (`number` is the cluster column).
    func whereClusters<B: SQLPredicateBuilder>(_ b: B, year: Int, number: any SQLExpression) -> B {
        switch scope {
        case .all: return b
        case .none: return b.where(SQLLiteral.boolean(false))
        case .town(let t):
            return b.where(SQLBinaryExpression(number, .in, SQLQueryString("(SELECT cluster FROM parcel_assessments WHERE year = \(bind: year) AND town = \(bind: t))")))
        case .enterprise(let c):
            return b.where(SQLBinaryExpression(number, .in, SQLQueryString("""
                (SELECT a.cluster FROM parcel_assessments a JOIN parcels p ON p.parcel_id = a.parcel_id \
                WHERE a.year = \(bind: year) AND (p.owner_credit_code = \(bind: c) OR p.parcel_id IN (SELECT parcel_id FROM land_use WHERE credit_code = \(bind: c))))
                """)))
        }
    }

    /// The parcels of the scope matching `f` (its year, bbox, town, block and ids) as the OGC
    /// API writes them, in parcel-id order, and how many match in all: one statement with the
    /// low-efficiency reasons and the latest survey state.
    func ogcParcels(_ f: ParcelFilter, limit: Int, offset: Int) async throws -> (rows: [OGCParcelRow], total: Int) {
        let total = try await parcelCount(f)
        guard total > offset else { return ([], total) }
        var q = sql.select().columns(["parcel_id", "town", "block", "owner_credit_code", "registered_mu", "land_use", "far", "status",
                                      "area_mu", "area_mismatch", "geom", "minx", "miny", "maxx", "maxy"].map { SQLColumn($0, table: "p") })
            .columns(["low_efficiency", "tax_per_mu", "occupant_class", "cluster", "candidate"].map { SQLColumn($0, table: "a") })
            .column(SQLAlias(SQLQueryString("CASE WHEN a.low_efficiency = \(bind: true) THEN a.detail ELSE NULL END"), as: SQLIdentifier("detail")))
            .column(SQLAlias(SQLQueryString("(SELECT s.state FROM surveys s WHERE s.parcel_id = p.parcel_id ORDER BY s.id DESC LIMIT 1)"),
                             as: SQLIdentifier("survey_state")))
        q = parcelsJoined(q, year: f.year)
        q = whereParcels(q, f).orderBy(SQLColumn("parcel_id", table: "p"), SQLDirection.ascending).limit(limit).offset(offset)
        let raw = try await q.all()
        struct Detail: Decodable {
            struct Reason: Decodable { var zh: String }
            var reasons: [Reason]
        }
        let decoder = JSONDecoder()
        var rows: [OGCParcelRow] = []
        rows.reserveCapacity(raw.count)
        for r in raw {
            var p = OGCParcelRow(
                id: try r.decode(column: "parcel_id", as: String.self), town: try r.decode(column: "town", as: String.self),
                block: try r.decode(column: "block", as: String?.self), ownerCreditCode: try r.decode(column: "owner_credit_code", as: String?.self),
                registeredMu: try r.decode(column: "registered_mu", as: Double?.self), landUse: try r.decode(column: "land_use", as: String?.self),
                far: try r.decode(column: "far", as: Double?.self),
                status: try r.decode(column: "status", as: String?.self).flatMap(ParcelStatus.init(rawValue:)),
                areaMu: try r.decode(column: "area_mu", as: Double.self), areaMismatch: try r.decode(column: "area_mismatch", as: Bool.self),
                geometry: try r.decode(column: "geom", as: Data.self),
                lowEfficiency: try r.decode(column: "low_efficiency", as: Bool?.self), taxPerMu: try r.decode(column: "tax_per_mu", as: Double?.self),
                occupantClass: try r.decode(column: "occupant_class", as: String?.self), cluster: try r.decode(column: "cluster", as: Int?.self),
                candidate: try r.decode(column: "candidate", as: Bool?.self), reasons: nil,
                surveyState: try r.decode(column: "survey_state", as: String?.self),
                bbox: BBox(minX: try r.decode(column: "minx", as: Double.self), minY: try r.decode(column: "miny", as: Double.self),
                           maxX: try r.decode(column: "maxx", as: Double.self), maxY: try r.decode(column: "maxy", as: Double.self)))
            if let detail = try r.decode(column: "detail", as: String?.self),
               let d = try? decoder.decode(Detail.self, from: Data(detail.utf8)), !d.reasons.isEmpty {
                p.reasons = d.reasons.map(\.zh).joined(separator: "；")
            }
            rows.append(p)
        }
        return (rows, total)
    }
}

/// A parcel with the year's assessment, as the OGC API writes it.
public struct OGCParcelRow: Sendable {
    public var id: String
    public var town: String
    public var block: String?
    public var ownerCreditCode: String?
    public var registeredMu: Double?
    public var landUse: String?
    public var far: Double?
    public var status: ParcelStatus?
    public var areaMu: Double
    public var areaMismatch: Bool
    /// WKB, EPSG:4549
    public var geometry: Data
    /// nil: not assessed in the year
    public var lowEfficiency: Bool?
    public var taxPerMu: Double?
    public var occupantClass: String?
    public var cluster: Int?
    public var candidate: Bool?
    /// Chinese, joined by ；
    public var reasons: String?
    public var surveyState: String?
    /// EPSG:4549, as stored
    public var bbox: BBox
}

extension Store {
    /// How many land-use rows there are.
    func landUseCount() async throws -> Int {
        try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("land_use")
            .first(decodingColumn: "n", as: Int.self) ?? 0
    }
}
