/// How a user declares an agent: in the project file (`rigor.toml`, `[agents.NAME]`, spec/project.md)
/// or, for a plain file, with `--agent PATH` on the command line.
///
/// An agent is one of
/// - a **file**: `path = "agents/toy.py"` (a `.py` file runs through the Python SDK, anything
///   else is executed);
/// - a **directory** with an entry point: `path = "agents/multi"` plus `entry = "main.py"` (or the
///   first of `agent.py`, `main.py`, `agent` found there): the whole directory is visible to
///   the agent and hashed, so sibling imports and helper modules work;
/// - a **command line**: `command = ["node", "agent.js"]` or `["python", "-m", "pkg.agent"]`,
///   run in `path` (a directory, default the project root), with `files` naming what it needs.
///
/// Paths are relative to the project root. What an agent declares is what it may see (read-only,
/// at every isolation level) and what `agent_hash` covers: editing a helper module changes the
/// hash. Values of `env` and `secrets` are handed to the agent process only; their *names* are
/// recorded (`diagnostics.agent.env_names`), never their values.
public struct AgentSpec: Sendable, Equatable {
    /// The name the agent is recorded under (`agent_ref`): its name in the project file, or the
    /// path the user gave, relative to the project root.
    public var ref: String
    /// A file, or a directory (with `entry`, or the command's working directory).
    public var path: String?
    /// The entry point inside a directory agent.
    public var entry: String?
    /// The command line, when the agent is not a single file (`command[0]` is looked up on the
    /// pinned PATH, or is a path relative to `path`).
    public var command: [String]?
    /// More files or directories the agent needs (relative to the project root; a trailing `/`
    /// or a directory means all of it): visible read-only and hashed.
    public var files: [String]
    /// A Python interpreter (`.venv/bin/python`) or a venv directory (`.venv`) for `.py` agents
    /// and `python` commands; its prefix is made visible read-only.
    public var python: String?
    /// Settings handed to the agent as environment variables (name → value).
    public var env: [String: String]
    /// Secrets handed to the agent as environment variables: names whose values come from the
    /// caller's environment, else from `secretsFile` (`NAME=value` lines). Never persisted.
    public var secrets: [String]
    public var secretsFile: String?

    public init(ref: String, path: String? = nil, entry: String? = nil, command: [String]? = nil, files: [String] = [],
                python: String? = nil, env: [String: String] = [:], secrets: [String] = [], secretsFile: String? = nil) {
        self.ref = ref
        self.path = path
        self.entry = entry
        self.command = command
        self.files = files
        self.python = python
        self.env = env
        self.secrets = secrets
        self.secretsFile = secretsFile
    }

    /// The spec of a plain `--agent PATH`.
    public static func file(_ path: String, ref: String) -> AgentSpec { AgentSpec(ref: ref, path: path) }
}
