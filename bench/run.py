#!/usr/bin/env python3
"""Runs every benchmark and writes bench/REPORT.md with the figures.

C benchmarks are the binaries built from bench/*.c (build/bench/NAME); Python
ones are bench/*.py other than this file. Each prints its own figures; this
script only collects them with a line describing the machine."""
import glob
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("WARROOM_BUILD", os.path.join(ROOT, "build"))


def machine_line():
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{platform.node()}: {os.cpu_count()} cores, {cpu}, {mem}, "
            f"{platform.system()} {platform.release()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def main():
    benches = []
    for path in sorted(glob.glob(os.path.join(BUILD, "bench", "*"))):
        if os.access(path, os.X_OK) and not path.endswith(".d"):
            benches.append((os.path.basename(path), [path]))
    for path in sorted(glob.glob(os.path.join(ROOT, "bench", "*.py"))):
        if os.path.basename(path) != "run.py":
            benches.append((os.path.basename(path)[:-3], [sys.executable, path]))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "tests", "lib")
    env.setdefault("WARROOM_BIN", os.path.join(BUILD, "warroom"))
    env["WARROOM_ROOT"] = ROOT
    out = ["# Benchmark report", "", f"Machine: {machine_line()}", "",
           "Produced by `make bench`. Figures are measured, not asserted; targets are in each line.", ""]
    failed = 0
    for name, cmd in benches:
        print(f"== {name}", flush=True)
        t0 = time.time()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)
            text = p.stdout.strip()
            if p.returncode != 0:
                failed += 1
                text += f"\n(exit {p.returncode})\n" + p.stderr.strip()[-2000:]
        except subprocess.TimeoutExpired:
            failed += 1
            text = "(timed out after 900 s)"
        print(text, flush=True)
        out += [f"## {name}", "", "```", text, "```", f"({time.time() - t0:.1f} s)", ""]
    with open(os.path.join(ROOT, "bench", "REPORT.md"), "w") as f:
        f.write("\n".join(out))
    print(f"wrote bench/REPORT.md ({len(benches)} benchmarks, {failed} failed)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
