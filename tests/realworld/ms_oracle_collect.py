"""Runtime half of the MindSpore oracle: runs INSIDE a venv with mindspore 2.10 and mindcv, never imports flake8_modreg.

    <ms-venv>/bin/python ms_oracle_collect.py OUT.json [--limit N] [--timeout S] [--only REGEX]

For every name of ``mindcv.list_models()`` a worker builds the model with
``pretrained=False`` (no download) on the CPU in PyNative mode, walks every
cell of ``cells_and_names()`` and records each instance attribute (``vars(cell)``,
``nn.Cell``'s own bookkeeping excluded) whose value is a plain ``Tensor`` (not a
``Parameter``) or a list/tuple/dict holding Cells, Parameters or Tensors, with
the class that assigns it (the most derived class in the MRO whose source
assigns ``self.<attr>``).  Nothing of that is in ``parameters_dict()``,
``get_parameters()`` or the checkpoint ``save_checkpoint(net)`` writes.

Then, for models with plain tensor attributes (only those can be judged; the
forward costs tens of seconds per model on a shared CPU), two train-mode
forwards on a batch of two inputs of the model's configured size (3x224x224
by default): every plain tensor attribute whose value changed is recorded as
``updated`` (state after ``__init__``, what MRG203 reports), the others as
constants.
A worker that overruns ``--timeout`` on one model is killed and replaced.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_collect import _assigned_attrs, _where  # noqa: E402  (pure ast/inspect helpers, no torch)


def _classify(v, ms, registered, depth=0):
    """'tensor' / ('list'|'dict', {'cells','parameters','tensors', 'registered-*'}) / 'cell' / 'parameter' / None."""
    if isinstance(v, ms.Parameter):
        return "parameter"
    if isinstance(v, ms.Tensor):
        return "tensor"
    if isinstance(v, ms.nn.Cell):
        return "cell"
    if depth > 3 or not isinstance(v, (list, tuple, dict)):
        return None
    held = set()
    for x in v.values() if isinstance(v, dict) else v:
        k = _classify(x, ms, registered, depth + 1)
        if k in ("cell", "parameter", "tensor"):
            name = {"cell": "cells", "parameter": "parameters"}[k] if k != "tensor" else "tensors"
            held.add(f"registered-{name}" if id(x) in registered else name)
        elif isinstance(k, tuple):
            held |= k[1]
    return ("dict" if isinstance(v, dict) else "list", held) if held else None


def _label(kind) -> str:
    return f"{kind[0]}:{'+'.join(sorted(kind[1]))}" if isinstance(kind, tuple) else kind


def _loses_state(kind) -> bool:
    if isinstance(kind, tuple):
        return any(not h.startswith("registered-") for h in kind[1])
    return kind == "tensor"


def walk(net, ms, root, base_keys):
    found, instantiated = [], set()
    registered = {id(c) for _, c in net.cells_and_names()} | {id(p) for p in net.get_parameters()}
    for _, cell in net.cells_and_names():
        mro_here = [c for c in type(cell).__mro__ if _where(c, root)]
        for c in mro_here:
            w = _where(c, root)
            instantiated.add((w["file"], w["cls"]))
        for k, v in vars(cell).items():
            if k in base_keys or k.startswith("__"):
                continue
            kind = _classify(v, ms, registered)
            if not _loses_state(kind):
                continue
            owner = next((c for c in mro_here if k in _assigned_attrs(c)), None)
            w = _where(owner if owner is not None else type(cell), root)
            if w is None:
                continue
            found.append({**w, "attr": k, "kind": _label(kind), "id": id(cell)})
    return found, sorted(instantiated)


def _input_size(name: str) -> tuple:
    """The model's own input size (mindcv's pretrained configuration), else 3x224x224."""
    from mindcv.models import registry

    try:
        size = (registry.get_pretrained_cfg(name) or {}).get("input_size")
    except Exception:  # noqa: BLE001
        size = None
    return tuple(size) if size else (3, 224, 224)


def build_one(name, ms, root, base_keys):
    import mindcv
    import numpy as np

    t0 = time.time()
    net = mindcv.create_model(name, pretrained=False)
    found, instantiated = walk(net, ms, root, base_keys)
    cells = {id(c): c for _, c in net.cells_and_names()}
    before = {}
    for r in found:
        if r["kind"] == "tensor":
            v = getattr(cells[r["id"]], r["attr"])
            before[(r["id"], r["attr"])] = v.asnumpy().copy() if v.size else None
    forward = "ok" if before else "not needed"  # only plain tensors can be judged updated or constant
    try:
        if not before:
            raise LookupError
        net.set_train(True)
        x = ms.Tensor(np.random.default_rng(0).standard_normal((2, *_input_size(name))).astype(np.float32))
        net(x)
        net(x)
    except LookupError:
        pass
    except Exception as e:  # noqa: BLE001 - a model whose forward cannot run here is recorded as such
        forward = f"forward failed: {type(e).__name__}"
    for r in found:
        key = (r.pop("id"), r["attr"])
        if key in before and forward == "ok":
            v = getattr(cells[key[0]], r["attr"])
            now = v.asnumpy() if isinstance(v, ms.Tensor) and v.size else None
            old = before[key]
            r["updated"] = not (old is None and now is None) and (
                old is None or now is None or old.shape != now.shape or not np.array_equal(old, now)
            )
    return {"model": name, "ok": True, "seconds": round(time.time() - t0, 2), "forward": forward,
            "found": found, "instantiated": instantiated}


def worker() -> None:
    results = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import mindspore as ms

    ms.set_context(mode=ms.PYNATIVE_MODE)
    ms.set_seed(0)
    import mindcv

    root = os.path.dirname(os.path.abspath(mindcv.__file__))
    base_keys = set(vars(ms.nn.Cell()).keys())
    for line in sys.stdin:
        name = line.strip()
        try:
            out = build_one(name, ms, root, base_keys)
        except BaseException as e:  # noqa: BLE001
            msg = str(e).splitlines()[0][:200] if str(e) else ""
            out = {"model": name, "ok": False, "error": f"{type(e).__name__}: {msg}"}
        results.write(json.dumps(out) + "\n")
        results.flush()


_SMALL = ("xx_small", "x_small", "tiny", "mini", "small", "_ti", "025", "035", "050", "200mf", "a0", "b0", "_9", "18", "s12", "09",
          "x0_5", "_9", "1_1", "lite", "_s", "_m")


def one_per_module(names: list[str]) -> list[str]:
    """A model of each mindcv model module (its family), preferring names that say small (``_tiny``, ``_050``, ``18``)."""
    from mindcv.models import registry

    by: dict[str, list[str]] = {}
    for n in names:
        by.setdefault(registry._model_to_module.get(n, n), []).append(n)

    def rank(n: str) -> tuple:
        hit = next((i for i, k in enumerate(_SMALL) if k in n), len(_SMALL))
        return (hit, len(n), n)

    return sorted(min(ns, key=rank) for ns in by.values())


def cell_classes(root: str) -> list[list[str]]:
    """Every class of a mindcv module that is an nn.Cell subclass (file, qualname)."""
    import importlib
    import pkgutil

    import mindspore as ms
    import mindcv

    out = set()
    for info in pkgutil.walk_packages(mindcv.__path__, "mindcv."):
        try:
            mod = importlib.import_module(info.name)
        except Exception:  # noqa: BLE001
            continue
        for obj in vars(mod).values():
            if isinstance(obj, type) and obj.__module__ == info.name and issubclass(obj, ms.nn.Cell):
                w = _where(obj, root)
                if w:
                    out.add((w["file"], w["cls"]))
    return sorted(out)


def main() -> int:
    import argparse
    import re

    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--only")
    ap.add_argument("--per-module", action="store_true", help="one model per mindcv model module, the smallest by name")
    ap.add_argument("--worker", action="store_true")
    args = ap.parse_args()
    if args.worker:
        worker()
        return 0
    import mindcv
    import mindspore as ms

    root = os.path.dirname(os.path.abspath(mindcv.__file__))
    names = mindcv.list_models()
    if args.per_module:
        names = one_per_module(names)
    if args.only:
        names = [n for n in names if re.search(args.only, n)]
    if args.limit:
        names = names[: args.limit]
    t_start = time.time()

    def spawn():
        return subprocess.Popen([sys.executable, __file__, "-", "--worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, bufsize=1)

    results = []
    proc = spawn()
    for i, name in enumerate(names, 1):
        proc.stdin.write(name + "\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], args.timeout)
        line = proc.stdout.readline() if ready else ""
        try:
            res = json.loads(line) if line else None
        except ValueError:
            res = None
        if res is None:
            proc.kill()
            proc.wait()
            res = {"model": name, "ok": False, "error": "timeout" if not ready else "worker died"}
            proc = spawn()
        results.append(res)
        if i % 25 == 0:
            print(f"[ms-oracle] {i}/{len(names)} models, {time.time() - t_start:.0f}s", file=sys.stderr, flush=True)
    proc.stdin.close()
    proc.wait()
    data = {
        "library": "mindcv",
        "versions": {"mindcv": mindcv.__version__, "mindspore": ms.__version__},
        "root": root,
        "models": results,
        "cell_classes": cell_classes(root),
    }
    with open(args.out, "w") as f:
        json.dump(data, f)
    ok = sum(r["ok"] for r in results)
    print(f"[ms-oracle] built {ok}/{len(results)} models in {time.time() - t_start:.0f}s -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
