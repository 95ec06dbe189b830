import Foundation

/// The meetings at which work is assigned on the spot (一一作出回应和交办): each item raised becomes
/// a case of the right type, and the meeting's page later shows every item's state.
///
/// ```swift
/// MeetingKind(named: "永商会客厅")   // .yongshang
/// MeetingKind.weekly.chinese        // "周例会"
/// ```
public enum MeetingKind: String, Sendable, CaseIterable, Codable {
    case yongshang, daily, weekly, onsite, reception

    /// 永商会客厅 日会商 周例会 现场办公 领导接访
    public var chinese: String {
        switch self {
        case .yongshang: "永商会客厅"
        case .daily: "日会商"
        case .weekly: "周例会"
        case .onsite: "现场办公"
        case .reception: "领导接访"
        }
    }

    /// The case type an item of this meeting usually becomes (the form's default).
    public var usualCaseType: String {
        switch self {
        case .yongshang: "enterprise_request"
        case .reception: "petition"
        case .daily, .weekly, .onsite: "task"
        }
    }

    /// The kind by key or Chinese name.
    public init?(named s: String) {
        let t = s.trimmingCharacters(in: .whitespaces)
        if let k = MeetingKind(rawValue: t) { self = k; return }
        guard let k = MeetingKind.allCases.first(where: { $0.chinese == t }) else { return nil }
        self = k
    }
}

/// What a case's notes are (besides its loop's events): a co-unit's opinion, an extension
/// request and its decision, the "three ones" of a proposal's handling, a follow-up report.
public enum CaseNoteKind: String, Sendable, CaseIterable, Codable {
    case opinion, `extension`, report, visit, revisit, followup

    /// 协办意见 延期申请 报到 跑现场 邀请回访 续报
    public var chinese: String {
        switch self {
        case .opinion: "协办意见"
        case .extension: "延期申请"
        case .report: "报到一次"
        case .visit: "跑一次现场"
        case .revisit: "邀请一次回访"
        case .followup: "续报"
        }
    }

    /// The "three ones" (三个一) of a suggestion's or proposal's handling.
    public static let threeOnes: [CaseNoteKind] = [.report, .visit, .revisit]
}
