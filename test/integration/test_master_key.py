"""The master key: created on the first start, remembered by the catalog.

The first start makes `<db>.key` (mode 0600, even under umask 000), and
/v1/status shows its key id: the first 8 bytes, in lowercase hex, of
BLAKE2b-256 of "SHIELD key id v1" keyed with the key.  Restarts keep the
key.  A start whose key file is missing, malformed or holds another key
than the one the catalog was first used with exits non-zero with one line
naming the file, and never makes a new key.  --key-file with a fresh
catalog uses that key; a catalog from before the master key (no key id
recorded) gets one.  The key is never in a plugin's environment, its
task log or the daemon's log.
"""
import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, PLUGINS, SHIELDD, SHIELD_CLI, run  # noqa: E402
from test_plugin_env import envdump_backup, plugin_dir  # noqa: E402


@contextlib.contextmanager
def scratch():
    """A temporary directory, removed afterwards."""
    tmp = tempfile.mkdtemp(prefix="shield-key.")
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def start_under_umask(mask, tmp):
    """A Daemon started with the given umask (the test's is put back)."""
    old = os.umask(mask)
    try:
        return Daemon(tmp=tmp).start()
    finally:
        os.umask(old)


def key_id(hexkey):
    k = bytes.fromhex(hexkey.strip())
    return hashlib.blake2b(b"SHIELD key id v1", key=k, digest_size=32).hexdigest()[:16]


def read_key(path):
    with open(path) as f:
        return f.read()


def write_key(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def status_key_id(d):
    d.login()
    return d.api("GET", "/v1/status")["key_id"]


def start_fails(tmp, args=()):
    """Start shieldd on tmp's catalog, expecting a startup failure."""
    db = os.path.join(tmp, "shield.db")
    env = dict(os.environ, SHIELD_ADMIN_PASSWORD="x")
    p = subprocess.run([SHIELDD, "--listen", "127.0.0.1:1", "--db", db,
                        "--plugins", PLUGINS] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True, env=env,
                       timeout=30)
    assert p.returncode != 0, p
    errors = [l for l in p.stderr.decode().splitlines() if "[error]" in l]
    assert len(errors) == 1, p.stderr
    return errors[0]


def test_first_start_creates_key():
    with scratch() as tmp:
        with start_under_umask(0, tmp) as d:
            path = d.db + ".key"
            st = os.stat(path)
            assert st.st_mode & 0o777 == 0o600, oct(st.st_mode)
            text = read_key(path)
            assert re.fullmatch(r"[0-9a-f]{64}\n", text), repr(text)
            kid = status_key_id(d)
            assert re.fullmatch(r"[0-9a-f]{16}", kid), kid
            assert kid == key_id(text)
            assert text.strip() not in d.read_log()
            cli = subprocess.run([SHIELD_CLI, "--url", d.url, "--token", d.token,
                                  "status"], capture_output=True, timeout=30)
            assert cli.returncode == 0, cli
            assert re.search(r"key id:\s+" + kid, cli.stdout.decode()), cli.stdout
        # A restart keeps the key and its id.
        with Daemon(tmp=tmp) as d:
            assert status_key_id(d) == kid
            assert read_key(path) == text
    # A umask that takes the owner's write bit: still exactly 0600.
    with scratch() as tmp:
        with start_under_umask(0o277, tmp) as d:
            assert os.stat(d.db + ".key").st_mode & 0o777 == 0o600


def test_missing_key_refused():
    with scratch() as tmp:
        with Daemon(tmp=tmp) as d:
            path = d.db + ".key"
        os.unlink(path)
        line = start_fails(tmp)
        assert path in line and "key id" in line, line
        # No new key was made for a catalog that had one.
        assert not os.path.exists(path)
        # An unreadable key path (a directory) fails the same way.
        os.mkdir(path)
        line = start_fails(tmp)
        assert path in line, line


def test_catalog_without_key_id_gets_one():
    """A catalog from before the master key (no key id) gets a key."""
    with scratch() as tmp:
        with Daemon(tmp=tmp) as d:
            path, old = d.db + ".key", status_key_id(d)
        db = sqlite3.connect(os.path.join(tmp, "shield.db"))
        db.execute("DELETE FROM settings WHERE name = 'key_id'")
        db.commit()
        db.close()
        os.unlink(path)
        with Daemon(tmp=tmp) as d:
            kid = status_key_id(d)
            assert kid == key_id(read_key(path)) and kid != old
        with Daemon(tmp=tmp) as d:
            assert status_key_id(d) == kid


def test_other_key_refused():
    with scratch() as tmp:
        with Daemon(tmp=tmp) as d:
            kid = status_key_id(d)
        other = os.path.join(tmp, "other.key")
        write_key(other, os.urandom(32).hex() + "\n")
        line = start_fails(tmp, ["--key-file", other])
        assert other in line and kid in line, line
        # Replacing the default file with another key fails too.
        shutil.copy(other, os.path.join(tmp, "shield.db.key"))
        line = start_fails(tmp)
        assert "shield.db.key" in line and kid in line, line


def test_key_file_for_fresh_catalog():
    with scratch() as tmp:
        path = os.path.join(tmp, "my.key")
        text = os.urandom(32).hex() + "\n"
        write_key(path, text)
        # Given in a config file, as every option can be.
        conf = os.path.join(tmp, "shieldd.conf")
        with open(conf, "w") as f:
            f.write("key-file = %s\n" % path)
        with Daemon(tmp=tmp, args=["--config", conf]) as d:
            assert status_key_id(d) == key_id(text)
            assert not os.path.exists(d.db + ".key")
        with Daemon(tmp=tmp, args=["--key-file", path]) as d:
            assert status_key_id(d) == key_id(text)
        # --key-file naming no file is an error, not a new key there.
        tmp2 = tempfile.mkdtemp(prefix="shield-key.", dir=tmp)
        missing = os.path.join(tmp2, "none.key")
        line = start_fails(tmp2, ["--key-file", missing])
        assert missing in line, line
        assert not os.path.exists(missing)


def test_malformed_key_refused():
    with scratch() as tmp:
        path = os.path.join(tmp, "bad.key")
        good = os.urandom(32).hex()
        for text in (good[:62] + "\n", good + "00\n", "z" + good[1:] + "\n",
                     good + "\n\n", " " + good + "\n", ""):
            write_key(path, text)
            line = start_fails(tmp, ["--key-file", path])
            assert path in line and "not a SHIELD key file" in line, (text, line)
        # Without a newline it is still the key.
        write_key(path, good)
        with Daemon(tmp=tmp, args=["--key-file", path]) as d:
            assert status_key_id(d) == key_id(good)


def test_key_not_in_plugin_environment():
    with scratch() as tmp:
        os.makedirs(os.path.join(tmp, "store"))
        with Daemon(tmp=tmp, plugins=plugin_dir(tmp)) as d:
            key = read_key(d.db + ".key").strip()
            d.login()
            uuid, environ, cmdline = envdump_backup(d, tmp)
            assert b"PATH=" in environ
            for blob in (environ, cmdline):
                assert key.encode() not in blob
                assert bytes.fromhex(key) not in blob
            task = d.wait_task(uuid, timeout=60)
            assert task["status"] == "done", task
            full = d.api("GET", "/v1/task/%s?debug" % uuid)
            assert "envdump: env PATH=" in full["log"]
            assert key not in full["log"] and key not in full["debug"]
            assert key not in d.read_log()


if __name__ == "__main__":
    run([test_first_start_creates_key, test_missing_key_refused,
         test_catalog_without_key_id_gets_one, test_other_key_refused,
         test_key_file_for_fresh_catalog, test_malformed_key_refused,
         test_key_not_in_plugin_environment])
