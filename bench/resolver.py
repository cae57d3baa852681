"""What cross-file resolution costs: cold and warm summary caches, against the single-file view.

    python bench/resolver.py                  # timm 1.0.31 models/ (fetched as bench/run.py does), 3 runs
    python bench/resolver.py --corpus transformers --subdir models/bert --runs 5

Runs in the current interpreter's environment (flake8 and this repository installed). Every case
is a whole process; the ratios are median CPU seconds (user+sys) over a bare libcst parse of the
same files, as in ``bench/run.py``:

* ``modreg check -j1 --no-cache`` and ``flake8 -j1 --select MRG``, each
  - with ``MODREG_CROSS_FILE=0`` (the single-file view: nothing resolved),
  - with a **cold** summary cache (an empty ``MODREG_CACHE_DIR`` before every run: every
    imported file the checks ask about is read and summarised with ``ast``),
  - with a **warm** summary cache (filled by one untimed run);
* flake8's added cost: ``flake8 --select MRG`` minus ``flake8 --select E,W,F`` (plugin installed
  but unselected, which costs nothing), over the parse.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import PARSE_SCRIPT, corpus, timed  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="timm")
    ap.add_argument("--subdir", default="models")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    root = corpus(args.corpus)
    top = root / args.subdir if args.subdir else root
    files = sorted(str(p) for p in top.rglob("*.py"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent, capture_output=True, text=True).stdout.strip()
    print(f"flake8-modreg @ {commit}; {args.corpus}/{args.subdir}: {len(files)} files; medians of {args.runs} runs (CPU s)\n")
    py = sys.executable
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="modreg-bench-resolver-"))
    cold_dir, warm_dir = scratch / "cold", scratch / "warm"

    def empty_cold(_i: int) -> None:
        shutil.rmtree(cold_dir, ignore_errors=True)

    views = {
        "single-file view": {"MODREG_CROSS_FILE": "0", "MODREG_CACHE_DIR": str(scratch / "none")},
        "cold summaries": {"MODREG_CACHE_DIR": str(cold_dir)},
        "warm summaries": {"MODREG_CACHE_DIR": str(warm_dir)},
    }
    modreg = [py, "-m", "flake8_modreg", "check", "-j1", "--no-cache", "--exit-zero", "-q", str(top)]
    flake8 = [py, "-m", "flake8", "-j1", "--exit-zero", str(top)]
    results: dict[str, float] = {}
    try:
        results["libcst parse (floor)"] = timed([py, "-c", PARSE_SCRIPT, *files], args.runs)[1]
        results["flake8 --select E,W,F (modreg unselected)"] = timed([*flake8[:3], "--select", "E,W,F", *flake8[3:]], args.runs)[1]
        for tool, cmd in (("modreg check -j1 --no-cache", modreg), ("flake8 -j1 --select MRG", [*flake8[:3], "--select", "MRG", *flake8[3:]])):
            for view, extra in views.items():
                env = {**os.environ, **extra}
                if view.startswith("warm"):
                    timed(cmd, 1, env=env)  # fill the summary cache
                results[f"{tool}, {view}"] = timed(cmd, args.runs, env=env, before=empty_cold if view.startswith("cold") else None)[1]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    floor = results["libcst parse (floor)"]
    base = results["flake8 --select E,W,F (modreg unselected)"]
    print("| case | CPU s | × parse | flake8 added cost × parse |\n| --- | ---: | ---: | ---: |")
    for label, cpu in results.items():
        added = f"{(cpu - base) / floor:.2f}" if label.startswith("flake8 -j1 --select MRG") else ""
        print(f"| {label} | {cpu:.2f} | {cpu / floor:.2f} | {added} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
