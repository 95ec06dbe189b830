import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Land as users see it: parcels, their yearly low-efficiency assessment, contiguous clusters
/// (集中连片) and the battle map, within the caller's scope (a town its own parcels, an
/// enterprise those it owns or occupies); and the headquarters' land imports and assessments.
/// Whether the evaluation classes of a year may be shown (published, or the caller sees
/// drafts; an enterprise only its own) is decided here too.
public struct LandService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    // MARK: years and scope

    /// Years with a land assessment, newest first.
    public func years() async throws -> [Int] { try await unscoped.landYears() }

    /// The year asked for when it has an assessment, else the latest assessed year.
    public func year(_ asked: Int?) async throws -> (year: Int?, years: [Int]) {
        let years = try await years()
        if let asked, years.contains(asked) { return (asked, years) }
        return (years.first, years)
    }

    /// Towns the caller may filter by (a town user: its own).
    public var towns: [String] { caller.scope.towns ?? context.rules.towns }

    /// The town a town user is locked to.
    public var lockedTown: String? { caller.scope.towns?.first }

    /// Blocks (区块) of the caller's parcels with their towns.
    public func blocks() async throws -> [(block: String, town: String)] {
        try caller.require(.viewLand)
        return try await scoped.blocks()
    }

    // MARK: what a year's classes may show

    /// Whether the classes of `year` may be shown and, for an enterprise, its own class
    /// (its parcels are coloured by it).
    public struct Visibility: Sendable {
        public var year: Int
        public var classes: Bool
        public var ownClass: String?
        public var isEnterprise: Bool

        /// The class a parcel is coloured by on the map.
        public func mapClass(_ r: Store.ParcelRow) -> String? {
            guard classes else { return nil }
            return isEnterprise ? ownClass : r.occupantClass
        }
    }

    public func visibility(year: Int) async throws -> Visibility {
        let classes = caller.seesDrafts ? true : try await scoped.currentRun(year: year) != nil
        var own: String?
        var isEnterprise = false
        if case .enterprise(let code) = caller.scope {
            isEnterprise = true
            if classes { own = try await scoped.result(creditCode: code, year: year)?.finalClass?.rawValue }
        }
        return Visibility(year: year, classes: classes, ownClass: own, isEnterprise: isEnterprise)
    }

    // MARK: parcels

    /// The caller's parcels matching `f`, with the year's assessment, in parcel-id order.
    public func parcels(_ f: Store.ParcelFilter, limit: Int, offset: Int = 0) async throws -> (rows: [Store.ParcelRow], total: Int) {
        try caller.require(.viewLand)
        return try await scoped.parcels(f, limit: max(0, limit), offset: max(0, offset))
    }

    /// How many of the caller's parcels match `f`.
    public func parcelCount(_ f: Store.ParcelFilter) async throws -> Int {
        try caller.require(.viewLand)
        return try await scoped.parcelCount(f)
    }

    /// One of the caller's parcels (nil outside the scope).
    public func parcel(id: String, year: Int?) async throws -> Store.ParcelRow? {
        try caller.require(.viewLand)
        return try await scoped.parcel(id: id, year: year)
    }

    /// The assessments (reasons, occupants, attributed tax) of some of the caller's parcels.
    public func assessments(year: Int, ids: [String]) async throws -> [String: ParcelAssessment] {
        try caller.require(.viewLand)
        let visible = Set(try await scoped.parcels(Store.ParcelFilter(year: year, ids: ids), limit: ids.count).rows.map(\.parcel.parcelID))
        return try await unscoped.assessments(year: year, ids: ids.filter(visible.contains))
    }

    /// A parcel of the caller with all the card shows: its assessment, its occupants (with the
    /// classes and figures the caller may see), its cluster, its latest survey.
    public struct Detail: Sendable {
        public var row: Store.ParcelRow
        public var year: Int?
        public var years: [Int]
        public var assessment: ParcelAssessment?
        public var visibility: Visibility?
        public var occupants: [Occupant]
        public var reasons: [(kind: String, text: String)]
        public var cluster: ClusterSummary?
        public var latestSurvey: Store.Survey?
        public var surveyCount: Int
        public var canSurvey: Bool

        public struct Occupant: Sendable {
            public var occupant: OccupantShare
            public var name: String?
            /// the figures of the enterprise may be shown (all-seeing caller, or its result is visible)
            public var figuresVisible: Bool
            public var cls: String?
            public var result: EnterpriseResult?
        }
    }

    /// The detail of one of the caller's parcels in `year` (the latest assessed when nil), nil outside the scope.
    public func detail(id: String, year asked: Int?) async throws -> Detail? {
        try caller.require(.viewLand)
        let (year, years) = try await year(asked)
        guard let row = try await scoped.parcel(id: id, year: year) else { return nil }
        var vis: Visibility?
        var assessment: ParcelAssessment?
        if let year {
            vis = try await visibility(year: year)
            assessment = try await unscoped.assessment(parcelID: row.parcel.parcelID, year: year)
        }
        let seesAll = caller.scope == .all
        var occupants: [Detail.Occupant] = []
        for o in assessment?.occupants ?? [] {
            var result: EnterpriseResult?
            if let y = year, vis?.classes == true { result = try await scoped.result(creditCode: o.creditCode, year: y) }
            let visible = seesAll || result != nil
            occupants.append(.init(occupant: o, name: o.name ?? result?.name, figuresVisible: visible,
                                   cls: vis?.classes == true && visible ? (result?.finalClass?.rawValue ?? o.finalClass?.rawValue) : nil,
                                   result: result))
        }
        let reasons = Self.shownReasons(assessment, vis)
        var cluster: ClusterSummary?
        if let y = year, let n = row.cluster { cluster = try await self.cluster(year: y, number: n)?.summary }
        var latest: Store.Survey?
        var count = 0
        if caller.role != .enterprise {
            let surveys = try await scoped.surveys(parcelID: row.parcel.parcelID)
            count = surveys.count
            latest = surveys.first
        }
        let p = caller.principal
        return Detail(row: row, year: year, years: years, assessment: assessment, visibility: vis, occupants: occupants,
                      reasons: reasons, cluster: cluster, latestSurvey: latest, surveyCount: count,
                      canSurvey: p?.role == .town && p?.town == row.parcel.town)
    }

    /// A parcel's reasons as the caller may read them: (kind, text); the occupants' classes only
    /// when published and not to an enterprise.
    static func shownReasons(_ a: ParcelAssessment?, _ vis: Visibility?) -> [(kind: String, text: String)] {
        (a?.reasons ?? []).map { r in
            if r.kind == .occupantClass && (vis?.classes != true || vis?.isEnterprise == true) {
                return (r.kind.rawValue, vis?.classes == true ? r.kind.chinese : "用地企业评价分类（结果尚未公示）")
            }
            return (r.kind.rawValue, r.zh)
        }
    }

    /// One cluster of low-efficiency parcels as its page shows it: the summary, and each of its
    /// parcels within the caller's scope with its assessment, reasons and occupants (with the
    /// class the caller may see).
    public struct ClusterDetail: Sendable {
        public var year: Int
        public var summary: ClusterSummary
        public var parcels: [ClusterParcel]

        public struct ClusterParcel: Sendable {
            public var row: Store.ParcelRow
            public var assessment: ParcelAssessment?
            public var reasons: [(kind: String, text: String)]
            public var occupants: [(creditCode: String, name: String, cls: String?)]
        }
    }

    /// The cluster `number` of `year` with its parcels, nil when the caller sees none of it.
    public func clusterDetail(year: Int, number: Int) async throws -> ClusterDetail? {
        guard let c = try await cluster(year: year, number: number) else { return nil }
        let rows = try await scoped.parcels(Store.ParcelFilter(year: year, cluster: number), limit: 100_000).rows
        let assessed = try await unscoped.assessments(year: year, ids: rows.map(\.parcel.parcelID))
        let vis = try await visibility(year: year)
        let seesAll = caller.scope == .all
        var results: [String: EnterpriseResult?] = [:]
        var parcels: [ClusterDetail.ClusterParcel] = []
        for r in rows {
            let a = assessed[r.parcel.parcelID]
            var occupants: [(creditCode: String, name: String, cls: String?)] = []
            for o in a?.occupants ?? [] {
                var result: EnterpriseResult?
                if vis.classes {
                    if let known = results[o.creditCode] { result = known } else {
                        result = try await scoped.result(creditCode: o.creditCode, year: year)
                        results[o.creditCode] = .some(result)
                    }
                }
                let visible = vis.classes && (seesAll || result != nil)
                occupants.append((o.creditCode, o.name ?? result?.name ?? o.creditCode,
                                  visible ? (result?.finalClass?.rawValue ?? o.finalClass?.rawValue) : nil))
            }
            parcels.append(.init(row: r, assessment: a, reasons: Self.shownReasons(a, vis), occupants: occupants))
        }
        return ClusterDetail(year: year, summary: c.summary, parcels: parcels)
    }

    // MARK: search

    /// The caller's parcels whose id, or an occupant's name or credit code, contains `q` (an
    /// exact parcel id first; at most 50), with the occupants' names.
    public func search(_ q: String, year: Int?) async throws -> (total: Int, matches: [(row: Store.ParcelRow, names: [String])]) {
        try caller.require(.viewLand)
        let q = q.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !q.isEmpty else { return (0, []) }
        var (rows, total) = try await scoped.parcels(Store.ParcelFilter(year: year ?? -1, ids: [q]), limit: 1)
        if rows.isEmpty { (rows, total) = try await scoped.parcels(Store.ParcelFilter(year: year ?? -1, search: q), limit: 50) }
        var details: [String: ParcelAssessment] = [:]
        if let year { details = try await unscoped.assessments(year: year, ids: rows.map(\.parcel.parcelID)) }
        return (total, rows.map { r in (r, (details[r.parcel.parcelID]?.occupants ?? []).compactMap(\.name)) })
    }

    // MARK: clusters

    /// The clusters of a year that touch the caller's parcels, optionally within a box
    /// (EPSG:4549) or only candidates.
    public func clusters(year: Int, bbox: BBox? = nil, candidatesOnly: Bool = false, limit: Int = 100_000,
                         offset: Int = 0) async throws -> (rows: [Store.ClusterRow], total: Int) {
        try caller.require(.viewLand)
        return try await scoped.clusters(year: year, bbox: bbox, candidatesOnly: candidatesOnly, limit: max(0, limit), offset: max(0, offset))
    }

    /// One cluster of a year, when the caller may see it.
    public func cluster(year: Int, number: Int) async throws -> Store.ClusterRow? {
        try caller.require(.viewLand)
        return try await scoped.cluster(year: year, number: number)
    }

    // MARK: the OGC API

    /// The caller's parcels as the OGC API writes them.
    public func ogcParcels(_ f: Store.ParcelFilter, limit: Int, offset: Int) async throws -> (rows: [OGCParcelRow], total: Int) {
        try caller.require(.viewLand)
        return try await scoped.ogcParcels(f, limit: limit, offset: offset)
    }

    /// Every parcel of a year as the OGC API writes them, for a cache that applies
    /// `snapshotScope` to each reader (system use: never shown without that filter).
    public func ogcSnapshotRows(year: Int?) async throws -> [OGCParcelRow] {
        try await unscoped.ogcParcels(Store.ParcelFilter(year: year), limit: Int(Int32.max), offset: 0).rows
    }

    /// How a reader's view of the serialized collection is limited: every parcel, one town's,
    /// none, or not from a shared cache at all (an enterprise's parcels depend on who occupies what).
    public enum SnapshotScope: Sendable, Equatable { case all, town(String), none, databaseOnly }

    /// The reader's limit on the serialized collection, given the `town` it asks for.
    public func snapshotScope(town asked: String?) -> SnapshotScope {
        let asked = asked.flatMap { $0.isEmpty ? nil : $0 }
        switch caller.scope {
        case .all: return asked.map { .town($0) } ?? .all
        case .town(let t): return asked == nil || asked == t ? .town(t) : .none
        case .none: return .none
        case .enterprise: return .databaseOnly
        }
    }

    /// The box (EPSG:4549) of what the caller may see of a collection, nil when nothing.
    public func extent(clusters: Bool, year: Int?) async throws -> BBox? {
        try caller.require(.viewLand)
        return try await scoped.extent(clusters: clusters, year: year)
    }

    /// The land revision, assessed years and number of parcels (all, unscoped: what the cache keys on).
    public func landInfo() async throws -> (revision: Int64, years: [Int], parcels: Int) {
        (try await unscoped.landRevision(), try await unscoped.landYears(), try await unscoped.parcelCount(Store.ParcelFilter()))
    }

    // MARK: imports and the assessment

    /// Reads a GeoJSON upload (off the request's thread) and imports it, all or nothing;
    /// an `ImportFailure` names every bad feature and nothing is written.
    public func importParcels(data: Data, fileName: String, crs: String?) async throws -> [Parcel] {
        try caller.require(.manageLand)
        guard !data.isEmpty else { throw ServiceError.invalid("请选择要上传的地块 GeoJSON 文件 / choose a GeoJSON file") }
        let towns = context.rules.towns, tolerance = context.landRules.areaTolerance
        let read = await Task.detached { () -> Result<[Parcel], ImportFailure> in
            do throws(ImportFailure) {
                return .success(try ParcelImport.read(geojson: data, crs: crs, towns: towns, tolerance: tolerance))
            } catch {
                return .failure(error)
            }
        }.value
        let parcels = try read.get()
        try await importParcels(parcels, fileName: fileName)
        return parcels
    }

    /// Imports checked parcels (a parcel with the same id is replaced).
    public func importParcels(_ parcels: [Parcel], fileName: String) async throws {
        try caller.require(.manageLand)
        try await unscoped.importParcels(parcels, fileName: fileName, actor: caller.actor, detail: caller.detail(nil))
    }

    /// Reads a land-use upload (CSV or XLSX) and imports it, all or nothing.
    public func importLandUse(data: Data, fileName: String, encoding: TextEncodingChoice?) async throws -> [LandUse] {
        try caller.require(.manageLand)
        guard !data.isEmpty else { throw ServiceError.invalid("请选择要上传的用地关系 CSV 或 XLSX 文件 / choose a CSV or XLSX file") }
        let known = try await unscoped.parcelIDs()
        let enterprises = try await unscoped.enterpriseCodes()
        let table: any TableSource = data.starts(with: [0x50, 0x4B, 0x03, 0x04])
            ? try XLSXTable(data: data) : try CSVTable(data: data, encoding: encoding)
        let rows = try LandUseImport.read(table: table, knownParcels: known, knownEnterprises: enterprises.isEmpty ? nil : enterprises)
        try await importLandUse(rows, fileName: fileName)
        return rows
    }

    /// Imports checked land-use rows (the relations of every parcel named are replaced).
    public func importLandUse(_ rows: [LandUse], fileName: String) async throws {
        try caller.require(.manageLand)
        try await unscoped.importLandUse(rows, fileName: fileName, actor: caller.actor, detail: caller.detail(nil))
    }

    /// Known parcel ids (for checking a land-use file before import).
    public func parcelIDs() async throws -> Set<String> {
        try caller.require(.manageLand)
        return try await unscoped.parcelIDs()
    }

    /// Assesses every parcel for `year` and clusters them (replacing the year's earlier assessment).
    public func assess(year: Int) async throws -> Store.LandRunSummary {
        try caller.require(.manageLand)
        guard try await unscoped.parcelCount(Store.ParcelFilter()) > 0 else {
            throw ServiceError(.unprocessable, "尚未导入地块，不能运行认定 / import parcels first")
        }
        return try await unscoped.assessLand(year: year, rules: context.landRules, actor: caller.actor, detail: caller.detail(nil))
    }

    /// Years with enterprise data (the years that can be assessed).
    public func dataYears() async throws -> [Int] {
        try caller.require(.manageLand)
        return try await unscoped.dataYears()
    }
}

extension LandService {
    /// What the land import page shows: how many parcels and land-use rows there are, and for
    /// each assessed year its parcels, low-efficiency parcels and candidate clusters.
    public struct Status: Sendable {
        public var parcels: Int
        public var landUseRows: Int
        public var dataYears: [Int]
        public var assessed: [(year: Int, parcels: Int, low: Int, candidates: Int)]
    }

    public func status() async throws -> Status {
        try caller.require(.manageLand)
        let store = unscoped
        var assessed: [(Int, Int, Int, Int)] = []
        for y in try await store.landYears() {
            assessed.append((y, try await store.parcelCount(Store.ParcelFilter(year: y)),
                             try await store.parcelCount(Store.ParcelFilter(year: y, lowEfficiencyOnly: true)),
                             try await store.clusters(year: y, candidatesOnly: true, limit: 0).total))
        }
        return Status(parcels: try await store.parcelCount(Store.ParcelFilter()), landUseRows: try await store.landUseCount(),
                      dataYears: try await store.dataYears(), assessed: assessed)
    }
}
