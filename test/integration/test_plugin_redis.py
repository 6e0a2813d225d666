#!/usr/bin/env python3
"""The redis plugin against real redis-servers, called directly with pipes.

Two throwaway servers (test/services/redis.sh) with passwords.  Server A is
filled with 10,000 keys of every type across two databases, some with TTLs,
some with binary names and values; it is backed up, mutated and restored,
and compared key by key (type, value, expiry) with what it held at backup
time.  The same archive is restored into server B (a migration).  Wrong
passwords, wrong ports and corrupt archives must fail with a clear message
and leave the target untouched.
"""
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import services  # noqa: E402
from shieldtest import PLUGINS, run  # noqa: E402

PLUGIN = os.path.join(PLUGINS, "redis")
NKEYS = 10000
TYPES = ("string", "list", "set", "zset", "hash", "stream")
# Expiry times are compared as absolute moments; allow clock rounding.
TTL_TOLERANCE_MS = 1500

A = B = None            # the two servers' env dicts
ARCHIVE = None          # backup of A taken by test_backup
SNAP0 = None            # A's contents at backup time
TMPDIR = tempfile.mkdtemp(prefix="shield-redis-test.")


class RedisError(Exception):
    pass


class Redis:
    """A tiny binary-safe RESP2 client with pipelining."""

    def __init__(self, port, password=None, db=0):
        self.sock = socket.create_connection(("127.0.0.1", int(port)))
        self.f = self.sock.makefile("rb")
        if password:
            self.call("AUTH", password)
        if db:
            self.call("SELECT", db)

    def close(self):
        self.f.close()
        self.sock.close()

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def read(self):
        line = self.f.readline()
        if not line:
            raise RedisError("connection closed")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest
        if t == b"-":
            return RedisError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            return self.f.read(n + 2)[:-2]
        if t == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read() for _ in range(n)]
        raise RedisError("bad reply %r" % line)

    def pipeline(self, cmds, chunk=2000):
        out = []
        for i in range(0, len(cmds), chunk):
            part = cmds[i:i + chunk]
            self.sock.sendall(b"".join(self.encode(c) for c in part))
            out.extend(self.read() for _ in part)
        for r in out:
            if isinstance(r, RedisError):
                raise r
        return out

    def call(self, *args):
        return self.pipeline([args])[0]


def conn(env, db=0):
    return Redis(env["PORT"], env["PASSWORD"], db)


def endpoint(env, **over):
    ep = {"redis_host": "127.0.0.1", "redis_port": int(env["PORT"]),
          "redis_password": env["PASSWORD"]}
    ep.update(over)
    return json.dumps(ep)


def plugin(action, ep, data=None, secret=None):
    """Run the plugin; returns (rc, stdout bytes, stderr text)."""
    env = dict(os.environ, TMPDIR=TMPDIR)
    p = subprocess.run([PLUGIN, action, "--endpoint", ep], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=300)
    err = p.stderr.decode("utf-8", "replace")
    for s in filter(None, (secret, A and A["PASSWORD"], B and B["PASSWORD"])):
        assert s not in err, "a password leaked to stderr"
        assert s.encode() not in p.stdout[:4096], "a password on stdout"
    assert "runtime error" not in err and "Sanitizer" not in err, err
    return p.returncode, p.stdout, err


def no_leftovers():
    left = glob.glob(os.path.join(TMPDIR, "shield-redis.*"))
    assert not left, "temporary files left behind: %r" % left


def digest(env):
    """A hash of the whole dataset, all databases (DEBUG DIGEST)."""
    c = conn(env)
    try:
        return c.call("DEBUG", "DIGEST")
    finally:
        c.close()


def populate(env):
    """10,000 keys of all types across databases 0 and 1, some with TTLs."""
    for db in (0, 1):
        c = conn(env, db)
        cmds = []
        for i in range(db, NKEYS, 2):
            t = TYPES[i % len(TYPES)]
            k = b"k:%s:%d" % (t.encode(), i)
            if i % 97 == 0:
                k = b"bin\x00\xff\r\nkey:%d" % i
            if t == "string":
                v = (b"v%d" % i) if i % 3 else bytes(range(256)) + b"%d" % i
                cmds.append(("SET", k, v))
            elif t == "list":
                cmds.append(("RPUSH", k, "a%d" % i, b"\x00b", "c", "a%d" % i))
            elif t == "set":
                cmds.append(("SADD", k, "x%d" % i, "y", b"\xfez"))
            elif t == "zset":
                cmds.append(("ZADD", k, "1.5", "one", "-2", "two",
                             str(i), "m%d" % i))
            elif t == "hash":
                cmds.append(("HSET", k, "f1", "v%d" % i, b"f\x002", b"\x01"))
            else:
                cmds.append(("XADD", k, "%d-1" % (i + 1), "f", "v%d" % i))
                cmds.append(("XADD", k, "*", "g", b"\x00\xff"))
                if i % 5 == 0:
                    cmds.append(("XGROUP", "CREATE", k, "grp", "0"))
                    cmds.append(("XREADGROUP", "GROUP", "grp", "c1",
                                 "COUNT", "1", "STREAMS", k, ">"))
            if i % 10 == 3:
                cmds.append(("PEXPIRE", k, 600000 + i * 300))
        c.pipeline(cmds)
        c.close()


def keyspace_dbs(c):
    info = c.call("INFO", "keyspace").decode()
    return [int(line.split(":")[0][2:]) for line in info.splitlines()
            if line.startswith("db")]


def snapshot(env):
    """{db: {key: (type, value, pexpiretime)}} for every key of the server."""
    c = conn(env)
    out = {}
    for db in keyspace_dbs(c):
        c.call("SELECT", db)
        keys, cursor = set(), b"0"
        while True:
            cursor, batch = c.call("SCAN", cursor, "COUNT", 1000)
            keys.update(batch)
            if cursor == b"0":
                break
        keys = sorted(keys)
        meta = c.pipeline([cmd for k in keys
                           for cmd in (("TYPE", k), ("PEXPIRETIME", k))])
        cmds, kinds = [], []
        for j, k in enumerate(keys):
            t = meta[2 * j].decode()
            kinds.append(t)
            if t == "string":
                cmds.append(("GET", k))
            elif t == "list":
                cmds.append(("LRANGE", k, 0, -1))
            elif t == "set":
                cmds.append(("SMEMBERS", k))
            elif t == "zset":
                cmds.append(("ZRANGE", k, 0, -1, "WITHSCORES"))
            elif t == "hash":
                cmds.append(("HGETALL", k))
            elif t == "stream":
                cmds.append(("XRANGE", k, "-", "+"))
                cmds.append(("XINFO", "GROUPS", k))
                cmds.append(("XINFO", "STREAM", k))
            else:
                raise AssertionError("unexpected type %s" % t)
        vals = iter(c.pipeline(cmds))
        d = {}
        for j, k in enumerate(keys):
            t = kinds[j]
            v = next(vals)
            if t == "set":
                v = sorted(v)
            elif t == "hash":
                v = sorted(zip(v[0::2], v[1::2]))
            elif t == "stream":
                groups = next(vals)
                info = next(vals)
                info = dict(zip(info[0::2], info[1::2]))
                v = (v, groups, info[b"length"], info[b"last-generated-id"],
                     info[b"entries-added"])
            d[k] = (t, v, meta[2 * j + 1])
        out[db] = d
    c.close()
    return out


def compare(want, got):
    """Assert two snapshots hold the same keys, types, values and expiry."""
    assert sorted(want) == sorted(got), \
        "databases differ: %r vs %r" % (sorted(want), sorted(got))
    for db in want:
        w, g = want[db], got[db]
        missing = set(w) - set(g)
        extra = set(g) - set(w)
        assert not missing, "db%d: %d keys missing, e.g. %r" % (
            db, len(missing), sorted(missing)[:3])
        assert not extra, "db%d: %d unexpected keys, e.g. %r" % (
            db, len(extra), sorted(extra)[:3])
        for k in w:
            wt, wv, we = w[k]
            gt, gv, ge = g[k]
            assert wt == gt, "db%d %r: type %s, wanted %s" % (db, k, gt, wt)
            assert wv == gv, "db%d %r: value differs:\n%r\n%r" % (
                db, k, gv, wv)
            if we < 0:
                assert ge == we, "db%d %r: expiry %d, wanted none" % (
                    db, k, ge)
            else:
                assert ge > 0 and abs(ge - we) <= TTL_TOLERANCE_MS, \
                    "db%d %r: expires at %d, wanted %d" % (db, k, ge, we)


def count_keys(snap):
    return sum(len(d) for d in snap.values())


# ---- tests ----

def test_info_and_validate():
    p = subprocess.run([PLUGIN, "info"], stdout=subprocess.PIPE, check=True)
    info = json.loads(p.stdout)
    assert info["features"]["target"] == "yes"
    assert "FLUSHALL" in info["help"] and "REPLACES" in info["help"]
    names = {f["name"]: f for f in info["fields"]}
    for n in ("redis_host", "redis_port", "redis_password"):
        assert n in names, n
    assert names["redis_password"]["type"] == "password"
    assert names["redis_port"]["default"] == "6379"
    rc, _, err = plugin("validate", endpoint(A))
    assert rc == 0, err
    rc, _, err = plugin("validate", json.dumps({"redis_port": 70000}))
    assert rc != 0 and "redis_port" in err, err
    rc, _, err = plugin("validate", json.dumps({"redis_host": "a b"}))
    assert rc != 0 and "redis_host" in err, err
    rc, _, err = plugin("validate", json.dumps({"redis_host": ""}))
    assert rc != 0 and "redis_host" in err, err


def test_backup():
    global ARCHIVE, SNAP0
    populate(A)
    SNAP0 = snapshot(A)
    assert count_keys(SNAP0) == NKEYS, count_keys(SNAP0)
    assert sorted(SNAP0) == [0, 1]
    ttls = sum(1 for d in SNAP0.values() for v in d.values() if v[2] > 0)
    assert ttls >= 900, ttls
    rc, out, err = plugin("backup", endpoint(A))
    assert rc == 0, err
    assert out[:5] == b"REDIS", out[:16]
    ARCHIVE = out
    no_leftovers()


def test_restore_after_changes():
    c0, c1, c7 = conn(A, 0), conn(A, 1), conn(A, 7)
    keys0 = sorted(SNAP0[0])
    keys1 = sorted(SNAP0[1])
    # Delete some, change some (values and expiry), add others.
    c0.pipeline([("DEL", k) for k in keys0[::20]])
    c1.pipeline([("DEL", k) for k in keys1[::20]])
    changes = []
    for k in keys0[1::20]:
        t = SNAP0[0][k][0]
        changes.append({
            "string": ("SET", k, "changed"),
            "list": ("RPUSH", k, "more"),
            "set": ("SADD", k, "more"),
            "zset": ("ZADD", k, "9", "more"),
            "hash": ("HSET", k, "more", "1"),
            "stream": ("XADD", k, "*", "more", "1"),
        }[t])
    c0.pipeline(changes)
    c0.pipeline([("PERSIST", k) for k in keys0
                 if SNAP0[0][k][2] > 0][:50])
    c1.pipeline([("EXPIRE", k, 5) for k in keys1
                 if SNAP0[1][k][2] < 0][:50])
    c0.pipeline([("SET", "extra:%d" % i, i) for i in range(300)])
    c7.pipeline([("RPUSH", "extra:list:%d" % i, i) for i in range(100)])
    for c in (c0, c1, c7):
        c.close()
    rc, _, err = plugin("restore", endpoint(A), ARCHIVE)
    assert rc == 0, err
    assert "restored %d keys" % NKEYS in err, err
    compare(SNAP0, snapshot(A))
    no_leftovers()


def test_restore_is_repeatable():
    rc, _, err = plugin("restore", endpoint(A), ARCHIVE)
    assert rc == 0, err
    compare(SNAP0, snapshot(A))


def test_migration_to_second_server():
    c = conn(B, 3)
    c.pipeline([("SET", "junk:%d" % i, i) for i in range(50)])
    c.close()
    rc, _, err = plugin("restore", endpoint(B), ARCHIVE)
    assert rc == 0, err
    compare(SNAP0, snapshot(B))


def test_wrong_password():
    before = digest(A)
    rc, out, err = plugin("restore", endpoint(A, redis_password="nope"),
                          ARCHIVE, secret="nope")
    assert rc != 0
    assert "authentication failed" in err, err
    rc, out, err = plugin("backup", endpoint(A, redis_password="nope"),
                          secret="nope")
    assert rc != 0 and out == b"", (rc, len(out))
    assert "authentication failed" in err, err
    rc, out, err = plugin("backup", endpoint(A, redis_password=None))
    assert rc != 0 and "password" in err, err
    assert digest(A) == before
    no_leftovers()


def test_wrong_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    before = digest(A)
    for action, data in (("backup", None), ("restore", ARCHIVE)):
        rc, out, err = plugin(action, endpoint(A, redis_port=port), data)
        assert rc != 0, action
        assert "cannot connect" in err and "refused" in err, err
        assert len(err.strip().splitlines()) == 1, err
    assert digest(A) == before


def test_corrupt_archive():
    before = digest(A)
    flipped = bytearray(ARCHIVE)
    flipped[len(flipped) // 2] ^= 0x55
    bad = {
        "empty": b"",
        "garbage": b"this is not redis data\n" * 100,
        "truncated": ARCHIVE[:len(ARCHIVE) // 2],
        "bit flip": bytes(flipped),
    }
    for name, data in bad.items():
        rc, _, err = plugin("restore", endpoint(A), data)
        assert rc != 0, name
        assert "nothing was changed" in err, (name, err)
        assert digest(A) == before, name
    no_leftovers()


def test_expired_keys_are_not_restored():
    c = conn(B, 0)
    c.call("FLUSHALL")
    c.call("SET", "short", "x", "PX", 1000)
    c.call("SET", "long", "y", "EX", 3600)
    c.call("SET", "forever", "z")
    c.close()
    rc, out, err = plugin("backup", endpoint(B))
    assert rc == 0, err
    time.sleep(1.3)
    rc, _, err = plugin("restore", endpoint(B), out)
    assert rc == 0, err
    c = conn(B, 0)
    try:
        assert c.call("EXISTS", "short") == 0
        assert c.call("GET", "long") == b"y"
        ttl = c.call("PTTL", "long")
        assert 3590000 < ttl <= 3600000, ttl
        assert c.call("TTL", "forever") == -1
    finally:
        c.close()


def test_acl_username():
    # redis_username selects an ACL user (AUTH user pass, redis-cli --user).
    c = conn(B)
    c.call("ACL", "SETUSER", "backup", "on", ">s3cret-acl", "~*", "&*",
           "+@all")
    c.call("SET", "acl-check", "1")
    c.close()
    ep = endpoint(B, redis_username="backup", redis_password="s3cret-acl")
    rc, out, err = plugin("backup", ep, secret="s3cret-acl")
    assert rc == 0, err
    rc, _, err = plugin("restore", ep, out, secret="s3cret-acl")
    assert rc == 0, err
    c = conn(B)
    try:
        assert c.call("GET", "acl-check") == b"1"
    finally:
        c.close()
    rc, _, err = plugin("backup", endpoint(B, redis_username="backup",
                                           redis_password="wrong"),
                        secret="wrong")
    assert rc != 0 and "authentication failed" in err, err


def main():
    global A, B
    with services.running("redis") as a, services.running("redis") as b:
        A, B = a, b
        try:
            run([test_info_and_validate, test_backup,
                 test_restore_after_changes, test_restore_is_repeatable,
                 test_migration_to_second_server, test_wrong_password,
                 test_wrong_port, test_corrupt_archive,
                 test_expired_keys_are_not_restored,
                 test_acl_username])
        finally:
            shutil.rmtree(TMPDIR, ignore_errors=True)


if __name__ == "__main__":
    main()
