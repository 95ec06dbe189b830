import Foundation

/// A quota journal file (LEDGER.md §4): one posting a row, CSV (UTF-8/GB18030) or XLSX, Chinese
/// or English headers. Reading checks only what makes a file unreadable — a date that is not a
/// date, an amount or grade holding text, an unknown action, a seq used twice, a missing seq, date
/// or action column — and names every such row; what the rules refuse is the ledger's.
///
/// ```swift
/// let journal = try QuotaJournal(table: TableReader.open(url: url))
/// var ledger = QuotaLedger(project: project)
/// for p in journal.postings { if let why = ledger.post(p) { print(p.row, why) } }
/// ```
public struct QuotaJournal: Sendable {
    public static let fields: [FieldSpec] = [
        FieldSpec(key: "seq", chinese: "序号", required: true),
        FieldSpec(key: "date", chinese: "日期", required: true),
        FieldSpec(key: "action", chinese: "动作", required: true),
        FieldSpec(key: "town", chinese: "镇街"),
        FieldSpec(key: "to_town", chinese: "调入镇街"),
        FieldSpec(key: "quota", chinese: "指标类型"),
        FieldSpec(key: "amount", chinese: "数量(亩)"),
        FieldSpec(key: "amount_plain", chinese: "数量"),
        FieldSpec(key: "grade", chinese: "等别"),
        FieldSpec(key: "reverses", chinese: "冲正序号"),
        FieldSpec(key: "note", chinese: "说明"),
    ]

    /// The postings, in row order.
    public var postings: [QuotaPosting]

    /// Postings made elsewhere (already read and numbered).
    public init(postings: [QuotaPosting]) { self.postings = postings }

    /// Reads every row; throws an ``ImportFailure`` naming every unreadable row (nothing is
    /// posted from a file that cannot be read). A CSV file is read in pieces at once.
    public init(table: any TableSource) throws(ImportFailure) {
        let m = HeaderMatcher(headers: table.headers, fields: Self.fields)
        try m.checkRequired()
        let layout = Layout(m)
        var pieces = try TableReader.cellsInPieces(table, parts: Parallel.cores * 2, make: { _ in Piece(layout) }) { piece, record, cells in
            piece.read(record, cells)
        }
        var errors = RowErrorCollector()
        var postings: [QuotaPosting] = []
        postings.reserveCapacity(pieces.reduce(0) { $0 + $1.state.postings.count })
        // seq → (row, ordinal of the posting; -1 for an unreadable row)
        var seen: [String: (row: Int, ordinal: Int)] = [:]
        seen.reserveCapacity(postings.capacity)
        var pending: [RowError] = []
        func see(_ seq: String, _ row: Int, _ ordinal: Int) {
            guard !seq.isEmpty else { return }
            if let first = seen.updateValue((row, ordinal), forKey: seq) {
                seen[seq] = first
                pending.append(RowError(row: row, column: m.header(of: "seq"),
                                        zh: "序号 \(seq) 与第 \(first.row) 行重复", en: "seq \(seq) is used on row \(first.row) already"))
            }
        }
        for p in pieces.indices {
            let offset = pieces[p].firstRow
            var piece = pieces[p].state
            pieces[p].state = Piece(layout)  // (let go of the piece's copy as we go)
            pending.append(contentsOf: piece.errors.errors.map { var e = $0; e.row += offset; return e })
            // the seqs in row order: the postings' and those of unreadable rows (a repeat is named either way);
            // a reversal's target resolved to the earlier posting with that seq
            var k = 0
            let base = postings.count
            piece.postings.withUnsafeMutableBufferPointer { list in
                for i in list.indices {
                    list[i].row += offset
                    let row = list[i].row
                    while k < piece.unreadSeqs.count, piece.unreadSeqs[k].row + offset < row {
                        see(piece.unreadSeqs[k].seq, piece.unreadSeqs[k].row + offset, -1); k += 1
                    }
                    list[i].ordinal = base + i
                    if list[i].action == .reverse, !list[i].reverses.isEmpty, let t = seen[list[i].reverses], t.ordinal >= 0 {
                        list[i].reversesOrdinal = t.ordinal
                    }
                    see(list[i].seq, row, base + i)
                }
            }
            while k < piece.unreadSeqs.count { see(piece.unreadSeqs[k].seq, piece.unreadSeqs[k].row + offset, -1); k += 1 }
            postings.append(contentsOf: piece.postings)
            piece.postings = []
        }
        pending.sort { $0.row < $1.row }
        for e in pending { errors.add(e) }
        if let failure = errors.failure() { throw failure }
        self.postings = postings
    }

    /// Where the fields are, and their headers for messages.
    struct Layout: Sendable {
        var seq: Int, date: Int, action: Int
        var town: Int?, toTown: Int?, quota: Int?, amount: Int?, grade: Int?, reverses: Int?, note: Int?
        var headers: [String: String]
        init(_ m: HeaderMatcher) {
            seq = m.index(of: "seq")!; date = m.index(of: "date")!; action = m.index(of: "action")!
            town = m.index(of: "town"); toTown = m.index(of: "to_town"); quota = m.index(of: "quota")
            amount = m.index(of: "amount") ?? m.index(of: "amount_plain"); grade = m.index(of: "grade")
            reverses = m.index(of: "reverses"); note = m.index(of: "note")
            headers = Dictionary(uniqueKeysWithValues: QuotaJournal.fields.map { ($0.key, m.header(of: $0.key)) })
            if m.index(of: "amount") == nil, m.index(of: "amount_plain") != nil { headers["amount"] = m.header(of: "amount_plain") }
        }
    }

    /// One piece of the file: its postings (rows relative to the piece) and unreadable rows.
    struct Piece: Sendable {
        let layout: Layout
        var postings: [QuotaPosting] = []
        /// The seqs of unreadable rows (still checked for repeats).
        var unreadSeqs: [(row: Int, seq: String)] = []
        var errors = RowErrorCollector()
        init(_ layout: Layout) { self.layout = layout }

        static let actions: [(String, QuotaAction)] = [("入账", .credit), ("使用", .use), ("调剂", .transfer), ("冲正", .reverse),
                                                      ("credit", .credit), ("use", .use), ("transfer", .transfer), ("reverse", .reverse)]
        static let quotas: [(String, QuotaType)] = [("新增耕地", .newFarmland), ("建设用地复垦", .reclaimedConstruction),
                                                    ("永久基本农田", .basicFarmland), ("new_farmland", .newFarmland),
                                                    ("reclaimed_construction", .reclaimedConstruction), ("basic_farmland", .basicFarmland)]

        /// Without the spaces around it: ASCII space and tab, no-break space (U+00A0) and the
        /// ideographic space (U+3000) a Chinese keyboard types.
        @inline(__always) static func trimmed(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
            guard let base = b.baseAddress else { return b }
            var lo = 0, hi = b.count
            while lo < hi {
                let c = b[lo]
                if c == 0x20 || c == 0x09 { lo += 1 }
                else if c == 0xC2, lo + 1 < hi, b[lo + 1] == 0xA0 { lo += 2 }
                else if c == 0xE3, lo + 2 < hi, b[lo + 1] == 0x80, b[lo + 2] == 0x80 { lo += 3 }
                else { break }
            }
            while hi > lo {
                let c = b[hi - 1]
                if c == 0x20 || c == 0x09 { hi -= 1 }
                else if c == 0xA0, hi - 2 >= lo, b[hi - 2] == 0xC2 { hi -= 2 }
                else if c == 0x80, hi - 3 >= lo, b[hi - 2] == 0x80, b[hi - 3] == 0xE3 { hi -= 3 }
                else { break }
            }
            return UnsafeBufferPointer(start: base + lo, count: hi - lo)
        }

        @inline(__always) static func string(_ b: UnsafeBufferPointer<UInt8>) -> String {
            b.isEmpty ? "" : String(decoding: b, as: UTF8.self)
        }

        @inline(__always) static func match<T>(_ b: UnsafeBufferPointer<UInt8>, _ table: [(String, T)]) -> T? {
            for (name, value) in table {
                var n = name
                if n.withUTF8({ $0.elementsEqual(b) }) { return value }
            }
            return nil
        }

        mutating func read(_ record: Int, _ cells: CSVCells) {
            let l = layout
            func cell(_ i: Int?) -> UnsafeBufferPointer<UInt8> { i.map { Self.trimmed(cells[$0]) } ?? UnsafeBufferPointer(start: nil, count: 0) }
            var bad = false
            func fail(_ key: String, _ zh: String, _ en: String) {
                errors.add(RowError(row: record, column: l.headers[key] ?? key, zh: zh, en: en)); bad = true
            }
            let seq = Self.string(cell(l.seq))
            if seq.isEmpty { fail("seq", "序号为空", "the seq is empty") }
            let dateCell = cell(l.date)
            let date = CalendarDate(utf8: dateCell)
            if date == nil { fail("date", "日期「\(Self.string(dateCell))」不是 YYYY-MM-DD 日期", "\"\(Self.string(dateCell))\" is not a YYYY-MM-DD date") }
            let actionCell = cell(l.action)
            let action = Self.match(actionCell, Self.actions) ?? QuotaAction(cell: Self.string(actionCell))
            if action == nil {
                fail("action", "动作「\(Self.string(actionCell))」不是 入账/使用/调剂/冲正", "action \"\(Self.string(actionCell))\" is not credit/use/transfer/reverse")
            }
            let amount = QuotaAmount.parse(bytes: cell(l.amount))
            if amount == .text { fail("amount", "数量「\(Self.string(cell(l.amount)))」不是数字", "amount \"\(Self.string(cell(l.amount)))\" is not a number") }
            let grade = QuotaAmount.parse(bytes: cell(l.grade))
            if grade == .text { fail("grade", "等别「\(Self.string(cell(l.grade)))」不是数字", "grade \"\(Self.string(cell(l.grade)))\" is not a number") }
            guard !bad, let date, let action else { unreadSeqs.append((record, seq)); return }
            let quotaCell = cell(l.quota)
            let quota = quotaCell.isEmpty ? nil : (Self.match(quotaCell, Self.quotas) ?? QuotaType(cell: Self.string(quotaCell)))
            postings.append(QuotaPosting(row: record, seq: seq, date: date, action: action, town: Self.string(cell(l.town)),
                                         toTown: Self.string(cell(l.toTown)), quota: quota, amount: amount, grade: grade,
                                         reverses: Self.string(cell(l.reverses)), note: Self.string(cell(l.note))))
        }
    }
}

/// `mujun quota replay`: a journal processed in row order (LEDGER.md §3–§4), the balances of
/// every (town, type) — at a date when asked — and every refused row with its reason.
///
/// ```swift
/// let r = QuotaReplay(project: project, postings: journal.postings, asOf: CalendarDate("2026-06-30"))
/// print(r.balancesCSV(), r.refusedCSV())
/// ```
public struct QuotaReplay: Sendable {
    public var project: QuotaProject
    public var ledger: QuotaLedger
    /// The refused rows, in row order.
    public var refused: [(row: Int, seq: String, refusal: QuotaRefusal)] = []
    /// The balances reported: at `asOf`, or after the whole journal.
    public var balances: [(town: String, quota: QuotaType, balance: QuotaLedger.Balance)]

    public init(project: QuotaProject, postings: [QuotaPosting], asOf: CalendarDate? = nil) {
        self.project = project
        var ledger = QuotaLedger(project: project)
        var refused: [(row: Int, seq: String, refusal: QuotaRefusal)] = []
        for p in postings {
            if let why = ledger.post(p) { refused.append((p.row, p.seq, why)) }
        }
        self.ledger = ledger
        self.refused = refused
        balances = asOf.map { ledger.balances(asOf: $0) } ?? ledger.allBalances
    }

    /// balances.csv: `town,quota,credited,used,transferred_in,transferred_out,balance`, four decimals.
    public func balancesCSV() -> String {
        var out = "town,quota,credited,used,transferred_in,transferred_out,balance\n"
        for (town, q, b) in balances {
            out += [Self.quote(town), q.key, QuotaAmount.format(b.credited), QuotaAmount.format(b.used),
                    QuotaAmount.format(b.transferredIn), QuotaAmount.format(b.transferredOut), QuotaAmount.format(b.balance)]
                .joined(separator: ",") + "\n"
        }
        return out
    }

    /// refused.csv: `row,seq,reason`.
    public func refusedCSV() -> String {
        var out: [UInt8] = Array("row,seq,reason\n".utf8)
        out.reserveCapacity(refused.count * 160)
        for r in refused {
            out.append(contentsOf: String(r.row).utf8)
            out.append(0x2C)
            Self.quote(r.seq, into: &out)
            out.append(0x2C)
            Self.quote(r.refusal.description, into: &out)
            out.append(0x0A)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break.
    static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        quote(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func quote(_ s: String, into out: inout [UInt8]) {
        let u = s.utf8
        guard u.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { out.append(contentsOf: u); return }
        out.append(0x22)
        for c in u {
            if c == 0x22 { out.append(0x22) }
            out.append(c)
        }
        out.append(0x22)
    }
}

extension QuotaLedger {
    /// The balances at the end of `day`: the accepted entries dated on or before it (a reversal
    /// dated later changes nothing then), in the project's town order and §1's type order.
    public func balances(asOf day: CalendarDate) -> [(town: String, quota: QuotaType, balance: Balance)] {
        var b = Array(repeating: Balance(), count: project.towns.count * 3)
        for e in entries where e.date <= day {
            let a = e.units * e.sign
            switch e.base {
            case .credit: b[e.town * 3 + e.quota.rawValue].credited += a
            case .use: b[e.town * 3 + e.quota.rawValue].used += a
            case .transfer:
                b[e.town * 3 + e.quota.rawValue].transferredOut += a
                b[e.toTown * 3 + e.quota.rawValue].transferredIn += a
            case .reverse: break
            }
        }
        return project.towns.enumerated().flatMap { (t, name) in QuotaType.allCases.map { (name, $0, b[t * 3 + $0.rawValue]) } }
    }
}
