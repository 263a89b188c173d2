import RigorSpec

/// What executing one action did: the result the agent will see and the IO it performed.
public struct ActionOutcome: Sendable {
    public var result: JSON
    public var ioAudit: [JSON]
    /// Evidence checks the world attaches to the step (spec/world-protocol.md, `evidence`).
    public var evidence: [EvidenceCheck]

    public init(result: JSON, ioAudit: [JSON] = [], evidence: [EvidenceCheck] = []) {
        self.result = result
        self.ioAudit = ioAudit
        self.evidence = evidence
    }

    public static func failure(_ code: String, _ audit: [JSON] = []) -> ActionOutcome {
        ActionOutcome(result: ["ok": false, "error": .string(code)], ioAudit: audit)
    }
}

/// The validator's reading of the world after an action.
public enum WorldVerdict: Sendable, Equatable {
    /// Not solved yet; the agent may go on.
    case pending(String)
    case success(String)
    /// Failed for good: the episode ends in `logic_failure`.
    case failed(String)
}

/// The world itself failed (a world program crashed, hung, answered garbage or broke the
/// protocol): the task's fault, never the agent's. The episode ends `world_failed`.
public struct WorldFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// For a world program that failed while setting up: the end of its stderr and how it was
    /// started, for the artifact's diagnostics (never hashed).
    public var log: String?
    public var launchedBy: String?
    public init(_ message: String, log: String? = nil, launchedBy: String? = nil) {
        self.message = message
        self.log = log
        self.launchedBy = launchedBy
    }
    public var description: String { message }
}

/// A task's state for one seed, owned by the runner for one episode.
///
/// The runner checks every action against the action surface and the sandbox first, so a
/// world only ever sees declared actions with well-typed, allowlisted arguments. Built-in
/// worlds never fail; a world program can, and says so by throwing.
public protocol TaskWorld: AnyObject {
    func execute(_ action: CheckedAction) throws(WorldFailure) -> ActionOutcome
    func evaluate() throws(WorldFailure) -> WorldVerdict
    /// What the observation's `visible_state` shows.
    var visibleState: JSON { get }
    /// A refusal the world itself made while executing the last action (a TraceCore task's
    /// environment checks the paths its actions touch): the runner ends the episode
    /// `sandbox_violation` with this message. Nil for built-in worlds, which never refuse.
    var sandboxRefusal: String? { get }
    /// What the validator returned besides its verdict, recorded in the artifact's `validator`
    /// (a world program's; nil for built-in worlds).
    var verdictPayload: JSON? { get }
}

extension TaskWorld {
    public var sandboxRefusal: String? { nil }
    public var verdictPayload: JSON? { nil }
}

/// A kind of world: Swift code that builds worlds from a manifest and a seed.
public protocol WorldKind: Sendable {
    /// The name `world = "..."` uses in task.toml.
    static var kind: String { get }
    /// Bumped whenever the code's behaviour changes; part of `task_hash`.
    static var codeVersion: String { get }
    /// `key`: the evaluator's world key; every hidden value must be drawn from `PRNG(taskID:seed:key:)`.
    static func make(manifest: TaskManifest, seed: Int, key: WorldKey) throws(TaskError) -> any TaskWorld
    /// The actions this kind implements: a manifest that declares any other is refused when
    /// the task is loaded, not when an agent first sends it.
    static var actions: [String] { get }
    /// Checks the kind's own settings in the manifest at load time (default: none to check).
    static func check(manifest: TaskManifest) throws(TaskError)
}

extension WorldKind {
    public static func check(manifest: TaskManifest) throws(TaskError) {}
}

/// Every world kind this build of Rigor knows.
public enum WorldCatalog {
    public static let kinds: [any WorldKind.Type] = [
        HiddenConfig.self, RateLimitedAPI.self, RateLimitedChain.self, DeterministicRateService.self, LogAlertTriage.self,
        ConfigDrift.self, IncidentChain.self, LogStream.self, Runbook.self, CodeAudit.self, AnswerVault.self, Declarative.self,
    ]

    public static func kind(named name: String) -> (any WorldKind.Type)? {
        kinds.first { $0.kind == name }
    }

    public static var names: [String] { kinds.map { $0.kind }.sorted() }
}
