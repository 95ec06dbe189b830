import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Users, sessions, API tokens and settings. Passwords and tokens arrive here already
/// hashed: the store never sees a secret.
extension Store {
    public struct UserRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var login: String
        public var displayName: String
        public var unit: String
        public var role: String
        public var town: String?
        public var creditCode: String?
        public var passwordHash: String
        public var mustChangePassword: Bool
        public var failedAttempts: Int
        public var lockedUntil: Date?
        public var disabled: Bool
        public var createdAt: Date
        enum CodingKeys: String, CodingKey {
            case id, login, displayName = "display_name", unit, role, town, creditCode = "credit_code"
            case passwordHash = "password_hash", mustChangePassword = "must_change_password"
            case failedAttempts = "failed_attempts", lockedUntil = "locked_until", disabled, createdAt = "created_at"
        }

        public var principal: Principal? {
            guard let r = Role(rawValue: role) else { return nil }
            return Principal(userID: id, login: login, displayName: displayName, role: r, unit: unit,
                             town: town, creditCode: creditCode)
        }
    }

    static let userColumns = ["id", "login", "display_name", "unit", "role", "town", "credit_code", "password_hash",
                              "must_change_password", "failed_attempts", "locked_until", "disabled", "created_at"]

    public struct NewUser: Sendable {
        public var login: String
        public var displayName: String
        public var unit: String
        public var role: Role
        public var town: String?
        public var creditCode: String?
        public var passwordHash: String
        public var mustChangePassword: Bool
        public init(login: String, displayName: String, unit: String, role: Role, town: String? = nil,
                    creditCode: String? = nil, passwordHash: String, mustChangePassword: Bool = true) {
            self.login = login; self.displayName = displayName; self.unit = unit; self.role = role; self.town = town
            self.creditCode = creditCode; self.passwordHash = passwordHash; self.mustChangePassword = mustChangePassword
        }
    }

    @discardableResult
    func createUser(_ u: NewUser, actor: String, detail: String? = nil) async throws -> Int64 {
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            let id = try await sql.insert(into: "users")
                .columns("login", "display_name", "unit", "role", "town", "credit_code", "password_hash",
                         "must_change_password", "failed_attempts", "disabled", "created_at")
                .values(SQLBind(u.login), SQLBind(u.displayName), SQLBind(u.unit), SQLBind(u.role.rawValue),
                        SQLBind(u.town), SQLBind(u.creditCode), SQLBind(u.passwordHash), SQLBind(u.mustChangePassword),
                        SQLBind(0), SQLBind(false), SQLBind(Date()))
                .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
            try await Store(db).audit(actor: actor, action: "user.create", target: u.login,
                                      detail: ["角色 \(u.role.chinese)，单位 \(u.unit)\(u.town.map { "，镇街 \($0)" } ?? "")\(u.creditCode.map { "，企业 \($0)" } ?? "")", detail].compactMap { $0 }.joined(separator: " · "))
            return id
        }
    }

    func user(login: String) async throws -> UserRecord? {
        try await sql.select().columns(Self.userColumns.map { SQLColumn($0) }).from("users")
            .where("login", .equal, login).first(decoding: UserRecord.self)
    }

    func user(id: Int64) async throws -> UserRecord? {
        try await sql.select().columns(Self.userColumns.map { SQLColumn($0) }).from("users")
            .where("id", .equal, id).first(decoding: UserRecord.self)
    }

    func users() async throws -> [UserRecord] {
        try await sql.select().columns(Self.userColumns.map { SQLColumn($0) }).from("users")
            .orderBy("role").orderBy("login").all(decoding: UserRecord.self)
    }

    /// A failed sign-in: counts it and locks the account until `lockUntil` when given.
    func recordFailedSignIn(userID: Int64, lockUntil: Date?) async throws {
        // one assignment per column: PostgreSQL refuses to set a column twice
        let q = lockUntil.map { sql.update("users").set("locked_until", to: $0).set("failed_attempts", to: 0) }
            ?? sql.update("users").set(SQLColumn("failed_attempts"),
                                       to: SQLBinaryExpression(SQLColumn("failed_attempts"), .add, SQLBind(1)))
        try await q.where("id", .equal, userID).run()
    }

    func recordSignIn(userID: Int64) async throws {
        try await sql.update("users").set("failed_attempts", to: 0).set("locked_until", to: SQLLiteral.null)
            .where("id", .equal, userID).run()
    }

    // MARK: - Sessions

    public struct SessionRecord: Codable, Sendable {
        public var id: String
        public var userID: Int64
        public var csrfToken: String
        public var createdAt: Date
        public var lastSeen: Date
        public var expiresAt: Date
        enum CodingKeys: String, CodingKey {
            case id, userID = "user_id", csrfToken = "csrf_token", createdAt = "created_at", lastSeen = "last_seen"
            case expiresAt = "expires_at"
        }
    }

    /// Stores a session under the hash of its cookie token.
    func createSession(idHash: String, userID: Int64, csrfToken: String, expiresAt: Date, address: String?) async throws {
        let now = Date()
        try await sql.insert(into: "sessions").columns("id", "user_id", "csrf_token", "created_at", "last_seen", "expires_at", "address")
            .values(SQLBind(idHash), SQLBind(userID), SQLBind(csrfToken), SQLBind(now), SQLBind(now), SQLBind(expiresAt),
                    SQLBind(address)).run()
    }

    func session(idHash: String) async throws -> SessionRecord? {
        try await sql.select().columns("id", "user_id", "csrf_token", "created_at", "last_seen", "expires_at")
            .from("sessions").where("id", .equal, idHash).first(decoding: SessionRecord.self)
    }

    func touchSession(idHash: String, at: Date) async throws {
        try await sql.update("sessions").set("last_seen", to: at).where("id", .equal, idHash).run()
    }

    func deleteSession(idHash: String) async throws {
        try await sql.delete(from: "sessions").where("id", .equal, idHash).run()
    }

    func deleteSessions(userID: Int64) async throws {
        try await sql.delete(from: "sessions").where("user_id", .equal, userID).run()
    }

    // MARK: - API tokens

    public struct TokenRecord: Codable, Sendable {
        public var id: Int64
        public var userID: Int64
        public var name: String
        public var prefix: String
        public var createdAt: Date
        public var createdBy: String
        public var revokedAt: Date?
        public var lastUsed: Date?
        enum CodingKeys: String, CodingKey {
            case id, userID = "user_id", name, prefix, createdAt = "created_at", createdBy = "created_by"
            case revokedAt = "revoked_at", lastUsed = "last_used"
        }
    }

    @discardableResult
    func createToken(userID: Int64, name: String, hash: String, prefix: String, actor: String, detail: String? = nil) async throws -> Int64 {
        let id = try await sql.insert(into: "api_tokens")
            .columns("user_id", "name", "token_hash", "prefix", "created_at", "created_by")
            .values(SQLBind(userID), SQLBind(name), SQLBind(hash), SQLBind(prefix), SQLBind(Date()), SQLBind(actor))
            .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
        try await audit(actor: actor, action: "token.create", target: try await user(id: userID)?.login,
                        detail: ["\(name) (\(prefix)…)", detail].compactMap { $0 }.joined(separator: " · "))
        return id
    }

    func tokens() async throws -> [TokenRecord] {
        try await sql.select().columns("id", "user_id", "name", "prefix", "created_at", "created_by", "revoked_at", "last_used")
            .from("api_tokens").orderBy("id", .descending).all(decoding: TokenRecord.self)
    }

    /// The user of a live (not revoked) token, and the token's name.
    func user(tokenHash: String) async throws -> (UserRecord, String)? {
        struct Row: Decodable { var user_id: Int64; var id: Int64; var last_used: Date?; var name: String }
        guard let row = try await sql.select().columns("user_id", "id", "last_used", "name").from("api_tokens")
            .where("token_hash", .equal, tokenHash).where("revoked_at", .is, SQLLiteral.null)
            .first(decoding: Row.self) else { return nil }
        // "last used" to the minute: a GIS client paging through a layer makes many requests a
        // second, and a write for each would cost more than the request itself.
        let now = Date()
        if row.last_used.map({ now.timeIntervalSince($0) >= 60 }) ?? true {
            try await sql.update("api_tokens").set("last_used", to: now).where("id", .equal, row.id).run()
        }
        return try await user(id: row.user_id).map { ($0, row.name) }
    }

    // MARK: - Settings

    func setting(_ key: String) async throws -> String? {
        try await sql.select().column("value").from("settings").where("key", .equal, key)
            .first(decodingColumn: "value", as: String.self)
    }

    // MARK: - Audit search

    public struct AuditQuery: Sendable {
        public var actor: String?
        public var action: String?
        public var text: String?
        public var from: Date?
        public var to: Date?
        public init(actor: String? = nil, action: String? = nil, text: String? = nil, from: Date? = nil, to: Date? = nil) {
            self.actor = actor; self.action = action; self.text = text; self.from = from; self.to = to
        }
    }

    func auditLog(_ q: AuditQuery, limit: Int = 200, offset: Int = 0) async throws -> (entries: [AuditEntry], total: Int) {
        func apply<B: SQLPredicateBuilder>(_ b: B) -> B {
            var b = b
            if let a = q.actor, !a.isEmpty { b = b.where("actor", .equal, a) }
            if let a = q.action, !a.isEmpty { b = b.where("action", .like, a + "%") }
            if let t = q.text, !t.isEmpty {
                let p = "%" + t + "%"
                b = b.where(SQLGroupExpression(SQLBinaryExpression(
                    SQLBinaryExpression(SQLColumn("target"), .like, SQLBind(p)), .or,
                    SQLBinaryExpression(SQLColumn("detail"), .like, SQLBind(p)))))
            }
            if let f = q.from { b = b.where("at", .greaterThanOrEqual, f) }
            if let t = q.to { b = b.where("at", .lessThan, t) }
            return b
        }
        let total = try await apply(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("audit_log"))
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let rows = try await apply(sql.select().columns("id", "at", "actor", "action", "target", "detail").from("audit_log"))
            .orderBy("id", .descending).limit(limit).offset(offset).all(decoding: AuditEntry.self)
        return (rows, total)
    }
}
