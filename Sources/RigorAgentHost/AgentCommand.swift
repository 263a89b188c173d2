import CRigorSpawn
import Foundation
import RigorSpec

/// Why an agent could not be prepared or started.
public enum AgentHostError: Error, Sendable, CustomStringConvertible {
    case agentNotFound(path: String)
    case notExecutable(path: String)
    case sdkMissing(path: String)
    case pythonNotFound
    case spawnFailed(path: String, errno: Int32)
    case workdirFailed(reason: String)
    case isolationUnavailable(IsolationLevel, reason: String)
    case forkServerFailed(reason: String)
    case noUIDAvailable(reason: String?)

    public var description: String {
        switch self {
        case .agentNotFound(let path):
            return "agent '\(path)' does not exist; pass the path of an agent file, e.g. Agents/toy_agent.py"
        case .notExecutable(let path):
            return "agent '\(path)' is not executable; run `chmod +x \(path)`, or give it a .py name to run it through the Python SDK"
        case .sdkMissing(let path):
            return "the Python agent SDK is missing at '\(path)'; install Rigor (`make install` puts it in <prefix>/share/rigor/sdk beside <prefix>/bin/rigor) or pass --sdk-dir"
        case .pythonNotFound:
            return "no python3 interpreter found for a .py agent; install python3 (`make run` does)"
        case .spawnFailed(let path, let e):
            return "cannot start agent '\(path)': \(String(cString: strerror(e)))"
        case .workdirFailed(let reason):
            return "cannot create the agent's private directory: \(reason)"
        case .noUIDAvailable(let reason?):
            return "no uid to run the agent as: \(reason); refusing to run it as root"
        case .noUIDAvailable(nil):
            return "no free uid to run the agent as (see \(LiveAgents.uidLockPath)); refusing to run it as root"
        case .forkServerFailed(let reason):
            return "the fork server could not start the agent: \(reason)"
        case .isolationUnavailable(let level, let reason):
            return "isolation level '\(level.rawValue)' is not available here: \(reason)"
        }
    }
}

/// How to start one agent, and the identity (`agent_hash`) of what will run.
public struct AgentCommand: Sendable {
    public enum Kind: String, Sendable { case executable, pythonSDK = "python-sdk" }

    public let kind: Kind
    /// The agent as the user named it (`agent_ref`).
    public let ref: String
    /// Absolute path of the agent file.
    public let agentFile: String
    public let executable: String
    public let arguments: [String]
    /// Files the agent needs to see besides system paths (agent file, SDK).
    public let visiblePaths: [String]
    /// `agent_hash`: the SHA-256 of what will run. Computed in the background from `resolve`
    /// (a compiled agent is megabytes, several milliseconds of hashing that the fork server's
    /// start and the store's opening can overlap); reading it waits until it is ready.
    public var agentHash: String { hashSource.value }
    private let hashSource: AgentHashSource
    /// Which version of the agent file this is (device, inode, size, modification time): a
    /// rebuilt agent gets another, without hashing it.
    public let fileIdentity: String
    /// Whether the agent can be started from a fork server (rigor-fork/1): always for Python
    /// agents (the SDK has one); for a native agent, when its file mentions the flag that starts
    /// one (`--rigor-fork-server`) — a program that does not contain it cannot understand it.
    public let offersForkServer: Bool

    public init(kind: Kind, ref: String, agentFile: String, executable: String, arguments: [String],
                visiblePaths: [String], agentHash: String, offersForkServer: Bool = false) {
        self.init(kind: kind, ref: ref, agentFile: agentFile, executable: executable, arguments: arguments,
                  visiblePaths: visiblePaths, hashSource: AgentHashSource(ready: agentHash),
                  fileIdentity: AgentCommand.identity(of: agentFile), offersForkServer: offersForkServer)
    }

    private init(kind: Kind, ref: String, agentFile: String, executable: String, arguments: [String],
                 visiblePaths: [String], hashSource: AgentHashSource, fileIdentity: String, offersForkServer: Bool) {
        self.kind = kind
        self.ref = ref
        self.agentFile = agentFile
        self.executable = executable
        self.arguments = arguments
        self.visiblePaths = visiblePaths
        self.hashSource = hashSource
        self.fileIdentity = fileIdentity
        self.offersForkServer = offersForkServer
    }

    /// Resolves an agent path: `.py` runs through the SDK in `sdkDirectory`, anything else is
    /// executed as it is.
    public static func resolve(agent: String, sdkDirectory: String) throws(AgentHostError) -> AgentCommand {
        let fm = FileManager.default
        let absolute = absolutePath(agent)
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: absolute, isDirectory: &isDir), !isDir.boolValue else {
            throw .agentNotFound(path: agent)
        }
        guard access(absolute, R_OK) == 0 else { throw .agentNotFound(path: agent) }
        let name = (absolute as NSString).lastPathComponent
        let identity = identity(of: absolute)
        if absolute.hasSuffix(".py") {
            let sdk = absolutePath(sdkDirectory)
            let launcher = "\(sdk)/run_agent.py"
            guard fm.fileExists(atPath: launcher) else { throw .sdkMissing(path: sdkDirectory) }
            guard let python = PythonInterpreter.path else { throw .pythonNotFound }
            let hash = AgentHashSource {
                var files: [String: JSON] = [name: .string(MappedFile.sha256(absolute) ?? "")]
                let sdkFiles = ((try? FileManager.default.contentsOfDirectory(atPath: sdk)) ?? []).filter { $0.hasSuffix(".py") }
                for f in sdkFiles {
                    if let digest = MappedFile.sha256("\(sdk)/\(f)") { files["sdk/\(f)"] = .string(digest) }
                }
                return (try? Digest.sha256(canonical: ["kind": .string(Kind.pythonSDK.rawValue), "files": .object(files)])) ?? ""
            }
            return AgentCommand(
                kind: .pythonSDK, ref: agent, agentFile: absolute, executable: python,
                arguments: ["-s", "-B", launcher, absolute], visiblePaths: [absolute, sdk], hashSource: hash,
                fileIdentity: identity, offersForkServer: true)
        }
        guard fm.isExecutableFile(atPath: absolute) else { throw .notExecutable(path: agent) }
        guard let offers = MappedFile.withBytes(absolute, { rigor_contains($0.baseAddress, $0.count, ForkServer.nativeFlag) == 1 })
        else { throw .agentNotFound(path: agent) }
        let hash = AgentHashSource {
            let files: [String: JSON] = [name: .string(MappedFile.sha256(absolute) ?? "")]
            return (try? Digest.sha256(canonical: ["kind": .string(Kind.executable.rawValue), "files": .object(files)])) ?? ""
        }
        return AgentCommand(
            kind: .executable, ref: agent, agentFile: absolute, executable: absolute, arguments: [],
            visiblePaths: [absolute], hashSource: hash, fileIdentity: identity, offersForkServer: offers)
    }

    /// `dev:ino:size:mtime` of a file ("" when it cannot be read).
    static func identity(of path: String) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { return "" }
        return "\(st.st_dev):\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }

    /// The same agent recorded under another `agent_ref` (the file it runs stays the same).
    public func named(_ newRef: String) -> AgentCommand {
        AgentCommand(kind: kind, ref: newRef, agentFile: agentFile, executable: executable, arguments: arguments,
                     visiblePaths: visiblePaths, hashSource: hashSource, fileIdentity: fileIdentity, offersForkServer: offersForkServer)
    }

    /// The same agent started through another program (bwrap), with that program's arguments.
    func launched(by executable: String, arguments: [String]) -> AgentCommand {
        AgentCommand(kind: kind, ref: ref, agentFile: agentFile, executable: executable, arguments: arguments,
                     visiblePaths: visiblePaths, hashSource: hashSource, fileIdentity: fileIdentity, offersForkServer: false)
    }

    /// The files the agent hash covers, by name (`<agent file>`, `sdk/<name>`), with their paths.
    public var hashedFiles: [String: String] {
        var out = [(agentFile as NSString).lastPathComponent: agentFile]
        if kind == .pythonSDK, let sdk = visiblePaths.last {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: sdk)) ?? []).filter { $0.hasSuffix(".py") }
            for n in names { out["sdk/\(n)"] = "\(sdk)/\(n)" }
        }
        return out
    }

    /// The same agent started with extra command-line arguments (benchmarks use this to pick a
    /// mode of the Swift agent). The hash records them, since they can change behaviour.
    public func appending(arguments extra: [String]) -> AgentCommand {
        let base = hashSource
        let hash = extra.isEmpty ? base : AgentHashSource {
            (try? Digest.sha256(canonical: ["agent": .string(base.value), "arguments": .array(extra.map(JSON.string))])) ?? base.value
        }
        return AgentCommand(kind: kind, ref: ref, agentFile: agentFile, executable: executable, arguments: arguments + extra,
                            visiblePaths: visiblePaths, hashSource: hash, fileIdentity: fileIdentity, offersForkServer: offersForkServer)
    }

    static func absolutePath(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (joined as NSString).standardizingPath
    }
}

/// The real python3, found once per process.
///
/// `python3` on PATH may be a shim that costs ~140 ms per start; the interpreter behind it,
/// started isolated (`-I`), costs ~17 ms. Debian's `/usr/bin/python3` is preferred.
public enum PythonInterpreter {
    public static let path: String? = {
        let fm = FileManager.default
        for candidate in ["/usr/bin/python3", "/usr/local/bin/python3"] where fm.isExecutableFile(atPath: candidate) {
            return (candidate as NSString).resolvingSymlinksInPath
        }
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in searchPath.split(separator: ":") where fm.isExecutableFile(atPath: "\(dir)/python3") {
            return "\(dir)/python3"
        }
        return nil
    }()
}
