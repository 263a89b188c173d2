"""Launcher of the Rigor task SDK: runs a Python world over rigor-world/1.

    python3 -s -B run_world.py WORLD.py             a Rigor task's world module (below)
    python3 -s -B run_world.py --tracecore TASK_DIR a TraceCore task folder, unmodified

A Rigor world module defines

    setup(env)                  builds the state; env.rng is a random.Random seeded from the
                                keyed world seed (env.world_seed, hex), so hidden values
                                cannot be rebuilt by an agent that knows only the seed
    validate(env) -> dict       {"ok": bool, "terminal": bool?, "message": str?}
    <action>(env, **args) -> dict   one function per action the manifest declares

A TraceCore task folder holds setup.py (setup(seed, env)), actions.py (its public functions
are the action surface, introspected as TraceCore does; set_env(env) is called first) and
validate.py (validate(env)), named by task.toml's entrypoints. Its modules are loaded under
TraceCore's names (`<id>_setup`, ...), and `tasks.<id>.<module>` imports resolve inside the
task folder only. TraceCore's setup seeds itself from the seed: such worlds are not keyed.

Rigor starts it with the task folder visible read-only and a private working directory.
Standard library only.
"""

import importlib.util
import inspect
import os
import random
import sys
import types

_SDK_DIR = os.path.dirname(os.path.abspath(__file__))
if _SDK_DIR not in sys.path:
    sys.path.insert(0, _SDK_DIR)

import rigor_world  # noqa: E402

_SNAPSHOT_KEYS = ("ok", "terminal", "message", "error", "failure_reason", "failure_type", "termination_reason")


# A fork server's compiled copies of the world's files: a function from a path to its code
# object, or None (then the file is loaded the ordinary way). See main().
_precompiled = None


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s" % path)
    module = importlib.util.module_from_spec(spec)
    code = _precompiled(path) if _precompiled is not None else None
    if code is not None:
        exec(code, module.__dict__)  # what the loader's exec_module does, minus reading the file
    else:
        spec.loader.exec_module(module)
    return module


def _parameter_names(fn):
    """The names of inspect.signature(fn).parameters, in order. A plain function's come from its
    code object (positional, *args, keyword-only, **kwargs: the order inspect gives them), ten
    times cheaper; a wrapped function, or one with a __signature__ of its own, goes through
    inspect, which honours both."""
    code = getattr(fn, "__code__", None)
    if (type(fn) is not types.FunctionType or not isinstance(code, types.CodeType)
            or hasattr(fn, "__wrapped__") or hasattr(fn, "__signature__")):
        return list(inspect.signature(fn).parameters)
    names = code.co_varnames
    positional, keyword_only = code.co_argcount, code.co_kwonlyargcount
    result = list(names[:positional])
    rest = positional + keyword_only
    if code.co_flags & inspect.CO_VARARGS:
        result.append(names[rest])
        rest += 1
    result.extend(names[positional:positional + keyword_only])
    if code.co_flags & inspect.CO_VARKEYWORDS:
        result.append(names[rest])
    return result


def _verdict(validation, payload_keys=None):
    if not isinstance(validation, dict):
        raise TypeError("validate() returned %s, not a dict" % type(validation).__name__)
    message = validation.get("message") or validation.get("failure_reason") or validation.get("error") or ""
    if validation.get("ok"):
        status = "success"
    elif validation.get("terminal"):
        status = "failed"
    else:
        status = "pending"
    keys = payload_keys or tuple(validation)
    payload = {k: validation[k] for k in keys if k in validation}
    return {"status": status, "message": str(message), "payload": payload}


class _Host:
    """What both kinds of world share: the environment, the step bracket, list_dir's files_seen."""

    env = None

    def _make_env(self, task, rng=None, world_seed=None):
        sandbox = task.get("sandbox") or {}
        self.env = rigor_world.Environment(sandbox.get("filesystem_roots", ()), sandbox.get("network_hosts", ()),
                                           rng=rng, world_seed=world_seed)

    def _run_action(self, name, call):
        self.env.begin_step()
        try:
            result = call()
        except rigor_world.SandboxViolation as exc:
            audit = self.env.consume_audit()
            return {"result": {"ok": False, "error": "sandbox_violation:%s" % exc}, "io_audit": audit,
                    "sandbox_violation": str(exc), "visible_state": self.env.visible_state(),
                    "verdict": {"status": "pending", "message": ""}}
        audit = self.env.consume_audit()
        if not isinstance(result, dict):
            raise TypeError("action %r returned %s, not a dict" % (name, type(result).__name__))
        # The rule TraceCore's runner (and Rigor's, for built-in worlds) applies.
        if name == "list_dir" and result.get("ok"):
            self.env.mark_seen(result.get("files", []))
        return {"result": result, "io_audit": audit, "visible_state": self.env.visible_state(),
                "verdict": self.validate()}


class TraceCoreWorld(_Host):
    def __init__(self, directory):
        self.directory = os.path.abspath(directory)

    def _install_package(self, task_id):
        # `from tasks.<id>.shared import X` must find the task folder, and nothing beside it.
        root = types.ModuleType("tasks")
        root.__path__ = []
        sys.modules["tasks"] = root
        init = os.path.join(self.directory, "__init__.py")
        if os.path.exists(init):
            spec = importlib.util.spec_from_file_location("tasks." + task_id, init,
                                                          submodule_search_locations=[self.directory])
            package = importlib.util.module_from_spec(spec)
            sys.modules["tasks." + task_id] = package
            spec.loader.exec_module(package)
        else:
            package = types.ModuleType("tasks." + task_id)
            package.__path__ = [self.directory]
            sys.modules["tasks." + task_id] = package
        setattr(root, task_id, package)

    def _entry(self, entry, default_function):
        file, _, function = entry.partition(":")
        return os.path.join(self.directory, file), function or default_function

    def setup(self, message):
        task = message.get("task") or {}
        task_id = task["id"]
        entries = task.get("entrypoints") or {}
        self._install_package(task_id)
        setup_file, setup_fn = self._entry(entries.get("setup", "setup.py:setup"), "setup")
        validate_file, validate_fn = self._entry(entries.get("validator", "validate.py:validate"), "validate")
        actions_file = os.path.join(self.directory, entries.get("actions", "actions.py"))
        setup_mod = _load(setup_file, task_id + "_setup")
        self.actions = _load(actions_file, task_id + "_actions")
        validate_mod = _load(validate_file, task_id + "_validate")
        self._validate = getattr(validate_mod, validate_fn)
        self._make_env(task)
        getattr(setup_mod, setup_fn)(int(message["seed"]), self.env)
        if hasattr(self.actions, "set_env"):
            self.actions.set_env(self.env)
        # TraceCore's surface: every public function of the actions module, every parameter
        # required. Rigor types them `any`, except `path` (checked against the allowlist by the
        # runner before the world sees it, as Rigor's own tasks are).
        surface = {}
        for name, fn in inspect.getmembers(self.actions, inspect.isfunction):
            if name.startswith("_") or name == "set_env":
                continue
            surface[name] = {"args": {p: ("path" if p == "path" else "any") for p in _parameter_names(fn)}}
        self.surface = surface
        return {"visible_state": self.env.visible_state(), "actions": surface}

    def validate(self):
        return _verdict(self._validate(self.env), _SNAPSHOT_KEYS)

    def execute(self, action):
        name = action.get("type")
        if name not in self.surface:
            raise KeyError("action %r is not in the task's surface" % (name,))
        fn = getattr(self.actions, name)
        args = action.get("args") or {}
        return self._run_action(name, lambda: fn(**args))


class ModuleWorld(_Host):
    def __init__(self, path, argv):
        self.path = os.path.abspath(path)
        self.argv = argv

    def setup(self, message):
        task = message.get("task") or {}
        world_seed = message.get("world_seed")
        if not isinstance(world_seed, str) or len(world_seed) != 64:
            raise ValueError("setup carries no world_seed (64 hex digits)")
        self.module = _load(self.path, "rigor_world_" + str(task.get("id", "task")))
        self._make_env(task, rng=random.Random(int(world_seed, 16)), world_seed=world_seed)
        self.env.task = task
        self.module.setup(self.env)
        return {"visible_state": self.env.visible_state()}

    def validate(self):
        return _verdict(self.module.validate(self.env))

    def execute(self, action):
        name = action.get("type")
        fn = getattr(self.module, name, None) if isinstance(name, str) and not name.startswith("_") else None
        if fn is None or name in ("setup", "validate"):
            raise KeyError("the world module has no action %r" % (name,))
        args = action.get("args") or {}
        return self._run_action(name, lambda: fn(self.env, **args))


def main(argv, precompiled=None):
    """Runs the world named by `argv` over stdin/stdout. `precompiled`: the fork server's
    lookup of the world's files it compiled (path -> code object or None)."""
    global _precompiled
    _precompiled = precompiled
    if len(argv) >= 3 and argv[1] == "--tracecore":
        world = TraceCoreWorld(argv[2])
    elif len(argv) >= 2 and not argv[1].startswith("-"):
        world = ModuleWorld(argv[1], argv[2:])
    else:
        sys.stderr.write("usage: run_world.py WORLD.py | --tracecore TASK_DIR\n")
        return 2
    reader, writer = rigor_world.claim_stdio()
    return rigor_world.serve(world, reader, writer)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
