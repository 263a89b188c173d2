import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// The shared store end to end: the built `rigor`, several processes writing into one
/// PostgreSQL database at once, and one of them killed mid-batch.
@Suite("PostgreSQL store, end to end")
struct PostgresCLITests {
    static func rigor(_ arguments: [String], environment extra: [String: String] = [:]) throws -> CommandResult {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "RIGOR_STORE")
        environment.merge(extra) { _, new in new }
        return try CommandLineRun.rigor(arguments, environment: environment)
    }

    static func count(_ url: String, _ sql: String) throws -> Int {
        Int(try PostgresTestServer.sql(url, sql)) ?? -1
    }

    @Test("the same episode recorded into PostgreSQL and into SQLite has the same artifact_hash and exported content")
    func sameRunInBothStores() throws {
        let url = try PostgresTestServer.freshDatabase("cli_same")
        let state = RepoPaths.temporaryDirectory("pg-same") + "/.rigor"
        let common = ["run", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "3", "--state-dir", state]
        let shared = try Self.rigor(common + ["--store", url])
        let embedded = try Self.rigor(common)
        #expect(shared.status == 0, "\(shared.stderr)")
        #expect(embedded.status == 0, "\(embedded.stderr)")
        let a = try Self.rigor(["runs", "export", "latest", "--store", url, "--state-dir", state])
        let b = try Self.rigor(["runs", "export", "latest", "--state-dir", state])
        let left = try JSON.parse(Array(a.stdout.utf8)), right = try JSON.parse(Array(b.stdout.utf8))
        #expect(left["artifact_hash"] != nil && left["artifact_hash"] == right["artifact_hash"])
        #expect(try HashRecipe.rigor.hash(left) == left["artifact_hash"]?.stringValue)
        // The environment variable reaches the same store.
        let listed = try Self.rigor(["runs", "list", "--json", "--state-dir", state], environment: ["RIGOR_STORE": url])
        #expect(listed.status == 0 && listed.stdout.contains(left["run_id"]?.stringValue ?? "?"))
    }

    @Test("4 batches at once into one database: every run stored once, runs verify and ledger verify pass")
    func concurrentBatches() throws {
        let url = try PostgresTestServer.freshDatabase("cli_batches")
        let state = RepoPaths.temporaryDirectory("pg-batches") + "/.rigor"
        let results = ResultBox()
        let group = DispatchGroup()
        for shard in 0..<4 {
            group.enter()
            Thread {
                defer { group.leave() }
                let seeds = "\(shard * 5)..\(shard * 5 + 4)"
                // Two write through --store, two through RIGOR_STORE.
                let viaFlag = shard % 2 == 0
                let arguments = ["batch", "--pairings", "toy_filesystem,number_guess", "--seeds", seeds, "--workers", "1", "--quiet",
                                 "--no-fork-server", "--state-dir", state] + (viaFlag ? ["--store", url] : [])
                let result = try? Self.rigor(arguments, environment: viaFlag ? [:] : ["RIGOR_STORE": url])
                results.add(result)
            }.start()
        }
        group.wait()
        for result in results.all {
            #expect(result?.status != nil && result?.signalled == false, "\(result?.stderr ?? "did not run")")
        }
        #expect(try Self.count(url, "SELECT count(*) FROM runs") == 40)
        #expect(try Self.count(url, "SELECT count(DISTINCT run_id) FROM runs") == 40)
        #expect(try Self.count(url, "SELECT count(DISTINCT (agent_ref, seed)) FROM runs") == 40)
        #expect(try Self.count(url, "SELECT count(*) FROM ledger WHERE kind = 'run'") == 40)
        #expect(try Self.count(url, "SELECT max(seq) FROM ledger") == 40)
        let runsVerify = try Self.rigor(["runs", "verify", "--store", url, "--state-dir", state])
        #expect(runsVerify.status == 0, "\(runsVerify.stdout)\(runsVerify.stderr)")
        let ledgerVerify = try Self.rigor(["ledger", "verify", "--store", url, "--state-dir", state])
        #expect(ledgerVerify.status == 0, "\(ledgerVerify.stdout)\(ledgerVerify.stderr)")
        #expect(ledgerVerify.stdout.contains("40 entries"))
    }

    @Test("a writer killed (SIGKILL) mid-batch loses no finished run and leaves the chain valid; the next writer extends it")
    func killedWriter() throws {
        let url = try PostgresTestServer.freshDatabase("cli_kill")
        let state = RepoPaths.temporaryDirectory("pg-kill") + "/.rigor"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RepoPaths.rigorBinary)
        process.arguments = ["batch", "--pairings", "toy_filesystem", "--seeds", "0..399", "--workers", "2", "--quiet",
                             "--no-fork-server", "--state-dir", state, "--store", url]
        process.currentDirectoryURL = URL(fileURLWithPath: RepoPaths.root)
        var environment = ProcessInfo.processInfo.environment
        environment["RIGOR_WORLD_KEY"] = TestWorldKey.fixed.hex
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = 0
        let deadline = Date().addingTimeInterval(120)
        while seen < 6 && Date() < deadline && process.isRunning {
            usleep(100_000)
            seen = (try? Self.count(url, "SELECT count(*) FROM runs")) ?? 0
        }
        #expect(process.isRunning, "the batch ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let after = try Self.count(url, "SELECT count(*) FROM runs")
        #expect(seen >= 6 && after >= seen && after < 400)
        #expect(try Self.count(url, "SELECT count(*) FROM ledger WHERE kind = 'run'") == after)
        #expect(try Self.rigor(["runs", "verify", "--store", url, "--state-dir", state]).status == 0)
        #expect(try Self.rigor(["ledger", "verify", "--store", url, "--state-dir", state]).status == 0)
        // The next writer takes the chain over where the killed one left it.
        let next = try Self.rigor(["batch", "--pairings", "toy_filesystem", "--seeds", "0..2", "--quiet", "--no-fork-server",
                                   "--state-dir", state, "--store", url])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try Self.count(url, "SELECT count(*) FROM runs") == after + 3)
        let verify = try Self.rigor(["ledger", "verify", "--store", url, "--state-dir", state])
        #expect(verify.status == 0 && verify.stdout.contains("\(after + 3) entries"), "\(verify.stdout)")
    }

    @Test("bad store locations are refused with what to do, exit 2 (usage) or 4 (server)", arguments: [
        ("postgre://host/db", Int32(2), "only postgres://"),
        ("postgres://u:secret@localhost:70000/db", Int32(2), "out of range"),
        ("postgres://localhost/db?sslmode=maybe", Int32(2), "sslmode must be one of"),
        ("postgres://localhost/db?colour=blue", Int32(2), "unknown option"),
        ("postgres://postgres@127.0.0.1:1/db?connect_timeout=2", Int32(4), "cannot reach"),
    ])
    func badLocations(location: String, status: Int32, message: String) throws {
        let result = try Self.rigor(["runs", "list", "--store", location, "--state-dir", RepoPaths.temporaryDirectory("pg-bad")])
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("secret"))
    }
}

final class ResultBox: @unchecked Sendable {
    private var items: [CommandResult?] = []
    private let lock = NSLock()
    func add(_ item: CommandResult?) { lock.lock(); items.append(item); lock.unlock() }
    var all: [CommandResult?] { lock.lock(); defer { lock.unlock() }; return items }
}
