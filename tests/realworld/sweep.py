"""Real-code sweep: run modreg over recent releases of big model libraries and count.

Not part of the default test run (it downloads packages).  One command:

    python tests/realworld/sweep.py                 # timm, transformers, pytorch-lightning
    python tests/realworld/sweep.py --mindspore     # also MindSpore's own Python sources (~800 MB wheel)

It downloads each wheel from PyPI with ``pip download --no-deps`` (cached in
``tests/realworld/.cache``), unpacks its ``.py`` files, and runs

1. ``modreg check`` over every file (whole process; exit code must be 0 or 1,
   stderr must hold no traceback),
2. ``flake8 --select MRG`` over the same files (same rules),
3. the core API in strict mode per file, so an internal error in any rule
   (normally logged and skipped) counts as a crash,

then prints a table: files, lines, parse errors, crashes, internal errors,
findings per code (core API, per file, as flake8 sees them), whether every
flake8 finding is also a ``modreg check`` finding, and how many more
``modreg check`` reports thanks to Module bases in other files.
Exit status 1 when anything crashed or flake8 reports what modreg does not.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGES = {
    "timm": "timm==1.0.31",
    "transformers": "transformers==5.24.0",
    "pytorch-lightning": "pytorch-lightning",
}
MINDSPORE = {"mindspore": "mindspore==2.10.0"}
CACHE = Path(__file__).with_name(".cache")
FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>MRG\d{3})\b", re.M)


def fetch(spec: str) -> Path:
    """The wheel for ``spec`` (downloaded once into the cache)."""
    name = re.split(r"[=<>!~ ]", spec)[0].replace("-", "_").lower()
    CACHE.mkdir(exist_ok=True)
    have = sorted(p for p in CACHE.glob("*.whl") if p.name.lower().startswith(name + "-"))
    pinned = "==" in spec
    if have and (pinned and spec.split("==")[1] in have[-1].name or not pinned):
        return have[-1]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(CACHE), spec],
        check=True,
    )
    return sorted(p for p in CACHE.glob("*.whl") if p.name.lower().startswith(name + "-"))[-1]


def unpack(wheel: Path, dest: Path) -> list[Path]:
    with zipfile.ZipFile(wheel) as z:
        names = [n for n in z.namelist() if n.endswith(".py")]
        for n in names:
            z.extract(n, dest)
    return sorted(dest / n for n in names)


def run_core(files: list[Path]) -> tuple[collections.Counter, int, int, list[str]]:
    from flake8_modreg import Config, ModregError, check

    codes: collections.Counter = collections.Counter()
    parse_errors = internal = 0
    crashes = []
    for f in files:
        try:
            for finding in check(f.read_bytes(), path=str(f), config=Config(strict=True)):
                codes[finding.code] += 1
        except ModregError:
            parse_errors += 1
        except Exception as e:  # strict mode re-raises rule errors: each is an internal error
            internal += 1
            crashes.append(f"{f}: {type(e).__name__}: {e}")
    return codes, parse_errors, internal, crashes


def findings_of(output: str, root: Path) -> collections.Counter:
    out: collections.Counter = collections.Counter()
    for m in FINDING.finditer(output):
        path = os.path.relpath(os.path.join(root, m["path"]), root)
        out[(path, int(m["line"]), int(m["col"]), m["code"])] += 1
    return out


def sweep(label: str, files: list[Path], root: Path) -> dict:
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    modreg = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "."], cwd=root, capture_output=True, text=True
    )
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "MRG", "."], cwd=root, capture_output=True, text=True
    )
    codes, parse_errors, internal, crashes = run_core(files)
    process_crashes = []
    for name, proc, ok in (("modreg", modreg, (0, 1)), ("flake8", flake8, (0, 1))):
        if proc.returncode not in ok or "Traceback" in proc.stderr:
            process_crashes.append(f"{name} exited {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")
    ours, theirs = findings_of(modreg.stdout, root), findings_of(flake8.stdout, root)
    return {
        "label": label,
        "files": len(files),
        "lines": lines,
        "parse_errors": parse_errors,
        "internal_errors": internal,
        "crashes": crashes + process_crashes,
        "codes": codes,
        # modreg sees the whole project (cross-file bases), flake8 one file at a time:
        # everything flake8 reports must be in modreg's output; modreg may report more
        "agree": not (theirs - ours),
        "project_only": sum((ours - theirs).values()),
        "modreg_only": sorted(ours - theirs)[:5],
        "flake8_only": sorted(theirs - ours)[:5],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mindspore", action="store_true", help="also sweep MindSpore's own sources")
    ap.add_argument("--only", nargs="*", help="package names to sweep")
    args = ap.parse_args(argv)
    packages = dict(PACKAGES)
    if args.mindspore:
        packages.update(MINDSPORE)
    if args.only:
        packages = {k: v for k, v in packages.items() if k in args.only}
    results = []
    with tempfile.TemporaryDirectory(prefix="modreg-sweep-") as tmp:
        for label, spec in packages.items():
            wheel = fetch(spec)
            root = Path(tmp) / label
            files = unpack(wheel, root)
            print(f"{label}: {wheel.name}: {len(files)} files", file=sys.stderr)
            results.append(sweep(wheel.name.split("-py")[0], files, root))
    all_codes = sorted({c for r in results for c in r["codes"]})
    head = ["package", "files", "lines", "parse errors", "crashes", "internal errors", "flake8 ⊆ modreg", "cross-file only", *all_codes]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    bad = False
    for r in results:
        row = [r["label"], r["files"], r["lines"], r["parse_errors"], len(r["crashes"]), r["internal_errors"]]
        row += ["yes" if r["agree"] else "NO", r["project_only"], *(r["codes"].get(c, 0) for c in all_codes)]
        print("| " + " | ".join(map(str, row)) + " |")
        bad |= bool(r["crashes"]) or not r["agree"]
    for r in results:
        for c in r["crashes"]:
            print(f"CRASH {r['label']}: {c}")
        if not r["agree"]:
            print(f"DISAGREE {r['label']}: modreg only {r['modreg_only']}; flake8 only {r['flake8_only']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
