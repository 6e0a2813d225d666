"""The postgres plugin against real PostgreSQL servers, called directly.

Loads a database (100,000 rows, unicode text, bytea, a view, a function, an
index, an object owned by another role), backs it up, damages it, restores
it and compares server-computed checksums and object lists; restores under
another name, onto a second server, and a whole cluster into a fresh one;
and checks the failures: wrong port, wrong password, missing database,
foreign and truncated archives, and that the password is never shown.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import services  # noqa: E402
from shieldtest import PLUGINS, run, free_port  # noqa: E402

PLUGIN = os.path.join(PLUGINS, "postgres")
TMP = tempfile.mkdtemp(prefix="shield-pgtest.")
SERVERS = {}

LOAD = r"""
CREATE TABLE items(id int PRIMARY KEY, name text NOT NULL, price numeric(10,2),
                   note text);
INSERT INTO items SELECT g, 'item-' || g || ' żółć 日本語 ✓ "q" \ ''s''',
       g * 1.5, CASE WHEN g % 7 = 0 THEN NULL ELSE md5(g::text) END
  FROM generate_series(1, 100000) g;
CREATE INDEX items_name_idx ON items(name);
CREATE TABLE blobs(id int PRIMARY KEY, data bytea);
INSERT INTO blobs SELECT g, decode(md5(g::text) || md5((g * 7)::text), 'hex')
       || '\x00ff0a0d'::bytea FROM generate_series(1, 3000) g;
CREATE TABLE orders(id bigserial PRIMARY KEY, item_id int REFERENCES items(id),
                    qty int, at timestamptz DEFAULT '2020-01-01 00:00:00+00');
INSERT INTO orders(item_id, qty) SELECT (g % 100000) + 1, g % 5
  FROM generate_series(1, 20000) g;
CREATE VIEW cheap AS SELECT id, name FROM items WHERE price < 10;
CREATE FUNCTION item_total(i int) RETURNS numeric LANGUAGE sql AS
  $$ SELECT sum(o.qty * it.price) FROM orders o JOIN items it
     ON it.id = o.item_id WHERE o.item_id = i $$;
CREATE TABLE app_notes(id int PRIMARY KEY, body text);
INSERT INTO app_notes VALUES (1, 'owned by app');
ALTER TABLE app_notes OWNER TO app;
GRANT SELECT ON items TO app;
"""

OBJECTS = r"""
SELECT string_agg(x, E'\n' ORDER BY x) FROM (
  SELECT c.relkind::text || ' ' || c.relname || ' ' || pg_get_userbyid(c.relowner)
         || ' ' || coalesce(c.relacl::text, '') AS x
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public'
  UNION ALL
  SELECT 'f ' || p.oid::regprocedure::text || ' ' || md5(pg_get_functiondef(p.oid))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'public'
  UNION ALL
  SELECT 'v ' || viewname || ' ' || md5(definition) FROM pg_views
   WHERE schemaname = 'public'
  UNION ALL
  SELECT 'i ' || indexname || ' ' || indexdef FROM pg_indexes
   WHERE schemaname = 'public'
  UNION ALL
  SELECT 's ' || sequencename || ' ' || coalesce(last_value, 0) FROM pg_sequences
   WHERE schemaname = 'public') s;
"""


class PG:
    """One running server from test/services/postgres.sh."""

    def __init__(self, env):
        self.env = env
        self.password = env["PASSWORD"]

    def psql(self, sql, db="postgres", password=None, check=True):
        e = dict(os.environ, PGPASSWORD=password or self.password)
        r = subprocess.run([os.path.join(self.env["BINDIR"], "psql"), "-X", "-q",
                            "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", self.env["PORT"], "-U", self.env["USER"],
                            "-d", db], input=sql, env=e, capture_output=True,
                           text=True, timeout=120)
        if check:
            assert r.returncode == 0, "psql failed: %s" % r.stderr
        return r.stdout.strip()

    def endpoint(self, db=None, **kw):
        ep = {"pg_host": "127.0.0.1", "pg_port": int(self.env["PORT"]),
              "pg_user": self.env["USER"], "pg_password": self.password}
        if db is not None:
            ep["pg_database"] = db
        ep.update(kw)
        return ep

    def databases(self):
        return self.psql("SELECT string_agg(datname, ',' ORDER BY datname) "
                         "FROM pg_database").split(",")

    def snapshot(self, db):
        """Per-table checksums and the object list, computed by the server."""
        tables = self.psql("SELECT string_agg(tablename, ',' ORDER BY tablename) "
                           "FROM pg_tables WHERE schemaname = 'public'", db)
        snap = {}
        for t in tables.split(","):
            snap[t] = self.psql(
                "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, "
                "E'\\n' ORDER BY t::text)), '') FROM public.\"%s\" t" % t, db)
        snap["objects"] = self.psql(OBJECTS, db)
        return snap


def plugin(action, ep, stdin=None, stdout=None, timeout=120, secrets=()):
    """Run the plugin; check that no password reaches stderr."""
    r = subprocess.run([PLUGIN, action, "--endpoint", json.dumps(ep)],
                       stdin=stdin if stdin is not None else subprocess.DEVNULL,
                       stdout=stdout if stdout is not None else subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    err = r.stderr.decode("utf-8", "replace")
    for s in list(secrets) + [ep.get("pg_password")]:
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
    SERVERS["a"] = PG(services.start("postgres"))
    SERVERS["b"] = PG(services.start("postgres"))
    a().psql("CREATE ROLE app LOGIN PASSWORD 'app-secret-pw'")
    a().psql("CREATE DATABASE shop")
    a().psql(LOAD, "shop")
    ORIGINAL.update(a().snapshot("shop"))
    assert ORIGINAL["items"].startswith("100000:")


def teardown():
    for s in SERVERS.values():
        services.stop("postgres", s.env)
    shutil.rmtree(TMP, ignore_errors=True)


def test_info_and_validate():
    r = subprocess.run([PLUGIN, "info"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    names = {f["name"]: f for f in info["fields"]}
    for k in ("pg_host", "pg_port", "pg_user", "pg_password", "pg_database",
              "pg_bindir"):
        assert k in names, k
    assert names["pg_password"]["type"] == "password"
    assert names["pg_port"]["default"] == "5432"
    assert info["features"]["target"] == "yes"
    rc, err = plugin("validate", a().endpoint("shop"))
    assert rc == 0, err
    rc, err = plugin("validate", {"pg_port": 70000})
    assert rc != 0
    assert "pg_host is required" in err and "pg_user is required" in err, err
    assert "pg_port must be a port" in err, err
    rc, err = plugin("validate", a().endpoint(pg_bindir="/nonexistent/bin"))
    assert rc != 0 and "pg_bindir /nonexistent/bin is not a directory" in err, err
    rc, err = plugin("validate", a().endpoint(pg_bindir=a().env["BINDIR"]))
    assert rc == 0, err


def test_database_round_trip():
    path = backup(a().endpoint("shop"), "shop.dump")
    with open(path, "rb") as f:
        assert f.read(5) == b"PGDMP"
    a().psql("DELETE FROM orders; "
             "DELETE FROM items WHERE id % 3 = 0; UPDATE blobs SET data = NULL; "
             "DROP VIEW cheap; DROP FUNCTION item_total(int); "
             "DROP TABLE app_notes; DROP INDEX items_name_idx; "
             "INSERT INTO orders(item_id, qty) VALUES (1, 99);", "shop")
    assert a().snapshot("shop") != ORIGINAL
    err = restore(a().endpoint("shop"), path)
    assert "restored database shop" in err, err
    assert a().snapshot("shop") == ORIGINAL
    # Owners and privileges are kept.
    assert a().psql("SELECT tableowner FROM pg_tables WHERE tablename = 'app_notes'",
                    "shop") == "app"


def test_restore_under_another_name():
    path = os.path.join(TMP, "shop.dump")
    err = restore(a().endpoint("shop_copy"), path)
    assert "created database shop_copy" in err, err
    assert a().snapshot("shop_copy") == ORIGINAL
    # Restoring again over it works too (--clean --if-exists).
    restore(a().endpoint("shop_copy"), path)
    assert a().snapshot("shop_copy") == ORIGINAL


def conninfo_dbname(name):
    """A libpq connection string naming only this database."""
    return "dbname='%s'" % name.replace("\\", "\\\\").replace("'", "\\'")


def test_database_name_is_only_a_name():
    # libpq reads a -d value holding '=' as a connection string: pg_database
    # must stay a database name, never override pg_host.
    name = "host=/nonexistent dbname=x"
    rc, err = plugin("backup", a().endpoint(name))
    assert rc != 0
    assert last_line(err) == ("postgres: database %s does not exist on "
                              "127.0.0.1:%s" % (name, a().env["PORT"])), err
    assert "/nonexistent" not in err.replace(name, ""), err
    # Restore creates and fills the database of that very name, quotes and
    # backslashes included; a backup of it reads it back.
    odd = name + " it's a \\ name"
    path = os.path.join(TMP, "shop.dump")
    err = restore(a().endpoint(odd), path)
    assert "restored database " + odd in err, err
    assert odd in a().databases()
    assert a().snapshot(conninfo_dbname(odd)) == ORIGINAL
    again = backup(a().endpoint(odd), "odd.dump")
    with open(again, "rb") as f:
        assert f.read(5) == b"PGDMP"
    a().psql("DROP DATABASE \"%s\"" % odd.replace('"', '""'))


def test_restore_onto_second_server():
    path = os.path.join(TMP, "shop.dump")
    # A one-database archive does not carry roles: without them it fails
    # cleanly and removes the database it had created.
    err = restore(b().endpoint("shop"), path, expect=1)
    assert re.search(r"role app does not exist", err), err
    assert "shop" not in b().databases()
    b().psql("CREATE ROLE app")
    restore(b().endpoint("shop"), path)
    assert b().snapshot("shop") == ORIGINAL


def test_truncated_archive_leaves_database_as_it_was():
    path = os.path.join(TMP, "shop.dump")
    cut = os.path.join(TMP, "shop.cut")
    with open(path, "rb") as f, open(cut, "wb") as g:
        data = f.read()
        g.write(data[:len(data) * 2 // 3])
    a().psql("UPDATE items SET note = 'changed after backup' WHERE id < 10", "shop")
    changed = a().snapshot("shop")
    err = restore(a().endpoint("shop"), cut, expect=1)
    assert "truncated or damaged" in err, err
    assert "database shop was left as it was" in last_line(err), err
    assert a().snapshot("shop") == changed
    restore(a().endpoint("shop"), path)
    assert a().snapshot("shop") == ORIGINAL


def test_foreign_archives_change_nothing():
    mysql_dump = os.path.join(TMP, "mysql.sql")
    with open(mysql_dump, "w") as f:
        f.write("/*M!999999\\- enable the sandbox mode */\n-- MariaDB dump 10.19\n"
                "DROP TABLE IF EXISTS `items`;\n")
    err = restore(a().endpoint("shop"), mysql_dump, expect=1)
    assert "nothing was changed" in last_line(err), err
    empty = os.path.join(TMP, "empty")
    open(empty, "w").close()
    err = restore(a().endpoint("shop"), empty, expect=1)
    assert "the archive is empty" in err, err
    # A database archive given to a cluster endpoint, and the reverse.
    err = restore(a().endpoint(), os.path.join(TMP, "shop.dump"), expect=1)
    assert "set pg_database" in err, err
    assert a().snapshot("shop") == ORIGINAL
    assert "nothing_here" not in a().databases()
    err = restore(a().endpoint("nothing_here"), mysql_dump, expect=1)
    assert "nothing_here" not in a().databases()


def test_other_sessions_are_terminated():
    e = dict(os.environ, PGPASSWORD=a().password)
    holder = subprocess.Popen(
        [os.path.join(a().env["BINDIR"], "psql"), "-X", "-q", "-h", "127.0.0.1",
         "-p", a().env["PORT"], "-U", "postgres", "-d", "shop"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=e, text=True)
    try:
        holder.stdin.write("BEGIN; LOCK TABLE items IN ACCESS SHARE MODE;\n"
                           "SELECT 1;\n")
        holder.stdin.flush()
        deadline = time.time() + 10
        while time.time() < deadline:
            n = a().psql("SELECT count(*) FROM pg_locks l JOIN pg_class c "
                         "ON c.oid = l.relation WHERE c.relname = 'items' "
                         "AND l.mode = 'AccessShareLock' AND l.pid <> "
                         "pg_backend_pid()", "shop")
            if n != "0":
                break
            time.sleep(0.1)
        t0 = time.time()
        err = restore(a().endpoint("shop"), os.path.join(TMP, "shop.dump"))
        assert time.time() - t0 < 60
        assert "terminated 1 other session on shop" in err, err
    finally:
        holder.kill()
        holder.wait()
    assert a().snapshot("shop") == ORIGINAL


def test_wrong_port_fails_fast():
    port = free_port()
    t0 = time.time()
    rc, err = plugin("backup", a().endpoint("shop", pg_port=port))
    assert rc != 0
    assert time.time() - t0 < 10
    assert last_line(err) == ("postgres: cannot connect to 127.0.0.1:%d: "
                              "connection refused" % port), err
    rc, err = plugin("restore", a().endpoint("shop", pg_port=port),
                     stdin=open(os.path.join(TMP, "shop.dump"), "rb"))
    assert rc != 0 and "cannot connect to 127.0.0.1:%d" % port in err, err


def test_wrong_password():
    ep = a().endpoint("shop", pg_password="not-the-password-42")
    rc, err = plugin("backup", ep, secrets=[a().password])
    assert rc != 0
    assert last_line(err) == ("postgres: authentication failed for user "
                              "postgres on 127.0.0.1:%s" % a().env["PORT"]), err


def test_missing_database():
    rc, err = plugin("backup", a().endpoint("no_such_db"))
    assert rc != 0
    assert last_line(err) == ("postgres: database no_such_db does not exist "
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
    ep = a().endpoint()  # the whole cluster: slow enough to be watched
    for cmd in children_argv_while([PLUGIN, "backup", "--endpoint", json.dumps(ep)],
                                   "pg_dump"):
        assert a().password not in cmd, cmd
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
    assert any("pg_dump" in l for l in execs), execs
    for l in execs[1:]:  # the first is the plugin itself, endpoint and all
        assert a().password not in l, l


def test_cluster_round_trip_into_fresh_server():
    t0 = time.time()
    path = backup(a().endpoint(), "cluster.sql")
    t1 = time.time()
    fresh = PG(services.start("postgres"))
    SERVERS["c"] = fresh
    t2 = time.time()
    err = restore(fresh.endpoint(), path)
    print("     (backup %.1fs, start %.1fs, restore %.1fs)" % (t1 - t0, t2 - t1, time.time() - t2))
    assert "restored the cluster" in err, err
    # The roles came along; the connecting one kept its password here.
    assert fresh.snapshot("shop") == ORIGINAL
    assert fresh.psql("SELECT rolname FROM pg_roles WHERE rolname = 'app'") == "app"
    out = fresh.psql("SELECT count(*) FROM items", "shop")
    assert out == "100000"
    e = dict(os.environ, PGPASSWORD="app-secret-pw")
    r = subprocess.run([os.path.join(fresh.env["BINDIR"], "psql"), "-X", "-At",
                        "-h", "127.0.0.1", "-p", fresh.env["PORT"], "-U", "app",
                        "-d", "shop", "-c", "SELECT count(*) FROM app_notes"],
                       env=e, capture_output=True, text=True)
    assert r.stdout.strip() == "1", r.stderr
    # Restoring it again over itself works (the archive drops what it creates).
    err = restore(fresh.endpoint(), path)
    assert fresh.snapshot("shop") == ORIGINAL


if __name__ == "__main__":
    try:
        setup()
        run([test_info_and_validate, test_database_round_trip,
             test_restore_under_another_name, test_database_name_is_only_a_name,
             test_restore_onto_second_server,
             test_truncated_archive_leaves_database_as_it_was,
             test_foreign_archives_change_nothing,
             test_other_sessions_are_terminated, test_wrong_port_fails_fast,
             test_wrong_password, test_missing_database,
             test_password_not_in_argv,
             test_cluster_round_trip_into_fresh_server])
    finally:
        teardown()
