import Foundation

/// The current state of a parcel (现状).
public enum ParcelStatus: String, Codable, Sendable, CaseIterable, Hashable {
    /// 在用
    case inUse = "in_use"
    /// 闲置
    case idle
    /// 在建
    case underConstruction = "under_construction"

    /// The Chinese name shown to users and written in files.
    public var chinese: String {
        switch self {
        case .inUse: "在用"
        case .idle: "闲置"
        case .underConstruction: "在建"
        }
    }

    /// Parses 在用 / 闲置 / 在建 or the English keys (in_use, in use, idle, under_construction);
    /// case and spaces ignored.
    public init?(text: String) {
        switch text {  // the usual spellings first, without normalising
        case "在用": self = .inUse; return
        case "闲置": self = .idle; return
        case "在建": self = .underConstruction; return
        default: break
        }
        let t = HeaderMatcher.normalize(text)
        switch t {
        case "在用", "使用", "使用中", "inuse", "used": self = .inUse
        case "闲置", "空置", "idle", "vacant": self = .idle
        case "在建", "建设中", "underconstruction", "construction": self = .underConstruction
        default: return nil
        }
    }
}

/// An industrial land parcel (地块), as imported from GeoJSON (FORMATS.md). The geometry is
/// stored as WKB in EPSG:4549 (metres); areas are computed from it.
public struct Parcel: Codable, Sendable, Hashable, Identifiable {
    /// 地块编号, unique
    public var parcelID: String
    /// 所属镇街
    public var town: String
    /// 区块, e.g. 中月区块
    public var block: String?
    /// 权利人信用代码 (统一社会信用代码 of the holder of the land right)
    public var ownerCreditCode: String?
    /// 登记面积(亩): the area in the land register
    public var registeredMu: Double?
    /// 用途, e.g. 工业用地
    public var landUse: String?
    /// 容积率 (floor-area ratio)
    public var far: Double?
    /// 现状; nil when the file gives none
    public var status: ParcelStatus?
    /// 批准日期: land use approved (批)
    public var approvedOn: CalendarDate?
    /// 供地日期: land supplied (供)
    public var suppliedOn: CalendarDate?
    /// 约定开工日期: the start of construction agreed in the supply contract
    public var startBy: CalendarDate?
    /// 约定竣工日期: the completion agreed in the supply contract
    public var finishBy: CalendarDate?
    /// 投产日期: in operation since
    public var operatingSince: CalendarDate?
    /// The geometry, little-endian 2D WKB of a Polygon or MultiPolygon in EPSG:4549.
    public var geometry: Data
    /// The bounding box in EPSG:4549.
    public var bbox: BBox
    /// The area computed from the geometry in EPSG:4549, in mu.
    public var areaMu: Double
    /// Whether |areaMu − registeredMu| / registeredMu exceeds the tolerance used at import.
    public var areaMismatch: Bool
    /// 1-based position of the feature in the file it came from (0 when not from a file).
    public var feature: Int

    public var id: String { parcelID }

    public init(parcelID: String, town: String, block: String? = nil, ownerCreditCode: String? = nil,
                registeredMu: Double? = nil, landUse: String? = nil, far: Double? = nil,
                status: ParcelStatus? = nil, geometry: Data, bbox: BBox, areaMu: Double,
                areaTolerance: Double = LandRules.default.areaTolerance, feature: Int = 0,
                approvedOn: CalendarDate? = nil, suppliedOn: CalendarDate? = nil, startBy: CalendarDate? = nil,
                finishBy: CalendarDate? = nil, operatingSince: CalendarDate? = nil) {
        self.parcelID = parcelID; self.town = town; self.block = block
        self.ownerCreditCode = ownerCreditCode; self.registeredMu = registeredMu
        self.landUse = landUse; self.far = far; self.status = status
        self.approvedOn = approvedOn; self.suppliedOn = suppliedOn; self.startBy = startBy
        self.finishBy = finishBy; self.operatingSince = operatingSince
        self.geometry = geometry; self.bbox = bbox; self.areaMu = areaMu; self.feature = feature
        self.areaMismatch = false
        self.areaMismatch = isAreaMismatch(tolerance: areaTolerance)
    }

    /// (computed − registered) / registered, nil without a positive registered area.
    public var areaDifference: Double? {
        guard let r = registeredMu, r > 0 else { return nil }
        return (areaMu - r) / r
    }

    /// Whether the computed area differs from the registered one by more than `tolerance`
    /// (a share: 0.05 = 5 %).
    public func isAreaMismatch(tolerance: Double) -> Bool {
        guard let d = areaDifference else { return false }
        return abs(d) > tolerance
    }

    /// The area in square metres.
    public var areaSquareMetres: Double { areaMu * Projection.squareMetresPerMu }

    /// A GEOS geometry of this parcel in `context` (EPSG:4549).
    public func makeGeometry(_ context: GEOSContext) throws(GEOSError) -> Geometry {
        try Geometry(wkb: geometry, context: context)
    }
}

/// How an enterprise holds the land it uses (关系).
public enum LandRelation: String, Codable, Sendable, CaseIterable, Hashable {
    /// 自有
    case owned
    /// 租赁
    case leased

    public var chinese: String { self == .owned ? "自有" : "租赁" }

    /// Parses 自有 / 租赁 (also 出租, 承租) or owned / leased / own / lease.
    public init?(text: String) {
        switch text {
        case "自有": self = .owned; return
        case "租赁": self = .leased; return
        default: break
        }
        switch HeaderMatcher.normalize(text) {
        case "自有", "自用", "owned", "own", "owner": self = .owned
        case "租赁", "承租", "租用", "leased", "lease", "tenant", "rent", "rented": self = .leased
        default: return nil
        }
    }
}

/// Who occupies which parcel (用地关系): one row of the land-use template.
public struct LandUse: Codable, Sendable, Hashable {
    /// Spreadsheet row number (header = 1); 0 when not from a file.
    public var row: Int
    /// 地块编号
    public var parcelID: String
    /// 统一社会信用代码
    public var creditCode: String
    /// 关系
    public var relation: LandRelation
    /// 面积(亩): the area of the parcel this enterprise uses; nil = the whole parcel.
    public var areaMu: Double?

    public init(row: Int = 0, parcelID: String, creditCode: String, relation: LandRelation, areaMu: Double?) {
        self.row = row; self.parcelID = parcelID; self.creditCode = creditCode
        self.relation = relation; self.areaMu = areaMu
    }
}

// MARK: - WKB

/// Well-known binary (WKB) of polygons, read and written without GEOS: the storage form of
/// parcel geometries (little-endian, 2D, as PostGIS `ST_AsBinary` writes).
public enum WKB {
    /// A Polygon from rings of interleaved x, y (first = shell).
    public static func polygon(_ rings: [[Double]]) -> Data {
        var out = Data()
        out.reserveCapacity(9 + rings.reduce(0) { $0 + 4 + $1.count * 8 })
        appendPolygon(rings, to: &out)
        return out
    }

    /// A MultiPolygon from polygons (each as rings of interleaved x, y).
    public static func multiPolygon(_ polygons: [[[Double]]]) -> Data {
        var out = Data()
        out.append(1)
        appendUInt32(6, to: &out)
        appendUInt32(UInt32(polygons.count), to: &out)
        for p in polygons { appendPolygon(p, to: &out) }
        return out
    }

    private static func appendPolygon(_ rings: [[Double]], to out: inout Data) {
        out.append(1)
        appendUInt32(3, to: &out)
        appendUInt32(UInt32(rings.count), to: &out)
        for r in rings {
            appendUInt32(UInt32(r.count / 2), to: &out)
            for v in r { appendUInt64(v.bitPattern, to: &out) }
        }
    }

    private static func appendUInt32(_ v: UInt32, to out: inout Data) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendUInt64(_ v: UInt64, to out: inout Data) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    /// The polygons of a Polygon or MultiPolygon WKB (`[polygon][ring][x, y, …]`, z/m
    /// dropped; ISO and PostGIS EWKB variants read), or nil when it is something else.
    public static func polygons(_ data: Data) -> [[[Double]]]? {
        data.withUnsafeBytes { raw -> [[[Double]]]? in
            var r = Reader(raw: raw)
            guard let (type, dims) = r.header() else { return nil }
            switch type {
            case 3:
                return r.polygonBody(dims: dims).map { [$0] }
            case 6:
                guard let n = r.uint32() else { return nil }
                var out: [[[Double]]] = []
                for _ in 0..<n {
                    guard let (t, d) = r.header(), t == 3, let p = r.polygonBody(dims: d) else { return nil }
                    out.append(p)
                }
                return out
            default:
                return nil
            }
        }
    }

    private struct Reader {
        let raw: UnsafeRawBufferPointer
        var i = 0
        var little = true

        init(raw: UnsafeRawBufferPointer) { self.raw = raw }

        mutating func header() -> (UInt32, Int)? {
            guard i < raw.count else { return nil }
            little = raw[i] == 1
            i += 1
            guard var t = uint32() else { return nil }
            var dims = 2
            if t & 0x2000_0000 != 0 { _ = uint32() }  // EWKB SRID
            if t & 0x8000_0000 != 0 { dims += 1 }
            if t & 0x4000_0000 != 0 { dims += 1 }
            t &= 0x0FFF_FFFF
            switch t / 1000 {
            case 1, 2: dims += 1
            case 3: dims += 2
            default: break
            }
            return (t % 1000, dims)
        }

        mutating func uint32() -> UInt32? {
            guard i + 4 <= raw.count else { return nil }
            let v = raw.loadUnaligned(fromByteOffset: i, as: UInt32.self)
            i += 4
            return little ? UInt32(littleEndian: v) : UInt32(bigEndian: v)
        }

        mutating func double() -> Double? {
            guard i + 8 <= raw.count else { return nil }
            let v = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
            return Double(bitPattern: little ? UInt64(littleEndian: v) : UInt64(bigEndian: v))
        }

        mutating func polygonBody(dims: Int) -> [[Double]]? {
            guard let nr = uint32() else { return nil }
            var rings: [[Double]] = []
            for _ in 0..<nr {
                guard let np = uint32(), i + Int(np) * dims * 8 <= raw.count else { return nil }
                var ring = [Double]()
                ring.reserveCapacity(Int(np) * 2)
                for _ in 0..<np {
                    guard let x = double(), let y = double() else { return nil }
                    ring.append(x); ring.append(y)
                    i += (dims - 2) * 8
                }
                rings.append(ring)
            }
            return rings
        }
    }

    /// The planar area of polygons (shoelace; holes subtracted), in squared units.
    public static func area(_ polygons: [[[Double]]]) -> Double {
        var total = 0.0
        for p in polygons {
            for (k, ring) in p.enumerated() {
                guard ring.count >= 6 else { continue }
                // shifted to the first vertex: no cancellation with coordinates in the millions
                let x0 = ring[0], y0 = ring[1]
                var s = 0.0
                var j = 2
                while j + 3 < ring.count {
                    s += (ring[j] - x0) * (ring[j + 3] - y0) - (ring[j + 2] - x0) * (ring[j + 1] - y0)
                    j += 2
                }
                total += k == 0 ? abs(s) / 2 : -abs(s) / 2
            }
        }
        return total
    }
}

// MARK: - GeoJSON out

/// Writes parcels as a GeoJSON FeatureCollection with the template's Chinese property names
/// and a `crs` member, as GDAL reads and writes it.
public enum ParcelGeoJSON {
    /// The whole collection.
    /// - Parameters:
    ///   - crs: the CRS of the coordinates written (the member names it).
    ///   - extra: more properties per parcel, as pre-encoded JSON values (`"\"text\""`, `"1.5"`).
    public static func featureCollection(_ parcels: [Parcel], crs: CRSName = .working, name: String? = nil,
                                         extra: ((Parcel) -> [(String, String)])? = nil) throws(ProjectionError) -> Data {
        let projector = try Reprojector(from: .working, to: crs)
        var out = [UInt8]()
        out.reserveCapacity(parcels.count * 600)
        out += Array("{\"type\":\"FeatureCollection\",".utf8)
        if let name { out += Array("\"name\":\(jsonString(name)),".utf8) }
        out += Array("\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"\(crs.urn)\"}},\n\"features\":[\n".utf8)
        for (k, p) in parcels.enumerated() {
            if k > 0 { out += Array(",\n".utf8) }
            out += Array("{\"type\":\"Feature\",\"properties\":{".utf8)
            var props: [(String, String)] = [("地块编号", jsonString(p.parcelID)), ("所属镇街", jsonString(p.town))]
            if let b = p.block { props.append(("区块", jsonString(b))) }
            if let o = p.ownerCreditCode { props.append(("权利人信用代码", jsonString(o))) }
            if let r = p.registeredMu { props.append(("登记面积(亩)", formatNumber(r))) }
            if let u = p.landUse { props.append(("用途", jsonString(u))) }
            if let f = p.far { props.append(("容积率", formatNumber(f))) }
            if let s = p.status { props.append(("现状", jsonString(s.chinese))) }
            for (key, d) in [("批准日期", p.approvedOn), ("供地日期", p.suppliedOn), ("约定开工日期", p.startBy),
                             ("约定竣工日期", p.finishBy), ("投产日期", p.operatingSince)] {
                if let d { props.append((key, "\"\(d)\"")) }
            }
            if let extra { props += extra(p) }
            for (i, (key, value)) in props.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(jsonString(key).utf8)
                out.append(UInt8(ascii: ":"))
                out += Array(value.utf8)
            }
            out += Array("},\"geometry\":".utf8)
            try appendGeometry(p.geometry, projector: projector, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out += Array("\n]}\n".utf8)
        return Data(out)
    }

    /// Appends a GeoJSON geometry object for a WKB polygon/multipolygon in EPSG:4549,
    /// transformed by `projector` (from EPSG:4549); `null` for anything else.
    public static func appendGeometry(_ wkb: Data, projector: Reprojector, to out: inout [UInt8]) throws(ProjectionError) {
        guard var polygons = WKB.polygons(wkb), !polygons.isEmpty else {
            out += Array("null".utf8)
            return
        }
        let digits = projector.target.isGeographic ? 9 : 3
        for p in polygons.indices {
            for r in polygons[p].indices {
                guard projector.transform(&polygons[p][r]) else {
                    throw ProjectionError(zh: "坐标无法转换到 \(projector.target.code)", en: "coordinates cannot be transformed to \(projector.target.code)")
                }
            }
        }
        appendPolygons(polygons, digits: digits, to: &out)
    }

    /// Appends a GeoJSON Polygon (one polygon) or MultiPolygon of flat `[x, y, x, y, …]` rings,
    /// each coordinate with `digits` decimals.
    public static func appendPolygons(_ polygons: [[[Double]]], digits: Int, to out: inout [UInt8]) {
        let multi = polygons.count > 1
        out += Array(multi ? "{\"type\":\"MultiPolygon\",\"coordinates\":[".utf8 : "{\"type\":\"Polygon\",\"coordinates\":".utf8)
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
                    appendFixed(ring[j], digits: digits, to: &out)
                    out.append(UInt8(ascii: ","))
                    appendFixed(ring[j + 1], digits: digits, to: &out)
                    out.append(UInt8(ascii: "]"))
                    j += 2
                }
                out.append(UInt8(ascii: "]"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out += Array(multi ? "]}".utf8 : "}".utf8)
    }

    /// Appends `v` with at most `digits` decimals, trailing zeros dropped (fast, locale-free,
    /// no allocation: the CSV of 200,000 parcels calls it 400,000 times).
    public static func appendFixed(_ v: Double, digits: Int, to out: inout [UInt8]) {
        precondition(digits >= 0 && digits <= 15, "appendFixed: 0 to 15 digits")
        var scale = 1.0  // 10^digits, exact (every power up to 10^15 is a Double)
        var iscale: UInt64 = 1
        for _ in 0..<digits { scale *= 10; iscale *= 10 }
        let scaled = (abs(v) * scale).rounded()
        guard v.isFinite, scaled < 9e18 else {
            out += Array(String(v).utf8)
            return
        }
        let n = UInt64(scaled)
        var intPart = n / iscale
        var frac = n % iscale
        // sign, up to 20 integer digits, the point and up to 15 decimals
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buf in
            var k = 0
            if v < 0 && n > 0 { buf[k] = UInt8(ascii: "-"); k += 1 }
            let intStart = k
            repeat { buf[k] = UInt8(ascii: "0") + UInt8(intPart % 10); intPart /= 10; k += 1 } while intPart > 0
            var lo = intStart, hi = k - 1
            while lo < hi { buf.swapAt(lo, hi); lo += 1; hi -= 1 }
            if frac > 0 {
                var d = digits
                while frac % 10 == 0 { frac /= 10; d -= 1 }
                buf[k] = UInt8(ascii: "."); k += 1
                var j = k + d - 1
                for _ in 0..<d { buf[j] = UInt8(ascii: "0") + UInt8(frac % 10); frac /= 10; j -= 1 }
                k += d
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<k]))
        }
    }

    /// A JSON string literal.
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
