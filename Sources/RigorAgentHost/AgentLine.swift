import Foundation
import RigorSpec

/// The agent-line reader: one line an agent wrote to stdout → an action, or the reason the
/// episode ends (spec/agent-protocol.md §1 and §3).
///
/// It is a pure function of the bytes, apart from the process, so that the fuzz tests can drive
/// it with any input. Whatever it accepts fits in an artifact every reader accepts: a line nested
/// deeper than `ArtifactLimits.agentLineDepth` (an `args` deeper than
/// `ArtifactLimits.payloadDepth`) is `action_too_deep`, not an action.
public enum AgentLine {
    /// The longest `intent` kept, in bytes; longer ones are cut before the character that crosses the limit.
    public static let maxIntentBytes = 4096

    public static func decode(_ bytes: [UInt8], step: Int) -> AgentReply {
        let message: JSON
        do {
            message = try JSON.parse(bytes, maxDepth: ArtifactLimits.agentLineDepth)
        } catch {
            if error.kind == .tooDeep {
                return .failure(.actionTooDeep, "agent's answer at step \(step) nests deeper than \(ArtifactLimits.agentLineDepth) levels "
                    + "(an action's args may nest at most \(ArtifactLimits.payloadDepth) levels, so that its artifact can be verified)")
            }
            return .failure(.protocolError, "agent's answer at step \(step) is not JSON (\(error)): \(preview(bytes))")
        }
        guard case .object(let envelope) = message else {
            return .failure(.malformedAction, "agent's answer at step \(step) is a JSON \(message.typeName), expected an object {\"type\":\"action\",\"action\":{...}}")
        }
        guard envelope["type"]?.stringValue == "action" else {
            let got = envelope["type"].map { $0.stringValue.map { "\"\($0)\"" } ?? $0.typeName } ?? "nothing"
            return .failure(.malformedAction, "agent's message at step \(step) has type \(got), expected \"action\"")
        }
        guard case .object(let action)? = envelope["action"] else {
            return .failure(.malformedAction, "agent's message at step \(step) has no \"action\" object")
        }
        guard let type = action["type"]?.stringValue else {
            return .failure(.malformedAction, "the action at step \(step) has no string \"type\"")
        }
        let args: [String: JSON]
        switch action["args"] {
        case .object(let a)?: args = a
        case nil:
            return .failure(.malformedAction, "the action '\(type)' at step \(step) has no \"args\" object (send {} for none)")
        case let other?:
            return .failure(.malformedAction, "the action '\(type)' at step \(step) has \"args\" of type \(other.typeName), expected an object")
        }
        var intent: String? = nil
        switch envelope["intent"] {
        case nil, .null?: break
        case .string(let s)?: intent = s
        case let other?:
            return .failure(.malformedAction, "the \"intent\" at step \(step) is a JSON \(other.typeName), expected a string")
        }
        if let i = intent, i.utf8.count > maxIntentBytes {
            let utf8 = Array(i.utf8)
            var end = maxIntentBytes
            while end > 0 && utf8[end] & 0xC0 == 0x80 { end -= 1 }  // not inside a character
            intent = String(decoding: utf8[..<end], as: UTF8.self)
        }
        let evidence: [EvidenceCheck]
        switch EvidenceCheck.list(action["evidence"], source: "agent") {
        case .success(let checks): evidence = checks
        case .failure(let problem): return .failure(.malformedAction, "the action '\(type)' at step \(step) has bad evidence: \(problem)")
        }
        return .action(type: type, args: args, intent: intent, raw: ["type": .string(type), "args": .object(args)], evidence: evidence)
    }

    /// The first bytes of a line, quoted, for messages.
    static func preview(_ bytes: [UInt8]) -> String {
        let head = String(decoding: bytes.prefix(80), as: UTF8.self)
        return "\"" + head.replacingOccurrences(of: "\"", with: "\\\"") + (bytes.count > 80 ? "…\"" : "\"")
    }
}
