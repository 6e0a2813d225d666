#!/usr/bin/env python3
"""shieldd's own limits on what it hands to plugins, against the real daemon:

- PUT of an unknown target or store is a 404, even with an endpoint the
  plugin would reject;
- an fs base_dir that is or resolves to /, or holds shieldd's catalog, or
  holds or lies in its plugin or web directory, is refused when saved (400,
  the plugin never runs) and again when a task starts (the task fails);
- with --fs-roots, an fs target outside those roots likewise;
- a *_bindir outside --bin-dirs (default /usr/bin, /usr/local/bin,
  /usr/lib/postgresql/*/bin; symlinks and .. resolved) likewise;
- a store key that starts with '-', is empty, or holds control characters
  or invalid UTF-8 fails the backup, records nothing and reaches no plugin,
  not even purge; a good key goes back as "--key KEY".

The fs plugin here is a wrapper that records each action it is asked for,
never restores and never reads a base_dir of / (the catalog is edited to
that exact text), so nothing can touch / even if a check were missing.
"""
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, PLUGINS, SRC, run  # noqa: E402

FIXTURES = os.path.join(SRC, "test", "plugins")
NO_UUID = "00000000-0000-4000-8000-000000000000"


class Env:
    """A daemon on a temp dir whose fs plugin records what it runs."""

    def __init__(self, args=None):
        self.tmp = tempfile.mkdtemp(prefix="shield-limits.")
        self.plugins = self.path("plugins")
        os.makedirs(self.plugins)
        self.fs_log = self.path("fs.log")
        with open(os.path.join(self.plugins, "fs"), "w") as f:
            f.write("#!/bin/sh\n"
                    "printf '%%s\\n' \"$1\" >> '%s'\n"
                    "if [ \"$1\" = restore ]; then\n"
                    "  echo 'fs: this test never restores' >&2; exit 1\n"
                    "fi\n"
                    "case \"$*\" in *'\"base_dir\": \"/\"'*)\n"
                    "  echo 'fs: this test never reads /' >&2; exit 1 ;;\n"
                    "esac\n"
                    "exec '%s' \"$@\"\n" % (self.fs_log, os.path.join(PLUGINS, "fs")))
        os.chmod(os.path.join(self.plugins, "fs"), 0o755)
        for name in ("empty", "badkey"):
            os.symlink(os.path.join(FIXTURES, name), os.path.join(self.plugins, name))
        os.makedirs(self.path("daemon"))
        self.d = Daemon(plugins=self.plugins, args=args, tmp=self.path("daemon"))
        self.d.start()
        self.d.login()
        self.sched = self.d.create("schedules", {"name": "s", "when": "daily at 4am"})
        self.ret = self.d.create("retention", {"name": "r", "expires": 86400})

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def fs_actions(self):
        try:
            with open(self.fs_log) as f:
                return [a for a in f.read().split() if a != "info"]
        except FileNotFoundError:
            return []

    def post(self, kind, plugin, endpoint, name=None):
        return self.d.request("POST", "/v1/" + kind, {
            "name": name or "x-" + uuid.uuid4().hex[:8], "plugin": plugin,
            "endpoint": endpoint})

    def create(self, kind, plugin, endpoint):
        r = self.post(kind, plugin, endpoint)
        assert r.status == 200, r
        return r.json["uuid"]

    def job(self, target, store):
        return self.d.create("jobs", {"name": "j-" + uuid.uuid4().hex[:8],
                                      "target": target, "store": store,
                                      "schedule": self.sched, "retention": self.ret,
                                      "paused": True})

    def backup(self, job):
        r = self.d.api("POST", "/v1/job/%s/run" % job)
        return self.d.wait_task(r["task_uuid"])

    def restore(self, archive):
        r = self.d.api("POST", "/v1/archive/%s/restore" % archive, {})
        return self.d.wait_task(r["task_uuid"])

    def archives(self):
        return self.d.api("GET", "/v1/archives")

    def restart(self, args):
        self.d.stop()
        self.d.extra_args = args
        self.d.start()
        self.d.login()

    def sql(self, query, *params):
        db = sqlite3.connect(self.d.db)
        db.execute(query, params)
        db.commit()
        db.close()

    def close(self):
        self.d.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def refused(r, *words):
    """A 400 with reasons, each word somewhere in the error."""
    assert r.status == 400, r
    assert r.json.get("reasons"), r
    for w in words:
        assert w in r.json["error"], (w, r.json)
    return r.json


def task_log(t):
    log = t.get("log")
    return log if isinstance(log, str) else json.dumps(log)


def test_put_unknown_uuid_is_404():
    e = Env()
    try:
        for one in ("target", "store"):
            body = {"name": "n", "summary": "", "plugin": "fs",
                    "endpoint": {"base_dir": "relative/dir"}}
            r = e.d.request("PUT", "/v1/%s/%s" % (one, NO_UUID), body)
            assert r.status == 404 and "not found" in r.json["error"], r
            r = e.d.request("PUT", "/v1/%s/%s" % (one, NO_UUID),
                            dict(body, endpoint={"base_dir": "/"}))
            assert r.status == 404, r
            r = e.d.request("PUT", "/v1/%s/%s" % (one, NO_UUID), {"name": "n"})
            assert r.status == 404, r
        assert "validate" not in e.fs_actions()
        # A known one still gets the plugin's reasons.
        os.makedirs(e.path("src"))
        t = e.create("targets", "fs", {"base_dir": e.path("src")})
        r = e.d.request("PUT", "/v1/target/" + t, {
            "name": "n", "summary": "", "plugin": "fs",
            "endpoint": {"base_dir": "relative/dir"}})
        refused(r, "base_dir must be an absolute path")
    finally:
        e.close()


def test_fs_base_dir_refused_on_save():
    e = Env()
    try:
        os.symlink("/", e.path("rootlink"))
        os.makedirs(e.path("src"))
        bad = [
            ("/", "must not be /"), ("//", "must not be /"),
            ("/tmp/..", "must not be /"), (e.path("rootlink"), "must not be /"),
            (e.path("src", "..", "..", "..", ".."), "must not be /"),
            (e.d.tmp, "holds shieldd's catalog"),
            (e.tmp, "holds shieldd's catalog"),
            (e.d.db, "catalog files"), (e.d.db + "-wal", "catalog files"),
            (e.plugins, "plugin directory"),
            (os.path.join(e.plugins, "fs"), "plugin directory"),
            (os.path.join(SRC, "api", "web"), "web directory"),
            (os.path.join(SRC, "api", "web", "views"), "web directory"),
            (SRC, "web directory"),
        ]
        for kind in ("targets", "stores"):
            for path, words in bad:
                refused(e.post(kind, "fs", {"base_dir": path}), words)
        # The plugin was never asked: shieldd refused first.
        assert e.fs_actions() == [], e.fs_actions()
        ok = e.create("targets", "fs", {"base_dir": e.path("src")})
        assert e.fs_actions() == ["validate"]
        # Beside the catalog (where `make run` keeps its demo data) is fine.
        e.create("targets", "fs", {"base_dir": os.path.join(e.d.tmp, "data")})
        # An update to / is refused and changes nothing.
        r = e.d.request("PUT", "/v1/target/" + ok, {
            "name": "t", "summary": "", "plugin": "fs", "endpoint": {"base_dir": "/"}})
        refused(r, "must not be /")
        got = json.loads(e.d.api("GET", "/v1/target/" + ok)["endpoint"])
        assert got == {"base_dir": e.path("src")}, got
        # Other plugins' keys of that name are theirs to judge.
        e.create("targets", "empty", {"base_dir": "/"})
    finally:
        e.close()


def test_root_base_dir_at_task_time():
    e = Env()
    try:
        os.makedirs(e.path("src"))
        with open(e.path("src", "f"), "w") as f:
            f.write("data\n")
        os.makedirs(e.path("store"))
        t = e.create("targets", "fs", {"base_dir": e.path("src")})
        j = e.job(t, e.create("stores", "fs", {"base_dir": e.path("store")}))
        assert e.backup(j)["status"] == "done"
        a = e.archives()[0]["uuid"]
        # As if saved by an older shieldd: the catalog says base_dir is /.
        e.d.stop()
        e.sql("UPDATE targets SET endpoint = ? WHERE uuid = ?",
              json.dumps({"base_dir": "/"}), t)
        e.d.start()
        e.d.login()
        before = e.fs_actions()
        for task in (e.restore(a), e.backup(j)):
            assert task["status"] == "failed", task
            assert "the target's endpoint is not allowed: base_dir must not " \
                   "be /" in task["error"], task
            assert "must not be /" in task_log(task), task
        assert e.fs_actions() == before, e.fs_actions()
        assert len(e.archives()) == 1
    finally:
        e.close()


def test_fs_roots_on_save_and_at_task_time():
    e = Env()
    try:
        for d in ("inside", "outside/src", "store"):
            os.makedirs(e.path(d))
        with open(e.path("outside", "src", "f"), "w") as f:
            f.write("data\n")
        t = e.create("targets", "fs", {"base_dir": e.path("outside", "src")})
        j = e.job(t, e.create("stores", "fs", {"base_dir": e.path("store")}))
        assert e.backup(j)["status"] == "done"
        a = e.archives()[0]["uuid"]
        roots = e.path("inside") + ":" + e.path("nowhere")
        e.restart(["--fs-roots", roots])
        before = e.fs_actions()
        for task in (e.backup(j), e.restore(a)):
            assert task["status"] == "failed", task
            assert "outside the directories fs targets may use" in task["error"], task
            assert "--fs-roots " + roots in task["error"], task
        assert e.fs_actions() == before, e.fs_actions()
        assert len(e.archives()) == 1
        # On save: outside (also through .. or a symlink) is refused.
        os.symlink(e.path("outside"), e.path("inside", "link"))
        for path in (e.path("outside", "src"), e.path("inside", "..", "outside"),
                     e.path("inside", "link"), e.path("insidex")):
            refused(e.post("targets", "fs", {"base_dir": path}),
                    "outside the directories fs targets may use")
        e.create("targets", "fs", {"base_dir": e.path("inside")})
        e.create("targets", "fs", {"base_dir": e.path("inside", "new")})
        # Stores are not bound by --fs-roots.
        e.create("stores", "fs", {"base_dir": e.path("store")})
        # Moving the target inside makes it usable again.
        r = e.d.request("PUT", "/v1/target/" + t, {
            "name": "t", "summary": "", "plugin": "fs",
            "endpoint": {"base_dir": e.path("inside")}})
        assert r.status == 200, r
        assert e.backup(j)["status"] == "done"
    finally:
        e.close()


def test_bindir_on_save_and_at_task_time():
    e = Env()
    try:
        for d in ("tools", "pg/15/bin", "evil", "store"):
            os.makedirs(e.path(d))
        os.symlink("/usr/bin", e.path("usrbin"))
        # The default list: /usr/bin, /usr/local/bin, /usr/lib/postgresql/*/bin.
        for value in ("/usr/bin", "/usr/bin/", e.path("usrbin"), "/usr/local/bin",
                      "/usr/local/../bin"):
            e.create("targets", "empty", {"pg_bindir": value})
        for value in (e.path("tools"), "/usr/bin/..", "/usr/bin/../sbin", "/",
                      e.path("evil")):
            body = refused(e.post("targets", "empty", {"pg_bindir": value}),
                           "is not one of the directories shieldd lets plugins "
                           "run tools from", "--bin-dirs /usr/bin:/usr/local/bin:"
                           "/usr/lib/postgresql/*/bin")
            assert "pg_bindir " + value in body["error"], body
        refused(e.post("targets", "empty", {"pg_bindir": "/nonexistent/bin"}),
                "pg_bindir /nonexistent/bin is not a directory")
        refused(e.post("targets", "empty", {"mysql_bindir": "usr/bin"}),
                "mysql_bindir must be an absolute path")
        refused(e.post("stores", "badkey", {"x_bindir": e.path("evil")}), "x_bindir")
        t = e.create("targets", "empty", {"redis_bindir": "/usr/bin"})
        j = e.job(t, e.create("stores", "fs", {"base_dir": e.path("store")}))
        assert e.backup(j)["status"] == "done"
        # Stricter now: the target saved before fails when its task starts.
        allowed = e.path("tools") + ":" + e.path("pg", "*", "bin")
        e.restart(["--bin-dirs", allowed])
        task = e.backup(j)
        assert task["status"] == "failed", task
        assert "redis_bindir /usr/bin is not one of the directories" in task["error"], task
        assert len(e.archives()) == 1
        e.create("targets", "empty", {"pg_bindir": e.path("tools")})
        e.create("targets", "empty", {"pg_bindir": e.path("pg", "15", "bin")})
        refused(e.post("targets", "empty", {"pg_bindir": e.path("pg", "15")}),
                "--bin-dirs " + allowed)
        refused(e.post("targets", "empty", {"pg_bindir": "/usr/bin"}), "--bin-dirs")
    finally:
        e.close()


def bad_key_job(e, raw, log):
    t = e.create("targets", "empty", {})
    s = e.create("stores", "badkey", {"key_raw": raw.hex(), "log": log})
    return e.job(t, s)


def key_calls(log):
    try:
        with open(log) as f:
            return [json.loads(l) for l in f]
    except FileNotFoundError:
        return []


def test_bad_store_keys():
    e = Env()
    try:
        cases = [
            (b"--endpoint", "starts with '-'", "--endpoint"),
            (b"-k", "starts with '-'", "-k"),
            (b"a\\nforged line", "control character", "a\\x0aforged line"),
            (b"a\\u001b[31mred", "control character", "a\\x1b[31mred"),
            (b"a\\u0085", "control character", "a\\xc2\\x85"),
            (b"a\xffb", "not valid UTF-8", "a\\xffb"),
            (b"a\xc3", "not valid UTF-8", "a\\xc3"),
        ]
        for raw, why, shown in cases:
            log = e.path("keys-%s.log" % uuid.uuid4().hex[:6])
            task = e.backup(bad_key_job(e, raw, log))
            assert task["status"] == "failed", (raw, task)
            assert "the store returned a key shieldd refuses" in task["error"], task
            assert why in task["error"], (raw, task["error"])
            text = task_log(task)
            assert "no archive is recorded and the key is passed to no plugin, " \
                   "not even to purge" in text, text
            assert '"%s"' % shown in text, (shown, text)
            assert "forged line" not in text.replace("a\\x0aforged line", ""), text
            # The store ran once; no purge, no retrieve, with any key.
            assert [c["action"] for c in key_calls(log)] == ["store"], key_calls(log)
        # An empty key is no key at all.
        log = e.path("keys-empty.log")
        task = e.backup(bad_key_job(e, b"", log))
        assert task["status"] == "failed" and "key" in task["error"], task
        assert [c["action"] for c in key_calls(log)] == ["store"]
        assert e.archives() == []

        # A good key is recorded, and passed back as "--key KEY".
        log = e.path("keys-good.log")
        assert e.backup(bad_key_job(e, b"ok/key-1", log))["status"] == "done"
        a = e.archives()
        assert len(a) == 1 and a[0]["store_key"] == "ok/key-1", a
        assert e.restore(a[0]["uuid"])["status"] == "done"
        calls = key_calls(log)
        assert calls[1]["action"] == "retrieve", calls
        args = [bytes.fromhex(x).decode() for x in calls[1]["args_hex"]]
        assert args[-2:] == ["--key", "ok/key-1"] or \
            args[args.index("--key") + 1] == "ok/key-1", args

        # A bad key already in the catalog (from an older shieldd) reaches no
        # plugin either: restore and purge fail before starting one.
        e.d.stop()
        e.sql("UPDATE archives SET store_key = ? WHERE uuid = ?", "--endpoint",
              a[0]["uuid"])
        e.d.start()
        e.d.login()
        n = len(key_calls(log))
        task = e.restore(a[0]["uuid"])
        assert task["status"] == "failed", task
        assert "store key is not passed to a plugin: it starts with '-'" in task["error"], task
        r = e.d.api("DELETE", "/v1/archive/" + a[0]["uuid"])
        task = e.d.wait_task(r["task_uuid"])
        assert task["status"] == "failed", task
        assert "store key is not passed to a plugin" in task["error"], task
        assert len(key_calls(log)) == n, key_calls(log)
    finally:
        e.close()


if __name__ == "__main__":
    run([test_put_unknown_uuid_is_404, test_fs_base_dir_refused_on_save,
         test_root_base_dir_at_task_time, test_fs_roots_on_save_and_at_task_time,
         test_bindir_on_save_and_at_task_time, test_bad_store_keys])
