import Foundation
import Vapor
import MujunCore
import MujunStore

/// Projects (项目推进, issue 10): the list with its roll-up by town, one project with its
/// milestones, monthly reports, photos, history and 督办 cases; the monthly report and the
/// milestone form of the responsible unit; the import of project and milestone tables; and the
/// 滞后 check that opens and closes supervision cases on the case engine.
enum ProjectsFeature: Feature {
    static let endpoints: [Endpoint] = [
        .page("/projects", .permission(.viewProjects), "项目推进：项目清单与各镇街汇总 / the projects and their roll-up", tag: "projects",
              parameters: ListQuery.self) { req, q in
            try await ProjectViews.list(req, q, outcome: nil, status: .ok)
        },
        .page("/projects/dashboard", .permission(.viewProjects), "任务清单 · 作战室：目标与完成、排名、逐月趋势 / targets against what was done", tag: "projects",
              parameters: YearQuery.self) { req, q in
            try await DashboardViews.page(req, year: q.year?.int, outcome: nil)
        },
        .download("/projects/dashboard.xlsx", .permission(.viewProjects), "任务清单完成情况（Excel）/ targets and completion as XLSX", tag: "projects",
                  parameters: YearQuery.self, mediaType: Page.xlsxType) { req, q in
            try await DashboardViews.export(req, year: q.year?.int)
        },
        .form("/projects/targets", .permission(.manageProjects), "下达目标任务（表单）/ import the yearly targets", tag: "projects",
              parameters: NoParameters.self, body: TargetsInput.self, accepts: [.multipart]) { req, _, input in
            try await DashboardViews.importTargets(req, input)
        },
        .json(.GET, "/api/v1/projects/targets", .permission(.viewProjects), "目标与完成（按调用者范围）/ the year's targets against what was done", tag: "projects",
              parameters: YearQuery.self, output: [TargetLineDTO].self) { req, q in
            try await req.service.projects.dashboard(year: q.year?.int).lines.map(TargetLineDTO.init)
        },
        .page("/projects/new", .permission(.createProjects), "立项（表单；可从整治候选片区带入地块）/ the new-project form", tag: "projects",
              parameters: NewProjectQuery.self) { req, q in
            try await NewProjectViews.form(req, q, input: nil, error: nil)
        },
        .form("/projects/new", .permission(.createProjects), "立项（指挥部，或镇街为本镇街）/ create a project", tag: "projects",
              parameters: NoParameters.self, body: NewProjectInput.self, accepts: [.form]) { req, _, input in
            try await NewProjectViews.submit(req, input)
        },
        .page("/projects/bulletin", .permission(.manageProjects), "项目推进通报（截至今日，按镇街与牵头部门）/ today's project bulletin", tag: "projects",
              parameters: NoParameters.self) { req, _ in
            try await BulletinViews.page(req, issued: nil, bulletin: try await req.service.projects.bulletin())
        },
        .download("/projects/bulletin.xlsx", .permission(.manageProjects), "项目推进通报（Excel）/ today's project bulletin as XLSX", tag: "projects",
                  parameters: NoParameters.self, mediaType: Page.xlsxType) { req, _ in
            let b = try await req.service.projects.bulletin()
            return try BulletinViews.export(b, name: "项目推进情况通报（截至\(b.asOf)）.xlsx",
                                            note: [("截至", b.asOf), ("目标年度", String(b.year)), ("性质", "未发布（今日数据）"), ("导出时间", HTML.dateTime(Date()))])
        },
        .form("/projects/bulletins", .permission(.manageProjects), "发布项目推进通报（发布后冻结）/ issue the project bulletin", tag: "projects",
              parameters: NoParameters.self, body: IssueInput.self, accepts: [.form]) { req, _, input in
            do {
                let r = try await req.service.projects.issueBulletin(number: input.number, title: input.title ?? "")
                return req.redirect(to: "/projects/bulletins/\(r.id)", redirectType: .normal)
            } catch let e as ServiceError where e.kind != .forbidden {
                return try await BulletinViews.page(req, issued: nil, bulletin: try await req.service.projects.bulletin(), error: e.message,
                                                    status: ErrorMiddleware.status(e.kind))
            }
        },
        .page("/projects/bulletins/:id", .permission(.manageProjects), "已发布的项目推进通报（按发布时记录重算并核对）/ an issued project bulletin", tag: "projects",
              parameters: IDQuery.self) { req, q in
            let (r, b, intact) = try await req.service.projects.issuedBulletin(id: q.id.value)
            return try await BulletinViews.page(req, issued: (r, intact), bulletin: b)
        },
        .download("/projects/bulletins/:id/export.xlsx", .permission(.manageProjects), "已发布的项目推进通报（Excel）/ an issued project bulletin as XLSX",
                  tag: "projects", parameters: IDQuery.self, mediaType: Page.xlsxType) { req, q in
            let (r, b, intact) = try await req.service.projects.issuedBulletin(id: q.id.value)
            return try BulletinViews.export(b, name: "\(r.title)（\(r.number)）.xlsx",
                                            note: [("文号", r.number), ("标题", r.title), ("发布日期", r.issuedOn), ("发布人", r.issuedBy),
                                                   ("SHA-256", r.sha256), ("核对", intact ? "与发布内容一致" : "不一致")])
        },
        .json(.GET, "/api/v1/projects/bulletin", .permission(.manageProjects), "项目推进通报（截至今日）/ today's project bulletin", tag: "projects",
              parameters: NoParameters.self, output: ProjectBulletin.self) { req, _ in
            try await req.service.projects.bulletin()
        },
        .json(.GET, "/api/v1/projects/bulletins", .permission(.manageProjects), "已发布的项目推进通报 / the project bulletins issued", tag: "projects",
              parameters: NoParameters.self, output: [Store.ProjectBulletinRecord].self) { req, _ in
            try await req.service.projects.issuedBulletins()
        },
        .json(.GET, "/api/v1/projects/bulletins/:id", .permission(.manageProjects), "已发布的项目推进通报（重算并核对）/ an issued project bulletin, recomputed and checked",
              tag: "projects", parameters: IDQuery.self, output: IssuedProjectBulletinDTO.self) { req, q in
            let (r, b, intact) = try await req.service.projects.issuedBulletin(id: q.id.value)
            return IssuedProjectBulletinDTO(number: r.number, title: r.title, issuedOn: r.issuedOn, sha256: r.sha256, intact: intact, bulletin: b)
        },
        .page("/projects/agenda", .permission(.viewProjects), "周例会 / 日会商议程（由数据生成）/ the meeting agenda from the data", tag: "projects",
              parameters: AgendaQuery.self) { req, q in
            try await AgendaViews.page(req, weekly: q.kind != .daily)
        },
        .download("/projects.xlsx", .permission(.viewProjects), "项目清单与镇街汇总（Excel）/ the projects and their roll-up as XLSX", tag: "projects",
                  parameters: ListQuery.self, mediaType: Page.xlsxType) { req, q in
            try await ProjectViews.export(req, q)
        },
        .page("/projects/:id", .permission(.viewProjects), "项目详情：节点、月报、督办 / one project", tag: "projects",
              parameters: IDQuery.self) { req, q in
            try await ProjectViews.detail(req, id: q.id.value, error: nil, status: .ok)
        },
        .form("/projects/:id/reports", .permission(.reportProjects), "报送月报（表单）/ file a monthly report", tag: "projects",
              parameters: IDQuery.self, body: ReportInput.self, accepts: [.multipart, .form]) { req, q, input in
            do {
                try await req.service.projects.fileReport(id: q.id.value, input.report)
                return req.redirect(to: "/projects/\(q.id.value)#reports", redirectType: .normal)
            } catch let e as ServiceError where e.kind != .forbidden && e.kind != .notFound {
                return try await ProjectViews.detail(req, id: q.id.value, error: e.message, status: ErrorMiddleware.status(e.kind))
            }
        }.with { $0.maxBody = ProjectService.maxRequest },
        .form("/projects/:id/milestones", .permission(.reportProjects), "更新节点（表单）/ record milestones", tag: "projects",
              parameters: IDQuery.self, body: MilestoneInput.self, accepts: [.form]) { req, q, input in
            do {
                try await req.service.projects.recordMilestones(id: q.id.value, [input.change], version: input.version?.int)
                return req.redirect(to: "/projects/\(q.id.value)#milestones", redirectType: .normal)
            } catch let e as ServiceError where e.kind != .forbidden && e.kind != .notFound {
                return try await ProjectViews.detail(req, id: q.id.value, error: e.message, status: ErrorMiddleware.status(e.kind))
            }
        },
        .form("/projects/:id/completion", .permission(.reportProjects), "登记完成情况（表单）/ record a finished project's results", tag: "projects",
              parameters: IDQuery.self, body: CompletionInput.self, accepts: [.form]) { req, q, input in
            do {
                try await req.service.projects.complete(id: q.id.value, input.completion)
                return req.redirect(to: "/projects/\(q.id.value)#completion", redirectType: .normal)
            } catch let e as ServiceError where e.kind != .forbidden && e.kind != .notFound {
                return try await ProjectViews.detail(req, id: q.id.value, error: e.message, status: ErrorMiddleware.status(e.kind))
            }
        },
        .json(.POST, "/api/v1/projects/:id/completion", .permission(.reportProjects), "登记完成情况（腾出空间、新增投资、新进企业）/ record a finished project's results",
              tag: "projects", parameters: IDQuery.self, body: CompletionInput.self, accepts: [.json, .form], output: ProjectDTO.self,
              errors: [403, 409, 422]) { req, q, input in
            ProjectDTO(try await req.service.projects.complete(id: q.id.value, input.completion))
        },
        .form("/projects/supervise", .permission(.manageProjects), "运行滞后研判与自动督办（表单）/ run the 滞后 check", tag: "projects",
              parameters: NoParameters.self, body: SuperviseInput.self, accepts: [.form]) { req, _, input in
            let s = try await req.service.projects.supervise(town: input.town?.nilIfEmpty)
            return try await ProjectViews.list(req, ListQuery(), outcome: .supervised(s), status: .ok)
        },
        .form("/projects/import", .permission(.manageProjects), "导入项目与节点（表单）/ import projects and milestones", tag: "projects",
              parameters: NoParameters.self, body: ImportInput.self, accepts: [.multipart]) { req, _, input in
            try await ProjectViews.importTables(req, input)
        }.with { $0.maxBody = ProjectService.maxRequest },
        .download("/projects/photos/:id", .permission(.viewProjects), "月报照片 / a report's photo", tag: "projects",
                  parameters: IDQuery.self, mediaType: "image/jpeg", documented: false) { req, q in
            let (rec, data) = try await req.service.projects.photo(id: q.id.value)
            let res = Page.download(data, type: rec.contentType, asciiName: "photo-\(rec.id)", name: rec.name, inline: true)
            res.headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'none'")
            return res
        },
        .json(.GET, "/api/v1/projects", .permission(.viewProjects), "项目清单（按调用者范围）/ the projects the caller may see", tag: "projects",
              parameters: ListQuery.self, output: [ProjectDTO].self) { req, q in
            try await req.service.projects.list(q.query).map(ProjectDTO.init)
        },
        .json(.GET, "/api/v1/projects/:id", .permission(.viewProjects), "项目详情 / one project with milestones, reports, history and cases", tag: "projects",
              parameters: IDQuery.self, output: ProjectDetailDTO.self) { req, q in
            ProjectDetailDTO(try await req.service.projects.view(id: q.id.value))
        },
        .json(.POST, "/api/v1/projects/:id/reports", .permission(.reportProjects), "报送月报（责任镇街或牵头部门）/ file a monthly report", tag: "projects",
              parameters: IDQuery.self, body: ReportInput.self, accepts: [.json, .multipart], output: ProjectService.Outcome.self,
              status: .created, errors: [403, 409, 422]) { req, q, input in
            try await req.service.projects.fileReport(id: q.id.value, input.report)
        }.with { $0.maxBody = ProjectService.maxRequest },
        .json(.POST, "/api/v1/projects/:id/milestones", .permission(.reportProjects), "更新节点 / record a milestone", tag: "projects",
              parameters: IDQuery.self, body: MilestoneInput.self, accepts: [.json, .form], output: ProjectService.Outcome.self,
              errors: [403, 409, 422]) { req, q, input in
            try await req.service.projects.recordMilestones(id: q.id.value, [input.change], version: input.version?.int)
        },
        .json(.POST, "/api/v1/project-supervision", .permission(.manageProjects), "滞后研判与自动督办（全部或一个镇街的项目）/ judge the projects, open and close 督办 cases", tag: "projects",
              parameters: NoParameters.self, body: SuperviseInput.self, accepts: [.json, .form], output: ProjectService.Supervision.self,
              errors: [422]) { req, _, input in
            try await req.service.projects.supervise(town: input.town?.nilIfEmpty)
        },
    ]

    // MARK: inputs

    struct IDQuery: Decodable, Sendable { var id: RecordID }
    struct YearQuery: Decodable, Sendable { var year: Year? }
    struct AgendaQuery: Decodable, Sendable { var kind: AgendaKind? }
    enum AgendaKind: String, ParameterEnum { case weekly, daily }
    struct TargetsInput: Decodable, Sendable { var file: File? }
    struct IssueInput: Decodable, Sendable { var number: String; var title: String? }
    /// Which projects to judge: one town's, or (empty) all.
    struct SuperviseInput: Decodable, Sendable { var town: String? }

    struct ListQuery: Decodable, Sendable {
        var town: String?
        var type: String?
        var state: ProjectState?
        var q: Text<SearchBounds>?
        var query: Store.ProjectQuery {
            .init(town: town?.nilIfEmpty, type: type?.nilIfEmpty, state: state?.rawValue, text: q?.value.nilIfEmpty)
        }
    }

    /// A monthly report: JSON, or the page's multipart form with its photos.
    struct ReportInput: Decodable, Sendable {
        var month: String
        var text: String
        var invested: NumberText?
        var signed: NumberText?, vacated: NumberText?, demolished: NumberText?
        /// One milestone finished this month (its number, and the day), from the form (empty: none).
        var milestone: String?
        var milestoneDone: String?
        var photos: [File]?
        var version: Bounded<VersionBounds>?
        enum CodingKeys: String, CodingKey {
            case month, text, invested, signed, vacated, demolished, milestone, milestoneDone = "milestone_done", photos, version
        }

        var report: ProjectService.Report {
            func int(_ t: NumberText?) -> Int? { t.flatMap { Int($0.text.trimmingCharacters(in: .whitespaces)) } }
            var changes: [ProjectService.MilestoneChange] = []
            if let m = milestone.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
                changes.append(.init(seq: m, done: milestoneDone?.nilIfEmpty ?? ChinaDay.today()))
            }
            return .init(month: month, text: text, invested: invested.flatMap { Double($0.text.trimmingCharacters(in: .whitespaces)) },
                         signed: int(signed), vacated: int(vacated), demolished: int(demolished), milestones: changes,
                         photos: (photos ?? []).filter { $0.data.readableBytes > 0 }.map {
                             Store.NewAttachment(name: $0.filename, contentType: "", data: Data(buffer: $0.data))
                         },
                         version: version?.int)
        }
    }

    struct MilestoneInput: Decodable, Sendable {
        var seq: Bounded<MilestoneBounds>
        /// `YYYY-MM-DD`; empty: not done.
        var done: String?
        /// The share done, 0–100.
        var reported: NumberText?
        var version: Bounded<VersionBounds>?
        var change: ProjectService.MilestoneChange {
            .init(seq: seq.int, done: done, reported: reported.flatMap { Double($0.text.trimmingCharacters(in: .whitespaces)) })
        }
    }

    struct NewProjectQuery: Decodable, Sendable {
        var type: String?
        var year: Year?
        var cluster: Bounded<ClusterNumberBounds>?
    }

    struct NewProjectInput: Decodable, Sendable {
        var ref: String?
        var name: String
        var type: String
        var mode: String?
        var town: String
        var leadUnit: String
        var targetMu: NumberText?
        var households: NumberText?
        var start: String
        var parcels: String?
        var planned: [String]?
        enum CodingKeys: String, CodingKey {
            case ref, name, type, mode, town, leadUnit = "lead_unit", targetMu = "target_mu", households, start, parcels, planned
        }
        var project: ProjectService.NewProject {
            .init(ref: ref ?? "", name: name, type: type, mode: mode, town: town, leadUnit: leadUnit,
                  targetMu: targetMu.flatMap { $0.text.trimmingCharacters(in: .whitespaces).nilIfEmpty }.map { Double($0) ?? .nan },
                  parcelIDs: (parcels ?? "").split(whereSeparator: { $0.isNewline || ";；、,， ".contains($0) }).map(String.init),
                  households: households.flatMap { Int($0.text.trimmingCharacters(in: .whitespaces)) }, start: start, planned: planned ?? [])
        }
    }

    struct CompletionInput: Decodable, Sendable {
        var freedMu: NumberText
        var newInvestment: NumberText?
        /// Credit codes, one per line (or separated by ; 、 ,).
        var occupants: String?
        var version: Bounded<VersionBounds>?
        enum CodingKeys: String, CodingKey { case freedMu = "freed_mu", newInvestment = "new_investment", occupants, version }
        var completion: ProjectService.Completion {
            .init(freedMu: Double(freedMu.text.trimmingCharacters(in: .whitespaces)) ?? .nan,
                  newInvestment: newInvestment.flatMap { $0.text.trimmingCharacters(in: .whitespaces).nilIfEmpty }.map { Double($0) ?? .nan },
                  occupants: (occupants ?? "").split(whereSeparator: { $0.isNewline || ";；、,，".contains($0) }).map(String.init),
                  version: version?.int)
        }
    }

    struct ImportInput: Decodable, Sendable {
        var projects: File?
        var milestones: File?
    }
}

enum MilestoneBounds: IntegerBounds { static let range: ClosedRange<Int64> = 1...100 }
enum VersionBounds: IntegerBounds { static let range: ClosedRange<Int64> = 1...Int64(Int32.max) }
extension ProjectState: ParameterEnum {}

// MARK: - answers

struct ProjectDTO: Content {
    var id: Int64
    var ref: String
    var name: String
    var type: String
    var mode: String?
    var town: String
    var block: String?
    var leadUnit: String
    var targetMu: Double?
    var households: Int?
    var signed: Int, vacated: Int, demolished: Int
    var start: String
    var state: String
    var stateName: String
    var progress: Double
    var judgedOn: String
    var version: Int
    /// On completion: 腾出空间 (mu), 新增投资 (万元), the new occupants' credit codes.
    var freedMu: Double?
    var newInvestment: Double?
    var newOccupants: [String]?
    enum CodingKeys: String, CodingKey {
        case id, ref, name, type, mode, town, block, leadUnit = "lead_unit", targetMu = "target_mu", households, signed, vacated, demolished,
             start, state, stateName = "state_name", progress, judgedOn = "judged_on", version, freedMu = "freed_mu",
             newInvestment = "new_investment", newOccupants = "new_occupants"
    }

    init(_ r: Store.ProjectRecord) {
        id = r.id; ref = r.ref; name = r.name; type = r.type; mode = r.mode; town = r.town; block = r.block; leadUnit = r.leadUnit
        targetMu = r.targetMu; households = r.households; signed = r.signed; vacated = r.vacated; demolished = r.demolished
        start = r.startOn; state = r.state; stateName = r.projectState?.chinese ?? r.state; progress = r.progress; judgedOn = r.judgedOn
        version = r.version; freedMu = r.freedMu; newInvestment = r.newInvestment
        newOccupants = r.newOccupants.map { $0.split(separator: ";").map(String.init) }
    }
}

struct ProjectDetailDTO: Content {
    struct MilestoneDTO: Content {
        var seq: Int, name: String, weight: Int, planned: String, done: String?, measure: String?, reported: Double?
    }
    struct ReportDTO: Content {
        var id: Int64, month: String, text: String, figures: String, unit: String, filedOn: String, filedBy: String, photos: [String]
        enum CodingKeys: String, CodingKey { case id, month, text, figures, unit, filedOn = "filed_on", filedBy = "filed_by", photos }
    }
    struct EventDTO: Content { var kind: String, date: String, actor: String, detail: String }
    struct CaseDTO: Content { var id: Int64, ref: String, state: String, leadUnit: String?
        enum CodingKeys: String, CodingKey { case id, ref, state, leadUnit = "lead_unit" } }
    var project: ProjectDTO
    /// The rules' verdict today, and why it is late.
    var state: String
    var progress: Double
    var late: [String]
    var parcels: [String]
    var milestones: [MilestoneDTO]
    var reports: [ReportDTO]
    var events: [EventDTO]
    var cases: [CaseDTO]

    init(_ v: ProjectService.View) {
        project = ProjectDTO(v.record)
        state = v.status.state.rawValue; progress = v.status.progress; late = v.status.late.map(\.zh); parcels = v.parcels
        milestones = v.milestones.map { .init(seq: $0.seq, name: $0.name, weight: $0.weight, planned: $0.plannedOn, done: $0.doneOn,
                                              measure: $0.measure, reported: $0.reported) }
        reports = v.reports.map { r in
            .init(id: r.id, month: r.month, text: r.text, figures: r.figures, unit: r.unit, filedOn: r.filedOn, filedBy: r.filedBy,
                  photos: v.photos.filter { $0.reportId == r.id }.map { "/projects/photos/\($0.id)" })
        }
        events = v.events.map { .init(kind: $0.kind, date: $0.date, actor: $0.actor, detail: $0.detail) }
        cases = v.cases.map { .init(id: $0.id, ref: $0.ref, state: $0.state, leadUnit: $0.leadUnit) }
    }
}

struct TargetLineDTO: Content {
    var unit: String
    var indicator: String
    var indicatorName: String
    var target: Double
    var done: Double
    var rate: Double?
    enum CodingKeys: String, CodingKey { case unit, indicator, indicatorName = "indicator_name", target, done, rate }
    init(_ l: TargetProgress.Line) {
        unit = l.unit; indicator = l.indicator.rawValue; indicatorName = l.indicator.chinese; target = l.target; done = l.done; rate = l.rate
    }
}

extension ProjectService.Outcome: Content {}
extension ProjectBulletin: Content {}
extension Store.ProjectBulletinRecord: Content {}

struct IssuedProjectBulletinDTO: Content {
    var number: String, title: String, issuedOn: String, sha256: String
    /// Recomputed from the history recorded by its issue: the bytes it was issued with.
    var intact: Bool
    var bulletin: ProjectBulletin
    enum CodingKeys: String, CodingKey { case number, title, issuedOn = "issued_on", sha256, intact, bulletin }
}
extension ProjectService.Supervision: Content {}
