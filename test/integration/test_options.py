"""shieldd's and shield-agent's options: every spelling of --config reads its
file (--config FILE, --config=FILE, -c FILE, -cFILE), a config file that cannot
be read is an error even with --version, and flags win over the file."""
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import BUILD, SHIELDD, free_port, run  # noqa: E402

AGENT = os.path.join(BUILD, "core", "agent", "shield-agent")


def spellings(path):
    return [["--config", path], ["--config=" + path], ["-c", path], ["-c" + path]]


def run_cmd(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=30)


def test_missing_config_fails_even_with_version():
    for prog in (SHIELDD, AGENT):
        for sp in spellings("/nonexistent/shield.conf"):
            r = run_cmd([prog] + sp + ["--version"])
            assert r.returncode != 0, (prog, sp, r)
            assert "/nonexistent/shield.conf" in r.stderr, (prog, sp, r.stderr)


def test_bad_config_line_is_reported():
    tmp = tempfile.mkdtemp(prefix="shield-opts.")
    path = os.path.join(tmp, "bad.conf")
    with open(path, "w") as f:
        f.write("# workers out of range\nworkers = 0\n")
    for sp in spellings(path):
        r = run_cmd([SHIELDD] + sp + ["--version"])
        assert r.returncode != 0, (sp, r)
        assert "workers must be a number" in r.stderr, r.stderr
        assert "line 2" in r.stderr, r.stderr
    agent_conf = os.path.join(tmp, "agent.conf")
    with open(agent_conf, "w") as f:
        f.write("max-requests = 100000\n")
    for sp in spellings(agent_conf):
        r = run_cmd([AGENT] + sp + ["--version"])
        assert r.returncode != 0, (sp, r)
        assert "max-requests must be a number" in r.stderr, r.stderr


def ping(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/v1/ping" % port,
                                        timeout=2) as r:
                return r.status
        except OSError:
            time.sleep(0.05)
    return None


def test_config_file_is_used_and_flags_win():
    for i, form in enumerate(("eq", "joined")):
        tmp = tempfile.mkdtemp(prefix="shield-opts.")
        port = free_port()
        conf = os.path.join(tmp, "shieldd.conf")
        with open(conf, "w") as f:
            f.write("listen = 127.0.0.1:%d\ndb = %s/shield.db\n" % (port, tmp))
        sp = ["--config=" + conf] if form == "eq" else ["-c" + conf]
        env = dict(os.environ, SHIELD_ADMIN_PASSWORD="opts-test-password")
        log = open(os.path.join(tmp, "log"), "wb")
        p = subprocess.Popen([SHIELDD] + sp, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log, env=env)
        try:
            assert ping(port) == 200, form
            assert os.path.exists(os.path.join(tmp, "shield.db"))
        finally:
            p.terminate()
            assert p.wait(timeout=20) == 0
        # A flag overrides the file's listen address.
        port2 = free_port()
        p = subprocess.Popen([SHIELDD] + sp + ["--listen", "127.0.0.1:%d" % port2],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        try:
            assert ping(port2) == 200, form
        finally:
            p.terminate()
            assert p.wait(timeout=20) == 0
        log.close()


if __name__ == "__main__":
    run([test_missing_config_fails_even_with_version,
         test_bad_config_line_is_reported,
         test_config_file_is_used_and_flags_win])
