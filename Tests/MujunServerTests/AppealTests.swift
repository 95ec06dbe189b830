import Foundation
import Testing
import Vapor
import VaporTesting
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

@Suite("Publication, appeals, the enterprise view and the bank view", .serialized)
struct AppealTests {
    // MARK: helpers

    var today: String { ChinaDay.today() }

    func get(_ app: Application, _ path: String, _ s: TestAuth.Session) async throws -> TestingHTTPResponse {
        try await app.testing().sendRequest(.GET, path, headers: s.headers)
    }

    /// A URL-encoded form POST with the session's cookie and CSRF token.
    func post(_ app: Application, _ path: String, _ s: TestAuth.Session, _ fields: [(String, String)] = []) async throws -> TestingHTTPResponse {
        var headers = s.postHeaders
        headers.contentType = .urlEncodedForm
        let body = fields.map { "\($0.0.queryEncoded)=\($0.1.queryEncoded)" }.joined(separator: "&")
        return try await app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(string: body))
    }

    /// A JSON POST with the session's cookie and CSRF token.
    func postJSON(_ app: Application, _ path: String, _ s: TestAuth.Session, _ json: [String: Any]) async throws -> TestingHTTPResponse {
        var headers = s.postHeaders
        headers.contentType = .json
        let data = try JSONSerialization.data(withJSONObject: json)
        return try await app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(data: data))
    }

    /// A multipart form POST; `csrfInForm` sends the token as the `_csrf` field instead of the header.
    func postMultipart(_ app: Application, _ path: String, _ s: TestAuth.Session, _ fields: [(String, String)],
                       file: (name: String, filename: String, type: String, data: Data)? = nil,
                       csrfInForm: Bool = false) async throws -> TestingHTTPResponse {
        let boundary = "----MujunTestBoundary7MA4YWxkTrZu0gW"
        var body = Data()
        var all = fields
        if csrfInForm { all.append(("_csrf", s.csrf)) }
        for (k, v) in all {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n".utf8))
        }
        if let file {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: \(file.type)\r\n\r\n".utf8))
            body.append(file.data)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        var headers = csrfInForm ? s.headers : s.postHeaders
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        return try await app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(data: body))
    }

    func json(_ res: TestingHTTPResponse) throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(res.body.readableBytesView)) as? [String: Any]) ?? [:]
    }

    func jsonArray(_ res: TestingHTTPResponse) throws -> [[String: Any]] {
        (try JSONSerialization.jsonObject(with: Data(res.body.readableBytesView)) as? [[String: Any]]) ?? []
    }

    /// The appeal id a filing redirected to.
    func redirectedID(_ res: TestingHTTPResponse) -> Int64? {
        res.headers.first(name: .location).flatMap { $0.split(separator: "/").last }.flatMap { Int64($0) }
    }

    /// Opens the publicity period of `year` around today (directly in the store).
    func openPublicity(_ app: Application, _ year: Int) async throws {
        try await app.store.setPublication(year: year, status: .publicity, start: ChinaDay.shift(today, days: -2),
                                           end: ChinaDay.shift(today, days: 5), actor: "test")
    }

    /// An evaluated enterprise of `town` in `year`, with a land area and a tax figure.
    func enterprise(_ app: Application, town: String, year: Int = 2025, cls: String? = nil, skip: Int = 0) async throws -> Store.ResultRow {
        let rows = try await app.store.results(.init(year: year, town: town, cls: cls), page: 1, per: 500).items
            .filter { $0.evaluated && ($0.landMu ?? 0) > 0 }
        try #require(rows.count > skip, "no evaluated enterprise in \(town)")
        return rows[skip]
    }

    func auditActions(_ app: Application) async throws -> [String] {
        try await app.store.auditLog(.init(), limit: 10_000).entries.map(\.action)
    }

    // MARK: the appeal loop

    /// The appeal loop's starting point: the publicity period opened through the page, an
    /// enterprise of 古山镇 signed in, and the form fields of a land-area appeal.
    struct Loop {
        let app: Application
        let hq: TestAuth.Session
        let ent: TestAuth.Session
        let row: Store.ResultRow
        let land: Double
        let claimed: Double
        let base: [(String, String)]
    }

    func openLoop(_ app: Application) async throws -> Loop {
        let hq = try await TestAuth.hq(app)
        let res = try await post(app, "/publish/2025", hq, [("action", "publicity"), ("start", ChinaDay.shift(today, days: -1)),
                                                            ("end", ChinaDay.shift(today, days: 6))])
        #expect(res.status == .seeOther)
        try #require(try await app.store.publication(year: 2025).status == .publicity)
        let row = try await enterprise(app, town: "古山镇")
        let ent = try await TestAuth.session(app, .enterprise, creditCode: row.creditCode)
        let land = try #require(row.landMu)
        let claimed = ((land * 0.5) * 10).rounded() / 10
        let base: [(String, String)] = [("year", "2025"), ("field", "land_mu"), ("claimed_value", formatNumber(claimed)),
                                        ("reason", "厂房部分已退还园区，<script>alert(1)</script> 请按登记面积计算")]
        return Loop(app: app, hq: hq, ent: ent, row: row, land: land, claimed: claimed, base: base)
    }

    static let pdf = Data("%PDF-1.4\n% 不动产权证书\n%%EOF\n".utf8)

    /// Files the loop's appeal with a PDF attachment (CSRF token as a form field, as a browser sends it).
    func file(_ l: Loop) async throws -> Int64 {
        let res = try await postMultipart(l.app, "/my/appeals", l.ent, l.base,
                                          file: ("attachment", "不动产权证书.pdf", "application/pdf", Self.pdf), csrfInForm: true)
        try #require(res.status == .seeOther, "filing answered \(res.status): \(res.body.string.prefix(300))")
        return try #require(redirectedID(res))
    }

    /// Files, accepts and upholds the loop's appeal with a corrected land area (60 % of the figure).
    func uphold(_ l: Loop) async throws -> (id: Int64, corrected: Double) {
        let id = try await file(l)
        var res = try await post(l.app, "/appeals/\(id)/accept", l.hq, [("note", "转自然资源局核对")])
        try #require(res.status == .seeOther)
        let corrected = ((l.land * 0.6) * 10).rounded() / 10
        res = try await post(l.app, "/appeals/\(id)/decide", l.hq, [("outcome", "upheld"), ("corrected_value", formatNumber(corrected)),
                                                                   ("answer", "经核对不动产登记，支持申诉。")])
        try #require(res.status == .seeOther, "upholding answered \(res.status): \(res.body.string.prefix(300))")
        return (id, corrected)
    }

    // The appeal loop through HTTP, in stages: each starts from a fresh demo city and reaches its
    // start with the requests the stages before it test, so one failing stage hides no other.

    @Test("appeal loop 1: the enterprise's own page shows its result, gap, consent, parcels and the appeal form")
    func appealLoopOwnPage() async throws {
        try await TestApp.withDemo { app in
            let l = try await openLoop(app)
            let res = try await get(app, "/my", l.ent)
            #expect(res.status == .ok)
            let html = res.body.string
            #expect(html.contains(HTMLWriter.escape(l.row.name)))
            #expect(html.contains(#"id="final-class""#) && html.contains(#"data-class="\#(l.row.finalClass ?? "exempt")""#))
            #expect(html.contains(#"id="gap""#) && html.contains(#"id="indicators""#) && html.contains(#"id="policies""#))
            #expect(html.contains(#"id="history""#))
            #expect(html.contains(#"id="consent-form""#))
            #expect(html.contains(#"id="my-parcels""#))
            #expect(html.contains(#"id="appeal-form""#) && html.contains(#"enctype="multipart/form-data""#))
            #expect(!html.contains(#"<p class="crumbs">"#), "no link back to the ranking an enterprise may not open")
            #expect(html.contains(#"name="_csrf""#))
        }
    }

    @Test("appeal loop 2: refused inputs answer with a Chinese message each and file nothing")
    func appealLoopRefusedInputs() async throws {
        try await TestApp.withDemo { app in
            let l = try await openLoop(app)
            let (ent, base) = (l.ent, l.base)
            var res = try await postMultipart(app, "/my/appeals", ent, base.map { $0.0 == "claimed_value" ? ($0.0, "-3") : $0 })
            #expect(res.status == .badRequest)
            #expect(res.body.string.contains("不能为负数"))
            res = try await postMultipart(app, "/my/appeals", ent, base.map { $0.0 == "claimed_value" ? ($0.0, "abc") : $0 })
            #expect(res.status == .badRequest)
            #expect(res.body.string.contains("不是有效数字"))
            res = try await postMultipart(app, "/my/appeals", ent, base.map { $0.0 == "reason" ? ($0.0, "  ") : $0 })
            #expect(res.status == .badRequest)
            #expect(res.body.string.contains("请填写申诉理由"))
            res = try await postMultipart(app, "/my/appeals", ent, base.map { $0.0 == "reason" ? ($0.0, String(repeating: "长", count: 2001)) : $0 })
            #expect(res.status == .badRequest)
            res = try await postMultipart(app, "/my/appeals", ent, base, file: ("attachment", "evil.exe", "application/octet-stream", Data("MZ\u{90}".utf8)))
            #expect(res.status == .unsupportedMediaType)
            #expect(res.body.string.contains("附件仅支持 PDF、JPG、PNG"))
            res = try await postMultipart(app, "/my/appeals", ent, base, file: ("attachment", "fake.pdf", "application/pdf", Data("not a pdf".utf8)))
            #expect(res.status == .unsupportedMediaType)
            var big = Data("%PDF-1.4\n".utf8)
            big.append(Data(count: 10 << 20))
            res = try await postMultipart(app, "/my/appeals", ent, base, file: ("attachment", "big.pdf", "application/pdf", big))
            #expect(res.status == .payloadTooLarge)
            #expect(res.body.string.contains("10 MB"))
            #expect(try await app.store.appeals(scope: .all).isEmpty)
            #expect(!(try await auditActions(app)).contains("appeal.file"))
        }
    }

    @Test("appeal loop 3: a filed appeal has its page and its attachment; a second open appeal on the same figure is refused")
    func appealLoopFiled() async throws {
        try await TestApp.withDemo { app in
            let l = try await openLoop(app)
            let id = try await file(l)
            let appeal = try #require(try await app.store.appeal(id: id))
            #expect(appeal.caseState == .assigned && appeal.town == "古山镇" && appeal.creditCode == l.row.creditCode)
            #expect(appeal.currentValue == formatNumber(l.land) && appeal.claimedValue == formatNumber(l.claimed))
            var res = try await postMultipart(app, "/my/appeals", l.ent, l.base)
            #expect(res.status == .conflict)

            res = try await get(app, "/appeals/\(id)", l.ent)
            #expect(res.status == .ok)
            let html = res.body.string
            #expect(html.contains(#"data-state="assigned""#) && html.contains("用地面积"))
            #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>alert(1)"))
            #expect(html.contains("/appeals/\(id)/attachment") && !html.contains(#"id="rate-form""#))
            res = try await get(app, "/appeals/\(id)/attachment", l.ent)
            #expect(res.status == .ok)
            #expect(Data(res.body.readableBytesView) == Self.pdf)
            #expect(res.headers.contentType == HTTPMediaType(type: "application", subType: "pdf"))
            let fileEntry = try await app.store.auditLog(.init(action: "appeal.file")).entries.first
            #expect(fileEntry?.actor == l.ent.principal.login)
            #expect(try await app.store.appeals(scope: .all).count == 1)
        }
    }

    @Test("appeal loop 4: a step out of order answers 409 with the Chinese message, a role that may not act 403")
    func appealLoopRefusedSteps() async throws {
        try await TestApp.withDemo { app in
            let l = try await openLoop(app)
            let id = try await file(l)
            var res = try await post(app, "/appeals/\(id)/decide", l.hq, [("outcome", "upheld"), ("answer", "支持")])
            #expect(res.status == .conflict)
            #expect(res.body.string.contains("不能转为"))
            res = try await post(app, "/appeals/\(id)/rate", l.ent, [("rating", "5")])
            #expect(res.status == .conflict)
            res = try await post(app, "/appeals/\(id)/accept", l.ent)
            #expect(res.status == .forbidden)
            res = try await post(app, "/appeals/\(id)/rate", l.hq, [("rating", "5")])
            #expect(res.status == .forbidden)
            #expect(try await app.store.appeal(id: id)?.caseState == .assigned)
            #expect(try await app.store.services.appeals.events(id: id).map(\.toState) == ["assigned"])
        }
    }

    @Test("appeal loop 5: HQ accepts, then upholds with the corrected figure; the year is re-evaluated and the earlier run kept")
    func appealLoopUpheld() async throws {
        try await TestApp.withDemo { app in
            let l = try await openLoop(app)
            let before = try #require(try await app.store.result(creditCode: l.row.creditCode, year: 2025))
            let runsBefore = try await app.store.runs(year: 2025)
            let id = try await file(l)

            var res = try await get(app, "/appeals/\(id)", l.hq)
            #expect(res.body.string.contains(#"id="accept-form""#))
            res = try await post(app, "/appeals/\(id)/accept", l.hq, [("note", "转自然资源局核对")])
            #expect(res.status == .seeOther)
            #expect(try await app.store.appeal(id: id)?.caseState == .accepted)
            res = try await post(app, "/appeals/\(id)/accept", l.hq)
            #expect(res.status == .conflict)
            res = try await post(app, "/appeals/\(id)/decide", l.hq, [("outcome", "upheld"), ("answer", "")])
            #expect(res.status == .badRequest)
            let corrected = ((l.land * 0.6) * 10).rounded() / 10
            res = try await post(app, "/appeals/\(id)/decide", l.hq, [("outcome", "upheld"), ("corrected_value", formatNumber(corrected)),
                                                                     ("answer", "经核对不动产登记，支持申诉。")])
            #expect(res.status == .seeOther)
            let appeal = try #require(try await app.store.appeal(id: id))
            #expect(appeal.caseState == .replied && appeal.outcome == .upheld)
            #expect(appeal.answer?.contains("经核对不动产登记，支持申诉。") == true)
            #expect(appeal.resultBefore != nil && appeal.resultAfter != nil)

            let after = try #require(try await app.store.result(creditCode: l.row.creditCode, year: 2025))
            #expect(after.landMu == corrected)
            #expect(after.totalScore != before.totalScore)
            let runsAfter = try await app.store.runs(year: 2025)
            #expect(runsAfter.count == runsBefore.count + 1)
            #expect(Set(runsBefore.map(\.id)).isSubset(of: Set(runsAfter.map(\.id))))
            #expect(AppealService.decode(appeal.resultBefore)?.landMu == l.land)
            #expect(AppealService.decode(appeal.resultAfter)?.totalScore == after.totalScore)
            let upheldEntry = try await app.store.auditLog(.init(action: "appeal.upheld")).entries.first
            #expect(upheldEntry?.actor == l.hq.principal.login && upheldEntry?.detail?.contains("→") == true)
        }
    }

    @Test("appeal loop 6: the enterprise sees the answer with before/after and rates it; the appeal closes, every step an event and an audit entry")
    func appealLoopRated() async throws {
        try await TestApp.withDemo { app in
            let l = try await openLoop(app)
            let before = try #require(try await app.store.result(creditCode: l.row.creditCode, year: 2025))
            let (id, _) = try await uphold(l)
            let after = try #require(try await app.store.result(creditCode: l.row.creditCode, year: 2025))

            var res = try await get(app, "/appeals/\(id)", l.ent)
            let html = res.body.string
            #expect(html.contains(#"id="before-after""#) && html.contains(#"id="answer-text""#) && html.contains(#"id="rate-form""#))
            #expect(html.contains(HTML.num(before.totalScore)) && html.contains(HTML.num(after.totalScore)))
            res = try await post(app, "/appeals/\(id)/rate", l.ent, [("rating", "9")])
            #expect(res.status == .badRequest)
            res = try await post(app, "/appeals/\(id)/rate", l.ent, [("rating", "5")])
            #expect(res.status == .seeOther)
            let appeal = try #require(try await app.store.appeal(id: id))
            #expect(appeal.caseState == .closed && appeal.rating == 5)
            res = try await post(app, "/appeals/\(id)/rate", l.ent, [("rating", "4")])
            #expect(res.status == .conflict)
            let events = try await app.store.services.appeals.events(id: id).map(\.toState)
            #expect(events == ["assigned", "accepted", "replied", "evaluated", "closed"])
            // one loop: the appeal's case went round the engine's loop to 已销号
            let c = try #require(try await app.store.appealCase(appealID: id))
            #expect(c.type == "appeal" && c.state == "closed" && c.rating == "satisfied" && c.leadUnit == "指挥部")
            res = try await get(app, "/appeals/\(id)", l.hq)
            #expect(res.body.string.contains(#"id="events""#) && res.body.string.contains("已销号"))

            let actions = try await auditActions(app)
            for a in ["publication.publicity", "appeal.file", "appeal.accepted", "appeal.upheld", "appeal.rate", "evaluation.run", "import.enterprises"] {
                #expect(actions.contains(a), "audit lacks \(a)")
            }
        }
    }

    @Test("appeal loop 7: outside the publicity period the form gives way to its dates and filing is refused")
    func appealLoopOutsidePublicity() async throws {
        try await TestApp.withDemo { app in
            let l = try await openLoop(app)
            try await app.store.setPublication(year: 2025, status: .publicity, start: ChinaDay.shift(today, days: -20),
                                               end: ChinaDay.shift(today, days: -10), actor: "test")
            var res = try await get(app, "/my", l.ent)
            let html = res.body.string
            #expect(!html.contains(#"id="appeal-form""#) && html.contains(#"id="appeal-closed""#))
            #expect(html.contains(ChinaDay.shift(today, days: -20)) && html.contains(ChinaDay.shift(today, days: -10)))
            res = try await postMultipart(app, "/my/appeals", l.ent, l.base)
            #expect(res.status == .conflict)
            #expect(res.body.string.contains("不在公示期内"))
            try await app.store.setPublication(year: 2025, status: .publicity, start: ChinaDay.shift(today, days: 3),
                                               end: ChinaDay.shift(today, days: 10), actor: "test")
            res = try await get(app, "/my", l.ent)
            #expect(res.body.string.contains(#"id="appeal-closed""#) && res.body.string.contains("公示期开始后"))
            #expect(try await app.store.appeals(scope: .all).isEmpty)
        }
    }

    @Test("the JSON API files, lists, accepts, rejects and rates appeals")
    func appealAPI() async throws {
        try await TestApp.withDemo { app in
            try await openPublicity(app, 2025)
            let row = try await enterprise(app, town: "古山镇", skip: 1)
            let ent = try await TestAuth.session(app, .enterprise, creditCode: row.creditCode)
            let hq = try await TestAuth.hq(app)
            let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D])
            var res = try await postJSON(app, "/api/v1/appeals", hq, ["year": 2025, "field": "tax", "claimed_value": 1, "reason": "x"])
            #expect(res.status == .forbidden)
            res = try await postJSON(app, "/api/v1/appeals", ent, ["year": 2025, "field": "nonsense", "claimed_value": 1, "reason": "x"])
            #expect(res.status == .badRequest)
            #expect(try json(res)["error"] as? String == "请选择申诉的数据项 / choose the figure you dispute")
            res = try await postJSON(app, "/api/v1/appeals", ent, [
                "year": 2025, "field": "tax", "claimed_value": 1234.5, "reason": "汇总纳税部分应计入",
                "attachment": ["filename": "完税证明.png", "data": png.base64EncodedString()],
            ])
            #expect(res.status == .created)
            var body = try json(res)
            let id = try #require((body["id"] as? NSNumber)?.int64Value)
            #expect(body["state"] as? String == "assigned" && body["field_name"] as? String == "评价税收(万元)")
            #expect(body["attachment_url"] as? String == "/appeals/\(id)/attachment")
            #expect(body["enterprise_name"] as? String == row.name)

            res = try await get(app, "/api/v1/appeals", ent)
            #expect(try jsonArray(res).map { ($0["id"] as? NSNumber)?.int64Value } == [id])
            res = try await get(app, "/appeals/\(id)/attachment", hq)
            #expect(Data(res.body.readableBytesView) == png && res.headers.contentType == .png)

            res = try await postJSON(app, "/api/v1/appeals/\(id)/decide", hq, ["outcome": "rejected", "answer": "不予支持"])
            #expect(res.status == .conflict)
            #expect((try json(res)["error"] as? String)?.contains("不能转为") == true)
            res = try await postJSON(app, "/api/v1/appeals/\(id)/accept", hq, [:])
            #expect(res.status == .ok)
            #expect(try json(res)["state"] as? String == "accepted")
            let runs = try await app.store.runs(year: 2025).count
            res = try await postJSON(app, "/api/v1/appeals/\(id)/decide", hq, ["outcome": "rejected", "answer": "经税务局核实，不予支持。"])
            #expect(res.status == .ok)
            body = try json(res)
            #expect(body["state"] as? String == "replied" && body["outcome"] as? String == "rejected")
            #expect(body["after"] == nil || body["after"] is NSNull)
            #expect(try await app.store.runs(year: 2025).count == runs, "a rejected appeal does not re-evaluate")
            res = try await postJSON(app, "/api/v1/appeals/\(id)/rate", ent, ["rating": 0])
            #expect(res.status == .badRequest)
            res = try await postJSON(app, "/api/v1/appeals/\(id)/rate", ent, ["rating": 4])
            #expect(res.status == .ok)
            #expect(try json(res)["state"] as? String == "closed")
            res = try await get(app, "/api/v1/appeals/\(id)", ent)
            body = try json(res)
            let events = (body["events"] as? [[String: Any]] ?? []).compactMap { $0["to_state"] as? String }
            #expect(events == ["assigned", "accepted", "replied", "evaluated", "closed"])
            #expect((body["appeal"] as? [String: Any])?["rating"] as? Int == 4)
            res = try await get(app, "/api/v1/appeals?state=closed&year=2025", hq)
            #expect(try jsonArray(res).count == 1)
            res = try await get(app, "/api/v1/appeals?state=bogus", hq)
            #expect(res.status == .badRequest)
            let actions = try await auditActions(app)
            #expect(actions.contains("appeal.rejected") && actions.contains("appeal.rate"))
        }
    }

    // MARK: scoping

    @Test("a town sees only its town's appeals and an enterprise only its own; other ids answer 404")
    func appealScoping() async throws {
        try await TestApp.withDemo { app in
            let gushan = try await enterprise(app, town: "古山镇")
            let gushan2 = try await enterprise(app, town: "古山镇", skip: 1)
            let dongcheng = try await enterprise(app, town: "东城街道")
            let pdf = Data("%PDF-1.4\n".utf8)
            func file(_ r: Store.ResultRow) async throws -> Int64 {
                try await app.store.fileAppeal(year: 2025, creditCode: r.creditCode, town: r.town, field: .employees, currentValue: 10,
                                               claimedValue: 20, reason: "人数有误", attachmentName: "a.pdf", attachment: pdf, actor: "test")
            }
            let a1 = try await file(gushan), a2 = try await file(gushan2), b1 = try await file(dongcheng)

            let town = try await TestAuth.session(app, .town, town: "古山镇")
            var res = try await get(app, "/appeals", town)
            #expect(res.status == .ok)
            #expect(Set(res.body.string.captures(#"<tr data-appeal-id="(\d+)""#)) == ["\(a1)", "\(a2)"])
            res = try await get(app, "/api/v1/appeals", town)
            #expect(Set(try jsonArray(res).compactMap { ($0["id"] as? NSNumber)?.int64Value }) == [a1, a2])
            res = try await get(app, "/appeals/\(a1)", town)
            #expect(res.status == .ok)
            #expect(!res.body.string.contains(#"id="accept-form""#))
            for path in ["/appeals/\(b1)", "/appeals/\(b1)/attachment", "/api/v1/appeals/\(b1)", "/appeals/999999"] {
                res = try await get(app, path, town)
                #expect(res.status == .notFound, "\(path)")
            }
            res = try await post(app, "/appeals/\(a1)/accept", town)
            #expect(res.status == .forbidden)

            let ent = try await TestAuth.session(app, .enterprise, creditCode: gushan.creditCode)
            res = try await get(app, "/appeals", ent)
            #expect(res.body.string.captures(#"<tr data-appeal-id="(\d+)""#) == ["\(a1)"])
            for path in ["/appeals/\(a2)", "/appeals/\(a2)/attachment", "/api/v1/appeals/\(b1)"] {
                res = try await get(app, path, ent)
                #expect(res.status == .notFound, "\(path)")
            }
            res = try await get(app, "/appeals/\(a1)/attachment", ent)
            #expect(res.status == .ok)
            // rating another enterprise's appeal: 404, not 409
            res = try await post(app, "/appeals/\(a2)/rate", ent, [("rating", "5")])
            #expect(res.status == .notFound)

            let hq = try await TestAuth.hq(app)
            res = try await get(app, "/appeals?year=2025", hq)
            #expect(Set(res.body.string.captures(#"<tr data-appeal-id="(\d+)""#)) == ["\(a1)", "\(a2)", "\(b1)"])
            res = try await get(app, "/appeals?state=accepted", hq)
            #expect(res.body.string.captures(#"<tr data-appeal-id="(\d+)""#).isEmpty)

            // roles without appeals
            for role in [Role.bank, .requester, .department] {
                let s = try await TestAuth.session(app, role)
                res = try await get(app, "/appeals", s)
                #expect(res.status == .forbidden, "\(role)")
                res = try await get(app, "/my", s)
                #expect(res.status == .forbidden, "\(role)")
            }
            // the enterprise page is only for enterprises
            res = try await get(app, "/my", hq)
            #expect(res.status == .forbidden)
            res = try await get(app, "/my", town)
            #expect(res.status == .forbidden)
        }
    }

    // MARK: publication

    @Test("a draft year is invisible to enterprises and towns until the publicity period starts")
    func publication() async throws {
        try await TestApp.withDemo { app in
            let hq = try await TestAuth.hq(app)
            let row = try await enterprise(app, town: "古山镇")
            let ent = try await TestAuth.session(app, .enterprise, creditCode: row.creditCode)
            let town = try await TestAuth.session(app, .town, town: "古山镇")

            // both years are drafts
            var res = try await get(app, "/my", ent)
            #expect(res.status == .ok)
            #expect(res.body.string.contains(#"id="no-result""#) && !res.body.string.contains(#"id="final-class""#))
            res = try await get(app, "/api/v1/enterprises/\(row.creditCode)", ent)
            #expect(res.status == .notFound)
            res = try await get(app, "/api/v1/enterprises/\(row.creditCode)?year=2025", town)
            #expect(res.status == .notFound)
            res = try await get(app, "/enterprises/\(row.creditCode)?year=2025", town)
            #expect(res.status == .notFound)
            res = try await get(app, "/api/v1/enterprises/\(row.creditCode)?year=2025", hq)
            #expect(res.status == .ok)

            // the publication page and its validation
            res = try await get(app, "/publish", hq)
            #expect(res.status == .ok)
            #expect(res.body.string.contains(#"data-year="2025" data-status="draft""#))
            res = try await get(app, "/publish", town)
            #expect(res.status == .forbidden)
            res = try await post(app, "/publish/2025", town, [("action", "final")])
            #expect(res.status == .forbidden)
            res = try await post(app, "/publish/2025", hq, [("action", "publicity"), ("start", "2025-05-10"), ("end", "2025-05-01")])
            #expect(res.status == .badRequest)
            #expect(res.body.string.contains("不能早于开始日期"))
            res = try await post(app, "/publish/2025", hq, [("action", "publicity"), ("start", "2025-02-30"), ("end", "2025-03-05")])
            #expect(res.status == .badRequest)
            res = try await post(app, "/publish/2025", hq, [("action", "final")])
            #expect(res.status == .conflict)
            res = try await post(app, "/publish/2019", hq, [("action", "publicity"), ("start", today), ("end", today)])
            #expect(res.status == .notFound)
            #expect(try await app.store.publication(year: 2025).status == .draft)

            // publicity starts: visible to the enterprise and the town
            let start = ChinaDay.shift(today, days: -1), end = ChinaDay.shift(today, days: 7)
            res = try await post(app, "/publish/2025", hq, [("action", "publicity"), ("start", start), ("end", end)])
            #expect(res.status == .seeOther)
            res = try await get(app, "/my", ent)
            #expect(res.body.string.contains(#"id="final-class""#) && res.body.string.contains(#"data-status="publicity""#))
            #expect(res.body.string.contains(#"id="appeal-form""#))
            res = try await get(app, "/api/v1/enterprises/\(row.creditCode)", ent)
            #expect(res.status == .ok)
            res = try await get(app, "/api/v1/enterprises/\(row.creditCode)?year=2025", town)
            #expect(res.status == .ok)
            // 2024 is still a draft for them
            res = try await get(app, "/api/v1/enterprises/\(row.creditCode)?year=2024", town)
            #expect(res.status == .notFound)

            // an open appeal blocks finalisation until it is answered
            let appeal = try await app.store.fileAppeal(year: 2025, creditCode: row.creditCode, town: row.town, field: .employees,
                                                        currentValue: nil, claimedValue: 50, reason: "r", attachmentName: nil,
                                                        attachment: nil, actor: "test")
            res = try await post(app, "/publish/2025", hq, [("action", "final")])
            #expect(res.status == .conflict)
            #expect(res.body.string.contains("未答复"))
            try await app.store.moveAppeal(id: appeal, to: .accepted, actor: "test")
            try await app.store.decideAppeal(id: appeal, outcome: .rejected, answer: "不支持", correctedValue: nil,
                                             rules: .default, rulesYAML: defaultRulesYAML, actor: "test")
            res = try await post(app, "/publish/2025", hq, [("action", "final")])
            #expect(res.status == .seeOther)
            let pub = try await app.store.publication(year: 2025)
            #expect(pub.status == .final && pub.publicityStart == start && pub.publicityEnd == end)
            res = try await get(app, "/my", ent)
            #expect(res.body.string.contains(#"id="appeal-closed""#) && res.body.string.contains("已正式发布"))
            res = try await post(app, "/publish/2025", hq, [("action", "publicity"), ("start", start), ("end", end)])
            #expect(res.status == .conflict)

            // back to draft: hidden again
            res = try await post(app, "/publish/2025", hq, [("action", "draft")])
            #expect(res.status == .seeOther)
            #expect(try await app.store.publication(year: 2025).status == .draft)
            res = try await get(app, "/api/v1/enterprises/\(row.creditCode)?year=2025", town)
            #expect(res.status == .notFound)
            let actions = try await auditActions(app)
            for a in ["publication.publicity", "publication.final", "publication.draft"] { #expect(actions.contains(a)) }
        }
    }

    // MARK: bank

    @Test("the bank sees only consenting A/B enterprises of a final year, with class and score only; consent toggles membership")
    func bankList() async throws {
        try await TestApp.withDemo { app in
            try await app.store.setPublication(year: 2024, status: .final, start: "2025-04-01", end: "2025-04-10", actor: "test")
            try await openPublicity(app, 2025)
            let all = try await app.store.results(.init(year: 2024), page: 1, per: 10_000).items
            let a = all.filter { $0.finalClass == "A" }, b = all.filter { $0.finalClass == "B" }, c = all.filter { $0.finalClass == "C" }
            try #require(a.count >= 3 && b.count >= 2 && c.count >= 1)
            for r in [a[0], a[1], b[0], b[1], c[0]] { try await app.store.setConsent(creditCode: r.creditCode, true, actor: "test") }
            try await app.store.setConsent(creditCode: b[1].creditCode, false, actor: "test")
            let bank = try await TestAuth.session(app, .bank)

            var res = try await get(app, "/bank", bank)
            #expect(res.status == .ok)
            let html = res.body.string
            #expect(html.contains("2024 年度亩均英雄贷名单"))
            let codes = html.captures(#"<tr data-credit-code="([^"]+)""#)
            #expect(Set(codes) == Set([a[0], a[1], b[0]].map(\.creditCode)))
            #expect(Set(html.captures(#"<tr data-credit-code="[^"]+" data-class="([^"]+)""#)).isSubset(of: ["A", "B"]))
            let headers = (html.captures(#"<table class="data" id="credit-list"><thead><tr>(.*?)</tr>"#).first ?? "")
                .captures(#"<th[^>]*>([^<]*)</th>"#)
            #expect(headers == ["序号", "企业名称", "统一社会信用代码", "镇街", "规模", "分类", "总分", "利率优惠", "授信额度倍数"])
            for word in ["亩均税收", "用地面积", "万元/亩", "排名"] { #expect(!html.contains(word), "the bank page shows \(word)") }
            #expect(html.contains(#"id="credit-terms-table""#) && html.contains("0.5 个百分点") && html.contains("1.5 倍"))
            #expect(html.contains("0.3 个百分点") && html.contains("1.2 倍"))
            let stored = try await app.store.creditList(year: 2024, classes: ["A", "B"])
            #expect(codes == stored.map(\.creditCode))

            // the API: the same rows, only these keys
            res = try await get(app, "/api/v1/credit-list", bank)
            #expect(res.status == .ok)
            let body = try json(res)
            #expect(body["year"] as? Int == 2024 && body["final_years"] as? [Int] == [2024])
            let items = body["items"] as? [[String: Any]] ?? []
            #expect(items.compactMap { $0["credit_code"] as? String } == codes)
            let keys: Set<String> = ["credit_code", "name", "town", "group", "group_name", "class", "total_score",
                                     "credit_rate_discount", "credit_line_multiple"]
            for item in items { #expect(Set(item.keys) == keys) }
            #expect(items.first { $0["class"] as? String == "A" }?["credit_rate_discount"] as? Double == 0.5)

            // the export: one row per listed enterprise
            res = try await get(app, "/bank/credit-list.xlsx", bank)
            #expect(res.status == .ok)
            #expect(res.headers.first(name: .contentType) == Page.xlsxType)
            let table = try XLSXTable(data: Data(res.body.readableBytesView))
            var rows: [[String]] = []
            try table.forEachRow { _, cells in rows.append(cells) }
            #expect(rows.count == codes.count)
            #expect(rows.map { $0.count > 2 ? $0[2] : "" } == codes)
            #expect(table.headers.contains("总分") && !table.headers.contains { $0.contains("亩均税收") })
            #expect(try await auditActions(app).contains("export.credit_list"))

            // only final years
            res = try await get(app, "/bank?year=2025", bank)
            #expect(res.status == .notFound)
            res = try await get(app, "/api/v1/credit-list?year=2025", bank)
            #expect(res.status == .notFound)

            // consent toggled by the enterprise changes membership
            let ent = try await TestAuth.session(app, .enterprise, creditCode: a[2].creditCode)
            res = try await post(app, "/my/consent", ent, [("consent", "1")])
            #expect(res.status == .seeOther)
            #expect(try await app.fullStoreCodes(2024).contains(a[2].creditCode))
            res = try await get(app, "/my", ent)
            #expect(res.body.string.contains(#"data-consent="true""#))
            res = try await get(app, "/bank", bank)
            #expect(res.body.string.contains(#"data-credit-code="\#(a[2].creditCode)""#))
            res = try await post(app, "/my/consent", ent, [("consent", "0")])
            #expect(res.status == .seeOther)
            res = try await get(app, "/bank", bank)
            #expect(!res.body.string.contains(#"data-credit-code="\#(a[2].creditCode)""#))
            let actions = try await auditActions(app)
            #expect(actions.contains("consent.grant") && actions.contains("consent.withdraw"))
            let grant = try await app.store.auditLog(.init(action: "consent.grant", text: a[2].creditCode)).entries.first
            #expect(grant?.actor == ent.principal.login)

            // what the bank may not see, and who else may not see the list
            for path in ["/ranking", "/api/v1/results", "/enterprises/\(a[0].creditCode)", "/api/v1/enterprises/\(a[0].creditCode)", "/my", "/publish"] {
                res = try await get(app, path, bank)
                #expect(res.status == .forbidden, "\(path)")
            }
            let town = try await TestAuth.session(app, .town, town: "古山镇")
            for s in [town, ent] {
                res = try await get(app, "/bank", s)
                #expect(res.status == .forbidden)
                res = try await get(app, "/api/v1/credit-list", s)
                #expect(res.status == .forbidden)
            }
            res = try await post(app, "/my/consent", bank, [("consent", "1")])
            #expect(res.status == .forbidden)
            res = try await get(app, "/bank", try await TestAuth.hq(app))
            #expect(res.status == .ok)
        }
    }

    @Test("the bank page explains itself when no year is final")
    func bankWithoutFinalYear() async throws {
        try await TestApp.withDemo { app in
            try await openPublicity(app, 2025)
            let bank = try await TestAuth.session(app, .bank)
            var res = try await get(app, "/bank", bank)
            #expect(res.status == .ok && res.body.string.contains(#"id="no-final""#))
            res = try await get(app, "/api/v1/credit-list", bank)
            #expect(res.status == .notFound)
        }
    }

    // MARK: demo

    @Test("the demo creates four appeals of 古山镇 in different states, two of them the demo enterprise's")
    func demoAppeals() async throws {
        try await TestApp.withDemo { app in
            let city = DemoCity(enterprises: 300, seed: 3)
            _ = try await DemoSetup.load(store: app.store, city: city, years: [2024, 2025], rules: .default, bcryptCost: 4)
            let appeals = try await app.store.appeals(year: 2025, scope: .all)
            #expect(appeals.count == 4)
            #expect(Set(appeals.map(\.caseState)) == [.assigned, .accepted, .replied, .closed])
            #expect(Set(appeals.map(\.town)) == ["古山镇"])
            let qiye = try #require(DemoSetup.accounts(city: city).first { $0.login == "qiye" }?.code)
            #expect(appeals.filter { $0.creditCode == qiye }.count == 2)
            let upheld = try #require(appeals.first { $0.caseState == .replied })
            #expect(upheld.outcome == .upheld && upheld.creditCode == qiye && upheld.attachmentName != nil)
            #expect(upheld.resultBefore != nil && upheld.resultAfter != nil)
            let closed = try #require(appeals.first { $0.caseState == .closed })
            #expect(closed.outcome == .rejected && closed.rating != nil)
            #expect(try await app.store.runs(year: 2025).count == 2)

            // loading again adds nothing
            _ = try await DemoSetup.load(store: app.store, city: city, years: [2024, 2025], rules: .default, bcryptCost: 4)
            #expect(try await app.store.appeals(scope: .all).count == 4)

            // the town sees them; the demo enterprise sees its two and can rate the reply
            let town = try await TestAuth.session(app, .town, town: "古山镇")
            var res = try await get(app, "/appeals", town)
            #expect(res.body.string.captures(#"<tr data-appeal-id="(\d+)""#).count == 4)
            let ent = try await TestAuth.session(app, .enterprise, creditCode: qiye)
            res = try await get(app, "/my", ent)
            #expect(res.status == .ok && res.body.string.contains(#"id="appeal-form""#))
            #expect(res.body.string.captures(#"<tr data-appeal-id="(\d+)""#).count == 2)
            res = try await get(app, "/appeals/\(upheld.id)", ent)
            #expect(res.body.string.contains(#"id="before-after""#) && res.body.string.contains(#"id="rate-form""#))
            res = try await get(app, "/appeals/\(upheld.id)/attachment", ent)
            #expect(res.status == .ok && Data(res.body.readableBytesView).starts(with: Data("%PDF".utf8)))
            // the bank sees the final 2024 list built from the demo consents
            let bank = try await TestAuth.session(app, .bank)
            res = try await get(app, "/bank", bank)
            #expect(res.status == .ok && res.body.string.contains("2024 年度亩均英雄贷名单"))
            #expect(!res.body.string.captures(#"<tr data-credit-code="([^"]+)""#).isEmpty)
        }
    }
}

extension Application {
    /// Credit codes of the credit list of a year (A and B), read without any filter.
    func fullStoreCodes(_ year: Int) async throws -> [String] {
        try await store.creditList(year: year, classes: ["A", "B"]).map(\.creditCode)
    }
}
