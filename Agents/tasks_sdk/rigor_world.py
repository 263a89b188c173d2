"""Rigor task SDK: a world written in Python, served over rigor-world/1.

The runner (spec/world-protocol.md) sends one JSON object per line on stdin and reads exactly
one JSON object per line on stdout in answer:

    setup   {"type": "setup", "protocol": "rigor-world/1", "seed": n, "world_seed": hex?, "task": {...}}
            -> {"type": "ready", "visible_state": {...}, "actions": {...}?}
    execute {"type": "execute", "action": {"type": name, "args": {...}}}
            -> {"type": "result", "result": {...}, "io_audit": [...], "visible_state": {...},
                "verdict": {"status": "pending" | "success" | "failed", "message": str, "payload": ...},
                "sandbox_violation": str?}

Any exception in world code is answered with {"type": "error", "message": ...}, which ends the
episode as the task's failure (`world_failed`), never the agent's.

`Environment` is the environment API TraceCore's task harnesses call (write_file, read_file,
list_dir, exists, set_hidden_state/get_hidden_state, set_agent_output/get_agent_output,
mark_seen, visible_state, require_network, network_guard), so TraceCore task modules run
unmodified against it. Standard library only; Python 3.9 or later.
"""

import json
import os
import posixpath
import sys

PROTOCOL = "rigor-world/1"

__all__ = ["PROTOCOL", "Environment", "SandboxViolation", "claim_stdio", "serve", "normalize_path"]


class SandboxViolation(RuntimeError):
    """A path or host outside the task's allowlists (TraceCore raises the same name)."""


def normalize_path(path):
    """TraceCore's path rule: absolute (a leading / is added), no '..' segment."""
    if not path:
        raise ValueError("path must be non-empty")
    norm = str(path)
    # PurePosixPath(...).as_posix(), without importing pathlib (~3 ms of start-up).
    if norm.startswith("//") and not norm.startswith("///"):
        head, rest = "//", norm[2:]
    elif norm.startswith("/"):
        head, rest = "/", norm.lstrip("/")
    else:
        head, rest = "", norm
    parts = [p for p in rest.split("/") if p and p != "."]
    norm = head + "/".join(parts)
    if not norm:
        norm = "."
    if not norm.startswith("/"):
        norm = "/" + norm
    if "/../" in norm + "/" or norm.endswith("/.."):
        raise ValueError("parent traversal is not allowed")
    return norm


class _NetworkGuard:
    """Host allowlist: exact names, `*`, and `*.suffix` (TraceCore's matching rules)."""

    def __init__(self, hosts):
        self._hosts = tuple(self._normalize(h) for h in hosts if h)

    @staticmethod
    def _normalize(host):
        h = host.strip().lower().rstrip(".")
        if h.startswith("[") and h.endswith("]"):
            h = h[1:-1]
        return h

    @staticmethod
    def _split(host):
        raw, scheme, port = host.strip(), None, None
        if "://" in raw:
            scheme, raw = raw.split("://", 1)
            scheme = scheme.strip().lower()
        raw = raw.split("/", 1)[0]
        if raw.startswith("[") and "]" in raw:
            inner, rest = raw.split("]", 1)
            raw = inner.lstrip("[")
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
        elif ":" in raw:
            raw, p = raw.rsplit(":", 1)
            if p.isdigit():
                port = int(p)
        return raw.strip().lower().rstrip("."), scheme, port

    def allowed(self, host):
        name = self._split(host)[0]
        if not self._hosts or not name:
            return False
        for entry in self._hosts:
            if entry == "*" or entry == name:
                return True
            if entry.startswith("*.") and name.endswith(entry[1:]) and name != entry[2:]:
                return True
        return False

    def inspect(self, host):
        name, scheme, port = self._split(host)
        if scheme and scheme not in ("http", "https"):
            raise SandboxViolation("sandbox_violation: network scheme denied: %s" % scheme)
        if port is not None and port not in (80, 443):
            raise SandboxViolation("sandbox_violation: network port denied: %s" % port)
        return name, scheme, port

    def check(self, host):
        name = self.inspect(host)[0]
        if not self.allowed(host):
            raise SandboxViolation("sandbox_violation: network access denied: %s" % host)
        return name


class Environment:
    """A world's state for one episode: a virtual filesystem, hidden state, the agent's outputs.

    Every filesystem call checks the path against the task's `filesystem_roots` (raising
    SandboxViolation outside them) and, during an action, records an io_audit entry.
    """

    def __init__(self, filesystem_roots=(), network_hosts=(), rng=None, world_seed=None):
        self.files = {}
        self.hidden_state = {}
        self.agent_output = {}
        self.seen_paths = set()
        self._roots = tuple(self._root(r) for r in filesystem_roots)
        self._network = _NetworkGuard(network_hosts)
        self._audit = None
        #: For Rigor worlds: a random.Random seeded from the keyed world seed (None for
        #: TraceCore tasks, which seed themselves from the seed).
        self.rng = rng
        #: The runner's per-episode seed material (hex), or None for TraceCore tasks.
        self.world_seed = world_seed

    @staticmethod
    def _root(path):
        norm = normalize_path(path)
        return norm.rstrip("/") if norm != "/" and norm.endswith("/") else norm

    def _allowed(self, path):
        try:
            norm = normalize_path(path)
        except ValueError:
            raise SandboxViolation("sandbox_violation: invalid path: %s" % path)
        for root in self._roots:
            if root == "/" or norm == root or norm.startswith(root + "/"):
                return norm
        raise SandboxViolation("sandbox_violation: filesystem access denied: %s (allowed_roots=%s)"
                               % (norm, list(self._roots)))

    def _record(self, entry):
        if self._audit is not None:
            self._audit.append(entry)

    # Steps (the host calls these around each action).
    def begin_step(self):
        self._audit = []

    def consume_audit(self):
        entries, self._audit = self._audit or [], None
        return entries

    # Files.
    def write_file(self, path, content):
        norm = self._allowed(path)
        self._record({"type": "fs", "op": "write_file", "path": norm})
        self.files[norm] = content

    def read_file(self, path):
        norm = self._allowed(path)
        self._record({"type": "fs", "op": "read_file", "path": norm})
        return self.files[norm]

    def exists(self, path):
        norm = self._allowed(path)
        self._record({"type": "fs", "op": "exists", "path": norm})
        return norm in self.files

    def list_dir(self, path):
        norm = self._allowed(path)
        self._record({"type": "fs", "op": "list_dir", "path": norm})
        prefix = norm.rstrip("/") + "/"
        seen = set()
        for file_path in self.files:
            if file_path.startswith(prefix):
                part = file_path[len(prefix):].split("/", 1)[0]
                seen.add(prefix + part if part else prefix)
        return sorted(seen)

    # Network.
    def require_network(self, host):
        name = self._network.check(host)
        self._record({"type": "net", "host": name})

    def network_guard(self):
        return self._network

    # Hidden state and outputs.
    def set_hidden_state(self, key, value):
        self.hidden_state[key] = value

    def get_hidden_state(self, key, default=None):
        return self.hidden_state.get(key, default)

    def set_agent_output(self, key, value):
        self.agent_output[key] = value

    def get_agent_output(self, key, default=None):
        return self.agent_output.get(key, default)

    # Observations.
    def mark_seen(self, paths):
        for p in paths:
            self.seen_paths.add(normalize_path(p))

    def visible_state(self):
        return {"files_seen": sorted(self.seen_paths)}


def claim_stdio():
    """Keeps private copies of stdin/stdout for the protocol; `print` in world code goes to
    stderr, and world code reading stdin reads /dev/null."""
    sys.stdout.flush()
    # Buffered: the runner sends one request and waits for its answer, so a line is always
    # whole in the pipe; unbuffered, iterating read it one byte (one system call) at a time.
    reader = os.fdopen(os.dup(0), "rb")
    writer = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = sys.stderr
    return reader, writer


def _dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"


def serve(world, reader, writer):
    """Answers the runner's requests with `world` until stdin ends.

    `world` has `setup(message) -> dict` (the `ready` answer's fields) and
    `execute(action) -> dict` (the `result` answer's fields).
    """
    for line in reader:
        try:
            message = json.loads(line)
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "setup":
                if message.get("protocol") != PROTOCOL:
                    raise ValueError("this world speaks %s, the runner %r" % (PROTOCOL, message.get("protocol")))
                answer = dict(world.setup(message), type="ready")
            elif kind == "execute":
                answer = dict(world.execute(message.get("action") or {}), type="result")
            elif kind == "end":
                return 0
            else:
                raise ValueError("unknown request %r" % (kind,))
            data = _dumps(answer)
        except Exception as exc:  # noqa: BLE001  (world code: any failure is the task's)
            import traceback
            traceback.print_exc(file=sys.stderr)
            data = _dumps({"type": "error", "message": "%s: %s" % (type(exc).__name__, exc)})
        writer.write(data)
    return 0
