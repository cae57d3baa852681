from __future__ import annotations

from ..model import FileModel, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._tensors import plain_tensors


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
    No automatic fix yet. Turning the tensor into a Parameter adds it to
    `parameters()` and `state_dict()`: optimizers built from the old list and
    old checkpoints see a different set.

    ## References
    - [torch.nn.parameter.Parameter](https://pytorch.org/docs/stable/generated/torch.nn.parameter.Parameter.html)
    """

    code = "MRG202"
    name = "grad-tensor-not-parameter"
    summary = "A `requires_grad=True` tensor stored instead of an `nn.Parameter`"
    frameworks = frozenset({"torch"})
    message = "tensor 'self.{attr}' requires grad but is not a Parameter: the optimizer never sees it"
    fix_hint = "wrap it: nn.Parameter(...) (requires_grad=True is the default)"

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
        ),
    )

    valid = (
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
            report(a.node, attr=a.attr)
