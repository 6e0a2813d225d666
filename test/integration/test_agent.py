"""shield-agent and the agent plugin against the real binaries: backups and
restores through an agent driven by the real shieldd, mutual TLS (wrong or
missing client certificates are refused before anything runs), plugin name
checks, request limits, an agent killed mid-backup, a task canceled from the
core, restores whose stream is cut (never committed), and, where `ip netns`
works, an agent in its own network namespace.  Python standard library only.
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import (BUILD, PLUGINS, SANITIZER_MARKS, SRC, Daemon,  # noqa: E402
                        free_port, run)

AGENT_BIN = os.path.join(BUILD, "core", "agent", "shield-agent")
KEYS_SH = os.path.join(SRC, "contrib", "shield-agent-keys.sh")
CONF_EXAMPLE = os.path.join(SRC, "contrib", "shield-agent.conf.example")
ENV = dict(os.environ)
ENV.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")

TMP = None
KEYS = None          # CA, agent and core certificates
OTHER = None         # a second CA with its own core certificate
AGENT = None
D = None

MARKER_SH = r"""#!/bin/sh
# marker: a test plugin; every action but info touches the file named by
# the endpoint's "marker" key, so a test can tell whether it ran at all.
action=${1:-}
endpoint='{}'
while [ $# -gt 1 ]; do
	case $1 in --endpoint) endpoint=$2; shift ;; esac
	shift
done
if [ "$action" = info ]; then
	echo '{"name": "Marker", "author": "SHIELD tests", "version": "0.0.1",
 "features": {"target": "yes", "store": "no", "validate": "yes"}}'
	exit 0
fi
f=$(printf '%s' "$endpoint" | sed -n 's/.*"marker"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
[ -n "$f" ] && touch "$f"
exit 0
"""

PIDSLOW_SH = r"""#!/bin/sh
# pidslow: a test plugin; backup writes its pid to the endpoint's "pidfile"
# and then 1 KiB every 0.1 s for a minute, so a test can cancel it and see
# whether the process is gone.
action=${1:-}
endpoint='{}'
while [ $# -gt 1 ]; do
	case $1 in --endpoint) endpoint=$2; shift ;; esac
	shift
done
case $action in
info)
	echo '{"name": "Pidslow", "author": "SHIELD tests", "version": "0.0.1",
 "features": {"target": "yes", "store": "no", "validate": "no"}}' ;;
backup)
	pf=$(printf '%s' "$endpoint" | sed -n 's/.*"pidfile"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
	echo $$ > "$pf.tmp" && mv "$pf.tmp" "$pf"
	n=600
	while [ $n -gt 0 ]; do
		head -c 1024 /dev/zero || exit 1
		sleep 0.1
		n=$((n - 1))
	done ;;
restore)
	cat >/dev/null ;;
esac
exit 0
"""

LEAKY_SH = r"""#!/bin/sh
# leaky: a careless test plugin that prints its endpoint's secrets on
# stderr: db_password (secret by its name) and vault_code (secret only
# because its field is declared a password).  validate fails with
# "fail": "yes".
action=${1:-}
endpoint='{}'
while [ $# -gt 1 ]; do
	case $1 in --endpoint) endpoint=$2; shift ;; esac
	shift
done
get() {
	printf '%s' "$endpoint" |
	    sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"
}
case $action in
info)
	echo '{"name": "Leaky", "author": "SHIELD tests", "version": "0.0.1",
 "features": {"target": "yes", "store": "no", "validate": "yes"},
 "fields": [{"name": "db_password", "type": "password", "required": false},
  {"name": "vault_code", "type": "password", "required": false},
  {"name": "fail", "type": "string", "required": false}]}' ;;
backup)
	echo "leaky: connecting with pw=$(get db_password) code=$(get vault_code)" >&2
	echo "leaky data" ;;
validate)
	echo "leaky: checking pw=$(get db_password) code=$(get vault_code)" >&2
	[ "$(get fail)" = yes ] && exit 1 ;;
restore)
	cat >/dev/null ;;
esac
exit 0
"""

# On the core's side: a target plugin that prints its whole endpoint.
ECHOER_SH = r"""#!/bin/sh
# echoer: a careless test plugin that prints its whole endpoint on stderr.
action=${1:-}
endpoint='{}'
while [ $# -gt 1 ]; do
	case $1 in --endpoint) endpoint=$2; shift ;; esac
	shift
done
case $action in
info)
	echo '{"name": "Echoer", "author": "SHIELD tests", "version": "0.0.1",
 "features": {"target": "yes", "store": "no", "validate": "no"}}' ;;
backup)
	printf 'echoer: endpoint %s\n' "$endpoint" >&2
	echo "echoer data" ;;
esac
exit 0
"""


def write_exe(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


class Agent:
    """A running shield-agent on 127.0.0.1 (or in a network namespace)."""

    def __init__(self, plugins, port=None, args=None, netns=None, host="127.0.0.1",
                 cert="agent"):
        self.port = port or free_port()
        self.host = host
        self.plugins = plugins
        self.args = args or []
        self.netns = netns
        self.cert = cert
        self.log_path = os.path.join(TMP, "agent-%d.log" % self.port)
        self.proc = None

    def argv(self):
        a = [AGENT_BIN, "--listen", "%s:%d" % (self.host, self.port),
             "--plugins", self.plugins,
             "--cert", os.path.join(KEYS, self.cert + ".crt"),
             "--key", os.path.join(KEYS, self.cert + ".key"),
             "--ca", os.path.join(KEYS, "ca.crt"),
             "--log-level", "debug"] + self.args
        if self.netns:
            a = ["ip", "netns", "exec", self.netns] + a
        return a

    def start(self):
        self.log = open(self.log_path, "ab")
        offset = len(self.read_log())
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, env=ENV)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("shield-agent exited %s:\n%s" %
                                     (self.proc.returncode, self.read_log()))
            if "listening on" in self.read_log()[offset:]:
                return self
            time.sleep(0.05)
        raise AssertionError("shield-agent did not start:\n" + self.read_log())

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, text, timeout=20, since=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.read_log()[since:]:
                return
            time.sleep(0.05)
        raise AssertionError("%r not in the agent log:\n%s" % (text, self.read_log()[-4000:]))

    def stop(self, check=True):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("shield-agent did not stop on SIGTERM")
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        if check:
            log = self.read_log()
            for mark in SANITIZER_MARKS:
                assert mark not in log, "sanitizer report in the agent log:\n" + log[-6000:]
            assert rc == 0, "shield-agent exited %s:\n%s" % (rc, log[-3000:])
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.log.close()


# ------------------------------------------------------------ helpers
def tree(path):
    """Every entry under path: relative name -> (type, mode, content hash)."""
    out = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(root, name)
            st = os.lstat(full)
            rel = os.path.relpath(full, path)
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    h = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                h = os.readlink(full)
            else:
                h = None
            out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), h)
    return out


def make_tree(path):
    os.makedirs(os.path.join(path, "sub", "deeper"))
    with open(os.path.join(path, "hello.txt"), "w") as f:
        f.write("hello through the agent\n")
    with open(os.path.join(path, "sub", "random.bin"), "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 17))
    with open(os.path.join(path, "sub", "deeper", "empty"), "wb"):
        pass
    os.chmod(os.path.join(path, "hello.txt"), 0o640)
    os.symlink("../hello.txt", os.path.join(path, "sub", "link"))


def endpoint(remote_plugin, remote_endpoint, agent=None, cert="core", keys=None,
             ca_keys=None, address=None):
    keys = keys or KEYS
    ca_keys = ca_keys or KEYS
    agent = agent or AGENT
    return {
        "agent_address": address or "%s:%d" % (agent.host, agent.port),
        "agent_ca": os.path.join(ca_keys, "ca.crt"),
        "client_cert": os.path.join(keys, cert + ".crt"),
        "client_key": os.path.join(keys, cert + ".key"),
        "remote_plugin": remote_plugin,
        "remote_endpoint": remote_endpoint,
    }


def run_plugin(action, ep, data=b"", netns=None, timeout=120):
    argv = [os.path.join(PLUGINS, "agent"), action, "--endpoint", json.dumps(ep)]
    if netns:
        argv = ["ip", "netns", "exec", netns] + argv
    p = subprocess.run(argv, input=data, capture_output=True, env=ENV, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in err, "sanitizer report from the agent plugin:\n" + err
    return p.returncode, p.stdout, err


def tls_context(keys=None, cert="core", ca_keys=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(ca_keys or KEYS, "ca.crt"))
    if cert is not None:
        ctx.load_cert_chain(os.path.join(keys or KEYS, cert + ".crt"),
                            os.path.join(keys or KEYS, cert + ".key"))
    return ctx


def frame(kind, payload=b""):
    return kind + struct.pack(">I", len(payload)) + payload


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_frames(s):
    """Frames until the exit frame or the end of the connection."""
    frames = []
    try:
        while True:
            head = recv_exact(s, 5)
            if head is None:
                break
            kind, n = head[:1], struct.unpack(">I", head[1:])[0]
            payload = recv_exact(s, n) if n else b""
            frames.append((kind, payload))
            if kind == b"X":
                break
    except (ssl.SSLError, OSError) as e:
        frames.append((b"!", str(e).encode()))
    return frames


def raw_open(header, ctx=None):
    sock = socket.create_connection(("127.0.0.1", AGENT.port), timeout=30)
    s = (ctx or tls_context()).wrap_socket(sock, server_hostname="127.0.0.1")
    s.sendall(json.dumps(header).encode() + b"\n")
    return s


def raw_request(header, ctx=None):
    try:
        s = raw_open(header, ctx)
    except (ssl.SSLError, OSError) as e:
        return [(b"!", str(e).encode())]
    try:
        return read_frames(s)
    finally:
        s.close()


def exit_of(frames):
    assert frames and frames[-1][0] == b"X", frames
    return json.loads(frames[-1][1])


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def make_job(target_ep, name, plugin="agent"):
    t = D.create("targets", {"name": name + "-t", "plugin": plugin,
                             "endpoint": json.dumps(target_ep)})
    s = D.create("stores", {"name": name + "-s", "plugin": "fs",
                            "endpoint": json.dumps({"base_dir": STORE})})
    sc = D.create("schedules", {"name": name + "-sc", "when": "daily at 4am"})
    r = D.create("retention", {"name": name + "-r", "expires": 86400})
    j = D.create("jobs", {"name": name + "-job", "target": t, "store": s, "schedule": sc,
                          "retention": r, "paused": True})
    return j, t


def wait_running(uuid, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        t = D.api("GET", "/v1/task/" + uuid)
        if t["status"] == "running":
            return t
        assert t["status"] == "pending", t
        time.sleep(0.05)
    raise AssertionError("task %s never ran" % uuid)


# ------------------------------------------------------------ setup
def setup():
    global TMP, KEYS, OTHER, AGENT, D, AGENT_PLUGINS, CORE_PLUGINS, STORE
    TMP = tempfile.mkdtemp(prefix="shield-agent-test.")
    KEYS = os.path.join(TMP, "keys")
    OTHER = os.path.join(TMP, "other-ca")
    for d in (KEYS, OTHER):
        p = subprocess.run(["sh", KEYS_SH, d, "10.213.77.2"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
    AGENT_PLUGINS = os.path.join(TMP, "agent-plugins")
    CORE_PLUGINS = os.path.join(TMP, "core-plugins")
    STORE = os.path.join(TMP, "store")
    for d in (AGENT_PLUGINS, CORE_PLUGINS, STORE):
        os.makedirs(d)
    shutil.copy2(os.path.join(PLUGINS, "fs"), AGENT_PLUGINS)
    shutil.copy2(os.path.join(SRC, "test", "plugins", "slow"), AGENT_PLUGINS)
    write_exe(os.path.join(AGENT_PLUGINS, "marker"), MARKER_SH)
    write_exe(os.path.join(AGENT_PLUGINS, "pidslow"), PIDSLOW_SH)
    write_exe(os.path.join(AGENT_PLUGINS, "leaky"), LEAKY_SH)
    for name in ("agent", "fs"):
        shutil.copy2(os.path.join(PLUGINS, name), CORE_PLUGINS)
    write_exe(os.path.join(CORE_PLUGINS, "echoer"), ECHOER_SH)
    AGENT = Agent(AGENT_PLUGINS, args=["--max-requests", "2"]).start()
    D = Daemon(plugins=CORE_PLUGINS).start()
    D.login()


# ------------------------------------------------------------ tests
def test_help_config_and_startup_errors():
    p = subprocess.run([AGENT_BIN, "--help"], capture_output=True, text=True, env=ENV)
    assert p.returncode == 0
    for word in ("SYNOPSIS", "--listen", "--plugins", "--max-requests", "--cert", "--ca",
                 "--authorized-client", "PROTOCOL", "SIGNALS"):
        assert word in p.stdout, word
    p = subprocess.run([AGENT_BIN, "--listen", "127.0.0.1:1"], capture_output=True,
                       text=True, env=ENV)
    assert p.returncode != 0 and "cert, key and ca are required" in p.stderr, p.stderr
    # The example config parses; only its (absent) files are a problem.
    p = subprocess.run([AGENT_BIN, "--config", CONF_EXAMPLE, "--plugins", AGENT_PLUGINS],
                       capture_output=True, text=True, env=ENV)
    assert p.returncode == 1 and "cannot load the certificate" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    bad = os.path.join(TMP, "bad.conf")
    with open(bad, "w") as f:
        f.write("listen = 127.0.0.1:1\nmax-requests = lots\n")
    p = subprocess.run([AGENT_BIN, "--config", bad], capture_output=True, text=True, env=ENV)
    assert p.returncode == 1 and "max-requests must be a number" in p.stderr, p.stderr
    # A port in use is one clear line.
    p = subprocess.run(Agent(AGENT_PLUGINS, port=AGENT.port).argv(), capture_output=True,
                       text=True, env=ENV, timeout=30)
    assert p.returncode == 1 and "cannot listen on" in p.stderr, p.stderr


def test_backup_and_restore_through_the_daemon():
    src = os.path.join(TMP, "src")
    make_tree(src)
    j, t = make_job(endpoint("fs", {"base_dir": src}), "fs")
    task = D.wait_task(D.api("POST", "/v1/job/%s/run" % j)["task_uuid"])
    assert task["status"] == "done", task
    arcs = D.api("GET", "/v1/archives?target=" + t)
    assert len(arcs) == 1 and arcs[0]["size"] > 3 * 1024 * 1024, arcs
    AGENT.wait_log("backup through fs done")
    # Restore into another directory on the agent's side, given as a
    # string holding the object this time.
    dst = os.path.join(TMP, "dst")
    os.makedirs(dst)
    with open(os.path.join(dst, "old.txt"), "w") as f:
        f.write("replaced by the restore")
    ep = endpoint("fs", json.dumps({"base_dir": dst}))
    t2 = D.create("targets", {"name": "fs-t2", "plugin": "agent", "endpoint": json.dumps(ep)})
    rr = D.api("POST", "/v1/archive/%s/restore" % arcs[0]["uuid"], {"target": t2})
    rt = D.wait_task(rr["task_uuid"])
    assert rt["status"] == "done", rt
    assert tree(dst) == tree(src), (sorted(tree(dst)), sorted(tree(src)))
    AGENT.wait_log("restore through fs done")
    # The secret-bearing remote endpoint never reaches a log.
    assert src not in AGENT.read_log()


def test_remote_failures_reach_the_task_log():
    missing = os.path.join(TMP, "does-not-exist")
    # validate runs on the agent, so a bad remote endpoint is a 400.
    r = D.request("POST", "/v1/targets", {
        "name": "rel", "plugin": "agent",
        "endpoint": json.dumps(endpoint("fs", {"base_dir": "relative"}))})
    assert r.status == 400 and "base_dir" in r.body, r
    os.makedirs(missing)
    j, t = make_job(endpoint("fs", {"base_dir": missing}), "fsfail")
    os.rmdir(missing)
    task = D.wait_task(D.api("POST", "/v1/job/%s/run" % j)["task_uuid"])
    assert task["status"] == "failed", task
    assert "fs: " in task["log"] and missing in task["log"], task["log"]
    assert "exit status" in task["log"], task["log"]
    assert D.api("GET", "/v1/archives?target=" + t) == []


def test_wrong_or_missing_client_certificate_is_refused():
    marker = os.path.join(TMP, "marker-cert")
    before = AGENT.read_log()
    # A core certificate from another CA.
    rc, out, err = run_plugin("backup", endpoint("marker", {"marker": marker}, keys=OTHER))
    assert rc != 0 and out == b"", err
    assert "refused our client certificate" in err or "without answering" in err, err
    # Through the API: creating such a target fails validation.
    r = D.request("POST", "/v1/targets", {
        "name": "bad-cert", "plugin": "agent",
        "endpoint": json.dumps(endpoint("marker", {"marker": marker}, keys=OTHER))})
    assert r.status == 400, r
    # No client certificate at all.
    frames = raw_request({"version": 1, "action": "backup", "plugin": "marker",
                          "endpoint": {"marker": marker}}, ctx=tls_context(cert=None))
    assert not [f for f in frames if f[0] in (b"D", b"L", b"X")], frames
    # An agent certificate is not a client certificate.
    rc, _, err = run_plugin("backup", endpoint("marker", {"marker": marker}, cert="agent"))
    assert rc != 0, err
    # We do not trust an agent signed by another CA either.
    rc, _, err = run_plugin("backup", endpoint("marker", {"marker": marker}, ca_keys=OTHER))
    assert rc != 0 and "not trusted" in err and "agent_ca" in err, err
    time.sleep(0.5)
    log = AGENT.read_log()[len(before):]
    assert "client certificate rejected" in log, log
    assert "peer did not return a certificate" in log, log
    assert "unsuitable certificate purpose" in log, log
    assert "started" not in log, log
    assert not os.path.exists(marker), "a refused caller ran a plugin"


def fingerprint(cert):
    p = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"],
                       capture_output=True, text=True, check=True)
    return p.stdout.strip().split("=", 1)[1]


def test_authorized_client_fingerprints():
    marker = os.path.join(TMP, "marker-fp")
    core_fp = fingerprint(os.path.join(KEYS, "core.crt"))
    other_fp = fingerprint(os.path.join(OTHER, "core.crt")).replace(":", "").lower()
    # Pinned to another certificate: ours is refused although the CA signed it.
    a = Agent(AGENT_PLUGINS, args=["--authorized-client", other_fp]).start()
    try:
        rc, _, err = run_plugin("backup", endpoint("marker", {"marker": marker}, agent=a))
        assert rc != 0, err
        time.sleep(0.3)
        assert "is not an authorized client" in a.read_log(), a.read_log()
        assert "backup through" not in a.read_log()
        assert not os.path.exists(marker)
    finally:
        a.stop()
    # Pinned to ours (in openssl's colon form, among others): it runs.
    a = Agent(AGENT_PLUGINS, args=["--authorized-client", "%s,%s" % (other_fp, core_fp)]).start()
    try:
        rc, _, err = run_plugin("backup", endpoint("marker", {"marker": marker}, agent=a))
        assert rc == 0, err
        assert os.path.exists(marker)
    finally:
        a.stop()
    p = subprocess.run(Agent(AGENT_PLUGINS, args=["--authorized-client", "abc"]).argv(),
                       capture_output=True, text=True, env=ENV, timeout=30)
    assert p.returncode == 1 and "SHA-256 fingerprint" in p.stderr, p.stderr


def test_plugin_names_with_slash_or_dotdot_are_refused():
    marker = os.path.join(TMP, "marker-name")
    before = AGENT.read_log()
    for name in ("../marker", "a/marker", "..", "/bin/sh", ".marker", "marker/"):
        x = exit_of(raw_request({"version": 1, "action": "backup", "plugin": name,
                                 "endpoint": {"marker": marker}}))
        assert x["exit"] != 0 and "not a valid plugin name" in x["error"], x
    rc, _, err = run_plugin("backup", endpoint("../marker", {"marker": marker}))
    assert rc != 0 and "not a valid plugin name" in err, err
    r = D.request("POST", "/v1/targets", {"name": "bad-name", "plugin": "agent",
                                          "endpoint": json.dumps(endpoint("../marker", {}))})
    assert r.status == 400 and "remote_plugin" in r.body, r
    x = exit_of(raw_request({"version": 1, "action": "backup", "plugin": "nosuch",
                             "endpoint": {}}))
    assert "no plugin named 'nosuch'" in x["error"], x
    x = exit_of(raw_request({"version": 1, "action": "purge", "plugin": "marker",
                             "endpoint": {"marker": marker}}))
    assert "action must be" in x["error"], x
    log = AGENT.read_log()[len(before):]
    assert log.count("request refused") >= 8, log
    assert "started" not in log, log
    assert not os.path.exists(marker)
    # The same plugin by its plain name does run.
    x = exit_of(raw_request({"version": 1, "action": "backup", "plugin": "marker",
                             "endpoint": {"marker": marker}}))
    assert x == {"exit": 0}, x
    assert os.path.exists(marker)


def test_request_limit():
    held = [raw_open({"version": 1, "action": "backup", "plugin": "slow",
                      "endpoint": {"seconds": 20}}) for _ in range(2)]
    try:
        for s in held:
            head = recv_exact(s, 5)
            assert head[:1] == b"D", head
        x = exit_of(raw_request({"version": 1, "action": "backup", "plugin": "slow",
                                 "endpoint": {"seconds": 1}}))
        assert "too many requests" in x["error"] and "2" in x["error"], x
    finally:
        for s in held:
            s.close()
    # The callers went away: their plugins are stopped and slots freed.
    deadline = time.time() + 15
    while time.time() < deadline:
        frames = raw_request({"version": 1, "action": "validate", "plugin": "slow",
                              "endpoint": {}})
        if exit_of(frames).get("error") is None:
            break
        time.sleep(0.2)
    assert exit_of(frames) == {"exit": 0}, frames
    assert AGENT.read_log().count("backup through slow aborted") >= 2


def test_agent_killed_mid_backup_fails_the_task():
    global AGENT
    j, t = make_job(endpoint("slow", {"seconds": 30}), "killed")
    uuid = D.api("POST", "/v1/job/%s/run" % j)["task_uuid"]
    wait_running(uuid)
    AGENT.wait_log("backup through slow started")
    time.sleep(1.0)
    port = AGENT.port
    AGENT.kill9()
    task = D.wait_task(uuid, timeout=60)
    assert task["status"] == "failed", task
    assert "connection lost during backup" in task["log"], task["log"]
    assert D.api("GET", "/v1/archives?target=" + t) == []
    assert os.listdir(STORE) == [] or all(
        not f.startswith("slow") for f in os.listdir(STORE))
    AGENT = Agent(AGENT_PLUGINS, port=port, args=["--max-requests", "2"]).start()


def test_cancel_from_the_core_kills_the_remote_plugin():
    pidfile = os.path.join(TMP, "pidslow.pid")
    j, t = make_job(endpoint("pidslow", {"pidfile": pidfile}), "cancel")
    uuid = D.api("POST", "/v1/job/%s/run" % j)["task_uuid"]
    deadline = time.time() + 30
    while not os.path.exists(pidfile) and time.time() < deadline:
        time.sleep(0.05)
    with open(pidfile) as f:
        pid = int(f.read())
    assert pid_alive(pid)
    time.sleep(0.5)
    D.api("DELETE", "/v1/task/" + uuid)
    task = D.wait_task(uuid, timeout=60)
    assert task["status"] == "canceled", task
    deadline = time.time() + 15
    while pid_alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid), "the remote plugin survived the cancel"
    AGENT.wait_log("backup through pidslow aborted")
    assert D.api("GET", "/v1/archives?target=" + t) == []


def backup_stream(src):
    rc, out, err = run_plugin("backup", endpoint("fs", {"base_dir": src}))
    assert rc == 0, err
    return out


def test_cut_restore_is_never_committed():
    src = os.path.join(TMP, "src")
    stream = backup_stream(src)
    parent = os.path.join(TMP, "cut")
    dst = os.path.join(parent, "data")
    os.makedirs(dst)
    with open(os.path.join(dst, "precious.txt"), "w") as f:
        f.write("must survive")
    want, entries = tree(dst), sorted(os.listdir(parent))
    header = {"version": 1, "action": "restore", "plugin": "fs", "endpoint": {"base_dir": dst}}
    cases = [("half the stream, then a dropped connection", stream[:len(stream) // 2], False),
             ("all of the stream but no end frame", stream, False),
             ("all of the stream, no end frame, clean TLS close", stream, True)]
    for what, data, clean in cases:
        before = len(AGENT.read_log())
        s = raw_open(header)
        for i in range(0, len(data), 65536):
            s.sendall(frame(b"D", data[i:i + 65536]))
        time.sleep(0.3)
        if clean:
            try:
                s.settimeout(5)
                s.unwrap().close()
            except (ssl.SSLError, OSError):
                s.close()
        else:
            s.close()
        deadline = time.time() + 20
        while time.time() < deadline and "fs stopped" not in AGENT.read_log()[before:]:
            time.sleep(0.05)
        log = AGENT.read_log()[before:]
        assert "restore through fs aborted" in log and "nothing is committed" in log, (what, log)
        assert "fs stopped" in log, (what, log)
        assert tree(dst) == want, what
        assert sorted(os.listdir(parent)) == entries, (what, os.listdir(parent))
    # The same stream with its end frame does commit.
    s = raw_open(header)
    for i in range(0, len(stream), 65536):
        s.sendall(frame(b"D", stream[i:i + 65536]))
    s.sendall(frame(b"E"))
    assert exit_of(read_frames(s)) == {"exit": 0}
    s.close()
    assert tree(dst) == tree(src)


def test_restore_plugin_killed_midway_leaves_target():
    # The core side dies mid-restore (as when shieldd cancels it): the
    # agent plugin is killed while stdin is still open.
    src = os.path.join(TMP, "src")
    stream = backup_stream(src)
    dst = os.path.join(TMP, "cut2")
    os.makedirs(dst)
    with open(os.path.join(dst, "keep.txt"), "w") as f:
        f.write("keep")
    want = tree(dst)
    before = len(AGENT.read_log())
    argv = [os.path.join(PLUGINS, "agent"), "restore", "--endpoint",
            json.dumps(endpoint("fs", {"base_dir": dst}))]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=ENV)
    p.stdin.write(stream[:len(stream) // 2])
    p.stdin.flush()
    AGENT.wait_log("restore through fs started")
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=20)
    p.stdin.close()
    deadline = time.time() + 20
    while time.time() < deadline and "fs stopped" not in AGENT.read_log()[before:]:
        time.sleep(0.05)
    log = AGENT.read_log()[before:]
    assert "restore through fs aborted" in log, log
    assert tree(dst) == want


def netns_usable():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "needs root and iproute2"
    name = "shield-probe-%d" % os.getpid()
    p = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if p.returncode != 0:
        return "ip netns add failed: " + p.stderr.strip()
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def test_agent_across_a_network_namespace():
    why = netns_usable()
    if why:
        print("skip test_agent_across_a_network_namespace: %s" % why)
        return
    tag = "%d" % (os.getpid() % 100000)
    ns_agent, ns_core = "shield-agent-" + tag, "shield-core-" + tag
    veth_a, veth_c = "sha%s" % tag, "shc%s" % tag
    agent = None

    def ip(*args, ns=None):
        argv = ["ip"] + (["-n", ns] if ns else []) + list(args)
        p = subprocess.run(argv, capture_output=True, text=True)
        assert p.returncode == 0, (argv, p.stderr)

    try:
        ip("netns", "add", ns_agent)
        ip("netns", "add", ns_core)
        # The pair is made inside one namespace and half of it moved: no
        # address or link ever exists outside the two test namespaces.
        ip("link", "add", veth_a, "type", "veth", "peer", "name", veth_c, ns=ns_agent)
        ip("link", "set", veth_c, "netns", ns_core, ns=ns_agent)
        ip("addr", "add", "10.213.77.2/30", "dev", veth_a, ns=ns_agent)
        ip("addr", "add", "10.213.77.1/30", "dev", veth_c, ns=ns_core)
        for ns, dev in ((ns_agent, veth_a), (ns_core, veth_c)):
            ip("link", "set", "lo", "up", ns=ns)
            ip("link", "set", dev, "up", ns=ns)
        agent = Agent(AGENT_PLUGINS, port=7777, netns=ns_agent, host="10.213.77.2").start()
        src = os.path.join(TMP, "src")
        ep = endpoint("fs", {"base_dir": src}, agent=agent)
        rc, out, err = run_plugin("backup", ep, netns=ns_core)
        assert rc == 0 and len(out) > 3 * 1024 * 1024, err
        dst = os.path.join(TMP, "netns-dst")
        os.makedirs(dst)
        rc, _, err = run_plugin("restore", endpoint("fs", {"base_dir": dst}, agent=agent),
                                data=out, netns=ns_core)
        assert rc == 0, err
        assert tree(dst) == tree(src)
        log = agent.read_log()
        assert "10.213.77.1:" in log and "127.0.0.1:" not in log, log
        # From outside the namespaces the address is not the agent's:
        # whatever answers there (if anything) is not trusted.
        rc, _, err = run_plugin("validate", ep)
        assert rc != 0, err
        assert agent.read_log() == log
    finally:
        if agent is not None:
            agent.stop()
        subprocess.run(["ip", "netns", "del", ns_agent], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns_core], capture_output=True)


def test_sigterm_mid_backup_stops_cleanly():
    # The request ends with an exit frame saying why, then a clean TLS
    # close (close_notify), not a cut connection.
    global AGENT
    sock = socket.create_connection(("127.0.0.1", AGENT.port), timeout=30)
    s = tls_context().wrap_socket(sock, server_hostname="127.0.0.1",
                                  suppress_ragged_eofs=False)
    s.sendall(json.dumps({"version": 1, "action": "backup", "plugin": "slow",
                          "endpoint": {"seconds": 30}}).encode() + b"\n")
    head = recv_exact(s, 5)
    assert head[:1] == b"D", head
    recv_exact(s, struct.unpack(">I", head[1:])[0])
    port = AGENT.port
    t0 = time.time()
    since = len(AGENT.read_log())
    AGENT.proc.send_signal(signal.SIGTERM)
    frames = read_frames(s)
    x = exit_of(frames)
    assert x["exit"] != 0 and x["error"] == "shield-agent is stopping", x
    assert s.recv(1) == b"", "no close_notify after the exit frame"
    s.close()
    # A second SIGTERM while it winds up does not turn the clean stop into
    # a kill.
    AGENT.wait_log("shield-agent[info]: stopped", since=since)
    if AGENT.proc.poll() is None:
        AGENT.proc.send_signal(signal.SIGTERM)
    AGENT.stop()       # exit 0 and a clean sanitizer log
    assert time.time() - t0 < 15
    AGENT = Agent(AGENT_PLUGINS, port=port, args=["--max-requests", "2"]).start()


def test_sigterm_mid_backup_fails_the_task_saying_so():
    global AGENT
    j, t = make_job(endpoint("slow", {"seconds": 30}), "stopping")
    since = len(AGENT.read_log())
    uuid = D.api("POST", "/v1/job/%s/run" % j)["task_uuid"]
    wait_running(uuid)
    AGENT.wait_log("backup through slow started", since=since)
    time.sleep(0.5)
    port = AGENT.port
    AGENT.stop()       # exit 0 and a clean sanitizer log
    task = D.wait_task(uuid, timeout=60)
    assert task["status"] == "failed", task
    assert "shield-agent is stopping" in task["log"], task["log"]
    assert "unexpected eof" not in task["log"], task["log"]
    assert D.api("GET", "/v1/archives?target=" + t) == []
    AGENT = Agent(AGENT_PLUGINS, port=port, args=["--max-requests", "2"]).start()


def test_overlong_request_line_gets_an_exit_frame():
    # Without a newline within the limit, and as a complete line over it.
    marker = os.path.join(TMP, "marker-long")
    since = len(AGENT.read_log())
    for end in (b"", b"\n"):
        sock = socket.create_connection(("127.0.0.1", AGENT.port), timeout=30)
        s = tls_context().wrap_socket(sock, server_hostname="127.0.0.1")
        line = json.dumps({"version": 1, "action": "backup", "plugin": "marker",
                           "endpoint": {"marker": marker, "pad": "x" * (300 * 1024)}})
        s.sendall(line.encode() + end)
        x = exit_of(read_frames(s))
        s.close()
        assert x["exit"] == 1 and "request line is longer than 256 KiB" in x["error"], x
    log = AGENT.read_log()[since:]
    assert log.count("request refused: the request line is longer") == 2, log
    assert "started" not in log, log
    assert not os.path.exists(marker)


PW = "s3cr3t-db-pw-4711"        # secret by its key's name
CODE = "vault-7391-code"        # secret by the remote plugin's field type


def assert_masked(text, what):
    assert PW not in text and CODE not in text, "%s shows a secret:\n%s" % (what, text)


def test_remote_secrets_are_masked_everywhere():
    since = len(AGENT.read_log())
    rep = {"db_password": PW, "vault_code": CODE}
    # Through shieldd, remote_endpoint as an object and as a string.
    for i, r in enumerate((rep, json.dumps(rep))):
        j, t = make_job(endpoint("leaky", r), "leaky%d" % i)
        task = D.wait_task(D.api("POST", "/v1/job/%s/run" % j)["task_uuid"])
        assert task["status"] == "done", task
        assert "leaky: connecting with pw=******** code=********" in task["log"], task["log"]
        assert_masked(task["log"], "the task log")
        dbg = D.api("GET", "/v1/task/%s?debug" % task["uuid"])
        assert_masked(json.dumps(dbg), "the task's debug log")
    # validate's reasons, in a 400's body.
    r = D.request("POST", "/v1/targets", {
        "name": "leaky-bad", "plugin": "agent",
        "endpoint": json.dumps(endpoint("leaky", dict(rep, fail="yes")))})
    assert r.status == 400 and "leaky: checking pw=********" in r.body, r
    assert_masked(r.body, "validate's reasons")
    # What the agent relays to any caller.
    frames = raw_request({"version": 1, "action": "backup", "plugin": "leaky",
                          "endpoint": rep})
    assert exit_of(frames) == {"exit": 0}, frames
    lines = [p.decode() for k, p in frames if k == b"L"]
    assert "leaky: connecting with pw=******** code=********" in lines, lines
    assert_masked(repr(frames), "the agent's log frames")
    # The agent's own log, which shows the plugins' lines at debug.
    log = AGENT.read_log()[since:]
    assert "leaky: connecting with pw=******** code=********" in log, log
    assert_masked(log, "the agent's log")
    assert_masked(D.read_log(), "shieldd's log")


def fake_agent(reply):
    """A stand-in for shield-agent on 127.0.0.1 for one connection, with the
    agent's certificate, demanding a client certificate: it reads the
    request line and answers reply(request) (bytes), then closes cleanly."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(KEYS, "agent.crt"), os.path.join(KEYS, "agent.key"))
    ctx.load_verify_locations(os.path.join(KEYS, "ca.crt"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(30)

    def serve():
        try:
            conn, _ = ls.accept()
            conn.settimeout(30)
            with ctx.wrap_socket(conn, server_side=True) as s:
                line = b""
                while not line.endswith(b"\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        return
                    line += chunk
                s.sendall(reply(json.loads(line)))
                try:
                    s.unwrap()
                except (ssl.SSLError, OSError):
                    pass
        finally:
            ls.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    return ls.getsockname()[1], th


def test_agent_plugin_masks_what_an_agent_relays():
    # An agent that does not mask (an older one, say): the plugin still
    # hides the secret-looking values of remote_endpoint in what it prints.
    def reply(req):
        ep = json.loads(req["endpoint"])
        line = "leaky: pw=%s, again %s" % (ep["db_password"], ep["db_password"])
        return (frame(b"L", line.encode()) +
                frame(b"X", json.dumps({"exit": 1, "error": "refused " +
                                        ep["db_password"]}).encode()))
    port, th = fake_agent(reply)
    rc, out, err = run_plugin("backup", endpoint("leaky", {"db_password": PW},
                                                 address="127.0.0.1:%d" % port))
    th.join(30)
    assert rc == 1 and out == b"", err
    assert "leaky: pw=********, again ********" in err and "refused ********" in err, err
    assert PW not in err, err


def test_shieldd_masks_secrets_inside_remote_endpoint():
    # A target plugin run by shieldd itself that prints its whole endpoint:
    # the daemon hides the secrets nested in remote_endpoint, given as an
    # object or as a string holding one.
    for i, rep in enumerate(({"db_password": PW}, json.dumps({"db_password": PW}))):
        j, t = make_job({"remote_endpoint": rep}, "echoer%d" % i, plugin="echoer")
        task = D.wait_task(D.api("POST", "/v1/job/%s/run" % j)["task_uuid"])
        assert task["status"] == "done", task
        assert "echoer: endpoint" in task["log"], task["log"]
        assert PW not in task["log"], task["log"]
        dbg = D.api("GET", "/v1/task/%s?debug" % task["uuid"])
        assert PW not in json.dumps(dbg), dbg


def test_debug_log_shows_exit_codes():
    # A plugin exiting 1 is "exit 1" in the agent's debug log, not the raw
    # wait status (256).
    since = len(AGENT.read_log())
    x = exit_of(raw_request({"version": 1, "action": "validate", "plugin": "leaky",
                             "endpoint": {"fail": "yes"}}))
    assert x == {"exit": 1}, x
    x = exit_of(raw_request({"version": 1, "action": "validate", "plugin": "leaky",
                             "endpoint": {}}))
    assert x == {"exit": 0}, x
    time.sleep(0.3)
    log = AGENT.read_log()[since:]
    assert "leaky exited (exit 1)" in log and "leaky exited (exit 0)" in log, log
    assert "status 256" not in log, log


def main():
    tests = [
        test_help_config_and_startup_errors,
        test_backup_and_restore_through_the_daemon,
        test_remote_failures_reach_the_task_log,
        test_wrong_or_missing_client_certificate_is_refused,
        test_authorized_client_fingerprints,
        test_plugin_names_with_slash_or_dotdot_are_refused,
        test_request_limit,
        test_agent_killed_mid_backup_fails_the_task,
        test_cancel_from_the_core_kills_the_remote_plugin,
        test_cut_restore_is_never_committed,
        test_restore_plugin_killed_midway_leaves_target,
        test_agent_across_a_network_namespace,
        test_overlong_request_line_gets_an_exit_frame,
        test_remote_secrets_are_masked_everywhere,
        test_agent_plugin_masks_what_an_agent_relays,
        test_shieldd_masks_secrets_inside_remote_endpoint,
        test_debug_log_shows_exit_codes,
        test_sigterm_mid_backup_stops_cleanly,
        test_sigterm_mid_backup_fails_the_task_saying_so,
    ]
    setup()
    ok = False
    try:
        try:
            run(tests)
        except SystemExit as e:
            ok = e.code == 0
            raise
    finally:
        try:
            D.stop(check=True)
        finally:
            AGENT.stop(check=ok)
            if ok:
                shutil.rmtree(TMP, ignore_errors=True)
            else:
                sys.stderr.write("---- agent log (tail) ----\n" + AGENT.read_log()[-6000:] + "\n")
                sys.stderr.write("---- shieldd log (tail) ----\n" + D.read_log()[-6000:] + "\n")


if __name__ == "__main__":
    main()
