import Foundation
import Testing
import Vapor
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// Project bulletins (项目推进通报, issue 10): the figures by town and department on the three
/// hand-worked projects of `ProjectServiceTests`, and an issued bulletin recomputed to the byte
/// from the history after reports, milestones and new targets were entered. SQLite and PostgreSQL.
@Suite("Project bulletins: by town and department, issued and frozen", .serialized)
struct ProjectBulletinTests {
    typealias P = CaseServiceTests
    typealias S = ProjectServiceTests

    @Test("the bulletin on hand-worked projects; issued, it is recomputed from the history to the same bytes whatever was entered after")
    func frozen() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            let ids = try await S.load(app, p)
            let hq = app.services(p.hq).projects
            let y = S.today.year
            _ = try await hq.importTargets(data: Data("年度,责任单位,指标,目标值\n\(y),古山镇,完成项目(个),2\n\(y),石柱镇,完成项目(个),1\n\(y),经信局,完成项目(个),4\n".utf8),
                                           fileName: "t.csv")
            let live = try await hq.bulletin()
            // 古山镇: A late by its report, B by its first milestone (one milestone late); 石柱镇: C just started
            let gushan = try #require(live.towns.first { $0.unit == "古山镇" })
            #expect(gushan.projects == 2 && gushan.late == 2 && gushan.lateMilestones == 1 && gushan.completed == 0)
            #expect(gushan.targets.map(\.indicator) == ["projects_done"] && gushan.targets[0].target == 2 && gushan.targets[0].done == 0)
            let shizhu = try #require(live.towns.first { $0.unit == "石柱镇" })
            #expect(shizhu.projects == 1 && shizhu.late == 0)
            #expect(live.departments.map(\.unit).sorted() == ["住建局", "经信局"])
            #expect(live.departments.first { $0.unit == "经信局" }?.projects == 2)
            #expect(live.city.projects == 3 && live.city.late == 2 && live.city.targets.first?.target == 3, "the city's target is the towns' sum")
            #expect(live.towns.map(\.rank) == Array(1...live.towns.count))

            // a town may not issue; a number is needed and unique
            await P.expectRefusal(.forbidden) { _ = try await app.services(p.town).projects.issueBulletin(number: "1号", title: "") }
            await P.expectRefusal(.invalid) { _ = try await hq.issueBulletin(number: " ", title: "") }
            let issued = try await hq.issueBulletin(number: "项目通报〔\(y)〕1号", title: "")
            await P.expectRefusal(.conflict, "已发布") { _ = try await hq.issueBulletin(number: "项目通报〔\(y)〕1号", title: "") }
            let bytes = try live.json()

            // then the town reports A's missing month, B's milestone is recorded, the targets change
            let town = app.services(p.town).projects
            let v = try await town.view(id: ids["A"]!)
            guard case .report(let month, _)? = v.status.late.first?.kind else { Issue.record("A is not late by its report"); return }
            try await town.fileReport(id: ids["A"]!, .init(month: month.description, text: "补报"))
            try await town.recordMilestones(id: ids["B"]!, [.init(seq: 1, done: S.today.description)])
            _ = try await hq.importTargets(data: Data("年度,责任单位,指标,目标值\n\(y),古山镇,完成项目(个),5\n".utf8), fileName: "t2.csv")

            let now = try await hq.bulletin()
            #expect(now.towns.first { $0.unit == "古山镇" }?.late == 0 && now.towns.first { $0.unit == "古山镇" }?.targets.first?.target == 5)
            #expect(try now.json() != bytes)
            let (record, again, intact) = try await hq.issuedBulletin(id: issued.id)
            #expect(intact && record.number == "项目通报〔\(y)〕1号" && record.title == "项目推进情况通报")
            #expect(try again.json() == bytes, "recomputed from the history recorded by its issue")
            // tampering with the history is seen
            try await app.store.sql.raw("UPDATE project_target_log SET value = 9 WHERE batch_us <= \(bind: record.recordedUs)").run()
            #expect(try await hq.issuedBulletin(id: issued.id).intact == false)
        }
    }

    @Test("the pages: today's bulletin with its chart data and Excel export, issuing it, the issued one checked; HQ only")
    func pages() async throws {
        try await TestApp.with { app in
            let p = try await P.people(app)
            _ = try await S.load(app, p)
            let hq = try await TestAuth.hq(app), town = try await TestAuth.session(app, .town, town: "古山镇")
            var res = try await app.testing().sendRequest(.GET, "/projects/bulletin", headers: hq.headers)
            #expect(res.status == .ok && res.body.string.contains(#"id="bulletin-data""#) && res.body.string.contains(#"id="issue-form""#))
            #expect(res.body.string.captures(#"<tr data-unit="([^"]+)" data-late="2""#) == ["古山镇"])
            res = try await app.testing().sendRequest(.GET, "/projects/bulletin", headers: town.headers)
            #expect(res.status == .forbidden)
            res = try await app.testing().sendRequest(.GET, "/projects/bulletin.xlsx", headers: hq.headers)
            let table = try XLSXTable(data: Data(buffer: res.body))
            var units: [String] = []
            try table.forEachRow { _, cells in units.append(cells[1]) }
            #expect(table.headers.prefix(3) == ["名次", "镇街", "项目"] && units.contains("古山镇") && units.contains("石柱镇"))
            let rec = try await app.services(p.hq).projects.issueBulletin(number: "T-1", title: "十二月通报")
            res = try await app.testing().sendRequest(.GET, "/projects/bulletins/\(rec.id)", headers: hq.headers)
            #expect(res.status == .ok && res.body.string.contains(#"data-intact="true""#) && res.body.string.contains("十二月通报"))
            res = try await app.testing().sendRequest(.GET, "/projects/bulletins/\(rec.id)/export.xlsx", headers: hq.headers)
            #expect(res.status == .ok && res.headers.first(name: .contentDisposition)?.contains("attachment") == true)
            res = try await app.testing().sendRequest(.GET, "/api/v1/projects/bulletins/\(rec.id)", headers: hq.headers)
            #expect(res.status == .ok && res.body.string.contains(#""intact":true"#))
        }
    }
}
