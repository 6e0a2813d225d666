"""The redis-local plugin against a real redis-server, through the real
shieldd and a real shield-agent on loopback: a backup of 1,000 keys of
several types with TTLs, changes, and a restore that stops Redis, swaps the
RDB file and starts it again; truncated, corrupt and interrupted restores
that never stop Redis nor touch its file; a restart that fails and is
rolled back; validation errors as 400s.  The stop and start commands are
two small scripts in the test's temp dir.  Python standard library only.
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_agent as ta  # noqa: E402
from shieldtest import (PLUGINS, SANITIZER_MARKS, SRC, Daemon, free_port,  # noqa: E402
                        run)

REDIS_SH = os.path.join(SRC, "test", "services", "redis.sh")
PLUGIN = os.path.join(PLUGINS, "redis-local")
ENV = ta.ENV

TMP = None
SVC = None           # the redis.sh service dir
REDIS = None         # its env: PID, HOST, PORT, PASSWORD
EP = None            # the redis-local endpoint
STOPS = None         # one line per run of the stop script

STOP_SH = r"""#!/bin/sh
# Stop the test's redis-server by the pid in its pidfile and wait until it
# is gone (a zombie counts as gone: nobody may reap it).
echo stop >> "%(svc)s/stops.log"
pid=$(cat "%(svc)s/redis.pid" 2>/dev/null) || exit 1
kill -TERM "$pid" 2>/dev/null || exit 1
n=0
while [ -d "/proc/$pid" ] &&
    [ "$(awk '/^State:/{print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ]; do
	n=$((n + 1))
	[ $n -gt 200 ] && exit 1
	sleep 0.05
done
exit 0
"""

START_SH = r"""#!/bin/sh
# Start the test's redis-server again with the same config, detached from
# the plugin (its own session, no inherited pipes); it writes its pidfile.
# A file named "fail" in the service dir makes one start fail instead.
if [ -f "%(svc)s/fail" ]; then
	rm -f "%(svc)s/fail"
	echo "start refused by the test" >&2
	exit 1
fi
setsid redis-server "%(svc)s/redis.conf" </dev/null >>"%(svc)s/redis.log" 2>&1 &
exit 0
"""


# ------------------------------------------------------------ redis
class Redis:
    """A minimal RESP2 client for loading and reading back test data."""

    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", int(REDIS["PORT"])), timeout=30)
        self.f = self.s.makefile("rb")
        assert self.call("AUTH", REDIS["PASSWORD"]) == "OK"

    def close(self):
        self.f.close()
        self.s.close()

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, (int, float)):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def read(self):
        line = self.f.readline()
        assert line.endswith(b"\r\n"), line
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise AssertionError("redis error: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise AssertionError("odd reply %r" % line)

    def call(self, *args):
        self.s.sendall(self.encode(args))
        return self.read()

    def pipeline(self, cmds):
        self.s.sendall(b"".join(self.encode(c) for c in cmds))
        return [self.read() for _ in cmds]


def redis_pid():
    with open(os.path.join(SVC, "redis.pid")) as f:
        return int(f.read().strip())


def stops():
    try:
        with open(STOPS) as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


def load_keys(r, n=1000, prefix="k"):
    cmds = []
    for i in range(n):
        k = "%s:%04d" % (prefix, i)
        kind = i % 5
        if kind == 0:
            cmds.append(("SET", k, b"v\x00\xff%d" % i + os.urandom(i % 7)))
        elif kind == 1:
            cmds.append(("HSET", k, "f1", "a%d" % i, "f2", "b%d" % i))
        elif kind == 2:
            cmds.append(("RPUSH", k, "x", "y", str(i)))
        elif kind == 3:
            cmds.append(("SADD", k, "m1", "m2", "m%d" % i))
        else:
            cmds.append(("ZADD", k, "1.5", "z1", str(i), "z2"))
        if i % 3 == 0:
            cmds.append(("EXPIRE", k, 3600 + i))
    r.pipeline(cmds)


def snapshot(r):
    """Every key: name -> (type, value, pttl)."""
    keys = sorted(r.call("KEYS", "*"))
    types = r.pipeline([("TYPE", k) for k in keys])
    reads = []
    for k, t in zip(keys, types):
        reads.append({"string": ("GET", k), "hash": ("HGETALL", k),
                      "list": ("LRANGE", k, 0, -1), "set": ("SMEMBERS", k),
                      "zset": ("ZRANGE", k, 0, -1, "WITHSCORES")}[t])
    values = r.pipeline(reads)
    ttls = r.pipeline([("PTTL", k) for k in keys])
    out = {}
    for k, t, v, ttl in zip(keys, types, values, ttls):
        if t == "hash":
            v = dict(zip(v[::2], v[1::2]))
        elif t == "set":
            v = sorted(v)
        out[k] = (t, v, ttl)
    return out


def same_data(got, want, tolerance_ms=120000):
    assert sorted(got) == sorted(want), (len(got), len(want),
                                         sorted(set(got) ^ set(want))[:10])
    for k in want:
        assert got[k][:2] == want[k][:2], (k, got[k], want[k])
        g, w = got[k][2], want[k][2]
        if w < 0:
            assert g == w, (k, g, w)
        else:
            assert 0 < g <= w and w - g < tolerance_ms, (k, g, w)


def data_dir_entries():
    return sorted(os.listdir(os.path.join(SVC, "data")))


def rdb_hash():
    with open(EP["rdb_path"], "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_direct(action, ep, data=b"", timeout=120):
    p = subprocess.run([PLUGIN, action, "--endpoint", json.dumps(ep)], input=data,
                       capture_output=True, env=ENV, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in err, "sanitizer report from redis-local:\n" + err
    assert REDIS["PASSWORD"] not in err, err
    return p.returncode, p.stdout, err


def pid_gone(pid):
    return not ta.pid_alive(pid)


# ------------------------------------------------------------ setup
def setup():
    global TMP, SVC, REDIS, EP, STOPS
    TMP = tempfile.mkdtemp(prefix="shield-redis-local.")
    ta.TMP = TMP
    ta.KEYS = os.path.join(TMP, "keys")
    p = subprocess.run(["sh", ta.KEYS_SH, ta.KEYS], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    SVC = os.path.join(TMP, "redis")
    p = subprocess.run(["bash", REDIS_SH, "start", SVC], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    REDIS = {}
    with open(os.path.join(SVC, "env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            REDIS[k] = v
    STOPS = os.path.join(SVC, "stops.log")
    ta.write_exe(os.path.join(TMP, "stop.sh"), STOP_SH % {"svc": SVC})
    ta.write_exe(os.path.join(TMP, "start.sh"), START_SH % {"svc": SVC})
    EP = {"redis_port": int(REDIS["PORT"]), "redis_password": REDIS["PASSWORD"],
          "rdb_path": os.path.join(SVC, "data", "dump.rdb"),
          "stop_command": [os.path.join(TMP, "stop.sh")],
          "start_command": os.path.join(TMP, "start.sh"),
          "start_timeout": 20}
    agent_plugins = os.path.join(TMP, "agent-plugins")
    core_plugins = os.path.join(TMP, "core-plugins")
    ta.STORE = os.path.join(TMP, "store")
    for d in (agent_plugins, core_plugins, ta.STORE):
        os.makedirs(d)
    shutil.copy2(PLUGIN, agent_plugins)
    for name in ("agent", "fs"):
        shutil.copy2(os.path.join(PLUGINS, name), core_plugins)
    ta.AGENT = ta.Agent(agent_plugins).start()
    ta.D = Daemon(plugins=core_plugins).start()
    ta.D.login()


def teardown():
    """Stop the current redis-server and the one redis.sh started, by pid."""
    pids = {int(REDIS["PID"])} if REDIS else set()
    try:
        pids.add(redis_pid())
    except (OSError, ValueError, TypeError):
        pass
    for pid in pids:
        if ta.pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 10
    for pid in pids:
        while ta.pid_alive(pid) and time.time() < deadline:
            time.sleep(0.05)
        if ta.pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------ tests
def test_validate_errors_are_400():
    cases = [("rdb_path", dict(EP, rdb_path="dump.rdb")),
             ("stop_command", dict(EP, stop_command=[])),
             ("start_command", dict(EP, start_command=["redis-server", ""])),
             ("redis_port", dict(EP, redis_port=70000)),
             ("start_timeout", dict(EP, start_timeout=0))]
    for i, (word, ep) in enumerate(cases):
        r = ta.D.request("POST", "/v1/targets", {
            "name": "bad%d" % i, "plugin": "agent",
            "endpoint": json.dumps(ta.endpoint("redis-local", ep))})
        assert r.status == 400 and word in r.body, (word, r)
        assert REDIS["PASSWORD"] not in r.body
    p = subprocess.run([PLUGIN, "info"], capture_output=True, text=True, env=ENV)
    info = json.loads(p.stdout)
    assert info["features"]["target"] == "yes", info
    assert "shield-agent" in info["help"] and "STOPS REDIS" in info["help"], info


def test_backup_and_restore_through_the_daemon():
    r = Redis()
    try:
        load_keys(r)
        want = snapshot(r)
        assert len(want) == 1000
        j, t = ta.make_job(ta.endpoint("redis-local", EP), "rl")
        task = ta.D.wait_task(ta.D.api("POST", "/v1/job/%s/run" % j)["task_uuid"])
        assert task["status"] == "done", task
        arcs = ta.D.api("GET", "/v1/archives?target=" + t)
        assert len(arcs) == 1 and arcs[0]["size"] > 1000, arcs
        # Change the data: delete, add and modify keys.
        r.pipeline([("DEL", "k:%04d" % i) for i in range(0, 1000, 7)] +
                   [("SET", "new:%d" % i, "added") for i in range(50)] +
                   [("RPUSH", "k:0002", "more"), ("PERSIST", "k:0003"),
                    ("EXPIRE", "k:0001", 5)])
    finally:
        r.close()
    pid, n_stops = redis_pid(), stops()
    rr = ta.D.api("POST", "/v1/archive/%s/restore" % arcs[0]["uuid"], {"target": t})
    rt = ta.D.wait_task(rr["task_uuid"])
    assert rt["status"] == "done", rt
    assert stops() == n_stops + 1
    assert redis_pid() != pid and pid_gone(pid)
    r = Redis()
    try:
        same_data(snapshot(r), want)
    finally:
        r.close()
    assert data_dir_entries() == ["dump.rdb"], data_dir_entries()
    log = ta.AGENT.read_log()
    assert "restore through redis-local done" in log, log[-3000:]
    assert REDIS["PASSWORD"] not in log and REDIS["PASSWORD"] not in ta.D.read_log()


def test_truncated_or_corrupt_archive_never_stops_redis():
    rc, stream, err = ta.run_plugin("backup", ta.endpoint("redis-local", EP))
    assert rc == 0 and stream.startswith(b"REDIS"), err
    r = Redis()
    try:
        r.call("SET", "marker", "current")
        pid, n_stops, h = redis_pid(), stops(), rdb_hash()
        corrupt = bytearray(stream)
        corrupt[len(corrupt) // 2] ^= 0x40
        cases = [(stream[:len(stream) // 2], "truncated"),
                 (stream[:-1], "truncated"),
                 (bytes(corrupt), "corrupt"),
                 (b"not an rdb file at all", "not an RDB file")]
        for data, word in cases:
            rc, _, err = ta.run_plugin("restore", ta.endpoint("redis-local", EP), data=data)
            assert rc != 0 and word in err, (word, rc, err)
            assert REDIS["PASSWORD"] not in err
        assert stops() == n_stops and redis_pid() == pid and ta.pid_alive(pid)
        assert r.call("GET", "marker") == b"current"
        assert rdb_hash() == h and data_dir_entries() == ["dump.rdb"], data_dir_entries()
    finally:
        r.close()


def test_interrupted_restore_never_stops_redis():
    rc, stream, err = run_direct("backup", EP)
    assert rc == 0, err
    pid, n_stops, h = redis_pid(), stops(), rdb_hash()
    p = subprocess.Popen([PLUGIN, "restore", "--endpoint", json.dumps(EP)],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=ENV)
    p.stdin.write(stream[:len(stream) // 2])
    p.stdin.flush()
    deadline = time.time() + 20
    while time.time() < deadline and len(data_dir_entries()) < 2:
        time.sleep(0.02)
    assert len(data_dir_entries()) == 2, data_dir_entries()
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=20)
    p.stdin.close()
    p.stderr.close()
    assert p.returncode != 0
    assert stops() == n_stops and redis_pid() == pid and ta.pid_alive(pid)
    assert rdb_hash() == h and data_dir_entries() == ["dump.rdb"], data_dir_entries()


def test_direct_restore_and_failed_restart_rollback():
    r = Redis()
    try:
        r.call("FLUSHALL")
        load_keys(r, 200, "d")
        want = snapshot(r)
        rc, stream, err = run_direct("backup", EP)
        assert rc == 0, err
        r.call("SET", "after", "backup")
        current = snapshot(r)
    finally:
        r.close()
    # The first start fails: the old file goes back, Redis starts with it.
    with open(os.path.join(SVC, "fail"), "w"):
        pass
    r = Redis()
    try:
        r.call("SAVE")  # the file on disk holds what is current now
    finally:
        r.close()
    rc, _, err = run_direct("restore", EP, stream)
    assert rc != 0, err
    assert "running again with the previous data" in err, err
    r = Redis()
    try:
        same_data(snapshot(r), current)
    finally:
        r.close()
    assert data_dir_entries() == ["dump.rdb"], data_dir_entries()
    # Without the failure the same stream restores.
    rc, _, err = run_direct("restore", EP, stream)
    assert rc == 0, err
    r = Redis()
    try:
        same_data(snapshot(r), want)
    finally:
        r.close()
    assert data_dir_entries() == ["dump.rdb"], data_dir_entries()


def test_backup_errors_are_one_line():
    cases = [(dict(EP, redis_password="wrong"), "authentication failed"),
             (dict(EP, redis_port=free_port()), "cannot connect"),
             (dict(EP, rdb_path=os.path.join(TMP, "missing.rdb")), "cannot read rdb_path")]
    for ep, word in cases:
        rc, out, err = run_direct("backup", ep)
        assert rc != 0 and word in err and out == b"", (word, err)
        assert len(err.strip().splitlines()) == 1, err


def main():
    tests = [
        test_validate_errors_are_400,
        test_backup_and_restore_through_the_daemon,
        test_truncated_or_corrupt_archive_never_stops_redis,
        test_interrupted_restore_never_stops_redis,
        test_direct_restore_and_failed_restart_rollback,
        test_backup_errors_are_one_line,
    ]
    ok = False
    try:
        setup()
        try:
            run(tests)
        except SystemExit as e:
            ok = e.code == 0
            raise
    finally:
        try:
            if ta.D is not None:
                ta.D.stop(check=True)
        finally:
            try:
                if ta.AGENT is not None:
                    ta.AGENT.stop(check=ok)
            finally:
                teardown()
                if ok:
                    shutil.rmtree(TMP, ignore_errors=True)
                elif TMP is not None:
                    if ta.AGENT is not None:
                        sys.stderr.write("---- agent log (tail) ----\n" +
                                         ta.AGENT.read_log()[-6000:] + "\n")
                    sys.stderr.write("---- temp dir kept: %s ----\n" % TMP)


if __name__ == "__main__":
    main()
