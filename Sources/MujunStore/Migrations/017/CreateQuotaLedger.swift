import FluentKit
import SQLKit

/// The cross-township quota ledger (全域土地综合整治, issue 11, LEDGER.md): the consolidation
/// projects with their towns, start and margin, and the ledger's running state (the project-wide
/// sums rules 6 and 7 compare, the latest accepted date, a version every posting claims); the
/// state per (town, quota type); the sub-projects (projects of the projects engine, with their
/// planned quantities); the journal, append-only, amounts in integer ten-thousandths of a mu;
/// the transfers (调剂) requested by a town and decided by HQ; and monthly checkpoints of the
/// balances, so that the balances at any date read one month of the journal at most.
///
/// ```sql
/// SELECT town, quota, SUM(CASE WHEN base = 'credit' THEN sign * units ELSE 0 END) AS credited
///   FROM quota_entries WHERE project_id = 1 AND date <= '2026-06-30' GROUP BY town, quota
/// ```
struct CreateQuotaLedger: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("quota_projects")
            .field("id", .int64, .identifier(auto: true))
            .field("name", .string, .required)
            // the towns, `;`-separated, in the order balances are listed
            .field("towns", .string, .required)
            .field("start_on", .string, .required)
            // ten-thousandths (500 = 0.05)
            .field("margin_units", .int64, .required)
            // the ledger's running state (LEDGER.md §3 rules 4, 6, 7), as of the last accepted entry
            .field("basic_added", .int64, .required)
            .field("basic_out", .int64, .required)
            .field("farm_credited", .int64, .required)
            .field("farm_credited_grade", .int64, .required)
            .field("farm_used", .int64, .required)
            .field("farm_used_grade", .int64, .required)
            .field("latest_on", .string)
            .field("next_seq", .int64, .required)
            .field("version", .int64, .required)
            .field("created_by", .string, .required)
            .field("recorded_us", .int64, .required)
            .unique(on: "name")
            .create()
        try await database.schema("quota_balances")
            .field("project_id", .int64, .required, .references("quota_projects", "id"))
            .field("town", .string, .required)
            .field("quota", .string, .required)
            .field("credited", .int64, .required)
            .field("used", .int64, .required)
            .field("transferred_in", .int64, .required)
            .field("transferred_out", .int64, .required)
            .unique(on: "project_id", "town", "quota")
            .create()
        try await database.schema("quota_subprojects")
            .field("id", .int64, .identifier(auto: true))
            .field("quota_project_id", .int64, .required, .references("quota_projects", "id"))
            .field("project_id", .int64, .required, .references("projects", "id"))
            // 农用地整理 | 建设用地复垦 | 生态修复 | 产业用地腾挪 …
            .field("kind", .string, .required)
            .field("town", .string, .required)
            // planned quantities (ten-thousandths of a mu) and the new farmland's grade
            .field("planned_new_farmland", .int64, .required)
            .field("planned_reclaimed", .int64, .required)
            .field("planned_basic", .int64, .required)
            .field("grade", .int)
            // 立项 approved | 实施 underway | 验收 accepted
            .field("status", .string, .required)
            .field("accepted_on", .string)
            .field("version", .int64, .required)
            .field("recorded_us", .int64, .required)
            .unique(on: "project_id")
            .create()
        try await database.schema("quota_transfers")
            .field("id", .int64, .identifier(auto: true))
            .field("quota_project_id", .int64, .required, .references("quota_projects", "id"))
            .field("from_town", .string, .required)
            .field("to_town", .string, .required)
            .field("quota", .string, .required)
            .field("units", .int64, .required)
            .field("reason", .string, .required)
            // requested | approved | rejected
            .field("state", .string, .required)
            .field("requested_by", .string, .required)
            .field("requested_on", .string, .required)
            .field("decided_by", .string)
            .field("decided_on", .string)
            .field("decision_note", .string)
            .field("entry_seq", .int64)
            .field("version", .int64, .required)
            .field("recorded_us", .int64, .required)
            .create()
        try await database.schema("quota_entries")
            .field("id", .int64, .identifier(auto: true))
            .field("project_id", .int64, .required, .references("quota_projects", "id"))
            .field("seq", .int64, .required)
            .field("date", .string, .required)
            // credit | use | transfer | reverse; `base` the effect applied (a reversal's: its target's) with `sign`
            .field("action", .string, .required)
            .field("base", .string, .required)
            .field("sign", .int, .required)
            .field("town", .string, .required)
            .field("to_town", .string)
            .field("quota", .string, .required)
            .field("units", .int64, .required)
            .field("grade", .int)
            .field("reverses", .int64)
            .field("reversed_by", .int64)
            .field("note", .string, .required)
            .field("subproject_id", .int64, .references("quota_subprojects", "id"))
            .field("transfer_id", .int64, .references("quota_transfers", "id"))
            .field("actor", .string, .required)
            .field("recorded_us", .int64, .required)
            .unique(on: "project_id", "seq")
            .create()
        // the state at the end of each month's last accepted day (written as the journal enters the next
        // month): balances at a date start from the checkpoint before it and sum the month since
        try await database.schema("quota_checkpoints")
            .field("project_id", .int64, .required, .references("quota_projects", "id"))
            .field("as_of", .string, .required)
            .field("town", .string, .required)
            .field("quota", .string, .required)
            .field("credited", .int64, .required)
            .field("used", .int64, .required)
            .field("transferred_in", .int64, .required)
            .field("transferred_out", .int64, .required)
            .unique(on: "project_id", "as_of", "town", "quota")
            .create()
        let sql = database as! any SQLDatabase
        // balances at a date: the entries of a project up to it, read in date order from the index alone
        try await sql.raw("CREATE INDEX quota_entries_project_date ON quota_entries (project_id, date, town, to_town, quota, base, sign, units)").run()
    }

    func revert(on database: any Database) async throws {
        for t in ["quota_checkpoints", "quota_entries", "quota_transfers", "quota_subprojects", "quota_balances", "quota_projects"] {
            try await database.schema(t).delete()
        }
    }
}
