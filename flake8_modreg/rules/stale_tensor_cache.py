from __future__ import annotations

import re

import libcst as cst

from .. import known
from ..model import ClassFacts, FileModel, Scope, Tag
from ..uses import to_args, self_call_closure, use_index, value_facts, walk_nodes
from ._base import Invalid, Reporter, Rule, Valid

_STATE_TAGS = (Tag.PARAMETER, Tag.BUFFER)
_STATE_CALLS = frozenset({"register_buffer", "register_parameter"})
#: functions of torch's tensor-math namespaces (``torch.linalg.pinv``): tensors (or tuples of them) out
_TORCH_SUBMODULE_FN = re.compile(r"^torch\.(?:linalg|fft|special)\.[a-z_0-9]+$")


class StaleTensorCache(Rule):
    """
    ## What it does
    Finds a torch `nn.Module` that keeps a cache of tensors in a plain `dict`
    or `list` attribute: created empty in `__init__` (`self.bias_cache = {}`)
    and filled with tensors by another method (`self.bias_cache[key] = ...`,
    `.append(...)`, `.setdefault(...)`), while no `_apply` override of the
    class clears it.

    ## Why is this bad?
    `.to(device)`, `.half()`, `.float()`, `.cuda()` and `.to_empty()` all go
    through `nn.Module._apply`, which converts parameters, buffers and
    sub-modules, and nothing else. The tensors already in the cache keep
    their old dtype and device: after `model.half()` the next call reads a
    float32 table (silently promoting the result), after `.to("cuda")` a CPU
    one (a device-mismatch error, or a slow copy), and the old allocation stays
    alive. Clearing the cache in `train()` does not help: `.to()` and `.half()`
    never call `train()`.

    A cache is filled *and read back* on one path through the class: an entry
    point (`forward`, or a public method such as a metric's `update()`) and
    the methods it calls, typically keyed by shape, device or length. A
    container filled by one entry point and read by another (a recorder's
    `record()` and `dump()`), or only filled, is a data store, not a cache:
    clearing it in `_apply` would destroy it, so it is not reported.

    Silent too for integer (or bool) tensors stored under the very device
    they were made on (`self.labels[device] = torch.arange(n, device=device)`):
    dtype conversions leave integer tensors alone, and another device gets
    its own entry.

    Silent too when every read moves *and casts* the entry to the caller's
    device and dtype on the spot (`self.c[k].to(device=x.device,
    dtype=x.dtype)`, `self.c[k].to(x)`): whatever the entries were made as,
    the value used is converted.

    Silent too when every entry read back is moved to the device at hand in
    the method that reads it (`v = self.c.get(k)`, then `v = v.to(device)`,
    often under `if v.device != device`) and the entries are complex,
    integer or bool: `.half()`/`.float()` convert only floating-point
    tensors, so nothing stale is ever served (a complex RoPE table cache).

    Silent too when every entry is stored with an explicit move to the CPU
    (`self.bank.append(feats.cpu())`, `.to("cpu")`): the code places the
    entries off the module's device on purpose (a feature bank kept in host
    memory), so `.to(device)` never was what placed them, and the reader must
    move them anyway (`torch.cat(self.bank).to(self.device)`); clearing them
    in `_apply` would destroy data. Like any recorded data, such entries keep
    the dtype they were recorded in.

    Silent when an `_apply` override of the class (or a same-file base) refers
    to the attribute (`self.bias_cache = {}` or `self.bias_cache.clear()`, as
    timm's LeViT, EfficientFormer and TinyViT do), and when what is stored is
    not known to be a tensor (sub-module outputs collected by hooks, shapes,
    strings).

    ## Example
    ```python
    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.biases = nn.Parameter(torch.zeros(2, 16))
            self.bias_cache = {}

        def get_bias(self, device):
            key = str(device)
            if key not in self.bias_cache:
                self.bias_cache[key] = self.biases * 2
            return self.bias_cache[key]
    ```

    ## Use instead
    ```python
    class Attention(nn.Module):
        ...
        def _apply(self, fn, *args, **kwargs):
            self.bias_cache = {}  # converted tensors are rebuilt on the next call
            return super()._apply(fn, *args, **kwargs)
    ```
    A single cached tensor can instead be a non-persistent buffer
    (`self.register_buffer("table", t, persistent=False)`): `_apply` converts it.

    ## Fix safety
    No automatic fix: where to invalidate depends on the cache (a cache keyed
    by device may choose to keep entries; one keyed by shape may not).

    ## References
    - [torch.nn.Module.to](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.to)
    - [torch.nn.Module.register_buffer](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.register_buffer)
    """

    code = "MRG205"
    name = "stale-tensor-cache"
    summary = "Tensors cached in a plain `dict`/`list` attribute that `_apply` does not clear"
    frameworks = frozenset({"torch"})
    message = "tensor cache 'self.{attr}' ({container}) goes stale on .to()/.half()"
    fix_hint = "its tensors keep their dtype and device: clear 'self.{attr}' in an `_apply(self, fn, *args, **kwargs)` override before calling super()._apply"
    fix_summary = "clear the cache in an `_apply` override (or use a non-persistent buffer)"

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Attention(nn.Module):
                def __init__(self, heads=2, n=4):
                    super().__init__()
                    self.attention_biases = nn.Parameter(torch.randn(heads, n))
                    self.register_buffer("idxs", torch.zeros(n, n, dtype=torch.long), persistent=False)
                    self.bias_cache = {}

                @torch.no_grad()
                def train(self, mode=True):
                    super().train(mode)
                    self.bias_cache = {}  # clear ab cache
                    return self

                def get_bias(self, device):
                    if self.training:
                        return self.attention_biases[:, self.idxs]
                    key = str(device)
                    if key not in self.bias_cache:
                        self.bias_cache[key] = self.attention_biases[:, self.idxs]
                    return self.bias_cache[key]

                def forward(self, x):
                    return x + self.get_bias(x.device).sum()
            """,
            at=[(9, 8)],
            title="cleared in train() only (timm's attention-bias cache without its _apply)",
        ),
        Invalid(
            """
            import torch
            from torch import nn

            class RotaryTable(nn.Module):
                def __init__(self, dim=4):
                    super().__init__()
                    self.register_buffer("freqs", torch.ones(dim), persistent=False)
                    self.tables = {}
                    self.history = []

                def forward(self, x):
                    n = x.shape[-2]
                    table = self.tables.get(n)
                    if table is None:
                        table = torch.outer(torch.arange(n, dtype=self.freqs.dtype), self.freqs)
                        self.tables[n] = table
                        self.history.append(table.sum())
                    return x + table
            """,
            at=[(8, 8)],
            title="a table cache keyed by length (the list is only filled: a record, not a cache)",
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Metric(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.register_buffer("total", torch.zeros(()))
                    self._default_weights = {}

                def _weights(self, pred):
                    if pred.size() not in self._default_weights:
                        self._default_weights[pred.size()] = torch.ones_like(pred)
                    return self._default_weights[pred.size()]

                def update(self, pred):
                    self.total += (pred * self._weights(pred)).sum()
            """,
            at=[(8, 8)],
            title="a cache filled and read back on a public entry point (a metric's update())",
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class KNN(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.backbone = nn.Linear(4, 4)
                    self.bank = []

                def validation_step(self, x, feats: torch.Tensor):
                    self.bank.append(feats)
                    bank = torch.cat(self.bank).to(x.device)
                    return feats @ bank.T
            """,
            at=[(8, 8)],
            title="entries kept where the module made them: after a move, the read mixes two devices",
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn

            class Attention(nn.Module):
                def __init__(self, heads=2, n=4):
                    super().__init__()
                    self.attention_biases = nn.Parameter(torch.randn(heads, n))
                    self.register_buffer("idxs", torch.zeros(n, n, dtype=torch.long), persistent=False)
                    self.attention_bias_cache = {}

                @torch.no_grad()
                def train(self, mode=True):
                    super().train(mode)
                    if mode and self.attention_bias_cache:
                        self.attention_bias_cache = {}  # clear ab cache

                def _apply(self, fn, *args, **kwargs):
                    self.attention_bias_cache = {}
                    return super()._apply(fn, *args, **kwargs)

                def get_attention_biases(self, device):
                    if torch.jit.is_tracing() or self.training:
                        return self.attention_biases[:, self.idxs]
                    device_key = str(device)
                    if device_key not in self.attention_bias_cache:
                        self.attention_bias_cache[device_key] = self.attention_biases[:, self.idxs]
                    return self.attention_bias_cache[device_key]
            """,
            why="timm's shape (LeViT, EfficientFormer, TinyViT): `_apply` clears the cache",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Resampler(nn.Module):
                def __init__(self):
                    super().__init__()
                    self._pinv_cache_map = {}
                    self.shapes = {}
                    self.features = {}
                    self.body = nn.Linear(4, 4)

                def _pinv(self, key, n):
                    if key not in self._pinv_cache_map:
                        self._pinv_cache_map[key] = torch.linalg.pinv(torch.eye(n))
                    return self._pinv_cache_map[key]

                def _apply(self, fn, recurse=True):
                    self._pinv_cache_map.clear()
                    return super()._apply(fn)

                def forward(self, x):
                    self.shapes[x.shape[0]] = tuple(x.shape)
                    self.features["body"] = self.body(x)
                    return self.features["body"]
            """,
            why="cleared with `.clear()` in `_apply` (timm's patch-embed resampler); shapes and layer outputs are not cached state",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Recognizer(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.body = nn.Linear(4, 4)
                    self.results = {}
                    self.trace = []

                def record(self, utt_id, scores):
                    self.results[utt_id] = scores.detach().cpu()

                def forward(self, x):
                    y = self.body(x)
                    self.trace.append(y.detach())
                    return y

                def dump(self):
                    return dict(self.results), list(self.trace)
            """,
            why="data stores: filled outside forward, or filled by forward but only read by other methods",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class ClipLoss(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.labels = {}

                def get_ground_truth(self, device, n):
                    if device not in self.labels:
                        labels = torch.arange(n, device=device, dtype=torch.long)
                        self.labels[device] = labels
                    return self.labels[device]

                def forward(self, logits):
                    return nn.functional.cross_entropy(logits, self.get_ground_truth(logits.device, logits.shape[0]))
            """,
            why="integer labels cached under the device they were made on: right for every device and dtype",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            def rope_table(n, dim, offset=0):
                angles = torch.outer(torch.arange(n) + offset, torch.arange(dim, dtype=torch.float64))
                return torch.polar(torch.ones_like(angles), angles)

            class Rotary(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.proj = nn.Linear(4, 4)
                    self.freqs_cache = {}

                def _freqs(self, offset, device):
                    freqs = self.freqs_cache.get(offset)
                    if freqs is None:
                        freqs = torch.cat([rope_table(8, 2, offset), rope_table(8, 2, offset + 1)], dim=1)
                    if freqs.device != device:
                        freqs = freqs.to(device)
                    self.freqs_cache[offset] = freqs
                    return freqs

                def forward(self, x):
                    f = self._freqs(0, x.device)
                    return self.proj(x), f
            """,
            why="complex entries moved to the device at hand on every read: nothing stale is served",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class KNN(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.backbone = nn.Linear(4, 4)
                    self.bank = []

                def validation_step(self, x, feats: torch.Tensor):
                    self.bank.append(feats.cpu())
                    bank = torch.cat(self.bank).to(x.device)
                    return feats @ bank.T
            """,
            why="every entry is moved to host memory on purpose and moved back at the read: .to() never placed it",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Locations(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.proj = nn.Linear(3, 3)
                    self.templates = {}

                def _template(self, n, device, dtype):
                    if n not in self.templates:
                        self.templates[n] = torch.linspace(0, 1, n * 3).view(n, 3)
                    return self.templates[n].to(device=device, dtype=dtype)

                def forward(self, x):
                    return self.proj(x + self._template(x.size(1), x.device, x.dtype))
            """,
            why="every read moves and casts the entry to the input's device and dtype on the spot",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls in model.modules:
            if cls.framework != "torch":
                continue
            chain = (cls, *cls.ancestors())
            cleared = set()
            for c in chain:
                if "_apply" in c.methods:
                    cleared |= c.methods["_apply"].self_attrs
            state = _state_attrs(model, chain)
            for a in cls.self_assigns:
                if a.method != "__init__" or a.attr in cleared:
                    continue
                k = model.self_kind(cls, a)
                if k.tag not in (Tag.LIST, Tag.DICT) or k.elems:
                    continue  # only containers created empty
                if any(b.attr == a.attr and b.method == "__init__" and b.order > a.order for b in cls.self_assigns):
                    continue
                fills_by_path = None
                for path in _entry_paths(chain):
                    fills = [
                        m for c in chain for m in c.mutations
                        if m.attr == a.attr and m.method in path and m.op == "elem"
                        and _tensorish(model, state, m.value, m.scope, m.order)
                    ]
                    if fills and not all(_device_keyed_integers(model, f) for f in fills) and \
                            not all(_placed_on_cpu(model, f.value, f.scope, f.order) for f in fills) and \
                            _read_back(model, chain, a.attr, path) and not _healed_on_read(model, chain, a.attr, path, fills):
                        fills_by_path = fills
                        break
                if fills_by_path:
                    report(a.node, attr=a.attr, container="dict" if k.tag is Tag.DICT else "list")


def _entry_paths(chain: tuple[ClassFacts, ...]) -> list[set[str]]:
    """For each entry point of the class, the methods it runs: itself and what it calls through ``self.<name>(...)``.

    Entry points are ``forward``/``construct``/``__call__`` and the public
    methods (a metric's ``update()``), never ``__init__`` or converters.
    """
    methods: set[str] = set()
    for c in chain:
        methods |= c.methods.keys()
    entries = [n for n in sorted(methods) if n in ("forward", "construct", "__call__") or
               (not n.startswith("_") and n not in ("to", "cuda", "cpu", "half", "float", "double", "type"))]
    return [self_call_closure(chain, (entry,), skip=frozenset({"__init__"})) for entry in entries]


_FILLS = frozenset({"append", "extend", "insert", "update", "add"})


def _path_reads(model: FileModel, chain: tuple[ClassFacts, ...], attr: str, path: set[str]):
    """``(method, self.<attr> occurrence)`` on the entry path, fills (``.append``, ``self.c[k] = t``) left out."""
    idx = use_index(model)
    for c in chain:
        for name, meth in c.methods.items():
            if name not in path or meth.self_name is None:
                continue
            m = idx.method(meth)
            for occ in m.self_reads(attr):
                p = m.parent.get(id(occ))
                if isinstance(p, cst.Attribute) and p.value is occ and p.attr.value in _FILLS:
                    continue  # self.c.append(t): a fill, not a read
                if isinstance(p, cst.Subscript) and p.value is occ:
                    gp = m.parent.get(id(p))
                    if isinstance(gp, cst.AssignTarget) and gp.target is p:
                        continue  # self.c[k] = t
                yield m, occ


def _read_back(model: FileModel, chain: tuple[ClassFacts, ...], attr: str, path: set[str]) -> bool:
    """Does a method on the forward path read the container back (``self.c[k]``, ``.get``, ``in``, iteration)?"""
    for m, occ in _path_reads(model, chain, attr, path):
        p = m.parent.get(id(occ))
        if not (isinstance(p, cst.AssignTarget) and p.target is occ):  # self.c = {} is no read
            return True
    return False


def _healed_on_read(model: FileModel, chain: tuple[ClassFacts, ...], attr: str, path: set[str], fills) -> bool:
    """Every entry read back is moved to the device at hand, and no dtype conversion applies to the entries.

    ``v = self.c.get(k)`` (or ``self.c[k]``) followed in the same method by
    ``v = v.to(device)`` (often under ``if v.device != device``): a converted
    model gets its entries moved on their next read. Complex, integer and bool
    entries are left alone by ``.half()``/``.float()`` (torch converts only
    floating-point tensors), and none of them is computed from the module's
    state, so a fresh entry would have the very same dtype.
    """
    nonfloat = all(value_facts(model, f.value, f.scope, order=f.order).dtype in ("complex", "int", "bool") for f in fills)
    healed = False
    for m, occ in _path_reads(model, chain, attr, path):
        p = m.parent.get(id(occ))
        if isinstance(p, cst.Subscript) and p.value is occ:
            got = p
        elif isinstance(p, cst.Attribute) and p.value is occ and p.attr.value == "get":
            got = m.parent.get(id(p))
        elif isinstance(p, cst.ComparisonTarget) or (isinstance(p, cst.AssignTarget) and p.target is occ):
            continue  # `k in self.c`, `self.c = {}`
        else:
            return False
        to = m.parent.get(id(got))
        call = m.parent.get(id(to))
        if isinstance(to, cst.Attribute) and to.value is got and to.attr.value == "to" and \
                isinstance(call, cst.Call) and call.func is to and to_args(model, m, call) == (True, True):
            healed = True  # self.c[k].to(device=x.device, dtype=x.dtype): moved and cast at the read
            continue
        if not nonfloat:
            return False
        stmt = m.parent.get(id(got))
        if not (isinstance(stmt, cst.Assign) and stmt.value is got and len(stmt.targets) == 1
                and isinstance(stmt.targets[0].target, cst.Name)):
            return False
        local = stmt.targets[0].target.value
        after = m.index[id(stmt)]
        if not any(
            isinstance(n, cst.Assign) and m.index[id(n)] > after and len(n.targets) == 1
            and isinstance(n.targets[0].target, cst.Name) and n.targets[0].target.value == local
            and isinstance(n.value, cst.Call) and isinstance(n.value.func, cst.Attribute)
            and n.value.func.attr.value in ("to", "cuda")
            and isinstance(n.value.func.value, cst.Name) and n.value.func.value.value == local
            for n in m.nodes
        ):
            return False
        healed = True
    return healed


def _is_cpu(model: FileModel, e: cst.BaseExpression) -> bool:
    """``"cpu"``, ``torch.device("cpu")``."""
    if isinstance(e, cst.SimpleString):
        return e.evaluated_value == "cpu"
    if isinstance(e, cst.Call) and model.qualify(e.func) == "torch.device" and len(e.args) == 1:
        return _is_cpu(model, e.args[0].value)
    return False


def _placed_on_cpu(model: FileModel, e: cst.BaseExpression, scope: Scope | None, order: int | None, depth: int = 0) -> bool:
    """``t.cpu()``, ``t.detach().to("cpu")``, ``t.to(device="cpu")`` or a local bound to one: an entry moved to host memory."""
    if depth > 4:
        return False
    if isinstance(e, cst.Name):
        b = model.value_binding(e.value, scope, order)
        return b is not None and _placed_on_cpu(model, b[0], b[1], b[2], depth + 1)
    if not (isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute)):
        return False
    meth = e.func.attr.value
    if meth == "cpu" and not e.args:
        return True
    if meth == "to":
        dev = [a.value for a in e.args if a.keyword is None][:1] + \
              [a.value for a in e.args if a.keyword is not None and a.keyword.value == "device"]
        return len(dev) == 1 and _is_cpu(model, dev[0])
    if meth in ("detach", "clone", "contiguous", "float", "double", "half", "flatten", "reshape", "view", "squeeze", "unsqueeze"):
        return _placed_on_cpu(model, e.func.value, scope, order, depth + 1)  # t.cpu().detach(): still on the CPU
    return False


def _device_keyed_integers(model: FileModel, fill) -> bool:
    """``self.c[device] = torch.arange(n, device=device, dtype=torch.long)``: right for every device and dtype.

    An integer (or bool) tensor is untouched by dtype conversions, and an entry
    keyed by the very device it was made on is never served to another device.
    """
    node = fill.node
    if not (isinstance(node, cst.Assign) and isinstance(node.targets[0].target, cst.Subscript)):
        return False
    sub = node.targets[0].target
    if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
        return False
    key = model.module.code_for_node(sub.slice[0].slice.value)
    if value_facts(model, fill.value, fill.scope, order=fill.order).dtype not in ("int", "bool"):
        return False
    todo, seen = [(fill.value, fill.scope, fill.order)], 0
    while todo and seen < 8:
        e, scope, order = todo.pop()
        seen += 1
        for n in walk_nodes(e):
            if isinstance(n, cst.Call) and any(
                a.keyword is not None and a.keyword.value == "device" and model.module.code_for_node(a.value) == key
                for a in n.args
            ):
                return True
            if isinstance(n, cst.Name):
                b = model.value_binding(n.value, scope, order)
                if b is not None:
                    todo.append(b)
    return False


def _state_attrs(model: FileModel, chain: tuple[ClassFacts, ...]) -> set[str]:
    """Attributes holding parameters or buffers (assigned, or registered by literal name)."""
    out = set()
    for c in chain:
        for a in c.self_assigns:
            if model.self_kind(c, a).tag in _STATE_TAGS:
                out.add(a.attr)
        for call in c.self_calls:
            if call.name in _STATE_CALLS:
                name = call.literal_arg(0)
                if name:
                    out.add(name)
    return out


def _tensorish(model: FileModel, state: set[str], e: cst.BaseExpression, scope: Scope | None, order: int | None, depth: int = 0) -> bool:
    """Is ``e`` known to evaluate to a torch tensor?"""
    if depth > 8:
        return False
    if model.kind_of(e, scope, order).tag in (Tag.TENSOR, Tag.GRAD_TENSOR):
        return True
    if isinstance(e, cst.Call):
        q = model.qualify(e.func)
        if q and (q in known.TORCH_TENSOR_FACTORIES or known.torch_function_of_tensors(q) or _TORCH_SUBMODULE_FN.match(q)):
            return True
        if isinstance(e.func, cst.Attribute) and e.func.attr.value in known.TENSOR_METHODS:
            return _tensorish(model, state, e.func.value, scope, order, depth + 1)
        return False
    if isinstance(e, cst.Subscript):
        return _tensorish(model, state, e.value, scope, order, depth + 1)
    if isinstance(e, cst.BinaryOperation):
        return any(_tensorish(model, state, x, scope, order, depth + 1) for x in (e.left, e.right))
    if isinstance(e, cst.Attribute):
        return isinstance(e.value, cst.Name) and e.value.value == "self" and e.attr.value in state
    if isinstance(e, cst.Name):
        b = model.value_binding(e.value, scope, order)
        return b is not None and _tensorish(model, state, b[0], b[1], b[2], depth + 1)
    return False
