import Foundation
import FluentKit
import SQLKit
import MujunCore

/// One step of a workflow (an appeal accepted, a survey confirmed, results published, a token
/// revoked…), performed the only way any step is performed: in one transaction,
///
/// 1. `UPDATE table SET state = to, … WHERE key AND state IN (from)` — the step claims the row;
///    two requests at once cannot both pass, because the second finds the row no longer in a
///    `from` state (PostgreSQL makes it wait for the first and re-checks; SQLite lets one writer
///    in at a time, and this update is the transaction's first statement);
/// 2. no row changed → `ServiceError.conflict` naming the state the row is in now (or
///    `notFound` when there is no such row); nothing was written;
/// 3. the step's own further work (`work`), inside the same transaction;
/// 4. the case events and the audit entry.
///
/// ```swift
/// try await store.perform(Store.Step(table: "appeals", key: [("id", 12)], subject: "申诉 #12",
///                                    stateColumn: "state", from: ["assigned"], to: "accepted",
///                                    action: "appeal.accepted", verb: ("签收", "accept"),
///                                    events: [.init(type: "appeal", id: 12, from: "assigned", to: "accepted", note: nil)]),
///                         by: caller)
/// ```
extension Store {
    struct Step: Sendable {
        struct Event: Sendable {
            var type: String
            var id: Int64
            var from: String?
            var to: String
            var note: String?
        }

        var table: String
        /// Column = value pairs that identify the row.
        var key: [(String, any Encodable & Sendable)]
        /// What the messages call the row ("申诉 #12"), and the audit log's target unless
        /// `target` says otherwise.
        var subject: String
        /// The state column, and the states the row must be in (nil: any state).
        var stateColumn: String?
        var from: [String]?
        /// The new state (nil: the step sets other columns only).
        var to: String?
        /// Further columns set by the update.
        var set: [(String, any SQLExpression)] = []
        /// A further condition the row must meet (e.g. `revoked_at IS NULL`).
        var condition: (any SQLExpression)?
        /// Audit action and detail.
        var action: String
        var detail: String?
        /// What the step does, for the conflict message: ("签收", "accept").
        var verb: (zh: String, en: String)
        /// Names of the states, for the conflict message.
        var stateName: @Sendable (String) -> String = { $0 }
        /// The message when the row exists but is no longer as the step expects (default:
        /// the state it is in, or "changed by another request").
        var conflictMessage: String?
        var events: [Event] = []
        /// The audit entry's target, when it is not `subject`.
        var target: String?
    }

    /// Performs `step` (see above); `work` runs inside the transaction after the row was
    /// claimed, and may return a detail that replaces the step's own in the audit entry.
    @discardableResult
    func perform<T: Sendable>(_ step: Step, by caller: Caller,
                              _ work: @escaping @Sendable (Store) async throws -> (T, String?)) async throws -> T {
        try await db.transaction { db in
            let tx = Store(db)
            let sql = tx.sql
            var update = sql.update(step.table)
            if let c = step.stateColumn, let to = step.to { update = update.set(SQLColumn(c), to: SQLBind(to)) }
            for (c, v) in step.set { update = update.set(SQLColumn(c), to: v) }
            if step.set.isEmpty && step.to == nil {
                // nothing to set: touch the key so the row is still claimed (locked) by this step
                if let (c, _) = step.key.first { update = update.set(SQLColumn(c), to: SQLColumn(c)) }
            }
            for (c, v) in step.key { update = update.where(SQLColumn(c), .equal, SQLBind(v)) }
            if let c = step.stateColumn, let from = step.from {
                update = update.where(SQLColumn(c), .in, SQLBind.group(from))
            }
            if let cond = step.condition { update = update.where(cond) }
            let changed = try await update.returning(SQLColumn(step.key.first?.0 ?? "id")).all().count
            guard changed == 1 else {
                if changed > 1 { throw ServiceError(.conflict, "\(step.subject) 不唯一 / \(step.subject) is not unique") }
                throw try await tx.conflict(step)
            }
            let (result, detail) = try await work(tx)
            for e in step.events {
                try await tx.recordEvent(type: e.type, id: e.id, from: e.from, to: e.to, actor: caller.actor, note: e.note)
            }
            try await tx.audit(actor: caller.actor, action: step.action, target: step.target ?? step.subject,
                               detail: caller.detail(detail ?? step.detail))
            return result
        }
    }

    /// A step without further work.
    func perform(_ step: Step, by caller: Caller) async throws {
        try await perform(step, by: caller) { _ in ((), nil) }
    }

    /// Why `step` changed no row: no such row, or the state it is in now.
    private func conflict(_ step: Step) async throws -> ServiceError {
        var q = sql.select().column(SQLColumn(step.stateColumn ?? step.key.first?.0 ?? "id"), as: "s").from(step.table)
        for (c, v) in step.key { q = q.where(SQLColumn(c), .equal, SQLBind(v)) }
        guard let row = try await q.first() else {
            return ServiceError(.notFound, "\(step.subject) 不存在 / \(step.subject) not found")
        }
        if let m = step.conflictMessage { return ServiceError(.conflict, m) }
        if let _ = step.stateColumn, let state = try? row.decode(column: "s", as: String.self) {
            return ServiceError(.conflict, "\(step.subject) 当前为“\(step.stateName(state))”，不能\(step.verb.zh) / \(step.subject) is \(state): cannot \(step.verb.en)")
        }
        return ServiceError(.conflict, "\(step.subject) 已被其他操作更改，不能\(step.verb.zh) / \(step.subject) was changed by another request: cannot \(step.verb.en)")
    }

    /// Appends a case event (who moved which case from which state to which, when, why).
    func recordEvent(type: String, id: Int64, from: String?, to: String, actor: String, note: String?) async throws {
        try await sql.insert(into: "case_events").columns("case_type", "case_id", "from_state", "to_state", "actor", "note", "at")
            .values(SQLBind(type), SQLBind(id), SQLBind(from), SQLBind(to), SQLBind(actor), SQLBind(note), SQLBind(Date()))
            .run()
    }
}
