from __future__ import annotations

from ..findings import Applicability
from ..model import FileModel
from ._base import Invalid, Reporter, Rule, Valid
from ._naming import rename_fix, wrong_entry_point


class TorchModuleDefinesConstruct(Rule):
    """
    ## What it does
    Finds a torch `nn.Module` subclass that defines `construct` (MindSpore's
    name for the forward pass) but no `forward`, in the class or any base --
    of the same file, or of another file read through the resolver. A base
    that only overrides `__call__` (Hugging Face's
    `GradientCheckpointingLayer`) still ends in `Module.__call__`, which calls
    `forward`: it does not make `construct` run (runtime truth:
    `tests/test_resolver_members.py`). Silent when a base may provide
    `forward`: a torch layer (`nn.Sequential`), a class of another file that
    binds it, is decorated, or cannot be read.

    ## Why is this bad?
    torch calls `forward`; `construct` is never run. The class builds, its
    parameters are there, and the first call `model(x)` raises
    `NotImplementedError: Module [MyNet] is missing the required "forward"
    function`. It is the typical slip when porting between MindSpore and
    PyTorch: the API-mapping pages that compare the two frameworks contain
    exactly this mistake in their torch half.

    ## Example
    ```python
    class MyNet(nn.Module):
        def construct(self, x):
            return self.build_block(x)
    ```

    ## Use instead
    ```python
    class MyNet(nn.Module):
        def forward(self, x):
            return self.build_block(x)
    ```

    ## Fix safety
    The fix renames `construct` to `forward` and is **safe**: under its old name the
    method could never run, so nothing that worked before changes. It is not
    offered when the file accesses an attribute named `construct` anywhere
    (`self.construct(x)`, `super().construct(x)`), which the rename would break.

    ## References
    - [torch.nn.Module.forward](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.forward)
    """

    code = "MRG301"
    name = "torch-module-defines-construct"
    summary = "A torch Module with MindSpore's `construct` and no `forward`"
    frameworks = frozenset({"torch"})
    message = "torch Module '{cls}' defines MindSpore's 'construct' but no 'forward'"
    fix_hint = "rename 'construct' to 'forward' (calling the module raises NotImplementedError)"
    fix_summary = "rename 'construct' to 'forward'"
    fix_safety = Applicability.SAFE

    invalid = (
        Invalid(
            """
            import torch.nn as nn

            class ConvBN(nn.Module):
              def __init__(self):
                super(ConvBN, self).__init__()
                self.conv = nn.Conv2d(3, 64, 3)
                self.bn = nn.BatchNorm2d(64)
              def forward(self, x):
                x = self.conv(x)
                x = self.bn(x)
                return x

            class MyNet(nn.Module):
              def __init__(self):
                super(MyNet, self).__init__()
                self.build_block = nn.Sequential(ConvBN(), nn.ReLU())
              def construct(self, x):
                return self.build_block(x)
            """,
            at=[(17, 6)],
            fixed="""
            import torch.nn as nn

            class ConvBN(nn.Module):
              def __init__(self):
                super(ConvBN, self).__init__()
                self.conv = nn.Conv2d(3, 64, 3)
                self.bn = nn.BatchNorm2d(64)
              def forward(self, x):
                x = self.conv(x)
                x = self.bn(x)
                return x

            class MyNet(nn.Module):
              def __init__(self):
                super(MyNet, self).__init__()
                self.build_block = nn.Sequential(ConvBN(), nn.ReLU())
              def forward(self, x):
                return self.build_block(x)
            """,
            title="the seeds' torch half: MyNet keeps MindSpore's construct",
        ),
        Invalid(
            """
            from torch import nn

            class Base(nn.Module):
                pass

            class Net(Base):
                async def construct(self, x):
                    return x
            """,
            at=[(7, 14)],
            fixed="""
            from torch import nn

            class Base(nn.Module):
                pass

            class Net(Base):
                async def forward(self, x):
                    return x
            """,
            title="through a base of the same file",
        ),
        Invalid(
            """
            from torch import nn

            class Net(nn.Module):
                def construct(self, x):
                    return x

                def run(self, x):
                    return self.construct(x)
            """,
            at=[(4, 8)],
            fixed=None,
            title="no automatic rename while something calls `construct` by name",
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn
            from mylib.layers import Backbone

            class A(nn.Module):
                def forward(self, x):
                    return self.construct(x)

                def construct(self, x):
                    return x

            class B(A):
                def construct(self, x):
                    return x * 2

            class C(nn.Sequential):
                def construct(self):
                    return list(self)

            class D(Backbone):
                def construct(self, x):
                    return x
            """,
            why="forward exists (here or in a base); nn.Sequential has its own forward; an imported base may define it",
        ),
        Valid(
            """
            from mindspore import nn

            class MyNet(nn.Cell):
                def __init__(self):
                    super(MyNet, self).__init__()
                    self.build_block = nn.SequentialCell(nn.Dense(2, 2), nn.ReLU())
                def construct(self, x):
                    return self.build_block(x)
            """,
            why="a MindSpore Cell, where construct is right",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls, meth in wrong_entry_point(model, "torch", "construct", "forward"):
            report(meth.node.name, fix=rename_fix(model, meth, 'forward'), cls=cls.name)
