from __future__ import annotations

from ..findings import Applicability
from ..model import ClassFacts, FileModel, MethodFacts
from ._base import Invalid, Reporter, Rule, Valid
from ._entry import ENTRY, near_miss
from ._naming import rename_fix

_NOT_PLAIN = ("property", "staticmethod", "classmethod", "overload", "setter", "getter", "deleter")
_CONSEQUENCE = {
    "forward": "torch never calls it, and calling the module raises NotImplementedError",
    "construct": "MindSpore never calls it, and calling the cell raises",
    "__init__": "it never runs, so nothing it would build exists",
}


def _absent(model: FileModel, cls: ClassFacts, target: str) -> bool:
    """``target`` is nowhere we can see, and (for the entry point) cannot come from elsewhere."""
    chain = (cls, *cls.ancestors())
    if cls.defines(target) or any(target in c.class_attrs for c in chain):
        return False
    if target == "__init__":
        return True
    if cls.may_inherit(target) or cls.defines("__call__") or any("__call__" in c.class_attrs for c in chain):
        return False
    # an abstract-ish base: a subclass of this file provides the entry point
    return not any(target in d.methods or target in d.class_attrs for d in model.descendants(cls))


def _looks_like_init(meth: MethodFacts, cls: ClassFacts) -> bool:
    """A constructor never returns a value; the real dunder ``__int__`` must look like one to count."""
    if meth.returns_value or meth.yields:
        return False
    if meth.name.lower() != "__int__":
        return True
    return meth.super_init is not None or len(meth.params) > 1 or any(a.method == meth.name for a in cls.self_assigns)


class MisspelledModuleMethod(Rule):
    """
    ## What it does
    Finds a method of a torch `nn.Module` or MindSpore `nn.Cell` whose name is a
    slip of `forward` (torch), `construct` (MindSpore) or `__init__` -- `foward`,
    `forwad`, `Forward`, `contruct`, `__int__`, `_init_`, `__init` -- while the
    class and its bases in the same file lack the right name.

    Names are compared by edit distance (Damerau-Levenshtein, case-insensitive),
    not a hand list: `forward`/`construct` slips are letters only and within
    distance 1 (or 2 with the same first letter and length within one), so
    deliberate helpers such as `_forward`, `forward_features`, `forward2`,
    `reward` or `format` never match; `__init__` slips are `init` with a wrong
    number of underscores (`_init_`, `__init`, but not the helpers `init`/`_init`)
    or a dunder within distance 1 (`__int__`, `__innit__`).

    It stays silent when the right name can come from somewhere else: a base
    imported from another file, a layer base such as `nn.Sequential`, a
    `__call__` override, a subclass in the same file that defines it (the class
    is then an abstract base), or a class-level assignment (`forward = _impl`).
    `__int__` is also a real dunder (`int(obj)`): it is reported only when it
    returns nothing and looks like a constructor (takes arguments, assigns to
    `self` or calls `super().__init__()`); an `__init__` slip that is called by
    name somewhere in the file is a deliberate helper and is not reported.

    ## Why is this bad?
    The framework looks the method up by its exact name. A misspelled `forward`
    is never called: the first `model(x)` raises `NotImplementedError: Module
    [Net] is missing the required "forward" function`. A misspelled `__init__`
    never runs: `Net()` builds an empty module with no layers and no parameters,
    and the first use of `self.fc` raises `AttributeError` (or, with arguments,
    `Net(4)` raises `TypeError` from `Module.__init__`).

    MindSpore runtime truth:
    `tests/test_mindspore_probes.py::test_mrg303_misspelled_construct_and_init_never_run`
    (a Cell with `__init` and `contruct` builds without its layers and
    raises when called).

    ## Example
    ```python
    class Net(nn.Module):
        def __int__(self, dim):
            super().__init__()
            self.fc = nn.Linear(dim, dim)

        def foward(self, x):
            return self.fc(x)
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.fc = nn.Linear(dim, dim)

        def forward(self, x):
            return self.fc(x)
    ```

    ## Fix safety
    The fix renames the method and is **safe**: under its old name the method
    could never run as the entry point or constructor, so nothing that worked
    before changes. It is not offered when the file accesses an attribute of the
    old name anywhere (`self.foward(x)`), which the rename would break, nor when
    two methods of the class are slips of the same name.

    ## References
    - [torch.nn.Module.forward](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.forward)
    - [mindspore.nn.Cell.construct](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    """

    code = "MRG303"
    name = "misspelled-module-method"
    summary = "A misspelled `forward`/`construct`/`__init__` that never runs"
    message = "method '{method}' of '{cls}' looks like a misspelled '{target}'"
    fix_hint = "rename it to '{target}': {consequence}"
    fix_summary = "rename it to `forward`, `construct` or `__init__`"
    fix_safety = Applicability.SAFE

    invalid = (
        Invalid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 2)

                def foward(self, x):
                    return self.fc(x)
            """,
            at=[(8, 8)],
            fixed="""
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 2)

                def forward(self, x):
                    return self.fc(x)
            """,
            title="a transposed letter",
        ),
        Invalid(
            """
            from torch import nn

            class Block(nn.Module):
                def __int__(self, dim):
                    super().__init__()
                    self.fc = nn.Linear(dim, dim)

                def Forward(self, x):
                    return self.fc(x)

            class Head(Block):
                def _init_(self):
                    super().__init__(4)
            """,
            at=[(4, 8), (8, 8), (12, 8)],
            fixed="""
            from torch import nn

            class Block(nn.Module):
                def __init__(self, dim):
                    super().__init__()
                    self.fc = nn.Linear(dim, dim)

                def forward(self, x):
                    return self.fc(x)

            class Head(Block):
                def __init__(self):
                    super().__init__(4)
            """,
            title="`__int__` that builds layers, a capitalised `Forward`, and `_init_` in a subclass",
        ),
        Invalid(
            """
            import mindspore.nn as nn

            class Net(nn.Cell):
                def __init(self):
                    super().__init__()
                    self.dense = nn.Dense(4, 2)

                def contruct(self, x):
                    return self.dense(x)
            """,
            at=[(4, 8), (8, 8)],
            fixed="""
            import mindspore.nn as nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = nn.Dense(4, 2)

                def construct(self, x):
                    return self.dense(x)
            """,
            title="MindSpore: `__init` and `contruct`",
        ),
        Invalid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def farward(self, x):
                    return x

                def forwad(self, x):
                    return x

                def run(self, x):
                    return self.farward(x)
            """,
            at=[(4, 8), (7, 8)],
            fixed=None,
            title="no automatic rename: two candidates, and one is called by name",
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 2)

                def _forward(self, x):
                    return self.fc(x)

                def forward_features(self, x):
                    return self.fc(x)

                def forward2(self, x):
                    return x

                def reward(self):
                    return 0

                def format(self):
                    return "net"

                def _init_weights(self):
                    pass

                def forward(self, x):
                    return self._forward(x)
            """,
            why="deliberate helpers next to forward: underscores, digits, suffixes and real words",
        ),
        Valid(
            """
            import torch.nn as nn
            from mylib import Backbone

            class Scalar(nn.Module):
                def __int__(self):
                    return 3

                def forward(self, x):
                    return x

            class A(nn.Linear):
                def foward(self, x):
                    return x

            class B(Backbone):
                def foward(self, x):
                    return x

            class C(nn.Module):
                def __call__(self, x):
                    return self.foward(x)

                def foward(self, x):
                    return x

            class D(nn.Module):
                def forwards(self, x):
                    return x

                def init(self):
                    pass

                def _init(self):
                    pass

            class E(D):
                def forward(self, x):
                    return self.forwards(x)

            class F(nn.Module):
                def forward_impl(self, x):
                    return x

                forward = forward_impl
            """,
            why="a real `__int__` returns a value; forward inherited from a layer or an imported base, "
            "a `__call__` override, a subclass that defines forward, a class-level alias",
        ),
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self._init_()

                def _init_(self):
                    self.fc = nn.Linear(2, 2)

                def forward(self, x):
                    return self.fc(x)

            class Config:
                def foward(self):
                    pass

                def __int__(self, x):
                    self.x = x
            """,
            why="`__init__` exists and `_init_` is a helper called by name; a plain class is not a Module",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls in model.modules:
            for target in (ENTRY[cls.framework], "__init__"):
                slips = [
                    m
                    for name, m in cls.methods.items()
                    if near_miss(name, target) and not any(d.rsplit(".", 1)[-1] in _NOT_PLAIN for d in m.decorators)
                ]
                if target == "__init__":
                    slips = [m for m in slips if _looks_like_init(m, cls) and m.name not in model.attr_names]
                if not slips or not _absent(model, cls, target):
                    continue
                for m in slips:
                    fix = rename_fix(model, m, target) if len(slips) == 1 else None
                    report(m.node.name, fix=fix, method=m.name, cls=cls.name, target=target, consequence=_CONSEQUENCE[target])
