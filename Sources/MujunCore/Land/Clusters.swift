import Foundation

/// A contiguous cluster of parcels (集中连片): what a whole-block renewal would take in.
public struct ClusterSummary: Codable, Sendable, Hashable, Identifiable {
    /// 1-based; clusters are numbered in the order of their smallest parcel id.
    public var number: Int
    /// Parcel ids, sorted.
    public var parcelIDs: [String]
    public var count: Int
    /// Σ parcel area (mu, from the geometries).
    public var areaMu: Double
    /// Towns (镇街) the cluster spans, sorted.
    public var towns: [String]
    /// Blocks (区块) named on its parcels, sorted.
    public var blocks: [String]
    /// Credit codes of the enterprises occupying its parcels (land-use rows and owners), sorted.
    public var occupants: [String]
    /// How many of its parcels are low-efficiency, and their area.
    public var lowEfficiencyCount: Int
    public var lowEfficiencyMu: Double
    /// lowEfficiencyMu / areaMu (0 … 1).
    public var lowEfficiencyShare: Double
    /// areaMu ≥ minMu: a renewal candidate (集中连片整治候选).
    public var candidate: Bool
    /// The bounding box of its parcels in EPSG:4549.
    public var bbox: BBox
    /// For a cluster of low-efficiency parcels (a yearly assessment's renewal candidates): the
    /// block (连片区块: all parcels linked within the gap) it lies in, with that block's
    /// low-efficiency share. nil for a cluster of all parcels (`mujun land clusters`).
    public var block: ClusterBlock?
    /// Its low-efficiency parcels by reason (a parcel counts under each of its reasons), in the
    /// order of ``LowEfficiencyKind``; nil when not assessed.
    public var reasons: [ReasonTally]?
    /// Its low-efficiency parcels by the five kinds (低效用地五类), in their order, and those the
    /// data do not place (`category` nil); nil when not assessed.
    public var categories: [CategoryTally]?

    public var id: Int { number }

    /// The low-efficiency share shown beside a cluster: its block's, for a cluster of
    /// low-efficiency parcels (whose own share is 1); else its own.
    public var blockLowEfficiencyShare: Double { block?.lowEfficiencyShare ?? lowEfficiencyShare }
}

/// The block (连片区块) a cluster of low-efficiency parcels lies in: every parcel, low-efficiency
/// or not, linked to it within the gap.
public struct ClusterBlock: Codable, Sendable, Hashable {
    public var parcels: Int
    public var areaMu: Double
    public var lowEfficiencyCount: Int
    public var lowEfficiencyMu: Double
    /// lowEfficiencyMu / areaMu (0 … 1)
    public var lowEfficiencyShare: Double
}

/// How many of a cluster's parcels give a reason, and their area.
public struct ReasonTally: Codable, Sendable, Hashable {
    public var kind: LowEfficiencyKind
    public var parcels: Int
    public var areaMu: Double
}

/// How many of a cluster's parcels fall into one of the five kinds (nil: not placed), and their area.
public struct CategoryTally: Codable, Sendable, Hashable {
    public var category: LowEfficiencyCategory?
    public var parcels: Int
    public var areaMu: Double
}

/// The clusters of a set of parcels.
public struct ClusterResult: Codable, Sendable {
    /// The gap used (metres, EPSG:4549).
    public var gap: Double
    /// The candidate threshold used (mu).
    public var minMu: Double
    /// Every cluster, by number (index = number − 1).
    public var clusters: [ClusterSummary]
    /// Parcel id → cluster number.
    public var clusterOf: [String: Int]

    /// The renewal candidates (area ≥ minMu), by number.
    public var candidates: [ClusterSummary] { clusters.filter(\.candidate) }

    public func cluster(of parcelID: String) -> ClusterSummary? {
        clusterOf[parcelID].map { clusters[$0 - 1] }
    }
}

/// Contiguous clusters (集中连片): two parcels are linked when the distance between their
/// geometries in EPSG:4549 is at most `gap` metres (bridging roads); clusters are the
/// connected components — the result of PostGIS `ST_ClusterDBSCAN(geom, eps := gap,
/// minpoints := 1)`, up to the numbering.
///
/// Method: a GEOS STRtree over the parcels' boxes; each parcel queries its box grown by
/// `gap`; a candidate pair already in one component is skipped, a pair whose boxes are more
/// than `gap` apart is skipped, and the rest are settled by the exact GEOS distance
/// (`GEOSDistanceWithin_r`, which stops early) and joined with union-find.
public enum Clustering {
    /// Component labels for geometries (EPSG:4549 metres): `labels[i] == labels[j]` exactly
    /// when i and j are in one cluster. A label is the smallest index in its component.
    public static func labels(_ geometries: [Geometry], boxes: [BBox]? = nil, gap: Double) throws(GEOSError) -> [Int] {
        let n = geometries.count
        guard n > 0 else { return [] }
        let boxes = boxes ?? geometries.map { $0.bbox ?? BBox(minX: .nan, minY: .nan, maxX: .nan, maxY: .nan) }
        return try labels(count: n, boxes: boxes, gap: gap) { (i: Int, j: Int) throws(GEOSError) -> Bool in
            try geometries[i].isWithinDistance(geometries[j], gap)
        }
    }

    /// The core: candidate pairs from a uniform grid over the boxes, settled by `within`
    /// (the exact test) unless already in one component or their boxes are more than `gap`
    /// apart.
    static func labels(count n: Int, boxes: [BBox], gap: Double,
                       within: (Int, Int) throws(GEOSError) -> Bool) throws(GEOSError) -> [Int] {
        guard n > 0 else { return [] }
        var uf = UnionFind(n)
        var failure: GEOSError?
        let grid = BoxGrid(boxes: boxes, gap: gap)
        var seen = [Int32](repeating: -1, count: n)
        let gap2 = gap * gap
        boxes.withUnsafeBufferPointer { boxes in
            for i in 0..<n where !boxes[i].minX.isNaN {
                let bi = boxes[i]
                grid.forEachCell(bi.expanded(by: gap)) { cell in
                    for j32 in cell where Int(j32) > i {
                        let j = Int(j32)
                        if seen[j] == Int32(truncatingIfNeeded: i) { continue }
                        seen[j] = Int32(truncatingIfNeeded: i)
                        let bj = boxes[j]
                        let dx = max(0, max(bi.minX - bj.maxX, bj.minX - bi.maxX))
                        let dy = max(0, max(bi.minY - bj.maxY, bj.minY - bi.maxY))
                        if dx * dx + dy * dy > gap2 { continue }
                        if uf.find(i) == uf.find(j) { continue }
                        do throws(GEOSError) {
                            if try within(i, j) { uf.union(i, j) }
                        } catch {
                            failure = error
                        }
                    }
                }
            }
        }
        if let failure { throw failure }
        // Label = smallest index of the component.
        var smallest = [Int](repeating: -1, count: n)
        var out = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let r = uf.find(i)
            if smallest[r] < 0 { smallest[r] = i }
            out[i] = smallest[r]
        }
        return out
    }

    /// Clusters parcels and summarises every cluster.
    /// - Parameters:
    ///   - gap: metres (default 20).
    ///   - minMu: a cluster of at least this many mu is a renewal candidate (default 50).
    ///   - lowEfficiency: ids of the low-efficiency parcels, for each cluster's share.
    ///   - landUse: for each cluster's occupants (parcel owners are counted too).
    public static func cluster(_ parcels: [Parcel], gap: Double = LandRules.default.clusterGap,
                               minMu: Double = LandRules.default.minMu,
                               lowEfficiency: Set<String> = [], landUse: [LandUse] = []) throws(GEOSError) -> ClusterResult {
        try clusterWithMembers(parcels, gap: gap, minMu: minMu, lowEfficiency: lowEfficiency, landUse: landUse).result
    }

    /// As ``cluster(_:gap:minMu:lowEfficiency:landUse:)``, with each cluster's members as
    /// indexes into `parcels` (sorted by parcel id; index k = cluster number k + 1).
    public static func clusterWithMembers(_ parcels: [Parcel], gap: Double = LandRules.default.clusterGap,
                                          minMu: Double = LandRules.default.minMu,
                                          lowEfficiency: Set<String> = [], landUse: [LandUse] = [])
        throws(GEOSError) -> (result: ClusterResult, members: [[Int]]) {
        let context = GEOSContext()
        let n = parcels.count
        let boxes = parcels.map(\.bbox)
        // Parcels that are axis-aligned rectangles equal to their box: the distance between two
        // of them is the distance between the boxes. The others are GEOS geometries.
        var rectangle = [Bool](repeating: false, count: n)
        var geometries = [Geometry?](repeating: nil, count: n)
        for i in 0..<n {
            if isBoxRectangle(parcels[i].geometry, parcels[i].bbox) { rectangle[i] = true } else {
                geometries[i] = try parcels[i].makeGeometry(context)
            }
        }
        func geometry(_ i: Int) throws(GEOSError) -> Geometry {
            if let g = geometries[i] { return g }
            let g = try parcels[i].makeGeometry(context)
            geometries[i] = g
            return g
        }
        let labels = try labels(count: n, boxes: boxes, gap: gap) { (i: Int, j: Int) throws(GEOSError) -> Bool in
            if rectangle[i] && rectangle[j] {
                let bi = boxes[i], bj = boxes[j]
                let dx = max(0, max(bi.minX - bj.maxX, bj.minX - bi.maxX))
                let dy = max(0, max(bi.minY - bj.maxY, bj.minY - bi.maxY))
                let d = (dx * dx + dy * dy).squareRoot()
                // a near tie is left to GEOS, so rounding decides exactly as before
                if abs(d - gap) > 1e-6 { return d <= gap }
            }
            return try geometry(i).isWithinDistance(try geometry(j), gap)
        }
        return summariseWithMembers(parcels, labels: labels, gap: gap, minMu: minMu, lowEfficiency: lowEfficiency, landUse: landUse)
    }

    /// Whether `wkb` is a little-endian 2D polygon of one ring of 5 positions running round
    /// the four corners of `box` (so the polygon is exactly its box).
    static func isBoxRectangle(_ wkb: Data, _ box: BBox) -> Bool {
        guard wkb.count == 93, box.minX < box.maxX, box.minY < box.maxY else { return false }
        return wkb.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Bool in
            guard raw[0] == 1, raw.loadUnaligned(fromByteOffset: 1, as: UInt32.self) == 3,
                  raw.loadUnaligned(fromByteOffset: 5, as: UInt32.self) == 1,
                  raw.loadUnaligned(fromByteOffset: 9, as: UInt32.self) == 5 else { return false }
            func x(_ k: Int) -> Double { raw.loadUnaligned(fromByteOffset: 13 + 16 * k, as: Double.self) }
            func y(_ k: Int) -> Double { raw.loadUnaligned(fromByteOffset: 21 + 16 * k, as: Double.self) }
            for k in 0..<5 {
                guard x(k) == box.minX || x(k) == box.maxX, y(k) == box.minY || y(k) == box.maxY else { return false }
            }
            guard x(4) == x(0), y(4) == y(0) else { return false }
            for k in 0..<4 where (x(k) == x(k + 1)) == (y(k) == y(k + 1)) { return false }
            for a in 0..<4 { for b in (a + 1)..<4 where x(a) == x(b) && y(a) == y(b) { return false } }
            return true
        }
    }

    /// Numbers clusters given component labels (any value shared by exactly the members of a
    /// component) and summarises them.
    public static func summarise(_ parcels: [Parcel], labels: [Int], gap: Double, minMu: Double,
                                 lowEfficiency: Set<String> = [], landUse: [LandUse] = []) -> ClusterResult {
        summariseWithMembers(parcels, labels: labels, gap: gap, minMu: minMu, lowEfficiency: lowEfficiency, landUse: landUse).result
    }

    static func summariseWithMembers(_ parcels: [Parcel], labels: [Int], gap: Double, minMu: Double,
                                     lowEfficiency: Set<String> = [], landUse: [LandUse] = []) -> (result: ClusterResult, members: [[Int]]) {
        precondition(parcels.count == labels.count)
        let n = parcels.count
        // Parcels by id; the first of each component in that order is its smallest id, so
        // numbering components in order of first appearance orders them by smallest id.
        var order = Array(0..<n)
        var sorted = true
        if n > 1 { for k in 1..<n where !(parcels[k - 1].parcelID < parcels[k].parcelID) { sorted = false; break } }
        if !sorted { order.sort { parcels[$0].parcelID < parcels[$1].parcelID } }
        var groups: [[Int]] = []
        if labels.allSatisfy({ $0 >= 0 && $0 < n }) {
            var groupOfLabel = [Int](repeating: -1, count: n)
            for i in order {
                var g = groupOfLabel[labels[i]]
                if g < 0 { g = groups.count; groupOfLabel[labels[i]] = g; groups.append([]) }
                groups[g].append(i)
            }
        } else {
            var groupOfLabel: [Int: Int] = [:]
            for i in order {
                let g: Int
                if let k = groupOfLabel[labels[i]] { g = k } else { g = groups.count; groupOfLabel[labels[i]] = g; groups.append([]) }
                groups[g].append(i)
            }
        }
        var occupantsOf: [String: Set<String>] = [:]
        for u in landUse { occupantsOf[u.parcelID, default: []].insert(u.creditCode) }
        let occupantsByParcel = occupantsOf
        let members = groups
        // Parcel id → cluster number, in member order (a repeated id keeps its last cluster).
        @Sendable func clusterOfIDs() -> [String: Int] {
            var clusterOf: [String: Int] = [:]
            clusterOf.reserveCapacity(parcels.count)
            parcels.withUnsafeBufferPointer { parcels in
                for (k, g) in members.enumerated() {
                    for i in g { clusterOf[parcels[i].parcelID] = k + 1 }
                }
            }
            return clusterOf
        }
        @Sendable func summaries() -> [ClusterSummary] {
            var clusters: [ClusterSummary] = []
            clusters.reserveCapacity(members.count)
            parcels.withUnsafeBufferPointer { parcels in
                for (k, g) in members.enumerated() {
                    var area = 0.0, lowMu = 0.0, lowCount = 0
                    var box = parcels[g[0]].bbox
                    var ids: [String] = []
                    ids.reserveCapacity(g.count)
                    var towns: [String] = [], blocks: [String] = [], occupants: [String] = []
                    for i in g {
                        ids.append(parcels[i].parcelID)
                        area += parcels[i].areaMu
                        if !lowEfficiency.isEmpty && lowEfficiency.contains(parcels[i].parcelID) { lowMu += parcels[i].areaMu; lowCount += 1 }
                        if !parcels[i].town.isEmpty { towns.append(parcels[i].town) }
                        if let b = parcels[i].block { blocks.append(b) }
                        if !occupantsByParcel.isEmpty, let o = occupantsByParcel[parcels[i].parcelID] { occupants.append(contentsOf: o) }
                        if let o = parcels[i].ownerCreditCode { occupants.append(o) }
                        box = box.union(parcels[i].bbox)
                    }
                    clusters.append(ClusterSummary(
                        number: k + 1, parcelIDs: ids, count: g.count, areaMu: area,
                        towns: uniqueSorted(towns), blocks: uniqueSorted(blocks), occupants: uniqueSorted(occupants),
                        lowEfficiencyCount: lowCount, lowEfficiencyMu: lowMu,
                        lowEfficiencyShare: area > 0 ? lowMu / area : 0, candidate: area >= minMu, bbox: box,
                        block: nil, reasons: nil, categories: nil))
                }
            }
            return clusters
        }
        let clusters: [ClusterSummary], clusterOf: [String: Int]
        if n >= 20_000 {
            // the map (200,000 hash inserts for 200,000 parcels) on a second thread; the calling
            // thread takes part, so this cannot wait for a thread that never comes
            let out = SummaryParts()
            DispatchQueue.concurrentPerform(iterations: 2) { t in
                if t == 0 { out.clusters = summaries() } else { out.clusterOf = clusterOfIDs() }
            }
            clusters = out.clusters
            clusterOf = out.clusterOf
        } else {
            clusters = summaries()
            clusterOf = clusterOfIDs()
        }
        return (ClusterResult(gap: gap, minMu: minMu, clusters: clusters, clusterOf: clusterOf), groups)
    }

    /// Distinct values, sorted (as `Set(values).sorted()`).
    private static func uniqueSorted(_ values: [String]) -> [String] {
        if values.count <= 1 { return values }
        // the usual case: one value repeated (what a stable sort and the dedup below keep)
        if values.allSatisfy({ $0 == values[0] }) { return [values[0]] }
        var s = values.sorted()
        var w = 1
        for r in 1..<s.count where s[r] != s[w - 1] { s[w] = s[r]; w += 1 }
        s.removeLast(s.count - w)
        return s
    }

    /// The outline of a cluster for the map: its parcels grown by gap/2, merged, and shrunk
    /// back by gap/2, so the roads between them are bridged. WKB in EPSG:4549.
    public static func outline(of parcels: [Parcel], gap: Double = LandRules.default.clusterGap) throws(GEOSError) -> Data {
        let context = GEOSContext()
        var grown: [Geometry] = []
        grown.reserveCapacity(parcels.count)
        for p in parcels { grown.append(try p.makeGeometry(context).buffer(gap / 2, quadrantSegments: 2, square: true)) }
        let merged = try Geometry.union(grown, context: context)
        return try merged.buffer(-gap / 2, quadrantSegments: 2, square: true).wkb
    }
}

/// The two halves of a summary made on two threads (each field written by one).
private final class SummaryParts: @unchecked Sendable {
    var clusters: [ClusterSummary] = []
    var clusterOf: [String: Int] = [:]
}

/// Disjoint sets with path halving and union by size.
struct UnionFind {
    private var parent: [Int]
    private var size: [Int]

    init(_ n: Int) {
        parent = Array(0..<n)
        size = [Int](repeating: 1, count: n)
    }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    mutating func union(_ a: Int, _ b: Int) {
        var ra = find(a), rb = find(b)
        if ra == rb { return }
        if size[ra] < size[rb] { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra] += size[rb]
    }
}

/// A uniform grid over boxes for candidate pairs: each box is listed in every cell it
/// overlaps; the cell side is about a typical box plus the gap.
struct BoxGrid {
    private var originX = 0.0, originY = 0.0, cell = 1.0
    private var nx = 0, ny = 0
    private var start: [Int32] = []
    private var items: [Int32] = []

    init(boxes: [BBox], gap: Double) {
        var lo = BBox(minX: .infinity, minY: .infinity, maxX: -.infinity, maxY: -.infinity)
        var sizes: [Double] = []
        let step = max(1, boxes.count / 2000)
        var valid = 0
        for (k, b) in boxes.enumerated() where !b.minX.isNaN {
            lo = lo.union(b)
            valid += 1
            if k % step == 0 { sizes.append(max(b.width, b.height)) }
        }
        guard valid > 0, lo.minX.isFinite, lo.maxX.isFinite, lo.minY.isFinite, lo.maxY.isFinite else { return }
        sizes.sort()
        let typical = sizes.isEmpty ? 0 : sizes[sizes.count / 2]
        var cell = max(typical + gap, 1e-9)
        let limit = Double(4 * valid + 16)
        while true {
            let cx = (lo.width / cell).rounded(.down) + 1, cy = (lo.height / cell).rounded(.down) + 1
            if cx * cy <= limit { nx = Int(cx); ny = Int(cy); break }
            cell *= 1.5
        }
        self.cell = cell
        originX = lo.minX; originY = lo.minY
        var count = [Int32](repeating: 0, count: nx * ny + 1)
        for b in boxes where !b.minX.isNaN {
            let (x0, y0, x1, y1) = range(b)
            if x0 > x1 || y0 > y1 { continue }
            for y in y0...y1 { for x in x0...x1 { count[y * nx + x + 1] += 1 } }
        }
        for k in 1..<count.count { count[k] += count[k - 1] }
        var fill = count
        items = [Int32](repeating: 0, count: Int(count[count.count - 1]))
        for (i, b) in boxes.enumerated() where !b.minX.isNaN {
            let (x0, y0, x1, y1) = range(b)
            if x0 > x1 || y0 > y1 { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let c = y * nx + x
                    items[Int(fill[c])] = Int32(i)
                    fill[c] += 1
                }
            }
        }
        start = count
    }

    /// The cells a box overlaps (clamped to the grid; empty when outside).
    private func range(_ b: BBox) -> (Int, Int, Int, Int) {
        func clamp(_ v: Double, _ n: Int) -> Int {
            if !(v >= 0) { return 0 }
            if v >= Double(n - 1) { return n - 1 }
            return Int(v)
        }
        let fx0 = (b.minX - originX) / cell, fx1 = (b.maxX - originX) / cell
        let fy0 = (b.minY - originY) / cell, fy1 = (b.maxY - originY) / cell
        if fx1 < 0 || fy1 < 0 || fx0 > Double(nx) || fy0 > Double(ny) { return (0, 0, -1, -1) }
        return (clamp(fx0, nx), clamp(fy0, ny), clamp(fx1, nx), clamp(fy1, ny))
    }

    /// Calls `body` with the items of every cell `box` overlaps (an item may come more than once).
    func forEachCell(_ box: BBox, _ body: (UnsafeBufferPointer<Int32>) -> Void) {
        guard nx > 0 else { return }
        let (x0, y0, x1, y1) = range(box)
        if x0 > x1 || y0 > y1 { return }
        items.withUnsafeBufferPointer { items in
            start.withUnsafeBufferPointer { start in
                for y in y0...y1 {
                    let a = Int(start[y * nx + x0]), b = Int(start[y * nx + x1 + 1])
                    if a < b { body(UnsafeBufferPointer(rebasing: items[a..<b])) }
                }
            }
        }
    }
}

/// The CSV `mujun land clusters` writes: one row per parcel, by cluster then parcel id —
/// `parcel_id,cluster,area_mu,town,block,cluster_area_mu,cluster_parcels,candidate`.
public enum ClustersCSV {
    public static let header = "parcel_id,cluster,area_mu,town,block,cluster_area_mu,cluster_parcels,candidate\n"

    /// The whole file, from ``Clustering/clusterWithMembers(_:gap:minMu:lowEfficiency:landUse:)``'s
    /// result; large inputs are formatted in two halves on two threads.
    public static func build(_ parcels: [Parcel], result: ClusterResult, members: [[Int]]) -> [UInt8] {
        precondition(result.clusters.count == members.count)
        var csv = [UInt8]()
        csv.reserveCapacity(parcels.count * 64 + 128)
        csv += Array(header.utf8)
        // split the clusters where about half of the rows are before
        var split = members.count
        if parcels.count >= 20_000 {
            var rows = 0
            for (k, g) in members.enumerated() {
                rows += g.count
                if rows >= parcels.count / 2 { split = k + 1; break }
            }
        }
        if split == members.count {
            rows(parcels, result, members, 0..<members.count, to: &csv)
            return csv
        }
        let second = CSVPart()
        let input = UncheckedSendable((parcels, result, members, split))
        let first = CSVPart()
        swap(&first.bytes, &csv)
        // the calling thread takes part: no waiting for a thread that never comes
        DispatchQueue.concurrentPerform(iterations: 2) { t in
            let (parcels, result, members, split) = input.value
            if t == 0 {
                rows(parcels, result, members, 0..<split, to: &first.bytes)
            } else {
                var out = [UInt8]()
                out.reserveCapacity(parcels.count / 2 * 64 + 64)
                rows(parcels, result, members, split..<members.count, to: &out)
                second.bytes = out
            }
        }
        swap(&first.bytes, &csv)
        csv += second.bytes
        return csv
    }

    /// The rows of the clusters `range`.
    private static func rows(_ parcels: [Parcel], _ result: ClusterResult, _ members: [[Int]], _ range: Range<Int>, to csv: inout [UInt8]) {
        parcels.withUnsafeBufferPointer { parcels in
            for k in range {
                let c = result.clusters[k]
                var number = [UInt8](), count = [UInt8](), clusterArea = [UInt8]()
                number += Array(String(c.number).utf8)
                count += Array(String(c.count).utf8)
                ParcelGeoJSON.appendFixed(c.areaMu, digits: 4, to: &clusterArea)
                let candidate: StaticString = c.candidate ? "true\n" : "false\n"
                for i in members[k] {
                    appendField(parcels[i].parcelID, to: &csv); csv.append(0x2C)
                    csv += number; csv.append(0x2C)
                    ParcelGeoJSON.appendFixed(parcels[i].areaMu, digits: 4, to: &csv); csv.append(0x2C)
                    appendField(parcels[i].town, to: &csv); csv.append(0x2C)
                    if let b = parcels[i].block { appendField(b, to: &csv) }
                    csv.append(0x2C)
                    csv += clusterArea; csv.append(0x2C)
                    csv += count; csv.append(0x2C)
                    csv.append(contentsOf: UnsafeBufferPointer(start: candidate.utf8Start, count: candidate.utf8CodeUnitCount))
                }
            }
        }
    }

    /// Appends a CSV field, quoted when it holds a comma, quote or line break (quotes doubled).
    static func appendField(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { u in
            let special = u.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
            if !special { out.append(contentsOf: u); return }
            out.append(0x22)
            for c in u {
                out.append(c)
                if c == 0x22 { out.append(0x22) }
            }
            out.append(0x22)
        }
    }
}

/// A half of the CSV, filled by one of two threads.
private final class CSVPart: @unchecked Sendable {
    var bytes: [UInt8] = []
}
