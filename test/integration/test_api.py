"""The /v1 API against the real shieldd: every endpoint, the error model and
bad input.  Each test asserts on status codes and JSON, and checks that a
rejected request changed nothing."""
import json
import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, run  # noqa: E402

D = None          # one daemon for the whole file
TMP = None


def setup():
    global D, TMP
    TMP = tempfile.mkdtemp(prefix="shield-api.")
    os.makedirs(os.path.join(TMP, "src"))
    os.makedirs(os.path.join(TMP, "store"))
    D = Daemon().start()
    D.login()


def ep(path):
    return json.dumps({"base_dir": os.path.join(TMP, path)})


def make_basics(prefix="x"):
    t = D.create("targets", {"name": prefix + "-t", "plugin": "fs", "endpoint": ep("src")})
    s = D.create("stores", {"name": prefix + "-s", "plugin": "fs", "endpoint": ep("store")})
    sc = D.create("schedules", {"name": prefix + "-sc", "when": "daily at 4am"})
    r = D.create("retention", {"name": prefix + "-r", "expires": 86400})
    return t, s, sc, r


def make_job(prefix="x", paused=False):
    t, s, sc, r = make_basics(prefix)
    j = D.create("jobs", {"name": prefix + "-job", "target": t, "store": s, "schedule": sc,
                          "retention": r, "paused": paused})
    return j, t, s, sc, r


def err(r, status):
    assert r.status == status, "wanted %d, got %r" % (status, r)
    assert isinstance(r.json, dict) and isinstance(r.json.get("error"), str) and r.json["error"], r
    return r.json


# ---------------------------------------------------------------- auth
def test_ping_is_public():
    r = D.request("GET", "/v1/ping", auth=False)
    assert r.status == 200 and r.json == {"ok": "pong"}, r


def test_everything_else_needs_auth():
    for method, path in [("GET", "/v1/schedules"), ("GET", "/v1/retention"), ("GET", "/v1/targets"),
                         ("GET", "/v1/stores"), ("GET", "/v1/jobs"), ("GET", "/v1/archives"),
                         ("GET", "/v1/tasks"), ("GET", "/v1/plugins"), ("GET", "/v1/status"),
                         ("POST", "/v1/schedules"), ("GET", "/metrics"),
                         ("DELETE", "/v1/task/00000000-0000-4000-8000-000000000000")]:
        err(D.request(method, path, auth=False), 401)
        err(D.request(method, path, auth=True, token="forged" + "0" * 58), 401)
    err(D.request("GET", "/v1/jobs", auth=False, headers={"Authorization": "Basic YWRtaW46eA=="}), 401)
    err(D.request("GET", "/v1/jobs", auth=False, headers={"Cookie": "shield_session=nope"}), 401)


def test_login_wrong_password_and_unknown_user():
    r = D.request("POST", "/v1/auth/login", {"username": "admin", "password": "wrong"}, auth=False)
    assert "wrong username or password" in err(r, 401)["error"]
    r = D.request("POST", "/v1/auth/login", {"username": "nobody", "password": "x"}, auth=False)
    err(r, 401)
    r = D.request("POST", "/v1/auth/login", {"username": "admin"}, auth=False)
    assert err(r, 400)["missing"] == ["password"]


def test_login_cookie_session_and_logout():
    r = D.request("POST", "/v1/auth/login", {"username": "admin", "password": D.password}, auth=False)
    assert r.status == 200 and r.json["ok"] == "logged in" and len(r.json["token"]) >= 32
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
    value = cookie.split(";")[0]
    me = D.request("GET", "/v1/auth/me", auth=False, headers={"Cookie": value})
    assert me.status == 200 and me.json["username"] == "admin", me
    # A change made with the cookie comes from the daemon's own pages.
    out = D.request("POST", "/v1/auth/logout", auth=False,
                    headers={"Cookie": value, "Origin": D.url})
    assert out.status == 200, out
    err(D.request("GET", "/v1/auth/me", auth=False, headers={"Cookie": value}), 401)


def test_api_tokens():
    r = D.api("POST", "/v1/auth/tokens", {"name": "ci"})
    assert r["ok"] == "created" and r["uuid"] and r["token"]
    secret = r["token"]
    got = D.request("GET", "/v1/jobs", token=secret)
    assert got.status == 200, got
    listed = D.api("GET", "/v1/auth/tokens")
    assert any(t["uuid"] == r["uuid"] and t["name"] == "ci" for t in listed)
    assert all("token" not in t for t in listed), "token secrets must not be listed"
    # logging out with an API token does not revoke it: it is no session
    assert D.request("POST", "/v1/auth/logout", token=secret).status == 200
    assert D.request("GET", "/v1/jobs", token=secret).status == 200
    D.api("DELETE", "/v1/auth/token/" + r["uuid"])
    err(D.request("GET", "/v1/jobs", token=secret), 401)
    err(D.request("DELETE", "/v1/auth/token/" + r["uuid"]), 404)


def test_password_not_stored_in_clear():
    import sqlite3
    db = sqlite3.connect(D.db)
    rows = db.execute("select * from users").fetchall()
    db.close()
    blob = repr(rows)
    assert D.password not in blob and "argon2id" in blob, blob


# ---------------------------------------------------------------- schedules
def test_schedules_crud():
    u = D.create("schedules", {"name": "nightly", "summary": "every night", "when": "daily at 4am"})
    got = D.api("GET", "/v1/schedule/" + u)
    assert got == {"uuid": u, "name": "nightly", "summary": "every night", "when": "daily at 4am"}, got
    assert any(s["uuid"] == u for s in D.api("GET", "/v1/schedules"))
    r = D.request("PUT", "/v1/schedule/" + u, {"name": "n2", "when": "weekly at 11pm on sundays"})
    assert err(r, 400)["missing"] == ["summary"]
    assert D.api("PUT", "/v1/schedule/" + u, {"name": "n2", "summary": "", "when": "sundays at 8am"}) == {"ok": "updated"}
    assert D.api("GET", "/v1/schedule/" + u)["when"] == "sundays at 8am"
    assert D.api("DELETE", "/v1/schedule/" + u) == {"ok": "deleted"}
    err(D.request("GET", "/v1/schedule/" + u), 404)
    err(D.request("DELETE", "/v1/schedule/" + u), 404)


def test_schedules_bad_input():
    r = D.request("POST", "/v1/schedules", {"summary": "x"})
    assert sorted(err(r, 400)["missing"]) == ["name", "when"]
    for bad in ["daily at 25:00", "every 0 minutes", "", "whenever you like", "monthly at 3am on 32nd"]:
        r = D.request("POST", "/v1/schedules", {"name": "bad", "when": bad})
        err(r, 400)
    r = D.request("POST", "/v1/schedules", {"name": "bad", "when": "daily at 25:00"})
    assert "invalid schedule" in r.json["error"], r
    err(D.request("POST", "/v1/schedules", {"name": 5, "when": "daily at 4am"}), 400)
    assert not any(s["name"] == "bad" for s in D.api("GET", "/v1/schedules"))


def test_unused_filters_and_409():
    j, t, s, sc, r = make_job("inuse")
    unused = [x["uuid"] for x in D.api("GET", "/v1/schedules?unused=t")]
    used = [x["uuid"] for x in D.api("GET", "/v1/schedules?unused=f")]
    assert sc in used and sc not in unused
    assert r in [x["uuid"] for x in D.api("GET", "/v1/retention?unused=f")]
    assert t in [x["uuid"] for x in D.api("GET", "/v1/targets?unused=f")]
    assert s in [x["uuid"] for x in D.api("GET", "/v1/stores?unused=f")]
    assert t not in [x["uuid"] for x in D.api("GET", "/v1/targets?unused=t")]
    for path in ["/v1/schedule/" + sc, "/v1/retention/" + r, "/v1/target/" + t, "/v1/store/" + s]:
        e = err(D.request("DELETE", path), 409)
        assert "job" in e["error"], e
        assert D.request("GET", path).status == 200, "409 must not delete"
    err(D.request("GET", "/v1/schedules?unused=maybe"), 400)
    D.api("DELETE", "/v1/job/" + j)
    for path in ["/v1/schedule/" + sc, "/v1/retention/" + r, "/v1/target/" + t, "/v1/store/" + s]:
        assert D.api("DELETE", path) == {"ok": "deleted"}


# ---------------------------------------------------------------- retention
def test_retention_crud_and_alias():
    u = D.create("retention", {"name": "week", "expires": 604800})
    assert D.api("GET", "/v1/retention/" + u) == {"uuid": u, "name": "week", "summary": "", "expires": 604800}
    u2 = D.create("retention", {"name": "alias", "summary": "seed style", "when": 86400})
    assert D.api("GET", "/v1/retention/" + u2)["expires"] == 86400
    assert D.api("PUT", "/v1/retention/" + u, {"name": "w2", "summary": "s", "expires": 7200}) == {"ok": "updated"}
    assert D.api("GET", "/v1/retention/" + u)["expires"] == 7200
    e = err(D.request("POST", "/v1/retention", {"name": "short", "expires": 3599}), 400)
    assert "3600" in e["error"]
    err(D.request("POST", "/v1/retention", {"name": "str", "expires": "86400"}), 400)
    err(D.request("POST", "/v1/retention", {"name": "frac", "expires": 3600.5}), 400)
    assert err(D.request("POST", "/v1/retention", {"name": "none"}), 400)["missing"] == ["expires"]
    err(D.request("PUT", "/v1/retention/" + u, {"name": "w2", "expires": 7200}), 400)
    D.api("DELETE", "/v1/retention/" + u)
    D.api("DELETE", "/v1/retention/" + u2)


# ---------------------------------------------------------------- targets/stores
def test_targets_and_stores_crud():
    for kind, one in (("targets", "target"), ("stores", "store")):
        u = D.create(kind, {"name": "n-" + kind, "summary": "s", "plugin": "fs", "endpoint": ep("src")})
        got = D.api("GET", "/v1/%s/%s" % (one, u))
        assert got["name"] == "n-" + kind and got["plugin"] == "fs"
        assert json.loads(got["endpoint"]) == json.loads(ep("src")), got
        assert u in [x["uuid"] for x in D.api("GET", "/v1/%s?plugin=fs" % kind)]
        assert u not in [x["uuid"] for x in D.api("GET", "/v1/%s?plugin=postgres" % kind)]
        # the endpoint may also be given as an object
        assert D.api("PUT", "/v1/%s/%s" % (one, u), {"name": "m", "summary": "", "plugin": "fs",
                                                   "endpoint": {"base_dir": os.path.join(TMP, "store")}}) == {"ok": "updated"}
        assert json.loads(D.api("GET", "/v1/%s/%s" % (one, u))["endpoint"])["base_dir"].endswith("store")
        assert D.api("DELETE", "/v1/%s/%s" % (one, u)) == {"ok": "deleted"}
        err(D.request("GET", "/v1/%s/%s" % (one, u)), 404)


def test_targets_bad_input():
    before = len(D.api("GET", "/v1/targets"))
    err(D.request("POST", "/v1/targets", {"name": "x", "plugin": "no-such-plugin", "endpoint": "{}"}), 400)
    err(D.request("POST", "/v1/targets", {"name": "x", "plugin": "../../bin/sh", "endpoint": "{}"}), 400)
    err(D.request("POST", "/v1/targets", {"name": "x", "plugin": "fs", "endpoint": "not json"}), 400)
    err(D.request("POST", "/v1/targets", {"name": "x", "plugin": "fs", "endpoint": "[1,2]"}), 400)
    err(D.request("POST", "/v1/targets", {"name": "x", "plugin": "fs", "endpoint": 42}), 400)
    # the plugin's validate action rejects a relative base_dir, with its reasons
    r = D.request("POST", "/v1/targets", {"name": "x", "plugin": "fs", "endpoint": '{"base_dir":"relative/dir"}'})
    e = err(r, 400)
    assert e.get("reasons") and "base_dir" in e["error"], e
    r = D.request("POST", "/v1/targets", {"name": "x", "plugin": "fs", "endpoint": "{}"})
    assert "base_dir" in err(r, 400)["error"]
    assert len(D.api("GET", "/v1/targets")) == before, "rejected requests must not create targets"


# ---------------------------------------------------------------- jobs
def test_jobs_crud_and_keys():
    j, t, s, sc, r = make_job("jobs")
    got = D.api("GET", "/v1/job/" + j)
    for key in ["uuid", "name", "summary", "retention_name", "retention_uuid", "expiry", "schedule_name",
                "schedule_uuid", "schedule", "paused", "store_plugin", "store_endpoint", "target_plugin",
                "target_endpoint", "next_run"]:
        assert key in got, key
    assert got["retention_uuid"] == r and got["schedule_uuid"] == sc and got["expiry"] == 86400
    assert got["schedule"] == "daily at 4am" and got["paused"] is False and got["target_plugin"] == "fs"
    assert got["next_run"] and got["next_run"].endswith(":00")
    lst = D.api("GET", "/v1/jobs?target=" + t)
    assert [x["uuid"] for x in lst] == [j]
    assert [x["uuid"] for x in D.api("GET", "/v1/jobs?store=%s&schedule=%s&retention=%s" % (s, sc, r))] == [j]
    assert D.api("GET", "/v1/jobs?target=00000000-0000-4000-8000-000000000000") == []
    err(D.request("GET", "/v1/jobs?target=nope"), 400)
    # the same list, asked again after a change, shows the change
    before = [x for x in D.api("GET", "/v1/jobs") if x["uuid"] == j][0]
    assert D.api("POST", "/v1/job/%s/pause" % j) == {"ok": "paused"}
    after = [x for x in D.api("GET", "/v1/jobs") if x["uuid"] == j][0]
    assert before["paused"] is False and after["paused"] is True
    assert before["next_run"] is not None and after["next_run"] is None
    assert D.api("GET", "/v1/job/" + j)["paused"] is True
    assert D.api("GET", "/v1/job/" + j)["next_run"] is None
    assert j in [x["uuid"] for x in D.api("GET", "/v1/jobs?paused=t")]
    assert j not in [x["uuid"] for x in D.api("GET", "/v1/jobs?paused=f")]
    assert D.api("POST", "/v1/job/%s/unpause" % j) == {"ok": "unpaused"}
    assert D.api("GET", "/v1/job/" + j)["paused"] is False
    body = {"name": "renamed", "summary": "s", "target": t, "store": s, "schedule": sc, "retention": r}
    assert D.api("PUT", "/v1/job/" + j, body) == {"ok": "updated"}
    assert D.api("GET", "/v1/job/" + j)["name"] == "renamed"
    # uuids are accepted in any case
    assert D.api("GET", "/v1/job/" + j.upper())["uuid"] == j
    assert D.api("DELETE", "/v1/job/" + j) == {"ok": "deleted"}
    err(D.request("GET", "/v1/job/" + j), 404)


def test_jobs_bad_refs_and_types():
    t, s, sc, r = make_basics("badjob")
    before = len(D.api("GET", "/v1/jobs"))
    ghost = "00000000-0000-4000-8000-000000000000"
    for field in ["target", "store", "schedule", "retention"]:
        body = {"name": "j", "target": t, "store": s, "schedule": sc, "retention": r, "paused": False}
        body[field] = ghost
        e = err(D.request("POST", "/v1/jobs", body), 400)
        assert field in e["error"], e
        body[field] = "not-a-uuid"
        err(D.request("POST", "/v1/jobs", body), 400)
    body = {"name": "j", "target": t, "store": s, "schedule": sc, "retention": r, "paused": "yes"}
    assert "paused" in err(D.request("POST", "/v1/jobs", body), 400)["error"]
    e = err(D.request("POST", "/v1/jobs", {"name": "j"}), 400)
    assert sorted(e["missing"]) == ["retention", "schedule", "store", "target"], e
    assert len(D.api("GET", "/v1/jobs")) == before


def test_job_run_creates_task():
    j, *_ = make_job("runme", paused=True)
    r = D.api("POST", "/v1/job/%s/run" % j, {"owner": "alice"})
    assert r["ok"] == "scheduled" and r["task_uuid"]
    t = D.api("GET", "/v1/task/" + r["task_uuid"])
    assert t["owner"] == "alice" and t["type"] == "backup" and t["job_uuid"] == j
    assert t["status"] in ("pending", "running", "done"), t
    D.wait_task(r["task_uuid"])
    r2 = D.api("POST", "/v1/job/%s/run" % j)          # no body: the logged-in user owns it
    assert D.api("GET", "/v1/task/" + r2["task_uuid"])["owner"] == "admin"
    D.wait_task(r2["task_uuid"])
    err(D.request("POST", "/v1/job/00000000-0000-4000-8000-000000000000/run"), 404)


# ---------------------------------------------------------------- archives and tasks
def test_archives_and_restore_and_delete():
    j, t, s, *_ = make_job("arch", paused=True)
    with open(os.path.join(TMP, "src", "f.txt"), "w") as f:
        f.write("data")
    task = D.wait_task(D.api("POST", "/v1/job/%s/run" % j)["task_uuid"])
    assert task["status"] == "done", task
    arcs = D.api("GET", "/v1/archives?target=" + t)
    assert len(arcs) == 1
    a = arcs[0]
    for key in ["uuid", "store_key", "taken_at", "expires_at", "notes", "store_uuid", "store_plugin",
                "store_endpoint", "target_uuid", "target_plugin", "target_endpoint", "status", "size"]:
        assert key in a, key
    assert a["status"] == "valid" and a["size"] > 0 and len(a["sha256"]) == 64
    assert task["archive_uuid"] == a["uuid"]
    assert D.api("GET", "/v1/archive/" + a["uuid"])["uuid"] == a["uuid"]
    today = time.strftime("%Y%m%d", time.gmtime())
    assert a["uuid"] in [x["uuid"] for x in D.api("GET", "/v1/archives?after=" + today)]
    assert a["uuid"] not in [x["uuid"] for x in D.api("GET", "/v1/archives?before=" + today)]
    assert D.api("GET", "/v1/archives?store=" + s)[0]["uuid"] == a["uuid"]
    err(D.request("GET", "/v1/archives?after=2024-01-01"), 400)
    err(D.request("GET", "/v1/archives?before=20240230"), 400)
    assert D.api("PUT", "/v1/archive/" + a["uuid"], {"notes": "before change #422"}) == {"ok": "updated"}
    assert D.api("GET", "/v1/archive/" + a["uuid"])["notes"] == "before change #422"
    assert err(D.request("PUT", "/v1/archive/" + a["uuid"], {}), 400)["missing"] == ["notes"]
    # a store holding valid archives cannot be deleted even without jobs
    D.api("DELETE", "/v1/job/" + j)
    err(D.request("DELETE", "/v1/store/" + s), 409)
    rr = D.api("POST", "/v1/archive/%s/restore" % a["uuid"], {"target": t})
    assert rr["ok"] == "scheduled"
    rt = D.wait_task(rr["task_uuid"])
    assert rt["status"] == "done" and rt["type"] == "restore" and rt["archive_uuid"] == a["uuid"], rt
    err(D.request("POST", "/v1/archive/%s/restore" % a["uuid"],
                  {"target": "00000000-0000-4000-8000-000000000000"}), 400)
    d = D.api("DELETE", "/v1/archive/" + a["uuid"])
    assert d["ok"] == "deleted"
    D.wait_task(d["task_uuid"])
    assert D.api("GET", "/v1/archive/" + a["uuid"])["status"] == "purged"
    assert not os.path.exists(os.path.join(TMP, "store", a["store_key"]))
    assert D.api("DELETE", "/v1/store/" + s) == {"ok": "deleted"}


def test_tasks_list_filters_and_cancel_finished():
    tasks = D.api("GET", "/v1/tasks")
    # Lists carry each task's newest log line and the tail of its log (the
    # seed's "log" key), never whole logs; ?debug adds the debug log's tail.
    assert tasks and all("log" in t and "debug" not in t for t in tasks)
    assert all(t["log"].count("\n") <= 11 for t in tasks)
    assert all("debug" in t for t in D.api("GET", "/v1/tasks?debug"))
    one = D.api("GET", "/v1/task/" + tasks[0]["uuid"])
    assert one["log"] and one["log"].endswith("\n"), one
    assert tasks[0]["last_log"] == one["log"].splitlines()[-1], (tasks[0], one)
    assert one["last_log"] == tasks[0]["last_log"]
    assert one["log_lines"] == len(one["log"].splitlines())
    tail = D.api("GET", "/v1/task/%s?log_after=%d" % (one["uuid"], one["log_lines"] - 1))
    assert tail["log"] == one["log"].splitlines()[-1] + "\n" and tail["log_lines"] == one["log_lines"]
    assert D.api("GET", "/v1/task/%s?log_after=%d" % (one["uuid"], one["log_lines"]))["log"] == ""
    err(D.request("GET", "/v1/task/%s?log_after=-1" % one["uuid"]), 400)
    err(D.request("GET", "/v1/task/%s?log_after=x" % one["uuid"]), 400)
    # Pages: default and largest limits, offsets.
    assert [t["uuid"] for t in D.api("GET", "/v1/tasks?limit=2&offset=1")] == \
        [t["uuid"] for t in tasks[1:3]]
    assert [t["uuid"] for t in D.api("GET", "/v1/tasks?offset=1")] == [t["uuid"] for t in tasks[1:]]
    assert D.api("GET", "/v1/tasks?offset=100000") == []
    assert len(D.api("GET", "/v1/tasks?limit=1000")) == len(tasks)
    # A limit above the largest is served as the largest.
    assert len(D.api("GET", "/v1/tasks?limit=5000")) == len(tasks)
    for bad in ("limit=0", "limit=-1", "limit=1x", "offset=-1", "offset=x"):
        err(D.request("GET", "/v1/tasks?" + bad), 400)
    arcs = D.api("GET", "/v1/archives")
    assert len(D.api("GET", "/v1/archives?limit=10000")) == len(arcs)
    assert D.api("GET", "/v1/archives?offset=%d" % len(arcs)) == []
    assert len(D.api("GET", "/v1/archives?limit=10001")) == len(arcs)
    for bad in ("limit=0", "offset=-2"):
        err(D.request("GET", "/v1/archives?" + bad), 400)
    assert all(t["status"] == "done" for t in D.api("GET", "/v1/tasks?status=done"))
    assert len(D.api("GET", "/v1/tasks?limit=1")) == 1
    err(D.request("GET", "/v1/tasks?status=bogus"), 400)
    err(D.request("GET", "/v1/tasks?limit=-3"), 400)
    done = D.api("GET", "/v1/tasks?status=done&limit=1")[0]
    assert "debug" not in done
    assert "debug" in D.api("GET", "/v1/task/%s?debug" % done["uuid"])
    e = err(D.request("DELETE", "/v1/task/" + done["uuid"]), 409)
    assert "finished" in e["error"]
    err(D.request("DELETE", "/v1/task/00000000-0000-4000-8000-000000000000"), 404)


def test_plugins_status_metrics():
    plugins = D.api("GET", "/v1/plugins")
    names = [p["plugin"] for p in plugins]
    assert "fs" in names, names
    fs = [p for p in plugins if p["plugin"] == "fs"][0]
    assert fs["features"]["target"] == "yes" and fs["features"]["store"] == "yes"
    assert any(f["name"] == "base_dir" for f in fs["fields"])
    assert D.api("GET", "/v1/plugin/fs")["plugin"] == "fs"
    err(D.request("GET", "/v1/plugin/nope"), 404)
    st = D.api("GET", "/v1/status")
    assert st["version"] and st["uptime"] >= 0 and "done" in st["tasks"] and isinstance(st["jobs"], list)
    m = D.request("GET", "/metrics")
    assert m.status == 200 and m.headers["content-type"].startswith("text/plain"), m
    assert "shield_tasks_finished_total{type=\"backup\",outcome=\"done\"}" in m.body
    assert "shield_up 1" in m.body and "shield_backup_bytes_total" in m.body


def test_timespec_endpoint():
    r = D.api("POST", "/v1/timespec", {"when": "daily at 4am", "count": 3, "from": "2026-01-01 00:00"})
    assert r["canonical"] and len(r["next"]) == 3
    e = err(D.request("POST", "/v1/timespec", {"when": "daily at 99"}), 400)
    assert "invalid schedule" in e["error"]


# ---------------------------------------------------------------- bad input in general
def test_malformed_json_and_non_objects():
    for raw in [b"{", b"not json", b"[1,2,3]", b"\"str\"", b"{\"name\": }", b"\xff\xfe"]:
        r = D.request("POST", "/v1/schedules", raw=raw, headers={"Content-Type": "application/json"})
        err(r, 400)
    err(D.request("POST", "/v1/schedules", raw=b""), 400)


def test_nul_bytes_rejected():
    r = D.request("POST", "/v1/schedules", raw=b'{"name":"a\\u0000b","when":"daily at 4am"}')
    assert "NUL" in err(r, 400)["error"]
    r = D.request("POST", "/v1/schedules", raw=b'{"name":"a\x00b","when":"daily at 4am"}')
    err(r, 400)
    # an escaped backslash followed by u0000 is just text
    u = D.create("schedules", {"name": "lit\\u0000", "when": "daily at 4am"})
    assert D.api("GET", "/v1/schedule/" + u)["name"] == "lit\\u0000"
    D.api("DELETE", "/v1/schedule/" + u)


def test_long_and_sql_strings():
    big = "x" * 10000
    e = err(D.request("POST", "/v1/schedules", {"name": big, "when": "daily at 4am"}), 400)
    assert "too long" in e["error"]
    err(D.request("POST", "/v1/targets", {"name": "t", "summary": big, "plugin": "fs", "endpoint": ep("src")}), 400)
    sql = "x'); DROP TABLE jobs; --"
    u = D.create("schedules", {"name": sql, "summary": "\"quoted\" and 'single' ünïcödé ✓", "when": "daily at 4am"})
    got = D.api("GET", "/v1/schedule/" + u)
    assert got["name"] == sql and got["summary"] == "\"quoted\" and 'single' ünïcödé ✓", got
    assert isinstance(D.api("GET", "/v1/jobs"), list)
    D.api("DELETE", "/v1/schedule/" + u)


def test_body_limit_413():
    before = len(D.api("GET", "/v1/schedules"))
    body = json.dumps({"name": "big", "when": "daily at 4am", "summary": "y" * (2 * 1024 * 1024)}).encode()
    r = D.request("POST", "/v1/schedules", raw=body)
    assert "too large" in err(r, 413)["error"]
    assert len(D.api("GET", "/v1/schedules")) == before


def test_unknown_paths_methods_and_uuids():
    err(D.request("GET", "/v1/nothing"), 404)
    err(D.request("GET", "/v1/job/not-a-uuid"), 404)
    err(D.request("GET", "/v1/job/00000000-0000-4000-8000-000000000000"), 404)
    err(D.request("PATCH", "/v1/jobs"), 405)
    err(D.request("DELETE", "/v1/jobs"), 405)
    err(D.request("PUT", "/v1/schedules", {}), 405)
    err(D.request("POST", "/v1/ping"), 405)


def test_1000_concurrent_connections():
    """1,000 clients at once: every one answered, the daemon stays up."""
    results = []
    lock = threading.Lock()

    def one():
        try:
            s = socket.create_connection(("127.0.0.1", D.port), timeout=30)
            s.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            s.close()
            ok = data.startswith(b"HTTP/1.1 200") and b"pong" in data
        except OSError:
            ok = False
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=one) for _ in range(1000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1000
    failed = results.count(False)
    assert failed == 0, "%d of 1000 connections failed" % failed
    assert D.request("GET", "/v1/ping", auth=False).status == 200


def test_validation_right_after_start():
    """The API answers only once every plugin's info is known, so a target
    saved right after start is still validated by its plugin."""
    for _ in range(3):
        d = Daemon()
        d.start()
        try:
            d.login()
            r = d.request("POST", "/v1/targets", {"name": "x", "plugin": "fs",
                                                   "endpoint": '{"base_dir":"relative"}'})
            assert r.status == 400 and "absolute" in r.json["error"], r
        finally:
            d.stop()


def test_second_instance_refused():
    other = Daemon(tmp=D.tmp)
    other.db = D.db
    other.start(wait=False)
    rc = other.proc.wait(timeout=20)
    other.proc = None
    other.log.close()
    assert rc != 0
    assert "already running" in other.read_log(), other.read_log()


def test_startup_errors_are_one_line():
    import subprocess
    from shieldtest import SHIELDD
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    d = tempfile.mkdtemp()
    p = subprocess.run([SHIELDD, "--listen", "127.0.0.1:%d" % port, "--db", d + "/x.db"],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, SHIELD_ADMIN_PASSWORD="x"))
    busy.close()
    assert p.returncode != 0 and "cannot listen" in p.stderr, p.stderr
    p = subprocess.run([SHIELDD, "--db", "/proc/nonexistent/x.db"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "catalog" in p.stderr.lower() or "cannot" in p.stderr, p.stderr
    cfg = os.path.join(d, "bad.conf")
    with open(cfg, "w") as f:
        f.write("this is not a config\n")
    p = subprocess.run([SHIELDD, "--config", cfg], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "bad.conf:1" in p.stderr, p.stderr
    p = subprocess.run([SHIELDD, "--workers", "zero"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "workers" in p.stderr, p.stderr
    p = subprocess.run([SHIELDD, "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "--listen" in p.stdout and "--workers" in p.stdout


def test_random_admin_password_file():
    d = Daemon(password="")
    d.extra_env = {"SHIELD_ADMIN_PASSWORD": ""}
    d.start()
    try:
        path = d.db + ".admin-password"
        st = os.stat(path)
        assert st.st_mode & 0o777 == 0o600, oct(st.st_mode)
        pw = open(path).read().strip()
        assert len(pw) >= 16
        assert pw in d.read_log(), "the generated password is shown once on stderr"
        d.login(password=pw)
        assert d.api("GET", "/v1/auth/me")["username"] == "admin"
    finally:
        d.stop()


def teardown():
    D.stop()


def main():
    setup()
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_") and callable(v)]
    try:
        run(tests)
    finally:
        if D.proc is not None:
            teardown()


if __name__ == "__main__":
    # run() exits; make sure the daemon is stopped and checked first.
    setup()
    tests = [v for k, v in list(globals().items()) if k.startswith("test_") and callable(v)]
    import shieldtest
    orig_exit = sys.exit
    code = {}

    def fake_exit(c=0):
        code["c"] = c
    shieldtest.sys.exit = fake_exit
    run(tests)
    shieldtest.sys.exit = orig_exit
    rc = code.get("c", 0)
    try:
        teardown()
    except AssertionError as e:
        print("FAIL daemon shutdown: %s" % e)
        print("0 passed, 1 failed")
        rc = 1
    sys.exit(rc)
