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
            var written = 0
            for m in messages {
                let r = try await sql.raw("""
                    INSERT INTO outbox (kind, recipient, subject, body, dedupe_key, created_us, state, attempts, next_attempt_us)
                    VALUES (\(bind: m.kind), \(bind: m.recipient), \(bind: m.subject), \(bind: m.body), \(bind: m.dedupeKey),
                    \(bind: nowUs), 'pending', 0, \(bind: nowUs)) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id
                    """).all()
                written += r.count
            }
            return written
        }
    }

    func jobRuns(limit: Int) async throws -> [JobRun] {
        try await sql.select().columns("*").from("job_runs").orderBy("started_us", .descending).limit(limit).all(decoding: JobRun.self)
    }

    func outbox(limit: Int) async throws -> [OutboxRecord] {
        try await sql.select().columns("id", "kind", "recipient", "subject", "body", "dedupe_key", "created_us", "state", "attempts", "last_error")
            .from("outbox").orderBy("id", .descending).limit(limit).all(decoding: OutboxRecord.self)
    }

    func outboxCounts() async throws -> [String: Int] {
        struct Row: Decodable { var state: String; var n: Int }
        let rows = try await sql.raw("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state").all(decoding: Row.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.state, $0.n) })
    }
}
