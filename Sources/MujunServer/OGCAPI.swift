import Foundation
import Vapor
import SQLKit
import FluentKit
import MujunCore
import MujunStore

// OGC API - Features at /ogc: Part 1 Core + GeoJSON + OpenAPI 3.0, Part 2 CRS by Reference.
//
// Two collections: `parcels` (地块, with the year's low-efficiency assessment) and `clusters`
// (集中连片, their outlines). Everything is filtered by the reader's jurisdiction exactly as
// the map is (`req.store`). GIS clients authenticate with `Authorization: Bearer <token>`
// (GDAL: `--config GDAL_HTTP_HEADERS "Authorization: Bearer …"`).
//
// Coordinates are written in the requested `crs` (default CRS84) in the axis order the CRS
// defines (Part 2): CRS84 longitude, latitude; EPSG:4326 and EPSG:4490 latitude, longitude;
// EPSG:4549 northing, easting (as PROJ's database declares it). Item pages are written
// straight into a byte buffer with a pooled PROJ reprojector: the whole demo city
// (~8,500 parcels) answers in a fraction of a second.

extension RouteAccess {
    /// OGC API - Features at /ogc.
    static let ogcRoutes: [(HTTPMethod, String, Requirement)] = [
        (.GET, "/ogc", .permission(.viewLand)),
        (.GET, "/ogc/api", .permission(.viewLand)),
        (.GET, "/ogc/api.html", .permission(.viewLand)),
        (.GET, "/ogc/conformance", .permission(.viewLand)),
        (.GET, "/ogc/collections", .permission(.viewLand)),
        (.GET, "/ogc/collections/:collectionId", .permission(.viewLand)),
        (.GET, "/ogc/collections/:collectionId/schema", .permission(.viewLand)),
        (.GET, "/ogc/collections/:collectionId/items", .permission(.viewLand)),
        (.GET, "/ogc/collections/:collectionId/items/:featureId", .permission(.viewLand)),
    ]
}

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
        case .clusters: "集中连片区块"
        }
    }

    var description: String {
        switch self {
        case .parcels:
            "工业用地地块及其年度低效用地认定（亩均税收、用地企业评价类别、容积率、现状）、所属集中连片区块和排查状态。属性 year 为评价年度，可用参数 year 选择（默认最近年度）。 / Industrial land parcels with the year's low-efficiency assessment, cluster and survey state."
        case .clusters:
            "集中连片区块（间距不超过 20 米的相邻地块连成一片），面积达到阈值的为整治候选；几何为区块外轮廓。 / Contiguous clusters of parcels (renewal candidates above the area threshold); the geometry is the cluster's outline."
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
             ("occupant_class", "string", "主要用地企业评价类别"), ("cluster", "integer", "集中连片编号"),
             ("candidate", "boolean", "所在连片为整治候选"), ("survey_state", "string", "排查状态（submitted/confirmed/returned）")]
        case .clusters:
            [("number", "integer", "集中连片编号"), ("year", "integer", "评价年度"), ("area_mu", "number", "总面积（亩）"),
             ("parcels", "integer", "地块数"), ("towns", "string", "涉及镇街（以“；”分隔）"), ("blocks", "string", "涉及区块（以“；”分隔）"),
             ("low_efficiency_share", "number", "低效用地面积占比（0–1）"), ("candidate", "boolean", "整治候选")]
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
            pairs.append((try decode(kv[0]), kv.count > 1 ? try decode(kv[1]) : ""))
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

/// Error answers of /ogc as OGC exception JSON (`code`, `description`).
struct OGCErrorMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let (status, reason, headers) = ErrorPageMiddleware.answer(error, request)
            return OGCErrorMiddleware.exception(status, reason, headers: headers)
        }
    }

    static func exception(_ status: HTTPResponseStatus, _ description: String, headers: HTTPHeaders = [:]) -> Response {
        let code: String
        switch status.code {
        case 400: code = "InvalidParameterValue"
        case 401: code = "Unauthorized"
        case 403: code = "Forbidden"
        case 404: code = "NotFound"
        default: code = status.code >= 500 ? "ServerError" : "NoApplicableCode"
        }
        var h = headers
        h.replaceOrAdd(name: .contentType, value: "application/json; charset=utf-8")
        let body = (try? JSONSerialization.data(withJSONObject: ["code": code, "description": description, "status": Int(status.code)],
                                                options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: h, body: .init(data: body))
    }
}

struct OGCController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let ogc = routes.grouped("ogc").grouped(OGCErrorMiddleware())
        ogc.get(use: landing)
        ogc.get("api", use: api)
        ogc.get("api.html", use: apiPage)
        ogc.get("conformance", use: conformance)
        ogc.get("collections", use: collections)
        ogc.get("collections", ":collectionId", use: collection)
        ogc.get("collections", ":collectionId", "schema", use: schema)
        ogc.get("collections", ":collectionId", "items", use: items)
        ogc.get("collections", ":collectionId", "items", ":featureId", use: item)
    }

    // MARK: - Helpers

    /// The service's root URL as the client reached it (links must be absolute: GDAL resolves
    /// a relative `href` against the root it was given).
    static func root(_ req: Request) -> String {
        func clean(_ s: String?) -> String? {
            guard let s = s?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces), !s.isEmpty,
                  s.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-:[]_".unicodeScalars.contains($0)) })
            else { return nil }
            return s
        }
        let proto = clean(req.headers.first(name: "X-Forwarded-Proto")).flatMap { ["http", "https"].contains($0.lowercased()) ? $0.lowercased() : nil } ?? "http"
        let host = clean(req.headers.first(name: "X-Forwarded-Host")) ?? clean(req.headers.first(name: .host)) ?? "127.0.0.1:8080"
        return "\(proto)://\(host)/ogc"
    }

    static func link(_ href: String, _ rel: String, _ type: String, _ title: String) -> [String: Any] {
        ["href": href, "rel": rel, "type": type, "title": title]
    }

    static func jsonResponse(_ object: Any, contentType: String = "application/json; charset=utf-8") throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: .ok, headers: ["Content-Type": contentType], body: .init(data: data))
    }

    static func collectionParameter(_ req: Request) throws -> OGCCollection {
        let id = req.parameters.get("collectionId") ?? ""
        guard let c = OGCCollection(rawValue: id) else {
            throw Abort(.notFound, reason: "没有集合 \(id)（可用：parcels、clusters）/ no collection \"\(id)\" (parcels, clusters)")
        }
        return c
    }

    static func percent(_ s: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:,")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    // MARK: - Landing page, API, conformance

    func landing(req: Request) async throws -> Response {
        let q = try OGCQuery(req)
        try q.check(["f"]); try q.checkFormat()
        let root = Self.root(req)
        return try Self.jsonResponse([
            "title": "亩均 Mujun 工业用地 OGC API - Features",
            "description": "工业用地地块、低效用地认定与集中连片区块，按用户的管辖范围过滤。请求须带 Authorization: Bearer 令牌。 / Industrial land parcels, low-efficiency assessment and contiguous clusters, filtered to the user's jurisdiction.",
            "links": [
                Self.link(root, "self", OGC.json, "本页 / this document"),
                Self.link(root + "/api", "service-desc", OGC.openAPI, "OpenAPI 3.0 接口定义 / the API definition"),
                Self.link(root + "/api.html", "service-doc", OGC.html, "接口说明 / the API documentation"),
                Self.link(root + "/conformance", "conformance", OGC.json, "符合的标准类 / conformance classes"),
                Self.link(root + "/collections", "data", OGC.json, "数据集合 / the collections"),
            ],
        ])
    }

    func conformance(req: Request) async throws -> Response {
        let q = try OGCQuery(req)
        try q.check(["f"]); try q.checkFormat()
        return try Self.jsonResponse([
            "conformsTo": OGC.conformance,
            "links": [Self.link(Self.root(req) + "/conformance", "self", OGC.json, "本页 / this document")],
        ])
    }

    func api(req: Request) async throws -> Response {
        let q = try OGCQuery(req)
        try q.check(["f"]); try q.checkFormat()
        return try Self.jsonResponse(OGCOpenAPI.document(root: Self.root(req)), contentType: OGC.openAPI + ";charset=utf-8")
    }

    func apiPage(req: Request) async throws -> Response {
        try OGCQuery(req).check([])
        let root = HTML.escape(Self.root(req))
        func rows(_ c: OGCCollection) -> String {
            c.fields.map { "<tr><td><code>\($0.name)</code></td><td>\($0.type)</td><td>\(HTML.escape($0.title))</td></tr>" }.joined()
        }
        return HTML.page(title: "OGC API - Features 接口说明", body: """
            <section class="card"><h2>OGC API - Features 接口说明</h2>
            <p>本服务按 OGC API - Features 第 1 部分（核心、GeoJSON、OpenAPI 3.0）和第 2 部分（按引用的坐标参考系）提供工业用地数据，
            数据按用户的管辖范围过滤。GIS 软件用 API 令牌访问：请求头 <code>Authorization: Bearer 令牌</code>。</p>
            <ul>
            <li>起始页：<a href="\(root)"><code>\(root)</code></a>；OpenAPI 定义：<a href="\(root)/api"><code>\(root)/api</code></a></li>
            <li>集合：<code>\(root)/collections</code>（<code>parcels</code> 地块，<code>clusters</code> 集中连片）</li>
            <li>要素：<code>\(root)/collections/{parcels|clusters}/items?bbox=…&amp;bbox-crs=…&amp;crs=…&amp;limit=…&amp;offset=…&amp;year=…</code>；地块另有 <code>town</code>、<code>block</code></li>
            <li>单个要素：<code>\(root)/collections/parcels/items/{地块编号}</code>、<code>\(root)/collections/clusters/items/{编号}</code></li>
            <li>坐标参考系（<code>crs</code>、<code>bbox-crs</code>）：\(OGC.crsList.map { "<code>\($0.uri)</code>（\(HTML.escape($0.title))）" }.joined(separator: "、"))；
            默认 CRS84（经度在前），EPSG:4326/4490 纬度在前，EPSG:4549 北坐标在前（均按 EPSG 定义的轴序）。存储坐标系 EPSG:4549。</li>
            <li><code>limit</code> 默认 \(OGC.defaultLimit)，最大 \(OGC.maxLimit)（更大的值按 \(OGC.maxLimit) 处理）。未知参数返回 400。</li>
            </ul>
            <p>GDAL：<code>ogrinfo --config GDAL_HTTP_HEADERS "Authorization: Bearer 令牌" -so OAPIF:\(root) parcels</code></p>
            <h3>地块属性 parcels</h3><table><tr><th>属性</th><th>类型</th><th>含义</th></tr>\(rows(.parcels))</table>
            <h3>集中连片属性 clusters</h3><table><tr><th>属性</th><th>类型</th><th>含义</th></tr>\(rows(.clusters))</table>
            </section>
            """)
    }

    // MARK: - Collections

    func collections(req: Request) async throws -> Response {
        let q = try OGCQuery(req)
        try q.check(["f"]); try q.checkFormat()
        let root = Self.root(req)
        var list: [[String: Any]] = []
        for c in OGCCollection.allCases { list.append(try await Self.describe(c, req: req, root: root)) }
        return try Self.jsonResponse([
            "collections": list,
            "crs": OGC.crsList.map(\.uri),
            "links": [Self.link(root + "/collections", "self", OGC.json, "本页 / this document")],
        ])
    }

    func collection(req: Request) async throws -> Response {
        let c = try Self.collectionParameter(req)
        let q = try OGCQuery(req)
        try q.check(["f"]); try q.checkFormat()
        return try Self.jsonResponse(try await Self.describe(c, req: req, root: Self.root(req)))
    }

    static func describe(_ c: OGCCollection, req: Request, root: String) async throws -> [String: Any] {
        let base = root + "/collections/" + c.rawValue
        var extent: [String: Any] = [:]
        let years = try await req.store.landYears()
        if let box = try await Self.extent(c, req: req, year: years.first) {
            let geo = try Reprojector.withPooled(from: .working, to: .crs84) { try $0.transform(box) }
            func r(_ v: Double) -> Double { (v * 1e6).rounded() / 1e6 }
            extent["spatial"] = ["bbox": [[r(geo.minX), r(geo.minY), r(geo.maxX), r(geo.maxY)]], "crs": CRSName.crs84.uri]
        }
        if let first = years.last, let last = years.first {
            extent["temporal"] = ["interval": [["\(first)-01-01T00:00:00Z", "\(last)-12-31T23:59:59Z"]],
                                  "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"]
        }
        var out: [String: Any] = [
            "id": c.rawValue,
            "title": c.title,
            "description": c.description,
            "itemType": "feature",
            "crs": OGC.crsList.map(\.uri),
            "storageCrs": OGC.storageCRS.uri,
            "links": [
                link(base, "self", OGC.json, "本集合 / this collection"),
                link(base + "/items", "items", OGC.geoJSON, "\(c.title)（GeoJSON）/ the features"),
                link(base + "/schema", "describedBy", OGC.schemaJSON, "要素属性的 JSON Schema / the feature schema"),
            ],
        ]
        if !extent.isEmpty { out["extent"] = extent }
        return out
    }

    /// The EPSG:4549 box of what the reader may see of a collection, nil when nothing.
    /// (The same scope rules as `Store.parcels` and `Store.clusters`, as an aggregate.)
    static func extent(_ c: OGCCollection, req: Request, year: Int?) async throws -> BBox? {
        struct Row: Decodable { var minx: Double?; var miny: Double?; var maxx: Double?; var maxy: Double? }
        let sql = req.store.sql
        let scope = req.scope
        var q = sql.select()
        for (fn, col) in [("MIN", "minx"), ("MIN", "miny"), ("MAX", "maxx"), ("MAX", "maxy")] {
            q = q.column(SQLFunction(fn, args: SQLColumn(col)), as: col)
        }
        switch c {
        case .parcels:
            q = q.from("parcels")
            switch scope {
            case .all: break
            case .none: q = q.where(SQLLiteral.boolean(false))
            case .town(let t): q = q.where("town", .equal, SQLBind(t))
            case .enterprise(let code):
                q = q.where(SQLQueryString("(owner_credit_code = \(bind: code) OR parcel_id IN (SELECT parcel_id FROM land_use WHERE credit_code = \(bind: code)))"))
            }
        case .clusters:
            guard let year else { return nil }
            q = q.from("land_clusters").where("year", .equal, SQLBind(year))
            switch scope {
            case .all: break
            case .none: q = q.where(SQLLiteral.boolean(false))
            case .town(let t):
                q = q.where(SQLQueryString("number IN (SELECT cluster FROM parcel_assessments WHERE year = \(bind: year) AND town = \(bind: t))"))
            case .enterprise(let code):
                q = q.where(SQLQueryString("""
                    number IN (SELECT a.cluster FROM parcel_assessments a JOIN parcels p ON p.parcel_id = a.parcel_id \
                    WHERE a.year = \(bind: year) AND (p.owner_credit_code = \(bind: code) OR p.parcel_id IN (SELECT parcel_id FROM land_use WHERE credit_code = \(bind: code))))
                    """))
            }
        }
        guard let r = try await q.first(decoding: Row.self), let a = r.minx, let b = r.miny, let x = r.maxx, let y = r.maxy else { return nil }
        return BBox(minX: a, minY: b, maxX: x, maxY: y)
    }

    /// JSON Schema of a feature (GDAL takes its field types from it: `describedBy`). Written
    /// by hand so that the properties keep their order (GDAL lists the fields in it).
    func schema(req: Request) async throws -> Response {
        let c = try Self.collectionParameter(req)
        let q = try OGCQuery(req)
        try q.check(["f"]); try q.checkFormat()
        var out = [UInt8]()
        out.ogcPut("{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"$id\":")
        out.ogcString(Self.root(req) + "/collections/\(c.rawValue)/schema")
        out.ogcPut(",\"title\":"); out.ogcString(c.title)
        out.ogcPut(",\"type\":\"object\",\"required\":[\"type\",\"geometry\",\"properties\"],\"properties\":{")
        out.ogcPut("\"type\":{\"type\":\"string\",\"enum\":[\"Feature\"]},")
        out.ogcPut("\"id\":{\"type\":\"\(c == .parcels ? "string" : "integer")\"},")
        out.ogcPut("\"geometry\":{\"type\":\"object\",\"description\":\"Polygon / MultiPolygon\"},")
        out.ogcPut("\"properties\":{\"type\":\"object\",\"properties\":{")
        for (i, f) in c.fields.enumerated() {
            if i > 0 { out.ogcPut(",") }
            out.ogcString(f.name)
            out.ogcPut(":{\"type\":\"\(f.type)\",\"title\":"); out.ogcString(f.title); out.ogcPut("}")
        }
        out.ogcPut("}}}}\n")
        return Response(status: .ok, headers: ["Content-Type": OGC.schemaJSON + "; charset=utf-8"],
                        body: .init(buffer: req.byteBufferAllocator.buffer(bytes: out)))
    }

    // MARK: - Items

    /// The year the properties are for: nil when nothing was assessed; `empty` when
    /// `datetime` selects no assessed year.
    struct YearChoice { var year: Int?; var empty: Bool }

    /// The land revision, the assessed years (newest first) and the number of parcels: the
    /// years and count are kept per revision.
    static func landInfo(_ req: Request) async throws -> (revision: Int64, years: [Int], parcels: Int) {
        let store = req.fullStore
        let revision = try await store.landRevision()
        let (years, parcels) = try await req.application.ogcParcelCache.landInfo(revision: revision) {
            (try await store.landYears(), try await store.parcelCount(Store.ParcelFilter()))
        }
        return (revision, years, parcels)
    }

    static func year(_ q: OGCQuery, req: Request) async throws -> YearChoice {
        try year(q, years: try await landInfo(req).years)
    }

    static func year(_ q: OGCQuery, years: [Int]) throws -> YearChoice {
        let available = years.isEmpty ? "无 / none" : years.map(String.init).joined(separator: ", ")
        if let text = q["year"] {
            guard q["datetime"] == nil else {
                throw Abort(.badRequest, reason: "year 与 datetime 只能给一个 / give year or datetime, not both")
            }
            guard let y = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw Abort(.badRequest, reason: "year 应为年份 / year must be a year: \(text)")
            }
            guard years.contains(y) else {
                throw Abort(.badRequest, reason: "\(y) 年度没有用地评价（已有：\(available)）/ no land assessment for \(y) (available: \(available))")
            }
            return YearChoice(year: y, empty: false)
        }
        if let dt = q["datetime"] {
            let range = try Self.datetimeYears(dt)
            guard let y = years.first(where: { range.contains($0) }) else { return YearChoice(year: nil, empty: true) }
            return YearChoice(year: y, empty: false)
        }
        return YearChoice(year: years.first, empty: false)
    }

    /// The years a `datetime` instant or interval (RFC 3339, `..` open) covers.
    static func datetimeYears(_ text: String) throws -> ClosedRange<Int> {
        func bad() -> Abort {
            Abort(.badRequest, reason: "datetime 应为 RFC 3339 日期/时间或区间，如 2025-06-30 或 2024-01-01T00:00:00Z/.. / datetime must be an RFC 3339 instant or interval: \(text)")
        }
        func year(_ s: Substring) throws -> Int? {
            let s = s.trimmingCharacters(in: .whitespaces)
            if s.isEmpty || s == ".." { return nil }
            guard s.range(of: #"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?)?$"#, options: .regularExpression) != nil,
                  let y = Int(s.prefix(4)) else { throw bad() }
            return y
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let y = try year(parts[0]) else { throw bad() }
            return y...y
        case 2:
            let lo = try year(parts[0]), hi = try year(parts[1])
            if lo == nil && hi == nil { throw bad() }
            guard (lo ?? Int.min) <= (hi ?? Int.max) else { throw bad() }
            return (lo ?? Int.min)...(hi ?? Int.max)
        default:
            throw bad()
        }
    }

    static func limit(_ q: OGCQuery) throws -> Int {
        guard let text = q["limit"] else { return OGC.defaultLimit }
        guard let n = Int(text), n >= 1 else {
            throw Abort(.badRequest, reason: "limit 应为 1 到 \(OGC.maxLimit) 的整数 / limit must be an integer from 1 to \(OGC.maxLimit): \(text)")
        }
        return min(n, OGC.maxLimit)
    }

    static func offset(_ q: OGCQuery) throws -> Int {
        guard let text = q["offset"] else { return 0 }
        guard let n = Int(text), n >= 0 else {
            throw Abort(.badRequest, reason: "offset 应为非负整数 / offset must be a non-negative integer: \(text)")
        }
        return n
    }

    /// The requested `bbox` as an EPSG:4549 box: nil = none given, `.some(nil)` = it holds
    /// nothing of the working area (no feature can match).
    static func bbox(_ q: OGCQuery) throws -> BBox?? {
        let bboxCRS = try q["bbox-crs"].map { try OGC.crs($0, parameter: "bbox-crs") } ?? .crs84
        guard let text = q["bbox"] else { return nil }
        let numbers = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { Double($0.trimmingCharacters(in: .whitespaces)) }
        func bad(_ why: String) -> Abort {
            Abort(.badRequest, reason: "bbox 无效：\(why)。应为 4 个数 minx,miny,maxx,maxy（按 bbox-crs 的轴序，默认 CRS84 经度,纬度）/ invalid bbox \"\(text)\": \(why)")
        }
        guard numbers.count == 4 || numbers.count == 6 else { throw bad("应为 4 个数 / expected 4 numbers") }
        guard numbers.allSatisfy({ $0?.isFinite == true }) else { throw bad("含非数字 / not all numbers") }
        let v = numbers.map { $0! }
        let (a, b, c, d) = v.count == 4 ? (v[0], v[1], v[2], v[3]) : (v[0], v[1], v[3], v[4])
        guard a <= c, b <= d else { throw bad("下界大于上界 / a lower corner above the upper one") }
        let axes = OGC.axes(bboxCRS)
        if bboxCRS.isGeographic {
            let (lonLo, lonHi, latLo, latHi) = axes == .authority ? (b, d, a, c) : (a, c, b, d)
            guard lonLo >= -180, lonHi <= 180, latLo >= -90, latHi <= 90 else {
                throw bad("经纬度超出范围（注意 \(bboxCRS.code) 的轴序\(axes == .authority ? "为纬度在前" : "为经度在前")）/ coordinates out of range")
            }
        }
        let box = BBox(minX: a, minY: b, maxX: c, maxY: d)
        if bboxCRS == .working {
            return .some(axes == .authority ? BBox(minX: b, minY: a, maxX: d, maxY: c) : box)
        }
        // Clip to the working area (where parcels can be) before reprojecting, so that a box
        // around the whole world does not reach coordinates PROJ cannot take to EPSG:4549.
        do {
            let area = try Reprojector.withPooled(from: .working, to: bboxCRS, sourceAxes: .xy, targetAxes: axes) {
                try $0.transform(Projection.workingArea)
            }
            let clipped = BBox(minX: max(box.minX, area.minX), minY: max(box.minY, area.minY),
                               maxX: min(box.maxX, area.maxX), maxY: min(box.maxY, area.maxY))
            guard clipped.minX <= clipped.maxX, clipped.minY <= clipped.maxY else { return .some(nil) }
            return .some(try Reprojector.withPooled(from: bboxCRS, to: .working, sourceAxes: axes, targetAxes: .xy) {
                try $0.transform(clipped)
            })
        } catch let e as ProjectionError {
            throw bad(e.description)
        }
    }

    func items(req: Request) async throws -> Response {
        let c = try Self.collectionParameter(req)
        let q = try OGCQuery(req)
        try q.check(["f", "bbox", "bbox-crs", "crs", "limit", "offset", "year", "datetime"] + c.extraParameters)
        try q.checkFormat()
        let crs = try q["crs"].map { try OGC.crs($0, parameter: "crs") } ?? .crs84
        let limit = try Self.limit(q)
        let offset = try Self.offset(q)
        let bbox = try Self.bbox(q)
        let info = try await Self.landInfo(req)
        let choice = try Self.year(q, years: info.years)
        let nothing = choice.empty || (bbox.map { $0 == nil } ?? false)
        let box: BBox? = bbox ?? nil

        var total = 0
        var returned = 0
        let axes = OGC.axes(crs)
        var features = [UInt8]()
        /// the page from a snapshot: its features by index
        var page: (snapshot: OGCParcelSnapshot, indexes: ArraySlice<Int>)?
        switch c {
        case .parcels:
            if let snapshot = try await Self.parcelSnapshot(req, info: info, year: choice.year, crs: crs) {
                var indexes: [Int] = []
                if !nothing, let town = Self.townFilter(scope: req.scope, town: q["town"]) {
                    indexes = snapshot.matching(town: town, block: q["block"], bbox: box)
                }
                total = indexes.count
                let slice = offset < total ? indexes[offset..<min(total, offset + limit)] : []
                returned = slice.count
                page = (snapshot, slice)
                break
            }
            var rows: [OGCParcel] = []
            if !nothing {
                let f = Store.ParcelFilter(year: choice.year, bbox: box, town: q["town"], block: q["block"])
                (rows, total) = try await OGCParcel.read(f, req: req, limit: limit, offset: offset)
            }
            let year = choice.year
            features = try await Self.write(rows, crs: crs, axes: axes) { r, p, out in
                try Self.writeParcel(r, year: year, projector: p, to: &out)
            }
            returned = rows.count
        case .clusters:
            var rows: [Store.ClusterRow] = []
            if !nothing, let y = choice.year {
                (rows, total) = try await req.store.clusters(year: y, bbox: box, limit: limit, offset: offset)
            }
            features = try await Self.write(rows, crs: crs, axes: axes) { r, p, out in
                try Self.writeCluster(r, projector: p, to: &out)
            }
            returned = rows.count
        }

        // links: the same query with another offset
        let base = Self.root(req) + "/collections/\(c.rawValue)/items"
        func href(offset o: Int) -> String {
            var parts = q.pairs.filter { $0.name != "offset" && $0.name != "limit" }.map { "\(Self.percent($0.name))=\(Self.percent($0.value))" }
            parts.append("limit=\(limit)")
            if o > 0 { parts.append("offset=\(o)") }
            return base + "?" + parts.joined(separator: "&")
        }
        var links: [(String, String, String)] = [(href(offset: offset), "self", "本页 / this page")]
        if offset + returned < total { links.append((href(offset: offset + limit), "next", "下一页 / next page")) }
        if offset > 0 { links.append((href(offset: max(0, offset - limit)), "prev", "上一页 / previous page")) }
        links.append((Self.root(req) + "/collections/\(c.rawValue)", "collection", "集合 / the collection"))

        var head = [UInt8]()
        head.ogcPut("{\"type\":\"FeatureCollection\",\"numberMatched\":\(total),\"numberReturned\":\(returned),\"timeStamp\":")
        head.ogcString(Date().formatted(.iso8601))
        head.ogcPut(",\"links\":[")
        for (i, l) in links.enumerated() {
            if i > 0 { head.ogcPut(",") }
            head.ogcPut("{\"href\":"); head.ogcString(l.0)
            head.ogcPut(",\"rel\":\"\(l.1)\",\"type\":\"\(l.1 == "collection" ? OGC.json : OGC.geoJSON)\",\"title\":")
            head.ogcString(l.2); head.ogcPut("}")
        }
        head.ogcPut("],\n\"features\":[\n")
        let tail: StaticString = "\n]}\n"
        var body: ByteBuffer
        if let (snapshot, indexes) = page {
            let size = indexes.reduce(0) { $0 + snapshot.offsets[$1 + 1] - snapshot.offsets[$1] + 2 }
            body = req.byteBufferAllocator.buffer(capacity: head.count + size + tail.utf8CodeUnitCount)
            body.writeBytes(head)
            snapshot.bytes.withUnsafeBytes { all in
                for (n, i) in indexes.enumerated() {
                    if n > 0 { body.writeStaticString(",\n") }
                    body.writeBytes(UnsafeRawBufferPointer(rebasing: all[snapshot.offsets[i]..<snapshot.offsets[i + 1]]))
                }
            }
        } else {
            body = req.byteBufferAllocator.buffer(capacity: head.count + features.count + tail.utf8CodeUnitCount)
            body.writeBytes(head)
            body.writeBytes(features)
        }
        body.writeStaticString(tail)
        return Self.geoJSONResponse(body, crs: crs)
    }

    /// The town a reader's page is limited to: `.some(nil)` any town, `.some(t)` town `t`,
    /// nil nothing (no scope, or a `town` parameter outside the reader's own town).
    static func townFilter(scope: DataScope, town: String?) -> String?? {
        let asked = town.flatMap { $0.isEmpty ? nil : $0 }
        switch scope {
        case .all: return .some(asked)
        case .town(let t): return asked == nil || asked == t ? .some(t) : nil
        case .none, .enterprise: return nil
        }
    }

    /// The year's parcels serialized in `crs`, when the cache serves this reader: every scope
    /// but an enterprise's (which depends on who occupies what), and while the collection fits
    /// the cache's budget (about 1 KB a feature is assumed before building).
    static func parcelSnapshot(_ req: Request, info: (revision: Int64, years: [Int], parcels: Int), year: Int?,
                               crs: CRSName) async throws -> OGCParcelSnapshot? {
        let cache = req.application.ogcParcelCache
        if case .enterprise = req.scope { return nil }
        guard cache.enabled, info.parcels * 1_024 <= cache.budget else { return nil }
        let db = req.db
        let logger = req.logger
        return try await cache.snapshot(.init(revision: info.revision, year: year, crs: crs), estimate: info.parcels * 1_024) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let snapshot = try await Self.buildParcelSnapshot(db: db, revision: info.revision, year: year, crs: crs)
            logger.info("ogc: \(snapshot.count) parcels of \(year.map(String.init) ?? "-") in \(crs.code) serialized in \((DispatchTime.now().uptimeNanoseconds - t0) / 1_000_000) ms (\(snapshot.bytes.count / 1024) KB, land revision \(info.revision))")
            return snapshot
        }
    }

    /// Reads every parcel with the year's assessment and writes each feature, on every core.
    static func buildParcelSnapshot(db: any Database, revision: Int64, year: Int?, crs: CRSName) async throws -> OGCParcelSnapshot {
        let rows = try await OGCParcel.read(Store.ParcelFilter(year: year), store: Store(db), limit: Int(Int32.max), offset: 0).rows
        let axes = OGC.axes(crs)
        let n = rows.count
        let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, n / 500))
        let pieces = try await withThrowingTaskGroup(of: (Int, [UInt8], [Int]).self) { group in
            for k in 0..<parts {
                let part = rows[(k * n / parts)..<((k + 1) * n / parts)]
                group.addTask {
                    var out = [UInt8]()
                    out.reserveCapacity(part.count * 800)
                    var ends: [Int] = []
                    ends.reserveCapacity(part.count)
                    try Reprojector.withPooled(from: .working, to: crs, sourceAxes: .xy, targetAxes: axes) { p in
                        for r in part {
                            try Self.writeParcel(r, year: year, projector: p, to: &out)
                            ends.append(out.count)
                        }
                    }
                    return (k, out, ends)
                }
            }
            var pieces = [([UInt8], [Int])](repeating: ([], []), count: parts)
            for try await (k, bytes, ends) in group { pieces[k] = (bytes, ends) }
            return pieces
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(pieces.reduce(0) { $0 + $1.0.count })
        var offsets = [0]
        offsets.reserveCapacity(n + 1)
        for (piece, ends) in pieces {
            let base = bytes.count
            bytes += piece
            for e in ends { offsets.append(base + e) }
        }
        var names: [String] = []
        var index: [String: Int32] = [:]
        func id(_ s: String?) -> Int32 {
            guard let s else { return -1 }
            if let i = index[s] { return i }
            let i = Int32(names.count)
            names.append(s); index[s] = i
            return i
        }
        return OGCParcelSnapshot(revision: revision, year: year, crs: crs,
                                 town: rows.map { id($0.town) }, block: rows.map { id($0.block) }, names: names,
                                 minX: rows.map(\.bbox.minX), minY: rows.map(\.bbox.minY), maxX: rows.map(\.bbox.maxX), maxY: rows.map(\.bbox.maxY),
                                 bytes: bytes, offsets: offsets)
    }

    /// The features of `rows`, comma-separated, written by `write` in `crs`: in parallel
    /// slices (each with its own pooled reprojector) when there are many.
    static func write<T: Sendable>(_ rows: [T], crs: CRSName, axes: AxisOrder,
                                   _ write: @escaping @Sendable (T, Reprojector, inout [UInt8]) throws -> Void) async throws -> [UInt8] {
        @Sendable func slice(_ part: ArraySlice<T>) throws -> [UInt8] {
            var out = [UInt8]()
            out.reserveCapacity(part.count * 800)
            try Reprojector.withPooled(from: .working, to: crs, sourceAxes: .xy, targetAxes: axes) { p in
                for (i, r) in part.enumerated() {
                    if i > 0 { out.ogcPut(",\n") }
                    try write(r, p, &out)
                }
            }
            return out
        }
        let n = rows.count
        let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, n / 500))
        if parts == 1 { return try slice(rows[...]) }
        let pieces = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for k in 0..<parts {
                let part = rows[(k * n / parts)..<((k + 1) * n / parts)]
                group.addTask { (k, try slice(part)) }
            }
            var pieces = [[UInt8]](repeating: [], count: parts)
            for try await (k, bytes) in group { pieces[k] = bytes }
            return pieces
        }
        var out = [UInt8]()
        out.reserveCapacity(pieces.reduce(0) { $0 + $1.count + 2 })
        for (k, piece) in pieces.enumerated() {
            if k > 0 { out.ogcPut(",\n") }
            out.append(contentsOf: piece)
        }
        return out
    }

    static func geoJSONResponse(_ bytes: [UInt8], crs: CRSName, req: Request) -> Response {
        geoJSONResponse(req.byteBufferAllocator.buffer(bytes: bytes), crs: crs)
    }

    static func geoJSONResponse(_ body: ByteBuffer, crs: CRSName) -> Response {
        let headers: HTTPHeaders = ["Content-Type": OGC.geoJSON + "; charset=utf-8", "Content-Crs": "<\(crs.uri)>"]
        return Response(status: .ok, headers: headers, body: .init(buffer: body))
    }

    func item(req: Request) async throws -> Response {
        let c = try Self.collectionParameter(req)
        let q = try OGCQuery(req)
        try q.check(["f", "crs", "year", "datetime"])
        try q.checkFormat()
        let crs = try q["crs"].map { try OGC.crs($0, parameter: "crs") } ?? .crs84
        let id = req.parameters.get("featureId") ?? ""
        let choice = try await Self.year(q, req: req)
        let notFound = Abort(.notFound, reason: "集合 \(c.rawValue) 中没有要素 \(id)，或不在您的管辖范围内 / no feature \"\(id)\" in \(c.rawValue) (or outside your jurisdiction)")
        var feature = [UInt8]()
        let axes = OGC.axes(crs)
        switch c {
        case .parcels:
            let year = choice.empty ? nil : choice.year
            guard let row = try await OGCParcel.read(Store.ParcelFilter(year: year, ids: [id]), req: req, limit: 1, offset: 0).rows.first
            else { throw notFound }
            try Reprojector.withPooled(from: .working, to: crs, sourceAxes: .xy, targetAxes: axes) { p in
                try Self.writeParcel(row, year: year, projector: p, to: &feature, links: Self.itemLinks(c, id, req))
            }
        case .clusters:
            guard let number = Int(id), let year = choice.year, !choice.empty,
                  let row = try await Self.cluster(number: number, year: year, req: req) else { throw notFound }
            try Reprojector.withPooled(from: .working, to: crs, sourceAxes: .xy, targetAxes: axes) { p in
                try Self.writeCluster(row, projector: p, to: &feature, links: Self.itemLinks(c, id, req))
            }
        }
        feature.ogcPut("\n")
        return Self.geoJSONResponse(feature, crs: crs, req: req)
    }

    static func itemLinks(_ c: OGCCollection, _ id: String, _ req: Request) -> [(String, String, String, String)] {
        let base = root(req) + "/collections/\(c.rawValue)"
        return [(base + "/items/" + (id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id),
                 "self", OGC.geoJSON, "本要素 / this feature"),
                (base, "collection", OGC.json, "集合 / the collection")]
    }

    /// A cluster of the year within the reader's scope (the store decides the scope: the
    /// cluster is looked up among the scoped clusters overlapping its own box).
    static func cluster(number: Int, year: Int, req: Request) async throws -> Store.ClusterRow? {
        struct Box: Decodable { var minx: Double; var miny: Double; var maxx: Double; var maxy: Double }
        guard let b = try await req.fullStore.sql.select().columns("minx", "miny", "maxx", "maxy").from("land_clusters")
            .where("year", .equal, SQLBind(year)).where("number", .equal, SQLBind(number)).first(decoding: Box.self) else { return nil }
        let box = BBox(minX: b.minx, minY: b.miny, maxX: b.maxx, maxY: b.maxy)
        return try await req.store.clusters(year: year, bbox: box).rows.first { $0.summary.number == number }
    }

    // MARK: - Writing features

    static func writeParcel(_ p: OGCParcel, year: Int?, projector: Reprojector, to out: inout [UInt8],
                            links: [(String, String, String, String)] = []) throws {
        out.ogcPut("{\"type\":\"Feature\",\"id\":")
        out.ogcString(p.id)
        out.ogcPut(",\"geometry\":")
        try ParcelGeoJSON.appendGeometry(p.geometry, projector: projector, to: &out)
        out.ogcPut(",\"properties\":{\"parcel_id\":"); out.ogcString(p.id)
        out.ogcPut(",\"town\":"); out.ogcString(p.town)
        out.ogcPut(",\"block\":"); out.ogcString(p.block)
        out.ogcPut(",\"owner_credit_code\":"); out.ogcString(p.ownerCreditCode)
        out.ogcPut(",\"registered_mu\":"); out.ogcReal(p.registeredMu)
        out.ogcPut(",\"area_mu\":"); out.ogcReal(p.areaMu)
        out.ogcPut(",\"area_mismatch\":"); out.ogcBool(p.areaMismatch)
        out.ogcPut(",\"land_use\":"); out.ogcString(p.landUse)
        out.ogcPut(",\"far\":"); out.ogcReal(p.far)
        out.ogcPut(",\"status\":"); out.ogcString(p.status?.chinese)
        out.ogcPut(",\"year\":"); out.ogcInt(p.lowEfficiency != nil ? year : nil)
        out.ogcPut(",\"low_efficiency\":"); out.ogcBool(p.lowEfficiency)
        out.ogcPut(",\"low_efficiency_reasons\":"); out.ogcString(p.reasons)
        out.ogcPut(",\"tax_per_mu\":"); out.ogcReal(p.taxPerMu)
        out.ogcPut(",\"occupant_class\":"); out.ogcString(p.occupantClass)
        out.ogcPut(",\"cluster\":"); out.ogcInt(p.cluster)
        out.ogcPut(",\"candidate\":"); out.ogcBool(p.candidate)
        out.ogcPut(",\"survey_state\":"); out.ogcString(p.surveyState)
        out.ogcPut("}")
        writeLinks(links, to: &out)
        out.ogcPut("}")
    }

    static func writeCluster(_ r: Store.ClusterRow, projector: Reprojector, to out: inout [UInt8],
                             links: [(String, String, String, String)] = []) throws {
        let s = r.summary
        out.ogcPut("{\"type\":\"Feature\",\"id\":\(s.number),\"geometry\":")
        try ParcelGeoJSON.appendGeometry(r.outline, projector: projector, to: &out)
        out.ogcPut(",\"properties\":{\"number\":\(s.number),\"year\":\(r.year),\"area_mu\":"); out.ogcReal(s.areaMu)
        out.ogcPut(",\"parcels\":\(s.count),\"towns\":"); out.ogcString(s.towns.joined(separator: "；"))
        out.ogcPut(",\"blocks\":"); out.ogcString(s.blocks.joined(separator: "；"))
        out.ogcPut(",\"low_efficiency_share\":"); out.ogcReal(s.lowEfficiencyShare)
        out.ogcPut(",\"candidate\":"); out.ogcBool(s.candidate)
        out.ogcPut("}")
        writeLinks(links, to: &out)
        out.ogcPut("}")
    }

    static func writeLinks(_ links: [(String, String, String, String)], to out: inout [UInt8]) {
        guard !links.isEmpty else { return }
        out.ogcPut(",\"links\":[")
        for (i, l) in links.enumerated() {
            if i > 0 { out.ogcPut(",") }
            out.ogcPut("{\"href\":"); out.ogcString(l.0)
            out.ogcPut(",\"rel\":"); out.ogcString(l.1)
            out.ogcPut(",\"type\":"); out.ogcString(l.2)
            out.ogcPut(",\"title\":"); out.ogcString(l.3)
            out.ogcPut("}")
        }
        out.ogcPut("]")
    }
}

// MARK: - Reading parcels

/// A parcel with the year's assessment, as the OGC API writes it.
///
/// `Store.parcels` decodes whole rows through Codable and then fetches survey states
/// separately; this reader selects the same parcels (the store's own join and WHERE clauses,
/// `Store.whereParcels`, in parcel-id order; `OGCTests` checks both agree for every scope),
/// reads the columns one by one, with the low-efficiency reasons and the latest survey state in
/// the same statement.
struct OGCParcel: Sendable {
    var id: String
    var town: String
    var block: String?
    var ownerCreditCode: String?
    var registeredMu: Double?
    var landUse: String?
    var far: Double?
    var status: ParcelStatus?
    var areaMu: Double
    var areaMismatch: Bool
    /// WKB, EPSG:4549
    var geometry: Data
    /// nil: not assessed in the year
    var lowEfficiency: Bool?
    var taxPerMu: Double?
    var occupantClass: String?
    var cluster: Int?
    var candidate: Bool?
    /// Chinese, joined by ；
    var reasons: String?
    var surveyState: String?
    /// EPSG:4549, as stored
    var bbox: BBox

    /// The parcels of the reader's scope (`req.scope`) matching `f` (its year, bbox, town,
    /// block and ids), in parcel-id order, and how many match in all.
    static func read(_ f: Store.ParcelFilter, req: Request, limit: Int, offset: Int) async throws -> (rows: [OGCParcel], total: Int) {
        try await read(f, store: req.store, limit: limit, offset: offset)
    }

    /// As ``read(_:req:limit:offset:)`` for the scope of `store`.
    static func read(_ f: Store.ParcelFilter, store: Store, limit: Int, offset: Int) async throws -> (rows: [OGCParcel], total: Int) {
        let total = try await store.parcelCount(f)
        guard total > offset else { return ([], total) }
        var q = store.sql.select().columns(["parcel_id", "town", "block", "owner_credit_code", "registered_mu", "land_use", "far", "status",
                                            "area_mu", "area_mismatch", "geom", "minx", "miny", "maxx", "maxy"].map { SQLColumn($0, table: "p") })
            .columns(["low_efficiency", "tax_per_mu", "occupant_class", "cluster", "candidate"].map { SQLColumn($0, table: "a") })
            .column(SQLAlias(SQLQueryString("CASE WHEN a.low_efficiency = \(bind: true) THEN a.detail ELSE NULL END"), as: SQLIdentifier("detail")))
            .column(SQLAlias(SQLQueryString("(SELECT s.state FROM surveys s WHERE s.parcel_id = p.parcel_id ORDER BY s.id DESC LIMIT 1)"),
                             as: SQLIdentifier("survey_state")))
        q = store.parcelsJoined(q, year: f.year)
        q = store.whereParcels(q, f).orderBy(SQLColumn("parcel_id", table: "p"), SQLDirection.ascending).limit(limit).offset(offset)
        let raw = try await q.all()
        struct Detail: Decodable {
            struct Reason: Decodable { var zh: String }
            var reasons: [Reason]
        }
        let decoder = JSONDecoder()
        var rows: [OGCParcel] = []
        rows.reserveCapacity(raw.count)
        for r in raw {
            var p = OGCParcel(
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

// MARK: - A small JSON byte writer

extension Array where Element == UInt8 {
    fileprivate mutating func ogcPut(_ s: String) { append(contentsOf: s.utf8) }

    /// A JSON string literal, or null.
    fileprivate mutating func ogcString(_ s: String?) {
        guard let s else { ogcPut("null"); return }
        append(0x22)
        for c in s.utf8 {
            switch c {
            case 0x22: append(0x5C); append(0x22)
            case 0x5C: append(0x5C); append(0x5C)
            case 0x0A: append(0x5C); append(0x6E)
            case 0x0D: append(0x5C); append(0x72)
            case 0x09: append(0x5C); append(0x74)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                ogcPut("\\u00"); append(hex[Int(c >> 4)]); append(hex[Int(c & 15)])
            default: append(c)
            }
        }
        append(0x22)
    }

    /// A real number (always with a decimal point, so readers type the field as real), or null.
    fileprivate mutating func ogcReal(_ v: Double?) {
        guard let v, v.isFinite else { ogcPut("null"); return }
        let start = count
        ParcelGeoJSON.appendFixed(v, digits: 6, to: &self)
        if !self[start...].contains(0x2E) { ogcPut(".0") }
    }

    fileprivate mutating func ogcInt(_ v: Int?) { ogcPut(v.map(String.init) ?? "null") }

    fileprivate mutating func ogcBool(_ v: Bool?) { ogcPut(v.map { $0 ? "true" : "false" } ?? "null") }
}

// MARK: - OpenAPI 3.0 definition of /ogc

enum OGCOpenAPI {
    static func document(root: String) -> [String: Any] {
        func ref(_ s: String) -> [String: Any] { ["$ref": s] }
        func param(_ name: String) -> [String: Any] { ref("#/components/parameters/\(name)") }
        func jsonResponse(_ description: String, _ schema: String, type: String = OGC.json) -> [String: Any] {
            ["description": description, "content": [type: ["schema": ref("#/components/schemas/\(schema)")]]]
        }
        let errors: [String: Any] = [
            "400": ref("#/components/responses/BadRequest"),
            "401": ref("#/components/responses/Unauthorized"),
            "403": ref("#/components/responses/Forbidden"),
            "404": ref("#/components/responses/NotFound"),
            "500": ref("#/components/responses/ServerError"),
        ]
        func get(_ id: String, _ summary: String, _ params: [String], _ ok: [String: Any], tag: String = "Capabilities") -> [String: Any] {
            ["get": ["operationId": id, "summary": summary, "tags": [tag], "parameters": params.map(param),
                     "responses": errors.merging(["200": ok]) { a, _ in a }]]
        }
        var paths: [String: Any] = [
            "/": get("getLandingPage", "起始页 / landing page", ["f"], jsonResponse("起始页 / the landing page", "LandingPage")),
            "/api": get("getAPI", "本 OpenAPI 定义 / this API definition", ["f"],
                        ["description": "OpenAPI 3.0 定义", "content": [OGC.openAPI: ["schema": ["type": "object"]]]]),
            "/api.html": ["get": ["operationId": "getAPIDocumentation", "summary": "接口说明页 / API documentation", "tags": ["Capabilities"],
                                  "responses": errors.merging(["200": ["description": "HTML", "content": ["text/html": ["schema": ["type": "string"]]]]]) { a, _ in a }]],
            "/conformance": get("getConformance", "符合的标准类 / conformance classes", ["f"], jsonResponse("conformsTo", "Conformance")),
            "/collections": get("getCollections", "数据集合 / the collections", ["f"], jsonResponse("集合列表", "Collections")),
        ]
        for c in OGCCollection.allCases {
            let n = c.rawValue
            let itemParams = ["bbox", "bbox-crs", "crs", "limit", "offset", "year", "datetime", "f"] + c.extraParameters
            paths["/collections/\(n)"] = get("describe_\(n)", "\(c.title)：集合说明 / describe \(n)", ["f"],
                                             jsonResponse("集合说明", "Collection"), tag: n)
            paths["/collections/\(n)/schema"] = get("schema_\(n)", "\(c.title)：要素的 JSON Schema", ["f"],
                                                    ["description": "JSON Schema", "content": [OGC.schemaJSON: ["schema": ["type": "object"]]]], tag: n)
            var items = get("getFeatures_\(n)", "\(c.title)：要素 / fetch features of \(n)", itemParams,
                            ["description": "GeoJSON 要素集合；响应头 Content-Crs 给出坐标参考系",
                             "headers": ["Content-Crs": ref("#/components/headers/ContentCrs")],
                             "content": [OGC.geoJSON: ["schema": ref("#/components/schemas/FeatureCollectionGeoJSON")]]], tag: n)
            if var g = items["get"] as? [String: Any] { g["description"] = c.description; items["get"] = g }
            paths["/collections/\(n)/items"] = items
            paths["/collections/\(n)/items/{featureId}"] = get("getFeature_\(n)", "\(c.title)：单个要素 / fetch one feature",
                ["featureId", "crs", "year", "datetime", "f"],
                ["description": "GeoJSON 要素", "headers": ["Content-Crs": ref("#/components/headers/ContentCrs")],
                 "content": [OGC.geoJSON: ["schema": ref("#/components/schemas/FeatureGeoJSON")]]], tag: n)
        }
        let crsURIs = OGC.crsList.map(\.uri)
        let parameters: [String: Any] = [
            "f": ["name": "f", "in": "query", "required": false, "description": "格式：只提供 json（亦接受 geojson）/ format",
                  "schema": ["type": "string", "enum": ["json", "geojson"]], "style": "form", "explode": false],
            "bbox": ["name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "范围 minx,miny,maxx,maxy，按 bbox-crs 的轴序（默认 CRS84：经度,纬度）；按地块外包框相交筛选 / bounding box in bbox-crs",
                     "schema": ["type": "array", "minItems": 4, "maxItems": 6, "items": ["type": "number"]]],
            "bbox-crs": ["name": "bbox-crs", "in": "query", "required": false, "description": "bbox 的坐标参考系，默认 CRS84",
                         "schema": ["type": "string", "format": "uri", "enum": crsURIs, "default": CRSName.crs84.uri], "style": "form", "explode": false],
            "crs": ["name": "crs", "in": "query", "required": false, "description": "输出坐标参考系，默认 CRS84；坐标按该坐标系 EPSG 定义的轴序",
                    "schema": ["type": "string", "format": "uri", "enum": crsURIs, "default": CRSName.crs84.uri], "style": "form", "explode": false],
            "limit": ["name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
                      "description": "每页要素数，默认 \(OGC.defaultLimit)，最大 \(OGC.maxLimit)（更大的值按 \(OGC.maxLimit) 处理）",
                      "schema": ["type": "integer", "minimum": 1, "maximum": OGC.maxLimit, "default": OGC.defaultLimit]],
            "offset": ["name": "offset", "in": "query", "required": false, "style": "form", "explode": false,
                       "description": "跳过的要素数（分页，见 next 链接）", "schema": ["type": "integer", "minimum": 0, "default": 0]],
            "year": ["name": "year", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "评价年度，默认最近一次用地评价的年度", "schema": ["type": "integer"]],
            "datetime": ["name": "datetime", "in": "query", "required": false, "style": "form", "explode": false,
                         "description": "RFC 3339 时刻或区间（.. 表示开放）：选取其中最近的评价年度", "schema": ["type": "string"]],
            "town": ["name": "town", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "所属镇街", "schema": ["type": "string"]],
            "block": ["name": "block", "in": "query", "required": false, "style": "form", "explode": false,
                      "description": "区块，如 中月区块", "schema": ["type": "string"]],
            "featureId": ["name": "featureId", "in": "path", "required": true,
                          "description": "地块编号（parcels）或集中连片编号（clusters）", "schema": ["type": "string"]],
        ]
        let link: [String: Any] = ["type": "object", "required": ["href", "rel"], "properties": [
            "href": ["type": "string"], "rel": ["type": "string"], "type": ["type": "string"], "title": ["type": "string"]]]
        let links: [String: Any] = ["type": "array", "items": ref("#/components/schemas/Link")]
        let schemas: [String: Any] = [
            "Link": link,
            "Exception": ["type": "object", "required": ["code"], "properties": [
                "code": ["type": "string"], "description": ["type": "string"], "status": ["type": "integer"]]],
            "LandingPage": ["type": "object", "required": ["links"], "properties": [
                "title": ["type": "string"], "description": ["type": "string"], "links": links]],
            "Conformance": ["type": "object", "required": ["conformsTo"], "properties": [
                "conformsTo": ["type": "array", "items": ["type": "string"]], "links": links]],
            "Collection": ["type": "object", "required": ["id", "links"], "properties": [
                "id": ["type": "string"], "title": ["type": "string"], "description": ["type": "string"], "links": links,
                "extent": ["type": "object"], "itemType": ["type": "string"],
                "crs": ["type": "array", "items": ["type": "string"]], "storageCrs": ["type": "string"]]],
            "Collections": ["type": "object", "required": ["links", "collections"], "properties": [
                "links": links, "collections": ["type": "array", "items": ref("#/components/schemas/Collection")],
                "crs": ["type": "array", "items": ["type": "string"]]]],
            "FeatureGeoJSON": ["type": "object", "required": ["type", "geometry", "properties"], "properties": [
                "type": ["type": "string", "enum": ["Feature"]],
                "id": ["oneOf": [["type": "string"], ["type": "integer"]]],
                "geometry": ["type": "object", "nullable": true],
                "properties": ["type": "object", "nullable": true], "links": links]],
            "FeatureCollectionGeoJSON": ["type": "object", "required": ["type", "features"], "properties": [
                "type": ["type": "string", "enum": ["FeatureCollection"]],
                "features": ["type": "array", "items": ref("#/components/schemas/FeatureGeoJSON")],
                "links": links, "timeStamp": ["type": "string", "format": "date-time"],
                "numberMatched": ["type": "integer", "minimum": 0], "numberReturned": ["type": "integer", "minimum": 0]]],
        ]
        func errorResponse(_ d: String) -> [String: Any] {
            ["description": d, "content": [OGC.json: ["schema": ref("#/components/schemas/Exception")]]]
        }
        return [
            "openapi": "3.0.3",
            "info": ["title": "亩均 Mujun 工业用地 OGC API - Features", "version": "1.0.0",
                     "description": "工业用地地块与集中连片区块（OGC API - Features 第 1、2 部分）。数据按用户的管辖范围过滤；GIS 软件用 API 令牌访问（mujun user token 登录名）。",
                     "license": ["name": "内部数据，仅限授权使用 / internal data"]],
            "servers": [["url": root]],
            "tags": [["name": "Capabilities"], ["name": "parcels", "description": OGCCollection.parcels.title],
                     ["name": "clusters", "description": OGCCollection.clusters.title]],
            "security": [["bearerAuth": [String]()]],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer", "description": "API 令牌：mujun user token 登录名"]],
                "parameters": parameters,
                "schemas": schemas,
                "headers": ["ContentCrs": ["description": "坐标的坐标参考系，如 <http://www.opengis.net/def/crs/OGC/1.3/CRS84>",
                                           "schema": ["type": "string"]]],
                "responses": [
                    "BadRequest": errorResponse("参数无效或未知 / invalid or unknown parameter"),
                    "Unauthorized": errorResponse("未登录或令牌无效 / no or invalid token"),
                    "Forbidden": errorResponse("角色无权查看用地 / the role may not view land"),
                    "NotFound": errorResponse("没有该集合或要素 / no such collection or feature"),
                    "ServerError": errorResponse("服务器内部错误 / server error"),
                ],
            ],
        ]
    }
}
