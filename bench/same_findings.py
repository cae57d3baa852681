"""A speed-up must not change what is found: compare the findings of this checkout with a base commit.

    python bench/same_findings.py                       # against main, on timm,transformers (bench/run.py's default corpora)
    python bench/same_findings.py --base HEAD~3 --corpus smp,monai
    python bench/same_findings.py --corpus all

For each corpus it runs, with this checkout and with ``--base`` (a detached
export under ``bench/.cache``, imported through ``PYTHONPATH`` by the same
interpreter, so the same libcst and flake8):

* ``modreg check --no-cache -j1 --format json`` (the reference),
* ``modreg check --no-cache`` with the default jobs, and a warm second run
  through the cache (this checkout only: they must equal its -j1 run),
* ``flake8 -j1 --select MRG`` (per-file view, no cross-file context).

Outputs are compared byte for byte (paths are made relative to the corpus).
Exit status 1 and a unified diff excerpt when anything differs.
"""

from __future__ import annotations

import argparse
import difflib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import run as bench_run  # noqa: E402  (bench/run.py: the corpora)


def base_checkout(ref: str) -> pathlib.Path:
    """The tree of ``ref`` exported under ``bench/.cache`` (``git archive``: no worktree to register)."""
    sha = subprocess.run(["git", "rev-parse", ref], cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()
    path = bench_run.CACHE / f"base-{sha[:12]}"
    if not (path / "flake8_modreg").is_dir():
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", "--format=tar", sha], cwd=REPO, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(path)], input=archive, check=True)
    return path


def outputs(root: pathlib.Path, pythonpath: str | None, variants: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    py = sys.executable

    def sh(*cmd: str, **extra: str) -> str:
        p = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env={**env, **extra})
        if p.returncode not in (0, 1) or "Traceback" in p.stderr:
            raise SystemExit(f"{' '.join(cmd)} failed in {root}:\n{p.stderr[-2000:]}")
        return p.stdout

    modreg = (py, "-m", "flake8_modreg", "check", "--exit-zero", "--format", "json")
    out = {"modreg -j1": sh(*modreg, "--no-cache", "-j1", ".")}
    if variants:
        out["modreg (all cores)"] = sh(*modreg, "--no-cache", ".")
        with tempfile.TemporaryDirectory() as cache:
            sh(*modreg, ".", MODREG_CACHE_DIR=cache)
            out["modreg (warm cache)"] = sh(*modreg, ".", MODREG_CACHE_DIR=cache)
    out["flake8 --select MRG"] = sh(py, "-m", "flake8", "--isolated", "-j1", "--select", "MRG", "--exit-zero", ".")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="main", help="git ref to compare with (default: main)")
    ap.add_argument("--corpus", default="timm,transformers", help="comma list, or 'all' (default: timm,transformers)")
    args = ap.parse_args(argv)
    names = list(bench_run.CORPORA) if args.corpus == "all" else args.corpus.split(",")
    base = base_checkout(args.base)
    bad = 0
    for name in names:
        root = bench_run.corpus(name.strip())
        ours = outputs(root, None, variants=True)
        theirs = outputs(root, str(base), variants=False)
        n = ours["modreg -j1"].count('"code":')
        checks = [(f"{k} == base", v, theirs[k]) for k, v in theirs.items()]
        checks += [(f"{k} == modreg -j1", v, ours["modreg -j1"]) for k, v in ours.items() if k.startswith("modreg (")]
        failed = [(label, a, b) for label, a, b in checks if a != b]
        print(f"{name}: {n} findings; {len(checks) - len(failed)}/{len(checks)} identical" + (" FAILED" if failed else ""))
        for label, a, b in failed:
            bad += 1
            diff = difflib.unified_diff(b.splitlines(), a.splitlines(), "expected", label, lineterm="", n=1)
            print(f"  {label}: differs\n    " + "\n    ".join(list(diff)[:30]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
