"""Integration test of the `shield` CLI against the real shieldd.

Each test runs the built CLI as a subprocess with a temporary HOME and
SHIELD_CONFIG, against a daemon on a free port: login and logout, every
command in table and --json form, the filters, name and prefix resolution
(ambiguous prefixes too), `edit` through a scripted $EDITOR, `run --wait` on
jobs that succeed and fail, the error classes (connection refused, 401, 404,
409, TLS), the config file's mode, and interactive create on a pty.
"""
import json
import os
import pty
import re
import select
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import (Daemon, run, free_port, SANITIZER_MARKS,  # noqa: E402
                        SHIELD_CLI, PLUGINS, SRC, ADMIN_PASSWORD)

D = None            # the main daemon, with the build's plugins
D2 = None           # a daemon with the fs, fail and slow plugins only
TMP = None
CFG = None          # the logged-in config file for D
PWFILE = None
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12}$")


def cli(*args, config=None, env=None, input=None, home=None, timeout=120):
    """Run the CLI; check stderr for sanitizer reports."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("SHIELD_") and k not in ("EDITOR", "VISUAL")}
    e["HOME"] = home or os.path.join(TMP, "home")
    e["SHIELD_CONFIG"] = config or CFG
    e["NO_COLOR"] = "1"
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    if home is not None and config is None:
        del e["SHIELD_CONFIG"]
    e.update(env or {})
    p = subprocess.run([SHIELD_CLI] + [str(a) for a in args], env=e,
                       input=input, capture_output=True, text=True,
                       timeout=timeout)
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    return p


def ok(*args, **kw):
    p = cli(*args, **kw)
    assert p.returncode == 0, "%r -> %d\nstdout: %s\nstderr: %s" % (
        args, p.returncode, p.stdout, p.stderr)
    return p


def fail(*args, rc=1, **kw):
    """Run a command that must fail with one clear line on stderr."""
    p = cli(*args, **kw)
    assert p.returncode == rc, "%r -> %d (wanted %d)\nstdout: %s\nstderr: %s" % (
        args, p.returncode, rc, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shield: "), p.stderr
    assert "HTTP/1.1" not in p.stderr and "{" not in lines[0].split(":", 1)[0]
    return p


def js(*args, **kw):
    return json.loads(ok("--json", *args, **kw).stdout)


def table(out):
    """A table's rows as dicts keyed by header (columns split on 2+ spaces)."""
    lines = [l for l in out.splitlines() if l.strip()]
    head = re.split(r"\s{2,}", lines[0].strip())
    return [dict(zip(head, re.split(r"\s{2,}", l.strip()))) for l in lines[1:]]


def ep(path):
    return json.dumps({"base_dir": path})


def login(daemon, config):
    return ok("login", "--url", daemon.url, "--password-file", PWFILE,
              config=config)


def setup():
    global D, D2, TMP, CFG, PWFILE
    TMP = tempfile.mkdtemp(prefix="shield-cli.")
    for d in ("home", "src", "store", "restore", "cfg"):
        os.makedirs(os.path.join(TMP, d))
    with open(os.path.join(TMP, "src", "hello.txt"), "w") as f:
        f.write("hello from the source\n")
    PWFILE = os.path.join(TMP, "pw")
    with open(PWFILE, "w") as f:
        f.write(ADMIN_PASSWORD + "\n")
    CFG = os.path.join(TMP, "cfg", "config")
    D = Daemon().start()
    D.login()
    login(D, CFG)
    # The second daemon gets fixture plugins that fail and run slowly.
    pdir = os.path.join(TMP, "plugins")
    os.makedirs(pdir)
    shutil.copy(os.path.join(PLUGINS, "fs"), pdir)
    for p in ("fail", "slow"):
        shutil.copy(os.path.join(SRC, "test", "plugins", p), pdir)
    D2 = Daemon(plugins=pdir).start()
    D2.login()


def teardown():
    for d in (D, D2):
        if d is not None:
            d.stop()
    shutil.rmtree(TMP, ignore_errors=True)


def basics(prefix):
    """A target, store, schedule and retention policy, made with the CLI."""
    os.makedirs(os.path.join(TMP, prefix + "-src"), exist_ok=True)
    with open(os.path.join(TMP, prefix + "-src", "f.txt"), "w") as f:
        f.write(prefix + "\n")
    t = ok("-q", "create", "target", "--name", prefix + "-t", "--plugin", "fs",
           "--endpoint", ep(os.path.join(TMP, prefix + "-src"))).stdout.strip()
    s = ok("-q", "create", "store", "--name", prefix + "-s", "--plugin", "fs",
           "--set", "base_dir=" + os.path.join(TMP, "store")).stdout.strip()
    sc = ok("-q", "create", "schedule", "--name", prefix + "-sc", "--when",
            "daily at 4am").stdout.strip()
    r = ok("-q", "create", "retention", "policy", "--name", prefix + "-r",
           "--expires", "7d").stdout.strip()
    for u in (t, s, sc, r):
        assert UUID_RE.match(u), u
    return t, s, sc, r


def make_job(prefix, paused=False):
    t, s, sc, r = basics(prefix)
    args = ["-q", "create", "job", "--name", prefix + "-job", "--target",
            prefix + "-t", "--store", prefix + "-s", "--schedule",
            prefix + "-sc", "--retention-policy", prefix + "-r"]
    if paused:
        args.append("--paused")
    j = ok(*args).stdout.strip()
    assert UUID_RE.match(j), j
    return j, t, s, sc, r


def editor(tmpname, sed):
    """A tiny $EDITOR that rewrites its file with sed."""
    path = os.path.join(TMP, tmpname)
    with open(path, "w") as f:
        f.write("#!/bin/sh\nsed -i '%s' \"$1\"\n" % sed)
    os.chmod(path, 0o755)
    return path


# ---------------------------------------------------------------- login
def test_login_writes_config_0600():
    cfg = os.path.join(TMP, "fresh", "sub", "config")
    os.makedirs(os.path.dirname(cfg))
    p = login(D, cfg)
    assert "logged in to %s as admin" % D.url in p.stdout, p.stdout
    st = os.stat(cfg)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    c = json.load(open(cfg))
    assert c["url"] == D.url and len(c["token"]) >= 32, c
    # The token works for the API itself.
    r = D.request("GET", "/v1/auth/me", token=c["token"])
    assert r.status == 200 and r.json["username"] == "admin", r
    assert ok("status", config=cfg).stdout.startswith("shieldd:")


def test_login_honours_home():
    home = os.path.join(TMP, "home2")
    os.makedirs(home)
    ok("login", "--url", D.url, "--username", "admin", "--password-file",
       PWFILE, home=home)
    cfg = os.path.join(home, ".shield", "config")
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(cfg)).st_mode) == 0o700
    assert "admin" in ok("status", home=home).stdout


def test_login_password_on_stdin_and_wrong_password():
    cfg = os.path.join(TMP, "cfg", "stdin")
    ok("login", "--url", D.url, "--password-file", "-", config=cfg,
       input=ADMIN_PASSWORD + "\n")
    bad = os.path.join(TMP, "badpw")
    with open(bad, "w") as f:
        f.write("wrong\n")
    p = fail("login", "--url", D.url, "--password-file", bad,
             config=os.path.join(TMP, "cfg", "bad"))
    assert "wrong username or password" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(TMP, "cfg", "bad"))
    p = fail("login", config=os.path.join(TMP, "cfg", "none"), rc=2)
    assert "--url" in p.stderr
    p = fail("login", "--url", D.url, config=os.path.join(TMP, "cfg", "n2"))
    assert "--password-file" in p.stderr


def test_logout_forgets_token():
    cfg = os.path.join(TMP, "cfg", "logout")
    login(D, cfg)
    token = json.load(open(cfg))["token"]
    p = ok("logout", config=cfg)
    assert "logged out" in p.stdout
    c = json.load(open(cfg))
    assert "token" not in c and c["url"] == D.url, c
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600
    # The session is gone on the server too.
    assert D.request("GET", "/v1/auth/me", token=token).status == 401
    p = fail("list", "jobs", config=cfg)
    assert "not logged in" in p.stderr and "shield login" in p.stderr
    ok("logout", config=cfg)    # twice is fine


def test_env_and_flags_override_config():
    empty = os.path.join(TMP, "cfg", "empty")
    env = {"SHIELD_URL": D.url, "SHIELD_TOKEN": D.token}
    assert isinstance(js("list", "jobs", config=empty, env=env), list)
    js("--url", D.url, "--token", D.token, "list", "targets", config=empty)
    # --url beats the config; the saved token is not sent elsewhere.
    p = fail("--url", D2.url, "list", "jobs")
    assert "not logged in to " + D2.url in p.stderr, p.stderr
    js("--url", D2.url, "--token", D2.token, "list", "jobs")
    p = fail("list", "jobs", env={"SHIELD_URL": "http://127.0.0.1:%d" % free_port()})
    assert "connection refused" in p.stderr


# ---------------------------------------------------------------- basics
def test_status_and_plugins():
    out = ok("status").stdout
    for key in ("shieldd:", "user:", "version:", "uptime:", "tasks:"):
        assert key in out, out
    st = js("status")
    assert "tasks" in st and "version" in st, st
    rows = table(ok("plugins").stdout)
    fs = [r for r in rows if r["PLUGIN"] == "fs"]
    assert fs and fs[0]["TARGET"] == "yes" and fs[0]["STORE"] == "yes", rows
    assert ok("list", "plugins").stdout == ok("plugins").stdout
    names = [p["plugin"] for p in js("plugins")]
    assert "fs" in names
    assert "fs" in ok("-q", "plugins").stdout.split()
    out = ok("show", "plugin", "fs").stdout
    assert "base_dir (path, required): Directory" in out, out
    assert "include (list, only for a target): Include" in out, out
    assert "Endpoint fields" in out
    assert js("show", "plugin", "fs")["fields"][0]["name"] == "base_dir"
    p = fail("show", "plugin", "nope")
    assert 'plugin "nope" not found' in p.stderr


def test_help_documents_every_command():
    out = ok("--help").stdout
    for phrase in ("login", "logout", "status", "plugins", "timespec"):
        assert "  " + phrase in out, phrase
    for verb, nouns in (("list", "jobs targets stores schedules archives tasks"),
                        ("show", "job target store schedule archive task plugin"),
                        ("delete", "job target store schedule archive"),
                        ("edit", "job target store schedule archive"),
                        ("update", "job target store schedule"),
                        ("create", "job target store schedule")):
        for n in nouns.split():
            assert "  %s %s" % (verb, n) in out, (verb, n)
            h = ok("help", verb, n).stdout
            assert h.startswith("usage: shield %s %s" % (verb, n)), h
            assert "Examples:" in h, (verb, n, h)
    for words in (["list", "retention", "policies"], ["create", "policy"],
                  ["pause", "job"], ["unpause", "job"], ["paused", "job"],
                  ["run", "job"], ["restore", "archive"], ["cancel", "task"]):
        assert "Examples:" in ok("help", *words).stdout, words
    assert ok("list", "targets", "--help").stdout.startswith(
        "usage: shield list targets")
    fail("frobnicate", rc=2)
    p = fail("list", "widgets", rc=2)
    assert "list what? one of: job, target" in p.stderr, p.stderr
    p = fail("frobnicate", rc=2)
    assert "unknown command 'frobnicate'" in p.stderr
    p = fail("list", "targets", "--bogus", rc=2)
    assert "--bogus" in p.stderr


# ---------------------------------------------------------------- schedules, retention
def test_schedules_crud_and_filters():
    sc = ok("-q", "create", "schedule", "--name", "sch-a", "--when",
            "daily at 4am", "--summary", "the nightly one").stdout.strip()
    unused = ok("-q", "create", "schedules", "--name", "sch-b", "--when",
                "every 2 hours").stdout.strip()
    rows = table(ok("list", "schedules").stdout)
    a = [r for r in rows if r["NAME"] == "sch-a"][0]
    assert a["UUID"] == sc and a["WHEN"] == "daily at 4am", rows
    assert any(s["uuid"] == sc for s in js("list", "schedule"))
    # Show by name, prefix and uuid; both modes.
    for ident in ("sch-a", sc[:13], sc):
        o = js("show", "schedule", ident)
        assert o["uuid"] == sc and o["when"] == "daily at 4am", o
    assert "summary:" in ok("show", "schedule", "sch-a").stdout
    ok("update", "schedule", "sch-a", "--when", "daily at 5am")
    assert js("show", "schedule", sc)["when"] == "daily at 5am"
    ok("edit", "schedule", "sch-a",
       env={"EDITOR": editor("ed-sched", "s/daily at 5am/daily at 6am/")})
    o = js("show", "schedule", sc)
    assert o["when"] == "daily at 6am" and o["summary"] == "the nightly one", o
    p = ok("edit", "schedule", "sch-a", env={"EDITOR": "true"})
    assert "not changed" in p.stderr
    # A job makes sch-a used.
    j, *_ = make_job("schf")
    ok("update", "job", j, "--schedule", "sch-a")
    used = [s["uuid"] for s in js("list", "schedules", "--used")]
    free = [s["uuid"] for s in js("list", "schedules", "--unused")]
    assert sc in used and sc not in free and unused in free, (used, free)
    assert unused in ok("-q", "list", "schedules", "--unused").stdout.split()
    p = fail("create", "schedule", "--name", "bad", "--when", "daily at 25:00")
    assert "invalid schedule" in p.stderr
    p = fail("create", "schedule", "--when", "daily", input="")
    assert "missing --name" in p.stderr
    ok("delete", "schedule", "sch-b", "--yes")
    fail("show", "schedule", unused)


def test_retention_crud():
    r = ok("-q", "create", "retention", "policy", "--name", "ret-a",
           "--expires", "30d").stdout.strip()
    o = js("show", "retention", "policy", "ret-a")
    assert o["uuid"] == r and o["expires"] == 30 * 86400, o
    rows = table(ok("list", "retention", "policies").stdout)
    assert [x for x in rows if x["NAME"] == "ret-a"][0]["EXPIRES"] == "30d"
    assert js("show", "policy", r[:10])["uuid"] == r
    ok("update", "retention", "policy", r, "--expires", "2w", "--name", "ret-b")
    o = js("show", "policy", "ret-b")
    assert o["expires"] == 14 * 86400 and o["name"] == "ret-b", o
    ok("edit", "policy", "ret-b",
       env={"EDITOR": editor("ed-ret", 's/"name":.*"ret-b"/"name": "ret-c"/')})
    assert js("show", "retention", r)["name"] == "ret-c"
    p = fail("create", "policy", "--name", "x", "--expires", "soon", rc=2)
    assert "--expires" in p.stderr
    p = fail("create", "policy", "--name", "x", "--expires", "60")
    assert "at least" in p.stderr
    assert any(x["uuid"] == r for x in js("list", "policies", "--unused"))
    ok("delete", "retention", "policy", "ret-c", "--yes")
    fail("show", "policy", r)


# ---------------------------------------------------------------- targets, stores
def test_targets_and_stores():
    src = os.path.join(TMP, "src")
    t = ok("-q", "create", "target", "--name", "tgt-a", "--plugin", "fs",
           "--endpoint", ep(src), "--summary", "web root").stdout.strip()
    p = ok("create", "target", "--name", "tgt-b", "--plugin", "fs",
           "--set", "base_dir=" + src, "--set", "exclude=*.tmp")
    assert p.stdout.startswith('created target "tgt-b" ('), p.stdout
    o = js("show", "target", "tgt-b")
    assert json.loads(o["endpoint"]) == {"base_dir": src, "exclude": "*.tmp"}
    ok("update", "target", "tgt-b", "--unset", "exclude", "--set",
       "include=*.txt")
    assert json.loads(js("show", "target", "tgt-b")["endpoint"]) == {
        "base_dir": src, "include": "*.txt"}
    out = ok("show", "target", "tgt-a").stdout
    assert "base_dir:" in out and src in out and "web root" in out, out
    rows = table(ok("list", "targets", "--plugin", "fs").stdout)
    assert any(r["NAME"] == "tgt-a" and r["PLUGIN"] == "fs" for r in rows)
    assert js("list", "targets", "--plugin", "postgres") == [] or all(
        x["plugin"] == "postgres" for x in js("list", "targets", "--plugin",
                                              "postgres"))
    # The plugin's validate runs: its reasons come back.
    p = fail("create", "target", "--name", "rel", "--plugin", "fs",
             "--endpoint", ep("relative/path"))
    assert "base_dir" in p.stderr and "absolute" in p.stderr, p.stderr
    p = fail("create", "target", "--name", "rel", "--plugin", "fs",
             "--endpoint", "not json")
    assert "JSON object" in p.stderr
    p = fail("create", "target", "--name", "rel", "--plugin", "fs")
    assert "--endpoint" in p.stderr
    # Edit the endpoint, an object in the editor.
    new = os.path.join(TMP, "restore")
    ok("edit", "target", "tgt-a",
       env={"EDITOR": editor("ed-tgt", "s#%s#%s#" % (src, new))})
    assert json.loads(js("show", "target", t)["endpoint"])["base_dir"] == new
    # Stores have the same commands.
    s = ok("-q", "create", "store", "--name", "sto-a", "--plugin", "fs",
           "--endpoint", ep(os.path.join(TMP, "store"))).stdout.strip()
    assert js("show", "stores", "sto-a")["uuid"] == s
    assert s in ok("-q", "list", "stores", "--unused").stdout.split()
    ok("update", "store", "sto-a", "--summary", "local disk")
    assert js("show", "store", s)["summary"] == "local disk"
    ok("delete", "store", "sto-a", "--yes")
    ok("delete", "target", "tgt-b", "-y")
    assert "tgt-b" not in [x["name"] for x in js("list", "targets")]


def test_target_and_store_commands_act_on_their_own_kind():
    """A target and a store of one name: every verb of each finds its own."""
    t = ok("-q", "create", "target", "--name", "twin", "--plugin", "fs",
           "--endpoint", ep(os.path.join(TMP, "src"))).stdout.strip()
    s = ok("-q", "create", "store", "--name", "twin", "--plugin", "fs",
           "--set", "base_dir=" + os.path.join(TMP, "store")).stdout.strip()
    assert UUID_RE.match(t) and UUID_RE.match(s) and t != s
    for kind, mine, other in (("target", t, s), ("store", s, t)):
        assert js("show", kind, "twin")["uuid"] == mine
        listed = ok("-q", "list", kind + "s", "--plugin", "fs").stdout.split()
        assert mine in listed and other not in listed, listed
        ok("update", kind, "twin", "--summary", "the " + kind)
        ok("edit", kind, "twin", env={"EDITOR": editor(
            "ed-twin-" + kind, "s/the %s/edited %s/" % (kind, kind))})
    assert js("show", "target", t)["summary"] == "edited target"
    assert js("show", "store", s)["summary"] == "edited store"
    ok("delete", "store", "twin", "--yes")
    assert s not in ok("-q", "list", "stores").stdout.split()
    assert js("show", "target", "twin")["uuid"] == t
    ok("delete", "target", "twin", "--yes")
    assert t not in ok("-q", "list", "targets").stdout.split()


def test_password_fields_are_masked():
    p = cli("-q", "create", "target", "--name", "pg", "--plugin", "postgres",
            "--set", "pg_host=127.0.0.1", "--set", "pg_user=backup",
            "--set", "pg_password=s3cr3t-pw")
    if p.returncode != 0:
        print("  (postgres plugin refused the endpoint: %s; skipped)" %
              p.stderr.strip())
        return
    out = ok("show", "target", "pg").stdout
    assert "s3cr3t-pw" not in out and "********" in out, out
    assert "s3cr3t-pw" in js("show", "target", "pg")["endpoint"]
    ok("delete", "target", "pg", "--yes")


# ---------------------------------------------------------------- jobs
def test_jobs_filters_and_state():
    j, t, s, sc, r = make_job("jf")
    j2, *_ = make_job("jg", paused=True)
    rows = table(ok("list", "jobs").stdout)
    row = [x for x in rows if x["NAME"] == "jf-job"][0]
    assert row["UUID"] == j and row["TARGET"] == "jf-t" and row["PAUSED"] == "no"
    for opt, val in (("--target", "jf-t"), ("--store", s[:12]),
                     ("--schedule", "jf-sc"), ("--retention-policy", r)):
        got = [x["uuid"] for x in js("list", "jobs", opt, val)]
        assert got == [j], (opt, got)
    assert j2 in [x["uuid"] for x in js("list", "jobs", "--paused")]
    assert j2 not in ok("-q", "list", "jobs", "--unpaused").stdout.split()
    assert j in ok("-q", "list", "jobs", "--unpaused").stdout.split()
    o = js("show", "job", "jf-job")
    assert o["target_uuid"] == t and o["schedule_uuid"] == sc, o
    out = ok("show", "job", j[:8]).stdout
    assert "jf-t (%s)" % t in out and "paused:" in out, out
    # paused exits 0 if paused, 1 if not.
    assert cli("paused", "job", "jf-job").returncode == 1
    assert cli("paused", "job", "jg-job").returncode == 0
    assert "is paused" in ok("paused", "job", "jg-job").stdout
    ok("pause", "job", "jf-job")
    assert cli("-q", "paused", "job", "jf-job").returncode == 0
    assert js("paused", "job", j)["paused"] is True
    ok("unpause", "job", "jf-job")
    assert cli("paused", "job", "jf-job").returncode == 1
    # update and edit.
    ok("update", "job", "jf-job", "--summary", "nightly web", "--store", "jg-s")
    o = js("show", "job", j)
    assert o["summary"] == "nightly web" and o["store_name"] == "jg-s", o
    ok("edit", "job", "jf-job",
       env={"EDITOR": editor("ed-job", 's/"jf-job"/"jf-renamed"/')})
    assert js("show", "job", j)["name"] == "jf-renamed"
    p = fail("create", "job", "--name", "x", "--target", "nope", "--store",
             "jf-s", "--schedule", "jf-sc", "--retention-policy", "jf-r")
    assert 'target "nope" not found' in p.stderr
    ok("delete", "job", "jg-job", "--yes")
    fail("show", "job", j2)


def test_run_wait_success_archives_restore():
    j, t, s, sc, r = make_job("rw")
    p = ok("run", "job", "rw-job", "--wait")
    assert "backup done" in p.stdout, p.stdout
    assert "done" in p.stderr, p.stderr
    task = p.stdout.splitlines()[0].split()[1]
    assert UUID_RE.match(task), p.stdout
    tk = js("show", "task", task[:10])
    assert tk["status"] == "done" and tk["job_uuid"] == j, tk
    # Without --wait, just the uuid.
    t2 = ok("run", "job", j).stdout.strip()
    assert UUID_RE.match(t2), t2
    D.wait_task(t2)
    # Archives and their filters.
    arcs = js("list", "archives", "--target", "rw-t")
    assert len(arcs) == 2 and all(a["target_uuid"] == t for a in arcs), arcs
    assert len(js("list", "archives", "--store", "rw-s", "--target", t)) == 2
    assert len(js("list", "archives", "--target", t, "--after", "today")) == 2
    assert len(js("list", "archives", "--target", t, "--after",
                  "3 days ago")) == 2
    assert js("list", "archives", "--target", t, "--before", "yesterday") == []
    assert len(js("list", "archives", "--target", t, "--before",
                  "tomorrow")) == 2
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert len(js("list", "archives", "--target", t, "--after", day)) == 2
    assert len(js("list", "archives", "--target", t, "--after",
                  day.replace("-", ""))) == 2
    p = fail("list", "archives", "--after", "someday", rc=2)
    assert "--after" in p.stderr
    rows = table(ok("list", "archives", "--target", "rw-t").stdout)
    assert len(rows) == 2 and rows[0]["STATUS"] == "valid", rows
    a = arcs[0]["uuid"]
    assert js("show", "archive", a[:9])["uuid"] == a
    assert "sha256:" in ok("show", "archive", a).stdout
    ok("edit", "archive", a[:9], "--notes", "before the upgrade")
    assert js("show", "archive", a)["notes"] == "before the upgrade"
    ok("edit", "archive", a, env={"EDITOR": editor("ed-notes", "s/before/after/")})
    assert js("show", "archive", a)["notes"] == "after the upgrade"
    # Restore into another target, and wait.
    dst = os.path.join(TMP, "rw-restored")
    ok("create", "target", "--name", "rw-dst", "--plugin", "fs",
       "--endpoint", ep(dst))
    p = ok("restore", "archive", a[:9], "--to", "rw-dst", "--wait")
    assert "restore done" in p.stdout, p.stdout
    assert open(os.path.join(dst, "f.txt")).read() == "rw\n"
    rt = ok("restore", "archive", a, "--json")
    D.wait_task(json.loads(rt.stdout)["task_uuid"])
    # Delete starts a purge task.
    p = ok("delete", "archive", a, "--yes")
    assert p.stdout.startswith("deleted archive %s: task " % a[:8]), p.stdout
    D.wait_task(p.stdout.split()[-1])
    assert js("show", "archive", a)["status"] == "purged"


def test_run_wait_failure():
    # A target whose directory was removed after it was created.
    j, t, *_ = make_job("gone")
    shutil.rmtree(os.path.join(TMP, "gone-src"))
    p = cli("run", "job", "gone-job", "--wait")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "failed" in p.stderr.splitlines()[-1], p.stderr
    # A plugin that always fails, on the second daemon.
    env = {"SHIELD_URL": D2.url, "SHIELD_TOKEN": D2.token}
    store = os.path.join(TMP, "store2")
    os.makedirs(store)
    ok("create", "target", "--name", "ft", "--plugin", "fail", "--endpoint",
       "{}", env=env)
    ok("create", "store", "--name", "fs2", "--plugin", "fs", "--endpoint",
       ep(store), env=env)
    ok("create", "schedule", "--name", "s", "--when", "daily at 1am", env=env)
    ok("create", "policy", "--name", "r", "--expires", "1d", env=env)
    ok("create", "job", "--name", "fj", "--target", "ft", "--store", "fs2",
       "--schedule", "s", "--retention-policy", "r", env=env)
    p = cli("run", "job", "fj", "--wait", env=env)
    assert p.returncode == 1 and "failed" in p.stderr, (p.stdout, p.stderr)
    assert "on purpose" in p.stdout + p.stderr, (p.stdout, p.stderr)
    p = cli("--json", "run", "job", "fj", "--wait", env=env)
    assert p.returncode == 1 and json.loads(p.stdout)["status"] == "failed"
    assert json.loads(p.stderr)["error"], p.stderr


def test_tasks_list_show_cancel():
    env = {"SHIELD_URL": D2.url, "SHIELD_TOKEN": D2.token}
    store = os.path.join(TMP, "store3")
    os.makedirs(store)
    ok("create", "target", "--name", "slow", "--plugin", "slow",
       "--endpoint", '{"seconds": 60}', env=env)
    ok("create", "store", "--name", "fs3", "--plugin", "fs", "--endpoint",
       ep(store), env=env)
    ok("create", "schedule", "--name", "s3", "--when", "daily at 1am", env=env)
    ok("create", "policy", "--name", "r3", "--expires", "1d", env=env)
    ok("create", "job", "--name", "slowjob", "--target", "slow", "--store",
       "fs3", "--schedule", "s3", "--retention-policy", "r3", env=env)
    task = ok("run", "job", "slowjob", env=env).stdout.strip()
    D2.wait_task(task, states=("running",))
    rows = table(ok("list", "tasks", env=env).stdout)
    assert [r["UUID"] for r in rows] == [task] and rows[0]["STATUS"] == "running"
    assert [x["uuid"] for x in js("list", "tasks", env=env)] == [task]
    assert task in ok("-q", "list", "tasks", "--status", "running",
                      env=env).stdout.split()
    assert "running" in ok("show", "task", task[:8], env=env).stdout
    p = ok("cancel", "task", task[:8], env=env)
    assert "canceled task %s" % task[:8] in p.stdout, p.stdout
    assert D2.wait_task(task)["status"] == "canceled"
    p = fail("cancel", "task", task, env=env)
    assert "already finished" in p.stderr
    p = ok("list", "tasks", env=env)
    assert p.stdout == "" and "no pending or running tasks" in p.stderr
    every = js("list", "tasks", "--all", env=env)
    assert task in [x["uuid"] for x in every] and len(every) >= 2
    failed = js("list", "tasks", "--status", "failed", env=env)
    assert failed and all(x["status"] == "failed" for x in failed)
    assert len(js("list", "tasks", "--all", "--limit", "1", env=env)) == 1
    assert "debug" in js("show", "task", task, "--debug", env=env)
    assert "debug" not in js("show", "task", task, env=env)
    fail("show", "task", "ffffffff-ffff-4fff-8fff-ffffffffffff", env=env)


# ---------------------------------------------------------------- resolution
def test_names_prefixes_and_ambiguity():
    made = {}
    for i in range(20):
        u = ok("-q", "create", "schedule", "--name", "amb-%d" % i, "--when",
               "daily at 3am").stdout.strip()
        made[u] = "amb-%d" % i
    # 20 uuids over 16 first digits: some digit is shared.
    by_first = {}
    for u in made:
        by_first.setdefault(u[0], []).append(u)
    shared = [v for v in by_first.values() if len(v) > 1][0]
    p = fail("show", "schedule", shared[0][0])
    assert "ambiguous" in p.stderr, p.stderr
    for u in shared:
        assert made[u] in p.stderr and u in p.stderr, p.stderr
    # The shortest unique prefix works.
    u = shared[0]
    uuids = [y["uuid"] for y in js("list", "schedules")]
    n = next(n for n in range(2, 37)
             if sum(x.startswith(u[:n]) for x in uuids) == 1)
    assert js("show", "schedule", u[:n])["uuid"] == u
    # Names win; duplicate names are ambiguous too.
    ok("create", "schedule", "--name", "twin", "--when", "daily at 1am")
    if cli("create", "schedule", "--name", "twin", "--when",
           "daily at 2am").returncode == 0:
        p = fail("show", "schedule", "twin")
        assert "ambiguous" in p.stderr and "twin" in p.stderr, p.stderr
    p = fail("show", "schedule", "no-such-schedule")
    assert p.stderr.strip() == 'shield: schedule "no-such-schedule" not found'
    p = cli("--json", "show", "schedule", "no-such-schedule")
    assert p.returncode == 1 and p.stdout == "", p
    assert json.loads(p.stderr)["error"] == 'schedule "no-such-schedule" not found'


# ---------------------------------------------------------------- errors
def test_error_classes():
    port = free_port()
    p = fail("--url", "http://127.0.0.1:%d" % port, "list", "jobs")
    assert "connection refused" in p.stderr and "shieldd" in p.stderr
    p = fail("--token", "not-a-real-token", "list", "jobs")
    assert "shield login" in p.stderr and "token" in p.stderr, p.stderr
    p = fail("show", "target", "00000000-0000-4000-8000-000000000000")
    assert 'target "00000000-0000-4000-8000-000000000000" not found' in p.stderr
    p = fail("--url", "https://127.0.0.1:%d" % D.port, "list", "jobs")
    assert "TLS" in p.stderr, p.stderr
    # 409: the message names the jobs that use the object.
    make_job("inuse")
    for noun, name in (("target", "inuse-t"), ("store", "inuse-s"),
                       ("schedule", "inuse-sc"), ("policy", "inuse-r")):
        p = fail("delete", noun, name, "--yes")
        assert 'used by job "inuse-job"' in p.stderr, p.stderr
    # Not JSON: someone else's web server.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    import threading

    def answer():
        c, _ = srv.accept()
        c.recv(65536)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                  b"Connection: close\r\n\r\nhello")
        c.close()
    th = threading.Thread(target=answer)
    th.start()
    p = fail("--url", "http://127.0.0.1:%d" % srv.getsockname()[1], "list",
             "jobs")
    th.join()
    srv.close()
    assert "not JSON" in p.stderr, p.stderr
    # --debug shows the exchange, never the token.
    p = cli("--debug", "list", "jobs")
    assert p.returncode == 0 and "> GET " in p.stderr and "< HTTP 200" in p.stderr
    assert json.load(open(CFG))["token"] not in p.stderr
    p = fail("show", "job", rc=2)
    assert "missing" in p.stderr


def test_json_and_quiet_everywhere():
    make_job("jq")
    for noun in ("jobs", "targets", "stores", "schedules", "retention",
                 "archives", "tasks", "plugins"):
        data = js("list", noun)
        assert isinstance(data, list), (noun, data)
        q = ok("-q", "list", noun).stdout.split()
        if noun not in ("plugins", "tasks"):
            assert q == [x["uuid"] for x in data], noun
    for noun, name in (("job", "jq-job"), ("target", "jq-t"), ("store", "jq-s"),
                       ("schedule", "jq-sc"), ("retention", "jq-r")):
        o = js("show", noun, name)
        assert o["name"] == name, o
        assert ok("-q", "show", noun, name).stdout.strip() == o["uuid"]
    r = js("create", "schedule", "--name", "jq-new", "--when", "hourly at 5")
    assert r["ok"] == "created" and UUID_RE.match(r["uuid"]), r
    assert ok("-q", "delete", "schedule", r["uuid"]).stdout == ""


# ---------------------------------------------------------------- terminals
def pty_run(args, answers, env=None, timeout=30):
    """Run the CLI on a pty, answering each prompt that appears; the output."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("SHIELD_")}
    e.update({"HOME": os.path.join(TMP, "home"), "SHIELD_CONFIG": CFG,
              "NO_COLOR": "1", "TERM": "dumb"})
    e.update(env or {})
    master, slave = pty.openpty()
    proc = subprocess.Popen([SHIELD_CLI] + args, stdin=slave, stdout=slave,
                            stderr=slave, env=e, start_new_session=True)
    os.close(slave)
    out = b""
    pending = list(answers)
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if pending and pending[0][0].encode() in out.split(b"\n")[-1]:
            os.write(master, (pending.pop(0)[1] + "\n").encode())
        if proc.poll() is not None and not r:
            break
    proc.wait(timeout=10)
    os.close(master)
    text = out.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in text, text
    assert not pending, "unanswered %r in:\n%s" % (pending, text)
    return proc.returncode, text


def test_interactive_create_on_a_pty():
    src = os.path.join(TMP, "src")
    rc, out = pty_run(["create", "target"], [
        ("Name:", "tty-target"),
        ("Plugin", "fs"),
        ("Summary", "asked for"),
        ("Directory (base_dir, path, required):", ""),  # asked again
        ("Directory (base_dir, path, required):", src),
        ("Include (list):", ""),
        ("Exclude (list):", "*.tmp"),
    ])
    assert rc == 0, out
    assert "base_dir is required" in out and "Absolute path" in out, out
    o = js("show", "target", "tty-target")
    assert o["summary"] == "asked for", o
    assert json.loads(o["endpoint"]) == {"base_dir": src, "exclude": "*.tmp"}
    # A store is not asked what only a target reads (include, exclude).
    rc, out = pty_run(["create", "store", "--name", "tty-store", "--plugin",
                       "fs"], [
        ("Summary", ""),
        ("Directory (base_dir, path, required):", src),
    ])
    assert rc == 0, out
    assert "Include" not in out and "Exclude" not in out, out
    o = js("show", "store", "tty-store")
    assert json.loads(o["endpoint"]) == {"base_dir": src}, o
    ok("delete", "store", "tty-store", "--yes")
    # Password fields are read without echo.
    rc, out = pty_run(["create", "target", "--name", "tty-pg", "--plugin",
                       "postgres"], [
        ("Summary", ""),
        ("pg_host", "127.0.0.1"),
        ("pg_port", ""),
        ("pg_user", "backup"),
        ("pg_password", "hunter2-secret"),
        ("pg_database", ""),
        ("pg_bindir", ""),
    ])
    assert "Password (pg_password, password):" in out, out
    assert "hunter2-secret" not in out, out
    if rc == 0:
        ok("delete", "target", "tty-pg", "--yes")
    # delete asks first on a terminal.
    rc, out = pty_run(["delete", "target", "tty-target"], [("[y/N]", "n")])
    assert rc == 1 and "not deleted" in out, out
    js("show", "target", "tty-target")
    rc, out = pty_run(["delete", "target", "tty-target"], [("[y/N]", "y")])
    assert rc == 0 and 'deleted target "tty-target"' in out, out
    # login asks for the user name and the password, without echo.
    cfg = os.path.join(TMP, "cfg", "tty")
    rc, out = pty_run(["login", "--url", D.url], [
        ("Username [admin]:", ""),
        ("Password:", ADMIN_PASSWORD),
    ], env={"SHIELD_CONFIG": cfg})
    assert rc == 0 and "logged in" in out and ADMIN_PASSWORD not in out, out
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600


def test_bash_completion():
    script = os.path.join(SRC, "contrib", "shield.bash-completion")
    ok("create", "schedule", "--name", "compl-sched", "--when", "hourly at 7")

    def complete(*words):
        cmd = ('source "$1"; shift; COMP_WORDS=("$@"); '
               'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _shield; '
               'printf "%s\\n" "${COMPREPLY[@]}"')
        env = dict(os.environ, PATH=os.path.dirname(SHIELD_CLI) + ":" +
                   os.environ["PATH"], SHIELD_CONFIG=CFG,
                   HOME=os.path.join(TMP, "home"))
        p = subprocess.run(["bash", "-c", cmd, "bash", script] + list(words),
                           env=env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.split()
    assert "list" in complete("shield", "")
    assert "schedules" in complete("shield", "list", "")
    assert complete("shield", "list", "jobs", "--unp") == ["--unpaused"]
    assert "compl-sched" in complete("shield", "show", "schedule", "")
    assert "fs" in complete("shield", "create", "target", "--plugin", "")
    assert "policies" in complete("shield", "list", "retention", "")


def test_timespec_still_offline():
    p = ok("timespec", "daily at 4am", "--from", "2024-01-30 12:00",
           "--count", "1", env={"TZ": "UTC"},
           config=os.path.join(TMP, "nonexistent"))
    assert p.stdout.startswith("canonical: daily at 04:00"), p.stdout


def main():
    setup()
    try:
        run([test_login_writes_config_0600,
             test_login_honours_home,
             test_login_password_on_stdin_and_wrong_password,
             test_logout_forgets_token,
             test_env_and_flags_override_config,
             test_status_and_plugins,
             test_help_documents_every_command,
             test_schedules_crud_and_filters,
             test_retention_crud,
             test_targets_and_stores,
             test_target_and_store_commands_act_on_their_own_kind,
             test_password_fields_are_masked,
             test_jobs_filters_and_state,
             test_run_wait_success_archives_restore,
             test_run_wait_failure,
             test_tasks_list_show_cancel,
             test_names_prefixes_and_ambiguity,
             test_error_classes,
             test_json_and_quiet_everywhere,
             test_interactive_create_on_a_pty,
             test_bash_completion,
             test_timespec_still_offline])
    finally:
        teardown()


if __name__ == "__main__":
    main()
