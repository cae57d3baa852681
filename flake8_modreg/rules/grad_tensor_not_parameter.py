from __future__ import annotations

from ..findings import Applicability
from ..model import FileModel, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._tensors import parameter_fix, plain_tensors


class GradTensorNotParameter(Rule):
    """
    ## What it does
    Finds a tensor made with `requires_grad=True` (or `.requires_grad_()`, or
    `torch.autograd.Variable(..., requires_grad=True)`) in `__init__` of an
    `nn.Module` and stored as a plain attribute.

    ## Why is this bad?
    The author clearly wants a learnable weight, but only `nn.Parameter`s are
    registered: `model.parameters()` does not yield this tensor, so the
    optimizer never updates it, `state_dict()` does not save it, and
    `.to(device)` leaves it behind. Gradients accumulate on it and go nowhere.
    Reported instead of MRG201 for the same statement.

    ## Example
    ```python
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.gamma = torch.ones(8, requires_grad=True)
    ```

    ## Use instead
    ```python
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.gamma = nn.Parameter(torch.ones(8))
    ```

    ## Fix safety
    The fix wraps the value of a single-target `self.name = ...` statement in
    `nn.Parameter(...)` and takes the now redundant request for gradients
    out, keeping the other arguments and their formatting:
    `torch.ones(3, requires_grad=True)` becomes `nn.Parameter(torch.ones(3))`,
    `torch.zeros(3).requires_grad_()` becomes `nn.Parameter(torch.zeros(3))`
    and `Variable(t, requires_grad=True)` becomes `nn.Parameter(t)` (the
    `Variable` import may then be unused). The name is spelled with the
    file's alias, or an import is added as for MRG101.

    The fix is **unsafe** (applied only with `--unsafe-fixes`): the tensor
    joins `parameters()` and `state_dict()`, so optimizers built from the
    old parameter list and checkpoints saved before the fix see a different
    set (`load_state_dict(strict=True)` fails on the missing key). Once a
    Parameter, the attribute only accepts Parameters or `None`.

    No fix is offered where the rewrite is not certain: a tensor computed
    from the grad tensor (`torch.randn(3, requires_grad=True) * 0.01` is not a
    leaf: write `nn.Parameter(torch.randn(3) * 0.01)` yourself), a local
    name (other references keep the old tensor), an assignment before
    `super().__init__()`, tuple or chained targets, a name the class or its
    bases already use, and attributes assigned a non-Parameter elsewhere
    (`self.w = self.w * 0.9` would raise `TypeError`).

    ## References
    - [torch.nn.parameter.Parameter](https://pytorch.org/docs/stable/generated/torch.nn.parameter.Parameter.html)
    """

    code = "MRG202"
    name = "grad-tensor-not-parameter"
    summary = "A `requires_grad=True` tensor stored instead of an `nn.Parameter`"
    frameworks = frozenset({"torch"})
    fix_safety = Applicability.UNSAFE
    message = "'self.{attr}' requires grad but is no Parameter: never trained"
    fix_hint = "the optimizer never sees it: wrap it, nn.Parameter(...) (requires_grad=True is the default)"
    fix_summary = "wrap it: `nn.Parameter(...)` (requires_grad=True is the default)"

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Scale(nn.Module):
                def __init__(self, dim=8):
                    super().__init__()
                    self.gamma = torch.ones(dim, requires_grad=True)
                    self.beta = torch.zeros(dim).requires_grad_()

                def forward(self, x):
                    return x * self.gamma + self.beta
            """,
            at=[(7, 8), (8, 8)],
            title="requires_grad=True and requires_grad_()",
            fixed="""
            import torch
            import torch.nn as nn

            class Scale(nn.Module):
                def __init__(self, dim=8):
                    super().__init__()
                    self.gamma = nn.Parameter(torch.ones(dim))
                    self.beta = nn.Parameter(torch.zeros(dim))

                def forward(self, x):
                    return x * self.gamma + self.beta
            """,
            probe=Probe(
                cls="Scale",
                attr="gamma",
                twin="""
                import torch
                import torch.nn as nn

                class Scale(nn.Module):
                    def __init__(self, dim=8):
                        super().__init__()
                        self.gamma = nn.Parameter(torch.ones(dim))
                        self.beta = nn.Parameter(torch.zeros(dim))

                    def forward(self, x):
                        return x * self.gamma + self.beta
                """,
            ),
        ),
        Invalid(
            """
            import torch
            from torch.autograd import Variable

            class Old(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.w = Variable(torch.randn(3, 3), requires_grad=True)

                def forward(self, x):
                    return x @ self.w
            """,
            at=[(7, 8)],
            title="the pre-0.4 Variable idiom",
            fixed="""
            import torch
            from torch.autograd import Variable

            class Old(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.w = torch.nn.Parameter(torch.randn(3, 3))

                def forward(self, x):
                    return x @ self.w
            """,
            probe=Probe(
                cls="Old",
                attr="w",
                twin="""
                import torch

                class Old(torch.nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.w = torch.nn.Parameter(torch.randn(3, 3))

                    def forward(self, x):
                        return x @ self.w
                """,
            ),
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Scale(nn.Module):
                def __init__(self, dim=8):
                    super().__init__()
                    self.w = torch.randn(dim, requires_grad=True) * 0.01
                    g = torch.ones(dim, requires_grad=True)
                    self.g = g
                    self.m = torch.zeros(dim, requires_grad=True)

                def forward(self, x):
                    self.m = self.m * 0.9 + x.mean(0) * 0.1
                    return x * self.w * self.g
            """,
            at=[(7, 8), (9, 8), (10, 8)],
            title="no fix: not a leaf, a local name, reassigned in forward",
            fixed=None,
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn

            class Frozen(nn.Module):
                def __init__(self, dim=4):
                    super().__init__()
                    self.register_buffer("table", torch.zeros(dim).requires_grad_(False))
                    self.mask = torch.ones(dim).requires_grad_(False)

                def forward(self, x):
                    return x * self.table
            """,
            why="requires_grad_(False): a tensor that is meant not to be trained",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Scale(nn.Module):
                def __init__(self, dim=8):
                    super().__init__()
                    self.gamma = nn.Parameter(torch.ones(dim))
                    self.frozen = torch.ones(dim, requires_grad=False)
                    self.register_buffer("frozen", self.frozen.clone())

                def forward(self, x):
                    h = torch.zeros_like(x, requires_grad=True)
                    return x * self.gamma + h
            """,
            why="a Parameter, requires_grad=False, a registered name, and a forward local",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for _cls, a in plain_tensors(model, Tag.GRAD_TENSOR):
            report(a.node, fix=parameter_fix(model, _cls, a), attr=a.attr)
