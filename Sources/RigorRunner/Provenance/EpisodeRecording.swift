import Crypto
import RigorSpec

/// `rigor run --record`: an episode must reproduce before it is kept as a record. It runs
/// twice; only when both artifact hashes agree is the first sealed into a bundle and the seal
/// entered in the ledger. Both runs are kept in the store either way.
public enum EpisodeRecording {
    public enum Outcome: Sendable {
        /// Reproduced and sealed.
        case recorded(first: EpisodeResult, path: String?, bundle: Bundle.Sealed)
        /// The second run differed: nothing was sealed; `replay` says where they part.
        case refused(first: EpisodeResult, path: String?, replay: ReplayReport)
    }

    /// Runs `run` twice in `workspace`; `out` also writes the first artifact as plain JSON there.
    public static func record(_ run: RunOptions, workspace: Workspace, out: String?,
                              signingKey: Curve25519.Signing.PrivateKey?) throws(RunnerError) -> Outcome {
        var request = try workspace.prepare(run)
        // With the model gateway, the first run records its calls (a live one would leave
        // nothing to replay) and the second is served from that tape, offline.
        if request.models?.mode == .live { request.models?.mode = .record }
        let store = try workspace.store(create: true)
        let first = try Episode.run(request)
        let path = try workspace.keep(first, store: store, out: out)
        var again = request
        if var models = again.models, models.mode == .record {
            models.mode = .replay
            models.tape = try ModelOptions.tapeHash(of: first.artifact).map { hash throws(RunnerError) in
                try ModelTapeStore(stateDirectory: workspace.stateDirectory).get(hash)
            }
            models.upstreams = [:]
            models.keys = [:]
            again.models = models
        }
        let second = try Episode.run(again)
        try workspace.keep(second, store: store)
        let report = Replay.compare(recorded: first.artifact, replayed: second)
        guard report.status == .reproduced else { return .refused(first: first, path: path, replay: report) }
        let sealed = try Bundle.sealToFile(first.artifact, workspace: workspace, store: store, signingKey: signingKey, output: nil)
        return .recorded(first: first, path: path, bundle: sealed)
    }
}
