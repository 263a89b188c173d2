import Foundation

/// What a test needs of the machine (root, bubblewrap, a tmpfs mount, an episode cgroup), and
/// what it may do when a facility is missing.
///
/// Off CI a test that cannot run its case says so on stderr and passes; on CI (`CI=true`,
/// where `make test` runs as root with bwrap, so every facility must be there) the same case is
/// a failure: a skip that hides a broken machine, or a broken probe, never passes silently there.
/// Use as `if !available { #expect(Facility.mayLack("bwrap namespaces")); return }`.
public enum Facility {
    /// `CI=true` in the environment, as `make test` on CI sets it.
    public static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    public static let isRoot = geteuid() == 0

    /// bwrap can make the namespaces the `namespace` level needs.
    public static let bwrapWorks: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap") else { return false }
        return (try? CommandLineRun.run("/usr/bin/bwrap", ["--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                                            "/bin/true"]))?.status == 0
    }()

    /// Whether a test may skip a case for want of `what`: true off CI, after saying on stderr
    /// what was skipped and why; false on CI, so that `#expect(Facility.mayLack(...))` fails
    /// there, naming what is missing.
    public static func mayLack(_ what: String, file: String = #fileID, line: Int = #line) -> Bool {
        if isCI { return false }
        FileHandle.standardError.write(Data("skipped at \(file):\(line): this machine lacks \(what) (a failure when CI=true)\n".utf8))
        return true
    }

    /// For `@Test(.enabled(if: Facility.needed(x, "what")))`: true when the facility is there,
    /// and on CI whether or not it is, so that there the test runs and fails for want of it (its
    /// body must `#require` what it needs); off CI, false after saying on stderr what is skipped.
    /// `.enabled(if: x)` alone would let CI pass with the test silently not run.
    public static func needed(_ available: Bool, _ what: String, file: String = #fileID, line: Int = #line) -> Bool {
        if available || isCI { return true }
        FileHandle.standardError.write(Data("skipped at \(file):\(line): this machine lacks \(what) (a failure when CI=true)\n".utf8))
        return false
    }
}
