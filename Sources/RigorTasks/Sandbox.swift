import RigorSpec

/// A task's allowlists: the filesystem roots and network hosts its actions may name.
///
/// Paths are checked lexically, before anything runs: they must be absolute, free of NUL bytes
/// and `..` segments, and fall under a root. The world is virtual, so there is nothing to
/// resolve through symlinks; a path is allowed or not by its text alone.
public struct Sandbox: Sendable, Equatable {
    public var filesystemRoots: [String]
    public var networkHosts: [String]

    public init(filesystemRoots: [String], networkHosts: [String]) {
        self.filesystemRoots = filesystemRoots.map { Sandbox.normalizedRoot($0) }
        self.networkHosts = networkHosts
    }

    static func normalizedRoot(_ root: String) -> String {
        (try? Sandbox.normalize(root).get()) ?? root
    }

    /// The canonical form of an absolute path, or why it is refused.
    public static func normalize(_ raw: String) -> Result<String, PathRefusal> {
        if raw.isEmpty { return .failure(.empty) }
        if raw.utf8.contains(0) { return .failure(.nulByte) }
        if !raw.hasPrefix("/") { return .failure(.relative) }
        var parts: [Substring] = []
        for segment in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { return .failure(.parentSegment) }
            parts.append(segment)
        }
        return .success("/" + parts.joined(separator: "/"))
    }

    /// The normalised path when it lies under a root, else why not.
    public func authorize(path raw: String) -> Result<String, PathRefusal> {
        switch Sandbox.normalize(raw) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let path):
            for root in filesystemRoots where root == "/" || path == root || path.hasPrefix(root + "/") {
                return .success(path)
            }
            return .failure(.outsideRoots(filesystemRoots))
        }
    }

    public func authorize(host: String) -> Bool { networkHosts.contains(host.lowercased()) }

    public var json: JSON {
        ["filesystem_roots": .array(filesystemRoots.map(JSON.string)), "network_hosts": .array(networkHosts.map(JSON.string))]
    }
}

/// Why a path was refused.
public enum PathRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case empty, nulByte, relative, parentSegment
    case outsideRoots([String])

    public var description: String {
        switch self {
        case .empty: return "empty path"
        case .nulByte: return "path contains a NUL byte"
        case .relative: return "relative path (paths must be absolute)"
        case .parentSegment: return "path contains a '..' segment"
        case .outsideRoots(let roots): return "path is outside the allowed roots \(roots.joined(separator: ", "))"
        }
    }
}

/// The sandbox's verdict on a checked action, with the io_audit entries of any refusal.
public struct SandboxDecision: Sendable {
    public var violation: String?
    public var audit: [JSON]
    /// The action with its path arguments normalised.
    public var action: CheckedAction
}

extension Sandbox {
    /// Checks every `path` and `host` argument of an action against the allowlists.
    public func authorize(_ action: CheckedAction) -> SandboxDecision {
        var args = action.args
        var audit: [JSON] = []
        var violation: String? = nil
        for (name, type) in action.spec.args.sorted(by: { $0.key < $1.key }) {
            guard let raw = args[name]?.stringValue else { continue }
            switch type {
            case .path:
                switch authorize(path: raw) {
                case .success(let normalized): args[name] = .string(normalized)
                case .failure(let refusal):
                    audit.append(["type": "fs", "op": .string(action.name), "path": .string(raw),
                                  "verdict": "denied", "reason": .string(refusal.description)])
                    if violation == nil {
                        violation = "action '\(action.name)' argument '\(name)' = \(Self.quoted(raw)): \(refusal)"
                    }
                }
            case .host where !authorize(host: raw):
                audit.append(["type": "net", "op": .string(action.name), "host": .string(raw),
                              "verdict": "denied", "reason": "host is not in the task's network allowlist"])
                if violation == nil {
                    violation = "action '\(action.name)' argument '\(name)' = \(Self.quoted(raw)): host is not in the network allowlist"
                }
            default: break
            }
        }
        return SandboxDecision(violation: violation, audit: audit, action: CheckedAction(spec: action.spec, args: args))
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingNULs() + "\""
    }
}

extension String {
    func replacingNULs() -> String {
        String(unicodeScalars.map { $0 == "\0" ? "\\0" : String($0) }.joined())
    }
}
