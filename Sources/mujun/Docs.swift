import Foundation
import ArgumentParser
import MujunServer

/// `mujun docs routes`: the route table of docs/SECURITY.md, written from the endpoint
/// declarations (the tests fail while the file's copy differs).
struct Docs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "docs",
        abstract: "由代码生成的文档 / documents written from the code", subcommands: [Routes.self, OpenAPI.self])

    struct Routes: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "routes",
            abstract: "打印或写入 docs/SECURITY.md 的路由表 / print the route table, or write it into docs/SECURITY.md")
        @Option(help: "写入该文件中 <!-- routes:begin --> 与 <!-- routes:end --> 之间的部分 / replace the marked section of this file")
        var write: String?

        func run() throws {
            guard let path = write else { print(RouteAccess.markdown()); return }
            let url = URL(fileURLWithPath: path)
            let text = try String(contentsOf: url, encoding: .utf8)
            guard let updated = RouteAccess.document(text) else {
                throw ValidationError("\(path) 中没有 <!-- routes:begin --> / <!-- routes:end --> 标记 / no route markers in \(path)")
            }
            try updated.write(to: url, atomically: true, encoding: .utf8)
            print("已更新 \(path) 的路由表（\(RouteAccess.table.count) 条）/ route table written")
        }
    }

    struct OpenAPI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "openapi", abstract: "打印 /openapi.json 所提供的接口文档 / print the OpenAPI document /openapi.json serves")

        func run() throws { print(RouteAccess.openAPI) }
    }
}
