import Foundation
import CPROJ

// Coordinate reference systems (坐标参考系) and reprojection over PROJ.
//
// Parcels are stored and measured in EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120°E,
// metres), where Yongkang lies near easting 503,000, northing 3,197,000. Files arrive in
// CRS84 / EPSG:4326 (longitude, latitude), EPSG:4490 (CGCS2000 geographic), EPSG:4549 or
// EPSG:4528 (the same projection with the zone number 40 prefixed to the easting).
//
// Axis order: GeoJSON (and GDAL, QGIS, Leaflet) always write x, y = easting/longitude,
// northing/latitude. EPSG itself declares latitude first for 4326/4490 and northing first
// for 4549/4528; OGC API - Features Part 2 answers in the order the CRS declares, except
// CRS84. `AxisOrder` says which convention a side of a `Reprojector` uses.
//
// Concurrency: a PROJ context (`PJ_CONTEXT`) must not be used by two threads at once, so a
// `Reprojector` owns its own context and is not Sendable: create it where it is used (it
// takes about a millisecond). `CRSName` is a Sendable value.

/// One of the coordinate reference systems Mujun reads and writes.
public enum CRSName: Hashable, Sendable, CustomStringConvertible, Codable {
    /// OGC CRS84: WGS 84 longitude, latitude (the GeoJSON default).
    case crs84
    /// An EPSG code: 4326, 4490, 4549 or 4528.
    case epsg(Int)

    /// Every CRS accepted, in the order they are listed to users.
    public static let supported: [CRSName] = [.crs84, .epsg(4326), .epsg(4490), .epsg(4549), .epsg(4528)]

    /// Where areas and distances are computed and geometries stored: EPSG:4549 (metres).
    public static let working: CRSName = .epsg(4549)

    /// Parses `EPSG:4549`, `urn:ogc:def:crs:EPSG::4549`, `http://www.opengis.net/def/crs/EPSG/0/4549`,
    /// `urn:ogc:def:crs:OGC:1.3:CRS84`, `http://www.opengis.net/def/crs/OGC/1.3/CRS84`, `CRS84`,
    /// `OGC:CRS84`, `[EPSG:4549]` (safe CURIE) and a bare `4549`; case and spaces ignored.
    /// Throws a bilingual error for an unknown or unsupported name.
    public init(_ text: String) throws(ProjectionError) {
        switch CRSName.recognise(text) {
        case .some(.some(let crs)):
            guard CRSName.supported.contains(crs) else {
                throw ProjectionError(
                    zh: "不支持的坐标参考系 \(crs.code)（支持：\(CRSName.supportedList)）",
                    en: "unsupported CRS \(crs.code) (supported: \(CRSName.supportedList))")
            }
            self = crs
        default:
            throw ProjectionError(
                zh: "无法识别的坐标参考系名称 \"\(text)\"（支持：\(CRSName.supportedList)）",
                en: "unknown CRS name \"\(text)\" (supported: \(CRSName.supportedList))")
        }
    }

    /// The CRS named by `text` when it is supported, else nil.
    public static func parse(_ text: String) -> CRSName? {
        guard case .some(.some(let c)) = recognise(text), supported.contains(c) else { return nil }
        return c
    }

    /// nil: not a CRS name at all; .some(crs): syntactically a CRS (maybe unsupported).
    private static func recognise(_ text: String) -> CRSName?? {
        var s = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if s.hasPrefix("["), s.hasSuffix("]") { s = String(s.dropFirst().dropLast()) }
        s = s.replacingOccurrences(of: " ", with: "")
        if s.isEmpty { return nil }
        var authority = "", code = ""
        let uriPrefixes = ["http://www.opengis.net/def/crs/", "https://www.opengis.net/def/crs/",
                           "http://opengis.net/def/crs/", "https://opengis.net/def/crs/"]
        let urnPrefixes = ["urn:ogc:def:crs:", "urn:x-ogc:def:crs:"]
        if let p = uriPrefixes.first(where: { s.hasPrefix($0) }) {
            // AUTHORITY/VERSION/CODE
            let parts = s.dropFirst(p.count).split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3 else { return nil }
            authority = String(parts[0]); code = String(parts[2])
        } else if let p = urnPrefixes.first(where: { s.hasPrefix($0) }) {
            // AUTHORITY:VERSION:CODE (version may be empty) or AUTHORITY:CODE
            let parts = s.dropFirst(p.count).split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3 else { return nil }
            authority = String(parts[0]); code = String(parts.last!)
        } else if s.hasPrefix("http://www.opengis.net/gml/srs/epsg.xml#") {
            authority = "epsg"; code = String(s.dropFirst("http://www.opengis.net/gml/srs/epsg.xml#".count))
        } else if s == "crs84" || s == "wgs84lonlat" {
            authority = "ogc"; code = "crs84"
        } else if s.allSatisfy(\.isNumber) {
            authority = "epsg"; code = s
        } else {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 || (parts.count == 3 && parts[1].isEmpty) else { return nil }
            authority = String(parts[0]); code = String(parts.last!)
        }
        switch authority {
        case "epsg":
            guard !code.isEmpty, code.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(code), n > 0 else { return nil }
            return .some(.epsg(n))
        case "ogc":
            return code == "crs84" ? .some(.crs84) : .some(nil)
        default:
            return nil
        }
    }

    /// `EPSG:4549` or `OGC:CRS84`: the short name, also what PROJ is given.
    public var code: String {
        switch self {
        case .crs84: "OGC:CRS84"
        case .epsg(let n): "EPSG:\(n)"
        }
    }

    /// The OGC URI (canonical in OGC API - Features), e.g. `http://www.opengis.net/def/crs/EPSG/0/4549`.
    public var uri: String {
        switch self {
        case .crs84: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        case .epsg(let n): "http://www.opengis.net/def/crs/EPSG/0/\(n)"
        }
    }

    /// The OGC URN, as GDAL writes it in a GeoJSON `crs` member, e.g. `urn:ogc:def:crs:EPSG::4549`.
    public var urn: String {
        switch self {
        case .crs84: "urn:ogc:def:crs:OGC:1.3:CRS84"
        case .epsg(let n): "urn:ogc:def:crs:EPSG::\(n)"
        }
    }

    /// The EPSG code, nil for CRS84.
    public var epsgCode: Int? {
        if case .epsg(let n) = self { return n }
        return nil
    }

    /// Longitude/latitude in degrees (CRS84, 4326, 4490) rather than projected metres.
    public var isGeographic: Bool {
        switch self {
        case .crs84: true
        case .epsg(let n): n == 4326 || n == 4490 || n == 4283 || n == 4214
        }
    }

    /// Whether the CRS as EPSG defines it puts the north-pointing axis first (latitude or
    /// northing): true for EPSG:4326, 4490, 4549 and 4528; false for CRS84. Checked against
    /// PROJ's axis information by ``Projection/axisOrderIsNorthEast(_:)`` in the tests.
    public var authorityAxisOrderIsNorthEast: Bool {
        switch self {
        case .crs84: false
        case .epsg: true
        }
    }

    /// The CRS PROJ transforms in: CGCS2000 geographic for WGS 84 (see ``Reprojector``).
    var operationCRS: CRSName {
        switch self {
        case .crs84, .epsg(4326): .epsg(4490)
        default: self
        }
    }

    /// A name for people, in Chinese.
    public var title: String {
        switch self {
        case .crs84: "WGS 84 经纬度（CRS84，经度在前）"
        case .epsg(4326): "WGS 84 经纬度（EPSG:4326）"
        case .epsg(4490): "CGCS2000 经纬度（EPSG:4490）"
        case .epsg(4549): "CGCS2000 3度带高斯-克吕格投影 中央经线120°E（EPSG:4549）"
        case .epsg(4528): "CGCS2000 3度带高斯-克吕格投影 第40带（EPSG:4528，东坐标带号40）"
        case .epsg(let n): "EPSG:\(n)"
        }
    }

    public var description: String { code }

    static var supportedList: String { supported.map(\.code).joined(separator: ", ") }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try CRSName(text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(uri)
    }
}

/// Which order a side of a transformation writes its coordinates in.
public enum AxisOrder: Sendable, Hashable {
    /// x = easting/longitude, y = northing/latitude: GeoJSON, GDAL, QGIS, Leaflet, WKB here.
    case xy
    /// The order the CRS's authority declares (EPSG: latitude/northing first for 4326,
    /// 4490, 4549, 4528; CRS84 stays longitude first): OGC API - Features Part 2 output.
    case authority
}

/// A reprojection that cannot be done, or a CRS that cannot be used, in Chinese and English.
public struct ProjectionError: Error, Sendable, CustomStringConvertible {
    public var zh: String
    public var en: String
    public init(zh: String, en: String) { self.zh = zh; self.en = en }
    public var description: String { "\(zh) / \(en)" }
}

/// Area units and helpers.
public enum Projection {
    /// One mu (亩) in square metres: 10000/15 = 666.67 m².
    public static let squareMetresPerMu = 10_000.0 / 15.0

    /// Square metres → mu.
    @inline(__always) public static func mu(squareMetres a: Double) -> Double { a * 15 / 10_000 }

    /// The box in EPSG:4549 within which a parcel's coordinates are believable: about ±3° of
    /// longitude around the central meridian 120°E and latitudes 14°N–54°N. Coordinates
    /// outside it come from a wrong CRS (a missing zone prefix, swapped axes, degrees read
    /// as metres), not from Yongkang.
    public static let workingArea = BBox(minX: 200_000, minY: 1_500_000, maxX: 800_000, maxY: 6_000_000)

    /// Whether the CRS puts the north-pointing axis first, as PROJ's database defines it
    /// (`proj_crs_get_coordinate_system` + `proj_cs_get_axis_info`).
    public static func axisOrderIsNorthEast(_ crs: CRSName) throws(ProjectionError) -> Bool {
        let ctx = try ProjContext()
        let pj = try ctx.crs(crs)
        defer { proj_destroy(pj) }
        guard let cs = proj_crs_get_coordinate_system(ctx.pointer, pj) else {
            throw ctx.error("无法读取 \(crs.code) 的坐标系", "cannot read the coordinate system of \(crs.code)")
        }
        defer { proj_destroy(cs) }
        var direction: UnsafePointer<CChar>?
        guard proj_cs_get_axis_info(ctx.pointer, cs, 0, nil, nil, &direction, nil, nil, nil, nil) == 1,
              let direction else {
            throw ctx.error("无法读取 \(crs.code) 的坐标轴", "cannot read the axes of \(crs.code)")
        }
        return String(cString: direction).lowercased() == "north"
    }

    /// The directory holding `proj.db`, as PROJ will use it, or nil when it cannot find one.
    public static func databasePath() -> String? {
        (try? ProjContext())?.databasePath
    }
}

/// Collects the last message PROJ logged on a context.
private final class ProjMessages {
    var last = ""
}

/// An owned PROJ context with a log handler and proj.db located.
final class ProjContext {
    let pointer: OpaquePointer
    private let messages = ProjMessages()

    /// Where Debian's proj-data and source builds put proj.db.
    static let searchDirectories = ["/usr/share/proj", "/usr/local/share/proj", "/opt/homebrew/share/proj"]

    init() throws(ProjectionError) {
        guard let ctx = proj_context_create() else {
            throw ProjectionError(zh: "无法创建 PROJ 上下文", en: "cannot create a PROJ context")
        }
        pointer = ctx
        proj_log_level(ctx, PJ_LOG_ERROR)
        proj_log_func(ctx, Unmanaged.passUnretained(messages).toOpaque()) { data, _, message in
            guard let data, let message else { return }
            Unmanaged<ProjMessages>.fromOpaque(data).takeUnretainedValue().last = String(cString: message)
        }
        _ = proj_context_set_enable_network(ctx, 0)
        if proj_context_get_database_path(ctx) == nil {
            if let dir = Self.searchDirectories.first(where: {
                FileManager.default.fileExists(atPath: $0 + "/proj.db")
            }) {
                dir.withCString { p in
                    var paths: [UnsafePointer<CChar>?] = [p]
                    proj_context_set_search_paths(ctx, 1, &paths)
                }
            }
        }
        if proj_context_get_database_path(ctx) == nil {
            proj_context_destroy(ctx)
            let env = ProcessInfo.processInfo.environment["PROJ_DATA"] ?? ProcessInfo.processInfo.environment["PROJ_LIB"] ?? "（未设置 / unset）"
            throw ProjectionError(
                zh: "PROJ 找不到 proj.db 数据库：请安装 proj-data（Debian：apt-get install proj-data），或把环境变量 PROJ_DATA 设为含 proj.db 的目录（当前 PROJ_DATA=\(env)，已查找 \(Self.searchDirectories.joined(separator: "、"))）",
                en: "PROJ cannot find its proj.db database: install proj-data (Debian: apt-get install proj-data) or set PROJ_DATA to the directory holding proj.db (PROJ_DATA=\(env); searched \(Self.searchDirectories.joined(separator: ", ")))")
        }
    }

    deinit { proj_context_destroy(pointer) }

    var databasePath: String? { proj_context_get_database_path(pointer).map { String(cString: $0) } }

    var lastMessage: String {
        if !messages.last.isEmpty { return messages.last }
        let e = proj_context_errno(pointer)
        return e == 0 ? "" : proj_context_errno_string(pointer, e).map { String(cString: $0) } ?? ""
    }

    func error(_ zh: String, _ en: String) -> ProjectionError {
        let m = lastMessage
        return ProjectionError(zh: m.isEmpty ? zh : "\(zh)（PROJ：\(m)）", en: m.isEmpty ? en : "\(en) (PROJ: \(m))")
    }

    /// A CRS object; destroy it with `proj_destroy`.
    func crs(_ crs: CRSName) throws(ProjectionError) -> OpaquePointer {
        guard let pj = proj_create(pointer, crs.code) else {
            throw error("PROJ 无法创建坐标参考系 \(crs.code)", "PROJ cannot create the CRS \(crs.code)")
        }
        return pj
    }
}

/// Transforms coordinates from one CRS to another with PROJ (`proj_create_crs_to_crs_from_pj`,
/// `proj_trans_generic`). Coordinates are interleaved `[x0, y0, x1, y1, …]` in the order
/// each side's ``AxisOrder`` says (GeoJSON order by default). Not Sendable: one per task.
public final class Reprojector {
    public let source: CRSName
    public let target: CRSName
    public let sourceAxes: AxisOrder
    public let targetAxes: AxisOrder
    private let context: ProjContext?
    private let operation: OpaquePointer?
    /// Swap x/y before the operation (which works in its CRSs' authority order), and after.
    private let swapIn: Bool
    private let swapOut: Bool

    /// - Parameters:
    ///   - sourceAxes, targetAxes: `.xy` (GeoJSON order, the default) or `.authority` (EPSG order).
    ///
    /// WGS 84 (CRS84, EPSG:4326) and CGCS2000 agree to a few centimetres, and PROJ itself
    /// uses a ballpark (null) transformation between them; the operation is therefore built
    /// between the CGCS2000 equivalents, which takes 0.1 ms instead of the 50 ms PROJ spends
    /// searching its database for WGS 84 → CGCS2000 operations, with identical results.
    public init(from source: CRSName, to target: CRSName,
                sourceAxes: AxisOrder = .xy, targetAxes: AxisOrder = .xy) throws(ProjectionError) {
        for c in [source, target] where !CRSName.supported.contains(c) {
            throw ProjectionError(zh: "不支持的坐标参考系 \(c.code)（支持：\(CRSName.supportedList)）",
                                  en: "unsupported CRS \(c.code) (supported: \(CRSName.supportedList))")
        }
        self.source = source; self.target = target
        self.sourceAxes = sourceAxes; self.targetAxes = targetAxes
        let opSource = source.operationCRS, opTarget = target.operationCRS
        let inNE = sourceAxes == .authority && source.authorityAxisOrderIsNorthEast
        let outNE = targetAxes == .authority && target.authorityAxisOrderIsNorthEast
        if opSource == opTarget {
            context = nil; operation = nil
            swapIn = inNE != outNE; swapOut = false
            return
        }
        swapIn = inNE != opSource.authorityAxisOrderIsNorthEast
        swapOut = opTarget.authorityAxisOrderIsNorthEast != outNE
        let ctx = try ProjContext()
        let src = try ctx.crs(opSource)
        defer { proj_destroy(src) }
        let dst = try ctx.crs(opTarget)
        defer { proj_destroy(dst) }
        guard let op = proj_create_crs_to_crs_from_pj(ctx.pointer, src, dst, nil, nil) else {
            throw ctx.error("PROJ 无法建立 \(source.code) → \(target.code) 的转换",
                            "PROJ cannot build a transformation \(source.code) → \(target.code)")
        }
        context = ctx; operation = op
    }

    deinit { if let operation { proj_destroy(operation) } }

    /// Whether no arithmetic is done (at most the axes are swapped).
    public var isIdentity: Bool { operation == nil }

    /// Transforms interleaved coordinates in place. Coordinates PROJ cannot transform become
    /// infinite; returns false when any result is not finite.
    @discardableResult
    public func transform(_ xy: inout [Double], inverse: Bool = false) -> Bool {
        let n = xy.count / 2
        guard n > 0 else { return true }
        let (swapBefore, swapAfter) = inverse ? (swapOut, swapIn) : (swapIn, swapOut)
        if swapBefore { swapPairs(&xy) }
        if let operation {
            xy.withUnsafeMutableBufferPointer { buf in
                let base = buf.baseAddress!
                let stride = 2 * MemoryLayout<Double>.stride
                _ = proj_trans_generic(operation, inverse ? PJ_INV : PJ_FWD,
                                       base, stride, n, base + 1, stride, n, nil, 0, 0, nil, 0, 0)
            }
        }
        if swapAfter { swapPairs(&xy) }
        for v in xy where !v.isFinite { return false }
        return true
    }

    /// Transforms one point; throws when PROJ cannot.
    public func transform(x: Double, y: Double, inverse: Bool = false) throws(ProjectionError) -> (x: Double, y: Double) {
        var a = [x, y]
        guard transform(&a, inverse: inverse) else {
            let (from, to) = inverse ? (target, source) : (source, target)
            throw ProjectionError(zh: "坐标 (\(x), \(y)) 无法从 \(from.code) 转换到 \(to.code)",
                                  en: "coordinate (\(x), \(y)) cannot be transformed from \(from.code) to \(to.code)")
        }
        return (a[0], a[1])
    }

    /// The box holding the transformed box (its edges densified, so curved edges are covered).
    public func transform(_ box: BBox, inverse: Bool = false) throws(ProjectionError) -> BBox {
        var pts: [Double] = []
        let steps = isIdentity ? 1 : 20
        for i in 0...steps {
            let t = Double(i) / Double(steps)
            let x = box.minX + (box.maxX - box.minX) * t
            let y = box.minY + (box.maxY - box.minY) * t
            pts += [x, box.minY, x, box.maxY, box.minX, y, box.maxX, y]
        }
        guard transform(&pts, inverse: inverse) else {
            throw ProjectionError(zh: "范围 \(box) 无法转换", en: "the box \(box) cannot be transformed")
        }
        var out = BBox(minX: .infinity, minY: .infinity, maxX: -.infinity, maxY: -.infinity)
        var i = 0
        while i < pts.count {
            out.minX = min(out.minX, pts[i]); out.maxX = max(out.maxX, pts[i])
            out.minY = min(out.minY, pts[i + 1]); out.maxY = max(out.maxY, pts[i + 1])
            i += 2
        }
        return out
    }

    private func swapPairs(_ xy: inout [Double]) {
        xy.withUnsafeMutableBufferPointer { b in
            var i = 0
            while i + 1 < b.count { b.swapAt(i, i + 1); i += 2 }
        }
    }
}

extension Reprojector {
    /// Runs `body` with a reprojector borrowed from a process-wide pool, so that a server does
    /// not open PROJ's database (a few milliseconds) for every request. The reprojector is
    /// used by `body` alone and returned to the pool afterwards; do not keep it.
    public static func withPooled<T>(from source: CRSName, to target: CRSName,
                                     sourceAxes: AxisOrder = .xy, targetAxes: AxisOrder = .xy,
                                     _ body: (Reprojector) throws -> T) throws -> T {
        let key = ReprojectorPool.Key(source: source, target: target, sourceAxes: sourceAxes, targetAxes: targetAxes)
        let r = try ReprojectorPool.shared.take(key) ?? Reprojector(from: source, to: target, sourceAxes: sourceAxes, targetAxes: targetAxes)
        defer { ReprojectorPool.shared.give(r, key) }
        return try body(r)
    }
}

/// Idle reprojectors by kind. Each one is handed to one borrower at a time, under the lock,
/// which is what makes sharing these non-Sendable objects between threads sound.
private final class ReprojectorPool: @unchecked Sendable {
    struct Key: Hashable {
        var source: CRSName, target: CRSName, sourceAxes: AxisOrder, targetAxes: AxisOrder
    }
    static let shared = ReprojectorPool()
    private let lock = NSLock()
    private var idle: [Key: [Reprojector]] = [:]
    private let maxIdle = 16

    func take(_ key: Key) -> Reprojector? {
        lock.lock(); defer { lock.unlock() }
        return idle[key]?.popLast()
    }

    func give(_ r: Reprojector, _ key: Key) {
        lock.lock(); defer { lock.unlock() }
        if idle[key, default: []].count < maxIdle { idle[key, default: []].append(r) }
    }
}
