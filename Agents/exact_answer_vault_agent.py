"""Reference agent for exact_answer_vault@1 (TraceCore-style reset/observe/act).

The task allows one submission, so this agent verifies before it answers: it reads
ACTIVE_SEAL from the ledger, then reads slots until one's SEAL matches, and only then
reports that slot's VAULT_CODE. It never submits a candidate it has not matched.
"""

ROOT = "/app/vault"
KEY = "VAULT_CODE"


def parse_kv(content):
    out = {}
    for line in content.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), value.strip())
    return out


def read(path):
    return {"type": "read_file", "args": {"path": path}}


def plan():
    seal = parse_kv((yield read(ROOT + "/ledger.txt")).get("content", "")).get("ACTIVE_SEAL")
    listing = yield {"type": "list_dir", "args": {"path": ROOT + "/slots"}}
    for path in listing.get("files") or []:
        slot = parse_kv((yield read(path)).get("content", ""))
        if seal and slot.get("SEAL") == seal and slot.get(KEY):
            yield {"type": "set_output", "args": {"key": KEY, "value": slot[KEY]},
                   "intent": "slot %s matches ACTIVE_SEAL %s" % (path, seal)}
            return
    print("exact_answer_vault_agent: no slot matches; not guessing")


class ExactAnswerVaultAgent:
    def reset(self, task):
        self.plan = plan()
        self.started = False
        self.obs = None

    def observe(self, observation):
        self.obs = observation

    def act(self):
        result = (self.obs or {}).get("last_action_result") or {}
        try:
            if self.plan is not None:
                action = self.plan.send(result) if self.started else next(self.plan)
                self.started = True
                return action
        except StopIteration:
            self.plan = None
        return {"type": "list_dir", "args": {"path": ROOT}}
