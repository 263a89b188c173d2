import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// The memory limit bounds the episode as a whole where the machine gives Rigor a cgroup: four
/// children each under the per-process limit cannot together hold four times it
/// (spec/guard.md "What every level does").
@Suite("Memory of an episode's processes together", .serialized)
struct EpisodeMemoryTests {
    /// Whether this machine gives episodes a cgroup: what `rigor run` says in diagnostics.
    static func cgroupUsed(_ artifact: JSON) -> Bool { artifact["diagnostics"]?["cgroup"]?["used"] == true }

    /// filesystem_hidden_config with a 1 GiB address-space limit, in a tasks directory of its own.
    func task(in dir: String) throws -> String {
        let tasks = "\(dir)/tasks"
        try FileManager.default.createDirectory(atPath: tasks, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/filesystem_hidden_config", toPath: "\(tasks)/filesystem_hidden_config")
        let manifest = "\(tasks)/filesystem_hidden_config/task.toml"
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        try (text + "\n[limits]\naddress_space_mb = 1024\n").write(toFile: manifest, atomically: true, encoding: .utf8)
        return tasks
    }

    @Test("four children of 600 MiB under a 1 GiB limit: killed by the episode's bound, the episode still ends with a valid artifact",
          arguments: ["process", "fork", "namespace"])
    func fanOut(level: String) throws {
        if level == "namespace" && !Facility.bwrapWorks { #expect(Facility.mayLack("bwrap namespaces (the namespace level)")); return }
        let dir = RepoPaths.temporaryDirectory("rigor-episode-memory")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tasks = try task(in: dir)
        let out = "\(dir)/artifact.json"
        let r = try CommandLineRun.rigor(
            ["run", "--agent", "Agents/adversarial/memory_fanout.py", "--task", "filesystem_hidden_config@1", "--seed", "1",
             "--isolation", level == "fork" ? "process" : level, "--act-timeout", "60", "--tasks-dir", tasks, "--out", out,
             "--state-dir", "\(dir)/state"] + (level == "fork" ? ["--fork-server"] : []))
        let artifact = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out), "no artifact: \(r.stderr)")))
        #expect(SpecCheck.check(artifact).isEmpty, "\(SpecCheck.check(artifact))")
        #expect(artifact["sandbox"]?["limits"]?["address_space_bytes"] == .int(1 << 30))
        let cgroup = artifact["diagnostics"]?["cgroup"]
        if cgroup?["used"] != true {
            // No episode cgroup (not root, no memory controller): the limit is per process, and
            // rigor run must say so plainly (spec/guard.md); the fan-out bound is not testable.
            #expect(r.stdout.contains("per process only, not for the episode as a whole"), "\(r.stdout)")
            #expect(Facility.mayLack("an episode cgroup (\(cgroup?["reason"]?.stringValue ?? "no reason given"))"))
            return
        }
        #expect(cgroup?["memory_max_bytes"] == .int(1 << 30))
        let trace = artifact["action_trace"]?.arrayValue ?? []
        func output(_ key: String) -> Int? {
            trace.first { $0["action"]?["args"]?["key"]?.stringValue == key }?["action"]?["args"]?["value"]?.stringValue.flatMap { Int($0) }
        }
        #expect((output("KILLED") ?? 0) >= 2, "KILLED \(output("KILLED").map(String.init) ?? "nil"), SURVIVED \(output("SURVIVED").map(String.init) ?? "nil"): \(artifact["failure_reason"] ?? .null)")
        #expect((cgroup?["oom_kills"]?.intValue ?? 0) >= 2, "\(cgroup ?? .null)")
        #expect(artifact["failure_type"] == "budget_exhausted", "\(artifact["termination_reason"] ?? .null): \(artifact["failure_reason"] ?? .null)")
        #expect(ProcessTable.pids(commandLineContaining: "memory_fanout.py").isEmpty)
    }
}
