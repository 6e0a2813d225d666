"""MySQL/MariaDB end to end through the running shieldd.

Two throwaway MariaDB servers and one PostgreSQL server.  Server A's
database (the plugin test's data set: 100,000 rows, unicode, BLOBs, a view,
a function, a trigger, an index, a foreign key) is backed up by a job run
through the API; the archive's size and sha256 are checked against the
stored blob; the database is damaged, restored through the API and
compared with server-computed checksums and object lists.  The archive is
restored into server B (a migration).  Bad inputs: wrong host, port,
password or database fail the backup with one line naming the problem and
no archive; a PostgreSQL archive made by the daemon, restored into the
MySQL target, fails and changes nothing; a server killed while the dump is
streaming fails the task quickly with no archive and no blob.  No password
ever appears in a task log, a debug log or the daemon's log.
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import services  # noqa: E402
import test_plugin_mysql as tpm  # noqa: E402
import test_plugin_postgres as tpp  # noqa: E402
from e2e import Env, crash, log_lines, start_services, wait_for  # noqa: E402
from shieldtest import free_port, run  # noqa: E402

os.rmdir(tpm.TMP)  # made on import, not used here
os.rmdir(tpp.TMP)
My = tpm.My

A = B = P = E = None
ORIGINAL = {}
STATE = {}


def setup():
    global A, B, P, E
    ea, eb, ep = start_services("mariadb", "mariadb", "postgres")
    A, B, P = My(ea), My(eb), tpp.PG(ep)
    A.sql(tpm.LOAD)
    ORIGINAL.update(A.snapshot("shop"))
    assert ORIGINAL["items"].startswith("100000:"), ORIGINAL["items"]
    P.psql("CREATE DATABASE shop")
    P.psql("CREATE TABLE items(id int PRIMARY KEY, name text); "
           "INSERT INTO items SELECT g, 'pg-' || g FROM generate_series(1, 1000) g;",
           "shop")
    E = Env("mysql", secrets=[A.password, B.password, P.password])


def teardown():
    try:
        if E is not None:
            E.close(False)
    finally:
        for name, s in (("mariadb", A), ("mariadb", B), ("postgres", P)):
            if s is not None:
                services.stop(name, s.env)


def test_validation_through_api():
    body = str(E.target_rejected("mysql", {"mysql_port": "x"}))
    assert "mysql_host is required" in body and "mysql_port must be a port" in body, body
    body = str(E.target_rejected("mysql", A.endpoint(
        "shop", mysql_options="--skip-comments -psecret")))
    assert "must not hold a password" in body, body
    assert "secret" not in body.replace("must not hold", ""), body


def test_backup_damage_restore():
    t = E.target("mysql", A.endpoint("shop"), name="my-a-shop")
    a, path, task = E.backup_ok(t)
    with open(path, "rb") as f:
        head = f.read(4096)
    assert b"MariaDB dump" in head or b"MySQL dump" in head, head[:200]
    with open(path, "rb") as f:
        f.seek(-200, os.SEEK_END)
        assert b"-- Dump completed" in f.read(), "the dump is not complete"
    STATE.update(target=t, archive=a["uuid"])
    A.sql("USE shop; DELETE FROM orders; DELETE FROM items WHERE id % 3 = 0;"
          "UPDATE blobs SET data = NULL; DROP VIEW cheap; DROP FUNCTION item_total;"
          "DROP TRIGGER orders_qty; DROP INDEX items_name_idx ON items;"
          "INSERT INTO orders(item_id, qty) VALUES (1, 99);")
    assert A.snapshot("shop") != ORIGINAL
    r = E.restore_ok(a["uuid"])
    assert r["target_uuid"] == t, r
    assert "mysql: restored database shop" in " ".join(log_lines(r["log"], "mysql")), r["log"]
    snap = A.snapshot("shop")
    assert snap == ORIGINAL, "restored database differs from the original"
    assert A.sql("SELECT shop.item_total(2)") != "NULL"


def test_migration_to_second_server():
    tb = E.target("mysql", B.endpoint("shop"), name="my-b-shop")
    STATE["target_b"] = tb
    assert "shop" not in B.databases()
    r = E.restore_ok(STATE["archive"], tb)
    assert r["target_uuid"] == tb, r
    assert B.snapshot("shop") == ORIGINAL
    assert B.sql("SELECT shop.item_total(2)") == A.sql("SELECT shop.item_total(2)")
    assert [x["uuid"] for x in E.archives(STATE["target"])] == [STATE["archive"]]


def test_wrong_port():
    port = free_port()
    t = E.target("mysql", A.endpoint("shop", mysql_port=port))
    E.backup_fails(t, "mysql", "mysql: cannot connect to 127.0.0.1:%d: "
                   "connection refused" % port)


def test_wrong_host():
    t = E.target("mysql", A.endpoint("shop", mysql_host="no-such-host.invalid"))
    E.backup_fails(t, "mysql", "mysql: cannot connect to no-such-host.invalid:%s: "
                   "unknown host" % A.env["PORT"])


def test_wrong_password():
    E.add_secret("not-the-password-42")
    t = E.target("mysql", A.endpoint("shop", mysql_password="not-the-password-42"))
    E.backup_fails(t, "mysql", "mysql: authentication failed for user shield "
                   "on 127.0.0.1:%s" % A.env["PORT"])


def test_missing_database():
    t = E.target("mysql", A.endpoint("no_such_db"))
    E.backup_fails(t, "mysql", "mysql: database no_such_db does not exist "
                   "on 127.0.0.1:%s" % A.env["PORT"])
    assert "no_such_db" not in A.databases()


def test_postgres_archive_into_mysql_target():
    pt = E.target("postgres", P.endpoint("shop"), name="pg-shop")
    pa, path, _ = E.backup_ok(pt)
    with open(path, "rb") as f:
        assert f.read(5) == b"PGDMP"
    before = A.snapshot("shop")
    assert before == ORIGINAL
    r = E.restore(pa["uuid"], STATE["target"])
    assert r["target_uuid"] == STATE["target"], r
    line = E.failed_clearly(r, "mysql", "not a MySQL/MariaDB dump (it is a "
                            "PostgreSQL archive)", exact=False)
    assert "nothing was changed" in line, line
    assert A.snapshot("shop") == before
    # ... and into a database that does not exist yet: none is created.
    r = E.restore(pa["uuid"], E.target("mysql", A.endpoint("brand_new")))
    E.failed_clearly(r, "mysql", "PostgreSQL archive", exact=False)
    assert "brand_new" not in A.databases()


def test_server_killed_mid_backup():
    # mysqldump writes tables in name order: blobs, items, orders.  A
    # session holding LOCK TABLES items WRITE stalls it after blobs is
    # streamed; then the server dies under it.
    holder = subprocess.Popen(
        [tpm.CLIENT, "--no-defaults", "-h127.0.0.1", "-P" + B.env["PORT"],
         "-u" + B.env["USER"], "shop"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ, MYSQL_PWD=B.password), text=True)
    try:
        holder.stdin.write("LOCK TABLES items WRITE; SELECT SLEEP(600);\n")
        holder.stdin.flush()
        wait_for("the lock", lambda: B.sql(
            "SELECT COUNT(*) FROM information_schema.processlist "
            "WHERE info LIKE 'SELECT SLEEP%'") == "1")
        blobs = E.blobs()
        tid = E.start_backup(E.job(STATE["target_b"]))
        wait_for("mysqldump waiting on items", lambda: B.sql(
            "SELECT COUNT(*) FROM information_schema.processlist "
            "WHERE state LIKE '%metadata lock%' AND info LIKE '%items%'") != "0")
        running = wait_for("bytes streamed", lambda: (
            lambda t: t if t["bytes"] > 0 else None)(E.task(tid)), timeout=15)
        assert running["status"] == "running", running
        t0 = time.time()
        crash(int(B.env["PID"]))
        t = E.wait(tid, timeout=60)
        took = time.time() - t0
    finally:
        holder.kill()
        holder.wait()
    assert took < 30, "the failure took %.1fs" % took
    print("     (%d bytes streamed before the crash; failed %.1fs after it)"
          % (running["bytes"], took))
    # The dump tool's line names the problem; the plugin's summary must not
    # claim it could not connect: it did, and streamed data.
    E.failed_clearly(t, "mysql", "Lost connection to server during query", exact=False)
    last = log_lines(t["log"], "mysql")[-1]
    assert last.startswith("mysql: "), t["log"]
    assert "cannot connect" not in last, \
        "misleading summary after a crash mid-dump: %r" % last
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
        run([test_validation_through_api, test_backup_damage_restore,
             test_migration_to_second_server, test_wrong_port, test_wrong_host,
             test_wrong_password, test_missing_database,
             test_postgres_archive_into_mysql_target,
             test_server_killed_mid_backup, test_daemon_stops_clean])
    finally:
        teardown()
