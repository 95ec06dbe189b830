import Foundation
import Vapor
import MujunCore
import MujunStore

func routes(_ app: Application) throws {
    app.get("healthz") { req async throws -> Response in
        do {
            try await req.store.ping()
            return try await HealthDTO(status: "ok", database: app.databases.ids().first?.string ?? "").encodeResponse(for: req)
        } catch {
            let r = try await HealthDTO(status: "unavailable", database: "\(error)").encodeResponse(for: req)
            r.status = .serviceUnavailable
            return r
        }
    }
    try registerStatic(app)
    try SessionController().boot(routes: app)
    try APIController().boot(routes: app.grouped("api", "v1"))
    try PageController().boot(routes: app)
    try ExportController().boot(routes: app)
    try AppealController().boot(routes: app)
    try AdminController().boot(routes: app)
    try LandController().boot(routes: app)
    try OGCController().boot(routes: app)
    app.get("openapi.json") { _ -> Response in
        Response(status: .ok, headers: ["Content-Type": "application/json; charset=utf-8"], body: .init(string: OpenAPIDocument.json))
    }
}

struct HealthDTO: Content { var status: String; var database: String }

/// Serves the project's own CSS/JS from Public/ and Chart.js/Leaflet from Debian's paths.
func registerStatic(_ app: Application) throws {
    let publicDir = app.directory.publicDirectory
    app.get("static", "**") { req -> Response in
        let parts = req.parameters.getCatchall()
        guard !parts.contains(where: { $0 == ".." || $0.hasPrefix(".") }) else { throw Abort(.notFound) }
        return try await req.fileio.asyncStreamFile(at: publicDir + parts.joined(separator: "/"))
    }
    let vendor = ["chart.js": "/usr/share/javascript/chart.js/chart.min.js",
                  "leaflet.js": "/usr/share/javascript/leaflet/leaflet.js",
                  "leaflet.css": "/usr/share/javascript/leaflet/leaflet.css"]
    app.get("vendor", ":file") { req -> Response in
        guard let name = req.parameters.get("file"), let path = vendor[name],
              FileManager.default.fileExists(atPath: path) else { throw Abort(.notFound, reason: "未安装该前端库 / library not installed") }
        return try await req.fileio.asyncStreamFile(at: path)
    }
}

/// Query parameters shared by the ranking page, the API and the export.
struct ResultQuery: Content {
    var year: Int?
    var group: String?
    var town: String?
    var `class`: String?
    var q: String?
    var sort: String?
    var order: String?
    var page: Int?
    var per: Int?

    func filter(defaultYear: Int) throws -> Store.ResultFilter {
        var g: EnterpriseGroup?
        if let group, !group.isEmpty {
            guard let parsed = EnterpriseGroup(text: group) else {
                throw Abort(.badRequest, reason: "group 应为 above 或 below / group must be above or below")
            }
            g = parsed
        }
        if let c = `class`, !c.isEmpty, EnterpriseClass(rawValue: c) == nil, c != "exempt" {
            throw Abort(.badRequest, reason: "class 应为 A、B、C、D 或 exempt / class must be A, B, C, D or exempt")
        }
        return Store.ResultFilter(year: year ?? defaultYear, group: g, town: town, cls: `class`, search: q)
    }

    var sortKey: Store.ResultSort { sort.flatMap(Store.ResultSort.init(rawValue:)) ?? .rank }
    var descending: Bool { order == "desc" }
}

/// The latest evaluated year, or 400 when nothing was evaluated yet.
func latestYear(_ req: Request) async throws -> Int {
    guard let y = try await req.store.evaluatedYears().first else {
        throw Abort(.notFound, reason: "尚无评价结果，请先导入数据并运行评价 / no evaluation yet: import data and run an evaluation")
    }
    return y
}

/// The given year, or the latest evaluated one.
func yearOrLatest(_ year: Int?, _ req: Request) async throws -> Int {
    if let year { return year }
    return try await latestYear(req)
}

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
        evaluated = r.evaluated; exemptReason = r.exemptReason; landMu = r.landMu; taxPerMu = r.taxPerMu
        totalScore = r.totalScore; rank = r.rank; classBeforeVeto = r.classBefore; cls = r.finalClass
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

struct EvaluateRequest: Content { var year: Int }

struct RunDTO: Content {
    var id: Int64
    var year: Int
    var enterprises: Int
    var evaluated: Int
    var createdAt: Date
    var classCounts: [String: [String: Int]]
}

struct ImportErrorDTO: Content {
    var error: String
    var errors: [RowError]
    var omitted: Int
}

struct APIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("years", use: years)
        routes.get("results", use: results)
        routes.get("results", "counts", use: counts)
        routes.get("enterprises", ":code", use: enterprise)
        routes.get("rules", use: rules)
        routes.get("evaluations", use: runs)
        routes.post("evaluations", use: evaluate)
        routes.on(.POST, "imports", "enterprises", body: .collect(maxSize: nil), use: importEnterprises)
    }

    func years(req: Request) async throws -> [String: [Int]] {
        ["evaluated": try await req.store.evaluatedYears(), "data": try await req.store.dataYears()]
    }

    func results(req: Request) async throws -> ResultPageDTO {
        let q = try req.query.decode(ResultQuery.self)
        let year = try await yearOrLatest(q.year, req)
        let page = try await req.store.results(try q.filter(defaultYear: year), sort: q.sortKey, descending: q.descending,
                                               page: q.page ?? 1, per: q.per ?? 50)
        return ResultPageDTO(year: year, items: page.items.map(ResultItemDTO.init), total: page.total, page: page.page, per: page.per)
    }

    func counts(req: Request) async throws -> CountsDTO {
        let q = try req.query.decode(ResultQuery.self)
        let year = try await yearOrLatest(q.year, req)
        let f = try q.filter(defaultYear: year)
        let byTown = try await req.store.classCountsByTown(f)
        var total: [String: Int] = [:]
        for (_, c) in byTown { for (k, n) in c { total[k, default: 0] += n } }
        return CountsDTO(year: year, group: f.group?.rawValue, byTown: byTown, total: total)
    }

    func enterprise(req: Request) async throws -> EnterpriseDTO {
        let code = CreditCode.normalize(req.parameters.get("code") ?? "")
        let year = try await yearOrLatest(req.query[Int.self, at: "year"], req)
        guard let result = try await req.store.result(creditCode: code, year: year) else {
            throw Abort(.notFound, reason: "\(year) 年度没有该企业的评价结果 / no result for \(code) in \(year)")
        }
        return EnterpriseDTO(result: result, history: try await req.store.history(creditCode: code))
    }

    func rules(req: Request) async throws -> Response {
        let r = req.application.rulesInForce
        struct RulesDTO: Content { var yaml: String; var name: String; var weights: [String: [String: Double]] }
        return try await RulesDTO(yaml: r.yaml, name: r.rules.name, weights: r.rules.weights).encodeResponse(for: req)
    }

    func runs(req: Request) async throws -> [Store.RunInfo] {
        let year = try await yearOrLatest(req.query[Int.self, at: "year"], req)
        return try await req.store.runs(year: year)
    }

    func evaluate(req: Request) async throws -> RunDTO {
        let body = try req.content.decode(EvaluateRequest.self)
        let rules = req.application.rulesInForce
        do {
            let (run, outcome) = try await req.store.evaluate(year: body.year, rules: rules.rules, rulesYAML: rules.yaml, actor: "api")
            var counts: [String: [String: Int]] = [:]
            for g in EnterpriseGroup.allCases {
                counts[g.rawValue] = Dictionary(uniqueKeysWithValues: outcome.classCounts(g).map { ($0.key.rawValue, $0.value) })
            }
            return RunDTO(id: run.id, year: run.year, enterprises: run.enterprises, evaluated: run.evaluated,
                          createdAt: run.createdAt, classCounts: counts)
        } catch let e as StoreError {
            throw Abort(.unprocessableEntity, reason: e.description)
        }
    }

    /// Body: the file itself (CSV or XLSX bytes), or a multipart form with a `file` field.
    func importEnterprises(req: Request) async throws -> Response {
        let year = req.query[Int.self, at: "year"]
        let name = req.query[String.self, at: "filename"] ?? "upload"
        var data: Data
        if let ct = req.headers.contentType, ct.type == "multipart" {
            struct Upload: Content { var file: File }
            let upload = try req.content.decode(Upload.self)
            data = Data(buffer: upload.file.data)
        } else {
            guard let body = req.body.data else { throw Abort(.badRequest, reason: "请求体为空 / empty body") }
            data = Data(buffer: body)
        }
        let encoding = req.query[String.self, at: "encoding"].flatMap(TextEncodingChoice.init(name:))
        do {
            let table: any TableSource = data.starts(with: [0x50, 0x4B, 0x03, 0x04])
                ? try XLSXTable(data: data) : try CSVTable(data: data, encoding: encoding)
            let records = try EnterpriseImport.read(table, year: year, rules: req.application.rulesInForce.rules)
            let summary = try await req.store.importEnterprises(records, fileName: name, actor: "api")
            return try await summary.encodeResponse(status: .created, for: req)
        } catch let f as ImportFailure {
            return try await ImportErrorDTO(error: f.errors.first.map { $0.description } ?? "导入失败",
                                            errors: f.errors, omitted: f.omitted)
                .encodeResponse(status: .unprocessableEntity, for: req)
        }
    }
}

extension Store.ImportSummary: Content {}
extension Store.RunInfo: Content {}
