"""The console as a person sees it: the four panes at 160x48 and 80x24, a
resize down to 30x8 and 20x5 and back, the help overlay, a filter, a live theme
switch, a note from a second client showing on the first client's screen, and
hostile alert text (an OSC title change, a clear screen) that never reaches
the terminal. Each test runs the real binary in a private tmux server."""
import json
import os
import re
import subprocess
import time
import unittest

from wr_tmux import BIN, Session, Tmux, have_tmux, now_ms

ESC = "\x1b"


def alert(s, aid, name, service, severity, summary, ago_ms=120000):
    s.event("alert.fired", by="am", ts=now_ms() - ago_ms, id=aid, name=name, service=service,
            severity=severity, summary=summary, source="am",
            labels={"alertname": name, "service": service, "severity": severity},
            annotations={"summary": summary})


def standard_session(tc, extra_config=""):
    s = Session(tc, extra_config=extra_config)
    alert(s, "a1", "HighErrorRate", "api", "critical", "api 5xx ratio 12% over 5m")
    alert(s, "a2", "LatencyHigh", "web", "warning", "web p99 latency 2.1s")
    s.event("deploy.seen", by="ci", service="api", version="2.4.0",
            time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 900)),
            author="ci", url="https://ci.example.internal/api/2.4.0")
    s.event("role.assigned", by=s.user, role="ic", user=s.user)
    s.event("note", by=s.user, text="looking at deploys")
    return s


@unittest.skipUnless(have_tmux(), "tmux is not installed")
class ConsoleTest(unittest.TestCase):
    def check_four_panes(self, scr, wide=True):
        for title in ("ALERTS", "ROLES", "COMMS"):
            self.assertIn(title, scr)
        self.assertTrue("DEPLOYS" in scr, scr)
        self.assertIn("HighErrorRate", scr)
        # narrow roster columns abbreviate the role names
        self.assertIn("Incident Commander" if wide else "IC ", scr)
        self.assertIn("looking at deploys", scr)
        self.assertIn("Checkout API 5xx", scr)  # header

    def test_four_panes_at_160x48(self):
        s = standard_session(self)
        s.start_server()
        t = Tmux(self, s, 160, 48)
        scr = t.wait_for("looking at deploys")
        self.check_four_panes(scr)
        lines = scr.rstrip("\n").split("\n")
        self.assertEqual(len(lines), 48)
        self.assertTrue(all(len(l) <= 160 for l in lines))
        self.assertIn("? help", lines[-1])  # the key bar

    def test_four_panes_at_80x24(self):
        s = standard_session(self)
        s.start_server()
        t = Tmux(self, s, 80, 24)
        scr = t.wait_for("looking at deploys")
        self.check_four_panes(scr, wide=False)
        # the header keeps who leads and who is here in 80 columns
        header = scr.split("\n")[0]
        self.assertIn("IC %s" % s.user, header)
        self.assertIn("1 here", header)

    def test_resize_small_and_back(self):
        s = standard_session(self)
        s.start_server()
        t = Tmux(self, s, 160, 48)
        t.wait_for("looking at deploys")
        for cols, rows in ((30, 8), (20, 5), (80, 24), (160, 48)):
            t.resize(cols, rows)
            time.sleep(0.3)
            self.assertFalse(t.pane_dead(), "the console died at %dx%d" % (cols, rows))
            scr = t.screen()
            lines = scr.rstrip("\n").split("\n")
            self.assertLessEqual(len(lines), rows)
            self.assertTrue(all(len(l) <= cols for l in lines), scr)
            self.assertTrue(scr.strip(), "blank screen at %dx%d" % (cols, rows))
        # keys still work after all that: the help overlay opens
        t.keys("?")
        t.wait_for("filter the focused pane")
        t.keys("Escape")
        scr = t.wait_for("filter the focused pane", absent=True)
        self.check_four_panes(scr)

    def test_help_lists_every_key(self):
        s = standard_session(self)
        s.start_server()
        t = Tmux(self, s, 160, 48)
        t.wait_for("looking at deploys")
        t.keys("?")
        scr = t.wait_for("filter the focused pane")
        for what in ("rollback", "note", "assign", "silence", "quit"):
            self.assertIn(what, scr.lower())
        # the overlay scrolls: the command list further down has :theme
        t.keys("End")
        t.wait_for("theme NAME")
        t.keys("q")
        t.wait_for("filter the focused pane", absent=True)
        self.assertFalse(t.pane_dead(), "q in the help overlay must close it, not quit")

    def test_filter_alerts(self):
        s = standard_session(self)
        s.start_server()
        t = Tmux(self, s, 160, 48)
        t.wait_for("LatencyHigh")
        # the alert pane has the focus at start
        t.keys("/")
        t.text("Latency")
        t.keys("Enter")
        # the alert rows (the comms log still names both alerts)
        scr = t.wait_for("crit api HighErrorRate", absent=True)
        self.assertIn("warn web LatencyHigh", scr)
        t.keys("Escape")
        scr = t.wait_for("crit api HighErrorRate")
        self.assertIn("warn web LatencyHigh", scr)

    def test_theme_switch_live(self):
        s = standard_session(self)
        s.start_server()
        t = Tmux(self, s, 160, 48)
        t.wait_for("looking at deploys")
        before = t.screen(colours=True)
        self.assertIn(ESC + "[", before)  # the dark theme has colour
        t.keys(":")
        t.text("theme mono")
        t.keys("Enter")
        def no_colour(scr):
            # mono: attributes only, no foreground/background colour codes
            return not re.search(r"\x1b\[[0-9;]*(3[0-7]|38;5;\d+|4[0-7]|48;5;\d+)[;m]", scr)
        # the whole screen redrawn (a capture mid-redraw has no colour either)
        scr = t.wait_until(lambda sc: no_colour(sc) and "looking at deploys" in sc,
                           what="the whole screen without colour codes", colours=True)
        self.assertIn("Secondary on-call", scr)
        t.keys(":")
        t.text("theme light")
        t.keys("Enter")
        t.wait_until(lambda sc: not no_colour(sc), what="colour back", colours=True)
        # an unknown theme is refused with a message, the console stays up
        t.keys(":")
        t.text("theme no-such-theme")
        t.keys("Enter")
        t.wait_until(lambda sc: "no-such-theme" in sc, what="the refusal")
        self.assertFalse(t.pane_dead())

    def test_note_from_second_client_shows_on_first(self):
        s = standard_session(self)
        s.start_server()
        a = Tmux(self, s, 160, 48, name="a")
        b = Tmux(self, s, 100, 30, name="b")
        a.wait_for("looking at deploys")
        b.wait_for("looking at deploys")
        b.keys("n")
        b.text("rolling back api now")
        b.keys("Enter")
        a.wait_for("rolling back api now", timeout=5)
        # and a note from the command line shows on both
        p = s.verb("note", "status page updated")
        self.assertEqual(p.returncode, 0, p.stderr)
        a.wait_for("status page updated")
        b.wait_for("status page updated")

    def test_ctrl_z_gives_the_shell_back_and_fg_redraws(self):
        # Ctrl-Z stops the console and gives the terminal back to the shell
        # in its own modes; `fg` brings the console back drawn whole, at the
        # terminal's size now and with what happened while it was stopped.
        s = standard_session(self)
        s.start_server()
        t = Tmux(self, s, 120, 36, command="bash --norc --noprofile -i")
        t.text("PS1='sh''$ '")
        t.keys("Enter")
        t.wait_for("sh$")
        t.text("%s attach --config %s" % (BIN, s.config))
        t.keys("Enter")
        t.wait_for("looking at deploys")
        t.keys("C-z")
        scr = t.wait_for("Stopped")
        self.assertNotIn("looking at deploys", scr)
        t.text("echo back-$((2+3))")
        t.keys("Enter")
        t.wait_for("back-5")  # typed text echoes: the shell has a sane terminal
        p = s.verb("note", "noted while it was stopped")
        self.assertEqual(p.returncode, 0, p.stderr)
        t.resize(100, 30)
        t.text("fg")
        t.keys("Enter")
        scr = t.wait_for("noted while it was stopped")
        self.check_four_panes(scr, wide=False)
        self.assertNotIn("back-5", scr)
        lines = scr.rstrip("\n").split("\n")
        self.assertEqual(len(lines), 30)
        self.assertIn("? help", lines[-1])
        # still live after the resume
        p = s.verb("note", "after fg")
        self.assertEqual(p.returncode, 0, p.stderr)
        t.wait_for("after fg")

    def test_escape_sequences_never_reach_the_terminal(self):
        s = Session(self)
        hostile = ("evil" + ESC + "]0;PWNED-TITLE" + "\x07" + " text" + ESC + "[2J" + ESC + "[H"
                   + "more" + ESC + "[31m" + "red" + "\x9b" + "31m" + "\x08\x08")
        alert(s, "x1", "HostileAlert", "api", "critical", hostile)
        s.event("note", by="am", text="note" + ESC + "]0;NOTE-TITLE" + "\x07" + " ok")
        s.start_server()
        t = Tmux(self, s, 160, 48)
        scr = t.wait_for("HostileAlert")
        # the visible text is there, without the sequences' payload taking effect
        self.assertIn("evil", scr)
        self.assertIn("Checkout API 5xx", scr)  # no clear screen happened
        title = t.display("#{pane_title}")
        self.assertNotIn("PWNED", title)
        self.assertNotIn("NOTE-TITLE", title)
        # and nothing the console wrote to the terminal carried them: check the
        # raw byte stream tmux received
        log = os.path.join(s.dir, "pipe.log")
        t.tmux("pipe-pane", "-o", "-t", t.name, "cat >> %s" % log, check=True)
        t.keys("Enter")  # details of the alert: the summary drawn again
        time.sleep(0.8)
        t.keys("Escape")
        t.resize(150, 46)  # a full redraw
        time.sleep(0.8)
        t.tmux("pipe-pane", "-t", t.name)
        with open(log, "rb") as f:
            raw = f.read()
        self.assertTrue(raw, "pipe-pane captured nothing")
        self.assertNotIn(b"PWNED", raw)
        self.assertNotIn(b"NOTE-TITLE", raw)
        self.assertNotIn(b"\x1b]0;", raw)
        self.assertNotIn(b"\x9b", raw)


if __name__ == "__main__":
    unittest.main()
