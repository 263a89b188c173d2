/// How deep and how large anything that ends up in an artifact may be, as one rule.
///
/// An agent's action arguments are copied into the artifact twice, each time wrapped in more
/// structure than the agent's own line had: `artifact → action_trace → step → observation →
/// last_action → args`. A line that the agent-line reader accepts must therefore make an
/// artifact that every reader of artifacts (`rigor verify`, the store, bundles, `diff`) accepts
/// too, or an agent could make its own passing run unverifiable. So the depth of a *payload* (an
/// action's `args`, a world's result) is bounded once, here, and every other limit is derived
/// from it by the wrapping around it; spec/agent-protocol.md §1 and spec/runtime.md §6 state
/// the same numbers.
///
/// Depth counts arrays and objects: `{}` has depth 1, `{"a": [1]}` depth 2, a scalar depth 0.
public enum ArtifactLimits {
    /// The deepest nesting of one payload: an action's `args` object counts as level 1.
    public static let payloadDepth = 64

    /// Levels the agent's line wraps around `args`: the envelope and its `action` object.
    public static let agentLineWrappingDepth = 2
    /// The deepest agent line the reader accepts: an `args` of exactly `payloadDepth`.
    public static let agentLineDepth = payloadDepth + agentLineWrappingDepth

    /// Levels an artifact wraps around a payload at most: `artifact → action_trace → step →
    /// observation → last_action` around `args` (a result sits one level higher, under
    /// `observation.last_action_result`).
    public static let artifactWrappingDepth = 5
    /// The deepest artifact any reader of artifacts accepts.
    public static let artifactDepth = payloadDepth + artifactWrappingDepth

    /// Levels a bundle file wraps around its artifact (`{"artifact": ...}`).
    public static let bundleWrappingDepth = 1
    /// The deepest bundle file the bundle reader accepts.
    public static let bundleDepth = artifactDepth + bundleWrappingDepth

    /// The largest artifact (and bundle) the store and the bundle reader decompress: 1 GiB.
    public static let storedBytes = 1 << 30
    /// How many bytes of action lines one agent may send in one episode. Each byte of an
    /// action can appear up to four times in the artifact (in its trace entry, in the next
    /// observation's `last_action`, and echoed by a world into a result and that result's copy
    /// in the next observation), so a quarter of `storedBytes`, halved again for the rest of
    /// the artifact and the JSON around it, keeps every artifact storable.
    public static let actionBytesPerEpisode = storedBytes / 8
}
