import Foundation
import MujunCore

/// The outbox and how people are told: each unit's e-mail address and DingTalk robot (set by
/// the admin), each user's own (set on their account page), and the sender's claim and record
/// of each attempt.
///
/// ```swift
/// try await services.notify.setTarget(unit: "古山镇", email: "gushan@yk.gov.cn", webhookURL: nil, webhookSecret: nil)
/// let batch = try await system.notify.claim(limit: 50)     // the sender, on any instance
/// ```
public struct NotifyService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    /// A claim lasts two minutes: a sender that died mid-batch leaves its messages to another.
    static let leaseUs: Int64 = 120_000_000

    public func targets() async throws -> [Store.NotifyTarget] {
        if !caller.isSystem { try caller.require(.manageSettings) }
        return try await unscoped.notifyTargets()
    }

    /// Sets (or, with neither address, removes) a unit's channels. Refused: a unit nobody is
    /// assigned cases as, an address without @, a webhook that is not http(s).
    public func setTarget(unit: String, email: String?, webhookURL: String?, webhookSecret: String?) async throws {
        try caller.require(.manageSettings)
        let unit = unit.trimmingCharacters(in: .whitespaces)
        guard try await services.cases.units().contains(unit) else { throw ServiceError.invalid("未知的单位「\(unit)」/ unknown unit") }
        let t = try Self.checked(key: unit, email: email, webhookURL: webhookURL, webhookSecret: webhookSecret, followUnit: nil)
        try await unscoped.setNotifyTarget(t, actor: caller.actor, detail: caller.detail(Self.describe(t)))
    }

    /// The caller's own settings (nil: none): how messages addressed to them are sent, and
    /// whether they also get their unit's.
    public func ownTarget() async throws -> Store.NotifyTarget? {
        guard let p = caller.principal else { throw ServiceError(.forbidden, "请先登录 / sign in first") }
        return try await unscoped.notifyTarget(CaseNotice.user(p.login))
    }

    /// Sets (or, with neither address, removes) the caller's own channels: any signed-in user,
    /// for themselves only. `followUnit`: also send me every message to my unit (a unit's staff).
    public func setOwnTarget(email: String?, webhookURL: String?, webhookSecret: String?, followUnit: Bool) async throws {
        guard let p = caller.principal else { throw ServiceError(.forbidden, "请先登录 / sign in first") }
        var secret = webhookSecret
        // the form never shows the stored secret: left blank with the same robot, it is kept
        if (secret ?? "").trimmingCharacters(in: .whitespaces).isEmpty, let old = try await ownTarget(),
           old.webhookURL != nil, old.webhookURL == webhookURL?.trimmingCharacters(in: .whitespaces) {
            secret = old.webhookSecret
        }
        let t = try Self.checked(key: CaseNotice.user(p.login), email: email, webhookURL: webhookURL, webhookSecret: secret,
                                 followUnit: followUnit)
        try await unscoped.setNotifyTarget(t, actor: caller.actor, detail: caller.detail(Self.describe(t)))
    }

    /// The settings checked: an address with @ and no spaces or line breaks, an http(s) webhook,
    /// a secret only with a webhook.
    static func checked(key: String, email: String?, webhookURL: String?, webhookSecret: String?, followUnit: Bool?) throws -> Store.NotifyTarget {
        func clean(_ s: String?) -> String? { s.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } }
        let email = clean(email), hook = clean(webhookURL), secret = clean(webhookSecret)
        if let email, !(email.contains("@") && email.count <= 200 && !email.contains(" ") && !email.contains("\r") && !email.contains("\n")) {
            throw ServiceError.invalid("邮箱地址无效 / invalid e-mail address")
        }
        if let hook {
            guard let u = URL(string: hook), ["http", "https"].contains(u.scheme ?? ""), u.host != nil, hook.count <= 1000 else {
                throw ServiceError.invalid("钉钉机器人地址须为 http(s) 网址 / the webhook must be an http(s) URL")
            }
        }
        if secret != nil, hook == nil { throw ServiceError.invalid("填写密钥时须填写机器人地址 / a secret needs a webhook") }
        if followUnit == true, email == nil, hook == nil {
            throw ServiceError.invalid("接收本单位消息须填写邮箱或钉钉机器人 / give an address to receive your unit's messages")
        }
        return Store.NotifyTarget(unit: key, email: email, webhookURL: hook, webhookSecret: secret, followUnit: followUnit)
    }

    static func describe(_ t: Store.NotifyTarget) -> String {
        let parts = [t.email.map { "邮箱 \($0)" }, t.webhookURL.map { _ in "钉钉机器人" + (t.webhookSecret != nil ? "（加签）" : "") },
                     t.followUnit == true ? "接收本单位消息" : nil].compactMap { $0 }
        return parts.isEmpty ? "取消接收 / removed" : parts.joined(separator: "，")
    }

    /// The users who also receive their unit's messages, by unit (the sender's).
    public func followers() async throws -> [String: [Store.NotifyTarget]] {
        if !caller.isSystem { try caller.require(.manageSettings) }
        return try await unscoped.unitFollowers()
    }

    /// The messages due for an attempt, claimed for this sender.
    public func claim(limit: Int, now: Date = Date()) async throws -> [Store.Claimed] {
        guard caller.isSystem else { throw ServiceError(.forbidden, "只有发送程序可以领取消息 / only the sender claims messages") }
        return try await unscoped.claimOutbox(limit: limit, nowUs: Store.micros(now), leaseUs: Self.leaseUs)
    }

    /// Records an attempt on a claimed message.
    public func finish(_ m: Store.Claimed, delivered: String, done: Bool, error: String?, retryScale: Double = 1, now: Date = Date()) async throws {
        guard caller.isSystem else { throw ServiceError(.forbidden, "只有发送程序可以记录发送 / only the sender records attempts") }
        let nowUs = Store.micros(now)
        let retryAt = nowUs + Int64(OutboxRetry.pause(afterAttempt: m.attempts, scale: retryScale) * 1_000_000)
        try await unscoped.finishOutbox(id: m.id, attempt: m.attempts, delivered: delivered, done: done, error: error, retryAtUs: retryAt, nowUs: nowUs)
    }

    /// Messages not yet sent (for /metrics).
    public func depth() async throws -> Int { try await unscoped.outboxDepth() }
}
