import Foundation
import RigorSpec
import Yams

/// `rigor policy check --intentproof`: an IntentProof policy (YAML or JSON) evaluated on runs.
///
/// Each run is one flow: its events are the ones `rigor export intentproof` writes for it (the
/// same mapping, unsigned: the check needs no key). A `.jsonl` argument is read as an exported
/// event file instead, its flows grouped by `correlation_id` (verify it first with `rigor verify
/// --intentproof` if its origin matters: the check reads events, it does not authenticate them).
public struct IntentProofPolicyReport: Sendable {
    public struct Source: Sendable {
        /// The run or file as the user named it.
        public let label: String
        public let flows: [IntentProofFlowResult]
    }

    public let policy: IntentProofPolicy
    public let sources: [Source]

    /// `fail` when any flow fails, else `inconclusive` when any is, else `pass` (`skipped` flows
    /// do not count; all skipped gives `skipped`).
    public var status: String {
        let all = sources.flatMap(\.flows).map(\.status)
        if all.contains("fail") { return "fail" }
        if all.contains("inconclusive") { return "inconclusive" }
        return all.contains("pass") ? "pass" : "skipped"
    }

    public var json: JSON {
        [
            "policy_id": .string(policy.policyID), "policy_version": .int(policy.policyVersion),
            "policy_fingerprint": policy.fingerprint.map(JSON.string) ?? .null, "status": .string(status),
            "sources": .array(sources.map { s in ["source": .string(s.label), "flows": .array(s.flows.map(\.json))] }),
        ]
    }
}

extension Workspace {
    /// The largest policy file read: 1 MiB.
    static let maxPolicyFileBytes = 1 << 20

    public func intentProofPolicyCheck(policyFile: String, references: [String]) throws(RunnerError) -> IntentProofPolicyReport {
        guard !references.isEmpty else { throw .usage("name at least one run (id, prefix, latest, artifact file) or an exported .jsonl file") }
        let policy = try Self.loadIntentProofPolicy(policyFile)
        // Events are mapped without signing; a fixed throwaway key satisfies the exporter's type.
        let exporter: IntentProofExport
        do { exporter = IntentProofExport(signer: try IntentProofSigner(seed: [UInt8](repeating: 1, count: 32))) } catch {
            throw .internal(error.description)
        }
        var locator = ArtifactLocator(stateDirectory: stateDirectory)
        var sources: [IntentProofPolicyReport.Source] = []
        for reference in references {
            if reference.hasSuffix(".jsonl") {
                let events = try Self.readEventLines(reference)
                sources.append(.init(label: reference, flows: policy.evaluate(events: events)))
                continue
            }
            let located = try locator.locate(reference)
            let events: [JSON]
            do { events = try exporter.events(of: located.artifact) } catch { throw .usage("\(located.label): \(error.description)") }
            let runID = located.artifact["run_id"]?.stringValue ?? ""
            sources.append(.init(label: located.label, flows: [policy.evaluate(flow: events, correlationID: runID)]))
        }
        return IntentProofPolicyReport(policy: policy, sources: sources)
    }

    /// An IntentProof policy from a YAML (or JSON) file.
    public static func loadIntentProofPolicy(_ path: String) throws(RunnerError) -> IntentProofPolicy {
        let bytes = try readBounded(path, limit: maxPolicyFileBytes, what: "an IntentProof policy (.yaml or .json)")
        let value: JSON
        do { value = try PolicyYAML.json(String(decoding: bytes, as: UTF8.self)) } catch {
            throw .usage("policy '\(path)': \(error.description)")
        }
        do { return try IntentProofPolicy(value) } catch { throw .usage("policy '\(path)': \(error.description)") }
    }

    static func readEventLines(_ path: String) throws(RunnerError) -> [JSON] {
        let bytes = try readBounded(path, limit: maxEventFileBytes, what: "an IntentProof event file (.jsonl)")
        var events: [JSON] = []
        var line = 0
        for chunk in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            line += 1
            if chunk.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let event: JSON
            do { event = try JSON.parse(Array(chunk), maxDepth: 128) } catch {
                throw .usage("'\(path)' line \(line) is not JSON: \(error)")
            }
            guard event.objectValue != nil else { throw .usage("'\(path)' line \(line): an event must be a JSON object") }
            events.append(event)
        }
        return events
    }
}

/// YAML (a JSON superset) read into `JSON`, bounded: a document whose aliases expand to more
/// than `maxNodes` values, or nest deeper than `maxDepth`, is refused rather than expanded.
enum PolicyYAML {
    static let maxNodes = 100_000
    static let maxDepth = 64

    static func json(_ text: String) throws(IntentProofError) -> JSON {
        // Composed, not loaded: `load` would build every alias's expansion before we could
        // count it; the node tree shares aliased subtrees, and the walk below counts them.
        let composed: Node?
        do { composed = try Yams.compose(yaml: text) } catch { throw IntentProofError("not valid YAML: \(error)") }
        guard let composed else { throw IntentProofError("the file is empty") }
        var budget = maxNodes
        return try convert(composed, depth: 0, budget: &budget)
    }

    private static func convert(_ node: Node, depth: Int, budget: inout Int) throws(IntentProofError) -> JSON {
        budget -= 1
        guard budget >= 0 else { throw IntentProofError("the document expands to more than \(maxNodes) values (aliases?); a policy is small") }
        guard depth <= maxDepth else { throw IntentProofError("the document nests deeper than \(maxDepth) levels") }
        switch node {
        case .scalar: return scalar(node.any)
        case .alias: throw IntentProofError("an alias the parser did not resolve; write the value out")
        case .sequence(let sequence):
            var out: [JSON] = []
            for item in sequence { out.append(try convert(item, depth: depth + 1, budget: &budget)) }
            return .array(out)
        case .mapping(let mapping):
            var out: [String: JSON] = [:]
            for (k, v) in mapping {
                guard case .scalar(let key) = k else { throw IntentProofError("a mapping key is not a plain name; policy keys are names") }
                out[key.string] = try convert(v, depth: depth + 1, budget: &budget)
            }
            return .object(out)
        }
    }

    private static func scalar(_ value: Any) -> JSON {
        switch value {
        case is NSNull: return .null
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(i)
        case let d as Double: return d.isFinite ? .double(d) : .string(String(d))
        case let s as String: return .string(s)
        case let date as Date:
            let ms = (date.timeIntervalSince1970 * 1000).rounded()
            return ms.isFinite && abs(ms) < 1e15 ? .string(MillisecondTime.format(Int(ms))) : .string("\(date)")
        case let data as Data: return .string(data.base64EncodedString())
        default: return .string("\(value)")
        }
    }
}
