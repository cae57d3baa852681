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
import ast
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
    # cut at the end of the last top-level statement that fits, so the file parses
    end = max(node.end_lineno or 0 for node in ast.parse(text).body if (node.end_lineno or 0) <= lines)
    kept = text.splitlines(keepends=True)[:end]
    out.write_text("".join(kept), encoding="utf-8")
    return out


def timed(cmd: list[str], runs: int, cwd: pathlib.Path | None = None, env: dict | None = None, before=None) -> tuple[float, float, int]:
    """Medians of ``runs`` whole processes: wall seconds, CPU seconds (user+sys of the process tree), and the peak RSS in MiB.

    ``before(i)`` runs untimed before run ``i``.  CPU time is what the ratios use: on a machine shared
    with other work, wall time measures the neighbours as much as the program.
    """
    walls, cpus, peak = [], [], 0
    for i in range(runs):
        if before is not None:
            before(i)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
        _, _, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
        peak = max(peak, usage.ru_maxrss // 1024)
    return statistics.median(walls), statistics.median(cpus), peak


AST = "ast.parse of every file (python)"
PARSE = "libcst.parse_module of every file (floor)"
F8_EWF = "flake8 -j1 --select E,W,F, no plugin"
F8_EWF_INSTALLED = "flake8 -j1 --select E,W,F, modreg installed"
F8_EWF_MRG = "flake8 -j1 --select E,W,F,MRG"
F8_MRG = "flake8 -j1 --select MRG"
F8_TOR = "flake8 -j1 --select TOR (TorchFix)"
RUFF = "ruff check --select ALL (reference)"
MODREG_J1 = "modreg check -j1 --no-cache"
MODREG_PAR = "modreg check --no-cache (all cores, cold)"
MODREG_WARM = "modreg check (warm: 2nd run, unchanged tree)"
MODREG_ONE = "modreg check (warm, one file changed)"


def comparison(results: dict[str, tuple[float, float, int]], with_torchfix: bool) -> str:
    """The issue's table: CPU-time ratios measured in the same run, with their targets."""
    cpu = {k: v[1] for k, v in results.items()}
    parse = cpu[PARSE]
    rows = [
        ("`modreg check -j1 --no-cache` / bare libcst parse", cpu[MODREG_J1] / parse, "≤ 1.2"),
        ("`flake8 -j1 --select MRG` / bare parse (flake8's own checks included)", cpu[F8_MRG] / parse, "≤ 2.2"),
        ("flake8 plugin's added cost (E,W,F,MRG − E,W,F) / bare parse", (cpu[F8_EWF_MRG] - cpu[F8_EWF_INSTALLED]) / parse, "≤ 1.1"),
    ]
    if with_torchfix:
        rows.append(("`flake8 --select MRG` / TorchFix's `flake8 --select TOR`", cpu[F8_MRG] / cpu[F8_TOR], "≤ 0.2"))
    rows += [
        ("`flake8 --select E,W,F` with the plugin installed / without it", cpu[F8_EWF_INSTALLED] / cpu[F8_EWF], "≤ 1.03"),
        ("`modreg check` warm (unchanged tree) / cold -j1", cpu[MODREG_WARM] / cpu[MODREG_J1], "—"),
        ("`modreg check -j1` / `ruff check --select ALL` (reference only)", cpu[MODREG_J1] / cpu[RUFF], "—"),
    ]
    lines = ["| comparison (CPU time) | now | target |", "| --- | ---: | ---: |"]
    lines += [f"| {label} | {value:.2f} | {target} |" for label, value, target in rows]
    lines.append("| `modreg check` on 2 cores vs `-j1`, cold | see `bench/parallel.py` | ≥ 1.7 |")
    return "\n".join(lines)


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
        top = root / args.subdir if args.subdir and (root / args.subdir).is_dir() else root
        files = sorted(str(p) for p in top.rglob("*.py"))
        nlines = sum(pathlib.Path(f).read_bytes().count(b"\n") for f in files)
        rel = top.relative_to(root).as_posix()
        print(f"\n## {name} ({CORPORA[name]}{'/' + rel if rel != '.' else ''}): {len(files)} files, {nlines:,} lines\n")
        target = str(top)
        touched = pathlib.Path(files[len(files) // 2])
        original = touched.read_bytes()

        def touch(i: int, path=touched, original=original) -> None:
            path.write_bytes(original + f"\n# bench edit {i} {time.time()}\n".encode())

        f8, f8_ours = bin_(base, "flake8"), bin_(ours, "flake8")
        cases: list[tuple[str, list[str], dict | None]] = [
            (PARSE, [bin_(ours, "python"), "-c", PARSE_SCRIPT, *files], None),
            (AST, [bin_(ours, "python"), "-c", AST_SCRIPT, *files], None),
            (F8_EWF, [f8, "-j1", "--select", "E,W,F", "--exit-zero", target], None),
            (F8_EWF_INSTALLED, [f8_ours, "-j1", "--select", "E,W,F", "--exit-zero", target], None),
            (F8_EWF_MRG, [f8_ours, "-j1", "--select", "E,W,F,MRG", "--exit-zero", target], None),
            (F8_MRG, [f8_ours, "-j1", "--select", "MRG", "--exit-zero", target], None),
            ("flake8 --select MRG (parallel)", [f8_ours, "--select", "MRG", "--exit-zero", target], None),
            (RUFF, [bin_(base, "ruff"), "check", "--select", "ALL", "--no-cache", "--exit-zero", "-q", target], None),
        ]
        if peer is not None:
            cases += [
                (F8_TOR, [bin_(peer, "flake8"), "-j1", "--select", "TOR", "--exit-zero", target], None),
                ("torchfix CLI", [bin_(peer, "torchfix"), target], None),
            ]
        modreg = pathlib.Path(bin_(ours, "modreg"))
        cache_dir = CACHE / f"modreg-cache-{name}"
        shutil.rmtree(cache_dir, ignore_errors=True)
        env = {**os.environ, "MODREG_CACHE_DIR": str(cache_dir)}
        cases += [
            (MODREG_J1, [str(modreg), "check", "-j1", "--no-cache", "--exit-zero", target], env),
            (MODREG_PAR, [str(modreg), "check", "--no-cache", "--exit-zero", target], env),
            (MODREG_WARM, [str(modreg), "check", "--exit-zero", target], env),
            (MODREG_ONE, [str(modreg), "check", "--exit-zero", target], env),
        ]
        results: dict[str, tuple[float, float, int]] = {}
        print("| case | median wall s | median CPU s | CPU × parse | peak MiB |\n| --- | ---: | ---: | ---: | ---: |", flush=True)
        try:
            for label, cmd, env in cases:  # the floor runs first: each row prints its ratio as it completes
                if "warm" in label:
                    timed(cmd, 1, env=env)  # fill the cache
                results[label] = secs, cpu, mib = timed(cmd, args.runs, env=env, before=touch if "changed" in label else None)
                floor = results.get(PARSE, (0.0, cpu, 0))[1]
                print(f"| {label} | {secs:.2f} | {cpu:.2f} | {cpu / floor:.2f} | {mib} |", flush=True)
        finally:
            touched.write_bytes(original)
        print()
        print(comparison(results, peer is not None))
    big = big_file(corpus("timm"))
    n = big.read_text(encoding="utf-8").count("\n")
    print(f"\n## one {n:,}-line model file (editor latency)\n")
    print("| case | median CPU s |\n| --- | ---: |")
    for label, cmd in [
        ("libcst.parse_module", [bin_(ours, "python"), "-c", PARSE_SCRIPT, str(big)]),
        ("flake8 --select MRG", [bin_(ours, "flake8"), "--select", "MRG", "--exit-zero", str(big)]),
        ("flake8 --select MRG - (stdin)", ["sh", "-c", f"{bin_(ours, 'flake8')} --select MRG --exit-zero - < {big}"]),
    ] + ([("modreg check --no-cache", [bin_(ours, "modreg"), "check", "--no-cache", str(big)])] if (ours / "bin" / "modreg").exists() else []):
        print(f"| {label} | {timed(cmd, max(args.runs, 5))[1]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
