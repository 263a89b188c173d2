import Foundation

/// Scrubs secrets from everything Rigor persists, before it is written (spec/policy.md §7).
///
/// Two kinds of things are replaced by stable placeholders:
///
/// - **Secret values**, by name: the agent's declared secrets (`--secret NAME`, `secrets` in
///   rigor.toml), the project's `[redaction] secrets`, and API-key-looking variables of the
///   runner's own environment (`*_API_KEY`, `*_TOKEN`, `*_SECRET`). Each becomes
///   `[REDACTED:NAME]`.
/// - **Patterns**: regular expressions for well-known key formats (built in: `openai_key`,
///   `anthropic_key`, `aws_access_key`, `github_token`, `slack_token`) and the project's own
///   (`[redaction.patterns]`). A match becomes `[REDACTED:<pattern id>]`.
///
/// Placeholders depend only on the secret's *name*, never its value, so the same episode with
/// the same secrets hashes the same on every machine, and the hash covers the redacted form.
/// Object keys are scrubbed too (an agent can put a secret in an argument's name).
public struct Redactor: Sendable {
    /// A named secret value.
    public struct Secret: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A named pattern; `hints` are literals one of which every match contains (a cheap
    /// pre-check, so most strings never reach the regular-expression engine; none: always run).
    public struct Pattern: Sendable, Equatable {
        public var id: String
        public var regex: String
        public var hints: [String]
        public init(id: String, regex: String, hints: [String] = []) {
            self.id = id
            self.regex = regex
            self.hints = hints
        }
    }

    /// Values shorter than this are not redacted: a two-character "secret" would scrub every
    /// occurrence of those two characters from the artifact and protect nothing.
    public static let minimumSecretBytes = 4

    public static let builtInPatterns: [Pattern] = [
        Pattern(id: "anthropic_key", regex: "sk-ant-[A-Za-z0-9_\\-]{20,}", hints: ["sk-ant-"]),
        Pattern(id: "openai_key", regex: "sk-(proj-)?[A-Za-z0-9_\\-]{20,}", hints: ["sk-"]),
        Pattern(id: "aws_access_key", regex: "AKIA[0-9A-Z]{16}", hints: ["AKIA"]),
        Pattern(id: "github_token", regex: "gh[pousr]_[A-Za-z0-9]{36,}", hints: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]),
        Pattern(id: "slack_token", regex: "xox[abprs]-[A-Za-z0-9\\-]{10,}", hints: ["xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"]),
    ]

    public private(set) var secrets: [Secret]
    public private(set) var patterns: [Pattern]

    /// No secrets; the built-in patterns only.
    public init(secrets: [Secret] = [], patterns: [Pattern] = Redactor.builtInPatterns) {
        self.secrets = []
        self.patterns = patterns
        for s in secrets { add(s) }
    }

    /// Adds a secret (ignored when too short or already known); longer values first, so a
    /// secret that contains another is replaced whole.
    public mutating func add(_ secret: Secret) {
        guard secret.value.utf8.count >= Redactor.minimumSecretBytes, !secrets.contains(secret) else { return }
        secrets.append(secret)
        secrets.sort { ($0.value.utf8.count, $1.name) > ($1.value.utf8.count, $0.name) }
    }

    public mutating func add(pattern: Pattern) {
        if !patterns.contains(where: { $0.id == pattern.id }) { patterns.append(pattern) }
    }

    /// Names in the runner's environment that hold API keys by convention.
    public static func isAPIKeyName(_ name: String) -> Bool {
        name.hasSuffix("_API_KEY") || name.hasSuffix("_TOKEN") || name.hasSuffix("_SECRET") || name == "RIGOR_WORLD_KEY"
    }

    /// The placeholder for a name.
    public static func placeholder(_ name: String) -> String { "[REDACTED:\(name)]" }

    /// Checks a pattern compiles; nil when it does, else why not.
    public static func problem(compiling regex: String) -> String? {
        do { _ = try Regex(regex); return nil } catch { return "\(error)" }
    }

    // MARK: - Scrubbing

    /// The compiled form, made once per use (Regex values are not Sendable).
    ///
    /// Most strings of an artifact hold nothing to scrub, and an artifact can hold millions of
    /// them: each string is first scanned once, as bytes, for the first byte of any secret or
    /// hint (`firstBytes`), and only a string with a candidate goes to the string-level
    /// replacement. Values that need no change are returned as they are, never rebuilt.
    public struct Compiled {
        let secrets: [(needle: String, placeholder: String)]
        /// The patterns' regular expressions, compiled on first use: parsing the built-in ones
        /// costs ~0.4 ms, more than scrubbing a whole artifact that holds nothing to scrub (the
        /// usual case, where no string ever gets past the byte pre-check).
        let patterns: LazyPatterns
        /// Patterns without hints: every string goes to them.
        let unhinted: Bool
        /// Needles (secret values and pattern hints) as bytes, by their first byte.
        let needles: [[UInt8]]
        let firstBytes: [Bool]

        /// Regular expressions compiled when first needed, once; a lock guards the first use
        /// (the model gateway scrubs requests from the endpoint server's threads).
        final class LazyPatterns {
            private let sources: [(regex: String, placeholder: String)]
            private var made: [(regex: Regex<AnyRegexOutput>, placeholder: String)]?
            private let lock = NSLock()

            init(_ sources: [(regex: String, placeholder: String)]) { self.sources = sources }

            /// The patterns that compile (one that does not is skipped, as it always was).
            var compiled: [(regex: Regex<AnyRegexOutput>, placeholder: String)] {
                lock.lock()
                defer { lock.unlock() }
                if let made { return made }
                let list = sources.compactMap { p in (try? Regex(p.regex)).map { (regex: $0, placeholder: p.placeholder) } }
                made = list
                return list
            }
        }

        init(secrets: [(String, String)], patterns: [(regex: String, hints: [String], placeholder: String)]) {
            self.secrets = secrets.map { (needle: $0.0, placeholder: $0.1) }
            self.patterns = LazyPatterns(patterns.map { (regex: $0.regex, placeholder: $0.placeholder) })
            unhinted = patterns.contains { $0.hints.isEmpty }
            var needles = secrets.map { Array($0.0.utf8) }
            for p in patterns { needles += p.hints.map { Array($0.utf8) } }
            self.needles = needles.filter { !$0.isEmpty }
            var first = Array(repeating: false, count: 256)
            for n in self.needles { first[Int(n[0])] = true }
            firstBytes = first
        }

        /// Whether the bytes contain any needle.
        func mayContain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            let count = bytes.count
            var i = 0
            while i < count {
                if firstBytes[Int(bytes[i])] {
                    for n in needles where n[0] == bytes[i] && n.count <= count - i {
                        var k = 1
                        while k < n.count && bytes[i + k] == n[k] { k += 1 }
                        if k == n.count { return true }
                    }
                }
                i += 1
            }
            return false
        }

        func mayContain(_ text: String) -> Bool {
            if unhinted { return true }
            if needles.isEmpty { return false }
            if let hit = text.utf8.withContiguousStorageIfAvailable({ mayContain($0) }) { return hit }
            return Array(text.utf8).withUnsafeBufferPointer { mayContain($0) }
        }

        /// The scrubbed text, or nil when there is nothing to scrub.
        func scrubbed(_ text: String) -> String? {
            guard mayContain(text) else { return nil }
            var out = text
            for s in secrets where out.contains(s.needle) { out = out.replacing(s.needle, with: s.placeholder) }
            for p in patterns.compiled { out = out.replacing(p.regex, with: p.placeholder) }
            return out == text ? nil : out
        }

        public func redact(_ text: String) -> String { scrubbed(text) ?? text }

        public func redact(_ value: JSON) -> JSON { scrubbed(value) ?? value }

        /// The scrubbed value, or nil when nothing in it changes (so nothing is rebuilt).
        func scrubbed(_ value: JSON) -> JSON? {
            switch value {
            case .string(let s): return scrubbed(s).map(JSON.string)
            case .array(let items):
                var out: [JSON]? = nil
                for (i, item) in items.enumerated() {
                    if let changed = scrubbed(item) {
                        if out == nil { out = items }
                        out?[i] = changed
                    }
                }
                return out.map(JSON.array)
            case .object(let members):
                var changed: [String: JSON] = [:]
                var keysChange = false
                for (key, member) in members {
                    if let v = scrubbed(member) { changed[key] = v }
                    if !keysChange && scrubbed(key) != nil { keysChange = true }
                }
                if changed.isEmpty && !keysChange { return nil }
                guard keysChange else {
                    var out = members
                    for (k, v) in changed { out[k] = v }
                    return .object(out)
                }
                // Sorted: when two keys scrub to the same placeholder, the same one wins on every run.
                var out: [String: JSON] = [:]
                for key in members.keys.sorted() { if let v = changed[key] ?? members[key] { out[redact(key)] = v } }
                return .object(out)
            default: return nil
            }
        }
    }

    public func compiled() -> Compiled {
        Compiled(secrets: secrets.map { ($0.value, Redactor.placeholder($0.name)) },
                 patterns: patterns.map { (regex: $0.regex, hints: $0.hints, placeholder: Redactor.placeholder($0.id)) })
    }

    public func redact(_ text: String) -> String { compiled().redact(text) }
    public func redact(_ value: JSON) -> JSON { compiled().redact(value) }

    /// Scrubs every field of an artifact that can carry what an agent, a world or a log wrote.
    public func redact(_ artifact: inout Artifact) {
        let c = compiled()
        for i in artifact.trace.indices {
            artifact.trace[i].observation = c.redact(artifact.trace[i].observation)
            artifact.trace[i].action = c.redact(artifact.trace[i].action)
            artifact.trace[i].result = c.redact(artifact.trace[i].result)
            artifact.trace[i].ioAudit = artifact.trace[i].ioAudit.map { c.redact($0) }
            artifact.trace[i].intent = artifact.trace[i].intent.map { c.redact($0) }
            artifact.trace[i].evidence = artifact.trace[i].evidence.map { e in
                EvidenceCheck(name: c.redact(e.name), pass: e.pass, note: e.note.map { c.redact($0) }, source: e.source)
            }
            if var p = artifact.trace[i].policy, let a = p.approval {
                p.approval = ApprovalRecord(approved: a.approved, approver: a.approver, note: c.redact(a.note))
                artifact.trace[i].policy = p
            }
        }
        artifact.traceActions = artifact.traceActions.map { $0.map { c.redact($0) } }
        artifact.failureReason = artifact.failureReason.map { c.redact($0) }
        artifact.validator.message = c.redact(artifact.validator.message)
        artifact.validator.payload = artifact.validator.payload.map { c.redact($0) }
        artifact.sandbox = c.redact(artifact.sandbox)
        artifact.diagnostics = c.redact(artifact.diagnostics)
    }
}
