import Foundation
import Vapor
import MujunCore
import MujunStore
import MultipartKit

/// Every error of every request is answered here, one way: its status and message (an
/// unexpected error is logged and answered 500 without details), written as JSON `{error,
/// status}` under /api, /openapi.json and /healthz, as an OGC exception `{code, description,
/// status}` under /ogc, and as a Chinese page elsewhere. A request that matched no route goes
/// to the sign-in page when nobody is signed in (an unknown path tells an anonymous visitor
/// nothing), else 404.
struct ErrorMiddleware: AsyncMiddleware {
    /// Status, reason and headers of the answer to `error`.
    static func answer(_ error: any Error, _ request: Request) -> (HTTPResponseStatus, String, HTTPHeaders) {
        switch error {
        case let e as ServiceError:
            return (status(e.kind), e.message, [:])
        case let e as ImportFailure:
            return (e.limitExceeded != nil ? .payloadTooLarge : .unprocessableEntity,
                    e.errors.first.map { $0.description } ?? "导入失败 / import failed", [:])
        case let e as MultipartError:
            return (.badRequest, "multipart 请求体格式无效 / malformed multipart body (\(e))", [:])
        case let e as DecodingError:
            return (.badRequest, Request.describe(e), [:])
        case let abort as any AbortError:
            return (abort.status, abort.reason, abort.headers)
        case let e where DatabaseHost.isUnavailable(e):
            request.logger.warning("database unavailable: \(String(reflecting: e))")
            return (.serviceUnavailable, "数据库暂时不可用，请稍后重试 / the database is unavailable, try again shortly", ["Retry-After": "5"])
        default:
            request.logger.report(error: error)
            return (.internalServerError, "服务器内部错误 / internal server error", [:])
        }
    }

    static func status(_ kind: ServiceError.Kind) -> HTTPResponseStatus {
        switch kind {
        case .invalid: .badRequest
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .tooLarge: .payloadTooLarge
        case .unsupportedType: .unsupportedMediaType
        case .unprocessable: .unprocessableEntity
        }
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            if request.route == nil, (error as? any AbortError)?.status == .notFound {
                // a path that exists, asked with a method it does not take
                let allowed = request.application.endpoints.allowedMethods(request.url.path)
                if !allowed.isEmpty, !allowed.contains(request.method.rawValue) {
                    let allow = allowed.joined(separator: ", ")
                    return Self.render(.methodNotAllowed, "\(request.method.rawValue) 不适用于此地址（可用：\(allow)）/ method not allowed (allowed: \(allow))",
                                       ["Allow": allow], request)
                }
            }
            if request.route == nil, request.identity == nil, (error as? any AbortError)?.status == .notFound {
                // no such route, nobody signed in: as for any other page behind sign-in
                if request.wantsJSON || request.method != .GET {
                    return Self.render(.unauthorized, "请先登录 / sign in first", [:], request)
                }
                return request.redirect(to: "/login?next=" + (request.url.string.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
            }
            let (status, reason, headers) = Self.answer(error, request)
            return Self.render(status, reason, headers, request)
        }
    }

    static func render(_ status: HTTPResponseStatus, _ reason: String, _ extra: HTTPHeaders, _ request: Request) -> Response {
        let path = request.url.path
        if path.hasPrefix("/ogc") { return OGCException.response(status, reason, headers: extra) }
        if request.wantsJSON {
            let code = status == .serviceUnavailable && request.url.path == "/healthz" ? "unavailable" : "\(status.code)"
            let body = (try? JSONEncoder().encode(["error": reason, "status": code])) ?? Data()
            var headers = extra
            headers.replaceOrAdd(name: .contentType, value: "application/json; charset=utf-8")
            return Response(status: status, headers: headers, body: .init(data: body))
        }
        let res = Page.render(title: "出错了", status: status) { h in
            h.el(.section, .cls("card")) { h in
                h.el(.h2, text: "\(status.code) \(status.reasonPhrase)")
                h.el(.p, text: reason)
                h.el(.p) { h in h.el(.a, .href("/"), text: "返回首页") }
            }
        }
        for (name, value) in extra where name.lowercased() != "content-type" { res.headers.replaceOrAdd(name: name, value: value) }
        return res
    }
}

/// OGC API exception JSON (`code`, `description`, `status`).
enum OGCException {
    static func response(_ status: HTTPResponseStatus, _ description: String, headers: HTTPHeaders = [:]) -> Response {
        let code: String
        switch status.code {
        case 400: code = "InvalidParameterValue"
        case 401: code = "Unauthorized"
        case 403: code = "Forbidden"
        case 404: code = "NotFound"
        case 405: code = "MethodNotAllowed"
        default: code = status.code >= 500 ? "ServerError" : "NoApplicableCode"
        }
        var h = headers
        h.replaceOrAdd(name: .contentType, value: "application/json; charset=utf-8")
        let body = (try? JSONSerialization.data(withJSONObject: ["code": code, "description": description, "status": Int(status.code)],
                                                options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: h, body: .init(data: body))
    }
}
