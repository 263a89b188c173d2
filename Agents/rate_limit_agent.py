"""Reference agent for rate_limited_api@1 (TraceCore-style reset/observe/act).

Strategy: read the client config, call /token with it; on rate_limited wait exactly
retry_after steps (wait costs no tool call), on temporary_failure retry at once, on
bad_request re-read the config; report the token as ACCESS_TOKEN.
"""

OUTPUT_KEY = "ACCESS_TOKEN"


class RateLimitAgent:
    def reset(self, task):
        self.obs = None
        self.payload = None
        self.token = None

    def observe(self, observation):
        self.obs = observation

    def act(self):
        obs = self.obs or {}
        last = (obs.get("last_action") or {}).get("type")
        result = obs.get("last_action_result") or {}
        if last == "get_client_config" and result.get("ok"):
            self.payload = dict(result.get("payload_template") or {})
        if last == "call_api":
            if result.get("ok"):
                self.token = (result.get("data") or {}).get("token")
            elif result.get("error") == "rate_limited":
                return {"type": "wait", "args": {"steps": max(1, int(result.get("retry_after", 1)))},
                        "intent": "honour retry_after"}
            elif result.get("error") == "bad_request":
                self.payload = None
        if self.token:
            return {"type": "set_output", "args": {"key": OUTPUT_KEY, "value": self.token}}
        if self.payload is None:
            return {"type": "get_client_config", "args": {}}
        return {"type": "call_api", "args": {"endpoint": "/token", "payload": self.payload}}
