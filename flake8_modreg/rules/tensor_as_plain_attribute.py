from __future__ import annotations

from ..findings import Applicability
from ..model import FileModel, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._tensors import buffer_fix, plain_tensors, tensor_problem


class TensorAsPlainAttribute(Rule):
    """
    ## What it does
    Finds a torch tensor created in `__init__` of an `nn.Module` (or in a
    helper method that `__init__` calls, such as `self._create_cache(n,
    device)`: its first run is part of building the module, also when
    `forward` calls it again to regrow a table, `self.make_weights(n)`) and
    stored as a plain attribute (`self.x = torch.zeros(...)`,
    `torch.tensor(...)`, `torch.arange(...)`, `t.clone()`, a same-file
    helper's result, one name of a tuple it returns, `q, k =
    self._decay(n)`, when all the tuple's elements are tensors, ...) —
    and reports it only where a *use* of it really breaks. Every read of
    `self.x` in the class's methods (same-file bases and subclasses, helpers
    it returns through) is followed to the operation it takes part in. It is
    reported when:

    1. **it is used unmoved** with the module's inputs, parameters or
       sub-module outputs in a tensor operation (`x + self.pe[:n]`,
       `att.masked_fill(self.mask == 0, ...)`, `self.proj(self.table)`,
       also a layer that a base of another file stores in its `__init__`,
       `self.rotary_emb(x, self.ids)` with `self.rotary_emb = Rotary(...)`
       there, as the resolver reads that base):
       after `model.to("cuda")` that operation fails with a device mismatch
       (a tensor handed to an *imported* function, `rms_norm(x, shape,
       self.weight)`, is judged by that function's body, read from disk by
       the resolver: it meets the arguments given for the parameters that its
       parameter meets there in arithmetic or in one `torch.*` call or tensor
       method, `x * weight`, through locals and loops; a function that only
       tests `t.requires_grad`, reads `t.shape` or takes its elements as
       Python numbers meets nothing, an operation under `if t.requires_grad:`
       never runs for a plain `t`, and a function that cannot be read is not
       judged);
    2. **it is moved but not cast**: a floating tensor moved at its use with
       `.to(x.device)` or `.cuda()` and combined with the inputs; after
       `model.half()` the result is silently promoted to float32 and the
       next half-precision layer fails;
    3. **it is state**: updated outside `__init__` from its own old value
       by arithmetic (`self.r = self.r * m + ...`, `self.r.add_(...)`,
       `self.r[i] = v`, `+=`), like running statistics, or filled in place
       with a new value (`self.r.copy_(v)`, reported as *filled*), yet
       missing from `state_dict()` (a value only moved, `self.r =
       self.r.to(x.device)`, is not an update, nor one that a function of
       the file hands back unchanged or replaces with a value made without
       it, the old value only tested in an `if`: a table regrown to the
       input's size; `self.r = self.r.new_empty(n)` or
       `torch.zeros_like(self.r)` take only its device and dtype, and a
       slice assignment right after fills that fresh value);
    4. **it holds random values** (`torch.randn`, `.normal_()`, or filled in
       place by a random initialiser such as `nn.init.trunc_normal_(self.w)`
       in `init_weights()`, the classic forgotten `nn.Parameter`): a model
       rebuilt and loaded from a checkpoint draws different ones.

    The message names the use that breaks (`used unmoved in forward() at
    line 12`). Reads are followed through locals (up to their next
    rebinding, and around loops), through the parameters of the class's own
    helper methods and of the file's module-level functions, and through
    `return` to the helper's callers; an in-place operation (`y *= self.s`)
    is an operation with its target. The inputs are the tensor parameters
    of `forward` and of what it calls; a Module with no `forward` at all,
    whose bases are `nn.Module` alone (a codebook whose parent calls its
    `encode()`/`decode()`), takes them through its public methods. A value
    lives on the module's device
    when it derives from the inputs, parameters or sub-module outputs through
    operations, locals, the elements of a loop over them (`for i, f in
    enumerate(feats)`, comprehensions), the pieces of a split or of any
    call's result (`gate, up = h.chunk(2)`, `out, _ = self.rnn(x)`), the
    values appended to a local list (`outs.append(self.proj(x))`), what the
    class's helpers (or the file's functions) return when fed them
    (`self._norm(x)`), what a callable the module keeps returns when fed
    them although its type is unknown (`self.enc = AutoModel.from_config(...)`,
    `self.act = ACT2FN[name]`, a layer a base of another file stores; not a
    method of the class), and the `weight` that a torch layer base always
    registers (`class ScaledConv(nn.Conv2d)`: `self.weight` is a
    Parameter). A layer built from the tensor in the method itself
    (`loss = nn.CrossEntropyLoss(weight=self.w)`) and called with such
    values meets them as the tensor is: `.to()` never reaches that layer.
    A tensor made by a function picked from a dict display
    (`{"2": dct2, "3": dct3}[kind](n)`) is one when every function of the
    dict returns one.

    A name that some method registers (`register_buffer`, `nn.Buffer`,
    `nn.Parameter`, a sub-module) is still reported when that method runs
    only after construction (`set_window_size()`, a resize; not `__init__` or
    a method only `__init__` calls): until it runs, the value `__init__`
    stored is a plain tensor, and its `register_buffer`/`nn.Buffer` then
    raises `KeyError: attribute ... already exists`.

    Not reported (each checked at run time by `tests/test_runtime_tensor_use.py`):
    - a **0-d tensor** (`torch.tensor(0.5)`, `torch.sqrt(torch.tensor(d))`),
      or one element of a 1-d one (`self.stride[0]` of `torch.zeros(n)`,
      `self.schedule[epoch]` with `epoch: int`): a
      0-d CPU tensor combines with tensors on any device and does not
      promote a half-precision input, like a Python number (a parameter
      that sizes a torch layer, `nn.Linear(d, attn_dim)`, or a `range()`, is
      a Python int: `torch.tensor(attn_dim)` is 0-d);
    - tensors **moved and cast at every use** (`self.m.to(x)`, the source of
      `dst.copy_(self.m)`, which copies into dst's device and dtype,
      `self.m.type_as(x)`, `.to(device=x.device, dtype=x.dtype)`), or only
      moved when they are not floating (`self.idx.to(x.device)`), or only
      moved into a sub-module when their dtype is not known to be floating
      (token ids into an embedding), or only moved into an operation whose
      partners are cast to a fixed dtype (`torch.outer(t.float(), self.f.to(t.device))`),
      or moved and then compared (`w.masked_fill(self.m.to(x.device) == 0, ...)`:
      a bool mask, whose dtype promotes nothing);
    - tensors used only in **Python context** (`int(self.n)`, `.item()`,
      `.tolist()`, `.shape`, an `if` test) or only **as an index** into
      another tensor (`x[:, self.idx]`: a CPU index tensor indexes a tensor on
      any device), or only in `__init__` (and methods only `__init__` calls);
    - **placeholders and output stashes** that a method overwrites before it
      reads them (`self.att = torch.Tensor()`, then `self.att = w` in
      forward), including through a helper we cannot see into
      (`self.a = to_device(x, self.a)`);
    - an **empty placeholder** (`torch.Tensor()`, `torch.empty(0)`,
      `torch.tensor([])`) met with the inputs in anything but a
      concatenation (`torch.cat`): that operation fails on its shape on
      every device, so it can only run once the placeholder was replaced
      (`self.mask = torch.Tensor()` in the branch that registers no causal
      mask, read only under `if self.causal:`), and one read (even in a
      concatenation) only where the code runs once it is no longer empty --
      the `else` of `if len(self.t) == 0:`, the body of `if self.t.numel() >
      0:` -- where a later method has replaced it (streaming history
      buffers; a `torch.cat([self.cache, y])` that runs while the
      placeholder is still empty is reported: after `.to(<device>)` it
      raises, `tests/test_runtime_tensor_use.py`);
    - **per-cycle scratch**: an empty placeholder (`torch.Tensor()`,
      `torch.empty(0)`) that a method updates (`self.acc += y`) and also
      resets to that very placeholder (a sampler's running sum over a few
      `step()` calls): the empty value cannot be updated (the shapes do not
      broadcast), so only values that method made from its inputs are, and
      nothing outlives the cycle;
    - uses **behind a device test** of the attribute itself
      (`x.device == self.last.device and torch.equal(x, self.last)`,
      `x.device != self.last.device or ...`, the body of `if self.last.device
      == x.device:`): the operation runs only when both are on one device
      (not for dtype-strict operations, matmul, conv or a sub-module, which
      a `.half()` still breaks);
    - arguments of **custom kernels** (`torch.ops.<namespace>.<op>(...)`, not
      `torch.ops.aten`): the kernel's device contract is its own (block sizes
      and offsets are often taken on the CPU);
    - attributes the class **moves itself** (`self.a = self.a.to(x)` in some
      method): every read is then judged as a moved (and, with `.to(x)`,
      cast) one;
    - attributes that an **`_apply` override** in the file touches
      (`m.stride = fn(m.stride)`): torch calls `_apply` on every module of
      the tree for `.to()`/`.half()`. A `to`/`cuda` override does *not*
      count: it only runs when called on that very module, never when a
      parent is moved; nor does an `_apply` that only looks at the tensor
      (`self.t.dtype`, `self.t.device`, `self.t is not None`): that converts
      nothing;
    - tensors **placed on a device the code names** in `__init__`
      (`torch.zeros(n, device=self.device)`, `.to("cuda")`, `.cuda()`, a
      required `device` argument (of a helper method: one that the class's
      calls of it pass from such an argument); not `device=None`, `"cpu"`, nor a
      `device=None` parameter passed on, PyTorch's factory-kwargs convention
      for modules built on the CPU and moved later (also when kept on `self`
      first: `self.device = device`, or `device if device is not None else
      torch.device("cpu")`, then `device=self.device`, by the class or by a
      base of another file, as the resolver reads it), nor the device of a
      buffer or Parameter of the class made on the CPU, `device=self.position_ids.device`,
      nor the tensor's own old device, `device=self.weights.device` when a
      helper regrows `self.weights`: it stays wherever the first one was made):
      the class places them itself and is built on the device it runs on;
    - **complex tensors** (`torch.polar`, `dtype=torch.complex64`): a buffer
      would be harmful, since `model.to(torch.bfloat16)` casts it to a real
      dtype and drops the imaginary part;
    - a plain tensor stored under one truth of a flag that only `__init__`
      sets and read only under the other (`if self.spinor: self.z =
      nn.Parameter(...)` / `else: self.z = torch.zeros(...)`, then `if
      self.spinor: ... self.z` in `forward`): the plain value is never read;
    - names registered with `self.register_buffer(...)`, `nn.Buffer(...)`,
      Parameters (a Parameter assigned in the *other* branch of an `if` does
      not hide a plain tensor in this one), and locals of `forward`; every
      tensor of a class that registers buffers or parameters under computed
      names during construction (`register_buffer(name, t)`,
      `setattr(self, name, t)`): it may be any of them. Sub-modules under
      computed names (`setattr(self, f"shard_{i}", nn.Embedding(...))`)
      do not count: a sub-module is no tensor state; and a tensor that
      `__init__` also gave to the base initialiser (`super().__init__(model,
      points)`, then `self.points = points`): the base may have registered
      it under that name, and the assignment then keeps it a buffer.

    A value we cannot follow (passed to an unknown function, stored
    elsewhere) proves nothing either way and is not reported. The inputs of
    `forward` (and of the methods it calls) are taken to live on the module's
    device; the inputs of other methods (a sampler, a loader's collate
    function) are not, while their parameters and sub-module outputs are.

    ## Why is this bad?
    A plain tensor attribute is not module state: it is missing from
    `state_dict()` (neither saved nor restored), and `.to(device)` and
    `.half()` leave it behind, so the first GPU forward fails with a device
    mismatch or silently mixes dtypes; `DataParallel`/DDP replicas do not get
    it either.

    ## Example
    ```python
    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, max_len):
            super().__init__()
            self.pe = sinusoid_table(max_len, d_model)

        def forward(self, x):
            return x + self.pe[: x.size(1)]   # cuda + cpu: RuntimeError
    ```

    ## Use instead
    ```python
    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, max_len):
            super().__init__()
            self.register_buffer("pe", sinusoid_table(max_len, d_model), persistent=False)
    ```
    Use `persistent=False` for a constant derived from the configuration
    (checkpoints stay loadable); a persistent buffer for state; use
    `nn.Parameter(...)` if it should be trained.

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
    - [Type promotion: 0-d tensors behave like Python scalars](https://pytorch.org/docs/stable/tensor_attributes.html#type-promotion-doc)
    """

    code = "MRG201"
    name = "tensor-as-plain-attribute"
    summary = "A tensor stored as a plain attribute in `__init__`"
    frameworks = frozenset({"torch"})
    fix_safety = Applicability.UNSAFE
    message = "plain tensor 'self.{attr}' {problem}"
    fix_hint = "register it: self.register_buffer('{attr}', ...) (persistent=False for caches) or nn.Parameter(...)"
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
                    self.window = torch.eye(d_model)
                    self.avg = torch.zeros(d_model)

                def forward(self, x):
                    y = x + self.pe[: x.size(0)]
                    self.avg = self.avg * 0.9 + y.detach().mean(0) * 0.1
                    return y @ self.window.to(x.device)
            """,
            at=[(12, 8), (13, 8), (14, 8)],
            title="used unmoved, moved but not cast, updated state (no fix: reassigned from itself later)",
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
                    self.register_buffer("window", torch.eye(d_model))
                    self.avg = torch.zeros(d_model)

                def forward(self, x):
                    y = x + self.pe[: x.size(0)]
                    self.avg = self.avg * 0.9 + y.detach().mean(0) * 0.1
                    return y @ self.window.to(x.device)
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
                        self.register_buffer("window", torch.eye(d_model))
                        self.register_buffer("avg", torch.zeros(d_model))

                    def forward(self, x):
                        y = x + self.pe[: x.size(0)]
                        self.avg = self.avg * 0.9 + y.detach().mean(0) * 0.1
                        return y @ self.window.to(x.device)
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
                    self.scale = torch.ones(1)
                    self.cache, self.hits = torch.zeros(4), 0

                def reset(self):
                    self.scale = 1.0

                def forward(self, x):
                    return (x + self.cache) * self.scale * self.mask
            """,
            at=[(8, 12), (9, 8), (10, 8)],
            title="no fix: inside an if, later assigned a float, a tuple target",
            fixed=None,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Gate(nn.Module):
                def __init__(self, dim, learnable=False):
                    super().__init__()
                    self.proj = nn.Linear(dim, dim)
                    if learnable:
                        self.r = nn.Parameter(torch.ones(dim))
                    else:
                        self.r = torch.ones(dim)

                def weights(self):
                    return self.r.clamp(0, 1)

                def forward(self, x):
                    return self.proj(x) * self.weights()
            """,
            at=[(11, 12)],
            title="the plain branch of a Parameter-or-tensor choice, read through a helper",
            fixed=None,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Pos(nn.Module):
                def __init__(self, n=4, cached=True):
                    super().__init__()
                    if cached:
                        self.register_buffer("table", torch.zeros(n))
                    else:
                        self.table = torch.ones(n)
                    for i in range(2):
                        setattr(self, f"head{i}", None)

                def forward(self, x):
                    return x + self.table
            """,
            at=[(10, 12)],
            title="a buffer in one branch does not register the other; setattr(self, name, None) registers nothing",
            fixed=None,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class RelPos(nn.Module):
                def __init__(self, n=4, counts=(1.0, 2.0)):
                    super().__init__()
                    self.mlp = nn.Linear(2, 2)
                    self.coords = torch.zeros(n, 2)
                    c = torch.as_tensor(counts).clamp(1.0, 2.0)
                    self.bias = -torch.log(c)
                    self.scale = torch.ones(2)
                    self.level = torch.zeros(3, 2)

                def set_size(self, n):
                    self.register_buffer("coords", torch.ones(n, 2))

                def _apply(self, fn, *args, **kwargs):
                    module = super()._apply(fn, *args, **kwargs)
                    if self.bias is not None and self.bias.dtype != torch.float32:
                        self.register_buffer("bias", torch.zeros(2, device=self.bias.device))
                    return module

                def _norm(self, x):
                    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True))

                def forward(self, x, feats):
                    y = self.mlp(self.coords)
                    y *= self.scale
                    z = self._norm(x) + self.bias
                    return y, z, [f + self.level[i] for i, f in enumerate(feats)]
            """,
            at=[(8, 8), (10, 8), (11, 8), (12, 8)],
            title="registered only by a later method; -t.clamp(); an _apply that only looks at the dtype; in-place "
                  "with a layer's output; a helper's return; a loop over the inputs",
            fixed="""
            import torch
            import torch.nn as nn

            class RelPos(nn.Module):
                def __init__(self, n=4, counts=(1.0, 2.0)):
                    super().__init__()
                    self.mlp = nn.Linear(2, 2)
                    self.register_buffer("coords", torch.zeros(n, 2))
                    c = torch.as_tensor(counts).clamp(1.0, 2.0)
                    self.register_buffer("bias", -torch.log(c))
                    self.register_buffer("scale", torch.ones(2))
                    self.register_buffer("level", torch.zeros(3, 2))

                def set_size(self, n):
                    self.register_buffer("coords", torch.ones(n, 2))

                def _apply(self, fn, *args, **kwargs):
                    module = super()._apply(fn, *args, **kwargs)
                    if self.bias is not None and self.bias.dtype != torch.float32:
                        self.register_buffer("bias", torch.zeros(2, device=self.bias.device))
                    return module

                def _norm(self, x):
                    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True))

                def forward(self, x, feats):
                    y = self.mlp(self.coords)
                    y *= self.scale
                    z = self._norm(x) + self.bias
                    return y, z, [f + self.level[i] for i, f in enumerate(feats)]
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Emb(nn.Module):
                def __init__(self, n=8, d=4):
                    super().__init__()
                    self.tok = nn.Embedding(2, d)
                    self.token_type_ids = torch.zeros(1, n, dtype=torch.long)

                def forward(self, input_ids, token_type_ids=None):
                    if token_type_ids is None:
                        token_type_ids = self.token_type_ids[:, : input_ids.shape[1]]
                    else:
                        token_type_ids = token_type_ids.long()
                    return self.tok(token_type_ids)
            """,
            at=[(8, 8)],
            title="the binding in the other branch of the if does not hide the one read later",
            fixed="""
            import torch
            import torch.nn as nn

            class Emb(nn.Module):
                def __init__(self, n=8, d=4):
                    super().__init__()
                    self.tok = nn.Embedding(2, d)
                    self.register_buffer("token_type_ids", torch.zeros(1, n, dtype=torch.long))

                def forward(self, input_ids, token_type_ids=None):
                    if token_type_ids is None:
                        token_type_ids = self.token_type_ids[:, : input_ids.shape[1]]
                    else:
                        token_type_ids = token_type_ids.long()
                    return self.tok(token_type_ids)
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Emb(nn.Module):
                def __init__(self, n=8, d=4, shards=2):
                    super().__init__()
                    for i in range(shards):
                        setattr(self, f"shard_{i}", nn.Embedding(4, d))
                    self.pos = nn.Embedding(n, d)
                    self.position_ids = torch.arange(n).expand((1, -1))

                def forward(self, x):
                    return x + self.pos(self.position_ids[:, : x.shape[1]])
            """,
            at=[(10, 8)],
            title="layers registered under computed names cannot make a plain tensor state",
            fixed="""
            import torch
            import torch.nn as nn

            class Emb(nn.Module):
                def __init__(self, n=8, d=4, shards=2):
                    super().__init__()
                    for i in range(shards):
                        setattr(self, f"shard_{i}", nn.Embedding(4, d))
                    self.pos = nn.Embedding(n, d)
                    self.register_buffer("position_ids", torch.arange(n).expand((1, -1)))

                def forward(self, x):
                    return x + self.pos(self.position_ids[:, : x.shape[1]])
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Experts(nn.Module):
                def __init__(self, d=4):
                    super().__init__()
                    self.gate_up = nn.Parameter(torch.ones(d, 2 * d))
                    self.down = torch.ones(d, d)

                def forward(self, h):
                    gate, up = (h @ self.gate_up).chunk(2, dim=-1)
                    return (up * torch.sigmoid(gate)) @ self.down
            """,
            at=[(8, 8)],
            title="the pieces of a split input (chunk, split, unbind, topk, sort) are on its device",
            fixed="""
            import torch
            import torch.nn as nn

            class Experts(nn.Module):
                def __init__(self, d=4):
                    super().__init__()
                    self.gate_up = nn.Parameter(torch.ones(d, 2 * d))
                    self.register_buffer("down", torch.ones(d, d))

                def forward(self, h):
                    gate, up = (h @ self.gate_up).chunk(2, dim=-1)
                    return (up * torch.sigmoid(gate)) @ self.down
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Memo(nn.Module):
                def __init__(self, n=4):
                    super().__init__()
                    self.proj = nn.Linear(n, n)
                    self.last = torch.zeros(1, n)

                def forward(self, x):
                    if x.device == self.last.device and torch.equal(x, self.last):
                        return x
                    return self.proj(x) + self.last
            """,
            at=[(8, 8)],
            title="a device test guards one use, not the unguarded one after it",
            fixed="""
            import torch
            import torch.nn as nn

            class Memo(nn.Module):
                def __init__(self, n=4):
                    super().__init__()
                    self.proj = nn.Linear(n, n)
                    self.register_buffer("last", torch.zeros(1, n))

                def forward(self, x):
                    if x.device == self.last.device and torch.equal(x, self.last):
                        return x
                    return self.proj(x) + self.last
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Emb(nn.Module):
                def __init__(self, n=8, d=4):
                    super().__init__()
                    self.tok = nn.Embedding(2, d)
                    self.register_buffer("position_ids", torch.arange(n).expand((1, -1)))
                    self.token_type_ids = torch.zeros(n, dtype=torch.long, device=self.position_ids.device)

                def forward(self, input_ids):
                    return self.tok(self.token_type_ids[: input_ids.shape[1]])
            """,
            at=[(9, 8)],
            title="the device of a buffer made on the CPU names no device",
            fixed="""
            import torch
            import torch.nn as nn

            class Emb(nn.Module):
                def __init__(self, n=8, d=4):
                    super().__init__()
                    self.tok = nn.Embedding(2, d)
                    self.register_buffer("position_ids", torch.arange(n).expand((1, -1)))
                    self.register_buffer("token_type_ids", torch.zeros(n, dtype=torch.long, device=self.position_ids.device))

                def forward(self, input_ids):
                    return self.tok(self.token_type_ids[: input_ids.shape[1]])
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Head(nn.Module):
                def __init__(self, n=3, kind="Linear"):
                    super().__init__()
                    self.enc = getattr(nn, kind)(n, n)
                    self.bias = torch.ones(n)
                    self.class_weight = torch.ones(n)

                def forward(self, x, target):
                    outs = []
                    for _ in range(2):
                        h, _ = self.enc(x).chunk(2, dim=0)
                        outs.append(h)
                    loss = nn.CrossEntropyLoss(weight=self.class_weight)
                    return loss(outs[0] + self.bias, target)
            """,
            at=[(8, 8), (9, 8)],
            title="an untyped callable attribute fed the input, a list filled by append, a loss built per call",
            fixed="""
            import torch
            import torch.nn as nn

            class Head(nn.Module):
                def __init__(self, n=3, kind="Linear"):
                    super().__init__()
                    self.enc = getattr(nn, kind)(n, n)
                    self.register_buffer("bias", torch.ones(n))
                    self.register_buffer("class_weight", torch.ones(n))

                def forward(self, x, target):
                    outs = []
                    for _ in range(2):
                        h, _ = self.enc(x).chunk(2, dim=0)
                        outs.append(h)
                    loss = nn.CrossEntropyLoss(weight=self.class_weight)
                    return loss(outs[0] + self.bias, target)
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn
            import torch.nn.functional as F

            def dct2(n):
                return torch.eye(n).real

            def dct3(n):
                return torch.linalg.inv(torch.eye(n))

            class Dct(nn.Module):
                def __init__(self, n=3, kind="2"):
                    super().__init__()
                    self.weights = {"2": dct2, "3": dct3}[kind](n).T.contiguous()

                def forward(self, x):
                    return F.linear(x, self.weights)

            class ScaledConv(nn.Conv2d):
                def __init__(self, c=3):
                    super().__init__(c, c, 1)
                    self.gain = torch.ones(c, 1, 1, 1)

                def forward(self, x):
                    return F.conv2d(x, self.weight * self.gain, self.bias)
            """,
            at=[(14, 8), (22, 8)],
            title="a table from a function picked out of a dict; the weight a torch layer base registers",
            fixed="""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F

            def dct2(n):
                return torch.eye(n).real

            def dct3(n):
                return torch.linalg.inv(torch.eye(n))

            class Dct(nn.Module):
                def __init__(self, n=3, kind="2"):
                    super().__init__()
                    self.register_buffer("weights", {"2": dct2, "3": dct3}[kind](n).T.contiguous())

                def forward(self, x):
                    return F.linear(x, self.weights)

            class ScaledConv(nn.Conv2d):
                def __init__(self, c=3):
                    super().__init__(c, c, 1)
                    self.gain = torch.ones(c, 1, 1, 1)

                def forward(self, x):
                    return F.conv2d(x, self.weight * self.gain, self.bias)
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Decay(nn.Module):
                def __init__(self, n=4):
                    super().__init__()
                    self.proj = nn.Linear(n, n)
                    q, k = self._decay(n)
                    self.register_buffer("q", q)
                    self.k = k

                def _decay(self, n):
                    r = torch.arange(n).float()
                    return torch.exp(-r), torch.exp(-2 * r)

                def forward(self, x):
                    return self.proj(x) * self.k + self.q

            class Sinusoid(nn.Module):
                def __init__(self, n=4, d=3):
                    super().__init__()
                    self.d = d
                    self.make_weights(n)

                def make_weights(self, n):
                    w = torch.arange(n * self.d).float().view(n, self.d)
                    if hasattr(self, "weights"):
                        w = w.to(dtype=self.weights.dtype, device=self.weights.device)
                    self.weights = w

                def forward(self, x):
                    if x.shape[0] > self.weights.size(0):
                        self.make_weights(x.shape[0])
                    return x + self.weights[: x.shape[0]]
            """,
            at=[(10, 8), (29, 8)],
            title="one name of a helper's tuple of tensors; a table a helper builds and forward regrows on its own device",
            fixed="""
            import torch
            import torch.nn as nn

            class Decay(nn.Module):
                def __init__(self, n=4):
                    super().__init__()
                    self.proj = nn.Linear(n, n)
                    q, k = self._decay(n)
                    self.register_buffer("q", q)
                    self.register_buffer("k", k)

                def _decay(self, n):
                    r = torch.arange(n).float()
                    return torch.exp(-r), torch.exp(-2 * r)

                def forward(self, x):
                    return self.proj(x) * self.k + self.q

            class Sinusoid(nn.Module):
                def __init__(self, n=4, d=3):
                    super().__init__()
                    self.d = d
                    self.make_weights(n)

                def make_weights(self, n):
                    w = torch.arange(n * self.d).float().view(n, self.d)
                    if hasattr(self, "weights"):
                        w = w.to(dtype=self.weights.dtype, device=self.weights.device)
                    self.weights = w

                def forward(self, x):
                    if x.shape[0] > self.weights.size(0):
                        self.make_weights(x.shape[0])
                    return x + self.weights[: x.shape[0]]
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn

            class Exempt(nn.Module):
                def __init__(self, d=8, n=16):
                    super().__init__()
                    self.proj = nn.Linear(d, d)
                    self.scale = torch.tensor(d ** -0.5)
                    self.temp = torch.sqrt(torch.tensor(float(d)))
                    self.dist = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
                    self.bias = torch.zeros(n, d)
                    self.idx = torch.arange(n)
                    self.size = torch.prod(torch.tensor([2, 4]))
                    self.att = torch.Tensor()
                    self.freqs = torch.polar(torch.ones(n, d), torch.zeros(n, d))

                def forward(self, x):
                    y = self.proj(x) * self.scale / self.temp
                    y = y + self.dist.to(x).sum() + self.bias[: x.size(0)].type_as(x)
                    y = y[self.idx[: x.size(0)]]
                    if int(self.size) > 4:
                        y = y * 2
                    self.att = y.softmax(-1)
                    return self.att
            """,
            why="0-d tensors, moved and cast at the use, an index, Python-only, a stash overwritten first, complex",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Detect(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.stride = torch.tensor([8.0, 16.0, 32.0])

                def forward(self, x):
                    return x * self.stride[0]

            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.head = Detect()

                def _apply(self, fn, *args, **kwargs):
                    super()._apply(fn, *args, **kwargs)
                    self.head.stride = fn(self.head.stride)
                    return self
            """,
            why="an _apply override of the file converts the attribute itself",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Walker(nn.Module):
                def __init__(self, n=4):
                    super().__init__()
                    self.emb = nn.Embedding(10, n)
                    self.offset = torch.tensor([0, 3, 6])

                def sample(self, batch):
                    rw = batch.view(-1, 1).repeat(1, 3)
                    return rw + self.offset.view(1, -1)

                def forward(self, idx):
                    return self.emb(idx)
            """,
            why="CPU-side sampling: the inputs of a method off the forward path are not on the module's device",
        ),
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
        Valid(
            """
            import torch
            import torch.nn as nn

            class Table(nn.Module):
                def __init__(self, n=4):
                    super().__init__()
                    self._make()
                    self.table = torch.ones(n)
                    self.w = torch.ones(n)
                    self.ids = torch.arange(n)

                def _make(self):
                    self.register_buffer("table", torch.zeros(4))

                def _apply(self, fn, *args, **kwargs):
                    super()._apply(fn, *args, **kwargs)
                    self.w = fn(self.w)
                    return self

                def _count(self, x):
                    return x.shape[0]

                def forward(self, x):
                    total = 0.0
                    total += self.ids.float().sum()
                    n = self._count(x) + self.ids
                    sizes = [s + self.ids for s in x.shape]
                    return x + self.table + self.w, int(total), int(n.sum()), len(sizes)
            """,
            why="registered by a method __init__ runs first (the assignment fills the buffer), an _apply that "
                "converts it, in-place into a Python float, a helper that returns Python ints, a loop over Python values",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Emb(nn.Module):
                def __init__(self, n=8, d=4):
                    super().__init__()
                    self.tok = nn.Embedding(2, d)
                    self.token_type_ids = torch.zeros(1, n, dtype=torch.long)

                def forward(self, input_ids):
                    ids = self.token_type_ids[:, : input_ids.shape[1]]
                    if input_ids.shape[0] > 1:
                        ids = input_ids.long()
                    ids = input_ids.clamp(0, 1)
                    return self.tok(ids)
            """,
            why="rebound after the read on every path (the if's binding and the next one): that value never reaches the layer",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Dyn(nn.Module):
                def __init__(self, names=("t",)):
                    super().__init__()
                    self.t = torch.ones(3)
                    for n in names:
                        self.register_buffer(n, torch.zeros(3))

                def forward(self, x):
                    return x + self.t
            """,
            why="a buffer registered under a computed name may be this very one: we cannot tell",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Pick(nn.Module):
                def __init__(self, d=4):
                    super().__init__()
                    self.offsets = torch.arange(d)

                def forward(self, x):
                    rows, cols = x.shape
                    first, second = divmod(rows, 2)
                    return self.offsets[:first] + second + cols
            """,
            why="names unpacked from a shape or Python arithmetic are Python ints, not tensors on the device",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn
            import torch.nn.functional as F

            class LightConv(nn.Module):
                def __init__(self, d=3):
                    super().__init__()
                    self.weight = nn.Parameter(torch.ones(d, d))
                    self.kernel_mask = torch.tril(torch.ones(d, d))

                def forward(self, x):
                    weight = F.dropout(self.weight, 0.1, training=self.training)
                    self.kernel_mask = self.kernel_mask.to(x.device)
                    weight = weight.masked_fill(self.kernel_mask == 0.0, float("-inf"))
                    weight = F.softmax(weight, dim=-1)
                    return F.linear(x, weight)
            """,
            why="moved, then compared into a bool mask: only its device counts, and it follows the input's",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Base(nn.Module):
                def __init__(self, points):
                    super().__init__()
                    self.register_buffer("points", points)

            class Strategy(Base):
                def __init__(self, points, n=4):
                    super().__init__(points)
                    self.points = points
                    self.schedule = torch.linspace(0.5, 1.0, n)

                def forward(self, x, epoch: int):
                    return (x + self.points) / self.schedule[epoch]
            """,
            why="a tensor the base initialiser got (and registered); one element at an int index is 0-d",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Memo(nn.Module):
                def __init__(self, n=4):
                    super().__init__()
                    self.proj = nn.Linear(n, n)
                    self.last = torch.empty(1)

                def forward(self, x):
                    if not x.device == self.last.device or not torch.equal(x, self.last):
                        self.out = self.proj(x)
                        self.last = x
                    return self.out
            """,
            why="read only behind a test that it is on the input's device, then overwritten by the input",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Placed(nn.Module):
                def __init__(self, n=8, device="cuda"):
                    super().__init__()
                    self.register_buffer("anchor", torch.zeros(n, device=device))
                    self.mask = torch.ones(n, device=self.anchor.device)

                def forward(self, x):
                    return x * self.mask
            """,
            why="made beside a buffer that the code places on a named device: placed too",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Attn(nn.Module):
                def __init__(self, n=4, causal=False, kind="Identity"):
                    super().__init__()
                    self.rearrange = getattr(nn, kind)()
                    self.causal = causal
                    if causal:
                        self.register_buffer("mask", torch.tril(torch.ones(n, n)))
                    else:
                        self.mask = torch.Tensor()
                    self.grid = torch.arange(n)

                def forward(self, x):
                    att = self.rearrange(x) @ self.rearrange(x).transpose(-1, -2)
                    if self.causal:
                        att = att.masked_fill(self.mask[: x.shape[-2], : x.shape[-2]] == 0, float("-inf"))
                    return att.softmax(-1) * self.rearrange(x.shape[-1] + self.grid).sum().item()
            """,
            why="an empty placeholder meets the inputs only where it fails on its shape on any device; an "
                "untyped callable fed only Python values",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls, a in plain_tensors(model, Tag.TENSOR):
            problem = tensor_problem(model, cls, a)
            if problem is not None:
                report(a.node, fix=buffer_fix(model, cls, a), attr=a.attr, problem=problem)
