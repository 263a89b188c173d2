import Foundation
import Testing

@testable import RigorSpec

/// Direct checks of violation messages and instance paths: these strings are what an artifact
/// author sees, so they are part of the contract.
struct JSONSchemaTests {
    static let artifactSchema: JSON = [
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "episode",
        "type": "object",
        "required": ["validator", "seed"],
        "additionalProperties": false,
        "properties": [
            "validator": ["type": "string"],
            "seed": ["type": "integer", "minimum": 0],
            "failure_type": ["enum": ["budget_exhausted", "crash", "timeout"]],
            "started_at": ["type": "string", "format": "date-time"],
            "action_trace": ["type": "array", "items": ["$ref": "#/definitions/step"]],
        ],
        "definitions": [
            "step": [
                "type": "object",
                "required": ["step"],
                "properties": ["step": ["type": "integer"], "tool": ["type": "string", "pattern": "^[a-z_]+$"]],
            ],
        ],
    ]

    @Test("a valid artifact has no violations")
    func valid() throws {
        let schema = try JSONSchema(Self.artifactSchema)
        let instance: JSON = [
            "validator": "v1", "seed": 7, "failure_type": "crash", "started_at": "2024-01-02T03:04:05Z",
            "action_trace": [["step": 0, "tool": "read_file"], ["step": 1.0]],
        ]
        #expect(schema.validate(instance, assertFormats: true) == [])
    }

    @Test("all violations are reported, with JSON Pointer paths and actionable messages")
    func messages() throws {
        let schema = try JSONSchema(Self.artifactSchema)
        let instance: JSON = [
            "seed": "12", "failure_type": "oops", "extra/key": 1, "started_at": "yesterday",
            "action_trace": [["step": 0], ["step": 1], ["step": 2], ["tool": "Bad Tool", "step": 2.5]],
        ]
        let violations = schema.validate(instance, assertFormats: true)
        let lines = violations.map(\.description)
        #expect(lines.contains("/: missing required property 'validator'"))
        #expect(lines.contains("/seed: expected integer, got string"))
        #expect(lines.contains(#"/failure_type: value "oops" is not one of ["budget_exhausted", "crash", "timeout"]"#))
        #expect(lines.contains("/extra~1key: property 'extra/key' is not allowed here"))
        #expect(lines.contains(#"/started_at: string "yesterday" is not an RFC 3339 date-time"#))
        #expect(lines.contains("/action_trace/3/step: expected integer, got number"))
        #expect(lines.contains(#"/action_trace/3/tool: string "Bad Tool" does not match pattern "^[a-z_]+$""#))
        #expect(violations.count == 7)
        #expect(violations.first { $0.instancePath == "" }?.keyword == "required")
        // Formats are annotations unless asserted.
        #expect(!schema.validate(instance).contains { $0.keyword == "format" })
    }

    @Test("numeric keywords compare ints and doubles exactly")
    func numbers() throws {
        let schema = try JSONSchema(["minimum": 1, "exclusiveMaximum": 9_007_199_254_740_993])
        #expect(schema.isValid(.double(1.0)))
        #expect(!schema.isValid(.double(0.999)))
        #expect(schema.isValid(.int(9_007_199_254_740_992)))
        #expect(!schema.isValid(.int(9_007_199_254_740_993)))
        #expect(schema.validate(.int(0)).map(\.description) == ["/: 0 is less than the minimum 1"])
    }

    @Test("enum and const use JSON Schema equality")
    func equality() throws {
        let schema = try JSONSchema(["enum": [1, ["a": [1.0, nil]]], "const": ["a": [1, nil]]])
        #expect(schema.isValid(["a": [.double(1), nil]]))
        #expect(!schema.isValid(.bool(true)))
        #expect(try JSONSchema(["const": false]).isValid(.int(0)) == false)
    }

    @Test("string lengths count code points")
    func lengths() throws {
        let schema = try JSONSchema(["minLength": 2, "maxLength": 2])
        #expect(schema.isValid("😀é"))
        #expect(schema.validate("😀").map(\.message) == ["string is 1 character long, minimum is 2"])
    }

    @Test("recursive local references validate nested instances")
    func recursion() throws {
        let tree: JSON = [
            "$defs": ["node": ["type": "object", "properties": ["children": ["type": "array", "items": ["$ref": "#/$defs/node"]]]]],
            "$ref": "#/$defs/node",
        ]
        let schema = try JSONSchema(tree)
        #expect(schema.isValid(["children": [["children": []], ["children": [[:]]]]]))
        #expect(schema.validate(["children": [["children": [1]]]]).map(\.instancePath) == ["/children/0/children/0"])
    }

    @Test("schemas that cannot be compiled are rejected at init", arguments: [
        ["$ref": "http://example.com/schema.json"],
        ["$ref": "#/definitions/missing"],
        ["pattern": "("],
        ["type": "integr"],
        ["minItems": -1],
        ["definitions": ["a": ["$ref": "#/definitions/b"], "b": ["$ref": "#/definitions/a"]], "$ref": "#/definitions/a"],
        .int(3),
    ] as [JSON])
    func badSchemas(schema: JSON) {
        #expect(throws: JSONSchemaError.self) { try JSONSchema(schema) }
    }

    @Test("date-time format follows RFC 3339 strictly", arguments: [
        ("1985-04-12T23:20:50.52Z", true), ("1996-12-19T16:39:57-08:00", true), ("1990-12-31T23:59:60Z", true),
        ("1990-12-31T15:59:60-08:00", true), ("2000-02-29t00:00:00z", true), ("1937-01-01T12:00:27.87+00:20", true),
        ("1990-12-31T23:58:60Z", false), ("1990-12-31T23:59:61Z", false), ("1900-02-29T00:00:00Z", false),
        ("2021-04-31T00:00:00Z", false), ("2021-01-01T24:00:00Z", false), ("2021-01-01T00:00:00", false),
        ("2021-01-01 00:00:00Z", false), ("2021-01-01T00:00:00.Z", false), ("2021-01-01T00:00:00+0100", false),
        ("2021-1-01T00:00:00Z", false), ("2021-01-01T00:00:00+24:00", false), ("2021-01-0\u{09EA}T00:00:00Z", false),
    ])
    func dateTime(text: String, valid: Bool) {
        #expect(DateTimeFormat.isValid(text) == valid)
    }

    @Test("the project's artifact schema compiles and accepts the example artifacts in spec/vectors")
    func projectSchema() throws {
        let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("spec")
        guard let schemaData = try? Data(contentsOf: spec.appendingPathComponent("artifact-schema-v1.0.json")),
              let vectorData = try? Data(contentsOf: spec.appendingPathComponent("vectors/hashes.json"))
        else {
            Issue.record("cannot read the schema or vectors under \(spec.path)")
            return
        }
        let schema = try JSONSchema(try JSON.parse([UInt8](schemaData)))
        let vectors = try JSON.parse([UInt8](vectorData))
        for name in ["rigor_artifact", "tracecore_artifact"] {
            guard let artifact = vectors[name]?["artifact"] else { Issue.record("missing \(name)"); continue }
            #expect(schema.validate(artifact, assertFormats: true) == [], "\(name)")
            var broken = artifact.objectValue ?? [:]
            broken["seed"] = "not a number"
            #expect(!schema.validate(.object(broken)).isEmpty, "\(name) with a string seed")
        }
    }
}
