import Foundation
import NIOConcurrencyHelpers
import Vapor
import MujunCore
import MujunStore

// The parcels of the OGC API, serialized once per land revision, year and CRS.
//
// A GIS client paging through /ogc/collections/parcels/items asks for the same features again
// and again (QGIS on every pan, ogr2ogr page by page), and writing a feature — reading its row,
// reprojecting every vertex with PROJ, formatting the numbers — costs far more than sending it.
// So the whole collection is read and written once, in parcel-id order, with each feature's
// town, block and bbox beside its bytes; a request then filters those in memory and copies the
// bytes of its page.
//
// Freshness comes from the database: triggers raise the `land` revision on every change to the
// land tables (migration CreateDataRevisions), whoever makes it, and each request reads that
// revision first; a snapshot built for another revision is never used. Reading the revision
// before the rows means a snapshot can only be newer than its revision, never older.
//
// The snapshot is the unfiltered collection; the reader's jurisdiction is applied per request
// (`town` scope: its parcels only; enterprise scopes go to the database, which knows who
// occupies what). OGCTests check that the two paths answer byte for byte the same.

/// One serialized collection: the parcels of a year in one CRS, in parcel-id order.
final class OGCParcelSnapshot: Sendable {
    let revision: Int64
    let year: Int?
    let crs: CRSName
    /// town and block of each feature, as indexes into `names`
    let town: [Int32]
    let block: [Int32]
    let names: [String]
    /// bbox of each feature in the storage CRS (EPSG:4549), as stored with the parcel
    let minX: [Double], minY: [Double], maxX: [Double], maxY: [Double]
    /// the features' GeoJSON, feature `i` at `bytes[offsets[i]..<offsets[i + 1]]`
    let bytes: [UInt8]
    let offsets: [Int]

    var count: Int { town.count }

    init(revision: Int64, year: Int?, crs: CRSName, town: [Int32], block: [Int32], names: [String],
         minX: [Double], minY: [Double], maxX: [Double], maxY: [Double], bytes: [UInt8], offsets: [Int]) {
        self.revision = revision; self.year = year; self.crs = crs
        self.town = town; self.block = block; self.names = names
        self.minX = minX; self.minY = minY; self.maxX = maxX; self.maxY = maxY
        self.bytes = bytes; self.offsets = offsets
    }

    /// The indexes of the features matching the filters, in order (what the SQL of
    /// `OGCParcel.read` selects: the same comparisons on the same stored numbers and strings).
    func matching(town townFilter: String?, block blockFilter: String?, bbox: BBox?) -> [Int] {
        func index(_ name: String?) -> Int32?? {
            guard let name, !name.isEmpty else { return .some(nil) }  // no filter
            guard let i = names.firstIndex(of: name) else { return nil }  // matches nothing
            return .some(Int32(i))
        }
        guard let t = index(townFilter), let b = index(blockFilter) else { return [] }
        var out: [Int] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            if let t, town[i] != t { continue }
            if let b, block[i] != b { continue }
            if let box = bbox, !(maxX[i] >= box.minX && minX[i] <= box.maxX && maxY[i] >= box.minY && minY[i] <= box.maxY) { continue }
            out.append(i)
        }
        return out
    }

    /// Bytes held.
    var size: Int { bytes.count + offsets.count * 8 + count * 40 }
}

/// The snapshots kept, newest first, within a byte budget; concurrent requests for the same
/// snapshot wait for one build.
final class OGCParcelCache: Sendable {
    struct Key: Hashable, Sendable {
        var revision: Int64
        var year: Int?
        var crs: CRSName
    }
    private struct State {
        var building: [Key: Task<OGCParcelSnapshot, any Error>] = [:]
        var kept: [OGCParcelSnapshot] = []
        /// land years by revision (one query fewer per request)
        var years: (revision: Int64, years: [Int], parcels: Int)?
    }
    private let state = NIOLockedValueBox(State())
    /// Bytes of snapshots kept at most (MUJUN_OGC_CACHE_MB, default 256); 0 turns the cache off.
    let budget: Int

    init(budget: Int) { self.budget = budget }

    var enabled: Bool { budget > 0 }

    /// The land years (newest first) and the number of parcels at `revision`, cached.
    func landInfo(revision: Int64, load: () async throws -> ([Int], Int)) async throws -> (years: [Int], parcels: Int) {
        if let y = state.withLockedValue({ $0.years }), y.revision == revision { return (y.years, y.parcels) }
        let (years, parcels) = try await load()
        state.withLockedValue { $0.years = (revision, years, parcels) }
        return (years, parcels)
    }

    /// The snapshot for `key`, built by `build` unless kept or being built; nil when one of
    /// about `estimate` bytes does not fit beside the snapshots of the same revision already
    /// kept (the caller then reads the database: two readers in different CRSs must not take
    /// turns throwing out each other's snapshot, rebuilding it on every request).
    func snapshot(_ key: Key, estimate: Int, build: @escaping @Sendable () async throws -> OGCParcelSnapshot) async throws -> OGCParcelSnapshot? {
        let task: Task<OGCParcelSnapshot, any Error>? = state.withLockedValue { s in
            if let kept = s.kept.first(where: { $0.revision == key.revision && $0.year == key.year && $0.crs == key.crs }) {
                return Task { kept }
            }
            if let t = s.building[key] { return t }
            // snapshots of older revisions are of no further use
            s.kept.removeAll { $0.revision < key.revision }
            let used = s.kept.reduce(0) { $0 + $1.size } + s.building.count * estimate
            guard used + estimate <= budget else { return nil }
            let t = Task { try await build() }
            s.building[key] = t
            return t
        }
        guard let task else { return nil }
        do {
            let snap = try await task.value
            state.withLockedValue { s in
                guard s.building[key] != nil else { return }
                s.building[key] = nil
                guard !s.kept.contains(where: { $0 === snap }), snap.size <= budget else { return }
                s.kept.insert(snap, at: 0)
                var total = 0
                s.kept = s.kept.filter { total += $0.size; return total <= budget }
            }
            return snap
        } catch {
            state.withLockedValue { $0.building[key] = nil }
            throw error
        }
    }

    /// The snapshots kept: (revision, year, CRS) of each, newest first.
    var kept: [(revision: Int64, year: Int?, crs: CRSName)] {
        state.withLockedValue { $0.kept.map { ($0.revision, $0.year, $0.crs) } }
    }
}

struct OGCParcelCacheKey: StorageKey { typealias Value = OGCParcelCache }

extension Application {
    /// The OGC API's parcel snapshots (set up by `configure`; budget from MUJUN_OGC_CACHE_MB,
    /// default 256 MB, 0 = off).
    var ogcParcelCache: OGCParcelCache {
        get { storage[OGCParcelCacheKey.self] ?? OGCParcelCache(budget: 0) }
        set { storage[OGCParcelCacheKey.self] = newValue }
    }
}
