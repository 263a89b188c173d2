import Foundation
import RigorJSON
import RigorRunner
import RigorSpec
import RigorStore

/// The JSON views the dashboard serves, each computed by RigorRunner's own view functions (the
/// ones the CLI's `--json` prints): the `/api/` routes return them as they are, and the HTML
/// pages are rendered from the very same values, so a page can never show what its JSON twin
/// does not say.
public struct DashboardViews: Sendable {
    public let workspace: Workspace
    public let store: RunStore

    public init(workspace: Workspace, store: RunStore) {
        self.workspace = workspace
        self.store = store
    }

    /// The largest page of the runs list.
    static let maximumPageSize = 500

    /// A run reference as the URL gives it: a run id, a unique prefix (4+ characters) or
    /// `latest`. Only hex digits and dashes reach the store.
    static func runReference(_ text: String, parameter: String) throws(DashboardError) -> String {
        guard text == "latest" || (4...36).contains(text.utf8.count) && text.utf8.allSatisfy({ Self.isRunIDByte($0) }) else {
            throw .badParameter(name: parameter, problem: "must be a run id, a prefix of at least 4 of its characters (hex digits and dashes), or 'latest' (got '\(TerminalText.shown(String(text.prefix(40))))')")
        }
        return text
    }

    static func isRunIDByte(_ b: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(b)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(b) || b == UInt8(ascii: "-")
    }

    func resolve(_ ref: String, parameter: String) throws(DashboardError) -> String {
        let checked = try Self.runReference(ref, parameter: parameter)
        do { return try store.resolve(checked) } catch { throw Self.storeError(error, ref: checked) }
    }

    static func storeError(_ error: StoreError, ref: String? = nil) -> DashboardError {
        switch error {
        case .runNotFound, .noRuns: .notFound(error.description)
        case .ambiguousRun, .referenceTooShort: .badParameter(name: "run", problem: error.description)
        default: .unavailable("the store could not be read: \(error.description)")
        }
    }

    // MARK: Runs

    /// One page of the runs list: `rigor.runs_page/1` (spec/views.md).
    func runs(_ q: QueryString) throws(DashboardError) -> JSON {
        try LibraryBridge.runsPage(store, q, maximumPageSize: Self.maximumPageSize)
    }

    /// One run: what `rigor runs show --json` prints (index row, why it ended, failing step,
    /// agent log, and the whole artifact).
    public func run(_ ref: String) throws(DashboardError) -> JSON {
        let id = try resolve(ref, parameter: "run")
        do {
            return RunReadout.json(summary: try store.summary(id), artifact: try store.artifact(id))
        } catch { throw Self.storeError(error, ref: ref) }
    }

    /// The diff of two stored runs: what `rigor diff A B --format json` prints.
    public func diff(_ a: String, _ b: String) throws(DashboardError) -> ArtifactDiff {
        let idA = try resolve(a, parameter: "a"), idB = try resolve(b, parameter: "b")
        do {
            return ArtifactDiff(try store.artifact(idA), try store.artifact(idB), labelA: "run \(idA)", labelB: "run \(idB)")
        } catch { throw Self.storeError(error) }
    }

    // MARK: Metrics

    func metrics(_ q: QueryString) throws(DashboardError) -> JSON {
        try LibraryBridge.metrics(store, q)
    }

    func summary(_ q: QueryString) throws(DashboardError) -> JSON {
        try LibraryBridge.summary(store, q)
    }

    // MARK: Baselines and the last CI gate

    /// The committed baselines (pairing, seed, outcome, usage, artifact_hash) and the last CI
    /// gate this workspace ran (`rigor ci` keeps its `--json` view in the state directory).
    public func baselines() throws(DashboardError) -> JSON {
        var rows: [JSON] = []
        var problem: JSON = .null
        if FileManager.default.fileExists(atPath: workspace.baselinesDirectory) {
            do {
                for b in try Baseline.loadAll(workspace.baselinesDirectory) {
                    let d = b.document
                    rows.append(["pairing": .string(b.pairing), "seed": .int(b.seed), "agent_ref": .string(b.agentRef),
                                 "task_ref": .string(b.taskRef), "artifact_hash": b.artifactHash.map(JSON.string) ?? .null,
                                 "outcome": d["outcome"] ?? .null, "used": d["used"] ?? .null,
                                 "steps": .int(b.stepDigests.count)])
                }
            } catch { problem = .string(error.description) }
        }
        return ["view": "rigor.baselines/1", "directory": .string(workspace.baselinesDirectory), "baselines": .array(rows),
                "problem": problem, "last_gate": LastGate.load(stateDirectory: workspace.stateDirectory) ?? .null]
    }

    // MARK: Ledger

    /// The last `limit` ledger entries (newest first) and the chain's verification.
    func ledger(_ q: QueryString) throws(DashboardError) -> JSON {
        let limit = try q.int("limit", default: 100, in: 1...Self.maximumPageSize)
        do {
            let verification = try store.verifyLedger()
            let entries = try store.ledgerEntries()
            return ["view": "rigor.ledger/1", "verification": LibraryBridge.ledgerVerification(verification),
                    "total": .int(entries.count), "limit": .int(limit),
                    "entries": .array(entries.suffix(limit).reversed().map(\.json))]
        } catch { throw Self.storeError(error) }
    }

    // MARK: Bundles

    /// Every bundle seal in the ledger, newest first, with the state of the file the seal wrote
    /// to the default place (`bundles/<run_id>.rigorbundle`): intact and verifying, changed
    /// since the seal, or missing.
    public func bundles() throws(DashboardError) -> JSON {
        let seals: [LedgerEntry]
        do { seals = try store.ledgerEntries().filter { $0.kind == "bundle_seal" } } catch { throw Self.storeError(error) }
        var rows: [JSON] = []
        for seal in seals.suffix(Self.maximumPageSize).reversed() {
            let p = seal.payload
            var row: [String: JSON] = ["seq": .int(seal.seq), "run_id": p["run_id"] ?? .null, "artifact_hash": p["artifact_hash"] ?? .null,
                                       "bundle_sha256": p["bundle_sha256"] ?? .null, "signed": p["signed"] ?? .null]
            row["file"] = bundleFileState(runID: p["run_id"]?.stringValue, sha256: p["bundle_sha256"]?.stringValue)
            rows.append(.object(row))
        }
        return ["view": "rigor.bundles/1", "directory": .string("\(workspace.stateDirectory)/bundles"), "bundles": .array(rows)]
    }

    private func bundleFileState(runID: String?, sha256: String?) -> JSON {
        guard let runID, let path = try? workspace.bundlePath(runID: runID) else { return ["state": "no_path"] }
        guard let data = FileManager.default.contents(atPath: path) else { return ["state": "missing"] }
        let sha = Digest.sha256([UInt8](data))
        guard sha == sha256 else { return ["state": "changed", "sha256": .string(sha)] }
        do {
            let problems = try Bundle.read(path).verify()
            return ["state": problems.isEmpty ? "verified" : "invalid", "problems": .array(problems.map(JSON.string))]
        } catch { return ["state": "unreadable", "problems": .array([.string(error.description)])] }
    }
}
