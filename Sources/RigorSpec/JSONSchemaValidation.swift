/// Applying a compiled `JSONSchema` to an instance.
///
/// Validation never stops at the first failure: an artifact author fixing a file wants the whole
/// list at once. The instance path is kept as a stack of tokens and only rendered into a JSON
/// Pointer string when a violation is actually reported, so valid instances cost no string work.
struct SchemaValidationRun {
    let nodes: [SchemaNode]
    let assertFormats: Bool
    var path: [String] = []
    var violations: [SchemaViolation] = []

    init(nodes: [SchemaNode], assertFormats: Bool) {
        self.nodes = nodes
        self.assertFormats = assertFormats
    }

    mutating func report(_ keyword: String, _ message: String) {
        violations.append(SchemaViolation(instancePath: SchemaPointer.encode(path), keyword: keyword, message: message))
    }

    mutating func validate(_ instance: JSON, node: Int) {
        switch nodes[node] {
        case .accept: return
        case .reject: report("false", "no value is allowed here (the schema is false)")
        case .ref(let target, _): validate(instance, node: target)
        case .rules(let rules): apply(rules, to: instance)
        }
    }

    mutating func child(_ token: String, _ instance: JSON, node: Int) {
        path.append(token)
        validate(instance, node: node)
        path.removeLast()
    }

    mutating func apply(_ r: SchemaRules, to instance: JSON) {
        if let types = r.types, !SchemaRules.matches(types, instance) {
            let expected = r.typeNames.count == 1 ? r.typeNames[0] : "one of " + r.typeNames.joined(separator: ", ")
            report("type", "expected \(expected), got \(SchemaText.kind(instance))")
        }
        if let values = r.enumValues, !values.contains(where: { SchemaEquality.equal($0, instance) }) {
            report("enum", "value \(SchemaText.render(instance)) is not one of \(SchemaText.list(values))")
        }
        if let c = r.constValue, !SchemaEquality.equal(c, instance) {
            report("const", "value \(SchemaText.render(instance)) must be exactly \(SchemaText.render(c))")
        }
        switch instance {
        case .object(let members): applyObject(r, members)
        case .array(let elements): applyArray(r, elements)
        case .string(let s): applyString(r, s)
        case .int, .double: applyNumber(r, instance)
        default: break
        }
    }

    mutating func applyObject(_ r: SchemaRules, _ members: [String: JSON]) {
        for name in r.required where members[name] == nil {
            report("required", "missing required property '\(name)'")
        }
        for (name, node) in r.properties {
            if let value = members[name] { child(name, value, node: node) }
        }
        guard !r.patternProperties.isEmpty || r.additionalProperties != nil else { return }
        // Sorted so that violations come out in a stable order.
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            var matched = r.properties.contains(where: { $0.name == name })
            for (pattern, node) in r.patternProperties where pattern.matches(name) {
                matched = true
                child(name, value, node: node)
            }
            guard !matched, let extra = r.additionalProperties else { continue }
            if case .reject = nodes[extra] {
                path.append(name)
                report("additionalProperties", "property '\(name)' is not allowed here")
                path.removeLast()
            } else {
                child(name, value, node: extra)
            }
        }
    }

    mutating func applyArray(_ r: SchemaRules, _ elements: [JSON]) {
        if let min = r.minItems, elements.count < min {
            report("minItems", "expected at least \(min) item\(min == 1 ? "" : "s"), got \(elements.count)")
        }
        if let max = r.maxItems, elements.count > max {
            report("maxItems", "expected at most \(max) item\(max == 1 ? "" : "s"), got \(elements.count)")
        }
        if let items = r.items {
            for (n, element) in elements.enumerated() { child(String(n), element, node: items) }
        } else if let tuple = r.tupleItems {
            for (n, element) in elements.enumerated() {
                if n < tuple.count {
                    child(String(n), element, node: tuple[n])
                } else if let extra = r.additionalItems {
                    if case .reject = nodes[extra] {
                        report("additionalItems", "expected at most \(tuple.count) items, got \(elements.count)")
                        break
                    }
                    child(String(n), element, node: extra)
                }
            }
        }
    }

    mutating func applyString(_ r: SchemaRules, _ s: String) {
        if r.minLength != nil || r.maxLength != nil {
            let length = s.unicodeScalars.count  // JSON Schema counts code points
            if let min = r.minLength, length < min {
                report("minLength", "string is \(length) character\(length == 1 ? "" : "s") long, minimum is \(min)")
            }
            if let max = r.maxLength, length > max {
                report("maxLength", "string is \(length) character\(length == 1 ? "" : "s") long, maximum is \(max)")
            }
        }
        if let p = r.pattern, !p.matches(s) {
            report("pattern", "string \(SchemaText.render(.string(s))) does not match pattern \(SchemaText.render(.string(p.source)))")
        }
        if assertFormats, let f = r.format, f == "date-time", !DateTimeFormat.isValid(s) {
            report("format", "string \(SchemaText.render(.string(s))) is not an RFC 3339 date-time")
        }
    }

    mutating func applyNumber(_ r: SchemaRules, _ n: JSON) {
        let shown = SchemaText.render(n)
        if let m = r.minimum, SchemaNumber.compare(n, m) == .orderedAscending {
            report("minimum", "\(shown) is less than the minimum \(SchemaText.render(m))")
        }
        if let m = r.maximum, SchemaNumber.compare(n, m) == .orderedDescending {
            report("maximum", "\(shown) is greater than the maximum \(SchemaText.render(m))")
        }
        if let m = r.exclusiveMinimum, SchemaNumber.compare(n, m) != .orderedDescending {
            report("exclusiveMinimum", "\(shown) must be greater than \(SchemaText.render(m))")
        }
        if let m = r.exclusiveMaximum, SchemaNumber.compare(n, m) != .orderedAscending {
            report("exclusiveMaximum", "\(shown) must be less than \(SchemaText.render(m))")
        }
    }
}

extension SchemaRules {
    static func matches(_ types: SchemaTypes, _ instance: JSON) -> Bool {
        switch instance {
        case .null: return types.contains(.null)
        case .bool: return types.contains(.boolean)
        case .int: return types.contains(.integer) || types.contains(.number)
        case .double(let d):
            // Draft 6+: a number with a zero fractional part is an integer.
            return types.contains(.number) || (types.contains(.integer) && d.isFinite && d == d.rounded(.towardZero))
        case .string: return types.contains(.string)
        case .array: return types.contains(.array)
        case .object: return types.contains(.object)
        }
    }
}
