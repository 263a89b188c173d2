import Foundation
import RigorSpec

/// The last CI gate a workspace ran, as `rigor ci --json` printed it, kept in the state
/// directory (`last-gate.json`) so the web UI and `rigor report --latest-gate` can show it
/// without running it again. Written atomically; a file that does not parse reads as none.
public enum LastGate {
    public static let fileName = "last-gate.json"

    public static func path(stateDirectory: String) -> String { "\(stateDirectory)/\(fileName)" }

    /// Keeps `view` (the gate's JSON view) with the time it finished.
    public static func save(_ view: JSON, finishedAt: String, stateDirectory: String) throws(RunnerError) {
        guard case .object(var record) = view else { return }
        record["finished_at"] = .string(finishedAt)
        do { try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true) } catch {
            throw .io("cannot create the state directory '\(stateDirectory)': \(error.localizedDescription)")
        }
        let bytes = (try? JSON.object(record).prettyBytes()) ?? []
        try ArtifactFile.writeAtomically(bytes, to: path(stateDirectory: stateDirectory))
    }

    /// The last gate's view, or nil when none was kept (or the file is not JSON).
    public static func load(stateDirectory: String) -> JSON? {
        guard let data = FileManager.default.contents(atPath: path(stateDirectory: stateDirectory)), data.count <= 64 << 20,
              let json = try? JSON.parse([UInt8](data)), case .object = json else { return nil }
        return json
    }
}
