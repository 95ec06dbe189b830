import Foundation
import MujunCore

/// Who a service works for: a signed-in user (with the data scope of their role and
/// jurisdiction), or the system (the command-line tool, the demo loader, jobs).
///
/// ```swift
/// let caller = Caller.user(principal, via: "API 令牌「QGIS」", address: "10.0.0.7")
/// let services = Services(db: db, caller: caller, context: context)
/// try await services.appeals.accept(id: 12, note: nil)   // audited as the user, via the token
/// ```
public struct Caller: Sendable {
    /// The user, nil for the system.
    public var principal: Principal?
    /// The name written to the audit log and the case history.
    public var actor: String
    /// How the user came in when it was not a browser session (an API token's name).
    public var via: String?
    /// The client's address, for the audit log.
    public var address: String?
    /// The enterprise-level data the caller may read.
    public var scope: DataScope
    /// Whether results that are still a draft are visible.
    public var seesDrafts: Bool

    public init(principal: Principal?, actor: String, via: String? = nil, address: String? = nil, scope: DataScope,
                seesDrafts: Bool) {
        self.principal = principal; self.actor = actor; self.via = via; self.address = address
        self.scope = scope; self.seesDrafts = seesDrafts
    }

    /// A signed-in user: scope and draft visibility from the role.
    public static func user(_ p: Principal, via: String? = nil, address: String? = nil) -> Caller {
        Caller(principal: p, actor: p.login, via: via, address: address, scope: AccessPolicy.scope(p),
               seesDrafts: p.role == .admin || p.role == .headquarters)
    }

    /// The system itself (`cli`, `demo`, a job): sees everything, may do everything.
    public static func system(_ actor: String) -> Caller {
        Caller(principal: nil, actor: actor, scope: .all, seesDrafts: true)
    }

    /// Nobody signed in: sees nothing.
    public static let anonymous = Caller(principal: nil, actor: "anonymous", scope: .none, seesDrafts: false)

    public var isSystem: Bool { principal == nil && actor != "anonymous" }

    /// The cases (督办事项) the caller may read: the system all, nobody none.
    public var caseScope: CaseScope { principal.map(AccessPolicy.caseScope) ?? (isSystem ? .all : .none) }
    /// The projects (项目) the caller may read: the system all, nobody none.
    public var projectScope: ProjectScope { principal.map(AccessPolicy.projectScope) ?? (isSystem ? .all : .none) }
    public var role: Role? { principal?.role }

    /// Whether the caller holds a permission (the system holds all).
    public func allows(_ permission: Permission) -> Bool {
        guard let p = principal else { return isSystem }
        return AccessPolicy.allows(p.role, permission)
    }

    /// Throws `forbidden` unless the caller holds `permission` (the routes check first; the
    /// services check again, so that a service used from elsewhere cannot skip it).
    func require(_ permission: Permission) throws(ServiceError) {
        guard allows(permission) else {
            throw ServiceError(.forbidden, "无权执行此操作 / not allowed for \(role?.rawValue ?? actor)")
        }
    }

    /// The audit detail with how the caller came in, e.g. "… · 经 API 令牌「QGIS」".
    func detail(_ d: String?) -> String? {
        guard let via else { return d }
        return [d, "经 \(via)"].compactMap { $0 }.joined(separator: " · ")
    }
}
