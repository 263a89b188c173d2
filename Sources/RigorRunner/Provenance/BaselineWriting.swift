import RigorSpec

/// Writes baselines from finished batch episodes (`rigor baseline record`, `rigor ci --update`)
/// and enters each in the ledger, so a baseline that appears in `Baselines/` without a ledger
/// entry was not written by Rigor.
public enum BaselineWriter {
    /// One baseline written.
    public struct Written: Sendable {
        public let path: String
        public let artifactHash: String
        public let success: Bool

        /// The row `baseline record --json` prints.
        public var json: JSON { ["path": .string(path), "artifact_hash": .string(artifactHash), "success": .bool(success)] }
    }

    /// Writes one baseline per outcome into `directory`, in order; `written` hears of each as soon
    /// as it is on disk and in the ledger (a later failure leaves the earlier ones written).
    @discardableResult
    public static func write(_ outcomes: [BatchOutcome], directory: String, workspace: Workspace,
                             written: (Written) -> Void = { _ in }) throws(RunnerError) -> [Written] {
        let store = try workspace.store(create: true)
        let worldKey = try workspace.worldKey()
        var all: [Written] = []
        for o in outcomes {
            let baseline = Baseline(pairing: o.item.pairing.name, artifact: o.artifact, worldKey: worldKey)
            let path = try Baseline.path(in: directory, pairing: o.item.pairing.name, seed: o.item.seed)
            try baseline.write(to: path, artifact: o.artifact, tapes: ModelTapeStore(stateDirectory: workspace.stateDirectory))
            do {
                try store.appendLedger(kind: "baseline", payload: [
                    "pairing": .string(o.item.pairing.name), "seed": .int(o.item.seed),
                    "artifact_hash": .string(o.artifactHash), "path": .string(path),
                ])
            } catch { throw .store(error) }
            let row = Written(path: path, artifactHash: o.artifactHash, success: o.success)
            all.append(row)
            written(row)
        }
        return all
    }

    /// `rigor ci --update`: re-writes the baselines whose check changed, from the new artifacts,
    /// each under the world key it was recorded with. Returns the paths written, in order.
    @discardableResult
    public static func update(_ checks: [CICheck], workspace: Workspace, updated: (String) -> Void = { _ in }) throws(RunnerError) -> [String] {
        var paths: [String] = []
        for c in checks where !c.identical {
            guard let artifact = c.newArtifact, let path = c.baseline.path else { continue }
            try Baseline(pairing: c.baseline.pairing, artifact: artifact, worldKey: try c.baseline.worldKey(or: workspace)).write(to: path, artifact: artifact, tapes: ModelTapeStore(stateDirectory: workspace.stateDirectory))
            paths.append(path)
            updated(path)
        }
        return paths
    }
}
