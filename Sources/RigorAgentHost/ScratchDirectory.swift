import CRigorSpawn
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where agents' private directories are made.
///
/// Each episode gets a fresh directory that is created before the agent starts and removed
/// after it ends. On a disk file system that costs an inode allocation, a directory entry and
/// their journal writes per episode — a measurable share of a short episode — so Rigor prefers
/// a memory file system: `$RIGOR_SCRATCH_DIR` when set, else `/dev/shm` when it is a writable
/// tmpfs with at least 1 GiB free, else `$TMPDIR`, else `/tmp`. The choice is made once per
/// process.
public enum ScratchDirectory {
    /// How much room `/dev/shm` must have to be used.
    static let minimumMemoryScratchBytes: Int64 = 1 << 30

    /// The base directory (no trailing slash).
    public static let base: String = choose(environment: ProcessInfo.processInfo.environment)

    static func choose(environment: [String: String]) -> String {
        if let explicit = environment["RIGOR_SCRATCH_DIR"], !explicit.isEmpty, isWritableDirectory(explicit) {
            return trimmed(explicit)
        }
        // A small /dev/shm (containers default to 64 MiB, shared by every episode) would make an
        // agent's writes fail or not depending on what the others wrote: only a roomy one.
        if isWritableDirectory("/dev/shm") && isMemoryFileSystem("/dev/shm")
            && rigor_available_bytes("/dev/shm") >= minimumMemoryScratchBytes {
            return "/dev/shm"
        }
        if let tmp = environment["TMPDIR"], !tmp.isEmpty, isWritableDirectory(tmp) { return trimmed(tmp) }
        return "/tmp"
    }

    /// The names Rigor gives them: `rigor-episode-` and mkdtemp's six characters.
    static let prefix = "rigor-episode-"

    /// Each live directory's descriptor, holding an exclusive `flock` on it for as long as the
    /// directory is in use: the mark, with the name, by which a later runner tells a directory
    /// whose runner died (the kernel dropped its lock) from one in use (`sweepAbandoned`).
    nonisolated(unsafe) private static var held: [String: Int32] = [:]
    private static let heldLock = NSLock()

    /// Makes a fresh private directory (mode 0700) under `base`, locked as in use. The first
    /// call of a process first sweeps what runners that died left there.
    static func make() throws(AgentHostError) -> String {
        sweptAtStart
        var template = Array("\(base)/\(prefix)XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let start = buffer.baseAddress, let dir = mkdtemp(start) else { return nil }
            return String(cString: dir)
        }
        guard let dir = made else { throw .workdirFailed(reason: "\(base): \(String(cString: strerror(errno)))") }
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            _ = rmdir(dir)
            throw .workdirFailed(reason: "\(dir): \(reason)")
        }
        heldLock.lock(); held[dir] = fd; heldLock.unlock()
        return dir
    }

    /// Gives the fresh directory `path` to the agent's uid, through its descriptor (never
    /// `chown` by path).
    static func handOver(_ path: String, to uid: uid_t) {
        heldLock.lock(); let fd = held[path]; heldLock.unlock()
        if let fd { _ = fchown(fd, uid, uid) }
    }

    /// Removes a private directory and whatever the agent left in it, by descriptor however
    /// deep (`TreeRemoval`). Nil when it is gone; else what stopped it, also said on stderr:
    /// a directory that outlives its episode holds disk (or RAM, in /dev/shm) until removed.
    @discardableResult
    static func remove(_ path: String) -> String? {
        let problem = TreeRemoval.remove(path)
        heldLock.lock(); let fd = held.removeValue(forKey: path); heldLock.unlock()
        if let fd { close(fd) }  // the lock goes with it: a later runner may sweep what is left
        if let problem {
            FileHandle.standardError.write(Data("rigor: warning: the agent's private directory was not removed: \(problem)\n".utf8))
        }
        return problem
    }

    /// Once per process, before its first episode.
    private static let sweptAtStart: Void = { _ = sweepAbandoned(in: base) }()

    /// How old an unlocked directory must be to be taken for abandoned: one just made is locked
    /// a few microseconds after it exists.
    static let abandonedAfterSeconds = 5

    /// Removes the private directories in `directory` that runners which died (SIGKILL, power
    /// loss) left behind: only Rigor's (their name, and an owner that is this user — or, for
    /// root, root or an agent uid), only real directories, and only those no live runner holds
    /// the lock of. Returns the names removed.
    @discardableResult
    static func sweepAbandoned(in directory: String, olderThan minimumAge: Int = abandonedAfterSeconds) -> [String] {
        let base = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard base >= 0 else { return [] }
        defer { close(base) }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let now = Int(time(nil))
        var removed: [String] = []
        for name in entries where isOurName(name) {
            var st = stat()
            guard fstatat(base, name, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFDIR,
                  isOurOwner(st.st_uid), now - Int(st.st_ctim.tv_sec) >= minimumAge else { continue }
            let fd = openat(base, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            // Held by a live runner: in use.
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            if TreeRemoval.remove("\(directory)/\(name)") == nil { removed.append(name) }
        }
        return removed
    }

    static func isOurName(_ name: String) -> Bool {
        guard name.hasPrefix(prefix) else { return false }
        let suffix = name.utf8.dropFirst(prefix.utf8.count)
        return suffix.count == 6 && suffix.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }

    private static func isOurOwner(_ uid: uid_t) -> Bool {
        if geteuid() != 0 { return uid == geteuid() }
        return uid == 0 || LiveAgents.agentUIDs.contains(uid)
    }

    private static func trimmed(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    private static func isWritableDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR && access(path, W_OK | X_OK) == 0
    }

    private static func isMemoryFileSystem(_ path: String) -> Bool {
        rigor_is_tmpfs(path) == 1
    }
}
