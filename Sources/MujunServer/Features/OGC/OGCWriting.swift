import Foundation
import Vapor
import MujunCore
import MujunStore

// Writing OGC features straight into bytes.

extension OGCFeature {
    // MARK: - Writing features

    static func writeParcel(_ p: OGCParcelRow, year: Int?, projector: Reprojector, to out: inout [UInt8],
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
        out.ogcPut(",\"low_efficiency_share\":"); out.ogcReal(s.blockLowEfficiencyShare)
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

// MARK: - A small JSON byte writer

extension Array where Element == UInt8 {
    mutating func ogcPut(_ s: String) { append(contentsOf: s.utf8) }

    /// A JSON string literal, or null.
    mutating func ogcString(_ s: String?) {
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
    mutating func ogcReal(_ v: Double?) {
        guard let v, v.isFinite else { ogcPut("null"); return }
        let start = count
        ParcelGeoJSON.appendFixed(v, digits: 6, to: &self)
        if !self[start...].contains(0x2E) { ogcPut(".0") }
    }

    mutating func ogcInt(_ v: Int?) { ogcPut(v.map(String.init) ?? "null") }

    mutating func ogcBool(_ v: Bool?) { ogcPut(v.map { $0 ? "true" : "false" } ?? "null") }
}

