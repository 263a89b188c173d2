import RigorSpec

/// `runbook_verifier`: runbook phases live in files whose names and index order say nothing
/// about execution; `sequence.log` records what ran, in order, including one aborted phase.
/// `RUNBOOK_CHECKSUM` is the codes of the completed phases in execution order, then the
/// `ACK_ID` from the timeline and the `HANDOFF_TOKEN`, joined by `+`.
///
/// Files under the first root (`/app`): `README.md` (the format), `runbook/index.md` (the
/// planned order, alphabetical, not the executed one), `runbook/<phase>.md` (`PHASE_CODE`),
/// `sequence.log`, `timeline.log` (`ACK_ID`), `handoff.md` (`HANDOFF_TOKEN`). Draws, in order:
/// the number of completed phases (`int(3…5)`), the phase order (`shuffle` of the library; the
/// first ones complete, the next is aborted), each of those phases' digits (`digits(4)`), where
/// the aborted phase sits in the log (`below(completed + 1)`), the ACK digits (`digits(5)`),
/// the hand-off token (`string(6, A–Z0–9)`). Tests: ordering by evidence, excluding an aborted
/// step, and assembling an answer from several files.
public enum Runbook: WorldKind {
    public static let kind = "runbook"
    public static let codeVersion = "2"
    public static let actions = ReportedAnswerWorld.actions

    static let library = [
        ("stabilize_ingress", "ING"), ("reroute_traffic", "RER"), ("drain_queues", "DRN"), ("apply_hotfix", "FIX"),
        ("verify_recovery", "RCV"), ("rotate_credentials", "ROT"), ("handoff_ops", "OPS"),
    ]

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let root = manifest.sandbox.filesystemRoots.first ?? "/app"
        let key = manifest.validator["output_key"]?.stringValue ?? "RUNBOOK_CHECKSUM"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let completed = rng.int(in: 3...5)
        var order = library
        rng.shuffle(&order)
        let phases = order.prefix(completed + 1).map { (name: $0.0, code: "\($0.1)-" + rng.digits(4)) }
        let abortedAt = rng.below(completed + 1)
        let ack = "ACK-" + rng.digits(5)
        let handoff = "HANDOFF-" + rng.string(6, alphabet: WorldText.upper)

        // The aborted phase (the last drawn) starts between completed ones and never finishes.
        var log: [String] = []
        for (i, phase) in phases.prefix(completed).enumerated() {
            if i == abortedAt { log += ["PHASE=\(phases[completed].name) STATUS=started", "PHASE=\(phases[completed].name) STATUS=aborted"] }
            log += ["PHASE=\(phase.name) STATUS=started", "PHASE=\(phase.name) STATUS=complete"]
        }
        if abortedAt == completed { log += ["PHASE=\(phases[completed].name) STATUS=started", "PHASE=\(phases[completed].name) STATUS=aborted"] }

        var files: [String: String] = [
            "\(root)/README.md": """
                # Runbook verifier
                TARGET_KEY=\(key)
                Checksum format: the PHASE_CODE of every completed phase, in the order sequence.log
                shows them completing, then ACK_ID (timeline.log), then HANDOFF_TOKEN (handoff.md),
                joined by '+'. Aborted phases are left out. runbook/index.md is the plan, not the record.

                """,
            "\(root)/runbook/index.md": "# Planned phases\n" + phases.map(\.name).sorted().map { "- \($0)" }.joined(separator: "\n") + "\n",
            "\(root)/sequence.log": "# execution record\n" + log.enumerated().map { "\(WorldText.timestamp($0.offset, hour: 2)) \($0.element)" }.joined(separator: "\n") + "\n",
            "\(root)/timeline.log": "T00:00 incident declared\nT00:04 containment initiated\nT00:19 mitigation applied\nACK_ID=\(ack)\n",
            "\(root)/handoff.md": "# Final handoff\nHANDOFF_TOKEN=\(handoff)\n",
        ]
        for phase in phases {
            let title = phase.name.split(separator: "_").joined(separator: " ")
            files["\(root)/runbook/\(phase.name).md"] = "# Phase: \(title)\nPHASE=\(phase.name)\nPHASE_CODE=\(phase.code)\n"
        }
        let answer = (phases.prefix(completed).map(\.code) + [ack, handoff]).joined(separator: "+")
        return ReportedAnswerWorld(files: files, roots: manifest.sandbox.filesystemRoots,
                                   checker: OutputChecker(key: key, expected: answer, validator: manifest.validator))
    }
}
