#!/usr/bin/env python3
"""Backups through shield-agent (mutual TLS on loopback) against the local fs plugin.

    python3 test/bench/bench_agent.py [BUILD_DIR]

The standard ~1 GiB tree, warm page cache.  contrib/shield-agent-keys.sh
makes a CA and the agent's and core's certificates; shield-agent listens on
127.0.0.1 with the fs plugin; shieldd has the agent and fs plugins.  Each of
BENCH_AGENT_RUNS rounds (default 3, medians) times, from run to done:
  baseline  fs target -> fs store (the plugin runs next to shieldd)
  agent     agent target (remote_plugin fs on the agent, TLS) -> fs store
Prints "agent: not built, skipped" when shield-agent or the agent plugin is
missing.  Target: >= 0.8x the local fs plugin's throughput.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

RUNS = int(os.environ.get("BENCH_AGENT_RUNS", "3"))
AGENT = os.path.join(B.BUILD, "core", "agent", "shield-agent")
KEYS_SH = os.path.join(B.SRC, "contrib", "shield-agent-keys.sh")


def main():
    if not (os.path.exists(AGENT) and os.path.exists(os.path.join(B.PLUGINS, "agent"))
            and os.path.exists(KEYS_SH)):
        B.emit("\nagent: not built, skipped\n")
        return
    B.need(B.SHIELDD, os.path.join(B.PLUGINS, "fs"))
    ds = B.dataset()
    size, nfiles = B.dir_size(ds)
    tmp = B.mktemp("agent")
    keys = os.path.join(tmp, "keys")
    agent_plugins = os.path.join(tmp, "agent-plugins")
    os.makedirs(agent_plugins)
    shutil.copy2(os.path.join(B.PLUGINS, "fs"), agent_plugins)
    d = B.Daemon(tmp)
    agent = None
    agent_log = None
    try:
        subprocess.run(["sh", KEYS_SH, keys], check=True, capture_output=True)
        port = B.free_port()
        agent_log = open(os.path.join(tmp, "agent.log"), "ab")
        agent = subprocess.Popen([AGENT, "--listen", "127.0.0.1:%d" % port,
                                  "--plugins", agent_plugins,
                                  "--cert", os.path.join(keys, "agent.crt"),
                                  "--key", os.path.join(keys, "agent.key"),
                                  "--ca", os.path.join(keys, "ca.crt"),
                                  "--log-level", "info"],
                                 stdin=subprocess.DEVNULL, stdout=agent_log, stderr=agent_log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if agent.poll() is not None:
                raise RuntimeError("shield-agent exited %s" % agent.returncode)
            with open(os.path.join(tmp, "agent.log"), "rb") as f:
                if b"listening on" in f.read():
                    break
            time.sleep(0.05)
        B.warm(ds)
        d.start()
        d.login()
        sched, ret = d.basics()
        store_dir = os.path.join(tmp, "store")
        os.makedirs(store_dir)
        store = d.system("stores", "store", "fs", {"base_dir": store_dir})
        local = d.system("targets", "local", "fs", {"base_dir": ds})
        remote = d.system("targets", "remote", "agent", {
            "agent_address": "127.0.0.1:%d" % port,
            "agent_ca": os.path.join(keys, "ca.crt"),
            "client_cert": os.path.join(keys, "core.crt"),
            "client_key": os.path.join(keys, "core.key"),
            "remote_plugin": "fs", "remote_endpoint": {"base_dir": ds}})
        jl = d.job("local", local, store, sched, ret)
        jr = d.job("remote", remote, store, sched, ret)
        res = {"local": [], "agent": []}
        sizes = set()
        agent_rss = 0
        for run in range(RUNS):
            B.log("round %d of %d" % (run + 1, RUNS))
            for key, job in (("local", jl), ("agent", jr)):
                os.sync()
                with B.RssSampler(agent.pid) as rs:
                    dt, task = d.run_job(job)
                agent_rss = max(agent_rss, rs.peak + rs.kid_peak if key == "agent" else 0)
                res[key].append(dt)
                sizes.add(task["bytes"])
                for a in d.api("GET", "/v1/archives"):
                    d.api("DELETE", "/v1/archive/" + a["uuid"], expect=None)
                    blob = os.path.join(store_dir, a["store_key"])
                    if os.path.exists(blob):
                        os.unlink(blob)
        ml, ma = B.median(res["local"]), B.median(res["agent"])
        r = ml / ma
        B.emit(B.table(
            "Agent: backup of the standard tree (%.0f MiB, %d files) through shield-agent "
            "(TLS, 127.0.0.1), median of %d" % (size / B.MIB, nfiles, RUNS),
            ["path", "time", "MB/s", "vs local fs", "target", "target met"],
            [["fs plugin next to shieldd", "%.2f s" % ml, "%.0f" % B.mbps(size, ml),
              "1.00x (baseline)", "", ""],
             ["agent plugin -> shield-agent -> fs", "%.2f s" % ma, "%.0f" % B.mbps(size, ma),
              "%.2fx" % r, ">= 0.8x", B.yes(r >= 0.8)]],
            ["All runs (s): local %s; agent %s. Archive sizes: %s bytes. Peak RSS of "
             "shield-agent plus its plugin: %s." %
             (" ".join("%.2f" % x for x in res["local"]),
              " ".join("%.2f" % x for x in res["agent"]),
              ", ".join(str(x) for x in sorted(sizes)), B.mib(agent_rss))]))
    finally:
        d.stop()
        if agent is not None and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            try:
                agent.wait(timeout=30)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
        if agent_log is not None:
            agent_log.close()
        B.rmtree(tmp)


if __name__ == "__main__":
    main()
