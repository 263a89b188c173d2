import RigorSpec

/// How replay recognises a request (spec/model-gateway.md §3): the method, the target and the
/// body, with the fields the matchers name removed. A JSON body is compared as canonical JSON
/// (key order and spacing do not matter); any other body byte for byte. Headers never count:
/// SDKs put their version, the OS and retry counters there.
///
/// A matcher is a dotted path into the body: `metadata.sent_at`, `user`,
/// `messages.*.id` (`*`: every element of an array or every member of an object).
public struct ModelMatching: Sendable, Equatable {
    public var ignore: [String]

    public init(ignore: [String] = []) {
        self.ignore = ignore
    }

    /// A matcher's problem, or nil (used where matchers are declared).
    public static func problem(_ path: String) -> String? {
        if path.isEmpty || path.utf8.count > 512 { return "must be a non-empty dotted path of at most 512 bytes" }
        if path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            return "'\(PathName.shown(path))' has an empty segment (write a.b.c, with * for every element)"
        }
        return nil
    }

    /// The body as compared: parsed (depth-bounded) with the ignored fields removed; nil when
    /// it is not JSON.
    public func normalised(_ body: [UInt8]) -> JSON? {
        guard !body.isEmpty, let value = try? JSON.parse(body, maxDepth: ArtifactLimits.agentLineDepth) else { return nil }
        return normalised(parsed: value)
    }

    /// A body already parsed, with the ignored fields removed.
    public func normalised(parsed: JSON) -> JSON {
        var value = parsed
        for path in ignore {
            ModelMatching.remove(path.split(separator: ".").map(String.init)[...], from: &value)
        }
        return value
    }

    static func remove(_ path: ArraySlice<String>, from value: inout JSON) {
        guard let head = path.first else { return }
        let rest = path.dropFirst()
        switch value {
        case .object(var members):
            if head == "*" {
                if rest.isEmpty { members = [:] } else {
                    for key in Array(members.keys) { if var child = members[key] { remove(rest, from: &child); members[key] = child } }
                }
            } else if rest.isEmpty {
                members.removeValue(forKey: head)
            } else if var child = members[head] {
                remove(rest, from: &child)
                members[head] = child
            }
            value = .object(members)
        case .array(var items):
            let indices: [Int] = head == "*" ? Array(items.indices) : (Int(head).map { items.indices.contains($0) ? [$0] : [] } ?? [])
            if rest.isEmpty {
                for i in indices.reversed() { items.remove(at: i) }
            } else {
                for i in indices { remove(rest, from: &items[i]) }
            }
            value = .array(items)
        default: break
        }
    }

    /// The request's fingerprint: `sha256:` over the canonical JSON of method, target and the
    /// normalised body (or the raw body's digest).
    public func fingerprint(method: String, target: String, body: [UInt8]) -> String {
        fingerprint(method: method, target: target, body: body,
                    parsed: body.isEmpty ? nil : try? JSON.parse(body, maxDepth: ArtifactLimits.agentLineDepth))
    }

    /// The same, for a body already parsed (`parsed`: nil when it is not JSON).
    public func fingerprint(method: String, target: String, body: [UInt8], parsed: JSON?) -> String {
        let content: JSON = parsed.map { ["json": normalised(parsed: $0)] } ?? ["bytes": .string(Digest.sha256(body))]
        let value: JSON = ["method": .string(method), "target": .string(target), "body": content]
        return (try? Digest.sha256(canonical: value)) ?? Digest.sha256(body)
    }

    /// How `body` differs from `recorded` (both compared as replay compares them): up to `limit`
    /// lines, each a path with the recorded and the new value (long strings shown around their
    /// first difference).
    public func differences(recorded: (target: String, body: [UInt8]), now: (target: String, body: [UInt8]), limit: Int = 6,
                            methods: (recorded: String, now: String)? = nil) -> [String] {
        var out: [String] = []
        if let methods, methods.recorded != methods.now {
            out.append("method: recorded \(ModelMatching.quoted(methods.recorded)), now \(ModelMatching.quoted(methods.now))")
        }
        if recorded.target != now.target {
            out.append("target: recorded \(ModelMatching.quoted(recorded.target)), now \(ModelMatching.quoted(now.target))")
        }
        guard let a = normalised(recorded.body), let b = normalised(now.body) else {
            if recorded.body != now.body { out.append("body (not JSON): \(recorded.body.count) bytes recorded, \(now.body.count) now, not the same") }
            return out
        }
        ModelMatching.diff(a, b, path: "", into: &out, limit: limit)
        return out
    }

    static func diff(_ a: JSON, _ b: JSON, path: String, into out: inout [String], limit: Int) {
        guard out.count < limit, a != b else { return }
        let shownPath = path.isEmpty ? "(body)" : path
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for key in Set(x.keys).union(y.keys).sorted() {
                let sub = path.isEmpty ? key : "\(path).\(key)"
                switch (x[key], y[key]) {
                case (nil, let v?): if out.count < limit { out.append("\(sub): not in the recorded request, now \(excerpt(v))") }
                case (let v?, nil): if out.count < limit { out.append("\(sub): recorded \(excerpt(v)), now absent") }
                case (let v?, let w?): diff(v, w, path: sub, into: &out, limit: limit)
                default: break
                }
            }
        case (.array(let x), .array(let y)):
            for i in 0..<min(x.count, y.count) { diff(x[i], y[i], path: "\(path).\(i)", into: &out, limit: limit) }
            if x.count != y.count, out.count < limit { out.append("\(shownPath): \(x.count) elements recorded, \(y.count) now") }
        case (.string(let s), .string(let t)):
            out.append("\(shownPath): \(stringDifference(s, t))")
        default:
            out.append("\(shownPath): recorded \(excerpt(a)), now \(excerpt(b))")
        }
    }

    /// Two strings around their first difference: `at character 57: recorded "…Reply with one…", now "…Reply with ONE…"`.
    static func stringDifference(_ s: String, _ t: String) -> String {
        let a = Array(s), b = Array(t)
        var i = 0
        while i < a.count, i < b.count, a[i] == b[i] { i += 1 }
        func around(_ c: [Character]) -> String {
            let from = max(0, i - 20), to = min(c.count, i + 20)
            return (from > 0 ? "…" : "") + String(c[from..<to]) + (to < c.count ? "…" : "")
        }
        return "at character \(i + 1): recorded \(quoted(around(a))), now \(quoted(around(b)))"
    }

    static func excerpt(_ value: JSON) -> String {
        let text: String
        if case .string(let s) = value { text = s } else { text = (try? value.canonicalBytes()).map { String(decoding: $0, as: UTF8.self) } ?? "?" }
        let short = text.count > 60 ? String(text.prefix(60)) + "…" : text
        return value.stringValue != nil ? quoted(short) : TerminalText.escaped(short, keepLayout: false)
    }

    static func quoted(_ s: String) -> String { "\"\(TerminalText.escaped(s, keepLayout: false))\"" }
}
