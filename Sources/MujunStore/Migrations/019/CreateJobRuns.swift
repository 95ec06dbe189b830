import FluentKit
import SQLKit

/// Scheduled jobs and what they want to tell people.
///
/// - `job_runs`: one row per job and period (a day, a month), unique: the instance whose insert
///   lands runs it, every other instance sees the row and does not. Failed runs are taken again
///   (a conditional update on the attempt they failed at) after a pause; a run whose instance
///   died is taken over when its lease ran out.
/// - `outbox`: the messages a job (or a step) wants sent, written in the same transaction as the
///   change that caused them; `dedupe_key` is unique, so a job run twice writes each message once;
///   `delivered` lists the channels (email, webhook) that took it, so a retry sends only the rest.
/// - `notify_targets`: how each unit is told — an e-mail address, a DingTalk robot's webhook
///   and its signing secret.
///
/// ```sql
/// SELECT job, period, state, attempts, instance, error FROM job_runs ORDER BY started_us DESC LIMIT 20
/// ```
struct CreateJobRuns: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("job_runs")
            .field("job", .string, .required)
            .field("period", .string, .required)
            .field("state", .string, .required)
            .field("attempts", .int, .required)
            .field("instance", .string, .required)
            .field("started_us", .int64, .required)
            .field("finished_us", .int64)
            .field("error", .string)
            .field("detail", .string)
            .unique(on: "job", "period")
            .create()
        try await database.schema("outbox")
            .field("id", .int64, .identifier(auto: true))
            .field("kind", .string, .required)
            .field("recipient", .string, .required)
            .field("subject", .string, .required)
            .field("body", .string, .required)
            .field("dedupe_key", .string, .required)
            .field("created_us", .int64, .required)
            .field("state", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_us", .int64, .required)
            .field("last_error", .string)
            .field("sent_us", .int64)
            .field("delivered", .string, .required)
            .unique(on: "dedupe_key")
            .create()
        try await database.schema("notify_targets")
            .field("unit", .string, .identifier(auto: false))
            .field("email", .string)
            .field("webhook_url", .string)
            .field("webhook_secret", .string)
            .field("updated_by", .string, .required)
            .field("updated_us", .int64, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("CREATE INDEX job_runs_started ON job_runs (started_us)").run()
        try await sql.raw("CREATE INDEX outbox_due ON outbox (state, next_attempt_us)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("notify_targets").delete()
        try await database.schema("outbox").delete()
        try await database.schema("job_runs").delete()
    }
}
