import Foundation

/// What a project contributes to the yearly targets (任务清单): its type, units, areas and the
/// day its last milestone was done.
public struct ProjectFacts: Sendable, Hashable {
    public var ref: String
    public var type: String
    public var town: String
    public var leadUnit: String
    public var targetMu: Double?
    /// 腾出空间 (mu), recorded on completion.
    public var freedMu: Double?
    /// 城市更新: households signed so far.
    public var signed: Int
    /// The day its last milestone was done (nil while any is open).
    public var completedOn: CalendarDate?

    public init(ref: String, type: String, town: String, leadUnit: String, targetMu: Double?, freedMu: Double?, signed: Int,
                completedOn: CalendarDate?) {
        self.ref = ref; self.type = type; self.town = town; self.leadUnit = leadUnit; self.targetMu = targetMu
        self.freedMu = freedMu; self.signed = signed; self.completedOn = completedOn
    }

    /// The day the last of `milestones` was done, when all are.
    public static func completion(of milestones: [Milestone]) -> CalendarDate? {
        guard !milestones.isEmpty, milestones.allSatisfy({ $0.done != nil }) else { return nil }
        return milestones.compactMap(\.done).max()
    }
}

/// Targets against what the projects achieved (目标任务清单 vs 完成), per unit and for the city.
///
/// - 整治低效用地(亩): the target area of the remediation projects (types with modes) completed in the year;
/// - 腾出空间(亩): the freed area of the projects completed in the year;
/// - 完成项目(个): the projects completed in the year;
/// - 城中村签约(户): the households signed so far on the urban-renewal projects (types counting households).
///
/// A unit's projects are those it is the responsible town or the lead department of.
///
/// ```swift
/// let lines = TargetProgress.lines(targets: targets, projects: facts, types: .default, year: 2026, asOf: today)
/// lines.first { $0.unit == "古山镇" && $0.indicator == .remediatedMu }?.rate   // 0.42
/// ```
public enum TargetProgress {
    public struct Line: Sendable, Hashable {
        public var unit: String
        public var indicator: TargetIndicator
        public var target: Double
        public var done: Double
        /// done / target (nil when the target is 0)
        public var rate: Double? { target > 0 ? done / target : nil }
    }

    /// What one project adds to an indicator in `year`, counting what was done by `asOf`.
    public static func contribution(_ p: ProjectFacts, _ indicator: TargetIndicator, types: ProjectTypes, year: Int,
                                    asOf: CalendarDate) -> Double {
        let type = types.type(named: p.type)
        let completed = p.completedOn.map { $0.year == year && $0 <= asOf } ?? false
        switch indicator {
        case .remediatedMu: return completed && !(type?.modes.isEmpty ?? true) ? (p.targetMu ?? 0) : 0
        case .freedMu: return completed ? (p.freedMu ?? 0) : 0
        case .projectsDone: return completed ? 1 : 0
        case .householdsSigned: return type?.households == true ? Double(p.signed) : 0
        }
    }

    /// One line per target: the unit's target and what its projects achieved.
    public static func lines(targets: [ProjectTarget], projects: [ProjectFacts], types: ProjectTypes, year: Int,
                             asOf: CalendarDate) -> [Line] {
        var byUnit: [String: [ProjectFacts]] = [:]
        for p in projects {
            byUnit[p.town, default: []].append(p)
            if p.leadUnit != p.town { byUnit[p.leadUnit, default: []].append(p) }
        }
        return targets.filter { $0.year == year }.map { t in
            let done = (byUnit[t.unit] ?? []).reduce(0.0) { $0 + contribution($1, t.indicator, types: types, year: year, asOf: asOf) }
            return Line(unit: t.unit, indicator: t.indicator, target: t.value, done: done)
        }
    }

    /// The city's cumulative achievement of an indicator at the end of each month of `year` up to
    /// `asOf`'s month (January first), for the trend chart.
    public static func monthly(_ indicator: TargetIndicator, projects: [ProjectFacts], types: ProjectTypes, year: Int,
                               asOf: CalendarDate) -> [Double] {
        let last = asOf.year > year ? 12 : (asOf.year < year ? 0 : asOf.month)
        guard last > 0 else { return [] }
        return (1...last).map { m in
            let end = m == 12 ? CalendarDate(year: year, month: 12, day: 31)! : CalendarDate(year: year, month: m + 1, day: 1)!.adding(days: -1)
            let day = min(end, asOf)
            return projects.reduce(0.0) { $0 + contribution($1, indicator, types: types, year: year, asOf: day) }
        }
    }
}
