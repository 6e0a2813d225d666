#!/usr/bin/env python3
"""fs target -> fs store backup and restore throughput against tar.

    python3 test/bench/bench_fs.py [BUILD_DIR]

The standard ~1 GiB tree (make-dataset.py, cached under /tmp), warm page
cache for every contender.  Each of BENCH_FS_RUNS (default 3) rounds times:
  baseline backup   tar -b 256 -cf - DIR | cat > FILE
  (for reference)   the same, then sync FILE (the fs store fsyncs its blob)
  shield backup     POST /v1/job/:uuid/run until the task is done
  baseline restore  tar xf FILE -C NEWDIR
  shield restore    POST /v1/archive/:uuid/restore into a new, empty target
and the medians are compared.  During the shield backups shieldd's VmRSS is
sampled every 20 ms (and the largest plugin's).  Finally two backups run at
once while a client reads GET /v1/jobs every 10 ms on one connection: p50,
p99 and max latency, against the same client on the idle daemon.
Targets: >= 0.9x tar's throughput; shieldd RSS < 20 MB; p99 < 50 ms.
"""
import http.client
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

RUNS = int(os.environ.get("BENCH_FS_RUNS", "3"))


def sh(cmd, cwd=None):
    t0 = time.monotonic()
    subprocess.run(cmd, shell=True, check=True, cwd=cwd)
    return time.monotonic() - t0


def cpu(pid):
    """(self, reaped children) CPU seconds of pid."""
    with open("/proc/%d/stat" % pid) as f:
        x = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return (int(x[11]) + int(x[12])) / tck, (int(x[13]) + int(x[14])) / tck


class Poller:
    """GET path every interval on one keep-alive connection; keeps latencies in ms."""

    def __init__(self, d, path, interval=0.01):
        self.d, self.path, self.interval = d, path, interval
        self.lat = []
        self.errors = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=30)
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                r = self.d.request("GET", self.path, conn=conn)
                if r.status != 200:
                    self.errors += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=30)
            self.lat.append((time.monotonic() - t0) * 1000)
            self._stop.wait(self.interval)
        conn.close()

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *a):
        self._stop.set()
        self._t.join()
        return False


def main():
    B.need(B.SHIELDD, os.path.join(B.PLUGINS, "fs"))
    ds = B.dataset()
    size, nfiles = B.dir_size(ds)
    tmp = B.mktemp("fs")
    d = B.Daemon(tmp)
    try:
        B.log("warming the page cache")
        B.warm(ds)
        d.start()
        d.login()
        sched, ret = d.basics()
        src = d.system("targets", "dataset", "fs", {"base_dir": ds})
        stores = []
        for name in ("store-a", "store-b"):
            os.makedirs(os.path.join(tmp, name))
            stores.append(d.system("stores", name, "fs", {"base_dir": os.path.join(tmp, name)}))
        job = d.job("bench", src, stores[0], sched, ret)
        tarfile = os.path.join(tmp, "baseline.tar")
        res = {k: [] for k in ("tar_c", "tar_c_sync", "sh_b", "tar_x", "sh_r")}
        rss_peak = kid_peak = rrss_peak = rkid_peak = 0
        cpu_self = cpu_kids = 0.0
        for run in range(RUNS):
            B.log("round %d of %d" % (run + 1, RUNS))
            # backup: baseline, then shield, then baseline + fsync
            os.sync()
            res["tar_c"].append(sh("tar -b 256 -cf - . | cat > %s" % tarfile, cwd=ds))
            os.unlink(tarfile)
            os.sync()
            c0 = cpu(d.pid)
            with B.RssSampler(d.pid) as rs:
                dt, task = d.run_job(job)
            c1 = cpu(d.pid)
            cpu_self += c1[0] - c0[0]
            cpu_kids += c1[1] - c0[1]
            res["sh_b"].append(dt)
            rss_peak = max(rss_peak, rs.peak)
            kid_peak = max(kid_peak, rs.kid_peak)
            os.sync()
            res["tar_c_sync"].append(sh("tar -b 256 -cf - . | cat > %s && sync %s" %
                                        (tarfile, tarfile), cwd=ds))
            archive = d.api("GET", "/v1/archives?limit=1")[0]
            assert archive["size"] == task["bytes"], (archive, task)
            # restore: baseline, then shield
            newdir = os.path.join(tmp, "tar-restore")
            os.makedirs(newdir)
            os.sync()
            res["tar_x"].append(sh("tar xf %s -C %s" % (tarfile, newdir)))
            B.rmtree(newdir)
            os.unlink(tarfile)
            dest = os.path.join(tmp, "shield-restore-%d" % run)
            os.makedirs(dest)
            t = d.system("targets", "restore-%d" % run, "fs", {"base_dir": dest})
            os.sync()
            with B.RssSampler(d.pid) as rr:
                dt, _ = d.restore(archive["uuid"], t)
            rrss_peak = max(rrss_peak, rr.peak)
            rkid_peak = max(rkid_peak, rr.kid_peak)
            res["sh_r"].append(dt)
            got = B.dir_size(dest)
            if got != (size, nfiles):
                raise RuntimeError("restored tree differs: %r != %r" % (got, (size, nfiles)))
            B.rmtree(dest)
            d.api("DELETE", "/v1/archive/" + archive["uuid"], expect=None)
            blob = os.path.join(tmp, "store-a", archive["store_key"])
            if os.path.exists(blob):
                os.unlink(blob)
        med = {k: B.median(v) for k, v in res.items()}
        n_runs = "median of %d" % RUNS

        def row(name, key, base_key, target):
            r = med[base_key] / med[key] if base_key else None
            return [name, "%.2f s" % med[key], "%.0f" % B.mbps(size, med[key]),
                    "%.2fx" % r if r else "1.00x (baseline)",
                    target, B.yes(r >= 0.9) if r and target else ""]

        rows = [row("backup: `tar -b 256 -cf - DIR \\| cat > FILE`", "tar_c", None, ""),
                row("backup: the same + `sync FILE`", "tar_c_sync", "tar_c", ""),
                row("backup: shield fs -> fs (run -> done)", "sh_b", "tar_c", ">= 0.9x"),
                row("restore: `tar xf FILE -C NEWDIR`", "tar_x", None, ""),
                row("restore: shield fs -> fs into an empty dir", "sh_r", "tar_x", ">= 0.9x")]
        rows[2][3] += " (%.2fx of tar + sync)" % (med["tar_c_sync"] / med["sh_b"])
        B.emit(B.table("fs backup/restore of the standard tree (%.0f MiB, %d files), %s" %
                       (size / B.MIB, nfiles, n_runs),
                       ["operation", "time", "MB/s", "vs baseline", "target", "target met"],
                       rows,
                       ["All runs: " + "; ".join("%s %s" % (k, " ".join("%.2f" % x for x in v))
                                                 for k, v in res.items()) + " (s).",
                        "CPU per backup: shieldd (relay, SHA-256) %.2f s, plugins %.2f s." %
                        (cpu_self / RUNS, cpu_kids / RUNS)]))

        # API latency while two backups stream.
        job_b = d.job("bench-b", src, stores[1], sched, ret)
        B.log("API latency: idle, then during two concurrent backups")
        with Poller(d, "/v1/jobs") as idle:
            time.sleep(3)
        os.sync()
        results = {}

        def backup(j, key):
            results[key] = d.run_job(j)[0]

        with B.RssSampler(d.pid) as rs2, Poller(d, "/v1/jobs") as busy:
            ts = [threading.Thread(target=backup, args=(j, k))
                  for j, k in ((job, "a"), (job_b, "b"))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        rss_peak = max(rss_peak, rs2.peak)
        kid_peak = max(kid_peak, rs2.kid_peak)
        hwm = d.rss()["VmHWM"]
        both = max(results.values())
        lrows = []
        for name, p in (("idle", idle), ("during 2 concurrent backups", busy)):
            p99 = B.percentile(p.lat, 99)
            lrows.append([name, len(p.lat), p.errors, "%.1f" % B.percentile(p.lat, 50),
                          "%.1f" % p99, "%.1f" % max(p.lat),
                          "< 50 ms" if p is busy else "", B.yes(p99 < 50) if p is busy else ""])
        B.emit(B.table("fs: GET /v1/jobs latency (one client, every 10 ms) while two backups "
                       "stream (%.1f s for both, %.0f MB/s together)" %
                       (both, B.mbps(2 * size, both)),
                       ["daemon", "requests", "errors", "p50 ms", "p99 ms", "max ms", "target",
                        "target met"], lrows))
        B.emit(B.table("fs: memory during the backups",
                       ["process", "peak RSS", "target", "target met"],
                       [["shieldd during backups, sampled VmRSS", B.mib(rss_peak), "< 20 MB",
                         B.yes(rss_peak * 1024 < 20e6)],
                        ["shieldd during restores, sampled VmRSS", B.mib(rrss_peak), "", ""],
                        ["shieldd, VmHWM at the end (whole run)", B.mib(hwm), "< 20 MB",
                         B.yes(hwm * 1024 < 20e6)],
                        ["largest plugin process, backups", B.mib(kid_peak), "", ""],
                        ["largest plugin process, restores", B.mib(rkid_peak), "", ""]],
                       ["Sampled every 20 ms; VmHWM also catches what falls between samples."]))
    finally:
        d.stop()
        B.rmtree(tmp)


if __name__ == "__main__":
    main()
