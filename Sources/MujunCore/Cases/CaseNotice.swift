import Foundation

/// Who the closed loop tells, and what, when a step happens (the outbox sends it): a unit a case
/// is assigned to (and its co-units) when it is assigned, and the lead unit when the requester is
/// not satisfied, the verification fails or its extension is decided; the requester (a deputy,
/// an enterprise — by the logins given, those who chose to be told) when it is replied to. As
/// data, tested here; the store writes the messages in the step's own transaction.
///
/// ```swift
/// CaseNotice.messages(after: event, loop: loop, ref: "2026-RD012", title: "加快园区道路建设", seq: 2)
/// // [CaseNotice.Message(recipient: "古山镇", subject: "【亩均督办】新交办 人大建议 2026-RD012：…", …)]
/// ```
public enum CaseNotice {
    public struct Message: Sendable, Hashable {
        public var recipient: String
        public var subject: String
        public var body: String
        /// unique per case, event and recipient: a step written once tells each unit once
        public var dedupeKey: String
    }

    /// The recipient that stands for a user's own channels (per-user settings), not a unit's.
    public static func user(_ login: String) -> String { userPrefix + login }

    /// The login of a recipient made by ``user(_:)``, nil for a unit (or a channel token
    /// `user:<login>:email` of a user who follows a unit: its login).
    public static func login(of recipient: some StringProtocol) -> Substring? {
        guard recipient.hasPrefix(userPrefix) else { return nil }
        return Substring(recipient.dropFirst(userPrefix.count).prefix { $0 != ":" })
    }

    private static let userPrefix = "user:"

    /// The messages `event` (the case's event number `seq`, already applied to `loop`) calls for;
    /// `requesters`: the logins of the requester's accounts to tell of a reply.
    public static func messages(after event: CaseEvent, loop: CaseLoop, caseID: Int64, ref: String, title: String, seq: Int,
                                requesters: [String] = []) -> [Message] {
        let name = loop.type.name
        let what = "\(name) \(ref)「\(title)」"
        func message(_ unit: String, _ subject: String, _ body: String) -> Message {
            Message(recipient: unit, subject: "【亩均督办】\(subject)", body: body + "\n请登录亩均平台“我的待办”办理。",
                    dedupeKey: "case:\(caseID):\(seq):\(unit)")
        }
        switch event.kind {
        case .assign:
            var out: [Message] = []
            let due = (loop.assignment?.acceptDue).map { "，请于 \($0) 前签收" } ?? ""
            let reply = (loop.assignment?.replyDue).map { "，办理期限 \($0)" } ?? ""
            let level = event.level == .normal ? "" : "（\(event.level.chinese)）"
            if !event.unit.isEmpty {
                out.append(message(event.unit, "新交办\(level) \(name) \(ref)", "\(what) 交由贵单位主办\(due)\(reply)。"))
            }
            for co in event.coUnits where !co.isEmpty && co != event.unit {
                out.append(message(co, "新交办（协办） \(name) \(ref)", "\(what) 由 \(event.unit) 主办，贵单位协办\(reply)。"))
            }
            return out
        case .evaluate where event.rating == .unsatisfied:
            guard let lead = loop.assignment?.unit else { return [] }
            return [message(lead, "不满意，需重新办理 \(name) \(ref)", "\(what) 的答复被评为不满意\(loop.rehandleDue.map { "，请于 \($0) 前重新办理答复" } ?? "，请重新办理")。")]
        case .verify where event.passed == false:
            guard let lead = loop.assignment?.unit else { return [] }
            return [message(lead, "验收未通过 \(name) \(ref)", "\(what) 验收未通过，请继续办理。" + (event.note.isEmpty ? "" : "意见：\(event.note)"))]
        case .reply:
            let category = event.category.map { "（答复类别 \($0)）" } ?? ""
            let ask = loop.type.evaluate ? "请登录亩均平台查看答复并评价（满意/基本满意/不满意）。" : "请登录亩均平台查看答复。"
            return requesters.map { login in
                Message(recipient: user(login), subject: "【亩均督办】您提出的\(name) \(ref) 已答复",
                        body: "您提出的\(what) 已由 \(loop.assignment?.unit ?? event.unit) 答复\(category)。\(ask)",
                        dedupeKey: "case:\(caseID):\(seq):\(user(login))")
            }
        case .extend:
            guard let lead = loop.assignment?.unit else { return [] }
            return [message(lead, "延期已批准 \(name) \(ref)", "\(what) 的办理期限延至 \(loop.currentReplyDue?.description ?? event.due?.description ?? "")。")]
        default:
            return []
        }
    }
}
