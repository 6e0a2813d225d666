"""The s3 store through the running shieldd, against a real S3 server
(Ceph's RADOS Gateway from test/services/s3.sh): an fs target backed up into
S3 and restored byte-exact, a multi-part archive, a wrong secret refused when
the store is saved, and deleting or expiring an archive removing its object."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import services  # noqa: E402
from shieldtest import PLUGINS, run  # noqa: E402
from test_tasks import Env, make_tree, snapshot  # noqa: E402

S3 = {}


def s3_endpoint(prefix, **over):
    ep = {"access_key_id": S3["S3_ACCESS_KEY"], "secret_access_key": S3["S3_SECRET_KEY"],
          "bucket": S3["S3_BUCKET"], "region": S3["S3_REGION"], "s3_host": S3["S3_HOST"],
          "s3_port": S3["S3_PORT"], "use_ssl": False, "path_style": True,
          "part_size": "5M", "prefix": prefix}
    ep.update(over)
    return ep


def object_exists(ep, key):
    """Ask the s3 plugin itself whether the key can still be retrieved."""
    p = subprocess.run([os.path.join(PLUGINS, "s3"), "retrieve", "--endpoint", json.dumps(ep),
                        "--key", key], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    if p.returncode == 0:
        return True
    assert b"NoSuchKey" in p.stderr or b"404" in p.stderr, p.stderr
    return False


def test_fs_into_s3_round_trip_and_delete():
    e = Env()
    try:
        make_tree(e.path("src"))
        with open(e.path("src", "big.bin"), "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(300):              # 300 MiB: 60 parts of 5 MiB
                f.write(bytes([i % 256]) + block[1:])
        before = snapshot(e.path("src"))
        ep = s3_endpoint("e2e-" + uuid.uuid4().hex[:8])
        store = e.store("s3", plugin="s3", endpoint=ep)
        t = e.backup(e.job(e.target("src"), store))
        assert t["status"] == "done", t
        assert S3["S3_SECRET_KEY"] not in t["log"] and S3["S3_SECRET_KEY"] not in (t["error"] or "")
        a = e.archives()[0]
        assert a["store_key"].startswith(ep["prefix"] + "/") and a["size"] > 300 << 20, a
        assert object_exists(ep, a["store_key"])
        # wreck the source, restore from S3
        for name in os.listdir(e.path("src")):
            p = e.path("src", name)
            if os.path.isfile(p) and not os.path.islink(p):
                os.unlink(p)
        r = e.restore(a["uuid"])
        assert r["status"] == "done", r
        assert snapshot(e.path("src")) == before
        # deleting the archive removes the object
        d = e.d.api("DELETE", "/v1/archive/" + a["uuid"])
        assert e.d.wait_task(d["task_uuid"])["status"] == "done"
        assert e.d.api("GET", "/v1/archive/" + a["uuid"])["status"] == "purged"
        assert not object_exists(ep, a["store_key"])
    finally:
        e.close()


def test_expired_archive_object_is_purged():
    e = Env()
    try:
        make_tree(e.path("src"))
        ep = s3_endpoint("exp-" + uuid.uuid4().hex[:8])
        j = e.job(e.target("src"), e.store("s3", plugin="s3", endpoint=ep))
        assert e.backup(j)["status"] == "done"
        a = e.archives()[0]
        assert object_exists(ep, a["store_key"])
        e.d.stop()
        db = sqlite3.connect(e.d.db)
        db.execute("update archives set expires_at = strftime('%s','now') - 5 where uuid = ?", (a["uuid"],))
        db.commit()
        db.close()
        e.d.start()
        e.d.login()
        deadline = time.time() + 60
        while e.d.api("GET", "/v1/archive/" + a["uuid"])["status"] != "purged" and time.time() < deadline:
            time.sleep(0.3)
        assert e.d.api("GET", "/v1/archive/" + a["uuid"])["status"] == "purged"
        assert not object_exists(ep, a["store_key"])
    finally:
        e.close()


def test_zero_byte_archive():
    e = Env()
    try:
        ep = s3_endpoint("zero-" + uuid.uuid4().hex[:8])
        t = e.target("nothing", plugin="empty", endpoint={})
        task = e.backup(e.job(t, e.store("s3", plugin="s3", endpoint=ep)))
        assert task["status"] == "done", task
        a = e.archives()[0]
        assert a["size"] == 0, a
        assert a["sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        assert object_exists(ep, a["store_key"])
        r = e.restore(a["uuid"])
        assert r["status"] == "done", r
    finally:
        e.close()


def test_numeric_and_boolean_settings():
    # A store saved the way users write JSON: numbers and booleans.
    e = Env()
    try:
        make_tree(e.path("src"))
        before = snapshot(e.path("src"))
        ep = s3_endpoint("num-" + uuid.uuid4().hex[:8], part_size=5242880,
                         use_ssl=False, path_style=True,
                         s3_port=int(S3["S3_PORT"]), skip_ssl_validation=0)
        r = e.d.request("POST", "/v1/stores", {"name": "s3num", "plugin": "s3",
                                               "endpoint": ep})
        assert r.status == 200, r
        store = r.json["uuid"]
        j = e.job(e.target("src"), store)
        t = e.backup(j)
        assert t["status"] == "done", t
        a = e.archives()[0]
        assert object_exists(ep, a["store_key"])
        shutil.rmtree(e.path("src"))
        assert e.restore(a["uuid"])["status"] == "done"
        assert snapshot(e.path("src")) == before
        # An update with numbers is validated the same way.
        r = e.d.request("PUT", "/v1/store/" + store,
                        {"name": "s3num", "summary": "", "plugin": "s3",
                         "endpoint": dict(ep, part_size=1048576)})
        assert r.status == 400 and "part_size must be at least 5M" in r.body, r
    finally:
        e.close()


def test_bad_credentials_and_bucket_refused():
    e = Env()
    try:
        r = e.d.request("POST", "/v1/stores", {"name": "bad", "plugin": "s3",
                                               "endpoint": s3_endpoint("x", secret_access_key="wrong-secret")})
        assert r.status == 400 and "SignatureDoesNotMatch" in r.json["error"], r
        assert "wrong-secret" not in r.body
        r = e.d.request("POST", "/v1/stores", {"name": "nobucket", "plugin": "s3",
                                               "endpoint": s3_endpoint("x", bucket="no-such-bucket-" + uuid.uuid4().hex[:6])})
        assert r.status == 400 and "does not exist" in r.json["error"], r
        assert e.d.api("GET", "/v1/stores") == []
    finally:
        e.close()


if __name__ == "__main__":
    S3.update(services.start("s3"))
    try:
        run([test_fs_into_s3_round_trip_and_delete, test_expired_archive_object_is_purged,
             test_zero_byte_archive, test_numeric_and_boolean_settings,
             test_bad_credentials_and_bucket_refused])
    finally:
        services.stop("s3", S3)
