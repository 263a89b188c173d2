import Foundation
@testable import RigorAgentHost
import RigorTestSupport
import Testing

@Suite("bwrap probe cache")
struct BubblewrapProbeTests {
    @Test("a remembered probe holds for the same boot and bwrap; another stamp, another owner's or a writable file does not count")
    func cache() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-probe-cache")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let directory = try PrivateDirectory.open("\(dir)/state")
        let cache = Bubblewrap.ProbeCache(directory: directory, name: "bwrap-ok", stamp: "boot-1 /usr/bin/bwrap 1:2:3:4\n")
        #expect(!cache.isValid, "nothing remembered yet")
        cache.remember()
        #expect(cache.isValid)
        #expect(!Bubblewrap.ProbeCache(directory: directory, name: "bwrap-ok", stamp: "boot-2 /usr/bin/bwrap 1:2:3:4\n").isValid,
                "a reboot or a new bwrap probes again")
        chmod(cache.file, 0o666)
        #expect(!cache.isValid, "a file others can write is not trusted")
        chmod(cache.file, 0o644)
        #expect(cache.isValid)
        if geteuid() == 0 {
            chown(cache.file, 4242, 4242)
            #expect(!cache.isValid, "a file another user owns is not trusted")
        }
        // The real one: this machine's boot id and bwrap, in this user's private state directory.
        if let path = Bubblewrap.path, let real = Bubblewrap.probeCache(bwrap: path) {
            #expect(real.stamp.hasPrefix(try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(real.file == "\(try PrivateDirectory.forThisUser.get().path)/bwrap-ok")
        }
    }
}
