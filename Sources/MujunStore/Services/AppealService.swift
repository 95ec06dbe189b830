import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Appeals (申诉): an enterprise disputes a figure of its own evaluation during the publicity
/// period; the headquarters accepts (签收), replies (答复: upheld, the figure corrected and the
/// year re-evaluated, or rejected); the enterprise rates the reply (评价) and the appeal is
/// closed (销号). Reads are within the caller's scope; every step is one transaction. The loop
/// is the case engine's (`CaseType.appeal`, one case per appeal): a step here is the engine's
/// step on that case, with the appeal's own work (the correction and re-evaluation) inside it.
public struct AppealService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    public static let maxReason = 2000
    public static let maxAnswer = 2000
    public static let maxNote = 200
    public static let maxAttachment = 10 << 20
    /// The largest request body of a filing (attachment and form fields).
    public static let maxRequest = maxAttachment + (1 << 20)

    /// An appeal as a reader sees it: with the enterprise's name, and the results kept with
    /// it only when the reader may see that year's results.
    public struct View: Sendable {
        public var appeal: Store.Appeal
        public var enterpriseName: String?
        public var before: EnterpriseResult?
        public var after: EnterpriseResult?
    }

    /// What a filing sends.
    public struct Filing: Sendable {
        public var year: Int?
        public var field: String?
        public var claimedValue: String?
        public var reason: String?
        public var attachment: UploadedFile?
        public init(year: Int?, field: String?, claimedValue: String?, reason: String?, attachment: UploadedFile?) {
            self.year = year; self.field = field; self.claimedValue = claimedValue; self.reason = reason; self.attachment = attachment
        }
    }

    // MARK: reading

    /// The appeals the caller may see, newest first, optionally of a year and a state.
    public func list(year: Int? = nil, state: CaseState? = nil) async throws -> [View] {
        try caller.require(.viewAppeals)
        var appeals = try await unscoped.appeals(year: year, scope: caller.scope)
        if let state { appeals = appeals.filter { $0.state == state.rawValue } }
        return try await views(appeals)
    }

    /// Years that have appeals the caller may see.
    public func years() async throws -> [Int] {
        try caller.require(.viewAppeals)
        return Array(Set(try await unscoped.appeals(scope: caller.scope).map(\.year))).sorted(by: >)
    }

    /// Counts per state of the caller's appeals (of a year).
    public func stateCounts(year: Int?) async throws -> [CaseState: Int] {
        try caller.require(.viewAppeals)
        var counts: [CaseState: Int] = [:]
        for a in try await unscoped.appeals(year: year, scope: caller.scope) { counts[a.caseState, default: 0] += 1 }
        return counts
    }

    /// One appeal the caller may see; `notFound` otherwise (also for another town's or
    /// enterprise's id, which reads as if it did not exist).
    public func appeal(id: Int64) async throws -> View {
        try caller.require(.viewAppeals)
        return try await views([try await visible(id)])[0]
    }

    /// The history of an appeal the caller may see: its case's events, each with the appeal's
    /// state before and after it (filing is one event: 已提交).
    public func events(id: Int64) async throws -> [Store.CaseEvent] {
        _ = try await visible(id)
        guard let c = try await unscoped.appealCase(appealID: id) else { return [] }
        var loop = CaseLoop(type: .appeal)
        var out: [Store.CaseEvent] = []
        for e in try await unscoped.loopEvents(caseID: c.id) {
            guard let ev = e.event else { continue }
            let before = loop.state
            try? loop.apply(ev, calendar: context.calendar)
            if ev.kind == .register { continue }
            let from: String? = ev.kind == .assign && before == .registered ? nil : CaseState(loop: before).rawValue
            let note = ev.kind == .assign ? (out.isEmpty ? c.body : ev.note) : ev.note
            out.append(Store.CaseEvent(fromState: from, toState: CaseState(loop: loop.state).rawValue, actor: e.actor,
                                       note: note.isEmpty ? nil : note, at: Date(timeIntervalSince1970: Double(e.recordedUs) / 1_000_000)))
        }
        return out
    }

    /// The attachment of an appeal the caller may see.
    public func attachment(id: Int64) async throws -> UploadedFile {
        _ = try await visible(id)
        guard let (name, data) = try await unscoped.appealAttachment(id: id) else {
            throw ServiceError.notFound("该申诉没有附件 / no attachment")
        }
        return UploadedFile(filename: name, data: data)
    }

    func visible(_ id: Int64) async throws -> Store.Appeal {
        guard let a = try await unscoped.appeal(id: id), caller.scope.contains(town: a.town, creditCode: a.creditCode) else {
            throw ServiceError.notFound("申诉不存在 / appeal not found")
        }
        return a
    }

    func views(_ appeals: [Store.Appeal]) async throws -> [View] {
        let names = try await unscoped.enterpriseNames(Array(Set(appeals.map(\.creditCode))))
        var visibleYears: [Int: Bool] = [:]
        var out: [View] = []
        for a in appeals {
            if visibleYears[a.year] == nil {
                visibleYears[a.year] = caller.seesDrafts ? true : try await unscoped.publication(year: a.year).status != .draft
            }
            let show = visibleYears[a.year] ?? false
            out.append(View(appeal: a, enterpriseName: names["\(a.year)|\(a.creditCode)"] ?? names[a.creditCode],
                            before: show ? Self.decode(a.resultBefore) : nil, after: show ? Self.decode(a.resultAfter) : nil))
        }
        return out
    }

    static func decode(_ json: String?) -> EnterpriseResult? {
        guard let json else { return nil }
        return try? Store.jsonDecoder.decode(EnterpriseResult.self, from: Data(json.utf8))
    }

    /// The current figures of the caller's own enterprise in a year (what an appeal can dispute).
    public func figures(year: Int) async throws -> [AppealField: Double] {
        guard let code = caller.principal?.creditCode else { return [:] }
        return try await unscoped.figures(year: year, creditCode: code) ?? [:]
    }

    // MARK: filing

    /// Checks a filing by the caller's own enterprise and stores it; returns the new id.
    public func file(_ f: Filing) async throws -> Int64 {
        try caller.require(.fileAppeal)
        guard let code = caller.principal?.creditCode else {
            throw ServiceError(.forbidden, "本账号未关联企业 / the account has no enterprise")
        }
        let years = try await scoped.evaluatedYears()
        guard let year = f.year ?? years.first, years.contains(year),
              let result = try await scoped.result(creditCode: code, year: year) else {
            throw ServiceError.notFound("本企业\(f.year.map { "\($0) 年度" } ?? "")没有已公示的评价结果，不能申诉 / no published result to appeal")
        }
        let pub = try await unscoped.publication(year: year)
        guard pub.inPublicity(day: ChinaDay.today()) else {
            let period = pub.publicityStart.map { "（公示期 \($0) 至 \(pub.publicityEnd ?? "")）" } ?? ""
            throw ServiceError.conflict("\(year) 年度结果不在公示期内\(period)，不能提出申诉 / appeals are accepted only during the publicity period")
        }
        guard let raw = f.field, let field = AppealField(rawValue: raw) else {
            throw ServiceError.invalid("请选择申诉的数据项 / choose the figure you dispute")
        }
        let claimed = try Self.number(f.claimedValue ?? "", field: field, label: "申报值")
        let figures = try await unscoped.figures(year: year, creditCode: code) ?? [:]
        let current = figures[field]
        if let current, current == claimed {
            throw ServiceError.invalid("申报值与当前值（\(formatNumber(current))）相同 / the claimed value equals the current one")
        }
        let reason = (f.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw ServiceError.invalid("请填写申诉理由 / the reason is required") }
        guard reason.count <= Self.maxReason else {
            throw ServiceError.invalid("申诉理由不能超过 \(Self.maxReason) 字（当前 \(reason.count) 字）/ the reason is too long")
        }
        let attachment: UploadedFile?
        do {
            attachment = try UploadCheck.check(f.attachment, maxBytes: Self.maxAttachment, kinds: ["pdf", "jpg", "png"], fallbackStem: "附件")
        } catch .tooLarge {
            throw ServiceError(.tooLarge, "附件不能超过 10 MB / the attachment is larger than 10 MB")
        } catch {
            throw ServiceError(.unsupportedType, "附件仅支持 PDF、JPG、PNG 格式，请转换后重新上传 / only PDF, JPG and PNG attachments are accepted")
        }
        let actor = caller.actor, detail = caller.detail("\(field.chinese)：\(current.map(formatNumber) ?? "空") → \(formatNumber(claimed))")
        let userID = caller.principal?.userID, calendar = context.calendar, today = CalendarDate(ChinaDay.today())!
        return try await unscoped.db.transaction { db in
            let tx = Store(db)
            let id = try await tx.insertAppeal(year: year, creditCode: code, town: result.town, field: field, currentValue: current,
                                               claimedValue: claimed, reason: reason, attachment: attachment, actor: actor)
            // after the insert, inside its transaction: a second filing at the same moment finds this one
            let open = try await tx.appeals(year: year, scope: .enterprise(code))
                .first { $0.id != id && $0.field == field.rawValue && CaseState.awaitingDecision.contains($0.caseState) }
            if let open {
                throw ServiceError.conflict("\(field.chinese)已有未答复的申诉 #\(open.id)，请等待答复 / an appeal on this figure is still open")
            }
            try await tx.insertAppealCase(appealID: id, creditCode: code, town: result.town, field: field, reason: reason,
                                          requester: result.name, requesterUser: userID, on: today, calendar: calendar,
                                          actor: actor, recordedUs: Store.nowMicros())
            try await tx.audit(actor: actor, action: "appeal.file", target: "申诉 #\(id) \(code)", detail: detail)
            return id
        }
    }

    /// Parses a figure: finite, not absurdly large, negative only where the field allows it.
    public static func number(_ raw: String, field: AppealField, label: String) throws(ServiceError) -> Double {
        let s = raw.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ",", with: "")
            .replacingOccurrences(of: "，", with: "")
        guard !s.isEmpty else { throw ServiceError.invalid("请填写\(label) / \(label) is required") }
        guard s.count <= 40, let v = Double(s), v.isFinite, abs(v) < 1e12 else {
            throw ServiceError.invalid("\(label)“\(raw.prefix(40))”不是有效数字 / not a number")
        }
        if v < 0 && !field.allowsNegative {
            throw ServiceError.invalid("\(field.chinese)不能为负数（仅评价税收、工业增加值可以为负）/ \(field.rawValue) cannot be negative")
        }
        return v
    }

    // MARK: steps

    /// The engine's step `kind` on the appeal's case, named as an appeal step in the audit log;
    /// `work` runs inside its transaction after the appeal row's state was moved with it.
    func step(_ a: Store.Appeal, _ kind: CaseEventKind, input: CaseService.StepInput = .init(), action: String,
              detail: String?, then: MujunCore.CaseEvent? = nil, extra: [(String, any SQLExpression)] = [],
              work: (@Sendable (Store) async throws -> String?)? = nil) async throws {
        guard let c = try await unscoped.appealCase(appealID: a.id) else {
            throw ServiceError(.unprocessable, "申诉 #\(a.id) 没有办理记录 / the appeal has no case")
        }
        let cases = services.cases
        var input = input
        input.unit = CaseType.appealUnit
        var p: CaseService.PreparedStep
        do { p = try await cases.prepareStep(c, kind, input) } catch let e as ServiceError where e.kind == .conflict {
            // the engine refused the step in this state: said as the appeal pages say it
            let target: CaseState = kind == .accept ? .accepted : kind == .reply ? .replied : kind == .evaluate ? .evaluated : .closed
            throw ServiceError.conflict(Store.AppealError.badTransition(from: a.caseState, to: target).description)
        }
        // a rating closes the appeal at once (评价 → 销号): the second event in the same step
        var closing: MujunCore.CaseEvent?
        if let then {
            var loop = p.loop
            do { try loop.apply(then, calendar: context.calendar) } catch {
                throw ServiceError(.conflict, "申诉 #\(a.id)：\(error.zh) / appeal #\(a.id): \(error.en)")
            }
            p.loop = loop
            p.step.to = loop.state.rawValue
            p.step.set = Store.loopColumns(loop).filter { $0.0 != "state" } + [("version", SQLLiteral.numeric("version + 1"))]
            closing = then
        }
        p.step.subject = "申诉 #\(a.id)"
        p.step.action = action
        p.step.detail = detail
        p.step.stateName = { CaseState(loop: CaseLoop.State(rawValue: $0) ?? .assigned).chinese }
        p.step.conflictMessage = "申诉 #\(a.id) 当前为“\(a.caseState.chinese)”，已被他人处理，本次\(kind.chinese)未保存 / the appeal was changed by someone else"
        let to = CaseState(loop: p.loop.state), from = a.state, appealID = a.id, caseID = c.id, seq = p.seq + 1
        let actor = caller.actor, extraColumns = extra, closingEvent = closing
        try await cases.perform(p) { tx in
            if let closingEvent {
                try await tx.insertLoopEvent(caseID: caseID, seq: seq, closingEvent, actor: actor, recordedUs: Store.nowMicros())
            }
            guard try await tx.setAppealState(id: appealID, from: from, to: to, extra: extraColumns) else {
                throw ServiceError.conflict("申诉 #\(appealID) 已被他人处理 / the appeal was changed by someone else")
            }
            return try await work?(tx) ?? detail
        }
    }

    /// The headquarters signs for an appeal (签收).
    public func accept(id: Int64, note: String?) async throws {
        try caller.require(.decideAppeal)
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        guard (note?.count ?? 0) <= Self.maxNote else { throw ServiceError.invalid("签收说明不能超过 \(Self.maxNote) 字 / the note is too long") }
        let a = try await visible(id)
        try await step(a, .accept, input: .init(note: note ?? ""), action: "appeal.accepted", detail: note)
    }

    /// The headquarters replies (答复). Upheld: the disputed figure is set to `corrected`
    /// (default the claimed value), the year is re-evaluated under the rules in force, and the
    /// result before and after is kept with the appeal — all in the step's one transaction.
    public func decide(id: Int64, outcome: AppealOutcome, answer: String, corrected rawCorrected: String?) async throws {
        try caller.require(.decideAppeal)
        var answer = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !answer.isEmpty else { throw ServiceError.invalid("请填写书面答复 / a written answer is required") }
        guard answer.count <= Self.maxAnswer else {
            throw ServiceError.invalid("书面答复不能超过 \(Self.maxAnswer) 字 / the answer is too long")
        }
        let a = try await visible(id)
        var value: Double?
        var field: AppealField?
        if outcome == .upheld {
            guard let f = a.appealField else { throw ServiceError(.unprocessable, "申诉数据项无法识别 / unknown field") }
            field = f
            var corrected: Double?
            if let c = rawCorrected, !c.trimmingCharacters(in: .whitespaces).isEmpty {
                corrected = try Self.number(c, field: f, label: "更正值")
            }
            let v = corrected ?? Double(a.claimedValue) ?? 0
            value = v
            answer += "\n（已将\(f.chinese)更正为 \(formatNumber(v))，并重新评价。）"
        }
        let note = "\(outcome.chinese)：\(answer)"
        let rules = context.rules, yaml = context.rulesYAML, actor = caller.actor
        let correction = field.flatMap { f in value.map { (f, $0) } }
        let extra: [(String, any SQLExpression)] = [("answer", SQLBind(answer)), ("decided_by", SQLBind(caller.actor)), ("decided_at", SQLBind(Date()))]
        try await step(a, .reply, input: .init(note: String(note.prefix(CaseService.maxNote))), action: "appeal.\(outcome.rawValue)",
                       detail: note, extra: extra) { tx in
            let before = try await tx.result(creditCode: a.creditCode, year: a.year)
            var after: EnterpriseResult?
            if let (field, value) = correction {
                var records = try await tx.records(year: a.year)
                guard let i = records.firstIndex(where: { $0.creditCode == a.creditCode }) else {
                    throw ServiceError(.unprocessable, Store.AppealError.noData.description)
                }
                field.set(value, on: &records[i])
                _ = try await tx.importEnterprises([records[i]], fileName: "申诉 #\(id) 更正", actor: actor)
                let (_, outcome) = try await tx.evaluate(year: a.year, rules: rules, rulesYAML: yaml, actor: actor)
                after = outcome.results.first { $0.creditCode == a.creditCode }
            }
            func json(_ r: EnterpriseResult?) -> String? {
                r.flatMap { try? Store.jsonEncoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) }
            }
            try await tx.sql.update("appeals").set("result_before", to: SQLBind(json(before)))
                .set("result_after", to: SQLBind(json(after))).where("id", .equal, id).run()
            let change = after.map { "；分类 \(before?.finalClass?.rawValue ?? "—") → \($0.finalClass?.rawValue ?? "—")，总分 \(formatScore(before?.totalScore ?? 0)) → \(formatScore($0.totalScore ?? 0))" } ?? ""
            return note + change
        }
    }

    /// The enterprise rates the reply (1–5) and the appeal is closed (评价, 销号).
    public func rate(id: Int64, rating: Int) async throws {
        try caller.require(.fileAppeal)
        guard let r = CaseRating(score: rating) else { throw ServiceError.invalid("评价应为 1 到 5 分 / rating must be 1 to 5") }
        let a = try await visible(id)
        guard let code = caller.principal?.creditCode, a.creditCode == code else {
            throw ServiceError.notFound("申诉不存在 / appeal not found")
        }
        let today = CalendarDate(ChinaDay.today())!
        try await step(a, .evaluate, input: .init(rating: r.rawValue, note: "评价 \(rating) 分"), action: "appeal.rate",
                       detail: "评价 \(rating) 分，销号", then: MujunCore.CaseEvent(.close, today, unit: CaseType.appealUnit),
                       extra: [("rating", SQLBind(rating))])
    }
}

extension String {
    public var nilIfEmpty: String? { isEmpty ? nil : self }
}
