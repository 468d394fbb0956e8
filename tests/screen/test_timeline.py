"""The deploy timeline pane on a real console in tmux: deploy labels, the
suspect line, moving the selection, zooming and jumping to the suspect.
The journal is written before the server starts; the error series itself is
ephemeral (backends set it), so the chart shows deploy markers only here and
the series drawing is covered by tests/unit/test_chart.c."""
import os
import shutil
import time
import unittest

from wr_timeline import Console, Session, now_ms, timeline_region

MIN = 60000


def have_tmux():
    return shutil.which("tmux") is not None


@unittest.skipUnless(have_tmux(), "tmux not installed")
class TimelineScreen(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.access(os.environ.get("WARROOM_BIN", ""), os.X_OK),
                        "WARROOM_BIN must point at the built binary")
        now = now_ms()
        # a rollback target for api only; its dry run shows the command and
        # connects nowhere
        s = Session(self, extra_config="\n[rollback api]\nvia = ssh\nhost = 127.0.0.1\n"
                    "user = deploy\ncommand = /opt/deploy/rollback {service} {version}\n")
        self.s = s
        s.event("role.assigned", by=s.user, role="primary", user=s.user)
        s.event("deploy.seen", by="ci", service="api", version="2.3.0",
                time=_ts(now - 100 * MIN), author="ci", url="https://ci.example/812")
        s.event("deploy.seen", by="ci", service="web", version="1.4.0",
                time=_ts(now - 70 * MIN), author="dana")
        s.event("deploy.seen", by="ci", service="db", version="7.1",
                time=_ts(now - 40 * MIN), author="ci")
        s.event("deploy.seen", by="ci", service="api", version="2.4.0",
                time=_ts(now - 9 * MIN), author="ci", url="https://ci.example/840")
        s.event("spike.detected", service="api", onset=_ts(now - 6 * MIN),
                baseline=0.004, peak=0.12, magnitude=30.0)
        s.event("suspect.ranked", suspects=[{
            "service": "api", "version": "2.4.0", "score": 0.9,
            "reason": "deployed 3m before spike onset", "last_good": "2.3.0"}])
        s.start_server()
        self.con = Console(self, s, 160, 48)
        self.con.wait_for("DEPLOYS \u00d7 ERROR RATE", timeout=10)
        # the snapshot drawn (the suspect marked), so keys act on the deploys
        self.con.wait_for("api@2.4.0 !!", timeout=10)

    def test_labels_and_suspect_line(self):
        scr = self.con.wait_for("api@2.4.0 !!")
        for label in ("api@2.3.0", "web@1.4.0", "db@7.1"):
            self.assertIn(label, scr)
        self.assertIn("last 3h", scr)
        self.assertIn("suspect: api@2.4.0 deployed 3m before spike onset", scr)
        self.assertIn("last good api@2.3.0", scr)

    def test_left_right_moves_selection(self):
        self.con.keys("2")  # focus the timeline
        self.con.keys("Right")
        self.con.wait_for("selected: api@2.3.0")
        self.con.keys("Right")
        self.con.wait_for("selected: web@1.4.0")
        self.con.keys("Right")
        self.con.wait_for("selected: db@7.1")
        self.con.keys("Left")
        self.con.wait_for("selected: web@1.4.0")

    def test_zoom_changes_window(self):
        self.con.keys("2")
        self.con.keys("+")
        self.con.wait_for("last 1h")
        self.con.keys("+")
        scr = timeline_region(self.con.wait_for("last 30m"))
        # only the newest deploy is inside 30 minutes (the comms pane names
        # them all, so only the timeline's own rows are looked at)
        self.assertIn("api@2.4.0", scr)
        self.assertNotIn("web@1.4.0", scr)
        self.assertNotIn("db@7.1", scr)
        self.con.keys("-", "-", "-")
        scr = timeline_region(self.con.wait_for("last 6h"))
        self.assertIn("web@1.4.0", scr)
        self.assertIn("db@7.1", scr)
        for _ in range(6):
            self.con.keys("-")
        self.con.wait_for("last 24h")

    def test_g_selects_the_suspect(self):
        self.con.keys("2", "Right")
        self.con.wait_for("selected: api@2.3.0")
        self.con.keys("g")
        self.con.wait_for("selected: api@2.4.0")

    def test_r_on_the_suspect_shows_what_would_run(self):
        self.con.keys("2", "g")
        self.con.wait_for("selected: api@2.4.0")
        self.con.keys("r")
        scr = self.con.wait_for("Roll back api from 2.4.0 to 2.3.0?")
        # exactly what would run, values shell-quoted
        self.assertRegex(scr, r"deploy@127\.0\.0\.1 .*/opt/deploy/rollback 'api' '2\.3\.0'")
        self.con.keys("n")
        self.con.wait_for("rollback not requested")
        with open(self.s.journal) as f:
            self.assertNotIn("action.requested", f.read())

    def test_r_without_a_rollback_section_shows_the_refusal(self):
        self.con.keys("2", "Right", "Right")
        self.con.wait_for("selected: web@1.4.0")
        self.con.keys("r")
        self.con.wait_for("rollback refused: no [rollback web] section")

    def test_r_on_an_older_deploy_goes_back_to_it(self):
        # api@2.3.0 is not api's newest deploy: r rolls api back to it
        self.con.keys("2", "Right")
        scr = self.con.wait_for("selected: api@2.3.0")
        self.assertIn("r: roll back to 2.3.0", scr)
        self.con.keys("r")
        self.con.wait_for("Roll back api from 2.4.0 to 2.3.0?")
        self.con.keys("Escape")
        self.con.wait_for("rollback not requested")

    def test_enter_shows_the_deploy(self):
        self.con.keys("2", "g", "Enter")
        scr = self.con.wait_for("DEPLOY ")
        self.assertIn("author:   ci", scr)
        self.assertIn("url:      https://ci.example/840", scr)
        self.assertIn("before:   api@2.3.0", scr)
        self.assertIn("suspect #1", scr)
        self.con.keys("Escape")
        self.con.wait_for("author:   ci", absent=True)


@unittest.skipUnless(have_tmux(), "tmux not installed")
class TimelineEdges(unittest.TestCase):
    """No UTF-8, tiny terminals, hostile deploy names, nothing to show."""

    def session(self, deploys=True):
        now = now_ms()
        s = Session(self)
        if deploys:
            s.event("deploy.seen", by="ci", service="api", version="2.3.0",
                    time=_ts(now - 100 * MIN), author="ci")
            s.event("deploy.seen", by="ci", service="api", version="2.4.0",
                    time=_ts(now - 9 * MIN), author="ci")
            s.event("spike.detected", service="api", onset=_ts(now - 6 * MIN),
                    baseline=0.004, peak=0.12, magnitude=30.0)
            s.event("suspect.ranked", suspects=[{
                "service": "api", "version": "2.4.0", "score": 0.9,
                "reason": "deployed 3m before spike onset", "last_good": "2.3.0"}])
        return s

    def test_ascii_fallback(self):
        s = self.session()
        s.start_server()
        con = Console(self, s, 100, 30, env={"LANG": "C", "LC_ALL": "C"})
        scr = timeline_region(con.wait_for("DEPLOYS x ERROR RATE", timeout=10))
        scr = timeline_region(con.wait_for("api@2.4.0 !!"))
        self.assertIn("suspect: api@2.4.0", scr)
        self.assertRegex(scr, r"\+-+\+")  # the axis with deploy ticks, in ASCII
        # nothing but ASCII in the timeline's rows
        self.assertTrue(all(ord(ch) < 128 for ch in scr), scr)

    def test_small_sizes_never_crash(self):
        s = self.session()
        s.start_server()
        con = Console(self, s, 80, 24)
        con.wait_for("api@2.4.0 !!", timeout=10)
        con.keys("2", "g")
        con.wait_for("selected: api@2.4.0")
        for cols, rows in ((60, 20), (40, 12), (30, 8), (20, 5), (25, 6), (20, 3), (12, 4),
                           (20, 5), (80, 24)):
            con.resize(cols, rows)
            for k in ("Left", "Right", "+", "-", "Enter", "Escape"):
                con.keys(k)
            time.sleep(0.1)
            self.assertTrue(con.alive(), "console died at %dx%d:\n%s" % (cols, rows,
                                                                         con.screen()))
        con.resize(20, 5)
        # one pane: the focused timeline keeps its title and the suspect line
        scr = con.wait_for("DEPLOYS")
        self.assertIn("suspect: api@", scr)
        con.resize(80, 24)
        con.wait_for("api@2.4.0 !!")

    def test_hostile_deploy_names_are_sanitised(self):
        now = now_ms()
        s = self.session(deploys=False)
        s.event("deploy.seen", by="ci", service="evil\x1b]0;pwned\x07", version="6.6\x1b[2J",
                time=_ts(now - 5 * MIN), author="x\x1b[31mred")
        s.start_server()
        con = Console(self, s, 160, 48)
        con.wait_for("DEPLOYS", timeout=10)
        con.keys("2", "Right")
        scr = con.wait_for("selected: evil")
        self.assertNotIn("pwned", con.title())
        self.assertNotIn("\x1b", scr)
        self.assertIn("no error series yet", timeline_region(scr))

    def test_nothing_to_show(self):
        s = self.session(deploys=False)
        s.start_server()
        con = Console(self, s, 160, 48)
        scr = timeline_region(con.wait_for("no error series yet", timeout=10))
        self.assertIn("no deploys seen", scr)
        con.keys("2", "g")
        con.wait_for("no suspect yet")
        con.keys("Right")
        con.wait_for("no deploys in this window")


def _ts(ms):
    from wr_timeline import rfc3339
    return rfc3339(ms)


if __name__ == "__main__":
    unittest.main()
