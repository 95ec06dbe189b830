import Foundation

/// An appeal's state as its pages, API and publication checks name it. The loop itself is the
/// case engine's (`CaseLoop` with `CaseType.appeal`): this is how its states read for an appeal.
public enum CaseState: String, Codable, Sendable, CaseIterable, Hashable {
    /// 交办 / 已提交
    case assigned
    /// 签收
    case accepted
    /// 办理中
    case handling
    /// 已答复
    case replied
    /// 已评价
    case evaluated
    /// 已销号
    case closed
    /// 退回
    case returned

    public var chinese: String {
        switch self {
        case .assigned: "已提交"
        case .accepted: "已签收"
        case .handling: "办理中"
        case .replied: "已答复"
        case .evaluated: "已评价"
        case .closed: "已销号"
        case .returned: "已退回"
        }
    }

    /// The appeal's state for the engine's: signed for (签收) reads 已签收.
    public init(loop s: CaseLoop.State) {
        switch s {
        case .registered, .assigned: self = .assigned
        case .handling: self = .accepted
        case .replied, .verified: self = .replied
        case .evaluated: self = .evaluated
        case .closed: self = .closed
        case .returned: self = .returned
        }
    }
}

/// The decision on an appeal (申诉), given with the reply.
public enum AppealOutcome: String, Codable, Sendable, CaseIterable {
    /// 支持：the data is corrected and the year re-evaluated
    case upheld
    /// 驳回
    case rejected

    public var chinese: String { self == .upheld ? "支持" : "驳回" }
}

/// Where a year's results stand: 草稿 → 公示 → 正式.
public enum PublicationStatus: String, Codable, Sendable, CaseIterable {
    case draft, publicity, final

    public var chinese: String {
        switch self {
        case .draft: "草稿"
        case .publicity: "公示中"
        case .final: "正式发布"
        }
    }
}
