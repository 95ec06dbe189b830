import Foundation

/// The renewal candidates of a year (集中连片整治候选): clusters of the year's **low-efficiency**
/// parcels, linked within `cluster_gap`, with their area, the reasons and the five kinds of
/// their parcels, and the block (连片区块) each lies in with that block's low-efficiency share.
/// A cluster whose area is at least `min_mu` is a candidate; smaller ones are kept (the list's
/// "含面积不足的低效连片").
///
/// ```swift
/// let assessment = LowEfficiencyAssessor(rules: rules).assess(year: 2025, parcels: parcels, landUse: uses,
///                                                            records: records, results: results)
/// let found = try RenewalCandidates.find(parcels: parcels, assessment: assessment, landUse: uses, rules: rules)
/// found.candidates.first?.block?.lowEfficiencyShare   // e.g. 0.62: the block around it is 62 % low-efficiency
/// ```
///
/// `Clustering.cluster` of all parcels (`mujun land clusters FILE`) is unchanged: that is what
/// the blocks are.
public enum RenewalCandidates {
    public static func find(parcels: [Parcel], assessment: LandAssessment, landUse: [LandUse],
                            rules: LandRules) throws(GEOSError) -> ClusterResult {
        var assessed: [String: ParcelAssessment] = [:]
        assessed.reserveCapacity(assessment.parcels.count)
        for a in assessment.parcels where a.isLowEfficiency { assessed[a.parcelID] = a }
        let low = Set(assessed.keys)
        let blocks = try Clustering.cluster(parcels, gap: rules.clusterGap, minMu: rules.minMu, lowEfficiency: low, landUse: landUse)
        let lowParcels = parcels.filter { low.contains($0.parcelID) }
        var result = try Clustering.cluster(lowParcels, gap: rules.clusterGap, minMu: rules.minMu,
                                            lowEfficiency: low, landUse: landUse)
        for i in result.clusters.indices {
            var c = result.clusters[i]
            if let b = blocks.cluster(of: c.parcelIDs[0]) {
                c.block = ClusterBlock(parcels: b.count, areaMu: b.areaMu, lowEfficiencyCount: b.lowEfficiencyCount,
                                       lowEfficiencyMu: b.lowEfficiencyMu, lowEfficiencyShare: b.lowEfficiencyShare)
            }
            var byKind: [LowEfficiencyKind: (Int, Double)] = [:]
            var byCategory: [LowEfficiencyCategory?: (Int, Double)] = [:]
            for id in c.parcelIDs {
                guard let a = assessed[id] else { continue }
                let mu = a.areaMu
                for k in Set(a.reasons.map(\.kind)) { byKind[k, default: (0, 0)].0 += 1; byKind[k, default: (0, 0)].1 += mu }
                byCategory[a.category, default: (0, 0)].0 += 1
                byCategory[a.category, default: (0, 0)].1 += mu
            }
            c.reasons = LowEfficiencyKind.allCases.compactMap { k in
                byKind[k].map { ReasonTally(kind: k, parcels: $0.0, areaMu: $0.1) }
            }
            c.categories = (LowEfficiencyCategory.allCases.map(Optional.some) + [nil]).compactMap { k in
                byCategory[k].map { CategoryTally(category: k, parcels: $0.0, areaMu: $0.1) }
            }
            result.clusters[i] = c
        }
        return result
    }
}
