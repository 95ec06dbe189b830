import Foundation

/// Writes HTML in which text cannot forget to be escaped: markup comes only from the tag and
/// attribute methods here (tag and attribute names are compile-time constants), every string
/// goes in through `text` or an attribute value and is escaped there. The one way to write
/// markup that was not built here is `trustedMarkup(_:)`, for the rare constant fragment.
///
/// ```swift
/// var h = HTMLWriter()
/// h.el(.section, .cls("card"), .id("credit-terms")) { h in
///     h.el(.h2, text: "授信政策")
///     h.el(.p, .cls("muted"), text: enterprise.name)       // "<script>" comes out as &lt;script&gt;
///     h.el(.a, .href("/bank?year=\(year)"), text: "\(year)")
/// }
/// h.html   // <section class="card" id="credit-terms"><h2>授信政策</h2>…
/// ```
public struct HTMLWriter: Sendable {
    public private(set) var html: String = ""

    public init() {}

    // MARK: text

    /// Text, escaped.
    public mutating func text(_ s: String) { HTMLWriter.escape(s, into: &html) }
    /// Text, escaped; nothing for nil.
    public mutating func text(_ s: String?) { if let s { text(s) } }
    public mutating func text(_ n: Int) { html += String(n) }
    public mutating func text(_ n: Int64) { html += String(n) }

    // MARK: elements

    /// `<tag attrs>content</tag>`.
    public mutating func el(_ tag: Tag, _ attrs: Attribute?..., content: (inout HTMLWriter) -> Void) {
        open(tag, attrs)
        content(&self)
        close(tag)
    }

    /// `<tag attrs>content</tag>` with the attributes in an array.
    public mutating func el(_ tag: Tag, attrs: [Attribute?], content: (inout HTMLWriter) -> Void) {
        open(tag, attrs)
        content(&self)
        close(tag)
    }

    /// `<tag attrs>text</tag>` (the text escaped; nil writes an empty element).
    public mutating func el(_ tag: Tag, _ attrs: Attribute?..., text: String?) {
        open(tag, attrs)
        if let text { self.text(text) }
        close(tag)
    }

    /// `<tag attrs></tag>`.
    public mutating func el(_ tag: Tag, _ attrs: Attribute?...) {
        open(tag, attrs)
        close(tag)
    }

    /// A void element: `<input …>`, `<br>`, `<img …>`.
    public mutating func void(_ tag: VoidTag, _ attrs: Attribute?...) {
        html += "<"
        html += tag.name.description
        write(attrs)
        html += ">"
    }

    /// A void element with the attributes in an array.
    public mutating func void(_ tag: VoidTag, attrs: [Attribute?]) {
        html += "<"
        html += tag.name.description
        write(attrs)
        html += ">"
    }

    /// Another writer's output, as it is (both were built here, so both are escaped).
    public mutating func append(_ other: HTMLWriter) { html += other.html }

    /// Text already escaped for where it goes (the JSON of a data script, escaped by
    /// `jsonScript`). Only this module's page pieces use it.
    mutating func appendVerbatim(_ s: String) { html += s }

    /// Markup written by hand. Only for constant fragments that cannot be built with `el`
    /// (none of the pages needs one today); every use is a place to look at in a review.
    public mutating func trustedMarkup(_ markup: StaticString) { html += markup.description }

    private mutating func open(_ tag: Tag, _ attrs: [Attribute?]) {
        html += "<"
        html += tag.name.description
        write(attrs)
        html += ">"
    }

    private mutating func close(_ tag: Tag) {
        html += "</"
        html += tag.name.description
        html += ">"
    }

    private mutating func write(_ attrs: [Attribute?]) {
        for case let a? in attrs {
            html += " "
            html += a.name
            if let v = a.value {
                html += "=\""
                HTMLWriter.escape(v, into: &html)
                html += "\""
            }
        }
    }

    // MARK: escaping

    /// `s` with `& < > " '` replaced by entities.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        escape(s, into: &out)
        return out
    }

    static func escape(_ s: String, into out: inout String) {
        // most text has nothing to escape: append it whole (one copy, no per-character work)
        if !s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) {
            out += s
            return
        }
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
    }
}

/// An element name (only these; a name is never made from data).
public struct Tag: Sendable {
    let name: StaticString
    public static let a = Tag(name: "a"), abbr = Tag(name: "abbr"), aside = Tag(name: "aside"), b = Tag(name: "b")
    public static let body = Tag(name: "body"), button = Tag(name: "button"), canvas = Tag(name: "canvas"), caption = Tag(name: "caption")
    public static let code = Tag(name: "code"), datalist = Tag(name: "datalist"), dd = Tag(name: "dd"), details = Tag(name: "details"), div = Tag(name: "div")
    public static let dl = Tag(name: "dl"), dt = Tag(name: "dt"), em = Tag(name: "em"), fieldset = Tag(name: "fieldset")
    public static let footer = Tag(name: "footer"), form = Tag(name: "form"), h1 = Tag(name: "h1"), h2 = Tag(name: "h2")
    public static let h3 = Tag(name: "h3"), head = Tag(name: "head"), header = Tag(name: "header"), html = Tag(name: "html")
    public static let i = Tag(name: "i"), label = Tag(name: "label"), legend = Tag(name: "legend"), li = Tag(name: "li")
    public static let main = Tag(name: "main"), nav = Tag(name: "nav"), noscript = Tag(name: "noscript"), ol = Tag(name: "ol")
    public static let meter = Tag(name: "meter"), optgroup = Tag(name: "optgroup"), option = Tag(name: "option"), p = Tag(name: "p"), pre = Tag(name: "pre")
    public static let progress = Tag(name: "progress"), section = Tag(name: "section"), select = Tag(name: "select")
    public static let small = Tag(name: "small"), span = Tag(name: "span"), strong = Tag(name: "strong")
    public static let summary = Tag(name: "summary"), table = Tag(name: "table"), tbody = Tag(name: "tbody")
    public static let td = Tag(name: "td"), textarea = Tag(name: "textarea"), tfoot = Tag(name: "tfoot"), th = Tag(name: "th")
    public static let thead = Tag(name: "thead"), title = Tag(name: "title"), tr = Tag(name: "tr"), ul = Tag(name: "ul")
    /// `<script src=…>` only; data goes through `jsonScript`.
    public static let script = Tag(name: "script")
}

/// A void element name.
public struct VoidTag: Sendable {
    let name: StaticString
    public static let br = VoidTag(name: "br"), hr = VoidTag(name: "hr"), img = VoidTag(name: "img")
    public static let input = VoidTag(name: "input"), link = VoidTag(name: "link"), meta = VoidTag(name: "meta")
}

/// An attribute: a constant name and an escaped value (nil value: a boolean attribute).
public struct Attribute: Sendable {
    let name: String
    let value: String?

    private init(_ name: StaticString, _ value: String?) { self.name = name.description; self.value = value }

    /// Any attribute with a constant name; nil value leaves it out.
    public static func attr(_ name: StaticString, _ value: String?) -> Attribute? { value.map { Attribute(name, $0) } }
    public static func attr(_ name: StaticString, _ value: Int) -> Attribute? { Attribute(name, String(value)) }
    /// `data-NAME="value"`; nil leaves it out.
    public static func data(_ name: StaticString, _ value: String?) -> Attribute? {
        value.map { Attribute(name, $0).prefixed("data-") }
    }
    public static func data(_ name: StaticString, _ value: Int) -> Attribute? { data(name, String(value)) }
    public static func data(_ name: StaticString, _ value: Int64) -> Attribute? { data(name, String(value)) }
    public static func data(_ name: StaticString, _ value: Bool) -> Attribute? { data(name, value ? "true" : "false") }
    /// A boolean attribute, present when `on`.
    public static func flag(_ name: StaticString, _ on: Bool = true) -> Attribute? { on ? Attribute(name, nil) : nil }

    public static func id(_ v: String?) -> Attribute? { attr("id", v) }
    /// `class`; nil or empty leaves it out.
    public static func cls(_ v: String?) -> Attribute? { v.flatMap { $0.isEmpty ? nil : Attribute("class", $0) } }
    public static func href(_ v: String?) -> Attribute? { attr("href", v) }
    public static func src(_ v: String) -> Attribute? { attr("src", v) }
    public static func name(_ v: String) -> Attribute? { attr("name", v) }
    public static func value(_ v: String?) -> Attribute? { attr("value", v) }
    public static func value(_ v: Int) -> Attribute? { attr("value", String(v)) }
    public static func type(_ v: StaticString) -> Attribute? { Attribute("type", v.description) }
    public static func action(_ v: String) -> Attribute? { attr("action", v) }
    public static func method(_ v: StaticString) -> Attribute? { Attribute("method", v.description) }
    public static func title(_ v: String?) -> Attribute? { attr("title", v) }
    public static func placeholder(_ v: String) -> Attribute? { attr("placeholder", v) }
    public static func role(_ v: StaticString) -> Attribute? { Attribute("role", v.description) }
    public static func aria(_ name: StaticString, _ v: String) -> Attribute? { Attribute(name, v).prefixed("aria-") }
    public static func colspan(_ n: Int) -> Attribute? { attr("colspan", String(n)) }
    public static func style(_ v: StaticString) -> Attribute? { Attribute("style", v.description) }
    public static func `for`(_ v: String) -> Attribute? { attr("for", v) }
    public static func selected(_ on: Bool) -> Attribute? { flag("selected", on) }
    public static func checked(_ on: Bool) -> Attribute? { flag("checked", on) }
    public static func disabled(_ on: Bool) -> Attribute? { flag("disabled", on) }
    public static func hidden(_ on: Bool) -> Attribute? { flag("hidden", on) }
    public static let required = flag("required")

    private func prefixed(_ p: String) -> Attribute { Attribute(name: p + name, value: value) }
    private init(name: String, value: String?) { self.name = name; self.value = value }
}
