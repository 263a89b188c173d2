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
    public static let unavailableReason: String? = {
        guard let path else { return "bwrap is not installed (Debian package bubblewrap; `make run` installs it)" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "/bin/true"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do {
            try p.run()
            p.waitUntilExit()
        } catch {
            return "bwrap failed to start: \(error)"
        }
        if p.terminationStatus == 0 { return nil }
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return "bwrap cannot create namespaces here: \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
    }()

    /// The strongest isolation level that works on this machine.
    public static var strongestAvailable: IsolationLevel { unavailableReason == nil ? .namespace : .process }

    /// The bwrap command line that runs `command` with no network, a read-only system, a
    /// private /tmp, and only the agent's own files visible besides system paths.
    /// Where the agent's private directory appears inside the namespace.
    public static let agentHome = "/home/agent"

    static func wrap(_ command: AgentCommand, workdir: String, home: String) -> (String, [String])? {
        guard let bwrap = path else { return nil }
        var args = [
            "--unshare-all", "--die-with-parent", "--new-session",
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
        // An interpreter outside /usr (pyenv and the like) needs its prefix visible.
        if !command.executable.hasPrefix("/usr/") {
            let prefix = ((command.executable as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
            if command.kind == .pythonSDK { args += ["--ro-bind", prefix, prefix] }
        }
        for p in command.visiblePaths { args += ["--ro-bind", p, p] }
        args += ["--bind", workdir, home, "--chdir", home, "--", command.executable]
        args += command.arguments
        return (bwrap, args)
    }
}
