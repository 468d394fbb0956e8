"""Local stand-ins for the SaaS APIs warroom talks to (Statuspage, Cachet,
Slack incoming webhooks, Argo CD application history and rollback, GitHub
deployments listed and created, a generic webhook). Each checks the request the way the vendor would (method,
path, auth header, content type, body shape) and answers like the vendor,
including its error bodies. Every request is recorded; `problems` lists what
a real vendor would have refused, so a test can assert it stays empty.

The server runs in a thread of the test process, so it outlives any warroom
server the test kills and restarts. Failures can be queued per route:
stub.fail("POST", "/v1/pages/p1/incidents", 503, "busy").
"""
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATUSPAGE_STATES = {"investigating", "identified", "monitoring", "resolved"}


class Request:
    def __init__(self, method, path, headers, raw):
        self.method = method
        self.path = path
        self.headers = headers
        self.raw = raw
        self.time = time.time()
        try:
            self.json = json.loads(raw.decode()) if raw else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "%s %s %r" % (self.method, self.path, self.raw[:200])


class VendorStub:
    def __init__(self, testcase, statuspage_key="sp-key", cachet_token="cachet-token",
                 argo_token="argo-token", github_token="gh-token", argo_history=(1, 2, 3),
                 argo_autosync=False):
        self.tokens = {"statuspage": statuspage_key, "cachet": cachet_token,
                       "argo": argo_token, "github": github_token}
        self.argo_history = set(argo_history)
        self.argo_autosync = argo_autosync
        self.requests = []
        self.problems = []
        self.queued = {}            # (method, path) -> [(status, body, headers)]
        self.stalls = {}            # (method, path) -> threading.Event
        self._gates = []
        self.incidents = {}         # statuspage id -> dict
        self.cachet = {}            # cachet id -> dict
        self.deployments = []
        # read side: Argo CD application -> status.history[] (oldest first),
        # "owner/repo" -> GitHub deployments (newest first, as GitHub lists them)
        self.argo_apps = {}
        self.gh_repos = {}
        self.slack_messages = []
        self.hooks = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                status, body, headers = stub._route(req)
                data = body if isinstance(body, bytes) else (
                    body.encode() if isinstance(body, str) else json.dumps(body).encode())
                self.send_response(status)
                ctype = "application/json" if not isinstance(body, (str, bytes)) else "text/plain"
                self.send_header("Content-Type", ctype)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass  # the client went away (a server killed mid-request)
                with stub.cond:
                    stub.cond.notify_all()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        testcase.addCleanup(self.stop)

    def stop(self):
        for gate in self._gates:
            gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- test controls --------------------------------------------------------

    def fail(self, method, path, status, body="", headers=None, times=1):
        with self.lock:
            self.queued.setdefault((method, path), []).extend([(status, body, headers)] * times)

    def stall(self, method, path):
        """Holds every request to (method, path) until the returned event is
        set (or 120 s pass), then answers it as usual. A client that gave up
        or died meanwhile is answered into the void."""
        gate = threading.Event()
        with self.lock:
            self.stalls[(method, path)] = gate
        self._keep_gate(gate)
        return gate

    def unstall(self, method, path):
        with self.lock:
            gate = self.stalls.pop((method, path), None)
        if gate is not None:
            gate.set()

    def clear_failures(self, method, path):
        with self.lock:
            self.queued.pop((method, path), None)

    def _keep_gate(self, gate):
        # a test that fails before releasing a stall must not leave a
        # handler thread waiting past the stub's shutdown
        self._gates.append(gate)

    def wait_for(self, pred, timeout=10.0):
        """Waits until pred(stub) is true; returns its value or None."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                v = pred(self)
                if v:
                    return v
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.1))

    def matching(self, method, prefix):
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    # -- routing --------------------------------------------------------------

    def _problem(self, req, what):
        self.problems.append("%s %s: %s" % (req.method, req.path, what))

    def _route(self, req):
        with self.lock:
            self.requests.append(req)
            gate = self.stalls.get((req.method, req.path))
            self.cond.notify_all()
        if gate is not None:
            gate.wait(120)
        with self.lock:
            q = self.queued.get((req.method, req.path))
            if q:
                return q.pop(0)
        for pattern, fn in self.routes:
            m = re.fullmatch(pattern, req.path.split("?")[0])
            if m:
                with self.lock:
                    return fn(self, req, *m.groups())
        with self.lock:
            self._problem(req, "no such endpoint")
        return 404, {"message": "Not Found"}, None

    # Statuspage -----------------------------------------------------------------

    def _sp_auth(self, req):
        if req.headers.get("authorization") != "OAuth " + self.tokens["statuspage"]:
            self._problem(req, "bad Authorization %r" % req.headers.get("authorization"))
            return 401, {"error": "Could not authenticate"}, None
        return None

    def _sp_incident_body(self, req, create):
        if "application/json" not in req.headers.get("content-type", ""):
            self._problem(req, "Content-Type is not JSON")
        inc = (req.json or {}).get("incident") if isinstance(req.json, dict) else None
        if not isinstance(inc, dict):
            self._problem(req, "body lacks an incident object")
            return None, (422, {"error": "incident is missing"}, None)
        if create and not inc.get("name"):
            self._problem(req, "create without a name")
            return None, (422, {"error": "name can't be blank"}, None)
        if "status" in inc and inc["status"] not in STATUSPAGE_STATES:
            self._problem(req, "bad status %r" % inc.get("status"))
            return None, (422, {"error": "status is not included in the list"}, None)
        return inc, None

    def _sp_create(self, req, page):
        bad = self._sp_auth(req)
        if bad:
            return bad
        inc, err = self._sp_incident_body(req, True)
        if err:
            return err
        iid = "inc%d" % (len(self.incidents) + 1)
        self.incidents[iid] = {"id": iid, "name": inc["name"], "status": inc.get("status"),
                               "page": page, "updates": [inc.get("body")]}
        return 201, self.incidents[iid], None

    def _sp_patch(self, req, page, iid):
        bad = self._sp_auth(req)
        if bad:
            return bad
        if iid not in self.incidents:
            self._problem(req, "PATCH of unknown incident %s" % iid)
            return 404, {"error": "The requested resource could not be found."}, None
        inc, err = self._sp_incident_body(req, False)
        if err:
            return err
        cur = self.incidents[iid]
        cur["status"] = inc.get("status", cur["status"])
        cur["updates"].append(inc.get("body"))
        return 200, cur, None

    def _sp_unresolved(self, req, page):
        bad = self._sp_auth(req)
        if bad:
            return bad
        return 200, [i for i in self.incidents.values()
                     if i["page"] == page and i["status"] != "resolved"], None

    # Cachet ------------------------------------------------------------------------

    def _cachet_check(self, req):
        if req.headers.get("x-cachet-token") != self.tokens["cachet"]:
            self._problem(req, "bad X-Cachet-Token")
            return 401, {"errors": [{"status": 401, "detail": "You are not authorized"}]}, None
        b = req.json if isinstance(req.json, dict) else {}
        if not isinstance(b.get("status"), int) or not 1 <= b["status"] <= 4:
            self._problem(req, "status must be a number 1..4, got %r" % b.get("status"))
            return 400, {"errors": [{"status": 400, "detail": "The status must be 1-4."}]}, None
        if not b.get("message"):
            self._problem(req, "no message")
            return 400, {"errors": [{"status": 400, "detail": "The message field is required."}]}, None
        return None

    def _cachet_create(self, req):
        bad = self._cachet_check(req)
        if bad:
            return bad
        if not req.json.get("name"):
            self._problem(req, "no name")
            return 400, {"errors": [{"detail": "The name field is required."}]}, None
        cid = len(self.cachet) + 1
        self.cachet[cid] = dict(req.json, id=cid, history=[req.json["status"]])
        return 200, {"data": self.cachet[cid]}, None

    def _cachet_put(self, req, cid):
        bad = self._cachet_check(req)
        if bad:
            return bad
        cid = int(cid)
        if cid not in self.cachet:
            self._problem(req, "PUT of unknown incident %d" % cid)
            return 404, {"errors": [{"detail": "Resource not found"}]}, None
        self.cachet[cid].update(req.json)
        self.cachet[cid]["history"].append(req.json["status"])
        return 200, {"data": self.cachet[cid]}, None

    # Slack ----------------------------------------------------------------------------

    def _slack(self, req, rest):
        b = req.json
        if not isinstance(b, dict) or not isinstance(b.get("text"), str) or not b["text"]:
            return 400, "invalid_payload", None
        if rest == "T000/B000/gone":
            return 404, "channel_not_found", None
        self.slack_messages.append(b["text"])
        return 200, "ok", None

    # Argo CD ---------------------------------------------------------------------------

    def _argo(self, req, app):
        if req.headers.get("authorization") != "Bearer " + self.tokens["argo"]:
            self._problem(req, "bad Authorization")
            return 401, {"error": "invalid session", "code": 16,
                         "message": "invalid session: token is invalid"}, None
        b = req.json
        if not isinstance(b, dict) or not isinstance(b.get("id"), int) or isinstance(b.get("id"), bool):
            self._problem(req, "id is not a JSON number: %r" % req.raw)
            return 400, {"error": "json: cannot unmarshal string into Go struct field "
                         "ApplicationRollbackRequest.id of type int64", "code": 3,
                         "message": "json: cannot unmarshal string into Go struct field "
                         "ApplicationRollbackRequest.id of type int64"}, None
        if self.argo_autosync:
            msg = "rollback cannot be initiated when auto-sync is enabled"
            return 400, {"error": msg, "code": 9, "message": msg}, None
        if b["id"] not in self.argo_history:
            msg = "application %s does not have deployment with id %d" % (app, b["id"])
            return 400, {"error": msg, "code": 3, "message": msg}, None
        return 200, {"metadata": {"name": app}, "status": {"sync": {"status": "OutOfSync"}}}, None

    def _argo_app(self, req, app):
        if req.method != "GET":
            return 405, {"error": "method not allowed", "code": 12,
                         "message": "method not allowed"}, None
        if req.headers.get("authorization") != "Bearer " + self.tokens["argo"]:
            self._problem(req, "bad Authorization")
            return 401, {"error": "invalid session: token is invalid", "code": 16,
                         "message": "invalid session: token is invalid"}, None
        if app not in self.argo_apps:
            # Argo CD does not say whether an app exists to someone who may not see it
            return 403, {"error": "permission denied", "code": 7,
                         "message": "permission denied"}, None
        return 200, {"metadata": {"name": app, "namespace": "argocd"},
                     "spec": {"source": {"repoURL": "https://git.example.com/deploy.git"}},
                     "status": {"sync": {"status": "Synced"},
                                "health": {"status": "Healthy"},
                                "history": self.argo_apps[app]}}, None

    # GitHub ------------------------------------------------------------------------------

    def _github_headers(self, req):
        if not req.headers.get("user-agent"):
            self._problem(req, "no User-Agent")
            return 403, {"message": "Request forbidden by administrative rules. Please make "
                         "sure your request has a User-Agent header"}, None
        if req.headers.get("accept") != "application/vnd.github+json":
            self._problem(req, "Accept is %r" % req.headers.get("accept"))
        if req.headers.get("authorization") != "Bearer " + self.tokens["github"]:
            self._problem(req, "bad Authorization")
            return 401, {"message": "Bad credentials",
                         "documentation_url": "https://docs.github.com/rest"}, None
        return None

    def _github_list(self, req, owner, repo):
        bad = self._github_headers(req)
        if bad:
            return bad
        key = "%s/%s" % (owner, repo)
        if key not in self.gh_repos:
            return 404, {"message": "Not Found", "documentation_url":
                         "https://docs.github.com/rest/deployments/deployments#list-deployments"}, None
        from urllib.parse import parse_qs, urlsplit
        q = parse_qs(urlsplit(req.path).query)
        env = q.get("environment", [None])[0]
        per_page = int(q.get("per_page", ["30"])[0])
        if not 1 <= per_page <= 100:
            self._problem(req, "per_page %d out of 1..100" % per_page)
        deps = [d for d in self.gh_repos[key] if env is None or d.get("environment") == env]
        return 200, deps[:max(1, min(per_page, 100))], None


    def _github(self, req, owner, repo):
        if req.method == "GET":
            return self._github_list(req, owner, repo)
        bad = self._github_headers(req)
        if bad:
            return bad
        b = req.json if isinstance(req.json, dict) else {}
        if not isinstance(b.get("ref"), str) or not b["ref"]:
            return 422, {"message": "Invalid request.\n\n\"ref\" wasn't supplied."}, None
        if b["ref"] == "deadbeef":
            return 409, {"message": "Conflict: Commit status checks failed for deadbeef."}, None
        did = 5000000000 + len(self.deployments) + 1   # above 2^31, like real ids
        self.deployments.append(dict(b, id=did, repo="%s/%s" % (owner, repo)))
        return 201, {"id": did, "sha": b["ref"], "ref": b["ref"],
                     "environment": b.get("environment")}, None

    # generic webhook ---------------------------------------------------------------------

    def _hook(self, req, name):
        if req.json is None:
            self._problem(req, "body is not JSON")
            return 400, {"error": "bad json"}, None
        self.hooks.append((name, req.json, req.headers))
        return 200, {"ok": True}, None

    routes = [
        (r"/v1/pages/([^/]+)/incidents", lambda s, r, p: s._sp_create(r, p)
         if r.method == "POST" else (405, {"error": "method"}, None)),
        (r"/v1/pages/([^/]+)/incidents/unresolved", lambda s, r, p: s._sp_unresolved(r, p)),
        (r"/v1/pages/([^/]+)/incidents/([^/]+)", lambda s, r, p, i: s._sp_patch(r, p, i)
         if r.method == "PATCH" else (405, {"error": "method"}, None)),
        (r"/api/v1/incidents", lambda s, r: s._cachet_create(r)),
        (r"/api/v1/incidents/(\d+)", lambda s, r, i: s._cachet_put(r, i)),
        (r"/services/(.+)", lambda s, r, rest: s._slack(r, rest)),
        (r"/api/v1/applications/([^/]+)/rollback", lambda s, r, a: s._argo(r, a)),
        (r"/api/v1/applications/([^/]+)", lambda s, r, a: s._argo_app(r, a)),
        (r"/repos/([^/]+)/([^/]+)/deployments", lambda s, r, o, n: s._github(r, o, n)),
        (r"/hook/([^/]+)", lambda s, r, n: s._hook(r, n)),
    ]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p
