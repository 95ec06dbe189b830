import Foundation
import Testing
import VaporTesting
@testable import MujunServer

@Suite("OpenAPI document", .serialized)
struct OpenAPITests {
    func document() throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument2.json.utf8))
        return try #require(json as? [String: Any])
    }

    @Test("the document parses and is OpenAPI 3.0.3")
    func parses() throws {
        let doc = try document()
        #expect(doc["openapi"] as? String == "3.0.3")
        let paths = try #require(doc["paths"] as? [String: Any])
        for p in ["/healthz", "/api/v1/results", "/api/v1/enterprises/{code}", "/api/v1/imports/enterprises", "/export/ranking.xlsx"] {
            #expect(paths[p] != nil, "\(p)")
        }
        // every $ref points at a component that exists
        let components = try #require(doc["components"] as? [String: Any])
        for ref in OpenAPIDocument2.json.captures(##""\$ref": "#/components/([a-z]+/[A-Za-z]+)""##) {
            let parts = ref.split(separator: "/").map(String.init)
            let section = components[parts[0]] as? [String: Any]
            #expect(section?[parts[1]] != nil, "missing component \(ref)")
        }
    }

    @Test("every route under /api/v1 is described, with its method")
    func coversRoutes() async throws {
        let doc = try document()
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        try await TestApp.with { app in
            var checked = 0
            for route in app.routes.all {
                let parts = route.path.map { c -> String in
                    switch c {
                    case .parameter(let name): "{\(name)}"
                    default: c.description
                    }
                }
                let path = "/" + parts.joined(separator: "/")
                guard path.hasPrefix("/api/v1/") || path == "/healthz" || path == "/export/ranking.xlsx" else { continue }
                let item = paths[path]
                #expect(item != nil, "route \(route.method) \(path) is not in openapi.json")
                #expect(item?[route.method.rawValue.lowercased()] != nil, "method \(route.method) \(path) is not in openapi.json")
                checked += 1
            }
            #expect(checked >= 10)
            let res = try await app.testing().sendRequest(.GET, "/openapi.json", headers: try await TestAuth.hq(app).headers)
            #expect(res.status == .ok)
            #expect(try JSONSerialization.jsonObject(with: Data(buffer: res.body)) is [String: Any])
        }
    }

    @Test("the document passes openapi-spec-validator when it is installed")
    func validates() throws {
        /// Runs `python3 args…` (the first python3 on PATH); nil when there is none.
        func python(_ args: [String]) -> (Int32, String)? {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3"] + args
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            do { try p.run() } catch { return nil }
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: out, as: UTF8.self))
        }
        guard let probe = python(["-c", "import openapi_spec_validator"]), probe.0 == 0 else {
            // not installed (pip install openapi-spec-validator): the structural tests above still ran
            print("openapi-spec-validator not installed; skipping its check")
            return
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-openapi-\(UUID().uuidString).json")
        try Data(OpenAPIDocument2.json.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = python(["-m", "openapi_spec_validator", file.path])
        #expect(result?.0 == 0, "\(result?.1 ?? "")")
        #expect(result?.1.contains("OK") == true, "\(result?.1 ?? "")")
    }
}
