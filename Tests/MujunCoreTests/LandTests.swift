import Foundation
import Testing
@testable import MujunCore

/// Parcels, GEOS/PROJ wrappers, the GeoJSON import, contiguous clusters, low-efficiency land
/// and the demo land (issue 4, core part).
@Suite(.serialized) struct LandTests {
    static let towns = Rules.default.towns
    static func code(_ n: Int) -> String { CreditCode.complete("91330784" + String(format: "%09d", n)) }

    // MARK: Helpers

    /// A GeoJSON FeatureCollection from features given as (properties JSON, geometry JSON).
    static func collection(_ features: [(String, String)], crs: String? = "urn:ogc:def:crs:EPSG::4549") -> Data {
        var s = "{\"type\":\"FeatureCollection\","
        if let crs { s += "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"\(crs)\"}}," }
        s += "\"features\":["
        s += features.map { "{\"type\":\"Feature\",\"properties\":{\($0.0)},\"geometry\":\($0.1)}" }.joined(separator: ",\n")
        return Data((s + "]}").utf8)
    }

    static func props(_ id: String, town: String = "古山镇", extra: String = "") -> String {
        "\"地块编号\":\"\(id)\",\"所属镇街\":\"\(town)\"" + (extra.isEmpty ? "" : "," + extra)
    }

    /// A Polygon geometry JSON from rings of interleaved coordinates.
    static func polygonJSON(_ rings: [[Double]]) -> String {
        let r = rings.map { ring in
            "[" + stride(from: 0, to: ring.count, by: 2).map { "[\(ring[$0]),\(ring[$0 + 1])]" }.joined(separator: ",") + "]"
        }
        return "{\"type\":\"Polygon\",\"coordinates\":[\(r.joined(separator: ","))]}"
    }

    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> [Double] {
        [x, y, x + w, y, x + w, y + h, x, y + h, x, y]
    }

    /// A parcel in EPSG:4549 from rectangles (one → Polygon, several → MultiPolygon).
    static func parcel(_ id: String, _ rects: [[Double]], town: String = "古山镇", status: ParcelStatus? = .inUse,
                       far: Double? = nil, owner: String? = nil) -> Parcel {
        let polys = rects.map { [$0] }
        let wkb = polys.count == 1 ? WKB.polygon(polys[0]) : WKB.multiPolygon(polys)
        var box = BBox(minX: .infinity, minY: .infinity, maxX: -.infinity, maxY: -.infinity)
        for r in rects { box = box.union(BBox(minX: r[0], minY: r[1], maxX: r[4], maxY: r[5])) }
        return Parcel(parcelID: id, town: town, ownerCreditCode: owner, far: far, status: status, geometry: wkb,
                      bbox: box, areaMu: Projection.mu(squareMetres: WKB.area(polys)))
    }

    func importFailure(_ data: Data, crs: String? = nil, towns: [String]? = LandTests.towns) -> ImportFailure? {
        do {
            let parcels = try ParcelImport.read(geojson: data, crs: crs, towns: towns)
            Issue.record("accepted \(parcels.count) parcels from a bad file")
            return nil
        } catch {
            return error
        }
    }

    // MARK: CRS names and PROJ

    @Test func everyCRSNameFormParses() throws {
        let forms: [(String, CRSName)] = [
            ("EPSG:4549", .epsg(4549)), ("epsg:4549", .epsg(4549)), ("urn:ogc:def:crs:EPSG::4549", .epsg(4549)),
            ("urn:ogc:def:crs:EPSG:9.8.15:4549", .epsg(4549)),
            ("http://www.opengis.net/def/crs/EPSG/0/4549", .epsg(4549)),
            ("https://www.opengis.net/def/crs/EPSG/0/4528", .epsg(4528)),
            ("[EPSG:4490]", .epsg(4490)), ("4326", .epsg(4326)), (" EPSG:4326 ", .epsg(4326)),
            ("urn:ogc:def:crs:OGC:1.3:CRS84", .crs84), ("urn:ogc:def:crs:OGC::CRS84", .crs84),
            ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", .crs84), ("CRS84", .crs84), ("OGC:CRS84", .crs84),
            ("crs84", .crs84),
        ]
        for (text, expected) in forms {
            #expect(try CRSName(text) == expected, "\(text)")
            #expect(CRSName.parse(text) == expected, "\(text)")
        }
        #expect(CRSName.epsg(4549).uri == "http://www.opengis.net/def/crs/EPSG/0/4549")
        #expect(CRSName.crs84.uri == "http://www.opengis.net/def/crs/OGC/1.3/CRS84")
        #expect(CRSName.epsg(4549).urn == "urn:ogc:def:crs:EPSG::4549")
        for c in CRSName.supported {  // canonical forms parse back
            #expect(try CRSName(c.uri) == c && CRSName(c.urn) == c && CRSName(c.code) == c)
        }
        for bad in ["EPSG:3857", "EPSG:abc", "foo", "", "urn:ogc:def:crs:EPSG::", "OGC:CRS27"] {
            #expect(throws: ProjectionError.self, "\(bad)") { try CRSName(bad) }
        }
        do { _ = try CRSName("EPSG:3857"); Issue.record("accepted") } catch {
            #expect(error.zh.contains("不支持") && error.en.contains("unsupported CRS EPSG:3857"))
        }
    }

    @Test func axisOrderFromPROJMatchesTheTable() throws {
        #expect(Projection.databasePath() != nil)
        for c in CRSName.supported {
            #expect(try Projection.axisOrderIsNorthEast(c) == c.authorityAxisOrderIsNorthEast, "\(c)")
        }
        #expect(try Projection.axisOrderIsNorthEast(.epsg(4549)) == true)   // northing (X), easting (Y)
        #expect(try Projection.axisOrderIsNorthEast(.crs84) == false)
    }

    @Test func reprojectionRoundTripsAndAxisOrders() throws {
        let toGeo = try Reprojector(from: .working, to: .crs84)
        let p = try toGeo.transform(x: 503_000, y: 3_197_000)
        #expect(abs(p.x - 120.0307) < 0.001 && abs(p.y - 28.895) < 0.01)  // Yongkang, lon first
        let back = try toGeo.transform(x: p.x, y: p.y, inverse: true)
        #expect(abs(back.x - 503_000) < 0.001 && abs(back.y - 3_197_000) < 0.001)
        // EPSG order: 4326 is lat, lon; 4549 is northing, easting.
        let latLon = try Reprojector(from: .working, to: .epsg(4326), targetAxes: .authority).transform(x: 503_000, y: 3_197_000)
        #expect(abs(latLon.x - p.y) < 1e-7 && abs(latLon.y - p.x) < 1e-7)
        let ne = try Reprojector(from: .working, to: .working, targetAxes: .authority).transform(x: 503_000, y: 3_197_000)
        #expect(ne.x == 3_197_000 && ne.y == 503_000)
        let crs84to4326 = try Reprojector(from: .crs84, to: .epsg(4326), targetAxes: .authority).transform(x: 120, y: 28)
        #expect(crs84to4326.x == 28 && crs84to4326.y == 120)
        // 4528 is 4549 with the zone number 40 in front of the easting.
        let z = try Reprojector(from: .working, to: .epsg(4528)).transform(x: 503_000, y: 3_197_000)
        #expect(abs(z.x - 40_503_000) < 1e-6 && abs(z.y - 3_197_000) < 1e-6)
        // A box transforms to a box holding every edge.
        let box = try toGeo.transform(BBox(minX: 502_000, minY: 3_196_000, maxX: 504_000, maxY: 3_198_000))
        #expect(box.minX < p.x && p.x < box.maxX && box.minY < p.y && p.y < box.maxY)
    }

    /// A 100 m × 100 m square = 15 mu, whatever CRS the file is in.
    @Test(arguments: [CRSName.crs84, .epsg(4326), .epsg(4490), .epsg(4528), .epsg(4549)])
    func squareOf100MetresIs15MuInEveryCRS(_ crs: CRSName) throws {
        var ring = Self.rect(503_000, 3_197_000, 100, 100)
        let projector = try Reprojector(from: .working, to: crs)
        #expect(projector.transform(&ring))
        ring[8] = ring[0]; ring[9] = ring[1]
        let data = Self.collection([(Self.props("SQ-1"), Self.polygonJSON([ring]))], crs: crs.urn)
        let parcels = try ParcelImport.read(geojson: data, towns: Self.towns)
        #expect(parcels.count == 1)
        #expect(abs(parcels[0].areaMu - 15) / 15 < 0.001, "\(crs): \(parcels[0].areaMu)")
        #expect(abs(parcels[0].bbox.minX - 503_000) < 0.01 && abs(parcels[0].bbox.maxY - 3_197_100) < 0.01)
        // the override wins over the member; CRS84 is the default without either
        if crs == .crs84 {
            let noMember = Self.collection([(Self.props("SQ-1"), Self.polygonJSON([ring]))], crs: nil)
            #expect(abs(try ParcelImport.read(geojson: noMember, towns: Self.towns)[0].areaMu - 15) < 0.015)
        }
        let wrongMember = Self.collection([(Self.props("SQ-1"), Self.polygonJSON([ring]))], crs: "EPSG:3857")
        #expect(abs(try ParcelImport.read(geojson: wrongMember, crs: crs.code, towns: Self.towns)[0].areaMu - 15) < 0.015)
    }

    // MARK: GEOS

    @Test func geosBasics() throws {
        let ctx = GEOSContext()
        let a = try Geometry(wkt: "POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))", context: ctx)
        let b = try Geometry(wkt: "POLYGON((119 0, 219 0, 219 100, 119 100, 119 0))", context: ctx)
        #expect(try a.area() == 10_000)
        #expect(try a.distance(to: b) == 19)
        #expect(try a.isWithinDistance(b, 19) && !(try a.isWithinDistance(b, 18.99)))
        #expect(try !a.intersects(b))
        #expect(a.bbox == BBox(minX: 0, minY: 0, maxX: 100, maxY: 100))
        #expect(a.isValid && a.validityProblem == nil && a.validityReason == "Valid Geometry")
        let round = try Geometry(wkb: a.wkb, context: ctx)
        #expect(try round.area() == 10_000 && round.type == .polygon)
        #expect(a.wkb == WKB.polygon([Self.rect(0, 0, 100, 100)]))   // the Swift writer matches GEOS
        #expect(WKB.polygons(a.wkb)! == [[Self.rect(0, 0, 100, 100)]])
        let bow = try Geometry(wkt: "POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))", context: ctx)
        #expect(!bow.isValid)
        #expect(bow.validityReason.hasPrefix("Self-intersection["))
        #expect(bow.validityProblem?.reason == "Self-intersection" && bow.validityProblem?.x == 5 && bow.validityProblem?.chinese == "自相交")
        let u = try a.union(b)
        #expect(try u.area() == 20_000 && u.type == .multiPolygon)
        #expect(try a.buffer(10, square: true).area() == 120 * 120)
        #expect(throws: GEOSError.self) { try Geometry(wkt: "POLYGON((0 0, 1 1))", context: ctx) }
        do { _ = try Geometry(wkb: Data([1, 2, 3]), context: ctx); Issue.record("bad WKB read") } catch {
            #expect(!error.message.isEmpty)   // the handler caught GEOS's message
        }
        let tree = STRtree(context: ctx)
        tree.insert(BBox(minX: 0, minY: 0, maxX: 1, maxY: 1), item: 0)
        tree.insert(BBox(minX: 5, minY: 5, maxX: 6, maxY: 6), item: 1)
        tree.insert(BBox(minX: 0.5, minY: 0.5, maxX: 5.5, maxY: 5.5), item: 2)
        #expect(tree.query(BBox(minX: 0, minY: 0, maxX: 0.6, maxY: 0.6)) == [0, 2])
        #expect(tree.query(BBox(minX: 10, minY: 10, maxX: 11, maxY: 11)) == [])
    }

    // MARK: Import: bad input

    @Test func everyBadFeatureIsNamedAndNothingIsReturned() {
        let good = Self.rect(503_000, 3_197_000, 100, 100)
        let bowTie: [Double] = [503_000, 3_197_000, 503_100, 3_197_100, 503_100, 3_197_000, 503_000, 3_197_100, 503_000, 3_197_000]
        let unclosed = Array(Self.rect(503_200, 3_197_000, 100, 100).dropLast(2))
        let threePoints = [503_400.0, 3_197_000, 503_500, 3_197_000, 503_400, 3_197_000]
        let features: [(String, String)] = [
            (Self.props("G-1"), Self.polygonJSON([good])),
            (Self.props("BOW-1"), Self.polygonJSON([bowTie])),
            (Self.props("OPEN-1"), Self.polygonJSON([unclosed])),
            (Self.props("TRI-1"), Self.polygonJSON([threePoints])),
            (Self.props("G-1"), Self.polygonJSON([Self.rect(503_600, 3_197_000, 50, 50)])),
            (Self.props("MARS-1", town: "火星镇"), Self.polygonJSON([Self.rect(503_800, 3_197_000, 50, 50)])),
            (Self.props("NUM-1", extra: "\"登记面积(亩)\":\"十五\",\"容积率\":-1"), Self.polygonJSON([Self.rect(504_000, 3_197_000, 50, 50)])),
            (Self.props("ST-1", extra: "\"现状\":\"荒废\""), Self.polygonJSON([Self.rect(504_200, 3_197_000, 50, 50)])),
            (Self.props("PT-1"), "{\"type\":\"Point\",\"coordinates\":[503000,3197000]}"),
            (Self.props("NULL-1"), "null"),
            ("\"所属镇街\":\"古山镇\"", Self.polygonJSON([Self.rect(504_400, 3_197_000, 50, 50)])),
            (Self.props("OWN-1", extra: "\"权利人信用代码\":\"91330784000000001X\""), Self.polygonJSON([Self.rect(504_600, 3_197_000, 50, 50)])),
            (Self.props("EMPTY-1"), "{\"type\":\"Polygon\",\"coordinates\":[]}"),
        ]
        guard let failure = importFailure(Self.collection(features)) else { return }
        let text = failure.errors.map { "\($0.row) \($0.column) \($0.messageZh) | \($0.messageEn)" }
        func find(_ id: String) -> [RowError] { failure.errors.filter { $0.messageZh.contains(id) && $0.messageEn.contains(id) } }
        #expect(find("BOW-1").first?.messageZh.contains("自相交") == true, "\(text)")
        #expect(find("BOW-1").first?.messageEn.contains("Self-intersection") == true)
        #expect(find("BOW-1").first?.messageZh.contains("503050") == true)   // where, in the file's CRS
        #expect(find("OPEN-1").first?.messageEn.contains("unclosed ring") == true, "\(text)")
        #expect(find("OPEN-1").first?.messageZh.contains("未闭合") == true)
        #expect(find("TRI-1").first?.messageEn.contains("too few points") == true, "\(text)")
        #expect(find("TRI-1").first?.messageZh.contains("只有 3 个点") == true)
        #expect(find("G-1").first?.messageZh.contains("重复") == true && find("G-1").first?.row == 5, "\(text)")
        #expect(find("G-1").first?.messageEn.contains("duplicate parcel id G-1 (also feature 1)") == true)
        #expect(find("MARS-1").first?.messageZh.contains("未知镇街") == true && find("MARS-1").first?.column == "所属镇街")
        #expect(find("NUM-1").contains { $0.column == "登记面积(亩)" && $0.messageEn.contains("not a number") })
        #expect(find("NUM-1").contains { $0.column == "容积率" && $0.messageEn.contains("negative") })
        #expect(find("ST-1").first?.messageZh.contains("未知现状") == true && find("ST-1").first?.column == "现状")
        #expect(find("PT-1").first?.messageEn.contains("Point, not a Polygon or MultiPolygon") == true)
        #expect(find("NULL-1").first?.messageEn.contains("missing") == true)
        #expect(failure.errors.contains { $0.row == 11 && $0.messageZh.contains("第 11 个要素（无地块编号）") && $0.messageEn.contains("feature 11 (no parcel id)") })
        #expect(find("OWN-1").first?.column == "权利人信用代码")
        #expect(find("EMPTY-1").first?.messageEn.contains("empty") == true)
        #expect(!failure.errors.contains { $0.messageZh.contains("地块 G-1：") && $0.row == 1 })  // the good one is fine
        let described = ParcelImport.describe(failure)
        #expect(described.contains("要素 2 [geometry]：地块 BOW-1") && described.contains("feature 2 [geometry]: parcel BOW-1"))
    }

    @Test func fileLevelProblems() {
        let square = Self.polygonJSON([Self.rect(503_000, 3_197_000, 100, 100)])
        func firstError(_ text: String, crs: String? = nil) -> RowError? {
            importFailure(Data(text.utf8), crs: crs)?.errors.first
        }
        #expect(firstError("{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}")?.messageEn.contains("not a GeoJSON FeatureCollection") == true)
        #expect(firstError("[1,2]")?.messageEn.contains("top level") == true)
        #expect(firstError("{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":}]}")?.messageEn.contains("line 2") == true)
        #expect(firstError("")?.messageEn.contains("empty") == true)
        #expect(firstError("{\"type\":\"FeatureCollection\",\"features\":[]}")?.messageEn.contains("no parcels") == true)
        let unknown = String(decoding: Self.collection([(Self.props("A"), square)], crs: "EPSG:3857"), as: UTF8.self)
        #expect(firstError(unknown)?.column == "crs")
        #expect(firstError(unknown)?.messageEn.contains("unsupported CRS EPSG:3857") == true)
        #expect(firstError(String(decoding: Self.collection([(Self.props("A"), square)]), as: UTF8.self), crs: "EPSG:9999")?.column == "--crs")
        // metres read as degrees: every feature outside → one message about the CRS
        let many = Self.collection((1...5).map { (Self.props("M-\($0)"), Self.polygonJSON([Self.rect(503_000 + Double($0) * 200, 3_197_000, 100, 100)])) }, crs: nil)
        let f = importFailure(many)
        #expect(f?.errors.count == 1 && f?.errors.first?.column == "crs")
        #expect(f?.errors.first?.messageZh.contains("--crs EPSG:4549") == true, "\(f?.errors ?? [])")
        // a 4528 file written without the zone prefix
        let noZone = String(decoding: Self.collection([(Self.props("Z-1"), square)], crs: "EPSG:4528"), as: UTF8.self)
        #expect(firstError(noZone)?.messageEn.contains("zone number 40") == true)
        // swapped longitude and latitude
        let swapped = Self.polygonJSON([[28.9, 120.0, 28.9, 120.001, 28.901, 120.001, 28.9, 120.0]])
        #expect(firstError(String(decoding: Self.collection([(Self.props("S-1"), swapped)], crs: nil), as: UTF8.self))?.messageEn.contains("swapped") == true)
    }

    @Test func propertiesMatchByChineseEnglishAndShapefileCutNames() throws {
        let square = Self.polygonJSON([Self.rect(503_000, 3_197_000, 100, 100)])
        let owner = Self.code(5)
        let data = Self.collection([
            ("\"PARCEL_ID\":\"E-1\",\"Town\":\"古山镇\",\"registered_mu\":\"15.5\",\"far\":1.2,\"status\":\"idle\",\"owner_credit_code\":\"\(owner)\",\"land_use\":\"工业用地\",\"block\":\"下谢山区块\"", square),
            // ogr2ogr → Shapefile (10-byte DBF names) → GeoJSON
            ("\"地块编�\":\"E-2\",\"所属镇�\":\"古山镇\",\"登记面�\":14,\"权利人�\":\"\(owner)\",\"现状\":\"在建\"",
             Self.polygonJSON([Self.rect(503_200, 3_197_000, 100, 100)])),
            ("\"地块编号\":\"E-3\",\"所属镇街\":\"古山镇\",\"登记面积(\":15,\"权利人信用\":\"\(owner)\",\"owner_cred\":\"\(owner)\"",
             Self.polygonJSON([Self.rect(503_400, 3_197_000, 100, 100)])),
            ("\"parcel_id\":\"E-4\",\"town\":\"古山镇\",\"registered\":20,\"地块\":\"x\"",
             Self.polygonJSON([Self.rect(503_600, 3_197_000, 100, 100)])),
        ])
        let p = try ParcelImport.read(geojson: data, towns: Self.towns, tolerance: 0.05)
        #expect(p.map(\.parcelID) == ["E-1", "E-2", "E-3", "E-4"])
        #expect(p[0].registeredMu == 15.5 && p[0].far == 1.2 && p[0].status == .idle && p[0].ownerCreditCode == owner)
        #expect(p[0].block == "下谢山区块" && p[0].landUse == "工业用地" && !p[0].areaMismatch)
        #expect(p[1].registeredMu == 14 && p[1].ownerCreditCode == owner && p[1].status == .underConstruction)
        #expect(p[1].areaMismatch)   // 15 vs 14: 7 %
        #expect(p[2].registeredMu == 15 && p[2].ownerCreditCode == owner)
        #expect(p[3].registeredMu == 20 && p[3].areaMismatch && p[3].isAreaMismatch(tolerance: 0.3) == false)
        #expect(abs(p[3].areaDifference! + 0.25) < 1e-9)
    }

    @Test func multiPolygonsAndHolesImport() throws {
        let outer = Self.rect(503_000, 3_197_000, 100, 100)
        let hole = [503_040.0, 3_197_040, 503_040, 3_197_060, 503_060, 3_197_060, 503_060, 3_197_040, 503_040, 3_197_040]
        let a = Self.polygonJSON([outer, hole])
        let parts = "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[503200,3197000],[503300,3197000],[503300,3197100],[503200,3197100],[503200,3197000]]],[[[503400,3197000],[503500,3197000],[503500,3197100],[503400,3197100],[503400,3197000]]]]}"
        let p = try ParcelImport.read(geojson: Self.collection([(Self.props("H-1"), a), (Self.props("MP-1"), parts)]), towns: nil)
        #expect(abs(p[0].areaMu - Projection.mu(squareMetres: 10_000 - 400)) < 1e-9)
        #expect(abs(p[1].areaMu - 30) < 1e-9)
        #expect(WKB.polygons(p[1].geometry)?.count == 2)
        // a MultiPolygon whose parts overlap is invalid
        let ctx = GEOSContext()
        let mp = try Geometry(wkt: "MULTIPOLYGON(((0 0,10 0,10 10,0 10,0 0)),((5 5,15 5,15 15,5 15,5 5)))", context: ctx)
        #expect(!mp.isValid)
    }

    // MARK: Land use

    @Test func landUseRowsAreChecked() throws {
        let csv = """
        地块编号,统一社会信用代码,关系,面积（亩）
        P-1,\(Self.code(1)),自有,10
        P-1,\(Self.code(2).lowercased()),租赁,2.5
        P-2,\(Self.code(1)),租赁,
        """
        let rows = try LandUseImport.read(table: try CSVTable(data: Data(csv.utf8)), knownParcels: ["P-1", "P-2"])
        #expect(rows.count == 3)
        #expect(rows[0].relation == .owned && rows[0].areaMu == 10 && rows[0].row == 2)
        #expect(rows[1].creditCode == Self.code(2) && rows[1].relation == .leased)
        #expect(rows[2].areaMu == nil)
        let bad = String(Self.code(3).dropLast()) + (Self.code(3).last == "0" ? "1" : "0")
        let badCSV = """
        parcel_id,credit_code,relation,area_mu
        P-9,\(Self.code(1)),自有,1
        P-1,\(bad),自有,1
        P-1,\(Self.code(4)),借用,1
        P-1,\(Self.code(5)),租赁,-2
        P-1,\(Self.code(6)),租赁,abc
        P-1,\(Self.code(1)),自有,1
        P-1,\(Self.code(1)),租赁,1
        P-1,\(Self.code(7)),租赁,1
        """
        do {
            _ = try LandUseImport.read(table: try CSVTable(data: Data(badCSV.utf8)), knownParcels: ["P-1"],
                                       knownEnterprises: Set((1...6).map(Self.code)))
            Issue.record("bad land use accepted")
        } catch {
            let byRow = Dictionary(grouping: error.errors, by: \.row)
            #expect(byRow[2]?.first?.messageEn.contains("no parcel P-9") == true)
            #expect(byRow[3]?.first?.column == "credit_code")
            #expect(byRow[4]?.first?.column == "relation")
            #expect(byRow[5]?.first?.messageEn.contains("negative") == true)
            #expect(byRow[6]?.first?.messageEn.contains("not a number") == true)
            #expect(byRow[7] == nil)
            #expect(byRow[8]?.first?.messageZh.contains("与第 7 行重复") == true)
            #expect(byRow[9]?.first?.messageEn.contains("not a known enterprise") == true)
        }
    }

    // MARK: Clusters

    @Test func gapIsInclusiveAtTwentyMetres() throws {
        let near = [Self.parcel("A", [Self.rect(503_000, 3_197_000, 100, 100)]),
                    Self.parcel("B", [Self.rect(503_119, 3_197_000, 100, 100)])]   // 19 m
        let far = [Self.parcel("A", [Self.rect(503_000, 3_197_000, 100, 100)]),
                   Self.parcel("B", [Self.rect(503_121, 3_197_000, 100, 100)])]    // 21 m
        let exact = [Self.parcel("A", [Self.rect(503_000, 3_197_000, 100, 100)]),
                     Self.parcel("B", [Self.rect(503_120, 3_197_000, 100, 100)])]  // 20 m
        #expect(try Clustering.cluster(near, gap: 20).clusters.count == 1)
        #expect(try Clustering.cluster(far, gap: 20).clusters.count == 2)
        #expect(try Clustering.cluster(exact, gap: 20).clusters.count == 1)
        // diagonal: corners 15 m apart in x and y = 21.2 m
        let diagonal = [Self.parcel("A", [Self.rect(0 + 503_000, 3_197_000, 100, 100)]),
                        Self.parcel("B", [Self.rect(503_115, 3_197_115, 100, 100)])]
        #expect(try Clustering.cluster(diagonal, gap: 20).clusters.count == 2)
        #expect(try Clustering.cluster(diagonal, gap: 21.3).clusters.count == 1)
    }

    @Test func chainsLinkTransitivelyAndNumbersAreStable() throws {
        let ps = [
            Self.parcel("C", [Self.rect(503_230, 3_197_000, 100, 100)]),   // 15 m from B
            Self.parcel("Z", [Self.rect(505_000, 3_197_000, 100, 100)]),   // alone
            Self.parcel("A", [Self.rect(503_000, 3_197_000, 100, 100)]),
            Self.parcel("B", [Self.rect(503_115, 3_197_000, 100, 100)]),   // 15 m from A
            Self.parcel("M", [Self.rect(504_000, 3_197_000, 100, 100), Self.rect(504_600, 3_197_000, 100, 100)]),
            Self.parcel("N", [Self.rect(504_710, 3_197_000, 100, 100)]),   // 10 m from M's second part
            Self.parcel("K", [Self.rect(504_250, 3_197_000, 100, 100)]),   // 150 m from both of M's parts
        ]
        let r = try Clustering.cluster(ps, gap: 20, minMu: 40, lowEfficiency: ["A", "K"])
        #expect(r.clusters.map(\.parcelIDs) == [["A", "B", "C"], ["K"], ["M", "N"], ["Z"]])
        #expect(r.clusterOf == ["A": 1, "B": 1, "C": 1, "K": 2, "M": 3, "N": 3, "Z": 4])
        #expect(abs(r.clusters[0].areaMu - 45) < 1e-9 && r.clusters[0].candidate && r.clusters[0].count == 3)
        #expect(abs(r.clusters[0].lowEfficiencyShare - 1.0 / 3) < 1e-9 && r.clusters[0].lowEfficiencyCount == 1)
        #expect(abs(r.clusters[2].areaMu - 45) < 1e-9 && r.candidates.map(\.number) == [1, 3])
        #expect(r.clusters[0].towns == ["古山镇"])
        // same result whatever the input order
        let again = try Clustering.cluster(ps.reversed(), gap: 20, minMu: 40, lowEfficiency: ["A", "K"])
        #expect(again.clusters == r.clusters)
        // the outline bridges the 15 m roads of cluster 1 into one polygon
        let outline = try Clustering.outline(of: ps.filter { ["A", "B", "C"].contains($0.parcelID) })
        #expect(WKB.polygons(outline)?.count == 1)
    }

    /// The STRtree method gives exactly the components of the O(n²) all-pairs distance graph.
    @Test(arguments: [5.0, 20.0, 45.0])
    func clustersMatchBruteForceOnDemoParcels(gap: Double) throws {
        let land = DemoLand(city: DemoCity(enterprises: 1500, seed: TestSeed.seed(11, "demo city")))
        var rng = TestSeed.generator(99, "sample")
        // 500 random parcels of one dense area, so that clusters are not trivial
        let town = land.parcels.filter { $0.town == "经济开发区" }
        var pool = town
        for i in stride(from: pool.count - 1, to: 0, by: -1) { pool.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let sample = Array(pool.prefix(500))
        let result = try Clustering.cluster(sample, gap: gap)
        let ctx = GEOSContext()
        let g = try sample.map { try $0.makeGeometry(ctx) }
        var uf = UnionFind(sample.count)
        for i in 0..<sample.count {
            for j in (i + 1)..<sample.count where try g[i].distance(to: g[j]) <= gap { uf.union(i, j) }
        }
        for i in 0..<sample.count {
            for j in (i + 1)..<sample.count {
                let same = result.clusterOf[sample[i].parcelID] == result.clusterOf[sample[j].parcelID]
                #expect(same == (uf.find(i) == uf.find(j)), "\(sample[i].parcelID) \(sample[j].parcelID)")
                if same != (uf.find(i) == uf.find(j)) { return }
            }
        }
        #expect(result.clusters.count < sample.count)   // some parcels did link
    }

    // MARK: Low-efficiency land

    /// E1 (tax 100) uses P1 (10 mu, whole) and 10 of P2's 20 mu; E2 (tax 30, class D) uses
    /// the other 10 mu of P2. P3 is idle with nobody; P4 is E3's (tax 2) by owner only.
    @Test func lowEfficiencyReasonsOnAHandComputedCase() throws {
        let p1 = Self.parcel("P1", [Self.rect(503_000, 3_197_000, 100, 200.0 / 3)], far: 0.8)
        let p2 = Self.parcel("P2", [Self.rect(503_200, 3_197_000, 200, 200.0 / 3)], far: 1.5)
        let p3 = Self.parcel("P3", [Self.rect(503_500, 3_197_000, 100, 100)], status: .idle)
        let p4 = Self.parcel("P4", [Self.rect(503_700, 3_197_000, 100, 200.0 / 3)], owner: Self.code(3))
        #expect(abs(p1.areaMu - 10) < 1e-6 && abs(p2.areaMu - 20) < 1e-6)
        let uses = [
            LandUse(parcelID: "P1", creditCode: Self.code(1), relation: .owned, areaMu: nil),
            LandUse(parcelID: "P2", creditCode: Self.code(1), relation: .leased, areaMu: 10),
            LandUse(parcelID: "P2", creditCode: Self.code(2), relation: .leased, areaMu: 10),
        ]
        let records = [
            EnterpriseRecord(year: 2025, creditCode: Self.code(1), name: "甲", town: "古山镇", group: .above, landMu: 20, tax: 100),
            EnterpriseRecord(year: 2025, creditCode: Self.code(2), name: "乙", town: "古山镇", group: .below, landMu: 10, tax: 30),
            EnterpriseRecord(year: 2025, creditCode: Self.code(3), name: "丙", town: "古山镇", group: .below, landMu: 10, tax: 2),
            EnterpriseRecord(year: 2024, creditCode: Self.code(1), name: "甲", town: "古山镇", group: .above, landMu: 20, tax: 9999),
        ]
        func result(_ code: String, _ cls: EnterpriseClass) -> EnterpriseResult {
            EnterpriseResult(year: 2025, creditCode: code, name: "", town: "古山镇", group: .below, industry: nil, landMu: 10,
                             evaluated: true, exemptReason: nil, items: [], bonus: 0, bonusReasons: [], totalScore: 50,
                             rank: 1, groupSize: 3, classBeforeVeto: cls, finalClass: cls, vetoes: [], reasons: [],
                             policy: nil, gap: nil)
        }
        var r2 = result(Self.code(2), .D); r2.name = "乙"
        let results = [result(Self.code(1), .B), r2, result(Self.code(3), .C)]
        let land = LowEfficiencyAssessor().assess(year: 2025, parcels: [p1, p2, p3, p4], landUse: uses,
                                                  records: records, results: results)
        let a = Dictionary(uniqueKeysWithValues: land.parcels.map { ($0.parcelID, $0) })
        // P1: 100 × 10/20 = 50 → 5 万元/亩; FAR 0.8 < 1
        #expect(abs(a["P1"]!.attributedTax! - 50) < 1e-6 && abs(a["P1"]!.taxPerMu! - 5) < 1e-6)
        #expect(abs(a["P1"]!.occupants[0].areaMu - 10) < 1e-6 && abs(a["P1"]!.occupants[0].totalAreaMu - 20) < 1e-6)
        #expect(a["P1"]!.reasons.map(\.kind) == [.lowFAR])
        #expect(a["P1"]!.reasons[0].zh == "容积率 0.8，低于 1")
        // P2: 50 + 30 = 80 over 20 mu → 4; an occupant in class D
        #expect(abs(a["P2"]!.attributedTax! - 80) < 1e-6 && abs(a["P2"]!.taxPerMu! - 4) < 1e-6)
        #expect(a["P2"]!.occupants.map(\.creditCode) == [Self.code(1), Self.code(2)].sorted())
        #expect(a["P2"]!.reasons.map(\.kind) == [.occupantClass])
        #expect(a["P2"]!.reasons[0].zh.contains("乙（D 类）"))
        // P3: idle, no occupant, no tax figure
        #expect(a["P3"]!.reasons.map(\.kind) == [.idle] && a["P3"]!.taxPerMu == nil && a["P3"]!.occupants.isEmpty)
        #expect(a["P3"]!.reasons[0].zh == "现状闲置")
        // P4: the owner is the occupant: 2 / 10 = 0.2 < 3
        #expect(abs(a["P4"]!.taxPerMu! - 0.2) < 1e-6 && a["P4"]!.occupants.first?.implicit == true)
        #expect(a["P4"]!.reasons.map(\.kind) == [.lowTaxPerMu])
        #expect(a["P4"]!.reasons[0].zh == "亩均税收 0.20 万元/亩，低于 3 万元/亩")
        #expect(land.lowEfficiencyIDs == ["P1", "P2", "P3", "P4"])

        // Every rule is configurable; several reasons are kept together.
        var rules = LandRules.default
        rules.farBelow = nil; rules.occupantClasses = [.C, .D]; rules.taxPerMuBelow = 4.5
        let other = LowEfficiencyAssessor(rules: rules).assess(year: 2025, parcels: [p1, p2, p4], landUse: uses, records: records, results: results)
        #expect(other.parcels.map { $0.reasons.map(\.kind) } == [[], [.lowTaxPerMu, .occupantClass], [.lowTaxPerMu, .occupantClass]])
    }

    @Test func landRulesFromYAML() throws {
        #expect(try LandRules.from(yaml: "name: x\nweights: {}\n") == .default)
        let r = try LandRules.from(yaml: """
        name: 测试
        land:
          idle_status: [闲置, 在建]
          tax_per_mu_below: 5
          occupant_classes: [C, D]
          far_below: null
          cluster_gap: 30
          min_mu: 80
          area_tolerance: 0.1
        """)
        #expect(r.idleStatuses == [.idle, .underConstruction] && r.taxPerMuBelow == 5 && r.occupantClasses == [.C, .D])
        #expect(r.farBelow == nil && r.clusterGap == 30 && r.minMu == 80 && r.areaTolerance == 0.1)
        let partial = try LandRules.from(yaml: "land:\n  min_mu: 100\n")
        #expect(partial.minMu == 100 && partial.taxPerMuBelow == 3 && partial.farBelow == 1)
        #expect(throws: RulesError.self) { try LandRules.from(yaml: "land:\n  cluster_gap: -1\n") }
        #expect(throws: RulesError.self) { try LandRules.from(yaml: "land:\n  idle_status: [荒废]\n") }
        #expect(try LandRules.from(yaml: LandRules.default.yaml) == .default)
    }

    // MARK: Demo land

    @Test func demoLandIsDeterministicAndHousesEveryEvaluatedEnterprise() throws {
        let seed = TestSeed.seed(5)
        let city = DemoCity(enterprises: 3000, seed: seed)
        let a = DemoLand(city: city), b = DemoLand(city: city)
        #expect(a.parcels == b.parcels && a.landUse == b.landUse)
        #expect(DemoLand(city: DemoCity(enterprises: 3000, seed: seed &+ 1)).parcels != a.parcels)
        let ratio = Double(a.parcels.count) / Double(city.enterprises.count)
        #expect(ratio > 0.8 && ratio < 1.3, "\(a.parcels.count) parcels for \(city.enterprises.count) enterprises")
        #expect(Set(a.parcels.map(\.parcelID)).count == a.parcels.count)

        let records = city.records(year: 2025, latestYear: 2025)
        let outcome = Evaluator().evaluate(year: 2025, records: records)
        let townOf = Dictionary(uniqueKeysWithValues: a.parcels.map { ($0.parcelID, $0.town) })
        var housed: [String: Set<String>] = [:]
        for u in a.landUse { housed[u.creditCode, default: []].insert(townOf[u.parcelID]!) }
        let evaluated = outcome.results.filter(\.evaluated)
        #expect(evaluated.count > 2000)
        for r in evaluated {
            #expect(housed[r.creditCode]?.contains(r.town) == true, "\(r.name) has no parcel in \(r.town)")
        }
        // sides 40–160 m, named blocks, statuses, mismatches, compounds
        for p in a.parcels {
            for poly in WKB.polygons(p.geometry)! {
                let r = poly[0]
                let w = r[2] - r[0], h = r[5] - r[1]
                #expect(w >= 39.99 && w <= 160.01 && h >= 39.99 && h <= 160.01, "\(p.parcelID) \(w)×\(h)")
            }
        }
        #expect(Set(a.parcels.compactMap(\.block)) == Set(DemoLand.namedBlocks.map(\.block)))
        #expect(a.parcels.contains { $0.status == .idle } && a.parcels.contains { $0.status == .underConstruction })
        let mismatches = a.parcels.filter(\.areaMismatch).count
        #expect(mismatches > 0 && mismatches < a.parcels.count / 10)
        let tenantsPerParcel = Dictionary(grouping: a.landUse.filter { $0.relation == .leased }, by: \.parcelID)
        #expect(tenantsPerParcel.values.contains { $0.count >= 10 })
        #expect(a.parcels.contains { WKB.polygons($0.geometry)!.count == 2 })
        // around Yongkang
        let box = BBox.union(a.parcels.map(\.bbox))!
        #expect(abs((box.minX + box.maxX) / 2 - 503_000) < 2_000 && abs((box.minY + box.maxY) / 2 - 3_197_000) < 2_000)
        // clusters: a few renewal candidates, not everything
        let clusters = try Clustering.cluster(a.parcels)
        #expect(clusters.candidates.count >= 7 && clusters.candidates.count < clusters.clusters.count / 2,
                "\(clusters.candidates.count) of \(clusters.clusters.count)")
    }

    /// The demo GeoJSON imports back to the same parcels, in every output CRS.
    @Test(arguments: [CRSName.working, .crs84, .epsg(4528), .epsg(4490)])
    func demoGeoJSONRoundTrips(_ crs: CRSName) throws {
        let land = DemoLand(city: DemoCity(enterprises: 600, seed: TestSeed.seed(3)))
        let data = try land.geoJSON(crs: crs)
        let back = try ParcelImport.read(geojson: data, towns: Self.towns)
        #expect(back.count == land.parcels.count)
        for (x, y) in zip(land.parcels, back) {
            #expect(x.parcelID == y.parcelID && x.town == y.town && x.block == y.block && x.status == y.status)
            #expect(x.registeredMu == y.registeredMu && x.far == y.far && x.ownerCreditCode == y.ownerCreditCode)
            #expect(abs(x.areaMu - y.areaMu) < 1e-4 * max(1, x.areaMu), "\(x.parcelID) \(x.areaMu) \(y.areaMu)")
            #expect(x.areaMismatch == y.areaMismatch || abs(abs(x.areaDifference!) - 0.05) < 1e-3)
        }
        let rows = try LandUseImport.read(table: try CSVTable(data: land.landUseCSV()), knownParcels: Set(back.map(\.parcelID)))
        #expect(rows.count == land.landUse.count)
        // the same file as another JSON writer lays it out (spaces, line breaks, escapes)
        if crs == .working {
            let object = try JSONSerialization.jsonObject(with: data)
            let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            let again = try ParcelImport.read(geojson: pretty, towns: Self.towns)
            #expect(again.map(\.parcelID) == back.map(\.parcelID) && again.map(\.areaMu) == back.map(\.areaMu))
        }
    }

    /// Import, area and clustering speed on the demo city (printed; loose bounds in debug builds).
    @Test func importAndClusterSpeed() throws {
        let land = DemoLand(city: DemoCity(enterprises: 8000, seed: TestSeed.seed(1)))
        let data = try land.geoJSON(crs: .working)
        let t0 = Date()
        let parcels = try ParcelImport.read(geojson: data, towns: Self.towns)
        let t1 = Date()
        let clusters = try Clustering.cluster(parcels)
        let t2 = Date()
        print(String(format: "demo land: %d parcels (%.1f MB GeoJSON) imported in %.3f s, %d clusters (%d candidates) in %.3f s",
                     parcels.count, Double(data.count) / 1e6, t1.timeIntervalSince(t0), clusters.clusters.count,
                     clusters.candidates.count, t2.timeIntervalSince(t1)))
        #expect(parcels.count > 7000)
        #expect(t1.timeIntervalSince(t0) < 10 && t2.timeIntervalSince(t1) < 10)
    }
}
