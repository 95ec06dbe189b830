import Foundation
import FluentKit
import SQLKit

/// Failed sign-ins per client address in a sliding window, and per unknown user name (so that an
/// unknown name locks like a real one and the answer never tells which names exist). Kept in the
/// database (`sign_in_failures`), so that every instance behind the reverse proxy counts the same
/// failures and a restart forgets none.
///
/// ```swift
/// let limits = services.signInLimits
/// if try await limits.isBlocked(address) { /* 429 */ }
/// try await limits.recordFailure(address)
/// ```
public struct SignInLimits: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    public static let maxFailuresPerAddress = 20
    public static let addressWindow: TimeInterval = 15 * 60

    /// Whether `address` failed ``maxFailuresPerAddress`` times within ``addressWindow``.
    public func isBlocked(_ address: String, now: Date = Date()) async throws -> Bool {
        try await unscoped.signInFailures(kind: "address", key: address, since: now.addingTimeInterval(-Self.addressWindow))
            >= Self.maxFailuresPerAddress
    }

    public func recordFailure(_ address: String, now: Date = Date()) async throws {
        try await unscoped.recordSignInFailure(kind: "address", key: address, at: now, window: Self.addressWindow)
    }

    /// Whether an unknown name has failed as often as locks a real account.
    public func unknownNameLocked(_ login: String, now: Date = Date()) async throws -> Bool {
        try await unscoped.signInFailures(kind: "name", key: login.lowercased(), since: now.addingTimeInterval(-AccountService.Policy.lockout))
            >= AccountService.Policy.maxFailuresPerAccount
    }

    public func recordUnknownName(_ login: String, now: Date = Date()) async throws {
        try await unscoped.recordSignInFailure(kind: "name", key: login.lowercased(), at: now, window: AccountService.Policy.lockout)
    }
}

extension Store {
    static func micros(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1_000_000).rounded()) }

    func signInFailures(kind: String, key: String, since: Date) async throws -> Int {
        let key = String(key.prefix(200))
        return try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("sign_in_failures")
            .where("kind", .equal, kind).where("key", .equal, key).where("at_us", .greaterThan, Self.micros(since))
            .first(decodingColumn: "n", as: Int.self) ?? 0
    }

    /// Records a failure, and forgets this key's failures older than `window` (and, now and then,
    /// every key's older than a day: a spread-out guessing run leaves no pile behind).
    func recordSignInFailure(kind: String, key: String, at now: Date, window: TimeInterval) async throws {
        let us = Self.micros(now), key = String(key.prefix(200))
        try await sql.insert(into: "sign_in_failures").columns("kind", "key", "at_us")
            .values(SQLBind(kind), SQLBind(key), SQLBind(us)).run()
        try await sql.delete(from: "sign_in_failures").where("kind", .equal, kind).where("key", .equal, key)
            .where("at_us", .lessThan, us - Int64(window * 1_000_000)).run()
        if Int.random(in: 0..<256) == 0 {
            try await sql.delete(from: "sign_in_failures").where("at_us", .lessThan, us - 86_400_000_000).run()
        }
    }
}
