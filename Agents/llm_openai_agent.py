"""Reference LLM agent for filesystem_hidden_config@1, written against the official `openai`
Python SDK, unmodified: the model decides every action.

It reaches the model only through Rigor's model gateway: `OpenAI()` reads OPENAI_BASE_URL and
OPENAI_API_KEY from the environment, which Rigor points at the gateway (the key is the placeholder
"rigor-gateway"; the gateway adds the real one upstream). The SDK's own retries are off
(max_retries=0): retrying is the gateway's business, and a retry here would be a second recorded
call. An API error is not caught: the agent exits and the episode ends with `agent_exited`.

Each act() sends PROMPT as the system prompt, the conversation so far, and the current
observation as a user message (json.dumps, sorted keys), then parses the first JSON object in
the reply as the action. A reply that holds no action gives a harmless list_dir of /app.

Which API and whether to stream follow from the seed (RIGOR_SEED; the SDK passes the task to
reset(), and the seed is in the environment), so a batch over seeds exercises all four:
seed % 4 = 0 Chat Completions, 1 Chat Completions streamed, 2 Responses, 3 Responses streamed.

VOLATILE = True adds a field that changes on every request (metadata.sent_at, the clock), so the
gateway's tests can show a request matcher ignoring it; leave it False for reproducible runs.

Needs the openai package: run it with an interpreter that has it, e.g.
    rigor run --python .build-venv-tools --agent Agents/llm_openai_agent.py \\
        --task filesystem_hidden_config@1 --seed 42
"""

import json
import os
import time

from openai import OpenAI

MODEL = "gpt-4o-mini"
VOLATILE = False
MODES = ("chat", "chat-stream", "responses", "responses-stream")
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


class LLMOpenAIAgent:
    def __init__(self):
        self.client = None
        self.reset(None)

    def reset(self, task_spec):
        self.task = task_spec
        self.seed = seed_of(task_spec)
        self.mode = MODES[self.seed % len(MODES)]
        self.history = []  # [{"role": ..., "content": ...}], without the system prompt
        self.obs = None
        self.last_usage = None  # (input tokens, output tokens) of the last call, as the SDK parsed them

    def observe(self, observation):
        self.obs = observation

    def act(self):
        if self.client is None:
            self.client = OpenAI(max_retries=0)
        self.history.append({"role": "user", "content": json.dumps(self.obs, sort_keys=True)})
        extra = {"metadata": {"sent_at": str(time.time())}} if VOLATILE else {}
        if self.mode.startswith("chat"):
            text = self._chat(extra)
        else:
            text = self._responses(extra)
        self.history.append({"role": "assistant", "content": text})
        action = parse_action(text)
        print("llm_openai_agent: %s reply %r, usage %s" % (self.mode, text, self.last_usage))
        return action if action is not None else dict(FALLBACK)

    def _chat(self, extra):
        messages = [{"role": "system", "content": PROMPT}] + self.history
        if self.mode == "chat":
            completion = self.client.chat.completions.create(model=MODEL, messages=messages, **extra)
            if completion.usage is not None:
                self.last_usage = (completion.usage.prompt_tokens, completion.usage.completion_tokens)
            return completion.choices[0].message.content or ""
        parts = []
        stream = self.client.chat.completions.create(model=MODEL, messages=messages, stream=True,
                                                     stream_options={"include_usage": True}, **extra)
        for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content:
                    parts.append(choice.delta.content)
            if chunk.usage is not None:
                self.last_usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        return "".join(parts)

    def _responses(self, extra):
        if self.mode == "responses":
            response = self.client.responses.create(model=MODEL, instructions=PROMPT, input=self.history, **extra)
            if response.usage is not None:
                self.last_usage = (response.usage.input_tokens, response.usage.output_tokens)
            return response.output_text
        parts = []
        stream = self.client.responses.create(model=MODEL, instructions=PROMPT, input=self.history, stream=True,
                                              **extra)
        for event in stream:
            if event.type == "response.output_text.delta":
                parts.append(event.delta)
            elif event.type == "response.completed" and event.response.usage is not None:
                self.last_usage = (event.response.usage.input_tokens, event.response.usage.output_tokens)
        return "".join(parts)
