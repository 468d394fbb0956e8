"""The session server end to end: durability across kill -9, rights, the
one-server lock, and the command line."""
import os
import re
import signal
import threading
import time
import unittest

import wr_core
from wr_core import Incident


class Writer(threading.Thread):
    """Adds notes NAME-000.. in order, a few in flight at once, and records
    which were acknowledged. Stops at the first error (the server died)."""

    def __init__(self, inc, name, count, window=8):
        super().__init__(daemon=True)
        self.inc, self.name, self.count, self.window = inc, name, count, window
        self.acked = []
        self.error = None

    def run(self):
        try:
            c = wr_core.Proto(self.inc.socket)
            c.hello(snapshot=False)
            m = c.wait(lambda m: m["t"] == "synced")
            if m is None:
                raise EOFError("closed before synced")
            sent, texts = 0, {}
            while len(self.acked) < self.count:
                while sent < self.count and sent - len(self.acked) < self.window:
                    text = "%s-%03d" % (self.name, sent)
                    texts[c.intent("note", {"text": text})] = text
                    sent += 1
                m = c.recv(timeout=10)
                if m is None:
                    return
                if m["t"] == "reply":
                    if not m["ok"]:
                        raise AssertionError("note refused: %s" % m.get("error"))
                    self.acked.append(texts[m["id"]])
            c.close()
        except (OSError, EOFError) as e:
            self.error = e


class TestCore(unittest.TestCase):
    def test_kill9_keeps_every_acknowledged_note_in_order(self):
        inc = Incident(self)
        p = inc.serve()
        # an attached console, to see it marked gone after the restart
        con = inc.connect(interactive=True)
        con.until_synced()
        a, b = Writer(inc, "A", 150), Writer(inc, "B", 150)
        a.start()
        b.start()
        end = time.time() + 20
        while len(a.acked) + len(b.acked) < 120 and time.time() < end:
            time.sleep(0.002)
        inc.kill9(p)
        a.join(10)
        b.join(10)
        self.assertGreater(len(a.acked) + len(b.acked), 0)
        self.assertTrue(len(a.acked) < 150 or len(b.acked) < 150,
                        "the writers finished before the kill; nothing was tested mid-way")

        inc.serve()
        st = inc.state()
        notes = [c for c in st["comms"] if c["kind"] == "note"]
        texts = [c["text"] for c in notes]
        seqs = [c["seq"] for c in notes]
        self.assertEqual(seqs, sorted(seqs))
        for w in (a, b):
            mine = [t for t in texts if t.startswith(w.name + "-")]
            # every acknowledged note survived, in the writer's order; the
            # one after them may have been written but not acknowledged
            self.assertEqual(mine[:len(w.acked)], w.acked)
            self.assertEqual(mine, ["%s-%03d" % (w.name, i) for i in range(len(mine))])
        # the console attached before the crash is marked gone
        left = [e for e in inc.journal_events() if e["kind"] == "client.left"]
        self.assertTrue(any(e["reason"] == "server restarted" for e in left), left)
        self.assertEqual(st["clients"], [])
        # no torn line: every line is whole JSON with increasing seq
        raw = inc.journal_bytes()
        self.assertTrue(raw.endswith(b"\n"))
        evs = inc.journal_events()
        self.assertEqual([e["seq"] for e in evs], list(range(1, len(evs) + 1)))

    def test_viewer_assign_is_refused_and_journal_unchanged(self):
        inc = Incident(self, operators="someone-else")
        inc.serve()
        before = inc.journal_bytes()
        r = inc.run("assign", "ic", "bob")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("read-only: %s is not an operator (see [access] operators)" % wr_core.me(),
                      r.stderr)
        r = inc.run("note", "hello")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(inc.journal_bytes(), before)
        # viewers may still read the state
        self.assertEqual(inc.state()["roles"]["ic"], None)

    def test_roles_need_the_right_holder(self):
        inc = Incident(self)  # no operators list: the server's user is the operator
        inc.serve()
        r = inc.run("set-state", "identified")
        self.assertEqual(r.returncode, 1)
        self.assertIn("set-state needs the Incident Commander role (you hold none)", r.stderr)
        self.assertEqual(inc.run("assign", "primary", wr_core.me()).returncode, 0)
        r = inc.run("severity", "SEV1")
        self.assertIn("you hold Primary on-call", r.stderr)
        self.assertEqual(inc.run("assign", "ic", wr_core.me()).returncode, 0)
        self.assertEqual(inc.run("set-state", "identified").returncode, 0)
        self.assertEqual(inc.run("severity", "sev1").returncode, 0)
        r = inc.run("assign", "boss", "bob")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown role 'boss'", r.stderr)
        r = inc.run("release", "external-comms")
        self.assertIn("nobody holds External Comms", r.stderr)
        st = inc.state()
        self.assertEqual(st["incident"]["state"], "identified")
        self.assertEqual(st["incident"]["severity"], "SEV1")
        self.assertEqual(st["roles"]["ic"], wr_core.me())
        # read-only hello: refused even for an operator
        c = inc.connect(snapshot=False, read_only=True)
        m = c.call("note", {"text": "x"})
        self.assertFalse(m["ok"])
        self.assertIn("read-only", m["error"])

    def test_second_server_refuses(self):
        inc = Incident(self)
        p = inc.serve()
        r = inc.run("serve", "--foreground", timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("a server already runs for %s (pid %d)" % (inc.journal, p.pid), r.stderr)
        self.assertIsNone(p.poll())

    def test_serve_daemonizes_when_ready(self):
        inc = Incident(self)
        r = inc.run("serve")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(inc.journal + ".lock") as f:
            pid = int(f.read().strip())
        self.addCleanup(lambda: os.kill(pid, signal.SIGKILL) if os.path.exists("/proc/%d" % pid)
                        else None)
        # ready at once: the next verb works without waiting
        self.assertEqual(inc.run("note", "first").returncode, 0)
        self.assertEqual(oct(os.stat(inc.socket).st_mode & 0o777), "0o700")
        os.kill(pid, signal.SIGTERM)
        end = time.time() + 5
        while os.path.exists("/proc/%d" % pid) and time.time() < end:
            time.sleep(0.02)
        self.assertFalse(os.path.exists(inc.socket))
        with open(inc.journal + ".log") as f:
            self.assertIn("SIGTERM", f.read())

    def test_command_line(self):
        inc = Incident(self)
        r = inc.run("--help", config=False)
        self.assertEqual(r.returncode, 0)
        for verb in ("state", "note", "assign", "release", "serve", "check-config"):
            self.assertIn(verb, r.stdout)
        r = inc.run("--version", config=False)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^warroom \d+\.\d+")
        r = inc.run("assign", "--help", config=False)
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: warroom assign ROLE USER", r.stdout)
        self.assertIn("--config FILE", r.stdout)
        r = inc.run("note", "--bogus", "x")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option '--bogus'", r.stderr)
        self.assertEqual(inc.run("assign", "ic").returncode, 2)
        self.assertEqual(inc.run("frobnicate", config=False).returncode, 2)
        r = inc.run("note", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no session at %s" % inc.socket, r.stderr)

        inc.serve()
        # options before or after the arguments
        r = inc.run("note", "after", "the", "text")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = wr_core.subprocess.run([wr_core.BIN, "--config", inc.config, "note", "before"],
                                   capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = wr_core.subprocess.run([wr_core.BIN, "note", "--config=" + inc.config, "--",
                                    "--not-an-option"], capture_output=True, text=True,
                                   timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        texts = [c["text"] for c in inc.state()["comms"] if c["kind"] == "note"]
        self.assertEqual(texts, ["after the text", "before", "--not-an-option"])
        r = inc.run("state")
        self.assertEqual(r.returncode, 0)
        self.assertIn("SEV2", r.stdout)
        r = inc.run("rollback", "api")
        self.assertNotEqual(r.returncode, 0)

    def test_missing_config_is_a_config_error(self):
        inc = Incident(self)
        r = wr_core.subprocess.run([wr_core.BIN, "state", "--config",
                                    os.path.join(inc.dir, "nope.ini")],
                                   capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith("warroom: "), r.stderr)

    def test_without_operators_list_the_server_user_may_act_everywhere(self):
        """No [access] operators: the user the server runs as is the operator
        for every right, notes and status updates alike."""
        inc = Incident(self, extra="\n[status log]\ntype = file\npath = %s\n"
                       % os.path.join("/tmp", "wr-nops-%d.log" % os.getpid()))
        self.addCleanup(lambda: os.path.exists("/tmp/wr-nops-%d.log" % os.getpid())
                        and os.unlink("/tmp/wr-nops-%d.log" % os.getpid()))
        inc.serve()
        me = wr_core.me()
        self.assertEqual(inc.run("note", "hello").returncode, 0)
        r = inc.run("assign", "ic", me)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = inc.run("update", "--state", "investigating", "--message", "looking")
        self.assertEqual(r.returncode, 0, r.stderr)
        end = time.time() + 10
        while time.time() < end:
            if any(e["kind"] == "update.sent" for e in inc.journal_events()):
                break
            time.sleep(0.05)
        self.assertTrue(any(e["kind"] == "update.sent" for e in inc.journal_events()),
                        inc.read_log())


if __name__ == "__main__":
    unittest.main()
