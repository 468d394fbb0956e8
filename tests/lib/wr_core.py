"""Helpers for the session server tests: a temp incident (config, journal,
socket), `warroom serve --foreground` with its log, verbs, and a small
client speaking the frame protocol (4-byte big-endian length + JSON)."""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

ROOT = os.environ.get("WARROOM_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.environ.get("WARROOM_BIN") or os.path.join(ROOT, "build", "warroom")


def me():
    import pwd
    return pwd.getpwuid(os.geteuid()).pw_name


class Proto:
    """One connection to the session socket."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 0
        self.closed = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, obj):
        data = json.dumps(obj).encode()
        self.send_raw(struct.pack(">I", len(data)) + data)

    def send_raw(self, data):
        self.sock.sendall(data)

    def hello(self, interactive=False, snapshot=True, read_only=False, v=1):
        self.send({"t": "hello", "v": v, "read_only": read_only, "cols": 80, "rows": 24,
                   "interactive": interactive, "snapshot": snapshot})

    def intent(self, name, args=None):
        self.next_id += 1
        self.send({"t": "intent", "id": self.next_id, "name": name, "args": args or {}})
        return self.next_id

    def recv(self, timeout=None):
        """Next message, or None at EOF. Raises socket.timeout."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    msg = json.loads(self.buf[4:4 + n])
                    self.buf = self.buf[4 + n:]
                    return msg
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                self.closed = True
                return None
            self.buf += chunk

    def wait(self, pred, timeout=10.0):
        """Reads until pred(msg) is true; returns that message (None at EOF)."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                raise TimeoutError("no matching message")
            m = self.recv(timeout=left)
            if m is None or pred(m):
                return m

    def call(self, name, args=None, timeout=10.0):
        """Sends an intent and returns its reply; a reply sent in parts
        comes back whole, with "result" parsed from the joined parts."""
        i = self.intent(name, args)
        parts = []
        end = time.time() + timeout
        while True:
            m = self.wait(lambda m: m.get("t") in ("reply", "reply-part") and m.get("id") == i,
                          max(0.01, end - time.time()))
            if m is None or m["t"] == "reply":
                break
            parts.append(m["text"])
        if m is not None and "parts" in m:
            m["result"] = json.loads("".join(parts))
        return m

    def until_synced(self, timeout=10.0):
        """Collects snapshot events (decoded lines) until synced."""
        events = []
        end = time.time() + timeout
        while True:
            m = self.recv(timeout=max(0.01, end - time.time()))
            if m is None:
                raise EOFError("closed before synced")
            if m.get("t") == "events":
                events += [json.loads(l) for l in m.get("lines", "").splitlines() if l]
            elif m.get("t") == "synced":
                return events, m


class Incident:
    """A config, journal and socket in a short temp dir (sun_path is small)."""

    def __init__(self, tc, operators=None, title="Checkout API 5xx", extra=""):
        self.tc = tc
        self.dir = tempfile.mkdtemp(prefix="wrc-", dir="/tmp")
        tc.addCleanup(shutil.rmtree, self.dir, True)
        self.journal = os.path.join(self.dir, "inc.jsonl")
        self.socket = os.path.join(self.dir, "s.sock")
        self.config = os.path.join(self.dir, "config.ini")
        self.log = os.path.join(self.dir, "serve.log")
        with open(self.config, "w") as f:
            f.write("[incident]\ntitle = %s\nseverity = SEV2\njournal = %s\nsocket = %s\n"
                    % (title, self.journal, self.socket))
            if operators is not None:
                f.write("\n[access]\noperators = %s\n" % operators)
            f.write(extra)
        self.procs = []

    def serve(self, wait=True, env=None):
        """env: variables added to the server's environment (${NAME} secrets)."""
        logf = open(self.log, "ab")
        e = None
        if env:
            e = dict(os.environ)
            e.update(env)
        p = subprocess.Popen([BIN, "serve", "--foreground", "--config", self.config],
                             stdout=logf, stderr=logf, stdin=subprocess.DEVNULL, env=e)
        logf.close()
        self.procs.append(p)
        self.tc.addCleanup(self._stop, p)
        if wait:
            self.wait_ready(p)
        return p

    def wait_ready(self, p, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            if p is not None and p.poll() is not None:
                raise AssertionError("serve exited %s:\n%s" % (p.returncode, self.read_log()))
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(self.socket)
                return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("server not ready:\n" + self.read_log())

    def _stop(self, p):
        if p.poll() is None:
            p.kill()
            p.wait(5)

    def kill9(self, p):
        p.send_signal(signal.SIGKILL)
        p.wait(5)

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def run(self, *args, timeout=20, config=True, env=None):
        cmd = [BIN] + list(args) + (["--config", self.config] if config else [])
        e = None
        if env:
            e = dict(os.environ)
            e.update(env)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=e)

    def state(self):
        r = self.run("state", "--json")
        if r.returncode != 0:
            raise AssertionError("state failed: %s" % r.stderr)
        return json.loads(r.stdout)

    def connect(self, **hello):
        c = Proto(self.socket)
        self.tc.addCleanup(c.close)
        if hello.pop("say_hello", True):
            c.hello(**hello)
        return c

    def journal_bytes(self):
        with open(self.journal, "rb") as f:
            return f.read()

    def journal_events(self):
        """The events of every whole line. A read can catch a write of the
        live server half copied in: what follows the last newline is not a
        line yet."""
        raw = self.journal_bytes()
        raw = raw[:raw.rfind(b"\n") + 1]
        return [json.loads(l) for l in raw.decode().splitlines() if l]


class NoteWriter(threading.Thread):
    """One protocol client adding notes NAME-00000.. in order, a few in
    flight at once, and recording which were acknowledged. rate (notes a
    second) and duration pace it; count bounds it. It stops at the first
    connection error (the server died) and keeps that error."""

    def __init__(self, socket_path, name, count=None, rate=None, duration=None, window=8):
        super().__init__(daemon=True)
        self.path, self.name = socket_path, name
        self.count, self.rate, self.duration, self.window = count, rate, duration, window
        self.acked = []
        self.sent = 0
        self.refused = []
        self.error = None
        self.stopping = False

    def text(self, i):
        return "%s-%05d" % (self.name, i)

    def _may_send(self, t0):
        if self.stopping or (self.count is not None and self.sent >= self.count):
            return False
        now = time.time()
        if self.duration is not None and now - t0 >= self.duration:
            return False
        if self.rate is not None and self.sent >= (now - t0) * self.rate:
            return False
        return self.sent - len(self.acked) - len(self.refused) < self.window

    def run(self):
        c = None
        try:
            c = Proto(self.path)
            c.hello(snapshot=False)
            if c.wait(lambda m: m["t"] == "synced") is None:
                raise EOFError("closed before synced")
            texts = {}
            t0 = time.time()
            while True:
                while self._may_send(t0):
                    texts[c.intent("note", {"text": self.text(self.sent)})] = self.text(self.sent)
                    self.sent += 1
                if len(self.acked) + len(self.refused) == self.sent and not self._may_send(t0):
                    done = self.stopping or (self.count is not None and self.sent >= self.count) \
                        or (self.duration is not None and time.time() - t0 >= self.duration)
                    if done:
                        break
                # wait for a reply, or until the next note is due
                wait = 10.0 if self.sent > len(self.acked) + len(self.refused) else 0.005
                try:
                    m = c.recv(timeout=wait)
                except socket.timeout:
                    if wait >= 10.0:
                        raise
                    continue
                if m is None:
                    raise EOFError("server closed the connection")
                if m["t"] == "reply" and m.get("id") in texts:
                    (self.acked if m["ok"] else self.refused).append(texts.pop(m["id"]))
        except (OSError, EOFError) as e:
            self.error = e
        finally:
            if c is not None:
                c.close()
