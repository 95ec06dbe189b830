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

    public var id: Int { number }
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
        let context = geometries[0].context
        let tree = STRtree(context: context)
        for (i, b) in boxes.enumerated() where !b.minX.isNaN { tree.insert(b, item: i) }
        var uf = UnionFind(n)
        var failure: GEOSError?
        var candidates: [Int] = []
        for i in 0..<n where !boxes[i].minX.isNaN {
            let bi = boxes[i]
            candidates.removeAll(keepingCapacity: true)
            tree.query(bi.expanded(by: gap)) { j in if j > i { candidates.append(j) } }
            for j in candidates {
                if uf.find(i) == uf.find(j) { continue }
                let bj = boxes[j]
                let dx = max(0, max(bi.minX - bj.maxX, bj.minX - bi.maxX))
                let dy = max(0, max(bi.minY - bj.maxY, bj.minY - bi.maxY))
                if dx * dx + dy * dy > gap * gap { continue }
                do {
                    if try geometries[i].isWithinDistance(geometries[j], gap) { uf.union(i, j) }
                } catch {
                    failure = error
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
        let context = GEOSContext()
        var geometries: [Geometry] = []
        geometries.reserveCapacity(parcels.count)
        for p in parcels { geometries.append(try p.makeGeometry(context)) }
        let labels = try labels(geometries, boxes: parcels.map(\.bbox), gap: gap)
        return summarise(parcels, labels: labels, gap: gap, minMu: minMu, lowEfficiency: lowEfficiency, landUse: landUse)
    }

    /// Numbers clusters given component labels (any value shared by exactly the members of a
    /// component) and summarises them.
    public static func summarise(_ parcels: [Parcel], labels: [Int], gap: Double, minMu: Double,
                                 lowEfficiency: Set<String> = [], landUse: [LandUse] = []) -> ClusterResult {
        precondition(parcels.count == labels.count)
        var members: [Int: [Int]] = [:]
        for (i, l) in labels.enumerated() { members[l, default: []].append(i) }
        var groups = members.values.map { idx in idx.sorted { parcels[$0].parcelID < parcels[$1].parcelID } }
        groups.sort { parcels[$0[0]].parcelID < parcels[$1[0]].parcelID }
        var occupantsOf: [String: Set<String>] = [:]
        for u in landUse { occupantsOf[u.parcelID, default: []].insert(u.creditCode) }
        var clusters: [ClusterSummary] = []
        clusters.reserveCapacity(groups.count)
        var clusterOf: [String: Int] = [:]
        clusterOf.reserveCapacity(parcels.count)
        for (k, g) in groups.enumerated() {
            var area = 0.0, lowMu = 0.0, lowCount = 0
            var towns = Set<String>(), blocks = Set<String>(), occupants = Set<String>()
            var box = parcels[g[0]].bbox
            for i in g {
                let p = parcels[i]
                clusterOf[p.parcelID] = k + 1
                area += p.areaMu
                if lowEfficiency.contains(p.parcelID) { lowMu += p.areaMu; lowCount += 1 }
                if !p.town.isEmpty { towns.insert(p.town) }
                if let b = p.block { blocks.insert(b) }
                if let o = occupantsOf[p.parcelID] { occupants.formUnion(o) }
                if let o = p.ownerCreditCode { occupants.insert(o) }
                box = box.union(p.bbox)
            }
            clusters.append(ClusterSummary(
                number: k + 1, parcelIDs: g.map { parcels[$0].parcelID }, count: g.count, areaMu: area,
                towns: towns.sorted(), blocks: blocks.sorted(), occupants: occupants.sorted(),
                lowEfficiencyCount: lowCount, lowEfficiencyMu: lowMu,
                lowEfficiencyShare: area > 0 ? lowMu / area : 0, candidate: area >= minMu, bbox: box))
        }
        return ClusterResult(gap: gap, minMu: minMu, clusters: clusters, clusterOf: clusterOf)
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
