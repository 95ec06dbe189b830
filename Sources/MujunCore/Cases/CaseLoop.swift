import Foundation

/// What can happen to a case (CASES.md §1): every step of the closed loop is one of these.
public enum CaseEventKind: String, Sendable, CaseIterable, Codable {
    case register, assign, accept, `return`, extend, progress, reply, verify, evaluate, close

    /// 登记 交办 签收 退回 延期 办理 答复 验收 评价 销号
    public var chinese: String {
        switch self {
        case .register: "登记"
        case .assign: "交办"
        case .accept: "签收"
        case .return: "退回"
        case .extend: "延期"
        case .progress: "办理"
        case .reply: "答复"
        case .verify: "验收"
        case .evaluate: "评价"
        case .close: "销号"
        }
    }

    /// The event named by its key or Chinese name (also 办结 and 答复/办结 for a reply).
    public init?(named s: String) {
        if let k = CaseEventKind(rawValue: s) { self = k; return }
        let t = CaseHistory.trimmed(s)
        if let k = CaseEventKind(chinese: t) { self = k; return }
        guard let k = CaseEventKind(rawValue: t.lowercased()) else { return nil }
        self = k
    }

    init?(chinese t: String) {
        switch t {
        case "登记": self = .register
        case "交办": self = .assign
        case "签收": self = .accept
        case "退回": self = .return
        case "延期": self = .extend
        case "办理": self = .progress
        case "答复", "办结", "答复/办结": self = .reply
        case "验收": self = .verify
        case "评价": self = .evaluate
        case "销号": self = .close
        default: return nil
        }
    }
}

/// The requester's judgement of a reply (评价).
public enum CaseRating: String, Sendable, CaseIterable, Codable {
    case satisfied
    case basicallySatisfied = "basically_satisfied"
    case unsatisfied

    /// 满意 / 基本满意 / 不满意
    public var chinese: String {
        switch self {
        case .satisfied: "满意"
        case .basicallySatisfied: "基本满意"
        case .unsatisfied: "不满意"
        }
    }

    /// An appeal's 1–5 score: 4–5 满意, 3 基本满意, 1–2 不满意.
    public init?(score: Int) {
        switch score {
        case 4...5: self = .satisfied
        case 3: self = .basicallySatisfied
        case 1...2: self = .unsatisfied
        default: return nil
        }
    }

    public init?(named s: String) {
        if let r = CaseRating(rawValue: s) { self = r; return }
        let t = CaseHistory.trimmed(s)
        switch t {
        case "满意": self = .satisfied
        case "基本满意": self = .basicallySatisfied
        case "不满意": self = .unsatisfied
        default:
            guard let r = CaseRating(rawValue: t.lowercased()) else { return nil }
            self = r
        }
    }
}

/// How closely a case is supervised (督办级别).
public enum SupervisionLevel: String, Sendable, CaseIterable, Codable {
    case normal, key, listed

    /// 一般 / 重点 / 挂牌督办
    public var chinese: String {
        switch self {
        case .normal: "一般"
        case .key: "重点"
        case .listed: "挂牌督办"
        }
    }

    public init?(named s: String) {
        if s.isEmpty { self = .normal; return }
        let t = CaseHistory.trimmed(s)
        if t.isEmpty { self = .normal; return }
        if let l = SupervisionLevel(rawValue: t.lowercased()) { self = l; return }
        switch t {
        case "一般": self = .normal
        case "重点", "重点督办": self = .key
        case "挂牌", "挂牌督办": self = .listed
        default: return nil
        }
    }
}

/// One event of a case's history, as the engine applies it.
public struct CaseEvent: Sendable, Hashable {
    public var kind: CaseEventKind
    /// The business date (Asia/Shanghai).
    public var date: CalendarDate
    /// register: the requester; assign: the lead unit; others: the acting unit (may be empty).
    public var unit: String
    /// assign: the co-units (协办单位).
    public var coUnits: [String]
    /// assign: an explicit due date; extend: the new due date.
    public var due: CalendarDate?
    /// reply: the result category.
    public var category: String?
    /// evaluate: the rating.
    public var rating: CaseRating?
    /// progress / reply: the head of the unit took part (一把手参与).
    public var head: Bool
    /// verify: passed.
    public var passed: Bool?
    /// return: the reason (required); otherwise a free note.
    public var note: String
    /// assign: the supervision level.
    public var level: SupervisionLevel

    public init(_ kind: CaseEventKind, _ date: CalendarDate, unit: String = "", coUnits: [String] = [],
                due: CalendarDate? = nil, category: String? = nil, rating: CaseRating? = nil, head: Bool = false,
                passed: Bool? = nil, note: String = "", level: SupervisionLevel = .normal) {
        self.kind = kind; self.date = date; self.unit = unit; self.coUnits = coUnits; self.due = due
        self.category = category; self.rating = rating; self.head = head; self.passed = passed
        self.note = note; self.level = level
    }
}

/// Why a step was refused (HTTP 409 or 422 in the app, a row error in a file), in Chinese and English.
public struct CaseStepError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// the event is not allowed in the case's current state (409)
        case wrongState
        /// the event's content is wrong: a missing reason, a bad due date, an extension beyond the limit (422)
        case invalid
    }
    public let kind: Kind
    public let zh: String, en: String
    public var description: String { "\(zh) / \(en)" }
}

/// One case going round the closed loop (CASES.md §1–§3): its state, its current assignment
/// and its deadlines, moved on by ``apply(_:)``, which refuses any step the contract does not allow.
///
/// ```swift
/// var c = CaseLoop(type: CaseTypes.default.type(named: "人大建议")!)
/// try c.apply(CaseEvent(.register, CalendarDate("2025-03-01")!, unit: "王代表"))
/// try c.apply(CaseEvent(.assign, CalendarDate("2025-03-03")!, unit: "自然资源和规划局"))
/// c.assignment?.replyDue                   // 2025-06-03: 交办后3个月
/// c.flag(at: CalendarDate("2025-06-16")!, calendar: .shipped, redAfter: 5)   // .red
/// ```
public struct CaseLoop: Sendable {
    public enum State: String, Sendable, CaseIterable, Codable {
        case registered, assigned, handling, replied, verified, evaluated, closed, returned

        /// 登记 已交办 办理中 已答复 已验收 已评价 已销号 已退回
        public var chinese: String {
            switch self {
            case .registered: "已登记"
            case .assigned: "待签收"
            case .handling: "办理中"
            case .replied: "已答复"
            case .verified: "已验收"
            case .evaluated: "已评价"
            case .closed: "已销号"
            case .returned: "已退回"
            }
        }
    }

    /// The current assignment (交办) and its deadlines.
    public struct Assignment: Sendable, Hashable {
        public var unit: String
        public var coUnits: [String]
        public var on: CalendarDate
        public var level: SupervisionLevel
        /// The due date given on assignment, if any.
        public var given: CalendarDate?
        public var acceptDue: CalendarDate
        public var acceptedOn: CalendarDate?
        /// The first reply's due date, as extended; nil for a `from: accept` type before acceptance.
        public var replyDue: CalendarDate?
        /// The latest date an extension may reach; nil = no limit (or not yet known).
        public var extendLimit: CalendarDate?
        public var extensions: Int
        /// The first reply of this assignment.
        public var firstReplyOn: CalendarDate?
    }

    /// The type, held by reference: a loop is copied often (snapshots, bulletins) and a type is a
    /// dozen strings and lists.
    private let typeBox: CaseTypeBox
    public var type: CaseType { _read { yield typeBox.type } }
    public private(set) var state: State = .registered
    public private(set) var registered = false
    public private(set) var registeredOn: CalendarDate?
    public private(set) var requester = ""
    /// nil before the first assignment and while returned.
    public private(set) var assignment: Assignment?
    /// While re-handling (重新办理): its due date.
    public private(set) var rehandleDue: CalendarDate?
    /// The latest rating.
    public private(set) var rating: CaseRating?
    /// How many evaluations there were.
    public private(set) var evaluations = 0
    /// The latest result category given with a reply.
    public private(set) var category: String?
    /// Whether any progress or reply recorded the head of the unit taking part.
    public private(set) var head = false
    /// The latest reply.
    public private(set) var lastReplyOn: CalendarDate?
    /// When the case was closed.
    public private(set) var closedOn: CalendarDate?
    /// The date of the latest event applied.
    public private(set) var lastEventOn: CalendarDate?

    public init(type: CaseType) { self.typeBox = CaseTypeBox(type) }

    /// A loop of a type whose box many loops share (a history's hundred thousand cases of a few
    /// types: each loop neither allocates a box nor retains the type's dozen strings).
    init(box: CaseTypeBox) { self.typeBox = box }

    /// Whether the case is open (from assign until reply, and again while re-handling).
    public var isOpen: Bool { state == .assigned || state == .handling }

    /// Whether the case is being re-handled.
    public var isRehandling: Bool { rehandleDue != nil }

    /// The reply deadline that counts now: the re-handling one while re-handling, else the first reply's.
    public var currentReplyDue: CalendarDate? { rehandleDue ?? assignment?.replyDue }

    /// The events allowed in the current state.
    public var allowed: [CaseEventKind] {
        CaseEventKind.allCases.filter { check($0) == nil }
    }

    /// Applies `e` with `calendar`, or throws naming why it is not allowed (nothing changes then).
    public mutating func apply(_ e: CaseEvent, calendar: WorkCalendar = .shipped) throws(CaseStepError) {
        if let (zh, en) = check(e.kind) { throw CaseStepError(kind: .wrongState, zh: zh, en: en) }
        if let last = lastEventOn, e.date < last {
            throw invalid("日期 \(e.date) 早于本案上一事件（\(last)）", "the date \(e.date) is before the case's previous event (\(last))")
        }
        switch e.kind {
        case .register:
            registered = true; registeredOn = e.date; requester = e.unit
        case .assign:
            // (a unit read from a file is trimmed already: only one with space at an end goes through Foundation)
            let unit = e.unit.unicodeScalars.first.map({ CaseHistory.mayTrim($0.value) }) == true
                || e.unit.unicodeScalars.last.map({ CaseHistory.mayTrim($0.value) }) == true
                ? e.unit.trimmingCharacters(in: .whitespaces) : e.unit
            guard !unit.isEmpty else { throw invalid("交办须指定主办单位", "an assignment needs a lead unit") }
            if let due = e.due, due < e.date {
                throw invalid("办理期限 \(due) 早于交办日期 \(e.date)", "the due date \(due) is before the assignment date \(e.date)")
            }
            if type.reply == nil && e.due == nil {
                throw invalid("\(type.name)须在交办时确定办理期限", "a \(type.key) needs a due date on assignment")
            }
            var a = Assignment(unit: unit, coUnits: e.coUnits, on: e.date, level: e.level, given: e.due,
                               acceptDue: type.accept.due(from: e.date, calendar: calendar), acceptedOn: nil,
                               replyDue: nil, extendLimit: nil, extensions: 0, firstReplyOn: nil)
            if type.from == .assign { a.setReplyDue(type: type, start: e.date, calendar: calendar) }
            assignment = a; state = .assigned; rehandleDue = nil
        case .accept:
            assignment!.acceptedOn = e.date
            if type.from == .accept { assignment!.setReplyDue(type: type, start: e.date, calendar: calendar) }
            state = .handling
        case .return:
            guard !e.note.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw invalid("退回须说明理由", "a return needs a reason")
            }
            assignment = nil; state = .returned
        case .extend:
            guard let due = e.due else { throw invalid("延期须给出新的办理期限", "an extension needs the new due date") }
            let a = assignment!
            if let current = currentReplyDue, due <= current {
                throw invalid("延期后的期限 \(due) 不晚于当前期限 \(current)", "the extended due date \(due) is not later than the current one (\(current))")
            }
            if let limit = a.extendLimit, due > limit {
                throw invalid("延期后的期限 \(due) 超过最长期限 \(limit)（\(type.from.chinese)后\(type.extendUpTo!.chinese)）",
                              "the extended due date \(due) is beyond the limit \(limit) (\(type.extendUpTo!) after \(type.from.rawValue))")
            }
            if let max = type.maxExtensions, a.extensions >= max {
                throw invalid("\(type.name)只能延期 \(max) 次", "a \(type.key) can be extended \(max) time\(max == 1 ? "" : "s") only")
            }
            assignment!.extensions += 1
            if rehandleDue != nil { rehandleDue = due } else { assignment!.replyDue = due }
        case .progress:
            if e.head { head = true }
        case .reply:
            if let c = e.category {
                guard type.categories.contains(c) else {
                    throw invalid(type.categories.isEmpty ? "\(type.name)的答复没有类别" : "答复类别应为 \(type.categories.joined(separator: "/"))",
                                  type.categories.isEmpty ? "a \(type.key) reply has no category" : "the category must be one of \(type.categories.joined(separator: ", "))")
                }
                category = c
            }
            if e.head { head = true }
            if assignment!.firstReplyOn == nil { assignment!.firstReplyOn = e.date }
            lastReplyOn = e.date; rehandleDue = nil; state = .replied
        case .verify:
            guard let passed = e.passed else { throw invalid("验收须注明通过或不通过", "a verification needs passed or failed") }
            if passed { state = .verified } else {
                // re-handling to the reply due date as it stands: usually past, so overdue at once
                rehandleDue = assignment!.replyDue ?? e.date
                state = .handling
            }
        case .evaluate:
            guard let r = e.rating else { throw invalid("评价须为 满意/基本满意/不满意", "an evaluation needs satisfied, basically satisfied or unsatisfied") }
            rating = r; evaluations += 1
            if r == .unsatisfied && !hadUnsatisfied && type.rehandles {  // 不满意 sends it back once
                hadUnsatisfied = true
                rehandleDue = type.rehandle.due(from: e.date, calendar: calendar)
                state = .handling
            } else {
                state = .evaluated
            }
        case .close:
            closedOn = e.date; state = .closed
        }
        lastEventOn = e.date
    }

    private var hadUnsatisfied = false

    private func invalid(_ zh: String, _ en: String) -> CaseStepError { CaseStepError(kind: .invalid, zh: zh, en: en) }

    /// Why `kind` is not allowed now (Chinese, English), or nil when it is.
    public func check(_ kind: CaseEventKind) -> (String, String)? {
        if kind == .register {
            return registered ? ("案件已登记", "the case is already registered") : nil
        }
        guard registered else { return ("案件尚未登记", "the case is not registered") }
        let ok: Bool
        switch kind {
        case .register: ok = false
        case .assign: ok = state == .registered || state == .returned
        case .accept, .return: ok = state == .assigned
        case .extend, .progress, .reply: ok = state == .handling
        case .verify: ok = type.verify && state == .replied
        case .evaluate: ok = type.evaluate && (type.verify ? state == .verified : state == .replied)
        case .close:
            ok = state == .evaluated || (state == .verified && !type.evaluate)
                || (state == .replied && !type.verify && !type.evaluate)
        }
        if ok { return nil }
        if kind == .verify && !type.verify { return ("\(type.name)不需要验收", "a \(type.key) is not verified") }
        if kind == .evaluate && !type.evaluate { return ("\(type.name)不需要评价", "a \(type.key) is not evaluated") }
        return ("案件当前状态为「\(state.chinese)」，不能\(kind.chinese)",
                "the case is \(state.rawValue); it cannot be given \(kind.rawValue)")
    }

    // MARK: - Deadlines at a date (CASES.md §3)

    /// The deadlines missed at `d`: the accept due date when not accepted and before `d`, the
    /// reply (or re-handling) due date when not replied and before `d`.
    public func missedDeadlines(at d: CalendarDate) -> [CalendarDate] {
        guard let a = assignment else { return [] }
        var missed: [CalendarDate] = []
        switch state {
        case .assigned:
            if a.acceptDue < d { missed.append(a.acceptDue) }
            if let r = a.replyDue, r < d { missed.append(r) }
        case .handling:
            if let r = currentReplyDue, r < d { missed.append(r) }
        default: break
        }
        return missed
    }

    /// Yellow (黄牌) with a missed deadline at `d`, red (红牌) when more than `redAfter` working
    /// days lie after the earliest one, up to and including `d`.
    public func flag(at d: CalendarDate, calendar: WorkCalendar, redAfter: Int) -> CaseFlag {
        guard let earliest = missedDeadlines(at: d).min() else { return .none }
        // more than redAfter working days in (earliest, d]: the (redAfter+1)-th working day is on or before d
        return calendar.addingWorkdays(redAfter + 1, to: earliest) <= d ? .red : .yellow
    }
}

extension CaseLoop.Assignment {
    /// The reply due date counted from `start` (the assignment or its acceptance), the given date
    /// holding when earlier, and the extension limit from the same start.
    mutating func setReplyDue(type: CaseType, start: CalendarDate, calendar: WorkCalendar) {
        if let p = type.reply {
            let computed = p.due(from: start, calendar: calendar)
            replyDue = given.map { min($0, computed) } ?? computed
        } else {
            replyDue = given
        }
        extendLimit = type.extendUpTo?.due(from: start, calendar: calendar)
    }
}

/// A case's overdue flag at a date (超期: 黄牌 / 红牌).
public enum CaseFlag: String, Sendable, Codable {
    case none = "", yellow, red

    public var chinese: String {
        switch self {
        case .none: ""
        case .yellow: "黄牌"
        case .red: "红牌"
        }
    }
}

/// A case type shared by the loops of its cases.
final class CaseTypeBox: Sendable {
    let type: CaseType
    init(_ type: CaseType) { self.type = type }
}
