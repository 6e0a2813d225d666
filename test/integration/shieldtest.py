"""Shared helpers for SHIELD's integration tests (Python standard library only).

A test starts the real shieldd from the build tree on a free 127.0.0.1 port
with a temporary catalog, talks HTTP to it, and stops it on exit.  Under the
sanitizer build the daemon's stderr is checked for ASan/UBSan/LSan reports
when it stops, so any memory error or leak fails the test that caused it.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

BUILD = os.environ.get("SHIELD_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
SRC = os.environ.get("SHIELD_SRC", os.path.join(os.path.dirname(__file__), "../.."))
PLUGINS = os.environ.get("SHIELD_PLUGINS", os.path.join(BUILD, "plugins", "bin"))
SHIELDD = os.path.join(BUILD, "core", "shieldd")
SHIELD_CLI = os.path.join(BUILD, "api", "cli", "shield")
ADMIN_PASSWORD = "correct horse battery staple"

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Daemon:
    """A running shieldd on a temp dir.  Use as a context manager."""

    def __init__(self, workers=None, env=None, args=None, plugins=None, tmp=None,
                 password=ADMIN_PASSWORD):
        self.tmp = tmp or tempfile.mkdtemp(prefix="shieldtest.")
        self.own_tmp = tmp is None
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.db = os.path.join(self.tmp, "shield.db")
        self.plugins = plugins or PLUGINS
        self.workers = workers
        self.extra_env = env or {}
        self.extra_args = args or []
        self.password = password
        self.proc = None
        self.token = None
        self.log_path = os.path.join(self.tmp, "shieldd.log")

    def argv(self):
        # SHIELD_VALGRIND=1 runs the daemon under memcheck (make valgrind):
        # any error or definite leak makes it exit 99, which stop() reports.
        vg = []
        if os.environ.get("SHIELD_VALGRIND"):
            vg = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                  "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                  "--trace-children=no"]
        a = vg + [SHIELDD, "--listen", "127.0.0.1:%d" % self.port, "--db", self.db,
             "--plugins", self.plugins, "--log-level", "debug"]
        if self.workers:
            a += ["--workers", str(self.workers)]
        web = os.path.join(SRC, "api", "web")
        if os.path.isdir(web):
            a += ["--web", web]
        return a + self.extra_args

    def start(self, wait=True):
        env = dict(os.environ)
        env["SHIELD_ADMIN_PASSWORD"] = self.password
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.update(self.extra_env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, env=env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=60 if os.environ.get("SHIELD_VALGRIND") else 20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("shieldd exited with %s:\n%s" %
                                     (self.proc.returncode, self.read_log()))
            try:
                r = self.request("GET", "/v1/ping", auth=False)
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("shieldd did not answer within %ss" % timeout)

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, check=True, sig=signal.SIGTERM):
        """Stop the daemon; with check, demand exit 0 and a clean sanitizer log."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("shieldd did not stop within 30s of SIGTERM")
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        log = self.read_log()
        if check:
            for mark in SANITIZER_MARKS:
                assert mark not in log, "sanitizer report in shieldd log:\n" + log[-6000:]
            if sig == signal.SIGTERM:
                assert rc == 0, "shieldd exited %s:\n%s" % (rc, log[-4000:])
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.log.close()

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, et, ev, tb):
        try:
            self.stop(check=et is None)
        finally:
            if et is not None:
                sys.stderr.write("---- shieldd log (tail) ----\n" + self.read_log()[-8000:] + "\n")
            if self.own_tmp and et is None:
                shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    # ---- HTTP ----
    def request(self, method, path, body=None, auth=True, headers=None, raw=None,
                token=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        tok = token if token is not None else self.token
        if auth and tok:
            h.setdefault("Authorization", "Bearer " + tok)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()},
                            r.read().decode("utf-8", "replace"))
        finally:
            conn.close()
        return resp

    def login(self, username="admin", password=None):
        r = self.request("POST", "/v1/auth/login",
                         {"username": username, "password": password or self.password},
                         auth=False)
        assert r.status == 200, r
        self.token = r.json["token"]
        return r

    def api(self, method, path, body=None, expect=200):
        r = self.request(method, path, body)
        if expect is not None:
            assert r.status == expect, "%s %s -> %r (wanted %d)" % (method, path, r, expect)
        return r.json

    # ---- convenience ----
    def create(self, kind, body):
        return self.api("POST", "/v1/" + kind, body)["uuid"]

    def wait_task(self, uuid, timeout=120, states=("done", "failed", "canceled")):
        deadline = time.time() + timeout
        while time.time() < deadline:
            t = self.api("GET", "/v1/task/" + uuid)
            if t["status"] in states:
                return t
            time.sleep(0.1)
        raise AssertionError("task %s not finished after %ss: %r" % (uuid, timeout, t))


def run(tests):
    """Run test functions in order; print a closing 'N passed, N failed' line."""
    passed = failed = 0
    only = sys.argv[1:]
    for fn in tests:
        if only and fn.__name__ not in only:
            continue
        t0 = time.time()
        try:
            fn()
        except Exception:
            failed += 1
            print("FAIL %s (%.1fs)" % (fn.__name__, time.time() - t0))
            traceback.print_exc()
        else:
            passed += 1
            print("ok   %s (%.1fs)" % (fn.__name__, time.time() - t0))
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
