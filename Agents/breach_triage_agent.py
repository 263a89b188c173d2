"""Reference agent for security_incident_triage@1 (TraceCore-style reset/observe/act).

Reads the incident report, takes the CONFIRMED line, lets the world's extract_value pull the
BREACH_TOKEN out of it, and reports that once.
"""


class BreachTriageAgent:
    def reset(self, task):
        self.obs = None

    def observe(self, observation):
        self.obs = observation

    def act(self):
        last = (self.obs or {}).get("last_action") or {}
        result = (self.obs or {}).get("last_action_result") or {}
        if last.get("type") == "read_file" and result.get("ok"):
            confirmed = [l for l in result["content"].splitlines() if l.startswith("CONFIRMED ")]
            return {"type": "extract_value", "args": {"content": "\n".join(confirmed), "key": "BREACH_TOKEN"}}
        if last.get("type") == "extract_value" and result.get("ok"):
            return {"type": "set_output", "args": {"key": "BREACH_TOKEN", "value": result["value"]}}
        return {"type": "read_file", "args": {"path": "/app/incidents/incident.md"}}
