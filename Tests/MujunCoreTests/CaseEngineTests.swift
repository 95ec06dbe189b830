import Foundation
import Testing
@testable import MujunCore

/// The case engine of CASES.md §1–§6 on hand-worked cases: every date below is worked out from the
/// State Council's arrangements (2025: 国庆、中秋 10/1–8 with 9/28 and 10/11 worked; 2026: 春节 2/15–23
/// with 2/14 and 2/28 worked, 清明 4/4–6, 劳动节 5/1–5).
@Suite struct CaseEngineTests {
    let cal = WorkCalendar.shipped
    let types = CaseTypes.default
    func d(_ s: String) -> CalendarDate { CalendarDate(s)! }
    func loop(_ key: String) -> CaseLoop { CaseLoop(type: types.type(named: key)!) }
    func ev(_ k: CaseEventKind, _ date: String, unit: String = "", due: String? = nil, category: String? = nil,
            rating: CaseRating? = nil, head: Bool = false, passed: Bool? = nil, note: String = "") -> CaseEvent {
        CaseEvent(k, d(date), unit: unit, due: due.map(d), category: category, rating: rating, head: head,
                  passed: passed, note: note)
    }
    func run(_ key: String, _ events: [CaseEvent]) throws -> CaseLoop {
        var c = loop(key)
        for e in events { try c.apply(e, calendar: cal) }
        return c
    }

    // MARK: - case types

    @Test func defaultTypesAreThoseOfCasesMd() throws {
        #expect(types.types.map(\.key) == ["task", "suggestion", "proposal", "petition", "enterprise_request", "rectification", "hazard"])
        let s = try #require(types.type(named: "人大建议"))
        #expect(s.accept == .workdays(5) && s.reply == .months(3) && s.from == .assign && s.extendUpTo == .months(6))
        #expect(!s.verify && s.evaluate && s.categories == ["A", "B", "C", "D"] && s.resolved == ["A", "B"])
        let p = try #require(types.type(named: "petition"))
        #expect(p.accept == .days(15) && p.reply == .days(60) && p.from == .accept && p.extendUpTo == .days(90) && p.maxExtensions == 1)
        let e = try #require(types.type(named: "企业诉求"))
        #expect(e.accept == .workdays(1) && e.reply == .workdays(10) && e.extendUpTo == .workdays(20))
        for k in ["task", "rectification", "hazard"] {
            let t = try #require(types.type(named: k))
            #expect(t.reply == nil && t.verify && !t.evaluate && t.extendUpTo == nil, "\(k)")
        }
        #expect(types.type(named: "hazard")?.accept == .workdays(1) && types.type(named: "整治任务")?.accept == .workdays(2))
        #expect(types.redAfter == 5 && types.minCases == 3 && types.bottom == 3)
        #expect(s.replyBasis == "交办后3个月，遇节假日顺延")
    }

    @Test func caseTypesFileIsChecked() {
        func refused(_ yaml: String, _ needle: String) {
            do { _ = try CaseTypes(yaml: yaml); Issue.record("accepted: \(yaml)") } catch {
                #expect(error.zh.contains(needle) || error.en.contains(needle), "\(error)")
            }
        }
        refused("types: [{key: x, name: 甲, accept: 5 fortnights, reply: given, verify: true, evaluate: false}]", "working days")
        refused("types: [{key: X-1, name: 甲, accept: 1 day, reply: given, verify: true, evaluate: false}]", "key")
        refused("types: [{key: x, name: 甲, accept: 1 day, reply: given, verify: true, evaluate: false}, {key: y, name: 甲, accept: 1 day, reply: given, verify: true, evaluate: false}]", "twice")
        refused("types: [{key: x, name: 甲, accept: 1 day, reply: 3 months, from: later, verify: true, evaluate: false}]", "from")
        refused("types: [{key: x, name: 甲, accept: 1 day, reply: 3 months, verify: true, evaluate: false, categories: [A], resolved: [B]}]", "category")
        refused("types: []", "at least one")
        refused("min_cases: 0\ntypes: [{key: x, name: 甲, accept: 1 day, reply: given, verify: true, evaluate: false}]", "min_cases")
        // a city's own type: a 2-working-day hazard with 3 red days
        let own = try? CaseTypes(yaml: "red_after: 3\ntypes: [{key: hazard, name: 安全隐患, accept: 2个工作日, reply: given, verify: true, evaluate: false}]")
        #expect(own?.redAfter == 3 && own?.type(named: "安全隐患")?.accept == .workdays(2))
    }

    // MARK: - deadlines (§3)

    @Test func acceptAndReplyDeadlinesOverHolidaysAndMakeUpDays() throws {
        // assigned Friday 2025-09-26: 5 working days = 9/28 (a Sunday worked), 9/29, 9/30, then the
        // holiday 10/1–8, 10/9, 10/10 → 2025-10-10; 3 months → 2025-12-26 (a Friday)
        let c = try run("suggestion", [ev(.register, "2025-09-20", unit: "王代表"), ev(.assign, "2025-09-26", unit: "住建局")])
        let a = try #require(c.assignment)
        #expect(a.acceptDue == d("2025-10-10"))
        #expect(a.replyDue == d("2025-12-26"))
        #expect(a.extendLimit == d("2026-03-26"))
        #expect(c.state == .assigned && c.isOpen)
    }

    @Test func monthEndsAndRollForward() throws {
        // 2025-11-30 + 3 months = 2026-02-28, a Saturday but a make-up working day: it stays
        var c = try run("proposal", [ev(.register, "2025-11-30"), ev(.assign, "2025-11-30", unit: "经信局")])
        #expect(c.assignment?.replyDue == d("2026-02-28"))
        #expect(c.assignment?.acceptDue == d("2025-12-05"))
        // 2025-08-31 + 3 months = 2025-11-30, a Sunday → Monday 2025-12-01
        c = try run("proposal", [ev(.register, "2025-08-31"), ev(.assign, "2025-08-31", unit: "经信局")])
        #expect(c.assignment?.replyDue == d("2025-12-01"))
        // 2025-07-01 + 3 months = 2025-10-01, in the National Day holiday → 2025-10-09
        c = try run("suggestion", [ev(.register, "2025-07-01"), ev(.assign, "2025-07-01", unit: "经信局")])
        #expect(c.assignment?.replyDue == d("2025-10-09"))
        // a petition's 15 calendar days from 2026-01-31 = 2026-02-15, in the Spring Festival (2/15–23) → 2026-02-24
        c = try run("petition", [ev(.register, "2026-01-31"), ev(.assign, "2026-01-31", unit: "信访局")])
        #expect(c.assignment?.acceptDue == d("2026-02-24"))
    }

    @Test func petitionCountsItsReplyFromAcceptanceAndGetsOneExtension() throws {
        var c = try run("petition", [ev(.register, "2026-01-19"), ev(.assign, "2026-01-20", unit: "信访局", due: "2026-03-31")])
        // 15 days → 2026-02-04 (Wednesday); no reply due date before acceptance, given date or not
        #expect(c.assignment?.acceptDue == d("2026-02-04"))
        #expect(c.assignment?.replyDue == nil)
        // 2/5, 2/6, 2/9, 2/10, 2/11 = 5 working days after the missed 2/4: still yellow; the 6th (2/12) makes it red
        #expect(c.flag(at: d("2026-02-04"), calendar: cal, redAfter: 5) == .none)
        #expect(c.flag(at: d("2026-02-05"), calendar: cal, redAfter: 5) == .yellow)
        #expect(c.flag(at: d("2026-02-11"), calendar: cal, redAfter: 5) == .yellow)
        #expect(c.flag(at: d("2026-02-12"), calendar: cal, redAfter: 5) == .red)
        try c.apply(ev(.accept, "2026-02-02"), calendar: cal)
        // 60 days from 2/2 = 2026-04-03 (Friday); the given 3/31 is earlier, so it holds
        #expect(c.assignment?.replyDue == d("2026-03-31"))
        // limit: 90 days from 2/2 = 2026-05-03, in the May Day holiday → 2026-05-06
        #expect(c.assignment?.extendLimit == d("2026-05-06"))
        #expect(throws: CaseStepError.self) { try c.apply(ev(.extend, "2026-03-20", due: "2026-05-07"), calendar: cal) }
        #expect(throws: CaseStepError.self) { try c.apply(ev(.extend, "2026-03-20", due: "2026-03-31"), calendar: cal) }
        try c.apply(ev(.extend, "2026-03-20", due: "2026-05-06"), calendar: cal)
        #expect(c.assignment?.replyDue == d("2026-05-06"))
        do { try c.apply(ev(.extend, "2026-04-20", due: "2026-05-06"), calendar: cal); Issue.record("a second extension") } catch {
            #expect(error.kind == .invalid)
        }
        // without a given date: 60 days from acceptance
        let p = try run("petition", [ev(.register, "2026-01-19"), ev(.assign, "2026-01-20", unit: "信访局"), ev(.accept, "2026-02-02")])
        #expect(p.assignment?.replyDue == d("2026-04-03"))
    }

    @Test func aGivenDateOnlyShortensAComputedDeadline() throws {
        let later = try run("suggestion", [ev(.register, "2025-03-01"), ev(.assign, "2025-03-03", unit: "A", due: "2025-12-31")])
        #expect(later.assignment?.replyDue == d("2025-06-03"))
        let earlier = try run("suggestion", [ev(.register, "2025-03-01"), ev(.assign, "2025-03-03", unit: "A", due: "2025-04-30")])
        #expect(earlier.assignment?.replyDue == d("2025-04-30"))
    }

    @Test func returnAndReassignmentStartTheClockAgain() throws {
        var c = try run("enterprise_request", [ev(.register, "2025-03-01", unit: "某公司"), ev(.assign, "2025-03-03", unit: "A")])
        #expect(c.assignment?.acceptDue == d("2025-03-04") && c.assignment?.replyDue == d("2025-03-17"))
        do { try c.apply(ev(.return, "2025-03-04", note: "  "), calendar: cal); Issue.record("a return without reason") } catch {
            #expect(error.kind == .invalid && error.zh.contains("理由"))
        }
        try c.apply(ev(.return, "2025-03-04", note: "不属本单位职责"), calendar: cal)
        #expect(c.state == .returned && c.assignment == nil)
        #expect(c.missedDeadlines(at: d("2025-04-30")).isEmpty)  // waits on the assigner
        try c.apply(ev(.assign, "2025-03-05", unit: "B"), calendar: cal)
        // 1 working day → 3/6; 10 working days → 3/19; extension limit 20 working days → 4/2
        #expect(c.assignment?.unit == "B" && c.assignment?.acceptDue == d("2025-03-06"))
        #expect(c.assignment?.replyDue == d("2025-03-19") && c.assignment?.extendLimit == d("2025-04-02"))
    }

    @Test func extensionsMustBeLaterAndWithinTheLimit() throws {
        var c = try run("suggestion", [ev(.register, "2025-09-20"), ev(.assign, "2025-09-26", unit: "A"), ev(.accept, "2025-09-29")])
        for bad in ["2025-12-26", "2025-12-01", "2026-03-27"] {
            do { try c.apply(ev(.extend, "2025-12-01", due: bad), calendar: cal); Issue.record("extension to \(bad)") } catch {
                #expect(error.kind == .invalid, "\(bad)")
            }
        }
        try c.apply(ev(.extend, "2025-12-01", due: "2026-03-26"), calendar: cal)
        #expect(c.assignment?.replyDue == d("2026-03-26"))
        // tasks: any later date
        var t = try run("task", [ev(.register, "2025-06-01"), ev(.assign, "2025-06-02", unit: "古山镇", due: "2025-06-30"), ev(.accept, "2025-06-03")])
        try t.apply(ev(.extend, "2025-06-20", due: "2027-01-01"), calendar: cal)
        #expect(t.assignment?.replyDue == d("2027-01-01"))
    }

    @Test func unsatisfiedOnceSendsItBackThenTheRatingStands() throws {
        var c = try run("suggestion", [
            ev(.register, "2025-09-20", unit: "王代表"), ev(.assign, "2025-09-26", unit: "住建局"), ev(.accept, "2025-09-29"),
            ev(.reply, "2025-12-19", category: "B", head: true), ev(.evaluate, "2025-12-22", rating: .unsatisfied),
        ])
        // re-handling: 1 month from 2025-12-22 = 2026-01-22 (Thursday)
        #expect(c.state == .handling && c.isRehandling && c.currentReplyDue == d("2026-01-22"))
        #expect(c.assignment?.replyDue == d("2025-12-26") && c.assignment?.firstReplyOn == d("2025-12-19"))
        #expect(c.flag(at: d("2026-01-22"), calendar: cal, redAfter: 5) == .none)
        #expect(c.flag(at: d("2026-01-23"), calendar: cal, redAfter: 5) == .yellow)
        // 1/23, 1/26–1/30, 2/2: 7 working days after 1/22 → red
        #expect(c.flag(at: d("2026-02-02"), calendar: cal, redAfter: 5) == .red)
        #expect(throws: CaseStepError.self) { try c.apply(ev(.close, "2026-01-25"), calendar: cal) }
        try c.apply(ev(.reply, "2026-02-03", category: "A"), calendar: cal)
        try c.apply(ev(.evaluate, "2026-02-05", rating: .unsatisfied), calendar: cal)
        #expect(c.state == .evaluated && c.rating == .unsatisfied && c.evaluations == 2 && c.category == "A")
        try c.apply(ev(.close, "2026-02-06"), calendar: cal)
        #expect(c.state == .closed && !c.isOpen)
        #expect(c.allowed.isEmpty)
    }

    @Test func aFailedVerificationIsOverdueAtOnce() throws {
        var c = try run("task", [ev(.register, "2025-06-01"), ev(.assign, "2025-06-02", unit: "古山镇", due: "2025-06-30"),
                                 ev(.accept, "2025-06-03"), ev(.reply, "2025-06-25")])
        #expect(throws: CaseStepError.self) { try c.apply(ev(.evaluate, "2025-06-26", rating: .satisfied), calendar: cal) }
        #expect(throws: CaseStepError.self) { try c.apply(ev(.close, "2025-06-26"), calendar: cal) }
        try c.apply(ev(.verify, "2025-07-01", passed: false), calendar: cal)
        #expect(c.state == .handling && c.currentReplyDue == d("2025-06-30"))
        #expect(c.flag(at: d("2025-07-01"), calendar: cal, redAfter: 5) == .yellow)
        #expect(c.flag(at: d("2025-07-08"), calendar: cal, redAfter: 5) == .red)  // 7/1–7/4, 7/7, 7/8
        try c.apply(ev(.reply, "2025-07-10"), calendar: cal)
        try c.apply(ev(.verify, "2025-07-11", passed: true), calendar: cal)
        try c.apply(ev(.close, "2025-07-11"), calendar: cal)
        #expect(c.state == .closed && c.assignment?.firstReplyOn == d("2025-06-25"))
    }

    @Test func stepsOutOfOrderAreRefusedWithTheState() throws {
        var c = loop("suggestion")
        do { try c.apply(ev(.assign, "2025-03-01", unit: "A"), calendar: cal); Issue.record("assign before register") } catch {
            #expect(error.kind == .wrongState && error.zh.contains("尚未登记"))
        }
        try c.apply(ev(.register, "2025-03-01"), calendar: cal)
        #expect(c.allowed == [.assign])
        do { try c.apply(ev(.reply, "2025-03-02"), calendar: cal); Issue.record("reply before accept") } catch {
            #expect(error.kind == .wrongState && error.zh.contains("已登记") && error.en.contains("registered"))
        }
        do { try c.apply(ev(.assign, "2025-03-02", unit: "A", due: "2025-03-01"), calendar: cal); Issue.record("due before assignment") } catch {
            #expect(error.kind == .invalid && error.zh.contains("早于交办日期"))
        }
        var t = loop("hazard")
        try t.apply(ev(.register, "2025-03-01"), calendar: cal)
        do { try t.apply(ev(.assign, "2025-03-02", unit: "A"), calendar: cal); Issue.record("a hazard without due date") } catch {
            #expect(error.kind == .invalid)
        }
        #expect(t.state == .registered)  // nothing changed
        try c.apply(ev(.assign, "2025-03-03", unit: "A"), calendar: cal)
        try c.apply(ev(.accept, "2025-03-04"), calendar: cal)
        do { try c.apply(ev(.reply, "2025-03-05", category: "E"), calendar: cal); Issue.record("category E") } catch {
            #expect(error.kind == .invalid)
        }
        do { try c.apply(ev(.progress, "2025-03-02"), calendar: cal); Issue.record("back-dated") } catch {
            #expect(error.kind == .invalid)
        }
    }

    // MARK: - bulletin (§4) and ranking

    func row(_ unit: String, onTime: Int, due: Int, sat: Int = 0, evaluated: Int = 0, overdue: Int = 0) -> BulletinRow {
        var r = BulletinRow(unit: unit)
        r.repliedOnTime = onTime; r.replyDue = due; r.satisfied = sat; r.evaluated = evaluated; r.overdueNow = overdue
        return r
    }

    @Test func rankingSharesRanksAndMarksTheBottomWithItsTies() {
        let rows = [
            row("丙", onTime: 2, due: 3, sat: 1, evaluated: 2),
            row("甲", onTime: 3, due: 3),
            row("乙", onTime: 4, due: 6, sat: 1, evaluated: 2),     // ties 丙 exactly (2/3, 1/2, 0 overdue)
            row("丁", onTime: 2, due: 3, sat: 0, evaluated: 0, overdue: 1),  // empty satisfaction = 0
            row("戊", onTime: 2, due: 3, sat: 0, evaluated: 4, overdue: 1),  // ties 丁: 0 = empty
            row("己", onTime: 2, due: 2),                             // under min_cases: unranked
            row("庚", onTime: 0, due: 5, overdue: 5),
        ]
        let ranked = Bulletin.rank(rows, minCases: 3, bottom: 2)
        #expect(ranked.map(\.unit) == ["甲", "丙", "乙", "丁", "戊", "庚", "己"])  // equal ranks by code point: 丙 U+4E19 < 乙 U+4E59
        #expect(ranked.map(\.rank) == [1, 2, 2, 4, 4, 6, nil])
        // the last 2 positions are 戊 (rank 4) and 庚 (6); 丁 shares rank 4, so it is 末位 too
        #expect(ranked.map(\.bottom) == [false, false, false, true, true, true, false])
        // fewer ranked units than `bottom`: all of them
        #expect(Bulletin.rank([row("甲", onTime: 3, due: 3)], minCases: 3, bottom: 3).map(\.bottom) == [true])
        #expect(Bulletin.rank(rows, minCases: 3, bottom: 0).allSatisfy { !$0.bottom })
    }

    @Test func datesAsSpreadsheetsWriteThem() {
        #expect(CaseHistory.parseDate("2025-03-01") == d("2025-03-01") && CaseHistory.parseDate("2025/3/1") == d("2025-03-01"))
        #expect(CaseHistory.parseDate("2024-12-26 00:00:00") == d("2024-12-26") && CaseHistory.parseDate("2024-12-26T08:30") == d("2024-12-26"))
        #expect(CaseHistory.parseDate("45652") == d("2024-12-26"))  // an Excel serial day
        #expect(CaseHistory.parseDate("2025-02-30") == nil && CaseHistory.parseDate("2024-12-26 noon") == nil && CaseHistory.parseDate("") == nil)
    }

    @Test func ratesAreExactFractions() {
        #expect(CountRate(2, 3).csv == "0.6666666666666666" && CountRate(3, 3).csv == "1.0" && CountRate(0, 4).csv == "0.0")
        #expect(CountRate(1, 0).csv == "" && CountRate(2, 3).percent == "66.7%" && CountRate(0, 0).percent == "—")
        #expect(CountRate.compare(CountRate(2, 3), CountRate(4, 6)) == 0)
        #expect(CountRate.compare(CountRate(0, 0), CountRate(0, 5)) == 0)
        #expect(CountRate.compare(CountRate(333_333, 1_000_000), CountRate(1, 3)) < 0)
    }

    /// A small history through the whole path: reading (Chinese headers and values, rows out of
    /// order), the loop, the bulletin and the case list, worked out by hand.
    @Test func bulletinOfASmallHistory() throws {
        let csv = """
            编号,类型,事件,日期,单位,办理期限,类别,评价,一把手参与,验收结果,说明
            S1,人大建议,交办,2025-09-26,住建局,,,,,,
            S1,人大建议,登记,2025-09-20,王代表,,,,,,
            S1,人大建议,签收,2025-10-10,住建局,,,,,,
            S1,人大建议,答复,2025-12-19,住建局,,B,,是,,
            S2,suggestion,register,2025-10-08,李代表,,,,,,
            S2,suggestion,assign,2025-10-09,住建局,,,,,,
            S2,suggestion,accept,2025-10-20,住建局,,,,,,
            S3,suggestion,register,2025-10-08,李代表,,,,,,
            S3,suggestion,assign,2025-10-09,经信局,,,,,,
            S3,suggestion,return,2025-10-10,经信局,,,,,,不属本单位
            T1,整治任务,登记,2025-12-01,指挥部,,,,,,
            T1,整治任务,交办,2025-12-01,古山镇,2025-12-31,,,,,
            T1,整治任务,签收,2025-12-02,古山镇,,,,,,
            T1,整治任务,答复,2025-12-30,古山镇,,,,否,,
            T1,整治任务,验收,2026-01-05,指挥部,,,,,不通过,
            S1,人大建议,评价,2026-01-05,王代表,,,满意,,,
            """
        let h = try CaseHistory(table: try CSVTable(data: Data(csv.utf8)))
        #expect(h.rowCount == 16 && h.cases.count == 4)
        let b = Bulletin(history: h, from: d("2025-01-01"), to: d("2025-12-31"), asOf: d("2026-01-12"))
        // S1: accepted 10/10 = due (on time), replied 12/19 ≤ 12/26, head, category B, 满意.
        // S2: assigned 10/9, accept due 10/15 (10/10, 10/11 worked, 10/13–15) → accepted 10/20 late;
        //     reply due 2026-01-09 (Friday), not replied by 1/12 → missed; 1/12 is 1 working day after: yellow.
        // S3: returned, not counted. T1: due 12/31, failed verification on 1/5 → re-handling to 12/31:
        //     missed; after 12/31: 1/1–1/3 off, 1/4 (a Sunday worked), 1/5–1/9, 1/12 = 7 working days → red.
        let expected = """
            unit,assigned,accepted_on_time,accept_late,replied,reply_due,replied_on_time,on_time_rate,overdue_now,yellow,red,evaluated,satisfaction_rate,resolution_rate,head_rate,rank,bottom
            住建局,2,1,1,1,2,1,0.5,1,1,0,1,1.0,1.0,1.0,,0
            古山镇,1,1,0,1,1,1,1.0,1,0,1,0,,,0.0,,0

            """
        #expect(b.csv() == expected)
        let cases = """
            ref,type,unit,assigned_on,accept_due,accepted_on,reply_due,replied_on,state,flag,rating,category
            S1,suggestion,住建局,2025-09-26,2025-10-10,2025-10-10,2025-12-26,2025-12-19,evaluated,,satisfied,B
            S2,suggestion,住建局,2025-10-09,2025-10-15,2025-10-20,2026-01-09,,handling,yellow,,
            T1,task,古山镇,2025-12-01,2025-12-03,2025-12-02,2025-12-31,2025-12-30,handling,red,,

            """
        #expect(b.casesCSV() == cases)
        // as of a date before S1's evaluation, and for one type
        let early = Bulletin(history: h, from: d("2025-01-01"), to: d("2025-12-31"), asOf: d("2025-12-31"), type: "task")
        #expect(early.rows.map(\.unit) == ["古山镇"] && early.cases.map(\.state) == [.replied])
    }

    @Test func badRowsAreAllNamedAndNothingIsRead() throws {
        let csv = """
            ref,type,event,date,unit,due,rating,note,passed
            A1,suggestion,register,2025-03-01,,,,,
            A1,suggestion,assign,2025-03-03,住建局,,,,
            A2,信件,register,2025-03-01,,,,,
            A3,task,register,2025-03-01,,,,,
            A3,task,assign,2025-03-02,古山镇,,,,
            A4,task,register,2025-03-01,,,,,
            A4,task,assign,2025-03-05,古山镇,2025-03-04,,,
            A5,task,register,2025/3/1,,,,,
            A5,task,assign,2025-3-2,古山镇,2025-04-01,,,
            A5,task,return,2025-03-03,古山镇,,,,
            A6,hazard,register,2025-02-30,,,,,
            A7,suggestion,register,2025-03-01,,,,,
            A7,suggestion,evaluate,2025-03-02,,,满意,,
            A8,suggestion,register,2025-03-01,,,,,
            A8,suggestion,assign,2025-03-03,住建局,,,,
            A8,suggestion,accept,2025-03-04,住建局,,,,
            A8,suggestion,extend,2025-03-05,住建局,2025-09-04,,,
            A9,petition,register,2025-03-01,,,,,
            A9,petition,assign,2025-03-03,信访局,,,,
            A9,petition,accept,2025-03-04,信访局,,很好,,
            A10,task,register,2025-03-01,,,,,
            A10,task,assign,2025-03-03,古山镇,2025-04-01,,,
            A10,task,accept,2025-03-04,古山镇,,,,
            A10,task,reply,2025-03-05,古山镇,,,,
            A10,task,verify,2025-03-06,指挥部,,,,也许
            A11,task,register,2025-03-01,,,,,
            A11,task,dance,2025-03-02,,,,,
            """
        do {
            _ = try CaseHistory(table: try CSVTable(data: Data(csv.utf8)))
            Issue.record("a bad history was accepted")
        } catch {
            let rows = error.errors.map(\.row)
            // 4 unknown type; 6 task without due; 8 due before assignment; 11 return without reason;
            // 12 not a date; 14 evaluate before assignment; 18 beyond 6 months (limit 2025-09-03);
            // 21 a rating on an accept (not a rating); 26 passed 也许; 28 unknown event
            #expect(rows == [4, 6, 8, 11, 12, 14, 18, 21, 26, 28], "\(error.errors)")
            #expect(error.errors.first { $0.row == 18 }?.messageZh.contains("超过最长期限 2025-09-03") == true)
            #expect(error.errors.first { $0.row == 4 }?.column == "type")
        }
    }
}
