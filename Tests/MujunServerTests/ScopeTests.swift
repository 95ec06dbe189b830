import Foundation
import Testing
import Vapor
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// Every scoped read of every service, called as a town user (古山镇) and as an enterprise
/// user, returns only that caller's rows: its town's enterprises, parcels, clusters, surveys and
/// appeals, or its own enterprise and the parcels it owns or occupies. Another town's or
/// enterprise's record reads as if it did not exist. (The HTTP routes are checked by
/// SecurityTests; this checks the services the routes and any future feature read through.)
@Suite("Scoped reads of the services", .serialized)
struct ScopeTests {
    typealias S = SecurityTests

    struct Fixture {
        var world: SecurityTests.World
        var town: MujunStore.Services
        var enterprise: MujunStore.Services
        /// parcels owned or occupied by the enterprise user's enterprise
        var ownParcels: Set<String>
        var homeParcels: Set<String>
        var otherParcel: String
        var otherSurvey: Int64
        var homeSurvey: Int64
        var otherAppeal: Int64
    }

    static func fixture(_ app: Application) async throws -> Fixture {
        let w = try await S.world(app)
        let land = DemoLand(city: S.city)
        let system = app.services()
        try await system.land.importParcels(land.parcels, fileName: "t")
        try await system.land.importLandUse(land.landUse, fileName: "t")
        _ = try await system.land.assess(year: S.year)
        let home = land.parcels.filter { $0.town == S.homeTown }.map(\.parcelID)
        let other = try #require(land.parcels.first { $0.town != S.homeTown })
        let homeSurvey = try await app.store.addSurvey(parcelID: home[0], town: S.homeTown, actualUse: "厂房", occupantsSeen: nil, idle: false,
                                                       remarks: nil, photoName: "p.png", photo: Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
                                                       actor: "gushan")
        let otherSurvey = try await app.store.addSurvey(parcelID: other.parcelID, town: other.town, actualUse: "仓库", occupantsSeen: nil,
                                                        idle: true, remarks: nil, photoName: "p.png", photo: Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
                                                        actor: "other")
        let otherAppeal = try await app.store.fileAppeal(year: S.year, creditCode: w.otherCode, town: w.otherTown, field: .tax, currentValue: 1,
                                                         claimedValue: 2, reason: "他镇", attachmentName: "a.pdf", attachment: Data("%PDF-1.4".utf8),
                                                         actor: "other")
        let users = try await app.store.users()
        func principal(_ login: String) throws -> Principal { try #require(users.first { $0.login == login }?.principal) }
        let code = w.ownCode
        let owned = Set(land.parcels.filter { $0.ownerCreditCode == code }.map(\.parcelID))
            .union(land.landUse.filter { $0.creditCode == code }.map(\.parcelID))
        #expect(!owned.isEmpty, "the demo enterprise owns or occupies parcels")
        return Fixture(world: w, town: app.services(.user(try principal(w.account(.town).login))),
                       enterprise: app.services(.user(try principal(w.account(.enterprise).login))),
                       ownParcels: owned, homeParcels: Set(home), otherParcel: other.parcelID,
                       otherSurvey: otherSurvey, homeSurvey: homeSurvey, otherAppeal: otherAppeal)
    }

    @Test("the evaluation: results, counts, the export's rows, one result, history")
    func ranking() async throws {
        try await TestApp.with { app in
            let f = try await Self.fixture(app)
            let w = f.world
            for (s, who) in [(f.town, "town"), (f.enterprise, "enterprise")] {
                let r = s.ranking
                let rows = try await r.results(.init(year: S.year), sort: .rank, descending: false, page: 1, per: 10_000).items
                let full = try await r.fullResults(.init(year: S.year))
                // asking for another town does not widen the scope
                let asked = try await r.results(.init(year: S.year, town: w.otherTown), sort: .rank, descending: false, page: 1, per: 10_000).items
                let counts = try await r.classCountsByTown(.init(year: S.year))
                #expect(try await r.result(creditCode: w.otherCode, year: S.year) == nil, "\(who)")
                #expect(try await r.history(creditCode: w.otherCode).isEmpty, "\(who)")
                await #expect(throws: ServiceError.self) { try await r.enterprise(creditCode: w.otherCode, year: S.year) }
                #expect(asked.isEmpty, "\(who): another town's filter reads nothing")
                if who == "town" {
                    #expect(!rows.isEmpty && rows.allSatisfy { $0.town == S.homeTown })
                    #expect(!full.isEmpty && full.allSatisfy { $0.town == S.homeTown })
                    #expect(Set(counts.keys) == [S.homeTown])
                    #expect(try await r.result(creditCode: w.townCode, year: S.year) != nil)
                } else {
                    #expect(rows.map(\.creditCode) == [w.ownCode])
                    #expect(full.map(\.creditCode) == [w.ownCode])
                    #expect(counts.values.reduce(0) { $0 + $1.values.reduce(0, +) } == 1)
                    #expect(try await r.result(creditCode: w.townCode, year: S.year) == nil, "another enterprise of the same town")
                    #expect(try await r.history(creditCode: w.ownCode).allSatisfy { $0.year <= S.year })
                }
            }
        }
    }

    @Test("appeals: the list, one appeal, its history and attachment, the counts")
    func appeals() async throws {
        try await TestApp.with { app in
            let f = try await Self.fixture(app)
            let w = f.world
            for (s, who) in [(f.town, "town"), (f.enterprise, "enterprise")] {
                let a = s.appeals
                let list = try await a.list()
                #expect(!list.isEmpty, "\(who)")
                if who == "town" { #expect(list.allSatisfy { $0.appeal.town == S.homeTown }) } else { #expect(list.allSatisfy { $0.appeal.creditCode == w.ownCode }) }
                #expect(!list.contains { $0.appeal.id == f.otherAppeal })
                await #expect(throws: ServiceError.self, Comment(rawValue: "\(who): another town's appeal")) { try await a.appeal(id: f.otherAppeal) }
                await #expect(throws: ServiceError.self) { try await a.events(id: f.otherAppeal) }
                await #expect(throws: ServiceError.self) { try await a.attachment(id: f.otherAppeal) }
                let counts = try await a.stateCounts(year: nil)
                #expect(counts.values.reduce(0, +) == list.count, "\(who)")
                #expect(try await a.appeal(id: w.appealID).appeal.creditCode == w.ownCode)
            }
        }
    }

    @Test("land: parcels, one parcel and its card, search, clusters, OGC rows and extent, blocks, assessments")
    func land() async throws {
        try await TestApp.with { app in
            let f = try await Self.fixture(app)
            for (s, who) in [(f.town, "town"), (f.enterprise, "enterprise")] {
                let l = s.land
                let mine = who == "town" ? f.homeParcels : f.ownParcels
                let rows = try await l.parcels(.init(year: S.year), limit: 100_000).rows
                #expect(!rows.isEmpty && Set(rows.map(\.parcel.parcelID)).isSubset(of: mine), Comment(rawValue: "\(who): parcels"))
                #expect(try await l.parcelCount(.init(year: S.year)) == rows.count)
                #expect(try await l.parcel(id: f.otherParcel, year: S.year) == nil)
                #expect(try await l.detail(id: f.otherParcel, year: S.year) == nil)
                // a search for another town's parcel id finds nothing
                #expect(try await l.search(f.otherParcel, year: S.year).matches.isEmpty)
                let found = try await l.search(String(rows[0].parcel.parcelID.prefix(4)), year: S.year).matches
                #expect(found.allSatisfy { mine.contains($0.row.parcel.parcelID) })
                let ogc = try await l.ogcParcels(.init(year: S.year), limit: 100_000, offset: 0).rows
                #expect(Set(ogc.map(\.id)) == Set(rows.map(\.parcel.parcelID)), "\(who): OGC rows")
                // the clusters (of low-efficiency parcels) that hold one of the scope's parcels, exactly
                let clusters = try await l.clusters(year: S.year).rows
                if who == "town" { #expect(!clusters.isEmpty) }
                for c in clusters { #expect(!Set(c.summary.parcelIDs).isDisjoint(with: mine), "\(who): cluster \(c.summary.number)") }
                let all = try await app.services().land.clusters(year: S.year).rows
                #expect(Set(clusters.map(\.summary.number)) == Set(all.filter { !Set($0.summary.parcelIDs).isDisjoint(with: mine) }.map(\.summary.number)),
                        "\(who): the clusters touching its parcels")
                if let foreign = all.first(where: { Set($0.summary.parcelIDs).isDisjoint(with: mine) }) {
                    #expect(try await l.cluster(year: S.year, number: foreign.summary.number) == nil)
                } else {
                    Issue.record("the demo city has no cluster outside \(who)'s parcels")
                }
                let assessed = try await l.assessments(year: S.year, ids: [f.otherParcel] + rows.prefix(5).map(\.parcel.parcelID))
                #expect(!assessed.isEmpty && assessed[f.otherParcel] == nil)
                let box = try #require(try await l.extent(clusters: false, year: S.year))
                for r in rows { #expect(r.parcel.bbox.minX >= box.minX - 1e-6 && r.parcel.bbox.maxY <= box.maxY + 1e-6) }
                let everything = try #require(try await app.services().land.extent(clusters: false, year: S.year))
                #expect(box.maxX - box.minX < everything.maxX - everything.minX || box.maxY - box.minY < everything.maxY - everything.minY)
                let blocks = try await l.blocks()
                let ownBlocks = Set(rows.compactMap(\.parcel.block))
                #expect(Set(blocks.map(\.block)) == ownBlocks)
                if who == "town" {
                    #expect(l.snapshotScope(town: nil) == .town(S.homeTown))
                    #expect(l.snapshotScope(town: f.world.otherTown) == LandService.SnapshotScope.none)
                } else {
                    #expect(l.snapshotScope(town: nil) == .databaseOnly)
                }
            }
        }
    }

    @Test("surveys: one parcel's, one survey and its photo, the pending list; none for an enterprise")
    func surveys() async throws {
        try await TestApp.with { app in
            let f = try await Self.fixture(app)
            let t = f.town.surveys
            #expect(try await t.pending().map(\.id) == [f.homeSurvey])
            #expect(try await t.surveys(parcelID: f.otherParcel).isEmpty)
            await #expect(throws: ServiceError.self) { try await t.survey(id: f.otherSurvey) }
            await #expect(throws: ServiceError.self) { try await t.photo(id: f.otherSurvey) }
            #expect(try await t.survey(id: f.homeSurvey).town == S.homeTown)
            let e = f.enterprise.surveys
            #expect(try await e.pending().isEmpty)
            await #expect(throws: ServiceError.self) { try await e.survey(id: f.homeSurvey) }
            for p in f.ownParcels { #expect(try await e.surveys(parcelID: p).isEmpty) }
        }
    }

    @Test("the credit list is the bank's: a town or an enterprise is refused")
    func credit() async throws {
        try await TestApp.with { app in
            let f = try await Self.fixture(app)
            for s in [f.town, f.enterprise] {
                await #expect(throws: ServiceError.self) { _ = try await s.credit.creditList(year: nil) }
            }
        }
    }
}
