import Foundation
import Testing
@testable import MujunCore

/// The quota ledger (LEDGER.md, issue 11): each rule of §3 at its edge, reversals, balances at a
/// date, the journal reader's unreadable rows, and random sequences that never break an invariant.
@Suite("Quota ledger: LEDGER.md §1–§4")
struct QuotaTests {
    static let project = try! QuotaProject(yaml: "name: 全域土地综合整治试点\ntowns: [古山镇, 方岩镇, 舟山镇]\nstart: 2025-01-01\nmargin: 0.05\n")
    static let d1 = CalendarDate("2025-01-02")!, d2 = CalendarDate("2025-01-03")!, d3 = CalendarDate("2025-01-04")!

    static func p(_ seq: Int, _ action: QuotaAction, _ town: String, _ q: QuotaType?, _ amount: String, grade: String = "",
                  to: String = "", reverses: Int? = nil, note: String = "", on date: CalendarDate = d1) -> QuotaPosting {
        QuotaPosting(row: seq + 1, seq: String(seq), date: date, action: action, town: town, toTown: to, quota: q,
                     amount: QuotaAmount.parse(amount), grade: QuotaAmount.parse(grade), reverses: reverses.map(String.init) ?? "", note: note)
    }

    static func rev(_ seq: Int, _ target: Int, note: String = "录入错误", on date: CalendarDate = d1) -> QuotaPosting {
        QuotaPosting(row: seq + 1, seq: String(seq), date: date, action: .reverse, reverses: String(target), note: note)
    }

    @Test("amounts are exact ten-thousandths: four decimals, trailing zeros dropped, text and signs told apart")
    func amounts() {
        #expect(QuotaAmount.parse("12.5") == .value(QuotaAmount(units: 125_000)))
        #expect(QuotaAmount.parse(" 1.50000 ") == .value(QuotaAmount(units: 15_000)))
        #expect(QuotaAmount.parse("0.0001") == .value(QuotaAmount(units: 1)))
        #expect(QuotaAmount.parse("0.00001") == .tooPrecise)
        #expect(QuotaAmount.parse(".5") == .value(QuotaAmount(units: 5_000)))
        #expect(QuotaAmount.parse("7.") == .value(QuotaAmount(units: 70_000)))
        #expect(QuotaAmount.parse("-1") == .value(QuotaAmount(units: -10_000)))
        #expect(QuotaAmount.parse("") == .empty)
        for text in ["abc", "1,000", "1e3", "12亩", ".", "--1", "1.2.3"] { #expect(QuotaAmount.parse(text) == .text, "\(text)") }
        #expect(QuotaAmount.parse("1000000000000") == .tooLarge)
        #expect(QuotaAmount.parse("999999999999.9999") == .value(QuotaAmount(units: 9_999_999_999_999_999)))
        #expect(QuotaAmount(units: 125_000).description == "12.5000" && QuotaAmount(units: -30_000).description == "-3.0000"
                && QuotaAmount(units: 1).description == "0.0001" && QuotaAmount.zero.description == "0.0000")
    }

    @Test("rule 5: a use of 0.0001 mu more than the balance is refused, exactly the balance is accepted; the refusal names the figures")
    func balanceEdge() {
        var l = QuotaLedger(project: Self.project)
        #expect(l.post(Self.p(1, .credit, "舟山镇", .newFarmland, "12.5", grade: "6")) == nil)
        let over = l.post(Self.p(2, .use, "舟山镇", .newFarmland, "12.5001", grade: "6"))
        #expect(over?.rule == 5)
        #expect(over?.zh == "舟山镇 新增耕地 余额 12.5000 亩，本次使用 12.5001 亩")
        #expect(l.balance(town: "舟山镇", .newFarmland).balance == 125_000, "the refusal left no trace")
        #expect(l.post(Self.p(3, .use, "舟山镇", .newFarmland, "12.5", grade: "6")) == nil)
        #expect(l.balance(town: "舟山镇", .newFarmland).balance == 0)
        // a transfer lowers the giving town only; the same edge
        #expect(l.post(Self.p(4, .credit, "古山镇", .reclaimedConstruction, "7")) == nil)
        #expect(l.post(Self.p(5, .transfer, "古山镇", .reclaimedConstruction, "7.0001", to: "方岩镇"))?.rule == 5)
        #expect(l.post(Self.p(6, .transfer, "古山镇", .reclaimedConstruction, "7", to: "方岩镇")) == nil)
        #expect(l.balance(town: "方岩镇", .reclaimedConstruction).transferredIn == 70_000 && l.balance(town: "古山镇", .reclaimedConstruction).balance == 0)
        // basic farmland has no per-town floor (its rule is 6)
        #expect(l.post(Self.p(7, .credit, "古山镇", .basicFarmland, "10.5")) == nil)
        #expect(l.post(Self.p(8, .use, "方岩镇", .basicFarmland, "10")) == nil)
        #expect(l.balance(town: "方岩镇", .basicFarmland).balance == -100_000)
    }

    @Test("rule 6: basic farmland added back exactly (1 + margin) × moved out is allowed, 0.0001 mu less is refused")
    func marginEdge() {
        var l = QuotaLedger(project: Self.project)
        #expect(l.post(Self.p(1, .use, "古山镇", .basicFarmland, "0.0001"))?.rule == 6, "nothing added back yet")
        #expect(l.post(Self.p(2, .credit, "古山镇", .basicFarmland, "21")) == nil)
        #expect(l.post(Self.p(3, .use, "方岩镇", .basicFarmland, "20.0001"))?.rule == 6)
        #expect(l.post(Self.p(4, .use, "方岩镇", .basicFarmland, "20")) == nil, "21 = 1.05 × 20 exactly")
        // a reversal of part of the added-back area would break it: refused as rule 8 naming rule 6
        let r = l.post(Self.rev(5, 2))
        #expect(r?.rule == 8 && r?.zh.contains("规则6") == true)
        #expect(l.basicAdded == 210_000 && l.basicOut == 200_000)
        // a margin of 0 allows exactly equal
        var zero = QuotaLedger(project: try! QuotaProject(name: "p", towns: ["甲镇", "乙镇"], start: Self.d1, margin: "0"))
        #expect(zero.post(Self.p(1, .credit, "甲镇", .basicFarmland, "3")) == nil)
        #expect(zero.post(Self.p(2, .use, "乙镇", .basicFarmland, "3")) == nil)
        #expect(zero.post(Self.p(3, .use, "乙镇", .basicFarmland, "0.0001"))?.rule == 6)
    }

    @Test("rule 7: equal weighted grades are allowed, a worse credited grade is refused, compared exactly; a grade must be a whole number 1–15")
    func gradeEdge() {
        var l = QuotaLedger(project: Self.project)
        #expect(l.post(Self.p(1, .credit, "古山镇", .newFarmland, "10", grade: "6")) == nil)
        #expect(l.post(Self.p(2, .use, "古山镇", .newFarmland, "3", grade: "6")) == nil, "equal grades")
        // a credit of grade 7: credited (60 + 7)/11 ≈ 6.09 > 6 used → refused
        #expect(l.post(Self.p(3, .credit, "方岩镇", .newFarmland, "1", grade: "7"))?.rule == 7)
        // credited 6, used (3 × 6 + 3 × 5)/6 = 5.5: the use of grade 5 makes the credited worse → refused
        #expect(l.post(Self.p(4, .use, "古山镇", .newFarmland, "3", grade: "5"))?.rule == 7)
        // a better credit first: (60 + 2 × 3)/12 = 5.5; then the use of grade 5: used (18 + 15)/6 = 5.5 = credited → allowed
        #expect(l.post(Self.p(5, .credit, "方岩镇", .newFarmland, "2", grade: "3")) == nil)
        #expect(l.post(Self.p(6, .use, "古山镇", .newFarmland, "3", grade: "5")) == nil, "5.5 against 5.5 exactly")
        // not a whole number 1–15, or missing, on new farmland: refused; ignored elsewhere
        #expect(l.post(Self.p(7, .credit, "古山镇", .newFarmland, "1", grade: "2.5"))?.rule == 7)
        #expect(l.post(Self.p(8, .credit, "古山镇", .newFarmland, "1", grade: "16"))?.rule == 7)
        #expect(l.post(Self.p(9, .credit, "古山镇", .newFarmland, "1"))?.rule == 7)
        #expect(l.post(Self.p(10, .credit, "古山镇", .newFarmland, "1", grade: "3.0")) == nil, "3.0 is the whole number 3")
        #expect(l.post(Self.p(11, .credit, "古山镇", .reclaimedConstruction, "1", grade: "2.5")) == nil)
        // before any use, the grade rule does not bind
        var fresh = QuotaLedger(project: Self.project)
        #expect(fresh.post(Self.p(1, .credit, "古山镇", .newFarmland, "1", grade: "15")) == nil)
        #expect(fresh.post(Self.p(2, .use, "古山镇", .newFarmland, "1", grade: "14"))?.rule == 7, "the first use is checked too")
    }

    @Test("rules 1–4: towns, types, amounts, transfers and dates; a refusal moves no date")
    func shapeRules() {
        var l = QuotaLedger(project: Self.project)
        #expect(l.post(Self.p(1, .credit, "横店镇", .reclaimedConstruction, "1"))?.rule == 1)
        #expect(l.post(Self.p(2, .transfer, "古山镇", .reclaimedConstruction, "1", to: ""))?.rule == 1)
        #expect(l.post(Self.p(3, .credit, "古山镇", nil, "1"))?.rule == 1)
        #expect(l.post(Self.p(4, .credit, "古山镇", .reclaimedConstruction, ""))?.rule == 2)
        #expect(l.post(Self.p(5, .credit, "古山镇", .reclaimedConstruction, "0"))?.rule == 2)
        #expect(l.post(Self.p(6, .credit, "古山镇", .reclaimedConstruction, "1.00001"))?.rule == 2)
        #expect(l.post(Self.p(7, .transfer, "古山镇", .reclaimedConstruction, "1", to: "古山镇"))?.rule == 3)
        #expect(l.post(Self.p(8, .transfer, "古山镇", .basicFarmland, "1", to: "方岩镇"))?.rule == 3)
        #expect(l.post(Self.p(9, .credit, "古山镇", .reclaimedConstruction, "1", on: CalendarDate("2024-12-31")!))?.rule == 4)
        #expect(l.post(Self.p(10, .credit, "古山镇", .reclaimedConstruction, "1", on: Self.d2)) == nil)
        #expect(l.post(Self.p(11, .credit, "古山镇", .reclaimedConstruction, "1", on: Self.d1))?.rule == 4, "before the latest accepted")
        #expect(l.post(Self.p(12, .credit, "古山镇", .reclaimedConstruction, "1", on: Self.d2)) == nil, "the same day is fine")
        // a refused later posting does not move the date
        #expect(l.post(Self.p(13, .use, "古山镇", .reclaimedConstruction, "99", on: Self.d3))?.rule == 5)
        #expect(l.post(Self.p(14, .credit, "古山镇", .reclaimedConstruction, "1", on: Self.d2)) == nil)
    }

    @Test("rule 8: a reversal undoes a transfer whole, once; a reversal of a reversal puts it back; refused, unknown or later entries and an empty reason are refused")
    func reversals() {
        var l = QuotaLedger(project: Self.project)
        #expect(l.post(Self.p(1, .credit, "古山镇", .reclaimedConstruction, "10")) == nil)
        #expect(l.post(Self.p(2, .transfer, "古山镇", .reclaimedConstruction, "4", to: "舟山镇")) == nil)
        #expect(l.post(Self.rev(3, 2, note: "")).map { $0.rule == 8 && $0.zh.contains("说明") } == true)
        #expect(l.post(Self.rev(4, 2)) == nil)
        #expect(l.balance(town: "古山镇", .reclaimedConstruction).balance == 100_000 && l.balance(town: "舟山镇", .reclaimedConstruction).balance == 0)
        #expect(l.balance(town: "古山镇", .reclaimedConstruction).transferredOut == 0, "net of the reversal")
        #expect(l.post(Self.rev(5, 2))?.zh.contains("已被第 4 号冲正") == true, "a second reversal of 2")
        #expect(l.post(Self.rev(6, 4)) == nil, "reversing the reversal puts the transfer back")
        #expect(l.balance(town: "舟山镇", .reclaimedConstruction).balance == 40_000)
        #expect(l.post(Self.rev(7, 2)) != nil, "2 stays reversed once")
        #expect(l.post(Self.rev(8, 99))?.rule == 8, "unknown")
        #expect(l.post(Self.rev(9, 7))?.zh.contains("已被拒绝") == true, "a refused entry")
        // a reversal that would break rule 5 (舟山镇 used its transferred 4 mu)
        #expect(l.post(Self.p(10, .use, "舟山镇", .reclaimedConstruction, "4")) == nil)
        let r = l.post(Self.rev(11, 6))
        #expect(r?.rule == 8 && r?.zh.contains("规则5") == true)
        #expect(l.post(Self.rev(12, 1, on: CalendarDate("2024-06-01")!))?.rule == 4, "a reversal is dated like any posting")
    }

    @Test("balances at a date count the accepted entries dated on or before it; a reversal dated later changes nothing then")
    func asOf() {
        var l = QuotaLedger(project: Self.project)
        #expect(l.post(Self.p(1, .credit, "古山镇", .reclaimedConstruction, "10", on: Self.d1)) == nil)
        #expect(l.post(Self.p(2, .use, "古山镇", .reclaimedConstruction, "3", on: Self.d2)) == nil)
        #expect(l.post(Self.rev(3, 2, on: Self.d3)) == nil)
        func bal(_ d: CalendarDate) -> Int64 { l.balances(asOf: d).first { $0.town == "古山镇" && $0.quota == .reclaimedConstruction }!.balance.balance }
        #expect(bal(Self.d1) == 100_000 && bal(Self.d2) == 70_000 && bal(Self.d3) == 100_000)
        #expect(bal(CalendarDate("2024-12-31")!) == 0)
        #expect(l.balances(asOf: Self.d3).map(\.balance) == l.allBalances.map(\.balance))
    }

    @Test("the journal: Chinese or English headers; unreadable rows (text amount or grade, bad date, unknown action, repeated seq) named, nothing read")
    func journal() throws {
        let good = "序号,日期,动作,镇街,调入镇街,指标类型,数量（亩）,等别,冲正序号,说明\n1,2025-01-02,入账,古山镇,,新增耕地,10,6,,\n2,2025-01-02,调剂,古山镇,方岩镇,增减挂钩节余指标,1,,,\n"
        let j = try QuotaJournal(table: CSVTable(data: Data(good.utf8)))
        #expect(j.postings.count == 2 && j.postings[1].toTown == "方岩镇" && j.postings[1].quota == .reclaimedConstruction && j.postings[1].row == 3)
        let english = "SEQ,Date,Action,Town,To_Town,Quota,Amount,Grade,Reverses,Note\nA1,2025-01-02,credit,古山镇,,new_farmland,1.5,3,,\nA2,2025-01-03,Reverse,,,,,,A1,错\n"
        let e = try QuotaJournal(table: CSVTable(data: Data(english.utf8)))
        #expect(e.postings.map(\.action) == [.credit, .reverse] && e.postings[1].reverses == "A1")
        let bad = "序号,日期,动作,镇街,调入镇街,指标类型,数量(亩),等别,冲正序号,说明\n1,2025-01-02,入账,古山镇,,新增耕地,十亩,6,,\n2,2025-13-02,入账,古山镇,,新增耕地,1,6,,\n3,2025-01-02,转让,古山镇,,新增耕地,1,6,,\n1,2025-01-02,入账,古山镇,,新增耕地,1,六等,,\n4,2025-01-02,使用,古山镇,,新增耕地,1,6,,\n"
        do {
            _ = try QuotaJournal(table: CSVTable(data: Data(bad.utf8)))
            Issue.record("not refused")
        } catch {
            let rows = error.errors.map(\.row)
            #expect(rows == [2, 3, 4, 5, 5], "\(error.errors)")
            #expect(error.errors.contains { $0.row == 5 && $0.messageZh.contains("第 2 行重复") })
            #expect(error.errors.contains { $0.row == 2 && $0.column == "数量(亩)" })
        }
        do {
            _ = try QuotaJournal(table: CSVTable(data: Data("序号,日期,镇街\n1,2025-01-02,古山镇\n".utf8)))
            Issue.record("not refused")
        } catch {
            #expect(error.errors.first?.messageZh.contains("动作") == true)
        }
    }

    @Test("random postings, transfers and reversals (seeded) never break an invariant, and the balances always equal the sum of the accepted journal")
    func randomSequences() {
        let seed = UInt64(ProcessInfo.processInfo.environment["MUJUN_TEST_SEED"].flatMap(UInt64.init) ?? 20_251_205)
        print("quota ledger random sequences: seed \(seed)")
        var rng = SeededRandom(seed: seed)
        let towns = Self.project.towns
        for round in 0..<40 {
            var l = QuotaLedger(project: Self.project)
            var accepted: [QuotaPosting] = []
            var day = Self.project.start
            for seq in 1...250 {
                if rng.next() % 5 == 0 { day = day.adding(days: Int(rng.next() % 3)) }
                let date = rng.next() % 40 == 0 ? day.adding(days: -1) : day
                let kind = rng.next() % 10
                let q = QuotaType.allCases[Int(rng.next() % 3)]
                let town = towns[Int(rng.next() % 3)], to = towns[Int(rng.next() % 3)]
                let amount = String(format: "%d.%04d", Int(rng.next() % 8), Int(rng.next() % 10_000))
                let grade = String(1 + Int(rng.next() % 15))
                let p: QuotaPosting
                switch kind {
                case 0...2: p = QuotaPosting(row: seq + 1, seq: String(seq), date: date, action: .credit, town: town, quota: q, amount: QuotaAmount.parse(amount), grade: QuotaAmount.parse(grade))
                case 3...5: p = QuotaPosting(row: seq + 1, seq: String(seq), date: date, action: .use, town: town, quota: q, amount: QuotaAmount.parse(amount), grade: QuotaAmount.parse(grade))
                case 6...7: p = QuotaPosting(row: seq + 1, seq: String(seq), date: date, action: .transfer, town: town, toTown: to, quota: q, amount: QuotaAmount.parse(amount))
                default: p = QuotaPosting(row: seq + 1, seq: String(seq), date: date, action: .reverse, reverses: String(1 + Int(rng.next() % UInt64(seq))), note: "更正")
                }
                let before = l.allBalances.map(\.balance)
                if l.post(p) != nil {
                    #expect(l.allBalances.map(\.balance) == before, "round \(round) seq \(seq): a refusal changed the balances")
                    continue
                }
                accepted.append(p)
                // the invariants after every accepted posting
                for b in l.allBalances where b.quota.keepsBalance { #expect(b.balance.balance >= 0, "round \(round) seq \(seq)") }
                #expect(Int128(l.basicAdded) * 100 >= 105 * Int128(l.basicOut), "round \(round) seq \(seq)")
                if l.farmUsed > 0 {
                    #expect(Int128(l.farmCreditedGrade) * Int128(l.farmUsed) <= Int128(l.farmUsedGrade) * Int128(l.farmCredited), "round \(round) seq \(seq)")
                }
                #expect(l.latest == date)
            }
            // the balances are the sum of the accepted journal, recomputed here from the postings alone
            var sums: [String: Int64] = [:]
            var effect: [String: (QuotaPosting, Int64)] = [:]
            for p in accepted {
                let (base, sign): (QuotaPosting, Int64) = p.action == .reverse ? (effect[p.reverses]!.0, -effect[p.reverses]!.1) : (p, 1)
                effect[p.seq] = (base, sign)
                guard case .value(let a) = base.amount, let q = base.quota else { Issue.record("accepted without an amount"); continue }
                let delta = a.units * sign
                switch base.action {
                case .credit: sums["\(base.town)|\(q.key)", default: 0] += delta
                case .use: sums["\(base.town)|\(q.key)", default: 0] -= delta
                case .transfer: sums["\(base.town)|\(q.key)", default: 0] -= delta; sums["\(base.toTown)|\(q.key)", default: 0] += delta
                case .reverse: Issue.record("a reversal as a base")
                }
            }
            for b in l.allBalances { #expect(b.balance.balance == sums["\(b.town)|\(b.quota.key)", default: 0], "round \(round) \(b.town) \(b.quota.key)") }
            #expect(accepted.count > 40, "round \(round): \(accepted.count) accepted")
        }
    }
}
