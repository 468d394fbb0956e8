"""`warroom export` on the recorded fixture journal, run as the real verb:
each format matches the saved document, the configured incident's journal is
used without --journal (no server running), secrets from the config never
appear, failures leave no half-written file, and the html chart renders in
headless Chromium with its deploy and rollback markers."""
import html.parser
import json
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.environ.get("WARROOM_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.environ.get("WARROOM_BIN") or os.path.join(ROOT, "build", "warroom")
BUILD = os.environ.get("WARROOM_BUILD") or os.path.join(ROOT, "build")
FIX = os.path.join(ROOT, "tests", "fixtures", "export")
JOURNAL = os.path.join(FIX, "incident.jsonl")


def run(*args, env=None, timeout=20):
    return subprocess.run([BIN] + list(args), capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env)


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


class SvgMarkers(html.parser.HTMLParser):
    """Collects the chart's marker groups (class and label) and its series."""

    def __init__(self):
        super().__init__()
        self.markers = []      # [class, label]
        self.in_svg = 0
        self.current = None
        self.points = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.in_svg += 1
        elif self.in_svg and tag == "g" and a.get("class", "").endswith("-marker"):
            self.current = [a["class"], ""]
            self.markers.append(self.current)
        elif self.in_svg and tag == "polyline" and a.get("class") == "series":
            self.points = a.get("points", "").split()

    def handle_endtag(self, tag):
        if tag == "svg":
            self.in_svg -= 1
        elif tag == "g":
            self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.current[1] += data


class ExportVerb(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wrexp-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.env = dict(os.environ)
        # no user config is read by accident
        self.env["XDG_CONFIG_HOME"] = self.dir

    def test_each_format_matches_the_saved_document(self):
        for fmt, ext in (("md", "md"), ("json", "json"), ("html", "html")):
            out = os.path.join(self.dir, "pm." + ext)
            p = run("export", "--journal", JOURNAL, "--format", fmt, "-o", out, env=self.env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, b"", "with -o nothing goes to stdout")
            self.assertEqual(read(out), read(os.path.join(FIX, "expected." + ext)), fmt)
        doc = json.loads(read(os.path.join(self.dir, "pm.json")))
        self.assertEqual(len(doc["timeline"]), 25)
        self.assertEqual(doc["metrics"]["time_to_mitigate_s"], 465.0)
        self.assertEqual([m["kind"] for m in doc["chart_markers"]].count("rollback"), 1)

    def test_configured_journal_without_a_server(self):
        journal = os.path.join(self.dir, "j", "incident.jsonl")
        os.makedirs(os.path.dirname(journal))
        shutil.copy(JOURNAL, journal)
        cfg = os.path.join(self.dir, "c.ini")
        with open(cfg, "w") as f:
            f.write("[incident]\ntitle = t\njournal = %s\nsocket = %s/none.sock\n"
                    % (journal, self.dir))
        # options after the verb, default format md, stdout
        p = run("export", "--config", cfg, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, read(os.path.join(FIX, "expected.md")))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "none.sock")))

    def test_secrets_from_the_config_never_appear(self):
        secret = "s3cr3t-Tok<en>&\"x"
        lines = read(JOURNAL, "r").splitlines()
        # a journal that (wrongly) holds the secret in a note and in command output
        extra = [
            {"seq": 26, "ts": "2026-11-23T19:11:00Z", "kind": "note", "by": "bob",
             "text": "curl -H 'Authorization: Bearer %s' ..." % secret},
            {"seq": 27, "ts": "2026-11-23T19:11:01Z", "kind": "note", "by": "bob",
             "text": "token was " + secret},
        ]
        journal = os.path.join(self.dir, "leaky.jsonl")
        with open(journal, "w") as f:
            for line in lines:
                f.write(line + "\n")
            for ev in extra:
                f.write(json.dumps(ev) + "\n")
        cfg = os.path.join(self.dir, "c.ini")
        with open(cfg, "w") as f:
            f.write("[incident]\ntitle = t\njournal = %s\nsocket = %s/s.sock\n\n"
                    "[status hook]\ntype = webhook\nurl = http://127.0.0.1:9/hook\n"
                    "token = ${WR_EXPORT_TEST_TOKEN}\n" % (journal, self.dir))
        env = dict(self.env, WR_EXPORT_TEST_TOKEN=secret)
        escaped = {"md": [secret], "json": [secret, json.dumps(secret)[1:-1]],
                   "html": [secret, "s3cr3t-Tok&lt;en&gt;&amp;&quot;x"]}
        for fmt in ("md", "json", "html"):
            p = run("export", "--config", cfg, "--format", fmt, env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            out = p.stdout.decode()
            for form in escaped[fmt]:
                self.assertNotIn(form, out, fmt)
            self.assertNotIn("s3cr3t", out, fmt)
            self.assertEqual(out.count("[redacted]"), 2, fmt)
            self.assertIn("Checkout API 5xx", out)
        if True:
            # JSON stays valid after redaction
            p = run("export", "--config", cfg, "--format", "json", env=env)
            json.loads(p.stdout)

    def test_failures(self):
        p = run("export", "--journal", JOURNAL, "--format", "pdf", env=self.env)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"unknown format 'pdf'", p.stderr)
        out = os.path.join(self.dir, "pm.md")
        p = run("export", "--journal", os.path.join(self.dir, "missing.jsonl"), "-o", out,
                env=self.env)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"missing.jsonl", p.stderr)
        self.assertEqual(os.listdir(self.dir), [], "no half-written document is left")
        empty = os.path.join(self.dir, "empty.jsonl")
        open(empty, "w").close()
        p = run("export", "--journal", empty, env=self.env)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"no events", p.stderr)

    def test_state_json_offline_fold(self):
        p = run("state", "--json", "--journal", JOURNAL, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        st = json.loads(p.stdout)
        self.assertEqual(st["incident"]["state"], "resolved")
        self.assertEqual(st["incident"]["last_seq"], 25)
        self.assertEqual(st["roles"]["ic"], "dave")
        self.assertEqual([a["status"] for a in st["actions"]], ["succeeded"])
        self.assertEqual(len(st["comms"]), 25)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@unittest.skipUnless(find_chromium(), "chromium is not installed (make deps installs it: "
                     "TEST_DEBS has chromium)")
class HtmlInChromium(unittest.TestCase):
    def test_chart_renders_with_markers(self):
        outdir = os.path.join(BUILD, "test-output")
        os.makedirs(outdir, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="wrchrome-", dir=outdir)
        self.addCleanup(shutil.rmtree, tmp, True)
        page = os.path.join(tmp, "postmortem.html")
        p = run("export", "--journal", JOURNAL, "--format", "html", "-o", page)
        self.assertEqual(p.returncode, 0, p.stderr)

        parser = SvgMarkers()
        parser.feed(read(page, "r"))
        kinds = [m[0] for m in parser.markers]
        self.assertIn("deploy-marker", kinds)
        self.assertIn("rollback-marker", kinds)
        labels = dict((m[0], m[1]) for m in parser.markers)
        self.assertEqual(labels["deploy-marker"], "api@2.4.0")
        self.assertEqual(labels["rollback-marker"], "rollback api->2.3.0")
        self.assertGreaterEqual(len(parser.points or []), 10, "the series is drawn")

        png = os.path.join(tmp, "postmortem.png")
        profile = os.path.join(tmp, "profile")
        env = dict(os.environ, HOME=tmp)
        r = subprocess.run([find_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                            "--user-data-dir=" + profile, "--screenshot=" + png,
                            "--window-size=1200,1600", "file://" + page],
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL, env=env,
                           cwd=tmp)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertTrue(os.path.exists(png), r.stderr[-2000:])
        data = read(png)
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(data), 10000, "a page with a chart, not a blank image")


if __name__ == "__main__":
    unittest.main()
