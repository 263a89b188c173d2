"""Reference agent for log_stream_monitor@1 (TraceCore-style reset/observe/act).

Polls the stream page by page from cursor 0 and reports the STREAM_CODE of the first entry
whose severity (its first word) is CRITICAL. Entries that merely mention a code (drills at
INFO) are ignored.
"""

KEY = "STREAM_CODE"


def critical_code(entries):
    for entry in entries:
        words = str(entry).split()
        if words and words[0] == "CRITICAL":
            for word in words:
                if word.startswith(KEY + "="):
                    return word.split("=", 1)[1]
    return None


class LogStreamMonitorAgent:
    def reset(self, task):
        self.obs = None
        self.cursor = 0
        self.code = None

    def observe(self, observation):
        self.obs = observation

    def act(self):
        obs = self.obs or {}
        last = (obs.get("last_action") or {}).get("type")
        result = obs.get("last_action_result") or {}
        if last == "poll_stream" and result.get("ok"):
            self.code = self.code or critical_code(result.get("entries") or [])
            if result.get("exhausted") and self.code is None:
                print("log_stream_monitor_agent: stream exhausted without a CRITICAL entry")
                self.cursor = 0
            else:
                self.cursor = result.get("next_cursor", self.cursor + 1)
        if self.code:
            return {"type": "set_output", "args": {"key": KEY, "value": self.code}}
        return {"type": "poll_stream", "args": {"cursor": self.cursor}}
