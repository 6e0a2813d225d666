"""GET /v1/status names the time zone shieldd evaluates schedules in
(`timezone`): the IANA name from TZ or /etc/localtime where there is one,
else the zone's abbreviation.  Each case starts the real daemon with that
environment; one also checks that a schedule's next run is 04:00 in it.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, run  # noqa: E402


def status_tz(tz):
    env = {} if tz is None else {"TZ": tz}
    saved = os.environ.pop("TZ", None) if tz is None else None
    try:
        with Daemon(env=env) as d:
            d.login()
            st = d.api("GET", "/v1/status")
            nxt = d.api("POST", "/v1/timespec",
                        {"when": "daily at 4am", "count": 1,
                         "from": "2026-01-15 12:00"})["next"][0]
            return st["timezone"], nxt
    finally:
        if saved is not None:
            os.environ["TZ"] = saved


def test_iana_name_from_tz():
    tz, nxt = status_tz("Europe/Berlin")
    assert tz == "Europe/Berlin", tz
    # the zone it names is the one schedules use: 04:00 CET is 03:00 UTC
    assert nxt == "2026-01-16 03:00:00", nxt
    assert status_tz(":America/New_York")[0] == "America/New_York"
    assert status_tz("/usr/share/zoneinfo/Asia/Tokyo")[0] == "Asia/Tokyo"


def test_empty_tz_is_utc():
    assert status_tz("")[0] == "UTC"


def test_posix_rule_gives_the_abbreviation():
    tz, nxt = status_tz("CET-1CEST,M3.5.0,M10.5.0/3")
    assert tz in ("CET", "CEST"), tz
    assert nxt == "2026-01-16 03:00:00", nxt


def test_unset_tz_follows_etc_localtime():
    tz, _ = status_tz(None)
    try:
        link = os.readlink("/etc/localtime")
    except OSError:
        link = None
    if link and "zoneinfo/" in link:
        assert tz == link.split("zoneinfo/", 1)[1], (tz, link)
    else:
        assert tz, tz


if __name__ == "__main__":
    run([test_iana_name_from_tz, test_empty_tz_is_utc,
         test_posix_rule_gives_the_abbreviation,
         test_unset_tz_follows_etc_localtime])
