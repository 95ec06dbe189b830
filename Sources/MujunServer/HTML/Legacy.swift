import Foundation
import Vapor
import MujunCore

// TRANSITIONAL: the string helpers the pages used before the typed builder. Every page file is
// being moved to `HTMLWriter`; when none uses these any more this file is deleted (the
// page-markup test fails while it exists).

enum LegacyHTML {
    static func escape(_ s: String) -> String { HTMLWriter.escape(s) }
    static func escape(_ s: String?) -> String { s.map { HTMLWriter.escape($0) } ?? "" }

    static func classBadge(_ cls: String?) -> String {
        var h = HTMLWriter()
        h.classBadge(cls)
        return h.html
    }

    static func jsonScript(id: String, _ value: some Encodable) -> String {
        var h = HTMLWriter()
        h.jsonScript(id: id, value)
        return h.html
    }

    static func jsonScript(id: String, json: [UInt8]) -> String {
        var h = HTMLWriter()
        h.jsonScript(id: id, json: json)
        return h.html
    }

    static func csrfField() -> String {
        var h = HTMLWriter()
        h.csrfField()
        return h.html
    }

    static func page(title: String, status: HTTPResponseStatus = .ok, active: String = "", head: [Page.Head] = [], body: String) -> Response {
        Page.render(title: title, status: status, active: active, head: head) { h in h.appendVerbatim(body) }
    }
}
