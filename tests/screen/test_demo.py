"""`warroom demo`: the built-in incident driven by keys from the first alert
to resolved, in a private tmux server, then the demo journal checked.

The demo runs at --speed 4 with WARROOM_DEMO_DIR pointing into the test's
temp dir, so the journal, the status files and the server's pid are known.
Everything started here is stopped in cleanups: the tmux server by its own
socket, the demo's server by the pid it leaves in the demo dir."""
import getpass
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("WARROOM_BIN") or os.path.join(
    os.environ.get("WARROOM_ROOT", "."), "build", "warroom")


def journal_events(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


class Demo:
    """`warroom demo --speed N` in a private tmux server of a given size."""

    def __init__(self, tc, cols, rows, speed=4):
        self.tc = tc
        self.tmp = tempfile.mkdtemp(prefix="wrdemo-")
        tc.addCleanup(shutil.rmtree, self.tmp, True)
        self.dir = os.path.join(self.tmp, "d")
        self.journal = os.path.join(self.dir, "journal.jsonl")
        self.tmux = os.path.join(self.tmp, "tmux.sock")
        self.name = "demo"
        env = dict(os.environ)
        env.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color",
                    "WARROOM_DEMO_DIR": self.dir, "TMPDIR": self.tmp})
        env.pop("NO_COLOR", None)
        env.pop("TMUX", None)
        # keep the tmux pane after the console exits, to see its last words
        cmd = "%s demo --speed %s" % (BIN, speed)
        subprocess.run(["tmux", "-S", self.tmux, "-f", "/dev/null", "new-session", "-d",
                        "-s", self.name, "-x", str(cols), "-y", str(rows), cmd],
                       check=True, env=env, stdin=subprocess.DEVNULL)
        tc.addCleanup(self.stop)
        subprocess.run(["tmux", "-S", self.tmux, "set-option", "-t", self.name,
                        "remain-on-exit", "on"], capture_output=True, stdin=subprocess.DEVNULL)

    def server_pid(self):
        try:
            with open(os.path.join(self.dir, "server.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.server_pid()
        subprocess.run(["tmux", "-S", self.tmux, "kill-server"], capture_output=True,
                       stdin=subprocess.DEVNULL)
        if pid:
            # the demo's server follows the console out; make sure of it
            deadline = time.time() + 3
            while time.time() < deadline:
                try:
                    os.kill(pid, 0)
                except OSError:
                    return
                time.sleep(0.05)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def screen(self, history=False):
        # tmux 3.3 scrolls a dead pane up a line to print its notice, so the
        # console's last words may sit in the history
        hist = ["-S", "-%d" % 50] if history else []
        p = subprocess.run(["tmux", "-S", self.tmux, "capture-pane", "-p", "-t", self.name] + hist,
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        return p.stdout

    def keys(self, *keys):
        for k in keys:
            subprocess.run(["tmux", "-S", self.tmux, "send-keys", "-t", self.name, k],
                           check=True, stdin=subprocess.DEVNULL)
            time.sleep(0.05)

    def wait(self, pattern, timeout=10.0, absent=False, history=False):
        """Waits for a regex (multiline) on the screen."""
        rx = re.compile(pattern, re.M)
        deadline = time.time() + timeout
        scr = ""
        while time.time() < deadline:
            scr = self.screen(history)
            if bool(rx.search(scr)) != absent:
                return scr
            time.sleep(0.1)
        raise AssertionError("%r %s on screen after %.1fs:\n%s\n-- server log --\n%s" % (
            pattern, "still" if absent else "not", timeout, scr, self.log()))

    def wait_journal(self, pred, what, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            evs = journal_events(self.journal)
            if pred(evs):
                return evs
            time.sleep(0.1)
        raise AssertionError("journal: no %s after %.1fs:\n%s" % (
            what, timeout, "\n".join(json.dumps(e) for e in journal_events(self.journal))))

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""


def kinds(evs, kind, **fields):
    return [e for e in evs if e.get("kind") == kind and
            all(e.get(k) == v for k, v in fields.items())]


class DemoWithoutTerminal(unittest.TestCase):
    def test_no_tty_exits_2(self):
        tmp = tempfile.mkdtemp(prefix="wrdemo-")
        self.addCleanup(shutil.rmtree, tmp, True)
        env = dict(os.environ, TMPDIR=tmp)
        env.pop("WARROOM_DEMO_DIR", None)
        p = subprocess.run([BIN, "demo"], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=10, env=env)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("terminal", p.stderr)
        self.assertEqual(os.listdir(tmp), [])  # nothing created, nothing started

    def test_bad_speed_exits_2(self):
        p = subprocess.run([BIN, "demo", "--speed", "fast"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--speed", p.stderr)


class DemoMitigation(unittest.TestCase):
    user = getpass.getuser()

    def mitigate(self, cols, rows, full):
        d = Demo(self, cols, rows)
        # the first alert fires within a second or two of launch
        d.wait(r"HighErrorRate", timeout=10)
        scr = d.screen()
        self.assertIn("SEV2", scr)
        self.assertIn("Checkout API 5xx", scr)
        if full:
            self.assertIn("ALERTS", scr)
            self.assertIn("ROLES", scr)
            self.assertIn("COMMS", scr)
        # the hint names the first key
        d.wait(r"press a", timeout=5)

        # take a role: a, the picker opens on Incident Commander, Enter
        d.keys("a")
        d.wait(r"Incident Commander", timeout=5)
        d.keys("Enter")
        d.wait_journal(lambda evs: kinds(evs, "role.assigned", user=self.user, role="ic"),
                       "role.assigned ic")
        if full:
            d.wait(r"Incident Commander\s+%s" % re.escape(self.user), timeout=5)

        # tell customers: u opens the composer (investigating), Enter sends
        d.wait(r"press u", timeout=5)
        d.keys("u")
        d.wait(r"(?i)investigating", timeout=5)
        d.keys("Enter")
        evs = d.wait_journal(lambda evs: len(kinds(evs, "update.sent")) >= 2, "update.sent x2")
        with open(os.path.join(d.dir, "status-page.log")) as f:
            self.assertIn("INVESTIGATING", f.read())

        # the suspect: api@2.4.0, last good api@2.3.0 (a deploy after the onset never is)
        d.wait_journal(lambda evs: any(
            e["suspects"] and e["suspects"][0].get("version") == "2.4.0"
            for e in kinds(evs, "suspect.ranked")), "suspect.ranked api 2.4.0", timeout=15)
        d.keys("g")
        scr = d.wait(r"api@2\.4\.0", timeout=5)
        if full:
            d.wait(r"(?s)suspect.*api@2\.4\.0.*last good.*2\.3\.0", timeout=5)

        # roll it back: r shows exactly what will run, y confirms
        d.keys("r")
        d.wait(r"demo-deploy rollback api 2\.4\.0 . 2\.3\.0", timeout=5)
        d.keys("y")
        # the runner's output lands in the journal; a narrow comms column cuts
        # the line on screen, so only the wide layout checks its whole text
        d.wait_journal(lambda evs: any("health checks passing 3/3" in (e.get("line") or "")
                                       for e in kinds(evs, "action.output")),
                       "action.output health checks", timeout=10)
        if full:
            d.wait(r"health checks passing 3/3", timeout=5)
            d.wait(r"draining traffic from api@2\.4\.0", timeout=2)
            d.wait(r"activating api@2\.3\.0", timeout=2)

        # the error rate falls and every alert that fired resolves (how many
        # fired depends on how fast the keys above came)
        def all_resolved(evs):
            fired = {e["id"] for e in kinds(evs, "alert.fired")}
            return fired and fired <= {e["id"] for e in kinds(evs, "alert.resolved")}
        d.wait_journal(all_resolved, "every fired alert resolved", timeout=15)
        d.wait(r"(?i)resolved", timeout=5)
        d.wait(r"press S", timeout=5)

        # resolve: S, the picker, resolved, Enter
        d.keys("S")
        d.wait(r"(?i)monitoring", timeout=5)
        d.keys("End", "Enter")
        d.wait(r"RESOLVED", timeout=5)

        evs = d.wait_journal(lambda evs: kinds(evs, "incident.state", state="resolved"),
                             "incident.state resolved")
        fin = kinds(evs, "action.finished")
        self.assertEqual(len(fin), 1)
        self.assertIs(fin[0]["ok"], True)
        self.assertEqual(fin[0]["exit"], 0)
        req = kinds(evs, "action.requested")
        self.assertEqual((req[0]["service"], req[0]["from"], req[0]["to"], req[0]["via"]),
                         ("api", "2.4.0", "2.3.0", "demo"))
        self.assertEqual(req[0]["by"], self.user)
        sent = {e["target"] for e in kinds(evs, "update.sent")}
        self.assertEqual(sent, {"statuspage-demo", "slack-demo"})
        self.assertTrue(kinds(evs, "deploy.seen", service="api", version="2.3.0",
                              source="demo-rollback"))
        # every alert the demo fired is resolved
        fired = {e["id"] for e in kinds(evs, "alert.fired")}
        self.assertEqual(fired, {e["id"] for e in kinds(evs, "alert.resolved")})
        # web@1.4.1 came after the onset and was never ranked
        for e in kinds(evs, "suspect.ranked"):
            for s in e["suspects"]:
                self.assertNotEqual((s.get("service"), s.get("version")), ("web", "1.4.1"))

        # quit: the console asks before detaching the last operator
        d.keys("q")
        time.sleep(0.3)
        if re.search(r"(?i)quit|detach|leave", d.screen()):
            d.keys("y")
        d.wait(r"demo journal kept at %s" % re.escape(d.journal), timeout=5, history=True)
        self.assertFalse(os.path.exists(os.path.join(d.dir, "demo.sock")))

    def test_mitigation_160x48(self):
        self.mitigate(160, 48, True)

    def test_mitigation_80x24(self):
        self.mitigate(80, 24, False)


if __name__ == "__main__":
    unittest.main()
