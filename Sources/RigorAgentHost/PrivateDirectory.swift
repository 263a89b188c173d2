import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A directory only the runner's user can write, held open by descriptor, for the files Rigor
/// keeps between commands (the bwrap probe cache, the uid locks).
///
/// The runner is often root, and these directories often sit in a shared one (`/tmp`). Whoever
/// can guess a name there can plant a symlink at it; a root that then writes, creates or chmods
/// *by path* writes wherever the link points (unless the kernel's `fs.protected_symlinks` is on,
/// and only in sticky directories). So: the directory is opened without following a link, and
/// kept only if it is a real directory owned by this user that no one else can enter or write;
/// every file in it is reached from that descriptor (`openat`, `renameat`), created with
/// `O_EXCL|O_NOFOLLOW`, and changed through its own descriptor, never by path.
struct PrivateDirectory: @unchecked Sendable {
    let path: String
    /// `O_DIRECTORY` descriptor, kept for the life of the process.
    let fd: Int32

    /// Why a directory was refused.
    struct Refusal: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "\(path) is not a private directory of this user (\(reason)); remove it and run again" }
    }

    /// Opens `path`, making it (mode 0700) when it does not exist. Refuses a symlink, anything
    /// but a directory, one another user owns, and one whose group or others have any access.
    static func open(_ path: String) throws(Refusal) -> PrivateDirectory {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw Refusal(path: path, reason: "cannot create it: \(String(cString: strerror(errno)))")
        }
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ELOOP || errno == ENOTDIR ? "a symlink or not a directory" : String(cString: strerror(errno))
            throw Refusal(path: path, reason: reason)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            close(fd)
            throw Refusal(path: path, reason: String(cString: strerror(errno)))
        }
        guard st.st_uid == geteuid() else {
            close(fd)
            throw Refusal(path: path, reason: "owned by uid \(st.st_uid), not \(geteuid())")
        }
        guard st.st_mode & 0o077 == 0 else {
            close(fd)
            throw Refusal(path: path, reason: "mode \(String(st.st_mode & 0o7777, radix: 8)), not 0700")
        }
        return PrivateDirectory(path: path, fd: fd)
    }

    /// This user's directory for state kept between commands: `/run/rigor` for root (no other
    /// user can write /run), else `$XDG_RUNTIME_DIR/rigor`, else `rigor-<euid>` in `$TMPDIR` or
    /// `/tmp`. Made once per process; nil (with the reason) when it is refused.
    static let forThisUser: Result<PrivateDirectory, Refusal> = {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if geteuid() == 0 { candidates.append("/run/rigor") }
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") { candidates.append("\(runtime)/rigor") }
        let tmp = environment["TMPDIR"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
        candidates.append("\(tmp)/rigor-\(geteuid())")
        var last = Refusal(path: candidates[candidates.count - 1], reason: "not tried")
        for path in candidates {
            do throws(Refusal) { return .success(try open(path)) } catch { last = error }
        }
        return .failure(last)
    }()

    /// The contents of regular file `name`, when this user owns it and no one else can write it.
    func read(_ name: String) -> [UInt8]? {
        let file = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var st = stat()
        guard fstat(file, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == geteuid(), st.st_mode & 0o022 == 0,
              st.st_size <= 1 << 20 else { return nil }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(file, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }

    /// Replaces file `name` with `bytes`, mode `mode`, atomically: written to a fresh file made
    /// with `O_EXCL|O_NOFOLLOW` in this directory, then renamed over `name` within it.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o600) -> Bool {
        let temporary = ".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let file = openat(fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard file >= 0 else { return false }
        var offset = 0
        var ok = true
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(file, base + offset, raw.count - offset)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = false; break }
            offset += n
        }
        // The mode through the descriptor: the umask may have narrowed the one asked for.
        ok = ok && fchmod(file, mode) == 0
        close(file)
        if ok && renameat(fd, temporary, fd, name) == 0 { return true }
        _ = unlinkat(fd, temporary, 0)
        return false
    }
}
