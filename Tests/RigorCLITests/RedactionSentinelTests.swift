import Foundation
import RigorSpec
import RigorStore
import RigorTestSupport
import Testing

/// A hostile agent echoes its secrets in every field it can reach — action arguments, an
/// argument's name, its intent, its evidence, its stderr log, a file it writes through the world
/// and reads back — and a world program logs what it is sent. The secrets are of each kind
/// spec/policy.md §7 scrubs: a declared agent secret (`--secret`), a variable named in the
/// project's `[redaction] secrets`, and an undeclared variable of the runner's environment named
/// `*_API_KEY` (the last two reach the agent as plain `--env` settings). Not one byte of any
/// may reach the store (the SQLite file, raw, and every run's blobs decompressed), the artifact
/// file, a bundle (decompressed), `runs show`, the HTML report or any export (actions,
/// IntentProof, OTLP).
@Suite("Redaction sentinel", .serialized)
struct RedactionSentinelTests {
    static func fresh() -> String { "sntl_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }
    /// The declared agent secret (`--secret SENTINEL_TOKEN`).
    static let secret = fresh()
    /// Named in the project's `[redaction] secrets`, given to the agent as a setting.
    static let projectSecret = fresh()
    /// Undeclared anywhere; scrubbed because of its name (`*_API_KEY`).
    static let apiKey = fresh()
    /// Echoed by the agent but declared in `[redaction] secrets` only after the run was sealed:
    /// the exports must scrub it with the project's redactor as it is when they run.
    static let late = fresh()
    static var sealedSecrets: [String] { [secret, projectSecret, apiKey] }

    static let manifest = """
        id = "echo_world"
        version = 1
        suite = "test"
        description = "write, read and report files"
        [world]
        command = ["world"]
        [budgets]
        steps = 20
        tool_calls = 20
        wall_clock_seconds = 60
        [sandbox]
        filesystem_roots = ["/w"]
        [actions.write_file]
        args = { path = "path", content = "string" }
        [actions.read_file]
        args = { path = "path" }
        [actions.set_output]
        args = { key = "string", value = "string" }
        """

    /// Echoes every request to stderr (its log) and keeps files; never finishes.
    static let world = #"""
        #!/usr/bin/env python3
        import json, sys
        files = {}
        def say(o):
            sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
        for line in sys.stdin:
            m = json.loads(line)
            sys.stderr.write("world got: " + line)
            if m["type"] == "setup":
                say({"type": "ready", "visible_state": {"files_seen": []}}); continue
            a = m["action"]; t = a["type"]; args = a["args"]
            if t == "write_file":
                files[args["path"]] = args["content"]; r = {"ok": True}
            elif t == "read_file":
                r = {"ok": True, "content": files.get(args["path"], "")}
            else:
                r = {"ok": True, "echo": args["value"], "note": "stored " + args["key"]}
            say({"type": "result", "result": r, "io_audit": [{"type": "custom", "op": t, "detail": json.dumps(args)}],
                 "visible_state": {"files_seen": sorted(files)}, "verdict": {"status": "pending", "message": "seen " + json.dumps(args), "payload": {"last": args}},
                 "evidence": [{"name": "echo", "pass": True, "note": json.dumps(args)}]})
        """#

    /// Reads its secrets from the environment and puts them everywhere.
    static let agent = #"""
        import os, sys
        S = "-".join(os.environ[n] for n in ["SENTINEL_TOKEN", "SENTINEL_DB_PASSWORD", "SENTINEL_API_KEY", "SENTINEL_LATE"])

        class Leaky:
            def reset(self, spec):
                self.n = 0
            def observe(self, obs):
                print("log line with " + S, file=sys.stderr)
            def act(self):
                self.n += 1
                ev = [{"name": "leak", "pass": True, "note": "note " + S}]
                if self.n == 1:
                    return {"type": "write_file", "args": {"path": "/w/" + S, "content": "content " + S}, "intent": "intent " + S, "evidence": ev}
                if self.n == 2:
                    return {"type": "read_file", "args": {"path": "/w/" + S}, "intent": S}
                if self.n == 3:
                    return {"type": "set_output", "args": {"key": S, "value": S}, "evidence": ev}
                return {"type": "set_output", "args": {"key": "k", "value": "v", S: S}, "intent": S}
        """#

    /// Fails when any of `secrets` occurs in `bytes`.
    func scan(_ bytes: [UInt8], _ what: String, for secrets: [String] = sealedSecrets) {
        for secret in secrets {
            let needle = Array(secret.utf8)
            guard bytes.count >= needle.count else { continue }
            var found = false
            for i in 0...(bytes.count - needle.count) where bytes[i] == needle[0] {
                if Array(bytes[i..<(i + needle.count)]) == needle { found = true; break }
            }
            #expect(!found, "the secret \(secret == Self.secret ? "SENTINEL_TOKEN" : secret == Self.projectSecret ? "SENTINEL_DB_PASSWORD" : secret == Self.apiKey ? "SENTINEL_API_KEY" : "SENTINEL_LATE") reached \(what)")
        }
    }

    static func projectFile(secrets: [String]) -> String {
        """
        [project]
        format = "rigor-project/1"
        [redaction]
        secrets = [\(secrets.map { "\"\($0)\"" }.joined(separator: ", "))]
        """
    }

    @Test("no byte of a secret reaches the store, artifacts, bundles, reports or exports")
    func sentinel() throws {
        let root = RepoPaths.temporaryDirectory("rigor-sentinel")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let task = "\(root)/Tasks/echo_world"
        try FileManager.default.createDirectory(atPath: task, withIntermediateDirectories: true)
        try Self.manifest.write(toFile: "\(task)/task.toml", atomically: true, encoding: .utf8)
        try Self.world.write(toFile: "\(task)/world", atomically: true, encoding: .utf8)
        chmod("\(task)/world", 0o755)
        try Self.agent.write(toFile: "\(root)/leaky_agent.py", atomically: true, encoding: .utf8)
        try Self.projectFile(secrets: ["SENTINEL_DB_PASSWORD"]).write(toFile: "\(root)/rigor.toml", atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env["SENTINEL_TOKEN"] = Self.secret
        env["SENTINEL_DB_PASSWORD"] = Self.projectSecret
        env["SENTINEL_API_KEY"] = Self.apiKey
        env["SENTINEL_LATE"] = Self.late
        let state = "\(root)/state"
        let common = ["--sdk-dir", "\(RepoPaths.root)/Agents/sdk", "--state-dir", state]
        func rigor(_ args: [String]) throws -> CommandResult { try CommandLineRun.rigor(args + common, cwd: root, environment: env) }
        let out = "\(root)/run.json"
        let run = try rigor(["run", "--agent", "\(root)/leaky_agent.py", "--task", "echo_world@1", "--secret", "SENTINEL_TOKEN",
                             "--env", "SENTINEL_DB_PASSWORD=\(Self.projectSecret)", "--env", "SENTINEL_API_KEY=\(Self.apiKey)",
                             "--env", "SENTINEL_LATE=\(Self.late)", "--out", out])
        #expect(run.status == 1, "\(run.stdout) \(run.stderr)")
        scan(Array((run.stdout + run.stderr).utf8), "rigor run's report")
        let artifact = try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
        // The agent did reach every field: each holds a placeholder instead (SENTINEL_LATE, not
        // declared yet, went through as it was).
        let text = String(decoding: try artifact.canonicalBytes(), as: UTF8.self)
        let placeholders = "[REDACTED:SENTINEL_TOKEN]-[REDACTED:SENTINEL_DB_PASSWORD]-[REDACTED:SENTINEL_API_KEY]-\(Self.late)"
        #expect(text.contains(placeholders), "\(text.prefix(2000))")
        #expect(artifact["termination_reason"] == "invalid_arguments")
        #expect(artifact["diagnostics"]?["agent"]?["stderr_tail"]?.stringValue?.contains("log line with \(placeholders)") == true)
        #expect(artifact["diagnostics"]?["world"]?["stderr_tail"]?.stringValue?.contains("[REDACTED:SENTINEL_TOKEN]") == true)
        #expect(artifact["action_trace"]?.arrayValue?[1]["result"]?["content"] == .string("content \(placeholders)"))
        let verify = try CommandLineRun.rigor(["verify", out])
        #expect(verify.status == 0, "the hash covers the redacted form: \(verify.stdout)")

        // Everything else that can be made of the run.
        let bundle = "\(root)/run.rigorbundle"
        var outputs: [(String, CommandResult)] = []
        for args in [["runs", "show", "latest", "--trace"], ["runs", "show", "latest", "--json"], ["runs", "export", "latest"],
                     ["export", "actions", "latest"], ["export", "intentproof", "latest", "--out", "\(root)/events.jsonl"],
                     ["export", "otlp", "latest", "--out", "\(root)/otlp.json"], ["report", "latest", "--out", "\(root)/report.html"],
                     ["bundle", "seal", "latest", "--output", bundle], ["runs", "list"], ["ledger", "verify"]] {
            outputs.append((args.joined(separator: " "), try rigor(args)))
        }
        for (what, r) in outputs {
            #expect(r.status == 0, "\(what): \(r.stderr)")
            scan(Array((r.stdout + r.stderr).utf8), what)
        }
        // Every file Rigor wrote, raw, and the bundle decompressed.
        let written = ["events.jsonl", "otlp.json", "report.html", "run.json", "run.rigorbundle"]
        for name in written { #expect(FileManager.default.fileExists(atPath: "\(root)/\(name)"), "\(name) was not written") }
        let walker = FileManager.default.enumerator(atPath: root)
        var files = 0
        while let rel = walker?.nextObject() as? String {
            let path = "\(root)/\(rel)"
            if rel.hasPrefix("Tasks") || rel == "leaky_agent.py" || rel == "rigor.toml" { continue }
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            files += 1
            scan([UInt8](data), rel)
        }
        #expect(files >= 6)

        // SENTINEL_LATE is declared now: every export scrubs it with the project's redactor as
        // it is today, from the sealed run and from an artifact file alike.
        try Self.projectFile(secrets: ["SENTINEL_DB_PASSWORD", "SENTINEL_LATE"]).write(toFile: "\(root)/rigor.toml", atomically: true, encoding: .utf8)
        for args in [["export", "actions", "latest"], ["export", "actions", out], ["export", "intentproof", "latest", "--out", "\(root)/late.jsonl"],
                     ["export", "intentproof", out, "--out", "\(root)/late-file.jsonl"], ["export", "otlp", "latest"]] {
            let r = try rigor(args)
            #expect(r.status == 0, "\(args.joined(separator: " ")): \(r.stderr)")
            scan(Array((r.stdout + r.stderr).utf8), args.joined(separator: " "), for: Self.sealedSecrets + [Self.late])
            #expect(r.stdout.contains("[REDACTED:SENTINEL_LATE]") || args.contains("--out"), "\(args.joined(separator: " ")): \(r.stdout.prefix(500))")
        }
        for name in ["late.jsonl", "late-file.jsonl"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(name)")))
            scan(bytes, name, for: Self.sealedSecrets + [Self.late])
            #expect(String(decoding: bytes, as: UTF8.self).contains("[REDACTED:SENTINEL_LATE]"), "\(name)")
        }
        let packed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: bundle)))
        scan(try Compression.decompress(packed, what: "bundle"), "the bundle, decompressed")
        // The store's blobs, decompressed, through the store itself.
        let store = try RunStore.openForReading(directory: state)
        for run in try store.runs(limit: 100) {
            scan(try store.artifact(run.runID).canonicalBytes(), "the stored run \(run.runID), decompressed")
        }
        #expect(try store.verifyBlobs().isEmpty)
    }
}
