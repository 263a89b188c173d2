#!/usr/bin/env python3
"""Checks a file written by `rigor export otlp` with the official OpenTelemetry protobuf
definitions (the opentelemetry-proto package): every member must be a field of
ExportTraceServiceRequest (unknown fields are refused), with the right types.

OTLP/JSON writes trace and span ids as hex, where the protobuf JSON mapping expects base64, so
the ids are checked as hex and converted before json_format.Parse, as an OTLP receiver does.
Prints one JSON line: traces, spans, and per trace the number of spans. Exit 1 on any problem.
"""
import base64
import json
import re
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

HEX = {"traceId": 32, "spanId": 16, "parentSpanId": 16}


def convert_ids(value):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in HEX and isinstance(item, str):
                if not re.fullmatch("[0-9a-f]{%d}" % HEX[key], item) or set(item) == {"0"}:
                    raise ValueError(f"{key} {item!r} is not {HEX[key]} lowercase hex digits (and not all zero)")
                out[key] = base64.b64encode(bytes.fromhex(item)).decode()
            else:
                out[key] = convert_ids(item)
        return out
    if isinstance(value, list):
        return [convert_ids(v) for v in value]
    return value


def main(path):
    with open(path, "rb") as f:
        document = json.load(f)
    request = ExportTraceServiceRequest()
    json_format.Parse(json.dumps(convert_ids(document)), request, ignore_unknown_fields=False)
    traces = {}
    spans = 0
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans += 1
                assert len(span.trace_id) == 16 and len(span.span_id) == 8, "id lengths"
                assert span.end_time_unix_nano >= span.start_time_unix_nano, f"span {span.name} ends before it starts"
                traces.setdefault(span.trace_id.hex(), []).append(span)
    for trace_id, members in traces.items():
        roots = [s for s in members if not s.parent_span_id]
        assert len(roots) == 1, f"trace {trace_id} has {len(roots)} root spans"
        root = roots[0]
        for s in members:
            if s is not root:
                assert s.parent_span_id == root.span_id, f"span {s.name} is not a child of the episode span"
                assert root.start_time_unix_nano <= s.start_time_unix_nano <= s.end_time_unix_nano <= root.end_time_unix_nano, \
                    f"span {s.name} lies outside its episode"
    print(json.dumps({"traces": len(traces), "spans": spans,
                      "spans_per_trace": sorted(len(m) for m in traces.values()),
                      "root_attributes": sorted({kv.key for ms in traces.values() for s in ms if not s.parent_span_id for kv in s.attributes})}))


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:  # any failure is a verdict, printed for the test
        print(f"otlp_check: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
