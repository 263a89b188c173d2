"""Rigor agent SDK: runs a three-method agent object over the rigor-agent/1 protocol.

An agent is any object with

    reset(task)         called once, with the task dict from the runner's `reset` message
    observe(observation) called before every act, with the observation dict
    act()               returns the next action: {"type": ..., "args": {...}}
    end(outcome)        optional; called with the outcome dict when the episode is over

which is the TraceCore agent interface, so TraceCore-style agent modules run unchanged.
If the dict returned by act() has an "intent" key, that value is moved out of the action
and sent as the envelope's "intent" (free text the runner records with the step).

The protocol itself (spec/agent-protocol.md) is JSON Lines on stdin/stdout. The SDK
owns both streams: before agent code is loaded, `claim_stdio()` keeps private copies of
the real stdin/stdout, points file descriptor 1 and `sys.stdout` at stderr (so `print`
in agent code becomes log output instead of protocol garbage) and points file descriptor
0 at /dev/null (so agent code cannot swallow runner messages).

Exit codes of `serve()`: 0 after `end` or on end of input, 1 when agent code raised
(traceback on stderr), 2 when act() returned something that is not JSON or the runner
sent a line that is not a JSON object. `SystemExit` raised by agent code is not caught:
`sys.exit(0)` inside an agent exits with code 0.

Standard library only; Python 3.9 or later.
"""

import json
import os
import sys

PROTOCOL = "rigor-agent/1"

__all__ = ["PROTOCOL", "claim_stdio", "serve", "run"]


def _log(message):
    try:
        sys.stderr.write("rigor_sdk: %s\n" % message)
        sys.stderr.flush()
    except Exception:
        pass


def _reads_fd0(stream):
    """Whether `stream` reads descriptor 0 (claim_stdio runs before anything reads it)."""
    try:
        return stream is not None and stream.fileno() == 0
    except Exception:  # noqa: BLE001  (replaced, detached or closed: make a fresh one)
        return False


def claim_stdio():
    """Take over the process's stdin/stdout for the protocol.

    Returns (reader, writer): binary streams on private duplicates of the original
    descriptors 0 and 1. Afterwards descriptor 1 and sys.stdout write to stderr, and
    descriptor 0 and sys.stdin read from /dev/null. Call it before importing agent code.
    """
    sys.stdout.flush()
    in_fd = os.dup(0)
    out_fd = os.dup(1)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    for fd in (in_fd, out_fd):
        try:
            os.set_inheritable(fd, False)  # child processes of the agent must not get them
        except OSError:
            pass
    sys.stdout = sys.stderr
    if not _reads_fd0(sys.stdin):
        sys.stdin = open(os.devnull, "r")  # else the stream on descriptor 0 now reads /dev/null
    reader = os.fdopen(in_fd, "rb")
    writer = os.fdopen(out_fd, "wb", buffering=0)
    return reader, writer


def _read_line(reader):
    """One line from the runner (bytes, without the newline), or None at end of input."""
    chunks = []
    while True:
        line = reader.readline()
        if not line:
            return b"".join(chunks) if chunks else None
        chunks.append(line)
        if line.endswith(b"\n"):
            return b"".join(chunks)[:-1]


def _write_line(writer, obj):
    data = json.dumps(obj, ensure_ascii=False, allow_nan=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8") + b"\n"
    view = memoryview(data)
    while view:
        written = writer.write(view)
        view = view[written:]
    writer.flush()


def _envelope(action):
    """Wrap act()'s return value; move an "intent" key to the envelope."""
    message = {"type": "action"}
    if isinstance(action, dict) and "intent" in action:
        action = dict(action)
        intent = action.pop("intent")
        if intent is not None:
            message["intent"] = intent if isinstance(intent, str) else str(intent)
    message["action"] = action
    return message


def serve(agent, reader, writer):
    """Run the protocol loop until `end` or end of input. Returns the exit code."""
    while True:
        line = _read_line(reader)
        if line is None:
            return 0
        try:
            message = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            _log("runner sent a line that is not JSON (%s)" % exc)
            return 2
        if not isinstance(message, dict):
            _log("runner sent a JSON value that is not an object")
            return 2
        kind = message.get("type")
        try:
            if kind == "reset":
                protocol = message.get("protocol")
                if protocol != PROTOCOL:
                    _log("runner speaks %r; this SDK speaks %r" % (protocol, PROTOCOL))
                agent.reset(message.get("task"))
            elif kind == "observe":
                agent.observe(message.get("observation"))
                action = agent.act()
                try:
                    envelope = _envelope(action)
                    _write_line(writer, envelope)
                except (TypeError, ValueError) as exc:
                    _log("act() returned a value that cannot be sent as JSON: %r (%s)"
                         % (action, exc))
                    return 2
            elif kind == "end":
                end = getattr(agent, "end", None)
                if callable(end):
                    end(message.get("outcome"))
                return 0
            else:
                _log("ignoring message of unknown type %r" % (kind,))
        except BrokenPipeError:
            # The runner stopped listening; nothing more can be said.
            return 0
        except Exception:
            import traceback  # only when an agent fails: it is slow to import

            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
            return 1


def run(agent):
    """Claim stdio and serve `agent`; for agents that build themselves in a script.

    Prefer the launcher (run_agent.py): it claims stdio before agent code is imported,
    so even import-time prints cannot reach the protocol stream.
    """
    reader, writer = claim_stdio()
    return serve(agent, reader, writer)
