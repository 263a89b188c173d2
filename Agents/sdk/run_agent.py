"""Launch a Python agent module over the rigor-agent/1 protocol.

    python3 -s -B run_agent.py PATH/agent.py

Rigor runs every agent whose path ends in `.py` this way. The launcher

0. re-executes itself once as `python3 -s -B run_agent.py PATH/agent.py` when `-I` has
   hidden the runner's pinned PYTHONHASHSEED (see _honour_pinned_environment);
1. takes over stdin/stdout for the protocol (rigor_sdk.claim_stdio), so anything the
   agent prints goes to stderr, the agent's log;
2. puts the agent file's own folder first on sys.path, so the agent can import
   modules that sit next to it, and loads the file as a module;
3. picks the class named `Agent` if the module has one, otherwise the first class
   defined in the module (in source order) that has reset, observe and act methods;
4. instantiates it with no arguments and runs the SDK loop.

Exit codes: those of rigor_sdk.serve (0, 1, 2), plus 2 when the file cannot be found or
holds no agent class, and 1 when importing the module or creating the agent raises.
"""

import importlib.util
import os
import sys

# inspect and traceback are not imported at start: they cost ~10 ms of every episode's start-up.


def _honour_pinned_environment():
    """Re-execute once so the runner's pinned PYTHON* variables take effect.

    Started with `python3 -I` (by hand; Rigor uses `-s -B`), Python keeps the user's site-packages
    out but also makes Python ignore every PYTHON* variable, among them the
    PYTHONHASHSEED=0 and PYTHONDONTWRITEBYTECODE=1 that the runner pins: string hashing
    (and so set iteration order) would differ between runs. When isolated mode has
    hidden a pinned PYTHONHASHSEED, replace this process (same pid, same process group,
    same stdin/stdout/stderr) with `python3 -s -B run_agent.py ...`: no user
    site-packages, no bytecode files, and the environment the runner gave us, which it
    has already stripped of everything else.
    """
    if not sys.flags.isolated or "PYTHONHASHSEED" not in os.environ:
        return
    # The new process is not isolated, so this cannot loop.
    argv = [sys.executable, "-s", "-B", os.path.abspath(__file__)] + sys.argv[1:]
    try:
        os.execve(sys.executable, argv, dict(os.environ))
    except OSError as exc:  # keep going, isolated but with a random hash seed
        sys.stderr.write("run_agent: could not re-execute for PYTHONHASHSEED (%s)\n" % exc)


if __name__ == "__main__":
    _honour_pinned_environment()
sys.dont_write_bytecode = True

_SDK_DIR = os.path.dirname(os.path.abspath(__file__))
if _SDK_DIR in sys.path:
    sys.path.remove(_SDK_DIR)
sys.path.insert(0, _SDK_DIR)

import rigor_sdk  # noqa: E402  (needs the path set above; -I leaves the script folder out)

_METHODS = ("reset", "observe", "act")


def _usage(message):
    sys.stderr.write("run_agent: %s\nusage: python3 -s -B run_agent.py PATH/agent.py\n" % message)
    sys.stderr.flush()
    return 2


def _is_agent_class(obj):
    return isinstance(obj, type) and all(callable(getattr(obj, m, None)) for m in _METHODS)


def find_agent_class(module):
    """`Agent` if present, else the first class defined in `module` with the three methods."""
    named = getattr(module, "Agent", None)
    if isinstance(named, type):
        return named
    for value in vars(module).values():  # dict order is definition order
        if _is_agent_class(value) and getattr(value, "__module__", None) == module.__name__:
            return value
    return None


def prepare_module(path):
    """The module object the agent file loads into: made, not executed (no agent code runs).

    A fork server makes it once per agent file, while idle; each later child executes the
    agent into its own copy-on-write copy (and so skips ~0.25 ms of importlib per episode)."""
    name = os.path.splitext(os.path.basename(path))[0]
    if not name.isidentifier() or name in sys.modules:
        name = "rigor_agent_module"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s as a Python module" % path)
    return importlib.util.module_from_spec(spec)


def load_module(path, compiled=None, prepared=None):
    """Loads the agent file as a module. `compiled`, when given, is the file's code object
    (compiled by the fork server): it is executed instead of compiling the file again;
    `prepared`, the module from `prepare_module` to execute it in."""
    sys.path.insert(0, os.path.dirname(path))
    module = prepared if prepared is not None else prepare_module(path)
    sys.modules[module.__name__] = module
    if compiled is not None:
        exec(compiled, module.__dict__)  # what the loader's exec_module does, minus the compile
    else:
        module.__spec__.loader.exec_module(module)
    return module


def main(argv, compiled=None, prepared=None):
    if len(argv) != 2:
        return _usage("expected exactly one argument, the agent file")
    path = os.path.abspath(argv[1])
    if not os.path.isfile(path):
        return _usage("agent file not found: %s" % argv[1])

    reader, writer = rigor_sdk.claim_stdio()
    try:
        module = load_module(path, compiled, prepared)
    except Exception:
        import traceback

        traceback.print_exc(file=sys.stderr)
        sys.stderr.write("run_agent: importing %s failed\n" % argv[1])
        return 1
    cls = find_agent_class(module)
    if cls is None:
        return _usage("%s defines no agent class: expected a class named Agent, or a class "
                      "with reset(task), observe(observation) and act() methods" % argv[1])
    try:
        agent = cls()
    except Exception:
        import traceback

        traceback.print_exc(file=sys.stderr)
        sys.stderr.write("run_agent: creating %s() failed\n" % cls.__name__)
        return 1
    return rigor_sdk.serve(agent, reader, writer)


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stderr.flush()
    sys.exit(code)
