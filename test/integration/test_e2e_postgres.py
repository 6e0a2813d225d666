"""PostgreSQL end to end through the running shieldd.

Two throwaway servers.  Server A's database (the plugin test's data set:
100,000 rows, unicode, bytea, a view, a function, an index, an object owned
by another role) is backed up by a job run through the API; the archive's
size and sha256 are checked against the stored blob; the database is
damaged, restored through the API and compared with server-computed
checksums and object lists.  The archive is then restored into server B
(a migration), first without the role it needs (a clean failure that
leaves no database behind), then with it.  Bad inputs: wrong host, port,
password or database fail the backup with one line naming the problem and
no archive; a restore with a wrong password changes nothing; a server
killed mid-backup fails the task quickly, with no archive and no blob.
No password ever appears in a task log, a debug log or the daemon's log.
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import services  # noqa: E402
import test_plugin_postgres as tpp  # noqa: E402
from e2e import Env, crash, log_lines, start_services, wait_for  # noqa: E402
from shieldtest import free_port, run  # noqa: E402

os.rmdir(tpp.TMP)  # made on import, not used here
PG = tpp.PG
APP_PASSWORD = "app-secret-pw"

A = B = E = None
ORIGINAL = {}
STATE = {}


def ep(server, db="shop", **kw):
    return server.endpoint(db, **kw)


def setup():
    global A, B, E
    ea, eb = start_services("postgres", "postgres")
    A, B = PG(ea), PG(eb)
    A.psql("CREATE ROLE app LOGIN PASSWORD '%s'" % APP_PASSWORD)
    A.psql("CREATE DATABASE shop")
    A.psql(tpp.LOAD, "shop")
    ORIGINAL.update(A.snapshot("shop"))
    assert ORIGINAL["items"].startswith("100000:"), ORIGINAL["items"]
    E = Env("postgres", secrets=[A.password, B.password, APP_PASSWORD])


def test_daemon_stops_clean():
    """SIGTERM: exit 0, no sanitizer report, no password in the daemon log."""
    global E
    env, E = E, None
    env.close(True)


def teardown():
    try:
        if E is not None:
            E.close(False)
    finally:
        for s in (A, B):
            if s is not None:
                services.stop("postgres", s.env)


def test_validation_through_api():
    body = E.target_rejected("postgres", {"pg_port": 70000})
    text = str(body)
    assert "pg_host is required" in text and "pg_port must be a port" in text, body
    body = E.target_rejected("postgres", ep(A, pg_bindir="/nonexistent/bin"))
    assert "pg_bindir /nonexistent/bin is not a directory" in str(body), body
    assert A.password not in str(body)


def test_backup_damage_restore():
    t = E.target("postgres", ep(A), name="pg-a-shop")
    a, path, task = E.backup_ok(t)
    with open(path, "rb") as f:
        assert f.read(5) == b"PGDMP", "not a pg_dump custom-format archive"
    STATE.update(target=t, archive=a["uuid"])
    A.psql("DELETE FROM orders; DELETE FROM items WHERE id % 3 = 0; "
           "UPDATE blobs SET data = NULL; DROP VIEW cheap; "
           "DROP FUNCTION item_total(int); DROP TABLE app_notes; "
           "DROP INDEX items_name_idx; "
           "INSERT INTO orders(item_id, qty) VALUES (1, 99);", "shop")
    assert A.snapshot("shop") != ORIGINAL
    r = E.restore_ok(a["uuid"])
    assert r["target_uuid"] == t, r
    assert any("restored database shop" in l for l in r["log"].splitlines()), r["log"]
    assert A.snapshot("shop") == ORIGINAL
    assert A.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'app_notes'",
                  "shop") == "app"
    # A dropped database comes back too.
    A.psql("DROP DATABASE shop")
    E.restore_ok(a["uuid"])
    assert A.snapshot("shop") == ORIGINAL


def test_migration_to_second_server():
    tb = E.target("postgres", ep(B), name="pg-b-shop")
    STATE["target_b"] = tb
    # A one-database archive does not carry roles: restoring it where the
    # owner role is missing fails cleanly and leaves no database behind.
    r = E.restore(STATE["archive"], tb)
    E.failed_clearly(r, "postgres", "role app does not exist", exact=False)
    assert "shop" not in B.databases(), B.databases()
    B.psql("CREATE ROLE app")
    r = E.restore_ok(STATE["archive"], tb)
    assert r["target_uuid"] == tb, r
    assert B.snapshot("shop") == ORIGINAL
    # The archive still belongs to A's target.
    assert [x["uuid"] for x in E.archives(STATE["target"])] == [STATE["archive"]]


def test_wrong_port():
    port = free_port()
    t = E.target("postgres", ep(A, pg_port=port))
    E.backup_fails(t, "postgres", "postgres: cannot connect to 127.0.0.1:%d: "
                   "connection refused" % port)


def test_wrong_host():
    t = E.target("postgres", ep(A, pg_host="no-such-host.invalid"))
    E.backup_fails(t, "postgres", "postgres: cannot connect to no-such-host.invalid:%s: "
                   "unknown host" % A.env["PORT"])


def test_wrong_password():
    E.add_secret("not-the-password-42")
    t = E.target("postgres", ep(A, pg_password="not-the-password-42"))
    E.backup_fails(t, "postgres", "postgres: authentication failed for user postgres "
                   "on 127.0.0.1:%s" % A.env["PORT"])


def test_missing_database():
    t = E.target("postgres", ep(A, "no_such_db"))
    E.backup_fails(t, "postgres", "postgres: database no_such_db does not exist "
                   "on 127.0.0.1:%s" % A.env["PORT"])
    assert "no_such_db" not in A.databases()


def test_restore_with_bad_credentials_changes_nothing():
    A.psql("UPDATE items SET note = 'after the backup' WHERE id < 10", "shop")
    changed = A.snapshot("shop")
    E.add_secret("wrong-restore-pw")
    bad = E.target("postgres", ep(A, pg_password="wrong-restore-pw"))
    r = E.restore(STATE["archive"], bad)
    E.failed_clearly(r, "postgres", "postgres: authentication failed for user postgres "
                     "on 127.0.0.1:%s" % A.env["PORT"])
    port = free_port()
    r = E.restore(STATE["archive"], E.target("postgres", ep(A, pg_port=port)))
    E.failed_clearly(r, "postgres", "postgres: cannot connect to 127.0.0.1:%d: "
                     "connection refused" % port)
    assert A.snapshot("shop") == changed


def test_server_killed_mid_backup():
    # A session holding an exclusive lock stalls pg_dump after it has
    # connected and started; then the server dies under it.
    e = dict(os.environ, PGPASSWORD=B.password)
    holder = subprocess.Popen(
        [os.path.join(B.env["BINDIR"], "psql"), "-X", "-q", "-h", "127.0.0.1",
         "-p", B.env["PORT"], "-U", "postgres", "-d", "shop"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=e, text=True)
    try:
        holder.stdin.write("BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE;\n"
                           "SELECT 1;\n")
        holder.stdin.flush()
        wait_for("the lock", lambda: B.psql(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'items' AND l.mode = 'AccessExclusiveLock' "
            "AND l.granted", "shop") == "1")
        blobs = E.blobs()
        tid = E.start_backup(E.job(STATE["target_b"]))
        wait_for("pg_dump waiting on the lock", lambda: B.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'shop' "
            "AND wait_event_type = 'Lock'") != "0")
        assert E.task(tid)["status"] == "running"
        t0 = time.time()
        crash(int(B.env["PID"]))
        t = E.wait(tid, timeout=60)
        took = time.time() - t0
    finally:
        holder.kill()
        holder.wait()
    assert took < 30, "the failure took %.1fs" % took
    # pg_dump's own line names the problem; the plugin's last line says
    # which tool failed.
    E.failed_clearly(t, "postgres", "server closed the connection unexpectedly",
                     exact=False)
    assert log_lines(t["log"], "postgres")[-1] == \
        "postgres: pg_dump failed (exit status 1)", t["log"]
    assert E.archives(STATE["target_b"]) == []
    assert E.blobs() == blobs, "a failed backup must leave no blob"


if __name__ == "__main__":
    try:
        setup()
        run([test_validation_through_api, test_backup_damage_restore,
             test_migration_to_second_server, test_wrong_port, test_wrong_host,
             test_wrong_password, test_missing_database,
             test_restore_with_bad_credentials_changes_nothing,
             test_server_killed_mid_backup, test_daemon_stops_clean])
    finally:
        teardown()
