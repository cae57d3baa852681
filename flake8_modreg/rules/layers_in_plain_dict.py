from __future__ import annotations

from ..findings import Applicability
from ..model import FileModel, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._containers import plain_containers, wrap_fix


class LayersInPlainDict(Rule):
    """
    ## What it does
    Finds sub-modules of a torch `nn.Module` or MindSpore `nn.Cell` kept in a
    plain `dict` attribute: a dict display or comprehension, `dict(...)`,
    `OrderedDict(...)`, or an empty dict filled with `self.d[key] = Layer()`.

    ## Why is this bad?
    A plain dict hides its layers from registration, exactly like a plain
    list: their weights are not in `.parameters()` (never trained), not in
    `state_dict()` (not saved), and `.to(device)`/`.eval()` skip them, with no
    error anywhere.

    Not reported: a dict (or list) whose only reads hand it to the
    constructors of sub-modules in `__init__` (`self.vsn =
    Selector(prescalers=self.prescalers)`): its layers reach the model only
    through those sub-modules, which keep (register, or are reported for)
    the ones they use; a layer no sub-module takes is never run. Nor a
    container read only by the methods that build the module (`__init__`
    and the methods only it calls) and by nothing else in the file. Nor a dict read only as keyword arguments, `Block(**self.kw)`
    (configuration: a layer in it reaches the model through the callee,
    which registers it as its own attribute, and `.to()` converts that same
    object), and a dict whose modules are all stateless, mode-free torch
    layers (`nn.ReLU()`, `nn.Identity()`, pooling, padding, losses built
    without a class-weight tensor such as `nn.MSELoss()` or
    `nn.CrossEntropyLoss()`: nothing to save, convert or switch; a
    `nn.CrossEntropyLoss(weight=w)` holds a buffer and is reported). Runtime
    truth: `tests/test_runtime_stateless.py`.

    MindSpore runtime truth: `tests/test_mindspore_fix_truth.py` builds the
    MindSpore example before and after the fix (no parameters in a plain
    dict; all of them in `nn.CellDict`), and checks `CellDict`'s reserved
    keys.

    ## Example
    ```python
    class Heads(nn.Module):
        def __init__(self, tasks):
            super().__init__()
            self.heads = {t: nn.Linear(16, 1) for t in tasks}
    ```

    ## Use instead
    ```python
    class Heads(nn.Module):
        def __init__(self, tasks):
            super().__init__()
            self.heads = nn.ModuleDict({t: nn.Linear(16, 1) for t in tasks})
    ```
    MindSpore: `nn.CellDict` (present in MindSpore 2.10, checked against the
    installed package; older releases lack it: there, register each cell with
    `self.insert_child_to_cell(key, cell)` or use `nn.CellList`).

    ## Fix safety
    The fix wraps the value of a single-target `self.x = <dict>` statement:
    `{...}`, a dict comprehension, `dict(...)` or `OrderedDict(...)` becomes
    `nn.ModuleDict(...)`, and an empty `{}` filled with `self.x[key] = layer`
    becomes `nn.ModuleDict()` (which supports item assignment). MindSpore:
    `nn.CellDict`. The wrapper is spelled with the file's alias, or an
    import is added as for MRG101.

    The fix is **unsafe** (applied only with `--unsafe-fixes`): the layers'
    weights gain `state_dict()` keys, so checkpoints saved before the fix no
    longer load with `load_state_dict(strict=True)`, and optimizers built
    from `parameters()` see a different list. `nn.ModuleDict` is not a
    `dict`: it has no `get`, `setdefault`, `copy`, `popitem` or `fromkeys`,
    and it refuses keys that are not strings, contain `.`, or name one of its
    attributes (`"train"`, `"keys"`, `"forward"`, ...) with a `KeyError`.
    No fix is offered when a literal key is such a key, a missing method is
    called on the attribute, or the statement is not a plain `self.x = ...`;
    keys computed at run time (`{t: ... for t in tasks}`) cannot be checked.
    Nor in subclasses of `nn.Sequential`/`nn.ModuleList`/`nn.SequentialCell`
    and the like (a new child becomes a step of their `forward`), or when a
    base class is defined in another file (it might be one of those).

    ## References
    - [torch.nn.ModuleDict](https://pytorch.org/docs/stable/generated/torch.nn.ModuleDict.html)
    - [mindspore.nn.CellDict](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.CellDict.html)
    """

    code = "MRG102"
    name = "layers-in-plain-dict"
    summary = "Layers kept in a plain `dict` attribute"
    message = "sub-modules in plain dict 'self.{attr}' are not registered"
    fix_hint = "wrap it in {wrapper}(...)"
    fix_safety = Applicability.UNSAFE
    fix_summary = "wrap it in `nn.ModuleDict(...)` (MindSpore: `nn.CellDict`)"

    invalid = (
        Invalid(
            """
            import torch.nn as nn

            class Heads(nn.Module):
                def __init__(self, tasks=("cls", "box")):
                    super().__init__()
                    self.heads = {t: nn.Linear(16, 1) for t in tasks}

                def forward(self, x):
                    return {t: h(x) for t, h in self.heads.items()}
            """,
            at=[(6, 8)],
            title="a dict comprehension",
            fixed="""
            import torch.nn as nn

            class Heads(nn.Module):
                def __init__(self, tasks=("cls", "box")):
                    super().__init__()
                    self.heads = nn.ModuleDict({t: nn.Linear(16, 1) for t in tasks})

                def forward(self, x):
                    return {t: h(x) for t, h in self.heads.items()}
            """,
            probe=Probe(
                cls="Heads",
                attr="heads",
                twin="""
                import torch.nn as nn

                class Heads(nn.Module):
                    def __init__(self, tasks=("cls", "box")):
                        super().__init__()
                        self.heads = nn.ModuleDict({t: nn.Linear(16, 1) for t in tasks})

                    def forward(self, x):
                        return {t: h(x) for t, h in self.heads.items()}
                """,
            ),
        ),
        Invalid(
            """
            from collections import OrderedDict
            import torch

            class Encoder(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.stages = {}
                    self.stages["stem"] = torch.nn.Conv2d(3, 8, 3)
                    self.stages["head"] = torch.nn.Conv2d(8, 8, 3)
                    self.norms = OrderedDict(a=torch.nn.LayerNorm(8))

                def forward(self, x):
                    return self.stages["head"](self.stages["stem"](x))
            """,
            at=[(7, 8), (10, 8)],
            title="an empty dict filled by key, and an OrderedDict",
            fixed="""
            from collections import OrderedDict
            import torch

            class Encoder(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.stages = torch.nn.ModuleDict()
                    self.stages["stem"] = torch.nn.Conv2d(3, 8, 3)
                    self.stages["head"] = torch.nn.Conv2d(8, 8, 3)
                    self.norms = torch.nn.ModuleDict(OrderedDict(a=torch.nn.LayerNorm(8)))

                def forward(self, x):
                    return self.stages["head"](self.stages["stem"](x))
            """,
            probe=Probe(
                cls="Encoder",
                attr="stages",
                twin="""
                import torch

                class Encoder(torch.nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.stages = torch.nn.ModuleDict()
                        self.stages["stem"] = torch.nn.Conv2d(3, 8, 3)
                        self.stages["head"] = torch.nn.Conv2d(8, 8, 3)

                    def forward(self, x):
                        return self.stages["head"](self.stages["stem"](x))
                """,
            ),
        ),
        Invalid(
            """
            import torch.nn as nn

            class Heads(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.modes = {"train": nn.Linear(4, 1), "eval": nn.Linear(4, 1)}
                    self.experts = {0: nn.Linear(4, 4), 1: nn.Linear(4, 4)}
                    self.named = {"a": nn.Linear(4, 4)}

                def forward(self, x, mode="train"):
                    return self.modes[mode](self.experts[0](x)) + self.named.get("a")(x)
            """,
            at=[(6, 8), (7, 8), (8, 8)],
            title="no fix: ModuleDict would refuse the keys, or lacks dict.get",
            fixed=None,
        ),
        Invalid(
            """
            import mindspore.nn as nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.experts = dict(a=nn.Dense(4, 4), b=nn.Dense(4, 4))

                def construct(self, x):
                    return self.experts["a"](x) + self.experts["b"](x)
            """,
            at=[(6, 8)],
            title="MindSpore: the hint is nn.CellDict",
            fixed="""
            import mindspore.nn as nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.experts = nn.CellDict(dict(a=nn.Dense(4, 4), b=nn.Dense(4, 4)))

                def construct(self, x):
                    return self.experts["a"](x) + self.experts["b"](x)
            """,
        ),
        Invalid(
            """
            import torch.nn as nn

            class Selector(nn.Module):
                def __init__(self, names, prescalers):
                    super().__init__()
                    self.prescalers = nn.ModuleDict({n: prescalers[n] for n in names})

                def forward(self, xs):
                    return sum(self.prescalers[n](x) for n, x in xs.items())

            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.prescalers = {n: nn.Linear(1, 4) for n in ("a", "b")}
                    self.enc = Selector(["a"], prescalers=self.prescalers)

                def forward(self, xs):
                    return self.enc({"a": xs["a"]}) + self.prescalers["b"](xs["b"])
            """,
            at=[(14, 8)],
            title="also run by the class itself: the layer no sub-module took is lost",
            fixed="""
            import torch.nn as nn

            class Selector(nn.Module):
                def __init__(self, names, prescalers):
                    super().__init__()
                    self.prescalers = nn.ModuleDict({n: prescalers[n] for n in names})

                def forward(self, xs):
                    return sum(self.prescalers[n](x) for n, x in xs.items())

            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.prescalers = nn.ModuleDict({n: nn.Linear(1, 4) for n in ("a", "b")})
                    self.enc = Selector(["a"], prescalers=self.prescalers)

                def forward(self, xs):
                    return self.enc({"a": xs["a"]}) + self.prescalers["b"](xs["b"])
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn

            class Block(nn.Module):
                def __init__(self, dim, act=None, k=3):
                    super().__init__()
                    self.proj = nn.Conv1d(dim, dim, k, padding=k // 2)
                    self.act = act if act is not None else nn.Identity()

                def forward(self, x):
                    return self.act(self.proj(x))

            class Stack(nn.Module):
                def __init__(self, dim=4, act=None):
                    super().__init__()
                    self.kw = dict(act=act or nn.SiLU(), k=3)
                    self.blocks = nn.Sequential(Block(dim, **self.kw), Block(dim, **self.kw))
                    self.acts = {"pre": nn.ReLU(), "post": nn.Identity()}

                def forward(self, x):
                    return self.acts["post"](self.blocks(self.acts["pre"](x)))
            """,
            why="a dict read only as **keyword arguments, and a dict of stateless layers",
        ),
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.encoder = nn.Linear(4, 4)
                    self.by_name = {"encoder": self.encoder}
                    self.sizes = {"in": 4, "out": 4}
                    self.heads = nn.ModuleDict({"a": nn.Linear(4, 1)})
                    self.cache = {}

                def forward(self, x):
                    return self.heads["a"](self.by_name["encoder"](x))
            """,
            why="aliases of registered attributes, plain data, a ModuleDict and an empty cache dict",
        ),
        Valid(
            """
            import torch.nn as nn

            class Selector(nn.Module):
                def __init__(self, names, prescalers):
                    super().__init__()
                    self.prescalers = nn.ModuleDict({n: prescalers[n] for n in names})

                def forward(self, xs):
                    return sum(self.prescalers[n](x) for n, x in xs.items())

            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.prescalers = {n: nn.Linear(1, 4) for n in ("a", "b")}
                    self.enc = Selector(["a"], prescalers=self.prescalers)
                    self.dec = Selector(["b"], prescalers=self.prescalers)

                def forward(self, xs):
                    return self.enc({"a": xs["a"]}) + self.dec({"b": xs["b"]})
            """,
            why="handed only to sub-module constructors, which register the layers they use",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for pc in plain_containers(model):
            if pc.kind.tag is Tag.DICT and pc.kind.holds(Tag.LAYER):
                qual = "mindspore.nn.CellDict" if pc.cls.framework == "mindspore" else "torch.nn.ModuleDict"
                report(pc.assign.node, fix=wrap_fix(model, pc, qual), attr=pc.assign.attr, wrapper=model.alias(qual))
