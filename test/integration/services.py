"""Start and stop the real servers the tests use, through test/services/*.sh.

Convention for every test/services/NAME.sh:
  NAME.sh start DIR   start the server with all its state under DIR, bound to
                      127.0.0.1 on a free port; when it is ready, write
                      DIR/env with KEY=value lines (at least PID=...) and exit 0.
  NAME.sh stop DIR    stop it by the PID in DIR/env and wait until it is gone.
"""
import contextlib
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICES = os.path.join(HERE, "..", "services")


def _script(name):
    return os.path.join(SERVICES, name + ".sh")


def start(name, dir=None):
    d = dir or tempfile.mkdtemp(prefix="shield-%s." % name)
    subprocess.run(["bash", _script(name), "start", d], check=True,
                   stdin=subprocess.DEVNULL)
    env = {"DIR": d}
    with open(os.path.join(d, "env")) as f:
        for line in f:
            line = line.strip()
            if line and "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                env[k] = v
    return env


def stop(name, env, remove=True):
    subprocess.run(["bash", _script(name), "stop", env["DIR"]], check=False,
                   stdin=subprocess.DEVNULL)
    if remove:
        shutil.rmtree(env["DIR"], ignore_errors=True)


@contextlib.contextmanager
def running(name):
    env = start(name)
    try:
        yield env
    finally:
        stop(name, env)
