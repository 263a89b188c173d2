"""Reference agent for multi_role_escalation@1 (TraceCore-style reset/observe/act).

Reads the three signal files, takes the analyst's last ANALYST_TOKEN, the manager's CONFIRMED
MANAGER_TOKEN and FINAL_FORMAT, and reports the filled format as ESCALATION_CODE.
"""

FILES = ["/app/conversations/analyst.log", "/app/conversations/manager_ack.txt", "/app/incidents/final.md"]


def _value(line, key):
    """The value of the KEY=value token on the line, or None."""
    for token in line.split():
        if token.startswith(key + "="):
            return token.split("=", 1)[1]
    return None


class MultiRoleEscalationAgent:
    def reset(self, task):
        self.pending = list(FILES)
        self.contents = {}
        self.obs = None

    def observe(self, observation):
        self.obs = observation
        last = observation.get("last_action") or {}
        result = observation.get("last_action_result") or {}
        if last.get("type") == "read_file" and result.get("ok"):
            self.contents[last["args"]["path"]] = result["content"]

    def act(self):
        if self.pending:
            return {"type": "read_file", "args": {"path": self.pending.pop(0)}}
        analyst = manager = fmt = None
        for line in self.contents.get(FILES[0], "").splitlines():
            if "superseded" not in line and _value(line, "ANALYST_TOKEN"):
                analyst = _value(line, "ANALYST_TOKEN")
        for line in self.contents.get(FILES[1], "").splitlines():
            if "CONFIRMED" in line:
                manager = _value(line, "MANAGER_TOKEN")
        for line in self.contents.get(FILES[2], "").splitlines():
            if line.startswith("FINAL_FORMAT="):
                fmt = line.split("=", 1)[1]
        code = (fmt or "").replace("{ANALYST_TOKEN}", analyst or "").replace("{MANAGER_TOKEN}", manager or "")
        return {"type": "set_output", "args": {"key": "ESCALATION_CODE", "value": code}}
