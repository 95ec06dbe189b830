import Foundation
import ArgumentParser
import MujunCore
import MujunStore
import MujunServer

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "账户管理 / accounts",
        subcommands: [Add.self, ResetPassword.self, List.self, Token.self, RevokeToken.self, Disable.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "新建用户（首次登录须改密码）/ add a user")
        @Argument(help: "用户名") var login: String
        @Option(help: "姓名") var name = ""
        @Option(help: "角色：admin headquarters department town enterprise bank requester expert（或中文）") var role: String
        @Option(help: "单位") var unit = ""
        @Option(help: "镇街（镇街用户）") var town: String?
        @Option(help: "统一社会信用代码（企业用户）") var creditCode: String?
        @Option(help: "初始密码（默认随机生成并打印）") var password: String?
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            guard let r = Role(text: role) else { throw ValidationError("未知角色 \(role) / unknown role") }
            let created = try await withServices(db) { s in
                try await s.accounts.createUser(.init(login: login, displayName: name, unit: unit, role: r, town: town,
                                                      creditCode: creditCode, password: password, mustChangePassword: true))
            }
            print("已创建用户 \(login)（\(r.chinese)）/ user created")
            if password == nil { print("初始密码 / initial password: \(created.password)") }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset-password", abstract: "重置密码（下次登录须修改）/ reset a password")
        @Argument var login: String
        @Option(help: "新的临时密码（默认随机）") var password: String?
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            let pw = try await withServices(db) { s in
                try await s.accounts.resetPassword(userID: try await s.accounts.user(login: login).id, password: password)
            }
            print("已重置 \(login) 的密码 / password reset: \(pw)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "列出用户 / list users")
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            try await withServices(db) { s in
                for u in try await s.accounts.users() {
                    let role = Role(rawValue: u.role)?.chinese ?? u.role
                    print("\(u.login)\t\(role)\t\(u.displayName)\t\(u.unit)\t\(u.town ?? u.creditCode ?? "")\(u.disabled ? "\t已停用" : "")")
                }
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "token", abstract: "为用户签发 API 令牌（只显示一次）/ issue an API token")
        @Argument var login: String
        @Option(help: "令牌用途，如 QGIS") var name = "api"
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            let issued = try await withServices(db) { s in try await s.accounts.issueToken(login: login, name: name) }
            print(issued.token)
        }
    }

    struct RevokeToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke-token", abstract: "撤销 API 令牌 / revoke a token")
        @Argument var id: Int64
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            try await withServices(db) { s in try await s.accounts.revokeToken(id: id) }
            print("已撤销令牌 #\(id) / revoked")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "disable", abstract: "停用或启用用户 / disable or enable a user")
        @Argument var login: String
        @Flag(help: "重新启用") var enable = false
        @OptionGroup var db: DatabaseOptions
        func run() async throws {
            try await withServices(db) { s in
                try await s.accounts.setDisabled(userID: try await s.accounts.user(login: login).id, !enable)
            }
            print(enable ? "已启用 \(login)" : "已停用 \(login)")
        }
    }
}
