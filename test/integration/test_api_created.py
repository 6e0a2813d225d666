"""The reply to every create in /v1, to the byte: {"ok":"created","uuid":...}
with 200 (an API token's also carries "token", shown once), and the uuid
names the object made."""
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, run  # noqa: E402

D = None
TMP = None
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def created(path, body, token=False):
    """POST body; check the reply's exact text; return the new uuid (and
    the token)."""
    r = D.request("POST", path, body)
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/json"), r.headers
    tail = r',"token":"([0-9a-f]+)"' if token else ""
    m = re.fullmatch(r'\{"ok":"created","uuid":"(%s)"%s\}' % (UUID, tail),
                     r.body)
    assert m, r.body
    return m.groups() if token else m.group(1)


def test_every_create_answers_the_same():
    base = {"plugin": "fs"}
    t = created("/v1/targets", dict(base, name="c-t", endpoint=json.dumps(
        {"base_dir": os.path.join(TMP, "src")})))
    s = created("/v1/stores", dict(base, name="c-s", endpoint=json.dumps(
        {"base_dir": os.path.join(TMP, "store")})))
    sc = created("/v1/schedules", {"name": "c-sc", "when": "daily at 4am"})
    rp = created("/v1/retention", {"name": "c-r", "expires": 86400})
    j = created("/v1/jobs", {"name": "c-j", "target": t, "store": s,
                             "schedule": sc, "retention": rp})
    for path, uuid, name in (("/v1/target/", t, "c-t"),
                             ("/v1/store/", s, "c-s"),
                             ("/v1/schedule/", sc, "c-sc"),
                             ("/v1/retention/", rp, "c-r"),
                             ("/v1/job/", j, "c-j")):
        o = D.api("GET", path + uuid)
        assert o["uuid"] == uuid and o["name"] == name, o


def test_token_create_carries_the_token():
    uuid, token = created("/v1/auth/tokens", {"name": "c-token"}, token=True)
    assert D.request("GET", "/v1/auth/me", token=token).status == 200
    assert uuid in [x["uuid"] for x in D.api("GET", "/v1/auth/tokens")]


def main():
    global D, TMP
    TMP = tempfile.mkdtemp(prefix="shield-created.")
    for d in ("src", "store"):
        os.makedirs(os.path.join(TMP, d))
    D = Daemon().start()
    D.login()
    try:
        run([test_every_create_answers_the_same,
             test_token_create_carries_the_token])
    finally:
        D.stop()
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
