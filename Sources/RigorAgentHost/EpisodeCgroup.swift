import CRigorSpawn
import Foundation
import RigorSpec

#if canImport(Glibc)
import Glibc
#endif

/// A control group per episode, where the machine allows one: it bounds the memory (and the
/// number of processes) of the episode as a whole, which rlimits cannot — they bound each process,
/// so four children of 1.5 GiB each held 6.5 GB — and it holds every process the agent starts,
/// so that they can all be killed at the end, or by the next runner when this one died.
///
/// Where: cgroup v2 (`/sys/fs/cgroup` a cgroup2 file system with the memory controller) under
/// `/sys/fs/cgroup/rigor/`, which needs root; or, on machines still on the v1 memory controller,
/// under `rigor/` in this process's own memory cgroup (and its pids cgroup when there is one).
/// Each episode gets `<runner pid>.<runner start time>.<n>`: a later runner sweeps the groups of
/// runners that are gone (`sweepAbandoned`). Elsewhere (no cgroups, not root, not delegated) no
/// group is made, and the limits are per process only; the artifact's `diagnostics.cgroup` says
/// which, outside the hash.
///
/// The agent joins before any of its code runs: the spawned child (or the fork server's child)
/// writes "0" into the group's `cgroup.procs`, opened here, before it drops to the agent's uid.
public final class EpisodeCgroup {
    /// Which kind of cgroup this machine offers, found once per process.
    enum Support {
        /// cgroup v2: the parent directory of the episodes' groups.
        case v2(String)
        /// cgroup v1: the parent directories in the memory and (optionally) pids hierarchies.
        case v1(memory: String, pids: String?)
        case unavailable(String)
    }

    static let support: Support = detect()

    /// The groups' directories (one per hierarchy; the first holds memory).
    let directories: [String]
    let version: Int
    /// `cgroup.procs` of each, open for the child to write itself in.
    let procsFDs: [Int32]
    let memoryBytes: Int

    /// A new group for one episode with `memoryBytes` and `processes` as its bounds, or nil
    /// (with the reason) when the machine has none to give.
    static func make(memoryBytes: Int, processes: Int) -> Result<EpisodeCgroup, Unavailable> {
        sweptAtStart
        let name = "\(ownerTag).\(nextNumber())"
        switch support {
        case .unavailable(let reason):
            return .failure(Unavailable(reason: reason))
        case .v2(let parent):
            let dir = "\(parent)/\(name)"
            guard mkdir(dir, 0o755) == 0 else { return .failure(Unavailable(reason: "cannot make \(dir): \(String(cString: strerror(errno)))")) }
            var ok = write("\(dir)/memory.max", String(memoryBytes))
            ok = ok && (write("\(dir)/memory.swap.max", "0") || !FileManager.default.fileExists(atPath: "\(dir)/memory.swap.max"))
            ok = ok && (write("\(dir)/pids.max", String(processes)) || !FileManager.default.fileExists(atPath: "\(dir)/pids.max"))
            let fd = open("\(dir)/cgroup.procs", O_WRONLY | O_CLOEXEC)
            guard ok, fd >= 0 else {
                if fd >= 0 { close(fd) }
                _ = rmdir(dir)
                return .failure(Unavailable(reason: "cannot set the limits of \(dir)"))
            }
            return .success(EpisodeCgroup(directories: [dir], version: 2, procsFDs: [fd], memoryBytes: memoryBytes))
        case .v1(let memoryParent, let pidsParent):
            let memory = "\(memoryParent)/\(name)"
            guard mkdir(memory, 0o755) == 0 else { return .failure(Unavailable(reason: "cannot make \(memory): \(String(cString: strerror(errno)))")) }
            var ok = write("\(memory)/memory.limit_in_bytes", String(memoryBytes))
            // Swap counted too where the kernel accounts it (set after the memory limit: it may not be lower).
            _ = write("\(memory)/memory.memsw.limit_in_bytes", String(memoryBytes))
            var dirs = [memory]
            if let pidsParent {
                let pids = "\(pidsParent)/\(name)"
                if mkdir(pids, 0o755) == 0 {
                    dirs.append(pids)
                    ok = ok && write("\(pids)/pids.max", String(processes))
                }
            }
            let fds = dirs.map { open("\($0)/cgroup.procs", O_WRONLY | O_CLOEXEC) }
            guard ok, fds.allSatisfy({ $0 >= 0 }) else {
                for fd in fds where fd >= 0 { close(fd) }
                for dir in dirs.reversed() { _ = rmdir(dir) }
                return .failure(Unavailable(reason: "cannot set the limits of \(memory)"))
            }
            return .success(EpisodeCgroup(directories: dirs, version: 1, procsFDs: fds, memoryBytes: memoryBytes))
        }
    }

    struct Unavailable: Error { let reason: String }

    private init(directories: [String], version: Int, procsFDs: [Int32], memoryBytes: Int) {
        self.directories = directories
        self.version = version
        self.procsFDs = procsFDs
        self.memoryBytes = memoryBytes
    }

    deinit { remove() }

    /// Puts the descriptors into the limits the spawned child applies.
    func attach(to limits: inout rigor_limits) {
        limits.cgroup_fd_count = Int32(min(procsFDs.count, 2))
        if procsFDs.count > 0 { limits.cgroup_fds.0 = procsFDs[0] }
        if procsFDs.count > 1 { limits.cgroup_fds.1 = procsFDs[1] }
    }

    /// Moves running process `pid` (a fork server's child) into the group; false when it could not.
    func move(_ pid: pid_t) -> Bool {
        let text = Array(String(pid).utf8)
        return procsFDs.allSatisfy { fd in
            text.withUnsafeBytes { raw in raw.baseAddress.map { Glibc.write(fd, $0, raw.count) == raw.count } ?? false }
        }
    }

    /// How many times the kernel's OOM killer killed a process of the group.
    var oomKills: Int {
        guard let first = directories.first else { return 0 }
        let file = version == 2 ? "\(first)/memory.events" : "\(first)/memory.oom_control"
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
            return Int(line.dropFirst("oom_kill ".count)) ?? 0
        }
        return 0
    }

    /// What the artifact's diagnostics say of the group (outside the hash).
    var diagnostics: JSON {
        ["used": true, "version": .int(version), "memory_max_bytes": .int(memoryBytes), "oom_kills": .int(oomKills)]
    }

    private var removed = false

    /// Kills every process still in the group and removes it. Idempotent.
    func kill() {
        guard !removed, let first = directories.first else { return }
        // cgroup.kill (v2) kills every member at once, asynchronously; then (and on v1) every
        // member still listed, until none is (bounded).
        if version == 2 { _ = EpisodeCgroup.write("\(first)/cgroup.kill", "1") }
        for _ in 0..<200 {
            let pids = members(first)
            if pids.isEmpty { break }
            for pid in pids { _ = Glibc.kill(pid, SIGKILL) }
            LiveAgents.reapOrphans()
            usleep(1000)
        }
    }

    func remove() {
        guard !removed else { return }
        kill()
        removed = true
        for fd in procsFDs { close(fd) }
        for dir in directories.reversed() { _ = rmdir(dir) }
    }

    private func members(_ dir: String) -> [pid_t] {
        guard let text = try? String(contentsOfFile: "\(dir)/cgroup.procs", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    // MARK: - Finding the hierarchy, naming and sweeping groups

    private static func write(_ path: String, _ value: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        return bytes.withUnsafeBytes { raw in raw.baseAddress.map { Glibc.write(fd, $0, raw.count) == raw.count } ?? false }
    }

    private static func detect() -> Support {
        guard geteuid() == 0 else { return .unavailable("the runner is not root (delegated cgroups are not used)") }
        if rigor_is_cgroup2("/sys/fs/cgroup") == 1 {
            let parent = "/sys/fs/cgroup/rigor"
            let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? ""
            guard controllers.split(separator: " ").contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "memory" }) else {
                return .unavailable("cgroup v2 without the memory controller")
            }
            _ = mkdir(parent, 0o755)
            _ = write("\(parent)/cgroup.subtree_control", "+memory +pids")
            let enabled = (try? String(contentsOfFile: "\(parent)/cgroup.subtree_control", encoding: .utf8)) ?? ""
            guard enabled.contains("memory") else { return .unavailable("cannot enable the memory controller in \(parent)") }
            return .v2(parent)
        }
        // cgroup v1 (or hybrid): this process's own memory (and pids) cgroup, which it may extend.
        guard let own = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return .unavailable("no /proc/self/cgroup") }
        func path(of controller: String) -> String? {
            for line in own.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                if parts.count == 3, parts[1].split(separator: ",").contains(Substring(controller)) {
                    let mount = "/sys/fs/cgroup/\(controller)"
                    return FileManager.default.fileExists(atPath: "\(mount)/cgroup.procs") ? mount + (parts[2] == "/" ? "" : String(parts[2])) : nil
                }
            }
            return nil
        }
        guard let memory = path(of: "memory") else { return .unavailable("no memory cgroup controller") }
        let memoryParent = "\(memory)/rigor"
        _ = mkdir(memoryParent, 0o755)
        guard FileManager.default.fileExists(atPath: "\(memoryParent)/memory.limit_in_bytes") else {
            return .unavailable("cannot make \(memoryParent)")
        }
        var pidsParent: String? = nil
        if let pids = path(of: "pids") {
            _ = mkdir("\(pids)/rigor", 0o755)
            if FileManager.default.fileExists(atPath: "\(pids)/rigor/pids.max") { pidsParent = "\(pids)/rigor" }
        }
        return .v1(memory: memoryParent, pids: pidsParent)
    }

    /// This runner's part of a group's name: its pid and its start time (pids are reused).
    static let ownerTag: String = "\(getpid()).\(startTime(of: getpid()) ?? 0)"

    private static let counterLock = NSLock()
    nonisolated(unsafe) private static var counter = 0
    private static func nextNumber() -> Int {
        counterLock.lock(); defer { counterLock.unlock() }
        counter += 1
        return counter
    }

    /// A process's start time (clock ticks since boot), from /proc/<pid>/stat; nil when gone.
    static func startTime(of pid: pid_t) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, start time field 22.
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    /// Once per process, before its first group.
    private static let sweptAtStart: Void = { _ = sweepAbandoned() }()

    /// Kills and removes the groups of runners that are gone (their pid dead, or reused by a
    /// process that started at another time). Returns the groups removed.
    @discardableResult
    static func sweepAbandoned() -> [String] {
        let parents: [String]
        let version: Int
        switch support {
        case .unavailable: return []
        case .v2(let parent): (parents, version) = ([parent], 2)
        case .v1(let memory, let pids): (parents, version) = ([memory] + (pids.map { [$0] } ?? []), 1)
        }
        var removed: [String] = []
        for parent in parents {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] {
                let parts = name.split(separator: ".")
                guard parts.count == 3, let pid = pid_t(parts[0]), let started = UInt64(parts[1]), Int(parts[2]) != nil else { continue }
                if let now = startTime(of: pid), now == started { continue }  // its runner is alive
                let group = EpisodeCgroup(directories: ["\(parent)/\(name)"], version: version, procsFDs: [], memoryBytes: 0)
                group.remove()
                if !FileManager.default.fileExists(atPath: "\(parent)/\(name)") { removed.append("\(parent)/\(name)") }
            }
        }
        return removed
    }
}
