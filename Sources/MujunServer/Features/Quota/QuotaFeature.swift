import Foundation
import Vapor
import MujunCore
import MujunStore

/// The cross-township quota ledger (全域土地综合整治, issue 11) over JSON: consolidation projects,
/// their balance sheet at any date, the project-wide checks, the journal with filters, postings
/// (入账、使用、冲正) refused with the rule and the figures, and transfers (调剂) requested by a town
/// and decided by HQ. Amounts cross as exact decimal text (`"12.5000"`, mu).
enum QuotaFeature: Feature {
    static let endpoints: [Endpoint] = [
        .page("/quota", .permission(.viewQuota), "全域土地综合整治：项目 / the consolidation projects", tag: "quota",
              parameters: NoParameters.self) { req, _ in
            try await QuotaViews.list(req)
        },
        .form("/quota", .permission(.manageQuota), "新建全域整治项目 / define a consolidation project", tag: "quota",
              parameters: NoParameters.self, body: NewProjectInput.self, accepts: [.form]) { req, _, input in
            let id = try await req.service.quota.createProject(name: input.name, towns: input.townList, start: input.start,
                                                               margin: input.margin?.nilIfEmpty ?? "0.05")
            return req.redirect(to: "/quota/\(id)", redirectType: .normal)
        },
        .page("/quota/:id", .permission(.viewQuota), "项目台账：余额表与图、全项目校验、调剂申请、记账、流水 / one project's ledger", tag: "quota",
              parameters: PageQuery.self) { req, q in
            try await QuotaViews.detail(req, id: q.id.value, query: q, error: nil)
        },
        .download("/quota/:id/balances.xlsx", .permission(.viewQuota), "余额表（Excel）/ the balance sheet as XLSX", tag: "quota",
                  parameters: BalanceQuery.self, mediaType: Page.xlsxType) { req, q in
            try await QuotaViews.balancesXLSX(req, id: q.id.value, day: try q.day())
        },
        .download("/quota/:id/journal.xlsx", .permission(.viewQuota), "台账流水（Excel，按筛选条件）/ the journal as XLSX", tag: "quota",
                  parameters: JournalQuery.self, mediaType: Page.xlsxType) { req, q in
            try await QuotaViews.journalXLSX(req, id: q.id.value, filter: q.filter)
        },
        .form("/quota/:id/postings", .permission(.postQuota), "记账（表单）/ post from the page", tag: "quota",
              parameters: IDQuery.self, body: PostingInput.self, accepts: [.form]) { req, q, input in
            try await QuotaViews.step(req, id: q.id.value, anchor: "journal") {
                _ = try await req.service.quota.post(id: q.id.value, input.posting)
            }
        },
        .form("/quota/:id/transfers", .permission(.postQuota), "申请调剂（表单）/ request a transfer from the page", tag: "quota",
              parameters: IDQuery.self, body: TransferInput.self, accepts: [.form]) { req, q, input in
            try await QuotaViews.step(req, id: q.id.value, anchor: "transfers") {
                _ = try await req.service.quota.requestTransfer(id: q.id.value, input.request)
            }
        },
        .form("/quota/transfers/:id/decision", .permission(.manageQuota), "批准或不予批准调剂（表单）/ decide a transfer from the page", tag: "quota",
              parameters: IDQuery.self, body: DecisionInput.self, accepts: [.form]) { req, q, input in
            let project = try await req.service.quota.transferProject(id: q.id.value)
            return try await QuotaViews.step(req, id: project, anchor: "transfers") {
                _ = try await req.service.quota.decide(transfer: q.id.value, approve: input.approves, note: input.note ?? "")
            }
        },
        .form("/quota/:id/subprojects", .permission(.manageQuota), "关联子项目（表单）/ link a sub-project from the page", tag: "quota",
              parameters: IDQuery.self, body: SubProjectInput.self, accepts: [.form]) { req, q, input in
            try await QuotaViews.step(req, id: q.id.value, anchor: "subprojects") {
                _ = try await req.service.quota.addSubProject(id: q.id.value, input.subProject)
            }
        },
        .form("/quota/subprojects/:id/start", .permission(.postQuota), "子项目开始实施（表单）/ start a sub-project", tag: "quota",
              parameters: IDQuery.self, body: EmptyInput.self, accepts: [.form]) { req, q, _ in
            let project = try await req.service.quota.subProjectProject(id: q.id.value)
            return try await QuotaViews.step(req, id: project, anchor: "subprojects") { try await req.service.quota.startSubProject(q.id.value) }
        },
        .form("/quota/subprojects/:id/accept", .permission(.postQuota), "子项目验收入账（表单）/ accept a sub-project", tag: "quota",
              parameters: IDQuery.self, body: EmptyInput.self, accepts: [.form]) { req, q, _ in
            let project = try await req.service.quota.subProjectProject(id: q.id.value)
            return try await QuotaViews.step(req, id: project, anchor: "subprojects") { _ = try await req.service.quota.acceptSubProject(q.id.value) }
        },
        .json(.GET, "/api/v1/quota/projects/:id/subprojects", .permission(.viewQuota), "子项目及其计划指标 / the sub-projects", tag: "quota",
              parameters: IDQuery.self, output: [QuotaSubProjectDTO].self) { req, q in
            try await req.service.quota.subProjects(id: q.id.value).map(QuotaSubProjectDTO.init)
        },
        .json(.POST, "/api/v1/quota/projects/:id/subprojects", .permission(.manageQuota), "关联子项目（项目推进中的全域整治子项目）/ link a sub-project", tag: "quota",
              parameters: IDQuery.self, body: SubProjectInput.self, accepts: [.json, .form], output: CreatedDTO.self, status: .created,
              errors: [403, 404, 409, 422]) { req, q, input in
            CreatedDTO(id: try await req.service.quota.addSubProject(id: q.id.value, input.subProject))
        },
        .json(.POST, "/api/v1/quota/subprojects/:id/start", .permission(.postQuota), "子项目开始实施 / start a sub-project", tag: "quota",
              parameters: IDQuery.self, body: EmptyInput.self, accepts: [.json, .form], output: OKDTO.self, errors: [403, 404, 409]) { req, q, _ in
            try await req.service.quota.startSubProject(q.id.value)
            return OKDTO(ok: true)
        },
        .json(.POST, "/api/v1/quota/subprojects/:id/accept", .permission(.postQuota), "子项目验收：计划指标记入其镇街（同一步）/ accept a sub-project, crediting its quotas", tag: "quota",
              parameters: IDQuery.self, body: EmptyInput.self, accepts: [.json, .form], output: [QuotaEntryDTO].self, errors: [403, 404, 409, 422]) { req, q, _ in
            try await req.service.quota.acceptSubProject(q.id.value).map(QuotaEntryDTO.init)
        },
        .json(.GET, "/api/v1/quota/projects", .permission(.viewQuota), "全域整治项目（按调用者范围）/ the consolidation projects", tag: "quota",
              parameters: NoParameters.self, output: [QuotaProjectDTO].self) { req, _ in
            try await req.service.quota.projects().map(QuotaProjectDTO.init)
        },
        .json(.POST, "/api/v1/quota/projects", .permission(.manageQuota), "新建全域整治项目（指挥部）/ define a consolidation project", tag: "quota",
              parameters: NoParameters.self, body: NewProjectInput.self, accepts: [.json, .form], output: CreatedDTO.self, status: .created,
              errors: [403, 409, 422]) { req, _, input in
            CreatedDTO(id: try await req.service.quota.createProject(name: input.name, towns: input.townList, start: input.start,
                                                                      margin: input.margin?.nilIfEmpty ?? "0.05"))
        },
        .json(.GET, "/api/v1/quota/projects/:id", .permission(.viewQuota), "项目台账概况：各镇各类指标余额与全项目校验 / a project's balance sheet and checks", tag: "quota",
              parameters: BalanceQuery.self, output: QuotaSheetDTO.self) { req, q in
            let s = req.service.quota
            let day = try q.day()
            return QuotaSheetDTO(project: QuotaProjectDTO(try await s.project(id: q.id.value)), asOf: day?.description,
                                 balances: try await s.balances(id: q.id.value, asOf: day).map(QuotaLineDTO.init),
                                 checks: QuotaChecksDTO(try await s.checks(id: q.id.value)))
        },
        .json(.GET, "/api/v1/quota/projects/:id/journal", .permission(.viewQuota), "台账流水（可按镇街、指标类型、动作、日期筛选）/ the journal, filtered", tag: "quota",
              parameters: JournalQuery.self, output: [QuotaEntryDTO].self) { req, q in
            try await req.service.quota.journal(id: q.id.value, q.filter).map(QuotaEntryDTO.init)
        },
        .json(.POST, "/api/v1/quota/projects/:id/postings", .permission(.postQuota), "记账：入账、使用或冲正（镇街仅限本镇）/ post a credit, use or reversal", tag: "quota",
              parameters: IDQuery.self, body: PostingInput.self, accepts: [.json, .form], output: QuotaEntryDTO.self, status: .created,
              errors: [403, 404, 409, 422]) { req, q, input in
            QuotaEntryDTO(try await req.service.quota.post(id: q.id.value, input.posting))
        },
        .json(.GET, "/api/v1/quota/projects/:id/transfers", .permission(.viewQuota), "调剂申请 / the transfer requests", tag: "quota",
              parameters: IDQuery.self, output: [QuotaTransferDTO].self) { req, q in
            try await req.service.quota.transfers(id: q.id.value).map(QuotaTransferDTO.init)
        },
        .json(.POST, "/api/v1/quota/projects/:id/transfers", .permission(.postQuota), "申请跨镇调剂（从本镇余额调出）/ request a transfer", tag: "quota",
              parameters: IDQuery.self, body: TransferInput.self, accepts: [.json, .form], output: CreatedDTO.self, status: .created,
              errors: [403, 404, 422]) { req, q, input in
            CreatedDTO(id: try await req.service.quota.requestTransfer(id: q.id.value, input.request))
        },
        .json(.POST, "/api/v1/quota/transfers/:id/decision", .permission(.manageQuota), "批准（记账）或不予批准调剂申请（指挥部）/ decide a transfer", tag: "quota",
              parameters: IDQuery.self, body: DecisionInput.self, accepts: [.json, .form], output: QuotaTransferDTO.self,
              errors: [403, 404, 409, 422]) { req, q, input in
            QuotaTransferDTO(try await req.service.quota.decide(transfer: q.id.value, approve: input.approves, note: input.note ?? ""))
        },
    ]

    // MARK: inputs

    struct IDQuery: Decodable, Sendable { var id: RecordID }

    struct BalanceQuery: Decodable, Sendable {
        var id: RecordID
        /// YYYY-MM-DD: the balances at the end of that day (default: now)
        var asOf: String?
        enum CodingKeys: String, CodingKey { case id, asOf = "as_of" }
        func day() throws -> CalendarDate? {
            guard let s = asOf?.nilIfEmpty else { return nil }
            guard let d = CalendarDate(s) else { throw ServiceError(.invalid, "as_of「\(s)」不是 YYYY-MM-DD 日期 / as_of is not a date") }
            return d
        }
    }

    /// A project's page: the balances' date and the journal's filters.
    struct PageQuery: Decodable, Sendable {
        var id: RecordID
        var asOf: String?
        var town: String?
        var quota: String?
        var action: String?
        var from: String?
        var to: String?
        enum CodingKeys: String, CodingKey { case id, asOf = "as_of", town, quota, action, from, to }
        init(id: RecordID) { self.id = id }
        func day() throws -> CalendarDate? { try BalanceQuery(id: id, asOf: asOf).day() }
        var filter: QuotaService.JournalFilter { .init(town: town, quota: quota, action: action, from: from, to: to) }
        /// The filters as a query string for the export link ("" when none).
        var filterQuery: String {
            let pairs = [("town", town), ("quota", quota), ("action", action), ("from", from), ("to", to)]
                .compactMap { k, v in v?.nilIfEmpty.map { "\(k)=\($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? "")" } }
            return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
        }
    }

    struct JournalQuery: Decodable, Sendable {
        var id: RecordID
        var town: String?
        var quota: String?
        var action: String?
        var from: String?
        var to: String?
        var filter: QuotaService.JournalFilter { .init(town: town, quota: quota, action: action, from: from, to: to) }
    }

    struct NewProjectInput: Decodable, Sendable {
        var name: String
        /// the towns, one per line or separated by ; 、 ,
        var towns: String
        var start: String
        var margin: String?
        var townList: [String] { towns.split(whereSeparator: { $0.isNewline || ";；、,， ".contains($0) }).map(String.init) }
    }

    struct PostingInput: Decodable, Sendable {
        var action: String
        var town: String?
        var quota: String?
        var amount: String?
        var grade: String?
        var reverses: String?
        var note: String?
        var date: String?
        var posting: QuotaService.Posting {
            .init(action: action, town: town ?? "", quota: quota ?? "", amount: amount ?? "", grade: grade ?? "", reverses: reverses ?? "",
                  note: note ?? "", date: date)
        }
    }

    struct TransferInput: Decodable, Sendable {
        var from: String
        var to: String
        var quota: String
        var amount: String
        var reason: String
        var request: QuotaService.TransferRequest { .init(from: from, to: to, quota: quota, amount: amount, reason: reason) }
    }

    struct EmptyInput: Decodable, Sendable {}

    struct SubProjectInput: Decodable, Sendable {
        /// the project (项目推进) to link: a 全域整治子项目 in one of the towns
        var project: String
        var newFarmland: String?
        var reclaimed: String?
        var basic: String?
        var grade: String?
        enum CodingKeys: String, CodingKey { case project, newFarmland = "new_farmland", reclaimed, basic, grade }
        var subProject: QuotaService.SubProjectInput {
            .init(projectID: Int64(project.trimmingCharacters(in: .whitespaces)) ?? -1, newFarmland: newFarmland ?? "", reclaimed: reclaimed ?? "",
                  basic: basic ?? "", grade: grade ?? "")
        }
    }

    struct DecisionInput: Decodable, Sendable {
        /// approve | reject
        var decision: String
        var note: String?
        var approves: Bool { decision == "approve" || decision == "批准" }
    }
}

// MARK: - answers

struct QuotaProjectDTO: Content {
    var id: Int64
    var name: String
    var towns: [String]
    var start: String
    var margin: String
    var latestOn: String?
    enum CodingKeys: String, CodingKey { case id, name, towns, start, margin, latestOn = "latest_on" }
    init(_ r: Store.QuotaProjectRecord) {
        id = r.id; name = r.name; towns = r.townList; start = r.startOn; margin = QuotaAmount.format(r.marginUnits); latestOn = r.latestOn
    }
}

struct QuotaLineDTO: Content {
    var town: String
    var quota: String
    var quotaName: String
    var credited: String
    var used: String
    var transferredIn: String
    var transferredOut: String
    var balance: String
    enum CodingKeys: String, CodingKey {
        case town, quota, quotaName = "quota_name", credited, used, transferredIn = "transferred_in", transferredOut = "transferred_out", balance
    }
    init(_ l: QuotaService.Line) {
        town = l.town; quota = l.quota.key; quotaName = l.quota.chinese
        credited = QuotaAmount.format(l.balance.credited); used = QuotaAmount.format(l.balance.used)
        transferredIn = QuotaAmount.format(l.balance.transferredIn); transferredOut = QuotaAmount.format(l.balance.transferredOut)
        balance = QuotaAmount.format(l.balance.balance)
    }
}

struct QuotaChecksDTO: Content {
    /// 永久基本农田 added back, moved out, and what moved out requires added back ((1 + margin) × out)
    var basicAdded: String
    var basicOut: String
    var basicRequired: String
    /// area-weighted grades of new farmland credited and used (4 decimals; compared exactly by the ledger)
    var creditedGrade: String?
    var usedGrade: String?
    enum CodingKeys: String, CodingKey {
        case basicAdded = "basic_added", basicOut = "basic_out", basicRequired = "basic_required", creditedGrade = "credited_grade", usedGrade = "used_grade"
    }
    init(_ c: QuotaService.Checks) {
        basicAdded = QuotaAmount.format(c.basicAdded); basicOut = QuotaAmount.format(c.basicOut); basicRequired = QuotaAmount.format(c.basicRequired)
        creditedGrade = c.creditedGrade.map { String(format: "%.4f", $0) }; usedGrade = c.usedGrade.map { String(format: "%.4f", $0) }
    }
}

struct QuotaSheetDTO: Content {
    var project: QuotaProjectDTO
    var asOf: String?
    var balances: [QuotaLineDTO]
    var checks: QuotaChecksDTO
    enum CodingKeys: String, CodingKey { case project, asOf = "as_of", balances, checks }
}

struct QuotaEntryDTO: Content {
    var seq: Int64
    var date: String
    var action: String
    var town: String
    var toTown: String?
    var quota: String
    var amount: String
    /// the effect: its target's for a reversal, with sign -1
    var sign: Int
    var grade: Int?
    var reverses: Int64?
    var reversedBy: Int64?
    var note: String
    /// the transfer request it was approved from, the sub-project whose acceptance credited it
    var transferID: Int64?
    var subprojectID: Int64?
    var actor: String
    enum CodingKeys: String, CodingKey {
        case seq, date, action, town, toTown = "to_town", quota, amount, sign, grade, reverses, reversedBy = "reversed_by", note,
             transferID = "transfer_id", subprojectID = "subproject_id", actor
    }
    init(_ r: Store.QuotaEntryRecord) {
        seq = r.seq; date = r.date; action = r.action; town = r.town; toTown = r.toTown; quota = r.quota; amount = QuotaAmount.format(r.units)
        sign = r.sign; grade = r.grade; reverses = r.reverses; reversedBy = r.reversedBy; note = r.note; transferID = r.transferId
        subprojectID = r.subprojectId; actor = r.actor
    }
}

struct OKDTO: Content { var ok: Bool }

struct QuotaSubProjectDTO: Content {
    var id: Int64
    var projectID: Int64
    var ref: String?
    var name: String?
    var kind: String
    var town: String
    var plannedNewFarmland: String
    var plannedReclaimed: String
    var plannedBasic: String
    var grade: Int?
    var status: String
    var statusName: String
    var acceptedOn: String?
    enum CodingKeys: String, CodingKey {
        case id, projectID = "project_id", ref, name, kind, town, plannedNewFarmland = "planned_new_farmland", plannedReclaimed = "planned_reclaimed",
             plannedBasic = "planned_basic", grade, status, statusName = "status_name", acceptedOn = "accepted_on"
    }
    init(_ s: QuotaService.SubProjectRecord) {
        id = s.id; projectID = s.projectId; ref = s.ref; name = s.name; kind = s.kind; town = s.town
        plannedNewFarmland = QuotaAmount.format(s.plannedNewFarmland); plannedReclaimed = QuotaAmount.format(s.plannedReclaimed)
        plannedBasic = QuotaAmount.format(s.plannedBasic); grade = s.grade; status = s.status; statusName = s.statusName; acceptedOn = s.acceptedOn
    }
}

struct QuotaTransferDTO: Content {
    var id: Int64
    var fromTown: String
    var toTown: String
    var quota: String
    var amount: String
    var reason: String
    var state: String
    var requestedBy: String
    var requestedOn: String
    var decidedBy: String?
    var decidedOn: String?
    var decisionNote: String?
    var entrySeq: Int64?
    enum CodingKeys: String, CodingKey {
        case id, fromTown = "from_town", toTown = "to_town", quota, amount, reason, state, requestedBy = "requested_by", requestedOn = "requested_on",
             decidedBy = "decided_by", decidedOn = "decided_on", decisionNote = "decision_note", entrySeq = "entry_seq"
    }
    init(_ t: QuotaService.TransferRecord) {
        id = t.id; fromTown = t.fromTown; toTown = t.toTown; quota = t.quota; amount = QuotaAmount.format(t.units); reason = t.reason
        state = t.state; requestedBy = t.requestedBy; requestedOn = t.requestedOn; decidedBy = t.decidedBy; decidedOn = t.decidedOn
        decisionNote = t.decisionNote; entrySeq = t.entrySeq
    }
}
