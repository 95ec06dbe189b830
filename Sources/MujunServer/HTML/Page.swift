import Foundation
import Vapor
import MujunCore
import MujunStore

/// The page frame (header, navigation, the signed-in user, content) and the headers every
/// page gets (CSP without inline scripts, no caching).
///
/// ```swift
/// return Page.render(title: "申诉", active: "appeals") { h in
///     h.el(.h1, text: "申诉")
/// }
/// ```
enum Page {
    /// Something in the page's head: a script (deferred) or a stylesheet of our own or from `/vendor`.
    enum Head: Sendable {
        case script(StaticString)
        case stylesheet(StaticString)
        static let chart: [Head] = [.script("/vendor/chart.js")]
        static let map: [Head] = [.stylesheet("/vendor/leaflet.css"), .stylesheet("/static/map.css"),
                                  .script("/vendor/leaflet.js"), .script("/static/map.js")]
    }

    static let csp = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"

    static func render(title: String, status: HTTPResponseStatus = .ok, active: String = "", head: [Head] = [],
                       body: (inout HTMLWriter) -> Void) -> Response {
        var h = HTMLWriter()
        h.doctype()
        h.el(.html, .attr("lang", "zh-CN")) { h in
            h.el(.head) { h in
                h.void(.meta, .attr("charset", "utf-8"))
                h.void(.meta, .name("viewport"), .attr("content", "width=device-width, initial-scale=1"))
                h.el(.title, text: "\(title) · 亩均论英雄")
                h.void(.link, .attr("rel", "stylesheet"), .href("/static/mujun.css"))
                for item in head {
                    switch item {
                    case .script(let src): h.el(.script, .src(src.description), .flag("defer"))
                    case .stylesheet(let href): h.void(.link, .attr("rel", "stylesheet"), .href(href.description))
                    }
                }
            }
            h.el(.body) { h in
                h.el(.header, .cls("top")) { h in
                    h.el(.a, .cls("brand"), .href("/"), text: "亩均 · 永康市工业用地“亩均论英雄”综合平台")
                    h.el(.nav) { h in
                        for (key, href, label) in navigation(for: PageContext.identity?.principal.role) {
                            h.el(.a, .href(href), .cls(key == active ? "active" : nil), text: label)
                        }
                    }
                    if let p = PageContext.identity?.principal {
                        h.el(.div, .cls("user"), .id("current-user")) { h in
                            h.el(.a, .href("/account"), text: p.displayName)
                            h.text(" ")
                            h.el(.span, .cls("role"), text: p.role.chinese + (p.town.map { " · " + $0 } ?? ""))
                            h.el(.form, .method("post"), .action("/logout"), .cls("inline")) { h in
                                h.csrfField()
                                h.el(.button, .type("submit"), .id("logout"), text: "退出")
                            }
                        }
                    } else {
                        h.el(.div, .cls("user")) { h in h.el(.a, .href("/login"), text: "登录") }
                    }
                }
                h.el(.main, content: body)
                h.el(.footer, text: "数据与评分均可追溯至导入数据与规则 · Mujun")
            }
        }
        var headers = HTTPHeaders()
        headers.contentType = .html
        headers.replaceOrAdd(name: "Content-Security-Policy", value: csp)
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        return Response(status: status, headers: headers, body: .init(string: h.html))
    }

    /// The menu a role sees: only what it may open.
    static func navigation(for role: Role?) -> [(String, String, String)] {
        guard let role else { return [] }
        let items: [(String, String, String, Bool)] = [
            ("ranking", "/ranking", "亩均排名", AccessPolicy.allows(role, .viewResults)),
            ("map", "/map", "挂图作战", AccessPolicy.allows(role, .viewLand)),
            ("projects", "/projects", "项目推进", AccessPolicy.allows(role, .viewProjects)),
            ("challenges", "/challenges", "揭榜挂帅", AccessPolicy.allows(role, .viewChallenges)),
            ("quota", "/quota", "全域整治", AccessPolicy.allows(role, .viewQuota)),
            ("reviews", "/reviews", "评审任务", AccessPolicy.allows(role, .scoreApplications)),
            ("my", "/my", "本企业评价", role == .enterprise),
            ("appeals", "/appeals", "申诉", AccessPolicy.allows(role, .viewAppeals)),
            ("cases", "/cases", "督办事项", AccessPolicy.allows(role, .viewCases)),
            ("inbox", "/inbox", "待办", role == .department || role == .town),
            ("meetings", "/meetings", "会议交办", AccessPolicy.allows(role, .superviseCases) || role == .department || role == .town),
            ("bulletin", "/cases/bulletin", "督导通报", AccessPolicy.allows(role, .superviseCases)),
            ("bank", "/bank", "亩均英雄贷", AccessPolicy.allows(role, .viewCreditList)),
            ("publish", "/publish", "结果发布", AccessPolicy.allows(role, .publishResults)),
            ("rules", "/rules", "评价规则", AccessPolicy.allows(role, .viewRules)),
            ("users", "/admin/users", "用户", AccessPolicy.allows(role, .manageUsers)),
            ("audit", "/admin/audit", "审计日志", AccessPolicy.allows(role, .viewAudit)),
            ("api", "/openapi.json", "接口文档", true),
        ]
        return items.filter(\.3).map { ($0.0, $0.1, $0.2) }
    }

    /// A download: its bytes, type, an ASCII fallback name and the real (Chinese) name.
    static func download(_ data: Data, type: String, asciiName: String, name: String, inline: Bool = false) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: type)
        let ascii = String(asciiName.unicodeScalars.filter { $0.isASCII && $0 != "\"" && $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        headers.replaceOrAdd(name: .contentDisposition,
                             value: "\(inline ? "inline" : "attachment"); filename=\"\(ascii.isEmpty ? "download" : ascii)\"; filename*=UTF-8''\(HTML.percent(name))")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(data: data))
    }

    static let xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
}

/// Text formatting for pages and exports (plain text, escaped where it is written).
enum HTML {
    /// A number shown with `digits` decimals, or "—" when missing.
    static func num(_ x: Double?, _ digits: Int = 2) -> String {
        guard let x, x.isFinite else { return "—" }
        return String(format: "%.\(digits)f", x)
    }

    /// Percent-encodes a query value (everything but unreserved ASCII).
    static func percent(_ s: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// `path?k=v&…` with empty values left out.
    static func url(_ path: String, _ items: [(String, String?)]) -> String {
        let parts = items.compactMap { k, v -> String? in
            guard let v, !v.isEmpty else { return nil }
            return "\(k)=\(percent(v))"
        }
        return parts.isEmpty ? path : path + "?" + parts.joined(separator: "&")
    }

    /// An indicator value as shown: ratios as percentages, the rest with 2 decimals.
    static func value(_ x: Double?, _ ind: Indicator) -> String {
        guard let x, x.isFinite else { return "—" }
        return ind == .rndRatio ? String(format: "%.2f%%", x * 100) : String(format: "%.2f", x)
    }

    /// The unit shown next to `value(_:_:)`.
    static func unit(_ ind: Indicator) -> String { ind == .rndRatio ? "%" : ind.unit }

    /// Date and time in Beijing time.
    static func dateTime(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: d)
    }

    /// A finite number or nil (JSON has no NaN).
    static func finite(_ x: Double?) -> Double? { x.flatMap { $0.isFinite ? $0 : nil } }
}

// MARK: - shared pieces

extension HTMLWriter {
    /// `<!DOCTYPE html>`.
    mutating func doctype() { trustedMarkup("<!DOCTYPE html>\n") }

    /// A class badge (A/B/C/D, or 不参评).
    mutating func classBadge(_ cls: String?) {
        if let c = cls, !c.isEmpty {
            el(.span, .cls("badge cls-\(c)"), text: c)
        } else {
            el(.span, .cls("badge cls-exempt"), text: "不参评")
        }
    }

    /// A JSON value for the page's script, in `<script type="application/json" id=…>`:
    /// `<`, `>` and `&` are written as \u escapes, so no value can end the element.
    mutating func jsonScript(id: String, _ value: some Encodable) {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        jsonScript(id: id, json: (try? e.encode(value)).map { [UInt8]($0) } ?? Array("null".utf8))
    }

    /// JSON bytes already written, in `<script type="application/json" id=…>` (escaped as above).
    mutating func jsonScript(id: String, json: [UInt8]) {
        var s = String(decoding: json, as: UTF8.self)
        s = s.replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
            .replacingOccurrences(of: "&", with: "\\u0026")
        el(.script, .type("application/json"), .id(id)) { h in h.jsonText(s) }
    }

    /// A notice after a change (role=status).
    mutating func notice(_ text: String?, id: String = "notice") {
        guard let text else { return }
        el(.div, .cls("notice"), .id(id), .role("status"), text: text)
    }

    /// A refused form's message (role=alert).
    mutating func formError(_ text: String?, id: String = "form-error", cls: String = "warning card") {
        guard let text else { return }
        el(.p, .cls(cls), .id(id), .role("alert"), text: text)
    }

    /// A `<select>` of (value, label) options with one selected.
    mutating func select(name: String, id: String, options: [(value: String, label: String)], selected: String?,
                         attrs: [Attribute?] = []) {
        el(.select, attrs: [.name(name), .id(id)] + attrs) { h in
            for o in options { h.el(.option, .value(o.value), .selected(o.value == selected), text: o.label) }
        }
    }

    /// A year selector: links to `href(year)`, the current one marked.
    mutating func yearLinks(id: String = "year-select", label: String, years: [Int], current: Int?, href: (Int) -> String) {
        el(.nav, .cls("years"), .id(id), .aria("label", label.replacingOccurrences(of: "：", with: ""))) { h in
            h.el(.span, text: label)
            for y in years { h.el(.a, .href(href(y)), .cls(y == current ? "active" : nil), text: String(y)) }
        }
    }

    /// The pager under a list: previous, "page x/y", next.
    mutating func pager(page: Int, pages: Int, info: String, href: (Int) -> String) {
        el(.nav, .cls("pager"), .id("pager")) { h in
            if page > 1 { h.el(.a, .attr("rel", "prev"), .href(href(page - 1)), text: "上一页") } else { h.el(.span, .cls("disabled"), text: "上一页") }
            h.el(.span, .cls("info"), text: info)
            if page < pages { h.el(.a, .attr("rel", "next"), .href(href(page + 1)), text: "下一页") } else { h.el(.span, .cls("disabled"), text: "下一页") }
        }
    }

    /// A table with a header row; `row` writes each body row.
    mutating func table<T>(id: String, cls: String = "data", headers: [(label: String, numeric: Bool)], rows: [T], empty: String? = nil,
                           row: (inout HTMLWriter, T) -> Void) {
        el(.div, .cls("table-wrap")) { h in
            h.el(.table, .cls(cls), .id(id)) { h in
                h.el(.thead) { h in
                    h.el(.tr) { h in for c in headers { h.el(.th, .cls(c.numeric ? "num" : nil), text: c.label) } }
                }
                h.el(.tbody) { h in
                    if rows.isEmpty, let empty {
                        h.el(.tr, .cls("none")) { h in h.el(.td, .colspan(headers.count), text: empty) }
                    }
                    for r in rows { row(&h, r) }
                }
            }
        }
    }
}

extension HTMLWriter {
    /// JSON text inside a script element (escaped for it by `jsonScript`).
    fileprivate mutating func jsonText(_ s: String) { appendVerbatim(s) }
}
