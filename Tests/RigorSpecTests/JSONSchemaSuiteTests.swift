import Foundation
import Testing

@testable import RigorSpec

/// Runs the official JSON-Schema-Test-Suite (draft 7) against `JSONSchema`.
///
/// A case is "skipped" when its schema uses a keyword outside the supported subset (or a remote /
/// `$id`-based reference); skipped cases are listed in the output. Every supported case must pass.
struct JSONSchemaSuiteTests {
    static let suiteRoot = "/usr/share/json-schema-test-suite/tests/draft7"

    static let files: [(path: String, assertFormats: Bool)] = [
        "type", "enum", "const", "required", "properties", "patternProperties", "additionalProperties",
        "items", "additionalItems", "minItems", "maxItems", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "minLength", "maxLength", "pattern", "boolean_schema", "ref",
    ].map { ($0 + ".json", false) } + [("optional/format/date-time.json", true)]

    /// Keywords whose presence makes a case unsupported (they would be silently ignored).
    static let unsupported: Set<String> = [
        "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "contains", "propertyNames",
        "dependencies", "dependentRequired", "dependentSchemas", "uniqueItems", "multipleOf",
        "minProperties", "maxProperties", "$id", "$anchor", "$recursiveRef", "$dynamicRef",
        "unevaluatedProperties", "unevaluatedItems", "contentMediaType", "contentEncoding",
    ]

    /// Keywords whose values are subschemas (object of schemas, a schema, or an array of schemas).
    static let schemaMaps: Set<String> = ["properties", "patternProperties", "definitions", "$defs"]
    static let schemaValued: Set<String> = ["additionalProperties", "items", "additionalItems"]

    /// Returns the reasons a schema is outside the supported subset (empty when supported).
    static func unsupportedReasons(_ schema: JSON) -> [String] {
        guard case .object(let o) = schema else { return [] }
        var reasons: [String] = []
        for (key, value) in o {
            if unsupported.contains(key) {
                reasons.append(key)
            } else if key == "$ref", case .string(let ref) = value, !ref.hasPrefix("#/"), ref != "#" {
                reasons.append("$ref \(ref)")
            } else if key == "format", value != "date-time" {
                reasons.append("format \(value)")
            } else if schemaMaps.contains(key), case .object(let members) = value {
                for sub in members.values { reasons += unsupportedReasons(sub) }
            } else if schemaValued.contains(key) {
                if case .array(let list) = value {
                    for sub in list { reasons += unsupportedReasons(sub) }
                } else {
                    reasons += unsupportedReasons(value)
                }
            }
        }
        return reasons
    }

    struct FileResult {
        var passed = 0
        var total = 0
        var skipped: [String] = []
        var skippedCount = 0
        var failures: [String] = []
    }

    static func run(file: String, assertFormats: Bool) throws -> FileResult {
        let data = try Data(contentsOf: URL(fileURLWithPath: suiteRoot + "/" + file))
        let groups = try JSON.parse([UInt8](data))
        var result = FileResult()
        for group in groups.arrayValue ?? [] {
            let description = group["description"]?.stringValue ?? "?"
            let schemaJSON = group["schema"] ?? .bool(true)
            let tests = group["tests"]?.arrayValue ?? []
            result.total += tests.count
            let reasons = unsupportedReasons(schemaJSON)
            if !reasons.isEmpty {
                result.skippedCount += tests.count
                result.skipped.append("\(description) [\(Set(reasons).sorted().joined(separator: ", "))] (\(tests.count))")
                continue
            }
            let schema: JSONSchema
            do {
                schema = try JSONSchema(schemaJSON)
            } catch {
                result.failures.append("\(description): schema did not compile: \(error)")
                continue
            }
            for test in tests {
                let valid = test["valid"]?.boolValue ?? false
                let violations = schema.validate(test["data"] ?? .null, assertFormats: assertFormats)
                if violations.isEmpty == valid {
                    result.passed += 1
                } else {
                    let name = test["description"]?.stringValue ?? "?"
                    result.failures.append("\(description) / \(name): expected \(valid ? "valid" : "invalid"), got \(violations)")
                }
            }
        }
        return result
    }

    @Test("draft-7 JSON-Schema-Test-Suite: every supported case passes")
    func officialSuite() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: Self.suiteRoot, isDirectory: &isDirectory), isDirectory.boolValue else {
            Issue.record("""
                JSON-Schema-Test-Suite not found at \(Self.suiteRoot). Run `make test`, which installs the \
                Debian package json-schema-test-suite, instead of calling `swift test` directly.
                """)
            return
        }
        var table = ["file                                  passed / total (skipped)"]
        var skippedLines: [String] = []
        for (file, assertFormats) in Self.files {
            let result = try Self.run(file: file, assertFormats: assertFormats)
            table.append(file.padding(toLength: 38, withPad: " ", startingAt: 0)
                + "\(result.passed) / \(result.total) (skipped \(result.skippedCount))")
            skippedLines += result.skipped.map { "  \(file): \($0)" }
            for failure in result.failures { Issue.record("\(file): \(failure)") }
            #expect(result.passed > 0, "no case of \(file) passed")
        }
        print(table.joined(separator: "\n"))
        if !skippedLines.isEmpty { print("skipped groups (unsupported keyword, test count):\n" + skippedLines.joined(separator: "\n")) }
    }
}
