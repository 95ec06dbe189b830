import Foundation
import Vapor
import SQLKit
import MujunCore
import MujunStore

// Publication of results (草稿 → 公示 → 正式), appeals (申诉), the enterprise's own view and
// the bank's credit list (亩均英雄贷). UI text in Simplified Chinese; every value that comes
// from data goes through `HTML.escape`. Reads go through `req.store` (already filtered to the
// reader's jurisdiction and to published years) or, for appeals and checks made on the
// user's behalf, through `req.fullStore` after an explicit scope check.

extension RouteAccess {
    /// Publication, appeals, the enterprise's own view and the bank's credit list.
    static let appealRoutes: [(HTTPMethod, String, Requirement)] = [
        (.GET, "/publish", .permission(.publishResults)),
        (.POST, "/publish/:year", .permission(.publishResults)),
        (.GET, "/my", .permission(.fileAppeal)),
        (.POST, "/my/consent", .permission(.setConsent)),
        (.POST, "/my/appeals", .permission(.fileAppeal)),
        (.GET, "/appeals", .permission(.viewAppeals)),
        (.GET, "/appeals/:id", .permission(.viewAppeals)),
        (.GET, "/appeals/:id/attachment", .permission(.viewAppeals)),
        (.POST, "/appeals/:id/accept", .permission(.decideAppeal)),
        (.POST, "/appeals/:id/decide", .permission(.decideAppeal)),
        (.POST, "/appeals/:id/rate", .permission(.fileAppeal)),
        (.GET, "/bank", .permission(.viewCreditList)),
        (.GET, "/bank/credit-list.xlsx", .permission(.viewCreditList)),
        (.GET, "/api/v1/appeals", .permission(.viewAppeals)),
        (.POST, "/api/v1/appeals", .permission(.fileAppeal)),
        (.GET, "/api/v1/appeals/:id", .permission(.viewAppeals)),
        (.POST, "/api/v1/appeals/:id/accept", .permission(.decideAppeal)),
        (.POST, "/api/v1/appeals/:id/decide", .permission(.decideAppeal)),
        (.POST, "/api/v1/appeals/:id/rate", .permission(.fileAppeal)),
        (.GET, "/api/v1/credit-list", .permission(.viewCreditList)),
    ]
}

// MARK: - Small helpers

/// Calendar days in Beijing time (公示期 dates are days, yyyy-MM-dd).
enum ChinaDay {
    static func formatter() -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd"
        f.isLenient = false
        return f
    }

    /// Today in Asia/Shanghai.
    static func today(_ now: Date = Date()) -> String { formatter().string(from: now) }

    /// Whether `s` is a real calendar day written yyyy-MM-dd.
    static func isValid(_ s: String) -> Bool {
        guard s.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil else { return false }
        let f = formatter()
        guard let d = f.date(from: s) else { return false }
        return f.string(from: d) == s
    }

    /// The day `days` after `day`.
    static func shift(_ day: String, days: Int) -> String {
        let f = formatter()
        guard let d = f.date(from: day) else { return day }
        return f.string(from: d.addingTimeInterval(Double(days) * 86400))
    }
}

/// A number sent as a JSON number or as text (forms send text); parsed by the handler so
/// that a wrong value gets a Chinese message instead of a decoding error.
struct NumberText: Codable, Sendable {
    var text: String
    init(_ text: String) { self.text = text }
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            text = s
        } else if let d = try? c.decode(Double.self) {
            text = d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        } else {
            text = ""
        }
    }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
    var trimmed: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }
    var isEmpty: Bool { trimmed.isEmpty }
}

/// A refused form or API input: the status and the Chinese message.
struct InputProblem: Error {
    var status: HTTPResponseStatus
    var message: String
    var abort: Abort { Abort(status, reason: message) }
}

extension CaseState {
    /// States in which an appeal still waits for the headquarters.
    static let awaitingDecision: Set<CaseState> = [.assigned, .accepted, .handling]
}

extension Store.AppealError {
    /// The HTTP answer: 404 unknown, 409 illegal transition, 422 no data.
    var abort: Abort {
        switch self {
        case .notFound: Abort(.notFound, reason: description)
        case .badTransition: Abort(.conflict, reason: description)
        case .noData: Abort(.unprocessableEntity, reason: description)
        }
    }
}

/// Appeal rules shared by the pages and the API.
enum AppealRules {
    static let maxReason = 2000
    static let maxAnswer = 2000
    static let maxAttachment = 10 << 20
    /// The largest request body of a filing (attachment and form fields).
    static let maxRequest = maxAttachment + (1 << 20)

    /// Parses a figure: finite, not absurdly large, negative only where the field allows it.
    static func number(_ raw: String, field: AppealField, label: String) throws(InputProblem) -> Double {
        let s = raw.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ",", with: "")
            .replacingOccurrences(of: "，", with: "")
        guard !s.isEmpty else { throw InputProblem(status: .badRequest, message: "请填写\(label) / \(label) is required") }
        guard let v = Double(s), v.isFinite, abs(v) < 1e12 else {
            throw InputProblem(status: .badRequest, message: "\(label)“\(raw)”不是有效数字 / not a number")
        }
        if v < 0 && !field.allowsNegative {
            throw InputProblem(status: .badRequest,
                               message: "\(field.chinese)不能为负数（仅评价税收、工业增加值可以为负）/ \(field.rawValue) cannot be negative")
        }
        return v
    }

    /// Checks an attachment: size and type (PDF, JPG, PNG by name and content). Returns the
    /// cleaned file name and the bytes, or nil when no file was sent.
    static func attachment(_ file: File?) throws(InputProblem) -> (String, Data)? {
        do throws(Upload.Problem) {
            return try Upload.check(file, maxBytes: maxAttachment, kinds: ["pdf", "jpg", "png"], fallbackStem: "附件")
        } catch .tooLarge {
            throw InputProblem(status: .payloadTooLarge, message: "附件不能超过 10 MB / the attachment is larger than 10 MB")
        } catch {
            throw InputProblem(status: .unsupportedMediaType,
                               message: "附件仅支持 PDF、JPG、PNG 格式，请转换后重新上传 / only PDF, JPG and PNG attachments are accepted")
        }
    }

    static func mediaType(_ name: String) -> HTTPMediaType {
        switch URL(fileURLWithPath: name).pathExtension.lowercased() {
        case "pdf": HTTPMediaType(type: "application", subType: "pdf")
        case "png": .png
        case "jpg", "jpeg": .jpeg
        default: .binary
        }
    }
}

/// Class and score of a result, as kept with an upheld appeal.
struct ResultSummaryDTO: Content {
    var cls: String?
    var totalScore: Double?
    var rank: Int?
    var landMu: Double?
    enum CodingKeys: String, CodingKey { case cls = "class", totalScore, rank, landMu }

    init(_ r: EnterpriseResult) {
        cls = r.finalClass?.rawValue; totalScore = HTML.finite(r.totalScore); rank = r.rank; landMu = HTML.finite(r.landMu)
    }

    static func decode(_ json: String?) -> EnterpriseResult? {
        guard let json else { return nil }
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try? d.decode(EnterpriseResult.self, from: Data(json.utf8))
    }
}

struct AppealDTO: Content {
    var id: Int64
    var year: Int
    var creditCode: String
    var enterpriseName: String?
    var town: String
    var field: String
    var fieldName: String
    var currentValue: String?
    var claimedValue: String
    var reason: String
    var attachmentName: String?
    var attachmentUrl: String?
    var state: String
    var stateName: String
    var outcome: String?
    var answer: String?
    var filedBy: String
    var decidedBy: String?
    var createdAt: Date
    var decidedAt: Date?
    var rating: Int?
    var before: ResultSummaryDTO?
    var after: ResultSummaryDTO?

    init(_ a: Store.Appeal, name: String?, showResults: Bool) {
        id = a.id; year = a.year; creditCode = a.creditCode; enterpriseName = name; town = a.town
        field = a.field; fieldName = a.appealField?.chinese ?? a.field
        currentValue = a.currentValue; claimedValue = a.claimedValue; reason = a.reason
        attachmentName = a.attachmentName; attachmentUrl = a.attachmentName.map { _ in "/appeals/\(a.id)/attachment" }
        state = a.state; stateName = a.caseState.chinese; outcome = a.outcome?.rawValue; answer = a.answer
        filedBy = a.filedBy; decidedBy = a.decidedBy; createdAt = a.createdAt; decidedAt = a.decidedAt; rating = a.rating
        if showResults {
            before = ResultSummaryDTO.decode(a.resultBefore).map(ResultSummaryDTO.init)
            after = ResultSummaryDTO.decode(a.resultAfter).map(ResultSummaryDTO.init)
        }
    }
}

struct CaseEventDTO: Content {
    var fromState: String?
    var toState: String
    var actor: String
    var note: String?
    var at: Date
}

struct AppealDetailDTO: Content {
    var appeal: AppealDTO
    var events: [CaseEventDTO]
}

/// `POST /my/appeals` (multipart form) and `POST /api/v1/appeals` (JSON or multipart).
/// JSON clients send the attachment as `{"filename": "x.pdf", "data": "<base64>"}`.
struct AppealInput: Content {
    var year: Int?
    var field: String?
    var claimedValue: NumberText?
    var reason: String?
    var attachment: File?
    enum CodingKeys: String, CodingKey { case year, field, claimedValue = "claimed_value", reason, attachment }
}

struct DecideInput: Content {
    var outcome: String?
    var answer: String?
    var correctedValue: NumberText?
    enum CodingKeys: String, CodingKey { case outcome, answer, correctedValue = "corrected_value" }
}

struct RateInput: Content { var rating: NumberText? }
struct NoteInput: Content { var note: String? }

/// One row of the credit list as the bank sees it: class and score only, with the terms.
struct CreditItemDTO: Content {
    var creditCode: String
    var name: String
    var town: String
    var group: String
    var groupName: String
    var cls: String
    var totalScore: Double
    var creditRateDiscount: Double?
    var creditLineMultiple: Double?
    enum CodingKeys: String, CodingKey {
        case creditCode, name, town, group, groupName, cls = "class", totalScore, creditRateDiscount, creditLineMultiple
    }
}

struct CreditTermDTO: Content {
    var cls: String
    var creditRateDiscount: Double?
    var creditLineMultiple: Double?
    enum CodingKeys: String, CodingKey { case cls = "class", creditRateDiscount, creditLineMultiple }
}

struct CreditListDTO: Content {
    var year: Int
    var finalYears: [Int]
    var terms: [CreditTermDTO]
    var items: [CreditItemDTO]
}

// MARK: - Controller

struct AppealController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("publish", use: publishPage)
        routes.post("publish", ":year", use: publish)
        routes.get("my", use: my)
        routes.post("my", "consent", use: consent)
        routes.on(.POST, "my", "appeals", body: .stream, use: fileFromForm)
        routes.get("appeals", use: appealsPage)
        routes.get("appeals", ":id", use: appealPage)
        routes.get("appeals", ":id", "attachment", use: attachment)
        routes.post("appeals", ":id", "accept", use: acceptFromForm)
        routes.post("appeals", ":id", "decide", use: decideFromForm)
        routes.post("appeals", ":id", "rate", use: rateFromForm)
        routes.get("bank", use: bankPage)
        routes.get("bank", "credit-list.xlsx", use: creditListExport)

        let api = routes.grouped("api", "v1")
        api.get("appeals", use: apiAppeals)
        api.on(.POST, "appeals", body: .stream, use: apiFile)
        api.get("appeals", ":id", use: apiAppeal)
        api.post("appeals", ":id", "accept", use: apiAccept)
        api.post("appeals", ":id", "decide", use: apiDecide)
        api.post("appeals", ":id", "rate", use: apiRate)
        api.get("credit-list", use: apiCreditList)
    }

    // MARK: publication

    func publishPage(req: Request) async throws -> Response {
        try req.require(.publishResults)
        return try await renderPublish(req, error: nil, status: .ok)
    }

    struct PublishInput: Content { var action: String?; var start: String?; var end: String? }

    func publish(req: Request) async throws -> Response {
        try req.require(.publishResults)
        guard let year = req.parameters.get("year", as: Int.self) else { throw Abort(.notFound) }
        let input = try req.content.decode(PublishInput.self)
        do {
            try await Self.changePublication(req, year: year, input: input)
        } catch let p as InputProblem {
            return try await renderPublish(req, error: p.message, status: p.status)
        }
        return req.redirect(to: "/publish", redirectType: .normal)
    }

    /// Validates and applies a publication change (audited by the store).
    static func changePublication(_ req: Request, year: Int, input: PublishInput) async throws {
        let store = req.fullStore
        guard try await store.evaluatedYears().contains(year) else {
            throw InputProblem(status: .notFound, message: "\(year) 年度尚无评价结果，不能发布 / no evaluation for \(year)")
        }
        let current = try await store.publication(year: year)
        switch input.action ?? "" {
        case "publicity":
            let start = (input.start ?? "").trimmingCharacters(in: .whitespaces)
            let end = (input.end ?? "").trimmingCharacters(in: .whitespaces)
            guard ChinaDay.isValid(start), ChinaDay.isValid(end) else {
                throw InputProblem(status: .badRequest, message: "公示期的开始和结束日期应为 yyyy-MM-dd 格式的有效日期 / dates must be yyyy-MM-dd")
            }
            guard end >= start else {
                throw InputProblem(status: .badRequest, message: "公示期结束日期不能早于开始日期 / the end date is before the start date")
            }
            guard current.status != .final else {
                throw InputProblem(status: .conflict, message: "\(year) 年度结果已正式发布，请先撤回为草稿再重新公示 / already final: return it to draft first")
            }
            try await store.setPublication(year: year, status: .publicity, start: start, end: end, actor: req.actor)
        case "final":
            guard current.status == .publicity else {
                throw InputProblem(status: .conflict, message: "只有公示中的结果才能正式发布（当前为“\(current.status.chinese)”）/ only results in publicity can be finalised")
            }
            let open = try await store.appeals(year: year, scope: .all).filter { CaseState.awaitingDecision.contains($0.caseState) }
            guard open.isEmpty else {
                throw InputProblem(status: .conflict, message: "\(year) 年度尚有 \(open.count) 件申诉未答复，答复后才能正式发布 / \(open.count) appeals are still open")
            }
            try await store.setPublication(year: year, status: .final, start: current.publicityStart, end: current.publicityEnd, actor: req.actor)
        case "draft":
            guard current.status != .draft else {
                throw InputProblem(status: .conflict, message: "\(year) 年度结果已是草稿 / already a draft")
            }
            try await store.setPublication(year: year, status: .draft, start: nil, end: nil, actor: req.actor)
        default:
            throw InputProblem(status: .badRequest, message: "未知操作 / unknown action")
        }
    }

    func renderPublish(_ req: Request, error: String?, status: HTTPResponseStatus) async throws -> Response {
        let store = req.fullStore
        let years = try await store.evaluatedYears()
        let today = ChinaDay.today()
        var h = "<section class=\"page-head\"><h1>评价结果发布</h1><p class=\"muted\">今天（北京时间）：\(today)</p></section>"
        if let error { h += "<p class=\"warning card\" id=\"form-error\" role=\"alert\">\(HTML.escape(error))</p>" }
        h += "<section class=\"card\"><p class=\"muted\">每个年度的评价结果先为<b>草稿</b>（仅管理员和指挥部可见），进入<b>公示</b>后企业、镇街可查看，企业可在公示期内提出申诉；"
        h += "申诉全部答复后方可<b>正式发布</b>，正式发布的结果进入亩均英雄贷名单。每次变更都记入审计日志。</p>"
        if years.isEmpty {
            h += "<p id=\"no-years\">尚无评价结果。请先导入数据并运行评价。</p></section>"
            return HTML.page(title: "评价结果发布", status: status, active: "publish", body: h)
        }
        h += "<div class=\"table-wrap\"><table class=\"data\" id=\"publications\"><thead><tr><th>年度</th><th>状态</th><th>公示期</th>"
        h += "<th class=\"num\">未答复申诉</th><th>当前评价运行</th><th>最近变更</th><th>操作</th></tr></thead><tbody>"
        for y in years {
            let p = try await store.publication(year: y)
            let appeals = try await store.appeals(year: y, scope: .all)
            let open = appeals.filter { CaseState.awaitingDecision.contains($0.caseState) }.count
            let run = try await store.currentRun(year: y)
            h += "<tr data-year=\"\(y)\" data-status=\"\(p.status.rawValue)\"><td><b>\(y)</b></td>"
            h += "<td class=\"status\">\(p.status.chinese)\(p.inPublicity(day: today) ? "（公示期内）" : "")</td>"
            h += "<td>\(p.publicityStart.map { "\(HTML.escape($0)) 至 \(HTML.escape(p.publicityEnd))" } ?? "—")</td>"
            h += "<td class=\"num\"><a href=\"/appeals?year=\(y)\">\(open)</a> / \(appeals.count)</td>"
            h += "<td>\(run.map { "#\($0.id)（\(HTML.dateTime($0.createdAt))）" } ?? "—")</td>"
            h += "<td>\(p.updatedBy.isEmpty ? "—" : "\(HTML.escape(p.updatedBy))，\(HTML.dateTime(p.updatedAt))")</td><td>"
            if p.status != .final {
                let start = p.publicityStart ?? today, end = p.publicityEnd ?? ChinaDay.shift(today, days: 7)
                h += "<form method=\"post\" action=\"/publish/\(y)\" class=\"publicity-form\">\(csrfField())"
                h += "<input type=\"hidden\" name=\"action\" value=\"publicity\">"
                h += "<label>开始 <input type=\"date\" name=\"start\" value=\"\(HTML.escape(start))\" required></label>"
                h += "<label>结束 <input type=\"date\" name=\"end\" value=\"\(HTML.escape(end))\" required></label>"
                h += "<button type=\"submit\">\(p.status == .draft ? "开始公示" : "修改公示期")</button></form>"
            }
            if p.status == .publicity {
                h += "<form method=\"post\" action=\"/publish/\(y)\" class=\"final-form\">\(csrfField())"
                h += "<input type=\"hidden\" name=\"action\" value=\"final\"><button type=\"submit\"\(open > 0 ? " disabled title=\"尚有申诉未答复\"" : "")>正式发布</button></form>"
            }
            if p.status != .draft {
                h += "<form method=\"post\" action=\"/publish/\(y)\" class=\"draft-form\">\(csrfField())"
                h += "<input type=\"hidden\" name=\"action\" value=\"draft\"><button type=\"submit\" class=\"secondary\">撤回为草稿</button></form>"
            }
            h += "</td></tr>"
        }
        h += "</tbody></table></div></section>"
        return HTML.page(title: "评价结果发布", status: status, active: "publish", body: h)
    }

    // MARK: the enterprise's own view

    func my(req: Request) async throws -> Response {
        let p = try req.require(.fileAppeal)
        return try await renderMy(req, principal: p, year: req.query[Int.self, at: "year"], form: nil, error: nil, status: .ok)
    }

    /// The current figures of an enterprise in a year (the columns an appeal can dispute).
    static func figures(_ store: Store, year: Int, creditCode: String) async throws -> [AppealField: Double]? {
        guard let row = try await store.sql.select().columns(AppealField.allCases.map { SQLColumn($0.rawValue) })
            .from("enterprise_years").where("year", .equal, year).where("credit_code", .equal, creditCode).first() else { return nil }
        var out: [AppealField: Double] = [:]
        for f in AppealField.allCases {
            if let v = try? row.decode(column: f.rawValue, as: Double?.self) { out[f] = v }
        }
        return out
    }

    func renderMy(_ req: Request, principal p: Principal, year requested: Int?, form: AppealInput?, error: String?,
                  status: HTTPResponseStatus) async throws -> Response {
        guard let code = p.creditCode else {
            let body = "<section class=\"card empty\" id=\"no-enterprise\"><h1>账号未关联企业</h1><p>本账号没有关联统一社会信用代码，请联系管理员。</p></section>"
            return HTML.page(title: "本企业评价", status: status, active: "my", body: body)
        }
        let years = try await req.store.evaluatedYears()
        let year = requested.flatMap { years.contains($0) ? $0 : nil } ?? years.first
        let result: EnterpriseResult?
        if let year { result = try await req.store.result(creditCode: code, year: year) } else { result = nil }
        let consent = try await req.fullStore.consent(creditCode: code)
        let appeals = try await req.fullStore.appeals(scope: .enterprise(code))

        var h = ""
        if let error { h += "<p class=\"warning card\" id=\"form-error\" role=\"alert\">\(HTML.escape(error))</p>" }
        guard let result, let year else {
            h += "<section class=\"card empty\" id=\"no-result\"><h1>本企业暂无已公示的评价结果</h1>"
            h += "<p>亩均效益评价结果经指挥部公示后，将在这里显示本企业的指标、基准值、分类、适用政策和提升空间。</p>"
            h += "<p class=\"muted\">统一社会信用代码：<code>\(HTML.escape(code))</code>。如对本企业数据有疑问，请联系所在镇街经发办。</p></section>"
            h += Self.consentSection(consent: consent, result: nil, rules: req.application.rulesInForce.rules)
            h += Self.appealsTable(appeals, id: "my-appeals", title: "我的申诉", names: [:], showEnterprise: false)
            return HTML.page(title: "本企业评价", status: status, active: "my", body: h)
        }
        let history = try await req.store.history(creditCode: code)
        let publication = try await req.fullStore.publication(year: year)
        let today = ChinaDay.today()

        // heading, year selector and publication state
        h += "<section class=\"page-head\"><h1>本企业亩均评价 · \(year) 年度</h1>"
        h += "<nav class=\"years\" id=\"year-select\" aria-label=\"评价年度\"><span>评价年度：</span>"
        for y in years { h += "<a href=\"/my?year=\(y)\"\(y == year ? " class=\"active\"" : "")>\(y)</a>" }
        h += "</nav></section>"
        h += "<p class=\"card\" id=\"publication-status\" data-status=\"\(publication.status.rawValue)\">结果状态：<b>\(publication.status.chinese)</b>"
        if publication.status == .publicity, let s = publication.publicityStart, let e = publication.publicityEnd {
            h += "，公示期 \(HTML.escape(s)) 至 \(HTML.escape(e))\(publication.inPublicity(day: today) ? "，公示期内可对本企业数据提出申诉" : "")"
        }
        h += "</p>"

        // the enterprise page: indicators vs benchmarks, class, policies, gap, history
        var ent = PageController.renderEnterprise(EnterpriseView(result: result, history: history, years: years))
        if let r = ent.range(of: "<p class=\"crumbs\">"), let e = ent.range(of: "</p>", range: r.upperBound..<ent.endIndex) {
            ent.removeSubrange(r.lowerBound..<e.upperBound)
        }
        ent = ent.replacingOccurrences(of: "/enterprises/\(HTML.percent(code))?year=", with: "/my?year=")
        h += ent

        h += Self.consentSection(consent: consent, result: result, rules: req.application.rulesInForce.rules)

        // parcels
        h += try await LandController.myParcelsSection(req, year: year)

        // appeals
        h += "<section class=\"card\" id=\"appeals-card\">"
        h += Self.appealsTable(appeals, id: "my-appeals", title: "我的申诉", names: [:], showEnterprise: false, card: false)
        if publication.inPublicity(day: today) {
            h += try await Self.appealForm(req, year: year, code: code, form: form)
        } else {
            h += "<p class=\"notice\" id=\"appeal-closed\">"
            switch publication.status {
            case .publicity:
                let s = publication.publicityStart ?? "", e = publication.publicityEnd ?? ""
                h += today < s ? "\(year) 年度评价结果的公示期为 \(HTML.escape(s)) 至 \(HTML.escape(e))，公示期开始后可在此提出申诉。"
                               : "\(year) 年度评价结果的公示期（\(HTML.escape(s)) 至 \(HTML.escape(e))）已结束，不再受理申诉。"
            case .final:
                h += "\(year) 年度评价结果已正式发布\(publication.publicityStart.map { "（公示期 \(HTML.escape($0)) 至 \(HTML.escape(publication.publicityEnd))）" } ?? "")，不再受理申诉。"
            case .draft:
                h += "\(year) 年度评价结果尚未公示。"
            }
            h += "</p>"
        }
        h += "</section>"
        return HTML.page(title: "\(result.name) · \(year) 年度亩均评价", status: status, active: "my",
                         head: PageController.head + "<script src=\"/static/enterprise.js\" defer></script>", body: h)
    }

    static func consentSection(consent: Bool, result: EnterpriseResult?, rules: Rules) -> String {
        var h = "<section class=\"card\" id=\"consent\"><h2>亩均英雄贷授权</h2>"
        h += "<p id=\"consent-state\" data-consent=\"\(consent)\">当前：<b>\(consent ? "已同意向合作银行提供本企业分类和得分" : "未同意")</b></p>"
        h += "<form method=\"post\" action=\"/my/consent\" id=\"consent-form\">\(csrfField())"
        h += "<input type=\"hidden\" name=\"consent\" value=\"\(consent ? "0" : "1")\">"
        h += "<button type=\"submit\" id=\"consent-toggle\"\(consent ? " class=\"secondary\"" : "")>\(consent ? "撤回同意" : "同意向合作银行提供本企业分类和得分")</button></form>"
        h += "<p class=\"muted\">亩均英雄贷：同意后，结果正式发布且本企业为可申请分类时，合作银行可看到本企业的名称、统一社会信用代码、镇街、规模、分类和总分（不含其他数据），并据此给予授信优惠。可随时撤回。</p>"
        if let fc = result?.finalClass, let pol = rules.policy(for: fc) {
            if pol.creditEligible {
                var terms: [String] = []
                if let d = pol.creditRateDiscount { terms.append("利率优惠 \(formatNumber(d)) 个百分点") }
                if let m = pol.creditLineMultiple { terms.append("授信额度 \(formatNumber(m)) 倍") }
                h += "<p id=\"credit-terms-own\">本企业 \(fc.rawValue) 类可申请亩均英雄贷\(terms.isEmpty ? "" : "：" + terms.joined(separator: "，"))。</p>"
            } else {
                h += "<p id=\"credit-terms-own\" class=\"muted\">本企业 \(fc.rawValue) 类不在亩均英雄贷可申请范围内。</p>"
            }
        }
        h += "</section>"
        return h
    }

    static func appealForm(_ req: Request, year: Int, code: String, form: AppealInput?) async throws -> String {
        let figures = try await figures(req.fullStore, year: year, creditCode: code) ?? [:]
        var h = "<h3>提出申诉</h3>"
        h += "<p class=\"muted\">对 \(year) 年度评价所用的本企业数据有异议的，可在公示期内提出申诉，写明理由并附证明材料；指挥部将书面答复，支持的申诉将更正数据并重新评价。</p>"
        h += "<div class=\"table-wrap\"><table class=\"data\" id=\"current-figures\"><thead><tr><th>数据项</th><th class=\"num\">当前值</th></tr></thead><tbody>"
        for f in AppealField.allCases {
            h += "<tr data-field=\"\(f.rawValue)\"><td>\(HTML.escape(f.chinese))</td><td class=\"num\">\(figures[f].map(formatNumber) ?? "—")</td></tr>"
        }
        h += "</tbody></table></div>"
        h += "<form id=\"appeal-form\" method=\"post\" action=\"/my/appeals\" enctype=\"multipart/form-data\">\(csrfField())"
        h += "<input type=\"hidden\" name=\"year\" value=\"\(year)\">"
        h += "<p><label>申诉数据项 <select name=\"field\" id=\"appeal-field\" required><option value=\"\">请选择</option>"
        for f in AppealField.allCases {
            h += "<option value=\"\(f.rawValue)\"\(form?.field == f.rawValue ? " selected" : "")>\(HTML.escape(f.chinese))（当前 \(figures[f].map(formatNumber) ?? "空")）</option>"
        }
        h += "</select></label>"
        h += "<label>申报值 <input type=\"text\" inputmode=\"decimal\" name=\"claimed_value\" id=\"claimed-value\" required value=\"\(HTML.escape(form?.claimedValue?.text))\"></label></p>"
        h += "<p><label for=\"appeal-reason\">申诉理由（必填，不超过 \(AppealRules.maxReason) 字）</label>"
        h += "<textarea name=\"reason\" id=\"appeal-reason\" maxlength=\"\(AppealRules.maxReason)\" required rows=\"5\">\(HTML.escape(form?.reason))</textarea></p>"
        h += "<p><label>证明材料（可选，PDF、JPG 或 PNG，不超过 10 MB） <input type=\"file\" name=\"attachment\" id=\"appeal-attachment\" accept=\".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png\"></label></p>"
        h += "<p><button type=\"submit\" id=\"appeal-submit\">提交申诉</button></p></form>"
        return h
    }

    struct ConsentInput: Content { var consent: String? }

    func consent(req: Request) async throws -> Response {
        let p = try req.require(.setConsent)
        guard let code = p.creditCode else { throw Abort(.forbidden, reason: "本账号未关联企业 / the account has no enterprise") }
        let value = try req.content.decode(ConsentInput.self).consent ?? ""
        guard ["1", "0", "true", "false"].contains(value) else { throw Abort(.badRequest, reason: "consent 应为 1 或 0 / consent must be 1 or 0") }
        try await req.fullStore.setConsent(creditCode: code, value == "1" || value == "true", actor: req.actor)
        return req.redirect(to: "/my#consent", redirectType: .normal)
    }

    // MARK: filing

    /// Collects a streamed body (attachments can be large) with a Chinese answer when too big.
    static func collectBody(_ req: Request) async throws {
        do {
            _ = try await req.body.collect(max: AppealRules.maxRequest).get()
        } catch {
            throw Abort(.payloadTooLarge, reason: "附件不能超过 10 MB / the attachment is larger than 10 MB")
        }
    }

    /// Validates a filing and stores it; returns the new appeal's id.
    static func file(_ req: Request, principal p: Principal, input: AppealInput) async throws -> Int64 {
        guard let code = p.creditCode else { throw InputProblem(status: .forbidden, message: "本账号未关联企业 / the account has no enterprise") }
        let years = try await req.store.evaluatedYears()
        guard let year = input.year ?? years.first, years.contains(year),
              let result = try await req.store.result(creditCode: code, year: year) else {
            throw InputProblem(status: .notFound, message: "本企业\(input.year.map { "\($0) 年度" } ?? "")没有已公示的评价结果，不能申诉 / no published result to appeal")
        }
        let pub = try await req.fullStore.publication(year: year)
        let today = ChinaDay.today()
        guard pub.inPublicity(day: today) else {
            let period = pub.publicityStart.map { "（公示期 \($0) 至 \(pub.publicityEnd ?? "")）" } ?? ""
            throw InputProblem(status: .conflict, message: "\(year) 年度结果不在公示期内\(period)，不能提出申诉 / appeals are accepted only during the publicity period")
        }
        guard let raw = input.field, let field = AppealField(rawValue: raw) else {
            throw InputProblem(status: .badRequest, message: "请选择申诉的数据项 / choose the figure you dispute")
        }
        let claimed = try AppealRules.number(input.claimedValue?.text ?? "", field: field, label: "申报值")
        let figures = try await figures(req.fullStore, year: year, creditCode: code) ?? [:]
        let current = figures[field]
        if let current, current == claimed {
            throw InputProblem(status: .badRequest, message: "申报值与当前值（\(formatNumber(current))）相同 / the claimed value equals the current one")
        }
        let reason = (input.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw InputProblem(status: .badRequest, message: "请填写申诉理由 / the reason is required") }
        guard reason.count <= AppealRules.maxReason else {
            throw InputProblem(status: .badRequest, message: "申诉理由不能超过 \(AppealRules.maxReason) 字（当前 \(reason.count) 字）/ the reason is too long")
        }
        let attachment = try AppealRules.attachment(input.attachment)
        let open = try await req.fullStore.appeals(year: year, scope: .enterprise(code))
            .first { $0.field == field.rawValue && CaseState.awaitingDecision.contains($0.caseState) }
        if let open {
            throw InputProblem(status: .conflict, message: "\(field.chinese)已有未答复的申诉 #\(open.id)，请等待答复 / an appeal on this figure is still open")
        }
        let id = try await req.fullStore.fileAppeal(year: year, creditCode: code, town: result.town, field: field,
                                                    currentValue: current, claimedValue: claimed, reason: reason,
                                                    attachmentName: attachment?.0, attachment: attachment?.1, actor: req.actor)
        return id
    }

    func fileFromForm(req: Request) async throws -> Response {
        let p = try req.require(.fileAppeal)
        try await Self.collectBody(req)
        let input: AppealInput
        do { input = try req.content.decode(AppealInput.self) } catch {
            return try await renderMy(req, principal: p, year: nil, form: nil, error: "表单内容无法读取，请重新填写 / the form could not be read", status: .badRequest)
        }
        do {
            let id = try await Self.file(req, principal: p, input: input)
            return req.redirect(to: "/appeals/\(id)", redirectType: .normal)
        } catch let problem as InputProblem {
            return try await renderMy(req, principal: p, year: input.year, form: input, error: problem.message, status: problem.status)
        }
    }

    func apiFile(req: Request) async throws -> Response {
        let p = try req.require(.fileAppeal)
        try await Self.collectBody(req)
        let input = try req.content.decode(AppealInput.self)
        do {
            let id = try await Self.file(req, principal: p, input: input)
            return try await Self.dto(req, id: id).encodeResponse(status: .created, for: req)
        } catch let problem as InputProblem {
            throw problem.abort
        }
    }

    // MARK: reading appeals

    /// An appeal the principal may see, or 404 (also for another town's or enterprise's id).
    static func visibleAppeal(_ req: Request) async throws -> Store.Appeal {
        try req.require(.viewAppeals)
        guard let id = req.parameters.get("id", as: Int64.self), let a = try await req.fullStore.appeal(id: id),
              req.scope.contains(town: a.town, creditCode: a.creditCode) else {
            throw Abort(.notFound, reason: Store.AppealError.notFound.description)
        }
        return a
    }

    /// Enterprise names of the appeals, by "year|code" (and by code, any year).
    static func names(_ store: Store, _ appeals: [Store.Appeal]) async throws -> [String: String] {
        let codes = Array(Set(appeals.map(\.creditCode)))
        guard !codes.isEmpty else { return [:] }
        struct Row: Decodable { var year: Int; var credit_code: String; var name: String }
        var out: [String: String] = [:]
        for start in stride(from: 0, to: codes.count, by: 500) {
            let chunk = Array(codes[start..<min(start + 500, codes.count)])
            let rows = try await store.sql.select().columns("year", "credit_code", "name").from("enterprise_years")
                .where("credit_code", .in, chunk).all(decoding: Row.self)
            for r in rows {
                out["\(r.year)|\(r.credit_code)"] = r.name
                if out[r.credit_code] == nil { out[r.credit_code] = r.name }
            }
        }
        return out
    }

    static func name(_ names: [String: String], _ a: Store.Appeal) -> String? {
        names["\(a.year)|\(a.creditCode)"] ?? names[a.creditCode]
    }

    /// Whether the reader may see the results kept with an appeal (drafts stay hidden).
    static func showsResults(_ req: Request, year: Int) async throws -> Bool {
        if req.seesDrafts { return true }
        return try await req.fullStore.publication(year: year).status != .draft
    }

    static func dto(_ req: Request, id: Int64) async throws -> AppealDTO {
        guard let a = try await req.fullStore.appeal(id: id) else { throw Abort(.notFound, reason: Store.AppealError.notFound.description) }
        let names = try await names(req.fullStore, [a])
        return AppealDTO(a, name: name(names, a), showResults: try await showsResults(req, year: a.year))
    }

    struct ListQuery: Content { var year: Int?; var state: String? }

    /// The appeals the principal may see, filtered.
    static func list(_ req: Request) async throws -> (ListQuery, [Store.Appeal]) {
        try req.require(.viewAppeals)
        let q = try req.query.decode(ListQuery.self)
        var appeals = try await req.fullStore.appeals(year: q.year, scope: req.scope)
        if let s = q.state, !s.isEmpty {
            guard CaseState(rawValue: s) != nil else {
                throw Abort(.badRequest, reason: "state 应为 \(CaseState.allCases.map(\.rawValue).joined(separator: "、")) 之一 / unknown state")
            }
            appeals = appeals.filter { $0.state == s }
        }
        return (q, appeals)
    }

    func apiAppeals(req: Request) async throws -> [AppealDTO] {
        let (_, appeals) = try await Self.list(req)
        let names = try await Self.names(req.fullStore, appeals)
        var visible: [Int: Bool] = [:]
        var out: [AppealDTO] = []
        for a in appeals {
            if visible[a.year] == nil { visible[a.year] = try await Self.showsResults(req, year: a.year) }
            out.append(AppealDTO(a, name: Self.name(names, a), showResults: visible[a.year] ?? false))
        }
        return out
    }

    func apiAppeal(req: Request) async throws -> AppealDetailDTO {
        let a = try await Self.visibleAppeal(req)
        let events = try await req.fullStore.caseEvents(type: "appeal", id: a.id)
        return AppealDetailDTO(appeal: try await Self.dto(req, id: a.id),
                               events: events.map { CaseEventDTO(fromState: $0.fromState, toState: $0.toState, actor: $0.actor, note: $0.note, at: $0.at) })
    }

    static func appealsTable(_ appeals: [Store.Appeal], id: String, title: String, names: [String: String],
                             showEnterprise: Bool, card: Bool = true) -> String {
        var h = card ? "<section class=\"card\" id=\"\(id)-card\">" : ""
        h += "<h2>\(HTML.escape(title)) <small>\(appeals.count) 件</small></h2>"
        if appeals.isEmpty {
            h += "<p class=\"muted\" id=\"\(id)-none\">暂无申诉。</p>"
        } else {
            h += "<div class=\"table-wrap\"><table class=\"data\" id=\"\(id)\"><thead><tr><th class=\"num\">编号</th><th>年度</th>"
            if showEnterprise { h += "<th>企业</th><th>镇街</th>" }
            h += "<th>数据项</th><th class=\"num\">原值</th><th class=\"num\">申报值</th><th>状态</th><th>结果</th><th>提交时间</th></tr></thead><tbody>"
            for a in appeals {
                h += "<tr data-appeal-id=\"\(a.id)\" data-state=\"\(HTML.escape(a.state))\"><td class=\"num\"><a href=\"/appeals/\(a.id)\">#\(a.id)</a></td><td>\(a.year)</td>"
                if showEnterprise {
                    h += "<td class=\"name\"><a href=\"/appeals/\(a.id)\">\(HTML.escape(name(names, a) ?? a.creditCode))</a></td><td>\(HTML.escape(a.town))</td>"
                }
                h += "<td>\(HTML.escape(a.appealField?.chinese ?? a.field))</td><td class=\"num\">\(HTML.escape(a.currentValue ?? "—"))</td>"
                h += "<td class=\"num\">\(HTML.escape(a.claimedValue))</td><td class=\"state\">\(a.caseState.chinese)</td>"
                h += "<td>\(a.outcome.map { $0.chinese } ?? "—")\(a.rating.map { "，评价 \($0) 分" } ?? "")</td><td>\(HTML.dateTime(a.createdAt))</td></tr>"
            }
            h += "</tbody></table></div>"
        }
        if card { h += "</section>" }
        return h
    }

    func appealsPage(req: Request) async throws -> Response {
        let (q, appeals) = try await Self.list(req)
        let names = try await Self.names(req.fullStore, appeals)
        let p = try req.principal()
        let all = try await req.fullStore.appeals(scope: req.scope)
        let years = Array(Set(all.map(\.year) + (try await req.store.evaluatedYears()))).sorted(by: >)
        var h = "<section class=\"page-head\"><h1>申诉</h1><p class=\"muted\">"
        switch p.role {
        case .enterprise: h += "本企业提出的申诉"
        case .town: h += "\(HTML.escape(p.town ?? "")) 辖区企业的申诉"
        default: h += "全市企业的申诉"
        }
        h += "</p></section>"
        h += "<form id=\"filters\" class=\"filters\" method=\"get\" action=\"/appeals\">"
        h += "<label>年度 <select name=\"year\" id=\"year\"><option value=\"\">全部</option>"
        for y in years { h += "<option value=\"\(y)\"\(q.year == y ? " selected" : "")>\(y)</option>" }
        h += "</select></label><label>状态 <select name=\"state\" id=\"state\"><option value=\"\">全部</option>"
        for s in CaseState.allCases { h += "<option value=\"\(s.rawValue)\"\(q.state == s.rawValue ? " selected" : "")>\(s.chinese)</option>" }
        h += "</select></label><button type=\"submit\">查询</button><a class=\"reset\" href=\"/appeals\">重置</a></form>"
        var counts: [CaseState: Int] = [:]
        for a in all where q.year == nil || a.year == q.year { counts[a.caseState, default: 0] += 1 }
        h += "<p class=\"muted\" id=\"state-counts\">" + CaseState.allCases.filter { counts[$0] != nil }
            .map { "<span data-state=\"\($0.rawValue)\">\($0.chinese) \(counts[$0] ?? 0)</span>" }.joined(separator: " · ") + "</p>"
        h += Self.appealsTable(appeals, id: "appeals-table", title: "申诉列表", names: names, showEnterprise: p.role != .enterprise)
        if p.role == .enterprise { h += "<p><a href=\"/my#appeals-card\">提出新的申诉 →</a></p>" }
        return HTML.page(title: "申诉", active: "appeals", body: h)
    }

    func appealPage(req: Request) async throws -> Response {
        let a = try await Self.visibleAppeal(req)
        let p = try req.principal()
        let events = try await req.fullStore.caseEvents(type: "appeal", id: a.id)
        let names = try await Self.names(req.fullStore, [a])
        let showResults = try await Self.showsResults(req, year: a.year)
        let fieldName = a.appealField?.chinese ?? a.field
        let name = Self.name(names, a) ?? a.creditCode

        var h = "<p class=\"crumbs\"><a href=\"/appeals\">← 申诉列表</a>\(p.role == .enterprise ? " · <a href=\"/my\">本企业评价</a>" : "")</p>"
        h += "<section class=\"page-head\"><h1>申诉 #\(a.id)</h1><p id=\"appeal-state\" data-state=\"\(HTML.escape(a.state))\">状态：<b>\(a.caseState.chinese)</b></p></section>"
        h += "<div class=\"overview\"><section class=\"card\" id=\"appeal-facts\"><h2>申诉内容</h2><dl class=\"facts\">"
        h += "<dt>企业</dt><dd id=\"appeal-enterprise\">\(HTML.escape(name))</dd>"
        h += "<dt>统一社会信用代码</dt><dd>\(HTML.escape(a.creditCode))</dd><dt>镇街</dt><dd>\(HTML.escape(a.town))</dd>"
        h += "<dt>评价年度</dt><dd>\(a.year)</dd>"
        h += "<dt>申诉数据项</dt><dd id=\"appeal-field\" data-field=\"\(HTML.escape(a.field))\">\(HTML.escape(fieldName))</dd>"
        h += "<dt>原值</dt><dd id=\"current-value\">\(HTML.escape(a.currentValue ?? "—"))</dd>"
        h += "<dt>申报值</dt><dd id=\"claimed-value\">\(HTML.escape(a.claimedValue))</dd>"
        h += "<dt>申诉理由</dt><dd id=\"appeal-reason\" style=\"white-space: pre-wrap\">\(HTML.escape(a.reason))</dd>"
        h += "<dt>证明材料</dt><dd id=\"appeal-attachment\">"
        h += a.attachmentName.map { "<a href=\"/appeals/\(a.id)/attachment\">\(HTML.escape($0))</a>" } ?? "无"
        h += "</dd><dt>提交</dt><dd>\(HTML.escape(a.filedBy))，\(HTML.dateTime(a.createdAt))</dd></dl></section>"

        // the answer
        h += "<section class=\"card\" id=\"appeal-answer\"><h2>答复</h2>"
        if let answer = a.answer {
            h += "<dl class=\"facts\"><dt>结果</dt><dd id=\"appeal-outcome\" data-outcome=\"\(a.outcome?.rawValue ?? "")\"><b>\(a.outcome?.chinese ?? "—")</b></dd>"
            h += "<dt>答复意见</dt><dd id=\"answer-text\" style=\"white-space: pre-wrap\">\(HTML.escape(answer))</dd>"
            h += "<dt>答复人</dt><dd>\(HTML.escape(a.decidedBy))\(a.decidedAt.map { "，" + HTML.dateTime($0) } ?? "")</dd>"
            if let r = a.rating { h += "<dt>企业评价</dt><dd id=\"appeal-rating\" data-rating=\"\(r)\">\(String(repeating: "★", count: r))\(String(repeating: "☆", count: max(0, 5 - r))) \(r) 分</dd>" }
            h += "</dl>"
        } else {
            h += "<p class=\"muted\">尚未答复。</p>"
        }
        if showResults, let before = ResultSummaryDTO.decode(a.resultBefore), let after = ResultSummaryDTO.decode(a.resultAfter) {
            h += "<h3>更正前后评价结果</h3><table class=\"data\" id=\"before-after\"><thead><tr><th></th><th>更正前</th><th>更正后</th></tr></thead><tbody>"
            h += "<tr data-row=\"class\"><td>分类</td><td>\(HTML.classBadge(before.finalClass?.rawValue))</td><td>\(HTML.classBadge(after.finalClass?.rawValue))</td></tr>"
            h += "<tr data-row=\"total\"><td>总分</td><td class=\"num before\">\(HTML.num(before.totalScore))</td><td class=\"num after\">\(HTML.num(after.totalScore))</td></tr>"
            h += "<tr data-row=\"rank\"><td>组内排名</td><td class=\"num\">\(before.rank.map(String.init) ?? "—")</td><td class=\"num\">\(after.rank.map(String.init) ?? "—")</td></tr>"
            h += "<tr data-row=\"land\"><td>用地面积(亩)</td><td class=\"num\">\(HTML.num(before.landMu))</td><td class=\"num\">\(HTML.num(after.landMu))</td></tr>"
            h += "</tbody></table>"
        }

        // actions
        let state = a.caseState
        if AccessPolicy.allows(p.role, .decideAppeal) {
            if state == .assigned {
                h += "<form method=\"post\" action=\"/appeals/\(a.id)/accept\" id=\"accept-form\">\(csrfField())"
                h += "<p><label>签收说明（可选） <input type=\"text\" name=\"note\" maxlength=\"200\"></label> <button type=\"submit\">签收</button></p></form>"
            } else if state == .accepted || state == .handling {
                h += "<h3>答复</h3><form method=\"post\" action=\"/appeals/\(a.id)/decide\" id=\"decide-form\">\(csrfField())"
                h += "<p><label><input type=\"radio\" name=\"outcome\" value=\"upheld\" required> 支持（更正数据并重新评价）</label>"
                h += "<label><input type=\"radio\" name=\"outcome\" value=\"rejected\"> 驳回</label></p>"
                h += "<p><label>更正值（支持时适用，留空则按申报值 \(HTML.escape(a.claimedValue))） <input type=\"text\" inputmode=\"decimal\" name=\"corrected_value\" placeholder=\"\(HTML.escape(a.claimedValue))\"></label></p>"
                h += "<p><label for=\"answer\">书面答复（必填，企业可见）</label><textarea name=\"answer\" id=\"answer\" maxlength=\"\(AppealRules.maxAnswer)\" required rows=\"4\"></textarea></p>"
                h += "<p><button type=\"submit\">提交答复</button></p></form>"
            }
        }
        if p.role == .enterprise, p.creditCode == a.creditCode, state == .replied {
            h += "<h3>评价答复</h3><form method=\"post\" action=\"/appeals/\(a.id)/rate\" id=\"rate-form\">\(csrfField())"
            h += "<p><label>满意度 <select name=\"rating\" required>"
            for r in stride(from: 5, through: 1, by: -1) { h += "<option value=\"\(r)\">\(r) 分\(r == 5 ? "（非常满意）" : r == 1 ? "（不满意）" : "")</option>" }
            h += "</select></label> <button type=\"submit\">评价并销号</button></p></form>"
        }
        h += "</section></div>"

        // history
        h += "<section class=\"card\"><h2>办理记录</h2><div class=\"table-wrap\"><table class=\"data\" id=\"events\"><thead><tr><th>时间</th><th>操作人</th><th>状态变化</th><th>说明</th></tr></thead><tbody>"
        for e in events {
            let from = e.fromState.flatMap(CaseState.init(rawValue:))?.chinese ?? "—"
            let to = CaseState(rawValue: e.toState)?.chinese ?? e.toState
            h += "<tr data-to=\"\(HTML.escape(e.toState))\"><td>\(HTML.dateTime(e.at))</td><td>\(HTML.escape(e.actor))</td><td>\(from) → \(to)</td>"
            h += "<td style=\"white-space: pre-wrap\">\(HTML.escape(e.note))</td></tr>"
        }
        h += "</tbody></table></div></section>"
        return HTML.page(title: "申诉 #\(a.id)", active: "appeals", body: h)
    }

    func attachment(req: Request) async throws -> Response {
        let a = try await Self.visibleAppeal(req)
        guard let file = try await req.fullStore.appealAttachment(id: a.id) else {
            throw Abort(.notFound, reason: "该申诉没有附件 / no attachment")
        }
        let (name, data) = file
        var headers = HTTPHeaders()
        headers.contentType = AppealRules.mediaType(name)
        let ascii = String(name.unicodeScalars.filter { $0.isASCII && $0 != "\"" && $0.value >= 0x20 }.map(Character.init))
        headers.replaceOrAdd(name: .contentDisposition,
                             value: "attachment; filename=\"\(ascii.isEmpty ? "attachment" : ascii)\"; filename*=UTF-8''\(HTML.percent(name))")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'none'")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    // MARK: acting on appeals

    static func appealID(_ req: Request) throws -> Int64 {
        guard let id = req.parameters.get("id", as: Int64.self) else { throw Abort(.notFound, reason: Store.AppealError.notFound.description) }
        return id
    }

    static func accept(_ req: Request) async throws -> Int64 {
        try req.require(.decideAppeal)
        let id = try appealID(req)
        let note = (try? req.content.decode(NoteInput.self))?.note?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (note?.count ?? 0) <= 200 else { throw Abort(.badRequest, reason: "签收说明不能超过 200 字 / the note is too long") }
        do {
            try await req.fullStore.moveAppeal(id: id, to: .accepted, actor: req.actor, note: note.flatMap { $0.isEmpty ? nil : $0 })
        } catch let e as Store.AppealError { throw e.abort }
        return id
    }

    static func decide(_ req: Request) async throws -> Int64 {
        try req.require(.decideAppeal)
        let id = try appealID(req)
        guard let a = try await req.fullStore.appeal(id: id) else { throw Store.AppealError.notFound.abort }
        let input = try req.content.decode(DecideInput.self)
        let outcome: AppealOutcome
        switch input.outcome ?? "" {
        case "upheld", "支持": outcome = .upheld
        case "rejected", "驳回": outcome = .rejected
        default: throw Abort(.badRequest, reason: "请选择支持或驳回 / outcome must be upheld or rejected")
        }
        var answer = (input.answer ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !answer.isEmpty else { throw Abort(.badRequest, reason: "请填写书面答复 / a written answer is required") }
        guard answer.count <= AppealRules.maxAnswer else {
            throw Abort(.badRequest, reason: "书面答复不能超过 \(AppealRules.maxAnswer) 字 / the answer is too long")
        }
        guard a.caseState.canMove(to: .replied) else { throw Store.AppealError.badTransition(from: a.caseState, to: .replied).abort }
        var corrected: Double?
        if outcome == .upheld {
            guard let field = a.appealField else { throw Abort(.unprocessableEntity, reason: "申诉数据项无法识别 / unknown field") }
            if let c = input.correctedValue, !c.isEmpty {
                do { corrected = try AppealRules.number(c.text, field: field, label: "更正值") } catch { throw error.abort }
            }
            let value = corrected ?? Double(a.claimedValue) ?? 0
            answer += "\n（已将\(field.chinese)更正为 \(formatNumber(value))，并重新评价。）"
        }
        let rules = req.application.rulesInForce
        do {
            try await req.fullStore.decideAppeal(id: id, outcome: outcome, answer: answer, correctedValue: corrected,
                                                 rules: rules.rules, rulesYAML: rules.yaml, actor: req.actor)
        } catch let e as Store.AppealError { throw e.abort }
        return id
    }

    static func rate(_ req: Request) async throws -> Int64 {
        let p = try req.require(.fileAppeal)
        let id = try appealID(req)
        guard let a = try await req.fullStore.appeal(id: id), let code = p.creditCode, a.creditCode == code else {
            throw Store.AppealError.notFound.abort
        }
        let raw = (try? req.content.decode(RateInput.self))?.rating?.trimmed ?? ""
        guard let rating = Int(raw), (1...5).contains(rating) else {
            throw Abort(.badRequest, reason: "评价应为 1 到 5 分 / rating must be 1 to 5")
        }
        do {
            try await req.fullStore.rateAppeal(id: id, rating: rating, actor: req.actor)
        } catch let e as Store.AppealError { throw e.abort }
        return id
    }

    func acceptFromForm(req: Request) async throws -> Response {
        req.redirect(to: "/appeals/\(try await Self.accept(req))", redirectType: .normal)
    }
    func decideFromForm(req: Request) async throws -> Response {
        req.redirect(to: "/appeals/\(try await Self.decide(req))", redirectType: .normal)
    }
    func rateFromForm(req: Request) async throws -> Response {
        req.redirect(to: "/appeals/\(try await Self.rate(req))", redirectType: .normal)
    }
    func apiAccept(req: Request) async throws -> AppealDTO { try await Self.dto(req, id: try await Self.accept(req)) }
    func apiDecide(req: Request) async throws -> AppealDTO { try await Self.dto(req, id: try await Self.decide(req)) }
    func apiRate(req: Request) async throws -> AppealDTO { try await Self.dto(req, id: try await Self.rate(req)) }

    // MARK: the bank's credit list

    /// Years whose results are final, newest first.
    static func finalYears(_ store: Store) async throws -> [Int] {
        var out: [Int] = []
        for y in try await store.evaluatedYears() where try await store.publication(year: y).status == .final { out.append(y) }
        return out
    }

    struct CreditList {
        var year: Int
        var finalYears: [Int]
        var rules: Rules
        var terms: [CreditTermDTO]
        var items: [CreditItemDTO]
    }

    /// The list of a final year (the latest when none is asked), or nil when no year is final.
    static func creditList(_ req: Request) async throws -> CreditList? {
        try req.require(.viewCreditList)
        let store = req.fullStore
        let years = try await finalYears(store)
        let asked = req.query[Int.self, at: "year"]
        guard let year = asked ?? years.first else { return nil }
        guard years.contains(year) else {
            throw Abort(.notFound, reason: "\(year) 年度评价结果尚未正式发布 / results of \(year) are not final")
        }
        let run = try await store.currentRun(year: year)
        let rules = run.flatMap { try? Rules(yaml: $0.rulesYAML) } ?? req.application.rulesInForce.rules
        let classes = EnterpriseClass.allCases.filter { rules.policy(for: $0)?.creditEligible == true }
        let terms = classes.map { c in
            CreditTermDTO(cls: c.rawValue, creditRateDiscount: rules.policy(for: c)?.creditRateDiscount,
                          creditLineMultiple: rules.policy(for: c)?.creditLineMultiple)
        }
        let rows = try await store.creditList(year: year, classes: classes.map(\.rawValue))
        let items = rows.map { r in
            let pol = EnterpriseClass(rawValue: r.finalClass).flatMap { rules.policy(for: $0) }
            return CreditItemDTO(creditCode: r.creditCode, name: r.name, town: r.town, group: r.group,
                                 groupName: EnterpriseGroup(rawValue: r.group)?.chinese ?? r.group, cls: r.finalClass,
                                 totalScore: r.totalScore, creditRateDiscount: pol?.creditRateDiscount,
                                 creditLineMultiple: pol?.creditLineMultiple)
        }
        return CreditList(year: year, finalYears: years, rules: rules, terms: terms, items: items)
    }

    static func termText(_ x: Double?, _ unit: String) -> String { x.map { "\(formatNumber($0)) \(unit)" } ?? "—" }

    func bankPage(req: Request) async throws -> Response {
        guard let list = try await Self.creditList(req) else {
            let body = "<section class=\"card empty\" id=\"no-final\"><h1>亩均英雄贷名单</h1><p>尚无正式发布的评价年度。评价结果经公示并正式发布后，这里将列出同意授权的 A、B 类企业。</p></section>"
            return HTML.page(title: "亩均英雄贷", active: "bank", body: body)
        }
        var h = "<section class=\"page-head\"><h1>\(list.year) 年度亩均英雄贷名单</h1>"
        h += "<nav class=\"years\" id=\"year-select\" aria-label=\"评价年度\"><span>正式发布年度：</span>"
        for y in list.finalYears { h += "<a href=\"/bank?year=\(y)\"\(y == list.year ? " class=\"active\"" : "")>\(y)</a>" }
        h += "</nav></section>"
        h += "<section class=\"card\" id=\"credit-terms\"><h2>授信政策</h2><table class=\"data\" id=\"credit-terms-table\"><thead><tr><th>分类</th><th class=\"num\">利率优惠</th><th class=\"num\">授信额度倍数</th></tr></thead><tbody>"
        for t in list.terms {
            h += "<tr data-class=\"\(HTML.escape(t.cls))\"><td>\(HTML.classBadge(t.cls))</td><td class=\"num\">\(Self.termText(t.creditRateDiscount, "个百分点"))</td>"
            h += "<td class=\"num\">\(Self.termText(t.creditLineMultiple, "倍"))</td></tr>"
        }
        h += "</tbody></table><p class=\"muted\">名单仅含正式发布年度中分类可申请亩均英雄贷、且本企业已同意授权的企业；仅提供分类和总分，不含企业的其他数据。</p></section>"
        h += "<section class=\"card\"><div class=\"toolbar\"><span id=\"credit-total\" data-total=\"\(list.items.count)\">共 \(list.items.count) 家企业</span>"
        h += "<a id=\"export-xlsx\" class=\"button\" href=\"/bank/credit-list.xlsx?year=\(list.year)\">导出 Excel</a></div>"
        h += "<div class=\"table-wrap\"><table class=\"data\" id=\"credit-list\"><thead><tr><th class=\"num\">序号</th><th>企业名称</th><th>统一社会信用代码</th>"
        h += "<th>镇街</th><th>规模</th><th>分类</th><th class=\"num\">总分</th><th class=\"num\">利率优惠</th><th class=\"num\">授信额度倍数</th></tr></thead><tbody>"
        if list.items.isEmpty { h += "<tr class=\"none\"><td colspan=\"9\">暂无同意授权的企业。</td></tr>" }
        for (i, r) in list.items.enumerated() {
            h += "<tr data-credit-code=\"\(HTML.escape(r.creditCode))\" data-class=\"\(HTML.escape(r.cls))\"><td class=\"num\">\(i + 1)</td>"
            h += "<td class=\"name\">\(HTML.escape(r.name))</td><td class=\"code\">\(HTML.escape(r.creditCode))</td><td>\(HTML.escape(r.town))</td>"
            h += "<td>\(HTML.escape(r.groupName))</td><td class=\"class cls-\(HTML.escape(r.cls))\">\(HTML.classBadge(r.cls))</td>"
            h += "<td class=\"num total\">\(HTML.num(r.totalScore))</td><td class=\"num\">\(Self.termText(r.creditRateDiscount, "个百分点"))</td>"
            h += "<td class=\"num\">\(Self.termText(r.creditLineMultiple, "倍"))</td></tr>"
        }
        h += "</tbody></table></div></section>"
        return HTML.page(title: "\(list.year) 年度亩均英雄贷名单", active: "bank", body: h)
    }

    static func workbook(_ list: CreditList) -> XLSXWriter {
        func num(_ x: Double?) -> XLSXCell { x.map { $0.isFinite ? .number($0) : .empty } ?? .empty }
        var w = XLSXWriter()
        let rows: [[XLSXCell]] = list.items.enumerated().map { i, r in
            [.number(Double(i + 1)), .text(r.name), .text(r.creditCode), .text(r.town), .text(r.groupName), .text(r.cls),
             num(r.totalScore), num(r.creditRateDiscount), num(r.creditLineMultiple)]
        }
        w.addSheet(name: "亩均英雄贷名单", headers: ["序号", "企业名称", "统一社会信用代码", "所属镇街", "规模", "分类", "总分",
                                                "利率优惠(百分点)", "授信额度倍数"],
                   rows: rows, columnWidths: [7, 36, 22, 14, 7, 7, 9, 14, 12],
                   numberFormats: ["0", nil, nil, nil, nil, nil, "0.00", "0.00", "0.0"])
        w.addSheet(name: "授信政策", headers: ["分类", "利率优惠(百分点)", "授信额度倍数"],
                   rows: list.terms.map { [.text($0.cls), num($0.creditRateDiscount), num($0.creditLineMultiple)] },
                   columnWidths: [8, 16, 14])
        w.addSheet(name: "说明", headers: ["项目", "内容"], rows: [
            [.text("评价年度"), .text("\(list.year)（正式发布）")],
            [.text("评价规则"), .text(list.rules.name)],
            [.text("企业数"), .text("\(list.items.count)")],
            [.text("导出时间"), .text(HTML.dateTime(Date()))],
            [.text("说明"), .text("仅含分类可申请亩均英雄贷且已同意授权的企业；仅提供分类和总分，不含企业的其他数据。")],
        ], columnWidths: [12, 70])
        return w
    }

    func creditListExport(req: Request) async throws -> Response {
        guard let list = try await Self.creditList(req) else {
            throw Abort(.notFound, reason: "尚无正式发布的评价年度 / no final year yet")
        }
        let data = try Self.workbook(list).data()
        try await req.fullStore.audit(actor: req.actor, action: "export.credit_list", target: "\(list.year)", detail: "\(list.items.count) 家企业")
        let name = "\(list.year)年度亩均英雄贷名单.xlsx"
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: ExportController.xlsxType)
        headers.replaceOrAdd(name: .contentDisposition,
                             value: "attachment; filename=\"credit-list-\(list.year).xlsx\"; filename*=UTF-8''\(HTML.percent(name))")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    func apiCreditList(req: Request) async throws -> CreditListDTO {
        guard let list = try await Self.creditList(req) else {
            throw Abort(.notFound, reason: "尚无正式发布的评价年度 / no final year yet")
        }
        return CreditListDTO(year: list.year, finalYears: list.finalYears, terms: list.terms, items: list.items)
    }
}
