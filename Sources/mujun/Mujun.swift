import Foundation
import ArgumentParser
import Vapor
import MujunCore
import MujunStore
import MujunServer

@main
struct Mujun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mujun",
        abstract: "亩均论英雄：企业亩均效益评价、低效用地整治与闭环督办 / per-mu evaluation of enterprises",
        discussion: "数据库由环境变量 DATABASE_URL 指定（默认 sqlite://data/mujun.sqlite，也可为 postgres://…）。",
        subcommands: [Serve.self, Demo.self, Import.self, Evaluate.self, RulesCommand.self, UserCommand.self, Migrate.self, BackupCommand.self, RestoreCommand.self, VerifyCommand.self, JobsCommand.self, Bench.self, BenchLand.self, Land.self, CalendarCommand.self, CasesCommand.self, ProjectsCommand.self, QuotaCommand.self, BenchCases.self, BenchProjects.self, BenchQuota.self, Docs.self]
    )
}

/// Options every database command shares.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database"), help: "数据库 URL（覆盖 DATABASE_URL）/ database URL")
    var databaseURL: String?

    @Option(help: "规则文件 YAML（覆盖 MUJUN_RULES）/ rules file")
    var rules: String?

    var config: ServerConfig { ServerConfig(databaseURL: databaseURL, rulesPath: rules) }
}

/// Opens the database (migrating it) without the web server, runs `body` with the services
/// acting as the system (`actor` in the audit log), and closes it. A service's refusal is
/// printed (Chinese and English) and the command exits 1.
func withServices<T>(_ options: DatabaseOptions, actor: String = "cli", _ body: (Services) async throws -> T) async throws -> T {
    let context: ServiceContext
    do { context = try options.config.serviceContext() } catch {
        warn("无法读取规则或密钥 / cannot read the rules or the secret: \(error)")
        throw ExitCode(2)
    }
    var logger = Logger(label: "mujun.db")
    logger.logLevel = .warning
    let host = try await DatabaseHost.open(url: options.config.databaseURL, logger: logger)
    do {
        let result = try await body(Services(db: host.db, caller: .system(actor), context: context))
        await host.shutdown()
        return result
    } catch let e as ServiceError {
        await host.shutdown()
        warn(e.message)
        throw ExitCode(1)
    } catch {
        await host.shutdown()
        throw error
    }
}

/// Prints to standard error.
func warn(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Loads the rules named by --rules / MUJUN_RULES, or the defaults; exits with a clear message.
func loadRules(_ path: String?) throws -> (Rules, String) {
    do {
        return try ServerConfig(rulesPath: path).loadRules()
    } catch let e as RulesError {
        warn(e.description)
        throw ExitCode(2)
    } catch {
        warn("无法读取规则文件 / cannot read rules file: \(error)")
        throw ExitCode(2)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "启动网页与接口服务 / serve the web app and API")
    @OptionGroup var db: DatabaseOptions
    @Option(help: "监听地址") var hostname = "127.0.0.1"
    @Option(help: "端口") var port = 8080

    func run() async throws {
        if db.config.jsonLogs {
            LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        }
        let env = Environment(name: "production", arguments: ["mujun", "serve", "--hostname", hostname, "--port", String(port)])
        let app = try await Application.make(env)
        do {
            try await configure(app, db.config)
            startJobScheduler(app)
            startOutboxSender(app)
            print("亩均 Mujun 服务已启动 / serving on http://\(hostname):\(port)")
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "创建或升级数据库结构 / create or upgrade the schema")
    @OptionGroup var db: DatabaseOptions
    func run() async throws {
        try await withServices(db) { _ in }
        print("数据库已就绪 / database ready")
    }
}

// Vapor re-exports ConsoleKit's `Option` and `Argument`; the CLI means ArgumentParser's.
typealias Option = ArgumentParser.Option
typealias Argument = ArgumentParser.Argument
typealias Flag = ArgumentParser.Flag
typealias OptionGroup = ArgumentParser.OptionGroup
