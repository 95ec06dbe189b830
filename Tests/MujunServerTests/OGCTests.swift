import Foundation
import Testing
import Vapor
import SQLKit
import VaporTesting
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// OGC API - Features at /ogc (Part 1 Core + GeoJSON + OpenAPI 3.0, Part 2 CRS): structure,
/// paging, bbox and CRS handling, errors, and the jurisdiction filter. The GDAL client itself
/// is exercised by tests/ogc/test_gdal.py against a running server.
@Suite("OGC API - Features", .serialized)
struct OGCTests {
    static let year = 2025
    static let homeTown = "古山镇"

    /// An application with the demo city's 2025 figures evaluated, its parcels and land use
    /// loaded and the land of 2025 assessed.
    static func withLand(_ body: (Application, DemoLand) async throws -> Void) async throws {
        try await TestApp.with { app in
            let city = DemoCity(enterprises: 300, seed: 3)
            _ = try await app.store.importEnterprises(city.records(year: year, latestYear: year), fileName: "t", actor: "test")
            _ = try await app.store.evaluate(year: year, rules: .default, rulesYAML: defaultRulesYAML, actor: "test")
            let land = DemoLand(city: city)
            try await app.store.importParcels(land.parcels, fileName: "parcels", actor: "test")
            try await app.store.importLandUse(land.landUse, fileName: "land-use", actor: "test")
            try await app.store.assessLand(year: year, rules: .default, actor: "test")
            try await body(app, land)
        }
    }

    struct Reply {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var features: [[String: Any]] { json["features"] as? [[String: Any]] ?? [] }
        func link(_ rel: String) -> [String: Any]? {
            (json["links"] as? [[String: Any]])?.first { $0["rel"] as? String == rel }
        }
    }

    static func get(_ app: Application, _ path: String, _ headers: HTTPHeaders, method: HTTPMethod = .GET) async throws -> Reply {
        let r = try await app.testing().sendRequest(method, path, headers: headers)
        return Reply(status: r.status, headers: r.headers, body: Data(buffer: r.body))
    }

    /// The path and query of an absolute link of the service.
    static func path(_ href: Any?) throws -> String {
        let s = try #require(href as? String)
        let r = try #require(s.range(of: "/ogc"))
        return String(s[r.lowerBound...])
    }

    /// The first vertex of a feature's geometry.
    static func firstVertex(_ feature: [String: Any]) throws -> (Double, Double) {
        let g = try #require(feature["geometry"] as? [String: Any])
        var c: Any? = g["coordinates"]
        while let a = c as? [Any], let first = a.first, first is [Any] { c = first }
        let xy = try #require(c as? [Double])
        return (xy[0], xy[1])
    }

    // MARK: - Structure

    @Test("landing page, API definition, conformance and collections")
    func structure() async throws {
        try await Self.withLand { app, land in
            let h = try await TestAuth.hq(app).headers
            let landing = try await Self.get(app, "/ogc", h)
            #expect(landing.status == .ok)
            #expect(landing.headers.contentType?.subType == "json")
            for rel in ["self", "service-desc", "service-doc", "conformance", "data"] {
                #expect(landing.link(rel) != nil, "landing page link \(rel)")
            }
            #expect(try Self.path(landing.link("service-desc")?["href"]) == "/ogc/api")
            #expect(landing.link("service-desc")?["type"] as? String == "application/vnd.oai.openapi+json;version=3.0")
            #expect(try Self.path(landing.link("data")?["href"]) == "/ogc/collections")
            #expect((landing.link("self")?["href"] as? String)?.hasPrefix("http://") == true, "links are absolute")
            // the same with f=json, and with a browser's Accept header; other formats are refused
            #expect(try await Self.get(app, "/ogc?f=json", h).status == .ok)
            var browser = h
            browser.replaceOrAdd(name: .accept, value: "text/html,application/xhtml+xml")
            #expect(try await Self.get(app, "/ogc", browser).json["links"] != nil)
            #expect(try await Self.get(app, "/ogc?f=html", h).status == .badRequest)
            #expect(try await Self.get(app, "/ogc/api.html", h).status == .ok)

            let api = try await Self.get(app, "/ogc/api", h)
            #expect(api.status == .ok)
            #expect(api.headers.first(name: .contentType)?.hasPrefix("application/vnd.oai.openapi+json;version=3.0") == true)
            #expect(api.json["openapi"] as? String == "3.0.3")
            let paths = try #require(api.json["paths"] as? [String: Any])
            for p in ["/", "/conformance", "/collections", "/collections/parcels/items", "/collections/parcels/items/{featureId}",
                      "/collections/clusters/items"] {
                #expect(paths[p] != nil, "OpenAPI path \(p)")
            }
            try Self.validateOpenAPI(api.body)

            let conf = try await Self.get(app, "/ogc/conformance", h)
            let classes = try #require(conf.json["conformsTo"] as? [String])
            for c in ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                      "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
                      "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                      "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"] {
                #expect(classes.contains(c), "conformance \(c)")
            }

            let colls = try await Self.get(app, "/ogc/collections", h)
            #expect(colls.status == .ok)
            let list = try #require(colls.json["collections"] as? [[String: Any]])
            #expect(list.compactMap { $0["id"] as? String } == ["parcels", "clusters"])
            let crsURIs = ["http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/EPSG/0/4490",
                           "http://www.opengis.net/def/crs/EPSG/0/4549", "http://www.opengis.net/def/crs/EPSG/0/4326"]
            for c in list {
                #expect((c["title"] as? String)?.isEmpty == false)
                #expect(c["description"] != nil)
                #expect(c["itemType"] as? String == "feature")
                #expect(c["crs"] as? [String] == crsURIs)
                #expect(c["storageCrs"] as? String == "http://www.opengis.net/def/crs/EPSG/0/4549")
                let links = try #require(c["links"] as? [[String: Any]])
                #expect(links.contains { $0["rel"] as? String == "self" })
                #expect(links.contains { $0["rel"] as? String == "items" && $0["type"] as? String == "application/geo+json" })
                let extent = try #require(c["extent"] as? [String: Any])
                let spatial = try #require(extent["spatial"] as? [String: Any])
                let bbox = try #require((spatial["bbox"] as? [[Double]])?.first)
                #expect(bbox.count == 4)
                #expect(bbox[0] > 119.5 && bbox[2] < 120.5 && bbox[1] > 28.5 && bbox[3] < 29.3, "\(bbox)")
                #expect(bbox[0] < bbox[2] && bbox[1] < bbox[3])
                let interval = (extent["temporal"] as? [String: Any])?["interval"] as? [[String]]
                #expect(interval?.first?.first?.hasPrefix("2025") == true)
            }
            // the parcels' extent is that of every parcel, in CRS84
            let all = try #require(BBox.union(land.parcels.map(\.bbox)))
            let geo = try Reprojector(from: .working, to: .crs84).transform(all)
            let parcels = try await Self.get(app, "/ogc/collections/parcels", h)
            #expect(parcels.json["id"] as? String == "parcels")
            let pb = try #require((((parcels.json["extent"] as? [String: Any])?["spatial"] as? [String: Any])?["bbox"] as? [[Double]])?.first)
            #expect(abs(pb[0] - geo.minX) < 1e-5 && abs(pb[1] - geo.minY) < 1e-5 && abs(pb[2] - geo.maxX) < 1e-5 && abs(pb[3] - geo.maxY) < 1e-5)

            let schema = try await Self.get(app, "/ogc/collections/parcels/schema", h)
            let props = (((schema.json["properties"] as? [String: Any])?["properties"] as? [String: Any])?["properties"] as? [String: Any]) ?? [:]
            for key in ["parcel_id", "town", "area_mu", "low_efficiency", "low_efficiency_reasons", "survey_state"] {
                #expect(props[key] != nil, "schema property \(key)")
            }

            // HEAD answers like GET
            let head = try await Self.get(app, "/ogc/collections/parcels/items?limit=2", h, method: .HEAD)
            #expect(head.status == .ok)
            #expect(head.headers.first(name: .contentType)?.hasPrefix("application/geo+json") == true)
        }
    }

    /// openapi-spec-validator, when installed, validates the document.
    static func validateOpenAPI(_ data: Data) throws {
        func python(_ args: [String]) -> (Int32, String)? {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3"] + args
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            do { try p.run() } catch { return nil }
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: out, as: UTF8.self))
        }
        guard let probe = python(["-c", "import openapi_spec_validator"]), probe.0 == 0 else {
            print("openapi-spec-validator not installed; skipping its check of /ogc/api")
            return
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-ogc-api-\(UUID().uuidString).json")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = python(["-m", "openapi_spec_validator", file.path])
        #expect(result?.0 == 0, "openapi-spec-validator: \(result?.1 ?? "")")
    }

    // MARK: - Items and paging

    @Test("items: GeoJSON, numberMatched, paging with next/prev links, limit default and clamp")
    func paging() async throws {
        try await Self.withLand { app, land in
            let h = try await TestAuth.hq(app).headers
            let total = land.parcels.count
            let first = try await Self.get(app, "/ogc/collections/parcels/items", h)
            #expect(first.status == .ok)
            #expect(first.headers.first(name: .contentType)?.hasPrefix("application/geo+json") == true)
            #expect(first.headers.first(name: "Content-Crs") == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
            #expect(first.json["type"] as? String == "FeatureCollection")
            #expect(first.json["numberMatched"] as? Int == total)
            #expect(first.json["numberReturned"] as? Int == 10, "default limit 10")
            #expect(first.features.count == 10)
            #expect((first.json["timeStamp"] as? String)?.hasSuffix("Z") == true)
            #expect(first.link("self") != nil && first.link("next") != nil && first.link("prev") == nil)

            // walk every page by the next links
            var path = "/ogc/collections/parcels/items?limit=97"
            var ids: [String] = []
            var pages = 0
            var last = first
            while true {
                let page = try await Self.get(app, path, h)
                #expect(page.status == .ok)
                #expect(page.json["numberMatched"] as? Int == total)
                #expect(page.json["numberReturned"] as? Int == page.features.count)
                ids += page.features.compactMap { $0["id"] as? String }
                pages += 1
                if pages > 1 { #expect(page.link("prev") != nil) }
                last = page
                guard let next = page.link("next") else { break }
                #expect(next["type"] as? String == "application/geo+json")
                path = try Self.path(next["href"])
                if pages > 1_000 { Issue.record("paging does not end"); break }
            }
            #expect(ids == land.parcels.map(\.parcelID).sorted(), "every parcel once, in id order")
            #expect(pages == (total + 96) / 97)
            #expect(last.link("next") == nil, "no next link on the last page")

            // an offset past the end: nothing, no next
            let past = try await Self.get(app, "/ogc/collections/parcels/items?offset=\(total + 5)", h)
            #expect(past.json["numberReturned"] as? Int == 0)
            #expect(past.link("next") == nil)
            // an exact last page has no next link either
            let exact = try await Self.get(app, "/ogc/collections/parcels/items?limit=5&offset=\(total - 5)", h)
            #expect(exact.features.count == 5)
            #expect(exact.link("next") == nil)

            // over the maximum: clamped to 10000, not an error
            let big = try await Self.get(app, "/ogc/collections/parcels/items?limit=20000", h)
            #expect(big.status == .ok)
            #expect(big.json["numberReturned"] as? Int == min(total, 10_000))
            #expect((big.link("self")?["href"] as? String)?.contains("limit=10000") == true)
            #expect(big.link("next") == nil)

            for bad in ["limit=0", "limit=-3", "limit=ten", "offset=-1", "offset=x", "limit=1.5"] {
                let r = try await Self.get(app, "/ogc/collections/parcels/items?\(bad)", h)
                #expect(r.status == .badRequest, "\(bad)")
                #expect(r.json["code"] as? String == "InvalidParameterValue", "\(bad)")
            }
        }
    }

    @Test("parcel and cluster properties come from the store and the year's assessment")
    func properties() async throws {
        try await Self.withLand { app, _ in
            let h = try await TestAuth.hq(app).headers
            let rows = try await app.store.parcels(.init(year: Self.year, lowEfficiencyOnly: true), limit: 5).rows
            let row = try #require(rows.first)
            let id = row.parcel.parcelID
            let r = try await Self.get(app, "/ogc/collections/parcels/items/\(id.queryEncoded)", h)
            #expect(r.status == .ok)
            #expect(r.headers.first(name: "Content-Crs") == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
            #expect(r.json["type"] as? String == "Feature")
            #expect(r.json["id"] as? String == id)
            let p = try #require(r.json["properties"] as? [String: Any])
            #expect(p["parcel_id"] as? String == id)
            #expect(p["town"] as? String == row.parcel.town)
            #expect(abs((p["area_mu"] as? Double ?? 0) - row.parcel.areaMu) < 1e-5)
            #expect(p["area_mismatch"] as? Bool == row.parcel.areaMismatch)
            #expect(p["status"] as? String == row.parcel.status?.chinese)
            #expect(p["year"] as? Int == Self.year)
            #expect(p["low_efficiency"] as? Bool == true)
            let assessment = try #require(try await app.store.assessment(parcelID: id, year: Self.year))
            #expect(p["low_efficiency_reasons"] as? String == assessment.reasons.map(\.zh).joined(separator: "；"))
            #expect(p["cluster"] as? Int == row.cluster)
            #expect(p["candidate"] as? Bool == row.candidate)
            for key in ["block", "owner_credit_code", "registered_mu", "land_use", "far", "tax_per_mu", "occupant_class", "survey_state"] {
                #expect(p.keys.contains(key), "property \(key) is present (null when unknown)")
            }
            let g = try #require(r.json["geometry"] as? [String: Any])
            #expect(["Polygon", "MultiPolygon"].contains(g["type"] as? String ?? ""))
            #expect((r.json["links"] as? [[String: Any]])?.contains { $0["rel"] as? String == "self" } == true)

            // clusters: counts, properties and one by number
            let clusters = try await app.store.clusters(year: Self.year)
            let items = try await Self.get(app, "/ogc/collections/clusters/items?limit=10000", h)
            #expect(items.status == .ok)
            #expect(items.json["numberMatched"] as? Int == clusters.total)
            #expect(items.features.count == clusters.rows.count)
            let c = try #require(clusters.rows.first { $0.summary.count > 1 })
            let one = try await Self.get(app, "/ogc/collections/clusters/items/\(c.summary.number)", h)
            #expect(one.status == .ok)
            #expect(one.json["id"] as? Int == c.summary.number)
            let cp = try #require(one.json["properties"] as? [String: Any])
            #expect(cp["number"] as? Int == c.summary.number)
            #expect(cp["parcels"] as? Int == c.summary.count)
            #expect(abs((cp["area_mu"] as? Double ?? 0) - c.summary.areaMu) < 1e-5)
            #expect(cp["towns"] as? String == c.summary.towns.joined(separator: "；"))
            #expect(cp["candidate"] as? Bool == c.summary.candidate)
            #expect(cp["low_efficiency_share"] is Double)
            #expect(["Polygon", "MultiPolygon"].contains((one.json["geometry"] as? [String: Any])?["type"] as? String ?? ""))
            #expect(try await Self.get(app, "/ogc/collections/clusters/items/999999", h).status == .notFound)
            #expect(try await Self.get(app, "/ogc/collections/clusters/items/abc", h).status == .notFound)

            // filters of the parcels collection
            let town = try await Self.get(app, "/ogc/collections/parcels/items?limit=10000&town=\(Self.homeTown.queryEncoded)", h)
            #expect(town.features.allSatisfy { ($0["properties"] as? [String: Any])?["town"] as? String == Self.homeTown })
            #expect((town.json["numberMatched"] as? Int ?? 0) > 0)
            let block = try await Self.get(app, "/ogc/collections/parcels/items?limit=10000&block=\("下谢山区块".queryEncoded)", h)
            #expect((block.json["numberMatched"] as? Int ?? 0) > 0)
            #expect(block.features.allSatisfy { ($0["properties"] as? [String: Any])?["block"] as? String == "下谢山区块" })
            // year and datetime
            #expect(try await Self.get(app, "/ogc/collections/parcels/items?year=2025", h).status == .ok)
            #expect(try await Self.get(app, "/ogc/collections/parcels/items?year=1999", h).status == .badRequest)
            let dt = try await Self.get(app, "/ogc/collections/parcels/items?datetime=2025-06-30", h)
            #expect(dt.status == .ok && (dt.features.first?["properties"] as? [String: Any])?["year"] as? Int == 2025)
            let none = try await Self.get(app, "/ogc/collections/parcels/items?datetime=2001-01-01/2002-12-31", h)
            #expect(none.json["numberMatched"] as? Int == 0)
            #expect(try await Self.get(app, "/ogc/collections/parcels/items?datetime=June", h).status == .badRequest)
        }
    }

    @Test("the items are what Store.parcels reads, for every scope and filter (the API reads the rows itself, faster)")
    func sameAsStore() async throws {
        try await Self.withLand { app, land in
            // surveys: the latest one's state is shown
            let surveyed = land.parcels[7]
            try await app.store.addSurvey(parcelID: surveyed.parcelID, town: surveyed.town, actualUse: "厂房", occupantsSeen: nil, idle: false,
                                          remarks: nil, photoName: nil, photo: nil, actor: "test")
            let second = try await app.store.addSurvey(parcelID: surveyed.parcelID, town: surveyed.town, actualUse: "仓库", occupantsSeen: nil,
                                                       idle: true, remarks: nil, photoName: nil, photo: nil, actor: "test")
            try await app.store.reviewSurvey(id: second, confirm: true, note: nil, actor: "test")
            let owner = try #require(land.parcels.compactMap(\.ownerCreditCode).first)
            let readers: [(DataScope, HTTPHeaders)] = [
                (.all, try await TestAuth.hq(app).headers),
                (.town(Self.homeTown), try await TestAuth.session(app, .town, town: Self.homeTown).headers),
                (.town(surveyed.town), try await TestAuth.session(app, .town, town: surveyed.town).headers),
                (.enterprise(owner), try await TestAuth.session(app, .enterprise, creditCode: owner).headers),
            ]
            let p = land.parcels[land.parcels.count / 3]
            let box = p.bbox.expanded(by: 800)
            let geo = try Reprojector(from: .working, to: .crs84).transform(box)
            let back = try Reprojector(from: .crs84, to: .working).transform(geo)
            let filters: [(String, Store.ParcelFilter)] = [
                ("", .init(year: Self.year)),
                ("&bbox=\(geo.minX),\(geo.minY),\(geo.maxX),\(geo.maxY)", .init(year: Self.year, bbox: back)),
                ("&block=\("下谢山区块".queryEncoded)", .init(year: Self.year, block: "下谢山区块")),
                ("&town=\(p.town.queryEncoded)", .init(year: Self.year, town: p.town)),
            ]
            var compared = 0
            for (scope, headers) in readers {
                for (query, filter) in filters {
                    let expected = try await Store(app.db, scope: scope).parcels(filter)
                    let r = try await Self.get(app, "/ogc/collections/parcels/items?limit=10000\(query)", headers)
                    #expect(r.status == .ok)
                    #expect(r.json["numberMatched"] as? Int == expected.total, "\(scope) \(query)")
                    let got = r.features.compactMap { $0["properties"] as? [String: Any] }
                    #expect(got.count == expected.rows.count, "\(scope) \(query)")
                    for (g, e) in zip(got, expected.rows) {
                        #expect(g["parcel_id"] as? String == e.parcel.parcelID)
                        #expect(g["town"] as? String == e.parcel.town)
                        #expect(g["block"] as? String == e.parcel.block)
                        #expect(g["owner_credit_code"] as? String == e.parcel.ownerCreditCode)
                        #expect(g["land_use"] as? String == e.parcel.landUse)
                        #expect((g["far"] as? Double).map { abs($0 - (e.parcel.far ?? .nan)) < 1e-6 } ?? (e.parcel.far == nil))
                        #expect(g["low_efficiency"] as? Bool == e.lowEfficiency)
                        #expect((g["tax_per_mu"] as? Double).map { abs($0 - (e.taxPerMu ?? .nan)) < 1e-5 } ?? (e.taxPerMu == nil))
                        #expect(g["occupant_class"] as? String == e.occupantClass)
                        #expect(g["cluster"] as? Int == e.cluster)
                        #expect(g["candidate"] as? Bool == e.candidate)
                        #expect(g["survey_state"] as? String == e.surveyState)
                        compared += 1
                    }
                }
            }
            #expect(compared > land.parcels.count)
            let shown = try await Self.get(app, "/ogc/collections/parcels/items/\(surveyed.parcelID.queryEncoded)", try await TestAuth.hq(app).headers)
            #expect((shown.json["properties"] as? [String: Any])?["survey_state"] as? String == "confirmed")
        }
    }

    // MARK: - bbox and CRS

    @Test("bbox in CRS84 and in EPSG:4549 through bbox-crs select what the store selects")
    func bbox() async throws {
        try await Self.withLand { app, land in
            let h = try await TestAuth.hq(app).headers
            let p = land.parcels[land.parcels.count / 2]
            // a box of ±300 m around the parcel's centre, in EPSG:4549
            let cx = (p.bbox.minX + p.bbox.maxX) / 2, cy = (p.bbox.minY + p.bbox.maxY) / 2
            let box = BBox(minX: cx - 300, minY: cy - 300, maxX: cx + 300, maxY: cy + 300)
            let expected = try await app.store.parcels(.init(year: Self.year, bbox: box)).total
            #expect(expected > 0)

            // EPSG:4549 as EPSG defines it: northing first
            #expect(try Projection.axisOrderIsNorthEast(.epsg(4549)))
            let projected = "\(box.minY),\(box.minX),\(box.maxY),\(box.maxX)"
            let r1 = try await Self.get(app, "/ogc/collections/parcels/items?limit=10000&bbox=\(projected)&bbox-crs=\("http://www.opengis.net/def/crs/EPSG/0/4549".queryEncoded)", h)
            #expect(r1.status == .ok)
            #expect(r1.json["numberMatched"] as? Int == expected)
            #expect(r1.features.contains { $0["id"] as? String == p.parcelID })

            // CRS84 (longitude, latitude): the box's corners in degrees; the store's box is the
            // densified reprojection of the degree box
            let geo = try Reprojector(from: .working, to: .crs84).transform(box)
            let back = try Reprojector(from: .crs84, to: .working).transform(geo)
            let expected84 = try await app.store.parcels(.init(year: Self.year, bbox: back)).total
            let q84 = "\(geo.minX),\(geo.minY),\(geo.maxX),\(geo.maxY)"
            let r2 = try await Self.get(app, "/ogc/collections/parcels/items?limit=10000&bbox=\(q84)", h)
            #expect(r2.json["numberMatched"] as? Int == expected84)
            #expect(r2.features.contains { $0["id"] as? String == p.parcelID })
            for f in r2.features {
                let (lon, lat) = try Self.firstVertex(f)
                #expect(lon > geo.minX - 0.02 && lon < geo.maxX + 0.02 && lat > geo.minY - 0.02 && lat < geo.maxY + 0.02)
            }
            // the same box as EPSG:4326 (latitude first)
            let q4326 = "\(geo.minY),\(geo.minX),\(geo.maxY),\(geo.maxX)"
            let r3 = try await Self.get(app, "/ogc/collections/parcels/items?limit=10000&bbox=\(q4326)&bbox-crs=EPSG:4326", h)
            #expect(r3.json["numberMatched"] as? Int == expected84)

            // far away: nothing; the whole world: everything
            let far = try await Self.get(app, "/ogc/collections/parcels/items?bbox=0,0,1,1", h)
            #expect(far.status == .ok && far.json["numberMatched"] as? Int == 0)
            let world = try await Self.get(app, "/ogc/collections/parcels/items?bbox=-180,-90,180,90", h)
            #expect(world.json["numberMatched"] as? Int == land.parcels.count)
            // clusters take a bbox too
            let cl = try await Self.get(app, "/ogc/collections/clusters/items?bbox=\(q84)", h)
            #expect((cl.json["numberMatched"] as? Int ?? 0) > 0)

            for bad in ["bbox=1,2,3", "bbox=a,b,c,d", "bbox=120,29,119,28", "bbox=200,28,201,29", "bbox=1,2,3,4,5",
                        "bbox=\(q84)&bbox-crs=EPSG:3857", "bbox-crs=nonsense&bbox=\(q84)"] {
                let r = try await Self.get(app, "/ogc/collections/parcels/items?\(bad)", h)
                #expect(r.status == .badRequest, "\(bad)")
            }
        }
    }

    @Test("crs: CRS84 lon,lat; EPSG:4326/4490 lat,lon; EPSG:4549 metres northing first; Content-Crs")
    func crs() async throws {
        try await Self.withLand { app, land in
            let h = try await TestAuth.hq(app).headers
            let p = land.parcels[3]
            let path = "/ogc/collections/parcels/items/\(p.parcelID.queryEncoded)"
            let stored = try #require(WKB.polygons(p.geometry)?.first?.first)  // first ring, EPSG:4549 x, y

            let d = try await Self.get(app, path, h)
            let (lon, lat) = try Self.firstVertex(d.json)
            #expect(abs(lon - 120.03) < 0.3 && abs(lat - 28.9) < 0.3, "CRS84 is longitude, latitude: \(lon), \(lat)")
            let ll = try Reprojector(from: .working, to: .crs84).transform(x: stored[0], y: stored[1])
            #expect(abs(ll.x - lon) < 1e-8 && abs(ll.y - lat) < 1e-8)

            for (crs, uri) in [("EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/4326"),
                               ("http://www.opengis.net/def/crs/EPSG/0/4490", "http://www.opengis.net/def/crs/EPSG/0/4490")] {
                let r = try await Self.get(app, path + "?crs=\(crs.queryEncoded)", h)
                #expect(r.status == .ok)
                #expect(r.headers.first(name: "Content-Crs") == "<\(uri)>")
                let (a, b) = try Self.firstVertex(r.json)
                #expect(abs(a - lat) < 1e-6 && abs(b - lon) < 1e-6, "\(crs) is latitude, longitude: \(a), \(b)")
            }

            let m = try await Self.get(app, path + "?crs=\("http://www.opengis.net/def/crs/EPSG/0/4549".queryEncoded)", h)
            #expect(m.headers.first(name: "Content-Crs") == "<http://www.opengis.net/def/crs/EPSG/0/4549>")
            let (n, e) = try Self.firstVertex(m.json)
            #expect(abs(n - stored[1]) < 0.002 && abs(e - stored[0]) < 0.002, "EPSG:4549 is northing, easting in metres: \(n), \(e)")
            #expect(n > 3_000_000 && e > 400_000 && e < 600_000)

            // pages take crs too
            let page = try await Self.get(app, "/ogc/collections/parcels/items?limit=3&crs=EPSG:4326", h)
            #expect(page.headers.first(name: "Content-Crs") == "<http://www.opengis.net/def/crs/EPSG/0/4326>")
            let (a, _) = try Self.firstVertex(try #require(page.features.first))
            #expect(abs(a - 28.9) < 0.3)
            #expect((page.link("next")?["href"] as? String)?.contains("crs=EPSG:4326") == true, "next keeps the crs")

            for bad in ["crs=EPSG:3857", "crs=EPSG:4528", "crs=banana"] {
                #expect(try await Self.get(app, "/ogc/collections/parcels/items?\(bad)", h).status == .badRequest, "\(bad)")
                #expect(try await Self.get(app, path + "?\(bad)", h).status == .badRequest, "\(bad)")
            }
        }
    }

    // MARK: - Errors

    @Test("unknown parameters are 400, unknown collections and ids 404, as JSON exceptions")
    func errors() async throws {
        try await Self.withLand { app, _ in
            let h = try await TestAuth.hq(app).headers
            for path in ["/ogc/collections/parcels/items?colour=red", "/ogc/collections/parcels/items?limit=5&limit=6",
                         "/ogc/collections/clusters/items?town=x", "/ogc/collections?bbox=1,2,3,4", "/ogc?year=2025",
                         "/ogc/collections/parcels/items/X?limit=3", "/ogc/conformance?f=xml"] {
                let r = try await Self.get(app, path, h)
                #expect(r.status == .badRequest, "\(path)")
                #expect(r.headers.contentType?.subType == "json", "\(path)")
                #expect(r.json["code"] as? String == "InvalidParameterValue", "\(path)")
                #expect((r.json["description"] as? String)?.isEmpty == false)
            }
            for path in ["/ogc/collections/roads", "/ogc/collections/roads/items", "/ogc/collections/parcels/items/NO-SUCH-PARCEL"] {
                let r = try await Self.get(app, path, h)
                #expect(r.status == .notFound, "\(path)")
                #expect(r.json["code"] as? String == "NotFound", "\(path)")
            }
        }
    }

    // MARK: - Who sees what

    @Test("a town user sees only its parcels; other roles and anonymous are refused; bearer tokens work")
    func scoping() async throws {
        try await Self.withLand { app, land in
            let own = land.parcels.filter { $0.town == Self.homeTown }
            let other = try #require(land.parcels.first { $0.town != Self.homeTown })
            #expect(!own.isEmpty)
            let town = try await TestAuth.session(app, .town, town: Self.homeTown).headers

            let all = try await Self.get(app, "/ogc/collections/parcels/items?limit=10000", town)
            #expect(all.status == .ok)
            #expect(all.json["numberMatched"] as? Int == own.count)
            #expect(all.features.count == own.count)
            #expect(all.features.allSatisfy { ($0["properties"] as? [String: Any])?["town"] as? String == Self.homeTown })
            let paged = try await Self.get(app, "/ogc/collections/parcels/items?limit=3", town)
            #expect(paged.json["numberMatched"] as? Int == own.count)
            // asking for another town's parcels by filter gives nothing, by id 404
            let asked = try await Self.get(app, "/ogc/collections/parcels/items?town=\(other.town.queryEncoded)", town)
            #expect(asked.json["numberMatched"] as? Int == 0)
            #expect(try await Self.get(app, "/ogc/collections/parcels/items/\(other.parcelID.queryEncoded)", town).status == .notFound)
            #expect(try await Self.get(app, "/ogc/collections/parcels/items/\(own[0].parcelID.queryEncoded)", town).status == .ok)
            // the extent is that of the town's parcels
            let coll = try await Self.get(app, "/ogc/collections/parcels", town)
            let bbox = try #require((((coll.json["extent"] as? [String: Any])?["spatial"] as? [String: Any])?["bbox"] as? [[Double]])?.first)
            let geo = try Reprojector(from: .working, to: .crs84).transform(try #require(BBox.union(own.map(\.bbox))))
            #expect(abs(bbox[0] - geo.minX) < 1e-5 && abs(bbox[1] - geo.minY) < 1e-5 && abs(bbox[2] - geo.maxX) < 1e-5 && abs(bbox[3] - geo.maxY) < 1e-5)
            // clusters: only those with a parcel of the town
            let clusters = try await Self.get(app, "/ogc/collections/clusters/items?limit=10000", town)
            #expect((clusters.json["numberMatched"] as? Int ?? 0) > 0)
            #expect(clusters.features.allSatisfy { (($0["properties"] as? [String: Any])?["towns"] as? String ?? "").contains(Self.homeTown) })
            let scoped = try await Store(app.db, scope: .town(Self.homeTown)).clusters(year: Self.year)
            #expect(clusters.json["numberMatched"] as? Int == scoped.total)
            let foreign = try #require(try await app.store.clusters(year: Self.year).rows.first { !$0.summary.towns.contains(Self.homeTown) })
            #expect(try await Self.get(app, "/ogc/collections/clusters/items/\(foreign.summary.number)", town).status == .notFound)

            // roles without the land permission, and nobody
            let bank = try await TestAuth.session(app, .bank).headers
            #expect(try await Self.get(app, "/ogc/collections/parcels/items", bank).status == .forbidden)
            #expect(try await Self.get(app, "/ogc", bank).status == .forbidden)
            for path in ["/ogc", "/ogc/collections", "/ogc/collections/parcels/items", "/ogc/api"] {
                #expect(try await Self.get(app, path, [:]).status == .unauthorized, "\(path)")
            }

            // a GIS client's bearer token
            _ = try await TestAuth.session(app, .headquarters, login: "gis-hq")
            let token = try await AccountTools.issueToken(store: app.store, config: ServerConfig(databaseURL: "sqlite://:memory:", secret: "test-secret"),
                                                          login: "gis-hq", name: "QGIS", actor: "test")
            let bearer: HTTPHeaders = ["Authorization": "Bearer \(token)"]
            let r = try await Self.get(app, "/ogc/collections/parcels/items?limit=1", bearer)
            #expect(r.status == .ok)
            #expect(r.json["numberMatched"] as? Int == land.parcels.count)
            _ = try await TestAuth.session(app, .town, town: Self.homeTown, login: "gis-town")
            let townToken = try await AccountTools.issueToken(store: app.store, config: ServerConfig(databaseURL: "sqlite://:memory:", secret: "test-secret"),
                                                              login: "gis-town", name: "QGIS", actor: "test")
            let rt = try await Self.get(app, "/ogc/collections/parcels/items?limit=1", ["Authorization": "Bearer \(townToken)"])
            #expect(rt.json["numberMatched"] as? Int == own.count)
            #expect(try await Self.get(app, "/ogc/collections", ["Authorization": "Bearer mj_not-a-token"]).status == .unauthorized)
        }
    }

    // MARK: - Serialized snapshots

    /// An answer without its timeStamp (the only part that differs between two identical queries).
    static func stamped(_ body: Data) -> String {
        let text = String(decoding: body, as: UTF8.self)
        guard let r = text.range(of: #""timeStamp":"[^"]*""#, options: .regularExpression) else { return text }
        return text.replacingCharacters(in: r, with: "")
    }

    @Test("pages from the serialized snapshot are byte for byte the database's, for every reader and filter")
    func snapshotSameAsDatabase() async throws {
        try await Self.withLand { app, land in
            let owner = try #require(land.parcels.compactMap(\.ownerCreditCode).first)
            let readers = [try await TestAuth.hq(app).headers,
                           try await TestAuth.session(app, .town, town: Self.homeTown).headers,
                           try await TestAuth.session(app, .enterprise, creditCode: owner).headers]
            let p = land.parcels[land.parcels.count / 2]
            let geo = try Reprojector(from: .working, to: .crs84).transform(p.bbox.expanded(by: 1_500))
            let queries = ["", "?limit=10000", "?limit=7&offset=5", "?limit=50&offset=100000", "?crs=\(OGC.crsList[2].uri.queryEncoded)&limit=20",
                           "?crs=\(OGC.crsList[1].uri.queryEncoded)&limit=20&offset=3",
                           "?bbox=\(geo.minX),\(geo.minY),\(geo.maxX),\(geo.maxY)&limit=1000",
                           "?town=\(p.town.queryEncoded)&limit=1000", "?town=\(Self.homeTown.queryEncoded)&limit=5",
                           "?block=\("下谢山区块".queryEncoded)&limit=1000", "?block=\("没有的区块".queryEncoded)",
                           "?year=\(Self.year)&limit=3", "?datetime=1990-01-01", "?bbox=0,0,1,1"]
            let cache = app.ogcParcelCache
            var compared = 0
            for headers in readers {
                for query in queries {
                    let path = "/ogc/collections/parcels/items" + query
                    app.ogcParcelCache = cache
                    let cached = try await Self.get(app, path, headers)
                    app.ogcParcelCache = OGCParcelCache(budget: 0)
                    let direct = try await Self.get(app, path, headers)
                    #expect(cached.status == .ok && direct.status == .ok, "\(path)")
                    #expect(Self.stamped(cached.body) == Self.stamped(direct.body), "\(path)")
                    #expect(cached.headers.first(name: "Content-Crs") == direct.headers.first(name: "Content-Crs"))
                    compared += cached.features.count
                }
            }
            app.ogcParcelCache = cache
            #expect(compared > land.parcels.count)
            // the pages came from snapshots: one per CRS asked for
            #expect(Set(cache.kept.map(\.crs)) == [.crs84, OGC.crsList[1], OGC.crsList[2]])
        }
    }

    @Test("a snapshot that does not fit beside the kept ones is not built: that page comes from the database")
    func snapshotBudget() async throws {
        try await Self.withLand { app, land in
            let h = try await TestAuth.hq(app).headers
            let saved = app.ogcParcelCache
            defer { app.ogcParcelCache = saved }
            // room for one snapshot (the estimate is 1 KB a parcel), not two
            app.ogcParcelCache = OGCParcelCache(budget: land.parcels.count * 1_024 * 3 / 2)
            let epsg4549 = "/ogc/collections/parcels/items?limit=20&crs=\(OGC.crsList[2].uri.queryEncoded)"
            let first = try await Self.get(app, "/ogc/collections/parcels/items?limit=20", h)
            #expect(app.ogcParcelCache.kept.map(\.crs) == [.crs84])
            let other = try await Self.get(app, epsg4549, h)
            #expect(other.status == .ok && other.features.count == 20)
            #expect(app.ogcParcelCache.kept.map(\.crs) == [.crs84], "the CRS84 snapshot stays; EPSG:4549 was read from the database")
            let again = try await Self.get(app, "/ogc/collections/parcels/items?limit=20", h)
            #expect(Self.stamped(again.body) == Self.stamped(first.body))
            app.ogcParcelCache = OGCParcelCache(budget: 0)
            #expect(Self.stamped(try await Self.get(app, epsg4549, h).body) == Self.stamped(other.body))
        }
    }

    @Test("every change to the land tables, by any path, is in the next page")
    func snapshotFollowsChanges() async throws {
        try await Self.withLand { app, land in
            let h = try await TestAuth.hq(app).headers
            let path = "/ogc/collections/parcels/items?limit=10000"
            func properties(_ id: String) async throws -> [String: Any] {
                let r = try await Self.get(app, path, h)
                let f = try #require(r.features.first { $0["id"] as? String == id })
                return try #require(f["properties"] as? [String: Any])
            }
            let p = land.parcels[11]
            let before = try await app.store.landRevision()
            #expect(try await properties(p.parcelID)["survey_state"] is NSNull)

            // a survey (surveys), from the store
            let id = try await app.store.addSurvey(parcelID: p.parcelID, town: p.town, actualUse: "厂房", occupantsSeen: nil, idle: false,
                                                   remarks: nil, photoName: nil, photo: nil, actor: "test")
            #expect(try await app.store.landRevision() > before)
            #expect(try await properties(p.parcelID)["survey_state"] as? String == "submitted")
            try await app.store.reviewSurvey(id: id, confirm: true, note: nil, actor: "test")
            #expect(try await properties(p.parcelID)["survey_state"] as? String == "confirmed")

            // a parcel changed behind the application's back (another process, the SQL prompt)
            let sql = app.db as! any SQLDatabase
            try await sql.raw("UPDATE parcels SET block = 'SQL改过的区块' WHERE parcel_id = \(bind: p.parcelID)").run()
            #expect(try await properties(p.parcelID)["block"] as? String == "SQL改过的区块")
            let filtered = try await Self.get(app, "/ogc/collections/parcels/items?block=\("SQL改过的区块".queryEncoded)", h)
            #expect(filtered.features.map { $0["id"] as? String } == [p.parcelID])

            // re-imported parcels and a new assessment
            var changed = land.parcels[12]
            changed.landUse = "仓储用地"
            try await app.store.importParcels([changed], fileName: "again", actor: "test")
            #expect(try await properties(changed.parcelID)["land_use"] as? String == "仓储用地")
            try await sql.raw("DELETE FROM parcel_assessments WHERE parcel_id = \(bind: changed.parcelID)").run()
            #expect(try await properties(changed.parcelID)["low_efficiency"] is NSNull)
            try await app.store.assessLand(year: Self.year, rules: .default, actor: "test")
            #expect(try await properties(changed.parcelID)["low_efficiency"] is Bool)

            // a deleted parcel is gone from the page and the count (its survey, land use and
            // assessment first: the foreign keys refuse to leave them pointing at nothing)
            for table in ["surveys", "land_use", "parcel_assessments", "parcels"] {
                try await sql.raw("DELETE FROM \(unsafeRaw: table) WHERE parcel_id = \(bind: p.parcelID)").run()
            }
            let r = try await Self.get(app, path, h)
            #expect(r.json["numberMatched"] as? Int == land.parcels.count - 1)
            #expect(!r.features.contains { $0["id"] as? String == p.parcelID })

            // every land table raises the revision, on SQLite and PostgreSQL
            for (table, statement) in [("land_use", "UPDATE land_use SET relation = relation WHERE id = (SELECT MIN(id) FROM land_use)"),
                                       ("land_clusters", "UPDATE land_clusters SET towns = towns WHERE id = (SELECT MIN(id) FROM land_clusters)"),
                                       ("parcel_assessments", "UPDATE parcel_assessments SET town = town WHERE id = (SELECT MIN(id) FROM parcel_assessments)")] {
                let r0 = try await app.store.landRevision()
                try await sql.raw(SQLQueryString(statement)).run()
                #expect(try await app.store.landRevision() > r0, "\(table)")
            }
        }
    }

    @Test("a bearer token's last use is written at most once a minute")
    func tokenLastUse() async throws {
        try await Self.withLand { app, _ in
            _ = try await TestAuth.session(app, .headquarters, login: "gis-last")
            let config = ServerConfig(databaseURL: "sqlite://:memory:", secret: "test-secret")
            let token = try await AccountTools.issueToken(store: app.store, config: config, login: "gis-last", name: "QGIS", actor: "test")
            let bearer: HTTPHeaders = ["Authorization": "Bearer \(token)"]
            func lastUsed() async throws -> Date? { try await app.store.tokens().first { $0.name == "QGIS" }?.lastUsed }
            #expect(try await lastUsed() == nil)
            #expect(try await Self.get(app, "/ogc/collections", bearer).status == .ok)
            let first = try #require(try await lastUsed())
            #expect(abs(first.timeIntervalSinceNow) < 30)
            #expect(try await Self.get(app, "/ogc/collections", bearer).status == .ok)
            #expect(try await lastUsed() == first)
            let sql = app.db as! any SQLDatabase
            try await sql.update("api_tokens").set("last_used", to: Date().addingTimeInterval(-120)).where("name", .equal, "QGIS").run()
            #expect(try await Self.get(app, "/ogc/collections", bearer).status == .ok)
            #expect(abs(try #require(try await lastUsed()).timeIntervalSinceNow) < 30)
        }
    }

    @Test("the whole parcel layer in one page is fast")
    func speed() async throws {
        try await Self.withLand { app, land in
            let h = try await TestAuth.hq(app).headers
            _ = try await Self.get(app, "/ogc/collections/parcels/items?limit=1", h)  // warm the reprojector pool
            let start = Date()
            let r = try await Self.get(app, "/ogc/collections/parcels/items?limit=10000", h)
            let seconds = Date().timeIntervalSince(start)
            #expect(r.features.count == land.parcels.count)
            print("OGC items: \(land.parcels.count) parcels, \(r.body.count) bytes in \(String(format: "%.3f", seconds)) s")
            #expect(seconds < 2, "\(seconds) s for \(land.parcels.count) parcels")
        }
    }
}
