#!/usr/bin/env python3
"""What the console costs the terminal and the CPU, at 160x48:
  launch -> first frame   from exec of `warroom attach` to the first byte
                          drawn that holds the pane titles
  idle output             bytes/s written while nothing happens but the clock
                          (target <= 100 B/s; htop writes about 1.3 KB/s)
  full redraw             bytes of one Ctrl-L repaint, and CPU time per frame
                          over many repaints (target <= 2 ms)
  idle CPU                the console's CPU share while idle (target <= 0.1 %)
The console runs in a pseudo-terminal this script reads; a session server with
a realistic journal (alerts, deploys, roles, 300 comms lines) is started for
it and stopped again by pid."""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "lib"))

import wr_tmux  # noqa: E402

COLS, ROWS = 160, 48
IDLE_S = float(os.environ.get("BENCH_IDLE_S", "10"))
FRAMES = int(os.environ.get("BENCH_FRAMES", "200"))


class Holder(unittest.TestCase):
    def runTest(self):
        pass


def cpu_seconds(pid):
    """CPU time of pid: from /proc/PID/schedstat in nanoseconds where the
    kernel keeps it (utime and stime in /proc/PID/stat count 10 ms ticks,
    and one tick over the 10 s idle window is already 0.1 %)."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def drain(fd, seconds, until=None):
    """Reads for `seconds` (or until `until` is in what was read); returns bytes."""
    out = bytearray()
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if until is not None and until in out:
            break
    return bytes(out)


def session(tc):
    s = wr_tmux.Session(tc)
    now = wr_tmux.now_ms()
    for i, (name, svc, sev) in enumerate((("HighErrorRate", "api", "critical"),
                                          ("CheckoutFailures", "api", "critical"),
                                          ("LatencyHigh", "web", "warning"))):
        s.event("alert.fired", by="am", ts=now - 300000, id="a%d" % i, name=name, service=svc,
                severity=sev, summary="%s on %s" % (name, svc), source="am",
                labels={"alertname": name, "service": svc}, annotations={})
    for i, (svc, ver) in enumerate((("web", "1.4.0"), ("api", "2.3.0"), ("api", "2.4.0"))):
        s.event("deploy.seen", by="ci", service=svc, version=ver,
                time=wr_tmux.rfc3339(now - (3 - i) * 1800000), author="ci", url="")
    s.event("role.assigned", by=s.user, role="ic", user=s.user)
    for i in range(300):
        s.event("note", by=s.user, text="note %d: checking dashboards and deploys" % i)
    s.start_server()
    return s


def main():
    tc = Holder()
    try:
        s = session(tc)
        env = wr_tmux.console_env()
        t0 = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            os.execve(wr_tmux.BIN, [wr_tmux.BIN, "attach", "--config", s.config], env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

        def stop():
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
        tc.addCleanup(stop)
        first = drain(fd, 10, until=b"COMMS")
        first_ms = (time.monotonic() - t0) * 1000
        if b"COMMS" not in first:
            print("no first frame within 10 s; the console wrote %d bytes" % len(first))
            sys.exit(1)
        drain(fd, 1.5)  # settle: the snapshot's tail, the first clock tick

        c0 = cpu_seconds(pid)
        w0 = time.monotonic()
        idle = drain(fd, IDLE_S)
        idle_s = time.monotonic() - w0
        idle_cpu = (cpu_seconds(pid) - c0) / idle_s * 100

        os.write(fd, b"\x0c")
        one = drain(fd, 1.0)
        c0 = cpu_seconds(pid)
        w0 = time.monotonic()
        total = 0
        for _ in range(FRAMES):
            os.write(fd, b"\x0c")
            # each repaint ends with the key bar's last glyph; wait for quiet
            total += len(drain(fd, 0.02))
        total += len(drain(fd, 0.5))
        cpu_per_frame = (cpu_seconds(pid) - c0) / FRAMES * 1000

        print("launch -> first frame (160x48):      %7.1f ms      (target <= 50)" % first_ms)
        print("idle output (clock only, 160x48):    %7.1f B/s     (target <= 100; htop ~1300)"
              % (len(idle) / idle_s))
        print("full redraw (Ctrl-L, 160x48):        %7d bytes" % len(one))
        print("CPU per full redraw (%d frames):    %7.3f ms      (target <= 2)"
              % (FRAMES, cpu_per_frame))
        print("idle CPU over %.0f s:                   %7.3f %%       (target <= 0.1)"
              % (idle_s, idle_cpu))
    finally:
        tc.doCleanups()


if __name__ == "__main__":
    main()
