"""A plugin that floods its stderr must not stall shieldd or bloat the catalog.

The `noisy` fixture writes 1,000,000 lines (about 100 MB) of stderr as fast
as it can during a backup.  The task must end in bounded time, /v1/ping
must stay fast while it runs, the catalog must stay small, the stored log
must keep its head and tail and say what it cut, and GET /v1/tasks must
stay small (it carries no logs, only each task's newest line).
"""
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, PLUGINS, SRC, run  # noqa: E402

FIXTURES = os.path.join(SRC, "test", "plugins")
LINES = 1000000
# What the catalog keeps of one log (catalog/catalog.h): lines and bytes.
HEAD_LINES, TAIL_LINES = 1000, 4000
HEAD_BYTES, TAIL_BYTES = 256 * 1024, 1024 * 1024


def plugin_dir(tmp):
    d = os.path.join(tmp, "plugins")
    os.makedirs(d)
    os.symlink(os.path.join(PLUGINS, "fs"), os.path.join(d, "fs"))
    os.symlink(os.path.join(FIXTURES, "noisy"), os.path.join(d, "noisy"))
    return d


def catalog_bytes(db):
    return sum(os.path.getsize(db + ext) for ext in ("", "-wal", "-shm")
               if os.path.exists(db + ext))


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p))]


def test_noisy_plugin_is_bounded():
    tmp = tempfile.mkdtemp(prefix="shield-noisy.")
    os.makedirs(os.path.join(tmp, "store"))
    with Daemon(plugins=plugin_dir(tmp), tmp=tmp) as d:
        d.login()
        t = d.create("targets", {"name": "noisy", "plugin": "noisy",
                                 "endpoint": json.dumps({"lines": str(LINES)})})
        s = d.create("stores", {"name": "st", "plugin": "fs",
                                "endpoint": json.dumps({"base_dir": os.path.join(tmp, "store")})})
        sc = d.create("schedules", {"name": "sc", "when": "daily at 4am"})
        r = d.create("retention", {"name": "r", "expires": 86400})
        j = d.create("jobs", {"name": "noisy", "target": t, "store": s, "schedule": sc,
                              "retention": r, "paused": True})

        pings, stop = [], threading.Event()

        def pinger():
            while not stop.is_set():
                t0 = time.monotonic()
                resp = d.request("GET", "/v1/ping", auth=False, timeout=30)
                pings.append(time.monotonic() - t0)
                assert resp.status == 200, resp
                time.sleep(0.02)

        th = threading.Thread(target=pinger, daemon=True)
        t0 = time.monotonic()
        uuid = d.api("POST", "/v1/job/%s/run" % j)["task_uuid"]
        th.start()
        # A list asked for while the flood runs is as small as ever.
        listed = []
        task = None
        while time.monotonic() - t0 < 60:
            task = d.api("GET", "/v1/task/" + uuid)
            if task["status"] in ("done", "failed", "canceled"):
                break
            listed.append(len(d.request("GET", "/v1/tasks").body))
            time.sleep(0.2)
        took = time.monotonic() - t0
        stop.set()
        th.join()
        assert task["status"] == "done", (took, {k: v for k, v in task.items() if k != "log"})
        assert took < 60, "the task took %.1f s" % took

        p95 = percentile(pings, 0.95)
        print("noisy: task %.1f s, %d pings, p50 %.1f ms, p95 %.1f ms, max %.1f ms"
              % (took, len(pings), 1000 * percentile(pings, 0.5), 1000 * p95,
                 1000 * max(pings)))
        assert len(pings) >= 5, pings
        assert p95 < 0.2, "ping p95 %.0f ms while the plugin floods stderr" % (1000 * p95)

        size = catalog_bytes(d.db)
        print("noisy: catalog %.1f MB, lists while running: %s bytes at most"
              % (size / 1e6, max(listed) if listed else 0))
        assert size < 20 * 1000 * 1000, "catalog is %d bytes" % size

        # The stored log: head, the cut, tail, and the daemon's last word.
        log = task["log"].splitlines()
        assert log[0].endswith("[shieldd] running noisy backup | fs store"), log[:2]
        assert log[1].endswith("[noisy] line 1 " + "x" * 80), log[:2]
        cuts = [i for i, line in enumerate(log) if line.endswith(" lines cut ...")]
        assert len(cuts) == 1, cuts
        cut = log[cuts[0]]
        assert cut.startswith("... ") and int(cut.split()[1]) > LINES - HEAD_LINES - TAIL_LINES, cut
        assert any(line.endswith("[noisy] line %d %s" % (LINES, "x" * 80)) for line in log[-5:]), log[-5:]
        assert "backup done" in log[-1], log[-1]
        assert len(log) <= HEAD_LINES + 1 + TAIL_LINES, len(log)
        assert len(task["log"]) <= HEAD_BYTES + TAIL_BYTES + 2 * (HEAD_LINES + TAIL_LINES) + 100, \
            len(task["log"])
        numbers = [int(line.split("[noisy] line ")[1].split()[0]) for line in log if "[noisy] line " in line]
        assert numbers == sorted(numbers) and numbers[0] == 1 and numbers[-1] == LINES
        # What was cut and what was kept add up to every line written.
        assert int(cut.split()[1]) + len(log) - 1 == task["log_lines"] > LINES, \
            (cut, len(log), task["log_lines"])

        # The debug log is capped the same way.
        dbg = d.api("GET", "/v1/task/%s?debug" % uuid)["debug"].splitlines()
        assert len(dbg) <= HEAD_LINES + 1 + TAIL_LINES, len(dbg)
        assert sum(1 for line in dbg if line.endswith(" lines cut ...")) == 1

        # The catalog holds no more than the cap.
        with sqlite3.connect(d.db) as c:
            rows, text = c.execute("SELECT count(*), sum(length(line)) FROM task_log"
                                   " WHERE task_uuid = ?", (uuid,)).fetchone()
        assert rows <= HEAD_LINES + TAIL_LINES and text <= HEAD_BYTES + TAIL_BYTES, (rows, text)

        # Lists carry only the newest line and the log's last lines.
        body = d.request("GET", "/v1/tasks?debug").body
        tasks = json.loads(body)
        assert len(body) < 8192, len(body)
        assert listed and max(listed) < 8192, listed
        assert tasks[0]["log"].splitlines()[0].endswith(" lines cut ..."), tasks[0]["log"][:200]
        assert tasks[0]["log"].splitlines()[1:] == log[-10:], tasks[0]["log"]
        assert tasks[0]["debug"].splitlines()[0].endswith(" lines cut ...")
        assert len(tasks[0]["debug"].splitlines()) == 11
        assert tasks[0]["last_log"] == log[-1], (tasks[0]["last_log"], log[-1])
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run([test_noisy_plugin_is_bounded])
