import RigorTasks

/// A fixed world key for tests that build worlds directly, so that what they check about a
/// world is the same on every run. (Production keys are random per state directory.)
public enum TestWorldKey {
    public static let fixed: WorldKey = WorldKey(bytes: Array(0..<UInt8(WorldKey.byteCount))) ?? WorldKey.generate()
}
