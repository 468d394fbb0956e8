"""The commented examples and the configuration reference, held to the code.

- Every examples/*.ini passes `warroom check-config` (exit 0, or 1 when a
  probe cannot reach an example host; never 2, a config error), with the
  ${NAME} variables it uses set to dummy values and its token_file paths
  pointed at temporary files. Example hosts are *.example.internal only, so
  nothing real is ever contacted.
- Every key docs/config.md lists for a section or class is accepted by it
  (check-config does not answer "unknown key"), every key a class accepts in
  its *_keys[] list (backends/*.c) or [incident]/[access]/[theme]/[cadence]
  take (core/config.c) is listed in docs/config.md, and the classes the
  reference documents are the classes built in. Sections marked "(not built
  in yet)" are skipped with the reason printed.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.environ.get("WARROOM_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.environ.get("WARROOM_BIN") or os.path.join(ROOT, "build", "warroom")
DOC = os.path.join(ROOT, "docs", "config.md")
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.ini")))
FAMILIES = ("alerts", "metrics", "deploys", "rollback", "status")
CORE_SECTIONS = ("incident", "access", "theme", "cadence")
# Probes of unreachable example hosts must fail fast; a run this long is a hang.
RUN_LIMIT_S = 30

ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NOT_BUILT = "(not built in yet)"


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# ---- reading the reference ------------------------------------------------------

def parse_doc(path=DOC):
    """{(family, type): {"keys": [...], "built": bool}} for backend classes and
    {(section, None): ...} for the core sections, from the level-3 headings
    and the `| key | required | default | meaning |` tables under them."""
    sections = {}
    cur = None
    in_table = False
    head = re.compile(r"^###\s+`?\[(\w+)(?:\s+[A-Z_]+)?\]`?\s*(?:(type|via)\s*=\s*`?([\w-]+)`?)?(.*)$")
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                in_table = False
                cur = None
                m = head.match(line)
                if m and line.startswith("### "):
                    sec, _, typ, rest = m.groups()
                    if sec in FAMILIES and typ:
                        cur = (sec, typ)
                    elif sec in CORE_SECTIONS and not typ:
                        cur = (sec, None)
                    if cur:
                        if cur in sections:
                            raise AssertionError("%s documented twice in %s" % (cur, path))
                        sections[cur] = {"keys": [], "built": NOT_BUILT not in rest}
                continue
            if not cur:
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
            if cells[:4] == ["key", "required", "default", "meaning"]:
                in_table = True
                continue
            if not cells:
                in_table = False
                continue
            if in_table and not set(cells[0]) <= set("-: "):
                m = re.match(r"^`([a-z_]+)`", cells[0])
                if not m:
                    raise AssertionError("%s: table row without a `key`: %s" % (cur, line))
                sections[cur]["keys"].append(m.group(1))
    return sections


# ---- reading the code ------------------------------------------------------------

def c_strings(block):
    return re.findall(r'"([^"\\]*)"', block)


def function_body(src, name):
    m = re.search(r"\b%s\s*\([^;{]*\)\s*\{" % re.escape(name), src)
    if not m:
        return ""
    end = src.find("\n}\n", m.end())
    return src[m.start():end if end > 0 else len(src)]


def code_classes():
    """{(family, type): {"keys": set, "file": path}} from backends/*.c: each
    `const struct backend_class` with its .family/.type, and the *_keys[]
    arrays its configure function uses (or the file's only one)."""
    classes = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "backends", "*.c"))):
        src = read(path)
        arrays = {m.group(1): set(c_strings(m.group(2))) for m in re.finditer(
            r"static\s+const\s+char\s*\*\s*const\s+(\w+_keys)\s*\[\s*\]\s*=\s*\{(.*?)\};", src, re.S)}
        for m in re.finditer(r"const\s+struct\s+backend_class\s+(\w+)\s*=\s*\{(.*?)\};", src, re.S):
            body = m.group(2)
            fam = re.search(r'\.family\s*=\s*"([^"]+)"', body)
            typ = re.search(r'\.type\s*=\s*"([^"]+)"', body)
            conf = re.search(r"\.configure\s*=\s*(\w+)", body)
            if not (fam and typ):
                continue
            used = set()
            if conf:
                fb = function_body(src, conf.group(1))
                for name, keys in arrays.items():
                    if re.search(r"\b%s\b" % name, fb):
                        used |= keys
            if not used and len(arrays) == 1:
                used = set(next(iter(arrays.values())))
            classes[(fam.group(1), typ.group(1))] = {"keys": used, "file": path,
                                                     "symbol": m.group(1)}
    return classes


def registered_symbols():
    src = read(os.path.join(ROOT, "backends", "registry.c"))
    m = re.search(r"backend_classes\s*\[\s*\]\s*=\s*\{(.*?)\};", src, re.S)
    return set(re.findall(r"&(\w+)", m.group(1))) if m else set()


def core_keys():
    """{section: set(keys)} from the "(takes: ...)" lists in core/config.c."""
    src = read(os.path.join(ROOT, "core", "config.c"))
    src = re.sub(r'"\s*\n\s*"', "", src)  # join split string literals
    out = {}
    for sec, keys in re.findall(r"unknown key '%s' in \[(\w+)\] \(takes: ([^)]*)\)", src):
        out[sec] = {k.strip() for k in keys.split(",") if k.strip()}
    return out


# ---- reading and running configs ----------------------------------------------------

def ini_sections(text):
    """[(header, [(key, value)])] as written (no comments, no continuation)."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            out.append((line[1:line.index("]")].strip(), []))
            continue
        k, _, v = line.partition("=")
        if out:
            out[-1][1].append((k.strip(), v.strip()))
    return out


def render(sections):
    return "".join("[%s]\n%s\n" % (h, "".join("%s = %s\n" % kv for kv in kvs))
                   for h, kvs in sections)


class Runner:
    """Runs check-config on config text in a private directory, with dummy
    environment values and temporary token files."""

    def __init__(self, tc):
        self.tc = tc
        self.dir = tempfile.mkdtemp(prefix="wr-examples-")
        tc.addCleanup(self.cleanup)
        self.token = os.path.join(self.dir, "token")
        with open(self.token, "w") as f:
            f.write("dummy-token-value\nsecond line is ignored\n")
        self.n = 0

    def cleanup(self):
        for root, dirs, files in os.walk(self.dir, topdown=False):
            for n in files:
                os.unlink(os.path.join(root, n))
            for n in dirs:
                os.rmdir(os.path.join(root, n))
        os.rmdir(self.dir)

    def env(self, text):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("XDG_") and k not in ("NO_COLOR", "WARROOM_THEMES")}
        env["HOME"] = self.dir
        env["XDG_CONFIG_HOME"] = os.path.join(self.dir, "config")
        env["XDG_STATE_HOME"] = os.path.join(self.dir, "state")
        env["XDG_RUNTIME_DIR"] = os.path.join(self.dir, "run")
        for name in ENV_RE.findall(text):
            env[name] = ("https://hooks.slack.com/services/T0000/B0000/dummy"
                         if "URL" in name else "dummy-" + name.lower())
        return env

    def prepare(self, text):
        """Points every token_file at the temporary token file."""
        return re.sub(r"(?m)^(\s*token_file\s*=\s*).*$", lambda m: m.group(1) + self.token, text)

    def check(self, text, name="config.ini"):
        self.n += 1
        path = os.path.join(self.dir, "%d-%s" % (self.n, os.path.basename(name)))
        text = self.prepare(text)
        with open(path, "w") as f:
            f.write(text)
        t0 = time.monotonic()
        try:
            p = subprocess.run([BIN, "check-config", "--config", path], capture_output=True,
                               text=True, timeout=RUN_LIMIT_S, env=self.env(text),
                               stdin=subprocess.DEVNULL, cwd=self.dir)
        except subprocess.TimeoutExpired:
            self.tc.fail("check-config on %s did not finish within %d s: a probe hangs"
                         % (name, RUN_LIMIT_S))
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def example_sections():
    """{(family, type): [(example file, header, [(k, v)])]} over all examples."""
    out = {}
    for path in EXAMPLES:
        for header, kvs in ini_sections(read(path)):
            fam, _, name = header.partition(" ")
            if fam not in FAMILIES:
                continue
            typ = dict(kvs).get("via" if fam == "rollback" else "type")
            out.setdefault((fam, typ), []).append((path, header, kvs))
    return out


DOC_SECTIONS = parse_doc() if os.path.exists(DOC) else {}
# Classes defined and registered in backends/registry.c: the built-in ones.
CODE = {k: c for k, c in code_classes().items() if c["symbol"] in registered_symbols()}


def base_section(key, have):
    """A valid section of class key to add keys to: its first example, or
    just the type line when it has none (the demo's own target)."""
    fam, typ = key
    if key in have:
        _, header, kvs = have[key][0]
        return header, kvs
    return "%s probe" % fam, [("via" if fam == "rollback" else "type", typ)]


class Examples(unittest.TestCase):
    def test_every_example_passes_check_config(self):
        self.assertTrue(EXAMPLES, "no examples/*.ini")
        run = Runner(self)
        slowest = 0.0
        for path in EXAMPLES:
            with self.subTest(example=os.path.basename(path)):
                text = read(path)
                rc, out, err, secs = run.check(text, path)
                slowest = max(slowest, secs)
                self.assertNotEqual(rc, 2, "%s is a config error:\n%s" % (path, err))
                self.assertIn(rc, (0, 1), "%s: check-config exited %d\n%s%s" % (path, rc, out, err))
                if rc == 0:
                    self.assertIn("config OK", out)
                else:  # only a probe may fail, and it says which
                    self.assertIn("FAILED", out, err)
        print("\n  %d examples checked; slowest check-config %.2f s" % (len(EXAMPLES), slowest),
              file=sys.stderr)

    def test_examples_name_no_real_hosts_and_hold_no_secrets(self):
        url_re = re.compile(r"\b[a-z][a-z0-9+.-]*://([^/:\s\"']+)")
        for path in EXAMPLES:
            for header, kvs in ini_sections(read(path)):
                for k, v in kvs:
                    hosts = url_re.findall(v)
                    if k == "host":
                        hosts.append(v)
                    for h in hosts:
                        self.assertTrue(h.endswith(".example.internal"),
                                        "%s [%s] %s: host %s is not an example host"
                                        % (os.path.basename(path), header, k, h))
                    if k in ("token", "password", "secret") or k.endswith(("_token", "_secret")):
                        self.assertRegex(v, r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$",
                                         "%s [%s]: %s must come from ${ENV} or token_file"
                                         % (os.path.basename(path), header, k))
                    if header.startswith("status") and k == "url" and \
                            dict(kvs).get("type") == "slack":
                        self.assertRegex(v, r"^\$\{\w+\}$", "a Slack webhook URL is a secret")

    def test_every_built_in_class_has_an_example(self):
        have = example_sections()
        missing = ["[%s NAME] %s = %s" % (k[0], "via" if k[0] == "rollback" else "type", k[1])
                   for k in sorted(CODE) if k not in have and k[1] != "demo"]
        # (the demo's own target is not for real incidents)
        self.assertFalse(missing, "no example for: " + ", ".join(missing))

    def test_incident_example_is_a_whole_setup(self):
        path = os.path.join(ROOT, "examples", "incident.ini")
        self.assertTrue(os.path.exists(path), "examples/incident.ini is missing")
        heads = [h.partition(" ")[0] for h, _ in ini_sections(read(path))]
        for sec in ("incident", "access", "rollback", "status"):
            self.assertIn(sec, heads)
        for fam in ("alerts", "metrics", "deploys"):
            if any(k[0] == fam for k in CODE):
                self.assertIn(fam, heads, "incident.ini lacks a built-in family: " + fam)


class ReferenceMatchesCode(unittest.TestCase):
    def setUp(self):
        self.assertTrue(DOC_SECTIONS, "docs/config.md has no key tables")

    def test_parsers_see_the_code(self):
        # guard against this test silently checking nothing
        self.assertIn(("rollback", "ssh"), CODE)
        self.assertIn("command", CODE[("rollback", "ssh")]["keys"])
        self.assertIn(("incident", None), DOC_SECTIONS)
        self.assertEqual(set(core_keys()), set(CORE_SECTIONS))
        for key, c in CODE.items():
            self.assertTrue(c["keys"], "%s: no *_keys[] list found in %s" % (key, c["file"]))

    def test_classes_built_in_are_documented_and_documented_ones_exist(self):
        built = set(CODE)
        documented = {k for k in DOC_SECTIONS if k[1] is not None}
        for k in sorted(built):
            self.assertIn(k, documented, "[%s NAME] %s is built in but not documented" % k)
            self.assertTrue(DOC_SECTIONS[k]["built"],
                            "[%s NAME] %s is built in now: remove '%s' from its heading"
                            % (k[0], k[1], NOT_BUILT))
        for k in sorted(documented - built):
            self.assertFalse(DOC_SECTIONS[k]["built"],
                             "docs/config.md documents [%s NAME] %s, which is not built in "
                             "(mark it '%s' or remove it)" % (k[0], k[1], NOT_BUILT))

    def test_every_key_a_class_takes_is_documented(self):
        for key, c in sorted(CODE.items()):
            doc = DOC_SECTIONS.get(key)
            if not doc:
                continue  # reported by the class test above
            with self.subTest(cls="%s %s" % key):
                missing = c["keys"] - set(doc["keys"])
                self.assertFalse(missing, "%s takes %s (%s) but docs/config.md does not list "
                                 "them" % (key, sorted(missing), os.path.relpath(c["file"], ROOT)))
                extra = set(doc["keys"]) - c["keys"] - {"token_file"}
                self.assertFalse(extra, "docs/config.md lists %s for %s, which its *_keys[] "
                                 "does not have" % (sorted(extra), key))
        for sec, keys in core_keys().items():
            with self.subTest(section=sec):
                self.assertEqual(set(DOC_SECTIONS[(sec, None)]["keys"]), keys,
                                 "[%s] keys in docs/config.md vs core/config.c" % sec)

    def test_every_documented_key_is_accepted(self):
        run = Runner(self)
        have = example_sections()
        skipped = []
        checked = 0
        for key, doc in sorted(DOC_SECTIONS.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            fam, typ = key
            if not doc["built"]:
                reason = "[%s NAME] %s = %s %s" % (fam, "via" if fam == "rollback" else "type",
                                                   typ, NOT_BUILT)
                skipped.append(reason)
                with self.subTest(section=reason):
                    self.skipTest(reason)
                continue
            if typ is None:
                base_header, base = fam, []
            else:
                base_header, base = base_section(key, have)
            for k in doc["keys"]:
                with self.subTest(section=base_header, key=k):
                    kvs = [(a, v) for a, v in base
                           if a != k and not (k in ("token", "token_file") and
                                              a in ("token", "token_file"))]
                    value = dict(base).get(k, "1")
                    kvs.append((k, value))
                    text = render([(base_header, kvs)])
                    rc, out, err, _ = run.check(text)
                    self.assertNotIn("unknown key", err, text)
                    self.assertNotIn("unknown key", out, text)
                    checked += 1
            # the same check must be able to fail: a key nobody takes
            with self.subTest(section=base_header, key="(control)"):
                text = render([(base_header, base + [("zz_no_such_key", "1")])])
                rc, out, err, _ = run.check(text)
                self.assertEqual(rc, 2, err)
                self.assertIn("unknown key 'zz_no_such_key'", err)
        self.assertGreater(checked, 40)
        if skipped:
            print("\n  skipped (not built in yet): " + "; ".join(skipped), file=sys.stderr)

    def test_runtime_key_lists_match_the_source(self):
        """The keys check-config names for a class ("TYPE takes: ...") are the
        *_keys[] list read from the source: the grep above reads it right."""
        run = Runner(self)
        have = example_sections()
        compared = 0
        for key, c in sorted(CODE.items()):
            header, base = base_section(key, have)
            rc, out, err, _ = run.check(render([(header, base + [("zz_no_such_key", "1")])]))
            m = re.search(r"takes: ([^)]*)\)", err)
            if not m:
                continue  # the class words its error differently; the doc test still holds
            self.assertEqual({k.strip() for k in m.group(1).split(",")}, c["keys"], key)
            compared += 1
        self.assertGreater(compared, 0)


if __name__ == "__main__":
    unittest.main()
