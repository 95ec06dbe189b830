import Foundation
import CGEOS

// A thin, owning Swift wrapper over the re-entrant GEOS C API (几何引擎, the engine under
// PostGIS and Shapely).
//
// Concurrency (Swift 6): a GEOS context handle must never be used by two threads at once,
// so `GEOSContext` and `Geometry` are deliberately **not Sendable**: the compiler keeps each
// of them inside the task or thread that created it. Code that runs on several tasks
// creates one `GEOSContext` per task (it is cheap: microseconds) and makes its geometries
// there. What crosses task boundaries is WKB (`Data`) and plain value types (`BBox`,
// `Parcel`), which are Sendable.
//
// Ownership: a `Geometry` owns its `GEOSGeometry*` and destroys it in `deinit`; it holds a
// strong reference to its context, so the context outlives every geometry made in it.
// `STRtree` likewise owns its tree and the envelope geometries it indexes.

/// A failure reported by GEOS, with the message GEOS gave.
public struct GEOSError: Error, Sendable, CustomStringConvertible {
    /// The operation that failed, e.g. `WKB read`.
    public var operation: String
    /// GEOS's own message, e.g. `IllegalArgumentException: Invalid number of points in LinearRing found 3 - must be 0 or >= 4`.
    public var message: String
    public init(operation: String, message: String) { self.operation = operation; self.message = message }
    public var description: String { "GEOS \(operation): \(message.isEmpty ? "unknown error" : message)" }
}

/// An axis-aligned bounding box (外包矩形): min x, min y, max x, max y in the geometry's CRS.
public struct BBox: Codable, Sendable, Hashable, CustomStringConvertible {
    public var minX: Double
    public var minY: Double
    public var maxX: Double
    public var maxY: Double

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX; self.minY = minY; self.maxX = maxX; self.maxY = maxY
    }

    public var width: Double { maxX - minX }
    public var height: Double { maxY - minY }

    /// The box grown by `d` on every side.
    public func expanded(by d: Double) -> BBox {
        BBox(minX: minX - d, minY: minY - d, maxX: maxX + d, maxY: maxY + d)
    }

    /// Whether the two boxes share at least a point (edges included).
    public func intersects(_ o: BBox) -> Bool {
        minX <= o.maxX && o.minX <= maxX && minY <= o.maxY && o.minY <= maxY
    }

    /// The smallest box holding both.
    public func union(_ o: BBox) -> BBox {
        BBox(minX: Swift.min(minX, o.minX), minY: Swift.min(minY, o.minY),
             maxX: Swift.max(maxX, o.maxX), maxY: Swift.max(maxY, o.maxY))
    }

    /// The smallest box holding every box; nil for none.
    public static func union<S: Sequence>(_ boxes: S) -> BBox? where S.Element == BBox {
        var it = boxes.makeIterator()
        guard var b = it.next() else { return nil }
        while let n = it.next() { b = b.union(n) }
        return b
    }

    public var description: String { "[\(minX), \(minY), \(maxX), \(maxY)]" }
}

/// Collects the last error and notice GEOS reported on a context.
private final class GEOSMessages {
    var error = ""
    var notice = ""
}

/// One GEOS context handle (`GEOS_init_r` … `GEOS_finish_r`) with its message handlers and a
/// lazily created WKB reader and writer. Not Sendable: create one per task or thread.
public final class GEOSContext {
    let handle: OpaquePointer
    private let messages: GEOSMessages
    private var wkbReader: OpaquePointer?
    private var wkbWriter: OpaquePointer?
    private var wktReader: OpaquePointer?
    private var wktWriter: OpaquePointer?

    public init() {
        guard let h = GEOS_init_r() else { fatalError("GEOS_init_r failed: out of memory") }
        handle = h
        messages = GEOSMessages()
        let box = Unmanaged.passUnretained(messages).toOpaque()
        GEOSContext_setErrorMessageHandler_r(handle, { message, userdata in
            guard let message, let userdata else { return }
            Unmanaged<GEOSMessages>.fromOpaque(userdata).takeUnretainedValue().error = String(cString: message)
        }, box)
        GEOSContext_setNoticeMessageHandler_r(handle, { message, userdata in
            guard let message, let userdata else { return }
            Unmanaged<GEOSMessages>.fromOpaque(userdata).takeUnretainedValue().notice = String(cString: message)
        }, box)
    }

    deinit {
        if let r = wkbReader { GEOSWKBReader_destroy_r(handle, r) }
        if let w = wkbWriter { GEOSWKBWriter_destroy_r(handle, w) }
        if let r = wktReader { GEOSWKTReader_destroy_r(handle, r) }
        if let w = wktWriter { GEOSWKTWriter_destroy_r(handle, w) }
        GEOS_finish_r(handle)
    }

    /// The last error message GEOS reported on this context (empty when none).
    public var lastError: String { messages.error }
    /// The last notice GEOS reported on this context.
    public var lastNotice: String { messages.notice }

    /// Clears the last error before a call whose failure is to be reported.
    func clearError() { messages.error = "" }

    /// An error for `operation` carrying GEOS's last message.
    func error(_ operation: String) -> GEOSError {
        GEOSError(operation: operation, message: messages.error)
    }

    /// Takes ownership of a `GEOSGeometry*` a GEOS call returned, or throws GEOS's message.
    func own(_ g: OpaquePointer?, _ operation: String) throws(GEOSError) -> Geometry {
        guard let g else { throw error(operation) }
        return Geometry(owning: g, context: self)
    }

    var reader: OpaquePointer {
        if let r = wkbReader { return r }
        let r = GEOSWKBReader_create_r(handle)!
        wkbReader = r
        return r
    }

    var writer: OpaquePointer {
        if let w = wkbWriter { return w }
        let w = GEOSWKBWriter_create_r(handle)!
        GEOSWKBWriter_setOutputDimension_r(handle, w, 2)
        GEOSWKBWriter_setByteOrder_r(handle, w, Int32(GEOS_WKB_NDR.rawValue))  // little-endian, as PostGIS writes
        wkbWriter = w
        return w
    }

    var textReader: OpaquePointer {
        if let r = wktReader { return r }
        let r = GEOSWKTReader_create_r(handle)!
        wktReader = r
        return r
    }

    var textWriter: OpaquePointer {
        if let w = wktWriter { return w }
        let w = GEOSWKTWriter_create_r(handle)!
        GEOSWKTWriter_setTrim_r(handle, w, 1)
        GEOSWKTWriter_setOutputDimension_r(handle, w, 2)
        wktWriter = w
        return w
    }
}

/// The type of a geometry, as GEOS numbers them.
public enum GeometryType: Int32, Sendable, CustomStringConvertible {
    case point = 0, lineString, linearRing, polygon, multiPoint, multiLineString, multiPolygon, geometryCollection

    public var description: String {
        switch self {
        case .point: "Point"
        case .lineString: "LineString"
        case .linearRing: "LinearRing"
        case .polygon: "Polygon"
        case .multiPoint: "MultiPoint"
        case .multiLineString: "MultiLineString"
        case .multiPolygon: "MultiPolygon"
        case .geometryCollection: "GeometryCollection"
        }
    }
}

/// Why GEOS finds a geometry invalid (`GEOSisValidDetail_r`): its reason text and where.
public struct ValidityProblem: Sendable, Hashable, CustomStringConvertible {
    /// GEOS's reason, e.g. `Self-intersection` or `Ring Self-intersection`.
    public var reason: String
    /// The location GEOS points to, in the geometry's CRS, when it gives one.
    public var x: Double?
    public var y: Double?

    /// `Self-intersection[503012.5 3197001.2]`, as `GEOSisValidReason_r` writes it.
    public var description: String {
        if let x, let y { return "\(reason)[\(formatCoordinate(x)) \(formatCoordinate(y))]" }
        return reason
    }

    /// The reason in Chinese (自相交 …), falling back to GEOS's English text.
    public var chinese: String {
        switch reason.lowercased() {
        case "self-intersection": "自相交"
        case "ring self-intersection": "环自相交"
        case "too few points": "点数太少"
        case "hole lies outside shell": "内环（洞）在外环之外"
        case "holes are nested": "内环（洞）相互嵌套"
        case "interior is disconnected": "内部不连通"
        case "nested shells": "多边形相互嵌套"
        case "duplicate rings": "存在重复的环"
        case "invalid coordinate": "坐标无效（非有限数）"
        case "ring is not closed": "环未闭合"
        default: reason
        }
    }
}

/// Formats a coordinate compactly: up to 9 decimals for degrees, fewer for metres.
func formatCoordinate(_ v: Double) -> String {
    let digits = abs(v) < 1000 ? 7 : 2
    var s = String(format: "%.\(digits)f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}

/// A GEOS geometry (几何对象) owned by Swift: destroyed with the object. Not Sendable; see
/// the note at the top of this file. Planar: lengths and areas are in the units of the
/// coordinates (metres for EPSG:4549).
public final class Geometry {
    public let context: GEOSContext
    let pointer: OpaquePointer

    init(owning pointer: OpaquePointer, context: GEOSContext) {
        self.pointer = pointer
        self.context = context
    }

    deinit { GEOSGeom_destroy_r(context.handle, pointer) }

    private var h: OpaquePointer { context.handle }

    // MARK: - Making geometries

    /// Reads WKB (ISO or extended; 2D is used).
    public convenience init(wkb: Data, context: GEOSContext) throws(GEOSError) {
        context.clearError()
        let g: OpaquePointer? = wkb.withUnsafeBytes { raw in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return nil }
            return GEOSWKBReader_read_r(context.handle, context.reader, base, raw.count)
        }
        guard let g else { throw context.error("WKB read") }
        self.init(owning: g, context: context)
    }

    /// Reads WKT, e.g. `POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))`.
    public convenience init(wkt: String, context: GEOSContext) throws(GEOSError) {
        context.clearError()
        guard let g = GEOSWKTReader_read_r(context.handle, context.textReader, wkt) else {
            throw context.error("WKT read")
        }
        self.init(owning: g, context: context)
    }

    /// A polygon from rings of interleaved x, y coordinates (`[x0, y0, x1, y1, …]`): the
    /// first ring is the shell, the others holes. Each ring must be closed and have at least
    /// 4 positions, else GEOS's message is thrown. The polygon is not checked for validity.
    public static func polygon(rings: [[Double]], context: GEOSContext) throws(GEOSError) -> Geometry {
        let h = context.handle
        context.clearError()
        guard !rings.isEmpty else {
            guard let g = GEOSGeom_createEmptyPolygon_r(h) else { throw context.error("polygon") }
            return Geometry(owning: g, context: context)
        }
        var made: [OpaquePointer?] = []
        made.reserveCapacity(rings.count)
        for ring in rings {
            let seq: OpaquePointer? = ring.withUnsafeBufferPointer { buf in
                GEOSCoordSeq_copyFromBuffer_r(h, buf.baseAddress, UInt32(ring.count / 2), 0, 0)
            }
            guard let seq, let lr = GEOSGeom_createLinearRing_r(h, seq) else {
                // createLinearRing takes the sequence even when it fails
                for r in made { GEOSGeom_destroy_r(h, r) }
                throw context.error("linear ring")
            }
            made.append(lr)
        }
        let shell = made[0]!
        let g: OpaquePointer? = made.withUnsafeMutableBufferPointer { buf in
            GEOSGeom_createPolygon_r(h, shell, buf.count > 1 ? buf.baseAddress! + 1 : nil, UInt32(buf.count - 1))
        }
        guard let g else {
            for r in made { GEOSGeom_destroy_r(h, r) }
            throw context.error("polygon")
        }
        return Geometry(owning: g, context: context)
    }

    /// A multipolygon from polygons (cloned; the arguments stay usable).
    public static func multiPolygon(_ parts: [Geometry], context: GEOSContext) throws(GEOSError) -> Geometry {
        try collection(parts, type: .multiPolygon, context: context)
    }

    /// A collection of `type` from clones of `parts`.
    public static func collection(_ parts: [Geometry], type: GeometryType, context: GEOSContext) throws(GEOSError) -> Geometry {
        let h = context.handle
        context.clearError()
        var clones: [OpaquePointer?] = []
        clones.reserveCapacity(parts.count)
        for p in parts {
            guard let c = GEOSGeom_clone_r(h, p.pointer) else {
                for c in clones { GEOSGeom_destroy_r(h, c) }
                throw context.error("clone")
            }
            clones.append(c)
        }
        let g: OpaquePointer? = clones.withUnsafeMutableBufferPointer { buf in
            GEOSGeom_createCollection_r(h, type.rawValue, buf.baseAddress, UInt32(buf.count))
        }
        guard let g else {
            for c in clones { GEOSGeom_destroy_r(h, c) }
            throw context.error("collection")
        }
        return Geometry(owning: g, context: context)
    }

    /// An axis-aligned rectangle.
    public static func rectangle(_ b: BBox, context: GEOSContext) throws(GEOSError) -> Geometry {
        context.clearError()
        return try context.own(GEOSGeom_createRectangle_r(context.handle, b.minX, b.minY, b.maxX, b.maxY), "rectangle")
    }

    /// An independent copy.
    public func clone() throws(GEOSError) -> Geometry {
        context.clearError()
        return try context.own(GEOSGeom_clone_r(h, pointer), "clone")
    }

    // MARK: - Writing

    /// Little-endian 2D WKB, as PostGIS `ST_AsBinary` writes it.
    public var wkb: Data {
        var size = 0
        context.clearError()
        guard let bytes = GEOSWKBWriter_write_r(h, context.writer, pointer, &size) else { return Data() }
        defer { GEOSFree_r(h, bytes) }
        return Data(bytes: bytes, count: size)
    }

    /// WKT with trailing zeros trimmed.
    public var wkt: String {
        guard let s = GEOSWKTWriter_write_r(h, context.textWriter, pointer) else { return "" }
        defer { GEOSFree_r(h, s) }
        return String(cString: s)
    }

    // MARK: - Properties

    public var type: GeometryType? { GeometryType(rawValue: GEOSGeomTypeId_r(h, pointer)) }

    public var isEmpty: Bool { GEOSisEmpty_r(h, pointer) == 1 }

    /// Number of parts (1 for a polygon, n for a multipolygon).
    public var partCount: Int { Int(GEOSGetNumGeometries_r(h, pointer)) }

    /// Whether GEOS finds the geometry valid (OGC simple-features rules).
    public var isValid: Bool { GEOSisValid_r(h, pointer) == 1 }

    /// GEOS's reason text (`GEOSisValidReason_r`), e.g. `Valid Geometry` or
    /// `Self-intersection[503050 3197050]`.
    public var validityReason: String {
        guard let s = GEOSisValidReason_r(h, pointer) else { return context.lastError }
        defer { GEOSFree_r(h, s) }
        return String(cString: s)
    }

    /// Nil when valid, else the reason and location (`GEOSisValidDetail_r`).
    public var validityProblem: ValidityProblem? {
        var reason: UnsafeMutablePointer<CChar>?
        var location: OpaquePointer?
        context.clearError()
        let r = GEOSisValidDetail_r(h, pointer, 0, &reason, &location)
        defer {
            if let reason { GEOSFree_r(h, reason) }
            if let location { GEOSGeom_destroy_r(h, location) }
        }
        if r == 1 { return nil }
        if r != 0 { return ValidityProblem(reason: context.lastError.isEmpty ? "invalid geometry" : context.lastError) }
        var p = ValidityProblem(reason: reason.map { String(cString: $0) } ?? "invalid geometry")
        if let location, GEOSisEmpty_r(h, location) == 0 {
            var x = 0.0, y = 0.0
            if GEOSGeomGetX_r(h, location, &x) == 1, GEOSGeomGetY_r(h, location, &y) == 1 { p.x = x; p.y = y }
        }
        return p
    }

    /// Planar area in squared coordinate units.
    public func area() throws(GEOSError) -> Double {
        var a = 0.0
        context.clearError()
        guard GEOSArea_r(h, pointer, &a) == 1 else { throw context.error("area") }
        return a
    }

    /// The bounding box; nil for an empty geometry.
    public var bbox: BBox? {
        guard !isEmpty else { return nil }
        var b = BBox(minX: 0, minY: 0, maxX: 0, maxY: 0)
        guard GEOSGeom_getXMin_r(h, pointer, &b.minX) == 1, GEOSGeom_getYMin_r(h, pointer, &b.minY) == 1,
              GEOSGeom_getXMax_r(h, pointer, &b.maxX) == 1, GEOSGeom_getYMax_r(h, pointer, &b.maxY) == 1 else { return nil }
        return b
    }

    /// The envelope as a geometry (`GEOSEnvelope_r`).
    public func envelope() throws(GEOSError) -> Geometry {
        context.clearError()
        return try context.own(GEOSEnvelope_r(h, pointer), "envelope")
    }

    /// The part `i` of a collection (a clone), or the geometry itself for i = 0 of a single one.
    public func part(_ i: Int) throws(GEOSError) -> Geometry {
        context.clearError()
        guard let p = GEOSGetGeometryN_r(h, pointer, Int32(i)) else { throw context.error("part") }
        return try context.own(GEOSGeom_clone_r(h, p), "part")
    }

    // MARK: - Relations and measures

    /// The minimum planar distance between the two geometries (0 when they touch).
    public func distance(to other: Geometry) throws(GEOSError) -> Double {
        var d = 0.0
        context.clearError()
        guard GEOSDistance_r(h, pointer, other.pointer, &d) == 1 else { throw context.error("distance") }
        return d
    }

    /// Whether the distance is ≤ `d` (`GEOSDistanceWithin_r`, stops early).
    public func isWithinDistance(_ other: Geometry, _ d: Double) throws(GEOSError) -> Bool {
        context.clearError()
        let r = GEOSDistanceWithin_r(h, pointer, other.pointer, d)
        guard r != 2 else { throw context.error("distance within") }
        return r == 1
    }

    public func intersects(_ other: Geometry) throws(GEOSError) -> Bool {
        context.clearError()
        let r = GEOSIntersects_r(h, pointer, other.pointer)
        guard r != 2 else { throw context.error("intersects") }
        return r == 1
    }

    // MARK: - Constructive operations

    /// The union of two geometries.
    public func union(_ other: Geometry) throws(GEOSError) -> Geometry {
        context.clearError()
        return try context.own(GEOSUnion_r(h, pointer, other.pointer), "union")
    }

    /// The union of the parts of this geometry (e.g. of a collection).
    public func unaryUnion() throws(GEOSError) -> Geometry {
        context.clearError()
        return try context.own(GEOSUnaryUnion_r(h, pointer), "unary union")
    }

    /// The union of many geometries at once (cascaded: far faster than folding `union`).
    public static func union(_ geometries: [Geometry], context: GEOSContext) throws(GEOSError) -> Geometry {
        try collection(geometries, type: .geometryCollection, context: context).unaryUnion()
    }

    /// The buffer at distance `d` (negative shrinks), with mitred joins when `square`.
    public func buffer(_ d: Double, quadrantSegments: Int = 8, square: Bool = false) throws(GEOSError) -> Geometry {
        context.clearError()
        if square {
            return try context.own(GEOSBufferWithStyle_r(h, pointer, d, Int32(quadrantSegments),
                                                         Int32(GEOSBUF_CAP_SQUARE.rawValue),
                                                         Int32(GEOSBUF_JOIN_MITRE.rawValue), 5), "buffer")
        }
        return try context.own(GEOSBuffer_r(h, pointer, d, Int32(quadrantSegments)), "buffer")
    }

    /// The coordinates of every ring as interleaved x, y (`[[[x0, y0, …]]]`: polygons → rings),
    /// for writing GeoJSON. Polygons give one polygon; multipolygons one per part.
    public func polygonRings() throws(GEOSError) -> [[[Double]]] {
        switch type {
        case .polygon:
            return [try Self.rings(of: pointer, context: context)]
        case .multiPolygon, .geometryCollection:
            var out: [[[Double]]] = []
            for i in 0..<GEOSGetNumGeometries_r(h, pointer) {
                guard let p = GEOSGetGeometryN_r(h, pointer, i) else { throw context.error("part") }
                if GEOSGeomTypeId_r(h, p) == GeometryType.polygon.rawValue {
                    out.append(try Self.rings(of: p, context: context))
                }
            }
            return out
        default:
            return []
        }
    }

    private static func rings(of polygon: OpaquePointer, context: GEOSContext) throws(GEOSError) -> [[Double]] {
        let h = context.handle
        func coords(_ ring: OpaquePointer?) throws(GEOSError) -> [Double] {
            guard let ring, let seq = GEOSGeom_getCoordSeq_r(h, ring) else { throw context.error("ring") }
            var n: UInt32 = 0
            guard GEOSCoordSeq_getSize_r(h, seq, &n) == 1 else { throw context.error("ring size") }
            var buf = [Double](repeating: 0, count: Int(n) * 2)
            let ok = buf.withUnsafeMutableBufferPointer { GEOSCoordSeq_copyToBuffer_r(h, seq, $0.baseAddress, 0, 0) }
            guard ok == 1 else { throw context.error("ring coordinates") }
            return buf
        }
        if GEOSisEmpty_r(h, polygon) == 1 { return [] }
        var out = [try coords(GEOSGetExteriorRing_r(h, polygon))]
        let holes = GEOSGetNumInteriorRings_r(h, polygon)
        if holes > 0 {
            for i in 0..<holes { out.append(try coords(GEOSGetInteriorRingN_r(h, polygon, i))) }
        }
        return out
    }
}

/// A GEOS STR-packed R-tree (`GEOSSTRtree_*`) over integer items (e.g. indexes into an
/// array), keyed by boxes. Insert everything first: the tree is built at the first query and
/// cannot take inserts after that. Not Sendable.
public final class STRtree {
    public let context: GEOSContext
    private let tree: OpaquePointer
    /// The box geometries indexed, kept alive as long as the tree.
    private var keys: [OpaquePointer] = []
    private var built = false

    /// - Parameter nodeCapacity: children per node (10 is what Shapely uses).
    public init(context: GEOSContext, nodeCapacity: Int = 10) {
        self.context = context
        tree = GEOSSTRtree_create_r(context.handle, nodeCapacity)!
    }

    deinit {
        GEOSSTRtree_destroy_r(context.handle, tree)
        for k in keys { GEOSGeom_destroy_r(context.handle, k) }
    }

    public var count: Int { keys.count }

    /// Indexes `item` (≥ 0) under `box`.
    public func insert(_ box: BBox, item: Int) {
        precondition(!built, "STRtree: insert after the first query")
        precondition(item >= 0)
        let key = GEOSGeom_createRectangle_r(context.handle, box.minX, box.minY, box.maxX, box.maxY)!
        keys.append(key)
        GEOSSTRtree_insert_r(context.handle, tree, key, UnsafeMutableRawPointer(bitPattern: item + 1))
    }

    /// Calls `body` with every item whose box intersects `box` (in no particular order).
    public func query(_ box: BBox, _ body: (Int) -> Void) {
        built = true
        let h = context.handle
        guard let q = GEOSGeom_createRectangle_r(h, box.minX, box.minY, box.maxX, box.maxY) else { return }
        defer { GEOSGeom_destroy_r(h, q) }
        withoutActuallyEscaping(body) { f in
            var callback = f
            withUnsafeMutablePointer(to: &callback) { p in
                GEOSSTRtree_query_r(h, tree, q, { item, userdata in
                    let f = userdata!.assumingMemoryBound(to: ((Int) -> Void).self).pointee
                    f(Int(bitPattern: item) - 1)
                }, UnsafeMutableRawPointer(p))
            }
        }
    }

    /// Every item whose box intersects `box`, sorted.
    public func query(_ box: BBox) -> [Int] {
        var out: [Int] = []
        query(box) { out.append($0) }
        return out.sorted()
    }
}
