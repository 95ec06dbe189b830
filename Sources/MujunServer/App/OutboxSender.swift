import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Vapor
import MujunCore
import MujunStore

/// The sender of the outbox, inside `mujun serve` (on every instance: a message is claimed by
/// one sender at a time). Every few seconds it takes the messages due, tells each unit by the
/// channels `notify_targets` gives it (a unit's, and those of the users who follow it; a user's
/// own for a message to `user:<login>`) — e-mail (SMTP, MUJUN_SMTP_HOST/PORT/FROM) and the DingTalk
/// group robot (signed when a secret is set) — and records which channels took it. A channel
/// that fails is tried again after 30 s, 1, 2, 4 … at most 30 minutes, the error shown on
/// /admin/jobs; a message is never dropped, and a channel that took it is not sent it again.
public struct OutboxSettings: Sendable {
    public var enabled: Bool
    public var every: Double
    public var smtpHost: String?
    public var smtpPort: Int
    public var smtpFrom: String
    /// Multiplies every retry pause (tests shorten an hour to seconds); 1 in production.
    public var retryScale: Double
    /// MUJUN_WEBHOOK_TIMEOUT: seconds a robot may take to answer (10).
    public var webhookTimeout: Double

    public init(env: [String: String] = ProcessInfo.processInfo.environment) {
        enabled = !["off", "0", "false", "no"].contains(env["MUJUN_OUTBOX"]?.lowercased() ?? "")
        every = max(0.2, env["MUJUN_OUTBOX_EVERY"].flatMap(Double.init) ?? 5)
        smtpHost = env["MUJUN_SMTP_HOST"].flatMap { $0.isEmpty ? nil : $0 }
        smtpPort = env["MUJUN_SMTP_PORT"].flatMap(Int.init) ?? 25
        smtpFrom = env["MUJUN_SMTP_FROM"] ?? "mujun@localhost"
        retryScale = max(0.0001, env["MUJUN_OUTBOX_RETRY_SCALE"].flatMap(Double.init) ?? 1)
        webhookTimeout = min(120, max(0.5, env["MUJUN_WEBHOOK_TIMEOUT"].flatMap(Double.init) ?? 10))
    }
}

public func startOutboxSender(_ app: Application, settings: OutboxSettings = OutboxSettings()) {
    guard settings.enabled else { return }
    let services = app.systemService(as: "outbox")
    let client = app.client
    let logger = app.logger
    let task = Task.detached {
        while !Task.isCancelled {
            do {
                try await OutboxSender.sendDue(services: services, client: client, settings: settings, logger: logger)
            } catch {
                logger.warning("outbox: \(String(reflecting: error))")
            }
            try? await Task.sleep(nanoseconds: UInt64(settings.every * 1e9))
        }
    }
    app.lifecycle.use(SchedulerLifecycle(task: task))
}

enum OutboxSender {
    /// A way a message goes out: its token in `delivered` (so that a retry skips it) and where.
    struct Channel {
        enum Route { case email(String), webhook(url: String, secret: String?) }
        var token: String
        var route: Route
    }

    /// The channels of a message to `recipient`: a unit's own (e-mail, robot) and those of the
    /// users who follow the unit; a user's own (`user:<login>`).
    static func channels(_ recipient: String, targets: [String: Store.NotifyTarget], followers: [String: [Store.NotifyTarget]]) -> [Channel] {
        func of(_ t: Store.NotifyTarget?, prefix: String) -> [Channel] {
            guard let t else { return [] }
            return (t.email.map { [Channel(token: prefix + "email", route: .email($0))] } ?? [])
                + (t.webhookURL.map { [Channel(token: prefix + "webhook", route: .webhook(url: $0, secret: t.webhookSecret))] } ?? [])
        }
        if CaseNotice.login(of: recipient) != nil { return of(targets[recipient], prefix: "") }
        return of(targets[recipient], prefix: "") + (followers[recipient] ?? []).flatMap { of($0, prefix: $0.unit + ":") }
    }

    static func sendDue(services: MujunStore.Services, client: any Client, settings: OutboxSettings, logger: Logger) async throws {
        let outbox = services.notify
        let claimed = try await outbox.claim(limit: 50)
        guard !claimed.isEmpty else { return }
        let targets = Dictionary(try await outbox.targets().map { ($0.unit, $0) }, uniquingKeysWith: { a, _ in a })
        let followers = try await outbox.followers()
        for m in claimed {
            var delivered = Set(m.delivered.split(separator: ",").map(String.init))
            var errors: [String] = []
            let channels = channels(m.recipient, targets: targets, followers: followers)
            var dropped = false
            if channels.isEmpty {
                if CaseNotice.login(of: m.recipient) != nil {
                    // the user turned their notifications off after the message was written: nothing to retry
                    dropped = true
                } else {
                    errors.append("「\(m.recipient)」未设置接收方式（邮箱或钉钉机器人）/ no channel set for this unit")
                }
            }
            for c in channels where !delivered.contains(c.token) {
                let who = CaseNotice.login(of: c.token).map { "（\($0)）" } ?? ""
                switch c.route {
                case .email(let email):
                    do {
                        guard let host = settings.smtpHost else { throw ServiceError(.invalid, "未设置 MUJUN_SMTP_HOST / no SMTP server configured") }
                        let text = MailText.message(from: settings.smtpFrom, to: email, subject: m.subject, body: m.body,
                                                    messageID: "outbox-\(m.id)-\(c.token.replacingOccurrences(of: ":", with: "-"))@mujun", date: Date())
                        try await SMTPClient.send(host: host, port: settings.smtpPort, from: settings.smtpFrom, to: email, message: text)
                        delivered.insert(c.token)
                    } catch {
                        errors.append("邮件\(who) / e-mail: \((error as? ServiceError)?.message ?? String(describing: error))")
                    }
                case let .webhook(hook, secret):
                    do {
                        try await postWebhook(hook, secret: secret, subject: m.subject, body: m.body, client: client, timeout: settings.webhookTimeout)
                        delivered.insert(c.token)
                    } catch {
                        errors.append("钉钉\(who) / DingTalk: \((error as? ServiceError)?.message ?? String(describing: error))")
                    }
                }
            }
            let done = errors.isEmpty
            try await outbox.finish(m, delivered: delivered.sorted().joined(separator: ","), done: done,
                                    error: done ? (dropped ? "该用户已取消接收方式，未发送 / the user turned notifications off" : nil)
                                        : errors.joined(separator: "；"), retryScale: settings.retryScale)
            if !done {
                // the first failure and then every tenth: a receiver down for hours does not fill the log
                if m.attempts == 1 || m.attempts % 10 == 0 {
                    logger.warning("outbox \(m.id) to \(m.recipient), attempt \(m.attempts): \(errors.joined(separator: "; "))")
                }
            }
        }
    }

    /// Posts a message to a DingTalk robot (signed when there is a secret); throws the robot's
    /// refusal, an HTTP error, or a timeout after `timeout` seconds.
    static func postWebhook(_ hook: String, secret: String?, subject: String, body: String, client: any Client, timeout: Double) async throws {
        let url = secret.map { DingTalk.signedURL(hook, secret: $0, timestampMillis: Int64(Date().timeIntervalSince1970 * 1000)) } ?? hook
        var headers = HTTPHeaders()
        headers.contentType = .json
        let res: ClientResponse
        do {
            res = try await client.post(URI(string: url), headers: headers) { req in
                req.body = ByteBuffer(data: DingTalk.payload(subject: subject, body: body))
                req.timeout = .milliseconds(Int64(timeout * 1000))
            }
        } catch where ["deadlineExceeded", "readTimeout", "connectTimeout"].contains(where: String(describing: error).contains) {
            throw ServiceError(.invalid, String(format: "钉钉接口 %.0f 秒内未答复 / no answer within %.0f s", timeout, timeout))
        }
        let data = res.body.map { Data(buffer: $0) } ?? Data()
        if let refusal = DingTalk.refusal(status: Int(res.status.code), body: data) { throw ServiceError(.invalid, refusal) }
    }
}

/// A plain SMTP client (RFC 5321) for the city's internal mail relay: EHLO, MAIL, RCPT, DATA,
/// QUIT, each answer checked; blocking sockets on a thread of its own, 15 s per step.
enum SMTPClient {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func send(host: String, port: Int, from: String, to: String, message: String) async throws {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do { try sendBlocking(host: host, port: port, from: from, to: to, message: message); cont.resume() } catch { cont.resume(throwing: error) }
            }
        }
    }

    static func sendBlocking(host: String, port: Int, from: String, to: String, message: String) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else { throw Failure(description: "找不到邮件服务器 \(host)") }
        defer { freeaddrinfo(res) }
        let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "无法连接邮件服务器 \(host):\(port)（\(String(cString: strerror(errno)))）")
        }
        var buffer: [UInt8] = []
        func reply() throws -> (Int, String) {
            // lines until one whose 4th byte is a space ("250 ok", not "250-…")
            var lines: [String] = []
            while true {
                while !buffer.contains(0x0A) {
                    var chunk = [UInt8](repeating: 0, count: 4096)
                    let n = recv(fd, &chunk, chunk.count, 0)
                    guard n > 0 else { throw Failure(description: "邮件服务器断开或超时 / the mail server closed or timed out") }
                    buffer += chunk[0..<n]
                }
                let i = buffer.firstIndex(of: 0x0A)!
                let line = String(decoding: buffer[..<i], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                buffer.removeFirst(i + 1)
                lines.append(line)
                if line.count < 4 || Array(line)[3] == " " { break }
            }
            let last = lines.last ?? ""
            return (Int(last.prefix(3)) ?? 0, lines.joined(separator: " | "))
        }
        func write(_ s: String) throws {
            let bytes = Array(s.utf8)
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw Failure(description: "写入邮件服务器失败 / cannot write to the mail server") }
                off += n
            }
        }
        func expect(_ codes: Set<Int>, after command: String?) throws {
            if let command { try write(command + "\r\n") }
            let (code, text) = try reply()
            guard codes.contains(code) else { throw Failure(description: "邮件服务器拒绝（\(command?.split(separator: ":").first ?? "连接")）：\(text)") }
        }
        try expect([220], after: nil)
        try expect([250], after: "EHLO mujun")
        try expect([250], after: "MAIL FROM:<\(from)>")
        try expect([250, 251], after: "RCPT TO:<\(to)>")
        try expect([354], after: "DATA")
        // dot-stuffing: a line that starts with "." gets another
        let body = message.replacingOccurrences(of: "\r\n.", with: "\r\n..")
        try expect([250], after: body + "\r\n.")
        try? write("QUIT\r\n")
    }
}
