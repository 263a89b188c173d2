#!/usr/bin/env python3
"""Reference implementation of Rigor's canonical JSON and hash recipes.

Normative text: spec/hashing.md. Running this script prints the test vectors
stored in spec/vectors/hashes.json (and checks the RFC 8785 examples first):

    python3 spec/vectors/hash_reference.py > spec/vectors/hashes.json

It also verifies artifact files given on the command line:

    python3 spec/vectors/hash_reference.py --verify run1.json run2.json

Standard library only; Python 3.9 or later.
"""

import copy
import hashlib
import json
import math
import os
import struct
import sys

# --------------------------------------------------------------------------
# Canonical JSON, RFC 8785 (JCS)
# --------------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f",
            "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _jcs_string(s):
    out = ['"']
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _es_number(x):
    """ECMAScript Number.prototype.toString for a finite double (RFC 8785 3.2.2.3)."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError("NaN and Infinity have no JSON form")
    if x == 0:
        return "0"  # covers -0 as well
    sign = "-" if x < 0 else ""
    # repr() gives the shortest digit string that round-trips, as ECMAScript requires.
    r = repr(abs(x))
    if "e" in r:
        mant, exp = r.split("e")
        exp = int(exp)
    else:
        mant, exp = r, 0
    if "." in mant:
        int_part, frac = mant.split(".")
    else:
        int_part, frac = mant, ""
    digits = (int_part + frac).lstrip("0")
    # n: position of the decimal point relative to the start of `digits`.
    lead_zeros = len(int_part + frac) - len((int_part + frac).lstrip("0"))
    n = len(int_part) + exp - lead_zeros
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        esign = "+" if e >= 0 else "-"
        body = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + esign + str(abs(e))
    return sign + body


def _utf16_key(s):
    return s.encode("utf-16-be")


def jcs(value):
    """RFC 8785 canonical text of a JSON value (Python str).

    Integers (Python int) are written as their exact decimal digits; for
    |n| <= 2**53 this is exactly what RFC 8785 prescribes. Floats use the
    ECMAScript number format. Object keys are sorted by UTF-16 code units.
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _es_number(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=_utf16_key)
        return "{" + ",".join(_jcs_string(k) + ":" + jcs(value[k]) for k in keys) + "}"
    raise TypeError("not a JSON value: %r" % (value,))


def jcs_bytes(value):
    return jcs(value).encode("utf-8")


def python_style_bytes(value):
    """The TraceCore serialisation: Python's json.dumps with sorted keys, compact."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def sha256_tag(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# artifact_hash
# --------------------------------------------------------------------------

EXCLUDED_TOP_LEVEL = ("run_id", "trace_id", "started_at", "completed_at",
                      "wall_clock_elapsed_s", "artifact_hash", "diagnostics")
EXCLUDED_STEP = ("action_ts",)


def hashed_part(artifact):
    part = {k: v for k, v in artifact.items() if k not in EXCLUDED_TOP_LEVEL}
    trace = part.get("action_trace")
    if isinstance(trace, list):
        part["action_trace"] = [
            {k: v for k, v in step.items() if k not in EXCLUDED_STEP}
            if isinstance(step, dict) else step
            for step in trace
        ]
    return part


def recipe_for(artifact):
    ident = artifact.get("runtime_identity")
    if isinstance(ident, dict) and ident.get("name") == "tracecore":
        return "tracecore"
    return "rigor"


def artifact_hash(artifact, recipe=None):
    recipe = recipe or recipe_for(artifact)
    part = hashed_part(artifact)
    if recipe == "tracecore":
        return sha256_tag(python_style_bytes(part))
    return sha256_tag(jcs_bytes(part))


# --------------------------------------------------------------------------
# task_hash and agent_hash
# --------------------------------------------------------------------------

def task_files(folder):
    """{relative '/'-path: bytes} of every regular file that counts for task_hash."""
    files = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in names:
            if name.endswith(".pyc"):
                continue
            full = os.path.join(root, name)
            if not os.path.isfile(full) or os.path.islink(full):
                continue
            rel = os.path.relpath(full, folder).replace(os.sep, "/")
            with open(full, "rb") as fh:
                files[rel] = fh.read()
    return files


def task_hash_from_files(files, world_kind, code_version):
    doc = {
        "files": {p: sha256_tag(b) for p, b in files.items()},
        "world": {"kind": world_kind, "code_version": code_version},
    }
    return sha256_tag(jcs_bytes(doc)), doc


def agent_hash_from_files(kind, agent_name, agent_bytes, sdk_files=None):
    files = {agent_name: sha256_tag(agent_bytes)}
    if kind == "python-sdk":
        for name, data in (sdk_files or {}).items():
            files["sdk/" + name] = sha256_tag(data)
    doc = {"kind": kind, "files": files}
    return sha256_tag(jcs_bytes(doc)), doc


# --------------------------------------------------------------------------
# Test vectors
# --------------------------------------------------------------------------

# RFC 8785 Appendix B: IEEE-754 bit patterns and their canonical text.
RFC8785_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]

# RFC 8785 section 3.2.3 (key order) and 3.2.4 (a complete example).
RFC8785_SORTING_INPUT = (
    '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh",'
    '"1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control",'
    '"\\u00f6":"Latin Small Letter O With Diaeresis"}'
)
RFC8785_SORTING_KEY_ORDER = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001F600", "\ufb33"]
RFC8785_EXAMPLE_INPUT = (
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
    ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
    ' "literals": [null, true, false]}'
)
RFC8785_EXAMPLE_OUTPUT = (
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
    '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
)


def check_rfc8785():
    numbers = []
    for bits, expected in RFC8785_NUMBERS:
        value = struct.unpack(">d", bytes.fromhex(bits))[0]
        got = jcs(value)
        assert got == expected, (bits, got, expected)
        numbers.append({"ieee754_hex": bits, "canonical": expected})
    parsed = json.loads(RFC8785_SORTING_INPUT)
    order = list(json.loads(jcs(parsed)).keys())
    assert order == RFC8785_SORTING_KEY_ORDER, order
    got = jcs(json.loads(RFC8785_EXAMPLE_INPUT))
    assert got == RFC8785_EXAMPLE_OUTPUT, got
    return {
        "numbers": numbers,
        "key_order": {
            "input": RFC8785_SORTING_INPUT,
            "canonical": jcs(parsed),
            "key_order_utf16": RFC8785_SORTING_KEY_ORDER,
        },
        "example": {"input": RFC8785_EXAMPLE_INPUT, "canonical": RFC8785_EXAMPLE_OUTPUT},
    }


def example_rigor_artifact():
    """A short, made-up Rigor artifact: two steps of filesystem_hidden_config, seed 42."""
    task = {"id": "filesystem_hidden_config", "description": "Find the real API_KEY under /app and report it with set_output."}
    files = ["/app/.config_9053", "/app/config.example", "/app/readme.txt"]
    obs1 = {"step": 1, "task": task, "last_action": None, "last_action_result": None,
            "visible_state": {"files_seen": []},
            "budget_remaining": {"steps": 200, "tool_calls": 40}}
    act1 = {"type": "list_dir", "args": {"path": "/app"}}
    res1 = {"ok": True, "files": files}
    obs2 = {"step": 2, "task": task, "last_action": act1, "last_action_result": res1,
            "visible_state": {"files_seen": files},
            "budget_remaining": {"steps": 199, "tool_calls": 39}}
    act2 = {"type": "read_file", "args": {"path": "/etc/passwd"}}
    res2 = {"ok": False, "error": "sandbox_violation"}
    return {
        "spec_version": "tracecore-spec-v1.0",
        "runtime_identity": {"name": "rigor", "version": "0.1.0", "git_sha": None},
        "harness_version": "0.1.0",
        "run_id": "0123456789abcdef0123456789abcdef",
        "trace_id": "0123456789abcdef0123456789abcdef",
        "agent_ref": "Agents/malformed/sandbox_escape.py",
        "agent_hash": "sha256:" + "ab" * 32,
        "task_ref": "filesystem_hidden_config@1",
        "task_id": "filesystem_hidden_config",
        "task_hash": "sha256:" + "cd" * 32,
        "seed": 42,
        "budgets": {"steps": 200, "tool_calls": 40, "wall_clock_seconds": 60},
        "success": False,
        "termination_reason": "sandbox_violation",
        "failure_type": "sandbox_violation",
        "failure_reason": "action 'read_file' argument 'path' = \"/etc/passwd\": path is outside the allowed roots /app",
        "steps_used": 2,
        "tool_calls_used": 1,
        "started_at": "2026-01-01T00:00:00.000000+00:00",
        "completed_at": "2026-01-01T00:00:00.250000+00:00",
        "wall_clock_elapsed_s": 0.25,
        "action_trace": [
            {"step": 1, "action_ts": "2026-01-01T00:00:00.100000+00:00", "observation": obs1,
             "action": act1, "result": res1,
             "io_audit": [{"type": "fs", "op": "list_dir", "path": "/app"}],
             "budget_after_step": {"steps": 199, "tool_calls": 39},
             "budget_delta": {"steps": 1, "tool_calls": 1}},
            {"step": 2, "action_ts": "2026-01-01T00:00:00.200000+00:00", "observation": obs2,
             "action": act2, "result": res2,
             "io_audit": [{"type": "fs", "op": "read_file", "path": "/etc/passwd", "verdict": "denied",
                           "reason": "path is outside the allowed roots /app"}],
             "budget_after_step": {"steps": 198, "tool_calls": 39},
             "budget_delta": {"steps": 1, "tool_calls": 0}},
        ],
        "validator": {"success": False, "message": "incorrect or missing API_KEY",
                      "terminal": False, "step": 1},
        "sandbox": {"filesystem_roots": ["/app"], "network_hosts": [], "isolation": "process",
                    "limits": {"cpu_seconds": 60, "address_space_bytes": 2147483648,
                               "file_size_bytes": 67108864, "open_files": 256, "processes": 256,
                               "act_timeout_seconds": 10, "max_line_bytes": 1048576,
                               "max_stderr_bytes": 65536}},
        "determinism": {"seed": 42, "tooling": {"models": [], "mocks": []}},
        "metrics": {"steps_used": 2, "tool_calls_used": 1},
        "diagnostics": {
            "agent": {"exit_status": None, "signal": 9, "stderr_tail": "",
                      "stderr_bytes_dropped": 0},
            "environment": {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp/rigor-agent-x1",
                            "TMPDIR": "/tmp/rigor-agent-x1", "LC_ALL": "C.UTF-8",
                            "LANG": "C.UTF-8", "TZ": "UTC", "PYTHONHASHSEED": "0",
                            "PYTHONDONTWRITEBYTECODE": "1", "RIGOR_SEED": "42",
                            "RIGOR_PROTOCOL": "rigor-agent/1"},
            "timing": {"agent_start_ms": 12.5, "act_latency_ms": [3.25, 1.5]},
        },
    }


def example_tracecore_artifact():
    """A made-up artifact in TraceCore's shape, with a float timing inside a step
    (as TraceCore's telemetry does), to show how the two serialisations differ."""
    return {
        "spec_version": "tracecore-spec-v1.0",
        "runtime_identity": {"name": "tracecore", "version": "1.1.3", "git_sha": None},
        "harness_version": "1.1.3",
        "run_id": "fedcba9876543210fedcba9876543210",
        "trace_id": "fedcba9876543210fedcba9876543210",
        "agent": "agents/toy_agent.py",
        "agent_ref": "agents/toy_agent.py",
        "task_ref": "filesystem_hidden_config@1",
        "task_id": "filesystem_hidden_config",
        "version": 1,
        "task_hash": "00" * 32,
        "seed": 0,
        "budgets": {"steps": 200, "tool_calls": 40},
        "success": False,
        "termination_reason": "invalid_action",
        "failure_type": "invalid_action",
        "failure_reason": "unknown_action",
        "steps_used": 1,
        "tool_calls_used": 0,
        "metrics": {"steps_used": 1, "tool_calls_used": 0},
        "started_at": "2026-01-01T00:00:00.000000+00:00",
        "completed_at": "2026-01-01T00:00:00.010000+00:00",
        "wall_clock_elapsed_s": 0.01,
        "action_trace": [
            {"step": 1, "action_ts": "2026-01-01T00:00:00.005000+00:00",
             "observation": {"step": 1, "task": {"id": "filesystem_hidden_config",
                                                 "description": "caf\u00e9 \U0001F600"},
                             "last_action": None, "last_action_result": None,
                             "visible_state": {"files_seen": []},
                             "budget_remaining": {"steps": 200, "tool_calls": 40}},
             "action": {"type": "wait", "args": {}},
             "result": {"ok": False, "error": "unknown_action"},
             "io_audit": [],
             "telemetry": {"action_metrics": {"latency_ms": 1.0, "ratio": 0.1 + 0.2, "big": 1e22},
                           "labels": {"\ufb33": "dalet", "\U0001F600": "grin"}},
             "budget_after_step": {"steps": 199, "tool_calls": 40},
             "budget_delta": {"steps": 1, "tool_calls": 0}},
        ],
        "validator": {"ok": False, "message": "incorrect or missing API_KEY"},
    }


def vectors():
    out = {"rfc8785": check_rfc8785()}

    art = example_rigor_artifact()
    art["artifact_hash"] = artifact_hash(art)
    part = hashed_part(art)
    # Same run, different timings and ids: the hash must not move.
    twin = copy.deepcopy(art)
    twin["run_id"] = twin["trace_id"] = "ffffffffffffffffffffffffffffffff"
    twin["started_at"], twin["completed_at"] = "2027-06-30T12:00:00.000000+00:00", "2027-06-30T12:00:09.000000+00:00"
    twin["wall_clock_elapsed_s"] = 9.0
    twin["diagnostics"]["timing"] = {"agent_start_ms": 99.0}
    for step in twin["action_trace"]:
        step["action_ts"] = "2027-06-30T12:00:01.000000+00:00"
    assert artifact_hash(twin) == art["artifact_hash"]
    # Any change to what happened moves it.
    changed = copy.deepcopy(art)
    changed["seed"] = 43
    out["rigor_artifact"] = {
        "recipe": "rigor",
        "artifact": art,
        "hashed_part_jcs": jcs(part),
        "artifact_hash": art["artifact_hash"],
        "same_hash_after_changing_only_excluded_fields": artifact_hash(twin),
        "hash_after_changing_seed_to_43": artifact_hash(changed),
    }

    tc = example_tracecore_artifact()
    tc["artifact_hash"] = artifact_hash(tc)
    tpart = hashed_part(tc)
    out["tracecore_artifact"] = {
        "recipe": "tracecore",
        "artifact": tc,
        "hashed_part_python": python_style_bytes(tpart).decode("utf-8"),
        "artifact_hash": tc["artifact_hash"],
        "hashed_part_jcs_for_comparison": jcs(tpart),
        "jcs_hash_for_comparison_not_valid_for_tracecore": sha256_tag(jcs_bytes(tpart)),
    }

    task_files_example = {
        "task.toml": b'id = "demo_task"\nversion = 1\n',
        "data/seed_words.txt": b"alpha\nbeta\n",
        "README.md": b"",
    }
    th, tdoc = task_hash_from_files(task_files_example, "hidden_config", "1")
    out["task_hash"] = {
        "files_utf8": {k: v.decode("utf-8") for k, v in task_files_example.items()},
        "world": {"kind": "hidden_config", "code_version": "1"},
        "document": tdoc,
        "document_jcs": jcs(tdoc),
        "task_hash": th,
    }

    agent_src = b"#!/usr/bin/env python3\nprint('hi')\n"
    ah_exe, exe_doc = agent_hash_from_files("executable", "my_agent", agent_src)
    sdk = {"rigor_sdk.py": b"# sdk\n", "run_agent.py": b"# launcher\n"}
    ah_py, py_doc = agent_hash_from_files("python-sdk", "toy_agent.py", b"class Agent: pass\n", sdk)
    out["agent_hash"] = {
        "executable": {"agent_file": "my_agent", "content_utf8": agent_src.decode(),
                       "document": exe_doc, "document_jcs": jcs(exe_doc), "agent_hash": ah_exe},
        "python_sdk": {"agent_file": "toy_agent.py", "content_utf8": "class Agent: pass\n",
                       "sdk_files_utf8": {k: v.decode() for k, v in sdk.items()},
                       "document": py_doc, "document_jcs": jcs(py_doc), "agent_hash": ah_py},
    }
    return out


def main(argv):
    if len(argv) > 1 and argv[1] == "--verify":
        bad = 0
        for path in argv[2:]:
            with open(path, "rb") as fh:
                art = json.loads(fh.read().decode("utf-8"))
            got = artifact_hash(art)
            ok = got == art.get("artifact_hash")
            bad += not ok
            print("%s %s (%s recipe) %s" % ("OK " if ok else "BAD", path, recipe_for(art), got))
        return 1 if bad else 0
    json.dump(vectors(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
