from __future__ import annotations

import libcst as cst

from .. import known
from ..model import ClassFacts, FileModel, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._tensors import plain_tensors

_ASSIGN_OPS = frozenset({"mindspore.ops.assign", "mindspore.ops.assign_add", "mindspore.ops.assign_sub"})
#: the operator classes behind them: ``P.Assign()(self.x, v)``, or ``self.assign = P.Assign()`` then ``self.assign(self.x, v)``
_ASSIGN_PRIMITIVES = frozenset({"Assign", "AssignAdd", "AssignSub"})


def _assign_primitive(q: str | None) -> bool:
    """``mindspore.ops.Assign`` / ``mindspore.ops.operations.AssignAdd`` (``from mindspore.ops import operations as P``)."""
    if not q:
        return False
    head, _, name = q.rpartition(".")
    return name in _ASSIGN_PRIMITIVES and (head == "mindspore.ops" or head.startswith("mindspore.ops.operations"))


def _self_attr(node: cst.BaseExpression, self_name: str | None) -> str | None:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == self_name:
        return node.attr.value
    return None


def _in_place(method: str) -> bool:
    """``set_data`` (a Parameter's) and the in-place Tensor methods ``add_``, ``copy_``, ``fill_``, ``zero_``, ..."""
    return method == "set_data" or (method.endswith("_") and not method.startswith("_"))


def _updated(model: FileModel, cls: ClassFacts) -> set[str]:
    """Attributes written after ``__init__``: reassigned, mutated, updated in place or assigned by an operator.

    In any method but ``__init__``: ``self.x = ...``, ``self.x += ...``,
    ``self.x[i] = ...``, ``self.x.add_(...)``/``.copy_(...)``/``.set_data(...)``,
    ``ops.assign(self.x, ...)`` (``assign_add``/``assign_sub``),
    ``P.Assign()(self.x, ...)``, or ``self.assign(self.x, ...)`` where
    ``self.assign = P.Assign()`` (``ops.Assign``/``AssignAdd``/``AssignSub``).
    """
    out = {a.attr for a in cls.self_assigns if a.method != "__init__"}
    out |= {m.attr for m in cls.mutations if m.method != "__init__"}
    assigners = {
        a.attr
        for c in (cls, *cls.ancestors())
        for a in c.self_assigns
        if isinstance(a.value, cst.Call) and _assign_primitive(model.qualify(a.value.func))
    }
    for site in model.calls:
        if site.cls is not cls or site.method is None or site.method.name == "__init__":
            continue
        func, self_name = site.node.func, site.method.self_name
        if isinstance(func, cst.Attribute) and _in_place(func.attr.value):
            attr = _self_attr(func.value, self_name)
            if attr is not None:
                out.add(attr)
                continue
        if not site.node.args:
            continue
        if (
            model.qualify(func) in _ASSIGN_OPS
            or (isinstance(func, cst.Call) and _assign_primitive(model.qualify(func.func)))
            or _self_attr(func, self_name) in assigners
        ):
            attr = _self_attr(site.node.args[0].value, self_name)
            if attr is not None:
                out.add(attr)
    return out


_INITIALIZER = "mindspore.common.initializer.initializer"


def random_value(model: FileModel, e: cst.BaseExpression, scope, order=None, depth: int = 0) -> bool:
    """Does ``e`` hold values drawn at random when ``__init__`` runs?

    ``initializer(Normal(...), shape)`` (or a random alias: ``'xavier_uniform'``),
    ``ops.randn``/``mint.rand``/``mindspore.numpy.randn``, ``Tensor(np.random.randn(...))``,
    and anything computed from these (``ops.tanh(t)``, ``t.astype(...)``, ``0.02 * t``, a local).
    """
    if depth > 6:
        return False
    if isinstance(e, cst.Call):
        q = model.qualify(e.func)
        if q is None and isinstance(e.func, cst.Attribute):  # t.astype(...), t.expand_dims(...)
            return random_value(model, e.func.value, scope, order, depth + 1)
        if q is None:
            return False
        if q in known.MINDSPORE_RANDOM_CALLS or q.startswith("numpy.random."):
            return True
        args = [a.value for a in e.args if a.keyword is None]
        if q == _INITIALIZER and args:
            init = args[0]
            if isinstance(init, cst.SimpleString) and isinstance(init.evaluated_value, str):
                return init.evaluated_value.lower() in known.MINDSPORE_RANDOM_INITIALIZERS
            func = init.func if isinstance(init, cst.Call) else init
            iq = model.qualify(func)
            return bool(iq and iq.startswith("mindspore.common.initializer.") and iq.rsplit(".", 1)[1] in known.MINDSPORE_RANDOM_INITIALIZERS)
        if q in known.MINDSPORE_TENSOR_FACTORIES or known.mindspore_function_of_tensors(q):
            return any(random_value(model, a, scope, order, depth + 1) for a in args)
        return False
    if isinstance(e, cst.BinaryOperation):
        return random_value(model, e.left, scope, order, depth + 1) or random_value(model, e.right, scope, order, depth + 1)
    if isinstance(e, cst.Name):
        b = model.value_binding(e.value, scope, order)
        return b is not None and random_value(model, b[0], b[1], b[2], depth + 1)
    return False


def _read_after_init(cls: ClassFacts, attr: str) -> bool:
    return any(attr in m.self_attrs for c in (cls, *cls.ancestors()) for name, m in c.methods.items() if name != "__init__")


class MsTensorAsPlainAttribute(Rule):
    """
    ## What it does
    Finds state of a MindSpore `nn.Cell` kept in a plain tensor: a tensor
    created in `__init__` (`Tensor(...)`, `mindspore.tensor(...)`,
    `ops.zeros/ones/full/randn/...(...)`, `mint.zeros/ones/arange/...(...)`,
    `mindspore.numpy.*(...)`, `initializer(...)`, or one computed from these:
    `ops.exp(t)`, `t.astype(...)`) and stored as a plain attribute that
    another method then updates: `self.x = ...`, `self.x += ...`,
    `self.x[i] = ...`, in place (`self.x.copy_(...)`, `.add_(...)`,
    `.set_data(...)`), or with an assign operator (`ops.assign(self.x, ...)`,
    `ops.assign_add`, `P.Assign()(self.x, ...)`, or `self.assign(self.x, ...)`
    with `self.assign = P.Assign()`).

    ## Why is this bad?
    MindSpore has one kind of persistent state: `Parameter`. A plain tensor
    attribute is not in `get_parameters()`/`parameters_dict()` and not in the
    checkpoint `mindspore.save_checkpoint(net, ...)` writes, so the values it
    accumulates (running statistics, a step counter, an online-updated table)
    are silently lost on save/load, and `Cell.to(mindspore.float16)` leaves it
    behind (measured with MindSpore 2.10: `Float16` for a Parameter, `Float32`
    for the plain tensor). This is exactly why MindSpore keeps BatchNorm's
    `moving_mean` and `moving_variance` as `Parameter(..., requires_grad=False)`.
    Runtime truth (MindSpore 2.10, PyNative): `tests/test_mindspore_truth.py`
    and `tests/test_mindspore_probes.py::test_mrg203_*` run each example, see
    the state change after `__init__` (`copy_`, `P.AssignAdd`, a stored
    `P.Assign`, `ops.assign`, `+=`), and find it in neither
    `parameters_dict()` nor the checkpoint, while the `Parameter` twin has it.
    Worse, measured with 2.10 on CPU: a plain `initializer(...)` tensor is
    initialised lazily and silently drops `ops.assign`/`P.Assign` updates;
    `t.add_(v)` on a plain tensor returns a new tensor and leaves `t` as it
    was; and `set_data` exists only on Parameters (`AttributeError` on a
    plain tensor). As a `Parameter` every one of these updates works.

    Also reported: a plain tensor of **random values** that another method
    reads -- `initializer(Normal(...)/TruncatedNormal(...)/'xavier_uniform', ...)`
    (the random initializers are generated from the 2.10 wheel: two draws
    differ), `ops.randn`/`mint.rand`, `Tensor(np.random.randn(...))`, or one
    computed from these. Typically a learnable weight (a position embedding, a
    class token) ported as a plain tensor: it is never trained, and since no
    checkpoint holds it, a model restored with `load_checkpoint` draws other
    values and gives other outputs (measured:
    `tests/test_mindspore_probes.py::test_mrg203_random_plain_tensors_are_not_restored`).
    (Without `.init_data()`, a plain `initializer(...)` tensor is not even
    usable in 2.10: it is initialised lazily, `construct` raises `RuntimeError:
    ... is uninitialized`, and `ops.assign` to it is silently dropped.)
    A zero- or one-filled tensor stays silent even when it was meant to be
    learned: nothing in the code tells it from a constant.

    Constants are not reported: tensors that only `__init__` writes
    (`self.eps = Tensor(np.array([eps]))`, masks, padding tables) are
    recreated by `__init__` and need no checkpoint, and MindSpore code
    (MindSpore's own `nn` package included: 9 such attributes, all constants)
    keeps them as attributes for graph mode. Also silent: names registered with
    `self.register_buffer(...)`/`self.insert_param_to_cell(...)`, Parameters,
    operators such as `ops.ReLU()` (a primitive, not a tensor), and tensors
    built in `construct`.

    ## Example
    ```python
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.running_mean = Tensor(np.zeros(4), mindspore.float32)

        def construct(self, x):
            self.running_mean = 0.9 * self.running_mean + 0.1 * x.mean(0)
            return x - self.running_mean
    ```

    ## Use instead
    ```python
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.running_mean = Parameter(Tensor(np.zeros(4), mindspore.float32), requires_grad=False)

        def construct(self, x):
            ops.assign(self.running_mean, 0.9 * self.running_mean + 0.1 * x.mean(0))
            return x - self.running_mean
    ```
    `Parameter(..., requires_grad=False)` is in `get_parameters()` and in
    checkpoints; give the optimizer `trainable_params()` then (see MRG503).
    MindSpore 2.10 also has `Cell.register_buffer(name, tensor)` (older
    MindSpore lacked it): a buffer is in `buffers()` and `state_dict()` and
    is cast by `Cell.to()`, but `save_checkpoint(net, ...)` does not write it
    (measured; `save_checkpoint(net.state_dict(), ...)` does), and assigning a
    new Tensor to a buffer's name raises `TypeError` in 2.10 (measured), so
    update buffers in place.

    ## Fix safety
    No automatic fix. Wrapping the tensor in
    `Parameter(..., requires_grad=False)` would be unsafe: it adds a
    checkpoint key (old checkpoints lack it and `load_checkpoint` reports it
    as not loaded), a `get_parameters()`-fed optimizer with weight decay
    starts changing it (MRG503), and reassigning a Parameter attribute in
    `construct` must become `ops.assign(...)`.

    ## References
    - [mindspore.Parameter](https://www.mindspore.cn/docs/en/master/api_python/mindspore/mindspore.Parameter.html)
    - [mindspore.nn.Cell.register_buffer](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    - [mindspore.nn.BatchNorm2d (moving_mean, moving_variance)](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.BatchNorm2d.html)
    """

    code = "MRG203"
    name = "ms-tensor-as-plain-attribute"
    summary = "State of a Cell (updated after `__init__`, or random values) kept in a plain MindSpore tensor"
    frameworks = frozenset({"mindspore"})
    message = "MindSpore tensor 'self.{attr}' holds {what}, not saved"
    fix_hint = "it is in neither get_parameters() nor checkpoints: use Parameter(..., requires_grad=False) (how BatchNorm keeps moving_mean) or self.register_buffer('{attr}', ...)"
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
                    self.count = mindspore.tensor(0)
                    self.eps = Tensor(np.array([1e-5]), mindspore.float32)

                def construct(self, x):
                    self.running_mean = 0.9 * self.running_mean + 0.1 * x.mean(0)
                    ops.assign(self.running_var, 0.9 * self.running_var + 0.1 * x.var(0))
                    self.count += 1
                    return (x - self.running_mean) / ops.sqrt(self.running_var + self.eps)
            """,
            at=[(8, 8), (9, 8), (10, 8)],
            title="running statistics kept as plain tensors (the constant eps is not reported)",
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
                        self.count = Parameter(mindspore.tensor(0), requires_grad=False)
                        self.eps = Tensor(np.array([1e-5]), mindspore.float32)

                    def construct(self, x):
                        ops.assign(self.running_mean, 0.9 * self.running_mean + 0.1 * x.mean(0))
                        ops.assign(self.running_var, 0.9 * self.running_var + 0.1 * x.var(0))
                        ops.assign_add(self.count, mindspore.tensor(1))
                        return (x - self.running_mean) / ops.sqrt(self.running_var + self.eps)
                """,
            ),
        ),
        Invalid(
            """
            import mindspore as ms
            import mindspore.numpy as mnp
            from mindspore import ops

            class Memory(ms.nn.Cell):
                def __init__(self, n=8, d=4):
                    super().__init__()
                    table = mnp.randn(n, d)
                    self.table = ops.tanh(table).astype(ms.float32)
                    self.mask = mnp.ones((n,)).astype(ms.int32)

                def write(self, idx, value):
                    self.table[idx] = value

                def construct(self, idx):
                    return self.table[idx] * self.mask[idx].expand_dims(-1)
            """,
            at=[(9, 8)],
            title="mindspore.numpy through a local, an ops function and a method; written in another method",
            probe=Probe(
                cls="Memory",
                attr="table",
                framework="mindspore",
                twin="""
                import mindspore as ms
                import mindspore.numpy as mnp
                from mindspore import ops

                class Memory(ms.nn.Cell):
                    def __init__(self, n=8, d=4):
                        super().__init__()
                        table = mnp.randn(n, d)
                        self.table = ms.Parameter(ops.tanh(table).astype(ms.float32), requires_grad=False)
                        self.register_buffer("mask", mnp.ones((n,)).astype(ms.int32))

                    def write(self, idx, value):
                        self.table[idx] = value

                    def construct(self, idx):
                        return self.table[idx] * self.mask[idx].expand_dims(-1)
                """,
            ),
        ),
        Invalid(
            """
            import mindspore
            from mindspore import nn, mint
            from mindspore.ops import operations as P
            from mindspore.common.initializer import initializer, Zero

            class Tracker(nn.Cell):
                def __init__(self, dim=4):
                    super().__init__()
                    self.last = mint.zeros((dim,))
                    self.total = mint.zeros((dim,))
                    self.peak = initializer(Zero(), (dim,), mindspore.float32)
                    self.assign = P.Assign()
                    self.fc = mint.nn.Linear(dim, dim)

                def construct(self, x):
                    self.last.copy_(x.mean(0))
                    P.AssignAdd()(self.total, x.sum(0))
                    self.assign(self.peak, x.mean(0) * 2)
                    return self.fc(x)
            """,
            at=[(9, 8), (10, 8), (11, 8)],
            title="mint.zeros and initializer(...), updated in place, by P.AssignAdd()(...) and by a stored P.Assign()",
            probe=Probe(
                cls="Tracker",
                attr="total",
                framework="mindspore",
                twin="""
                import mindspore
                from mindspore import nn, mint, Parameter
                from mindspore.ops import operations as P
                from mindspore.common.initializer import initializer, Zero

                class Tracker(nn.Cell):
                    def __init__(self, dim=4):
                        super().__init__()
                        self.last = Parameter(mint.zeros((dim,)), requires_grad=False)
                        self.total = Parameter(mint.zeros((dim,)), requires_grad=False)
                        self.peak = Parameter(initializer(Zero(), (dim,), mindspore.float32), requires_grad=False)
                        self.assign = P.Assign()
                        self.fc = mint.nn.Linear(dim, dim)

                    def construct(self, x):
                        self.last.copy_(x.mean(0))
                        P.AssignAdd()(self.total, x.sum(0))
                        self.assign(self.peak, x.mean(0) * 2)
                        return self.fc(x)
                """,
            ),
        ),
        Invalid(
            """
            import numpy as np
            import mindspore as ms
            from mindspore import nn, ops, Tensor
            from mindspore.common.initializer import initializer, TruncatedNormal

            class Embed(nn.Cell):
                def __init__(self, n=4, dim=8):
                    super().__init__()
                    self.pos_embed = initializer(TruncatedNormal(0.02), (1, n, dim), ms.float32).init_data()
                    self.cls_token = Tensor(np.random.randn(1, 1, dim), ms.float32)
                    self.proj = ops.eye(dim, dim, ms.float32)
                    self.offset = ops.zeros((1, 1, dim), ms.float32)
                    seed = Tensor(np.random.randn(dim), ms.float32)
                    self.norm = float(ops.norm(seed).asnumpy())

                def construct(self, x):
                    cls = ops.broadcast_to(self.cls_token, (x.shape[0], -1, -1))
                    x = ops.concat((cls, x + self.pos_embed), axis=1)
                    return ops.matmul(x, self.proj) + self.offset
            """,
            at=[(9, 8), (10, 8)],
            title="random values (learnable embeddings ported as plain tensors): the constant eye and zeros are not reported",
            probe=Probe(
                cls="Embed",
                attr="pos_embed",
                framework="mindspore",
                twin="""
                import numpy as np
                import mindspore as ms
                from mindspore import nn, ops, Tensor, Parameter
                from mindspore.common.initializer import initializer, TruncatedNormal

                class Embed(nn.Cell):
                    def __init__(self, n=4, dim=8):
                        super().__init__()
                        self.pos_embed = Parameter(initializer(TruncatedNormal(0.02), (1, n, dim), ms.float32))
                        self.cls_token = Parameter(Tensor(np.random.randn(1, 1, dim), ms.float32))
                        self.proj = ops.eye(dim, dim, ms.float32)
                        self.offset = ops.zeros((1, 1, dim), ms.float32)
                        seed = Tensor(np.random.randn(dim), ms.float32)
                        self.norm = float(ops.norm(seed).asnumpy())

                    def construct(self, x):
                        cls = ops.broadcast_to(self.cls_token, (x.shape[0], -1, -1))
                        x = ops.concat((cls, x + self.pos_embed), axis=1)
                        return ops.matmul(x, self.proj) + self.offset
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
                def __init__(self, dim=4, beta1=0.9):
                    super().__init__()
                    self.moving_mean = Parameter(Tensor(np.zeros(dim), mindspore.float32), requires_grad=False)
                    self.register_buffer("mask", ops.ones((dim, dim)))
                    self.insert_param_to_cell("bias", Parameter(ops.zeros(dim), name="bias"))
                    self.scale = Tensor(1.0 / math.sqrt(dim), mstype.float32)
                    self.beta1 = Tensor(np.array([beta1]).astype(np.float32))
                    self.causal = Tensor(np.triu(np.ones((dim, dim)), 1), mstype.bool_)
                    self.softmax = ops.Softmax(-1)
                    self.matmul = ops.BatchMatMul()

                def construct(self, q, k):
                    noise = ops.zeros_like(q)
                    ops.assign(self.moving_mean, self.beta1 * self.moving_mean)
                    scores = self.softmax(self.matmul(q, k) * self.scale)
                    return scores + noise + self.moving_mean + self.mask + self.bias
            """,
            why="a Parameter updated with ops.assign, a registered buffer and param, constants only __init__ "
            "writes, ops primitives, and construct locals",
        ),
        Valid(
            """
            import numpy as np
            import torch
            from mindspore import Tensor

            class Points(torch.utils.data.Dataset):
                def __init__(self):
                    self.data = Tensor(np.ones((10, 2)))

                def add(self, i, v):
                    self.data[i] = v

                def __getitem__(self, i):
                    return self.data[i]
            """,
            why="not a Cell: tensors on a dataset are fine",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        updated: dict[int, set[str]] = {}
        for cls, a in plain_tensors(model, Tag.MS_TENSOR, framework="mindspore"):
            if id(cls) not in updated:
                updated[id(cls)] = _updated(model, cls)
            if a.attr in updated[id(cls)]:
                report(a.node, attr=a.attr, what="updated state")
            elif random_value(model, a.value, a.scope, a.order) and _read_after_init(cls, a.attr):
                report(a.node, attr=a.attr, what="random values")
