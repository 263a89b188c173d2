import Foundation
@testable import RigorStore
import RigorSpec
import RigorTestSupport

/// Artifacts and stores for the store tests: TraceCore's real artifacts, Rigor-shaped synthetic
/// ones, fresh stores in temporary directories, and raw SQL for tampering.
enum Fixtures {
    static var interopFileNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: RepoPaths.interop)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
    }

    static func interopBytes(_ name: String) throws -> [UInt8] {
        let path = "\(RepoPaths.interop)/\(name)"
        guard let data = FileManager.default.contents(atPath: path) else { throw FixtureError("cannot read \(path)") }
        return [UInt8](data)
    }

    static func interopArtifact(_ name: String) throws -> JSON {
        try JSON.parse(try interopBytes(name))
    }

    /// A 32-hex-digit run id derived from a label (the shape of Rigor's and TraceCore's ids).
    static func runID(_ label: String) -> String {
        String(Digest.sha256Hex(Array("run|\(label)".utf8)).prefix(32))
    }

    /// A sealed Rigor artifact built with RigorSpec's own `Artifact`, with real timestamps, so two
    /// calls with the same arguments but another `runID` differ exactly in the volatile fields.
    static func rigorArtifact(
        runID: String, seed: Int = 7, agent: String = "agents/toy_agent.py", task: String = "filesystem_hidden_config",
        termination: TerminationReason = .success, steps: Int = 3, diagnostics: JSON = ["host": "test"]
    ) throws -> JSON {
        let started = Timestamp.now()
        let trace = (1...max(1, steps)).map { i in
            TraceStep(
                step: i, actionTimestamp: Timestamp.now(),
                observation: ["step": .int(i), "visible_state": ["files_seen": ["/app/README.md"]]],
                action: ["type": "read_file", "args": ["path": .string("/app/file_\(i).txt")]],
                result: ["ok": true, "content": .string("line \(i) for seed \(seed)")],
                ioAudit: [["type": "fs", "op": "read_file", "path": .string("/app/file_\(i).txt")]],
                budgetAfter: BudgetCounts(steps: 50 - i, toolCalls: 20 - i), budgetDelta: BudgetCounts(steps: 1, toolCalls: 1),
                intent: nil)
        }
        let artifact = Artifact(
            runID: runID, agentRef: agent, agentHash: Digest.sha256(Array(agent.utf8)), taskID: task, taskVersion: 1,
            taskHash: Digest.sha256(Array(task.utf8)), seed: seed, budgets: Budgets(steps: 50, toolCalls: 20, wallClockSeconds: 60),
            termination: termination, failureReason: termination == .success ? nil : "ended: \(termination.rawValue)",
            trace: trace, toolCallsUsed: trace.count,
            validator: ValidatorVerdict(success: termination == .success, message: "checked", terminal: true, step: trace.count),
            startedAt: started, completedAt: Timestamp.now(), sandbox: ["filesystem_roots": ["/app"], "network_hosts": []],
            diagnostics: diagnostics, gitSHA: nil)
        return try artifact.sealed()
    }

    /// A small Rigor-shaped artifact built directly as JSON (fast enough for ten thousand).
    static func smallArtifact(index: Int) throws -> JSON {
        var members: [String: JSON] = [
            "spec_version": "tracecore-spec-v1.0",
            "runtime_identity": ["name": "rigor", "version": "0.1.0", "git_sha": nil],
            "run_id": .string(runID("small-\(index)")), "trace_id": .string(runID("small-\(index)")),
            "agent_ref": .string("agents/agent_\(index % 7).py"), "agent_hash": "sha256:00",
            "task_id": "t", "task_ref": .string("task_\(index % 5)@1"), "task_hash": "sha256:11",
            "seed": .int(index), "budgets": ["steps": 10, "tool_calls": 10],
            "success": .bool(index % 3 != 0), "termination_reason": .string(index % 3 != 0 ? "success" : "steps_exhausted"),
            "failure_type": index % 3 != 0 ? .null : "budget_exhausted", "failure_reason": nil,
            "steps_used": 1, "tool_calls_used": 1,
            "started_at": "2026-01-01T00:00:00.000000+00:00", "completed_at": "2026-01-01T00:00:01.000000+00:00",
            "wall_clock_elapsed_s": 1.0,
            "action_trace": [["step": 1, "action_ts": "2026-01-01T00:00:00.500000+00:00", "action": ["type": "noop"]]],
            "diagnostics": [:],
        ]
        members["artifact_hash"] = .string(try HashRecipe.rigor.hash(.object(members)))
        return .object(members)
    }

    /// A fresh, empty store in its own temporary directory.
    static func store(_ label: String = "store") throws -> (store: RunStore, directory: String) {
        let directory = RepoPaths.temporaryDirectory("rigor-store-\(label)") + "/.rigor"
        return (try RunStore.open(directory: directory, create: true), directory)
    }

    /// `artifact` with one top-level member replaced.
    static func setting(_ key: String, to value: JSON, in artifact: JSON) -> JSON {
        guard case .object(var members) = artifact else { return artifact }
        members[key] = value
        return .object(members)
    }

    /// Whether a JSON value holds a double with an integral value anywhere (JCS writes it as an
    /// integer, so it reads back as `.int`).
    static func holdsIntegralDouble(_ value: JSON) -> Bool {
        switch value {
        case .double(let d): return d == d.rounded(.towardZero)
        case .array(let a): return a.contains(where: holdsIntegralDouble)
        case .object(let o): return o.values.contains(where: holdsIntegralDouble)
        default: return false
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension RunStore {
    /// Raw SQL on the store's own connection, for tests that tamper with the file.
    func raw(_ sql: String, _ arguments: [SQLValue] = []) throws {
        try withConnection { (c) throws(StoreError) in try c.run(sql, arguments) }
    }

    func rawBytes(_ sql: String, _ arguments: [SQLValue] = []) throws -> [UInt8]? {
        try withConnection { (c) throws(StoreError) in try c.first(sql, arguments) { $0.bytes(0) } }
    }

    func rawInt(_ sql: String, _ arguments: [SQLValue] = []) throws -> Int? {
        try withConnection { (c) throws(StoreError) in try c.first(sql, arguments) { $0.int(0) } ?? nil }
    }

    func rawText(_ sql: String, _ arguments: [SQLValue] = []) throws -> String? {
        try withConnection { (c) throws(StoreError) in try c.first(sql, arguments) { $0.text(0) } ?? nil }
    }
}

/// Collects values from several threads.
final class Collector<T>: @unchecked Sendable {
    private var items: [T] = []
    private let lock = NSLock()
    func add(_ item: T) { lock.lock(); items.append(item); lock.unlock() }
    var all: [T] { lock.lock(); defer { lock.unlock() }; return items }
}
