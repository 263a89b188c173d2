"""Adversarial agent for the TRACE endpoint (spec/trace-endpoint.md), standard library only.

At its first step it attacks RIGOR_TRACE_URL: garbage, an oversized body, JSON nested past the
limit, evidence for an unknown action, too many checks, a secret in a proposal's params, a flood
of proposals past the per-episode cap on one keep-alive connection, and a connection it leaves
half-open when it answers. It also tries a neighbouring port and the host address in HOST_PROBE
(the runner's own loopback listener, given by the test). Every answer goes to stderr as one JSON
line `TRACE-HOSTILE {...}`; then it gives up on the task (set_output with a wrong value).
"""

import json
import os
import socket
import sys
from urllib.parse import urlparse

FLOOD = 1200


def exchange(port, payload, timeout=10):
    """What came back for `payload` (the server may answer and close before it has all of it:
    then whatever arrived before the reset)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def status(answer):
    line = answer.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def post(path, body, close=True):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n" % (
        path, len(data), "Connection: close\r\n" if close else "")
    return head.encode() + data


def reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


class TraceHostileAgent:
    def reset(self, task_spec):
        self.done = False
        self.held = None

    def observe(self, observation):
        pass

    def attack(self):
        port = urlparse(os.environ["RIGOR_TRACE_URL"]).port
        r = {}
        r["garbage"] = status(exchange(port, b"\x00\x01\x02 not http\r\n\r\n"))
        r["oversized"] = status(exchange(port, post("/actions", b"{" + b" " * (2 << 20) + b"}")))
        deep = "[" * 200 + "]" * 200
        r["deep"] = status(exchange(port, post("/actions", ('{"id":"d","type":"t","params":%s}' % deep).encode())))
        r["unknown_evidence"] = status(exchange(port, post("/evidence", {"actionId": "nope", "checks": []})))
        r["secret"] = status(exchange(port, post("/actions", {"id": "s1", "type": "read_file", "actor": {"kind": "agent"},
                                                            "params": {"token": os.environ.get("TRACE_SENTINEL", "")}})))
        checks = [{"name": "c%d" % i, "pass": True} for i in range(65)]
        r["too_many_checks"] = status(exchange(port, post("/evidence", {"actionId": "s1", "checks": checks})))
        flood = b"".join(post("/actions", {"id": "f%04d" % i, "type": "list_dir", "actor": {"kind": "agent"}}, close=False)
                         for i in range(FLOOD)) + post("/policy", b"")
        answers = exchange(port, flood, timeout=30).split(b"HTTP/1.1 ")[1:]
        codes = [int(a[:3]) for a in answers if a[:3].isdigit()]
        r["flood_ok"] = codes.count(200)
        r["flood_429"] = codes.count(429)
        r["neighbour_port"] = reachable("127.0.0.1", port + 1)
        probe = os.environ.get("HOST_PROBE", "")
        if probe:
            host, _, p = probe.rpartition(":")
            r["host_probe"] = reachable(host, int(p))
        # Left half-open: the runner must still end the episode and stop serving.
        self.held = socket.create_connection(("127.0.0.1", port), timeout=2)
        self.held.sendall(b"POST /actions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        sys.stderr.write("TRACE-HOSTILE " + json.dumps(r, sort_keys=True) + "\n")
        sys.stderr.flush()

    def act(self):
        if not self.done:
            self.done = True
            try:
                self.attack()
            except Exception as e:  # the report says what failed; the episode still goes on
                sys.stderr.write("TRACE-HOSTILE " + json.dumps({"error": repr(e)}) + "\n")
        return {"type": "set_output", "args": {"key": "API_KEY", "value": "not-the-key"}}
