"""Plugins never see the daemon's secrets in their environment.

shieldd is started with SHIELD_ADMIN_PASSWORD (and other SHIELD_*
variables, as a shell of an administrator may have them) set.  The
`envdump` fixture prints its environment to stderr during a backup and
then waits, so the test can also read /proc/<plugin pid>/environ.  The
password and every SHIELD_* variable must be absent from the task log, the
debug log, the daemon's own log and the plugin's /proc environ, and the
daemon must have removed the password from its own /proc environ too; the
rest of the environment (PATH) is passed on as before.
"""
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, PLUGINS, SRC, run  # noqa: E402

FIXTURES = os.path.join(SRC, "test", "plugins")
PASSWORD = "admin-secret-f00d-4e7a"
TOKEN = "token-secret-beef-93c1"


def plugin_dir(tmp):
    d = os.path.join(tmp, "plugins")
    os.makedirs(d)
    os.symlink(os.path.join(PLUGINS, "fs"), os.path.join(d, "fs"))
    os.symlink(os.path.join(FIXTURES, "envdump"), os.path.join(d, "envdump"))
    return d


def read_environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return f.read()


def envdump_backup(d, tmp):
    """Start a backup of an envdump target into tmp/store; catch the plugin
    while it waits, by the pid it logged.  Returns the task's uuid, the
    plugin's /proc environ and its /proc cmdline."""
    t = d.create("targets", {"name": "env", "plugin": "envdump", "endpoint": "{}"})
    s = d.create("stores", {"name": "st", "plugin": "fs",
                            "endpoint": json.dumps({"base_dir": os.path.join(tmp, "store")})})
    sc = d.create("schedules", {"name": "sc", "when": "daily at 4am"})
    r = d.create("retention", {"name": "r", "expires": 86400})
    j = d.create("jobs", {"name": "env", "target": t, "store": s, "schedule": sc,
                          "retention": r, "paused": True})
    uuid = d.api("POST", "/v1/job/%s/run" % j)["task_uuid"]
    deadline = time.time() + 20
    while time.time() < deadline:
        m = re.search(r"\[envdump\] envdump: pid (\d+)",
                      d.api("GET", "/v1/task/" + uuid)["log"])
        if m:
            with open("/proc/%s/cmdline" % m.group(1), "rb") as f:
                return uuid, read_environ(int(m.group(1))), f.read()
        time.sleep(0.1)
    raise AssertionError("the plugin's pid never showed in the log")


def test_plugins_do_not_inherit_shield_variables():
    tmp = tempfile.mkdtemp(prefix="shield-env.")
    os.makedirs(os.path.join(tmp, "store"))
    env = {"SHIELD_TOKEN": TOKEN, "SHIELD_URL": "http://127.0.0.1:1"}
    try:
        with Daemon(plugins=plugin_dir(tmp), tmp=tmp, env=env, password=PASSWORD) as d:
            d.login()
            # The daemon read the password at start and forgot it.
            own = read_environ(d.proc.pid)
            assert PASSWORD.encode() not in own, "shieldd's /proc environ shows the password"
            assert b"PATH=" in own
            uuid, environ, _ = envdump_backup(d, tmp)
            assert b"PATH=" in environ, environ[:200]
            assert PASSWORD.encode() not in environ, "the plugin's environ has the password"
            assert TOKEN.encode() not in environ
            names = [e.split(b"=", 1)[0] for e in environ.split(b"\0") if e]
            assert not [n for n in names if n.startswith(b"SHIELD_")], names

            task = d.wait_task(uuid, timeout=60)
            assert task["status"] == "done", task
            full = d.api("GET", "/v1/task/%s?debug" % uuid)
            for what in ("log", "debug"):
                text = full[what]
                assert "envdump: env PATH=" in text, text[:2000]
                assert PASSWORD not in text and TOKEN not in text, what
                assert not re.search(r"envdump: env SHIELD_", text), what
            assert PASSWORD not in d.read_log() and TOKEN not in d.read_log()
            # Logging in still works: the password lives in the catalog.
            d.token = None
            d.login()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run([test_plugins_do_not_inherit_shield_variables])
