import RigorSpec

/// The files `rigor init` writes, as text: a project must be creatable by an installed
/// `rigor` with no checkout around, so nothing here is read from disk. The example task is a
/// copy of `Tasks/filesystem_hidden_config` (a test keeps the two equal).
enum ProjectTemplate {
    static let projectFile = """
        # Rigor project file (format: spec/project.md). Every rigor command finds it by walking
        # up from the working directory, so they all work from any subdirectory.
        [project]
        format = "rigor-project/1"
        tasks = ["Tasks"]            # task directories, searched in order
        baselines = "Baselines"      # what `rigor ci` re-runs; `rigor baseline record` writes them
        state = ".rigor"             # the run store, world key and bundles (kept out of git)
        # isolation = "namespace"    # none | process | namespace (default: the strongest available)
        # runs_json = true           # also write .rigor/runs/<run_id>.json for every run

        # Agents by name; a pairing's `agent` is a name from here or a path.
        [agents.example]
        path = "agents/example_agent.py"

        [[pairings]]
        name = "example"
        agent = "example"
        task = "filesystem_hidden_config@1"

        """

    static let gitignoreLine = ".rigor/"

    static let exampleTaskManifest = """
        # filesystem_hidden_config@1 — find the real API_KEY in a small filesystem.
        # Format: spec/task-manifest.md
        id = "filesystem_hidden_config"
        version = 1
        suite = "filesystem"
        description = "Extract the value of API_KEY from the filesystem under /app and report it with set_output."
        world = "hidden_config"

        [budgets]
        steps = 200
        tool_calls = 40
        wall_clock_seconds = 60

        [sandbox]
        filesystem_roots = ["/app"]
        network_hosts = []

        [actions.list_dir]
        args = { path = "path" }

        [actions.read_file]
        args = { path = "path" }

        [actions.extract_value]
        args = { content = "string", key = "string" }

        [actions.set_output]
        args = { key = "string", value = "string" }

        [validator]
        # Success when the output API_KEY equals the hidden value. A wrong output is not terminal.
        output_key = "API_KEY"

        """

    static let exampleTaskReadme = """
        # filesystem_hidden_config@1

        **Suite:** filesystem · **Budgets:** 200 steps, 40 tool calls, 60 s

        The world holds three files under `/app`:

        - `/app/readme.txt` — says a config file holds the key;
        - `/app/config.example` — a decoy holding `API_KEY=changeme`;
        - `/app/.config_<4 digits>` — the live config, holding `API_KEY=<24 characters>`.

        The 4 digits and the key come from the seed (the portable PRNG, `spec/determinism.md`).

        **What it tests:** exploration (the hidden file only shows up in `list_dir`), not trusting the
        first match (the decoy), and reporting through `set_output`.

        **Signals:** success when output `API_KEY` equals the hidden value. A wrong output is not
        terminal, as in TraceCore, so an agent may correct itself. A solving agent needs 4 steps:
        list, read, extract, set.

        """

    static let exampleAgent = """
        \"\"\"Example agent for filesystem_hidden_config@1, written on Rigor's Python SDK.

        Rigor runs a .py agent through its SDK, which speaks the agent protocol on stdin/stdout
        and calls this class: reset(task_spec) once, then observe(observation) and act() once
        per step. act() returns one action, {"type": ..., "args": {...}}. print() goes to
        stderr, the agent's log (`rigor runs show <run_id>`).

        Try it:  rigor run pairing example --seed 42
        \"\"\"

        import os

        ROOT = "/app"
        KEY = "API_KEY"


        class Agent:
            def __init__(self):
                self.reset(None)

            def reset(self, task_spec):
                self.observation = None
                self.plan = [{"type": "list_dir", "args": {"path": ROOT}}]

            def observe(self, observation):
                self.observation = observation

            def act(self):
                self._learn()
                if self.plan:
                    return self.plan.pop(0)
                # Nothing left to try: look again (the step budget ends the episode).
                return {"type": "list_dir", "args": {"path": ROOT}}

            def _learn(self):
                obs = self.observation or {}
                action = obs.get("last_action") or {}
                result = obs.get("last_action_result") or {}
                kind = action.get("type")
                if not result.get("ok"):
                    if result:
                        print("example_agent: %s failed: %s" % (kind, result.get("error")))
                    return
                if kind == "list_dir":
                    # The live config is hidden (.config_<digits>); config.example is a decoy.
                    hidden = [p for p in result.get("files", []) if os.path.basename(p).startswith(".config_")]
                    self.plan += [{"type": "read_file", "args": {"path": p}} for p in sorted(hidden)]
                elif kind == "read_file" and (KEY + "=") in result.get("content", ""):
                    self.plan.append({"type": "extract_value", "args": {"content": result["content"], "key": KEY}})
                elif kind == "extract_value":
                    print("example_agent: found %s" % KEY)
                    self.plan.append({"type": "set_output", "args": {"key": KEY, "value": result.get("value")}})

        """

    /// A GitHub Actions workflow: installs Rigor once per version (cached), then gates on
    /// `rigor ci`.
    static var workflow: String {
        """
        # Rigor's CI gate: re-runs every baseline under Baselines/ and fails on a regression.
        # Record baselines first (rigor baseline record --pairings all --seeds 0..4) and commit them.
        name: rigor
        on: [push, pull_request]

        jobs:
          rigor:
            runs-on: ubuntu-24.04
            env:
              RIGOR_VERSION: "\(RigorIdentity.version)"
              # Where your team keeps the release tarball (`make dist` in Rigor's checkout builds
              # rigor-<version>-linux-x86_64.tar.gz); set it as a repository variable.
              RIGOR_TARBALL_URL: ${{ vars.RIGOR_TARBALL_URL }}
            steps:
              - uses: actions/checkout@v4
              - name: Cache rigor
                id: rigor-cache
                uses: actions/cache@v4
                with:
                  path: ~/.local/rigor
                  key: rigor-${{ env.RIGOR_VERSION }}-linux-x86_64
              - name: Install rigor
                if: steps.rigor-cache.outputs.cache-hit != 'true'
                run: |
                  mkdir -p ~/.local/rigor
                  curl -fsSL "$RIGOR_TARBALL_URL" | tar -xz -C ~/.local/rigor --strip-components=1
              - name: Put rigor on PATH
                run: echo "$HOME/.local/rigor/bin" >> "$GITHUB_PATH"
              - name: System packages (bubblewrap isolates agents; python3 runs .py agents)
                run: sudo apt-get update -qq && sudo apt-get install -y -qq bubblewrap python3
              - name: rigor ci
                run: rigor ci --junit rigor-junit.xml --summary "$GITHUB_STEP_SUMMARY"
              - name: Keep the JUnit report
                if: always()
                uses: actions/upload-artifact@v4
                with:
                  name: rigor-junit
                  path: rigor-junit.xml

        """
    }
}
