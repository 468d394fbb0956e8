"""Drives the action runner for the write-side integration tests.

Until the session server's verbs are available these tests use
tests/integration/actions_driver.c: the real journal, state fold, action
runner and backends around a stand-in server. It is compiled once per run
against the built libraries (WARROOM_BUILD, or the directory of WARROOM_BIN).
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

ROOT = os.environ.get("WARROOM_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def build_dir():
    b = os.environ.get("WARROOM_BUILD")
    if b:
        return b
    binp = os.environ.get("WARROOM_BIN")
    return os.path.dirname(binp) if binp else os.path.join(ROOT, "build")


_DRIVER = None


def driver():
    """Path of the compiled driver, or raises unittest.SkipTest."""
    global _DRIVER
    if _DRIVER:
        return _DRIVER
    import unittest
    b = build_dir()
    libs = [os.path.join(b, "libbackends.a"), os.path.join(b, "libcore.a")]
    if not all(os.path.exists(p) for p in libs):
        raise unittest.SkipTest("libraries not built in %s (run make)" % b)
    out = os.path.join(b, "tests", "actions_driver")
    src = os.path.join(ROOT, "tests", "integration", "actions_driver.c")
    if not os.path.exists(out) or os.path.getmtime(out) < max(
            os.path.getmtime(p) for p in libs + [src]):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        pkgs = "ncursesw libcurl libcjson libssh2 inih libevent"
        cflags = subprocess.run("pkg-config --cflags " + pkgs, shell=True, capture_output=True,
                                text=True).stdout.split()
        ldlibs = subprocess.run("pkg-config --libs " + pkgs, shell=True, capture_output=True,
                                text=True).stdout.split()
        san = ["-fsanitize=address,undefined"] if "asan" in os.path.basename(b) else []
        cmd = (["cc", "-std=c11", "-D_GNU_SOURCE", "-DWARROOM_VERSION=\"test\"", "-I", ROOT]
               + cflags + san + ["-o", out, src, "-Wl,--start-group"] + libs
               + ["-Wl,--end-group"] + ldlibs + ["-lm"])
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("building the actions driver failed:\n" + p.stderr)
    _DRIVER = out
    return out


def rfc3339(ms):
    import datetime
    dt = datetime.datetime.fromtimestamp(ms / 1000.0, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


class Session:
    """A config and a journal in a temp dir, with operators alice and bob
    (alice holds IC unless told otherwise) and carol attached as a viewer."""

    def __init__(self, testcase, sections="", roles=(("ic", "alice"),), deploys=(),
                 operators="alice bob"):
        self.tc = testcase
        self.dir = tempfile.mkdtemp(prefix="wract-")
        testcase.addCleanup(shutil.rmtree, self.dir, True)
        self.config = os.path.join(self.dir, "config.ini")
        self.journal = os.path.join(self.dir, "journal.jsonl")
        with open(self.config, "w") as f:
            f.write("[incident]\ntitle = Checkout API 5xx\nseverity = SEV2\n\n"
                    "[access]\noperators = %s\n\n%s" % (operators, sections))
        now = int(time.time() * 1000) - 3600 * 1000
        evs = [("incident.declared", "alice", {"title": "Checkout API 5xx", "severity": "SEV2"})]
        for role, user in roles:
            evs.append(("role.assigned", "alice", {"role": role, "user": user}))
        for i, d in enumerate(deploys):
            d = dict(d)
            d.setdefault("time", rfc3339(now + i * 60000))
            evs.append(("deploy.seen", "system", d))
        with open(self.journal, "w") as f:
            for seq, (kind, by, data) in enumerate(evs, 1):
                ev = {"seq": seq, "ts": rfc3339(now + seq), "kind": kind, "by": by}
                ev.update(data)
                f.write(json.dumps(ev) + "\n")
        self.procs = []

    def run(self, *steps, wait_ms=1500, env=None, timeout=60):
        """steps: (user, verb, args dict). Returns (replies, state, stdout, stderr)."""
        argv = [driver(), self.config, self.journal, str(wait_ms)]
        for user, verb, args in steps:
            argv += [user, verb, json.dumps(args)]
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=e,
                           stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise AssertionError("driver failed (%d): %s" % (p.returncode, p.stderr[-3000:]))
        replies, state = [], None
        for line in p.stdout.splitlines():
            if line.startswith("STATE "):
                state = json.loads(line[6:])
            elif line.startswith("OK "):
                body = line[3:].strip()
                replies.append(("OK", json.loads(body) if body else None))
            elif line.startswith("REFUSED "):
                replies.append(("REFUSED", line[8:].strip()))
        return replies, state, p.stdout, p.stderr

    def start(self, *steps, wait_ms=60000, env=None):
        """Like run, in the background; returns the Popen (killed in cleanup)."""
        argv = [driver(), self.config, self.journal, str(wait_ms)]
        for user, verb, args in steps:
            argv += [user, verb, json.dumps(args)]
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=e, stdin=subprocess.DEVNULL)
        self.tc.addCleanup(_kill, p)
        return p

    def events(self, kind=None):
        out = []
        with open(self.journal) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                ev = json.loads(line)
                if kind is None or ev["kind"] == kind:
                    out.append(ev)
        return out

    def journal_text(self):
        with open(self.journal) as f:
            return f.read()

    def wait_event(self, pred, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for ev in self.events():
                if pred(ev):
                    return ev
            time.sleep(0.02)
        return None


def _kill(p):
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait()
    for s in (p.stdout, p.stderr):
        if s:
            s.close()
