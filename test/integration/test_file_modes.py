"""Integration test of the modes of the files shieldd keeps beside its catalog.

With umask 022 and with umask 000, shieldd started on a catalog in a
directory that does not exist yet creates that directory 0700, and every
file it creates there (the catalog, its -wal and -shm files, the lock file
and the generated admin-password file) is 0600, while it runs and after it
stops.  A directory the user already had keeps its mode, and shieldd warns
in its log that other users can enter it.  `make run`'s script makes its
run/ directory 0700.
"""
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import (Daemon, run, free_port, BUILD, SRC,  # noqa: E402
                        SANITIZER_MARKS)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def modes(d):
    return {n: mode(os.path.join(d, n)) for n in sorted(os.listdir(d))}


def start_with_umask(d, umask):
    old = os.umask(umask)
    try:
        d.start()
    finally:
        os.umask(old)


def exercise(d, catdir):
    """Log in with the generated password and write, so the WAL exists."""
    with open(os.path.join(catdir, "shield.db.admin-password")) as f:
        d.password = f.read().strip()
    d.login()
    d.create("schedules", {"name": "m", "when": "daily at 4am"})


def check_new_dir(umask):
    tmp = tempfile.mkdtemp(prefix="shield-modes.")
    catdir = os.path.join(tmp, "state")          # does not exist yet
    d = Daemon(tmp=tmp, env={"SHIELD_ADMIN_PASSWORD": ""})
    d.db = os.path.join(catdir, "shield.db")
    try:
        start_with_umask(d, umask)
        exercise(d, catdir)
        assert mode(catdir) == 0o700, oct(mode(catdir))
        got = modes(catdir)
        for name in ("shield.db", "shield.db-wal", "shield.db-shm",
                     "shield.db.lock", "shield.db.admin-password"):
            assert name in got, (name, got)
        bad = {n: oct(m) for n, m in got.items() if m != 0o600}
        assert not bad, "umask %03o: not 0600: %r" % (umask, bad)
        assert "created the catalog's directory" in d.read_log()
        d.stop()
        got = modes(catdir)
        bad = {n: oct(m) for n, m in got.items() if m != 0o600}
        assert not bad, "umask %03o, after stop: not 0600: %r" % (umask, bad)
        # Started again on the same files: still 0600, no warning.
        start_with_umask(d, umask)
        d.login()
        d.create("schedules", {"name": "again", "when": "daily at 4am"})
        bad = {n: oct(m) for n, m in modes(catdir).items() if m != 0o600}
        assert not bad, bad
        assert "can be read by other users" not in d.read_log()
    finally:
        d.stop()


def test_umask_022():
    check_new_dir(0o022)


def test_umask_000():
    check_new_dir(0o000)


def test_existing_open_directory_is_left_alone():
    tmp = tempfile.mkdtemp(prefix="shield-modes.")
    catdir = os.path.join(tmp, "shared")
    os.mkdir(catdir)
    os.chmod(catdir, 0o755)
    d = Daemon(tmp=tmp, env={"SHIELD_ADMIN_PASSWORD": ""})
    d.db = os.path.join(catdir, "shield.db")
    try:
        start_with_umask(d, 0o022)
        exercise(d, catdir)
        assert mode(catdir) == 0o755, oct(mode(catdir))
        bad = {n: oct(m) for n, m in modes(catdir).items() if m != 0o600}
        assert not bad, bad
        log = d.read_log()
        assert "the catalog's directory %s is open to other users" % \
            catdir in log, log[-2000:]
    finally:
        d.stop()


def test_make_run_dir_is_private():
    """contrib/run.sh (make run) on a fresh run/ directory, umask 022."""
    tmp = tempfile.mkdtemp(prefix="shield-modes.")
    rundir = os.path.join(tmp, "run")
    env = dict(os.environ, SHIELD_RUN_DIR=rundir,
               SHIELD_LISTEN="127.0.0.1:%d" % free_port())
    env.pop("SHIELD_ADMIN_PASSWORD", None)
    build = os.path.relpath(BUILD, SRC)
    old = os.umask(0o022)
    try:
        p = subprocess.Popen(["sh", os.path.join(SRC, "contrib", "run.sh"),
                              build], env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    finally:
        os.umask(old)
    try:
        out = b""
        deadline = time.time() + 60
        while b"Press Ctrl-C to stop." not in out:
            assert time.time() < deadline and p.poll() is None, out
            out += os.read(p.stdout.fileno(), 4096)
        assert mode(rundir) == 0o700, oct(mode(rundir))
        for name in ("shield.db", "shield.db.lock",
                     "shield.db.admin-password"):
            assert mode(os.path.join(rundir, name)) == 0o600, name
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        p.stdout.close()
    with open(os.path.join(rundir, "shieldd.log"), "rb") as f:
        log = f.read().decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in log, log[-4000:]


if __name__ == "__main__":
    run([test_umask_022, test_umask_000,
         test_existing_open_directory_is_left_alone,
         test_make_run_dir_is_private])
