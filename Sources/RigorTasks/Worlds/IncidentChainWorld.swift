import RigorSpec

/// `incident_recovery_chain`: `status.log` points at the first hand-off file, each hand-off
/// names the next with `NEXT=`, and the last one of the live chain holds `RECOVERY_TOKEN`.
/// Archived hand-offs in the same folder hold revoked tokens.
///
/// Files under the first root (`/app`): `README.md`, `status.log`, `handoffs/handoff_<4 hex>.txt`
/// (chain and archive mixed; names reveal nothing about order). Draws, in order: chain length
/// (`int(3…5)`), archive size (`int(2…3)`), the file names (`string(4, hex)`, distinct), the
/// token and the revoked tokens (`"RECOVER-" + string(8, A–Z0–9)`, distinct), then per chain
/// step a team (`below(teams)`). Tests: following a chain of pointers instead of grabbing the
/// first token found.
public enum IncidentChain: WorldKind {
    public static let kind = "incident_chain"
    public static let codeVersion = "2"
    public static let actions = ReportedAnswerWorld.actions

    static let steps = ["collect diagnostics", "page the database owner", "fail over the primary",
                        "apply the mitigation", "verify recovery"]
    static let teams = ["sre", "database", "network", "platform", "storage"]

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let root = manifest.sandbox.filesystemRoots.first ?? "/app"
        let key = manifest.validator["output_key"]?.stringValue ?? "RECOVERY_TOKEN"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let length = rng.int(in: 3...5)
        let archived = rng.int(in: 2...3)
        let names = WorldText.distinct(length + archived) { "\(root)/handoffs/handoff_" + rng.string(4, alphabet: WorldText.hex) + ".txt" }
        let tokens = WorldText.distinct(1 + archived) { "RECOVER-" + rng.string(8, alphabet: WorldText.upper) }
        var files: [String: String] = [
            "\(root)/README.md": """
                # Incident recovery chain
                TARGET_KEY=\(key)
                Start at status.log and follow each NEXT= pointer. Only the last hand-off of the
                live chain holds the valid \(key); archived hand-offs hold revoked ones.

                """,
            "\(root)/status.log": "STATUS=degraded\nOPENED_BY=pager\nNEXT=\(names[0])\n",
        ]
        for i in 0..<length {
            var lines = ["STEP=\(i + 1)", "ACTION=\(steps[i])", "OWNER=\(teams[rng.below(teams.count)])"]
            lines.append(i + 1 < length ? "NEXT=\(names[i + 1])" : "\(key)=\(tokens[0])")
            files[names[i]] = lines.joined(separator: "\n") + "\n"
        }
        for j in 0..<archived {
            files[names[length + j]] = "STATUS=archived\nNOTE=superseded by a later incident\n\(key)=\(tokens[1 + j])\n"
        }
        return ReportedAnswerWorld(files: files, roots: manifest.sandbox.filesystemRoots,
                                   checker: OutputChecker(key: key, expected: tokens[0], validator: manifest.validator))
    }
}
