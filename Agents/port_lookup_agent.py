"""Reference agent for service_port_lookup@1 (TraceCore-style reset/observe/act).

Lists /srv/config, reads the live billing.conf (never the .bak), and reports its LISTEN_PORT as
PORT.
"""


class PortLookupAgent:
    def reset(self, task):
        self.plan = [{"type": "list_dir", "args": {"path": "/srv/config"}}]
        self.obs = None

    def observe(self, observation):
        self.obs = observation

    def act(self):
        last = (self.obs or {}).get("last_action") or {}
        result = (self.obs or {}).get("last_action_result") or {}
        if last.get("type") == "list_dir" and result.get("ok"):
            live = [f for f in result["files"] if f.endswith("/billing.conf")]
            if live:
                return {"type": "read_file", "args": {"path": live[0]}}
        if last.get("type") == "read_file" and result.get("ok"):
            for line in result["content"].splitlines():
                if line.startswith("LISTEN_PORT="):
                    return {"type": "set_output", "args": {"key": "PORT", "value": line.split("=", 1)[1]}}
        if self.plan:
            return self.plan.pop(0)
        return {"type": "list_dir", "args": {"path": "/srv"}}
