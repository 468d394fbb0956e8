"""Pairing and mirroring: several consoles attached to one session, each at
its own size with its own focus. An event from one shows on the others;
presence (who is here, viewing or driving) and joins/leaves in the comms
log; follow mode tracks another terminal's focus and selection until a key
of mine; a point highlights an alert on every screen for a few seconds;
viewers (attached --read-only, or not listed as operators) are refused by
the server and the journal stays byte for byte the same; a late joiner
scrolls the comms log back to the first event; the session outlives the
terminal that started it. Every console is the real binary in its own
private tmux server."""
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
import unittest

import wr_core
from wr_tmux import BIN, Session, Tmux, console_env, have_tmux, now_ms, stop_process

POINT_BG = "48;5;220"      # the dark theme's point role (16 on 220, bold)
SELECTION_BG = "48;5;238"  # the dark theme's selection role


def alert(s, aid, name, service, severity, summary):
    s.event("alert.fired", by="am", ts=now_ms() - 120000, id=aid, name=name, service=service,
            severity=severity, summary=summary, source="am",
            labels={"alertname": name, "service": service, "severity": severity},
            annotations={"summary": summary})


def pairing_session(tc, extra_config=""):
    s = Session(tc, extra_config=extra_config)
    alert(s, "a1", "HighErrorRate", "api", "critical", "api 5xx ratio 12%")
    alert(s, "a2", "LatencyHigh", "web", "warning", "web p99 2.1s")
    alert(s, "a3", "DiskFilling", "db", "info", "db disk 81%")
    s.event("deploy.seen", by="ci", service="api", version="2.4.0",
            time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 900)),
            author="ci", url="https://ci.example.internal/api/2.4.0")
    return s


def here(s, n, what="operator"):
    """The roster's row for the test's user attached from n terminals."""
    return "%s x%d  %s" % (s.user, n, what) if n > 1 else "%s  %s" % (s.user, what)


def line_with(scr, needle):
    for ln in scr.split("\n"):
        if needle in re.sub(r"\x1b\[[0-9;]*m", "", ln):
            return ln
    return ""


def focused_pane(scr):
    """The title the focus marker is on: ALERTS, DEPLOYS, ROLES or COMMS."""
    m = re.search(r"▸(ALERTS|DEPLOYS|ROLES|COMMS)", scr)
    return m.group(1) if m else None


def highlighted(scr, needle, bg):
    """True when the row showing needle carries the background bg."""
    return bg in line_with(scr, needle)


@unittest.skipUnless(have_tmux(), "tmux is not installed")
class PairingTest(unittest.TestCase):
    def three(self, s):
        a = Tmux(self, s, 160, 48, name="a")
        a.wait_for("HighErrorRate")
        b = Tmux(self, s, 100, 30, name="b")
        b.wait_for("HighErrorRate")
        c = Tmux(self, s, 80, 24, name="c")
        for t in (a, b, c):
            t.wait_for(here(s, 3))
        return a, b, c

    def test_three_sizes_see_each_others_events_and_presence(self):
        s = pairing_session(self)
        s.start_server()
        a, b, c = self.three(s)
        # presence: one person, three terminals (the roster, above), three joins
        for t in (a, b):
            scr = t.screen()
            self.assertEqual(scr.count("%s joined (operator)" % s.user), 3, scr)
        self.assertEqual(c.screen().count("%s joined" % s.user), 3)
        # a note typed on A shows on B and C
        a.keys("n")
        a.wait_for("Note:")
        a.text("failover done")
        a.keys("Enter")
        for t in (a, b, c):
            t.wait_for("failover done")
        # C (the smallest) takes the IC role from the picker; everyone sees it
        c.keys("a")
        c.wait_for("Take which role?")
        c.keys("Enter")
        for t in (a, b):
            t.wait_until(lambda scr: "driving" in line_with(scr, "Incident Commander"),
                         what="IC held and driving")
        c.wait_until(lambda scr: any("IC " in ln and "driving" in ln for ln in scr.split("\n")),
                     what="IC held and driving on C (short role labels)")
        self.assertIn("IC %s" % s.user, a.screen())  # the header names the IC
        # C leaves: the others show it in comms and count two
        c.keys("q")
        c.wait_for("last operator", absent=True, timeout=2)
        for t in (a, b):
            t.wait_for("%s left" % s.user)
            t.wait_for(here(s, 2, "driving"))

    def test_follow_tracks_focus_and_selection_until_a_key(self):
        s = pairing_session(self)
        s.start_server()
        a = Tmux(self, s, 160, 48, name="a")
        a.wait_for("HighErrorRate")
        b = Tmux(self, s, 100, 30, name="b")
        b.wait_for(here(s, 2))
        a.wait_for(here(s, 2))
        # B: `f` on the person in the roles pane (the same user: my other terminal)
        b.keys("3", "G", "f")
        b.wait_for("following %s" % s.user)
        # A moves its focus and selection; B tracks both
        a.keys("j")
        b.wait_until(lambda scr: focused_pane(scr) == "ALERTS" and
                     highlighted(scr, "LatencyHigh", SELECTION_BG),
                     what="B on A's alert selection", colours=True)
        a.keys("j")
        b.wait_until(lambda scr: highlighted(scr, "DiskFilling", SELECTION_BG),
                     what="B's selection following A's", colours=True)
        a.keys("4")
        b.wait_until(lambda scr: focused_pane(scr) == "COMMS", what="B focused on comms")
        a.keys("3")
        b.wait_until(lambda scr: focused_pane(scr) == "ROLES", what="B focused on roles")
        # a key on B stops following; A's moves no longer move B
        b.keys("j")
        b.wait_for("stopped following")
        self.assertNotIn("following %s" % s.user, b.screen().split("\n")[0])
        a.keys("1")
        a.wait_until(lambda scr: focused_pane(scr) == "ALERTS", what="A on alerts")
        time.sleep(0.8)  # several presence broadcasts
        self.assertEqual(focused_pane(b.screen()), "ROLES")
        # :follow USER does the same from the command line
        b.keys(":")
        b.text("follow %s" % s.user)
        b.keys("Enter")
        b.wait_for("following %s" % s.user)
        a.keys("2")
        b.wait_until(lambda scr: focused_pane(scr) == "DEPLOYS", what="B on the timeline")
        # following someone who is not here is refused
        b.keys("Escape")
        b.keys(":")
        b.text("follow nobody-here")
        b.keys("Enter")
        b.wait_for("nobody-here is not attached")

    def test_point_highlights_on_every_screen_then_fades(self):
        s = pairing_session(self)
        s.start_server()
        a, b, c = self.three(s)
        a.keys("j", "p")  # A selects LatencyHigh and points at it
        for t in (b, c):
            t.wait_until(lambda scr: highlighted(scr, "LatencyHigh", POINT_BG),
                         what="the pointed alert highlighted", colours=True)
            self.assertFalse(highlighted(t.screen(colours=True), "HighErrorRate", POINT_BG))
        b.wait_for("points at alert LatencyHigh (web)")
        # C is a viewer-sized screen focused elsewhere: still highlighted
        t0 = time.time()
        for t in (b, c):
            t.wait_until(lambda scr: not highlighted(scr, "LatencyHigh", POINT_BG),
                         timeout=9, what="the highlight gone", colours=True)
        self.assertGreater(time.time() - t0, 2.0, "the highlight vanished at once")

    def check_refused(self, s, args, why):
        t = Tmux(self, s, 120, 36, name="v", args=args)
        t.wait_for("%s joined (viewer)" % s.user)
        t.wait_for("read-only")  # the header says so
        t.wait_for(here(s, 1, "viewing"))  # and the roster
        before = open(s.journal, "rb").read()
        # a note
        t.keys("n")
        t.wait_for("Note:")
        t.text("viewers cannot write this")
        t.keys("Enter")
        t.wait_for("note refused: read-only: %s" % why)
        # take a role
        t.keys("a")
        t.wait_for("Take which role?")
        t.keys("Enter")
        t.wait_for("assign refused: read-only: %s" % why)
        # roll back the deploy selected on the timeline
        t.keys("2", "Left", "r")
        t.wait_for("rollback refused: read-only: %s" % why)
        # silence an alert
        t.keys("1", "s")
        scr = t.wait_until(lambda scr: "minutes" in scr.lower() or "refused" in scr,
                           what="silence prompt or refusal")
        if "refused" not in scr:
            t.keys("Enter")
        t.wait_for("silence refused: read-only: %s" % why)
        time.sleep(0.3)
        self.assertEqual(open(s.journal, "rb").read(), before, "a viewer changed the journal")
        self.assertNotIn("viewers cannot write this", t.screen())

    def test_read_only_attach_is_refused_by_the_server(self):
        s = pairing_session(self)
        s.start_server()
        self.check_refused(s, ("attach", "--read-only"), "%s attached read-only" % s.user)

    def test_not_an_operator_is_a_viewer(self):
        s = pairing_session(self)
        # the server's own config lists someone else
        with open(s.config) as f:
            cfg = f.read()
        with open(s.config, "w") as f:
            f.write(cfg.replace("operators = %s" % s.user, "operators = someone-else"))
        s.start_server()
        self.check_refused(s, ("attach",), "%s is not an operator" % s.user)

    def test_late_joiner_gets_everything_and_scrolls_to_the_start(self):
        s = pairing_session(self)
        s.start_server()
        a = Tmux(self, s, 100, 30, name="a")
        a.wait_for("HighErrorRate")
        p = wr_core.Proto(s.socket)
        self.addCleanup(p.close)
        p.hello(snapshot=False)
        p.wait(lambda m: m["t"] == "synced")
        for i in range(300):
            p.intent("note", {"text": "live note %03d" % i})
        replies = 0
        while replies < 300:
            m = p.recv(timeout=10)
            self.assertIsNotNone(m)
            if m["t"] == "reply":
                self.assertTrue(m["ok"], m)
                replies += 1
        a.wait_for("live note 299")
        late = Tmux(self, s, 80, 24, name="late")
        late.wait_for("live note 299")
        late.keys("4", "Home")
        scr = late.wait_for("incident declared")
        self.assertIn("HighErrorRate", scr)
        self.assertNotIn("live note 299", scr)
        # and forward again, one page at a time, through every note
        seen = set()
        for _ in range(80):
            seen.update(re.findall(r"live note (\d{3})", late.screen()))
            if "299" in seen:
                break
            late.keys("NPage")
            time.sleep(0.05)
        self.assertEqual(len(seen), 300, sorted(seen)[:5])

    def test_session_outlives_the_terminal_that_started_it(self):
        s = pairing_session(self)
        s.write_journal()
        # plain `warroom` starts the server in the background, then attaches
        first = Tmux(self, s, 100, 30, name="first", args=())
        first.wait_for("HighErrorRate")
        p = wr_core.Proto(s.socket)
        p.hello(snapshot=False)
        welcome = p.wait(lambda m: m["t"] == "welcome")
        p.close()
        pid = welcome["server_pid"]
        self.addCleanup(self.stop_pid, pid)
        other = Tmux(self, s, 80, 24, name="other")
        other.wait_for(here(s, 2))
        first.kill()  # the terminal dies (the tmux server hangs up on it)
        other.wait_for("%s left" % s.user)
        other.wait_for(here(s, 1))
        r = s.verb("note", "still going")
        self.assertEqual(r.returncode, 0, r.stderr)
        other.wait_for("still going")
        os.kill(pid, 0)  # the server runs on

    def test_console_quits_when_its_terminal_hangs_up_without_a_signal(self):
        # A console that does not lead its session gets no SIGHUP when its
        # pty's far end closes (a mirror whose sshd or tmux went away while
        # it ran under another process): it must notice and leave, not spin.
        s = pairing_session(self)
        s.start_server()
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        p = subprocess.Popen([BIN, "attach", "--config", s.config], stdin=slave, stdout=slave,
                             stderr=slave, env=console_env(), close_fds=True)
        self.addCleanup(stop_process, p)
        os.close(slave)
        got = b""
        end = time.time() + 10
        while b"HighErrorRate" not in got and time.time() < end:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                got += os.read(master, 65536)
        self.assertIn(b"HighErrorRate", got)
        other = Tmux(self, s, 80, 24, name="other")
        other.wait_for(here(s, 2))
        os.close(master)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with open("/proc/%d/stat" % p.pid) as f:
                ticks = f.read().split(")")[-1].split()[11:13]
            self.fail("the console still runs 5 s after its terminal hung up "
                      "(CPU ticks user/system %s)" % "/".join(ticks))
        other.wait_for("%s left" % s.user)
        other.wait_for(here(s, 1))
        s.server.poll()
        self.assertIsNone(s.server.returncode, "the session must live on")

    def stop_pid(self, pid):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


if __name__ == "__main__":
    unittest.main()
