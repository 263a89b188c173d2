import Crypto
import Foundation
import RigorSpec

/// A world that a task brings as a program speaking `rigor-world/1` (spec/world-protocol.md),
/// instead of naming one of Rigor's built-in world kinds.
///
/// Two manifest formats lead here. A Rigor manifest's `[world]` table names a command (any
/// executable in the task folder, or a Python file run through the task SDK). A TraceCore
/// manifest (`[setup] entrypoint`, `[validator] entrypoint`, `[action_surface] source`) is run
/// by the task SDK's TraceCore host; its action surface is introspected by the world and
/// reported when it is set up, as TraceCore itself does.
public struct WorldProgram: Sendable, Equatable {
    public enum Format: String, Sendable {
        /// `[world] command = [...]`: a Rigor task; its world is keyed (spec/determinism.md §1.1).
        case rigor
        /// A TraceCore task folder run unmodified; its setup seeds itself from the seed alone.
        case tracecore
    }

    public var format: Format
    /// The command as the manifest wrote it; its first element is relative to the task folder
    /// (or absolute). Empty for TraceCore tasks (the SDK's host runs them).
    public var command: [String]
    /// Whether the program may use the network (`[world] network = true`); default no.
    public var network: Bool
    /// TraceCore: `[setup] entrypoint`, `[validator] entrypoint`, `[action_surface] source`.
    public var entrypoints: [String: String]

    /// Whether the task SDK (Python) runs this world: TraceCore tasks and `.py` commands.
    public var usesSDK: Bool { format == .tracecore || (command.first?.hasSuffix(".py") ?? false) }

    /// The Python files the task SDK loads for this world, relative to the task folder, as
    /// run_world.py finds them: a TraceCore task's setup, validator and actions entry points (the
    /// defaults when the manifest names none), or the world module. Empty for other programs.
    public var pythonEntryFiles: [String] {
        guard format == .tracecore else {
            guard let first = command.first, first.hasSuffix(".py") else { return [] }
            return [first]
        }
        let setup = entrypoints["setup"] ?? "setup.py:setup", validator = entrypoints["validator"] ?? "validate.py:validate"
        return [String(setup.prefix { $0 != ":" }), String(validator.prefix { $0 != ":" }), entrypoints["actions"] ?? "actions.py"]
    }

    /// Whether the action surface comes from the world at set-up instead of the manifest.
    public var surfaceFromWorld: Bool { format == .tracecore }

    /// The protocol version.
    public static let protocolVersion = "rigor-world/1"
}

/// Where a task's world comes from.
public enum WorldSource: Sendable {
    case builtIn(any WorldKind.Type)
    case program(WorldProgram)

    /// The world's identity inside `task_hash` and a bundle's manifest. For built-ins, exactly
    /// the `{kind, code_version}` Rigor has always hashed, so their hashes do not move.
    public func identity(sdkDigests: [String: String]) -> JSON {
        switch self {
        case .builtIn(let kind):
            return ["kind": .string(kind.kind), "code_version": .string(kind.codeVersion)]
        case .program(let p):
            var o: [String: JSON] = [
                "kind": .string(p.format == .tracecore ? "tracecore" : "program"),
                "protocol": .string(WorldProgram.protocolVersion),
                "command": .array(p.command.map(JSON.string)), "network": .bool(p.network),
            ]
            if p.usesSDK { o["sdk"] = .object(sdkDigests.mapValues(JSON.string)) }
            return .object(o)
        }
    }
}

/// The per-episode seed material a world program gets instead of the world key.
public enum WorldSeed {
    /// `hex(HMAC-SHA256(world key, "rigor-world-seed/1|" + task id + "|" + seed))`: keyed like
    /// the built-in worlds' PRNG state, but under its own label, so the material a program
    /// sees is not the built-in generator's state either. Without the key an agent cannot
    /// compute it (HMAC is a pseudo-random function); one episode's material says nothing about
    /// another's, nor about the key.
    public static func material(taskID: String, seed: Int, key: WorldKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("rigor-world-seed/1|\(taskID)|\(seed)".utf8),
                                                  using: SymmetricKey(data: key.bytes))
        return Digest.hex(Array(mac))
    }
}

/// The task SDK (Agents/tasks_sdk): the files it hashes into `task_hash` and its launcher.
public struct WorldSDK: Sendable {
    public let directory: String
    /// The agent SDK beside it, whose `fork_server.py` forks Python worlds from a warm
    /// interpreter at the process level (nil: every world program is exec'd).
    public let forkServerDirectory: String?

    public init(directory: String, forkServerDirectory: String? = nil) {
        self.directory = directory
        self.forkServerDirectory = forkServerDirectory
    }

    public var launcher: String { "\(directory)/run_world.py" }

    /// `<name>` → `sha256:` of every `.py` file of the SDK.
    public func digests() -> [String: String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".py") }
        var out: [String: String] = [:]
        for n in names {
            if let data = FileManager.default.contents(atPath: "\(directory)/\(n)") { out[n] = Digest.sha256(data) }
        }
        return out
    }
}
