"""A private Alertmanager and Prometheus on free loopback ports, plus small
HTTP stubs that misbehave on purpose, for the alert and metric source tests.

Alertmanager(tc) starts /usr/bin/prometheus-alertmanager (no clustering) in a
temp dir and waits for /-/ready; stop() and start() keep the same port.
Prometheus(tc, openmetrics_text) backfills the text with promtool into an
empty TSDB directory, then starts prometheus on it. Both are stopped by pid in
the test's cleanup. Stub(tc) serves whatever its `mode` says from a thread.
"""
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
AMTOOL = "/usr/bin/amtool"
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def available():
    """None when the servers can run here, else the reason to skip."""
    for path in (ALERTMANAGER, AMTOOL, PROMETHEUS, PROMTOOL):
        if not os.path.exists(path):
            return "%s is missing (Debian packages prometheus, prometheus-alertmanager)" % path
    return None


def http_json(method, url, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        text = r.read().decode()
    return json.loads(text) if text.strip() else None


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


class _Server:
    """A child process in a temp dir, stopped by pid."""

    def __init__(self, tc, prefix):
        self.tc = tc
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        tc.addCleanup(shutil.rmtree, self.dir, True)
        tc.addCleanup(self.stop)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None
        self.log = os.path.join(self.dir, "server.log")

    def _spawn(self, argv):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(argv, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
                                     cwd=self.dir)
        logf.close()
        end = time.time() + 30
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited %s:\n%s" % (argv[0], self.proc.returncode,
                                                            self.read_log()))
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("%s not ready:\n%s" % (argv[0], self.read_log()))

    def stop(self):
        p, self.proc = self.proc, None
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    def kill(self):
        p, self.proc = self.proc, None
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(5)

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""


class Alertmanager(_Server):
    def __init__(self, tc):
        super().__init__(tc, "wram-")
        self.config = os.path.join(self.dir, "am.yml")
        with open(self.config, "w") as f:
            f.write('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
        self.start()

    def start(self):
        self._spawn([ALERTMANAGER, "--config.file=" + self.config,
                     "--storage.path=" + os.path.join(self.dir, "data"),
                     "--web.listen-address=127.0.0.1:%d" % self.port,
                     "--cluster.listen-address="])

    def amtool_add(self, name, *labels, annotations=()):
        argv = [AMTOOL, "--alertmanager.url=" + self.url, "alert", "add", name] + list(labels)
        argv += ["--annotation=%s" % a for a in annotations]
        subprocess.run(argv, check=True, capture_output=True, timeout=10,
                       stdin=subprocess.DEVNULL)

    def post_alerts(self, alerts):
        http_json("POST", self.url + "/api/v2/alerts", alerts)

    def alerts(self):
        return http_json("GET", self.url + "/api/v2/alerts")

    def silences(self):
        return http_json("GET", self.url + "/api/v2/silences")


class Prometheus(_Server):
    """Prometheus serving backfilled OpenMetrics text (no scraping)."""

    def __init__(self, tc, openmetrics, rules=None):
        """rules: text of a rule file (groups: ...), evaluated every second."""
        super().__init__(tc, "wrprom-")
        self.config = os.path.join(self.dir, "prom.yml")
        with open(self.config, "w") as f:
            f.write("global:\n  scrape_interval: 15s\n  evaluation_interval: 1s\n")
            if rules:
                path = os.path.join(self.dir, "rules.yml")
                with open(path, "w") as r:
                    r.write(rules)
                f.write("rule_files:\n  - %s\n" % path)
        data = os.path.join(self.dir, "data")
        os.mkdir(data)
        src = os.path.join(self.dir, "backfill.om")
        with open(src, "w") as f:
            f.write(openmetrics)
        r = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", src, data],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise AssertionError("promtool failed: %s%s" % (r.stdout, r.stderr))
        self._spawn([PROMETHEUS, "--config.file=" + self.config,
                     "--storage.tsdb.path=" + data,
                     "--storage.tsdb.retention.time=30d",
                     "--web.listen-address=127.0.0.1:%d" % self.port])

    def query_range(self, query, start, end, step):
        q = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": step})
        return http_json("GET", self.url + "/api/v1/query_range?" + q)


def error_counters(now, service="api", onset_ago=1200, hours=3, step=15,
                   base_rate=10.0, base_err=0.1, spike_err=4.0):
    """OpenMetrics text: http_requests_total counters for `service` over the
    last `hours`, one sample per `step` seconds; the 5xx rate jumps from
    base_err to spike_err requests/s at now - onset_ago. Returns (text,
    onset unix seconds)."""
    start = int(now) - hours * 3600
    start -= start % step
    onset = int(now) - onset_ago
    ok = err = 0.0
    ok_lines, err_lines = [], []
    t = start
    while t <= now - 1:
        ok_lines.append('http_requests_total{service="%s",code="200"} %.1f %d' % (service, ok, t))
        err_lines.append('http_requests_total{service="%s",code="500"} %.1f %d' % (service, err, t))
        ok += base_rate * step
        err += (spike_err if t >= onset else base_err) * step
        t += step
    text = "# TYPE http_requests counter\n" + "\n".join(ok_lines) + "\n" + \
        "\n".join(err_lines) + "\n# EOF\n"
    return text, onset


class Stub:
    """A loopback HTTP server whose answers the test sets through `mode`:
    "good" (the body in self.good), "stall" (sleeps before answering),
    "truncated" (half a JSON document), "huge" (a body of huge_bytes with
    its Content-Length), "huge-stream" (the same without a length, until the
    connection closes), or "error" (HTTP 503 with a JSON error). Counts
    requests."""

    def __init__(self, tc, good=b"[]"):
        self.good = good
        self.mode = "good"
        self.stall_s = 5.0
        self.huge_bytes = 50 * 1000 * 1000
        self.requests = 0
        self.lock = threading.Lock()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                with stub.lock:
                    stub.requests += 1
                mode = stub.mode
                try:
                    if mode == "stall":
                        time.sleep(stub.stall_s)
                        self._send(200, stub.good)
                    elif mode == "truncated":
                        self._send(200, stub.good[:max(1, len(stub.good) // 2)])
                    elif mode in ("huge", "huge-stream"):
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        if mode == "huge":
                            self.send_header("Content-Length", str(stub.huge_bytes))
                        else:
                            self.send_header("Connection", "close")
                            self.close_connection = True
                        self.end_headers()
                        chunk = b" " * 65536
                        left = stub.huge_bytes
                        while left > 0:
                            n = min(left, len(chunk))
                            self.wfile.write(chunk[:n])
                            left -= n
                    elif mode == "error":
                        self._send(503, b'{"status":"error","error":"stub is down"}')
                    else:
                        self._send(200, stub.good)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, code, body):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        tc.addCleanup(self.close)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
