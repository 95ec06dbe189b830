import Foundation

// The parcel import: the features of a GeoJSON file (scanned by GeoJSONScanner.swift and
// ParcelScan.swift) checked one by one and turned into parcels.

/// Results filled in by concurrent workers, one slot each.
private final class PartResults<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); slots[i] = v; lock.unlock() }
    var values: [T] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}

/// Non-Sendable values handed to concurrent workers that use them on one thread at a time.
private final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Reads parcels (地块) from a GeoJSON FeatureCollection (FORMATS.md), checking every
/// feature. All or nothing: any bad feature fails the whole read, and the failure names every
/// bad feature by its 地块编号 (or its position in the file when it has none), the property
/// and the reason, in Chinese and English.
///
/// In the `ImportFailure`, `row` is the 1-based position of the feature in the file and
/// `column` the property as written (or `geometry`, or `crs`); the message starts with the
/// parcel id. ``describe(_:)`` prints it the way a GIS user reads it.
public enum ParcelImport {
    /// The properties of the template.
    public static let fields: [FieldSpec] = [
        FieldSpec(key: "parcel_id", chinese: "地块编号", required: true),
        FieldSpec(key: "town", chinese: "所属镇街", required: true),
        FieldSpec(key: "block", chinese: "区块"),
        FieldSpec(key: "owner_credit_code", chinese: "权利人信用代码"),
        FieldSpec(key: "registered_mu", chinese: "登记面积(亩)"),
        FieldSpec(key: "land_use", chinese: "用途"),
        FieldSpec(key: "far", chinese: "容积率"),
        FieldSpec(key: "status", chinese: "现状"),
        FieldSpec(key: "approved_on", chinese: "批准日期"),
        FieldSpec(key: "supplied_on", chinese: "供地日期"),
        FieldSpec(key: "start_by", chinese: "约定开工日期"),
        FieldSpec(key: "finish_by", chinese: "约定竣工日期"),
        FieldSpec(key: "operating_since", chinese: "投产日期"),
    ]

    /// Reads and checks a GeoJSON file.
    /// - Parameters:
    ///   - geojson: the file's bytes (UTF-8).
    ///   - crs: a CRS name that overrides the file's `crs` member (`--crs`); without either,
    ///     coordinates are CRS84 (longitude, latitude).
    ///   - towns: the known towns (镇街); every parcel's 所属镇街 must be one of them. `nil`
    ///     accepts any town and lets it be absent (the standalone `mujun land clusters`).
    ///   - tolerance: the share by which the computed area may differ from 登记面积(亩)
    ///     before ``Parcel/areaMismatch`` is set (0.05 = 5 %).
    /// - Returns: the parcels in file order, geometry in EPSG:4549.
    public static func read(geojson: Data, crs override: String? = nil, towns: [String]?,
                            tolerance: Double = LandRules.default.areaTolerance) throws(ImportFailure) -> [Parcel] {
        try read(geojson: geojson, crs: override, towns: towns, tolerance: tolerance, context: GEOSContext())
    }

    /// As ``read(geojson:crs:towns:tolerance:)``, in the given GEOS context.
    public static func read(geojson: Data, crs override: String?, towns: [String]?, tolerance: Double,
                            context: GEOSContext) throws(ImportFailure) -> [Parcel] {
        try read(bytes: InputBytes(copying: geojson), crs: override, towns: towns, tolerance: tolerance, context: context)
    }

    /// The reader proper: `bytes` is the file followed by a 0 byte.
    static func read(bytes: InputBytes, crs override: String?, towns: [String]?, tolerance: Double,
                     context: GEOSContext) throws(ImportFailure) -> [Parcel] {
        assert(fields.count == ScannedSegment.slots && fields.indices.allSatisfy { slotOf(fields[$0].key) == $0 })
        // 1. Syntax and the top level.
        let fc: ScannedCollection
        do { fc = try GeoJSONScanner.scan(bytes: bytes) } catch {
            let (line, col) = withExtendedLifetime(bytes) { GeoJSONScanner.lineColumn(bytes.buffer, offset: error.offset) }
            throw ImportFailure.file(zh: "不是有效的 JSON：第 \(line) 行第 \(col) 列：\(error.zh)",
                                     en: "not valid JSON: line \(line), column \(col): \(error.en)")
        }
        guard fc.type == "FeatureCollection" else {
            let got = fc.type.map { "\"\($0)\"" } ?? "无 / none"
            throw ImportFailure.file(
                zh: "不是 GeoJSON FeatureCollection（type 为 \(got)）；请用 ogr2ogr -f GeoJSON 转换",
                en: "not a GeoJSON FeatureCollection (type is \(got)); convert with ogr2ogr -f GeoJSON",
                column: "type")
        }
        guard fc.featuresPresent else {
            throw ImportFailure.file(zh: "FeatureCollection 缺少 features 数组", en: "the FeatureCollection has no features array", column: "features")
        }

        // 2. The CRS.
        let crs: CRSName
        if let override {
            do { crs = try CRSName(override) } catch {
                throw ImportFailure.file(zh: error.zh, en: error.en, column: "--crs")
            }
        } else if let member = fc.crs, !isNull(member) {
            guard let name = crsName(member) else {
                throw ImportFailure.file(zh: "无法识别文件的 crs 成员（应为 {\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4549\"}}）",
                                         en: "the file's crs member is not understood (expected {\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4549\"}})",
                                         column: "crs")
            }
            do { crs = try CRSName(name) } catch {
                throw ImportFailure.file(zh: error.zh, en: error.en, column: "crs")
            }
        } else {
            crs = .crs84
        }
        let projector: Reprojector
        do { projector = try Reprojector(from: crs, to: .working) } catch {
            throw ImportFailure.file(zh: error.zh, en: error.en, column: "crs")
        }

        // 3. Every feature, on two threads for large files (each with its own GEOS and PROJ
        // context), merged in order. The checks first assume that no parcel id repeats; only
        // when one does (or when anything failed) are the duplicates found in file order and the
        // checks run again with them, so that every message is as it always was.
        let total = fc.count
        let knownTowns = towns.map(Set.init)
        var parts = checkAll(fc, total: total, crs: crs, knownTowns: knownTowns, tolerance: tolerance,
                             duplicates: nil, context: context, projector: projector)
        var clean = parts.allSatisfy { $0.errors.isEmpty && $0.outOfArea.isEmpty }
            && parts.reduce(0, { $0 + $1.parcels.count }) == total
        if clean {
            // every feature gave a parcel: its id is the one the duplicate check reads
            clean = !hasRepeatedID(parts.map(\.parcels))
        }
        if !clean {
            let duplicates = duplicateOf(fc, total: total)
            if duplicates.contains(where: { $0 > 0 }) {
                parts = checkAll(fc, total: total, crs: crs, knownTowns: knownTowns, tolerance: tolerance,
                                 duplicates: duplicates, context: context, projector: projector)
            }
        }
        var errors = RowErrorCollector()
        var outOfArea: [RowError] = []
        var withCoordinates = 0
        var parcels: [Parcel] = []
        swap(&parcels, &parts[0].parcels)  // the first part's parcels without copying them
        for part in parts {
            for e in part.errors { errors.add(e) }
            outOfArea += part.outOfArea
            withCoordinates += part.withCoordinates
            parcels += part.parcels
        }

        // Every feature outside the area: the CRS is wrong; say it once.
        if !outOfArea.isEmpty && outOfArea.count == withCoordinates && outOfArea.count > 3 {
            let first = outOfArea[0]
            errors.add(RowError(row: 0, column: "crs",
                                zh: "全部 \(outOfArea.count) 个要素的坐标都不在 \(crs.code) 的适用范围内，坐标参考系应有误。例如 \(first.messageZh)",
                                en: "the coordinates of all \(outOfArea.count) features lie outside the area of \(crs.code): the CRS must be wrong. For example \(first.messageEn)"))
        } else {
            for e in outOfArea { errors.add(e) }
        }
        if let failure = errors.failure() {
            throw ImportFailure(errors: failure.errors.sorted { ($0.row, $0.column) < ($1.row, $1.column) }, omitted: failure.omitted)
        }
        if parcels.isEmpty {
            throw ImportFailure.file(zh: "文件中没有地块（features 为空）", en: "the file has no parcels (features is empty)", column: "features")
        }
        return parcels
    }

    /// Whether two parcels share an id (String equality, as the duplicate check).
    static func hasRepeatedID(_ parts: [[Parcel]]) -> Bool {
        var seen = Set<String>()
        seen.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts {
            for p in part where !seen.insert(p.parcelID).inserted { return true }
        }
        return false
    }

    /// What checking a run of features gives.
    struct CheckPart {
        var errors: [RowError] = []
        var outOfArea: [RowError] = []
        var withCoordinates = 0
        var parcels: [Parcel] = []
    }

    /// Checks every feature: one part for small files, two (halves, on two threads) for large.
    private static func checkAll(_ fc: ScannedCollection, total: Int, crs: CRSName, knownTowns: Set<String>?, tolerance: Double,
                                 duplicates: [Int]?, context: GEOSContext, projector: Reprojector) -> [CheckPart] {
        guard total >= 4000 else {
            return [checkFeatures(fc, 0..<total, crs: crs, knownTowns: knownTowns, tolerance: tolerance,
                                  duplicates: duplicates, context: context, projector: projector)]
        }
        let split = total / 2
        let results = PartResults<CheckPart>(count: 2)
        let unchecked = UncheckedBox((fc, projector, context, knownTowns, duplicates))
        DispatchQueue.concurrentPerform(iterations: 2) { t in
            let (fc, projector, context, knownTowns, duplicates) = unchecked.value
            if t == 0 {
                results.set(0, checkFeatures(fc, 0..<split, crs: crs, knownTowns: knownTowns, tolerance: tolerance,
                                             duplicates: duplicates, context: context, projector: projector))
            } else {
                let ownContext = GEOSContext()
                let ownProjector = (try? Reprojector(from: crs, to: .working)) ?? projector
                results.set(1, checkFeatures(fc, split..<total, crs: crs, knownTowns: knownTowns, tolerance: tolerance,
                                             duplicates: duplicates, context: ownContext, projector: ownProjector))
            }
        }
        return results.values
    }

    /// The text of a scanned value as the checks read it: trimmed strings, numbers as written,
    /// `true`/`false`, "" for null; nil for arrays and objects.
    private static func text(_ v: ScannedValue, _ seg: ScannedSegment, _ bytes: UnsafeBufferPointer<UInt8>, trim: Bool = true) -> String? {
        switch v.kind {
        case .absent, .null: return ""
        case .rawString:
            let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[v.start..<(v.start + Int(v.count))]), as: UTF8.self)
            return trim ? trimmed(s) : s
        case .decodedString: return trim ? trimmed(seg.strings[v.start]) : seg.strings[v.start]
        case .number:
            if v.start < 0 { return seg.strings[-1 - v.start] }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[v.start..<(v.start + Int(v.count))]), as: UTF8.self)
        case .yes: return "true"
        case .no: return "false"
        case .nested: return nil
        }
    }

    /// For each feature (file order), the number of the first feature with the same parcel id,
    /// or 0.
    private static func duplicateOf(_ fc: ScannedCollection, total: Int) -> [Int] {
        var out = [Int](repeating: 0, count: total)
        var firstFeature: [String: Int] = [:]  // parcel id → feature number
        firstFeature.reserveCapacity(total)
        let idSlot = slotOf("parcel_id")
        var k = 0
        for (s, range) in fc.chunks {
            let seg = fc.segments[s]
            fc.withBytes { bytes in
                for local in range {
                    defer { k += 1 }
                    let v = seg.values[local * ScannedSegment.slots + idSlot]
                    if v.kind == .absent { continue }
                    let id = text(v, seg, bytes) ?? ""
                    if id.isEmpty { continue }
                    if let first = firstFeature[id] { out[k] = first } else { firstFeature[id] = k + 1 }
                }
            }
        }
        return out
    }

    /// Checks the features `range` (positions in file order, 0-based).
    private static func checkFeatures(_ fc: ScannedCollection, _ range: Range<Int>, crs: CRSName, knownTowns: Set<String>?,
                                      tolerance: Double, duplicates: [Int]?, context: GEOSContext, projector: Reprojector) -> CheckPart {
        var part = CheckPart()
        // the first part's array becomes the result: room for the others' parcels too
        part.parcels.reserveCapacity(range.lowerBound == 0 ? fc.count : range.count)
        var scratch = Scratch()
        var k = 0  // position in file order
        fc.withBytes { bytes in
            for (s, chunk) in fc.chunks {
                let lo = max(range.lowerBound - k, 0), hi = min(range.upperBound - k, chunk.count)
                if lo < hi {
                    let seg = fc.segments[s]
                    seg.withView { view in
                        for local in (chunk.lowerBound + lo)..<(chunk.lowerBound + hi) {
                            checkFeature(seg, view, local, number: k + (local - chunk.lowerBound) + 1, bytes: bytes, crs: crs,
                                         knownTowns: knownTowns, tolerance: tolerance, duplicates: duplicates,
                                         context: context, projector: projector, scratch: &scratch, part: &part)
                        }
                    }
                }
                k += chunk.count
            }
        }
        return part
    }

    /// Buffers reused from feature to feature.
    fileprivate struct Scratch {
        var xy: [Double] = []        // transformed coordinates of the feature
        var ring: [Double] = []      // one ring, for the reprojector
        var rings: [Int] = []        // for coordinates not in the flat form
        var groups: [Int] = []
        var flat: [Double] = []
    }

    /// Checks one feature, as the reader always has: properties, geometry (rings, CRS area,
    /// GEOS validity), then the parcel.
    private static func checkFeature(_ seg: ScannedSegment, _ view: ScannedSegment.View, _ local: Int, number: Int,
                                     bytes: UnsafeBufferPointer<UInt8>, crs: CRSName, knownTowns: Set<String>?, tolerance: Double,
                                     duplicates: [Int]?, context: GEOSContext, projector: Reprojector, scratch: inout Scratch,
                                     part: inout CheckPart) {
        let f = view.features[local]
        let v0 = local * ScannedSegment.slots
        func prop(_ key: String) -> ScannedValue? {
            let v = view.values[v0 + slotOf(key)]
            return v.kind == .absent ? nil : v
        }
        func header(_ key: String) -> String {
            guard let v = prop(key) else { return fields[slotOf(key)].chinese }
            return seg.names[Int(v.name)]
        }
        var ok = true
        var parcelID = ""
        var label: (zh: String, en: String) { parcelID.isEmpty
            ? ("第 \(number) 个要素（无地块编号）", "feature \(number) (no parcel id)")
            : ("地块 \(parcelID)", "parcel \(parcelID)") }
        func fail(_ column: String, _ zh: String, _ en: String) {
            ok = false
            part.errors.append(RowError(row: number, column: column, zh: "\(label.zh)：\(zh)", en: "\(label.en): \(en)"))
        }
        func text(_ key: String) -> String {
            guard let v = prop(key) else { return "" }
            if let t = Self.text(v, seg, bytes) { return t }
            fail(seg.names[Int(v.name)], "应为文本", "must be text")
            return ""
        }
        func numeric(_ key: String, positive: Bool) -> Double? {
            guard let v = prop(key) else { return nil }
            let name = seg.names[Int(v.name)]
            var value: Double?
            switch v.kind {
            case .null: return nil
            case .number: value = v.number
            case .rawString, .decodedString:
                let s = Self.text(v, seg, bytes, trim: false)!
                switch HeaderMatcher.parseNumber(s) {
                case .empty: return nil
                case .value(let x): value = x
                case .invalid:
                    fail(name, "不是数字：\"\(s)\"", "not a number: \"\(s)\"")
                    return nil
                }
            default:
                fail(name, "不是数字", "not a number")
                return nil
            }
            guard let x = value else { return nil }
            if positive ? !(x > 0) : x < 0 {
                fail(name, positive ? "应大于 0：\(formatNumber(x))" : "不能为负数：\(formatNumber(x))",
                     positive ? "must be greater than 0: \(formatNumber(x))" : "must not be negative: \(formatNumber(x))")
                return nil
            }
            return x
        }

        if f.type != -2 {
            let type: String? = f.type >= 0 ? seg.strings[Int(f.type)] : f.type == -3 ? "(不是对象 / not an object)" : nil
            if type != "Feature" {
                fail("type", "不是 GeoJSON Feature（type 为 \(type ?? "无")）", "not a GeoJSON Feature (type is \(type ?? "none"))")
            }
        }
        parcelID = text("parcel_id")
        if parcelID.isEmpty {
            fail(header("parcel_id"), "缺少地块编号", "the parcel id is missing")
        } else if let duplicates, duplicates[number - 1] > 0 {
            let first = duplicates[number - 1]
            fail(header("parcel_id"), "地块编号 \(parcelID) 重复（第 \(first) 个要素已使用）",
                 "duplicate parcel id \(parcelID) (also feature \(first))")
        }
        let town = text("town")
        if let knownTowns {
            if town.isEmpty {
                fail(header("town"), "缺少所属镇街", "the town is missing")
            } else if !knownTowns.contains(town) {
                fail(header("town"), "未知镇街：\"\(town)\"", "unknown town: \"\(town)\"")
            }
        }
        let block = text("block")
        var owner = text("owner_credit_code")
        if owner.utf8.contains(where: { $0 >= 0x61 && $0 <= 0x7A }) { owner = owner.uppercased() }
        if !owner.isEmpty, let p = CreditCode.problem(owner) {
            fail(header("owner_credit_code"), "权利人信用代码 \(owner) 无效：\(p.zh)", "invalid owner credit code \(owner): \(p.en)")
            owner = ""
        }
        let registered = numeric("registered_mu", positive: true)
        let far = numeric("far", positive: false)
        let landUse = text("land_use")
        let statusText = text("status")
        var status: ParcelStatus?
        if !statusText.isEmpty {
            status = ParcelStatus(text: statusText)
            if status == nil {
                fail(header("status"), "未知现状 \"\(statusText)\"（应为 在用、闲置 或 在建）",
                     "unknown status \"\(statusText)\" (must be 在用 in use, 闲置 idle or 在建 under construction)")
            }
        }

        // The land's dates (FORMATS.md): each a date, in the order of its life.
        func date(_ key: String) -> CalendarDate? {
            guard let v = prop(key) else { return nil }
            let name = seg.names[Int(v.name)]
            switch v.kind {
            case .null: return nil
            case .rawString, .decodedString:
                let s = Self.text(v, seg, bytes)!
                if s.isEmpty { return nil }
                if let d = CaseHistory.parseDate(s) { return d }
                fail(name, "不是日期：\"\(s)\"（应为 YYYY-MM-DD）", "not a date: \"\(s)\" (use YYYY-MM-DD)")
            default:
                fail(name, "不是日期（应为 YYYY-MM-DD 文本）", "not a date (use YYYY-MM-DD text)")
            }
            return nil
        }
        let approvedOn = date("approved_on"), suppliedOn = date("supplied_on")
        let startBy = date("start_by"), finishBy = date("finish_by"), operatingSince = date("operating_since")
        func order(_ a: CalendarDate?, _ aKey: String, _ b: CalendarDate?, _ bKey: String) {
            guard let a, let b, b < a else { return }
            let an = fields[slotOf(aKey)].chinese, bn = fields[slotOf(bKey)].chinese
            fail(header(bKey), "\(bn) \(b) 早于\(an) \(a)", "\(bKey) \(b) is before \(aKey) \(a)")
        }
        order(approvedOn, "approved_on", suppliedOn, "supplied_on")
        order(suppliedOn, "supplied_on", startBy, "start_by")
        order(startBy, "start_by", finishBy, "finish_by")
        order(suppliedOn, "supplied_on", operatingSince, "operating_since")

        // Geometry: the polygons as flat coordinates, `xy`, `rings` (pairs), `groups` (pairs).
        let geometryType: String? = f.geometryType == -2 ? "Polygon" : f.geometryType == -3 ? "MultiPolygon"
            : f.geometryType >= 0 ? seg.strings[Int(f.geometryType)] : nil
        let isPolygon = geometryType == "Polygon"
        guard let shape = polygons(f, type: geometryType, seg, scratch: &scratch, fail: { fail("geometry", $0, $1) }) else { return }
        var xy = view.xy, rings = view.rings, groups = view.groups
        var owned: (UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Int>, UnsafeMutableBufferPointer<Int>)?
        defer { if let (a, b, c) = owned { a.deallocate(); b.deallocate(); c.deallocate() } }
        if shape.fromScratch {
            // coordinates not in the flat form: a copy of the scratch arrays for this feature
            func copy<T>(_ from: [T]) -> UnsafeMutableBufferPointer<T> {
                let p = UnsafeMutableBufferPointer<T>.allocate(capacity: max(from.count, 1))
                _ = p.initialize(from: from)
                return UnsafeMutableBufferPointer(rebasing: p[0..<from.count])
            }
            let o = (copy(scratch.flat), copy(scratch.rings), copy(scratch.groups))
            owned = o
            xy = UnsafeBufferPointer(o.0); rings = UnsafeBufferPointer(o.1); groups = UnsafeBufferPointer(o.2)
        }
        let polygonCount = shape.groups.count
        var ringProblem = false
        for (p, g) in shape.groups.enumerated() {
            for (r, ri) in (groups[2 * g]..<groups[2 * g + 1]).enumerated() {
                let a = rings[2 * ri], e = rings[2 * ri + 1]
                let n = (e - a) / 2
                var which: (zh: String, en: String) { ringName(polygon: p, ring: r, multi: polygonCount > 1) }
                if n < 4 {
                    fail("geometry", "\(which.zh)只有 \(n) 个点，至少需要 4 个（首尾相同）",
                         "\(which.en) has \(n) position(s); at least 4 are needed (first = last): too few points")
                    ringProblem = true
                } else if xy[a] != xy[e - 2] || xy[a + 1] != xy[e - 1] {
                    fail("geometry", "\(which.zh)未闭合：首点 (\(formatCoordinate(xy[a])), \(formatCoordinate(xy[a + 1]))) 与末点 (\(formatCoordinate(xy[e - 2])), \(formatCoordinate(xy[e - 1]))) 不同",
                         "\(which.en) is not closed (unclosed ring): the first position (\(formatCoordinate(xy[a])), \(formatCoordinate(xy[a + 1]))) differs from the last (\(formatCoordinate(xy[e - 2])), \(formatCoordinate(xy[e - 1])))")
                    ringProblem = true
                }
            }
        }
        if ringProblem { return }
        part.withCoordinates += 1
        // Reprojected ring by ring into scratch.xy (same layout: ring bounds minus `base`).
        scratch.xy.removeAll(keepingCapacity: true)
        var outside: (Double, Double)?
        for g in shape.groups {
            for ri in groups[2 * g]..<groups[2 * g + 1] {
                let a = rings[2 * ri], e = rings[2 * ri + 1]
                scratch.ring.removeAll(keepingCapacity: true)
                scratch.ring.append(contentsOf: UnsafeBufferPointer(rebasing: xy[a..<e]))
                let good = projector.transform(&scratch.ring)
                if outside == nil {
                    var k = 0
                    while k < scratch.ring.count {
                        let x = scratch.ring[k], y = scratch.ring[k + 1]
                        if !good || !x.isFinite || !y.isFinite || x < Projection.workingArea.minX || x > Projection.workingArea.maxX
                            || y < Projection.workingArea.minY || y > Projection.workingArea.maxY {
                            outside = (xy[a + k], xy[a + k + 1]); break
                        }
                        k += 2
                    }
                }
                scratch.xy.append(contentsOf: scratch.ring)
            }
        }
        if let (x, y) = outside {
            let hint = areaHint(crs: crs, x: x, y: y)
            let e = RowError(row: number, column: "geometry",
                             zh: "\(label.zh)：坐标 (\(formatCoordinate(x)), \(formatCoordinate(y))) 远在 \(crs.code) 的适用范围之外\(hint.zh)",
                             en: "\(label.en): the coordinate (\(formatCoordinate(x)), \(formatCoordinate(y))) lies far outside the area of \(crs.code)\(hint.en)")
            part.outOfArea.append(e)
            ok = false
            return
        }
        // The transformed polygons as [[[Double]]] views: polygon p, ring r.
        let t = scratch.xy
        let single = polygonCount == 1 && isPolygon
        var polys: [[[Double]]] = []
        var off = 0
        for g in shape.groups {
            var p: [[Double]] = []
            for ri in groups[2 * g]..<groups[2 * g + 1] {
                let n = rings[2 * ri + 1] - rings[2 * ri]
                p.append(Array(t[off..<(off + n)]))
                off += n
            }
            polys.append(p)
        }
        let geometry: Geometry
        do {
            var parts: [Geometry] = []
            for poly in polys { parts.append(try Geometry.polygon(rings: poly, context: context)) }
            geometry = parts.count == 1 && isPolygon ? parts[0] : try Geometry.multiPolygon(parts, context: context)
        } catch {
            fail("geometry", "几何无法构造：\(error.message)", "the geometry cannot be built: \(error.message)")
            return
        }
        if let problem = geometry.validityProblem {
            var place = (zh: "", en: "")
            if let px = problem.x, let py = problem.y {
                if let back = try? projector.transform(x: px, y: py, inverse: true) {
                    place = ("，位置 (\(formatCoordinate(back.x)), \(formatCoordinate(back.y)))", " at (\(formatCoordinate(back.x)), \(formatCoordinate(back.y)))")
                }
            }
            fail("geometry", "几何无效：\(problem.chinese)\(place.zh)（GEOS：\(problem.description)）",
                 "invalid geometry: \(problem.reason)\(place.en) (GEOS: \(problem.description))")
            return
        }
        guard ok, let area = try? geometry.area(), let bbox = geometry.bbox else { return }
        let wkb = Self.wkb(polys, multi: !single)
        assert(wkb == geometry.wkb, "WKB written from the coordinates differs from GEOS's")
        part.parcels.append(Parcel(
            parcelID: parcelID, town: town, block: block.isEmpty ? nil : block,
            ownerCreditCode: owner.isEmpty ? nil : owner, registeredMu: registered,
            landUse: landUse.isEmpty ? nil : landUse, far: far, status: status,
            geometry: wkb, bbox: bbox, areaMu: Projection.mu(squareMetres: area),
            areaTolerance: tolerance, feature: number, approvedOn: approvedOn, suppliedOn: suppliedOn,
            startBy: startBy, finishBy: finishBy, operatingSince: operatingSince))
    }

    /// Reads a GeoJSON file from disk; see ``read(geojson:crs:towns:tolerance:)``.
    public static func read(url: URL, crs: String? = nil, towns: [String]?,
                            tolerance: Double = LandRules.default.areaTolerance) throws(ImportFailure) -> [Parcel] {
        if url.isFileURL, let bytes = InputBytes.mapping(path: url.path) {
            return try read(bytes: bytes, crs: crs, towns: towns, tolerance: tolerance, context: GEOSContext())
        }
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw ImportFailure.file(zh: "无法读取文件 \(url.path)：\(error.localizedDescription)",
                                     en: "cannot read the file \(url.path): \(error.localizedDescription)")
        }
        return try read(geojson: data, crs: crs, towns: towns, tolerance: tolerance)
    }

    /// An import failure as a GIS user reads it: `要素 3 [现状]：地块 X：… / feature 3 [status]: parcel X: …`.
    public static func describe(_ failure: ImportFailure) -> String {
        var lines = ["地块导入失败，未写入任何数据 / parcel import refused, nothing was written (\(failure.errors.count + failure.omitted) 处错误 / errors):"]
        for e in failure.errors {
            let col = e.column.isEmpty ? "" : " [\(e.column)]"
            if e.row > 0 {
                lines.append("  要素 \(e.row)\(col)：\(e.messageZh) / feature \(e.row)\(col): \(e.messageEn)")
            } else {
                lines.append("  文件\(col)：\(e.messageZh) / file\(col): \(e.messageEn)")
            }
        }
        if failure.omitted > 0 { lines.append("  …另有 \(failure.omitted) 处错误未列出 / \(failure.omitted) more errors not listed") }
        return lines.joined(separator: "\n")
    }

    // MARK: Helpers

    /// Little-endian 2D WKB of a polygon (or multipolygon) straight from its rings, byte for
    /// byte what GEOS's writer gives for the geometry built from them.
    static func wkb(_ polygons: [[[Double]]], multi: Bool) -> Data {
        var size = multi ? 9 : 0
        for p in polygons {
            size += 9
            for r in p { size += 4 + 8 * r.count }
        }
        var data = Data(count: size)
        data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            var o = 0
            func u8(_ v: UInt8) { raw[o] = v; o += 1 }
            func u32(_ v: Int) { raw.storeBytes(of: UInt32(v).littleEndian, toByteOffset: o, as: UInt32.self); o += 4 }
            if multi { u8(1); u32(6); u32(polygons.count) }
            for p in polygons {
                u8(1); u32(3); u32(p.count)
                for r in p {
                    u32(r.count / 2)
                    for v in r { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: o, as: UInt64.self); o += 8 }
                }
            }
        }
        return data
    }

    /// The index in ``fields`` of a field key (a switch: cheaper than hashing for 13).
    @inline(__always) static func slotOf(_ key: String) -> Int {
        // the order of `fields` (no access to the shared array: no reference counting on
        // a buffer both checking threads would touch)
        switch key {
        case "parcel_id": return 0
        case "town": return 1
        case "block": return 2
        case "owner_credit_code": return 3
        case "registered_mu": return 4
        case "land_use": return 5
        case "far": return 6
        case "status": return 7
        case "approved_on": return 8
        case "supplied_on": return 9
        case "start_by": return 10
        case "finish_by": return 11
        case "operating_since": return 12
        default: preconditionFailure("unknown field \(key)")
        }
    }

    /// The field key of a property name: by Chinese name or English key (HeaderMatcher's
    /// rules), or a name cut by the 10-byte limit of Shapefile (DBF) field names, as
    /// `ogr2ogr` leaves it (`登记面积(`, `权利人`, `owner_cred`, `registered`).
    static func fieldKey(_ name: String) -> String? {
        let n = HeaderMatcher.normalize(name)
        for f in fields where HeaderMatcher.normalize(f.chinese) == n || HeaderMatcher.normalize(f.key) == n {
            return f.key
        }
        // DBF truncation: GDAL may leave a broken last character (U+FFFD).
        var cut = name
        var broken = false
        while cut.hasSuffix("\u{FFFD}") { cut.removeLast(); broken = true }
        let bytesUTF8 = name.utf8.count, bytesGBK = cut.unicodeScalars.reduce(0) { $0 + ($1.isASCII ? 1 : 2) }
        guard broken || (bytesUTF8 >= 8 && bytesUTF8 <= 10) || (bytesGBK >= 8 && bytesGBK <= 10) else { return nil }
        let c = HeaderMatcher.normalize(cut)
        guard c.count >= 2 else { return nil }
        let matches = fields.filter {
            let zh = HeaderMatcher.normalize($0.chinese), en = HeaderMatcher.normalize($0.key)
            return (zh.hasPrefix(c) && zh != c) || (en.hasPrefix(c) && en != c)
        }
        return matches.count == 1 ? matches[0].key : nil
    }

    private static func isNull(_ v: JSONValue) -> Bool {
        if case .null = v { return true }
        return false
    }

    /// The CRS name in a GeoJSON 2008 `crs` member: `{"type":"name","properties":{"name":…}}`
    /// or `{"type":"EPSG","properties":{"code":4549}}`.
    static func crsName(_ member: JSONValue) -> String? {
        let props = member["properties"]
        switch member["type"]?.string?.lowercased() {
        case "name": return props?["name"]?.string
        case "epsg":
            switch props?["code"] {
            case .number(_, let t): return "EPSG:\(t)"
            case .string(let s): return "EPSG:\(s)"
            default: return nil
            }
        default: return nil
        }
    }

    private static func ringName(polygon: Int, ring: Int, multi: Bool) -> (zh: String, en: String) {
        let p = multi ? ("第 \(polygon + 1) 个多边形的", "polygon \(polygon + 1), ") : ("", "")
        if ring == 0 { return ("\(p.0)外环", "\(p.1)outer ring".capitalizedFirst) }
        return ("\(p.0)第 \(ring) 个内环", "\(p.1)inner ring \(ring)".capitalizedFirst)
    }

    /// A feature's polygons as flat coordinates: the groups `groups` of the segment's arrays,
    /// or of the scratch arrays (`flat`, `rings`, `groups`) for coordinates not in the flat
    /// form.
    private struct Shape {
        var groups: Range<Int>
        var fromScratch: Bool
    }

    /// The polygons of a feature's geometry, or nil after reporting why there are none.
    private static func polygons(_ f: ScannedFeature, type: String?, _ seg: ScannedSegment, scratch: inout Scratch,
                                 fail: (String, String) -> Void) -> Shape? {
        if f.geometryMissing {
            fail("缺少几何（geometry 为空）", "the geometry is missing (null)")
            return nil
        }
        guard let type else {
            fail("几何缺少 type", "the geometry has no type")
            return nil
        }
        guard type == "Polygon" || type == "MultiPolygon" else {
            fail("几何类型为 \(type)，应为 Polygon 或 MultiPolygon", "the geometry is a \(type), not a Polygon or MultiPolygon")
            return nil
        }
        guard f.coordinates != -1 else {
            fail("几何缺少 coordinates", "the geometry has no coordinates")
            return nil
        }
        if f.coordinates == -2 {
            // the regular form: rings (depth 3) or polygons of rings (depth 4), none empty
            if f.depth == 3 && type == "Polygon" || f.depth == 4 && type == "MultiPolygon" {
                return Shape(groups: f.groupStart..<f.groupEnd, fromScratch: false)
            }
            if type == "Polygon" {
                fail("Polygon 的 coordinates 应为 [[[x, y], …], …]", "Polygon coordinates must be [[[x, y], …], …]")
            } else {
                fail("MultiPolygon 的 coordinates 应为 [[[[x, y], …], …], …]", "MultiPolygon coordinates must be [[[[x, y], …], …], …]")
            }
            return nil
        }
        let coords = seg.trees[Int(f.coordinates)]
        if case .malformed(let zh, let en) = coords { fail(zh, en); return nil }
        func polygon(_ c: JSONCoordinates) -> [[Double]]? {
            guard case .list(let items) = c else { return nil }
            var rings: [[Double]] = []
            for item in items {
                switch item {
                case .positions(let flat): rings.append(flat)
                case .list(let l) where l.isEmpty: rings.append([])
                default: return nil
                }
            }
            return rings
        }
        var out: [[[Double]]] = []
        if type == "Polygon" {
            guard let p = polygon(coords) else {
                fail("Polygon 的 coordinates 应为 [[[x, y], …], …]", "Polygon coordinates must be [[[x, y], …], …]")
                return nil
            }
            if !p.isEmpty { out.append(p) }
        } else {
            guard case .list(let items) = coords else {
                fail("MultiPolygon 的 coordinates 应为 [[[[x, y], …], …], …]", "MultiPolygon coordinates must be [[[[x, y], …], …], …]")
                return nil
            }
            for item in items {
                if case .malformed(let zh, let en) = item { fail(zh, en); return nil }
                guard let p = polygon(item) else {
                    fail("MultiPolygon 的 coordinates 应为 [[[[x, y], …], …], …]", "MultiPolygon coordinates must be [[[[x, y], …], …], …]")
                    return nil
                }
                if !p.isEmpty { out.append(p) }
            }
        }
        if out.isEmpty {
            fail("几何为空（没有坐标）", "the geometry is empty (no coordinates)")
            return nil
        }
        scratch.flat = []
        scratch.rings = []
        scratch.groups = []
        for p in out {
            let r0 = scratch.rings.count / 2
            for r in p {
                scratch.rings.append(scratch.flat.count)
                scratch.flat += r
                scratch.rings.append(scratch.flat.count)
            }
            scratch.groups.append(r0)
            scratch.groups.append(scratch.rings.count / 2)
        }
        return Shape(groups: 0..<out.count, fromScratch: true)
    }

    /// What probably went wrong when coordinates fall outside the working area.
    private static func areaHint(crs: CRSName, x: Double, y: Double) -> (zh: String, en: String) {
        if crs.isGeographic {
            if (14...54).contains(x) && (73...136).contains(y) {
                return ("：经纬度顺序似乎颠倒了，GeoJSON 应经度在前、纬度在后", ": longitude and latitude seem swapped; GeoJSON puts longitude first")
            }
            if abs(x) > 180 || abs(y) > 90 {
                return ("：这些坐标像是投影坐标（米），不是经纬度；请用 --crs EPSG:4549（或带 40 带号的 EPSG:4528）",
                        ": these look like projected coordinates (metres), not degrees; use --crs EPSG:4549 (or EPSG:4528 with the zone prefix 40)")
            }
            return ("：不在永康所在的 CGCS2000 3度带（中央经线 120°E）附近", ": not near the CGCS2000 3-degree zone of Yongkang (central meridian 120°E)")
        }
        if abs(x) <= 180 && abs(y) <= 90 {
            return ("：这些坐标像是经纬度；请用 --crs CRS84 或 EPSG:4490", ": these look like longitude/latitude; use --crs CRS84 or EPSG:4490")
        }
        if crs == .epsg(4528) && x < 1_000_000 {
            return ("：EPSG:4528 的东坐标带带号 40（约 40,500,000）；不带带号的坐标请用 EPSG:4549",
                    ": EPSG:4528 eastings carry the zone number 40 (about 40,500,000); without it use EPSG:4549")
        }
        if crs == .epsg(4549) && x > 10_000_000 {
            return ("：东坐标带有带号；请用 EPSG:4528", ": the eastings carry a zone number; use EPSG:4528")
        }
        if crs.authorityAxisOrderIsNorthEast && y > 0 && y < 1_000_000 && x > 1_500_000 {
            return ("：东、北坐标顺序似乎颠倒了，GeoJSON 应东坐标在前", ": easting and northing seem swapped; GeoJSON puts the easting first")
        }
        return ("", "")
    }
}

private extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

/// `s` without surrounding white space; returns `s` itself (no copy) when there is none,
/// which is the usual case and far cheaper than Foundation's `trimmingCharacters`.
func trimmed(_ s: String) -> String {
    let u = s.unicodeScalars
    guard let first = u.first, let last = u.last else { return s }
    if !isSpace(first) && !isSpace(last) { return s }
    var lo = u.startIndex, hi = u.endIndex
    while lo < hi && isSpace(u[lo]) { lo = u.index(after: lo) }
    while hi > lo && isSpace(u[u.index(before: hi)]) { hi = u.index(before: hi) }
    return String(u[lo..<hi])
}

/// Unicode white space (and the byte-order mark), without a property-table lookup.
@inline(__always) private func isSpace(_ c: Unicode.Scalar) -> Bool {
    let v = c.value
    if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
    return v == 0x85 || v == 0xA0 || v == 0x1680 || (v >= 0x2000 && v <= 0x200B) || v == 0x2028 || v == 0x2029
        || v == 0x202F || v == 0x205F || v == 0x3000 || v == 0xFEFF
}
