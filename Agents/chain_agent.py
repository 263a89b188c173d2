"""Reference agent for rate_limited_chain@1 and deterministic_rate_service@1.

Strategy: fetch the required payload and the handshake template, open a handshake, commit it
at once with the phrase filled in, then call /token with the payload template filled
(every "<handshake_id>" replaced, plus "handshake_id"). rate_limited: wait exactly
retry_after (calling early is punished by the stricter service); temporary_failure: retry at
once; any handshake error or bad_request: start a new handshake. Reports ACCESS_TOKEN.
"""

OUTPUT_KEY = "ACCESS_TOKEN"
RESTART = {"handshake_required", "invalid_handshake", "handshake_expired", "wrong_phrase", "bad_request"}


def phrase_from(template, handshake_id):
    """The text after 'respond with:' up to the end of its line, with the id filled in."""
    text = template.replace("<handshake_id>", handshake_id)
    marker = text.lower().find("respond with:")
    if marker >= 0:
        text = text[marker + len("respond with:"):]
    return text.splitlines()[0].strip().rstrip(".") if text.strip() else ""


class ChainAgent:
    def reset(self, task):
        self.obs = None
        self.payload = None
        self.template = None
        self.handshake_id = None
        self.confirmed = False
        self.token = None

    def observe(self, observation):
        self.obs = observation

    def _call(self, endpoint, payload=None):
        return {"type": "call_api", "args": {"endpoint": endpoint, "payload": payload}}

    def act(self):
        obs = self.obs or {}
        action = obs.get("last_action") or {}
        result = obs.get("last_action_result") or {}
        kind = action.get("type")
        if kind == "get_required_payload" and result.get("ok"):
            self.payload = dict(result.get("payload_template") or {})
        elif kind == "get_handshake_template" and result.get("ok"):
            self.template = result.get("template") or ""
        elif kind == "call_api":
            endpoint = (action.get("args") or {}).get("endpoint")
            error = result.get("error")
            if result.get("ok"):
                if endpoint == "/handshake":
                    self.handshake_id, self.confirmed = result.get("handshake_id"), False
                elif endpoint == "/handshake_commit":
                    self.confirmed = True
                elif endpoint == "/token":
                    self.token = (result.get("data") or {}).get("token")
            elif error == "rate_limited":
                return {"type": "wait", "args": {"steps": max(1, int(result.get("retry_after", 1)))},
                        "intent": "honour retry_after"}
            elif error in RESTART:
                self.handshake_id, self.confirmed = None, False

        if self.token:
            return {"type": "set_output", "args": {"key": OUTPUT_KEY, "value": self.token}}
        if self.payload is None:
            return {"type": "get_required_payload", "args": {}}
        if self.template is None:
            return {"type": "get_handshake_template", "args": {}}
        if self.handshake_id is None:
            return self._call("/handshake")
        if not self.confirmed:
            return self._call("/handshake_commit", {"handshake_id": self.handshake_id,
                                                    "response": phrase_from(self.template, self.handshake_id)})
        payload = {k: (v.replace("<handshake_id>", self.handshake_id) if isinstance(v, str) else v)
                   for k, v in self.payload.items()}
        payload["handshake_id"] = self.handshake_id
        return self._call("/token", payload)
