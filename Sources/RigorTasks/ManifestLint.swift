import Foundation
import RigorSpec

/// What `rigor tasks validate` reports about a manifest beyond what loading refuses: keys the
/// reader ignores. Loading ignores unknown keys on purpose (a TraceCore `task.toml` carries
/// `deterministic`, `seed_behavior`, ...), but in a Rigor manifest an unknown key is almost
/// always a misspelt one (`[budget]`, `tool_cals`) that silently does nothing.
///
/// TraceCore task folders are not linted: their extra keys are their format.
public enum ManifestLint {
    static let topKeys: Set<String> = ["id", "version", "suite", "description", "world", "budgets", "sandbox", "actions",
                                       "validator", "world_config", "limits", "models"]
    static let tableKeys: [String: Set<String>] = [
        "budgets": ["steps", "tool_calls", "wall_clock_seconds"],
        "sandbox": ["filesystem_roots", "network_hosts"],
        "models": ["calls", "input_tokens", "output_tokens", "ignore"],
        "limits": ["act_timeout_seconds", "cpu_seconds", "address_space_mb", "file_size_mb", "open_files", "processes"],
    ]
    static let worldKeys: Set<String> = ["command", "network", "kind", "hidden", "files", "extract_value", "service"]
    static let serviceKeys: Set<String> = ["token", "payload", "unblocked_at", "early_retry_penalty", "instructions"]
    static let actionKeys: Set<String> = ["args", "tool_call"]

    /// One finding per unknown key, as `field: message`, sorted; empty when the manifest is clean.
    public static func findings(folder: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: "\(folder)/task.toml"),
              let text = String(data: data, encoding: .utf8),
              let root = try? TOMLDocument.parse(text) else { return [] }
        // No `world` and TraceCore's tables: a TraceCore folder, whose extra keys are its format.
        if root["world"] == nil { return [] }
        var out: [String] = []
        func unknown(_ keys: some Collection<String>, _ allowed: Set<String>, _ prefix: String) {
            for k in keys.sorted() where !allowed.contains(k) {
                out.append("\(prefix)\(k): unknown key; Rigor ignores it (misspelt? see spec/task-manifest.md)")
            }
        }
        unknown(root.keys, topKeys, "")
        for (table, allowed) in tableKeys {
            if let t = root[table]?.objectValue { unknown(t.keys, allowed, "\(table).") }
        }
        if let w = root["world"]?.objectValue {
            unknown(w.keys, worldKeys, "world.")
            if let service = w["service"]?.objectValue { unknown(service.keys, serviceKeys, "world.service.") }
            for (list, allowed) in [("hidden", Set(["name", "value"])), ("files", Set(["path", "content"]))] {
                for (i, item) in (w[list]?.arrayValue ?? []).enumerated() {
                    if let o = item.objectValue { unknown(o.keys, allowed, "world.\(list)[\(i)].") }
                }
            }
        }
        for (name, spec) in root["actions"]?.objectValue ?? [:] {
            if let o = spec.objectValue { unknown(o.keys, actionKeys, "actions.\(name).") }
        }
        return out.sorted()
    }
}
