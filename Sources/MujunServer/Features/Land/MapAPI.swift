import Foundation
import Vapor
import MujunCore
import MujunStore

/// The battle map's JSON: parcels and cluster outlines as GeoJSON (written straight into
/// bytes: thousands of features), the search, and a parcel's card.
enum MapAPI {
    /// `GET /api/v1/map/parcels?year=&town=&block=&bbox=`: the parcels of the filter as a
    /// GeoJSON FeatureCollection in CRS84 with compact properties, and a summary of the filter.
    /// Without `bbox`, every parcel is sent when there are at most 20,000; beyond that the
    /// answer has no features and `bbox_required: true`.
    static func parcels(_ req: Request, _ q: LandFeature.MapParcelsQuery) async throws -> Response {
        let land = req.service.land
        let (year, _) = try await land.year(q.year?.int)
        let box = try LandGeo.parseBBox(q.bbox?.value)
        var rows: [Store.ParcelRow] = []
        var total = 0
        if case .empty = box {} else {
            var f = Store.ParcelFilter(year: year ?? -1, town: q.town?.value.nilIfEmpty, block: q.block?.value.nilIfEmpty)
            if case .box(let b) = box { f.bbox = b }
            (rows, total) = try await land.parcels(f, limit: LandGeo.mapLimit + 1)
        }
        // at most `limit` parcels in one answer (20,000; lower when asked)
        let limit = q.limit?.int ?? LandGeo.mapLimit
        var bboxRequired = false
        var truncated = false
        if rows.count > limit {
            if case .none = box { bboxRequired = true; rows = [] } else { truncated = true; rows.removeLast(rows.count - limit) }
        }
        var vis: LandService.Visibility?
        if let year { vis = try await land.visibility(year: year) }
        var out = [UInt8]()
        out.append(contentsOf: "{\"type\":\"FeatureCollection\",\"year\":\(year.map(String.init) ?? "null"),".utf8)
        out.append(contentsOf: "\"numberMatched\":\(total),\"numberReturned\":\(rows.count),\"limit\":\(limit),".utf8)
        out.append(contentsOf: "\"bbox_required\":\(bboxRequired),\"truncated\":\(truncated),".utf8)
        out.append(contentsOf: "\"classes_visible\":\(vis?.classes ?? false),".utf8)
        out.append(contentsOf: "\"summary\":\(summaryJSON(rows)),\n\"features\":[\n".utf8)
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
            surveys[r.surveyState ?? SurveyService.State.none, default: 0] += 1
        }
        let s = [SurveyService.State.none, SurveyService.State.submitted, SurveyService.State.confirmed, SurveyService.State.returned]
            .map { "\"\($0)\":\(surveys[$0] ?? 0)" }.joined(separator: ",")
        return "{\"parcels\":\(rows.count),\"area_mu\":\(LandGeo.number(area)),\"low_count\":\(lowCount),"
            + "\"low_area_mu\":\(LandGeo.number(lowArea)),\"clusters\":\(clusters.count),\"candidate_clusters\":\(candidates.count),"
            + "\"candidate_area_mu\":\(LandGeo.number(candArea)),\"surveys\":{\(s)}}"
    }

    /// `GET /api/v1/map/clusters?year=&candidates=1&town=&block=&bbox=`: cluster outlines as
    /// GeoJSON (CRS84) with their number, area, parcel count, candidate flag and towns.
    static func clusters(_ req: Request, _ q: LandFeature.MapClustersQuery) async throws -> Response {
        let land = req.service.land
        let (year, _) = try await land.year(q.year?.int)
        let candidatesOnly = q.candidates?.value ?? false
        let town = q.town?.value.nilIfEmpty, block = q.block?.value.nilIfEmpty
        let box = try LandGeo.parseBBox(q.bbox?.value)
        var rows: [Store.ClusterRow] = []
        if let year {
            switch box {
            case .empty: break
            case .none: rows = try await land.clusters(year: year, candidatesOnly: candidatesOnly).rows
            case .box(let b): rows = try await land.clusters(year: year, bbox: b, candidatesOnly: candidatesOnly).rows
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
                props += ",\"low_share\":\(LandGeo.number(s.blockLowEfficiencyShare, digits: 4)),\"low_count\":\(s.lowEfficiencyCount)"
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
    static func search(_ req: Request, _ q: LandFeature.SearchQuery) async throws -> SearchDTO {
        let land = req.service.land
        let text = q.q?.value ?? ""
        let (year, _) = try await land.year(q.year?.int)
        let (total, matches) = try await land.search(text, year: year)
        var union: BBox?
        let dtos = matches.map { m -> SearchMatchDTO in
            union = union.map { $0.union(m.row.parcel.bbox) } ?? m.row.parcel.bbox
            return SearchMatchDTO(id: m.row.parcel.parcelID, town: m.row.parcel.town, block: m.row.parcel.block, names: m.names,
                                  low: m.row.lowEfficiency, bbox: LandGeo.crs84(m.row.parcel.bbox))
        }
        return SearchDTO(query: text, year: year, total: total, matches: dtos, bbox: union.flatMap(LandGeo.crs84))
    }

    /// The card of one of the caller's parcels (nil outside the scope).
    static func card(_ req: Request, id: String, year: Int?) async throws -> ParcelCardDTO? {
        let services = req.service
        guard let d = try await services.land.detail(id: id, year: year) else { return nil }
        let p = d.row.parcel
        let principal = try req.principal()
        let mayOpenEnterprise = AccessPolicy.allows(principal.role, .viewEnterprise)
        let seesAll = req.caller.scope == .all
        let occupants = d.occupants.map { o in
            OccupantDTO(creditCode: o.occupant.creditCode, name: o.name, relation: o.occupant.relation.rawValue,
                        relationName: o.occupant.relation.chinese, areaMu: o.occupant.areaMu,
                        totalAreaMu: o.figuresVisible ? HTML.finite(o.occupant.totalAreaMu) : nil,
                        tax: o.figuresVisible ? HTML.finite(o.occupant.tax) : nil,
                        attributedTax: o.figuresVisible ? HTML.finite(o.occupant.attributedTax) : nil,
                        cls: o.cls, totalScore: HTML.finite(o.result?.totalScore), rank: o.result?.rank,
                        link: mayOpenEnterprise && (o.result != nil || seesAll) && d.year != nil
                            ? HTML.url("/enterprises/\(HTML.percent(o.occupant.creditCode))", [("year", d.year.map(String.init))]) : nil,
                        implicit: o.occupant.implicit)
        }
        var cluster: ClusterRefDTO?
        if let y = d.year, let c = d.cluster {
            cluster = ClusterRefDTO(number: c.number, areaMu: c.areaMu, count: c.count, candidate: c.candidate,
                                    lowShare: c.blockLowEfficiencyShare, towns: c.towns, blocks: c.blocks,
                                    link: HTML.url("/map", [("year", String(y)), ("cluster", String(c.number))]),
                                    page: HTML.url("/clusters/\(c.number)", [("year", String(y))]))
        }
        var survey: SurveyDTO?
        if let s = d.latestSurvey { survey = try await SurveyDTO.make(s, services.surveys) }
        let ownerName = p.ownerCreditCode.flatMap { code in d.assessment?.occupants.first { $0.creditCode == code }?.name }
        return ParcelCardDTO(
            id: p.parcelID, year: d.year, years: d.years, town: p.town, block: p.block, ownerCreditCode: p.ownerCreditCode,
            ownerName: ownerName, landUse: p.landUse, far: HTML.finite(p.far), status: p.status?.rawValue,
            statusName: p.status?.chinese, approvedOn: p.approvedOn?.description, suppliedOn: p.suppliedOn?.description,
            startBy: p.startBy?.description, finishBy: p.finishBy?.description, operatingSince: p.operatingSince?.description,
            areaMu: p.areaMu, registeredMu: HTML.finite(p.registeredMu),
            areaDifference: HTML.finite(p.areaDifference), areaMismatch: p.areaMismatch, assessed: d.assessment != nil,
            lowEfficiency: d.row.lowEfficiency, reasons: d.reasons.map { ReasonDTO(kind: $0.kind, text: $0.text) },
            category: d.assessment?.category?.rawValue, categoryName: d.assessment?.category?.chinese,
            taxPerMu: HTML.finite(d.row.taxPerMu), attributedTax: HTML.finite(d.assessment?.attributedTax),
            occupantClass: d.visibility?.mapClass(d.row), occupants: occupants, cluster: cluster, survey: survey,
            surveyCount: d.surveyCount, surveyState: survey?.state ?? SurveyService.State.none,
            surveyStateName: SurveyService.State.chinese(survey?.state), bbox: LandGeo.crs84(p.bbox),
            page: HTML.url("/parcels/\(HTML.percent(p.parcelID))", [("year", d.year.map(String.init))]), canSurvey: d.canSurvey,
            projects: try await services.projects.onParcel(p.parcelID).map(ProjectRefDTO.init))
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
    /// the map, on the cluster
    var link: String
    /// the cluster's page (its parcels, occupants and reasons)
    var page: String
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

    static func make(_ s: Store.Survey, _ surveys: SurveyService) async throws -> SurveyDTO {
        let names = try await surveys.accountNames(Set([s.surveyedBy] + (s.reviewedBy.map { [$0] } ?? [])))
        return make(s, names: names)
    }

    static func make(_ s: Store.Survey, names: [String: String]) -> SurveyDTO {
        SurveyDTO(id: s.id, parcelId: s.parcelID, town: s.town, state: s.state, stateName: SurveyService.State.chinese(s.state),
                  actualUse: s.actualUse, occupantsSeen: s.occupantsSeen, idle: s.idle, remarks: s.remarks,
                  photo: s.photoName != nil ? "/surveys/\(s.id)/photo" : nil,
                  surveyedBy: s.surveyedBy, surveyedByName: names[s.surveyedBy] ?? s.surveyedBy,
                  surveyedAt: s.surveyedAt, surveyedAtText: HTML.dateTime(s.surveyedAt),
                  reviewedBy: s.reviewedBy, reviewedByName: s.reviewedBy.map { names[$0] ?? $0 },
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
    /// 批准日期, 供地日期, 约定开工日期, 约定竣工日期, 投产日期 (YYYY-MM-DD)
    var approvedOn: String?
    var suppliedOn: String?
    var startBy: String?
    var finishBy: String?
    var operatingSince: String?
    var areaMu: Double
    var registeredMu: Double?
    /// (computed − registered) / registered
    var areaDifference: Double?
    var areaMismatch: Bool
    var assessed: Bool
    var lowEfficiency: Bool?
    var reasons: [ReasonDTO]
    /// Which of the five kinds (低效用地五类), when low-efficiency and the data say which:
    /// approved_not_supplied, supplied_not_used, used_not_fully, built_not_operating, operating_below_standard
    var category: String?
    var categoryName: String?
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
    /// The projects on the parcel the reader may see, with why they are late and their open 督办 cases.
    var projects: [ProjectRefDTO]
}

/// A project as the map's card shows it.
struct ProjectRefDTO: Content {
    struct CaseRef: Content { var id: Int64; var ref: String; var state: String; var stateName: String; var link: String }
    var id: Int64
    var ref: String
    var name: String
    var state: String
    var stateName: String
    var progress: Double
    var late: [String]
    var openCases: [CaseRef]
    var link: String

    init(_ v: ProjectService.View) {
        id = v.record.id; ref = v.record.ref; name = v.record.name; state = v.status.state.rawValue
        stateName = v.status.state.chinese; progress = v.status.progress; late = v.status.late.map(\.zh)
        openCases = v.cases.filter { $0.state != "closed" }.map {
            CaseRef(id: $0.id, ref: $0.ref, state: $0.state, stateName: $0.loopState?.chinese ?? $0.state, link: "/cases/\($0.id)")
        }
        link = "/projects/\(v.record.id)"
    }
}

// MARK: - what the hand-written GeoJSON holds (for the OpenAPI document and its checks)

/// GeoJSON coordinates: nested arrays of numbers (a Polygon's or MultiPolygon's).
struct GeoCoordinates: Decodable, SchemaDescribing {
    static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue { ["type": "array", "items": ["type": "array"]] }
    static var schemaExample: GeoCoordinates { GeoCoordinates() }
    init() {}
    init(from decoder: any Decoder) throws {}
}

struct GeometryDoc: Decodable {
    var type: String
    var coordinates: GeoCoordinates
}

struct MapParcelsDoc: Decodable {
    var type: String
    var year: Int?
    var numberMatched: Int
    var numberReturned: Int
    var limit: Int
    var bbox_required: Bool
    var truncated: Bool
    var classes_visible: Bool
    var summary: Summary
    var features: [Feature]

    struct Summary: Decodable {
        var parcels: Int
        var area_mu: Double
        var low_count: Int
        var low_area_mu: Double
        var clusters: Int
        var candidate_clusters: Int
        var candidate_area_mu: Double
        var surveys: [String: Int]
    }
    struct Feature: Decodable {
        var type: String
        var id: String
        var properties: Properties
        var geometry: GeometryDoc?
    }
    struct Properties: Decodable {
        var id: String
        var town: String
        var block: String?
        var cls: String?
        var low: Bool?
        var cluster: Int?
        var cand: Bool
        var survey: String
        /// the state of the project covering it: not_started, on_track, late, completed (null: none)
        var proj: String?
        var area: Double
    }
}

struct MapClustersDoc: Decodable {
    var type: String
    var year: Int?
    var numberReturned: Int
    var features: [Feature]

    struct Feature: Decodable {
        var type: String
        var id: Int
        var properties: Properties
        var geometry: GeometryDoc?
    }
    struct Properties: Decodable {
        var number: Int
        var area: Double
        var count: Int
        var cand: Bool
        var low_share: Double
        var low_count: Int
        var towns: [String]
        var blocks: [String]
        var occupants: Int
        var bbox: [Double]?
    }
}
