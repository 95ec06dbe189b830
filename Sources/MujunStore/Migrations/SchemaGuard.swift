import Foundation
import FluentKit
import SQLKit

// The tools of the schema-guard migrations (005): foreign keys described once for both
// databases, the check of existing rows before a constraint is added, and SQLite's table
// rebuild. Migrations that have shipped use them: change them only in ways that keep what
// those migrations do.

/// A foreign key: `table(columns)` refers to `parent(parentColumns)`, which must be the
/// parent's primary key or carry a unique constraint. A row whose key columns hold a NULL
/// refers to nothing and is not checked (MATCH SIMPLE, the default on both databases).
struct ForeignKey: Sendable {
    /// What deleting a referenced row does to the rows that refer to it.
    enum OnDelete: String, Sendable {
        /// They go with it (a part of the parent: a user's sessions, a run's results).
        case cascade = "CASCADE"
        /// The delete is refused while they exist (data that must not disappear as a side effect).
        case restrict = "RESTRICT"
    }

    var table: String
    var columns: [String]
    var parent: String
    var parentColumns: [String]
    var onDelete: OnDelete

    init(_ table: String, _ columns: [String], references parent: String, _ parentColumns: [String], onDelete: OnDelete) {
        precondition(columns.count == parentColumns.count && !columns.isEmpty)
        self.table = table; self.columns = columns; self.parent = parent; self.parentColumns = parentColumns; self.onDelete = onDelete
    }

    /// PostgreSQL's own naming: `<table>_<columns>_fkey` (under its 63-byte limit).
    var name: String { "\(table)_\(columns.joined(separator: "_"))_fkey" }

    /// `sessions(user_id) → users(id)`
    var arrow: String {
        "\(table)(\(columns.joined(separator: ", "))) → \(parent)(\(parentColumns.joined(separator: ", ")))"
    }

    /// The table constraint, the same text on both databases.
    var constraint: String {
        "CONSTRAINT \(quoted(name)) FOREIGN KEY (\(columns.map(quoted).joined(separator: ", "))) "
            + "REFERENCES \(quoted(parent)) (\(parentColumns.map(quoted).joined(separator: ", "))) ON DELETE \(onDelete.rawValue)"
    }

    /// The rows of `table` that refer to a missing parent row.
    var orphansQuery: String {
        let present = columns.map { "c.\(quoted($0)) IS NOT NULL" }.joined(separator: " AND ")
        let match = zip(columns, parentColumns).map { "p.\(quoted($1)) = c.\(quoted($0))" }.joined(separator: " AND ")
        return "SELECT c.* FROM \(quoted(table)) c WHERE \(present) AND NOT EXISTS (SELECT 1 FROM \(quoted(parent)) p WHERE \(match))"
    }

    func orphanCount(on sql: any SQLDatabase) async throws -> Int {
        try await SchemaGuard.count("SELECT COUNT(*) AS n FROM (\(orphansQuery)) o", on: sql)
    }
}

/// Double-quoted identifier (both databases; the names here are our own constants).
func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

/// Rows that stop a schema-guard migration, reported in full before anything is changed.
public struct SchemaGuardError: Error, CustomStringConvertible, LocalizedError {
    public struct Problem: Sendable, CustomStringConvertible {
        public var table: String
        public var constraint: String
        public var rows: Int
        /// What is wrong, in Chinese and in English.
        public var chinese: String
        public var english: String
        /// A query that lists the rows.
        public var find: String
        public var description: String {
            "表 \(table)：\(rows) 行违反约束 \(constraint)（\(chinese)）/ table \(table): \(rows) row(s) violate \(constraint) (\(english))\n    查找 / find them: \(find)"
        }
    }

    public var migration: String
    public var problems: [Problem]

    public var description: String {
        """
        数据库升级 \(migration) 未执行，数据库未作任何更改：已有数据不满足新约束。请先修正或删除下列行，再重新启动。
        / migration \(migration) was not applied and the database was left unchanged: existing rows violate the new constraints. Fix or delete them, then start again.
        \(problems.map { "  - \($0)" }.joined(separator: "\n"))
        """
    }
    public var errorDescription: String? { description }
}

enum SchemaGuard {
    static func isPostgres(_ sql: any SQLDatabase) -> Bool { sql.dialect.name == "postgresql" }

    static func count(_ query: String, on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw(SQLQueryString(query)).first(decodingColumn: "n", as: Int.self) ?? 0
    }

    /// The problems of adding `keys` to the rows as they are.
    static func orphans(_ keys: [ForeignKey], on sql: any SQLDatabase) async throws -> [SchemaGuardError.Problem] {
        var problems: [SchemaGuardError.Problem] = []
        for k in keys {
            let n = try await k.orphanCount(on: sql)
            guard n > 0 else { continue }
            problems.append(.init(table: k.table, constraint: k.name, rows: n,
                                  chinese: "\(k.arrow)：所引用的 \(k.parent) 行不存在",
                                  english: "\(k.arrow): the referenced \(k.parent) row does not exist",
                                  find: k.orphansQuery))
        }
        return problems
    }
}

/// SQLite cannot add a constraint to an existing table; the table is rebuilt instead
/// (https://sqlite.org/lang_altertable.html#otheralter): a new table from the stored
/// `CREATE TABLE` text with the constraints appended (so every column keeps its type,
/// default, NOT NULL and unique constraint), the rows copied with their ids, the old table
/// dropped, the new one renamed, then the old table's indexes and triggers (dropping a table
/// drops them) and its AUTOINCREMENT counter put back.
///
/// Runs inside the caller's transaction with foreign keys enforced, so each copied row is
/// checked against the keys. It refuses a table that other tables already refer to (its
/// DROP TABLE would check or cascade to them): rebuild parents before their children.
enum SQLiteTableRebuild {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The `CREATE TABLE` text of a table.
    static func createSQL(_ table: String, on sql: any SQLDatabase) async throws -> String {
        guard let text = try await sql.raw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = \(bind: table)")
            .first(decodingColumn: "sql", as: String.self) else {
            throw Failure(description: "表 \(table) 不存在 / no table \(table)")
        }
        return text
    }

    /// Rebuilds `table` from `transform(its CREATE TABLE text)`. The transform must keep the
    /// columns; the table's name in it is changed to the temporary one here.
    static func rebuild(_ table: String, on sql: any SQLDatabase, transform: (String) throws -> String) async throws {
        let referrers = try await sql.raw("""
            SELECT m.name AS name FROM sqlite_master m, pragma_foreign_key_list(m.name) f
            WHERE m.type = 'table' AND m.name <> \(bind: table) AND f."table" = \(bind: table)
            """).all(decodingColumn: "name", as: String.self)
        guard referrers.isEmpty else {
            throw Failure(description: "表 \(table) 已被 \(Set(referrers).sorted().joined(separator: ", ")) 引用，不能重建 / \(table) is referenced by \(Set(referrers).sorted().joined(separator: ", ")) and cannot be rebuilt here")
        }
        let original = try await createSQL(table, on: sql)
        let columns = try await sql.raw("SELECT name FROM pragma_table_info(\(bind: table)) ORDER BY cid")
            .all(decodingColumn: "name", as: String.self)
        struct Dependent: Decodable { var type: String; var name: String; var tbl_name: String; var sql: String }
        // The table's own indexes and triggers go with it; triggers and views elsewhere that
        // name it would stop the rename ("no such table") and are dropped and made again.
        let dependents = try await sql.raw("""
            SELECT type, name, tbl_name, sql FROM sqlite_master
            WHERE sql IS NOT NULL AND type IN ('index', 'trigger', 'view')
              AND (tbl_name = \(bind: table) OR (type IN ('trigger', 'view') AND sql LIKE \(bind: "%" + table + "%")))
            ORDER BY CASE type WHEN 'index' THEN 0 WHEN 'view' THEN 1 ELSE 2 END, rowid
            """).all(decoding: Dependent.self)
        let hasSequence = try await SchemaGuard.count("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'", on: sql) > 0
        let sequence: Int64? = hasSequence
            ? try await sql.raw("SELECT seq FROM sqlite_sequence WHERE name = \(bind: table)").first(decodingColumn: "seq", as: Int64.self)
            : nil

        let temporary = table + "__rebuild"
        let transformed = try transform(original)
        // only the name changes (the rename puts it back), so the text stays as it was
        guard let open = transformed.firstIndex(of: "("),
              let name = transformed[..<open].range(of: quoted(table), options: .backwards)
                ?? transformed[..<open].range(of: table, options: .backwards) else {
            throw Failure(description: "无法解析 \(table) 的定义 / cannot read the definition of \(table)")
        }
        var created = transformed
        created.replaceSubrange(name, with: quoted(temporary))
        let list = columns.map(quoted).joined(separator: ", ")

        for d in dependents where d.tbl_name != table {
            try await sql.raw("DROP \(unsafeRaw: d.type.uppercased()) \(unsafeRaw: quoted(d.name))").run()
        }
        try await sql.raw(SQLQueryString(created)).run()
        try await sql.raw("INSERT INTO \(unsafeRaw: quoted(temporary)) (\(unsafeRaw: list)) SELECT \(unsafeRaw: list) FROM \(unsafeRaw: quoted(table))").run()
        try await sql.raw("DROP TABLE \(unsafeRaw: quoted(table))").run()
        try await sql.raw("ALTER TABLE \(unsafeRaw: quoted(temporary)) RENAME TO \(unsafeRaw: quoted(table))").run()
        for d in dependents {
            try await sql.raw(SQLQueryString(d.sql)).run()
        }
        if let sequence {
            try await sql.raw("UPDATE sqlite_sequence SET seq = \(bind: sequence) WHERE name = \(bind: table)").run()
        }
    }

    /// `CREATE TABLE …(…)` with `clauses` added as table constraints.
    static func appending(_ clauses: [String], to createSQL: String) throws -> String {
        guard let close = createSQL.lastIndex(of: ")") else { throw Failure(description: "无法解析表定义 / cannot read a table definition") }
        return String(createSQL[..<close]) + clauses.map { ", " + $0 }.joined() + String(createSQL[close...])
    }

    /// The inverse of ``appending(_:to:)``.
    static func removing(_ clauses: [String], from createSQL: String) throws -> String {
        var out = createSQL
        for c in clauses {
            guard let r = out.range(of: ", " + c) else { throw Failure(description: "表定义中没有 \(c) / no \(c) in the table definition") }
            out.removeSubrange(r)
        }
        return out
    }

    /// Fails when any row breaks a foreign key (PRAGMA foreign_key_check).
    static func checkForeignKeys(on sql: any SQLDatabase) async throws {
        let rows = try await sql.raw("PRAGMA foreign_key_check").all()
        guard rows.isEmpty else {
            let tables = Set(rows.compactMap { try? $0.decode(column: "table", as: String.self) }).sorted()
            throw Failure(description: "重建后有 \(rows.count) 行违反外键（\(tables.joined(separator: ", "))）/ after the rebuild \(rows.count) row(s) violate a foreign key (\(tables.joined(separator: ", ")))")
        }
    }
}
