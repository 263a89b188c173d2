import Foundation
@testable import RigorRunner
import RigorStore
import RigorTestSupport
import Testing

@Suite("Store location (--store, RIGOR_STORE, project store)")
struct StoreLocationTests {
    @Test("a postgres URL is a shared store, anything without a scheme a directory, any other scheme refused")
    func parsing() throws {
        #expect(try StoreLocation(parsing: "postgres://u@h/db") == .postgres(url: "postgres://u@h/db"))
        #expect(try StoreLocation(parsing: "POSTGRESQL://u@h/db") == .postgres(url: "POSTGRESQL://u@h/db"))
        #expect(try StoreLocation(parsing: "/srv/runs") == .embedded(directory: "/srv/runs"))
        #expect(try StoreLocation(parsing: "runs/a://b") == .embedded(directory: "runs/a://b"))
        for bad in ["postgre://h/db", "sqlite://x", ""] {
            #expect(throws: StoreError.self) { try StoreLocation(parsing: bad) }
        }
        #expect(try StoreLocation(parsing: "postgres://u:secret@h/db").description == "postgres://u@h:5432/db")
    }

    @Test("--store wins over RIGOR_STORE, which wins over the project's store; none means the state directory's")
    func precedence() throws {
        let root = RepoPaths.temporaryDirectory("store-location")
        try "[project]\nstore = \"shared-runs\"\n".write(toFile: "\(root)/rigor.toml", atomically: true, encoding: .utf8)
        let fromProject = try Workspace.discover(from: root, environment: [:])
        #expect(fromProject.storeLocation == .embedded(directory: "\(root)/shared-runs"))
        let fromEnvironment = try Workspace.discover(from: root, environment: ["RIGOR_STORE": "postgres://e@h/db"])
        #expect(fromEnvironment.storeLocation == .postgres(url: "postgres://e@h/db"))
        let fromFlag = try Workspace.discover(from: root, overrides: WorkspaceOverrides(store: "postgres://f@h/db"),
                                              environment: ["RIGOR_STORE": "postgres://e@h/db"])
        #expect(fromFlag.storeLocation == .postgres(url: "postgres://f@h/db"))
        let bare = RepoPaths.temporaryDirectory("store-location-bare")
        let plain = try Workspace.discover(from: bare, environment: ["RIGOR_STORE": ""])
        #expect(plain.storeLocation == .embedded(directory: "\(bare)/.rigor"))
        #expect(throws: RunnerError.self) { try Workspace.discover(from: bare, environment: ["RIGOR_STORE": "mysql://h/db"]) }
    }
}
