import Foundation
import RigorSpec

#if canImport(Glibc)
import Glibc
#endif

/// A file's bytes read through a read-only mapping: no copy into the process, which matters
/// for compiled agents of several megabytes.
enum MappedFile {
    /// Runs `body` over the bytes of `path`; nil when the file cannot be opened or read.
    static func withBytes<R>(_ path: String, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int(st.st_size)
        if size == 0 { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            // Not mappable (a pipe, a special file system): read it the ordinary way.
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            return data.withUnsafeBytes(body)
        }
        defer { munmap(base, size) }
        return body(UnsafeRawBufferPointer(start: base, count: size))
    }

    /// `sha256:<hex>` of the file's bytes, or nil when it cannot be read.
    static func sha256(_ path: String) -> String? {
        withBytes(path) { Digest.sha256(bytes: $0) }
    }
}

/// An agent's hash, computed once on a thread of its own; `value` waits for it.
final class AgentHashSource: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: String?
    /// What the recipe hashes besides the kind and the files (`entry`, `command`,
    /// `working_directory`), for whoever must recompute it (a bundle's verifier).
    let recipeExtra: [String: JSON]

    init(ready: String) {
        result = ready
        recipeExtra = [:]
    }

    init(recipeExtra: [String: JSON] = [:], _ compute: @escaping @Sendable () -> String) {
        self.recipeExtra = recipeExtra
        let thread = Thread { [self] in
            let value = compute()
            condition.lock()
            result = value
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
    }

    var value: String {
        condition.lock(); defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result ?? ""
    }
}

extension AgentHashSource {
    /// The recipe of `agent_hash` (spec/project.md): the canonical JSON of the agent's kind,
    /// every file's SHA-256 by the name it is recorded under, and, for agents that are not a
    /// single file, what says how they start (`extra`: the entry point, the command line).
    static func files(_ files: [String: String], kind: AgentCommand.Kind, extra: [String: JSON] = [:]) -> AgentHashSource {
        AgentHashSource(recipeExtra: extra) {
            var digests: [String: JSON] = [:]
            for (name, path) in files { digests[name] = .string(MappedFile.sha256(path) ?? "") }
            var recipe = extra
            recipe["kind"] = .string(kind.rawValue)
            recipe["files"] = .object(digests)
            return (try? Digest.sha256(canonical: .object(recipe))) ?? ""
        }
    }
}
