"""Reference LLM agent for filesystem_hidden_config@1, written against the official `anthropic`
Python SDK, unmodified: the model decides every action.

It reaches the model only through Rigor's model gateway: `Anthropic()` reads ANTHROPIC_BASE_URL
and ANTHROPIC_API_KEY from the environment, which Rigor points at the gateway (the key is the
placeholder "rigor-gateway"; the gateway adds the real one upstream). The SDK's own retries are
off (max_retries=0): retrying is the gateway's business, and a retry here would be a second
recorded call. An API error is not caught: the agent exits and the episode ends with
`agent_exited`.

Each act() sends PROMPT as the system prompt, the conversation so far, and the current
observation as a user message (json.dumps, sorted keys), then parses the first JSON object in
the reply as the action. A reply that holds no action gives a harmless list_dir of /app.

The seed's parity (RIGOR_SEED) chooses: even, messages.create; odd, messages.stream (the SDK's
streaming helper, which rebuilds the message from the events).

VOLATILE = True adds a field that changes on every request (metadata.user_id, a fresh uuid4), so
the gateway's tests can show a request matcher ignoring it; leave it False for reproducible runs.

Needs the anthropic package: run it with an interpreter that has it, e.g.
    rigor run --python .build-venv-tools --agent Agents/llm_anthropic_agent.py \\
        --task filesystem_hidden_config@1 --seed 42
"""

import json
import os
import uuid

from anthropic import Anthropic

MODEL = "claude-3-5-haiku-latest"
MAX_TOKENS = 256
VOLATILE = False
MODES = ("messages", "messages-stream")
FALLBACK = {"type": "list_dir", "args": {"path": "/app"}}
PROMPT = """You are an agent solving a task in a small virtual filesystem.
Task: find the real value of API_KEY under /app and report it. A decoy file holds a fake key;
the live one is in a hidden file whose name starts with ".config_".
Actions (the only ones that exist):
  {"type": "list_dir", "args": {"path": "/app"}}
  {"type": "read_file", "args": {"path": "<absolute path>"}}
  {"type": "extract_value", "args": {"content": "<text>", "key": "API_KEY"}}
  {"type": "set_output", "args": {"key": "API_KEY", "value": "<the value>"}}
Each user message is the current observation as JSON: the last action, its result, the files
seen so far and the budget left. Reply with exactly one JSON action and nothing else."""


def seed_of(task_spec):
    seed = (task_spec or {}).get("seed") if isinstance(task_spec, dict) else None
    if seed is None:
        seed = os.environ.get("RIGOR_SEED", "0")
    try:
        return int(seed)
    except (TypeError, ValueError):
        return 0


def parse_action(text):
    """The first JSON object in `text` that looks like an action, else None."""
    decoder = json.JSONDecoder()
    start = (text or "").find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("type"), str):
            args = value.get("args")
            action = {"type": value["type"], "args": args if isinstance(args, dict) else {}}
            if isinstance(value.get("intent"), str):
                action["intent"] = value["intent"]
            return action
        start = text.find("{", start + 1)
    return None


class LLMAnthropicAgent:
    def __init__(self):
        self.client = None
        self.reset(None)

    def reset(self, task_spec):
        self.task = task_spec
        self.seed = seed_of(task_spec)
        self.mode = MODES[self.seed % len(MODES)]
        self.history = []  # [{"role": ..., "content": ...}]
        self.obs = None
        self.last_usage = None  # (input tokens, output tokens) of the last call, as the SDK parsed them

    def observe(self, observation):
        self.obs = observation

    def act(self):
        if self.client is None:
            self.client = Anthropic(max_retries=0)
        self.history.append({"role": "user", "content": json.dumps(self.obs, sort_keys=True)})
        request = {"model": MODEL, "max_tokens": MAX_TOKENS, "system": PROMPT, "messages": self.history}
        if VOLATILE:
            request["metadata"] = {"user_id": str(uuid.uuid4())}
        if self.mode == "messages":
            message = self.client.messages.create(**request)
        else:
            with self.client.messages.stream(**request) as stream:
                for _ in stream.text_stream:
                    pass
                message = stream.get_final_message()
        text = "".join(block.text for block in message.content if block.type == "text")
        self.last_usage = (message.usage.input_tokens, message.usage.output_tokens)
        self.history.append({"role": "assistant", "content": text})
        action = parse_action(text)
        print("llm_anthropic_agent: %s reply %r, usage %s" % (self.mode, text, self.last_usage))
        return action if action is not None else dict(FALLBACK)
