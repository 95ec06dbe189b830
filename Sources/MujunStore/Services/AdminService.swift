import Foundation
import FluentKit
import SQLKit
import MujunCore

/// The administrator's reads and changes besides accounts: the audit log (searched and
/// exported, never edited) and the settings.
public struct AdminService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    /// A page of the audit log, newest first.
    public func auditLog(_ q: Store.AuditQuery, limit: Int, offset: Int) async throws -> (entries: [Store.AuditEntry], total: Int) {
        try caller.require(.viewAudit)
        return try await unscoped.auditLog(q, limit: limit, offset: offset)
    }

    /// Records that the caller exported something (an export is a read worth knowing about).
    public func recordExport(_ action: String, target: String, detail: String) async throws {
        try await unscoped.audit(actor: caller.actor, action: action, target: target, detail: caller.detail(detail))
    }

    /// Pages the admin may mark public (setting `public_pages`).
    public static let markablePages: [(key: String, label: String)] = [("rules", "评价规则页"), ("openapi", "接口文档 /openapi.json")]

    /// The keys of the pages marked public (anyone may ask: the answer decides what an
    /// anonymous visitor sees).
    public func publicPages() async throws -> Set<String> {
        guard let v = try await unscoped.setting("public_pages") else { return [] }
        return Set(v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    /// Marks pages public. `expected` is the value the admin's form was made from: when
    /// another change came in between, nothing is written (409).
    public func setPublicPages(_ keys: Set<String>, expected: String?) async throws {
        try caller.require(.manageSettings)
        let known = Set(Self.markablePages.map(\.key))
        guard keys.isSubset(of: known) else { throw ServiceError.invalid("未知页面 / unknown page") }
        let value = Self.markablePages.map(\.key).filter(keys.contains).joined(separator: ",")
        try await setSetting("public_pages", value, expected: expected) { stored in
            // the same pages, whatever their order or spacing
            Set(stored.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
    }

    /// Changes a setting: a step on the settings row, conditional on its current value.
    func setSetting(_ key: String, _ value: String, expected: String?,
                    normalize: @escaping @Sendable (String) -> Set<String> = { [$0] }) async throws {
        try await unscoped.db.transaction { db in
            let tx = Store(db)
            // the row exists from here on (empty = nothing set), so the step can claim it
            try await tx.sql.insert(into: "settings").columns("key", "value").values(SQLBind(key), SQLBind(""))
                .ignoringConflicts(with: ["key"]).run()
            let before = try await tx.setting(key) ?? ""
            if let expected, normalize(expected) != normalize(before) {
                throw ServiceError.conflict("设置已被其他管理员修改，请刷新页面后重试 / the setting was changed meanwhile; reload and try again")
            }
            guard normalize(before) != normalize(value) else { return }
            var step = Store.Step(table: "settings", key: [("key", key)], subject: key, stateColumn: nil, from: nil, to: nil,
                                  set: [("value", SQLBind(value))], action: "setting.change",
                                  detail: "\(before.isEmpty ? "（无）" : before) → \(value.isEmpty ? "（无）" : value)", verb: ("修改", "change"))
            step.condition = SQLBinaryExpression(SQLColumn("value"), .equal, SQLBind(before))
            step.conflictMessage = "设置已被其他管理员修改，请刷新页面后重试 / the setting was changed meanwhile; reload and try again"
            try await tx.perform(step, by: caller)
        }
    }
}

/// What the server asks of the database for itself: whether it answers, the data revisions.
public struct SystemService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    /// Whether the database answers.
    public func ping() async throws { try await unscoped.ping() }

    /// The revision of the land tables (raised by triggers on every change).
    public func landRevision() async throws -> Int64 { try await unscoped.landRevision() }
}

extension AdminService {
    /// Records a refused request worth knowing about (a CSRF failure, a rate limit…).
    public func recordSecurityEvent(_ action: String, target: String?, detail: String? = nil) async throws {
        try await unscoped.audit(actor: caller.actor, action: action, target: target,
                                 detail: caller.detail([detail, caller.address].compactMap { $0 }.joined(separator: " · ").nilIfEmpty))
    }
}

extension SystemService {
    /// Empties the data tables (children before parents), for the benchmarks that load the same
    /// data again. The system only; accounts, settings and the audit log stay.
    public func clearDataForBenchmark() async throws {
        guard caller.isSystem else { throw ServiceError(.forbidden, "仅限系统 / system only") }
        try await unscoped.db.transaction { db in
            let sql = Store(db).sql
            for table in ["bulletins", "loop_events", "cases", "case_events", "appeals", "surveys", "parcel_assessments", "land_clusters", "land_use", "parcels",
                          "evaluation_results", "evaluation_runs", "publications", "consents", "enterprise_years", "import_batches"] {
                try await sql.delete(from: table).run()
            }
        }
    }
}
