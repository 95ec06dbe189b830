import Foundation
import Testing
import Vapor
import SQLKit
import NIOConcurrencyHelpers
import MujunCore
@testable import MujunStore
@testable import MujunServer

// Test set-up helpers: direct access to the store (tests arrange data and check what was
// written) and a few shortcuts that put records into a state without going through the
// workflow step under test. Steps themselves are tested through the services and the HTTP
// routes; these helpers are only for arranging.

extension Application {
    /// The unscoped store of the test database.
    var store: Store { Store(db) }

    /// The services acting for `caller` (the system by default).
    func services(_ caller: Caller = .system("test")) -> MujunStore.Services {
        MujunStore.Services(db: db, caller: caller, context: serviceContext)
    }

    /// The key session and token hashes are made with.
    var secretKey: SecretKey { serviceContext.secret }
}

/// The context the test applications use (`TestApp` configures the same secret and cost).
let testContext = ServiceContext(rules: .default, rulesYAML: defaultRulesYAML, passwords: PasswordHasher(cost: 4),
                                 secret: SecretKey(secret: "test-secret"))

extension Store {
    var services: MujunStore.Services { MujunStore.Services(db: db, caller: .system("test"), context: testContext) }

    /// Arranges a year's publication state directly.
    func setPublication(year: Int, status: PublicationStatus, start: String?, end: String?, actor: String) async throws {
        try await sql.delete(from: "publications").where("year", .equal, year).run()
        try await sql.insert(into: "publications").columns("year", "status", "publicity_start", "publicity_end", "updated_by", "updated_at")
            .values(SQLBind(year), SQLBind(status.rawValue), SQLBind(start), SQLBind(end), SQLBind(actor), SQLBind(Date())).run()
    }

    /// Arranges a filed appeal (whatever the publication state).
    @discardableResult
    func fileAppeal(year: Int, creditCode: String, town: String, field: AppealField, currentValue: Double?, claimedValue: Double,
                    reason: String, attachmentName: String?, attachment: Data?, actor: String) async throws -> Int64 {
        let file = attachment.map { UploadedFile(filename: attachmentName ?? "附件.pdf", data: $0) }
        let id = try await insertAppeal(year: year, creditCode: creditCode, town: town, field: field, currentValue: currentValue,
                                        claimedValue: claimedValue, reason: reason, attachment: file, actor: actor)
        try await insertAppealCase(appealID: id, creditCode: creditCode, town: town, field: field, reason: reason, requester: creditCode,
                                   requesterUser: nil, on: CalendarDate(ChinaDay.today())!, calendar: .shipped, actor: actor,
                                   recordedUs: Store.nowMicros())
        return id
    }

    /// An appeal as a release before the case engine stored it: the row in its last state and
    /// one `case_events` row per step (no case).
    @discardableResult
    func legacyAppeal(year: Int, creditCode: String, town: String, field: AppealField, states: [CaseState], rating: Int? = nil,
                      actor: String) async throws -> Int64 {
        let id = try await insertAppeal(year: year, creditCode: creditCode, town: town, field: field, currentValue: 1, claimedValue: 2,
                                        reason: "旧版本的申诉", attachment: nil, actor: actor)
        var from: String?
        for s in states {
            try await recordEvent(type: "appeal", id: id, from: from, to: s.rawValue, actor: actor, note: s == .replied ? "驳回：旧版本答复" : nil)
            from = s.rawValue
        }
        try await sql.update("appeals").set("state", to: states.last?.rawValue ?? "assigned").set("rating", to: SQLBind(rating))
            .where("id", .equal, id).run()
        return id
    }

    /// Signs for an appeal through the service, as the system (the engine's 签收 step).
    func moveAppeal(id: Int64, to state: CaseState, actor: String, note: String? = nil) async throws {
        precondition(state == .accepted, "tests arrange accepted appeals only")
        try await services.acting(as: .system(actor)).appeals.accept(id: id, note: note)
    }

    /// Replies to an appeal through the service, as the system.
    func decideAppeal(id: Int64, outcome: AppealOutcome, answer: String, correctedValue: Double?, rules: Rules, rulesYAML: String,
                      actor: String) async throws {
        try await services.acting(as: .system(actor)).appeals.decide(id: id, outcome: outcome, answer: answer,
                                                                     corrected: correctedValue.map { formatNumber($0) })
    }

    /// Arranges an enterprise's consent.
    func setConsent(creditCode: String, _ consent: Bool, actor: String) async throws {
        try await sql.delete(from: "consents").where("credit_code", .equal, creditCode).run()
        try await sql.insert(into: "consents").columns("credit_code", "consent", "updated_by", "updated_at")
            .values(SQLBind(creditCode), SQLBind(consent), SQLBind(actor), SQLBind(Date())).run()
    }

    /// Arranges a submitted survey.
    @discardableResult
    func addSurvey(parcelID: String, town: String, actualUse: String, occupantsSeen: String?, idle: Bool, remarks: String?,
                   photoName: String?, photo: Data?, actor: String) async throws -> Int64 {
        try await insertSurvey(parcelID: parcelID, town: town, actualUse: actualUse, occupantsSeen: occupantsSeen, idle: idle,
                               remarks: remarks, photo: photo.map { UploadedFile(filename: photoName ?? "p.jpg", data: $0) }, actor: actor)
    }

    /// Reviews a survey through the service, as the system.
    func reviewSurvey(id: Int64, confirm: Bool, note: String?, actor: String) async throws {
        _ = try await services.acting(as: .system(actor)).surveys.review(id: id, decision: confirm ? "confirm" : "return", note: note)
    }

    /// Arranges a password.
    func setPassword(userID: Int64, hash: String, mustChange: Bool, actor: String) async throws {
        try await sql.update("users").set("password_hash", to: hash).set("must_change_password", to: mustChange)
            .where("id", .equal, userID).run()
        try await deleteSessions(userID: userID)
    }

    func setDisabled(userID: Int64, _ disabled: Bool, actor: String) async throws {
        try await services.acting(as: .system(actor)).accounts.setDisabled(userID: userID, disabled)
    }

    func revokeToken(id: Int64, actor: String) async throws {
        try await services.acting(as: .system(actor)).accounts.revokeToken(id: id)
    }

    func setSetting(_ key: String, _ value: String, actor: String) async throws {
        try await AdminService(services.acting(as: .system(actor))).setSetting(key, value, expected: nil)
    }
}

/// Accounts as the tests create them.
enum AccountTools {
    static func issueToken(store: Store, config: ServerConfig, login: String, name: String, actor: String) async throws -> String {
        try await store.services.acting(as: .system(actor)).accounts.issueToken(login: login, name: name).token
    }

    @discardableResult
    static func createUser(store: Store, login: String, displayName: String, unit: String, role: Role, town: String?, creditCode: String?,
                           password: String, mustChange: Bool, towns: [String], bcryptCost: Int = 4, actor: String) async throws -> Int64 {
        try await store.services.acting(as: .system(actor)).accounts.createUser(
            .init(login: login, displayName: displayName, unit: unit, role: role, town: town, creditCode: creditCode, password: password,
                  mustChangePassword: mustChange)).id
    }
}

/// The demo's people (accounts, publication, consents, appeals) as the tests load them.
enum DemoSetup {
    static func accounts(city: DemoCity) -> [(login: String, name: String, unit: String, role: Role, town: String?, code: String?, password: String)] {
        DemoService.accounts(city: city)
    }

    @discardableResult
    static func load(store: Store, city: DemoCity, years: [Int], rules: Rules, bcryptCost: Int = 4, appeals: Bool = true) async throws -> [DemoService.Login] {
        try await store.services.acting(as: .system("demo")).demo.loadPeople(city: city, years: years, appeals: appeals)
    }
}

/// The session rules the tests refer to.
enum SessionPolicy {
    static let cookie = SessionCookie.name
    static let preSessionCookie = SessionCookie.preSession
    static let maxFailuresPerAccount = AccountService.Policy.maxFailuresPerAccount
    static let maxFailuresPerAddress = SignInLimits.maxFailuresPerAddress
    static let idle = AccountService.Policy.idle
}

/// A random token, as the server makes them.
func randomToken(_ bytes: Int = 32) -> String { Tokens.random(bytes) }
