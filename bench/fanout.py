#!/usr/bin/env python3
"""Event-to-screen latency with 1, 10 and 50 attached clients, and tmux
mirroring the same kind of update to the same number of clients in the same
run.

warroom: a session server and N `warroom attach` consoles, each in its own
pseudo-terminal (120x40) that this script reads. A note carrying a unique
marker is sent through the session socket; the latency of one client is the
time from sending until its pty output holds the marker (the server has
journaled and fsynced it, broadcast it, and the console has drawn it).

tmux: a private tmux server (its own socket) with one session whose pane runs
`cat` on a FIFO, and N `tmux attach` clients each in its own pty. A marker
line is written into the FIFO; the latency of one client is the time until
its pty output holds the marker.

floor: the same path with nothing drawn. A relay (bench/tools/fanout_floor
hub) passes the marker line to N client processes, each on its own pty, that
write it with one cursor move. It is what a console per attached person costs
before any work of its own: the wake-ups, copies and scheduling of N
processes, where tmux is one process writing N terminals.

p50 and p99 are over every (sample, client) pair. Targets: warroom p99 <=
20 ms with 50 clients, and below tmux's. Everything started here is stopped
by pid (and the tmux server through its own socket)."""
import fcntl
import os
import random
import select
import shutil
import signal
import socket
import string
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "lib"))

import wr_core  # noqa: E402
import wr_tmux  # noqa: E402

COLS, ROWS = 120, 40
COUNTS = [int(x) for x in os.environ.get("BENCH_FANOUT_CLIENTS", "1,10,50").split(",")]
SAMPLES = int(os.environ.get("BENCH_FANOUT_SAMPLES", "40"))
WAIT_S = 3.0       # a sample some client never shows counts as this long
GAP_S = 0.02       # between samples: the next one starts from a quiet screen
TAIL = 4096        # bytes of each client's output kept for the marker search


class Holder(unittest.TestCase):
    def runTest(self):
        pass


class Term:
    """One client process on its own pty; keeps the tail of its output."""

    def __init__(self, argv, env):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        os.set_blocking(self.master, False)
        self.buf = b""
        self.total = 0

    def read(self):
        try:
            chunk = os.read(self.master, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        self.total += len(chunk)
        self.buf = (self.buf + chunk)[-TAIL:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


def pump(terms, seconds, until=None):
    """Reads every client for up to `seconds`; stops early once until(terms)."""
    end = time.monotonic() + seconds
    by_fd = {t.master: t for t in terms}
    while True:
        if until is not None and until(terms):
            return True
        left = end - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select(list(by_fd), [], [], min(left, 0.05))
        for fd in r:
            by_fd[fd].read()


def measure(terms, send, samples):
    """send(marker) makes the update; returns per-client latencies in ms."""
    by_fd = {t.master: t for t in terms}
    lat = []
    missed = 0
    rnd = random.Random(7)
    prev = "-" * 12
    for _ in range(samples):
        pump(terms, GAP_S)
        for t in terms:
            t.buf = b""
        # Capitals, each differing from the previous marker's letter at the
        # same place: curses skips cells that already hold the right
        # character, so a shared letter would never be written.
        marker = "".join(rnd.choice(string.ascii_uppercase.replace(c, "")) for c in prev)
        prev = marker
        marker = marker.encode()
        waiting = {t.master for t in terms}
        t0 = time.monotonic()
        send(marker.decode())
        while waiting and time.monotonic() - t0 < WAIT_S:
            r, _, _ = select.select(list(by_fd), [], [], 0.05)
            now = time.monotonic()
            for fd in r:
                t = by_fd[fd]
                t.read()
                if fd in waiting and marker in t.buf:
                    waiting.discard(fd)
                    lat.append((now - t0) * 1000)
        missed += len(waiting)
        lat += [WAIT_S * 1000] * len(waiting)
    return lat, missed


def pct(v, p):
    v = sorted(v)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def incident(tc):
    """A running session whose comms log is already full."""
    s = wr_tmux.Session(tc)
    s.event("role.assigned", by=s.user, role="ic", user=s.user)
    for i in range(50):
        s.event("note", by=s.user, text="earlier note %d" % i)
    s.start_server()
    return s


def time_notes(s, terms, ready, what):
    """Once ready(terms), times notes sent through the session's socket.
    Also waits a second for the joins of the others and first clock ticks."""
    if not pump(terms, 20, until=ready):
        raise RuntimeError("not every %s within 20 s" % what)
    pump(terms, 1.0)
    p = wr_core.Proto(s.socket)
    try:
        p.hello(snapshot=False)
        p.wait(lambda m: m["t"] == "synced")
        return measure(terms, lambda marker: p.intent("note", {"text": marker}), SAMPLES)
    finally:
        p.close()


def bench_warroom(tc, n):
    s = incident(tc)
    env = wr_tmux.console_env()
    terms = []
    try:
        for _ in range(n):
            terms.append(Term([wr_tmux.BIN, "attach", "--config", s.config], env))
        # a first full frame is several KB; the snapshot's own lines follow
        return time_notes(s, terms, lambda ts: all(t.total > 3000 for t in ts),
                          "console drew")
    finally:
        for t in terms:
            t.stop()


def floor_tool():
    build = os.environ.get("WARROOM_BUILD") or os.path.dirname(wr_tmux.BIN)
    path = os.path.join(build, "bench-tools", "fanout_floor")
    return path if os.access(path, os.X_OK) else None


def bench_floor(n, tool):
    d = tempfile.mkdtemp(prefix="wrfloor-")
    sock = os.path.join(d, "hub.sock")
    hub = subprocess.Popen([tool, "hub", sock], stdin=subprocess.DEVNULL)
    terms = []
    snd = None
    try:
        end = time.monotonic() + 5
        while not os.path.exists(sock) and time.monotonic() < end:
            time.sleep(0.01)
        env = wr_tmux.console_env()
        for _ in range(n):
            terms.append(Term([tool, "client", sock], env))
        ok = pump(terms, 20, until=lambda ts: all(b"ready" in t.buf for t in ts))
        if not ok:
            raise RuntimeError("not every floor client started within 20 s")
        snd = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        snd.connect(sock)
        pump(terms, 0.5)

        def send(marker):
            snd.sendall(marker.encode() + b"\n")

        return measure(terms, send, SAMPLES)
    finally:
        for t in terms:
            t.stop()
        if snd is not None:
            snd.close()
        hub.terminate()
        hub.wait()
        shutil.rmtree(d, True)


def bench_tmux_console(tc, n):
    """The other way to share the incident: one warroom console in a tmux
    session and N tmux clients attached to it, everyone seeing one view.
    The same note, through the console and then tmux."""
    s = incident(tc)
    d = tempfile.mkdtemp(prefix="wrfan-")
    sock = os.path.join(d, "tmux.sock")
    env = wr_tmux.console_env()
    tm = ["tmux", "-S", sock]
    terms = []
    try:
        subprocess.run(tm + ["-f", "/dev/null", "new-session", "-d", "-s", "b",
                             "-x", str(COLS), "-y", str(ROWS),
                             "%s attach --config %s" % (wr_tmux.BIN, s.config)],
                       check=True, env=env, stdin=subprocess.DEVNULL)
        for _ in range(n):
            terms.append(Term(tm + ["attach", "-t", "b"], env))
        return time_notes(s, terms, lambda ts: all(b"earlier note 49" in t.buf for t in ts),
                          "tmux client showed the console")
    finally:
        for t in terms:
            t.stop()
        subprocess.run(tm + ["kill-server"], capture_output=True, stdin=subprocess.DEVNULL)
        shutil.rmtree(d, True)


def bench_tmux(n, layout):
    """layout "full": the FIFO's pane is the whole window, so a new line is a
    scroll of the whole terminal. "pane": the window is split as warroom's
    screen is, and the FIFO's pane sits where the comms log does (lower
    right, 55 columns by 21 rows) with 50 lines in it already, so a new
    line moves every line of a pane narrower than the terminal, as a new
    note does in warroom: the same kind of update."""
    d = tempfile.mkdtemp(prefix="wrfan-")
    sock = os.path.join(d, "tmux.sock")
    fifo = os.path.join(d, "in.fifo")
    os.mkfifo(fifo)
    env = wr_tmux.console_env()
    terms = []
    wfd = None
    tm = ["tmux", "-S", sock]
    reader = "while :; do cat %s; done" % fifo
    try:
        if layout == "full":
            subprocess.run(tm + ["-f", "/dev/null", "new-session", "-d", "-s", "b",
                                 "-x", str(COLS), "-y", str(ROWS), reader],
                           check=True, env=env, stdin=subprocess.DEVNULL)
        else:
            still = "printf 'a pane that does not change\\n'; exec sleep 100000"
            subprocess.run(tm + ["-f", "/dev/null", "new-session", "-d", "-s", "b",
                                 "-x", str(COLS), "-y", str(ROWS), still],
                           check=True, env=env, stdin=subprocess.DEVNULL)
            subprocess.run(tm + ["split-window", "-t", "b", "-v", "-l", "21", still],
                           check=True, env=env, stdin=subprocess.DEVNULL)
            subprocess.run(tm + ["split-window", "-t", "b", "-h", "-l", "55", reader],
                           check=True, env=env, stdin=subprocess.DEVNULL)
        wfd = os.open(fifo, os.O_WRONLY)
        if layout != "full":
            os.write(wfd, b"".join(b"18:00 root    earlier note %d\n" % i for i in range(50)))
        for _ in range(n):
            terms.append(Term(tm + ["attach", "-t", "b"], env))
        os.write(wfd, b"ready\n")
        ok = pump(terms, 20, until=lambda ts: all(b"ready" in t.buf for t in ts))
        if not ok:
            raise RuntimeError("not every tmux client drew within 20 s")
        pump(terms, 0.5)

        def send(marker):
            os.write(wfd, marker.encode() + b"\n")

        return measure(terms, send, SAMPLES)
    finally:
        for t in terms:
            t.stop()
        if wfd is not None:
            os.close(wfd)
        subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True,
                       stdin=subprocess.DEVNULL)
        shutil.rmtree(d, True)


def main():
    if shutil.which("tmux") is None:
        print("fanout: tmux is not installed; skipped")
        return
    tool = floor_tool()
    tc = Holder()
    rows = []
    t_start = time.monotonic()
    try:
        for n in COUNTS:
            w, wm = bench_warroom(tc, n)
            tc.doCleanups()
            fl, flm = bench_floor(n, tool) if tool else ([], 0)
            c, cm = bench_tmux_console(tc, n)
            tc.doCleanups()
            t, tm = bench_tmux(n, "pane")
            f, fm = bench_tmux(n, "full")
            rows.append((n, (w, wm), (fl, flm), (c, cm), (t, tm), (f, fm)))
    finally:
        tc.doCleanups()
    names = ("warroom", "floor", "tmux+console", "tmux pane", "tmux full")
    print("event-to-screen latency, %d samples per client, %dx%d ptys, p50 / p99 in ms"
          % (SAMPLES, COLS, ROWS))
    print("warroom: each client a `warroom attach` with its own view;")
    print("floor: one process per client as warroom has, nothing drawn (a relay and "
          "clients that write the line)%s;" % ("" if tool else " -- not built, run `make bench`"))
    print("tmux+console: one warroom console in tmux, the clients tmux clients of it "
          "(one shared view);")
    print("tmux pane: a line into a lower-right pane as wide as warroom's comms log "
          "(every line of it moves);")
    print("tmux full: a line into a pane as wide as the terminal (one scroll)")
    print("clients " + "".join("%16s" % nm for nm in names))
    for row in rows:
        cells = "".join("%7.2f /%6.2f" % (pct(v, 50), pct(v, 99)) + "  " for v, _ in row[1:])
        missed = [(nm, m) for nm, (_, m) in zip(names, row[1:]) if m]
        extra = "  (missed: %s)" % ", ".join("%s %d" % x for x in missed) if missed else ""
        print("%5d   %s%s" % (row[0], cells, extra))
    last = rows[-1]
    p99 = [pct(v, 99) for v, _ in last[1:]]
    print("target: warroom p99 <= 20 ms with %d clients (%.2f ms) and below tmux's for the same "
          "kind of update (tmux sharing one console: %.2f ms; pane: %.2f ms; full-width: "
          "%.2f ms); a process per client with nothing drawn: %.2f ms"
          % (last[0], p99[0], p99[2], p99[3], p99[4], p99[1]))
    print("bench time: %.1f s" % (time.monotonic() - t_start))


if __name__ == "__main__":
    main()
