"""Does the cost of checking one file grow like the file?  The 1k/10k/50k-line curve.

    python bench/scaling.py                    # 1k, 10k, 50k lines, 3 runs each
    python bench/scaling.py --lines 1000,10000 --runs 5 --check

Generated files of small Modules (nine lines each: a layer, a plain tensor
that MRG201 reports, a forward), as a code generator or a hostile user would
write them.  For each size, in fresh processes (so memory is measured per
case), it times a bare ``libcst.parse_module`` of the file (with the cyclic
collector off, as modreg checks a file) and a whole ``modreg check --no-cache
-j1`` of it (in-process, after the imports and a warm-up run), takes
the medians, and prints seconds, the ratio to the parse and the peak RSS.
The ratio must stay flat: ``--check`` exits 1 when the largest ratio exceeds
the smallest by more than 1.5x (the acceptance bound of issue 17).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import gc, io, json, resource, sys, time
path, what = sys.argv[1], sys.argv[2]
import libcst
if what == "parse":
    data = open(path, "rb").read()
    libcst.parse_module(b"x = 1\n")  # the parser's own warm-up, as above
    gc.disable()  # as modreg checks a file: libcst trees hold no cycles (with collections the parse is superlinear)
    t = time.perf_counter()
    libcst.parse_module(data)
    dt = time.perf_counter() - t
else:
    import os, tempfile
    from flake8_modreg import cli
    # imports and one-time set-up (rule discovery, tables) are not the file's cost: warm up on a tiny file
    tiny = os.path.join(tempfile.mkdtemp(), "tiny.py")
    with open(tiny, "w") as fh:
        fh.write("import torch.nn as nn\n\n\nclass A(nn.Module):\n    pass\n")
    cli.main(["check", "-q", "--no-cache", "-j1", tiny], stdout=io.StringIO(), stderr=io.StringIO())
    out, err = io.StringIO(), io.StringIO()
    t = time.perf_counter()
    code = cli.main(["check", "-q", "--no-cache", "-j1", path], stdout=out, stderr=err)
    dt = time.perf_counter() - t
    assert code == 1 and not err.getvalue(), (code, err.getvalue()[:200])
print(json.dumps({"seconds": dt, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def generate(lines: int) -> str:
    out = ["import torch", "import torch.nn as nn", ""]
    i = 0
    while len(out) < lines:
        out += [
            f"class M{i}(nn.Module):",
            "    def __init__(self):",
            "        super().__init__()",
            "        self.layer = nn.Linear(2, 2)",
            "        self.scale = torch.ones(1)",
            "",
            "    def forward(self, x):",
            "        return self.layer(x) * self.scale",
            "",
        ]
        i += 1
    while out[-1] != "":
        out.pop()
    return "\n".join(out) + "\n"


def measure(path: pathlib.Path, what: str) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, str(path), what], capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", default="1000,10000,50000", help="file sizes in lines (comma list)")
    ap.add_argument("--runs", type=int, default=3, help="runs per case (median)")
    ap.add_argument("--check", action="store_true", help="exit 1 unless the ratio curve is flat within 1.5x")
    args = ap.parse_args(argv)
    sizes = [int(n) for n in args.lines.split(",")]
    ratios = []
    print(f"{'lines':>7} {'Modules':>8} {'parse s':>8} {'modreg s':>9} {'ratio':>6} {'parse MB':>9} {'modreg MB':>10}")
    with tempfile.TemporaryDirectory(prefix="modreg-scaling-") as d:
        for n in sizes:
            f = pathlib.Path(d) / f"gen_{n}.py"
            text = generate(n)
            f.write_text(text)
            parse = [measure(f, "parse") for _ in range(args.runs)]
            check = [measure(f, "modreg") for _ in range(args.runs)]
            tp = statistics.median(r["seconds"] for r in parse)
            tc = statistics.median(r["seconds"] for r in check)
            ratios.append(tc / tp)
            print(
                f"{text.count(chr(10)):>7} {text.count('class '):>8} {tp:>8.2f} {tc:>9.2f} {tc / tp:>6.2f}"
                f" {max(r['rss_mb'] for r in parse):>9.0f} {max(r['rss_mb'] for r in check):>10.0f}",
                flush=True,
            )
    spread = max(ratios) / min(ratios)
    print(f"ratio spread (largest / smallest): {spread:.2f}x (bound: 1.5x)")
    return 1 if args.check and spread > 1.5 else 0


if __name__ == "__main__":
    sys.exit(main())
