import RigorSpec

/// The world of a filesystem task that is solved by reporting one value with `set_output`:
/// files under the sandbox roots, the shared filesystem actions, and an `OutputChecker`.
///
/// `hidden_config` and the operations world kinds (`log_alert_triage`, `config_drift`,
/// `incident_chain`, `runbook`, `code_audit`, `answer_vault`) differ only in the files they write
/// and the answer they expect, so they all build this class; each kind's file documents its
/// world and draws.
public final class ReportedAnswerWorld: TaskWorld {
    var files: FileSystemActions
    var checker: OutputChecker
    let extraction: Extraction

    /// The actions every kind built on this world implements.
    public static let actions = FileSystemActions.names + ["set_output"]

    /// How `extract_value` finds `KEY=value`.
    public enum Extraction: Sendable {
        /// The first line that starts with `KEY=` (the shared filesystem rule).
        case lineStart
        /// Also inside comments and log lines: the first whitespace-separated `KEY=value`
        /// token on any line (`# ISSUE_ID=X` and `... CRITICAL AUDIT_CODE=Y` both count). For
        /// worlds whose values live in source comments and log lines, as an auditor finds them.
        case anyToken
    }

    init(files: [String: String], roots: [String], checker: OutputChecker, extraction: Extraction = .lineStart) {
        self.files = FileSystemActions(fs: VirtualFileSystem(files: files, roots: roots))
        self.checker = checker
        self.extraction = extraction
    }

    /// Every file of the world, path → content (for tests and documentation).
    public var fileContents: [String: String] { files.fs.files }

    public func execute(_ action: CheckedAction) -> ActionOutcome {
        if action.name == "extract_value", extraction == .anyToken {
            let content = action.args["content"]?.stringValue ?? ""
            let key = action.args["key"]?.stringValue ?? ""
            if let value = Self.extractToken(key: key, from: content) {
                return ActionOutcome(result: ["ok": true, "value": .string(value)])
            }
            return .failure("key_not_found")
        }
        if let outcome = files.execute(action) { return outcome }
        if action.name == "set_output" {
            return checker.setOutput(action)
        }
        return .failure("unsupported_action")
    }

    public func evaluate() -> WorldVerdict { checker.evaluate() }

    public var visibleState: JSON { files.visibleState }

    /// The `anyToken` rule: the value of the first `KEY=value` token, reading lines in order.
    static func extractToken(key: String, from content: String) -> String? {
        guard !key.isEmpty else { return nil }
        let prefix = key + "="
        for line in content.split(separator: "\n", omittingEmptySubsequences: false) {
            for token in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) {
                if token.hasPrefix(prefix), token.count > prefix.count { return String(token.dropFirst(prefix.count)) }
            }
        }
        return nil
    }
}

/// Small text builders the operations worlds share, so their files read alike.
enum WorldText {
    static let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    static let hex = "0123456789abcdef"

    /// A deterministic log timestamp for the `index`-th entry of a log: one every 7 seconds
    /// from a fixed start, so order in time equals order of index.
    static func timestamp(_ index: Int, hour: Int = 9) -> String {
        let seconds = index * 7
        return "2026-03-14T\(pad(hour + seconds / 3600)):\(pad(seconds / 60 % 60)):\(pad(seconds % 60))Z"
    }

    static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// `count` distinct values from `draw` (retrying on a repeat), in draw order.
    static func distinct(_ count: Int, _ draw: () -> String) -> [String] {
        var out: [String] = []
        var seen: Set<String> = []
        while out.count < count {
            let v = draw()
            if seen.insert(v).inserted { out.append(v) }
        }
        return out
    }
}
