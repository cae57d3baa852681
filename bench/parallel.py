"""Does a default-jobs ``modreg check`` use every core?  Measured from CPU time, so a shared machine does not lie.

    python bench/parallel.py                        # every corpus of bench/run.py, -j1 vs -j2, cold
    python bench/parallel.py --corpus monai,smp --jobs 2 --runs 3

Wall-clock speed-ups mean nothing on a machine where other processes take
most of the cores, so this script runs ``modreg check --no-cache`` in-process
under a thin wrapper that records the CPU time (``time.process_time``) of
every per-file task (the ``ast`` summary of phase 1, the check of phase 2)
together with the process that ran it, plus the CPU time of the parent.
From those it computes the wall time the same run would take on ``jobs``
otherwise idle cores:

    ideal wall = parent's own CPU (walk, hashing, index, output: serial)
                 + for each phase, the busiest worker's CPU in that phase

(the phases are separated by a barrier: the index needs every summary).
Work the parent does while its workers run counts as serial, so the
estimate is pessimistic.  ``-j1`` is the same run with everything in the
parent; the speed-up is ``ideal(-j1) / ideal(-jN)``.  It also prints the
measured wall times and the load average, for what they are worth.

The findings of every parallel run must equal the ``-j1`` run's, byte for
byte (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench_run  # noqa: E402  (bench/run.py: the corpora)

WRAPPER = r"""
import io, json, os, sys, time
import flake8_modreg.cli as cli

trace = os.environ["MODREG_BENCH_TRACE"]

def traced(fn):
    def wrapper(*a, **k):
        c0 = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            with open(f"{trace}.{os.getpid()}", "a") as fh:
                fh.write(f"{fn.__name__} {time.process_time() - c0:.6f}\n")
    # pickled by reference into the worker processes: it must be found under the original name
    wrapper.__module__, wrapper.__qualname__, wrapper.__name__ = fn.__module__, fn.__qualname__, fn.__name__
    return wrapper

for name in ("process", "_summarize"):
    setattr(cli, name, traced(getattr(cli, name)))
out = io.StringIO()
code = cli.main(sys.argv[1:], stdout=out)
with open(f"{trace}.parent", "w") as fh:
    json.dump({"pid": os.getpid(), "cpu": time.process_time()}, fh)
sys.stdout.write(out.getvalue())
sys.exit(code)
"""


def traced_run(python: str, target: str, jobs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace")
        env = {**os.environ, "MODREG_BENCH_TRACE": trace}
        start = time.perf_counter()
        proc = subprocess.run(
            [python, "-c", WRAPPER, "check", "--no-cache", "--exit-zero", "-q", f"-j{jobs}", target],
            capture_output=True,
            env=env,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"modreg failed on {target}: {proc.stderr.decode()[-500:]}")
        parent = json.loads(pathlib.Path(f"{trace}.parent").read_text())
        busy: dict[tuple[str, int], float] = collections.defaultdict(float)  # (phase, pid) -> CPU
        in_parent = 0.0
        for f in pathlib.Path(tmp).glob("trace.*"):
            if f.name == "trace.parent":
                continue
            pid = int(f.name.rsplit(".", 1)[1])
            for line in f.read_text().splitlines():
                phase, cpu = line.split()
                busy[phase, pid] += float(cpu)
                if pid == parent["pid"]:
                    in_parent += float(cpu)
    phases = sorted({p for p, _ in busy})
    makespan = {p: max(c for (q, _), c in busy.items() if q == p) for p in phases}
    serial = parent["cpu"] - in_parent
    total = serial + sum(busy.values())
    return {
        "ideal": serial + sum(makespan.values()),
        "cpu": total,
        "serial": serial,
        "makespan": makespan,
        "workers": {p: sorted((round(c, 2) for (q, _), c in busy.items() if q == p), reverse=True) for p in phases},
        "wall": wall,
        "out": proc.stdout,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=",".join(bench_run.CORPORA), help="comma list (default: all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3, help="runs per case; medians")
    ap.add_argument("--python", default=sys.executable, help="interpreter with flake8-modreg installed")
    args = ap.parse_args(argv)
    print(f"{args.runs} runs per case (medians); load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print(f"| corpus | files | -j1 CPU s | -j{args.jobs} ideal s | speed-up | serial share | -j{args.jobs} busiest worker / mean, per phase | wall -j1 / -j{args.jobs} (noisy) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    bad = 0
    for name in args.corpus.split(","):
        root = bench_run.corpus(name.strip())
        nfiles = sum(1 for _ in root.rglob("*.py"))
        one, many = [], []
        for _ in range(args.runs):  # alternate, so a change in the machine's load hits both alike
            one.append(traced_run(args.python, str(root), 1))
            many.append(traced_run(args.python, str(root), args.jobs))
        outs = {r["out"] for r in one + many}
        if len(outs) != 1:
            bad += 1
            print(f"| {name} | findings differ between runs! |")
            continue
        med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
        ideal1, idealn = med(one, "ideal"), med(many, "ideal")
        last = many[-1]
        balance = ", ".join(
            f"{p.lstrip('_')} {max(ws) / (sum(ws) / args.jobs):.2f}" if len(ws) > 1 else f"{p.lstrip('_')} (1 process)"
            for p, ws in last["workers"].items()
        )
        print(
            f"| {name} | {nfiles} | {ideal1:.2f} | {idealn:.2f} | {ideal1 / idealn:.2f}x | {med(many, 'serial') / idealn:.0%} "
            f"| {balance} | {med(one, 'wall') / med(many, 'wall'):.2f}x |"
        )
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
