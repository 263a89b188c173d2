import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// The tasks whose worlds are programs — `service_port_lookup` (Python, the task SDK) and
/// `guess_the_number` (bash) — go through everything a built-in task does: run, validate,
/// batch, replay, bundle seal/verify/replay; and their worlds are keyed.
@Suite("World program tasks", .serialized)
struct WorldProgramTaskTests {
    static let cases: [(pairing: String, agent: String, task: String)] = [
        ("port_lookup", "Agents/port_lookup_agent.py", "service_port_lookup@1"),
        ("number_guess", "Agents/number_guess_agent.py", "guess_the_number@1"),
    ]

    @Test("run, replay, bundle seal, verify and replay", arguments: [0, 1])
    func lifecycle(index: Int) throws {
        let c = Self.cases[index]
        let state = RepoPaths.temporaryDirectory("rigor-world-task")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let run = try CommandLineRun.rigor(["run", "--agent", c.agent, "--task", c.task, "--seed", "2", "--state-dir", state, "--json"])
        #expect(run.status == 0, "\(c.task): \(run.stderr)")
        let replay = try CommandLineRun.rigor(["replay", "latest", "--state-dir", state])
        #expect(replay.status == 0 && replay.stdout.contains("reproduced"), "\(c.task): \(replay.stdout) \(replay.stderr)")
        let bundle = "\(state)/episode.rigorbundle"
        let seal = try CommandLineRun.rigor(["bundle", "seal", "latest", "--output", bundle, "--state-dir", state])
        #expect(seal.status == 0, "\(c.task): \(seal.stderr)")
        let verify = try CommandLineRun.rigor(["bundle", "verify", bundle])
        #expect(verify.status == 0, "\(c.task): \(verify.stdout) \(verify.stderr)")
        // From the bundle alone, in an empty directory elsewhere.
        let elsewhere = RepoPaths.temporaryDirectory("rigor-world-task-elsewhere")
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let bundleReplay = try CommandLineRun.rigor(["bundle", "replay", bundle, "--json"], cwd: elsewhere)
        #expect(bundleReplay.status == 0, "\(c.task): \(bundleReplay.stdout) \(bundleReplay.stderr)")
        #expect(try JSON.parse(bundleReplay.stdout)["status"] == "reproduced", "\(bundleReplay.stdout)")
    }

    @Test("batch and tasks validate (reference agents pass, do-nothing fails)")
    func batchAndValidate() throws {
        let state = RepoPaths.temporaryDirectory("rigor-world-task")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let batch = try CommandLineRun.rigor(["batch", "--pairings", "port_lookup,number_guess", "--seeds", "0..3", "--json", "--state-dir", state])
        #expect(batch.status == 0, "\(batch.stdout) \(batch.stderr)")
        let validate = try CommandLineRun.rigor(["tasks", "validate", "--tasks", "service_port_lookup@1,guess_the_number@1",
                                                 "--seeds", "0..5", "--null-seeds", "0..2", "--state-dir", state])
        #expect(validate.status == 0, "\(validate.stdout) \(validate.stderr)")
        #expect(validate.stdout.components(separatedBy: "OK").count == 3, "\(validate.stdout)")
    }

    @Test("Program worlds are keyed: another world key, another world; the same key, the same artifact")
    func keyed() throws {
        let state = RepoPaths.temporaryDirectory("rigor-world-task")
        defer { try? FileManager.default.removeItem(atPath: state) }
        func port(_ key: String) throws -> String? {
            var env = ProcessInfo.processInfo.environment
            env["RIGOR_WORLD_KEY"] = key
            let out = "\(state)/\(key.prefix(4)).json"
            let r = try CommandLineRun.rigor(["run", "--agent", "Agents/port_lookup_agent.py", "--task", "service_port_lookup@1", "--seed", "7",
                                              "--out", out, "--state-dir", state], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
            let a = try JSON.parse([UInt8](try #require(FileManager.default.contents(atPath: out))))
            return a["action_trace"]?.arrayValue?.last?["action"]?["args"]?["value"]?.stringValue
        }
        let a = try port(String(repeating: "1", count: 64)), b = try port(String(repeating: "2", count: 64))
        #expect(a != nil && a != b, "the seed alone decided the world: \(a ?? "nil") / \(b ?? "nil")")
        #expect(try port(String(repeating: "1", count: 64)) == a)
    }
}
