#!/usr/bin/env python3
"""An offline, scripted stand-in for a model provider: the upstream of Rigor's model gateway in
tests and benchmarks (CI never reaches a real model).

    python3 scripts/fake-model-upstream.py [--port N] [--script FILE] [--fault SPEC ...]
        [--flaky P --flaky-seed S [--flaky-reply TEXT]] [--log FILE]

Binds 127.0.0.1 (port 0: any free port), prints exactly one line `listening on <port>` to stdout,
and serves HTTP/1.1 with keep-alive until SIGTERM or SIGINT. Standard library only.

It speaks the wire formats the official SDKs parse (openai, anthropic):

    POST /v1/chat/completions   OpenAI Chat Completions; stream=true: `data: {chunk}` lines, the
                                content split over several deltas, a finish chunk, a usage chunk
                                when stream_options.include_usage, then `data: [DONE]`
    POST /v1/responses          OpenAI Responses; stream=true: `event:`/`data:` pairs from
                                response.created to response.completed
    POST /v1/messages           Anthropic Messages; stream=true: message_start ... message_stop
    GET  /v1/models             a model list (Anthropic's shape when `anthropic-version` is sent)
    anything else               404 with an error JSON

Every answer is a function of the request body: ids and `created` come from its SHA-256, never
from the clock, and token counts are len(text)/4 rounded up, so a recording is reproducible.
Non-streamed answers carry Content-Length; streamed ones use chunked transfer encoding, one chunk
per event, as the providers do.

The "model". By default a tiny deterministic policy for filesystem_hidden_config@1: it reads the
observation JSON in the latest user message and replies with one action as JSON text: list /app,
then read the hidden `/app/.config_*` file, then set_output API_KEY to the value it holds.
  --script FILE   a JSON list of reply texts: the first answered call gets item 0, the second
                  item 1, ... (a call answered with a fault takes no item); an item that is not
                  a string is sent as its JSON text, null means "the policy"; after the last item
                  the policy answers.
  --flaky P       with probability P a reply is a wrong action instead (default: reading
                  /etc/passwd, a sandbox violation that ends the episode; --flaky-reply TEXT
                  sets it). The draw is seeded by --flaky-seed, the request's hash, and how many
                  times this server has already seen that exact request, so asking the same
                  question again (blame's samples) draws afresh, and a new server with the same
                  seed, sent the same requests in the same order, answers the same.

Faults (`--fault SPEC`, repeatable; or POST /_control/fault with one spec, a JSON list of specs,
or {"faults": [...]}). CALL counts model calls (the three POST endpoints) from 1; `+K` means K
calls after those served so far, `*` every call.
    status:CALL:CODE   answer with HTTP CODE and the provider's error JSON
    drop:CALL          close the connection halfway through the response
    slow:CALL:MS       sleep MS milliseconds before answering (then answer as usual)
    garbage:CALL       a 200 whose body is not JSON (non-streamed) or whose SSE data is broken
GET /_control/calls answers {"calls": N}, the model calls received so far (faulted ones too).

--log FILE appends one JSON line per /v1 request: call number, method, path, the credentials it
carried (`auth`: the Authorization value, else the x-api-key value; both also apart), model,
stream, the faults applied, the body's SHA-256 and length (after undoing chunked transfer and
gzip/deflate content encoding), and every request header in the order received, so a test can
check that the gateway injected the real key and passed on what the SDK sent.
"""

import argparse
import gzip
import hashlib
import json
import random
import re
import signal
import socket
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_PATHS = ("/v1/chat/completions", "/v1/responses", "/v1/messages")
WRONG_ACTION = {"type": "read_file", "args": {"path": "/etc/passwd"}}
FAULT_KINDS = {"status": 2, "drop": 1, "slow": 2, "garbage": 1}
DELTA_CHARS = 12  # characters per streamed content delta
OPENAI_ERRORS = {400: "invalid_request_error", 401: "invalid_request_error", 403: "invalid_request_error",
                 404: "invalid_request_error", 429: "rate_limit_exceeded"}
ANTHROPIC_ERRORS = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                    404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                    529: "overloaded_error"}


def tokens(text):
    """A deterministic token count: one per 4 characters, at least 1."""
    return max(1, (len(text) + 3) // 4)


def texts_of(content):
    """The text in a message's content: a string, or a list of parts with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(texts_of(p.get("text", p.get("content"))) if isinstance(p, dict) else texts_of(p)
                         for p in content)
    return ""


def conversation(path, body):
    """(all prompt text, latest user text) of a request, whichever API it speaks."""
    if path == "/v1/responses":
        items = body.get("input")
        items = [{"role": "user", "content": items}] if isinstance(items, str) else items or []
        system = texts_of(body.get("instructions"))
    else:
        items = body.get("messages") or []
        system = texts_of(body.get("system"))
    items = [m for m in items if isinstance(m, dict)]
    prompt = "\n".join([system] + [texts_of(m.get("content")) for m in items])
    users = [texts_of(m.get("content")) for m in items if m.get("role", "user") == "user"]
    return prompt, (users[-1] if users else "")


def first_json_object(text):
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def policy(user_text):
    """filesystem_hidden_config@1 in three moves, from the latest observation alone."""
    obs = first_json_object(user_text) or {}
    seen = (obs.get("visible_state") or {}).get("files_seen") or []
    hidden = sorted(p for p in seen if isinstance(p, str) and p.rsplit("/", 1)[-1].startswith(".config_"))
    last = obs.get("last_action") or {}
    result = obs.get("last_action_result") or {}
    if not hidden:
        return {"type": "list_dir", "args": {"path": "/app"}}
    if last.get("type") == "read_file" and result.get("ok") and (last.get("args") or {}).get("path") == hidden[0]:
        for line in str(result.get("content", "")).splitlines():
            if line.strip().startswith("API_KEY="):
                return {"type": "set_output", "args": {"key": "API_KEY", "value": line.split("=", 1)[1].strip()}}
    return {"type": "read_file", "args": {"path": hidden[0]}}


class Upstream:
    """The server's shared state: call counter, faults, script, flaky draws, log."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.calls = 0
        self.answered = 0
        self.seen = {}  # request hash -> times seen (for flaky draws)
        self.faults = []  # (call number or "*", kind, value)
        self.script = []
        if args.script:
            with open(args.script, encoding="utf-8") as f:
                self.script = json.load(f)
            if not isinstance(self.script, list):
                raise ValueError("--script %s: expected a JSON list of reply texts" % args.script)
        self.flaky = args.flaky
        self.flaky_seed = args.flaky_seed
        self.flaky_reply = args.flaky_reply or json.dumps(WRONG_ACTION)
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None
        for spec in args.fault or []:
            self.add_fault(spec)

    def add_fault(self, spec):
        parts = str(spec).split(":")
        kind = parts[0]
        if kind not in FAULT_KINDS or len(parts) != 1 + FAULT_KINDS[kind]:
            raise ValueError("fault %r: expected status:CALL:CODE, drop:CALL, slow:CALL:MS or garbage:CALL" % spec)
        call, value = parts[1], (int(parts[2]) if len(parts) > 2 else None)
        with self.lock:
            if call == "*":
                number = "*"
            elif call.startswith("+"):
                number = self.calls + int(call[1:])
            else:
                number = int(call)
            if number != "*" and number < 1:
                raise ValueError("fault %r: calls count from 1" % spec)
            self.faults.append((number, kind, value))
        return "%s:%s%s" % (kind, number, "" if value is None else ":%d" % value)

    def begin_call(self):
        """Number this model call; its faults, slow first."""
        with self.lock:
            self.calls += 1
            number = self.calls
            faults = [(k, v) for (n, k, v) in self.faults if n in (number, "*")]
        return number, sorted(faults, key=lambda f: f[0] != "slow")

    def reply(self, user_text, digest):
        """The model's reply text for a call that is answered."""
        with self.lock:
            index = self.answered
            self.answered += 1
            occurrence = self.seen.get(digest, 0)
            self.seen[digest] = occurrence + 1
        if index < len(self.script) and self.script[index] is not None:
            item = self.script[index]
            return item if isinstance(item, str) else json.dumps(item)
        if self.flaky > 0:
            key = hashlib.sha256(("%d:%d:%s" % (self.flaky_seed, occurrence, digest)).encode()).digest()
            if random.Random(int.from_bytes(key[:8], "big")).random() < self.flaky:
                return self.flaky_reply
        return json.dumps(policy(user_text))

    def record(self, entry):
        if self.log is not None:
            with self.lock:
                self.log.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.log.flush()


def sse(event, data):
    """One server-sent event; `event` None writes the data line alone (OpenAI chat)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = "" if event is None else "event: %s\n" % event
    return (head + "data: %s\n\n" % payload).encode("utf-8")


def pieces(text):
    return [text[i:i + DELTA_CHARS] for i in range(0, len(text), DELTA_CHARS)] or [""]


class Exchange:
    """What one model call is about: ids, counts and the reply, all from the request."""

    def __init__(self, path, body, digest, reply, prompt):
        self.path, self.body, self.reply = path, body, reply
        self.model = str(body.get("model") or "fake-model")
        self.id_hex = digest[:24]
        self.created = 1700000000 + int(digest[24:32], 16) % 100000000
        self.prompt_tokens = tokens(prompt)
        self.completion_tokens = tokens(reply)

    # OpenAI Chat Completions -------------------------------------------------------------
    def chat(self):
        return {"id": "chatcmpl-" + self.id_hex, "object": "chat.completion", "created": self.created,
                "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply, "refusal": None,
                                                     "annotations": []},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": self.chat_usage(), "service_tier": "default", "system_fingerprint": "fp_rigorfake"}

    def chat_usage(self):
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}

    def chat_events(self):
        include_usage = bool((self.body.get("stream_options") or {}).get("include_usage"))

        def chunk(choices, usage=None):
            out = {"id": "chatcmpl-" + self.id_hex, "object": "chat.completion.chunk", "created": self.created,
                   "model": self.model, "service_tier": "default", "system_fingerprint": "fp_rigorfake",
                   "choices": choices}
            if include_usage:
                out["usage"] = usage
            return sse(None, out)

        def choice(delta, finish=None):
            return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

        yield chunk(choice({"role": "assistant", "content": "", "refusal": None}))
        for piece in pieces(self.reply):
            yield chunk(choice({"content": piece}))
        yield chunk(choice({}, "stop"))
        if include_usage:
            yield chunk([], self.chat_usage())
        yield sse(None, "[DONE]")

    # OpenAI Responses --------------------------------------------------------------------
    def message_item(self, status="completed", text=None):
        content = [] if text is None else [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}]
        return {"id": "msg_" + self.id_hex, "type": "message", "status": status, "content": content,
                "role": "assistant"}

    def response(self, status="completed"):
        done = status == "completed"
        return {"id": "resp_" + self.id_hex, "object": "response", "created_at": self.created, "status": status,
                "background": False, "error": None, "incomplete_details": None,
                "instructions": self.body.get("instructions"), "max_output_tokens": self.body.get("max_output_tokens"),
                "model": self.model, "output": [self.message_item(text=self.reply)] if done else [],
                "parallel_tool_calls": True, "previous_response_id": None,
                "reasoning": {"effort": None, "summary": None}, "service_tier": "default", "store": True,
                "temperature": 1.0, "text": {"format": {"type": "text"}, "verbosity": "medium"},
                "tool_choice": "auto", "tools": [], "top_p": 1.0, "truncation": "disabled",
                "usage": {"input_tokens": self.prompt_tokens, "input_tokens_details": {"cached_tokens": 0},
                          "output_tokens": self.completion_tokens,
                          "output_tokens_details": {"reasoning_tokens": 0},
                          "total_tokens": self.prompt_tokens + self.completion_tokens} if done else None,
                "user": self.body.get("user"), "metadata": self.body.get("metadata") or {}}

    def responses_events(self):
        seq = iter(range(1 << 30))
        item_id = "msg_" + self.id_hex

        def event(kind, **fields):
            return sse(kind, dict({"type": kind, "sequence_number": next(seq)}, **fields))

        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        where = {"item_id": item_id, "output_index": 0, "content_index": 0}
        yield event("response.created", response=self.response("in_progress"))
        yield event("response.in_progress", response=self.response("in_progress"))
        yield event("response.output_item.added", output_index=0, item=self.message_item("in_progress", None))
        yield event("response.content_part.added", part=part, **where)
        for piece in pieces(self.reply):
            yield event("response.output_text.delta", delta=piece, logprobs=[], **where)
        yield event("response.output_text.done", text=self.reply, logprobs=[], **where)
        yield event("response.content_part.done", part=dict(part, text=self.reply), **where)
        yield event("response.output_item.done", output_index=0, item=self.message_item(text=self.reply))
        yield event("response.completed", response=self.response())

    # Anthropic Messages ------------------------------------------------------------------
    def message(self, streaming=False):
        return {"id": "msg_01" + self.id_hex, "type": "message", "role": "assistant", "model": self.model,
                "content": [] if streaming else [{"type": "text", "text": self.reply}],
                "stop_reason": None if streaming else "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": self.prompt_tokens, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 0,
                          "output_tokens": 1 if streaming else self.completion_tokens,
                          "service_tier": "standard"}}

    def messages_events(self):
        yield sse("message_start", {"type": "message_start", "message": self.message(streaming=True)})
        yield sse("content_block_start", {"type": "content_block_start", "index": 0,
                                          "content_block": {"type": "text", "text": ""}})
        yield sse("ping", {"type": "ping"})
        for piece in pieces(self.reply):
            yield sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                              "delta": {"type": "text_delta", "text": piece}})
        yield sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        yield sse("message_delta", {"type": "message_delta",
                                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                    "usage": {"output_tokens": self.completion_tokens}})
        yield sse("message_stop", {"type": "message_stop"})

    # -------------------------------------------------------------------------------------
    def document(self):
        if self.path == "/v1/chat/completions":
            return json.dumps(self.chat(), ensure_ascii=False, indent=2).encode("utf-8")
        if self.path == "/v1/responses":
            return json.dumps(self.response(), ensure_ascii=False, indent=2).encode("utf-8")
        return json.dumps(self.message(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def events(self):
        return {"/v1/chat/completions": self.chat_events, "/v1/responses": self.responses_events,
                "/v1/messages": self.messages_events}[self.path]()


def error_body(path, code, message):
    if path.startswith("/v1/messages"):
        kind = ANTHROPIC_ERRORS.get(code, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    kind = OPENAI_ERRORS.get(code, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one event per write: Nagle + delayed ACK would stall each by 40 ms
    server_version = "fake-model-upstream/1"
    upstream = None  # set in main

    def log_message(self, format, *args):  # quiet: stdout holds the port line only
        pass

    def send_response(self, code, message=None):
        # No Date header: every byte of an answer is a function of the request, never the clock.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.server_version)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
            data = bytes(data)
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
        return data

    def send(self, code, body, content_type="application/json", extra=()):
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def drop(self):
        """Close the connection now, whatever was sent."""
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        path = self.path.split("?", 1)[0]
        try:
            raw = self.read_body()
        except (ValueError, OSError, zlib.error) as exc:
            self.close_connection = True  # where the next request starts is unknown
            return self.send(400, error_body(path, 400, "unreadable request body: %s" % exc))
        up = self.upstream
        if path == "/_control/calls" and method == "GET":
            with up.lock:
                return self.send(200, {"calls": up.calls})
        if path == "/_control/fault" and method == "POST":
            return self.control_fault(raw)
        if not path.startswith("/v1/"):
            return self.send(404, error_body(path, 404, "no route %s %s" % (method, path)))
        body, call, faults = {}, None, []
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        if path in MODEL_PATHS and method == "POST":
            call, faults = up.begin_call()
        up.record({"call": call, "method": method, "path": path, "auth": self.auth(),
                   "authorization": self.headers.get("Authorization"), "x_api_key": self.headers.get("x-api-key"),
                   "model": body.get("model") if isinstance(body, dict) else None,
                   "stream": bool(body.get("stream")) if isinstance(body, dict) else False,
                   "fault": ["%s%s" % (k, "" if v is None else ":%d" % v) for k, v in faults] or None,
                   "body_sha256": hashlib.sha256(raw).hexdigest(), "body_bytes": len(raw),
                   "headers": [[k, v] for k, v in self.headers.items()]})
        if call is None:
            if path == "/v1/models" and method == "GET":
                return self.send(200, self.models())
            return self.send(404, error_body(path, 404, "no route %s %s" % (method, path)))
        if not isinstance(body, dict):
            return self.send(400, error_body(path, 400, "the request body is not a JSON object"))
        self.answer(path, raw, body, call, faults)

    def auth(self):
        return self.headers.get("Authorization") or self.headers.get("x-api-key")

    def models(self):
        names = ["gpt-4o-mini", "claude-3-5-haiku-latest", "fake-model"]
        if self.headers.get("anthropic-version"):
            data = [{"type": "model", "id": n, "display_name": n, "created_at": "2024-10-22T00:00:00Z"} for n in names]
            return {"data": data, "has_more": False, "first_id": names[0], "last_id": names[-1]}
        return {"object": "list", "data": [{"id": n, "object": "model", "created": 1700000000, "owned_by": "rigor"}
                                           for n in names]}

    def control_fault(self, raw):
        text = raw.decode("utf-8", "replace").strip()
        try:
            value = json.loads(text)
        except ValueError:
            value = text.split()
        if isinstance(value, dict):
            value = value.get("faults", value.get("fault"))
        specs = value if isinstance(value, list) else [value]
        try:
            added = [self.upstream.add_fault(s) for s in specs if s]
        except ValueError as exc:
            return self.send(400, {"error": {"message": str(exc), "type": "invalid_request_error"}})
        self.send(200, {"ok": True, "added": added})

    def answer(self, path, raw, body, call, faults):
        digest = hashlib.sha256(raw).hexdigest()
        for kind, value in faults:
            if kind == "slow":
                time.sleep(value / 1000.0)
        kind, value = next(((k, v) for k, v in faults if k != "slow"), (None, None))
        request_id = ("req_" if path != "/v1/messages" else "req_01") + digest[:24]
        id_header = [("x-request-id" if path != "/v1/messages" else "request-id", request_id)]
        if kind == "status":
            message = "fake upstream: status fault on call %d" % call
            return self.send(value, error_body(path, value, message), extra=id_header)
        prompt, user_text = conversation(path, body)
        # A broken answer takes no script item; its (partly sent) content is the first move.
        reply = json.dumps(policy("")) if kind in ("drop", "garbage") else self.upstream.reply(user_text, digest)
        exchange = Exchange(path, body, digest, reply, prompt)
        if not body.get("stream"):
            data = exchange.document()
            if kind == "garbage":
                data = data[: len(data) // 2] + b"\x00<not json"
            if kind == "drop":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, header in id_header:
                    self.send_header(name, header)
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                return self.drop()
            return self.send(200, data, extra=id_header)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        for name, header in id_header:
            self.send_header(name, header)
        self.end_headers()
        events = list(exchange.events())
        if kind == "garbage":
            events = events[:2] + [b"data: {\"broken\": \n\n", b"event: message_delta\ndata: not json at all\n\n"] \
                + events[-1:]
        for index, event in enumerate(events):
            if kind == "drop" and index == len(events) // 2:
                self.wfile.write(b"%x\r\n" % len(event) + event[: len(event) // 2])
                return self.drop()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--script", help="JSON list of reply texts, by answered call")
    parser.add_argument("--fault", action="append", metavar="SPEC", help="status:CALL:CODE, drop:CALL, "
                        "slow:CALL:MS or garbage:CALL (CALL: a number, +K, or *); repeatable")
    parser.add_argument("--flaky", type=float, default=0.0, metavar="P", help="probability of a wrong reply")
    parser.add_argument("--flaky-seed", type=int, default=0, metavar="S", help="seed of the flaky draws")
    parser.add_argument("--flaky-reply", metavar="TEXT", help="the wrong reply (default: %s)" % json.dumps(WRONG_ACTION))
    parser.add_argument("--log", metavar="FILE", help="append one JSON line per /v1 request")
    args = parser.parse_args(argv)
    try:
        Handler.upstream = Upstream(args)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    except OSError as exc:
        sys.stderr.write("fake-model-upstream: cannot listen on 127.0.0.1:%d: %s\n" % (args.port, exc))
        return 1
    server.daemon_threads = True

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # also when started in the background, where SIGINT is ignored
    sys.stdout.write("listening on %d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
