"""The comms cadence in the header: a countdown to the next external and
internal status update from [cadence] minutes, turning to the overdue colour
once it has passed, and gone when the incident is resolved."""
import re
import unittest

from wr_tmux import Session, Tmux, have_tmux, now_ms

CADENCE = "[cadence]\nfirst_external = 5\nexternal = 20\ninternal = 15\n"


def header(scr):
    return scr.splitlines()[0] if scr else ""


def escapes_before(text, needle):
    """The run of escape sequences directly before needle."""
    i = text.index(needle)
    m = re.search(r"(?:\x1b\[[0-9;]*m)+$", text[:i])
    return m.group(0) if m else ""


def left(text, who):
    """(overdue, seconds) of "ext update in 4:12" / "int update OVERDUE 1:02:03"."""
    m = re.search(r"%s update (in|OVERDUE) (?:(\d+):)?(\d+):(\d\d)" % who, text)
    if not m:
        return None
    h = int(m.group(2)) if m.group(3) and m.group(2) and text.count(":") else 0
    parts = [int(x) for x in (m.group(2), m.group(3), m.group(4)) if x is not None]
    secs = 0
    for p in parts:
        secs = secs * 60 + p
    return m.group(1) == "OVERDUE", secs


@unittest.skipUnless(have_tmux(), "tmux is not installed")
class Cadence(unittest.TestCase):
    def test_countdown_and_overdue(self):
        s = Session(self, extra_config=CADENCE)
        t0 = now_ms()
        # declared 40 minutes ago; no external update since: 35 min overdue.
        s.events[0]["ts"] = _ts(t0 - 40 * 60000)
        # an internal update 3 minutes ago: the next is due in 12 minutes.
        s.event("update.requested", by=s.user, ts=t0 - 3 * 60000, id="u1",
                state="investigating", message="looking at api", target="slack",
                audience="internal")
        s.event("update.sent", ts=t0 - 3 * 60000 + 500, id="u1", target="slack")
        s.start_server()
        con = Tmux(self, s, cols=200, rows=40)
        scr = con.wait_for("ext update OVERDUE")
        ext = left(header(scr), "ext")
        internal = left(header(scr), "int")
        self.assertIsNotNone(ext, header(scr))
        self.assertIsNotNone(internal, header(scr))
        self.assertTrue(ext[0])
        self.assertTrue(35 * 60 - 5 <= ext[1] <= 35 * 60 + 30, header(scr))
        self.assertFalse(internal[0])
        self.assertTrue(12 * 60 - 30 <= internal[1] <= 12 * 60 + 5, header(scr))

        # overdue is drawn in the theme's overdue colour (dark: 196, bold),
        # the countdown that is not overdue is not
        coloured = header(con.screen(colours=True))
        self.assertIn("38;5;196", escapes_before(coloured, "ext update OVERDUE"), repr(coloured))
        self.assertNotIn("38;5;196", escapes_before(coloured, "int update in"), repr(coloured))

        # the clock runs: a second later the countdown has moved
        later = con.wait_until(lambda sc: left(header(sc), "int") and
                               left(header(sc), "int")[1] < internal[1], timeout=4,
                               what="internal countdown moving")
        self.assertTrue(left(header(later), "ext")[1] >= ext[1])

    def test_an_external_update_resets_it_and_resolving_ends_it(self):
        s = Session(self, extra_config=CADENCE + "\n[status page]\ntype = file\npath = %s\n"
                    "audience = external\n" % "status-page.log")
        s.events[0]["ts"] = _ts(now_ms() - 6 * 60000)
        s.start_server()
        con = Tmux(self, s, cols=200, rows=40)
        scr = con.wait_for("ext update OVERDUE 1:")
        self.assertRegex(header(scr), r"int update in [89]:")
        p = s.verb("assign", "external-comms", s.user)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = s.verb("update", "--state", "investigating", "--message", "we are on it")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # the first external update given: the next is due 20 minutes later
        scr = con.wait_for("ext update in 19:")
        self.assertNotIn("OVERDUE", header(scr))
        self.assertRegex(header(scr), r"int update in [89]:",
                         "an external update is not an internal one")
        p = s.verb("assign", "ic", s.user)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = s.verb("set-state", "resolved")
        self.assertEqual(p.returncode, 0, p.stderr)
        scr = con.wait_for("RESOLVED")
        self.assertNotIn("update in", header(scr))
        self.assertNotIn("OVERDUE", header(scr))


def _ts(ms):
    from wr_tmux import rfc3339
    return rfc3339(ms)


if __name__ == "__main__":
    unittest.main()
