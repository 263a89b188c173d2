import RigorSpec

/// `[world] kind = "declarative"`: a world written as data in task.toml — hidden values and
/// files drawn from the seeded (keyed) generator through `WorldTemplate`s, and the output key
/// whose value must equal a template. It needs no code: most "find the value in the files and
/// report it" tasks are one of these (spec/task-manifest.md §3, "Declarative worlds").
///
/// With a `[world.service]` table it is instead a rate-limited token service (the mock API of
/// the `api` suite) whose token, payload, unblock moment and instructions are templates: the
/// agent must get the token from `/token` and report it.
///
/// Draw order, which defines the world: `[[world.hidden]]` in file order, then
/// `[[world.files]]` in file order (`path`, then `content`), then `[validator] expected` — or,
/// for a service, `token`, the `payload` values by key in byte order, `unblocked_at` and
/// `instructions`; in each template the holes left to right. The generator is
/// `PRNG(taskID:seed:key:)`, as for every built-in world.
public enum Declarative: WorldKind {
    public static let kind = "declarative"
    public static let codeVersion = "1"
    /// A files world's actions; a service world answers `serviceActions` instead.
    public static let fileActions = FileSystemActions.names + ["set_output"]
    public static let serviceActions = RateLimitedServiceWorld.basicActions + ["read_instructions"]
    public static let actions = fileActions + serviceActions.filter { $0 != "set_output" }

    /// The world as the manifest describes it, every template parsed.
    struct Definition {
        var hidden: [(name: String, value: WorldTemplate)] = []
        var files: [(path: WorldTemplate, content: WorldTemplate)] = []
        var outputKey: String
        var expected: WorldTemplate
        var extraction: ReportedAnswerWorld.Extraction
        var service: Service?
    }

    /// `[world.service]`, parsed.
    struct Service {
        var token: WorldTemplate
        var payload: [(field: String, value: WorldTemplate)]
        var unblockedAt: WorldTemplate
        var earlyRetryPenalty: Int
        var instructions: WorldTemplate?
    }

    public static func check(manifest: TaskManifest) throws(TaskError) {
        let d = try definition(manifest)
        let offered = d.service == nil ? fileActions : serviceActions
        if let lacking = manifest.surface.actions.keys.sorted().first(where: { !offered.contains($0) }) {
            throw .manifestInvalid(path: manifest.sourcePath, field: "actions.\(lacking)",
                                   reason: "names an action a declarative world \(d.service == nil ? "of files" : "with a [world.service]") does not implement; it implements: \(offered.sorted().joined(separator: ", "))")
        }
    }

    public static func make(manifest: TaskManifest, seed: Int, key worldKey: WorldKey) throws(TaskError) -> any TaskWorld {
        let d = try definition(manifest)
        var rng = PRNG(taskID: manifest.id, seed: seed, key: worldKey)
        var hidden: [String: String] = [:]
        for h in d.hidden { hidden[h.name] = h.value.render(&rng, hidden: hidden) }
        if let s = d.service {
            let token = s.token.render(&rng, hidden: hidden)
            var payload: [String: String] = [:]
            for p in s.payload { payload[p.field] = p.value.render(&rng, hidden: hidden) }
            let unblockedText = s.unblockedAt.render(&rng, hidden: hidden)
            guard let unblockedAt = Int(unblockedText), (0...RateLimitedService.maxWait).contains(unblockedAt) else {
                throw .manifestInvalid(path: manifest.sourcePath, field: "world.service.unblocked_at",
                                       reason: "rendered '\(unblockedText.prefix(40))' for seed \(seed); it must be an integer from 0 to \(RateLimitedService.maxWait)")
            }
            let instructions = s.instructions?.render(&rng, hidden: hidden)
            let rules = RateLimitedService.Rules(token: token, requiredPayload: payload, handshake: nil, unblockedAt: unblockedAt,
                                                 earlyRetryPenalty: s.earlyRetryPenalty)
            return RateLimitedServiceWorld(service: RateLimitedService(rules: rules),
                                           checker: OutputChecker(key: d.outputKey, expected: token, validator: manifest.validator),
                                           payloadTemplate: .object(payload.mapValues(JSON.string)), handshakeTemplate: nil,
                                           instructions: instructions)
        }
        var files: [String: String] = [:]
        for f in d.files {
            let path = f.path.render(&rng, hidden: hidden)
            files[path] = f.content.render(&rng, hidden: hidden)
        }
        let expected = d.expected.render(&rng, hidden: hidden)
        return ReportedAnswerWorld(files: files, roots: manifest.sandbox.filesystemRoots,
                                   checker: OutputChecker(key: d.outputKey, expected: expected, validator: manifest.validator),
                                   extraction: d.extraction)
    }

    static func definition(_ m: TaskManifest) throws(TaskError) -> Definition {
        let path = m.sourcePath
        func fail(_ field: String, _ reason: String) -> TaskError { .manifestInvalid(path: path, field: field, reason: reason) }
        func template(_ value: JSON?, _ field: String) throws(TaskError) -> WorldTemplate {
            guard let s = value?.stringValue else { throw fail(field, "is required and must be a string") }
            do { return try WorldTemplate.parse(s) } catch { throw fail(field, error.description) }
        }
        func entries(_ key: String) throws(TaskError) -> [[String: JSON]] {
            guard let v = m.worldTable[key] else { return [] }
            guard let items = v.arrayValue, items.allSatisfy({ $0.objectValue != nil }) else {
                throw fail("world.\(key)", "must be an array of tables ([[world.\(key)]])")
            }
            return items.compactMap(\.objectValue)
        }
        var known: Set<String> = []
        func checkReferences(_ t: WorldTemplate, _ field: String) throws(TaskError) {
            for name in t.references where !known.contains(name) {
                throw fail(field, "refers to hidden.\(name), which is not a hidden value declared above it")
            }
        }
        var hidden: [(name: String, value: WorldTemplate)] = []
        for (i, h) in try entries("hidden").enumerated() {
            guard let name = h["name"]?.stringValue, WorldTemplate.isName(name) else {
                throw fail("world.hidden[\(i)].name", "is required: a name of a-z, A-Z, 0-9 and '_'")
            }
            guard !known.contains(name) else { throw fail("world.hidden[\(i)].name", "'\(name)' is declared twice") }
            let value = try template(h["value"], "world.hidden[\(i)].value")
            try checkReferences(value, "world.hidden[\(i)].value")
            hidden.append((name, value))
            known.insert(name)
        }
        var files: [(path: WorldTemplate, content: WorldTemplate)] = []
        for (i, f) in try entries("files").enumerated() {
            let p = try template(f["path"], "world.files[\(i)].path")
            let c = try template(f["content"], "world.files[\(i)].content")
            try checkReferences(p, "world.files[\(i)].path")
            try checkReferences(c, "world.files[\(i)].content")
            if p.parts.count == 1, case .text(let literal) = p.parts[0],
               !m.sandbox.filesystemRoots.contains(where: { literal.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) {
                throw fail("world.files[\(i)].path", "is '\(literal)', which is outside sandbox.filesystem_roots, so no agent could read it")
            }
            files.append((p, c))
        }
        guard let outputKey = m.validator["output_key"]?.stringValue, !outputKey.isEmpty else {
            throw fail("validator.output_key", "is required for a declarative world: the output key the agent reports")
        }
        var service: Service?
        if let sv = m.worldTable["service"] {
            guard let t = sv.objectValue else { throw fail("world.service", "must be a table ([world.service])") }
            if !files.isEmpty { throw fail("world.files", "cannot be combined with [world.service]; a declarative world is files or a service") }
            let token = try template(t["token"], "world.service.token")
            try checkReferences(token, "world.service.token")
            guard let fields = (t["payload"] ?? .object([:])).objectValue else {
                throw fail("world.service.payload", "must be a table { field = \"template\" }")
            }
            var payload: [(field: String, value: WorldTemplate)] = []
            for (field, v) in fields.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }) {
                let value = try template(v, "world.service.payload.\(field)")
                try checkReferences(value, "world.service.payload.\(field)")
                payload.append((field, value))
            }
            let unblocked: WorldTemplate
            if case .int(let i)? = t["unblocked_at"] { unblocked = WorldTemplate(parts: [.text(String(i))]) } else {
                unblocked = try template(t["unblocked_at"], "world.service.unblocked_at")
            }
            try checkReferences(unblocked, "world.service.unblocked_at")
            var penalty = 1
            if let p = t["early_retry_penalty"] {
                guard case .int(let i) = p, (0...10).contains(i) else { throw fail("world.service.early_retry_penalty", "must be an integer from 0 to 10") }
                penalty = i
            }
            var instructions: WorldTemplate?
            if t["instructions"] != nil {
                instructions = try template(t["instructions"], "world.service.instructions")
                if let i = instructions { try checkReferences(i, "world.service.instructions") }
            }
            service = Service(token: token, payload: payload, unblockedAt: unblocked, earlyRetryPenalty: penalty, instructions: instructions)
        }
        let expected: WorldTemplate
        if service != nil {
            if m.validator["expected"] != nil { throw fail("validator.expected", "is the service's token for a [world.service]; remove it") }
            expected = WorldTemplate(parts: [])
        } else {
            expected = try template(m.validator["expected"], "validator.expected")
        }
        try checkReferences(expected, "validator.expected")
        var extraction = ReportedAnswerWorld.Extraction.lineStart
        if let e = m.worldTable["extract_value"] {
            switch e.stringValue {
            case "line_start": extraction = .lineStart
            case "any_token": extraction = .anyToken
            default: throw fail("world.extract_value", "must be \"line_start\" or \"any_token\"")
            }
        }
        return Definition(hidden: hidden, files: files, outputKey: outputKey, expected: expected, extraction: extraction, service: service)
    }
}
