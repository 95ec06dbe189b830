import Foundation
import Vapor
import MujunCore
import MujunStore

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
        guard text.count <= 200 else { throw Abort(.badRequest, reason: "bbox 过长 / the bbox is too long") }
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
        ParcelGeoJSON.appendPolygons(polygons, digits: 6, to: &out)
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
                put(",\"survey\":"); put(string(r.surveyState ?? SurveyService.State.none))
                put(",\"proj\":"); put(r.projectState.map(string) ?? "null")
                put(",\"area\":"); ParcelGeoJSON.appendFixed(p.areaMu, digits: 2, to: &out)
                put("},\"geometry\":")
                appendGeometry(p.geometry, projector: projector, to: &out)
                put("}")
            }
        }
        return out
    }

    /// A Response with a JSON body already encoded.
    static func response(_ bytes: [UInt8], type: String = "application/geo+json; charset=utf-8") -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: type)
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(data: Data(bytes)))
    }
}
