import Foundation
import Testing
@testable import MujunCore

/// Who the closed loop tells, and what (issue 12, part 3): assignment to the lead and co-units,
/// an unsatisfied rating, a failed verification, an extension — nothing for other steps.
@Suite struct CaseNoticeTests {
    let types = CaseTypes.default
    func d(_ s: String) -> CalendarDate { CalendarDate(s)! }

    @Test func assignmentTellsTheLeadAndTheCoUnitsOnceEach() throws {
        var loop = CaseLoop(type: types.type(named: "人大建议")!)
        try loop.apply(CaseEvent(.register, d("2025-09-26"), unit: "王代表"))
        let assign = CaseEvent(.assign, d("2025-09-30"), unit: "古山镇", coUnits: ["市税务局", "古山镇"], level: .key)
        try loop.apply(assign)
        let m = CaseNotice.messages(after: assign, loop: loop, caseID: 42, ref: "2025-RD012", title: "加快园区道路建设", seq: 2)
        #expect(m.map(\.recipient) == ["古山镇", "市税务局"])
        #expect(m[0].subject == "【亩均督办】新交办（重点） 人大建议 2025-RD012")
        // 5 working days from 9/30 across the National Day holiday (10/1–8, 10/11 worked): 10/14
        #expect(m[0].body.contains("请于 2025-10-14 前签收") && m[0].body.contains("办理期限 2025-12-30"))
        #expect(m[1].subject.contains("协办") && m[1].body.contains("由 古山镇 主办"))
        #expect(Set(m.map(\.dedupeKey)) == ["case:42:2:古山镇", "case:42:2:市税务局"])
        // accepting, progress, a satisfied rating: nobody is told
        var after = loop
        let accept = CaseEvent(.accept, d("2025-10-09"), unit: "古山镇")
        try after.apply(accept)
        #expect(CaseNotice.messages(after: accept, loop: after, caseID: 42, ref: "2025-RD012", title: "t", seq: 3).isEmpty)
    }

    @Test func anUnsatisfiedRatingAndAFailedVerificationTellTheLeadUnit() throws {
        var s = CaseLoop(type: types.type(named: "人大建议")!)
        for e in [CaseEvent(.register, d("2025-09-26"), unit: "王代表"), CaseEvent(.assign, d("2025-09-30"), unit: "古山镇"),
                  CaseEvent(.accept, d("2025-10-09"), unit: "古山镇"), CaseEvent(.reply, d("2025-11-03"), unit: "古山镇", category: "B")] {
            try s.apply(e)
        }
        let unhappy = CaseEvent(.evaluate, d("2025-11-10"), unit: "王代表", rating: .unsatisfied)
        try s.apply(unhappy)
        let m = CaseNotice.messages(after: unhappy, loop: s, caseID: 7, ref: "2025-RD001", title: "道路", seq: 5)
        #expect(m.map(\.recipient) == ["古山镇"] && m[0].subject.contains("不满意") && m[0].body.contains("重新办理"))

        var t = CaseLoop(type: types.type(named: "task")!)
        for e in [CaseEvent(.register, d("2025-03-02"), unit: "指挥部"), CaseEvent(.assign, d("2025-03-03"), unit: "方岩镇", due: d("2025-04-30")),
                  CaseEvent(.accept, d("2025-03-04"), unit: "方岩镇"), CaseEvent(.reply, d("2025-04-20"), unit: "方岩镇")] {
            try t.apply(e)
        }
        let failed = CaseEvent(.verify, d("2025-04-25"), unit: "指挥部", passed: false, note: "围墙未拆除")
        try t.apply(failed)
        let v = CaseNotice.messages(after: failed, loop: t, caseID: 9, ref: "2025-RW003", title: "拆违", seq: 5)
        #expect(v.map(\.recipient) == ["方岩镇"] && v[0].subject.contains("验收未通过") && v[0].body.contains("围墙未拆除"))
    }

    @Test func aUsersRecipientAndChannelTokensNameTheLoginAUnitNone() {
        #expect(CaseNotice.user("deputy1") == "user:deputy1")
        #expect(CaseNotice.login(of: CaseNotice.user("deputy1")) == "deputy1")
        #expect(CaseNotice.login(of: "user:tax2:webhook") == "tax2")  // a follower's channel of a unit's message
        #expect(CaseNotice.login(of: "市税务局") == nil && CaseNotice.login(of: "email") == nil)
    }
}
