import Foundation
import ArgumentParser
import MujunCore

/// `mujun land …`: parcel tools that need no database.
struct Land: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "land",
        abstract: "地块工具（不用数据库）/ parcel tools without the database",
        subcommands: [Clusters.self, DemoGeoJSON.self, Assess.self])

    /// `mujun land clusters FILE.geojson --gap 20 [--min-mu 50] [--crs EPSG:4549] --out clusters.csv`
    struct Clusters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clusters",
            abstract: "集中连片分析：按间距把地块聚成连片 / contiguous clusters of parcels",
            discussion: """
            两个地块在 CGCS2000 3度带投影（EPSG:4549）中的距离 ≤ --gap 米即相连，连片为连通分量
            （与 PostGIS ST_ClusterDBSCAN(geom, eps := gap, minpoints := 1) 相同）。
            输出 UTF-8 CSV，每个地块一行：parcel_id,cluster,area_mu,town,block,cluster_area_mu,cluster_parcels,candidate。
            任何地块几何无效则不写输出，逐一列出错误并以非零状态退出。
            Shapefile 先转换：ogr2ogr -f GeoJSON parcels.geojson input.shp
            """)
        @Argument(help: "地块 GeoJSON 文件 / parcels GeoJSON") var file: String
        @Option(help: "相连的最大间距（米）/ gap in metres") var gap: Double = LandRules.default.clusterGap
        @Option(name: .customLong("min-mu"), help: "连片候选的最小面积（亩）/ candidate threshold in mu")
        var minMu: Double = LandRules.default.minMu
        @Option(help: "坐标参考系，覆盖文件的 crs（CRS84、EPSG:4326、EPSG:4490、EPSG:4549、EPSG:4528）/ CRS override")
        var crs: String?
        @Option(help: "输出 CSV 文件 / output CSV") var out: String

        func validate() throws {
            guard gap >= 0, gap.isFinite else { throw ValidationError("--gap 必须为非负数 / --gap must be ≥ 0") }
            guard minMu >= 0, minMu.isFinite else { throw ValidationError("--min-mu 必须为非负数 / --min-mu must be ≥ 0") }
        }

        func run() async throws {
            let started = Date()
            let parcels: [Parcel]
            do {
                parcels = try ParcelImport.read(url: URL(fileURLWithPath: file), crs: crs, towns: nil)
            } catch {
                warn(ParcelImport.describe(error))
                throw ExitCode(1)
            }
            let read = Date()
            let result: ClusterResult
            let members: [[Int]]
            do {
                (result, members) = try Clustering.clusterWithMembers(parcels, gap: gap, minMu: minMu)
            } catch {
                warn("连片计算失败 / clustering failed: \(error)")
                throw ExitCode(1)
            }
            let clustered = Date()
            // rows by cluster, then parcel id: the members of each cluster are sorted by id
            let csv = ClustersCSV.build(parcels, result: result, members: members)
            do {
                try Data(csv).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                warn("无法写出 \(out) / cannot write \(out): \(error.localizedDescription)")
                throw ExitCode(1)
            }
            let candidates = result.candidates
            // The process ends right after: freeing 200,000 parcels one by one would only cost time.
            _ = Unmanaged.passRetained(KeptUntilExit((parcels, result, members)))
            print(String(format: "%d 个地块，%d 个连片，%d 个候选（≥ %@ 亩，共 %.1f 亩）；读取 %.2f 秒，聚类 %.2f 秒 → %@",
                         parcels.count, result.clusters.count, candidates.count, formatNumber(minMu),
                         candidates.reduce(0) { $0 + $1.areaMu }, read.timeIntervalSince(started),
                         clustered.timeIntervalSince(read), out))
            print(String(format: "%d parcels, %d clusters, %d candidates (≥ %@ mu) → %@",
                         parcels.count, result.clusters.count, candidates.count, formatNumber(minMu), out))
        }
    }

    /// `mujun land demo-geojson --out FILE [--enterprises N --seed S] [--crs EPSG:4549|CRS84]`
    struct DemoGeoJSON: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo-geojson",
            abstract: "写出演示城市的地块 GeoJSON / write the demo city's parcels as GeoJSON")
        @Option(help: "输出 GeoJSON 文件 / output file") var out: String
        @Option(help: "企业数 / enterprises") var enterprises = 8000
        @Option(help: "随机种子 / seed") var seed: UInt64 = 1
        @Option(help: "坐标参考系 / CRS of the coordinates (EPSG:4549, EPSG:4528, EPSG:4490, EPSG:4326, CRS84)")
        var crs = "EPSG:4549"
        @Option(name: .customLong("land-use"), help: "同时写出用地关系 CSV / also write the land-use CSV here")
        var landUse: String?

        func run() async throws {
            let name: CRSName
            do { name = try CRSName(crs) } catch {
                warn(error.description)
                throw ExitCode(2)
            }
            let land = DemoLand(city: DemoCity(enterprises: enterprises, seed: seed))
            do {
                try land.geoJSON(crs: name).write(to: URL(fileURLWithPath: out), options: .atomic)
                if let landUse { try land.landUseCSV().write(to: URL(fileURLWithPath: landUse), options: .atomic) }
            } catch {
                warn("无法写出 / cannot write: \(error)")
                throw ExitCode(1)
            }
            print("已写出 \(land.parcels.count) 个地块（\(name.code)）/ wrote \(land.parcels.count) parcels to \(out)"
                  + (landUse.map { "；\(land.landUse.count) 条用地关系 → \($0)" } ?? ""))
        }
    }
}

extension Land {
    struct Assess: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "assess", abstract: "识别低效用地并计算集中连片（数据库）/ assess parcels and clusters for a year")
        @Option(help: "年度") var year: Int
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            _ = try loadRules(db.rules)  // names a bad rule (land section included) before the database opens
            let s = try await withServices(db) { s in try await s.land.assess(year: year) }
            print("\(s.year) 年度：\(s.parcels) 个地块，低效 \(s.lowEfficiency) 个，低效地块连片 \(s.clusters) 片，集中连片整治候选 \(s.candidates) 片")
        }
    }
}

/// A value deliberately never freed (see `Land.Clusters.run`).
private final class KeptUntilExit {
    let value: Any
    init(_ value: Any) { self.value = value }
}
