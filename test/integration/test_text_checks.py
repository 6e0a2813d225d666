"""Integration test of the text checks and escapes (log forging, raw bytes).

Against the real shieldd and shield CLI: names, summaries, archive notes,
token names, task owners and usernames with a newline, an escape sequence,
DEL, a C1 character (raw or as \\u0085) or invalid UTF-8 (b"\\xff" sent raw
in the JSON body) are refused with 400 and an error naming the field, and
change nothing; invalid UTF-8 anywhere else in a body (an endpoint) is
refused too; every GET list stays valid UTF-8 JSON; ordinary Unicode still
works; the daemon's log holds no raw control bytes.  Then values stored
before these checks existed (written into the SQLite catalog while the
daemon is stopped) are served as valid UTF-8 and printed escaped by
`shield list` and `shield show`.
"""
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import (Daemon, run, SHIELD_CLI,  # noqa: E402
                        SANITIZER_MARKS)

BAD = [
    ("newline", "two\nlines"),
    ("escape", "red \x1b[31malert\x1b[0m"),
    ("bell", "ding\x07"),
    ("carriage return", "over\rwrite"),
    ("tab", "a\tb"),
    ("DEL", "del\x7f"),
    ("C1 NEL", "next\u0085line"),
    ("C1 CSI", "csi\u009b31m"),
]
LISTS = ["/v1/schedules", "/v1/retention", "/v1/targets", "/v1/stores",
         "/v1/jobs", "/v1/archives", "/v1/tasks", "/v1/auth/tokens"]


def raw_json(d, method, path, fields, token=True):
    """Send a JSON object whose string values are raw bytes (not escaped)."""
    parts = []
    for k, v in fields.items():
        if isinstance(v, bytes):
            parts.append(b'"%s":"%s"' % (k.encode(), v))
        else:
            parts.append(b'"%s":%s' % (k.encode(), json.dumps(v).encode()))
    return d.request(method, path, raw=b"{" + b",".join(parts) + b"}",
                     headers={"Content-Type": "application/json"},
                     auth=token)


def err400(r, field):
    assert r.status == 400, r
    assert isinstance(r.json, dict) and field in r.json["error"], r
    return r.json["error"]


def lists_are_utf8_json(d):
    """Every list answers 200 with strictly valid UTF-8 JSON (the helper's
    request() decodes with "replace", so read the raw bytes here)."""
    for path in LISTS:
        c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
        c.request("GET", path, headers={"Authorization": "Bearer " + d.token})
        r = c.getresponse()
        body = r.read()
        c.close()
        assert r.status == 200, (path, r.status, body[:200])
        json.loads(body.decode("utf-8"))     # strict: raises if invalid


def log_is_clean(d):
    with open(d.log_path, "rb") as f:
        log = f.read()
    text = log.decode("utf-8")               # strict
    for ch in text:
        o = ord(ch)
        assert ch == "\n" or not (o < 0x20 or 0x7f <= o <= 0x9f), \
            "raw control character %r in the daemon log" % ch
    return text


def test_api_refuses_control_and_invalid_utf8():
    tmp = tempfile.mkdtemp(prefix="shield-text.")
    os.makedirs(os.path.join(tmp, "src"))
    os.makedirs(os.path.join(tmp, "store"))
    with open(os.path.join(tmp, "src", "f"), "w") as f:
        f.write("data")
    fs_ep = lambda p: {"base_dir": os.path.join(tmp, p)}  # noqa: E731
    with Daemon() as d:
        d.login()
        t = d.create("targets", {"name": "t", "plugin": "fs",
                                 "endpoint": fs_ep("src")})
        s = d.create("stores", {"name": "s", "plugin": "fs",
                                "endpoint": fs_ep("store")})
        sc = d.create("schedules", {"name": "sc", "when": "daily at 4am"})
        rp = d.create("retention", {"name": "rp", "expires": 86400})
        j = d.create("jobs", {"name": "j", "target": t, "store": s,
                              "schedule": sc, "retention": rp,
                              "paused": True})
        task = d.wait_task(d.api("POST", "/v1/job/%s/run" % j)["task_uuid"])
        assert task["status"] == "done", task
        arc = task["archive_uuid"]
        before = {p: d.api("GET", p) for p in LISTS}

        creates = {
            "/v1/schedules": {"name": "x", "summary": "", "when": "daily at 4am"},
            "/v1/retention": {"name": "x", "summary": "", "expires": 86400},
            "/v1/targets": {"name": "x", "summary": "", "plugin": "fs",
                            "endpoint": fs_ep("src")},
            "/v1/stores": {"name": "x", "summary": "", "plugin": "fs",
                           "endpoint": fs_ep("store")},
            "/v1/jobs": {"name": "x", "summary": "", "target": t, "store": s,
                         "schedule": sc, "retention": rp, "paused": True},
        }
        updates = {"/v1/schedule/" + sc: "/v1/schedules",
                   "/v1/retention/" + rp: "/v1/retention",
                   "/v1/target/" + t: "/v1/targets",
                   "/v1/store/" + s: "/v1/stores",
                   "/v1/job/" + j: "/v1/jobs"}
        for what, bad in BAD:
            for path, body in creates.items():
                for field in ("name", "summary"):
                    b = dict(body, **{field: bad})
                    err400(d.request("POST", path, b), field)
            for path, lst in updates.items():
                for field in ("name", "summary"):
                    b = dict(creates[lst], **{field: bad})
                    err400(d.request("PUT", path, b), field)
            err400(d.request("PUT", "/v1/archive/" + arc, {"notes": bad}),
                   "notes")
            err400(d.request("POST", "/v1/auth/tokens", {"name": bad}),
                   "name")
            err400(d.request("POST", "/v1/job/%s/run" % j, {"owner": bad}),
                   "owner")
            err400(d.request("POST", "/v1/auth/login",
                             {"username": "admin" + bad,
                              "password": "whatever"}, auth=False),
                   "username")

        # The same characters as JSON escapes are the same characters.
        err400(d.request("POST", "/v1/schedules", raw=b'{"name":"a\\u001bb",'
                         b'"when":"daily at 4am"}'), "name")
        err400(d.request("POST", "/v1/schedules", raw=b'{"name":"a\\u0085b",'
                         b'"when":"daily at 4am"}'), "name")

        # Invalid UTF-8 sent raw: a lone 0xff, a truncated sequence, an
        # overlong slash, a UTF-16 surrogate written as UTF-8.
        for junk in (b"\xff", b"ab\xc3", b"\xc0\xaf", b"\xed\xa0\x80"):
            e = err400(raw_json(d, "POST", "/v1/schedules",
                                {"name": b"n" + junk, "when": "daily at 4am"}),
                       "name")
            assert "UTF-8" in e, e
            err400(raw_json(d, "POST", "/v1/schedules",
                            {"name": "ok", "summary": b"s" + junk,
                             "when": "daily at 4am"}), "summary")
            err400(raw_json(d, "PUT", "/v1/archive/" + arc,
                            {"notes": b"n" + junk}), "notes")
            err400(raw_json(d, "POST", "/v1/auth/login",
                            {"username": b"admin" + junk, "password": "x"},
                            token=False), "username")
            # Anywhere in the body: inside an endpoint, too.
            e = err400(d.request("POST", "/v1/targets", raw=b'{"name":"e",'
                                 b'"plugin":"fs","endpoint":{"base_dir":"/t'
                                 + junk + b'"}}'), "endpoint")
            assert "UTF-8" in e, e

        # Nothing was changed by any of it.
        after = {p: d.api("GET", p) for p in before}
        assert after == before, "a refused request changed something"
        lists_are_utf8_json(d)

        # Ordinary Unicode is text, not a control character.
        u = d.create("schedules", {"name": "nuit \u00e9t\u00e9 \u2713 \U0001f4be",
                                   "summary": "no\u00a0break space",
                                   "when": "daily at 4am"})
        got = d.api("GET", "/v1/schedule/" + u)
        assert got["name"] == "nuit \u00e9t\u00e9 \u2713 \U0001f4be", got
        assert d.api("PUT", "/v1/archive/" + arc,
                     {"notes": "v\u00e9rifi\u00e9"}) == {"ok": "updated"}
        lists_are_utf8_json(d)
        d.stop()
        log_is_clean(d)


def cli(d, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIELD_")}
    env.update(HOME=d.tmp, SHIELD_URL=d.url, SHIELD_TOKEN=d.token,
               NO_COLOR="1")
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    p = subprocess.run([SHIELD_CLI] + list(args), env=env,
                       capture_output=True, timeout=60)
    err = p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in err, err
    assert p.returncode == 0, (args, p.returncode, p.stdout, err)
    return p.stdout


def no_raw_controls(out, allow="\n"):
    text = out.decode("utf-8")               # strict
    for ch in text:
        o = ord(ch)
        assert ch in allow or not (o < 0x20 or 0x7f <= o <= 0x9f), \
            "raw control character %r in CLI output:\n%r" % (ch, text)
    return text


def test_cli_escapes_old_catalog_values():
    """A name stored before validation existed is served as valid UTF-8 and
    printed escaped by the CLI."""
    d = Daemon()
    try:
        d.start()
        d.login()
        u = d.create("schedules", {"name": "placeholder", "summary": "s",
                                   "when": "daily at 4am"})
        d.stop()
        evil = (b"evil\x1b[2J\x1b]0;pwned\x07 bell\x07 cr\rnl\nnel\xc2\x85"
                b"csi\xc2\x9b del\x7f ff\xff end")
        db = sqlite3.connect(d.db)
        db.execute("UPDATE schedules SET name = CAST(? AS TEXT), "
                   "summary = CAST(? AS TEXT) WHERE uuid = ?",
                   (evil, b"sum\x1b[31m\xff", u))
        db.commit()
        db.close()
        d.start()
        lists_are_utf8_json(d)
        got = d.api("GET", "/v1/schedule/" + u)
        assert got["name"].startswith("evil\x1b[2J"), got
        assert got["name"].endswith("ff\ufffd end"), got

        want = ("evil\\x1b[2J\\x1b]0;pwned\\x07 bell\\x07 cr\\rnl\\nnel"
                "\\u0085csi\\u009b del\\x7f ff\ufffd end")
        table = no_raw_controls(cli(d, "list", "schedules"))
        assert want in table, table
        show = no_raw_controls(cli(d, "show", "schedule", u))
        assert want in show, show
        assert "sum\\x1b[31m\ufffd" in show, show
        # --json stays the same JSON, with DEL and C1 as \\u escapes.
        out = cli(d, "--json", "show", "schedule", u)
        no_raw_controls(out, allow="\n\t")     # cJSON indents with tabs
        assert json.loads(out)["name"] == got["name"]
        assert re.search(rb"\\u0085", out) and re.search(rb"\\u007f", out)
    finally:
        d.stop()


if __name__ == "__main__":
    run([test_api_refuses_control_and_invalid_utf8,
         test_cli_escapes_old_catalog_values])
