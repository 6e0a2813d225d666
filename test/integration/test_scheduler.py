"""The scheduler against the real daemon: with SHIELD_MODE=DEV a job runs by
itself within two minutes and a paused one does not; runs missed while the
daemon was down are caught up once, not once per slot; a job whose previous
run is still going is skipped, visibly; next_run follows edits at once."""
import json
import os
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, PLUGINS, SRC, run  # noqa: E402


def setup_daemon(env=None):
    tmp = tempfile.mkdtemp(prefix="shield-sched.")
    plugins = os.path.join(tmp, "plugins")
    os.makedirs(plugins)
    os.symlink(os.path.join(PLUGINS, "fs"), os.path.join(plugins, "fs"))
    os.symlink(os.path.join(SRC, "test", "plugins", "slow"), os.path.join(plugins, "slow"))
    for d in ("src", "store"):
        os.makedirs(os.path.join(tmp, d))
    with open(os.path.join(tmp, "src", "f"), "w") as f:
        f.write("data\n")
    d = Daemon(plugins=plugins, env=env, tmp=os.path.join(tmp, "daemon"))
    os.makedirs(d.tmp)
    d.start()
    d.login()
    return d, tmp


def objects(d, tmp, when="daily at 4am", target_plugin="fs", target_ep=None):
    t = d.create("targets", {"name": "t", "plugin": target_plugin,
                             "endpoint": json.dumps(target_ep or {"base_dir": os.path.join(tmp, "src")})})
    s = d.create("stores", {"name": "s", "plugin": "fs",
                            "endpoint": json.dumps({"base_dir": os.path.join(tmp, "store")})})
    sc = d.create("schedules", {"name": "sc", "when": when})
    r = d.create("retention", {"name": "r", "expires": 86400})
    return t, s, sc, r


def job(d, t, s, sc, r, name, paused):
    return d.create("jobs", {"name": name, "target": t, "store": s, "schedule": sc,
                             "retention": r, "paused": paused})


def tasks_of(d, j):
    return d.api("GET", "/v1/tasks?job=" + j)


def test_dev_mode_runs_unpaused_jobs_only():
    d, tmp = setup_daemon(env={"SHIELD_MODE": "DEV"})
    try:
        t, s, sc, r = objects(d, tmp)
        active = job(d, t, s, sc, r, "active", False)
        t2 = d.create("targets", {"name": "t2", "plugin": "fs",
                                  "endpoint": json.dumps({"base_dir": os.path.join(tmp, "src")})})
        paused = job(d, t2, s, sc, r, "paused", True)
        nxt = d.api("GET", "/v1/job/" + active)["next_run"]
        assert nxt.endswith(":00"), nxt
        deadline = time.time() + 125
        while time.time() < deadline and not any(x["status"] == "done" for x in tasks_of(d, active)):
            time.sleep(1)
        runs = tasks_of(d, active)
        assert any(x["status"] == "done" and x["owner"] == "system" for x in runs), runs
        assert tasks_of(d, paused) == [], "a paused job must not run"
        archives = d.api("GET", "/v1/archives?target=" + t)
        assert archives and archives[0]["status"] == "valid"
        # one run per minute slot, never two for the same slot
        slots = [x["requested_at"][:16] for x in runs if x["owner"] == "system"]
        assert len(slots) == len(set(slots)), slots
        # unpausing takes effect at once: a next_run appears
        d.api("POST", "/v1/job/%s/unpause" % paused)
        assert d.api("GET", "/v1/job/" + paused)["next_run"] is not None
        d.api("POST", "/v1/job/%s/pause" % paused)
        assert d.api("GET", "/v1/job/" + paused)["next_run"] is None
    finally:
        d.stop()


def test_catch_up_once_after_downtime():
    d, tmp = setup_daemon()
    try:
        t, s, sc, r = objects(d, tmp, when="every 15 minutes from 0:00")
        j = job(d, t, s, sc, r, "missed", False)
        d.stop()
        # pretend the last scheduled run was three days ago: ~288 slots missed
        db = sqlite3.connect(d.db)
        db.execute("update jobs set last_scheduled = strftime('%s','now') - 3*86400 where uuid = ?", (j,))
        db.commit()
        db.close()
        d.start()
        d.login()
        deadline = time.time() + 30
        while time.time() < deadline and not tasks_of(d, j):
            time.sleep(0.2)
        time.sleep(2)
        runs = [x for x in tasks_of(d, j) if x["owner"] == "system"]
        assert len(runs) == 1, "exactly one catch-up run, got %d" % len(runs)
        d.wait_task(runs[0]["uuid"])
        # and the next run is back on the schedule's grid, in the future
        nxt = d.api("GET", "/v1/job/" + j)["next_run"]
        assert nxt[14:16] in ("00", "15", "30", "45"), nxt
        # restarting again does not catch up a second time
        d.stop()
        d.start()
        d.login()
        time.sleep(2)
        assert len([x for x in tasks_of(d, j) if x["owner"] == "system"]) == 1
    finally:
        d.stop()


def test_busy_job_is_skipped_visibly():
    d, tmp = setup_daemon(env={"SHIELD_MODE": "DEV"})
    try:
        t, s, sc, r = objects(d, tmp, target_plugin="slow", target_ep={"seconds": "150"})
        j = job(d, t, s, sc, r, "long", True)
        first = d.api("POST", "/v1/job/%s/run" % j)["task_uuid"]
        d.api("POST", "/v1/job/%s/unpause" % j)
        deadline = time.time() + 125
        skipped = []
        while time.time() < deadline and not skipped:
            skipped = [x for x in tasks_of(d, j) if x["status"] == "canceled" and x["owner"] == "system"]
            time.sleep(1)
        assert skipped and "skipped" in skipped[0]["error"], tasks_of(d, j)
        assert d.api("GET", "/v1/task/" + first)["status"] == "running"
        d.api("POST", "/v1/job/%s/pause" % j)
        d.api("DELETE", "/v1/task/" + first)
        d.wait_task(first)
    finally:
        d.stop()


def test_schedule_edit_moves_next_run():
    d, tmp = setup_daemon()
    try:
        t, s, sc, r = objects(d, tmp, when="daily at 4am")
        j = job(d, t, s, sc, r, "edit", False)
        assert d.api("GET", "/v1/job/" + j)["next_run"] is not None
        d.api("PUT", "/v1/schedule/" + sc, {"name": "sc", "summary": "", "when": "hourly at :17"})
        nxt = d.api("GET", "/v1/job/" + j)["next_run"]
        assert nxt is not None and nxt[14:16] == "17", nxt
        d.api("DELETE", "/v1/job/" + j)
        m = d.request("GET", "/metrics").body
        assert "shield_scheduler_wakeups_total" in m
    finally:
        d.stop()


if __name__ == "__main__":
    run([test_catch_up_once_after_downtime, test_schedule_edit_moves_next_run,
         test_busy_job_is_skipped_visibly, test_dev_mode_runs_unpaused_jobs_only])
