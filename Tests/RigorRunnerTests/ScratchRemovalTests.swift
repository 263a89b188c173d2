import Foundation
@testable import RigorAgentHost
import RigorTestSupport
import Testing

/// Agents' private directories are removed by descriptor, whatever the agent left in them, and
/// what a runner that died left behind is swept by the next one (spec/guard.md).
@Suite("Removing agents' private directories")
struct ScratchRemovalTests {
    /// Builds `levels` directories of 200-byte names, one inside the other, from `top`.
    func deepTree(under top: String, levels: Int) throws {
        var fd = open(top, O_RDONLY | O_DIRECTORY)
        try #require(fd >= 0)
        let name = String(repeating: "d", count: 200)
        for _ in 0..<levels {
            #expect(mkdirat(fd, name, 0o700) == 0)
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        let file = openat(fd, "bottom.txt", O_WRONLY | O_CREAT, 0o600)
        close(file)
        close(fd)
    }

    @Test("a tree deeper than PATH_MAX, names that are not UTF-8, directories made unreadable, links out: all gone, nothing followed")
    func removesWhatPathsCannot() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-removal")
        defer { _ = TreeRemoval.remove(dir) }
        let outside = "\(dir)/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "keep me\n".write(toFile: "\(outside)/keep.txt", atomically: false, encoding: .utf8)
        let tree = "\(dir)/tree"
        try FileManager.default.createDirectory(atPath: "\(tree)/locked/inner", withIntermediateDirectories: true)
        try deepTree(under: tree, levels: 40)
        symlink(outside, "\(tree)/link-out")
        symlink("\(outside)/keep.txt", "\(tree)/locked/inner/file-link")
        // A name with bytes that are not UTF-8.
        let latin1: [CChar] = [0x66, -0x17 /* 0xE9 */, 0x65, 0]
        let t = open(tree, O_RDONLY | O_DIRECTORY)
        close(openat(t, latin1, O_WRONLY | O_CREAT, 0o600))
        close(t)
        chmod("\(tree)/locked/inner", 0o000)
        chmod("\(tree)/locked", 0o500)
        #expect(TreeRemoval.remove(tree) == nil)
        #expect(!FileManager.default.fileExists(atPath: tree))
        #expect(try String(contentsOfFile: "\(outside)/keep.txt", encoding: .utf8) == "keep me\n", "a link was followed")
    }

    @Test("what cannot be removed is reported, not ignored", .enabled(if: geteuid() == 0, "needs root (to mount)"))
    func reportsFailure() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-removal-busy")
        defer { _ = TreeRemoval.remove(dir) }
        let mountPoint = "\(dir)/tree/busy"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard mount("none", mountPoint, "tmpfs", 0, nil) == 0 else {
            #expect(Facility.mayLack("a tmpfs mount (\(String(cString: strerror(errno))))"))
            return
        }
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }
        let problem = TreeRemoval.remove("\(dir)/tree")
        #expect(problem?.contains("busy") == true, "\(problem ?? "nil")")
        #expect(FileManager.default.fileExists(atPath: mountPoint))
    }

    @Test("a runner's start-up sweep removes directories whose runner died, never one a live runner holds, a link, or another name")
    func sweepsOnlyAbandoned() throws {
        let base = RepoPaths.temporaryDirectory("rigor-sweep")
        defer { _ = TreeRemoval.remove(base) }
        for name in ["rigor-episode-Dead01", "rigor-episode-Live01", "rigor-episode-seven77", "other-Dead02"] {
            try FileManager.default.createDirectory(atPath: "\(base)/\(name)", withIntermediateDirectories: true)
        }
        try deepTree(under: "\(base)/rigor-episode-Dead01", levels: 25)
        let outside = RepoPaths.temporaryDirectory("rigor-sweep-outside")
        defer { _ = TreeRemoval.remove(outside) }
        symlink(outside, "\(base)/rigor-episode-Link01")
        // A live runner holds its directory's lock.
        let live = open("\(base)/rigor-episode-Live01", O_RDONLY | O_DIRECTORY)
        defer { close(live) }
        #expect(flock(live, LOCK_EX | LOCK_NB) == 0)
        let removed = ScratchDirectory.sweepAbandoned(in: base, olderThan: 0)
        #expect(removed == ["rigor-episode-Dead01"])
        let left = Set((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [])
        #expect(left == ["rigor-episode-Live01", "rigor-episode-seven77", "other-Dead02", "rigor-episode-Link01"])
        #expect(FileManager.default.fileExists(atPath: outside))
        // Young ones are left for now: a directory is locked a moment after it is made.
        try FileManager.default.createDirectory(atPath: "\(base)/rigor-episode-Young1", withIntermediateDirectories: true)
        #expect(ScratchDirectory.sweepAbandoned(in: base).isEmpty)
    }
}
