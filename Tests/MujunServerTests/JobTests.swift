import Foundation
import Testing
import Vapor
import SQLKit
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// Scheduled jobs (issue 12, part 2): each run claimed once per period whoever asks at once,
/// retried after a failure's pause, taken over after a lease, its messages written once.
@Suite("Jobs: run once per period, retried, taken over")
struct JobTests {
    static let spec = JobSpec(name: "test-job", chinese: "测试", schedule: .daily(hour: 7, minute: 30), maxAttempts: 3, lease: 600)
    static let t0: Int64 = 1_764_900_000_000_000  // a fixed moment, microseconds

    @Test("periods: daily from its time on, monthly from its day on, China time")
    func periods() {
        let d = JobSpec(name: "d", chinese: "", schedule: .daily(hour: 7, minute: 30))
        #expect(d.period(at: ChinaTime(year: 2026, month: 12, day: 5, hour: 7, minute: 29)) == nil)
        #expect(d.period(at: ChinaTime(year: 2026, month: 12, day: 5, hour: 7, minute: 30)) == "2026-12-05")
        let m = JobSpec(name: "m", chinese: "", schedule: .monthly(day: 3, hour: 9, minute: 0))
        #expect(m.period(at: ChinaTime(year: 2026, month: 12, day: 2, hour: 23, minute: 59)) == nil)
        #expect(m.period(at: ChinaTime(year: 2026, month: 12, day: 3, hour: 9, minute: 0)) == "2026-12")
        // 2026-12-04T23:45:00Z is 07:45 on the 5th in China
        let t = ChinaTime(Date(timeIntervalSince1970: 1_796_427_900))
        #expect(t == ChinaTime(year: 2026, month: 12, day: 5, hour: 7, minute: 45))
        #expect(JobSpec.retryPause(afterAttempt: 1) == 60 && JobSpec.retryPause(afterAttempt: 2) == 240 && JobSpec.retryPause(afterAttempt: 9) == 3600)
    }

    @Test("twelve claimers at once: exactly one runs the period")
    func oneClaimerWins() async throws {
        try await TestApp.with { app in
            let store = app.store
            let won = try await withThrowingTaskGroup(of: Int?.self) { group in
                for i in 0..<12 { group.addTask { try await store.claimJob(Self.spec, period: "2026-12-05", instance: "i\(i)", nowUs: Self.t0) } }
                var all: [Int?] = []
                for try await r in group { all.append(r) }
                return all
            }
            #expect(won.compactMap { $0 } == [1], "\(won)")
            let run = try #require(try await store.jobRun("test-job", period: "2026-12-05"))
            #expect(run.state == "running" && run.attempts == 1)
        }
    }

    @Test("a failed run waits its pause, is retried by one claimer, and stops after its attempts; a stalled one is taken over")
    func retriesAndTakeover() async throws {
        try await TestApp.with { app in
            let store = app.store
            let p = "2026-12-05"
            #expect(try await store.claimJob(Self.spec, period: p, instance: "a", nowUs: Self.t0) == 1)
            _ = try await store.finishJob("test-job", period: p, attempt: 1, succeeded: false, error: "网关无响应", detail: nil, messages: [], nowUs: Self.t0)
            #expect(try await store.claimJob(Self.spec, period: p, instance: "b", nowUs: Self.t0 + 59_000_000) == nil, "within the pause")
            let retry = try await withThrowingTaskGroup(of: Int?.self) { group in
                for i in 0..<6 { group.addTask { try await store.claimJob(Self.spec, period: p, instance: "r\(i)", nowUs: Self.t0 + 61_000_000) } }
                var all: [Int?] = []
                for try await r in group { all.append(r) }
                return all.compactMap { $0 }
            }
            #expect(retry == [2])
            let failedRun = try #require(try await store.jobRun("test-job", period: p))
            #expect(failedRun.error == nil, "a retry starts clean")
            _ = try await store.finishJob("test-job", period: p, attempt: 2, succeeded: false, error: "又失败", detail: nil, messages: [], nowUs: Self.t0 + 62_000_000)
            #expect(try await store.claimJob(Self.spec, period: p, instance: "c", nowUs: Self.t0 + 62_000_000 + 241_000_000) == 3)
            _ = try await store.finishJob("test-job", period: p, attempt: 3, succeeded: false, error: "第三次失败", detail: nil, messages: [], nowUs: Self.t0 + 400_000_000)
            #expect(try await store.claimJob(Self.spec, period: p, instance: "d", nowUs: Self.t0 + 10_000_000_000) == nil, "after maxAttempts it stays failed")
            #expect(try await store.jobRun("test-job", period: p)?.error == "第三次失败")

            // a run whose instance stopped: taken over after the lease, and the old attempt can no longer finish
            let q = "2026-12-06"
            #expect(try await store.claimJob(Self.spec, period: q, instance: "x", nowUs: Self.t0) == 1)
            #expect(try await store.claimJob(Self.spec, period: q, instance: "y", nowUs: Self.t0 + 599_000_000) == nil)
            #expect(try await store.claimJob(Self.spec, period: q, instance: "y", nowUs: Self.t0 + 601_000_000) == 2)
            let msg = Store.OutboxMessage(kind: "digest", recipient: "古山镇", subject: "s", body: "b", dedupeKey: "k-\(q)")
            await #expect(throws: ServiceError.self) {
                _ = try await store.finishJob("test-job", period: q, attempt: 1, succeeded: true, error: nil, detail: nil, messages: [msg], nowUs: Self.t0 + 602_000_000)
            }
            #expect(try await store.outboxCounts().isEmpty, "the stale attempt wrote nothing")
            #expect(try await store.finishJob("test-job", period: q, attempt: 2, succeeded: true, error: nil, detail: "ok", messages: [msg, msg], nowUs: Self.t0 + 603_000_000) == 1)
            #expect(try await store.outboxCounts() == ["pending": 1], "one message per dedupe key")
        }
    }

    @Test("runDue: six runners at once, each job once; the digest names every unit with open work once; a later call finds nothing due")
    func runDueOnceWithDigest() async throws {
        try await TestApp.withDemo(enterprises: 120) { app in
            let s = app.systemService(as: "test")
            // open work for two units: one case to accept, one accepted and overdue
            let cases = s.cases
            let today = cases.today
            _ = try await cases.register(.init(type: "task", title: "拆除违建", requester: "指挥部",
                                               assign: .init(unit: "古山镇", due: today.adding(days: 30).description)))
            _ = try await cases.register(.init(type: "task", title: "整治厂房", requester: "指挥部",
                                               assign: .init(unit: "方岩镇", due: today.adding(days: 40).description)))
            // the morning of a day (China time) after every job's time
            let f = ISO8601DateFormatter()
            let morning = try #require(f.date(from: "\(today)T09:00:00+08:00"))
            let backups = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-jobs-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: backups) }
            let url = TestApp.isPostgres ? (ProcessInfo.processInfo.environment["MUJUN_TEST_DATABASE_URL"] ?? "") : "sqlite://:memory:"
            let ran = try await withThrowingTaskGroup(of: [JobService.Ran].self) { group in
                for i in 0..<6 {
                    group.addTask {
                        try await s.jobs.runDue(now: morning, settings: .init(instance: "i\(i)", databaseURL: url, backupDir: nil), only: nil)
                    }
                }
                var all: [JobService.Ran] = []
                for try await r in group { all += r }
                return all
            }
            #expect(ran.map(\.job).sorted() == JobService.specs.map(\.name).sorted(), "\(ran)")
            #expect(ran.allSatisfy { $0.succeeded && $0.attempt == 1 }, "\(ran)")
            let digest = try #require(ran.first { $0.job == "daily-digest" })
            let (messages, counts) = try await s.jobs.outbox(limit: 500)
            #expect(messages.filter { $0.kind == "digest" }.count == digest.messages)
            // the two assignments told their units, in their own transactions
            let assigned = messages.filter { $0.kind == "case" }
            #expect(Set(assigned.map(\.recipient)) == ["古山镇", "方岩镇"] && assigned.allSatisfy { $0.subject.contains("新交办") }, "\(assigned.map(\.subject))")
            #expect(counts["pending"] == ran.reduce(0) { $0 + $1.messages } + assigned.count)
            let units = messages.filter { $0.kind == "digest" }.map(\.recipient)
            #expect(Set(units).isSuperset(of: ["古山镇", "方岩镇"]) && units.count == Set(units).count)
            let gushan = try #require(messages.first { $0.recipient == "古山镇" })
            #expect(gushan.body.contains("待签收") && gushan.subject.contains(today.description))
            #expect(try await s.jobs.runDue(now: morning.addingTimeInterval(3600), settings: .init(instance: "late", databaseURL: url)).isEmpty)
            // before the digest's time on the next day only the backup and the check are due
            let next = try #require(f.date(from: "\(today.adding(days: 1))T07:00:00+08:00"))
            let early = try await s.jobs.runDue(now: next, settings: .init(instance: "n", databaseURL: url))
            #expect(Set(early.map(\.job)) == ["daily-backup", "projects-check"])
            _ = backups
        }
    }
}

/// The outbox's message forms and retry pauses, and DingTalk's signed URL (issue 12, part 3).
@Suite("Notify: DingTalk signing, e-mail text, retry pauses")
struct NotifyTests {
    @Test("the signed URL is DingTalk's: timestamp and the URL-encoded Base64 HMAC-SHA256 of \"timestamp\\nsecret\" (Python's hmac agrees)")
    func dingTalkSignature() {
        let url = DingTalk.signedURL("https://oapi.dingtalk.com/robot/send?access_token=T", secret: "SECabc", timestampMillis: 1_764_900_000_000)
        #expect(url == "https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1764900000000&sign=N6BiUqMjqtphKaYDpC4EketvslcCDuBgvOQYX52NJck%3D")
        let payload = try? JSONSerialization.jsonObject(with: DingTalk.payload(subject: "【亩均督办】古山镇", body: "待签收 2 件")) as? [String: Any]
        #expect(payload?["msgtype"] as? String == "text")
        #expect((payload?["text"] as? [String: String])?["content"] == "【亩均督办】古山镇\n待签收 2 件")
    }

    @Test("the robot's answers: accepted, a wrong secret, another refusal, HTTP errors, not JSON")
    func dingTalkAnswers() {
        #expect(DingTalk.refusal(status: 200, body: Data(#"{"errcode":0,"errmsg":"ok"}"#.utf8)) == nil)
        #expect(DingTalk.refusal(status: 200, body: Data(#"{"errcode":310000,"errmsg":"sign not match"}"#.utf8))?.contains("签名不匹配") == true)
        #expect(DingTalk.refusal(status: 200, body: Data(#"{"errcode":130101,"errmsg":"send too fast"}"#.utf8))?.contains("130101") == true)
        #expect(DingTalk.refusal(status: 500, body: Data())?.contains("HTTP 500") == true)
        #expect(DingTalk.refusal(status: 200, body: Data("<html>".utf8))?.contains("JSON") == true)
    }

    @Test("an e-mail: encoded subject, Base64 UTF-8 body, Message-ID; pauses 30 s, 1, 2 … at most 30 min")
    func mailAndPauses() {
        let text = MailText.message(from: "mujun@yk.test", to: "gushan@yk.test", subject: "【亩均督办】古山镇", body: "待签收 2 件\n.开头的行",
                                    messageID: "outbox-7@mujun", date: Date(timeIntervalSince1970: 0))
        #expect(text.contains("Subject: =?UTF-8?B?\(Data("【亩均督办】古山镇".utf8).base64EncodedString())?="))
        #expect(text.contains("Message-ID: <outbox-7@mujun>") && text.contains("Content-Transfer-Encoding: base64"))
        let body = text.components(separatedBy: "\r\n\r\n").last!.replacingOccurrences(of: "\r\n", with: "")
        #expect(String(data: Data(base64Encoded: body)!, encoding: .utf8) == "待签收 2 件\n.开头的行")
        #expect([1, 2, 3, 7, 20].map { OutboxRetry.pause(afterAttempt: $0) } == [30, 60, 120, 1800, 1800])
        #expect(OutboxRetry.pause(afterAttempt: 1, scale: 0.01) == 0.3)
    }
}
