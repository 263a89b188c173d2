import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Removes a directory tree an agent wrote, by descriptor.
///
/// Removal by path (`FileManager.removeItem`, `rm -r` of old) builds each entry's full path, and
/// a tree deeper than `PATH_MAX` (4096 bytes) — which an agent makes in a moment by entering each
/// directory it makes — cannot be named that way: removal failed, silently, and the directory
/// outlived the episode, in RAM when it lives in /dev/shm. Here each directory is entered with
/// `openat(O_NOFOLLOW|O_DIRECTORY)` from its parent's descriptor and its entries are unlinked
/// relative to it, so no path is ever longer than one name. Only one directory is open at a
/// time, whatever the depth (the way back up is `..`, checked against the identity recorded on
/// the way down, so a directory moved meanwhile is never mistaken for its old parent), and no
/// link is ever followed. Directories the agent made unreadable or unwritable are given back
/// their owner's access first (a runner that is not root needs that; root does not).
enum TreeRemoval {
    /// Removes `path` and everything under it. Nil on success (or when it was already gone),
    /// else what stopped it, for the user.
    static func remove(_ path: String) -> String? {
        if rmdir(path) == 0 || errno == ENOENT { return nil }
        let parentPath = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let parent = open(parentPath.isEmpty ? "." : parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { return "cannot open \(parentPath): \(String(cString: strerror(errno)))" }
        defer { close(parent) }
        if let problem = empty(parent: parent, name: name) { return "\(path): \(problem)" }
        if unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT {
            return "\(path): \(String(cString: strerror(errno)))"
        }
        return nil
    }

    struct Identity: Equatable { let device: UInt; let inode: UInt }

    static func identity(_ fd: Int32) -> Identity? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return Identity(device: UInt(st.st_dev), inode: UInt(st.st_ino))
    }

    /// Opens directory `name` of `parent` without following a link; restores its owner's access
    /// once when that is what refused it.
    static func enter(_ parent: Int32, _ name: [CChar]) -> Int32 {
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        var fd = openat(parent, name, flags)
        if fd < 0 && errno == EACCES {
            _ = fchmodat(parent, name, 0o700, AT_SYMLINK_NOFOLLOW)
            fd = openat(parent, name, flags)
        }
        return fd
    }

    /// Empties directory `name` of `parent` (leaves it there). Nil on success, else why not.
    private static func empty(parent: Int32, name: String) -> String? {
        var current = enter(parent, Array(name.utf8CString))
        guard current >= 0 else { return String(cString: strerror(errno)) }
        guard let top = identity(current) else { close(current); return String(cString: strerror(errno)) }
        // Identities of the directories above `current`, up to (and including) the top one.
        var above: [Identity] = []
        var here = top
        defer { close(current) }
        var restoredAccess = false
        while true {
            let step = clearFiles(current)
            switch step {
            case .failed(let problem):
                if !restoredAccess && problem.hasPrefix("EACCES") {
                    // Made unwritable by its owner (the agent): writable again, once per directory.
                    restoredAccess = true
                    _ = fchmod(current, 0o700)
                    continue
                }
                return "\(problem) at depth \(above.count)"
            case .descend(let child):
                let next = enter(current, child)
                guard next >= 0, let id = identity(next) else {
                    let problem = String(cString: strerror(errno))
                    if next >= 0 { close(next) }
                    return "cannot enter '\(printable(child))' at depth \(above.count): \(problem)"
                }
                above.append(here)
                close(current)
                current = next
                here = id
                restoredAccess = false
            case .emptied:
                guard let up = above.popLast() else { return nil }
                let next = openat(current, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard next >= 0 else { return "cannot go back up at depth \(above.count + 1): \(String(cString: strerror(errno)))" }
                guard identity(next) == up else {
                    close(next)
                    return "a directory was moved during removal (depth \(above.count + 1)); left in place"
                }
                close(current)
                current = next
                here = up
                restoredAccess = false
            }
        }
    }

    enum Step {
        /// Every entry is gone.
        case emptied
        /// A non-empty subdirectory to empty first (its name as the bytes it has, NUL-terminated:
        /// an agent may use names that are not UTF-8).
        case descend([CChar])
        case failed(String)
    }

    /// Unlinks every file and every empty subdirectory of `dir`; stops at the first subdirectory
    /// that is not empty.
    private static func clearFiles(_ dir: Int32) -> Step {
        // A description of its own (`dup` would share the read offset between passes).
        let listing = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0, let stream = fdopendir(listing) else {
            let problem = String(cString: strerror(errno))
            return .failed(errno == EACCES ? "EACCES: cannot list a directory" : "cannot list a directory: \(problem)")
        }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name: [CChar] = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                raw.prefix { $0 != 0 }.map { CChar(bitPattern: $0) } + [0]
            }
            if name == [46, 0] || name == [46, 46, 0] { continue }  // "." and ".."
            if unlinkat(dir, name, 0) == 0 || errno == ENOENT { continue }
            if errno == EISDIR || errno == EPERM {
                // A directory (Linux says EISDIR; POSIX allows EPERM): remove it when empty, else
                // go into it.
                if unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT { continue }
                if errno == ENOTEMPTY || errno == EEXIST { return .descend(name) }
            }
            let code = errno
            return .failed((code == EACCES ? "EACCES: " : "") + "cannot remove '\(printable(name))': \(String(cString: strerror(code)))")
        }
        return .emptied
    }

    /// A name for a message: its bytes as UTF-8, at most 64 of them.
    private static func printable(_ name: [CChar]) -> String {
        let bytes = name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes.prefix(64), as: UTF8.self) + (bytes.count > 64 ? "…" : "")
    }
}
