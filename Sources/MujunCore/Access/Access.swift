import Foundation

/// A user's role. What each may see and do is `AccessPolicy` (docs/SECURITY.md).
public enum Role: String, Codable, Sendable, CaseIterable, Hashable {
    /// 管理员: users, rules, configuration
    case admin
    /// 指挥部: import, evaluate, publish, assign and supervise, bulletins
    case headquarters
    /// 部门: cases of its unit, the data it supplies
    case department
    /// 镇街: its own jurisdiction only
    case town
    /// 企业: its own evaluation, history, parcels and cases
    case enterprise
    /// 银行: the credit list (consenting A/B enterprises)
    case bank
    /// 代表/群众: the cases it filed
    case requester
    /// 专家: scores the challenge applications (揭榜挂帅) assigned to it, and sees nothing else
    case expert

    public var chinese: String {
        switch self {
        case .admin: "管理员"
        case .headquarters: "指挥部"
        case .department: "部门"
        case .town: "镇街"
        case .enterprise: "企业"
        case .bank: "银行"
        case .requester: "代表/群众"
        case .expert: "专家"
        }
    }

    public init?(text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let r = Role(rawValue: t) { self = r; return }
        guard let r = Role.allCases.first(where: { $0.chinese == t }) else { return nil }
        self = r
    }
}

/// Who is asking: enough to decide every permission without a database.
public struct Principal: Sendable, Hashable, Codable {
    public var userID: Int64
    public var login: String
    public var displayName: String
    public var role: Role
    /// 单位 (department name, bank name…)
    public var unit: String
    /// the jurisdiction of a town user
    public var town: String?
    /// the enterprise of an enterprise user
    public var creditCode: String?

    public init(userID: Int64, login: String, displayName: String, role: Role, unit: String = "",
                town: String? = nil, creditCode: String? = nil) {
        self.userID = userID; self.login = login; self.displayName = displayName; self.role = role
        self.unit = unit; self.town = town; self.creditCode = creditCode
    }
}

/// What a principal may read of enterprise-level data.
public enum DataScope: Sendable, Hashable {
    /// everything
    case all
    /// one jurisdiction (镇街)
    case town(String)
    /// one enterprise
    case enterprise(String)
    /// nothing
    case none

    public var towns: [String]? {
        switch self {
        case .town(let t): [t]
        case .none: []
        default: nil
        }
    }
    public var creditCodes: [String]? {
        switch self {
        case .enterprise(let c): [c]
        case .none: []
        default: nil
        }
    }

    /// Whether a row of `town` / `creditCode` is inside the scope.
    public func contains(town: String, creditCode: String) -> Bool {
        switch self {
        case .all: true
        case .town(let t): t == town
        case .enterprise(let c): c == creditCode
        case .none: false
        }
    }
}

/// Which cases (督办事项) a principal may read.
public enum CaseScope: Sendable, Hashable {
    /// the headquarters: every case
    case all
    /// a department or town: cases its unit leads or assists, and (a town) cases located in its jurisdiction
    case units(unit: String, town: String?)
    /// a deputy, petitioner or enterprise: the cases it raised (its account, or its enterprise's credit code)
    case requester(userID: Int64, creditCode: String?)
    case none
}

/// Things a user can do. Each route names the one it needs.
public enum Permission: String, Sendable, CaseIterable, Hashable {
    /// read rankings, counts and exports (filtered by scope)
    case viewResults
    /// read one enterprise's result (filtered by scope)
    case viewEnterprise
    case viewRules
    case importData
    case runEvaluation
    /// set the publicity period, finalise results
    case publishResults
    /// file an appeal for one's own enterprise
    case fileAppeal
    /// decide appeals
    case decideAppeal
    /// read appeals (own enterprise, own town, or all)
    case viewAppeals
    /// the bank's credit list
    case viewCreditList
    /// set the enterprise's consent to share its class with banks
    case setConsent
    case manageUsers
    case viewAudit
    /// read /metrics (Prometheus); a scraper may read it from MUJUN_METRICS_ALLOW's addresses instead
    case viewMetrics
    case manageSettings
    /// see parcels, clusters and the battle map (filtered by scope)
    case viewLand
    /// import parcels and land use, run the land assessment
    case manageLand
    /// record a field survey of a parcel of one's own jurisdiction
    case surveyParcel
    /// confirm or return a survey
    case reviewSurvey
    /// read cases (督办事项) within the case scope
    case viewCases
    /// register, assign, verify, close cases; approve extensions; issue bulletins (督办)
    case superviseCases
    /// accept, return, handle and reply to the cases one's unit leads (承办)
    case handleCases
    /// rate the reply to one's own suggestion or request (评价)
    case evaluateCases
    /// a unit's inbox of cases (待办): units, and HQ looking at a unit's
    case viewInbox
    /// read projects (项目) within the project scope
    case viewProjects
    /// import projects, set targets, run the 滞后 check (督办)
    case manageProjects
    /// file a project's monthly report and record its milestones (the responsible town or lead department)
    case reportProjects
    /// create a project on a page (立项): HQ for any town, a town for its own
    case createProjects
    /// read the cross-township quota ledger (全域土地综合整治): HQ, the pilot towns (their projects),
    /// the natural-resources department (read only)
    case viewQuota
    /// post to the ledger (验收入账、供地使用、冲正) and request transfers: HQ, a pilot town for its own town
    case postQuota
    /// define consolidation projects and their sub-projects, approve transfers (指挥部)
    case manageQuota
    /// read the published challenges (揭榜挂帅) and, within the scope, their applications
    case viewChallenges
    /// publish challenges, assign experts, select the winner, pay the reward (指挥部)
    case manageChallenges
    /// apply to a challenge from the enterprise's portal (揭榜)
    case applyChallenges
    /// score the applications assigned to one (专家)
    case scoreApplications
}

/// Which projects (项目) a principal may read.
public enum ProjectScope: Sendable, Hashable {
    /// the headquarters: every project
    case all
    /// a town: the projects it is responsible for
    case town(String)
    /// a department: the projects it leads
    case unit(String)
    /// an enterprise: the projects on its parcels
    case enterprise(String)
    case none
}

/// The role × permission matrix and the data scope of each role. One place, tested as a table.
public enum AccessPolicy {
    public static func allows(_ role: Role, _ p: Permission) -> Bool {
        switch p {
        case .viewResults: [.admin, .headquarters, .town].contains(role)
        case .viewEnterprise: [.admin, .headquarters, .town, .enterprise].contains(role)
        case .viewRules: true
        case .importData: [.admin, .headquarters, .department].contains(role)
        case .runEvaluation, .publishResults: [.admin, .headquarters].contains(role)
        case .fileAppeal, .setConsent: role == .enterprise
        case .decideAppeal: [.admin, .headquarters].contains(role)
        case .viewAppeals: [.admin, .headquarters, .town, .enterprise].contains(role)
        case .viewCreditList: [.admin, .headquarters, .bank].contains(role)
        case .manageUsers, .viewAudit, .viewMetrics, .manageSettings: role == .admin
        case .viewLand: [.admin, .headquarters, .town, .enterprise].contains(role)
        case .manageLand, .reviewSurvey: [.admin, .headquarters].contains(role)
        case .surveyParcel: role == .town
        case .viewCases: role != .bank && role != .expert
        case .superviseCases: [.admin, .headquarters].contains(role)
        case .handleCases: [.department, .town].contains(role)
        case .evaluateCases: [.requester, .enterprise].contains(role)
        case .viewInbox: [.admin, .headquarters, .department, .town].contains(role)
        case .viewProjects: [.admin, .headquarters, .department, .town, .enterprise].contains(role)
        case .manageProjects: [.admin, .headquarters].contains(role)
        case .reportProjects: [.headquarters, .department, .town].contains(role)
        case .createProjects: [.admin, .headquarters, .town].contains(role)
        case .viewQuota: [.admin, .headquarters, .department, .town].contains(role)
        case .postQuota: [.headquarters, .town].contains(role)
        case .manageQuota: [.admin, .headquarters].contains(role)
        case .viewChallenges: [.admin, .headquarters, .department, .town, .enterprise].contains(role)
        case .manageChallenges: [.admin, .headquarters].contains(role)
        case .applyChallenges: role == .enterprise
        case .scoreApplications: role == .expert
        }
    }

    /// The cases a principal may read (CASES.md, issue 9's permissions).
    public static func caseScope(_ p: Principal) -> CaseScope {
        switch p.role {
        case .admin, .headquarters: .all
        case .department: p.unit.isEmpty ? .none : .units(unit: p.unit, town: nil)
        // a town handles cases under its town's name (古山镇), whatever its office is called
        case .town: p.town.map { .units(unit: $0, town: $0) } ?? .none
        case .enterprise, .requester: .requester(userID: p.userID, creditCode: p.role == .enterprise ? p.creditCode : nil)
        case .bank, .expert: .none
        }
    }

    /// The projects a principal may read (issue 10: HQ all, a town its own, a department those
    /// it leads, an enterprise those on its parcels, the bank and requesters none).
    public static func projectScope(_ p: Principal) -> ProjectScope {
        switch p.role {
        case .admin, .headquarters: .all
        case .town: p.town.map { .town($0) } ?? .none
        case .department: p.unit.isEmpty ? .none : .unit(p.unit)
        case .enterprise: p.creditCode.map { .enterprise($0) } ?? .none
        case .bank, .requester, .expert: .none
        }
    }

    /// The enterprise-level data a principal may read.
    public static func scope(_ p: Principal) -> DataScope {
        switch p.role {
        case .admin, .headquarters: .all
        case .town: p.town.map { .town($0) } ?? .none
        case .enterprise: p.creditCode.map { .enterprise($0) } ?? .none
        case .department, .bank, .requester, .expert: .none
        }
    }
}
