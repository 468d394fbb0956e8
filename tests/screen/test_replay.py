"""`warroom replay JOURNAL --speed 10`: the recorded fixture incident (its
times squeezed to about a minute, so the run is short) plays back on a
private read-only session; pause, speed and seek keys act on it; at the end
the session's `warroom state --json` equals the journal folded directly
(`warroom state --json --journal`), also after seeking back (a restart)."""
import datetime
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from wr_tmux import BIN, console_env, have_tmux

ROOT = os.environ.get("WARROOM_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "export", "incident.jsonl")


def parse_ts(s):
    return datetime.datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")


def squeeze(src, dst, factor):
    """The fixture with the time between events divided by factor."""
    evs = [json.loads(l) for l in open(src) if l.strip()]
    t0 = parse_ts(evs[0]["ts"])
    with open(dst, "w") as f:
        for ev in evs:
            dt = (parse_ts(ev["ts"]) - t0) / factor
            ev["ts"] = (t0 + dt).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (
                (t0 + dt).microsecond // 1000)
            f.write(json.dumps(ev, separators=(",", ":")) + "\n")
    return evs


@unittest.skipUnless(have_tmux(), "tmux is not installed")
class Replay(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wrrp-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.journal = os.path.join(self.tmp, "incident.jsonl")
        # 12.5 minutes -> 62.5 s of incident time -> about 6 s at 10x
        self.events = squeeze(FIXTURE, self.journal, 12)
        self.dir = os.path.join(self.tmp, "d")
        self.sock = os.path.join(self.tmux_dir(), "t.sock")
        env = console_env({"WARROOM_REPLAY_DIR": self.dir, "XDG_CONFIG_HOME": self.tmp})
        self.env = env
        cmd = "%s replay %s --speed 10" % (BIN, self.journal)
        subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null", "new-session", "-d", "-s",
                        "rp", "-x", "180", "-y", "40", cmd], check=True, env=env,
                       stdin=subprocess.DEVNULL)
        self.addCleanup(self.stop)
        self.tmux("set-option", "-t", "rp", "remain-on-exit", "on")
        # a config that only names the replay's socket, for `warroom state`
        self.cfg = os.path.join(self.tmp, "c.ini")
        with open(self.cfg, "w") as f:
            f.write("[incident]\njournal = %s/unused.jsonl\nsocket = %s/replay.sock\n"
                    % (self.tmp, self.dir))

    def tmux_dir(self):
        return self.tmp

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.sock] + list(args), capture_output=True,
                              text=True, env=self.env, stdin=subprocess.DEVNULL)

    def stop(self):
        # the replay's own server, by the pid it leaves, then the tmux server
        try:
            pid = int(open(os.path.join(self.dir, "server.pid")).read())
        except (OSError, ValueError):
            pid = 0
        self.tmux("kill-server")
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "rp").stdout

    def header(self):
        return self.screen().splitlines()[0] if self.screen() else ""

    def wait_header(self, pred, what, timeout=15):
        deadline = time.time() + timeout
        h = ""
        while time.time() < deadline:
            h = self.header()
            if pred(h):
                return h
            time.sleep(0.05)
        raise AssertionError("%s: not seen in %.0fs; header: %r\nscreen:\n%s"
                             % (what, timeout, h, self.screen()))

    def keys(self, *ks):
        for k in ks:
            self.tmux("send-keys", "-t", "rp", k)

    def state(self, *extra):
        p = subprocess.run([BIN, "state", "--json"] + list(extra), capture_output=True,
                           text=True, timeout=10, stdin=subprocess.DEVNULL, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_replay_folds_to_the_recorded_state(self):
        self.wait_header(lambda h: "REPLAY" in h and "10x" in h, "replay at 10x")
        # pause: the count of events played stops moving
        self.keys("Space")
        paused = self.wait_header(lambda h: "REPLAY ❚❚" in h, "paused")
        time.sleep(1.0)
        self.assertEqual(self.header().split("REPLAY")[1].split()[2],
                         paused.split("REPLAY")[1].split()[2])
        # viewers cannot change a replayed incident
        p = subprocess.run([BIN, "note", "x", "--config", self.cfg], capture_output=True,
                           text=True, timeout=10, stdin=subprocess.DEVNULL, env=self.env)
        self.assertEqual(p.returncode, 1)
        self.assertIn("read-only", p.stderr)
        self.keys("Space", ">")
        self.wait_header(lambda h: "REPLAY ▶ 20x" in h, "playing at 20x")
        self.keys("<")
        self.wait_header(lambda h: "REPLAY ▶ 10x" in h, "back to 10x")
        total = len(self.events)
        self.wait_header(lambda h: "REPLAY done" in h and "%d/%d" % (total, total) in h,
                         "finished", timeout=20)
        self.assertIn("RESOLVED", self.header())
        live = self.state("--config", self.cfg)
        folded = self.state("--journal", self.journal)
        self.assertEqual(live, folded)
        self.assertEqual(live["incident"]["last_seq"], total)
        self.assertEqual(live["roles"]["ic"], "dave")

        # seeking back starts again from an earlier point, at the same
        # speed; ten minutes forward then plays the rest at once
        self.keys("[")
        self.wait_header(lambda h: "REPLAY" in h and "done" not in h, "restarted")
        self.keys("}")
        self.wait_header(lambda h: "REPLAY done" in h, "finished again")
        self.assertEqual(self.state("--config", self.cfg), folded)


if __name__ == "__main__":
    unittest.main()
