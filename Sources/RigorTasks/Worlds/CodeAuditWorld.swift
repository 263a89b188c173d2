import RigorSpec

/// `sandboxed_code_auditor`: one source file has a legacy sandbox bypass tagged with its
/// `ISSUE_ID`; the analyzer log lists an `AUDIT_CODE` per issue. The answer,
/// `ISSUE_ID|AUDIT_CODE`, is written nowhere: the agent must find the bypass, then the log
/// entry for that issue, and combine them. Severities are random, so "take the CRITICAL line"
/// does not work.
///
/// Files under the first root (`/app`): `audit_scope.md` (the format, no sample answer),
/// `src/<module>.py` per module (each with one issue-tagged function; one is `legacy_bypass`),
/// `reports/audit.log` (one finding per issue, shuffled, among noise). Draws, in order: the
/// issue ids (`"SBX-" + digits(4)`, 3 distinct), the audit codes (`"AUD-" + digits(6)`, 3
/// distinct), the module holding the bypass (`below(3)`), each finding's severity
/// (`below(severities)`), the finding order (`shuffle`). `extract_value` here also finds
/// `KEY=value` inside comments and log lines.
public enum CodeAudit: WorldKind {
    public static let kind = "code_audit"
    public static let codeVersion = "2"
    public static let actions = ReportedAnswerWorld.actions

    static let modules = ["runtime_guard", "net_policy", "fs_policy"]
    static let severities = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    /// The harmless functions, one per module, that carry fixed issues.
    static let fixed = [
        ("normalise_path(path, config)", "return posixpath.normpath(path)"),
        ("check_host(host, config)", "return host in config.allowed_hosts"),
        ("limit_open_files(requested, config)", "return min(requested, config.max_files)"),
    ]

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let root = manifest.sandbox.filesystemRoots.first ?? "/app"
        let key = manifest.validator["output_key"]?.stringValue ?? "SANDBOX_AUDIT_TOKEN"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let issues = WorldText.distinct(3) { "SBX-" + rng.digits(4) }
        let codes = WorldText.distinct(3) { "AUD-" + rng.digits(6) }
        let bypass = rng.below(3)
        var findings = issues.indices.map { i in
            "\(severities[rng.below(severities.count)]) analyzer finding issue=\(issues[i]) AUDIT_CODE=\(codes[i])"
        }
        rng.shuffle(&findings)

        var files: [String: String] = [
            "\(root)/audit_scope.md": """
                # Sandboxed code audit
                TARGET_KEY=\(key)
                1. In src/, find the function legacy_bypass and the ISSUE_ID tagged on it.
                2. In reports/audit.log, find the analyzer finding for that issue and its AUDIT_CODE.
                3. Report ISSUE_ID|AUDIT_CODE (the two values joined by a vertical bar) with set_output.
                Other issues in the code base are fixed; their findings are not the answer.

                """,
        ]
        for (i, module) in modules.enumerated() {
            let body: String
            if i == bypass {
                body = """
                    def legacy_bypass(cmd, config):
                        \"\"\"Escape hatch kept for offline auditors.\"\"\"
                        # ISSUE_ID=\(issues[i])
                        if not config.enforce_fs:
                            return "ALLOW:" + cmd
                        return "DENY"
                    """
            } else {
                body = """
                    def \(fixed[i].0):
                        # ISSUE_ID=\(issues[i]) (fixed)
                        \(fixed[i].1)
                    """
            }
            files["\(root)/src/\(module).py"] = "\"\"\"Sandbox runtime: \(module.split(separator: "_").joined(separator: " ")).\"\"\"\n\nimport posixpath\n\n\n\(body)\n"
        }
        let log = ["INFO audit started", "INFO scanning src/"] + findings + ["WARN 1 legacy code path still reachable", "INFO report complete"]
        files["\(root)/reports/audit.log"] = log.enumerated().map { "\(WorldText.timestamp($0.offset, hour: 0)) \($0.element)" }.joined(separator: "\n") + "\n"
        return ReportedAnswerWorld(files: files, roots: manifest.sandbox.filesystemRoots,
                                   checker: OutputChecker(key: key, expected: "\(issues[bypass])|\(codes[bypass])", validator: manifest.validator),
                                   extraction: .anyToken)
    }
}
