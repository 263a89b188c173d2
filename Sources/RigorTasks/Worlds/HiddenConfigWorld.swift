import RigorSpec

/// `filesystem_hidden_config`: find the real `API_KEY` among a readme, a decoy and a hidden file.
///
/// From the seed: the hidden file's 4-digit suffix, then the 24-character key. The decoy always
/// says `API_KEY=changeme`, so an agent that stops at the first key it sees fails.
public enum HiddenConfig: WorldKind {
    public static let kind = "hidden_config"
    public static let codeVersion = "2"
    public static let actions = ReportedAnswerWorld.actions

    public static let keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let root = manifest.sandbox.filesystemRoots.first ?? "/app"
        let key = manifest.validator["output_key"]?.stringValue ?? "API_KEY"
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        let suffix = rng.digits(4)
        let secret = rng.string(24, alphabet: keyAlphabet)
        let hidden = "\(root)/.config_\(suffix)"
        // A world solved by reporting one value, like the operations worlds.
        return ReportedAnswerWorld(
            files: [
                "\(root)/readme.txt": "This service reads its \(key) from a config file in \(root).\nThe example file shows the format only.\n",
                "\(root)/config.example": "# example configuration\n\(key)=changeme\n",
                hidden: "# live configuration\nSERVICE=billing\n\(key)=\(secret)\n",
            ],
            roots: manifest.sandbox.filesystemRoots,
            checker: OutputChecker(key: key, expected: secret, validator: manifest.validator))
    }

    /// The hidden config file of a world this kind made (the one file named `.config_<digits>`).
    public static func hiddenPath(in world: ReportedAnswerWorld) -> String? {
        world.fileContents.keys.first { $0.split(separator: "/").last?.hasPrefix(".config_") == true }
    }
}
