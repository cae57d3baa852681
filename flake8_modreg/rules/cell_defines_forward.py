from __future__ import annotations

from ..findings import Applicability
from ..model import FileModel
from ._base import Invalid, Reporter, Rule, Valid
from ._naming import rename_fix, wrong_entry_point


class CellDefinesForward(Rule):
    """
    ## What it does
    Finds a MindSpore `nn.Cell` subclass that defines `forward` (torch's name
    for the forward pass) but no `construct`, in the class or any base of the
    same file.

    ## Why is this bad?
    MindSpore calls `construct`; `forward` is never run. The first call
    `net(x)` raises `AttributeError: For 'Cell', the method 'construct' is not
    defined.` (checked with MindSpore 2.10). Graph mode compiles `construct`
    only, so nothing in `forward` is ever compiled either.

    ## Example
    ```python
    class Net(nn.Cell):
        def forward(self, x):
            return self.dense(x)
    ```

    ## Use instead
    ```python
    class Net(nn.Cell):
        def construct(self, x):
            return self.dense(x)
    ```

    ## Fix safety
    The fix renames `forward` to `construct` and is **safe**: under its old name the
    method could never run, so nothing that worked before changes. It is not
    offered when the file accesses an attribute named `forward` anywhere
    (`self.forward(x)`, `super().forward(x)`), which the rename would break.

    ## References
    - [mindspore.nn.Cell](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    """

    code = "MRG302"
    name = "cell-defines-forward"
    summary = "A MindSpore Cell with torch's `forward` and no `construct`"
    frameworks = frozenset({"mindspore"})
    message = "MindSpore Cell '{cls}' defines torch's 'forward' but no 'construct': calling it raises"
    fix_hint = "rename 'forward' to 'construct'"
    fix_safety = Applicability.SAFE

    invalid = (
        Invalid(
            """
            import mindspore.nn as nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = nn.Dense(4, 2)

                def forward(self, x):
                    return self.dense(x)
            """,
            at=[(8, 8)],
            fixed="""
            import mindspore.nn as nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = nn.Dense(4, 2)

                def construct(self, x):
                    return self.dense(x)
            """,
            title="a Cell ported from torch",
        ),
    )

    valid = (
        Valid(
            """
            import mindspore.nn as nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = nn.Dense(4, 2)

                def construct(self, x):
                    return self.forward(x)

                def forward(self, x):
                    return self.dense(x)
            """,
            why="construct exists and delegates to a helper named forward",
        ),
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def forward(self, x):
                    return x
            """,
            why="a torch Module, where forward is right",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls, meth in wrong_entry_point(model, "mindspore", "forward", "construct"):
            report(meth.node.name, fix=rename_fix(model, meth, 'construct'), cls=cls.name)
