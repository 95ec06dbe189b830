import Foundation
import Yams

/// A length of time for a deadline (CASES.md §2–§3): `N working days`, `N days` or `N months`.
///
/// ```swift
/// let p = try CasePeriod(parsing: "5 working days")
/// p.due(from: CalendarDate("2025-09-30")!, calendar: .shipped)   // 2025-10-14
/// ```
public enum CasePeriod: Hashable, Sendable, CustomStringConvertible {
    /// The N-th working day after the start (the start itself not counted).
    case workdays(Int)
    /// Start + N calendar days, moved to the next working day when that is a day off.
    case days(Int)
    /// The same day N months later (or that month's last day), moved to the next working day.
    case months(Int)

    /// The due date counted from `start`.
    public func due(from start: CalendarDate, calendar: WorkCalendar) -> CalendarDate {
        switch self {
        case .workdays(let n): calendar.addingWorkdays(n, to: start)
        case .days(let n): calendar.due(days: n, from: start)
        case .months(let n): calendar.due(months: n, from: start)
        }
    }

    /// Parses `5 working days`, `5 workdays`, `5个工作日`, `15 days`, `15日`, `3 months`, `3个月`.
    public init(parsing text: String) throws(CaseTypesError) {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = s.prefix(while: { $0.isASCII && $0.isNumber })
        guard let n = Int(digits), n > 0 else {
            throw CaseTypesError(zh: "期限「\(text)」应为 N 个工作日、N 日或 N 个月", en: "the period \"\(text)\" must be N working days, N days or N months")
        }
        let unit = s.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        switch unit {
        case "working days", "working day", "workdays", "workday", "个工作日", "工作日": self = .workdays(n)
        case "days", "day", "日", "天", "个自然日", "自然日": self = .days(n)
        case "months", "month", "个月", "月": self = .months(n)
        default:
            throw CaseTypesError(zh: "期限「\(text)」的单位应为 工作日、日 或 月", en: "the period \"\(text)\" must be in working days, days or months")
        }
    }

    public var description: String {
        switch self {
        case .workdays(let n): "\(n) working day\(n == 1 ? "" : "s")"
        case .days(let n): "\(n) day\(n == 1 ? "" : "s")"
        case .months(let n): "\(n) month\(n == 1 ? "" : "s")"
        }
    }

    /// 5个工作日 / 15日 / 3个月
    public var chinese: String {
        switch self {
        case .workdays(let n): "\(n)个工作日"
        case .days(let n): "\(n)日"
        case .months(let n): "\(n)个月"
        }
    }
}

/// What a type's reply deadline is counted from (CASES.md §2 `from`).
public enum CaseDeadlineStart: String, Codable, Sendable {
    /// the date of the current assignment (交办)
    case assign
    /// the date the current assignment was accepted (签收); before that there is no reply due date
    case accept

    public var chinese: String { self == .assign ? "交办" : "签收" }
}

/// One kind of work that runs the closed loop (督办事项类型): its deadlines and which steps it has.
public struct CaseType: Sendable, Hashable {
    /// English key, e.g. `suggestion`.
    public var key: String
    /// Chinese name, e.g. 人大建议.
    public var name: String
    /// The 签收 deadline, from the current assignment.
    public var accept: CasePeriod
    /// The 答复 deadline; nil = `given`: the assigner sets the due date (required on assignment).
    public var reply: CasePeriod?
    /// What the reply (and extension) deadlines count from.
    public var from: CaseDeadlineStart
    /// How far an approved extension may move the reply deadline, from the same start; nil = any date.
    public var extendUpTo: CasePeriod?
    /// How many extensions one assignment may have; nil = no limit.
    public var maxExtensions: Int?
    /// Whether a reply is verified (验收) before closing.
    public var verify: Bool
    /// Whether the requester evaluates (评价) the reply.
    public var evaluate: Bool
    /// Result categories of a reply (A B C D), empty when the type has none.
    public var categories: [String]
    /// The categories that count as resolved (解决).
    public var resolved: Set<String>
    /// The re-handling deadline after 不满意, from the evaluation date.
    public var rehandle: CasePeriod
    /// Whether replies of a category create a follow-up report (续报) obligation, and after how long.
    public var followUp: CasePeriod?
    /// The categories that oblige a follow-up report (B and C for suggestions and proposals).
    public var followUpCategories: Set<String>
    /// Whether 不满意 sends the case back once for re-handling (appeals: no, the rating closes them).
    public var rehandles: Bool = true

    public init(key: String, name: String, accept: CasePeriod, reply: CasePeriod?, from: CaseDeadlineStart = .assign,
                extendUpTo: CasePeriod? = nil, maxExtensions: Int? = nil, verify: Bool, evaluate: Bool,
                categories: [String] = [], resolved: Set<String> = [], rehandle: CasePeriod = .months(1),
                followUp: CasePeriod? = nil, followUpCategories: Set<String> = []) {
        self.key = key; self.name = name; self.accept = accept; self.reply = reply; self.from = from
        self.extendUpTo = extendUpTo; self.maxExtensions = maxExtensions; self.verify = verify
        self.evaluate = evaluate; self.categories = categories; self.resolved = resolved
        self.rehandle = rehandle; self.followUp = followUp; self.followUpCategories = followUpCategories
    }

    /// "交办后3个月，遇节假日顺延" — the basis of the reply deadline, as the case page shows it.
    public var replyBasis: String {
        guard let reply else { return "交办时确定办理期限" }
        switch reply {
        case .workdays: return "\(from.chinese)后\(reply.chinese)"
        case .days, .months: return "\(from.chinese)后\(reply.chinese)，遇节假日顺延"
        }
    }

    /// The basis of the accept deadline.
    public var acceptBasis: String {
        switch accept {
        case .workdays: "交办后\(accept.chinese)"
        case .days, .months: "交办后\(accept.chinese)，遇节假日顺延"
        }
    }
}

extension CaseType {
    /// Appeals (申诉) on the engine: an enterprise files during the publicity period (登记 and
    /// 交办 to the headquarters at once); the headquarters signs for it within 2 working days
    /// and replies within 10 working days of signing; the enterprise rates the reply, which
    /// closes it (no re-handling: a further dispute is a new appeal).
    public static let appeal: CaseType = {
        var t = CaseType(key: "appeal", name: "申诉", accept: .workdays(2), reply: .workdays(10), from: .accept,
                         verify: false, evaluate: true)
        t.rehandles = false
        return t
    }()

    /// The unit every appeal is assigned to.
    public static let appealUnit = "指挥部"

    /// Project supervision (项目督办) on the engine: opened by the system when a project is late
    /// (滞后: a milestone past its planned date, or no monthly report by its due day), assigned to
    /// the project's responsible unit, to be signed for within 1 working day and answered within
    /// 5; the engine replies and closes it when the report is filed or the milestone done. A
    /// `project` type in cases.yaml replaces these periods.
    public static let project = CaseType(key: "project", name: "项目督办", accept: .workdays(1), reply: .workdays(5),
                                         from: .assign, verify: false, evaluate: false)
}

/// The configured case types and the bulletin's parameters (CASES.md §2–§4), from `cases.yaml`.
///
/// ```swift
/// let config = CaseTypes.default
/// config.type(named: "人大建议")?.reply        // .months(3)
/// try CaseTypes(yaml: "types: [...]")         // a city's own file, checked
/// ```
public struct CaseTypes: Sendable {
    public var types: [CaseType]
    /// A case is red (红牌) when more than this many working days lie after its earliest missed deadline.
    public var redAfter: Int
    /// Units with fewer cases in `reply_due` are listed unranked.
    public var minCases: Int
    /// The last positions of the ranking marked 末位.
    public var bottom: Int
    /// "Due soon" in a unit's inbox: within this many working days.
    public var dueSoon: Int
    /// Units cases may be assigned to besides the towns and the units of accounts.
    public var units: [String]
    private var index: [String: Int]

    public init(types: [CaseType], redAfter: Int = 5, minCases: Int = 3, bottom: Int = 3, dueSoon: Int = 3, units: [String] = []) {
        self.types = types; self.redAfter = redAfter; self.minCases = minCases; self.bottom = bottom
        self.dueSoon = dueSoon; self.units = units
        var index: [String: Int] = [:]
        for (i, t) in types.enumerated() {
            index[t.key.lowercased()] = index[t.key.lowercased()] ?? i
            index[t.name] = index[t.name] ?? i
        }
        self.index = index
    }

    /// The type of a stored case: a configured type, or the built-in appeal (申诉), which is
    /// filed by an enterprise on its own pages and never registered, imported or bulletined as
    /// the configured types are.
    public func stored(_ key: String) -> CaseType? {
        type(named: key) ?? (key == CaseType.appeal.key ? .appeal : nil) ?? supervising(key)
    }

    /// A type bulletins count: a configured one, or project supervision (项目督办) — every type but appeals.
    public func counted(_ key: String) -> CaseType? { type(named: key) ?? supervising(key) }

    /// The project-supervision type (configured, or the built-in ``CaseType/project``) when `key` names it.
    public func supervising(_ key: String) -> CaseType? {
        let t = key.trimmingCharacters(in: .whitespaces)
        return t == CaseType.project.key || t == CaseType.project.name ? (type(named: CaseType.project.key) ?? .project) : nil
    }

    /// The type project supervision cases are opened with.
    public var projectType: CaseType { type(named: CaseType.project.key) ?? .project }

    /// The type with this key (any case) or Chinese name.
    public func type(named s: String) -> CaseType? {
        position(of: s).map { types[$0] }
    }

    /// The position in ``types`` of the type with this key or Chinese name.
    public func position(of s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespaces)
        return index[t] ?? index[t.lowercased()]
    }

    /// The types of CASES.md §2.
    public static let `default`: CaseTypes = {
        do { return try CaseTypes(yaml: defaultYAML) } catch { fatalError("the default case types: \(error)") }
    }()

    /// The defaults of CASES.md §2 as a `cases.yaml` (what `mujun cases types --yaml` prints).
    public static let defaultYAML = """
        # 督办事项类型 (CASES.md §2). Periods: "N working days", "N days", "N months";
        # reply: given = the assigner sets the due date; extend: omitted = any approved date.
        red_after: 5        # 红牌: more than this many working days after the earliest missed deadline
        min_cases: 3        # units with fewer cases due are listed unranked
        bottom: 3           # the last positions of the ranking are 末位
        due_soon: 3         # a unit's inbox: due within this many working days
        # units: [发改局, 经信局]   # units without accounts that cases may be assigned to (towns and account units count anyway)
        types:
          - {key: task,               name: 整治任务, accept: 2 working days, reply: given, verify: true,  evaluate: false}
          - {key: suggestion,         name: 人大建议, accept: 5 working days, reply: 3 months, from: assign, extend: 6 months,
             verify: false, evaluate: true, categories: [A, B, C, D], resolved: [A, B],
             follow_up: 6 months, follow_up_categories: [B, C]}
          - {key: proposal,           name: 政协提案, accept: 5 working days, reply: 3 months, from: assign, extend: 6 months,
             verify: false, evaluate: true, categories: [A, B, C, D], resolved: [A, B],
             follow_up: 6 months, follow_up_categories: [B, C]}
          - {key: petition,           name: 信访,     accept: 15 days, reply: 60 days, from: accept, extend: 90 days,
             max_extensions: 1, verify: false, evaluate: true}
          - {key: enterprise_request, name: 企业诉求, accept: 1 working day, reply: 10 working days, from: assign,
             extend: 20 working days, verify: false, evaluate: true}
          - {key: rectification,      name: 整改事项, accept: 2 working days, reply: given, verify: true,  evaluate: false}
          - {key: hazard,             name: 安全隐患, accept: 1 working day,  reply: given, verify: true,  evaluate: false}
        """

    /// Parses and checks a case-types file; every problem is named with the type it is in.
    public init(yaml: String) throws(CaseTypesError) {
        struct File: Decodable {
            var red_after: Int?, min_cases: Int?, bottom: Int?, due_soon: Int?
            var units: [String]?
            var types: [Entry]
        }
        struct Entry: Decodable {
            var key: String, name: String, accept: String, reply: String
            var from: String?, extend: String?, max_extensions: Int?
            var verify: Bool, evaluate: Bool
            var categories: [String]?, resolved: [String]?, rehandle: String?
            var follow_up: String?, follow_up_categories: [String]?
        }
        let file: File
        do { file = try YAMLDecoder().decode(File.self, from: yaml) } catch {
            throw CaseTypesError(zh: "督办事项类型配置无法解析：\(error)", en: "the case types cannot be parsed: \(error)")
        }
        var types: [CaseType] = []
        var seen: Set<String> = []
        for e in file.types {
            func fail(_ zh: String, _ en: String) -> CaseTypesError {
                CaseTypesError(zh: "类型 \(e.key)（\(e.name)）：\(zh)", en: "type \(e.key) (\(e.name)): \(en)")
            }
            func period(_ s: String) throws(CaseTypesError) -> CasePeriod {
                do { return try CasePeriod(parsing: s) } catch { throw fail(error.zh, error.en) }
            }
            guard e.key.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) != nil else {
                throw fail("键名应为小写英文字母、数字和下划线", "the key must be lower-case letters, digits and _")
            }
            guard !e.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("缺少中文名称", "the name is missing") }
            for k in [e.key, e.name] {
                guard seen.insert(k.lowercased()).inserted else { throw fail("键名或名称重复", "the key or name is used twice") }
            }
            let reply: CasePeriod? = e.reply.trimmingCharacters(in: .whitespaces).lowercased() == "given" ? nil : try period(e.reply)
            let from: CaseDeadlineStart
            switch e.from?.lowercased() {
            case nil, "assign", "交办": from = .assign
            case "accept", "签收": from = .accept
            default: throw fail("from 应为 assign 或 accept", "from must be assign or accept")
            }
            let extend: CasePeriod? = try e.extend.map { s throws(CaseTypesError) in try period(s) }
            if let m = e.max_extensions, m < 0 { throw fail("max_extensions 不能为负", "max_extensions must not be negative") }
            let categories = e.categories ?? []
            guard Set(categories).count == categories.count, categories.allSatisfy({ !$0.isEmpty }) else {
                throw fail("答复类别重复或为空", "a result category is repeated or empty")
            }
            let resolved = Set(e.resolved ?? [])
            let followCats = Set(e.follow_up_categories ?? [])
            guard resolved.isSubset(of: categories), followCats.isSubset(of: categories) else {
                throw fail("resolved / follow_up_categories 中有未定义的答复类别", "resolved or follow_up_categories names a category the type does not have")
            }
            types.append(CaseType(
                key: e.key, name: e.name, accept: try period(e.accept), reply: reply, from: from,
                extendUpTo: extend, maxExtensions: e.max_extensions, verify: e.verify, evaluate: e.evaluate,
                categories: categories, resolved: resolved, rehandle: try period(e.rehandle ?? "1 month"),
                followUp: try e.follow_up.map { s throws(CaseTypesError) in try period(s) }, followUpCategories: followCats))
        }
        guard !types.isEmpty else { throw CaseTypesError(zh: "至少需要一个类型", en: "at least one type is needed") }
        let redAfter = file.red_after ?? 5, minCases = file.min_cases ?? 3, bottom = file.bottom ?? 3
        let dueSoon = file.due_soon ?? 3
        guard redAfter >= 0, minCases >= 1, bottom >= 0, dueSoon >= 0 else {
            throw CaseTypesError(zh: "red_after、bottom、due_soon 不能为负，min_cases 至少为 1",
                                 en: "red_after, bottom and due_soon must not be negative, min_cases must be at least 1")
        }
        self.init(types: types, redAfter: redAfter, minCases: minCases, bottom: bottom, dueSoon: dueSoon,
                  units: (file.units ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }
}

/// Why a case-types file was refused, in Chinese and English.
public struct CaseTypesError: Error, Sendable, CustomStringConvertible {
    public let zh: String, en: String
    public var description: String { "督办事项类型错误：\(zh) / case types error: \(en)" }
}
