import Vapor
import MujunCore

/// Small helpers for the server-rendered pages (UI text in Simplified Chinese).
/// Every value put into a page goes through `escape`.
enum HTML {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func escape(_ s: String?) -> String { s.map { escape($0) } ?? "" }

    /// A number shown with `digits` decimals, or "—" when missing.
    static func num(_ x: Double?, _ digits: Int = 2) -> String {
        guard let x, x.isFinite else { return "—" }
        return String(format: "%.\(digits)f", x)
    }

    /// The menu a role sees: only what it may open.
    static func navigation(for role: Role?) -> [(String, String, String)] {
        guard let role else { return [] }
        let items: [(String, String, String, Bool)] = [
            ("ranking", "/ranking", "亩均排名", AccessPolicy.allows(role, .viewResults)),
            ("map", "/map", "挂图作战", AccessPolicy.allows(role, .viewLand)),
            ("my", "/my", "本企业评价", role == .enterprise),
            ("appeals", "/appeals", "申诉", AccessPolicy.allows(role, .viewAppeals)),
            ("bank", "/bank", "亩均英雄贷", AccessPolicy.allows(role, .viewCreditList)),
            ("publish", "/publish", "结果发布", AccessPolicy.allows(role, .publishResults)),
            ("rules", "/rules", "评价规则", AccessPolicy.allows(role, .viewRules)),
            ("users", "/admin/users", "用户", AccessPolicy.allows(role, .manageUsers)),
            ("audit", "/admin/audit", "审计日志", AccessPolicy.allows(role, .viewAudit)),
            ("api", "/openapi.json", "接口文档", true),
        ]
        return items.filter(\.3).map { ($0.0, $0.1, $0.2) }
    }

    /// The page frame: header, navigation, signed-in user, content.
    static func page(title: String, status: HTTPResponseStatus = .ok, active: String = "", head: String = "",
                     body: String) -> Response {
        let auth = PageContext.auth
        let nav = navigation(for: auth?.principal.role)
            .map { key, href, label in
                "<a href=\"\(href)\"\(key == active ? " class=\"active\"" : "")>\(label)</a>"
            }.joined()
        let user: String
        if let p = auth?.principal {
            user = """
            <div class="user" id="current-user"><a href="/account">\(escape(p.displayName))</a>
            <span class="role">\(escape(p.role.chinese))\(p.town.map { " · " + escape($0) } ?? "")</span>
            <form method="post" action="/logout" class="inline">\(csrfField())<button type="submit" id="logout">退出</button></form></div>
            """
        } else {
            user = "<div class=\"user\"><a href=\"/login\">登录</a></div>"
        }
        let html = """
        <!DOCTYPE html>
        <html lang="zh-CN"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · 亩均论英雄</title>
        <link rel="stylesheet" href="/static/mujun.css">
        \(head)
        </head><body>
        <header class="top"><a class="brand" href="/">亩均 · 永康市工业用地“亩均论英雄”综合平台</a><nav>\(nav)</nav>\(user)</header>
        <main>\(body)</main>
        <footer>数据与评分均可追溯至导入数据与规则 · Mujun</footer>
        </body></html>
        """
        var headers = HTTPHeaders()
        headers.contentType = .html
        headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        return Response(status: status, headers: headers, body: .init(string: html))
    }
}
