from __future__ import annotations

from ..findings import Applicability
from ..model import FileModel
from ._base import Invalid, Reporter, Rule, Valid
from ._naming import rename_fix, wrong_entry_point


class CellDefinesForward(Rule):
    """
    ## What it does
    Finds a MindSpore `nn.Cell` subclass that defines `forward` (torch's name
    for the forward pass) but no `construct`, in the class or any base -- of
    the same file, or of another file read through the resolver (the file's
    imports followed on disk: relative imports, the project, installed
    packages).

    ## Why is this bad?
    MindSpore calls `construct`; `forward` is never run. The first call
    `net(x)` raises `AttributeError: For 'Cell', the method 'construct' is not
    defined.` (checked with MindSpore 2.10). Graph mode compiles `construct`
    only, so nothing in `forward` is ever compiled either. The same holds
    for subclasses of `nn.LossBase`, `nn.Optimizer`, `nn.CellList` and
    `nn.CellDict`, whose inherited `construct` only raises
    (`NotImplementedError`; the list is generated from the 2.10 wheel by
    `scripts/gen_known.py`). Runtime truth:
    `tests/test_mindspore_probes.py::test_mrg302_*` calls each example.

    Silent when `construct` may come from a base: a layer (`nn.Dense`,
    `nn.SequentialCell`), a class of another file that (or a base of which)
    binds `construct`, is decorated, or cannot be read (flake8 on stdin
    without a file name reads no other file).
    `tests/test_resolver_members.py` holds the cross-file cases.

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
    message = "MindSpore Cell '{cls}' defines torch's 'forward' but no 'construct'"
    fix_hint = "rename 'forward' to 'construct' (calling the cell raises)"
    fix_summary = "rename 'forward' to 'construct'"
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
        Invalid(
            """
            import mindspore.nn as nn
            from mindspore import ops

            class L1(nn.LossBase):
                def forward(self, logits, labels):
                    return self.get_loss(ops.abs(logits - labels))

            class PlainSGD(nn.Optimizer):
                def __init__(self, params, learning_rate=0.1):
                    super().__init__(learning_rate, params)

                def forward(self, gradients):
                    return gradients
            """,
            at=[(5, 8), (12, 8)],
            fixed="""
            import mindspore.nn as nn
            from mindspore import ops

            class L1(nn.LossBase):
                def construct(self, logits, labels):
                    return self.get_loss(ops.abs(logits - labels))

            class PlainSGD(nn.Optimizer):
                def __init__(self, params, learning_rate=0.1):
                    super().__init__(learning_rate, params)

                def construct(self, gradients):
                    return gradients
            """,
            title="nn.LossBase and nn.Optimizer subclasses: their inherited construct only raises",
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
