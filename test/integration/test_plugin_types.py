#!/usr/bin/env python3
"""Endpoint value types in every shipped C plugin (the plugin kit's field
checks and accessors): a number or a boolean is accepted wherever its string
form is ("part_size": 5242880, "use_ssl": 0, "pg_port": 5432, ...), a value
that is neither is still refused with the field's name, and the kit takes
"--key=KEY" and "--endpoint=JSON" as well as the protocol's spaced forms.
Runs the executables from $SHIELD_PLUGINS; no server is needed (validate
does not connect, or connects to a closed local port and says so).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import PLUGINS, SANITIZER_MARKS, run  # noqa: E402

ENV = dict(os.environ)
ENV.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
TMP = tempfile.mkdtemp(prefix="shield-types-test.")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def plugin(name, *args, data=b""):
    p = subprocess.run([os.path.join(PLUGINS, name)] + list(args),
                       input=data, capture_output=True, env=ENV, timeout=60)
    err = p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in err, "sanitizer report:\n" + err
    return p.returncode, p.stdout, err


def validate(name, ep):
    return plugin(name, "validate", "--endpoint", json.dumps(ep))


def s3_ep(**over):
    ep = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "s3cr3t-v4lue",
          "bucket": "shield-test", "s3_host": "127.0.0.1",
          "s3_port": closed_port(), "use_ssl": False, "path_style": True,
          "part_size": "5M"}
    ep.update(over)
    return ep


def type_errors(err):
    """The kit's "X must be a TYPE" lines in a plugin's stderr."""
    return [l for l in err.splitlines() if " must be a" in l]


def test_s3_numbers_and_booleans():
    # What users write: part_size in bytes, use_ssl/path_style as JSON
    # booleans or 0/1, the port as a number.
    for over in ({"part_size": 5242880}, {"part_size": 16777216.0},
                 {"use_ssl": 0}, {"use_ssl": "0"}, {"use_ssl": "off"},
                 {"path_style": 1}, {"path_style": "1"},
                 {"path_style": "TRUE"}, {"skip_ssl_validation": 1},
                 {"skip_ssl_validation": "no"}, {"s3_port": 9},
                 {"s3_port": str(closed_port())}):
        rc, _, err = validate("s3", s3_ep(**over))
        assert type_errors(err) == [], (over, err)
        # The port is closed: validate says so and accepts the settings.
        assert rc == 0 and "the settings themselves are valid" in err, (over, err)
        assert "s3cr3t-v4lue" not in err
    # The number is read as the size it is: 1 MiB is below S3's minimum.
    rc, _, err = validate("s3", s3_ep(part_size=1048576))
    assert rc != 0 and "part_size must be at least 5M" in err, err
    rc, _, err = validate("s3", s3_ep(part_size=1.5))
    assert rc != 0 and "part_size must be a size" in err, err
    for over, field in (({"use_ssl": 2}, "use_ssl"),
                        ({"path_style": "maybe"}, "path_style"),
                        ({"skip_ssl_validation": []}, "skip_ssl_validation"),
                        ({"s3_port": 70000}, "s3_port"),
                        ({"s3_port": 80.5}, "s3_port"),
                        ({"s3_port": " 80"}, "s3_port"),
                        ({"part_size": True}, "part_size")):
        rc, _, err = validate("s3", s3_ep(**over))
        assert rc != 0 and field + " must be a" in err, (over, err)


def test_database_plugins_ports_and_names():
    cases = [
        ("postgres", {"pg_host": "127.0.0.1", "pg_user": "postgres"},
         "pg_port", "pg_database"),
        ("mysql", {"mysql_host": "127.0.0.1", "mysql_user": "root"},
         "mysql_port", "mysql_database"),
        ("redis", {"redis_host": "127.0.0.1"}, "redis_port", None),
    ]
    for name, base, port, db in cases:
        for value in (5432, "5432", 5432.0):
            ep = dict(base, **{port: value})
            if db is not None:
                ep[db] = 2024           # a database named by digits
            rc, _, err = validate(name, ep)
            assert rc == 0 and type_errors(err) == [], (name, ep, err)
        for value in (0, 65536, "12ab", 1.25, True, "+80"):
            rc, _, err = validate(name, dict(base, **{port: value}))
            assert rc != 0 and port + " must be a port" in err, (name, value, err)


def test_redis_local_and_rabbitmq_and_agent():
    base = {"rdb_path": "/var/lib/redis/dump.rdb",
            "stop_command": ["systemctl", "stop", "redis"],
            "start_command": ["systemctl", "start", "redis"]}
    for over in ({"redis_port": 6380}, {"start_timeout": 30},
                 {"start_timeout": "30"}):
        rc, _, err = validate("redis-local", dict(base, **over))
        assert rc == 0 and type_errors(err) == [], (over, err)
    rc, _, err = validate("redis-local", dict(base, start_timeout=0))
    assert rc != 0 and "start_timeout must be at least 1 second" in err, err
    rc, _, err = validate("redis-local", dict(base, start_timeout="soon"))
    assert rc != 0 and "start_timeout must be a int" in err, err

    rmq = {"rmq_url": "http://127.0.0.1:15672", "rmq_username": "u",
           "rmq_password": "p"}
    for value in (True, False, 1, 0, "true", "yes", "1", "off"):
        rc, _, err = validate("rabbitmq", dict(rmq, skip_ssl_validation=value))
        assert rc == 0 and type_errors(err) == [], (value, err)
    rc, _, err = validate("rabbitmq", dict(rmq, skip_ssl_validation=3))
    assert rc != 0 and "skip_ssl_validation must be a bool" in err, err

    pem = os.path.join(TMP, "x.pem")
    with open(pem, "w") as f:
        f.write("not a certificate\n")
    agent = {"agent_address": "127.0.0.1:%d" % closed_port(), "agent_ca": pem,
             "client_cert": pem, "client_key": pem, "remote_plugin": "fs",
             "remote_endpoint": {"base_dir": "/srv"}}
    for value in (5, "5"):
        rc, _, err = validate("agent", dict(agent, timeout=value))
        assert type_errors(err) == [], (value, err)
    rc, _, err = validate("agent", dict(agent, timeout="5s"))
    assert rc != 0 and "timeout must be a int" in err, err


def test_key_and_endpoint_with_equals():
    store = os.path.join(TMP, "store")
    os.makedirs(store)
    ep = json.dumps({"base_dir": store})
    rc, out, err = plugin("fs", "store", "--endpoint=" + ep, data=b"payload")
    assert rc == 0, err
    key = json.loads(out)["key"]
    rc, out, err = plugin("fs", "retrieve", "--endpoint", ep, "--key=" + key)
    assert rc == 0 and out == b"payload", err
    rc, out, err = plugin("fs", "retrieve", "--key=" + key, "--endpoint=" + ep)
    assert rc == 0 and out == b"payload", err
    # A value after --key is the key whatever it looks like: "--endpoint"
    # here is a key (the fs store refuses it as one), not an option.
    rc, out, err = plugin("fs", "retrieve", "--endpoint", ep, "--key",
                          "--endpoint")
    assert rc != 0 and out == b"" and "unexpected argument" not in err, err
    rc, out, err = plugin("fs", "purge", "--endpoint", ep, "--key=" + key)
    assert rc == 0, err
    assert plugin("fs", "retrieve", "--endpoint", ep, "--key", key)[0] != 0
    # An argument the kit does not know is refused without being echoed.
    rc, _, err = plugin("fs", "validate", "--endpoint", ep,
                        '{"password": "hunter2"}', "--secret=hunter2")
    assert rc == 2 and "unexpected argument 4" in err and "hunter2" not in err, err
    rc, _, err = plugin("fs", "validate", "--endpoint", ep, "--secret=hunter2")
    assert rc == 2 and "unexpected argument '--secret'" in err, err
    assert "hunter2" not in err, err
    # The agent's own pre-pass of its endpoint takes both forms too.
    agent = json.dumps({"agent_address": "127.0.0.1:%d" % closed_port(),
                        "agent_ca": "/nonexistent", "client_cert": "/nonexistent",
                        "client_key": "/nonexistent", "remote_plugin": "fs",
                        "remote_endpoint": {"base_dir": "/srv"}})
    for args in (["--endpoint", agent], ["--endpoint=" + agent]):
        rc, _, err = plugin("agent", "validate", *args)
        assert rc != 0 and "remote_endpoint must be" not in err, err
        assert "cannot read /nonexistent" in err, err


def main():
    try:
        run([test_s3_numbers_and_booleans, test_database_plugins_ports_and_names,
             test_redis_local_and_rabbitmq_and_agent,
             test_key_and_endpoint_with_equals])
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
