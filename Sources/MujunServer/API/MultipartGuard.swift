import Foundation
import Vapor

/// Checks a multipart body before MultipartKit reads it. MultipartKit 4.7 indexes a 128-entry
/// table with each byte of a part's header names, so one byte ≥ 0x80 there ends the process
/// ("Index out of range"); its syntax errors also escape as untyped errors. Every multipart
/// body therefore passes here first: a header name (or a header line without a colon) with a
/// byte outside ASCII, or a body that is not multipart at all, is a 400 — never a crash.
enum MultipartGuard {
    static func check(_ req: Request) throws {
        guard let ct = req.headers.contentType, ct.type == "multipart" else { return }
        guard let boundary = ct.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw Abort(.badRequest, reason: "multipart 请求缺少 boundary / the multipart body has no boundary")
        }
        guard let body = req.body.data else { return }
        let bytes = body.readableBytesView
        guard check(bytes: Array(bytes), boundary: Array(("--" + boundary).utf8)) else {
            throw Abort(.badRequest, reason: "multipart 请求体格式无效 / malformed multipart body")
        }
    }

    /// Whether every part's header lines have an ASCII name followed by a colon.
    static func check(bytes: [UInt8], boundary: [UInt8]) -> Bool {
        var i = 0
        let n = bytes.count
        func startsWith(_ needle: [UInt8], at k: Int) -> Bool {
            guard k + needle.count <= n else { return false }
            for j in 0..<needle.count where bytes[k + j] != needle[j] { return false }
            return true
        }
        var found = false
        while i < n {
            // the next boundary at a line start (or the body's start)
            guard (i == 0 || (i >= 2 && bytes[i - 2] == 13 && bytes[i - 1] == 10)) && startsWith(boundary, at: i) else { i += 1; continue }
            found = true
            var k = i + boundary.count
            if startsWith([45, 45], at: k) { return true }  // the closing boundary
            guard startsWith([13, 10], at: k) else { return false }
            k += 2
            // header lines until an empty line
            while true {
                guard k < n else { return false }
                if startsWith([13, 10], at: k) { k += 2; break }
                var seenColon = false
                while k < n && !(bytes[k] == 13 && k + 1 < n && bytes[k + 1] == 10) {
                    if !seenColon {
                        if bytes[k] == 58 { seenColon = true } else if bytes[k] >= 0x80 || bytes[k] < 0x20 { return false }
                    }
                    k += 1
                }
                guard seenColon, k < n else { return false }
                k += 2
            }
            i = k
        }
        return found
    }
}
