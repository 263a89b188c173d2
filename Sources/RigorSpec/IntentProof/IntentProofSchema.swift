/// The official JSON Schema of an IntentProof execution event (`intentproof.event.v1`), from
/// IntentProof/intentproof-spec at commit 8cdc72bbd42a10a9c3410822c9aaa5d19525934d
/// (`schema/execution_event.v1.schema.json`, MIT License), written compactly with sorted keys.
/// `IntentProofSchemaTests` checks that this copy equals the official file.
///
/// Rigor's validator ignores the `propertyNames`/`anyOf` guard on `attributes` (it supports the
/// draft-7 subset documented on `JSONSchema`); every other constraint is enforced, with
/// `date-time` formats asserted. Rigor's exporter never writes `intentproof.delegation.*` keys.
public enum IntentProofSchema {
    public static let eventText = #"""
{"$id":"https://intentproof.dev/schema/execution_event.v1.schema.json","$schema":"https://json-schema.org/draft/2020-12/schema","additionalProperties":false,"description":"The atom. Emitted by the SDK. Signed at emission.","properties":{"action":{"type":"string"},"attributes":{"additionalProperties":{"type":["string","number","boolean"]},"description":"Customer and reserved SDK attributes. Multi-agent delegation uses flat keys under intentproof.delegation.* (see golden/multi-agent/).","patternProperties":{"^intentproof\\.delegation\\.depth$":{"maximum":8,"minimum":0,"type":"integer"},"^intentproof\\.delegation\\.parent_agent_id$":{"minLength":1,"type":"string"},"^intentproof\\.delegation\\.parent_correlation_id$":{"minLength":1,"type":"string"}},"propertyNames":{"anyOf":[{"not":{"pattern":"^intentproof\\.delegation\\."}},{"enum":["intentproof.delegation.parent_correlation_id","intentproof.delegation.parent_agent_id","intentproof.delegation.depth"]}]},"type":"object"},"chain_position":{"minimum":1,"type":"integer"},"completed_at":{"format":"date-time","type":"string"},"correlation_id":{"type":"string"},"duration_ms":{"minimum":0,"type":"integer"},"error":{"type":["object","null"]},"event_id":{"description":"Globally unique ULID.","type":"string"},"inputs":{"type":["object","array","null"]},"instance_id":{"type":"string"},"intent":{"type":"string"},"output":{"type":["object","string","number","boolean","null"]},"prev_event_hash":{"pattern":"^sha256:[a-f0-9]+$","type":"string"},"provenance_class":{"const":"sdk_attested_evidence","default":"sdk_attested_evidence","type":"string"},"redaction_summary":{"properties":{"fields_redacted_count":{"type":"integer"},"fields_redacted_paths":{"items":{"type":"string"},"type":"array"},"rules_applied":{"items":{"type":"string"},"type":"array"},"tenant_redaction_profile_id":{"type":"string"}},"type":"object"},"schema":{"const":"intentproof.event.v1","type":"string"},"sdk_version":{"type":"string"},"signature":{"additionalProperties":false,"properties":{"alg":{"const":"ed25519","type":"string"},"key_id":{"type":"string"},"value":{"type":"string"}},"required":["alg","key_id","value"],"type":"object"},"spec_version":{"type":"string"},"started_at":{"format":"date-time","type":"string"},"status":{"enum":["ok","error"],"type":"string"},"tenant_id":{"type":"string"},"untrusted_payload":{"description":"True when any non-redacted inputs or output payload is captured.","type":"boolean"}},"required":["schema","event_id","tenant_id","instance_id","correlation_id","provenance_class","prev_event_hash","chain_position","intent","action","status","started_at","completed_at","duration_ms","untrusted_payload","spec_version","sdk_version","signature"],"title":"ExecutionEvent","type":"object"}
"""#

    /// The compiled event schema (nil only if the text above were broken, which a test rules out).
    public static let event: JSONSchema? = {
        guard let value = try? JSON.parse(eventText) else { return nil }
        return try? JSONSchema(value)
    }()

    /// Every way `event` fails the official schema (empty when it validates).
    public static func problems(_ event: JSON) -> [SchemaViolation] {
        guard let schema = Self.event else {
            return [SchemaViolation(instancePath: "", keyword: "schema", message: "the embedded IntentProof event schema does not compile")]
        }
        return schema.validate(event, assertFormats: true)
    }
}
