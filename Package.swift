// swift-tools-version:6.0
import PackageDescription

// Module graph (each depends only on those below it):
//   rigor (CLI) → RigorRunner → RigorAgentHost, RigorTasks, RigorStore → RigorSpec → RigorJSON
//   (RigorAgentHost → CRigorSpawn; RigorStore → CSQLite, CZstd: system libraries)
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
        .target(
            name: "RigorAgentHost",
            dependencies: ["RigorSpec", "CRigorSpawn"]
        ),
        .target(
            name: "RigorRunner",
            dependencies: ["RigorSpec", "RigorTasks", "RigorAgentHost", .product(name: "Crypto", package: "swift-crypto"), "RigorStore",
                           .product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(
            name: "rigor",
            dependencies: ["RigorRunner", .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
            dependencies: ["RigorRunner", "RigorTasks", "RigorTestSupport"],
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
        .testTarget(name: "RigorCLITests", dependencies: ["RigorSpec", "RigorAgentHost", "RigorTestSupport"]),
        .testTarget(name: "RigorStoreTests", dependencies: ["RigorStore", "RigorTestSupport"]),
    ]
)
