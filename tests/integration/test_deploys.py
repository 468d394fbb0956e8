"""Deploy sources through a real session server: the deploy log followed as a
file (several services, appends, a line waiting for its newline, malformed
lines, rotation, truncation, restart without duplicates, the service filter)
and fetched over HTTP; Argo CD application history and GitHub deployments
against local stubs that check requests as the vendors do, with the vendors'
error bodies marking the source stale and the source recovering; and the
deploys feeding correlation against a real Prometheus."""
import json
import os
import signal
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import wr_core
import wr_vendors

T0 = 1795000000  # a fixed instant (2026-11-19), so versions and times are known


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def line(service, version, t, **extra):
    d = {"service": service, "version": version, "time": iso(t)}
    d.update(extra)
    return json.dumps(d) + "\n"


def wait_state(inc, pred, timeout=8.0, what="condition"):
    """Polls `warroom state --json` until pred(state) is true; returns it."""
    end = time.time() + timeout
    st = None
    while time.time() < end:
        st = inc.state()
        if pred(st):
            return st
        time.sleep(0.15)
    raise AssertionError("timed out waiting for %s; last state deploys=%s backends=%s\nlog:\n%s"
                         % (what, json.dumps(st and st.get("deploys")),
                            json.dumps(st and st.get("backends")), inc.read_log()))


def versions(st, service=None):
    return [(d["service"], d["version"]) for d in st["deploys"]
            if service is None or d["service"] == service]


def backend(st, name):
    for b in st["backends"]:
        if b["name"] == name:
            return b
    return None


def stop(inc, p):
    p.send_signal(signal.SIGTERM)
    p.wait(10)


class DeployLogFile(unittest.TestCase):
    def setUp(self):
        self.inc = None

    def incident(self, keys=""):
        self.log = None
        inc = wr_core.Incident(self, extra="")
        self.log = os.path.join(inc.dir, "deploys.jsonl")
        with open(inc.config, "a") as f:
            f.write("\n[deploys ci]\ntype = jsonl\npath = %s\n%s" % (self.log, keys))
        return inc

    def append(self, text):
        with open(self.log, "a", newline="") as f:
            f.write(text)

    def test_follow_append_malformed_restart(self):
        inc = self.incident()
        self.append(line("api", "2.3.0", T0, author="ci", url="https://ci.example/1"))
        self.append(line("web", "1.4", T0 + 60, author="alice"))
        self.append("this is not json\n")
        # CRLF endings, an escape sequence in the author, a numeric ref
        self.append(line("api", "2.4.0", T0 + 120, author="\x1b[31mci\x07", ref=5000000001)
                    .replace("\n", "\r\n"))
        self.append("\n")
        self.append(line("worker", "0.9", T0 + 30))
        p = inc.serve()
        st = wait_state(inc, lambda s: len(s["deploys"]) == 4, what="4 deploys")
        # sorted by time, whatever the order in the file
        self.assertEqual(versions(st), [("api", "2.3.0"), ("worker", "0.9"), ("web", "1.4"),
                                        ("api", "2.4.0")])
        first = st["deploys"][0]
        self.assertEqual(first["time"], iso(T0))
        self.assertEqual(first["author"], "ci")
        self.assertEqual(first["url"], "https://ci.example/1")
        self.assertEqual(first["source"], "jsonl")
        last = st["deploys"][3]
        self.assertEqual(last["author"], "ci")   # control characters stripped
        self.assertEqual(last["ref"], "5000000001")
        b = backend(st, "ci")
        self.assertFalse(b["ok"])
        self.assertIn("1 malformed line, last at line 3: not JSON", b["error"])

        # appended lines show up; half a line waits for its newline
        t_append = time.time()
        self.append(line("api", "2.4.1", T0 + 600))
        half = line("web", "1.5", T0 + 660)
        self.append(half[:20])
        st = wait_state(inc, lambda s: ("api", "2.4.1") in versions(s), timeout=5,
                        what="the appended deploy")
        print("\n  appended deploy seen after %.2f s" % (time.time() - t_append))
        time.sleep(1.3)
        self.assertNotIn(("web", "1.5"), versions(inc.state()))
        self.append(half[20:])
        self.append('{"service":"api","version":"2.5.0"}\n')   # no time: malformed
        st = wait_state(inc, lambda s: ("web", "1.5") in versions(s), timeout=5,
                        what="the completed line")
        st = wait_state(inc, lambda s: "2 malformed lines" in (backend(s, "ci")["error"] or ""),
                        timeout=5, what="the second malformed line")
        self.assertIn("2 malformed lines, last at line 9: \"time\" is missing",
                      backend(st, "ci")["error"])
        self.assertEqual(len(st["deploys"]), 6)

        # restart: the log is read again, nothing is journaled twice
        stop(inc, p)
        seen = [e for e in inc.journal_events() if e["kind"] == "deploy.seen"]
        self.assertEqual(len(seen), 6)
        p = inc.serve()
        self.append(line("api", "2.6.0", T0 + 900))
        st = wait_state(inc, lambda s: ("api", "2.6.0") in versions(s), what="a deploy after restart")
        time.sleep(1.2)
        stop(inc, p)
        seen = [e for e in inc.journal_events() if e["kind"] == "deploy.seen"]
        keys = [(e["service"], e["version"], e["time"]) for e in seen]
        self.assertEqual(len(keys), 7, keys)
        self.assertEqual(len(set(keys)), 7, keys)
        for e in seen:
            self.assertEqual(e["by"], "ci")

    def test_rotation_truncation_and_filter(self):
        inc = self.incident("service = api\n")
        self.append(line("api", "1.0", T0))
        self.append(line("web", "7.0", T0 + 10))
        self.append("garbage\n")
        inc.serve()
        st = wait_state(inc, lambda s: len(s["deploys"]) == 1 and backend(s, "ci") is not None
                        and backend(s, "ci")["error"], what="the first deploy")
        self.assertEqual(versions(st), [("api", "1.0")])   # web filtered out
        self.assertIn("1 malformed line", backend(st, "ci")["error"])

        # rotation: the old file gets one more line after the rename, then a
        # new file starts; both are read, and the new file is clean
        os.rename(self.log, self.log + ".1")
        with open(self.log + ".1", "a") as f:
            f.write(line("api", "1.1", T0 + 100))
        self.append(line("api", "1.2", T0 + 200))
        st = wait_state(inc, lambda s: versions(s) == [("api", "1.0"), ("api", "1.1"),
                                                       ("api", "1.2")], what="rotation")
        st = wait_state(inc, lambda s: backend(s, "ci")["ok"], what="health after rotation")
        self.assertIsNone(backend(st, "ci")["error"])

        # truncation: the file shrinks and is read again from the start
        with open(self.log, "w") as f:
            f.write(line("api", "1.3", T0 + 300))
        st = wait_state(inc, lambda s: ("api", "1.3") in versions(s), what="after truncation")
        self.assertEqual(len(st["deploys"]), 4)

    def test_missing_file_then_created(self):
        inc = self.incident()
        inc.serve()
        st = wait_state(inc, lambda s: backend(s, "ci") is not None, what="health")
        b = backend(st, "ci")
        self.assertFalse(b["ok"])
        self.assertIn("No such file or directory", b["error"])
        self.append(line("api", "3.0", T0))
        st = wait_state(inc, lambda s: versions(s) == [("api", "3.0")] and backend(s, "ci")["ok"],
                        what="the file to be picked up")

    def test_large_log_read_in_chunks(self):
        inc = self.incident()
        n = 3000
        with open(self.log, "w") as f:
            for i in range(n):
                f.write(line("svc%d" % (i % 7), "1.%d" % i, T0 + i, author="ci",
                             url="https://ci.example/build/%d" % i))
        size = os.path.getsize(self.log)
        t = time.time()
        inc.serve()
        # the server keeps answering while it reads (it never blocks on the file)
        st = inc.state()
        self.assertIn("deploys", st)
        st = wait_state(inc, lambda s: len(s["deploys"]) == n, timeout=30, what="all deploys")
        print("\n  %d deploys (%d KiB) journaled in %.2f s" % (n, size // 1024, time.time() - t))
        self.assertEqual(st["deploys"][-1]["version"], "1.%d" % (n - 1))


class LogServer:
    """Serves a deploy log over HTTP from a thread; counts requests."""

    def __init__(self, tc):
        self.body = b""
        self.requests = []
        srv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                srv.requests.append(dict(self.headers.items()))
                body = srv.body
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/deploys.jsonl" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        tc.addCleanup(self.close)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class DeployLogHttp(unittest.TestCase):
    def test_polled_log(self):
        ls = LogServer(self)
        ls.body = (line("api", "2.3.0", T0) + line("web", "1.4", T0 + 60)).encode()
        os.environ["WR_LOG_TOKEN"] = "log-token-1"
        self.addCleanup(os.environ.pop, "WR_LOG_TOKEN", None)
        inc = wr_core.Incident(self, extra="\n[deploys remote]\ntype = jsonl\nurl = %s\n"
                               "interval = 1\ntoken = ${WR_LOG_TOKEN}\n" % ls.url)
        inc.serve()
        st = wait_state(inc, lambda s: len(s["deploys"]) == 2, what="deploys over HTTP")
        self.assertTrue(backend(st, "remote")["ok"])
        self.assertEqual(ls.requests[0].get("Authorization"), "Bearer log-token-1")
        # the log grows (no final newline) and gains a bad line
        ls.body += (line("api", "2.4.0", T0 + 120) + "{oops}\n" +
                    line("web", "1.5", T0 + 180).rstrip("\n")).encode()
        st = wait_state(inc, lambda s: len(s["deploys"]) == 4, what="the grown log")
        st = wait_state(inc, lambda s: not backend(s, "remote")["ok"], what="malformed report")
        self.assertIn("1 malformed line, last at line 4: not JSON", backend(st, "remote")["error"])
        # a bad line does not fail the poll itself (no backoff): later lines keep coming
        n = len(ls.requests)
        ls.body += ("\n" + line("api", "2.4.1", T0 + 240)).encode()
        st = wait_state(inc, lambda s: len(s["deploys"]) == 5, what="a line after the bad one")
        self.assertIsNotNone(backend(st, "remote")["last_success"])
        time.sleep(1.5)
        self.assertGreater(len(ls.requests), n + 1)
        seen = [e for e in inc.journal_events() if e["kind"] == "deploy.seen"]
        self.assertEqual(len(seen), 5)   # polled again and again, journaled once


ARGO = "argo-canary-77a1"
GH = "gh-canary-41f0"
SHA = ["%040x" % (0xa11ce + i * 0x1000003) for i in range(6)]


class VendorDeploys(unittest.TestCase):
    def setUp(self):
        self.stub = wr_vendors.VendorStub(self, argo_token=ARGO, github_token=GH,
                                          argo_history=(11, 12))
        for k, v in (("WR_ARGO", ARGO), ("WR_GH", GH)):
            os.environ[k] = v
            self.addCleanup(os.environ.pop, k, None)

    def test_argocd_history_stale_and_recovery_and_rollback(self):
        self.stub.argo_apps["checkout-api"] = [
            {"id": 11, "revision": SHA[0], "deployedAt": iso(T0),
             "source": {"repoURL": "https://git.example.com/deploy.git",
                        "kustomize": {"images": ["registry.example.com/api:2.3.0"]}}},
            {"id": 12, "revision": SHA[1], "deployedAt": iso(T0 + 600),
             "source": {"repoURL": "https://git.example.com/deploy.git",
                        "kustomize": {"images": ["registry.example.com/api:2.4.0"]}},
             "initiatedBy": {"username": "bob"}},
        ]
        inc = wr_core.Incident(self, operators=wr_core.me(), extra=(
            "\n[deploys argo]\ntype = argocd\nurl = %s\napp = checkout-api\nservice = api\n"
            "token = ${WR_ARGO}\ninterval = 1\n\n"
            "[rollback api]\nvia = argocd\nurl = %s\napp = checkout-api\ntoken = ${WR_ARGO}\n"
            % (self.stub.url, self.stub.url)))
        inc.serve()
        st = wait_state(inc, lambda s: len(s["deploys"]) == 2, what="Argo CD history")
        d0, d1 = st["deploys"]
        self.assertEqual((d0["service"], d0["version"], d0["ref"]), ("api", "2.3.0", "11"))
        self.assertEqual((d1["version"], d1["ref"], d1["author"]), ("2.4.0", "12", "bob"))
        self.assertEqual(d1["time"], iso(T0 + 600))
        self.assertEqual(d1["source"], "argocd")
        self.assertTrue(backend(st, "argo")["ok"])
        gets = self.stub.matching("GET", "/api/v1/applications/checkout-api")
        self.assertEqual(gets[0].headers["authorization"], "Bearer " + ARGO)
        self.assertEqual(self.stub.problems, [])

        # the token is revoked: Argo CD's message marks the source stale
        self.stub.tokens["argo"] = "rotated"
        st = wait_state(inc, lambda s: not backend(s, "argo")["ok"], what="stale")
        err = backend(st, "argo")["error"]
        self.assertIn("401", err)
        self.assertIn("invalid session: token is invalid", err)
        self.assertNotIn(ARGO, err)
        self.assertEqual(len(st["deploys"]), 2)   # the last data is kept
        # back again, with a new sync in the history
        self.stub.argo_apps["checkout-api"].append(
            {"id": 13, "revision": SHA[2], "deployedAt": iso(T0 + 900), "source": {}})
        self.stub.tokens["argo"] = ARGO
        st = wait_state(inc, lambda s: backend(s, "argo")["ok"] and len(s["deploys"]) == 3,
                        what="recovery")
        self.assertEqual(st["deploys"][2]["version"], SHA[2][:7])
        self.assertIsNone(backend(st, "argo")["error"])

        # the history id travels to the rollback: back to 2.4.0 is {"id":12}
        r = inc.run("assign", "primary", wr_core.me())
        self.assertEqual(r.returncode, 0, r.stderr)
        r = inc.run("rollback", "api", "--to", "2.4.0", "--yes")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # (wait_for holds the stub's lock: read requests directly)
        req = self.stub.wait_for(lambda s: [q for q in s.requests if q.method == "POST" and
                                            q.path.endswith("/checkout-api/rollback")])
        self.assertIsNotNone(req, inc.read_log())
        self.assertEqual(req[0].raw, b'{"id":12}')
        for text in (json.dumps(inc.state()), inc.journal_bytes().decode()):
            self.assertNotIn(ARGO, text)

    def test_argocd_unknown_app_is_reported(self):
        inc = wr_core.Incident(self, extra=(
            "\n[deploys argo]\ntype = argocd\nurl = %s\napp = no-such-app\ntoken = ${WR_ARGO}\n"
            "interval = 1\n" % self.stub.url))
        inc.serve()
        st = wait_state(inc, lambda s: backend(s, "argo") is not None, what="health")
        b = backend(st, "argo")
        self.assertFalse(b["ok"])
        self.assertIn("403", b["error"])
        self.assertIn("permission denied", b["error"])
        self.assertEqual(st["deploys"], [])

    def test_github_deployments_not_found_then_recovers(self):
        inc = wr_core.Incident(self, operators=wr_core.me(), extra=(
            "\n[deploys gh]\ntype = github\nurl = %s\nrepo = acme/web\nenvironment = prod\n"
            "token = ${WR_GH}\ninterval = 1\n\n"
            "[rollback web]\nvia = github\nurl = %s\nrepo = acme/web\nenvironment = prod\n"
            "token = ${WR_GH}\n" % (self.stub.url, self.stub.url)))
        inc.serve()
        # the repository is not there (or the token cannot see it): GitHub's 404
        st = wait_state(inc, lambda s: backend(s, "gh") is not None, what="health")
        b = backend(st, "gh")
        self.assertFalse(b["ok"])
        self.assertIn("404", b["error"])
        self.assertIn("Not Found", b["error"])

        def dep(i, ref, env, t, login="deployer"):
            return {"id": 5000000000 + i, "sha": SHA[i], "ref": ref, "environment": env,
                    "created_at": iso(t), "creator": {"login": login},
                    "statuses_url": "%s/repos/acme/web/deployments/%d/statuses"
                    % (self.stub.url, 5000000000 + i)}
        self.stub.gh_repos["acme/web"] = [   # newest first, as GitHub lists them
            dep(4, "main", "prod", T0 + 400, "carol"),
            dep(3, "v1.5.0", "staging", T0 + 300),
            dep(2, "v1.5.0", "prod", T0 + 200),
            dep(1, SHA[1], "prod", T0 + 100),
            dep(0, "v1.4.0", "prod", T0, "bob"),
        ]
        st = wait_state(inc, lambda s: backend(s, "gh")["ok"] and len(s["deploys"]) == 4,
                        what="deployments")
        self.assertEqual([(d["version"], d["ref"]) for d in st["deploys"]],
                         [("v1.4.0", SHA[0]), (SHA[1][:7], SHA[1]), ("v1.5.0", SHA[2]),
                          ("main@" + SHA[4][:7], SHA[4])])
        self.assertEqual({d["service"] for d in st["deploys"]}, {"web"})
        self.assertEqual(st["deploys"][0]["author"], "bob")
        self.assertEqual(st["deploys"][3]["source"], "github")
        self.assertIsNone(backend(st, "gh")["error"])
        last = self.stub.matching("GET", "/repos/acme/web/deployments")[-1]
        self.assertEqual(last.path, "/repos/acme/web/deployments?environment=prod&per_page=100")
        self.assertEqual(last.headers["accept"], "application/vnd.github+json")
        self.assertEqual(last.headers["authorization"], "Bearer " + GH)
        self.assertTrue(last.headers.get("user-agent", "").startswith("warroom/"))

        # the sha travels to the rollback: a new deployment of v1.4.0's commit
        r = inc.run("assign", "primary", wr_core.me())
        self.assertEqual(r.returncode, 0, r.stderr)
        r = inc.run("rollback", "web", "--to", "v1.4.0", "--yes")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        made = self.stub.wait_for(lambda s: s.deployments)
        self.assertIsNotNone(made, inc.read_log())
        self.assertEqual(made[0]["ref"], SHA[0])
        self.assertEqual(self.stub.problems, [])

    def test_check_config_probes(self):
        self.stub.argo_apps["shop"] = [{"id": 1, "revision": SHA[0], "deployedAt": iso(T0)}]
        inc = wr_core.Incident(self, extra=(
            "\n[deploys argo]\ntype = argocd\nurl = %s\napp = shop\ntoken = ${WR_ARGO}\n\n"
            "[deploys gh]\ntype = github\nurl = %s\nrepo = acme/gone\ntoken = ${WR_GH}\n"
            % (self.stub.url, self.stub.url)))
        log = os.path.join(inc.dir, "deploys.jsonl")
        with open(log, "w") as f:
            f.write(line("api", "1.0", T0) + "{}\n")
        with open(inc.config, "a") as f:
            f.write("\n[deploys ci]\ntype = jsonl\npath = %s\n" % log)
        r = inc.run("check-config")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("deploys argo (argocd): ok", r.stdout)
        self.assertIn("deploys gh (github): FAILED: github: HTTP 404: Not Found", r.stdout)
        self.assertIn("deploys ci (jsonl): FAILED: %s: 1 malformed line, last at line 2: "
                      "\"service\" is missing" % log, r.stdout)
        self.assertEqual(self.stub.problems, [])

    def test_config_errors_name_the_line(self):
        inc = wr_core.Incident(self, extra=(
            "\n[deploys gh]\ntype = github\nrepo = acme\n"))
        r = inc.run("check-config")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("config.ini:", r.stderr)
        self.assertIn("repo = OWNER/NAME", r.stderr)
        inc2 = wr_core.Incident(self, extra=(
            "\n[deploys log]\ntype = jsonl\npath = /tmp/x\nurl = http://127.0.0.1:1/\n"))
        r = inc2.run("check-config")
        self.assertEqual(r.returncode, 2)
        self.assertIn("only one of path = FILE or url = URL", r.stderr)
        inc3 = wr_core.Incident(self, extra=(
            "\n[deploys argo]\ntype = argocd\nurl = http://127.0.0.1:1\napp = a\n"
            "token = t\ninterval = soon\n"))
        r = inc3.run("check-config")
        self.assertEqual(r.returncode, 2)
        self.assertIn("interval must be seconds", r.stderr)


class Correlation(unittest.TestCase):
    """Deploys of several services from the log plus an error series with a
    spike from a real Prometheus: the suspect is the deploy just before the
    onset, of the spiking service, and the last good is the one before it."""

    def test_suspect_and_last_good(self):
        try:
            import wr_prom
        except ImportError:
            self.skipTest("tests/lib/wr_prom.py (Prometheus helper) is not here")
        why = wr_prom.available()
        if why:
            self.skipTest(why)
        now = time.time()
        text, onset = wr_prom.error_counters(now, service="api", onset_ago=1200)
        prom = wr_prom.Prometheus(self, text)
        inc = wr_core.Incident(self)
        log = os.path.join(inc.dir, "deploys.jsonl")
        with open(log, "w") as f:
            f.write(line("api", "2.2.0", onset - 7200))
            f.write(line("web", "1.4", onset - 5400))
            f.write(line("api", "2.3.0", onset - 3600))
            f.write(line("worker", "0.9", onset - 400))
            f.write(line("api", "2.4.0", onset - 180))
            f.write(line("web", "1.5", onset + 300))   # after the onset: never a suspect
        with open(inc.config, "a") as f:
            f.write("\n[deploys ci]\ntype = jsonl\npath = %s\n\n"
                    "[metrics errors]\ntype = prometheus\nurl = %s\nservice = api\n"
                    "query = sum(rate(http_requests_total{code=~\"5..\"}[5m])) / "
                    "sum(rate(http_requests_total[5m]))\nrange = 3h\nstep = 30s\ninterval = 2\n"
                    % (log, prom.url))
        inc.serve()
        st = wait_state(inc, lambda s: s["suspects"], timeout=20, what="a suspect")
        top = st["suspects"][0]
        self.assertEqual((top["service"], top["version"]), ("api", "2.4.0"), st["suspects"])
        self.assertEqual(top["last_good"], "2.3.0")
        self.assertTrue(top["reason"])
        self.assertEqual(st["spikes"][0]["service"], "api")
        self.assertNotIn(("web", "1.5"), [(s["service"], s["version"]) for s in st["suspects"]])


if __name__ == "__main__":
    unittest.main()
