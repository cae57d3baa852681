"""MindSpore runtime oracle: what really stays outside ``get_parameters()`` in mindcv, against what modreg reports.

Not part of the default test run (it builds a ~2 GB venv and every mindcv model).
From the repository root, in the venv that has flake8-modreg installed:

    python tests/realworld/ms_oracle.py                # add --write-doc to refresh docs/accuracy.md

1. Makes (once) ``tests/realworld/.cache/ms-oracle-venv`` with the pinned
   ``mindspore==2.10.0 numpy<2 mindcv==0.3.0`` (``--python`` uses another
   interpreter that has them, e.g. ``.msvenv/bin/python`` after
   ``pip install mindcv==0.3.0``).
2. Runs ``ms_oracle_collect.py`` there (cached as JSON; ``--rerun`` rebuilds):
   one model of each of mindcv's 52 model modules (the smallest by its name:
   building all 275 on a shared 2-core CPU takes hours), ``pretrained=False``
   (nothing is downloaded), CPU, PyNative.  A record is a cell attribute holding a plain
   Tensor (state outside ``parameters_dict()``, ``get_parameters()`` and the
   checkpoint), or a list/tuple/dict of Cells, Parameters or Tensors; plain
   Tensors are judged ``updated`` or constant by two train-mode forwards.
3. Checks the same mindcv sources with modreg, per file and as a project, every
   rule on, and prints per code: findings confirmed by a record, contradicted
   (the class was built and holds no such state, or for MRG203 the tensor
   stayed constant through the forwards), invisible (class never built or
   never run forward) or unjudged (not a construction fact); then recall per
   record kind, and every unconfirmed finding and missed record.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = HERE / ".cache"
VENV = CACHE / "ms-oracle-venv"
PINS = ("mindspore==2.10.0", "numpy<2", "mindcv==0.3.0")
OUT = CACHE / "ms-oracle-mindcv.json"
DOC = REPO / "docs" / "accuracy.md"

sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))
from oracle import recall_table, static, table  # noqa: E402

#: which oracle records confirm a finding of each code
CONFIRMS = {
    "MRG101": lambda k: k.startswith("list:") and "cells" in k,
    "MRG102": lambda k: k.startswith("dict:") and "cells" in k,
    "MRG103": lambda k: ":" in k and "parameters" in k,
    "MRG203": lambda k: k == "tensor:updated",
}


def record_code(kind: str) -> str:
    if ":" in kind and kind.split(":", 1)[0] in ("list", "dict"):
        shape, held = kind.split(":", 1)
        if "cells" in held:
            return "MRG101" if shape == "list" else "MRG102"
        if "parameters" in held:
            return "MRG103"
        return f"tensors-in-{shape} (no rule)"
    return {"tensor:updated": "MRG203", "tensor:constant": "constant tensor (correctly silent)"}.get(kind, "tensor (forward not run)")


def collect(python: str | None, rerun: bool, timeout: float, limit: int) -> dict:
    out = OUT if not limit else CACHE / f"ms-oracle-mindcv-limit{limit}.json"
    if rerun or not out.exists():
        py = python
        if py is None:
            py = str(VENV / "bin" / "python")
            if not Path(py).exists():
                CACHE.mkdir(exist_ok=True)
                subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
                subprocess.run([py, "-m", "pip", "install", "-q", *PINS], check=True)
        cmd = [py, str(HERE / "ms_oracle_collect.py"), str(out), "--timeout", str(timeout), "--per-module"]
        if limit:
            cmd += ["--limit", str(limit)]
        subprocess.run(cmd, check=True)
    return json.loads(out.read_text())


def _kind(r: dict) -> str:
    if r["kind"] != "tensor":
        return r["kind"]
    return {True: "tensor:updated", False: "tensor:constant"}.get(r.get("updated"), "tensor")


def compare(data: dict, findings: list[dict]) -> dict:
    records: dict[tuple, set[str]] = collections.defaultdict(set)
    instantiated, forwarded = set(), set()
    for m in data["models"]:
        for r in m.get("found", []):
            records[(r["file"], r["cls"], r["attr"])].add(_kind(r))
        inst = {tuple(x) for x in m.get("instantiated", [])}
        instantiated |= inst
        if m.get("forward") == "ok":
            forwarded |= inst
    from flake8_modreg.rules import all_rules

    default_on = {r.code for r in all_rules() if r.default_enabled}
    rows = []
    for f in findings:
        key = (f["file"], f["cls"], f["attr"])
        check = CONFIRMS.get(f["code"])
        kinds = records.get(key, set())
        if check is None or f["attr"] is None:
            status = "unjudged"
        elif any(check(k) for k in kinds):
            status = "confirmed"
        elif f["code"] == "MRG203" and (f["file"], f["cls"]) not in forwarded and "tensor:constant" not in kinds:
            status = "invisible"
        elif (f["file"], f["cls"]) in instantiated:
            status = "contradicted"
        else:
            status = "invisible"
        rows.append({**f, "status": status, "runtime": sorted(kinds), "default": f["code"] in default_on})
    reported = {(r["file"], r["cls"], r["attr"], r["code"]) for r in rows}
    recall = []
    for key, kinds in sorted(records.items()):
        for kind in sorted(kinds):
            hit = sorted(c for (f, cl, a, c) in reported if (f, cl, a) == key and CONFIRMS.get(c, lambda k: False)(kind))
            recall.append({"file": key[0], "cls": key[1], "attr": key[2], "kind": kind, "code": record_code(kind), "reported_as": hit})
    return {"rows": rows, "recall": recall, "instantiated": instantiated, "forwarded": forwarded}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", help="an interpreter with mindspore 2.10 and mindcv (default: make the pinned venv)")
    ap.add_argument("--rerun", action="store_true")
    ap.add_argument("--records", help="use this output of ms_oracle_collect.py instead of collecting")
    ap.add_argument("--timeout", type=float, default=150.0, help="seconds per model")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--write-doc", action="store_true")
    args = ap.parse_args(argv)

    if args.records:
        data = json.loads(Path(args.records).read_text())
    else:
        data = collect(args.python, args.rerun, args.timeout, args.limit)
    root = Path(data["root"])
    models = data["models"]
    failed = [m for m in models if not m["ok"]]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    v = data["versions"]
    out = [f"Measured on commit `{commit}`: mindcv {v['mindcv']}, MindSpore {v['mindspore']} (CPU, PyNative).", ""]
    results = {}
    for mode in ("per-file", "project"):
        findings, modules, errors, lines = static(root, project=(mode == "project"))
        results[mode] = (compare(data, findings), modules, errors, lines)
    cmp_pf, mods_pf, errors, lines = results["per-file"]
    cmp_pj, mods_pj, _, _ = results["project"]
    runtime_cells = {tuple(x) for x in data["cell_classes"]}
    built = {c for c in cmp_pf["instantiated"] if c in runtime_cells}
    fwd = sum(m.get("forward") == "ok" for m in models)
    out.append(
        f"Models: {len(models)} (one per mindcv model module), {len(models) - len(failed)} built, {len(failed)} failed; "
        f"{fwd} with plain tensor attributes also ran two train-mode forwards. Sources: {lines:,} lines in "
        f"{len(list(root.rglob('*.py')))} files ({len(errors)} unparsable). Cell classes: {len(runtime_cells)} at run time, "
        f"{len(built)} of them built by some model; modreg recognises {len(mods_pf & runtime_cells)} per file and "
        f"{len(mods_pj & runtime_cells)} as a project; {len(mods_pf - runtime_cells)} / {len(mods_pj - runtime_cells)} "
        "classes it takes for Cells/Modules are not."
    )
    out.append("")
    for mode, (cmp, _, _, _) in results.items():
        out.append(f"**{mode}, every rule**:")
        out.append("")
        out += table(cmp["rows"], cmp["recall"], "all")
        out.append("")
    out.append("**Recall** (per-file; every oracle record: an attribute of a built Cell holding state outside `get_parameters()`):")
    out.append("")
    out += recall_table(cmp_pf["recall"])
    out.append("")
    text = "\n".join(out)
    print(text)
    print("\n## Unconfirmed findings (per-file, every rule)")
    for r in cmp_pf["rows"]:
        if r["status"] != "confirmed":
            print(f"- {r['status']}: {r['file']}:{r['line']}:{r['col']} {r['code']} {r['cls']} {r['message']}"
                  f"{'  [runtime: ' + ', '.join(r['runtime']) + ']' if r['runtime'] else ''}")
    print("\n## Oracle records we do not report (per-file)")
    for r in cmp_pf["recall"]:
        if not r["reported_as"]:
            print(f"- {r['code']}: {r['file']} {r['cls']}.{r['attr']} ({r['kind']})")
    print("\n## Cell classes (at run time) that modreg does not recognise (per-file)")
    for f, q in sorted(runtime_cells - mods_pf)[:60]:
        print(f"  - {f} {q}")
    print("\n## Models that failed to build")
    for m in failed:
        print(f"- {m['model']}: {m['error']}")
    if args.write_doc:
        doc = DOC.read_text()
        start, end = "<!-- oracle-mindcv:start -->", "<!-- oracle-mindcv:end -->"
        head, rest = doc.split(start, 1)
        _, tail = rest.split(end, 1)
        DOC.write_text(f"{head}{start}\n{text}\n{end}{tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
