import Foundation

/// The settings (`env`) and secrets (`secrets`) an agent declared, with their values: handed to
/// the agent process's environment and to nothing else.
///
/// The values never leave this type except into the environment of the process that runs the
/// agent (exec'd: its `envp`; forked: the fork server's request, over a socket). Describing,
/// printing or dumping it shows the names only, so an error message, a log line or a debugger
/// cannot carry a secret by accident; the artifact records the names
/// (`diagnostics.agent.env_names`), never a value (spec/project.md).
public struct AgentEnvironment: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Name → value; read only where the agent's environment is assembled.
    let values: [String: String]
    /// Which of the names are secrets (the rest are plain `env` settings).
    let secretNames: Set<String>

    public init() {
        values = [:]
        secretNames = []
    }

    init(values: [String: String], secretNames: Set<String> = []) {
        self.values = values
        self.secretNames = secretNames
    }

    /// The declared secrets' names and values, for the redactor only (spec/policy.md §7): every
    /// persisted byte is scrubbed of them before it is written.
    public var secretsForRedaction: [(name: String, value: String)] {
        secretNames.sorted().compactMap { name in values[name].map { (name, $0) } }
    }

    /// The declared names, sorted (what is recorded).
    public var names: [String] { values.keys.sorted() }
    public var isEmpty: Bool { values.isEmpty }

    public var description: String {
        values.isEmpty ? "no declared variables" : "declared variables \(names.joined(separator: ", ")) (values withheld)"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["names": names]) }

    /// Names the runner pins or sets itself: a declaration cannot replace them (the episode's
    /// determinism and its private directory depend on them).
    static let reserved: Set<String> = ["PATH", "HOME", "TMPDIR", "LC_ALL", "LANG", "TZ", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE",
                                        "PYTHONPATH"]

    /// The values of `spec`'s `env` and `secrets`: a secret from `callerEnvironment`, else from
    /// its `secretsFile` (`NAME=value` lines, relative to `projectRoot`). A secret found in
    /// neither is an error that names it and where it was looked for.
    public static func resolve(_ spec: AgentSpec, projectRoot: String,
                               callerEnvironment: [String: String]) throws(AgentHostError) -> AgentEnvironment {
        var values: [String: String] = [:]
        for (name, value) in spec.env {
            try check(name, agent: spec.ref, what: "env")
            guard !value.utf8.contains(0) else {
                throw .agentDeclaration(agent: spec.ref, problem: "the value of env '\(name)' contains a NUL byte")
            }
            values[name] = value
        }
        var fileValues: [String: String]? = nil
        for name in spec.secrets {
            try check(name, agent: spec.ref, what: "secret")
            if spec.env[name] != nil {
                throw .agentDeclaration(agent: spec.ref, problem: "'\(name)' is declared both in env and in secrets; keep one")
            }
            if let value = callerEnvironment[name] {
                values[name] = value
                continue
            }
            var looked = ["the environment of this rigor process"]
            if let file = spec.secretsFile {
                let path = file.hasPrefix("/") ? file : ((projectRoot + "/" + file) as NSString).standardizingPath
                looked.append("the secrets file '\(path)'")
                if fileValues == nil { fileValues = try readSecretsFile(path, agent: spec.ref) }
                if let value = fileValues?[name] {
                    values[name] = value
                    continue
                }
            }
            throw .secretMissing(name: name, agent: spec.ref, lookedIn: looked)
        }
        return AgentEnvironment(values: values, secretNames: Set(spec.secrets))
    }

    static func check(_ name: String, agent: String, what: String) throws(AgentHostError) {
        let bytes = Array(name.utf8)
        let valid = !bytes.isEmpty && !(bytes[0] >= 48 && bytes[0] <= 57)
            && bytes.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
        guard valid else {
            throw .agentDeclaration(agent: agent, problem: "\(what) name '\(name)' is not a valid environment variable name (letters, digits, _; not starting with a digit)")
        }
        if reserved.contains(name) || name.hasPrefix("RIGOR_") {
            throw .agentDeclaration(agent: agent, problem: "\(what) '\(name)' is set by the runner itself (the pinned environment, spec/guard.md); pick another name")
        }
    }

    /// `NAME=value` lines; blank lines and `#` comments skipped, an `export ` prefix and
    /// matching quotes around the value removed. Errors name the line, never a value.
    static func readSecretsFile(_ path: String, agent: String) throws(AgentHostError) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw .agentDeclaration(agent: agent, problem: "its secrets file '\(path)' \(reason)")
        }
        var out: [String: String] = [:]
        for (index, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "=") else {
                throw .agentDeclaration(agent: agent, problem: "line \(index + 1) of its secrets file '\(path)' is not NAME=value")
            }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            }
            out[name] = value
        }
        return out
    }
}
