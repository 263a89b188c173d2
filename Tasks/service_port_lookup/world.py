"""World of service_port_lookup@1, written with the Rigor task SDK (Agents/tasks_sdk).

Files: /srv/README.md; /srv/config/billing.conf.bak (a stale port); /srv/config/billing.conf
(the live one, LISTEN_PORT=<port>); /srv/config/search.conf (another service's port). All
ports are drawn from env.rng, which the SDK seeds from the runner's keyed world seed, in this
order: the live port, the stale port, the other service's port (each 1024..65535, all distinct).
"""


def setup(env):
    rng = env.rng
    ports = []
    while len(ports) < 3:
        p = rng.randint(1024, 65535)
        if p not in ports:
            ports.append(p)
    live, stale, other = ports
    env.write_file("/srv/README.md", "Service configs live in /srv/config; *.bak files are stale.\n")
    env.write_file("/srv/config/billing.conf", "SERVICE=billing\nLISTEN_PORT=%d\n" % live)
    env.write_file("/srv/config/billing.conf.bak", "SERVICE=billing\nLISTEN_PORT=%d\n" % stale)
    env.write_file("/srv/config/search.conf", "SERVICE=search\nLISTEN_PORT=%d\n" % other)
    env.set_hidden_state("port", str(live))


def list_dir(env, path):
    files = env.list_dir(path)
    if not files:
        return {"ok": False, "error": "file_not_found"}
    return {"ok": True, "files": files}


def read_file(env, path):
    if not env.exists(path):
        return {"ok": False, "error": "file_not_found"}
    return {"ok": True, "content": env.read_file(path)}


def set_output(env, key, value):
    env.set_agent_output(key, value)
    return {"ok": True}


def validate(env):
    got = env.get_agent_output("PORT")
    if got is None:
        return {"ok": False, "message": "PORT not reported yet"}
    if got == env.get_hidden_state("port"):
        return {"ok": True, "message": "PORT is the billing service's live port"}
    return {"ok": False, "message": "PORT is not the billing service's live port"}
