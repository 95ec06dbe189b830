import Foundation
import Testing
import Vapor
import NIOCore
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// The JSON API of the case engine, through HTTP with sessions and CSRF, as the demo's people:
/// HQ registers and assigns to a department, the wrong unit is refused (403), another unit does
/// not see the case (404), a second accept is 409, the deputy alone rates.
@Suite("Cases API", .serialized)
struct CasesAPITests {
    typealias S = SecurityTests
    static let json: HTTPHeaders = ["Content-Type": "application/json"]

    static func post(_ app: Application, _ path: String, _ s: TestAuth.Session, _ body: String) async throws -> S.Reply {
        try await S.send(app, .POST, path, headers: s.postHeaders.adding(contentsOf: json), body: ByteBuffer(string: body))
    }

    static func object(_ r: S.Reply) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any], "\(r.text)")
    }

    @Test("register → accept (twice: 409) → reply → the deputy rates; wrong unit 403, other unit 404, bad input 400")
    func loopOverHTTP() async throws {
        try await TestApp.with { app in
            let w = try await S.world(app)
            let hq = try await S.session(app, w.account(.headquarters).id)
            let tax = try await S.session(app, w.account(.department).id)
            let town = try await S.session(app, w.account(.town).id)
            let deputy = try await S.session(app, w.account(.requester).id)
            let ent = try await S.session(app, w.account(.enterprise).id)

            var r = try await Self.post(app, "/api/v1/cases", hq, #"{"type": "人大建议", "title": "减轻企业税费负担", "requester": "人大代表", "requester_login": "daibiao", "lead_unit": "市税务局", "co_units": ["古山镇"], "level": "重点"}"#)
            #expect(r.status == .created, "\(r.text)")
            let id = try #require(try Self.object(r)["id"] as? Int)
            r = try await Self.post(app, "/api/v1/cases", hq, #"{"type": "人大建议", "title": "x", "requester": "y", "lead_unit": "不存在局"}"#)
            #expect(r.status == .badRequest && r.text.contains("未知的单位"), "\(r.text)")
            r = try await Self.post(app, "/api/v1/cases", tax, #"{"type": "人大建议", "title": "x", "requester": "y"}"#)
            #expect(r.status == .forbidden)

            // the co-unit (古山镇) sees it but may not accept it; the enterprise does not see it
            r = try await S.send(app, .GET, "/api/v1/cases/\(id)", headers: town.headers)
            #expect(r.status == .ok && r.text.contains("\"accept_basis\""), "\(r.text)")
            r = try await Self.post(app, "/api/v1/cases/\(id)/accept", town, "{}")
            #expect(r.status == .forbidden && r.text.contains("主办单位"), "\(r.text)")
            r = try await S.send(app, .GET, "/api/v1/cases/\(id)", headers: ent.headers)
            #expect(r.status == .notFound)
            // the enterprise sees its own cases only: its appeal (申诉 is a case type of the engine), not this suggestion
            r = try await S.send(app, .GET, "/api/v1/cases", headers: ent.headers)
            #expect(r.status == .ok && !r.text.contains("减轻企业税费负担") && r.text.contains("\"type\":\"appeal\""), "\(r.text)")

            r = try await Self.post(app, "/api/v1/cases/\(id)/accept", tax, #"{"version": 1}"#)
            #expect(r.status == .ok, "\(r.text)")
            let detail = try Self.object(r)
            #expect((detail["case"] as? [String: Any])?["state"] as? String == "handling")
            #expect((detail["actions"] as? [String])?.contains("reply") == true)
            r = try await Self.post(app, "/api/v1/cases/\(id)/accept", tax, "{}")
            #expect(r.status == .conflict && r.text.contains("办理中"), "\(r.text)")
            r = try await S.send(app, .GET, "/api/v1/cases/inbox", headers: tax.headers)
            #expect(r.status == .ok)
            #expect((try Self.object(r)["counts"] as? [String: Int])?["in_progress"] == 1, "\(r.text)")

            r = try await Self.post(app, "/api/v1/cases/\(id)/reply", tax, #"{"category": "B", "head": true, "note": "已列入明年计划"}"#)
            #expect(r.status == .ok, "\(r.text)")
            r = try await Self.post(app, "/api/v1/cases/\(id)/evaluate", ent, #"{"rating": "满意"}"#)
            #expect(r.status == .notFound)
            r = try await Self.post(app, "/api/v1/cases/\(id)/evaluate", deputy, #"{"rating": "不满意", "note": "未解决"}"#)
            #expect(r.status == .ok, "\(r.text)")
            #expect((try Self.object(r)["case"] as? [String: Any])?["state"] as? String == "handling")
            r = try await S.send(app, .GET, "/api/v1/cases?state=handling", headers: deputy.headers)
            #expect(r.status == .ok && r.text.contains("减轻企业税费负担"))
            r = try await S.send(app, .GET, "/api/v1/cases?state=nonsense", headers: hq.headers)
            #expect(r.status == .badRequest)
        }
    }
}
