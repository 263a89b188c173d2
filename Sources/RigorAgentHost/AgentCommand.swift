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
    /// What an agent's declaration (project file, `--agent`, `--python`) gets wrong.
    case agentDeclaration(agent: String, problem: String)
    case secretMissing(name: String, agent: String, lookedIn: [String])
    /// The agent's uid cannot reach one of its files (`blocker` is the directory in the way).
    case unreachableForAgent(path: String, blocker: String, level: IsolationLevel)
    /// The runner could not set up the agent's sandbox: the machine's failing, not the agent's.
    case sandboxSetupFailed(reason: String)

    public var description: String {
        switch self {
        case .agentNotFound(let path):
            let absolute = AgentCommand.absolutePath(path)
            return "agent '\(path)' does not exist (looked for '\(absolute)'); pass the path of an agent file or directory, e.g. Agents/toy_agent.py"
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
        case .agentDeclaration(let agent, let problem):
            return "agent '\(agent)': \(problem)"
        case .secretMissing(let name, let agent, let looked):
            return "agent '\(agent)' declares the secret '\(name)', which is not set: looked in \(looked.joined(separator: " and ")); "
                + "export \(name) before running rigor\(looked.count > 1 ? ", or add a \(name)=... line to that file" : ", or name a secrets_file that holds it")"
        case .unreachableForAgent(let path, let blocker, let level):
            return "the agent runs under a uid of its own at --isolation \(level.rawValue) and cannot reach '\(path)': "
                + "'\(blocker)' is closed to other users (a private directory, as `mktemp -d` or a 0700 home makes). "
                + "Run at --isolation namespace (the sandbox shows the agent its files whatever the modes above them), "
                + "or let others pass through it: `chmod o+x \(blocker)`"
        case .sandboxSetupFailed(let reason):
            return "the runner could not set up the agent's sandbox (this is not the agent's failure): \(reason)"
        }
    }
}

/// How to start one agent, and the identity (`agent_hash`) of what will run.
public struct AgentCommand: Sendable {
    /// `executable`: a file run as it is; `pythonSDK`: a `.py` file (alone or in its directory)
    /// run through the SDK's launcher; `command`: a declared command line (`node agent.js`).
    public enum Kind: String, Sendable { case executable, pythonSDK = "python-sdk", command }

    public let kind: Kind
    /// The agent as the user named it (`agent_ref`).
    public let ref: String
    /// Absolute path of the agent file: the file, a directory agent's entry point, or for a
    /// command line the program it starts.
    public let agentFile: String
    public let executable: String
    public let arguments: [String]
    /// Files the agent needs to see besides system paths (agent file or directory, declared
    /// files, the SDK, a declared interpreter's prefix): read-only at every level.
    public let visiblePaths: [String]
    /// The Python SDK the agent runs through or imports (shown and hashed), if any.
    public let sdkDirectory: String?
    /// Where a command line starts (its `path`); nil: the episode's private directory.
    public let workingDirectory: String?
    /// The `env` and `secrets` the agent declared: handed to its process only.
    public let declaredEnvironment: AgentEnvironment
    /// Variables the runner adds for this kind of agent (`PYTHONPATH` with the SDK for a
    /// Python command line); recorded like the pinned environment.
    public let runnerEnvironment: [String: String]
    /// A declared interpreter or venv (absolute), if any: shown, never hashed.
    public let declaredPython: String?
    /// `agent_hash`: the SHA-256 of what will run. Computed in the background from `resolve`
    /// (a compiled agent is megabytes, several milliseconds of hashing that the fork server's
    /// start and the store's opening can overlap); reading it waits until it is ready.
    public var agentHash: String { hashSource.value }
    private let hashSource: AgentHashSource
    /// The hash source, for a copy of the command that runs copied files (`relocated`): the
    /// hash stays the originals'.
    var hashSourceForCopy: AgentHashSource { hashSource }
    /// What `agent_hash` covers besides the kind and the files: a directory agent's `entry`, a
    /// command line's `command` and `working_directory` (spec/project.md); empty for a file.
    public var hashRecipeExtra: [String: JSON] { hashSource.recipeExtra }
    /// The files the agent hash covers, by the name the hash records them under (the file's
    /// name, `sdk/<name>`, a path inside a directory agent, a declared file's path relative to
    /// the project root), with their absolute paths.
    public let hashedFiles: [String: String]
    /// Which version of the agent file this is (device, inode, size, modification time): a
    /// rebuilt agent gets another, without hashing it.
    public let fileIdentity: String
    /// Whether the agent can be started from a fork server (rigor-fork/1): always for Python
    /// agents (the SDK has one); for a native agent, when its file mentions the flag that starts
    /// one (`--rigor-fork-server`) — a program that does not contain it cannot understand it.
    public let offersForkServer: Bool

    /// Whether the agent sees exactly its file and the SDK with the system's python: what the
    /// jailed fork server can show (it hides the other agents' files one by one). A directory
    /// agent, declared files or a declared interpreter are exec'd in a sandbox of their own.
    public var fitsJailedForkServer: Bool {
        kind == .pythonSDK && declaredPython == nil && Set(visiblePaths) == Set([agentFile] + (sdkDirectory.map { [$0] } ?? []))
    }

    public init(kind: Kind, ref: String, agentFile: String, executable: String, arguments: [String],
                visiblePaths: [String], agentHash: String, offersForkServer: Bool = false) {
        self.init(kind: kind, ref: ref, agentFile: agentFile, executable: executable, arguments: arguments,
                  visiblePaths: visiblePaths, hashSource: AgentHashSource(ready: agentHash),
                  hashedFiles: [(agentFile as NSString).lastPathComponent: agentFile],
                  fileIdentity: AgentCommand.identity(of: agentFile), offersForkServer: offersForkServer,
                  sdkDirectory: kind == .pythonSDK ? visiblePaths.last : nil)
    }

    init(kind: Kind, ref: String, agentFile: String, executable: String, arguments: [String],
         visiblePaths: [String], hashSource: AgentHashSource, hashedFiles: [String: String], fileIdentity: String,
         offersForkServer: Bool, sdkDirectory: String?, workingDirectory: String? = nil,
         declaredEnvironment: AgentEnvironment = AgentEnvironment(), runnerEnvironment: [String: String] = [:],
         declaredPython: String? = nil) {
        self.kind = kind
        self.ref = ref
        self.agentFile = agentFile
        self.executable = executable
        self.arguments = arguments
        self.visiblePaths = visiblePaths
        self.hashSource = hashSource
        self.hashedFiles = hashedFiles
        self.fileIdentity = fileIdentity
        self.offersForkServer = offersForkServer
        self.sdkDirectory = sdkDirectory
        self.workingDirectory = workingDirectory
        self.declaredEnvironment = declaredEnvironment
        self.runnerEnvironment = runnerEnvironment
        self.declaredPython = declaredPython
    }

    /// A copy with some fields changed (the rest stay the same, the hash included).
    func with(ref: String? = nil, executable: String? = nil, arguments: [String]? = nil, hashSource: AgentHashSource? = nil,
              offersForkServer: Bool? = nil, declaredEnvironment: AgentEnvironment? = nil) -> AgentCommand {
        AgentCommand(kind: kind, ref: ref ?? self.ref, agentFile: agentFile, executable: executable ?? self.executable,
                     arguments: arguments ?? self.arguments, visiblePaths: visiblePaths, hashSource: hashSource ?? self.hashSource,
                     hashedFiles: hashedFiles, fileIdentity: fileIdentity, offersForkServer: offersForkServer ?? self.offersForkServer,
                     sdkDirectory: sdkDirectory, workingDirectory: workingDirectory,
                     declaredEnvironment: declaredEnvironment ?? self.declaredEnvironment,
                     runnerEnvironment: runnerEnvironment, declaredPython: declaredPython)
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
            var hashed = sdkFiles(sdk)
            hashed[name] = absolute
            let hash = AgentHashSource.files(hashed, kind: .pythonSDK)
            return AgentCommand(
                kind: .pythonSDK, ref: agent, agentFile: absolute, executable: python,
                arguments: ["-s", "-B", launcher, absolute], visiblePaths: [absolute, sdk], hashSource: hash,
                hashedFiles: hashed, fileIdentity: identity, offersForkServer: true, sdkDirectory: sdk)
        }
        guard fm.isExecutableFile(atPath: absolute) else { throw .notExecutable(path: agent) }
        let interpreter = try Shebang.interpreterPaths(of: absolute, agent: agent)
        guard let offers = MappedFile.withBytes(absolute, { rigor_contains($0.baseAddress, $0.count, ForkServer.nativeFlag) == 1 })
        else { throw .agentNotFound(path: agent) }
        let hash = AgentHashSource.files([name: absolute], kind: .executable)
        return AgentCommand(
            kind: .executable, ref: agent, agentFile: absolute, executable: absolute, arguments: [],
            visiblePaths: [absolute] + interpreter, hashSource: hash, hashedFiles: [name: absolute], fileIdentity: identity,
            offersForkServer: offers, sdkDirectory: nil)
    }

    /// `dev:ino:size:mtime` of a file ("" when it cannot be read).
    static func identity(of path: String) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { return "" }
        return "\(st.st_dev):\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }

    /// The same agent recorded under another `agent_ref` (the file it runs stays the same).
    public func named(_ newRef: String) -> AgentCommand { with(ref: newRef) }

    /// The same agent started through another program (bwrap), with that program's arguments.
    func launched(by executable: String, arguments: [String]) -> AgentCommand {
        with(executable: executable, arguments: arguments, offersForkServer: false)
    }

    /// The same agent started with extra command-line arguments (benchmarks use this to pick a
    /// mode of the Swift agent). The hash records them, since they can change behaviour.
    public func appending(arguments extra: [String]) -> AgentCommand {
        let base = hashSource
        let hash = extra.isEmpty ? base : AgentHashSource {
            (try? Digest.sha256(canonical: ["agent": .string(base.value), "arguments": .array(extra.map(JSON.string))])) ?? base.value
        }
        return with(arguments: arguments + extra, hashSource: hash)
    }

    /// The SDK's `.py` files, by the names the hash records them under (`sdk/<name>`).
    static func sdkFiles(_ sdk: String) -> [String: String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: sdk)) ?? []).filter { $0.hasSuffix(".py") }
        var out: [String: String] = [:]
        for n in names { out["sdk/\(n)"] = "\(sdk)/\(n)" }
        return out
    }

    public static func absolutePath(_ path: String) -> String {
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
