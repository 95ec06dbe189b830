import Foundation
import Testing
@testable import MujunCore

/// The five kinds of low-efficiency land (低效用地五类) from a parcel's dates, and the renewal
/// candidates as clusters of low-efficiency parcels, on hand-worked cases.
@Suite struct LandKindsTests {
    static func day(_ s: String) -> CalendarDate { CalendarDate(s)! }

    static func parcel(_ id: String, x: Double, w: Double = 100, h: Double = 200.0 / 3, status: ParcelStatus? = .inUse,
                       far: Double? = nil, owner: String? = nil, approved: String? = nil, supplied: String? = nil,
                       start: String? = nil, finish: String? = nil, operating: String? = nil) -> Parcel {
        var p = LandTests.parcel(id, [LandTests.rect(x, 3_197_000, w, h)], status: status, far: far, owner: owner)
        p.approvedOn = approved.map(day); p.suppliedOn = supplied.map(day); p.startBy = start.map(day)
        p.finishBy = finish.map(day); p.operatingSince = operating.map(day)
        return p
    }

    @Test("each of the five kinds, and none when the data do not say, on hand-worked parcels")
    func fiveKinds() {
        let owner = LandTests.code(7)
        let parcels = [
            Self.parcel("A", x: 503_000, status: .idle, approved: "2024-03-01"),
            Self.parcel("B", x: 503_200, status: .idle, approved: "2021-01-10", supplied: "2022-05-01", start: "2023-01-01", finish: "2024-06-30"),
            Self.parcel("C", x: 503_400, status: .underConstruction, supplied: "2022-03-01", start: "2022-10-01", finish: "2025-06-30"),
            Self.parcel("D", x: 503_600, far: 0.8, supplied: "2012-01-01", operating: "2015-04-01"),
            Self.parcel("E", x: 503_800, owner: owner),
            Self.parcel("F", x: 504_000, status: .idle),
            Self.parcel("G", x: 504_200, status: .idle, supplied: "2009-01-01", operating: "2012-07-01"),
            Self.parcel("H", x: 504_400, supplied: "2020-01-01", finish: "2025-03-01", operating: "2026-03-01"),
            Self.parcel("I", x: 504_600, far: 1.5, approved: "2010-01-01", supplied: "2010-06-01", start: "2011-01-01",
                        finish: "2012-12-31", operating: "2013-03-01"),
        ]
        // E's owner pays 2 万元 on its 10 mu: 0.2 万元/亩 < 3
        let records = [EnterpriseRecord(year: 2025, creditCode: owner, name: "戊", town: "古山镇", group: .below, landMu: 10, tax: 2)]
        let land = LowEfficiencyAssessor().assess(year: 2025, parcels: parcels, landUse: [], records: records, results: [])
        let a = Dictionary(uniqueKeysWithValues: land.parcels.map { ($0.parcelID, $0) })
        #expect(a["A"]!.reasons.map(\.kind) == [.idle, .notSupplied] && a["A"]!.category == .approvedNotSupplied)
        #expect(a["A"]!.reasons[1].zh == "2024-03-01 批准用地，至 2025-12-31 未供地")
        #expect(a["B"]!.reasons.map(\.kind) == [.idle, .notStarted] && a["B"]!.category == .suppliedNotUsed)
        #expect(a["B"]!.reasons[1].zh == "约定 2023-01-01 开工，至 2025-12-31 未开工")
        #expect(a["C"]!.reasons.map(\.kind) == [.notOperating] && a["C"]!.category == .builtNotOperating)
        #expect(a["D"]!.reasons.map(\.kind) == [.lowFAR] && a["D"]!.category == .usedNotFully)
        #expect(a["E"]!.reasons.map(\.kind) == [.lowTaxPerMu] && a["E"]!.category == .operatingBelowStandard)
        #expect(a["F"]!.reasons.map(\.kind) == [.idle] && a["F"]!.category == nil, "idle without dates: the data do not say which")
        #expect(a["G"]!.reasons.map(\.kind) == [.idle] && a["G"]!.category == .usedNotFully, "operated once, idle now")
        #expect(a["H"]!.reasons.map(\.kind) == [.notOperating] && a["H"]!.category == .builtNotOperating)
        #expect(a["I"]!.reasons.isEmpty && a["I"]!.category == nil)
        #expect(land.lowEfficiencyIDs == ["A", "B", "C", "D", "E", "F", "G", "H"])

        // A year earlier C and H were not yet past their agreed completion.
        let earlier = LowEfficiencyAssessor().assess(year: 2024, parcels: parcels, landUse: [], records: [], results: [])
        let b = Dictionary(uniqueKeysWithValues: earlier.parcels.map { ($0.parcelID, $0) })
        #expect(b["C"]!.reasons.isEmpty && b["H"]!.reasons.isEmpty)
        #expect(b["A"]!.category == .approvedNotSupplied)
        // The kinds' names, as users read them.
        #expect(LowEfficiencyCategory.allCases.map(\.chinese) == ["批而未供", "供而未用", "用而未尽", "建而未投", "投而未达标"])
    }

    @Test("renewal candidates are clusters of the low-efficiency parcels, with their block's share")
    func renewalCandidates() throws {
        // One block of five 10-mu parcels 10 m apart: L1 L2 L3 low, N1 not, L4 low (120 m from L3:
        // linked to it only through N1). Far away, L5 alone: 60 mu, low.
        let parcels = [
            Self.parcel("L1", x: 503_000, status: .idle), Self.parcel("L2", x: 503_110, status: .idle),
            Self.parcel("L3", x: 503_220, status: .idle), Self.parcel("N1", x: 503_330),
            Self.parcel("L4", x: 503_440, status: .idle),
            Self.parcel("L5", x: 510_000, h: 400, status: .idle, supplied: "2019-01-01", start: "2019-06-01"),
        ]
        var rules = LandRules.default
        rules.minMu = 25
        let assessment = LowEfficiencyAssessor(rules: rules).assess(year: 2025, parcels: parcels, landUse: [], records: [], results: [])
        #expect(assessment.lowEfficiencyIDs == ["L1", "L2", "L3", "L4", "L5"])
        let found = try RenewalCandidates.find(parcels: parcels, assessment: assessment, landUse: [], rules: rules)
        #expect(found.clusters.map(\.parcelIDs) == [["L1", "L2", "L3"], ["L4"], ["L5"]])
        #expect(found.clusters.map(\.candidate) == [true, false, true])
        #expect(found.candidates.map(\.number) == [1, 3])
        let c1 = found.clusters[0]
        #expect(abs(c1.areaMu - 30) < 1e-6 && c1.lowEfficiencyShare == 1)
        #expect(c1.block?.parcels == 5 && abs(c1.block!.areaMu - 50) < 1e-6 && c1.block?.lowEfficiencyCount == 4)
        #expect(abs(c1.blockLowEfficiencyShare - 0.8) < 1e-9)
        #expect(c1.reasons == [ReasonTally(kind: .idle, parcels: 3, areaMu: c1.areaMu)])
        #expect(c1.categories?.count == 1 && c1.categories?[0].category == nil && c1.categories?[0].parcels == 3)
        #expect(found.clusters[1].block?.parcels == 5, "L4 lies in the same block")
        let c3 = found.clusters[2]
        #expect(abs(c3.areaMu - 60) < 1e-6 && c3.block?.parcels == 1 && c3.blockLowEfficiencyShare == 1)
        #expect(c3.categories?.map(\.category) == [.suppliedNotUsed])
        #expect(c3.reasons?.map(\.kind) == [.idle, .notStarted])
        #expect(found.cluster(of: "N1") == nil, "a parcel that is not low-efficiency is in no candidate")

        // `mujun land clusters` (all parcels of a file) is unchanged: one block of five, and L5.
        let all = try Clustering.cluster(parcels, gap: rules.clusterGap, minMu: rules.minMu)
        #expect(all.clusters.map(\.count) == [5, 1] && all.clusters[0].block == nil)
    }

    @Test("a parcel's dates are read in the usual spellings; a bad or out-of-order date names the feature, nothing is read")
    func parcelDates() throws {
        let dates = "\"批准日期\":\"2019-05-01\",\"供地日期\":\"2019/6/1\",\"start_by\":\"2019.12.01\",\"约定竣工日期\":\"2021-06-30 00:00:00\",\"投产日期\":\"2021-08-01\""
        let good = LandTests.collection([(LandTests.props("D-1", extra: dates), LandTests.polygonJSON([LandTests.rect(503_000, 3_197_000, 100, 100)])),
                                         (LandTests.props("D-2"), LandTests.polygonJSON([LandTests.rect(503_200, 3_197_000, 100, 100)]))])
        let parcels = try ParcelImport.read(geojson: good, towns: LandTests.towns)
        #expect(parcels[0].approvedOn == Self.day("2019-05-01") && parcels[0].suppliedOn == Self.day("2019-06-01"))
        #expect(parcels[0].startBy == Self.day("2019-12-01") && parcels[0].finishBy == Self.day("2021-06-30"))
        #expect(parcels[0].operatingSince == Self.day("2021-08-01"))
        #expect(parcels[1].approvedOn == nil && parcels[1].operatingSince == nil)
        // written back, they read the same (the demo's files, GDAL)
        let again = try ParcelImport.read(geojson: try ParcelGeoJSON.featureCollection(parcels), towns: LandTests.towns)
        #expect(again.map(\.approvedOn) == parcels.map(\.approvedOn) && again.map(\.finishBy) == parcels.map(\.finishBy))

        let bad = LandTests.collection([
            (LandTests.props("OK-1"), LandTests.polygonJSON([LandTests.rect(503_000, 3_197_000, 50, 50)])),
            (LandTests.props("BAD-1", extra: "\"供地日期\":\"明年\""), LandTests.polygonJSON([LandTests.rect(503_200, 3_197_000, 50, 50)])),
            (LandTests.props("ORD-1", extra: "\"批准日期\":\"2021-03-01\",\"供地日期\":\"2020-01-01\""),
             LandTests.polygonJSON([LandTests.rect(503_400, 3_197_000, 50, 50)])),
            (LandTests.props("NUM-1", extra: "\"投产日期\":20210801"), LandTests.polygonJSON([LandTests.rect(503_600, 3_197_000, 50, 50)])),
        ])
        do {
            let read = try ParcelImport.read(geojson: bad, towns: LandTests.towns)
            Issue.record("accepted \(read.count) parcels with bad dates")
        } catch {
            let text = error.errors.map { "\($0.row) \($0.column) \($0.messageZh) | \($0.messageEn)" }
            #expect(error.errors.contains { $0.row == 2 && $0.column == "供地日期" && $0.messageZh.contains("地块 BAD-1") && $0.messageZh.contains("不是日期") }, "\(text)")
            #expect(error.errors.contains { $0.row == 3 && $0.column == "供地日期" && $0.messageZh.contains("早于批准日期") && $0.messageEn.contains("supplied_on 2020-01-01 is before approved_on 2021-03-01") }, "\(text)")
            #expect(error.errors.contains { $0.row == 4 && $0.column == "投产日期" && $0.messageEn.contains("not a date") }, "\(text)")
            #expect(!error.errors.contains { $0.row == 1 }, "\(text)")
        }
    }
}
