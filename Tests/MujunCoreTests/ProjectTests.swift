import Foundation
import Testing
@testable import MujunCore

/// Projects (issue 10): the types as configuration, the checks on a project, weighted progress,
/// the 滞后 rules and the roll-up, on hand-worked cases.
@Suite struct ProjectTests {
    static func d(_ s: String) -> CalendarDate { CalendarDate(s)! }
    static let types = ProjectTypes.default
    static let judge = ProjectJudge(types: types, calendar: .shipped)

    /// A remediation project started 2025-01-10 with the template's six milestones planned at
    /// the ends of March, May, July, September, November 2025 and March 2026.
    static func remediation(ref: String = "ZZ-1", town: String = "古山镇", targetMu: Double? = 100, done: [String?] = []) -> ProjectPlan {
        let planned = ["2025-03-31", "2025-05-31", "2025-07-31", "2025-09-30", "2025-11-30", "2026-03-31"].map(d)
        var stones = ProjectPlan.milestones(of: types.type(named: "整治项目")!, planned: planned)
        for (i, x) in done.enumerated() { stones[i].done = x.map(d) }
        return ProjectPlan(ref: ref, name: "下谢山区块整治", type: "remediation", mode: "兼并重组", town: town, block: "下谢山区块",
                           leadUnit: "自然资源和规划局", targetMu: targetMu, start: d("2025-01-10"), milestones: stones)
    }

    @Test("the default types: three, each template weighing 100; a bad file names the type")
    func types() throws {
        #expect(Self.types.types.map(\.name) == ["整治项目", "揭榜挂帅", "城市更新", "全域整治子项目"])
        #expect(Self.types.types.allSatisfy { $0.milestones.reduce(0) { $0 + $1.weight } == 100 })
        #expect(Self.types.type(named: "remediation")?.modes.contains("退二进三") == true)
        #expect(Self.types.type(named: "城市更新")?.households == true && Self.types.type(named: "揭榜挂帅")?.households == false)
        let bad = """
            types:
              - {key: x, name: 试点, milestones: [{name: 甲, weight: 60}, {name: 乙, weight: 30}]}
            """
        #expect(throws: ProjectError(zh: "项目类型 x（试点）：节点权重合计 90，应为 100", en: "project type x (试点): the milestone weights sum to 90, not 100")) {
            try ProjectTypes(yaml: bad)
        }
        #expect(throws: ProjectError.self) { try ProjectTypes(yaml: "types: [{key: y, name: 乙, milestones: [{name: 甲, weight: 100, measure: sold}]}]") }
    }

    @Test("a month's report is due on the fifth working day of the next month (holidays and make-up days counted)")
    func reportDue() {
        // October 2025: 1–8 off (国庆、中秋), 9 Thu, 10 Fri, 11 Sat worked (调休), 13 Mon, 14 Tue
        #expect(Self.types.reportDue(for: YearMonth(year: 2025, month: 9), calendar: .shipped) == Self.d("2025-10-14"))
        // September 2025: 1 Mon … 5 Fri
        #expect(Self.types.reportDue(for: YearMonth(year: 2025, month: 8), calendar: .shipped) == Self.d("2025-09-05"))
        #expect(YearMonth(parsing: "2025年9月") == YearMonth(year: 2025, month: 9) && YearMonth(parsing: "2025-13") == nil)
        // the stored form takes the byte path; the other spellings the general one, with the same answers
        for (text, want) in [("2025-09", YearMonth(year: 2025, month: 9)), ("2025-9", YearMonth(year: 2025, month: 9)),
                             ("2025/09", YearMonth(year: 2025, month: 9)), ("2025-00", nil), ("2025-1x", nil), ("20a5-09", nil)] as [(String, YearMonth?)] {
            #expect(YearMonth(parsing: text) == want, "\(text)")
        }
    }

    @Test("progress is the milestones' weights done; urban renewal counts its rates")
    func progress() {
        // the first three done (10 + 15 + 20)
        let p = Self.remediation(done: ["2025-03-20", "2025-05-30", "2025-07-15"])
        #expect(abs(p.progress(asOf: Self.d("2025-08-01")) - 0.45) < 1e-12)
        #expect(abs(p.progress(asOf: Self.d("2025-06-01")) - 0.25) < 1e-12, "done later than the day asked counts nothing")
        // 200 households: 150 signed (25 × 0.75), 100 vacated (15 × 0.5), 50 demolished (15 × 0.25) = 30
        let t = Self.types.type(named: "城市更新")!
        var r = ProjectPlan(ref: "CS-1", name: "城中村改造", type: "renewal", town: "东城街道", leadUnit: "住建局", households: 200,
                            start: Self.d("2025-02-01"),
                            milestones: ProjectPlan.milestones(of: t, planned: ["2025-06-30", "2025-09-30", "2025-12-31", "2026-06-30", "2027-06-30", "2028-06-30"].map(Self.d)))
        r.signed = 150; r.vacated = 100; r.demolished = 50
        #expect(abs(r.progress(asOf: Self.d("2025-10-01")) - 0.30) < 1e-12)
        #expect(r.rate(.signed) == 0.75)
        #expect(r.problems(types: Self.types, today: Self.d("2025-10-01")).isEmpty)
    }

    @Test("滞后: a milestone past its planned date, or no report by the due day; on the due day itself not yet")
    func lateness() {
        var p = Self.remediation(done: ["2025-03-20", "2025-05-30", "2025-07-15"])
        p.reportedMonths = Set((1...9).map { YearMonth(year: 2025, month: $0) })
        // 2025-10-01: the fourth milestone (planned 2025-09-30) is not done
        var s = Self.judge.status(of: p, on: Self.d("2025-10-01"))
        #expect(s.state == .late && s.late.map(\.kind) == [.milestone(name: "腾退/拆除", planned: Self.d("2025-09-30"))])
        #expect(s.late[0].zh == "节点「腾退/拆除」计划 2025-09-30 完成，至今未完成")
        // on its planned day it is not late yet
        #expect(Self.judge.status(of: p, on: Self.d("2025-09-30")).state == .onTrack)
        // done on 2025-10-10: on track again, until September's report … which was filed
        p.milestones[3].done = Self.d("2025-10-10")
        s = Self.judge.status(of: p, on: Self.d("2025-10-20"))
        #expect(s.state == .onTrack && s.late.isEmpty)
        // without September's report: not late on 2025-10-14 (its due day), late on 2025-10-15
        p.reportedMonths.remove(YearMonth(year: 2025, month: 9))
        #expect(Self.judge.status(of: p, on: Self.d("2025-10-14")).state == .onTrack)
        s = Self.judge.status(of: p, on: Self.d("2025-10-15"))
        #expect(s.late.map(\.kind) == [.report(month: YearMonth(year: 2025, month: 9), due: Self.d("2025-10-14"))])
        #expect(s.late[0].zh == "2025年9月进展未在 2025-10-14 前报送")
        // every milestone done: completed, whatever the reports
        for i in p.milestones.indices where p.milestones[i].done == nil { p.milestones[i].done = Self.d("2025-10-12") }
        #expect(Self.judge.status(of: p, on: Self.d("2025-12-01")).state == .completed)
        // a project that starts later: not started, nothing due
        let later = ProjectPlan(ref: "ZZ-9", name: "后续", type: "remediation", mode: "腾退", town: "古山镇", leadUnit: "经信局",
                                start: Self.d("2025-11-01"),
                                milestones: ProjectPlan.milestones(of: Self.types.type(named: "整治项目")!,
                                                                   planned: ["2025-12-31", "2026-02-28", "2026-04-30", "2026-06-30", "2026-08-31", "2026-12-31"].map(Self.d)))
        #expect(Self.judge.status(of: later, on: Self.d("2025-11-20")).state == .notStarted)
        #expect(Self.judge.lastDueMonth(on: Self.d("2025-11-20"), since: later.start) == nil)
    }

    @Test("bad projects are refused with every problem named")
    func problems() {
        var p = Self.remediation()
        p.milestones[5].weight = 10                       // 90
        p.milestones[2].planned = Self.d("2025-02-28")    // before 方案制定 (2025-05-31)
        p.milestones[0].done = Self.d("2024-12-31")       // before the start
        p.milestones[1].done = Self.d("2026-01-01")       // after today
        p.mode = "出租"
        let found = p.problems(types: Self.types, today: Self.d("2025-10-01")).map(\.zh)
        #expect(found.contains("项目 ZZ-1：节点权重合计 90，应为 100"), "\(found)")
        #expect(found.contains("项目 ZZ-1：节点「签约」计划完成日期 2025-02-28 早于前一节点「方案制定」的 2025-05-31"), "\(found)")
        #expect(found.contains("项目 ZZ-1：节点「排查确认」实际完成日期 2024-12-31 早于项目开始日期 2025-01-10"), "\(found)")
        #expect(found.contains("项目 ZZ-1：节点「方案制定」实际完成日期 2026-01-01 晚于今天 2025-10-01"), "\(found)")
        #expect(found.contains { $0.contains("整治方式 出租 不在") }, "\(found)")
        var r = ProjectPlan(ref: "CS-2", name: "老旧小区", type: "城市更新", town: "西城街道", leadUnit: "住建局", households: 10,
                            start: Self.d("2025-01-01"),
                            milestones: ProjectPlan.milestones(of: Self.types.type(named: "城市更新")!,
                                                               planned: ["2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31", "2026-06-30", "2026-12-31"].map(Self.d)))
        r.signed = 4; r.vacated = 6; r.demolished = 11
        let rf = r.problems(types: Self.types, today: Self.d("2025-10-01")).map(\.en)
        #expect(rf.contains("project CS-2: 6 households vacated, more than the 4 signed"), "\(rf)")
        #expect(rf.contains("project CS-2: demolished households 11 must be between 0 and the 10 households"), "\(rf)")
        r.households = nil
        #expect(r.problems(types: Self.types, today: Self.d("2025-10-01")).map(\.zh) == ["项目 CS-2：城市更新须填写户数"])
    }

    @Test("the roll-up weighs progress by target area; the supervision cases follow lateness")
    func rollUpAndSupervision() {
        func status(_ ref: String, _ town: String, _ mu: Double?, _ progress: Double, _ state: ProjectState) -> ProjectStatus {
            ProjectStatus(ref: ref, town: town, block: nil, leadUnit: "经信局", targetMu: mu, progress: progress, state: state, late: [])
        }
        let all = [status("A", "古山镇", 100, 0.5, .onTrack), status("B", "古山镇", 300, 0.1, .late),
                   status("C", "古山镇", nil, 0.9, .onTrack), status("D", "方岩镇", 50, 1, .completed)]
        let byTown = ProjectJudge.rollUp(all, by: \.town)
        let g = byTown["古山镇"]!
        #expect(g.projects == 3 && g.targetMu == 400 && g.counts == [.onTrack: 2, .late: 1])
        #expect(abs(g.areaProgress! - 0.2) < 1e-12)          // (50 + 30) / 400
        #expect(abs(g.meanProgress - 0.5) < 1e-12)           // (0.5 + 0.1 + 0.9) / 3
        let city = ProjectJudge.rollUp(all) { _ in "全市" }["全市"]!
        #expect(city.projects == 4 && abs(city.areaProgress! - 130.0 / 450) < 1e-12)

        let r = ProjectSupervision.reconcile(late: ["P1", "P2"], open: ["P2": 7, "P3": 9])
        #expect(r.open == ["P1"] && r.close == [9])
    }
}

/// The project, milestone and target templates (FORMATS.md): read whole, or refused naming
/// every bad row with nothing returned.
@Suite struct ProjectImportTests {
    static func table(_ csv: String) throws -> any TableSource { try TableReader.open(data: Data(csv.utf8), name: "t.csv") }
    static let towns = Rules.default.towns
    static let today = CalendarDate("2025-10-01")!

    static let projects = """
        项目编号,项目名称,项目类型,整治方式,责任镇街,牵头部门,目标面积(亩),地块编号,户数,开始日期
        ZZ-1,下谢山区块整治,整治项目,兼并重组,古山镇,自然资源和规划局,120.5,P1;P2,,2025-01-10
        CS-1,城中村改造,城市更新,,东城街道,住建局,,,200,2025/2/1
        """
    static let milestones = """
        项目编号,节点名称,权重,计划完成日期,实际完成日期
        ZZ-1,排查确认,10,2025-03-31,2025-03-20
        ZZ-1,方案制定,15,2025-05-31,
        ZZ-1,签约,20,2025-07-31,
        ZZ-1,腾退/拆除,20,2025-09-30,
        ZZ-1,供地/开工,15,2025-11-30,
        ZZ-1,竣工投产,20,2026-03-31,
        CS-1,签约,25,2025-06-30,
        CS-1,腾空,15,2025-09-30,
        CS-1,拆除,15,2025-12-31,
        CS-1,开工建设,15,2026-06-30,
        CS-1,主体完工,15,2027-06-30,
        CS-1,竣工交付,15,2028-06-30,
        """

    @Test("good files give every project with its milestones, parcels and the template's measures")
    func reads() throws {
        let rows = try ProjectImport.read(projects: try Self.table(Self.projects), milestones: try Self.table(Self.milestones),
                                          types: .default, towns: Self.towns, parcelTowns: ["P1": "古山镇", "P2": "古山镇"], today: Self.today)
        #expect(rows.map(\.plan.ref) == ["ZZ-1", "CS-1"] && rows.map(\.row) == [2, 3])
        #expect(rows[0].parcelIDs == ["P1", "P2"] && rows[0].plan.targetMu == 120.5 && rows[0].plan.mode == "兼并重组")
        #expect(rows[0].plan.milestones.count == 6 && rows[0].plan.milestones[0].done == CalendarDate("2025-03-20"))
        #expect(rows[1].plan.households == 200 && rows[1].plan.start == CalendarDate("2025-02-01"))
        #expect(rows[1].plan.milestones.map(\.measure) == [.signed, .vacated, .demolished, nil, nil, nil])
    }

    @Test("bad rows in either table are all named; nothing is read")
    func refuses() throws {
        let projects = Self.projects + """

            ZZ-1,重复,整治项目,腾退,古山镇,经信局,10,,,2025-01-01
            ZZ-2,外镇地块,整治项目,腾退,古山镇,经信局,10,P9,,2025-01-01
            ZZ-3,无节点,试点项目,腾退,火星镇,经信局,十,,,明天
            """
        let milestones = Self.milestones.replacingOccurrences(of: "ZZ-1,竣工投产,20,2026-03-31,", with: "ZZ-1,竣工投产,10,2026-03-31,")
            + "\nZZ-2,排查确认,100,2025-03-31,2025-11-01\nZZ-8,排查确认,100,2025-03-31,\nZZ-2,方案制定,x,2025-05-31,\n"
        do {
            let rows = try ProjectImport.read(projects: try Self.table(projects), milestones: try Self.table(milestones), types: .default,
                                              towns: Self.towns, parcelTowns: ["P1": "古山镇", "P2": "古山镇", "P9": "方岩镇"], today: Self.today)
            Issue.record("read \(rows.count) projects from bad files")
        } catch let error as ImportFailure {
            let text = error.errors.map { "\($0.row) \($0.column) \($0.messageZh)" }
            func has(_ row: Int, _ column: String, _ zh: String) -> Bool {
                error.errors.contains { $0.row == row && $0.column == column && $0.messageZh.contains(zh) }
            }
            #expect(has(2, "项目编号", "项目 ZZ-1：节点权重合计 90，应为 100"), "\(text)")
            #expect(has(4, "项目编号", "项目编号 ZZ-1 与第 2 行重复"), "\(text)")
            #expect(has(5, "地块编号", "地块 P9 属于方岩镇，不属于责任镇街古山镇"), "\(text)")
            #expect(has(5, "项目编号", "实际完成日期 2025-11-01 晚于今天 2025-10-01"), "\(text)")
            #expect(has(6, "项目类型", "未知项目类型 \"试点项目\""), "\(text)")
            #expect(has(6, "责任镇街", "未知镇街 \"火星镇\""), "\(text)")
            #expect(has(6, "目标面积(亩)", "不是数字"), "\(text)")
            #expect(has(6, "开始日期", "开始日期无效"), "\(text)")
            #expect(has(6, "项目编号", "项目 ZZ-3 在节点表中没有节点"), "\(text)")
            #expect(has(16, "权重", "节点表第 16 行：权重应为正整数"), "\(text)")
            #expect(has(15, "项目编号", "节点表第 15 行：项目 ZZ-8 不在项目表中"), "\(text)")
            #expect(!error.errors.contains { $0.row == 3 }, "CS-1 is good: \(text)")
        } catch {
            Issue.record("not an import failure: \(error)")
        }
    }

    @Test("targets: one per year, unit and indicator; unknown units and indicators, bad values and repeats are named")
    func targets() throws {
        let good = "年度,责任单位,指标,目标值\n2026,古山镇,整治低效用地(亩),300\n2026,古山镇,腾出空间,120\n2026,住建局,城中村签约(户),\"1,500\"\n"
        let read = try TargetImport.read(table: try Self.table(good), units: Self.towns + ["住建局"])
        #expect(read.map(\.indicator) == [.remediatedMu, .freedMu, .householdsSigned] && read[2].value == 1500)
        let bad = good + "2026,古山镇,整治低效用地,10\n2026,火星镇,完成项目(个),2\n26,古山镇,亩均税收,-1\n"
        do {
            _ = try TargetImport.read(table: try Self.table(bad), units: Self.towns + ["住建局"])
            Issue.record("read bad targets")
        } catch let error as ImportFailure {
            let text = error.errors.map { "\($0.row) \($0.column) \($0.messageZh)" }
            #expect(error.errors.contains { $0.row == 5 && $0.messageZh.contains("与第 2 行重复") }, "\(text)")
            #expect(error.errors.contains { $0.row == 6 && $0.column == "责任单位" }, "\(text)")
            #expect(Set(error.errors.filter { $0.row == 7 }.map(\.column)) == ["年度", "指标", "目标值"], "\(text)")
            #expect(!error.errors.contains { (2...4).contains($0.row) }, "\(text)")
        } catch {
            Issue.record("not an import failure: \(error)")
        }
    }
}

/// The challenge rules (揭榜挂帅) on hand-worked cases.
@Suite struct ChallengeRulesTests {
    let d = { (s: String) in CalendarDate(s)! }

    @Test("the score sheet: every criterion, within 0…its maximum, in halves; the sum")
    func sheet() throws {
        let s = ScoreSheet.default
        #expect(s.maxTotal == 100)
        #expect(try s.total(["tech": 26, "team": 16, "plan": 17.5, "funds": 12, "impact": 11]) == 82.5)
        #expect(try s.total(["tech": 0, "team": 0, "plan": 0, "funds": 0, "impact": 0]) == 0)
        #expect(throws: ProjectError.self) { try s.total(["tech": 30.5, "team": 16, "plan": 17, "funds": 12, "impact": 11]) }
        #expect(throws: ProjectError.self) { try s.total(["tech": -1, "team": 16, "plan": 17, "funds": 12, "impact": 11]) }
        #expect(throws: ProjectError.self) { try s.total(["team": 16, "plan": 17, "funds": 12, "impact": 11]) }
        #expect(throws: ProjectError.self) { try s.total(["tech": 1, "team": 16, "plan": 17, "funds": 12, "impact": 11, "luck": 1]) }
        #expect(throws: ProjectError.self) { try s.total(["tech": .nan, "team": 16, "plan": 17, "funds": 12, "impact": 11]) }
    }

    @Test("applications: by the deadline inclusive, a plan, partners only where a consortium is allowed, each valid and once")
    func applications() throws {
        let ok = CreditCode.complete("91330784MA2HAAAA0"), p = CreditCode.complete("12330700MB1CCCC00")
        try ChallengeRules.checkApplication(stage: .open, deadline: d("2026-12-05"), day: d("2026-12-05"), consortium: true,
                                            applicant: ok, partners: [p], plan: "方案", maxPlan: 100)
        #expect(throws: ProjectError.self) {
            try ChallengeRules.checkApplication(stage: .reviewing, deadline: d("2026-12-05"), day: d("2026-12-06"), consortium: true,
                                                applicant: ok, partners: [], plan: "方案", maxPlan: 100)
        }
        #expect(throws: ProjectError.self) {
            try ChallengeRules.checkApplication(stage: .open, deadline: d("2026-12-05"), day: d("2026-12-01"), consortium: false,
                                                applicant: ok, partners: [p], plan: "方案", maxPlan: 100)
        }
        #expect(throws: ProjectError.self) {
            try ChallengeRules.checkApplication(stage: .open, deadline: d("2026-12-05"), day: d("2026-12-01"), consortium: true,
                                                applicant: ok, partners: [ok], plan: "方案", maxPlan: 100)
        }
        #expect(throws: ProjectError.self) {
            try ChallengeRules.checkApplication(stage: .open, deadline: d("2026-12-05"), day: d("2026-12-01"), consortium: true,
                                                applicant: ok, partners: [], plan: String(repeating: "长", count: 101), maxPlan: 100)
        }
        #expect(ChallengeStage.of(stored: "open", deadline: d("2026-12-05"), on: d("2026-12-05")) == .open)
        #expect(ChallengeStage.of(stored: "open", deadline: d("2026-12-05"), on: d("2026-12-06")) == .reviewing)
        #expect(ChallengeStage.of(stored: "awarded", deadline: d("2026-12-05"), on: d("2026-12-01")) == .awarded)
    }

    @Test("tranches: to the cent, the last takes what rounding left; configured shares sum to 100 on the type's milestones")
    func tranches() throws {
        #expect(ChallengeRules.amounts(reward: 100, tranches: ProjectTypes.defaultTranches) == [30, 40, 30])
        #expect(ChallengeRules.amounts(reward: 0.1, tranches: [.init(milestone: "立项", share: 33), .init(milestone: "验收", share: 33),
                                                               .init(milestone: "兑现", share: 34)]) == [0.03, 0.03, 0.04])
        #expect(throws: ProjectError.self) {
            try ChallengeRules.check(tranches: [.init(milestone: "立项", share: 50), .init(milestone: "验收", share: 40)], milestones: ["立项", "验收"])
        }
        #expect(throws: ProjectError.self) { try ChallengeRules.check(tranches: [.init(milestone: "奖金", share: 100)], milestones: ["立项"]) }
        let yaml = ProjectTypes.defaultYAML.replacingOccurrences(of: "{milestone: 验收, share: 30}", with: "{milestone: 验收, share: 20}")
        #expect(throws: ProjectError.self) { try ProjectTypes(yaml: yaml) }
        let sheet = ProjectTypes.defaultYAML.replacingOccurrences(of: "name: 研发团队与技术积累, max: 20", with: "name: 研发团队与技术积累, max: 25")
        #expect(throws: ProjectError.self) { try ProjectTypes(yaml: sheet) }
        #expect(ProjectTypes.default.scoreSheet == .default && ProjectTypes.default.tranches == ProjectTypes.defaultTranches)
    }

    @Test("the ranking: highest mean first; unscored last; ties by fewer sheets missing, then the earlier application")
    func ranking() {
        let r = ChallengeRules.ranked([(id: 1, scores: [80], assigned: 2), (id: 2, scores: [], assigned: 2),
                                       (id: 3, scores: [90, 70], assigned: 2), (id: 4, scores: [85], assigned: 1)])
        #expect(r.map(\.id) == [4, 3, 1, 2])
        #expect(r.map(\.mean) == [85, 80, 80, nil])
    }
}
