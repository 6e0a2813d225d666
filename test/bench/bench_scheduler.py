#!/usr/bin/env python3
"""The scheduler with 100,000 jobs: start-up time, memory and idle wakeups.

    python3 test/bench/bench_scheduler.py [BUILD_DIR]

shieldd makes an empty catalog and, through the API, one target, one store,
one retention policy and 60 schedules of every kind (hourly, daily, weekly,
monthly, every N hours), all at minutes that do not come up during the
measurement.  It is stopped, 100,000 jobs (90% unpaused) are inserted into
the same catalog with Python's sqlite3 (creating them through the API would
take minutes) and shieldd is started again.  Measured: the time from exec
to the log line "scheduler: N job(s) armed", to "listening" and to the first
answered /v1/ping, against the baseline of Python's sqlite3 reading the same
job rows (the same joins as the catalog's job list) from the warm catalog;
RSS after start and its peak; and, over 60 s idle, the increase of
shield_scheduler_wakeups_total and shieldd's CPU time: no job is due in that
window, so every wakeup would be a wasted one.
Environment: BENCH_SCHED_JOBS (default 100000), BENCH_IDLE_SECONDS (60).
Targets: load + arm < 2 s; RSS < 50 MB; no wakeup that nothing asked for.
"""
import datetime
import os
import random
import re
import sqlite3
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

NJOBS = int(os.environ.get("BENCH_SCHED_JOBS", "100000"))
IDLE = int(os.environ.get("BENCH_IDLE_SECONDS", "60"))
DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
ORD = ["1st", "2nd", "3rd", "4th"]


def schedules(rng, avoid):
    """60 timespecs of every kind whose minute is not in avoid."""
    minutes = [m for m in range(60) if m not in avoid]
    out = []
    for i in range(60):
        m = rng.choice(minutes)
        h = rng.randrange(24)
        kind = i % 6
        if kind == 0:
            out.append("hourly at :%02d" % m)
        elif kind in (1, 2):
            out.append("daily at %d:%02d" % (h, m))
        elif kind == 3:
            out.append("weekly at %d:%02d on %s" % (h, m, rng.choice(DAYS)))
        elif kind == 4:
            out.append("%s %s at %d:%02d" % (rng.choice(ORD), rng.choice(DAYS), h, m))
        else:
            out.append("every %d hours from %d:%02d" % (rng.choice([2, 3, 4, 6, 8, 12]),
                                                        rng.randrange(2), m))
    return out


def metric(d, name):
    body = d.request("GET", "/metrics").body
    m = re.search(r"^%s(?:\{[^}]*\})? (\d+(?:\.\d+)?)" % re.escape(name), body, re.M)
    return float(m.group(1)) if m else float("nan")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bulk_insert(db, n, target, store, retention, scheds, rng):
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys = ON")
    rows, sample = [], []
    for i in range(n):
        rows.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), target, store,
                     scheds[i % len(scheds)], retention, 1 if i % 10 == 0 else 0,
                     "job-%06d" % i))
        if i % 500 == 1:
            sample.append(rows[-1][0])
    with con:
        con.executemany("INSERT INTO jobs (uuid, target_uuid, store_uuid, schedule_uuid,"
                        " retention_uuid, paused, name) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return sample


def next_run(job):
    """Seconds from now to a job's next_run (an ISO 8601 UTC time)."""
    t = datetime.datetime.fromisoformat(job["next_run"].replace("Z", "+00:00"))
    return t.timestamp() - time.time()


def sqlite_baseline(db):
    """Seconds for Python's sqlite3 to read every job row with its joins."""
    con = sqlite3.connect(db)
    t0 = time.monotonic()
    rows = con.execute(
        "SELECT j.uuid, j.name, j.summary, j.target_uuid, j.store_uuid, j.schedule_uuid,"
        " j.retention_uuid, j.paused, j.last_scheduled, r.name, r.expiry, s.name,"
        " s.timespec, st.name, st.plugin, st.endpoint, t.name, t.plugin, t.endpoint,"
        " k.uuid, k.status, k.started_at, k.stopped_at FROM jobs j"
        " JOIN retention r ON r.uuid = j.retention_uuid"
        " JOIN schedules s ON s.uuid = j.schedule_uuid"
        " JOIN stores st ON st.uuid = j.store_uuid"
        " JOIN targets t ON t.uuid = j.target_uuid"
        " LEFT JOIN tasks k ON k.rowid = j.last_task ORDER BY j.name, j.uuid").fetchall()
    dt = time.monotonic() - t0
    con.close()
    return dt, len(rows)


def timed_start(d):
    """Start shieldd; seconds from exec to armed, listening and first ping."""
    d.start(wait=False)
    t0 = d.started_at
    marks = {}
    deadline = t0 + 120
    while time.monotonic() < deadline and len(marks) < 3:
        if d.proc.poll() is not None:
            raise RuntimeError("shieldd exited:\n" + d.read_log()[-3000:])
        text = d.read_log()
        now = time.monotonic() - t0
        if "armed" not in marks and "job(s) armed" in text:
            marks["armed"] = now
        if "listening" not in marks and "listening on" in text:
            marks["listening"] = now
        if "ping" not in marks and "listening" in marks:
            try:
                if d.request("GET", "/v1/ping", auth=False, timeout=5).status == 200:
                    marks["ping"] = time.monotonic() - t0
            except OSError:
                pass
        time.sleep(0.002)
    m = re.search(r"scheduler: (\d+) job\(s\) armed", d.read_log())
    marks["n_armed"] = int(m.group(1)) if m else -1
    return marks


def main():
    B.need(B.SHIELDD, os.path.join(B.PLUGINS, "fs"))
    rng = random.Random(20240601)
    tmp = B.mktemp("sched")
    d = B.Daemon(tmp)
    try:
        # Minutes that may come up between now and the end of the idle window.
        now = time.localtime()
        span = 4 + (IDLE + 120) // 60
        avoid = {(now.tm_min + k) % 60 for k in range(-1, span)}
        d.start()
        d.login()
        os.makedirs(os.path.join(tmp, "t"))
        os.makedirs(os.path.join(tmp, "s"))
        target = d.system("targets", "t", "fs", {"base_dir": os.path.join(tmp, "t")})
        store = d.system("stores", "s", "fs", {"base_dir": os.path.join(tmp, "s")})
        retention = d.create("retention", {"name": "r", "expires": 86400})
        scheds = [d.create("schedules", {"name": "s%02d" % i, "when": w})
                  for i, w in enumerate(schedules(rng, avoid))]
        d.stop()
        B.log("inserting %d jobs with sqlite3" % NJOBS)
        t0 = time.monotonic()
        sample = bulk_insert(d.db, NJOBS, target, store, retention, scheds, rng)
        insert_s = time.monotonic() - t0
        unpaused = sum(1 for i in range(NJOBS) if i % 10 != 0)

        base_runs = [sqlite_baseline(d.db)[0] for _ in range(3)]
        base_s = B.median(base_runs)
        B.log("starting shieldd with %d jobs" % NJOBS)
        marks = timed_start(d)
        d.login()
        time.sleep(1.0)
        st = d.rss()
        rss_start, hwm_start = st["VmRSS"], st["VmHWM"]
        # No job may be due in the window: check a sample of them.
        soonest = min(next_run(d.api("GET", "/v1/job/" + u)) for u in sample)
        w0 = metric(d, "shield_scheduler_wakeups_total")
        time.sleep(0.5)
        c0 = cpu_seconds(d.pid)
        B.log("idle for %d s" % IDLE)
        time.sleep(IDLE)
        c1 = cpu_seconds(d.pid)
        t0 = time.monotonic()
        w1 = metric(d, "shield_scheduler_wakeups_total")
        metrics_s = time.monotonic() - t0
        metrics_cpu = cpu_seconds(d.pid) - c1
        st = d.rss()
        hwm = st["VmHWM"]
        tasks = d.api("GET", "/v1/tasks?limit=5")
        wakeups = w1 - w0
        rows = [
            ["jobs in the catalog (unpaused)", "{:,} ({:,})".format(NJOBS, unpaused), "", ""],
            ["jobs armed (log line)", "{:,}".format(marks.get("n_armed", -1)), "= unpaused",
             B.yes(marks.get("n_armed") == unpaused)],
            ["baseline: sqlite3 (Python) reads the job rows, median of 3",
             "%.3f s" % base_s, "", ""],
            ["exec -> \"scheduler: N job(s) armed\"", "%.3f s (%.1fx baseline)" %
             (marks.get("armed", float("nan")), marks.get("armed", 0) / base_s),
             "< 2 s", B.yes(marks.get("armed", 99) < 2)],
            ["exec -> \"listening on\"", "%.3f s" % marks.get("listening", float("nan")), "", ""],
            ["exec -> first /v1/ping answered", "%.3f s" % marks.get("ping", float("nan")),
             "< 2 s", B.yes(marks.get("ping", 99) < 2)],
            ["RSS 1 s after start (VmRSS)", B.mib(rss_start), "< 50 MB",
             B.yes(rss_start * 1024 < 50e6)],
            ["peak RSS (VmHWM, start + idle)", B.mib(max(hwm, hwm_start)), "< 50 MB",
             B.yes(max(hwm, hwm_start) * 1024 < 50e6)],
            ["scheduler wakeups in %d s idle (no job due)" % IDLE, "%d" % wakeups, "0",
             B.yes(wakeups == 0)],
            ["soonest next_run of %d sampled jobs" % len(sample), "in %.0f s" % soonest,
             "> %d s" % IDLE, B.yes(soonest > IDLE)],
            ["shieldd CPU time in %d s idle" % IDLE, "%.2f s" % (c1 - c0), "", ""],
            ["one GET /metrics (wall / shieldd CPU)", "%.3f s / %.2f s" % (metrics_s, metrics_cpu),
             "", ""],
            ["tasks started while idle", str(len(tasks or [])), "0", B.yes(not tasks)],
        ]
        B.emit(B.table("Scheduler: %s jobs on 60 schedules" % format(NJOBS, ","),
                       ["measure", "value", "target", "target met"], rows,
                       ["The %s jobs were bulk-inserted with sqlite3 in %.1f s; their schedules "
                        "are hourly, daily, weekly, monthly and every-N-hours, all at minutes "
                        "outside the measured window." % (format(NJOBS, ","), insert_s)]))
    finally:
        d.stop()
        B.rmtree(tmp)


if __name__ == "__main__":
    main()
