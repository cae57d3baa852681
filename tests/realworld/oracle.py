"""Runtime oracle: what really goes unregistered in timm, against what modreg reports.

Not part of the default test run (it builds a 5.5 GB virtual environment and
every timm model).  One command, from the repository root, in the venv that
has flake8-modreg installed:

    python tests/realworld/oracle.py

1. Makes (once) ``tests/realworld/.cache/oracle-venv`` with the pinned
   ``torch==2.14.1 torchvision==0.29.1 timm==1.0.31`` (timm needs
   torchvision, which does not import beside torch 2.13; pip takes both
   wheels from this machine's disk, see docs/accuracy.md).
2. Runs ``oracle_collect.py`` in that venv (cached as JSON per timm version;
   ``--rerun`` rebuilds): every model of ``timm.list_models()`` is built with
   ``pretrained=False`` and every sub-module instance is walked.  A record is
   an attribute whose value is a plain tensor, or a list/tuple/dict holding
   Modules, Parameters or tensors, with the class that assigns it.
3. Checks the very same timm sources (the venv's ``site-packages/timm``) with
   modreg, per file (what flake8 sees) and as a project (``modreg check``),
   every rule on; the default set is a filter of that.
4. Prints, per code: our findings, how many the oracle confirms, contradicts
   (the class was built and the attribute is registered or not a container of
   state), cannot see (class never built) or cannot judge (not a construction
   fact: forward slips, caches filled in forward); and per kind of oracle
   record, how many we report (recall).  Then every unconfirmed finding and
   every missed record, for the hand classification in docs/accuracy.md.

``--library transformers`` does the same for transformers 5.24.0 (every model
type of ``AutoModel`` built from its default configuration on ``meta``;
construction only).  ``--write-doc`` replaces the generated part of
docs/accuracy.md (between ``<!-- oracle-timm:start -->`` and
``<!-- oracle-timm:end -->``, likewise for transformers).
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = HERE / ".cache"
VENV = CACHE / "oracle-venv"
PINS = ("torch==2.14.1", "torchvision==0.29.1", "timm==1.0.31")
#: the second library the oracle can build (model types of AutoModel, default configurations), installed on demand
EXTRA = {"transformers": "transformers==5.24.0"}
DOC = REPO / "docs" / "accuracy.md"

sys.path.insert(0, str(REPO))

#: which oracle records confirm a finding of each code (the code claims the attribute holds this at run time)
CONFIRMS = {
    "MRG101": lambda k: k.startswith("list:") and "modules" in k,
    "MRG102": lambda k: k.startswith("dict:") and "modules" in k,
    "MRG103": lambda k: ":" in k and "parameters" in k,
    "MRG201": lambda k: k in ("tensor", "grad-tensor"),
    "MRG202": lambda k: k in ("tensor", "grad-tensor"),
    "MRG204": lambda k: k in ("tensor", "grad-tensor"),
    "MRG205": lambda k: k in ("stale-dict", "stale-list"),
}
#: codes whose claim is about what a forward pass leaves behind (judged only on classes a forward ran through)
AFTER_FORWARD = {"MRG205"}


def record_code(kind: str) -> str:
    """The rule an oracle record belongs to."""
    if kind in ("stale-dict", "stale-list"):
        return "MRG205"
    if kind == "stale-tensor":
        return "tensor-left-behind-by-to"
    if ":" in kind:
        shape, held = kind.split(":", 1)
        if "modules" in held:
            return "MRG101" if shape == "list" else "MRG102"
        if "parameters" in held:
            return "MRG103"
        return f"tensors-in-{shape}"
    return {"tensor": "MRG201", "grad-tensor": "MRG202"}[kind]


# -- the runtime side -----------------------------------------------------------------
def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"[oracle] creating {VENV} with {' '.join(PINS)} (pip takes torch from local disk)", file=sys.stderr)
        CACHE.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PINS], check=True)
    return py


def collect(library: str, rerun: bool, jobs: int, timeout: float, limit: int) -> dict:
    pin = PINS[2] if library == "timm" else EXTRA[library]
    out = CACHE / f"oracle-{pin.replace('==', '-')}{f'-limit{limit}' if limit else ''}.json"
    if rerun or not out.exists():
        py = ensure_venv()
        if library in EXTRA:
            subprocess.run([str(py), "-m", "pip", "install", "-q", *PINS, pin], check=True)
        cmd = [str(py), str(HERE / "oracle_collect.py"), str(out), "--library", library, "--jobs", str(jobs),
               "--timeout", str(timeout)]
        if limit:
            cmd += ["--limit", str(limit)]
        subprocess.run(cmd, check=True)
    return json.loads(out.read_text())


# -- the static side --------------------------------------------------------------------
def class_ranges(source: bytes) -> list[tuple[int, int, str]]:
    """(first line incl. decorators, last line, qualname as Python spells it) of every class."""
    out = []

    def walk(body, prefix):
        for node in body:
            if isinstance(node, ast.ClassDef):
                q = prefix + node.name
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                out.append((first, node.end_lineno, q))
                walk(node.body, q + ".")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                walk(node.body, prefix + node.name + ".<locals>.")
            elif hasattr(node, "body") and isinstance(node.body, list):
                walk(node.body, prefix)
                for extra in ("orelse", "finalbody", "handlers"):
                    walk(getattr(node, extra, []) or [], prefix)
            elif isinstance(node, ast.ExceptHandler):
                walk(node.body, prefix)

    walk(ast.parse(source).body, "")
    return out


def enclosing(ranges, line: int) -> str | None:
    best = None
    for first, last, q in ranges:
        if first <= line <= last and (best is None or first >= best[0]):
            best = (first, q)
    return best[1] if best else None


def model_qualnames(model) -> set[str]:
    out = set()
    for c in model.modules:
        if c.in_function:
            continue
        names, p = [c.name], c.parent
        while p is not None:
            names.append(p.name)
            p = p.parent
        out.add(".".join(reversed(names)))
    return out


def static(root: Path, project: bool):
    """Findings (every rule) and the Module classes modreg recognises, over every file under ``root``."""
    from flake8_modreg.core import FileContext, run
    from flake8_modreg.findings import ModregError
    from flake8_modreg.project import ProjectIndex, _own_context, summaries
    from flake8_modreg.settings import Config

    config = Config(select=("ALL",))
    paths = sorted(str(p) for p in root.rglob("*.py"))
    index = ProjectIndex(summaries(paths, lambda p: Path(p).read_bytes())) if project else None
    findings, modules, errors, lines = [], set(), [], 0
    for p in paths:
        src = Path(p).read_bytes()
        lines += src.count(b"\n")
        rel = os.path.relpath(p, root)
        ctx = (index.context_for(p) or _own_context(p)) if project else None
        try:
            _mod, model, found = run(src, path=p, config=config, context=ctx, need_model=True)
        except ModregError as e:
            errors.append(f"{rel}: {e}")
            continue
        modules |= {(rel, q) for q in model_qualnames(model)}
        ranges = class_ranges(src) if found else []
        for f in found:
            cls = enclosing(ranges, f.line)
            attr = None
            if "'self." in f.message:
                attr = f.message.split("'self.", 1)[1].split("'", 1)[0]
            findings.append({"code": f.code, "file": rel, "line": f.line, "col": f.col, "cls": cls, "attr": attr,
                             "message": f.message})
    return findings, modules, errors, lines


# -- comparing ------------------------------------------------------------------------------
def compare(data: dict, findings: list[dict]) -> dict:
    records: dict[tuple, set[str]] = collections.defaultdict(set)  # (file, cls, attr) -> kinds (state held plainly)
    for m in data["models"]:
        for r in m.get("found", []) + m.get("stale", []):
            records[(r["file"], r["cls"], r["attr"])].add(r["kind"])
    seen: dict[tuple, set[str]] = collections.defaultdict(set)  # (file, cls, attr) -> every value label seen
    instantiated, forwarded = set(), set()
    for m in data["models"]:
        for f, c, a, label in m.get("seen", []):
            seen[(f, c, a)].add(label)
        instantiated |= {tuple(x) for x in m.get("instantiated", [])}
        if m.get("forward") == "ok":
            forwarded |= {tuple(x) for x in m.get("instantiated", [])}
    from flake8_modreg.rules import all_rules

    default_on = {r.code for r in all_rules() if r.default_enabled}
    rows = []
    for f in findings:
        key = (f["file"], f["cls"], f["attr"])
        check = CONFIRMS.get(f["code"])
        if check is None or f["attr"] is None:
            status = "unjudged"
        elif any(check(k) for k in records.get(key, ())):
            status = "confirmed"
        elif (f["file"], f["cls"]) in (forwarded if f["code"] in AFTER_FORWARD else instantiated):
            status = "contradicted"
        else:
            status = "invisible"
        rows.append({**f, "status": status, "runtime": sorted(seen.get(key, ())), "default": f["code"] in default_on})
    reported = {(r["file"], r["cls"], r["attr"], r["code"]) for r in rows}
    recall = []
    for key, kinds in sorted(records.items()):
        for kind in sorted(kinds):
            code = record_code(kind)
            hit = sorted(c for (f, cl, a, c) in reported if (f, cl, a) == key and CONFIRMS.get(c, lambda k: False)(kind))
            recall.append({"file": key[0], "cls": key[1], "attr": key[2], "kind": kind, "code": code, "reported_as": hit})
    return {"rows": rows, "recall": recall, "instantiated": instantiated, "forwarded": forwarded}


def table(rows, recall, which: str) -> list[str]:
    counts = collections.defaultdict(collections.Counter)
    for r in rows:
        if which == "default" and not r["default"]:
            continue
        counts[r["code"]][r["status"]] += 1
    out = ["| code | reported | confirmed | contradicted | invisible (class never built) | unjudged (not a construction fact) |",
           "| --- | ---: | ---: | ---: | ---: | ---: |"]
    tot = collections.Counter()
    for code in sorted(counts):
        c = counts[code]
        n = sum(c.values())
        tot.update(c)
        out.append(f"| {code} | {n} | {c['confirmed']} | {c['contradicted']} | {c['invisible']} | {c['unjudged']} |")
    if not counts:
        out.append("| (none) | 0 | 0 | 0 | 0 | 0 |")
    out.append(f"| **all** | {sum(tot.values())} | {tot['confirmed']} | {tot['contradicted']} | {tot['invisible']} | {tot['unjudged']} |")
    return out


def recall_table(recall) -> list[str]:
    by = collections.defaultdict(lambda: [0, 0])
    for r in recall:
        by[r["code"]][0] += 1
        by[r["code"]][1] += bool(r["reported_as"])
    out = ["| oracle record (rule) | records | reported by us | missed |", "| --- | ---: | ---: | ---: |"]
    if not by:
        out.append("| (none) | 0 | 0 | 0 |")
    for code in sorted(by):
        n, hit = by[code]
        out.append(f"| {code} | {n} | {hit} | {n - hit} |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--library", choices=("timm", *EXTRA), default="timm")
    ap.add_argument("--rerun", action="store_true", help="rebuild the runtime records")
    ap.add_argument("--records", help="use this output of oracle_collect.py (e.g. of a modified copy of timm on "
                    "PYTHONPATH); the sources checked are the ones it imported")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per model")
    ap.add_argument("--limit", type=int, default=0, help="only the first N models (a smoke run)")
    ap.add_argument("--write-doc", action="store_true", help="update the generated part of docs/accuracy.md")
    ap.add_argument("--json", help="also write every row to this file")
    args = ap.parse_args(argv)

    if args.records:
        data = json.loads(Path(args.records).read_text())
    else:
        data = collect(args.library, args.rerun, args.jobs, args.timeout, args.limit)
    library = data.get("library", "timm")
    root = Path(data["root"])
    models = data["models"]
    failed = [m for m in models if not m["ok"]]
    out: list[str] = []
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "flake8_modreg"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    v = data["versions"]
    out.append(f"Measured on commit `{commit}`{' (+ uncommitted changes)' if dirty else ''}: {library} {v[library]}, "
               f"torch {v['torch']}, torchvision {v['torchvision']}.")
    out.append("")
    t0 = time.time()
    results = {}
    for mode in ("per-file", "project"):
        findings, modules, errors, lines = static(root, project=(mode == "project"))
        results[mode] = (compare(data, findings), modules, errors, lines)
    secs = time.time() - t0
    cmp_pf, mods_pf, errors, lines = results["per-file"]
    cmp_pj, mods_pj, _, _ = results["project"]
    runtime_modules = {tuple(x) for x in data["module_classes"]}
    built = {c for c in cmp_pf["instantiated"] if c in runtime_modules}
    fwd_ok = sum(m.get("forward") == "ok" for m in models)
    listing = "`timm.list_models()`" if library == "timm" else "`AutoModel`'s model types (default configurations)"
    out.append(f"Models: {len(models)} in {listing}, {len(models) - len(failed)} built, {len(failed)} failed; "
               f"{fwd_ok} also ran one eval forward and `.to(torch.float64)`. "
               f"Sources: {lines:,} lines in {len(list(root.rglob('*.py')))} files ({len(errors)} unparsable). "
               f"Module classes: {len(runtime_modules)} at run time ({library} classes that subclass `nn.Module`), "
               f"{len(built)} of them built by some model; modreg recognises {len(mods_pf & runtime_modules)} per file "
               f"(flake8) and {len(mods_pj & runtime_modules)} as a project (`modreg check`); "
               f"{len(mods_pf - runtime_modules)} / {len(mods_pj - runtime_modules)} classes it takes for Modules are not.")
    out.append("")
    for mode, (cmp, _, _, _) in results.items():
        for which in ("default", "all"):
            rows = [r for r in cmp["rows"] if which == "all" or r["default"]]
            unconfirmed = sum(r["status"] != "confirmed" for r in rows)
            out.append(f"**{mode}, {'default rules' if which == 'default' else 'every rule'}**: "
                       f"{unconfirmed} unconfirmed; the budget (one per 20,000 lines) allows {lines // 20000}.")
            out.append("")
            out += table(cmp["rows"], cmp["recall"], which)
            out.append("")
    out.append("**Recall** (per-file; every oracle record: an attribute of a built class holding state plainly):")
    out.append("")
    out += recall_table(cmp_pf["recall"])
    out.append("")
    text = "\n".join(out)
    print(text)
    print(f"\n[oracle] static side: {secs:.0f}s for both modes", file=sys.stderr)
    print("\n## Unconfirmed findings (per-file, every rule)")
    for r in cmp_pf["rows"]:
        if r["status"] != "confirmed":
            d = "" if r["default"] else " (off by default)"
            print(f"- {r['status']}{d}: {r['file']}:{r['line']}:{r['col']} {r['code']} {r['cls']} {r['message']}"
                  f"{'  [runtime: ' + ', '.join(r['runtime']) + ']' if r['runtime'] else ''}")
    extra = [r for r in cmp_pj["rows"] if r["status"] != "confirmed"
             and (r["file"], r["line"], r["code"]) not in {(x["file"], x["line"], x["code"]) for x in cmp_pf["rows"]}]
    if extra:
        print("\n## Unconfirmed findings only in project mode")
        for r in extra:
            print(f"- {r['status']}: {r['file']}:{r['line']}:{r['col']} {r['code']} {r['cls']} {r['message']}  [runtime: {', '.join(r['runtime'])}]")
    print("\n## Oracle records we do not report (per-file)")
    for r in cmp_pf["recall"]:
        if not r["reported_as"]:
            print(f"- {r['code']}: {r['file']} {r['cls']}.{r['attr']} ({r['kind']})")
    files_seen = {f for f, _ in runtime_modules}
    print("\n## Classes modreg takes for Modules that are not Module classes at run time")
    for mode, mods in (("per-file", mods_pf), ("project", mods_pj)):
        extra = sorted(mods - runtime_modules)
        unimported = [x for x in extra if x[0] not in files_seen]
        print(f"- {mode}: {len(extra)}, of which {len(unimported)} in files with no Module class at run time "
              f"(not importable there: optional dependencies) and {len(extra) - len(unimported)} elsewhere:")
        for f, q in [x for x in extra if x[0] in files_seen][:40]:
            print(f"  - {f} {q}")
    print("\n## Module classes (at run time) that modreg does not recognise")
    for mode, mods in (("per-file", mods_pf), ("project", mods_pj)):
        missing = sorted(runtime_modules - mods)
        print(f"- {mode}: {len(missing)}")
        for f, q in missing[:60]:
            print(f"  - {f} {q}")
    print("\n## Models that failed to build")
    for m in failed:
        print(f"- {m['model']}: {m['error']}")
    print("\n## Models whose forward (on meta) or .to(float64) could not run")
    for m in models:
        if m["ok"] and m.get("forward") != "ok":
            print(f"- {m['model']}: {m.get('forward')}")
    if args.json:
        Path(args.json).write_text(json.dumps({k: v[0]["rows"] for k, v in results.items()}, indent=1))
    if args.write_doc:
        doc = DOC.read_text()
        start, end = f"<!-- oracle-{library}:start -->", f"<!-- oracle-{library}:end -->"
        head, rest = doc.split(start, 1)
        _, tail = rest.split(end, 1)
        DOC.write_text(f"{head}{start}\n{text}\n{end}{tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
