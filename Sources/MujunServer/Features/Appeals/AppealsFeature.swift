import Foundation
import Vapor
import MujunCore
import MujunStore

/// Appeals (申诉) and the enterprise's own view (`/my`): filing during the publicity period,
/// accepting, replying (an upheld appeal corrects the figure and re-evaluates the year),
/// rating and closing; and the enterprise's consent to the credit list.
enum AppealsFeature: Feature {
    static let endpoints: [Endpoint] = [
        .page("/my", .permission(.fileAppeal), "本企业评价、申诉与授权 / the enterprise's own page", tag: "appeals",
              parameters: YearQuery.self) { req, q in
            try await myPage(req, year: q.year?.int, form: nil, error: nil, status: .ok)
        },
        .form("/my/consent", .permission(.setConsent), "同意或撤回亩均英雄贷授权 / consent to the credit list", tag: "appeals", parameters: NoParameters.self,
              body: ConsentForm.self, accepts: [.form]) { req, _, form in
            try await req.service.credit.setConsent(form.consent.value)
            return req.redirect(to: "/my#consent", redirectType: .normal)
        },
        .form("/my/appeals", .permission(.fileAppeal), "提出申诉（表单）/ file an appeal", tag: "appeals", parameters: NoParameters.self,
              body: AppealInput.self, accepts: [.multipart, .form]) { req, _, input in
            do {
                let id = try await req.service.appeals.file(input.filing)
                return req.redirect(to: "/appeals/\(id)", redirectType: .normal)
            } catch let e as ServiceError where e.kind != .forbidden {
                return try await myPage(req, year: input.year?.int, form: input, error: e.message, status: ErrorMiddleware.status(e.kind))
            }
        }.with { $0.maxBody = AppealService.maxRequest },
        .page("/appeals", .permission(.viewAppeals), "申诉列表 / the appeals", tag: "appeals", parameters: ListQuery.self) { req, q in
            try await appealsPage(req, q)
        },
        .page("/appeals/:id", .permission(.viewAppeals), "申诉详情与办理记录 / one appeal and its history", tag: "appeals",
              parameters: IDQuery.self) { req, q in
            try await appealPage(req, id: q.id.value)
        },
        .download("/appeals/:id/attachment", .permission(.viewAppeals), "申诉的证明材料 / an appeal's attachment", tag: "appeals",
                  parameters: IDQuery.self, mediaType: "application/octet-stream", documented: false) { req, q in
            let file = try await req.service.appeals.attachment(id: q.id.value)
            let res = Page.download(file.data, type: mediaType(file.filename), asciiName: file.filename, name: file.filename)
            res.headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'none'")
            return res
        },
        .form("/appeals/:id/accept", .permission(.decideAppeal), "签收申诉（表单）/ accept an appeal", tag: "appeals",
              parameters: IDQuery.self, body: NoteInput.self, accepts: [.form]) { req, q, input in
            try await req.service.appeals.accept(id: q.id.value, note: input.note)
            return req.redirect(to: "/appeals/\(q.id.value)", redirectType: .normal)
        },
        .form("/appeals/:id/decide", .permission(.decideAppeal), "答复申诉（表单）/ reply to an appeal", tag: "appeals",
              parameters: IDQuery.self, body: DecideInput.self, accepts: [.form]) { req, q, input in
            try await decide(req, id: q.id.value, input)
            return req.redirect(to: "/appeals/\(q.id.value)", redirectType: .normal)
        },
        .form("/appeals/:id/rate", .permission(.fileAppeal), "评价答复并销号（表单）/ rate the reply", tag: "appeals",
              parameters: IDQuery.self, body: RateInput.self, accepts: [.form]) { req, q, input in
            try await req.service.appeals.rate(id: q.id.value, rating: input.rating.int)
            return req.redirect(to: "/appeals/\(q.id.value)", redirectType: .normal)
        },
        .json(.GET, "/api/v1/appeals", .permission(.viewAppeals), "申诉列表 / the appeals the caller may see", tag: "appeals",
              parameters: ListQuery.self, output: [AppealDTO].self) { req, q in
            try await req.service.appeals.list(year: q.year?.int, state: q.state).map(AppealDTO.init)
        },
        .json(.POST, "/api/v1/appeals", .permission(.fileAppeal), "提出申诉 / file an appeal", tag: "appeals", parameters: NoParameters.self,
              body: AppealInput.self, accepts: [.json, .multipart], output: AppealDTO.self, status: .created,
              errors: [409, 422]) { req, _, input in
            let s = req.service.appeals
            return AppealDTO(try await s.appeal(id: try await s.file(input.filing)))
        }.with { $0.maxBody = AppealService.maxRequest },
        .json(.GET, "/api/v1/appeals/:id", .permission(.viewAppeals), "申诉详情与办理记录 / one appeal and its history", tag: "appeals",
              parameters: IDQuery.self, output: AppealDetailDTO.self) { req, q in
            let s = req.service.appeals
            return AppealDetailDTO(appeal: AppealDTO(try await s.appeal(id: q.id.value)),
                                   events: try await s.events(id: q.id.value).map(CaseEventDTO.init))
        },
        .json(.POST, "/api/v1/appeals/:id/accept", .permission(.decideAppeal), "签收申诉 / accept an appeal", tag: "appeals",
              parameters: IDQuery.self, body: NoteInput.self, accepts: [.json, .form], output: AppealDTO.self, errors: [409]) { req, q, input in
            let s = req.service.appeals
            try await s.accept(id: q.id.value, note: input.note)
            return AppealDTO(try await s.appeal(id: q.id.value))
        },
        .json(.POST, "/api/v1/appeals/:id/decide", .permission(.decideAppeal),
              "答复申诉（支持则更正数据并重新评价）/ reply: upheld corrects the figure and re-evaluates", tag: "appeals",
              parameters: IDQuery.self, body: DecideInput.self, accepts: [.json, .form], output: AppealDTO.self,
              errors: [409, 422]) { req, q, input in
            try await decide(req, id: q.id.value, input)
            return AppealDTO(try await req.service.appeals.appeal(id: q.id.value))
        },
        .json(.POST, "/api/v1/appeals/:id/rate", .permission(.fileAppeal), "评价答复并销号 / rate the reply and close", tag: "appeals",
              parameters: IDQuery.self, body: RateInput.self, accepts: [.json, .form], output: AppealDTO.self, errors: [409]) { req, q, input in
            let s = req.service.appeals
            try await s.rate(id: q.id.value, rating: input.rating.int)
            return AppealDTO(try await s.appeal(id: q.id.value))
        },
    ]

    // MARK: inputs

    struct YearQuery: Decodable, Sendable { var year: Year? }
    struct IDQuery: Decodable, Sendable { var id: RecordID }
    struct ListQuery: Decodable, Sendable { var year: Year?; var state: CaseState? }

    /// `POST /my/appeals` (multipart form) and `POST /api/v1/appeals` (JSON or multipart).
    /// JSON clients send the attachment as `{"filename": "x.pdf", "data": "<base64>"}`.
    struct AppealInput: Decodable, Sendable {
        var year: Year?
        var field: String
        var claimedValue: NumberText
        var reason: String
        var attachment: File?
        enum CodingKeys: String, CodingKey { case year, field, claimedValue = "claimed_value", reason, attachment }

        var filing: AppealService.Filing {
            .init(year: year?.int, field: field, claimedValue: claimedValue.text, reason: reason,
                  attachment: attachment.map { UploadedFile(filename: $0.filename, data: Data(buffer: $0.data)) })
        }
    }

    struct DecideInput: Decodable, Sendable {
        var outcome: OutcomeParam
        var answer: String
        var correctedValue: NumberText?
        enum CodingKeys: String, CodingKey { case outcome, answer, correctedValue = "corrected_value" }
    }

    struct RateInput: Decodable, Sendable { var rating: Bounded<RatingBounds> }
    struct NoteInput: Decodable, Sendable { var note: String? }
    struct ConsentForm: Decodable, Sendable { var consent: Flag }

    enum OutcomeParam: String, ParameterEnum {
        case upheld, rejected
        var outcome: AppealOutcome { self == .upheld ? .upheld : .rejected }
    }

    static func decide(_ req: Request, id: Int64, _ input: DecideInput) async throws {
        try await req.service.appeals.decide(id: id, outcome: input.outcome.outcome, answer: input.answer,
                                              corrected: input.correctedValue?.text)
    }

    static func mediaType(_ name: String) -> String {
        switch URL(fileURLWithPath: name).pathExtension.lowercased() {
        case "pdf": "application/pdf"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        default: "application/octet-stream"
        }
    }

    // MARK: pages

    static func appealsPage(_ req: Request, _ q: ListQuery) async throws -> Response {
        let s = req.service.appeals
        let p = try req.principal()
        let appeals = try await s.list(year: q.year?.int, state: q.state)
        let years = Array(Set(try await s.years() + (try await req.service.ranking.evaluatedYears()))).sorted(by: >)
        let counts = try await s.stateCounts(year: q.year?.int)
        return AppealViews.list(principal: p, appeals: appeals, years: years, year: q.year?.int, state: q.state?.rawValue, counts: counts)
    }

    static func appealPage(_ req: Request, id: Int64) async throws -> Response {
        let s = req.service.appeals
        let view = try await s.appeal(id: id)
        return AppealViews.detail(principal: try req.principal(), view: view, events: try await s.events(id: id))
    }

    /// The enterprise's own page: its evaluation of a year, consent, parcels and appeals, with
    /// the appeal form while the year is in its publicity period.
    static func myPage(_ req: Request, year requested: Int?, form: AppealInput?, error: String?, status: HTTPResponseStatus) async throws -> Response {
        let p = try req.principal()
        guard p.creditCode != nil else { return AppealViews.noEnterprise(status: status) }
        let services = req.service
        let years = try await services.ranking.evaluatedYears()
        let year = requested.flatMap { years.contains($0) ? $0 : nil } ?? years.first
        var view = MyView(years: years, year: year, error: error, form: form, consent: try await services.credit.consent(),
                          appeals: try await services.appeals.list(), rules: req.application.serviceContext.rules,
                          today: ChinaDay.today())
        if let year, let code = p.creditCode, let result = try await services.ranking.result(creditCode: code, year: year) {
            view.result = result
            view.history = try await services.ranking.history(creditCode: code)
            view.publication = try await services.publication.publication(year: year)
            view.figures = try await services.appeals.figures(year: year)
            view.parcels = try await LandViews.myParcels(req, year: year)
        }
        return AppealViews.my(view, status: status)
    }
}

/// What `/my` shows.
struct MyView {
    var years: [Int]
    var year: Int?
    var error: String?
    var form: AppealsFeature.AppealInput?
    var consent: Bool
    var appeals: [AppealService.View]
    var rules: Rules
    var today: String
    var result: EnterpriseResult?
    var history: [Store.HistoryEntry] = []
    var publication: Store.Publication?
    var figures: [AppealField: Double] = [:]
    var parcels: HTMLWriter = HTMLWriter()
}

/// A number sent as a JSON number or as text (forms send text); parsed by the service so that
/// a wrong value gets a Chinese message instead of a decoding error.
struct NumberText: Codable, Sendable, SchemaDescribing {
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
    static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue {
        ["oneOf": [["type": "string", "maxLength": 40], ["type": "number"]]]
    }
    static var schemaExample: NumberText { NumberText("0") }
}

extension CaseState: ParameterEnum {}
extension AppealField: ParameterEnum {}

// MARK: - answers

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

    init(_ v: AppealService.View) {
        let a = v.appeal
        id = a.id; year = a.year; creditCode = a.creditCode; enterpriseName = v.enterpriseName; town = a.town
        field = a.field; fieldName = a.appealField?.chinese ?? a.field
        currentValue = a.currentValue; claimedValue = a.claimedValue; reason = a.reason
        attachmentName = a.attachmentName; attachmentUrl = a.attachmentName.map { _ in "/appeals/\(a.id)/attachment" }
        state = a.state; stateName = a.caseState.chinese; outcome = a.outcome?.rawValue; answer = a.answer
        filedBy = a.filedBy; decidedBy = a.decidedBy; createdAt = a.createdAt; decidedAt = a.decidedAt; rating = a.rating
        before = v.before.map(ResultSummaryDTO.init)
        after = v.after.map(ResultSummaryDTO.init)
    }
}

struct CaseEventDTO: Content {
    var fromState: String?
    var toState: String
    var actor: String
    var note: String?
    var at: Date

    init(_ e: Store.CaseEvent) { fromState = e.fromState; toState = e.toState; actor = e.actor; note = e.note; at = e.at }
}

struct AppealDetailDTO: Content {
    var appeal: AppealDTO
    var events: [CaseEventDTO]
}
