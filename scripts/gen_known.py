"""Regenerate ``flake8_modreg/_known_data.py`` from the installed frameworks.

Usage::

    python scripts/gen_known.py            # torch must be importable; mindspore optional

The name tables ship as data so that the checker never imports torch or
MindSpore.  Each framework section records the version it was read from.  A
framework that is not installed keeps the section already in the file.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import pathlib
import pkgutil
import pprint
import sys
import warnings

OUT = pathlib.Path(__file__).resolve().parent.parent / "flake8_modreg" / "_known_data.py"


def _public(mod) -> list[str]:
    return sorted(n for n in dir(mod) if not n.startswith("_"))


def _submodules(mod) -> list[str]:
    """Public submodule names of a package, imported or not (``torch.nn.attention``)."""
    found = {n for n in _public(mod) if inspect.ismodule(getattr(mod, n))}
    found |= {m.name for m in pkgutil.iter_modules(getattr(mod, "__path__", []) or []) if not m.name.startswith("_")}
    return sorted(found)


def _names(mod) -> list[str]:
    """What ``mod.<name>`` can reach: public attributes and submodules."""
    return sorted(set(_public(mod)) | set(_submodules(mod)))


#: Argument values tried, in order, for a layer's required parameters.
_TRIAL_ARGS = (2, (2,))


def _build(cls, extra: dict, make_child=None):
    """An instance of ``cls`` with its required arguments filled by small values, or None."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return None
    required = [
        p.name
        for p in sig.parameters.values()
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    candidates: list[tuple[tuple, dict]] = [((), dict.fromkeys(required, v)) for v in _TRIAL_ARGS]
    if make_child is not None and required:  # TransformerEncoder(encoder_layer, num_layers)
        candidates.append(((), {n: (make_child() if i == 0 else 2) for i, n in enumerate(required)}))
    candidates.append(((2, 2), {}))  # LSTM(*args, **kwargs): input_size, hidden_size
    for args, kwargs in candidates:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return cls(*args, **kwargs, **extra)
        except Exception:  # noqa: BLE001 - any failure means "try the next guess"
            continue
    return None


def _state_table(classes: dict, has_state, make_child=None) -> tuple[dict, dict]:
    """For each layer class: does a minimal instance hold parameters or buffers (None: could not build one)?

    Also the boolean switches that flip it: for a stateful layer, the smallest sets
    of ``True``-default flags that, all ``False``, leave it without state
    (``LayerNorm(elementwise_affine=False)``); for a stateless one, the
    ``False``-default flags that, ``True``, give it state (``InstanceNorm2d(affine=True)``).
    """
    stateful: dict = {}
    switches: dict = {}
    for name, cls in sorted(classes.items()):
        inst = _build(cls, {}, make_child)
        if inst is None:
            stateful[name] = None
            continue
        state = has_state(inst)
        stateful[name] = state
        try:
            params = inspect.signature(cls).parameters.values()
        except (TypeError, ValueError):
            continue
        flags = [p.name for p in params if p.default is state]
        found: list[list[str]] = []
        for size in (1, 2):
            for combo in itertools.combinations(flags, size):
                if any(set(f) <= set(combo) for f in found):
                    continue
                other = _build(cls, dict.fromkeys(combo, not state), make_child)
                if other is not None and has_state(other) != state:
                    found.append(list(combo))
        if found:
            switches[name] = found
    return stateful, switches


def torch_section() -> dict | None:
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return None
    nn = torch.nn
    modules = sorted(
        n for n in _public(nn) if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Module)
    )
    # containers and wrappers hold what they are given: their items are judged one by one
    containers = {"Module", "Container", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "DataParallel"}
    layers = {n: getattr(nn, n) for n in modules if n not in containers}
    stateful, switches = _state_table(
        layers,
        lambda m: any(True for _ in m.parameters()) or any(True for _ in m.buffers()),
        make_child=lambda: nn.TransformerEncoderLayer(2, 1),
    )
    return {
        "version": torch.__version__.split("+")[0],
        "nn_modules": modules,
        "nn_names": _public(nn),
        "functional_names": _public(nn.functional),
        "init_names": _public(nn.init),
        "torch_names": _public(torch),
        # what `torch.nn.<name>` / `torch.nn.functional.<name>` / ... can reach (MRG404)
        "attr_names": {
            "torch.nn": _names(nn),
            "torch.nn.functional": _names(nn.functional),
            "torch.nn.init": _names(nn.init),
            "torch.nn.parameter": _names(importlib.import_module("torch.nn.parameter")),
        },
        # a minimal instance holds parameters or buffers (None: not buildable from small ints) (MRG403)
        "nn_stateful": stateful,
        "nn_state_switches": switches,
    }


def _only_raises(fn) -> bool:
    """Is the body of ``fn`` (its docstring aside) a single ``raise``?"""
    import ast
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else []
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]
    return len(body) == 1 and isinstance(body[0], ast.Raise)


def _random_initializers(ms) -> list[str]:
    """``mindspore.common.initializer`` classes and aliases whose two draws differ (``Normal``, ``'xavier_uniform'``)."""
    import numpy as np

    init = importlib.import_module("mindspore.common.initializer")
    aliases = getattr(init, "_INITIALIZER_ALIAS", {})
    classes = {n: getattr(init, n) for n in _public(init) if inspect.isclass(getattr(init, n)) and issubclass(getattr(init, n), init.Initializer)}
    out = set()
    for name, cls in classes.items():
        draws = []
        for _ in range(2):
            try:
                draws.append(init.initializer(cls(), (4, 4, 3), ms.float32).init_data().asnumpy())
            except Exception:  # noqa: BLE001 - needs arguments or another shape: not judged
                break
        if len(draws) == 2 and not np.array_equal(draws[0], draws[1]):
            out.add(name)
    out |= {alias for alias, cls in aliases.items() if cls.__name__ in out}
    return sorted(out)


def mindspore_section() -> dict | None:
    try:
        ms = importlib.import_module("mindspore")
    except ImportError:
        return None
    nn = ms.nn
    cells = sorted(
        n for n in _public(nn) if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Cell)
    )
    optimizers = sorted(
        n for n in cells if issubclass(getattr(nn, n), nn.Optimizer) and n != "Optimizer"
    )
    containers = {"Cell", "CellList", "CellDict", "SequentialCell", "Optimizer"}
    layers = {n: getattr(nn, n) for n in cells if n not in containers and not issubclass(getattr(nn, n), nn.Optimizer)}

    def has_state(cell) -> bool:
        return any(True for _ in cell.get_parameters())

    stateful, switches = _state_table(layers, has_state)
    # mindspore.mint.nn: the torch-style layers (mint.nn.Linear, mint.nn.Conv2d), modelled like mindspore.nn
    mint = importlib.import_module("mindspore.mint")
    mint_nn = mint.nn
    mint_cells = sorted(
        n for n in _public(mint_nn) if inspect.isclass(getattr(mint_nn, n)) and issubclass(getattr(mint_nn, n), nn.Cell)
    )
    mint_stateful, mint_switches = _state_table({n: getattr(mint_nn, n) for n in mint_cells if n != "Cell"}, has_state)
    return {
        "version": ms.__version__,
        "attr_names": {
            "mindspore.nn": _names(nn),
            "mindspore.ops": _names(ms.ops),
            "mindspore.mint.nn": _names(mint_nn),
        },
        # Cells whose construct is Cell's own or only raises (Optimizer, LossBase, CellList): a subclass must define it
        "nn_construct_unimplemented": sorted(
            n for n in cells if getattr(nn, n).construct is nn.Cell.construct or _only_raises(getattr(nn, n).construct)
        ),
        # initializer names (classes and string aliases) whose values are random: two draws differ (MRG203)
        "random_initializers": _random_initializers(ms),
        "mint_nn_cells": mint_cells,
        "mint_nn_stateful": mint_stateful,
        "mint_nn_state_switches": mint_switches,
        "mint_names": _public(mint),
        "nn_stateful": stateful,
        "nn_state_switches": switches,
        "nn_cells": cells,
        "nn_optimizers": optimizers,
        "nn_names": _public(nn),
        "ops_names": _public(ms.ops),
        "mindspore_names": _public(ms),
    }


def main() -> int:
    namespace: dict = {}
    if OUT.exists():
        exec(OUT.read_text(encoding="utf-8"), namespace)
    torch = torch_section() or namespace.get("TORCH")
    mindspore = mindspore_section() or namespace.get("MINDSPORE")
    if torch is None:
        print("gen_known: torch is not installed and no previous data exists", file=sys.stderr)
        return 2
    text = (
        '"""Public names of torch and MindSpore, generated by scripts/gen_known.py. Do not edit."""\n\n'
        f"TORCH = {pprint.pformat(torch, width=110, compact=True)}\n\n"
        f"MINDSPORE = {pprint.pformat(mindspore, width=110, compact=True)}\n"
    )
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} (torch {torch['version']}, mindspore {mindspore and mindspore['version']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
