import Foundation
import RigorAgentHost
import RigorRunner
import RigorSpec
import RigorStore
import RigorTasks
import RigorTestSupport
import Testing

/// Issue 21's fuzz targets: the manifest parser, the agent-line reader and the bundle reader,
/// fed mutants of valid inputs (`Fuzzer`). A few seconds each in `make test`; `make fuzz` sets
/// RIGOR_FUZZ_ITERATIONS for a long run. Every input must give a value or a typed error.
@Suite("Fuzz")
struct FuzzTests {
    @Test("task.toml: every mutant of the shipped manifests parses or is refused with a TaskError")
    func manifestParser() throws {
        let tasks = RepoPaths.tasks
        let seeds = try FileManager.default.contentsOfDirectory(atPath: tasks).sorted().compactMap {
            FileManager.default.contents(atPath: "\(tasks)/\($0)/task.toml").map { [UInt8]($0) }
        }
        var fuzzer = Fuzzer(seed: 0x7A5C)
        var accepted = 0
        let ran = try fuzzer.run(seeds: seeds) { bytes in
            do {
                let manifest = try TaskManifest.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz/task.toml")
                accepted += 1
                // What is accepted is in range, so nothing downstream can trap on it.
                #expect(InputRanges.budgetCount.contains(manifest.budgets.steps))
                if let t = manifest.limits.actTimeoutSeconds { #expect(InputRanges.actTimeoutSeconds.contains(t)) }
            } catch {
                #expect(!"\(error)".isEmpty)
            }
        }
        #expect(accepted >= seeds.count, "the shipped manifests must parse")
        #expect(ran > seeds.count)
    }

    @Test("agent lines: every mutant gives an action whose args fit the payload depth, or a termination reason")
    func agentLineReader() throws {
        let seeds = [
            #"{"type":"action","action":{"type":"list_dir","args":{"path":"/app"}}}"#,
            #"{"type":"action","action":{"type":"call_api","args":{"endpoint":"/token","payload":{"client_id":"c","nonce":[1,2.5,-3e2,null,true]}}},"intent":"go"}"#,
            #"{"type":"action","action":{"type":"set_output","args":{"key":"API_KEY","value":"\u00e9\ud83d\ude00"}},"intent":null}"#,
            #"{"type":"action","action":{"type":"wait","args":{}},"extra":[[[{}]]]}"#,
        ].map { Array($0.utf8) }
        var fuzzer = Fuzzer(seed: 0xA9E7)
        var actions = 0
        try fuzzer.run(seeds: seeds) { bytes in
            switch AgentLine.decode(bytes, step: 1) {
            case .action(_, let args, let intent, let raw, _):
                actions += 1
                #expect(JSON.object(args).nestingDepth <= ArtifactLimits.payloadDepth)
                #expect(raw.nestingDepth <= ArtifactLimits.payloadDepth + 1)
                #expect((intent?.utf8.count ?? 0) <= AgentLine.maxIntentBytes)
            case .failure(let reason, let message):
                #expect(reason.failureType == .invalidAction)
                #expect(!message.isEmpty)
            }
        }
        #expect(actions >= seeds.count)
    }

    @Test("bundles: every mutant of a sealed bundle loads and verifies (with problems) or is refused as damaged")
    func bundleReader() throws {
        let state = RepoPaths.temporaryDirectory("rigor-fuzz-bundle")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let baseline = try #require(try Baseline.loadAll("\(RepoPaths.root)/Baselines/toy_filesystem").first)
        let artifact = try #require(baseline.storedArtifact())
        let sealed = try RigorRunner.Bundle.seal(artifact, workspace: RepoPaths.workspace(state: state), signingKey: nil,
                                                 worldKey: baseline.worldKey)
        let compressed = try sealed.encoded()
        let json = try Compression.decompress(compressed, what: "the sealed bundle")
        #expect(try loadBundle(compressed, at: "\(state)/seed.rigorbundle").verify().isEmpty)
        var fuzzer = Fuzzer(seed: 0xB0D1, defaultIterations: 400)
        var loaded = 0
        // Mostly the JSON inside (recompressed), sometimes the compressed bytes themselves.
        try fuzzer.run(seeds: [json]) { bytes in
            let file = bytes.first == 0x28 ? bytes : try Compression.compress(bytes)
            do {
                let bundle = try loadBundle(file, at: "\(state)/mutant.rigorbundle")
                loaded += 1
                _ = bundle.verify()
            } catch {
                #expect(!"\(error)".isEmpty)
            }
        }
        var raw = Fuzzer(seed: 0xB0D2, defaultIterations: 200)
        try raw.run(seeds: [compressed]) { bytes in
            if let bundle = try? loadBundle(bytes, at: "\(state)/raw.rigorbundle") { _ = bundle.verify() }
        }
        #expect(loaded >= 1)
    }
}

/// The bundle reader on bytes: through a file, as `rigor bundle verify` reads it.
func loadBundle(_ bytes: [UInt8], at path: String) throws(RigorRunner.Bundle.ReadFailure) -> RigorRunner.Bundle {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw .missing("cannot write \(path)") }
    return try RigorRunner.Bundle.load(path)
}
