"""Toy reference agent for filesystem_hidden_config@1 (TraceCore-style: reset/observe/act).

Strategy: list /app, read its files with the hidden `.config_*` files first, extract
API_KEY from each file that has one and report it with set_output. The hidden file's
value is reported first, which ends the episode with success; if the episode somehow
goes on, the remaining files are tried, and the hidden value is reported again last.
It never sends `wait` (the task does not declare it). Logging goes through print(),
which the SDK sends to stderr.

Run it with: rigor run --agent Agents/toy_agent.py --task filesystem_hidden_config@1 --seed 42
"""

import os

ROOT = "/app"
KEY = "API_KEY"


def _hidden_first(paths):
    return sorted(paths, key=lambda p: (not os.path.basename(p).startswith(".config_"), p))


class ToyAgent:
    def __init__(self):
        self.reset(None)

    def reset(self, task_spec):
        self.task = task_spec
        self.obs = None
        self.listed = False
        self.to_read = []
        self.read = set()
        self.best = None  # value found in a hidden .config_ file
        self.current = None  # the file whose content is being examined
        self.plan = []  # actions queued for the next acts

    def observe(self, observation):
        self.obs = observation

    def act(self):
        self._learn()
        if self.plan:
            return self.plan.pop(0)
        if not self.listed:
            return {"type": "list_dir", "args": {"path": ROOT}}
        while self.to_read:
            path = self.to_read.pop(0)
            if path not in self.read:
                self.read.add(path)
                return {"type": "read_file", "args": {"path": path}}
        if self.best is not None:
            return {"type": "set_output", "args": {"key": KEY, "value": self.best},
                    "intent": "report the hidden config's value again"}
        # Nothing found: look again (the budget will end the episode).
        return {"type": "list_dir", "args": {"path": ROOT}}

    def _learn(self):
        """Update memory from the last action's result."""
        obs = self.obs or {}
        action = obs.get("last_action") or {}
        result = obs.get("last_action_result") or {}
        kind = action.get("type")
        args = action.get("args") or {}
        if not result.get("ok"):
            if result:
                print("toy_agent: %s failed: %s" % (kind, result.get("error")))
            return
        if kind == "list_dir":
            self.listed = True
            self.to_read = _hidden_first(result.get("files", []))
            print("toy_agent: reading in this order: %s" % self.to_read)
        elif kind == "read_file":
            content = result.get("content", "")
            if (KEY + "=") in content:
                self.current = args.get("path", "")
                self.plan.append({"type": "extract_value",
                                  "args": {"content": content, "key": KEY}})
        elif kind == "extract_value":
            value = result.get("value")
            path = self.current or ""
            if os.path.basename(path).startswith(".config_"):
                self.best = value
            print("toy_agent: %s holds %s=%s" % (path, KEY, value))
            self.plan.append({"type": "set_output", "args": {"key": KEY, "value": value},
                              "intent": "report %s from %s" % (KEY, path)})
