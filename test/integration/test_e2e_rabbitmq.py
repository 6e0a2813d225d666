"""RabbitMQ end to end through the running shieldd.

Two throwaway nodes, started in parallel.  Node A gets the plugin test's
objects (vhosts, users, permissions, topic permissions, exchanges, queues,
bindings, policies, limits, a global parameter); its definitions are backed
up by a job run through the API; the archive's size and sha256 are checked
against the stored blob and its JSON against the node's definitions; the
objects are deleted, the archive restored through the API and the
definitions compared (normalized) with what they were at backup time.  The
archive is restored into node B (a migration).  Bad inputs: a wrong host,
port, password or URL path (the management API's analogue of a database
name) fail the backup with one line naming the problem and no archive; a
restore with a wrong password changes nothing.  A management API cannot be
killed halfway through a GET of definitions, which takes milliseconds, so
"dies mid-backup" is an HTTP server that answers 200, sends part of the
body and closes the connection, and one that stalls after part of it (the
daemon's --idle-timeout ends that task).  No password ever appears in a task
log, a debug log or the daemon's log.
"""
import http.server
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import services  # noqa: E402
import test_plugin_rabbitmq as tpr  # noqa: E402
from e2e import Env, start_services  # noqa: E402
from shieldtest import free_port, run  # noqa: E402

IDLE_TIMEOUT = 6
A = B = E = None
DEFS0 = None
STATE = {}


def ep(env, **over):
    e = {"rmq_url": env["URL"], "rmq_username": env["USER"],
         "rmq_password": env["PASSWORD"]}
    e.update(over)
    return e


def setup():
    global A, B, E
    t0 = time.time()
    A, B = start_services("rabbitmq", "rabbitmq")
    print("     (two nodes started in %.1fs)" % (time.time() - t0))
    E = Env("rabbitmq", args=["--idle-timeout", str(IDLE_TIMEOUT)],
            secrets=[A["PASSWORD"], B["PASSWORD"], tpr.ALICE_PASSWORD, "bob-pw"])


def teardown():
    try:
        if E is not None:
            E.close(False)
    finally:
        for s in (A, B):
            if s is not None:
                services.stop("rabbitmq", s)


def test_validation_through_api():
    body = str(E.target_rejected("rabbitmq", ep(A, rmq_url="ftp://127.0.0.1/")))
    assert "rmq_url" in body, body
    body = str(E.target_rejected("rabbitmq", {"rmq_url": A["URL"]}))
    assert "rmq_username" in body and "rmq_password" in body, body


def test_backup_delete_restore():
    global DEFS0
    tpr.create_objects(A)
    DEFS0 = tpr.definitions(A)
    t = E.target("rabbitmq", ep(A), name="rmq-a")
    a, path, task = E.backup_ok(t)
    with open(path, "rb") as f:
        archived = json.load(f)
    assert tpr.normalize(archived) == DEFS0, "the archive is not A's definitions"
    names = {k: [json.loads(x).get("name") for x in v]
             for k, v in DEFS0.items() if isinstance(v, list)}
    assert {"shield", "second vhost"} <= set(names["vhosts"])
    assert {"q.classic", "q.quorum", "q.other"} <= set(names["queues"])
    assert "alice" in names["users"] and "shield-test" in names["global_parameters"]
    assert "messages are not backed up" in task["log"], task["log"]
    STATE.update(target=t, archive=a["uuid"], archived=archived)
    tpr.delete_objects(A)
    assert tpr.definitions(A) != DEFS0
    r = E.restore_ok(a["uuid"])
    assert r["target_uuid"] == t, r
    assert tpr.definitions(A) == DEFS0
    who = tpr.api(A, "GET", "whoami", user="alice", password=tpr.ALICE_PASSWORD)
    assert who["name"] == "alice", who


def test_migration_to_second_node():
    tb = E.target("rabbitmq", ep(B), name="rmq-b")
    assert tpr.definitions(B) != DEFS0
    r = E.restore_ok(STATE["archive"], tb)
    assert r["target_uuid"] == tb, r
    # The archive carries A's admin user, password hash included: B now
    # takes A's credentials.  Node-specific global parameters differ.
    got = tpr.definitions(B, password=A["PASSWORD"])
    want = tpr.normalize(STATE["archived"], drop_node_params=True)
    got = {k: ([x for x in v if json.loads(x).get("name") not in tpr.NODE_PARAMS]
               if k == "global_parameters" else v) for k, v in got.items()}
    assert got == want, "definitions on B differ from the archive"
    who = tpr.api(B, "GET", "whoami", user="alice", password=tpr.ALICE_PASSWORD)
    assert who["name"] == "alice"
    assert [x["uuid"] for x in E.archives(STATE["target"])] == [STATE["archive"]]


def test_wrong_port():
    port = free_port()
    t = E.target("rabbitmq", ep(A, rmq_url="http://127.0.0.1:%d" % port))
    E.backup_fails(t, "rabbitmq", "cannot reach the management API", exact=False)


def test_wrong_host():
    t = E.target("rabbitmq", ep(A, rmq_url="http://no-such-host.invalid:%s" % A["MGMT_PORT"]))
    E.backup_fails(t, "rabbitmq", "rabbitmq: cannot reach the management API (rmq_url): "
                   "Could not resolve host: no-such-host.invalid")


def test_wrong_password():
    E.add_secret("wrong-pw-5e1d")
    t = E.target("rabbitmq", ep(A, rmq_password="wrong-pw-5e1d"))
    line = E.failed_clearly(E.backup_fails(t, "rabbitmq", "HTTP 401", exact=False),
                            "rabbitmq", "HTTP 401", exact=False)
    assert "rmq_password" in line, line


def test_wrong_url_path():
    t = E.target("rabbitmq", ep(A, rmq_url=A["URL"] + "/no-such-prefix"))
    # The node answers 404 or 406 for paths it does not serve.
    line = E.failed_clearly(E.backup_fails(t, "rabbitmq", "rabbitmq: exporting definitions: "
                                           "HTTP 40", exact=False),
                            "rabbitmq", "HTTP 40", exact=False)
    assert "is rmq_url the base URL" in line, line
    print("     (%s)" % line)


def test_restore_with_bad_credentials_changes_nothing():
    before = tpr.definitions(A)
    bad = E.target("rabbitmq", ep(A, rmq_password="wrong-pw-5e1d"))
    r = E.restore(STATE["archive"], bad)
    E.failed_clearly(r, "rabbitmq", "HTTP 401", exact=False)
    port = free_port()
    r = E.restore(STATE["archive"], E.target("rabbitmq", ep(
        A, rmq_url="http://127.0.0.1:%d" % port)))
    E.failed_clearly(r, "rabbitmq", "cannot reach the management API", exact=False)
    assert tpr.definitions(A) == before


class Dying(http.server.BaseHTTPRequestHandler):
    """A management API that dies while sending definitions: 200, part of
    the body, then the connection closes (or, stall=True, stays open)."""
    stall = threading.Event()
    release = threading.Event()

    def do_GET(self):
        body = json.dumps(STATE["archived"]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 3])
        self.wfile.flush()
        if self.stall.is_set():
            self.release.wait(120)
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_server_dies_mid_backup():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Dying)
    srv.daemon_threads = True
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    try:
        t = E.target("rabbitmq", ep(A, rmq_url=url))
        line = E.backup_fails(t, "rabbitmq", "transfer closed with", exact=False)
        assert "cut off" in str(line), line
        # A server that stalls halfway: the daemon's idle timeout ends it.
        Dying.stall.set()
        t0 = time.time()
        task = E.backup_fails(E.target("rabbitmq", ep(A, rmq_url=url)), "shieldd",
                              "no output for %ds" % IDLE_TIMEOUT, exact=False)
        took = time.time() - t0
        assert took < IDLE_TIMEOUT + 15, took
        assert "no output for %ds" % IDLE_TIMEOUT in task["error"], task
        print("     (stalled: failed after %.1fs)" % took)
    finally:
        Dying.release.set()
        srv.shutdown()
        srv.server_close()


def test_daemon_stops_clean():
    """SIGTERM: exit 0, no sanitizer report, no password in the daemon log."""
    global E
    env, E = E, None
    env.close(True)


if __name__ == "__main__":
    try:
        setup()
        run([test_validation_through_api, test_backup_delete_restore,
             test_migration_to_second_node, test_wrong_port, test_wrong_host,
             test_wrong_password, test_wrong_url_path,
             test_restore_with_bad_credentials_changes_nothing,
             test_server_dies_mid_backup, test_daemon_stops_clean])
    finally:
        teardown()
