#!/usr/bin/env python3
"""Write-side latency over loopback:
  rollback: from the confirmed request (action.requested journaled) to the
            command starting on the host, over SSH to a real sshd (connect,
            handshake, host key check, auth, exec);
  update:   from the update being journaled (update.requested) to the vendor
            stub receiving it (Statuspage create: list + POST; Slack: POST).
Targets: <= 300 ms and <= 100 ms. Runs the action runner through the
stand-in server of the integration tests (tests/integration/actions_driver.c).
"""
import os
import statistics
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "lib"))

import wr_actions  # noqa: E402
import wr_sshd  # noqa: E402
import wr_vendors  # noqa: E402

N = int(os.environ.get("BENCH_N", "10"))


def parse_ts(s):
    import datetime
    return datetime.datetime.strptime(s.replace("Z", "+0000"),
                                      "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


class Holder(unittest.TestCase):
    def runTest(self):
        pass


def main():
    tc = Holder()
    figures = []
    try:
        skip = wr_sshd.available()
        if skip:
            print("rollback over ssh: skipped (%s)" % skip)
        else:
            sshd = wr_sshd.Sshd(tc)
            stamp = os.path.join(sshd.dir, "started")
            cmd = "date +%%s.%%N > %s" % stamp
            sections = ("[rollback api]\nvia = ssh\nhost = 127.0.0.1\nport = %d\nuser = %s\n"
                        "identity = %s\nknown_hosts = %s\ncommand = %s\n"
                        % (sshd.port, sshd.user, sshd.user_key, sshd.known_hosts, cmd))
            lat = []
            for i in range(N):
                sess = wr_actions.Session(tc, sections=sections, deploys=[
                    {"service": "api", "version": "2.3"}, {"service": "api", "version": "2.4"}])
                sess.run(("alice", "rollback", {"service": "api"}), wait_ms=600)
                req = sess.events("action.requested")[0]
                with open(stamp) as f:
                    started = float(f.read().strip())
                lat.append((started - parse_ts(req["ts"])) * 1000)
            figures.append(("rollback: confirmation -> command running on host (ssh, loopback)",
                            lat, 300))
        stub = wr_vendors.VendorStub(tc)
        sections = ("[status sp]\ntype = statuspage\nurl = %s\npage_id = p1\ntoken = sp-key\n\n"
                    "[status slack]\ntype = slack\nurl = %s/services/T/B/x\naudience = internal\n"
                    % (stub.url, stub.url))
        for target, prefix, method in (("slack", "/services/", "POST"),
                                       ("sp", "/v1/pages/p1/incidents", "POST")):
            lat = []
            for i in range(N):
                stub.incidents.clear()
                before = len(stub.matching(method, prefix))
                sess = wr_actions.Session(tc, sections=sections)
                sess.run(("alice", "update", {"state": "investigating", "message": "m%d" % i,
                                              "target": target}), wait_ms=300)
                req = sess.events("update.requested")[0]
                got = stub.matching(method, prefix)[before:]
                got = [r for r in got if r.path == prefix or prefix.endswith("/")]
                lat.append((got[0].time - parse_ts(req["ts"])) * 1000)
            figures.append(("update: requested -> %s stub received it" %
                            ("Slack" if target == "slack" else "Statuspage (list + create)"),
                            lat, 100))
    finally:
        tc.doCleanups()
    for name, lat, target in figures:
        print("%-68s median %6.1f ms  max %6.1f ms  (n=%d, target <= %d ms) %s"
              % (name, statistics.median(lat), max(lat), len(lat), target,
                 "ok" if statistics.median(lat) <= target else "OVER"))


if __name__ == "__main__":
    main()
