import Foundation
import FluentKit
import MujunCore

/// What every service needs besides the database: the rules in force, the password hasher,
/// and the key of token hashes. Made once (at start-up, or by the
/// command-line tool) and shared.
public struct ServiceContext: Sendable {
    /// The evaluation rules in force and their YAML text (stored with every run).
    public let rules: Rules
    public let rulesYAML: String
    public var passwords: PasswordHasher
    public var secret: SecretKey

    /// The land rules (the `land:` section of the rules file), read once.
    public let landRules: LandRules
    /// The case types (`cases.yaml` beside the rules file, or CASES.md's defaults).
    public var caseTypes: CaseTypes = .default
    /// The project types and the monthly-report day (`projects.yaml` beside the rules file, or issue 10's defaults).
    public var projectTypes: ProjectTypes = .default
    /// The work calendar of every deadline: the shipped years, MUJUN_CALENDAR's, and the years
    /// the administrator added on the calendar page (shared by every copy of this context, so a
    /// year added in one request counts in the next).
    public var calendar: WorkCalendar {
        get { sharedCalendar.current }
        set { sharedCalendar = SharedCalendar(newValue) }
    }
    private var sharedCalendar = SharedCalendar(.shipped)

    /// Adds (or replaces) years of the calendar in force, for every copy of this context.
    public func addCalendarYears(_ c: WorkCalendar) { sharedCalendar.merge(c) }

    /// The `calendar` revision of the stored years in force (nil: not read yet).
    public var calendarRevision: Int64? { sharedCalendar.revision }

    /// Puts `stored` (every year recorded on the calendar page, at `revision`) in force over the
    /// shipped and configured years, for every copy of this context.
    public func replaceStoredCalendarYears(_ stored: WorkCalendar, revision: Int64) { sharedCalendar.replaceStored(stored, revision: revision) }

    /// `rulesYAML` is checked by whoever loaded it (`ServerConfig.loadRules` checks both the
    /// evaluation rules and the `land:` section); an unreadable land section here gives the defaults.
    public init(rules: Rules, rulesYAML: String, passwords: PasswordHasher, secret: SecretKey) {
        self.rules = rules; self.rulesYAML = rulesYAML; self.passwords = passwords; self.secret = secret
        self.landRules = (try? LandRules.from(yaml: rulesYAML)) ?? .default
    }
}

/// The calendar in force, behind a lock: read by every request, changed when the administrator
/// adds a year (here, or on another instance: see ``CalendarService/followStoredYears()``).
final class SharedCalendar: @unchecked Sendable {
    private let lock = NSLock()
    /// the shipped and configured years
    private let base: WorkCalendar
    private var value: WorkCalendar
    private var storedRevision: Int64?
    init(_ c: WorkCalendar) { base = c; value = c }
    var current: WorkCalendar { lock.lock(); defer { lock.unlock() }; return value }
    var revision: Int64? { lock.lock(); defer { lock.unlock() }; return storedRevision }
    func merge(_ c: WorkCalendar) { lock.lock(); value = value.merging(c); lock.unlock() }
    func replaceStored(_ stored: WorkCalendar, revision: Int64) {
        lock.lock(); value = base.merging(stored); storedRevision = revision; lock.unlock()
    }
}

/// The services of one caller: each feature's reads (within the caller's scope), checks and
/// workflow steps. The server makes one per request (`req.services`), the command-line tool
/// one per command (`Caller.system("cli")`).
///
/// ```swift
/// let s = Services(db: db, caller: .user(principal), context: context)
/// let page = try await s.ranking.results(filter, sort: .rank, descending: false, page: 1, per: 50)
/// try await s.appeals.accept(id: 12, note: "已签收")      // one transaction, 409 when already accepted
/// ```
public struct Services: Sendable {
    public let db: any Database
    public let caller: Caller
    public let context: ServiceContext

    public init(db: any Database, caller: Caller, context: ServiceContext) {
        self.db = db; self.caller = caller; self.context = context
    }

    /// The same services for another caller.
    public func acting(as caller: Caller) -> Services { Services(db: db, caller: caller, context: context) }

    public var system: SystemService { SystemService(self) }
    public var accounts: AccountService { AccountService(self) }
    public var admin: AdminService { AdminService(self) }
    public var ranking: RankingService { RankingService(self) }
    public var publication: PublicationService { PublicationService(self) }
    public var appeals: AppealService { AppealService(self) }
    public var credit: CreditService { CreditService(self) }
    public var land: LandService { LandService(self) }
    public var surveys: SurveyService { SurveyService(self) }
    public var demo: DemoService { DemoService(self) }
    public var cases: CaseService { CaseService(self) }
    public var calendar: CalendarService { CalendarService(self) }
    public var projects: ProjectService { ProjectService(self) }
    public var challenges: ChallengeService { ChallengeService(self) }
    public var quota: QuotaService { QuotaService(self) }
    public var signInLimits: SignInLimits { SignInLimits(self) }
    public var jobs: JobService { JobService(self) }
    public var notify: NotifyService { NotifyService(self) }

    /// The towns the caller may see and filter by (a town user: its own).
    public var towns: [String] { caller.scope.towns ?? context.rules.towns }

    /// Reads within the caller's scope (and only published years for roles that do not see drafts).
    var scoped: Store { Store(db, scope: caller.scope, publishedOnly: !caller.seesDrafts) }
    /// The unscoped store: for the writes a service performs and the checks it makes, never
    /// for a read shown to the caller.
    var unscoped: Store { Store(db) }
}

/// The service every feature builds on: `Services` plus the caller.
protocol ServiceBase: Sendable {
    var services: Services { get }
}

extension ServiceBase {
    var caller: Caller { services.caller }
    var context: ServiceContext { services.context }
    var scoped: Store { services.scoped }
    var unscoped: Store { services.unscoped }
}
