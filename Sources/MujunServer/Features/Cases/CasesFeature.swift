import Foundation
import Vapor
import MujunCore
import MujunStore

/// The closed loop (闭环督办) as a JSON API: case types, registration, the case list and one case
/// with its timeline, a unit's inbox, and every step of CASES.md §1 — each step its own path, so the
/// route table says who may take it (the service checks the unit and the requester as well).
enum CasesFeature: Feature {
    static let endpoints: [Endpoint] = [
        .json(.GET, "/api/v1/case-types", .permission(.viewCases), "督办事项类型及期限 / the case types and their deadlines", tag: "cases",
              parameters: NoParameters.self, output: [CaseTypeDTO].self) { req, _ in
            req.application.serviceContext.caseTypes.types.map(CaseTypeDTO.init)
        },
        .json(.GET, "/api/v1/cases", .permission(.viewCases), "督办事项列表（本人可见范围）/ the cases the caller may see", tag: "cases",
              parameters: CaseListQuery.self, output: [CaseDTO].self) { req, q in
            let per = q.per?.int ?? 100
            let rows = try await req.service.cases.list(q.query, limit: per, offset: ((q.page?.int ?? 1) - 1) * per)
            let today = req.service.cases.today
            let ctx = req.application.serviceContext
            return rows.map { CaseDTO($0, types: ctx.caseTypes, calendar: ctx.calendar, today: today) }
        },
        .json(.POST, "/api/v1/cases", .permission(.superviseCases), "登记（并交办）督办事项 / register (and assign) a case", tag: "cases",
              parameters: NoParameters.self, body: RegistrationInput.self, accepts: [.json, .form], output: RegisteredDTO.self,
              status: .created, errors: [409, 422]) { req, _, input in
            let s = req.service.cases
            let r = try await s.register(input.registration)
            return RegisteredDTO(id: r.id, ref: r.ref, queryCode: r.queryCode)
        },
        .json(.GET, "/api/v1/cases/inbox", .permission(.viewInbox), "承办单位待办（签收、办理、将到期、超期、待验收、协办）/ a unit's inbox",
              tag: "cases", parameters: InboxQuery.self, output: InboxDTO.self) { req, q in
            let box = try await req.service.cases.inbox(unit: q.unit?.value, only: q.group?.group, page: q.page?.int ?? 1, per: q.per?.int ?? 50)
            let ctx = req.application.serviceContext
            let today = req.service.cases.today
            return InboxDTO(box, types: ctx.caseTypes, calendar: ctx.calendar, today: today)
        },
        .json(.GET, "/api/v1/bulletins", .permission(.superviseCases), "已发布的督导通报 / the issued bulletins", tag: "cases",
              parameters: NoParameters.self, output: [IssuedBulletinDTO].self) { req, _ in
            try await req.service.cases.issuedBulletins().map(IssuedBulletinDTO.init)
        },
        .json(.GET, "/api/v1/cases/:id", .permission(.viewCases), "督办事项详情、期限依据与办理过程 / one case, its deadlines and timeline",
              tag: "cases", parameters: IDQuery.self, output: CaseDetailDTO.self) { req, q in
            CaseDetailDTO(try await req.service.cases.view(id: q.id.value), req: req)
        },
    ] + stepEndpoints + pages

    /// The pages (Simplified Chinese) over the same service.
    static var pages: [Endpoint] {
        [
            .page("/cases", .permission(.viewCases), "督办事项 / the cases", tag: "cases", parameters: CaseListQuery.self) { req, q in
                let ctx = req.application.serviceContext
                let rows = try await req.service.cases.list(q.query, limit: q.per?.int ?? 500, offset: ((q.page?.int ?? 1) - 1) * (q.per?.int ?? 500))
                return CaseViews.list(principal: try req.principal(), rows: rows, q: q, types: ctx.caseTypes, calendar: ctx.calendar,
                                      today: req.service.cases.today)
            },
            .page("/cases/new", .permission(.superviseCases), "登记督办事项（表单）/ the registration form", tag: "cases",
                  parameters: NoParameters.self) { req, _ in
                CaseViews.newForm(types: req.application.serviceContext.caseTypes, units: try await req.service.cases.units(), input: nil, error: nil)
            },
            .form("/cases/new", .permission(.superviseCases), "登记督办事项 / register a case", tag: "cases", parameters: NoParameters.self,
                  body: RegistrationInput.self, accepts: [.form]) { req, _, input in
                let s = req.service.cases
                do {
                    let r = try await s.register(input.registration)
                    if let code = r.queryCode {  // shown once, never in a URL
                        return try await casePage(req, id: r.id, notice: "已登记 \(r.ref)。信访人查询码：\(code)（请告知信访人，系统不再显示）", status: .created)
                    }
                    return req.redirect(to: "/cases/\(r.id)", redirectType: .normal)
                } catch let e as ServiceError where e.kind != .forbidden {
                    return CaseViews.newForm(types: req.application.serviceContext.caseTypes, units: try await s.units(), input: input,
                                             error: e.message, status: ErrorMiddleware.status(e.kind))
                }
            },
            .page("/cases/bulletin", .permission(.superviseCases), "督导通报 / the bulletin", tag: "cases", parameters: BulletinQuery.self) { req, q in
                let b = try await bulletin(req, q)
                return CaseViews.bulletin(b, types: req.application.serviceContext.caseTypes, list: try await req.service.cases.issuedBulletins())
            },
            .form("/cases/bulletin/issue", .permission(.superviseCases), "发布督导通报（冻结）/ issue a bulletin", tag: "cases",
                  parameters: NoParameters.self, body: IssueForm.self, accepts: [.form]) { req, _, f in
                let q = BulletinQuery(type: f.type.flatMap { $0.isEmpty ? nil : NameText($0) }, from: NameText(f.from), to: NameText(f.to), asOf: NameText(f.asOf))
                do {
                    let b = try await bulletin(req, q)
                    let r = try await req.service.cases.issue(number: f.number, title: f.title ?? "", from: b.from, to: b.to, asOf: b.asOf, type: b.type)
                    return req.redirect(to: "/cases/bulletins/\(r.id)", redirectType: .normal)
                } catch let e as ServiceError where e.kind == .invalid || e.kind == .conflict {
                    let b = try await bulletin(req, q)
                    return CaseViews.bulletin(b, types: req.application.serviceContext.caseTypes, list: try await req.service.cases.issuedBulletins(),
                                              error: e.message, status: ErrorMiddleware.status(e.kind))
                }
            },
            .page("/cases/bulletins/:id", .permission(.superviseCases), "已发布的督导通报 / an issued bulletin", tag: "cases",
                  parameters: IDQuery.self) { req, q in
                let (r, b) = try await req.service.cases.issued(id: q.id.value)
                return CaseViews.bulletin(b, types: req.application.serviceContext.caseTypes, issued: r)
            },
            .download("/cases/bulletins/:id/xlsx", .permission(.superviseCases), "已发布通报 Excel（与发布时逐字节相同）/ an issued bulletin as a workbook",
                      tag: "cases", parameters: IDQuery.self, mediaType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") { req, q in
                let (r, b) = try await req.service.cases.issued(id: q.id.value)
                var w = b.workbook(title: r.title)
                w.timestamp = Date(timeIntervalSince1970: Double(r.recordedUs) / 1_000_000)
                return Page.download(try w.data(), type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                     asciiName: "bulletin-\(r.id).xlsx", name: "\(r.number).xlsx")
            },
            .download("/cases/bulletins/:id/csv", .permission(.superviseCases), "已发布通报 CSV / an issued bulletin as CSV", tag: "cases",
                      parameters: IDQuery.self, mediaType: "text/csv") { req, q in
                let (r, b) = try await req.service.cases.issued(id: q.id.value)
                return Page.download(Data(b.csv().utf8), type: "text/csv; charset=utf-8", asciiName: "bulletin-\(r.id).csv", name: "\(r.number).csv")
            },
            .download("/cases/bulletin.xlsx", .permission(.superviseCases), "督导通报 Excel（A4 打印）/ the bulletin as a workbook", tag: "cases",
                      parameters: BulletinQuery.self, mediaType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") { req, q in
                let b = try await bulletin(req, q)
                let data = try b.workbook(title: "督导通报").data()
                return Page.download(data, type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                     asciiName: "bulletin-\(b.asOf).xlsx", name: "督导通报-\(b.asOf).xlsx")
            },
            .page("/cases/:id", .permission(.viewCases), "督办事项详情与办理 / one case", tag: "cases", parameters: IDQuery.self) { req, q in
                try await casePage(req, id: q.id.value)
            },
            .page("/inbox", .permission(.viewInbox), "单位待办 / a unit's inbox", tag: "cases", parameters: InboxQuery.self) { req, q in
                let ctx = req.application.serviceContext
                let box = try await req.service.cases.inbox(unit: q.unit?.value, only: q.group?.group, page: q.page?.int ?? 1, per: q.per?.int ?? 50)
                return CaseViews.inbox(box, types: ctx.caseTypes, calendar: ctx.calendar, today: req.service.cases.today)
            },
            .page("/calendar", .permission(.viewCases), "工作日历 / the work calendar", tag: "cases", parameters: CalendarQuery.self) { req, q in
                try await calendarPage(req, year: q.year?.int)
            },
            .form("/calendar/years", .permission(.manageSettings), "录入或修改一年的放假安排 / add or change a year's holiday arrangement",
                  tag: "cases", parameters: NoParameters.self, body: CalendarYearForm.self, accepts: [.form]) { req, _, f in
                do {
                    try await req.service.calendar.setYear(f.year, holidays: f.holidays, workdays: f.workdays ?? "")
                    return try await calendarPage(req, year: f.year, notice: "已保存 \(f.year) 年放假安排，新的期限即按此计算。")
                } catch let e as ServiceError where e.kind == .invalid {
                    return try await calendarPage(req, year: f.year, form: (f.holidays, f.workdays ?? ""), error: e.message, status: .badRequest)
                }
            },
        ] + stepForms + petitioner
    }

    /// The petitioner's pages: no account, the case number and the query code issued at registration
    /// (CSRF by a pre-session cookie; wrong pairs count against the address like failed sign-ins).
    static var petitioner: [Endpoint] {
        [
            .page("/petition", .open, "信访件查询（编号 + 查询码）/ a petition's progress by its number and query code", tag: "cases",
                  parameters: NoParameters.self) { req, _ in
                petitionPage(req, view: nil, ref: "", code: "", message: nil, status: .ok)
            },
            .form("/petition", .open, "查询信访件办理进度 / look up a petition", tag: "cases", parameters: NoParameters.self,
                  body: PetitionForm.self, accepts: [.form]) { req, _, f in
                try await petitionAnswer(req, f) { v in v }
            },
            .form("/petition/rate", .open, "信访人评价答复 / the petitioner rates the reply", tag: "cases", parameters: NoParameters.self,
                  body: PetitionForm.self, accepts: [.form]) { req, _, f in
                try await petitionAnswer(req, f) { _ in
                    try await req.service.cases.ratePetition(ref: f.ref, code: f.code, rating: f.rating ?? "", note: f.note ?? "")
                }
            },
        ]
    }

    struct PetitionForm: Decodable, Sendable {
        var ref: String
        var code: String
        var rating: String?
        var note: String?
        var _csrf: String?
    }

    static func petitionPage(_ req: Request, view: CaseService.CaseView?, ref: String, code: String, message: String?,
                             status: HTTPResponseStatus) -> Response {
        let csrf = req.cookies[SessionCookie.preSession]?.string ?? Tokens.random(18)
        let res = PageContext.$csrf.withValue(csrf) {
            CaseViews.petition(view: view, ref: ref, code: code, message: message, status: status)
        }
        res.cookies[SessionCookie.preSession] = HTTPCookies.Value(
            string: csrf, maxAge: 3600, path: "/petition", isSecure: req.application.serverConfig.secureCookies,
            isHTTPOnly: true, sameSite: .strict)
        return res
    }

    /// Checks the form's CSRF token and the address's failures, finds the petition, runs `act` on it.
    static func petitionAnswer(_ req: Request, _ f: PetitionForm,
                               _ act: @Sendable (CaseService.CaseView) async throws -> CaseService.CaseView) async throws -> Response {
        guard let cookie = req.cookies[SessionCookie.preSession]?.string, let sent = f._csrf, Tokens.equal(cookie, sent) else {
            return petitionPage(req, view: nil, ref: f.ref, code: "", message: "页面已过期，请重新查询 / the form expired", status: .forbidden)
        }
        let limiter = req.service.signInLimits
        let address = req.clientAddress
        if try await limiter.isBlocked(address) {
            return petitionPage(req, view: nil, ref: f.ref, code: "", message: "查询失败次数过多，请 15 分钟后再试 / too many failed attempts, try again in 15 minutes",
                                status: .tooManyRequests)
        }
        guard let v = try await req.service.cases.petition(ref: f.ref, code: f.code) else {
            try await limiter.recordFailure(address)
            return petitionPage(req, view: nil, ref: f.ref, code: "", message: "编号或查询码不正确 / the number or the query code is wrong", status: .notFound)
        }
        do {
            return petitionPage(req, view: try await act(v), ref: f.ref, code: f.code, message: nil, status: .ok)
        } catch let e as ServiceError {
            return petitionPage(req, view: v, ref: f.ref, code: f.code, message: e.message, status: ErrorMiddleware.status(e.kind))
        }
    }

    /// The step forms of the case page: redirect back to the case, or show it again with the refusal.
    static var stepForms: [Endpoint] {
        return steps.map { kind, permission, _ in
            .form("/cases/:id/\(kind.rawValue)", .permission(permission), "\(kind.chinese)（表单）/ \(kind.rawValue) (form)", tag: "cases",
                  parameters: IDQuery.self, body: StepBody.self, accepts: [.form, .multipart]) { req, q, body in
                try await acting(req, id: q.id.value) {
                    try await req.service.cases.step(id: q.id.value, kind, body.input, files: body.files)
                }
            }.with { $0.maxBody = CaseService.maxAttachmentBytes + 65_536 }
        }
    }

    struct CalendarYearForm: Decodable, Sendable {
        var year: Int
        var holidays: String
        var workdays: String?
    }

    static func calendarPage(_ req: Request, year: Int?, form: (String, String)? = nil, error: String? = nil, notice: String? = nil,
                             status: HTTPResponseStatus = .ok) async throws -> Response {
        let cal = req.application.serviceContext.calendar
        let today = req.service.cases.today
        let years = Array(Set(cal.years.keys).union([today.year, today.year + 1])).sorted()
        let p = try req.principal()
        return CaseViews.calendar(year: year ?? today.year, calendar: cal, years: years, stored: try await req.service.calendar.storedYears(),
                                  canEdit: AccessPolicy.allows(p.role, .manageSettings) && (year ?? today.year) >= today.year,
                                  form: form.map { (holidays: $0.0, workdays: $0.1) }, error: error, notice: notice, status: status)
    }

    static func casePage(_ req: Request, id: Int64, notice: String? = nil, error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let s = req.service.cases
        let view = try await s.view(id: id)
        let units = view.actions.contains(.assign) ? try await s.units() : []
        return CaseViews.detail(principal: try req.principal(), view: view, types: req.application.serviceContext.caseTypes,
                                units: units, today: s.today, notice: notice, error: error, status: status)
    }

    static func bulletin(_ req: Request, _ q: BulletinQuery) async throws -> Bulletin {
        let s = req.service.cases
        let today = s.today
        func date(_ t: NameText?, _ name: String, _ d: CalendarDate) throws -> CalendarDate {
            guard let v = t?.value, !v.isEmpty else { return d }
            guard let x = CalendarDate(v) else { throw ServiceError(.invalid, "\(name) 应为 YYYY-MM-DD 日期 / \(name) must be a date") }
            return x
        }
        let from = try date(q.from, "from", CalendarDate(year: today.year, month: 1, day: 1)!)
        let to = try date(q.to, "to", CalendarDate(year: today.year, month: 12, day: 31)!)
        let asOf = try date(q.asOf, "as_of", today)
        return try await s.bulletin(from: from, to: to, asOf: asOf, type: q.type?.value)
    }

    /// Every step with the permission it needs (the service checks the unit and the requester as well):
    /// the JSON endpoints and the case page's forms are both made from this one list.
    static let steps: [(CaseEventKind, Permission, String)] = [
        (.assign, .superviseCases, "交办（退回后重新交办）/ assign (again after a return)"),
        (.accept, .handleCases, "签收 / accept (the lead unit)"),
        (.return, .handleCases, "退回（须说明理由）/ return to the assigner, with a reason (the lead unit)"),
        (.extend, .superviseCases, "批准延期 / approve an extension to a new due date"),
        (.progress, .handleCases, "记录办理进展 / record progress (the lead unit)"),
        (.reply, .handleCases, "答复/办结 / reply (the lead unit)"),
        (.verify, .superviseCases, "验收 / verify the work"),
        (.evaluate, .evaluateCases, "评价（仅提出人）/ rate the reply (the requester only)"),
        (.close, .superviseCases, "销号 / close"),
    ]

    /// One JSON endpoint per step.
    static var stepEndpoints: [Endpoint] {
        return steps.map { kind, permission, summary in
            .json(.POST, "/api/v1/cases/:id/\(kind.rawValue)", .permission(permission), summary, tag: "cases",
                  parameters: IDQuery.self, body: StepBody.self, accepts: [.json, .form, .multipart], output: CaseDetailDTO.self,
                  errors: [409, 413, 415, 422]) { req, q, body in
                CaseDetailDTO(try await req.service.cases.step(id: q.id.value, kind, body.input, files: body.files), req: req)
            }.with { $0.maxBody = CaseService.maxAttachmentBytes + 65_536 }
        }
    }

    // MARK: inputs

    struct IDQuery: Decodable, Sendable { var id: RecordID }
    struct InboxQuery: Decodable, Sendable {
        var unit: NameText?
        /// Only this group, paged.
        var group: GroupParam?
        var page: PageNumber?
        var per: PerPage?
    }
    enum GroupParam: String, ParameterEnum {
        case toAccept = "to-accept", inProgress = "in-progress", dueSoon = "due-soon", overdue, verification, assisting, followUp = "follow-up"
        var group: InboxGroup { InboxGroup(rawValue: rawValue)! }
    }
    struct CalendarQuery: Decodable, Sendable { var year: Year? }
    struct BulletinQuery: Decodable, Sendable {
        var type: NameText?
        var from: NameText?
        var to: NameText?
        var asOf: NameText?
        enum CodingKeys: String, CodingKey { case type, from, to, asOf = "as_of" }
    }
    struct IssueForm: Decodable, Sendable {
        var number: String
        var title: String?
        var type: String?
        var from: String
        var to: String
        var asOf: String
        enum CodingKeys: String, CodingKey { case number, title, type, from, to, asOf = "as_of" }
    }

    enum StateParam: String, ParameterEnum { case registered, assigned, handling, replied, verified, evaluated, closed, returned }

    struct CaseListQuery: Decodable, Sendable {
        var type: NameText?
        var state: StateParam?
        var unit: NameText?
        var parcel: NameText?
        var q: SearchText?
        var page: PageNumber?
        var per: PerPage?

        var query: Store.CaseQuery {
            Store.CaseQuery(type: type?.value, states: state.map { [$0.rawValue] }, leadUnit: unit?.value,
                            parcelID: parcel?.value, text: q?.value)
        }
    }

    struct RegistrationInput: Decodable, Sendable {
        var type: String
        var ref: String?
        var title: String
        var body: String?
        var requester: String
        var requesterLogin: String?
        var creditCode: String?
        var parcelId: String?
        var cluster: String?
        var town: String?
        var leadUnit: String?
        var coUnits: [String]?
        var due: String?
        var level: String?
        enum CodingKeys: String, CodingKey {
            case type, ref, title, body, requester, requesterLogin = "requester_login", creditCode = "credit_code"
            case parcelId = "parcel_id", cluster, town, leadUnit = "lead_unit", coUnits = "co_units", due, level
        }

        var registration: CaseService.Registration {
            .init(type: type, ref: ref, title: title, body: body ?? "", requester: requester, requesterLogin: requesterLogin,
                  creditCode: creditCode,
                  parcelID: parcelId, cluster: cluster, town: town,
                  assign: leadUnit.flatMap { $0.isEmpty ? nil : CaseService.Registration.Assign(unit: $0, coUnits: coUnits ?? [], due: due, level: level) })
        }
    }

    struct StepBody: Decodable, Sendable {
        var unit: String?
        var coUnits: [String]?
        var due: String?
        var category: String?
        var rating: String?
        var head: Bool?
        var passed: Bool?
        var note: String?
        var level: String?
        var version: Int?
        /// A file attached to the event (multipart, or `{filename, data}` in JSON).
        var attachment: File?
        enum CodingKeys: String, CodingKey {
            case unit, coUnits = "co_units", due, category, rating, head, passed, note, level, version, attachment
        }

        var files: [Store.NewAttachment] {
            attachment.map { [Store.NewAttachment(name: $0.filename, contentType: "", data: Data(buffer: $0.data))] } ?? []
        }

        var input: CaseService.StepInput {
            .init(unit: unit, coUnits: coUnits ?? [], due: due, category: category, rating: rating, head: head ?? false,
                  passed: passed, note: note ?? "", level: level, version: version)
        }
    }
}

// MARK: - outputs

struct CaseTypeDTO: Content {
    var key: String
    var name: String
    var accept: String
    var reply: String?
    var from: String
    var extendUpTo: String?
    var maxExtensions: Int?
    var verify: Bool
    var evaluate: Bool
    var categories: [String]
    var replyBasis: String

    init(_ t: CaseType) {
        key = t.key; name = t.name; accept = t.accept.description; reply = t.reply?.description; from = t.from.rawValue
        extendUpTo = t.extendUpTo?.description; maxExtensions = t.maxExtensions; verify = t.verify; evaluate = t.evaluate
        categories = t.categories; replyBasis = t.replyBasis
    }
}

struct CaseDTO: Content {
    var id: Int64
    var type: String
    var typeName: String
    var ref: String
    var title: String
    var requester: String
    var state: String
    var stateName: String
    var leadUnit: String?
    var coUnits: [String]
    var level: String
    var assignedOn: String?
    var acceptDue: String?
    var acceptedOn: String?
    var replyDue: String?
    var rehandleDue: String?
    var firstReplyOn: String?
    var rating: String?
    var category: String?
    /// "", yellow or red today
    var flag: String
    var parcelId: String?
    var creditCode: String?
    var town: String?
    var version: Int

    init(_ r: Store.CaseRecord, types: CaseTypes, calendar: WorkCalendar, today: CalendarDate) {
        id = r.id; type = r.type; typeName = types.stored(r.type)?.name ?? r.type; ref = r.ref; title = r.title
        requester = r.requester; state = r.state; stateName = r.loopState?.chinese ?? r.state; leadUnit = r.leadUnit
        coUnits = r.coUnitList; level = r.level; assignedOn = r.assignedOn; acceptDue = r.acceptDue; acceptedOn = r.acceptedOn
        replyDue = r.replyDue; rehandleDue = r.rehandleDue; firstReplyOn = r.firstReplyOn; rating = r.rating; category = r.category
        flag = CaseService.flag(r, at: today, calendar: calendar, redAfter: types.redAfter).rawValue
        parcelId = r.parcelId; creditCode = r.creditCode; town = r.town; version = r.version
    }
}

struct LoopEventDTO: Content {
    var seq: Int
    var kind: String
    var kindName: String
    var date: String
    var recordedAt: Date
    var actor: String
    var unit: String
    var due: String?
    var category: String?
    var rating: String?
    var head: Bool
    var passed: Bool?
    var note: String

    init(_ e: Store.LoopEventRecord) {
        seq = e.seq; kind = e.kind; kindName = CaseEventKind(rawValue: e.kind)?.chinese ?? e.kind; date = e.date
        recordedAt = Date(timeIntervalSince1970: Double(e.recordedUs) / 1_000_000); actor = e.actor; unit = e.unit
        due = e.due; category = e.category; rating = e.rating; head = e.head; passed = e.passed; note = e.note
    }
}

struct CaseDetailDTO: Content {
    var `case`: CaseDTO
    var acceptBasis: String
    var replyBasis: String
    var extensions: Int
    var actions: [String]
    var events: [LoopEventDTO]
    /// Opinions, extension requests and their decisions, the three ones, follow-up reports.
    var notes: [CaseNoteDTO]
    /// What the caller may record besides the steps (opinion, extension, report, visit, revisit, followup).
    var noteActions: [String]
    /// Every file attached to an event (`event_seq`) or a note (`note_id`).
    var attachments: [AttachmentDTO]
    /// A follow-up report (续报) is owed by this date.
    var followUpDue: String?

    init(_ v: CaseService.CaseView, req: Request) {
        let ctx = req.application.serviceContext
        `case` = CaseDTO(v.record, types: ctx.caseTypes, calendar: ctx.calendar, today: req.service.cases.today)
        acceptBasis = v.type.acceptBasis; replyBasis = v.type.replyBasis
        extensions = v.loop.assignment?.extensions ?? 0
        actions = v.actions.map(\.rawValue)
        events = v.events.map(LoopEventDTO.init)
        notes = v.notes.map { CaseNoteDTO($0, attachments: v.attachments) }
        noteActions = v.noteActions.map(\.rawValue)
        attachments = v.attachments.map(AttachmentDTO.init)
        followUpDue = v.record.followUpDue
    }
}

struct RegisteredDTO: Content {
    var id: Int64
    var ref: String
    /// A petition's query code, shown once.
    var queryCode: String?
}

struct InboxDTO: Content {
    var unit: String
    /// Every group's count over all open cases (to_accept, in_progress, due_soon, overdue, yellow, red,
    /// verification, assisting, follow_up).
    var counts: [String: Int]
    var page: Int
    var per: Int
    var toAccept: [CaseDTO]?
    var inProgress: [CaseDTO]?
    var dueSoon: [CaseDTO]?
    var overdue: [CaseDTO]?
    var awaitingVerification: [CaseDTO]?
    var assisting: [CaseDTO]?
    var followUp: [CaseDTO]?

    init(_ b: CaseService.Inbox, types: CaseTypes, calendar: WorkCalendar, today: CalendarDate) {
        func dto(_ g: InboxGroup) -> [CaseDTO]? { b.rows[g].map { $0.map { CaseDTO($0, types: types, calendar: calendar, today: today) } } }
        unit = b.unit; page = b.page; per = b.per
        toAccept = dto(.toAccept); inProgress = dto(.inProgress); dueSoon = dto(.dueSoon); overdue = dto(.overdue)
        awaitingVerification = dto(.verification); assisting = dto(.assisting); followUp = dto(.followUp)
        var c: [String: Int] = [:]
        for g in InboxGroup.allCases { c[g.key] = b.count(g) }
        c["awaiting_verification"] = b.count(.verification)
        c["yellow"] = b.yellow; c["red"] = b.red
        counts = c
    }
}

struct IssuedBulletinDTO: Content {
    var id: Int64
    var number: String
    var title: String
    var issuedOn: String
    var type: String?
    var from: String
    var to: String
    var asOf: String
    var issuedBy: String
    /// The frozen bulletin as a workbook and as CSV.
    var xlsxUrl: String
    var csvUrl: String

    init(_ r: Store.BulletinRecord) {
        id = r.id; number = r.number; title = r.title; issuedOn = r.issuedOn; type = r.type; from = r.fromDate; to = r.toDate
        asOf = r.asOf; issuedBy = r.issuedBy; xlsxUrl = "/cases/bulletins/\(r.id)/xlsx"; csvUrl = "/cases/bulletins/\(r.id)/csv"
    }
}
