"""Runtime half of the oracle: runs INSIDE the oracle venv (torch, torchvision, timm), never imports flake8_modreg.

    <oracle-venv>/bin/python oracle_collect.py OUT.json [--library timm|transformers] [--limit N] [--timeout S] [--jobs J]

For every name in ``timm.list_models()`` a worker process builds the model
with ``pretrained=False`` (no hub access; with ``--library transformers``:
every model type of ``AutoModel``, from its default configuration, no weights), walks every sub-module instance and
records each instance attribute (``vars(m)``, nn.Module's own bookkeeping
excluded) whose value is a plain tensor (not a Parameter) or a list, tuple or
dict holding Modules, Parameters or tensors (at any depth), with the class
that assigns it (the most derived class in the MRO whose source assigns
``self.<attr>``).  Construction is bounded per model (``--timeout``; a worker
that overruns is killed and replaced, the model logged as a failure).
Models are built on the ``meta`` device first (no memory, no init cost),
on the CPU when that fails (code that reads values, ``.item()``).  On the CPU,
weight initialisers are replaced by no-ops while building: they only fill
values, never decide what is registered, and they dominate construction time.

Then, where it can run, one eval-mode forward on the default input size
(filling run-time caches) and ``.to(torch.float64)``; every attribute still
holding a floating tensor of another dtype is recorded as left behind
(``stale-tensor``/``stale-list``/``stale-dict``).

The output also lists every timm class that is an ``nn.Module`` (imported
from all timm submodules), and every timm class that had an instance.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import select
import subprocess
import sys
import textwrap
import threading
import time


def _noop_inits() -> None:
    import torch

    def keep(t, *a, **k):
        return t

    for name in ("normal_", "uniform_", "trunc_normal_", "orthogonal_", "kaiming_normal_", "kaiming_uniform_",
                 "xavier_normal_", "xavier_uniform_", "sparse_"):
        if hasattr(torch.nn.init, name):
            setattr(torch.nn.init, name, keep)
    torch.Tensor.normal_ = keep
    torch.Tensor.uniform_ = keep


_ASSIGNS: dict[type, set[str]] = {}
_REGISTERING = frozenset({"register_buffer", "register_parameter", "add_module", "register_module"})


def _assigned_attrs(cls: type) -> set[str]:
    """Attributes the class body's methods assign on their first parameter.

    ``self.x = ...``, ``self.x[k] = ...``, ``self.x += ...``, ``setattr(self, 'x', ...)`` and
    ``self.register_buffer('x', ...)`` (and the other registering calls) with a literal name.
    """
    if cls in _ASSIGNS:
        return _ASSIGNS[cls]
    out: set[str] = set()
    try:
        src = textwrap.dedent(inspect.getsource(cls))
        tree = ast.parse(src)
    except (OSError, TypeError, SyntaxError, IndentationError):
        _ASSIGNS[cls] = out
        return out
    top = tree.body[0] if tree.body and isinstance(tree.body[0], ast.ClassDef) else None
    if top is not None:
        for fn in top.body:
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or not fn.args.args:
                continue
            me = fn.args.args[0].arg
            for node in ast.walk(fn):
                targets = []
                if isinstance(node, ast.Assign):
                    targets = node.targets
                elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                    targets = [node.target]
                elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
                      and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) and node.args[0].id == me
                      and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
                    out.add(node.args[1].value)
                elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                      and node.func.attr in _REGISTERING and isinstance(node.func.value, ast.Name)
                      and node.func.value.id == me and node.args and isinstance(node.args[0], ast.Constant)
                      and isinstance(node.args[0].value, str)):
                    out.add(node.args[0].value)
                for t in targets:
                    for sub in ast.walk(t):
                        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == me:
                            out.add(sub.attr)
    _ASSIGNS[cls] = out
    return out


def _where(cls: type, root: str) -> dict | None:
    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        return None
    if not path or not os.path.abspath(path).startswith(root):
        return None
    return {"file": os.path.relpath(path, root), "cls": cls.__qualname__}


def _classify(v, torch, registered=frozenset(), depth=0):
    """'tensor' / 'grad-tensor' / ('list'|'dict', {'modules','parameters','tensors'}) / None.

    Inside a container, an element that is registered on the instance anyway
    (a sub-module, parameter or buffer reachable from it, e.g. also added with
    ``add_module``) counts as ``registered-modules``/``registered-parameters``/
    ``registered-tensors``: such containers lose nothing.  ``registered`` holds
    the ids of those objects.
    """
    if isinstance(v, torch.nn.Parameter):
        return "parameter"
    if isinstance(v, torch.Tensor):
        return "grad-tensor" if v.requires_grad else "tensor"
    if isinstance(v, torch.nn.Module):
        return "module"
    if depth > 3:
        return None
    if isinstance(v, (list, tuple, dict)):
        items = v.values() if isinstance(v, dict) else v
        held = set()
        for x in items:
            k = _classify(x, torch, registered, depth + 1)
            if k in ("module", "parameter", "tensor", "grad-tensor"):
                name = {"module": "modules", "parameter": "parameters"}.get(k, "tensors")
                held.add(f"registered-{name}" if id(x) in registered else name)
            elif isinstance(k, tuple):
                held |= set(k[1])
        if held:
            return ("dict" if isinstance(v, dict) else "list", held)
    return None


def _loses_state(kind) -> bool:
    """Does this classification hold state PyTorch does not track (not merely aliases of registered state)?"""
    if isinstance(kind, tuple):
        return any(not h.startswith("registered-") for h in kind[1])
    return kind in ("tensor", "grad-tensor")


def _label(kind, v) -> str:
    if isinstance(kind, tuple):
        return f"{kind[0]}:{'+'.join(sorted(kind[1]))}"
    if kind is not None:
        return kind
    return "none" if v is None else type(v).__name__


def library_names(library: str) -> list[str]:
    """What the oracle builds: timm's model names, or transformers' model types (``AutoModel``)."""
    if library == "timm":
        import timm

        return timm.list_models()
    from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES

    return sorted(MODEL_MAPPING_NAMES)


def _create(library: str, name: str):
    if library == "timm":
        import timm

        return timm.create_model(name, pretrained=False)
    from transformers import AutoModel
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    return AutoModel.from_config(CONFIG_MAPPING[name]())  # the default configuration; no weights


def build_one(name: str, root: str, base_keys: set[str], library: str = "timm") -> dict:
    import torch

    t0 = time.time()
    device = "meta"
    try:  # no memory, no init cost; code that needs real values (``.item()``) fails there: then on the CPU
        with torch.device("meta"):
            model = _create(library, name)
    except Exception:  # noqa: BLE001
        if library != "timm":  # transformers' default configurations are full size: no CPU fallback
            raise
        device = "cpu"
        model = _create(library, name)
    out = walk(model, root, base_keys)
    if library == "timm":  # transformers' inputs differ per model (text, vision, audio): construction only
        out["forward"] = forward_then_convert(model, device)
        if out["forward"] == "ok":
            out["stale"] = stale(model, root)
    del model
    return {"model": name, "ok": True, "seconds": round(time.time() - t0, 2), "device": device, **out}


def forward_then_convert(model, device: str) -> str:
    """One eval-mode forward on the model's default input size, then ``.to(torch.float64)``.

    The forward fills run-time caches; the conversion is what ``.to()``/``.half()``
    do.  Returns "ok" or why it could not run.
    """
    import torch

    size = (getattr(model, "pretrained_cfg", None) or {}).get("input_size") or (3, 224, 224)
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *size, device=device))
    except Exception as e:  # noqa: BLE001 - data-dependent code cannot run on meta
        return f"forward failed: {type(e).__name__}"
    try:
        model.to(torch.float64)
    except Exception as e:  # noqa: BLE001
        return f"to(float64) failed: {type(e).__name__}"
    return "ok"


def _floats_left_behind(v, torch, depth=0) -> bool:
    if isinstance(v, torch.Tensor) and not isinstance(v, torch.nn.Parameter):
        return v.is_floating_point() and v.dtype != torch.float64
    if depth > 3 or not isinstance(v, (list, tuple, dict)):
        return False
    return any(_floats_left_behind(x, torch, depth + 1) for x in (v.values() if isinstance(v, dict) else v))


def stale(model, root: str) -> list[dict]:
    """Instance attributes that still hold floating tensors that are not float64 after ``.to(torch.float64)``."""
    import torch

    out = []
    for m in model.modules():
        mro_here = [c for c in type(m).__mro__ if _where(c, root)]
        for k, v in vars(m).items():
            if k.startswith("_") and k in ("_parameters", "_buffers", "_modules"):
                continue
            if not _floats_left_behind(v, torch):
                continue
            owner = next((c for c in mro_here if k in _assigned_attrs(c)), None)
            w = _where(owner if owner is not None else type(m), root)
            if w is not None:
                shape = "dict" if isinstance(v, dict) else "list" if isinstance(v, (list, tuple)) else "tensor"
                out.append({**w, "attr": k, "kind": f"stale-{shape}"})
    return out


def walk(model, root: str, base_keys: set[str]) -> dict:
    """The oracle's records for one built model (classes outside ``root`` are not attributed)."""
    import torch

    found = []
    instantiated = set()
    seen = set()  # (file, cls, attr, what the value was): every attribute of every instance
    for m in model.modules():
        mro_here = [c for c in type(m).__mro__ if _where(c, root)]
        for c in mro_here:
            w = _where(c, root)
            instantiated.add((w["file"], w["cls"]))
        for reg, kind in (("_parameters", "parameter"), ("_buffers", "buffer"), ("_modules", "module")):
            for k, v in getattr(m, reg, {}).items():
                owner = next((c for c in mro_here if k in _assigned_attrs(c)), None)
                w = _where(owner if owner is not None else type(m), root)
                if w and v is not None:
                    seen.add((w["file"], w["cls"], k, kind))
        registered = None
        for k, v in vars(m).items():
            if k in base_keys or k.startswith("__"):
                continue
            if registered is None and isinstance(v, (list, tuple, dict)):
                registered = {id(x) for x in (*m.modules(), *m.parameters(), *m.buffers())} - {id(m)}
            kind = _classify(v, torch, registered or frozenset())
            owner = next((c for c in mro_here if k in _assigned_attrs(c)), None)
            w = _where(owner if owner is not None else type(m), root)
            if w is None:  # a class of torch itself (LSTM._flat_weights): not the library's code
                continue
            seen.add((w["file"], w["cls"], k, _label(kind, v)))
            if _loses_state(kind):
                found.append({**w, "attr": k, "kind": _label(kind, v), "owner_found": owner is not None})
    return {"found": found, "instantiated": sorted(instantiated), "seen": sorted(seen)}


def _root(library: str) -> str:
    import importlib

    return os.path.dirname(os.path.abspath(importlib.import_module(library).__file__))


def worker(library: str = "timm") -> None:
    # Results go to the original stdout; whatever model code prints goes to stderr instead.
    results = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import torch

    _noop_inits()
    torch.set_num_threads(1)
    root = _root(library)
    base_keys = set(vars(torch.nn.Module()).keys())
    for line in sys.stdin:
        name = line.strip()
        try:
            out = build_one(name, root, base_keys, library)
        except BaseException as e:  # noqa: BLE001 - a model that fails to build is logged, not fatal
            out = {"model": name, "ok": False, "error": f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"}
        results.write(json.dumps(out) + "\n")
        results.flush()


def module_classes(root: str, library: str = "timm") -> list[list[str]]:
    """Every class defined in a module of the library that is an nn.Module subclass (file, qualname)."""
    import importlib
    import pkgutil

    import torch

    pkg = importlib.import_module(library)
    out = set()
    for info in pkgutil.walk_packages(pkg.__path__, library + "."):
        try:
            mod = importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - optional dependencies
            continue
        for obj in vars(mod).values():
            if isinstance(obj, type) and obj.__module__ == info.name and issubclass(obj, torch.nn.Module):
                w = _where(obj, root)
                if w:
                    out.add((w["file"], w["cls"]))
    return sorted(out)


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--library", choices=("timm", "transformers"), default="timm")
    ap.add_argument("--only", help="a regular expression: build only the model names it matches")
    args = ap.parse_args()
    if args.worker:
        worker(args.library)
        return 0
    import importlib

    lib = importlib.import_module(args.library)
    root = _root(args.library)
    names = library_names(args.library)
    if args.only:
        import re

        names = [n for n in names if re.search(args.only, n)]
    if args.limit:
        names = names[: args.limit]
    todo = list(reversed(names))
    results: list[dict] = []
    lock = threading.Lock()
    t_start = time.time()

    def spawn():
        return subprocess.Popen([sys.executable, __file__, "-", "--worker", "--library", args.library], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def run_jobs():
        proc = spawn()
        while True:
            with lock:
                if not todo:
                    break
                name = todo.pop()
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
                why = "timeout" if not ready else "worker died" if not line else "unreadable worker output"
                res = {"model": name, "ok": False, "error": why}
                proc = spawn()
            with lock:
                results.append(res)
                n = len(results)
            if n % 50 == 0:
                print(f"[oracle] {n}/{len(names)} models, {time.time() - t_start:.0f}s", file=sys.stderr, flush=True)
        proc.stdin.close()
        proc.wait()

    threads = [threading.Thread(target=run_jobs) for _ in range(max(1, args.jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    import torch
    import torchvision

    data = {
        "library": args.library,
        "versions": {args.library: lib.__version__, "torch": torch.__version__, "torchvision": torchvision.__version__},
        "root": root,
        "models": sorted(results, key=lambda r: r["model"]),
        "module_classes": module_classes(root, args.library),
    }
    with open(args.out, "w") as f:
        json.dump(data, f)
    ok = sum(r["ok"] for r in results)
    print(f"[oracle] built {ok}/{len(results)} models in {time.time() - t_start:.0f}s -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
