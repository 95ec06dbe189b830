import Foundation
import Crypto

/// The DingTalk (钉钉, and 浙政钉 which government staff use) group-robot message, its signed
/// URL and how to read the robot's answer.
///
/// ```swift
/// let url = DingTalk.signedURL("https://oapi.dingtalk.com/robot/send?access_token=T", secret: "SEC…", timestampMillis: 1764900000000)
/// // …&timestamp=1764900000000&sign=<URL-encoded Base64 HMAC-SHA256 of "1764900000000\nSEC…">
/// DingTalk.payload(subject: "【亩均督办】古山镇 …", body: "待签收 2 件")   // {"msgtype":"text","text":{"content":…}}
/// ```
public enum DingTalk {
    /// `webhook` with `timestamp` and `sign` appended (the robot's 加签 security setting): sign =
    /// URL-encoded Base64 of HMAC-SHA256 over "timestamp\nsecret" with the secret as key.
    public static func signedURL(_ webhook: String, secret: String, timestampMillis: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestampMillis)\n\(secret)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        let sign = Data(mac).base64EncodedString()
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = sign.addingPercentEncoding(withAllowedCharacters: allowed) ?? sign
        return webhook + (webhook.contains("?") ? "&" : "?") + "timestamp=\(timestampMillis)&sign=\(encoded)"
    }

    /// The JSON body of a text message.
    public static func payload(subject: String, body: String) -> Data {
        let content = subject + "\n" + body
        return (try? JSONSerialization.data(withJSONObject: ["msgtype": "text", "text": ["content": content]], options: [.sortedKeys])) ?? Data()
    }

    /// The robot's answer: nil when accepted (`errcode` 0), else what to show the admin.
    public static func refusal(status: Int, body: Data) -> String? {
        guard (200..<300).contains(status) else { return "钉钉接口返回 HTTP \(status) / the webhook answered HTTP \(status)" }
        guard let o = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return "钉钉接口的回答无法读取 / the webhook's answer is not JSON"
        }
        let code = (o["errcode"] as? Int) ?? ((o["errcode"] as? String).flatMap(Int.init) ?? -1)
        if code == 0 { return nil }
        let msg = o["errmsg"] as? String ?? ""
        if code == 310000 { return "钉钉签名不匹配或时间戳过期，请检查机器人密钥（加签）/ signature mismatch: check the webhook secret (\(msg))" }
        return "钉钉拒收：errcode \(code) \(msg) / the robot refused the message"
    }
}

