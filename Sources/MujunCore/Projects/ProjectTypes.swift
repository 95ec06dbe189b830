import Foundation
import Yams

/// What an urban-renewal milestone is measured by (城市更新: 签约率、腾空率、拆除率): the households
/// signed, vacated or demolished over the project's households.
public enum RenewalMeasure: String, Codable, Sendable, CaseIterable, Hashable {
    case signed, vacated, demolished

    public var chinese: String {
        switch self {
        case .signed: "签约率"
        case .vacated: "腾空率"
        case .demolished: "拆除率"
        }
    }
}

/// One milestone of a type's template (节点模板): its name, its weight in the project's progress
/// (the weights of a type sum to 100), and for urban renewal the rate it is measured by.
public struct MilestoneTemplate: Sendable, Hashable {
    public var name: String
    public var weight: Int
    public var measure: RenewalMeasure?

    public init(name: String, weight: Int, measure: RenewalMeasure? = nil) {
        self.name = name; self.weight = weight; self.measure = measure
    }
}

/// A kind of project (项目类型): remediation (整治项目), challenge (揭榜挂帅), urban renewal
/// (城市更新), or a city's own; its modes (整治方式) and its milestone template.
public struct ProjectType: Sendable, Hashable {
    /// English key, e.g. `remediation`.
    public var key: String
    /// Chinese name, e.g. 整治项目.
    public var name: String
    /// The modes a project of this type must name one of (整治方式); empty: none.
    public var modes: [String]
    /// The milestones a new project starts with, in order.
    public var milestones: [MilestoneTemplate]
    /// Whether a project counts households (城市更新): required, and the measured milestones need it.
    public var households: Bool { milestones.contains { $0.measure != nil } }
}

/// The project types and the monthly-report rule (每月有进展), from configuration as the case
/// types are (a `projects.yaml` beside the rules file).
///
/// ```swift
/// let config = ProjectTypes.default
/// config.type(named: "整治项目")?.milestones.map(\.name)   // 排查确认 … 竣工投产
/// config.reportDue(for: YearMonth(year: 2025, month: 9), calendar: .shipped)   // 2025-10-14
/// ```
public struct ProjectTypes: Sendable {
    public var types: [ProjectType]
    /// A month's report is due by this working day of the next month (default the 5th).
    public var reportDay: Int
    /// The experts' score sheet for challenge applications (揭榜挂帅).
    public var scoreSheet: ScoreSheet
    /// How a challenge's reward is paid: a share per milestone of the winner's project.
    public var tranches: [RewardTranche]

    public init(types: [ProjectType], reportDay: Int = 5, scoreSheet: ScoreSheet = .default, tranches: [RewardTranche] = ProjectTypes.defaultTranches) {
        self.types = types; self.reportDay = reportDay; self.scoreSheet = scoreSheet; self.tranches = tranches
    }

    public static let defaultTranches = [RewardTranche(milestone: "立项", share: 30), RewardTranche(milestone: "里程碑考核", share: 40),
                                         RewardTranche(milestone: "验收", share: 30)]

    /// The challenge type (揭榜挂帅, key `challenge`), if configured.
    public var challenge: ProjectType? { types.first { $0.key == "challenge" } }

    /// The type with this key (any case) or Chinese name.
    public func type(named s: String) -> ProjectType? {
        let t = s.trimmingCharacters(in: .whitespaces)
        return types.first { $0.key == t.lowercased() || $0.name == t }
    }

    /// The day a month's report is due: the `reportDay`-th working day of the next month.
    public func reportDue(for month: YearMonth, calendar: WorkCalendar) -> CalendarDate {
        let next = month.next
        let first = calendar.workdayOnOrAfter(CalendarDate(year: next.year, month: next.month, day: 1)!)
        return calendar.addingWorkdays(reportDay - 1, to: first)
    }

    public static let `default`: ProjectTypes = {
        do { return try ProjectTypes(yaml: defaultYAML) } catch { fatalError("the default project types: \(error)") }
    }()

    /// The types of issue 10 as a `projects.yaml`.
    public static let defaultYAML = """
        # 项目类型. Each type's milestone weights sum to 100; measure (城市更新): signed | vacated | demolished.
        report_day: 5       # 每月有进展: a month's report is due by this working day of the next month
        types:
          - key: remediation
            name: 整治项目
            modes: [自主改造, 兼并重组, 政府收储, 关停淘汰, 腾退, 退二进三]
            milestones:
              - {name: 排查确认, weight: 10}
              - {name: 方案制定, weight: 15}
              - {name: 签约, weight: 20}
              - {name: 腾退/拆除, weight: 20}
              - {name: 供地/开工, weight: 15}
              - {name: 竣工投产, weight: 20}
          - key: challenge
            name: 揭榜挂帅
            milestones:
              - {name: 发榜, weight: 5}
              - {name: 揭榜, weight: 10}
              - {name: 评审遴选, weight: 10}
              - {name: 立项, weight: 10}
              - {name: 里程碑考核, weight: 35}
              - {name: 验收, weight: 20}
              - {name: 兑现, weight: 10}
          - key: renewal
            name: 城市更新
            milestones:
              - {name: 签约, weight: 25, measure: signed}
              - {name: 腾空, weight: 15, measure: vacated}
              - {name: 拆除, weight: 15, measure: demolished}
              - {name: 开工建设, weight: 15}
              - {name: 主体完工, weight: 15}
              - {name: 竣工交付, weight: 15}
          - key: consolidation
            name: 全域整治子项目
            modes: [农用地整理, 建设用地复垦, 生态修复, 产业用地腾挪]
            milestones:
              - {name: 立项, weight: 10}
              - {name: 实施, weight: 60}
              - {name: 验收, weight: 30}
        # 揭榜挂帅: the experts' score sheet (points per criterion) and the reward paid per milestone (percent)
        score_sheet:
          - {key: tech, name: 技术方案先进性与可行性, max: 30}
          - {key: team, name: 研发团队与技术积累, max: 20}
          - {key: plan, name: 实施计划与进度安排, max: 20}
          - {key: funds, name: 经费投入与配套条件, max: 15}
          - {key: impact, name: 预期成效与产业化前景, max: 15}
        tranches:
          - {milestone: 立项, share: 30}
          - {milestone: 里程碑考核, share: 40}
          - {milestone: 验收, share: 30}
        """

    /// Parses and checks a project-types file; every problem names the type it is in.
    public init(yaml: String) throws(ProjectError) {
        struct File: Decodable { var report_day: Int?; var types: [Entry]; var score_sheet: [Criterion]?; var tranches: [Tranche]? }
        struct Criterion: Decodable { var key: String; var name: String; var max: Int }
        struct Tranche: Decodable { var milestone: String; var share: Int }
        struct Entry: Decodable { var key: String; var name: String; var modes: [String]?; var milestones: [Stone] }
        struct Stone: Decodable { var name: String; var weight: Int; var measure: String? }
        let file: File
        do { file = try YAMLDecoder().decode(File.self, from: yaml) } catch {
            throw ProjectError(zh: "项目类型配置无法解析：\(error)", en: "the project types cannot be parsed: \(error)")
        }
        var types: [ProjectType] = []
        var seen: Set<String> = []
        for e in file.types {
            func fail(_ zh: String, _ en: String) -> ProjectError {
                ProjectError(zh: "项目类型 \(e.key)（\(e.name)）：\(zh)", en: "project type \(e.key) (\(e.name)): \(en)")
            }
            guard e.key.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) != nil else {
                throw fail("键名应为小写英文字母、数字和下划线", "the key must be lower-case letters, digits and _")
            }
            guard !e.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("缺少中文名称", "the name is missing") }
            for k in [e.key, e.name] {
                guard seen.insert(k.lowercased()).inserted else { throw fail("键名或名称重复", "the key or name is used twice") }
            }
            guard !e.milestones.isEmpty else { throw fail("至少需要一个节点", "at least one milestone is needed") }
            guard Set(e.milestones.map(\.name)).count == e.milestones.count else { throw fail("节点名称重复", "a milestone name is repeated") }
            guard e.milestones.allSatisfy({ $0.weight > 0 }) else { throw fail("节点权重应大于 0", "a milestone weight must be greater than 0") }
            let sum = e.milestones.reduce(0) { $0 + $1.weight }
            guard sum == 100 else { throw fail("节点权重合计 \(sum)，应为 100", "the milestone weights sum to \(sum), not 100") }
            var stones: [MilestoneTemplate] = []
            for s in e.milestones {
                var measure: RenewalMeasure?
                if let m = s.measure {
                    guard let r = RenewalMeasure(rawValue: m) else {
                        throw fail("节点 \(s.name) 的 measure 应为 signed、vacated 或 demolished", "milestone \(s.name): measure must be signed, vacated or demolished")
                    }
                    measure = r
                }
                stones.append(MilestoneTemplate(name: s.name, weight: s.weight, measure: measure))
            }
            types.append(ProjectType(key: e.key, name: e.name, modes: e.modes ?? [], milestones: stones))
        }
        guard !types.isEmpty else { throw ProjectError(zh: "至少需要一个项目类型", en: "at least one project type is needed") }
        let day = file.report_day ?? 5
        guard (1...20).contains(day) else {
            throw ProjectError(zh: "report_day 应为 1 到 20 之间的工作日序号", en: "report_day must be a working day of the month between 1 and 20")
        }
        var sheet = ScoreSheet.default
        if let cs = file.score_sheet {
            guard !cs.isEmpty, Set(cs.map(\.key)).count == cs.count, cs.allSatisfy({ $0.max > 0 && !$0.name.isEmpty }) else {
                throw ProjectError(zh: "score_sheet 的各项须有不重复的键名、名称和大于 0 的满分", en: "score_sheet: each criterion needs a unique key, a name and a max above 0")
            }
            sheet = ScoreSheet(criteria: cs.map { ScoreCriterion(key: $0.key, name: $0.name, max: $0.max) })
            guard sheet.maxTotal == 100 else {
                throw ProjectError(zh: "score_sheet 满分合计 \(sheet.maxTotal)，应为 100", en: "score_sheet: the maxima sum to \(sheet.maxTotal), not 100")
            }
        }
        let tranches = file.tranches.map { $0.map { RewardTranche(milestone: $0.milestone, share: $0.share) } } ?? Self.defaultTranches
        if let c = types.first(where: { $0.key == "challenge" }) {
            try ChallengeRules.check(tranches: tranches, milestones: c.milestones.map(\.name))
        }
        self.init(types: types, reportDay: day, scoreSheet: sheet, tranches: tranches)
    }
}

/// A refused project, milestone, report or configuration, in Chinese and English.
public struct ProjectError: Error, Sendable, Hashable, CustomStringConvertible {
    public let zh: String, en: String
    public init(zh: String, en: String) { self.zh = zh; self.en = en }
    public var description: String { "\(zh) / \(en)" }
}

/// A calendar month (`2025-09`), the period of a monthly report.
public struct YearMonth: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int, month: Int

    public init(year: Int, month: Int) {
        precondition((1...12).contains(month), "month \(month)")
        self.year = year; self.month = month
    }

    /// The month a date falls in.
    public init(_ d: CalendarDate) { self.init(year: d.year, month: d.month) }

    /// `YYYY-MM` as UTF-8 bytes (the stored form); nil for anything else.
    @inline(__always) public init?(utf8 b: UnsafeBufferPointer<UInt8>) {
        guard b.count == 7, b[4] == 0x2D else { return nil }
        var y = 0, m = 0
        for i in 0..<4 { let d = Int(b[i]) - 0x30; guard (0...9).contains(d) else { return nil }; y = y * 10 + d }
        for i in 5..<7 { let d = Int(b[i]) - 0x30; guard (0...9).contains(d) else { return nil }; m = m * 10 + d }
        guard (1...12).contains(m) else { return nil }
        self.init(year: y, month: m)
    }

    /// `YYYY-MM` (or `YYYY-M`, `YYYY/MM`, `YYYY年M月`); nil for anything else.
    public init?(parsing text: String) {
        // the stored form first, without Foundation (a roll-up reads 120,000 of them)
        var t = text
        if t.utf8.count == 7, let fast = t.withUTF8({ YearMonth(utf8: $0) }) { self = fast; return }
        let s = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "年", with: "-")
            .replacingOccurrences(of: "月", with: "").replacingOccurrences(of: "/", with: "-")
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m) else { return nil }
        self.init(year: y, month: m)
    }

    public var next: YearMonth { month == 12 ? YearMonth(year: year + 1, month: 1) : YearMonth(year: year, month: month + 1) }
    public var previous: YearMonth { month == 1 ? YearMonth(year: year - 1, month: 12) : YearMonth(year: year, month: month - 1) }
    public var description: String { String(format: "%04d-%02d", year, month) }
    public var chinese: String { "\(year)年\(month)月" }

    public static func < (a: YearMonth, b: YearMonth) -> Bool { (a.year, a.month) < (b.year, b.month) }
}
