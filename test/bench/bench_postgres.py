#!/usr/bin/env python3
"""Database backup and restore through shieldd against the plain dump tools.

    python3 test/bench/bench_postgres.py [BUILD_DIR] [--no-mariadb]

PostgreSQL (test/services/postgres.sh): a pgbench database (`pgbench -i -s
BENCH_PG_SCALE`, default 70, about 1 GB on disk) is backed up
  baseline  pg_dump -Fc -d bench > FILE
  shield    postgres target -> fs store, POST /v1/job/:uuid/run until done
and restored into a fresh database
  baseline  createdb NEW; pg_restore -d NEW --clean --if-exists
            --single-transaction --exit-on-error FILE  (the plugin's flags)
  shield    POST /v1/archive/:uuid/restore to a target naming NEW (the plugin
            creates it)
MariaDB (test/services/mariadb.sh), smaller: one InnoDB table of
BENCH_MARIADB_ROWS rows (default 1,000,000, about 180 MB of dump), backed up
with `mariadb-dump --single-transaction --routines --triggers --events
--hex-blob DB > FILE` (the plugin's flags) and restored with
`mariadb NEW < FILE`, against the mysql plugin through shieldd.
Each timing is the median of BENCH_DB_RUNS (default 3) runs; the same
client tools (the server's bindir) serve both sides.  Target: shield within
1.1x of the plain tools' time.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

SCALE = int(os.environ.get("BENCH_PG_SCALE", "70"))
ROWS = int(os.environ.get("BENCH_MARIADB_ROWS", "1000000"))
RUNS = int(os.environ.get("BENCH_DB_RUNS", "3"))
SERVICES = os.path.join(B.SRC, "test", "services")


def service(name, d):
    subprocess.run(["bash", os.path.join(SERVICES, name + ".sh"), "start", d], check=True,
                   stdin=subprocess.DEVNULL, stdout=sys.stderr)
    env = {}
    with open(os.path.join(d, "env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                env[k] = v
    return env


def service_stop(name, d):
    subprocess.run(["bash", os.path.join(SERVICES, name + ".sh"), "stop", d],
                   stdin=subprocess.DEVNULL, stdout=sys.stderr)


def timed(argv, env=None, stdin=None, stdout=None):
    t0 = time.monotonic()
    subprocess.run(argv, env=env, stdin=stdin, stdout=stdout, check=True)
    return time.monotonic() - t0


def fsync_time(path):
    """How long making a finished dump durable takes (what the fs store does)."""
    t0 = time.monotonic()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return time.monotonic() - t0


def ratio_rows(label, base, shield):
    rows = []
    for op in ("backup", "restore"):
        b, s = B.median(base[op]), B.median(shield[op])
        rows.append(["%s %s: plain tool" % (label, op), "%.2f s" % b, "1.00x (baseline)", "", ""])
        rows.append(["%s %s: shield" % (label, op), "%.2f s" % s, "%.2fx the time" % (s / b),
                     "<= 1.1x", B.yes(s / b <= 1.1)])
        if op == "backup" and base.get("backup_durable"):
            d = B.median(base["backup_durable"])
            rows.append(["%s backup: plain tool + fsync of its file (as durable as the "
                         "fs store)" % label, "%.2f s" % d, "shield %.2fx of this" % (s / d),
                         "", ""])
    return rows


class Shield:
    """A shieldd with one fs store and a job per target."""

    def __init__(self, tmp):
        os.makedirs(tmp)
        self.d = B.Daemon(tmp)
        self.d.start()
        self.d.login()
        self.sched, self.ret = self.d.basics()
        store_dir = os.path.join(tmp, "store")
        os.makedirs(store_dir)
        self.store = self.d.system("stores", "store", "fs", {"base_dir": store_dir})

    def backup(self, name, plugin, ep):
        t = self.d.system("targets", name, plugin, ep)
        j = self.d.job(name, t, self.store, self.sched, self.ret)
        dt, task = self.d.run_job(j)
        archive = self.d.api("GET", "/v1/archives?target=%s&limit=1" % t)[0]
        return dt, archive

    def restore(self, name, plugin, ep, archive):
        t = self.d.system("targets", name, plugin, ep)
        return self.d.restore(archive["uuid"], t)[0]


def bench_pg(tmp, sh):
    d = os.path.join(tmp, "pg")
    os.makedirs(d)
    env = service("postgres", d)
    try:
        bindir = env["BINDIR"]
        penv = dict(os.environ, PGPASSWORD=env["PASSWORD"])
        conn = ["-h", env["HOST"], "-p", env["PORT"], "-U", env["USER"], "-w"]

        def tool(name, *args, **kw):
            c = conn[:-1] if name == "pgbench" else conn    # pgbench has no -w
            return timed([os.path.join(bindir, name)] + c + list(args), env=penv, **kw)

        def psql(sql, db="postgres"):
            return subprocess.run([os.path.join(bindir, "psql")] + conn +
                                  ["-d", db, "-tAc", sql], env=penv, check=True,
                                  capture_output=True, text=True).stdout.strip()

        tool("createdb", "bench")
        B.log("pgbench -i -s %d" % SCALE)
        init_s = tool("pgbench", "-i", "-q", "-s", str(SCALE), "bench",
                      stdout=subprocess.DEVNULL)
        psql("VACUUM ANALYZE", "bench")
        db_bytes = int(psql("SELECT pg_database_size('bench')"))
        ep = {"pg_host": env["HOST"], "pg_port": int(env["PORT"]), "pg_user": env["USER"],
              "pg_password": env["PASSWORD"], "pg_bindir": bindir}
        base = {"backup": [], "restore": [], "backup_durable": []}
        shield = {"backup": [], "restore": []}
        dump = os.path.join(tmp, "bench.dump")
        for run in range(RUNS):
            B.log("postgres round %d of %d" % (run + 1, RUNS))
            os.sync()
            with open(dump, "wb") as f:
                base["backup"].append(tool("pg_dump", "-Fc", "-d", "bench", stdout=f))
            base["backup_durable"].append(base["backup"][-1] + fsync_time(dump))
            os.sync()
            dt, archive = sh.backup("pg-%d" % run, "postgres", dict(ep, pg_database="bench"))
            shield["backup"].append(dt)
            os.sync()
            t0 = time.monotonic()
            tool("createdb", "plain%d" % run)
            tool("pg_restore", "-d", "plain%d" % run, "--clean", "--if-exists",
                 "--single-transaction", "--exit-on-error", dump)
            base["restore"].append(time.monotonic() - t0)
            os.sync()
            shield["restore"].append(sh.restore("pg-new-%d" % run, "postgres",
                                                dict(ep, pg_database="shield%d" % run), archive))
            want = str(SCALE * 100000)
            for db in ("plain%d" % run, "shield%d" % run):
                got = psql("SELECT count(*) FROM pgbench_accounts", db)
                assert got == want, (db, got, want)
            dump_bytes = os.path.getsize(dump)
            psql("DROP DATABASE plain%d" % run)
            psql("DROP DATABASE shield%d" % run)
            os.unlink(dump)
        rows = ratio_rows("PostgreSQL", base, shield)
        return B.table(
            "PostgreSQL %s: pgbench -s %d (%.0f MB database, %.0f MB pg_dump -Fc), median of %d" %
            (psql("SHOW server_version").split()[0], SCALE, db_bytes / 1e6, dump_bytes / 1e6,
             RUNS), ["operation", "time", "vs plain tool", "target", "target met"], rows,
            ["pgbench -i took %.0f s. The server runs with fsync=off; the fs store fsyncs "
             "its archive, the plain pg_dump > FILE does not." % init_s])
    finally:
        service_stop("postgres", d)


def bench_mariadb(tmp, sh):
    d = os.path.join(tmp, "mariadb")
    os.makedirs(d)
    env = service("mariadb", d)
    try:
        dump_tool = "mariadb-dump" if subprocess.run(
            ["sh", "-c", "command -v mariadb-dump"], capture_output=True).returncode == 0 \
            else "mysqldump"
        client = "mariadb" if dump_tool == "mariadb-dump" else "mysql"
        cnf = os.path.join(d, "client.cnf")
        with open(cnf, "w") as f:
            f.write("[client]\nhost=%s\nport=%s\nuser=%s\npassword=%s\n" %
                    (env["HOST"], env["PORT"], env["USER"], env["PASSWORD"]))
        os.chmod(cnf, 0o600)
        opt = "--defaults-extra-file=" + cnf

        def sql(q, db=None, stdin=None):
            argv = [client, opt, "--batch", "--skip-column-names"] + ([db] if db else [])
            return subprocess.run(argv + (["-e", q] if q else []), stdin=stdin, check=True,
                                  capture_output=stdin is None, text=stdin is None,
                                  stdout=None if stdin is None else subprocess.DEVNULL
                                  ).stdout

        B.log("mariadb: loading %d rows" % ROWS)
        t0 = time.monotonic()
        sql("CREATE DATABASE bench")
        sql("CREATE TABLE t (id INT PRIMARY KEY, k INT NOT NULL, name VARCHAR(64) NOT NULL,"
            " note VARCHAR(200) NOT NULL, amount DECIMAL(12,2) NOT NULL, KEY (k))"
            " ENGINE=InnoDB", "bench")
        step = 500000
        for lo in range(1, ROWS + 1, step):
            hi = min(ROWS, lo + step - 1)
            sql("INSERT INTO t SELECT seq, seq * 7919 %% 100000, md5(seq),"
                " concat(sha2(seq, 256), ' ', md5(seq * 3)), (seq * 37 %% 100000) / 100"
                " FROM seq_%d_to_%d" % (lo, hi), "bench")
        load_s = time.monotonic() - t0
        ep = {"mysql_host": env["HOST"], "mysql_port": int(env["PORT"]),
              "mysql_user": env["USER"], "mysql_password": env["PASSWORD"]}
        base = {"backup": [], "restore": [], "backup_durable": []}
        shield = {"backup": [], "restore": []}
        dump = os.path.join(tmp, "bench.sql")
        for run in range(RUNS):
            B.log("mariadb round %d of %d" % (run + 1, RUNS))
            os.sync()
            with open(dump, "wb") as f:
                base["backup"].append(timed([dump_tool, opt, "--single-transaction",
                                             "--routines", "--triggers", "--events",
                                             "--hex-blob", "--", "bench"], stdout=f))
            base["backup_durable"].append(base["backup"][-1] + fsync_time(dump))
            os.sync()
            dt, archive = sh.backup("my-%d" % run, "mysql", dict(ep, mysql_database="bench"))
            shield["backup"].append(dt)
            os.sync()
            t0 = time.monotonic()
            sql("CREATE DATABASE plain%d" % run)
            with open(dump, "rb") as f:
                sql(None, "plain%d" % run, stdin=f)
            base["restore"].append(time.monotonic() - t0)
            os.sync()
            shield["restore"].append(sh.restore("my-new-%d" % run, "mysql",
                                                dict(ep, mysql_database="shield%d" % run),
                                                archive))
            for db in ("plain%d" % run, "shield%d" % run):
                got = sql("SELECT count(*) FROM t", db).strip()
                assert got == str(ROWS), (db, got)
            dump_bytes = os.path.getsize(dump)
            sql("DROP DATABASE plain%d" % run)
            sql("DROP DATABASE shield%d" % run)
            os.unlink(dump)
        version = sql("SELECT version()").strip()
        return B.table("MariaDB %s: %s rows in one table (%.0f MB dump), median of %d" %
                       (version.split("-")[0], format(ROWS, ","), dump_bytes / 1e6, RUNS),
                       ["operation", "time", "vs plain tool", "target", "target met"],
                       ratio_rows("MariaDB", base, shield),
                       ["Loading took %.0f s. Smaller than the PostgreSQL data set, to keep "
                        "the run short." % load_s])
    finally:
        service_stop("mariadb", d)


def main():
    B.need(B.SHIELDD, os.path.join(B.PLUGINS, "postgres"), os.path.join(B.PLUGINS, "fs"))
    tmp = B.mktemp("db")
    os.chmod(tmp, 0o755)
    sh = None
    try:
        sh = Shield(os.path.join(tmp, "shield"))
        have_pg = subprocess.run("ls /usr/lib/postgresql/*/bin/initdb", shell=True,
                                 capture_output=True).returncode == 0
        if have_pg:
            B.emit(bench_pg(tmp, sh))
        else:
            B.emit("\nbench_postgres: PostgreSQL server not installed, skipped\n")
        have_my = subprocess.run("command -v mariadbd || command -v mysqld", shell=True,
                                 capture_output=True).returncode == 0
        if "--no-mariadb" in sys.argv or os.environ.get("BENCH_MARIADB") == "0":
            B.emit("\nMariaDB: skipped (--no-mariadb)\n")
        elif not have_my or not os.path.exists(os.path.join(B.PLUGINS, "mysql")):
            B.emit("\nMariaDB: server or mysql plugin missing, skipped\n")
        else:
            B.emit(bench_mariadb(tmp, sh))
    finally:
        if sh is not None:
            sh.d.stop()
        B.rmtree(tmp)


if __name__ == "__main__":
    main()
