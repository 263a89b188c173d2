import Foundation

/// A JSON Schema validator for the subset of draft 7 that Rigor's artifact schemas use.
///
/// Rigor validates every artifact it reads or writes, often thousands per run, so a schema is
/// compiled once into a flat table of nodes (subschemas addressed by index, `$ref`s resolved to
/// indices, regular expressions compiled) and the compiled form is reused for every instance.
///
/// Supported keywords: boolean schemas, `type`, `enum`, `const`, `required`, `properties`,
/// `patternProperties`, `additionalProperties`, `items` (schema or array form) with
/// `additionalItems`, `minItems`, `maxItems`, `minimum`, `maximum`, `exclusiveMinimum`,
/// `exclusiveMaximum` (number form), `minLength`, `maxLength`, `pattern`, `format: "date-time"`
/// (asserted only on request) and `$ref` to JSON Pointers within the same document. As in draft 7,
/// a schema with `$ref` ignores its sibling keywords. Every other keyword is ignored, so a schema
/// relying on e.g. `allOf` validates more leniently than a full implementation would.
public struct JSONSchema: Sendable {
    let nodes: [SchemaNode]
    let root: Int

    /// Compiles `schema`. Fails on malformed keyword values, invalid regular expressions and
    /// `$ref`s that are remote, unresolvable or form a cycle of bare references.
    public init(_ schema: JSON) throws(JSONSchemaError) {
        var compiler = SchemaCompiler(document: schema)
        root = try compiler.compile(schema, pointer: [])
        nodes = try compiler.finish()
    }

    /// Validates `instance` and returns every violation found (empty when valid).
    ///
    /// - Parameter assertFormats: when true, `format` keywords Rigor knows (`date-time`) are
    ///   enforced; JSON Schema treats `format` as an annotation by default.
    public func validate(_ instance: JSON, assertFormats: Bool = false) -> [SchemaViolation] {
        var run = SchemaValidationRun(nodes: nodes, assertFormats: assertFormats)
        run.validate(instance, node: root)
        return run.violations
    }

    /// True when `instance` has no violations.
    public func isValid(_ instance: JSON, assertFormats: Bool = false) -> Bool {
        validate(instance, assertFormats: assertFormats).isEmpty
    }
}

/// One way an instance fails its schema.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    /// JSON Pointer to the failing value: "" for the root, e.g. "/action_trace/3/step".
    public let instancePath: String
    /// The schema keyword that failed ("required", "type", "false" for a `false` schema, …).
    public let keyword: String
    /// What is wrong, phrased so that the fix is obvious.
    public let message: String

    public init(instancePath: String, keyword: String, message: String) {
        self.instancePath = instancePath
        self.keyword = keyword
        self.message = message
    }

    /// `"<path>: <message>"`, with the root shown as "/" so the line never starts with a colon.
    public var description: String { "\(instancePath.isEmpty ? "/" : instancePath): \(message)" }
}

/// Why a schema could not be compiled.
public struct JSONSchemaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// JSON Pointer (within the schema) of the offending subschema.
    public let schemaPath: String
    public let message: String

    public init(schemaPath: String, message: String) {
        self.schemaPath = schemaPath
        self.message = message
    }

    public var description: String { "schema \(schemaPath.isEmpty ? "/" : schemaPath): \(message)" }
}

// MARK: - Compiled form

/// A compiled regular expression. `NSRegularExpression` is immutable and documented as safe to
/// use from multiple threads, which is what makes the unchecked conformance sound.
struct SchemaPattern: @unchecked Sendable {
    let source: String
    let regex: NSRegularExpression

    /// JSON Schema patterns are unanchored: a match anywhere in the string counts.
    func matches(_ s: String) -> Bool {
        regex.firstMatch(in: s, options: [], range: NSRange(location: 0, length: s.utf16.count)) != nil
    }
}

/// JSON Schema's simple types, as a bit set so that `type` checks are a single AND.
struct SchemaTypes: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = SchemaTypes(rawValue: 1)
    static let boolean = SchemaTypes(rawValue: 2)
    static let integer = SchemaTypes(rawValue: 4)
    static let number = SchemaTypes(rawValue: 8)
    static let string = SchemaTypes(rawValue: 16)
    static let array = SchemaTypes(rawValue: 32)
    static let object = SchemaTypes(rawValue: 64)

    static let names: [(String, SchemaTypes)] = [
        ("null", .null), ("boolean", .boolean), ("integer", .integer), ("number", .number),
        ("string", .string), ("array", .array), ("object", .object),
    ]
}

/// Everything a non-boolean, non-`$ref` schema asks for. Subschemas are node indices.
struct SchemaRules: Sendable {
    var types: SchemaTypes?
    var typeNames: [String] = []
    var enumValues: [JSON]?
    var constValue: JSON?
    var required: [String] = []
    var properties: [(name: String, node: Int)] = []
    var patternProperties: [(pattern: SchemaPattern, node: Int)] = []
    var additionalProperties: Int?
    var items: Int?
    var tupleItems: [Int]?
    var additionalItems: Int?
    var minItems: Int?
    var maxItems: Int?
    var minimum: JSON?
    var maximum: JSON?
    var exclusiveMinimum: JSON?
    var exclusiveMaximum: JSON?
    var minLength: Int?
    var maxLength: Int?
    var pattern: SchemaPattern?
    var format: String?
}

enum SchemaNode: Sendable {
    case accept
    case reject
    case ref(Int, target: String)
    case rules(SchemaRules)
}

// MARK: - Compiler

/// Builds the node table. Every subschema is memoised by its JSON Pointer, so a `$ref` to a
/// location that is also reached structurally shares one node, and recursive references terminate.
struct SchemaCompiler {
    let document: JSON
    var nodes: [SchemaNode?] = []
    var byPointer: [String: Int] = [:]

    init(document: JSON) { self.document = document }

    mutating func finish() throws(JSONSchemaError) -> [SchemaNode] {
        let done = nodes.map { $0 ?? .accept }
        // A cycle made only of `$ref`s would never consume any instance: reject it up front.
        for start in done.indices {
            var seen: Set<Int> = [start]
            var current = start
            while case .ref(let next, let target) = done[current] {
                if !seen.insert(next).inserted {
                    throw JSONSchemaError(schemaPath: target, message: "$ref cycle that never reaches a schema")
                }
                current = next
            }
        }
        return done
    }

    mutating func compile(_ schema: JSON, pointer: [String]) throws(JSONSchemaError) -> Int {
        let key = SchemaPointer.encode(pointer)
        if let existing = byPointer[key] { return existing }
        let index = nodes.count
        nodes.append(nil)
        byPointer[key] = index
        nodes[index] = try compileNode(schema, pointer: pointer)
        return index
    }

    func fail(_ pointer: [String], _ message: String) -> JSONSchemaError {
        JSONSchemaError(schemaPath: SchemaPointer.encode(pointer), message: message)
    }

    mutating func compileNode(_ schema: JSON, pointer: [String]) throws(JSONSchemaError) -> SchemaNode {
        switch schema {
        case .bool(true): return .accept
        case .bool(false): return .reject
        case .object(let o):
            if let ref = o["$ref"] {
                guard case .string(let target) = ref else { throw fail(pointer, "$ref must be a string") }
                guard let tokens = SchemaPointer.decodeFragment(target) else {
                    throw fail(pointer, "unsupported $ref \"\(target)\": only local references (\"#…\") are supported")
                }
                guard let resolved = SchemaPointer.resolve(tokens, in: document) else {
                    throw fail(pointer, "$ref \"\(target)\" does not resolve to anything in this schema")
                }
                return .ref(try compile(resolved, pointer: tokens), target: target)
            }
            return .rules(try compileRules(o, pointer: pointer))
        default:
            throw fail(pointer, "a schema must be an object or a boolean, got \(schema.typeName)")
        }
    }

    mutating func compileRules(_ o: [String: JSON], pointer: [String]) throws(JSONSchemaError) -> SchemaRules {
        var r = SchemaRules()
        if let t = o["type"] {
            let names: [JSON]
            switch t {
            case .string: names = [t]
            case .array(let a): names = a
            default: throw fail(pointer + ["type"], "type must be a string or an array of strings")
            }
            var set: SchemaTypes = []
            for name in names {
                guard let s = name.stringValue, let bit = SchemaTypes.names.first(where: { $0.0 == s })?.1 else {
                    throw fail(pointer + ["type"], "unknown type \(SchemaText.render(name))")
                }
                set.insert(bit)
                r.typeNames.append(s)
            }
            r.types = set
        }
        if let e = o["enum"] {
            guard case .array(let values) = e else { throw fail(pointer + ["enum"], "enum must be an array") }
            r.enumValues = values
        }
        r.constValue = o["const"]
        if let req = o["required"] {
            guard case .array(let names) = req else { throw fail(pointer + ["required"], "required must be an array") }
            for name in names {
                guard let s = name.stringValue else { throw fail(pointer + ["required"], "required entries must be strings") }
                r.required.append(s)
            }
        }
        if let props = o["properties"] {
            guard case .object(let members) = props else { throw fail(pointer + ["properties"], "properties must be an object") }
            for (name, sub) in members.sorted(by: { $0.key < $1.key }) {
                r.properties.append((name, try compile(sub, pointer: pointer + ["properties", name])))
            }
        }
        if let pp = o["patternProperties"] {
            guard case .object(let members) = pp else {
                throw fail(pointer + ["patternProperties"], "patternProperties must be an object")
            }
            for (source, sub) in members.sorted(by: { $0.key < $1.key }) {
                let pattern = try compilePattern(source, pointer: pointer + ["patternProperties", source])
                r.patternProperties.append((pattern, try compile(sub, pointer: pointer + ["patternProperties", source])))
            }
        }
        if let ap = o["additionalProperties"] {
            r.additionalProperties = try compile(ap, pointer: pointer + ["additionalProperties"])
        }
        if let items = o["items"] {
            if case .array(let list) = items {
                var tuple: [Int] = []
                for (n, sub) in list.enumerated() {
                    tuple.append(try compile(sub, pointer: pointer + ["items", String(n)]))
                }
                r.tupleItems = tuple
                // additionalItems only means something next to the array form of items.
                if let ai = o["additionalItems"] {
                    r.additionalItems = try compile(ai, pointer: pointer + ["additionalItems"])
                }
            } else {
                r.items = try compile(items, pointer: pointer + ["items"])
            }
        }
        r.minItems = try count(o, "minItems", pointer)
        r.maxItems = try count(o, "maxItems", pointer)
        r.minLength = try count(o, "minLength", pointer)
        r.maxLength = try count(o, "maxLength", pointer)
        r.minimum = try number(o, "minimum", pointer)
        r.maximum = try number(o, "maximum", pointer)
        r.exclusiveMinimum = try number(o, "exclusiveMinimum", pointer)
        r.exclusiveMaximum = try number(o, "exclusiveMaximum", pointer)
        if let p = o["pattern"] {
            guard let source = p.stringValue else { throw fail(pointer + ["pattern"], "pattern must be a string") }
            r.pattern = try compilePattern(source, pointer: pointer + ["pattern"])
        }
        if case .string(let f) = o["format"] { r.format = f }
        // Subschemas under definitions/$defs are compiled too, so that errors in them surface at init.
        for container in ["definitions", "$defs"] {
            if case .object(let defs) = o[container] {
                for (name, sub) in defs where sub.objectValue != nil || sub.boolValue != nil {
                    _ = try compile(sub, pointer: pointer + [container, name])
                }
            }
        }
        return r
    }

    func count(_ o: [String: JSON], _ keyword: String, _ pointer: [String]) throws(JSONSchemaError) -> Int? {
        guard let v = o[keyword] else { return nil }
        guard let n = v.intValue, n >= 0 else { throw fail(pointer + [keyword], "\(keyword) must be a non-negative integer") }
        return n
    }

    func number(_ o: [String: JSON], _ keyword: String, _ pointer: [String]) throws(JSONSchemaError) -> JSON? {
        guard let v = o[keyword] else { return nil }
        switch v {
        case .int, .double: return v
        default: throw fail(pointer + [keyword], "\(keyword) must be a number")
        }
    }

    func compilePattern(_ source: String, pointer: [String]) throws(JSONSchemaError) -> SchemaPattern {
        do {
            return SchemaPattern(source: source, regex: try NSRegularExpression(pattern: source, options: []))
        } catch {
            throw fail(pointer, "invalid regular expression \"\(source)\"")
        }
    }
}
