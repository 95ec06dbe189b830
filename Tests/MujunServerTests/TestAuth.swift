import Foundation
import Testing
import Vapor
import VaporTesting
import NIOConcurrencyHelpers
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// Signed-in test users: a user of the role and a live session, as request headers.
enum TestAuth {
    struct Session {
        var principal: Principal
        var token: String
        var csrf: String
        /// Cookie only (GET requests).
        var headers: HTTPHeaders { ["Cookie": "\(SessionPolicy.cookie)=\(token)"] }
        /// Cookie and CSRF token (state-changing requests).
        var postHeaders: HTTPHeaders { ["Cookie": "\(SessionPolicy.cookie)=\(token)", "X-CSRF-Token": csrf] }
    }

    /// Numbers test users; tests run in parallel, so it is locked.
    static let counter = NIOLockedValueBox(0)

    /// Creates a user (low bcrypt cost) and a session for it, without going through /login.
    static func session(_ app: Application, _ role: Role, town: String? = nil, creditCode: String? = nil,
                        login: String? = nil, mustChange: Bool = false) async throws -> Session {
        let n = counter.withLockedValue { $0 += 1; return $0 }
        let name = login ?? "\(role.rawValue)\(n)"
        let id = try await app.store.createUser(.init(login: name, displayName: "测试\(role.chinese)", unit: "测试单位", role: role,
                                                      town: town, creditCode: creditCode,
                                                      passwordHash: try Bcrypt.hash("Passw0rd!x", cost: 4),
                                                      mustChangePassword: mustChange), actor: "test")
        let token = randomToken(), csrf = randomToken(16)
        try await app.store.createSession(idHash: app.secretKey.hash(token), userID: id, csrfToken: csrf,
                                          expiresAt: Date().addingTimeInterval(3600), address: "127.0.0.1")
        let p = Principal(userID: id, login: name, displayName: "测试", role: role, town: town, creditCode: creditCode)
        return Session(principal: p, token: token, csrf: csrf)
    }

    /// A headquarters session (sees everything).
    static func hq(_ app: Application) async throws -> Session { try await session(app, .headquarters) }
}
