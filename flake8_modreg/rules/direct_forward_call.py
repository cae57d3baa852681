from __future__ import annotations

import libcst as cst

from .. import known
from ..findings import Applicability, Fix
from ..model import CallSite, ClassFacts, FileModel, Tag
from ..resolver import CALLS_OWN
from ..uses import use_index, walk_nodes
from ._base import Invalid, Reporter, Rule, Valid
from ._containers import container_items
from ._entry import ENTRY

_SEQUENTIAL = frozenset({"torch.nn.Sequential", "mindspore.nn.SequentialCell"})
_LISTS = frozenset({"torch.nn.ModuleList", "mindspore.nn.CellList"}) | _SEQUENTIAL
_DICTS = frozenset({"torch.nn.ModuleDict", "mindspore.nn.CellDict"})


def _self_attr(node: cst.BaseExpression, self_names: frozenset[str]) -> str | None:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value in self_names:
        return node.attr.value
    return None


class _Attrs:
    """What the class's ``self.<attr>`` assignments (here and in same-file bases) hold."""

    def __init__(self, model: FileModel, cls: ClassFacts) -> None:
        self.model, self.cls = model, cls

    def _values(self, attr: str):
        for c in (self.cls, *self.cls.ancestors()):
            for a in c.self_assigns:
                if a.attr == attr:
                    q = self.model.qualify(a.value.func) if isinstance(a.value, cst.Call) else None
                    yield q, self.model.kind_of(a.value, a.scope, a.order)

    def module(self, attr: str) -> bool:
        if self.interface(attr):
            return False
        return any(k.tag is Tag.LAYER or q in _SEQUENTIAL for q, k in self._values(attr))

    def interface(self, attr: str) -> bool:
        """Is ``self.<attr>`` annotated with a ``@torch.jit.interface`` class of this file?

        TorchScript calls an interface-typed module only through its declared
        methods: ``self.<attr>.forward(x)`` is the documented idiom there.
        """
        for c in (self.cls, *self.cls.ancestors()):
            annotations = [
                s.body[0].annotation.annotation for s in c.node.body.body
                if isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.AnnAssign)
                and isinstance(s.body[0].target, cst.Name) and s.body[0].target.value == attr
            ]
            annotations += [a.node.annotation.annotation for a in c.self_assigns if a.attr == attr and isinstance(a.node, cst.AnnAssign)]
            if any(_is_interface(self.model, ann) for ann in annotations):
                return True
        return False


    def classes(self, attr: str, elements: bool) -> set[str] | None:
        """Qualified classes of what ``self.<attr>`` holds (or, with ``elements``, of its items); None: unknown."""
        out: set[str] = set()
        for c in (self.cls, *self.cls.ancestors()):
            for a in c.self_assigns:
                if a.attr != attr:
                    continue
                exprs = [a.value]
                if elements:
                    v = a.value
                    if isinstance(v, cst.Call) and v.args and (self.model.qualify(v.func) or "") in _LISTS | _DICTS:
                        v = v.args[0].value  # nn.ModuleList([...]): its items
                    if not isinstance(v, (cst.List, cst.Tuple, cst.ListComp, cst.GeneratorExp)):
                        return None  # a sequence display or comprehension only
                    exprs = container_items(v)
                    if exprs is None:
                        return None
                for e in exprs:
                    q = self.model.qualify(e.func) if isinstance(e, cst.Call) else None
                    if q is None and isinstance(e, cst.Call) and isinstance(e.func, cst.Name) and \
                            self.model.class_named(e.func.value) is not None:
                        q = e.func.value  # a class of this file
                    if q is None:
                        return None
                    out.add(q)
        return out or None

    def elements(self, attr: str, how: str) -> bool:
        """Are the elements reached by ``how`` ("iter", "values", "item") sub-modules?"""
        for q, k in self._values(attr):
            if how in ("iter", "item") and (q in _LISTS or (k.tag is Tag.LIST and k.holds(Tag.LAYER))):
                return True
            if how in ("values", "item") and (q in _DICTS or (k.tag is Tag.DICT and k.holds(Tag.LAYER))):
                return True
        return False


def _own_call_protocol(model: FileModel, site: CallSite, recv: cst.BaseExpression, attrs: _Attrs) -> bool:
    """The sub-module's class (or a base, in this file or another) defines its own ``__call__``.

    Such a class replaces ``Module.__call__``: no hooks run either way, and
    ``.forward`` is its library's way to get the raw result (calling it may
    post-process or wrap the output differently), so the fix would change what
    the code computes.
    """
    selves = frozenset({site.method.self_name})
    attr = _self_attr(recv, selves)
    classes = None
    if attr is not None:
        classes = attrs.classes(attr, elements=False)
    elif isinstance(recv, cst.Subscript) and _self_attr(recv.value, selves) is not None:
        classes = attrs.classes(_self_attr(recv.value, selves), elements=True)
    if not classes:
        return False
    return all(_defines_call(model, q) for q in classes)


def _no_framework_call(q: str) -> bool:
    """Framework classes keep ``Module.__call__``/``Cell.__call__``: hooks run, so they never count."""
    return False


def _defines_call(model: FileModel, q: str) -> bool:
    """Does class ``q`` (a class of this file, or a qualified name) or a base certainly define ``__call__``?"""
    local = model.class_named(q) if "." not in q else None
    if local is not None:
        chain = (local, *local.ancestors())
        if any(not _calls_super(c.methods["__call__"].node) for c in chain if "__call__" in c.methods):
            return True  # a __call__ of its own replaces Module.__call__ (one that calls super() hands on to the next)
        others = [b for c in chain for b in c.framework_bases if not known.framework_of_class(b)]
    else:
        others = [] if known.framework_of_class(q) else [q]
    return model.resolver is not None and any(
        model.resolver.class_defines(b, CALLS_OWN, _no_framework_call) is True for b in others)


def _calls_super(fn: cst.FunctionDef) -> bool:
    """``super().__call__(...)`` / ``Base.__call__(self, ...)`` in a ``__call__``: Module.__call__ still runs the hooks."""
    for n in walk_nodes(fn):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "__call__":
            recv = n.func.value
            if isinstance(recv, cst.Call) and isinstance(recv.func, cst.Name) and recv.func.value == "super":
                return True
            if isinstance(recv, (cst.Name, cst.Attribute)) and n.args and isinstance(n.args[0].value, cst.Name):
                return True
    return False


def _is_interface(model: FileModel, ann: cst.BaseExpression) -> bool:
    """Is the annotation a class of this file decorated with ``@torch.jit.interface``?"""
    target = model.class_named(ann.value) if isinstance(ann, cst.Name) else None
    return target is not None and any(
        (model.qualify(d.decorator) or "") in ("torch.jit.interface", "torch.jit._script.interface")
        for d in target.node.decorators
    )


def _interface_local(model: FileModel, site: CallSite, recv: cst.BaseExpression) -> bool:
    """``m: SomeInterface = self.mods[key]`` then ``m.forward(x)``: TorchScript's way to call an interface."""
    if not isinstance(recv, cst.Name):
        return False
    for n in use_index(model).method(site.method).nodes:
        if isinstance(n, cst.AnnAssign) and isinstance(n.target, cst.Name) and n.target.value == recv.value:
            if _is_interface(model, n.annotation.annotation):
                return True
    return False


def _is_submodule(model: FileModel, site: CallSite, recv: cst.BaseExpression, attrs: _Attrs) -> bool:
    meth = site.method
    selves = frozenset({meth.self_name})
    if meth.self_name != "self" and "self" not in meth.scope.params and not site.cls.in_function:
        selves |= {"self"}  # def forward(x): ... self.layers (MRG304): the instance is still meant as `self`
    attr = _self_attr(recv, selves)
    if attr is not None:  # self.fc.forward(x)
        return attrs.module(attr)
    if isinstance(recv, cst.Subscript):  # self.blocks[0].forward(x)
        attr = _self_attr(recv.value, selves)
        return attr is not None and attrs.elements(attr, "item")
    if not isinstance(recv, cst.Name) or recv.value in selves:
        return False
    bound = model.binding_of(recv.value, site.scope, site.order)
    if bound is None:
        return False
    mode, expr = bound
    if mode == "elem":  # for layer in self.layers / self.heads.values() / self.children()
        attr = _self_attr(expr, selves)
        if attr is not None:
            return attrs.elements(attr, "iter")
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and not expr.args:
            method, owner = expr.func.attr.value, expr.func.value
            if isinstance(owner, cst.Name) and owner.value in selves:
                return method in ("children", "modules", "cells")
            attr = _self_attr(owner, selves)
            return attr is not None and method == "values" and attrs.elements(attr, "values")
        return False
    attr = _self_attr(expr, selves)  # fc = self.fc
    if attr is not None:
        return attrs.module(attr)
    if isinstance(expr, cst.Subscript):
        attr = _self_attr(expr.value, selves)
        return attr is not None and attrs.elements(attr, "item")
    return model.kind_of(expr, site.scope, site.order).tag is Tag.LAYER


class DirectForwardCall(Rule):
    """
    ## What it does
    Finds a direct `.forward(...)` call on a sub-module inside a torch Module
    (MindSpore: `.construct(...)` on a sub-cell): `self.fc.forward(x)`,
    `self.blocks[0].forward(x)`, `layer.forward(x)` for a `layer` taken from
    `self.layers` (a `ModuleList`, `Sequential` or list of layers),
    `.values()` of a `ModuleDict`, or `self.children()`.

    A sub-module is recognised by what the class assigns to the attribute
    (a layer, a Module class of the file, a module container); an attribute
    whose value the file does not show (`self.encoder = encoder`) is left
    alone. `super().forward(x)`, `Base.forward(self, x)` and `self.forward(x)`
    are how a class calls its own or its base's implementation, and are fine.
    A local or attribute annotated with a `@torch.jit.interface` class of the
    file (`m: OneLayerInterface = self.submods[key]`) is left alone too:
    TorchScript calls an interface-typed module through its declared methods,
    so `m.forward(x)` is the documented idiom there (calling `m(x)` fails to
    script; `tests/test_runtime_forward.py`). So is a sub-module whose class
    (or a base, in this file or another) defines its own `__call__`: it
    replaces `Module.__call__`, so no hooks run either way, and `.forward` is
    that library's way to get the raw result (a lazy kernel's `__call__`
    wraps it), which the fix would change (`tests/test_runtime_forward.py`).
    A `__call__` that hands on to `super().__call__(...)` (or
    `nn.Module.__call__(self, ...)`), as gradient-checkpointing layers do,
    keeps `Module.__call__` and its hooks unless a class further up replaces
    it: `.forward` on such a sub-module is still reported.

    ## Why is this bad?
    Calling a module runs `Module.__call__`, which runs the forward pre-hooks
    and hooks registered on it (`register_forward_hook`, used by feature
    extractors, pruning, quantization observers, profilers, `torch.utils.hooks`)
    around `forward`. Calling `.forward` directly skips all of them, silently:
    a hook on the sub-module never fires (measured with torch 2.13, and with
    MindSpore 2.10 in PyNative mode for `construct` and
    `Cell.register_forward_hook`).

    MindSpore runtime truth:
    `tests/test_mindspore_probes.py::test_mrg306_direct_construct_skips_forward_hooks`
    (the Cell example's hook never fires; after the fix it does).

    ## Example
    ```python
    class Net(nn.Module):
        def forward(self, x):
            for layer in self.layers:
                x = layer.forward(x)
            return self.head.forward(x)
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return self.head(x)
    ```

    ## Fix safety
    The fix drops `.forward` (`self.fc.forward(x)` becomes `self.fc(x)`) and is
    **unsafe**: it is what was meant, but behaviour changes whenever a hook is
    registered on the sub-module (the hooks now run and may change the output)
    or its class overrides `__call__`; MindSpore's `Cell.__call__` also applies
    the cell's mixed-precision casts. Apply it with `--unsafe-fixes`.

    ## References
    - [torch.nn.Module.register_forward_hook](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.register_forward_hook)
    - [torch.nn.Module.forward (call the instance, not forward)](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.forward)
    - [mindspore.nn.Cell.register_forward_hook](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    """

    code = "MRG306"
    name = "direct-forward-call"
    summary = "A sub-module's `.forward(...)`/`.construct(...)` called directly: hooks are skipped"
    message = "'{recv}.{entry}(...)' skips the sub-{unit}'s hooks"
    fix_hint = "call the {unit}: '{recv}(...)' (calling {entry} directly bypasses hooks)"
    fix_summary = "call the sub-module itself"
    fix_safety = Applicability.UNSAFE

    invalid = (
        Invalid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
                    self.head = nn.Linear(4, 2)

                def forward(self, x):
                    for layer in self.layers:
                        x = layer.forward(x)
                    return self.head.forward(x)
            """,
            at=[(11, 16), (12, 15)],
            fixed="""
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
                    self.head = nn.Linear(4, 2)

                def forward(self, x):
                    for layer in self.layers:
                        x = layer(x)
                    return self.head(x)
            """,
            title="a loop over a ModuleList, and a layer attribute",
        ),
        Invalid(
            """
            import torch.nn as nn

            class Block(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)

                def forward(self, x):
                    return self.fc(x)

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.blocks = nn.Sequential(Block(), Block())
                    self.heads = nn.ModuleDict({"a": nn.Linear(4, 1)})
                    self.extra = Block()

                def forward(self, x):
                    x = self.blocks[0].forward(x)
                    extra = self.extra
                    x = extra.forward(x)
                    for child in self.children():
                        x = child.forward(x) if isinstance(child, Block) else x
                    return [h.forward(x) for h in [self.heads["a"]]] + [self.heads["a"].forward(x)]
            """,
            at=[(19, 12), (21, 12), (23, 16), (24, 60)],
            fixed="""
            import torch.nn as nn

            class Block(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)

                def forward(self, x):
                    return self.fc(x)

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.blocks = nn.Sequential(Block(), Block())
                    self.heads = nn.ModuleDict({"a": nn.Linear(4, 1)})
                    self.extra = Block()

                def forward(self, x):
                    x = self.blocks[0](x)
                    extra = self.extra
                    x = extra(x)
                    for child in self.children():
                        x = child(x) if isinstance(child, Block) else x
                    return [h.forward(x) for h in [self.heads["a"]]] + [self.heads["a"](x)]
            """,
            title="an indexed Sequential, a local alias, `self.children()`, a ModuleDict item (a comprehension variable is not followed)",
        ),
        Invalid(
            """
            from mindspore import nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.blocks = nn.CellList([nn.Dense(4, 4), nn.ReLU()])

                def construct(self, x):
                    for cell in self.blocks:
                        x = cell.construct(x)
                    return x
            """,
            at=[(10, 16)],
            fixed="""
            from mindspore import nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.blocks = nn.CellList([nn.Dense(4, 4), nn.ReLU()])

                def construct(self, x):
                    for cell in self.blocks:
                        x = cell(x)
                    return x
            """,
            title="MindSpore: construct on a sub-cell",
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn

            class Kernel(nn.Module):
                def __call__(self, x):
                    return {"lazy": self.forward(x)}

                def forward(self, x):
                    return x * 2

            class SumKernel(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.k = Kernel()
                    self.ks = nn.ModuleList([Kernel() for _ in range(2)])

                def forward(self, x):
                    return self.k.forward(x) + self.ks[0].forward(x)
            """,
            why="the sub-module's class defines its own __call__: .forward is how its raw result is taken",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            @torch.jit.interface
            class OneLayerInterface(nn.Module):
                def forward(self, x: torch.Tensor) -> torch.Tensor:
                    pass

            class Scale(nn.Module):
                def forward(self, x: torch.Tensor) -> torch.Tensor:
                    return x * 2

            class Wrapper(nn.Module):
                impl: OneLayerInterface

                def __init__(self):
                    super().__init__()
                    self.impl = Scale()
                    self.submods = nn.ModuleDict({"a": Scale()})

                def forward(self, x: torch.Tensor, key: str) -> torch.Tensor:
                    m: OneLayerInterface = self.submods[key]
                    return m.forward(self.impl.forward(x))
            """,
            why="a @torch.jit.interface-typed attribute: TorchScript calls it through .forward",
        ),
        Valid(
            """
            import torch.nn as nn

            class Base(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)

                def forward(self, x):
                    return self.fc(x)

            class Net(Base):
                def __init__(self, encoder):
                    super().__init__()
                    self.encoder = encoder
                    self.heads = nn.ModuleDict({"a": nn.Linear(4, 1)})
                    self.sizes = [4, 4]

                def forward(self, x):
                    x = super().forward(x)
                    x = Base.forward(self, x)
                    x = self.encoder.forward(x)
                    for name in self.heads:
                        x = name.forward(x)
                    return self.fc(x)

                def twice(self, x):
                    return self.forward(self.forward(x))
            """,
            why="super()/Base.forward/self.forward; an attribute of unknown kind; ModuleDict iteration gives keys",
        ),
        Valid(
            """
            import torch.nn as nn
            import mindspore.nn as msnn

            class Runner:
                def __init__(self):
                    self.net = nn.Linear(2, 2)

                def step(self, x):
                    return self.net.forward(x)

            class Cell(msnn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = msnn.Dense(2, 2)

                def construct(self, x):
                    return self.dense.forward(x)
            """,
            why="not inside a Module; `.forward` on a MindSpore Dense is not its entry point (MRG5xx territory)",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        attrs: dict[int, _Attrs] = {}
        for site in model.calls:
            cls, meth = site.cls, site.method
            if cls is None or meth is None or cls.framework is None or meth.self_name is None:
                continue
            func = site.node.func
            entry = ENTRY[cls.framework]
            if not (isinstance(func, cst.Attribute) and func.attr.value == entry):
                continue
            table = attrs.get(id(cls)) or attrs.setdefault(id(cls), _Attrs(model, cls))
            if not _is_submodule(model, site, func.value, table) or _interface_local(model, site, func.value):
                continue
            if _own_call_protocol(model, site, func.value, table):
                continue
            unit = "module" if cls.framework == "torch" else "cell"
            fix = Fix(((func, func.value),), Applicability.UNSAFE, title=f"call the {unit} instead of '.{entry}'")
            recv = model.module.code_for_node(func.value)
            report(site.node, fix=fix, recv=recv, entry=entry, unit=unit)
