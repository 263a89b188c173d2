import Foundation
import RigorSpec
import RigorStore

/// Tokens a model call used, as the upstream reported them (`usage`).
public struct ModelUsage: Sendable, Equatable {
    public var inputTokens = 0
    public var outputTokens = 0

    public init(inputTokens: Int = 0, outputTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }
}

/// One model call as the gateway saw it: the agent's request and the upstream's answer
/// (spec/model-gateway.md §4).
public struct ModelExchange: Sendable, Equatable {
    /// `openai`, `anthropic`, or `other` (passed through as opaque bytes).
    public var provider: String
    /// The request body's `model`, when it names one.
    public var model: String?
    public var method: String
    /// The request target as the agent sent it (`/v1/chat/completions`).
    public var target: String
    /// The request body as sent.
    public var request: [UInt8]
    public var status: Int
    public var contentType: String
    /// The response body, whole (an SSE stream's bytes as they came, event after event).
    public var response: [UInt8]
    public var usage: ModelUsage
    /// The episode step during which the agent made the call (0: before the first observation).
    public var step = 0

    public init(provider: String, model: String?, method: String, target: String, request: [UInt8], status: Int,
                contentType: String, response: [UInt8], usage: ModelUsage, step: Int = 0) {
        self.step = step
        self.provider = provider
        self.model = model
        self.method = method
        self.target = target
        self.request = request
        self.status = status
        self.contentType = contentType
        self.response = response
        self.usage = usage
    }

    public var streamed: Bool { contentType.lowercased().hasPrefix("text/event-stream") }
}

/// The model calls of one episode, in the order they were made: what `replay` serves and what
/// `determinism.tooling.models` names by hash (spec/model-gateway.md §4).
///
/// Its canonical form is JCS JSON: the exchanges in order, each body kept once in `bodies` by
/// its SHA-256 (a system prompt or an answer that repeats is stored once). A body that is UTF-8
/// is kept as text, any other as base64. The tape's hash is `sha256:` over that canonical form;
/// in the store it is zstd-compressed under its hash (`ModelTapeStore`).
public struct ModelTape: Sendable, Equatable {
    public static let format = "rigor-model-tape/1"
    public var exchanges: [ModelExchange]

    public init(exchanges: [ModelExchange] = []) {
        self.exchanges = exchanges
    }

    public var isEmpty: Bool { exchanges.isEmpty }

    /// A body with the redactor's secrets and patterns scrubbed (UTF-8 bodies; others as they are).
    public static func redacted(_ body: [UInt8], by redactor: Redactor) -> [UInt8] {
        redacted(body, by: redactor.compiled())
    }

    public static func redacted(_ body: [UInt8], by redaction: Redactor.Compiled) -> [UInt8] {
        guard let text = String(validating: body, as: UTF8.self) else { return body }
        let scrubbed = redaction.redact(text)
        return scrubbed == text ? body : Array(scrubbed.utf8)
    }

    /// The tape as it is persisted: every body redacted (spec/model-gateway.md §6).
    public func redacted(by redactor: Redactor) -> ModelTape {
        let compiled = redactor.compiled()
        return ModelTape(exchanges: exchanges.map { e in
            var r = e
            r.request = ModelTape.redacted(e.request, by: compiled)
            r.response = ModelTape.redacted(e.response, by: compiled)
            return r
        })
    }

    public var json: JSON {
        var bodies: [String: JSON] = [:]
        func keep(_ bytes: [UInt8]) -> JSON {
            let digest = Digest.sha256(bytes)
            if bodies[digest] == nil {
                if let text = String(validating: bytes, as: UTF8.self) {
                    bodies[digest] = ["text": .string(text)]
                } else {
                    bodies[digest] = ["base64": .string(Data(bytes).base64EncodedString())]
                }
            }
            return .string(digest)
        }
        let list: [JSON] = exchanges.map { e in
            [
                "provider": .string(e.provider), "model": e.model.map(JSON.string) ?? .null,
                "method": .string(e.method), "target": .string(e.target), "request": keep(e.request),
                "status": .int(e.status), "content_type": .string(e.contentType), "response": keep(e.response),
                "usage": ["input_tokens": .int(e.usage.inputTokens), "output_tokens": .int(e.usage.outputTokens)],
                "step": .int(e.step),
            ]
        }
        return ["format": .string(ModelTape.format), "exchanges": .array(list), "bodies": .object(bodies)]
    }

    /// The canonical bytes and the tape's hash over them.
    public func canonical() throws(RunnerError) -> (bytes: [UInt8], hash: String) {
        do {
            let bytes = try json.canonicalBytes()
            return (bytes, Digest.sha256(bytes))
        } catch { throw .internal("cannot serialise a model tape: \(error)") }
    }

    public var hash: String { (try? canonical().hash) ?? "" }

    /// Reads a tape's canonical form; every field is checked, every body must match its digest.
    public static func parse(_ value: JSON, what: String) throws(RunnerError) -> ModelTape {
        func bad(_ why: String) -> RunnerError { .usage("\(what) is not a valid model tape: \(why)") }
        guard value["format"]?.stringValue == format else { throw bad("its format is not \(format)") }
        guard let list = value["exchanges"]?.arrayValue, let bodies = value["bodies"]?.objectValue else {
            throw bad("it lacks exchanges or bodies")
        }
        func body(_ ref: JSON?, _ name: String, _ n: Int) throws(RunnerError) -> [UInt8] {
            guard let digest = ref?.stringValue, let entry = bodies[digest] else { throw bad("exchange \(n) names a \(name) body it does not hold") }
            let bytes: [UInt8]
            if let text = entry["text"]?.stringValue {
                bytes = Array(text.utf8)
            } else if let b64 = entry["base64"]?.stringValue, let data = Data(base64Encoded: b64) {
                bytes = [UInt8](data)
            } else { throw bad("the body \(digest) is neither text nor base64") }
            guard Digest.sha256(bytes) == digest else { throw bad("the body \(digest) does not match its digest") }
            return bytes
        }
        var exchanges: [ModelExchange] = []
        for (i, e) in list.enumerated() {
            let n = i + 1
            guard let provider = e["provider"]?.stringValue, let method = e["method"]?.stringValue,
                  let target = e["target"]?.stringValue, let status = e["status"]?.intValue, (100...599).contains(status),
                  let contentType = e["content_type"]?.stringValue,
                  let input = e["usage"]?["input_tokens"]?.intValue, let output = e["usage"]?["output_tokens"]?.intValue,
                  input >= 0, output >= 0, let step = e["step"]?.intValue, step >= 0 else {
                throw bad("exchange \(n) lacks a field or has one out of range")
            }
            let model: String?
            switch e["model"] {
            case .string(let m)?: model = m
            case .null?, nil: model = nil
            default: throw bad("exchange \(n)'s model is not a string")
            }
            exchanges.append(ModelExchange(provider: provider, model: model, method: method, target: target,
                                           request: try body(e["request"], "request", n), status: status, contentType: contentType,
                                           response: try body(e["response"], "response", n),
                                           usage: ModelUsage(inputTokens: input, outputTokens: output), step: step))
        }
        return ModelTape(exchanges: exchanges)
    }

    /// The tape's compressed file form: zstd over the canonical bytes.
    public func encoded() throws(RunnerError) -> (bytes: [UInt8], hash: String) {
        let (canonical, hash) = try canonical()
        do { return (try Compression.compress(canonical), hash) } catch { throw .internal("cannot compress a model tape: \(error)") }
    }

    /// Reads the file form; `expectedHash` must be the hash of what it holds.
    public static func decode(_ bytes: [UInt8], expectedHash: String?, what: String) throws(RunnerError) -> ModelTape {
        let canonical: [UInt8]
        do { canonical = try Compression.decompress(bytes, what: what) } catch { throw .usage("\(what) cannot be read: \(error)") }
        if let expectedHash, Digest.sha256(canonical) != expectedHash {
            throw .usage("\(what) does not hold the tape \(expectedHash): its content hashes to \(Digest.sha256(canonical)) (edited or damaged)")
        }
        let value: JSON
        do { value = try JSON.parse(canonical, maxDepth: ArtifactLimits.bundleDepth) } catch { throw .usage("\(what) does not hold valid JSON: \(error)") }
        return try parse(value, what: what)
    }

    /// The (provider, model) pairs the tape used, sorted, once each: `determinism.tooling.models`.
    public func toolingEntries(version: String?) -> [JSON] {
        var seen: Set<String> = []
        var out: [(String, String)] = []
        // Requests that name no model (GET /v1/models) are on the tape, but call no model.
        for e in exchanges {
            guard let model = e.model else { continue }
            if seen.insert("\(e.provider)\u{0}\(model)").inserted { out.append((e.provider, model)) }
        }
        return out.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { p, m in
            ["provider": .string(p), "model": .string(m), "version": version.map(JSON.string) ?? .null]
        }
    }

    public var usage: ModelUsage {
        exchanges.reduce(into: ModelUsage()) {
            $0.inputTokens = $0.inputTokens.addingClamped($1.usage.inputTokens)
            $0.outputTokens = $0.outputTokens.addingClamped($1.usage.outputTokens)
        }
    }
}

extension Int {
    func addingClamped(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

/// Where tapes live: `<state>/tapes/<hex>.tape`, content-addressed (the name is the hash of
/// what the file holds, so the same tape is stored once), written atomically, checked against
/// its name on every read (spec/model-gateway.md §6).
public struct ModelTapeStore: Sendable {
    public let directory: String

    public init(stateDirectory: String) {
        directory = "\(stateDirectory)/tapes"
    }

    /// `sha256:<64 hex>` → the file's path; any other text is refused (it would become a path).
    public func path(for hash: String) throws(RunnerError) -> String {
        guard hash.hasPrefix("sha256:"), hash.utf8.count == 71,
              hash.utf8.dropFirst(7).allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw .usage("'\(PathName.shown(hash))' is not a tape hash (sha256:<64 hex digits>)")
        }
        return "\(directory)/\(hash.dropFirst(7)).tape"
    }

    /// Stores the tape; returns its hash.
    @discardableResult
    public func put(_ tape: ModelTape) throws(RunnerError) -> String {
        let (bytes, hash) = try tape.encoded()
        let target = try path(for: hash)
        if FileManager.default.fileExists(atPath: target) { return hash }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch { throw .io("cannot make the tape directory \(directory): \(error.localizedDescription)") }
        try ArtifactFile.writeAtomically(bytes, to: target)
        return hash
    }

    public func contains(_ hash: String) -> Bool {
        (try? path(for: hash)).map { FileManager.default.fileExists(atPath: $0) } ?? false
    }

    public func get(_ hash: String) throws(RunnerError) -> ModelTape {
        try ModelTape.decode(try bytes(hash), expectedHash: hash, what: "tape \(hash)")
    }

    /// The stored file's bytes (compressed), for a bundle.
    public func bytes(_ hash: String) throws(RunnerError) -> [UInt8] {
        let target = try path(for: hash)
        guard let data = FileManager.default.contents(atPath: target) else {
            throw .usage("the model tape \(hash) is not in this store (\(directory)): the run was made live, or elsewhere; "
                + "replay it from its bundle, or re-run it with --models record")
        }
        return [UInt8](data)
    }
}
