import Foundation

/// A project as it stood after one change (its history, 项目快照): the plan, the months reported
/// and the land freed. Every change appends one, so a bulletin can be recomputed from the
/// snapshots recorded by the time it was issued — the same bytes, whatever was entered later.
///
/// ```swift
/// let s = ProjectSnapshot(plan, freedMu: 12.5)
/// let json = try s.json()                      // stored with the change
/// try ProjectSnapshot(json: json).plan == plan // true
/// ```
public struct ProjectSnapshot: Codable, Sendable, Hashable {
    public struct Stone: Codable, Sendable, Hashable {
        public var name: String, weight: Int, planned: String, done: String?, measure: String?, reported: Double?
    }
    public var ref: String, name: String, type: String, mode: String?, town: String, block: String?, lead: String
    public var targetMu: Double?, households: Int?, signed: Int, vacated: Int, demolished: Int
    public var start: String
    public var milestones: [Stone]
    /// `YYYY-MM`, in order.
    public var months: [String]
    public var freedMu: Double?

    public init(_ p: ProjectPlan, freedMu: Double?) {
        ref = p.ref; name = p.name; type = p.type; mode = p.mode; town = p.town; block = p.block; lead = p.leadUnit
        targetMu = p.targetMu; households = p.households; signed = p.signed; vacated = p.vacated; demolished = p.demolished
        start = p.start.description
        milestones = p.milestones.map { Stone(name: $0.name, weight: $0.weight, planned: $0.planned.description, done: $0.done?.description,
                                              measure: $0.measure?.rawValue, reported: $0.reported) }
        months = p.reportedMonths.sorted().map(\.description)
        self.freedMu = freedMu
    }

    public init(json: String) throws {
        self = try JSONDecoder().decode(ProjectSnapshot.self, from: Data(json.utf8))
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    /// The plan again (nil when a stored date cannot be read).
    public var plan: ProjectPlan? {
        guard let s = CalendarDate(start) else { return nil }
        var stones: [Milestone] = []
        for m in milestones {
            guard let planned = CalendarDate(m.planned) else { return nil }
            stones.append(Milestone(name: m.name, weight: m.weight, planned: planned, done: m.done.flatMap(CalendarDate.init),
                                    measure: m.measure.flatMap(RenewalMeasure.init(rawValue:)), reported: m.reported))
        }
        var p = ProjectPlan(ref: ref, name: name, type: type, mode: mode, town: town, block: block, leadUnit: lead, targetMu: targetMu,
                            households: households, start: s, milestones: stones,
                            reportedMonths: Set(months.compactMap { YearMonth(parsing: $0) }))
        p.signed = signed; p.vacated = vacated; p.demolished = demolished
        return p
    }
}

/// The project bulletin (项目推进通报, issue 10): for each town and each lead department, its
/// projects by state, their progress, the milestones late, the land freed and each yearly
/// target against what was done — as of a day, from the projects' snapshots. Deterministic: the
/// same snapshots and targets give the same bytes (`json()`).
///
/// ```swift
/// let b = ProjectBulletin(plans: plans, targets: targets, types: .default, calendar: .shipped, asOf: day)
/// b.towns.first?.unit        // the best town first
/// try b.json()               // the canonical bytes an issued bulletin is checked against
/// ```
public struct ProjectBulletin: Codable, Sendable, Hashable {
    public struct Target: Codable, Sendable, Hashable {
        public var indicator: String
        public var name: String
        public var target: Double
        public var done: Double
        /// done / target (nil without a target above 0)
        public var rate: Double?
    }

    public struct Line: Codable, Sendable, Hashable {
        public var unit: String
        public var projects: Int
        public var notStarted: Int, onTrack: Int, late: Int, completed: Int
        /// Progress weighted by target area where the projects have one, else their mean (0…1).
        public var progress: Double
        /// Milestones planned before the day and not done by it.
        public var lateMilestones: Int
        /// 腾出空间 (mu) of the projects completed by the day.
        public var freedMu: Double
        public var targets: [Target]
        /// The mean target completion (each capped at 100 %); nil without targets.
        public var completion: Double?
        public var rank: Int
    }

    public var asOf: String
    public var year: Int
    public var towns: [Line]
    public var departments: [Line]
    public var city: Line

    public init(plans: [(plan: ProjectPlan, freedMu: Double?)], targets: [ProjectTarget], types: ProjectTypes, calendar: WorkCalendar,
                asOf day: CalendarDate, towns townNames: [String]) {
        let judge = ProjectJudge(types: types, calendar: calendar)
        let ordered = plans.sorted { $0.plan.ref < $1.plan.ref }
        let statuses = judge.statuses(of: ordered.map(\.plan), on: day)
        let year = day.year
        let facts = ordered.map { p in
            ProjectFacts(ref: p.plan.ref, type: p.plan.type, town: p.plan.town, leadUnit: p.plan.leadUnit, targetMu: p.plan.targetMu,
                         freedMu: p.freedMu, signed: p.plan.signed,
                         completedOn: ProjectFacts.completion(of: p.plan.milestones).flatMap { $0 <= day ? $0 : nil })
        }
        let lines = TargetProgress.lines(targets: targets, projects: facts, types: types, year: year, asOf: day)
        func line(_ unit: String, _ member: (ProjectPlan) -> Bool) -> Line {
            var l = Line(unit: unit, projects: 0, notStarted: 0, onTrack: 0, late: 0, completed: 0, progress: 0, lateMilestones: 0,
                         freedMu: 0, targets: [], completion: nil, rank: 0)
            var weighted = 0.0, area = 0.0, sum = 0.0
            for ((p, s), f) in zip(zip(ordered, statuses), facts) where member(p.plan) {
                l.projects += 1
                switch s.state {
                case .notStarted: l.notStarted += 1
                case .onTrack: l.onTrack += 1
                case .late: l.late += 1
                case .completed: l.completed += 1
                }
                sum += s.progress
                if let a = p.plan.targetMu, a > 0 { weighted += s.progress * a; area += a }
                l.lateMilestones += s.late.filter { if case .milestone = $0.kind { true } else { false } }.count
                if f.completedOn != nil { l.freedMu += p.freedMu ?? 0 }
            }
            l.progress = area > 0 ? weighted / area : (l.projects > 0 ? sum / Double(l.projects) : 0)
            let mine = lines.filter { $0.unit == unit }.sorted { $0.indicator.rawValue < $1.indicator.rawValue }
            l.targets = mine.map { Target(indicator: $0.indicator.rawValue, name: $0.indicator.chinese, target: $0.target, done: $0.done, rate: $0.rate) }
            if !mine.isEmpty { l.completion = mine.reduce(0.0) { $0 + min(1, $1.rate ?? 1) } / Double(mine.count) }
            return l
        }
        func ranked(_ ls: [Line]) -> [Line] {
            var out = ls.sorted { a, b in
                let (x, y) = (a.completion ?? -1, b.completion ?? -1)
                if x != y { return x > y }
                if a.progress != b.progress { return a.progress > b.progress }
                if a.late != b.late { return a.late < b.late }
                return a.unit < b.unit
            }
            for i in out.indices { out[i].rank = i + 1 }
            return out
        }
        let targetUnits = Set(targets.filter { $0.year == year }.map(\.unit))
        let townSet = Set(townNames)
        towns = ranked(townNames.filter { t in ordered.contains { $0.plan.town == t } || targetUnits.contains(t) }.map { t in line(t) { $0.town == t } })
        let leads = Set(ordered.map(\.plan.leadUnit)).union(targetUnits).subtracting(townSet).sorted()
        departments = ranked(leads.map { u in line(u) { $0.leadUnit == u } })
        var c = line("全市") { _ in true }
        // the city's targets: the towns' summed (a department's targets overlap its towns')
        var byIndicator: [String: Target] = [:]
        for t in towns.flatMap(\.targets) {
            var x = byIndicator[t.indicator] ?? Target(indicator: t.indicator, name: t.name, target: 0, done: 0, rate: nil)
            x.target += t.target; x.done += t.done
            x.rate = x.target > 0 ? x.done / x.target : nil
            byIndicator[t.indicator] = x
        }
        c.targets = byIndicator.keys.sorted().map { byIndicator[$0]! }
        c.completion = c.targets.isEmpty ? nil : c.targets.reduce(0.0) { $0 + min(1, $1.rate ?? 1) } / Double(c.targets.count)
        city = c
        asOf = day.description
        self.year = year
    }

    /// The canonical bytes (keys sorted): what an issued bulletin's SHA-256 is taken of.
    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return try e.encode(self)
    }
}
