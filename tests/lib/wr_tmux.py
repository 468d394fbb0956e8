"""Helpers for console screen tests: a session directory (config and a
pre-written journal), a session server started by the test, and the console
running inside a private tmux server (its own socket in the temp dir, so it
never touches a user's tmux). Everything started here is stopped by pid or
by its own tmux socket in cleanups registered on the test case."""
import datetime
import getpass
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

BIN = os.environ.get("WARROOM_BIN") or os.path.join(
    os.environ.get("WARROOM_ROOT", "."), "build", "warroom")


def have_tmux():
    return shutil.which("tmux") is not None


def now_ms():
    return int(time.time() * 1000)


def rfc3339(ms):
    dt = datetime.datetime.fromtimestamp(ms / 1000.0, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def stop_process(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Session:
    """A temp dir with config.ini and journal.jsonl. Short paths keep the
    unix socket path under its length limit."""

    def __init__(self, tc, title="Checkout API 5xx", severity="SEV2", extra_config=""):
        self.tc = tc
        self.dir = tempfile.mkdtemp(prefix="wrc-")
        tc.addCleanup(shutil.rmtree, self.dir, True)
        self.journal = os.path.join(self.dir, "journal.jsonl")
        self.socket = os.path.join(self.dir, "s.sock")
        self.config = os.path.join(self.dir, "config.ini")
        self.user = getpass.getuser()
        with open(self.config, "w") as f:
            f.write("[incident]\ntitle = %s\nseverity = %s\njournal = %s\nsocket = %s\n\n"
                    "[access]\noperators = %s\n%s" % (title, severity, self.journal, self.socket,
                                                      self.user, extra_config))
        self.seq = 0
        self.events = []
        self.server = None
        self.event("incident.declared", by=self.user, title=title, severity=severity)

    def event(self, kind, by="system", ts=None, **fields):
        self.seq += 1
        ev = {"seq": self.seq, "ts": rfc3339(ts if ts is not None else now_ms()),
              "kind": kind, "by": by}
        ev.update(fields)
        self.events.append(ev)
        return ev

    def write_journal(self):
        with open(self.journal, "w") as f:
            for ev in self.events:
                f.write(json.dumps(ev, separators=(",", ":")) + "\n")

    def start_server(self, timeout=10.0):
        self.write_journal()
        log = open(os.path.join(self.dir, "server.log"), "w")
        self.tc.addCleanup(log.close)
        p = subprocess.Popen([BIN, "serve", "--foreground", "--config", self.config],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             cwd=self.dir)
        self.tc.addCleanup(stop_process, p)
        self.server = p
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.socket):
                return p
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("server did not start (exit %r): %s" % (p.poll(), self.server_log()))

    def server_log(self):
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return f.read()
        except OSError:
            return ""

    def verb(self, *args, timeout=10):
        """Runs a one-shot verb (`warroom note ...`) against this session."""
        return subprocess.run([BIN] + list(args) + ["--config", self.config],
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)


def console_env(extra=None):
    e = dict(os.environ)
    e.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"})
    e.pop("NO_COLOR", None)
    e.pop("TMUX", None)
    if extra:
        e.update(extra)
    return e



def settled(capture, scr, ok, limit=1.0):
    """The screen once it has stopped changing. A capture can land while
    the console is half way through writing a frame (the title of an
    overlay drawn, its body not yet), so after a wanted text appears the
    pane is captured again until two captures 50 ms apart agree, for at
    most `limit` seconds. A later capture that no longer satisfies `ok`
    is not taken; the last one that did is returned."""
    end = time.time() + limit
    while time.time() < end:
        time.sleep(0.05)
        again = capture()
        if again == scr:
            break
        if ok(again):
            scr = again
    return scr

class Tmux:
    """The console in a private tmux server of a given size."""

    def __init__(self, tc, session, cols=160, rows=48, args=("attach",), env=None, name="wr",
                 command=None):
        self.tc = tc
        self.sock = os.path.join(session.dir, "tmux-%s.sock" % name)
        self.name = name
        self.env = console_env(env)
        # command: what runs in the pane instead of the console (a shell)
        cmd = command or " ".join([BIN] + list(args) + ["--config", session.config])
        # remain-on-exit keeps the pane (and what the console printed) after it exits.
        subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null", "new-session", "-d",
                        "-s", self.name, "-x", str(cols), "-y", str(rows), cmd],
                       check=True, env=self.env, stdin=subprocess.DEVNULL)
        self.tmux("set-option", "-t", self.name, "remain-on-exit", "on")
        tc.addCleanup(self.kill)

    def tmux(self, *args, check=False):
        return subprocess.run(["tmux", "-S", self.sock] + list(args), capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, check=check, env=self.env)

    def kill(self):
        self.tmux("kill-server")

    def screen(self, colours=False):
        args = ["capture-pane", "-p", "-t", self.name]
        if colours:
            args.insert(2, "-e")
        return self.tmux(*args).stdout

    def display(self, fmt):
        return self.tmux("display-message", "-p", "-t", self.name, fmt).stdout.strip()

    def pane_dead(self):
        return self.display("#{pane_dead}") == "1"

    def keys(self, *keys):
        """tmux key names ("Tab", "Enter", "Escape") or single characters."""
        for k in keys:
            self.tmux("send-keys", "-t", self.name, k, check=True)

    def text(self, s):
        self.tmux("send-keys", "-t", self.name, "-l", s, check=True)

    def resize(self, cols, rows):
        self.tmux("resize-window", "-t", self.name, "-x", str(cols), "-y", str(rows), check=True)

    def wait_for(self, needle, timeout=6.0, absent=False, colours=False):
        deadline = time.time() + timeout
        scr = ""
        while time.time() < deadline:
            scr = self.screen(colours)
            if (needle in scr) != absent:
                return settled(lambda: self.screen(colours), scr,
                               lambda s: (needle in s) != absent)
            if self.pane_dead() and not absent:
                break
            time.sleep(0.05)
        raise AssertionError("%r %s on screen after %.1fs:\n%s" % (
            needle, "still" if absent else "not", timeout, scr))

    def wait_until(self, pred, timeout=6.0, what="condition", colours=False):
        deadline = time.time() + timeout
        scr = ""
        while time.time() < deadline:
            scr = self.screen(colours)
            if pred(scr):
                return settled(lambda: self.screen(colours), scr, pred)
            time.sleep(0.05)
        raise AssertionError("%s not met after %.1fs:\n%s" % (what, timeout, scr))
