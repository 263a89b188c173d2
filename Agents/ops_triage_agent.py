"""Reference agent for the file-based operations tasks: log_alert_triage@1,
config_drift_remediation@1 and incident_recovery_chain@1 (TraceCore-style reset/observe/act).

Each task has a strategy written as a generator: it yields an action and receives that
action's result, so the plan reads top to bottom. All strategies first list the root and read
README.md for TARGET_KEY, then:

- log_alert_triage: read logs/service.log, follow the escalation line to the incident file,
  and extract its ALERT_CODE (resolved incidents carry stale codes);
- config_drift_remediation: read desired.conf and live.conf, compare them by key (live.conf is
  shuffled) and report the desired KEY=VALUE line of the key that differs;
- incident_recovery_chain: start at status.log and follow NEXT= until a file holds the token
  (archived hand-offs hold revoked tokens, so never read the folder blindly).
"""

ROOT = "/app"


def parse_kv(content):
    """KEY=VALUE lines of a file, first occurrence wins; comments skipped."""
    out = {}
    for line in content.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), value.strip())
    return out


def read(path):
    return {"type": "read_file", "args": {"path": path}}


def alert_triage(target):
    log = yield read(ROOT + "/logs/service.log")
    path = None
    for line in (log.get("content") or "").splitlines():
        if "escalation:" in line and "details in " in line:
            path = line.split("details in ", 1)[1].split()[0]
    if path is None:
        return
    incident = yield read(path)
    found = yield {"type": "extract_value", "args": {"content": incident.get("content", ""), "key": target}}
    if found.get("ok"):
        yield {"type": "set_output", "args": {"key": target, "value": found["value"]},
               "intent": "alert code of the escalated incident " + path}


def config_drift(target):
    desired = parse_kv((yield read(ROOT + "/config/desired.conf")).get("content", ""))
    live = parse_kv((yield read(ROOT + "/config/live.conf")).get("content", ""))
    for key, value in desired.items():
        if live.get(key) != value:
            yield {"type": "set_output", "args": {"key": target, "value": "%s=%s" % (key, value)},
                   "intent": "live %s=%s drifted" % (key, live.get(key))}
            return


def recovery_chain(target):
    path, visited = ROOT + "/status.log", set()
    while path and path not in visited:
        visited.add(path)
        fields = parse_kv((yield read(path)).get("content", ""))
        if target in fields:
            yield {"type": "set_output", "args": {"key": target, "value": fields[target]},
                   "intent": "token at the end of the chain, " + path}
            return
        path = fields.get("NEXT")


STRATEGIES = {
    "log_alert_triage": (alert_triage, "ALERT_CODE"),
    "config_drift_remediation": (config_drift, "DRIFT_PATCH"),
    "incident_recovery_chain": (recovery_chain, "RECOVERY_TOKEN"),
}


def plan(task_id):
    strategy, target = STRATEGIES[task_id]
    listing = yield {"type": "list_dir", "args": {"path": ROOT}}
    if ROOT + "/README.md" in (listing.get("files") or []):
        target = parse_kv((yield read(ROOT + "/README.md")).get("content", "")).get("TARGET_KEY", target)
    yield from strategy(target)


class OpsTriageAgent:
    def reset(self, task):
        self.task_id = (task or {}).get("id")
        self.plan = plan(self.task_id) if self.task_id in STRATEGIES else None
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
        print("ops_triage_agent: plan finished without an answer")
        return {"type": "list_dir", "args": {"path": ROOT}}
