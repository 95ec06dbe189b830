import Foundation
import Testing
import Vapor
import VaporTesting
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// The battle map, parcels, surveys, clusters and the land import page, over the demo city
/// (300 enterprises, its land, 2025 assessed). Runs on SQLite, and on PostgreSQL when
/// MUJUN_TEST_DATABASE_URL is set.
@Suite("Land: battle map, parcels, surveys, clusters, land import", .serialized)
struct LandPageTests {
    static let year = 2025
    static let homeTown = "古山镇"
    static let city = DemoCity(enterprises: 300, seed: 3)
    static let land = DemoLand(city: city)

    // MARK: helpers

    /// The demo city's 2025 data evaluated, its parcels and land use imported and assessed.
    static func loadLand(_ app: Application) async throws {
        _ = try await app.store.importEnterprises(city.records(year: year, latestYear: year), fileName: "t", actor: "test")
        _ = try await app.store.evaluate(year: year, rules: .default, rulesYAML: defaultRulesYAML, actor: "test")
        try await app.store.importParcels(land.parcels, fileName: "demo-parcels", actor: "test")
        try await app.store.importLandUse(land.landUse, fileName: "demo-land-use", actor: "test")
        try await app.store.assessLand(year: year, rules: .default, actor: "test")
    }

    func get(_ app: Application, _ path: String, _ s: TestAuth.Session?) async throws -> TestingHTTPResponse {
        try await app.testing().sendRequest(.GET, path, headers: s?.headers ?? [:])
    }

    func json(_ res: TestingHTTPResponse) throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(res.body.readableBytesView)) as? [String: Any]) ?? [:]
    }

    /// A URL-encoded form POST with the session's cookie and CSRF token.
    func post(_ app: Application, _ path: String, _ s: TestAuth.Session, _ fields: [(String, String)]) async throws -> TestingHTTPResponse {
        var headers = s.postHeaders
        headers.contentType = .urlEncodedForm
        let body = fields.map { "\($0.0.queryEncoded)=\($0.1.queryEncoded)" }.joined(separator: "&")
        return try await app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(string: body))
    }

    func postJSON(_ app: Application, _ path: String, _ s: TestAuth.Session, _ object: [String: Any]) async throws -> TestingHTTPResponse {
        var headers = s.postHeaders
        headers.contentType = .json
        return try await app.testing().sendRequest(.POST, path, headers: headers,
                                                   body: ByteBuffer(data: try JSONSerialization.data(withJSONObject: object)))
    }

    /// A multipart form POST, the CSRF token in the form (as a browser sends it).
    func postMultipart(_ app: Application, _ path: String, _ s: TestAuth.Session, _ fields: [(String, String)],
                       file: (name: String, filename: String, type: String, data: Data)? = nil) async throws -> TestingHTTPResponse {
        let boundary = "----MujunLandTestBoundary5d1c"
        var body = Data()
        for (k, v) in fields + [("_csrf", s.csrf)] {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n".utf8))
        }
        if let file {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: \(file.type)\r\n\r\n".utf8))
            body.append(file.data)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        var headers = s.headers
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        return try await app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(data: body))
    }

    /// A small PNG (signature, IHDR and IEND; the server checks the signature).
    static let png: Data = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
                                 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE,
                                 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])

    /// Every [lon, lat] of a GeoJSON geometry.
    static func positions(_ geometry: Any?) -> [[Double]] {
        if let p = geometry as? [Double], p.count >= 2 { return [p] }
        if let a = geometry as? [Any] { return a.flatMap(positions) }
        if let g = geometry as? [String: Any] { return positions(g["coordinates"]) }
        return []
    }

    // MARK: - the map page and its data

    @Test("the map page loads Leaflet and map.js, with no inline script, for the headquarters and a town")
    func mapPage() async throws {
        try await TestApp.with { app in
            try await Self.loadLand(app)
            let hq = try await TestAuth.hq(app)
            let res = try await get(app, "/map", hq)
            #expect(res.status == .ok)
            let html = res.body.string
            #expect(html.contains("<script src=\"/vendor/leaflet.js\""))
            #expect(html.contains("<link rel=\"stylesheet\" href=\"/vendor/leaflet.css\">"))
            #expect(html.contains("<script src=\"/static/map.js\""))
            #expect(html.contains("id=\"map\"") && html.contains("id=\"legend\"") && html.contains("id=\"parcel-card\""))
            #expect(html.contains("href=\"/map\" class=\"active\">挂图作战</a>"), "the navigation has the map")
            // CSP forbids inline scripts: every <script> is external or JSON data
            for tag in html.captures(#"(<script[^>]*>)"#) {
                #expect(tag.contains(" src=\"/") || tag.contains("type=\"application/json\""), "inline script: \(tag)")
            }
            #expect(res.headers.first(name: "Content-Security-Policy")?.contains("script-src") != true)
            let config = html.captures(#"<script type="application/json" id="map-config">(.*?)</script>"#).first ?? ""
            let cfg = try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any] ?? [:]
            #expect(cfg["year"] as? Int == Self.year)
            #expect((cfg["towns"] as? [String])?.contains(Self.homeTown) == true)

            // a town user's filter is fixed to its own town
            let town = try await TestAuth.session(app, .town, town: Self.homeTown)
            let t = try await get(app, "/map", town)
            #expect(t.status == .ok)
            #expect(t.body.string.contains("<select id=\"map-town\" name=\"town\" disabled><option value=\"古山镇\" selected>"))
            // the vendored files are served (Debian libjs-leaflet)
            if FileManager.default.fileExists(atPath: "/usr/share/javascript/leaflet/leaflet.js") {
                #expect(try await get(app, "/vendor/leaflet.js", nil).status == .ok)
            }
            #expect(try await get(app, "/static/map.js", nil).status == .ok)
            #expect(try await get(app, "/static/map.css", nil).status == .ok)
            // a bank may not see land
            let bank = try await TestAuth.session(app, .bank)
            #expect(try await get(app, "/map", bank).status == .forbidden)
        }
    }

    @Test("without land the pages explain how to load it; a tile server is allowed by the page's CSP")
    func emptyAndTiles() async throws {
        try await TestApp.with { app in
            let hq = try await TestAuth.hq(app)
            for path in ["/map", "/clusters"] {
                let res = try await get(app, path, hq)
                #expect(res.status == .ok && res.body.string.contains("id=\"no-land\""), "\(path)")
            }
            let res = try await get(app, "/api/v1/map/parcels", hq)
            let none = try json(res)["features"] as? [Any]
            #expect(res.status == .ok && none?.isEmpty == true)
            #expect(try await get(app, "/clusters.xlsx", hq).status == .notFound)
            #expect(try await get(app, "/land", hq).status == .ok)
        }
        #expect(MapPage.origin(of: "https://tiles.example.gov.cn/{z}/{x}/{y}.png") == "https://tiles.example.gov.cn")
        #expect(MapPage.origin(of: "http://10.1.2.3:8080/wmts/{z}/{x}/{y}.png") == "http://10.1.2.3:8080")
        #expect(MapPage.origin(of: "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://*.tile.openstreetmap.org")
        #expect(MapPage.origin(of: "javascript:alert(1)") == nil)
        // only scheme and host reach the header
        #expect(MapPage.origin(of: "https://tiles.example/x'; script-src *") == "https://tiles.example")
        #expect(MapPage.origin(of: "https://a b/{z}") == nil)
    }

    @Test("/api/v1/map/parcels: every parcel for the headquarters, only 古山镇 for its town user, 403 for a bank")
    func mapParcels() async throws {
        try await TestApp.with { app in
            try await Self.loadLand(app)
            let hq = try await TestAuth.hq(app)
            var res = try await get(app, "/api/v1/map/parcels?year=\(Self.year)", hq)
            #expect(res.status == .ok)
            #expect(res.headers.contentType?.description.contains("geo+json") == true)
            var obj = try json(res)
            #expect(obj["type"] as? String == "FeatureCollection")
            var features = obj["features"] as? [[String: Any]] ?? []
            #expect(features.count == Self.land.parcels.count && obj["numberMatched"] as? Int == Self.land.parcels.count)
            #expect(obj["bbox_required"] as? Bool == false)
            // compact properties
            let props = features.first?["properties"] as? [String: Any] ?? [:]
            for key in ["id", "town", "block", "cls", "low", "cluster", "cand", "survey", "area"] {
                #expect(props.keys.contains(key), "property \(key)")
            }
            #expect(Set(features.compactMap { ($0["properties"] as? [String: Any])?["id"] as? String }) == Set(Self.land.parcels.map(\.parcelID)))
            // CRS84 around Yongkang (120.03°E, 28.9°N)
            let pts = features.flatMap { Self.positions($0["geometry"]) }
            #expect(!pts.isEmpty)
            #expect(pts.allSatisfy { (119.7...120.4).contains($0[0]) && (28.6...29.2).contains($0[1]) }, "lon/lat order and place")
            let lon = pts.map { $0[0] }.reduce(0, +) / Double(pts.count), lat = pts.map { $0[1] }.reduce(0, +) / Double(pts.count)
            #expect(abs(lon - 120.03) < 0.15 && abs(lat - 28.9) < 0.15, "centre \(lon), \(lat)")
            // the summary agrees with the features
            let summary = obj["summary"] as? [String: Any] ?? [:]
            let low = features.filter { ($0["properties"] as? [String: Any])?["low"] as? Bool == true }.count
            #expect(summary["parcels"] as? Int == features.count && summary["low_count"] as? Int == low)
            #expect(low > 0)

            // a town sees its own parcels only, whatever it asks for
            let town = try await TestAuth.session(app, .town, town: Self.homeTown)
            let own = Self.land.parcels.filter { $0.town == Self.homeTown }
            #expect(!own.isEmpty && own.count < Self.land.parcels.count)
            res = try await get(app, "/api/v1/map/parcels?year=\(Self.year)", town)
            obj = try json(res)
            features = obj["features"] as? [[String: Any]] ?? []
            #expect(features.count == own.count)
            #expect(Set(features.compactMap { ($0["properties"] as? [String: Any])?["town"] as? String }) == [Self.homeTown])
            let other = Self.land.parcels.first { $0.town != Self.homeTown }!
            res = try await get(app, "/api/v1/map/parcels?year=\(Self.year)&town=\(other.town.queryEncoded)", town)
            #expect((try json(res)["features"] as? [Any])?.isEmpty == true, "another town's filter gives nothing")

            // a bbox (CRS84) selects the parcels around one parcel
            let b = try #require(LandGeo.crs84(other.bbox))
            res = try await get(app, "/api/v1/map/parcels?year=\(Self.year)&bbox=\(b.map { String($0) }.joined(separator: ","))", hq)
            let near = (try json(res)["features"] as? [[String: Any]] ?? []).compactMap { ($0["properties"] as? [String: Any])?["id"] as? String }
            #expect(near.contains(other.parcelID) && near.count < Self.land.parcels.count)
            #expect(try await get(app, "/api/v1/map/parcels?bbox=1,2,3", hq).status == .badRequest)
            res = try await get(app, "/api/v1/map/parcels?bbox=-10,-10,-9,-9", hq)
            let far = try json(res)["features"] as? [Any]
            #expect(res.status == .ok && far?.isEmpty == true, "a box far away")

            // cluster outlines
            res = try await get(app, "/api/v1/map/clusters?year=\(Self.year)&candidates=1", hq)
            #expect(res.status == .ok)
            let outlines = try json(res)["features"] as? [[String: Any]] ?? []
            let candidates = try await app.store.clusters(year: Self.year, candidatesOnly: true).total
            #expect(outlines.count == candidates && candidates > 0)
            #expect(outlines.allSatisfy { ($0["properties"] as? [String: Any])?["cand"] as? Bool == true })

            // no land for a bank; sign-in needed
            let bank = try await TestAuth.session(app, .bank)
            #expect(try await get(app, "/api/v1/map/parcels", bank).status == .forbidden)
            #expect(try await get(app, "/api/v1/map/clusters", bank).status == .forbidden)
            #expect(try await get(app, "/api/v1/map/parcels", nil).status == .unauthorized)
        }
    }

    @Test("search finds parcels by id and by occupant name, within the scope")
    func search() async throws {
        try await TestApp.with { app in
            try await Self.loadLand(app)
            let hq = try await TestAuth.hq(app)
            let p = Self.land.parcels[5]
            var obj = try json(try await get(app, "/api/v1/map/search?q=\(p.parcelID)&year=\(Self.year)", hq))
            var matches = obj["matches"] as? [[String: Any]] ?? []
            #expect(matches.count == 1 && matches.first?["id"] as? String == p.parcelID)
            #expect((matches.first?["bbox"] as? [Double])?.count == 4)
            // by the name of an occupant
            let use = Self.land.landUse.first { u in Self.land.parcels.first { $0.parcelID == u.parcelID }?.town == Self.homeTown }!
            let name = try #require(Self.city.records(year: Self.year, latestYear: Self.year).first { $0.creditCode == use.creditCode }?.name)
            obj = try json(try await get(app, "/api/v1/map/search?q=\(name.queryEncoded)&year=\(Self.year)", hq))
            matches = obj["matches"] as? [[String: Any]] ?? []
            #expect(matches.contains { $0["id"] as? String == use.parcelID })
            #expect(obj["bbox"] as? [Double] != nil)
            // a town user searching another town's parcel finds nothing
            let town = try await TestAuth.session(app, .town, town: Self.homeTown)
            let other = Self.land.parcels.first { $0.town != Self.homeTown }!
            obj = try json(try await get(app, "/api/v1/map/search?q=\(other.parcelID)", town))
            #expect((obj["matches"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("the parcel card has occupants with class and score, reasons and its cluster; another town's parcel is 404")
    func card() async throws {
        try await TestApp.with { app in
            try await Self.loadLand(app)
            let hq = try await TestAuth.hq(app)
            // a low-efficiency parcel of 古山镇 with occupants
            let rows = try await app.store.parcels(.init(year: Self.year, town: Self.homeTown, lowEfficiencyOnly: true)).rows
            var chosen: (Store.ParcelRow, ParcelAssessment)?
            for r in rows {
                if let a = try await app.store.assessment(parcelID: r.parcel.parcelID, year: Self.year),
                   a.occupants.contains(where: { $0.finalClass != nil }) { chosen = (r, a); break }
            }
            let (row, assessment) = try #require(chosen)
            let id = row.parcel.parcelID
            let res = try await get(app, "/api/v1/parcels/\(id)?year=\(Self.year)", hq)
            #expect(res.status == .ok)
            let c = try json(res)
            #expect(c["id"] as? String == id && c["town"] as? String == Self.homeTown)
            #expect(c["low_efficiency"] as? Bool == true)
            let occupants = c["occupants"] as? [[String: Any]] ?? []
            #expect(occupants.count == assessment.occupants.count && !occupants.isEmpty)
            let withClass = try #require(occupants.first { $0["cls"] is String })
            #expect(withClass["total_score"] is Double)
            #expect((withClass["link"] as? String)?.hasPrefix("/enterprises/") == true)
            #expect((withClass["link"] as? String)?.hasSuffix("?year=\(Self.year)") == true)
            let reasons = c["reasons"] as? [[String: Any]] ?? []
            #expect(reasons.count == assessment.reasons.count && !reasons.isEmpty)
            #expect(reasons.allSatisfy { ($0["text"] as? String)?.isEmpty == false })
            #expect(c["area_mu"] is Double && c["area_mismatch"] is Bool)
            if row.cluster != nil { #expect((c["cluster"] as? [String: Any])?["number"] as? Int == row.cluster) }
            #expect(c["survey_state"] as? String == "none")
            #expect((c["bbox"] as? [Double])?.count == 4)

            // the town user of 古山镇 sees it; another town's user does not
            let home = try await TestAuth.session(app, .town, town: Self.homeTown)
            #expect(try await get(app, "/api/v1/parcels/\(id)", home).status == .ok)
            #expect(try await get(app, "/parcels/\(id)", home).status == .ok)
            let otherTown = Self.land.parcels.first { $0.town != Self.homeTown }!.town
            let stranger = try await TestAuth.session(app, .town, town: otherTown)
            #expect(try await get(app, "/api/v1/parcels/\(id)", stranger).status == .notFound)
            #expect(try await get(app, "/parcels/\(id)", stranger).status == .notFound)
            #expect(try await get(app, "/api/v1/parcels/NO-SUCH-PARCEL", hq).status == .notFound)

            // the parcel page shows the facts, the occupants and the reasons
            let page = try await get(app, "/parcels/\(id)?year=\(Self.year)", hq)
            #expect(page.status == .ok)
            let html = page.body.string
            #expect(html.contains("id=\"occupants-table\"") && html.contains("id=\"reasons-table\""))
            #expect(html.contains("<span class=\"tag-low\">低效用地</span>"))
            #expect(html.contains("id=\"parcel-map-data\""), "neighbours for the small map")
            for tag in html.captures(#"(<script[^>]*>)"#) {
                #expect(tag.contains(" src=\"/") || tag.contains("type=\"application/json\""), "inline script: \(tag)")
            }
        }
    }

    // MARK: - surveys

    @Test("survey: the town surveys (with a photo), the headquarters confirms, the parcel shows who and when")
    func surveyFlow() async throws {
        try await TestApp.with { app in
            try await Self.loadLand(app)
            let hq = try await TestAuth.hq(app)
            let town = try await TestAuth.session(app, .town, town: Self.homeTown)
            let p = Self.land.parcels.first { $0.town == Self.homeTown }!
            let id = p.parcelID

            // the survey form is on the page of the town user, not on the headquarters'
            #expect(try await get(app, "/parcels/\(id)", town).body.string.contains("id=\"survey-form\""))
            #expect(try await get(app, "/parcels/\(id)", hq).body.string.contains("id=\"survey-form\"") == false)

            // a refused form: no actual use
            var res = try await postMultipart(app, "/parcels/\(id)/surveys", town, [("actual_use", " "), ("idle", "0")])
            #expect(res.status == .badRequest)
            #expect(res.body.string.contains("请填写实际用途"))
            // a photo that is not an image
            res = try await postMultipart(app, "/parcels/\(id)/surveys", town, [("actual_use", "工业生产"), ("idle", "0")],
                                          file: ("photo", "x.png", "image/png", Data("not a png".utf8)))
            #expect(res.status == .unsupportedMediaType)
            #expect(try await app.store.surveys(parcelID: id).isEmpty)

            res = try await postMultipart(app, "/parcels/\(id)/surveys", town,
                                          [("actual_use", "工业生产"), ("occupants_seen", "现场所见：两家企业"), ("idle", "0"), ("remarks", "厂房在用")],
                                          file: ("photo", "现场.png", "image/png", Self.png))
            #expect(res.status == .seeOther)
            #expect(res.headers.first(name: .location)?.hasPrefix("/parcels/\(id)") == true)
            let submitted = try #require(try await app.store.surveys(parcelID: id).first)
            #expect(submitted.state == "submitted" && submitted.town == Self.homeTown && submitted.surveyedBy == town.principal.login)
            #expect(submitted.photoName == "现场.png")

            // the photo: the town and the headquarters see it, another town does not
            res = try await get(app, "/surveys/\(submitted.id)/photo", town)
            #expect(res.status == .ok && Data(res.body.readableBytesView) == Self.png)
            #expect(res.headers.contentType == .png)
            #expect(try await get(app, "/surveys/\(submitted.id)/photo", hq).status == .ok)
            let otherTown = Self.land.parcels.first { $0.town != Self.homeTown }!.town
            let stranger = try await TestAuth.session(app, .town, town: otherTown)
            #expect(try await get(app, "/surveys/\(submitted.id)/photo", stranger).status == .notFound)

            // the map shows it as submitted; the headquarters finds it in the pending list
            var card = try json(try await get(app, "/api/v1/parcels/\(id)", hq))
            #expect(card["survey_state"] as? String == "submitted")
            let mapData = try json(try await get(app, "/api/v1/map/parcels?year=\(Self.year)&town=\(Self.homeTown.queryEncoded)", hq))
            let feature = (mapData["features"] as? [[String: Any]] ?? []).first { ($0["properties"] as? [String: Any])?["id"] as? String == id }
            #expect((feature?["properties"] as? [String: Any])?["survey"] as? String == "submitted")
            #expect(try await get(app, "/surveys", hq).body.string.contains("data-survey=\"\(submitted.id)\""))

            // the headquarters confirms it
            let page = try await get(app, "/parcels/\(id)", hq).body.string
            #expect(page.contains("action=\"/surveys/\(submitted.id)/review\""))
            res = try await post(app, "/surveys/\(submitted.id)/review", hq, [("decision", "confirm"), ("note", "核实无误")])
            #expect(res.status == .seeOther)
            let confirmed = try #require(try await app.store.survey(id: submitted.id))
            #expect(confirmed.state == "confirmed" && confirmed.reviewedBy == hq.principal.login && confirmed.reviewedAt != nil)
            // a second review is refused
            res = try await post(app, "/surveys/\(submitted.id)/review", hq, [("decision", "return"), ("note", "x")])
            #expect(res.status == .conflict)

            // the parcel shows who surveyed and verified it, and when
            for viewer in [hq, town] {
                let html = try await get(app, "/parcels/\(id)", viewer).body.string
                let surveyedBy = html.captures(#"<td class="surveyed-by">(.*?)</td>"#).first ?? ""
                let reviewedBy = html.captures(#"<td class="reviewed-by">(.*?)</td>"#).first ?? ""
                #expect(surveyedBy.contains("测试镇街") && surveyedBy.contains(HTML.dateTime(submitted.surveyedAt)))
                #expect(reviewedBy.contains("测试指挥部") && reviewedBy.contains(HTML.dateTime(confirmed.reviewedAt!)) && reviewedBy.contains("核实无误"))
                #expect(html.contains("<span class=\"surveyor\">测试镇街"))
                #expect(html.contains("<span class=\"verifier\">测试指挥部"))
            }
            card = try json(try await get(app, "/api/v1/parcels/\(id)", town))
            let survey = card["survey"] as? [String: Any] ?? [:]
            #expect(survey["state"] as? String == "confirmed" && survey["reviewed_by"] as? String == hq.principal.login)
            #expect(survey["surveyed_by_name"] as? String != nil && survey["photo"] as? String == "/surveys/\(submitted.id)/photo")
        }
    }

    @Test("survey permissions: another town's user gets 404, the headquarters 403; the JSON API returns and confirms")
    func surveyPermissions() async throws {
        try await TestApp.with { app in
            try await Self.loadLand(app)
            let hq = try await TestAuth.hq(app)
            let p = Self.land.parcels.first { $0.town == Self.homeTown }!
            let otherTown = Self.land.parcels.first { $0.town != Self.homeTown }!.town
            let stranger = try await TestAuth.session(app, .town, town: otherTown)
            let fields = [("actual_use", "工业生产"), ("idle", "0")]
            #expect(try await postMultipart(app, "/parcels/\(p.parcelID)/surveys", stranger, fields).status == .notFound)
            #expect(try await postJSON(app, "/api/v1/parcels/\(p.parcelID)/surveys", stranger, ["actual_use": "工业生产", "idle": false]).status == .notFound)
            #expect(try await postMultipart(app, "/parcels/\(p.parcelID)/surveys", hq, fields).status == .forbidden)
            #expect(try await postJSON(app, "/api/v1/parcels/\(p.parcelID)/surveys", hq, ["actual_use": "工业生产", "idle": false]).status == .forbidden)
            let ent = try await TestAuth.session(app, .enterprise, creditCode: Self.land.landUse[0].creditCode)
            #expect(try await postMultipart(app, "/parcels/\(p.parcelID)/surveys", ent, fields).status == .forbidden)
            #expect(try await app.store.surveys(parcelID: p.parcelID).isEmpty)

            // the JSON API of the town, then a review that returns it
            let town = try await TestAuth.session(app, .town, town: Self.homeTown)
            var res = try await postJSON(app, "/api/v1/parcels/\(p.parcelID)/surveys", town,
                                         ["actual_use": "闲置", "idle": true, "occupants_seen": "无", "remarks": "厂房空置"])
            #expect(res.status == .created)
            let s = try json(res)
            let sid = try #require(s["id"] as? Int)
            #expect(s["state"] as? String == "submitted" && s["idle"] as? Bool == true && s["parcel_id"] as? String == p.parcelID)
            #expect(try await postJSON(app, "/api/v1/parcels/\(p.parcelID)/surveys", town, ["actual_use": "闲置"]).status == .badRequest,
                    "idle is required")
            // a town may not review
            #expect(try await postJSON(app, "/api/v1/surveys/\(sid)/review", town, ["decision": "confirm"]).status == .forbidden)
            // returning needs a note
            #expect(try await postJSON(app, "/api/v1/surveys/\(sid)/review", hq, ["decision": "return"]).status == .badRequest)
            #expect(try await postJSON(app, "/api/v1/surveys/\(sid)/review", hq, ["decision": "maybe"]).status == .badRequest)
            res = try await postJSON(app, "/api/v1/surveys/\(sid)/review", hq, ["decision": "return", "note": "请补充现场照片"])
            #expect(res.status == .ok)
            #expect(try json(res)["state"] as? String == "returned")
            #expect(try await postJSON(app, "/api/v1/surveys/\(sid)/review", hq, ["decision": "confirm"]).status == .conflict)
            #expect(try await postJSON(app, "/api/v1/surveys/999999/review", hq, ["decision": "confirm"]).status == .notFound)
            // the enterprise sees no survey of its parcel
            let card = try json(try await get(app, "/api/v1/parcels/\(Self.land.landUse[0].parcelID)", ent))
            #expect(card["survey"] == nil || card["survey"] is NSNull)
            #expect(try await get(app, "/surveys/\(sid)/photo", ent).status == .notFound)
        }
    }

    // MARK: - clusters

    @Test("/clusters lists the candidates, and the XLSX export has one row per candidate")
    func clusters() async throws {
        try await TestApp.with { app in
            try await Self.loadLand(app)
            let hq = try await TestAuth.hq(app)
            let candidates = try await app.store.clusters(year: Self.year, candidatesOnly: true).rows
            #expect(!candidates.isEmpty)
            var res = try await get(app, "/clusters?year=\(Self.year)", hq)
            #expect(res.status == .ok)
            var listed = res.body.string.captures(#"<tr data-cluster="(\d+)""#).compactMap(Int.init)
            #expect(Set(listed) == Set(candidates.map(\.summary.number)) && listed.count == candidates.count)
            #expect(res.body.string.contains("/map?year=\(Self.year)&amp;cluster=\(listed[0])"))
            // sorted by area, largest first, by default; by number when asked
            let areas = candidates.map(\.summary).sorted { $0.areaMu > $1.areaMu }
            #expect(listed.first == areas.first?.number)
            res = try await get(app, "/clusters?year=\(Self.year)&sort=number&order=asc", hq)
            listed = res.body.string.captures(#"<tr data-cluster="(\d+)""#).compactMap(Int.init)
            #expect(listed == listed.sorted())

            // the export
            res = try await get(app, "/clusters.xlsx?year=\(Self.year)", hq)
            #expect(res.status == .ok)
            #expect(res.headers.contentType?.description.contains("spreadsheetml") == true)
            let table = try XLSXTable(data: Data(res.body.readableBytesView))
            var rows = 0
            try table.forEachRow { _, _ in rows += 1 }
            #expect(rows == candidates.count)
            #expect(table.headers.first == "片区编号")

            // a town sees the candidates touching its town
            let town = try await TestAuth.session(app, .town, town: Self.homeTown)
            res = try await get(app, "/clusters?year=\(Self.year)", town)
            let mine = res.body.string.captures(#"<tr data-cluster="(\d+)""#).compactMap(Int.init)
            let expected = candidates.filter { $0.summary.towns.contains(Self.homeTown) }.map(\.summary.number)
            #expect(Set(mine) == Set(expected))
            // and the map zooms to one
            if let n = expected.first {
                let page = try await get(app, "/map?cluster=\(n)&year=\(Self.year)", town).body.string
                #expect(page.contains("\"kind\":\"cluster\""))
            }
        }
    }

    @Test("a cluster holds only low-efficiency parcels; /clusters/N lists them with occupants, reasons and kinds; outside the scope 404")
    func clusterDetail() async throws {
        try await TestApp.with { app in
            try await Self.loadLand(app)
            let hq = try await TestAuth.hq(app)
            // every parcel in a cluster is low-efficiency, and every low-efficiency parcel is in one
            let rows = try await app.store.parcels(Store.ParcelFilter(year: Self.year), limit: 1_000_000).rows
            #expect(rows.contains { $0.lowEfficiency == false } && rows.contains { $0.lowEfficiency == true })
            #expect(rows.allSatisfy { ($0.cluster != nil) == ($0.lowEfficiency == true) })
            let clusters = try await app.store.clusters(year: Self.year).rows.map(\.summary)
            let candidates = clusters.filter(\.candidate)
            #expect(!candidates.isEmpty, "the demo city has no renewal candidate")
            #expect(clusters.allSatisfy { $0.block != nil && $0.blockLowEfficiencyShare <= 1 && $0.block!.areaMu >= $0.areaMu - 1e-9 })
            #expect(clusters.allSatisfy { ($0.categories ?? []).reduce(0) { $0 + $1.parcels } == $0.count })
            // the demo's dates place parcels in several of the five kinds
            let kinds = Set(clusters.flatMap { ($0.categories ?? []).compactMap(\.category) })
            #expect(kinds.count >= 3, "kinds in the demo: \(kinds)")

            let c = candidates.max { $0.count < $1.count }!
            var res = try await get(app, "/clusters/\(c.number)?year=\(Self.year)", hq)
            #expect(res.status == .ok)
            let page = res.body.string
            let listed = page.captures(#"<tr data-parcel="([^"]+)""#)
            #expect(listed.sorted() == c.parcelIDs.sorted())
            #expect(page.contains("id=\"block-share\"") && page.contains("id=\"candidate-tag\""))
            #expect(page.contains(String(format: "%.1f%%", c.block!.lowEfficiencyShare * 100)))
            let categoryRows = page.captures(#"<tr data-category="([a-z_]+)""#)
            #expect(categoryRows == (c.categories ?? []).map { $0.category?.rawValue ?? "none" })
            // an occupant of the cluster shows with its class (published to HQ)
            let details = try await app.store.assessments(year: Self.year, ids: c.parcelIDs)
            if let o = details.values.flatMap(\.occupants).first(where: { $0.finalClass != nil }) {
                #expect(page.contains("data-code=\"\(o.creditCode)\""))
            }
            // the list links to it
            #expect(try await get(app, "/clusters?year=\(Self.year)", hq).body.string.contains("/clusters/\(c.number)?year=\(Self.year)"))
            // the parcel card names the cluster's page and the parcel's kind
            let card = try json(try await get(app, "/api/v1/parcels/\(c.parcelIDs[0])?year=\(Self.year)", hq))
            #expect((card["cluster"] as? [String: Any])?["page"] as? String == "/clusters/\(c.number)?year=\(Self.year)")
            #expect(card["category_name"] as? String == details[c.parcelIDs[0]]?.category?.chinese)

            // a town sees the clusters touching it, and not the others
            let town = try await TestAuth.session(app, .town, town: Self.homeTown)
            if let other = clusters.first(where: { !$0.towns.contains(Self.homeTown) }) {
                #expect(try await get(app, "/clusters/\(other.number)?year=\(Self.year)", town).status == .notFound)
            }
            if let mine = clusters.first(where: { $0.towns.contains(Self.homeTown) }) {
                #expect(try await get(app, "/clusters/\(mine.number)?year=\(Self.year)", town).status == .ok)
            }
            #expect(try await get(app, "/clusters/\(c.number)?year=\(Self.year)", try await TestAuth.session(app, .bank)).status == .forbidden)
            res = try await get(app, "/clusters/999999?year=\(Self.year)", hq)
            #expect(res.status == .notFound && res.body.string.contains("999999"))
        }
    }

    // MARK: - the land import page

    @Test("/land refuses a bow-tie parcel naming it and writes nothing; imports good files and re-runs the assessment")
    func landUpload() async throws {
        try await TestApp.with { app in
            try await Self.loadLand(app)
            let hq = try await TestAuth.hq(app)
            #expect(try await get(app, "/land", hq).status == .ok)
            let before = try await app.store.parcelIDs()
            let bowTie = """
            {"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"地块编号":"BOWTIE-0001","所属镇街":"古山镇"},
             "geometry":{"type":"Polygon","coordinates":[[[120.030,28.900],[120.032,28.902],[120.032,28.900],[120.030,28.902],[120.030,28.900]]]}},
            {"type":"Feature","properties":{"地块编号":"GOOD-0001","所属镇街":"古山镇"},
             "geometry":{"type":"Polygon","coordinates":[[[120.040,28.900],[120.041,28.900],[120.041,28.901],[120.040,28.901],[120.040,28.900]]]}}
            ]}
            """
            var res = try await postMultipart(app, "/land/parcels", hq, [("crs", "")],
                                              file: ("file", "bad.geojson", "application/geo+json", Data(bowTie.utf8)))
            #expect(res.status == .unprocessableEntity)
            let html = res.body.string
            #expect(html.contains("id=\"error-table\""))
            #expect(html.contains("BOWTIE-0001"), "the bad parcel is named")
            #expect(html.contains("未写入任何数据"))
            #expect(try await app.store.parcelIDs() == before, "nothing written")

            // no file
            res = try await postMultipart(app, "/land/parcels", hq, [])
            #expect(res.status == .badRequest)

            // a land-use file naming an unknown parcel
            let csv = "地块编号,统一社会信用代码,关系,面积(亩)\nNO-SUCH-PARCEL,\(Self.land.landUse[0].creditCode),自有,\n"
            res = try await postMultipart(app, "/land/land-use", hq, [], file: ("file", "用地关系.csv", "text/csv", Data(csv.utf8)))
            #expect(res.status == .unprocessableEntity)
            #expect(res.body.string.contains("NO-SUCH-PARCEL"))

            // good files (the demo's own, in EPSG:4549) and the assessment
            res = try await postMultipart(app, "/land/parcels", hq, [("crs", "EPSG:4549")],
                                          file: ("file", "parcels.geojson", "application/geo+json", try Self.land.geoJSON()))
            #expect(res.status == .ok)
            #expect(res.body.string.contains("id=\"imported-count\">\(Self.land.parcels.count)<"))
            res = try await postMultipart(app, "/land/land-use", hq, [],
                                          file: ("file", "land-use.csv", "text/csv", Self.land.landUseCSV()))
            #expect(res.status == .ok)
            #expect(res.body.string.contains("id=\"imported-count\">\(Self.land.landUse.count)<"))
            res = try await post(app, "/land/assess", hq, [("year", "\(Self.year)")])
            #expect(res.status == .ok)
            let low = try await app.store.parcels(.init(year: Self.year, lowEfficiencyOnly: true), limit: 0).total
            #expect(res.body.string.contains("data-low=\"\(low)\""))
            #expect(try await post(app, "/land/assess", hq, [("year", "x")]).status == .badRequest)

            // only land managers
            let town = try await TestAuth.session(app, .town, town: Self.homeTown)
            #expect(try await get(app, "/land", town).status == .forbidden)
            #expect(try await postMultipart(app, "/land/parcels", town, []).status == .forbidden)
        }
    }

    @Test("an enterprise sees its own parcels on /my and on the map, nothing else")
    func enterpriseParcels() async throws {
        try await TestApp.with { app in
            try await Self.loadLand(app)
            let code = Self.land.landUse.first { u in Self.land.landUse.filter { $0.creditCode == u.creditCode }.count >= 1 }!.creditCode
            let mine = Set(Self.land.landUse.filter { $0.creditCode == code }.map(\.parcelID))
                .union(Self.land.parcels.filter { $0.ownerCreditCode == code }.map(\.parcelID))
            let ent = try await TestAuth.session(app, .enterprise, creditCode: code)
            let obj = try json(try await get(app, "/api/v1/map/parcels?year=\(Self.year)", ent))
            let ids = Set((obj["features"] as? [[String: Any]] ?? []).compactMap { ($0["properties"] as? [String: Any])?["id"] as? String })
            #expect(ids == mine)
            let other = Self.land.parcels.first { !mine.contains($0.parcelID) }!
            #expect(try await get(app, "/api/v1/parcels/\(other.parcelID)", ent).status == .notFound)
            // /my (the results are visible once published)
            try await app.store.setPublication(year: Self.year, status: .final, start: nil, end: nil, actor: "test")
            let page = try await get(app, "/my", ent)
            #expect(page.status == .ok)
            let html = page.body.string
            #expect(html.contains("id=\"my-parcels-table\"") && html.contains("id=\"my-parcels-data\""))
            for id in mine { #expect(html.contains("data-parcel=\"\(id)\"")) }
            #expect(!html.contains("data-parcel=\"\(other.parcelID)\""))
        }
    }
}
