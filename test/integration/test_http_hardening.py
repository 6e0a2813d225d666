"""shieldd's HTTP layer under hostile or broken clients, from outside.

Protocol cases over raw sockets: a %00 in the path, HEAD wherever GET is
served, two Content-Length headers, Host names (DNS rebinding).  Browser
rules: a cookie-authenticated change needs the daemon's own Origin and a
JSON body (CSRF from another port of the same host).  The web root: no
symlink leads out of it.  Connections: idle and stalled clients are closed
after --http-timeout, slow writers do not slow the API, clients that stop
reading a big reply do not grow memory without bound, --max-connections
makes the next client wait, and running out of file descriptors pauses
accepting instead of spinning.  Every test starts its own shieldd on
127.0.0.1 and checks its log for sanitizer reports when it stops.
"""
import http.client
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import SRC, Daemon, run  # noqa: E402


def raw(port, data, timeout=5):
    """Send bytes, read until the server closes (or timeout): the bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out + b"<timeout>"
            if not chunk:
                return out
            out += chunk
    finally:
        s.close()


def parse(resp):
    """(status, headers, body) of the first reply in resp."""
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def get(port, path, headers=b"", extra=b"Connection: close\r\n"):
    return raw(port, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
               headers + extra + b"\r\n")


def bearer(d):
    return b"Authorization: Bearer " + d.token.encode() + b"\r\n"


def json_error(body):
    return json.loads(body.decode())["error"]


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])     # kB
    raise AssertionError("no %s for %d" % (key, pid))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ping_ms(d):
    t0 = time.time()
    r = d.request("GET", "/v1/ping", auth=False, timeout=10)
    assert r.status == 200, r
    return (time.time() - t0) * 1000


def test_nul_in_path_is_refused():
    with Daemon() as d:
        d.login()
        status, _, body = parse(get(d.port, b"/v1/jobs%00zzz", bearer(d)))
        assert status == 400 and "malformed path" in json_error(body), body
        status, _, body = parse(get(d.port, b"/v1/ping%00"))
        assert status == 400, body
        status, _, body = parse(get(d.port, b"/v1/jobs?paused=t%00x", bearer(d)))
        assert status == 400 and "malformed query" in json_error(body), body
        assert parse(get(d.port, b"/v1/jobs", bearer(d)))[0] == 200


def test_head_wherever_get():
    with Daemon() as d:
        d.login()
        status, h, body = parse(raw(d.port, b"HEAD /v1/ping HTTP/1.1\r\n"
                                    b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n"))
        assert status == 200 and h["content-length"] == "13" and body == b"", (h, body)
        # No body on the wire: the next pipelined request reads cleanly.
        resp = raw(d.port, b"HEAD /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                   b"GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"Connection: close\r\n\r\n")
        first, _, rest = resp.partition(b"\r\n\r\n")
        assert rest.startswith(b"HTTP/1.1 200") and rest.endswith(b'{"ok":"pong"}'), resp
        size = os.path.getsize(os.path.join(SRC, "api", "web", "index.html"))
        status, h, body = parse(raw(d.port, b"HEAD /index.html HTTP/1.1\r\n"
                                    b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n"))
        assert status == 200 and int(h["content-length"]) == size and body == b"", h
        assert h["content-type"].startswith("text/html") and "content-security-policy" in h
        full = parse(get(d.port, b"/v1/jobs", bearer(d)))[2]
        status, h, body = parse(raw(d.port, b"HEAD /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                    bearer(d) + b"Connection: close\r\n\r\n"))
        assert status == 200 and int(h["content-length"]) == len(full) and body == b""
        status, _, body = parse(raw(d.port, b"HEAD /v1/auth/login HTTP/1.1\r\n"
                                    b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n"))
        assert status == 405 and body == b""


def test_duplicate_content_length_is_refused():
    with Daemon() as d:
        body = json.dumps({"username": "admin", "password": d.password}).encode()

        def login(lengths, more=b""):
            req = b"POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n" \
                  b"Content-Type: application/json\r\n" + more
            for n in lengths:
                req += b"Content-Length: %d\r\n" % n
            # No "Connection: close": the server must close by itself.
            return raw(d.port, req + b"\r\n" + body, timeout=5)

        ok = login([len(body)], b"Connection: close\r\n")
        assert parse(ok)[0] == 200, ok
        for lengths in ([len(body), len(body)], [2, len(body)], [len(body), 2]):
            resp = login(lengths)
            status, h, rbody = parse(resp)
            assert status == 400 and "more than one Content-Length" in json_error(rbody), resp
            assert not resp.endswith(b"<timeout>") and h.get("connection") == "close", resp
        # A length beside a transfer coding: libevent refuses that itself.
        for coding in (b"chunked", b"identity"):
            resp = login([len(body)], b"Transfer-Encoding: " + coding + b"\r\n")
            assert parse(resp)[0] == 400 and not resp.endswith(b"<timeout>"), resp


def test_host_header_names_this_daemon():
    with Daemon(args=["--hostnames", "backup.example.test, other.test"]) as d:
        for host in (b"127.0.0.1", b"127.0.0.1:%d" % d.port, b"localhost:%d" % d.port,
                     b"[::1]:%d" % d.port, b"BACKUP.example.test:8443", b"other.test"):
            resp = raw(d.port, b"GET /v1/ping HTTP/1.1\r\nHost: " + host +
                       b"\r\nConnection: close\r\n\r\n")
            assert parse(resp)[0] == 200, (host, resp)
        for host in (b"evil.example", b"evil.example:%d" % d.port,
                     b"backup.example.test.evil.example", b"127.0.0.1:x"):
            for path in (b"/v1/ping", b"/", b"/v1/jobs"):
                resp = raw(d.port, b"GET " + path + b" HTTP/1.1\r\nHost: " + host +
                           b"\r\nConnection: close\r\n\r\n")
                status, h, body = parse(resp)
                assert status == 421 and h["content-type"] == "application/json", resp
                assert "does not answer to the host name" in json_error(body), body
        # HTTP/1.0 without Host is answered.
        assert parse(raw(d.port, b"GET /v1/ping HTTP/1.0\r\n\r\n"))[0] == 200


def test_cookie_changes_need_own_origin_and_json():
    with Daemon() as d:
        d.login()
        r = d.request("POST", "/v1/auth/login", {"username": "admin", "password": d.password},
                      auth=False)
        cookie = r.headers["set-cookie"].split(";")[0]
        body = json.dumps({"name": "csrf", "when": "daily at 4am"})
        other = "http://127.0.0.1:%d" % (d.port + 1)

        def post(headers):
            h = {"Cookie": cookie}
            h.update(headers)
            return d.request("POST", "/v1/schedules", auth=False, raw=body.encode(), headers=h)

        # The form from the issue: text/plain, from a page on another port.
        r = post({"Content-Type": "text/plain", "Origin": other})
        assert r.status == 403 and "not this daemon's origin" in r.json["error"], r
        r = post({"Content-Type": "application/json", "Origin": other})
        assert r.status == 403, r
        r = post({"Content-Type": "application/json", "Referer": other + "/x.html"})
        assert r.status == 403, r
        r = post({"Content-Type": "application/json"})
        assert r.status == 403 and "Origin or Referer" in r.json["error"], r
        r = post({"Content-Type": "text/plain", "Origin": d.url})
        assert r.status == 415 and "application/json" in r.json["error"], r
        r = post({"Origin": d.url})
        assert r.status == 415, r
        assert d.api("GET", "/v1/schedules") == [], "a refused request created something"
        r = post({"Content-Type": "application/json; charset=utf-8", "Origin": d.url})
        assert r.status == 200, r
        uuid = r.json["uuid"]
        r = d.request("DELETE", "/v1/schedule/" + uuid, auth=False,
                      headers={"Cookie": cookie, "Origin": other})
        assert r.status == 403, r
        # Reads are not changes.
        r = d.request("GET", "/v1/schedule/" + uuid, auth=False,
                      headers={"Cookie": cookie, "Origin": other})
        assert r.status == 200, r
        # A bearer token (CLI, scripts) is not subject to either rule.
        r = d.request("POST", "/v1/schedules", raw=json.dumps({"name": "curl", "when": "daily at 4am"}).encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded",
                               "Origin": other})
        assert r.status == 200, r
        # A login posted by another site's page is refused; the CLI's is not.
        r = d.request("POST", "/v1/auth/login", auth=False,
                      raw=json.dumps({"username": "admin", "password": d.password}).encode(),
                      headers={"Content-Type": "text/plain", "Origin": other})
        assert r.status == 403, r


def test_web_root_symlinks_do_not_lead_out():
    web = tempfile.mkdtemp(prefix="shield-web.")
    try:
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<p>index</p>")
        os.mkdir(os.path.join(web, "sub"))
        with open(os.path.join(web, "sub", "page.txt"), "w") as f:
            f.write("inside")
        os.symlink("/etc", os.path.join(web, "etcdir"))
        os.symlink("/etc/passwd", os.path.join(web, "passwd"))
        os.symlink("sub", os.path.join(web, "sublink"))
        with Daemon(args=["--web", web]) as d:
            for path in (b"/etcdir/passwd", b"/etcdir/hostname", b"/passwd",
                         b"/sublink/page.txt", b"/etcdir/", b"/sub"):
                resp = get(d.port, path)
                status, _, body = parse(resp)
                assert status == 404 and b"root:" not in resp, (path, resp)
                assert "no such page" in json_error(body), body
                resp = raw(d.port, b"HEAD " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Connection: close\r\n\r\n")
                assert parse(resp)[0] == 404 and parse(resp)[2] == b"", resp
            assert parse(get(d.port, b"/sub/page.txt"))[2] == b"inside"
            assert parse(get(d.port, b"/sub//page.txt"))[2] == b"inside"
            assert parse(get(d.port, b"/"))[2] == b"<p>index</p>"
    finally:
        shutil.rmtree(web, ignore_errors=True)


def test_idle_and_stalled_clients_closed_after_http_timeout():
    with Daemon(args=["--http-timeout", "2"]) as d:
        socks = []
        for data in (b"", b"GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                     b"GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
            s.sendall(data)
            socks.append(s)
        t0 = time.time()
        for s in socks:
            got = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            s.close()
        took = time.time() - t0
        assert 1.5 <= took <= 6, "idle connections closed after %.1f s" % took
        # The third was answered first, then closed once idle.
        assert got.startswith(b"HTTP/1.1 200") and b"pong" in got, got


def test_slow_writers_leave_ping_fast():
    """100 clients sending their headers a byte at a time, for 5 s."""
    with Daemon() as d:
        socks = []
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
            s.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            socks.append(s)
        times = []
        deadline = time.time() + 5
        while time.time() < deadline:
            for s in socks:
                s.sendall(b"x")
            times.append(ping_ms(d))
            time.sleep(0.1)
        for s in socks:
            s.close()
        med, worst = statistics.median(times), max(times)
        print("ping with 100 slow writers: median %.1f ms, max %.1f ms over %d" %
              (med, worst, len(times)))
        assert med < 20 and worst < 250, times


def test_max_connections_makes_the_next_client_wait():
    with Daemon(args=["--max-connections", "8"]) as d:
        idle = [socket.create_connection(("127.0.0.1", d.port), timeout=10)
                for _ in range(8)]
        time.sleep(0.5)
        ninth = socket.create_connection(("127.0.0.1", d.port), timeout=1.5)
        ninth.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        try:
            early = ninth.recv(4096)
        except socket.timeout:
            early = None
        assert early is None, "the 9th connection was served at once: %r" % early
        idle.pop().close()
        ninth.settimeout(5)
        got = b""
        while True:
            chunk = ninth.recv(4096)
            if not chunk:
                break
            got += chunk
        ninth.close()
        assert got.startswith(b"HTTP/1.1 200") and b"pong" in got, got
        for s in idle:
            s.close()
        time.sleep(0.3)
        # All nine slots free again: nine at once are served.
        many = [socket.create_connection(("127.0.0.1", d.port), timeout=5) for _ in range(8)]
        for s in many:
            s.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
        for s in many:
            s.close()


class LimitedDaemon(Daemon):
    """A shieldd started with both file-descriptor limits at nofile."""

    def __init__(self, nofile, **kw):
        super().__init__(**kw)
        self.nofile = nofile

    def argv(self):
        return ["prlimit", "--nofile=%d:%d" % (self.nofile, self.nofile), "--"] + \
            super().argv()


def test_out_of_file_descriptors_pauses_accept():
    """64 descriptors, 120 idle clients: no busy loop, no log flood, and
    ping is answered once the idle ones time out."""
    with LimitedDaemon(64, args=["--max-connections", "200", "--http-timeout", "2"]) as d:
        cpu0, t0 = cpu_seconds(d.proc.pid), time.time()
        idle = [socket.create_connection(("127.0.0.1", d.port), timeout=10)
                for _ in range(120)]
        s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
        s.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        wall, cpu = time.time() - t0, cpu_seconds(d.proc.pid) - cpu0
        print("out of descriptors: ping after %.1f s, %.2f s of CPU" % (wall, cpu))
        assert got.startswith(b"HTTP/1.1 200") and b"pong" in got, got
        assert cpu < 0.25 * wall + 0.5, "%.2f s of CPU in %.1f s" % (cpu, wall)
        for c in idle:
            c.close()
        time.sleep(0.5)
        assert ping_ms(d) < 1000
        flood = d.read_log().count("Too many open files")
        assert 1 <= flood <= 3, "%d 'Too many open files' lines" % flood


def test_slow_readers_do_not_grow_memory():
    """16 clients ask for a 10 MB list and stop reading: memory stays
    bounded (the bodies waiting for them are budgeted: the rest get 503),
    and after --http-timeout they are dropped."""
    # A small ASan quarantine, so freed memory is not counted as held.
    env = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:quarantine_size_mb=16"}
    with Daemon(args=["--http-timeout", "3"], env=env) as d:
        d.login()
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
        for i in range(2400):
            conn.request("POST", "/v1/schedules",
                         json.dumps({"name": "s%04d" % i, "when": "daily at 4am",
                                     "summary": "y" * 4000}),
                         {"Authorization": "Bearer " + d.token,
                          "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
        conn.request("GET", "/v1/schedules", headers={"Authorization": "Bearer " + d.token})
        r = conn.getresponse()
        full = r.read()
        conn.close()
        assert r.status == 200 and len(json.loads(full)) == 2400
        assert len(full) > 9_000_000, len(full)
        hwm0 = proc_status(d.proc.pid, "VmHWM")
        slow = []
        for _ in range(16):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(10)
            s.connect(("127.0.0.1", d.port))
            s.sendall(b"GET /v1/schedules HTTP/1.1\r\nHost: 127.0.0.1\r\n" + bearer(d) + b"\r\n")
            slow.append(s)
        # Each reply is built (CPU on the loop) before it is sent or refused.
        statuses = []
        for s in slow:
            head = b""
            while b"\r\n\r\n" not in head:
                c = s.recv(1)
                if not c:
                    break       # dropped before a reply: a slow loop, not a hang
                head += c
            statuses.append(parse(head)[0] if b"\r\n\r\n" in head else None)
        assert ping_ms(d) < 1000
        grown = (proc_status(d.proc.pid, "VmHWM") - hwm0) / 1024
        print("16 slow readers of %d bytes: peak RSS grew %.0f MB, replies %s" %
              (len(full), grown, statuses))
        assert 200 in statuses and 503 in statuses, statuses
        assert grown < 100, "peak RSS grew %.0f MB" % grown
        # Stalled past --http-timeout: dropped before the end of the body.
        time.sleep(4)
        for s, status in zip(slow, statuses):
            got = 0
            while True:
                try:
                    chunk = s.recv(1 << 20)
                except (ConnectionResetError, socket.timeout):
                    break
                if not chunk:
                    break
                got += len(chunk)
            s.close()
            if status == 200:
                assert got < len(full), "a stalled reader got the whole reply"
        # The budget is free again: a reader that reads gets all of it.
        r = d.request("GET", "/v1/schedules")
        assert r.status == 200 and len(json.loads(r.body)) == 2400
        r = d.request("HEAD", "/v1/schedules")
        assert r.status == 200 and int(r.headers["content-length"]) == len(full)


if __name__ == "__main__":
    run([v for k, v in list(globals().items()) if k.startswith("test_") and callable(v)])
