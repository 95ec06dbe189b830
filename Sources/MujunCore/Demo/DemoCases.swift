import Foundation

/// The demo city's cases (督办事项), relative to a date ("today"), so that overdue looks real
/// whenever the demo is loaded: the year's deputies' suggestions (322) and CPPCC proposals (364),
/// petitions from the reception at the conflict-mediation centre, the requests of a 永商会客厅
/// evening with 14 entrepreneurs, 五整治五提升 rectification items, hazards of the month's safety
/// theme, and remediation tasks on low-efficiency parcels — at every stage of the loop, some late.
///
/// The histories are made by walking each case through ``CaseLoop`` (so every one is valid) and
/// written as a handling-history CSV (CASES.md §5), which the demo imports like any city's file.
///
/// ```swift
/// let csv = DemoCases(today: CalendarDate("2026-12-04")!, seed: 1).historyCSV()
/// let history = try CaseHistory(table: try CSVTable(data: Data(csv.utf8)))
/// ```
public struct DemoCases: Sendable {
    public let today: CalendarDate
    public let seed: UInt64
    /// Low-efficiency parcels (id, town) the remediation tasks are about.
    public var parcels: [(id: String, town: String)]
    /// The requester name the demo deputy account (`daibiao`) carries, and the demo enterprise's.
    public var deputyName = "人大代表"
    public var enterpriseName: String?
    public var enterpriseCode: String?

    public static let departments = ["市住房和城乡建设局", "市经济和信息化局", "市税务局", "市自然资源和规划局", "市生态环境局",
                                     "市应急管理局", "市发展和改革局", "市市场监督管理局", "市交通运输局", "市人力资源和社会保障局"]
    public static let towns = ["古山镇", "方岩镇", "舟山镇", "石柱镇", "前仓镇", "东城街道", "西城街道", "江南街道"]

    public init(today: CalendarDate, seed: UInt64, parcels: [(id: String, town: String)] = []) {
        self.today = today; self.seed = seed; self.parcels = parcels
    }

    /// The day of the demo's 永商会客厅 evening (three weeks ago, a working day).
    public var yongshangEvening: CalendarDate { WorkCalendar.shipped.workdayOnOrAfter(today.adding(days: -21)) }

    struct Row { var ref, title, type, event, date, unit, coUnits, due, category, rating, head, passed, note, parcel, code: String }

    /// The history as CSV (English keys), rows in case order.
    public func historyCSV() -> String {
        var out = "ref,title,type,event,date,unit,co_units,due,category,rating,head,passed,note,parcel_id,credit_code\n"
        for r in rows() {
            out += [r.ref, r.title, r.type, r.event, r.date, r.unit, r.coUnits, r.due, r.category, r.rating, r.head, r.passed,
                    r.note, r.parcel, r.code].map(CSVField.escape).joined(separator: ",") + "\n"
        }
        return out
    }

    func rows() -> [Row] {
        var rng = SeededRandom(seed: seed &+ 9_001)
        let cal = WorkCalendar.shipped
        let types = CaseTypes.default
        var out: [Row] = []
        let year = today.year
        // the year's session: suggestions and proposals assigned in March (or last year's when it is early in the year)
        let sessionYear = today.month >= 5 ? year : year - 1
        let session = CalendarDate(year: sessionYear, month: 3, day: 20)!

        func add(type key: String, ref: String, title: String, requester: String, assignOn: CalendarDate, unit: String,
                 co: [String] = [], due: CalendarDate? = nil, parcel: String = "", code: String = "") {
            let type = types.type(named: key)!
            var loop = CaseLoop(type: type)
            var caseRows: [Row] = []
            func emit(_ e: CaseEvent) -> Bool {
                guard e.date <= today, (try? loop.apply(e, calendar: cal)) != nil else { return false }
                caseRows.append(Row(ref: ref, title: e.kind == .register ? title : "", type: rng.chance(0.5) ? key : type.name,
                                    event: rng.chance(0.5) ? e.kind.rawValue : e.kind.chinese, date: e.date.description,
                                    unit: e.unit, coUnits: e.coUnits.joined(separator: ";"), due: e.due?.description ?? "",
                                    category: e.category ?? "", rating: e.rating?.chinese ?? "", head: e.head ? "是" : "",
                                    passed: e.passed.map { $0 ? "通过" : "不通过" } ?? "", note: e.note,
                                    parcel: e.kind == .register ? parcel : "", code: e.kind == .register ? code : ""))
                return true
            }
            func later(_ d: CalendarDate, _ lo: Int, _ hi: Int) -> CalendarDate { d.adding(days: lo + Int(rng.next() % UInt64(hi - lo + 1))) }
            defer { out += caseRows }
            guard emit(CaseEvent(.register, assignOn.adding(days: -Int(rng.next() % 3)), unit: requester)) else { return }
            var current = unit
            guard emit(CaseEvent(.assign, assignOn, unit: current, coUnits: co, due: due,
                                 level: rng.chance(0.1) ? .listed : rng.chance(0.2) ? .key : .normal)) else { return }
            // 5 %: returned and assigned again to another unit
            if rng.chance(0.05) {
                guard emit(CaseEvent(.return, later(assignOn, 0, 2), unit: current, note: "不属本单位职责，建议改由其他单位办理")) else { return }
                current = rng.pick(Self.departments.filter { $0 != current })
                guard emit(CaseEvent(.assign, later(loop.lastEventOn!, 1, 3), unit: current, due: due)) else { return }
            }
            let a = loop.assignment!
            // accept: mostly on time, some late, some not yet
            let acceptOn = rng.chance(0.85) ? later(a.on, 0, max(0, a.acceptDue.dayNumber - a.on.dayNumber)) : later(a.acceptDue, 1, 12)
            guard emit(CaseEvent(.accept, acceptOn, unit: current)) else { return }
            for _ in 0..<Int(rng.next() % 3) {
                _ = emit(CaseEvent(.progress, later(loop.lastEventOn!, 3, 25), unit: current,
                                   head: rng.chance(0.3), note: rng.pick(["召开专题会研究", "赴现场调研", "与提出人当面沟通", "制定办理方案"])))
            }
            // an approved extension now and then
            if rng.chance(0.08), let due = loop.assignment?.replyDue {
                let limit = loop.assignment?.extendLimit ?? due.adding(days: 60)
                let to = min(limit, due.adding(days: 20))
                if to > due { _ = emit(CaseEvent(.extend, later(loop.lastEventOn!, 1, 5), unit: "指挥部", due: to, note: "情况复杂，申请延期")) }
            }
            // reply: mostly by the deadline, some late, some still open (4 % not replied at all yet)
            guard let replyDue = loop.currentReplyDue, !rng.chance(0.04) else { return }
            let start = loop.lastEventOn!
            let replyOn = rng.chance(0.82) ? later(start, 1, max(1, replyDue.dayNumber - start.dayNumber)) : later(max(replyDue, start), 1, 40)
            func reply(_ on: CalendarDate) -> Bool {
                let cat: String? = type.categories.isEmpty ? nil : rng.pick(["A", "A", "A", "B", "B", "C", "D"])
                return emit(CaseEvent(.reply, on, unit: current, category: cat, head: rng.chance(0.4),
                                      note: cat == "A" ? "已解决" : cat == "B" ? "已列入计划，正在推进" : "已答复"))
            }
            guard reply(replyOn) else { return }
            if type.verify {
                if rng.chance(0.15) {
                    guard emit(CaseEvent(.verify, later(replyOn, 1, 7), unit: "指挥部", passed: false, note: "现场复核未整改到位")) else { return }
                    guard reply(later(loop.lastEventOn!, 2, 20)) else { return }
                }
                guard emit(CaseEvent(.verify, later(loop.lastEventOn!, 1, 7), unit: "指挥部", passed: true)) else { return }
            }
            if type.evaluate {
                let roll = rng.unit()
                let rating: CaseRating = roll < 0.7 ? .satisfied : roll < 0.9 ? .basicallySatisfied : .unsatisfied
                guard emit(CaseEvent(.evaluate, later(loop.lastEventOn!, 2, 20), unit: requester, rating: rating)) else { return }
                if rating == .unsatisfied {
                    let redue = loop.currentReplyDue!
                    let again = rng.chance(0.7) ? later(loop.lastEventOn!, 3, max(3, redue.dayNumber - loop.lastEventOn!.dayNumber)) : later(redue, 1, 20)
                    guard reply(again) else { return }
                    guard emit(CaseEvent(.evaluate, later(again, 2, 10), unit: requester, rating: rng.chance(0.8) ? .basicallySatisfied : .unsatisfied)) else { return }
                }
            }
            if rng.chance(0.75) { _ = emit(CaseEvent(.close, later(loop.lastEventOn!, 1, 10), unit: "指挥部")) }
        }

        func spread(_ base: CalendarDate, _ days: Int) -> CalendarDate { base.adding(days: Int(rng.next() % UInt64(days + 1))) }
        let topics = ["园区道路拓宽", "企业用工保障", "低效用地整治", "小微园区配套", "物流通道建设", "污水管网改造", "职业技能培训",
                      "科技创新平台", "融资担保服务", "电力增容", "停车难问题", "老旧小区改造", "农村公路养护", "五金产业数字化"]
        for i in 1...322 {
            let dept = rng.pick(Self.departments)
            add(type: "suggestion", ref: "\(sessionYear)-JY\(String(format: "%03d", i))",
                title: "关于加快\(rng.pick(topics))的建议", requester: i % 25 == 1 ? deputyName : "\(rng.pick(["王", "李", "陈", "胡", "应", "吕"]))代表",
                assignOn: spread(session, 20), unit: dept, co: rng.chance(0.3) ? [rng.pick(Self.towns)] : [])
        }
        for i in 1...364 {
            add(type: "proposal", ref: "\(sessionYear)-TA\(String(format: "%03d", i))", title: "关于推进\(rng.pick(topics))的提案",
                requester: "\(rng.pick(["徐", "朱", "周", "楼", "施"]))委员", assignOn: spread(session, 20), unit: rng.pick(Self.departments))
        }
        // petitions received at the conflict-mediation centre over the last five months
        for i in 1...60 {
            add(type: "petition", ref: "\(year)-XF\(String(format: "%03d", i))", title: rng.pick(["反映厂房租金纠纷", "反映噪声扰民", "反映拖欠工资", "反映征迁补偿"]),
                requester: "来访群众", assignOn: today.adding(days: -Int(rng.next() % 150)), unit: rng.pick(Self.towns + Self.departments))
        }
        // a 永商会客厅 evening with 14 entrepreneurs, three weeks ago
        let evening = yongshangEvening
        for i in 1...14 {
            let own = i == 1 && enterpriseName != nil
            add(type: "enterprise_request", ref: "\(year)-QY\(String(format: "%03d", i))",
                title: rng.pick(["希望协调解决扩产用地", "申请电力增容", "反映员工子女入学难", "希望加快技改项目审批", "反映园区道路破损"]),
                requester: own ? enterpriseName! : "企业家\(i)", assignOn: evening, unit: rng.pick(Self.departments),
                code: own ? (enterpriseCode ?? "") : "")
        }
        // 五整治五提升 rectification items, five kinds
        let kinds = ["低散乱企业整治", "违章建筑整治", "环境卫生整治", "消防安全整治", "交通秩序整治"]
        for i in 1...50 {
            let on = today.adding(days: -Int(rng.next() % 120))
            add(type: "rectification", ref: "\(year)-ZG\(String(format: "%03d", i))", title: "\(kinds[i % 5])：\(rng.pick(Self.towns))第\(i)项",
                requester: "五整治五提升专班", assignOn: on, unit: rng.pick(Self.towns), due: on.adding(days: 20 + Int(rng.next() % 40)))
        }
        // hazards of the month's safety theme (一月一主题)
        for i in 1...40 {
            let on = today.adding(days: -Int(rng.next() % 60))
            add(type: "hazard", ref: "\(year)-YH\(String(format: "%03d", i))", title: rng.pick(["电气线路老化", "消防通道堵塞", "危化品存放不规范", "厂房屋面漏雨"]),
                requester: "安委办", assignOn: on, unit: rng.pick(Self.towns), due: on.adding(days: 7 + Int(rng.next() % 21)))
        }
        // remediation tasks on low-efficiency parcels
        for (i, p) in parcels.prefix(30).enumerated() {
            let on = today.adding(days: -Int(rng.next() % 200))
            add(type: "task", ref: "\(year)-ZZ\(String(format: "%03d", i + 1))", title: "低效用地整治：地块 \(p.id)",
                requester: "指挥部", assignOn: on, unit: p.town, due: on.adding(days: 90 + Int(rng.next() % 90)), parcel: p.id)
        }
        return out
    }
}
