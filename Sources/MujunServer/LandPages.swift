import Foundation
import Vapor
import SQLKit
import MujunCore
import MujunStore

// The land pages (UI text in Simplified Chinese): the battle map (挂图作战), parcels, contiguous
// clusters (集中连片), field surveys (地毯式排查 / 点对点复核), the land import page, and their JSON
// API. Reads go through `req.store`, which is filtered to the reader's jurisdiction (a town
// sees its own parcels, an enterprise the parcels it owns or occupies); a parcel outside the
// scope answers 404, as if it did not exist. Geometries are stored in EPSG:4549 and sent to
// the browser in CRS84 (longitude, latitude). Every value that comes from data goes through
// `HTML.escape`; map data is fetched by Public/map.js or embedded as JSON, because the
// Content-Security-Policy forbids inline scripts.

extension RouteAccess {
    /// The battle map, parcels, clusters and surveys.
    static let landRoutes: [(HTTPMethod, String, Requirement)] = [
        (.GET, "/map", .permission(.viewLand)),
        (.GET, "/parcels/:id", .permission(.viewLand)),
        (.POST, "/parcels/:id/surveys", .permission(.surveyParcel)),
        (.GET, "/surveys", .permission(.viewLand)),
        (.POST, "/surveys/:id/review", .permission(.reviewSurvey)),
        (.GET, "/surveys/:id/photo", .permission(.viewLand)),
        (.GET, "/clusters", .permission(.viewLand)),
        (.GET, "/clusters.xlsx", .permission(.viewLand)),
        (.GET, "/land", .permission(.manageLand)),
        (.POST, "/land/parcels", .permission(.manageLand)),
        (.POST, "/land/land-use", .permission(.manageLand)),
        (.POST, "/land/assess", .permission(.manageLand)),
        (.GET, "/api/v1/map/parcels", .permission(.viewLand)),
        (.GET, "/api/v1/map/clusters", .permission(.viewLand)),
        (.GET, "/api/v1/map/search", .permission(.viewLand)),
        (.GET, "/api/v1/parcels/:id", .permission(.viewLand)),
        (.POST, "/api/v1/parcels/:id/surveys", .permission(.surveyParcel)),
        (.POST, "/api/v1/surveys/:id/review", .permission(.reviewSurvey)),
    ]
}

// MARK: - Small helpers

/// A refused land form or API input: the status and the Chinese message.
struct LandProblem: Error {
    var status: HTTPResponseStatus
    var message: String
    var abort: Abort { Abort(status, reason: message) }
}

/// Survey states as stored, and their names.
enum SurveyState {
    static let none = "none"
    static let submitted = "submitted"
    static let confirmed = "confirmed"
    static let returned = "returned"

    static func chinese(_ s: String?) -> String {
        switch s {
        case submitted: "已提交（待复核）"
        case confirmed: "已确认"
        case returned: "已退回"
        default: "未调查"
        }
    }

    /// The short name of the map legend.
    static func short(_ s: String?) -> String {
        switch s {
        case submitted: "已提交"
        case confirmed: "已确认"
        case returned: "已退回"
        default: "未调查"
        }
    }
}

/// Coordinates between the store (EPSG:4549) and the browser (CRS84).
enum LandGeo {
    /// The map loads every parcel of the filter when there are at most this many; beyond, it
    /// loads by the bounding box of the view.
    static let mapLimit = 20_000

    /// Longitudes and latitudes where EPSG:4549 (3-degree zone, CM 120°E) gives believable
    /// coordinates; a browser box is clipped to it before it is projected.
    static let lonLatArea = BBox(minX: 115, minY: 14, maxX: 125, maxY: 54)

    /// Parses `minLon,minLat,maxLon,maxLat` (CRS84). nil when absent; `.empty` when the box
    /// lies outside the area the working CRS covers; 400 when malformed.
    enum BoxQuery { case none, empty, box(BBox) }

    static func parseBBox(_ text: String?) throws -> BoxQuery {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return .none }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4, parts.allSatisfy({ $0?.isFinite == true }) else {
            throw Abort(.badRequest, reason: "bbox 应为 最小经度,最小纬度,最大经度,最大纬度（CRS84）/ bbox must be minLon,minLat,maxLon,maxLat")
        }
        let v = parts.map { $0! }
        guard v[0] <= v[2], v[1] <= v[3], v[0] >= -180, v[2] <= 180, v[1] >= -90, v[3] <= 90 else {
            throw Abort(.badRequest, reason: "bbox 的范围无效 / the bbox is not a valid CRS84 box")
        }
        let a = lonLatArea
        let clipped = BBox(minX: max(v[0], a.minX), minY: max(v[1], a.minY), maxX: min(v[2], a.maxX), maxY: min(v[3], a.maxY))
        guard clipped.minX <= clipped.maxX, clipped.minY <= clipped.maxY else { return .empty }
        do {
            let box = try Reprojector.withPooled(from: .crs84, to: .working) { try $0.transform(clipped) }
            return .box(box)
        } catch {
            throw Abort(.badRequest, reason: "bbox 无法转换到 EPSG:4549 / the bbox cannot be transformed")
        }
    }

    /// A box of the store as `[minLon, minLat, maxLon, maxLat]`, nil when it cannot be projected.
    static func crs84(_ box: BBox) -> [Double]? {
        guard let b = try? Reprojector.withPooled(from: .working, to: .crs84, { try $0.transform(box) }),
              b.minX.isFinite, b.maxY.isFinite else { return nil }
        func r(_ x: Double) -> Double { (x * 1e6).rounded() / 1e6 }
        return [r(b.minX), r(b.minY), r(b.maxX), r(b.maxY)]
    }

    /// Appends a GeoJSON geometry in CRS84 (6 decimals, about 0.1 m) for a WKB polygon or
    /// multipolygon in EPSG:4549; `null` when it is something else or cannot be projected.
    static func appendGeometry(_ wkb: Data, projector: Reprojector, to out: inout [UInt8]) {
        guard var polygons = WKB.polygons(wkb), !polygons.isEmpty else {
            out.append(contentsOf: "null".utf8)
            return
        }
        for p in polygons.indices {
            for r in polygons[p].indices where !projector.transform(&polygons[p][r]) {
                out.append(contentsOf: "null".utf8)
                return
            }
        }
        let multi = polygons.count > 1
        out.append(contentsOf: (multi ? "{\"type\":\"MultiPolygon\",\"coordinates\":[" : "{\"type\":\"Polygon\",\"coordinates\":").utf8)
        for (pi, poly) in polygons.enumerated() {
            if pi > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            for (ri, ring) in poly.enumerated() {
                if ri > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "["))
                var j = 0
                while j + 1 < ring.count {
                    if j > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(UInt8(ascii: "["))
                    ParcelGeoJSON.appendFixed(ring[j], digits: 6, to: &out)
                    out.append(UInt8(ascii: ","))
                    ParcelGeoJSON.appendFixed(ring[j + 1], digits: 6, to: &out)
                    out.append(UInt8(ascii: "]"))
                    j += 2
                }
                out.append(UInt8(ascii: "]"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(contentsOf: (multi ? "]}" : "}").utf8)
    }

    static func string(_ s: String?) -> String { s.map(ParcelGeoJSON.jsonString) ?? "null" }

    static func number(_ x: Double?, digits: Int = 2) -> String {
        guard let x, x.isFinite else { return "null" }
        var out = [UInt8]()
        ParcelGeoJSON.appendFixed(x, digits: digits, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The compact map features of parcels: `id, town, block, cls, low, cluster, cand,
    /// survey, area` (see `/api/v1/map/parcels`).
    static func features(_ rows: [Store.ParcelRow], cls: (Store.ParcelRow) -> String?) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(rows.count * 380)
        func put(_ s: StaticString) { out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
        func put(_ s: String) { out.append(contentsOf: s.utf8) }
        try Reprojector.withPooled(from: .working, to: .crs84) { projector in
            for (k, r) in rows.enumerated() {
                if k > 0 { put(",\n") }
                let p = r.parcel
                let id = string(p.parcelID)
                put("{\"type\":\"Feature\",\"id\":"); put(id)
                put(",\"properties\":{\"id\":"); put(id)
                put(",\"town\":"); put(string(p.town))
                put(",\"block\":"); put(string(p.block))
                put(",\"cls\":"); put(string(cls(r)))
                put(",\"low\":"); put(r.lowEfficiency == nil ? "null" : (r.lowEfficiency! ? "true" : "false"))
                put(",\"cluster\":"); put(r.cluster.map(String.init) ?? "null")
                put(",\"cand\":"); put(r.candidate == true ? "true" : "false")
                put(",\"survey\":"); put(string(r.surveyState ?? SurveyState.none))
                put(",\"area\":"); ParcelGeoJSON.appendFixed(p.areaMu, digits: 2, to: &out)
                put("},\"geometry\":")
                appendGeometry(p.geometry, projector: projector, to: &out)
                put("}")
            }
        }
        return out
    }

    /// A JSON text embedded in a page, safe inside `<script type="application/json">`.
    static func embed(id: String, json: [UInt8]) -> String {
        var s = String(decoding: json, as: UTF8.self)
        s = s.replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
            .replacingOccurrences(of: "&", with: "\\u0026")
        return "<script type=\"application/json\" id=\"\(HTML.escape(id))\">\(s)</script>"
    }

    /// A Response with a JSON body already encoded.
    static func response(_ bytes: [UInt8], type: String = "application/geo+json; charset=utf-8") -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: type)
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(data: Data(bytes)))
    }
}

/// What the reader may see of the evaluation classes in a year's land data.
struct LandVisibility {
    var year: Int
    /// Classes and scores of the year may be shown (published, or the reader sees drafts).
    var classes: Bool
    /// An enterprise user: the class of its own enterprise (parcels are coloured by it).
    var ownClass: String?
    var isEnterprise: Bool

    static func load(_ req: Request, year: Int) async throws -> LandVisibility {
        let classes = req.seesDrafts ? true : try await req.store.currentRun(year: year) != nil
        var own: String?
        var isEnterprise = false
        if case .enterprise(let code) = req.scope {
            isEnterprise = true
            if classes { own = try await req.store.result(creditCode: code, year: year)?.finalClass?.rawValue }
        }
        return LandVisibility(year: year, classes: classes, ownClass: own, isEnterprise: isEnterprise)
    }

    /// The class a parcel is coloured by on the map.
    func mapClass(_ r: Store.ParcelRow) -> String? {
        guard classes else { return nil }
        return isEnterprise ? ownClass : r.occupantClass
    }
}

/// Display names of accounts (surveyors, reviewers), read once per request.
struct AccountNames {
    private var cache: [String: String] = [:]

    mutating func name(_ login: String?, store: Store) async throws -> String? {
        guard let login else { return nil }
        if let n = cache[login] { return n }
        let n: String
        if let u = try await store.user(login: login) {
            n = u.unit.isEmpty || u.unit == u.displayName ? u.displayName : "\(u.displayName)（\(u.unit)）"
        } else {
            n = login
        }
        cache[login] = n
        return n
    }
}

// MARK: - JSON shapes

struct OccupantDTO: Content {
    var creditCode: String
    var name: String?
    var relation: String
    var relationName: String
    var areaMu: Double
    var totalAreaMu: Double?
    var tax: Double?
    var attributedTax: Double?
    var cls: String?
    var totalScore: Double?
    var rank: Int?
    /// the enterprise page, when the reader may open it
    var link: String?
    /// no land-use row: the parcel's 权利人 taken as its occupant
    var implicit: Bool
}

struct ReasonDTO: Content {
    var kind: String
    var text: String
}

struct ClusterRefDTO: Content {
    var number: Int
    var areaMu: Double
    var count: Int
    var candidate: Bool
    var lowShare: Double
    var towns: [String]
    var blocks: [String]
    var link: String
}

struct SurveyDTO: Content {
    var id: Int64
    var parcelId: String
    var town: String
    var state: String
    var stateName: String
    var actualUse: String
    var occupantsSeen: String?
    var idle: Bool
    var remarks: String?
    var photo: String?
    var surveyedBy: String
    var surveyedByName: String?
    var surveyedAt: Date
    var surveyedAtText: String
    var reviewedBy: String?
    var reviewedByName: String?
    var reviewedAt: Date?
    var reviewedAtText: String?
    var reviewNote: String?

    static func make(_ s: Store.Survey, names: inout AccountNames, store: Store) async throws -> SurveyDTO {
        SurveyDTO(id: s.id, parcelId: s.parcelID, town: s.town, state: s.state, stateName: SurveyState.chinese(s.state),
                  actualUse: s.actualUse, occupantsSeen: s.occupantsSeen, idle: s.idle, remarks: s.remarks,
                  photo: s.photoName != nil ? "/surveys/\(s.id)/photo" : nil,
                  surveyedBy: s.surveyedBy, surveyedByName: try await names.name(s.surveyedBy, store: store),
                  surveyedAt: s.surveyedAt, surveyedAtText: HTML.dateTime(s.surveyedAt),
                  reviewedBy: s.reviewedBy, reviewedByName: try await names.name(s.reviewedBy, store: store),
                  reviewedAt: s.reviewedAt, reviewedAtText: s.reviewedAt.map(HTML.dateTime), reviewNote: s.reviewNote)
    }
}

/// The parcel card of the map (`GET /api/v1/parcels/{id}?year=`).
struct ParcelCardDTO: Content {
    var id: String
    var year: Int?
    var years: [Int]
    var town: String
    var block: String?
    var ownerCreditCode: String?
    var ownerName: String?
    var landUse: String?
    var far: Double?
    var status: String?
    var statusName: String?
    var areaMu: Double
    var registeredMu: Double?
    /// (computed − registered) / registered
    var areaDifference: Double?
    var areaMismatch: Bool
    var assessed: Bool
    var lowEfficiency: Bool?
    var reasons: [ReasonDTO]
    var taxPerMu: Double?
    var attributedTax: Double?
    var occupantClass: String?
    var occupants: [OccupantDTO]
    var cluster: ClusterRefDTO?
    var survey: SurveyDTO?
    var surveyCount: Int
    var surveyState: String
    var surveyStateName: String
    /// CRS84 `[minLon, minLat, maxLon, maxLat]`
    var bbox: [Double]?
    var page: String
    var canSurvey: Bool
}

/// A survey as a form or the JSON API sends it.
struct SurveyInput: Content {
    var actualUse: String?
    var occupantsSeen: String?
    var idle: Bool?
    var remarks: String?
    var photo: File?

    enum CodingKeys: String, CodingKey {
        case actualUse = "actual_use", occupantsSeen = "occupants_seen", idle, remarks, photo
    }

    init(actualUse: String? = nil, occupantsSeen: String? = nil, idle: Bool? = nil, remarks: String? = nil, photo: File? = nil) {
        self.actualUse = actualUse; self.occupantsSeen = occupantsSeen; self.idle = idle; self.remarks = remarks; self.photo = photo
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        actualUse = try? c.decodeIfPresent(String.self, forKey: .actualUse)
        occupantsSeen = try? c.decodeIfPresent(String.self, forKey: .occupantsSeen)
        remarks = try? c.decodeIfPresent(String.self, forKey: .remarks)
        if let b = try? c.decodeIfPresent(Bool.self, forKey: .idle) {
            idle = b
        } else if let s = try? c.decodeIfPresent(String.self, forKey: .idle) {
            switch s.trimmingCharacters(in: .whitespaces).lowercased() {
            case "1", "true", "yes", "on", "是", "闲置": idle = true
            case "0", "false", "no", "off", "否", "": idle = false
            default: idle = nil
            }
        } else {
            idle = nil
        }
        photo = try? c.decodeIfPresent(File.self, forKey: .photo)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(actualUse, forKey: .actualUse)
        try c.encodeIfPresent(occupantsSeen, forKey: .occupantsSeen)
        try c.encodeIfPresent(idle, forKey: .idle)
        try c.encodeIfPresent(remarks, forKey: .remarks)
    }
}

/// A review as a form or the JSON API sends it: `decision` confirm | return, and a note.
struct ReviewInput: Content {
    var decision: String?
    var note: String?
}

// MARK: - Rules of the survey flow

enum SurveyRules {
    static let maxPhoto = 10 << 20
    static let maxText = 2000
    static let maxUse = 200

    /// The actual uses offered in the form (the field is free text).
    static let uses = ["工业生产", "仓储物流", "研发办公", "闲置", "在建", "出租（多家企业）", "商业服务", "居住", "其他"]

    /// Checks a photo: JPG or PNG (by name and content), at most 10 MB. Returns the cleaned
    /// name and the bytes, nil when no file was sent.
    static func photo(_ file: File?) throws(LandProblem) -> (String, Data)? {
        do throws(Upload.Problem) {
            return try Upload.check(file, maxBytes: maxPhoto, kinds: ["jpg", "png"], fallbackStem: "现场照片")
        } catch .tooLarge {
            throw LandProblem(status: .payloadTooLarge, message: "照片不能超过 10 MB / the photo is larger than 10 MB")
        } catch {
            throw LandProblem(status: .unsupportedMediaType, message: "照片仅支持 JPG、PNG 格式 / only JPG and PNG photos are accepted")
        }
    }

    static func clean(_ s: String?) -> String? {
        guard let t = s?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else { return nil }
        return t
    }
}

// MARK: - Controller

struct LandController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("map", use: mapPage)
        routes.get("parcels", ":id", use: parcelPage)
        routes.on(.POST, "parcels", ":id", "surveys", body: .collect(maxSize: "16mb"), use: surveyFromForm)
        routes.get("surveys", use: surveysPage)
        routes.post("surveys", ":id", "review", use: reviewFromForm)
        routes.get("surveys", ":id", "photo", use: surveyPhoto)
        routes.get("clusters", use: clustersPage)
        routes.get("clusters.xlsx", use: clustersExport)
        routes.get("land", use: landPage)
        routes.on(.POST, "land", "parcels", body: .collect(maxSize: nil), use: uploadParcels)
        routes.on(.POST, "land", "land-use", body: .collect(maxSize: nil), use: uploadLandUse)
        routes.post("land", "assess", use: assess)

        let api = routes.grouped("api", "v1")
        api.get("map", "parcels", use: apiMapParcels)
        api.get("map", "clusters", use: apiMapClusters)
        api.get("map", "search", use: apiSearch)
        api.get("parcels", ":id", use: apiParcel)
        api.on(.POST, "parcels", ":id", "surveys", body: .collect(maxSize: "16mb"), use: apiSurvey)
        api.post("surveys", ":id", "review", use: apiReview)
    }

    static let mapHead = """
    <link rel="stylesheet" href="/vendor/leaflet.css"><link rel="stylesheet" href="/static/map.css">
    <script src="/vendor/leaflet.js" defer></script><script src="/static/map.js" defer></script>
    """

    // MARK: shared reads

    /// The year asked for when it has a land assessment, else the latest assessed year.
    static func landYear(_ req: Request, _ asked: Int?) async throws -> (year: Int?, years: [Int]) {
        let years = try await req.store.landYears()
        if let asked, years.contains(asked) { return (asked, years) }
        return (years.first, years)
    }

    /// The parcel id of the path.
    static func parcelID(_ req: Request) -> String {
        (req.parameters.get("id") ?? "").trimmingCharacters(in: .whitespaces)
    }

    /// Assessments of some parcels in a year (the ids must already be within the reader's scope).
    static func assessments(_ store: Store, year: Int, ids: [String]) async throws -> [String: ParcelAssessment] {
        guard !ids.isEmpty else { return [:] }
        struct Row: Decodable { var parcel_id: String; var detail: String }
        var out: [String: ParcelAssessment] = [:]
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            let rows = try await store.sql.select().columns("parcel_id", "detail").from("parcel_assessments")
                .where("year", .equal, year).where("parcel_id", .in, chunk).all(decoding: Row.self)
            for r in rows { out[r.parcel_id] = try? decoder.decode(ParcelAssessment.self, from: Data(r.detail.utf8)) }
        }
        return out
    }

    /// One cluster of a year, when the reader may see it (it has a parcel in the scope).
    static func cluster(_ req: Request, year: Int, number: Int) async throws -> Store.ClusterRow? {
        struct Row: Decodable { var minx: Double; var miny: Double; var maxx: Double; var maxy: Double }
        guard let box = try await req.store.sql.select().columns("minx", "miny", "maxx", "maxy").from("land_clusters")
            .where("year", .equal, year).where("number", .equal, number).first(decoding: Row.self) else { return nil }
        let bbox = BBox(minX: box.minx, minY: box.miny, maxX: box.maxx, maxY: box.maxy)
        return try await req.store.clusters(year: year, bbox: bbox).rows.first { $0.summary.number == number }
    }

    /// Blocks (区块) of the scope with their towns.
    static func blocks(_ req: Request) async throws -> [(block: String, town: String)] {
        struct Row: Decodable { var block: String?; var town: String }
        var q = req.store.sql.select().distinct().columns("block", "town").from("parcels").where("block", .isNot, SQLLiteral.null)
        switch req.scope {
        case .all: break
        case .town(let t): q = q.where("town", .equal, t)
        case .none: return []
        case .enterprise:
            let rows = try await req.store.parcels(Store.ParcelFilter(), limit: 100_000).rows
            return Set(rows.compactMap { r in r.parcel.block.map { "\($0)\u{1F}\(r.parcel.town)" } }).sorted()
                .map { s in let p = s.split(separator: "\u{1F}"); return (String(p[0]), String(p[1])) }
        }
        return try await q.orderBy("town").orderBy("block").all(decoding: Row.self).compactMap { r in r.block.map { ($0, r.town) } }
    }

    /// Towns the reader may filter by.
    static func towns(_ req: Request) -> [String] {
        if let t = req.scope.towns { return t }
        return req.application.rulesInForce.rules.towns
    }

    /// The parcel card of a parcel within the scope, nil outside it.
    static func card(_ req: Request, id: String, year asked: Int?) async throws -> ParcelCardDTO? {
        let (year, years) = try await landYear(req, asked)
        guard let row = try await req.store.parcel(id: id, year: year) else { return nil }
        let p = row.parcel
        let principal = try req.principal()
        var vis: LandVisibility?
        var assessment: ParcelAssessment?
        if let year {
            vis = try await LandVisibility.load(req, year: year)
            assessment = try await req.store.assessment(parcelID: id, year: year)
        }
        let seesAll = req.scope == .all
        let mayOpenEnterprise = AccessPolicy.allows(principal.role, .viewEnterprise)

        var occupants: [OccupantDTO] = []
        for o in assessment?.occupants ?? [] {
            var result: EnterpriseResult?
            if let y = year, vis?.classes == true { result = try await req.store.result(creditCode: o.creditCode, year: y) }
            let visible = seesAll || result != nil
            occupants.append(OccupantDTO(
                creditCode: o.creditCode, name: o.name ?? result?.name, relation: o.relation.rawValue, relationName: o.relation.chinese,
                areaMu: o.areaMu, totalAreaMu: visible ? HTML.finite(o.totalAreaMu) : nil,
                tax: visible ? HTML.finite(o.tax) : nil, attributedTax: visible ? HTML.finite(o.attributedTax) : nil,
                cls: vis?.classes == true && visible ? (result?.finalClass?.rawValue ?? o.finalClass?.rawValue) : nil,
                totalScore: HTML.finite(result?.totalScore), rank: result?.rank,
                link: mayOpenEnterprise && (result != nil || seesAll) && year != nil
                    ? HTML.url("/enterprises/\(HTML.percent(o.creditCode))", [("year", year.map(String.init))]) : nil,
                implicit: o.implicit))
        }
        let reasons: [ReasonDTO] = (assessment?.reasons ?? []).map { r in
            if r.kind == .occupantClass && (vis?.classes != true || vis?.isEnterprise == true) {
                return ReasonDTO(kind: r.kind.rawValue, text: vis?.classes == true ? r.kind.chinese : "用地企业评价分类（结果尚未公示）")
            }
            return ReasonDTO(kind: r.kind.rawValue, text: r.zh)
        }
        var cluster: ClusterRefDTO?
        if let y = year, let n = row.cluster, let c = try await Self.cluster(req, year: y, number: n)?.summary {
            cluster = ClusterRefDTO(number: c.number, areaMu: c.areaMu, count: c.count, candidate: c.candidate,
                                    lowShare: c.lowEfficiencyShare, towns: c.towns, blocks: c.blocks,
                                    link: HTML.url("/map", [("year", String(y)), ("cluster", String(c.number))]))
        }
        var names = AccountNames()
        var survey: SurveyDTO?
        var surveyCount = 0
        if principal.role != .enterprise {
            let surveys = try await req.store.surveys(parcelID: id)
            surveyCount = surveys.count
            if let s = surveys.first { survey = try await SurveyDTO.make(s, names: &names, store: req.fullStore) }
        }
        let ownerName = p.ownerCreditCode.flatMap { code in assessment?.occupants.first { $0.creditCode == code }?.name }
        return ParcelCardDTO(
            id: p.parcelID, year: year, years: years, town: p.town, block: p.block, ownerCreditCode: p.ownerCreditCode,
            ownerName: ownerName, landUse: p.landUse, far: HTML.finite(p.far), status: p.status?.rawValue,
            statusName: p.status?.chinese, areaMu: p.areaMu, registeredMu: HTML.finite(p.registeredMu),
            areaDifference: HTML.finite(p.areaDifference), areaMismatch: p.areaMismatch, assessed: assessment != nil,
            lowEfficiency: row.lowEfficiency, reasons: reasons, taxPerMu: HTML.finite(row.taxPerMu),
            attributedTax: HTML.finite(assessment?.attributedTax), occupantClass: vis?.mapClass(row), occupants: occupants,
            cluster: cluster, survey: survey, surveyCount: surveyCount,
            surveyState: survey?.state ?? SurveyState.none, surveyStateName: SurveyState.chinese(survey?.state),
            bbox: LandGeo.crs84(p.bbox), page: HTML.url("/parcels/\(HTML.percent(p.parcelID))", [("year", year.map(String.init))]),
            canSurvey: principal.role == .town && principal.town == p.town)
    }

    // MARK: - JSON API: the map

    /// `GET /api/v1/map/parcels?year=&town=&block=&bbox=`: the parcels of the filter as a
    /// GeoJSON FeatureCollection in CRS84 with compact properties, and a summary of the filter.
    /// Without `bbox`, every parcel is sent when there are at most 20,000; beyond that the
    /// answer has no features and `bbox_required: true`.
    func apiMapParcels(req: Request) async throws -> Response {
        try req.require(.viewLand)
        let (year, _) = try await Self.landYear(req, req.query[Int.self, at: "year"])
        let town = SurveyRules.clean(req.query[String.self, at: "town"])
        let block = SurveyRules.clean(req.query[String.self, at: "block"])
        let box = try LandGeo.parseBBox(req.query[String.self, at: "bbox"])
        var rows: [Store.ParcelRow] = []
        var total = 0
        if case .empty = box {} else {
            var f = Store.ParcelFilter(year: year ?? -1, town: town, block: block)
            if case .box(let b) = box { f.bbox = b }
            (rows, total) = try await req.store.parcels(f, limit: LandGeo.mapLimit + 1)
        }
        // at most `limit` parcels in one answer (20,000; lower when asked)
        let limit = min(max(req.query[Int.self, at: "limit"] ?? LandGeo.mapLimit, 1), LandGeo.mapLimit)
        var bboxRequired = false
        var truncated = false
        if rows.count > limit {
            if case .none = box { bboxRequired = true; rows = [] } else { truncated = true; rows.removeLast(rows.count - limit) }
        }
        var vis: LandVisibility?
        if let year { vis = try await LandVisibility.load(req, year: year) }
        var out = [UInt8]()
        out.append(contentsOf: "{\"type\":\"FeatureCollection\",\"year\":\(year.map(String.init) ?? "null"),".utf8)
        out.append(contentsOf: "\"numberMatched\":\(total),\"numberReturned\":\(rows.count),\"limit\":\(limit),".utf8)
        out.append(contentsOf: "\"bbox_required\":\(bboxRequired),\"truncated\":\(truncated),".utf8)
        out.append(contentsOf: "\"classes_visible\":\(vis?.classes ?? false),".utf8)
        out.append(contentsOf: "\"summary\":\(Self.summaryJSON(rows)),\n\"features\":[\n".utf8)
        out.append(contentsOf: try LandGeo.features(rows) { vis?.mapClass($0) })
        out.append(contentsOf: "\n]}\n".utf8)
        return LandGeo.response(out)
    }

    /// Counts and areas of a set of parcels: every parcel, the low-efficiency ones, and the
    /// candidate clusters they belong to (their area within the set).
    static func summaryJSON(_ rows: [Store.ParcelRow]) -> String {
        var area = 0.0, lowArea = 0.0, lowCount = 0, candArea = 0.0
        var candidates = Set<Int>(), clusters = Set<Int>()
        var surveys: [String: Int] = [:]
        for r in rows {
            area += r.parcel.areaMu
            if r.lowEfficiency == true { lowCount += 1; lowArea += r.parcel.areaMu }
            if let c = r.cluster {
                clusters.insert(c)
                if r.candidate == true { candidates.insert(c); candArea += r.parcel.areaMu }
            }
            surveys[r.surveyState ?? SurveyState.none, default: 0] += 1
        }
        let s = [SurveyState.none, SurveyState.submitted, SurveyState.confirmed, SurveyState.returned]
            .map { "\"\($0)\":\(surveys[$0] ?? 0)" }.joined(separator: ",")
        return "{\"parcels\":\(rows.count),\"area_mu\":\(LandGeo.number(area)),\"low_count\":\(lowCount),"
            + "\"low_area_mu\":\(LandGeo.number(lowArea)),\"clusters\":\(clusters.count),\"candidate_clusters\":\(candidates.count),"
            + "\"candidate_area_mu\":\(LandGeo.number(candArea)),\"surveys\":{\(s)}}"
    }

    /// `GET /api/v1/map/clusters?year=&candidates=1&town=&block=&bbox=`: cluster outlines as
    /// GeoJSON (CRS84) with their number, area, parcel count, candidate flag and towns.
    func apiMapClusters(req: Request) async throws -> Response {
        try req.require(.viewLand)
        let (year, _) = try await Self.landYear(req, req.query[Int.self, at: "year"])
        let candidatesOnly = ["1", "true", "yes"].contains(req.query[String.self, at: "candidates"] ?? "")
        let town = SurveyRules.clean(req.query[String.self, at: "town"])
        let block = SurveyRules.clean(req.query[String.self, at: "block"])
        let box = try LandGeo.parseBBox(req.query[String.self, at: "bbox"])
        var rows: [Store.ClusterRow] = []
        if let year {
            switch box {
            case .empty: break
            case .none: rows = try await req.store.clusters(year: year, candidatesOnly: candidatesOnly).rows
            case .box(let b): rows = try await req.store.clusters(year: year, bbox: b, candidatesOnly: candidatesOnly).rows
            }
        }
        rows = rows.filter { c in
            (town == nil || c.summary.towns.contains(town!)) && (block == nil || c.summary.blocks.contains(block!))
        }
        var out = [UInt8]()
        out.append(contentsOf: "{\"type\":\"FeatureCollection\",\"year\":\(year.map(String.init) ?? "null"),\"numberReturned\":\(rows.count),\n\"features\":[\n".utf8)
        try Reprojector.withPooled(from: .working, to: .crs84) { projector in
            for (k, c) in rows.enumerated() {
                let s = c.summary
                if k > 0 { out.append(contentsOf: ",\n".utf8) }
                var props = "{\"number\":\(s.number),\"area\":\(LandGeo.number(s.areaMu)),\"count\":\(s.count),\"cand\":\(s.candidate)"
                props += ",\"low_share\":\(LandGeo.number(s.lowEfficiencyShare, digits: 4)),\"low_count\":\(s.lowEfficiencyCount)"
                props += ",\"towns\":[\(s.towns.map(ParcelGeoJSON.jsonString).joined(separator: ","))]"
                props += ",\"blocks\":[\(s.blocks.map(ParcelGeoJSON.jsonString).joined(separator: ","))]"
                props += ",\"occupants\":\(s.occupants.count),\"bbox\":\(LandGeo.crs84(s.bbox).map { "[\($0.map { String($0) }.joined(separator: ","))]" } ?? "null")}"
                out.append(contentsOf: "{\"type\":\"Feature\",\"id\":\(s.number),\"properties\":\(props),\"geometry\":".utf8)
                LandGeo.appendGeometry(c.outline, projector: projector, to: &out)
                out.append(UInt8(ascii: "}"))
            }
        }
        out.append(contentsOf: "\n]}\n".utf8)
        return LandGeo.response(out)
    }

    struct SearchMatchDTO: Content {
        var id: String
        var town: String
        var block: String?
        var names: [String]
        var low: Bool?
        var bbox: [Double]?
    }

    struct SearchDTO: Content {
        var query: String
        var year: Int?
        var total: Int
        var matches: [SearchMatchDTO]
        var bbox: [Double]?
    }

    /// `GET /api/v1/map/search?q=&year=`: parcels whose id, or an occupant's name or credit
    /// code, contains `q` (at most 50), each with its bbox, and the bbox of them all.
    func apiSearch(req: Request) async throws -> SearchDTO {
        try req.require(.viewLand)
        let q = (req.query[String.self, at: "q"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let (year, _) = try await Self.landYear(req, req.query[Int.self, at: "year"])
        guard !q.isEmpty else { return SearchDTO(query: q, year: year, total: 0, matches: [], bbox: nil) }
        guard q.count <= 100 else { throw Abort(.badRequest, reason: "搜索词过长 / the query is too long") }
        // an exact parcel id first
        var (rows, total) = try await req.store.parcels(Store.ParcelFilter(year: year ?? -1, ids: [q]), limit: 1)
        if rows.isEmpty {
            (rows, total) = try await req.store.parcels(Store.ParcelFilter(year: year ?? -1, search: q), limit: 50)
        }
        var details: [String: ParcelAssessment] = [:]
        if let year { details = try await Self.assessments(req.store, year: year, ids: rows.map(\.parcel.parcelID)) }
        var union: BBox?
        let matches = rows.map { r -> SearchMatchDTO in
            union = union.map { $0.union(r.parcel.bbox) } ?? r.parcel.bbox
            let names = (details[r.parcel.parcelID]?.occupants ?? []).compactMap(\.name)
            return SearchMatchDTO(id: r.parcel.parcelID, town: r.parcel.town, block: r.parcel.block, names: names,
                                  low: r.lowEfficiency, bbox: LandGeo.crs84(r.parcel.bbox))
        }
        return SearchDTO(query: q, year: year, total: total, matches: matches, bbox: union.flatMap(LandGeo.crs84))
    }

    /// `GET /api/v1/parcels/{id}?year=`: the parcel card; 404 outside the reader's scope.
    func apiParcel(req: Request) async throws -> ParcelCardDTO {
        try req.require(.viewLand)
        let id = Self.parcelID(req)
        guard let card = try await Self.card(req, id: id, year: req.query[Int.self, at: "year"]) else {
            throw Abort(.notFound, reason: "没有编号为 \(id) 的地块 / no parcel \(id)")
        }
        return card
    }

    // MARK: - Surveys

    /// Validates and records a survey of a parcel of the user's own town; returns its id.
    static func submitSurvey(_ req: Request, parcelID: String, input: SurveyInput) async throws -> Int64 {
        let p = try req.require(.surveyParcel)
        guard let town = p.town, let row = try await req.store.parcel(id: parcelID, year: nil), row.parcel.town == town else {
            throw LandProblem(status: .notFound, message: "本镇街没有编号为 \(parcelID) 的地块 / no parcel \(parcelID) in your town")
        }
        guard let use = SurveyRules.clean(input.actualUse) else {
            throw LandProblem(status: .badRequest, message: "请填写实际用途 / the actual use is required")
        }
        guard use.count <= SurveyRules.maxUse else {
            throw LandProblem(status: .badRequest, message: "实际用途不能超过 \(SurveyRules.maxUse) 字 / the actual use is too long")
        }
        let seen = SurveyRules.clean(input.occupantsSeen), remarks = SurveyRules.clean(input.remarks)
        for (label, text) in [("现场所见企业", seen), ("备注", remarks)] where (text?.count ?? 0) > SurveyRules.maxText {
            throw LandProblem(status: .badRequest, message: "\(label)不能超过 \(SurveyRules.maxText) 字 / \(label) is too long")
        }
        guard let idle = input.idle else {
            throw LandProblem(status: .badRequest, message: "请选择是否闲置 / say whether the parcel is idle")
        }
        let photo = try SurveyRules.photo(input.photo)
        return try await req.fullStore.addSurvey(parcelID: row.parcel.parcelID, town: town, actualUse: use, occupantsSeen: seen,
                                                 idle: idle, remarks: remarks, photoName: photo?.0, photo: photo?.1, actor: req.actor)
    }

    /// Confirms or returns a submitted survey; returns it as it is now.
    static func reviewSurvey(_ req: Request, id: Int64?, input: ReviewInput) async throws -> Store.Survey {
        try req.require(.reviewSurvey)
        guard let id, let s = try await req.fullStore.survey(id: id), Self.surveyVisible(req, s) else {
            throw LandProblem(status: .notFound, message: "没有该调查记录 / no such survey")
        }
        guard s.state == SurveyState.submitted else {
            throw LandProblem(status: .conflict, message: "调查 #\(s.id) 已\(SurveyState.short(s.state))，不能重复复核 / the survey was already reviewed")
        }
        let confirm: Bool
        switch (input.decision ?? "").trimmingCharacters(in: .whitespaces).lowercased() {
        case "confirm", "confirmed", "确认": confirm = true
        case "return", "returned", "退回": confirm = false
        default: throw LandProblem(status: .badRequest, message: "请选择确认或退回 / decision must be confirm or return")
        }
        let note = SurveyRules.clean(input.note)
        if !confirm && note == nil {
            throw LandProblem(status: .badRequest, message: "退回调查须填写退回理由 / a returned survey needs a note")
        }
        if (note?.count ?? 0) > SurveyRules.maxText {
            throw LandProblem(status: .badRequest, message: "复核意见不能超过 \(SurveyRules.maxText) 字 / the note is too long")
        }
        try await req.fullStore.reviewSurvey(id: s.id, confirm: confirm, note: note, actor: req.actor)
        return try await req.fullStore.survey(id: s.id) ?? s
    }

    /// Whether the reader may see a survey: the headquarters all, a town its own; enterprises none.
    static func surveyVisible(_ req: Request, _ s: Store.Survey) -> Bool {
        switch req.scope {
        case .all: true
        case .town(let t): t == s.town
        case .enterprise, .none: false
        }
    }

    func surveyFromForm(req: Request) async throws -> Response {
        try req.require(.surveyParcel)
        let id = Self.parcelID(req)
        let input = (try? req.content.decode(SurveyInput.self)) ?? SurveyInput()
        do {
            _ = try await Self.submitSurvey(req, parcelID: id, input: input)
            return req.redirect(to: HTML.url("/parcels/\(HTML.percent(id))", []) + "#surveys", redirectType: .normal)
        } catch let problem as LandProblem {
            if problem.status == .notFound { throw problem.abort }
            return try await renderParcel(req, id: id, year: nil, error: problem.message, form: input, status: problem.status)
        }
    }

    func apiSurvey(req: Request) async throws -> Response {
        try req.require(.surveyParcel)
        let input = (try? req.content.decode(SurveyInput.self)) ?? SurveyInput()
        do {
            let id = try await Self.submitSurvey(req, parcelID: Self.parcelID(req), input: input)
            guard let s = try await req.fullStore.survey(id: id) else { throw Abort(.internalServerError) }
            var names = AccountNames()
            return try await SurveyDTO.make(s, names: &names, store: req.fullStore).encodeResponse(status: .created, for: req)
        } catch let problem as LandProblem {
            throw problem.abort
        }
    }

    func reviewFromForm(req: Request) async throws -> Response {
        try req.require(.reviewSurvey)
        let input = (try? req.content.decode(ReviewInput.self)) ?? ReviewInput()
        let id = req.parameters.get("id", as: Int64.self)
        do {
            let s = try await Self.reviewSurvey(req, id: id, input: input)
            return req.redirect(to: "/parcels/\(HTML.percent(s.parcelID))#survey-\(s.id)", redirectType: .normal)
        } catch let problem as LandProblem {
            guard problem.status != .notFound, let id, let s = try await req.fullStore.survey(id: id) else { throw problem.abort }
            return try await renderParcel(req, id: s.parcelID, year: nil, error: problem.message, form: nil, status: problem.status)
        }
    }

    func apiReview(req: Request) async throws -> SurveyDTO {
        try req.require(.reviewSurvey)
        let input = (try? req.content.decode(ReviewInput.self)) ?? ReviewInput()
        do {
            let s = try await Self.reviewSurvey(req, id: req.parameters.get("id", as: Int64.self), input: input)
            var names = AccountNames()
            return try await SurveyDTO.make(s, names: &names, store: req.fullStore)
        } catch let problem as LandProblem {
            throw problem.abort
        }
    }

    /// `GET /surveys/{id}/photo`: the photo of a survey the reader may see.
    func surveyPhoto(req: Request) async throws -> Response {
        try req.require(.viewLand)
        guard let id = req.parameters.get("id", as: Int64.self), let s = try await req.fullStore.survey(id: id),
              Self.surveyVisible(req, s), let (name, data) = try await req.fullStore.surveyPhoto(id: id) else {
            throw Abort(.notFound, reason: "没有该照片 / no such photo")
        }
        var headers = HTTPHeaders()
        headers.contentType = name.lowercased().hasSuffix(".png") ? .png : .jpeg
        let ascii = String(name.unicodeScalars.filter { $0.isASCII && $0 != "\"" && $0.value >= 0x20 }.map(Character.init))
        headers.replaceOrAdd(name: .contentDisposition,
                             value: "inline; filename=\"\(ascii.isEmpty ? "photo" : ascii)\"; filename*=UTF-8''\(HTML.percent(name))")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: .cacheControl, value: "private, max-age=3600")
        headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'none'")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}

// MARK: - Pages

extension LandController {
    /// Configuration of the battle map for Public/map.js (`#map-config`).
    struct MapConfig: Encodable {
        var year: Int
        var years: [Int]
        var towns: [String]
        var lockedTown: String?
        var town: String?
        var block: String?
        var blocks: [[String]]
        var layer: String
        var tileURL: String?
        var tileAttribution: String?
        var focus: Focus?
        var threshold: Int
        /// a lower threshold asked for in the page's query (`/map?limit=`), to try the bbox mode
        var limit: Int?
        var enterprisePages: Bool
        var canManage: Bool
        var role: String
        struct Focus: Encodable { var kind: String; var id: String; var bbox: [Double]; var cluster: ClusterInfo? }
        struct ClusterInfo: Encodable {
            var number: Int; var year: Int; var area_mu: Double; var count: Int; var towns: [String]; var blocks: [String]
            var low_count: Int; var low_mu: Double; var low_share: Double; var candidate: Bool; var occupants: Int; var parcels: [String]
        }
    }

    static let cssHead = "<link rel=\"stylesheet\" href=\"/static/map.css\">"

    static let layers: [(key: String, name: String)] = [("cls", "评价分类"), ("low", "低效用地"), ("cluster", "集中连片"), ("survey", "调查状态")]

    /// The page shown when no land has been imported or assessed yet.
    static func noLand(_ req: Request, title: String, active: String) throws -> Response {
        let p = try req.principal()
        var h = "<section class=\"card empty\" id=\"no-land\"><h1>暂无地块认定数据</h1>"
        h += "<p>尚未导入工业用地地块，或尚未运行低效用地认定。</p><ol>"
        if AccessPolicy.allows(p.role, .manageLand) {
            h += "<li>在 <a href=\"/land\">地块数据导入</a> 页面上传地块 GeoJSON 与用地关系表，然后运行认定；</li>"
        }
        h += "<li>或用命令行：<br><code>mujun import parcels 地块.geojson</code><br><code>mujun import land-use 用地关系.xlsx</code><br><code>mujun land assess --year 2025</code></li>"
        h += "<li>载入演示城市（含地块）：<code>mujun demo</code></li></ol>"
        h += "<p class=\"muted\">Shapefile 先转换为 GeoJSON：<code>ogr2ogr -f GeoJSON -t_srs EPSG:4549 地块.geojson 地块.shp</code></p></section>"
        return HTML.page(title: title, active: active, body: h)
    }

    // MARK: /map

    func mapPage(req: Request) async throws -> Response {
        let p = try req.require(.viewLand)
        let (year, years) = try await Self.landYear(req, req.query[Int.self, at: "year"])
        guard let year else { return try Self.noLand(req, title: "挂图作战", active: "map") }
        let towns = p.role == .enterprise ? [] : Self.towns(req)
        let locked = req.scope.towns?.first
        var town = locked ?? SurveyRules.clean(req.query[String.self, at: "town"])
        if let t = town, !towns.contains(t) { town = nil }
        let blocks = try await Self.blocks(req)
        var block = SurveyRules.clean(req.query[String.self, at: "block"])
        if let b = block, !blocks.contains(where: { $0.block == b }) { block = nil }
        let layerAsked = req.query[String.self, at: "layer"] ?? ""
        var layer = Self.layers.contains { $0.key == layerAsked } ? layerAsked : "cls"

        var focus: MapConfig.Focus?
        if let n = req.query[Int.self, at: "cluster"], let c = try await Self.cluster(req, year: year, number: n),
           let box = LandGeo.crs84(c.summary.bbox) {
            let s = c.summary
            let visible = Set(try await req.store.parcels(Store.ParcelFilter(year: year, cluster: n), limit: 10_000).rows.map(\.parcel.parcelID))
            let info = MapConfig.ClusterInfo(
                number: n, year: year, area_mu: s.areaMu, count: s.count, towns: s.towns, blocks: s.blocks,
                low_count: s.lowEfficiencyCount, low_mu: s.lowEfficiencyMu, low_share: s.lowEfficiencyShare, candidate: s.candidate,
                occupants: s.occupants.count, parcels: Array(s.parcelIDs.filter(visible.contains).prefix(200)))
            focus = .init(kind: "cluster", id: String(n), bbox: box, cluster: info)
            if layerAsked.isEmpty { layer = "cluster" }
        } else if let id = SurveyRules.clean(req.query[String.self, at: "parcel"]),
                  let r = try await req.store.parcel(id: id, year: year), let box = LandGeo.crs84(r.parcel.bbox) {
            focus = .init(kind: "parcel", id: r.parcel.parcelID, bbox: box, cluster: nil)
        }
        let env = ProcessInfo.processInfo.environment
        let tile = SurveyRules.clean(env["MUJUN_TILE_URL"])
        let config = MapConfig(
            year: year, years: years, towns: towns, lockedTown: locked, town: town, block: block,
            blocks: blocks.map { [$0.block, $0.town] }, layer: layer, tileURL: tile,
            tileAttribution: SurveyRules.clean(env["MUJUN_TILE_ATTRIBUTION"]), focus: focus, threshold: LandGeo.mapLimit,
            limit: req.query[Int.self, at: "limit"].map { min(max($0, 1), LandGeo.mapLimit) },
            enterprisePages: AccessPolicy.allows(p.role, .viewEnterprise), canManage: AccessPolicy.allows(p.role, .manageLand),
            role: p.role.rawValue)

        var h = "<div class=\"map-page\" id=\"map-page\"><aside class=\"map-side\">"
        h += "<h1 id=\"page-title\">挂图作战 <small>\(year) 年度</small></h1>"
        h += "<form id=\"map-filters\" class=\"map-filters\" method=\"get\" action=\"/map\">"
        h += "<label>年度 <select id=\"map-year\" name=\"year\">"
        for y in years { h += "<option value=\"\(y)\"\(y == year ? " selected" : "")>\(y)</option>" }
        h += "</select></label>"
        if p.role != .enterprise {
            if let locked {
                h += "<label>镇街 <select id=\"map-town\" name=\"town\" disabled><option value=\"\(HTML.escape(locked))\" selected>\(HTML.escape(locked))</option></select></label>"
            } else {
                h += "<label>镇街 <select id=\"map-town\" name=\"town\"><option value=\"\">全部镇街</option>"
                for t in towns { h += "<option value=\"\(HTML.escape(t))\"\(t == town ? " selected" : "")>\(HTML.escape(t))</option>" }
                h += "</select></label>"
            }
        }
        h += "<label>区块 <select id=\"map-block\" name=\"block\"><option value=\"\">全部区块</option>"
        for b in blocks {
            h += "<option value=\"\(HTML.escape(b.block))\" data-town=\"\(HTML.escape(b.town))\"\(b.block == block ? " selected" : "")>\(HTML.escape(b.block))（\(HTML.escape(b.town))）</option>"
        }
        h += "</select></label><noscript><button type=\"submit\">应用</button></noscript></form>"
        h += "<form id=\"map-search\" class=\"map-search\" role=\"search\" action=\"/map\" method=\"get\">"
        h += "<input type=\"search\" id=\"map-q\" name=\"q\" placeholder=\"地块编号、企业名称或信用代码\" autocomplete=\"off\">"
        h += "<button type=\"submit\" id=\"map-search-go\">定位</button></form>"
        h += "<div id=\"search-results\" class=\"search-results\" hidden></div>"
        h += "<fieldset id=\"layer-select\" class=\"layers\"><legend>着色图层</legend>"
        for l in Self.layers {
            h += "<label><input type=\"radio\" name=\"layer\" value=\"\(l.key)\"\(l.key == layer ? " checked" : "")> \(l.name)</label>"
        }
        h += "</fieldset>"
        h += "<label class=\"toggle\"><input type=\"checkbox\" id=\"cluster-outlines\"\(focus?.kind == "cluster" ? " checked" : "")> 显示集中连片整治候选片区轮廓</label>"
        h += "<div id=\"legend\" class=\"legend\" aria-label=\"图例\"></div>"
        h += "<section id=\"map-summary\" class=\"map-summary\"><h2>统计 <small id=\"summary-scope\">当前筛选</small></h2><dl>"
        h += "<dt>地块</dt><dd><b id=\"sum-parcels\">—</b> 个，<span id=\"sum-area\">—</span> 亩</dd>"
        h += "<dt>低效用地</dt><dd><b id=\"sum-low\">—</b> 个，<span id=\"sum-low-area\">—</span> 亩</dd>"
        h += "<dt>整治候选片区</dt><dd><b id=\"sum-cand\">—</b> 片，<span id=\"sum-cand-area\">—</span> 亩</dd>"
        h += "<dt>现场调查</dt><dd id=\"sum-surveys\">—</dd></dl></section>"
        h += "<p class=\"map-links\"><a href=\"\(HTML.escape(HTML.url("/clusters", [("year", String(year))])))\" id=\"link-clusters\">集中连片整治候选清单</a>"
        if p.role != .enterprise { h += " · <a href=\"/surveys\" id=\"link-surveys\">调查与复核</a>" }
        if config.canManage { h += " · <a href=\"/land\" id=\"link-land\">地块数据导入</a>" }
        h += "</p></aside>"
        h += "<div class=\"map-wrap\"><div id=\"map\" class=\"battle-map\" role=\"region\" aria-label=\"工业用地地块挂图\"></div>"
        h += "<div id=\"map-status\" class=\"map-status\" role=\"status\">正在加载地块…</div>"
        h += "<aside id=\"parcel-card\" class=\"parcel-card\" hidden aria-live=\"polite\"></aside></div></div>"
        h += HTML.jsonScript(id: "map-config", config)
        let res = HTML.page(title: "挂图作战 · \(year) 年度", active: "map", head: Self.mapHead, body: h)
        if let tile, let origin = Self.origin(of: tile) {
            res.headers.replaceOrAdd(name: "Content-Security-Policy",
                                     value: "default-src 'self'; img-src 'self' data: \(origin); style-src 'self' 'unsafe-inline'")
        }
        return res
    }

    /// `scheme://host[:port]` of a tile URL template, for the page's img-src.
    static func origin(of template: String) -> String? {
        let cleaned = template.replacingOccurrences(of: "{s}", with: "a")
        guard let scheme = cleaned.range(of: "://") else { return nil }
        let rest = cleaned[scheme.upperBound...]
        let host = rest.prefix { $0 != "/" }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) }) else { return nil }
        let proto = cleaned[..<scheme.lowerBound].lowercased()
        guard proto == "http" || proto == "https" else { return nil }
        let wildcardHost = template.contains("{s}") ? "*." + host.split(separator: ".").dropFirst().joined(separator: ".") : String(host)
        return "\(proto)://\(wildcardHost)"
    }

    // MARK: /parcels/{id}

    func parcelPage(req: Request) async throws -> Response {
        try req.require(.viewLand)
        return try await renderParcel(req, id: Self.parcelID(req), year: req.query[Int.self, at: "year"], error: nil, form: nil, status: .ok)
    }

    func renderParcel(_ req: Request, id: String, year asked: Int?, error: String?, form: SurveyInput?,
                      status: HTTPResponseStatus) async throws -> Response {
        let principal = try req.principal()
        guard let c = try await Self.card(req, id: id, year: asked) else {
            let body = """
            <section class="card empty" id="not-found"><h1>未找到该地块</h1>
            <p>没有编号为 <code>\(HTML.escape(id))</code> 的地块，或该地块不在您的管辖范围内。</p>
            <p><a href="/map">返回挂图作战</a></p></section>
            """
            return HTML.page(title: "未找到地块", status: .notFound, active: "map", body: body)
        }
        let year = c.year
        let yq = year.map(String.init)
        var h = "<p class=\"crumbs\"><a href=\"\(HTML.escape(HTML.url("/map", [("year", yq), ("parcel", c.id)])))\">← 在挂图上查看</a>"
        if let cl = c.cluster { h += " · <a href=\"\(HTML.escape(cl.link))\">所在片区（第 \(cl.number) 片）</a>" }
        h += "</p>"
        if let error { h += "<p class=\"warning card\" id=\"form-error\" role=\"alert\">\(HTML.escape(error))</p>" }
        h += "<section class=\"page-head\"><h1 id=\"parcel-title\" data-parcel=\"\(HTML.escape(c.id))\">地块 \(HTML.escape(c.id))</h1>"
        if !c.years.isEmpty {
            h += "<nav class=\"years\" id=\"year-select\" aria-label=\"认定年度\"><span>认定年度：</span>"
            for y in c.years {
                h += "<a href=\"\(HTML.escape(HTML.url("/parcels/\(HTML.percent(c.id))", [("year", String(y))])))\"\(y == year ? " class=\"active\"" : "")>\(y)</a>"
            }
            h += "</nav>"
        }
        h += "</section>"

        // facts and the small map
        h += "<div class=\"parcel-top\"><section class=\"card\" id=\"parcel-facts\"><h2>基本情况</h2><dl class=\"facts\">"
        h += "<dt>所属镇街</dt><dd id=\"parcel-town\">\(HTML.escape(c.town))</dd>"
        h += "<dt>区块</dt><dd id=\"parcel-block\">\(HTML.escape(c.block ?? "—"))</dd>"
        if let owner = c.ownerCreditCode {
            let link = c.occupants.first { $0.creditCode == owner }?.link
            let label = HTML.escape(c.ownerName ?? owner)
            h += "<dt>权利人</dt><dd id=\"parcel-owner\">\(link.map { "<a href=\"\(HTML.escape($0))\">\(label)</a>" } ?? label)"
            h += " <span class=\"muted\">\(HTML.escape(owner))</span></dd>"
        }
        h += "<dt>用途</dt><dd>\(HTML.escape(c.landUse ?? "—"))</dd>"
        h += "<dt>现状</dt><dd id=\"parcel-status\">\(HTML.escape(c.statusName ?? "—"))</dd>"
        h += "<dt>容积率</dt><dd>\(HTML.num(c.far))</dd>"
        h += "<dt>计算面积</dt><dd id=\"parcel-area\">\(HTML.num(c.areaMu)) 亩 <span class=\"muted\">（按 CGCS2000 高斯-克吕格投影计算）</span></dd>"
        h += "<dt>登记面积</dt><dd id=\"parcel-registered\">\(c.registeredMu.map { "\(HTML.num($0)) 亩" } ?? "—")"
        if c.areaMismatch, let d = c.areaDifference {
            h += " <span class=\"flag-mismatch\" id=\"area-mismatch\">面积差异 \(String(format: "%+.1f%%", d * 100))，需核实</span>"
        } else if let d = c.areaDifference {
            h += " <span class=\"muted\">（差异 \(String(format: "%+.1f%%", d * 100))）</span>"
        }
        h += "</dd>"
        if let year {
            h += "<dt>\(year) 年度认定</dt><dd id=\"low-status\" data-low=\"\(c.lowEfficiency == true)\">"
            h += !c.assessed ? "<span class=\"muted\">未认定</span>"
                : (c.lowEfficiency == true ? "<span class=\"tag-low\">低效用地</span>" : "<span class=\"tag-ok\">非低效</span>")
            h += "</dd><dt>亩均税收</dt><dd id=\"parcel-tax\">\(c.taxPerMu.map { "\(HTML.num($0)) 万元/亩" } ?? "—")</dd>"
            h += "<dt>集中连片</dt><dd id=\"parcel-cluster\">"
            if let cl = c.cluster {
                h += "<a href=\"\(HTML.escape(cl.link))\">第 \(cl.number) 片</a>：\(cl.count) 个地块，\(HTML.num(cl.areaMu)) 亩，低效占比 \(String(format: "%.0f%%", cl.lowShare * 100))"
                h += cl.candidate ? " <span class=\"tag-cand\">整治候选</span>" : ""
            } else { h += "—" }
            h += "</dd>"
        }
        if principal.role != .enterprise {
            h += "<dt>现场调查</dt><dd id=\"parcel-survey\" data-state=\"\(HTML.escape(c.surveyState))\">"
            if let s = c.survey {
                h += "\(HTML.escape(s.stateName))：<span class=\"surveyor\">\(HTML.escape(s.surveyedByName ?? s.surveyedBy))</span> 于 \(HTML.escape(s.surveyedAtText)) 调查"
                if let by = s.reviewedByName ?? s.reviewedBy, let at = s.reviewedAtText {
                    h += "；<span class=\"verifier\">\(HTML.escape(by))</span> 于 \(HTML.escape(at))\(s.state == SurveyState.confirmed ? "确认" : "退回")"
                }
            } else { h += "未调查" }
            h += "</dd>"
        }
        h += "</dl></section>"
        h += "<section class=\"card\" id=\"parcel-map-card\"><h2>位置与相邻地块</h2>"
        h += "<div class=\"mini-map\" id=\"parcel-map\" data-source=\"parcel-map-data\" data-highlight=\"\(HTML.escape(c.id))\" data-year=\"\(yq ?? "")\"></div>"
        h += "<p class=\"muted\">红框为本地块；红色填充为低效用地，灰色为其他地块。点击相邻地块可打开其页面。</p></section></div>"

        // neighbours for the small map
        var neighbours: [Store.ParcelRow] = []
        if let row = try await req.store.parcel(id: c.id, year: year) {
            neighbours = try await req.store.parcels(Store.ParcelFilter(year: year ?? -1, bbox: row.parcel.bbox.expanded(by: 150)), limit: 400).rows
        }
        var vis: LandVisibility?
        if let year { vis = try await LandVisibility.load(req, year: year) }
        var fc = Array("{\"type\":\"FeatureCollection\",\"features\":[".utf8)
        fc += try LandGeo.features(neighbours) { vis?.mapClass($0) }
        fc += Array("]}".utf8)
        h += LandGeo.embed(id: "parcel-map-data", json: fc)

        // occupants
        h += "<section class=\"card\" id=\"occupants\"><h2>用地企业\(year.map { " <small>\($0) 年度</small>" } ?? "")</h2>"
        if c.occupants.isEmpty {
            h += "<p class=\"muted\" id=\"no-occupants\">没有登记的用地企业。</p>"
        } else {
            h += "<div class=\"table-wrap\"><table class=\"data\" id=\"occupants-table\"><thead><tr><th>企业名称</th><th>统一社会信用代码</th><th>关系</th>"
            h += "<th class=\"num\">使用面积(亩)</th><th class=\"num\">企业用地合计(亩)</th><th class=\"num\">评价税收(万元)</th>"
            h += "<th class=\"num\">归集到本地块(万元)</th><th>分类</th><th class=\"num\">总分</th></tr></thead><tbody>"
            for o in c.occupants {
                let name = HTML.escape(o.name ?? o.creditCode)
                h += "<tr data-credit-code=\"\(HTML.escape(o.creditCode))\"><td class=\"name\">\(o.link.map { "<a href=\"\(HTML.escape($0))\">\(name)</a>" } ?? name)"
                h += o.implicit ? " <span class=\"muted\">（权利人，无用地关系记录）</span>" : ""
                h += "</td><td class=\"code\">\(HTML.escape(o.creditCode))</td><td>\(HTML.escape(o.relationName))</td>"
                h += "<td class=\"num\">\(HTML.num(o.areaMu))</td><td class=\"num\">\(HTML.num(o.totalAreaMu))</td>"
                h += "<td class=\"num\">\(HTML.num(o.tax))</td><td class=\"num\">\(HTML.num(o.attributedTax))</td>"
                h += "<td class=\"class\">\(o.cls.map { HTML.classBadge($0) } ?? "<span class=\"muted\">—</span>")</td>"
                h += "<td class=\"num total\">\(HTML.num(o.totalScore))</td></tr>"
            }
            h += "</tbody>"
            if let t = c.attributedTax {
                h += "<tfoot><tr><td colspan=\"6\">合计归集税收 ÷ 地块面积 = 亩均税收</td><td class=\"num\">\(HTML.num(t))</td><td colspan=\"2\">\(HTML.num(c.taxPerMu)) 万元/亩</td></tr></tfoot>"
            }
            h += "</table></div><p class=\"muted\">企业的评价税收按其在各地块的使用面积比例归集到地块。</p>"
        }
        h += "</section>"

        // reasons per year
        h += "<section class=\"card\" id=\"reasons-history\"><h2>低效用地认定（历年）</h2>"
        if c.years.isEmpty {
            h += "<p class=\"muted\">尚未运行认定。</p>"
        } else {
            h += "<div class=\"table-wrap\"><table class=\"data\" id=\"reasons-table\"><thead><tr><th>年度</th><th>结论</th><th>认定理由</th>"
            h += "<th class=\"num\">亩均税收(万元/亩)</th><th>集中连片</th></tr></thead><tbody>"
            for y in c.years {
                let yc = y == year ? c : try await Self.card(req, id: c.id, year: y)
                guard let yc else { continue }
                h += "<tr data-year=\"\(y)\"\(y == year ? " class=\"current\"" : "")><td>\(y)</td><td>"
                h += !yc.assessed ? "未认定" : (yc.lowEfficiency == true ? "<span class=\"tag-low\">低效</span>" : "<span class=\"tag-ok\">非低效</span>")
                h += "</td><td class=\"reasons\">"
                h += yc.reasons.isEmpty ? "<span class=\"muted\">—</span>"
                    : "<ul>" + yc.reasons.map { "<li data-kind=\"\(HTML.escape($0.kind))\">\(HTML.escape($0.text))</li>" }.joined() + "</ul>"
                h += "</td><td class=\"num\">\(HTML.num(yc.taxPerMu))</td><td>"
                h += yc.cluster.map { "<a href=\"\(HTML.escape($0.link))\">第 \($0.number) 片</a>（\(HTML.num($0.areaMu)) 亩\($0.candidate ? "，整治候选" : "")）" } ?? "—"
                h += "</td></tr>"
            }
            h += "</tbody></table></div>"
        }
        h += "</section>"

        // surveys
        if principal.role != .enterprise {
            h += try await surveySection(req, card: c, principal: principal, form: form)
        }
        return HTML.page(title: "地块 \(c.id)", status: status, active: "map", head: Self.mapHead, body: h)
    }

    /// The survey history of a parcel, the review buttons (headquarters) and the survey form
    /// (a town user of the parcel's town).
    func surveySection(_ req: Request, card c: ParcelCardDTO, principal: Principal, form: SurveyInput?) async throws -> String {
        let surveys = try await req.store.surveys(parcelID: c.id)
        let canReview = AccessPolicy.allows(principal.role, .reviewSurvey)
        var names = AccountNames()
        var h = "<section class=\"card\" id=\"surveys\"><h2>现场调查与复核 <small>地毯式排查 · 点对点复核</small></h2>"
        if surveys.isEmpty {
            h += "<p class=\"muted\" id=\"no-surveys\">该地块尚无现场调查记录。</p>"
        } else {
            h += "<div class=\"table-wrap\"><table class=\"data\" id=\"survey-table\"><thead><tr><th>编号</th><th>状态</th><th>实际用途</th>"
            h += "<th>现场所见企业</th><th>闲置</th><th>备注</th><th>照片</th><th>调查人 / 时间</th><th>复核人 / 时间 / 意见</th></tr></thead><tbody>"
            for s in surveys {
                let d = try await SurveyDTO.make(s, names: &names, store: req.fullStore)
                h += "<tr id=\"survey-\(s.id)\" data-state=\"\(HTML.escape(s.state))\"><td>#\(s.id)</td>"
                h += "<td><span class=\"survey-state st-\(HTML.escape(s.state))\">\(HTML.escape(d.stateName))</span></td>"
                h += "<td>\(HTML.escape(s.actualUse))</td><td class=\"wrap\">\(HTML.escape(s.occupantsSeen ?? "—"))</td>"
                h += "<td>\(s.idle ? "是" : "否")</td><td class=\"wrap\">\(HTML.escape(s.remarks ?? ""))</td><td>"
                if let photo = d.photo {
                    h += "<a href=\"\(photo)\" target=\"_blank\" rel=\"noopener\"><img class=\"survey-photo\" src=\"\(photo)\" alt=\"现场照片\" loading=\"lazy\"></a>"
                } else { h += "—" }
                h += "</td><td class=\"surveyed-by\">\(HTML.escape(d.surveyedByName ?? s.surveyedBy))<br><span class=\"muted\">\(HTML.escape(d.surveyedAtText))</span></td>"
                h += "<td class=\"reviewed-by\">"
                if let by = d.reviewedByName ?? s.reviewedBy {
                    h += "\(HTML.escape(by))<br><span class=\"muted\">\(HTML.escape(d.reviewedAtText ?? ""))</span>"
                    if let n = s.reviewNote { h += "<br>\(HTML.escape(n))" }
                } else if s.state == SurveyState.submitted && canReview {
                    h += "<form class=\"review-form\" method=\"post\" action=\"/surveys/\(s.id)/review\">\(csrfField())"
                    h += "<input type=\"text\" name=\"note\" maxlength=\"2000\" placeholder=\"复核意见（退回时必填）\">"
                    h += "<button type=\"submit\" name=\"decision\" value=\"confirm\" class=\"review-confirm\">确认</button>"
                    h += "<button type=\"submit\" name=\"decision\" value=\"return\" class=\"secondary review-return\">退回</button></form>"
                } else {
                    h += "<span class=\"muted\">待复核</span>"
                }
                h += "</td></tr>"
            }
            h += "</tbody></table></div>"
        }
        if c.canSurvey {
            let known = c.occupants.map { $0.name ?? $0.creditCode }.joined(separator: "、")
            let idle = form?.idle ?? (c.status == ParcelStatus.idle.rawValue)
            h += "<h3>登记现场调查</h3>"
            h += "<form id=\"survey-form\" class=\"survey-form\" method=\"post\" action=\"/parcels/\(HTML.percent(c.id))/surveys\" enctype=\"multipart/form-data\">\(csrfField())"
            h += "<label>实际用途 <input type=\"text\" id=\"actual-use\" name=\"actual_use\" list=\"use-options\" required maxlength=\"200\" value=\"\(HTML.escape(form?.actualUse ?? ""))\" placeholder=\"如：工业生产\"></label>"
            h += "<datalist id=\"use-options\">" + SurveyRules.uses.map { "<option value=\"\(HTML.escape($0))\">" }.joined() + "</datalist>"
            h += "<label class=\"block\">现场所见企业 <span class=\"muted\">（已按用地关系预填，请按现场情况修改）</span>"
            h += "<textarea id=\"occupants-seen\" name=\"occupants_seen\" rows=\"2\" maxlength=\"2000\">\(HTML.escape(form?.occupantsSeen ?? known))</textarea></label>"
            h += "<fieldset class=\"inline\"><legend>是否闲置</legend><label><input type=\"radio\" name=\"idle\" value=\"0\"\(idle ? "" : " checked")> 否</label>"
            h += "<label><input type=\"radio\" name=\"idle\" value=\"1\" id=\"idle-yes\"\(idle ? " checked" : "")> 是（闲置）</label></fieldset>"
            h += "<label class=\"block\">备注 <textarea id=\"remarks\" name=\"remarks\" rows=\"2\" maxlength=\"2000\">\(HTML.escape(form?.remarks ?? ""))</textarea></label>"
            h += "<label>现场照片 <input type=\"file\" id=\"photo\" name=\"photo\" accept=\"image/jpeg,image/png,.jpg,.jpeg,.png\"> <span class=\"muted\">JPG/PNG，不超过 10 MB，可不上传</span></label>"
            h += "<p><button type=\"submit\" id=\"survey-submit\">提交调查</button></p></form>"
        } else if principal.role == .town {
            h += "<p class=\"muted\">该地块不在本镇街辖区，不能登记调查。</p>"
        }
        h += "</section>"
        return h
    }

    // MARK: /surveys

    func surveysPage(req: Request) async throws -> Response {
        let p = try req.require(.viewLand)
        var h = "<section class=\"page-head\"><h1>现场调查与复核</h1></section>"
        guard p.role != .enterprise else {
            h += "<section class=\"card\"><p class=\"muted\">现场调查记录仅供镇街与指挥部使用。</p></section>"
            return HTML.page(title: "现场调查与复核", active: "map", head: Self.cssHead, body: h)
        }
        let pending = try await req.store.pendingSurveys()
        var names = AccountNames()
        h += "<section class=\"card\" id=\"pending\"><h2>待复核的调查 <small>\(pending.count) 条</small></h2>"
        if pending.isEmpty {
            h += "<p class=\"muted\" id=\"no-pending\">没有待复核的调查。</p>"
        } else {
            h += "<div class=\"table-wrap\"><table class=\"data\" id=\"pending-table\"><thead><tr><th>编号</th><th>地块</th><th>镇街</th>"
            h += "<th>实际用途</th><th>闲置</th><th>调查人</th><th>调查时间</th><th></th></tr></thead><tbody>"
            for s in pending {
                let link = "/parcels/\(HTML.percent(s.parcelID))#survey-\(s.id)"
                h += "<tr data-survey=\"\(s.id)\"><td>#\(s.id)</td><td><a href=\"\(HTML.escape(link))\">\(HTML.escape(s.parcelID))</a></td>"
                h += "<td>\(HTML.escape(s.town))</td><td>\(HTML.escape(s.actualUse))</td><td>\(s.idle ? "是" : "否")</td>"
                h += "<td>\(HTML.escape(try await names.name(s.surveyedBy, store: req.fullStore) ?? s.surveyedBy))</td><td>\(HTML.dateTime(s.surveyedAt))</td>"
                h += "<td><a href=\"\(HTML.escape(link))\">\(AccessPolicy.allows(p.role, .reviewSurvey) ? "复核" : "查看")</a></td></tr>"
            }
            h += "</tbody></table></div>"
        }
        h += "</section><p class=\"muted\">在 <a href=\"/map?layer=survey\">挂图作战</a> 中选择“调查状态”图层，可查看各地块的调查进度。</p>"
        return HTML.page(title: "现场调查与复核", active: "map", head: Self.cssHead, body: h)
    }

    // MARK: /clusters

    struct ClusterListParams {
        var year: Int
        var all: Bool
        var town: String?
        var sort: String
        var descending: Bool

        static let sorts = ["number", "area", "count", "low", "occupants"]

        init(_ req: Request, year: Int, towns: [String]) {
            self.year = year
            all = req.query[String.self, at: "all"] == "1"
            town = SurveyRules.clean(req.query[String.self, at: "town"]).flatMap { towns.contains($0) ? $0 : nil }
            let s = req.query[String.self, at: "sort"] ?? ""
            sort = Self.sorts.contains(s) ? s : "area"
            descending = req.query[String.self, at: "order"].map { $0 == "desc" } ?? (sort != "number")
        }

        func href(_ path: String = "/clusters", sort: String? = nil, descending: Bool? = nil, all: Bool? = nil) -> String {
            HTML.url(path, [("year", String(year)), ("all", (all ?? self.all) ? "1" : nil), ("town", town),
                            ("sort", sort ?? self.sort), ("order", (descending ?? self.descending) ? "desc" : "asc")])
        }
    }

    /// The clusters of the list (candidates, or all), filtered and sorted.
    static func clusterList(_ req: Request, _ p: ClusterListParams) async throws -> [ClusterSummary] {
        var rows = try await req.store.clusters(year: p.year, candidatesOnly: !p.all).rows.map(\.summary)
        if let t = p.town { rows = rows.filter { $0.towns.contains(t) } }
        func key(_ c: ClusterSummary) -> Double {
            switch p.sort {
            case "area": c.areaMu
            case "count": Double(c.count)
            case "low": c.lowEfficiencyShare
            case "occupants": Double(c.occupants.count)
            default: Double(c.number)
            }
        }
        rows.sort { a, b in
            let ka = key(a), kb = key(b)
            if ka != kb { return p.descending ? ka > kb : ka < kb }
            return a.number < b.number
        }
        return rows
    }

    func clustersPage(req: Request) async throws -> Response {
        try req.require(.viewLand)
        let (year, years) = try await Self.landYear(req, req.query[Int.self, at: "year"])
        guard let year else { return try Self.noLand(req, title: "集中连片整治候选", active: "map") }
        let towns = Self.towns(req)
        let p = ClusterListParams(req, year: year, towns: towns)
        let rows = try await Self.clusterList(req, p)
        let minMu = (try? LandRules.from(yaml: req.application.rulesInForce.yaml))?.minMu ?? LandRules.default.minMu
        var h = "<section class=\"page-head\"><h1 id=\"page-title\">\(year) 年度集中连片整治\(p.all ? "片区" : "候选")</h1>"
        h += "<nav class=\"years\" id=\"year-select\" aria-label=\"认定年度\"><span>认定年度：</span>"
        for y in years {
            var q = p
            q.year = y
            h += "<a href=\"\(HTML.escape(q.href()))\"\(y == year ? " class=\"active\"" : "")>\(y)</a>"
        }
        h += "</nav></section>"
        h += "<form id=\"filters\" class=\"filters\" method=\"get\" action=\"/clusters\"><input type=\"hidden\" name=\"year\" value=\"\(year)\">"
        if req.scope.towns == nil {
            h += "<label>镇街 <select id=\"town\" name=\"town\"><option value=\"\">全部镇街</option>"
            for t in towns { h += "<option value=\"\(HTML.escape(t))\"\(t == p.town ? " selected" : "")>\(HTML.escape(t))</option>" }
            h += "</select></label>"
        }
        h += "<label><input type=\"checkbox\" name=\"all\" value=\"1\"\(p.all ? " checked" : "")> 含非候选片区</label>"
        h += "<button type=\"submit\">查询</button>"
        h += "<a class=\"button secondary\" id=\"export-xlsx\" href=\"\(HTML.escape(p.href("/clusters.xlsx")))\">导出 Excel</a></form>"
        let area = rows.reduce(0) { $0 + $1.areaMu }, low = rows.reduce(0) { $0 + $1.lowEfficiencyMu }
        h += "<section class=\"card\"><p id=\"cluster-total\" data-count=\"\(rows.count)\">共 <b>\(rows.count)</b> 片，合计 \(HTML.num(area)) 亩，其中低效用地 \(HTML.num(low)) 亩。"
        h += "<span class=\"muted\">相邻地块间距不超过 \(formatNumber((try? LandRules.from(yaml: req.application.rulesInForce.yaml))?.clusterGap ?? 20)) 米即视为连片；"
        h += "片区面积不小于 \(formatNumber(minMu)) 亩为整治候选。</span></p>"
        h += "<div class=\"table-wrap\"><table class=\"data\" id=\"clusters-table\"><thead><tr>"
        func th(_ key: String, _ label: String, numeric: Bool = true) -> String {
            let current = p.sort == key
            let desc = current ? !p.descending : key != "number"
            let arrow = current ? (p.descending ? " ▼" : " ▲") : ""
            return "<th id=\"sort-\(key)\" class=\"\(numeric ? "num " : "")\(current ? "sorted" : "")\"><a href=\"\(HTML.escape(p.href(sort: key, descending: desc)))\">\(label)\(arrow)</a></th>"
        }
        h += th("number", "片区编号") + th("area", "面积(亩)") + th("count", "地块数") + "<th>镇街</th><th>区块</th>"
        h += th("low", "低效占比") + "<th class=\"num\">低效面积(亩)</th>" + th("occupants", "用地企业数") + "<th>候选</th><th></th></tr></thead><tbody>"
        if rows.isEmpty { h += "<tr class=\"none\"><td colspan=\"10\">没有符合条件的片区。</td></tr>" }
        for c in rows {
            let map = HTML.url("/map", [("year", String(year)), ("cluster", String(c.number))])
            h += "<tr data-cluster=\"\(c.number)\"><td class=\"num\">\(c.number)</td><td class=\"num\">\(HTML.num(c.areaMu))</td>"
            h += "<td class=\"num\">\(c.count)</td><td>\(HTML.escape(c.towns.joined(separator: "、")))</td>"
            h += "<td>\(HTML.escape(c.blocks.joined(separator: "、")))</td>"
            h += "<td class=\"num\">\(String(format: "%.1f%%", c.lowEfficiencyShare * 100))</td><td class=\"num\">\(HTML.num(c.lowEfficiencyMu))</td>"
            h += "<td class=\"num\">\(c.occupants.count)</td><td>\(c.candidate ? "<span class=\"tag-cand\">候选</span>" : "—")</td>"
            h += "<td><a href=\"\(HTML.escape(map))\" class=\"map-link\">在地图上查看</a></td></tr>"
        }
        h += "</tbody></table></div></section>"
        return HTML.page(title: "集中连片整治候选 · \(year) 年度", active: "map", head: Self.cssHead, body: h)
    }

    /// `GET /clusters.xlsx`: one row per cluster of the list, and the parcels of its candidate clusters.
    func clustersExport(req: Request) async throws -> Response {
        try req.require(.viewLand)
        let (year, _) = try await Self.landYear(req, req.query[Int.self, at: "year"])
        guard let year else { throw Abort(.notFound, reason: "尚无地块认定结果 / no land assessment yet") }
        let p = ClusterListParams(req, year: year, towns: Self.towns(req))
        let clusters = try await Self.clusterList(req, p)
        func num(_ x: Double?) -> XLSXCell { x.map { $0.isFinite ? .number($0) : .empty } ?? .empty }
        let cRows: [[XLSXCell]] = clusters.map { c in
            [.number(Double(c.number)), num(c.areaMu), .number(Double(c.count)), .text(c.towns.joined(separator: "、")),
             .text(c.blocks.joined(separator: "、")), .number(Double(c.lowEfficiencyCount)), num(c.lowEfficiencyMu),
             num(c.lowEfficiencyShare), .number(Double(c.occupants.count)), .text(c.candidate ? "是" : "否")]
        }
        var w = XLSXWriter()
        w.addSheet(name: p.all ? "集中连片片区" : "集中连片整治候选",
                   headers: ["片区编号", "面积(亩)", "地块数", "镇街", "区块", "低效地块数", "低效面积(亩)", "低效占比", "用地企业数", "整治候选"],
                   rows: cRows, columnWidths: [9, 11, 8, 24, 24, 10, 12, 9, 10, 9],
                   numberFormats: ["0", "0.00", "0", nil, nil, "0", "0.00", "0.0%", "0", nil])

        // the parcels of the candidate clusters listed
        let numbers = Set(clusters.filter(\.candidate).map(\.number))
        let rows = try await req.store.parcels(Store.ParcelFilter(year: year), limit: 10_000_000).rows
            .filter { r in r.cluster.map { numbers.contains($0) } ?? false }
            .sorted { ($0.cluster ?? 0, $0.parcel.parcelID) < ($1.cluster ?? 0, $1.parcel.parcelID) }
        let details = try await Self.assessments(req.store, year: year, ids: rows.map(\.parcel.parcelID))
        let vis = try await LandVisibility.load(req, year: year)
        let pRows: [[XLSXCell]] = rows.map { r in
            let p = r.parcel, a = details[p.parcelID]
            let reasons = (a?.reasons ?? []).map { $0.kind == .occupantClass && (!vis.classes || vis.isEnterprise) ? $0.kind.chinese : $0.zh }
            return [.number(Double(r.cluster ?? 0)), .text(p.parcelID), .text(p.town), .text(p.block ?? ""), num(p.areaMu),
                    num(p.registeredMu), .text(p.status?.chinese ?? ""), .text(r.lowEfficiency == true ? "是" : "否"),
                    .text(reasons.joined(separator: "；")), num(r.taxPerMu), .text(vis.mapClass(r) ?? ""),
                    .text((a?.occupants ?? []).map { $0.name ?? $0.creditCode }.joined(separator: "、")),
                    .text(SurveyState.short(r.surveyState))]
        }
        w.addSheet(name: "候选片区地块",
                   headers: ["片区编号", "地块编号", "镇街", "区块", "面积(亩)", "登记面积(亩)", "现状", "低效", "低效认定理由",
                             "亩均税收(万元/亩)", "主要用地企业分类", "用地企业", "调查状态"],
                   rows: pRows, columnWidths: [9, 18, 12, 14, 10, 12, 7, 6, 48, 14, 10, 48, 9],
                   numberFormats: ["0", nil, nil, nil, "0.00", "0.00", nil, nil, nil, "0.00", nil, nil, nil])
        let land = (try? LandRules.from(yaml: req.application.rulesInForce.yaml)) ?? .default
        let notes: [(String, String)] = [
            ("认定年度", "\(year)"), ("范围", p.town ?? (req.scope.towns?.first ?? "全部镇街")),
            ("片区", p.all ? "全部集中连片片区" : "整治候选片区（面积不小于 \(formatNumber(land.minMu)) 亩）"),
            ("连片规则", "地块间距不超过 \(formatNumber(land.clusterGap)) 米（CGCS2000 高斯-克吕格投影）即相连，连通的地块为一片"),
            ("片区数", "\(clusters.count)"), ("候选片区地块数", "\(rows.count)"), ("导出时间", HTML.dateTime(Date())),
        ]
        w.addSheet(name: "说明", headers: ["项目", "内容"], rows: notes.map { [.text($0.0), .text($0.1)] }, columnWidths: [14, 70])
        let data = try w.data()
        let name = "\(year)年度集中连片整治\(p.all ? "片区" : "候选").xlsx"
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: ExportController.xlsxType)
        headers.replaceOrAdd(name: .contentDisposition,
                             value: "attachment; filename=\"clusters-\(year).xlsx\"; filename*=UTF-8''\(HTML.percent(name))")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }
}

// MARK: - /land: imports and the assessment

extension LandController {
    /// What the last action on the land page did.
    enum LandOutcome {
        case parcelsImported(file: String, parcels: [Parcel], tolerance: Double)
        case landUseImported(file: String, rows: Int, parcels: Int)
        case refused(kind: String, file: String, failure: ImportFailure)
        case assessed(Store.LandRunSummary)
        case problem(String)
    }

    struct UploadForm: Content {
        var file: File?
        var crs: String?
        var encoding: String?
    }

    struct AssessForm: Content {
        var year: String?
    }

    func landPage(req: Request) async throws -> Response {
        try req.require(.manageLand)
        return try await renderLand(req, outcome: nil, status: .ok)
    }

    func renderLand(_ req: Request, outcome: LandOutcome?, status: HTTPResponseStatus) async throws -> Response {
        let store = req.fullStore
        let parcels = try await store.parcels(Store.ParcelFilter(), limit: 0).total
        let landUseRows = try await store.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("land_use")
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let landYears = try await store.landYears()
        let dataYears = try await store.dataYears()
        let assessYears = Array(Set(landYears + dataYears)).sorted(by: >)
        let land = (try? LandRules.from(yaml: req.application.rulesInForce.yaml)) ?? .default

        var h = "<section class=\"page-head\"><h1>地块数据导入与低效用地认定</h1></section>"
        if let outcome { h += Self.renderOutcome(outcome) }

        h += "<section class=\"card\" id=\"land-status\"><h2>当前数据</h2><dl class=\"facts\">"
        h += "<dt>地块</dt><dd id=\"parcel-count\" data-n=\"\(parcels)\">\(parcels) 个</dd>"
        h += "<dt>用地关系</dt><dd id=\"land-use-count\" data-n=\"\(landUseRows)\">\(landUseRows) 条</dd><dt>已认定年度</dt><dd>"
        if landYears.isEmpty { h += "无" }
        for y in landYears {
            let all = try await store.parcels(Store.ParcelFilter(year: y), limit: 0).total
            let low = try await store.parcels(Store.ParcelFilter(year: y, lowEfficiencyOnly: true), limit: 0).total
            let cand = try await store.clusters(year: y, candidatesOnly: true, limit: 0).total
            h += "<div data-year=\"\(y)\">\(y) 年度：\(all) 个地块，低效 \(low) 个，整治候选片区 <a href=\"/clusters?year=\(y)\">\(cand) 片</a>，<a href=\"/map?year=\(y)\">查看挂图</a></div>"
        }
        h += "</dd></dl></section>"

        // parcels
        h += "<div class=\"overview\"><section class=\"card\" id=\"parcels-upload\"><h2>导入地块（GeoJSON）</h2>"
        h += "<form id=\"parcels-form\" class=\"upload-form\" method=\"post\" action=\"/land/parcels\" enctype=\"multipart/form-data\">\(csrfField())"
        h += "<p><label>文件 <input type=\"file\" name=\"file\" id=\"parcels-file\" accept=\".geojson,.json,application/geo+json,application/json\" required></label></p>"
        h += "<p><label>坐标系 <select name=\"crs\" id=\"parcels-crs\"><option value=\"\">按文件的 crs 声明（无声明为 CRS84 经纬度）</option>"
        for c in CRSName.supported { h += "<option value=\"\(HTML.escape(c.code))\">\(HTML.escape(c.title))</option>" }
        h += "</select></label></p>"
        h += "<p><button type=\"submit\">上传并导入地块</button></p>"
        h += "<div class=\"upload-progress\" hidden><progress max=\"100\" value=\"0\"></progress> <span class=\"progress-text\"></span></div></form>"
        h += "<p class=\"muted\">属性：地块编号（必填，唯一）、所属镇街（必填）、区块、权利人信用代码、登记面积(亩)、用途、容积率、现状。"
        h += "同一编号的地块将被替换；任何一个要素有错则整个文件不导入。计算面积与登记面积相差超过 \(formatNumber(land.areaTolerance * 100))% 的地块会被标记。</p>"
        h += "<p class=\"muted\">Shapefile 先转换：<code>ogr2ogr -f GeoJSON -t_srs EPSG:4549 地块.geojson 地块.shp</code></p></section>"

        // land use
        h += "<section class=\"card\" id=\"land-use-upload\"><h2>导入用地关系（CSV / XLSX）</h2>"
        h += "<form id=\"land-use-form\" class=\"upload-form\" method=\"post\" action=\"/land/land-use\" enctype=\"multipart/form-data\">\(csrfField())"
        h += "<p><label>文件 <input type=\"file\" name=\"file\" id=\"land-use-file\" accept=\".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\" required></label></p>"
        h += "<p><label>CSV 编码 <select name=\"encoding\"><option value=\"\">自动识别</option><option value=\"utf-8\">UTF-8</option><option value=\"gb18030\">GB18030 / GBK</option></select></label></p>"
        h += "<p><button type=\"submit\">上传并导入用地关系</button></p>"
        h += "<div class=\"upload-progress\" hidden><progress max=\"100\" value=\"0\"></progress> <span class=\"progress-text\"></span></div></form>"
        h += "<p class=\"muted\">列：地块编号、统一社会信用代码、关系（自有/租赁）、面积(亩)（空为整块）。文件中出现的地块，其用地关系整体替换为文件中的记录。</p></section></div>"

        // assessment
        h += "<section class=\"card\" id=\"assess\"><h2>低效用地认定与集中连片分析</h2>"
        if assessYears.isEmpty {
            h += "<p class=\"muted\">尚无企业数据年度，请先导入企业亩均数据。</p>"
        } else {
            h += "<form id=\"assess-form\" method=\"post\" action=\"/land/assess\">\(csrfField())"
            h += "<label>年度 <select name=\"year\" id=\"assess-year\">"
            for y in assessYears { h += "<option value=\"\(y)\">\(y)</option>" }
            h += "</select></label> <button type=\"submit\" id=\"assess-run\">运行认定</button></form>"
        }
        h += "<p class=\"muted\">按现行规则：闲置地块、亩均税收低于 \(land.taxPerMuBelow.map { formatNumber($0) + " 万元/亩" } ?? "（不启用）")、"
        h += "用地企业评价为 \(land.occupantClasses.map(\.rawValue).joined(separator: "/")) 类、容积率低于 \(land.farBelow.map(formatNumber) ?? "（不启用）") 的地块认定为低效；"
        h += "间距不超过 \(formatNumber(land.clusterGap)) 米的地块连成一片，面积不小于 \(formatNumber(land.minMu)) 亩的片区为整治候选。重新运行会替换该年度的认定结果。</p></section>"
        return HTML.page(title: "地块数据导入", status: status, active: "map",
                         head: "<link rel=\"stylesheet\" href=\"/static/map.css\"><script src=\"/static/land.js\" defer></script>", body: h)
    }

    static func renderOutcome(_ outcome: LandOutcome) -> String {
        var h = ""
        switch outcome {
        case .parcelsImported(let file, let parcels, let tolerance):
            let mismatched = parcels.filter(\.areaMismatch)
            let area = parcels.reduce(0) { $0 + $1.areaMu }
            h += "<section class=\"card notice-ok\" id=\"import-result\" data-count=\"\(parcels.count)\" data-mismatch=\"\(mismatched.count)\">"
            h += "<h2>地块导入成功</h2><p>已从 <b>\(HTML.escape(file))</b> 导入 <b id=\"imported-count\">\(parcels.count)</b> 个地块，合计 \(HTML.num(area)) 亩。"
            h += "计算面积与登记面积相差超过 \(formatNumber(tolerance * 100))% 的地块 <b id=\"mismatch-count\">\(mismatched.count)</b> 个。</p>"
            if !mismatched.isEmpty {
                h += "<div class=\"table-wrap\"><table class=\"data\" id=\"mismatch-table\"><thead><tr><th>地块编号</th><th>镇街</th>"
                h += "<th class=\"num\">登记面积(亩)</th><th class=\"num\">计算面积(亩)</th><th class=\"num\">差异</th></tr></thead><tbody>"
                for p in mismatched.prefix(200) {
                    h += "<tr><td><a href=\"/parcels/\(HTML.percent(p.parcelID))\">\(HTML.escape(p.parcelID))</a></td><td>\(HTML.escape(p.town))</td>"
                    h += "<td class=\"num\">\(HTML.num(p.registeredMu))</td><td class=\"num\">\(HTML.num(p.areaMu))</td>"
                    h += "<td class=\"num\">\(p.areaDifference.map { String(format: "%+.1f%%", $0 * 100) } ?? "—")</td></tr>"
                }
                h += "</tbody></table></div>"
                if mismatched.count > 200 { h += "<p class=\"muted\">仅列出前 200 个。</p>" }
            }
            h += "<p>请导入用地关系后重新运行低效用地认定。</p></section>"
        case .landUseImported(let file, let rows, let parcels):
            h += "<section class=\"card notice-ok\" id=\"import-result\" data-count=\"\(rows)\"><h2>用地关系导入成功</h2>"
            h += "<p>已从 <b>\(HTML.escape(file))</b> 导入 <b id=\"imported-count\">\(rows)</b> 条用地关系，涉及 \(parcels) 个地块。请重新运行低效用地认定。</p></section>"
        case .refused(let kind, let file, let failure):
            let isParcels = kind == "parcels"
            h += "<section class=\"card notice-error\" id=\"import-errors\" data-errors=\"\(failure.errors.count + failure.omitted)\">"
            h += "<h2>\(isParcels ? "地块" : "用地关系")导入失败，未写入任何数据</h2>"
            h += "<p><b>\(HTML.escape(file))</b> 中发现 \(failure.errors.count + failure.omitted) 处错误，请修改后重新上传：</p>"
            h += "<div class=\"table-wrap\"><table class=\"data\" id=\"error-table\"><thead><tr><th>\(isParcels ? "要素序号" : "行号")</th>"
            h += "<th>\(isParcels ? "属性" : "列")</th><th>问题</th></tr></thead><tbody>"
            for e in failure.errors {
                h += "<tr><td class=\"num\">\(e.row > 0 ? String(e.row) : "文件")</td><td>\(HTML.escape(e.column))</td><td class=\"wrap\">\(HTML.escape(e.messageZh))</td></tr>"
            }
            h += "</tbody></table></div>"
            if failure.omitted > 0 { h += "<p class=\"muted\">另有 \(failure.omitted) 处错误未列出。</p>" }
            h += "</section>"
        case .assessed(let s):
            h += "<section class=\"card notice-ok\" id=\"assess-result\" data-year=\"\(s.year)\" data-low=\"\(s.lowEfficiency)\" data-candidates=\"\(s.candidates)\">"
            h += "<h2>\(s.year) 年度低效用地认定完成</h2><p>\(s.parcels) 个地块，低效用地 <b>\(s.lowEfficiency)</b> 个；"
            h += "集中连片 \(s.clusters) 片，其中整治候选 <b>\(s.candidates)</b> 片。"
            h += "<a href=\"/map?year=\(s.year)\">查看挂图</a> · <a href=\"/clusters?year=\(s.year)\">整治候选清单</a></p></section>"
        case .problem(let message):
            h += "<p class=\"warning card\" id=\"form-error\" role=\"alert\">\(HTML.escape(message))</p>"
        }
        return h
    }

    /// The uploaded file of a land form, or a problem to show.
    static func upload(_ req: Request) throws -> (UploadForm, String, Data)? {
        guard let form = try? req.content.decode(UploadForm.self), let file = form.file, file.data.readableBytes > 0 else { return nil }
        var name = file.filename.replacingOccurrences(of: "\\", with: "/")
        name = String(name.split(separator: "/").last ?? "upload")
        return (form, name.isEmpty ? "upload" : name, Data(buffer: file.data))
    }

    func uploadParcels(req: Request) async throws -> Response {
        try req.require(.manageLand)
        guard let (form, name, data) = try Self.upload(req) else {
            return try await renderLand(req, outcome: .problem("请选择要上传的地块 GeoJSON 文件 / choose a GeoJSON file"), status: .badRequest)
        }
        let crs = SurveyRules.clean(form.crs)
        let towns = req.application.rulesInForce.rules.towns
        let tolerance = ((try? LandRules.from(yaml: req.application.rulesInForce.yaml)) ?? .default).areaTolerance
        let read = await Task.detached { () -> Result<[Parcel], ImportFailure> in
            do throws(ImportFailure) {
                return .success(try ParcelImport.read(geojson: data, crs: crs, towns: towns, tolerance: tolerance))
            } catch {
                return .failure(error)
            }
        }.value
        switch read {
        case .failure(let failure):
            return try await renderLand(req, outcome: .refused(kind: "parcels", file: name, failure: failure), status: .unprocessableEntity)
        case .success(let parcels):
            try await req.fullStore.importParcels(parcels, fileName: name, actor: req.actor)
            return try await renderLand(req, outcome: .parcelsImported(file: name, parcels: parcels, tolerance: tolerance), status: .ok)
        }
    }

    func uploadLandUse(req: Request) async throws -> Response {
        try req.require(.manageLand)
        guard let (form, name, data) = try Self.upload(req) else {
            return try await renderLand(req, outcome: .problem("请选择要上传的用地关系 CSV 或 XLSX 文件 / choose a CSV or XLSX file"), status: .badRequest)
        }
        let known = try await req.fullStore.parcelIDs()
        let enterprises = Set(try await req.fullStore.sql.select().distinct().column("credit_code").from("enterprise_years")
            .all(decodingColumn: "credit_code", as: String.self))
        let encoding = SurveyRules.clean(form.encoding).flatMap(TextEncodingChoice.init(name:))
        do {
            let table: any TableSource = data.starts(with: [0x50, 0x4B, 0x03, 0x04])
                ? try XLSXTable(data: data) : try CSVTable(data: data, encoding: encoding)
            let rows = try LandUseImport.read(table: table, knownParcels: known, knownEnterprises: enterprises.isEmpty ? nil : enterprises)
            try await req.fullStore.importLandUse(rows, fileName: name, actor: req.actor)
            return try await renderLand(req, outcome: .landUseImported(file: name, rows: rows.count, parcels: Set(rows.map(\.parcelID)).count), status: .ok)
        } catch let failure as ImportFailure {
            return try await renderLand(req, outcome: .refused(kind: "land-use", file: name, failure: failure), status: .unprocessableEntity)
        }
    }

    func assess(req: Request) async throws -> Response {
        try req.require(.manageLand)
        let form = (try? req.content.decode(AssessForm.self)) ?? AssessForm()
        guard let text = form.year, let year = Int(text.trimmingCharacters(in: .whitespaces)), (1990...2100).contains(year) else {
            return try await renderLand(req, outcome: .problem("请选择认定年度 / choose a year"), status: .badRequest)
        }
        let rules: LandRules
        do { rules = try LandRules.from(yaml: req.application.rulesInForce.yaml) } catch {
            return try await renderLand(req, outcome: .problem("规则文件的 land 部分有误：\(error.zh)"), status: .unprocessableEntity)
        }
        guard try await req.fullStore.parcels(Store.ParcelFilter(), limit: 0).total > 0 else {
            return try await renderLand(req, outcome: .problem("尚未导入地块，不能运行认定 / import parcels first"), status: .unprocessableEntity)
        }
        let summary = try await req.fullStore.assessLand(year: year, rules: rules, actor: req.actor)
        return try await renderLand(req, outcome: .assessed(summary), status: .ok)
    }
}

// MARK: - The enterprise's own parcels (the 本企业地块 section of /my)

extension LandController {
    /// The `#my-parcels` section of /my: the enterprise's parcels in the land assessment of
    /// `year` (or the latest one), with a small map.
    static func myParcelsSection(_ req: Request, year asked: Int?) async throws -> String {
        var h = "<section class=\"card\" id=\"my-parcels\"><h2>本企业地块</h2>"
        let (year, _) = try await landYear(req, asked)
        let rows = try await req.store.parcels(Store.ParcelFilter(year: year ?? -1), limit: 1000).rows
        guard !rows.isEmpty else {
            h += "<p class=\"muted\" id=\"no-parcels\">系统中没有登记在本企业名下或由本企业使用的工业用地地块。如有出入，请联系所在镇街。</p></section>"
            return h
        }
        let area = rows.reduce(0) { $0 + $1.parcel.areaMu }
        h += "<p>共 <b id=\"my-parcel-count\">\(rows.count)</b> 个地块，合计 \(HTML.num(area)) 亩\(year.map { "（\($0) 年度认定）" } ?? "")。</p>"
        h += "<div class=\"my-parcels\"><div class=\"table-wrap\"><table class=\"data\" id=\"my-parcels-table\"><thead><tr><th>地块编号</th><th>镇街</th><th>区块</th>"
        h += "<th class=\"num\">面积(亩)</th><th>现状</th><th class=\"num\">亩均税收</th><th>低效认定</th></tr></thead><tbody>"
        for r in rows {
            let p = r.parcel
            h += "<tr data-parcel=\"\(HTML.escape(p.parcelID))\"><td><a href=\"\(HTML.escape(HTML.url("/parcels/\(HTML.percent(p.parcelID))", [("year", year.map(String.init))])))\">\(HTML.escape(p.parcelID))</a></td>"
            h += "<td>\(HTML.escape(p.town))</td><td>\(HTML.escape(p.block ?? "—"))</td><td class=\"num\">\(HTML.num(p.areaMu))</td>"
            h += "<td>\(HTML.escape(p.status?.chinese ?? "—"))</td><td class=\"num\">\(HTML.num(r.taxPerMu))</td>"
            h += "<td>\(r.lowEfficiency == nil ? "—" : (r.lowEfficiency == true ? "<span class=\"tag-low\">低效</span>" : "<span class=\"tag-ok\">非低效</span>"))</td></tr>"
        }
        h += "</tbody></table></div>"
        h += "<div class=\"mini-map\" id=\"my-parcels-map\" data-source=\"my-parcels-data\" data-year=\"\(year.map(String.init) ?? "")\"></div></div>"
        h += "<p class=\"muted\">低效用地按地块认定（闲置、亩均税收、用地企业分类、容积率），详见各地块页面。</p>"
        var vis: LandVisibility?
        if let year { vis = try await LandVisibility.load(req, year: year) }
        var fc = Array("{\"type\":\"FeatureCollection\",\"features\":[".utf8)
        fc += try LandGeo.features(rows) { vis?.mapClass($0) }
        fc += Array("]}".utf8)
        h += LandGeo.embed(id: "my-parcels-data", json: fc)
        h += "<link rel=\"stylesheet\" href=\"/vendor/leaflet.css\"><link rel=\"stylesheet\" href=\"/static/map.css\">"
        h += "<script src=\"/vendor/leaflet.js\" defer></script><script src=\"/static/map.js\" defer></script></section>"
        return h
    }
}
