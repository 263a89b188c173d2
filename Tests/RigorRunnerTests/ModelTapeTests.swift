import Foundation
import RigorAgentHost
@testable import RigorRunner
import RigorSpec
import RigorStore
import RigorTestSupport
import Testing

/// The model gateway's parts in process (spec/model-gateway.md §3–§6): the tape's canonical
/// form and its checks, the tape store, request fingerprints and matchers, how differences are
/// shown, usage read from each wire format, and the gateway answering from a tape with budgets.
@Suite("Model tapes")
struct ModelTapeTests {
    static func body(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let system = String(repeating: "You are an agent. ", count: 20)

    static func chat(_ user: String) -> [UInt8] {
        body(#"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"\#(system)"},{"role":"user","content":"\#(user)"}]}"#)
    }

    static let answer = body(#"{"choices":[{"message":{"content":"{\"type\":\"list_dir\"}"}}],"usage":{"prompt_tokens":12,"completion_tokens":5}}"#)

    static let sample = ModelTape(exchanges: [
        ModelExchange(provider: "openai", model: "gpt-4o-mini", method: "POST", target: "/v1/chat/completions", request: chat("a"),
                      status: 200, contentType: "application/json", response: answer, usage: ModelUsage(inputTokens: 12, outputTokens: 5), step: 1),
        ModelExchange(provider: "anthropic", model: "claude-3-5-haiku-latest", method: "POST", target: "/v1/messages", request: chat("b"),
                      status: 200, contentType: "text/event-stream; charset=utf-8",
                      response: body("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"), usage: ModelUsage(inputTokens: 3, outputTokens: 1), step: 2),
        ModelExchange(provider: "other", model: nil, method: "GET", target: "/v1/models?x=1", request: [],
                      status: 500, contentType: "application/octet-stream", response: [0xFF, 0x00, 0xC3, 0x28], usage: ModelUsage(), step: 2),
    ])

    /// The error's message, or nil when `body` did not throw.
    static func failure(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    @Test func theCanonicalFormRoundTripsAndHashesItsOwnBytes() throws {
        let (canonical, hash) = try Self.sample.canonical()
        #expect(hash == Digest.sha256(canonical))
        #expect(Self.sample.hash == hash)
        #expect(try JSON.parse(canonical).canonicalBytes() == canonical, "the canonical form is JCS")
        #expect(try ModelTape.parse(try JSON.parse(canonical), what: "t") == Self.sample)
        let (file, fileHash) = try Self.sample.encoded()
        #expect(fileHash == hash)
        #expect(file != canonical, "the file form is compressed")
        #expect(try ModelTape.decode(file, expectedHash: hash, what: "t") == Self.sample)
        #expect(try Self.sample.encoded().bytes == file, "the same tape, the same bytes")
        // Any change to an exchange changes the hash, the step included.
        var moved = Self.sample
        moved.exchanges[1].step = 3
        #expect(moved.hash != hash)
        #expect(ModelTape(exchanges: Array(Self.sample.exchanges.reversed())).hash != hash, "order is part of the tape")
    }

    @Test func eachBodyIsKeptOnceAndBinaryBodiesAsBase64() throws {
        let e = Self.sample.exchanges[0]
        let repeated = ModelTape(exchanges: Array(repeating: e, count: 5) + [Self.sample.exchanges[2]])
        let bodies = try #require(repeated.json["bodies"]?.objectValue)
        // The one request and the one answer, then the binary answer and the empty request.
        #expect(bodies.count == 4)
        #expect(bodies[Digest.sha256(e.request)]?["text"] == .string(String(decoding: e.request, as: UTF8.self)))
        #expect(bodies[Digest.sha256([0xFF, 0x00, 0xC3, 0x28])]?["base64"] == "/wDDKA==")
        let list = repeated.json["exchanges"]?.arrayValue ?? []
        #expect(Set(list.prefix(5).map { $0["request"] }).count == 1)
        let single = try ModelTape(exchanges: [e]).canonical().bytes.count
        #expect(try repeated.canonical().bytes.count < single * 3, "five copies of a call cost little more than one")
        #expect(try ModelTape.decode(try repeated.encoded().bytes, expectedHash: repeated.hash, what: "t") == repeated)
    }

    @Test func aTamperedTapeIsRefused() throws {
        let (canonical, hash) = try Self.sample.canonical()
        // One character of a request body changed: still JSON, no longer the tape named.
        var text = String(decoding: canonical, as: UTF8.self)
        let at = try #require(text.range(of: "You are an agent."))
        text.replaceSubrange(at, with: "You are an Agent.")
        let edited = try Compression.compress(Array(text.utf8))
        #expect(Self.failure { _ = try ModelTape.decode(edited, expectedHash: hash, what: "tape X") }?
            .contains("tape X does not hold the tape \(hash)") == true)
        // Without a hash to hold it to, the body no longer matches its digest.
        #expect(Self.failure { _ = try ModelTape.decode(edited, expectedHash: nil, what: "tape X") }?.contains("does not match its digest") == true)
        // Not zstd at all.
        #expect(Self.failure { _ = try ModelTape.decode(Array("garbage".utf8), expectedHash: nil, what: "tape X") }?.contains("cannot be read") == true)
    }

    @Test("a tape's fields are each checked", arguments: [
        ("format", JSON.string("rigor-model-tape/9"), "its format is not rigor-model-tape/1"),
        ("status", JSON.int(700), "exchange 1 lacks a field or has one out of range"),
        ("step", JSON.int(-1), "exchange 1 lacks a field or has one out of range"),
        ("model", JSON.int(3), "exchange 1's model is not a string"),
        ("request", JSON.string("sha256:" + String(repeating: "0", count: 64)), "exchange 1 names a request body it does not hold"),
        ("body", JSON.string("not the body"), "does not match its digest"),
    ])
    func aMalformedTapeIsRefused(field: String, value: JSON, message: String) throws {
        guard case .object(var tape) = Self.sample.json, case .array(var list)? = tape["exchanges"], case .object(var first) = list[0],
              case .object(var bodies)? = tape["bodies"] else { Issue.record("unexpected tape shape"); return }
        switch field {
        case "format": tape["format"] = value
        case "body": bodies[Digest.sha256(Self.sample.exchanges[0].request)] = ["text": value]
        default: first[field] = value
        }
        list[0] = .object(first)
        tape["exchanges"] = .array(list)
        tape["bodies"] = .object(bodies)
        let error = Self.failure { _ = try ModelTape.parse(.object(tape), what: "the tape") }
        #expect(error?.contains(message) == true, "\(error ?? "accepted")")
    }

    @Test func theStoreKeepsATapeOnceUnderItsHashAndChecksItOnRead() throws {
        let dir = RepoPaths.temporaryDirectory("rigor-tapes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = ModelTapeStore(stateDirectory: dir)
        let hash = try store.put(Self.sample)
        #expect(try store.put(Self.sample) == hash)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/tapes") == ["\(hash.dropFirst(7)).tape"])
        #expect(store.contains(hash))
        #expect(try store.get(hash) == Self.sample)
        // Another tape's bytes under this name are refused.
        let other = ModelTape(exchanges: [Self.sample.exchanges[0]])
        try Data(try other.encoded().bytes).write(to: URL(fileURLWithPath: try store.path(for: hash)))
        #expect(Self.failure { _ = try store.get(hash) }?.contains("does not hold the tape \(hash)") == true)
        // A tape not there says how to get one.
        #expect(Self.failure { _ = try store.get(other.hash) }?.contains("--models record") == true)
    }

    @Test("only a sha256 hash names a tape file", arguments: [
        "sha256:../../../etc/passwd", "sha256:" + String(repeating: "A", count: 64), "md5:" + String(repeating: "0", count: 64),
        "sha256:" + String(repeating: "0", count: 63), "sha256:" + String(repeating: "0", count: 63) + "/",
    ])
    func aTapePathIsAHashOnly(hash: String) {
        #expect(throws: RunnerError.self) { try ModelTapeStore(stateDirectory: "/tmp/x").path(for: hash) }
        #expect(!ModelTapeStore(stateDirectory: "/tmp/x").contains(hash))
    }

    @Test func toolingNamesEachModelCalledOnceWithTheTapeHash() {
        let tape = ModelTape(exchanges: Self.sample.exchanges + Self.sample.exchanges)
        #expect(tape.toolingEntries(version: "sha256:v") == [
            ["provider": "anthropic", "model": "claude-3-5-haiku-latest", "version": "sha256:v"],
            ["provider": "openai", "model": "gpt-4o-mini", "version": "sha256:v"],
        ], "a request that names no model (GET /v1/models) calls none")
        #expect(tape.usage == ModelUsage(inputTokens: 30, outputTokens: 12))
    }
}

@Suite("Model request matching")
struct ModelMatchingTests {
    static func fp(_ body: String, ignore: [String] = [], target: String = "/v1/chat/completions", method: String = "POST") -> String {
        ModelMatching(ignore: ignore).fingerprint(method: method, target: target, body: Array(body.utf8))
    }

    @Test("the same JSON in any key order and spacing has one fingerprint", arguments: [
        (#"{"a":1,"b":[1,2],"c":{"x":"y","z":null}}"#, #"{ "c": {"z": null, "x": "y"}, "b": [1, 2], "a": 1 }"#),
        (#"{"model":"m","messages":[]}"#, "{\n  \"messages\": [],\n  \"model\": \"m\"\n}"),
        (#"{"n":1.0}"#, #"{"n":1}"#),
    ])
    func keyOrderDoesNotMatter(a: String, b: String) {
        #expect(Self.fp(a) == Self.fp(b))
    }

    @Test func whatTheRequestSaysDoesMatter() {
        let base = #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#
        #expect(Self.fp(base) != Self.fp(#"{"model":"m","messages":[{"role":"user","content":"Hi"}]}"#))
        #expect(Self.fp(base) != Self.fp(base, target: "/v1/responses"))
        #expect(Self.fp(base) != Self.fp(base, method: "PUT"))
        // A body that is not JSON is compared byte for byte.
        #expect(Self.fp("not json") == Self.fp("not json"))
        #expect(Self.fp("not json") != Self.fp("not json "))
        #expect(Self.fp("") == Self.fp(""))
    }

    @Test("a matcher removes the fields it names, and only those", arguments: [
        (["metadata.sent_at"], #"{"m":1,"metadata":{"sent_at":"1","user":"u"}}"#, #"{"m":1,"metadata":{"sent_at":"2","user":"u"}}"#, true),
        (["metadata.sent_at"], #"{"m":1,"metadata":{"sent_at":"1","user":"u"}}"#, #"{"m":1,"metadata":{"sent_at":"1","user":"v"}}"#, false),
        (["metadata.*"], #"{"m":1,"metadata":{"a":"1","b":2}}"#, #"{"m":1,"metadata":{"c":[3]}}"#, true),
        (["metadata.*"], #"{"m":1,"metadata":{"a":"1"}}"#, #"{"m":2,"metadata":{"a":"1"}}"#, false),
        (["messages.*.id"], #"{"messages":[{"id":"a","t":"x"},{"id":"b","t":"y"}]}"#, #"{"messages":[{"id":"c","t":"x"},{"id":"d","t":"y"}]}"#, true),
        (["messages.*.id"], #"{"messages":[{"id":"a","t":"x"}]}"#, #"{"messages":[{"id":"a","t":"z"}]}"#, false),
        (["messages.0.id"], #"{"messages":[{"id":"a"},{"id":"b"}]}"#, #"{"messages":[{"id":"z"},{"id":"b"}]}"#, true),
        (["messages.0.id"], #"{"messages":[{"id":"a"},{"id":"b"}]}"#, #"{"messages":[{"id":"a"},{"id":"z"}]}"#, false),
        (["user", "absent.path"], #"{"user":"1","m":1}"#, #"{"m":1,"user":"2"}"#, true),
        (["user"], #"{"user":"1","m":1}"#, #"{"m":1}"#, true),
    ])
    func ignoredPaths(ignore: [String], a: String, b: String, same: Bool) {
        #expect((Self.fp(a, ignore: ignore) == Self.fp(b, ignore: ignore)) == same)
        if same { #expect(Self.fp(a) != Self.fp(b), "without the matcher they differ") }
    }

    @Test func aMatcherIsADottedPath() {
        #expect(ModelMatching.problem("metadata.sent_at") == nil)
        #expect(ModelMatching.problem("messages.*.id") == nil)
        #expect(ModelMatching.problem("") != nil)
        #expect(ModelMatching.problem("a..b")?.contains("empty segment") == true)
        #expect(ModelMatching.problem(".a") != nil)
        #expect(ModelMatching.problem(String(repeating: "a", count: 513)) != nil)
    }

    @Test func differencesShowTheFieldAndTheCharacter() {
        let recorded = #"{"model":"m","messages":[{"role":"system","content":"Reply with exactly one JSON action and nothing else."}]}"#
        let now = #"{"model":"m","messages":[{"role":"system","content":"Reply with exactly One JSON action and nothing else."}]}"#
        let lines = ModelMatching().differences(recorded: ("/v1/chat/completions", Array(recorded.utf8)), now: ("/v1/chat/completions", Array(now.utf8)))
        #expect(lines == [#"messages.0.content: at character 20: recorded "Reply with exactly one JSON action and …", now "Reply with exactly One JSON action and …""#])
        // A long string is shown around its first difference, cut on both sides.
        let long = String(repeating: "a", count: 50)
        #expect(ModelMatching.stringDifference(long + "b" + long, long + "c" + long)
            == "at character 51: recorded \"…\(String(repeating: "a", count: 20))b\(String(repeating: "a", count: 19))…\", now \"…\(String(repeating: "a", count: 20))c\(String(repeating: "a", count: 19))…\"")
        // Short strings are shown whole.
        #expect(ModelMatching.stringDifference("abc", "abd") == #"at character 3: recorded "abc", now "abd""#)
        #expect(ModelMatching.stringDifference("ab", "abc") == #"at character 3: recorded "ab", now "abc""#)
    }

    @Test func differencesNameTargetsAddedRemovedAndChangedFields() {
        let a = #"{"model":"m","n":1,"gone":true,"list":[1,2,3]}"#
        let b = #"{"model":"m","n":2,"new":"x","list":[1,2]}"#
        let lines = ModelMatching().differences(recorded: ("/v1/a", Array(a.utf8)), now: ("/v1/b", Array(b.utf8)))
        #expect(lines == [
            #"target: recorded "/v1/a", now "/v1/b""#,
            #"gone: recorded true, now absent"#,
            "list: 3 elements recorded, 2 now",
            "n: recorded 1, now 2",
            #"new: not in the recorded request, now "x""#,
        ])
        #expect(ModelMatching().differences(recorded: ("/t", Array("x".utf8)), now: ("/t", Array("y".utf8)))
            == ["body (not JSON): 1 bytes recorded, 1 now, not the same"])
        // An ignored field is no difference.
        #expect(ModelMatching(ignore: ["n", "gone", "new", "list"]).differences(recorded: ("/t", Array(a.utf8)), now: ("/t", Array(b.utf8))).isEmpty)
        // At most `limit` lines.
        #expect(ModelMatching().differences(recorded: ("/v1/a", Array(a.utf8)), now: ("/v1/b", Array(b.utf8)), limit: 2).count == 2)
    }

    @Test func differencesEscapeTerminalControls() {
        let lines = ModelMatching().differences(recorded: ("/t", Array(#"{"c":"ok"}"#.utf8)), now: ("/t", Array(#"{"c":"o\u001b[2Jk"}"#.utf8)))
        #expect(lines.count == 1)
        #expect(!lines[0].contains("\u{1B}"), "\(lines)")
    }
}

@Suite("Model usage in each wire format")
struct ModelUsageTests {
    static func sse(_ events: [String]) -> [UInt8] { Array(events.map { "\($0)\n\n" }.joined().utf8) }

    @Test("tokens are read from JSON answers and SSE streams", arguments: [
        ("openai chat", "application/json",
         Array(#"{"object":"chat.completion","usage":{"prompt_tokens":253,"completion_tokens":12,"total_tokens":265}}"#.utf8), 253, 12),
        ("openai responses", "application/json",
         Array(#"{"object":"response","usage":{"input_tokens":40,"output_tokens":9,"total_tokens":49}}"#.utf8), 40, 9),
        ("anthropic messages", "application/json",
         Array(#"{"type":"message","content":[],"usage":{"input_tokens":31,"cache_read_input_tokens":0,"output_tokens":7}}"#.utf8), 31, 7),
        ("openai chat stream", "text/event-stream; charset=utf-8", sse([
            #"data: {"object":"chat.completion.chunk","choices":[{"delta":{"content":"x"}}],"usage":null}"#,
            #"data: {"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120}}"#,
            "data: [DONE]"]), 100, 20),
        ("openai responses stream", "text/event-stream", sse([
            "event: response.created\n" + #"data: {"type":"response.created","response":{"usage":null}}"#,
            "event: response.output_text.delta\n" + #"data: {"type":"response.output_text.delta","delta":"{"}"#,
            "event: response.completed\n" + #"data: {"type":"response.completed","response":{"usage":{"input_tokens":77,"output_tokens":13}}}"#]), 77, 13),
        ("anthropic stream", "text/event-stream", sse([
            "event: message_start\n" + #"data: {"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}}"#,
            "event: ping\n" + #"data: {"type":"ping"}"#,
            "event: message_delta\n" + #"data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}"#,
            "event: message_stop\n" + #"data: {"type":"message_stop"}"#]), 25, 7),
        ("spaced JSON (a fork's answer file)", "application/json", Array("\n  {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n".utf8), 3, 4),
        ("no usage", "application/json", Array(#"{"choices":[]}"#.utf8), 0, 0),
        ("not JSON", "application/json", Array("<html>502</html>".utf8), 0, 0),
        ("broken stream", "text/event-stream", sse([#"data: {"broken": "#, "data: not json at all"]), 0, 0),
        ("negative", "application/json", Array(#"{"usage":{"prompt_tokens":-5,"completion_tokens":-1}}"#.utf8), 0, 0),
    ])
    func usage(name: String, contentType: String, body: [UInt8], input: Int, output: Int) {
        #expect(ModelGateway.usage(in: body, contentType: contentType) == ModelUsage(inputTokens: input, outputTokens: output), "\(name)")
    }
}

@Suite("Model gateway answering from a tape")
struct ModelGatewayReplayTests {
    static func request(_ body: String, path: String = "/v1/chat/completions", method: String = "POST",
                        headers: [String: String] = [:]) -> EndpointRequest {
        EndpointRequest(method: method, path: path, body: Array(body.utf8), headers: headers)
    }

    static func exchange(_ body: String, answer: String, output: Int = 1) -> ModelExchange {
        ModelExchange(provider: "openai", model: "m", method: "POST", target: "/v1/chat/completions", request: Array(body.utf8),
                      status: 200, contentType: "application/json", response: Array(answer.utf8), usage: ModelUsage(inputTokens: 1, outputTokens: output))
    }

    static func gateway(_ tape: ModelTape, _ configure: (inout ModelGatewaySettings) -> Void = { _ in }) -> ModelGateway {
        var settings = ModelGatewaySettings(mode: .replay)
        settings.tape = tape
        configure(&settings)
        return ModelGateway(settings: settings)
    }

    static func errorType(_ response: EndpointResponse) -> String? {
        (try? JSON.parse(response.body))?["error"]?["type"]?.stringValue
    }

    @Test func identicalRequestsAreServedInTheirRecordedOrderOnceEach() {
        let tape = ModelTape(exchanges: [Self.exchange(#"{"model":"m","q":1}"#, answer: "first"), Self.exchange(#"{"model":"m","q":1}"#, answer: "second")])
        let gateway = Self.gateway(tape)
        gateway.publish(step: 4)
        #expect(gateway.handle(Self.request(#"{"q":1,"model":"m"}"#)).body == Array("first".utf8))
        #expect(gateway.handle(Self.request(#"{"model":"m","q":1}"#)).body == Array("second".utf8))
        let third = gateway.handle(Self.request(#"{"model":"m","q":1}"#))
        #expect(third.status == 409)
        #expect(Self.errorType(third) == "rigor_not_on_tape")
        #expect(gateway.stop?.reason == .modelRequestUnrecorded)
        #expect(gateway.stop?.message == "step 4, model request 3 (POST /v1/chat/completions) is not on the tape: the tape's 2 requests were all served already")
        // Once stopped, everything is refused without looking.
        let after = gateway.handle(Self.request(#"{"model":"m","q":1}"#))
        #expect(after.status == 429)
        #expect(Self.errorType(after) == "rigor_episode_over")
        #expect(gateway.tape.exchanges.map(\.step) == [4, 4])
        #expect(gateway.tape.exchanges.map(\.response) == tape.exchanges.map(\.response))
    }

    @Test func aRequestNotOnTheTapeNamesTheNearestRecordedOne() {
        let tape = ModelTape(exchanges: [Self.exchange(#"{"model":"m","messages":[{"content":"Reply with one action"}]}"#, answer: "a")])
        let gateway = Self.gateway(tape)
        gateway.publish(step: 1)
        let r = gateway.handle(Self.request(#"{"model":"m","messages":[{"content":"Reply with ONE action"}]}"#))
        #expect(r.status == 409)
        #expect(r.headers.contains { $0.0 == "x-should-retry" && $0.1 == "false" }, "the SDKs must not retry")
        let message = gateway.stop?.message ?? ""
        #expect(message.hasPrefix("step 1, model request 1 (POST /v1/chat/completions) is not on the tape; nearest recorded request is number 1, which differs at messages.0.content: at character 12:"), "\(message)")
        #expect(message.contains("[models] ignore"))
    }

    @Test func aMatcherLetsAVolatileFieldThrough() {
        let tape = ModelTape(exchanges: [Self.exchange(#"{"model":"m","metadata":{"sent_at":"1.5"}}"#, answer: "ok")])
        let strict = Self.gateway(tape)
        #expect(strict.handle(Self.request(#"{"model":"m","metadata":{"sent_at":"2.5"}}"#)).status == 409)
        let lenient = Self.gateway(tape) { $0.matching = ModelMatching(ignore: ["metadata.sent_at"]) }
        let r = lenient.handle(Self.request(#"{"model":"m","metadata":{"sent_at":"2.5"}}"#))
        #expect(r.status == 200)
        #expect(r.body == Array("ok".utf8))
        // The tape kept is the one served: the recorded request, not the new one.
        #expect(lenient.tape.exchanges.first?.request == tape.exchanges[0].request)
    }

    @Test func theCallBudgetRefusesTheCallPastItAndOnlyModelCallsCount() {
        let tape = ModelTape(exchanges: Array(repeating: Self.exchange(#"{"model":"m"}"#, answer: "ok"), count: 3)
                             + [ModelExchange(provider: "openai", model: nil, method: "GET", target: "/v1/models", request: [], status: 200,
                                              contentType: "application/json", response: Array("{}".utf8), usage: ModelUsage())])
        let gateway = Self.gateway(tape) { $0.budgets = ModelBudgets(calls: 2) }
        #expect(gateway.handle(Self.request("", path: "/v1/models", method: "GET")).status == 200, "a model list is no model call")
        #expect(gateway.handle(Self.request(#"{"model":"m"}"#)).status == 200)
        #expect(gateway.handle(Self.request(#"{"model":"m"}"#)).status == 200)
        let refused = gateway.handle(Self.request(#"{"model":"m"}"#))
        #expect(refused.status == 429)
        #expect(Self.errorType(refused) == "budget_exhausted")
        #expect(gateway.stop?.reason == .modelCallsExhausted)
        #expect(gateway.callCount == 2)
    }

    @Test("the call budget counts a model call however its JSON is spaced (leading whitespace is JSON too, and the upstream takes it)",
          arguments: [#"{"model":"m"}"#, #" {"model":"m"}"#, "\n\t{\"model\": \"m\"}", "\r\n {\"model\":\"m\"} "])
    func leadingWhitespaceDoesNotEscapeTheCallBudget(body: String) {
        #expect(ModelGateway.modelName(Array(body.utf8)) == "m")
        let tape = ModelTape(exchanges: Array(repeating: Self.exchange(#"{"model":"m"}"#, answer: "ok"), count: 3))
        let gateway = Self.gateway(tape) { $0.budgets = ModelBudgets(calls: 1) }
        #expect(gateway.handle(Self.request(body)).status == 200)
        #expect(gateway.handle(Self.request(body)).status == 429)
        #expect(gateway.callCount == 1)
        #expect(gateway.stop?.reason == .modelCallsExhausted)
    }

    @Test("a token budget stops the episode at the answer that crosses it (reaching it exactly is within it)", arguments: [
        (ModelBudgets(outputTokens: 5), 3, 2), (ModelBudgets(inputTokens: 2), 1, 3), (ModelBudgets(outputTokens: 9), 3, nil),
    ])
    func tokenBudgets(budgets: ModelBudgets, outputPerCall: Int, stoppedAfter: Int?) {
        let tape = ModelTape(exchanges: Array(repeating: Self.exchange(#"{"model":"m"}"#, answer: "ok", output: outputPerCall), count: 3))
        let gateway = Self.gateway(tape) { $0.budgets = budgets }
        var served = 0
        for _ in 0..<3 where gateway.stop == nil {
            #expect(gateway.handle(Self.request(#"{"model":"m"}"#)).status == 200, "the crossing answer is still delivered")
            served += 1
        }
        #expect(served == (stoppedAfter ?? 3))
        #expect(gateway.stop?.reason == (stoppedAfter == nil ? nil : .modelTokensExhausted))
    }

    @Test func aForksOverrideAnswersItsCallAndTheTapeTheOthers() {
        let tape = ModelTape(exchanges: [Self.exchange(#"{"model":"m","n":1}"#, answer: "one")])
        let gateway = Self.gateway(tape) {
            $0.overrides = [2: ModelResponseOverride(body: Array(#"{"usage":{"prompt_tokens":4,"completion_tokens":6}}"#.utf8))]
        }
        #expect(gateway.handle(Self.request(#"{"model":"m","n":1}"#)).body == Array("one".utf8))
        let two = gateway.handle(Self.request(#"{"model":"m","n":2}"#))
        #expect(two.status == 200)
        #expect(gateway.tape.exchanges.last?.usage == ModelUsage(inputTokens: 4, outputTokens: 6))
        #expect(gateway.handle(Self.request(#"{"model":"m","n":3}"#)).status == 409, "past the fork point with no continuation")
    }

    @Test func replayWithNoTapeEndsAtTheFirstCallAndRecordWithNoUpstreamSaysWhichIsMissing() {
        let empty = ModelGateway(settings: ModelGatewaySettings(mode: .replay))
        #expect(empty.handle(Self.request(#"{"model":"m"}"#)).status == 409)
        #expect(empty.stop?.message.contains("in replay, and the run has no tape") == true)
        let record = ModelGateway(settings: ModelGatewaySettings(mode: .record))
        let r = record.handle(Self.request(#"{"model":"claude"}"#, path: "/v1/messages"))
        #expect(r.status == 502)
        #expect(String(decoding: r.body, as: UTF8.self).contains("no upstream for anthropic"))
        #expect(record.stop == nil, "a missing upstream is the agent's error to handle, not the end of the episode")
    }

    @Test func providersTargetsAndDroppedHeaders() {
        #expect(ModelGateway.provider(of: Self.request("{}", path: "/v1/messages")) == "anthropic")
        #expect(ModelGateway.provider(of: Self.request("{}", path: "/v1/models", headers: ["anthropic-version": "2023-06-01"])) == "anthropic")
        #expect(ModelGateway.provider(of: Self.request("{}", path: "/v1/chat/completions", headers: ["x-api-key": "k"])) == "anthropic")
        #expect(ModelGateway.provider(of: Self.request("{}", path: "/v1/responses")) == "openai")
        #expect(ModelGateway.join("https://api.openai.com", "/v1/chat/completions") == "https://api.openai.com/v1/chat/completions")
        #expect(ModelGateway.join("http://127.0.0.1:8080/v1/", "/v1/responses") == "http://127.0.0.1:8080/v1/responses")
        #expect(ModelGateway.join("https://proxy.example/openai", "/v1/models") == "https://proxy.example/openai/v1/models")
        for header in ["authorization", "x-api-key", "api-key", "proxy-authorization", "cookie", "host"] {
            #expect(ModelGateway.droppedHeaders.contains(header))
        }
        #expect(ModelGateway.modelName(Array(#"{"model":"gpt-4o"}"#.utf8)) == "gpt-4o")
        #expect(ModelGateway.modelName(Array(#"{"model":""}"#.utf8)) == nil)
        #expect(ModelGateway.modelName(Array("[1]".utf8)) == nil)
    }

    @Test("--model-upstream is PROVIDER=URL with a known provider and an http(s) URL", arguments: [
        ("openai=http://127.0.0.1:8080", true), ("anthropic=https://api.anthropic.com", true), ("openai=http://h/v1", true),
        ("foo=http://h", false), ("openai=bar", false), ("openai=ftp://h", false), ("openai", false), ("openai=http://h?x=1", false),
        ("openai=http://h#f", false), ("=http://h", false), ("openai=http://user:sk-key@h", false), ("openai=https://sk-key@h/v1", false),
    ])
    func upstreamFlag(text: String, valid: Bool) {
        let error = ModelTapeTests.failure { _ = try ModelOptions.parseUpstream(text) }
        #expect((error == nil) == valid, "\(text)")
        #expect(error?.contains("sk-key") != true, "a refused URL's credentials are not repeated: \(error ?? "")")
    }
}

/// A streamed answer is taped after its last byte reached the agent, and by then the agent may
/// have acted (the runner is a step further) or sent its next request: what the tape says of
/// the exchange is fixed when its request arrived.
@Suite("Model gateway taping streamed answers")
struct ModelGatewayStreamTests {
    static func gateway(_ upstream: FakeModelUpstream) -> ModelGateway {
        var settings = ModelGatewaySettings(mode: .record)
        settings.upstreams = ["openai": upstream.url]
        settings.keys = ["openai": "sk-test"]
        return ModelGateway(settings: settings)
    }

    static let streamed = ModelGatewayReplayTests.request(#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
    static let plain = ModelGatewayReplayTests.request(#"{"model":"m","messages":[{"role":"user","content":"again"}]}"#)

    @Test func aStreamedExchangeKeepsTheStepItsRequestCameIn() throws {
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let gateway = Self.gateway(upstream)
        gateway.publish(step: 2)
        let response = gateway.handle(Self.streamed)
        let stream = try #require(response.stream, "the fake upstream streams when asked to")
        var bytes: [UInt8] = []
        // The agent has the whole answer with the last piece, acts on it, and the runner
        // publishes the next step before the gateway tapes the exchange.
        stream { piece in
            bytes += piece
            if String(decoding: bytes, as: UTF8.self).contains("[DONE]") { gateway.publish(step: 3) }
            return true
        }
        #expect(String(decoding: bytes, as: UTF8.self).contains("[DONE]"))
        #expect(gateway.tape.exchanges.map(\.step) == [2])
        #expect(gateway.tape.exchanges.first?.streamed == true)
    }

    @Test func aStreamedExchangeTapedLateStaysBeforeTheRequestsThatCameAfterIt() throws {
        let upstream = try FakeModelUpstream()
        defer { upstream.stop() }
        let gateway = Self.gateway(upstream)
        gateway.publish(step: 1)
        let first = gateway.handle(Self.streamed)
        let stream = try #require(first.stream)
        // A second request (an agent calling concurrently) is answered whole before the first
        // stream ends.
        gateway.publish(step: 2)
        #expect(gateway.handle(Self.plain).status == 200)
        stream { _ in true }
        let tape = gateway.tape
        #expect(tape.exchanges.map(\.streamed) == [true, false])
        #expect(tape.exchanges.map(\.step) == [1, 2])
        #expect(gateway.liveTape.exchanges.map(\.step) == [1, 2])
    }
}
