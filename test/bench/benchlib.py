"""Shared helpers for SHIELD's benchmarks (Python 3 standard library only).

Each bench_*.py runs alone as `python3 test/bench/bench_NAME.py [BUILD_DIR]`
and prints one or more small markdown tables on stdout; progress goes to
stderr.  Everything they start (shieldd, plugins, servers) is stopped by its
PID and every temporary directory lives under /tmp and is removed at exit.

Timings are always compared with a baseline measured in the same run on the
same machine, and reported as ratios: the machines these run on are shared
and noisy, so absolute figures from different runs do not compare.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
ADMIN_PASSWORD = "bench-admin-password"
MIB = 1 << 20


def build_dir():
    """The build tree: argv[1], else $SHIELD_BUILD, else ./build."""
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        b = sys.argv[1]
    else:
        b = os.environ.get("SHIELD_BUILD", os.path.join(SRC, "build"))
    return os.path.abspath(b)


BUILD = build_dir()
SHIELDD = os.path.join(BUILD, "core", "shieldd")
PLUGINS = os.path.join(BUILD, "plugins", "bin")


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def mktemp(name):
    return tempfile.mkdtemp(prefix="shield-bench-%s." % name, dir="/tmp")


# ------------------------------------------------------------ memory
def proc_status(pid):
    """VmRSS and VmHWM of pid in KiB, as a dict; {} when it is gone."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return out


def children(pid):
    """Direct and indirect child PIDs of pid (through /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


class RssSampler:
    """Samples VmRSS of a process (and the largest of its children) in a thread."""

    def __init__(self, pid, interval=0.02, kids=True):
        self.pid = pid
        self.interval = interval
        self.kids = kids
        self.peak = 0           # KiB, the process itself
        self.hwm = 0            # KiB, its last VmHWM seen
        self.kid_peak = 0       # KiB, the largest single child
        self.samples = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            st = proc_status(self.pid)
            rss = st.get("VmRSS", 0)
            self.samples.append(rss)
            self.peak = max(self.peak, rss)
            self.hwm = max(self.hwm, st.get("VmHWM", 0))
            if self.kids:
                for k in children(self.pid):
                    st = proc_status(k)
                    self.kid_peak = max(self.kid_peak, st.get("VmHWM", 0), st.get("VmRSS", 0))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *a):
        self._stop.set()
        self._t.join()
        return False


# ------------------------------------------------------------ shieldd
class Response:
    def __init__(self, status, body):
        self.status = status
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Daemon:
    """A shieldd on a free 127.0.0.1 port with its catalog in tmp."""

    def __init__(self, tmp, plugins=PLUGINS, workers=None, args=(), db=None):
        self.tmp = tmp
        self.db = db or os.path.join(tmp, "shield.db")
        self.plugins = plugins
        self.workers = workers
        self.args = list(args)
        self.port = None
        self.proc = None
        self.token = None
        self.log_path = os.path.join(tmp, "shieldd.log")
        self.started_at = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self, wait=True, timeout=60):
        self.port = free_port()
        argv = [SHIELDD, "--listen", "127.0.0.1:%d" % self.port, "--db", self.db,
                "--plugins", self.plugins, "--log-level", "info"] + self.args
        if self.workers:
            argv += ["--workers", str(self.workers)]
        env = dict(os.environ, SHIELD_ADMIN_PASSWORD=ADMIN_PASSWORD)
        env.pop("SHIELD_MODE", None)
        self.logf = open(self.log_path, "ab")
        self.log_offset = self.logf.tell()
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=self.logf, env=env)
        if wait:
            self.wait_ready(timeout)
        return self

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("shieldd exited %s:\n%s" % (self.proc.returncode,
                                                              self.read_log()[-3000:]))
            try:
                if self.request("GET", "/v1/ping", auth=False, timeout=5).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError("shieldd did not answer within %ss" % timeout)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.logf.close()

    def rss(self):
        return proc_status(self.proc.pid)

    def request(self, method, path, body=None, auth=True, timeout=120, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if auth and self.token:
            h["Authorization"] = "Bearer " + self.token
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            resp = Response(r.status, r.read().decode("utf-8", "replace"))
        finally:
            if conn is None:
                c.close()
        return resp

    def login(self):
        r = self.request("POST", "/v1/auth/login",
                         {"username": "admin", "password": ADMIN_PASSWORD}, auth=False)
        if r.status != 200:
            raise RuntimeError("login failed: %r" % r)
        self.token = r.json["token"]

    def api(self, method, path, body=None, expect=200):
        r = self.request(method, path, body)
        if expect is not None and r.status != expect:
            raise RuntimeError("%s %s -> %r" % (method, path, r))
        return r.json

    def create(self, kind, body):
        return self.api("POST", "/v1/" + kind, body)["uuid"]

    def system(self, kind, name, plugin, endpoint):
        return self.create(kind, {"name": name, "plugin": plugin,
                                  "endpoint": json.dumps(endpoint)})

    def job(self, name, target, store, schedule, retention, paused=True):
        return self.create("jobs", {"name": name, "target": target, "store": store,
                                    "schedule": schedule, "retention": retention,
                                    "paused": paused})

    def wait_task(self, uuid, timeout=3600, poll=0.02):
        deadline = time.monotonic() + timeout
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            while time.monotonic() < deadline:
                t = self.request("GET", "/v1/task/" + uuid, conn=conn).json
                if t and t.get("status") in ("done", "failed", "canceled"):
                    return t
                time.sleep(poll)
        finally:
            conn.close()
        raise RuntimeError("task %s not finished after %ss" % (uuid, timeout))

    def run_job(self, job, timeout=3600):
        """Run a job; returns (seconds from the POST to done, task)."""
        t0 = time.monotonic()
        task_uuid = self.api("POST", "/v1/job/%s/run" % job)["task_uuid"]
        t = self.wait_task(task_uuid, timeout)
        dt = time.monotonic() - t0
        if t["status"] != "done":
            raise RuntimeError("backup %s: %s\n%s" % (t["status"], t.get("error"),
                                                      t.get("log", "")[-3000:]))
        return dt, t

    def restore(self, archive, target=None, timeout=3600):
        t0 = time.monotonic()
        body = {"target": target} if target else {}
        task_uuid = self.api("POST", "/v1/archive/%s/restore" % archive, body)["task_uuid"]
        t = self.wait_task(task_uuid, timeout)
        dt = time.monotonic() - t0
        if t["status"] != "done":
            raise RuntimeError("restore %s: %s\n%s" % (t["status"], t.get("error"),
                                                       t.get("log", "")[-3000:]))
        return dt, t

    def basics(self):
        """A schedule and a retention policy every job can use."""
        s = self.create("schedules", {"name": "nightly", "when": "daily at 3:17am"})
        r = self.create("retention", {"name": "week", "expires": 7 * 86400})
        return s, r


# ------------------------------------------------------------ wrk
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def wrk(url, token=None, threads=2, conns=50, duration=10):
    """Run wrk --latency; returns dict(rps, p50, p90, p99 in ms, requests, errors)."""
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration, "--latency",
            "--timeout", "10s"]
    if token:
        argv += ["-H", "Authorization: Bearer " + token]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
    res = {"errors": 0}
    for pct in ("50", "90", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % pct, out, re.M)
        res["p" + pct] = _ms(m.group(1)) if m else float("nan")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["errors"] += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["errors"] += sum(int(x) for x in m.groups())
    res["raw"] = out
    return res


# ------------------------------------------------------------ output
def table(title, headers, rows, notes=()):
    """A markdown table (with a bold title line and optional notes) as text."""
    lines = ["", "**%s**" % title, "",
             "| " + " | ".join(headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    if notes:
        lines.append("")
        lines += list(notes)
    return "\n".join(lines) + "\n"


def emit(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def median(xs):
    return statistics.median(xs)


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def yes(ok):
    return "yes" if ok else "**no**"


def mib(kib):
    return "%.1f MiB" % (kib / 1024.0)


def mbps(nbytes, seconds):
    return nbytes / 1e6 / seconds if seconds > 0 else float("inf")


def dir_size(path):
    total = files = 0
    for root, _, names in os.walk(path):
        for n in names:
            total += os.lstat(os.path.join(root, n)).st_size
            files += 1
    return total, files


def dataset():
    """The standard ~1 GiB tree, built by make-dataset.py on first use."""
    seed = int(os.environ.get("SHIELD_BENCH_SEED", "20240601"))
    dest = os.environ.get("SHIELD_BENCH_DATASET", "/tmp/shield-bench-dataset-%d" % seed)
    subprocess.run([sys.executable, os.path.join(HERE, "make-dataset.py"), dest, str(seed)],
                   check=True, stdout=sys.stderr)
    return dest


def warm(path):
    """Read a tree once so every contender starts with a warm page cache."""
    # Through a pipe: GNU tar skips reading file data when writing /dev/null.
    subprocess.run("tar -b 256 -cf - . | cat > /dev/null", shell=True, cwd=path, check=True)


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)


def need(*paths):
    """Exit 0 with a 'skipped' line when a binary is missing."""
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        emit("\n%s: not built, skipped (%s)\n" % (os.path.basename(sys.argv[0]),
                                                  ", ".join(missing)))
        sys.exit(0)
