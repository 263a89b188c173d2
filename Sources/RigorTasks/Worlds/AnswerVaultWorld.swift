import RigorSpec

/// `exact_answer_vault`: eight vault slots each hold a plausible `VAULT_CODE`; the ledger names
/// the active slot only by its seal. With `[validator] max_submissions = 1` the first wrong
/// code ends the episode (`validator_failed`, `logic_failure`), so submitting every candidate
/// in turn, which TraceCore's never-terminal validator allows, fails here.
///
/// Files under the first root (`/app`): `vault/README.md`, `vault/ledger.txt` (`ACTIVE_SEAL`
/// and retired seals), `vault/slots/slot_<n>.txt` (`SEAL`, `VAULT_CODE`). Draws, in order: the
/// seals (`string(4, hex)`, 8 distinct), the codes (`"VLT-" + string(10, A–Z0–9)`, 8
/// distinct), the active slot (`below(8)`), the number of retired seals listed (`int(2…4)`).
/// Tests: verifying before answering when a guess costs the episode.
public enum AnswerVault: WorldKind {
    public static let kind = "answer_vault"
    public static let codeVersion = "2"
    public static let actions = ReportedAnswerWorld.actions

    static let slotCount = 8

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let root = manifest.sandbox.filesystemRoots.first ?? "/app"
        let key = manifest.validator["output_key"]?.stringValue ?? "VAULT_CODE"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let seals = WorldText.distinct(slotCount) { rng.string(4, alphabet: WorldText.hex) }
        let codes = WorldText.distinct(slotCount) { "VLT-" + rng.string(10, alphabet: WorldText.upper) }
        let active = rng.below(slotCount)
        let retired = rng.int(in: 2...4)
        // Retired seals are those of the slots after the active one, so each is a real slot's seal.
        let retiredSeals = (1...retired).map { seals[(active + $0) % slotCount] }
        var files: [String: String] = [
            "\(root)/vault/README.md": """
                # Vault
                TARGET_KEY=\(key)
                The active slot is the one whose SEAL equals ACTIVE_SEAL in ledger.txt.
                Report its \(key) with set_output. One submission only: a wrong \(key) ends the episode.

                """,
            "\(root)/vault/ledger.txt": "# seal rotations, newest first\nACTIVE_SEAL=\(seals[active])\n"
                + retiredSeals.map { "RETIRED_SEAL=\($0)" }.joined(separator: "\n") + "\n",
        ]
        for i in 0..<slotCount {
            files["\(root)/vault/slots/slot_\(i + 1).txt"] = "SLOT=\(i + 1)\nSEAL=\(seals[i])\n\(key)=\(codes[i])\n"
        }
        return ReportedAnswerWorld(files: files, roots: manifest.sandbox.filesystemRoots,
                                   checker: OutputChecker(key: key, expected: codes[active], validator: manifest.validator))
    }
}
