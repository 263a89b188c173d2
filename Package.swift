// swift-tools-version:6.1
import PackageDescription

// Module graph (each depends only on those below it):
//   rigor (CLI) → RigorServer (web UI, Hummingbird) → RigorRunner → RigorAgentHost, RigorTasks, RigorStore → RigorSpec → RigorJSON
//   (RigorAgentHost → CRigorSpawn; RigorStore → CSQLite, CZstd: system libraries)
//   RigorRunner → RigorStorePostgres → RigorStore (+ postgres-nio, for --store postgres://)
let package = Package(
    name: "Rigor",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rigor", targets: ["rigor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The web UI's HTTP server (rigor serve). No traits: the server needs neither
        // swift-configuration nor the full-Foundation extras, and they cost build time.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Property-based tests (Swift Testing): policy, redaction and export invariants.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // The JSON value, parser and canonical writers: no Foundation, so a statically linked
        // agent can use them too.
        .target(name: "RigorJSON"),
        .target(
            name: "RigorSpec",
            dependencies: ["RigorJSON", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "RigorTasks",
            dependencies: ["RigorSpec", .product(name: "TOMLKit", package: "TOMLKit"), .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "CRigorSpawn"),
        // System libraries the run store links against (Debian: libsqlite3-dev, libzstd-dev).
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
        // The embedded run store: runs index, content-addressed blobs, hash-chained ledger.
        .target(name: "RigorStore", dependencies: ["RigorSpec", "CSQLite", "CZstd"]),
        // The shared store for teams: the same operations on a PostgreSQL server (postgres-nio),
        // in a module of its own so that the embedded store does not depend on NIO.
        .target(
            name: "RigorStorePostgres",
            dependencies: ["RigorStore", "RigorSpec", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .target(
            name: "RigorAgentHost",
            dependencies: ["RigorSpec", "CRigorSpawn"]
        ),
        .target(
            name: "RigorRunner",
            dependencies: ["RigorSpec", "RigorTasks", "RigorAgentHost", .product(name: "Crypto", package: "swift-crypto"), "RigorStore", "RigorStorePostgres",
                           .product(name: "Yams", package: "Yams")]
        ),
        // The web UI and the self-contained HTML report: pages and their /api/ twins, rendered
        // from RigorRunner's views. A library, so tests drive the real server in process.
        .target(
            name: "RigorServer",
            dependencies: ["RigorRunner", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(
            name: "rigor",
            dependencies: ["RigorRunner", "RigorServer", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        // An agent written in Swift: speaks the agent protocol on stdin/stdout.
        // The agent side of the fork-server protocol, for agents written in Swift.
        .target(name: "RigorAgentKit", dependencies: ["RigorJSON", "CRigorSpawn"]),
        .executableTarget(
            name: "rigor-swift-agent",
            dependencies: ["RigorJSON", "RigorAgentKit"],
            path: "Agents/swift/ToyAgent",
            // Fully static (it uses no Foundation), so it runs under the namespace level, where
            // only system paths and the agent's own file are visible, and starts without the
            // dynamic loader's relocations.
            // Release builds drop symbols and debug sections (a third of the file): the runner hashes
            // the whole agent file once per batch (agent_hash).
            linkerSettings: [.unsafeFlags(["-static-executable"]),
                             .unsafeFlags(["-Xlinker", "--strip-all"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "rigor-bench",
            // RigorTestSupport for SyntheticRuns: stores of 100,000 runs made in seconds.
            dependencies: ["RigorRunner", "RigorTasks", "RigorTestSupport", "RigorServer", "RigorStorePostgres"],
            path: "Benchmarks/RigorBench"
        ),
        .target(
            name: "RigorTestSupport",
            dependencies: ["RigorRunner"],
            path: "Sources/RigorTestSupport"
        ),
        .testTarget(name: "RigorSpecTests", dependencies: ["RigorSpec", "RigorTasks", "RigorTestSupport",
                                                           .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "RigorTasksTests", dependencies: ["RigorTasks", "RigorTestSupport"]),
        .testTarget(name: "RigorRunnerTests", dependencies: ["RigorRunner", "RigorTestSupport",
                                                             .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "RigorCLITests", dependencies: ["RigorSpec", "RigorAgentHost", "RigorRunner", "RigorTestSupport"]),
        .testTarget(name: "RigorStoreTests", dependencies: ["RigorStore", "RigorTestSupport"]),
        .testTarget(name: "RigorServerTests", dependencies: ["RigorServer", "RigorTestSupport"]),
        .testTarget(name: "RigorStorePostgresTests", dependencies: ["RigorStorePostgres", "RigorStore", "RigorTestSupport"]),
    ]
)
