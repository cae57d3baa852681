"""Shared by MRG201/202: torch tensors stored as plain attributes in ``__init__``."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from .. import known
from ..findings import Applicability, Fix
from ..model import ClassFacts, FileModel, SelfAssign, Tag, dotted_name
from ..uses import HARM, MOVED, emptiness_guarded, exclusive_branches, flag_exclusive, use_index, value_facts
from ._base import AtLine
from ._fixes import TORCH_MODULE_ATTRS, call, call_node, name_is_free_on, simple_assign, spell

_STATE_TAGS = (Tag.PARAMETER, Tag.BUFFER, Tag.LAYER, Tag.REGISTERED)
_REGISTERING = frozenset({"register_buffer", "register_parameter", "add_module", "register_module"})


def plain_tensors(model: FileModel, tag: Tag, framework: str = "torch") -> Iterator[tuple[ClassFacts, SelfAssign]]:
    """``self.x = <tensor of kind tag>`` in ``__init__`` of a torch Module (or of a MindSpore Cell; for a Module also in
    a method that only ``__init__`` calls: it runs once, while the module is built).

    Silent when the name is a buffer (``register_buffer("x", ...)`` anywhere in
    the class: torch then keeps the assignment a buffer), a Parameter, Buffer
    or sub-module elsewhere in the class, or when the class registers buffers
    under computed names (we cannot tell which).
    """
    for cls in model.modules:
        if cls.framework != framework:
            continue
        if _hidden_by_dynamic_registration(model, cls):
            continue
        # state registered by a method that runs after construction (``set_window_size()``, a resize) does not
        # register the value ``__init__`` stored: until that method runs it is a plain tensor (and its
        # ``register_buffer``/``nn.Buffer`` raises ``KeyError: attribute ... already exists``)
        building = use_index(model).construction_methods(cls) if framework == "torch" else None
        state: dict[str, list[tuple[str, cst.CSTNode]]] = {}
        for c in cls.self_calls:
            if building is not None and c.method not in building:
                continue
            if c.name in _REGISTERING or c.name == "setattr":
                name = c.literal_arg(1 if c.name == "setattr" else 0)
                if name:
                    state.setdefault(name, []).append((c.method, c.node))
        for a in cls.self_assigns:
            if (building is None or a.method in building) and model.self_kind(cls, a).tag in _STATE_TAGS:
                state.setdefault(a.attr, []).append((a.method, a.node))
        # one finding per attribute: a helper that stores the same kind of value again (``self._init_drop()``) is
        # judged through the store of ``__init__`` itself
        in_init = {a.attr for a in cls.self_assigns if a.method == "__init__" and model.self_kind(cls, a).tag is tag}
        # a helper that the building methods call and only the forward path calls again (``self.make_weights(n)``
        # to regrow a table): its first run is part of construction, and what it stores then is what the module
        # starts with (until a regrow, which may never come); its later runs are judged as uses (overwrites). One
        # that a public method also calls (``initialize_with_quants()``) may be how the caller builds it instead
        regrowing = use_index(model).regrowing_methods(cls) if building is not None else set()
        seen: set[str] = set()
        for a in cls.self_assigns:
            if a.method != "__init__" and (building is None or a.attr in in_init or
                                           (a.method not in building and a.method not in regrowing)):
                continue  # torch: __init__ and the helpers it calls (``self._create_cache(n, device)``)
            if any(not exclusive_branches(model, cls, a.method, a.node, method, node) for method, node in state.get(a.attr, ())):
                continue
            if a.attr not in seen and model.self_kind(cls, a).tag is tag and not _given_to_base_init(cls, a):
                seen.add(a.attr)
                yield cls, a


def _given_to_base_init(cls: ClassFacts, a: SelfAssign) -> bool:
    """``super().__init__(model, points, ...)`` then ``self.points = points``: the base initialiser got the very
    tensor and may have registered it under this name (``register_buffer("points", points)``); the assignment
    then keeps it a buffer. We cannot see what the base did with it, so we do not judge."""
    if not isinstance(a.value, cst.Name):
        return False
    meth = cls.methods.get(a.method)
    if meth is None or meth.super_init is None or meth.super_init[1] > a.order:
        return False
    call = meth.super_init[0]
    return any(isinstance(arg.value, cst.Name) and arg.value.value == a.value.value for arg in call.args)


def _hidden_by_dynamic_registration(model: FileModel, cls: ClassFacts) -> bool:
    """Could a registration under a computed name make one of the class's tensors state? Then we cannot tell.

    For torch, ``setattr(self, name, <layer>)`` cannot: a sub-module is no tensor state (were the name one of
    the tensors, it would turn it into a layer, not a buffer); nor can a registration in a method that runs
    after construction (the value ``__init__`` stored stays plain until then, see :func:`plain_tensors`).
    """
    names = {"register_buffer", "register_parameter", "setattr", "insert_param_to_cell"}
    if not cls.dynamic_registration(names):
        return False
    if cls.framework != "torch":
        return True
    building = use_index(model).construction_methods(cls)
    for c in cls.self_calls:
        if c.name not in names or c.literal_arg(1 if c.name == "setattr" else 0) is not None or c.method not in building:
            continue
        args = [a for a in c.node.args if a.keyword is None]
        if c.name == "setattr" and len(args) == 3 and not any(a.star for a in c.node.args):
            meth = cls.methods.get(c.method)
            kind = model.kind_of(args[2].value, meth.scope if meth else None, c.order)
            if kind.tag is Tag.LAYER or kind.tag is Tag.NONE:
                continue
        return True
    return False


def tensor_problem(model: FileModel, cls: ClassFacts, a: SelfAssign) -> AtLine | str | None:
    """Why the plain tensor ``a`` stores really breaks, judged by its uses; None when no use breaks.

    Reported, in this order:

    1. a read that meets the module's inputs, parameters or sub-modules in a
       tensor operation without being moved (fails once the module is on
       another device) — a 0-d tensor is exempt: it combines with tensors on
       any device like a Python number;
    2. a floating tensor moved at its use but not cast (``.to(x.device)``),
       combined with the inputs: after ``.half()`` it promotes the result to
       float32;
    3. an update outside ``__init__`` that reads the old value (running
       statistics): real state that ``state_dict()`` omits;
    4. random values (``torch.randn``) read by some method, or never read
       back by the class at all: a reloaded model draws different ones.

    Never reported: complex tensors (``register_buffer`` would be harmful:
    ``.to(torch.bfloat16)`` drops the imaginary part), attributes converted
    by an ``_apply`` override of some class of the file (torch runs it for every module of a tree),
    tensors made on (or moved to) a device the code names in ``__init__``, and
    every other pattern of use (moved and cast at each use, Python-only use,
    indexing, placeholders overwritten before they are read). An empty
    placeholder (``torch.Tensor()``) is judged only where it is concatenated
    with the inputs: any other operation with them fails on its shape on
    every device.
    """
    facts = value_facts(model, a.value, a.scope, order=a.order)
    if facts.dtype == "complex" or facts.placed:
        return None
    idx = use_index(model)
    uses = idx.uses(cls, a.attr)
    if uses.converted:
        return None
    # an empty placeholder (torch.Tensor(), torch.empty(0)) meets the inputs only in a concatenation: any other
    # operation with them fails on its shape on every device, so such a read can only run once it was replaced
    empty = _empty(model, a.value)
    if empty:  # reads that run only once the placeholder is no longer empty judge a later value, not this one
        uses_reads = [r for r in uses.reads if not _after_replacement(model, cls, r, a.attr)]
    else:
        uses_reads = uses.reads
    # a read under the opposite truth of a flag only __init__ sets never sees this store's value
    uses_reads = [r for r in uses_reads if not flag_exclusive(model, cls, a.method, a.node, r.method, r.node)]
    for r in uses_reads:
        if r.kind == HARM and not facts.zero_dim and not (r.int_indexed and facts.one_dim) and \
                not (empty and not _concatenation(model, r.node)):
            return AtLine(f"is used unmoved in {r.method}() at line {{line}}", r.node)
    if facts.dtype not in ("int", "bool") and not facts.zero_dim:
        # a tensor that meets floating inputs in a matmul/conv only works in float32 if it is floating itself
        for r in uses_reads:
            if empty and not _concatenation(model, r.node):
                continue
            if r.kind == MOVED and not r.cast and (facts.dtype == "float" or not r.via_layer):
                # a sub-module may take integer ids (an embedding): only a known float tensor is sure to break it
                return AtLine(f"is moved but not cast in {r.method}() at line {{line}}", r.node)
    scratch = _scratch_methods(model, a, uses.writes)
    for method, node, how in uses.writes:
        if how in ("update", "fill") and method not in scratch:
            verb = "filled" if how == "fill" else "updated"
            return AtLine(f"is {verb} in {method}() at line {{line}} but not saved", node)
    if (facts.random or _randomly_initialized(model, cls, a.attr)) and not any(how == "overwrite" for _, _, how in uses.writes):
        return "holds random values that are never saved"
    return None


def _empty(model: FileModel, e: cst.BaseExpression) -> bool:
    """An empty placeholder: ``torch.Tensor()``, ``torch.empty(0)``, ``torch.zeros(0)``, ``torch.tensor([])``."""
    if not isinstance(e, cst.Call):
        return False
    q = model.qualify(e.func) or ""
    if not q.startswith("torch."):
        return False
    pos = [x.value for x in e.args if x.keyword is None]
    fn = q.rsplit(".", 1)[-1]
    if fn in ("Tensor", "FloatTensor", "LongTensor") and not e.args:
        return True
    if fn in ("tensor", "as_tensor") and len(pos) == 1 and isinstance(pos[0], (cst.List, cst.Tuple)):
        return not pos[0].elements
    return fn in ("empty", "zeros", "ones") and len(pos) == 1 and isinstance(pos[0], cst.Integer) and pos[0].evaluated_value == 0


def _after_replacement(model: FileModel, cls, r, attr: str) -> bool:
    """The read runs only while ``self.<attr>`` is not empty (``uses.emptiness_guarded``): the empty placeholder
    ``__init__`` stored must have been replaced by then."""
    idx = use_index(model)
    meth = idx.family_method(cls, r.method)
    return meth is not None and emptiness_guarded(idx.method(meth), r.node, attr)


def _concatenation(model: FileModel, node: cst.CSTNode) -> bool:
    """The operation is (or may be) a concatenation: ``torch.cat([...])``, or a list/tuple display met as one."""
    if isinstance(node, (cst.List, cst.Tuple)):
        return True
    return isinstance(node, cst.Call) and (model.qualify(node.func) or "") in ("torch.cat", "torch.concat", "torch.concatenate")


def _scratch_methods(model: FileModel, a: SelfAssign, writes) -> set[str]:
    """Methods that update an empty placeholder and also reset it to that placeholder: per-cycle scratch.

    ``self.acc = torch.Tensor()`` in ``__init__``, then a sampler's ``step()``
    that overwrites it, accumulates into it over a few calls and resets it to
    ``torch.Tensor()``: an update cannot apply to the empty value (the shapes
    do not broadcast), so it only ever updates a value that ``step()`` made
    from its inputs, and the cycle ends with the reset. Nothing of it outlives
    the cycle, so ``state_dict()`` has nothing to save.
    """
    if not _empty(model, a.value):
        return set()
    init = model.module.code_for_node(a.value)
    out = set()
    for method, node, how in writes:
        if how == "overwrite" and isinstance(node, cst.Assign) and model.module.code_for_node(node.value) == init:
            out.add(method)
    return out


#: in-place random initialisers (``nn.init.trunc_normal_(self.w)``, timm's ``trunc_normal_``, ``self.w.normal_()``)
_RANDOM_INIT = frozenset({
    "normal_", "uniform_", "trunc_normal_", "trunc_normal_tf_", "xavier_normal_", "xavier_uniform_",
    "kaiming_normal_", "kaiming_uniform_", "orthogonal_", "sparse_", "lecun_normal_", "variance_scaling_",
    "bernoulli_", "exponential_", "cauchy_", "log_normal_", "geometric_", "random_",
})


def _randomly_initialized(model: FileModel, cls: ClassFacts, attr: str) -> bool:
    """Some method of the class fills ``self.<attr>`` in place from a random generator.

    ``torch.empty(...)`` followed by ``nn.init.trunc_normal_(self.w)`` in
    ``init_weights()`` is how learned weights are initialised: kept as a plain
    tensor, a reloaded model draws others (the classic Parameter slip).
    """
    for m, occ in use_index(model).family_reads(cls, attr):
        p = m.parent.get(id(occ))
        if isinstance(p, cst.Attribute) and p.value is occ and p.attr.value in _RANDOM_INIT:
            call = m.parent.get(id(p))
            if isinstance(call, cst.Call) and call.func is p:
                return True
        if isinstance(p, cst.Arg) and p.keyword is None:
            call = m.parent.get(id(p))
            if isinstance(call, cst.Call) and call.args and call.args[0] is p:
                name = (dotted_name(call.func) or "").rsplit(".", 1)[-1]
                if name in _RANDOM_INIT:
                    return True
    return False


# --- the fixes: register_buffer (MRG201) and nn.Parameter (MRG202) ---------------------------------


def _others_assign_only(model: FileModel, cls: ClassFacts, a: SelfAssign, tags: tuple[Tag, ...]) -> bool:
    """Every other ``self.<attr> = ...`` of the class assigns one of ``tags``, and none comes earlier in ``__init__``.

    Once registered, ``self.x = 1.0`` raises (``cannot assign 'float' as
    buffer``), and an earlier plain ``self.x = ...`` makes ``register_buffer``
    raise ``KeyError: attribute 'x' already exists``.
    """
    for b in cls.self_assigns:
        if b is a or b.attr != a.attr:
            continue
        if b.method == a.method and b.order < a.order:
            return False
        if model.self_kind(cls, b).tag not in tags:
            return False
    return True


def _after_super_init(cls: ClassFacts, a: SelfAssign) -> bool:
    """State cannot be registered before ``Module.__init__`` ran (AttributeError)."""
    meth = cls.methods.get(a.method)
    return meth is not None and meth.super_init is not None and meth.super_init[1] < a.order


def buffer_fix(model: FileModel, cls: ClassFacts, a: SelfAssign) -> Fix | None:
    """``self.x = <tensor>`` -> ``self.register_buffer("x", <tensor>)`` at the top level of ``__init__``."""
    node = simple_assign(a)
    meth = cls.methods.get("__init__")
    if node is None or meth is None or a.method != "__init__":
        return None
    if not any(s is node for s in meth.statements()):
        return None  # inside if/for/with/try: keep it to statements that surely run once, in order
    if not _after_super_init(cls, a) or not name_is_free_on(model, cls, a.attr, TORCH_MODULE_ATTRS):
        return None
    if not _others_assign_only(model, cls, a, (Tag.TENSOR, Tag.GRAD_TENSOR, Tag.NONE)):
        return None
    target = node.targets[0].target
    assert isinstance(target, cst.Attribute)
    register = cst.Attribute(value=target.value, attr=cst.Name("register_buffer"))
    new = cst.Expr(call_node(register, cst.SimpleString(f'"{a.attr}"'), a.value))
    return Fix(((node, new),), Applicability.UNSAFE, title=f"register 'self.{a.attr}' with register_buffer")


def _is_true(e: cst.BaseExpression) -> bool:
    return isinstance(e, cst.Name) and e.value == "True"


def _drop_arg(args: tuple[cst.Arg, ...] | list[cst.Arg], i: int) -> list[cst.Arg]:
    """``args`` without ``args[i]``; the argument before it takes over its comma and trailing space."""
    out = list(args)
    gone = out.pop(i)
    if i > 0 and i == len(out):  # it was the last one
        prev = out[i - 1]
        out[i - 1] = prev.with_changes(comma=gone.comma, whitespace_after_arg=gone.whitespace_after_arg)
    elif i > 0:
        prev = out[i - 1]
        out[i - 1] = prev.with_changes(comma=gone.comma)
    return out


def _without_requires_grad(model: FileModel, value: cst.BaseExpression) -> cst.BaseExpression | None:
    """The tensor expression of ``value`` with the ``requires_grad`` request taken out, or None."""
    if not isinstance(value, cst.Call):
        return None
    func = value.func
    if isinstance(func, cst.Attribute) and func.attr.value == "requires_grad_":
        # torch.zeros(3).requires_grad_() -> torch.zeros(3); not on a name (other references would keep the flag)
        if isinstance(func.value, cst.Call) and (not value.args or (len(value.args) == 1 and _is_true(value.args[0].value) and value.args[0].star == "")):
            return func.value
        return None
    hits = [i for i, arg in enumerate(value.args) if arg.keyword is not None and arg.keyword.value == "requires_grad"]
    if len(hits) != 1 or not _is_true(value.args[hits[0]].value) or any(arg.star for arg in value.args):
        return None
    args = _drop_arg(value.args, hits[0])
    if model.qualify(func) in known.TORCH_VARIABLE:
        # Variable(t, requires_grad=True) -> t
        if len(args) == 1 and args[0].keyword is None:
            return args[0].value
        return None
    if not args:
        return None
    return value.with_changes(args=args)


def parameter_fix(model: FileModel, cls: ClassFacts, a: SelfAssign) -> Fix | None:
    """``self.w = torch.ones(3, requires_grad=True)`` -> ``self.w = nn.Parameter(torch.ones(3))``."""
    if simple_assign(a) is None or not _after_super_init(cls, a):
        return None
    if not name_is_free_on(model, cls, a.attr, TORCH_MODULE_ATTRS):
        return None
    if not _others_assign_only(model, cls, a, (Tag.PARAMETER, Tag.NONE)):
        return None  # self.w = self.w * 0.9 elsewhere would raise once w is a Parameter
    inner = _without_requires_grad(model, a.value)
    if inner is None:
        return None
    spelled = spell(model, "torch.nn.Parameter", a.scope)
    if spelled is None:
        return None
    text, imports = spelled
    return Fix(((a.value, call(text, inner)),), Applicability.UNSAFE, title=f"make 'self.{a.attr}' an {text}", imports=imports)
