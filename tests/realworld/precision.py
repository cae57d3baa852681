"""Precision on libraries we never tuned on: fresh findings merged with hand labels.

Not part of the default test run (it downloads packages).  One command, from
the repository root, in the venv where flake8-modreg is installed:

    python tests/realworld/precision.py              # tables per library and per code
    python tests/realworld/precision.py --list       # every finding with its label
    python tests/realworld/precision.py --context    # unclassified findings with their code, to label them
    python tests/realworld/precision.py --markdown   # the tables as Markdown (docs/accuracy.md)
    python tests/realworld/precision.py --set fresh  # another set: tuned (default), heldout, fresh or all

1. Downloads each pinned wheel of ``LIBRARIES`` with ``pip download --no-deps``
   into ``tests/realworld/.cache`` (once) and unpacks its ``.py`` files into
   ``tests/realworld/.cache/precision/<library>/``.
2. Runs ``modreg check --no-cache --format json .`` in each unpacked tree
   (the default rule set, as a new user would run it; the whole project, so
   cross-file Module bases count).  The results are kept per library and per
   digest of flake8_modreg's sources, so a re-run with an unchanged engine
   only re-reads the labels (``--rerun`` forces a new check).  Exit status other than 0/1, a traceback on
   stderr or a file in ``errors`` is printed as a possible engine crash.
3. Merges every finding with ``precision_labels.json`` (next to this file):
   one hand label per finding, keyed by library, relative path, line, code and
   the finding's subject (the first quoted name of its message, ``self.``
   dropped).  When the exact key is gone but the same library/path/code/subject
   has exactly one label, that label is used and the row says ``moved``.
   Findings with no label are counted as *unclassified*: a later run shows what
   is new.  Labels whose finding no longer fires are counted as *gone*.
4. Prints per library and per code: findings, true, false, debatable,
   unclassified, and precision = true / (true + false + debatable), the
   debatable ones counted against us.

A label is ``{"id": ..., "verdict": "true"|"false"|"debatable", "reason": ...}``
plus optional ``pattern`` (the general false-alarm pattern), ``uses`` (for
MRG201: how every read of the attribute is used) and ``runtime`` (the
standalone reproduction under real torch that confirms the verdict, if any).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
TREES = CACHE / "precision"
LABELS = HERE / "precision_labels.json"
LABELS_HELDOUT = HERE / "precision_labels_heldout.json"
LABELS_FRESH = HERE / "precision_labels_fresh.json"
REPO = HERE.parent.parent
DOC = REPO / "docs" / "accuracy.md"
MARKS = ("<!-- precision:start -->", "<!-- precision:end -->")
MARKS_HELDOUT = ("<!-- precision-heldout:start -->", "<!-- precision-heldout:end -->")
MARKS_FRESH = ("<!-- precision-fresh:start -->", "<!-- precision-fresh:end -->")
sys.path.insert(0, str(REPO))

#: pinned wheels of popular PyTorch libraries the rules were never tuned on
#: (not timm, transformers or pytorch-lightning; fairseq has no wheel for this Python)
LIBRARIES = {
    "allennlp-models": "allennlp-models==2.10.1",
    "diffusers": "diffusers==0.42.1",
    "espnet": "espnet==202511",
    "kornia": "kornia==0.9.0",
    "mmsegmentation": "mmsegmentation==1.2.2",
    "monai": "monai==1.6.1",
    "pyannote-audio": "pyannote-audio==4.0.7",
    "segmentation-models-pytorch": "segmentation-models-pytorch==0.6.0",
    "sentence-transformers": "sentence-transformers==6.2.0",
    "speechbrain": "speechbrain==1.1.2",
    "torchaudio": "torchaudio==2.11.0",
    "torchmetrics": "torchmetrics==1.9.0",
    "torchrec": "torchrec==1.9.2",
    "torchtune": "torchtune==0.6.1",
    "xformers": "xformers==0.0.35",
}
#: the held-out set: seventeen more libraries nobody on this project had read before they were measured (pure-Python
#: wheels); its labels live in ``precision_labels_heldout.json`` (same format) and its tables in their own section
HELDOUT = {
    "asteroid": "asteroid==0.7.0",
    "botorch": "botorch==0.18.1",
    "demucs": "demucs==4.1.0",
    "denoising-diffusion-pytorch": "denoising-diffusion-pytorch==2.3.4",
    "gpytorch": "gpytorch==1.15.2",
    "lightly": "lightly==1.6.0",
    "mmdet": "mmdet==3.3.0",
    "open-clip-torch": "open_clip_torch==3.3.0",
    "peft": "peft==0.21.2",
    "pyro-ppl": "pyro-ppl==1.9.2",
    "pytorch-forecasting": "pytorch-forecasting==1.8.0",
    "stable-baselines3": "stable-baselines3==2.9.2",
    "torch-geometric": "torch_geometric==2.8.1",
    "torchgeo": "torchgeo==0.8.1",
    "ultralytics": "ultralytics==8.4.190",
    "vit-pytorch": "vit-pytorch==1.26.14",
    "x-transformers": "x-transformers==2.31.10",
}
#: the fresh set: twenty-six more libraries with many Modules, in neither set above (nor timm/transformers), first
#: read on main as it was at the sweep of 2026-12-02 (wheels; only their .py files); labels in
#: ``precision_labels_fresh.json``
FRESH = {
    "braindecode": "braindecode==1.8.1",
    "chemprop": "chemprop==2.3.1",
    "darts": "darts==0.48.1",
    "e3nn": "e3nn==0.6.0",
    "fair-esm": "fair-esm==2.0.0",
    "fastai": "fastai==2.8.12",
    "flair": "flair==0.15.1",
    "gluonts": "gluonts==0.17.0",
    "mace-torch": "mace-torch==0.3.16",
    "mmpretrain": "mmpretrain==1.2.0",
    "nemo-toolkit": "nemo-toolkit==3.0.0",
    "neuralforecast": "neuralforecast==3.3.0",
    "nnunetv2": "nnunetv2==2.8.1",
    "openunmix": "openunmix==1.3.0",
    "pykeen": "pykeen==1.11.1",
    "pytorch-lightning": "pytorch-lightning==2.6.6",
    "pytorch-metric-learning": "pytorch-metric-learning==2.9.0",
    "pytorch-tabnet": "pytorch-tabnet==4.1.0",
    "pytorch-tabular": "pytorch-tabular==1.2.0",
    "pytorch-widedeep": "pytorch-widedeep==1.7.0",
    "schnetpack": "schnetpack==2.1.1",
    "torchao": "torchao==0.18.0",
    "torchsde": "torchsde==0.2.6",
    "trl": "trl==1.16.0",
    "tsai": "tsai==1.0.1",
    "vector-quantize-pytorch": "vector-quantize-pytorch==1.32.0",
}
VERDICTS = ("true", "false", "debatable")
#: the first hand-classified run (main at 7fed726, MRG201 judged by how a tensor is made): code -> (findings, true)
BASELINE = {"commit": "7fed726", "MRG101": (8, 2), "MRG201": (88, 14), "MRG202": (1, 0), "MRG205": (4, 2),
            "MRG304": (1, 1), "MRG305": (4, 2), "MRG306": (15, 11), "MRG401": (3, 3)}
#: what each label pattern of a false or debatable finding means (the general rule, never a library)
PATTERNS = {
    "moved-at-use": "every read moves it to the inputs' device first (`.to(x.device)`, a move helper, a re-assignment "
                    "`self.a = self.a.to(...)`) and the dtype cannot break (integer/bool, compared into a mask, cast, "
                    "or only elementwise promotion)",
    "zero-d": "a 0-d tensor: combines with a tensor on any device and does not promote half inputs",
    "python-only": "read only in `__init__`, in Python `if`/arithmetic, as CPU-side sampling weights or as indices",
    "placeholder": "an empty placeholder or output stash that the method overwrites before anything reads it",
    "own-conversion": "the class re-creates or re-moves it itself (an explicit device argument, a device check on read)",
    "complex": "a complex tensor: a buffer would lose its imaginary part under `model.to(bfloat16)`",
    "data-store": "a dict/list filled outside the forward path with recorded data, not a cache",
    "unreachable-after-raise": "the last reachable statement raises; a dead `return` follows",
    "jit-interface": "`.forward` on a value typed with a `@torch.jit.interface`: calling it instead does not script",
    "registered-elsewhere": "the container's state is registered another way (its elements' weights re-registered in a "
                            "registered container, or `state_dict`/`named_parameters` overridden to walk it)",
    "requires-grad-false": "`.requires_grad_(False)` on a plain tensor: it does not require grad",
    "explicit-device-fixture": "a benchmark fixture made on an explicit device and dtype, not model state",
    "explicit-device-never-moved": "made on the constructor's explicit device in a module the library never moves",
    "owner-registers-buffer": "the owning module registers the same tensor as its buffer, so it is saved",
    "never-read": "never read after the assignment",
    "explicit-none-forward": "`forward` is annotated `-> None`: returning nothing is its declared contract",
    # patterns first seen on the held-out set
    "own-call-protocol": "the sub-module's class overrides `__call__` (no nn.Module hooks run either way) and `.forward` is "
                         "its library's way to get the raw value; the 'fix' changes the result",
    "effect-forward": "a probabilistic-programming model/guide: `forward` records sample sites (`pyro.sample`) that the "
                      "caller reads from a trace; its return value is never used",
    "unsaveable-companion-state": "a counter about state that `state_dict()` cannot hold either (a dataclass of samples); "
                                  "re-created on the first call on the inputs' device",
    "never-moved-module": "a constant of a module that the library never moves (it is built where it runs, e.g. on "
                          "the default device); breaks only if a user calls `.to()` on it",
    "caller-tensor-never-moved": "a tensor passed to the constructor and stored as is: the caller makes it on the data's "
                                 "device and dtype, and the library never moves the module (acquisition functions, "
                                 "loss criteria owned by plain classes)",
    "mixin-init": "a cooperative mixin whose subclasses call another base's `__init__` (which runs Module.__init__); "
                  "`super().__init__()` in the mixin would call the next class of the MRO without its arguments",
    "init-only": "read only inside `__init__` (fitted helpers used to pick data); nothing later needs them registered",
    "abstract-stub": "the wrong signature is on an abstract base's placeholder method that every subclass overrides and "
                     "no code calls",
    "config-dict": "a dict of constructor keyword arguments spread into layers (`Layer(**self.kw)`); its only module is "
                   "stateless and registered by each layer that receives it",
    # patterns first seen on the fresh set
    "copy-source": "read only as the source of `.copy_()` (or a slice assignment) into a tensor of the inputs: the copy "
                   "moves and casts it, so nothing breaks after `.to()`/`.half()`",
    "recomputed-cache": "a lazily grown cache (an integer position range and its 0-d length) rebuilt from the inputs' size "
                        "and moved to their device when read; a reloaded module rebuilds it, nothing a checkpoint needs",
    "callback-forward": "`forward` hands its results to a callback given to the constructor (`self.iter_fn(block, s, e)`); "
                        "returning nothing is its documented contract",
    "stateless-container": "a container of modules with no parameters or buffers that act the same in train and eval "
                           "(default loss modules): registering them changes nothing",
    "no-op-conversion": "`nn.Parameter(t).to(dtype)` where `t` already has that dtype by construction: `.to()` returns the "
                        "Parameter itself, which is registered",
    "test-fixture-module": "a module of a library's testing helpers with random stand-in weights, run once on the CPU by "
                           "its tests (CPU-only by construction), never saved or moved",
    "private-untaken-branch": "the flagged assignment is on a branch of a private class that the library never takes "
                              "(and that cannot run as written)",
}
QUOTED = re.compile(r"'([^']+)'")
#: the library sets: their pinned wheels, label file, doc markers and runtime reproductions
SETS = {
    "tuned": {"libraries": LIBRARIES, "labels": LABELS, "marks": MARKS, "repro": "precision_repro"},
    "heldout": {"libraries": HELDOUT, "labels": LABELS_HELDOUT, "marks": MARKS_HELDOUT,
                "repro": "precision_repro_heldout"},
    "fresh": {"libraries": FRESH, "labels": LABELS_FRESH, "marks": MARKS_FRESH, "repro": "precision_repro_fresh"},
}


def fetch(spec: str) -> Path:
    """The wheel for the pinned ``spec`` (downloaded once into the cache)."""
    name, version = spec.split("==")
    stem = name.replace("-", "_").replace(".", "_").lower()
    CACHE.mkdir(exist_ok=True)

    def have() -> list[Path]:
        return sorted(p for p in CACHE.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-"))

    if not have():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(CACHE), spec],
            check=True,
        )
    return have()[-1]


def unpack(label: str, wheel: Path) -> Path:
    import zipfile

    root = TREES / label
    stamp = root / ".wheel"
    if stamp.exists() and stamp.read_text() == wheel.name:
        return root
    with zipfile.ZipFile(wheel) as z:
        for n in z.namelist():
            if n.endswith(".py") and ".dist-info/" not in n:
                z.extract(n, root)
    stamp.write_text(wheel.name)
    return root


def subject(message: str) -> str:
    """The name a finding is about: the first quoted name of its message, without ``self.``."""
    m = QUOTED.search(message)
    s = m.group(1) if m else ""
    return s[5:] if s.startswith("self.") else s


def key(library: str, f: dict) -> str:
    return f"{library}|{f['path']}|{f['line']}|{f['code']}|{subject(f['message'])}"


def engine_hash() -> str:
    """A digest of flake8_modreg's sources: results are reused while the engine is unchanged."""
    import hashlib

    import flake8_modreg

    h = hashlib.sha1()
    for p in sorted(Path(flake8_modreg.__file__).parent.rglob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def run(library: str, root: Path, rerun: bool = False) -> tuple[list[dict], list[str], dict]:
    saved = TREES / f"{library}.{engine_hash()}.json"
    if saved.exists() and not rerun:
        findings, problems, _size = json.loads(saved.read_text())
        return findings, problems, tree_size(root)
    result = check_tree(root)
    saved.write_text(json.dumps(result))
    return result


def checked_files(root: Path) -> list[Path]:
    """The ``.py`` files ``modreg check`` reads in ``root``: not under the folders it skips (a wheel's ``build/``)."""
    from flake8_modreg.cli import SKIP_DIRS

    return sorted(p for p in root.rglob("*.py") if not SKIP_DIRS & set(p.relative_to(root).parts[:-1]))


def tree_size(root: Path) -> dict:
    files = checked_files(root)
    return {"files": len(files), "lines": sum(p.read_bytes().count(b"\n") for p in files)}


def check_tree(root: Path) -> tuple[list[dict], list[str], dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "--format", "json", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    problems = []
    if proc.returncode not in (0, 1) or "Traceback" in proc.stderr:
        problems.append(f"modreg exited {proc.returncode}: {proc.stderr.strip().splitlines()[-3:]}")
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        return [], problems + ["no JSON on stdout"], {}
    problems += [f"{e['path']}: {e['message']}" for e in out.get("errors", [])]
    size = tree_size(root)
    for f in out["findings"]:
        f["path"] = f["path"].removeprefix("./")
    return out["findings"], problems, size


def load_labels(path: Path = LABELS) -> dict[str, dict]:
    if not path.exists():
        return {}
    labels = {}
    for entry in json.loads(path.read_text()):
        if entry["verdict"] not in VERDICTS:
            raise SystemExit(f"{path.name}: bad verdict in {entry['id']}")
        if entry["id"] in labels:
            raise SystemExit(f"{path.name}: duplicate id {entry['id']}")
        labels[entry["id"]] = entry
    return labels


def merge(results: dict, labels: dict) -> list[dict]:
    """One row per finding: library, code, the finding, its label (or None) and how it was matched."""
    by_subject = collections.defaultdict(list)
    for k in labels:
        lib, path, _line, code, subj = k.split("|")
        by_subject[(lib, path, code, subj)].append(k)
    flat = [(library, f) for library, (findings, _problems, _size) in results.items() for f in findings]
    used = {key(library, f) for library, f in flat if key(library, f) in labels}  # exact matches first
    rows = []
    for library, f in flat:
        k = key(library, f)
        match = "exact" if k in labels else None
        if match is None:
            cands = [c for c in by_subject[(library, f["path"], f["code"], subject(f["message"]))] if c not in used]
            if len(cands) == 1:
                k, match = cands[0], "moved"
                used.add(k)
        rows.append({"library": library, "id": key(library, f), "finding": f,
                     "label": labels[k] if match else None, "match": match})
    rows_libs = set(results)
    gone = [k for k in labels if k not in used and k.split("|")[0] in rows_libs]
    return rows, gone


def tally(rows: list[dict], by: str) -> dict:
    t = collections.defaultdict(collections.Counter)
    for r in rows:
        name = r["library"] if by == "library" else r["finding"]["code"]
        t[name]["findings"] += 1
        t[name][r["label"]["verdict"] if r["label"] else "unclassified"] += 1
    return t


def precision(c: collections.Counter) -> str:
    judged = c["true"] + c["false"] + c["debatable"]
    return f"{c['true'] / judged:.2f}" if judged else "-"


def table(t: dict, first: str, extra: dict | None = None) -> list[str]:
    cols = [first, *(["files", "lines"] if extra else []), "findings", "true", "false", "debatable", "unclassified",
            "precision"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    names = sorted(set(t) | set(extra or {}))
    total = collections.Counter()
    for name in names:
        c = t.get(name, collections.Counter())
        total.update(c)
        size = [f"{extra[name]['files']:,}", f"{extra[name]['lines']:,}"] if extra else []
        vals = [c["findings"], c["true"], c["false"], c["debatable"], c["unclassified"], precision(c)]
        out.append("| " + " | ".join([name, *size, *map(str, vals)]) + " |")
    size = [f"{sum(e['files'] for e in extra.values()):,}", f"{sum(e['lines'] for e in extra.values()):,}"] if extra else []
    vals = [total["findings"], total["true"], total["false"], total["debatable"], total["unclassified"], precision(total)]
    out.append("| " + " | ".join(["**all**", *size, *map(str, vals)]) + " |")
    return out


def context(root: Path, f: dict, lines: int = 4) -> str:
    """The code around a finding and, for a ``self.<attr>`` subject, every line of the file that reads it."""
    src = (root / f["path"]).read_text(encoding="utf-8", errors="replace").splitlines()
    lo, hi = max(0, f["line"] - 1 - lines), min(len(src), f["line"] + lines)
    out = [f"{i + 1:6}{'>' if i + 1 == f['line'] else ' '} {src[i]}" for i in range(lo, hi)]
    attr = subject(f["message"])
    if attr.isidentifier():
        pat = re.compile(rf"\bself\.{re.escape(attr)}\b")
        uses = [i for i, s in enumerate(src) if pat.search(s) and not lo <= i < hi]
        out += ["    uses:"] + [f"{i + 1:6}  {src[i].strip()}" for i in uses[:40]]
    return "\n".join(out)


def patterns(rows: list[dict], roots: dict) -> str:
    """Markdown: every false or debatable finding, grouped by its label's pattern, with the flagged line and uses."""
    groups = collections.defaultdict(list)
    for r in rows:
        lab = r["label"]
        if lab and lab["verdict"] != "true":
            groups[lab.get("pattern", "(none)")].append(r)
    out = []
    for pattern, rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        codes = collections.Counter(r["finding"]["code"] for r in rs)
        out.append(f"\n#### {pattern} ({len(rs)}: {', '.join(f'{c} {n}' for c, n in sorted(codes.items()))})\n")
        for r in rs:
            f, lab = r["finding"], r["label"]
            src = (roots[r["library"]] / f["path"]).read_text(encoding="utf-8", errors="replace").splitlines()
            line = src[f["line"] - 1].strip() if f["line"] <= len(src) else ""
            out.append(f"- `{r['library']}` {f['path']}:{f['line']} {f['code']} [{lab['verdict']}] `{line[:110]}`")
            out.append(f"  - {lab['reason']}")
            if lab.get("uses"):
                out.append(f"  - uses: {lab['uses']}")
            if lab.get("runtime"):
                out.append(f"  - runtime: {lab['runtime']}")
    return "\n".join(out)


def load_repro(name: str):
    """A reproduction module of this folder (``precision_repro``, ``precision_repro_heldout`` or
    ``precision_repro_fresh``), by file name."""
    import importlib.util

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    repro = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = repro
    spec.loader.exec_module(repro)
    return repro


def doc_section(rows: list[dict], gone: list[str], labels: dict, sizes: dict, libs: dict,
                which: str = "tuned") -> str:
    """The generated part of docs/accuracy.md: tables, remaining false alarms by pattern, runtime reproductions."""
    repro = load_repro(SETS[which]["repro"])
    engine = subprocess.run(["git", "log", "-1", "--format=%h", "--", "flake8_modreg"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip() or "?"
    if which != "tuned":
        return heldout_section(rows, gone, labels, sizes, libs, repro, engine)
    now = tally(rows, "code")
    out = [f"Baseline (main at `{BASELINE['commit']}`) against now (flake8_modreg as of `{engine}`):", "",
           "| code | baseline findings (true) | baseline precision | now findings (true) | now precision |",
           "|---|---|---|---|---|"]
    codes = sorted((set(BASELINE) - {"commit"}) | set(now))
    totals = [0, 0, 0, 0]
    for code in codes:
        bf, bt = BASELINE.get(code, (0, 0))
        c = now.get(code, collections.Counter())
        totals = [totals[0] + bf, totals[1] + bt, totals[2] + c["findings"], totals[3] + c["true"]]
        before = f"{bt / bf:.2f}" if bf else "-"
        out.append(f"| {code} | {bf} ({bt}) | {before} | {c['findings']} ({c['true']}) | {precision(c)} |")
    out.append(f"| **all** | {totals[0]} ({totals[1]}) | {totals[1] / totals[0]:.2f} | {totals[2]} ({totals[3]}) | "
               f"{precision(sum(now.values(), collections.Counter()))} |")
    out += ["", f"Pinned wheels: {', '.join(libs.values())}.", "", "Per library:", ""]
    out += table(tally(rows, "library"), "library", sizes)
    out += ["", "Per code:", ""] + table(tally(rows, "code"), "code")
    groups = collections.defaultdict(list)
    for r in rows:
        if r["label"] and r["label"]["verdict"] != "true":
            groups[(r["label"]["verdict"], r["label"].get("pattern", "-"))].append(r)
    out += ["", "Findings that are not real bugs, by pattern:", ""]
    for (verdict, pattern), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]), kv[0][1])):
        where = ", ".join(f"{r['library']} `{r['finding']['path']}:{r['finding']['line']}` {r['finding']['code']}"
                          for r in rs)
        out.append(f"- **{pattern}** ({verdict}, {len(rs)}): {PATTERNS.get(pattern, '')}. {where}")
    out += runtime_lines(rows, gone, labels, repro)
    return "\n".join(out)


def runtime_lines(rows: list[dict], gone: list[str], labels: dict, repro) -> list[str]:
    """The runtime-confirmed labels, per reproduction, and how many labelled findings are gone."""
    uses = collections.defaultdict(list)
    live = {r["label"]["id"] for r in rows if r["label"]}
    for lab in labels.values():
        if lab.get("runtime"):
            name = lab["runtime"].split("::", 1)[1].split()[0]
            lib, path, line, code, _ = lab["id"].split("|")
            mark = "" if lab["id"] in live else " (no longer reported)"
            uses[name].append(f"{lib} `{path}:{line}` {code} [{lab['verdict']}]{mark}")
    out = ["", f"Runtime-confirmed classifications ({sum(map(len, uses.values()))} labels, "
           f"{len(repro.EXPECTED)} reproductions in `tests/realworld/{repro.__name__}.py`, torch 2.13; "
           "`tests/test_precision_harness.py` re-runs them):", ""]
    for fn, want in repro.EXPECTED.items():
        doc = (fn.__doc__ or "").strip().splitlines()[0]
        confirms = ", ".join(uses.get(fn.__name__, [])) or "-"
        if confirms == "-" and doc.startswith("Missed"):
            confirms = "no finding (a bug the rules miss)"
        out.append(f"- `{fn.__name__}` {want}: {doc} Confirms {confirms}")
    if gone:
        out += ["", f"Labelled findings no longer reported: {len(gone)} "
                f"({collections.Counter(labels[k]['verdict'] for k in gone)['true']} of them true)."]
    return out


def heldout_section(rows: list[dict], gone: list[str], labels: dict, sizes: dict, libs: dict, repro,
                    engine: str) -> str:
    """The held-out (or fresh) set's generated section: no baseline (first measured as it is), tables, patterns,
    runtime."""
    out = [f"flake8_modreg as of `{engine}`; pinned wheels: {', '.join(libs.values())}.", "", "Per library:", ""]
    out += table(tally(rows, "library"), "library", sizes)
    out += ["", "Per code:", ""] + table(tally(rows, "code"), "code")
    groups = collections.defaultdict(list)
    for r in rows:
        if r["label"] and r["label"]["verdict"] != "true":
            groups[(r["label"]["verdict"], r["label"].get("pattern", "-"))].append(r)
    out += ["", "Findings that are not real bugs, by pattern:", ""]
    for (verdict, pattern), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]), kv[0][1])):
        where = ", ".join(f"{r['library']} `{r['finding']['path']}:{r['finding']['line']}` {r['finding']['code']}"
                          for r in rs)
        out.append(f"- **{pattern}** ({verdict}, {len(rs)}): {PATTERNS.get(pattern, '')}. {where}")
    out += runtime_lines(rows, gone, labels, repro)
    return "\n".join(out)


def timing(root: Path, limit: float) -> tuple[list[str], str]:
    """Each file checked alone with the core API in strict mode (as flake8 sees it): the slow ones and failures,
    and a one-line summary (files, total time, the slowest file)."""
    import time

    from flake8_modreg import Config, ModregError, check

    out, times = [], []
    for p in checked_files(root):
        t0 = time.perf_counter()
        try:
            list(check(p.read_bytes(), path=str(p), config=Config(strict=True)))
        except ModregError:
            pass  # a file Python itself cannot parse
        except Exception as e:  # strict mode raises what a rule would otherwise log and skip
            out.append(f"{p.relative_to(root)}: {type(e).__name__}: {e}")
        dt = time.perf_counter() - t0
        times.append((dt, p.relative_to(root)))
        if dt > limit:
            out.append(f"{p.relative_to(root)}: {dt:.1f} s")
    slowest = max(times, default=(0.0, "-"))
    return out, f"{len(times)} files alone in {sum(t for t, _ in times):.1f} s, slowest {slowest[1]} {slowest[0]:.2f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=[*SETS, "all"], default="tuned",
                    help="which libraries: the fifteen the rules were measured and tuned on (default), the held-out "
                         "seventeen, the fresh twenty-six, or all (each with its own labels, tables and doc section)")
    ap.add_argument("--only", nargs="*", help="library names (keys of LIBRARIES, HELDOUT or FRESH)")
    ap.add_argument("--list", action="store_true", help="print every finding with its label")
    ap.add_argument("--context", action="store_true", help="print unclassified findings with the code around them")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown only")
    ap.add_argument("--patterns", action="store_true",
                    help="print the false and debatable findings grouped by pattern, with the flagged line and its uses")
    ap.add_argument("--json", help="also write every merged row to this file")
    ap.add_argument("--write-doc", action="store_true",
                    help="replace the generated precision section of docs/accuracy.md (between its markers)")
    ap.add_argument("--rerun", action="store_true", help="run modreg again even if the engine is unchanged")
    ap.add_argument("--timing", type=float, metavar="SECONDS",
                    help="also check every file alone (strict core API) and list files slower than SECONDS or failing")
    args = ap.parse_args(argv)
    status = 0
    for which in (SETS if args.set == "all" else [args.set]):
        if args.set == "all":
            print(f"\n## {which}\n")
        status |= run_set(which, args)
    return status


def run_set(which: str, args) -> int:
    chosen = SETS[which]
    libs = {k: v for k, v in chosen["libraries"].items() if not args.only or k in args.only}
    results, roots = {}, {}
    for library, spec in libs.items():
        roots[library] = unpack(library, fetch(spec))
        results[library] = run(library, roots[library], args.rerun)
        print(f"{library}: {len(results[library][0])} findings", file=sys.stderr)
    labels = load_labels(chosen["labels"])
    rows, gone = merge(results, labels)
    sizes = {lib: r[2] for lib, r in results.items() if r[2]}
    print("### Per library\n")
    print("\n".join(table(tally(rows, "library"), "library", sizes)))
    print("\n### Per code\n")
    print("\n".join(table(tally(rows, "code"), "code")))
    problems = [(lib, p) for lib, r in results.items() for p in r[1]]
    if args.timing is not None:
        for library, root in roots.items():
            slow, summary = timing(root, args.timing)
            print(f"timing {library}: {summary}", file=sys.stderr)
            problems += [(library, f"per file: {p}") for p in slow]
    if not args.markdown:
        print(f"\nlabels: {len(labels)}; matched exactly {sum(r['match'] == 'exact' for r in rows)}, "
              f"moved {sum(r['match'] == 'moved' for r in rows)}; gone (finding no longer reported) {len(gone)}")
        for k in gone:
            print(f"  gone: {k} [{labels[k]['verdict']}]")
        runtime = [lab for lab in labels.values() if lab.get("runtime")]
        print(f"runtime-confirmed labels: {len(runtime)}")
    for lib, p in problems:
        print(f"POSSIBLE ENGINE PROBLEM {lib}: {p}")
    if args.list:
        for r in rows:
            f, lab = r["finding"], r["label"]
            v = lab["verdict"] if lab else "UNCLASSIFIED"
            print(f"{r['id']}  [{v}{'/moved' if r['match'] == 'moved' else ''}] {lab['reason'] if lab else f['message']}")
    if args.context:
        for r in rows:
            if not r["label"]:
                f = r["finding"]
                print(f"\n=== {r['id']}\n{f['code']} {f['message']}\n{context(roots[r['library']], f)}")
    if args.patterns:
        print(patterns(rows, roots))
    if args.write_doc:
        marks = chosen["marks"]
        doc = DOC.read_text()
        head, rest = doc.split(marks[0], 1)
        _, tail = rest.split(marks[1], 1)
        section = doc_section(rows, gone, labels, sizes, libs, which)
        DOC.write_text(f"{head}{marks[0]}\n{section}\n{marks[1]}{tail}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "gone": gone}, indent=1))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
