"""`warroom join USER@127.0.0.1:PORT` against a real OpenSSH sshd on a
loopback port: the remote session's console shows in the local terminal
(tmux), keys reach it, a resize of the local terminal reaches the remote
PTY, quitting the remote console ends join with its exit status, and the
session lives on. An unknown host key and a changed one refuse to connect
and print the fingerprint; after join the local terminal is in its cooked
mode again."""
import os
import shlex
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import wr_sshd  # noqa: E402
from wr_tmux import BIN, Session, Tmux, have_tmux, now_ms  # noqa: E402

SKIP = wr_sshd.available() or (None if have_tmux() else "tmux is not installed")


@unittest.skipIf(SKIP, SKIP or "")
class JoinTest(unittest.TestCase):
    def setUp(self):
        self.sshd = wr_sshd.Sshd(self)
        self.s = Session(self)
        self.s.event("alert.fired", by="am", ts=now_ms() - 60000, id="a1", name="HighErrorRate",
                     service="api", severity="critical", summary="api 5xx ratio 12%",
                     source="am", labels={}, annotations={})
        self.s.start_server()

    def join(self, cols=120, rows=36, known_hosts=None, extra=()):
        remote = "%s attach --config %s" % (shlex.quote(os.path.abspath(BIN)),
                                            shlex.quote(self.s.config))
        args = ["join", "%s@127.0.0.1:%d" % (self.sshd.user, self.sshd.port),
                "--identity", shlex.quote(self.sshd.user_key),
                "--known-hosts", shlex.quote(known_hosts or self.sshd.known_hosts),
                "--remote-command", shlex.quote(remote)] + list(extra)
        # tmux runs the line through sh: the exit status goes to a file (tmux
        # may be slow to reap the pane and report it); the helper's trailing
        # --config lands on `:`
        self.rc_file = os.path.join(self.s.dir, "join.rc")
        if os.path.exists(self.rc_file):
            os.unlink(self.rc_file)
        self.stty_file = os.path.join(self.s.dir, "join.stty")
        args += ["; rc=$?; stty -a >", shlex.quote(self.stty_file), "2>&1; echo $rc >",
                 shlex.quote(self.rc_file), "; :"]
        # a fresh ssh-agent would be tried first; keep to the test's key
        return Tmux(self, self.s, cols, rows, args=args, name="join",
                    env={"SSH_AUTH_SOCK": ""})

    def wait_dead(self, t, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            try:
                with open(self.rc_file) as f:
                    text = f.read()
                if text.endswith("\n"):
                    return int(text)
            except OSError:
                pass
            time.sleep(0.05)
        self.fail("join did not exit:\n" + t.screen())

    def printed(self, t):
        """Everything join printed, wrapped lines joined, with scrollback."""
        return t.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", t.name).stdout

    def test_remote_console_keys_resize_and_exit_status(self):
        t = self.join(120, 36)
        scr = t.wait_for("HighErrorRate", timeout=15)
        self.assertIn("Checkout API 5xx", scr)
        t.wait_for("Incident Commander")  # wide roster labels at 120 columns
        # keys go through: a note typed here lands in the remote journal
        t.keys("n")
        t.wait_for("Note:")
        t.text("typed through join")
        t.keys("Enter")
        t.wait_for("typed through join")
        with open(self.s.journal) as f:
            self.assertIn("typed through join", f.read())
        # the local terminal shrinks: the remote PTY follows, the console relays out
        t.resize(80, 24)
        scr = t.wait_until(lambda scr: "Incident Commander" not in scr and "IC " in scr,
                           what="the remote console at 80 columns")
        lines = scr.rstrip("\n").split("\n")
        self.assertLessEqual(len(lines), 24)
        # quitting the remote console ends join with its status (0), the
        # session runs on
        t.keys("q")
        t.wait_for("last operator attached")
        t.keys("y")
        rc = self.wait_dead(t)
        self.assertEqual(rc, 0, t.screen())
        # the local terminal is back in its cooked mode
        with open(self.stty_file) as f:
            modes = f.read().split()
        for mode in ("icanon", "echo", "isig", "opost"):
            self.assertIn(mode, modes)
        self.assertIsNone(self.s.server.poll())
        r = self.s.verb("state", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("left", r.stdout)

    def test_remote_exit_status_is_joins(self):
        t = self.join(extra=["--remote-command", shlex.quote("exit 7")])
        self.assertEqual(self.wait_dead(t), 7, t.screen())

    def test_unknown_host_key_refuses_with_fingerprint(self):
        empty = os.path.join(self.sshd.dir, "known_hosts.empty")
        open(empty, "w").close()
        t = self.join(known_hosts=empty)
        self.assertEqual(self.wait_dead(t), 1)
        scr = self.printed(t)
        self.assertIn("warroom: join 127.0.0.1: unknown host [127.0.0.1]:%d" % self.sshd.port, scr)
        self.assertIn(self.sshd.fingerprint(), scr)
        self.assertNotIn("HighErrorRate", scr)

    def test_changed_host_key_refuses_with_fingerprint(self):
        other = os.path.join(self.sshd.dir, "other_host_key")
        pub = wr_sshd.keygen(other)
        changed = os.path.join(self.sshd.dir, "known_hosts.changed")
        with open(changed, "w") as f:
            f.write(self.sshd.known_hosts_line(pub) + "\n")
        t = self.join(known_hosts=changed)
        self.assertEqual(self.wait_dead(t), 1)
        scr = self.printed(t)
        self.assertIn("HOST KEY CHANGED for [127.0.0.1]:%d" % self.sshd.port, scr)
        self.assertIn(self.sshd.fingerprint(), scr)
        self.assertNotIn("HighErrorRate", scr)


if __name__ == "__main__":
    unittest.main()
