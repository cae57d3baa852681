"""Fix safety across a whole repository: ``modreg check --fix --unsafe-fixes`` on a copy of timm.

Not part of the default test run.  One command, from the repository root:

    python tests/realworld/fix_safety.py [--python PATH] [--select ALL]

It copies the timm sources (timm 1.0.31, from the wheel ``sweep.py`` caches),
runs ``modreg check --fix --unsafe-fixes`` on the copy, then asserts

1. every file still compiles (``compile()`` of each file),
2. ``modreg check`` on the fixed copy finds nothing fixable left,
3. ``import timm; timm.create_model('resnet18')`` works against the fixed copy
   (in the interpreter given by ``--python``, default the oracle's venv, which
   has torch + torchvision; timm needs torchvision),
4. only files with a fixable finding changed; every other file is byte-identical.

Prints what was fixed per code and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from sweep import fetch  # noqa: E402

ORACLE_PY = HERE / ".cache" / "oracle-venv" / "bin" / "python"


def modreg(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8_modreg", *args], cwd=cwd, capture_output=True, text=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=str(ORACLE_PY), help="interpreter with torch and torchvision for the import check")
    ap.add_argument("--package", default="timm", choices=["timm", "transformers"], help="what to fix (the import check is timm's)")
    ap.add_argument("--select", default=None, help="rule selection for the fix run (default: the default set)")
    args = ap.parse_args(argv)
    pkg = args.package
    wheel = fetch({"timm": "timm==1.0.31", "transformers": "transformers==5.24.0"}[pkg])
    failures = []
    with tempfile.TemporaryDirectory(prefix="modreg-fix-safety-") as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(wheel) as z:
            for n in z.namelist():
                if n.startswith(f"{pkg}/"):
                    z.extract(n, root)
        original = {p: p.read_bytes() for p in (root / pkg).rglob("*.py")}
        sel = ["--select", args.select] if args.select else []
        before = json.loads(modreg("check", "--no-cache", "--format", "json", *sel, pkg, cwd=root).stdout)
        fixable = Counter(f["code"] for f in before["findings"] if f["fix"])
        run = modreg("check", "--no-cache", "--fix", "--unsafe-fixes", *sel, pkg, cwd=root)
        if run.returncode not in (0, 1) or "Traceback" in run.stderr:
            failures.append(f"--fix exited {run.returncode}: {run.stderr.strip()[-300:]}")
        changed = [p for p, data in original.items() if p.read_bytes() != data]
        with_fix = {(root / f["path"]).resolve() for f in before["findings"] if f["fix"]}
        for p in changed:
            if p.resolve() not in with_fix:
                failures.append(f"{p.relative_to(root)} changed but had no fixable finding")
        for p in original:
            try:
                compile(p.read_bytes(), str(p), "exec")
            except SyntaxError as e:
                failures.append(f"{p.relative_to(root)} no longer compiles: {e}")
        after = json.loads(modreg("check", "--no-cache", "--format", "json", *sel, pkg, cwd=root).stdout)
        left = [f for f in after["findings"] if f["fix"]]
        if left:
            failures.append(f"{len(left)} fixable findings left after --fix, e.g. {left[0]['path']}:{left[0]['line']} {left[0]['code']}")
        if pkg != "timm":
            pass
        elif Path(args.python).exists():
            probe = "import timm, torch; m = timm.create_model('resnet18'); print(sum(p.numel() for p in m.parameters()))"
            imp = subprocess.run([args.python, "-c", probe], cwd=root, capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
            if imp.returncode != 0:
                failures.append(f"import timm failed on the fixed copy: {imp.stderr.strip().splitlines()[-1:]}")
            else:
                print(f"timm.create_model('resnet18') on the fixed copy: {imp.stdout.strip()} parameters")
        else:
            print(f"skipped the import check: {args.python} does not exist (run tests/realworld/oracle.py once, or pass --python)")
        for p in changed:
            print(f"fixed: {p.relative_to(root)}")
        print(f"{wheel.name}: {len(original)} files; fixable findings before: {dict(fixable) or 0}; files changed: {len(changed)}")
        shutil.rmtree(root / pkg, ignore_errors=True)
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
