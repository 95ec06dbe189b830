import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Publication of a year's results: draft (草稿, headquarters only) → publicity (公示: visible
/// to towns and enterprises, appeals accepted within the period) → final (正式). Every change
/// is a step: it applies only from the state the user saw, else 409.
public struct PublicationService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    /// A year as the publication page shows it.
    public struct YearStatus: Sendable {
        public var year: Int
        public var publication: Store.Publication
        public var openAppeals: Int
        public var appeals: Int
        public var run: Store.RunInfo?
    }

    /// Every evaluated year with its publication state (headquarters).
    public func years() async throws -> [YearStatus] {
        try caller.require(.publishResults)
        let store = unscoped
        var out: [YearStatus] = []
        for y in try await store.evaluatedYears() {
            let appeals = try await store.appeals(year: y, scope: .all)
            out.append(YearStatus(year: y, publication: try await store.publication(year: y),
                                  openAppeals: appeals.filter { CaseState.awaitingDecision.contains($0.caseState) }.count,
                                  appeals: appeals.count, run: try await store.currentRun(year: y)))
        }
        return out
    }

    /// The publication state of a year (anyone who may see the year may know its state).
    public func publication(year: Int) async throws -> Store.Publication { try await unscoped.publication(year: year) }

    /// What a publication change asks for.
    public enum Change: Sendable {
        /// start (or move) the publicity period, days yyyy-MM-dd (Beijing)
        case publicity(start: String, end: String)
        /// publish as final (only from publicity, with every appeal replied)
        case final
        /// back to draft
        case draft
    }

    /// Applies a change (one step, audited). `expected` is the state the user saw when asking
    /// (the page's form sends it): the step applies only from that state, so two changes sent
    /// from the same page at once cannot both apply.
    public func change(year: Int, _ change: Change, expected: PublicationStatus? = nil) async throws {
        try caller.require(.publishResults)
        let store = unscoped
        guard try await store.evaluatedYears().contains(year) else {
            throw ServiceError.notFound("\(year) 年度尚无评价结果，不能发布 / no evaluation for \(year)")
        }
        let current = try await store.publication(year: year)
        var step = Store.Step(table: "publications", key: [("year", year)], subject: "\(year) 年度评价结果", stateColumn: "status",
                              from: nil, to: nil, action: "", detail: nil, verb: ("变更", "change"),
                              stateName: { PublicationStatus(rawValue: $0)?.chinese ?? $0 })
        let now = SQLBind(Date())
        switch change {
        case .publicity(let start, let end):
            guard ChinaDay.isValid(start), ChinaDay.isValid(end) else {
                throw ServiceError.invalid("公示期的开始和结束日期应为 yyyy-MM-dd 格式的有效日期 / dates must be yyyy-MM-dd")
            }
            guard end >= start else { throw ServiceError.invalid("公示期结束日期不能早于开始日期 / the end date is before the start date") }
            guard current.status != .final else {
                throw ServiceError.conflict("\(year) 年度结果已正式发布，请先撤回为草稿再重新公示 / already final: return it to draft first")
            }
            step.from = [PublicationStatus.draft.rawValue, PublicationStatus.publicity.rawValue]
            step.to = PublicationStatus.publicity.rawValue
            step.set = [("publicity_start", SQLBind(start)), ("publicity_end", SQLBind(end))]
            step.verb = ("公示", "start the publicity period")
            step.detail = "\(current.status.chinese) → \(PublicationStatus.publicity.chinese)，公示期 \(start) 至 \(end)"
            step.action = "publication.publicity"
        case .final:
            guard current.status == .publicity else {
                throw ServiceError.conflict("只有公示中的结果才能正式发布（当前为“\(current.status.chinese)”）/ only results in publicity can be finalised")
            }
            step.from = [PublicationStatus.publicity.rawValue]
            step.to = PublicationStatus.final.rawValue
            step.verb = ("正式发布", "finalise")
            step.detail = "\(current.status.chinese) → \(PublicationStatus.final.chinese)"
            step.action = "publication.final"
        case .draft:
            guard current.status != .draft else { throw ServiceError.conflict("\(year) 年度结果已是草稿 / already a draft") }
            step.from = [PublicationStatus.publicity.rawValue, PublicationStatus.final.rawValue]
            step.to = PublicationStatus.draft.rawValue
            step.set = [("publicity_start", SQLLiteral.null), ("publicity_end", SQLLiteral.null)]
            step.verb = ("撤回为草稿", "return to draft")
            step.detail = "\(current.status.chinese) → \(PublicationStatus.draft.chinese)"
            step.action = "publication.draft"
        }
        step.set += [("updated_by", SQLBind(caller.actor)), ("updated_at", now)]
        if let expected {
            guard step.from?.contains(expected.rawValue) ?? true else {
                throw ServiceError.conflict("\(year) 年度结果为“\(expected.chinese)”时不能\(step.verb.zh) / cannot \(step.verb.en) from \(expected.rawValue)")
            }
            step.from = [expected.rawValue]
        }
        let finalising: Bool = { if case .final = change { return true } else { return false } }()
        let pending = step
        try await store.db.transaction { db in
            let tx = Store(db)
            // a year without a row is a draft: the row exists from here on, so the step can claim it
            try await tx.sql.insert(into: "publications").columns("year", "status", "updated_by", "updated_at")
                .values(SQLBind(year), SQLBind(PublicationStatus.draft.rawValue), SQLBind(caller.actor), now)
                .ignoringConflicts(with: ["year"]).run()
            try await tx.perform(pending, by: caller) { tx in
                if finalising {
                    // checked inside the step: an appeal filed meanwhile keeps the year open
                    let open = try await tx.appeals(year: year, scope: .all).filter { CaseState.awaitingDecision.contains($0.caseState) }
                    guard open.isEmpty else {
                        throw ServiceError.conflict("\(year) 年度尚有 \(open.count) 件申诉未答复，答复后才能正式发布 / \(open.count) appeals are still open")
                    }
                }
                return ((), nil)
            }
        }
    }
}

/// Calendar days in Beijing time (公示期 dates are days, yyyy-MM-dd).
public enum ChinaDay {
    public static func formatter() -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd"
        f.isLenient = false
        return f
    }

    /// Today in Asia/Shanghai.
    public static func today(_ now: Date = Date()) -> String { formatter().string(from: now) }

    /// Whether `s` is a real calendar day written yyyy-MM-dd.
    public static func isValid(_ s: String) -> Bool {
        guard s.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil else { return false }
        let f = formatter()
        guard let d = f.date(from: s) else { return false }
        return f.string(from: d) == s
    }

    /// The day `days` after `day`.
    public static func shift(_ day: String, days: Int) -> String {
        let f = formatter()
        guard let d = f.date(from: day) else { return day }
        return f.string(from: d.addingTimeInterval(Double(days) * 86400))
    }
}

extension CaseState {
    /// States in which an appeal still waits for the headquarters.
    public static let awaitingDecision: Set<CaseState> = [.assigned, .accepted, .handling]
}
