import Foundation
import RigorTasks

/// Where the evaluator's world key comes from (spec/determinism.md §1.1).
///
/// In order: the `RIGOR_WORLD_KEY` environment variable (64 hex digits: CI jobs and teams that
/// share one key), else `<state dir>/world.key`, made on first use with 32 random bytes. The
/// file is created whole or not at all (written under a private temporary name, then linked
/// into place, which fails rather than replaces), never through a symlink, and readable only by
/// its owner: at the process level an agent with a uid of its own cannot read it, and at the
/// namespace level it cannot see it at all. A baseline or bundle carries the key it was recorded
/// with, and verifying it uses that key, not this one.
public enum WorldKeyFile {
    public static let environmentVariable = "RIGOR_WORLD_KEY"
    public static let fileName = "world.key"

    /// The key for new episodes in this state directory.
    public static func resolve(stateDirectory: String,
                               environment: [String: String] = CallerSecrets.environment) throws(RunnerError) -> WorldKey {
        if let text = environment[environmentVariable], !text.isEmpty {
            guard let key = WorldKey(hex: text) else {
                throw .usage("\(environmentVariable) must be 64 hex digits (a 32-byte key); unset it to use \(stateDirectory)/\(fileName)")
            }
            return key
        }
        let path = "\(stateDirectory)/\(fileName)"
        if let key = try read(path) { return key }
        return try create(path, in: stateDirectory)
    }

    /// The key in `path`, or nil when there is no file.
    static func read(_ path: String) throws(RunnerError) -> WorldKey? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw .io("'\(path)' is a symbolic link; the world key must be a plain file (remove the link)") }
            throw .io("cannot read the world key '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw .io("'\(path)' is not a regular file; the world key must be a plain file")
        }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let key = WorldKey(hex: String(decoding: buffer[0..<n], as: UTF8.self)) else {
            throw .io("'\(path)' does not hold a world key (64 hex digits); restore it from a backup, or remove it to make a new one (runs recorded under the old key then no longer replay here)")
        }
        return key
    }

    private static func create(_ path: String, in directory: String) throws(RunnerError) -> WorldKey {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create the state directory '\(directory)': \(error.localizedDescription)")
        }
        let key = WorldKey.generate()
        let temporary = "\(directory)/.\(fileName).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot create the world key in '\(directory)': \(String(cString: strerror(errno)))") }
        let bytes = Array((key.hex + "\n").utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        defer { unlink(temporary) }
        guard written == bytes.count else { throw .io("cannot write the world key in '\(directory)'") }
        if link(temporary, path) != 0 {
            // Another process made it first: use theirs, so both episodes share one key.
            guard errno == EEXIST, let theirs = try read(path) else {
                throw .io("cannot create the world key '\(path)': \(String(cString: strerror(errno)))")
            }
            return theirs
        }
        return key
    }
}
