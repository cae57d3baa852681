from __future__ import annotations

import libcst as cst

from ..model import FileModel, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._tensors import plain_tensors

_SCALAR_MAKERS = frozenset({"mindspore.Tensor", "mindspore.tensor"})


def _scalar_expr(e: cst.BaseExpression, model: FileModel) -> bool:
    """A number-valued expression: literals, names, attributes, arithmetic, math.*/int()/float()."""
    if isinstance(e, (cst.Integer, cst.Float, cst.Name, cst.Attribute)):
        return True
    if isinstance(e, cst.UnaryOperation):
        return _scalar_expr(e.expression, model)
    if isinstance(e, cst.BinaryOperation):
        return _scalar_expr(e.left, model) and _scalar_expr(e.right, model)
    if isinstance(e, cst.Call):
        q = model.qualify(e.func)
        name = e.func.value if isinstance(e.func, cst.Name) else None
        return ((q or "").startswith("math.") or name in ("int", "float")) and all(
            _scalar_expr(a.value, model) for a in e.args
        )
    return False


def _scalar_constant(value: cst.BaseExpression, model: FileModel) -> bool:
    """``Tensor(0.5, mstype.float32)``, ``Tensor(1 / math.sqrt(d))``: a scalar constant."""
    if not isinstance(value, cst.Call) or model.qualify(value.func) not in _SCALAR_MAKERS:
        return False
    args = [a for a in value.args if a.keyword is None or a.keyword.value in ("input_data", "data")]
    return bool(args) and _scalar_expr(args[0].value, model)


class MsTensorAsPlainAttribute(Rule):
    """
    ## What it does
    Finds a MindSpore tensor created in `__init__` of an `nn.Cell` and stored
    as a plain attribute: `self.x = Tensor(...)`, `mindspore.tensor(...)`,
    `ops.zeros/ones/full/randn/...(...)`, `mindspore.numpy.*(...)`, or a
    tensor computed from one of these (`ops.exp(t)`, `t.astype(...)`).

    ## Why is this bad?
    MindSpore has one kind of persistent state: `Parameter`. A plain tensor
    attribute is not in `get_parameters()`/`parameters_dict()` and not in the
    checkpoint `mindspore.save_checkpoint(net, ...)` writes, so state kept in it
    (running statistics, a step counter, a loaded embedding table) is silently
    lost on save/load; and `Cell.to(mindspore.float16)` casts Parameters and
    buffers but leaves it behind (measured with MindSpore 2.10:
    `Float16` for the Parameter, `Float32` for the plain tensor).
    This is exactly how MindSpore keeps BatchNorm's `moving_mean` and
    `moving_variance`: as `Parameter(..., requires_grad=False)`.

    Not reported: names registered with `self.register_buffer(...)` or
    `self.insert_param_to_cell(...)`, Parameters, operators such as
    `ops.ReLU()` (a primitive, not a tensor), tensors built in `construct`, and
    scalar constants (`Tensor(0.5, mstype.float32)`,
    `Tensor(1 / math.sqrt(d))`), which MindSpore code conventionally keeps as
    attributes for graph mode and which `__init__` recreates anyway.

    ## Example
    ```python
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.running_mean = Tensor(np.zeros(4), mindspore.float32)
    ```

    ## Use instead
    ```python
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.running_mean = Parameter(Tensor(np.zeros(4), mindspore.float32), requires_grad=False)
    ```
    `Parameter(..., requires_grad=False)` is in `get_parameters()` and in
    checkpoints, and the optimizer must then be given `trainable_params()`
    (see MRG503). MindSpore 2.10 also has `Cell.register_buffer(name, tensor)`
    (older MindSpore lacked it): a buffer is in `buffers()`, `state_dict()` and
    is cast by `Cell.to()`, but `save_checkpoint(net, ...)` does not write it
    (measured; `save_checkpoint(net.state_dict(), ...)` does). For a derived
    constant, `register_buffer(name, t, persistent=False)` is the closest
    match to torch's non-persistent buffer.

    ## Fix safety
    No automatic fix. Wrapping the tensor in
    `Parameter(..., requires_grad=False)` would be unsafe: it adds a
    checkpoint key (old checkpoints then lack it and `load_checkpoint` reports
    it as not loaded), and a `get_parameters()`-fed optimizer starts updating it
    with weight decay (MRG503).

    ## References
    - [mindspore.Parameter](https://www.mindspore.cn/docs/en/master/api_python/mindspore/mindspore.Parameter.html)
    - [mindspore.nn.Cell.register_buffer](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    - [mindspore.nn.BatchNorm2d (moving_mean, moving_variance)](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.BatchNorm2d.html)
    """

    code = "MRG203"
    name = "ms-tensor-as-plain-attribute"
    summary = "A MindSpore tensor stored as a plain attribute of a Cell"
    frameworks = frozenset({"mindspore"})
    message = "MindSpore tensor 'self.{attr}' is a plain attribute: not in get_parameters() nor in checkpoints"
    fix_hint = "use Parameter(..., requires_grad=False) (how BatchNorm keeps moving_mean) or self.register_buffer('{attr}', ...)"
    fix_summary = "`Parameter(Tensor(...), requires_grad=False)` or `self.register_buffer(name, ...)`"

    invalid = (
        Invalid(
            """
            import numpy as np
            import mindspore
            from mindspore import nn, ops, Tensor

            class RunningNorm(nn.Cell):
                def __init__(self, dim=4):
                    super().__init__()
                    self.running_mean = Tensor(np.zeros(dim), mindspore.float32)
                    self.running_var = ops.ones((dim,), mindspore.float32)
                    self.count = mindspore.tensor([0.0])

                def construct(self, x):
                    return (x - self.running_mean) / ops.sqrt(self.running_var + 1e-5)
            """,
            at=[(8, 8), (9, 8), (10, 8)],
            title="running statistics kept as plain tensors",
            probe=Probe(
                cls="RunningNorm",
                attr="running_mean",
                framework="mindspore",
                twin="""
                import numpy as np
                import mindspore
                from mindspore import nn, ops, Tensor, Parameter

                class RunningNorm(nn.Cell):
                    def __init__(self, dim=4):
                        super().__init__()
                        self.running_mean = Parameter(Tensor(np.zeros(dim), mindspore.float32), requires_grad=False)
                        self.running_var = Parameter(ops.ones((dim,), mindspore.float32), requires_grad=False)
                        self.count = Parameter(mindspore.tensor([0.0]), requires_grad=False)

                    def construct(self, x):
                        return (x - self.running_mean) / ops.sqrt(self.running_var + 1e-5)
                """,
            ),
        ),
        Invalid(
            """
            import mindspore as ms
            import mindspore.numpy as mnp
            from mindspore import ops

            class Embed(ms.nn.Cell):
                def __init__(self, n=8, d=4):
                    super().__init__()
                    table = mnp.randn(n, d)
                    self.table = ops.tanh(table)
                    self.mask = mnp.ones((n,)).astype(ms.int32)

                def construct(self, idx):
                    return self.table[idx] * self.mask[idx].expand_dims(-1)
            """,
            at=[(9, 8), (10, 8)],
            title="mindspore.numpy, through a local, an ops function and a method",
            probe=Probe(
                cls="Embed",
                attr="table",
                framework="mindspore",
                twin="""
                import mindspore as ms
                import mindspore.numpy as mnp
                from mindspore import ops

                class Embed(ms.nn.Cell):
                    def __init__(self, n=8, d=4):
                        super().__init__()
                        table = mnp.randn(n, d)
                        self.table = ms.Parameter(ops.tanh(table), requires_grad=False)
                        self.register_buffer("mask", mnp.ones((n,)).astype(ms.int32))

                    def construct(self, idx):
                        return self.table[idx] * self.mask[idx].expand_dims(-1)
                """,
            ),
        ),
    )

    valid = (
        Valid(
            """
            import math
            import numpy as np
            import mindspore
            from mindspore import nn, ops, Tensor, Parameter
            from mindspore import dtype as mstype

            class Attention(nn.Cell):
                def __init__(self, dim=4):
                    super().__init__()
                    self.moving_mean = Parameter(Tensor(np.zeros(dim), mindspore.float32), requires_grad=False)
                    self.register_buffer("mask", ops.ones((dim, dim)))
                    self.insert_param_to_cell("bias", Parameter(ops.zeros(dim), name="bias"))
                    self.scale = Tensor(1.0 / math.sqrt(dim), mstype.float32)
                    self.eps = Tensor(1e-5)
                    self.softmax = ops.Softmax(-1)
                    self.matmul = ops.BatchMatMul()

                def construct(self, q, k):
                    noise = ops.zeros_like(q)
                    return self.softmax(self.matmul(q, k) * self.scale) + noise + self.moving_mean + self.mask
            """,
            why="a Parameter (requires_grad=False), a registered buffer and param, scalar constants, "
            "ops primitives, and construct locals",
        ),
        Valid(
            """
            import numpy as np
            import torch
            from mindspore import Tensor

            class Points(torch.utils.data.Dataset):
                def __init__(self):
                    self.data = Tensor(np.ones((10, 2)))

                def __getitem__(self, i):
                    return self.data[i]
            """,
            why="not a Cell: tensors on a dataset are fine",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for _cls, a in plain_tensors(model, Tag.MS_TENSOR, framework="mindspore"):
            if not _scalar_constant(a.value, model):
                report(a.node, attr=a.attr)
