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

/// The figures an appeal can dispute: the numeric columns of the enterprise template.
public enum AppealField: String, Codable, Sendable, CaseIterable {
    case landMu = "land_mu", tax, valueAdded = "value_added", revenue, rnd, energyTce = "energy_tce"
    case emissions, electricity, employees

    public var chinese: String {
        EnterpriseImport.fields.first { $0.key == rawValue }?.chinese ?? rawValue
    }

    public func value(of r: EnterpriseRecord) -> Double? {
        switch self {
        case .landMu: r.landMu
        case .tax: r.tax
        case .valueAdded: r.valueAdded
        case .revenue: r.revenue
        case .rnd: r.rnd
        case .energyTce: r.energyTce
        case .emissions: r.emissions
        case .electricity: r.electricity
        case .employees: r.employees
        }
    }

    public func set(_ v: Double?, on r: inout EnterpriseRecord) {
        switch self {
        case .landMu: r.landMu = v
        case .tax: r.tax = v
        case .valueAdded: r.valueAdded = v
        case .revenue: r.revenue = v
        case .rnd: r.rnd = v
        case .energyTce: r.energyTce = v
        case .emissions: r.emissions = v
        case .electricity: r.electricity = v
        case .employees: r.employees = v
        }
    }

    /// Whether a negative value is allowed (only tax and value added may be negative).
    public var allowsNegative: Bool { self == .tax || self == .valueAdded }
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
