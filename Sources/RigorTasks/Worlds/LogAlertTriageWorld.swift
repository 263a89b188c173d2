import RigorSpec

/// `log_alert_triage`: a noisy service log names the one incident that was escalated; every
/// incident has its own file with an `ALERT_CODE`, and only the escalated one's is the answer.
///
/// Files under the first root (`/app`): `README.md` (target key and where to start),
/// `logs/service.log` (noise, one line per incident, the escalation line last),
/// `incidents/<id>.log` per incident (`STATUS=escalated` or `resolved`, `ALERT_CODE=...`),
/// `telemetry_snapshot.txt` (noise). Draws, in order: incident count (`int(3…5)`), their ids
/// (`"INC-" + digits(4)`, distinct), their codes (`"ALERT-" + digits(4)`, distinct), the
/// escalated index (`below(count)`), the number of noise lines (`int(8…14)`), then for each
/// noise line a template (`below(8)`) and a number (`int(1…99)`).
/// Tests: reading past noise, following a pointer, and not trusting stale codes.
public enum LogAlertTriage: WorldKind {
    public static let kind = "log_alert_triage"
    public static let codeVersion = "2"
    public static let actions = ReportedAnswerWorld.actions

    static let noise = [
        "INFO health check passed", "WARN queue depth %d approaching threshold", "INFO telemetry upload complete",
        "ERROR transient timeout on replica %d", "INFO cache warmed", "WARN retry window extended to %ds",
        "DEBUG gc pause %dms", "ERROR connection reset by peer (retried)",
    ]

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let root = manifest.sandbox.filesystemRoots.first ?? "/app"
        let key = manifest.validator["output_key"]?.stringValue ?? "ALERT_CODE"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let count = rng.int(in: 3...5)
        let ids = WorldText.distinct(count) { "INC-" + rng.digits(4) }
        let codes = WorldText.distinct(count) { "ALERT-" + rng.digits(4) }
        let escalated = rng.below(count)
        var lines: [String] = []
        for _ in 0..<rng.int(in: 8...14) {
            let template = noise[rng.below(noise.count)]
            lines.append(template.replacing("%d", with: String(rng.int(in: 1...99))))
        }
        // Incident lines go after the noise they interleave with, in id order; escalation last.
        var log: [String] = []
        var incidentLines = ids.indices.map { i in
            i == escalated ? "WARN incident \(ids[i]) opened: ingest backpressure" : "INFO incident \(ids[i]) resolved by auto-remediation"
        }
        for (i, line) in lines.enumerated() {
            log.append(line)
            if i % 3 == 2, !incidentLines.isEmpty { log.append(incidentLines.removeFirst()) }
        }
        log.append(contentsOf: incidentLines)
        log.append("ERROR escalation: \(ids[escalated]) paged on-call, details in \(root)/incidents/\(ids[escalated]).log")
        var files: [String: String] = [
            "\(root)/README.md": """
                # Log alert triage
                TARGET_KEY=\(key)
                Start with logs/service.log: it names the incident that was escalated.
                Report that incident's \(key) with set_output. Resolved incidents carry stale codes.

                """,
            "\(root)/logs/service.log": log.enumerated().map { "\(WorldText.timestamp($0.offset)) \($0.element)" }.joined(separator: "\n") + "\n",
            "\(root)/telemetry_snapshot.txt": "queue_depth=\(count * 211)\nretry_window=2\nreplicas=\(count + 2)\n",
        ]
        for i in ids.indices {
            files["\(root)/incidents/\(ids[i]).log"] = """
                INCIDENT=\(ids[i])
                STATUS=\(i == escalated ? "escalated" : "resolved")
                SEVERITY=\(i == escalated ? "high" : "low")
                \(key)=\(codes[i])

                """
        }
        return ReportedAnswerWorld(files: files, roots: manifest.sandbox.filesystemRoots,
                                   checker: OutputChecker(key: key, expected: codes[escalated], validator: manifest.validator))
    }
}
