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

    public var description: String {
        switch self {
        case .agentNotFound(let path):
            return "agent '\(path)' does not exist; pass the path of an agent file, e.g. Agents/toy_agent.py"
        case .notExecutable(let path):
            return "agent '\(path)' is not executable; run `chmod +x \(path)`, or give it a .py name to run it through the Python SDK"
        case .sdkMissing(let path):
            return "the Python agent SDK is missing at '\(path)'; run from the repository root or pass --sdk-dir"
        case .pythonNotFound:
            return "no python3 interpreter found for a .py agent; install python3 (`make run` does)"
        case .spawnFailed(let path, let e):
            return "cannot start agent '\(path)': \(String(cString: strerror(e)))"
        case .workdirFailed(let reason):
            return "cannot create the agent's private directory: \(reason)"
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
    public let agentHash: String
    /// Whether the agent can be started from a fork server (rigor-fork/1): always for Python
    /// agents (the SDK has one); for a native agent, when its file mentions the flag that starts
    /// one (`--rigor-fork-server`) — a program that does not contain it cannot understand it.
    public let offersForkServer: Bool

    public init(kind: Kind, ref: String, agentFile: String, executable: String, arguments: [String],
                visiblePaths: [String], agentHash: String, offersForkServer: Bool = false) {
        self.kind = kind
        self.ref = ref
        self.agentFile = agentFile
        self.executable = executable
        self.arguments = arguments
        self.visiblePaths = visiblePaths
        self.agentHash = agentHash
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
        guard let agentBytes = fm.contents(atPath: absolute) else { throw .agentNotFound(path: agent) }
        let name = (absolute as NSString).lastPathComponent
        var files: [String: JSON] = [name: .string(Digest.sha256(agentBytes))]
        if absolute.hasSuffix(".py") {
            let sdk = absolutePath(sdkDirectory)
            let launcher = "\(sdk)/run_agent.py"
            guard fm.fileExists(atPath: launcher) else { throw .sdkMissing(path: sdkDirectory) }
            guard let python = PythonInterpreter.path else { throw .pythonNotFound }
            let sdkFiles = ((try? fm.contentsOfDirectory(atPath: sdk)) ?? []).filter { $0.hasSuffix(".py") }.sorted()
            for f in sdkFiles {
                if let bytes = fm.contents(atPath: "\(sdk)/\(f)") { files["sdk/\(f)"] = .string(Digest.sha256(bytes)) }
            }
            let hash = (try? Digest.sha256(canonical: ["kind": .string(Kind.pythonSDK.rawValue), "files": .object(files)])) ?? ""
            return AgentCommand(
                kind: .pythonSDK, ref: agent, agentFile: absolute, executable: python,
                arguments: ["-s", "-B", launcher, absolute], visiblePaths: [absolute, sdk], agentHash: hash,
                offersForkServer: true)
        }
        guard fm.isExecutableFile(atPath: absolute) else { throw .notExecutable(path: agent) }
        let hash = (try? Digest.sha256(canonical: ["kind": .string(Kind.executable.rawValue), "files": .object(files)])) ?? ""
        let offers = agentBytes.withUnsafeBytes { rigor_contains($0.baseAddress, $0.count, ForkServer.nativeFlag) == 1 }
        return AgentCommand(
            kind: .executable, ref: agent, agentFile: absolute, executable: absolute, arguments: [],
            visiblePaths: [absolute], agentHash: hash, offersForkServer: offers)
    }

    /// The same agent recorded under another `agent_ref` (the file it runs stays the same).
    public func named(_ newRef: String) -> AgentCommand {
        AgentCommand(kind: kind, ref: newRef, agentFile: agentFile, executable: executable, arguments: arguments,
                     visiblePaths: visiblePaths, agentHash: agentHash, offersForkServer: offersForkServer)
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
        var hash = agentHash
        if !extra.isEmpty, let h = try? Digest.sha256(canonical: ["agent": .string(agentHash), "arguments": .array(extra.map(JSON.string))]) {
            hash = h
        }
        return AgentCommand(kind: kind, ref: ref, agentFile: agentFile, executable: executable, arguments: arguments + extra,
                            visiblePaths: visiblePaths, agentHash: hash, offersForkServer: offersForkServer)
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
