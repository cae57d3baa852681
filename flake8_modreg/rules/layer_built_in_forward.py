from __future__ import annotations

import libcst as cst

from .. import known
from ..model import ClassFacts, FileModel, MethodFacts, Scope, Tag, _walk_expr, dotted_name, scope_free
from ._base import Invalid, Reporter, Rule, Valid
from ._entry import ENTRY
from .missing_super_init import STATE_CALLS

_BARE = {known.TORCH_MODULE, known.MINDSPORE_CELL}
_WHERE = {"torch": "parameters() and state_dict()", "mindspore": "get_parameters() and checkpoints"}
_FUNCTIONAL = {"torch": " (or use torch.nn.functional)", "mindspore": " (or use mindspore.ops)"}


def _literal(value: cst.BaseExpression) -> bool | None:
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return value.value == "True"
    return None


def _switched(state: bool, switches: list[list[str]], call: cst.Call) -> bool | None:
    """The state of this particular call, given the flags it passes (None: cannot tell)."""
    if not switches:
        return state
    if any(a.star for a in call.args) or sum(a.keyword is None for a in call.args) >= 3:
        return None  # flags may be passed positionally or through **kwargs
    kw = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    if state:  # stateful unless every flag of some switch is False
        unsure = False
        for sw in switches:
            values = [_literal(kw[n]) if n in kw else True for n in sw]
            if all(v is False for v in values):
                return False
            if all(v is not True for v in values):
                unsure = True
        return None if unsure else True
    values = [_literal(kw[n]) for sw in switches for n in sw if n in kw]
    if True in values:
        return True
    return None if any(v is None for v in values) else False


def call_state(model: FileModel, call: cst.Call, scope: Scope | None, depth: int = 0) -> bool | None:
    """Does this call build a layer holding parameters or buffers? None: not a layer, or cannot tell."""
    func = call.func
    q = model.qualify(func)
    if q is not None:
        if not known.framework_of_class(q):
            return None
        state, switches = known.layer_state(q)
        return None if state is None else _switched(state, switches, call)
    if isinstance(func, cst.Name) and func.value not in model.imports and scope_free(func.value, scope):
        local = model.class_named(func.value)
        if local is not None and local.framework:
            return class_state(model, local, depth + 1)
    return None


def class_state(model: FileModel, cls: ClassFacts, depth: int = 0) -> bool | None:
    """Does an instance of this Module/Cell class of the file hold parameters or buffers?"""
    if depth > 6:
        return None
    seen: set[bool | None] = set()
    for c in (cls, *cls.ancestors()):
        if c.unknown_bases:
            seen.add(None)
        for b in c.framework_bases:
            if b not in _BARE:
                seen.add(known.layer_state(b)[0])
        for a in c.self_assigns:
            tag = model.kind_of(a.value, a.scope, a.order).tag
            if tag in (Tag.PARAMETER, Tag.BUFFER):
                seen.add(True)
            elif tag is Tag.LAYER:
                seen.add(call_state(model, a.value, a.scope, depth) if isinstance(a.value, cst.Call) else None)
            elif tag is Tag.REGISTERED:
                seen.add(None)
        for m in c.mutations:
            if model.kind_of(m.value, m.scope, m.order).tag in (Tag.LAYER, Tag.PARAMETER, Tag.LIST):
                seen.add(None)
        for sc in c.self_calls:
            if sc.name in ("register_buffer", "register_parameter", "insert_param_to_cell"):
                seen.add(True)
            elif sc.name in STATE_CALLS or sc.name == "setattr":
                seen.add(None)
        if True in seen:
            return True
    return None if None in seen else False


def _stored(model: FileModel, cls: ClassFacts, meth: MethodFacts) -> set[int]:
    """Calls of ``meth`` whose result is kept on ``self`` (lazy initialisation), by node id."""
    roots: list[cst.CSTNode] = [a.value for a in cls.self_assigns if a.method == meth.name]
    roots += [m.value for m in cls.mutations if m.method == meth.name]
    for c in cls.self_calls:
        if c.method == meth.name and (c.name in STATE_CALLS or c.name == "setattr"):
            roots += [a.value for a in c.node.args]
    for name in meth.scope.registered:
        b = model.value_binding(name, meth.scope)
        if b is not None:
            roots.append(b[0])
    for r in list(roots):
        if isinstance(r, cst.Name):
            b = model.value_binding(r.value, meth.scope)
            if b is not None:
                roots.append(b[0])
    return {id(n) for r in roots for n in _walk_expr(r) if isinstance(n, cst.Call)}


class LayerBuiltInForward(Rule):
    """
    ## What it does
    Finds a layer with weights -- a `torch.nn`/`mindspore.nn`/`mindspore.mint.nn`
    layer such as `nn.Linear`, `nn.Conv2d`, `nn.BatchNorm2d`, `nn.Dense`,
    `mint.nn.Linear`, or a Module/Cell
    class of the same file that holds parameters or buffers -- constructed
    inside `forward` (torch) or `construct` (MindSpore) and not stored on
    `self`.

    Which library layers hold state is data, generated from the real packages
    (torch 2.13, MindSpore 2.10) by `scripts/gen_known.py`: a minimal instance
    of each class is built and its parameters and buffers counted, together with
    the flags that switch them off (`nn.LayerNorm(d, elementwise_affine=False)`,
    `nn.InstanceNorm1d(c)` without `affine=True`). Stateless layers
    (`nn.ReLU()`, `nn.Softmax(dim=1)`, `nn.Flatten()`, pooling, padding, losses)
    built in `forward` lose nothing and are not reported; no opt-in code is
    offered for them, since `nn.ReLU()(x)` is only a style question.
    Containers (`nn.Sequential(...)`) are judged by their items. Layers stored
    on `self` (lazy initialisation, `self.head = nn.Linear(...)` under an
    `if`) or registered with `add_module` are not reported.

    ## Why is this bad?
    Each call builds a new layer with freshly initialised weights. They are
    used once and thrown away: the optimizer, created from `parameters()`
    before training, never sees them, so they are never trained; `state_dict()`
    does not save them, and every call of the model gives a different result
    for the same input. BatchNorm's running statistics restart on every call.

    MindSpore runtime truth:
    `tests/test_mindspore_truth.py::test_mrg403_dense_built_in_construct_is_fresh_and_unregistered`
    and
    `tests/test_mindspore_probes.py::test_mint_linear_built_in_construct_is_fresh_and_unregistered`
    (`nn.Dense` and `mint.nn.Linear` built in `construct`: two calls give
    different outputs, `get_parameters()` is empty).

    ## Example
    ```python
    class Net(nn.Module):
        def forward(self, x):
            head = nn.Linear(8, 2)
            return head(x)
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            return self.head(x)
    ```
    or, for an operation without weights, `torch.nn.functional` (`F.relu(x)`).

    ## Fix safety
    No automatic fix: moving the construction into `__init__` needs the sizes,
    which are often computed from the input in `forward`.

    ## References
    - [torch.nn.Module](https://pytorch.org/docs/stable/generated/torch.nn.Module.html)
    - [torch.nn.functional](https://pytorch.org/docs/stable/nn.functional.html)
    - [mindspore.nn.Cell](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    """

    code = "MRG403"
    name = "layer-built-in-forward"
    summary = "A layer with weights constructed inside `forward`/`construct`"
    message = "'{layer}(...)' built in {method}(): new untrained weights on every call"
    fix_hint = "build it once in __init__ and call it from {method}(){alt} (weights made here are missing from {where})"
    fix_summary = "build it once in `__init__` (or use the functional form)"

    invalid = (
        Invalid(
            """
            import torch.nn as nn
            import torch.nn.functional as F

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc1 = nn.Linear(4, 8)

                def forward(self, x):
                    x = F.relu(self.fc1(x))
                    head = nn.Linear(8, 2)
                    return head(x)
            """,
            at=[(11, 15)],
            title="a classifier head built per call",
        ),
        Invalid(
            """
            from torch import nn

            class Block(nn.Module):
                def __init__(self, dim):
                    super().__init__()
                    self.proj = nn.Linear(dim, dim)

                def forward(self, x):
                    return self.proj(x)

            class Net(nn.Module):
                def forward(self, x):
                    x = nn.BatchNorm1d(x.shape[1])(x)
                    x = nn.InstanceNorm1d(4, affine=True)(x)
                    x = nn.LayerNorm(x.shape[-1])(x)
                    return Block(x.shape[-1])(x)
            """,
            at=[(13, 12), (14, 12), (15, 12), (16, 15)],
            title="BatchNorm, InstanceNorm with affine=True, LayerNorm and a Module class of the file",
        ),
        Invalid(
            """
            from mindspore import nn

            class Net(nn.Cell):
                def construct(self, x):
                    dense = nn.Dense(4, 2)
                    return dense(x)
            """,
            at=[(5, 16)],
            title="MindSpore: a Dense built in construct",
        ),
        Invalid(
            """
            from mindspore import nn, mint

            class Head(nn.Cell):
                def construct(self, x):
                    x = mint.nn.ReLU()(x)
                    return mint.nn.Linear(4, 2)(x)
            """,
            at=[(6, 15)],
            title="MindSpore's mint.nn: the Linear is reported; a ReLU holds no state",
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from mylib import Adapter

            class Swish(nn.Module):
                def forward(self, x):
                    return x * torch.sigmoid(x)

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)
                    self.head = None

                def forward(self, x):
                    x = nn.ReLU()(self.fc(x))
                    x = nn.Softmax(dim=-1)(x)
                    x = nn.LayerNorm(4, elementwise_affine=False)(x)
                    x = nn.InstanceNorm1d(4)(x.unsqueeze(0)).squeeze(0)
                    x = nn.Sequential(nn.Tanh(), nn.Identity(), Swish())(x)
                    x = Adapter(4)(x)
                    if self.head is None:
                        self.head = nn.Linear(4, 2)
                    return F.softmax(self.head(x), dim=-1)

                def make_head(self):
                    return nn.Linear(4, 2)
            """,
            why="stateless layers, flags that switch the weights off, an unknown imported class, "
            "lazy initialisation on self, and a builder outside forward",
        ),
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.blocks = nn.ModuleList()

                def forward(self, x):
                    extra = nn.Linear(4, 4)
                    self.add_module("extra", extra)
                    self.blocks.append(nn.Linear(4, 4))
                    return self.extra(x)
            """,
            why="layers built in forward but registered on self (add_module, a ModuleList)",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        sites: dict[int, list] = {}
        for site in model.calls:
            if site.method is not None:
                sites.setdefault(id(site.method), []).append(site)
        for cls in model.modules:
            entry = ENTRY[cls.framework]
            meth = cls.methods.get(entry)
            if meth is None or id(meth) not in sites:
                continue
            stored = None
            for site in sites[id(meth)]:
                if call_state(model, site.node, site.scope) is not True:
                    continue
                if stored is None:
                    stored = _stored(model, cls, meth)
                if id(site.node) in stored:
                    continue
                q = model.qualify(site.node.func)
                fw = known.framework_of_class(q) if q else None
                report(
                    site.node,
                    layer=dotted_name(site.node.func) or "layer",
                    method=entry,
                    where=_WHERE[cls.framework],
                    alt=_FUNCTIONAL.get(fw or "", ""),
                )
