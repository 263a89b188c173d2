import Foundation
import RigorSpec
import RigorTestSupport
import Testing

/// `rigor merge` refusing what is not exactly the shards of one batch, and hostile shard
/// results: missing, another task version, another world key, duplicates, tampered or forged
/// stores, garbage files. Small matrices (2 pairings × 6 seeds in 3 shards): seconds.
@Suite("rigor merge refusals")
struct ShardMergeTests {
    let dir = RepoPaths.temporaryDirectory("rigor-merge")
    static let pairings = "toy_filesystem,rate_limit_api"

    @discardableResult
    func shard(_ i: Int, of n: Int, _ name: String? = nil, extra: [String] = [], env: [String: String] = [:]) throws -> String {
        let state = "\(dir)/\(name ?? "s\(i)")"
        let r = try CommandLineRun.rigor(["batch", "--pairings", Self.pairings, "--seeds", "0..5", "--shard", "\(i)/\(n)", "--quiet",
                                          "--state-dir", state] + extra, environment: ShardMatrix.environment(env))
        #expect(r.status == 0, "\(r.stderr)")
        return state
    }

    func merge(_ shards: [String], into: String = "merged", _ extra: [String] = []) throws -> CommandResult {
        try CommandLineRun.rigor(["merge"] + shards + ["--into", "\(dir)/\(into)"] + extra)
    }

    func expectRefused(_ r: CommandResult, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        for f in fragments { #expect(r.stderr.contains(f), "'\(f)' not in: \(r.stderr)", sourceLocation: sourceLocation) }
        #expect(!r.signalled, sourceLocation: sourceLocation)
    }

    func python(_ script: String, _ args: [String]) throws {
        let r = try CommandLineRun.run("/usr/bin/python3", ["-c", script] + args)
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test("a missing shard is refused by name; --allow-partial merges and says what is missing")
    func missing() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s1 = try shard(1, of: 3), s3 = try shard(3, of: 3)
        expectRefused(try merge([s1, s3]), "shard 2/3 of 3 is missing", "(4 of 12 episodes)", "--allow-partial")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/merged/rigor.db"))
        let partial = try merge([s1, s3], ["--allow-partial", "--json"])
        #expect(partial.status == 0, "\(partial.stderr)")
        let j = try JSON.parse(partial.stdout)
        #expect(j["merge"]?["missing_shards"] == ["2/3"])
        #expect(j["merge"]?["missing_cells"] == 4)
        #expect(j["total"] == 8)
        let human = try merge([s1, s3], into: "merged2", ["--allow-partial"])
        #expect(human.stdout.contains("missing: shard 2/3 (4 of 12 episodes)"))
    }

    @Test("a shard run with another version of a task is refused, naming the shard and the task versions")
    func otherTaskVersion() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A copy of the tasks where filesystem_hidden_config is version 2, and pairings that use it.
        let tasks = "\(dir)/tasks"
        for task in ["filesystem_hidden_config", "rate_limited_api"] {
            try FileManager.default.copyItem(atPath: "\(RepoPaths.tasks)/\(task)", toPath: "\(tasks)/\(task)")
        }
        let manifest = "\(tasks)/filesystem_hidden_config/task.toml"
        let text = try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: "version = 1", with: "version = 2")
        try text.write(toFile: manifest, atomically: true, encoding: .utf8)
        let pairingsFile = "\(dir)/pairings.json"
        try #"[{"name": "toy_filesystem", "agent": "Agents/toy_agent.py", "task": "filesystem_hidden_config@2"}, {"name": "rate_limit_api", "agent": "Agents/rate_limit_agent.py", "task": "rate_limited_api@1"}]"#
            .write(toFile: pairingsFile, atomically: true, encoding: .utf8)
        let s1 = try shard(1, of: 3), s3 = try shard(3, of: 3)
        let s2 = try shard(2, of: 3, extra: ["--tasks-dir", tasks, "--pairings-file", pairingsFile])
        expectRefused(try merge([s1, s2, s3]), "shard 2/3 ('\(s2)') ran a different batch",
                      "task filesystem_hidden_config@2 in 2/3, filesystem_hidden_config@1 in 1/3")
    }

    @Test("shards built under different world keys are refused: the key's id differs")
    func otherWorldKey() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s1 = try shard(1, of: 2), s2 = try shard(2, of: 2, env: ["RIGOR_WORLD_KEY": String(repeating: "5a", count: 32)])
        expectRefused(try merge([s1, s2]), "ran a different batch", "world key", "RIGOR_WORLD_KEY")
    }

    @Test("the same shard twice, the same path twice, or shard counts that disagree are refused")
    func duplicates() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s1 = try shard(1, of: 2), s2 = try shard(2, of: 2)
        try FileManager.default.copyItem(atPath: s2, toPath: "\(dir)/copy")
        expectRefused(try merge([s1, s2, "\(dir)/copy"]), "shard 2/2 appears twice", s2, "\(dir)/copy")
        expectRefused(try merge([s1, s2, s1]), "is given twice")
        let other = try shard(3, of: 3, "three")
        expectRefused(try merge([s1, s2, other]), "shard 3/3 ('\(other)') splits the batch into 3 shards")
        expectRefused(try merge([s1, s2], into: "s1"), "is the merge target")
    }

    @Test("merging the same shards into the same store twice is refused; the store stays as it was")
    func twice() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s1 = try shard(1, of: 2), s2 = try shard(2, of: 2)
        #expect(try merge([s1, s2]).status == 0)
        let before = try CommandLineRun.rigor(["ledger", "verify", "--json", "--state-dir", "\(dir)/merged"]).stdout
        expectRefused(try merge([s1, s2]), "is already merged into")
        #expect(try CommandLineRun.rigor(["ledger", "verify", "--json", "--state-dir", "\(dir)/merged"]).stdout == before)
    }

    @Test("garbage instead of a shard: a random file, a rigor.db of random bytes, an empty or missing directory, a store that is no shard")
    func garbage() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s1 = try shard(1, of: 1)
        var prng = PRNG(material: Array("merge-garbage".utf8))
        let junk = (0..<8192).map { _ in UInt8(prng.below(256)) }
        try Data(junk).write(to: URL(fileURLWithPath: "\(dir)/junk.bin"))
        try FileManager.default.createDirectory(atPath: "\(dir)/junkdb", withIntermediateDirectories: true)
        try Data(junk).write(to: URL(fileURLWithPath: "\(dir)/junkdb/rigor.db"))
        try FileManager.default.createDirectory(atPath: "\(dir)/empty", withIntermediateDirectories: true)
        let plain = try CommandLineRun.rigor(["batch", "--pairings", "toy_filesystem", "--seeds", "0..1", "--quiet", "--state-dir", "\(dir)/plain"])
        #expect(plain.status == 0)
        expectRefused(try merge([s1, "\(dir)/junk.bin"]), "shard '\(dir)/junk.bin': is a file")
        expectRefused(try merge([s1, "\(dir)/junkdb"]), "shard '\(dir)/junkdb'", "not a Rigor run store")
        expectRefused(try merge([s1, "\(dir)/junkdb/rigor.db"]), "shard '\(dir)/junkdb/rigor.db'", "not a Rigor run store")
        expectRefused(try merge([s1, "\(dir)/empty"]), "shard '\(dir)/empty'", "no run store")
        expectRefused(try merge([s1, "\(dir)/nowhere"]), "shard '\(dir)/nowhere': no such file")
        expectRefused(try merge([s1, "\(dir)/plain"]), "holds no finished shard")
        expectRefused(try merge([]), "name the shard results")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/merged/rigor.db"))
    }

    @Test("a tampered shard store (a flipped byte in a stored run) is refused, naming the shard")
    func tamperedBlob() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s1 = try shard(1, of: 2), s2 = try shard(2, of: 2)
        try python("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1] + "/rigor.db")
            rowid, data = db.execute("SELECT id, data FROM blobs ORDER BY id LIMIT 1").fetchone()
            data = bytearray(data); data[len(data) // 2] ^= 0x40
            db.execute("UPDATE blobs SET data = ? WHERE id = ?", (bytes(data), rowid)); db.commit()
            """, [s2])
        expectRefused(try merge([s1, s2]), "shard '\(s2)'", "stored run problem", "run that shard again")
    }

    @Test("a shard whose ledger was edited is refused; one forged and re-chained is refused by its cells")
    func forgedLedger() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s1 = try shard(1, of: 2), s2 = try shard(2, of: 2)
        try FileManager.default.copyItem(atPath: s2, toPath: "\(dir)/rechained")
        // Edited in place: the chain breaks at the shard entry.
        try python("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1] + "/rigor.db")
            db.execute("DROP TRIGGER ledger_no_update")
            db.execute("UPDATE ledger SET payload = replace(payload, '\\"seed\\":1}', '\\"seed\\":3}') WHERE kind = 'batch_shard'"); db.commit()
            """, [s2])
        expectRefused(try merge([s1, s2]), "shard '\(s2)'", "its ledger does not verify")
        // Forged by someone who re-hashes the chain: one run dropped from the shard's entry.
        try python("""
            import sqlite3, sys, json, hashlib
            db = sqlite3.connect(sys.argv[1] + "/rigor.db")
            db.execute("DROP TRIGGER ledger_no_update")
            rows = db.execute("SELECT seq, kind, payload FROM ledger ORDER BY seq").fetchall()
            prev = "0" * 64
            for seq, kind, payload in rows:
                if kind == "batch_shard":
                    p = json.loads(payload); p["runs"] = p["runs"][1:]
                    payload = json.dumps(p, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                line = '{"kind":' + json.dumps(kind) + ',"payload":' + payload + ',"prev_hash":"' + prev + '","seq":' + str(seq) + '}'
                h = hashlib.sha256(line.encode()).hexdigest()
                db.execute("UPDATE ledger SET payload = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?", (payload, bytes.fromhex(prev), bytes.fromhex(h), seq))
                prev = h
            db.commit()
            """, ["\(dir)/rechained"])
        let chain = try CommandLineRun.rigor(["ledger", "verify", "--state-dir", "\(dir)/rechained"])
        #expect(chain.status == 0, "the forger's chain should verify on its own: \(chain.stdout)")
        expectRefused(try merge([s1, "\(dir)/rechained"]), "shard '\(dir)/rechained'", "does not hold exactly its part of the matrix", "1 of its cells missing")
    }

    @Test("rigor batch --shard refuses bad shard arguments with a usage error")
    func badArguments() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = ["batch", "--pairings", "toy_filesystem", "--seeds", "0..1", "--state-dir", "\(dir)/x"]
        for (args, env, fragment) in [
            (["--shard", "0/2"], [String: String](), "shard 0/2 does not exist"),
            (["--shard", "3"], [:], "is not I/N"),
            (["--shard", "1/2", "--shard-from", "env"], [:], "not both"),
            (["--shard-from", "mesos"], [:], "not an engine"),
            (["--shard-count", "2"], [:], "--shard-count goes with --shard-from"),
            (["--shard-from", "slurm"], [:], "SLURM_ARRAY_TASK_ID is not set"),
            (["--shard-from", "k8s"], ["JOB_COMPLETION_INDEX": "0"], "RIGOR_SHARD_COUNT is not set"),
            (["--shard-from", "env"], ["RIGOR_SHARD_INDEX": "9", "RIGOR_SHARD_COUNT": "2"], "RIGOR_SHARD_INDEX is 9; it must be between 1 and 2"),
        ] {
            var environment = ShardMatrix.environment(env)
            for k in ["SLURM_ARRAY_TASK_ID", "RIGOR_SHARD_COUNT", "RIGOR_SHARD_INDEX"] where env[k] == nil { environment[k] = nil }
            let r = try CommandLineRun.rigor(base + args, environment: environment)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(fragment), "\(args): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/x/rigor.db"))
    }

    @Test("more shards than episodes: the empty shards are recorded and the merge is whole")
    func emptyShards() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var shards: [String] = []
        for i in 1...5 {
            let state = "\(dir)/e\(i)"
            let r = try CommandLineRun.rigor(["batch", "--pairings", "toy_filesystem", "--seeds", "0..1", "--shard", "\(i)/5", "--quiet", "--json",
                                              "--state-dir", state])
            #expect(r.status == 0, "\(r.stderr)")
            shards.append(state)
        }
        let r = try merge(shards, ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try JSON.parse(r.stdout)
        #expect(j["total"] == 2 && j["merge"]?["missing_shards"] == [])
    }
}
