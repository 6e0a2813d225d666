"""Integration test of the bounds of a retention policy's `expires`.

Against the real shieldd: `expires` (or its alias `when`) is a whole number
of seconds from 3600 to 3,155,760,000 (100 years).  9e15, one second over
the bound and 1e300 are refused with a 400 that names the bound; fractions
and strings are refused; the bound itself and an integral float are
accepted; and a refused update leaves the policy as it was.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import Daemon, run  # noqa: E402

MAX = 3155760000


def post(d, raw):
    return d.request("POST", "/v1/retention", raw=raw.encode(),
                     headers={"Content-Type": "application/json"})


def test_expires_bounds():
    with Daemon() as d:
        d.login()
        # Sent as raw JSON text: Python would print 9e15 as 9000000000000000.0.
        for value in ("9e15", "9000000000000000", str(MAX + 1), "1e300",
                      "3.2e9"):
            for key in ("expires", "when"):
                r = post(d, '{"name":"p","%s":%s}' % (key, value))
                assert r.status == 400, (key, value, r)
                assert "100 years" in r.json["error"], r
                assert str(MAX) in r.json["error"], r
        for value in ("3600.5", "86400.25", "1e-3"):
            r = post(d, '{"name":"p","expires":%s}' % value)
            assert r.status == 400, (value, r)
            assert "error" in r.json, r
        r = post(d, '{"name":"p","expires":"86400"}')
        assert r.status == 400 and "number" in r.json["error"], r
        r = post(d, '{"name":"p","expires":3599}')
        assert r.status == 400 and "3600" in r.json["error"], r
        assert d.api("GET", "/v1/retention") == []

        top = d.create("retention", {"name": "century", "expires": MAX})
        assert d.api("GET", "/v1/retention/" + top)["expires"] == MAX
        day = json.loads(post(d, '{"name":"day","expires":86400.0}').body)
        assert d.api("GET", "/v1/retention/" + day["uuid"])["expires"] == 86400

        r = d.request("PUT", "/v1/retention/" + day["uuid"], raw=(
            b'{"name":"day","summary":"","expires":9e15}'),
            headers={"Content-Type": "application/json"})
        assert r.status == 400 and "100 years" in r.json["error"], r
        got = d.api("GET", "/v1/retention/" + day["uuid"])
        assert got["expires"] == 86400 and got["name"] == "day", got


if __name__ == "__main__":
    run([test_expires_bounds])
