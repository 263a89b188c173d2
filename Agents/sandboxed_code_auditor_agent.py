"""Reference agent for sandboxed_code_auditor@1 (TraceCore-style reset/observe/act).

Reads audit_scope.md for TARGET_KEY, lists src/ and reads each module until one defines
legacy_bypass; the ISSUE_ID tagged on that function is the issue. Then it reads
reports/audit.log, takes the AUDIT_CODE of the finding for that issue (not the most severe
one), and reports ISSUE_ID|AUDIT_CODE. The answer is written nowhere in the world: it has to
be put together from the two files.
"""

ROOT = "/app"


def read(path):
    return {"type": "read_file", "args": {"path": path}}


def token(line, key):
    for word in line.split():
        if word.startswith(key + "="):
            return word.split("=", 1)[1]
    return None


def bypass_issue(source):
    """The first ISSUE_ID after 'def legacy_bypass', or None."""
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("def legacy_bypass"):
            for later in lines[i + 1:]:
                found = token(later, "ISSUE_ID")
                if found:
                    return found
    return None


def plan():
    scope = (yield read(ROOT + "/audit_scope.md")).get("content", "")
    target = next((token(l, "TARGET_KEY") for l in scope.splitlines() if token(l, "TARGET_KEY")), "SANDBOX_AUDIT_TOKEN")
    listing = yield {"type": "list_dir", "args": {"path": ROOT + "/src"}}
    issue = None
    for path in listing.get("files") or []:
        if path.endswith(".py"):
            issue = bypass_issue((yield read(path)).get("content", ""))
            if issue:
                break
    if not issue:
        return
    log = (yield read(ROOT + "/reports/audit.log")).get("content", "")
    for line in log.splitlines():
        if token(line, "issue") == issue and token(line, "AUDIT_CODE"):
            yield {"type": "set_output", "args": {"key": target, "value": issue + "|" + token(line, "AUDIT_CODE")},
                   "intent": "bypass issue and its analyzer finding"}
            return


class SandboxedCodeAuditorAgent:
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
