import Foundation

/// Looks at /proc the way an administrator would, to prove no agent process is left.
public enum ProcessTable {
    /// Pids whose command line mentions `needle` (zombies have none, so see `ownedBy` too).
    public static func pids(commandLineContaining needle: String) -> [Int32] {
        let me = getpid()
        return entries().compactMap { pid in
            guard pid != me, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let cmd = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            // The test's own command lines (rigor run ... --agent X) mention the agent too.
            if cmd.contains("rigor run") || cmd.contains("/rigor ") { return nil }
            return cmd.contains(needle) ? pid : nil
        }
    }

    /// Pids (zombies included) owned by `uid`.
    public static func pids(ownedBy uid: Int) -> [Int32] {
        entries().filter { pid in
            guard let attrs = try? FileManager.default.attributesOfItem(atPath: "/proc/\(pid)"),
                  let owner = attrs[.ownerAccountID] as? NSNumber else { return false }
            return owner.intValue == uid
        }
    }

    static func entries() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    }
}
