#!/usr/bin/env python3
"""API throughput and latency: wrk against a shieldd holding 1,000 jobs.

    python3 test/bench/bench_api.py [BUILD_DIR]

GET /v1/ping (no auth, the HTTP floor), GET /v1/jobs (all 1,000 jobs, with
their targets, stores, schedules and next runs) and GET /v1/job/:uuid, each
with `wrk -t2 -c50 -d10s --latency` and a bearer token; plus shieldd's RSS
empty and idle, idle with 1,000 jobs, and its peak (VmHWM) after the load.
Environment: BENCH_WRK_SECONDS (default 10), BENCH_API_JOBS (default 1000).
Targets: /v1/jobs >= 1,000 req/s with p99 < 50 ms; single-object GETs
>= 10,000 req/s; idle RSS < 10 MB.  wrk shares the 2 cores with shieldd.
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "10"))
NJOBS = int(os.environ.get("BENCH_API_JOBS", "1000"))


def main():
    B.need(B.SHIELDD, os.path.join(B.PLUGINS, "fs"))
    if shutil.which("wrk") is None:
        B.emit("\nbench_api: wrk is not installed (contrib/deps.sh test), skipped\n")
        return
    tmp = B.mktemp("api")
    d = B.Daemon(tmp)
    try:
        d.start()
        time.sleep(1.0)
        rss_empty = d.rss()["VmRSS"]
        d.login()
        s, r = d.basics()
        targets, stores = [], []
        for i in range(10):
            os.makedirs(os.path.join(tmp, "data", "t%d" % i))
            os.makedirs(os.path.join(tmp, "data", "s%d" % i))
            targets.append(d.system("targets", "target-%02d" % i, "fs",
                                    {"base_dir": os.path.join(tmp, "data", "t%d" % i)}))
            stores.append(d.system("stores", "store-%02d" % i, "fs",
                                   {"base_dir": os.path.join(tmp, "data", "s%d" % i)}))
        B.log("creating %d jobs through the API" % NJOBS)
        t0 = time.monotonic()
        jobs = []
        for i in range(NJOBS):
            jobs.append(d.job("job-%04d" % i, targets[i % 10], stores[(i // 10) % 10], s, r,
                              paused=(i % 2 == 0)))
        create_s = time.monotonic() - t0
        n = len(d.api("GET", "/v1/jobs"))
        assert n == NJOBS, n
        time.sleep(2.0)
        rss_idle = d.rss()["VmRSS"]
        base = "http://127.0.0.1:%d" % d.port
        cases = [("GET /v1/ping", base + "/v1/ping", 10000),
                 ("GET /v1/job/:uuid", base + "/v1/job/" + jobs[NJOBS // 2], 10000),
                 ("GET /v1/jobs (%d jobs)" % NJOBS, base + "/v1/jobs", 1000)]
        rows, ok_all = [], True
        ping_rps = None
        for name, url, target_rps in cases:
            B.log("wrk %s for %ds" % (name, SECONDS))
            w = B.wrk(url, token=d.token, duration=SECONDS)
            if ping_rps is None:
                ping_rps = w["rps"]
            ok = w["rps"] >= target_rps and w["errors"] == 0
            if "jobs (" in name:
                ok = ok and w["p99"] < 50
                tgt = ">= %s req/s, p99 < 50 ms" % format(target_rps, ",")
            else:
                tgt = ">= %s req/s" % format(target_rps, ",")
            ok_all = ok_all and ok
            rows.append([name, "{:,.0f}".format(w["rps"]), "%.2f" % w["p50"],
                         "%.2f" % w["p99"], w["errors"],
                         "%.2fx" % (w["rps"] / ping_rps), tgt, B.yes(ok)])
        hwm = d.rss()["VmHWM"]
        rss_after = d.rss()["VmRSS"]
        rows_mem = [
            ["idle, empty catalog", B.mib(rss_empty), "< 10 MB", B.yes(rss_empty * 1024 < 10e6)],
            ["idle, %d jobs" % NJOBS, B.mib(rss_idle), "< 10 MB", B.yes(rss_idle * 1024 < 10e6)],
            ["after the wrk runs (VmRSS)", B.mib(rss_after), "", ""],
            ["peak (VmHWM)", B.mib(hwm), "", ""],
        ]
        B.emit(B.table(
            "API: wrk -t2 -c50 -d%ds --latency, shieldd with %d jobs" % (SECONDS, NJOBS),
            ["request", "req/s", "p50 ms", "p99 ms", "errors", "vs ping", "target",
             "target met"], rows,
            ["Creating the %d jobs through POST /v1/jobs took %.1f s (%.0f jobs/s). "
             "wrk and shieldd share the machine's %d cores." %
             (NJOBS, create_s, NJOBS / create_s, os.cpu_count())]))
        B.emit(B.table("API: shieldd memory", ["state", "RSS", "target", "target met"],
                       rows_mem))
    finally:
        d.stop()
        B.rmtree(tmp)


if __name__ == "__main__":
    main()
