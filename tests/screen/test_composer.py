"""The status update composer on a real console in tmux: `u` opens it with a
message drafted from the incident, a state and targets are picked, Enter
sends through the server to two file status targets (one external, one
internal), and the files, `warroom state --json` and the comms pane show the
update. Esc sends nothing; a refusal from the server stays on screen."""
import json
import os
import time
import unittest

from wr_tmux import Session, Tmux, have_tmux, now_ms

TITLE = "Checkout API 5xx"


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def dialog_text(scr):
    """The composer dialog's text alone (between its side borders), with
    whitespace folded; "" when it is not on screen."""
    lines = scr.splitlines()
    for i, line in enumerate(lines):
        if "STATUS UPDATE" in line and "\u250c" in line:
            left = line.index("\u250c")
            right = line.find("\u2510", left)
            parts = []
            for body in lines[i + 1:]:
                if len(body) <= left or body[left] == "\u2514":
                    break
                parts.append(body[left + 1:right if right > 0 else None])
            return " ".join(" ".join(parts).split())
    return ""


@unittest.skipUnless(have_tmux(), "tmux not installed")
class ComposerScreen(unittest.TestCase):
    def start(self, ic=True, args=("attach",), seed=None):
        self.assertTrue(os.access(os.environ.get("WARROOM_BIN", ""), os.X_OK),
                        "WARROOM_BIN must point at the built binary")
        # paths are filled in once the session directory exists
        s = Session(self, title=TITLE)
        self.pub = os.path.join(s.dir, "public.log")
        self.team = os.path.join(s.dir, "team.log")
        with open(s.config, "a") as f:
            f.write("\n[status public]\ntype = file\npath = %s\naudience = external\n"
                    "\n[status team]\ntype = file\npath = %s\naudience = internal\n"
                    % (self.pub, self.team))
        if ic:
            s.event("role.assigned", by=s.user, role="ic", user=s.user)
        if seed:
            seed(s)
        s.start_server()
        self.s = s
        self.con = Tmux(self, s, 160, 48, args=args)
        self.con.wait_for("COMMS", timeout=10)
        self.con.wait_for("1 here", timeout=10)
        return s

    def state(self):
        p = self.s.verb("state", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def wait_updates(self, pred, what, timeout=8.0):
        deadline = time.time() + timeout
        ups = []
        while time.time() < deadline:
            ups = self.state().get("updates", [])
            if pred(ups):
                return ups
            time.sleep(0.1)
        self.fail("updates[]: no %s after %.1fs: %r" % (what, timeout, ups))

    def test_pick_state_and_send_to_all_targets(self):
        self.start()
        self.con.keys("u")
        want = ("STATUS UPDATE", TITLE + ": we are investigating", "partial outage (SEV2)",
                "all targets (2)")
        scr = self.con.wait_until(lambda sc: all(w in sc for w in want), what="the composer")
        # drafted from the incident: its title, the impact of its severity
        self.assertIn(TITLE + ": we are investigating", scr)
        self.assertIn("partial outage (SEV2)", scr)
        self.assertIn("all targets (2)", scr)
        self.con.keys("2")  # identified
        scr = self.con.wait_for("Enter sends IDENTIFIED with this message to 2 targets")
        self.assertIn("we have identified the cause", scr)
        for name in ("public", "team"):
            self.assertRegex(scr, r"%s\s+file\s+\w+" % name)
        self.con.keys("Enter")
        self.con.wait_for("STATUS UPDATE", absent=True)
        ups = self.wait_updates(lambda u: len(u) == 2 and all(x["status"] == "sent" for x in u),
                                "two sent updates")
        self.assertEqual({u["target"] for u in ups}, {"public", "team"})
        self.assertEqual({u["audience"] for u in ups}, {"external", "internal"})
        for u in ups:
            self.assertEqual(u["state"], "identified")
            self.assertTrue(u["message"].startswith(TITLE + ": we have identified the cause"))
        for path in (self.pub, self.team):
            line = read(path)
            self.assertIn(" IDENTIFIED %s: we have identified the cause" % TITLE, line)
            self.assertEqual(line.count("\n"), 1, line)
        # the comms log shows the update going out
        scr = self.con.wait_for("sent to public")
        self.assertIn("(identified) to team", scr)

    def test_edited_message_to_the_external_target_only(self):
        self.start()
        self.con.keys("u")
        self.con.wait_for("all targets (2)")
        self.con.keys("t")
        self.con.wait_for("external only (1)")
        self.con.keys("e")
        self.con.wait_for("Message:")
        self.con.keys("C-u")
        self.con.text("Checkout errors are fixed; watching closely")
        self.con.keys("Enter")
        scr = self.con.wait_for("Message (edited)")
        self.assertIn("to 1 target", scr)
        # a state change keeps a message typed by hand
        self.con.keys("3")
        scr = self.con.wait_for("Enter sends MONITORING")
        self.assertIn("Checkout errors are fixed; watching closely", scr)
        self.con.keys("Enter")
        self.wait_updates(lambda u: len(u) == 1 and u[0]["status"] == "sent", "one sent update")
        self.assertIn("MONITORING Checkout errors are fixed; watching closely", read(self.pub))
        self.assertEqual(read(self.team), "")
        self.con.wait_for("queued for public")

    def test_editing_starts_from_the_draft(self):
        self.start()
        self.con.keys("u")
        self.con.wait_for("STATUS UPDATE")
        self.con.keys("e")
        self.con.wait_for("Message:")
        self.con.text(" Payments are not affected.")
        self.con.keys("Enter")
        self.con.wait_for("Message (edited)")
        self.con.keys("Enter")
        ups = self.wait_updates(lambda u: len(u) == 2 and all(x["status"] == "sent" for x in u),
                                "two sent updates")
        for u in ups:
            self.assertTrue(u["message"].startswith(TITLE + ": we are investigating"), u)
            self.assertTrue(u["message"].endswith("minutes. Payments are not affected."), u)

    def test_escape_sends_nothing(self):
        self.start()
        self.con.keys("u")
        self.con.wait_for("STATUS UPDATE")
        self.con.keys("Escape")
        self.con.wait_for("status update not sent")
        self.assertNotIn("STATUS UPDATE", self.con.screen())
        # a note afterwards proves the server is past anything the console sent
        p = self.s.verb("note", "after the composer")
        self.assertEqual(p.returncode, 0, p.stderr)
        st = self.state()
        self.assertTrue(any("after the composer" in (c.get("text") or "")
                            for c in st.get("comms", [])))
        self.assertEqual(st.get("updates"), [])
        self.assertFalse(os.path.exists(self.pub) and read(self.pub))
        self.assertFalse(os.path.exists(self.team) and read(self.team))

    def test_refusal_without_a_role_stays_on_screen(self):
        self.start(ic=False)
        self.con.keys("u")
        # the preview warns before the server says so (waited for itself: a
        # capture may come while the overlay is still being written)
        scr = self.con.wait_for("needs External Comms or IC")
        self.assertIn("STATUS UPDATE", scr)
        self.con.keys("Enter")
        scr = self.con.wait_for("refused:")
        self.assertIn("may post to no target", scr)
        self.assertIn("STATUS UPDATE", scr)  # still open to change the choice
        self.assertEqual(self.state().get("updates"), [])
        self.con.keys("Escape")
        self.con.wait_for("STATUS UPDATE", absent=True)

    def test_draft_says_what_changed_since_the_last_update(self):
        t0 = now_ms()
        def seed(s):
            s.event("alert.fired", ts=t0 + 500, id="a1", source="am", name="HighErrorRate",
                    service="api", severity="critical", summary="5xx")
            s.event("alert.fired", ts=t0 + 600, id="a2", source="am", name="Latency",
                    service="api", severity="warning", summary="slow")
            s.event("update.requested", by=s.user, ts=t0 + 1000, id="u1",
                    state="investigating", message="first", target="public",
                    audience="external")
            s.event("update.sent", ts=t0 + 1100, id="u1", target="public")
            s.event("action.requested", by=s.user, ts=t0 + 1500, id="r1", service="api",
                    **{"from": "2.4.0"}, to="2.3.0", via="ssh", display="rollback api",
                    approval="none")
            s.event("action.started", ts=t0 + 1600, id="r1")
            s.event("action.finished", ts=t0 + 1900, id="r1", ok=True, exit=0,
                    duration_ms=300)
            s.event("alert.resolved", ts=t0 + 2000, id="a1", source="am")
        self.start(seed=seed)
        self.con.keys("u")
        at = time.strftime("%H:%M", time.gmtime((t0 + 1100) / 1000))
        want = "Since our last update at %s UTC: api rolled back from 2.4.0 to 2.3.0; " \
               "1 alert resolved." % at
        # the draft is wrapped inside the dialog: compare its text, folded
        scr = self.con.wait_until(lambda sc: want in dialog_text(sc),
                                  what="the draft with what changed")
        self.assertIn("rolled back from 2.4.0 to 2.3.0", dialog_text(scr))

    def test_first_draft_has_no_since(self):
        self.start()
        self.con.keys("u")
        scr = self.con.wait_until(lambda sc: "all targets (2)" in sc, what="the composer")
        self.assertNotIn("Since our last update", scr)

    def test_viewer_is_refused(self):
        self.start(args=("attach", "--read-only"))
        self.con.keys("u")
        scr = self.con.wait_until(lambda sc: "STATUS UPDATE" in sc and "read-only" in sc,
                                  what="the composer saying read-only")
        self.assertIn("read-only", scr)
        self.con.keys("Enter")
        self.con.wait_for("refused:")
        self.assertEqual(self.state().get("updates"), [])
        self.assertEqual(read(self.pub), "")


if __name__ == "__main__":
    unittest.main()
