/// The text of what `rigor new task` and `rigor new agent` write. Nothing is read from disk, so
/// an installed `rigor` with no checkout around can scaffold. Every generated task is solved by
/// its generated reference agent on every seed and failed by the do-nothing agent (a test runs
/// `rigor tasks validate` on fresh skeletons).
enum ScaffoldTemplates {
    /// The budgets, sandbox and action surface both task skeletons share (files under /data).
    static let budgetsSandboxAndActions = """
        [budgets]
        steps = 30
        tool_calls = 20
        wall_clock_seconds = 60

        [sandbox]
        filesystem_roots = ["/data"]
        network_hosts = []

        [actions.list_dir]
        args = { path = "path" }

        [actions.read_file]
        args = { path = "path" }

        [actions.extract_value]
        args = { content = "string", key = "string" }

        [actions.set_output]
        args = { key = "string", value = "string" }
        """

    /// A task whose world is data: a declarative world (spec/task-manifest.md §3).
    static func dataTask(_ id: String) -> String {
        """
        # Format: spec/task-manifest.md. A declarative world: hidden values and files drawn from
        # the seeded generator, written as data; no code. Edit the files and the answer, keep the
        # draw order in mind (hidden values top to bottom, then files, then validator.expected),
        # bump `version` whenever behaviour changes, and run `rigor tasks validate --tasks \(id)@1`.
        id = "\(id)"
        version = 1
        suite = "custom"
        description = "Find the live SECRET_CODE among the files under /data (the example file's is a placeholder) and report it with set_output SECRET_CODE."

        [world]
        kind = "declarative"

        [[world.hidden]]
        name = "code"
        value = '{{string(12, "A-Z0-9")}}'

        [[world.files]]
        path = "/data/README.md"
        content = \"\"\"
        The service reads its SECRET_CODE from a live_*.env file in /data.
        example.env only shows the format.
        \"\"\"

        [[world.files]]
        path = "/data/example.env"
        content = \"\"\"
        SECRET_CODE=changeme
        \"\"\"

        [[world.files]]
        path = "/data/live_{{digits(4)}}.env"
        content = \"\"\"
        SERVICE=\(id)
        SECRET_CODE={{hidden.code}}
        \"\"\"

        \(budgetsSandboxAndActions)

        [validator]
        output_key = "SECRET_CODE"
        expected = "{{hidden.code}}"
        max_submissions = 3

        """
    }

    /// A task whose world is a Python program on the task SDK (spec/world-protocol.md).
    static func pythonTask(_ id: String) -> String {
        """
        # Format: spec/task-manifest.md. The world is a Python program (world.py) run by the task
        # SDK over rigor-world/1 (spec/world-protocol.md). Bump `version` whenever behaviour
        # changes, and run `rigor tasks validate --tasks \(id)@1`.
        id = "\(id)"
        version = 1
        suite = "custom"
        description = "Find the live SECRET_CODE among the files under /data (the example file's is a placeholder) and report it with set_output SECRET_CODE."

        [world]
        command = ["world.py"]

        \(budgetsSandboxAndActions)

        """
    }

    static func pythonWorld(_ id: String) -> String {
        """
        \"\"\"World of \(id)@1, on the Rigor task SDK (spec/world-protocol.md).

        setup(env) builds the state for one episode; one function per action answers it;
        validate(env) judges after every action ({"ok": ..., "terminal": ...}). Draw every
        hidden value from env.rng (seeded from the runner's keyed world seed), never from
        `random` or the clock, so the same seed gives the same world.
        \"\"\"


        def setup(env):
            suffix = "%04d" % env.rng.randint(0, 9999)
            code = "".join(env.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(12))
            env.write_file("/data/README.md", "The service reads its SECRET_CODE from a live_*.env file in /data.\\n")
            env.write_file("/data/example.env", "SECRET_CODE=changeme\\n")
            env.write_file("/data/live_%s.env" % suffix, "SERVICE=\(id)\\nSECRET_CODE=%s\\n" % code)
            env.set_hidden_state("code", code)
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
            if key == "SECRET_CODE" and value != env.get_hidden_state("code"):
                env.set_hidden_state("wrong", env.get_hidden_state("wrong") + 1)
            return {"ok": True}


        def validate(env):
            if env.get_agent_output("SECRET_CODE") == env.get_hidden_state("code"):
                return {"ok": True, "message": "SECRET_CODE is the live one"}
            if env.get_hidden_state("wrong") >= 3:
                return {"ok": False, "terminal": True, "message": "3 wrong SECRET_CODE reports"}
            return {"ok": False, "message": "SECRET_CODE not reported yet, or not the live one"}

        """
    }

    /// A task whose world is an executable (here bash) speaking rigor-world/1 itself.
    static func execTask(_ id: String) -> String {
        """
        # Format: spec/task-manifest.md. The world is an executable (world.sh, bash) speaking
        # rigor-world/1 itself (spec/world-protocol.md): any language works. Bump `version`
        # whenever behaviour changes, and run `rigor tasks validate --tasks \(id)@1`.
        id = "\(id)"
        version = 1
        suite = "custom"
        description = "Find the live SECRET_CODE among the files under /data (the example file's is a placeholder) and report it with set_output SECRET_CODE."

        [world]
        command = ["bash", "world.sh"]

        \(budgetsSandboxAndActions)

        """
    }

    /// The world of an `--exec` task: bash with builtins only, one JSON answer per request line.
    static func execWorld(_ id: String) -> String {
        #"""
        #!/usr/bin/env bash
        # World of \#(id)@1: a rigor-world/1 program in bash (spec/world-protocol.md). Any
        # executable can be a world; rewrite this one in any language, keeping its contract:
        # - read one JSON request per line on stdin (the runner writes canonical JSON: sorted
        #   keys, no spaces), answer each with exactly one JSON line on stdout; log on stderr;
        # - draw every hidden value from the setup request's world_seed (64 hex digits, keyed by
        #   the runner), never from the seed, the clock or $RANDOM: the same seed, the same world;
        # - answers must depend on the requests only (no times, pids or paths of your own).
        # The runner has already checked each action against the task's action surface and its
        # sandbox (paths under /data) before it arrives here.
        set -u
        alphabet=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789
        code="" live="" output="" wrong=0 seen=""

        # $1 as a JSON string: backslashes, quotes and newlines escaped.
        json() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; printf '"%s"' "$s"; }

        # The content of a file of this world, or nothing (status 1) when there is none.
        content() {
          case "$1" in
            /data/README.md) printf 'The service reads its SECRET_CODE from a live_*.env file in /data.\n' ;;
            /data/example.env) printf 'SECRET_CODE=changeme\n' ;;
            "$live") printf 'SERVICE=\#(id)\nSECRET_CODE=%s\n' "$code" ;;
            *) return 1 ;;
          esac
        }

        # The validator's reading after every action.
        verdict() {
          if [[ -n "$output" && "$output" == "$code" ]]; then
            printf '{"status":"success","message":"SECRET_CODE is the live one"}'
          elif (( wrong >= 3 )); then
            printf '{"status":"failed","message":"3 wrong SECRET_CODE reports"}'
          else
            printf '{"status":"pending","message":"SECRET_CODE not reported yet, or not the live one"}'
          fi
        }

        # One answer to an execute request: result, io_audit entries, and what observations show.
        answer() { printf '{"type":"result","result":%s,"io_audit":[%s],"visible_state":{"files_seen":[%s]},"verdict":%s}\n' \
          "$1" "$2" "$seen" "$(verdict)"; }

        while IFS= read -r line; do
          case "$line" in
            *'"type":"setup"'*)
              if [[ ! "$line" =~ \"world_seed\":\"([0-9a-f]{64})\" ]]; then
                printf '{"type":"error","message":"setup without a world_seed"}\n'; continue
              fi
              hex=${BASH_REMATCH[1]}
              live=$(printf '/data/live_%04d.env' $(( 16#${hex:0:8} % 10000 )))
              code=""
              for ((i = 0; i < 12; i++)); do code+=${alphabet:$(( 16#${hex:8+2*i:2} % 36 )):1}; done
              printf '{"type":"ready","visible_state":{"files_seen":[]}}\n'
              ;;
            *'"type":"execute"'*)
              [[ "$line" =~ \"type\":\"([a-z_]+)\"\},\"type\":\"execute\" ]] && action=${BASH_REMATCH[1]} || action=""
              path="" key="" value=""
              [[ "$line" =~ \"path\":\"([^\"\\]*)\" ]] && path=${BASH_REMATCH[1]}
              [[ "$line" =~ \"key\":\"([A-Za-z0-9_]*)\" ]] && key=${BASH_REMATCH[1]}
              [[ "$line" =~ \"value\":\"([^\"\\]*)\" ]] && value=${BASH_REMATCH[1]}
              case "$action" in
                list_dir)
                  if [[ "$path" == /data ]]; then
                    answer "{\"ok\":true,\"files\":[\"/data/README.md\",\"/data/example.env\",$(json "$live")]}" \
                      "{\"type\":\"fs\",\"op\":\"list_dir\",\"path\":$(json "$path")}"
                  else
                    answer '{"ok":false,"error":"file_not_found"}' "{\"type\":\"fs\",\"op\":\"list_dir\",\"path\":$(json "$path")}"
                  fi
                  ;;
                read_file)
                  if text=$(content "$path"); then
                    [[ ",$seen," == *",$(json "$path"),"* ]] || seen+=${seen:+,}$(json "$path")
                    answer "{\"ok\":true,\"content\":$(json "$text"$'\n')}" "{\"type\":\"fs\",\"op\":\"read_file\",\"path\":$(json "$path")}"
                  else
                    answer '{"ok":false,"error":"file_not_found"}' "{\"type\":\"fs\",\"op\":\"read_file\",\"path\":$(json "$path")}"
                  fi
                  ;;
                extract_value)
                  # The content arrives JSON-escaped: lines end in \n (a backslash and an n).
                  if [[ -n "$key" && "$line" =~ \"content\":\"(.*\\n)?$key=([^\"\\]*) ]]; then
                    answer "{\"ok\":true,\"value\":$(json "${BASH_REMATCH[2]}")}" ""
                  else
                    answer '{"ok":false,"error":"key_not_found"}' ""
                  fi
                  ;;
                set_output)
                  if [[ "$key" == SECRET_CODE ]]; then
                    output=$value
                    [[ "$value" == "$code" ]] || wrong=$(( wrong + 1 ))
                  fi
                  answer '{"ok":true}' "{\"type\":\"custom\",\"op\":\"set_output\",\"key\":$(json "$key")}"
                  ;;
                *) printf '{"type":"error","message":%s}\n' "$(json "this world has no action '$action'")" ;;
              esac
              ;;
            *) printf '{"type":"error","message":"unknown request"}\n' ;;
          esac
        done

        """#
    }

    static func taskReadme(_ id: String, kind: Scaffold.TaskKind, agent: String) -> String {
        let world: String
        switch kind {
        case .data: world = "The world is data: `[world] kind = \"declarative\"` in `task.toml` (spec/task-manifest.md §3)."
        case .python: world = "The world is `world.py`, a module for the Rigor task SDK (spec/world-protocol.md)."
        case .exec: world = "The world is `world.sh`, a bash program speaking rigor-world/1 itself (spec/world-protocol.md): any executable can be one."
        }
        return """
        # \(id)@1

        Generated by `rigor new task \(id)\(kind == .data ? "" : " --\(kind.rawValue)")`. \(world)

        Under `/data`, a README, an example file with a placeholder `SECRET_CODE`, and a
        `live_<4 digits>.env` file with the real one, drawn from the seeded generator. The agent
        reports it with `set_output` key `SECRET_CODE`; three wrong reports fail for good.

        Reference agent: `\(agent)` (pairing `\(id)`). Check the task with
        `rigor tasks validate --tasks \(id)@1`.

        """
    }

    /// The reference agent of a generated task, on the Python SDK.
    static func taskAgent(_ id: String) -> String {
        """
        \"\"\"Reference agent for \(id)@1, on Rigor's Python SDK.

        Lists /data, reads the live_*.env file, extracts SECRET_CODE and reports it.
        \"\"\"


        class Agent:
            def reset(self, task_spec):
                self.observation = None

            def observe(self, observation):
                self.observation = observation

            def act(self):
                obs = self.observation or {}
                last = obs.get("last_action") or {}
                result = obs.get("last_action_result") or {}
                if last.get("type") == "list_dir" and result.get("ok"):
                    live = [f for f in result["files"] if f.rsplit("/", 1)[-1].startswith("live_")]
                    if live:
                        return {"type": "read_file", "args": {"path": live[0]}}
                if last.get("type") == "read_file" and result.get("ok"):
                    return {"type": "extract_value", "args": {"content": result["content"], "key": "SECRET_CODE"}}
                if last.get("type") == "extract_value" and result.get("ok"):
                    return {"type": "set_output", "args": {"key": "SECRET_CODE", "value": result["value"]}}
                return {"type": "list_dir", "args": {"path": "/data"}}

        """
    }

    /// A general agent on the Python SDK: explores the filesystem roots of any task.
    static func pythonAgent(_ name: String) -> String {
        """
        \"\"\"\(name): an agent on Rigor's Python SDK (spec/agent-protocol.md).

        Rigor runs a .py agent through its SDK, which calls this class: reset(task_spec) once,
        then observe(observation) and act() once per step. act() returns one action,
        {"type": ..., "args": {...}}, from the task's action surface (task_spec["actions"]).
        print() goes to stderr, the agent's log. This skeleton lists the task's first
        filesystem root, then reads each file it has seen; teach it to report an answer.

        Try it:  rigor run --agent <this file> --task filesystem_hidden_config@1 --seed 0
        \"\"\"


        class Agent:
            def reset(self, task_spec):
                self.task = task_spec or {}
                roots = (self.task.get("sandbox") or {}).get("filesystem_roots") or ["/"]
                self.root = roots[0]
                self.observation = None
                self.read = set()

            def observe(self, observation):
                self.observation = observation

            def act(self):
                obs = self.observation or {}
                seen = (obs.get("visible_state") or {}).get("files_seen") or []
                for path in seen:
                    if path not in self.read:
                        self.read.add(path)
                        return {"type": "read_file", "args": {"path": path}}
                return {"type": "list_dir", "args": {"path": self.root}}

        """
    }

    /// An executable speaking the agent protocol itself (no SDK): any language works; this
    /// one is Python 3 with the standard library only, to be rewritten in the user's language.
    static func execAgent(_ name: String) -> String {
        """
        #!/usr/bin/env python3
        \"\"\"\(name): an executable that speaks the agent protocol directly (spec/agent-protocol.md).

        Any executable works: one JSON object per line on stdin (reset, observe, end), one
        action per observe on stdout, logs on stderr. Rewrite it in any language; keep stdout
        for protocol lines only. This skeleton lists the task's first filesystem root, then reads
        each file it has seen.
        \"\"\"

        import json
        import sys

        root = "/"
        read = set()
        for line in sys.stdin:
            message = json.loads(line)
            if message["type"] == "reset":
                roots = (message["task"].get("sandbox") or {}).get("filesystem_roots") or ["/"]
                root = roots[0]
            elif message["type"] == "observe":
                seen = (message["observation"].get("visible_state") or {}).get("files_seen") or []
                action = {"type": "list_dir", "args": {"path": root}}
                for path in seen:
                    if path not in read:
                        read.add(path)
                        action = {"type": "read_file", "args": {"path": path}}
                        break
                print(json.dumps({"type": "action", "action": action}), flush=True)
            elif message["type"] == "end":
                break

        """
    }

    static func swiftPackage(_ name: String) -> String {
        """
        // swift-tools-version:5.9
        // \(name): a Rigor agent in Swift. Build with `swift build -c release` in this folder;
        // run it with `rigor run --agent <this folder>/.build/release/\(name) --task ...`.
        import PackageDescription

        let package = Package(
            name: "\(name)",
            targets: [.executableTarget(name: "\(name)", path: "Sources")]
        )

        """
    }

    static func swiftMain(_ name: String) -> String {
        """
        // \(name): speaks the agent protocol (spec/agent-protocol.md) on stdin/stdout: one JSON
        // object per line; one action per observe; logs to stderr. This skeleton lists the task's
        // first filesystem root, then reads each file it has seen.
        import Foundation

        func send(_ action: [String: Any]) {
            let line = try? JSONSerialization.data(withJSONObject: ["type": "action", "action": action], options: [.sortedKeys])
            FileHandle.standardOutput.write((line ?? Data()) + Data("\\n".utf8))
        }

        var root = "/"
        var read: Set<String> = []
        while let line = readLine() {
            guard let message = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { continue }
            switch message["type"] as? String {
            case "reset":
                let task = message["task"] as? [String: Any]
                let roots = (task?["sandbox"] as? [String: Any])?["filesystem_roots"] as? [String]
                root = roots?.first ?? "/"
            case "observe":
                let observation = message["observation"] as? [String: Any]
                let seen = (observation?["visible_state"] as? [String: Any])?["files_seen"] as? [String] ?? []
                if let next = seen.first(where: { !read.contains($0) }) {
                    read.insert(next)
                    send(["type": "read_file", "args": ["path": next]])
                } else {
                    send(["type": "list_dir", "args": ["path": root]])
                }
            case "end":
                exit(0)
            default:
                continue
            }
        }

        """
    }
}
