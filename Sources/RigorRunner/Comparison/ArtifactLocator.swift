import Foundation
import RigorSpec
import RigorStore

/// Finds the artifact a user means by one argument of `rigor diff`: an artifact file, a
/// baseline file, or a run in the store (a full run id, a unique prefix, or `latest`).
///
/// A baseline is a JSON object that either holds the artifact (`"artifact": {...}`) or names
/// a file next to it (`"artifact_file"`, relative to the baseline's folder: plain JSON, or
/// zstd-compressed as `rigor baseline record` writes `seed-<n>.artifact.json.zst`). A JSON
/// file that is neither an artifact nor a baseline is returned as it is, and `ArtifactDiff`
/// then says why it is not comparable. The store is opened only when an argument is not a file, and never created.
public struct ArtifactLocator {
    /// What an argument named.
    public struct Located: Sendable {
        /// How to show this side in a report: the path or the run.
        public let label: String
        public let artifact: JSON
    }

    public let stateDirectory: String
    /// Where runs are looked up; nil: the state directory's embedded store.
    public let storeLocation: StoreLocation?
    private var store: (any RunStorage)?

    public init(stateDirectory: String, storeLocation: StoreLocation? = nil) {
        self.stateDirectory = stateDirectory
        self.storeLocation = storeLocation
    }

    public mutating func locate(_ reference: String) throws(RunnerError) -> Located {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: reference, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else {
                throw .usage("'\(reference)' is a directory; give an artifact file (e.g. from `rigor runs export`), a baseline file or a run id")
            }
            return try Self.unwrap(try Self.readJSON(reference, expecting: Self.expected), path: reference)
        }
        if reference.contains("/") || reference.hasSuffix(".json") {
            throw .usage("file '\(reference)' does not exist; give an artifact file, a baseline file, or a run id / prefix / 'latest' from the store")
        }
        let store = try openStore(for: reference)
        do throws(StoreError) {
            let runID = try store.resolve(reference)
            return Located(label: reference == runID ? "run \(runID)" : "run \(runID) (\(reference))", artifact: try store.artifact(runID))
        } catch .runNotFound {
            throw .usage("'\(reference)' is neither a file nor a run in \(Self.shown(store.location)); give an artifact file, a baseline file, a full run id, a unique prefix of at least \(RunStore.minimumPrefixLength) characters, or 'latest'")
        } catch {
            throw .store(error)
        }
    }

    private mutating func openStore(for reference: String) throws(RunnerError) -> any RunStorage {
        if let store { return store }
        do throws(StoreError) {
            let opened = try (storeLocation ?? .embedded(directory: stateDirectory)).openForReading()
            store = opened
            return opened
        } catch .storeMissing(let path) {
            throw .usage("'\(reference)' is not a file, and there is no store at \(Self.shown(path)) to look it up in; run an episode first (rigor run ...), pass --state-dir, or give an artifact file")
        } catch {
            throw .store(error)
        }
    }

    static let expected = "an artifact file (written by rigor run or TraceCore) or a baseline file"

    /// The artifact a file holds: itself, or the one its baseline wrapper holds or names.
    static func unwrap(_ value: JSON, path: String) throws(RunnerError) -> Located {
        if value["action_trace"] != nil { return Located(label: path, artifact: value) }
        if let inner = value["artifact"], inner.objectValue != nil {
            return Located(label: "\(path) (baseline)", artifact: inner)
        }
        if let named = value["artifact_file"] {
            guard let name = named.stringValue, !name.isEmpty else {
                throw .usage("baseline '\(path)': \"artifact_file\" must be a file name (a string); fix the baseline or give the artifact file itself")
            }
            // The artifact sits beside its baseline: a name that reaches elsewhere is refused.
            do { try PathName.checkFileName(name, as: "baseline '\(path)': artifact_file") } catch {
                throw .usage("\(error); it must name a file beside the baseline (as `rigor baseline record` writes it)")
            }
            let folder = (path as NSString).deletingLastPathComponent
            let target = folder.isEmpty ? name : "\(folder)/\(name)"
            guard FileManager.default.fileExists(atPath: target) else {
                throw .usage("baseline '\(path)' names artifact_file '\(name)', but \(target) does not exist; restore it or re-record the baseline")
            }
            let artifact = try readJSON(target, expecting: "the artifact named by baseline '\(path)'")
            return Located(label: "\(path) (baseline → \(name))", artifact: artifact)
        }
        return Located(label: path, artifact: value)
    }

    /// The first four bytes of a zstd frame.
    static let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    /// Reads and parses a JSON file (zstd-compressed or not); errors name the file and say what was expected.
    public static func readJSON(_ path: String, expecting what: String) throws(RunnerError) -> JSON {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .usage("file '\(path)' does not exist; give \(what)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .usage("cannot read '\(path)' (permissions?); give \(what)")
        }
        var bytes = [UInt8](data)
        // Baselines keep their artifact zstd-compressed beside them (`seed-0.artifact.json.zst`).
        if bytes.starts(with: zstdMagic) {
            do { bytes = try Compression.decompress(bytes, what: "'\(path)'") } catch {
                throw .usage("\(error.description); restore the file, or give \(what)")
            }
        }
        do {
            return try JSON.parse(bytes, maxDepth: ArtifactLimits.artifactDepth)
        } catch {
            throw .usage("'\(path)' is not valid JSON (\(error)); give \(what)")
        }
    }

    /// A path relative to the working directory when it is inside it.
    static func shown(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }
}
