import Foundation
import Testing
import Vapor
import VaporTesting
import SQLKit
import NIOCore
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// The security contract of docs/SECURITY.md, as tests: every route has a requirement, the
/// role × route table answers as the requirement says, reads are filtered to the user's
/// jurisdiction or enterprise, and the usual attacks are answered correctly. Runs on SQLite,
/// and on PostgreSQL when MUJUN_TEST_DATABASE_URL is set (`make test-postgres`).
@Suite("Security: roles × routes, filtering and attacks", .serialized)
struct SecurityTests {
    static let year = 2025
    static let homeTown = "古山镇"
    /// the demo city of `TestApp.loadDemo`
    static let city = DemoCity(enterprises: 300, seed: 3)

    // MARK: - the world: the demo city, its accounts, published years

    struct Account {
        var login: String
        var password: String
        var id: Int64
        var role: Role
    }

    struct World {
        var app: Application
        var accounts: [Role: Account]
        /// the enterprise of the enterprise user (in 古山镇)
        var ownCode: String
        /// another enterprise of 古山镇
        var townCode: String
        /// an enterprise of another town, and that town
        var otherCode: String
        var otherTown: String
        var otherName: String
        /// an appeal of the enterprise user's enterprise
        var appealID: Int64
        func account(_ r: Role) -> Account { accounts[r]! }
    }

    /// The demo city (2024 final, 2025 in publicity) with one demo account per role.
    static func world(_ app: Application) async throws -> World {
        do { return try await makeWorld(app) } catch {
            Issue.record("the demo world could not be built: \(String(reflecting: error))")
            throw error
        }
    }

    static func makeWorld(_ app: Application) async throws -> World {
        try await TestApp.loadDemo(app, enterprises: 300, seed: 3)
        // the demo's accounts and publication states (as `DemoSetup.load` makes them, without its sample appeals)
        for a in DemoSetup.accounts(city: city) {
            _ = try await AccountTools.createUser(store: app.store, login: a.login, displayName: a.name, unit: a.unit, role: a.role,
                                                  town: a.town, creditCode: a.code, password: a.password, mustChange: false,
                                                  towns: Rules.default.towns, bcryptCost: 4, actor: "test")
        }
        let day = DateFormatter()
        day.dateFormat = "yyyy-MM-dd"
        try await app.store.setPublication(year: 2024, status: .final, start: "2025-04-01", end: "2025-04-10", actor: "test")
        try await app.store.setPublication(year: year, status: .publicity, start: day.string(from: Date().addingTimeInterval(-3 * 86400)),
                                           end: day.string(from: Date().addingTimeInterval(7 * 86400)), actor: "test")
        var accounts: [Role: Account] = [:]
        for a in DemoSetup.accounts(city: city) {
            let u = try #require(try await app.store.user(login: a.login))
            accounts[a.role] = Account(login: a.login, password: a.password, id: u.id, role: a.role)
        }
        let own = try #require(try await app.store.user(login: accounts[.enterprise]!.login)?.creditCode)
        let all = try await app.store.results(.init(year: year), per: 10_000).items
        let town = try #require(all.first { $0.town == homeTown && $0.creditCode != own })
        let other = try #require(all.first { $0.town != homeTown })
        #expect(all.contains { $0.creditCode == own && $0.town == homeTown }, "the demo enterprise user belongs to 古山镇")
        // (an appeal makes the `/appeals/:id` lines meaningful; the appeal tests own its failures)
        let appeal = (try? await app.store.fileAppeal(year: year, creditCode: own, town: homeTown, field: .landMu, currentValue: 10,
                                                    claimedValue: 9, reason: "测试申诉", attachmentName: nil, attachment: nil,
                                                    actor: accounts[.enterprise]!.login)) ?? 999_998
        try await app.asyncBoot()
        return World(app: app, accounts: accounts, ownCode: own, townCode: town.creditCode, otherCode: other.creditCode,
                     otherTown: other.town, otherName: other.name, appealID: appeal)
    }

    // MARK: - requests

    /// An answer, read in full.
    struct Reply {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
        var text: String { String(buffer: body) }
        var data: Data { Data(buffer: body) }
        var location: String? { headers.first(name: .location) }
        func cookie(_ name: String) -> String? { headers.setCookie?[name]?.string }
    }

    /// Sends a request through the application's responder (like VaporTesting's in-memory
    /// tester) from a given client address, so that rate limits and the audit log see one.
    static func send(_ app: Application, _ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:],
                     body: ByteBuffer? = nil, from address: String = "198.51.100.7") async throws -> Reply {
        try await app.asyncBoot()
        var h = headers
        h.replaceOrAdd(name: .contentLength, value: "\(body?.readableBytes ?? 0)")
        let req = Request(application: app, method: method, url: URI(path: path), headers: h,
                          collectedBody: (body?.readableBytes ?? 0) == 0 ? nil : body,
                          remoteAddress: try SocketAddress(ipAddress: address, port: 40_000),
                          logger: app.logger, on: app.eventLoopGroup.next())
        let res = try await app.responder.respond(to: req).get()
        let buf = try await res.body.collect(on: req.eventLoop).get() ?? ByteBuffer()
        return Reply(status: res.status, headers: res.headers, body: buf)
    }

    /// A fresh session for an existing user: cookie header, and the CSRF token.
    static func session(_ app: Application, _ userID: Int64, lastSeen: Date? = nil) async throws -> TestAuth.Session {
        let token = randomToken(), csrf = randomToken(16)
        try await app.store.createSession(idHash: app.secretKey.hash(token), userID: userID, csrfToken: csrf,
                                          expiresAt: Date().addingTimeInterval(3600), address: "127.0.0.1")
        let u = try #require(try await app.store.user(id: userID))
        return TestAuth.Session(principal: try #require(u.principal), token: token, csrf: csrf)
    }

    static func get(_ app: Application, _ path: String, as s: TestAuth.Session?) async throws -> Reply {
        try await send(app, .GET, path, headers: s?.headers ?? [:])
    }

    static func json(_ r: Reply) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any], "not a JSON object: \(r.text.prefix(200))")
    }

    static func count(_ app: Application, _ table: String) async throws -> Int {
        try await app.store.sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()!.decode(column: "n", as: Int.self)
    }

    static func form(_ fields: [(String, String)]) -> ByteBuffer {
        ByteBuffer(string: fields.map { "\($0.0)=\($0.1.queryEncoded)" }.joined(separator: "&"))
    }

    /// The real sign-in: GET /login (pre-session cookie and hidden token), then POST the form.
    static func signIn(_ app: Application, _ login: String, _ password: String, next: String? = nil,
                       from address: String = "198.51.100.7", headers extra: HTTPHeaders = [:]) async throws -> Reply {
        let page = try await send(app, .GET, "/login", headers: extra, from: address)
        #expect(page.status == .ok)
        let cookie = try #require(page.cookie(SessionPolicy.preSessionCookie), "GET /login sets the pre-session cookie")
        let hidden = try #require(page.text.captures(#"name="_csrf" value="([^"]*)""#).first, "the form carries _csrf")
        #expect(hidden == cookie)
        var fields = [("login", login), ("password", password), ("_csrf", hidden)]
        if let next { fields.append(("next", next)) }
        var headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded",
                                    "Cookie": "\(SessionPolicy.preSessionCookie)=\(cookie)"]
        headers.add(contentsOf: extra)
        return try await send(app, .POST, "/login", headers: headers, body: form(fields), from: address)
    }

    // MARK: - the route table

    /// anonymous, then every role
    static let roles: [Role?] = [nil] + Role.allCases.map { Optional($0) }

    static func isAPI(_ path: String) -> Bool {
        path.hasPrefix("/api/") || path == "/openapi.json" || path.hasPrefix("/ogc") || path == "/metrics"
    }

    /// `:a` and `:b` are the same pattern component.
    static func normalized(_ pattern: String) -> String {
        "/" + pattern.split(separator: "/").map { $0.hasPrefix(":") ? ":" : String($0) }.joined(separator: "/")
    }

    static func pattern(_ route: Route) -> String {
        "/" + route.path.map(\.description).joined(separator: "/")
    }

    /// A request path for a pattern, with demo values a user of `role` may legitimately ask for.
    static func concrete(_ pattern: String, role: Role?, method: HTTPMethod, _ w: World) -> String {
        let parts = pattern.split(separator: "/").map { seg -> String in
            if seg == "**" { return pattern.hasPrefix("/static/") ? "mujun.css" : "sample" }
            guard seg.hasPrefix(":") else { return String(seg) }
            let name = seg.dropFirst().lowercased()
            if name.contains("code") { return role == .enterprise ? w.ownCode : w.townCode }
            if name.contains("year") { return "\(year)" }
            if name.contains("file") { return "chart.js" }
            if name.contains("town") { return homeTown.queryEncoded }
            if name.contains("id") { return method == .GET ? "\(w.appealID)" : "999999" }
            return "1"
        }
        return "/" + parts.joined(separator: "/")
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    enum Outcome: String {
        case allowed, unauthorized = "401", toLogin = "→ /login", forbidden = "403", serverError = "5xx"
    }

    /// What the table promises.
    static func expected(_ method: HTTPMethod, _ path: String, _ req: Requirement, _ role: Role?) -> Outcome {
        guard let role else {
            if req == .open { return .allowed }
            return isAPI(path) || method != .GET ? .unauthorized : .toLogin
        }
        if case .permission(let p) = req, !AccessPolicy.allows(role, p) { return .forbidden }
        return .allowed
    }

    /// What the server did.
    static func observed(_ r: Reply) -> Outcome {
        if r.status == .unauthorized { return .unauthorized }
        if r.status == .forbidden { return .forbidden }
        if r.status.code >= 500 { return .serverError }
        if [301, 302, 303, 307].contains(r.status.code), r.location?.hasPrefix("/login?next=") == true { return .toLogin }
        return .allowed
    }

    @Test("every registered route has exactly one line in RouteAccess.table, and every line is a route")
    func everyRouteHasARequirement() async throws {
        try await TestApp.with { app in
            var problems: [String] = []
            let table = RouteAccess.table
            for route in app.routes.all {
                let p = Self.pattern(route)
                let sample = "/" + route.path.map { c -> String in
                    switch c {
                    case .constant(let s): s
                    case .parameter: "sample1"
                    case .catchall: "a/b"
                    case .anything: "x"
                    }
                }.joined(separator: "/")
                guard let req = RouteAccess.requirement(route.method, sample) else {
                    problems.append("\(route.method.rawValue) \(p): no requirement in RouteAccess.table")
                    continue
                }
                let lines = table.filter { $0.0 == route.method && Self.normalized($0.1) == Self.normalized(p) }
                if lines.isEmpty {
                    problems.append("\(route.method.rawValue) \(p): only matched by a broader line (\(req)); give it its own line")
                } else if lines.count > 1 {
                    problems.append("\(route.method.rawValue) \(p): \(lines.count) lines in the table")
                } else if lines[0].2 != req {
                    problems.append("\(route.method.rawValue) \(p): its line says \(lines[0].2) but \(sample) resolves to \(req)")
                }
            }
            let registered = Set(app.routes.all.map { "\($0.method.rawValue) \(Self.normalized(Self.pattern($0)))" })
            for (m, p, _) in table where !registered.contains("\(m.rawValue) \(Self.normalized(p))") {
                problems.append("\(m.rawValue) \(p): in RouteAccess.table but no such route is registered")
            }
            #expect(problems.isEmpty, "\n\(problems.joined(separator: "\n"))")
            // an unlisted path needs no less than the administrator's permission
            #expect(RouteAccess.requirement(.GET, "/no/such/page") == nil)
            // the audit log has no route that could change it
            #expect(!table.contains { $0.1.hasPrefix("/admin/audit") && $0.0 != .GET })
            #expect(!table.contains { [.DELETE, .PUT, .PATCH].contains($0.0) && $0.1.contains("audit") })
        }
    }

    @Test("the most specific line wins, whatever the order of the table")
    func specificity() {
        #expect(EndpointTable.specificity("/a/b") == [2, 2])
        #expect(EndpointTable.specificity("/a/:id") == [2, 1])
        #expect(EndpointTable.specificity("/static/**") == [2, 0])
        for (m, p, req) in RouteAccess.table where !p.contains(":") && !p.contains("**") {
            #expect(RouteAccess.requirement(m, p) == req, "\(m.rawValue) \(p)")
        }
    }

    @Test("docs/SECURITY.md lists every route of RouteAccess.table with its requirement")
    func documented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/SECURITY.md"), encoding: .utf8)
        // the marked section is exactly what the declarations write
        let expected = try #require(RouteAccess.document(text), "docs/SECURITY.md has no <!-- routes:begin --> / <!-- routes:end --> markers")
        #expect(text == expected, "docs/SECURITY.md's route table differs from the declarations: run `.build/debug/mujun docs routes --write docs/SECURITY.md`")
        // and every declared route has its row with its requirement (a table the tools read too)
        var documented: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("|") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 2, let m = String(cells[1]).captures(#"^`([A-Z]+ /[^`]*)`$"#).first else { continue }
            documented[m] = cells[2]
        }
        var problems: [String] = []
        for (m, p, req) in RouteAccess.table {
            let key = "\(m.rawValue) \(p)"
            guard let cell = documented[key] else { problems.append("\(key) is missing"); continue }
            if cell != "`\(req.description)`" { problems.append("\(key): documented as \(cell), the table says `\(req)`") }
        }
        let listed = Set(RouteAccess.table.map { "\($0.0.rawValue) \($0.1)" })
        for key in documented.keys where !listed.contains(key) { problems.append("\(key) is documented but not in RouteAccess.table") }
        #expect(problems.isEmpty, "docs/SECURITY.md and RouteAccess.table differ:\n\(problems.sorted().joined(separator: "\n"))")
    }

    @Test("role × route: every line of the table answers every role (and anonymous) as its requirement says")
    func roleRouteMatrix() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            var rows: [String] = []
            var failures = 0
            var checked = 0
            for (method, pattern, req) in RouteAccess.table {
                // of the static files, one sample each (`concrete` picks it)
                for role in Self.roles {
                    let path = Self.concrete(pattern, role: role, method: method, w)
                    var headers: HTTPHeaders = [:]
                    var body: ByteBuffer?
                    if let role {
                        // a fresh session per request: POST /logout and the like may end it
                        let s = try await Self.session(app, w.account(role).id)
                        headers = method == .GET ? s.headers : s.postHeaders
                    }
                    if method != .GET {
                        headers.replaceOrAdd(name: .contentType, value: "application/json")
                        body = ByteBuffer(string: "{}")
                    }
                    let r = try await Self.send(app, method, path, headers: headers, body: body)
                    let want = Self.expected(method, path, req, role)
                    let got = Self.observed(r)
                    checked += 1
                    let ok = got == want
                    if !ok { failures += 1 }
                    let who = role.map { "\($0.rawValue)(\(w.account($0).login))" } ?? "anonymous"
                    let cells: [String] = [ok ? " " : "✗", Self.pad(method.rawValue, 5), Self.pad(path, 48), Self.pad(who, 26),
                                           Self.pad(req.description, 15), "expected " + Self.pad(want.rawValue, 9),
                                           "got \(r.status.code)" + (r.location.map { " → " + $0 } ?? "")]
                    rows.append(cells.joined(separator: " "))
                }
            }
            #expect(checked >= RouteAccess.table.count * 8)
            if ProcessInfo.processInfo.environment["MUJUN_PRINT_MATRIX"] == "1" { print(rows.joined(separator: "\n")) }
            if failures > 0 {
                let wrong: String = rows.filter { $0.hasPrefix("✗") }.joined(separator: "\n")
                let whole: String = rows.joined(separator: "\n")
                Issue.record("\(failures) of \(checked) answers differ from RouteAccess.table:\n\(wrong)\n\nthe whole table:\n\(whole)")
            }
        }
    }

    // MARK: - filtered reads

    @Test("a town user reads only its own jurisdiction: results, counts, ranking, export, enterprises")
    func townUserIsFiltered() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let s = try await Self.session(app, w.account(.town).id)
            let home = Self.homeTown
            let all = try await app.store.results(.init(year: Self.year), per: 10_000).items
            let mine = all.filter { $0.town == home }
            #expect(!mine.isEmpty && mine.count < all.count)

            // the API list, whatever the filters ask for
            var r = try await Self.get(app, "/api/v1/results?year=\(Self.year)&per=10000", as: s)
            #expect(r.status == .ok)
            var obj = try Self.json(r)
            let items = obj["items"] as? [[String: Any]] ?? []
            #expect(Set(items.compactMap { $0["town"] as? String }) == [home])
            #expect(obj["total"] as? Int == mine.count && items.count == mine.count)
            r = try await Self.get(app, "/api/v1/results?year=\(Self.year)&town=\(w.otherTown.queryEncoded)", as: s)
            #expect(try Self.json(r)["total"] as? Int == 0, "asking for another town gives nothing")
            r = try await Self.get(app, "/api/v1/results?year=\(Self.year)&q=\(w.otherCode)", as: s)
            #expect(try Self.json(r)["total"] as? Int == 0, "searching another town's enterprise gives nothing")

            // counts
            r = try await Self.get(app, "/api/v1/results/counts?year=\(Self.year)", as: s)
            #expect(r.status == .ok)
            obj = try Self.json(r)
            #expect(Set((obj["by_town"] as? [String: Any] ?? [:]).keys) == [home])
            #expect((obj["total"] as? [String: Int] ?? [:]).values.reduce(0, +) == mine.count)

            // the ranking page
            for group in ["above", "below"] {
                r = try await Self.get(app, "/ranking?year=\(Self.year)&group=\(group)&per=1000", as: s)
                #expect(r.status == .ok)
                let towns = r.text.captures(#"<td class="town">([^<]*)</td>"#)
                #expect(!towns.isEmpty && Set(towns) == [home], "\(group): \(Set(towns))")
                #expect(!r.text.contains(w.otherCode))
            }
            r = try await Self.get(app, "/ranking?year=\(Self.year)&town=\(w.otherTown.queryEncoded)", as: s)
            #expect(r.text.captures(#"<tr data-credit-code="([^"]+)""#).isEmpty)

            // the export
            r = try await Self.get(app, "/export/ranking.xlsx?year=\(Self.year)", as: s)
            #expect(r.status == .ok)
            let table = try XLSXTable(data: r.data)
            let townCol = try #require(table.headers.firstIndex(of: "所属镇街"))
            let codeCol = try #require(table.headers.firstIndex(of: "统一社会信用代码"))
            var exported: [(String, String)] = []
            try table.forEachRow { _, cells in exported.append((cells[codeCol], cells[townCol])) }
            #expect(exported.count == mine.count)
            #expect(Set(exported.map(\.1)) == [home])
            #expect(Set(exported.map(\.0)) == Set(mine.map(\.creditCode)))

            // one enterprise: its own town's yes, another town's is not found
            #expect(try await Self.get(app, "/enterprises/\(w.townCode)?year=\(Self.year)", as: s).status == .ok)
            #expect(try await Self.get(app, "/api/v1/enterprises/\(w.townCode)", as: s).status == .ok)
            #expect(try await Self.get(app, "/enterprises/\(w.otherCode)?year=\(Self.year)", as: s).status == .notFound)
            #expect(try await Self.get(app, "/enterprises/\(w.otherCode)?year=2024", as: s).status == .notFound)
            #expect(try await Self.get(app, "/api/v1/enterprises/\(w.otherCode)", as: s).status == .notFound)
            #expect(try await Self.get(app, "/api/v1/enterprises/\(w.otherCode)?year=2024", as: s).status == .notFound)
        }
    }

    @Test("an enterprise user reads only its own enterprise")
    func enterpriseUserIsFiltered() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let s = try await Self.session(app, w.account(.enterprise).id)
            let r = try await Self.get(app, "/api/v1/enterprises/\(w.ownCode)", as: s)
            #expect(r.status == .ok)
            let result = try Self.json(r)["result"] as? [String: Any]
            #expect(result?["credit_code"] as? String == w.ownCode)
            #expect(try await Self.get(app, "/enterprises/\(w.ownCode)?year=\(Self.year)", as: s).status == .ok)
            for code in [w.townCode, w.otherCode] {
                for path in ["/api/v1/enterprises/\(code)", "/api/v1/enterprises/\(code)?year=2024", "/enterprises/\(code)?year=\(Self.year)"] {
                    let st = try await Self.get(app, path, as: s).status
                    #expect(st == .notFound || st == .forbidden, "\(path): \(st)")
                }
            }
            #expect(try await Self.get(app, "/api/v1/results?year=\(Self.year)", as: s).status == .forbidden)
            #expect(try await Self.get(app, "/export/ranking.xlsx?year=\(Self.year)", as: s).status == .forbidden)
        }
    }

    @Test("guessing another town's or another enterprise's case (appeal) id gives nothing")
    func appealIDsAreScoped() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            func file(_ code: String, _ town: String) async throws -> Int64 {
                try await app.store.fileAppeal(year: Self.year, creditCode: code, town: town, field: .tax, currentValue: 100, claimedValue: 120,
                                               reason: "测试", attachmentName: "证明.pdf", attachment: Data("%PDF-1.4\n%%EOF\n".utf8), actor: "test")
            }
            let inTown = try await file(w.townCode, Self.homeTown)
            let elsewhere = try await file(w.otherCode, w.otherTown)
            // both replied, so that rating them is a legal move for their own enterprise
            for id in [inTown, elsewhere] {
                try await app.store.moveAppeal(id: id, to: .accepted, actor: "hq")
                try await app.store.decideAppeal(id: id, outcome: .rejected, answer: "驳回", correctedValue: nil, rules: .default,
                                                 rulesYAML: defaultRulesYAML, actor: "hq")
            }
            let town = try await Self.session(app, w.account(.town).id)
            let ent = try await Self.session(app, w.account(.enterprise).id)

            // lists
            var r = try await Self.get(app, "/api/v1/appeals", as: town)
            #expect(r.status == .ok)
            var list = try #require(try JSONSerialization.jsonObject(with: r.data) as? [[String: Any]])
            #expect(Set(list.compactMap { $0["town"] as? String }) == [Self.homeTown])
            #expect(Set(list.compactMap { $0["id"] as? Int }).isSuperset(of: [Int(inTown)]))
            #expect(!list.contains { ($0["id"] as? Int) == Int(elsewhere) })
            r = try await Self.get(app, "/api/v1/appeals", as: ent)
            list = try #require(try JSONSerialization.jsonObject(with: r.data) as? [[String: Any]])
            #expect(Set(list.compactMap { $0["credit_code"] as? String }).isSubset(of: [w.ownCode]))
            r = try await Self.get(app, "/appeals", as: town)
            #expect(r.status == .ok && !r.text.contains(w.otherCode))

            // one appeal by its id
            for path in ["/appeals/\(elsewhere)", "/api/v1/appeals/\(elsewhere)", "/appeals/\(elsewhere)/attachment"] {
                let st = try await Self.get(app, path, as: town).status
                #expect(st == .notFound || st == .forbidden, "town user, \(path): \(st)")
            }
            #expect(try await Self.get(app, "/api/v1/appeals/\(inTown)", as: town).status == .ok)
            for id in [inTown, elsewhere] {
                for path in ["/appeals/\(id)", "/api/v1/appeals/\(id)", "/appeals/\(id)/attachment"] {
                    let st = try await Self.get(app, path, as: ent).status
                    #expect(st == .notFound || st == .forbidden, "enterprise user, \(path): \(st)")
                }
                // nor can it act on it
                let before = try await app.store.appeal(id: id)?.state
                r = try await Self.send(app, .POST, "/api/v1/appeals/\(id)/rate", headers: ent.postHeaders.adding("Content-Type", "application/json"),
                                        body: ByteBuffer(string: #"{"rating":5}"#))
                #expect(r.status == .notFound || r.status == .forbidden, "rate \(id): \(r.status)")
                #expect(try await app.store.appeal(id: id)?.state == before)
            }
        }
    }

    @Test("roles other than admin and headquarters do not see a draft year")
    func draftsAreHidden() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            try await app.store.setPublication(year: Self.year, status: .draft, start: nil, end: nil, actor: "test")
            let town = try await Self.session(app, w.account(.town).id)
            let hq = try await Self.session(app, w.account(.headquarters).id)
            var r = try await Self.get(app, "/api/v1/years", as: town)
            #expect((try Self.json(r)["evaluated"] as? [Int]) == [2024])
            r = try await Self.get(app, "/api/v1/years", as: hq)
            #expect((try Self.json(r)["evaluated"] as? [Int]) == [2025, 2024])
            r = try await Self.get(app, "/api/v1/results?year=\(Self.year)", as: town)
            let draftTotal = r.status == .notFound ? 0 : try Self.json(r)["total"] as? Int
            #expect(draftTotal == 0)
            #expect(try await Self.get(app, "/api/v1/enterprises/\(w.townCode)?year=\(Self.year)", as: town).status == .notFound)
            #expect(try await Self.get(app, "/export/ranking.xlsx?year=\(Self.year)", as: town).status == .notFound)
            r = try await Self.get(app, "/api/v1/enterprises/\(w.townCode)", as: town)
            #expect(r.status == .ok)
            let history = try Self.json(r)["history"] as? [[String: Any]] ?? []
            #expect(history.compactMap { $0["year"] as? Int } == [2024], "the draft year is not in the history either")
            let own = try await Self.session(app, w.account(.enterprise).id)
            #expect(try await Self.get(app, "/api/v1/enterprises/\(w.ownCode)?year=\(Self.year)", as: own).status == .notFound)
            #expect(try await Self.get(app, "/api/v1/enterprises/\(w.townCode)?year=\(Self.year)", as: hq).status == .ok)
        }
    }

    // MARK: - sign-in

    @Test("sign-in: the right password opens a session; a wrong one is refused; both are audited with the address")
    func signInAndAudit() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = w.account(.headquarters)
            let sessions = try await Self.count(app, "sessions")

            var r = try await Self.signIn(app, hq.login, "wrong-password", from: "203.0.113.9")
            #expect(r.status == .unauthorized)
            #expect(r.text.contains("用户名或密码错误"))
            #expect(r.cookie(SessionPolicy.cookie) == nil)
            #expect(try await Self.count(app, "sessions") == sessions)
            var audit = try await app.store.auditLog(limit: 5)
            #expect(audit.first?.action == "auth.failure" && audit.first?.actor == hq.login)
            #expect(audit.first?.detail?.contains("203.0.113.9") == true)

            // an unknown user: the same answer
            r = try await Self.signIn(app, "nobody", "wrong-password", from: "203.0.113.9")
            #expect(r.status == .unauthorized && r.text.contains("用户名或密码错误"))

            r = try await Self.signIn(app, hq.login, hq.password, from: "203.0.113.10")
            #expect(r.status == .seeOther && r.location == "/ranking")
            let token = try #require(r.cookie(SessionPolicy.cookie))
            let setCookie = r.headers[.setCookie].first { $0.hasPrefix(SessionPolicy.cookie + "=") } ?? ""
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax"), "\(setCookie)")
            audit = try await app.store.auditLog(limit: 5)
            #expect(audit.first?.action == "auth.sign_in" && audit.first?.actor == hq.login)
            #expect(audit.first?.detail?.contains("203.0.113.10") == true)
            // the database keeps only the keyed hash of the session token
            let ids = try await app.store.sql.select().column("id").from("sessions").all(decodingColumn: "id", as: String.self)
            #expect(!ids.contains(token) && ids.contains(app.secretKey.hash(token)))
            // the cookie works
            r = try await Self.send(app, .GET, "/ranking", headers: ["Cookie": "\(SessionPolicy.cookie)=\(token)"])
            #expect(r.status == .ok && r.text.contains(#"id="current-user""#))
            // the pre-session cookie is strict and HttpOnly
            let page = try await Self.send(app, .GET, "/login")
            let pre = page.headers[.setCookie].first { $0.hasPrefix(SessionPolicy.preSessionCookie + "=") } ?? ""
            #expect(pre.contains("HttpOnly") && pre.contains("SameSite=Strict"), "\(pre)")
        }
    }

    @Test("five wrong passwords lock the account until locked_until, even against the right password")
    func lockout() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let bank = w.account(.bank)
            for i in 1...SessionPolicy.maxFailuresPerAccount {
                let r = try await Self.signIn(app, bank.login, "wrong-\(i)", from: "203.0.113.20")
                #expect(r.status == .unauthorized, "attempt \(i)")
            }
            let locked = try #require(try await app.store.user(login: bank.login)?.lockedUntil)
            #expect(locked > Date().addingTimeInterval(10 * 60))
            var r = try await Self.signIn(app, bank.login, bank.password, from: "203.0.113.21")
            #expect(r.status == .tooManyRequests)
            #expect(r.text.contains("锁定"))
            #expect(r.cookie(SessionPolicy.cookie) == nil)
            #expect(try await app.store.auditLog(limit: 1).first?.action == "auth.locked")
            // the lock ends at locked_until
            try await app.store.sql.update("users").set("locked_until", to: Date().addingTimeInterval(-1))
                .where("id", .equal, bank.id).run()
            r = try await Self.signIn(app, bank.login, bank.password, from: "203.0.113.21")
            #expect(r.status == .seeOther && r.location == "/bank")
            #expect(r.cookie(SessionPolicy.cookie) != nil)
            #expect(try await app.store.user(login: bank.login)?.failedAttempts == 0)
        }
    }

    @Test("twenty failures from one address block sign-in from that address (429), not from others")
    func addressRateLimit() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = w.account(.headquarters)
            for i in 1...SessionPolicy.maxFailuresPerAddress {
                // a different (unknown) user each time: the per-account lock does not apply
                let r = try await Self.signIn(app, "guess\(i)", "password\(i)", from: "203.0.113.30")
                #expect(r.status == .unauthorized, "attempt \(i)")
            }
            var r = try await Self.signIn(app, hq.login, hq.password, from: "203.0.113.30")
            #expect(r.status == .tooManyRequests)
            #expect(r.cookie(SessionPolicy.cookie) == nil)
            #expect(try await app.store.auditLog(limit: 1).first?.action == "auth.rate_limited")
            r = try await Self.signIn(app, hq.login, hq.password, from: "203.0.113.31")
            #expect(r.status == .seeOther)
        }
    }

    @Test("X-Forwarded-For is believed from trusted proxies only: the right-most address they did not write")
    func clientAddressBehindProxy() {
        let trusted: Set<String> = ["10.0.0.2", "10.0.0.3", "::1"]
        #expect(ClientAddress.resolve(peer: "203.0.113.9", forwardedFor: ["1.2.3.4"], trusted: trusted) == "203.0.113.9")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: [], trusted: trusted) == "10.0.0.2")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: ["198.51.100.7"], trusted: trusted) == "198.51.100.7")
        // a client's own header is kept by the proxy on the left: not believed
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: ["6.6.6.6, 198.51.100.7"], trusted: trusted) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: ["6.6.6.6", "198.51.100.7, 10.0.0.3"], trusted: trusted) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "::1", forwardedFor: ["[2001:DB8::5]"], trusted: trusted) == "2001:db8::5")
        // garbage where a proxy would have written an address: the last good hop
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: ["<script>"], trusted: trusted) == "10.0.0.2")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: ["10.0.0.3"], trusted: trusted) == "10.0.0.3")
        #expect(ClientAddress.resolve(peer: nil, forwardedFor: ["1.2.3.4"], trusted: trusted) == "unknown")
        #expect(ServerConfig().trustedProxies.isEmpty)
    }

    @Test("behind a trusted proxy the sign-in limit and the audit log see each client's address, not the proxy's")
    func addressRateLimitBehindProxy() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = w.account(.headquarters)
            app.serverConfig.trustedProxies = ["192.0.2.1"]
            let proxy = "192.0.2.1"
            for i in 1...SessionPolicy.maxFailuresPerAddress {
                let r = try await Self.signIn(app, "guess\(i)", "password\(i)", from: proxy, headers: ["X-Forwarded-For": "203.0.113.40"])
                #expect(r.status == .unauthorized, "attempt \(i)")
            }
            #expect(try await app.store.auditLog(limit: 1).first?.detail?.hasPrefix("203.0.113.40") == true)
            var r = try await Self.signIn(app, hq.login, hq.password, from: proxy, headers: ["X-Forwarded-For": "203.0.113.40"])
            #expect(r.status == .tooManyRequests)
            // another client through the same proxy is not blocked
            r = try await Self.signIn(app, hq.login, hq.password, from: proxy, headers: ["X-Forwarded-For": "203.0.113.41"])
            #expect(r.status == .seeOther)
            // a client that is not a trusted proxy cannot pick its address with the header
            for i in 1...SessionPolicy.maxFailuresPerAddress {
                _ = try await Self.signIn(app, "guess\(i)", "password\(i)", from: "198.51.100.60", headers: ["X-Forwarded-For": "203.0.113.\(100 + i)"])
            }
            r = try await Self.signIn(app, hq.login, hq.password, from: "198.51.100.60", headers: ["X-Forwarded-For": "203.0.113.99"])
            #expect(r.status == .tooManyRequests)
        }
    }

    @Test("an expired or idle session is refused: pages redirect to /login, the API answers 401")
    func expiredSession() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = w.account(.headquarters)
            for column in ["expires_at", "last_seen"] {
                let s = try await Self.session(app, hq.id)
                #expect(try await Self.get(app, "/ranking", as: s).status == .ok)
                let past = column == "expires_at" ? Date().addingTimeInterval(-60) : Date().addingTimeInterval(-SessionPolicy.idle - 60)
                try await app.store.sql.update("sessions").set(SQLIdentifier(column), to: SQLBind(past))
                    .where("id", .equal, app.secretKey.hash(s.token)).run()
                let page = try await Self.get(app, "/ranking?year=2025", as: s)
                #expect([.seeOther, .found].contains(page.status), "\(column)")
                #expect(page.location == "/login?next=%2Franking%3Fyear%3D2025", "\(page.location ?? "")")
                #expect(try await Self.get(app, "/api/v1/results", as: s).status == .unauthorized, "\(column)")
                #expect(try await app.store.session(idHash: app.secretKey.hash(s.token)) == nil, "the expired session is removed")
            }
            // a made-up cookie is nobody
            let r = try await Self.send(app, .GET, "/api/v1/results", headers: ["Cookie": "\(SessionPolicy.cookie)=forged"])
            #expect(r.status == .unauthorized)
        }
    }

    @Test("a created account must change its password before anything else")
    func forcedPasswordChange() async throws {
        try await TestApp.with { app in
            let s = try await TestAuth.session(app, .headquarters, mustChange: true)
            let page = try await Self.get(app, "/ranking", as: s)
            #expect(page.status == .seeOther && page.location == "/account/password")
            #expect(try await Self.get(app, "/api/v1/results", as: s).status == .forbidden)
            #expect(try await Self.get(app, "/account/password", as: s).status == .ok)
        }
    }

    // MARK: - CSRF

    @Test("a state-changing request with a session needs the session's CSRF token; nothing changes without it")
    func csrf() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let s = try await Self.session(app, w.account(.headquarters).id)
            let runs = try await Self.count(app, "evaluation_runs")
            let body = ByteBuffer(string: #"{"year":2025}"#)
            var r = try await Self.send(app, .POST, "/api/v1/evaluations", headers: s.headers.adding("Content-Type", "application/json"), body: body)
            #expect(r.status == .forbidden, "missing token")
            r = try await Self.send(app, .POST, "/api/v1/evaluations",
                                    headers: s.headers.adding("Content-Type", "application/json").adding("X-CSRF-Token", "wrong-\(s.csrf)"), body: body)
            #expect(r.status == .forbidden, "wrong token")
            // another session's token does not do either
            let other = try await Self.session(app, w.account(.admin).id)
            r = try await Self.send(app, .POST, "/api/v1/evaluations",
                                    headers: s.headers.adding("Content-Type", "application/json").adding("X-CSRF-Token", other.csrf), body: body)
            #expect(r.status == .forbidden, "another session's token")
            #expect(try await Self.count(app, "evaluation_runs") == runs, "nothing was evaluated")
            #expect(try await app.store.auditLog(limit: 1).first?.action == "security.csrf_rejected")
            r = try await Self.send(app, .POST, "/api/v1/evaluations", headers: s.postHeaders.adding("Content-Type", "application/json"), body: body)
            #expect(r.status == .ok)
            #expect(try await Self.count(app, "evaluation_runs") == runs + 1)

            // the form field does as well as the header: sign out
            let formType: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded"]
            r = try await Self.send(app, .POST, "/logout", headers: s.headers.adding(contentsOf: formType), body: Self.form([("_csrf", "nope")]))
            #expect(r.status == .forbidden)
            #expect(try await app.store.session(idHash: app.secretKey.hash(s.token)) != nil, "still signed in")
            r = try await Self.send(app, .POST, "/logout", headers: s.headers.adding(contentsOf: formType), body: Self.form([("_csrf", s.csrf)]))
            #expect(r.status == .seeOther && r.location == "/login")
            #expect(try await app.store.session(idHash: app.secretKey.hash(s.token)) == nil, "signed out")
            #expect(try await Self.get(app, "/ranking", as: s).status == .seeOther)
        }
    }

    @Test("the sign-in form needs its pre-session cookie and the matching hidden token")
    func loginCSRF() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = w.account(.headquarters)
            let sessions = try await Self.count(app, "sessions")
            let type: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded"]
            // no cookie
            var r = try await Self.send(app, .POST, "/login", headers: type,
                                        body: Self.form([("login", hq.login), ("password", hq.password), ("_csrf", "abc")]))
            #expect(r.status == .forbidden)
            // a cookie that does not match the form
            r = try await Self.send(app, .POST, "/login", headers: type.adding("Cookie", "\(SessionPolicy.preSessionCookie)=xyz"),
                                    body: Self.form([("login", hq.login), ("password", hq.password), ("_csrf", "abc")]))
            #expect(r.status == .forbidden)
            // no token at all
            r = try await Self.send(app, .POST, "/login", headers: type.adding("Cookie", "\(SessionPolicy.preSessionCookie)=xyz"),
                                    body: Self.form([("login", hq.login), ("password", hq.password)]))
            #expect(r.status == .forbidden)
            #expect(r.cookie(SessionPolicy.cookie) == nil)
            #expect(try await Self.count(app, "sessions") == sessions)
            #expect(!(try await app.store.auditLog(limit: 20)).contains { $0.action == "auth.sign_in" })
        }
    }

    @Test("after sign-in only local paths are followed (no open redirect)")
    func openRedirect() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = w.account(.headquarters)
            for evil in ["//evil.example", "//evil.example/ranking", "https://evil.example/", "/\\evil.example",
                         "/\t/evil.example", "/\n/evil.example", "\\\\evil.example", "javascript:alert(1)"] {
                let r = try await Self.signIn(app, hq.login, hq.password, next: evil)
                #expect(r.status == .seeOther && r.location == "/ranking", "next=\(evil.debugDescription) → \(r.location ?? "")")
                // nor is it put into the form
                let page = try await Self.send(app, .GET, "/login?next=\(evil.queryEncoded)")
                #expect(page.text.contains(#"name="next" value="""#), "next=\(evil.debugDescription) kept in the form")
            }
            let r = try await Self.signIn(app, hq.login, hq.password, next: "/enterprises/\(w.townCode)?year=2025")
            #expect(r.location == "/enterprises/\(w.townCode)?year=2025")
            // an anonymous page request comes back to where it was going
            let page = try await Self.send(app, .GET, "/enterprises/\(w.townCode)?year=2025")
            #expect(page.location == "/login?next=" + "/enterprises/\(w.townCode)?year=2025".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        }
    }

    // MARK: - bearer tokens

    @Test("API tokens: stored as a keyed hash, need no CSRF token, are scoped like their user, and stop when revoked")
    func bearerTokens() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let token = try await AccountTools.issueToken(store: app.store, config: app.serverConfig, login: w.account(.headquarters).login,
                                                          name: "test", actor: "admin")
            let hashes = try await app.store.sql.select().column("token_hash").from("api_tokens")
                .all(decodingColumn: "token_hash", as: String.self)
            #expect(hashes == [app.secretKey.hash(token)] && !hashes.contains(token))
            let bearer: HTTPHeaders = ["Authorization": "Bearer \(token)"]
            var r = try await Self.send(app, .GET, "/api/v1/results?year=2025&per=1", headers: bearer)
            #expect(r.status == .ok)
            r = try await Self.send(app, .POST, "/api/v1/evaluations", headers: bearer.adding("Content-Type", "application/json"),
                                    body: ByteBuffer(string: #"{"year":2025}"#))
            #expect(r.status == .ok, "a bearer request carries no ambient credential and needs no CSRF token")

            let townToken = try await AccountTools.issueToken(store: app.store, config: app.serverConfig, login: w.account(.town).login,
                                                              name: "town", actor: "admin")
            r = try await Self.send(app, .GET, "/api/v1/results?year=2025&per=10000", headers: ["Authorization": "Bearer \(townToken)"])
            let towns = (try Self.json(r)["items"] as? [[String: Any]] ?? []).compactMap { $0["town"] as? String }
            #expect(!towns.isEmpty && Set(towns) == [Self.homeTown])
            r = try await Self.send(app, .POST, "/api/v1/evaluations", headers: ["Authorization": "Bearer \(townToken)", "Content-Type": "application/json"],
                                    body: ByteBuffer(string: #"{"year":2025}"#))
            #expect(r.status == .forbidden)

            let id = try #require(try await app.store.tokens().first { $0.name == "test" }?.id)
            try await app.store.revokeToken(id: id, actor: "admin")
            r = try await Self.send(app, .GET, "/api/v1/results?year=2025&per=1", headers: bearer)
            #expect(r.status == .unauthorized)
            #expect(r.headers.first(name: "WWW-Authenticate") == "Bearer")
            r = try await Self.send(app, .GET, "/api/v1/results", headers: ["Authorization": "Bearer mj_made-up"])
            #expect(r.status == .unauthorized)
            // a disabled user's token stops too
            try await app.store.setDisabled(userID: w.account(.town).id, true, actor: "admin")
            r = try await Self.send(app, .GET, "/api/v1/results", headers: ["Authorization": "Bearer \(townToken)"])
            #expect(r.status == .unauthorized)
        }
    }

    // MARK: - hostile text

    static let sqlTexts = ["' OR 1=1 --", "\"; DROP TABLE users; --", "1); DELETE FROM audit_log; --", "%' OR '1'='1"]
    static let scripts = ["<script>alert(\"x\")</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(2)>"]

    /// The escaped form of a hostile text as `HTML.escape` writes it.
    static func assertEscaped(_ html: String, _ text: String, _ context: String) {
        #expect(!html.contains(text), "\(context): raw \(text)")
        #expect(html.contains(HTMLWriter.escape(text)), "\(context): escaped \(text) not found")
    }

    @Test("SQL-like text in searches, sign-in and imported names is only text")
    func sqlLikeText() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = try await Self.session(app, w.account(.headquarters).id)
            let users = try await Self.count(app, "users"), rows = try await Self.count(app, "enterprise_years")
            for text in Self.sqlTexts {
                var r = try await Self.get(app, "/ranking?year=2025&q=\(text.queryEncoded)", as: hq)
                #expect(r.status == .ok, "\(text)")
                #expect(r.text.captures(#"<tr data-credit-code="([^"]+)""#).isEmpty, "\(text) matched rows")
                r = try await Self.get(app, "/api/v1/results?year=2025&q=\(text.queryEncoded)", as: hq)
                #expect(r.status == .ok)
                let total = try Self.json(r)["total"] as? Int
                #expect(total == 0, "\(text)")
                r = try await Self.get(app, "/export/ranking.xlsx?year=2025&q=\(text.queryEncoded)", as: hq)
                #expect(r.status == .ok)
                r = try await Self.signIn(app, text, text, from: "203.0.113.40")
                #expect(r.status == .unauthorized, "\(text)")
            }
            // names in an import file
            let header = "统一社会信用代码,企业名称,所属镇街,规模,用地面积(亩),评价税收(万元),用电量(万千瓦时)"
            let codes = (1...Self.sqlTexts.count).map { CreditCode.complete("91330784" + String(format: "%09d", 800_000 + $0)) }
            let csv = header + "\n" + zip(codes, Self.sqlTexts).map { code, name in
                "\(code),\"\(name.replacingOccurrences(of: "\"", with: "\"\""))\",古山镇,规下,10,100,50"
            }.joined(separator: "\n") + "\n"
            let r = try await Self.send(app, .POST, "/api/v1/imports/enterprises?year=2025&filename=\("x'; DROP TABLE x; --".queryEncoded)",
                                        headers: hq.postHeaders.adding("Content-Type", "text/csv"), body: ByteBuffer(string: csv))
            #expect(r.status == .created, "\(r.text)")
            #expect(try await Self.count(app, "users") == users)
            #expect(try await Self.count(app, "enterprise_years") == rows + codes.count)
            #expect(try await Self.count(app, "audit_log") > 0)
            let stored = try await app.store.records(year: 2025)
            for (code, name) in zip(codes, Self.sqlTexts) {
                #expect(stored.first { $0.creditCode == code }?.name == name, "stored verbatim")
            }
        }
    }

    @Test("script-like text is escaped wherever it is shown: names, the search box, the sign-in form, user names")
    func scriptLikeText() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = try await Self.session(app, w.account(.headquarters).id)
            let town = try await Self.session(app, w.account(.town).id)
            // enterprises named with markup, imported through the API and evaluated
            let header = "统一社会信用代码,企业名称,所属镇街,规模,用地面积(亩),评价税收(万元),用电量(万千瓦时)"
            let codes = (1...Self.scripts.count).map { CreditCode.complete("91330784" + String(format: "%09d", 900_000 + $0)) }
            let csv = header + "\n" + zip(codes, Self.scripts).map { code, name in
                "\(code),\"\(name.replacingOccurrences(of: "\"", with: "\"\""))有限公司\",古山镇,规下,10,150,120"
            }.joined(separator: "\n") + "\n"
            var r = try await Self.send(app, .POST, "/api/v1/imports/enterprises?year=2025",
                                        headers: hq.postHeaders.adding("Content-Type", "text/csv"), body: ByteBuffer(string: csv))
            #expect(r.status == .created, "\(r.text)")
            r = try await Self.send(app, .POST, "/api/v1/evaluations", headers: hq.postHeaders.adding("Content-Type", "application/json"),
                                    body: ByteBuffer(string: #"{"year":2025}"#))
            #expect(r.status == .ok)
            for (code, text) in zip(codes, Self.scripts) {
                for s in [hq, town] {
                    for path in ["/ranking?year=2025&group=below&q=\(code)", "/enterprises/\(code)?year=2025"] {
                        r = try await Self.get(app, path, as: s)
                        #expect(r.status == .ok, "\(path)")
                        Self.assertEscaped(r.text, text, "\(s.principal.login) \(path)")
                    }
                }
                // the JSON API returns the name as data
                r = try await Self.get(app, "/api/v1/enterprises/\(code)?year=2025", as: hq)
                #expect((try Self.json(r)["result"] as? [String: Any])?["name"] as? String == text + "有限公司")
                // the export keeps it as text
                r = try await Self.get(app, "/export/ranking.xlsx?year=2025&q=\(code)", as: hq)
                let table = try XLSXTable(data: r.data)
                let nameCol = try #require(table.headers.firstIndex(of: "企业名称"))
                var names: [String] = []
                try table.forEachRow { _, cells in names.append(cells[nameCol]) }
                #expect(names == [text + "有限公司"])
            }
            // the search box echo
            for text in Self.scripts {
                r = try await Self.get(app, "/ranking?year=2025&q=\(text.queryEncoded)", as: hq)
                #expect(r.status == .ok)
                Self.assertEscaped(r.text, text, "search echo")
            }
            // the sign-in form echoes the login name
            for text in Self.scripts {
                r = try await Self.signIn(app, text, "x", from: "203.0.113.50")
                #expect(r.status == .unauthorized)
                Self.assertEscaped(r.text, text, "sign-in echo")
            }
            // a user's display name and unit
            let display = Self.scripts[0], unit = Self.scripts[1]
            let id = try await app.store.createUser(.init(login: "xss-user", displayName: display, unit: unit, role: .town, town: Self.homeTown,
                                                          passwordHash: try Bcrypt.hash("Passw0rd!x", cost: 4), mustChangePassword: false),
                                                    actor: "test")
            let xs = try await Self.session(app, id)
            for path in ["/account", "/ranking", "/account/password"] {
                r = try await Self.get(app, path, as: xs)
                #expect(r.status == .ok, "\(path)")
                #expect(!r.text.contains(display) && !r.text.contains(unit), "\(path) shows the raw user name or unit")
            }
            Self.assertEscaped(try await Self.get(app, "/account", as: xs).text, display, "/account display name")
            // and every page without parameters, as the administrator (users list, audit log…)
            let admin = try await Self.session(app, w.account(.admin).id)
            for (m, p, _) in RouteAccess.table where m == .GET && !p.contains(":") && !p.contains("*") {
                r = try await Self.get(app, p, as: admin)
                guard r.headers.contentType?.subType == "html" else { continue }
                for text in Self.scripts { #expect(!r.text.contains(text), "\(p) shows raw \(text)") }
            }
        }
    }

    @Test("pages the administrator marks public open without sign-in; nothing with enterprise data can be")
    func publicPages() async throws {
        try await TestApp.with { app in
            _ = try await Self.world(app)
            #expect(try await Self.send(app, .GET, "/rules").status == .seeOther)
            try await app.store.setSetting("public_pages", "rules,openapi,ranking,enterprises,export,api", actor: "test")
            #expect(try await Self.send(app, .GET, "/rules").status == .ok)
            #expect(try await Self.send(app, .GET, "/api/v1/rules").status == .ok)
            #expect(try await Self.send(app, .GET, "/openapi.json").status == .ok)
            for path in ["/ranking", "/export/ranking.xlsx", "/enterprises/x", "/appeals", "/bank", "/admin/users"] {
                #expect(try await Self.send(app, .GET, path).status == .seeOther, "\(path)")
            }
            for path in ["/api/v1/results", "/api/v1/results/counts", "/api/v1/years", "/api/v1/credit-list"] {
                #expect(try await Self.send(app, .GET, path).status == .unauthorized, "\(path)")
            }
        }
    }

    // MARK: - security headers, secret

    @Test("pages carry the security headers")
    func securityHeaders() async throws {
        try await TestApp.with { app in
            let s = try await TestAuth.hq(app)
            for r in [try await Self.send(app, .GET, "/login"), try await Self.get(app, "/account", as: s)] {
                let csp = r.headers.first(name: "Content-Security-Policy") ?? ""
                #expect(csp.contains("default-src 'self'") && !csp.contains("script-src 'unsafe-inline'"))
                #expect(r.headers.first(name: "X-Content-Type-Options") == "nosniff")
                #expect(r.headers.first(name: "X-Frame-Options") == "DENY")
            }
        }
    }

    @Test("without MUJUN_SECRET the key is generated once into a private file and reused")
    func generatedSecret() throws {
        guard (ProcessInfo.processInfo.environment["MUJUN_SECRET"] ?? "").isEmpty else { return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-secret-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = ServerConfig(databaseURL: "sqlite://:memory:", bcryptCost: 4)
        config.secretFile = dir.appendingPathComponent("secret.key").path
        let a = try SecretKey.load(secret: config.secret, file: config.secretFile)
        let attrs = try FileManager.default.attributesOfItem(atPath: config.secretFile)
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let b = try SecretKey.load(secret: config.secret, file: config.secretFile)
        #expect(a.hash("token") == b.hash("token"))
        config.secret = "test-secret"
        #expect(try SecretKey.load(secret: config.secret, file: config.secretFile).hash("token") != a.hash("token"))
    }

    // MARK: - a real server: uploads

    /// Runs `body` with the application listening on a free local port; requests go through
    /// a real HTTP client (no redirects followed), so the body arrives as a stream and the
    /// client address is real.
    static func live<T>(_ app: Application, _ body: (_ send: (HTTPMethod, String, HTTPHeaders, ByteBuffer?) async throws -> Reply) async throws -> T) async throws -> T {
        try await app.asyncBoot()
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                                configuration: .init(redirectConfiguration: .disallow))
        do {
            let port = try #require(app.http.server.shared.localAddress?.port)
            let result = try await body { method, path, headers, payload in
                let req = try HTTPClient.Request(url: "http://127.0.0.1:\(port)\(path)", method: method, headers: headers,
                                                 body: payload.map { .byteBuffer($0) })
                let res = try await client.execute(request: req).get()
                return Reply(status: res.status, headers: res.headers, body: res.body ?? ByteBuffer())
            }
            try await client.shutdown()
            await app.server.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            await app.server.shutdown()
            throw error
        }
    }

    static func multipart(_ parts: [(name: String, filename: String?, data: String)], boundary: String) -> ByteBuffer {
        var s = ""
        for p in parts {
            s += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(p.name)\"\(p.filename.map { "; filename=\"\($0)\"" } ?? "")\r\n"
            if p.filename != nil { s += "Content-Type: text/csv\r\n" }
            s += "\r\n\(p.data)\r\n"
        }
        return ByteBuffer(string: s + "--\(boundary)--\r\n")
    }

    @Test("an upload over the configured limit is refused with 413 and writes nothing")
    func oversizedUpload() async throws {
        try await TestApp.with(maxUpload: 1 << 20) { app in
            let hq = try await TestAuth.hq(app)
            let token = try await AccountTools.issueToken(store: app.store, config: app.serverConfig, login: hq.principal.login,
                                                          name: "upload", actor: "test")
            let header = "统一社会信用代码,企业名称,所属镇街,规模,用地面积(亩),评价税收(万元),用电量(万千瓦时)\n"
            let row = "\(CreditCode.complete("91330784000000001")),甲公司,古山镇,规下,10,100,50\n"
            let small = header + row
            // 2 MB: the first row, then a long comment-like tail
            let big = small + String(repeating: "x", count: 2 << 20)
            try await Self.live(app) { send in
                var r = try await send(.POST, "/api/v1/imports/enterprises?year=2025",
                                       ["Authorization": "Bearer \(token)", "Content-Type": "text/csv"], ByteBuffer(string: big))
                #expect(r.status == .payloadTooLarge)
                #expect(try await Self.count(app, "enterprise_years") == 0)
                #expect(try await Self.count(app, "import_batches") == 0)
                // the same through the session and a multipart form with the CSRF field
                let boundary = "mujun-test-boundary"
                r = try await send(.POST, "/api/v1/imports/enterprises?year=2025",
                                   ["Cookie": "\(SessionPolicy.cookie)=\(hq.token)", "Content-Type": "multipart/form-data; boundary=\(boundary)"],
                                   Self.multipart([("_csrf", nil, hq.csrf), ("file", "big.csv", big)], boundary: boundary))
                #expect(r.status == .payloadTooLarge)
                #expect(try await Self.count(app, "enterprise_years") == 0)
                // under the limit it loads
                r = try await send(.POST, "/api/v1/imports/enterprises?year=2025",
                                   ["Authorization": "Bearer \(token)", "Content-Type": "text/csv"], ByteBuffer(string: small))
                #expect(r.status == .created, "\(r.text)")
                #expect(try await Self.count(app, "enterprise_years") == 1)
            }
        }
    }

    @Test("a form whose body arrives in pieces still has its CSRF field read (multipart upload with _csrf)")
    func csrfFieldInStreamedForm() async throws {
        try await TestApp.with { app in
            let hq = try await TestAuth.hq(app)
            let header = "统一社会信用代码,企业名称,所属镇街,规模,用地面积(亩),评价税收(万元),用电量(万千瓦时)\n"
            let csv = header + (1...3000).map { i in
                "\(CreditCode.complete("91330784" + String(format: "%09d", i))),企业\(i)有限公司,古山镇,规下,10,\(100 + i % 50),50"
            }.joined(separator: "\n") + "\n"
            #expect(csv.utf8.count > 128 * 1024)
            let boundary = "mujun-test-boundary"
            try await Self.live(app) { send in
                var r = try await send(.POST, "/api/v1/imports/enterprises?year=2025",
                                       ["Cookie": "\(SessionPolicy.cookie)=\(hq.token)", "Content-Type": "multipart/form-data; boundary=\(boundary)"],
                                       Self.multipart([("_csrf", nil, "wrong"), ("file", "a.csv", csv)], boundary: boundary))
                #expect(r.status == .forbidden)
                #expect(try await Self.count(app, "enterprise_years") == 0)
                r = try await send(.POST, "/api/v1/imports/enterprises?year=2025",
                                   ["Cookie": "\(SessionPolicy.cookie)=\(hq.token)", "Content-Type": "multipart/form-data; boundary=\(boundary)"],
                                   Self.multipart([("_csrf", nil, hq.csrf), ("file", "a.csv", csv)], boundary: boundary))
                #expect(r.status == .created, "\(r.status) \(r.text.prefix(300))")
                #expect(try await Self.count(app, "enterprise_years") == 3000)
            }
        }
    }

    @Test("through a real connection the audit log records the client's address")
    func liveSignInAudit() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let hq = w.account(.headquarters)
            try await Self.live(app) { send in
                let page = try await send(.GET, "/login", [:], nil)
                let cookie = try #require(page.cookie(SessionPolicy.preSessionCookie))
                let r = try await send(.POST, "/login",
                                       ["Cookie": "\(SessionPolicy.preSessionCookie)=\(cookie)", "Content-Type": "application/x-www-form-urlencoded"],
                                       Self.form([("login", hq.login), ("password", hq.password), ("_csrf", cookie)]))
                #expect(r.status == .seeOther && r.location == "/ranking")
                let entry = try await app.store.auditLog(limit: 1).first
                #expect(entry?.action == "auth.sign_in" && entry?.detail == "127.0.0.1")
            }
        }
    }
}

extension HTTPHeaders {
    func adding(_ name: String, _ value: String) -> HTTPHeaders {
        var h = self
        h.replaceOrAdd(name: name, value: value)
        return h
    }
    func adding(contentsOf other: HTTPHeaders) -> HTTPHeaders {
        var h = self
        for (k, v) in other { h.replaceOrAdd(name: k, value: v) }
        return h
    }
}
