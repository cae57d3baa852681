"""Use facts: how a ``self.<attr>`` tensor is *read*, and whether a read breaks.

The model records how each attribute is assigned; this module answers, on
demand and only for the few attributes a rule asks about, how it is *used*:
every read of ``self.<attr>`` in the methods of the class (same-file bases
and subclasses included), classified by what happens to the value on its way
from the read to an operation:

* ``PY`` — Python context only: ``int()``/``.item()``/``.tolist()``, an ``if``
  test, ``.shape``/``.size()``, an index into another tensor (``x[self.idx]``:
  a CPU index tensor may index a tensor on any device);
* ``HARM`` — combined, unmoved, with a value that lives on the module's
  device (a forward input, a parameter, a sub-module's output) in a tensor
  operation: breaks after ``.to(device)``;
* ``MOVED`` — moved at the use (``.to(x.device)``, ``.cuda()``) and then
  combined with such a value; ``cast`` says whether the dtype follows too
  (``.to(x)``, ``.type_as(x)``, ``.to(device=, dtype=)``);
* ``FLOW`` — anything we cannot follow (an unknown function, stored
  elsewhere): neither a break nor a proof of safety.

Writes are facts too: ``update`` (the old value is read: ``self.r = self.r *
m + ...``, ``self.r.add_(...)``, ``self.r[i] = v``, ``+=``) and ``overwrite``
(a new value from elsewhere).  A read that follows an overwrite in the same
method reads the new value, not the one ``__init__`` stored, and is ignored.

Parents are computed per method, once, only for classes a rule asks about,
so a clean file never pays for this.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from . import known
from .model import FILE_WIDE_METHODS, ClassFacts, FileModel, MethodFacts, NodeMemo, Scope, Tag, dotted_name, node_children

PY, HARM, MOVED, FLOW = "py", "harm", "moved", "flow"
#: how many locals, helper parameters and returns a read is followed through (a recurrence needs ~5)
_FOLLOW = 5
#: how deep ``on_device`` looks through locals, operations and helpers for a value on the module's device
#: (``loss = -loss`` after ``loss *= w`` after ``loss = pos + neg`` after ``pos = y * log(p)`` after ``y = y.float()``)
_ON_DEVICE_DEPTH = 14

#: methods that convert a module's tensors: an attribute they touch is converted by the class itself
CONVERTERS = frozenset(
    {"_apply", "to", "cuda", "cpu", "half", "float", "double", "bfloat16", "type", "to_empty", "xpu", "mps"}
)
#: the converters torch calls on every module of a tree (``parent.to()``/``.half()`` go through each child's
#: ``_apply``); a ``to``/``cuda`` override only runs when called on that very module, never when a parent moves
_RECURSIVE_CONVERTERS = FILE_WIDE_METHODS  # read by every class of the file (see model.FILE_WIDE_METHODS)
#: methods that never run on the forward path after ``.to()`` (besides ``__init__`` and what only it calls)
_NOT_RUNTIME = frozenset(
    {"__init__", "extra_repr", "__repr__", "__str__", "__getstate__", "__setstate__", "_load_from_state_dict",
     "_save_to_state_dict", "state_dict", "load_state_dict", "reset_parameters", "_init_weights", "init_weights"}
) | CONVERTERS
#: reading these gives Python values (or metadata), not the tensor's data
_META_ATTRS = frozenset(
    {"shape", "device", "dtype", "ndim", "is_cuda", "requires_grad", "is_sparse", "layout", "names", "is_meta"}
)
#: tensor methods / torch functions that make a fresh tensor and take only metadata from the old one
_FRESH_METHODS = frozenset({"new_empty", "new_zeros", "new_ones", "new_full", "new_tensor"})
_FRESH_LIKE = frozenset({"torch.empty_like", "torch.zeros_like", "torch.ones_like", "torch.full_like"})
_PY_METHODS = frozenset(
    {"item", "tolist", "numpy", "size", "dim", "numel", "nelement", "data_ptr", "element_size", "is_floating_point",
     "is_complex", "get_device", "__len__", "stride", "storage_offset", "is_contiguous", "equal"}
)
_PY_BUILTINS = frozenset(
    {"int", "float", "bool", "len", "range", "str", "repr", "print", "isinstance", "list", "tuple", "max", "min",
     "round", "abs", "enumerate", "zip", "sorted", "reversed", "sum", "hash", "id", "format", "divmod", "pow",
     "type", "any", "all", "iter", "next", "set", "dict", "getattr", "hasattr", "setattr", "vars"}
)
#: in-place resets (``self.h.zero_()``): the old value does not matter
_RESETS = frozenset({"zero_", "fill_", "normal_", "uniform_", "random_", "bernoulli_", "exponential_", "geometric_",
                     "cauchy_", "log_normal_", "requires_grad_", "share_memory_", "detach_", "resize_"})
#: moving without casting / casting without moving
_MOVE_METHODS = {"cuda": (True, False), "xpu": (True, False), "mps": (True, False), "cpu": (False, False),
                 "half": (False, True), "float": (False, True), "double": (False, True), "bfloat16": (False, True),
                 "long": (False, False), "int": (False, False), "bool": (False, False), "short": (False, False),
                 "byte": (False, False), "char": (False, False), "type_as": (True, True)}
#: tensor methods whose tensor arguments take part in the computation (``x.mul(self.a)``)
_SHAPE_METHODS = frozenset(
    {"view", "reshape", "unsqueeze", "squeeze", "permute", "transpose", "expand", "repeat", "contiguous", "clone",
     "detach", "flip", "flatten", "unflatten", "narrow", "select", "chunk", "split", "t", "view_as", "reshape_as",
     "expand_as", "repeat_interleave", "unbind", "movedim", "swapaxes", "roll", "tile", "squeeze_", "unsqueeze_",
     "float", "half", "double", "long", "int", "bool"}
)
#: operations that insist on one dtype for their operands (they raise where elementwise ops promote)
_STRICT = frozenset(
    {"matmul", "mm", "bmm", "mv", "einsum", "linear", "bilinear", "addmm", "baddbmm", "addbmm", "conv1d", "conv2d",
     "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv_tbc", "tensordot", "chain_matmul",
     "lstm", "gru", "rnn_tanh", "rnn_relu", "embedding_bag", "scaled_dot_product_attention", "inner", "dot", "vdot"}
)
_TYPING_SCALARS = frozenset({"int", "float", "bool", "str", "bytes", "complex", "None"})


@dataclass(frozen=True)
class Read:
    kind: str  # PY, HARM, MOVED, FLOW
    method: str
    node: cst.CSTNode  # where it happens (the operation, or the read)
    cast: bool = False  # MOVED: the dtype follows too
    #: the read is ``self.a[<integer literal>]``: a 0-d tensor when ``self.a`` is 1-d
    int_indexed: bool = False
    #: MOVED: met as the input of a sub-module (which may well take integer ids)
    via_layer: bool = False


@dataclass
class AttrUses:
    reads: list[Read] = field(default_factory=list)
    #: (method, node, how): a write outside ``__init__`` (and methods only it calls); how is
    #: "update", "fill" (``copy_``: filled in place from elsewhere), "resync", "resync-cast", "overwrite" or "reset"
    writes: list[tuple[str, cst.CSTNode, str]] = field(default_factory=list)
    #: the class moves the attribute itself (``self.a = self.a.to(x.device)``): (moved, cast)
    resync: tuple[bool, bool] | None = None
    #: a converter (``_apply``/``to``/``cuda`` override) of some class of the file touches ``.<attr>``
    converted: bool = False


class _Method:
    """One method's nodes in preorder with their parents (built once, on demand)."""

    def __init__(self, meth: MethodFacts, memo: NodeMemo | None = None) -> None:
        self.meth = meth
        # what follows depends on the method's body alone: an unchanged body (the language server's
        # previous version) shares it (read-only from here on)
        shared = memo.get("preorder", meth.node.body) if memo is not None else None
        if shared is not None:
            self.parent, self.index, self.end, self.nodes, self.bindings = shared
            return
        self.parent: dict[int, cst.CSTNode] = {}
        self.index: dict[int, int] = {}
        self.end: dict[int, int] = {}
        self.nodes: list[cst.CSTNode] = []
        stack: list = [(meth.node.body, None)]
        while stack:
            item = stack.pop()
            if item.__class__ is int:  # post-order marker: the subtree's last index
                self.end[item] = len(self.nodes) - 1
                continue
            node, parent = item
            self.index[id(node)] = len(self.nodes)
            self.nodes.append(node)
            if parent is not None:
                self.parent[id(node)] = parent
            stack.append(id(node))
            stack.extend((c, node) for c in reversed(node_children(node)))
        #: local name -> [(index after which it holds the value, value or None when unknown)]
        self.bindings: dict[str, list[tuple[int, cst.BaseExpression | None]]] = {}
        for n in self.nodes:
            if isinstance(n, cst.Assign):
                for t in n.targets:
                    for name, value in _bound(t.target, n.value):
                        self.bindings.setdefault(name, []).append((self.end[id(n)], value))
            elif isinstance(n, cst.AnnAssign) and n.value is not None:
                for name, value in _bound(n.target, n.value):
                    self.bindings.setdefault(name, []).append((self.end[id(n)], value))
            elif isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name):
                self.bindings.setdefault(n.target.value, []).append((self.end[id(n)], n))
            elif isinstance(n, cst.NamedExpr) and isinstance(n.target, cst.Name):
                self.bindings.setdefault(n.target.value, []).append((self.end[id(n)], n.value))
            elif isinstance(n, (cst.For, cst.CompFor)):
                for name, _ in _bound(n.target, None):
                    self.bindings.setdefault(name, []).append((self.index[id(n.target)], None))
            elif isinstance(n, cst.AsName):
                for name, _ in _bound(n.name, None):
                    self.bindings.setdefault(name, []).append((self.index[id(n)], None))
        if memo is not None:
            memo.put("preorder", meth.node.body, (self.parent, self.index, self.end, self.nodes, self.bindings))

    def last_binding_end(self, name: str, at: int) -> int | None:
        """Where the last binding of ``name`` before ``at`` ends."""
        best = None
        for end, _ in self.bindings.get(name, ()):
            if end < at:
                best = end
        return best

    def binding_before(self, name: str, at: int) -> tuple[bool, cst.BaseExpression | None]:
        """(bound in this method before ``at``?, the value then, None if unknown)."""
        best = None
        for end, value in self.bindings.get(name, ()):
            if end < at:
                best = (True, value)
        return best or (False, None)

    def self_reads(self, attr: str) -> Iterator[cst.Attribute]:
        name = self.meth.self_name
        for n in self.nodes:
            if isinstance(n, cst.Attribute) and n.attr.value == attr and isinstance(n.value, cst.Name) and n.value.value == name:
                yield n

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        n = node
        while not isinstance(n, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
            p = self.parent.get(id(n))
            if p is None:
                return n
            n = p
        return n


class UseIndex:
    """Use facts for the attributes of one file, memoised."""

    def __init__(self, model: FileModel) -> None:
        self.model = model
        self._methods: dict[int, _Method] = {}
        self._uses: dict[tuple[int, str], AttrUses] = {}
        self._converted: tuple[set[str], dict[int, set[str]]] | None = None
        self._family: dict[int, list[ClassFacts]] = {}
        self._runtime: dict[int, list[tuple[ClassFacts, MethodFacts]]] = {}
        self._construction: dict[int, set[str]] = {}
        self._callers: dict[int, dict[str, set[str]]] = {}
        self._on_device_memo: set[tuple] = set()
        self._tags: dict[tuple[int, str], Tag | None] = {}
        #: while a read is followed into a helper: its parameters that the call site fed a value on the module's
        #: device, or that device itself (``device=x.device``)
        self._device_args: dict[int, frozenset[str]] = {}
        self.functions: dict[int, cst.FunctionDef] | None = None
        self._paths: dict[int, set[str]] = {}
        self._toplevel_defs: dict[str, cst.FunctionDef] | None = None
        self._toplevel: dict[str, _Method] = {}
        self.sizes: dict[int, frozenset[str]] = {}

    # -- plumbing -----------------------------------------------------------------
    def method(self, meth: MethodFacts) -> _Method:
        m = self._methods.get(id(meth))
        if m is None:
            m = self._methods[id(meth)] = _Method(meth, self.model.memo)
        return m

    def converted_names(self, cls: ClassFacts) -> set[str]:
        """Attribute names an ``_apply`` override converts: ``self.<name>`` in one of ``cls``'s family, and
        ``<other>.<name>`` (``m.stride = fn(m.stride)``, ``self.head.stride``) in any class of the file."""
        if self._converted is None:
            foreign: set[str] = set()
            own: dict[int, set[str]] = {}
            for c in self.model.classes:
                for name, meth in c.methods.items():
                    if name not in _RECURSIVE_CONVERTERS:
                        continue
                    m = self.method(meth)
                    for n in m.nodes:
                        if not isinstance(n, cst.Attribute) or _metadata_only(m, n):
                            continue
                        if isinstance(n.value, cst.Name) and n.value.value == meth.self_name:
                            own.setdefault(id(c), set()).add(n.attr.value)
                        else:
                            foreign.add(n.attr.value)
            self._converted = (foreign, own)
        foreign, own = self._converted
        out = set(foreign)
        for c in self.family(cls):
            out |= own.get(id(c), set())
        return out

    def family(self, cls: ClassFacts) -> list[ClassFacts]:
        got = self._family.get(id(cls))
        if got is None:
            got = self._family[id(cls)] = [cls, *cls.ancestors(), *self.model.descendants(cls)]
        return got

    def family_reads(self, cls: ClassFacts, attr: str) -> Iterator[tuple[_Method, cst.Attribute]]:
        """Every ``self.<attr>`` in every method of the class family (``__init__`` included), with its method."""
        for c in self.family(cls):
            for meth in c.methods.values():
                if meth.self_name is not None and attr in meth.self_attrs:
                    m = self.method(meth)
                    for occ in m.self_reads(attr):
                        yield m, occ

    def runtime_methods(self, cls: ClassFacts) -> list[tuple[ClassFacts, MethodFacts]]:
        """Methods that may run after ``.to()``: all but ``__init__``, converters and what only ``__init__`` calls."""
        got = self._runtime.get(id(cls))
        if got is None:
            got = self._runtime[id(cls)] = self._runtime_methods(cls)
        return got

    def family_method(self, cls: ClassFacts, name: str) -> MethodFacts | None:
        """The method ``name`` of the class family (the class, its same-file bases, then its subclasses)."""
        for c in self.family(cls):
            if name in c.methods:
                return c.methods[name]
        return None

    def _self_callers(self, cls: ClassFacts) -> dict[str, set[str]]:
        """``self.<name>(...)`` in the class family: name -> the methods that call it."""
        got = self._callers.get(id(cls))
        if got is None:
            got = self._callers[id(cls)] = {}
            for c in self.family(cls):
                for call in c.self_calls:
                    got.setdefault(call.name, set()).add(call.method)
        return got

    def regrowing_methods(self, cls: ClassFacts) -> set[str]:
        """Helpers that the construction methods call and that only the forward path calls again
        (``self.make_weights(n)`` to regrow a table): their first run is part of building the module."""
        building, path = self.construction_methods(cls), self.forward_path(cls)
        return {n for n, who in self._self_callers(cls).items()
                if n not in building and who & building and who <= building | path}

    def construction_methods(self, cls: ClassFacts) -> set[str]:
        """``__init__`` and the methods only it calls (transitively), in the class family: what builds the module."""
        got = self._construction.get(id(cls))
        if got is not None:
            return got
        callers = self._self_callers(cls)
        init_only = {"__init__"}
        changed = True
        while changed:
            changed = False
            for name, who in callers.items():
                if name not in init_only and who and who <= init_only and name not in ("forward", "construct"):
                    init_only.add(name)
                    changed = True
        self._construction[id(cls)] = init_only
        return init_only

    def _runtime_methods(self, cls: ClassFacts) -> list[tuple[ClassFacts, MethodFacts]]:
        fam = self.family(cls)
        init_only = self.construction_methods(cls)
        out = []
        for c in fam:
            for name, meth in c.methods.items():
                if name in init_only or name in _NOT_RUNTIME or meth.self_name is None:
                    continue
                out.append((c, meth))
        return out

    def forward_path(self, cls: ClassFacts) -> set[str]:
        """``forward``/``construct``/``__call__`` and the methods they call through ``self.<name>(...)``."""
        got = self._paths.get(id(cls))
        if got is None:
            family = self.family(cls)
            entries = ("forward", "construct", "__call__")
            if not any(e in c.methods for c in family for e in entries) and not any(c.unknown_bases for c in family) \
                    and all(known.normalize(b) in known.BARE_BASES for c in family for b in c.framework_bases):
                # a Module with no entry point at all (a codebook whose parent calls encode()/decode()): its public
                # methods are how it is used, and what they are given comes from the parent's forward
                entries = tuple(n for c in family for n in c.methods if not n.startswith("_"))
            got = self._paths[id(cls)] = self_call_closure(family, entries)
        return got

    # -- the facts ----------------------------------------------------------------
    def uses(self, cls: ClassFacts, attr: str) -> AttrUses:
        key = (id(cls), attr)
        got = self._uses.get(key)
        if got is not None:
            return got
        out = self._uses[key] = AttrUses(converted=attr in self.converted_names(cls))
        pending: list[tuple[ClassFacts, _Method, cst.Attribute]] = []
        for c, meth in self.runtime_methods(cls):
            m = self.method(meth)
            overwritten_at: list[int] = []
            overwrites: list[cst.CSTNode] = []
            occurrences = list(m.self_reads(attr))
            written = set()
            for occ in occurrences:
                w = self._write(m, occ)
                if w is not None:
                    node, how = w
                    if how == "update" and _fills_fresh(m, occ, node, overwrites):
                        how = "overwrite"  # self.a = t.new_empty(n); self.a[:] = v: filling the value just made
                    written.add(id(occ))
                    out.writes.append((meth.name, node, how))
                    if how == "overwrite":
                        overwritten_at.append(m.end.get(id(m.statement_of(occ)), m.index[id(occ)]))
                        overwrites.append(m.statement_of(occ))
                    elif how.startswith("resync"):
                        out.resync = (True, out.resync[1] or how == "resync-cast") if out.resync else (True, how == "resync-cast")
            for occ in occurrences:
                if id(occ) in written or _inside_write_value(m, occ, attr):
                    continue
                at = m.index[id(occ)]
                if any(w < at for w in overwritten_at):
                    continue  # reads the value this method stored, not the one of __init__
                pending.append((c, m, occ))
        moved, cast = out.resync or (False, False)  # the class moves it itself: every read is a moved one
        for c, m, occ in pending:
            reads = self._climb(c, m, occ, moved=moved, cast=cast, depth=0)
            if any(r.kind == HARM for r in reads) and _device_guarded(m, occ):
                reads = [Read(PY, r.method, r.node) if r.kind == HARM and not _strict_node(self.model, r.node) else r
                         for r in reads]
            out.reads.extend(reads)
        return out

    def _write(self, m: _Method, occ: cst.Attribute) -> tuple[cst.CSTNode, str] | None:
        """Is this occurrence written, and how does the new value use the old one?

        ``"update"``: computed from the old value (``self.a = self.a * m + x``,
        ``+=``, ``self.a[i] = v``, ``self.a.add_(...)``); ``"resync"`` /
        ``"resync-cast"``: the old value only moved (and cast) (``self.a =
        self.a.to(x.device)``); ``"overwrite"``: anything else, including a
        call we cannot see into (``self.a = helper(x, self.a)``) and tuple
        targets.
        """
        p = m.parent.get(id(occ))
        if isinstance(p, cst.AssignTarget) and p.target is occ:
            stmt = m.parent[id(p)]
            return stmt, _old_value_use(self.model, m, stmt.value, occ.attr.value)
        if isinstance(p, cst.AnnAssign) and p.target is occ and p.value is not None:
            return p, _old_value_use(self.model, m, p.value, occ.attr.value)
        if isinstance(p, cst.AugAssign) and p.target is occ:
            return p, "update"
        if isinstance(p, cst.Subscript) and p.value is occ:
            gp = m.parent.get(id(p))
            if isinstance(gp, cst.AssignTarget) and gp.target is p:
                return m.parent[id(gp)], "update"
            if isinstance(gp, cst.AugAssign) and gp.target is p:
                return gp, "update"
        if isinstance(p, cst.Element):
            holder = m.parent.get(id(p))
            target = m.parent.get(id(holder)) if isinstance(holder, (cst.Tuple, cst.List)) else None
            if isinstance(target, cst.AssignTarget) and target.target is holder:
                stmt = m.parent[id(target)]
                return stmt, _old_value_use(self.model, m, stmt.value, occ.attr.value)
        if isinstance(p, cst.Attribute) and p.value is occ and p.attr.value.endswith("_") and not p.attr.value.startswith("_"):
            call = m.parent.get(id(p))
            if isinstance(call, cst.Call) and call.func is p:
                if p.attr.value == "copy_":
                    return call, "fill"  # a new value from elsewhere, copied in place
                return call, "update" if p.attr.value not in _RESETS else "reset"
        return None

    # -- following a read ---------------------------------------------------------
    def _climb(self, cls: ClassFacts, m: _Method, node: cst.CSTNode, moved: bool, cast: bool, depth: int) -> list[Read]:
        name = m.meth.name
        cur = node
        while True:
            p = m.parent.get(id(cur))
            if p is None:
                return [Read(FLOW, name, cur)]
            if isinstance(p, (cst.Arg, cst.Element, cst.StarredElement, cst.StarredDictElement, cst.DictElement)) and \
                    getattr(p, "keyword", None) is not cur:
                holder = m.parent.get(id(p))
                if isinstance(p, cst.Element) and isinstance(holder, (cst.List, cst.Tuple)):
                    siblings = [e.value for e in holder.elements if e is not p]
                    if any(self.on_device(cls, m, s, depth) for s in siblings):
                        met = self._meet(name, holder, moved, cast, strict=False)
                        if met is not None:
                            return [met]
                    cur = holder
                    continue
                if isinstance(p, cst.Arg) and isinstance(holder, cst.Call):
                    return self._as_argument(cls, m, cur, p, holder, moved, cast, depth)
                return [Read(FLOW, name, cur)]
            if isinstance(p, cst.Attribute) and p.value is cur:
                attr = p.attr.value
                if attr in _META_ATTRS:
                    return [Read(PY, name, p)]
                call = m.parent.get(id(p))
                if isinstance(call, cst.Call) and call.func is p:
                    if attr in _PY_METHODS:
                        return [Read(PY, name, call)]
                    if attr == "to":
                        mv, cs = to_args(self.model, m, call)
                        moved, cast = moved or mv, cast or cs
                        cur = call
                        continue
                    if attr in _MOVE_METHODS:
                        mv, cs = _MOVE_METHODS[attr]
                        moved, cast = moved or mv, cast or cs
                        cur = call
                        continue
                    if attr not in _SHAPE_METHODS:
                        others = [a.value for a in call.args]
                        if any(self.on_device(cls, m, o, depth) for o in others):
                            met = self._meet(name, call, moved, cast, strict=attr in _STRICT)
                            if met is not None:
                                return [met]
                    cur = call
                    continue
                cur = p  # .T, .real, .data
                continue
            if isinstance(p, cst.Subscript):
                if p.value is cur:
                    if cur is node and _int_index(self.model, m, p):
                        return [dataclasses.replace(r, int_indexed=True) for r in self._climb(cls, m, p, moved, cast, depth)]
                    cur = p
                    continue
                return [Read(PY, name, p)]  # an index into another value
            if isinstance(p, (cst.SubscriptElement, cst.Index, cst.Slice)):
                return [Read(PY, name, p)]
            if isinstance(p, cst.BinaryOperation):
                other = p.right if p.left is cur else p.left
                if self.on_device(cls, m, other, depth):
                    met = self._meet(name, p, moved, cast, strict=isinstance(p.operator, cst.MatrixMultiply))
                    if met is not None:
                        return [met]
                cur = p
                continue
            if isinstance(p, cst.Comparison):
                others = [p.left, *(c.comparator for c in p.comparisons)]
                if any(o is not cur and self.on_device(cls, m, o, depth) for o in others):
                    # a comparison gives a bool tensor: only the device can be wrong
                    return [Read(HARM, name, p)] if not moved else [Read(FLOW, name, p)]
                cur, cast = p, True  # a bool tensor from here on: its dtype promotes nothing, only its device counts
                continue
            if isinstance(p, cst.ComparisonTarget):
                cur = p
                continue
            if isinstance(p, cst.UnaryOperation):
                if isinstance(p.operator, cst.Not):
                    return [Read(PY, name, p)]
                cur = p
                continue
            if isinstance(p, (cst.BooleanOperation, cst.If, cst.While, cst.Assert, cst.FormattedStringExpression)):
                return [Read(PY, name, p)]
            if isinstance(p, cst.IfExp):
                if p.test is cur:
                    return [Read(PY, name, p)]
                cur = p
                continue
            if isinstance(p, cst.AugAssign) and p.value is cur:
                # y += self.bias: an in-place operation with y (a target self.<attr> is a write, not a read)
                if self.on_device(cls, m, p.target, depth):
                    met = self._meet(name, p, moved, cast, strict=isinstance(p.operator, cst.MatrixMultiplyAssign))
                    if met is not None:
                        return [met]
                return [Read(FLOW, name, cur)]
            if isinstance(p, (cst.Assign, cst.AnnAssign)) and getattr(p, "value", None) is cur:
                targets = [t.target for t in p.targets] if isinstance(p, cst.Assign) else [p.target]
                names = [t.value for t in targets if isinstance(t, cst.Name)]
                if not names or depth >= _FOLLOW:
                    return [Read(FLOW, name, cur)]
                out: list[Read] = []
                for local in names:
                    out.extend(self._follow_local(cls, m, p, local, moved, cast, depth + 1))
                return out or [Read(PY, name, cur)]  # bound and never used
            if isinstance(p, cst.Return) and depth < _FOLLOW:
                return self._follow_return(cls, m, moved, cast, depth + 1) or [Read(FLOW, name, cur)]
            if isinstance(p, cst.Call) and p.func is cur:
                # a layer built from it in this method (nn.CrossEntropyLoss(weight=self.w)), called with the inputs:
                # .to() never reaches a layer built per call, so it meets them as it was
                if any(not a.star and self.on_device(cls, m, a.value, depth) for a in p.args):
                    met = self._meet(name, p, moved, cast, strict=True)
                    if met is not None:
                        return [met]
                return [Read(FLOW, name, p)]
            return [Read(FLOW, name, cur)]

    @staticmethod
    def _meet(method: str, node: cst.CSTNode, moved: bool, cast: bool, strict: bool) -> Read | None:
        """The value meets one on the module's device at ``node``.

        Unmoved: a device mismatch (HARM).  Moved and cast: fine.  Moved but
        not cast: a dtype-strict operation (matmul, conv, linear, a sub-module)
        fails after ``.half()``; an elementwise one promotes instead, so the
        promoted result is followed further (None).
        """
        if not moved:
            return Read(HARM, method, node)
        if cast or strict:
            return Read(MOVED, method, node, cast)
        return None

    def _as_argument(self, cls, m, cur, arg: cst.Arg, call: cst.Call, moved, cast, depth) -> list[Read]:
        name = m.meth.name
        func = call.func
        dotted = dotted_name(func)
        if isinstance(func, cst.Name) and func.value in _PY_BUILTINS:
            return [Read(PY, name, call)]
        q = self.model.imports.qualify(dotted) if dotted else None
        if q is not None and q.split(".")[0] in ("math", "numpy", "np"):
            return [Read(PY, name, call)]
        others = [a.value for a in call.args if a is not arg and a.keyword is None or (a is not arg and a.keyword is not None and a.keyword.value not in ("dim", "out", "dtype", "device"))]
        if isinstance(func, cst.Attribute) and func.attr.value == "copy_" and call.args and call.args[0] is arg:
            return [Read(MOVED, name, call, True)]  # dst.copy_(self.t): copied into dst's device and dtype
        if isinstance(func, cst.Attribute):
            recv = func.value
            if not (q is not None and q.split(".")[0] == "torch") and self.on_device(cls, m, recv, depth):
                met = self._meet(name, call, moved, cast, strict=func.attr.value in _STRICT)  # x.masked_fill(self.mask, ...)
                return [met] if met is not None else self._climb(cls, m, call, moved, cast, depth)
        if q is not None and q.startswith("torch.ops.") and not q.startswith("torch.ops.aten."):
            return [Read(FLOW, name, call)]  # a custom kernel: its device contract is its own (sizes may live on the CPU)
        if q is not None and q.split(".")[0] == "torch":
            partners = [o for o in others if self.on_device(cls, m, o, depth)]
            if partners and moved and not cast and all(_fixed_dtype(self.model, o) for o in partners):
                return [Read(FLOW, name, call)]  # the partners are cast to a fixed dtype: so is the result
            if partners:
                met = self._meet(name, call, moved, cast, strict=q.rsplit(".", 1)[-1] in _STRICT)
                if met is not None:
                    return [met]
            return self._climb(cls, m, call, moved, cast, depth)
        if self._is_layer_call(cls, m, func):
            met = self._meet(name, call, moved, cast, strict=True)
            return [dataclasses.replace(met, via_layer=True) if met.kind == MOVED else met]
        helper = self._helper(cls, m, func)
        if helper is None and (m.meth.scope.owner is None or m.meth.name in self.forward_path(cls)):
            helper = self._module_function(cls, func)  # the forward path's inputs flow into it
        if helper is not None and depth < _FOLLOW:  # self._make(self.table, x): follow the parameter it lands in
            hc, hm = helper
            skip = hm.meth.self_name is not None or hm.meth.scope.owner is not None
            param = _param_for(hm.meth.node, call, arg, skip_self=skip)
            if param is not None:
                out = []
                saved = self._device_args.get(id(hm))
                self._device_args[id(hm)] = self._on_device_args(cls, m, call, hm, skip, depth)
                try:
                    for n in hm.nodes:
                        if isinstance(n, cst.Name) and n.value == param and self._is_load(hm, n) and \
                                hm.last_binding_end(param, hm.index[id(n)]) is None:
                            out.extend(self._climb(hc, hm, n, moved, cast, depth + 1))
                finally:
                    if saved is None:
                        self._device_args.pop(id(hm), None)
                    else:
                        self._device_args[id(hm)] = saved
                return out or [Read(FLOW, name, call)]
        # an imported function (rms_norm(x, s, self.weight)) is judged by its body, read from disk by the resolver:
        # the value meets the arguments given for the parameters its own parameter meets in a tensor operation there
        # (`x * weight`); a function that only tests `t.requires_grad` or takes its elements as numbers meets nothing
        # (measured on 58 libraries, taking every floating argument beside the inputs as met gave 9 false alarms in 10)
        partners = self._imported_partners(cls, m, call, arg, q, depth)
        if partners:
            met = self._meet(name, call, moved, cast, strict=False)
            return [met] if met is not None else self._climb(cls, m, call, moved, cast, depth)
        return [Read(FLOW, name, call)]

    def _imported_partners(self, cls, m: _Method, call: cst.Call, arg: cst.Arg, q: str | None, depth: int) -> bool:
        """``arg`` lands on a parameter of the imported function ``q`` that meets, in a tensor operation of its body,
        a parameter this call gives a value on the module's device."""
        resolver = self.model.resolver
        if q is None or resolver is None or any(a.star for a in call.args):
            return False
        summary = resolver.param_meets(q)
        if not summary:
            return False
        names: list[str] = summary["a"]
        pos = [a for a in call.args if a.keyword is None]

        def index(a: cst.Arg) -> int | None:
            if a.keyword is not None:
                return names.index(a.keyword.value) if a.keyword.value in names else None
            i = pos.index(a)
            return i if i < len(names) else None

        mine = index(arg)
        if mine is None:
            return False
        partners = set(summary["m"].get(str(mine), ()))
        return any(index(a) in partners and self.on_device(cls, m, a.value, depth) for a in call.args if a is not arg)

    def _on_device_args(self, cls, m: _Method, call: cst.Call, hm: _Method, skip: bool, depth: int) -> frozenset[str]:
        """Parameters of the helper ``hm`` that this call feeds an on-device value or its device (``x.device``)."""
        out: set[str] = set()
        for a in call.args:
            if a.star:
                continue
            p = _param_for(hm.meth.node, call, a, skip_self=skip)
            if p is not None and (self.on_device(cls, m, a.value, depth + 1) or _is_device_of(a.value, self, cls, m, depth)):
                out.add(p)
        return frozenset(out)

    def toplevel_def(self, func: cst.BaseExpression) -> cst.FunctionDef | None:
        """The ``def`` at the top level of this file that a call of ``func`` (a bare name, not an import) runs."""
        if not isinstance(func, cst.Name) or func.value in self.model.imports or func.value not in self.model.functions:
            return None
        if self._toplevel_defs is None:
            self._toplevel_defs = {}
            for stmt in self.model.module.body:
                if isinstance(stmt, cst.FunctionDef) and stmt.name.value in self.model.functions:
                    self._toplevel_defs.setdefault(stmt.name.value, stmt)
        return self._toplevel_defs.get(func.value)

    def toplevel(self, func: cst.BaseExpression) -> _Method | None:
        """:meth:`toplevel_def` as a :class:`_Method` (its nodes in preorder, parents, bindings), built once."""
        stmt = self.toplevel_def(func)
        if stmt is None:
            return None
        name = stmt.name.value
        got = self._toplevel.get(name)
        if got is None:
            params = [p.name.value for p in (*stmt.params.posonly_params, *stmt.params.params)]
            fake = MethodFacts(name, stmt, params, [], None, self.model.functions[name])
            got = self._toplevel[name] = _Method(fake, self.model.memo)
        return got

    def _module_function(self, cls: ClassFacts, func: cst.BaseExpression) -> tuple[ClassFacts, _Method] | None:
        """``rotate(x, self.table)`` with ``def rotate`` at the top level of this file."""
        got = self.toplevel(func)
        return (cls, got) if got is not None else None

    def _helper(self, cls: ClassFacts, m: _Method, func: cst.BaseExpression) -> tuple[ClassFacts, _Method] | None:
        """``self.<method>`` of the class (or a same-file base): its class and method."""
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == m.meth.self_name):
            return None
        for c in (cls, *cls.ancestors()):
            meth = c.methods.get(func.attr.value)
            if meth is not None:
                return (c, self.method(meth)) if meth.self_name is not None else None
        return None

    def _is_layer_call(self, cls: ClassFacts, m: _Method, func: cst.BaseExpression) -> bool:
        """``self.proj(...)``: a call of a sub-module of the class; also ``self.blocks[i](...)`` and ``layer(...)`` with
        ``for layer in self.layers`` (``enumerate``/``zip`` too) over a registered container of them."""
        if isinstance(func, cst.Subscript):
            func = func.value
        elif isinstance(func, cst.Name) and id(func) in m.index:
            source = _loop_source(m, func.value, m.index[id(func)])
            if source is None:
                return False
            func = source
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == m.meth.self_name:
            return self._attr_tag(cls, func.attr.value) in (Tag.LAYER, Tag.REGISTERED)
        return False

    def _opaque_callable(self, cls: ClassFacts, m: _Method, func: cst.BaseExpression) -> bool:
        """``self.encoder(x)`` where ``self.encoder`` is no method of the class family and holds a value we cannot
        type (``AutoModel.from_config(...)``, ``ACT2FN[name]``, a layer a base of another file stores): a callable
        the module keeps. Fed a value on the module's device, what it returns is computed from that value."""
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == m.meth.self_name):
            return False
        name = func.attr.value
        if any(name in c.methods for c in (*self.family(cls), *cls.ancestors())):
            return False
        return self._attr_tag(cls, name) in (None, Tag.OTHER)

    def _attr_tag(self, cls: ClassFacts, attr: str) -> Tag | None:
        key = (id(cls), attr)
        if key not in self._tags:
            self._tags[key] = self._attr_tag_of(cls, attr)
        return self._tags[key]

    def _attr_tag_of(self, cls: ClassFacts, attr: str) -> Tag | None:
        tags = set()
        for c in self.family(cls):
            for a in c.self_assigns:
                if a.attr == attr:
                    tags.add(self.model.kind_of(a.value, a.scope, a.order).tag)
            if attr in c.registered_names():
                tags.add(Tag.BUFFER)
        tags.discard(Tag.NONE)
        if not tags and any(known.inherited_parameter(c.framework_bases, attr) for c in self.family(cls)):
            return Tag.PARAMETER  # class StdConv(nn.Conv2d): self.weight is the Parameter nn.Conv2d registers
        if not tags and self.model.resolver is not None:
            # a base of another file binds it in its __init__ (self.rotary_emb = RotaryEmbedding(...)), as the
            # resolver reads that base
            for c in self.family(cls):
                for b in c.framework_bases:
                    got = None if known.framework_of_class(b) else self.model.resolver.attr_kind(b, attr)
                    if got is not None and got[0] in ("layer", "registered-container"):
                        return Tag(got[0])
        if len(tags) == 1:
            return tags.pop()
        if tags and tags <= {Tag.PARAMETER, Tag.BUFFER, Tag.LAYER, Tag.REGISTERED}:
            return Tag.BUFFER
        return Tag.OTHER if tags else None

    def _follow_local(self, cls, m: _Method, stmt: cst.CSTNode, local: str, moved, cast, depth) -> list[Read]:
        start = m.end.get(id(stmt), m.index.get(id(stmt), 0))
        candidates = list(range(start + 1, len(m.nodes)))
        loop = m.parent.get(id(stmt))
        while loop is not None and not isinstance(loop, (cst.For, cst.While)):
            loop = m.parent.get(id(loop))
        if loop is not None:  # the next iteration reads it too (h = f(h) in a recurrence)
            candidates += range(m.index[id(loop.body)], start + 1)
        out: list[Read] = []
        own_end = m.end.get(id(stmt))
        for i in candidates:
            n = m.nodes[i]
            if isinstance(n, cst.Name) and n.value == local and self._is_load(m, n):
                if i > start and _rebound_between(m, local, stmt, own_end, i):
                    continue  # rebound since (x = x.to(device)): that binding is followed on its own
                out.extend(self._climb(cls, m, n, moved, cast, depth))
        return out

    def _follow_return(self, cls, m: _Method, moved, cast, depth) -> list[Read]:
        """The value leaves through ``return``: follow it at the class's ``self.<method>(...)`` call sites."""
        out: list[Read] = []
        target = m.meth.name
        for c, meth in self.runtime_methods(cls):
            mm = self.method(meth)
            for n in mm.nodes:
                if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == target and \
                        isinstance(n.func.value, cst.Name) and n.func.value.value == meth.self_name:
                    out.extend(self._climb(c, mm, n, moved, cast, depth))
        return out

    @staticmethod
    def _is_load(m: _Method, n: cst.Name) -> bool:
        p = m.parent.get(id(n))
        if isinstance(p, cst.Attribute) and p.attr is n:
            return False
        if isinstance(p, cst.Arg) and p.keyword is n:
            return False
        if isinstance(p, (cst.AssignTarget, cst.Param)) or (isinstance(p, (cst.AnnAssign, cst.AugAssign)) and p.target is n):
            return False
        return True

    # -- where does a value live? -------------------------------------------------
    def _returns_on_device(self, cls: ClassFacts, m: _Method, call: cst.Call, depth: int) -> bool:
        """``self._norm(x)`` / ``rotate(x, t)``: a helper of the class (or a function of this file) fed a value on
        the module's device that returns a value computed from it (one of its ``return`` values is on the device,
        given what this call passes)."""
        helper = self._helper(cls, m, call.func)
        if helper is None and (m.meth.scope.owner is None or m.meth.name in self.forward_path(cls)):
            helper = self._module_function(cls, call.func)
        if helper is None:
            return False
        hc, hm = helper
        skip = hm.meth.self_name is not None or hm.meth.scope.owner is not None
        fed = self._on_device_args(cls, m, call, hm, skip, depth)
        if not fed:
            return False
        saved = self._device_args.get(id(hm))
        self._device_args[id(hm)] = fed
        try:
            for n in hm.nodes:
                if isinstance(n, cst.Return) and n.value is not None and _own_return(hm, n) and \
                        self.on_device(hc, hm, n.value, depth + 1):
                    return True
            return False
        finally:
            if saved is None:
                self._device_args.pop(id(hm), None)
            else:
                self._device_args[id(hm)] = saved

    def on_device(self, cls: ClassFacts, m: _Method, e: cst.BaseExpression, depth: int = 0) -> bool:
        """Does ``e`` certainly live on the module's device (an input, a parameter, a sub-module's output)?

        A proof found once holds for every later question about the same node (under the same call-site
        facts), so positive answers are kept; a negative one may only mean the search stopped early.
        """
        if depth > _ON_DEVICE_DEPTH:
            return False
        key = (id(cls), id(m), id(e), self._device_args.get(id(m)))
        if key in self._on_device_memo:
            return True
        got = self._on_device(cls, m, e, depth)
        if got:
            self._on_device_memo.add(key)
        return got

    def _on_device(self, cls: ClassFacts, m: _Method, e: cst.BaseExpression, depth: int) -> bool:
        if isinstance(e, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString,
                          cst.FormattedString)):
            return False
        if isinstance(e, cst.Name):
            if e.value in ("None", "True", "False"):
                return False
            meth = m.meth
            scope: Scope = meth.scope
            if e.value == meth.self_name:
                return False
            at = m.index.get(id(e))
            if at is not None:
                comp, source = _comprehension_source(m, e)
                if comp:  # [x + t for x in xs]: the element read precedes its binding in the node order
                    return source is not None and self.on_device(cls, m, source, depth + 1)
                bound, value = m.binding_before(e.value, at)
                if bound:
                    if isinstance(value, cst.AugAssign):
                        return self.on_device(cls, m, value.target, depth + 1) or self.on_device(cls, m, value.value, depth + 1)
                    if value is None:
                        source = _loop_source(m, e.value, at)
                        return source is not None and self.on_device(cls, m, source, depth + 1)
                    if isinstance(value, cst.List) and not value.elements:
                        return any(self.on_device(cls, m, x, depth + 1) for x in _appended(m, e.value, at))
                    return self.on_device(cls, m, value, depth + 1)
            if e.value in scope.params:
                if e.value in self._device_args.get(id(m), ()):
                    return True  # the call site being followed passed an on-device value (or its device)
                if scope.owner is None:  # a module-level function, entered from a use on the forward path
                    return _tensor_param(meth.node, e.value)
                # the inputs of forward (and what it calls) live on the module's device; a sampler's or a
                # collate function's inputs need not
                return meth.name in self.forward_path(cls) and _tensor_param(meth.node, e.value)
            return False
        if isinstance(e, cst.Attribute):
            if isinstance(e.value, cst.Name) and e.value.value == m.meth.self_name:
                return self._attr_tag(cls, e.attr.value) in (Tag.PARAMETER, Tag.BUFFER, Tag.LAYER)
            if e.attr.value in _META_ATTRS:
                return False
            return self.on_device(cls, m, e.value, depth + 1)
        if isinstance(e, cst.Subscript):
            return self.on_device(cls, m, e.value, depth + 1)
        if isinstance(e, cst.BinaryOperation):
            return self.on_device(cls, m, e.left, depth + 1) or self.on_device(cls, m, e.right, depth + 1)
        if isinstance(e, cst.UnaryOperation):
            return self.on_device(cls, m, e.expression, depth + 1)
        if isinstance(e, (cst.ListComp, cst.GeneratorExp)):
            return self.on_device(cls, m, e.elt, depth + 1)
        if isinstance(e, cst.Call):
            func = e.func
            if self._is_layer_call(cls, m, func):
                return True
            if self._returns_on_device(cls, m, e, depth):
                return True
            if self._opaque_callable(cls, m, func) and any(
                    not a.star and (a.keyword is None or a.keyword.value not in ("device", "dtype")) and
                    self.on_device(cls, m, a.value, depth + 1) for a in e.args):
                return True
            for a in e.args:
                if a.keyword is not None and a.keyword.value == "device":
                    return self.on_device(cls, m, a.value, depth + 1) or _is_device_of(a.value, self, cls, m, depth)
            if isinstance(func, cst.Attribute):
                if func.attr.value in _PY_METHODS:
                    return False
                if self.on_device(cls, m, func.value, depth + 1):
                    return True
            dotted = dotted_name(func)
            q = self.model.imports.qualify(dotted) if dotted else None
            if q is not None and q.split(".")[0] == "torch":
                return any(a.keyword is None and self.on_device(cls, m, a.value, depth + 1) for a in e.args)
            return False
        if isinstance(e, (cst.List, cst.Tuple)):
            return any(self.on_device(cls, m, el.value, depth + 1) for el in e.elements)
        return False


def _metadata_only(m: _Method, n: cst.Attribute) -> bool:
    """``self.t.dtype``, ``self.t.device``, ``self.t is not None``: a look at ``t`` that cannot convert it."""
    p = m.parent.get(id(n))
    if isinstance(p, cst.Attribute) and p.value is n and p.attr.value in _META_ATTRS:
        return True
    if isinstance(p, cst.ComparisonTarget):
        p = m.parent.get(id(p))
    if isinstance(p, cst.Comparison) and len(p.comparisons) == 1 and \
            isinstance(p.comparisons[0].operator, (cst.Is, cst.IsNot)):
        sides = (p.left, p.comparisons[0].comparator)
        return any(isinstance(x, cst.Name) and x.value == "None" for x in sides)
    return False


def _rebound_between(m: _Method, name: str, stmt: cst.CSTNode, own_end: int | None, at: int) -> bool:
    """Is ``name`` rebound after ``stmt`` and before ``at`` on a path that runs after ``stmt``?

    A binding in the other branch of an ``if`` that holds ``stmt`` (``if ids is None: ids = self.ids[:n]``
    / ``else: ids = ...``) never runs after it: it does not hide ``stmt``'s value from a later read.
    """
    for end, _ in m.bindings.get(name, ()):
        if own_end is not None and own_end < end < at and not _other_branch(m, stmt, m.statement_of(m.nodes[end])):
            return True
    return False


def _other_branch(m: _Method, a: cst.CSTNode, b: cst.CSTNode) -> bool:
    """``a`` and ``b`` lie in different branches of one ``if`` (its body and its ``else``/``elif``)."""
    path_a: dict[int, cst.CSTNode] = {}  # ancestor -> the child of it on a's path
    child, node = a, m.parent.get(id(a))
    while node is not None:
        path_a[id(node)] = child
        child, node = node, m.parent.get(id(node))
    child, node = b, m.parent.get(id(b))
    while node is not None:
        if id(node) in path_a:
            if isinstance(node, cst.If):
                ca = path_a[id(node)]
                return {id(ca), id(child)} == {id(node.body), id(node.orelse)} and node.orelse is not None
            return False
        child, node = node, m.parent.get(id(node))
    return False


def _own_return(m: _Method, ret: cst.Return) -> bool:
    """The ``return`` belongs to the method itself, not to a nested ``def`` or ``lambda``."""
    p = m.parent.get(id(ret))
    while p is not None:
        if isinstance(p, (cst.FunctionDef, cst.Lambda)):
            return False
        p = m.parent.get(id(p))
    return True


def _comprehension_source(m: _Method, e: cst.Name) -> tuple[bool, cst.BaseExpression | None]:
    """(bound by an enclosing comprehension?, what it is an element of) for the name ``e`` read in it."""
    p = m.parent.get(id(e))
    while p is not None and not isinstance(p, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
        if isinstance(p, (cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp)):
            found = None
            f = p.for_in
            while f is not None:  # the innermost binding wins
                if e.value in {n for n, _ in _bound(f.target, None)}:
                    found = f
                f = f.inner_for_in
            if found is not None:
                return True, _element_source(found, e.value)
        p = m.parent.get(id(p))
    return False, None


def _appended(m: _Method, name: str, at: int) -> list[cst.BaseExpression]:
    """What ``name.append(v)`` adds to the list ``name`` before ``at`` (``outs = []``, then ``outs.append(f(x))`` in a
    loop): the list holds those values."""
    out = []
    for i in range(min(at, len(m.nodes))):
        n = m.nodes[i]
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "append" and \
                isinstance(n.func.value, cst.Name) and n.func.value.value == name and len(n.args) == 1 and not n.args[0].star:
            out.append(n.args[0].value)
    return out


def _loop_source(m: _Method, name: str, at: int) -> cst.BaseExpression | None:
    """What the loop variable ``name`` (last bound before ``at`` by a ``for``) is an element of.

    ``for x in xs`` -> ``xs``; ``for i, x in enumerate(xs)`` -> ``xs``; ``for a, b in zip(xs, ys)`` -> ``ys``
    for ``b``.  None for anything else (an unpacked element, ``.items()``, a ``with`` name).
    """
    best = None
    for end, value in m.bindings.get(name, ()):
        if end < at:
            best = (end, value)
    if best is None or best[1] is not None:
        return None
    target = m.nodes[best[0]]
    loop = m.parent.get(id(target))
    if not isinstance(loop, (cst.For, cst.CompFor)) or loop.target is not target:
        return None
    return _element_source(loop, name)


def _element_source(loop: cst.For | cst.CompFor, name: str) -> cst.BaseExpression | None:
    target = loop.target
    source = loop.iter
    if isinstance(target, cst.Name):
        return source if target.value == name else None
    if not isinstance(target, (cst.Tuple, cst.List)) or not isinstance(source, cst.Call) or not isinstance(source.func, cst.Name):
        return None
    pos = [i for i, el in enumerate(target.elements) if isinstance(el, cst.Element) and isinstance(el.value, cst.Name) and el.value.value == name]
    args = [a.value for a in source.args if a.keyword is None and not a.star]
    rest = [a for a in source.args if a.keyword is not None or a.star]
    if source.func.value == "enumerate" and len(rest) == 1 and rest[0].keyword is not None and rest[0].keyword.value == "start":
        rest = []  # enumerate(self.layers, start=1)
    if len(pos) != 1 or rest:
        return None
    if source.func.value == "enumerate" and len(target.elements) == 2 and pos[0] == 1 and len(args) == 1:
        return args[0]
    if source.func.value == "zip" and len(target.elements) == len(args):
        return args[pos[0]]
    return None


def _fills_fresh(m: "_Method", occ: cst.Attribute, node: cst.CSTNode, overwrites: list[cst.CSTNode]) -> bool:
    """``self.a[...] = v`` in the same block as, and after, a statement that overwrote ``self.a``: a fill of the
    value just made, not an update of the old one (a branch or another block may have skipped the overwrite)."""
    sub = m.parent.get(id(occ))
    if not (isinstance(node, cst.Assign) and isinstance(sub, cst.Subscript) and sub.value is occ):
        return False

    def block(st: cst.CSTNode) -> cst.CSTNode | None:  # the suite a (small) statement sits in
        line = m.parent.get(id(st))
        return m.parent.get(id(line)) if isinstance(line, cst.SimpleStatementLine) else line

    stmt = m.statement_of(occ)
    here = block(stmt)
    return here is not None and any(block(o) is here and m.index[id(o)] < m.index[id(stmt)] for o in overwrites)


def _device_test(e: cst.BaseExpression, attr: str, same: bool) -> bool:
    """``self.<attr>.device == x.device`` (``same``) or ``!=`` / ``not (... == ...)`` (not ``same``)."""
    if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Not):
        return _device_test(e.expression, attr, not same)
    if not (isinstance(e, cst.Comparison) and len(e.comparisons) == 1):
        return False
    op = e.comparisons[0].operator
    if not isinstance(op, (cst.Equal, cst.Is) if same else (cst.NotEqual, cst.IsNot)):
        return False
    sides = (e.left, e.comparisons[0].comparator)
    if not all(isinstance(x, cst.Attribute) and x.attr.value == "device" for x in sides):
        return False
    return any(isinstance(x.value, cst.Attribute) and isinstance(x.value.value, cst.Name) and x.value.value.value == "self"
               and x.value.attr.value == attr for x in sides)


def _device_guarded(m: "_Method", occ: cst.Attribute) -> bool:
    """The read runs only once its device equals another value's.

    ``a.device == self.t.device and op(a, self.t)``, ``a.device != self.t.device
    or op(a, self.t)`` (short-circuit), and the body of ``if self.t.device ==
    a.device:``.
    """
    attr = occ.attr.value
    cur: cst.CSTNode = occ
    while True:
        p = m.parent.get(id(cur))
        if p is None or isinstance(p, (cst.FunctionDef, cst.Lambda)):
            return False
        if isinstance(p, cst.BooleanOperation) and p.right is cur:
            if _device_test(p.left, attr, same=isinstance(p.operator, cst.And)):
                return True
        if isinstance(p, cst.If) and cur is p.body and _device_test(p.test, attr, same=True):
            return True
        cur = p


def _size_of(e: cst.BaseExpression, attr: str) -> bool:
    """``len(self.<attr>)``, ``self.<attr>.numel()`` / ``.nelement()``, ``self.<attr>.shape[0]`` / ``.size(0)``."""
    def own(x: cst.BaseExpression) -> bool:
        return isinstance(x, cst.Attribute) and isinstance(x.value, cst.Name) and x.value.value == "self" and x.attr.value == attr

    if isinstance(e, cst.Call):
        if isinstance(e.func, cst.Name) and e.func.value == "len" and len(e.args) == 1:
            return own(e.args[0].value)
        if isinstance(e.func, cst.Attribute) and e.func.attr.value in ("numel", "nelement", "size"):
            return own(e.func.value)
    if isinstance(e, cst.Subscript) and isinstance(e.value, cst.Attribute) and e.value.attr.value == "shape":
        return own(e.value.value)
    return False


def _emptiness_test(e: cst.BaseExpression, attr: str) -> bool | None:
    """True for a test that holds when ``self.<attr>`` is empty (``len(self.a) == 0``, ``not self.a.numel()``),
    False for one that holds when it is not (``len(self.a) > 0``, ``self.a.numel()``, ``!= 0``), else None."""
    if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Not):
        inner = _emptiness_test(e.expression, attr)
        return None if inner is None else not inner
    if _size_of(e, attr):
        return False
    if isinstance(e, cst.Comparison) and len(e.comparisons) == 1 and _size_of(e.left, attr):
        c = e.comparisons[0]
        if isinstance(c.comparator, cst.Integer) and c.comparator.evaluated_value == 0:
            if isinstance(c.operator, (cst.Equal, cst.LessThanEqual)):
                return True
            if isinstance(c.operator, (cst.NotEqual, cst.GreaterThan)):
                return False
    return None


def emptiness_guarded(m: "_Method", node: cst.CSTNode, attr: str) -> bool:
    """The code at ``node`` runs only while ``self.<attr>`` is not empty: the ``else`` (or ``elif``) of
    ``if len(self.a) == 0:``, the body of ``if self.a.numel() > 0:``, ``len(self.a) > 0 and ...``."""
    cur: cst.CSTNode = node
    while True:
        p = m.parent.get(id(cur))
        if p is None or isinstance(p, (cst.FunctionDef, cst.Lambda)):
            return False
        if isinstance(p, (cst.If, cst.IfExp)):
            empty_when = _emptiness_test(p.test, attr)
            if empty_when is not None and cur is not p.test:
                in_body = cur is p.body
                if in_body != empty_when:  # the body when the test means "not empty", else the other branch
                    return True
        if isinstance(p, cst.BooleanOperation) and p.right is cur and isinstance(p.operator, cst.And) and \
                _emptiness_test(p.left, attr) is False:
            return True
        cur = p


def _strict_node(model: FileModel, node: cst.CSTNode) -> bool:
    """Does the operation at ``node`` insist on one dtype (matmul, conv, a sub-module call, an unknown call)?"""
    if isinstance(node, cst.BinaryOperation):
        return isinstance(node.operator, cst.MatrixMultiply)
    if isinstance(node, (cst.Comparison, cst.List, cst.Tuple)):
        return False
    if isinstance(node, cst.Call):
        dotted = dotted_name(node.func)
        q = model.imports.qualify(dotted) if dotted else None
        last = node.func.attr.value if isinstance(node.func, cst.Attribute) else dotted
        if q is not None and q.split(".")[0] == "torch" and not q.startswith("torch.nn."):
            return q.rsplit(".", 1)[-1] in _STRICT
        if isinstance(node.func, cst.Attribute) and q is None and not (
                isinstance(node.func.value, cst.Name) and node.func.value.value == "self"):
            return last in _STRICT  # a tensor method: x.masked_fill(self.t, v)
    return True


def _is_device_of(e: cst.BaseExpression, idx: UseIndex, cls, m, depth) -> bool:
    """``x.device``: the device of a value that lives on the module's device."""
    return isinstance(e, cst.Attribute) and e.attr.value == "device" and idx.on_device(cls, m, e.value, depth + 1)


def _fixed_dtype(model: FileModel, e: cst.BaseExpression) -> bool:
    """``x.float()``, ``x.to(torch.float32)``, ``x.to(dtype=torch.float32)``: cast to a fixed dtype, whatever the model's."""
    if not (isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute)):
        return False
    method = e.func.attr.value
    if method in ("float", "double") and not e.args:
        return True
    if method == "to":
        return any(_dtype_class(model, a.value) is not None for a in e.args
                   if a.keyword is None or a.keyword.value == "dtype")
    return False


def _int_index(model: FileModel, m: _Method, sub: cst.Subscript) -> bool:
    """``t[0]`` / ``t[-1]`` / ``t[epoch]`` with ``epoch: int``: one index that is a Python number."""
    if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
        return False
    v = sub.slice[0].slice.value
    if isinstance(v, cst.UnaryOperation) and isinstance(v.operator, cst.Minus):
        v = v.expression
    return isinstance(v, cst.Integer) or (isinstance(v, cst.Name) and _is_scalar_expr(model, v, m.meth.scope))


def _param_for(fn: cst.FunctionDef, call: cst.Call, arg: cst.Arg, skip_self: bool = True) -> str | None:
    """The parameter of ``fn`` that ``arg`` of the call binds (``self`` skipped for a method)."""
    if arg.star:
        return None
    names = [p.name.value for p in (*fn.params.posonly_params, *fn.params.params)][1 if skip_self else 0:]
    if arg.keyword is not None:
        kw = arg.keyword.value
        return kw if kw in names or kw in {p.name.value for p in fn.params.kwonly_params} else None
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in positional[: positional.index(arg)]):
        return None
    i = positional.index(arg)
    return names[i] if i < len(names) else None


def _tensor_param(fn: cst.FunctionDef, name: str) -> bool:
    """A parameter that holds a tensor input: not annotated with a scalar type, no scalar/str/None default."""
    for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params):
        if p.name.value != name:
            continue
        if p.annotation is not None:
            ann = p.annotation.annotation
            text = dotted_name(ann) or ""
            if isinstance(ann, cst.Subscript):
                inner = [dotted_name(s.slice.value) for s in ann.slice if isinstance(s.slice, cst.Index)]
                if inner and all(i and i.rsplit(".", 1)[-1] in _TYPING_SCALARS for i in inner):
                    return False
            if text.rsplit(".", 1)[-1] in _TYPING_SCALARS:
                return False
        if p.default is not None and not (isinstance(p.default, cst.Name) and p.default.value == "None"):
            return False  # a defaulted parameter is an option (a size, a flag), rarely the input
        return True
    return False


def to_args(model: FileModel, m: _Method, call: cst.Call) -> tuple[bool, bool]:
    """What ``.to(...)`` does: (moves to another device, casts to another dtype)."""
    moved = cast = False
    for a in call.args:
        v = a.value
        if a.keyword is not None:
            if a.keyword.value == "device":
                moved = True
            elif a.keyword.value == "dtype":
                cast = True
            continue
        if isinstance(v, cst.SimpleString):
            moved = True
            continue
        if isinstance(v, cst.Attribute) and v.attr.value == "device":
            moved = True
            continue
        if isinstance(v, cst.Attribute) and v.attr.value == "dtype":
            cast = True
            continue
        if _dtype_class(model, v) is not None:
            cast = True
            continue
        if isinstance(v, cst.Call) and (model.qualify(v.func) or "") == "torch.device":
            moved = True
            continue
        if isinstance(v, cst.Name):
            b = model.binding_of(v.value, m.meth.scope)
            if b is not None and b[0] == "value" and isinstance(b[1], cst.Attribute):
                if b[1].attr.value == "device":
                    moved = True
                    continue
                if b[1].attr.value == "dtype":
                    cast = True
                    continue
            if "device" in v.value.lower():
                moved = True
                continue
            if "dtype" in v.value.lower():
                cast = True
                continue
        moved = cast = True  # .to(x): another tensor's device and dtype
    return moved, cast


def _inside_write_value(m: "_Method", occ: cst.Attribute, attr: str) -> bool:
    """``self.a`` read inside the value of a write to ``self.a`` (judged by the write itself)."""
    n = m.parent.get(id(occ))
    while n is not None and not isinstance(n, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
        n = m.parent.get(id(n))
    if isinstance(n, (cst.Assign, cst.AnnAssign)):
        targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else [n.target]
        for t in targets:
            for x in ([t] if not isinstance(t, (cst.Tuple, cst.List)) else [e.value for e in t.elements]):
                if isinstance(x, cst.Attribute) and x.attr.value == attr and isinstance(x.value, cst.Name) \
                        and x.value.value == m.meth.self_name:
                    return True
    return False


def _old_value_use(model: FileModel, m: "_Method", value: cst.BaseExpression, attr: str) -> str:
    """How ``value`` (assigned to ``self.<attr>``) uses the old ``self.<attr>``."""
    olds = [n for n in walk_nodes(value) if isinstance(n, cst.Attribute) and n.attr.value == attr
            and isinstance(n.value, cst.Name) and n.value.value == m.meth.self_name]
    if not olds:
        return "overwrite"
    kinds = set()
    for occ in olds:
        cur, cast, how = occ, False, None
        while cur is not value:
            p = m.parent.get(id(cur))
            if p is None:
                break
            if isinstance(p, cst.Attribute) and p.value is cur:
                call = m.parent.get(id(p))
                if isinstance(call, cst.Call) and call.func is p:
                    if p.attr.value == "to":
                        cast = cast or to_args(model, m, call)[1]
                        cur = call
                        continue
                    if p.attr.value in _MOVE_METHODS:
                        cast = cast or _MOVE_METHODS[p.attr.value][1]
                        cur = call
                        continue
                    if p.attr.value in _SHAPE_METHODS or p.attr.value == "detach":
                        cur = call
                        continue
                    if p.attr.value in _FRESH_METHODS:
                        how = "overwrite"  # self.a.new_empty(n, d): only the old value's device and dtype
                        break
                how = "update"
                break
            if isinstance(p, (cst.BinaryOperation, cst.UnaryOperation, cst.Subscript)):
                how = "update"
                break
            if isinstance(p, cst.Arg):
                call = m.parent.get(id(p))
                q = model.qualify(call.func) if isinstance(call, cst.Call) else None
                if q in _FRESH_LIKE:
                    how = "overwrite"  # torch.zeros_like(self.a): a fresh value of its shape, device and dtype
                elif q is not None and q.split(".")[0] == "torch":
                    how = "update"
                elif isinstance(call, cst.Call) and _combined_in_function(model, call, p):
                    how = "update"  # count, mean = running_update(x, count, self.mean): a same-file function we can read
                else:
                    how = "overwrite"
                break
            how = "overwrite"
            break
        kinds.add(how or ("resync-cast" if cast else "resync"))
    for k in ("update", "overwrite", "resync-cast", "resync"):
        if k in kinds:
            return k
    return "overwrite"


def _combined_in_function(model: FileModel, call: cst.Call, arg: cst.Arg) -> bool:
    """``f(..., self.a)`` with ``def f`` at the top level of this file, which computes with that parameter.

    A parameter that ``f`` computes with (a running mean's ``run_mean + delta / n``,
    or a tuple of statistics handed to another function) makes ``f``'s result a
    function of the old value: an update. One that is only moved (``t.to(...)``),
    tested against None, read for its metadata or returned as is, is not.
    """
    hm = use_index(model).toplevel(call.func)
    param = _param_for(hm.meth.node, call, arg, skip_self=False) if hm is not None else None
    if param is None:
        return False
    names, seen = [param], set()
    while names:
        name = names.pop()
        if name in seen or len(seen) > 8:
            continue
        seen.add(name)
        for n in hm.nodes:
            if not (isinstance(n, cst.Name) and n.value == name):
                continue
            p = hm.parent.get(id(n))
            if isinstance(p, (cst.Return, cst.Param)) or (isinstance(p, cst.AssignTarget) and p.target is n):
                continue  # handed back as is, or rebound
            if isinstance(p, cst.Element) and isinstance(hm.parent.get(id(p)), cst.Tuple) and \
                    isinstance(hm.parent.get(id(hm.parent.get(id(p)))), cst.Return):
                continue  # return new, n: handed back as is
            if isinstance(p, cst.Assign) and p.value is n and len(p.targets) == 1 and isinstance(p.targets[0].target, cst.Name):
                names.append(p.targets[0].target.value)  # new = t: an alias, judged by its own uses
                continue
            if isinstance(p, cst.Attribute) and p.value is n and (p.attr.value in _META_ATTRS or p.attr.value == "to"
                                                                   or p.attr.value in _MOVE_METHODS):
                continue  # t.device, t.to(x.device): moved, not computed with
            if isinstance(p, cst.Comparison) and any(isinstance(c.comparator, cst.Name) and c.comparator.value == "None"
                                                     for c in p.comparisons):
                continue  # t is None
            if isinstance(p, cst.ComparisonTarget):
                p = hm.parent.get(id(p))
            if isinstance(p, cst.Comparison) and isinstance(hm.parent.get(id(p)), (cst.If, cst.While)) and \
                    hm.parent[id(p)].test is p:
                continue  # if n > t: decides which value comes back, computes nothing with t
            if isinstance(p, cst.Attribute) and p.attr is n:
                continue
            return True  # computed with: arithmetic, a call, a tuple of statistics handed on
    return False


def _bound(target: cst.BaseExpression, value: cst.BaseExpression | None):
    """(name, value) pairs bound by ``target = value`` (value None when it cannot be told).

    ``gate, up = t.chunk(2)``, ``out, attn = self.attn(x)``: each name holds one of the values a call returns;
    the whole call stands for each piece (only where a binding's value lives is asked of it: a layer, a
    split or a helper fed values on the module's device hands back values on that device).
    """
    if isinstance(target, cst.Name):
        return [(target.value, value)]
    if isinstance(target, (cst.Tuple, cst.List)):
        out = []
        vals = value.elements if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(target.elements) else None
        whole = value if vals is None and isinstance(value, cst.Call) else None
        for i, el in enumerate(target.elements):
            v = vals[i].value if vals is not None and not isinstance(vals[i], cst.StarredElement) else whole
            out.extend(_bound(el.value, v))
        return out
    if isinstance(target, cst.StarredElement):
        return _bound(target.value, None)
    return []


def self_call_closure(classes, entries, skip: frozenset[str] = frozenset()) -> set[str]:
    """``entries`` and every method they reach through ``self.<name>(...)`` calls of ``classes`` (``skip`` not followed)."""
    calls: dict[str, set[str]] = {}
    for c in classes:
        for call in c.self_calls:
            calls.setdefault(call.method, set()).add(call.name)
    got = set(entries)
    todo = list(got)
    while todo:
        for callee in calls.get(todo.pop(), ()):
            if callee not in got and callee not in skip:
                got.add(callee)
                todo.append(callee)
    return got


def walk_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every code-carrying node below it."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(node_children(n))


# --- what the stored value is ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueFacts:
    dtype: str | None = None  # "float", "int", "bool", "complex", or None when unknown
    zero_dim: bool = False  # a 0-d tensor (a scalar): combines with tensors on any device, never promotes
    random: bool = False  # drawn from a random generator: its value cannot be recomputed on load
    placed: bool = False  # made on (or moved to) a device the code names: the class places it itself
    one_dim: bool = False  # certainly 1-d (torch.zeros(n), torch.tensor([1, 2]), torch.arange(n))


_FLOAT_FACTORIES = frozenset({"zeros", "ones", "rand", "randn", "empty", "eye", "linspace", "logspace", "full",
                              "FloatTensor", "Tensor", "normal", "rand_like", "randn_like", "zeros_like",
                              "ones_like", "empty_like", "full_like", "kaiser_window", "hann_window", "hamming_window",
                              "blackman_window", "bartlett_window", "DoubleTensor", "HalfTensor", "BFloat16Tensor"})
_INT_FACTORIES = frozenset({"LongTensor", "IntTensor", "randint", "randperm", "tril_indices", "triu_indices",
                            "BoolTensor", "ByteTensor", "ShortTensor", "CharTensor", "randint_like", "bincount"})
_RANDOM = frozenset({"rand", "randn", "randint", "randperm", "normal", "rand_like", "randn_like", "randint_like",
                     "bernoulli", "multinomial", "poisson"})
_RANDOM_METHODS = frozenset({"normal_", "uniform_", "random_", "bernoulli_", "exponential_", "geometric_",
                             "cauchy_", "log_normal_"})
_COMPLEX_FNS = frozenset({"polar", "complex", "view_as_complex", "stft", "fft", "ifft", "rfft", "fft2", "fftn"})
_ZERO_DIM_KEEPING = frozenset({"sqrt", "exp", "log", "log2", "log10", "abs", "neg", "sin", "cos", "tan", "tanh",
                               "sigmoid", "rsqrt", "reciprocal", "square", "pow", "clamp", "clone", "detach", "float",
                               "double", "half", "log1p", "expm1", "sign", "floor", "ceil", "round"})


def value_facts(
    model: FileModel, e: cst.BaseExpression, scope: Scope | None, depth: int = 0, order: int | None = None
) -> ValueFacts:
    """dtype class, 0-d-ness, randomness of a torch tensor expression, as far as it is certain."""
    if depth > 6:
        return ValueFacts()
    if isinstance(e, cst.Name):
        b = model.value_binding(e.value, scope, order)
        if b is None:
            return _unpacked_facts(model, e.value, scope, order, depth)
        return value_facts(model, b[0], b[1], depth + 1, b[2])
    if isinstance(e, cst.BinaryOperation):
        left, right = (value_facts(model, x, scope, depth + 1, order) for x in (e.left, e.right))
        lnum = not _tensor_operand(model, e.left, left, scope, order)
        rnum = not _tensor_operand(model, e.right, right, scope, order)
        if lnum and rnum:
            return ValueFacts()
        if not lnum and not rnum:
            dtype = "complex" if "complex" in (left.dtype, right.dtype) else (
                "float" if "float" in (left.dtype, right.dtype) and None not in (left.dtype, right.dtype) else None)
            if dtype is None and left.dtype == right.dtype:
                dtype = left.dtype
            return ValueFacts(dtype, left.zero_dim and right.zero_dim, left.random or right.random,
                              placed=left.placed or right.placed)
        t, node = (right, e.left) if lnum else (left, e.right)
        dtype = t.dtype
        if isinstance(node, cst.Imaginary) or (dtype in ("int", "bool") and isinstance(node, cst.Float)):
            dtype = "complex" if isinstance(node, cst.Imaginary) else "float"
        elif isinstance(e.operator, cst.Divide) and dtype in ("int", "bool"):
            dtype = "float"
        return ValueFacts(dtype, t.zero_dim, t.random, placed=t.placed)
    if isinstance(e, cst.Attribute) and isinstance(e.value, cst.Name) and e.value.value == "self" and depth < 4:
        return _own_state_facts(model, e.attr.value, scope, depth)
    if isinstance(e, cst.Subscript):
        return ValueFacts(value_facts(model, e.value, scope, depth + 1, order).dtype)
    if not isinstance(e, cst.Call):
        return ValueFacts()
    func = e.func
    kw = {a.keyword.value: a.value for a in e.args if a.keyword is not None}
    pos = [a.value for a in e.args if a.keyword is None]
    dtype_arg = _dtype_class(model, kw.get("dtype"))
    placed = _names_a_device(kw.get("device"), model, scope)
    q = model.qualify(func) or ""
    facts = _call_facts(model, e, func, kw, pos, dtype_arg, q, scope, depth, order)
    if placed and not facts.placed:
        facts = dataclasses.replace(facts, placed=True)
    return facts


def _tensor_operand(model: FileModel, e: cst.BaseExpression, facts: "ValueFacts", scope, order) -> bool:
    """Is this operand of an arithmetic expression a tensor (rather than a Python number)?"""
    if _is_scalar_expr(model, e, scope) or isinstance(e, cst.Imaginary):
        return False
    if model.kind_of(e, scope, order).tag in (Tag.TENSOR, Tag.GRAD_TENSOR, Tag.BUFFER, Tag.PARAMETER):
        return True
    return facts != ValueFacts()  # facts known: it is a tensor (self.<buffer>, a factory call)


def _owner_class(scope: Scope | None) -> ClassFacts | None:
    """The class whose method ``scope`` is, or encloses (a nested function or comprehension of a method)."""
    while scope is not None and scope.owner is None:
        scope = scope.parent
    return scope.owner if scope is not None else None


def _own_state_facts(model: FileModel, attr: str, scope: Scope | None, depth: int) -> ValueFacts:
    """The facts of what a class registers as ``self.<attr>`` (``nn.Buffer(v)``, ``register_buffer("attr", v)``)."""
    cls = _owner_class(scope)
    if cls is None:
        return ValueFacts()
    found: list[ValueFacts] = []
    for c in (cls, *cls.ancestors()):
        for call in c.self_calls:
            if call.name == "register_buffer" and call.literal_arg(0) == attr:
                args = [a.value for a in call.node.args if a.keyword is None]
                if len(args) >= 2:
                    meth = c.methods.get(call.method)
                    found.append(value_facts(model, args[1], meth.scope if meth else None, depth + 1, call.order))
        for a in c.self_assigns:
            if a.attr == attr and isinstance(a.value, cst.Call) and model.kind_of(a.value, a.scope, a.order).tag is Tag.BUFFER:
                args = [x.value for x in a.value.args if x.keyword is None]
                if args:
                    found.append(value_facts(model, args[0], a.scope, depth + 1, a.order))
    if len(found) == 1:
        return found[0]
    return ValueFacts()


def _state_placed(model: FileModel, attr: str, scope: Scope | None) -> bool | None:
    """Was the buffer or Parameter ``self.<attr>`` made on a device the code names? None when not known."""
    cls = _owner_class(scope)
    if cls is None:
        return None
    found: list[bool] = []
    own = False
    for c in (cls, *cls.ancestors()):
        for call in c.self_calls:
            if call.name == "register_buffer" and call.literal_arg(0) == attr:
                args = [a.value for a in call.node.args if a.keyword is None]
                meth = c.methods.get(call.method)
                if len(args) < 2:
                    return None
                found.append(value_facts(model, args[1], meth.scope if meth else None, 1, call.order).placed)
        for a in c.self_assigns:
            if a.attr != attr:
                continue
            tag = model.kind_of(a.value, a.scope, a.order).tag
            if tag in (Tag.TENSOR, Tag.GRAD_TENSOR):
                # a plain tensor is wherever its value was made; placed on its *own* old device (a table regrown
                # with ``device=self.weights.device``), it stays wherever its first value was
                key = (id(model), id(a.node))
                if key in _PLACING:
                    own = True
                    continue
                _PLACING.add(key)
                try:
                    found.append(value_facts(model, a.value, a.scope, 1, a.order).placed)
                finally:
                    _PLACING.discard(key)
                continue
            if tag not in (Tag.BUFFER, Tag.PARAMETER) or not isinstance(a.value, cst.Call):
                return None  # also something else: not known
            args = [x.value for x in a.value.args if x.keyword is None]
            if not args:
                return None
            found.append(value_facts(model, args[0], a.scope, 1, a.order).placed)
    if not found:
        return False if own else None
    return any(found)


#: the plain-tensor stores whose placement :func:`_state_placed` is computing (a value placed on its own device)
_PLACING: set[tuple[int, int]] = set()


def _names_a_device(e: cst.BaseExpression | None, model: FileModel | None = None, scope: Scope | None = None,
                    _depth: int = 0) -> bool:
    """``device=`` given as something other than nothing, ``None``, ``"cpu"``, or a parameter defaulting to None.

    ``def __init__(self, ..., device=None)`` passing ``device=device`` on is
    PyTorch's factory-kwargs convention: built on the CPU unless asked, then
    moved with ``.to()``, which leaves a plain tensor behind.
    """
    if e is None or (isinstance(e, cst.Name) and e.value == "None"):
        return False
    if isinstance(e, cst.SimpleString):
        return e.evaluated_value not in ("cpu",)
    if isinstance(e, cst.IfExp):  # device if device is not None else torch.device("cpu")
        return _names_a_device(e.body, model, scope, _depth) or _names_a_device(e.orelse, model, scope, _depth)
    if (isinstance(e, cst.Call) and model is not None and model.qualify(e.func) == "torch.device" and len(e.args) == 1
            and e.args[0].keyword is None and e.args[0].star == ""):
        return _names_a_device(e.args[0].value, model, scope, _depth)  # torch.device(device)
    if (isinstance(e, cst.Attribute) and isinstance(e.value, cst.Name) and e.value.value == "self" and model is not None
            and scope is not None and _depth < 3):
        # device=self.device: named only if what __init__ stores there names one (self.device = device, with
        # device=None, follows the factory-kwargs convention as the parameter itself does)
        cls = _owner_class(scope)
        if cls is not None:
            stores = [a for c in use_index(model).family(cls) for a in c.self_assigns if a.attr == e.attr.value]
            if stores and all(a.method == "__init__" for a in stores):
                return any(_names_a_device(a.value, model, a.scope, _depth + 1) for a in stores)
            if not stores and model.resolver is not None and any(
                    model.resolver.unplaced_device(b, e.attr.value)
                    for c in (cls, *cls.ancestors()) for b in c.framework_bases if not known.framework_of_class(b)):
                return False  # a base of another file keeps a device=None parameter there (timm's TrainingTask)
    if isinstance(e, cst.Attribute) and e.attr.value == "device" and model is not None and \
            isinstance(e.value, cst.Attribute) and isinstance(e.value.value, cst.Name) and e.value.value.value == "self":
        # device=self.position_ids.device: where that buffer (or Parameter) was made; one made on the CPU names no device
        placed = _state_placed(model, e.value.attr.value, scope)
        if placed is not None:
            return placed
    if isinstance(e, cst.Name) and model is not None and scope is not None:
        s = scope
        while s is not None and e.value not in s.params and e.value not in s.bindings:
            s = s.parent
        if s is not None and e.value in s.params:
            fn = _function_of(model, s)
            if fn is not None:
                for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params):
                    if p.name.value == e.value and isinstance(p.default, cst.Name) and p.default.value == "None":
                        return False
                    if p.name.value == e.value and p.default is None and s.owner is not None and \
                            fn.name.value != "__init__" and _depth < 3:
                        passed = _device_passed_by_callers(model, s.owner, fn, e.value, _depth)
                        if passed is not None:
                            return passed
    return True


def _device_passed_by_callers(model: FileModel, cls: ClassFacts, fn: cst.FunctionDef, param: str, depth: int) -> bool | None:
    """A required ``device`` parameter of a helper method (``def _create_cache(self, n, device)``) names a device
    when some call ``self._create_cache(..., <device>)`` of the class family passes one that does; None when the
    class never calls it (its callers are elsewhere: assume it does)."""
    found: list[bool] = []
    for c in (cls, *cls.ancestors(), *model.descendants(cls)):
        for call in c.self_calls:
            if call.name != fn.name.value:
                continue
            meth = c.methods.get(call.method)
            if meth is None or any(a.star for a in call.node.args):
                return None
            value = next((a.value for a in call.node.args if _param_for(fn, call.node, a) == param), None)
            if value is None:
                return None
            found.append(_names_a_device(value, model, meth.scope, depth + 1))
    return any(found) if found else None


def _unpacked_facts(model: FileModel, name: str, scope: Scope | None, order: int | None, depth: int) -> ValueFacts:
    """``q, k = self._decay(n)`` (or a function of the file): what the i-th element of every tuple it returns shares."""
    got = model.unpack_binding(name, scope, order)
    if got is None or not isinstance(got[0], cst.Call):
        return ValueFacts()
    call, i, n, s, _ = got
    helper = model.callee_scope(call.func, s)
    if helper is None or not helper.returns:
        return ValueFacts()
    parts = []
    for r in helper.returns:
        if not isinstance(r, cst.Tuple) or len(r.elements) != n or isinstance(r.elements[i], cst.StarredElement):
            return ValueFacts()
        parts.append(value_facts(model, r.elements[i].value, helper, depth + 1))
    return _shared_facts(parts, one_dim=True)


def _shared_facts(parts: list[ValueFacts], one_dim: bool = False) -> ValueFacts:
    """What every one of several possible values (a function's returns) is surely: one dtype, 0-d, placed (and, when
    ``one_dim``, 1-d); random when any may be."""
    dtypes = {f.dtype for f in parts}
    return ValueFacts(dtypes.pop() if len(dtypes) == 1 else None, all(f.zero_dim for f in parts),
                      any(f.random for f in parts), placed=all(f.placed for f in parts),
                      one_dim=one_dim and all(f.one_dim for f in parts))


def _function_returns(model: FileModel, e: cst.Call, depth: int) -> ValueFacts | None:
    """``table(n)`` with ``def table`` at the top level of this file: what all its ``return`` values share."""
    fn = use_index(model).toplevel_def(e.func)
    if fn is None:
        return None
    scope = model.functions[fn.name.value]
    rets, stack = [], [fn.body]
    while stack:  # the function's own returns, not those of functions nested in it
        n = stack.pop()
        if isinstance(n, cst.Return) and n.value is not None:
            rets.append(n.value)
        elif not isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            stack.extend(node_children(n))
    if not rets:
        return None
    return _shared_facts([value_facts(model, r, scope, depth + 1) for r in rets])


def _call_facts(model, e, func, kw, pos, dtype_arg, q, scope, depth, order) -> ValueFacts:
    if not q:
        got = _function_returns(model, e, depth)
        if got is not None:
            return got
    if q.startswith("torch.") and q.count(".") == 1 or q in ("torch.fft.fft", "torch.fft.ifft", "torch.fft.rfft"):
        fn = q.rsplit(".", 1)[-1]
        if fn in _COMPLEX_FNS:
            return ValueFacts("complex")
        if fn in ("cat", "concat", "concatenate", "stack", "hstack", "vstack") and pos and \
                isinstance(pos[0], (cst.List, cst.Tuple)) and pos[0].elements and \
                not any(isinstance(el, cst.StarredElement) for el in pos[0].elements):
            parts = [value_facts(model, el.value, scope, depth + 1, order) for el in pos[0].elements]
            dtypes = {f.dtype for f in parts}
            return ValueFacts(dtypes.pop() if len(dtypes) == 1 else None, False, any(f.random for f in parts))
        random = fn in _RANDOM
        if fn in ("tensor", "as_tensor", "scalar_tensor"):
            lit = _literal_class(pos[0]) if pos else None
            zero = fn == "scalar_tensor" or (bool(pos) and _is_scalar_expr(model, pos[0], scope))
            flat = bool(pos) and isinstance(pos[0], (cst.List, cst.Tuple)) and bool(pos[0].elements) and all(
                not isinstance(el, cst.StarredElement) and _is_scalar_expr(model, el.value, scope) for el in pos[0].elements)
            return ValueFacts(dtype_arg or lit, zero, False, one_dim=flat)
        if fn in ("arange", "range", "linspace", "logspace"):
            floaty = fn in ("linspace", "logspace") or any(isinstance(x, cst.Float) for x in pos)
            return ValueFacts(dtype_arg or ("float" if floaty else None), one_dim=True)
        if fn in _FLOAT_FACTORIES:
            zero = bool(pos) and all(isinstance(x, (cst.Tuple, cst.List)) and not x.elements for x in pos[:1])
            one = len(pos) == 1 and not fn.endswith("_like") and not isinstance(pos[0], (cst.Tuple, cst.List)) and \
                "size" not in kw and not any(a.star for a in e.args)
            return ValueFacts(dtype_arg or ("float" if not fn.endswith("_like") else None), zero, random, one_dim=one)
        if fn in _INT_FACTORIES:
            return ValueFacts(dtype_arg or "int", False, random)
        if fn in _ZERO_DIM_KEEPING and pos:
            inner = value_facts(model, pos[0], scope, depth + 1, order)
            return ValueFacts(inner.dtype, inner.zero_dim, inner.random)
        if fn in ("from_numpy",):
            return ValueFacts()
        args = [value_facts(model, x, scope, depth + 1, order) for x in pos]
        if any(a.dtype == "complex" for a in args):
            return ValueFacts("complex")
        return ValueFacts(dtype_arg, False, any(a.random for a in args))
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        inner = value_facts(model, func.value, scope, depth + 1, order)
        if method in ("float", "half", "double", "bfloat16"):
            return ValueFacts("float", inner.zero_dim, inner.random)
        if method in ("long", "int", "short", "byte"):
            return ValueFacts("int", inner.zero_dim, inner.random)
        if method == "bool":
            return ValueFacts("bool", inner.zero_dim, inner.random)
        if method in ("cfloat", "cdouble"):
            return ValueFacts("complex", inner.zero_dim, inner.random)
        if method in _RANDOM_METHODS:
            return ValueFacts(inner.dtype or "float", inner.zero_dim, True)
        if method == "to":
            d = next((_dtype_class(model, x) for x in pos if _dtype_class(model, x)), None) or dtype_arg
            device = kw.get("device") or next((x for x in pos if not _dtype_class(model, x)), None)
            return ValueFacts(d or inner.dtype, inner.zero_dim, inner.random, placed=inner.placed or _names_a_device(device, model, scope))
        if method == "cuda":
            return ValueFacts(inner.dtype, inner.zero_dim, inner.random, placed=True)
        if method in ("unsqueeze", "view", "reshape", "expand", "repeat", "flatten"):
            return ValueFacts(inner.dtype, False, inner.random, placed=inner.placed)
        return ValueFacts(inner.dtype, inner.zero_dim and method in _ZERO_DIM_KEEPING, inner.random, placed=inner.placed)
    return ValueFacts()


def _dtype_class(model: FileModel, e: cst.BaseExpression | None) -> str | None:
    if e is None:
        return None
    q = model.qualify(e) or ""
    name = q.rsplit(".", 1)[-1] if q.startswith("torch.") else ""
    if not name:
        return None
    if name.startswith("complex") or name in ("cfloat", "cdouble", "chalf"):
        return "complex"
    if name.startswith(("float", "bfloat")) or name in ("half", "double"):
        return "float"
    if name == "bool":
        return "bool"
    if name.startswith(("int", "uint", "long", "short")):
        return "int"
    return None


def _literal_class(e: cst.BaseExpression) -> str | None:
    """dtype class of a literal (nested lists of) numbers given to ``torch.tensor``."""
    if isinstance(e, cst.UnaryOperation):
        return _literal_class(e.expression)
    if isinstance(e, cst.Float):
        return "float"
    if isinstance(e, cst.Integer):
        return "int"
    if isinstance(e, cst.Imaginary):
        return "complex"
    if isinstance(e, cst.Name) and e.value in ("True", "False"):
        return "bool"
    if isinstance(e, (cst.List, cst.Tuple)) and e.elements:
        kinds = {_literal_class(el.value) for el in e.elements}
        if None in kinds:
            return None
        for k in ("complex", "float", "int", "bool"):
            if k in kinds:
                return k
    return None


def _is_scalar_expr(model: FileModel, e: cst.BaseExpression, scope: Scope | None, depth: int = 0) -> bool:
    """A Python number: a numeric literal, arithmetic on numbers, ``math.*``/``float()``/``int()``."""
    if depth > 6:
        return False
    if isinstance(e, (cst.Integer, cst.Float)):
        return True
    if isinstance(e, cst.UnaryOperation):
        return _is_scalar_expr(model, e.expression, scope, depth + 1)
    if isinstance(e, cst.BinaryOperation):
        return _is_scalar_expr(model, e.left, scope, depth + 1) and _is_scalar_expr(model, e.right, scope, depth + 1)
    if isinstance(e, cst.IfExp):
        return _is_scalar_expr(model, e.body, scope, depth + 1) and _is_scalar_expr(model, e.orelse, scope, depth + 1)
    if isinstance(e, cst.Call):
        q = model.qualify(e.func) or ""
        return q.split(".")[0] == "math" or (isinstance(e.func, cst.Name) and e.func.value in ("float", "int", "abs", "round"))
    if isinstance(e, cst.Attribute):
        q = model.qualify(e) or ""
        return q in ("math.pi", "math.e", "math.tau", "math.inf", "numpy.pi", "numpy.e")
    if isinstance(e, cst.Name):
        b = model.binding_of(e.value, scope)
        if b is not None and b[0] == "value":
            return _is_scalar_expr(model, b[1], scope, depth + 1)
        # a parameter with a numeric default (d_model=512): a number
        s = scope
        while s is not None and e.value not in s.params:
            s = s.parent
        if s is not None:
            owner = _function_of(model, s)
            if owner is not None:
                for p in (*owner.params.params, *owner.params.kwonly_params, *owner.params.posonly_params):
                    if p.name.value == e.value:
                        if isinstance(p.default, (cst.Integer, cst.Float)):
                            return True
                        if p.annotation is not None:
                            return _scalar_annotation(p.annotation.annotation)
                        return e.value in _sizes_of(model, owner)
        return False
    return False


#: torch.nn layers whose leading positional arguments are sizes (Python ints): how many of them
_SIZE_ARGS = {"Linear": 2, "Bilinear": 3, "LazyLinear": 1, "Embedding": 2, "EmbeddingBag": 2,
              "Conv1d": 2, "Conv2d": 2, "Conv3d": 2, "ConvTranspose1d": 2, "ConvTranspose2d": 2, "ConvTranspose3d": 2,
              "RNN": 2, "LSTM": 2, "GRU": 2, "RNNCell": 2, "LSTMCell": 2, "GRUCell": 2, "MultiheadAttention": 2,
              "BatchNorm1d": 1, "BatchNorm2d": 1, "BatchNorm3d": 1, "InstanceNorm1d": 1, "InstanceNorm2d": 1,
              "InstanceNorm3d": 1, "GroupNorm": 2}
_SIZE_KEYWORDS = frozenset({"in_features", "out_features", "num_embeddings", "embedding_dim", "in_channels",
                            "out_channels", "input_size", "hidden_size", "embed_dim", "num_heads", "num_features",
                            "num_groups", "num_channels"})


def _sizes_of(model: FileModel, fn: cst.FunctionDef) -> frozenset[str]:
    """Names the function passes as a size to a torch.nn layer (``nn.Linear(d, attn_dim)``) or to ``range()``.

    A layer's feature and channel counts are Python ints (torch raises on a
    tensor there), so ``torch.tensor(attn_dim)`` of such a name is 0-d.
    """
    idx = use_index(model)
    got = idx.sizes.get(id(fn))
    if got is not None:
        return got
    out: set[str] = set()
    for n in walk_nodes(fn.body):
        if not isinstance(n, cst.Call):
            continue
        if isinstance(n.func, cst.Name) and n.func.value == "range":
            out.update(a.value.value for a in n.args if a.keyword is None and isinstance(a.value, cst.Name))
            continue
        q = model.qualify(n.func) or ""
        if not q.startswith("torch.nn."):
            continue
        count = _SIZE_ARGS.get(q.rsplit(".", 1)[-1])
        if count is None:
            continue
        pos = [a for a in n.args if a.keyword is None and not a.star]
        for a in pos[:count]:
            if isinstance(a.value, cst.Name):
                out.add(a.value.value)
        for a in n.args:
            if a.keyword is not None and a.keyword.value in _SIZE_KEYWORDS and isinstance(a.value, cst.Name):
                out.add(a.value.value)
    got = idx.sizes[id(fn)] = frozenset(out)
    return got


def _scalar_annotation(ann: cst.BaseExpression) -> bool:
    """``int``, ``float``, ``Optional[float]``, ``float | None``, ``Union[int, float]``."""
    if isinstance(ann, cst.Name):
        return ann.value in ("int", "float", "None")
    if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
        return _scalar_annotation(ann.left) and _scalar_annotation(ann.right)
    if isinstance(ann, cst.Subscript) and (dotted_name(ann.value) or "").rsplit(".", 1)[-1] in ("Optional", "Union"):
        return all(isinstance(el.slice, cst.Index) and _scalar_annotation(el.slice.value) for el in ann.slice)
    return False


def _function_of(model: FileModel, scope: Scope) -> cst.FunctionDef | None:
    idx = use_index(model)
    if idx.functions is None:
        idx.functions = {id(meth.scope): meth.node for c in model.classes for meth in c.methods.values()}
    return idx.functions.get(id(scope))


def exclusive_branches(model: FileModel, cls: ClassFacts, method_a: str, node_a: cst.CSTNode, method_b: str, node_b: cst.CSTNode) -> bool:
    """Do the two statements sit in different branches of one ``if`` of the same method (only one of them runs)?"""
    if method_a != method_b or method_a not in cls.methods:
        return False
    m = use_index(model).method(cls.methods[method_a])

    def branches(node):
        out = {}
        child, p = node, m.parent.get(id(node))
        while p is not None:
            if isinstance(p, cst.If):
                out[id(p)] = "body" if child is p.body else ("orelse" if child is p.orelse else "test")
            child, p = p, m.parent.get(id(p))
        return out

    ba, bb = branches(node_a), branches(node_b)
    return any(k in bb and ba[k] != bb[k] and "test" not in (ba[k], bb[k]) for k in ba)


def _flag_truths(model: FileModel, meth: MethodFacts, node: cst.CSTNode) -> dict[str, bool]:
    """``self.<flag>`` -> the truth an enclosing ``if self.<flag>:`` / ``if not self.<flag>:`` requires of it for
    ``node`` (of method ``meth``) to run (its ``else`` requires the opposite)."""
    m = use_index(model).method(meth)
    out: dict[str, bool] = {}
    child, p = node, m.parent.get(id(node))
    while p is not None:
        if isinstance(p, cst.If) and child in (p.body, p.orelse):
            test, want = p.test, child is p.body
            if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
                test, want = test.expression, not want
            if isinstance(test, cst.Attribute) and isinstance(test.value, cst.Name) and test.value.value == meth.self_name:
                out.setdefault(test.attr.value, want)
        child, p = p, m.parent.get(id(p))
    return out


def flag_exclusive(model: FileModel, cls: ClassFacts, store_method: str, store: cst.CSTNode, read_method: str,
                   read: cst.CSTNode) -> bool:
    """The store and the read sit under opposite truths of one ``self.<flag>`` that only ``__init__`` sets
    (``if self.spinor: <Parameter> else: <plain tensor>`` in ``__init__``, ``if self.spinor: use(self.t)`` in
    ``forward``): the read never sees what the store made."""
    idx = use_index(model)
    ms, mr = idx.family_method(cls, store_method), idx.family_method(cls, read_method)
    if ms is None or mr is None or ms.self_name is None or mr.self_name is None:
        return False
    a, b = _flag_truths(model, ms, store), _flag_truths(model, mr, read)
    family = idx.family(cls)
    for flag in a.keys() & b.keys():
        if a[flag] == b[flag]:
            continue
        writes = [x for c in family for x in c.self_assigns if x.attr == flag]
        if writes and all(x.method == "__init__" for x in writes) and \
                not any(x.attr == flag for c in family for x in c.mutations):
            return True
    return False


def use_index(model: FileModel) -> UseIndex:
    """The file's use facts (one per model)."""
    idx = getattr(model, "_use_index", None)
    if idx is None:
        idx = UseIndex(model)
        model._use_index = idx  # type: ignore[attr-defined]
    return idx
