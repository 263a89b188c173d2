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
    /// Start Python agents from a fork server instead of a fresh interpreter (process level only).
    public var forkServer = false

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
