import Foundation
import Testing
import Vapor
import VaporTesting
import SQLKit
import NIOCore
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// What was found when the server was probed from outside, each with a test that failed
/// before its fix: parameters parsed and bounded in one place, the OpenAPI contract kept,
/// health without details, tokens and a pending password change, the audit actor of a
/// token, unknown user names locking like real ones, static files, oversized inputs.
@Suite("The ground: bounded parameters, the contract, probes from outside", .serialized)
struct GroundTests {
    typealias S = SecurityTests

    // MARK: - every parameter of every endpoint, with extreme values

    /// Values no parameter accepts as a number, or accepts only within its bounds.
    static let extremes = ["9223372036854775807", "200000000000000000", "-9223372036854775808", "-1", "0", "1e400", "abc", ""]

    /// A concrete path for an endpoint's pattern (`:id` → 1, `:code` → a code, `**` → a file).
    static func concrete(_ pattern: String, code: String) -> String {
        "/" + pattern.split(separator: "/").map { seg -> String in
            switch seg {
            case ":code": code
            case ":collectionId": "parcels"
            case "**": "mujun.css"
            case let s where s.hasPrefix(":"): "1"
            default: String(seg)
            }
        }.joined(separator: "/")
    }

    @Test("every query parameter of every GET endpoint: extreme values never crash, out-of-range numbers are 400")
    func extremeParameters() async throws {
        try await TestApp.with { app in
            let w = try await S.world(app)
            // each endpoint is asked by a role that may use it (the parameters are read after the gate)
            var sessions: [Role: TestAuth.Session] = [:]
            for role in Role.allCases { sessions[role] = try await S.session(app, w.account(role).id) }
            func caller(_ e: Endpoint) -> TestAuth.Session {
                guard case .permission(let p) = e.requirement else { return sessions[.admin]! }
                let role = [Role.admin, .headquarters, .town, .enterprise, .bank].first { AccessPolicy.allows($0, p) } ?? .admin
                return sessions[role]!
            }
            let admin = sessions[.admin]!
            let registry = SchemaRegistry()
            var checked = 0
            for e in app.endpoints.endpoints where e.method == .GET {
                let base = Self.concrete(e.path, code: w.ownCode)
                for p in try e.parameterDoc(registry) where !e.pathParameters.contains(p.name) {
                    let numeric = p.schema["type"] == "integer"
                    let max = p.schema["maximum"]
                    for v in Self.extremes {
                        let r = try await S.get(app, base + "?\(p.name)=\(v.queryEncoded)", as: caller(e))
                        #expect(r.status.code < 500, "\(e.path)?\(p.name)=\(v): \(r.status) \(r.text.prefix(200))")
                        if numeric, v != "" || e.kind == .api {
                            let inRange: Bool = {
                                guard let n = Int64(v), case .int(let lo)? = p.schema["minimum"], case .int(let hi)? = max else { return false }
                                return n >= Int64(lo) && n <= Int64(hi)
                            }()
                            if !inRange {
                                #expect(r.status == .badRequest, "\(e.path)?\(p.name)=\(v) answered \(r.status), not 400")
                            }
                        }
                        checked += 1
                    }
                    // a 50,000-character value of any parameter is refused, not passed on to the database
                    let long = try await S.get(app, base + "?\(p.name)=" + String(repeating: "长", count: 50_000).queryEncoded, as: caller(e))
                    #expect(long.status == .badRequest, "\(e.path)?\(p.name)=<50,000 characters> answered \(long.status)")
                }
            }
            #expect(checked > 300, "only \(checked) parameter values were tried")
            // the requests that ended the process before the fix
            let town = try await S.session(app, w.account(.town).id)
            for path in ["/api/v1/results?page=200000000000000000", "/ranking?page=9223372036854775807"] {
                let r = try await S.get(app, path, as: town)
                #expect(r.status == .badRequest, "\(path): \(r.status)")
                #expect(r.text.contains("page"), "\(path): the reason names the parameter")
            }
            let r = try await S.get(app, "/admin/audit?page=9223372036854775807", as: admin)
            #expect(r.status == .badRequest)
            // and the server still answers
            #expect(try await S.get(app, "/api/v1/results?page=1", as: town).status == .ok)
        }
    }

    @Test("unknown enum values and empty ones are refused by the API with the allowed values named; pages read empty as absent")
    func enumValues() async throws {
        try await TestApp.with { app in
            let w = try await S.world(app)
            let hq = try await S.session(app, w.account(.headquarters).id)
            for path in ["/api/v1/results?sort=AAA", "/api/v1/results?group=x", "/api/v1/results?class=E", "/api/v1/results?order=up",
                         "/api/v1/appeals?state=", "/api/v1/appeals?state=nonsense", "/api/v1/results?sort="] {
                let r = try await S.get(app, path, as: hq)
                #expect(r.status == .badRequest, "\(path): \(r.status)")
                let error = try S.json(r)["error"] as? String ?? ""
                #expect(error.contains("参数") && error.contains("/ parameter"), "\(path): \(error)")
            }
            #expect(try S.json(try await S.get(app, "/api/v1/results?sort=AAA", as: hq))["error"] as? String
                    == "参数 sort：应为 rank, total, name, town, land, tax_per_mu, class 之一 / parameter sort: must be one of rank, total, name, town, land, tax_per_mu, class")
            // a form's empty select means "all" on a page
            #expect(try await S.get(app, "/ranking?year=2025&group=above&class=&town=&q=", as: hq).status == .ok)
            #expect(try await S.get(app, "/appeals?year=&state=", as: hq).status == .ok)
            // a parameter given twice is refused
            #expect(try await S.get(app, "/api/v1/results?page=1&page=2", as: hq).status == .badRequest)
            // too many parameters: 400, not a slow request
            let many = (0..<5_000).map { "p\($0)=1" }.joined(separator: "&")
            #expect(try await S.get(app, "/api/v1/results?\(many)", as: hq).status == .badRequest)
        }
    }

    @Test("a year in a JSON body: 0 and a huge number are both 400 with the bounds named; an unknown year with no data is 422")
    func yearsInBodies() async throws {
        try await TestApp.with { app in
            let w = try await S.world(app)
            let hq = try await S.session(app, w.account(.headquarters).id)
            for body in [#"{"year":0}"#, #"{"year":99999999999999999999}"#, #"{"year":"abc"}"#, #"{}"#, #"{"year":2101}"#] {
                let r = try await S.send(app, .POST, "/api/v1/evaluations", headers: hq.postHeaders.adding("Content-Type", "application/json"),
                                         body: ByteBuffer(string: body))
                #expect(r.status == .badRequest, "\(body): \(r.status)")
                #expect((try S.json(r)["error"] as? String ?? "").contains("year"), "\(body): the reason names the field")
            }
            let r = try await S.send(app, .POST, "/api/v1/evaluations", headers: hq.postHeaders.adding("Content-Type", "application/json"),
                                     body: ByteBuffer(string: #"{"year":1999}"#))
            #expect(r.status == .unprocessableEntity)
            // an unknown content type: 415, and documented
            let x = try await S.send(app, .POST, "/api/v1/evaluations", headers: hq.postHeaders.adding("Content-Type", "text/plain"),
                                     body: ByteBuffer(string: "2025"))
            #expect(x.status == .unsupportedMediaType)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(app.endpoints.openAPI.utf8)) as? [String: Any])
            let op = ((doc["paths"] as? [String: Any])?["/api/v1/evaluations"] as? [String: Any])?["post"] as? [String: Any]
            #expect((op?["responses"] as? [String: Any])?["415"] != nil, "415 is documented")
        }
    }

    @Test("a method a path does not take is 405 with Allow, for pages, the API and OGC")
    func methodNotAllowed() async throws {
        try await TestApp.with { app in
            let w = try await S.world(app)
            let hq = try await S.session(app, w.account(.headquarters).id)
            for (method, path) in [(HTTPMethod.TRACE, "/api/v1/results"), (.DELETE, "/ranking"), (.PUT, "/ogc/collections"),
                                   (.GET, "/api/v1/evaluations/x"), (.POST, "/api/v1/results")] {
                let r = try await S.send(app, method, path, headers: hq.headers)
                if path == "/api/v1/evaluations/x" { #expect(r.status == .notFound); continue }
                #expect(r.status == .methodNotAllowed, "\(method) \(path): \(r.status)")
                #expect(r.headers.first(name: "Allow")?.contains("GET") == true, "\(method) \(path)")
            }
            // an unknown path is still 404 for a signed-in user, and the sign-in page for nobody
            #expect(try await S.get(app, "/no/such/page", as: hq).status == .notFound)
            #expect(try await S.get(app, "/no/such/page", as: nil).status == .seeOther)
        }
    }

    // MARK: - health

    @Test("/healthz tells an anonymous caller only ok or unavailable, never the database's error")
    func health() async throws {
        try await TestApp.with { app in
            var r = try await S.get(app, "/healthz", as: nil)
            #expect(r.status == .ok)
            #expect(try S.json(r).keys.sorted() == ["status"] && S.json(r)["status"] as? String == "ok")
            // the schema gone: unavailable, and nothing about why
            try await app.store.sql.raw("DROP TABLE data_revisions\(unsafeRaw: TestApp.isPostgres ? " CASCADE" : "")").run()
            r = try await S.get(app, "/healthz", as: nil)
            #expect(r.status == .serviceUnavailable)
            let body = try S.json(r)
            #expect(body["status"] as? String == "unavailable")
            #expect(Set(body.values.compactMap { $0 as? String }) == ["unavailable"], "\(r.text)")
            #expect(!r.text.lowercased().contains("data_revisions") && !r.text.lowercased().contains("table"))
        }
    }

    // MARK: - tokens

    @Test("a token of a user who must change the initial password gets 403 until it is changed")
    func tokenAndPasswordChange() async throws {
        try await TestApp.with { app in
            let w = try await S.world(app)
            let town = w.account(.town)
            let token = try await app.services().accounts.issueToken(login: town.login, name: "脚本").token
            let bearer: HTTPHeaders = ["Authorization": "Bearer \(token)"]
            #expect(try await S.send(app, .GET, "/api/v1/results", headers: bearer).status == .ok)
            try await app.services().accounts.resetPassword(userID: town.id, password: "Temp#Pass2025")
            var r = try await S.send(app, .GET, "/api/v1/results", headers: bearer)
            #expect(r.status == .forbidden)
            #expect((try S.json(r)["error"] as? String ?? "").contains("请先修改初始密码"))
            // nor can it file or change anything
            r = try await S.send(app, .POST, "/api/v1/evaluations", headers: bearer.adding("Content-Type", "application/json"),
                                 body: ByteBuffer(string: #"{"year":2025}"#))
            #expect(r.status == .forbidden)
            // changed: the token works again
            try await app.store.sql.update("users").set("must_change_password", to: false).where("id", .equal, town.id).run()
            #expect(try await S.send(app, .GET, "/api/v1/results", headers: bearer).status == .ok)
        }
    }

    @Test("an import and an evaluation made with a token are audited as the token's user, with the token's name")
    func tokenAudit() async throws {
        try await TestApp.with { app in
            let w = try await S.world(app)
            let hq = w.account(.headquarters)
            let token = try await app.services().accounts.issueToken(login: hq.login, name: "夜间同步").token
            let bearer: HTTPHeaders = ["Authorization": "Bearer \(token)"]
            let csv = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../bench/testdata/small.csv").standardized, encoding: .utf8)
            var r = try await S.send(app, .POST, "/api/v1/imports/enterprises?year=2025&filename=t.csv",
                                     headers: bearer.adding("Content-Type", "text/csv"), body: ByteBuffer(string: csv))
            #expect(r.status == .created, "\(r.text.prefix(300))")
            r = try await S.send(app, .POST, "/api/v1/evaluations", headers: bearer.adding("Content-Type", "application/json"),
                                 body: ByteBuffer(string: #"{"year":2025}"#))
            #expect(r.status == .ok)
            for action in ["import.enterprises", "evaluation.run"] {
                let entries = try await app.store.auditLog(.init(action: action)).entries
                let e = try #require(entries.first, "no \(action) entry")
                #expect(e.actor == hq.login, "\(action) audited as \(e.actor)")
                #expect(e.detail?.contains("API 令牌「夜间同步」") == true, "\(action): \(e.detail ?? "")")
                #expect(!entries.contains { $0.actor == "api" })
            }
        }
    }

    // MARK: - sign-in

    @Test("five wrong passwords for an unknown name answer exactly as for a real account: 429, locked")
    func unknownNamesLockToo() async throws {
        try await TestApp.with { app in
            let w = try await S.world(app)
            var known: [HTTPResponseStatus] = [], unknown: [HTTPResponseStatus] = []
            var knownText = "", unknownText = ""
            for i in 0...SessionPolicy.maxFailuresPerAccount {
                let a = try await S.signIn(app, w.account(.town).login, "wrong-\(i)", from: "198.51.100.\(10 + i)")
                let b = try await S.signIn(app, "no.such.user", "wrong-\(i)", from: "198.51.100.\(40 + i)")
                known.append(a.status); unknown.append(b.status)
                knownText = a.text.captures(#"id="login-error"[^>]*>([^<]*)<"#).first ?? ""
                unknownText = b.text.captures(#"id="login-error"[^>]*>([^<]*)<"#).first ?? ""
            }
            #expect(known == unknown, "\(known) vs \(unknown)")
            #expect(known.last == .tooManyRequests)
            #expect(unknownText == knownText && knownText.contains("账户已临时锁定"), "\(unknownText) / \(knownText)")
        }
    }

    // MARK: - static files and odd bodies

    @Test("a missing static file is 404; a folder or a path out of Public/ is 404; the real one is served")
    func staticFiles() async throws {
        try await TestApp.with { app in
            for path in ["/static/nope.css", "/static/../Package.swift", "/static/.hidden", "/vendor/nope.js"] {
                let r = try await S.send(app, .GET, path)
                #expect(r.status == .notFound, "\(path): \(r.status)")
            }
            let css = try await S.send(app, .GET, "/static/mujun.css")
            #expect(css.status == .ok && css.text.contains(".card"))
            #expect(app.staticFiles.publicDirectory.hasSuffix("/Public"))
        }
    }

    @Test("an empty or malformed upload is 400, not 500")
    func emptyUploads() async throws {
        try await TestApp.with { app in
            let w = try await S.world(app)
            let hq = try await S.session(app, w.account(.headquarters).id)
            let boundary = "xyzzy"
            for body in ["", "--\(boundary)--\r\n", "--\(boundary)\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\n1\r\n--\(boundary)--\r\n"] {
                let r = try await S.send(app, .POST, "/api/v1/imports/enterprises?year=2025",
                                         headers: hq.postHeaders.adding("Content-Type", "multipart/form-data; boundary=\(boundary)"),
                                         body: body.isEmpty ? nil : ByteBuffer(string: body))
                #expect(r.status == .badRequest, "\(body.debugDescription): \(r.status) \(r.text.prefix(200))")
            }
            let r = try await S.send(app, .POST, "/api/v1/imports/enterprises?year=2025", headers: hq.postHeaders)
            #expect(r.status == .badRequest)
        }
    }
    @Test("a multipart body whose part header has a byte outside ASCII, or no colon, is 400 on every multipart endpoint; the server lives on")
    func nonASCIIMultipartHeaders() async throws {
        try await TestApp.with { app in
            let w = try await S.world(app)
            let boundary = "mujunBoundary"
            let bodies: [(String, [UInt8])] = [
                ("a header name with é", Array("--\(boundary)\r\nContent-Disposit".utf8) + [0xC3, 0xA9] + Array("on: form-data; name=\"file\"\r\n\r\nx\r\n--\(boundary)--\r\n".utf8)),
                ("a header name with 0x80", Array("--\(boundary)\r\n".utf8) + [0x80] + Array(": x\r\n\r\nx\r\n--\(boundary)--\r\n".utf8)),
                ("a header line without a colon", Array("--\(boundary)\r\nContent-Disposition form-data\r\n\r\nx\r\n--\(boundary)--\r\n".utf8)),
            ]
            let multipart = try app.endpoints.endpoints.filter { e in
                try e.bodyDoc?(SchemaRegistry()).types.contains(.multipart) == true
            }
            #expect(multipart.count >= 4, "the imports, appeals, surveys and land imports take multipart bodies")
            for e in multipart {
                let role: Role
                switch e.requirement {
                case .open: Issue.record("\(e.path) takes multipart bodies from anyone"); continue
                case .signedIn: role = .admin
                case .permission(let p):
                    role = try #require(Role.allCases.first { AccessPolicy.allows($0, p) }, "nobody may use \(e.path)")
                }
                let session = try await S.session(app, w.account(role).id)
                let path = Self.concrete(e.path, code: w.ownCode)
                for (what, bytes) in bodies {
                    for csrfInForm in [false, true] {
                        let headers = (csrfInForm ? session.headers : session.postHeaders)
                            .adding("Content-Type", "multipart/form-data; boundary=\(boundary)")
                        let r = try await S.send(app, e.method, path, headers: headers, body: ByteBuffer(bytes: bytes))
                        #expect(r.status == .badRequest, "\(e.method) \(path), \(what), CSRF \(csrfInForm ? "in the form" : "in the header"): \(r.status) \(r.text.prefix(200))")
                    }
                }
            }
            #expect(try await S.send(app, .GET, "/healthz").status == .ok)
        }
    }
}
