"""Whole-process benchmark of flake8-modreg against its peers, on real model code.

    python bench/run.py                      # timm corpus, 3 runs per case
    python bench/run.py --corpus timm,transformers --runs 5

What it does (see bench/README.md):
1. Downloads the corpora from PyPI at bench time (wheels of ``timm`` and
   ``transformers``; nothing is committed) into ``bench/.cache``.
2. Builds four virtual environments there, all on the same libcst (TorchFix
   pins ``libcst<1.6``, so every libcst-based tool gets that one):
   ``base`` (flake8 = pyflakes + pycodestyle, ruff), ``modreg`` (+ this
   repository), ``torchfix`` (+ TorchFix), ``both`` is not needed.
3. Times whole processes (fork/exec included), several runs, and prints the
   median, each case's ratio to the bare libcst parse of the same files, and
   the peak RSS of each process tree.

Ratios measured in the same run are the numbers to quote: absolute seconds
depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
CORPORA = {
    "timm": "timm==1.0.31",
    "transformers": "transformers==5.24.0",
    # ten more model libraries (about 5,000 files): the parallel-run check (--cores) runs over all of them
    "diffusers": "diffusers==0.42.1",
    "espnet": "espnet==202511",
    "kornia": "kornia==0.9.0",
    "monai": "monai==1.6.1",
    "pyannote": "pyannote.audio==4.0.7",
    "smp": "segmentation-models-pytorch==0.6.0",
    "sentence-transformers": "sentence-transformers==6.2.0",
    "speechbrain": "speechbrain==1.1.2",
    "torchmetrics": "torchmetrics==1.9.0",
    "torchtune": "torchtune==0.6.1",
}
LIBCST_FOR_PEERS = "libcst>=1.5,<1.6"  # what TorchFix accepts; everyone uses the same parser

PARSE_SCRIPT = """
import sys, libcst
for p in sys.argv[1:]:
    with open(p, 'rb') as f:
        libcst.parse_module(f.read())
"""
AST_SCRIPT = """
import ast, sys
for p in sys.argv[1:]:
    with open(p, 'rb') as f:
        ast.parse(f.read())
"""


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def venv(name: str, packages: list[str], salt: str = "") -> pathlib.Path:
    """A cached virtual environment with ``packages`` installed (keyed by their list and ``salt``)."""
    key = hashlib.sha256(("\n".join(packages) + salt).encode()).hexdigest()[:10]
    path = CACHE / f"venv-{name}-{key}"
    py = path / "bin" / "python"
    if not py.exists():
        print(f"[setup] venv {name}: {' '.join(packages)}", file=sys.stderr)
        shutil.rmtree(path, ignore_errors=True)
        sh([sys.executable, "-m", "venv", str(path)])
        sh([str(py), "-m", "pip", "install", "--quiet", *packages])
    return path


def corpus(name: str) -> pathlib.Path:
    target = CACHE / "corpora" / name
    if target.exists():
        return target
    spec = CORPORA[name]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"[setup] downloading {spec}", file=sys.stderr)
        sh([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", spec, "-d", tmp])
        wheel = next(pathlib.Path(tmp).glob("*.whl"))
        unpack = CACHE / "corpora" / f".unpack-{name}"
        shutil.rmtree(unpack, ignore_errors=True)
        with zipfile.ZipFile(wheel) as z:
            for member in z.namelist():
                top = member.split("/", 1)[0]
                if member.endswith(".py") and not top.endswith((".dist-info", ".data")):
                    z.extract(member, unpack)
    # timm/transformers keep their package directory as the corpus root (``--subdir models`` is inside it)
    inner = unpack / name
    (inner if inner.is_dir() and len(list(unpack.iterdir())) == 1 else unpack).rename(target)
    shutil.rmtree(unpack, ignore_errors=True)
    return target


def big_file(src: pathlib.Path, lines: int = 5000) -> pathlib.Path:
    """One ~5,000-line model file, made of whole top-level blocks of real timm models."""
    out = CACHE / f"big_{lines}.py"
    if out.exists():
        return out
    chunks: list[str] = ["import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"]
    count = 0
    for path in sorted(src.rglob("models/*.py"), key=lambda p: -p.stat().st_size):
        text = path.read_text(encoding="utf-8")
        body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("from __future__"))
        chunks.append(body + "\n")
        count += body.count("\n") + 1
        if count >= lines:
            break
    text = "".join(chunks)
    kept = text.splitlines(keepends=True)[:lines]
    # cut back to the last top-level statement boundary so the file parses
    while kept and (kept[-1].startswith((" ", "\t")) or not kept[-1].strip()):
        kept.pop()
    kept.pop() if kept else None
    out.write_text("".join(kept), encoding="utf-8")
    return out


def timed(cmd: list[str], runs: int, cwd: pathlib.Path | None = None, env: dict | None = None, before=None) -> tuple[float, int]:
    """Median wall seconds of ``runs`` whole-process runs, and the peak RSS in MiB (``before(i)`` runs untimed)."""
    times, peak = [], 0
    for i in range(runs):
        if before is not None:
            before(i)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
        _, _, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        peak = max(peak, usage.ru_maxrss // 1024)
    return statistics.median(times), peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="timm", help="comma list of: " + ", ".join(CORPORA))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--subdir", default="models", help="sub-directory of each corpus ('' for all; default: models)")
    ap.add_argument("--skip-torchfix", action="store_true")
    args = ap.parse_args(argv)
    CACHE.mkdir(exist_ok=True)

    base = venv("base", ["flake8", "ruff", LIBCST_FOR_PEERS])
    ours = venv("modreg", ["flake8", LIBCST_FOR_PEERS, "-e", str(REPO)], salt=(REPO / "pyproject.toml").read_text())
    peer = None if args.skip_torchfix else venv("torchfix", ["flake8", "torchfix==0.7.0", LIBCST_FOR_PEERS])
    bin_ = lambda v, tool: str(v / "bin" / tool)  # noqa: E731
    libcst_version = sh([bin_(ours, "python"), "-c", "import libcst, importlib.metadata as m; print(m.version('libcst'))"]).stdout.strip()
    commit = sh(["git", "rev-parse", "--short", "HEAD"], cwd=REPO).stdout.strip()
    print(f"flake8-modreg @ {commit}, libcst {libcst_version}, {os.cpu_count()} cores, {args.runs} runs per case (medians)")

    for name in args.corpus.split(","):
        root = corpus(name.strip())
        files = sorted(str(p) for p in (root / args.subdir if args.subdir else root).rglob("*.py"))
        nlines = sum(pathlib.Path(f).read_bytes().count(b"\n") for f in files)
        print(f"\n## {name} ({CORPORA[name]}{'/' + args.subdir if args.subdir else ''}): {len(files)} files, {nlines:,} lines\n")
        target = str(root / args.subdir) if args.subdir else str(root)
        touched = pathlib.Path(files[len(files) // 2])
        original = touched.read_bytes()

        def touch(i: int, path=touched, original=original) -> None:
            path.write_bytes(original + f"\n# bench edit {i} {time.time()}\n".encode())

        cases: list[tuple[str, list[str], dict | None]] = [
            ("ast.parse of every file (python)", [bin_(ours, "python"), "-c", AST_SCRIPT, *files], None),
            ("libcst.parse_module of every file (floor)", [bin_(ours, "python"), "-c", PARSE_SCRIPT, *files], None),
            ("flake8 -j1 (pyflakes+pycodestyle), no plugin", [bin_(base, "flake8"), "-j1", "--exit-zero", target], None),
            ("flake8 -j1 --select MRG", [bin_(ours, "flake8"), "-j1", "--select", "MRG", "--exit-zero", target], None),
            ("flake8 --select MRG (parallel)", [bin_(ours, "flake8"), "--select", "MRG", "--exit-zero", target], None),
            ("flake8 -j1 (pyflakes+pycodestyle) + modreg", [bin_(ours, "flake8"), "-j1", "--exit-zero", target], None),
            ("flake8 -j1 --select E,W,F with modreg installed", [bin_(ours, "flake8"), "-j1", "--select", "E,W,F", "--exit-zero", target], None),
            ("ruff check --select ALL (reference)", [bin_(base, "ruff"), "check", "--select", "ALL", "--no-cache", "--exit-zero", "-q", target], None),
        ]
        if peer is not None:
            cases += [
                ("flake8 -j1 (pyflakes+pycodestyle) + torchfix", [bin_(peer, "flake8"), "-j1", "--exit-zero", target], None),
                ("flake8 -j1 --select TOR (torchfix)", [bin_(peer, "flake8"), "-j1", "--select", "TOR", "--exit-zero", target], None),
                ("torchfix CLI", [bin_(peer, "torchfix"), target], None),
            ]
        modreg = pathlib.Path(bin_(ours, "modreg"))
        if modreg.exists():
            cache_dir = CACHE / f"modreg-cache-{name}"
            shutil.rmtree(cache_dir, ignore_errors=True)
            env = {**os.environ, "MODREG_CACHE_DIR": str(cache_dir)}
            cases += [
                ("modreg check -j1 --no-cache", [str(modreg), "check", "-j1", "--no-cache", target], env),
                ("modreg check --no-cache (all cores, cold)", [str(modreg), "check", "--no-cache", target], env),
                ("modreg check (warm: 2nd run, unchanged tree)", [str(modreg), "check", target], env),
                ("modreg check (warm, one file changed)", [str(modreg), "check", target], env),
            ]
        results: dict[str, tuple[float, int]] = {}
        for label, cmd, env in cases:
            if "warm" in label:
                timed(cmd, 1, env=env)  # fill the cache
            results[label] = timed(cmd, args.runs, env=env, before=touch if "changed" in label else None)
        touched.write_bytes(original)
        floor = results["libcst.parse_module of every file (floor)"][0]
        print(f"| case | median s | × parse | peak MiB |\n| --- | ---: | ---: | ---: |")
        for label, (secs, mib) in results.items():
            print(f"| {label} | {secs:.2f} | {secs / floor:.2f} | {mib} |")
        base_f8 = results["flake8 -j1 (pyflakes+pycodestyle), no plugin"][0]
        ours_add = results["flake8 -j1 (pyflakes+pycodestyle) + modreg"][0] - base_f8
        print(f"\nflake8 added cost, modreg: {ours_add:.2f} s = {ours_add / floor:.2f} × parse")
        if "modreg check --no-cache (all cores, cold)" in results:
            cold = results["modreg check --no-cache (all cores, cold)"][0]
            print(
                f"modreg check -j1 --no-cache = {results['modreg check -j1 --no-cache'][0] / floor:.2f} × parse; "
                f"warm/cold = {results['modreg check (warm: 2nd run, unchanged tree)'][0] / cold:.3f}; "
                f"one file changed/cold = {results['modreg check (warm, one file changed)'][0] / cold:.3f}"
            )
        unselected = results["flake8 -j1 --select E,W,F with modreg installed"][0] - base_f8
        print(f"flake8 --select E,W,F with modreg installed vs without: {unselected:+.2f} s")
        if peer is not None:
            tf_add = results["flake8 -j1 (pyflakes+pycodestyle) + torchfix"][0] - base_f8
            print(f"flake8 added cost, torchfix: {tf_add:.2f} s = {tf_add / floor:.2f} × parse; modreg/torchfix = {ours_add / tf_add:.3f}")

    big = big_file(corpus("timm"))
    n = big.read_text(encoding="utf-8").count("\n")
    print(f"\n## one {n:,}-line model file (editor latency)\n")
    print("| case | median s |\n| --- | ---: |")
    for label, cmd in [
        ("libcst.parse_module", [bin_(ours, "python"), "-c", PARSE_SCRIPT, str(big)]),
        ("flake8 --select MRG", [bin_(ours, "flake8"), "--select", "MRG", "--exit-zero", str(big)]),
        ("flake8 --select MRG - (stdin)", ["sh", "-c", f"{bin_(ours, 'flake8')} --select MRG --exit-zero - < {big}"]),
    ] + ([("modreg check --no-cache", [bin_(ours, "modreg"), "check", "--no-cache", str(big)])] if (ours / "bin" / "modreg").exists() else []):
        print(f"| {label} | {timed(cmd, max(args.runs, 5))[0]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
