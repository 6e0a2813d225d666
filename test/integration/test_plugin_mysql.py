"""The mysql plugin against real MariaDB servers, called directly.

Loads a database (100,000 rows, unicode text, BLOBs, a view, a function, a
trigger, an index, a foreign key), backs it up, damages it, restores it and
compares server-computed checksums and object lists; restores under another
name, onto a second server, and all databases into a fresh one; and checks
the failures: wrong port, wrong password, missing database, a PostgreSQL
archive, a truncated dump, and that the password is never shown.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import services  # noqa: E402
from shieldtest import PLUGINS, run, free_port  # noqa: E402

PLUGIN = os.path.join(PLUGINS, "mysql")
TMP = tempfile.mkdtemp(prefix="shield-mysqltest.")
SERVERS = {}
CLIENT = shutil.which("mariadb") or shutil.which("mysql")

LOAD = r"""
CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
USE shop;
CREATE TABLE items(id INT PRIMARY KEY, name VARCHAR(200) NOT NULL,
                   price DECIMAL(10,2), note TEXT) ENGINE=InnoDB;
INSERT INTO items SELECT seq,
       CONCAT('item-', seq, ' żółć 日本語 ✓ "q" \\ ''s'' 😀'), seq * 1.5,
       IF(seq % 7 = 0, NULL, MD5(seq)) FROM seq_1_to_100000;
CREATE INDEX items_name_idx ON items(name);
CREATE TABLE blobs(id INT PRIMARY KEY, data LONGBLOB) ENGINE=InnoDB;
INSERT INTO blobs SELECT seq, CONCAT(UNHEX(MD5(seq)), UNHEX(MD5(seq * 7)),
       X'00FF0A0D27225C') FROM seq_1_to_3000;
CREATE TABLE orders(id BIGINT AUTO_INCREMENT PRIMARY KEY, item_id INT, qty INT,
                    FOREIGN KEY (item_id) REFERENCES items(id)) ENGINE=InnoDB;
INSERT INTO orders(item_id, qty) SELECT (seq % 100000) + 1, seq % 5
  FROM seq_1_to_20000;
CREATE VIEW cheap AS SELECT id, name FROM items WHERE price < 10;
CREATE FUNCTION item_total(i INT) RETURNS DECIMAL(20,2) READS SQL DATA
  RETURN (SELECT SUM(o.qty * it.price) FROM orders o JOIN items it
          ON it.id = o.item_id WHERE o.item_id = i);
CREATE TRIGGER orders_qty BEFORE INSERT ON orders FOR EACH ROW
  SET NEW.qty = GREATEST(NEW.qty, 0);
"""


class My:
    """One running server from test/services/mariadb.sh."""

    def __init__(self, env):
        self.env = env
        self.password = env["PASSWORD"]

    def sql(self, text, password=None, check=True):
        r = subprocess.run([CLIENT, "--no-defaults", "-h127.0.0.1",
                            "-P" + self.env["PORT"], "-u" + self.env["USER"],
                            "--default-character-set=utf8mb4", "-N", "-B"],
                           input=text, capture_output=True, text=True,
                           env=dict(os.environ,
                                    MYSQL_PWD=password or self.password),
                           timeout=120)
        if check:
            assert r.returncode == 0, "client failed: %s" % r.stderr
        return r.stdout.strip()

    def endpoint(self, db=None, **kw):
        ep = {"mysql_host": "127.0.0.1", "mysql_port": int(self.env["PORT"]),
              "mysql_user": self.env["USER"], "mysql_password": self.password}
        if db is not None:
            ep["mysql_database"] = db
        ep.update(kw)
        return ep

    def databases(self):
        return self.sql("SHOW DATABASES").split("\n")

    def snapshot(self, db):
        """Per-table checksums and the object list, computed by the server."""
        q = db.replace("'", "''")
        snap = {}
        tables = self.sql("SELECT table_name FROM information_schema.tables "
                          "WHERE table_schema = '%s' AND table_type = 'BASE TABLE' "
                          "ORDER BY 1" % q).split("\n")
        for t in tables:
            cols = self.sql("SELECT column_name FROM information_schema.columns "
                            "WHERE table_schema = '%s' AND table_name = '%s' "
                            "ORDER BY ordinal_position" % (q, t)).split("\n")
            row = "CONCAT_WS('|', %s)" % ", ".join(
                "IFNULL(HEX(`%s`), 'N')" % c for c in cols)
            snap[t] = self.sql(
                "SET SESSION group_concat_max_len = 1073741824;\n"
                "SELECT CONCAT(COUNT(*), ':', IFNULL(MD5(GROUP_CONCAT(r ORDER BY r "
                "SEPARATOR '\\n')), '')) FROM (SELECT %s AS r FROM `%s`.`%s`) x"
                % (row, db.replace("`", "``"), t))
        parts = [
            "SELECT table_name, table_type, engine, table_collation, auto_increment "
            "FROM information_schema.tables WHERE table_schema = '{q}' ORDER BY 1",
            "SELECT table_name, column_name, column_type, is_nullable, "
            "IFNULL(column_default, 'N') FROM information_schema.columns "
            "WHERE table_schema = '{q}' ORDER BY 1, 2",
            "SELECT table_name, index_name, column_name, seq_in_index, non_unique "
            "FROM information_schema.statistics WHERE table_schema = '{q}' "
            "ORDER BY 1, 2, 4",
            "SELECT routine_name, routine_type, MD5(routine_definition) FROM "
            "information_schema.routines WHERE routine_schema = '{q}' ORDER BY 1",
            "SELECT table_name, MD5(REPLACE(view_definition, '`{q}`.', '')) FROM "
            "information_schema.views WHERE table_schema = '{q}' ORDER BY 1",
            "SELECT trigger_name, event_manipulation, MD5(action_statement) FROM "
            "information_schema.triggers WHERE trigger_schema = '{q}' ORDER BY 1",
            "SELECT constraint_name, referenced_table_name FROM "
            "information_schema.referential_constraints WHERE "
            "constraint_schema = '{q}' ORDER BY 1",
        ]
        snap["objects"] = [self.sql(p.format(q=q)) for p in parts]
        return snap


def plugin(action, ep, stdin=None, stdout=None, timeout=120, secrets=()):
    """Run the plugin; check that no password reaches stderr."""
    r = subprocess.run([PLUGIN, action, "--endpoint", json.dumps(ep)],
                       stdin=stdin if stdin is not None else subprocess.DEVNULL,
                       stdout=stdout if stdout is not None else subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    err = r.stderr.decode("utf-8", "replace")
    for s in list(secrets) + [ep.get("mysql_password")]:
        if s:
            assert s not in err, "password on stderr: %r" % err
    for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert mark not in err, err
    return r.returncode, err


def backup(ep, name):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        rc, err = plugin("backup", ep, stdout=f)
    assert rc == 0, "backup failed: %s" % err
    assert os.path.getsize(path) > 0
    return path


def restore(ep, path, expect=0):
    with open(path, "rb") as f:
        rc, err = plugin("restore", ep, stdin=f)
    if expect == 0:
        assert rc == 0, "restore failed: %s" % err
    else:
        assert rc != 0, "restore should have failed: %s" % err
    return err


def last_line(err):
    lines = [l for l in err.strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""


def a():
    return SERVERS["a"]


def b():
    return SERVERS["b"]


ORIGINAL = {}


def setup():
    SERVERS["a"] = My(services.start("mariadb"))
    SERVERS["b"] = My(services.start("mariadb"))
    a().sql(LOAD)
    a().sql("CREATE USER 'app'@'%' IDENTIFIED BY 'app-secret-pw';"
            "GRANT SELECT ON shop.* TO 'app'@'%';")
    ORIGINAL.update(a().snapshot("shop"))
    assert ORIGINAL["items"].startswith("100000:"), ORIGINAL["items"]


def teardown():
    for s in SERVERS.values():
        services.stop("mariadb", s.env)
    shutil.rmtree(TMP, ignore_errors=True)


def test_info_and_validate():
    r = subprocess.run([PLUGIN, "info"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    names = {f["name"]: f for f in info["fields"]}
    for k in ("mysql_host", "mysql_port", "mysql_user", "mysql_password",
              "mysql_database", "mysql_options", "mysql_bindir"):
        assert k in names, k
    assert names["mysql_password"]["type"] == "password"
    assert names["mysql_port"]["default"] == "3306"
    rc, err = plugin("validate", a().endpoint("shop"))
    assert rc == 0, err
    rc, err = plugin("validate", {"mysql_port": "x"})
    assert rc != 0
    assert "mysql_host is required" in err and "mysql_user is required" in err, err
    assert "mysql_port must be a port" in err, err
    rc, err = plugin("validate", a().endpoint(mysql_bindir="/nonexistent"))
    assert rc != 0 and "mysql_bindir /nonexistent is not a directory" in err, err
    rc, err = plugin("validate", a().endpoint(mysql_options="--skip-comments -psecret"))
    assert rc != 0 and "must not hold a password" in err, err
    rc, err = plugin("validate", a().endpoint(mysql_options="--where='id<5'"))
    assert rc != 0 and "without a shell" in err, err


def test_database_round_trip():
    path = backup(a().endpoint("shop"), "shop.sql")
    with open(path, "rb") as f:
        head = f.read(4096)
    assert b"CREATE DATABASE" not in head and b"\nUSE " not in head
    a().sql("USE shop; DELETE FROM orders; DELETE FROM items WHERE id % 3 = 0;"
            "UPDATE blobs SET data = NULL; DROP VIEW cheap; DROP FUNCTION item_total;"
            "DROP TRIGGER orders_qty; DROP INDEX items_name_idx ON items;")
    assert a().snapshot("shop") != ORIGINAL
    err = restore(a().endpoint("shop"), path)
    assert "restored database shop" in err, err
    assert a().snapshot("shop") == ORIGINAL
    assert a().sql("SELECT shop.item_total(2)") != "NULL"


def test_restore_under_another_name():
    path = os.path.join(TMP, "shop.sql")
    err = restore(a().endpoint("shop-copy"), path)
    assert "restored database shop-copy" in err, err
    assert a().snapshot("shop-copy") == ORIGINAL
    assert a().sql("SELECT COUNT(*) FROM `shop-copy`.cheap") == \
        a().sql("SELECT COUNT(*) FROM shop.cheap")


def test_restore_onto_second_server():
    restore(b().endpoint("shop"), os.path.join(TMP, "shop.sql"))
    assert b().snapshot("shop") == ORIGINAL


def test_postgres_archive_changes_nothing():
    pg = os.path.join(TMP, "pg.dump")
    with open(pg, "wb") as f:
        f.write(b"PGDMP\x01\x0e\x00\x04\x08\x01\x01\x01\x00\x00\x00" + os.urandom(2000))
    err = restore(a().endpoint("shop"), pg, expect=1)
    assert "not a MySQL/MariaDB dump (it is a PostgreSQL archive)" in last_line(err), err
    assert "nothing was changed" in last_line(err), err
    cluster = os.path.join(TMP, "pg.sql")
    with open(cluster, "w") as f:
        f.write("--\n-- PostgreSQL database cluster dump\n--\n\nDROP DATABASE shop;\n")
    restore(a().endpoint(), cluster, expect=1)
    err = restore(a().endpoint("brand_new"), pg, expect=1)
    assert "brand_new" not in a().databases()
    empty = os.path.join(TMP, "empty")
    open(empty, "w").close()
    err = restore(a().endpoint("shop"), empty, expect=1)
    assert "the archive is empty" in err, err
    assert a().snapshot("shop") == ORIGINAL


def test_truncated_archive_is_reported():
    path = os.path.join(TMP, "shop.sql")
    cut = os.path.join(TMP, "shop.cut")
    with open(path, "rb") as f, open(cut, "wb") as g:
        data = f.read()
        # Cut at a line end, where the client itself sees nothing wrong.
        g.write(data[:data.index(b"\n", len(data) // 2) + 1])
    err = restore(a().endpoint("shop_cut"), cut, expect=1)
    assert "truncated" in last_line(err), err


def test_other_connections_are_killed():
    holder = subprocess.Popen(
        [CLIENT, "--no-defaults", "-h127.0.0.1", "-P" + a().env["PORT"],
         "-u" + a().env["USER"], "shop"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ, MYSQL_PWD=a().password), text=True)
    try:
        holder.stdin.write("BEGIN; SELECT * FROM items WHERE id = 1 FOR UPDATE;\n")
        holder.stdin.flush()
        deadline = time.time() + 10
        while time.time() < deadline:
            n = a().sql("SELECT COUNT(*) FROM information_schema.processlist "
                        "WHERE db = 'shop'")
            if n != "0":
                break
            time.sleep(0.1)
        t0 = time.time()
        err = restore(a().endpoint("shop"), os.path.join(TMP, "shop.sql"))
        assert time.time() - t0 < 60
        assert "killed 1 other connection using shop" in err, err
    finally:
        holder.kill()
        holder.wait()
    assert a().snapshot("shop") == ORIGINAL


def test_wrong_port_fails_fast():
    port = free_port()
    t0 = time.time()
    rc, err = plugin("backup", a().endpoint("shop", mysql_port=port))
    assert rc != 0
    assert time.time() - t0 < 10
    assert last_line(err) == ("mysql: cannot connect to 127.0.0.1:%d: "
                              "connection refused" % port), err
    with open(os.path.join(TMP, "shop.sql"), "rb") as f:
        rc, err = plugin("restore", a().endpoint("shop", mysql_port=port), stdin=f)
    assert rc != 0 and "cannot connect to 127.0.0.1:%d" % port in err, err


def test_wrong_password():
    ep = a().endpoint("shop", mysql_password="not-the-password-42")
    rc, err = plugin("backup", ep, secrets=[a().password])
    assert rc != 0
    assert last_line(err) == ("mysql: authentication failed for user shield "
                              "on 127.0.0.1:%s" % a().env["PORT"]), err


def test_missing_database():
    rc, err = plugin("backup", a().endpoint("no_such_db"))
    assert rc != 0
    assert last_line(err) == ("mysql: database no_such_db does not exist "
                              "on 127.0.0.1:%s" % a().env["PORT"]), err


def children_argv_while(argv, needle):
    """Run argv; while it runs, collect the command lines of its descendants."""
    seen = []
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    pids = {p.pid}
    while p.poll() is None:
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                if ppid in pids or int(d) in pids:
                    pids.add(int(d))
                    with open("/proc/%s/cmdline" % d, "rb") as f:
                        cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
                    # A forked child shows our argv until it execs.
                    if cmd and not cmd.startswith(argv[0]) and cmd not in seen:
                        seen.append(cmd)
            except (OSError, ValueError, IndexError):
                pass
    err = p.stderr.read().decode("utf-8", "replace")
    assert p.returncode == 0, err
    assert any(needle in c for c in seen), "no %s seen among %r" % (needle, seen)
    return seen


def test_password_not_in_argv():
    ep = a().endpoint()  # all databases: slow enough to be watched
    for cmd in children_argv_while([PLUGIN, "backup", "--endpoint", json.dumps(ep)],
                                   "dump"):
        assert a().password not in cmd, cmd
        assert "--defaults-extra-file=" in cmd.split(" ")[1], cmd
    strace = shutil.which("strace")
    if strace is None:
        print("     (strace sub-check skipped: strace is not installed)")
        return
    log = os.path.join(TMP, "strace.log")
    with open(os.devnull, "wb") as null:
        r = subprocess.run([strace, "-f", "-s", "4096", "-e", "trace=execve",
                            "-o", log, PLUGIN, "backup", "--endpoint",
                            json.dumps(a().endpoint("shop"))], stdout=null,
                           stderr=subprocess.PIPE)
    if r.returncode != 0 and b"ptrace" in r.stderr:
        print("     (strace sub-check skipped: ptrace is not permitted here)")
        return
    assert r.returncode == 0, r.stderr
    with open(log) as f:
        execs = [l for l in f if "execve(" in l]
    for l in execs[1:]:
        assert a().password not in l, l


def test_all_databases_into_fresh_server():
    path = backup(a().endpoint(), "all.sql")
    fresh = My(services.start("mariadb"))
    SERVERS["c"] = fresh
    err = restore(fresh.endpoint(), path)
    assert "restored all databases" in err, err
    # The accounts came along with the mysql schema: ours now has the
    # backed-up server's password there.
    fresh.password = a().password
    assert fresh.snapshot("shop") == ORIGINAL
    assert fresh.snapshot("shop-copy") == ORIGINAL
    r = subprocess.run([CLIENT, "--no-defaults", "-h127.0.0.1",
                        "-P" + fresh.env["PORT"], "-uapp", "-N", "-B", "-e",
                        "SELECT COUNT(*) FROM shop.cheap"],
                       env=dict(os.environ, MYSQL_PWD="app-secret-pw"),
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() != "0", r.stderr


if __name__ == "__main__":
    try:
        setup()
        run([test_info_and_validate, test_database_round_trip,
             test_restore_under_another_name, test_restore_onto_second_server,
             test_postgres_archive_changes_nothing,
             test_truncated_archive_is_reported,
             test_other_connections_are_killed, test_wrong_port_fails_fast,
             test_wrong_password, test_missing_database,
             test_password_not_in_argv, test_all_databases_into_fresh_server])
    finally:
        teardown()
