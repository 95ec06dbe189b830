import Foundation
import Vapor
import MujunCore
import MujunStore


// OGC API - Features at /ogc: Part 1 Core + GeoJSON + OpenAPI 3.0, Part 2 CRS by Reference.
//
// Two collections: `parcels` (地块, with the year's low-efficiency assessment) and `clusters`
// (集中连片, their outlines). Everything is filtered by the reader's jurisdiction exactly as
// the map is (`req.service.land`). GIS clients authenticate with `Authorization: Bearer <token>`
// (GDAL: `--config GDAL_HTTP_HEADERS "Authorization: Bearer …"`).
//
// Coordinates are written in the requested `crs` (default CRS84) in the axis order the CRS
// defines (Part 2): CRS84 longitude, latitude; EPSG:4326 and EPSG:4490 latitude, longitude;
// EPSG:4549 northing, easting (as PROJ's database declares it). Item pages are written
// straight into a byte buffer with a pooled PROJ reprojector: the whole demo city
// (~8,500 parcels) answers in a fraction of a second.

enum OGCFeature: Feature {
    static let endpoints: [Endpoint] = [
        ogc("/ogc", "OGC API 起始页 / landing page", landing),
        ogc("/ogc/api", "OGC API 的 OpenAPI 定义 / the API definition", api),
        ogc("/ogc/api.html", "OGC API 说明页 / the API documentation", apiPage),
        ogc("/ogc/conformance", "符合的标准类 / conformance classes", conformance),
        ogc("/ogc/collections", "数据集合 / the collections", collections),
        ogc("/ogc/collections/:collectionId", "集合说明 / one collection", collection),
        ogc("/ogc/collections/:collectionId/schema", "要素的 JSON Schema / the feature schema", schema),
        ogc("/ogc/collections/:collectionId/items", "要素 / the features", items),
        ogc("/ogc/collections/:collectionId/items/:featureId", "单个要素 / one feature", item),
    ]

    /// An OGC API operation: described by its own OpenAPI document (`/ogc/api`), answered with
    /// OGC exceptions on error, reading its query itself (`OGCQuery`: unknown parameters are 400).
    static func ogc(_ path: String, _ summary: String, _ handler: @escaping @Sendable (Request) async throws -> Response) -> Endpoint {
        .custom(.GET, path, .permission(.viewLand), summary, kind: .api, tag: "ogc") { req in try await handler(req) }
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

    static func landing(req: Request) async throws -> Response {
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

    static func conformance(req: Request) async throws -> Response {
        let q = try OGCQuery(req)
        try q.check(["f"]); try q.checkFormat()
        return try Self.jsonResponse([
            "conformsTo": OGC.conformance,
            "links": [Self.link(Self.root(req) + "/conformance", "self", OGC.json, "本页 / this document")],
        ])
    }

    static func api(req: Request) async throws -> Response {
        let q = try OGCQuery(req)
        try q.check(["f"]); try q.checkFormat()
        return try Self.jsonResponse(OGCOpenAPI.document(root: Self.root(req)), contentType: OGC.openAPI + ";charset=utf-8")
    }

    static func apiPage(req: Request) async throws -> Response {
        try OGCQuery(req).check([])
        let root = Self.root(req)
        return Page.render(title: "OGC API - Features 接口说明") { h in
            h.el(.section, .cls("card")) { h in
                h.el(.h2, text: "OGC API - Features 接口说明")
                h.el(.p) { h in
                    h.text("本服务按 OGC API - Features 第 1 部分（核心、GeoJSON、OpenAPI 3.0）和第 2 部分（按引用的坐标参考系）提供工业用地数据，数据按用户的管辖范围过滤。GIS 软件用 API 令牌访问：请求头 ")
                    h.el(.code, text: "Authorization: Bearer 令牌")
                    h.text("。")
                }
                h.el(.ul) { h in
                    h.el(.li) { h in
                        h.text("起始页：")
                        h.el(.a, .href(root)) { h in h.el(.code, text: root) }
                        h.text("；OpenAPI 定义：")
                        h.el(.a, .href(root + "/api")) { h in h.el(.code, text: root + "/api") }
                    }
                    h.el(.li) { h in
                        h.text("集合："); h.el(.code, text: root + "/collections")
                        h.text("（"); h.el(.code, text: "parcels"); h.text(" 地块，"); h.el(.code, text: "clusters"); h.text(" 集中连片）")
                    }
                    h.el(.li) { h in
                        h.text("要素："); h.el(.code, text: root + "/collections/{parcels|clusters}/items?bbox=…&bbox-crs=…&crs=…&limit=…&offset=…&year=…")
                        h.text("；地块另有 "); h.el(.code, text: "town"); h.text("、"); h.el(.code, text: "block")
                    }
                    h.el(.li) { h in
                        h.text("单个要素："); h.el(.code, text: root + "/collections/parcels/items/{地块编号}")
                        h.text("、"); h.el(.code, text: root + "/collections/clusters/items/{编号}")
                    }
                    h.el(.li) { h in
                        h.text("坐标参考系（"); h.el(.code, text: "crs"); h.text("、"); h.el(.code, text: "bbox-crs"); h.text("）：")
                        for (i, c) in OGC.crsList.enumerated() {
                            if i > 0 { h.text("、") }
                            h.el(.code, text: c.uri); h.text("（\(c.title)）")
                        }
                        h.text("；默认 CRS84（经度在前），EPSG:4326/4490 纬度在前，EPSG:4549 北坐标在前（均按 EPSG 定义的轴序）。存储坐标系 EPSG:4549。")
                    }
                    h.el(.li) { h in
                        h.el(.code, text: "limit")
                        h.text(" 默认 \(OGC.defaultLimit)，最大 \(OGC.maxLimit)（更大的值按 \(OGC.maxLimit) 处理）。未知参数返回 400。")
                    }
                }
                h.el(.p) { h in
                    h.text("GDAL：")
                    h.el(.code, text: "ogrinfo --config GDAL_HTTP_HEADERS \"Authorization: Bearer 令牌\" -so OAPIF:\(root) parcels")
                }
                for (title, c) in [("地块属性 parcels", OGCCollection.parcels), ("集中连片属性 clusters", OGCCollection.clusters)] {
                    h.el(.h3, text: title)
                    h.el(.table) { h in
                        h.el(.tr) { h in h.el(.th, text: "属性"); h.el(.th, text: "类型"); h.el(.th, text: "含义") }
                        for f in c.fields {
                            h.el(.tr) { h in
                                h.el(.td) { h in h.el(.code, text: f.name) }
                                h.el(.td, text: f.type)
                                h.el(.td, text: f.title)
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Collections

    static func collections(req: Request) async throws -> Response {
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

    static func collection(req: Request) async throws -> Response {
        let c = try Self.collectionParameter(req)
        let q = try OGCQuery(req)
        try q.check(["f"]); try q.checkFormat()
        return try Self.jsonResponse(try await Self.describe(c, req: req, root: Self.root(req)))
    }

    static func describe(_ c: OGCCollection, req: Request, root: String) async throws -> [String: Any] {
        let base = root + "/collections/" + c.rawValue
        var extent: [String: Any] = [:]
        let land = req.service.land
        let years = try await land.years()
        if let box = try await land.extent(clusters: c == .clusters, year: years.first) {
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

    /// JSON Schema of a feature (GDAL takes its field types from it: `describedBy`). Written
    /// by hand so that the properties keep their order (GDAL lists the fields in it).
    static func schema(req: Request) async throws -> Response {
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
        let land = req.service.land
        let revision = try await req.service.system.landRevision()
        let (years, parcels) = try await req.application.ogcParcelCache.landInfo(revision: revision) {
            let info = try await land.landInfo()
            return (info.years, info.parcels)
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

    static let maxOffset = 1_000_000_000

    static func offset(_ q: OGCQuery) throws -> Int {
        guard let text = q["offset"] else { return 0 }
        guard let n = Int(text), n >= 0, n <= maxOffset else {
            throw Abort(.badRequest, reason: "offset 应为 0 到 \(maxOffset) 的整数 / offset must be an integer from 0 to \(maxOffset): \(text)")
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

    static func items(req: Request) async throws -> Response {
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
                if !nothing {
                    switch req.service.land.snapshotScope(town: q["town"]) {
                    case .all: indexes = snapshot.matching(town: nil, block: q["block"], bbox: box)
                    case .town(let t): indexes = snapshot.matching(town: t, block: q["block"], bbox: box)
                    case .none, .databaseOnly: break
                    }
                }
                total = indexes.count
                let slice = offset < total ? indexes[offset..<min(total, offset + limit)] : []
                returned = slice.count
                page = (snapshot, slice)
                break
            }
            var rows: [OGCParcelRow] = []
            if !nothing {
                let f = Store.ParcelFilter(year: choice.year, bbox: box, town: q["town"], block: q["block"])
                (rows, total) = try await req.service.land.ogcParcels(f, limit: limit, offset: offset)
            }
            let year = choice.year
            features = try await Self.write(rows, crs: crs, axes: axes) { r, p, out in
                try Self.writeParcel(r, year: year, projector: p, to: &out)
            }
            returned = rows.count
        case .clusters:
            var rows: [Store.ClusterRow] = []
            if !nothing, let y = choice.year {
                (rows, total) = try await req.service.land.clusters(year: y, bbox: box, limit: limit, offset: offset)
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

    /// The year's parcels serialized in `crs`, when the cache serves this reader: every scope
    /// but an enterprise's (which depends on who occupies what), and while the collection fits
    /// the cache's budget (about 1 KB a feature is assumed before building).
    static func parcelSnapshot(_ req: Request, info: (revision: Int64, years: [Int], parcels: Int), year: Int?,
                               crs: CRSName) async throws -> OGCParcelSnapshot? {
        let cache = req.application.ogcParcelCache
        if req.service.land.snapshotScope(town: nil) == .databaseOnly { return nil }
        guard cache.enabled, info.parcels * 1_024 <= cache.budget else { return nil }
        // built as a system job: the whole collection, which each reader's scope then filters
        let land = req.application.systemService(as: "ogc").land
        let logger = req.logger
        return try await cache.snapshot(.init(revision: info.revision, year: year, crs: crs), estimate: info.parcels * 1_024) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let snapshot = try await Self.buildParcelSnapshot(land, revision: info.revision, year: year, crs: crs)
            logger.info("ogc: \(snapshot.count) parcels of \(year.map(String.init) ?? "-") in \(crs.code) serialized in \((DispatchTime.now().uptimeNanoseconds - t0) / 1_000_000) ms (\(snapshot.bytes.count / 1024) KB, land revision \(info.revision))")
            return snapshot
        }
    }

    /// Reads every parcel with the year's assessment and writes each feature, on every core.
    static func buildParcelSnapshot(_ land: LandService, revision: Int64, year: Int?, crs: CRSName) async throws -> OGCParcelSnapshot {
        let rows = try await land.ogcSnapshotRows(year: year)
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

    static func item(req: Request) async throws -> Response {
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
            guard let row = try await req.service.land.ogcParcels(Store.ParcelFilter(year: year, ids: [id]), limit: 1, offset: 0).rows.first
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

    /// A cluster of the year within the reader's scope.
    static func cluster(number: Int, year: Int, req: Request) async throws -> Store.ClusterRow? {
        try await req.service.land.cluster(year: year, number: number)
    }

}
