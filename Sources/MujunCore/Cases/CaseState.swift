import Foundation

/// The closed loop every case runs through (闭环督办): assign → accept → handle → reply →
/// evaluate → close (交办、签收、办理、答复、评价、销号), with return (退回) back to the assigner.
/// Appeals (申诉) are the first case type; the case engine of a later issue adds the others.
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

    /// The states a case may move to from this one.
    public var next: Set<CaseState> {
        switch self {
        case .assigned: [.accepted, .returned]
        case .accepted: [.handling, .replied]
        case .handling: [.replied]
        case .replied: [.evaluated, .closed]
        case .evaluated: [.closed]
        case .returned: [.assigned, .closed]
        case .closed: []
        }
    }

    public func canMove(to s: CaseState) -> Bool { next.contains(s) }
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
