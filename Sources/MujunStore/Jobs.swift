import Foundation
import FluentKit
import SQLKit
import MujunCore

extension Store {
    /// One run of a job for a period, as stored.
    public struct JobRun: Codable, Sendable, Hashable {
        public var job: String
        public var period: String
        /// running, succeeded, failed
        public var state: String
        public var attempts: Int
        public var instance: String
        public var startedUs: Int64
        public var finishedUs: Int64?
        public var error: String?
        public var detail: String?
        enum CodingKeys: String, CodingKey {
            case job, period, state, attempts, instance, startedUs = "started_us", finishedUs = "finished_us", error, detail
        }
    }

    /// A message for the outbox: to a unit (or a user), once per `dedupeKey`.
    public struct OutboxMessage: Sendable, Hashable {
        public var kind: String
        public var recipient: String
        public var subject: String
        public var body: String
        public var dedupeKey: String
        public init(kind: String, recipient: String, subject: String, body: String, dedupeKey: String) {
            self.kind = kind; self.recipient = recipient; self.subject = subject; self.body = body; self.dedupeKey = dedupeKey
        }
    }

    public struct OutboxRecord: Codable, Sendable, Hashable {
        public var id: Int64
        public var kind: String
        public var recipient: String
        public var subject: String
        public var body: String
        public var dedupeKey: String
        public var createdUs: Int64
        public var state: String
        public var attempts: Int
        public var lastError: String?
        enum CodingKeys: String, CodingKey {
            case id, kind, recipient, subject, body, dedupeKey = "dedupe_key", createdUs = "created_us", state, attempts, lastError = "last_error"
        }
    }

    func jobRun(_ job: String, period: String) async throws -> JobRun? {
        try await sql.select().columns("*").from("job_runs").where("job", .equal, job).where("period", .equal, period)
            .first(decoding: JobRun.self)
    }

    /// Claims the run of `spec` for `period` for `instance`: the attempt it makes (1 for the
    /// first), or nil when another instance has it, it succeeded, it failed too often, or its
    /// retry pause has not passed. The first attempt is the row's insert (unique on job and
    /// period); a retry, or a takeover of a run whose lease ran out, is an update conditional on
    /// the state and attempt read — on any engine, exactly one claimer wins each.
    func claimJob(_ spec: JobSpec, period: String, instance: String, nowUs: Int64) async throws -> Int? {
        let first = try await sql.raw("""
            INSERT INTO job_runs (job, period, state, attempts, instance, started_us)
            VALUES (\(bind: spec.name), \(bind: period), 'running', 1, \(bind: instance), \(bind: nowUs))
            ON CONFLICT (job, period) DO NOTHING RETURNING attempts
            """).all()
        if !first.isEmpty { return 1 }
        guard let run = try await jobRun(spec.name, period: period) else { return nil }
        let eligible: Bool
        switch run.state {
        case "failed":
            eligible = run.attempts < spec.maxAttempts
                && (run.finishedUs ?? 0) + Int64(JobSpec.retryPause(afterAttempt: run.attempts)) * 1_000_000 <= nowUs
        case "running":
            eligible = run.startedUs + Int64(spec.lease) * 1_000_000 <= nowUs && run.attempts < spec.maxAttempts
        default:
            eligible = false
        }
        guard eligible else { return nil }
        let claimed = try await sql.raw("""
            UPDATE job_runs SET state = 'running', attempts = attempts + 1, instance = \(bind: instance), started_us = \(bind: nowUs),
            finished_us = NULL, error = NULL WHERE job = \(bind: spec.name) AND period = \(bind: period)
            AND state = \(bind: run.state) AND attempts = \(bind: run.attempts) RETURNING attempts
            """).all()
        return try claimed.first?.decode(column: "attempts", as: Int.self)
    }

    /// Ends a claimed run, and writes its messages to the outbox in the same transaction (each
    /// once per dedupe key). Throws a conflict, writing nothing, when the run is no longer this
    /// attempt's (another instance took it over).
    func finishJob(_ job: String, period: String, attempt: Int, succeeded: Bool, error: String?, detail: String?,
                   messages: [OutboxMessage], nowUs: Int64) async throws -> Int {
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            let ended = try await sql.raw("""
                UPDATE job_runs SET state = \(bind: succeeded ? "succeeded" : "failed"), finished_us = \(bind: nowUs),
                error = \(bind: error.map { String($0.prefix(2000)) }), detail = \(bind: detail.map { String($0.prefix(2000)) })
                WHERE job = \(bind: job) AND period = \(bind: period) AND attempts = \(bind: attempt) AND state = 'running' RETURNING attempts
                """).all()
            guard !ended.isEmpty else {
                throw ServiceError(.conflict, "任务 \(job) \(period) 已由其他实例接手 / the run was taken over")
            }
            let written = try await Store(db).insertOutbox(messages, nowUs: nowUs)
            return written
        }
    }

    /// Writes messages to the outbox (in the caller's transaction), each once per dedupe key;
    /// returns how many were new.
    @discardableResult
    func insertOutbox(_ messages: [OutboxMessage], nowUs: Int64) async throws -> Int {
        var written = 0
        for m in messages {
            let r = try await sql.raw("""
                INSERT INTO outbox (kind, recipient, subject, body, dedupe_key, created_us, state, attempts, next_attempt_us, delivered)
                VALUES (\(bind: m.kind), \(bind: m.recipient), \(bind: m.subject), \(bind: m.body), \(bind: m.dedupeKey),
                \(bind: nowUs), 'pending', 0, \(bind: nowUs), '') ON CONFLICT (dedupe_key) DO NOTHING RETURNING id
                """).all()
            written += r.count
        }
        return written
    }

    /// The messages the closed loop sends for `events` of a case (CaseNotice), numbered from
    /// `firstSeq` — for events dated `from` or later only: recording the past (the demo, a
    /// back-dated entry) tells nobody.
    func notifyCase(id: Int64, ref: String, title: String, loop: CaseLoop, events: [MujunCore.CaseEvent], firstSeq: Int,
                    from: CalendarDate, nowUs: Int64) async throws {
        var out: [OutboxMessage] = []
        let told = events.contains { $0.kind == .reply && $0.date >= from } ? try await requestersToTell(caseID: id) : []
        for (i, e) in events.enumerated() where e.date >= from {
            out += CaseNotice.messages(after: e, loop: loop, caseID: id, ref: ref, title: title, seq: firstSeq + i, requesters: told).map {
                OutboxMessage(kind: "case", recipient: $0.recipient, subject: $0.subject, body: $0.body, dedupeKey: $0.dedupeKey)
            }
        }
        if !out.isEmpty { try await insertOutbox(out, nowUs: nowUs) }
    }

    /// The logins of a case's requester that chose to be told (a notification setting of their
    /// own): the account that registered it, and the accounts of the enterprise it concerns.
    func requestersToTell(caseID: Int64) async throws -> [String] {
        struct Row: Decodable { var login: String }
        return try await sql.raw("""
            SELECT u.login FROM cases c JOIN users u ON u.id = c.requester_user
                OR (u.role = 'enterprise' AND c.credit_code IS NOT NULL AND u.credit_code = c.credit_code)
            JOIN notify_targets t ON t.unit = 'user:' || u.login
            WHERE c.id = \(bind: caseID) AND NOT u.disabled ORDER BY u.login
            """).all(decoding: Row.self).map(\.login)
    }

    func jobRuns(limit: Int) async throws -> [JobRun] {
        try await sql.select().columns("*").from("job_runs").orderBy("started_us", .descending).limit(limit).all(decoding: JobRun.self)
    }

    func outbox(limit: Int) async throws -> [OutboxRecord] {
        try await sql.select().columns("id", "kind", "recipient", "subject", "body", "dedupe_key", "created_us", "state", "attempts", "last_error")
            .from("outbox").orderBy("id", .descending).limit(limit).all(decoding: OutboxRecord.self)
    }

    func jobRunCounts() async throws -> [(job: String, state: String, count: Int)] {
        struct Row: Decodable { var job: String; var state: String; var n: Int }
        return try await sql.raw("SELECT job, state, COUNT(*) AS n FROM job_runs GROUP BY job, state ORDER BY job, state")
            .all(decoding: Row.self).map { ($0.job, $0.state, $0.n) }
    }

    func outboxCounts() async throws -> [String: Int] {
        struct Row: Decodable { var state: String; var n: Int }
        let rows = try await sql.raw("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state").all(decoding: Row.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.state, $0.n) })
    }

    // MARK: - delivery

    /// How a unit, or a user (`unit` = `user:<login>`), is told.
    public struct NotifyTarget: Codable, Sendable, Hashable {
        public var unit: String
        public var email: String?
        public var webhookURL: String?
        public var webhookSecret: String?
        /// A user's: also send me what is addressed to my unit.
        public var followUnit: Bool?
        enum CodingKeys: String, CodingKey { case unit, email, webhookURL = "webhook_url", webhookSecret = "webhook_secret", followUnit = "follow_unit" }
        public init(unit: String, email: String?, webhookURL: String?, webhookSecret: String?, followUnit: Bool? = nil) {
            self.unit = unit; self.email = email; self.webhookURL = webhookURL; self.webhookSecret = webhookSecret; self.followUnit = followUnit
        }
        /// The login of a user's own settings, nil for a unit's.
        public var login: Substring? { CaseNotice.login(of: unit) }
    }

    func notifyTargets() async throws -> [NotifyTarget] {
        try await sql.select().columns("unit", "email", "webhook_url", "webhook_secret", "follow_unit").from("notify_targets").orderBy("unit")
            .all(decoding: NotifyTarget.self)
    }

    func notifyTarget(_ key: String) async throws -> NotifyTarget? {
        try await sql.select().columns("unit", "email", "webhook_url", "webhook_secret", "follow_unit").from("notify_targets")
            .where("unit", .equal, key).first(decoding: NotifyTarget.self)
    }

    /// The users who follow their unit's messages, by unit (active accounts only).
    func unitFollowers() async throws -> [String: [NotifyTarget]] {
        struct Row: Decodable {
            var target: NotifyTarget
            var ofUnit: String
            init(from d: any Decoder) throws {
                target = try NotifyTarget(from: d)
                ofUnit = try d.container(keyedBy: K.self).decode(String.self, forKey: .ofUnit)
            }
            enum K: String, CodingKey { case ofUnit = "of_unit" }
        }
        let rows = try await sql.raw("""
            SELECT t.unit, t.email, t.webhook_url, t.webhook_secret, t.follow_unit, u.unit AS of_unit FROM notify_targets t
            JOIN users u ON t.unit = 'user:' || u.login WHERE t.follow_unit = \(bind: true) AND NOT u.disabled ORDER BY t.unit
            """).all(decoding: Row.self)
        return Dictionary(grouping: rows, by: \.ofUnit).mapValues { $0.map(\.target) }
    }

    func setNotifyTarget(_ t: NotifyTarget, actor: String, detail: String?) async throws {
        try await db.transaction { db in
            let sql = db as! any SQLDatabase
            try await sql.delete(from: "notify_targets").where("unit", .equal, t.unit).run()
            if t.email != nil || t.webhookURL != nil {
                try await sql.insert(into: "notify_targets")
                    .columns("unit", "email", "webhook_url", "webhook_secret", "follow_unit", "updated_by", "updated_us")
                    .values(SQLBind(t.unit), SQLBind(t.email), SQLBind(t.webhookURL), SQLBind(t.webhookSecret), SQLBind(t.followUnit ?? false),
                            SQLBind(actor), SQLBind(Store.nowMicros())).run()
            }
            try await Store(db).audit(actor: actor, action: "notify.target", target: t.unit, detail: detail)
        }
    }

    /// A message claimed for sending: its row as claimed.
    public struct Claimed: Codable, Sendable {
        public var id: Int64
        public var recipient: String
        public var subject: String
        public var body: String
        public var attempts: Int
        public var delivered: String
    }

    /// Claims up to `limit` messages due for an attempt (pending, waiting for a retry, or
    /// claimed by a sender that did not finish within `leaseUs`): each by a conditional update on
    /// the state and attempt read, so that two senders never take the same message.
    func claimOutbox(limit: Int, nowUs: Int64, leaseUs: Int64) async throws -> [Claimed] {
        struct Due: Decodable { var id: Int64; var state: String; var attempts: Int }
        let due = try await sql.raw("""
            SELECT id, state, attempts FROM outbox WHERE state IN ('pending', 'retry', 'sending') AND next_attempt_us <= \(bind: nowUs)
            ORDER BY next_attempt_us, id LIMIT \(bind: limit)
            """).all(decoding: Due.self)
        var out: [Claimed] = []
        for d in due {
            let rows = try await sql.raw("""
                UPDATE outbox SET state = 'sending', attempts = attempts + 1, next_attempt_us = \(bind: nowUs + leaseUs)
                WHERE id = \(bind: d.id) AND state = \(bind: d.state) AND attempts = \(bind: d.attempts)
                RETURNING id, recipient, subject, body, attempts, delivered
                """).all(decoding: Claimed.self)
            out += rows
        }
        return out
    }

    /// Records an attempt: the channels that took the message (added to `delivered`); sent when
    /// none is left, else waiting for `retryAtUs` with the error.
    func finishOutbox(id: Int64, attempt: Int, delivered: String, done: Bool, error: String?, retryAtUs: Int64, nowUs: Int64) async throws {
        try await sql.raw("""
            UPDATE outbox SET state = \(bind: done ? "sent" : "retry"), delivered = \(bind: delivered),
            last_error = \(bind: error.map { String($0.prefix(1000)) }), sent_us = \(bind: done ? nowUs : nil as Int64?),
            next_attempt_us = \(bind: done ? nowUs : retryAtUs) WHERE id = \(bind: id) AND attempts = \(bind: attempt) AND state = 'sending'
            """).run()
    }

    func outboxDepth() async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM outbox WHERE state <> 'sent'").first()?.decode(column: "n", as: Int.self) ?? 0
    }
}
