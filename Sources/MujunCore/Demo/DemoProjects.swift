import Foundation

/// The demo city's projects (issue 10), relative to `today`: a remediation project on each
/// renewal candidate (every mode; some on track, some late by a milestone or a missing monthly
/// report, a few done with freed land, one not yet started), three challenges (揭榜挂帅) at
/// different stages and two urban-renewal projects with household signing under way — as the
/// project and milestone tables of FORMATS.md, and the monthly reports filed so far.
///
/// ```swift
/// let demo = DemoProjects(today: today, seed: 7, clusters: candidates, towns: rules.towns)
/// try ProjectImport.read(projects: CSVTable(data: Data(demo.projectsCSV.utf8)), milestones: …)
/// ```
public struct DemoProjects: Sendable {
    /// A renewal candidate the demo puts a project on.
    public struct Cluster: Sendable {
        public var number: Int
        public var town: String
        public var areaMu: Double
        public var parcelIDs: [String]
        public init(number: Int, town: String, areaMu: Double, parcelIDs: [String]) {
            self.number = number; self.town = town; self.areaMu = areaMu; self.parcelIDs = parcelIDs
        }
    }

    /// How a demo project stands today.
    public enum Scenario: String, Sendable, CaseIterable {
        case onTrack, lateMilestone, lateReport, completed, notStarted
    }

    public struct Project: Sendable {
        public var ref: String, name: String, type: String, mode: String?, town: String, leadUnit: String
        public var targetMu: Double?, parcelIDs: [String], households: Int?, start: CalendarDate
        public var milestones: [(name: String, weight: Int, planned: CalendarDate, done: CalendarDate?)]
        public var scenario: Scenario
    }

    /// A monthly report already filed.
    public struct Report: Sendable {
        public var ref: String, month: YearMonth, text: String, filedOn: CalendarDate, unit: String
        public var signed: Int?
    }

    public private(set) var projects: [Project] = []
    public private(set) var reports: [Report] = []
    /// 城市更新: households signed, vacated and demolished so far, by ref.
    public private(set) var households: [String: (signed: Int, vacated: Int, demolished: Int)] = [:]
    /// 腾出空间 (mu) of the completed remediation projects, by ref.
    public private(set) var freed: [String: Double] = [:]

    /// The town the demo's town account works for: its first project is late only by a missing report.
    public static let focusTown = "古山镇"

    public init(today: CalendarDate, seed: UInt64, clusters: [Cluster], towns: [String], types: ProjectTypes = .default,
                calendar: WorkCalendar = .shipped) {
        var rng = SeededRandom(seed: seed &+ 10_010)
        let judge = ProjectJudge(types: types, calendar: calendar)
        let modes = types.type(named: "remediation")?.modes ?? []
        let unitOf = ["自主改造": "经信局", "兼并重组": "经信局", "政府收储": "自然资源局", "关停淘汰": "生态环境局", "腾退": "自然资源局",
                      "退二进三": "住建局"]
        let cycle: [Scenario] = [.onTrack, .lateMilestone, .lateReport, .completed, .onTrack, .notStarted, .lateMilestone, .onTrack,
                                 .completed, .lateReport, .onTrack, .lateMilestone]
        // the focus town's first project is late by its report only (the demo's town files it)
        var ordered = clusters.prefix(14).map { $0 }
        // a city whose demo town has no low-efficiency cluster still gives that town a project
        if !ordered.contains(where: { $0.town == Self.focusTown }) && towns.contains(Self.focusTown) {
            ordered.insert(Cluster(number: 0, town: Self.focusTown, areaMu: 25, parcelIDs: []), at: 0)
        }
        if let i = ordered.firstIndex(where: { $0.town == Self.focusTown }), i > 0 { ordered.insert(ordered.remove(at: i), at: 0) }
        var focusDone = false

        func plan(_ template: ProjectType, start: CalendarDate, months: Int, scenario: Scenario)
            -> [(name: String, weight: Int, planned: CalendarDate, done: CalendarDate?)] {
            let n = template.milestones.count
            var out: [(name: String, weight: Int, planned: CalendarDate, done: CalendarDate?)] = []
            var lateMarked = false
            for (k, m) in template.milestones.enumerated() {
                let planned = start.adding(days: Int((Double(months) * 30.4 * Double(k + 1) / Double(n)).rounded()))
                var done: CalendarDate?
                switch scenario {
                case .completed:
                    done = min(today.adding(days: -3), planned.adding(days: -Int(rng.next() % 12)))
                case .notStarted:
                    done = nil
                case .onTrack, .lateReport:
                    if planned < today { done = max(start, planned.adding(days: -Int(rng.next() % 10))) }
                    else if k > 0, out[k - 1].done != nil, rng.chance(0.3), today.adding(days: -2) >= start { done = today.adding(days: -2) }
                case .lateMilestone:
                    if planned < today {
                        // the latest milestone already due is the one that slipped
                        let nextPlanned = start.adding(days: Int((Double(months) * 30.4 * Double(k + 2) / Double(n)).rounded()))
                        if !lateMarked && (nextPlanned >= today || k == n - 1) { lateMarked = true; done = nil }
                        else { done = max(start, planned.adding(days: -Int(rng.next() % 10))) }
                    }
                }
                if let d = done, d > today { done = today }
                out.append((m.name, m.weight, planned, done))
            }
            return out
        }

        func reportsFor(_ p: Project, skipLast: Bool, text: (YearMonth) -> String) {
            guard let last = judge.lastDueMonth(on: today, since: p.start) else { return }
            var m = YearMonth(p.start)
            while m <= last {
                if !(skipLast && m == last) {
                    let next = m.next
                    let filed = calendar.addingWorkdays(Int(rng.next() % 3) + 1, to: CalendarDate(year: next.year, month: next.month, day: 1)!)
                    reports.append(Report(ref: p.ref, month: m, text: text(m), filedOn: min(filed, today), unit: p.town))
                }
                m = m.next
            }
        }

        let remediation = types.type(named: "remediation")
        for (i, c) in ordered.enumerated() {
            guard let t = remediation else { break }
            var scenario = cycle[i % cycle.count]
            if c.town == Self.focusTown && !focusDone { scenario = .lateReport; focusDone = true }
            let mode = modes.isEmpty ? nil : modes[i % modes.count]
            let months = 14 + Int(rng.next() % 8)
            let start: CalendarDate
            switch scenario {
            case .completed: start = today.adding(days: -(months * 31 + 40))
            case .notStarted: start = today.adding(days: 20 + Int(rng.next() % 20))
            default: start = today.adding(days: -(120 + Int(rng.next() % 200)))
            }
            let ref = String(format: "ZZ-%d-%03d", start.year, i + 1)
            let p = Project(ref: ref, name: c.number == 0 ? "\(c.town)低效工业用地\(mode ?? "整治")项目" : "\(c.town)第\(c.number)片低效用地\(mode ?? "整治")项目", type: t.key, mode: mode, town: c.town,
                            leadUnit: mode.flatMap { unitOf[$0] } ?? "经信局", targetMu: (c.areaMu * 100).rounded() / 100,
                            parcelIDs: c.parcelIDs, households: nil, start: start,
                            milestones: plan(t, start: start, months: months, scenario: scenario), scenario: scenario)
            projects.append(p)
            if scenario == .completed { freed[ref] = (c.areaMu * (0.6 + 0.3 * rng.unit()) * 100).rounded() / 100 }
            reportsFor(p, skipLast: scenario == .lateReport) { m in
                ["完成地块权属与现状核查，形成整治清单。", "整治方案经镇街会审，报指挥部备案。", "与权利人完成协商，签订整治协议。",
                 "完成厂房腾退和设备清运，启动拆除。", "完成供地手续，新项目开工建设。", "新厂房主体结构封顶，设备进场调试。"][abs(m.month + i) % 6]
            }
        }

        // two urban-renewal projects with households signing under way
        if let t = types.type(named: "renewal") {
            let specs: [(String, Int, Int, Int, Int, Int)] = [("城中村改造", 320, 251, 198, 120, 300), ("老旧小区改造", 180, 64, 0, 0, 150)]
            for (k, s) in specs.enumerated() {
                let town = towns.isEmpty ? Self.focusTown : towns[(k + 1) % towns.count]
                let start = today.adding(days: -s.5)
                let ref = String(format: "GX-%d-%03d", start.year, k + 1)
                // measured milestones are done when every household is: none yet
                let stones = plan(t, start: start, months: 36, scenario: .notStarted)
                let p = Project(ref: ref, name: "\(town)\(s.0)项目", type: t.key, mode: nil, town: town, leadUnit: "住建局", targetMu: nil,
                                parcelIDs: [], households: s.1, start: start, milestones: stones, scenario: .onTrack)
                projects.append(p)
                households[ref] = (s.2, s.3, s.4)
                reportsFor(p, skipLast: false) { m in "本月新增签约 \(5 + abs(m.month * 7 + k) % 20) 户，累计签约率持续提升；做好群众政策解释。" }
            }
        }

        // three challenges (揭榜挂帅) at different stages
        if let t = types.type(named: "challenge") {
            let specs = [("高端五金精密锻造关键工艺攻关", 40, 1), ("电动工具无刷电机能效提升", 260, 4), ("保温杯真空镀膜绿色工艺", 560, 6)]
            for (k, s) in specs.enumerated() {
                let start = today.adding(days: -s.1)
                let ref = String(format: "JB-%d-%03d", start.year, k + 1)
                var stones = plan(t, start: start, months: 20, scenario: .notStarted)
                for i in stones.indices where i < s.2 {
                    stones[i].done = min(today, max(start, stones[i].planned.adding(days: -5)))
                }
                let town = towns.isEmpty ? Self.focusTown : towns[k % towns.count]
                let p = Project(ref: ref, name: s.0, type: t.key, mode: nil, town: town, leadUnit: "科技局", targetMu: nil, parcelIDs: [],
                                households: nil, start: start, milestones: stones, scenario: .onTrack)
                projects.append(p)
                reportsFor(p, skipLast: false) { _ in "按榜单任务推进，揭榜方提交阶段性技术报告。" }
            }
        }
    }

    /// The year's targets (目标任务清单, FORMATS.md) of every town with a project, and of 住建局 for
    /// household signing: set a little above what the projects plan, so that some towns are ahead
    /// and some behind.
    public func targetsCSV(year: Int) -> String {
        var out = "年度,责任单位,指标,目标值\n"
        for (town, ps) in Dictionary(grouping: projects, by: \.town).sorted(by: { $0.key < $1.key }) {
            let remediation = ps.filter { $0.type == "remediation" }
            let mu = remediation.reduce(0.0) { $0 + ($1.targetMu ?? 0) }
            if mu > 0 {
                out += "\(year),\(town),整治低效用地(亩),\(formatNumber((mu * 0.8).rounded()))\n"
                out += "\(year),\(town),腾出空间(亩),\(formatNumber((mu * 0.4).rounded()))\n"
            }
            out += "\(year),\(town),完成项目(个),\(max(1, (ps.count + 1) / 2))\n"
            let h = ps.compactMap(\.households).reduce(0, +)
            if h > 0 { out += "\(year),\(town),城中村签约(户),\(h * 9 / 10)\n" }
        }
        let h = projects.compactMap(\.households).reduce(0, +)
        if h > 0 { out += "\(year),住建局,城中村签约(户),\(h)\n" }
        return out
    }

    /// The projects table (FORMATS.md).
    public var projectsCSV: String {
        var out = "项目编号,项目名称,项目类型,整治方式,责任镇街,牵头部门,目标面积(亩),地块编号,户数,开始日期\n"
        for p in projects {
            out += [p.ref, p.name, p.type, p.mode ?? "", p.town, p.leadUnit, p.targetMu.map { String($0) } ?? "",
                    p.parcelIDs.joined(separator: ";"), p.households.map(String.init) ?? "", p.start.description].joined(separator: ",") + "\n"
        }
        return out
    }

    /// The milestones table (FORMATS.md).
    public var milestonesCSV: String {
        var out = "项目编号,节点名称,权重,计划完成日期,实际完成日期\n"
        for p in projects {
            for m in p.milestones {
                out += [p.ref, m.name, String(m.weight), m.planned.description, m.done?.description ?? ""].joined(separator: ",") + "\n"
            }
        }
        return out
    }
}
