import RigorSpec

/// The JSON view of a CI gate's result: what `rigor ci --json` prints and what the web UI
/// serves for the last gate. One function, so the two never disagree.
public enum CIGateView {
    /// One baseline's check.
    public static func json(_ c: CICheck) -> JSON {
        ["pairing": .string(c.baseline.pairing), "seed": .int(c.baseline.seed), "reproduced": .bool(c.reproduced),
         "identical": .bool(c.identical),
         "regressions": .array(c.regressions.map(JSON.string)), "changes": .array(c.changes.map(JSON.string)),
         "first_divergent_step": c.firstDivergentStep.map(JSON.int) ?? .null,
         "divergence": c.divergence?.json ?? .null, "run_id": c.newRunID.map(JSON.string) ?? .null]
    }

    /// The whole gate: verdict, counts, the stats comparison (stats gate) and every check.
    public static func json(_ checks: [CICheck], mode: CIGateMode) -> JSON {
        let comparison = mode == .stats ? CIGate.comparison(checks) : nil
        return ["gate": .string(mode.rawValue), "passed": .bool(!CIGate.fails(checks, mode: mode)),
                "total": .int(checks.count), "regressions": .int(checks.filter { !$0.reproduced }.count),
                "changed": .int(checks.filter { $0.reproduced && !$0.identical }.count),
                "comparison": comparison?.json ?? .null, "checks": .array(checks.map(json))]
    }
}
