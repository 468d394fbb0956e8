"""Small helpers for the timeline screen tests: a session directory with a
config and a pre-filled journal, a session server, and the console in a
private tmux server. Everything started here is stopped by pid (or by its own
tmux socket) in the cleanups the caller registers."""
import datetime
import getpass
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import wr_tmux

BIN = os.environ.get("WARROOM_BIN") or os.path.join(
    os.environ.get("WARROOM_ROOT", "."), "build", "warroom")


def rfc3339(ms):
    dt = datetime.datetime.fromtimestamp(ms / 1000.0, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def now_ms():
    return int(time.time() * 1000)


class Session:
    """A temp dir holding config.ini and journal.jsonl; short paths keep the
    unix socket path under its length limit."""

    def __init__(self, testcase, title="Checkout API 5xx", extra_config=""):
        self.tc = testcase
        self.dir = tempfile.mkdtemp(prefix="wrtl-")
        testcase.addCleanup(shutil.rmtree, self.dir, True)
        self.journal = os.path.join(self.dir, "journal.jsonl")
        self.socket = os.path.join(self.dir, "s.sock")
        self.config = os.path.join(self.dir, "config.ini")
        self.user = getpass.getuser()
        with open(self.config, "w") as f:
            f.write("[incident]\ntitle = %s\nseverity = SEV2\njournal = %s\nsocket = %s\n\n"
                    "[access]\noperators = %s\n%s" % (title, self.journal, self.socket,
                                                      self.user, extra_config))
        self.seq = 0
        self.events = []
        self.event("incident.declared", by=self.user, title=title, severity="SEV2")

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
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.socket):
                return p
            if p.poll() is not None:
                break
            time.sleep(0.05)
        with open(os.path.join(self.dir, "server.log")) as f:
            out = f.read()
        raise AssertionError("server did not start (exit %r): %s" % (p.poll(), out))


def stop_process(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Console:
    """The console in a private tmux server of a given size."""

    def __init__(self, testcase, session, cols=160, rows=48, args=("attach",), env=None):
        self.tc = testcase
        self.sock = os.path.join(session.dir, "tmux.sock")
        self.name = "wr"
        e = dict(os.environ)
        e.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"})
        e.pop("NO_COLOR", None)
        if env:
            e.update(env)
        self.env = e
        cmd = " ".join([BIN] + list(args) + ["--config", session.config])
        subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null", "new-session", "-d",
                        "-s", self.name, "-x", str(cols), "-y", str(rows), cmd],
                       check=True, env=e, stdin=subprocess.DEVNULL)
        # keep the pane after an exit, so a crash shows instead of vanishing
        subprocess.run(["tmux", "-S", self.sock, "set-option", "-t", self.name,
                        "remain-on-exit", "on"], capture_output=True, stdin=subprocess.DEVNULL)
        testcase.addCleanup(self.kill)

    def kill(self):
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True,
                       stdin=subprocess.DEVNULL)

    def screen(self):
        p = subprocess.run(["tmux", "-S", self.sock, "capture-pane", "-p", "-t", self.name],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        return p.stdout

    def keys(self, *keys):
        """tmux key names ("Left", "Enter") or literal text."""
        for k in keys:
            subprocess.run(["tmux", "-S", self.sock, "send-keys", "-t", self.name, k],
                           check=True, stdin=subprocess.DEVNULL)

    def text(self, s):
        subprocess.run(["tmux", "-S", self.sock, "send-keys", "-t", self.name, "-l", s],
                       check=True, stdin=subprocess.DEVNULL)

    def resize(self, cols, rows):
        subprocess.run(["tmux", "-S", self.sock, "resize-window", "-t", self.name, "-x", str(cols),
                        "-y", str(rows)], check=True, stdin=subprocess.DEVNULL)

    def alive(self):
        p = subprocess.run(["tmux", "-S", self.sock, "display-message", "-p", "-t", self.name,
                            "#{pane_dead}"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        return p.returncode == 0 and p.stdout.strip() == "0"

    def title(self):
        p = subprocess.run(["tmux", "-S", self.sock, "display-message", "-p", "-t", self.name,
                            "#{pane_title}"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        return p.stdout.strip()

    def wait_for(self, needle, timeout=5.0, absent=False):
        deadline = time.time() + timeout
        scr = ""
        while time.time() < deadline:
            scr = self.screen()
            if (needle in scr) != absent:
                return wr_tmux.settled(self.screen, scr, lambda s: (needle in s) != absent)
            time.sleep(0.05)
        raise AssertionError("%r %s on screen after %.1fs:\n%s" % (
            needle, "still" if absent else "not", timeout, scr))


def timeline_region(scr):
    """The timeline pane's part of a full-layout screen: the rows from its
    title down, cut at the frame's vertical separator, so text in other
    panes (the comms log names every deploy too) does not count. The
    separator's column is read from the frame line above the title, which
    is a run of horizontal lines up to it (UTF-8 or ASCII)."""
    lines = scr.split("\n")
    start = next((i for i, l in enumerate(lines) if "DEPLOYS" in l), None)
    if start is None:
        return ""
    sep = None
    if start > 0:
        above = lines[start - 1]
        sep = next((i for i in range(1, len(above)) if above[i] not in "\u2500-"), None)
    return "\n".join(line[1:sep] for line in lines[start:])
