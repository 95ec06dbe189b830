import Foundation
import Vapor
import MujunCore
import MujunStore

/// What the closed loop records beside its steps, over `CaseService`: a case's notes (co-unit
/// opinions, the "three ones", follow-up reports), extension requests and their decisions,
/// attachments, and meetings whose items are assigned on the spot.
enum CaseWorkFeature: Feature {
    static let endpoints: [Endpoint] = [
        .json(.POST, "/api/v1/cases/:id/notes", .permission(.handleCases),
              "记录协办意见、三个一（报到、现场、回访）或续报 / record a co-unit opinion, one of the three ones, or a follow-up report",
              tag: "cases", parameters: CasesFeature.IDQuery.self, body: NoteBody.self, accepts: [.json, .multipart], output: CaseDetailDTO.self,
              status: .created, errors: [409, 415, 413, 422]) { req, q, b in
            let s = req.service.cases
            try await s.addNote(id: q.id.value, try b.noteKind(), text: b.text ?? "", head: b.head ?? false, resolved: b.resolved ?? false,
                                files: b.files)
            return CaseDetailDTO(try await s.view(id: q.id.value), req: req)
        }.with { $0.maxBody = CaseService.maxAttachmentBytes + 65_536 },
        .json(.POST, "/api/v1/cases/:id/extension-requests", .permission(.handleCases), "主办单位申请延期 / the lead unit requests an extension",
              tag: "cases", parameters: CasesFeature.IDQuery.self, body: ExtensionBody.self, accepts: [.json, .multipart], output: CaseDetailDTO.self,
              status: .created, errors: [409, 415, 413, 422]) { req, q, b in
            let s = req.service.cases
            try await s.requestExtension(id: q.id.value, due: b.due, reason: b.reason, files: b.files)
            return CaseDetailDTO(try await s.view(id: q.id.value), req: req)
        }.with { $0.maxBody = CaseService.maxAttachmentBytes + 65_536 },
        .json(.GET, "/api/v1/extension-requests", .permission(.superviseCases), "待审批的延期申请 / the extension requests awaiting a decision",
              tag: "cases", parameters: NoParameters.self, output: [CaseNoteDTO].self) { req, _ in
            try await req.service.cases.pendingExtensions().map { CaseNoteDTO($0, attachments: []) }
        },
        .json(.POST, "/api/v1/extension-requests/:id/decision", .permission(.superviseCases),
              "批准或驳回延期申请（批准即延期）/ approve (extending the deadline) or refuse an extension request",
              tag: "cases", parameters: CasesFeature.IDQuery.self, body: DecisionBody.self, accepts: [.json, .form], output: CaseDetailDTO.self,
              errors: [409, 422]) { req, q, b in
            CaseDetailDTO(try await req.service.cases.decideExtension(noteID: q.id.value, approve: b.approve, note: b.note ?? ""), req: req)
        },
        .download("/cases/:id/attachments/:file", .permission(.viewCases), "督办事项的附件 / an attachment of a case", tag: "cases",
                  parameters: AttachmentQuery.self, mediaType: "application/octet-stream", documented: false) { req, q in
            let (a, data) = try await req.service.cases.attachment(caseID: q.id.value, id: q.file.value)
            let res = Page.download(data, type: a.contentType, asciiName: "attachment-\(a.id).\((a.name as NSString).pathExtension)", name: a.name)
            res.headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'none'")
            res.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
            return res
        },
        .json(.GET, "/api/v1/meetings", .permission(.viewCases), "会议（永商会客厅、日会商、周例会、现场办公、领导接访）/ the meetings", tag: "cases",
              parameters: NoParameters.self, output: [MeetingDTO].self) { req, _ in
            try await req.service.cases.meetings().map { MeetingDTO($0.0, items: $0.items, answered: $0.answered, cases: nil, req: req) }
        },
        .json(.POST, "/api/v1/meetings", .permission(.superviseCases), "记录会议并当场交办各事项 / record a meeting and assign its items",
              tag: "cases", parameters: NoParameters.self, body: MeetingBody.self, accepts: [.json], output: MeetingCreatedDTO.self,
              status: .created, errors: [409, 422]) { req, _, b in
            let r = try await req.service.cases.createMeeting(b.input)
            return MeetingCreatedDTO(id: r.id, queryCodes: r.queryCodes.map { .init(ref: $0.ref, queryCode: $0.code) })
        },
        .json(.GET, "/api/v1/meetings/:id", .permission(.viewCases), "会议及其交办事项的办理状态 / a meeting and its items' states", tag: "cases",
              parameters: CasesFeature.IDQuery.self, output: MeetingDTO.self) { req, q in
            let v = try await req.service.cases.meeting(id: q.id.value)
            return MeetingDTO(v.meeting, items: v.itemCount, answered: v.answered, cases: v.items, req: req)
        },
        .json(.GET, "/api/v1/map/cases", .permission(.viewCases),
              "挂图作战：未销号的督办事项（GeoJSON 点，CRS84；flag 为 yellow/red 时超期）/ the battle map's open cases as GeoJSON points",
              tag: "cases", parameters: NoParameters.self, output: CaseMapDTO.self) { req, _ in
            let types = req.application.serviceContext.caseTypes
            let features = try await req.service.cases.onMap().compactMap { c, flag -> CaseMapDTO.Feature? in
                guard let box = c.bbox, let b = LandGeo.crs84(box) else { return nil }
                return .init(id: c.id, geometry: .init(coordinates: [((b[0] + b[2]) / 2 * 1e6).rounded() / 1e6, ((b[1] + b[3]) / 2 * 1e6).rounded() / 1e6]),
                             properties: .init(ref: c.ref, title: c.title, type: c.type, typeName: types.stored(c.type)?.name ?? c.type,
                                               state: c.state, stateName: CaseLoop.State(rawValue: c.state)?.chinese ?? c.state,
                                               flag: flag.rawValue, leadUnit: c.leadUnit, parcelId: c.parcelId,
                                               cluster: c.clusterNumber.map { "\(c.clusterYear ?? 0)-\($0)" }, url: "/cases/\(c.id)"))
            }
            return CaseMapDTO(features: features, numberReturned: features.count)
        },
    ] + pages + CaseImportPage.endpoints

    static var pages: [Endpoint] {
        [
            .form("/cases/:id/notes", .permission(.handleCases), "记录协办意见、三个一或续报（表单）/ record a note (form)", tag: "cases",
                  parameters: CasesFeature.IDQuery.self, body: NoteBody.self, accepts: [.form, .multipart]) { req, q, b in
                try await CasesFeature.acting(req, id: q.id.value) {
                    try await req.service.cases.addNote(id: q.id.value, try b.noteKind(), text: b.text ?? "", head: b.head ?? false,
                                                        resolved: b.resolved ?? false, files: b.files)
                }
            }.with { $0.maxBody = CaseService.maxAttachmentBytes + 65_536 },
            .form("/cases/:id/extension-request", .permission(.handleCases), "申请延期（表单）/ request an extension (form)", tag: "cases",
                  parameters: CasesFeature.IDQuery.self, body: ExtensionBody.self, accepts: [.form, .multipart]) { req, q, b in
                try await CasesFeature.acting(req, id: q.id.value) {
                    try await req.service.cases.requestExtension(id: q.id.value, due: b.due, reason: b.reason, files: b.files)
                }
            }.with { $0.maxBody = CaseService.maxAttachmentBytes + 65_536 },
            .form("/extension-requests/:id/decision", .permission(.superviseCases), "批准或驳回延期申请（表单）/ decide an extension request (form)",
                  tag: "cases", parameters: CasesFeature.IDQuery.self, body: DecisionBody.self, accepts: [.form]) { req, q, b in
                let s = req.service.cases
                guard let caseID = try await s.extensionCase(noteID: q.id.value) else {
                    throw ServiceError(.notFound, "延期申请不存在 / extension request not found")
                }
                return try await CasesFeature.acting(req, id: caseID) {
                    try await s.decideExtension(noteID: q.id.value, approve: b.approve, note: b.note ?? "")
                }
            },
            .page("/meetings", .permission(.viewCases), "会议交办 / the meetings", tag: "cases", parameters: NoParameters.self) { req, _ in
                MeetingViews.list(try await req.service.cases.meetings(), canCreate: req.service.caller.allows(.superviseCases))
            },
            .page("/meetings/new", .permission(.superviseCases), "记录会议（表单）/ the meeting form", tag: "cases", parameters: MeetingKindQuery.self) { req, q in
                let kind = MeetingKind(named: q.kind?.value ?? "") ?? .yongshang
                // from a project agenda (周例会 / 日会商): its late projects as the items
                let input = q.agenda?.value == true ? try await AgendaViews.meetingForm(req, weekly: kind != .daily) : nil
                return MeetingViews.form(types: req.application.serviceContext.caseTypes, units: try await req.service.cases.units(),
                                         kind: kind, input: input, error: nil)
            },
            .form("/meetings/new", .permission(.superviseCases), "记录会议并交办 / record a meeting and assign its items", tag: "cases",
                  parameters: NoParameters.self, body: MeetingForm.self, accepts: [.form]) { req, _, f in
                let s = req.service.cases
                do {
                    let r = try await s.createMeeting(f.input)
                    if r.queryCodes.isEmpty { return req.redirect(to: "/meetings/\(r.id)", redirectType: .normal) }
                    let codes = r.queryCodes.map { "\($0.ref)：\($0.code)" }.joined(separator: "；")
                    return try await meetingPage(req, id: r.id, notice: "已记录。信访件查询码（请告知信访人，系统不再显示）：\(codes)", status: .created)
                } catch let e as ServiceError where e.kind == .invalid || e.kind == .conflict {
                    return MeetingViews.form(types: req.application.serviceContext.caseTypes, units: try await s.units(),
                                             kind: MeetingKind(named: f.kind) ?? .yongshang, input: f, error: e.message,
                                             status: ErrorMiddleware.status(e.kind))
                }
            },
            .page("/meetings/:id", .permission(.viewCases), "会议及各事项办理状态 / a meeting and its items", tag: "cases",
                  parameters: CasesFeature.IDQuery.self) { req, q in
                try await meetingPage(req, id: q.id.value)
            },
        ]
    }

    static func meetingPage(_ req: Request, id: Int64, notice: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let ctx = req.application.serviceContext
        let s = req.service.cases
        return MeetingViews.detail(try await s.meeting(id: id), types: ctx.caseTypes, calendar: ctx.calendar, today: s.today,
                                   notice: notice, status: status)
    }

    // MARK: inputs

    struct AttachmentQuery: Decodable, Sendable { var id: RecordID; var file: RecordID }
    struct MeetingKindQuery: Decodable, Sendable { var kind: NameText?; var agenda: Flag? }

    struct NoteBody: Decodable, Sendable {
        var kind: String
        var text: String?
        var head: Bool?
        var resolved: Bool?
        var attachment: File?

        func noteKind() throws -> CaseNoteKind {
            guard let k = CaseNoteKind(rawValue: kind), k != .extension else {
                throw ServiceError(.invalid, "未知的记录类型「\(kind)」（opinion、report、visit、revisit、followup）/ unknown note kind")
            }
            return k
        }
        var files: [Store.NewAttachment] { attachment.map { [Store.NewAttachment(name: $0.filename, contentType: "", data: Data(buffer: $0.data))] } ?? [] }
    }

    struct ExtensionBody: Decodable, Sendable {
        var due: String
        var reason: String
        var attachment: File?
        var files: [Store.NewAttachment] { attachment.map { [Store.NewAttachment(name: $0.filename, contentType: "", data: Data(buffer: $0.data))] } ?? [] }
    }

    struct DecisionBody: Decodable, Sendable {
        var approve: Bool
        var note: String?
    }

    struct MeetingItemBody: Decodable, Sendable {
        var type: String
        var title: String
        var body: String?
        var requester: String?
        var creditCode: String?
        var parcelId: String?
        var leadUnit: String
        var coUnits: [String]?
        var due: String?
        var level: String?
        enum CodingKeys: String, CodingKey {
            case type, title, body, requester, creditCode = "credit_code", parcelId = "parcel_id", leadUnit = "lead_unit", coUnits = "co_units", due, level
        }
    }

    struct MeetingBody: Decodable, Sendable {
        var kind: String
        var title: String
        var heldOn: String?
        var place: String?
        var chair: String
        var attendees: [String]?
        var notes: String?
        var items: [MeetingItemBody]
        enum CodingKeys: String, CodingKey { case kind, title, heldOn = "held_on", place, chair, attendees, notes, items }

        var input: CaseService.MeetingInput {
            .init(kind: kind, title: title, heldOn: heldOn, place: place ?? "", chair: chair, attendees: attendees ?? [], notes: notes ?? "",
                  items: items.map { .init(type: $0.type, title: $0.title, body: $0.body ?? "", requester: $0.requester ?? "",
                                           creditCode: $0.creditCode?.nilIfBlank, parcelID: $0.parcelId?.nilIfBlank, leadUnit: $0.leadUnit,
                                           coUnits: $0.coUnits ?? [], due: $0.due, level: $0.level) })
        }
    }

    /// The page's form: the meeting and its item rows as parallel lists (`item_title[]`, …).
    struct MeetingForm: Decodable, Sendable {
        var kind: String
        var title: String
        var heldOn: String?
        var place: String?
        var chair: String
        var attendees: String?
        var notes: String?
        var itemType: [String]?
        var itemTitle: [String]?
        var itemRequester: [String]?
        var itemLead: [String]?
        var itemCo: [String]?
        var itemDue: [String]?
        enum CodingKeys: String, CodingKey {
            case kind, title, heldOn = "held_on", place, chair, attendees, notes
            case itemType = "item_type", itemTitle = "item_title", itemRequester = "item_requester", itemLead = "item_lead"
            case itemCo = "item_co", itemDue = "item_due"
        }

        /// Row `i` of a column ("" when the browser sent fewer).
        func at(_ column: [String]?, _ i: Int) -> String { (column ?? []).indices.contains(i) ? column![i] : "" }

        var rowCount: Int { itemTitle?.count ?? 0 }

        var input: CaseService.MeetingInput {
            let items = (0..<rowCount).map { i in
                CaseService.MeetingInput.Item(
                    type: at(itemType, i), title: at(itemTitle, i), requester: at(itemRequester, i), leadUnit: at(itemLead, i),
                    coUnits: at(itemCo, i).split(whereSeparator: { "、;；,，".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
                    due: at(itemDue, i).nilIfBlank)
            }
            return .init(kind: kind, title: title, heldOn: heldOn, place: place ?? "", chair: chair,
                         attendees: (attendees ?? "").split(whereSeparator: { $0.isNewline || "、,，;；".contains($0) }).map(String.init),
                         notes: notes ?? "", items: items)
        }
    }
}

extension String {
    var nilIfBlank: String? { trimmingCharacters(in: .whitespaces).isEmpty ? nil : self }
}

extension CasesFeature {
    /// Runs a form's action on case `id`: back to the case page, or the page again with the refusal.
    static func acting(_ req: Request, id: Int64, _ act: () async throws -> some Any) async throws -> Response {
        do {
            _ = try await act()
            return req.redirect(to: "/cases/\(id)", redirectType: .normal)
        } catch let e as ServiceError where e.kind == .conflict || e.kind == .invalid || e.kind == .tooLarge || e.kind == .unsupportedType {
            return try await casePage(req, id: id, error: e.message, status: ErrorMiddleware.status(e.kind))
        }
    }
}

// MARK: - outputs

struct CaseNoteDTO: Content {
    var id: Int64
    var caseId: Int64
    var kind: String
    var kindName: String
    var date: String
    var unit: String
    var actor: String
    var text: String
    var due: String?
    var head: Bool
    var resolved: Bool
    var decision: String?
    var decidedBy: String?
    var decidedOn: String?
    var decisionNote: String?
    var attachments: [AttachmentDTO]

    init(_ n: Store.CaseNoteRecord, attachments: [Store.AttachmentRecord]) {
        id = n.id; caseId = n.caseId; kind = n.kind; kindName = CaseNoteKind(rawValue: n.kind)?.chinese ?? n.kind; date = n.date
        unit = n.unit; actor = n.actor; text = n.text; due = n.due; head = n.head; resolved = n.resolved; decision = n.decision
        decidedBy = n.decidedBy; decidedOn = n.decidedOn; decisionNote = n.decisionNote
        self.attachments = attachments.filter { $0.noteId == n.id }.map(AttachmentDTO.init)
    }
}

struct AttachmentDTO: Content {
    var id: Int64
    var name: String
    var size: Int64
    var sha256: String
    var eventSeq: Int?
    var noteId: Int64?
    var url: String
    init(_ a: Store.AttachmentRecord) {
        id = a.id; name = a.name; size = a.size; sha256 = a.sha256; eventSeq = a.eventSeq; noteId = a.noteId
        url = "/cases/\(a.caseId)/attachments/\(a.id)"
    }
}

struct MeetingCreatedDTO: Content {
    struct Code: Content { var ref: String; var queryCode: String }
    var id: Int64
    /// The query codes of its petitions, shown once.
    var queryCodes: [Code]
}

struct MeetingDTO: Content {
    var id: Int64
    var kind: String
    var kindName: String
    var title: String
    var heldOn: String
    var place: String
    var chair: String
    var attendees: [String]
    var notes: String
    var items: Int
    var answered: Int
    /// The items the caller may see (one meeting only).
    var cases: [CaseDTO]?

    init(_ m: Store.MeetingRecord, items: Int, answered: Int, cases: [Store.CaseRecord]?, req: Request) {
        id = m.id; kind = m.kind; kindName = MeetingKind(rawValue: m.kind)?.chinese ?? m.kind; title = m.title; heldOn = m.heldOn
        place = m.place; chair = m.chair; attendees = m.attendeeList; notes = m.notes; self.items = items; self.answered = answered
        let ctx = req.application.serviceContext
        let today = req.service.cases.today
        self.cases = cases?.map { CaseDTO($0, types: ctx.caseTypes, calendar: ctx.calendar, today: today) }
    }
}

/// The open cases on the battle map: one point per case at its parcel's centre.
struct CaseMapDTO: Content {
    struct Point: Content { var type = "Point"; var coordinates: [Double] }
    struct Properties: Content {
        var ref: String, title: String, type: String, typeName: String, state: String, stateName: String
        /// "", yellow or red today
        var flag: String
        var leadUnit: String?, parcelId: String?
        /// year-number of the renewal cluster, when the case is linked to one
        var cluster: String?
        var url: String
    }
    struct Feature: Content { var type = "Feature"; var id: Int64; var geometry: Point; var properties: Properties }
    var type = "FeatureCollection"
    var features: [Feature]
    var numberReturned: Int
}
