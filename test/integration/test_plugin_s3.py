#!/usr/bin/env python3
"""The s3 store plugin against a real S3 server (Ceph RADOS Gateway, which
checks signatures and part sizes like AWS), started by test/services/s3.sh.

Covers round trips of every size class (empty, under, at and over one part,
300 MB in 60 parts), both addressing styles, failures that must be clear and
leave nothing behind (wrong secret, missing bucket, the gateway killed during
a multipart upload), purge, and validate.  The secret key must never show up
on the plugin's stderr.
"""
import hashlib
import http.server
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import services  # noqa: E402
from shieldtest import PLUGINS, SANITIZER_MARKS, run  # noqa: E402

S3 = os.path.join(PLUGINS, "s3")
MIB = 1024 * 1024
PART = 5 * MIB
ENV = {}            # the running gateway, from services.start("s3")


def endpoint(**over):
    """A path-style endpoint for the test gateway, with overrides."""
    ep = {
        "access_key_id": ENV["S3_ACCESS_KEY"],
        "secret_access_key": ENV["S3_SECRET_KEY"],
        "bucket": ENV["S3_BUCKET"],
        "region": ENV["S3_REGION"],
        "s3_host": ENV["S3_HOST"],
        "s3_port": ENV["S3_PORT"],
        "use_ssl": False,
        "path_style": True,
        "part_size": "5M",
        "prefix": "t-" + uuid.uuid4().hex[:12],
    }
    ep.update(over)
    return {k: v for k, v in ep.items() if v is not None}


def check_stderr(err):
    """No sanitizer report and no secret in what the plugin printed."""
    for mark in SANITIZER_MARKS:
        assert mark not in err, "sanitizer report:\n" + err
    assert ENV["S3_SECRET_KEY"] not in err, "secret on stderr:\n" + err


def plugin(action, ep, key=None, data=b"", timeout=120):
    """Run the plugin; returns (rc, stdout bytes, stderr text)."""
    argv = [S3, action]
    if ep is not None:
        argv += ["--endpoint", json.dumps(ep)]
    if key is not None:
        argv += ["--key", key]
    p = subprocess.run(argv, input=data, capture_output=True,
                       timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    check_stderr(err)
    return p.returncode, p.stdout, err


def store(ep, data):
    rc, out, err = plugin("store", ep, data=data)
    assert rc == 0, "store failed (%d): %s" % (rc, err)
    key = json.loads(out)["key"]
    return key


def retrieve(ep, key):
    rc, out, err = plugin("retrieve", ep, key=key)
    assert rc == 0, "retrieve failed (%d): %s" % (rc, err)
    return out


def s3curl(method, path, query=""):
    """A signed request of our own, path-style; returns (status, body)."""
    url = "http://%s:%s/%s%s" % (ENV["S3_HOST"], ENV["S3_PORT"],
                                 ENV["S3_BUCKET"], path)
    if query:
        url += "?" + query      # already canonical: sorted, "name="
    argv = ["curl", "-s", "--max-time", "20",
            "--aws-sigv4", "aws:amz:%s:s3" % ENV["S3_REGION"],
            "--user", "%s:%s" % (ENV["S3_ACCESS_KEY"], ENV["S3_SECRET_KEY"]),
            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            "-w", "\n%{http_code}", url]
    argv += ["-I"] if method == "HEAD" else ["-X", method]
    out = subprocess.run(argv, capture_output=True, check=True).stdout
    body, _, code = out.rpartition(b"\n")
    return int(code), body.decode("utf-8", "replace")


def list_keys(prefix):
    status, body = s3curl("GET", "", "list-type=2&prefix=" + prefix)
    assert status == 200, body
    return re.findall(r"<Key>([^<]*)</Key>", body)


def list_uploads(prefix):
    status, body = s3curl("GET", "", "prefix=%s&uploads=" % prefix)
    assert status == 200, body
    return re.findall(r"<UploadId>([^<]*)</UploadId>", body)


def etag(key):
    status, head = s3curl("HEAD", "/" + key)
    assert status == 200, head
    m = re.search(r"(?im)^etag:\s*(\S+)", head)
    return m.group(1).strip('"') if m else ""


def prng_chunks(total, seed, chunk=MIB):
    """A fast, reproducible pseudo-random byte stream."""
    r = random.Random(seed)
    left = total
    while left > 0:
        n = min(chunk, left)
        yield r.randbytes(n)
        left -= n


# ---- tests ----

def test_info_lists_fields():
    p = subprocess.run([S3, "info"], capture_output=True, check=True)
    info = json.loads(p.stdout)
    fields = {f["name"]: f for f in info["fields"]}
    for name in ("access_key_id", "secret_access_key", "region", "bucket",
                 "prefix", "s3_host", "s3_port", "use_ssl",
                 "skip_ssl_validation", "part_size", "path_style"):
        assert name in fields, name
    assert fields["secret_access_key"]["type"] == "password"
    assert fields["region"]["default"] == "us-east-1"
    assert fields["use_ssl"]["default"] == "true"
    assert info["features"]["store"] == "yes"
    for word in ("AWS", "MinIO", "Ceph"):
        assert word in info["help"], word


def test_round_trip_small():
    ep = endpoint()
    data = b"hello, shield\n" * 100 + bytes(range(256))
    key = store(ep, data)
    assert re.fullmatch(r"%s/\d{4}/\d\d/\d\d/\d{8}T\d{6}Z-[0-9a-f-]{36}"
                        % ep["prefix"], key), key
    assert retrieve(ep, key) == data
    assert list_keys(ep["prefix"]) == [key]


def test_keys_never_collide_and_empty_prefix():
    ep = endpoint(prefix="")
    keys = {store(ep, b"x") for _ in range(5)}
    assert len(keys) == 5
    for k in keys:
        assert not k.startswith("/") and re.match(r"\d{4}/", k), k
        assert plugin("purge", ep, key=k)[0] == 0


def test_zero_bytes():
    ep = endpoint()
    key = store(ep, b"")
    assert retrieve(ep, key) == b""


def test_part_boundaries():
    ep = endpoint()
    for size, parts in ((PART - 1, None), (PART, "1"), (PART + 1, "2"),
                        (3 * PART + 7, "4")):
        data = b"".join(prng_chunks(size, size))
        key = store(ep, data)
        assert retrieve(ep, key) == data, "size %d" % size
        tag = etag(key)
        # A single PUT has a plain MD5 ETag, a multipart one "-N".
        if parts is None:
            assert "-" not in tag, (size, tag)
        else:
            assert tag.endswith("-" + parts), (size, tag)


def test_numbers_and_booleans():
    # JSON numbers and 0/1 where users write them: part_size in bytes is
    # used as the part size (3 parts of 5 MiB), use_ssl 0 is plain HTTP,
    # path_style 1 addresses the bucket by path (the host is an address).
    ep = endpoint(part_size=PART, use_ssl=0, path_style=1,
                  s3_port=int(ENV["S3_PORT"]))
    assert plugin("validate", ep)[0] == 0
    data = b"".join(prng_chunks(2 * PART + 1, 7))
    key = store(ep, data)
    assert etag(key).endswith("-3"), etag(key)
    assert retrieve(ep, key) == data
    ep = endpoint(use_ssl="false", path_style="yes", part_size="5242880",
                  prefix=ep["prefix"])
    assert retrieve(ep, key) == data
    assert plugin("purge", ep, key=key)[0] == 0
    assert list_keys(ep["prefix"]) == []


def test_virtual_host_round_trip():
    # RGW answers BUCKET.localhost (rgw dns name), and curl resolves any
    # *.localhost to the loopback address.
    ep = endpoint(s3_host=ENV["S3_VHOST"], path_style=False)
    data = b"virtual host\n"
    key = store(ep, data)
    assert retrieve(ep, key) == data
    assert plugin("purge", ep, key=key)[0] == 0


def test_300mb_in_60_parts():
    ep = endpoint()
    total = 300 * MIB
    want = hashlib.sha256()
    argv = [S3, "store", "--endpoint", json.dumps(ep)]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    errbuf = []
    t = threading.Thread(target=lambda: errbuf.append(p.stderr.read()))
    t.start()
    for chunk in prng_chunks(total, 300):
        want.update(chunk)
        p.stdin.write(chunk)
    p.stdin.close()
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    t.join()
    err = errbuf[0].decode("utf-8", "replace")
    check_stderr(err)
    assert p.returncode == 0, err
    key = json.loads(out)["key"]
    # One 5 MiB part in memory, not the stream (ru_maxrss is in KiB; the
    # sanitizer build needs some room of its own).
    print("     store of 300 MiB: peak RSS %d MiB" % (usage.ru_maxrss // 1024))
    assert usage.ru_maxrss < 200 * 1024, usage.ru_maxrss
    assert etag(key).endswith("-60"), etag(key)

    got = hashlib.sha256()
    n = 0
    p = subprocess.Popen([S3, "retrieve", "--endpoint", json.dumps(ep),
                          "--key", key], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    while True:
        chunk = p.stdout.read(MIB)
        if not chunk:
            break
        n += len(chunk)
        got.update(chunk)
    err = p.stderr.read().decode("utf-8", "replace")
    assert p.wait() == 0, err
    check_stderr(err)
    assert n == total, n
    assert got.hexdigest() == want.hexdigest()
    assert plugin("purge", ep, key=key)[0] == 0


def test_wrong_secret():
    ep = endpoint(secret_access_key="x" * 40)
    for size in (10, PART + 10):        # single PUT and multipart
        rc, out, err = plugin("store", ep, data=b"y" * size)
        assert rc != 0 and out == b"", (rc, out)
        assert "SignatureDoesNotMatch" in err, err
        assert "x" * 40 not in err, err
    assert list_keys(ep["prefix"]) == []
    assert list_uploads(ep["prefix"]) == []
    rc, out, err = plugin("retrieve", ep, key="whatever")
    assert rc != 0 and out == b"" and "SignatureDoesNotMatch" in err, err


def test_missing_bucket():
    ep = endpoint(bucket="no-such-bucket-" + uuid.uuid4().hex[:8])
    rc, out, err = plugin("store", ep, data=b"data")
    assert rc != 0 and out == b"", (rc, out)
    assert "NoSuchBucket" in err, err
    rc, _, err = plugin("validate", ep)
    assert rc != 0 and "does not exist" in err, err


def test_retrieve_missing_key():
    rc, out, err = plugin("retrieve", endpoint(), key="no/such/key")
    assert rc != 0 and out == b"", (rc, out)
    assert "NoSuchKey" in err, err


def test_purge_twice():
    ep = endpoint()
    key = store(ep, b"to be purged")
    rc, _, err = plugin("purge", ep, key=key)
    assert rc == 0, err
    assert list_keys(ep["prefix"]) == []
    rc, _, err = plugin("purge", ep, key=key)
    assert rc == 0, err
    rc, _, err = plugin("retrieve", ep, key=key)
    assert rc != 0 and "NoSuchKey" in err, err


def test_gateway_killed_during_multipart():
    ep = endpoint()
    prefix = ep["prefix"]
    p = subprocess.Popen([S3, "store", "--endpoint", json.dumps(ep)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    lines = []
    aborting = threading.Event()

    def read_err():
        for line in p.stderr:
            lines.append(line.decode("utf-8", "replace"))
            if "aborting" in lines[-1]:
                aborting.set()
    t = threading.Thread(target=read_err, daemon=True)
    t.start()
    stream = prng_chunks(40 * MIB, 7)
    killed = False
    try:
        # 4 full parts, then wait until the gateway holds 3 or more.
        for _ in range(20):
            p.stdin.write(next(stream))
        p.stdin.flush()
        deadline = time.time() + 30
        while True:
            _, body = s3curl("GET", "", "prefix=%s&uploads=" % prefix)
            m = re.search(r"<Key>([^<]*)</Key>.*?<UploadId>([^<]*)<", body,
                          re.S)
            if m:
                _, parts = s3curl("GET", "/" + m.group(1),
                                  "uploadId=" + quote(m.group(2), safe=""))
                if parts.count("<Part>") >= 3:
                    break
            assert time.time() < deadline, "no parts uploaded: " + body
            time.sleep(0.1)
        os.kill(int(ENV["RGW_PID"]), 9)
        killed = True
        # More data, from a thread: the plugin stops reading while it
        # retries.  The next part fails, is retried, and the upload is
        # aborted; bring the gateway back once the plugin says so.

        def feed():
            try:
                for chunk in stream:
                    p.stdin.write(chunk)
                p.stdin.close()
            except (BrokenPipeError, ValueError):
                pass
        threading.Thread(target=feed, daemon=True).start()
        assert aborting.wait(60), "".join(lines)
    except BaseException:
        p.kill()
        raise
    finally:
        if killed:
            subprocess.run(["bash", services._script("s3"), "gateway-start",
                            ENV["DIR"]], check=True,
                           stdin=subprocess.DEVNULL)
            ENV.update(read_env(ENV["DIR"]))
    rc = p.wait(timeout=90)
    out = p.stdout.read()
    t.join()
    err = "".join(lines)
    check_stderr(err)
    assert rc != 0 and out == b"", (rc, out, err)
    assert "aborted the multipart upload" in err, err
    assert list_keys(prefix) == []
    assert list_uploads(prefix) == [], list_uploads(prefix)


class FakeS3(http.server.ThreadingHTTPServer):
    """A deliberately faulty S3 (no signature checks) for failures a real
    gateway will not produce on demand.  `faults` holds what to break:
    "short-head" (HEAD reports one byte less than stored), "complete-error"
    (CompleteMultipartUpload answers 200 with an <Error>), "flaky" (the
    first PUT gets a 503), "cut-get" (the first GET breaks off halfway)."""

    def __init__(self, faults):
        super().__init__(("127.0.0.1", 0), FakeS3Handler)
        self.faults = set(faults)
        self.objects = {}
        self.parts = {}
        self.log = []
        self.ranges = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def endpoint(self):
        return endpoint(s3_host="127.0.0.1", s3_port=self.server_address[1],
                        access_key_id="AKFAKE", bucket="fake")


class FakeS3Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"       # answers Expect: 100-continue

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def route(self):
        path, _, query = self.path.partition("?")
        q = dict(kv.partition("=")[::2] for kv in query.split("&") if kv)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        srv = self.server
        srv.log.append((self.command, path, query))
        if self.command == "POST" and "uploads" in q:
            return self.reply(200, b"<InitiateMultipartUploadResult>"
                              b"<UploadId>u1</UploadId>"
                              b"</InitiateMultipartUploadResult>")
        if self.command == "PUT" and "partNumber" in q:
            srv.parts[int(q["partNumber"])] = body
            return self.reply(200, headers=[("ETag", '"p%s"' %
                                              q["partNumber"])])
        if self.command == "POST" and "uploadId" in q:
            if "complete-error" in srv.faults:
                return self.reply(200, b"<Error><Code>InvalidPart</Code>"
                                  b"<Message>One or more of the parts "
                                  b"could not be found</Message></Error>")
            srv.objects[path] = b"".join(srv.parts[k]
                                         for k in sorted(srv.parts))
            return self.reply(200, b"<CompleteMultipartUploadResult>"
                              b"<ETag></ETag>"
                              b"</CompleteMultipartUploadResult>")
        if self.command == "DELETE":
            srv.objects.pop(path, None)
            return self.reply(204)
        if self.command == "PUT":
            if "flaky" in srv.faults:
                srv.faults.discard("flaky")
                return self.reply(503, b"<Error><Code>SlowDown</Code>"
                                  b"<Message>Reduce your request rate."
                                  b"</Message></Error>")
            srv.objects[path] = body
            return self.reply(200, headers=[("ETag", '"x"')])
        if self.command == "GET" and path in srv.objects:
            data = srv.objects[path]
            srv.ranges.append(self.headers.get("Range"))
            if "cut-get" in srv.faults:
                srv.faults.discard("cut-get")
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.close_connection = True
                return None
            m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
            if m:
                start = int(m.group(1))
                return self.reply(206, data[start:], [(
                    "Content-Range", "bytes %d-%d/%d" %
                    (start, len(data) - 1, len(data)))])
            return self.reply(200, data)
        if self.command == "HEAD" and path in srv.objects:
            size = len(srv.objects[path])
            if "short-head" in srv.faults:
                size -= 1
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            return None
        return self.reply(404, b"<Error><Code>NoSuchKey</Code></Error>")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = route


def test_size_mismatch_fails_and_deletes():
    with FakeS3(["short-head"]) as srv:
        for size in (100, PART + 100):
            rc, out, err = plugin("store", srv.endpoint(), data=b"z" * size)
            assert rc != 0 and out == b"", (rc, out)
            assert "were read" in err, err
            assert srv.objects == {}, "the wrong object was kept"
        srv.shutdown()


def test_complete_error_in_200_fails_and_aborts():
    with FakeS3(["complete-error"]) as srv:
        rc, out, err = plugin("store", srv.endpoint(), data=b"z" * PART * 2)
        assert rc != 0 and out == b"", (rc, out)
        assert "InvalidPart" in err, err
        assert ("DELETE" in [c for c, _, q in srv.log if "uploadId" in q]), \
            srv.log
        assert srv.objects == {}
        srv.shutdown()


def test_retry_after_503():
    with FakeS3(["flaky"]) as srv:
        rc, out, err = plugin("store", srv.endpoint(), data=b"retry me")
        assert rc == 0, err
        assert "SlowDown" in err and "trying again" in err, err
        assert list(srv.objects.values()) == [b"retry me"]
        srv.shutdown()


def test_canceled_upload_is_aborted():
    # SIGTERM is how a task is canceled: the upload must not be left
    # behind, and the plugin must go quickly.
    ep = endpoint()
    p = subprocess.Popen([S3, "store", "--endpoint", json.dumps(ep)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        for chunk in prng_chunks(12 * MIB, 9):
            p.stdin.write(chunk)
        p.stdin.flush()
        deadline = time.time() + 30
        while not list_uploads(ep["prefix"]):
            assert time.time() < deadline, "no upload started"
            time.sleep(0.05)
        t0 = time.time()
        p.terminate()
        out, err = p.communicate(timeout=30)
    except BaseException:
        p.kill()
        raise
    err = err.decode("utf-8", "replace")
    check_stderr(err)
    assert time.time() - t0 < 5, time.time() - t0
    assert p.returncode != 0 and out == b"", (p.returncode, out, err)
    assert "aborted the multipart upload" in err, err
    assert list_keys(ep["prefix"]) == []
    assert list_uploads(ep["prefix"]) == []


def test_retrieve_resumes_after_a_break():
    with FakeS3(["cut-get"]) as srv:
        data = b"".join(prng_chunks(3 * MIB + 5, 11))
        key = store(srv.endpoint(), data)
        rc, out, err = plugin("retrieve", srv.endpoint(), key=key)
        assert rc == 0, err
        assert "trying again" in err, err
        assert out == data, (len(out), len(data))
        # The second GET asks only for what is missing.
        assert srv.ranges == [None, "bytes=%d-" % (len(data) // 2)], \
            srv.ranges
        srv.shutdown()


def read_env(d):
    env = {}
    with open(os.path.join(d, "env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k:
                env[k] = v.strip('"')
    return env


def test_validate():
    rc, _, err = plugin("validate", endpoint())
    assert rc == 0, err
    rc, _, err = plugin("validate", endpoint(part_size="1M"))
    assert rc != 0 and "part_size must be at least 5M" in err, err
    rc, _, err = plugin("validate", endpoint(part_size="lots"))
    assert rc != 0 and "part_size must be a size" in err, err
    rc, _, err = plugin("validate", endpoint(part_size="6G"))
    assert rc != 0 and "at most 5G" in err, err
    rc, _, err = plugin("validate", endpoint(s3_port=70000))
    assert rc != 0 and "s3_port" in err, err
    rc, _, err = plugin("validate", endpoint(bucket=None,
                                             access_key_id=None))
    assert rc != 0 and "bucket is required" in err, err
    assert "access_key_id is required" in err, err
    rc, _, err = plugin("validate", endpoint(s3_host="http://example.com"))
    assert rc != 0 and "s3_host must be a bare host name" in err, err
    rc, _, err = plugin("validate", endpoint(path_style=False))
    assert rc != 0 and "s3_host is an IP address" in err, err
    rc, _, err = plugin("validate", endpoint(bucket="Not_DNS",
                                             path_style=False,
                                             s3_host="localhost"))
    assert rc != 0 and "lowercase" in err and "path_style" in err, err
    rc, _, err = plugin("validate", endpoint(secret_access_key="z" * 40))
    assert rc != 0 and "SignatureDoesNotMatch" in err, err
    assert "z" * 40 not in err
    # An unreachable service is reported at once, not waited for.
    t0 = time.time()
    rc, _, err = plugin("validate", endpoint(s3_port=free_closed_port()))
    assert time.time() - t0 < 5, time.time() - t0
    assert rc == 0 and "could not reach" in err, err


def free_closed_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    global ENV
    ENV = services.start("s3")
    ENV.update(read_env(ENV["DIR"]))
    try:
        run([test_info_lists_fields, test_round_trip_small,
             test_keys_never_collide_and_empty_prefix, test_zero_bytes,
             test_part_boundaries, test_numbers_and_booleans,
             test_virtual_host_round_trip,
             test_300mb_in_60_parts, test_wrong_secret, test_missing_bucket,
             test_retrieve_missing_key, test_purge_twice,
             test_size_mismatch_fails_and_deletes,
             test_complete_error_in_200_fails_and_aborts,
             test_retry_after_503, test_retrieve_resumes_after_a_break,
             test_canceled_upload_is_aborted,
             test_gateway_killed_during_multipart, test_validate])
    finally:
        services.stop("s3", ENV)


if __name__ == "__main__":
    main()
