from __future__ import annotations

from ..model import FileModel
from ._base import Invalid, Reporter, Rule, Valid
from .missing_super_init import STATE_CALLS, STATE_TAGS, _WHAT

_RAISES = {
    "torch": "torch raises AttributeError (cannot assign {what} before Module.__init__() call)",
    "mindspore": "MindSpore raises AttributeError (Cell.__init__ has not run)",
}


class StateBeforeSuperInit(Rule):
    """
    ## What it does
    Finds a sub-module, `Parameter` or buffer stored on `self` in `__init__`
    -- by assignment or by `register_buffer`/`register_parameter`/`add_module`
    (`insert_param_to_cell`/`insert_child_to_cell` in MindSpore) -- before the
    `super().__init__()` call of the same `__init__`. Statements are compared in
    source order.

    Plain values (`self.dim = dim`, a plain tensor, `None`) before
    `super().__init__()` are fine and not reported: they work at run time.

    ## Why is this bad?
    The base initialiser creates the dictionaries that registration writes to.
    Before it has run, torch raises `AttributeError: cannot assign module before
    Module.__init__() call` (or `parameters`/`buffer`); MindSpore 2.10 raises
    `AttributeError` too (`'_auto_prefix'` for a Cell, `please call
    Cell.__init__() firstly` for a Parameter). The class cannot be built.

    MindSpore runtime truth:
    `tests/test_mindspore_truth.py::test_mrg402_parameter_before_cell_init_raises`.

    ## Example
    ```python
    class Net(nn.Module):
        def __init__(self, dim):
            self.fc = nn.Linear(dim, 2)
            super().__init__()
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.fc = nn.Linear(dim, 2)
    ```

    ## Fix safety
    No automatic fix: moving `super().__init__(...)` up is only right when its
    arguments do not depend on the statements before it, which is often why it
    was placed later.

    ## References
    - [torch.nn.Module](https://pytorch.org/docs/stable/generated/torch.nn.Module.html) ("`__init__()` call to the parent class must be made before assignment on the child")
    - [mindspore.nn.Cell](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    """

    code = "MRG402"
    name = "state-before-super-init"
    summary = "A sub-module, Parameter or buffer stored before `super().__init__()`"
    message = "'self.{attr}' stores a {what} before super().__init__() has run"
    fix_hint = "call super().__init__() before storing sub-modules, parameters or buffers: {consequence}"
    fix_summary = "call super().__init__() before storing sub-modules, parameters or buffers"

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self, dim):
                    self.dim = dim
                    self.fc = nn.Linear(dim, 2)
                    self.scale = nn.Parameter(torch.ones(1))
                    self.register_buffer("mask", torch.ones(dim))
                    super().__init__()

                def forward(self, x):
                    return self.fc(x * self.mask) * self.scale
            """,
            at=[(7, 8), (8, 8), (9, 8)],
            title="a layer, a Parameter and a buffer before the base initialiser (the plain int is fine)",
        ),
        Invalid(
            """
            from torch import nn

            class Block(nn.Module):
                def __init__(self, layers):
                    if layers:
                        self.body = nn.Sequential(*layers)
                    super(Block, self).__init__()
            """,
            at=[(6, 12)],
            title="inside a branch",
        ),
        Invalid(
            """
            import mindspore
            from mindspore import nn, Parameter

            class Net(nn.Cell):
                def __init__(self):
                    self.w = Parameter(mindspore.ops.ones(2))
                    super().__init__()

                def construct(self, x):
                    return x * self.w
            """,
            at=[(6, 8)],
            title="MindSpore: a Parameter before Cell.__init__",
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self, dim):
                    self.dim = dim
                    self.head = None
                    self.eps = 1e-5
                    super().__init__()
                    self.fc = nn.Linear(dim, 2)
                    self.register_buffer("mask", torch.ones(dim))

                def forward(self, x):
                    return self.fc(x)

                def reset(self):
                    self.fc = nn.Linear(self.dim, 2)
            """,
            why="plain values before super().__init__() work; state after it, or in another method, is fine",
        ),
        Valid(
            """
            import torch.nn as nn

            class Lazy(nn.Module):
                def __init__(self, dim):
                    def build():
                        self.fc = nn.Linear(dim, 2)
                    super().__init__()
                    build()
            """,
            why="a nested function runs when it is called, not where it is defined",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls in model.modules:
            meth = cls.methods.get("__init__")
            if meth is None or meth.super_init is None:
                continue
            before = meth.super_init[1]
            for a in cls.self_assigns:
                if a.method != "__init__" or a.order >= before:
                    continue
                tag = model.kind_of(a.value, a.scope, a.order).tag
                if tag in STATE_TAGS:
                    what = _WHAT[tag]
                    raises = _RAISES[cls.framework].format(what="parameters" if what == "parameter" else what)
                    report(a.node, attr=a.attr, what=what, consequence=raises)
            for c in cls.self_calls:
                if c.method == "__init__" and c.name in STATE_CALLS and c.order < before:
                    what = "buffer" if "buffer" in c.name else "parameter" if "param" in c.name else "module"
                    raises = _RAISES[cls.framework].format(what="parameters" if what == "parameter" else what)
                    report(c.node, attr=c.literal_arg(0) or "?", what=what, consequence=raises)
