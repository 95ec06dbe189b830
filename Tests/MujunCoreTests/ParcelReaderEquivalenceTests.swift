import Foundation
import Testing
@testable import MujunCore

/// The compact GeoJSON scanner and the checks over it must give exactly what the reader gave
/// before (kept as `LegacyParcelImport`): the same parcels (areas, WKB, boxes, every field)
/// for good files, and the same messages, in the same order, for bad ones.
@Suite(.serialized) struct ParcelReaderEquivalenceTests {
    enum Outcome: Equatable, CustomStringConvertible {
        case parcels([Parcel])
        case failure(String)

        var description: String {
            switch self {
            case .parcels(let p): "\(p.count) parcels"
            case .failure(let s): s
            }
        }
    }

    static func outcomes(_ data: Data, crs: String? = nil, towns: [String]? = LandTests.towns) -> (new: Outcome, old: Outcome) {
        let new: Outcome, old: Outcome
        do { new = .parcels(try ParcelImport.read(geojson: data, crs: crs, towns: towns)) } catch {
            new = .failure(ParcelImport.describe(error) + " omitted \(error.omitted) \(error.errors)")
        }
        do { old = .parcels(try LegacyParcelImport.read(geojson: data, crs: crs, towns: towns)) } catch {
            old = .failure(ParcelImport.describe(error) + " omitted \(error.omitted) \(error.errors)")
        }
        return (new, old)
    }

    /// SplitMix64: the same file for the same seed (``TestSeed``).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
        mutating func double(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(next() % 1_000_000) / 1_000_000 }
    }

    /// A varied FeatureCollection in EPSG:4549 (or reprojected to `crs`): rectangles in every
    /// corner order, rotated quadrilaterals, holes, MultiPolygons (with holes, of one part),
    /// z values, numbers written as strings or with exponents, ids as numbers, escapes, names
    /// in Chinese, English and cut to DBF length, members in any order, unknown members.
    static func variedFile(count: Int, seed: UInt64, crs: CRSName = .working, header: Bool = true) -> Data {
        var rng = Random(state: seed)
        let projector = try! Reprojector(from: .working, to: crs)
        let towns = LandTests.towns
        func format(_ v: Double, _ style: Int) -> String {
            if crs.isGeographic { return "\(v)" }
            switch style {
            case 0: return String(format: "%.1f", v)
            case 1: return String(format: "%.0f", v.rounded())
            case 2: return String(format: "%.8e", v)  // an exponent
            default: return String(format: "%.2f", v)
            }
        }
        func ring(_ xy: [Double], z: Bool) -> String {
            var xy = xy
            projector.transform(&xy)
            let style = rng.int(12)
            func num(_ v: Double) -> String { format(v, style) }
            var parts: [String] = []
            for k in stride(from: 0, to: xy.count, by: 2) {
                parts.append("[" + num(xy[k]) + (rng.chance(0.1) ? ", " : ",") + num(xy[k + 1]) + (z ? ",0" : "") + "]")
            }
            return "[" + parts.joined(separator: rng.chance(0.05) ? ",\n  " : ",") + "]"
        }
        func rectangle(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> [Double] {
            var corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
            if rng.chance(0.3) { corners.reverse() }
            let s = rng.int(4)
            corners = Array(corners[s...] + corners[..<s])
            corners.append(corners[0])
            return corners.flatMap { [$0.0, $0.1] }
        }
        var features: [String] = []
        for k in 1...count {
            let x = 420_000 + Double(k % 300) * 250 + rng.double(0, 20), y = 3_150_000 + Double(k / 300) * 200 + rng.double(0, 20)
            let w = rng.double(20, 120), h = rng.double(20, 120)
            let z = rng.chance(0.03)
            var geometry: String
            switch rng.int(20) {
            case 0:  // rotated quadrilateral
                let q = [x, y, x + w, y + 5, x + w - 5, y + h, x - 3, y + h - 4, x, y]
                geometry = "{\"type\":\"Polygon\",\"coordinates\":[\(ring(q, z: z))]}"
            case 1:  // a hole
                let hole = rectangle(x + 5, y + 5, w / 3, h / 3)
                geometry = "{\"type\":\"Polygon\",\"coordinates\":[\(ring(rectangle(x, y, w, h), z: z)),\(ring(hole, z: z))]}"
            case 2:  // two parts, the first with a hole
                let a = ring(rectangle(x, y, w / 2, h), z: z), hole = ring(rectangle(x + 2, y + 2, 5, 5), z: z)
                let b = ring(rectangle(x + w / 2 + 10, y, w / 3, h / 2), z: z)
                geometry = "{\"type\":\"MultiPolygon\",\"coordinates\":[[\(a),\(hole)],[\(b)]]}"
            case 3:  // one part
                geometry = "{\"coordinates\":[[\(ring(rectangle(x, y, w, h), z: z))]],\"type\":\"MultiPolygon\"}"
            case 4:  // a pentagon
                let p = [x, y, x + w, y, x + w, y + h, x + w / 2, y + h + 10, x, y + h, x, y]
                geometry = "{\"type\":\"Polygon\",\"bbox\":[0,0,1,1],\"coordinates\":[\(ring(p, z: z))]}"
            default:
                geometry = "{\"type\":\"Polygon\",\"coordinates\":[\(ring(rectangle(x, y, w, h), z: z))]}"
            }
            let english = rng.chance(0.2)
            func name(_ zh: String, _ en: String) -> String { english ? (rng.chance(0.5) ? en.uppercased() : en) : zh }
            var props: [String] = []
            let id = rng.chance(0.02) ? "\(900_000_000 + k)" : rng.chance(0.02) ? "\" V-\(k) \"" : rng.chance(0.02) ? "\"V\\u002D\(k)\"" : "\"V-\(k)\""
            props.append("\"\(name("地块编号", "parcel_id"))\":\(id)")
            props.append("\"\(name("所属镇街", "town"))\":\"\(towns[k % towns.count])\"")
            if rng.chance(0.3) { props.append("\"\(name("区块", "block"))\":\"区块\(k % 7)\"") }
            if rng.chance(0.7) {
                let code = LandTests.code(k % 500)
                props.append("\"\(name("权利人信用代码", "owner_credit_code"))\":\"\(rng.chance(0.1) ? code.lowercased() : code)\"")
            }
            switch rng.int(6) {
            case 0: props.append("\"\(name("登记面积(亩)", "registered_mu"))\":\"\(String(format: "%.2f", w * h * 0.0015))\"")
            case 1: props.append("\"\(name("登记面积(亩)", "registered_mu"))\":null")
            case 2: props.append("\"\(name("登记面积(亩)", "registered_mu"))\":\"\"")
            case 3: props.append("\"登记面积(\":\(String(format: "%.3f", w * h * 0.0015))")
            default: props.append("\"\(name("登记面积(亩)", "registered_mu"))\":\(String(format: "%.2f", w * h * 0.0015))")
            }
            if rng.chance(0.5) { props.append("\"\(name("容积率", "far"))\":\(rng.chance(0.2) ? "\"1.5\"" : String(format: "%.2f", rng.double(0, 3)))") }
            if rng.chance(0.5) { props.append("\"\(name("用途", "land_use"))\":\"工业用地\"") }
            if rng.chance(0.8) { props.append("\"\(name("现状", "status"))\":\"\(["在用", "闲置", "在建", "idle", "in use", "使用中"][rng.int(6)])\"") }
            if rng.chance(0.1) { props.append("\"备注\":{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\\"y\"}") }
            if rng.chance(0.1) { props.append("\"面积\":1.5e3") }
            if rng.chance(0.3) { props.shuffle(using: &rng) }
            var members = ["\"type\":\"Feature\"", "\"properties\":{\(props.joined(separator: ","))}", "\"geometry\":\(geometry)"]
            if rng.chance(0.05) { members.append("\"id\":\(k)") }
            if rng.chance(0.1) { members.shuffle(using: &rng) }
            features.append("{" + members.joined(separator: rng.chance(0.05) ? ", " : ",") + "}")
        }
        var s = "{\"type\":\"FeatureCollection\",\"name\":\"varied\","
        if header { s += "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"\(crs.urn)\"}}," }
        s += "\n\"features\":[\n" + features.joined(separator: ",\n") + "\n]"
        if !header { s += ",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"\(crs.urn)\"}}" }
        return Data((s + "}\n").utf8)
    }

    @Test func aVariedFileGivesTheSameParcels() throws {
        // large enough for the two-thread scan (≥ 2 MB) and the two-thread checks
        let seed = TestSeed.seed(7)
        let data = Self.variedFile(count: 9000, seed: seed)
        #expect(data.count > 2_500_000)
        for towns in [LandTests.towns, nil] {
            let (new, old) = Self.outcomes(data, towns: towns)
            guard case .parcels(let p) = new, case .parcels(let q) = old else {
                Issue.record("new: \(new.description.prefix(2000))\nold: \(old.description.prefix(2000))")
                continue
            }
            #expect(p.count == 9000 && q.count == 9000)
            let k = p.indices.first(where: { k in k < q.count && p[k] != q[k] })
            #expect(k == nil, "first difference at \(k ?? -1): \(k.map { "\(p[$0])" } ?? "") vs \(k.map { "\(q[$0])" } ?? "")")
        }
        // the crs member after the features, and the file read on one thread
        let late = Self.variedFile(count: 300, seed: seed &+ 1, header: false)
        let (a, b) = Self.outcomes(late)
        #expect(a == b)
        let scanned = try GeoJSONScanner.scan(data, parallel: false)
        let split = try GeoJSONScanner.scan(data)
        #expect(scanned.count == split.count && split.segments.count == 2)
        // the second thread's job never started (no free thread): the first scans alone
        let alone = try GeoJSONScanner.scan(data, startSecond: false)
        #expect(alone.count == scanned.count && alone.segments.count == 1)
        #expect(alone.segments[0].xy == scanned.segments[0].xy && alone.segments[0].features.count == 9000)
        #expect(zip(alone.segments[0].values, scanned.segments[0].values).allSatisfy {
            $0.kind == $1.kind && $0.start == $1.start && $0.count == $1.count && $0.number.bitPattern == $1.number.bitPattern
        })
    }

    /// Files are mapped (no copy) unless their size is a multiple of the page size; both ways,
    /// and an unreadable file, give what the old reader gave.
    @Test func filesFromDisk() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-reader-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var data = Self.variedFile(count: 400, seed: TestSeed.seed(5))
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let plain = dir.appendingPathComponent("plain.geojson"), padded = dir.appendingPathComponent("padded.geojson")
        if data.count % page == 0 { data.append(0x0A) }
        try data.write(to: plain)
        var pad = data
        pad.append(contentsOf: [UInt8](repeating: 0x20, count: page - data.count % page))
        #expect(pad.count % page == 0)
        try pad.write(to: padded)
        for url in [plain, padded] {
            let new = try ParcelImport.read(url: url, towns: LandTests.towns)
            let old = try LegacyParcelImport.read(url: url, towns: LandTests.towns)
            #expect(new == old && new.count == 400)
        }
        let missing = dir.appendingPathComponent("missing.geojson")
        var a = "", b = ""
        do { _ = try ParcelImport.read(url: missing, towns: nil) } catch { a = ParcelImport.describe(error) }
        do { _ = try LegacyParcelImport.read(url: missing, towns: nil) } catch { b = ParcelImport.describe(error) }
        #expect(!a.isEmpty && a == b)
        // a syntax error near the end of a mapped file: the position is counted in the file
        var bad = data
        bad[bad.count - 3] = UInt8(ascii: "x")
        try bad.write(to: plain)
        do { _ = try ParcelImport.read(url: plain, towns: nil) } catch { a = ParcelImport.describe(error) }
        do { _ = try LegacyParcelImport.read(url: plain, towns: nil) } catch { b = ParcelImport.describe(error) }
        #expect(a.contains("line") && a == b, "\(a) vs \(b)")
    }

    @Test(arguments: [CRSName.crs84, .epsg(4528), .epsg(4490)])
    func otherCRSsGiveTheSameParcels(_ crs: CRSName) {
        let data = Self.variedFile(count: 600, seed: TestSeed.seed(11), crs: crs)
        let (new, old) = Self.outcomes(data)
        #expect(new == old, "\(new.description.prefix(1000)) vs \(old.description.prefix(1000))")
        if case .failure = new { Issue.record("refused: \(new.description.prefix(1000))") }
    }

    @Test func badFilesGiveTheSameMessages() {
        let good = String(decoding: Self.variedFile(count: 12, seed: TestSeed.seed(3)), as: UTF8.self)
        var cases: [String] = [
            "", "   ", "\u{FEFF}", "[1,2]", "{}", "{\"type\":\"FeatureCollection\"}",
            "{\"type\":\"FeatureCollection\",\"features\":{}}", "{\"type\":\"FeatureCollection\",\"features\":[]}",
            "{\"type\":\"FeatureCollection\",\"features\":[1,\"x\",null,{}]}",
            "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\"}],\"type\":\"Feature\"}",
            "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"EPSG\",\"properties\":{\"code\":3857}},\"features\":[]}",
            "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"nome\"},\"features\":[]}",
            "{\"type\":\"FeatureCollection\",\"crs\":null,\"features\":[]} x",
        ]
        // every kind of geometry trouble, in a file of otherwise good features
        let geometries = [
            "null", "{}", "{\"type\":\"Point\",\"coordinates\":[503000,3197000]}", "{\"type\":\"Polygon\"}",
            "{\"type\":\"Polygon\",\"coordinates\":5}", "{\"type\":\"Polygon\",\"coordinates\":[]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[]]}", "{\"type\":\"Polygon\",\"coordinates\":[503000,3197000]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[503000,3197000],[503100,3197000]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[503000],[503100,3197000]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[503000,3197000],[503100,3197000],[503100,3197100],[503000,3197100]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[503000,3197000],[503100,3197000],[503000,3197000]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[503000,3197000],[503100,3197100],[503100,3197000],[503000,3197100],[503000,3197000]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[503000,3197000],[503100,3197000],[503100,3197100],[503000,3197100],[503000,3197000]],[[503200,3197200],[503210,3197200],[503210,3197210],[503200,3197210],[503200,3197200]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[[503000,3197000],[503100,3197000],[503100,3197100],[503000,3197100],[503000,3197000]]]]}",
            "{\"type\":\"MultiPolygon\",\"coordinates\":[[[503000,3197000],[503100,3197000],[503100,3197100],[503000,3197100],[503000,3197000]]]}",
            "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[503000,3197000],[503100,3197000],[503100,3197100],[503000,3197100],[503000,3197000]]],[[[503050,3197050],[503150,3197050],[503150,3197150],[503050,3197150],[503050,3197050]]]]}",
            "{\"type\":\"MultiPolygon\",\"coordinates\":[[],[[]],5]}",
            "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[1,2],[3,4]],[5,6]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[103000,3197000],[103100,3197000],[103100,3197100],[103000,3197100],[103000,3197000]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[503000,3197000],[503100,3197000],[503100,3197100],[503000,3197100],[503000,3197000]]],\"coordinates\":[[[503000,3197000],[503000,3197000],[503000,3197000],[503000,3197000]]]}",
            "{\"type\":\"Polygon\",\"coordinates\":[[[503000,3197000,1,2],[503100,3197000,1],[503100,3197100],[503000,3197100],[503000,3197000]]]}",
        ]
        let props = [
            "\"地块编号\":\"X\",\"所属镇街\":\"古山镇\"", "\"地块编号\":\"V-3\",\"所属镇街\":\"古山镇\"", "\"所属镇街\":\"古山镇\"",
            "\"地块编号\":\"X\",\"所属镇街\":\"火星镇\"", "\"地块编号\":[1],\"所属镇街\":\"古山镇\"", "\"地块编号\":\"X\"",
            "\"地块编号\":\"X\",\"所属镇街\":\"古山镇\",\"登记面积(亩)\":\"十五\",\"容积率\":-1,\"现状\":\"荒废\"",
            "\"地块编号\":\"X\",\"所属镇街\":\"古山镇\",\"登记面积(亩)\":0,\"容积率\":true,\"权利人信用代码\":\"91330784000000001X\"",
            "\"地块编号\":\"X\",\"所属镇街\":\"古山镇\",\"town\":\"火星镇\",\"地块编号\":\"Y\",\"用途\":{\"a\":1}",
            "\"地块编号\":12,\"所属镇街\":\"古山镇\",\"登记面积(亩)\":1e400",
            "\"地块编号\":\"X\\u00\",\"所属镇街\":\"古山镇\"",
        ]
        let square = "{\"type\":\"Polygon\",\"coordinates\":[[[503000,3197000],[503100,3197000],[503100,3197100],[503000,3197100],[503000,3197000]]]}"
        let head = "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4549\"}},\"features\":[\n"
        for g in geometries { cases.append(head + "{\"type\":\"Feature\",\"properties\":{\"地块编号\":\"X\",\"所属镇街\":\"古山镇\"},\"geometry\":\(g)}]}") }
        for p in props { cases.append(head + "{\"type\":\"Feature\",\"properties\":{\(p)},\"geometry\":\(square)},\n{\"type\":\"Feature\",\"properties\":{\"地块编号\":\"V-3\",\"所属镇街\":\"古山镇\"},\"geometry\":\(square)}]}") }
        cases.append(head + "{\"type\":\"Feat\",\"properties\":{\"地块编号\":\"X\",\"所属镇街\":\"古山镇\"},\"geometry\":\(square)}]}")
        cases.append(head + "{\"type\":\"Feature\",\"properties\":5,\"geometry\":\(square)}]}")
        cases.append(head + "{\"type\":\"Feature\",\"properties\":{\"地块编号\":\"X\",\"所属镇街\":\"古山镇\"},\"properties\":{\"地块编号\":\"Z\"},\"geometry\":\(square)}]}")
        // cut short, and with one byte changed, everywhere
        let bytes = Array(good.utf8)
        for k in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 400)) {
            cases.append(String(decoding: bytes[..<k], as: UTF8.self))
            for c in ["x", "]", "}", ",", "\"", "[", "-", "\\", "0", " ", "e"] {
                var m = bytes
                m[k] = UInt8(ascii: Unicode.Scalar(c)!)
                cases.append(String(decoding: m, as: UTF8.self))
            }
        }
        var differing = 0
        for (n, c) in cases.enumerated() {
            for towns in [LandTests.towns, nil] {
                let (new, old) = Self.outcomes(Data(c.utf8), towns: towns)
                if new != old {
                    differing += 1
                    if differing <= 5 { Issue.record("case \(n): \(c.prefix(300))\nnew: \(new.description.prefix(1500))\nold: \(old.description.prefix(1500))") }
                }
            }
        }
        #expect(differing == 0, "\(differing) of \(cases.count * 2) differ")
    }

    /// Errors in the second half of a large file (read by the second thread), duplicates across
    /// the halves, a syntax error there, an invalid geometry, too many errors to list, and two
    /// features arrays.
    @Test func largeBadFilesGiveTheSameMessages() {
        let base = String(decoding: Self.variedFile(count: 9000, seed: TestSeed.seed(21)), as: UTF8.self)
        var cases: [String] = []
        cases.append(base.replacingOccurrences(of: "\"V-8000\"", with: "\"V-10\""))       // duplicate across the halves
        cases.append(base.replacingOccurrences(of: "\"V-7000\"", with: "\"V-7001\""))     // duplicate within the second half
        if let r = base.range(of: "\"V-6000\"") {                                            // syntax error in the second half
            var s = base; s.replaceSubrange(r.upperBound..<base.index(after: r.upperBound), with: ";"); cases.append(s)
        }
        cases.append(base.replacingOccurrences(of: "\"现状\":\"在用\"", with: "\"现状\":\"荒废\""))  // many errors (over the limit)
        cases.append(base.replacingOccurrences(of: "\"type\":\"Feature\"", with: "\"type\":\"Feature\" "))
        let bow = "{\"type\":\"Polygon\",\"coordinates\":[[[503000,3197000],[503100,3197100],[503100,3197000],[503000,3197100],[503000,3197000]]]}"
        if let r = base.range(of: "\"V-7500\"") {
            var s = base
            let g = s.range(of: "\"geometry\":", range: r.upperBound..<s.endIndex)!
            s.insert(contentsOf: "\"geometry\":\(bow),", at: g.lowerBound)
            cases.append(s)
        }
        // two features arrays, the second after the crs member
        cases.append(String(base.dropLast(2)) + ",\"features\":[{\"type\":\"Feature\",\"properties\":{\"地块编号\":\"V-1\"},\"geometry\":null}]}")
        cases.append("\u{FEFF}" + base)
        cases.append(base.replacingOccurrences(of: ",\n{", with: ",{"))  // one line
        for (n, c) in cases.enumerated() {
            let (new, old) = Self.outcomes(Data(c.utf8))
            #expect(new == old, "case \(n): \(new.description.prefix(1500)) vs \(old.description.prefix(1500))")
        }
    }
}

/// `ParcelGeoJSON.appendFixed` no longer allocates; it must write what it always wrote.
@Suite struct AppendFixedTests {
    /// The implementation before (commit 7ae9e53).
    static func legacyAppendFixed(_ v: Double, digits: Int, to out: inout [UInt8]) {
        let pow10: [Double] = (0...15).map { pow(10, Double($0)) }
        let scale = pow10[digits]
        let scaled = (abs(v) * scale).rounded()
        guard v.isFinite, scaled < 9e18 else {
            out += Array(String(v).utf8)
            return
        }
        let n = UInt64(scaled)
        if v < 0 && n > 0 { out.append(UInt8(ascii: "-")) }
        var intPart = n / UInt64(scale)
        var frac = n % UInt64(scale)
        var buf = [UInt8]()
        repeat { buf.append(UInt8(ascii: "0") + UInt8(intPart % 10)); intPart /= 10 } while intPart > 0
        out += buf.reversed()
        if frac > 0 {
            var d = digits
            while frac % 10 == 0 { frac /= 10; d -= 1 }
            out.append(UInt8(ascii: "."))
            var fb = [UInt8](repeating: UInt8(ascii: "0"), count: d)
            var k = d - 1
            while frac > 0 { fb[k] = UInt8(ascii: "0") + UInt8(frac % 10); frac /= 10; k -= 1 }
            out += fb
        }
    }

    @Test func writesWhatItAlwaysWrote() {
        var rng = ParcelReaderEquivalenceTests.Random(state: TestSeed.seed(5))
        var values: [Double] = [0, -0.0, 1, -1, 0.5, -0.5, 0.00004, -0.00004, 0.00005, 9e17, 8.99e18, 1e19, -1e19, .infinity,
                                -.infinity, .nan, 123456.789, 0.1 + 0.2, 1e-300, 4.26, 21.81, 100, 1e15, 999_999.999_95]
        for _ in 0..<20_000 {
            let e = Double(rng.int(40)) - 20
            values.append((rng.double(-1, 1)) * pow(10, e))
            values.append(Double(bitPattern: rng.next()))
        }
        for v in values {
            for digits in 0...15 {
                var a = [UInt8](), b = [UInt8]()
                ParcelGeoJSON.appendFixed(v, digits: digits, to: &a)
                Self.legacyAppendFixed(v, digits: digits, to: &b)
                #expect(a == b, "\(v) \(digits): \(String(decoding: a, as: UTF8.self)) vs \(String(decoding: b, as: UTF8.self))")
                if a != b { return }
            }
        }
    }
}

/// `ClustersCSV.build` (two threads for large inputs) writes what `mujun land clusters` wrote,
/// and the cluster map built aside matches the members.
@Suite struct ClustersCSVTests {
    /// The CSV as `Land.Clusters.run` wrote it before (commit 7ae9e53).
    static func legacyCSV(_ parcels: [Parcel], _ result: ClusterResult, _ members: [[Int]]) -> [UInt8] {
        func field(_ s: String, _ out: inout [UInt8]) {
            let u = Array(s.utf8)
            if !u.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) { out += u; return }
            out.append(0x22)
            for c in u { out.append(c); if c == 0x22 { out.append(0x22) } }
            out.append(0x22)
        }
        var csv = Array("parcel_id,cluster,area_mu,town,block,cluster_area_mu,cluster_parcels,candidate\n".utf8)
        for (k, group) in members.enumerated() {
            let c = result.clusters[k]
            for i in group {
                field(parcels[i].parcelID, &csv); csv.append(0x2C)
                csv += Array(String(c.number).utf8); csv.append(0x2C)
                AppendFixedTests.legacyAppendFixed(parcels[i].areaMu, digits: 4, to: &csv); csv.append(0x2C)
                field(parcels[i].town, &csv); csv.append(0x2C)
                if let b = parcels[i].block { field(b, &csv) }
                csv.append(0x2C)
                AppendFixedTests.legacyAppendFixed(c.areaMu, digits: 4, to: &csv); csv.append(0x2C)
                csv += Array(String(c.count).utf8); csv.append(0x2C)
                csv += Array((c.candidate ? "true\n" : "false\n").utf8)
            }
        }
        return csv
    }

    @Test(arguments: [50, 30_000])
    func csvAndClusterMap(_ count: Int) throws {
        var rng = ParcelReaderEquivalenceTests.Random(state: TestSeed.seed(17))
        var parcels: [Parcel] = []
        for k in 0..<count {
            let x = 420_000 + Double(k % 200) * 60 + rng.double(0, 30), y = 3_150_000 + Double(k / 200) * 60 + rng.double(0, 30)
            let id = k % 97 == 0 ? "Q,\"\(k)\"" : "P-\(String(format: "%06d", (k * 7919) % count))-\(k)"
            var p = LandTests.parcel(id, [LandTests.rect(x, y, rng.double(5, 40), rng.double(5, 40))],
                                     town: k % 13 == 0 ? "镇,\(k % 3)" : "古山镇")
            p.block = k % 5 == 0 ? nil : "区块\(k % 4)"
            parcels.append(p)
        }
        let (result, members) = try Clustering.clusterWithMembers(parcels, gap: 20, minMu: 3)
        #expect(ClustersCSV.build(parcels, result: result, members: members) == Self.legacyCSV(parcels, result, members))
        var expected: [String: Int] = [:]
        for (k, g) in members.enumerated() { for i in g { expected[parcels[i].parcelID] = k + 1 } }
        #expect(result.clusterOf == expected)
        #expect(result.clusters.count > 1 && result.clusters.count < count)
    }
}

extension ParcelReaderEquivalenceTests.Random: RandomNumberGenerator {}
