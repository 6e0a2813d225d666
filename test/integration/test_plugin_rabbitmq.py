#!/usr/bin/env python3
"""The rabbitmq plugin against real RabbitMQ nodes, called directly with pipes.

Two throwaway nodes (test/services/rabbitmq.sh), started in parallel because
each takes 6-18 s.  Node A gets vhosts, users, permissions, topic
permissions, exchanges, queues, bindings, policies, vhost limits and a
global parameter through the management API; its definitions are backed
up, the objects deleted, the archive restored and the definitions compared
(normalized) with what they were at backup time.  The archive is then
restored into fresh node B.  Wrong passwords, unreachable or non-RabbitMQ
URLs and bad archives must fail with one clear line and no password.
"""
import base64
import http.client
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import services  # noqa: E402
from shieldtest import PLUGINS, free_port, run  # noqa: E402

PLUGIN = os.path.join(PLUGINS, "rabbitmq")
A = B = None            # the two nodes' env dicts
ARCHIVE = None          # definitions of A taken by test_backup
DEFS0 = None            # A's normalized definitions at backup time
ALICE_PASSWORD = "alice-pw-0f3c"
# Global parameters that name the node, not the configuration.
NODE_PARAMS = ("cluster_name", "internal_cluster_id")


def api(env, method, path, body=None, user=None, password=None,
        expect=(200, 201, 204)):
    """Call a node's management API; returns the decoded JSON or None."""
    conn = http.client.HTTPConnection("127.0.0.1", int(env["MGMT_PORT"]),
                                      timeout=60)
    auth = "%s:%s" % (user or env["USER"], password or env["PASSWORD"])
    headers = {"Authorization": "Basic " +
               base64.b64encode(auth.encode()).decode(),
               "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    try:
        conn.request(method, "/api/" + path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read()
    finally:
        conn.close()
    if expect is not None:
        assert r.status in expect, "%s %s -> %d %r" % (method, path,
                                                     r.status, text[:300])
    return json.loads(text) if text else None


def q(name):
    return urllib.parse.quote(name, safe="")


def endpoint(env, **over):
    ep = {"rmq_url": env["URL"], "rmq_username": env["USER"],
          "rmq_password": env["PASSWORD"]}
    ep.update(over)
    return json.dumps(ep)


def plugin(action, ep, data=None, secrets=()):
    """Run the plugin; returns (rc, stdout bytes, stderr text)."""
    p = subprocess.run([PLUGIN, action, "--endpoint", ep], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    err = p.stderr.decode("utf-8", "replace")
    for s in list(secrets) + [A["PASSWORD"], B["PASSWORD"], ALICE_PASSWORD]:
        assert s not in err, "a password leaked to stderr: %s" % err
    assert "runtime error" not in err and "Sanitizer" not in err, err
    return p.returncode, p.stdout, err


def normalize(defs, drop_node_params=False):
    """Definitions with every list sorted, for order-independent compares."""
    out = {}
    for k, v in defs.items():
        if isinstance(v, list):
            if k == "global_parameters" and drop_node_params:
                v = [p for p in v if p.get("name") not in NODE_PARAMS]
            v = sorted(json.dumps(x, sort_keys=True) for x in v)
        out[k] = v
    return out


def definitions(env, **kw):
    return normalize(api(env, "GET", "definitions", **kw))


def create_objects(env):
    """Everything definitions cover, created through the management API."""
    for vh in ("shield", "second vhost"):
        api(env, "PUT", "vhosts/" + q(vh), {"description": "test " + vh})
    api(env, "PUT", "users/alice",
        {"password": ALICE_PASSWORD, "tags": "management"})
    api(env, "PUT", "users/bob", {"password": "bob-pw", "tags": "monitoring"})
    api(env, "PUT", "permissions/shield/alice",
        {"configure": "^q\\.", "write": ".*", "read": ".*"})
    api(env, "PUT", "permissions/%s/bob" % q("second vhost"),
        {"configure": "", "write": "", "read": ".*"})
    api(env, "PUT", "permissions/shield/" + env["USER"],
        {"configure": ".*", "write": ".*", "read": ".*"})
    api(env, "PUT", "topic-permissions/shield/alice",
        {"exchange": "ex.topic", "write": "^job\\.", "read": ".*"})
    api(env, "PUT", "exchanges/shield/ex.topic",
        {"type": "topic", "durable": True})
    api(env, "PUT", "exchanges/shield/ex.fanout",
        {"type": "fanout", "durable": True, "auto_delete": False,
         "arguments": {"alternate-exchange": "ex.topic"}})
    api(env, "PUT", "queues/shield/q.classic",
        {"durable": True, "arguments": {"x-max-length": 1000,
                                        "x-message-ttl": 60000}})
    api(env, "PUT", "queues/shield/q.quorum",
        {"durable": True, "arguments": {"x-queue-type": "quorum"}})
    api(env, "PUT", "queues/%s/q.other" % q("second vhost"),
        {"durable": True})
    api(env, "POST", "bindings/shield/e/ex.topic/q/q.classic",
        {"routing_key": "job.#", "arguments": {}})
    api(env, "POST", "bindings/shield/e/ex.topic/q/q.quorum",
        {"routing_key": "job.urgent", "arguments": {"x-match": "any"}})
    api(env, "POST", "bindings/shield/e/ex.fanout/e/ex.topic",
        {"routing_key": "", "arguments": {}})
    api(env, "PUT", "policies/shield/ttl",
        {"pattern": "^q\\.classic$", "definition": {"message-ttl": 30000},
         "apply-to": "queues", "priority": 3})
    api(env, "PUT", "policies/%s/limit" % q("second vhost"),
        {"pattern": ".*", "definition": {"max-length": 10},
         "apply-to": "queues"})
    api(env, "PUT", "vhost-limits/shield/max-connections", {"value": 100})
    api(env, "PUT", "global-parameters/shield-test",
        {"value": {"backup": "yes"}})
    api(env, "POST", "exchanges/shield/ex.topic/publish",
        {"properties": {}, "routing_key": "job.1", "payload": "hello",
         "payload_encoding": "string"})


def delete_objects(env):
    for vh in ("shield", "second vhost"):
        api(env, "DELETE", "vhosts/" + q(vh))
    for u in ("alice", "bob"):
        api(env, "DELETE", "users/" + u)
    api(env, "DELETE", "global-parameters/shield-test")


# ---- tests ----

def test_info_and_validate():
    p = subprocess.run([PLUGIN, "info"], stdout=subprocess.PIPE, check=True)
    info = json.loads(p.stdout)
    assert info["features"]["target"] == "yes"
    assert "MESSAGES ARE NOT BACKED UP" in info["help"], info["help"]
    fields = {f["name"]: f for f in info["fields"]}
    assert set(fields) == {"rmq_url", "rmq_username", "rmq_password",
                           "skip_ssl_validation"}, fields
    assert fields["rmq_password"]["type"] == "password"
    assert fields["skip_ssl_validation"]["default"] == "false"
    rc, _, err = plugin("validate", endpoint(A))
    assert rc == 0, err
    for bad in ("ftp://127.0.0.1/", "not a url", ""):
        rc, _, err = plugin("validate", endpoint(A, rmq_url=bad))
        assert rc != 0 and "rmq_url" in err, (bad, err)
    rc, _, err = plugin("validate", json.dumps({"rmq_url": A["URL"]}))
    assert rc != 0 and "rmq_username" in err and "rmq_password" in err, err


def test_backup():
    global ARCHIVE, DEFS0
    create_objects(A)
    DEFS0 = definitions(A)
    rc, out, err = plugin("backup", endpoint(A))
    assert rc == 0, err
    assert "messages are not backed up" in err, err
    assert normalize(json.loads(out)) == DEFS0
    names = {k: [json.loads(x).get("name") for x in v]
             for k, v in DEFS0.items() if isinstance(v, list)}
    assert "shield" in names["vhosts"] and "second vhost" in names["vhosts"]
    assert "alice" in names["users"] and "bob" in names["users"]
    assert {"q.classic", "q.quorum", "q.other"} <= set(names["queues"])
    assert {"ex.topic", "ex.fanout"} <= set(names["exchanges"])
    assert {"ttl", "limit"} <= set(names["policies"])
    assert len(DEFS0["bindings"]) >= 3
    assert len(DEFS0["topic_permissions"]) == 1
    assert any("max-connections" in p for p in DEFS0["parameters"])
    assert "shield-test" in names["global_parameters"]
    ARCHIVE = out


def test_restore_after_delete():
    delete_objects(A)
    assert definitions(A) != DEFS0
    rc, _, err = plugin("restore", endpoint(A), ARCHIVE)
    assert rc == 0, err
    assert definitions(A) == DEFS0
    # Users come back with their password hashes.
    who = api(A, "GET", "whoami", user="alice", password=ALICE_PASSWORD)
    assert who["name"] == "alice", who


def test_restore_into_second_node():
    before = definitions(B)
    assert before != DEFS0
    rc, _, err = plugin("restore", endpoint(B), ARCHIVE)
    assert rc == 0, err
    # The archive carries A's admin user, password hash included: from now
    # on B takes A's credentials.
    got = definitions(B, password=A["PASSWORD"])
    want = normalize(json.loads(ARCHIVE), drop_node_params=True)
    got = {k: ([x for x in v if json.loads(x).get("name") not in
                NODE_PARAMS] if k == "global_parameters" else v)
           for k, v in got.items()}
    assert got == want, "definitions on B differ from the archive"
    B["PASSWORD"] = A["PASSWORD"]
    who = api(B, "GET", "whoami", user="alice", password=ALICE_PASSWORD)
    assert who["name"] == "alice"
    # Messages are not part of definitions.
    queue = api(B, "GET", "queues/shield/q.classic")
    assert queue.get("messages", 0) == 0, queue


def test_wrong_password():
    before = definitions(A)
    for action, data in (("backup", None), ("restore", ARCHIVE)):
        rc, out, err = plugin(action, endpoint(A, rmq_password="wrong-pw"),
                              data, secrets=["wrong-pw"])
        assert rc != 0, action
        assert out == b"", out[:100]
        assert "HTTP 401" in err and "rmq_password" in err, err
        assert len(err.strip().splitlines()) == 1, err
    # A user without the administrator tag is refused with the reason.
    rc, out, err = plugin("backup", endpoint(A, rmq_username="alice",
                                             rmq_password=ALICE_PASSWORD))
    assert rc != 0 and out == b"" and "HTTP 401" in err, err
    assert definitions(A) == before


def test_unreachable():
    url = "http://127.0.0.1:%d" % free_port()
    rc, out, err = plugin("backup", endpoint(A, rmq_url=url))
    assert rc != 0 and out == b""
    assert "cannot reach the management API" in err, err
    assert len(err.strip().splitlines()) == 1, err


class NotRabbit(http.server.BaseHTTPRequestHandler):
    """An HTTP server that is not RabbitMQ: HTML under /html, else 404."""

    def do_GET(self):
        if self.path.startswith("/html/"):
            body = b"<html><body>hello</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
        else:
            body = b"no such thing"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_not_rabbitmq():
    srv = http.server.HTTPServer(("127.0.0.1", 0), NotRabbit)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    try:
        rc, out, err = plugin("backup", endpoint(A, rmq_url=base + "/html"))
        assert rc != 0 and out == b""
        assert "not answer with RabbitMQ definitions JSON" in err, err
        rc, out, err = plugin("backup", endpoint(A, rmq_url=base))
        assert rc != 0 and out == b""
        assert "HTTP 404" in err and "rmq_url" in err, err
    finally:
        srv.shutdown()
        srv.server_close()


def test_bad_archive():
    before = definitions(A)
    for data in (b"", b"not json at all", b"[1, 2, 3]",
                 ARCHIVE[:len(ARCHIVE) // 2]):
        rc, _, err = plugin("restore", endpoint(A), data)
        assert rc != 0
        assert "not RabbitMQ definitions JSON" in err, err
    assert definitions(A) == before
    # Valid JSON the broker rejects: its reason is shown.
    bad = {"rabbit_version": "3.10.0", "queues": [
        {"name": "q.x", "vhost": "no such vhost", "durable": True,
         "auto_delete": False, "arguments": {}}]}
    rc, _, err = plugin("restore", endpoint(A), json.dumps(bad).encode())
    assert rc != 0
    assert "HTTP 400" in err and "no_such_vhost" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert definitions(A) == before


class FakeDefinitions(http.server.BaseHTTPRequestHandler):
    """Serves a definitions document, for the TLS test."""

    def do_GET(self):
        body = b'{"rabbit_version":"3.10.0","vhosts":[{"name":"/"}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_tls_verification():
    # A self-signed HTTPS server: refused unless skip_ssl_validation.
    d = tempfile.mkdtemp(prefix="shield-rmq-tls.")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=127.0.0.1"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    srv = http.server.HTTPServer(("127.0.0.1", 0), FakeDefinitions)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    url = "https://127.0.0.1:%d" % srv.server_address[1]
    try:
        rc, out, err = plugin("backup", endpoint(A, rmq_url=url))
        assert rc != 0 and out == b"", err
        assert "certificate" in err, err
        rc, out, err = plugin("backup", endpoint(
            A, rmq_url=url, skip_ssl_validation=True))
        assert rc == 0, err
        assert json.loads(out)["vhosts"] == [{"name": "/"}]
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(d, ignore_errors=True)


def main():
    global A, B
    envs = {}
    errors = []

    def start(name):
        try:
            envs[name] = services.start("rabbitmq")
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=start, args=(n,)) for n in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        if errors:
            raise errors[0]
        A, B = envs["A"], envs["B"]
        run([test_info_and_validate, test_backup, test_restore_after_delete,
             test_restore_into_second_node, test_wrong_password,
             test_unreachable, test_not_rabbitmq, test_bad_archive,
             test_tls_verification])
    finally:
        for env in envs.values():
            services.stop("rabbitmq", env)


if __name__ == "__main__":
    main()
