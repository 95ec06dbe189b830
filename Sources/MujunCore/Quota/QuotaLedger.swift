import Foundation
import Yams

/// The quota types of a cross-township consolidation project (LEDGER.md §1), in the order
/// balances are listed.
public enum QuotaType: Int, Sendable, CaseIterable, Hashable, Codable {
    /// 新增耕地: credited with its grade, used with the grade of the land occupied; moves between towns
    case newFarmland = 0
    /// 建设用地复垦（增减挂钩节余指标）: credited by reclamation, used by land supplied; moves
    case reclaimedConstruction = 1
    /// 永久基本农田: added back (补划) and moved out (调出); never between towns
    case basicFarmland = 2

    public var key: String {
        switch self {
        case .newFarmland: "new_farmland"
        case .reclaimedConstruction: "reclaimed_construction"
        case .basicFarmland: "basic_farmland"
        }
    }

    public var chinese: String {
        switch self {
        case .newFarmland: "新增耕地"
        case .reclaimedConstruction: "建设用地复垦"
        case .basicFarmland: "永久基本农田"
        }
    }

    /// Whether its balance per town may never fall below 0 (rule 5).
    public var keepsBalance: Bool { self != .basicFarmland }

    /// A journal cell: the key (any case) or a Chinese name; nil for anything else.
    public init?(cell: String) {
        let t = cell.trimmingCharacters(in: .whitespaces)
        switch t.lowercased() {
        case "new_farmland", "新增耕地": self = .newFarmland
        case "reclaimed_construction", "建设用地复垦", "增减挂钩节余指标", "建设用地复垦（增减挂钩节余指标）", "建设用地复垦(增减挂钩节余指标)":
            self = .reclaimedConstruction
        case "basic_farmland", "永久基本农田": self = .basicFarmland
        default: return nil
        }
    }
}

/// What a posting does (LEDGER.md §2).
public enum QuotaAction: Int, Sendable, CaseIterable, Hashable, Codable {
    /// 入账: + amount to (town, type)
    case credit = 0
    /// 使用: − amount from (town, type)
    case use = 1
    /// 调剂: − from (town, type), + to (to_town, type), one posting
    case transfer = 2
    /// 冲正: undoes an accepted entry (a transfer whole), with a reason
    case reverse = 3

    public var key: String { ["credit", "use", "transfer", "reverse"][rawValue] }
    public var chinese: String { ["入账", "使用", "调剂", "冲正"][rawValue] }

    /// A journal cell: the key (any case) or the Chinese name.
    public init?(cell: String) {
        switch cell.trimmingCharacters(in: .whitespaces).lowercased() {
        case "credit", "入账": self = .credit
        case "use", "使用": self = .use
        case "transfer", "调剂": self = .transfer
        case "reverse", "冲正": self = .reverse
        default: return nil
        }
    }
}

/// An amount of quota, exact: integer ten-thousandths of a mu (LEDGER.md §1), never floating point.
///
/// ```swift
/// QuotaAmount.parse("12.5")        // .value(QuotaAmount(units: 125_000))
/// QuotaAmount.parse("1.50000")     // .value(15_000 units): trailing zeros are not decimals
/// QuotaAmount.parse("0.00001")     // .tooPrecise
/// QuotaAmount(units: 125_000).description   // "12.5000"
/// ```
public struct QuotaAmount: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Ten-thousandths of a mu.
    public var units: Int64
    public init(units: Int64) { self.units = units }
    public static let zero = QuotaAmount(units: 0)
    /// Amounts must stay under 10¹² mu.
    public static let limitMu: Int64 = 1_000_000_000_000

    public static func < (a: QuotaAmount, b: QuotaAmount) -> Bool { a.units < b.units }

    /// `12.5000`, `-3.0000`: always four decimals.
    public var description: String { Self.format(units) }

    public static func format(_ units: Int64) -> String {
        let negative = units < 0
        let m = units.magnitude
        let frac = String(m % 10_000)
        return (negative ? "-" : "") + String(m / 10_000) + "." + String(repeating: "0", count: 4 - frac.count) + frac
    }

    /// What a cell holds.
    public enum Parse: Sendable, Hashable {
        case empty
        /// Not a plain decimal (`^[+-]?(\d+(\.\d*)?|\.\d+)$`): the file cannot be read.
        case text
        /// A number with more than four decimals (after dropping trailing zeros).
        case tooPrecise
        /// 10¹² mu or more.
        case tooLarge
        /// Exact, possibly zero or negative.
        case value(QuotaAmount)
    }

    public static func parse(_ cell: String) -> Parse {
        var s = cell
        return s.withUTF8 { parse(bytes: $0) }
    }

    /// The same on a cell's UTF-8 bytes (spaces around it ignored).
    public static func parse(bytes raw: UnsafeBufferPointer<UInt8>) -> Parse {
        var lo = 0, hi = raw.count
        while lo < hi, raw[lo] == 0x20 || raw[lo] == 0x09 { lo += 1 }
        while hi > lo, raw[hi - 1] == 0x20 || raw[hi - 1] == 0x09 { hi -= 1 }
        if lo == hi { return .empty }
        var i = lo
        var negative = false
        if raw[i] == 0x2B || raw[i] == 0x2D { negative = raw[i] == 0x2D; i += 1 }
        var whole: Int64 = 0, wholeDigits = 0, big = false
        while i < hi, raw[i] &- 0x30 <= 9 {
            if whole >= limitMu { big = true } else { whole = whole * 10 + Int64(raw[i] &- 0x30) }
            wholeDigits += 1; i += 1
        }
        var frac: Int64 = 0, fracDigits = 0, extra = false, sawPoint = false
        if i < hi, raw[i] == 0x2E {
            sawPoint = true
            i += 1
            while i < hi, raw[i] &- 0x30 <= 9 {
                let d = Int64(raw[i] &- 0x30)
                if fracDigits < 4 { frac = frac * 10 + d } else if d != 0 { extra = true }
                fracDigits += 1; i += 1
            }
        }
        // a plain decimal: digits, or digits '.' [digits], or '.' digits — and nothing after
        guard i == hi, wholeDigits > 0 || (sawPoint && fracDigits > 0) else { return .text }
        if extra { return .tooPrecise }
        if big || whole >= limitMu { return .tooLarge }
        for _ in min(fracDigits, 4)..<4 { frac *= 10 }
        let units = whole * 10_000 + frac
        return .value(QuotaAmount(units: negative ? -units : units))
    }
}

/// A cross-township consolidation project as the ledger needs it: its towns, its start and the
/// basic-farmland margin (先补后调: added back ≥ (1 + margin) × moved out).
///
/// ```swift
/// let p = try QuotaProject(yaml: "name: 全域整治试点\ntowns: [古山镇, 方岩镇, 舟山镇]\nstart: 2025-01-01\nmargin: 0.05\n")
/// p.margin      // 5/100
/// ```
public struct QuotaProject: Sendable, Hashable {
    public var name: String
    public var towns: [String]
    public var start: CalendarDate
    /// The margin as an exact fraction numerator / denominator (denominator a power of ten).
    public var marginNumerator: Int64
    public var marginDenominator: Int64

    public init(name: String, towns: [String], start: CalendarDate, margin: String = "0.05") throws(QuotaError) {
        guard !towns.isEmpty else { throw QuotaError("项目没有镇街 / the project has no towns") }
        guard Set(towns).count == towns.count else { throw QuotaError("镇街重复 / a town is listed twice") }
        guard towns.allSatisfy({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { throw QuotaError("镇街名称为空 / an empty town name") }
        guard case .value(let m) = QuotaAmount.parse(margin), m.units >= 0 else {
            throw QuotaError("margin「\(margin)」应为不小于 0、至多 4 位小数的数 / margin must be a number ≥ 0 with at most 4 decimals")
        }
        self.name = name; self.towns = towns; self.start = start
        marginNumerator = m.units; marginDenominator = 10_000
    }

    /// The margin as written (`0.0500`).
    public var marginText: String { QuotaAmount.format(marginNumerator * (10_000 / marginDenominator)) }

    /// Reads `name`, `towns`, `start`, `margin` (default 0.05) from a YAML document (the scalars'
    /// text as written: `margin: 0.05` is exactly 5/100).
    public init(yaml: String) throws(QuotaError) {
        let node: Node?
        do { node = try Yams.compose(yaml: yaml) } catch {
            throw QuotaError("project.yaml 无法读取：\(error) / project.yaml cannot be read")
        }
        guard let root = node, root.mapping != nil else { throw QuotaError("project.yaml 应为 name/towns/start/margin 映射 / project.yaml must be a mapping") }
        func text(_ key: String) -> String? { root[key]?.scalar?.string.trimmingCharacters(in: .whitespaces) }
        guard let list = root["towns"]?.sequence else { throw QuotaError("project.yaml 缺少 towns 列表 / towns (a list) is missing") }
        let towns = list.compactMap { $0.scalar?.string.trimmingCharacters(in: .whitespaces) }
        guard towns.count == list.count else { throw QuotaError("towns 应为镇街名称列表 / towns must be a list of names") }
        guard let s = text("start"), let start = CalendarDate(s) else {
            throw QuotaError("project.yaml 的 start 应为 YYYY-MM-DD 日期 / start must be a YYYY-MM-DD date")
        }
        try self.init(name: text("name") ?? "", towns: towns, start: start, margin: text("margin") ?? "0.05")
    }
}

/// A project file, ledger or journal problem that is not one posting's.
public struct QuotaError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}

/// One posting, read (LEDGER.md §2 and §4): what a journal row or a page asks the ledger to do.
/// Cells the action does not use are ignored; checks are the ledger's.
public struct QuotaPosting: Sendable, Hashable {
    /// The row of the journal (header = 1), or 0 for a posting made on a page.
    public var row: Int
    public var seq: String
    public var date: CalendarDate
    public var action: QuotaAction
    public var town: String
    public var toTown: String
    /// nil: the cell was empty or names no quota type (rule 1).
    public var quota: QuotaType?
    /// nil: the cell was empty (rule 2).
    public var amount: QuotaAmount.Parse
    public var grade: QuotaAmount.Parse
    /// The seq a reversal undoes.
    public var reverses: String
    public var note: String
    /// Its place in a journal (0, 1, …; -1: not from a journal) and, for a reversal, the place of the
    /// earlier posting with the seq it names (nil: none earlier): what the journal reader resolves,
    /// so that replaying a million rows looks nothing up by text.
    public var ordinal = -1
    public var reversesOrdinal: Int?

    public init(row: Int = 0, seq: String, date: CalendarDate, action: QuotaAction, town: String = "", toTown: String = "",
                quota: QuotaType? = nil, amount: QuotaAmount.Parse = .empty, grade: QuotaAmount.Parse = .empty,
                reverses: String = "", note: String = "") {
        self.row = row; self.seq = seq; self.date = date; self.action = action; self.town = town; self.toTown = toTown
        self.quota = quota; self.amount = amount; self.grade = grade; self.reverses = reverses; self.note = note
    }
}

/// Why the ledger refused a posting: the rule of LEDGER.md §3 and the figures, in Chinese and English.
public struct QuotaRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1…8
    public var rule: Int
    public var zh: String
    public var en: String
    /// `规则5：舟山镇 新增耕地 余额 12.5000 亩，本次使用 12.5001 亩 / rule 5: …`
    public var description: String { "规则\(rule)：\(zh) / rule \(rule): \(en)" }
}

/// The quota ledger of one project (LEDGER.md): every rule of §3 checked on every posting, in one
/// place, against the state after every earlier accepted posting. Pure: the database keeps the
/// journal; this decides and sums.
///
/// ```swift
/// var ledger = QuotaLedger(project: p)
/// ledger.post(QuotaPosting(seq: "1", date: d, action: .credit, town: "舟山镇", quota: .newFarmland,
///                          amount: QuotaAmount.parse("12.5"), grade: QuotaAmount.parse("6")))   // nil: accepted
/// ledger.balance(town: "舟山镇", .newFarmland)        // 12.5000
/// ```
public struct QuotaLedger: Sendable {
    public let project: QuotaProject

    /// The figures of one (town, quota type), net of reversals.
    public struct Balance: Sendable, Hashable {
        public var credited: Int64 = 0
        public var used: Int64 = 0
        public var transferredIn: Int64 = 0
        public var transferredOut: Int64 = 0
        public var balance: Int64 { credited - used + transferredIn - transferredOut }
        public init() {}
    }

    /// An accepted entry, as a reversal needs it: the base posting it applies and with which sign
    /// (a reversal applies its target's base with the opposite sign).
    public struct Entry: Sendable, Hashable {
        public var seq: String
        public var row: Int
        public var date: CalendarDate
        public var action: QuotaAction
        /// The base effect: a credit, use or transfer.
        public var base: QuotaAction
        public var town: Int
        public var toTown: Int
        public var quota: QuotaType
        public var units: Int64
        public var grade: Int64
        public var sign: Int64
        /// For a reversal: the index of the entry it undoes.
        public var reverses: Int?
        /// The seq of the reversal that undid it.
        public var reversedBy: String?
        public var reversed: Bool { reversedBy != nil }

        public init(seq: String, row: Int = 0, date: CalendarDate, action: QuotaAction, base: QuotaAction, town: Int, toTown: Int,
                    quota: QuotaType, units: Int64, grade: Int64, sign: Int64, reverses: Int? = nil, reversedBy: String? = nil) {
            self.seq = seq; self.row = row; self.date = date; self.action = action; self.base = base; self.town = town
            self.toTown = toTown; self.quota = quota; self.units = units; self.grade = grade; self.sign = sign
            self.reverses = reverses; self.reversedBy = reversedBy
        }
    }

    /// What the ledger keeps between postings (a database stores it beside the journal, so that a
    /// posting reads one row per (town, type), not the journal).
    public struct State: Sendable, Hashable {
        /// Per (town index × 3 + type).
        public var balances: [Balance]
        public var basicAdded: Int64 = 0, basicOut: Int64 = 0
        public var farmCredited: Int64 = 0, farmCreditedGrade: Int64 = 0
        public var farmUsed: Int64 = 0, farmUsedGrade: Int64 = 0
        public var latest: CalendarDate?
        public init(towns: Int) { balances = Array(repeating: Balance(), count: towns * 3) }
    }

    /// The state after the last accepted posting.
    public var state: State {
        var s = State(towns: project.towns.count)
        s.balances = balances
        s.basicAdded = basicAdded; s.basicOut = basicOut
        s.farmCredited = farmCredited; s.farmCreditedGrade = farmCreditedGrade
        s.farmUsed = farmUsed; s.farmUsedGrade = farmUsedGrade
        s.latest = latest
        return s
    }

    /// A ledger carried on from a stored state; `entries`: the accepted entries a reversal may
    /// name (a database passes the one it names, with whether it is reversed).
    public init(project: QuotaProject, state: State, entries: [Entry]) {
        self.init(project: project)
        if state.balances.count == balances.count { balances = state.balances }
        basicAdded = state.basicAdded; basicOut = state.basicOut
        farmCredited = state.farmCredited; farmCreditedGrade = state.farmCreditedGrade
        farmUsed = state.farmUsed; farmUsedGrade = state.farmUsedGrade
        latest = state.latest
        for e in entries { bySeq[e.seq] = self.entries.count; self.entries.append(e) }
    }

    /// Makes an accepted entry read from storage nameable by a reversal.
    public mutating func restore(_ e: Entry) {
        guard bySeq[e.seq] == nil else { return }
        bySeq[e.seq] = entries.count
        entries.append(e)
    }


    public private(set) var entries: [Entry] = []
    /// The accepted entries by seq (a refused or unknown seq is not there: rule 8).
    private var bySeq: [String: Int] = [:]
    /// The rows of refused postings by seq (to say why a reversal cannot name one).
    private var refusedRows: [String: Int] = [:]
    /// Journal postings by ordinal: the entry each became (-1: refused), and its row.
    private var byOrdinal: [Int32] = []
    private var rowByOrdinal: [Int32] = []
    private var balances: [Balance]
    /// Project-wide: basic farmland added back and moved out; new farmland credited/used and Σ amount × grade.
    public private(set) var basicAdded: Int64 = 0, basicOut: Int64 = 0
    public private(set) var farmCredited: Int64 = 0, farmCreditedGrade: Int64 = 0
    public private(set) var farmUsed: Int64 = 0, farmUsedGrade: Int64 = 0
    public private(set) var latest: CalendarDate?
    private let townIndex: [String: Int]

    public init(project: QuotaProject) {
        self.project = project
        balances = Array(repeating: Balance(), count: project.towns.count * QuotaType.allCases.count)
        townIndex = Dictionary(uniqueKeysWithValues: project.towns.enumerated().map { ($1, $0) })
    }

    @inline(__always) private func slot(_ town: Int, _ q: QuotaType) -> Int { town * 3 + q.rawValue }

    public func balance(town: String, _ q: QuotaType) -> Balance {
        townIndex[town].map { balances[slot($0, q)] } ?? Balance()
    }

    /// Every (town, type) in the project's town order and §1's type order.
    public var allBalances: [(town: String, quota: QuotaType, balance: Balance)] {
        project.towns.enumerated().flatMap { (t, name) in QuotaType.allCases.map { (name, $0, balances[slot(t, $0)]) } }
    }

    /// The accepted entry with this seq.
    public func entry(seq: String) -> Entry? { bySeq[seq].map { entries[$0] } }

    /// Posts `p`: nil when accepted (its effect is in the balances), else why it was refused (and
    /// nothing changed). Seqs are the caller's to keep unique (a journal with a repeated seq
    /// cannot be read; the database numbers its postings).
    @discardableResult
    public mutating func post(_ p: QuotaPosting) -> QuotaRefusal? {
        let refusal = p.action == .reverse ? reverse(p) : book(p)
        if p.ordinal >= 0 {
            while byOrdinal.count <= p.ordinal { byOrdinal.append(-1); rowByOrdinal.append(0) }
            rowByOrdinal[p.ordinal] = Int32(truncatingIfNeeded: p.row)
            if refusal == nil { byOrdinal[p.ordinal] = Int32(entries.count - 1) }
        } else if refusal != nil {
            refusedRows[p.seq] = p.row
        }
        return refusal
    }

    private mutating func book(_ p: QuotaPosting) -> QuotaRefusal? {
        let towns = project.towns
        guard let town = townIndex[p.town] else {
            return QuotaRefusal(rule: 1, zh: "镇街「\(p.town)」不是本项目的镇街（\(towns.joined(separator: "、"))）",
                                en: "town \"\(p.town)\" is not one of the project's towns")
        }
        var to = -1
        if p.action == .transfer {
            guard let t = townIndex[p.toTown] else {
                return QuotaRefusal(rule: 1, zh: "调入镇街「\(p.toTown)」不是本项目的镇街（\(towns.joined(separator: "、"))）",
                                    en: "to_town \"\(p.toTown)\" is not one of the project's towns")
            }
            to = t
        }
        guard let q = p.quota else {
            return QuotaRefusal(rule: 1, zh: "指标类型为空或未知", en: "the quota type is empty or unknown")
        }
        let units: Int64
        switch p.amount {
        case .value(let a) where a.units > 0: units = a.units
        case .value(let a): return QuotaRefusal(rule: 2, zh: "数量 \(a) 亩不是正数", en: "amount \(a) mu is not positive")
        case .empty, .text: return QuotaRefusal(rule: 2, zh: "数量为空", en: "the amount is empty")
        case .tooPrecise: return QuotaRefusal(rule: 2, zh: "数量超过 4 位小数", en: "the amount has more than 4 decimals")
        case .tooLarge: return QuotaRefusal(rule: 2, zh: "数量过大（应小于 10¹² 亩）", en: "the amount is too large")
        }
        if p.action == .transfer {
            if to == town { return QuotaRefusal(rule: 3, zh: "调剂的调出、调入镇街相同（\(p.town)）", en: "a transfer to its own town") }
            if q == .basicFarmland { return QuotaRefusal(rule: 3, zh: "永久基本农田不能跨镇调剂", en: "basic_farmland cannot move between towns") }
        }
        if let refusal = checkDate(p.date) { return refusal }
        var grade: Int64 = 0
        if q == .newFarmland && p.action != .transfer {
            switch p.grade {
            case .value(let g) where g.units % 10_000 == 0 && (1...15).contains(g.units / 10_000): grade = g.units / 10_000
            case .empty, .text: return QuotaRefusal(rule: 7, zh: "新增耕地\(p.action.chinese)缺少等别", en: "a new_farmland \(p.action.key) needs its grade")
            case .value(let g): return QuotaRefusal(rule: 7, zh: "等别 \(Self.plain(g.units)) 不是 1–15 的整数", en: "grade \(Self.plain(g.units)) is not a whole number 1–15")
            case .tooPrecise, .tooLarge: return QuotaRefusal(rule: 7, zh: "等别不是 1–15 的整数", en: "the grade is not a whole number 1–15")
            }
        }
        let e = Entry(seq: p.seq, row: p.row, date: p.date, action: p.action, base: p.action, town: town, toTown: to, quota: q,
                      units: units, grade: grade, sign: 1, reverses: nil)
        if let refusal = tryApply(e, reversing: nil, bySeq: p.ordinal < 0) { return refusal }
        return nil
    }

    private func checkDate(_ d: CalendarDate) -> QuotaRefusal? {
        if d < project.start {
            return QuotaRefusal(rule: 4, zh: "日期 \(d) 早于项目开始日期 \(project.start)", en: "date \(d) is before the project's start \(project.start)")
        }
        if let l = latest, d < l {
            return QuotaRefusal(rule: 4, zh: "日期 \(d) 早于最近一笔已入账记录的日期 \(l)", en: "date \(d) is before the latest accepted entry's \(l)")
        }
        return nil
    }

    private mutating func reverse(_ p: QuotaPosting) -> QuotaRefusal? {
        // (the journal reader and the services trim the cells)
        let target = p.reverses
        guard !target.isEmpty else { return QuotaRefusal(rule: 8, zh: "冲正序号为空", en: "the reversal names no entry") }
        let found: Int?
        if p.ordinal >= 0 {
            // a journal's posting: the reader found the earlier row with that seq (if any)
            if let k = p.reversesOrdinal, k < byOrdinal.count {
                if byOrdinal[k] >= 0 { found = Int(byOrdinal[k]) } else {
                    return QuotaRefusal(rule: 8, zh: "冲正序号 \(target) 的记录已被拒绝（第 \(rowByOrdinal[k]) 行），不能冲正",
                                        en: "\(target) was refused (row \(rowByOrdinal[k])) and cannot be reversed")
                }
            } else {
                found = bySeq[target]
            }
        } else {
            found = bySeq[target]
        }
        guard let i = found else {
            if let row = refusedRows[target] {
                return QuotaRefusal(rule: 8, zh: "冲正序号 \(target) 的记录已被拒绝（第 \(row) 行），不能冲正",
                                    en: "\(target) was refused (row \(row)) and cannot be reversed")
            }
            return QuotaRefusal(rule: 8, zh: "冲正序号 \(target) 不是此前已入账的记录", en: "\(target) is not an earlier accepted entry")
        }
        if let by = entries[i].reversedBy {
            return QuotaRefusal(rule: 8, zh: "第 \(target) 号已被第 \(by) 号冲正，不能再次冲正", en: "\(target) is already reversed by \(by)")
        }
        guard p.note.utf8.contains(where: { $0 != 0x20 && $0 != 0x09 }) else {
            return QuotaRefusal(rule: 8, zh: "冲正须填写说明", en: "a reversal needs a reason (说明)")
        }
        if let refusal = checkDate(p.date) { return refusal }
        var e = entries[i]
        e.seq = p.seq; e.row = p.row; e.date = p.date; e.action = .reverse; e.sign = -e.sign; e.reverses = i; e.reversedBy = nil
        return tryApply(e, reversing: target, bySeq: p.ordinal < 0)
    }

    /// Applies `e` (its base with its sign), checks rules 5–7, and keeps it or undoes it.
    private mutating func tryApply(_ e: Entry, reversing: String?, bySeq indexed: Bool) -> QuotaRefusal? {
        apply(e, sign: e.sign)
        if let broken = check(e) {
            apply(e, sign: -e.sign)
            guard let target = reversing else { return broken }
            return QuotaRefusal(rule: 8, zh: "冲正第 \(target) 号将违反规则\(broken.rule)：\(broken.zh)",
                                en: "reversing \(target) would break rule \(broken.rule): \(broken.en)")
        }
        if let r = e.reverses { entries[r].reversedBy = e.seq }
        // (a journal's postings are found by ordinal: no text index of a million seqs)
        if indexed { bySeq[e.seq] = entries.count }
        entries.append(e)
        latest = e.date
        return nil
    }

    private mutating func apply(_ e: Entry, sign s: Int64) {
        let a = e.units * s
        switch e.base {
        case .credit:
            balances[slot(e.town, e.quota)].credited += a
            if e.quota == .basicFarmland { basicAdded += a }
            if e.quota == .newFarmland { farmCredited += a; farmCreditedGrade += a * e.grade }
        case .use:
            balances[slot(e.town, e.quota)].used += a
            if e.quota == .basicFarmland { basicOut += a }
            if e.quota == .newFarmland { farmUsed += a; farmUsedGrade += a * e.grade }
        case .transfer:
            balances[slot(e.town, e.quota)].transferredOut += a
            balances[slot(e.toTown, e.quota)].transferredIn += a
        case .reverse:
            break
        }
    }

    /// Rules 5, 6, 7 on the state after `e` (only what `e` touched can have changed).
    private func check(_ e: Entry) -> QuotaRefusal? {
        let verb: String
        switch (e.base, e.sign > 0) {
        case (.credit, false): verb = "冲减入账"
        case (.use, true): verb = "使用"
        case (.transfer, _): verb = "调出"
        default: verb = ""
        }
        if e.quota.keepsBalance {
            for t in e.base == .transfer ? [e.town, e.toTown] : [e.town] {
                let b = balances[slot(t, e.quota)].balance
                if b < 0 {
                    let before = b + e.units
                    return QuotaRefusal(rule: 5, zh: "\(project.towns[t]) \(e.quota.chinese) 余额 \(QuotaAmount.format(before)) 亩，本次\(verb.isEmpty ? "减少" : verb) \(QuotaAmount.format(e.units)) 亩",
                                        en: "\(project.towns[t]) \(e.quota.key) balance \(QuotaAmount.format(before)) mu, this \(e.base.key) \(QuotaAmount.format(e.units)) mu")
                }
            }
        }
        if e.quota == .basicFarmland {
            let d = Int128(project.marginDenominator), n = Int128(project.marginNumerator)
            if Int128(basicAdded) * d < (d + n) * Int128(basicOut) {
                return QuotaRefusal(rule: 6, zh: "永久基本农田 补划 \(QuotaAmount.format(basicAdded)) 亩，少于 (1 + \(Self.plain(project.marginNumerator))) × 调出 \(QuotaAmount.format(basicOut)) 亩",
                                    en: "basic_farmland added back \(QuotaAmount.format(basicAdded)) mu < (1 + \(Self.plain(project.marginNumerator))) × moved out \(QuotaAmount.format(basicOut)) mu")
            }
        }
        if e.quota == .newFarmland, farmUsed > 0 {
            if farmCredited <= 0 || Int128(farmCreditedGrade) * Int128(farmUsed) > Int128(farmUsedGrade) * Int128(farmCredited) {
                let cg = farmCredited > 0 ? Self.ratio(farmCreditedGrade, farmCredited) : "—"
                let ug = Self.ratio(farmUsedGrade, farmUsed)
                return QuotaRefusal(rule: 7, zh: "新增耕地 入账加权等别 \(cg) 劣于 使用加权等别 \(ug)（质量不降低）",
                                    en: "new_farmland credited grade \(cg) is worse than used grade \(ug)")
            }
        }
        return nil
    }

    /// `num / den` to four decimals, rounded half up (for the words only: the rule compares exactly).
    static func ratio(_ num: Int64, _ den: Int64) -> String {
        let q = (Int128(num) * 20_000 / Int128(den) + 1) / 2
        return QuotaAmount.format(Int64(q))
    }

    /// `0.05`, `3`: a ten-thousandths figure without trailing zeros.
    public static func plain(_ units: Int64) -> String {
        var s = QuotaAmount.format(units)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}
