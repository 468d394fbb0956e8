"""Live alert and metric sources against the real servers on loopback:
Alertmanager (alerts through a filter, silence and unsilence from warroom
seen in Alertmanager, resolution), Prometheus (alerting rules; an error-rate
series backfilled with promtool, its spike found at the known onset; a bad
query's own error text), and faults: Alertmanager killed and restarted on
the same port, and a stub that stalls, cuts its JSON short, sends 50 MB or
fails, each marked stale with the reason while `warroom state` keeps
answering, then recovering by itself."""
import json
import os
import time
import unittest

import wr_core
import wr_prom
import wr_tmux

SKIP = wr_prom.available()
ERROR_RATIO = ('sum(rate(http_requests_total{service="api",code=~"5.."}[5m])) / '
               'sum(rate(http_requests_total{service="api"}[5m]))')


def wait_for(what, pred, timeout=10.0, step=0.1):
    """Polls pred() until it returns something true; returns (value, seconds)."""
    t0 = time.time()
    last = None
    while time.time() - t0 < timeout:
        last = pred()
        if last:
            return last, time.time() - t0
        time.sleep(step)
    raise AssertionError("%s: not within %.0f s (last: %r)" % (what, timeout, last))


def backend(state, name):
    for b in state["backends"]:
        if b["name"] == name:
            return b
    return None


def alerts_by_name(state, source):
    return {a["name"]: a for a in state["alerts"] if a["source"] == source}


@unittest.skipIf(SKIP, SKIP or "")
class AlertmanagerSource(unittest.TestCase):
    def setUp(self):
        self.am = wr_prom.Alertmanager(self)
        self.user = wr_core.me()

    def incident(self, extra=""):
        inc = wr_core.Incident(self, operators=self.user, extra=(
            "\n[alerts am]\ntype = alertmanager\nurl = %s/\n"
            'filter = service=~"api|web", severity!="info"\ninterval = 1s\ntimeout = 2s\n'
            % self.am.url) + extra)
        inc.serve()
        return inc

    def test_alerts_silence_unsilence_resolve(self):
        am = self.am
        inc = self.incident()
        wait_for("first poll", lambda: (backend(inc.state(), "am") or {}).get("ok"))
        t0 = time.time()
        am.amtool_add("HighErrorRate", "service=api", "severity=critical",
                      annotations=["summary=api 5xx above 5%", "runbook_url=https://rb/5xx",
                                   "description=checkout failing"])
        am.amtool_add("LatencyHigh", "service=web", "severity=warning",
                      annotations=["summary=web p99 above 1s"])
        # outside the filter: another service, and an info alert of api
        am.amtool_add("DiskFull", "service=db", "severity=critical")
        am.amtool_add("Chatter", "service=api", "severity=info")
        got, took = wait_for("alerts in state", lambda: (
            lambda a: a if {"HighErrorRate", "LatencyHigh"} <= set(a) else None)(
                alerts_by_name(inc.state(), "am")))
        print("\n  4 alerts added with amtool: the 2 matching the filter in `warroom state` "
              "%.2f s after the first add (interval 1 s)" % (time.time() - t0))
        self.assertEqual(set(got), {"HighErrorRate", "LatencyHigh"})
        fps = {a["labels"]["alertname"]: a["fingerprint"] for a in am.alerts()}
        a = got["HighErrorRate"]
        self.assertEqual(a["id"], fps["HighErrorRate"])
        self.assertEqual((a["service"], a["severity"], a["state"]), ("api", "critical", "firing"))
        self.assertEqual(a["summary"], "api 5xx above 5%")
        self.assertEqual(a["labels"], {"alertname": "HighErrorRate", "service": "api",
                                       "severity": "critical"})
        self.assertEqual(a["annotations"]["runbook_url"], "https://rb/5xx")
        self.assertEqual(a["annotations"]["description"], "checkout failing")
        self.assertIsNotNone(a["started"])
        self.assertTrue(backend(inc.state(), "am")["ok"])

        # silence from warroom: made in Alertmanager with the alert's labels
        r = inc.run("silence", a["id"], "--minutes", "5")
        self.assertEqual(r.returncode, 0, r.stderr)
        sils = [s for s in am.silences() if s["status"]["state"] == "active"]
        self.assertEqual(len(sils), 1, sils)
        sil = sils[0]
        self.assertEqual(sorted((m["name"], m["value"], m["isEqual"], m["isRegex"])
                                for m in sil["matchers"]),
                         [("alertname", "HighErrorRate", True, False),
                          ("service", "api", True, False), ("severity", "critical", True, False)])
        self.assertEqual(sil["createdBy"], self.user)
        ends = time.mktime(time.strptime(sil["endsAt"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        self.assertAlmostEqual(ends - time.time(), 300, delta=20)
        st, took = wait_for("silenced in state", lambda: (
            lambda s: s if alerts_by_name(s, "am")["HighErrorRate"]["state"] == "silenced"
            else None)(inc.state()))
        print("  silenced in state %.2f s after the verb returned" % took)
        self.assertEqual(alerts_by_name(st, "am")["HighErrorRate"]["silence_id"], sil["id"])
        self.assertEqual(alerts_by_name(st, "am")["LatencyHigh"]["state"], "firing")

        # unsilence expires it in Alertmanager
        r = inc.run("unsilence", a["id"])
        self.assertEqual(r.returncode, 0, r.stderr)
        states = {s["id"]: s["status"]["state"] for s in am.silences()}
        self.assertEqual(states[sil["id"]], "expired")
        wait_for("firing again", lambda: alerts_by_name(inc.state(), "am")["HighErrorRate"]
                 ["state"] == "firing")

        # resolved in Alertmanager (endsAt in the past) -> resolved here
        past = wr_prom.rfc3339(time.time() - 60)
        am.post_alerts([{"labels": {"alertname": "LatencyHigh", "service": "web",
                                    "severity": "warning"},
                         "annotations": {"summary": "web p99 above 1s"},
                         "startsAt": wr_prom.rfc3339(time.time() - 600), "endsAt": past}])
        wait_for("resolved", lambda: alerts_by_name(inc.state(), "am")["LatencyHigh"]
                 ["state"] == "resolved")
        time.sleep(1.5)  # more polls: nothing more is journaled
        kinds = {}
        for ev in inc.journal_events():
            if ev["kind"].startswith("alert."):
                key = (ev["kind"], ev["id"])
                kinds[key] = kinds.get(key, 0) + 1
        hid, lid = fps["HighErrorRate"], fps["LatencyHigh"]
        self.assertEqual(kinds, {("alert.fired", hid): 1, ("alert.fired", lid): 1,
                                 ("alert.silenced", hid): 1, ("alert.unsilenced", hid): 1,
                                 ("alert.resolved", lid): 1})
        silenced = [e for e in inc.journal_events() if e["kind"] == "alert.silenced"][0]
        self.assertEqual(silenced["silence_id"], sil["id"])
        self.assertIn("until", silenced)

    def test_check_config_probes_and_filter_errors(self):
        dead = wr_prom.free_port()
        inc = wr_core.Incident(self, extra=(
            "\n[alerts am]\ntype = alertmanager\nurl = %s\nfilter = service=\"api\"\n"
            "\n[alerts regex]\ntype = alertmanager\nurl = %s\nfilter = service=~\"(\"\n"
            "\n[alerts gone]\ntype = alertmanager\nurl = http://127.0.0.1:%d\n"
            % (self.am.url, self.am.url, dead)))
        r = inc.run("check-config")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("alerts am (alertmanager): ok", r.stdout)
        # Alertmanager's own refusal of the regular expression
        self.assertRegex(r.stdout, r"alerts regex \(alertmanager\): FAILED: alertmanager: "
                         r"HTTP 400: .*missing closing \)")
        self.assertIn("alerts gone (alertmanager): FAILED: alertmanager: ", r.stdout)
        # a filter that is not a matcher is a config error with its line
        bad = wr_core.Incident(self, extra=(
            "\n[alerts am]\ntype = alertmanager\nurl = %s\nfilter = service api\n"
            % self.am.url))
        r = bad.run("check-config")
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"config.ini:\d+: filter: 'service' is not a matcher")

    def test_killed_then_restarted_on_the_same_port(self):
        self.am.amtool_add("HighErrorRate", "service=api", "severity=critical")
        inc = self.incident()
        wait_for("alert", lambda: "HighErrorRate" in alerts_by_name(inc.state(), "am"))
        ok = wait_for("healthy", lambda: backend(inc.state(), "am")["ok"])
        before = backend(inc.state(), "am")["last_success"]
        self.am.kill()
        b, took = wait_for("stale", lambda: (lambda b: b if not b["ok"] else None)(
            backend(inc.state(), "am")))
        print("\n  Alertmanager killed: stale after %.2f s: %s" % (took, b["error"]))
        self.assertIn("alertmanager", b["error"])
        self.assertIn("127.0.0.1:%d" % self.am.port, b["error"])
        self.assertIsNotNone(b["last_success"])
        self.assertGreaterEqual(b["last_success"], before)
        # the alert is kept while the source is unreachable
        time.sleep(1.5)
        st = inc.state()
        self.assertEqual(alerts_by_name(st, "am")["HighErrorRate"]["state"], "firing")
        self.assertFalse(backend(st, "am")["ok"])
        stale_since = backend(st, "am")["last_success"]
        self.am.start()
        b, took = wait_for("recovered", lambda: (lambda b: b if b["ok"] else None)(
            backend(inc.state(), "am")), timeout=20)
        print("  restarted: healthy again %.2f s later (backoff)" % took)
        self.assertGreater(b["last_success"], stale_since)
        self.assertIsNone(b["error"])


def am_alert_json(name="StubAlert"):
    return json.dumps([{
        "fingerprint": "00000000000000aa", "labels": {"alertname": name, "service": "api",
                                                      "severity": "critical"},
        "annotations": {"summary": "from the stub"}, "startsAt": "2026-11-23T18:00:00Z",
        "endsAt": "2099-01-01T00:00:00Z", "updatedAt": "2026-11-23T18:00:00Z",
        "receivers": [{"name": "null"}], "generatorURL": "http://prom/graph",
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}}]).encode()


@unittest.skipIf(SKIP, SKIP or "")
class Faults(unittest.TestCase):
    def test_stall_truncated_huge_and_error_each_stale_then_recovered(self):
        stub = wr_prom.Stub(self, good=am_alert_json())
        stub.stall_s = 3.0
        # Alertmanager's cap is 64 MiB (50,000 alerts are some 27 MB)
        stub.huge_bytes = 70 * 1000 * 1000
        inc = wr_core.Incident(self, extra="\n[alerts stub]\ntype = alertmanager\nurl = %s\n"
                               "interval = 1s\ntimeout = 1s\n" % stub.url)
        inc.serve()
        latencies = []

        def state():
            t = time.time()
            st = inc.state()
            latencies.append(time.time() - t)
            return st

        def healthy():
            b = backend(state(), "stub")
            return b if b and b["ok"] else None

        a, _ = wait_for("stub alert", lambda: alerts_by_name(state(), "stub").get("StubAlert"))
        self.assertEqual(a["url"], "http://prom/graph")
        print()
        for mode, reason in (("stall", "no answer from 127.0.0.1:%d within 1 s"
                              % int(stub.url.rsplit(":", 1)[1])),
                             ("truncated", "alertmanager: malformed JSON at byte "),
                             ("huge", "larger than 64 MiB"),
                             ("huge-stream", "larger than 64 MiB"),
                             ("error", "alertmanager: HTTP 503: stub is down")):
            stub.mode = mode
            b, took = wait_for(mode + " stale", lambda: (lambda b: b if not b["ok"] else None)(
                backend(state(), "stub")), timeout=15)
            print("  %-11s stale after %.2f s: %s" % (mode, took, b["error"]))
            self.assertIn(reason, b["error"])
            # the alert is kept, not resolved, while the source is stale
            self.assertEqual(alerts_by_name(state(), "stub")["StubAlert"]["state"], "firing")
            stub.mode = "good"
            _, took = wait_for(mode + " recovery", healthy, timeout=15)
            print("  %-11s recovered %.2f s after good answers returned" % ("", took))
        latencies.sort()
        print("  `warroom state --json` over %d calls: median %.0f ms, max %.0f ms"
              % (len(latencies), 1000 * latencies[len(latencies) // 2], 1000 * latencies[-1]))
        # one alert.fired in all: failures never resolved or re-fired it
        fired = [e for e in inc.journal_events() if e["kind"].startswith("alert.")]
        self.assertEqual([e["kind"] for e in fired], ["alert.fired"])

    def test_malformed_answers_never_crash(self):
        """Odd but valid JSON: wrong shapes are refused with a reason or
        skipped item by item; the server keeps running."""
        stub = wr_prom.Stub(self, good=b'{"not": "a list"}')
        inc = wr_core.Incident(self, extra="\n[alerts stub]\ntype = alertmanager\nurl = %s\n"
                               "interval = 1s\ntimeout = 1s\n" % stub.url)
        p = inc.serve()
        b, _ = wait_for("refused", lambda: (lambda b: b if b and not b["ok"] else None)(
            backend(inc.state(), "stub")))
        self.assertIn("expected a JSON array of alerts", b["error"])
        stub.good = json.dumps([1, "x", None, {"fingerprint": 5}, {"labels": []},
                                {"fingerprint": "ab", "labels": {"alertname": "\u001b]0;x\u0007T",
                                                                 "n": 3}}]).encode()
        st, _ = wait_for("one usable alert", lambda: (
            lambda s: s if alerts_by_name(s, "stub") else None)(inc.state()))
        self.assertEqual(list(alerts_by_name(st, "stub")), ["T"])
        a = alerts_by_name(st, "stub")["T"]
        self.assertEqual(a["labels"], {"alertname": "T"})
        self.assertTrue(backend(st, "stub")["ok"])
        self.assertIsNone(p.poll())


def am_burst_json(n):
    """n distinct alerts as Alertmanager lists them, about 560 bytes each."""
    out = []
    for i in range(n):
        out.append({
            "fingerprint": "%016x" % (0xb000000 + i),
            "labels": {"alertname": "Burst%d" % (i % 97), "service": "svc%d" % (i % 23),
                       "severity": "warning", "instance": "host-%06d:9100" % i, "job": "node"},
            "annotations": {"summary": "burst alert %d: error ratio above 5%% on host-%06d"
                            % (i, i), "runbook": "https://runbooks.invalid/burst/%d" % (i % 97)},
            "startsAt": "2026-11-23T18:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
            "updatedAt": "2026-11-23T18:00:00Z", "receivers": [{"name": "null"}],
            "generatorURL": "http://prom/graph?g0.expr=burst%d" % (i % 97),
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}})
    return json.dumps(out).encode()


@unittest.skipIf(SKIP, SKIP or "")
class Burst(unittest.TestCase):
    def test_console_keeps_up_with_more_alerts_than_its_queue_holds(self):
        """20,000 new alerts in one answer (some 12 MB of event frames, more
        than the 8 MiB a client's queue may hold): an attached console that
        keeps reading is not dropped; once its queue passes the mark it
        catches up from the journal, then is live again, and it has been
        sent every alert exactly once."""
        n = 20000
        stub = wr_prom.Stub(self, good=b"[]")
        inc = wr_core.Incident(self, extra="\n[alerts stub]\ntype = alertmanager\nurl = %s\n"
                               "interval = 1s\ntimeout = 10s\n" % stub.url)
        inc.serve()
        con = inc.connect(interactive=False)
        _, synced = con.until_synced()
        body = am_burst_json(n)
        self.assertGreater(len(body), 10 << 20)
        stub.good = body
        ids = {}
        caught_up = live_after = 0
        behind = False
        end = time.time() + 90
        while len(ids) < n and time.time() < end:
            m = con.recv(timeout=30)
            self.assertIsNotNone(m, "the console was closed after %d alerts" % len(ids))
            self.assertNotEqual(m["t"], "bye", m)
            evs = []
            if m["t"] == "event":
                evs = [m["event"]]
                live_after += behind
            elif m["t"] == "events":
                evs = [json.loads(x) for x in m["lines"].splitlines() if x]
                behind = True
            elif m["t"] == "synced" and behind:
                caught_up += 1
            for e in evs:
                if e["kind"] == "alert.fired":
                    ids[e["id"]] = ids.get(e["id"], 0) + 1
        self.assertEqual(len(ids), n)
        self.assertEqual(set(ids.values()), {1}, "an alert sent twice")
        self.assertTrue(behind, "the burst never put the console behind: not tested")
        # after catching up it is told so and gets the stream live again
        if not caught_up:
            con.wait(lambda m: m["t"] == "synced", timeout=10)
        note = inc.connect(snapshot=False)
        note.wait(lambda m: m["t"] == "synced")
        note.intent("note", {"text": "after the burst"})
        got = con.wait(lambda m: m["t"] == "event" and m["event"]["kind"] == "note", timeout=10)
        self.assertEqual(got["event"]["text"], "after the burst")
        log = inc.read_log()
        self.assertNotIn("dropped", log)
        # the journal has them all once, and the next polls add nothing
        time.sleep(2.5)
        fired = [e for e in inc.journal_events() if e["kind"] == "alert.fired"]
        self.assertEqual(len(fired), n)


@unittest.skipIf(SKIP, SKIP or "")
class PrometheusSources(unittest.TestCase):
    def test_series_spike_alerts_and_query_errors(self):
        now = time.time()
        text, onset = wr_prom.error_counters(now, onset_ago=1200)
        rules = ("groups:\n  - name: t\n    rules:\n      - alert: ApiErrors\n"
                 "        expr: vector(1)\n        labels: {service: api, severity: critical}\n"
                 "        annotations: {summary: api errors high}\n")
        prom = wr_prom.Prometheus(self, text, rules=rules)
        inc = wr_core.Incident(self, extra=(
            "\n[metrics api]\ntype = prometheus\nurl = %s\nquery = %s\nrange = 3h\nstep = 30s\n"
            "interval = 1s\n"
            "\n[metrics bad]\ntype = prometheus\nurl = %s\nquery = sum(rate(\nservice = web\n"
            "interval = 1s\n"
            "\n[alerts prom]\ntype = prometheus\nurl = %s\ninterval = 1s\n"
            % (prom.url, ERROR_RATIO, prom.url, prom.url)))
        inc.serve()
        c = inc.connect()
        c.until_synced()
        m = c.wait(lambda m: m.get("t") == "ephemeral" and any(
            s["service"] == "api" for s in m.get("series", [])), timeout=10)
        series = [s for s in m["series"] if s["service"] == "api"][0]
        t, v = series["t"], series["v"]
        print("\n  series api: %d points, %s .. %s" % (len(t), t[0], t[-1]))
        self.assertEqual(len(t), 3 * 3600 // 30 + 1)
        self.assertTrue(all(b - a == 30000 for a, b in zip(t, t[1:])))
        before = [x for tt, x in zip(t, v) if x is not None and tt < (onset - 600) * 1000
                  and tt > (now - 2 * 3600) * 1000]
        after = [x for tt, x in zip(t, v) if x is not None and (onset + 600) * 1000 < tt
                 < (now - 60) * 1000]
        self.assertTrue(before and after)
        # 0.1/(10+0.1) before, 4/(10+4) after
        for x in before:
            self.assertAlmostEqual(x, 0.1 / 10.1, places=4)
        for x in after:
            self.assertAlmostEqual(x, 4 / 14.0, places=4)

        st, took = wait_for("spike", lambda: (lambda s: s if s["spikes"] else None)(inc.state()))
        spike = st["spikes"][0]
        got = time.mktime(time.strptime(spike["onset"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        print("  spike onset %s, known onset %s: %+.0f s" % (
            spike["onset"], wr_prom.rfc3339(onset), got - onset))
        self.assertEqual(spike["service"], "api")
        self.assertLessEqual(abs(got - onset), 300)

        # the alerting rule's alert, id from its labels
        a, _ = wait_for("rule alert", lambda: alerts_by_name(inc.state(), "prom").get("ApiErrors"))
        self.assertEqual((a["service"], a["severity"], a["summary"]),
                         ("api", "critical", "api errors high"))
        self.assertRegex(a["id"], "^[0-9a-f]{16}$")

        # the bad query: stale with Prometheus's own words
        b, _ = wait_for("bad query stale", lambda: (lambda b: b if b and not b["ok"] else None)(
            backend(inc.state(), "bad")))
        print("  bad query: %s" % b["error"])
        self.assertIn("prometheus: HTTP 400", b["error"])
        self.assertIn("parse error", b["error"])
        self.assertTrue(backend(inc.state(), "api")["ok"])

        # check-config probes every source (blocking is fine there)
        r = inc.run("check-config")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("metrics api (prometheus): ok", r.stdout)
        self.assertIn("alerts prom (prometheus): ok", r.stdout)
        self.assertRegex(r.stdout, r"metrics bad \(prometheus\): FAILED: .*parse error")


@unittest.skipIf(SKIP, SKIP or "")
@unittest.skipUnless(wr_tmux.have_tmux(), "tmux is not installed")
class ConsoleAlertPane(unittest.TestCase):
    def test_alertmanager_alert_on_screen(self):
        am = wr_prom.Alertmanager(self)
        inc = wr_core.Incident(self, operators=wr_core.me(), extra=(
            "\n[alerts am]\ntype = alertmanager\nurl = %s\ninterval = 1s\n" % am.url))
        inc.serve()
        console = wr_tmux.Tmux(self, inc, cols=120, rows=32)
        console.wait_for("ALERTS")
        am.amtool_add("CheckoutDown", "service=checkout", "severity=critical",
                      annotations=["summary=checkout 5xx at 40%"])
        scr = console.wait_for("CheckoutDown", timeout=10)
        line = [l for l in scr.splitlines() if "CheckoutDown" in l][0]
        self.assertIn("checkout", line)
        self.assertIn("crit", line)


if __name__ == "__main__":
    unittest.main()
