import Foundation
import Testing
import Vapor
import Fluent
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// The schema guards itself (migrations 005): foreign keys, the case-event check, the unique
/// constraints the code relies on, SQLite's foreign-key enforcement on every connection, and
/// the migrations themselves on a database that already holds data — on SQLite, and on
/// PostgreSQL under `make test-postgres`.
@Suite("Schema guards", .serialized)
struct SchemaGuardTests {
    static let missing: Int64 = 987_654

    // MARK: - fixtures

    /// What the key tests refer to.
    struct World {
        var user: Int64
        var batch: Int64
        var run: Int64
        /// an enterprise with 2025 figures and a result in `run`
        var code: String
        var town: String
        /// enterprises with 2025 figures but no result
        var spare: [String]
        /// a parcel with land use, a survey and a 2025 assessment
        var parcel: String
        /// a parcel without any assessment
        var spareParcel: String
        /// a 2025 cluster
        var cluster: Int
        var appeal: Int64
        /// the appeal was stored as a release before the case engine did (case_events, no case)
        var legacy: Bool
    }

    static func world(_ app: Application) async throws -> World {
        let city = DemoCity(enterprises: 40, seed: 5)
        let batch = try await app.store.importEnterprises(city.records(year: 2025, latestYear: 2025), fileName: "t", actor: "test").importID
        let (run, _) = try await app.store.evaluate(year: 2025, rules: .default, rulesYAML: defaultRulesYAML, actor: "test")
        let land = DemoLand(city: city)
        try await app.store.importParcels(land.parcels, fileName: "parcels", actor: "test")
        try await app.store.importLandUse(land.landUse, fileName: "land-use", actor: "test")
        try await app.store.assessLand(year: 2025, rules: .default, actor: "test")
        let sql = app.db as! any SQLDatabase
        let spare = ["SPARE0000000000001", "SPARE0000000000002"]
        for code in spare {
            try await sql.insert(into: "enterprise_years").columns("year", "credit_code", "name", "town", "grp")
                .values(SQLBind(2025), SQLBind(code), SQLBind("备用企业"), SQLBind("古山镇"), SQLBind("below")).run()
        }
        let spareParcel = "SPARE-PARCEL"
        try await insertParcel(sql, id: spareParcel, importID: nil)
        let parcel = try #require(land.landUse.first?.parcelID)
        _ = try await app.store.addSurvey(parcelID: parcel, town: "古山镇", actualUse: "厂房", occupantsSeen: nil, idle: false,
                                          remarks: nil, photoName: nil, photo: nil, actor: "test")
        let cluster = try #require(try await sql.raw("SELECT MIN(number) AS n FROM land_clusters WHERE year = 2025")
            .first(decodingColumn: "n", as: Int?.self) ?? nil, "the demo land has clusters")
        let result = try #require(try await app.store.results(.init(year: 2025), per: 1).items.first)
        // before the case engine's tables exist (a database of an older release): the appeal as that release stored it
        let legacy = try await sql.raw("SELECT COUNT(*) AS n FROM _fluent_migrations WHERE name LIKE '%CreateCases'").first(decodingColumn: "n", as: Int.self) == 0
        let appeal = legacy
            ? try await app.store.legacyAppeal(year: 2025, creditCode: result.creditCode, town: result.town, field: .tax, states: [.assigned], actor: "test")
            : try await app.store.fileAppeal(year: 2025, creditCode: result.creditCode, town: result.town, field: .tax,
                                             currentValue: 1, claimedValue: 2, reason: "测试", attachmentName: nil,
                                             attachment: nil, actor: "test")
        let user = try await app.store.createUser(.init(login: "keys", displayName: "测试", unit: "测试", role: .headquarters,
                                                        passwordHash: "x", mustChangePassword: false), actor: "test")
        try await app.store.createSession(idHash: "session-of-keys", userID: user, csrfToken: "c", expiresAt: Date().addingTimeInterval(60), address: nil)
        try await app.store.createToken(userID: user, name: "QGIS", hash: "token-of-keys", prefix: "mj_", actor: "test")
        return World(user: user, batch: batch, run: run.id, code: result.creditCode, town: result.town, spare: spare,
                     parcel: parcel, spareParcel: spareParcel, cluster: cluster, appeal: appeal, legacy: legacy)
    }

    static func insertParcel(_ sql: any SQLDatabase, id: String, importID: Int64?) async throws {
        try await sql.insert(into: "parcels")
            .columns("parcel_id", "town", "area_mu", "area_mismatch", "geom", "minx", "miny", "maxx", "maxy", "import_id")
            .values(SQLBind(id), SQLBind("古山镇"), SQLBind(1.0), SQLBind(false), SQLBind(Data([1, 2, 3])),
                    SQLBind(0.0), SQLBind(0.0), SQLBind(1.0), SQLBind(1.0), SQLBind(importID)).run()
    }

    /// The error text of `body`, or nil when it succeeded.
    static func refusal(_ body: () async throws -> Void) async -> String? {
        do { try await body(); return nil } catch { return String(reflecting: error) }
    }

    static func count(_ sql: any SQLDatabase, _ query: String) async throws -> Int {
        try await sql.raw(SQLQueryString(query)).first(decodingColumn: "n", as: Int.self) ?? -1
    }

    // MARK: - foreign keys

    /// One insert per key: with `ok` it refers to an existing row, without to a missing one.
    struct KeyCase: Sendable {
        var key: String
        var insert: @Sendable (any SQLDatabase, World, _ ok: Bool) async throws -> Void
    }

    static let keyCases: [KeyCase] = [
        KeyCase(key: "sessions_user_id_fkey") { sql, w, ok in
            try await sql.insert(into: "sessions").columns("id", "user_id", "csrf_token", "created_at", "last_seen", "expires_at")
                .values(SQLBind(UUID().uuidString), SQLBind(ok ? w.user : SchemaGuardTests.missing), SQLBind("c"), SQLBind(Date()), SQLBind(Date()), SQLBind(Date())).run()
        },
        KeyCase(key: "api_tokens_user_id_fkey") { sql, w, ok in
            try await sql.insert(into: "api_tokens").columns("user_id", "name", "token_hash", "prefix", "created_at", "created_by")
                .values(SQLBind(ok ? w.user : SchemaGuardTests.missing), SQLBind("t"), SQLBind(UUID().uuidString), SQLBind("mj_"), SQLBind(Date()), SQLBind("test")).run()
        },
        KeyCase(key: "enterprise_years_import_id_fkey") { sql, w, ok in
            try await sql.insert(into: "enterprise_years").columns("year", "credit_code", "name", "town", "grp", "import_id")
                .values(SQLBind(2025), SQLBind(UUID().uuidString), SQLBind("新企业"), SQLBind(w.town), SQLBind("below"), SQLBind(ok ? w.batch : SchemaGuardTests.missing)).run()
        },
        KeyCase(key: "evaluation_results_run_id_fkey") { sql, w, ok in
            try await sql.insert(into: "evaluation_results")
                .columns("run_id", "year", "credit_code", "name", "town", "grp", "evaluated", "explanation")
                .values(SQLBind(ok ? w.run : SchemaGuardTests.missing), SQLBind(2025), SQLBind(w.spare[0]), SQLBind("备用企业"), SQLBind(w.town),
                        SQLBind("below"), SQLBind(false), SQLBind("{}")).run()
        },
        KeyCase(key: "evaluation_results_year_credit_code_fkey") { sql, w, ok in
            try await sql.insert(into: "evaluation_results")
                .columns("run_id", "year", "credit_code", "name", "town", "grp", "evaluated", "explanation")
                .values(SQLBind(w.run), SQLBind(2025), SQLBind(ok ? w.spare[1] : "NO-SUCH-ENTERPRISE"), SQLBind("备用企业"), SQLBind(w.town),
                        SQLBind("below"), SQLBind(false), SQLBind("{}")).run()
        },
        KeyCase(key: "appeals_year_credit_code_fkey") { sql, w, ok in
            try await sql.insert(into: "appeals")
                .columns("year", "credit_code", "town", "field", "claimed_value", "reason", "state", "filed_by", "created_at")
                .values(SQLBind(ok ? 2025 : 1999), SQLBind(w.code), SQLBind(w.town), SQLBind("tax"), SQLBind("1"), SQLBind("r"),
                        SQLBind("assigned"), SQLBind("test"), SQLBind(Date())).run()
        },
        KeyCase(key: "parcels_import_id_fkey") { sql, w, ok in
            try await SchemaGuardTests.insertParcel(sql, id: UUID().uuidString, importID: ok ? w.batch : SchemaGuardTests.missing)
        },
        KeyCase(key: "land_use_parcel_id_fkey") { sql, w, ok in
            try await sql.insert(into: "land_use").columns("parcel_id", "credit_code", "relation", "area_mu")
                .values(SQLBind(ok ? w.parcel : "NO-SUCH-PARCEL"), SQLBind(UUID().uuidString), SQLBind("leased"), SQLBind(1.0)).run()
        },
        KeyCase(key: "surveys_parcel_id_fkey") { sql, w, ok in
            try await sql.insert(into: "surveys").columns("parcel_id", "town", "actual_use", "idle", "state", "surveyed_by", "surveyed_at")
                .values(SQLBind(ok ? w.parcel : "NO-SUCH-PARCEL"), SQLBind(w.town), SQLBind("厂房"), SQLBind(false), SQLBind("submitted"),
                        SQLBind("test"), SQLBind(Date())).run()
        },
        KeyCase(key: "parcel_assessments_parcel_id_fkey") { sql, w, ok in
            try await sql.insert(into: "parcel_assessments").columns("year", "parcel_id", "town", "low_efficiency", "candidate", "detail")
                .values(SQLBind(2031), SQLBind(ok ? w.parcel : "NO-SUCH-PARCEL"), SQLBind(w.town), SQLBind(false), SQLBind(false), SQLBind("{}")).run()
        },
        KeyCase(key: "parcel_assessments_year_cluster_fkey") { sql, w, ok in
            // refused: 2033 has no clusters at all
            try await sql.insert(into: "parcel_assessments").columns("year", "parcel_id", "town", "low_efficiency", "cluster", "candidate", "detail")
                .values(SQLBind(ok ? 2025 : 2033), SQLBind(ok ? w.spareParcel : w.parcel), SQLBind(w.town), SQLBind(false),
                        SQLBind(w.cluster), SQLBind(false), SQLBind("{}")).run()
        },
        KeyCase(key: "case_events_case_fkey") { sql, w, ok in
            try await sql.insert(into: "case_events").columns("case_type", "case_id", "to_state", "actor", "at")
                .values(SQLBind("appeal"), SQLBind(ok ? w.appeal : SchemaGuardTests.missing), SQLBind("accepted"), SQLBind("test"), SQLBind(Date())).run()
        },
    ]

    @Test("every foreign key refuses a row that refers to a missing row, and accepts one that refers to an existing row")
    func keysRefuseOrphans() async throws {
        #expect(Set(Self.keyCases.map(\.key)) == Set(AddForeignKeys.keys.map(\.name) + [AddCaseEventChecks.name]),
                "one case per key")
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let sql = app.db as! any SQLDatabase
            for c in Self.keyCases {
                let accepted = await Self.refusal { try await c.insert(sql, w, true) }
                #expect(accepted == nil, "\(c.key): a row referring to an existing row was refused: \(accepted ?? "")")
                let refused = await Self.refusal { try await c.insert(sql, w, false) }
                #expect(refused?.lowercased().contains("foreign key") == true, "\(c.key): \(refused ?? "accepted a row referring to nothing")")
            }
            // an event of an unknown case type, and an update that points an event elsewhere
            let unknownType = await Self.refusal {
                try await sql.insert(into: "case_events").columns("case_type", "case_id", "to_state", "actor", "at")
                    .values(SQLBind("survey"), SQLBind(w.appeal), SQLBind("accepted"), SQLBind("test"), SQLBind(Date())).run()
            }
            #expect(unknownType?.contains(AddCaseEventChecks.name) == true, "\(unknownType ?? "accepted")")
            let moved = await Self.refusal {
                try await sql.update("case_events").set("case_id", to: SQLBind(Self.missing)).where("case_id", .equal, w.appeal).run()
            }
            #expect(moved?.lowercased().contains("foreign key") == true, "\(moved ?? "accepted")")
            #expect(try await app.store.caseEvents(type: "appeal", id: w.appeal).count == (w.legacy ? 2 : 1), "the refused rows are not there")
        }
    }

    @Test("deleting a referenced row: a user's sessions and tokens and a run's results go with it; data rows refuse")
    func onDelete() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let sql = app.db as! any SQLDatabase
            #expect(try await Self.count(sql, "SELECT COUNT(*) AS n FROM land_use WHERE parcel_id = '\(w.parcel)'") > 0)
            for (what, statement) in [
                ("a parcel with land use, a survey and assessments", "DELETE FROM parcels WHERE parcel_id = '\(w.parcel)'"),
                ("an enterprise-year with a result and an appeal", "DELETE FROM enterprise_years WHERE year = 2025 AND credit_code = '\(w.code)'"),
                ("an import batch with rows", "DELETE FROM import_batches WHERE id = \(w.batch)"),
                ("a cluster that assessments name", "DELETE FROM land_clusters WHERE year = 2025 AND number = \(w.cluster)"),
                ("an appeal with case events", "DELETE FROM appeals WHERE id = \(w.appeal)"),
            ] {
                let refused = await Self.refusal { try await sql.raw(SQLQueryString(statement)).run() }
                #expect(refused?.lowercased().contains("foreign key") == true, "\(what): \(refused ?? "deleted")")
            }
            #expect(try await Self.count(sql, "SELECT COUNT(*) AS n FROM parcels WHERE parcel_id = '\(w.parcel)'") == 1)
            #expect(try await app.store.appeal(id: w.appeal) != nil)

            let results = try await Self.count(sql, "SELECT COUNT(*) AS n FROM evaluation_results WHERE run_id = \(w.run)")
            #expect(results > 0)
            try await sql.raw("DELETE FROM case_events WHERE case_id = \(bind: w.appeal)").run()
            // the appeal's case and its link first (the link keeps an appeal with a history)
            try await sql.raw("DELETE FROM loop_events WHERE case_id IN (SELECT case_id FROM appeal_cases WHERE appeal_id = \(bind: w.appeal))").run()
            let caseIDs = try await sql.raw("SELECT case_id FROM appeal_cases WHERE appeal_id = \(bind: w.appeal)").all(decodingColumn: "case_id", as: Int64.self)
            try await sql.raw("DELETE FROM appeal_cases WHERE appeal_id = \(bind: w.appeal)").run()
            for c in caseIDs { try await sql.raw("DELETE FROM cases WHERE id = \(bind: c)").run() }
            try await sql.raw("DELETE FROM appeals WHERE id = \(bind: w.appeal)").run()
            try await sql.raw("DELETE FROM evaluation_runs WHERE id = \(bind: w.run)").run()
            #expect(try await Self.count(sql, "SELECT COUNT(*) AS n FROM evaluation_results WHERE run_id = \(w.run)") == 0,
                    "a run's results are deleted with it")

            #expect(try await Self.count(sql, "SELECT COUNT(*) AS n FROM sessions WHERE user_id = \(w.user)") == 1)
            #expect(try await Self.count(sql, "SELECT COUNT(*) AS n FROM api_tokens WHERE user_id = \(w.user)") == 1)
            try await sql.raw("DELETE FROM users WHERE id = \(bind: w.user)").run()
            #expect(try await Self.count(sql, "SELECT COUNT(*) AS n FROM sessions WHERE user_id = \(w.user)") == 0, "sessions go with the user")
            #expect(try await Self.count(sql, "SELECT COUNT(*) AS n FROM api_tokens WHERE user_id = \(w.user)") == 0, "tokens go with the user")
        }
    }

    // MARK: - unique constraints

    @Test("a year has one current evaluation run; re-evaluating still works")
    func oneCurrentRun() async throws {
        try await TestApp.with { app in
            let w = try await Self.world(app)
            let sql = app.db as! any SQLDatabase
            func run(current: Bool) async throws {
                try await sql.insert(into: "evaluation_runs")
                    .columns("year", "rules_yaml", "benchmarks_json", "enterprises", "evaluated", "is_current", "actor", "created_at")
                    .values(SQLBind(2025), SQLBind(""), SQLBind("[]"), SQLBind(0), SQLBind(0), SQLBind(current), SQLBind("test"), SQLBind(Date())).run()
            }
            let second = await Self.refusal { try await run(current: true) }
            #expect(second.map { $0.lowercased().contains("unique") || $0.contains("duplicate key") } == true, "\(second ?? "a second current run was stored")")
            #expect(await Self.refusal { try await run(current: false) } == nil, "earlier runs are not current and may be many")
            let (again, _) = try await app.store.evaluate(year: 2025, rules: .default, rulesYAML: defaultRulesYAML, actor: "test")
            #expect(again.id != w.run)
            #expect(try await app.store.currentRun(year: 2025)?.id == again.id)
            #expect(try await Self.count(sql, "SELECT COUNT(*) AS n FROM evaluation_runs WHERE year = 2025 AND is_current") == 1)
        }
    }

    @Test("a duplicate of a row is refused wherever the code relies on a key being unique")
    func uniqueConstraints() async throws {
        try await TestApp.with { app in
            _ = try await Self.world(app)
            let sql = app.db as! any SQLDatabase
            try await app.store.setConsent(creditCode: "91330784MA00000000", true, actor: "test")
            try await app.store.setPublication(year: 2025, status: .publicity, start: "2025-01-01", end: "2025-01-10", actor: "test")
            try await app.store.setSetting("k", "v", actor: "test")
            // table → the unique key a copy of one of its rows repeats (auto-increment ids left out)
            let cases: [(table: String, key: [String], autoID: Bool)] = [
                ("enterprise_years", ["year", "credit_code"], true),
                ("evaluation_results", ["run_id", "credit_code"], true),
                ("parcels", ["parcel_id"], false),
                ("land_use", ["parcel_id", "credit_code"], true),
                ("parcel_assessments", ["year", "parcel_id"], true),
                ("land_clusters", ["year", "number"], true),
                ("consents", ["credit_code"], false),
                ("publications", ["year"], false),
                ("sessions", ["id"], false),
                ("users", ["login"], true),
                ("api_tokens", ["token_hash"], true),
                ("settings", ["key"], false),
                ("data_revisions", ["name"], false),
            ]
            for c in cases {
                let columns = try await Self.columns(sql, c.table).filter { !(c.autoID && $0 == "id") }
                #expect(columns.count >= 2, "\(c.table)")
                let list = columns.map(quoted).joined(separator: ", ")
                let n = try await Self.count(sql, "SELECT COUNT(*) AS n FROM \(quoted(c.table))")
                #expect(n > 0, "\(c.table) has a row to copy")
                let refused = await Self.refusal {
                    let copy = "INSERT INTO \(quoted(c.table)) (\(list)) SELECT \(list) FROM \(quoted(c.table)) LIMIT 1"
                    try await sql.raw(SQLQueryString(copy)).run()
                }
                let text = refused?.lowercased() ?? ""
                #expect(text.contains("unique") || text.contains("duplicate key"), "\(c.table) \(c.key): \(refused ?? "the copy was stored")")
                #expect(try await Self.count(sql, "SELECT COUNT(*) AS n FROM \(quoted(c.table))") == n)
            }
        }
    }

    // MARK: - SQLite connections

    @Test("every SQLite connection the application opens enforces foreign keys",
          .enabled(if: !TestApp.isPostgres, "SQLite only: PostgreSQL always enforces its keys"))
    func sqliteForeignKeysOn() async throws {
        // in memory (the tests) and in a file (`mujun serve`, `mujun demo`), on every event loop
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-fk-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        for url in ["sqlite://:memory:", "sqlite://" + dir.appendingPathComponent("fk.sqlite").path] {
            let app = try await Application.make(.testing)
            do {
                try await configure(app, ServerConfig(databaseURL: url, secret: "test-secret", bcryptCost: 4))
                var loops = 0
                for loop in app.eventLoopGroup.makeIterator() {
                    loops += 1
                    let db = try #require(app.databases.database(.sqlite, logger: app.logger, on: loop)) as! any SQLDatabase
                    let on = try await db.raw("PRAGMA foreign_keys").first(decodingColumn: "foreign_keys", as: Int.self)
                    #expect(on == 1, "\(url), event loop \(loops)")
                    // and inside a transaction, where the writes happen
                    let inTransaction = try await (db as! any Database).transaction { t in
                        try await (t as! any SQLDatabase).raw("PRAGMA foreign_keys").first(decodingColumn: "foreign_keys", as: Int.self)
                    }
                    #expect(inTransaction == 1, "\(url), event loop \(loops), transaction")
                }
                #expect(loops >= 1)
                try await app.asyncShutdown()
            } catch {
                try? await app.asyncShutdown()
                throw error
            }
        }
    }

    // MARK: - the migrations on a database with data

    /// The migrations before the schema guards.
    /// The migrations of the release before 005, and the parcels' dates (011): the store reads
    /// and writes those columns when it loads the demo into the old database, and 011 only adds
    /// nullable columns, which nothing between 005 and 010 touches.
    static var before005: [any Migration] { Array(MujunMigrations.all.prefix { !($0 is AddForeignKeys) }) + [AddParcelDates()] }

    static func migrate(_ app: Application, _ migrations: [any Migration]) async throws {
        let m = Migrations()
        m.add(migrations)
        let migrator = Migrator(databases: app.databases, migrations: m, logger: app.logger, on: app.eventLoopGroup.any())
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }

    /// A database in the state of the release before 005 with the demo city in it: figures and
    /// evaluations of 2024 and 2025, parcels, land use, the land of both years assessed,
    /// accounts with sessions and tokens, publications, consents, appeals with their events,
    /// surveys.
    static func oldDatabaseWithDemo(_ app: Application) async throws {
        try await migrate(app, before005)
        let city = DemoCity(enterprises: 300, seed: 3)
        for year in [2024, 2025] {
            _ = try await app.store.importEnterprises(city.records(year: year, latestYear: 2025), fileName: "demo-\(year)", actor: "demo")
            _ = try await app.store.evaluate(year: year, rules: .default, rulesYAML: defaultRulesYAML, actor: "demo")
        }
        let land = DemoLand(city: city)
        try await app.store.importParcels(land.parcels, fileName: "demo-parcels", actor: "demo")
        try await app.store.importLandUse(land.landUse, fileName: "demo-land-use", actor: "demo")
        for year in [2024, 2025] { try await app.store.assessLand(year: year, rules: .default, actor: "demo") }
        _ = try await DemoSetup.load(store: app.store, city: city, years: [2024, 2025], rules: .default, bcryptCost: 4, appeals: false)
        // appeals as that release stored them: the row and its case_events, at four stages
        let rows = try await app.store.results(.init(year: 2025), per: 4).items
        for (r, states) in zip(rows, [[CaseState.assigned], [.assigned, .accepted], [.assigned, .accepted, .replied],
                                      [.assigned, .accepted, .replied, .evaluated, .closed]]) {
            try await app.store.legacyAppeal(year: 2025, creditCode: r.creditCode, town: r.town, field: .tax, states: states,
                                             rating: states.count == 5 ? 2 : nil, actor: "demo")
        }
        for p in land.parcels.prefix(5) {
            _ = try await app.store.addSurvey(parcelID: p.parcelID, town: p.town, actualUse: "厂房", occupantsSeen: nil, idle: true,
                                              remarks: "闲置", photoName: "p.jpg", photo: Data([0xFF, 0xD8, 0xFF]), actor: "demo")
        }
        for u in try await app.store.users() {
            try await app.store.createSession(idHash: "s-\(u.login)", userID: u.id, csrfToken: "c", expiresAt: Date().addingTimeInterval(3600), address: "127.0.0.1")
            try await app.store.createToken(userID: u.id, name: "t", hash: "h-\(u.login)", prefix: "mj_", actor: "demo")
        }
    }

    /// Every row of every table (but the migration log), as text, sorted.
    static func contents(_ sql: any SQLDatabase) async throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for t in try await tables(sql) where t != "_fluent_migrations" {
            if TestApp.isPostgres {
                let q = "SELECT CAST(x AS text) AS r FROM \(quoted(t)) x"
                out[t] = try await sql.raw(SQLQueryString(q))
                    .all(decodingColumn: "r", as: String.self).sorted()
            } else {
                let row = try await columns(sql, t).map { "quote(\(quoted($0)))" }.joined(separator: " || '|' || ")
                let q = "SELECT \(row) AS r FROM \(quoted(t))"
                out[t] = try await sql.raw(SQLQueryString(q))
                    .all(decodingColumn: "r", as: String.self).sorted()
            }
        }
        return out
    }

    static func tables(_ sql: any SQLDatabase) async throws -> [String] {
        let q = TestApp.isPostgres
            ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        return try await sql.raw(SQLQueryString(q)).all(decodingColumn: "name", as: String.self).sorted()
    }

    static func columns(_ sql: any SQLDatabase, _ table: String) async throws -> [String] {
        if TestApp.isPostgres {
            return try await sql.raw("""
                SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = \(bind: table)
                ORDER BY ordinal_position
                """).all(decodingColumn: "name", as: String.self)
        }
        return try await sql.raw("SELECT name FROM pragma_table_info(\(bind: table)) ORDER BY cid").all(decodingColumn: "name", as: String.self)
    }

    /// The schema's indexes, triggers and (SQLite) table definitions, by name.
    static func schema(_ sql: any SQLDatabase) async throws -> [String: String] {
        struct Row: Decodable { var name: String; var def: String }
        let q = TestApp.isPostgres ? """
            SELECT 'index ' || indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = 'public'
            UNION ALL SELECT 'trigger ' || tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
            UNION ALL SELECT 'constraint ' || conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            UNION ALL SELECT 'column ' || table_name || '.' || column_name,
                data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '') FROM information_schema.columns WHERE table_schema = 'public'
            """ : """
            SELECT type || ' ' || name AS name, COALESCE(sql, '') AS def FROM sqlite_master
            UNION ALL SELECT 'column ' || m.name || '.' || c.name, c.type || ' ' || c."notnull" || ' ' || COALESCE(c.dflt_value, '') || ' ' || c.pk
                FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table'
            """
        var out: [String: String] = [:]
        for r in try await sql.raw(SQLQueryString(q)).all(decoding: Row.self) { out[r.name] = r.def }
        return out
    }

    /// The foreign keys in the database, as `table(a, b) → parent(x, y) ON DELETE …`.
    static func foreignKeys(_ sql: any SQLDatabase) async throws -> Set<String> {
        struct Row: Decodable { var t: String; var p: String; var cols: String; var pcols: String; var d: String }
        if TestApp.isPostgres {
            let rows = try await sql.raw("""
                SELECT c.conrelid::regclass::text AS t, c.confrelid::regclass::text AS p,
                  (SELECT string_agg(a.attname, ', ' ORDER BY k.o) FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS cols,
                  (SELECT string_agg(a.attname, ', ' ORDER BY k.o) FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) AS pcols,
                  CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'r' THEN 'RESTRICT' WHEN 'a' THEN 'NO ACTION' ELSE 'OTHER' END AS d
                FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
                """).all(decoding: Row.self)
            return Set(rows.map { "\($0.t)(\($0.cols)) → \($0.p)(\($0.pcols)) ON DELETE \($0.d)" })
        }
        struct FK: Decodable { var t: String; var id: Int; var seq: Int; var p: String; var c: String; var pc: String; var d: String }
        let rows = try await sql.raw("""
            SELECT m.name AS t, f.id AS id, f.seq AS seq, f."table" AS p, f."from" AS c, f."to" AS pc, f.on_delete AS d
            FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq
            """).all(decoding: FK.self)
        return Set(Dictionary(grouping: rows) { "\($0.t)#\($0.id)" }.values.map { g in
            let g = g.sorted { $0.seq < $1.seq }
            return "\(g[0].t)(\(g.map(\.c).joined(separator: ", "))) → \(g[0].p)(\(g.map(\.pc).joined(separator: ", "))) ON DELETE \(g[0].d)"
        })
    }

    /// The keys of AddForeignKeys, and those the later migrations bring with their new tables.
    static var expectedKeys: Set<String> {
        Set(AddForeignKeys.keys.map { "\($0.arrow) ON DELETE \($0.onDelete.rawValue)" }).union(laterKeys)
    }
    /// 006/CreateCases: an event names its case.
    static let laterKeys: Set<String> = ["loop_events(case_id) → cases(id) ON DELETE NO ACTION",
                                         "case_notes(case_id) → cases(id) ON DELETE NO ACTION",
                                         "case_attachments(case_id) → cases(id) ON DELETE NO ACTION",
                                         "appeal_cases(appeal_id) → appeals(id) ON DELETE NO ACTION",
                                         "appeal_cases(case_id) → cases(id) ON DELETE NO ACTION",
                                         // 012/CreateProjects: a project's parts name it; a photo its report
                                         "project_parcels(project_id) → projects(id) ON DELETE NO ACTION",
                                         "project_milestones(project_id) → projects(id) ON DELETE NO ACTION",
                                         "project_reports(project_id) → projects(id) ON DELETE NO ACTION",
                                         "project_photos(report_id) → project_reports(id) ON DELETE NO ACTION",
                                         "project_events(project_id) → projects(id) ON DELETE NO ACTION",
                                         // 014/CreateChallenges
                                         "challenges(project_id) → projects(id) ON DELETE NO ACTION",
                                         "challenge_applications(challenge_id) → challenges(id) ON DELETE NO ACTION",
                                         "challenge_reviews(application_id) → challenge_applications(id) ON DELETE NO ACTION",
                                         "challenge_tranches(challenge_id) → challenges(id) ON DELETE NO ACTION",
                                         // 015/CreateProjectBulletins
                                         "project_snapshots(project_id) → projects(id) ON DELETE NO ACTION",
                                         // 017/CreateQuotaLedger
                                         "quota_balances(project_id) → quota_projects(id) ON DELETE NO ACTION",
                                         "quota_subprojects(quota_project_id) → quota_projects(id) ON DELETE NO ACTION",
                                         "quota_subprojects(project_id) → projects(id) ON DELETE NO ACTION",
                                         "quota_transfers(quota_project_id) → quota_projects(id) ON DELETE NO ACTION",
                                         "quota_entries(project_id) → quota_projects(id) ON DELETE NO ACTION",
                                         "quota_entries(subproject_id) → quota_subprojects(id) ON DELETE NO ACTION",
                                         "quota_entries(transfer_id) → quota_transfers(id) ON DELETE NO ACTION",
                                         "quota_checkpoints(project_id) → quota_projects(id) ON DELETE NO ACTION"]
    /// The tables of the migrations after 005.
    static let laterTables: Set<String> = ["cases", "loop_events", "bulletins", "meetings", "case_notes", "case_attachments", "calendar_years", "appeal_cases",
                                           "projects", "project_parcels", "project_milestones", "project_reports", "project_photos", "project_events",
                                           "project_targets", "challenges", "challenge_applications", "challenge_reviews", "challenge_tranches",
                                           "project_snapshots", "project_target_log", "project_bulletins",
                                           "quota_projects", "quota_balances", "quota_subprojects", "quota_transfers", "quota_entries", "quota_checkpoints",
                                           "sign_in_failures", "job_runs", "outbox", "notify_targets"]

    @Test("the migrations keep every row of a database that holds the demo city, and the land revision triggers still fire")
    func migrationKeepsData() async throws {
        try await TestApp.withUnmigrated { app in
            try await Self.oldDatabaseWithDemo(app)
            let sql = app.db as! any SQLDatabase
            let before = try await Self.contents(sql)
            let schemaBefore = try await Self.schema(sql)
            #expect(try await Self.foreignKeys(sql).isEmpty)
            #expect((before["case_events"]?.count ?? 0) > 0 && (before["surveys"]?.count ?? 0) > 0 && (before["appeals"]?.count ?? 0) > 0
                    && (before["sessions"]?.count ?? 0) > 0 && (before["parcel_assessments"]?.count ?? 0) > 0, "every table has rows")

            let started = Date()
            try await app.autoMigrate()
            let seconds = Date().timeIntervalSince(started)
            print("schema guards: migrations 005 on the demo city (300 enterprises, \(before.values.reduce(0) { $0 + $1.count }) rows) took \(String(format: "%.2f", seconds)) s on \(TestApp.isPostgres ? "PostgreSQL" : "SQLite")")

            // every row, with its id
            let after = try await Self.contents(sql)
            #expect(Set(after.keys) == Set(before.keys).union(Self.laterTables))
            for (t, rows) in before {
                // 018/AddCalendarRevision adds the `calendar` revision beside `land`
                let same = t == "data_revisions" ? Set(rows).isSubset(of: Set(after[t] ?? [])) && (after[t]?.count ?? 0) == rows.count + 1
                    : after[t] == rows
                #expect(same, "\(t): \(rows.count) rows before, \(after[t]?.count ?? 0) after, or changed")
            }
            // the keys, and nothing else of the schema changed but what 005 adds
            #expect(try await Self.foreignKeys(sql) == Self.expectedKeys)
            let schemaAfter = try await Self.schema(sql)
            for (name, def) in schemaBefore {
                if !TestApp.isPostgres, name.hasPrefix("table "), let table = name.split(separator: " ").last.map(String.init) {
                    let clauses = AddForeignKeys.keys.filter { $0.table == table }.map(\.constraint)
                    let unkeyed = try schemaAfter[name].map { try SQLiteTableRebuild.removing(clauses, from: $0) }
                    #expect(unkeyed == def, "\(name): the definition is the old one plus its keys")
                } else {
                    #expect(schemaAfter[name] == def, "\(name) kept")
                }
            }
            let added = Set(schemaAfter.keys).subtracting(schemaBefore.keys)
            #expect(added.contains { $0.contains(AddCurrentRunIndex.name) })
            #expect(added.contains { $0.contains("case_events_case_fkey") })
            if !TestApp.isPostgres {
                #expect(try await sql.raw("PRAGMA foreign_key_check").all().isEmpty)
                #expect(try await sql.raw("PRAGMA integrity_check").first(decodingColumn: "integrity_check", as: String.self) == "ok")
            }

            // the land revision triggers: every land table, every kind of change
            for statement in ["UPDATE parcels SET block = block WHERE parcel_id = (SELECT MIN(parcel_id) FROM parcels)",
                              "UPDATE land_use SET relation = relation WHERE id = (SELECT MIN(id) FROM land_use)",
                              "UPDATE parcel_assessments SET town = town WHERE id = (SELECT MIN(id) FROM parcel_assessments)",
                              "UPDATE land_clusters SET towns = towns WHERE id = (SELECT MIN(id) FROM land_clusters)",
                              "UPDATE surveys SET remarks = remarks WHERE id = (SELECT MIN(id) FROM surveys)",
                              "DELETE FROM surveys WHERE id = (SELECT MIN(id) FROM surveys)"] {
                let r0 = try await app.store.landRevision()
                try await sql.raw(SQLQueryString(statement)).run()
                #expect(try await app.store.landRevision() > r0, "\(statement)")
            }
            var r0 = try await app.store.landRevision()
            let parcel = try #require(try await app.store.allParcels().first)
            try await app.store.addSurvey(parcelID: parcel.parcelID, town: parcel.town, actualUse: "仓库", occupantsSeen: nil,
                                          idle: false, remarks: nil, photoName: nil, photo: nil, actor: "test")
            #expect(try await app.store.landRevision() > r0)

            // the write paths, under the keys
            let counts = { (t: String) in try await Self.count(sql, "SELECT COUNT(*) AS n FROM \(t)") }
            let surveys = try await counts("surveys"), landUse = try await counts("land_use"), assessments = try await counts("parcel_assessments")
            let parcels = try await app.store.allParcels()
            r0 = try await app.store.landRevision()
            try await app.store.importParcels(parcels, fileName: "again", actor: "test")
            let kept = (try await counts("surveys"), try await counts("land_use"), try await counts("parcel_assessments"))
            #expect(kept == (surveys, landUse, assessments), "re-imported parcels keep what refers to them")
            try await app.store.importLandUse(try await app.store.landUse(), fileName: "again", actor: "test")
            #expect(try await counts("land_use") == landUse)
            try await app.store.assessLand(year: 2025, rules: .default, actor: "test")
            #expect(try await counts("parcel_assessments") == assessments)
            #expect(try await app.store.landRevision() > r0)
            let records = try await app.store.records(year: 2025)
            _ = try await app.store.importEnterprises(records, fileName: "again", actor: "test")
            _ = try await app.store.evaluate(year: 2025, rules: .default, rulesYAML: defaultRulesYAML, actor: "test")
            let row = try #require(try await app.store.results(.init(year: 2025), per: 1).items.first)
            let appeal = try await app.store.fileAppeal(year: 2025, creditCode: row.creditCode, town: row.town, field: .rnd, currentValue: nil,
                                                        claimedValue: 3, reason: "r", attachmentName: nil, attachment: nil, actor: "test")
            try await app.store.moveAppeal(id: appeal, to: .accepted, actor: "test")
            #expect(try await app.store.services.appeals.events(id: appeal).map(\.toState) == ["assigned", "accepted"])
            // the appeals of the old release are on the engine now, with their histories
            for a in try await app.store.appeals(scope: .all) where a.id != appeal {
                let legacy = try await app.store.caseEvents(type: "appeal", id: a.id).map(\.toState)
                #expect(try await app.store.services.appeals.events(id: a.id).map(\.toState) == legacy, "appeal #\(a.id)")
                let c = try #require(try await app.store.appealCase(appealID: a.id))
                #expect(CaseState(loop: CaseLoop.State(rawValue: c.state)!) == a.caseState, "appeal #\(a.id): \(c.state)")
            }
            if !TestApp.isPostgres { #expect(try await sql.raw("PRAGMA foreign_key_check").all().isEmpty) }
        }
    }

    @Test("rows that break a new constraint stop the migration with a message naming them, and the database stays as it was")
    func violationsStopTheMigration() async throws {
        try await TestApp.withUnmigrated { app in
            try await Self.migrate(app, Self.before005)
            let sql = app.db as! any SQLDatabase
            let city = DemoCity(enterprises: 30, seed: 4)
            _ = try await app.store.importEnterprises(city.records(year: 2025, latestYear: 2025), fileName: "t", actor: "test")
            _ = try await app.store.evaluate(year: 2025, rules: .default, rulesYAML: defaultRulesYAML, actor: "test")
            let land = DemoLand(city: city)
            try await app.store.importParcels(land.parcels, fileName: "parcels", actor: "test")
            // what the old schema let through: two surveys of a parcel that does not exist, a
            // session of a user that does not exist
            for _ in 0..<2 {
                try await app.store.addSurvey(parcelID: "NO-SUCH-PARCEL", town: "古山镇", actualUse: "厂房", occupantsSeen: nil, idle: false,
                                              remarks: nil, photoName: nil, photo: nil, actor: "test")
            }
            try await app.store.createSession(idHash: "orphan", userID: Self.missing, csrfToken: "c", expiresAt: Date(), address: nil)
            let contents = try await Self.contents(sql)
            let schema = try await Self.schema(sql)

            let failure = await Self.refusal { try await app.autoMigrate() }
            let message = try #require(failure, "the migration ran over rows that break its keys")
            for part in ["AddForeignKeys", "数据库未作任何更改", "left unchanged",
                         "表 surveys：2 行违反约束 surveys_parcel_id_fkey", "table surveys: 2 row(s) violate surveys_parcel_id_fkey",
                         "表 sessions：1 行违反约束 sessions_user_id_fkey", "table sessions: 1 row(s) violate sessions_user_id_fkey"] {
                #expect(message.contains(part), "the message names \(part): \(message)")
            }
            #expect(!message.contains("land_use_parcel_id_fkey"), "keys that hold are not listed")
            #expect(try await Self.contents(sql) == contents, "no row changed")
            #expect(try await Self.schema(sql) == schema, "no table, index, trigger or constraint changed")
            #expect(try await Self.foreignKeys(sql).isEmpty)
            let applied = try await sql.raw("SELECT name FROM _fluent_migrations").all(decodingColumn: "name", as: String.self)
            #expect(!applied.contains { $0.contains("AddForeignKeys") })

            // fixed, the migration goes through; a year with two current runs stops the next one
            try await sql.raw("DELETE FROM surveys WHERE parcel_id = 'NO-SUCH-PARCEL'").run()
            try await sql.raw("DELETE FROM sessions WHERE id = 'orphan'").run()
            try await sql.raw("UPDATE evaluation_runs SET is_current = \(bind: true)").run()
            try await sql.insert(into: "evaluation_runs")
                .columns("year", "rules_yaml", "benchmarks_json", "enterprises", "evaluated", "is_current", "actor", "created_at")
                .values(SQLBind(2025), SQLBind(""), SQLBind("[]"), SQLBind(0), SQLBind(0), SQLBind(true), SQLBind("test"), SQLBind(Date())).run()
            let runs = try await Self.contents(sql)["evaluation_runs"]
            let second = try #require(await Self.refusal { try await app.autoMigrate() }, "two current runs of 2025 went through")
            for part in ["AddCurrentRunIndex", "evaluation_runs", AddCurrentRunIndex.name, "2025: 2", "数据库未作任何更改"] {
                #expect(second.contains(part), "\(part): \(second)")
            }
            #expect(try await Self.contents(sql)["evaluation_runs"] == runs)
            #expect(try await Self.foreignKeys(sql) == Self.expectedKeys.subtracting(Self.laterKeys), "the migrations before it are in, not those after")
            #expect(!(try await Self.schema(sql)).keys.contains { $0.contains(AddCurrentRunIndex.name) })
            try await sql.raw("UPDATE evaluation_runs SET is_current = \(bind: false) WHERE id = (SELECT MAX(id) FROM evaluation_runs)").run()
            try await app.autoMigrate()
            #expect((try await Self.schema(sql)).keys.contains { $0.contains(AddCurrentRunIndex.name) })
        }
    }

    @Test("an event whose case is not an appeal stops the case-event migration")
    func caseEventViolation() async throws {
        try await TestApp.withUnmigrated { app in
            try await Self.migrate(app, Self.before005)
            let sql = app.db as! any SQLDatabase
            try await sql.insert(into: "case_events").columns("case_type", "case_id", "to_state", "actor", "at")
                .values(SQLBind("appeal"), SQLBind(Self.missing), SQLBind("assigned"), SQLBind("test"), SQLBind(Date())).run()
            let failure = try #require(await Self.refusal { try await app.autoMigrate() })
            #expect(failure.contains("表 case_events：1 行违反约束 case_events_case_fkey"), "\(failure)")
            #expect(!(try await Self.schema(sql)).keys.contains { $0.contains("case_events_case_fkey") })
        }
    }

    @Test("the foreign-key migration reverts: the keys go, the rows and the land revision triggers stay")
    func revert() async throws {
        try await TestApp.withUnmigrated { app in
            try await Self.migrate(app, Self.before005)
            let sql = app.db as! any SQLDatabase
            _ = try await Self.world(app)
            let contents = try await Self.contents(sql)
            let schema = try await Self.schema(sql)
            try await Self.migrate(app, MujunMigrations.all)
            #expect(try await Self.foreignKeys(sql) == Self.expectedKeys)
            try await app.migrator.revertLastBatch().get()
            #expect(try await Self.foreignKeys(sql).isEmpty)
            #expect(try await Self.contents(sql) == contents)
            #expect(try await Self.schema(sql) == schema)
        }
    }
}

extension TestApp {
    /// Runs `body` with an application whose (empty) database is registered but not migrated.
    static func withUnmigrated<T>(_ body: (Application) async throws -> T) async throws -> T {
        if let shared = sharedDatabaseURL {
            return try await PostgresTestDatabases.shared.with(server: shared, migrated: false) { url in
                try await unmigrated(url, body)
            }
        }
        return try await unmigrated("sqlite://:memory:", body)
    }

    private static func unmigrated<T>(_ url: String, _ body: (Application) async throws -> T) async throws -> T {
        let app = try await Application.make(.testing)
        do {
            try configureDatabase(app, ServerConfig(databaseURL: url, secret: "test-secret", bcryptCost: 4))
            let result = try await body(app)
            try await app.asyncShutdown()
            return result
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}
