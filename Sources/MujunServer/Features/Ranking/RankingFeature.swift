import Foundation
import Vapor
import MujunCore
import MujunStore

/// The per-mu evaluation: the ranking, one enterprise, the rules, the Excel export, and the
/// JSON API over them; the headquarters' imports and evaluation runs.
enum RankingFeature: Feature {
    static let endpoints: [Endpoint] = [
        .page("/ranking", .permission(.viewResults), "亩均排名 / the ranking", tag: "results", parameters: ResultsQuery.self) { req, q in
            try await rankingPage(req, q)
        },
        .page("/enterprises/:code", .permission(.viewEnterprise), "企业评价详情 / one enterprise", tag: "results",
              parameters: EnterpriseQuery.self) { req, q in
            try await enterprisePage(req, q)
        },
        .page("/rules", .permission(.viewRules), "评价规则 / the rules in force", tag: "rules", parameters: NoParameters.self) { req, _ in
            try await rulesPage(req)
        }.with { $0.publicKey = "rules" },
        .download("/export/ranking.xlsx", .permission(.viewResults), "导出排名 Excel / the ranking as XLSX", tag: "export",
                  parameters: ResultsQuery.self, mediaType: Page.xlsxType) { req, q in
            try await exportRanking(req, q)
        },
        .json(.GET, "/api/v1/years", .signedIn, "有评价结果和有数据的年度 / years evaluated and years with data", tag: "results", parameters: NoParameters.self,
              output: YearsDTO.self) { req, _ in
            YearsDTO(evaluated: try await req.service.ranking.evaluatedYears(), data: try await req.service.ranking.dataYears())
        },
        .json(.GET, "/api/v1/results", .permission(.viewResults), "排名（分页）/ a page of the ranking", tag: "results",
              parameters: ResultsQuery.self, output: ResultPageDTO.self) { req, q in
            try await results(req, q)
        },
        .json(.GET, "/api/v1/results/counts", .permission(.viewResults), "各镇街分类统计 / class counts per town", tag: "results",
              parameters: ResultsQuery.self, output: CountsDTO.self) { req, q in
            try await counts(req, q)
        },
        .json(.GET, "/api/v1/enterprises/:code", .permission(.viewEnterprise), "企业评价结果与历年记录 / one enterprise's result and history",
              tag: "results", parameters: EnterpriseQuery.self, output: EnterpriseDTO.self) { req, q in
            let ranking = req.service.ranking
            let (result, history) = try await ranking.enterprise(creditCode: q.code.value, year: try await ranking.year(q.year?.int))
            return EnterpriseDTO(result: result, history: history)
        },
        .json(.GET, "/api/v1/rules", .permission(.viewRules), "现行评价规则 / the rules in force", tag: "rules", parameters: NoParameters.self, output: RulesDTO.self) { req, _ in
            let c = req.application.serviceContext
            return RulesDTO(yaml: c.rulesYAML, name: c.rules.name, weights: c.rules.weights)
        }.with { $0.publicKey = "rules" },
        .json(.GET, "/api/v1/evaluations", .permission(.runEvaluation), "某年度的评价运行 / the runs of a year", tag: "evaluations",
              parameters: YearQuery.self, output: [Store.RunInfo].self) { req, q in
            let ranking = req.service.ranking
            return try await ranking.runs(year: try await ranking.year(q.year?.int))
        },
        .json(.POST, "/api/v1/evaluations", .permission(.runEvaluation), "运行评价 / run the evaluation of a year", tag: "evaluations", parameters: NoParameters.self,
              body: EvaluateRequest.self, output: RunDTO.self, errors: [422]) { req, _, body in
            let (run, outcome) = try await req.service.ranking.evaluate(year: body.year.int)
            var counts: [String: [String: Int]] = [:]
            for g in EnterpriseGroup.allCases {
                counts[g.rawValue] = Dictionary(uniqueKeysWithValues: outcome.classCounts(g).map { ($0.key.rawValue, $0.value) })
            }
            return RunDTO(id: run.id, year: run.year, enterprises: run.enterprises, evaluated: run.evaluated,
                          createdAt: run.createdAt, classCounts: counts)
        },
        .bytes(.POST, "/api/v1/imports/enterprises", .permission(.importData),
             "导入企业亩均数据（CSV/XLSX，全部成功或全部不写入）/ import enterprise data, all or nothing", tag: "imports",
             parameters: ImportQuery.self, documents: Store.ImportSummary.self, keys: .snakeCase, body: [.file, .multipart], status: .created,
             errors: [413, 422]) { req, q in
            try await importEnterprises(req, q)
        }.with { $0.maxBody = nil },
    ]

    // MARK: parameters

    /// The filters of the ranking, its API and its export.
    struct ResultsQuery: Decodable, Sendable {
        var year: Year?
        var group: GroupParam?
        var town: NameText?
        var `class`: ClassParam?
        var q: SearchText?
        var sort: SortParam?
        var order: SortOrder?
        var page: PageNumber?
        var per: PerPage?

        func filter(year: Int) -> Store.ResultFilter {
            Store.ResultFilter(year: year, group: group?.group, town: town?.value.nilIfEmpty, cls: `class`?.rawValue, search: q?.value.nilIfEmpty)
        }
    }

    struct EnterpriseQuery: Decodable, Sendable { var code: CodeText; var year: Year? }
    struct YearQuery: Decodable, Sendable { var year: Year? }
    struct ImportQuery: Decodable, Sendable { var year: Year?; var filename: NameText?; var encoding: EncodingParam? }
    struct EvaluateRequest: Codable, Sendable { var year: Year }

    enum GroupParam: String, ParameterEnum {
        case above, below
        var group: EnterpriseGroup { self == .above ? .above : .below }
    }
    enum ClassParam: String, ParameterEnum { case A, B, C, D, exempt }
    enum SortOrder: String, ParameterEnum { case asc, desc }
    enum EncodingParam: String, ParameterEnum {
        case utf8 = "utf-8", gb18030, gbk
        var choice: TextEncodingChoice? { TextEncodingChoice(name: rawValue) }
    }

    // MARK: pages

    static func rankingPage(_ req: Request, _ q: ResultsQuery) async throws -> Response {
        let ranking = req.service.ranking
        let years = try await ranking.evaluatedYears()
        guard let latest = years.first else {
            return RankingViews.emptyState(dataYears: try await ranking.dataYears(), year: q.year?.int, evaluated: [])
        }
        let params = RankingParams(q, defaultYear: latest)
        guard let run = try await ranking.currentRun(year: params.year) else {
            return RankingViews.emptyState(dataYears: try await ranking.dataYears(), year: params.year, evaluated: years)
        }
        let page = try await ranking.results(params.filter, sort: params.sort, descending: params.descending,
                                             page: params.page, per: params.per)
        let view = RankingView(params: params, years: years, towns: req.service.towns, page: page,
                               byTown: try await ranking.classCountsByTown(params.filter),
                               benchmarks: try await ranking.benchmarks(runID: run.id).filter { $0.group == params.group }, run: run)
        return RankingViews.ranking(view)
    }

    static func enterprisePage(_ req: Request, _ q: EnterpriseQuery) async throws -> Response {
        let ranking = req.service.ranking
        let code = CreditCode.normalize(q.code.value)
        let years = try await ranking.evaluatedYears()
        guard let y = q.year?.int ?? years.first, let result = try await ranking.result(creditCode: code, year: y) else {
            return RankingViews.notFound(code: q.code.value, year: q.year?.int)
        }
        let view = EnterpriseView(result: result, history: try await ranking.history(creditCode: code), years: years)
        return RankingViews.enterprise(view, after: try await CaseViews.linked(req, Store.CaseQuery(creditCode: code), what: "本企业"))
    }

    static func rulesPage(_ req: Request) async throws -> Response {
        let context = req.application.serviceContext
        let ranking = req.service.ranking
        let years = try await ranking.evaluatedYears()
        var runs: [Store.RunInfo] = []
        var current: Int64?
        if let y = years.first {
            runs = try await ranking.runs(year: y)
            current = try await ranking.currentRun(year: y)?.id
        }
        return RankingViews.rules(context.rules, yaml: context.rulesYAML, year: years.first, runs: runs, currentRun: current)
    }

    // MARK: API

    static func results(_ req: Request, _ q: ResultsQuery) async throws -> ResultPageDTO {
        let ranking = req.service.ranking
        let year = try await ranking.year(q.year?.int)
        let page = try await ranking.results(q.filter(year: year), sort: q.sort?.sort ?? .rank, descending: q.order == .desc,
                                             page: q.page?.int ?? 1, per: q.per?.int ?? 50)
        return ResultPageDTO(year: year, items: page.items.map(ResultItemDTO.init), total: page.total, page: page.page, per: page.per)
    }

    static func counts(_ req: Request, _ q: ResultsQuery) async throws -> CountsDTO {
        let ranking = req.service.ranking
        let year = try await ranking.year(q.year?.int)
        let f = q.filter(year: year)
        let byTown = try await ranking.classCountsByTown(f)
        var total: [String: Int] = [:]
        for (_, c) in byTown { for (k, n) in c { total[k, default: 0] += n } }
        return CountsDTO(year: year, group: f.group?.rawValue, byTown: byTown, total: total)
    }

    static func exportRanking(_ req: Request, _ q: ResultsQuery) async throws -> Response {
        let ranking = req.service.ranking
        let year = try await ranking.year(q.year?.int)
        let filter = q.filter(year: year)
        guard let run = try await ranking.currentRun(year: year) else {
            throw Abort(.notFound, reason: "\(year) 年度尚无评价结果 / no evaluation for \(year)")
        }
        let results = try await ranking.fullResults(filter)
        let benchmarks = try await ranking.benchmarks(runID: run.id)
        let rules = (try? Rules(yaml: run.rulesYAML)) ?? req.application.serviceContext.rules
        let data = try RankingExport.workbook(results: results, benchmarks: benchmarks, filter: filter, run: run, rules: rules).data()
        return Page.download(data, type: Page.xlsxType, asciiName: "ranking-\(year).xlsx",
                             name: RankingExport.fileName(year: year, group: filter.group))
    }

    /// Body: the file itself (CSV or XLSX bytes), or a multipart form with a `file` field.
    static func importEnterprises(_ req: Request, _ q: ImportQuery) async throws -> Response {
        let data: Data
        if let ct = req.headers.contentType, ct.type == "multipart" {
            try MultipartGuard.check(req)
            struct Upload: Decodable { var file: File? }
            guard let file = (try? req.content.decode(Upload.self))?.file else {
                throw Abort(.badRequest, reason: "表单中缺少文件字段 file / the form has no file field")
            }
            data = Data(buffer: file.data)
        } else {
            guard let body = req.body.data, body.readableBytes > 0 else { throw Abort(.badRequest, reason: "请求体为空 / empty body") }
            data = Data(buffer: body)
        }
        do {
            let summary = try await req.service.ranking.importEnterprises(data: data, fileName: q.filename?.value ?? "upload",
                                                                           year: q.year?.int, encoding: q.encoding?.choice)
            return try Endpoint.encode(summary, status: .created, for: req)
        } catch let f as ImportFailure {
            // a spreadsheet past the inflated-size or cell limits: 413, refused before it was read whole
            let status: HTTPResponseStatus = f.limitExceeded != nil ? .payloadTooLarge : .unprocessableEntity
            return try Endpoint.encode(ErrorDTO(error: f.errors.first.map { $0.description } ?? "导入失败 / import failed",
                                                status: String(status.code), errors: f.errors, omitted: f.omitted),
                                       status: status, for: req)
        }
    }
}

enum CodeBounds: TextBounds { static let maxLength = 40 }
/// A credit code or parcel id in a path (at most 40 characters).
typealias CodeText = Text<CodeBounds>

/// The sort keys of a ranking (`Store.ResultSort`).
enum SortParam: String, ParameterEnum {
    case rank, total, name, town, land, tax_per_mu, `class`
    var sort: Store.ResultSort { Store.ResultSort(rawValue: rawValue) ?? .rank }
}

// MARK: - answers

struct YearsDTO: Content { var evaluated: [Int]; var data: [Int] }

/// One row of a result list, as the API returns it.
struct ResultItemDTO: Content {
    var creditCode: String
    var name: String
    var town: String
    var group: String
    var groupName: String
    var evaluated: Bool
    var exemptReason: String?
    var landMu: Double?
    var taxPerMu: Double?
    var totalScore: Double?
    var rank: Int?
    var classBeforeVeto: String?
    var cls: String?
    var vetoes: [String]

    enum CodingKeys: String, CodingKey {
        case creditCode, name, town, group, groupName, evaluated, exemptReason, landMu, taxPerMu, totalScore, rank
        case classBeforeVeto, cls = "class", vetoes
    }

    init(_ r: Store.ResultRow) {
        creditCode = r.creditCode; name = r.name; town = r.town; group = r.group
        groupName = EnterpriseGroup(rawValue: r.group)?.chinese ?? r.group
        evaluated = r.evaluated; exemptReason = r.exemptReason; landMu = HTML.finite(r.landMu); taxPerMu = HTML.finite(r.taxPerMu)
        totalScore = HTML.finite(r.totalScore); rank = r.rank; classBeforeVeto = r.classBefore; cls = r.finalClass
        vetoes = r.veto.map { $0.split(separator: ";").map(String.init) } ?? []
    }
}

struct ResultPageDTO: Content {
    var year: Int
    var items: [ResultItemDTO]
    var total: Int
    var page: Int
    var per: Int
}

struct EnterpriseDTO: Content {
    var result: EnterpriseResult
    var history: [Store.HistoryEntry]
}

struct CountsDTO: Content {
    var year: Int
    var group: String?
    /// town → class (A/B/C/D/exempt) → count
    var byTown: [String: [String: Int]]
    var total: [String: Int]
}

struct RulesDTO: Content { var yaml: String; var name: String; var weights: [String: [String: Double]] }

struct RunDTO: Content {
    var id: Int64
    var year: Int
    var enterprises: Int
    var evaluated: Int
    var createdAt: Date
    var classCounts: [String: [String: Int]]
}

extension Store.ImportSummary: Content {}
extension Store.RunInfo: Content {}
