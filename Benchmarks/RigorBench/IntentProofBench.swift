// `make bench`: IntentProof export throughput (events/s): mapping steps to events, chaining,
// Ed25519 signing and writing JSON Lines; and the chain check `rigor verify --intentproof`
// runs (schema, chain, signature per event). Uses the 10,000-step synthetic artifact of the
// diff benchmark. This file only declares things: main.swift calls `runIntentProofBench()`.
import Foundation
import RigorRunner
import RigorSpec

func runIntentProofBench() {
    print("")
    print("IntentProof export and verify (a 10,000-step synthetic artifact, one event per step + 1)")
    print("")
    let artifact = DiffBenchArtifacts.make(variant: 0, divergeAt: DiffBenchArtifacts.steps + 1)
    guard let signer = try? IntentProofSigner(seed: [UInt8](repeating: 42, count: 32)) else { return }
    let exporter = IntentProofExport(signer: signer)
    var lines: [UInt8] = []
    var best = Double.infinity
    for _ in 0..<3 {
        let t = MonotonicClock.nanoseconds()
        guard let out = try? exporter.jsonLines([artifact]) else { print("export failed"); return }
        best = min(best, Double(MonotonicClock.nanoseconds() - t))
        lines = out
    }
    let events = lines.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    var verifyBest = Double.infinity
    var verified = 0
    for _ in 0..<3 {
        let t = MonotonicClock.nanoseconds()
        verified = IntentProofChainCheck(publicKey: signer.publicKey).check(lines).eventsVerified
        verifyBest = min(verifyBest, Double(MonotonicClock.nanoseconds() - t))
    }
    print("| operation                                  | events | best of 3  | events/s   |")
    print("|--------------------------------------------|--------|------------|------------|")
    print("| export (map, chain, sign, write JSONL)     | \(String(events).padding(toLength: 6, withPad: " ", startingAt: 0)) | \(String(format: "%8.1f ms", best / 1e6)) | \(String(format: "%10.0f", Double(events) / (best / 1e9))) |")
    print("| verify (parse, schema, chain, signature)   | \(String(verified).padding(toLength: 6, withPad: " ", startingAt: 0)) | \(String(format: "%8.1f ms", verifyBest / 1e6)) | \(String(format: "%10.0f", Double(verified) / (verifyBest / 1e9))) |")
    print("  (\(lines.count / 1024) KiB of JSON Lines)")
}
