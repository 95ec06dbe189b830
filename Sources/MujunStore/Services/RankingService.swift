import Foundation
import FluentKit
import MujunCore

/// The per-mu evaluation as users see it: years, rankings, class counts, one enterprise's
/// result and history, runs; and the headquarters' imports and evaluation runs. Every read is
/// within the caller's scope (a town its own enterprises, an enterprise itself) and, for
/// roles that do not see drafts, published years only.
public struct RankingService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    /// Years with a (visible) evaluation, newest first.
    public func evaluatedYears() async throws -> [Int] { try await scoped.evaluatedYears() }

    /// Years with imported data, newest first.
    public func dataYears() async throws -> [Int] { try await scoped.dataYears() }

    /// The latest visible evaluated year; `notFound` when there is none.
    public func latestYear() async throws -> Int {
        guard let y = try await evaluatedYears().first else {
            throw ServiceError.notFound("尚无评价结果，请先导入数据并运行评价 / no evaluation yet: import data and run an evaluation")
        }
        return y
    }

    /// `year`, or the latest evaluated one.
    public func year(_ year: Int?) async throws -> Int {
        if let year { return year }
        return try await latestYear()
    }

    /// A page of the year's ranking. `page` and `per` are clamped (1…1,000,000; 1…10,000).
    public func results(_ f: Store.ResultFilter, sort: Store.ResultSort, descending: Bool, page: Int, per: Int) async throws -> Store.Page<Store.ResultRow> {
        try await scoped.results(f, sort: sort, descending: descending, page: min(max(page, 1), 1_000_000), per: min(max(per, 1), 10_000))
    }

    /// Class counts per town (town → class key → count).
    public func classCountsByTown(_ f: Store.ResultFilter) async throws -> [String: [String: Int]] {
        try await scoped.classCountsByTown(f)
    }

    /// Every matching result with its explanation, in ranking order (the export).
    public func fullResults(_ f: Store.ResultFilter) async throws -> [EnterpriseResult] { try await scoped.fullResults(f) }

    /// The year's current run, when visible.
    public func currentRun(year: Int) async throws -> Store.RunInfo? { try await scoped.currentRun(year: year) }

    /// The benchmarks of a run.
    public func benchmarks(runID: Int64) async throws -> [BenchmarkValue] { try await scoped.benchmarks(runID: runID) }

    /// Every run of a year (the headquarters' view of what was evaluated when, under which rules).
    public func runs(year: Int) async throws -> [Store.RunInfo] {
        try await scoped.runs(year: year)
    }

    /// One enterprise's result in a year (nil outside the scope, or not evaluated).
    public func result(creditCode: String, year: Int) async throws -> EnterpriseResult? {
        try await scoped.result(creditCode: CreditCode.normalize(creditCode), year: year)
    }

    /// One enterprise's history over the years (visible years only).
    public func history(creditCode: String) async throws -> [Store.HistoryEntry] {
        try await scoped.history(creditCode: CreditCode.normalize(creditCode))
    }

    /// The result and history of an enterprise; `notFound` outside the scope.
    public func enterprise(creditCode: String, year: Int) async throws -> (result: EnterpriseResult, history: [Store.HistoryEntry]) {
        let code = CreditCode.normalize(creditCode)
        guard let r = try await result(creditCode: code, year: year) else {
            throw ServiceError.notFound("\(year) 年度没有该企业的评价结果 / no result for \(code) in \(year)")
        }
        return (r, try await history(creditCode: code))
    }

    /// Runs the evaluation of a stored year under the rules in force and stores it.
    public func evaluate(year: Int) async throws -> (Store.RunInfo, EvaluationOutcome) {
        try caller.require(.runEvaluation)
        do {
            return try await unscoped.evaluate(year: year, rules: context.rules, rulesYAML: context.rulesYAML,
                                               actor: caller.actor, detail: caller.detail(nil))
        } catch let e as StoreError {
            throw ServiceError(.unprocessable, e.description)
        }
    }

    /// Reads an uploaded spreadsheet (CSV in UTF-8/GB18030, or XLSX) and imports it, all or
    /// nothing: an `ImportFailure` lists every bad row and nothing is written.
    public func importEnterprises(data: Data, fileName: String, year: Int?, encoding: TextEncodingChoice?) async throws -> Store.ImportSummary {
        try caller.require(.importData)
        let records = try Self.read(data: data, year: year, encoding: encoding, rules: context.rules)
        return try await importEnterprises(records, fileName: fileName)
    }

    /// Imports checked records, all or nothing.
    public func importEnterprises(_ records: [EnterpriseRecord], fileName: String) async throws -> Store.ImportSummary {
        try caller.require(.importData)
        return try await unscoped.importEnterprises(records, fileName: fileName, actor: caller.actor, detail: caller.detail(nil))
    }

    /// The records of an uploaded spreadsheet, or the failure naming every bad row.
    static func read(data: Data, year: Int?, encoding: TextEncodingChoice?, rules: Rules) throws -> [EnterpriseRecord] {
        guard !data.isEmpty else { throw ServiceError.invalid("上传的文件为空 / the uploaded file is empty") }
        let table: any TableSource = data.starts(with: [0x50, 0x4B, 0x03, 0x04])
            ? try XLSXTable(data: data) : try CSVTable(data: data, encoding: encoding)
        return try EnterpriseImport.read(table, year: year, rules: rules)
    }
}
