// swift-tools-version:6.0
import PackageDescription

// MujunCore stays free of Vapor and Fluent so the scoring, the readers and the
// demo generator build and test in seconds; MujunStore adds Fluent and holds the
// services (each feature's queries, scope, validation and workflow steps);
// MujunServer adds Vapor (routes, pages, the API); `mujun` is the command-line tool
// over the services (only `serve` needs MujunServer).
let package = Package(
    name: "mujun",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mujun", targets: ["mujun"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3" ..< "5.0.0"),
    ],
    targets: [
        // GEOS (libgeos-dev) and PROJ (libproj-dev), the engines under PostGIS and QGIS.
        .systemLibrary(name: "CGEOS", pkgConfig: "geos", providers: [.apt(["libgeos-dev"])]),
        .systemLibrary(name: "CPROJ", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        // libxcrypt (libcrypt-dev): bcrypt password hashes ($2b$) without the web framework.
        .systemLibrary(name: "CCrypt", pkgConfig: "libxcrypt", providers: [.apt(["libcrypt-dev"])]),
        .target(
            name: "MujunCore",
            dependencies: [
                "CGEOS",
                "CPROJ",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .target(
            name: "MujunStore",
            dependencies: [
                "MujunCore",
                "CCrypt",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
            ]
        ),
        .target(
            name: "MujunServer",
            dependencies: [
                "MujunCore",
                "MujunStore",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
            ]
        ),
        .executableTarget(
            name: "mujun",
            dependencies: [
                "MujunCore",
                "MujunStore",
                "MujunServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "MujunCoreTests",
            dependencies: ["MujunCore"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "MujunServerTests",
            dependencies: [
                "MujunCore",
                "MujunStore",
                "MujunServer",
                .product(name: "VaporTesting", package: "vapor"),
            ]
        ),
    ]
)
