"""Fork server for Python agents ("zygote"): start Python once, fork a fresh agent per episode.

Starting an interpreter and importing the SDK costs ~25 ms per episode, more than everything
else an episode does. With `--fork-server` (process isolation), Rigor starts this server once;
for each episode it sends the agent's pipes (SCM_RIGHTS) and settings on the control socket
(fd 0), and the server forks a child that sets its own process group, limits, uid, working
directory and environment exactly as the runner would, then runs `run_agent.main` on the
agent file. The server compiles the agent files named on its command line once, while no
request waits (compiling is not running them), and later children exec those code objects:

    python3 -s -B fork_server.py [--jail] [--world-sdk=DIR [--world-file=PATH ...]] [AGENT_FILE ...]

Nothing of one episode reaches another: each child starts from the same pristine state (the
server never imports agent code), and dies with its episode.

At the namespace level Rigor starts this server inside a bubblewrap jail (read-only system, only
the SDK and the batch's agent files visible) that keeps root's capabilities, and each request
says "jail": the child then moves into namespaces of its own (mount, network, IPC, UTS), mounts
a fresh /tmp, /dev/shm and home, and a /proc that shows only its own uid's processes, brings its
own loopback up, and drops to the episode's uid (with no new privileges) before any agent code
runs. The runner kills every process of that uid when the episode ends.

With `--world-sdk=DIR` the server forks world programs too (spec/world-protocol.md): it
imports the task SDK's launcher (DIR/run_world.py) once, and a request names `"world": [args]`
(run_world.py's arguments, e.g. ["--tracecore", TASK_DIR]) in place of `"agent"`. Such a server
is never jailed: world programs fork at the process level only. It still forks agents (one
server per CPU for a batch's agents and worlds), and `--world-file=PATH` names a world's Python
file (a TraceCore task's setup.py, actions.py, validate.py; a world module) that it compiles
while idle, as it does agent files: the world's child executes that code object instead of
loading the file (the same module, ~0.3 ms less per episode).

Protocol rigor-fork/1 (SOCK_SEQPACKET, one JSON object per message):
  server → runner (events socket, fd 1), once at start:  {"hello": "rigor-fork/1", "pid": n}
  runner → server, with 3 fds (stdin, stdout, stderr of the child):
      {"agent": path, "cwd": dir, "env": {...}, "uid": n|null,
       "limits": {"cpu": s, "as": bytes, "fsize": bytes, "nofile": n, "nproc": n},
       "jail": {"home": dir} (optional: namespaces of its own, see above),
       "cpus": [n, ...] (optional: the CPUs the child runs on, those of the runner's thread
                         that asked, as an exec'd agent inherits them)}
  server → runner (same socket):  {"pid": n}  or  {"error": "..."}
  server → runner (events socket, fd 1), when a child ends:
      {"pid": n, "code": n|null, "signal": n|null}
"""

import _signal
import json
import os
import resource
import select
import signal
import socket
import sys

sys.dont_write_bytecode = True
_SDK = os.path.dirname(os.path.abspath(__file__))
if _SDK not in sys.path:
    sys.path.insert(0, _SDK)

import run_agent  # noqa: E402  (imports rigor_sdk and the loader once, for every child)

# What agents commonly import, loaded once (children get them for free): a child that imports
# typing itself pays ~2 ms, and `from __future__ import annotations` ~0.3 ms of import machinery.
import __future__, collections, functools, itertools, math, random, re, string, typing  # noqa: E401,E402,F401

_LIMITS = (("cpu", resource.RLIMIT_CPU), ("as", resource.RLIMIT_AS), ("fsize", resource.RLIMIT_FSIZE),
           ("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC))


_COMPILED = {}


def _compiled(path):
    """The agent file compiled (never run) and the module it will run in (made, not executed),
    kept while the file is unchanged: `(code, module)`, or None.

    Compiling an agent costs 0.3-1 ms, and making its module ~0.25 ms, a large share of a short
    episode; the server does both for the agent files named on its command line, whenever no
    request waits, and every later child executes the same code object in its own copy-on-write copy
    of the module (a child of another agent, or of a file changed since, does both itself).
    Nothing runs here: the server still never executes agent code. None when the file cannot
    be read or compiled: the child then loads it the ordinary way and reports the error as it
    always does.
    """
    try:
        st = os.stat(path)
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        cached = _COMPILED.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        with open(path, "rb") as handle:
            source = handle.read()
        code = compile(source, path, "exec", dont_inherit=True)
        prepared = (code, run_agent.prepare_module(path))
    except Exception:  # noqa: BLE001  (a syntax error is the agent's to report, in its episode)
        return None
    _COMPILED[path] = (key, prepared)
    return prepared


def _world_code(path, compile_it=False):
    """A world's Python file compiled by the server (`--world-file`), or None: never compiled
    here, changed since, or unreadable (the world then loads it the ordinary way, and reports
    what is wrong with it). With `compile_it` (the server, while idle) it compiles it first.
    Compiling is not running: no task code runs in the server."""
    try:
        path = os.path.abspath(path)
        st = os.stat(path)
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        cached = _WORLD_CODE.get(path)
        if cached is not None and cached[0] == key:
            # The server read it as its own uid; the world runs only what it may read itself
            # (a task file linked to one only the server may read is refused as it would be).
            return cached[1] if compile_it or os.access(path, os.R_OK) else None
        if not compile_it:
            return None
        with open(path, "rb") as handle:
            source = handle.read()
        code = compile(source, path, "exec", dont_inherit=True)
    except Exception:  # noqa: BLE001  (a syntax error is the task's to report, in its episode)
        return None
    _WORLD_CODE[path] = (key, code)
    return code


_WORLD_CODE = {}

_SCAN = json.JSONDecoder().scan_once


def _request(message):
    """The request's JSON object, read by the C scanner alone: json.loads's Python layers (and
    their regular expression) cost a child ~40 copy-on-write faults, a sixth of its set-up. Any
    doubt (not one whole object) goes through json.loads, which says what is wrong."""
    text = message.decode("utf-8")
    try:
        value, end = _SCAN(text, 0)
    except (StopIteration, ValueError):
        value, end = None, -1
    if end != len(text) or not isinstance(value, dict):
        value = json.loads(text)
    return value



def _child(message, fds, server):
    """In the forked child: become the agent process of one episode. Never returns.

    The child, not the server, reads the request: every object the server makes between two
    forks lands on a page it shares with the children still running, and its first write there
    copies that page (a copy-on-write fault, ~2 us each here); parsing a request and building
    its answer cost the server ~50 such faults per episode."""
    code = 1
    _CHILDREN.clear()  # the other episodes' pids and uids are the server's business
    _LOCKS.clear()
    try:
        request = _request(message)
        cpus = request.get("cpus")
        if cpus:
            try:
                os.sched_setaffinity(0, cpus)  # first: the rest of the set-up runs there too
            except (OSError, TypeError, ValueError, OverflowError):
                pass  # where it runs is a matter of speed, never of the episode's outcome
        world = request.get("world")
        if world is not None and (run_world is None or not isinstance(world, list) or not all(isinstance(a, str) for a in world)):
            raise RuntimeError("a world request needs a server started with --world-sdk=DIR and a list of arguments")
        # A jailed server compiles nothing (the child compiles its own agent, as its uid).
        compiled = None if request.get("jail") or world is not None else _compiled(os.path.abspath(request["agent"]))
        os.setsid()  # own session and process group, as the runner gives exec'd agents
        # The C functions: signal.signal's enum wrapping touches ~30 pages of the server's.
        _signal.set_wakeup_fd(-1)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, 65536)
        jail = request.get("jail")
        uid = _own_uid(request)
        if _JAILED_SERVER and not jail:
            raise RuntimeError("a jailed server forks only jailed children: the request has no \"jail\"")
        if jail:
            if uid is None:
                raise RuntimeError("a jailed child needs a uid of its own, and the request has none: refusing to run the agent as root")
            _jail().enter(jail["home"], uid, keep=(os.path.abspath(request["agent"]), _SDK), hide=jail.get("hide") or ())
        for name, which in _LIMITS:
            value = (request.get("limits") or {}).get(name) or 0
            if value > 0:
                resource.setrlimit(which, (value, value))
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            if compiled is not None and not os.access(request["agent"], os.R_OK):
                compiled = None  # compiled by the server: the agent runs only a file it may read itself
            _jail().lock_down(uid)
            if os.getppid() != server:
                raise RuntimeError("the fork server is gone")  # its death signal came too early to be set
        os.chdir(request["cwd"])
        _replace_environment(request["env"])
        # `random` reseeds itself from the OS in every forked child (its os.register_at_fork
        # hook), as a fresh interpreter would: nothing to do here.
        if world is not None:
            sys.argv = [run_world.__file__] + world
            code = run_world.main(sys.argv, _world_code if _WORLD_CODE else None)
        else:
            if _WORLD_SDK in sys.path:
                sys.path.remove(_WORLD_SDK)  # an agent sees the agent SDK only, as when exec'd
            sys.argv = [run_agent.__file__, request["agent"]]
            code = run_agent.main(sys.argv, *(compiled or (None, None)))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001  (anything: report it, exit non-zero)
        import traceback

        traceback.print_exc(file=sys.stderr)
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


def _own_uid(request):
    """The uid a request's child takes: None (it keeps the server's), or an int of at least 1.
    Anything else is refused (ValueError): a child never runs as root by mistake."""
    uid = request.get("uid")
    if uid is None:
        return None
    if not isinstance(uid, int) or isinstance(uid, bool) or uid < 1:
        raise ValueError("the request's uid is %r, not a uid of its own (an integer of at least 1)" % (uid,))
    return uid


def _replace_environment(env):
    """Makes `env` the whole environment: the C library's (what a program the agent starts
    inherits) and `os.environ`. Through `os.environ.clear()` and `update()` this costs ~0.3 ms
    per child (each key goes through the mapping's Python methods); here, the C calls and the
    mapping's own dict directly, when it has one (CPython's os._Environ does)."""
    data = getattr(os.environ, "_data", None)
    if not isinstance(data, dict):
        os.environ.clear()
        os.environ.update(env)
        return
    for key in data:
        os.unsetenv(key)
    data.clear()
    encoding = sys.getfilesystemencoding()
    for key, value in env.items():
        key, value = key.encode(encoding, "surrogateescape"), value.encode(encoding, "surrogateescape")
        os.putenv(key, value)
        data[key] = value


class _Jail:
    """What a child does to itself before agent code runs: namespaces of its own (jailed servers)
    and the lock-down after taking its uid (every server run by root), through the C library
    (ctypes, loaded once by the server)."""

    NEWNS, NEWIPC, NEWUTS, NEWNET = 0x00020000, 0x08000000, 0x04000000, 0x40000000
    MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18

    def __init__(self):
        import ctypes
        import fcntl
        import struct

        self.ctypes, self.fcntl, self.struct = ctypes, fcntl, struct
        self.libc = ctypes.CDLL(None, use_errno=True)
        # Looked up once here, in the server (a lookup makes an object: in a child, on a copied page).
        for name in ("capget", "capset", "mount", "prctl", "syscall", "unshare"):
            getattr(self.libc, name)
        self.libc.syscall.restype = ctypes.c_long
        # Built once here, in the server: every child installs the same program.
        self.keyring_program = self._keyring_filter()
        self.cap_header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        self.no_caps = (ctypes.c_uint32 * 6)()
        self.caps_held = (ctypes.c_uint32 * 6)()

    def _check(self, rc, what):
        if rc != 0:
            err = self.ctypes.get_errno()
            raise OSError(err, "%s: %s" % (what, os.strerror(err)))

    def mount(self, source, target, fstype, flags, data=None):
        self._check(self.libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                                    self.ctypes.c_ulong(flags), data.encode() if data else None),
                    "mount %s" % target)

    MS_BIND, MS_REMOUNT, MS_RDONLY = 4096, 32, 1

    def enter(self, home, uid, keep=(), hide=()):
        """In the forked child, still root: new mount, network, IPC and UTS namespaces; fresh
        /tmp, /dev/shm and home (owned by the episode's uid); a /proc that shows a process only
        to its own uid (hidepid=2); the new network's loopback up. The paths in `keep` (the
        agent file, the SDK) stay visible, read-only, even when they live under /tmp or /dev/shm;
        the paths in `hide` (the other agents the server's jail shows) read as empty files."""
        self._check(self.libc.unshare(self.NEWNS | self.NEWNET | self.NEWIPC | self.NEWUTS), "unshare")
        self.mount("none", "/", None, self.MS_REC | self.MS_PRIVATE)
        covered = ["/tmp", home] + (["/dev/shm"] if os.path.isdir("/dev/shm") else [])
        # Held by descriptor: still reachable once a fresh tmpfs hides where they were.
        held = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC)) for path in keep
                if any(path == root or path.startswith(root.rstrip("/") + "/") for root in covered) and os.path.exists(path)]
        quiet = self.MS_NOSUID | self.MS_NODEV
        owner = ",uid=%d,gid=%d" % (uid, uid) if uid else ""
        for root in covered:
            self.mount("tmpfs", root, "tmpfs", quiet, ("mode=700" + owner) if root == home else "mode=1777")
        for path, fd in held:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            if os.path.isdir("/proc/self/fd/%d" % fd):
                os.makedirs(path, exist_ok=True)
            else:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
            self.mount("/proc/self/fd/%d" % fd, path, None, self.MS_BIND | self.MS_REC)
            self.mount("none", path, None, self.MS_BIND | self.MS_REMOUNT | self.MS_RDONLY | quiet)
            os.close(fd)
        for path in hide:
            if os.path.isfile(path):
                self.mount("/dev/null", path, None, self.MS_BIND)
            elif os.path.lexists(path):
                raise RuntimeError("cannot hide %s: not a regular file" % path)
        if os.path.isdir("/dev/pts"):
            self.mount("devpts", "/dev/pts", "devpts", self.MS_NOSUID | self.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
        self.mount("proc", "/proc", "proc", quiet | self.MS_NOEXEC, "hidepid=2")
        ioctl, pack, unpack = self.fcntl.ioctl, self.struct.pack, self.struct.unpack
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            flags = unpack("16sH", ioctl(s, 0x8913, pack("16sH", b"lo", 0))[:18])[1]  # SIOCGIFFLAGS
            ioctl(s, 0x8914, pack("16sH", b"lo", flags | 1))  # SIOCSIFFLAGS: IFF_UP

    PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 4, 38, 22

    def lock_down(self, uid):
        """Right after taking the episode's uid, before any agent code: prove that nothing of
        root is left, die with the server, stay inspectable by its own uid (as an exec'd agent
        is), gain no privileges through exec, and keep out of the kernel's keyrings."""
        if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid):
            raise RuntimeError("could not take uid %d: %r %r" % (uid, os.getresuid(), os.getresgid()))
        # Taking a uid empties the permitted, effective and ambient sets, not the inheritable one.
        self._check(self.libc.capset(self.cap_header, self.no_caps), "capset")
        held = self.caps_held
        self._check(self.libc.capget(self.cap_header, held), "capget")
        if any(held):
            raise RuntimeError("capabilities left after taking uid %d: %s" % (uid, list(held)))
        self._check(self.libc.prctl(self.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
        self._check(self.libc.prctl(self.PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")
        self._check(self.libc.prctl(self.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        program = self.keyring_program
        if program is not None:
            # SECCOMP_FILTER_FLAG_SPEC_ALLOW: a filter alone would also switch on the kernel's
            # speculative-store-bypass mitigation for the agent, which slows every episode
            # down; side channels are outside the guard's threat model (spec/guard.md).
            number = self._SECCOMP_CALL.get(os.uname().machine)
            if number is None or self.libc.syscall(number, 1, 4, self.ctypes.byref(program)) != 0:
                self._check(self.libc.prctl(self.PR_SET_SECCOMP, 2, self.ctypes.byref(program), 0, 0), "seccomp")

    # Keyrings are the kernel's, not a namespace's: keys an agent adds under its uid, or with
    # permissions for everybody, outlive it and reach later episodes. Like Docker's default
    # profile, the filter makes add_key, request_key and keyctl fail with ENOSYS, for the
    # native and the compat system-call tables.
    _SECCOMP_CALL = {"x86_64": 317, "aarch64": 277}
    _KEYRING_CALLS = {
        "x86_64": ((0xC000003E, (248, 249, 250), 0x40000000), (0x40000003, (286, 287, 288), 0)),
        "aarch64": ((0xC00000B7, (217, 218, 219), 0), (0x40000028, (309, 310, 311), 0)),
    }

    def _keyring_filter(self):
        tables = self._KEYRING_CALLS.get(os.uname().machine)
        if tables is None:
            return None
        ld_w_abs, jeq, alu_and, ret = 0x20, 0x15, 0x54, 0x06
        allow, deny = 0x7FFF0000, 0x00050000 | 38  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | ENOSYS
        code = [(ld_w_abs, 0, 0, 4)]  # the architecture
        blocks = []
        for arch, numbers, x32_bit in tables:
            block = [(ld_w_abs, 0, 0, 0)]  # the call's number
            if x32_bit:
                block.append((alu_and, 0, 0, 0xFFFFFFFF & ~x32_bit))
            for i, number in enumerate(numbers):
                block.append((jeq, len(numbers) - i, 0, number))  # to the `deny` after this block's `allow`
            block += [(ret, 0, 0, allow), (ret, 0, 0, deny)]
            blocks.append((arch, block))
        offset = len(blocks) + 2  # past the load, the architecture tests and the final allow
        for index, (arch, block) in enumerate(blocks):
            here = len(code)
            target = offset + sum(len(b) for _, b in blocks[:index])
            code.append((jeq, target - here - 1, 0, arch))
        code.append((ret, 0, 0, allow))  # an architecture without a table
        for _, block in blocks:
            code += block
        c = self.ctypes

        class Instruction(c.Structure):
            _fields_ = [("code", c.c_ushort), ("jt", c.c_ubyte), ("jf", c.c_ubyte), ("k", c.c_uint32)]

        class Program(c.Structure):
            _fields_ = [("len", c.c_ushort), ("filter", c.POINTER(Instruction))]

        instructions = (Instruction * len(code))(*[Instruction(*op) for op in code])
        program = Program(len(code), instructions)
        program._keep = instructions
        return program


_JAIL = None
_CHILDREN = {}  # pid of a child not reaped yet -> its uid
_LOCKS = {}  # pid of a child not reaped yet -> the descriptor of its uid's lock (from the runner)
_JAILED_SERVER = "--jail" in sys.argv[1:]
_PRECOMPILE = [arg for arg in sys.argv[1:] if not arg.startswith("--")]  # the batch's agent files
_PRECOMPILE_WORLDS = [arg.partition("=")[2] for arg in sys.argv[1:] if arg.startswith("--world-file=")]
# `--world-sdk=DIR`: this server forks world programs (run_world.main of the task SDK in DIR),
# imported once here, instead of agents. Never jailed: world programs fork at the process level.
_WORLD_SDK = next((arg.partition("=")[2] for arg in sys.argv[1:] if arg.startswith("--world-sdk=")), None)
run_world = None
if _WORLD_SDK and not _JAILED_SERVER:
    if _WORLD_SDK not in sys.path:
        sys.path.insert(0, _WORLD_SDK)
    import run_world  # noqa: E402,F811  (and rigor_world, inspect, importlib: every world needs them)
    # What task modules commonly import (TraceCore's: dataclasses, typing, __future__), loaded
    # once: a child that imports dataclasses itself pays ~3 ms, more than the rest of its set-up.
    import __future__, dataclasses, enum, hashlib, typing  # noqa: E401,E402,F401


def _kill_children():
    """The runner is gone (its end of the control socket closed, however it died): nothing it
    started may outlive it. Every child's process group, then every process of each uid."""
    for pid in list(_CHILDREN):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    uids = set()
    for message in _CHILDREN.values():
        try:
            uids.add(_own_uid(json.loads(message)))
        except Exception:  # noqa: BLE001  (its child refused it: nothing ran as a uid of its own)
            continue
    uids.discard(None)
    for uid in uids:
        try:
            helper = os.fork()
        except OSError:
            continue
        if helper == 0:
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)  # as that uid: exactly that uid's processes
            finally:
                os._exit(0)
        try:
            os.waitpid(helper, 0)
        except OSError:
            pass


def _jail_self_test():
    """Enters the namespaces once in a throwaway child (loading ctypes before the first
    episode too): None when it works, else what failed."""
    try:
        release = tuple(int(part) for part in os.uname().release.split(".")[:2] if part.isdigit())
        if release < (5, 8):
            return "Linux %s is older than 5.8: its /proc options are not per mount" % os.uname().release
        jail = _jail()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            message = b""
            try:
                jail.enter("/tmp", 65534)
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                jail.lock_down(65534)
            except BaseException as exc:  # noqa: BLE001
                message = ("%s: %s" % (type(exc).__name__, exc)).encode()
            os.write(write_end, message)
            os._exit(0)
        os.close(write_end)
        message = os.read(read_end, 4096).decode(errors="replace")
        os.close(read_end)
        os.waitpid(pid, 0)
        return message or None
    except Exception as exc:  # noqa: BLE001
        return "%s: %s" % (type(exc).__name__, exc)


def _jail():
    global _JAIL
    if _JAIL is None:
        _JAIL = _Jail()
    return _JAIL


def _reap(events):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _CHILDREN.pop(pid, None)
        lock = _LOCKS.pop(pid, None)
        if lock is not None:
            os.close(lock)  # reaped: its uid's lock is the runner's alone again
        if os.WIFEXITED(status):
            event = b'{"pid":%d,"code":%d,"signal":null}' % (pid, os.WEXITSTATUS(status))
        else:
            event = b'{"pid":%d,"code":null,"signal":%d}' % (pid, os.WTERMSIG(status))
        try:
            events.send(event)
        except OSError:
            pass


def main():
    control = socket.socket(fileno=os.dup(0))
    events = socket.socket(fileno=os.dup(1))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    sys.stdout = sys.stderr
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    hello = {"hello": "rigor-fork/1", "pid": os.getpid()}
    if os.getuid() == 0:
        _jail()  # what a child needs to lock itself down, loaded once here, not in every child
    if _JAILED_SERVER:
        problem = _jail_self_test()
        if problem:
            hello["error"] = problem  # the runner then execs the agents instead, or says why not
    events.send(json.dumps(hello).encode())
    # The agent files are compiled while no request waits, never in front of one: the first
    # episodes start at once (their children compile their own agent), later ones find it done.
    uncompiled = [] if _JAILED_SERVER else [os.path.abspath(path) for path in _PRECOMPILE]
    if run_world is not None:
        uncompiled += [(os.path.abspath(path),) for path in _PRECOMPILE_WORLDS]
    server = os.getpid()
    while True:
        try:
            ready, _, _ = select.select([control, wake_r], [], [], 0 if uncompiled else None)
        except InterruptedError:
            continue
        if not ready:
            item = uncompiled.pop(0)
            if isinstance(item, tuple):
                _world_code(item[0], compile_it=True)
            else:
                _compiled(item)
            continue
        if wake_r in ready:
            os.read(wake_r, 4096)
        if control in ready:
            message, fds, _, _ = socket.recv_fds(control, 1 << 20, 4)
            if not message:
                # The runner is gone. What has ended is reported first (its uid lock let go);
                # everything else dies, and only then are the uids' locks let go.
                _reap(events)
                _kill_children()
                for lock in _LOCKS.values():
                    os.close(lock)
                break
            lock = fds.pop() if len(fds) == 4 else None  # the child's uid lock, held until it is reaped
            if len(fds) == 3:
                # The request itself is the child's to read (see _child).
                try:
                    pid = os.fork()
                except OSError as exc:
                    reply = json.dumps({"error": "fork: %s" % exc}).encode()
                else:
                    if pid == 0:
                        control.close()
                        events.close()
                        _child(message, fds, server)
                    _CHILDREN[pid] = message
                    if lock is not None:
                        _LOCKS[pid], lock = lock, None
                    reply = b'{"pid":%d}' % pid
            else:
                reply = json.dumps({"error": "expected 3 file descriptors, got %d" % len(fds)}).encode()
            if lock is not None:
                os.close(lock)
            for fd in fds:
                os.close(fd)
            control.send(reply)
        _reap(events)


if __name__ == "__main__":
    main()
