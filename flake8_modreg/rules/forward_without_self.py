from __future__ import annotations

import libcst as cst

from ..findings import Applicability, Fix
from ..model import ClassFacts, FileModel, MethodFacts
from ._base import Invalid, Reporter, Rule, Valid
from ._entry import entry_points


def _instance_names(cls: ClassFacts, skip: MethodFacts) -> set[str]:
    """First-parameter names the class's other plain methods use for the instance."""
    out = set()
    for c in (cls, *cls.ancestors()):
        for m in c.methods.values():
            if m is not skip and m.params and not m.is_static and not m.is_classmethod:
                out.add(m.params[0])
    return out


def _overridden_placeholder(model: FileModel, cls: ClassFacts, meth: MethodFacts) -> bool:
    """A body of only ``pass``/``...``/a docstring that every subclass of the file overrides (and there is one)."""
    body = meth.node.body
    lines = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]  # a suite: `def forward(x): pass`
    for line in lines:
        if not isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            return False
        for x in line.body:
            if not (isinstance(x, cst.Pass) or (isinstance(x, cst.Expr) and isinstance(
                    x.value, (cst.Ellipsis, cst.SimpleString, cst.ConcatenatedString)))):
                return False
    subs = model.descendants(cls)
    return bool(subs) and all(meth.name in c.methods for c in subs if cls in c.local_bases)


def _insert_self(meth: MethodFacts) -> Fix:
    params = meth.node.params
    new = cst.Param(cst.Name("self"))
    if params.posonly_params:
        changed = params.with_changes(posonly_params=(new, *params.posonly_params))
    else:
        changed = params.with_changes(params=(new, *params.params))
    return Fix(((params, changed),), Applicability.SAFE, title="insert 'self' as the first parameter")


class ForwardWithoutSelf(Rule):
    """
    ## What it does
    Finds a torch `forward` or MindSpore `construct` that does not take the
    instance as its first parameter: `def forward(x)` (seed: a forum post),
    `def forward()`, `def construct(x, y)` whose body uses `self.…`, or a
    `@staticmethod` entry point.

    A first parameter with another name is accepted when the class's other
    methods use the same name for the instance (`def forward(this, x)` next to
    `def __init__(this)`) or when it contains `self` (`self_`, `_self`: renamed on
    purpose, typically in a Module defined inside a test method so that the
    body can still reach the enclosing `self`); `def forward(*args)` and
    `@classmethod` are left alone. So is a *placeholder* in a base class --
    a body of only `pass`, `...` or a docstring -- that every subclass of the
    file overrides and that has at least one (mmdet's `Transition.forward(x):
    pass`): no Module of the file runs it, and calling the bare base raises
    `TypeError` at once, never silently (`tests/test_runtime_forward.py`).

    ## Why is this bad?
    The framework calls `forward` as a bound method, so the module itself is
    passed as the first argument. `def forward(x)` then receives the module as
    `x`, and `model(inp)` raises `TypeError: forward() takes 1 positional
    argument but 2 were given`; with more parameters the inputs shift silently
    by one and the module is used as data. A body that says `self.layers`
    without a `self` parameter raises `NameError`.

    A `@staticmethod` forward cannot reach the module's layers or parameters,
    and although eager torch calls it correctly, `torch.jit.script` and
    `torch.fx.symbolic_trace` pass the module as its first argument and fail
    (measured with torch 2.13: `'__torch__.S' object has no attribute or method
    '__mul__'`; fx: `unsupported operand type(s) for *: 'S' and 'int'`).
    A MindSpore Cell with a `@staticmethod construct` (autograd-style Cells
    ported from torch) runs in PyNative mode, but GRAPH mode cannot compile
    it -- as the top cell, as a sub-cell, or called in an `@mindspore.jit`
    function it raises `RuntimeError` (`Parse Resolve convert failed`;
    measured with MindSpore 2.10, `tests/test_mindspore_probes.py::test_mrg304_static_construct_*`,
    which runs the example from a file, as graph mode compiles from source).

    ## Example
    ```python
    class Net(nn.Module):
        def forward(x):
            for layer in self.layers:
                x = layer(x)
            return x
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x
    ```

    ## Fix safety
    The fix inserts `self` as the first parameter and is **safe**. It is offered
    when the method takes no parameter at all (every call raised `TypeError`),
    or when its body uses attributes of `self` while no parameter is called
    `self` (the author's intent is written in the body; every call that reached
    a `self.…` raised `NameError`, or `TypeError` for the extra argument). It is
    not offered in a class defined inside a function, where `self.…` may be the
    enclosing method's `self`, and not otherwise (`def forward(x): return x * 2`: which parameter was
    meant as the input is a guess), nor for a `@staticmethod`, where the right
    change (drop the decorator and add `self`, or keep a stateless function)
    is the author's choice.

    ## References
    - [torch.nn.Module.forward](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.forward)
    - [Python tutorial: method objects](https://docs.python.org/3/tutorial/classes.html#method-objects)
    """

    code = "MRG304"
    name = "forward-without-self"
    summary = "`forward`/`construct` without `self` as its first parameter, or a staticmethod"
    message = "'{method}' of '{cls}' {problem}"
    fix_hint = "{hint}: {why}"
    fix_summary = "make `self` the first parameter"
    fix_safety = Applicability.SAFE

    invalid = (
        Invalid(
            """
            import torch.nn as nn

            class myNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = nn.ModuleList([nn.Conv2d(5, 5, 3), nn.BatchNorm2d(5)])

                def forward(x):
                    for layer in self.layers:
                        x = layer(x)
                    return x
            """,
            at=[(8, 8)],
            fixed="""
            import torch.nn as nn

            class myNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = nn.ModuleList([nn.Conv2d(5, 5, 3), nn.BatchNorm2d(5)])

                def forward(self, x):
                    for layer in self.layers:
                        x = layer(x)
                    return x
            """,
            title="the seed's `def forward(x)`",
        ),
        Invalid(
            """
            import mindspore.nn as nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = nn.Dense(4, 2)

                def construct(x, mask):
                    return self.dense(x) * mask

            class Zero(nn.Cell):
                def construct():
                    return 0
            """,
            at=[(8, 8), (12, 8)],
            fixed="""
            import mindspore.nn as nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = nn.Dense(4, 2)

                def construct(self, x, mask):
                    return self.dense(x) * mask

            class Zero(nn.Cell):
                def construct(self):
                    return 0
            """,
            title="MindSpore: inputs shifted by one, and no parameter at all",
        ),
        Invalid(
            """
            import torch.nn as nn

            class Double(nn.Module):
                def __init__(self):
                    super().__init__()

                def forward(x):
                    return x * 2

            class Flatten(nn.Module):
                @staticmethod
                def forward(x):
                    return x.flatten(1)

            def scaled(self):
                class Local(nn.Module):
                    def forward(x):
                        return self.scale * x
                return Local()
            """,
            at=[(7, 8), (12, 8), (17, 12)],
            fixed=None,
            title="no fix: the body does not say which parameter is the input; a staticmethod; "
            "a class inside a function, whose `self` is the enclosing one",
        ),
        Invalid(
            """
            import mindspore.nn as nn

            class Scale(nn.Cell):
                @staticmethod
                def construct(x):
                    return x * 2

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = nn.Dense(2, 2)
                    self.scale = Scale()

                def construct(self, x):
                    return self.scale(self.dense(x))
            """,
            at=[(5, 8)],
            fixed=None,
            title="MindSpore: a static construct runs in PyNative, but GRAPH mode cannot compile it (not even as a sub-cell)",
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn

            class Transition(nn.Module):
                def __init__(self, c):
                    super().__init__()
                    self.c = c

                def forward(x):
                    pass

            class Up(Transition):
                def forward(self, x):
                    return x * 2

            class Down(Transition):
                def forward(self, x):
                    return x / 2
            """,
            why="a placeholder forward (only `pass`) of a base that every subclass of the file overrides: no Module "
                "of the file runs it, and calling the bare base raises TypeError at once",
        ),
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(this):
                    super().__init__()
                    this.fc = nn.Linear(2, 2)

                def forward(this, x):
                    return this.fc(x)

            class Any(nn.Module):
                def forward(*args):
                    return args[1]

            class Twice(nn.Module):
                @classmethod
                def forward(cls, x):
                    return x * 2
            """,
            why="the class names the instance `this` throughout; `*args` takes it; a classmethod is bound too",
        ),
        Valid(
            """
            import torch

            class TestDtypes:
                def test_mixed_precision(self):
                    class MyModel(torch.nn.Module):
                        def __init__(self) -> None:
                            super().__init__()
                            self.m = torch.nn.Linear(1, 5)

                        def forward(self_, x):
                            self.assertEqual(x.dtype, torch.float16)
                            return self_.m(x)

                    return MyModel()
            """,
            why="`self_` renamed on purpose so the body reaches the test's `self` (torch's own test suite)",
        ),
        Valid(
            """
            import mindspore.nn as nn

            class Net(nn.Cell):
                def construct(self, x):
                    return self.forward(x)

                @staticmethod
                def forward(x):
                    return x * 2

            class Helper:
                @staticmethod
                def forward(x):
                    return x
            """,
            why="a static helper called `forward` in a Cell (whose entry point is construct), and a plain class",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls, meth in entry_points(model):
            if meth.is_classmethod or _overridden_placeholder(model, cls, meth):
                continue
            if meth.is_static:
                report(
                    meth.node.name,
                    method=meth.name,
                    cls=cls.name,
                    problem="is a @staticmethod",
                    why=(
                        "it cannot reach the module's state, and TorchScript/torch.fx pass the module as its first argument"
                        if cls.framework == "torch"
                        else "it runs in PyNative, but GRAPH mode and @jit fail to compile it"
                    ),
                    hint="drop @staticmethod and take 'self' first, or make it a plain function",
                )
                continue
            p = meth.node.params
            if not meth.params:
                if isinstance(p.star_arg, cst.Param):
                    continue  # def forward(*args): the instance is args[0]
                report(
                    meth.node.name,
                    fix=_insert_self(meth),
                    method=meth.name,
                    cls=cls.name,
                    problem="takes no parameter",
                    why="every call passes the instance and raises TypeError",
                    hint="take 'self' as the first parameter",
                )
                continue
            first = meth.params[0]
            if "self" in first or first in _instance_names(cls, meth):
                continue  # self_ / _self: renamed on purpose, usually to reach an enclosing `self`
            all_params = {x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params)}
            # in a class defined inside a function, `self.` in the body may be the enclosing method's self
            fix = _insert_self(meth) if meth.uses_self_attr and "self" not in all_params and not cls.in_function else None
            report(
                meth.node.name,
                fix=fix,
                method=meth.name,
                cls=cls.name,
                problem=f"takes '{first}' where the instance goes",
                why=f"the module is bound to '{first}', not the input",
                hint="take 'self' as the first parameter",
            )
