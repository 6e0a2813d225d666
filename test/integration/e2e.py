"""Shared helpers for the end-to-end tests (test_e2e_*.py): a data system's
plugin driven through the running shieldd, not called directly.

Env is one daemon with the build's plugin dir, an fs store in a temp dir, a
schedule and a retention policy; it creates targets and paused jobs through
the API, runs backups and restores and waits for them.  The checks every
e2e test shares live here too: an archive recorded with the right size and
sha256, a failed task whose log names the problem in one line, no archive
row and no blob left after a failure, and no password anywhere in a task
log, its debug log or the daemon's own log.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import services
from shieldtest import Daemon, PLUGINS

# "YYYY-MM-DD HH:MM:SS [stage] text", one task log line.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[([^\]]+)\] (.*)$")
# A failed task must be over well before this; it proves "never hangs".
FAIL_WITHIN = 45


def start_service(name):
    """services.start(), except that mariadb gets a TMPDIR of its own:
    mariadb-install-db runs in parallel with another one that shares /tmp
    fail now and then ("Unknown table 'mysql.tmp_proxies_priv'")."""
    if name != "mariadb":
        return services.start(name)
    d = tempfile.mkdtemp(prefix="shield-%s." % name)
    tmp = os.path.join(d, "tmp")
    os.makedirs(tmp)
    subprocess.run(["bash", os.path.join(services.SERVICES, name + ".sh"), "start", d],
                   check=True, stdin=subprocess.DEVNULL, env=dict(os.environ, TMPDIR=tmp))
    env = {"DIR": d}
    with open(os.path.join(d, "env")) as f:
        for line in f:
            line = line.strip()
            if line and "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                env[k] = v
    return env


def start_services(*names):
    """Start services in parallel (each start is mostly waiting); returns
    their env dicts in order.  On error, stop what did start and raise."""
    envs = [None] * len(names)
    errors = []

    def one(i, name):
        try:
            envs[i] = start_service(name)
        except Exception as e:  # re-raised below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i, n))
               for i, n in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for name, env in zip(names, envs):
            if env is not None:
                services.stop(name, env)
        raise errors[0]
    return envs


def children(pid):
    """Every descendant pid of pid, from /proc."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c, pp in parent.items():
            if pp == p and c not in out:
                out.append(c)
                todo.append(c)
    return out


def crash(pid):
    """Kill a server and all its processes with SIGKILL, like a crash."""
    pids = [pid] + children(pid)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + 10
    for p in pids:
        while time.time() < deadline:
            try:
                with open("/proc/%d/status" % p) as f:
                    if "\nState:\tZ" in f.read():
                        break
            except OSError:
                break
            time.sleep(0.05)


def wait_for(what, fn, timeout=30, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def wait_for_value(fn, timeout, step=0.1):
    """fn() until true or timeout; its last value."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def log_lines(text, stage=None):
    """The messages of a task log, optionally only those of one stage."""
    out = []
    for line in (text or "").splitlines():
        m = LOG_LINE.match(line)
        if m and (stage is None or m.group(1) == stage):
            out.append(m.group(2))
    return out


class Env:
    """A shieldd with the build's plugins, an fs store, a schedule and a
    retention policy.  secrets: strings that must never show up in a task
    log, a debug log or the daemon's log (checked by check_secrets and on
    close)."""

    def __init__(self, prefix, args=None, secrets=()):
        self.tmp = tempfile.mkdtemp(prefix="shield-e2e-%s." % prefix)
        self.store_dir = os.path.join(self.tmp, "store")
        os.makedirs(self.store_dir)
        dtmp = os.path.join(self.tmp, "daemon")
        os.makedirs(dtmp)
        # The daemon and its plugins get a TMPDIR of their own, which must
        # be empty whenever no task runs: no spooled archive, snapshot or
        # credentials file is left behind, whatever happened.
        self.tmpdir = os.path.join(self.tmp, "tmpdir")
        os.makedirs(self.tmpdir)
        self.d = Daemon(plugins=PLUGINS, tmp=dtmp, args=args or [],
                        env={"TMPDIR": self.tmpdir})
        self.secrets = [s for s in secrets if s]
        self.d.start()
        self.d.login()
        # Validation uses the plugins' cached info; the daemon reads it in
        # the background after starting.  Until then an endpoint is created
        # unvalidated, so wait for the list first.
        want = {"fs", "postgres", "mysql", "redis", "rabbitmq"}
        wait_for("the plugin list", lambda: want <= {
            p.get("plugin") for p in self.d.api("GET", "/v1/plugins")}, timeout=20)
        self.store = self.d.create("stores", {
            "name": "store", "plugin": "fs",
            "endpoint": json.dumps({"base_dir": self.store_dir})})
        self.sched = self.d.create("schedules", {"name": "s", "when": "daily at 4am"})
        self.ret = self.d.create("retention", {"name": "r", "expires": 86400})
        self.n = 0

    def add_secret(self, s):
        if s and s not in self.secrets:
            self.secrets.append(s)

    # ---- objects ----
    def target(self, plugin, endpoint, name=None):
        """Create a target (endpoint sent as a JSON string); its uuid."""
        self.n += 1
        return self.d.create("targets", {
            "name": name or "%s-%d" % (plugin, self.n), "plugin": plugin,
            "endpoint": json.dumps(endpoint)})

    def target_rejected(self, plugin, endpoint):
        """Create a target that validation must refuse; the 400's body."""
        self.n += 1
        r = self.d.request("POST", "/v1/targets", {
            "name": "bad-%d" % self.n, "plugin": plugin, "endpoint": endpoint})
        assert r.status == 400, "wanted 400, got %r" % r
        return r.json

    def job(self, target):
        self.n += 1
        return self.d.create("jobs", {
            "name": "job-%d" % self.n, "target": target, "store": self.store,
            "schedule": self.sched, "retention": self.ret, "paused": True})

    # ---- tasks ----
    def start_backup(self, job):
        return self.d.api("POST", "/v1/job/%s/run" % job)["task_uuid"]

    def wait(self, uuid, timeout=120):
        t = self.d.wait_task(uuid, timeout=timeout)
        self.check_secrets(uuid)
        left = wait_for_value(lambda: os.listdir(self.tmpdir) == [], 5)
        assert left, "temporary files left behind: %r" % os.listdir(self.tmpdir)
        return t

    def backup(self, job, timeout=120):
        return self.wait(self.start_backup(job), timeout)

    def restore(self, archive, target=None, timeout=120):
        body = {"target": target} if target else {}
        r = self.d.api("POST", "/v1/archive/%s/restore" % archive, body)
        return self.wait(r["task_uuid"], timeout)

    def task(self, uuid):
        return self.d.api("GET", "/v1/task/%s?debug" % uuid)

    def archives(self, target):
        return self.d.api("GET", "/v1/archives?target=" + target)

    def blobs(self):
        return sorted(os.path.relpath(os.path.join(d, f), self.store_dir)
                      for d, _, fs in os.walk(self.store_dir) for f in fs)

    # ---- checks ----
    def check_secrets(self, uuid):
        t = self.task(uuid)
        for s in self.secrets:
            for k in ("log", "debug", "error"):
                text = t.get(k) or ""
                assert s not in text, "a password in the task's %s" % k
                # The daemon masks endpoint secrets with '*': a run of them
                # as long as the password means a plugin printed it.
                assert "*" * len(s) not in text, \
                    "a plugin printed a password (masked in the task's %s)" % k

    def backup_ok(self, target, job=None):
        """Run a backup of target and check its archive: recorded once, the
        stored blob's size and sha256 as recorded.  Returns (archive, path
        of the blob, task)."""
        job = job or self.job(target)
        before = [a["uuid"] for a in self.archives(target)]
        t = self.backup(job)
        assert t["status"] == "done", "backup failed: %s\n%s" % (t.get("error"), t.get("log"))
        new = [a for a in self.archives(target) if a["uuid"] not in before]
        assert len(new) == 1, new
        a = new[0]
        assert a["status"] == "valid" and a["target_uuid"] == target, a
        assert a["size"] > 0 and a["size"] == t["bytes"], (a, t["bytes"])
        path = os.path.join(self.store_dir, a["store_key"])
        assert os.path.getsize(path) == a["size"], "blob size differs from the catalog"
        assert sha256_file(path) == a["sha256"], "blob sha256 differs from the catalog"
        assert "archive %s stored: %d bytes, sha256 %s" % (a["uuid"], a["size"], a["sha256"]) \
            in t["log"], t["log"]
        return a, path, t

    def restore_ok(self, archive, target=None):
        t = self.restore(archive, target)
        assert t["status"] == "done", "restore failed: %s\n%s" % (t.get("error"), t.get("log"))
        return t

    def failed_clearly(self, t, stage, line, exact=True):
        """A task failed, and exactly one line of the stage in its log
        names the problem: equals `line` (exact) or contains it.  Returns
        that line."""
        assert t["status"] == "failed", "task should have failed: %r" % t
        assert t.get("error"), t
        said = log_lines(t["log"], stage)
        hits = [l for l in said if (l == line if exact else line in l)]
        assert len(hits) == 1, "wanted one %s line %s %r, got %r:\n%s" % (
            stage, "equal to" if exact else "with", line, hits, t["log"])
        return hits[0]

    def backup_fails(self, target, stage, line, exact=True, timeout=FAIL_WITHIN):
        """Back up target: the task fails clearly, in time, leaving no
        archive row and no blob in the store."""
        blobs = self.blobs()
        t0 = time.time()
        t = self.backup(self.job(target), timeout=timeout)
        assert time.time() - t0 < timeout, "took %.1fs" % (time.time() - t0)
        self.failed_clearly(t, stage, line, exact)
        assert self.archives(target) == [], "a failed backup must leave no archive row"
        assert self.blobs() == blobs, "a failed backup must leave no blob: %r" % self.blobs()
        return t

    def close(self, ok=True):
        try:
            self.d.stop(check=ok)
            log = self.d.read_log()
            if ok:
                for s in self.secrets:
                    assert s not in log, "a password in the daemon's log"
        finally:
            if ok:
                shutil.rmtree(self.tmp, ignore_errors=True)
            else:
                print("     (daemon files kept in %s)" % self.tmp)
