import CRigorSpawn
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Every agent process group alive in this runner process, so that an interrupt (Ctrl-C,
/// SIGTERM) can kill them all, and so orphan reaping never steals a leader another episode
/// is waiting for.
public enum LiveAgents {
    struct Entry { let pgid: pid_t; let uid: uid_t? }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var entries: [pid_t: Entry] = [:]
    nonisolated(unsafe) private static var reaping = false
    nonisolated(unsafe) private static var nextUIDCounter: UInt32 = 0

    static func register(pid: pid_t, uid: uid_t?) {
        lock.lock(); defer { lock.unlock() }
        entries[pid] = Entry(pgid: pid, uid: uid)
    }

    static func unregister(pid: pid_t) {
        lock.lock(); defer { lock.unlock() }
        entries.removeValue(forKey: pid)
    }

    nonisolated(unsafe) private static var uidLocks: [uid_t: Int32] = [:]
    /// The uids agents get when the runner is root.
    static let agentUIDs: Range<uid_t> = 200_000..<260_000
    /// Where every root runner on the machine takes its uid locks. In /tmp, where any user could
    /// have made it first, so it is opened as a `PrivateDirectory` (root's, mode 0700, not a
    /// link) and each lock file is made from its descriptor without following links.
    static let uidLockPath = "/tmp/rigor-uid-locks"
    static let uidLockDirectory: Result<PrivateDirectory, PrivateDirectory.Refusal> = {
        do throws(PrivateDirectory.Refusal) { return .success(try PrivateDirectory.open(uidLockPath)) } catch { return .failure(error) }
    }()

    /// Why no uid can be handed out, when the lock directory is unusable.
    static var uidLockProblem: String? {
        if case .failure(let refusal) = uidLockDirectory { return refusal.description }
        return nil
    }

    /// A uid of its own for one agent process tree (only when running as root; nil otherwise).
    /// With it, the process limit counts only that agent's processes, and every process the
    /// agent starts — even one that leaves the process group — can be found and killed.
    ///
    /// The uid is held with an exclusive `flock` on a file named after it until the episode's
    /// sweep is done, so two Rigor processes (or two tests) never share one: a shared uid would
    /// let one episode's sweep kill the other's agent. The kernel drops the lock if the runner
    /// dies, so a crashed runner never leaks uids; and since the file holds a mark while the uid
    /// is in use (cleared once its sweep is done), a uid left marked by a runner that died is
    /// swept of whatever still runs under it before it is handed out again.
    static func allocateUID() -> uid_t? {
        guard geteuid() == 0, case .success(let directory) = uidLockDirectory else { return nil }
        sweptAtStart
        lock.lock(); defer { lock.unlock() }
        for _ in 0..<4000 {
            nextUIDCounter &+= 1
            let slot = (UInt32(truncatingIfNeeded: getpid()) &* 7919 &+ nextUIDCounter) % 60000
            let uid = agentUIDs.lowerBound + uid_t(slot)
            if uidLocks[uid] != nil { continue }
            let fd = openat(directory.fd, String(uid), O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                var mark: UInt8 = 0
                if pread(fd, &mark, 1, 0) == 1 {
                    // Its last holder died before sweeping it: nothing of that may meet this episode.
                    _ = rigor_kill_uid(uid, 50)
                }
                mark = UInt8(ascii: "x")
                _ = pwrite(fd, &mark, 1, 0)
                if let marked = markedDirectory { close(openat(marked, String(uid), O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)) }
                uidLocks[uid] = fd
                return uid
            }
            close(fd)
        }
        return nil
    }

    /// The descriptor holding `uid`'s lock, to share it with a fork server that runs a child as
    /// that uid (the lock is then held until both have let go).
    static func lockDescriptor(for uid: uid_t) -> Int32? {
        lock.lock(); defer { lock.unlock() }
        return uidLocks[uid]
    }

    /// Gives a uid back once nothing of its episode can run any more.
    static func releaseUID(_ uid: uid_t) {
        lock.lock(); defer { lock.unlock() }
        if let fd = uidLocks.removeValue(forKey: uid) {
            _ = ftruncate(fd, 0)  // swept: clean for the next holder
            if let marked = markedDirectory { _ = unlinkat(marked, String(uid), 0) }
            close(fd)
        }
    }

    /// `marked/` in the lock directory: an empty file per uid in use, so that a runner finds
    /// the uids that runners which died left marked without opening a file per uid ever used.
    private static let markedDirectory: Int32? = {
        guard case .success(let directory) = uidLockDirectory else { return nil }
        _ = mkdirat(directory.fd, "marked", 0o700)
        let fd = openat(directory.fd, "marked", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        return fd >= 0 ? fd : nil
    }()

    /// Once per process, before its first agent gets a uid.
    private static let sweptAtStart: Void = { sweepAbandonedUIDs() }()

    /// Kills whatever still runs under the uids that runners which died left marked (an agent
    /// still waiting for its runner, a daemon it started), so that nothing of an episode outlives
    /// its runner for longer than until the next runner starts an agent. A uid whose lock is
    /// held (a live runner, or a jailed fork server still reaping its child) is left alone.
    /// Returns the uids swept.
    @discardableResult
    static func sweepAbandonedUIDs() -> [uid_t] {
        guard geteuid() == 0, case .success(let directory) = uidLockDirectory, let marked = markedDirectory else { return [] }
        let listing = openat(marked, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0, let stream = fdopendir(listing) else { return [] }
        var candidates: [uid_t] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let uid = uid_t(name), agentUIDs.contains(uid) { candidates.append(uid) }
        }
        closedir(stream)
        var swept: [uid_t] = []
        for uid in candidates {
            lock.lock(); let ours = uidLocks[uid] != nil; lock.unlock()
            if ours { continue }
            let fd = openat(directory.fd, String(uid), O_RDWR | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { _ = unlinkat(marked, String(uid), 0); continue }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            var mark: UInt8 = 0
            if pread(fd, &mark, 1, 0) == 1 {
                _ = rigor_kill_uid(uid, 50)
                _ = ftruncate(fd, 0)
                swept.append(uid)
            }
            _ = unlinkat(marked, String(uid), 0)
        }
        if !swept.isEmpty { reapOrphans() }
        return swept
    }

    /// Makes this process the subreaper of its agents' orphans (daemonised grandchildren), so
    /// they are reaped here instead of lingering as zombies. Call once, from a command-line
    /// entry point: a host process that spawns children of its own should not.
    public static func becomeSubreaper() {
        if rigor_set_subreaper() == 0 {
            lock.lock(); reaping = true; lock.unlock()
        }
    }

    /// Reaps exited orphans (when this process is their subreaper).
    static func reapOrphans() {
        lock.lock()
        let enabled = reaping
        let keep = Array(entries.keys)
        lock.unlock()
        guard enabled else { return }
        _ = keep.withUnsafeBufferPointer { rigor_reap_orphans($0.baseAddress, Int32($0.count)) }
    }

    /// Kills every live agent process tree now (for interrupts). Safe to call from any thread.
    public static func killAll() {
        lock.lock()
        let all = Array(entries.values)
        lock.unlock()
        for e in all {
            _ = rigor_kill_group(e.pgid, SIGKILL)
            if let uid = e.uid { _ = rigor_kill_uid(uid, 20) }
        }
        for e in all {
            var status: Int32 = 0
            _ = rigor_wait(e.pgid, &status, 1)
        }
        reapOrphans()
    }
}
