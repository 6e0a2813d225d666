"""The `fields` every shipped plugin lists in `info`: each has a `label`
(the name forms show) and, where only one kind of object uses it, `for`
("target" or "store"), so the store form of a two-kind plugin such as fs
leaves out what only a target reads (include, exclude).

Runs the built plugins' `info` directly (no daemon), and then checks that
shieldd hands the keys on unchanged in GET /v1/plugins.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, PLUGINS, SRC, run  # noqa: E402

SHIPPED = ["fs", "s3", "postgres", "mysql", "redis", "rabbitmq", "agent",
           "redis-local"]
EXAMPLE = os.path.join(SRC, "plugins", "example", "example.sh")


def info(exe):
    p = subprocess.run([exe, "info"], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def kinds(i):
    return {k for k in ("target", "store") if i["features"].get(k) == "yes"}


def test_every_field_has_a_label_and_a_valid_for():
    for name in SHIPPED + ["example"]:
        exe = EXAMPLE if name == "example" else os.path.join(PLUGINS, name)
        i = info(exe)
        assert i["fields"], name
        for f in i["fields"]:
            what = "%s.%s" % (name, f["name"])
            assert isinstance(f.get("label"), str) and f["label"].strip(), what
            assert f["label"] != f["name"], what
            if "for" in f:
                assert f["for"] in ("target", "store"), what
                assert f["for"] in kinds(i), what
            else:
                # absent: both kinds use it, which only a two-kind plugin has
                assert kinds(i) == {"target", "store"}, what


def test_one_kind_plugins_mark_every_field():
    for name in ("postgres", "mysql", "redis", "rabbitmq", "agent",
                 "redis-local", "s3"):
        i = info(os.path.join(PLUGINS, name))
        (kind,) = kinds(i)
        assert {f.get("for") for f in i["fields"]} == {kind}, (name, i)


def test_fs_target_only_fields():
    i = info(os.path.join(PLUGINS, "fs"))
    fields = {f["name"]: f for f in i["fields"]}
    assert "for" not in fields["base_dir"], fields["base_dir"]
    assert fields["include"]["for"] == "target"
    assert fields["exclude"]["for"] == "target"
    assert fields["base_dir"]["label"] == "Directory"


def test_daemon_passes_them_on():
    with Daemon() as d:
        d.login()
        plugins = {p["plugin"]: p for p in d.api("GET", "/v1/plugins")}
        fields = {f["name"]: f for f in plugins["fs"]["fields"]}
        assert fields["include"]["for"] == "target", fields
        assert fields["base_dir"]["label"] == "Directory", fields
        one = d.api("GET", "/v1/plugin/fs")
        assert one["fields"] == plugins["fs"]["fields"]


if __name__ == "__main__":
    run([test_every_field_has_a_label_and_a_valid_for,
         test_one_kind_plugins_mark_every_field, test_fs_target_only_fields,
         test_daemon_passes_them_on])
