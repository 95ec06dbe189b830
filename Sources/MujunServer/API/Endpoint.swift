import Foundation
import Vapor
import MujunCore

/// One endpoint of the application, declared once: method, path, requirement, summary, its
/// parameters, body and output types, and the handler. The Vapor routes, the access table
/// (`RouteAccess.table`), the OpenAPI document and the route table of docs/SECURITY.md are all
/// derived from the features' lists of these.
///
/// ```swift
/// enum RulesFeature: Feature {
///     static let endpoints: [Endpoint] = [
///         .json(.GET, "/api/v1/rules", .permission(.viewRules), "现行评价规则 / the rules in force",
///               tag: "rules", parameters: NoParameters.self, output: RulesDTO.self) { req, _ in try await rules(req) },
///     ]
/// }
/// ```
///
/// Everything about a request that does not depend on its handler happens before the handler
/// runs, in `respond`: the caller's requirement (401/403), a pending password change, the CSRF
/// token of a state-changing request, then the parameters (400) and the body (400/413/415).
public struct Endpoint: Sendable {
    /// What the endpoint answers with, which decides how it is documented and how errors look.
    public enum Kind: String, Sendable {
        /// a page (HTML); not in the OpenAPI document
        case page
        /// a browser form post, answered with a redirect or a page; not in the OpenAPI document
        case form
        /// JSON (or GeoJSON) of the API; in the OpenAPI document
        case api
        /// a file to download (XLSX, an attachment); in the OpenAPI document when under /api or /export
        case download
        /// static files and the like
        case asset
    }

    /// A request body's content type.
    public enum BodyType: String, Sendable {
        case json = "application/json"
        case form = "application/x-www-form-urlencoded"
        case multipart = "multipart/form-data"
        /// the bytes of a file (CSV, XLSX, GeoJSON), as sent
        case file = "application/octet-stream"
    }

    public let method: HTTPMethod
    /// `/api/v1/appeals/:id`: `:name` is one component, `**` the rest.
    public let path: String
    public let requirement: Requirement
    public let summary: String
    public let kind: Kind
    /// OpenAPI tag (the feature's name by default).
    public var tag: String
    /// Whether the OpenAPI document describes it (JSON API and API downloads).
    public var documented: Bool
    /// The answer's status on success.
    var successStatus: HTTPResponseStatus = .ok
    /// Error statuses the endpoint may answer besides the common ones.
    var errors: [UInt] = []
    /// Reachable while the caller must still change an initial password (the change itself, sign-out, assets).
    var duringPasswordChange = false
    /// Reachable anonymously when the admin marked this key public (`public_pages`).
    var publicKey: String?
    /// Also reachable, without signing in, from the addresses of MUJUN_METRICS_ALLOW (`/metrics`).
    var scrapeable = false
    /// How the body is read: collected up to `maxBody` bytes (nil = the configured upload limit).
    var maxBody: Int?
    var streamsBody = false

    let parameterDoc: @Sendable (SchemaRegistry) throws -> [(name: String, schema: JSONValue, required: Bool)]
    let bodyDoc: (@Sendable (SchemaRegistry) throws -> (types: [BodyType], schema: JSONValue))?
    let outputDoc: @Sendable (SchemaRegistry) throws -> (mediaType: String, schema: JSONValue)?
    let handler: @Sendable (Request) async throws -> Response

    init(method: HTTPMethod, path: String, requirement: Requirement, summary: String, kind: Kind, tag: String,
         documented: Bool,
         parameterDoc: @escaping @Sendable (SchemaRegistry) throws -> [(name: String, schema: JSONValue, required: Bool)],
         bodyDoc: (@Sendable (SchemaRegistry) throws -> (types: [BodyType], schema: JSONValue))?,
         outputDoc: @escaping @Sendable (SchemaRegistry) throws -> (mediaType: String, schema: JSONValue)?,
         handler: @escaping @Sendable (Request) async throws -> Response) {
        self.method = method; self.path = path; self.requirement = requirement; self.summary = summary
        self.kind = kind; self.tag = tag; self.documented = documented
        self.parameterDoc = parameterDoc; self.bodyDoc = bodyDoc; self.outputDoc = outputDoc; self.handler = handler
    }

    /// The names of the path's `:parameters`.
    public var pathParameters: [String] {
        path.split(separator: "/").filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
    }

    /// The path as OpenAPI writes it (`/api/v1/appeals/{id}`).
    public var openAPIPath: String {
        "/" + path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
    }

    /// A copy with some properties changed.
    func with(_ change: (inout Endpoint) -> Void) -> Endpoint {
        var e = self
        change(&e)
        return e
    }

    /// Error statuses this endpoint documents (401/403 for what needs sign-in, 400 for what takes input…).
    var documentedErrors: [UInt] {
        var s: Set<UInt> = [400]
        if requirement != .open { s.insert(401) }
        if case .permission = requirement { s.insert(403) }
        if !pathParameters.isEmpty || kind == .api { s.insert(404) }
        if bodyDoc != nil { s.formUnion([413, 415]) }
        s.formUnion(errors)
        return s.sorted()
    }
}

// MARK: - declaring

/// The parameters of a request: path parameters and the query string, decoded once.
extension Request {
    func parameters<P: Decodable>(_ type: P.Type, emptyMeansAbsent: Bool) throws -> P {
        var path: [String: String] = [:]
        for name in route?.path.compactMap({ c -> String? in if case .parameter(let n) = c { return n } else { return nil } }) ?? [] {
            path[name] = parameters.get(name)
        }
        return try ParameterDecoder(emptyMeansAbsent: emptyMeansAbsent).decode(P.self, path: path, query: try QueryItems(url.query))
    }

    /// The body as `B`: JSON, a urlencoded form or a multipart form; an empty body decodes as
    /// an empty object (so a form whose fields are all optional may be sent empty). Refused
    /// bodies answer 400 naming the field, an unknown content type 415.
    func body<B: Decodable>(_ type: B.Type, accepted: [Endpoint.BodyType]) throws -> B {
        let empty = body.data.map { $0.readableBytes == 0 } ?? true
        if empty {
            do { return try JSONDecoder().decode(B.self, from: Data("{}".utf8)) } catch {
                throw Abort(.badRequest, reason: "请求体为空 / the request body is empty")
            }
        }
        guard let ct = headers.contentType else {
            throw Abort(.unsupportedMediaType, reason: "请求缺少 Content-Type（可用：\(accepted.map(\.rawValue).joined(separator: "、"))）/ missing Content-Type")
        }
        let known: Endpoint.BodyType?
        switch (ct.type, ct.subType) {
        case ("application", "json"): known = .json
        case ("application", "x-www-form-urlencoded"): known = .form
        case ("multipart", "form-data"): known = .multipart
        default: known = nil
        }
        guard let known, accepted.contains(known) else {
            throw Abort(.unsupportedMediaType, reason: "不支持的请求体类型 \(ct.type)/\(ct.subType)（可用：\(accepted.map(\.rawValue).joined(separator: "、"))）/ unsupported content type")
        }
        if known == .multipart { try MultipartGuard.check(self) }
        do {
            return try content.decode(B.self)
        } catch let e as DecodingError {
            throw Abort(.badRequest, reason: Self.describe(e))
        } catch let e as any AbortError {
            throw Abort(e.status == .unsupportedMediaType ? .unsupportedMediaType : .badRequest, reason: e.reason)
        } catch {
            throw Abort(.badRequest, reason: "请求体无法解析 / the request body cannot be read")
        }
    }

    /// A decoding error in words: the field and why.
    static func describe(_ e: DecodingError) -> String {
        func path(_ p: [any CodingKey]) -> String {
            let s = p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return s.isEmpty ? "请求体" : s
        }
        switch e {
        case .keyNotFound(let k, let c):
            let field = path(c.codingPath + [k])
            return "缺少字段 \(field) / missing field \(field)"
        case .typeMismatch(_, let c), .valueNotFound(_, let c):
            let field = path(c.codingPath)
            return "字段 \(field) 的类型不对 / field \(field) has the wrong type"
        case .dataCorrupted(let c):
            let field = path(c.codingPath)
            let why = c.debugDescription.count < 200 && c.debugDescription.contains("/") ? c.debugDescription : "格式无效 / invalid"
            return "字段 \(field)：\(why)"
        @unknown default:
            return "请求体无法解析 / the request body cannot be read"
        }
    }
}

extension Endpoint {
    /// A JSON operation of the API without a body.
    static func json<P: Decodable & Sendable, O: Encodable & Decodable & Sendable>(
        _ method: HTTPMethod, _ path: String, _ requirement: Requirement, _ summary: String,
        tag: String, parameters: P.Type, output: O.Type, status: HTTPResponseStatus = .ok,
        errors: [UInt] = [], handler: @escaping @Sendable (Request, P) async throws -> O
    ) -> Endpoint {
        var e = Endpoint(
            method: method, path: path, requirement: requirement, summary: summary, kind: .api, tag: tag, documented: true,
            parameterDoc: { try $0.properties(P.self) }, bodyDoc: nil,
            outputDoc: { ("application/json", try $0.schema(O.self, keys: .snakeCase)) },
            handler: { req in
                let p = try req.parameters(P.self, emptyMeansAbsent: false)
                return try Self.encode(try await handler(req, p), status: status, for: req)
            })
        e.successStatus = status
        e.errors = errors
        return e
    }

    /// A JSON operation of the API with a body (JSON, and forms where `accepts` says so).
    static func json<P: Decodable & Sendable, B: Decodable & Sendable, O: Encodable & Decodable & Sendable>(
        _ method: HTTPMethod, _ path: String, _ requirement: Requirement, _ summary: String,
        tag: String, parameters: P.Type, body: B.Type, accepts: [BodyType] = [.json],
        output: O.Type, status: HTTPResponseStatus = .ok, errors: [UInt] = [],
        handler: @escaping @Sendable (Request, P, B) async throws -> O
    ) -> Endpoint {
        var e = Endpoint(
            method: method, path: path, requirement: requirement, summary: summary, kind: .api, tag: tag, documented: true,
            parameterDoc: { try $0.properties(P.self) },
            bodyDoc: { (accepts, try $0.schema(B.self, keys: .asIs)) },
            outputDoc: { ("application/json", try $0.schema(O.self, keys: .snakeCase)) },
            handler: { req in
                let p = try req.parameters(P.self, emptyMeansAbsent: false)
                let b = try req.body(B.self, accepted: accepts)
                return try Self.encode(try await handler(req, p, b), status: status, for: req)
            })
        e.successStatus = status
        e.errors = errors
        return e
    }

    /// An operation that answers with bytes it writes itself (GeoJSON, an upload's result…);
    /// `Doc` describes what it writes, for the document and for the tests that check it.
    static func bytes<P: Decodable & Sendable, Doc: Decodable & SendableMetatype>(
        _ method: HTTPMethod, _ path: String, _ requirement: Requirement, _ summary: String,
        tag: String, parameters: P.Type, documents: Doc.Type, keys: SchemaRegistry.KeyStyle = .verbatim,
        mediaType: String = "application/json", body: [BodyType]? = nil, status: HTTPResponseStatus = .ok, errors: [UInt] = [],
        handler: @escaping @Sendable (Request, P) async throws -> Response
    ) -> Endpoint {
        var e = Endpoint(
            method: method, path: path, requirement: requirement, summary: summary, kind: .api, tag: tag, documented: true,
            parameterDoc: { try $0.properties(P.self) },
            bodyDoc: body.map { types -> @Sendable (SchemaRegistry) throws -> (types: [BodyType], schema: JSONValue) in
                { @Sendable _ in (types, ["type": "string", "format": "binary"]) }
            },
            outputDoc: { (mediaType, try $0.schema(Doc.self, keys: keys)) },
            handler: { req in try await handler(req, try req.parameters(P.self, emptyMeansAbsent: false)) })
        e.errors = errors
        e.successStatus = status
        return e
    }

    /// A file to download (XLSX…).
    static func download<P: Decodable & Sendable>(
        _ path: String, _ requirement: Requirement, _ summary: String, tag: String, parameters: P.Type,
        mediaType: String, documented: Bool = true, errors: [UInt] = [],
        handler: @escaping @Sendable (Request, P) async throws -> Response
    ) -> Endpoint {
        var e = Endpoint(
            method: .GET, path: path, requirement: requirement, summary: summary, kind: .download, tag: tag, documented: documented,
            parameterDoc: { try $0.properties(P.self) }, bodyDoc: nil,
            outputDoc: { _ in (mediaType, ["type": "string", "format": "binary"]) },
            handler: { req in try await handler(req, try req.parameters(P.self, emptyMeansAbsent: true)) })
        e.errors = errors
        return e
    }

    /// A page (HTML). Empty query values count as absent (forms send them).
    static func page<P: Decodable & Sendable>(
        _ path: String, _ requirement: Requirement, _ summary: String, tag: String, parameters: P.Type,
        handler: @escaping @Sendable (Request, P) async throws -> Response
    ) -> Endpoint {
        Endpoint(
            method: .GET, path: path, requirement: requirement, summary: summary, kind: .page, tag: tag, documented: false,
            parameterDoc: { try $0.properties(P.self) }, bodyDoc: nil, outputDoc: { _ in nil },
            handler: { req in try await handler(req, try req.parameters(P.self, emptyMeansAbsent: true)) })
    }

    /// A browser form post, answered with a redirect or a page.
    static func form<P: Decodable & Sendable, B: Decodable & Sendable>(
        _ path: String, _ requirement: Requirement, _ summary: String, tag: String, parameters: P.Type,
        body: B.Type, accepts: [BodyType] = [.form, .multipart],
        handler: @escaping @Sendable (Request, P, B) async throws -> Response
    ) -> Endpoint {
        Endpoint(
            method: .POST, path: path, requirement: requirement, summary: summary, kind: .form, tag: tag, documented: false,
            parameterDoc: { try $0.properties(P.self) },
            bodyDoc: { (accepts, try $0.schema(B.self, keys: .asIs)) }, outputDoc: { _ in nil },
            handler: { req in
                let p = try req.parameters(P.self, emptyMeansAbsent: true)
                return try await handler(req, p, try req.body(B.self, accepted: accepts))
            })
    }

    /// A route whose handler reads the request itself (static files, sign-out…).
    static func custom(_ method: HTTPMethod, _ path: String, _ requirement: Requirement, _ summary: String, kind: Kind,
                       tag: String, handler: @escaping @Sendable (Request) async throws -> Response) -> Endpoint {
        Endpoint(method: method, path: path, requirement: requirement, summary: summary, kind: kind, tag: tag, documented: false,
                 parameterDoc: { _ in [] }, bodyDoc: nil, outputDoc: { _ in nil }, handler: handler)
    }

    /// Encodes an output with the application's JSON encoder (snake_case keys, ISO 8601 dates).
    static func encode<O: Encodable>(_ value: O, status: HTTPResponseStatus, for req: Request) throws -> Response {
        let res = Response(status: status)
        try res.content.encode(value, as: .json)
        return res
    }
}

/// A part of the application: its endpoints, declared once.
protocol Feature: SendableMetatype {
    static var endpoints: [Endpoint] { get }
}
