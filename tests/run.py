#!/usr/bin/env python3
"""Runs every test layer and prints one closing line: "N passed, N failed".

  unit         build/tests/test_*           (cmocka binaries)
  screen       tests/screen/test_*.py       (the real binary in tmux)
  integration  tests/integration/test_*.py  (real Alertmanager, Prometheus, sshd)

Each Python test file is run as its own unittest process with a time limit.
Select layers or files with arguments: run.py unit, run.py tests/screen/test_x.py
"""
import glob
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("WARROOM_BUILD", os.path.join(ROOT, "build"))
FILE_TIMEOUT = int(os.environ.get("WARROOM_TEST_TIMEOUT", "600"))


def run_unit(path):
    t0 = time.time()
    try:
        p = subprocess.run([path], cwd=ROOT, capture_output=True, text=True,
                           timeout=FILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"  TIMEOUT {path}")
        return 0, 1
    out = p.stdout + p.stderr
    passed = sum(int(m) for m in re.findall(r"\[  PASSED  \] (\d+) test", out))
    failed = sum(int(m) for m in re.findall(r"\[  FAILED  \] (\d+) test", out))
    if p.returncode != 0 and failed == 0:
        failed = 1
    if failed or p.returncode != 0:
        sys.stdout.write(out)
    print(f"  {os.path.basename(path)}: {passed} passed, {failed} failed "
          f"({time.time() - t0:.1f}s)")
    return passed, failed


def run_py(path):
    t0 = time.time()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "tests", "lib") + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("WARROOM_BIN", os.path.join(BUILD, "warroom"))
    env["WARROOM_ROOT"] = ROOT
    try:
        p = subprocess.run([sys.executable, "-m", "unittest", "-v", path], cwd=ROOT,
                           capture_output=True, text=True, timeout=FILE_TIMEOUT, env=env,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        sys.stdout.write((e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""))
        print(f"  TIMEOUT {path}")
        return 0, 1
    out = p.stdout + p.stderr
    ran = re.search(r"^Ran (\d+) tests?", out, re.M)
    total = int(ran.group(1)) if ran else 0
    failed = 0
    m = re.search(r"^FAILED \((.*)\)", out, re.M)
    if m:
        for part in m.group(1).split(","):
            k, _, v = part.strip().partition("=")
            if k in ("failures", "errors"):
                failed += int(v)
    skipped = 0
    m = re.search(r"skipped=(\d+)", out)
    if m:
        skipped = int(m.group(1))
    passed = total - failed - skipped
    if p.returncode != 0 and failed == 0:
        failed = 1
    if failed:
        sys.stdout.write(out)
    elif os.environ.get("VERBOSE"):
        sys.stdout.write(out)
    else:
        # the figures a test measured (lines it prints indented by two
        # spaces: latencies, sizes, timings) stay visible in a quiet run
        prev = ""
        for line in out.splitlines():
            if (re.match(r"^  \S", line) and not line.startswith("  File ")
                    and "Warning" not in prev):
                print("      " + line.strip())
            prev = line
    print(f"  {os.path.relpath(path, ROOT)}: {passed} passed, {failed} failed"
          + (f", {skipped} skipped" if skipped else "") + f" ({time.time() - t0:.1f}s)")
    return passed, failed


def main():
    args = sys.argv[1:]
    layers = {
        "unit": sorted(glob.glob(os.path.join(BUILD, "tests", "test_*"))),
        "screen": sorted(glob.glob(os.path.join(ROOT, "tests", "screen", "test_*.py"))),
        "integration": sorted(glob.glob(os.path.join(ROOT, "tests", "integration", "test_*.py"))),
    }
    layers["unit"] = [p for p in layers["unit"] if os.access(p, os.X_OK) and not p.endswith(".d")]
    selected = []
    if not args:
        for name in ("unit", "screen", "integration"):
            selected += [(name, p) for p in layers[name]]
    for a in args:
        if a in layers:
            selected += [(a, p) for p in layers[a]]
        else:
            selected.append(("unit" if not a.endswith(".py") else "py", os.path.abspath(a)))
    passed = failed = 0
    current = None
    t0 = time.time()
    for layer, path in selected:
        if layer != current:
            print(f"== {layer}")
            current = layer
        p, f = run_unit(path) if layer == "unit" else run_py(path)
        passed += p
        failed += f
    print(f"({time.time() - t0:.0f}s)")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
