import Foundation
@testable import RigorAgentHost
import RigorTestSupport
import Testing

/// The runner, often root, keeps a few files of its own between commands (the bwrap probe
/// cache, the uid locks). A local user who can guess their names must not be able to make it
/// write or chmod anything else through a planted symlink. The tests plant in a directory
/// without the sticky bit, where the kernel's fs.protected_symlinks does not apply.
@Suite("State files and planted symlinks")
struct StateFileTests {
    /// A 0600 file holding a secret, and a directory (mode 0777, not sticky) to plant links in.
    func victim(_ label: String) throws -> (dir: String, victim: String) {
        let dir = RepoPaths.temporaryDirectory(label)
        let victim = "\(dir)/victim/bwrap-ok"
        try FileManager.default.createDirectory(atPath: "\(dir)/victim", withIntermediateDirectories: true)
        chmod("\(dir)/victim", 0o700)
        try "root's secret\n".write(toFile: victim, atomically: false, encoding: .utf8)
        chmod(victim, 0o600)
        try FileManager.default.createDirectory(atPath: "\(dir)/shared", withIntermediateDirectories: true)
        chmod("\(dir)/shared", 0o777)
        return (dir, victim)
    }

    func untouched(_ victim: String) throws {
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "root's secret\n", "the planted link was followed")
        var st = stat()
        #expect(lstat(victim, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600, "the victim's mode changed to \(String(st.st_mode & 0o777, radix: 8))")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: (victim as NSString).deletingLastPathComponent)) ?? []
        #expect(entries == ["bwrap-ok"], "files were made next to the victim: \(entries)")
    }

    @Test("remembering a probe through links planted at the cache file and its temporary names neither writes nor chmods their target")
    func probeCacheDoesNotFollowLinks() throws {
        let (dir, victim) = try victim("rigor-state-probe")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let directory = try PrivateDirectory.open("\(dir)/shared/rigor-\(geteuid())")
        // A link at the name itself and at the old temporary name (the new one is random).
        symlink(victim, "\(directory.path)/bwrap-ok")
        symlink(victim, "\(directory.path)/bwrap-ok.\(getpid())")
        let cache = Bubblewrap.ProbeCache(directory: directory, name: "bwrap-ok", stamp: "boot-1 /usr/bin/bwrap 1:2:3:4\n")
        #expect(!cache.isValid, "a link is not a remembered probe")
        cache.remember()
        try untouched(victim)
        #expect(cache.isValid, "the cache replaced the link with a file of its own")
        var st = stat()
        #expect(lstat(cache.file, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && st.st_mode & 0o777 == 0o600)
    }

    @Test("a state directory planted as a link, or as a directory others can enter, is refused and left alone")
    func plantedDirectoryIsRefused() throws {
        let (dir, victim) = try victim("rigor-state-dir")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victimDirectory = (victim as NSString).deletingLastPathComponent
        symlink(victimDirectory, "\(dir)/shared/rigor-planted-link")
        #expect(throws: PrivateDirectory.Refusal.self) { try PrivateDirectory.open("\(dir)/shared/rigor-planted-link") }
        mkdir("\(dir)/shared/rigor-open", 0o777)
        chmod("\(dir)/shared/rigor-open", 0o777)
        #expect(throws: PrivateDirectory.Refusal.self) { try PrivateDirectory.open("\(dir)/shared/rigor-open") }
        if geteuid() == 0 {
            mkdir("\(dir)/shared/rigor-theirs", 0o700)
            chown("\(dir)/shared/rigor-theirs", 4242, 4242)
            #expect(throws: PrivateDirectory.Refusal.self) { try PrivateDirectory.open("\(dir)/shared/rigor-theirs") }
        }
        // What the refusal leaves: the victim as it was; and a fresh name is made private.
        try untouched(victim)
        let made = try PrivateDirectory.open("\(dir)/shared/rigor-fresh")
        var st = stat()
        #expect(lstat(made.path, &st) == 0 && st.st_mode & 0o777 == 0o700 && st.st_uid == geteuid())
    }

    @Test("this user's own state directory (the probe cache's) is private: a real directory of this user, mode 0700")
    func ownStateDirectoryIsPrivate() throws {
        let directory = try PrivateDirectory.forThisUser.get()
        var st = stat()
        #expect(lstat(directory.path, &st) == 0)
        #expect((st.st_mode & S_IFMT) == S_IFDIR && st.st_uid == geteuid() && st.st_mode & 0o077 == 0)
        if geteuid() == 0 {
            #expect(directory.path == "/run/rigor")
            let locks = try LiveAgents.uidLockDirectory.get()
            #expect(fstat(locks.fd, &st) == 0 && st.st_uid == 0 && st.st_mode & 0o077 == 0)
        }
    }
}
