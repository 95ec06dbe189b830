import Foundation
import Testing
import VaporTesting
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// The store and the JSON API, on SQLite by default and on PostgreSQL when
/// MUJUN_TEST_DATABASE_URL names one (`make test-postgres`).
@Suite("Store and API", .serialized)
struct StoreTests {
    static func code(_ n: Int) -> String { CreditCode.complete("91330784" + String(format: "%09d", n)) }

    /// A request as a headquarters user (cookie, and the CSRF token on writes).
    func send(_ app: Application, _ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:],
              body: ByteBuffer? = nil) async throws -> TestingHTTPResponse {
        let s = try await TestAuth.hq(app)
        var h = method == .GET ? s.headers : s.postHeaders
        for (k, v) in headers { h.replaceOrAdd(name: k, value: v) }
        return try await app.testing().sendRequest(method, path, headers: h, body: body)
    }

    func count(_ store: Store, _ table: String) async throws -> Int {
        try await store.sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()!.decode(column: "n", as: Int.self)
    }

    @Test("an import is idempotent and a re-import replaces the year's figures")
    func importIdempotent() async throws {
        try await TestApp.with { app in
            let records = DemoCity(enterprises: 120, seed: 2).records(year: 2025, latestYear: 2025)
            _ = try await app.store.importEnterprises(records, fileName: "a.csv", actor: "t")
            _ = try await app.store.importEnterprises(records, fileName: "a.csv", actor: "t")
            #expect(try await count(app.store, "enterprise_years") == 120)
            var changed = records
            changed[0].tax = 12345
            changed[0].vetoes = ["欠缴税款"]
            _ = try await app.store.importEnterprises(changed, fileName: "b.csv", actor: "t")
            let back = try await app.store.records(year: 2025)
            #expect(back.count == 120)
            let first = back.first { $0.creditCode == records[0].creditCode }!
            #expect(first.tax == 12345 && first.vetoes == ["欠缴税款"])
            // what goes in comes out
            let orig = records.first { $0.creditCode == records[5].creditCode }!
            let stored = back.first { $0.creditCode == orig.creditCode }!
            #expect(stored.landMu == orig.landMu && stored.employees == orig.employees && stored.emissions == orig.emissions
                    && stored.group == orig.group && stored.exempt == orig.exempt && stored.name == orig.name)
            #expect(try await count(app.store, "import_batches") == 3)
        }
    }

    @Test("a stored evaluation gives the same figures as the evaluator, and earlier runs and years stay")
    func evaluationStored() async throws {
        try await TestApp.withDemo(enterprises: 200) { app in
            let records = try await app.store.records(year: 2025)
            let history = try await app.store.history(before: 2025)
            let direct = Evaluator().evaluate(year: 2025, records: records, history: history)
            for r in direct.results.prefix(50) {
                let s = try await app.store.result(creditCode: r.creditCode, year: 2025)
                #expect(s == r)
            }
            let firstRun = try await app.store.currentRun(year: 2025)!
            _ = try await app.store.evaluate(year: 2025, rules: .default, rulesYAML: defaultRulesYAML, actor: "t")
            let runs = try await app.store.runs(year: 2025)
            #expect(runs.count == 2)
            #expect(try await app.store.currentRun(year: 2025)!.id != firstRun.id)
            #expect(try await app.store.evaluatedYears() == [2025, 2024])
            let h = try await app.store.history(creditCode: records[0].creditCode)
            #expect(h.map(\.year) == [2024, 2025])
            let audit = try await app.store.auditLog()
            #expect(audit.contains { $0.action == "evaluation.run" } && audit.contains { $0.action == "import.enterprises" })
        }
    }

    @Test("three stored years of D give the consecutive-D surcharge")
    func consecutiveDFromStoredHistory() async throws {
        try await TestApp.with { app in
            // 20 规下 enterprises with distinct taxes: the last one is D every year
            for year in [2023, 2024, 2025] {
                let records = (1...20).map { i in
                    EnterpriseRecord(year: year, creditCode: Self.code(i), name: "企业\(i)", town: "古山镇", group: .below,
                                     landMu: 10, tax: Double(10 * (21 - i)), electricity: 10)
                }
                _ = try await app.store.importEnterprises(records, fileName: "y\(year)", actor: "t")
                _ = try await app.store.evaluate(year: year, rules: .default, rulesYAML: defaultRulesYAML, actor: "t")
            }
            let last = try await app.store.result(creditCode: Self.code(20), year: 2025)!
            #expect(last.finalClass == .D)
            #expect(last.policy?.consecutiveYears == 3)
            #expect(last.policy?.electricitySurcharge == 0.4)
            let y2024 = try await app.store.result(creditCode: Self.code(20), year: 2024)!
            #expect(y2024.policy?.electricitySurcharge == 0.3)
        }
    }

    @Test("filters, paging, sorting and counts agree with each other")
    func listing() async throws {
        try await TestApp.withDemo(enterprises: 400) { app in
            let all = try await app.store.results(.init(year: 2025), per: 10_000)
            #expect(all.total == 400 && all.items.count == 400)
            let town = "古山镇"
            let inTown = try await app.store.results(.init(year: 2025, town: town), per: 10_000)
            #expect(inTown.items.allSatisfy { $0.town == town })
            #expect(inTown.total == all.items.filter { $0.town == town }.count)
            let counts = try await app.store.classCountsByTown(.init(year: 2025, group: .below))
            let d = try await app.store.results(.init(year: 2025, group: .below, cls: "D"), per: 1)
            #expect(d.total == counts.values.reduce(0) { $0 + ($1["D"] ?? 0) })
            let sorted = try await app.store.results(.init(year: 2025, group: .above), sort: .total, descending: true, per: 500)
            let totals = sorted.items.compactMap(\.totalScore)
            #expect(totals == totals.sorted(by: >))
            let p1 = try await app.store.results(.init(year: 2025, group: .above), page: 1, per: 7)
            let p2 = try await app.store.results(.init(year: 2025, group: .above), page: 2, per: 7)
            #expect(Set(p1.items.map(\.creditCode)).isDisjoint(with: p2.items.map(\.creditCode)))
            #expect(p1.items.first?.rank == 1)
            let exempt = try await app.store.results(.init(year: 2025, cls: "exempt"), per: 1000)
            #expect(exempt.items.allSatisfy { !$0.evaluated && $0.exemptReason != nil })
            let name = all.items[3].name
            let found = try await app.store.results(.init(year: 2025, search: String(name.dropFirst(3).prefix(4))), per: 1000)
            #expect(found.items.contains { $0.name == name })
        }
    }

    // MARK: - API

    @Test("health answers 200 when the database is reachable")
    func health() async throws {
        try await TestApp.with { app in
            let res = try await send(app, .GET, "/healthz")
            #expect(res.status == .ok)
            #expect(res.body.string.contains("\"status\":\"ok\""))
        }
    }

    @Test("results, one enterprise and its history through the API")
    func apiResults() async throws {
        try await TestApp.withDemo(enterprises: 150) { app in
            let res = try await send(app, .GET, "/api/v1/results?year=2025&group=above&per=5")
            #expect(res.status == .ok)
            let page = try JSONSerialization.jsonObject(with: Data(res.body.readableBytesView)) as! [String: Any]
            let items = page["items"] as! [[String: Any]]
            #expect(items.count == 5 && (page["total"] as! Int) > 5)
            #expect(items[0]["rank"] as? Int == 1)
            #expect(items[0]["credit_code"] is String && items[0]["class"] is String && items[0]["total_score"] is Double)
            let code = items[0]["credit_code"] as! String
            let one = try await send(app, .GET, "/api/v1/enterprises/\(code)?year=2025")
            #expect(one.status == .ok)
            let obj = try JSONSerialization.jsonObject(with: Data(one.body.readableBytesView)) as! [String: Any]
            let result = obj["result"] as! [String: Any]
            #expect(result["credit_code"] as? String == code)
            #expect((result["items"] as! [Any]).count == 6)
            #expect((obj["history"] as! [Any]).count == 2)
            let missing = try await send(app, .GET, "/api/v1/enterprises/\(Self.code(999_999))?year=2025")
            #expect(missing.status == .notFound)
            let bad = try await send(app, .GET, "/api/v1/results?year=2025&group=middle")
            #expect(bad.status == .badRequest)
        }
    }

    @Test("POST an import file: good files load, bad files name every row and write nothing")
    func apiImport() async throws {
        try await TestApp.with { app in
            let header = "统一社会信用代码,企业名称,所属镇街,规模,用地面积(亩),评价税收(万元),用电量(万千瓦时)"
            let good = "\(header)\n\(Self.code(1)),甲公司,古山镇,规下,10,100,50\n\(Self.code(2)),乙公司,方岩镇,规下,20,50,40\n"
            var res = try await send(app, .POST, "/api/v1/imports/enterprises?year=2025&filename=a.csv",
                                                          headers: ["Content-Type": "text/csv"], body: ByteBuffer(string: good))
            #expect(res.status == .created)
            #expect(try await count(app.store, "enterprise_years") == 2)
            // GB18030 bytes are detected
            let gbk = try DemoFiles.toGB18030(Array(good.replacingOccurrences(of: Self.code(2), with: Self.code(3)).utf8))
            res = try await send(app, .POST, "/api/v1/imports/enterprises?year=2025",
                                                      headers: ["Content-Type": "text/csv"], body: ByteBuffer(bytes: gbk))
            #expect(res.status == .created)
            #expect(try await count(app.store, "enterprise_years") == 3)
            let names = try await app.store.records(year: 2025).map(\.name)
            #expect(names.contains("乙公司"))
            // a bad file: nothing written, every bad row named
            let bad = "\(header)\n\(Self.code(10)),丙公司,古山镇,规下,abc,100,50\n\(Self.code(11)),丁公司,火星镇,规下,10,100,50\n"
            res = try await send(app, .POST, "/api/v1/imports/enterprises?year=2025",
                                                      headers: ["Content-Type": "text/csv"], body: ByteBuffer(string: bad))
            #expect(res.status == .unprocessableEntity)
            let obj = try JSONSerialization.jsonObject(with: Data(res.body.readableBytesView)) as! [String: Any]
            let rows = (obj["errors"] as! [[String: Any]]).map { $0["row"] as! Int }
            #expect(rows == [2, 3])
            #expect(try await count(app.store, "enterprise_years") == 3)
            // a broken workbook: one clear message, nothing written
            var broken = Data([0x50, 0x4B, 0x03, 0x04]); broken.append(Data(repeating: 7, count: 300))
            res = try await send(app, .POST, "/api/v1/imports/enterprises?year=2025",
                                                      body: ByteBuffer(bytes: Array(broken)))
            #expect(res.status == .unprocessableEntity)
            #expect(res.body.string.contains("XLSX") || res.body.string.contains("Excel"))
            #expect(try await count(app.store, "enterprise_years") == 3)
        }
    }

    @Test("POST an evaluation run stores it; a year without data is refused")
    func apiEvaluate() async throws {
        try await TestApp.with { app in
            let records = DemoCity(enterprises: 80, seed: 8).records(year: 2025, latestYear: 2025)
            _ = try await app.store.importEnterprises(records, fileName: "x", actor: "t")
            var res = try await send(app, .POST, "/api/v1/evaluations", headers: ["Content-Type": "application/json"],
                                                          body: ByteBuffer(string: #"{"year":2025}"#))
            #expect(res.status == .ok)
            #expect(res.body.string.contains("\"class_counts\""))
            #expect(try await app.store.currentRun(year: 2025)?.enterprises == 80)
            res = try await send(app, .POST, "/api/v1/evaluations", headers: ["Content-Type": "application/json"],
                                                      body: ByteBuffer(string: #"{"year":1999}"#))
            #expect(res.status == .unprocessableEntity)
        }
    }
}
