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

    /// Makes a fresh private directory (mode 0700) under `base`.
    static func make() throws(AgentHostError) -> String {
        var template = Array("\(base)/rigor-agent-XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw .workdirFailed(reason: "\(base): \(String(cString: strerror(errno)))")
        }
        return String(cString: dir)
    }

    /// Gives the fresh directory `path` to the agent's uid, through a descriptor opened without
    /// following links (never `chown` by path).
    static func handOver(_ path: String, to uid: uid_t) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fchown(fd, uid, uid)
        close(fd)
    }

    /// Removes a private directory and whatever the agent left in it.
    static func remove(_ path: String) {
        // Most agents leave nothing: one rmdir, without listing the directory first.
        if rmdir(path) == 0 || errno == ENOENT { return }
        try? FileManager.default.removeItem(atPath: path)
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
