from __future__ import annotations

import libcst as cst

from ..model import FileModel, Scope, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid

#: Tensor methods that return the Parameter itself only when they change nothing (same device, dtype):
#: otherwise a new, non-leaf plain tensor.
_CONVERSIONS = frozenset("to cuda cpu float double half bfloat16 long int short bool byte char type type_as".split())
#: Methods (and ``.data``) that always give a plain tensor.
_ALWAYS_PLAIN = frozenset(
    "clone detach view view_as reshape reshape_as expand expand_as repeat unsqueeze squeeze permute transpose t "
    "flatten add mul sub div pow exp log sqrt abs neg masked_fill sum mean".split()
)
#: Methods that return the Parameter itself: followed through, never a loss by themselves.
_SELF_RETURNING = frozenset({"requires_grad_", "share_memory_"})
_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Power, cst.MatrixMultiply)


def _loses_parameter(model: FileModel, e: cst.BaseExpression, scope: Scope, order: int) -> str | None:
    """The operation that turns a torch Parameter into a plain tensor in ``e``, or None."""
    if isinstance(e, cst.BinaryOperation) and isinstance(e.operator, _ARITHMETIC):
        for side in (e.left, e.right):
            if _is_parameter(model, side, scope, order):
                return "arithmetic"
        return None
    lost = None
    while True:
        if isinstance(e, cst.Attribute) and e.attr.value == "data":
            lost, e = lost or ".data", e.value
            continue
        if isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute):
            method = e.func.attr.value
            if method in _CONVERSIONS or method in _ALWAYS_PLAIN:
                lost, e = f".{method}()", e.func.value
                continue
            if method in _SELF_RETURNING:
                e = e.func.value
                continue
        break
    if lost and _is_parameter(model, e, scope, order):
        return lost
    return None


def _is_parameter(model: FileModel, e: cst.BaseExpression, scope: Scope, order: int) -> bool:
    k = model.kind_of(e, scope, order)
    return k.tag is Tag.PARAMETER and k.framework == "torch"


class ParameterConvertedToTensor(Rule):
    """
    ## What it does
    Finds a torch `nn.Parameter` that is converted or computed on before it is
    stored on the module: `self.w = nn.Parameter(t).to(device)`, `.cuda()`,
    `.half()`, `.double()`, `.float()`, `.view(...)`, `.clone()`, `.data`,
    `nn.Parameter(t) * 1`, also through a local (`p = nn.Parameter(t)`,
    `self.w = p.cuda()`).

    ## Why is this bad?
    `Parameter` is a tensor subclass, and tensor operations return plain
    tensors. When `.to()`/`.cuda()`/`.half()` actually convert, the result is a
    new, non-leaf `Tensor` (measured with torch 2.13: `nn.Parameter(t).double()`
    and `nn.Parameter(t) * 1` are `Tensor` with `is_leaf=False`); assigned to
    the module it is a plain attribute, so it is missing from `parameters()`
    (the optimizer never updates it) and from `state_dict()`. Nothing raises:
    gradients flow back to the lost Parameter, which nobody holds.

    The same-device subtlety: when the call converts nothing, torch returns the
    Parameter itself (`nn.Parameter(t).to('cpu')` and `.float()` on a float32
    CPU tensor are still the Parameter). So the code works on a CPU-only test
    machine and silently loses the parameter on a GPU (`.to('cuda')` from a CPU
    tensor gives a plain tensor), or when the dtype changes. It is reported
    either way: the call is there to convert.

    Not reported: `nn.Parameter(t.to(device))` (convert the data, then wrap),
    `.requires_grad_()` and `.share_memory_()` (they return the Parameter), and
    modules moved with `.to()` (a Module's `.to()` returns the module).

    ## Example
    ```python
    class Net(nn.Module):
        def __init__(self, device):
            super().__init__()
            self.w = nn.Parameter(torch.randn(4)).to(device)
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def __init__(self, device):
            super().__init__()
            self.w = nn.Parameter(torch.randn(4, device=device))  # or torch.randn(4).to(device)
    ```
    or create the Parameter on the CPU and move the whole module:
    `Net().to(device)`, which converts Parameters in place and keeps them
    registered.

    ## Fix safety
    No automatic fix. Moving the call inside (`nn.Parameter(t.to(device))`) is
    the fix for conversions and would be safe in meaning (the module gains the
    intended parameter); it would still change `parameters()` and
    `state_dict()` keys, so optimizers and checkpoints built before see a new
    entry. For arithmetic (`* 1`, `.view()`), the intent is unclear: keep the
    Parameter and apply the operation in `forward`.

    ## References
    - [torch.nn.Parameter](https://pytorch.org/docs/stable/generated/torch.nn.parameter.Parameter.html)
    - [torch.Tensor.to (returns self when nothing changes)](https://pytorch.org/docs/stable/generated/torch.Tensor.to.html)
    - [torch.nn.Module.to (modifies parameters in place)](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.to)
    """

    code = "MRG204"
    name = "parameter-converted-to-tensor"
    summary = "A Parameter turned into a plain tensor (`.to()`, `.cuda()`, `.half()`, `* 1`) before it is stored"
    frameworks = frozenset({"torch"})
    message = "'self.{attr}' holds a plain tensor made by {op} on a Parameter"
    fix_hint = "convert the data first, nn.Parameter(t.to(device)), or move the whole module with .to()"

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Scale(nn.Module):
                def __init__(self, dim=4, device="cpu"):
                    super().__init__()
                    self.gain = nn.Parameter(torch.ones(dim)).double()
                    self.bias = nn.Parameter(torch.zeros(dim)).to(device)

                def forward(self, x):
                    return x * self.gain + self.bias
            """,
            at=[(7, 8), (8, 8)],
            title="a dtype conversion and a device move (the latter loses it only when the device changes)",
            probe=Probe(
                cls="Scale",
                attr="gain",
                where=("parameters", "state_dict"),
                twin="""
                import torch
                import torch.nn as nn

                class Scale(nn.Module):
                    def __init__(self, dim=4, device="cpu"):
                        super().__init__()
                        self.gain = nn.Parameter(torch.ones(dim).double())
                        self.bias = nn.Parameter(torch.zeros(dim).to(device))

                    def forward(self, x):
                        return x * self.gain + self.bias
                """,
            ),
        ),
        Invalid(
            """
            import torch
            from torch import nn
            from torch.nn import Parameter

            class Head(nn.Module):
                def __init__(self, dim=4):
                    super().__init__()
                    w = Parameter(torch.randn(dim, dim))
                    self.weight = w * 1
                    self.scale = Parameter(torch.ones(1)).half().requires_grad_()
                    self.proj = w.view(-1).data

                def forward(self, x):
                    return x @ self.weight
            """,
            at=[(9, 8), (10, 8), (11, 8)],
            title="arithmetic through a local, a chain, and .data",
            probe=Probe(
                cls="Head",
                attr="weight",
                where=("parameters", "state_dict"),
                twin="""
                import torch
                from torch import nn
                from torch.nn import Parameter

                class Head(nn.Module):
                    def __init__(self, dim=4):
                        super().__init__()
                        self.weight = Parameter(torch.randn(dim, dim))
                        self.scale = Parameter(torch.ones(1).half())
                        self.proj = Parameter(torch.randn(dim * dim))

                    def forward(self, x):
                        return x @ self.weight
                """,
            ),
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self, dim=4, device="cpu"):
                    super().__init__()
                    self.w = nn.Parameter(torch.randn(dim).to(device))
                    self.b = nn.Parameter(torch.zeros(dim, device=device)).requires_grad_(False)
                    self.fc = nn.Linear(dim, dim).to(device)
                    self.register_buffer("mask", torch.ones(dim).to(device))

                def forward(self, x):
                    scaled = self.w * 2
                    return self.fc(x) * scaled + self.b
            """,
            why="convert then wrap, a Parameter-returning call, a module moved with .to(), and forward arithmetic",
        ),
        Valid(
            """
            import torch
            from mindspore import Parameter, Tensor

            class Holder:
                def __init__(self):
                    self.w = Parameter(Tensor([1.0])) * 2
                    self.t = torch.nn.Parameter(torch.ones(2)).cuda()
            """,
            why="not a Module (a plain class), and a MindSpore Parameter",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls in model.modules:
            if cls.framework != "torch":
                continue
            for a in cls.self_assigns:
                op = _loses_parameter(model, a.value, a.scope, a.order)
                if op is not None:
                    report(a.node, attr=a.attr, op=op)
