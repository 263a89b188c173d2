import CRigorSpawn
import Foundation
import RigorSpec

/// Turning a declared agent (`AgentSpec`) into something that runs (`AgentCommand`).
///
/// A plain file with nothing else declared resolves exactly as `resolve(agent:sdkDirectory:)`
/// does, so its `agent_hash` is what it always was. Everything else hashes with the recipe of
/// spec/project.md: the kind, every declared file's digest by its name (inside a directory
/// agent: its path there; a declared file: its path relative to the project root), and what
/// says how it starts (`entry`, `command`, `working_directory`).
extension AgentCommand {
    /// Where a command line's program is looked up: the agent's pinned PATH (spec/guard.md).
    static let pinnedPath = ["/usr/local/bin", "/usr/bin", "/bin"]
    /// What a directory agent runs when it names no entry point, in this order.
    public static let defaultEntries = ["agent.py", "main.py", "agent"]

    /// `path` with `.`, `..` and repeated slashes removed, without looking at the file system
    /// (no symlink is followed).
    public static func lexicallyNormalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Resolves `spec`, whose relative paths are relative to `projectRoot`. `environment` is the
    /// caller's (where secrets come from).
    public static func resolve(spec: AgentSpec, projectRoot: String, sdkDirectory: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(AgentHostError) -> AgentCommand {
        let root = absolutePath(projectRoot)
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? (p as NSString).standardizingPath : ((root + "/" + p) as NSString).standardizingPath }
        let declared = try AgentEnvironment.resolve(spec, projectRoot: root, callerEnvironment: environment)
        // An interpreter is run by the path given: a venv's bin/python is a symlink to the
        // system's, and resolving it would lose the venv (its site-packages).
        let python = try spec.python.map { given throws(AgentHostError) in
            try PythonChoice.resolve(given, at: lexicallyNormalised(given.hasPrefix("/") ? given : root + "/" + given), agent: spec.ref)
        }
        let sdk = absolutePath(sdkDirectory)
        if let command = spec.command {
            return try resolveCommand(spec, command: command, root: root, sdk: sdk, python: python, declared: declared, absolute: absolute)
        }
        guard let path = spec.path else {
            throw .agentDeclaration(agent: spec.ref, problem: "it declares neither a path nor a command")
        }
        let target = absolute(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) else {
            throw .agentDeclaration(agent: spec.ref, problem: "its path '\(path)' does not exist (looked for '\(target)')")
        }
        if !isDirectory.boolValue && python == nil && spec.files.isEmpty {
            return try resolve(agent: target, sdkDirectory: sdkDirectory).with(ref: spec.ref, declaredEnvironment: declared)
        }
        // A file with an interpreter or files of its own, or a directory with an entry point.
        let entryPath: String
        var hashed: [String: String] = [:]
        var visible: [String]
        var extra: [String: JSON] = [:]
        if isDirectory.boolValue {
            let entry = spec.entry ?? defaultEntries.first { FileManager.default.fileExists(atPath: "\(target)/\($0)") }
            guard let entry else {
                throw .agentDeclaration(agent: spec.ref, problem: "the directory '\(target)' has none of \(defaultEntries.joined(separator: ", ")); "
                    + "name its entry point (`entry = \"main.py\"`)")
            }
            entryPath = ((target + "/" + entry) as NSString).standardizingPath
            guard entryPath.hasPrefix(target + "/"), FileManager.default.fileExists(atPath: entryPath) else {
                throw .agentDeclaration(agent: spec.ref, problem: "its entry point '\(entry)' is not a file inside '\(target)'")
            }
            for (rel, file) in DeclaredFiles.listing(target, excluding: python?.prefix) { hashed[rel] = file }
            visible = [target]
            extra["entry"] = .string(String(entryPath.dropFirst(target.count + 1)))
        } else {
            entryPath = target
            hashed[(target as NSString).lastPathComponent] = target
            visible = [target]
        }
        for given in spec.files {
            for (rel, file) in try DeclaredFiles.expand(given, absolute: absolute(given), root: root, agent: spec.ref, excluding: python?.prefix) {
                hashed[rel] = file
            }
            visible.append(absolute(given))
        }
        let interpreter = python?.interpreter
        visible += python?.visible ?? []
        let identity = identity(of: entryPath)
        if entryPath.hasSuffix(".py") {
            let launcher = "\(sdk)/run_agent.py"
            guard FileManager.default.fileExists(atPath: launcher) else { throw .sdkMissing(path: sdkDirectory) }
            guard let executable = interpreter ?? PythonInterpreter.path else { throw .pythonNotFound }
            hashed.merge(sdkFiles(sdk)) { own, _ in own }
            return AgentCommand(
                kind: .pythonSDK, ref: spec.ref, agentFile: entryPath, executable: executable, arguments: ["-s", "-B", launcher, entryPath],
                visiblePaths: visible + [sdk], hashSource: .files(hashed, kind: .pythonSDK, extra: extra), hashedFiles: hashed,
                fileIdentity: identity, offersForkServer: true, sdkDirectory: sdk, declaredEnvironment: declared, declaredPython: python?.given)
        }
        guard FileManager.default.isExecutableFile(atPath: entryPath) else {
            throw .agentDeclaration(agent: spec.ref, problem: "its entry point '\(entryPath)' is not executable: `chmod +x` it, give it a .py name, "
                + "or declare a command (`command = [\"node\", \"\((entryPath as NSString).lastPathComponent)\"]`)")
        }
        let offers = MappedFile.withBytes(entryPath) { rigor_contains($0.baseAddress, $0.count, ForkServer.nativeFlag) == 1 } ?? false
        visible += try Shebang.interpreterPaths(of: entryPath, agent: spec.ref)
        return AgentCommand(
            kind: .executable, ref: spec.ref, agentFile: entryPath, executable: entryPath, arguments: [],
            visiblePaths: visible, hashSource: .files(hashed, kind: .executable, extra: extra), hashedFiles: hashed,
            fileIdentity: identity, offersForkServer: offers, sdkDirectory: nil, declaredEnvironment: declared, declaredPython: python?.given)
    }

    private static func resolveCommand(_ spec: AgentSpec, command: [String], root: String, sdk: String, python: PythonChoice?,
                                       declared: AgentEnvironment, absolute: (String) -> String) throws(AgentHostError) -> AgentCommand {
        guard let first = command.first, !first.isEmpty else {
            throw .agentDeclaration(agent: spec.ref, problem: "its command is empty; e.g. command = [\"node\", \"agent.js\"]")
        }
        let cwd = spec.path.map(absolute) ?? root
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: cwd, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .agentDeclaration(agent: spec.ref, problem: "its command runs in '\(spec.path ?? ".")', which is not a directory (looked for '\(cwd)')")
        }
        let pythonNamed = first == "python" || first == "python3" || first.hasPrefix("python3.")
        let program: String
        if first.contains("/") {
            program = first.hasPrefix("/") ? first : ((cwd + "/" + first) as NSString).standardizingPath
            guard FileManager.default.isExecutableFile(atPath: program) else {
                throw .agentDeclaration(agent: spec.ref, problem: "its command's program '\(first)' is not an executable file (looked for '\(program)')")
            }
        } else if pythonNamed, let python {
            program = python.interpreter
        } else if let found = pinnedPath.map({ "\($0)/\(first)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            program = found
        } else if pythonNamed, let found = PythonInterpreter.path {
            program = found
        } else {
            throw .agentDeclaration(agent: spec.ref, problem: "its command's program '\(first)' is not on the agent's PATH (\(pinnedPath.joined(separator: ":"))); "
                + "give its absolute path, or a path relative to the command's directory")
        }
        let isPython = pythonNamed || (program as NSString).lastPathComponent.hasPrefix("python")
        var files = spec.files
        if files.isEmpty, let path = spec.path { files = [path] }
        guard !files.isEmpty else {
            throw .agentDeclaration(agent: spec.ref, problem: "its command declares no files and no path: name what it runs (`files = [\"agents/mine/\"]`), "
                + "which is what it may see and what agent_hash covers")
        }
        var hashed: [String: String] = [:]
        var visible: [String] = []
        for given in files {
            for (rel, file) in try DeclaredFiles.expand(given, absolute: absolute(given), root: root, agent: spec.ref, excluding: python?.prefix) {
                hashed[rel] = file
            }
            visible.append(absolute(given))
        }
        let covered = visible.contains { cwd == $0 || cwd.hasPrefix($0 + "/") || $0.hasPrefix(cwd + "/") }
        guard covered else {
            throw .agentDeclaration(agent: spec.ref, problem: "its command runs in '\(cwd)', which none of its files is in; add that directory to files")
        }
        var runnerEnvironment: [String: String] = [:]
        if isPython {
            guard FileManager.default.fileExists(atPath: "\(sdk)/rigor_sdk.py") else { throw .sdkMissing(path: sdk) }
            hashed.merge(sdkFiles(sdk)) { own, _ in own }
            visible.append(sdk)
            runnerEnvironment["PYTHONPATH"] = sdk
        }
        visible += python?.visible ?? []
        let relativeCwd = cwd == root ? "." : cwd.hasPrefix(root + "/") ? String(cwd.dropFirst(root.count + 1)) : cwd
        let extra: [String: JSON] = ["command": .array(command.map(JSON.string)), "working_directory": .string(relativeCwd)]
        return AgentCommand(
            kind: .command, ref: spec.ref, agentFile: program, executable: program, arguments: Array(command.dropFirst()),
            visiblePaths: visible, hashSource: .files(hashed, kind: .command, extra: extra), hashedFiles: hashed,
            fileIdentity: identity(of: program), offersForkServer: false, sdkDirectory: isPython ? sdk : nil, workingDirectory: cwd,
            declaredEnvironment: declared, runnerEnvironment: runnerEnvironment, declaredPython: python?.given)
    }
}

/// A declared Python: a venv directory (its `bin/python3`) or an interpreter file. The
/// interpreter is run by the path given (a venv's python finds its packages through the
/// `pyvenv.cfg` beside that path, not through the file it links to); the venv and the
/// installation it links to are made visible, read-only; neither is hashed (they are the machine's).
struct PythonChoice {
    let given: String
    let interpreter: String
    let prefix: String
    let visible: [String]

    static func resolve(_ given: String, at path: String, agent: String) throws(AgentHostError) -> PythonChoice {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .agentDeclaration(agent: agent, problem: "its python '\(given)' does not exist (looked for '\(path)'); make the venv "
                + "(`python3 -m venv \(given)`) or name an interpreter")
        }
        let interpreter: String
        let prefix: String
        if isDirectory.boolValue {
            // A link counts even when it leads nowhere: that is then the error to report.
            guard let found = ["python3", "python"].map({ "\(path)/bin/\($0)" }).first(where: { candidate in
                var st = stat()
                return lstat(candidate, &st) == 0
            }) else {
                throw .agentDeclaration(agent: agent, problem: "its python '\(given)' is a directory without bin/python3 or bin/python "
                    + "(looked in '\(path)/bin'); is it a venv?")
            }
            interpreter = found
            prefix = path
        } else {
            guard fm.isExecutableFile(atPath: path) else {
                throw .agentDeclaration(agent: agent, problem: "its python '\(given)' is not an executable file ('\(path)')")
            }
            interpreter = path
            prefix = ((path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        }
        let real = finalTarget(of: interpreter)
        guard fm.isExecutableFile(atPath: real) else {
            throw .agentDeclaration(agent: agent, problem: "its python '\(interpreter)' leads to '\(real)', which does not exist or cannot run "
                + "(a venv made on another machine, or with a Python since removed); make the venv again")
        }
        var visible = [prefix]
        let system = ["/usr/", "/bin/", "/lib"]
        if !system.contains(where: { real.hasPrefix($0) }) && !real.hasPrefix(prefix + "/") {
            visible.append(((real as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent)
        }
        return PythonChoice(given: given, interpreter: interpreter, prefix: prefix, visible: visible)
    }

    /// Where a chain of symbolic links ends, even when it ends nowhere (at most 16 links).
    static func finalTarget(of path: String) -> String {
        var current = path
        for _ in 0..<16 {
            guard let next = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { break }
            current = next.hasPrefix("/") ? next : (((current as NSString).deletingLastPathComponent + "/" + next) as NSString).standardizingPath
        }
        return current
    }
}

/// The files an agent declares, as the hash records them.
enum DeclaredFiles {
    /// Names never hashed inside an agent's directories: caches a run writes (bytecode) and
    /// version-control metadata, which differ between machines and change nothing that runs.
    static let skipped: Set<String> = ["__pycache__", ".git", ".hg", ".svn", ".DS_Store", ".mypy_cache", ".pytest_cache"]

    /// Every regular file under `directory` (recursively, links left out, as task_hash does),
    /// by its path relative to `directory`; `excluding` (a venv inside it) is left out.
    static func listing(_ directory: String, excluding: String?) -> [(String, String)] {
        var out: [(String, String)] = []
        func walk(_ dir: String, _ rel: String) {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
            for name in names.sorted() where !skipped.contains(name) && !name.hasSuffix(".pyc") {
                let path = "\(dir)/\(name)"
                if path == excluding { continue }
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                let relative = rel.isEmpty ? name : "\(rel)/\(name)"
                switch st.st_mode & S_IFMT {
                case S_IFDIR: walk(path, relative)
                case S_IFREG: out.append((relative, path))
                default: continue
                }
            }
        }
        walk(directory, "")
        return out
    }

    /// A declared file or directory, by paths relative to the project root (absolute when it
    /// lies outside). Missing: an error that names it and where it was looked for.
    static func expand(_ given: String, absolute: String, root: String, agent: String, excluding: String?) throws(AgentHostError) -> [(String, String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
            throw .agentDeclaration(agent: agent, problem: "its file '\(given)' does not exist (looked for '\(absolute)')")
        }
        let name = absolute.hasPrefix(root + "/") ? String(absolute.dropFirst(root.count + 1)) : absolute
        guard isDirectory.boolValue else { return [(name, absolute)] }
        return listing(absolute, excluding: excluding).map { (name == absolute && root == "/" ? $0.0 : "\(name)/\($0.0)", $0.1) }
    }
}

/// The interpreter a script names on its `#!` line. A venv's python named there (`#!/home/me/
/// proj/.venv/bin/python`) lies outside the system's paths: the sandbox shows only what the agent
/// declares, so without this the script fails inside it with bwrap's bare `execvp` complaint,
/// and at the process level with a start failure that reads as the agent's. So the interpreter
/// is checked before the run — one that is gone is an error naming it and what to do — and its
/// venv or installation is made visible read-only (never hashed: it is the machine's).
enum Shebang {
    /// Paths to show the agent for `file`'s `#!` interpreter (none for a system interpreter, a
    /// relative one, or a file without `#!`).
    static func interpreterPaths(of file: String, agent: String) throws(AgentHostError) -> [String] {
        guard let interpreter = interpreter(of: file) else { return [] }
        let real = PythonChoice.finalTarget(of: interpreter)
        guard FileManager.default.isExecutableFile(atPath: real) else {
            let leads = real == interpreter ? "" : " (it leads to '\(real)')"
            throw .agentDeclaration(agent: agent, problem: "its #! line names the interpreter '\(interpreter)'\(leads), which does not exist "
                + "or cannot run on this machine (a venv made elsewhere, moved, or with a Python since removed): make the venv again at that "
                + "path, change the #! line (e.g. `#!/usr/bin/env python3`), or give the agent a .py name and declare its python "
                + "(`python = \".venv\"` in rigor.toml, or --python)")
        }
        let system = ["/usr/", "/bin/", "/sbin/", "/lib", "/etc/"]
        var visible: [String] = []
        for path in [interpreter, real] where !system.contains(where: { path.hasPrefix($0) }) {
            let directory = (path as NSString).deletingLastPathComponent
            let prefix = (directory as NSString).lastPathComponent == "bin" ? (directory as NSString).deletingLastPathComponent : directory
            if prefix != "/" && !prefix.isEmpty && !visible.contains(prefix) { visible.append(prefix) }
        }
        return visible
    }

    /// The absolute interpreter `file`'s `#!` line names, if any.
    static func interpreter(of file: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 512)) ?? Data()
        guard head.starts(with: [0x23, 0x21]) else { return nil }
        let line = String(decoding: head.dropFirst(2).prefix { $0 != 0x0A }, as: UTF8.self)
        guard let interpreter = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).first.map(String.init),
              interpreter.hasPrefix("/") else { return nil }
        return interpreter
    }

    /// The interpreter `file`'s `#!` line names and where its links end: what the kernel opens
    /// as the agent's uid when it starts the file.
    static func interpreterChain(of file: String) -> [String] {
        guard let interpreter = interpreter(of: file) else { return [] }
        let real = PythonChoice.finalTarget(of: interpreter)
        return real == interpreter ? [interpreter] : [interpreter, real]
    }
}
