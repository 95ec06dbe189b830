import Foundation

/// The columns of a history file, looked up once (-1: absent), with their headers as written.
struct HistoryLayout: Sendable {
    let ref, title, type, event, date, unit, co, due, category, rating, head, passed, note, level, parcel, code: Int
    private let headers: [String: String]

    init(_ m: HeaderMatcher) {
        func at(_ key: String) -> Int { m.index(of: key) ?? -1 }
        ref = at("ref"); title = at("title"); type = at("type"); event = at("event"); date = at("date")
        unit = at("unit"); co = at("co_units"); due = at("due"); category = at("category"); rating = at("rating")
        head = at("head"); passed = at("passed"); note = at("note"); level = at("level"); parcel = at("parcel_id")
        code = at("credit_code")
        headers = Dictionary(uniqueKeysWithValues: CaseHistory.fields.map { ($0.key, m.header(of: $0.key)) })
    }

    func header(_ key: String) -> String { headers[key]! }
}

/// A case of a history file: its type and (trimmed) ref.
struct HistoryCaseKey: Hashable, Sendable {
    var type: Int
    var ref: String
}

/// A case as one piece of a history file has it: what its rows say of it (its events stay in the
/// piece's ``EventLog`` until they are moved into the whole file's case).
struct HistoryPieceCase {
    var key: HistoryCaseKey
    /// A row of the case could not be read.
    var broken = false
    /// The title as the piece's rows give it from none (the first non-empty, a register row's over it).
    var title = ""
    /// The last register row's non-empty title (what overrides an earlier piece's title).
    var registerTitle: String?
    var parcel: String?
    var code: String?
}

/// One piece of a history file read on its own: the cases its rows name (in order of first
/// appearance), their events in a log, the errors (rows relative to the piece) and its first and last dates.
///
/// The values that repeat — types, events, units, ratings, levels, yes/no — are looked up by their
/// bytes once per distinct text, so most cells never become a String.
struct HistoryPiece {
    let layout: HistoryLayout
    let types: CaseTypes
    var errors = RowErrorCollector()
    var cases: [HistoryPieceCase] = []
    var count = 0
    var first: CalendarDate?, last: CalendarDate?
    /// The events as read (each with its case's number in ``cases`` and its record).
    let log = EventLog()

    private var caseTable = ByteKeyTable()
    private var typeCache = SmallByteCache<Int?>()
    private var eventCache = SmallByteCache<CaseEventKind?>()
    private var unitCache = ByteCache<String>()
    private var coCache = ByteCache<[String]>()
    private var categoryCache = SmallByteCache<String>()
    private var ratingCache = SmallByteCache<CaseRating??>()
    private var headCache = SmallByteCache<Bool??>()
    private var passedCache = SmallByteCache<Bool??>()
    private var levelCache = SmallByteCache<SupervisionLevel?>()

    init(_ layout: HistoryLayout, _ types: CaseTypes) {
        self.layout = layout
        self.types = types
    }

    /// Reads one row (`record`: its row number within the piece), exactly as CASES.md §5 says.
    mutating func read(_ record: Int, _ cells: CSVCells) {
        count += 1
        var ok = true
        func bad(_ key: String, _ zh: String, _ en: String) {
            errors.add(RowError(row: record, column: layout.header(key), zh: zh, en: en))
        }
        // the case: its ref (trimmed) and its type
        let refBytes = cells[layout.ref]
        let refTrim = CaseHistory.needsTrim(refBytes)
        let typeIndex = typeCache.value(cells[layout.type]) { types.position(of: $0) }
        if (refTrim ? CaseHistory.trimmed(String(decoding: refBytes, as: UTF8.self)).isEmpty : refBytes.isEmpty) {
            bad("ref", "缺少编号", "the ref is missing"); ok = false
        }
        if typeIndex == nil {
            let typeText = cells.string(layout.type)
            bad("type", "未知的类型「\(typeText)」", "unknown case type \"\(typeText)\""); ok = false
        }
        var local: Int?
        if ok, let typeIndex {
            if refTrim {
                var ref = CaseHistory.trimmed(String(decoding: refBytes, as: UTF8.self))
                let text = ref
                local = ref.withUTF8 { caseIndex($0, type: typeIndex, text: text) }
            } else {
                local = caseIndex(refBytes, type: typeIndex, text: nil)
            }
        }
        // the event
        let kind = eventCache.value(cells[layout.event]) { CaseEventKind(named: $0) }
        if kind == nil {
            let t = cells.string(layout.event)
            bad("event", "未知的事件「\(t)」", "unknown event \"\(t)\""); ok = false
        }
        let date = CaseHistory.parseDate(cells[layout.date])
        if date == nil {
            let t = cells.string(layout.date)
            bad("date", "日期「\(t)」不是 YYYY-MM-DD 日期", "the date \"\(t)\" is not a YYYY-MM-DD date"); ok = false
        }
        var e = CaseEvent(kind ?? .progress, date ?? CalendarDate(dayNumber: 0))
        let unit = cells[layout.unit]
        if !unit.isEmpty { e.unit = unitCache.value(unit) { CaseHistory.trimmed($0) } }
        let co = cells[layout.co]
        if !co.isEmpty {
            e.coUnits = coCache.value(co) {
                $0.split(whereSeparator: { $0 == ";" || $0 == "；" }).map { CaseHistory.trimmed(String($0)) }.filter { !$0.isEmpty }
            }
        }
        let due = cells[layout.due]
        if !due.isEmpty {
            if let d = CaseHistory.parseDate(due) { e.due = d } else {
                let t = CaseHistory.trimmed(String(decoding: due, as: UTF8.self))
                if !t.isEmpty {
                    bad("due", "办理期限「\(t)」不是 YYYY-MM-DD 日期", "the due date \"\(t)\" is not a YYYY-MM-DD date"); ok = false
                }
            }
        }
        let categoryBytes = cells[layout.category]
        if !categoryBytes.isEmpty {
            let cat = categoryCache.value(categoryBytes) { CaseHistory.trimmed($0) }
            if !cat.isEmpty {
                if kind == .reply { e.category = cat.uppercased() } else if kind != nil {
                    bad("category", "只有答复可以填写类别", "only a reply has a category"); ok = false
                }
            }
        }
        let ratingBytes = cells[layout.rating]
        if !ratingBytes.isEmpty {
            switch ratingCache.value(ratingBytes, { t -> CaseRating?? in
                let s = CaseHistory.trimmed(t)
                if s.isEmpty { return .some(nil) }
                if let r = CaseRating(named: s) { return .some(r) }
                return .none
            }) {
            case .some(let r): e.rating = r
            case .none:
                let t = CaseHistory.trimmed(cells.string(layout.rating))
                bad("rating", "评价「\(t)」应为 满意/基本满意/不满意", "the rating \"\(t)\" must be 满意, 基本满意 or 不满意"); ok = false
            }
        }
        let headBytes = cells[layout.head]
        if !headBytes.isEmpty {
            switch headCache.value(headBytes, { CaseHistory.parseYesNo($0) }) {
            case .some(let b): e.head = b ?? false
            case .none:
                let t = cells.string(layout.head)
                bad("head", "一把手参与「\(t)」应为 是/否", "head \"\(t)\" must be yes or no"); ok = false
            }
        }
        let passedBytes = cells[layout.passed]
        if !passedBytes.isEmpty {
            switch passedCache.value(passedBytes, { CaseHistory.parseYesNo($0, yes: "通过", no: "不通过") }) {
            case .some(let b): e.passed = b
            case .none:
                let t = cells.string(layout.passed)
                bad("passed", "验收结果「\(t)」应为 通过/不通过", "passed \"\(t)\" must be 通过 or 不通过"); ok = false
            }
        }
        let note = cells[layout.note]
        if !note.isEmpty { e.note = CaseHistory.trimmed(String(decoding: note, as: UTF8.self)) }
        let levelBytes = cells[layout.level]
        if !levelBytes.isEmpty {
            if let l = levelCache.value(levelBytes, { SupervisionLevel(named: $0) }) { e.level = l } else {
                let t = cells.string(layout.level)
                bad("level", "督办级别「\(t)」应为 一般/重点/挂牌督办", "the level \"\(t)\" must be 一般, 重点 or 挂牌督办"); ok = false
            }
        }
        guard let local else { return }
        guard ok else { cases[local].broken = true; return }
        let title = cells[layout.title]
        if !title.isEmpty {
            let t = String(decoding: title, as: UTF8.self)
            if cases[local].title.isEmpty || kind == .register { cases[local].title = t }
            if kind == .register { cases[local].registerTitle = t }
        }
        if kind == .register {
            let parcel = CaseHistory.trimmed(cells.string(layout.parcel)), code = CaseHistory.trimmed(cells.string(layout.code))
            if !parcel.isEmpty { cases[local].parcel = parcel }
            if !code.isEmpty { cases[local].code = code }
        }
        log.append(e, case: local, row: record)
        if let d = date {
            if first == nil || d < first! { first = d }
            if last == nil || d > last! { last = d }
        }
    }

    /// The piece's number of the case (`type`, `ref`), a new one when first seen.
    private mutating func caseIndex(_ ref: UnsafeBufferPointer<UInt8>, type: Int, text: String?) -> Int {
        let (k, new) = caseTable.index(of: ref, tag: type)
        if new { cases.append(HistoryPieceCase(key: HistoryCaseKey(type: type, ref: text ?? String(decoding: ref, as: UTF8.self)))) }
        return k
    }
}

extension CaseHistory {
    /// Whether `b` (valid UTF-8) starts or ends with what ``trimmed(_:)`` may remove; when not, the
    /// cell's text is its own trimmed form.
    @inline(__always) static func needsTrim(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let f = b.first, let l = b.last else { return false }
        if f < 0x80 && l < 0x80 { return mayTrim(UInt32(f)) || mayTrim(UInt32(l)) }
        @inline(__always) func scalar(at i: Int) -> UInt32 {
            let lead = b[i]
            if lead < 0x80 { return UInt32(lead) }
            let n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
            var v = UInt32(lead) & (n == 4 ? 0x07 : n == 3 ? 0x0F : 0x1F)
            for k in 1..<n where i + k < b.count { v = v << 6 | UInt32(b[i + k] & 0x3F) }
            return v
        }
        var last = b.count - 1
        while last > 0 && b[last] & 0xC0 == 0x80 && b.count - last < 4 { last -= 1 }
        return mayTrim(scalar(at: 0)) || mayTrim(scalar(at: last))
    }

    /// A date cell's bytes (`YYYY-MM-DD` read directly; anything else as ``parseDate(_:)-swift.type.method`` reads it).
    @inline(__always) static func parseDate(_ b: UnsafeBufferPointer<UInt8>) -> CalendarDate? {
        if b.count == 10, b[4] == 0x2D, b[7] == 0x2D {
            // four digits, '-', two, '-', two: a date when it exists and its year is from 1900
            if let d = CalendarDate(utf8: b) { return d.year >= 1900 ? d : nil }
        }
        if b.isEmpty { return nil }
        return parseDate(String(decoding: b, as: UTF8.self))
    }
}

/// Byte strings (each with a small integer tag) numbered in order of first insertion: an open-addressing
/// table over one arena of bytes, with no String and no allocation per lookup.
///
/// A slot holds the key's hash, tag, length and first 16 bytes, so that a lookup of a short key (a
/// case number) reads one slot and nothing else: tables of a hundred thousand keys do not fit in a
/// cache, and every other array read would be a miss of its own.
struct ByteKeyTable {
    private struct Slot {
        var hash: UInt64 = 0
        var index: Int32 = -1
        var tag: Int32 = 0
        var length: Int = 0
        var head0: UInt64 = 0
        var head1: UInt64 = 0
    }
    private var slots: [Slot]
    private var starts: [Int] = []
    private var arena: [UInt8] = []

    var count: Int { starts.count }

    /// A table for about `capacity` keys before it grows.
    init(capacity: Int = 32) {
        var n = 64
        while n < capacity * 2 { n *= 2 }
        slots = [Slot](repeating: Slot(), count: n)
    }

    /// The key's hash and its first 16 bytes (zero after its end) as two words: a key of up to 16
    /// bytes read in at most four loads, longer ones hashed whole.
    @inline(__always) static func key(_ b: UnsafeBufferPointer<UInt8>, tag: Int) -> (hash: UInt64, w0: UInt64, w1: UInt64) {
        let n = b.count
        var w0: UInt64 = 0, w1: UInt64 = 0
        if let p = b.baseAddress, n > 0 {
            let raw = UnsafeRawPointer(p)
            if n >= 16 {
                w0 = raw.loadUnaligned(as: UInt64.self); w1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            } else if n > 8 {
                // bytes 8..<n: the last eight bytes, shifted down past the ones the first word holds
                w0 = raw.loadUnaligned(as: UInt64.self)
                w1 = raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) >> UInt64(8 * (16 - n))
            } else if n == 8 {
                w0 = raw.loadUnaligned(as: UInt64.self)
            } else if n >= 4 {
                // two overlapping four-byte loads (the bytes they share are the same bytes)
                let lo = UInt64(raw.loadUnaligned(as: UInt32.self))
                let hi = UInt64(raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
                w0 = lo | hi << UInt64(8 * (n - 4))
            } else {
                for i in 0..<n { w0 |= UInt64(p[i]) << UInt64(8 * i) }
            }
        }
        var h = UInt64(truncatingIfNeeded: tag) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
        h = (h ^ w0) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 29
        h = (h ^ w1) &* 0xC4CE_B9FE_1A85_EC53
        if n > 16, let p = b.baseAddress {
            var i = 16
            while i + 8 <= n {
                h = (h ^ UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 29
                i += 8
            }
            var tail: UInt64 = 0, shift: UInt64 = 0
            while i < n { tail |= UInt64(p[i]) << shift; shift += 8; i += 1 }
            h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        }
        return (h ^ (h >> 32), w0, w1)
    }

    /// The number of `b` (with `tag`), and whether it was new.
    mutating func index(of b: UnsafeBufferPointer<UInt8>, tag: Int = 0) -> (Int, Bool) {
        let (h, w0, w1) = ByteKeyTable.key(b, tag: tag)
        let n = b.count, t = Int32(truncatingIfNeeded: tag)
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: h) & mask
        let found: Int? = slots.withUnsafeBufferPointer { slots in
            while true {
                let slot = slots[s]
                if slot.index < 0 { return nil }
                if slot.hash == h, slot.tag == t, slot.length == n, slot.head0 == w0, slot.head1 == w1, n <= 16 || rest(Int(slot.index), b) {
                    return Int(slot.index)
                }
                s = (s + 1) & mask
            }
        }
        if let found { return (found, false) }
        let k = starts.count
        starts.append(arena.count)
        if n > 16 { arena.append(contentsOf: UnsafeBufferPointer(rebasing: b[16...])) }
        slots[s] = Slot(hash: h, index: Int32(k), tag: t, length: n, head0: w0, head1: w1)
        if starts.count * 2 > slots.count { grow() }
        return (k, true)
    }

    /// Whether the bytes of key `k` after its first 16 are those of `b` (of the same length).
    @inline(__always) private func rest(_ k: Int, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[k]
        return arena.withUnsafeBufferPointer { a in memcmp(a.baseAddress! + start, b.baseAddress! + 16, b.count - 16) == 0 }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.index >= 0 {
            var s = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[s].index >= 0 { s = (s + 1) & mask }
            slots[s] = slot
        }
    }
}

/// What a function of a cell's text gives, worked out once per distinct text (by its bytes).
struct ByteCache<V> {
    private var keys = ByteKeyTable()
    private var values: [V] = []

    @inline(__always) mutating func value(_ b: UnsafeBufferPointer<UInt8>, _ compute: (String) -> V) -> V {
        let (k, new) = keys.index(of: b)
        if new { values.append(compute(b.isEmpty ? "" : String(decoding: b, as: UTF8.self))) }
        return values[k]
    }
}

/// Texts made once per distinct value from bytes (units, types, states read a hundred thousand times).
///
/// ```swift
/// var strings = TextInterner()
/// let unit = bytes.withUnsafeBufferPointer { strings.text($0) }
/// ```
public struct TextInterner {
    private var cache = ByteCache<String>()
    public init() {}
    /// The text of `b` (valid UTF-8).
    @inline(__always) public mutating func text(_ b: UnsafeBufferPointer<UInt8>) -> String {
        if b.isEmpty { return "" }
        return cache.value(b) { $0 }
    }
}

/// A ``ByteCache`` for a column of few distinct texts (types, events, ratings): up to 32 of them
/// compared by length and first bytes before any hashing, the rest in the table.
struct SmallByteCache<V> {
    private var lengths: [Int] = []
    private var prefixes: [UInt64] = []
    private var keys: [[UInt8]] = []
    private var values: [V] = []
    private var more = ByteCache<V>()

    @inline(__always) static func prefix(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let p = b.baseAddress else { return 0 }
        if b.count >= 8 { return UnsafeRawPointer(p).loadUnaligned(as: UInt64.self) }
        var w: UInt64 = 0
        for i in 0..<b.count { w |= UInt64(p[i]) << (8 * UInt64(i)) }
        return w
    }

    @inline(__always) mutating func value(_ b: UnsafeBufferPointer<UInt8>, _ compute: (String) -> V) -> V {
        let n = b.count, w = SmallByteCache.prefix(b)
        for i in 0..<lengths.count where lengths[i] == n && prefixes[i] == w {
            if n <= 8 { return values[i] }
            let equal = keys[i].withUnsafeBufferPointer { k in memcmp(k.baseAddress! + 8, b.baseAddress! + 8, n - 8) == 0 }
            if equal { return values[i] }
        }
        if lengths.count >= 32 { return more.value(b, compute) }
        let v = compute(n == 0 ? "" : String(decoding: b, as: UTF8.self))
        lengths.append(n); prefixes.append(w); keys.append(Array(b)); values.append(v)
        return v
    }
}

/// A piece's events as read (with their case and record), kept in memory of its own without array
/// bookkeeping per event, until each is moved — not copied — into its case (``LoggedEvents``).
final class EventLog {
    private(set) var events: UnsafeMutablePointer<CaseEvent>
    /// The case of each event: the piece's number, then (``renumber(_:)``) the whole file's.
    private(set) var caseOf: UnsafeMutablePointer<Int32>
    private(set) var rowOf: UnsafeMutablePointer<Int>
    private var capacity = 1 << 14
    /// Events held (none once they were moved out).
    private(set) var count = 0

    init() {
        events = .allocate(capacity: capacity); caseOf = .allocate(capacity: capacity); rowOf = .allocate(capacity: capacity)
    }

    deinit {
        events.deinitialize(count: count)
        events.deallocate(); caseOf.deallocate(); rowOf.deallocate()
    }

    @inline(__always) func append(_ e: consuming CaseEvent, case c: Int, row: Int) {
        if count == capacity { grow() }
        (events + count).initialize(to: e)
        caseOf[count] = Int32(truncatingIfNeeded: c)
        rowOf[count] = row
        count += 1
    }

    private func grow() {
        let n = capacity * 2
        let e = UnsafeMutablePointer<CaseEvent>.allocate(capacity: n)
        e.moveInitialize(from: events, count: count)
        events.deallocate(); events = e
        let c = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        c.moveInitialize(from: caseOf, count: count)
        caseOf.deallocate(); caseOf = c
        let r = UnsafeMutablePointer<Int>.allocate(capacity: n)
        r.moveInitialize(from: rowOf, count: count)
        rowOf.deallocate(); rowOf = r
        capacity = n
    }

    /// Replaces each event's case number `k` by `numbers[k]`.
    func renumber(_ numbers: [Int32]) {
        numbers.withUnsafeBufferPointer { n in
            for i in 0..<count { caseOf[i] = n[Int(caseOf[i])] }
        }
    }

    /// Declares every event moved out: the log no longer deinitializes them.
    func forgetMoved() { count = 0 }
}

/// The events of several pieces' logs by case of the whole file: ``ordered(_:into:)`` finds a case's
/// events in order of (date, row), ``take(_:)`` moves them out of the logs. Each case is taken once,
/// cases on several threads at once; ``finish()`` after every case was taken.
struct LoggedEvents: @unchecked Sendable {
    private let logs: [EventLog]
    private let events: [UnsafeMutablePointer<CaseEvent>]
    private let rows: [UnsafeMutablePointer<Int>]
    /// The row number of each log's first record.
    private let rowBase: [Int]
    /// Case `c`'s events are `slots[starts[c]..<starts[c + 1]]`, each as (log << 40 | index).
    private let starts: [Int]
    private let slots: [UInt64]

    /// `logs` in file order, their events numbered by case (``EventLog/renumber(_:)``) among `cases`.
    init(_ logs: [EventLog], rowBase: [Int], cases: Int) {
        self.logs = logs; self.rowBase = rowBase
        events = logs.map(\.events); rows = logs.map(\.rowOf)
        var starts = [Int](repeating: 0, count: cases + 1)
        for log in logs { for i in 0..<log.count { starts[Int(log.caseOf[i]) + 1] += 1 } }
        for c in 0..<cases { starts[c + 1] += starts[c] }
        var next = starts
        var slots = [UInt64](repeating: 0, count: starts[cases])
        for (l, log) in logs.enumerated() {
            for i in 0..<log.count {
                let c = Int(log.caseOf[i])
                slots[next[c]] = UInt64(l) << 40 | UInt64(i)
                next[c] += 1
            }
        }
        self.starts = starts; self.slots = slots
    }

    /// Where one event of a case lies in the logs, and the row it came from.
    struct Slot {
        var event: UnsafeMutablePointer<CaseEvent>
        var row: Int
    }

    /// Case `c`'s events in order of (date, row) — file order, unless a date goes back — into `out`
    /// (emptied first), left where they are.
    func ordered(_ c: Int, into out: inout [Slot]) {
        out.removeAll(keepingCapacity: true)
        var sorted = true
        for k in starts[c]..<starts[c + 1] {
            let slot = slots[k], l = Int(slot >> 40), i = Int(slot & 0xFF_FFFF_FFFF)
            let s = Slot(event: events[l] + i, row: rows[l][i] + rowBase[l])
            if let last = out.last, s.event.pointee.date < last.event.pointee.date { sorted = false }
            out.append(s)
        }
        if !sorted { out.sort { ($0.event.pointee.date, $0.row) < ($1.event.pointee.date, $1.row) } }
    }

    /// The events at `slots` (one case's, each taken once), moved out of the logs in that order, and their rows.
    func take(_ slots: [Slot]) -> (events: [CaseEvent], rows: [Int]) {
        let moved = [CaseEvent](unsafeUninitializedCapacity: slots.count) { buf, initialized in
            for (k, s) in slots.enumerated() { (buf.baseAddress! + k).moveInitialize(from: s.event, count: 1) }
            initialized = slots.count
        }
        return (moved, slots.map(\.row))
    }

    /// Every case was taken: the logs no longer hold (nor deinitialize) the events.
    func finish() { for log in logs { log.forgetMoved() } }
}
