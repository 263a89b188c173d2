import Foundation

/// Bubblewrap (`bwrap`), the namespace level's jailer, probed once per process.
public enum Bubblewrap {
    public static let path: String? = {
        for candidate in ["/usr/bin/bwrap", "/usr/local/bin/bwrap"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }()

    /// Why bwrap cannot be used here, or nil when it works (it needs user namespaces).
    ///
    /// Probing runs bwrap once, which costs a few milliseconds and leaves namespaces for the
    /// kernel to tear down while the first agent's are being made; so a success is remembered
    /// until the next boot or a new bwrap (`probeCache`), and the probe makes no network
    /// namespace (the costliest; one that could make the rest cannot fail at that).
    public static let unavailableReason: String? = {
        guard let path else { return "bwrap is not installed (Debian package bubblewrap; `make run` installs it)" }
        let cache = probeCache(bwrap: path)
        if let cache, cache.isValid { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["--unshare-user-try", "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--die-with-parent",
                       "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "/bin/true"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do {
            try p.run()
            p.waitUntilExit()
        } catch {
            return "bwrap failed to start: \(error)"
        }
        if p.terminationStatus == 0 {
            cache?.remember()
            return nil
        }
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return "bwrap cannot create namespaces here: \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
    }()

    /// Where a successful probe is remembered: file `bwrap-ok` in this user's private state
    /// directory (`PrivateDirectory.forThisUser`), holding the boot id and the bwrap binary's
    /// identity. Trusted only when this user owns it and no one else can write it; written
    /// through the directory's descriptor, never by a path someone else could plant a link at.
    struct ProbeCache {
        let directory: PrivateDirectory
        let name: String
        let stamp: String

        var file: String { "\(directory.path)/\(name)" }

        var isValid: Bool {
            directory.read(name) == Array(stamp.utf8)
        }

        func remember() {
            directory.write(name, Array(stamp.utf8), mode: 0o600)
        }
    }

    static func probeCache(bwrap: String) -> ProbeCache? {
        guard let boot = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else { return nil }
        var st = stat()
        guard stat(bwrap, &st) == 0, case .success(let directory) = PrivateDirectory.forThisUser else { return nil }
        let stamp = "\(boot.trimmingCharacters(in: .whitespacesAndNewlines)) \(bwrap) \(st.st_dev):\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec)\n"
        return ProbeCache(directory: directory, name: "bwrap-ok", stamp: stamp)
    }

    /// The strongest isolation level that works on this machine.
    public static var strongestAvailable: IsolationLevel { unavailableReason == nil ? .namespace : .process }

    /// The bwrap command line that runs `command` with no network, a read-only system, a
    /// private /tmp, and only the agent's own files visible besides system paths.
    /// Where the agent's private directory appears inside the namespace.
    public static let agentHome = "/home/agent"

    /// `dropTo`: when set (a runner that is root, and agent files that the agent's uid could not
    /// reach on the host, under a directory closed to others), bwrap runs as root, binds the
    /// files with root's view, keeps only the capabilities needed to change uid, and `setpriv`
    /// drops every group, capability and the uid to that one inside the sandbox, before the
    /// agent's first instruction (the runner has already set no-new-privileges and the keyring
    /// filter). Otherwise bwrap runs as the agent's uid and makes a user namespace.
    /// `shareNetwork`: keep the host's network (a world program whose manifest asks for it).
    /// `reportsAndWaits`: bwrap reports its child's pid on fd 3 (`--info-fd`) and holds the agent
    /// back until a byte arrives on fd 4 (`--block-fd`), so the runner can open agent endpoints
    /// inside the sandbox before the agent's first instruction (`AgentSession`).
    static func wrap(_ command: AgentCommand, workdir: String, home: String, dropTo uid: uid_t? = nil,
                     shareNetwork: Bool = false, reportsAndWaits: Bool = false) -> (String, [String])? {
        guard let bwrap = path else { return nil }
        var args: [String] = reportsAndWaits ? ["--info-fd", "3", "--block-fd", "4"] : []
        if uid != nil {
            args += ["--unshare-ipc", "--unshare-pid"] + (shareNetwork ? [] : ["--unshare-net"]) + ["--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                    "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP",
                    "--cap-add", "CAP_DAC_READ_SEARCH"]
        } else {
            args += ["--unshare-all"] + (shareNetwork ? ["--share-net"] : []) + ["--die-with-parent", "--new-session"]
        }
        let interpreter = interpreterPrefix(for: command.executable, kind: command.kind)
        args += systemView(for: command.executable, kind: command.kind, withInterpreter: false)
        if uid != nil {
            // Made by root, these would be root's and closed (bwrap makes a bind's missing
            // parents 0700): the agent must be able to pass through them. Before any bind.
            args += ["--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/dev/shm"]
            args += parentDirectories(of: interpreter + command.visiblePaths + [home]).flatMap { ["--perms", "0755", "--dir", $0] }
        }
        for p in interpreter { args += ["--ro-bind", p, p] }
        for p in command.visiblePaths { args += ["--ro-bind", p, p] }
        args += ["--bind", workdir, home, "--chdir", command.workingDirectory ?? home, "--"]
        if let uid {
            args += [setpriv, "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
        }
        args += [command.executable] + command.arguments
        return (bwrap, args)
    }

    /// util-linux's `setpriv`, which drops a root-started sandbox to the agent's uid.
    static let setpriv = "/usr/bin/setpriv"

    /// Every directory above `paths` (not `/`), parents first: the mount points bwrap makes.
    static func parentDirectories(of paths: [String]) -> [String] {
        var made = Set<String>()
        var out: [String] = []
        for target in paths {
            var chain: [String] = []
            var parent = (target as NSString).deletingLastPathComponent
            while parent != "/" && !parent.isEmpty && made.insert(parent).inserted {
                chain.append(parent)
                parent = (parent as NSString).deletingLastPathComponent
            }
            out += chain.reversed()
        }
        return out.filter { !["/usr", "/etc", "/proc", "/dev", "/tmp"].contains($0) && !$0.hasPrefix("/usr/") && !$0.hasPrefix("/etc/") }
            .sorted { $0.split(separator: "/").count < $1.split(separator: "/").count }
    }

    /// The first directory on the way to `path` that a user other than its owner cannot pass
    /// (no `o+x`), or `path` itself when others cannot read it; nil when an agent under a uid of
    /// its own can reach it.
    static func closedToOthers(_ path: String) -> String? {
        var current = ""
        let parts = path.split(separator: "/")
        for (index, part) in parts.enumerated() {
            current += "/" + part
            var st = stat()
            guard stat(current, &st) == 0 else { return nil }  // missing: reported elsewhere, by name
            let isLast = index == parts.count - 1
            let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
            if isDirectory && (st.st_mode & S_IXOTH) == 0 { return current }
            if isLast && (st.st_mode & S_IROTH) == 0 { return current }
        }
        return nil
    }

    /// The jail of a namespace-level fork server for Python agents (Agents/sdk/fork_server.py):
    /// the same read-only view of the system as an agent's, the SDK and `agentFiles` visible,
    /// no network; but in the runner's pid namespace (the pids it reports are the runner's),
    /// keeping the few capabilities of root's (mounts, namespaces, uids) that each episode's
    /// child uses to make namespaces of its own and then drops, with root, before any agent
    /// code runs. Nil without bwrap.
    static func forkServerJail(python: String, script: String, sdkDirectory: String, agentFiles: [String]) -> [String]? {
        guard let bwrap = path else { return nil }
        // No --die-with-parent: the parent may be a thread that ends as soon as the server is up
        // (a batch starts servers in the background). The server exits when its control socket
        // reaches end of file, which the runner's exit, however it happens, brings.
        // Only the capabilities a child needs to make its namespaces and take its uid.
        // bwrap run by root keeps every capability unless told to drop them first.
        var args = [bwrap, "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                    "--cap-drop", "ALL", "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                    "--cap-add", "CAP_NET_ADMIN"] + systemView(for: python, kind: .pythonSDK)
        // Directories bwrap makes for a mount point are root's and private unless told
        // otherwise; an episode's agent, under its own uid, must be able to pass through them.
        var made = Set<String>()
        for target in [agentHome, sdkDirectory] + agentFiles {
            var parent = (target as NSString).deletingLastPathComponent
            var chain: [String] = []
            while parent != "/" && !parent.isEmpty && made.insert(parent).inserted {
                chain.append(parent)
                parent = (parent as NSString).deletingLastPathComponent
            }
            for dir in chain.reversed() { args += ["--perms", "0755", "--dir", dir] }
        }
        args += ["--perms", "0755", "--dir", agentHome, "--ro-bind", sdkDirectory, sdkDirectory]
        for file in agentFiles { args += ["--ro-bind", file, file] }
        return args + ["--", python, "-s", "-B", script, "--jail"]
    }

    /// Read-only system paths, /proc, /dev and a private /tmp; an interpreter outside /usr
    /// (pyenv and the like) gets its prefix visible.
    private static func systemView(for executable: String, kind: AgentCommand.Kind, withInterpreter: Bool = true) -> [String] {
        var args = [
            "--ro-bind", "/usr", "/usr",
            "--ro-bind", "/etc", "/etc",
            "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp",
        ]
        let fm = FileManager.default
        for link in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            let p = "/\(link)"
            if let dest = try? fm.destinationOfSymbolicLink(atPath: p) {
                args += ["--symlink", dest, p]
            } else if fm.fileExists(atPath: p) {
                args += ["--ro-bind", p, p]
            }
        }
        return args + (withInterpreter ? interpreterPrefix(for: executable, kind: kind).flatMap { ["--ro-bind", $0, $0] } : [])
    }

    /// The prefix of a Python interpreter outside /usr (pyenv, a venv), which must be visible.
    private static func interpreterPrefix(for executable: String, kind: AgentCommand.Kind) -> [String] {
        guard kind == .pythonSDK && !executable.hasPrefix("/usr/") else { return [] }
        return [((executable as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent]
    }
}
