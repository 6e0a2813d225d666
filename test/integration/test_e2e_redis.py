"""Redis end to end through the running shieldd.

Two throwaway servers with passwords.  Server A is filled with the plugin
test's data set (10,000 keys of every type across two databases, some with
TTLs, binary names and values), backed up by a job run through the API; the
archive's size and sha256 are checked against the stored blob; keys are
deleted, changed, given or stripped of expiry, a database flushed and junk
added; the archive is restored through the API and compared key by key
(type, value, absolute expiry).  The archive is restored into server B,
which held other keys (a migration).  Bad inputs: wrong host, port or
password (and a missing one) fail the backup with one line naming the
problem and no archive; a restore with a wrong password changes nothing; a
server killed while it streams its snapshot fails the task quickly with no
archive and no blob.  Redis has no database name in its endpoint (a backup
is all databases), so there is no wrong-database case.  No password ever
appears in a task log, a debug log or the daemon's log.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import services  # noqa: E402
import test_plugin_redis as tpr  # noqa: E402
from e2e import Env, crash, log_lines, start_services, wait_for  # noqa: E402
from shieldtest import free_port, run  # noqa: E402

os.rmdir(tpr.TMPDIR)  # made on import, not used here
conn, snapshot, compare, digest = tpr.conn, tpr.snapshot, tpr.compare, tpr.digest

A = B = E = None
SNAP0 = None
STATE = {}


def ep(env, **over):
    e = {"redis_host": "127.0.0.1", "redis_port": int(env["PORT"]),
         "redis_password": env["PASSWORD"]}
    e.update(over)
    return {k: v for k, v in e.items() if v is not None}


def setup():
    global A, B, E
    A, B = start_services("redis", "redis")
    E = Env("redis", secrets=[A["PASSWORD"], B["PASSWORD"]])


def teardown():
    try:
        if E is not None:
            E.close(False)
    finally:
        for s in (A, B):
            if s is not None:
                services.stop("redis", s)


def test_validation_through_api():
    body = str(E.target_rejected("redis", {"redis_port": 70000}))
    assert "redis_port" in body, body
    body = str(E.target_rejected("redis", ep(A, redis_host="a b")))
    assert "redis_host" in body, body
    assert A["PASSWORD"] not in body


def test_backup_change_restore():
    global SNAP0
    tpr.populate(A)
    SNAP0 = snapshot(A)
    assert tpr.count_keys(SNAP0) == tpr.NKEYS and sorted(SNAP0) == [0, 1]
    ttls = sum(1 for d in SNAP0.values() for v in d.values() if v[2] > 0)
    assert ttls >= 900, ttls
    t = E.target("redis", ep(A), name="redis-a")
    a, path, task = E.backup_ok(t)
    with open(path, "rb") as f:
        assert f.read(5) == b"REDIS", "not an RDB snapshot"
    STATE.update(target=t, archive=a["uuid"])
    # Delete, change, re-expire and add keys; empty database 1.
    keys0 = sorted(SNAP0[0])
    c0, c1, c7 = conn(A, 0), conn(A, 1), conn(A, 7)
    try:
        c0.pipeline([("DEL", k) for k in keys0[::20]])
        c0.pipeline([("DEL", k) for k in keys0[1::20]] +
                    [("SET", k, "changed") for k in keys0[1::20]])
        c0.pipeline([("PERSIST", k) for k in keys0 if SNAP0[0][k][2] > 0][:50])
        c0.pipeline([("EXPIRE", k, 5) for k in keys0 if SNAP0[0][k][2] < 0][2::40])
        c0.pipeline([("SET", "extra:%d" % i, i) for i in range(300)])
        c1.call("FLUSHDB")
        c7.pipeline([("RPUSH", "extra:list:%d" % i, i) for i in range(100)])
    finally:
        for c in (c0, c1, c7):
            c.close()
    changed = snapshot(A)
    assert changed != SNAP0 and 7 in changed and 1 not in changed
    r = E.restore_ok(a["uuid"])
    assert r["target_uuid"] == t, r
    assert "redis: restored %d keys" % tpr.NKEYS in " ".join(log_lines(r["log"], "redis")), \
        r["log"]
    compare(SNAP0, snapshot(A))


def test_migration_to_second_server():
    tb = E.target("redis", ep(B), name="redis-b")
    STATE["target_b"] = tb
    c = conn(B, 3)
    c.pipeline([("SET", "junk:%d" % i, i) for i in range(50)])
    c.close()
    r = E.restore_ok(STATE["archive"], tb)
    assert r["target_uuid"] == tb, r
    compare(SNAP0, snapshot(B))
    assert [x["uuid"] for x in E.archives(STATE["target"])] == [STATE["archive"]]


def test_wrong_port():
    port = free_port()
    t = E.target("redis", ep(A, redis_port=port))
    E.backup_fails(t, "redis", "redis: cannot connect to 127.0.0.1 port %d: "
                   "Connection refused" % port)


def test_wrong_host():
    t = E.target("redis", ep(A, redis_host="no-such-host.invalid"))
    E.backup_fails(t, "redis", "redis: cannot resolve no-such-host.invalid", exact=False)


def test_wrong_password():
    E.add_secret("not-the-password-42")
    t = E.target("redis", ep(A, redis_password="not-the-password-42"))
    E.backup_fails(t, "redis", "authentication failed", exact=False)
    t = E.target("redis", ep(A, redis_password=None))
    E.backup_fails(t, "redis", "redis: the server wants a password (redis_password)",
                   exact=False)


def test_restore_with_bad_credentials_changes_nothing():
    before = digest(A)
    bad = E.target("redis", ep(A, redis_password="not-the-password-42"))
    r = E.restore(STATE["archive"], bad)
    E.failed_clearly(r, "redis", "authentication failed", exact=False)
    port = free_port()
    r = E.restore(STATE["archive"], E.target("redis", ep(A, redis_port=port)))
    E.failed_clearly(r, "redis", "cannot connect", exact=False)
    assert digest(A) == before


def test_server_killed_mid_backup():
    # A per-key delay in the server's snapshot writer makes the transfer of
    # B's 10,000 keys take ~20 s; the server dies while it streams.
    c = conn(B)
    c.call("CONFIG", "SET", "rdb-key-save-delay", "2000")
    c.close()
    blobs = E.blobs()
    tid = E.start_backup(E.job(STATE["target_b"]))

    def syncing():
        c = conn(B)
        try:
            info = c.call("INFO", "persistence").decode()
        finally:
            c.close()
        return "rdb_bgsave_in_progress:1" in info
    wait_for("the snapshot transfer", syncing, timeout=20)
    time.sleep(1)
    assert E.task(tid)["status"] == "running"
    t0 = time.time()
    crash(int(B["PID"]))
    t = E.wait(tid, timeout=60)
    took = time.time() - t0
    assert took < 30, "the failure took %.1fs" % took
    E.failed_clearly(t, "redis", "I/O Error reading RDB payload", exact=False)
    assert "redis: redis-cli --rdb failed" in t["log"], t["log"]
    assert E.archives(STATE["target_b"]) == []
    assert E.blobs() == blobs, "a failed backup must leave no blob"


def test_daemon_stops_clean():
    """SIGTERM: exit 0, no sanitizer report, no password in the daemon log."""
    global E
    env, E = E, None
    env.close(True)


if __name__ == "__main__":
    try:
        setup()
        run([test_validation_through_api, test_backup_change_restore,
             test_migration_to_second_server, test_wrong_port, test_wrong_host,
             test_wrong_password, test_restore_with_bad_credentials_changes_nothing,
             test_server_killed_mid_backup, test_daemon_stops_clean])
    finally:
        teardown()
