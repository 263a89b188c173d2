import Foundation
import RigorSpec

/// How strongly the agent process is contained.
public enum IsolationLevel: String, Sendable, CaseIterable, Comparable {
    /// A plain subprocess with the pinned environment, no limits.
    case none
    /// Own process group, private working directory, pinned environment, rlimits.
    case process
    /// `process` plus bubblewrap: no network, read-only system, private /tmp.
    case namespace

    var rank: Int {
        switch self {
        case .none: return 0
        case .process: return 1
        case .namespace: return 2
        }
    }

    public static func < (a: IsolationLevel, b: IsolationLevel) -> Bool { a.rank < b.rank }

    /// What an agent at this level can still see or reach of the machine, in one sentence for
    /// a user who picked the level (spec/guard.md "What is not isolated"); nil at `namespace`.
    public var exposure: String? {
        switch self {
        case .none:
            return "--isolation none contains nothing: the agent runs as a plain child with the runner's user, "
                + "no resource limits, the runner's view of every file, /tmp, process and the network; "
                + "use --isolation namespace for agents you do not trust (spec/guard.md)"
        case .process:
            // Not root: no uid and no cgroup of its own, nothing to find a daemon by (spec/guard.md).
            let daemons = geteuid() == 0 ? "" : "; run by a user other than root it has no uid of its own, so a daemon it "
                + "leaves can outlive the episode, and outlives a runner killed with SIGKILL"
            return "--isolation process does not hide the machine: the agent shares /tmp and /dev/shm with the host, "
                + "can read every process's command line in /proc and every world-readable file, and reaches the "
                + "network\(daemons); use --isolation namespace for agents you do not trust (spec/guard.md)"
        case .namespace:
            return nil
        }
    }
}

/// The resource limits applied to the agent process (rlimits).
public struct ProcessLimits: Sendable, Equatable {
    public var cpuSeconds: Int
    public var addressSpaceBytes: Int
    public var fileSizeBytes: Int
    public var openFiles: Int
    public var processes: Int

    public static let defaults = ProcessLimits(
        cpuSeconds: 60, addressSpaceBytes: 2 << 30, fileSizeBytes: 64 << 20, openFiles: 256, processes: 256)

    public init(cpuSeconds: Int, addressSpaceBytes: Int, fileSizeBytes: Int, openFiles: Int, processes: Int) {
        self.cpuSeconds = cpuSeconds
        self.addressSpaceBytes = addressSpaceBytes
        self.fileSizeBytes = fileSizeBytes
        self.openFiles = openFiles
        self.processes = processes
    }
}

/// When an episode's agent is forked from a warm fork server (spec/agent-protocol.md §10)
/// instead of exec'd. Either way it is a fresh process with the same artifact.
public enum ForkServerUse: String, Sendable, Equatable {
    /// Every agent is exec'd (`--no-fork-server`; the default of a single `rigor run`).
    case never
    /// Python agents come from the SDK's server, at the process level and (when the runner is
    /// root) at the namespace level; an agent whose server cannot start, or fails to fork it,
    /// is exec'd instead. Native agents are exec'd. The default of batches.
    case python
    /// `--fork-server`: Python agents, and at the process level native agents that offer a
    /// server; a server that cannot start fails the episodes that need it, saying why.
    case always
}

/// Everything the host enforces on one agent process, recorded in the artifact's `sandbox`.
public struct GuardSettings: Sendable, Equatable {
    public var isolation: IsolationLevel
    public var limits: ProcessLimits
    /// How long the agent may take to answer one observation.
    public var actTimeoutSeconds: Double
    /// The longest line the agent may write to stdout.
    public var maxLineBytes: Int
    /// How much of the agent's stderr is kept (the tail).
    public var maxStderrBytes: Int
    /// After `end`, how long the agent has to exit before its process group is killed.
    public var endGraceSeconds: Double
    /// When agents are forked from a warm fork server instead of exec'd.
    public var forkServer = ForkServerUse.never
    /// How many bytes of action lines the agent may send in one episode (not recorded in
    /// `sandbox.limits`: it only keeps artifacts storable, see `ArtifactLimits`).
    public var maxActionBytesPerEpisode = ArtifactLimits.actionBytesPerEpisode

    public init(
        isolation: IsolationLevel = .process, limits: ProcessLimits = .defaults, actTimeoutSeconds: Double = 10,
        maxLineBytes: Int = 1 << 20, maxStderrBytes: Int = 64 << 10, endGraceSeconds: Double = 1
    ) {
        self.isolation = isolation
        self.limits = limits
        self.actTimeoutSeconds = actTimeoutSeconds
        self.maxLineBytes = maxLineBytes
        self.maxStderrBytes = maxStderrBytes
        self.endGraceSeconds = endGraceSeconds
    }

    public var limitsJSON: JSON {
        [
            "cpu_seconds": .int(limits.cpuSeconds),
            "address_space_bytes": .int(limits.addressSpaceBytes),
            "file_size_bytes": .int(limits.fileSizeBytes),
            "open_files": .int(limits.openFiles),
            "processes": .int(limits.processes),
            "act_timeout_seconds": JSON.number(actTimeoutSeconds),
            "max_line_bytes": .int(maxLineBytes),
            "max_stderr_bytes": .int(maxStderrBytes),
        ]
    }
}

extension JSON {
    /// An integer when the value is integral (so it hashes the same under every recipe).
    public static func number(_ d: Double) -> JSON {
        d.rounded() == d && abs(d) < 1e15 ? .int(Int(d)) : .double(d)
    }
}
