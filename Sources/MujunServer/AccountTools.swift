import Foundation
import Vapor
import MujunCore
import MujunStore

/// Account operations shared by the CLI, the demo and the admin pages.
public enum AccountTools {
    /// A readable random password for a new or reset account (the user must change it).
    public static func temporaryPassword() -> String {
        let chars = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789")
        var g = SystemRandomNumberGenerator()
        return String((0..<12).map { _ in chars[Int.random(in: 0..<chars.count, using: &g)] })
    }

    public enum AccountError: Error, CustomStringConvertible {
        case exists(String), invalid(String)
        public var description: String {
            switch self {
            case .exists(let l): "用户 \(l) 已存在 / user \(l) exists"
            case .invalid(let m): m
            }
        }
    }

    /// Checks and creates a user; returns its id.
    public static func createUser(store: Store, login: String, displayName: String, unit: String, role: Role,
                                  town: String?, creditCode: String?, password: String, mustChange: Bool,
                                  towns: [String], bcryptCost: Int = 12, actor: String) async throws -> Int64 {
        let login = login.trimmingCharacters(in: .whitespaces)
        guard login.range(of: #"^[A-Za-z0-9._\-]{2,40}$"#, options: .regularExpression) != nil else {
            throw AccountError.invalid("用户名须为 2–40 位字母、数字或 . _ - / login must be 2–40 letters, digits or . _ -")
        }
        if try await store.user(login: login) != nil { throw AccountError.exists(login) }
        if role == .town {
            guard let town, towns.contains(town) else {
                throw AccountError.invalid("镇街用户须指定已知镇街 / a town user needs a known town")
            }
        }
        var code: String?
        if role == .enterprise {
            guard let c = creditCode.map(CreditCode.normalize), CreditCode.isValid(c) else {
                throw AccountError.invalid("企业用户须指定有效的统一社会信用代码 / an enterprise user needs a valid credit code")
            }
            code = c
        }
        if let problem = passwordProblem(password, login: login) { throw AccountError.invalid(problem) }
        let hash = try Bcrypt.hash(password, cost: bcryptCost)
        return try await store.createUser(.init(login: login, displayName: displayName.isEmpty ? login : displayName,
                                                unit: unit, role: role, town: role == .town ? town : nil,
                                                creditCode: code, passwordHash: hash, mustChangePassword: mustChange),
                                          actor: actor)
    }

    /// Sets a new temporary password the user must change at the next sign-in.
    public static func resetPassword(store: Store, login: String, password: String, bcryptCost: Int = 12, actor: String) async throws {
        guard let user = try await store.user(login: login) else { throw AccountError.invalid("没有用户 \(login) / no user \(login)") }
        let hash = try Bcrypt.hash(password, cost: bcryptCost)
        try await store.setPassword(userID: user.id, hash: hash, mustChange: true, actor: actor)
    }

    /// Issues an API token for a user; the token is shown once, only its keyed hash is kept.
    public static func issueToken(store: Store, config: ServerConfig, login: String, name: String, actor: String) async throws -> String {
        guard let user = try await store.user(login: login) else { throw AccountError.invalid("没有用户 \(login) / no user \(login)") }
        let token = "mj_" + randomToken(30)
        let key = try SecretKey.load(config)
        try await store.createToken(userID: user.id, name: name, hash: key.hash(token), prefix: String(token.prefix(8)), actor: actor)
        return token
    }

    public static func passwordProblem(_ pw: String, login: String) -> String? {
        SessionController.passwordProblem(pw, login: login)
    }
}

extension AccountTools {
    /// Opens a session for an existing user without a password (for the benchmarks and
    /// tooling that drive the app in process); returns the `Cookie` header value.
    public static func openSession(app: Application, login: String) async throws -> String {
        guard let user = try await app.store.user(login: login) else { throw AccountError.invalid("没有用户 \(login)") }
        let token = randomToken()
        try await app.store.createSession(idHash: app.secretKey.hash(token), userID: user.id, csrfToken: randomToken(24),
                                          expiresAt: Date().addingTimeInterval(SessionPolicy.lifetime), address: "127.0.0.1")
        return "\(SessionPolicy.cookie)=\(token)"
    }
}
