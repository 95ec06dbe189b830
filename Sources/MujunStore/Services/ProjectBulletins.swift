import Foundation
import FluentKit
import SQLKit
import MujunCore
import Crypto

/// Project bulletins (项目推进通报, issue 10): per town and per lead department — projects by
/// state, progress, milestones late, land freed, targets against what was done — computed from
/// the projects' history. Issuing one stores its number, the moment and the SHA-256 of its bytes;
/// reopening it recomputes it from the history recorded by that moment and checks the bytes.
///
/// ```swift
/// let live = try await services.projects.bulletin()                 // as of today, from the latest history
/// let rec = try await services.projects.issueBulletin(number: "项目通报〔2026〕12号", title: "")
/// let (same, bytesMatch) = try await services.projects.issuedBulletin(id: rec.id)   // bytesMatch == true
/// ```
extension ProjectService {
    /// The bulletin as of `day` (default today), from the history recorded by `recordedBy` (nil: all of it).
    public func bulletin(on day: CalendarDate? = nil, recordedBy: Int64? = nil) async throws -> ProjectBulletin {
        try caller.require(.manageProjects)
        let day = day ?? today
        let store = unscoped
        let plans = try await store.snapshotPlans(recordedBy: recordedBy)
        let targets = try await store.targets(year: day.year, recordedBy: recordedBy)
        return ProjectBulletin(plans: plans, targets: targets, types: types, calendar: calendar, asOf: day, towns: context.rules.towns)
    }

    static func sha256(_ b: ProjectBulletin) throws -> String {
        SHA256.hash(data: try b.json()).map { String(format: "%02x", $0) }.joined()
    }

    /// Issues today's bulletin (HQ): a unique number; frozen from then on.
    public func issueBulletin(number: String, title: String) async throws -> Store.ProjectBulletinRecord {
        try caller.require(.manageProjects)
        let number = number.trimmingCharacters(in: .whitespaces)
        guard !number.isEmpty, number.count <= 100 else { throw ServiceError.invalid("请填写通报文号 / the number is required") }
        let title = title.trimmingCharacters(in: .whitespaces).isEmpty ? "项目推进情况通报" : title.trimmingCharacters(in: .whitespaces)
        guard title.count <= CaseService.maxTitle else { throw ServiceError.invalid("标题过长 / the title is too long") }
        let now = Store.nowMicros(), day = today
        let b = try await bulletin(on: day, recordedBy: now)
        let hash = try Self.sha256(b)
        let actor = caller.actor, detail = caller.detail("截至 \(day)，\(b.city.projects) 个项目，SHA-256 \(hash.prefix(12))…")
        let id = try await unscoped.db.transaction { db in
            let tx = Store(db)
            if try await tx.sql.select().column("id").from("project_bulletins").where("number", .equal, number).first() != nil {
                throw ServiceError.conflict("文号 \(number) 已发布 / a bulletin numbered \(number) exists")
            }
            let id = try await tx.sql.insert(into: "project_bulletins").columns("number", "title", "issued_on", "recorded_us", "issued_by", "sha256")
                .values(SQLBind(number), SQLBind(title), SQLBind(day.description), SQLBind(now), SQLBind(actor), SQLBind(hash))
                .returning("id").first(decodingColumn: "id", as: Int64.self) ?? 0
            try await tx.audit(actor: actor, action: "project.bulletin.issued", target: number, detail: detail)
            return id
        }
        guard let r = try await unscoped.projectBulletin(id: id) else { throw ServiceError.notFound("通报不存在 / bulletin not found") }
        return r
    }

    public func issuedBulletins() async throws -> [Store.ProjectBulletinRecord] {
        try caller.require(.manageProjects)
        return try await unscoped.projectBulletins()
    }

    /// An issued bulletin recomputed from the history recorded by its issue, and whether its bytes
    /// are those it was issued with.
    public func issuedBulletin(id: Int64) async throws -> (record: Store.ProjectBulletinRecord, bulletin: ProjectBulletin, intact: Bool) {
        try caller.require(.manageProjects)
        guard let r = try await unscoped.projectBulletin(id: id), let day = CalendarDate(r.issuedOn) else {
            throw ServiceError.notFound("通报不存在 / bulletin not found")
        }
        let b = try await bulletin(on: day, recordedBy: r.recordedUs)
        return (r, b, try Self.sha256(b) == r.sha256)
    }
}
