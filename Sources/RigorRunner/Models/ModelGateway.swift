import Foundation
import RigorAgentHost
import RigorSpec

/// `--models`: what the gateway does with a model call (spec/model-gateway.md §2).
public enum ModelMode: String, Sendable, CaseIterable {
    /// Forward to the real upstream; nothing is kept.
    case live
    /// Forward, and keep every exchange on the episode's tape, stored in the store.
    case record
    /// Never reach an upstream: answer from the tape; a request not on it ends the episode.
    case replay
}

/// The model budgets a task freezes in its manifest (`[models]`): nil is unlimited.
public struct ModelBudgets: Sendable, Equatable {
    public var calls: Int?
    public var inputTokens: Int?
    public var outputTokens: Int?

    public init(calls: Int? = nil, inputTokens: Int? = nil, outputTokens: Int? = nil) {
        self.calls = calls
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }

    public var json: JSON {
        ["calls": calls.map(JSON.int) ?? .null, "input_tokens": inputTokens.map(JSON.int) ?? .null,
         "output_tokens": outputTokens.map(JSON.int) ?? .null]
    }
}

/// A response put in place of a recorded one (`rigor fork --response`).
public struct ModelResponseOverride: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int = 200, contentType: String = "application/json", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// Everything one episode's gateway needs, frozen before the episode starts.
public struct ModelGatewaySettings: Sendable {
    public var mode: ModelMode
    /// Provider (`openai`, `anthropic`) → base URL (`https://api.openai.com`): the agent's
    /// request target is appended to it.
    public var upstreams: [String: String] = [:]
    /// Provider → API key, injected into forwarded requests; never shown to the agent.
    public var keys: [String: String] = [:]
    public var matching = ModelMatching()
    public var budgets = ModelBudgets()
    /// `replay`: the tape served. A fork: the parent's tape, served up to the fork point.
    public var tape: ModelTape?
    /// What a request the tape does not hold gets: nil ends the episode (replay); `live` or
    /// `record` forwards it (a fork continuing past its tape).
    public var beyondTape: ModelMode?
    /// Exchange number (1-based, every request in order, as on the tape) → the response served
    /// instead (a fork's mutation).
    public var overrides: [Int: ModelResponseOverride] = [:]
    public var prices = ModelPrices.standard
    /// Bounds on what the agent may send and the upstream may answer.
    public var maxRequestBytes = 8 << 20
    public var maxResponseBytes = 64 << 20
    /// All requests and answers of one episode together; past it, calls are refused and the
    /// episode ends (`model_calls_exhausted`).
    public var maxTapeBytes = 256 << 20
    /// What is scrubbed from every persisted byte (spec/policy.md §7): tapes are redacted before
    /// they are hashed and stored, and a request is redacted before it is matched against one.
    public var redactor = Redactor()
    public var upstreamTimeoutSeconds: Double = 300

    public init(mode: ModelMode) {
        self.mode = mode
    }
}

/// The per-episode model gateway (spec/model-gateway.md): an agent endpoint that speaks the
/// OpenAI and Anthropic wire formats by passing them through, records what passes, and answers
/// from the tape in replay. One instance per episode, called on the endpoint server's thread.
public final class ModelGateway: @unchecked Sendable {
    public static let environmentVariable = "RIGOR_MODEL_URL"
    /// The port inside a sandbox (namespace level); elsewhere any free port.
    public static let sandboxPort: UInt16 = 8788
    /// What the agent finds in `OPENAI_API_KEY` / `ANTHROPIC_API_KEY`: SDKs refuse to start
    /// without a key; the gateway drops it and puts the real one in.
    public static let placeholderKey = "rigor-gateway"

    public let settings: ModelGatewaySettings
    private let lock = NSLock()
    /// The exchanges served, by the number each request got when it arrived (ascending).
    private var served: [(number: Int, exchange: ModelExchange, live: Bool)] = []
    /// Requests numbered so far (an exchange's number: every request the agent makes, in order
    /// of arrival).
    private var numbered = 0
    private var consumed: Set<Int> = []
    /// No exchange before it is open (`firstOpenExchange`).
    private var openCursor = 0
    private var modelCalls = 0
    private var usage = ModelUsage()
    private var stopReason: (reason: TerminationReason, message: String)?
    private var step = 0
    private var inFlight: UpstreamCall?
    private var upstreamFailures = 0

    /// The fingerprint of each tape exchange, computed once.
    private let tapeFingerprints: [String]
    /// Bytes kept on the episode's tape so far (requests and answers), bounded by `maxTapeBytes`.
    private var tapeBytes = 0

    /// `settings.redactor`, compiled once (its patterns are regular expressions).
    private let redaction: Redactor.Compiled

    public init(settings: ModelGatewaySettings) {
        self.settings = settings
        redaction = settings.redactor.compiled()
        tapeFingerprints = settings.tape?.exchanges.map { settings.matching.fingerprint(method: $0.method, target: $0.target, body: $0.request) } ?? []
    }

    /// The endpoint the agent is given.
    public var service: AgentEndpointService {
        var limits = AgentEndpointServer.Limits()
        limits.maxBodyBytes = settings.maxRequestBytes
        limits.requestTimeoutMilliseconds = 30_000
        limits.idleTimeoutMilliseconds = 300_000
        var service = AgentEndpointService(environmentVariable: ModelGateway.environmentVariable, sandboxPort: ModelGateway.sandboxPort,
                                           limits: limits) { [self] in handle($0) }
        service.aliases = ["OPENAI_BASE_URL": "/v1", "ANTHROPIC_BASE_URL": ""]
        service.fixed = ["OPENAI_API_KEY": ModelGateway.placeholderKey, "ANTHROPIC_API_KEY": ModelGateway.placeholderKey]
        return service
    }

    /// The episode's step now (for messages).
    public func publish(step: Int) {
        lock.lock()
        self.step = step
        lock.unlock()
    }

    /// Why the gateway ended the episode, when it did (a budget, a request not on the tape).
    public var stop: (reason: TerminationReason, message: String)? {
        lock.lock()
        defer { lock.unlock() }
        return stopReason
    }

    /// The calls made, in order, as the agent got them: the episode's tape.
    public var tape: ModelTape {
        lock.lock()
        defer { lock.unlock() }
        return ModelTape(exchanges: served.map(\.exchange))
    }

    public var callCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return modelCalls
    }

    /// The calls that went to an upstream (the rest came from a tape or a fork's override).
    public var liveTape: ModelTape {
        lock.lock()
        defer { lock.unlock() }
        return ModelTape(exchanges: served.filter(\.live).map(\.exchange))
    }

    public var failedUpstreamCalls: Int {
        lock.lock()
        defer { lock.unlock() }
        return upstreamFailures
    }

    /// Ends a call still waiting on an upstream (the episode is over).
    public func cancelInFlight() {
        lock.lock()
        let call = inFlight
        lock.unlock()
        call?.cancel()
    }

    // MARK: - Serving

    /// Which provider a request is for: Anthropic's Messages API by its path or headers, else
    /// OpenAI's (Chat Completions, Responses, and anything else sent to `OPENAI_BASE_URL`).
    static func provider(of request: EndpointRequest) -> String {
        if request.path.hasPrefix("/v1/messages") || request.headers["anthropic-version"] != nil || request.headers["x-api-key"] != nil {
            return "anthropic"
        }
        return "openai"
    }

    /// Whether `body` is a JSON object, by its first byte after JSON whitespace (which the
    /// providers accept: a call spaced so must not escape the call budget).
    static func startsAnObject(_ body: [UInt8]) -> Bool {
        body.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "{")
    }

    static func modelName(_ body: [UInt8]) -> String? {
        guard startsAnObject(body), let value = try? JSON.parse(body, maxDepth: ArtifactLimits.agentLineDepth) else { return nil }
        return modelName(parsed: value)
    }

    static func modelName(parsed value: JSON?) -> String? {
        guard let model = value?["model"]?.stringValue, !model.isEmpty else { return nil }
        return String(TerminalText.escaped(String(model.prefix(200)), keepLayout: false))
    }

    func handle(_ request: EndpointRequest) -> EndpointResponse {
        let provider = ModelGateway.provider(of: request)
        // The usual replay: the request is the next one on the tape, byte for byte (so it has its
        // fingerprint, and is the earliest open exchange that has it). Nothing to parse.
        var next: Int? = nil
        if let tape = settings.tape, let open = firstOpenExchange() {
            let e = tape.exchanges[open]
            if e.method == request.method, e.target == request.target, e.request == request.body { next = open }
        }
        // Otherwise the body is parsed once, redacted as the tape it may be matched against was (§6).
        let body = settings.tape == nil || next != nil ? request.body : ModelTape.redacted(request.body, by: redaction)
        let parsed = next == nil && ModelGateway.startsAnObject(body) ? try? JSON.parse(body, maxDepth: ArtifactLimits.agentLineDepth) : nil
        let model = next.flatMap { settings.tape?.exchanges[$0].model } ?? ModelGateway.modelName(parsed: parsed)
        lock.lock()
        if let stopReason {
            lock.unlock()
            return ModelGateway.refusal(status: 429, type: "rigor_episode_over", stopReason.message)
        }
        // A model call is a request that names a model; other requests (GET /v1/models) pass
        // through and are taped, but cost no call.
        if model != nil {
            if let budget = settings.budgets.calls, modelCalls >= budget {
                let message = "the model-call budget (\(budget)) ran out: call \(modelCalls + 1) at step \(step) was refused"
                stopReason = (.modelCallsExhausted, message)
                lock.unlock()
                return ModelGateway.refusal(status: 429, type: "budget_exhausted", message)
            }
            modelCalls += 1
        }
        if tapeBytes > settings.maxTapeBytes {
            let message = "the episode's model traffic passed \(settings.maxTapeBytes >> 20) MiB at step \(step): further calls are refused"
            stopReason = (.modelCallsExhausted, message)
            lock.unlock()
            return ModelGateway.refusal(status: 429, type: "budget_exhausted", message)
        }
        numbered += 1
        let exchangeNumber = numbered
        let currentStep = step
        lock.unlock()
        // What the exchange is taped with: its number and step as the request arrived. A streamed
        // answer is taped after its last byte, when the agent may be a step further already.
        let slot = Slot(number: exchangeNumber, step: currentStep)

        // A fork's replacement answers are keyed by the exchange's number on the tape (every
        // request the agent makes, in order), as the tape prefix they follow is cut.
        if let replacement = settings.overrides[exchangeNumber] {
            return finish(ModelExchange(provider: provider, model: model, method: request.method, target: request.target,
                                        request: request.body, status: replacement.status, contentType: replacement.contentType,
                                        response: replacement.body, usage: ModelGateway.usage(in: replacement.body, contentType: replacement.contentType)),
                          slot: slot)
        }
        if let tape = settings.tape {
            if let index = next.map(consume) ?? match(request, body: body, parsed: parsed) {
                return finish(tape.exchanges[index], slot: slot)
            }
            if settings.beyondTape == nil {
                let message = unrecordedMessage(request, tape: tape, exchange: exchangeNumber, step: currentStep)
                lock.lock()
                if stopReason == nil { stopReason = (.modelRequestUnrecorded, message) }
                lock.unlock()
                return ModelGateway.refusal(status: 409, type: "rigor_not_on_tape", message)
            }
        } else if settings.mode == .replay {
            let message = "step \(currentStep): the agent made a model call (\(request.method) \(request.path)) in replay, and the run has no tape"
            lock.lock()
            if stopReason == nil { stopReason = (.modelRequestUnrecorded, message) }
            lock.unlock()
            return ModelGateway.refusal(status: 409, type: "rigor_not_on_tape", message)
        }
        return forward(request, provider: provider, model: model, slot: slot)
    }

    /// The earliest tape exchange not served yet.
    private func firstOpenExchange() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        while consumed.contains(openCursor) { openCursor += 1 }
        return openCursor < tapeFingerprints.count ? openCursor : nil
    }

    private func consume(_ index: Int) -> Int {
        lock.lock()
        consumed.insert(index)
        lock.unlock()
        return index
    }

    /// The earliest unconsumed exchange with the request's fingerprint, marked consumed.
    private func match(_ request: EndpointRequest, body: [UInt8], parsed: JSON?) -> Int? {
        let fingerprint = settings.matching.fingerprint(method: request.method, target: request.target, body: body, parsed: parsed)
        lock.lock()
        defer { lock.unlock() }
        for (i, recorded) in tapeFingerprints.enumerated() where recorded == fingerprint && !consumed.contains(i) {
            consumed.insert(i)
            return i
        }
        return nil
    }

    /// What replay says of a request the tape does not hold: the step, the call, and how it
    /// differs from the nearest recorded request not yet served.
    private func unrecordedMessage(_ request: EndpointRequest, tape: ModelTape, exchange: Int, step: Int) -> String {
        lock.lock()
        let open = tape.exchanges.indices.filter { !consumed.contains($0) }
        lock.unlock()
        var head = "step \(step), model request \(exchange) (\(request.method) \(request.path)) is not on the tape"
        guard !open.isEmpty else { return head + ": the tape's \(tape.exchanges.count) requests were all served already" }
        var best: (index: Int, lines: [String])? = nil
        for i in open where tape.exchanges[i].target == request.target || best == nil {
            let e = tape.exchanges[i]
            let lines = settings.matching.differences(recorded: (e.target, e.request), now: (request.target, request.body), limit: 40,
                                                      methods: (e.method, request.method))
            if best == nil || lines.count < best!.lines.count || (best.map { tape.exchanges[$0.index].target != request.target } ?? false) {
                best = (i, lines)
            }
        }
        guard let best else { return head }
        head += "; nearest recorded request is number \(best.index + 1), which differs at "
        return head + best.lines.prefix(4).joined(separator: "; ")
            + (best.lines.count > 4 ? " (and \(best.lines.count - 4) more)" : "")
            + ". If the field is volatile, name it in [models] ignore (spec/model-gateway.md §3)"
    }

    /// An exchange's number and step, fixed when its request arrived.
    private struct Slot {
        let number: Int
        let step: Int
    }

    /// Keeps the exchange, counts its tokens, and answers the agent with it.
    private func finish(_ exchange: ModelExchange, slot: Slot, live: Bool = false) -> EndpointResponse {
        record(exchange, slot: slot, live: live)
        return EndpointResponse(status: exchange.status, contentType: exchange.contentType, body: exchange.response)
    }

    private func record(_ recorded: ModelExchange, slot: Slot, live: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        var exchange = recorded
        exchange.step = slot.step
        // In order of arrival: a streamed answer taped late goes before a later request's.
        let at = served.lastIndex { $0.number < slot.number }.map { $0 + 1 } ?? 0
        served.insert((slot.number, exchange, live), at: at)
        tapeBytes += exchange.request.count + exchange.response.count
        usage.inputTokens = usage.inputTokens.addingClamped(exchange.usage.inputTokens)
        usage.outputTokens = usage.outputTokens.addingClamped(exchange.usage.outputTokens)
        guard stopReason == nil else { return }
        if let b = settings.budgets.inputTokens, usage.inputTokens > b {
            stopReason = (.modelTokensExhausted, "the model input-token budget (\(b)) ran out at step \(slot.step): \(usage.inputTokens) tokens used")
        } else if let b = settings.budgets.outputTokens, usage.outputTokens > b {
            stopReason = (.modelTokensExhausted, "the model output-token budget (\(b)) ran out at step \(slot.step): \(usage.outputTokens) tokens used")
        }
    }

    /// Forwards to the provider's upstream with the runner's key; an SSE answer is passed on
    /// chunk by chunk as it comes and taped whole at its end.
    private func forward(_ request: EndpointRequest, provider: String, model: String?, slot: Slot) -> EndpointResponse {
        // A call that gets no answer from an upstream is taped with the gateway's 502 all the
        // same: the agent saw it, and its replay must see it too.
        func failed(_ type: String, _ message: String) -> EndpointResponse {
            let refusal = ModelGateway.refusal(status: 502, type: type, message)
            lock.lock()
            upstreamFailures += 1
            lock.unlock()
            record(ModelExchange(provider: provider, model: model, method: request.method, target: request.target, request: request.body,
                                 status: 502, contentType: refusal.contentType, response: refusal.body, usage: ModelUsage()),
                   slot: slot)
            return refusal
        }
        guard let base = settings.upstreams[provider] else {
            return failed("rigor_no_upstream", "no upstream for \(provider): pass --model-upstream \(provider)=URL or set [models.upstreams] in rigor.toml")
        }
        guard let url = URL(string: ModelGateway.join(base, request.target)) else {
            return failed("rigor_no_upstream", "the upstream URL \(base) with \(request.target) is not a URL")
        }
        var headers: [(String, String)] = []
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) where !ModelGateway.droppedHeaders.contains(name) {
            headers.append((name, value))
        }
        if let key = settings.keys[provider] {
            headers.append(provider == "anthropic" ? ("x-api-key", key) : ("Authorization", "Bearer \(key)"))
        }
        let call = UpstreamCall.start(url: url, method: request.method, headers: headers, body: request.body,
                                      maxBytes: settings.maxResponseBytes, idleTimeout: settings.upstreamTimeoutSeconds)
        lock.lock()
        inFlight = call
        lock.unlock()
        guard let head = call.head(timeout: settings.upstreamTimeoutSeconds) else {
            let why = call.failureReason
            lock.lock()
            inFlight = nil
            lock.unlock()
            return failed("rigor_upstream_failed", "the \(provider) upstream at \(base) failed: \(why)")
        }
        let make = { @Sendable (body: [UInt8]) -> ModelExchange in
            ModelExchange(provider: provider, model: model, method: request.method, target: request.target, request: request.body,
                          status: head.status, contentType: head.contentType, response: body,
                          usage: ModelGateway.usage(in: body, contentType: head.contentType))
        }
        if head.contentType.lowercased().hasPrefix("text/event-stream") {
            return EndpointResponse(status: head.status, contentType: head.contentType, stream: { [self] write in
                var body: [UInt8] = []
                while let piece = call.next() {
                    body += piece
                    if !write(piece) { call.cancel(); break }
                }
                lock.lock()
                inFlight = nil
                lock.unlock()
                record(make(body), slot: slot, live: true)
            })
        }
        let body = call.rest()
        lock.lock()
        inFlight = nil
        lock.unlock()
        return finish(make(body), slot: slot, live: true)
    }

    /// Headers the gateway never passes on: the agent's (placeholder) credentials, and those
    /// that describe the agent's connection rather than the request.
    static let droppedHeaders: Set<String> = ["authorization", "x-api-key", "api-key", "host", "content-length", "connection",
                                              "keep-alive", "transfer-encoding", "accept-encoding", "proxy-authorization", "te",
                                              "upgrade", "cookie"]

    static func join(_ base: String, _ target: String) -> String {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        if b.hasSuffix("/v1"), target.hasPrefix("/v1/") || target == "/v1" { b.removeLast(3) }
        return b + target
    }

    /// An error the SDKs read as such and do not retry (`x-should-retry: false`).
    static func refusal(status: Int, type: String, _ message: String) -> EndpointResponse {
        let body: JSON = ["error": ["type": .string(type), "message": .string(message)], "type": "error"]
        return EndpointResponse(status: status, contentType: "application/json", headers: [("x-should-retry", "false")],
                                body: (try? body.canonicalBytes()) ?? Array("{}".utf8))
    }

    // MARK: - Usage

    /// The tokens an answer reports: OpenAI's `usage.prompt_tokens`/`completion_tokens`, the
    /// Responses and Anthropic `usage.input_tokens`/`output_tokens`, in a JSON body or in any
    /// event of an SSE stream (the largest value seen for each, as streams report running totals).
    public static func usage(in body: [UInt8], contentType: String) -> ModelUsage {
        var usage = ModelUsage()
        func take(_ value: JSON?) {
            guard let object = value?.objectValue else { return }
            for candidate in [object["usage"], object["message"]?["usage"], object["response"]?["usage"]] {
                guard let u = candidate?.objectValue else { continue }
                let input = (u["prompt_tokens"] ?? u["input_tokens"])?.intValue ?? 0
                let output = (u["completion_tokens"] ?? u["output_tokens"])?.intValue ?? 0
                usage.inputTokens = max(usage.inputTokens, min(max(input, 0), 1 << 40))
                usage.outputTokens = max(usage.outputTokens, min(max(output, 0), 1 << 40))
            }
        }
        if contentType.lowercased().hasPrefix("text/event-stream") {
            var start = body.startIndex
            while start < body.endIndex {
                let end = body[start...].firstIndex(of: 10) ?? body.endIndex
                let line = body[start..<end]
                if line.starts(with: Array("data:".utf8)) {
                    let payload = line.dropFirst(5).drop { $0 == 32 }
                    if payload.first == UInt8(ascii: "{") { take(try? JSON.parse(Array(payload), maxDepth: 64)) }
                }
                start = end < body.endIndex ? end + 1 : end
            }
        } else if startsAnObject(body) {
            take(try? JSON.parse(body, maxDepth: 64))
        }
        return usage
    }
}
