import Vapor

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

    /// The page frame: header, navigation, content.
    static func page(title: String, status: HTTPResponseStatus = .ok, active: String = "", head: String = "",
                     body: String) -> Response {
        let nav = [("ranking", "/ranking", "亩均排名"), ("rules", "/rules", "评价规则"), ("api", "/openapi.json", "接口文档")]
            .map { key, href, label in
                "<a href=\"\(href)\"\(key == active ? " class=\"active\"" : "")>\(label)</a>"
            }.joined()
        let html = """
        <!DOCTYPE html>
        <html lang="zh-CN"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · 亩均论英雄</title>
        <link rel="stylesheet" href="/static/mujun.css">
        \(head)
        </head><body>
        <header class="top"><a class="brand" href="/">亩均 · 永康市工业用地“亩均论英雄”综合平台</a><nav>\(nav)</nav></header>
        <main>\(body)</main>
        <footer>数据与评分均可追溯至导入数据与规则 · Mujun</footer>
        </body></html>
        """
        var headers = HTTPHeaders()
        headers.contentType = .html
        headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        return Response(status: status, headers: headers, body: .init(string: html))
    }
}
