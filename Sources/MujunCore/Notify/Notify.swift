import Foundation

/// How messages of the outbox are written, without sending anything: an e-mail in RFC 5322
/// form and the pause before the next attempt (the DingTalk robot's message is in MujunStore,
/// beside the HMAC it is signed with).
///
/// ```swift
/// MailText.message(from: "mujun@city.gov.cn", to: "gushan@city.gov.cn", subject: "【亩均督办】…", body: "待签收 2 件",
///                  messageID: "outbox-42@mujun", date: Date())
/// OutboxRetry.pause(afterAttempt: 3)   // 120 s
/// ```
/// An e-mail as the SMTP DATA command sends it (UTF-8, Base64 body, encoded subject, dot-stuffed by the sender).
public enum MailText {
    public static func message(from: String, to: String, subject: String, body: String, messageID: String, date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let encodedSubject = "=?UTF-8?B?" + Data(subject.utf8).base64EncodedString() + "?="
        let b64 = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return [
            "From: \(from)", "To: \(to)", "Subject: \(encodedSubject)", "Date: \(f.string(from: date))",
            "Message-ID: <\(messageID)>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64", "", b64,
        ].joined(separator: "\r\n")
    }
}

public enum OutboxRetry {
    /// The pause after failed attempt `n` (1-based): 30 s, 1, 2, 4 … minutes, at most 30 minutes
    /// (scaled by `scale`, which only tests change). A message is never dropped: after a day of
    /// failures it is still tried every half hour, its last error on the admin page.
    public static func pause(afterAttempt n: Int, scale: Double = 1) -> Double {
        min(1800, 30 * pow(2, Double(max(0, n - 1)))) * scale
    }
}
