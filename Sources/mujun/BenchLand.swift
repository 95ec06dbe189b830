import Foundation
import ArgumentParser
import MujunCore
import MujunStore

/// The land benchmarks of issue 4 that run in process (bench/land/run.sh calls this; the
/// clusters, OGC API and map figures are measured from outside, by bench/land/*.sh/py).
///
/// 1. Import of N parcels (default 50,000) from a GeoJSON file into SQLite, end to end: read +
///    check (JSON, CRS, every property, GEOS validity, area) + write via `Store.importParcels`
///    (target ≤ 5 s); the same into PostgreSQL when MUJUN_BENCH_POSTGRES_URL is set.
/// 2. The area and low-efficiency pass over the same N parcels, in memory: every parcel's area
///    from its WKB (GEOS, as the import computes it) and the area check, then
///    `LowEfficiencyAssessor` with the year's records, results and land use (target ≤ 1 s);
///    and `Store.assessLand` end to end (read, assess, cluster, outlines, write) for reference.
///
/// Each figure is printed as `name value unit`, with `(target …: PASS/FAIL)` where the issue
/// names one; the in-memory figures are the best of `--repeats` runs.
struct BenchLand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-land",
        abstract: "地块性能基准（请用 release 构建）/ land benchmarks (use a release build)",
        discussion: "MUJUN_BENCH_POSTGRES_URL 设为 postgres://… 时同时测 PostgreSQL 导入（会清空其中的地块表）。")
    @Option(help: "地块数 / parcels") var parcels = 50_000
    @Option(help: "坐标参考系 / CRS of the GeoJSON file (EPSG:4549, CRS84, …)") var crs = "EPSG:4549"
    @Option(help: "内存基准重复次数（取最好）/ runs of the in-memory pass (best of)") var repeats = 3
    @Option(help: "临时文件目录 / work directory") var workDir = "bench-data"
    @Flag(help: "跳过 Store.assessLand 端到端测量 / skip the end-to-end Store.assessLand figure") var skipAssessStore = false
    @Option(name: .customLong("profile-clusters"),
            help: "只分阶段计时 `mujun land clusters` 的各步骤（此 GeoJSON 文件）/ only time the phases of `mujun land clusters` on this file")
    var profileClusters: String?
    @Option(help: "与 --profile-clusters 同用：间距（米）/ gap for --profile-clusters") var gap = 20.0

    func run() async throws {
        #if DEBUG
        print("warning: debug build — figures are not representative; use `swift build -c release`")
        #endif
        if let profileClusters { return try profile(file: profileClusters) }
        guard parcels > 0 else { throw ValidationError("--parcels must be > 0") }
        let dir = URL(fileURLWithPath: workDir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let label = parcels % 1000 == 0 ? "\(parcels / 1000)k" : "\(parcels)"
        let year = 2025

        // The demo city large enough for N parcels (≈ 1.07 parcels per enterprise), cut to N.
        var enterprises = max(100, Int(Double(parcels) / 1.05))
        var city = DemoCity(enterprises: enterprises, seed: 42)
        var land = DemoLand(city: city)
        while land.parcels.count < parcels {
            enterprises = Int(Double(enterprises) * Double(parcels) / Double(max(land.parcels.count, 1)) * 1.02) + 10
            city = DemoCity(enterprises: enterprises, seed: 42)
            land = DemoLand(city: city)
        }
        land.parcels = Array(land.parcels.prefix(parcels))
        let kept = Set(land.parcels.map(\.parcelID))
        land.landUse = land.landUse.filter { kept.contains($0.parcelID) }
        let crsName: CRSName
        do { crsName = try CRSName(crs) } catch { throw ValidationError(error.description) }
        let file = dir.appendingPathComponent("land-\(label)-\(crsName.code.replacingOccurrences(of: ":", with: "")).geojson")
        try land.geoJSON(crs: crsName).write(to: file, options: .atomic)
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        print(String(format: "land_input %d parcels, %d land-use rows, %d enterprises, %@, %.1f MB (%@)",
                     land.parcels.count, land.landUse.count, enterprises, crsName.code, Double(size) / 1_048_576, file.path))
        let (rules, _) = try loadRules(nil)

        // 1. Import: read + check + write, end to end.
        let sqlitePath = dir.appendingPathComponent("bench-land.sqlite").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: sqlitePath + suffix) }
        let (t1, phases1) = try await timeImport(file: file, towns: rules.towns, databaseURL: "sqlite://" + sqlitePath)
        report("land_import_\(label)_sqlite", t1, "s", target: 5)
        print(String(format: "  (read + check %.3f s, write %.3f s)", phases1.read, phases1.write))
        let (t1b, phases1b) = try await timeImport(file: file, towns: rules.towns, databaseURL: "sqlite://" + sqlitePath)
        report("land_reimport_\(label)_sqlite", t1b, "s", target: 5)
        print(String(format: "  (read + check %.3f s, write %.3f s; every parcel replaced)", phases1b.read, phases1b.write))
        if let pg = ProcessInfo.processInfo.environment["MUJUN_BENCH_POSTGRES_URL"], !pg.isEmpty {
            let options = try DatabaseOptions.parse(["--database", pg])
            try await withServices(options, actor: "bench") { s in try await s.system.clearDataForBenchmark() }
            let (t2, phases2) = try await timeImport(file: file, towns: rules.towns, databaseURL: pg)
            report("land_import_\(label)_postgres", t2, "s", target: 5)
            print(String(format: "  (read + check %.3f s, write %.3f s)", phases2.read, phases2.write))
        } else {
            print("land_import_\(label)_postgres skipped (MUJUN_BENCH_POSTGRES_URL not set)")
        }

        // 2. Area + low-efficiency pass in memory, on the parcels as imported.
        let imported: [Parcel]
        do { imported = try ParcelImport.read(url: file, crs: nil, towns: rules.towns) } catch {
            throw ValidationError(ParcelImport.describe(error))
        }
        let records = city.records(year: year, latestYear: year)
        let results = Evaluator().evaluate(year: year, records: records).results
        let assessor = LowEfficiencyAssessor(rules: .default)
        var bestArea = Double.infinity, bestAssess = Double.infinity, bestTotal = Double.infinity
        var lowCount = 0, mismatches = 0
        for _ in 0..<max(1, repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let context = GEOSContext()
            var withArea = imported
            var flagged = 0
            for i in withArea.indices {
                let g = try withArea[i].makeGeometry(context)
                withArea[i].areaMu = Projection.mu(squareMetres: try g.area())
                withArea[i].areaMismatch = withArea[i].isAreaMismatch(tolerance: LandRules.default.areaTolerance)
                if withArea[i].areaMismatch { flagged += 1 }
            }
            let t1 = DispatchTime.now().uptimeNanoseconds
            let assessment = assessor.assess(year: year, parcels: withArea, landUse: land.landUse, records: records, results: results)
            let low = assessment.lowEfficiencyIDs.count
            let t2 = DispatchTime.now().uptimeNanoseconds
            bestArea = min(bestArea, Double(t1 - t0) / 1e9)
            bestAssess = min(bestAssess, Double(t2 - t1) / 1e9)
            bestTotal = min(bestTotal, Double(t2 - t0) / 1e9)
            lowCount = low; mismatches = flagged
        }
        report("land_area_lowefficiency_\(label)_in_memory", bestTotal, "s", target: 1)
        print(String(format: "  (area %.3f s, low-efficiency %.3f s; %d low-efficiency parcels, %d area mismatches)",
                     bestArea, bestAssess, lowCount, mismatches))

        // 2b. What Store.assessLand adds in memory: the clusters and their outlines (informative).
        do {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let assessment = assessor.assess(year: year, parcels: imported, landUse: land.landUse, records: records, results: results)
            let clusters = try Clustering.cluster(imported, gap: LandRules.default.clusterGap, minMu: LandRules.default.minMu,
                                                  lowEfficiency: assessment.lowEfficiencyIDs, landUse: land.landUse)
            let t1 = DispatchTime.now().uptimeNanoseconds
            let byID = Dictionary(uniqueKeysWithValues: imported.map { ($0.parcelID, $0) })
            var outlines = 0
            for c in clusters.clusters where c.count > 1 {
                _ = try Clustering.outline(of: c.parcelIDs.compactMap { byID[$0] }, gap: LandRules.default.clusterGap)
                outlines += 1
            }
            let t2 = DispatchTime.now().uptimeNanoseconds
            report("land_assess_and_cluster_\(label)_in_memory", Double(t1 - t0) / 1e9, "s")
            report("land_cluster_outlines_\(label)_in_memory", Double(t2 - t1) / 1e9, "s")
            print("  (\(clusters.clusters.count) clusters, \(outlines) outlines of clusters with 2 or more parcels: buffer, union, buffer back)")
        }

        // 3. Store.assessLand end to end (reads parcels, land use, records and results back,
        //    assesses, clusters with outlines, writes the year's assessment and clusters).
        if !skipAssessStore {
            let options = try DatabaseOptions.parse(["--database", "sqlite://" + sqlitePath])
            let (summary, seconds) = try await withServices(options, actor: "bench") { services -> (Store.LandRunSummary, Double) in
                _ = try await services.ranking.importEnterprises(records, fileName: "bench-land")
                _ = try await services.ranking.evaluate(year: year)
                try await services.land.importLandUse(land.landUse, fileName: "bench-land-use")
                let t0 = DispatchTime.now().uptimeNanoseconds
                let s = try await services.land.assess(year: year)
                return (s, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            report("land_assess_store_\(label)_sqlite", seconds, "s")
            print("  (Store.assessLand: \(summary.parcels) parcels, \(summary.lowEfficiency) low-efficiency, \(summary.clusters) clusters, \(summary.candidates) candidates)")
        }
    }

    func report(_ name: String, _ value: Double, _ unit: String, target: Double? = nil) {
        var line = String(format: "%@ %.3f %@", name, value, unit)
        if let target { line += String(format: "  (target ≤ %g %@: %@)", target, unit, value <= target ? "PASS" : "FAIL") }
        print(line)
    }

    /// Reads and checks the file, then writes it with Store.importParcels (opening and migrating
    /// the database is counted as part of the write).
    func timeImport(file: URL, towns: [String], databaseURL: String) async throws -> (Double, (read: Double, write: Double)) {
        let start = DispatchTime.now().uptimeNanoseconds
        let parcels: [Parcel]
        do { parcels = try ParcelImport.read(url: file, crs: nil, towns: towns) } catch {
            throw ValidationError(ParcelImport.describe(error))
        }
        let read = DispatchTime.now().uptimeNanoseconds
        let options = try DatabaseOptions.parse(["--database", databaseURL])
        try await withServices(options, actor: "bench") { s in
            try await s.land.importParcels(parcels, fileName: file.lastPathComponent)
        }
        let end = DispatchTime.now().uptimeNanoseconds
        return (Double(end - start) / 1e9, (Double(read - start) / 1e9, Double(end - read) / 1e9))
    }

    // MARK: - Phases of `mujun land clusters`

    /// Times each step `mujun land clusters FILE` takes, with the public pieces of MujunCore:
    /// first the path the command takes (ParcelImport.read(url:): the file mapped, the JSON
    /// scanned on two threads, properties, CRS, GEOS validity for the
    /// parcels that are not axis-aligned rectangles, areas, WKB, checked on two threads; then
    /// Clustering.clusterWithMembers; then ClustersCSV.build), then, for reference, the pieces
    /// of a GEOS-only clustering: WKB → GEOS geometries, the STRtree (build, queries), the exact
    /// distance tests, `Clustering.labels` as a whole, `Clustering.summarise` and the frees.
    func profile(file: String) throws {
        func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
        func line(_ name: String, _ t0: UInt64, _ t1: UInt64, _ note: String = "") {
            let padded = name.padding(toLength: max(name.count, 26), withPad: " ", startingAt: 0)
            print("clusters_phase \(padded) " + String(format: "%8.3f", Double(t1 - t0) / 1e9) + " s" + (note.isEmpty ? "" : "  (" + note + ")"))
        }
        let t0 = now()
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let start = now(); line("file_read_data", t0, start, "\(data.count / 1_048_576) MB as Data (reference; the import reads the file itself)")
        let parcels: [Parcel]
        do { parcels = try ParcelImport.read(url: URL(fileURLWithPath: file), crs: nil, towns: nil) } catch {
            throw ValidationError(ParcelImport.describe(error))
        }
        let t1 = now(); line("parcel_import_read", start, t1, "file mapped, scan on 2 threads, properties, CRS, GEOS validity for non-rectangles, area, WKB; \(parcels.count) parcels")
        let (clustered, members) = try Clustering.clusterWithMembers(parcels, gap: gap, minMu: 0)
        let t1b = now(); line("clustering_with_members", t1, t1b, "\(clustered.clusters.count) clusters, as land clusters does")
        let clustersCSV = ClustersCSV.build(parcels, result: clustered, members: members)
        let t2 = now(); line("csv_build", t1b, t2, "\(clustersCSV.count / 1024) KB, as land clusters does")
        line("land_clusters_path", start, t2, "import + clustering + CSV (the file write not included)")
        do {
            let context = GEOSContext()
            var geometries: [Geometry] = []
            geometries.reserveCapacity(parcels.count)
            for p in parcels { geometries.append(try p.makeGeometry(context)) }
            let t3 = now(); line("wkb_to_geos", t2, t3)
            let boxes = parcels.map(\.bbox)
            let tree = STRtree(context: context)
            for (i, b) in boxes.enumerated() { tree.insert(b, item: i) }
            tree.query(BBox(minX: 0, minY: 0, maxX: 0, maxY: 0)) { _ in }
            let t4 = now(); line("strtree_insert_build", t3, t4)
            var pairs: [(Int32, Int32)] = []
            pairs.reserveCapacity(parcels.count * 4)
            for i in boxes.indices {
                tree.query(boxes[i].expanded(by: gap)) { j in if j > i { pairs.append((Int32(i), Int32(j))) } }
            }
            let t5 = now(); line("strtree_queries", t4, t5, "\(pairs.count) candidate pairs (boxes within gap)")
            var parent = Array(0..<parcels.count)
            func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
            var tested = 0, boxSkipped = 0, ufSkipped = 0, linked = 0
            for (a, b) in pairs {
                let i = Int(a), j = Int(b)
                let ri = find(i), rj = find(j)
                if ri == rj { ufSkipped += 1; continue }
                let bi = boxes[i], bj = boxes[j]
                let dx = max(0, max(bi.minX - bj.maxX, bj.minX - bi.maxX))
                let dy = max(0, max(bi.minY - bj.maxY, bj.minY - bi.maxY))
                if dx * dx + dy * dy > gap * gap { boxSkipped += 1; continue }
                tested += 1
                if try geometries[i].isWithinDistance(geometries[j], gap) { parent[rj] = ri; linked += 1 }
            }
            let t6 = now(); line("exact_distance_tests", t5, t6, "\(tested) GEOSDistanceWithin, \(linked) links; skipped \(ufSkipped) same-component, \(boxSkipped) by box distance")
            let labels = try Clustering.labels(geometries, boxes: boxes, gap: gap)
            let t7 = now(); line("clustering_labels_total", t6, t7, "the library's labels(): tree + queries + tests + union-find")
            let result = Clustering.summarise(parcels, labels: labels, gap: gap, minMu: 0)
            let t8 = now(); line("clustering_summarise", t7, t8, "\(result.clusters.count) clusters")
            let t9 = now()
            geometries.removeAll()
            _ = tree
            let t10 = now(); line("free_geometries", t9, t10)
        }
        let t11 = now()
        line("total", start, t11)
    }
}
