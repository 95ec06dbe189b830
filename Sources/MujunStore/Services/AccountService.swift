import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Accounts: users, sign-in and sessions, API tokens, passwords. The store keeps only hashes:
/// bcrypt for passwords, HMAC for session and token secrets.
///
/// ```swift
/// let accounts = Services(db: db, caller: .system("cli"), context: context).accounts
/// let new = try await accounts.createUser(.init(login: "li", displayName: "李四", unit: "古山镇人民政府",
///                                               role: .town, town: "古山镇"))
/// print(new.password)     // shown once; the user must change it at the first sign-in
/// let token = try await accounts.issueToken(login: "hq", name: "QGIS")
/// ```
public struct AccountService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    /// Session and sign-in rules.
    public enum Policy {
        /// idle time after which a session ends
        public static let idle: TimeInterval = 4 * 3600
        /// absolute lifetime
        public static let lifetime: TimeInterval = 12 * 3600
        public static let maxFailuresPerAccount = 5
        public static let lockout: TimeInterval = 15 * 60
        public static let minPasswordLength = 8
    }

    // MARK: - users

    /// A new account as an admin or the command line asks for it.
    public struct NewAccount: Sendable {
        public var login: String
        public var displayName: String
        public var unit: String
        public var role: Role
        public var town: String?
        public var creditCode: String?
        /// nil: a random temporary password is made (and returned once)
        public var password: String?
        public var mustChangePassword: Bool
        public init(login: String, displayName: String = "", unit: String = "", role: Role, town: String? = nil,
                    creditCode: String? = nil, password: String? = nil, mustChangePassword: Bool = true) {
            self.login = login; self.displayName = displayName; self.unit = unit; self.role = role; self.town = town
            self.creditCode = creditCode; self.password = password; self.mustChangePassword = mustChangePassword
        }
    }

    /// Checks and creates a user; returns its id and the password it got.
    public func createUser(_ a: NewAccount) async throws -> (id: Int64, password: String) {
        try caller.require(.manageUsers)
        let login = a.login.trimmingCharacters(in: .whitespaces)
        guard login.range(of: #"^[A-Za-z0-9._\-]{2,40}$"#, options: .regularExpression) != nil else {
            throw ServiceError.invalid("用户名须为 2–40 位字母、数字或 . _ - / login must be 2–40 letters, digits or . _ -")
        }
        let name = a.displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        let unit = a.unit.trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.count <= 60 else { throw ServiceError.invalid("姓名不能超过 60 个字 / the name is too long") }
        guard unit.count <= 100 else { throw ServiceError.invalid("单位名称不能超过 100 个字 / the unit is too long") }
        var town: String?
        if a.role == .town {
            guard let t = a.town?.trimmingCharacters(in: .whitespaces), context.rules.towns.contains(t) else {
                throw ServiceError.invalid("镇街用户须指定已知镇街 / a town user needs a known town")
            }
            town = t
        }
        var code: String?
        if a.role == .enterprise {
            guard let c = a.creditCode.map(CreditCode.normalize), CreditCode.isValid(c) else {
                throw ServiceError.invalid("企业用户须指定有效的统一社会信用代码 / an enterprise user needs a valid credit code")
            }
            code = c
        }
        var password = a.password ?? Self.temporaryPassword()
        if a.password == nil { while Self.passwordProblem(password, login: login) != nil { password = Self.temporaryPassword() } }
        if let problem = Self.passwordProblem(password, login: login) { throw ServiceError.invalid(problem) }
        if try await unscoped.user(login: login) != nil { throw ServiceError.conflict("用户 \(login) 已存在 / user \(login) exists") }
        let hash = try await context.passwords.hash(password)
        let id = try await unscoped.createUser(.init(login: login, displayName: name.isEmpty ? login : name, unit: unit,
                                                     role: a.role, town: town, creditCode: code, passwordHash: hash,
                                                     mustChangePassword: a.mustChangePassword),
                                               actor: caller.actor, detail: caller.detail(nil))
        return (id, password)
    }

    /// Every user (admin).
    public func users() async throws -> [Store.UserRecord] {
        try caller.require(.manageUsers)
        return try await unscoped.users()
    }

    public func user(id: Int64) async throws -> Store.UserRecord {
        try caller.require(.manageUsers)
        guard let u = try await unscoped.user(id: id) else { throw ServiceError.notFound("没有该用户 / no such user") }
        return u
    }

    public func user(login: String) async throws -> Store.UserRecord {
        try caller.require(.manageUsers)
        guard let u = try await unscoped.user(login: login) else { throw ServiceError.notFound("没有用户 \(login) / no user \(login)") }
        return u
    }

    /// Sets a new temporary password the user must change at the next sign-in; ends their
    /// sessions. Returns the password (shown once).
    public func resetPassword(userID: Int64, password given: String? = nil) async throws -> String {
        try caller.require(.manageUsers)
        let user = try await user(id: userID)
        var password = given ?? Self.temporaryPassword()
        if given == nil { while Self.passwordProblem(password, login: user.login) != nil { password = Self.temporaryPassword() } }
        if let problem = Self.passwordProblem(password, login: user.login) { throw ServiceError.invalid(problem) }
        let hash = try await context.passwords.hash(password)
        try await unscoped.perform(accountStep(user, action: "user.reset_password", verb: ("重置密码", "reset the password"),
                                               set: [("password_hash", SQLBind(hash)), ("must_change_password", SQLBind(true)),
                                                     ("failed_attempts", SQLBind(0)), ("locked_until", SQLLiteral.null)]),
                                   by: caller) { tx in
            try await tx.deleteSessions(userID: user.id)
            return ((), nil)
        }
        return password
    }

    /// Disables (or enables) a user: a disabled user cannot sign in, their sessions end and
    /// their tokens stop working. 409 when the user already is in that state.
    public func setDisabled(userID: Int64, _ disabled: Bool) async throws {
        try caller.require(.manageUsers)
        let user = try await user(id: userID)
        if disabled, caller.principal?.userID == user.id {
            throw ServiceError.invalid("不能停用自己的账户 / you cannot disable your own account")
        }
        var step = accountStep(user, action: disabled ? "user.disable" : "user.enable",
                               verb: disabled ? ("停用", "disable") : ("启用", "enable"), set: [("disabled", SQLBind(disabled))])
        step.condition = SQLBinaryExpression(SQLColumn("disabled"), .equal, SQLBind(!disabled))
        step.conflictMessage = "用户 \(user.login) 已\(disabled ? "停用" : "启用") / the user is already \(disabled ? "disabled" : "enabled")"
        try await unscoped.perform(step, by: caller) { tx in
            if disabled { try await tx.deleteSessions(userID: user.id) }
            return ((), nil)
        }
    }

    /// The signed-in user changes their own password; every session of theirs ends.
    public func changePassword(current: String, new: String, confirm: String) async throws {
        guard let p = caller.principal, let user = try await unscoped.user(id: p.userID) else {
            throw ServiceError(.forbidden, "请先登录 / sign in first")
        }
        guard try await context.passwords.verify(current, hash: user.passwordHash) else {
            throw ServiceError.invalid("当前密码不正确 / the current password is wrong")
        }
        if let problem = Self.passwordProblem(new, login: p.login) { throw ServiceError.invalid(problem) }
        guard new == confirm else { throw ServiceError.invalid("两次输入的新密码不一致 / the new passwords differ") }
        guard new != current else { throw ServiceError.invalid("新密码不能与当前密码相同 / choose a new password") }
        let hash = try await context.passwords.hash(new)
        var step = accountStep(user, action: "user.change_password", verb: ("修改密码", "change the password"),
                               set: [("password_hash", SQLBind(hash)), ("must_change_password", SQLBind(false)),
                                     ("failed_attempts", SQLBind(0)), ("locked_until", SQLLiteral.null)])
        // the password checked above is still the one stored (no change in between)
        step.condition = SQLBinaryExpression(SQLColumn("password_hash"), .equal, SQLBind(user.passwordHash))
        step.conflictMessage = "密码已在其他会话中修改，请重新登录 / the password was changed elsewhere; sign in again"
        try await unscoped.perform(step, by: caller) { tx in
            try await tx.deleteSessions(userID: user.id)
            return ((), nil)
        }
    }

    func accountStep(_ u: Store.UserRecord, action: String, verb: (String, String), set: [(String, any SQLExpression)]) -> Store.Step {
        Store.Step(table: "users", key: [("id", u.id)], subject: "用户 \(u.login)", stateColumn: nil, from: nil, to: nil,
                   set: set, action: action, detail: nil, verb: verb, target: u.login)
    }

    /// A readable random password for a new or reset account (the user must change it).
    public static func temporaryPassword() -> String {
        let chars = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789")
        var g = SystemRandomNumberGenerator()
        return String((0..<12).map { _ in chars[Int.random(in: 0..<chars.count, using: &g)] })
    }

    /// Why a password is not acceptable, or nil.
    public static func passwordProblem(_ pw: String, login: String) -> String? {
        if pw.count < Policy.minPasswordLength { return "新密码至少 \(Policy.minPasswordLength) 位 / at least \(Policy.minPasswordLength) characters" }
        if pw.lowercased() == login.lowercased() { return "密码不能与用户名相同 / must differ from the user name" }
        if Set(pw).count < 4 { return "密码过于简单 / too simple" }
        return nil
    }

    // MARK: - signing in

    /// The outcome of a sign-in attempt.
    public enum SignIn: Sendable {
        /// signed in: the cookie token (its hash is stored), the session's CSRF token
        case success(token: String, csrf: String, user: Store.UserRecord)
        /// wrong name or password (unknown, disabled and wrong answer the same)
        case failed
        /// the account is locked for this many more minutes
        case locked(minutes: Int)
    }

    /// Checks a name and password. A known account locks after `maxFailuresPerAccount` wrong
    /// passwords; `unknownLocked` says whether an unknown name has failed as often (the
    /// server keeps those counts), so that the answer never tells which names exist.
    public func signIn(login: String, password: String, address: String, unknownLocked: Bool) async throws -> SignIn {
        let store = unscoped
        let now = Date()
        guard let user = try await store.user(login: login), !user.disabled else {
            await context.passwords.spendVerificationTime(password)
            try await store.audit(actor: login.isEmpty ? "anonymous" : login, action: unknownLocked ? "auth.locked" : "auth.failure",
                                  detail: "\(address)：用户不存在或已停用")
            return unknownLocked ? .locked(minutes: Int(Policy.lockout / 60)) : .failed
        }
        if let until = user.lockedUntil, until > now {
            try await store.audit(actor: login, action: "auth.locked", detail: address)
            return .locked(minutes: Int((until.timeIntervalSince(now) / 60).rounded(.up)))
        }
        guard try await context.passwords.verify(password, hash: user.passwordHash) else {
            let lock = user.failedAttempts + 1 >= Policy.maxFailuresPerAccount ? now.addingTimeInterval(Policy.lockout) : nil
            try await store.recordFailedSignIn(userID: user.id, lockUntil: lock)
            try await store.audit(actor: login, action: "auth.failure", detail: "\(address)：密码错误\(lock != nil ? "，账户锁定 15 分钟" : "")")
            return .failed
        }
        try await store.recordSignIn(userID: user.id)
        let token = Tokens.random(), csrf = Tokens.random(24)
        try await store.createSession(idHash: context.secret.hash(token), userID: user.id, csrfToken: csrf,
                                      expiresAt: now.addingTimeInterval(Policy.lifetime), address: address)
        try await store.audit(actor: login, action: "auth.sign_in", detail: address)
        return .success(token: token, csrf: csrf, user: user)
    }

    /// Who a request is, from its credential.
    public struct Identity: Sendable {
        public var principal: Principal
        /// the session's id hash (nil for API tokens)
        public var sessionID: String?
        /// the session's CSRF token (nil for API tokens)
        public var csrfToken: String?
        /// the API token's name (nil for sessions)
        public var tokenName: String?
        public var mustChangePassword: Bool
    }

    /// The user of a live session cookie (touched at most once a minute), nil when none or
    /// expired (an expired session is removed).
    public func identify(sessionToken token: String) async throws -> Identity? {
        let store = unscoped
        let id = context.secret.hash(token)
        let now = Date()
        guard let s = try await store.session(idHash: id) else { return nil }
        if s.expiresAt < now || now.timeIntervalSince(s.lastSeen) > Policy.idle {
            try await store.deleteSession(idHash: id)
            return nil
        }
        guard let user = try await store.user(id: s.userID), !user.disabled, let p = user.principal else { return nil }
        if now.timeIntervalSince(s.lastSeen) > 60 { try await store.touchSession(idHash: id, at: now) }
        return Identity(principal: p, sessionID: id, csrfToken: s.csrfToken, tokenName: nil, mustChangePassword: user.mustChangePassword)
    }

    /// The user of a live API token, nil when unknown, revoked or the user is disabled.
    public func identify(bearer token: String) async throws -> Identity? {
        guard let (user, name) = try await unscoped.user(tokenHash: context.secret.hash(token)), !user.disabled,
              let p = user.principal else { return nil }
        return Identity(principal: p, sessionID: nil, csrfToken: nil, tokenName: name, mustChangePassword: user.mustChangePassword)
    }

    /// Ends a session.
    public func signOut(sessionID: String) async throws {
        try await unscoped.deleteSession(idHash: sessionID)
        try await unscoped.audit(actor: caller.actor, action: "auth.sign_out", detail: caller.address)
    }

    /// Opens a session for an existing user without a password (benchmarks and tools that
    /// drive the app in process): the cookie token.
    public func openSession(login: String) async throws -> String {
        guard caller.isSystem else { throw ServiceError(.forbidden, "仅限系统 / system only") }
        guard let user = try await unscoped.user(login: login) else { throw ServiceError.notFound("没有用户 \(login)") }
        let token = Tokens.random()
        try await unscoped.createSession(idHash: context.secret.hash(token), userID: user.id, csrfToken: Tokens.random(24),
                                         expiresAt: Date().addingTimeInterval(Policy.lifetime), address: "127.0.0.1")
        return token
    }

    // MARK: - API tokens

    /// Issues an API token for a user: returned once, only its keyed hash is kept.
    public func issueToken(login: String, name: String) async throws -> (id: Int64, token: String) {
        try caller.require(.manageUsers)
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 60 else { throw ServiceError.invalid("请填写令牌用途（不超过 60 字）/ name the token (at most 60 characters)") }
        let user = try await user(login: login.trimmingCharacters(in: .whitespaces))
        guard !user.disabled else { throw ServiceError.conflict("用户 \(user.login) 已停用 / the user is disabled") }
        let token = "mj_" + Tokens.random(30)
        let id = try await unscoped.createToken(userID: user.id, name: name, hash: context.secret.hash(token),
                                                prefix: String(token.prefix(8)), actor: caller.actor, detail: caller.detail(nil))
        return (id, token)
    }

    public func tokens() async throws -> [Store.TokenRecord] {
        try caller.require(.manageUsers)
        return try await unscoped.tokens()
    }

    /// Revokes a token; 409 when it already was.
    public func revokeToken(id: Int64) async throws {
        try caller.require(.manageUsers)
        var step = Store.Step(table: "api_tokens", key: [("id", id)], subject: "令牌 #\(id)", stateColumn: nil, from: nil, to: nil,
                              set: [("revoked_at", SQLBind(Date()))], action: "token.revoke", detail: nil, verb: ("撤销", "revoke"))
        step.condition = SQLBinaryExpression(SQLColumn("revoked_at"), .is, SQLLiteral.null)
        step.conflictMessage = "令牌 #\(id) 已撤销 / token #\(id) is already revoked"
        step.target = "#\(id)"
        try await unscoped.perform(step, by: caller)
    }
}

extension AccountService {
    /// Whether no enabled account has this name (the server counts such failures per name).
    public func isUnknown(login: String) async throws -> Bool {
        guard let u = try await unscoped.user(login: login) else { return true }
        return u.disabled
    }
}

extension AdminService {
    /// The same service acting as someone not signed in (a sign-in attempt's audit entries).
    public func acting(_ actor: String) -> AdminService {
        AdminService(services.acting(as: Caller(principal: nil, actor: actor, address: services.caller.address, scope: .none, seesDrafts: false)))
    }
}
