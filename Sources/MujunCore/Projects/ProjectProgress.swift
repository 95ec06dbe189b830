import Foundation

/// A project's milestone (节点): its weight, planned date, and the day it was done.
public struct Milestone: Sendable, Hashable {
    public var name: String
    /// Its share of the project's progress (the weights of a project sum to 100).
    public var weight: Int
    public var planned: CalendarDate
    /// 实际完成日期; nil while open.
    public var done: CalendarDate?
    /// For urban renewal: the rate it is measured by until done.
    public var measure: RenewalMeasure?
    /// The share of it done as last reported (0 … 1), for a milestone not measured by a rate.
    public var reported: Double?

    public init(name: String, weight: Int, planned: CalendarDate, done: CalendarDate? = nil,
                measure: RenewalMeasure? = nil, reported: Double? = nil) {
        self.name = name; self.weight = weight; self.planned = planned; self.done = done
        self.measure = measure; self.reported = reported
    }
}

/// A project as its progress is judged (项目): what it is, where, its targets and milestones,
/// the households it counts (城市更新) and the months it has reported.
public struct ProjectPlan: Sendable, Hashable {
    /// 项目编号
    public var ref: String
    public var name: String
    /// The type's key.
    public var type: String
    /// 整治方式, for a type with modes.
    public var mode: String?
    /// 责任镇街
    public var town: String
    /// 区块, when the project lies in one.
    public var block: String?
    /// 牵头部门
    public var leadUnit: String
    /// 目标面积(亩)
    public var targetMu: Double?
    /// 户数, and those signed, vacated and demolished (城市更新).
    public var households: Int?
    public var signed = 0, vacated = 0, demolished = 0
    public var start: CalendarDate
    public var milestones: [Milestone]
    /// The months with a monthly report filed (每月有进展).
    public var reportedMonths: Set<YearMonth>

    public init(ref: String, name: String, type: String, mode: String? = nil, town: String, block: String? = nil,
                leadUnit: String, targetMu: Double? = nil, households: Int? = nil, start: CalendarDate,
                milestones: [Milestone], reportedMonths: Set<YearMonth> = []) {
        self.ref = ref; self.name = name; self.type = type; self.mode = mode; self.town = town; self.block = block
        self.leadUnit = leadUnit; self.targetMu = targetMu; self.households = households; self.start = start
        self.milestones = milestones; self.reportedMonths = reportedMonths
    }

    /// The milestones of a type's template, planned at the given dates (in order).
    public static func milestones(of type: ProjectType, planned: [CalendarDate]) -> [Milestone] {
        zip(type.milestones, planned).map { Milestone(name: $0.name, weight: $0.weight, planned: $1, measure: $0.measure) }
    }

    /// Everything wrong with the project as of `today` (empty: it may be saved), each naming the
    /// project: weights that do not sum to 100, planned dates out of order, a done date before the
    /// start or after today, a mode the type does not have, households missing or exceeded.
    public func problems(types: ProjectTypes, today: CalendarDate) -> [ProjectError] {
        var out: [ProjectError] = []
        func fail(_ zh: String, _ en: String) { out.append(ProjectError(zh: "项目 \(ref)：\(zh)", en: "project \(ref): \(en)")) }
        guard let t = types.type(named: type) else {
            fail("未知项目类型 \(type)", "unknown project type \(type)")
            return out
        }
        if !t.modes.isEmpty {
            if let m = mode, !m.isEmpty {
                if !t.modes.contains(m) { fail("整治方式 \(m) 不在 \(t.name) 的方式（\(t.modes.joined(separator: "、"))）中", "mode \(m) is not one of \(t.key)'s modes") }
            } else {
                fail("\(t.name)须填写整治方式（\(t.modes.joined(separator: "、"))）", "a \(t.key) project needs a mode")
            }
        }
        if let a = targetMu, !(a > 0 && a.isFinite) { fail("目标面积应大于 0", "the target area must be greater than 0") }
        if milestones.isEmpty { fail("没有节点", "it has no milestone") }
        let sum = milestones.reduce(0) { $0 + $1.weight }
        if milestones.contains(where: { $0.weight <= 0 }) { fail("节点权重应大于 0", "a milestone weight must be greater than 0") }
        if !milestones.isEmpty && sum != 100 { fail("节点权重合计 \(sum)，应为 100", "the milestone weights sum to \(sum), not 100") }
        for (a, b) in zip(milestones, milestones.dropFirst()) where b.planned < a.planned {
            fail("节点「\(b.name)」计划完成日期 \(b.planned) 早于前一节点「\(a.name)」的 \(a.planned)",
                 "milestone \(b.name) is planned for \(b.planned), before the milestone before it (\(a.name), \(a.planned))")
        }
        for m in milestones {
            if m.planned < start { fail("节点「\(m.name)」计划完成日期 \(m.planned) 早于项目开始日期 \(start)", "milestone \(m.name) is planned for \(m.planned), before the project starts (\(start))") }
            if let d = m.done {
                if d < start { fail("节点「\(m.name)」实际完成日期 \(d) 早于项目开始日期 \(start)", "milestone \(m.name) was done on \(d), before the project starts (\(start))") }
                if today < d { fail("节点「\(m.name)」实际完成日期 \(d) 晚于今天 \(today)", "milestone \(m.name) is done on \(d), after today (\(today))") }
            }
            if let r = m.reported, !(0...1).contains(r) { fail("节点「\(m.name)」报告进度应在 0–100% 之间", "milestone \(m.name): reported progress must be 0–100 %") }
        }
        if t.households {
            guard let h = households, h > 0 else {
                fail("\(t.name)须填写户数", "a \(t.key) project needs its households")
                return out
            }
            for (what, n, en) in [("签约", signed, "signed"), ("腾空", vacated, "vacated"), ("拆除", demolished, "demolished")] where n < 0 || n > h {
                fail("\(what)户数 \(n) 应在 0 到总户数 \(h) 之间", "\(en) households \(n) must be between 0 and the \(h) households")
            }
            if vacated > signed { fail("腾空户数 \(vacated) 多于签约户数 \(signed)", "\(vacated) households vacated, more than the \(signed) signed") }
            if demolished > vacated { fail("拆除户数 \(demolished) 多于腾空户数 \(vacated)", "\(demolished) households demolished, more than the \(vacated) vacated") }
        }
        return out
    }

    /// The rate of households signed, vacated or demolished (0 … 1); nil without households.
    public func rate(_ m: RenewalMeasure) -> Double? {
        guard let h = households, h > 0 else { return nil }
        let n: Int
        switch m {
        case .signed: n = signed
        case .vacated: n = vacated
        case .demolished: n = demolished
        }
        return min(1, max(0, Double(n) / Double(h)))
    }

    /// How much of a milestone is done as of `day` (0 … 1): 1 once done, else its rate (城市更新)
    /// or its reported share, else 0.
    public func share(of m: Milestone, asOf day: CalendarDate) -> Double {
        if let d = m.done, d <= day { return 1 }
        if let r = m.measure.flatMap(rate) { return min(r, 0.999_999) }
        return min(max(m.reported ?? 0, 0), 0.999_999)
    }

    /// Progress (0 … 1): the milestones' shares weighted by their weights.
    public func progress(asOf day: CalendarDate) -> Double {
        let total = milestones.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return 0 }
        return milestones.reduce(0.0) { $0 + Double($1.weight) * share(of: $1, asOf: day) } / Double(total)
    }
}

/// Why a project is late (滞后).
public struct LateReason: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// a milestone past its planned date, not done
        case milestone(name: String, planned: CalendarDate)
        /// no report for a month by its due day
        case report(month: YearMonth, due: CalendarDate)
    }
    public var kind: Kind
    public var zh: String
    public var en: String
}

/// Where a project stands (项目状态), as the battle map colours it.
public enum ProjectState: String, Sendable, CaseIterable, Hashable, Codable {
    /// 未启动: nothing done yet, nothing late
    case notStarted = "not_started"
    /// 按期推进
    case onTrack = "on_track"
    /// 滞后: a milestone overdue or a monthly report missing
    case late
    /// 已完成: every milestone done
    case completed

    public var chinese: String {
        switch self {
        case .notStarted: "未启动"
        case .onTrack: "按期推进"
        case .late: "滞后"
        case .completed: "已完成"
        }
    }
}

/// A project judged on a day: its progress, state and the reasons it is late.
public struct ProjectStatus: Sendable, Hashable {
    public var ref: String
    public var town: String
    public var block: String?
    public var leadUnit: String
    public var targetMu: Double?
    public var progress: Double
    public var state: ProjectState
    public var late: [LateReason]

    public init(ref: String, town: String, block: String?, leadUnit: String, targetMu: Double?, progress: Double,
                state: ProjectState, late: [LateReason]) {
        self.ref = ref; self.town = town; self.block = block; self.leadUnit = leadUnit; self.targetMu = targetMu
        self.progress = progress; self.state = state; self.late = late
    }
}

/// The 滞后 rules and the roll-up of progress (每月有进展、挂图作战), pure and deterministic.
///
/// ```swift
/// let status = ProjectJudge(types: .default, calendar: .shipped).status(of: plan, on: CalendarDate("2025-10-15")!)
/// status.state          // .late when September's report was not filed by 2025-10-14
/// ProjectJudge.rollUp([status], by: \.town)["古山镇"]?.areaProgress
/// ```
public struct ProjectJudge: Sendable {
    public var types: ProjectTypes
    public var calendar: WorkCalendar

    public init(types: ProjectTypes = .default, calendar: WorkCalendar = .shipped) {
        self.types = types; self.calendar = calendar
    }

    /// The latest month whose report is due before `day` (its due day has passed), nil when
    /// none has come due since `start`.
    public func lastDueMonth(on day: CalendarDate, since start: CalendarDate) -> YearMonth? {
        var m = YearMonth(day).previous
        if !(types.reportDue(for: m, calendar: calendar) < day) { m = m.previous }
        return m < YearMonth(start) ? nil : m
    }

    /// The project on `day`: progress, state and why it is late. Late: a milestone whose planned
    /// date is before `day` and which is not done by then, or no report for the latest month
    /// whose due day (the `report_day`-th working day of the next month) is before `day`.
    public func status(of p: ProjectPlan, on day: CalendarDate) -> ProjectStatus {
        status(of: p, on: day, due: latestDue(on: day))
    }

    /// Many projects on one day: the month whose report is due, and its due day, worked out once.
    /// `explained: false` leaves out the reasons (`late` stays empty; state and progress are the
    /// same) — what a roll-up needs, without a sentence for every overdue milestone.
    public func statuses(of plans: [ProjectPlan], on day: CalendarDate, explained: Bool = true) -> [ProjectStatus] {
        let due = latestDue(on: day)
        return plans.map { status(of: $0, on: day, due: due, explained: explained) }
    }

    /// The month whose report a judgement on `day` checks (the latest one due before it).
    public func checkedMonth(on day: CalendarDate) -> YearMonth { latestDue(on: day).month }

    /// The latest month whose report is due before `day`, whatever a project's start, and its due day.
    func latestDue(on day: CalendarDate) -> (month: YearMonth, due: CalendarDate) {
        var m = YearMonth(day).previous
        var due = types.reportDue(for: m, calendar: calendar)
        if !(due < day) { m = m.previous; due = types.reportDue(for: m, calendar: calendar) }
        return (m, due)
    }

    func status(of p: ProjectPlan, on day: CalendarDate, due latest: (month: YearMonth, due: CalendarDate),
                explained: Bool = true) -> ProjectStatus {
        let progress = p.progress(asOf: day)
        var late: [LateReason] = []
        let allDone = !p.milestones.isEmpty && p.milestones.allSatisfy { ($0.done.map { $0 <= day }) ?? false }
        if !allDone && !explained {
            let isLate = p.milestones.contains { $0.planned < day && !(($0.done.map { $0 <= day }) ?? false) }
                || (latest.month >= YearMonth(p.start) && !p.reportedMonths.contains(latest.month))
            let state: ProjectState = isLate ? .late
                : (progress == 0 && p.milestones.allSatisfy({ $0.done == nil }) ? .notStarted : .onTrack)
            return ProjectStatus(ref: p.ref, town: p.town, block: p.block, leadUnit: p.leadUnit, targetMu: p.targetMu,
                                 progress: progress, state: state, late: [])
        }
        if !allDone {
            for m in p.milestones where m.planned < day && !((m.done.map { $0 <= day }) ?? false) {
                late.append(LateReason(kind: .milestone(name: m.name, planned: m.planned),
                                       zh: "节点「\(m.name)」计划 \(m.planned) 完成，至今未完成",
                                       en: "milestone \(m.name) was planned for \(m.planned) and is not done"))
            }
            if latest.month >= YearMonth(p.start), !p.reportedMonths.contains(latest.month) {
                let month = latest.month, due = latest.due
                late.append(LateReason(kind: .report(month: month, due: due),
                                       zh: "\(month.chinese)进展未在 \(due) 前报送",
                                       en: "the report for \(month) was not filed by \(due)"))
            }
        }
        let state: ProjectState
        if allDone { state = .completed } else if !late.isEmpty { state = .late }
        else if progress == 0 && p.milestones.allSatisfy({ $0.done == nil }) { state = .notStarted }
        else { state = .onTrack }
        return ProjectStatus(ref: p.ref, town: p.town, block: p.block, leadUnit: p.leadUnit, targetMu: p.targetMu,
                             progress: progress, state: state, late: late)
    }

    /// Projects summed up by a key (town, block, lead unit; `\.city` for one line).
    public struct Rollup: Sendable, Hashable {
        public var projects = 0
        public var counts: [ProjectState: Int] = [:]
        /// Σ target area of the projects with one (mu).
        public var targetMu = 0.0
        /// Σ progress × target area / Σ target area over the projects with a target area; nil without.
        public var areaProgress: Double?
        /// The mean progress of all the projects.
        public var meanProgress = 0.0
    }

    /// Rolls progress up by `key` (e.g. `\.town`): by target area where projects have one, and
    /// as a plain mean; with the count in each state. Sums run in the order given.
    public static func rollUp(_ statuses: [ProjectStatus], by key: (ProjectStatus) -> String) -> [String: Rollup] {
        var out: [String: Rollup] = [:]
        var weighted: [String: Double] = [:], sum: [String: Double] = [:]
        for s in statuses {
            let k = key(s)
            var r = out[k] ?? Rollup()
            r.projects += 1
            r.counts[s.state, default: 0] += 1
            sum[k, default: 0] += s.progress
            if let a = s.targetMu, a > 0 {
                r.targetMu += a
                weighted[k, default: 0] += s.progress * a
            }
            out[k] = r
        }
        for (k, var r) in out {
            r.meanProgress = sum[k, default: 0] / Double(r.projects)
            r.areaProgress = r.targetMu > 0 ? weighted[k, default: 0] / r.targetMu : nil
            out[k] = r
        }
        return out
    }
}

/// Which supervision cases (督办) the 滞后 rules open and close: a late project without an open
/// case gets one for its responsible unit; an open case of a project no longer late is closed.
///
/// ```swift
/// ProjectSupervision.reconcile(late: ["P1", "P2"], open: ["P2": 7, "P3": 9])   // (open: ["P1"], close: [9])
/// ```
public enum ProjectSupervision {
    public static func reconcile(late: Set<String>, open: [String: Int64]) -> (open: [String], close: [Int64]) {
        (late.filter { open[$0] == nil }.sorted(), open.filter { !late.contains($0.key) }.map(\.value).sorted())
    }
}
