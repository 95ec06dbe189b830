import Foundation

/// One line of the experts' score sheet (评分表): what is scored and its most points.
public struct ScoreCriterion: Sendable, Hashable, Codable {
    public var key: String
    public var name: String
    public var max: Int
    public init(key: String, name: String, max: Int) { self.key = key; self.name = name; self.max = max }
}

/// The score sheet an expert fills in for a challenge application (揭榜挂帅 评审遴选): every
/// criterion scored from 0 to its maximum (halves allowed), the points summing to at most 100.
///
/// ```swift
/// let sheet = ScoreSheet.default
/// try sheet.total(["tech": 26, "team": 16, "plan": 17, "funds": 12, "impact": 11])   // 82
/// ```
public struct ScoreSheet: Sendable, Hashable {
    public var criteria: [ScoreCriterion]
    public init(criteria: [ScoreCriterion]) { self.criteria = criteria }

    public var maxTotal: Int { criteria.reduce(0) { $0 + $1.max } }

    public static let `default` = ScoreSheet(criteria: [
        ScoreCriterion(key: "tech", name: "技术方案先进性与可行性", max: 30),
        ScoreCriterion(key: "team", name: "研发团队与技术积累", max: 20),
        ScoreCriterion(key: "plan", name: "实施计划与进度安排", max: 20),
        ScoreCriterion(key: "funds", name: "经费投入与配套条件", max: 15),
        ScoreCriterion(key: "impact", name: "预期成效与产业化前景", max: 15),
    ])

    /// The sum of a filled-in sheet; every criterion must be scored, within 0…max, in steps of 0.5.
    public func total(_ scores: [String: Double]) throws(ProjectError) -> Double {
        for k in scores.keys where !criteria.contains(where: { $0.key == k }) {
            throw ProjectError(zh: "评分表没有「\(k)」这一项", en: "the score sheet has no criterion \(k)")
        }
        var sum = 0.0
        for c in criteria {
            guard let v = scores[c.key] else {
                throw ProjectError(zh: "请为「\(c.name)」打分（0–\(c.max) 分）", en: "score \(c.key) (0–\(c.max))")
            }
            guard v.isFinite, v >= 0, v <= Double(c.max) else {
                throw ProjectError(zh: "「\(c.name)」的得分 \(formatNumber(v)) 应在 0 到 \(c.max) 分之间", en: "\(c.key): \(formatNumber(v)) must be between 0 and \(c.max)")
            }
            guard (v * 2).rounded() == v * 2 else {
                throw ProjectError(zh: "「\(c.name)」的得分按 0.5 分计", en: "\(c.key): scores go in steps of 0.5")
            }
            sum += v
        }
        return sum
    }
}

/// One tranche of a challenge's reward (奖励兑现): the share paid once a milestone of the
/// winner's project is done.
public struct RewardTranche: Sendable, Hashable {
    /// The milestone of the challenge type that makes this tranche payable.
    public var milestone: String
    /// Percent of the reward (the tranches sum to 100).
    public var share: Int
    public init(milestone: String, share: Int) { self.milestone = milestone; self.share = share }
}

/// Where a challenge (揭榜挂帅) stands, from its dates and its award.
public enum ChallengeStage: String, Sendable, Codable, CaseIterable, Hashable {
    /// 揭榜中: applications are taken until the deadline (inclusive)
    case open
    /// 评审中: past the deadline, experts score, HQ selects
    case reviewing
    /// 已立项: a winner was selected; its project runs the milestones
    case awarded
    /// 流榜: closed without a winner
    case closed

    public var chinese: String {
        switch self {
        case .open: "揭榜中"
        case .reviewing: "评审遴选"
        case .awarded: "已立项"
        case .closed: "流榜"
        }
    }

    /// A stored challenge's stage on `day`: awarded or closed as stored, else open through the deadline.
    public static func of(stored: String, deadline: CalendarDate, on day: CalendarDate) -> ChallengeStage {
        switch stored {
        case ChallengeStage.awarded.rawValue: .awarded
        case ChallengeStage.closed.rawValue: .closed
        default: day <= deadline ? .open : .reviewing
        }
    }
}

/// The rules of a challenge's steps (揭榜 → 评审遴选 → 立项 → 兑现), pure, each refusal in Chinese and English.
public enum ChallengeRules {
    /// An enterprise's application (揭榜) on `day`: open through the deadline, a plan, partners
    /// (联合体) only when the challenge allows a consortium, each a valid credit code other than the applicant's.
    public static func checkApplication(stage: ChallengeStage, deadline: CalendarDate, day: CalendarDate, consortium: Bool,
                                        applicant: String, partners: [String], plan: String, maxPlan: Int) throws(ProjectError) {
        guard stage == .open, day <= deadline else {
            throw ProjectError(zh: "揭榜截止日期 \(deadline) 已过，不再受理申请", en: "the deadline (\(deadline)) has passed; no more applications")
        }
        let text = plan.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= maxPlan else {
            throw ProjectError(zh: "请填写攻关方案（不超过 \(maxPlan) 字）", en: "the plan is required (at most \(maxPlan) characters)")
        }
        if !partners.isEmpty && !consortium {
            throw ProjectError(zh: "本榜单不接受联合体揭榜", en: "this challenge does not take consortia")
        }
        var seen: Set<String> = [applicant]
        for p in partners {
            guard CreditCode.isValid(p) else {
                throw ProjectError(zh: "联合体成员的统一社会信用代码 \(p) 无效", en: "partner \(p): not a valid credit code")
            }
            guard seen.insert(p).inserted else {
                throw ProjectError(zh: "联合体成员 \(p) 重复或与申请单位相同", en: "partner \(p) is repeated or is the applicant")
            }
        }
    }

    /// The tranches of `reward` (万元), rounded to the cent, the last taking what rounding left.
    public static func amounts(reward: Double, tranches: [RewardTranche]) -> [Double] {
        var out: [Double] = []
        var left = (reward * 100).rounded()
        for (i, t) in tranches.enumerated() {
            let cents = i == tranches.count - 1 ? left : (reward * 100 * Double(t.share) / 100).rounded()
            out.append(cents / 100)
            left -= cents
        }
        return out
    }

    /// Checks a challenge type's tranches: each on one of its milestones, shares > 0, summing to 100.
    public static func check(tranches: [RewardTranche], milestones: [String]) throws(ProjectError) {
        guard !tranches.isEmpty else { throw ProjectError(zh: "至少需要一笔奖励兑现", en: "at least one reward tranche is needed") }
        for t in tranches {
            guard milestones.contains(t.milestone) else {
                throw ProjectError(zh: "奖励兑现节点「\(t.milestone)」不是揭榜挂帅的节点", en: "tranche milestone \(t.milestone) is not a challenge milestone")
            }
            guard t.share > 0 else { throw ProjectError(zh: "奖励兑现比例应大于 0", en: "a tranche's share must be greater than 0") }
        }
        let sum = tranches.reduce(0) { $0 + $1.share }
        guard sum == 100 else { throw ProjectError(zh: "奖励兑现比例合计 \(sum)%，应为 100%", en: "the tranches sum to \(sum) %, not 100 %") }
    }

    /// The ranking of applications by mean expert score (highest first; ties by fewer missing
    /// scores, then by the earlier application): (id, mean or nil when none scored).
    public static func ranked(_ apps: [(id: Int64, scores: [Double], assigned: Int)]) -> [(id: Int64, mean: Double?)] {
        apps.map { a in (a.id, a.scores.isEmpty ? nil : a.scores.reduce(0, +) / Double(a.scores.count), a.assigned - a.scores.count) }
            .sorted { x, y in
                switch (x.1, y.1) {
                case let (a?, b?) where a != b: return a > b
                case (nil, _?): return false
                case (_?, nil): return true
                default: return x.2 != y.2 ? x.2 < y.2 : x.0 < y.0
                }
            }
            .map { ($0.0, $0.1) }
    }
}
