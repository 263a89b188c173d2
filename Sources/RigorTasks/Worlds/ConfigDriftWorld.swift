import RigorSpec

/// `config_drift_remediation`: a desired and a live config hold the same keys in different
/// orders; exactly one value differs. The answer is the desired `KEY=VALUE` line.
///
/// Files under the first root (`/app`): `README.md`, `config/desired.conf` (canonical, fixed
/// key order), `config/live.conf` (same keys, shuffled, one drifted), `notes.txt` (says that
/// one key drifted, not which). Draws, in order: each key's desired value (`below(options)`,
/// in key order), the drifted key (`below(keys)`), its live value (`below(options − 1)` among
/// the other options), the live order (`shuffle`). Tests: comparing two files by key rather
/// than by line.
public enum ConfigDrift: WorldKind {
    public static let kind = "config_drift"
    public static let codeVersion = "2"
    public static let actions = ReportedAnswerWorld.actions

    static let options: [(String, [String])] = [
        ("MAX_CONN", ["128", "250", "300", "350", "512"]),
        ("MODE", ["safe", "resilient", "hardened", "strict"]),
        ("RETRY_WINDOW", ["2", "3", "5", "8"]),
        ("TIMEOUT_MS", ["500", "750", "1000", "1500"]),
        ("LOG_LEVEL", ["info", "warn", "debug"]),
        ("CACHE_TTL", ["30", "60", "120", "300"]),
        ("REPLICAS", ["2", "3", "4", "5"]),
        ("TLS_MIN", ["1.2", "1.3"]),
    ]

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let root = manifest.sandbox.filesystemRoots.first ?? "/app"
        let key = manifest.validator["output_key"]?.stringValue ?? "DRIFT_PATCH"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let desired = options.map { ($0.0, $0.1[rng.below($0.1.count)]) }
        let drifted = rng.below(desired.count)
        let others = options[drifted].1.filter { $0 != desired[drifted].1 }
        var live = desired
        live[drifted].1 = others[rng.below(others.count)]
        rng.shuffle(&live)
        let files: [String: String] = [
            "\(root)/README.md": """
                # Config drift remediation
                TARGET_KEY=\(key)
                config/desired.conf is canonical; config/live.conf is what runs.
                Report the full KEY=VALUE line from desired.conf that corrects the drift.

                """,
            "\(root)/config/desired.conf": "# desired state (canonical)\n" + desired.map { "\($0.0)=\($0.1)" }.joined(separator: "\n") + "\n",
            "\(root)/config/live.conf": "# live state, dumped by the agent on host\n" + live.map { "\($0.0)=\($0.1)" }.joined(separator: "\n") + "\n",
            "\(root)/notes.txt": "drift_detector: 1 mismatch between desired and live\nhint: key order in live.conf is not meaningful\n",
        ]
        let answer = "\(desired[drifted].0)=\(desired[drifted].1)"
        return ReportedAnswerWorld(files: files, roots: manifest.sandbox.filesystemRoots,
                                   checker: OutputChecker(key: key, expected: answer, validator: manifest.validator))
    }
}
