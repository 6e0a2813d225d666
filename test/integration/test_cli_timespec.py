"""Integration test of `shield timespec`: the built CLI, offline.

Runs $SHIELD_BUILD/api/cli/shield with TZ set and checks the canonical
form, the next run times (text and --json), --count, --from, DST handling
in the local zone, and the exit status and message of bad input.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import run, SANITIZER_MARKS  # noqa: E402

SHIELD = os.path.join(os.environ.get("SHIELD_BUILD", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "../../build")),
    "api", "cli", "shield")


def shield(*args, tz="America/New_York"):
    env = dict(os.environ)
    env["TZ"] = tz
    p = subprocess.run([SHIELD] + list(args), env=env, capture_output=True,
                       text=True, timeout=60)
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    return p


def text_runs(out):
    """The canonical form and the run times of the text output."""
    lines = out.splitlines()
    assert lines[0].startswith("canonical: "), out
    canonical = lines[0][len("canonical: "):]
    runs = []
    for i, line in enumerate(lines[1:]):
        label = "next:" if i == 0 else ""
        assert line[:11] == "%-10s " % label, out
        runs.append(line[11:27])
    return canonical, runs


def test_canonical_and_next():
    p = shield("timespec", "daily at 4am", "--from", "2024-01-30 12:00")
    assert p.returncode == 0, p.stderr
    canonical, runs = text_runs(p.stdout)
    assert canonical == "daily at 04:00"
    assert runs == ["2024-01-31 04:00", "2024-02-01 04:00",
                    "2024-02-02 04:00", "2024-02-03 04:00",
                    "2024-02-04 04:00"], runs
    assert "Wed EST" in p.stdout.splitlines()[1]


def test_words_are_joined():
    a = shield("timespec", "2nd", "tuesday", "at", "23:15",
               "--from", "2024-01-01 00:00", "--count", "3")
    b = shield("timespec", "2nd tuesday at 23:15",
               "--from", "2024-01-01 00:00", "--count", "3")
    assert a.returncode == 0 and a.stdout == b.stdout, (a, b)
    canonical, runs = text_runs(a.stdout)
    assert canonical == "monthly at 23:15 on 2nd tuesday"
    assert runs == ["2024-01-09 23:15", "2024-02-13 23:15",
                    "2024-03-12 23:15"], runs


def test_json():
    p = shield("timespec", "monthly", "at", "1am", "on", "31st", "--json",
               "--count", "4", "--from", "2024-01-01 00:00")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert set(doc) == {"canonical", "next"}, doc
    assert doc["canonical"] == "monthly at 01:00 on 31st"
    assert doc["next"] == ["2024-01-31 01:00", "2024-03-31 01:00",
                           "2024-05-31 01:00", "2024-07-31 01:00"], doc
    # The global --json before the command works the same way.
    q = shield("--json", "timespec", "monthly at 1am on 31st", "--count",
               "4", "--from", "2024-01-01 00:00")
    assert json.loads(q.stdout) == doc


def test_count():
    p = shield("timespec", "every minute", "--count", "1", "--json",
               "--from", "2024-12-31 23:59")
    assert json.loads(p.stdout) == {"canonical": "every minute",
                                    "next": ["2025-01-01 00:00"]}
    p = shield("timespec", "every", "15", "minutes", "--count=12", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert len(doc["next"]) == 12
    assert all(t[-2:] in ("00", "15", "30", "45") for t in doc["next"])
    assert doc["next"] == sorted(doc["next"])
    for bad in ("0", "-1", "x", "1001", ""):
        p = shield("timespec", "daily at 4am", "--count", bad)
        assert p.returncode == 2, (bad, p)
        assert p.stderr.startswith("shield: --count"), p.stderr


def test_from_default_is_now():
    p = shield("timespec", "hourly at :00", "--count", "2", "--json",
               tz="UTC")
    assert p.returncode == 0, p.stderr
    import time
    now = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    nxt = json.loads(p.stdout)["next"]
    assert nxt[0] > now and nxt[1] > nxt[0], (now, nxt)


def test_from_and_time_zone():
    p = shield("timespec", "weekly at 11pm on sundays", "--from",
               "2024-03-03 23:00", "--count", "2", "--json", tz="UTC")
    assert json.loads(p.stdout) == {
        "canonical": "weekly at 23:00 on sunday",
        "next": ["2024-03-10 23:00", "2024-03-17 23:00"]}
    # A date alone means midnight; the runs are in the zone of TZ.
    p = shield("timespec", "daily at 12am", "--from", "2024-02-28",
               "--count", "2", "--json", tz="Europe/Berlin")
    assert json.loads(p.stdout)["next"] == ["2024-02-29 00:00",
                                            "2024-03-01 00:00"]
    for bad in ("2024-02-30 00:00", "2024-01-01 24:00", "tomorrow",
                "2024-01-01 4am"):
        p = shield("timespec", "daily at 4am", "--from", bad)
        assert p.returncode == 2, (bad, p)
        assert "--from" in p.stderr


def test_dst():
    # New York springs forward at 02:00 on 2024-03-10: 02:30 runs at 03:00.
    p = shield("timespec", "daily at 2:30am", "--from", "2024-03-09 12:00",
               "--count", "2", "--json")
    assert json.loads(p.stdout)["next"] == ["2024-03-10 03:00",
                                            "2024-03-11 02:30"]
    # Berlin falls back at 03:00 on 2024-10-27: 02:30 runs once.
    p = shield("timespec", "daily at 2:30", "--from", "2024-10-26 12:00",
               "--count", "2", "--json", tz="Europe/Berlin")
    assert json.loads(p.stdout)["next"] == ["2024-10-27 02:30",
                                            "2024-10-28 02:30"]
    p = shield("timespec", "daily at 2:30", "--from", "2024-10-26 12:00",
               "--count", "1", tz="Europe/Berlin")
    assert "CEST" in p.stdout, p.stdout


def test_invalid_spec():
    cases = {
        ("daily at 25:00",): "hour 25 is out of range (0-23)",
        ("daily", "at", "4:60"): "minute 60 is out of range (0-59)",
        ("monthly at 3am on 0",): "day 0 is out of range (1-31)",
        ("6th", "friday", "at", "1am"): "6th friday is out of range "
                                        "(1st-5th)",
        ("every 30 seconds",): "a schedule cannot run more often than "
                               "once a minute",
        ("daily at 4am sharp",): "unknown word 'sharp'",
    }
    for words, reason in cases.items():
        p = shield("timespec", *words)
        assert p.returncode == 1, (words, p)
        assert p.stdout == "", p.stdout
        want = 'shield: invalid timespec "%s": %s\n' % (" ".join(words),
                                                        reason)
        assert p.stderr == want, (p.stderr, want)
    p = shield("timespec", "daily at 25:00", "--json")
    assert p.returncode == 1
    assert json.loads(p.stderr) == {
        "error": 'invalid timespec "daily at 25:00": hour 25 is out of '
                 'range (0-23)'}


def test_usage_errors():
    p = shield("timespec")
    assert p.returncode == 2 and "needs a SPEC" in p.stderr, p
    p = shield("timespec", "daily at 4am", "--bogus")
    assert p.returncode == 2 and "unknown option '--bogus'" in p.stderr, p
    p = shield("timespec", "daily at 4am", "--from")
    assert p.returncode == 2 and "needs a value" in p.stderr, p
    p = shield("frobnicate")
    assert p.returncode == 2
    assert p.stderr == ("shield: unknown command 'frobnicate'; "
                        "see shield --help\n"), p.stderr
    p = shield()
    assert p.returncode == 2 and "usage: shield" in p.stderr


def test_help_and_version():
    p = shield("timespec", "--help")
    assert p.returncode == 0
    for needle in ("usage: shield timespec", "--from", "--count", "--json",
                   "Examples:", "2nd tuesday", "Daylight saving"):
        assert needle in p.stdout, needle
    assert max(len(line) for line in p.stdout.splitlines()) <= 80
    assert shield("help", "timespec").stdout == p.stdout
    p = shield("--help")
    assert p.returncode == 0 and "timespec" in p.stdout
    assert shield("help").stdout == p.stdout
    p = shield("--version")
    assert p.returncode == 0 and p.stdout.startswith("shield ")


if __name__ == "__main__":
    run([test_canonical_and_next, test_words_are_joined, test_json,
         test_count, test_from_default_is_now, test_from_and_time_zone,
         test_dst, test_invalid_spec, test_usage_errors,
         test_help_and_version])
