// `make bench`: "a diff of two 10,000-step artifacts answers in under a second".
//
// Two synthetic Rigor-shaped artifacts of 10,000 steps each (list_dir / read_file over a
// growing files_seen, the same on both sides until step 9,000, where B reads another file) are
// written as Rigor writes artifacts (pretty JSON), then timed the way `rigor diff A B` spends
// its time: read and parse both files, diff, render the text report. This file only declares
// things: main.swift calls `runDiffBench()`.
import Foundation
import RigorRunner
import RigorSpec

/// Builds the synthetic artifacts.
enum DiffBenchArtifacts {
    static let steps = 10_000
    static let divergentStep = 9_000

    /// A Rigor-shaped artifact whose trace differs from the `variant` 0 one from `divergeAt` on.
    static func make(variant: Int, divergeAt: Int) -> JSON {
        var trace: [JSON] = []
        trace.reserveCapacity(steps)
        var filesSeen: [JSON] = []
        var lastAction: JSON = .null, lastResult: JSON = .null
        for step in 1...steps {
            let drift = variant != 0 && step >= divergeAt
            let listing = step % 2 == 1
            let path = listing ? "/app/dir_\(step % 97)" : "/app/dir_\((step - 1) % 97)/file_\(drift ? "b" : "a")_\(step % 13).txt"
            let action: JSON = ["type": .string(listing ? "list_dir" : "read_file"), "args": ["path": .string(path)]]
            let result: JSON = listing
                ? ["ok": true, "files": .array((0..<3).map { .string("/app/dir_\(step % 97)/file_a_\($0).txt") })]
                : ["ok": true, "content": .string("line \(step) of the log\nstatus=\(drift ? "degraded" : "ok")")]
            let observation: JSON = [
                "step": .int(step),
                "task": ["id": "filesystem_hidden_config", "description": "Extract the value of API_KEY from the filesystem under /app."],
                "last_action": lastAction, "last_action_result": lastResult,
                "visible_state": ["files_seen": .array(Array(filesSeen.suffix(8)))],
                "budget_remaining": ["steps": .int(steps - step + 1), "tool_calls": .int(steps - step + 1)],
            ]
            trace.append([
                "step": .int(step), "action_ts": "2026-11-22T05:27:36.252361+00:00",
                "observation": observation, "action": action, "result": result,
                "io_audit": [["type": "fs", "op": .string(listing ? "list_dir" : "read_file"), "path": .string(path), "verdict": "allowed"]],
                "budget_after_step": ["steps": .int(steps - step), "tool_calls": .int(steps - step)],
                "budget_delta": ["steps": 1, "tool_calls": 1],
            ])
            if listing { filesSeen.append(.string(path)) }
            lastAction = action
            lastResult = result
        }
        let runID = variant == 0 ? "00000000000000000000000000000000" : "11111111111111111111111111111111"
        return [
            "spec_version": "tracecore-spec-v1.0",
            "runtime_identity": ["name": "rigor", "version": "0.1.0", "git_sha": .null],
            "run_id": .string(runID), "trace_id": .string(runID),
            "agent_ref": "Agents/toy_agent.py", "agent_hash": "sha256:0000", "task_ref": "filesystem_hidden_config@1",
            "task_hash": "sha256:1111", "seed": 7,
            "budgets": ["steps": .int(steps), "tool_calls": .int(steps), "wall_clock_seconds": 3600],
            "success": .bool(variant == 0), "termination_reason": .string(variant == 0 ? "success" : "logic_failure"),
            "failure_type": variant == 0 ? .null : "logic_failure", "failure_reason": .null,
            "steps_used": .int(steps), "tool_calls_used": .int(steps),
            "started_at": "2026-11-22T05:27:36.202011+00:00", "completed_at": "2026-11-22T05:27:46.202011+00:00",
            "wall_clock_elapsed_s": 10.0, "harness_version": "0.1.0",
            "artifact_hash": .string("sha256:\(variant)"), "validator": ["ok": .bool(variant == 0), "message": "synthetic"],
            "action_trace": .array(trace),
        ]
    }
}

/// Times parse + diff + text render of two 10,000-step artifacts that part at step 9,000 and
/// prints a one-row Markdown table (best of 5 runs).
func runDiffBench() {
    let dir = NSTemporaryDirectory() + "rigor-diff-bench-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let pathA = "\(dir)/a.json", pathB = "\(dir)/b.json"
    var bytesOnDisk = 0
    for (variant, path) in [(0, pathA), (1, pathB)] {
        let artifact = DiffBenchArtifacts.make(variant: variant, divergeAt: DiffBenchArtifacts.divergentStep)
        guard let bytes = try? artifact.prettyBytes(),
              FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            print("rigor-bench: cannot write the synthetic artifact \(path)")
            return
        }
        bytesOnDisk += bytes.count
    }

    var best = (parse: UInt64.max, diff: UInt64.max, render: UInt64.max, total: UInt64.max)
    var found: Int? = nil
    for _ in 0..<5 {
        let t0 = MonotonicClock.nanoseconds()
        guard let a = try? ArtifactLocator.readJSON(pathA, expecting: "an artifact"),
              let b = try? ArtifactLocator.readJSON(pathB, expecting: "an artifact") else {
            print("rigor-bench: cannot read the synthetic artifacts back")
            return
        }
        let t1 = MonotonicClock.nanoseconds()
        let diff = ArtifactDiff(a, b, labelA: pathA, labelB: pathB)
        let t2 = MonotonicClock.nanoseconds()
        let text = diff.text(width: 120, colour: false)
        let t3 = MonotonicClock.nanoseconds()
        precondition(!text.isEmpty)
        found = diff.divergence?.firstStep
        best = (min(best.parse, t1 - t0), min(best.diff, t2 - t1), min(best.render, t3 - t2), min(best.total, t3 - t0))
    }
    func ms(_ n: UInt64) -> String { String(format: "%.1f ms", Double(n) / 1e6) }
    print("")
    print("Diff of two \(DiffBenchArtifacts.steps)-step artifacts (read + parse both, diff, text render; best of 5)")
    print("")
    print("| artifacts | on disk | first divergent step | parse both | diff | text render | total | under 1 s |")
    print("|-----------|---------|----------------------|------------|------|-------------|-------|-----------|")
    print("| 2 × \(DiffBenchArtifacts.steps) steps | \(String(format: "%.1f MB", Double(bytesOnDisk) / 1_048_576)) | \(found.map(String.init) ?? "none") (expected \(DiffBenchArtifacts.divergentStep)) | \(ms(best.parse)) | \(ms(best.diff)) | \(ms(best.render)) | \(ms(best.total)) | \(best.total < 1_000_000_000 ? "yes" : "NO") |")
}
