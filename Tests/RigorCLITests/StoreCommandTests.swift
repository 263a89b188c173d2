import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// The store, ledger, replay, record and bundles, through the built `rigor`.
@Suite("Store, replay and bundles")
struct StoreCommandTests {
    func rigor(_ args: [String], state: String) throws -> CommandResult {
        try CommandLineRun.rigor(args + ["--state-dir", state])
    }

    /// Starts a 2-worker batch of `pairs` × seeds 0..199 in the background and returns once it
    /// has written `artifacts` artifact files (or after 10 s), with how many it had. It runs in
    /// a project (`state`) whose rigor.toml asks for plain JSON runs (`runs_json`), so that
    /// files and store can be compared.
    func batchUntil(artifacts: Int, pairs: String, state: String, extra: [String] = []) throws -> (Process, Int) {
        try "[project]\ntasks = [\"\(RepoPaths.tasks)\"]\nruns_json = true\n".write(toFile: "\(state)/rigor.toml", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: RepoPaths.rigorBinary)
        p.arguments = ["batch", "--pairings", "all", "--seeds", "0..199", "--workers", "2", "--isolation", "process",
                       "--pairings-file", pairs, "--state-dir", state, "--json"] + extra
        p.currentDirectoryURL = URL(fileURLWithPath: state)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        var written = 0
        for _ in 0..<200 {
            usleep(50_000)
            written = (try? FileManager.default.contentsOfDirectory(atPath: "\(state)/runs"))?
                .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.count ?? 0
            if written >= artifacts { break }
        }
        return (p, written)
    }

    func runToy(_ state: String, seed: Int = 3, agent: String = "Agents/toy_agent.py", extra: [String] = []) throws -> JSON {
        let r = try rigor(["run", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", String(seed), "--json"] + extra, state: state)
        return try JSON.parse(r.stdout)
    }

    @Test("runs are indexed: list with filters, show, export byte-identical, prefix and latest")
    func runsCommands() throws {
        let state = RepoPaths.temporaryDirectory("rigor-store")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let ok = try runToy(state)
        _ = try runToy(state, agent: "Agents/malformed/unknown_action.py")
        let list = try JSON.parse(try rigor(["runs", "list", "--json"], state: state).stdout).arrayValue ?? []
        #expect(list.count == 2)
        let failed = try JSON.parse(try rigor(["runs", "list", "--json", "--failure-type", "invalid_action"], state: state).stdout).arrayValue ?? []
        #expect(failed.count == 1)
        let id = try #require(ok["run_id"]?.stringValue)
        let show = try rigor(["runs", "show", String(id.prefix(8)), "--trace"], state: state)
        #expect(show.status == 0)
        #expect(show.stdout.contains("list_dir"))
        let e1 = try rigor(["runs", "export", id], state: state)
        let e2 = try rigor(["runs", "export", id], state: state)
        #expect(!e1.stdout.isEmpty && e1.stdout == e2.stdout)
        #expect(try JSON.parse(e1.stdout)["artifact_hash"] == ok["artifact_hash"])
        let latest = try rigor(["runs", "show", "latest", "--json"], state: state)
        #expect(try JSON.parse(latest.stdout)["agent_ref"] == "Agents/malformed/unknown_action.py")
        let missing = try rigor(["runs", "show", "ffffffff"], state: state)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("latest"))
    }

    @Test("TraceCore artifacts import; two replays add no blob; the ledger verifies and exports")
    func importAndLedger() throws {
        let state = RepoPaths.temporaryDirectory("rigor-store")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: RepoPaths.interop)) ?? []).filter { $0.hasSuffix(".json") }.map { "\(RepoPaths.interop)/\($0)" }
        let imported = try rigor(["runs", "import", "--json"] + files, state: state)
        #expect(imported.status == 0, "\(imported.stderr)")
        _ = try runToy(state)
        #expect(try rigor(["replay", "latest"], state: state).status == 0)
        #expect(try rigor(["replay", "latest"], state: state).status == 0)
        let verify = try rigor(["runs", "verify"], state: state)
        #expect(verify.status == 0)
        // 24 imported + 1 run + 2 replays of it, whose stable part is one blob.
        #expect(verify.stdout.contains("27 runs, 25 blobs"), "\(verify.stdout)")
        #expect(try rigor(["ledger", "verify"], state: state).status == 0)
        let export = try rigor(["ledger", "export"], state: state)
        #expect(export.stdout.split(separator: "\n").count == 27)
    }

    @Test("replay reports a changed task before running, and --allow-changed runs it")
    func replayChanged() throws {
        let state = RepoPaths.temporaryDirectory("rigor-store")
        let tasks = RepoPaths.temporaryDirectory("rigor-tasks")
        defer { try? FileManager.default.removeItem(atPath: state); try? FileManager.default.removeItem(atPath: tasks) }
        try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/filesystem_hidden_config", toPath: "\(tasks)/filesystem_hidden_config")
        _ = try runToy(state, extra: ["--tasks-dir", tasks])
        #expect(try rigor(["replay", "latest", "--tasks-dir", tasks], state: state).status == 0)
        try "changed\n".write(toFile: "\(tasks)/filesystem_hidden_config/README.md", atomically: true, encoding: .utf8)
        let changed = try rigor(["replay", "latest", "--tasks-dir", tasks, "--json"], state: state)
        #expect(changed.status == 1)
        let report = try JSON.parse(changed.stdout)
        #expect(report["status"] == "changed")
        #expect(report["changes"]?.arrayValue?.first?.stringValue?.contains("task_hash") == true)
        let forced = try rigor(["replay", "latest", "--tasks-dir", tasks, "--allow-changed", "--json"], state: state)
        #expect(try JSON.parse(forced.stdout)["status"] == "non_deterministic")
    }

    @Test("the nondeterministic agent is caught by replay and refused by --record")
    func nondeterministic() throws {
        let state = RepoPaths.temporaryDirectory("rigor-store")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let agent = "Agents/adversarial/nondeterministic.py"
        let first = try runToy(state, agent: agent)
        #expect(first["success"] == true)
        let replay = try rigor(["replay", "latest", "--json"], state: state)
        #expect(replay.status == 1)
        let report = try JSON.parse(replay.stdout)
        #expect(report["status"] == "non_deterministic")
        #expect(report["divergence"]?["first_divergent_step"] == 1)
        #expect(report["divergence"]?["parts"] == ["action"])
        let record = try rigor(["run", "--record", "--agent", agent, "--task", "filesystem_hidden_config@1", "--seed", "3", "--json"], state: state)
        #expect(record.status == 1)
        #expect(try JSON.parse(record.stdout)["recorded"] == false)
        #expect(!FileManager.default.fileExists(atPath: "\(state)/bundles"))
        // The deterministic toy agent is recorded and sealed.
        let ok = try rigor(["run", "--record", "--agent", "Agents/toy_agent.py", "--task", "filesystem_hidden_config@1", "--seed", "3", "--json"], state: state)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try JSON.parse(ok.stdout)["recorded"] == true)
    }

    @Test("keys generate: the private key is mode 600 from its creation, under any umask, set on the descriptor and never chmod'ed by path",
          arguments: ["022", "377", "077"])
    func privateKeyMode(umask: String) throws {
        let dir = RepoPaths.temporaryDirectory("rigor-keys-mode")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // strace is a test dependency (Makefile SYSTEM_PACKAGES): it shows every chmod the command makes.
        let strace = "/usr/bin/strace"
        try #require(FileManager.default.isExecutableFile(atPath: strace), "strace is needed (apt-get install strace; `make test` installs it)")
        let log = "\(dir)/strace.log"
        // The directory exists already: under umask 377 one made by the command would not be enterable.
        try FileManager.default.createDirectory(atPath: "\(dir)/keys", withIntermediateDirectories: true)
        let r = try CommandLineRun.run("/bin/sh", ["-c", "umask \(umask); exec \(strace) -f -e trace=%file,fchmod -o \(log) "
            + "\(RepoPaths.rigorBinary) keys generate --out \(dir)/keys/k --state-dir \(dir)/state"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let trace = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        let calls = trace.filter { $0.contains("chmod") }
        let created = trace.filter { $0.contains("open") && $0.contains("/.k.key.") }
        #expect(created.count == 1 && created.allSatisfy { $0.contains("O_EXCL") && $0.contains("O_NOFOLLOW") && $0.contains("0600") },
                "the key's temporary file was not created O_EXCL|O_NOFOLLOW, mode 0600: \(created)")
        #expect(!calls.contains { $0.contains("chmod(\"") || $0.contains("chmodat(") }, "a file was chmod'ed by path: \(calls)")
        #expect(calls.contains { $0.contains("fchmod(") && $0.contains("0600") }, "the key's mode was not set on its descriptor: \(calls)")
        var st = stat()
        #expect(lstat("\(dir)/keys/k.key", &st) == 0)
        #expect(st.st_mode & S_IFMT == S_IFREG)
        #expect(st.st_mode & 0o777 == 0o600, "private key mode \(String(st.st_mode & 0o777, radix: 8)) under umask \(umask)")
        // The key works: it is 64 hex characters.
        #expect(try String(contentsOfFile: "\(dir)/keys/k.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines).count == 64)
    }

    @Test("a signed bundle verifies, replays from the bundle alone, and any flipped byte is detected")
    func bundles() throws {
        let state = RepoPaths.temporaryDirectory("rigor-store")
        defer { try? FileManager.default.removeItem(atPath: state) }
        _ = try runToy(state)
        #expect(try rigor(["keys", "generate"], state: state).status == 0)
        let key = "\(state)/keys/rigor-ed25519.key", pub = "\(state)/keys/rigor-ed25519.pub"
        let keyMode = (try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber)?.intValue
        #expect(keyMode == 0o600, "private key mode \(String(keyMode ?? -1, radix: 8))")
        let seal = try rigor(["bundle", "seal", "latest", "--sign", key, "--json"], state: state)
        #expect(seal.status == 0, "\(seal.stderr)")
        let path = try #require(try JSON.parse(seal.stdout)["bundle"]?.stringValue)
        let verified = try CommandLineRun.rigor(["bundle", "verify", path, "--pubkey", pub])
        #expect(verified.status == 0)
        #expect(verified.stdout.contains("signature verified with the given public key"))
        // Without a trusted key, verify says the signature was not checked (it must not look like a full OK).
        let unchecked = try CommandLineRun.rigor(["bundle", "verify", path])
        #expect(unchecked.status == 0)
        #expect(unchecked.stdout.contains("NOT checked"), "\(unchecked.stdout)")
        #expect(try JSON.parse(try CommandLineRun.rigor(["bundle", "verify", path, "--json"]).stdout)["signature"] == "not_checked")
        let replay = try CommandLineRun.rigor(["bundle", "replay", path, "--json"], cwd: NSTemporaryDirectory())
        #expect(replay.status == 0, "\(replay.stdout) \(replay.stderr)")
        #expect(try JSON.parse(replay.stdout)["status"] == "reproduced")
        // Another key is not the signer.
        let other = RepoPaths.temporaryDirectory("rigor-keys")
        defer { try? FileManager.default.removeItem(atPath: other) }
        _ = try CommandLineRun.rigor(["keys", "generate", "--out", "\(other)/k"])
        #expect(try CommandLineRun.rigor(["bundle", "verify", path, "--pubkey", "\(other)/k.pub"]).status == 1)
        // Property: flipping one byte anywhere is detected.
        let original = try #require(FileManager.default.contents(atPath: path))
        var rng = PRNG(taskID: "bundle-flip", seed: 1)
        for _ in 0..<20 {
            var bytes = [UInt8](original)
            let at = rng.below(bytes.count)
            bytes[at] ^= UInt8(1 + rng.below(255))
            let flipped = "\(state)/flipped.rigorbundle"
            try Data(bytes).write(to: URL(fileURLWithPath: flipped))
            let r = try CommandLineRun.rigor(["bundle", "verify", flipped, "--pubkey", pub])
            #expect(r.status == 1, "flip at \(at) went unnoticed")
        }
        #expect(try rigor(["ledger", "list", "--json"], state: state).stdout.contains("bundle_seal"))
    }

    @Test("flipping any byte of an exported artifact is detected by verify")
    func exportedFlip() throws {
        let state = RepoPaths.temporaryDirectory("rigor-store")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let run = try runToy(state)
        let file = "\(state)/export.json"
        #expect(try rigor(["runs", "export", run["run_id"]?.stringValue ?? "", "-o", file], state: state).status == 0)
        let original = try #require(FileManager.default.contents(atPath: file))
        var rng = PRNG(taskID: "export-flip", seed: 2)
        var detected = 0
        for _ in 0..<30 {
            var bytes = [UInt8](original)
            let at = rng.below(bytes.count)
            bytes[at] ^= UInt8(1 + rng.below(255))
            try Data(bytes).write(to: URL(fileURLWithPath: "\(state)/flipped.json"))
            let r = try CommandLineRun.rigor(["verify", "\(state)/flipped.json"])
            // Either the JSON no longer parses (2) or the hash no longer matches (1); a flip in an
            // unhashed field (run_id, timestamps) is the only way to pass, and verify still parses.
            if r.status != 0 { detected += 1 }
        }
        #expect(detected >= 25, "only \(detected) of 30 flips detected")
    }

    @Test("Ctrl-C during a batch keeps every finished episode (file and store agree) and records none the interrupt cut short")
    func interruptDuringBatch() throws {
        let state = RepoPaths.temporaryDirectory("rigor-int")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let pairs = "\(state)/pairs.json"
        // A slow agent (it never answers; the act timeout ends it) so that episodes are in flight
        // at the interrupt. Its own file, so no other test's process checks see it.
        let slow = "\(state)/interrupt_slow_agent.py"
        try "import time\n\nclass Agent:\n    def reset(self, task): pass\n    def observe(self, o): pass\n    def act(self):\n        time.sleep(30)\n"
            .write(toFile: slow, atomically: true, encoding: .utf8)
        try #"[{"name":"swift","agent":"\#(RepoPaths.swiftAgent)","task":"filesystem_hidden_config@1"},{"name":"slow","agent":"\#(slow)","task":"filesystem_hidden_config@1"}]"#
            .write(toFile: pairs, atomically: true, encoding: .utf8)
        let (p, written) = try batchUntil(artifacts: 4, pairs: pairs, state: state, extra: ["--act-timeout", "1"])
        // Busy loops slow the handler's recording down, as a loaded CI machine does: the batch the
        // interrupt cancels must not exit with its own status (1) before the handler exits 130.
        let busy = try (0..<3).map { _ -> Process in
            let b = Process()
            b.executableURL = URL(fileURLWithPath: "/bin/sh")
            b.arguments = ["-c", "while :; do :; done"]
            try b.run()
            return b
        }
        defer { for b in busy { kill(b.processIdentifier, SIGKILL); b.waitUntilExit() } }  // SIGTERM may be ignored here
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 128 + SIGINT)
        #expect(written > 0)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: "\(state)/runs")) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        let list = try JSON.parse(try rigor(["runs", "list", "--json", "--limit", "0"], state: state).stdout).arrayValue ?? []
        #expect(list.count == files.count, "store \(list.count) runs, \(files.count) artifact files")
        #expect(list.count < 400)
        // Nothing the interrupt ended is recorded: the Swift agent's episodes all pass, and the
        // slow agent's end by its own act timeout, never by a kill.
        for run in list {
            if run["agent_ref"]?.stringValue?.hasSuffix("rigor-swift-agent") == true {  // recorded relative to the project root
                #expect(run["success"] == true, "\(run)")
            } else {
                #expect(run["termination_reason"] == "act_timeout" || run["failure_type"] == "timeout", "\(run)")
            }
        }
        #expect(try rigor(["runs", "verify"], state: state).status == 0)
        #expect(try rigor(["ledger", "verify"], state: state).status == 0)
    }

    @Test("SIGKILL during a 200-episode batch leaves a store that opens, intact runs and a verifying ledger")
    func killDuringBatch() throws {
        let state = RepoPaths.temporaryDirectory("rigor-kill")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let pairs = "\(state)/pairs.json"
        try #"[{"name":"swift","agent":"\#(RepoPaths.swiftAgent)","task":"filesystem_hidden_config@1"}]"#
            .write(toFile: pairs, atomically: true, encoding: .utf8)
        // Let some episodes finish, then kill it mid-write.
        let (p, recorded) = try batchUntil(artifacts: 20, pairs: pairs, state: state)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(recorded > 0)
        let verify = try rigor(["runs", "verify"], state: state)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(try rigor(["ledger", "verify"], state: state).status == 0)
        let list = try JSON.parse(try rigor(["runs", "list", "--json", "--limit", "0"], state: state).stdout).arrayValue ?? []
        #expect(list.count > 0 && list.count < 200)
        for run in list.prefix(10) {
            let id = run["run_id"]?.stringValue ?? ""
            let exported = try rigor(["runs", "export", id, "-o", "\(state)/e.json"], state: state)
            #expect(exported.status == 0)
            #expect(try CommandLineRun.rigor(["verify", "--strict-spec", "\(state)/e.json"]).status == 0)
        }
    }
}
