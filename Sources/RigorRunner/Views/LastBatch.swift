import Foundation
import RigorSpec

/// The last batch a workspace ran, as `rigor batch --json` prints it (`BatchSummary.json`),
/// kept in the state directory (`last-batch.json`) for `rigor report --latest-batch`.
public enum LastBatch {
    public static let fileName = "last-batch.json"

    public static func save(_ summary: JSON, stateDirectory: String) throws(RunnerError) {
        do { try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true) } catch {
            throw .io("cannot create the state directory '\(stateDirectory)': \(error.localizedDescription)")
        }
        try ArtifactFile.writeAtomically((try? summary.canonicalBytes()) ?? [], to: "\(stateDirectory)/\(fileName)", durable: false)
    }

    public static func load(stateDirectory: String) -> JSON? {
        guard let data = FileManager.default.contents(atPath: "\(stateDirectory)/\(fileName)"), data.count <= 256 << 20,
              let json = try? JSON.parse([UInt8](data)), case .object = json else { return nil }
        return json
    }
}
