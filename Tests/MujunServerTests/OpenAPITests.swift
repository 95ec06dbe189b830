import Foundation
import Testing
import VaporTesting
@testable import MujunServer

/// The OpenAPI document is built from the endpoint declarations: it parses, validates, names
/// every registered JSON route with its method, and each documented operation's answers match
/// it (the `make test-api` leg runs schemathesis against the live server for that).
@Suite("OpenAPI document", .serialized)
struct OpenAPITests {
    func document() throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(EndpointTable.shared.openAPI.utf8))
        return try #require(json as? [String: Any])
    }

    @Test("the document parses, is OpenAPI 3.0.3, and every $ref points at a component that exists")
    func parses() throws {
        let doc = try document()
        #expect(doc["openapi"] as? String == "3.0.3")
        let paths = try #require(doc["paths"] as? [String: Any])
        for p in ["/healthz", "/openapi.json", "/api/v1/results", "/api/v1/enterprises/{code}", "/api/v1/imports/enterprises",
                  "/export/ranking.xlsx", "/api/v1/appeals/{id}/decide", "/api/v1/map/parcels"] {
            #expect(paths[p] != nil, "\(p)")
        }
        let components = try #require(doc["components"] as? [String: Any])
        let refs = EndpointTable.shared.openAPI.captures(##""\$ref": "#/components/([A-Za-z]+/[A-Za-z0-9_.\-]+)""##)
        #expect(refs.count > 50)
        for ref in Set(refs) {
            let parts = ref.split(separator: "/").map(String.init)
            let section = components[parts[0]] as? [String: Any]
            #expect(section?[parts[1]] != nil, "missing component \(ref)")
        }
    }

    struct Optionals: Decodable {
        var must: String
        var s: String?, b: Bool?, d: Double?, f: Float?, i: Int?, i32: Int32?, i64: Int64?, u8: UInt8?
        var date: Date?, list: [String]?
    }

    @Test("an optional property is never required, whatever its type: the encoder leaves nil out of the answer")
    func optionalsAreNotRequired() throws {
        let props = try SchemaRegistry().properties(Optionals.self)
        #expect(props.count == 11)
        #expect(props.filter(\.required).map(\.name) == ["must"])
        let doc = try document()
        let schemas = try #require((doc["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        #expect(schemas["Error"]?["required"] as? [String] == ["error"])
        let appealRequired = try #require(schemas["Appeal"]?["required"] as? [String])
        for optional in ["attachment_name", "outcome", "answer", "rating", "enterprise_name", "current_value"] {
            #expect(!appealRequired.contains(optional), "\(optional) is optional in AppealDTO")
        }
    }

    @Test("every numeric parameter has bounds, every enum its values, every body its schema")
    func bounded() throws {
        let doc = try document()
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        var params = 0
        for (path, item) in paths {
            for (method, op) in item {
                guard let op = op as? [String: Any] else { continue }
                for p in op["parameters"] as? [[String: Any]] ?? [] {
                    params += 1
                    let schema = try #require(p["schema"] as? [String: Any], "\(method) \(path) \(p["name"] ?? "?")")
                    if schema["type"] as? String == "integer" {
                        #expect(schema["minimum"] != nil && schema["maximum"] != nil, "\(method) \(path): \(p["name"] ?? "?") is unbounded")
                    }
                    if schema["type"] as? String == "string", schema["enum"] == nil, schema["format"] == nil {
                        #expect(schema["maxLength"] != nil, "\(method) \(path): \(p["name"] ?? "?") has no maxLength")
                    }
                }
                let responses = try #require(op["responses"] as? [String: Any])
                #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(method) \(path) documents no success")
                if method == "post" { #expect(op["requestBody"] != nil || path.contains("/accept"), "\(method) \(path) has no body") }
            }
        }
        #expect(params > 40)
    }

    @Test("every registered JSON route is documented with its method, and every documented operation is registered")
    func coversRoutes() async throws {
        let doc = try document()
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        try await TestApp.with { app in
            var registered = Set<String>()
            for route in app.routes.all {
                let path = "/" + route.path.map { c -> String in
                    if case .parameter(let name) = c { return "{\(name)}" }
                    return c.description
                }.joined(separator: "/")
                // the JSON API, and the downloads a declaration documents (exports)
                guard path.hasPrefix("/api/v1/") || path == "/healthz" || path == "/openapi.json" || paths[path] != nil else { continue }
                registered.insert("\(route.method.rawValue.lowercased()) \(path)")
                #expect(paths[path]?[route.method.rawValue.lowercased()] != nil, "\(route.method) \(path) is not in openapi.json")
            }
            #expect(registered.count >= 24)
            for (path, item) in paths {
                for method in item.keys { #expect(registered.contains("\(method) \(path)"), "\(method) \(path) is documented but not registered") }
            }
            let res = try await app.testing().sendRequest(.GET, "/openapi.json", headers: try await TestAuth.hq(app).headers)
            #expect(res.status == .ok)
            #expect(res.body.string == app.endpoints.openAPI)
        }
    }

    @Test("the document passes openapi-spec-validator (PyPI; make deps installs it)")
    func validates() throws {
        /// Runs `python3 args…` (the first python3 on PATH).
        func python(_ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3"] + args
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: out, as: UTF8.self))
        }
        let probe = try python(["-c", "import openapi_spec_validator"])
        #expect(probe.0 == 0, "openapi-spec-validator is not installed: run `make deps` (pip install openapi-spec-validator)")
        guard probe.0 == 0 else { return }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-openapi-\(UUID().uuidString).json")
        try Data(EndpointTable.shared.openAPI.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try python(["-m", "openapi_spec_validator", file.path])
        #expect(result.0 == 0 && result.1.contains("OK"), "\(result.1)")
    }
}
