from __future__ import annotations

import re

import libcst as cst

from .. import known
from ..findings import Applicability, Fix
from ..model import ClassFacts, FileModel, MethodFacts
from ._base import Invalid, Reporter, Rule, Valid
from ._entry import ENTRY
from ._naming import rename_fix


def _takes_input(fn: cst.FunctionDef) -> bool:
    """A parameter besides ``self`` (an entry point is called with the inputs)."""
    p = fn.params
    return len([*p.posonly_params, *p.params]) > 1 or isinstance(p.star_arg, cst.Param) or bool(p.kwonly_params) \
        or p.star_kwarg is not None


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
    """``(base name, entry names its body reads)`` for the ``name`` method ``cls`` inherits from the first base (in
    order, depth first) that binds it, same file or another; False: no base binds it; None: cannot tell."""
    if depth > 16:
        return None
    for b in cls.bases:
        local = model.class_named(b) if b and b not in model.imports else None
        if local is not None and local is not cls and not local.in_function:
            if name in local.methods:
                fn = local.methods[name].node
                return local.name, sorted(_reads(fn))
            if local.node.decorators:
                return None  # what a decorator of this file adds is not read here
            got = inherited_entry(model, local, name, depth + 1)
        else:
            q = model.imports.qualify(b) if b else None
            if q is None:
                return None
            if known.framework_of_class(q):
                if known.forward_providing(q):
                    return b.rsplit(".", 1)[-1], []  # a framework layer's entry point never reads the other name
                continue
            if model.resolver is None:
                return None
            reads = model.resolver.inherited_entry(q, name)
            got = (b.rsplit(".", 1)[-1], reads) if isinstance(reads, list) else reads
        if got is not False:
            return got
    return False


class RenamedOverride(Rule):
    """
    ## What it does
    Finds a torch `nn.Module` subclass that defines MindSpore's `construct`
    but inherits `forward` from a base (or a MindSpore `nn.Cell` subclass
    that defines `forward` but inherits `construct`), with no entry point of
    its own: an override that lost its name. The base is read in the same
    file or, through the resolver, in another file (its body and its
    bases'), or is a framework layer (`class LayerNorm2d(nn.LayerNorm)`).
    Overrides often rename their parameters (`features` -> `hidden_states`)
    or add some, so the signatures are not compared; instead the method must
    take an input, and nothing may call it: silent when anything in the file
    reads an attribute of that name (`self.construct(config)` from
    `__init__`: a helper that happens to have the name), when the inherited
    method itself reads it (a template `forward` that calls the hook), and
    when a base cannot be read (a decorator of unknown effect, a base the
    resolver cannot find).

    ## Why is this bad?
    The class builds, trains and runs -- with the *base's* computation. torch
    calls `forward`, finds the inherited one and never calls `construct`, so
    the subclass's layers are built but skipped (their weights still train
    nowhere) and the outputs are the parent's. Nothing raises: unlike a
    `construct` with no `forward` at all (MRG301), this slip is silent.
    Runtime truth: `tests/test_renamed_override.py` (a subclass's `construct`
    never runs, the inherited `forward` does; after the rename the subclass's
    own computation runs) and, for Cells,
    `tests/test_mindspore_truth.py::test_mrg307_cell_forward_never_runs_the_inherited_construct_does`.

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
    fix_hint = "rename '{defined}' to '{entry}': the inherited {entry} runs instead (an override that lost its name)"
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
                def __init__(self, config):
                    super().__init__()
                    self.construct(config)

                def construct(self, config):
                    self.width = config

            class Both(Base):
                def construct(self, x):
                    return x

                def forward(self, x):
                    return self.construct(x)
            """,
            why="a template forward that calls construct, a helper the class calls itself, a class with its own forward",
        ),
        Valid(
            """
            import torch.nn as nn
            from mylib import Unseen

            class Net(Unseen):
                def construct(self, x):
                    return x

            class Stub(nn.Module):
                def forward(self, x):
                    return x

            class NoInput(Stub):
                def construct(self):
                    return None
            """,
            why="a base that cannot be read; a construct that takes no input (not an entry point)",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls in model.modules:
            entry = ENTRY[cls.framework]
            defined = ENTRY["mindspore" if cls.framework == "torch" else "torch"]  # the other framework's name
            meth = cls.methods.get(defined)
            if meth is None or entry in cls.methods or defined in model.attr_names:
                continue
            got = inherited_entry(model, cls, entry)
            if not got or got[1] is None:
                continue
            base, reads = got
            if defined in reads or not _takes_input(meth.node):
                continue  # the inherited entry calls it (a template method), or it takes no input
            where = "torch" if cls.framework == "torch" else "MindSpore"
            report(meth.node.name, fix=_fix(model, meth, entry), cls=cls.name, defined=defined, entry=entry, base=base,
                   where=where)


def _fix(model: FileModel, meth: MethodFacts, new: str) -> Fix | None:
    """``rename_fix``, unsafe (the subclass's method runs instead of the base's), and withheld while anything but
    ``super().<new>`` inside the method reads the new name."""
    if new in model.attr_names and not _only_super_calls(model, meth, new):
        return None
    return rename_fix(model, meth, new, Applicability.UNSAFE)


def _only_super_calls(model: FileModel, meth: MethodFacts, name: str) -> bool:
    """Every ``.<name>`` in the file is ``super().<name>`` inside this method: the base's method, still valid
    after the rename (anything else, ``self.forward(...)`` or ``other.forward``, may change meaning). The file
    is read as text (``source_code()``); a ``.<name>`` in a string or comment only withholds the fix."""
    supers = 0

    class Count(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            nonlocal supers
            v = node.value
            if node.attr.value == name and isinstance(v, cst.Call) and isinstance(v.func, cst.Name) and v.func.value == "super":
                supers += 1

    meth.node.visit(Count())
    return len(re.findall(r"\.\s*" + re.escape(name) + r"\b", model.source_code())) == supers
