import Foundation
import Vapor
import MujunCore
import MujunStore

/// Constants of the service.
enum OGC {
    static let conformance = [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    ]
    static let geoJSON = "application/geo+json"
    static let json = "application/json"
    static let openAPI = "application/vnd.oai.openapi+json;version=3.0"
    static let schemaJSON = "application/schema+json"
    static let html = "text/html"

    /// The CRSs of every collection: what `crs` and `bbox-crs` accept.
    static let crsList: [CRSName] = [.crs84, .epsg(4490), .epsg(4549), .epsg(4326)]
    static let storageCRS: CRSName = .working

    static let defaultLimit = 10
    static let maxLimit = 10_000

    /// Whether each CRS of `crsList` puts the north-pointing axis first, as PROJ's database
    /// defines it (computed once).
    static let northEast: [CRSName: Bool] = Dictionary(uniqueKeysWithValues: crsList.map { crs in
        (crs, (try? Projection.axisOrderIsNorthEast(crs)) ?? crs.authorityAxisOrderIsNorthEast)
    })

    /// How coordinates in `crs` are ordered for a `Reprojector` (OGC API: as the CRS defines).
    static func axes(_ crs: CRSName) -> AxisOrder {
        let ne = northEast[crs] ?? crs.authorityAxisOrderIsNorthEast
        // `.authority` swaps exactly when the CRS is north-first (CRS84 never is)
        return ne && crs.authorityAxisOrderIsNorthEast ? .authority : .xy
    }

    /// `crs`/`bbox-crs` value → CRS, or 400.
    static func crs(_ text: String, parameter: String) throws -> CRSName {
        guard let c = CRSName.parse(text), crsList.contains(c) else {
            throw Abort(.badRequest, reason: "参数 \(parameter) 不支持的坐标参考系 \"\(text)\"（支持：\(crsList.map(\.uri).joined(separator: "、"))）/ unsupported \(parameter) \"\(text)\" (supported: \(crsList.map(\.uri).joined(separator: ", ")))")
        }
        return c
    }
}

/// The collections served.
enum OGCCollection: String, CaseIterable, Sendable {
    case parcels, clusters

    var title: String {
        switch self {
        case .parcels: "工业用地地块"
        case .clusters: "低效用地集中连片"
        }
    }

    var description: String {
        switch self {
        case .parcels:
            "工业用地地块及其年度低效用地认定（亩均税收、用地企业评价类别、容积率、现状）、所属集中连片区块和排查状态。属性 year 为评价年度，可用参数 year 选择（默认最近年度）。 / Industrial land parcels with the year's low-efficiency assessment, cluster and survey state."
        case .clusters:
            "年度低效用地地块的集中连片（间距不超过 20 米的相邻低效地块连成一片），面积达到阈值的为整治候选；low_efficiency_share 为其所在连片区块（全部地块）的低效占比；几何为连片外轮廓。 / Contiguous clusters of the year's low-efficiency parcels (renewal candidates above the area threshold); low_efficiency_share is that of the block of all parcels around it; the geometry is the cluster's outline."
        }
    }

    /// Query parameters of /items besides the common ones.
    var extraParameters: [String] {
        switch self {
        case .parcels: ["town", "block"]
        case .clusters: []
        }
    }

    /// (name, JSON type, Chinese title) of the feature properties, in output order.
    var fields: [(name: String, type: String, title: String)] {
        switch self {
        case .parcels:
            [("parcel_id", "string", "地块编号"), ("town", "string", "所属镇街"), ("block", "string", "区块"),
             ("owner_credit_code", "string", "权利人统一社会信用代码"), ("registered_mu", "number", "登记面积（亩）"),
             ("area_mu", "number", "图形面积（亩，CGCS2000 高斯-克吕格投影计算）"), ("area_mismatch", "boolean", "面积与登记面积差异超限"),
             ("land_use", "string", "用途"), ("far", "number", "容积率"), ("status", "string", "现状（在用/闲置/在建）"),
             ("year", "integer", "评价年度"), ("low_efficiency", "boolean", "低效用地"),
             ("low_efficiency_reasons", "string", "低效认定理由（以“；”分隔）"), ("tax_per_mu", "number", "亩均税收（万元/亩）"),
             ("occupant_class", "string", "主要用地企业评价类别"), ("cluster", "integer", "低效集中连片编号"),
             ("candidate", "boolean", "所在连片为整治候选"), ("survey_state", "string", "排查状态（submitted/confirmed/returned）")]
        case .clusters:
            [("number", "integer", "集中连片编号"), ("year", "integer", "评价年度"), ("area_mu", "number", "总面积（亩）"),
             ("parcels", "integer", "地块数"), ("towns", "string", "涉及镇街（以“；”分隔）"), ("blocks", "string", "涉及区块（以“；”分隔）"),
             ("low_efficiency_share", "number", "所在连片区块的低效用地面积占比（0–1）"), ("candidate", "boolean", "整治候选")]
        }
    }
}

/// The query string, parsed once: parameter names are checked against what an operation
/// accepts (400 on unknown or repeated ones).
struct OGCQuery {
    private(set) var pairs: [(name: String, value: String)] = []

    init(_ req: Request) throws {
        guard let q = req.url.query, !q.isEmpty else { return }
        for part in q.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) throws -> String {
                let plus = s.replacingOccurrences(of: "+", with: " ")
                guard let d = plus.removingPercentEncoding else {
                    throw Abort(.badRequest, reason: "查询参数编码无效 / malformed percent-encoding in the query: \(s)")
                }
                return d
            }
            let pair = (try decode(kv[0]), kv.count > 1 ? try decode(kv[1]) : "")
            guard pair.0.count <= 100, pair.1.count <= 1000 else {
                throw Abort(.badRequest, reason: "查询参数过长 / a query parameter is too long")
            }
            pairs.append(pair)
            guard pairs.count <= QueryItems.maxItems else {
                throw Abort(.badRequest, reason: "查询参数过多 / too many query parameters")
            }
        }
    }

    /// 400 for a parameter not in `allowed` or given twice.
    func check(_ allowed: [String]) throws {
        var seen = Set<String>()
        for (name, _) in pairs {
            guard allowed.contains(name) else {
                throw Abort(.badRequest, reason: "未知的查询参数 \(name)（可用：\(allowed.joined(separator: "、"))）/ unknown query parameter \"\(name)\" (allowed: \(allowed.joined(separator: ", ")))")
            }
            guard seen.insert(name).inserted else {
                throw Abort(.badRequest, reason: "查询参数 \(name) 重复 / query parameter \"\(name)\" given more than once")
            }
        }
    }

    subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// 400 unless `f` is absent, json or geojson.
    func checkFormat() throws {
        guard let f = self["f"] else { return }
        guard ["json", "geojson"].contains(f.lowercased()) else {
            throw Abort(.badRequest, reason: "不支持的格式 f=\(f)（只提供 f=json）/ unsupported format f=\(f) (only f=json)")
        }
    }
}

