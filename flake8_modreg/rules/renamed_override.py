from __future__ import annotations

import libcst as cst

from .. import known
from ..findings import Applicability, Fix
from ..model import ClassFacts, FileModel, MethodFacts
from ._base import Invalid, Reporter, Rule, Valid

_ENTRY = {"torch": ("construct", "forward"), "mindspore": ("forward", "construct")}


def cst_signature(fn: cst.FunctionDef) -> list[str]:
    """The parameter names of ``fn`` in order, ``*args``/``**kw`` marked, as ``resolver.signature`` gives them."""
    p = fn.params
    out = [x.name.value for x in (*p.posonly_params, *p.params)]
    if isinstance(p.star_arg, cst.Param):
        out.append("*" + p.star_arg.name.value)
    elif p.kwonly_params:
        out.append("*")
    out += [x.name.value for x in p.kwonly_params]
    if p.star_kwarg is not None:
        out.append("**" + p.star_kwarg.name.value)
    return out


def _reads(fn: cst.FunctionDef) -> set[str]:
    """The entry-point names ``fn`` reads as attributes (``self.construct(x)`` in a template ``forward``)."""
    found: set[str] = set()

    class V(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            if node.attr.value in ("forward", "construct"):
                found.add(node.attr.value)

    fn.visit(V())
    return found


def inherited_entry(model: FileModel, cls: ClassFacts, name: str, depth: int = 0):
    """``(class name, [signature, names read])`` of the ``name`` method ``cls`` inherits from the first base (in
    order, depth first) that binds it, same file or another; False: no base binds it; None: cannot tell."""
    if depth > 16:
        return None
    for b in cls.bases:
        local = model.class_named(b) if b and b not in model.imports else None
        if local is not None and local is not cls and not local.in_function:
            if name in local.methods:
                fn = local.methods[name].node
                return local.name, [cst_signature(fn), sorted(_reads(fn))]
            if local.node.decorators:
                return None  # what a decorator of this file adds is not read here
            got = inherited_entry(model, local, name, depth + 1)
        else:
            q = model.imports.qualify(b) if b else None
            if q is None:
                return None
            if known.framework_of_class(q):
                if known.forward_providing(q):
                    return None
                continue
            if model.resolver is None:
                return None
            sig = model.resolver.inherited_entry(q, name)
            got = (b.rsplit(".", 1)[-1], sig) if sig else sig
        if got is not False:
            return got
    return False


class RenamedOverride(Rule):
    """
    ## What it does
    Finds a torch `nn.Module` subclass that defines MindSpore's `construct`
    with exactly the parameters of the `forward` it inherits from a base (or
    a MindSpore `nn.Cell` subclass that defines `forward` with the parameters
    of an inherited `construct`), and no entry point of its own: an override
    that lost its name. The base is read in the same file or, through the
    resolver, in another file (its body and its bases'); the signatures must
    match name for name (`*args`/`**kwargs` included). Silent when the
    inherited method itself reads `self.construct`/`self.forward` (a template
    method that calls the hook), when anything in the file reads an attribute
    of that name (the method is called by hand), when the signatures differ (a
    helper that happens to have that name), and when a base cannot be read
    (a framework layer that provides the entry point, a decorator of unknown
    effect).

    ## Why is this bad?
    The class builds, trains and runs -- with the *base's* computation. torch
    calls `forward`, finds the inherited one and never calls `construct`, so
    the subclass's layers are built but skipped (their weights still train
    nowhere) and the outputs are the parent's. Nothing raises: unlike a
    `construct` with no `forward` at all (MRG301), this slip is silent.
    Runtime truth: `tests/test_renamed_override.py` (a subclass's `construct`
    never runs, the inherited `forward` does; after the rename the subclass's
    own computation runs).

    ## Example
    ```python
    class Attention(nn.Module):
        def forward(self, x, mask=None):
            return self.proj(x)

    class GatedAttention(Attention):
        def construct(self, x, mask=None):
            return self.gate(x) * super().forward(x, mask)
    ```

    ## Use instead
    ```python
    class GatedAttention(Attention):
        def forward(self, x, mask=None):
            return self.gate(x) * super().forward(x, mask)
    ```

    ## Fix safety
    The fix renames the method to the framework's entry point. It is
    **unsafe**: it changes what the model computes (the subclass's method runs
    instead of the base's), which is the point, but outputs and trained
    checkpoints' behaviour change with it. Not offered when the file reads an
    attribute of the new name on anything (`super().forward(...)` inside the
    method stays valid: it is the base's method).

    ## References
    - [torch.nn.Module.forward](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.forward)
    - [mindspore.nn.Cell.construct](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    """

    code = "MRG307"
    name = "renamed-override"
    summary = "An override of the inherited entry point under the other framework's name: it never runs"
    frameworks = frozenset({"torch", "mindspore"})
    message = "'{defined}' never runs: {where} calls the '{entry}' inherited from '{base}'"
    fix_hint = "rename '{defined}' to '{entry}': it has the signature of the inherited one (an override that lost its name)"
    fix_summary = "rename the method to the framework's entry point"
    fix_safety = Applicability.UNSAFE

    invalid = (
        Invalid(
            """
            import torch.nn as nn

            class Attention(nn.Module):
                def __init__(self, dim):
                    super().__init__()
                    self.proj = nn.Linear(dim, dim)

                def forward(self, x, mask=None):
                    return self.proj(x)

            class GatedAttention(Attention):
                def __init__(self, dim):
                    super().__init__(dim)
                    self.gate = nn.Linear(dim, dim)

                def construct(self, x, mask=None):
                    return self.gate(x).sigmoid() * super().forward(x, mask)
            """,
            at=[(16, 8)],
            fixed="""
            import torch.nn as nn

            class Attention(nn.Module):
                def __init__(self, dim):
                    super().__init__()
                    self.proj = nn.Linear(dim, dim)

                def forward(self, x, mask=None):
                    return self.proj(x)

            class GatedAttention(Attention):
                def __init__(self, dim):
                    super().__init__(dim)
                    self.gate = nn.Linear(dim, dim)

                def forward(self, x, mask=None):
                    return self.gate(x).sigmoid() * super().forward(x, mask)
            """,
            title="a torch override renamed construct: the base's forward runs",
        ),
        Invalid(
            """
            from mindspore import nn

            class Block(nn.Cell):
                def construct(self, x, *args, **kwargs):
                    return x

            class Middle(Block):
                pass

            class Scaled(Middle):
                def forward(self, x, *args, **kwargs):
                    return x * 2
            """,
            at=[(11, 8)],
            fixed="""
            from mindspore import nn

            class Block(nn.Cell):
                def construct(self, x, *args, **kwargs):
                    return x

            class Middle(Block):
                pass

            class Scaled(Middle):
                def construct(self, x, *args, **kwargs):
                    return x * 2
            """,
            title="a MindSpore Cell with forward matching the construct of a base two levels up",
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn

            class Template(nn.Module):
                def forward(self, x):
                    return self.construct(x)

            class Impl(Template):
                def construct(self, x):
                    return x * 2

            class Base(nn.Module):
                def forward(self, x):
                    return x

            class Builder(Base):
                def construct(self, config, device):
                    return None

            class Both(Base):
                def construct(self, x):
                    return x

                def forward(self, x):
                    return self.construct(x)
            """,
            why="a template forward that calls construct, a helper with another signature, a class with its own forward",
        ),
        Valid(
            """
            import torch.nn as nn
            from mylib import Unseen

            class Net(Unseen):
                def construct(self, x):
                    return x

            class Seq(nn.Sequential):
                def construct(self, x):
                    return x
            """,
            why="a base that cannot be read; a framework layer's forward (signature unknown here)",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls in model.modules:
            defined, entry = _ENTRY[cls.framework]
            meth = cls.methods.get(defined)
            if meth is None or entry in cls.methods or defined in model.attr_names:
                continue
            got = inherited_entry(model, cls, entry)
            if not got or got[1] is None:
                continue
            base, (sig, reads) = got
            if defined in reads or sig[1:] != cst_signature(meth.node)[1:]:
                continue
            where = "torch" if cls.framework == "torch" else "MindSpore"
            report(meth.node.name, fix=_fix(model, meth, entry), cls=cls.name, defined=defined, entry=entry, base=base,
                   where=where)


def _fix(model: FileModel, meth: MethodFacts, new: str) -> Fix | None:
    if new in model.attr_names and not _only_super_calls(model, meth, new):
        return None
    name = meth.node.name
    return Fix(((name, name.with_changes(value=new)),), Applicability.UNSAFE, title=f"rename '{meth.name}' to '{new}'")


def _only_super_calls(model: FileModel, meth: MethodFacts, name: str) -> bool:
    """Every ``.<name>`` in the file is ``super().<name>`` inside this method: the base's method, still valid
    after the rename (anything else, ``self.forward(...)`` or ``other.forward``, may change meaning)."""
    counts = [0, 0]

    class Count(cst.CSTVisitor):
        def __init__(self, slot: int, only_super: bool) -> None:
            super().__init__()
            self.slot, self.only_super = slot, only_super

        def visit_Attribute(self, node: cst.Attribute) -> None:
            if node.attr.value != name:
                return
            v = node.value
            if not self.only_super or (isinstance(v, cst.Call) and isinstance(v.func, cst.Name) and v.func.value == "super"):
                counts[self.slot] += 1

    model.module.visit(Count(0, False))
    meth.node.visit(Count(1, True))
    return counts[0] == counts[1]
