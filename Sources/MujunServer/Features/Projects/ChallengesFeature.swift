import Foundation
import Vapor
import MujunCore
import MujunStore

/// Challenges (揭榜挂帅, issue 10): HQ publishes (发榜); an enterprise applies from its portal, a
/// consortium naming its partners (揭榜); HQ assigns experts, each of whom sees and scores only
/// what it is assigned (评审遴选, `/reviews`); HQ selects the winner, whose project then runs the
/// milestones (立项), and pays the reward in tranches as they are done (兑现).
enum ChallengesFeature: Feature {
    static let endpoints: [Endpoint] = [
        .page("/challenges", .permission(.viewChallenges), "揭榜挂帅：榜单 / the challenges", tag: "challenges",
              parameters: NoParameters.self) { req, _ in
            try await ChallengeViews.list(req)
        },
        .page("/challenges/new", .permission(.manageChallenges), "发榜（表单）/ the new-challenge form", tag: "challenges",
              parameters: NoParameters.self) { req, _ in
            ChallengeViews.newForm(req, input: nil, error: nil)
        },
        .form("/challenges/new", .permission(.manageChallenges), "发榜 / publish a challenge", tag: "challenges",
              parameters: NoParameters.self, body: NewChallengeInput.self, accepts: [.form]) { req, _, input in
            do {
                let id = try await req.service.challenges.publish(input.challenge)
                return req.redirect(to: "/challenges/\(id)", redirectType: .normal)
            } catch let e as ServiceError where e.kind != .forbidden {
                return ChallengeViews.newForm(req, input: input, error: e.message, status: ErrorMiddleware.status(e.kind))
            }
        },
        .page("/challenges/:id", .permission(.viewChallenges), "榜单详情：揭榜申请、专家评分、立项与奖励兑现 / one challenge", tag: "challenges",
              parameters: IDQuery.self) { req, q in
            try await ChallengeViews.detail(req, id: q.id.value, error: nil)
        },
        .form("/challenges/:id/applications", .permission(.applyChallenges), "揭榜（企业，可联合体）/ apply to a challenge", tag: "challenges",
              parameters: IDQuery.self, body: ApplyInput.self, accepts: [.form]) { req, q, input in
            try await ChallengeViews.step(req, id: q.id.value, anchor: "own") {
                _ = try await req.service.challenges.apply(id: q.id.value, input.application)
            }
        },
        .form("/challenges/:id/experts", .permission(.manageChallenges), "分配评审专家 / assign experts", tag: "challenges",
              parameters: IDQuery.self, body: AssignInput.self, accepts: [.form]) { req, q, input in
            try await ChallengeViews.step(req, id: q.id.value, anchor: "applications") {
                _ = try await req.service.challenges.assign(id: q.id.value, experts: input.expertIDs, applications: input.applicationIDs)
            }
        },
        .form("/challenges/:id/award", .permission(.manageChallenges), "确定中榜单位并立项 / select the winner", tag: "challenges",
              parameters: IDQuery.self, body: AwardInput.self, accepts: [.form]) { req, q, input in
            do {
                let pid = try await req.service.challenges.award(id: q.id.value, input.award)
                return req.redirect(to: "/projects/\(pid)", redirectType: .normal)
            } catch let e as ServiceError where e.kind != .forbidden && e.kind != .notFound {
                return try await ChallengeViews.detail(req, id: q.id.value, error: e.message, status: ErrorMiddleware.status(e.kind))
            }
        },
        .form("/challenges/:id/close", .permission(.manageChallenges), "流榜 / close without a winner", tag: "challenges",
              parameters: IDQuery.self, body: CloseInput.self, accepts: [.form]) { req, q, input in
            try await ChallengeViews.step(req, id: q.id.value, anchor: "facts") {
                try await req.service.challenges.close(id: q.id.value, reason: input.reason)
            }
        },
        .form("/challenges/:id/payments", .permission(.manageChallenges), "兑现一笔奖励 / pay a tranche of the reward", tag: "challenges",
              parameters: IDQuery.self, body: PayInput.self, accepts: [.form]) { req, q, input in
            try await ChallengeViews.step(req, id: q.id.value, anchor: "tranches") {
                try await req.service.challenges.pay(id: q.id.value, tranche: input.seq.int)
            }
        },
        .page("/reviews", .permission(.scoreApplications), "评审任务（专家：分配给本人的揭榜申请）/ the expert's assignments", tag: "challenges",
              parameters: NoParameters.self) { req, _ in
            try await ChallengeViews.reviews(req)
        },
        .page("/reviews/:id", .permission(.scoreApplications), "评审一份揭榜申请（评分表）/ score one application", tag: "challenges",
              parameters: IDQuery.self) { req, q in
            try await ChallengeViews.review(req, application: q.id.value, input: nil, error: nil)
        },
        .form("/reviews/:id", .permission(.scoreApplications), "提交评分表 / submit the score sheet", tag: "challenges",
              parameters: IDQuery.self, body: ScoreInput.self, accepts: [.form]) { req, q, input in
            do {
                try await req.service.challenges.score(application: q.id.value, input.sheet, comment: input.comment ?? "")
                return req.redirect(to: "/reviews?scored=\(q.id.value)", redirectType: .normal)
            } catch let e as ServiceError where e.kind != .notFound {
                return try await ChallengeViews.review(req, application: q.id.value, input: input, error: e.message,
                                                       status: ErrorMiddleware.status(e.kind))
            }
        },
        .json(.GET, "/api/v1/challenges", .permission(.viewChallenges), "榜单 / the challenges", tag: "challenges",
              parameters: NoParameters.self, output: [ChallengeDTO].self) { req, _ in
            try await req.service.challenges.list().map(ChallengeDTO.init)
        },
        .json(.GET, "/api/v1/challenges/:id", .permission(.viewChallenges), "榜单详情（申请与评分按调用者范围）/ one challenge", tag: "challenges",
              parameters: IDQuery.self, output: ChallengeDetailDTO.self) { req, q in
            ChallengeDetailDTO(try await req.service.challenges.view(id: q.id.value))
        },
        .json(.POST, "/api/v1/challenges/:id/applications", .permission(.applyChallenges), "揭榜（企业）/ apply to a challenge", tag: "challenges",
              parameters: IDQuery.self, body: ApplyInput.self, accepts: [.json, .form], output: CreatedDTO.self, status: .created,
              errors: [403, 404, 409, 422]) { req, q, input in
            CreatedDTO(id: try await req.service.challenges.apply(id: q.id.value, input.application))
        },
        .json(.GET, "/api/v1/reviews", .permission(.scoreApplications), "分配给本人的评审 / the expert's assignments", tag: "challenges",
              parameters: NoParameters.self, output: [AssignmentDTO].self) { req, _ in
            try await req.service.challenges.assignments().map(AssignmentDTO.init)
        },
        .json(.POST, "/api/v1/reviews/:id", .permission(.scoreApplications), "提交评分表（专家，仅限分配给本人的申请）/ score an application", tag: "challenges",
              parameters: IDQuery.self, body: ScoreInput.self, accepts: [.json, .form], output: ScoredDTO.self,
              errors: [403, 404, 409, 422]) { req, q, input in
            ScoredDTO(total: try await req.service.challenges.score(application: q.id.value, input.sheet, comment: input.comment ?? ""))
        },
    ]

    // MARK: inputs

    struct IDQuery: Decodable, Sendable { var id: RecordID }

    struct NewChallengeInput: Decodable, Sendable {
        var title: String
        var problem: String
        var reward: NumberText
        var deadline: String
        var eligibility: String?
        /// a checkbox: present ("on") when a consortium may apply
        var consortium: String?
        var town: String
        var leadUnit: String
        enum CodingKeys: String, CodingKey { case title, problem, reward, deadline, eligibility, consortium, town, leadUnit = "lead_unit" }
        var challenge: ChallengeService.NewChallenge {
            .init(title: title, problem: problem, reward: Double(reward.text.trimmingCharacters(in: .whitespaces)) ?? .nan, deadline: deadline,
                  eligibility: eligibility ?? "", consortium: ["on", "true", "1", "yes"].contains((consortium ?? "").lowercased()),
                  town: town, leadUnit: leadUnit)
        }
    }

    struct ApplyInput: Decodable, Sendable {
        var plan: String
        var contact: String
        /// The consortium's other members' credit codes, one per line (or separated by ; 、 ,).
        var partners: String?
        var application: ChallengeService.Application {
            .init(plan: plan, contact: contact,
                  partners: (partners ?? "").split(whereSeparator: { $0.isNewline || ";；、,， ".contains($0) }).map(String.init))
        }
    }

    struct AssignInput: Decodable, Sendable {
        var experts: [String]?
        var applications: [String]?
        var expertIDs: [Int64] { (experts ?? []).compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) } }
        /// nil (none ticked): every application
        var applicationIDs: [Int64]? {
            let ids = (applications ?? []).compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
            return ids.isEmpty ? nil : ids
        }
    }

    struct AwardInput: Decodable, Sendable {
        var application: String
        var pledge: String
        var planned: [String]?
        var version: Bounded<VersionBounds>?
        var award: ChallengeService.Award {
            .init(application: Int64(application.trimmingCharacters(in: .whitespaces)) ?? -1, pledge: pledge, planned: planned ?? [],
                  version: version?.int)
        }
    }

    struct CloseInput: Decodable, Sendable { var reason: String }
    struct PayInput: Decodable, Sendable { var seq: Bounded<MilestoneBounds> }

    struct ScoreInput: Decodable, Sendable {
        /// criterion key → points
        var scores: [String: NumberText]
        var comment: String?
        var sheet: [String: Double] {
            scores.mapValues { Double($0.text.trimmingCharacters(in: .whitespaces)) ?? .nan }
        }
    }
}

// MARK: - answers

struct CreatedDTO: Content { var id: Int64 }
struct ScoredDTO: Content { var total: Double }

struct ChallengeDTO: Content {
    var id: Int64
    var ref: String
    var title: String
    var problem: String
    /// 万元
    var reward: Double
    var deadline: String
    var eligibility: String
    var consortium: Bool
    var town: String
    var leadUnit: String
    var publishedOn: String
    var stage: String
    var stageName: String
    var applications: Int
    var projectID: Int64?
    enum CodingKeys: String, CodingKey {
        case id, ref, title, problem, reward, deadline, eligibility, consortium, town, leadUnit = "lead_unit", publishedOn = "published_on",
             stage, stageName = "stage_name", applications, projectID = "project_id"
    }
    init(_ i: ChallengeService.Item) { self.init(i.record, stage: i.stage, applications: i.applications) }
    init(_ r: Store.ChallengeRecord, stage: ChallengeStage, applications: Int) {
        id = r.id; ref = r.ref; title = r.title; problem = r.problem; reward = r.reward; deadline = r.deadline; eligibility = r.eligibility
        consortium = r.consortium; town = r.town; leadUnit = r.leadUnit; publishedOn = r.publishedOn; self.stage = stage.rawValue
        stageName = stage.chinese; self.applications = applications; projectID = r.projectId
    }
}

struct ApplicationDTO: Content {
    var id: Int64
    var creditCode: String
    var enterprise: String
    var partners: [String]
    var plan: String
    var filedOn: String
    var state: String
    var mean: Double?
    var scored: Int?
    var assigned: Int?
    enum CodingKeys: String, CodingKey {
        case id, creditCode = "credit_code", enterprise, partners, plan, filedOn = "filed_on", state, mean, scored, assigned
    }
    init(_ a: Store.ApplicationRecord, mean: Double? = nil, scored: Int? = nil, assigned: Int? = nil) {
        id = a.id; creditCode = a.creditCode; enterprise = a.enterprise; partners = a.partnerCodes; plan = a.plan; filedOn = a.filedOn
        state = a.state; self.mean = mean; self.scored = scored; self.assigned = assigned
    }
}

struct ChallengeDetailDTO: Content {
    struct TrancheDTO: Content {
        var seq: Int, milestone: String, share: Int, amount: Double, payable: Bool, paidOn: String?
        enum CodingKeys: String, CodingKey { case seq, milestone, share, amount, payable, paidOn = "paid_on" }
    }
    var challenge: ChallengeDTO
    /// Every application with its scores (HQ, the responsible town, the lead department); else empty.
    var applications: [ApplicationDTO]
    /// The caller's enterprise's application.
    var own: ApplicationDTO?
    var pledge: String?
    var tranches: [TrancheDTO]
    init(_ v: ChallengeService.View) {
        challenge = ChallengeDTO(v.record, stage: v.stage, applications: v.entries.count)
        applications = v.entries.map { ApplicationDTO($0.application, mean: $0.mean, scored: $0.scored, assigned: $0.reviews.count) }
        own = v.own.map { ApplicationDTO($0) }
        pledge = v.record.pledge
        tranches = v.tranches.map { .init(seq: $0.seq, milestone: $0.milestone, share: $0.share, amount: $0.amount,
                                          payable: $0.paidOn == nil && v.doneMilestones.contains($0.milestone), paidOn: $0.paidOn) }
    }
}

struct AssignmentDTO: Content {
    var application: ApplicationDTO
    var challenge: String
    var challengeRef: String
    var assignedOn: String
    var total: Double?
    var scoredOn: String?
    var open: Bool
    enum CodingKeys: String, CodingKey {
        case application, challenge, challengeRef = "challenge_ref", assignedOn = "assigned_on", total, scoredOn = "scored_on", open
    }
    init(_ a: ChallengeService.Assignment) {
        application = ApplicationDTO(a.application); challenge = a.challenge.title; challengeRef = a.challenge.ref
        assignedOn = a.review.assignedOn; total = a.review.total; scoredOn = a.review.scoredOn; open = a.open
    }
}
