"""Reference agent for runbook_verifier@1 (TraceCore-style reset/observe/act).

Reads sequence.log for the execution record (ignoring the planned order in runbook/index.md),
keeps the phases that reached STATUS=complete in the order they completed, reads each of
those phases' PHASE_CODE, then ACK_ID from timeline.log and HANDOFF_TOKEN from handoff.md, and
reports CODE+...+ACK_ID+HANDOFF_TOKEN as RUNBOOK_CHECKSUM.
"""

ROOT = "/app"


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


def completed_phases(sequence):
    """Phase names in the order they completed."""
    done = []
    for line in sequence.splitlines():
        fields = dict(w.split("=", 1) for w in line.split() if "=" in w)
        if fields.get("STATUS") == "complete" and fields.get("PHASE") and fields["PHASE"] not in done:
            done.append(fields["PHASE"])
    return done


def plan():
    readme = parse_kv((yield read(ROOT + "/README.md")).get("content", ""))
    target = readme.get("TARGET_KEY", "RUNBOOK_CHECKSUM")
    listing = yield {"type": "list_dir", "args": {"path": ROOT + "/runbook"}}
    files = set(listing.get("files") or [])
    phases = completed_phases((yield read(ROOT + "/sequence.log")).get("content", ""))
    codes = []
    for name in phases:
        path = "%s/runbook/%s.md" % (ROOT, name)
        if path not in files:
            print("runbook_verifier_agent: no file for phase", name)
            return
        codes.append(parse_kv((yield read(path)).get("content", "")).get("PHASE_CODE", ""))
    ack = parse_kv((yield read(ROOT + "/timeline.log")).get("content", "")).get("ACK_ID", "")
    handoff = parse_kv((yield read(ROOT + "/handoff.md")).get("content", "")).get("HANDOFF_TOKEN", "")
    yield {"type": "set_output", "args": {"key": target, "value": "+".join(codes + [ack, handoff])},
           "intent": "phases in execution order: " + ", ".join(phases)}


class RunbookVerifierAgent:
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
