import Foundation
import Testing
@testable import MujunServer

/// Pages cannot forget to escape: no source file of the server writes markup in a string
/// literal (`"<td>\(name)</td>"`); markup comes only from `HTMLWriter`'s tag methods, and the
/// one raw entry point (`trustedMarkup`) takes constants and is used only where listed here.
@Suite("Markup only through the builder")
struct MarkupTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every string literal of a Swift source, with the line it starts on (nested literals in
    /// interpolations are separate literals).
    static func literals(_ source: String) -> [(line: Int, text: String)] {
        let s = Array(source.unicodeScalars)
        var out: [(Int, String)] = []
        var i = 0, line = 1
        func at(_ k: Int, _ text: String) -> Bool {
            let t = Array(text.unicodeScalars)
            guard k + t.count <= s.count else { return false }
            for j in 0..<t.count where s[k + j] != t[j] { return false }
            return true
        }
        /// Code until `stop` (")" closing an interpolation) or the end.
        func code(until stop: Unicode.Scalar?) {
            var depth = 0
            while i < s.count {
                let c = s[i]
                if c == "\n" { line += 1 }
                if let stop, c == stop, depth == 0 { i += 1; return }
                if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
                if at(i, "//") { while i < s.count && s[i] != "\n" { i += 1 }; continue }
                if at(i, "/*") { while i < s.count && !at(i, "*/") { if s[i] == "\n" { line += 1 }; i += 1 }; i += 2; continue }
                var hashes = 0
                while i + hashes < s.count && s[i + hashes] == "#" { hashes += 1 }
                if i + hashes < s.count && s[i + hashes] == "\"" && (hashes > 0 || c == "\"") {
                    i += hashes
                    literal(hashes: hashes)
                    continue
                }
                i += 1
            }
        }
        func literal(hashes: Int) {
            let start = line
            let multi = at(i, "\"\"\"")
            i += multi ? 3 : 1
            let close = (multi ? "\"\"\"" : "\"") + String(repeating: "#", count: hashes)
            let interp = "\\" + String(repeating: "#", count: hashes) + "("
            var text = ""
            while i < s.count {
                if at(i, close) { i += close.count; break }
                if at(i, interp) { i += interp.count; text += "\u{1}"; code(until: ")"); continue }
                if hashes == 0 && s[i] == "\\" && i + 1 < s.count { text.unicodeScalars.append(s[i]); text.unicodeScalars.append(s[i + 1]); i += 2; continue }
                if s[i] == "\n" { line += 1 }
                text.unicodeScalars.append(s[i])
                i += 1
            }
            out.append((start, text))
        }
        code(until: nil)
        return out
    }

    static func sources() throws -> [(path: String, text: String)] {
        let dir = root.appendingPathComponent("Sources/MujunServer")
        let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" }
        return try files.map { (String($0.path.dropFirst(root.path.count + 1)), try String(contentsOf: $0, encoding: .utf8)) }
    }

    /// A tag (`<td>`, `</td>`, `<a href`, `<br/>`) or a doctype; not `a < b`, `<http://…>` or `<!-- -->`.
    static let markup = #"</?[A-Za-z][A-Za-z0-9]*(\s|>|/>)|<!DOCTYPE"#

    @Test("the literal scanner finds markup, also inside interpolations and multi-line strings")
    func scanner() {
        let sample = #"""
        let a = "<td>\(name)</td>"
        let b = x ? "plain \(y ? "<b>" : "")" : "text"
        let c = """
            <section>
            """
        let d = #"<p>"#
        // "<i>" in a comment is not a literal
        let e = "a < b, <http://example/> and <!-- marker -->"
        """#
        let found = Self.literals(sample).filter { $0.text.range(of: Self.markup, options: .regularExpression) != nil }
        #expect(found.map(\.line) == [1, 2, 3, 6], "\(found)")
    }

    @Test("no server source writes markup in a string literal; raw markup only where allowed")
    func noMarkupInLiterals() throws {
        var problems: [String] = []
        var scanned = 0
        for (path, text) in try Self.sources() {
            scanned += 1
            // the builder itself names tags as constants ("td") and writes "<" and "</"
            guard !path.hasSuffix("HTML/HTMLWriter.swift") else { continue }
            for l in Self.literals(text) where l.text.range(of: Self.markup, options: .regularExpression) != nil {
                if path.hasSuffix("HTML/Page.swift") && l.text.hasPrefix("<!DOCTYPE html>") { continue }
                problems.append("\(path):\(l.line): \(l.text.prefix(80))")
            }
            for (k, lineText) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if lineText.contains("trustedMarkup(") && !path.hasSuffix("HTML/Page.swift") && !path.hasSuffix("HTML/HTMLWriter.swift") {
                    problems.append("\(path):\(k + 1): trustedMarkup outside the page frame")
                }
                if lineText.contains("appendVerbatim(") && !path.hasSuffix("HTML/Page.swift") && !path.hasSuffix("HTML/HTMLWriter.swift") {
                    problems.append("\(path):\(k + 1): appendVerbatim outside the page pieces")
                }
            }
        }
        #expect(scanned > 30)
        #expect(problems.isEmpty, "markup outside the builder:\n\(problems.joined(separator: "\n"))")
    }

    @Test("text and attribute values are escaped by the builder")
    func escaping() {
        var h = HTMLWriter()
        h.el(.p, .cls("a\"b"), .data("x", "<y>"), text: "<script>alert('x')</script> & more")
        #expect(h.html == #"<p class="a&quot;b" data-x="&lt;y&gt;">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more</p>"#)
        var j = HTMLWriter()
        j.jsonScript(id: "d", ["name": "</script><script>alert(1)</script>"])
        #expect(!j.html.contains("</script><script>") && j.html.hasSuffix("</script>"))
    }
}
