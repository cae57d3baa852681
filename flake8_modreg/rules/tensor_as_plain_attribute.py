from __future__ import annotations

from ..findings import Applicability
from ..model import FileModel, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._tensors import buffer_fix, plain_tensors


class TensorAsPlainAttribute(Rule):
    """
    ## What it does
    Finds a torch tensor created in `__init__` of an `nn.Module` and stored as
    a plain attribute (`self.x = torch.randn(1)`, `torch.zeros(...)`,
    `torch.tensor(...)`, `torch.arange(...)`, `torch.from_numpy(...)`,
    `t.clone()`, ...).

    ## Why is this bad?
    A plain tensor attribute is not module state: it is missing from
    `state_dict()` (so it is neither saved nor restored), `.to(device)` and
    `.half()` leave it behind (the first GPU forward then fails with a device
    mismatch, or silently mixes dtypes), and `DataParallel`/DDP replicas do not
    get it. The classic example: `self.my_tensor = torch.randn(1)` next to a
    registered buffer, and only the buffer appears in `state_dict()`.

    Not reported: names registered with `self.register_buffer(...)` (assigning
    a tensor to a buffer's name keeps it a buffer), `nn.Buffer(...)` (registered
    on assignment since torch 2.5), Parameters, and tensors that are locals of
    `forward`.

    ## Example
    ```python
    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.my_tensor = torch.randn(1)
    ```

    ## Use instead
    ```python
    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("my_tensor", torch.randn(1))
    ```
    Use `persistent=False` for a derived cache that should follow `.to()` but
    stay out of checkpoints; use `nn.Parameter(...)` if it should be trained.

    ## Fix safety
    The fix turns a plain single-target `self.name = expr` statement at the
    top level of `__init__` into `self.register_buffer("name", expr)`,
    keeping the statement's trailing comment. The buffer is persistent (it
    is saved); add `persistent=False` by hand for a cache derived from other
    state, or use `nn.Parameter(...)` if it should be trained.

    The fix is **unsafe** (applied only with `--unsafe-fixes`): the buffer
    adds a `state_dict()` key, so checkpoints saved before the fix fail
    `load_state_dict(strict=True)` (missing key), and `.to()`/`.half()` now
    move and cast the tensor, which is the point but changes behaviour.
    Once a buffer, the attribute only accepts tensors or `None`.

    No fix is offered where the rewrite is not certain: statements inside
    `if`/`for`/`with`/`try`, before `super().__init__()` (register_buffer
    would raise), tuple or chained targets, a name the class, a same-file
    base or `nn.Module` already uses (`KeyError: attribute ... already
    exists`), classes with bases from other files, and attributes that are
    assigned again earlier in `__init__` or with a non-tensor anywhere (that
    assignment would raise `TypeError` on a buffer).

    ## References
    - [torch.nn.Module.register_buffer](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.register_buffer)
    - [torch.nn.Buffer](https://pytorch.org/docs/stable/generated/torch.nn.parameter.Buffer.html)
    """

    code = "MRG201"
    name = "tensor-as-plain-attribute"
    summary = "A tensor stored as a plain attribute in `__init__`"
    frameworks = frozenset({"torch"})
    fix_safety = Applicability.UNSAFE
    message = "tensor 'self.{attr}' is a plain attribute: not in state_dict() and not moved by .to()"
    fix_hint = "use self.register_buffer('{attr}', ...) (persistent=False for caches) or nn.Parameter(...)"
    fix_summary = "`self.register_buffer(name, ...)`, `nn.Buffer(...)` or `nn.Parameter(...)`"

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn as nn

            class MyModel(nn.Module):
                def __init__(self):
                    super(MyModel, self).__init__()
                    self.my_tensor = torch.randn(1)  # 参数直接作为模型类成员变量
                    self.register_buffer('my_buffer', torch.randn(1))
                    self.my_param = nn.Parameter(torch.randn(1))

                def forward(self, x):
                    return x
            """,
            at=[(7, 8)],
            title="the seed's MyModel: only my_param and my_buffer reach state_dict()",
            fixed="""
            import torch
            import torch.nn as nn

            class MyModel(nn.Module):
                def __init__(self):
                    super(MyModel, self).__init__()
                    self.register_buffer("my_tensor", torch.randn(1))  # 参数直接作为模型类成员变量
                    self.register_buffer('my_buffer', torch.randn(1))
                    self.my_param = nn.Parameter(torch.randn(1))

                def forward(self, x):
                    return x
            """,
            probe=Probe(
                cls="MyModel",
                attr="my_tensor",
                where=("state_dict",),
                twin="""
                import torch
                import torch.nn as nn

                class MyModel(nn.Module):
                    def __init__(self):
                        super(MyModel, self).__init__()
                        self.register_buffer('my_tensor', torch.randn(1))
                        self.register_buffer('my_buffer', torch.randn(1))
                        self.my_param = nn.Parameter(torch.randn(1))

                    def forward(self, x):
                        return x
                """,
            ),
        ),
        Invalid(
            """
            import math
            import torch
            from torch import nn

            class PositionalEncoding(nn.Module):
                def __init__(self, d_model=8, max_len=16):
                    super().__init__()
                    position = torch.arange(max_len).unsqueeze(1)
                    div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
                    pe = torch.zeros(max_len, d_model)
                    pe[:, 0::2] = torch.sin(position * div_term)
                    self.pe = pe
                    self.mask = torch.ones(max_len).bool()
                    self.scale = torch.tensor(d_model ** -0.5)

                def forward(self, x):
                    return (x + self.pe[: x.size(0)]) * self.scale
            """,
            at=[(12, 8), (13, 8), (14, 8)],
            title="through a local, a method chain, and a scalar tensor",
            fixed="""
            import math
            import torch
            from torch import nn

            class PositionalEncoding(nn.Module):
                def __init__(self, d_model=8, max_len=16):
                    super().__init__()
                    position = torch.arange(max_len).unsqueeze(1)
                    div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
                    pe = torch.zeros(max_len, d_model)
                    pe[:, 0::2] = torch.sin(position * div_term)
                    self.register_buffer("pe", pe)
                    self.register_buffer("mask", torch.ones(max_len).bool())
                    self.register_buffer("scale", torch.tensor(d_model ** -0.5))

                def forward(self, x):
                    return (x + self.pe[: x.size(0)]) * self.scale
            """,
            probe=Probe(
                cls="PositionalEncoding",
                attr="pe",
                where=("state_dict",),
                twin="""
                import math
                import torch
                from torch import nn

                class PositionalEncoding(nn.Module):
                    def __init__(self, d_model=8, max_len=16):
                        super().__init__()
                        position = torch.arange(max_len).unsqueeze(1)
                        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
                        pe = torch.zeros(max_len, d_model)
                        pe[:, 0::2] = torch.sin(position * div_term)
                        self.register_buffer("pe", pe)
                        self.register_buffer("mask", torch.ones(max_len).bool())
                        self.register_buffer("scale", torch.tensor(d_model ** -0.5))

                    def forward(self, x):
                        return (x + self.pe[: x.size(0)]) * self.scale
                """,
            ),
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self, use_mask=True):
                    super().__init__()
                    if use_mask:
                        self.mask = torch.ones(4)
                    self.scale = torch.tensor(1.0)
                    self.cache, self.hits = torch.zeros(4), 0

                def reset(self):
                    self.scale = 1.0

                def forward(self, x):
                    return x * self.scale
            """,
            at=[(8, 12), (9, 8), (10, 8)],
            title="no fix: inside an if, later assigned a float, a tuple target",
            fixed=None,
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn

            class Model(nn.Module):
                def __init__(self, dim=4):
                    super().__init__()
                    self.register_buffer("running", None)
                    self.running = torch.zeros(dim)
                    self.buf = nn.Buffer(torch.ones(dim))
                    self.scale = dim ** -0.5
                    self.cache = None
                    self.w = nn.Parameter(torch.randn(dim))

                def forward(self, x):
                    noise = torch.randn_like(x)
                    return x * self.w * self.scale + noise + self.running + self.buf
            """,
            why="a name registered as a buffer, nn.Buffer, floats, None, a Parameter, and forward locals",
        ),
        Valid(
            """
            import torch
            from torch.utils.data import Dataset

            class Points(Dataset):
                def __init__(self):
                    self.data = torch.randn(10, 2)

                def __getitem__(self, i):
                    return self.data[i]
            """,
            why="not a Module: tensors on a Dataset are fine",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for _cls, a in plain_tensors(model, Tag.TENSOR):
            report(a.node, fix=buffer_fix(model, _cls, a), attr=a.attr)
