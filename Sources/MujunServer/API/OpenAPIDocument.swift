import Foundation
import Vapor
import MujunCore

/// The OpenAPI 3.0.3 document of the JSON API (`/openapi.json`), built from the endpoint
/// declarations at start-up: every documented endpoint with its parameters (and their bounds),
/// its request body, its answer's schema (derived from the output type) and the error answers
/// it can give. Nothing in it is written by hand but the introduction.
enum OpenAPIDocument {
    static let info: JSONValue = [
        "title": "Mujun 亩均论英雄 API",
        "version": "1.1.0",
        "description": "永康市工业企业亩均效益综合评价（亩均论英雄）、工业用地与申诉的数据接口。JSON 字段为 snake_case；缺失的值不输出。错误以 {error, status} 返回。除 /healthz 外均需登录：接口令牌（Authorization: Bearer …，由管理员签发）或浏览器会话 cookie（POST 时另需 X-CSRF-Token 头）；权限按角色，镇街账号只能看到本镇街数据，企业账号只能看到本企业数据。分页、年度等数值参数有上下限，越界返回 400。",
    ]

    /// The common error answers, by status.
    static let errorResponses: [(UInt, String, String)] = [
        (400, "BadRequest", "参数或请求体无效 / invalid parameter or body"),
        (401, "Unauthorized", "未登录或令牌无效 / not signed in, or an invalid token"),
        (403, "Forbidden", "角色无权访问 / not allowed for the role"),
        (404, "NotFound", "不存在或不在管辖范围内 / not found, or outside the caller's jurisdiction"),
        (409, "Conflict", "状态已变化，不能执行此操作 / the record is not in a state that allows this"),
        (413, "PayloadTooLarge", "上传内容过大 / the upload is too large"),
        (415, "UnsupportedMediaType", "不支持的请求体类型或文件类型 / unsupported body or file type"),
        (422, "Unprocessable", "数据无法处理（如导入文件中有错误行）/ the data cannot be processed (e.g. bad rows in an import)"),
        (503, "Unavailable", "数据库不可用 / the database does not answer"),
    ]

    static func build(_ endpoints: [Endpoint]) throws -> JSONValue {
        let registry = SchemaRegistry()
        let errorSchema = try registry.schema(ErrorDTO.self, keys: .snakeCase)
        var paths: [(String, JSONValue)] = []
        var tags: [String] = []
        for e in endpoints where e.documented {
            if !tags.contains(e.tag) { tags.append(e.tag) }
            let op = try operation(e, registry)
            let key = e.openAPIPath
            if let i = paths.firstIndex(where: { $0.0 == key }) {
                paths[i].1 = paths[i].1.setting(e.method.rawValue.lowercased(), op)
            } else {
                paths.append((key, .object([(e.method.rawValue.lowercased(), op)])))
            }
        }
        var responses: [(String, JSONValue)] = []
        for (_, name, description) in errorResponses {
            responses.append((name, ["description": .string(description), "content": ["application/json": ["schema": errorSchema]]]))
        }
        return .object([
            ("openapi", "3.0.3"),
            ("info", info),
            ("servers", [["url": "/"]]),
            ("security", [["bearerAuth": []], ["cookieAuth": []]]),
            ("tags", .array(tags.map { ["name": .string($0)] })),
            ("paths", .object(paths)),
            ("components", .object([
                ("securitySchemes", [
                    "bearerAuth": ["type": "http", "scheme": "bearer", "description": "接口令牌 / API token（mujun user token 登录名）"],
                    "cookieAuth": ["type": "apiKey", "in": "cookie", "name": "mujun_session", "description": "浏览器会话 / browser session"],
                ]),
                ("responses", .object(responses)),
                ("schemas", .object(registry.components)),
            ])),
        ])
    }

    static func operation(_ e: Endpoint, _ registry: SchemaRegistry) throws -> JSONValue {
        var op: [(String, JSONValue)] = [
            ("operationId", .string(operationID(e))),
            ("summary", .string(e.summary)),
            ("tags", [.string(e.tag)]),
        ]
        if e.requirement == .open { op.append(("security", [])) }
        if case .permission(let p) = e.requirement {
            op.append(("description", .string("需要权限 / requires `\(p.rawValue)`")))
        }
        let pathNames = Set(e.pathParameters)
        var params: [JSONValue] = []
        for p in try e.parameterDoc(registry) {
            let inPath = pathNames.contains(p.name)
            params.append(.object([
                ("name", .string(p.name)), ("in", .string(inPath ? "path" : "query")),
                ("required", .bool(inPath || p.required)), ("schema", try parameterSchema(p.schema, e, p.name)),
            ]))
        }
        for name in e.pathParameters where !params.contains(where: { $0["name"] == .string(name) }) {
            throw SchemaError(type: e.path, reason: "path parameter :\(name) is not in the parameters type")
        }
        if !params.isEmpty { op.append(("parameters", .array(params))) }
        if let body = try e.bodyDoc?(registry) {
            var content: [(String, JSONValue)] = []
            for t in body.types {
                switch t {
                case .json, .form: content.append((t.rawValue, JSONValue.object([("schema", body.schema)])))
                case .multipart: content.append((t.rawValue, JSONValue.object([("schema", multipart(body.schema, registry))])))
                case .file: content.append((t.rawValue, JSONValue.object([("schema", ["type": "string", "format": "binary"])])))
                }
            }
            op.append(("requestBody", ["required": true, "content": .object(content)]))
        }
        var responses: [(String, JSONValue)] = []
        if let out = try e.outputDoc(registry) {
            responses.append((String(e.successStatus.code), [
                "description": .string(e.summary),
                "content": .object([(out.mediaType, JSONValue.object([("schema", out.schema)]))]),
            ]))
        } else {
            responses.append((String(e.successStatus.code), ["description": .string(e.summary)]))
        }
        for code in e.documentedErrors {
            guard let name = errorResponses.first(where: { $0.0 == code })?.1 else {
                throw SchemaError(type: e.path, reason: "no common answer for status \(code)")
            }
            responses.append((String(code), ["$ref": .string("#/components/responses/\(name)")]))
        }
        op.append(("responses", .object(responses)))
        return .object(op)
    }

    /// A parameter's schema; free text gets its bound; a number without one is an error.
    static func parameterSchema(_ s: JSONValue, _ e: Endpoint, _ name: String) throws -> JSONValue {
        var s = s
        if case .object(let pairs) = s, pairs.contains(where: { $0.0 == "nullable" }) {
            s = .object(pairs.filter { $0.0 != "nullable" })
        }
        if s == ["type": "string"] { return try NameText.jsonSchema(SchemaRegistry()).setting("type", "string") }
        if s["type"] == "integer" || s["type"] == "number", s["maximum"] == nil {
            throw SchemaError(type: e.path, reason: "parameter \(name) is a number without bounds (use Bounded<…>)")
        }
        return s
    }

    /// A body schema as a multipart form: file fields are binary.
    static func multipart(_ s: JSONValue, _ registry: SchemaRegistry) -> JSONValue {
        guard case .string(let ref)? = s["$ref"], let name = ref.split(separator: "/").last,
              let schema = registry.components.first(where: { $0.0 == name })?.1,
              case .object(let props)? = schema["properties"] else { return s }
        let fileRef = JSONValue.string("#/components/schemas/\(FileUpload.componentName)")
        let mapped = props.map { (k, v) -> (String, JSONValue) in
            if v["$ref"] == fileRef || v["allOf"] == .array([["$ref": fileRef]]) { return (k, ["type": "string", "format": "binary"]) }
            return (k, v)
        }
        return schema.setting("properties", .object(mapped))
    }

    static func operationID(_ e: Endpoint) -> String {
        var id = e.method.rawValue.lowercased()
        for part in e.path.split(separator: "/") where part != "api" && part != "v1" {
            let word = part.hasPrefix(":") ? "By" + part.dropFirst().capitalized : part.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
                .map { $0.capitalized }.joined()
            id += word
        }
        return id
    }
}

/// An error answer: `{error, status}`; an import refused for bad rows also lists them.
struct ErrorDTO: Codable, Sendable {
    var error: String
    var status: String?
    var errors: [RowError]?
    var omitted: Int?
}

/// How a file in a JSON body is described (`{filename, data}` with the bytes in base64);
/// multipart forms send the file itself.
enum FileUpload {
    static let componentName = "File"
}

extension File: SchemaDescribing {
    static func jsonSchema(_ registry: SchemaRegistry) -> JSONValue {
        registry.define(FileUpload.componentName, .object([
            ("type", "object"), ("required", ["data"]),
            ("properties", ["filename": ["type": "string"], "data": ["type": "string", "format": "byte", "description": "文件内容（base64）/ the bytes, base64"]]),
        ]))
    }
    static var schemaExample: File { File(data: "", filename: "") }
}
