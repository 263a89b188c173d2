"""World of multi_role_escalation@1, written with the Rigor task SDK (Agents/tasks_sdk).

Files under /app: README.md; conversations/analyst.log (a superseded ANALYST_TOKEN, then the
confirmed one); conversations/manager_ack.txt (a proposed MANAGER_TOKEN, then the CONFIRMED
one); incidents/final.md (FINAL_FORMAT, a template over {ANALYST_TOKEN} and {MANAGER_TOKEN}).
The answer is FINAL_FORMAT with the two confirmed tokens filled in.

Draws from env.rng, in order: the analyst token, the superseded analyst token, the manager
token, the proposed manager token (each "<PREFIX>-<randint(100, 999)>-<choice XYZ>", drawn again
while equal to one drawn before), then the format (choice of three).
"""

FORMATS = ["{ANALYST_TOKEN}:{MANAGER_TOKEN}", "{MANAGER_TOKEN}-{ANALYST_TOKEN}", "ACK[{ANALYST_TOKEN}|{MANAGER_TOKEN}]"]


def _tokens(rng, prefix, count, taken):
    out = []
    while len(out) < count:
        t = "%s-%d-%s" % (prefix, rng.randint(100, 999), rng.choice("XYZ"))
        if t not in taken and t not in out:
            out.append(t)
    taken.extend(out)
    return out


def setup(env):
    rng = env.rng
    taken = []
    analyst, old_analyst = _tokens(rng, "AN", 2, taken)
    manager, proposed = _tokens(rng, "MG", 2, taken)
    fmt = rng.choice(FORMATS)
    env.write_file("/app/README.md", "\n".join([
        "# Multi-role escalation",
        "An escalation needs the analyst's token and the manager's confirmed token, combined",
        "exactly as /app/incidents/final.md says. Report it as ESCALATION_CODE.",
        "Signals: /app/conversations/analyst.log, /app/conversations/manager_ack.txt, /app/incidents/final.md",
        "",
    ]))
    env.write_file("/app/conversations/analyst.log", "\n".join([
        "[analyst] triaging incident",
        "[analyst] ANALYST_TOKEN=%s (superseded)" % old_analyst,
        "[analyst] re-ran the checks",
        "[analyst] ANALYST_TOKEN=%s" % analyst,
        "[analyst] awaiting manager",
        "",
    ]))
    env.write_file("/app/conversations/manager_ack.txt", "\n".join([
        "[manager] reviewing telemetry",
        "[manager] PROPOSED MANAGER_TOKEN=%s" % proposed,
        "[manager] CONFIRMED MANAGER_TOKEN=%s" % manager,
        "",
    ]))
    env.write_file("/app/incidents/final.md", "\n".join([
        "## Escalation format",
        "FINAL_FORMAT=%s" % fmt,
        "Use the analyst's latest token and the manager's CONFIRMED token.",
        "",
    ]))
    env.set_hidden_state("expected", fmt.replace("{ANALYST_TOKEN}", analyst).replace("{MANAGER_TOKEN}", manager))
    env.set_hidden_state("wrong", 0)


def list_dir(env, path):
    files = env.list_dir(path)
    if not files:
        return {"ok": False, "error": "file_not_found"}
    return {"ok": True, "files": files}


def read_file(env, path):
    if not env.exists(path):
        return {"ok": False, "error": "file_not_found"}
    return {"ok": True, "content": env.read_file(path)}


def extract_value(env, content, key):
    for line in content.splitlines():
        if line.startswith(key + "="):
            return {"ok": True, "value": line.split("=", 1)[1]}
    return {"ok": False, "error": "key_not_found"}


def set_output(env, key, value):
    env.set_agent_output(key, value)
    if key == "ESCALATION_CODE" and value != env.get_hidden_state("expected"):
        env.set_hidden_state("wrong", env.get_hidden_state("wrong") + 1)
    return {"ok": True}


def validate(env):
    got = env.get_agent_output("ESCALATION_CODE")
    if got is not None and got == env.get_hidden_state("expected"):
        return {"ok": True, "message": "ESCALATION_CODE combines the confirmed tokens as FINAL_FORMAT says"}
    if env.get_hidden_state("wrong") >= 3:
        return {"ok": False, "terminal": True, "message": "3 wrong ESCALATION_CODE reports"}
    if got is None:
        return {"ok": False, "message": "ESCALATION_CODE not reported yet"}
    return {"ok": False, "message": "ESCALATION_CODE does not match yet"}
