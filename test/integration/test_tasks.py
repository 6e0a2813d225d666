"""The task engine against the real daemon: fs backups and restores that
must reproduce trees exactly, the shell example plugin, plugins that fail,
hang, print garbage or stop early, cancel, kill -9 and restart, a store that
fails midway, a corrupted archive, expiry, and 20 concurrent backups while
the API keeps answering."""
import hashlib
import json
import os
import shutil
import signal
import stat
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, PLUGINS, SRC, run  # noqa: E402

FIXTURES = os.path.join(SRC, "test", "plugins")


def plugin_dir(tmp):
    """A plugin dir with the real fs and example plugins and the fixtures."""
    d = os.path.join(tmp, "plugins")
    os.makedirs(d)
    for name in ("fs", "example", "s3"):
        os.symlink(os.path.join(PLUGINS, name), os.path.join(d, name))
    for name in os.listdir(FIXTURES):
        os.symlink(os.path.join(FIXTURES, name), os.path.join(d, name))
    # fsfull: the real fs plugin with a 1 MiB file-size limit, like a full disk.
    with open(os.path.join(d, "fsfull"), "w") as f:
        f.write("#!/bin/sh\nulimit -f 1024\nexec %s \"$@\"\n" % os.path.join(PLUGINS, "fs"))
    os.chmod(os.path.join(d, "fsfull"), 0o755)
    return d


def snapshot(root):
    """Everything a restore must reproduce: type, mode, mtime, content, link target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), int(st.st_mtime))
            else:
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                out[rel] = ("file", stat.S_IMODE(st.st_mode), int(st.st_mtime), h.hexdigest())
    return out


def make_tree(root, big=False):
    os.makedirs(os.path.join(root, "sub", "deeper"))
    os.makedirs(os.path.join(root, "empty"))
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello world\n")
    with open(os.path.join(root, "sub", "deeper", "data.bin"), "wb") as f:
        f.write(os.urandom(300000))
    with open(os.path.join(root, "ünïcödé ✓.txt"), "w") as f:
        f.write("unicode name\n")
    with open(os.path.join(root, ".hidden"), "w") as f:
        f.write("dot file\n")
    os.chmod(os.path.join(root, "hello.txt"), 0o640)
    script = os.path.join(root, "run.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho hi\n")
    os.chmod(script, 0o755)
    os.symlink("hello.txt", os.path.join(root, "link-to-hello"))
    os.symlink("sub/deeper", os.path.join(root, "link-to-dir"))
    if big:
        with open(os.path.join(root, "big.bin"), "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(100):
                f.write(hashlib.sha256(block + bytes([i])).digest() * 32768)
    os.utime(os.path.join(root, "hello.txt"), (1500000000, 1500000000))


class Env:
    """A daemon with fs objects for one test."""

    def __init__(self, workers=None, args=None):
        self.tmp = tempfile.mkdtemp(prefix="shield-tasks.")
        self.plugins = plugin_dir(self.tmp)
        self.d = Daemon(workers=workers, plugins=self.plugins, args=args,
                        tmp=os.path.join(self.tmp, "daemon"))
        os.makedirs(self.d.tmp)
        self.d.start()
        self.d.login()
        self.sched = self.d.create("schedules", {"name": "s", "when": "daily at 4am"})
        self.ret = self.d.create("retention", {"name": "r", "expires": 86400})

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def target(self, name, plugin="fs", endpoint=None):
        if endpoint is None:
            endpoint = {"base_dir": self.path(name)}
        return self.d.create("targets", {"name": name, "plugin": plugin, "endpoint": json.dumps(endpoint)})

    def store(self, name, plugin="fs", endpoint=None):
        if endpoint is None:
            os.makedirs(self.path(name), exist_ok=True)
            endpoint = {"base_dir": self.path(name)}
        return self.d.create("stores", {"name": name, "plugin": plugin, "endpoint": json.dumps(endpoint)})

    def job(self, target, store, name="job"):
        return self.d.create("jobs", {"name": name, "target": target, "store": store,
                                      "schedule": self.sched, "retention": self.ret, "paused": True})

    def backup(self, job, timeout=300):
        return self.d.wait_task(self.d.api("POST", "/v1/job/%s/run" % job)["task_uuid"], timeout=timeout)

    def restore(self, archive, target=None, timeout=300):
        body = {"target": target} if target else {}
        r = self.d.api("POST", "/v1/archive/%s/restore" % archive, body)
        return self.d.wait_task(r["task_uuid"], timeout=timeout)

    def archives(self, **q):
        qs = "&".join("%s=%s" % kv for kv in q.items())
        return self.d.api("GET", "/v1/archives" + ("?" + qs if qs else ""))

    def close(self):
        self.d.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def test_fs_round_trip_exact():
    e = Env()
    try:
        make_tree(e.path("src"), big=True)
        before = snapshot(e.path("src"))
        j = e.job(e.target("src"), e.store("store"))
        t = e.backup(j)
        assert t["status"] == "done", t
        assert "[shieldd] archive" in t["log"] and "backup done" in t["log"], t["log"]
        a = e.archives()[0]
        assert a["size"] > 100 * 1024 * 1024 and a["size"] == t["bytes"], a
        with open(os.path.join(e.path("store"), a["store_key"]), "rb") as f:
            h = hashlib.sha256()
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        assert h.hexdigest() == a["sha256"], "recorded sha256 must match the stored blob"
        # destroy and change things, then restore
        shutil.rmtree(e.path("src", "sub"))
        with open(e.path("src", "hello.txt"), "w") as f:
            f.write("changed")
        with open(e.path("src", "new-file"), "w") as f:
            f.write("not in the archive")
        r = e.restore(a["uuid"])
        assert r["status"] == "done", r
        assert snapshot(e.path("src")) == before
        # restore into another, empty target
        other = e.target("other")
        r = e.restore(a["uuid"], target=other)
        assert r["status"] == "done" and r["target_uuid"] == other, r
        assert snapshot(e.path("other")) == before
        m = e.d.request("GET", "/metrics").body
        assert 'shield_tasks_finished_total{type="restore",outcome="done"} 2' in m, m
    finally:
        e.close()


def test_example_shell_plugin_round_trip():
    """A plugin written in sh to the protocol runs unchanged."""
    e = Env()
    try:
        make_tree(e.path("exsrc"))
        os.makedirs(e.path("exstore"))
        t = e.target("exsrc", plugin="example", endpoint={"dir": e.path("exsrc")})
        s = e.store("exstore", plugin="example", endpoint={"dir": e.path("exstore")})
        before = snapshot(e.path("exsrc"))
        task = e.backup(e.job(t, s))
        assert task["status"] == "done", task
        shutil.rmtree(e.path("exsrc"))
        os.makedirs(e.path("exsrc"))
        r = e.restore(e.archives()[0]["uuid"])
        assert r["status"] == "done", r
        after = snapshot(e.path("exsrc"))
        assert set(after) == set(before)
        assert after["hello.txt"][3] == before["hello.txt"][3]
    finally:
        e.close()


def test_failing_plugins():
    e = Env(args=["--idle-timeout", "3"])
    try:
        make_tree(e.path("src"))
        src = e.target("src")
        good_store = e.store("store")
        cases = [
            (e.target("t-fail", plugin="fail", endpoint={}), good_store, "exited with status 3",
             "failed on purpose"),
            (src, e.store("s-fail", plugin="fail", endpoint={}), "exited with status 3", "failed on purpose"),
            (src, e.store("s-garbage", plugin="garbage", endpoint={}), "key", None),
            (e.target("t-hang", plugin="hang", endpoint={}), good_store, "no output", None),
            (e.target("t-early", plugin="earlyeof", endpoint={}), good_store, "exited with status 1", None),
        ]
        for i, (t, s, why, logline) in enumerate(cases):
            job = e.job(t, s, name="fail-%d" % i)
            task = e.backup(job, timeout=60)
            assert task["status"] == "failed", task
            assert why in (task["error"] or ""), (why, task)
            if logline:
                assert logline in task["log"], task["log"]
            assert e.archives(target=t) == [], "a failed backup must not record an archive"
        # nothing but finished blobs in the good store: no partial files
        left = [f for _, _, fs in os.walk(e.path("store")) for f in fs]
        assert left == [], left
        # a store that closes its input early and prints a key: the partial blob is purged
        es = e.store("s-early", plugin="earlyeof", endpoint={})
        task = e.backup(e.job(src, es, name="early-store"), timeout=60)
        assert task["status"] == "failed", task
        assert e.archives(store=es) == []
        assert "purging the partial archive" in task["log"], task["log"]
        # a missing plugin fails the task with that reason
        os.unlink(os.path.join(e.plugins, "garbage"))
        task = e.backup(e.job(src, e.d.api("GET", "/v1/stores?plugin=garbage")[0]["uuid"], name="gone"))
        assert task["status"] == "failed" and "no plugin named 'garbage'" in task["error"], task
    finally:
        e.close()


def test_cancel_backup_and_restore():
    e = Env()
    try:
        slow_t = e.target("slow", plugin="slow", endpoint={"seconds": "60"})
        store = e.store("store")
        job = e.job(slow_t, store)
        tid = e.d.api("POST", "/v1/job/%s/run" % job)["task_uuid"]
        deadline = time.time() + 20
        while e.d.api("GET", "/v1/task/" + tid)["bytes"] < 4096 and time.time() < deadline:
            time.sleep(0.1)
        running = e.d.api("GET", "/v1/task/" + tid)
        assert running["status"] == "running" and running["bytes"] >= 4096, running
        assert e.d.api("DELETE", "/v1/task/" + tid) == {"ok": "canceled"}
        t = e.d.wait_task(tid, timeout=30)
        assert t["status"] == "canceled", t
        assert e.archives(target=slow_t) == []
        left = [os.path.join(dp, f) for dp, _, fs in os.walk(e.path("store")) for f in fs]
        assert left == [], (left, t["log"])
        # a restore canceled midway leaves the directory as it was
        make_tree(e.path("src"))
        src = e.target("src")
        slow_store = e.store("slowstore", plugin="slow", endpoint={"seconds": "60"})
        t = e.backup(e.job(src, slow_store, name="to-slow"))
        assert t["status"] == "done", t
        before = snapshot(e.path("src"))
        a = e.archives(store=slow_store)[0]
        rid = e.d.api("POST", "/v1/archive/%s/restore" % a["uuid"], {})["task_uuid"]
        deadline = time.time() + 20
        while e.d.api("GET", "/v1/task/" + rid)["bytes"] < 4096 and time.time() < deadline:
            time.sleep(0.1)
        e.d.api("DELETE", "/v1/task/" + rid)
        r = e.d.wait_task(rid, timeout=30)
        assert r["status"] == "canceled", r
        assert snapshot(e.path("src")) == before
        leftovers = [n for n in os.listdir(e.tmp) if "shield-restore" in n]
        assert leftovers == [], leftovers
        # pending tasks can be canceled too
        e.d.api("POST", "/v1/job/%s/run" % job)
        second = e.d.api("POST", "/v1/job/%s/run" % job)["task_uuid"]
        assert e.d.api("GET", "/v1/task/" + second)["status"] == "pending"
        e.d.api("DELETE", "/v1/task/" + second)
        assert e.d.api("GET", "/v1/task/" + second)["status"] == "canceled"
        for t in e.d.api("GET", "/v1/tasks?status=running"):
            e.d.api("DELETE", "/v1/task/" + t["uuid"])
    finally:
        e.close()


def procs_with(text):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
            with open("/proc/%s/stat" % pid) as f:
                state = f.read().split(")")[-1].split()[0]
        except OSError:
            continue
        if text.encode() in cmd and state != "Z":
            found.append(int(pid))
    return found


def test_kill9_and_restart():
    e = Env()
    try:
        marker = e.path("marker-%d" % os.getpid())
        os.makedirs(marker)
        slow_t = e.target("slow", plugin="slow", endpoint={"seconds": "60", "marker": marker})
        job = e.job(slow_t, e.store("store"))
        tid = e.d.api("POST", "/v1/job/%s/run" % job)["task_uuid"]
        deadline = time.time() + 20
        while e.d.api("GET", "/v1/task/" + tid)["status"] != "running" and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        assert procs_with(marker), "the slow plugin should be running"
        e.d.kill9()
        deadline = time.time() + 10
        while procs_with(marker) and time.time() < deadline:
            time.sleep(0.1)
        assert procs_with(marker) == [], "plugin processes must not outlive shieldd"
        e.d.start()
        e.d.login()
        t = e.d.api("GET", "/v1/task/" + tid)
        assert t["status"] == "failed" and "interrupted" in t["error"], t
        assert e.archives() == []
        left = [os.path.join(dp, f) for dp, _, fs in os.walk(e.path("store")) for f in fs]
        assert left == [], left
    finally:
        e.close()


def test_task_time_limit():
    """A task running past --task-timeout fails with that reason."""
    e = Env(args=["--task-timeout", "2"])
    try:
        slow = e.target("slow", plugin="slow", endpoint={"seconds": "30"})
        t = e.backup(e.job(slow, e.store("store")), timeout=60)
        assert t["status"] == "failed" and "timed out after 2" in t["error"], t
        assert e.archives() == []
    finally:
        e.close()


def test_sigterm_while_tasks_run():
    """SIGTERM with a backup streaming and a purge just queued: shieldd exits
    0 within seconds, cleanly, and the running task says why it ended."""
    e = Env()
    try:
        make_tree(e.path("src"))
        j = e.job(e.target("src"), e.store("store"))
        assert e.backup(j)["status"] == "done"
        a = e.archives()[0]
        slow = e.job(e.target("slow", plugin="slow", endpoint={"seconds": "60"}),
                     e.d.api("GET", "/v1/stores")[0]["uuid"], name="slow")
        tid = e.d.api("POST", "/v1/job/%s/run" % slow)["task_uuid"]
        deadline = time.time() + 20
        while e.d.api("GET", "/v1/task/" + tid)["status"] != "running" and time.time() < deadline:
            time.sleep(0.1)
        e.d.api("DELETE", "/v1/archive/" + a["uuid"])
        t0 = time.time()
        e.d.stop()          # SIGTERM; asserts exit 0 and a clean sanitizer log
        assert time.time() - t0 < 15, "shutdown took %.1fs" % (time.time() - t0)
        e.d.start()
        e.d.login()
        t = e.d.api("GET", "/v1/task/" + tid)
        assert t["status"] == "failed" and "shieldd was stopped" in t["error"], t
    finally:
        e.close()


def test_store_failing_midway():
    e = Env()
    try:
        os.makedirs(e.path("src"))
        with open(e.path("src", "five-mb"), "wb") as f:
            f.write(os.urandom(5 << 20))
        os.makedirs(e.path("full"))
        s = e.store("full", plugin="fsfull", endpoint={"base_dir": e.path("full")})
        t = e.backup(e.job(e.target("src"), s))
        assert t["status"] == "failed", t
        assert e.archives() == []
        left = [f for _, _, fs in os.walk(e.path("full")) for f in fs]
        assert left == [], "the store must leave no partial blob: %r" % left
    finally:
        e.close()


def test_checksum_mismatch_on_restore():
    e = Env()
    try:
        make_tree(e.path("src"))
        j = e.job(e.target("src"), e.store("store"))
        assert e.backup(j)["status"] == "done"
        a = e.archives()[0]
        blob = os.path.join(e.path("store"), a["store_key"])
        # flip a byte inside file content, where the tar format has no
        # checksum of its own: only the recorded SHA-256 can catch it
        with open(blob, "r+b") as f:
            f.seek(a["size"] // 2)
            b = f.read(1)
            f.seek(a["size"] // 2)
            f.write(bytes([b[0] ^ 0xff]))
        with open(e.path("src", "hello.txt"), "w") as f:
            f.write("current data that must survive")
        before = snapshot(e.path("src"))
        r = e.restore(a["uuid"])
        assert r["status"] == "failed" and "checksum mismatch" in r["error"], r
        assert snapshot(e.path("src")) == before, "a corrupt archive must not touch the target"
        # a truncated blob is caught too
        with open(blob, "r+b") as f:
            f.truncate(a["size"] // 2)
        r = e.restore(a["uuid"])
        assert r["status"] == "failed", r
        assert snapshot(e.path("src")) == before
    finally:
        e.close()


def test_expired_archives_are_purged():
    e = Env()
    try:
        make_tree(e.path("src"))
        j = e.job(e.target("src"), e.store("store"))
        assert e.backup(j)["status"] == "done"
        assert e.backup(j)["status"] == "done"
        old, keep = e.archives()
        e.d.stop()
        db = sqlite3.connect(e.d.db)
        db.execute("update archives set expires_at = strftime('%s','now') - 10 where uuid = ?", (old["uuid"],))
        db.commit()
        db.close()
        e.d.start()
        e.d.login()
        deadline = time.time() + 30
        while e.d.api("GET", "/v1/archive/" + old["uuid"])["status"] != "purged" and time.time() < deadline:
            time.sleep(0.2)
        assert e.d.api("GET", "/v1/archive/" + old["uuid"])["status"] == "purged"
        assert not os.path.exists(os.path.join(e.path("store"), old["store_key"]))
        assert e.d.api("GET", "/v1/archive/" + keep["uuid"])["status"] == "valid"
        assert os.path.exists(os.path.join(e.path("store"), keep["store_key"]))
        purges = [t for t in e.d.api("GET", "/v1/tasks") if t["type"] == "purge"]
        assert purges and purges[0]["owner"] == "system" and purges[0]["status"] == "done", purges
    finally:
        e.close()


def test_one_task_per_target_and_20_concurrent():
    e = Env(workers=4)
    try:
        store = e.store("store")
        jobs = []
        for i in range(20):
            root = e.path("src%02d" % i)
            os.makedirs(root)
            with open(os.path.join(root, "f"), "wb") as f:
                f.write(os.urandom(2 << 20))
            jobs.append(e.job(e.target("src%02d" % i), store, name="j%02d" % i))
        tasks = [e.d.api("POST", "/v1/job/%s/run" % j)["task_uuid"] for j in jobs]
        answered = []
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                answered.append(e.d.request("GET", "/v1/jobs").status)
                running = len(e.d.api("GET", "/v1/tasks?status=running"))
                answered.append(running)
        th = threading.Thread(target=poll)
        th.start()
        done = [e.d.wait_task(t, timeout=300) for t in tasks]
        stop.set()
        th.join()
        assert all(t["status"] == "done" for t in done), [t["error"] for t in done]
        statuses = answered[0::2]
        running_counts = answered[1::2]
        assert statuses and all(s == 200 for s in statuses)
        assert max(running_counts) <= 4, "never more tasks than --workers"
        assert len(e.archives()) == 20
        # two runs of one job: the second waits for the first (one task per target)
        slow_t = e.target("slow", plugin="slow", endpoint={"seconds": "2"})
        sj = e.job(slow_t, store, name="serial")
        a = e.d.api("POST", "/v1/job/%s/run" % sj)["task_uuid"]
        b = e.d.api("POST", "/v1/job/%s/run" % sj)["task_uuid"]
        ta = e.d.wait_task(a, timeout=60)
        tb = e.d.wait_task(b, timeout=60)
        assert tb["started_at"] >= ta["stopped_at"], (ta, tb)
    finally:
        e.close()


if __name__ == "__main__":
    run([test_fs_round_trip_exact, test_example_shell_plugin_round_trip, test_failing_plugins,
         test_cancel_backup_and_restore, test_kill9_and_restart, test_task_time_limit,
         test_sigterm_while_tasks_run,
         test_store_failing_midway,
         test_checksum_mismatch_on_restore, test_expired_archives_are_purged,
         test_one_task_per_target_and_20_concurrent])
