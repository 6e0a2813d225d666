#!/usr/bin/env python3
"""The s3 store plugin against curl, on a local Ceph RADOS Gateway.

    python3 test/bench/bench_s3.py [BUILD_DIR]

test/services/s3.sh starts a one-node Ceph (memstore OSD) with RGW on
127.0.0.1.  A 1 GiB stream of random bytes is uploaded and downloaded
BENCH_S3_RUNS times (default 3, medians) by:
  shield    cat FILE | s3 store --endpoint ...   (stdin of unknown length,
            16 MiB parts, the plugin's default; each part's SHA-256 signed)
            s3 retrieve --key K | wc -c
  baseline  curl --aws-sigv4 multipart upload with the same 16 MiB parts
            (initiate, one curl -T per part, complete; parts split off
            beforehand, untimed; x-amz-content-sha256: UNSIGNED-PAYLOAD)
            and curl GET | wc -c; also one curl -T PUT of the whole file
The plugin's peak RSS is its VmHWM, read every 10 ms while it runs (wait4's
ru_maxrss would include the forking Python's memory).
Targets: >= 0.9x curl; plugin peak RSS < 3x the part size (48 MiB).
"""
import json
import os
import random
import re
import resource  # noqa: F401  (wait4's rusage)
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

RUNS = int(os.environ.get("BENCH_S3_RUNS", "3"))
SIZE = int(os.environ.get("BENCH_S3_BYTES", str(1 << 30)))
PART = 16 * B.MIB
S3SH = os.path.join(B.SRC, "test", "services", "s3.sh")


def start_s3(d):
    env = dict(os.environ)
    env.setdefault("S3_MEM_BYTES", str(6 << 30))
    subprocess.run(["bash", S3SH, "start", d], check=True, stdin=subprocess.DEVNULL, env=env,
                   stdout=sys.stderr)
    out = {}
    with open(os.path.join(d, "env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                out[k] = v.strip('"')
    return out


class S3:
    def __init__(self, env, plugin):
        self.e = env
        self.plugin = plugin
        self.base = "http://%s:%s/%s" % (env["S3_HOST"], env["S3_PORT"], env["S3_BUCKET"])

    def endpoint(self, prefix):
        e = self.e
        return {"access_key_id": e["S3_ACCESS_KEY"], "secret_access_key": e["S3_SECRET_KEY"],
                "bucket": e["S3_BUCKET"], "region": e["S3_REGION"], "s3_host": e["S3_HOST"],
                "s3_port": e["S3_PORT"], "use_ssl": False, "path_style": True,
                "prefix": prefix}

    def curl_argv(self, *args):
        e = self.e
        return ["curl", "-sS", "-f", "--aws-sigv4", "aws:amz:%s:s3" % e["S3_REGION"],
                "--user", "%s:%s" % (e["S3_ACCESS_KEY"], e["S3_SECRET_KEY"]),
                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"] + list(args)

    def curl(self, *args):
        return subprocess.run(self.curl_argv(*args), check=True, capture_output=True).stdout

    # ---- the plugin
    def plugin_store(self, path, ep):
        """(seconds, key, peak RSS KiB, CPU seconds) of cat FILE | s3 store."""
        t0 = time.monotonic()
        cat = subprocess.Popen(["cat", path], stdout=subprocess.PIPE)
        p = subprocess.Popen([self.plugin, "store", "--endpoint", json.dumps(ep)],
                             stdin=cat.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cat.stdout.close()
        with B.RssSampler(p.pid, interval=0.01, kids=False) as rs:
            out = p.stdout.read()
            err = p.stderr.read()
            _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        cat.wait()
        dt = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError("s3 store failed: %s" % err.decode(errors="replace"))
        return dt, json.loads(out)["key"], rs.hwm, ru.ru_utime + ru.ru_stime

    def plugin_retrieve(self, ep, key):
        t0 = time.monotonic()
        p = subprocess.Popen([self.plugin, "retrieve", "--endpoint", json.dumps(ep),
                              "--key", key], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with B.RssSampler(p.pid, interval=0.01, kids=False) as rs:
            wc = subprocess.run(["wc", "-c"], stdin=p.stdout, capture_output=True, check=True)
            p.stdout.close()
            err = p.stderr.read()
            _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        dt = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError("s3 retrieve failed: %s" % err.decode(errors="replace"))
        return dt, int(wc.stdout), rs.hwm, ru.ru_utime + ru.ru_stime

    def plugin_purge(self, ep, key):
        subprocess.run([self.plugin, "purge", "--endpoint", json.dumps(ep), "--key", key],
                       check=True, capture_output=True)

    # ---- curl
    def curl_multipart(self, parts, key):
        t0 = time.monotonic()
        body = self.curl("-X", "POST", "%s/%s?uploads=" % (self.base, key)).decode()
        upload = re.search(r"<UploadId>([^<]+)</UploadId>", body).group(1)
        etags = []
        for i, part in enumerate(parts, 1):
            head = self.curl("-T", part, "-D", "-", "-o", "/dev/null",
                             "%s/%s?partNumber=%d&uploadId=%s" % (self.base, key, i, upload))
            etags.append(re.search(rb"(?im)^etag:\s*(\S+)", head).group(1).decode())
        xml = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i, e)
            for i, e in enumerate(etags, 1))
        self.curl("-X", "POST", "--data-binary", xml, "-o", "/dev/null",
                  "%s/%s?uploadId=%s" % (self.base, key, upload))
        return time.monotonic() - t0

    def curl_put(self, path, key):
        t0 = time.monotonic()
        self.curl("-T", path, "-o", "/dev/null", "%s/%s" % (self.base, key))
        return time.monotonic() - t0

    def curl_get(self, key):
        t0 = time.monotonic()
        c = subprocess.Popen(self.curl_argv("%s/%s" % (self.base, key)), stdout=subprocess.PIPE)
        wc = subprocess.run(["wc", "-c"], stdin=c.stdout, capture_output=True, check=True)
        c.stdout.close()
        if c.wait() != 0:
            raise RuntimeError("curl GET failed")
        return time.monotonic() - t0, int(wc.stdout)

    def delete(self, key):
        self.curl("-X", "DELETE", "-o", "/dev/null", "%s/%s" % (self.base, key))


def main():
    plugin = os.path.join(B.PLUGINS, "s3")
    B.need(plugin)
    for tool in ("ceph-mon", "ceph-osd", "radosgw", "curl"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            B.emit("\nbench_s3: %s is not installed (contrib/deps.sh test), skipped\n" % tool)
            return
    tmp = B.mktemp("s3")
    svc = os.path.join(tmp, "rgw")
    started = False
    try:
        B.log("writing a %d MiB stream and its %d MiB parts" % (SIZE // B.MIB, PART // B.MIB))
        blob = os.path.join(tmp, "stream.bin")
        r = random.Random(20240601)
        with open(blob, "wb") as f:
            left = SIZE
            while left:
                n = min(left, 8 * B.MIB)
                f.write(r.randbytes(n))
                left -= n
        os.makedirs(os.path.join(tmp, "parts"))
        subprocess.run(["split", "-b", str(PART), "-d", "-a", "4", blob,
                        os.path.join(tmp, "parts", "p")], check=True)
        parts = sorted(os.path.join(tmp, "parts", x) for x in os.listdir(os.path.join(tmp, "parts")))
        B.warm(tmp)
        B.log("starting Ceph RGW (test/services/s3.sh)")
        started = True
        env = start_s3(svc)
        s3 = S3(env, plugin)
        res = {k: [] for k in ("p_up", "c_mp", "c_put", "p_down", "c_down")}
        rss_up = rss_down = 0
        cpu_up = cpu_down = 0.0
        for run in range(RUNS):
            B.log("round %d of %d" % (run + 1, RUNS))
            ep = s3.endpoint("bench-%s" % uuid.uuid4().hex[:8])
            ck = "curl-%s" % uuid.uuid4().hex[:8]
            dt, key, rss, c = s3.plugin_store(blob, ep)
            res["p_up"].append(dt)
            rss_up, cpu_up = max(rss_up, rss), cpu_up + c
            res["c_mp"].append(s3.curl_multipart(parts, ck))
            dt, n, rss, c = s3.plugin_retrieve(ep, key)
            assert n == SIZE, (n, SIZE)
            res["p_down"].append(dt)
            rss_down, cpu_down = max(rss_down, rss), cpu_down + c
            dt, n = s3.curl_get(ck)
            assert n == SIZE, (n, SIZE)
            res["c_down"].append(dt)
            s3.delete(ck)
            s3.plugin_purge(ep, key)
            res["c_put"].append(s3.curl_put(blob, ck + "-single"))
            s3.delete(ck + "-single")
        med = {k: B.median(v) for k, v in res.items()}

        def row(name, k, base, target):
            ratio = med[base] / med[k] if base else None
            return [name, "%.2f s" % med[k], "%.0f" % B.mbps(SIZE, med[k]),
                    "%.2fx" % ratio if ratio else "1.00x (baseline)", target,
                    B.yes(ratio >= 0.9) if ratio and target else ""]

        rows = [row("upload: curl multipart, 16 MiB parts", "c_mp", None, ""),
                row("upload: curl, one PUT of the file", "c_put", "c_mp", ""),
                row("upload: `s3 store` from a pipe", "p_up", "c_mp", ">= 0.9x"),
                row("download: curl GET", "c_down", None, ""),
                row("download: `s3 retrieve`", "p_down", "c_down", ">= 0.9x")]
        B.emit(B.table("S3 (Ceph RGW on 127.0.0.1): a %d MiB stream, median of %d" %
                       (SIZE // B.MIB, RUNS),
                       ["operation", "time", "MB/s", "vs curl", "target", "target met"], rows,
                       ["All runs: " + "; ".join("%s %s" % (k, " ".join("%.2f" % x for x in v))
                                                 for k, v in res.items()) + " (s)."]))
        B.emit(B.table("S3: plugin memory and CPU",
                       ["action", "peak RSS", "CPU per GiB", "target", "target met"],
                       [["store", B.mib(rss_up), "%.2f s" % (cpu_up / RUNS * (1 << 30) / SIZE),
                         "< 48 MiB (3 x part)", B.yes(rss_up < 3 * PART // 1024)],
                        ["retrieve", B.mib(rss_down),
                         "%.2f s" % (cpu_down / RUNS * (1 << 30) / SIZE), "", ""]]))
    finally:
        if started:
            subprocess.run(["bash", S3SH, "stop", svc], stdin=subprocess.DEVNULL,
                           stdout=sys.stderr)
        B.rmtree(tmp)


if __name__ == "__main__":
    main()
