"""Hostile to reproducibility: its first action carries a value from an unseeded random source
and the clock, then it solves the task like the toy agent.

Expected: each run succeeds, but two runs differ at step 1 (the action's value), so
`rigor replay` reports non_deterministic and `rigor run --record` refuses to seal it.
"""

import os
import time


class Agent:
    def reset(self, task):
        self.nonce = "%s-%d" % (os.urandom(6).hex(), time.time_ns())
        self.sent_nonce = False
        self.obs = None
        self.queue = []

    def observe(self, observation):
        self.obs = observation

    def act(self):
        if not self.sent_nonce:
            self.sent_nonce = True
            return {"type": "set_output", "args": {"key": "NONCE", "value": self.nonce}}
        last = self.obs.get("last_action") or {}
        result = self.obs.get("last_action_result") or {}
        if last.get("type") == "read_file" and result.get("ok"):
            return {"type": "extract_value", "args": {"content": result["content"], "key": "API_KEY"}}
        if last.get("type") == "extract_value" and result.get("ok"):
            return {"type": "set_output", "args": {"key": "API_KEY", "value": result["value"]}}
        files = self.obs["visible_state"]["files_seen"]
        if not files:
            return {"type": "list_dir", "args": {"path": "/app"}}
        hidden = [f for f in files if f.rsplit("/", 1)[-1].startswith(".config_")]
        return {"type": "read_file", "args": {"path": (hidden or files)[0]}}
