from __future__ import annotations

import libcst as cst

from .. import known
from ..uses import use_index, walk_nodes
from ..model import ClassFacts, FileModel, MethodFacts, Scope, Tag, _walk_expr, dotted_name, scope_free
from ._base import Invalid, Reporter, Rule, Valid
from ._entry import ENTRY
from .missing_super_init import STATE_CALLS

_WHERE = {"torch": "parameters() and state_dict()", "mindspore": "get_parameters() and checkpoints"}
_FUNCTIONAL = {"torch": " (or use torch.nn.functional)", "mindspore": " (or use mindspore.ops)"}


def _literal(value: cst.BaseExpression) -> bool | None:
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return value.value == "True"
    return None


_MUTATORS = frozenset({"update", "setdefault", "__setitem__", "__ior__"})


def _mapping_keys(model: FileModel, value: cst.BaseExpression, scope: Scope | None, order: int | None, depth: int = 0) -> set[str] | None:
    """The keys a ``**value`` argument can pass, when certain: a dict display with string keys,
    ``dict(a=..., b=...)``, or a local name bound once to one of these and never changed in place
    (``dd = {"device": device, "dtype": dtype}``).  None otherwise (a ``**kwargs`` parameter, ...)."""
    if depth > 4:
        return None
    if isinstance(value, cst.Dict):
        keys = set()
        for el in value.elements:
            if not isinstance(el, cst.DictElement) or not isinstance(el.key, cst.SimpleString):
                return None
            k = el.key.evaluated_value
            if not isinstance(k, str):
                return None
            keys.add(k)
        return keys
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "dict":
        if model.qualify(value.func) is not None or not scope_free("dict", scope) or "dict" in model.module_scope.bindings:
            return None
        if any(a.keyword is None for a in value.args):
            return None
        return {a.keyword.value for a in value.args}
    if isinstance(value, cst.Name) and scope is not None:
        s = scope
        while s is not None and value.value not in s.bindings and value.value not in s.params:
            s = s.parent
        if s is None or value.value in s.params or s is model.module_scope:
            return None
        bindings = s.bindings[value.value]
        if len(bindings) != 1 or bindings[0][1] != "value" or value.value in s.adds or value.value in s.registered:
            return None
        for site in model.calls:  # dd.update(...): changed in place
            f = site.node.func
            if (
                site.scope is s
                and isinstance(f, cst.Attribute)
                and isinstance(f.value, cst.Name)
                and f.value.value == value.value
                and f.attr.value in _MUTATORS
            ):
                return None
        return _mapping_keys(model, bindings[0][2], s, bindings[0][0], depth + 1)
    if isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name) and value.value.value == "self" and scope is not None:
        keys: set[str] = set()
        for a in _init_values(model, value.attr.value, scope) or [None]:
            got = None if a is None else _mapping_keys(model, a.value, a.scope, a.order, depth + 1)
            if got is None:
                return None
            keys |= got
        return keys
    return None


def _switched(
    model: FileModel, state: bool, switches: list[list[str]], args: list[cst.Arg], scope: Scope | None, order: int | None
) -> bool | None:
    """The state of this particular call, given the flags it passes (None: cannot tell)."""
    if not switches:
        return state
    if any(a.star == "*" for a in args) or sum(a.keyword is None and not a.star for a in args) >= 3:
        return None  # flags may be passed positionally
    kw = {a.keyword.value: a.value for a in args if a.keyword is not None}
    flags = {n for sw in switches for n in sw}
    for a in args:
        if a.star == "**":  # **dd: only the keys it can pass matter
            keys = _mapping_keys(model, a.value, scope, order)
            if keys is None or keys & flags:
                return None
    if state:  # stateful unless every flag of some switch is False
        unsure = False
        for sw in switches:
            values = [_literal(kw[n]) if n in kw else True for n in sw]
            if all(v is False for v in values):
                return False
            if all(v is not True for v in values):
                unsure = True
        return None if unsure else True
    values = [_literal(kw[n]) for sw in switches for n in sw if n in kw]
    if True in values:
        return True
    return None if any(v is None for v in values) else False


def _class_values(
    model: FileModel, e: cst.BaseExpression, scope: Scope | None, order: int | None, depth: int = 0
) -> list[tuple[object, list[cst.Arg]]] | None:
    """The classes a called expression can be, each with the arguments ``partial`` binds first.

    An imported or framework name (qualified), a Module/Cell class of the file, ``partial(X, ...)``,
    either branch of a conditional (``None`` aside), both operands of ``x or Y``, a local name
    through every binding before the call, a parameter through its default (``norm_layer=nn.LayerNorm``:
    the class used when the caller passes none).  None when any of them is unknown.
    """
    if depth > 6:
        return None
    if isinstance(e, cst.Name) and e.value == "None":
        return []
    if isinstance(e, cst.IfExp) or (isinstance(e, cst.BooleanOperation) and isinstance(e.operator, cst.Or)):
        out: list = []
        for x in (e.body, e.orelse) if isinstance(e, cst.IfExp) else (e.left, e.right):
            got = _class_values(model, x, scope, order, depth + 1)
            if got is None:
                return None
            out += got
        return out
    if isinstance(e, cst.Call):
        if model.qualify(e.func) == "functools.partial" and e.args and e.args[0].keyword is None and not e.args[0].star:
            got = _class_values(model, e.args[0].value, scope, order, depth + 1)
            return None if got is None else [(c, [*e.args[1:], *extra]) for c, extra in got]
        return None
    if isinstance(e, cst.Attribute) and isinstance(e.value, cst.Name) and e.value.value == "self" and scope is not None:
        return _attr_class_values(model, e.attr.value, scope, depth)
    dotted = dotted_name(e)
    if dotted is None:
        return None
    head = dotted.split(".", 1)[0]
    s = scope
    while s is not None:
        if head in s.bindings or head in s.params:
            break
        s = s.parent
    if s is None or (s is model.module_scope and head not in s.params and head in model.imports):
        q = model.qualify(e)
        if q is not None:
            return [(q, [])]
        if isinstance(e, cst.Name) and scope_free(head, scope) and head not in model.imports:
            local = model.class_named(head)
            if local is not None and local.framework and not local.in_function:
                return [(local, [])]
        return None
    if "." in dotted:
        return None
    bindings = [b for b in s.bindings.get(head, ()) if s is not scope or order is None or b[0] < order]
    if bindings:
        out = []
        for order_, mode, v in bindings:
            if mode != "value":
                return None
            got = _class_values(model, v, s, order_, depth + 1)
            if got is None:
                return None
            out += got
        return out
    if head in s.params:
        got = s.param_nodes.get(head)
        if got is None or got[1] or got[0].default is None:
            return None
        ann = got[0].annotation
        if ann is not None and (model.annotation(ann.annotation, s.parent) or ("",))[0] == "instance":
            return None  # normalization: nn.Module = nn.LayerNorm: callers pass a layer, the default is a slip
        return _class_values(model, got[0].default, s.parent, None, depth + 1)
    return None


def _init_values(model: FileModel, attr: str, scope: Scope) -> list | None:
    """The values ``self.<attr>`` can hold in a method of ``scope``'s class: every ``self.<attr> = v`` of the class
    family, when all of them are in ``__init__`` and nothing else changes it (no other method, no ``setattr``, no
    element store or in-place ``.update(...)``). None when that is not so."""
    owner = None
    while scope is not None and owner is None:
        owner = scope.owner
        scope = scope.parent
    if owner is None:
        return None
    family = (owner, *owner.ancestors(), *model.descendants(owner))
    out = []
    for c in family:
        if c.unknown_bases or any(m.attr == attr for m in c.mutations) or any(sc.name == "setattr" for sc in c.self_calls):
            return None
        for a in c.self_assigns:
            if a.attr == attr:
                if a.method != "__init__":
                    return None
                out.append(a)
    for site in model.calls:  # self.<attr>.update(...): changed in place
        f = site.node.func
        if (isinstance(f, cst.Attribute) and f.attr.value in _MUTATORS and isinstance(f.value, cst.Attribute)
                and f.value.attr.value == attr and isinstance(f.value.value, cst.Name) and f.value.value.value == "self"):
            return None
    return out or None


def _attr_class_values(model: FileModel, attr: str, scope: Scope, depth: int) -> list[tuple[object, list[cst.Arg]]] | None:
    """``self.norm_layer(dim)``: the classes ``self.norm_layer`` can hold (``_init_values``: a factory parameter,
    ``partial(...)``, a class, stored in ``__init__`` only)."""
    out: list = []
    for a in _init_values(model, attr, scope) or ():
        got = _class_values(model, a.value, a.scope, a.order, depth + 1)
        if got is None:
            return None
        out += got
    return out or None


def _applied_to_input(model: FileModel, cls: ClassFacts, meth: MethodFacts, call: cst.Call) -> bool:
    """``self.norm(x)`` with ``x`` on the module's device (an input, a sub-module's output): the attribute holds a
    layer that is applied, whatever class value its default names (building a layer from a tensor makes no sense)."""
    if not (isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name) and call.func.value.value == "self"):
        return False
    idx = use_index(model)
    m = idx.method(meth)
    return any(a.keyword is None and not a.star and idx.on_device(cls, m, a.value) for a in call.args)


def _class_state(model: FileModel, c: object, args: list[cst.Arg], scope: Scope | None, order: int | None, depth: int) -> bool | None:
    if isinstance(c, ClassFacts):
        return class_state(model, c, depth + 1)
    q = str(c)
    if known.framework_of_class(q):
        state, switches = known.layer_state(q)
        return None if state is None else _switched(model, state, switches, args, scope, order)
    if model.resolver is not None:
        return model.resolver.class_state(q, _call_shape(model, args, scope, order))
    return None


def _call_shape(model: FileModel, args: list[cst.Arg], scope: Scope | None, order: int | None) -> tuple:
    """(keyword names, may pass more, positional count, keywords given a literal True) of a call's arguments;
    ``**dd`` of known keys adds them."""
    kws: set[str] = set()
    true = frozenset(a.keyword.value for a in args if a.keyword is not None and _literal(a.value) is True)
    more = False
    for a in args:
        if a.star == "*":
            more = True
        elif a.star == "**":
            keys = _mapping_keys(model, a.value, scope, order)
            if keys is None:
                more = True
            else:
                kws |= keys
        elif a.keyword is not None:
            kws.add(a.keyword.value)
    return frozenset(kws), more, sum(a.keyword is None and not a.star for a in args), true


def call_state(model: FileModel, call: cst.Call, scope: Scope | None, depth: int = 0, order: int | None = None) -> bool | None:
    """Does this call build a layer holding parameters or buffers? None: not a layer, or cannot tell."""
    targets = _class_values(model, call.func, scope, order)
    if not targets:
        return None
    states = {_class_state(model, c, [*extra, *call.args], scope, order, depth) for c, extra in targets}
    return states.pop() if len(states) == 1 else None


def class_state(model: FileModel, cls: ClassFacts, depth: int = 0) -> bool | None:
    """Does an instance of this Module/Cell class of the file hold parameters or buffers?"""
    if depth > 6:
        return None
    seen: set[bool | None] = set()
    for c in (cls, *cls.ancestors()):
        if c.unknown_bases:
            seen.add(None)
        for b in c.framework_bases:
            if b in known.BARE_BASES:
                continue
            if known.framework_of_class(b):
                seen.add(known.layer_state(b)[0])
            else:  # a base in another file
                seen.add(model.resolver.class_state(b) if model.resolver is not None else None)
        for a in c.self_assigns:
            tag = model.kind_of(a.value, a.scope, a.order).tag
            if tag in (Tag.PARAMETER, Tag.BUFFER):
                seen.add(True)
            elif tag is Tag.LAYER:
                seen.add(call_state(model, a.value, a.scope, depth) if isinstance(a.value, cst.Call) else None)
            elif tag is Tag.REGISTERED:
                items = _container_items(model, a.value)
                seen.add(True if any(call_state(model, i, a.scope, depth + 1, a.order) for i in items) else None)
        for m in c.mutations:
            tag = model.kind_of(m.value, m.scope, m.order).tag
            if tag is Tag.LAYER:  # self.stages.append(Stage(...)) / stage = Stage(...); self.stages.append(stage)
                call = _bound_call(m.value, m.scope, m.order)
                seen.add(True if call is not None and call_state(model, call, m.scope, depth + 1, m.order) else None)
            elif tag in (Tag.PARAMETER, Tag.LIST):
                seen.add(None)
        for sc in c.self_calls:
            if sc.name in ("register_buffer", "register_parameter", "insert_param_to_cell"):
                seen.add(True)
            elif sc.name in ("add_module", "register_module") and sc.method == "__init__" and \
                    len(sc.node.args) == 2 and not any(a.star or a.keyword for a in sc.node.args) and \
                    isinstance(sc.node.args[1].value, cst.Call):
                # self.add_module("conv", nn.Conv2d(...)): the layer registered is judged like self.conv = ...
                meth = c.methods.get(sc.method)
                value = sc.node.args[1].value
                if meth is not None and model.kind_of(value, meth.scope, sc.order).tag is Tag.LAYER:
                    seen.add(call_state(model, value, meth.scope, depth))
                else:
                    seen.add(None)
            elif sc.name in STATE_CALLS or sc.name == "setattr":
                seen.add(None)
        if True in seen:
            return True
    return None if None in seen else False


def _container_items(model: FileModel, value: cst.BaseExpression) -> list[cst.Call]:
    """The layer calls a registering container is built from: ``nn.Sequential(A(), B())``,
    ``nn.ModuleList([A() for _ in ...])``, ``nn.ModuleDict({"a": A()})`` (what else it holds is not listed)."""
    if not isinstance(value, cst.Call):
        return []
    q = model.qualify(value.func)
    if q not in known.TORCH_REGISTERING and q not in known.MINDSPORE_REGISTERING:
        return []
    out: list[cst.BaseExpression] = []
    for arg in value.args:
        if arg.keyword is not None or arg.star:
            continue
        v = arg.value
        if isinstance(v, (cst.List, cst.Tuple)):
            out += [el.value for el in v.elements if not isinstance(el, cst.StarredElement)]
        elif isinstance(v, (cst.ListComp, cst.GeneratorExp)):
            out.append(v.elt)
        elif isinstance(v, cst.Dict):
            out += [el.value for el in v.elements if isinstance(el, cst.DictElement)]
        elif isinstance(v, cst.DictComp):
            out.append(v.value)
        else:
            out.append(v)
    return [x for x in out if isinstance(x, cst.Call)]


def _bound_call(e: cst.BaseExpression, scope: Scope | None, order: int | None) -> cst.Call | None:
    """``e`` itself when a call, or the call a local name was last bound to before ``order`` (one binding)."""
    if isinstance(e, cst.Call):
        return e
    if not isinstance(e, cst.Name) or scope is None:
        return None
    got = [b for b in scope.bindings.get(e.value, ()) if order is None or b[0] < order]
    if len(got) != 1 or got[0][1] != "value" or not isinstance(got[0][2], cst.Call):
        return None
    return got[0][2]


def _stored(model: FileModel, cls: ClassFacts, meth: MethodFacts) -> set[int]:
    """Calls of ``meth`` whose result is kept on ``self`` (lazy initialisation), by node id."""
    roots: list[cst.CSTNode] = [a.value for a in cls.self_assigns if a.method == meth.name]
    roots += [m.value for m in cls.mutations if m.method == meth.name]
    for c in cls.self_calls:
        if c.method == meth.name and (c.name in STATE_CALLS or c.name == "setattr"):
            roots += [a.value for a in c.node.args]
    for name in meth.scope.registered:
        b = model.value_binding(name, meth.scope)
        if b is not None:
            roots.append(b[0])
    for r in list(roots):
        if isinstance(r, cst.Name):
            b = model.value_binding(r.value, meth.scope)
            if b is not None:
                roots.append(b[0])
    return {id(n) for r in roots for n in _walk_expr(r) if isinstance(n, cst.Call)}


class LayerBuiltInForward(Rule):
    """
    ## What it does
    Finds a layer with weights -- a `torch.nn`/`mindspore.nn`/`mindspore.mint.nn`
    layer such as `nn.Linear`, `nn.Conv2d`, `nn.BatchNorm2d`, `nn.Dense`,
    `mint.nn.Linear`, or a Module/Cell
    class of the same file that holds parameters or buffers (itself, or in
    a `nn.Sequential`/`nn.ModuleList`/`nn.ModuleDict` it builds from or
    appends stateful layers to) -- constructed
    inside `forward` (torch) or `construct` (MindSpore) and not stored on
    `self`. A class of another file counts when its `__init__` (or a base's)
    surely stores state: a `register_buffer`/`register_parameter` or a
    stateful layer (`self.x = nn.Conv2d(...)`, `self.add_module("x",
    nn.Conv2d(...))`) in a top-level statement before any `return`, on every
    run (`Resolver.class_state`; not a decorated class, nor a decorated
    `__init__` unless the decorator is a framework wrapper that runs it
    unchanged, MindSpore's `@cell_attr_register`), or in the body of a
    top-level `for` loop without `else` (`for i, k in enumerate(kernels):
    self.add_module(str(i), nn.Conv2d(...))`, timm's `MixedConv2d`: a
    module built over an empty loop would compute nothing), and so does a
    function of another file whose every `return` is a call of such a class
    (`create_conv2d_pad(...)` returning `Conv2dSame(...)` or `nn.Conv2d(...)`;
    not one that may return `None` or a layer without weights). A class of
    another file that subclasses a layer whose state a flag switches off
    (`class LayerNorm(nn.LayerNorm)` whose `__init__(self, c, affine=True,
    **kwargs)` runs `super().__init__(c, elementwise_affine=affine,
    **kwargs)`) holds state for a call that surely keeps the flag: it leaves
    `affine` (default True) alone, or passes `affine=True`, and passes no
    unknown `**kwargs` that could carry `elementwise_affine`. Likewise for
    state stored under a top-level `if <flag>:` of its `__init__` (`if
    self.elementwise_affine: self.weight = nn.Parameter(...)`, the attribute
    set from the parameter `affine` before the `if`). The called
    expression may be a name bound to such a class, `partial(X, ...)`, either
    branch of a conditional or of `x or Y`, or a parameter, judged by its
    default (`norm_layer=nn.LayerNorm`: the layer built when the caller passes
    none; no default or `None`: unknown), or an attribute holding one
    (`self.norm_layer = norm_layer` in `__init__`, then
    `self.norm_layer(dim)` in `forward`, and a `**self.dd` mapping alike)
    when `__init__` is the only method of the class family that stores it
    and nothing changes it in place. Such an attribute applied to a value
    on the module's device (`self.norm(x)`: an input, a sub-module's output)
    holds a layer, not a class, and a parameter annotated as an instance
    (`normalization: nn.Module = nn.LayerNorm`) receives one: neither is
    reported (`tests/test_runtime_construction.py`). Arguments `**dd` matter only for the
    flags that switch a layer's state off (`affine`, `track_running_stats`):
    a mapping whose keys are known (`dd = {"device": d, "dtype": t}`,
    `dict(device=d)`, bound once and never changed in place) cannot pass them;
    `**kwargs` can (`tests/test_layer_state_values.py`).

    Which library layers hold state is data, generated from the real packages
    (torch 2.13, MindSpore 2.10) by `scripts/gen_known.py`: a minimal instance
    of each class is built and its parameters and buffers counted, together with
    the flags that switch them off (`nn.LayerNorm(d, elementwise_affine=False)`,
    `nn.InstanceNorm1d(c)` without `affine=True`). Stateless layers
    (`nn.ReLU()`, `nn.Softmax(dim=1)`, `nn.Flatten()`, pooling, padding, losses)
    built in `forward` lose nothing and are not reported; no opt-in code is
    offered for them, since `nn.ReLU()(x)` is only a style question.
    Containers (`nn.Sequential(...)`) are judged by their items. A layer
    built in the arguments of another one that is reported
    (`Residual(nn.Sequential(nn.Linear(...)))`) is part of that finding. Layers stored
    on `self` (lazy initialisation, `self.head = nn.Linear(...)` under an
    `if`) or registered with `add_module` are not reported.

    ## Why is this bad?
    Each call builds a new layer with freshly initialised weights. They are
    used once and thrown away: the optimizer, created from `parameters()`
    before training, never sees them, so they are never trained; `state_dict()`
    does not save them, and every call of the model gives a different result
    for the same input. BatchNorm's running statistics restart on every call.

    MindSpore runtime truth:
    `tests/test_mindspore_truth.py::test_mrg403_dense_built_in_construct_is_fresh_and_unregistered`
    and
    `tests/test_mindspore_probes.py::test_mint_linear_built_in_construct_is_fresh_and_unregistered`
    (`nn.Dense` and `mint.nn.Linear` built in `construct`: two calls give
    different outputs, `get_parameters()` is empty).

    ## Example
    ```python
    class Net(nn.Module):
        def forward(self, x):
            head = nn.Linear(8, 2)
            return head(x)
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            return self.head(x)
    ```
    or, for an operation without weights, `torch.nn.functional` (`F.relu(x)`).

    ## Fix safety
    No automatic fix: moving the construction into `__init__` needs the sizes,
    which are often computed from the input in `forward`.

    ## References
    - [torch.nn.Module](https://pytorch.org/docs/stable/generated/torch.nn.Module.html)
    - [torch.nn.functional](https://pytorch.org/docs/stable/nn.functional.html)
    - [mindspore.nn.Cell](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    """

    code = "MRG403"
    name = "layer-built-in-forward"
    summary = "A layer with weights constructed inside `forward`/`construct`"
    message = "'{layer}(...)' built in {method}(): new untrained weights on every call"
    fix_hint = "build it once in __init__ and call it from {method}(){alt} (weights made here are missing from {where})"
    fix_summary = "build it once in `__init__` (or use the functional form)"

    invalid = (
        Invalid(
            """
            import torch.nn as nn
            import torch.nn.functional as F

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc1 = nn.Linear(4, 8)

                def forward(self, x):
                    x = F.relu(self.fc1(x))
                    head = nn.Linear(8, 2)
                    return head(x)
            """,
            at=[(11, 15)],
            title="a classifier head built per call",
        ),
        Invalid(
            """
            from torch import nn

            class Block(nn.Module):
                def __init__(self, dim):
                    super().__init__()
                    self.proj = nn.Linear(dim, dim)

                def forward(self, x):
                    return self.proj(x)

            class Net(nn.Module):
                def forward(self, x):
                    x = nn.BatchNorm1d(x.shape[1])(x)
                    x = nn.InstanceNorm1d(4, affine=True)(x)
                    x = nn.LayerNorm(x.shape[-1])(x)
                    return Block(x.shape[-1])(x)
            """,
            at=[(13, 12), (14, 12), (15, 12), (16, 15)],
            title="BatchNorm, InstanceNorm with affine=True, LayerNorm and a Module class of the file",
        ),
        Invalid(
            """
            from mindspore import nn

            class Net(nn.Cell):
                def construct(self, x):
                    dense = nn.Dense(4, 2)
                    return dense(x)
            """,
            at=[(5, 16)],
            title="MindSpore: a Dense built in construct",
        ),
        Invalid(
            """
            from mindspore import nn, mint

            class Head(nn.Cell):
                def construct(self, x):
                    x = mint.nn.ReLU()(x)
                    return mint.nn.Linear(4, 2)(x)
            """,
            at=[(6, 15)],
            title="MindSpore's mint.nn: the Linear is reported; a ReLU holds no state",
        ),
        Invalid(
            """
            import torch.nn as nn

            class Block(nn.Module):
                def __init__(self, dim, norm_layer=nn.LayerNorm, act_layer=nn.GELU):
                    super().__init__()
                    self.dim = dim
                    self.norm_layer = norm_layer
                    self.act_layer = act_layer
                    self.fc = nn.Linear(dim, dim)

                def forward(self, x):
                    x = self.act_layer()(self.fc(x))
                    return self.norm_layer(self.dim)(x)
            """,
            at=[(13, 15)],
            title="a layer factory kept on self and called in forward (the GELU holds no state)",
        ),
        Invalid(
            """
            import torch.nn as nn

            class ConvNorm(nn.Sequential):
                def __init__(self, c_in, c_out):
                    super().__init__()
                    self.add_module("c", nn.Conv2d(c_in, c_out, 1, bias=False))
                    self.add_module("bn", nn.BatchNorm2d(c_out))

            class Stem(nn.Module):
                def __init__(self, c):
                    super().__init__()
                    self.c = c

                def forward(self, x):
                    return ConvNorm(self.c, self.c)(x)
            """,
            at=[(15, 15)],
            title="a class of the file whose layers are registered with add_module",
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Residual(nn.Module):
                def __init__(self, m, d):
                    super().__init__()
                    self.m = m
                    self.gamma = nn.Parameter(torch.ones(d))

                def forward(self, x):
                    return x + self.gamma * self.m(x)

            class Block(nn.Module):
                def __init__(self, d):
                    super().__init__()
                    self.d = d

                def forward(self, x):
                    return Residual(nn.Sequential(nn.Linear(self.d, self.d), nn.GELU()), self.d)(x)
            """,
            at=[(19, 15)],
            title="one finding for a layer built with others in its arguments (moving it moves them)",
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from mylib import Adapter

            class Swish(nn.Module):
                def forward(self, x):
                    return x * torch.sigmoid(x)

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)
                    self.head = None

                def forward(self, x):
                    x = nn.ReLU()(self.fc(x))
                    x = nn.Softmax(dim=-1)(x)
                    x = nn.LayerNorm(4, elementwise_affine=False)(x)
                    x = nn.InstanceNorm1d(4)(x.unsqueeze(0)).squeeze(0)
                    x = nn.Sequential(nn.Tanh(), nn.Identity(), Swish())(x)
                    x = Adapter(4)(x)
                    if self.head is None:
                        self.head = nn.Linear(4, 2)
                    return F.softmax(self.head(x), dim=-1)

                def make_head(self):
                    return nn.Linear(4, 2)
            """,
            why="stateless layers, flags that switch the weights off, an unknown imported class, "
            "lazy initialisation on self, and a builder outside forward",
        ),
        Valid(
            """
            import torch.nn as nn

            class Block(nn.Module):
                def __init__(self, dim, norm_layer=nn.LayerNorm):
                    super().__init__()
                    self.dim = dim
                    self.norm_layer = norm_layer

                def use(self, factory):
                    self.norm_layer = factory

                def forward(self, x):
                    return self.norm_layer(self.dim)(x)
            """,
            why="a factory attribute another method may replace: what forward builds cannot be known",
        ),
        Valid(
            """
            import torch.nn as nn

            class Mega(nn.Module):
                def __init__(self, size, normalization: nn.Module = nn.LayerNorm, act=nn.LayerNorm):
                    super().__init__()
                    self.proj = nn.Linear(size, size)
                    self.normalization = normalization
                    self.act = act

                def forward(self, x):
                    h = self.proj(x)
                    return self.act(h) + self.normalization(h)
            """,
            why="attributes that hold layers passed in (annotated nn.Module) or applied to the input: not built here",
        ),
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.blocks = nn.ModuleList()

                def forward(self, x):
                    extra = nn.Linear(4, 4)
                    self.add_module("extra", extra)
                    self.blocks.append(nn.Linear(4, 4))
                    return self.extra(x)
            """,
            why="layers built in forward but registered on self (add_module, a ModuleList)",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        sites: dict[int, list] = {}
        for site in model.calls:
            if site.method is not None:
                sites.setdefault(id(site.method), []).append(site)
        for cls in model.modules:
            entry = ENTRY[cls.framework]
            meth = cls.methods.get(entry)
            if meth is None or id(meth) not in sites:
                continue
            stored = None
            hits = []
            for site in sites[id(meth)]:
                if call_state(model, site.node, site.scope, 0, site.order) is not True:
                    continue
                if _applied_to_input(model, cls, meth, site.node):
                    continue
                if stored is None:
                    stored = _stored(model, cls, meth)
                if id(site.node) in stored:
                    continue
                hits.append(site)
            # a layer built in the arguments of another reported one (Residual(nn.Sequential(nn.Linear(...)))) is
            # part of that finding: moving the outer construction to __init__ moves it too
            inner = {id(n) for site in hits for n in walk_nodes(site.node) if n is not site.node} if len(hits) > 1 else set()
            for site in hits:
                if id(site.node) in inner:
                    continue
                q = model.qualify(site.node.func)
                fw = known.framework_of_class(q) if q else None
                report(
                    site.node,
                    layer=dotted_name(site.node.func) or "layer",
                    method=entry,
                    where=_WHERE[cls.framework],
                    alt=_FUNCTIONAL.get(fw or "", ""),
                )
