"""Reference agent for customer_support_escalation@1 (TraceCore-style reset/observe/act).

Reads the manager transcript and reports the ESCALATION_CODE of the CONFIRMED line (never the
responder's draft).
"""


class EscalationAgent:
    def reset(self, task):
        self.obs = None

    def observe(self, observation):
        self.obs = observation

    def act(self):
        last = (self.obs or {}).get("last_action") or {}
        result = (self.obs or {}).get("last_action_result") or {}
        if last.get("type") == "read_file" and result.get("ok"):
            for line in result["content"].splitlines():
                if "CONFIRMED" in line and "ESCALATION_CODE=" in line:
                    code = line.split("ESCALATION_CODE=", 1)[1].split()[0]
                    return {"type": "set_output", "args": {"key": "ESCALATION_CODE", "value": code}}
        return {"type": "read_file", "args": {"path": "/app/conversations/manager_ack.txt"}}
