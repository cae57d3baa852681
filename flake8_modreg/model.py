"""The per-file model: one libcst pass records facts, rules read them.

``build_model(module, config)`` walks the tree once with a plain
``CSTVisitor`` (no metadata providers) and records

* the import alias table (:class:`~flake8_modreg.imports.ImportTable`);
* every class, its bases and, per method, what it assigns to ``self``, what
  it appends to ``self`` containers, which ``self.<method>(...)`` it calls,
  its local bindings, calls, returns and yields;
* module-level bindings (``layer_list = [...]`` used by a class later).

``finalize`` then decides which classes are torch Modules or MindSpore Cells
(with a human-readable reason chain) and answers "what kind of value is this
expression?" on demand, memoised per node.  Rules are small predicates over
this model; none of them walks the tree again.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

from . import known
from .imports import ImportTable

if TYPE_CHECKING:
    from .resolver import Resolver

#: Builtin or typing bases that never make a class a Module.
_NEUTRAL_NAMES = frozenset(
    "object Exception BaseException ValueError RuntimeError TypeError dict list tuple set str int float "
    "bytes NamedTuple TypedDict Generic Protocol ABC Enum IntEnum".split()
)
_REGISTER_CALLS = frozenset(
    {"add_module", "register_module", "register_parameter", "register_buffer", "insert_param_to_cell", "insert_child_to_cell",
     "__setattr__"}  # self.__setattr__(name, value): setattr(self, name, value) spelled as a method call
)  # fmt: skip


#: methods whose body the findings of *other* classes read (an ``_apply`` override's ``m.<attr>``: ``uses.py``);
#: a top-level statement that mentions one is read by every other (:mod:`flake8_modreg.reuse`)
FILE_WIDE_METHODS = frozenset({"_apply"})

_UNKNOWN = cst.Name("__unknown__")  # the value of a binding we cannot follow
#: attributes of a tensor that are a tensor again (a view of it)
_TENSOR_VIEWS = frozenset({"T", "mT", "H", "mH", "real", "imag", "data"})


class Tag(enum.Enum):
    """What a value is, as far as registration goes."""

    LAYER = "layer"  # an instance of a Module/Cell class (torch.nn.Linear(), a Module class of this file)
    PARAMETER = "parameter"  # nn.Parameter(...) / mindspore.Parameter(...)
    BUFFER = "buffer"  # torch.nn.Buffer(...): registered on assignment (torch >= 2.5)
    TENSOR = "tensor"  # a plain torch tensor
    GRAD_TENSOR = "grad-tensor"  # a plain torch tensor made with requires_grad=True
    MS_TENSOR = "ms-tensor"  # a plain MindSpore tensor
    REGISTERED = "registered-container"  # ModuleList, ModuleDict, ParameterList, CellList, ParameterTuple, ...
    LIST = "list"  # a plain list or tuple (elements in ``elems``)
    DICT = "dict"  # a plain dict (values in ``elems``)
    SELF = "self-attribute"  # self.x, getattr(self, ...), or a local registered with add_module/setattr
    NONE = "none"
    OTHER = "other"


@dataclass(frozen=True)
class Kind:
    tag: Tag
    framework: str | None = None
    elems: frozenset["Kind"] = frozenset()

    def holds(self, tag: Tag) -> bool:
        """Does this plain container hold (at any depth) an element of ``tag``?"""
        return any(e.tag is tag or (e.tag in (Tag.LIST, Tag.DICT) and e.holds(tag)) for e in self.elems)

    def frameworks(self) -> set[str]:
        out = {self.framework} if self.framework else set()
        for e in self.elems:
            out |= e.frameworks()
        return out


OTHER = Kind(Tag.OTHER)
NONE = Kind(Tag.NONE)
SELF = Kind(Tag.SELF)


@dataclass
class Scope:
    """Bindings of one function (or of the module)."""

    parent: "Scope | None"
    params: set[str] = field(default_factory=set)
    #: name -> [(order, mode, expr)], mode "value" (x = expr), "elem" (for x in expr) or "unpack:<i>:<n>" (the
    #: i-th of n names of x, y = expr; they are also bound to an unknown "value" just before, which readers other
    #: than kind_of and value_facts see)
    bindings: dict[str, list[tuple[int, str, cst.BaseExpression]]] = field(default_factory=dict)
    #: name -> [(mode, expr)]: elements added to a local container (append/insert/x[k] = v: "elem"; extend/+=: "iter")
    adds: dict[str, list[tuple[str, cst.BaseExpression]]] = field(default_factory=dict)
    #: locals passed to add_module/setattr(self, ...)/register_*: registered under another name
    registered: set[str] = field(default_factory=set)
    #: the class when this is a method's scope
    owner: "ClassFacts | None" = None
    #: the values of this function's ``return <expr>`` statements (nested defs excluded)
    returns: list[cst.BaseExpression] = field(default_factory=list)
    #: parameter name -> its ``cst.Param`` (default and annotation), and whether it is ``*name``
    param_nodes: dict[str, tuple[cst.Param, bool]] = field(default_factory=dict)

    def bind(self, name: str, order: int, mode: str, expr: cst.BaseExpression) -> None:
        self.bindings.setdefault(name, []).append((order, mode, expr))


@dataclass
class MethodFacts:
    name: str
    node: cst.FunctionDef
    params: list[str]
    decorators: list[str]
    self_name: str | None
    scope: Scope
    is_async: bool = False
    returns_value: bool = False
    yields: bool = False
    calls: list[cst.Call] = field(default_factory=list)
    #: the first ``super().__init__(...)`` / ``super(C, self).__init__(...)`` / ``Base.__init__(self, ...)``, with its order
    super_init: tuple[cst.Call, int] | None = None
    #: an attribute of the name ``self`` is read or written in the body (``self.x``; nested defs included,
    #: lambdas not), whatever the first parameter is called
    uses_self_attr: bool = False
    #: the attributes of ``self`` read or written in the body (``self.cache.clear()`` -> "cache"; nested defs included)
    self_attrs: set[str] = field(default_factory=set)

    def statements(self) -> list[cst.CSTNode]:
        """The body's statements in order (small statements of a line flattened), docstring included."""
        body = self.node.body
        if isinstance(body, cst.SimpleStatementSuite):
            return list(body.body)
        out: list[cst.CSTNode] = []
        for stmt in body.body:
            out.extend(stmt.body if isinstance(stmt, cst.SimpleStatementLine) else (stmt,))
        return out

    @property
    def is_stub(self) -> bool:
        """The body is only ``pass``, ``...`` and/or a docstring."""
        for s in self.statements():
            if isinstance(s, cst.Pass):
                continue
            if isinstance(s, cst.Expr) and isinstance(s.value, (cst.Ellipsis, cst.SimpleString, cst.ConcatenatedString)):
                continue
            return False
        return True

    @property
    def ends_in_raise(self) -> bool:
        """The last *reachable* top-level statement is a ``raise`` (what follows it is dead code)."""
        for s in self.statements():
            if isinstance(s, cst.Raise):
                return True
            if isinstance(s, cst.Return):
                return False
        return False

    @property
    def is_static(self) -> bool:
        return any(d.rsplit(".", 1)[-1] == "staticmethod" for d in self.decorators)

    @property
    def is_classmethod(self) -> bool:
        return any(d.rsplit(".", 1)[-1] == "classmethod" for d in self.decorators)


@dataclass
class SelfAssign:
    """``self.<attr> = <value>`` directly inside a method."""

    method: str
    attr: str
    value: cst.BaseExpression
    node: cst.CSTNode  # the Assign/AnnAssign: where findings point
    order: int
    scope: Scope


@dataclass
class SelfMutation:
    """``self.<attr>.append(v)`` / ``.extend`` / ``.insert`` / ``self.<attr>[k] = v`` / ``self.<attr> += v``."""

    method: str
    attr: str
    op: str  # "elem" (one element added) or "iter" (an iterable's elements added)
    value: cst.BaseExpression
    node: cst.CSTNode
    order: int
    scope: Scope


@dataclass
class SelfCall:
    """``self.<name>(...)`` (and ``setattr(self, ...)`` as name ``setattr``)."""

    method: str
    name: str
    node: cst.Call
    order: int

    def literal_arg(self, index: int = 0) -> str | None:
        args = [a for a in self.node.args if a.keyword is None]
        if len(args) > index and isinstance(args[index].value, cst.SimpleString):
            return args[index].value.evaluated_value if isinstance(args[index].value.evaluated_value, str) else None
        return None


@dataclass
class CallSite:
    """Every call in the file, with the scope it runs in (module or function) and its order."""

    node: cst.Call
    scope: Scope | None  # None in a class body
    order: int
    cls: "ClassFacts | None" = None  # set when directly inside a method of this class
    method: "MethodFacts | None" = None


@dataclass
class NameRef:
    """A dotted name (``nn.Paramter``, ``torch.nn.functional.relu``) or an imported name, as written."""

    node: cst.CSTNode  # the outermost Attribute, or the ImportAlias
    dotted: str  # as written (``nn.Paramter``) or, for imports, the imported qualified name


@dataclass
class ClassFacts:
    name: str
    node: cst.ClassDef
    bases: list[str]  # dotted names of the bases ("" when not a name)
    parent: "ClassFacts | None"
    framework: str | None = None  # "torch" or "mindspore" once finalized
    reason: str = ""
    methods: dict[str, MethodFacts] = field(default_factory=dict)
    self_assigns: list[SelfAssign] = field(default_factory=list)
    mutations: list[SelfMutation] = field(default_factory=list)
    self_calls: list[SelfCall] = field(default_factory=list)
    #: attributes whose elements are each registered another way (for x in self.attr: self.add_module(..., x))
    elements_registered: set[str] = field(default_factory=set)
    local_bases: list["ClassFacts"] = field(default_factory=list)
    framework_bases: list[str] = field(default_factory=list)  # qualified framework bases reached
    unknown_bases: bool = False  # some base is neither framework, neutral nor local
    evidence: bool = False  # the framework was guessed from the class body (unknown imported base)
    #: names bound by assignment in the class body (``forward = _forward_impl``)
    class_attrs: set[str] = field(default_factory=set)
    #: defined inside a function (its methods may use the enclosing function's names, ``self`` included)
    in_function: bool = False

    @property
    def is_module(self) -> bool:
        return self.framework is not None

    def registered_names(self) -> set[str]:
        """Attributes registered by name with register_buffer/register_parameter/add_module/setattr."""
        out = set()
        for c in self.self_calls:
            if c.name in _REGISTER_CALLS or c.name == "setattr":
                name = c.literal_arg(1 if c.name == "setattr" else 0)
                if name:
                    out.add(name)
        return out

    def dynamic_registration(self, names: Iterable[str] = _REGISTER_CALLS) -> bool:
        """Is any of these registration calls made with a non-literal name?"""
        names = set(names)
        return any(
            c.name in names and c.literal_arg(1 if c.name == "setattr" else 0) is None and not _sets_none(c)
            for c in self.self_calls
        )

    def ancestors(self) -> Iterator["ClassFacts"]:
        seen = {id(self)}
        stack = list(self.local_bases)
        while stack:
            c = stack.pop()
            if id(c) in seen:
                continue
            seen.add(id(c))
            yield c
            stack.extend(c.local_bases)

    def defines(self, method: str) -> bool:
        """Defined here or in a same-file base."""
        return method in self.methods or any(method in a.methods for a in self.ancestors())

    def may_inherit(self, method: str) -> bool:
        """Could a base we cannot see, or a framework layer base, provide ``method``?"""
        for c in (self, *self.ancestors()):
            if c.unknown_bases or any(known.forward_providing(b) for b in c.framework_bases):
                return True
        return False


def _sets_none(call: "SelfCall") -> bool:
    """``setattr(self, name, None)``: clears an attribute, registers nothing new."""
    if call.name != "setattr":
        return False
    args = [a for a in call.node.args if a.keyword is None]
    return len(args) >= 3 and isinstance(args[2].value, cst.Name) and args[2].value.value == "None"


class _Visitor(cst.CSTVisitor):
    def __init__(self, model: "FileModel") -> None:
        super().__init__()
        self.m = model
        self.order = 0
        # One stack of frames; each frame is ("class", ClassFacts) or ("func", MethodFacts|None, Scope)
        self.frames: list[tuple] = []
        self.fors: list[tuple[set[str], cst.BaseExpression]] = []
        self.compound_depth = 0

    # -- helpers -----------------------------------------------------------
    def _tick(self) -> int:
        self.order += 1
        return self.order

    def _scope(self) -> Scope | None:
        """The innermost function scope, the module scope at top level, None in a class body."""
        if not self.frames:
            return self.m.module_scope
        top = self.frames[-1]
        return top[2] if top[0] == "func" else None

    def _method(self) -> tuple[ClassFacts, MethodFacts] | None:
        """(class, method) when directly inside a method (not a nested def)."""
        if len(self.frames) >= 2 and self.frames[-1][0] == "func" and self.frames[-2][0] == "class":
            meth = self.frames[-1][1]
            if meth is not None and meth.self_name:
                return self.frames[-2][1], meth
        return None

    def _self_attr(self, node: cst.BaseExpression, self_name: str) -> str | None:
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == self_name:
            return node.attr.value
        return None

    # -- imports -------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = get_full_name_for_node(alias.name)
            if not full:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.m.imports.bind(alias.asname.name.value, full)
            else:
                head = full.split(".", 1)[0]
                self.m.imports.bind(head, head)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        mod = get_full_name_for_node(node.module) if node.module is not None else ""
        dots = "." * len(node.relative)
        base = dots + (mod or "")
        if isinstance(node.names, cst.ImportStar):
            self.m.star_imports.append(base)
            return
        for alias in node.names:
            name = get_full_name_for_node(alias.name)
            if not name:
                continue
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            sep = "" if base.endswith(".") else "."
            qualified = f"{base}{sep}{name}" if base else name
            self.m.imports.bind(local, qualified)
            self.m.name_refs.append(NameRef(alias, qualified))

    # -- scopes --------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = []
        for arg in node.bases:
            value = arg.value
            if isinstance(value, cst.Subscript):  # Generic[T], Base[int]
                value = value.value
            bases.append(dotted_name(value) or "")
        parent = next((f[1] for f in reversed(self.frames) if f[0] == "class"), None)
        facts = ClassFacts(node.name.value, node, bases, parent)
        facts.in_function = any(f[0] == "func" for f in self.frames)
        self.m.classes.append(facts)
        self.frames.append(("class", facts))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.frames.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        enclosing = self._scope() if self.frames and self.frames[-1][0] == "func" else self.m.module_scope
        scope = Scope(parent=enclosing)
        p = node.params
        positional = [x.name.value for x in (*p.posonly_params, *p.params)]
        scope.params.update(positional)
        scope.params.update(x.name.value for x in p.kwonly_params)
        for star in (p.star_arg, p.star_kwarg):
            if isinstance(star, cst.Param):
                scope.params.add(star.name.value)
        for x in (*p.posonly_params, *p.params, *p.kwonly_params):
            scope.param_nodes[x.name.value] = (x, False)
        if isinstance(p.star_arg, cst.Param):
            scope.param_nodes[p.star_arg.name.value] = (p.star_arg, True)
        meth = None
        if self.frames and self.frames[-1][0] == "class":
            cls: ClassFacts = self.frames[-1][1]
            decorators = [get_full_name_for_node(d.decorator) or "" for d in node.decorators]
            decorators = [
                get_full_name_for_node(d.decorator.func) or "" if isinstance(d.decorator, cst.Call) else dec
                for d, dec in zip(node.decorators, decorators)
            ]
            static = any(d.rsplit(".", 1)[-1] == "staticmethod" for d in decorators)
            self_name = positional[0] if positional and not static else None
            meth = MethodFacts(
                node.name.value, node, positional, decorators, self_name, scope, is_async=node.asynchronous is not None
            )
            scope.owner = cls
            # The first definition wins for facts; a later redefinition (property setter) is kept apart.
            cls.methods.setdefault(node.name.value, meth)
        elif not self.frames:
            self.m.functions.setdefault(node.name.value, scope)
        self.frames.append(("func", meth, scope))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.frames.pop()

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False  # nothing inside a lambda is a statement we model

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        dotted = dotted_name(node)
        if dotted is None:
            self.m.attr_names.add(node.attr.value)
            return True
        self.m.attr_names.update(dotted.split(".")[1:])
        if dotted.startswith("self."):
            for f in reversed(self.frames):  # the innermost method, through nested defs
                if f[0] == "class":
                    break
                if f[1] is not None:
                    f[1].uses_self_attr = True
                    f[1].self_attrs.add(dotted.split(".", 2)[1])
                    break
        if not dotted.startswith(("self.", "cls.")):
            self.m.name_refs.append(NameRef(node, dotted))
        return False  # the inner chain is part of this one

    # -- statements ------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        names = _target_names(node.target)
        self.fors.append((names, node.iter))
        scope = self._scope()
        if scope is not None:
            order = self._tick()
            for n in names:
                if isinstance(node.target, cst.Name):
                    scope.bind(n, order, "elem", node.iter)
                else:
                    scope.bind(n, order, "value", _UNKNOWN)

    def leave_For(self, original_node: cst.For) -> None:
        self.fors.pop()

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            f = self._func()
            if f is not None:
                f.returns_value = True
            if self.frames and self.frames[-1][0] == "func":
                self.frames[-1][2].returns.append(node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        f = self._func()
        if f is not None:
            f.yields = True

    def _func(self) -> MethodFacts | None:
        for f in reversed(self.frames):
            if f[0] == "func":
                return f[1]
            return None
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        order = self._tick()
        for t in node.targets:
            self._assign(t.target, node.value, node, order)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assign(node.target, node.value, node, self._tick())

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        order = self._tick()
        if not isinstance(node.operator, cst.AddAssign):
            return
        ctx = self._method()
        if ctx is not None:
            cls, meth = ctx
            attr = self._self_attr(node.target, meth.self_name)
            if attr is not None:
                cls.mutations.append(SelfMutation(meth.name, attr, "iter", node.value, node, order, meth.scope))
                return
        scope = self._scope()
        if scope is not None and isinstance(node.target, cst.Name):
            scope.adds.setdefault(node.target.value, []).append(("iter", node.value))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        scope = self._scope()
        if scope is not None and isinstance(node.target, cst.Name):
            scope.bind(node.target.value, self._tick(), "value", node.value)

    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression, node: cst.CSTNode, order: int) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(target.elements):
                for t, v in zip(target.elements, value.elements):
                    if not isinstance(t, cst.StarredElement) and not isinstance(v, cst.StarredElement):
                        self._assign(t.value, v.value, node, order)
            else:
                scope = self._scope()
                for n in _target_names(target):
                    if scope is not None:
                        scope.bind(n, order, "value", _UNKNOWN)
                if scope is not None and not any(isinstance(t, cst.StarredElement) for t in target.elements):
                    # a, b = self._make(n): each name is an element of what the call returns (kind_of: when the
                    # returned tuple's elements all agree); other readers of bindings still see an unknown value
                    for i, t in enumerate(target.elements):
                        if isinstance(t.value, cst.Name):
                            scope.bind(t.value.value, order, f"unpack:{i}:{len(target.elements)}", value)
            return
        if self.frames and self.frames[-1][0] == "class" and isinstance(target, cst.Name):
            self.frames[-1][1].class_attrs.add(target.value)
        ctx = self._method()
        if ctx is not None:
            cls, meth = ctx
            attr = self._self_attr(target, meth.self_name)
            if attr is not None:
                cls.self_assigns.append(SelfAssign(meth.name, attr, value, node, order, meth.scope))
                return
            if isinstance(target, cst.Subscript):
                attr = self._self_attr(target.value, meth.self_name)
                if attr is not None:
                    cls.mutations.append(SelfMutation(meth.name, attr, "elem", value, node, order, meth.scope))
                    return
        scope = self._scope()
        if scope is None:
            return
        if isinstance(target, cst.Name):
            scope.bind(target.value, order, "value", value)
            if scope is self.m.module_scope and self.compound_depth == 0 and target.value in self.m.imports:
                if not (isinstance(value, cst.Name) and value.value == "None"):
                    self.m.imports.rebind(target.value)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            scope.adds.setdefault(target.value.value, []).append(("elem", value))

    def visit_Call(self, node: cst.Call) -> None:
        order = self._tick()
        f = self._func()
        if f is not None:
            f.calls.append(node)
        func = node.func
        ctx = self._method()
        scope = self._scope()
        self.m.calls.append(CallSite(node, scope, order, ctx[0] if ctx else None, ctx[1] if ctx else None))
        if ctx is not None and ctx[1].super_init is None and _is_super_init(node, ctx[1].self_name):
            ctx[1].super_init = (node, order)
        args = [a for a in node.args if a.keyword is None]
        if isinstance(func, cst.Name) and func.value == "setattr" and ctx is not None and len(args) >= 3:
            cls, meth = ctx
            if isinstance(args[0].value, cst.Name) and args[0].value.value == meth.self_name:
                cls.self_calls.append(SelfCall(meth.name, "setattr", node, order))
                self._registered(cls, meth, scope, args[2].value)
            return
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if ctx is not None:
            cls, meth = ctx
            if isinstance(func.value, cst.Name) and func.value.value == meth.self_name:
                cls.self_calls.append(SelfCall(meth.name, method, node, order))
                if method in _REGISTER_CALLS and len(args) >= 2:
                    self._registered(cls, meth, scope, args[1].value)
                return
            attr = self._self_attr(func.value, meth.self_name)
            if attr is not None and method in ("append", "extend", "insert", "update", "setdefault"):
                value = _mutation_value(method, args)
                if value is not None:
                    op = "iter" if method in ("extend", "update") else "elem"
                    cls.mutations.append(SelfMutation(meth.name, attr, op, value, node, order, meth.scope))
                return
        if scope is not None and isinstance(func.value, cst.Name) and method in ("append", "extend", "insert", "setdefault"):
            value = _mutation_value(method, args)
            if value is not None:
                scope.adds.setdefault(func.value.value, []).append(("iter" if method == "extend" else "elem", value))

    def _registered(self, cls: ClassFacts, meth: MethodFacts, scope: Scope | None, value: cst.BaseExpression) -> None:
        """``value`` is registered under some name: remember locals and loops over self containers."""
        if not isinstance(value, cst.Name) or scope is None:
            return
        scope.registered.add(value.value)
        for names, it in self.fors:
            if value.value in names:
                for sub in _walk_expr(it):
                    if isinstance(sub, cst.Attribute) and isinstance(sub.value, cst.Name):
                        if sub.value.value == meth.self_name:
                            cls.elements_registered.add(sub.attr.value)
                    elif isinstance(sub, cst.Name):
                        scope.registered.add(sub.value)

    # compound statements at module level make rebinding conditional
    def _enter_compound(self, node: cst.CSTNode) -> None:
        if not self.frames:
            self.compound_depth += 1

    def _leave_compound(self, node: cst.CSTNode) -> None:
        if not self.frames:
            self.compound_depth -= 1

    visit_If = visit_Try = visit_With = visit_While = _enter_compound  # type: ignore[assignment]
    leave_If = leave_Try = leave_With = leave_While = _leave_compound  # type: ignore[assignment]


def _is_super_init(call: cst.Call, self_name: str | None) -> bool:
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"):
        return False
    recv = func.value
    if isinstance(recv, cst.Call) and isinstance(recv.func, cst.Name) and recv.func.value == "super":
        return True
    # Base.__init__(self, ...) / nn.Module.__init__(self)
    first = call.args[0].value if call.args and call.args[0].keyword is None else None
    return dotted_name(recv) is not None and isinstance(first, cst.Name) and first.value == self_name


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of names, else None (``f().x`` is not a dotted name)."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _mutation_value(method: str, args: Sequence[cst.Arg]) -> cst.BaseExpression | None:
    if method in ("append", "extend", "update") and len(args) == 1:
        return args[0].value
    if method in ("insert", "setdefault") and len(args) == 2:
        return args[1].value
    return None


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        out: set[str] = set()
        for e in target.elements:
            out |= _target_names(e.value)
        return out
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return set()


def _walk_expr(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


class NodeMemo:
    """Facts derived from one node's subtree alone, kept by node identity from one analysis of a document to the next.

    The language server re-parses only the statements an edit touched
    (:mod:`flake8_modreg.incremental`); every other node of the new module is
    the very object of the previous one, so what was derived from it alone
    (a method's preorder index in :mod:`flake8_modreg.uses`) holds unchanged.
    A memo reads through to the previous version's entries (and keeps those
    it uses), so nothing outlives the version after the one that last used
    it.  Nodes are immutable and compared by identity, each entry keeps its
    node alive, so an ``id`` cannot be reused while its entry exists.
    """

    def __init__(self, previous: "NodeMemo | None" = None) -> None:
        self.entries: dict[tuple[str, int], tuple[cst.CSTNode, Any]] = {}
        self._previous = previous.entries if previous is not None else {}

    def get(self, kind: str, node: cst.CSTNode) -> Any:
        key = (kind, id(node))
        entry = self.entries.get(key) or self._previous.get(key)
        if entry is None or entry[0] is not node:
            return None
        self.entries[key] = entry
        return entry[1]

    def put(self, kind: str, node: cst.CSTNode, value: Any) -> None:
        self.entries[kind, id(node)] = (node, value)


class FileModel:
    """Everything the rules need to know about one file."""

    def __init__(
        self,
        module: cst.Module,
        module_bases: Sequence[str] = (),
        project_bases: Mapping[str, str] | None = None,
        module_name: str | None = None,
        is_package: bool = False,
        resolver: "Resolver | None" = None,
    ) -> None:
        self.module = module
        #: answers what imported names are, from other files on disk (``resolver.py``); None: this file alone
        self.resolver = resolver
        #: per-node facts carried over from the previous analysis of this document (the language server), or None
        self.memo: NodeMemo | None = None
        #: classes of other files known to be Modules/Cells: absolute qualified name -> framework
        self.project_bases: Mapping[str, str] = project_bases or {}
        #: this file's dotted module name (``pkg.models.head``) when known, for relative imports
        self.module_name = module_name
        self.is_package = is_package
        self.imports = ImportTable()
        self.module_scope = Scope(parent=None)
        self.classes: list[ClassFacts] = []
        self.star_imports: list[str] = []
        #: every call of the file, in order
        self.calls: list[CallSite] = []
        #: module-level functions: name -> scope (with their return values)
        self.functions: dict[str, Scope] = {}
        #: outermost dotted attribute chains whose head is an imported name, and ``from X import Y`` names
        self.name_refs: list[NameRef] = []
        #: every attribute name accessed anywhere in the file (``x.construct`` -> "construct")
        self.attr_names: set[str] = set()
        self.module_bases = tuple(module_bases)
        #: the whole file's module: ``module`` unless this model covers some of its statements only (:mod:`~flake8_modreg.reuse`)
        self.whole: cst.Module = module
        self._kinds: dict[int, Kind] = {}
        self._by_name: dict[str, ClassFacts] = {}

    # -- building ---------------------------------------------------------------
    def _finalize(self) -> None:
        for c in self.classes:
            self._by_name[c.name] = c  # last definition of a name wins, as at run time
        for c in self.classes:
            c.local_bases = [self._by_name[b] for b in c.bases if b in self._by_name and b not in self.imports and self._by_name[b] is not c]
        uses_ms = any(q.split(".")[0] == "mindspore" for q in self.imports.names().values())
        uses_torch = any(q.split(".")[0] == "torch" for q in self.imports.names().values())
        configured_fw = "mindspore" if uses_ms and not uses_torch else "torch"
        pending = list(self.classes)
        for c in pending:
            for dotted in c.bases:
                q = self.imports.qualify(dotted) or self._module_alias(dotted)
                if q and q.startswith("."):  # relative: absolute when the module name is known (project runs)
                    q = self.absolute(q)
                fw = known.framework_of_class(q) if q else None
                if fw:
                    c.framework_bases.append(q)
                    if c.framework is None:
                        c.framework, c.reason = fw, f'{c.name} <- {q} via "{dotted}"'
                elif q and self.project_bases and self.absolute(q) in self.project_bases:
                    qa = self.absolute(q)
                    c.framework_bases.append(qa)
                    if c.framework is None:
                        c.framework, c.reason = self.project_bases[qa], f'{c.name} <- {qa} via "{dotted}" (another file of the project)'
                elif q and self.resolver is not None and (rfw := self.resolver.class_framework(q)):
                    qa = self.absolute(q)
                    c.framework_bases.append(qa)
                    if c.framework is None:
                        c.framework, c.reason = rfw, f'{c.name} <- {qa} via "{dotted}" (resolved in another file)'
                elif dotted and (dotted in self.module_bases or (q and q in self.module_bases)):
                    c.framework_bases.append(q or dotted)
                    if c.framework is None:
                        c.framework, c.reason = configured_fw, f'{c.name} <- {dotted} (configured module-bases)'
                elif q and q in known.NEUTRAL_BASES:
                    continue
                elif dotted in self._by_name and dotted not in self.imports:
                    continue  # resolved by the fixpoint below
                elif dotted in _NEUTRAL_NAMES and dotted not in self.imports:
                    continue
                else:
                    c.unknown_bases = True
        # Fixpoint through same-file bases, then the evidence heuristic for
        # classes whose base is imported from elsewhere, until nothing changes.
        changed = True
        while changed:
            changed = False
            for c in self.classes:
                if c.framework is None:
                    for b in c.local_bases:
                        if b.framework is not None:
                            c.framework, c.reason = b.framework, f"{c.name} <- {b.reason}"
                            changed = True
                            break
            if changed:
                continue
            for c in self.classes:
                if c.framework is None and (c.unknown_bases or any(a.unknown_bases for a in c.ancestors())):
                    fw = self._evidence(c)
                    if fw:
                        c.framework, c.evidence = fw, True
                        c.reason = f"{c.name} <- ? (base {', '.join(b for b in c.bases if b)} not in this file; evidence: defines forward/construct and assigns {fw} layers to self)"
                        changed = True

    def _module_alias(self, dotted: str, depth: int = 0) -> str | None:
        """``MSPreTrainedModel`` bound once at module level to an imported name (``MSPreTrainedModel = PreTrainedModel``,
        ``Base = nn.Cell``): the qualified name it stands for, else None."""
        head, sep, rest = dotted.partition(".")
        bindings = self.module_scope.bindings.get(head)
        if depth > 4 or head in self.imports or not bindings or len(bindings) != 1 or bindings[0][1] != "value":
            return None
        target = dotted_name(bindings[0][2])
        if target is None:
            return None
        return self.imports.qualify(target + sep + rest) or self._module_alias(target + sep + rest, depth + 1)

    def _evidence(self, c: ClassFacts) -> str | None:
        if not ({"forward", "construct"} & c.methods.keys()):
            return None
        fws = set()
        for a in c.self_assigns:
            k = self.kind_of(a.value, a.scope, a.order)
            if k.tag is Tag.LAYER and k.framework:
                fws.add(k.framework)
        return fws.pop() if len(fws) == 1 else None

    # -- queries ------------------------------------------------------------------
    def source_code(self) -> str:
        """The whole file's code (a read of everything: a finding that depends on it is never reused)."""
        return self.whole.code

    def absolute(self, qualified: str) -> str:
        """Resolve a relative qualified name (``..base.Head``) against this file's module name."""
        return absolutize(qualified, self.module_name, self.is_package)

    @property
    def modules(self) -> list[ClassFacts]:
        """Classes that are torch Modules or MindSpore Cells."""
        return [c for c in self.classes if c.framework is not None]

    def class_named(self, name: str) -> ClassFacts | None:
        return self._by_name.get(name)

    def _last_binding(self, name: str, scope: Scope | None, order: int | None) -> tuple[Scope, int, str, cst.BaseExpression] | None:
        """The binding of ``name`` that holds where ``scope`` runs at ``order``: the last one before ``order`` in the
        nearest scope that binds the name (its last one in an enclosing scope), as (scope, order, mode, expr); None
        for a parameter or an unbound name."""
        s = scope
        while s is not None:
            if name in s.bindings:
                bindings = s.bindings[name]
                before = [b for b in bindings if order is None or s is not scope or b[0] < order]
                order_, mode, expr = (before or bindings)[-1]
                return s, order_, mode, expr
            if name in s.params:
                return None
            s = s.parent
        return None

    def binding_of(self, name: str, scope: Scope | None, order: int | None = None) -> tuple[str, cst.BaseExpression] | None:
        """How ``name`` is bound where ``scope`` runs at ``order``: ``(mode, expr)``.

        ``mode`` is ``"value"`` (``name = expr``) or ``"elem"`` (``for name in expr``) (see :meth:`_last_binding`).
        None for parameters, unknown values (tuple targets) and unbound names.
        """
        got = self._last_binding(name, scope, order)
        if got is None or got[3] is _UNKNOWN or got[2].startswith("unpack:"):
            return None
        return got[2], got[3]

    def unpack_binding(self, name: str, scope: Scope | None, order: int | None = None) -> tuple[cst.BaseExpression, int, int, Scope, int] | None:
        """``name`` last bound (before ``order``) as the i-th of n names of ``a, b = <expr>``: (expr, i, n, scope, order)."""
        got = self._last_binding(name, scope, order)
        if got is None or not got[2].startswith("unpack:"):
            return None
        s, order_, mode, expr = got
        _, i, n = mode.split(":")
        return expr, int(i), int(n), s, order_

    def descendants(self, cls: ClassFacts) -> list[ClassFacts]:
        """Classes of this file that derive from ``cls`` (directly or not), in file order.

        Through a subclass index built once (asked per class, a scan of every
        class's ancestors was quadratic: 5,555 Modules in one file took minutes).
        """
        index = self.__dict__.get("_subclasses")
        if index is None or index[0] != len(self.classes):
            subs: dict[int, list[ClassFacts]] = {}
            for c in self.classes:
                for b in c.local_bases:
                    subs.setdefault(id(b), []).append(c)
            index = self._subclasses = (len(self.classes), subs, {id(c): i for i, c in enumerate(self.classes)})
        _, subs, order = index
        found: dict[int, ClassFacts] = {}
        stack = list(subs.get(id(cls), ()))
        while stack:
            c = stack.pop()
            if id(c) in found or c is cls:
                continue
            found[id(c)] = c
            stack.extend(subs.get(id(c), ()))
        return sorted(found.values(), key=lambda c: order.get(id(c), -1))

    def qualify(self, node: cst.BaseExpression) -> str | None:
        return self.imports.qualify(dotted_name(node))

    def alias(self, qualified: str) -> str:
        """How this file would spell ``qualified`` (``nn.ModuleList`` when ``nn`` is torch.nn)."""
        return self.imports.alias_for(qualified)

    def self_kind(self, cls: ClassFacts, assign: SelfAssign) -> Kind:
        return self.kind_of(assign.value, assign.scope, assign.order)

    def kind_of(self, expr: cst.BaseExpression, scope: Scope | None, order: int | None = None) -> Kind:
        """What ``expr`` evaluates to, for registration purposes."""
        key = id(expr)
        if key in self._kinds:
            return self._kinds[key]
        self._kinds[key] = OTHER  # cycle guard
        k = self._kind(expr, scope, order, frozenset())
        self._kinds[key] = k
        return k

    def _kind(self, e: cst.BaseExpression, scope: Scope | None, order: int | None, shadow: frozenset[str]) -> Kind:
        if isinstance(e, cst.Call):
            return self._call_kind(e, scope, order, shadow)
        if isinstance(e, (cst.List, cst.Tuple, cst.Set)):
            elems = set()
            for el in e.elements:
                k = self._sub(el.value, scope, order, shadow)
                if isinstance(el, cst.StarredElement):
                    elems |= set(k.elems) if k.tag in (Tag.LIST, Tag.DICT) else {OTHER}
                else:
                    elems.add(k)
            return Kind(Tag.LIST, elems=frozenset(elems))
        if isinstance(e, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            inner = shadow | _comp_targets(e.for_in)
            return Kind(Tag.LIST, elems=frozenset({self._sub(e.elt, scope, order, inner)}))
        if isinstance(e, cst.Dict):
            elems = set()
            for el in e.elements:
                if isinstance(el, cst.DictElement):
                    elems.add(self._sub(el.value, scope, order, shadow))
                else:  # **other
                    k = self._sub(el.value, scope, order, shadow)
                    elems |= set(k.elems) if k.tag is Tag.DICT else {OTHER}
            return Kind(Tag.DICT, elems=frozenset(elems))
        if isinstance(e, cst.DictComp):
            inner = shadow | _comp_targets(e.for_in)
            return Kind(Tag.DICT, elems=frozenset({self._sub(e.value, scope, order, inner)}))
        if isinstance(e, cst.BinaryOperation):
            left = self._sub(e.left, scope, order, shadow)
            right = self._sub(e.right, scope, order, shadow)
            if isinstance(e.operator, cst.Multiply):  # [Block()] * n
                for a in (left, right):
                    if a.tag is Tag.LIST:
                        return a
            if isinstance(e.operator, cst.Add) and left.tag is Tag.LIST and right.tag is Tag.LIST:
                return Kind(Tag.LIST, elems=left.elems | right.elems)
            for a in (left, right):
                if a.tag in (Tag.GRAD_TENSOR, Tag.TENSOR, Tag.MS_TENSOR):
                    return Kind(a.tag, a.framework)
            if any(self._is_own_buffer(x, scope) for x in (e.left, e.right)):
                return Kind(Tag.TENSOR, "torch")  # self.buf // 2: arithmetic on a buffer makes a new plain tensor
            return OTHER
        if isinstance(e, cst.Subscript):
            base = self._sub(e.value, scope, order, shadow)
            if base.tag in (Tag.TENSOR, Tag.GRAD_TENSOR, Tag.MS_TENSOR, Tag.SELF):
                return base
            if base.tag is Tag.LIST and len(e.slice) == 1 and isinstance(e.slice[0].slice, cst.Slice):
                return base  # layers[1:]: a list of the same layers
            return OTHER
        if isinstance(e, cst.IfExp):
            ks = {self._sub(e.body, scope, order, shadow), self._sub(e.orelse, scope, order, shadow)} - {NONE}
            return ks.pop() if len(ks) == 1 else OTHER
        if isinstance(e, cst.Name):
            return self._name_kind(e.value, scope, order, shadow)
        if isinstance(e, cst.Attribute):
            if isinstance(e.value, cst.Name) and e.value.value == "self":
                return SELF
            if e.attr.value in _TENSOR_VIEWS:  # w.T, w.mT: a (plain) tensor again
                base = self._sub(e.value, scope, order, shadow)
                if base.tag in (Tag.TENSOR, Tag.GRAD_TENSOR, Tag.MS_TENSOR):
                    return base
            return OTHER
        if isinstance(e, cst.UnaryOperation) and not isinstance(e.operator, cst.Not):
            inner = self._sub(e.expression, scope, order, shadow)  # -torch.log(p): a tensor again
            return inner if inner.tag in (Tag.TENSOR, Tag.GRAD_TENSOR, Tag.MS_TENSOR) else OTHER
        return OTHER

    def _is_own_buffer(self, e: cst.BaseExpression, scope: Scope | None) -> bool:
        """``self.<name>`` in a method of a torch Module whose name is a buffer (``register_buffer`` or ``nn.Buffer``)."""
        if not (isinstance(e, cst.Attribute) and isinstance(e.value, cst.Name) and e.value.value == "self"):
            return False
        cls = scope.owner if scope is not None else None
        if cls is None or cls.framework != "torch":
            return False
        name = e.attr.value
        for c in (cls, *cls.ancestors()):
            if any(call.name == "register_buffer" and call.literal_arg(0) == name for call in c.self_calls):
                return True
            for a in c.self_assigns:
                if a.attr == name and a.value is not e and self.kind_of(a.value, a.scope, a.order).tag is Tag.BUFFER:
                    return True
        return False

    def _sub(self, e, scope, order, shadow) -> Kind:
        if not shadow:
            return self.kind_of(e, scope, order)
        return self._kind(e, scope, order, shadow)

    def _name_kind(self, name: str, scope: Scope | None, order: int | None, shadow: frozenset[str]) -> Kind:
        if name in shadow:
            return OTHER
        if name == "None":
            return NONE
        s = scope
        while s is not None:
            if name in s.registered:
                return SELF
            if name in s.bindings:
                return self._binding_kind(name, s, order if s is scope else None)
            if name in s.params:
                return self._param_kind(name, s)
            s = s.parent
        return OTHER

    # -- cross-file names, parameters and annotations -------------------------------------------------
    def _resolved_call(self, q: str) -> Kind:
        """What calling the imported name ``q`` returns, as far as the resolver is certain."""
        if self.resolver is None:
            return OTHER
        got = self.resolver.call_kind(q)
        if got is None:
            return OTHER
        if got[0].startswith("list/"):  # a plain list the callee builds and returns (``stages.append(Stage())``)
            return Kind(Tag.LIST, elems=frozenset({Kind(Tag(got[0][5:]), got[1])}))
        return Kind(Tag(got[0]), got[1])

    def _instance_call(self, cls: str | None, method: str) -> Kind:
        """What ``method`` of an instance of the imported class ``cls`` returns (``builder = Builder(...)``, then
        ``builder(...)``: ``__call__``), as the resolver reads that class's own body; OTHER when not known (a
        framework name, a function's result, a Module/Cell)."""
        if not cls or cls.split(".", 1)[0] in ("torch", "mindspore") or self.class_framework(cls):
            return OTHER
        return self._resolved_call(f"{cls}.{method}")

    def class_framework(self, q: str | None) -> str | None:
        """The framework of the class named by the qualified name ``q`` (known, configured or resolved)."""
        if not q:
            return None
        fw = known.framework_of_class(q)
        if fw is None and self.resolver is not None:
            fw = self.resolver.class_framework(q)
        return fw

    def may_inherit(self, cls: ClassFacts, name: str, framework=None) -> bool:
        """Could a base that is not in this file provide ``name`` to ``cls``?

        A base imported from a file the resolver cannot read (or any other-file base without a resolver)
        may; a base in another file read through the resolver may only when it, or one of its bases,
        binds the name or cannot be fully read.  Framework bases (``torch.nn.Linear``) are answered by
        ``framework(q)`` (by default: they may provide ``forward``/``construct`` unless
        ``known.forward_providing`` says they do not, as in :meth:`ClassFacts.may_inherit`).
        """
        for c in (cls, *cls.ancestors()):
            if c.unknown_bases:
                return True
            for b in c.framework_bases:
                if known.framework_of_class(b):
                    if framework(b) if framework is not None else known.forward_providing(b):
                        return True
                elif self.resolver is None or self.resolver.class_defines(b, name, framework) is not False:
                    return True
        return False

    def class_value_framework(self, e: cst.BaseExpression, scope: Scope | None, order: int | None = None, depth: int = 0) -> str | None:
        """``e`` evaluates to a Module/Cell *class* (calling it makes a layer): its framework, else None.

        ``nn.LayerNorm``; an imported or same-file Module class; ``partial(nn.BatchNorm2d, eps=1e-5)``;
        a name every binding of which is one of these (``Norm = nn.LayerNorm``, ``None`` aside); a
        parameter whose default or annotation (``Type[nn.Module]``, ``Callable[..., nn.Module]``) says so.
        """
        if depth > 6:
            return None
        if isinstance(e, cst.IfExp):  # nn.BatchNorm2d if bn else nn.GroupNorm: every non-None branch
            fws = {self.class_value_framework(x, scope, order, depth + 1) for x in (e.body, e.orelse) if not (isinstance(x, cst.Name) and x.value == "None")}
            return fws.pop() if len(fws) == 1 else None
        if isinstance(e, cst.BooleanOperation) and isinstance(e.operator, cst.Or):
            # conv_block = conv_block or ConvNormAct: every operand must be known and agree
            fws = {self.class_value_framework(x, scope, order, depth + 1) for x in (e.left, e.right)}
            return fws.pop() if len(fws) == 1 else None
        if isinstance(e, cst.Call):
            q = self.qualify(e.func)
            if q == "functools.partial" and e.args and e.args[0].keyword is None and not e.args[0].star:
                return self.class_value_framework(e.args[0].value, scope, order, depth + 1)
            return None
        dotted = dotted_name(e)
        if dotted is None:
            return None
        head = dotted.split(".", 1)[0]
        if head in self.imports:
            return self.class_framework(self.imports.qualify(dotted))
        if "." in dotted:
            return None
        s = scope
        while s is not None:
            # in the scope where ``e`` is evaluated, the bindings made before it; elsewhere, all of them
            bindings = [b for b in s.bindings.get(head, ()) if s is not scope or order is None or b[0] < order]
            if bindings:
                fws = set()
                for order_, mode, v in bindings:
                    if mode != "value" or v is _UNKNOWN:
                        return None
                    if isinstance(v, cst.Name) and v.value == "None":
                        continue
                    fws.add(self.class_value_framework(v, s, order_, depth + 1))
                return fws.pop() if len(fws) == 1 else None
            if head in s.params:
                return self._param_factory(head, s, depth)
            if head in s.bindings:  # bound only after ``e``
                return None
            s = s.parent
        local = self._by_name.get(head)
        if local is not None and local.framework and not local.in_function:
            return local.framework
        return None

    def _param_factory(self, name: str, s: Scope, depth: int = 0) -> str | None:
        """A parameter that holds a Module/Cell class (``norm_layer=nn.LayerNorm``, ``act: Type[nn.Module]``)."""
        got = s.param_nodes.get(name)
        if got is None or got[1]:
            return None
        p = got[0]
        ann = self.annotation(p.annotation.annotation, s.parent) if p.annotation is not None else None
        if ann is not None:
            return ann[1] if ann[0] == "class" else None
        if p.default is not None:
            return self.class_value_framework(p.default, s.parent, None, depth + 1)
        return None

    def _param_kind(self, name: str, s: Scope) -> Kind:
        """A parameter's value from its annotation: ``x: Tensor`` / ``Optional[torch.Tensor]`` a tensor.

        A parameter annotated as a Module (``discriminator: nn.Module``) stays unknown: a layer passed
        in is owned by the caller, and ``self.d = [discriminator]`` is the usual way of *not*
        registering it twice.
        """
        got = s.param_nodes.get(name)
        if got is None or got[1] or got[0].annotation is None:
            return OTHER
        ann = self.annotation(got[0].annotation.annotation, s.parent)
        if ann is None or ann[0] != "instance" or ann[1].tag not in (Tag.TENSOR, Tag.MS_TENSOR):
            return OTHER
        return ann[1]

    def annotation(self, ann: cst.BaseExpression, scope: Scope | None) -> tuple[str, object] | None:
        """What an annotation promises: ``("class", framework)`` for a Module/Cell class or a callable
        returning one (``Type[nn.Module]``, ``Callable[..., nn.Module]``), ``("instance", Kind)`` for a layer
        or a tensor (``nn.Module``, ``torch.Tensor``, ``mindspore.Tensor``); ``Optional``/``| None`` are
        looked through.  None when it says anything else (``Union[str, Callable]``, strings)."""
        if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
            parts = [x for x in (ann.left, ann.right) if not (isinstance(x, cst.Name) and x.value == "None")]
            got = {self.annotation(x, scope) for x in parts}
            return got.pop() if len(got) == 1 else None
        if isinstance(ann, cst.Subscript):
            outer = dotted_name(ann.value)
            q = self.imports.qualify(outer) if outer else None
            if q is None and outer == "type" and scope_free("type", scope):
                q = "typing.Type"
            name = q.rsplit(".", 1)[-1] if q and q.split(".", 1)[0] in ("typing", "typing_extensions", "collections") else None
            items = [el.slice.value for el in ann.slice if isinstance(el.slice, cst.Index)]
            if len(items) != len(ann.slice):
                return None
            if name in ("Optional", "Union"):
                items = [x for x in items if not (isinstance(x, cst.Name) and x.value == "None")]
                got = {self.annotation(x, scope) for x in items}
                return got.pop() if len(got) == 1 else None
            if name == "Type" and len(items) == 1:
                fw = self.class_framework(self.qualify(items[0]))
                return ("class", fw) if fw else None
            if name == "Callable" and len(items) == 2:
                inst = self.annotation(items[1], scope)
                return ("class", inst[1].framework) if inst and inst[0] == "instance" and inst[1].tag is Tag.LAYER else None
            return None
        q = self.qualify(ann)
        if not q:
            return None
        if q == "torch.Tensor":
            return ("instance", Kind(Tag.TENSOR, "torch"))
        if q == "mindspore.Tensor":
            return ("instance", Kind(Tag.MS_TENSOR, "mindspore"))
        fw = self.class_framework(q)
        return ("instance", Kind(Tag.LAYER, fw)) if fw else None

    def _binding_kind(self, name: str, s: Scope, order: int | None) -> Kind:
        bindings = s.bindings[name]
        chosen = None
        if order is not None:
            before = [b for b in bindings if b[0] < order]
            chosen = before[-1] if before else None
        if chosen is None:
            chosen = bindings[-1]
        _, mode, expr = chosen
        if expr is _UNKNOWN:
            return OTHER
        k = self.kind_of(expr, s, chosen[0])
        if mode.startswith("unpack:"):
            return next(iter(k.elems)) if k.tag is Tag.LIST and len(k.elems) == 1 else OTHER
        if mode == "elem":
            if k.tag in (Tag.LIST, Tag.DICT):
                return next(iter(k.elems)) if len(k.elems) == 1 else OTHER
            return SELF if k.tag in (Tag.SELF, Tag.REGISTERED) else OTHER
        if k.tag in (Tag.LIST, Tag.DICT) and name in s.adds:
            elems = set(k.elems)
            for mode2, v in s.adds[name]:
                vk = self.kind_of(v, s)
                if mode2 == "elem":
                    elems.add(vk)
                else:
                    elems |= set(vk.elems) if vk.tag in (Tag.LIST, Tag.DICT) else {OTHER}
            return Kind(k.tag, elems=frozenset(elems))
        return k

    def _call_kind(self, e: cst.Call, scope: Scope | None, order: int | None, shadow: frozenset[str]) -> Kind:
        func = e.func
        dotted = dotted_name(func)
        q = self.imports.qualify(dotted) if dotted else None
        if q is None and isinstance(func, cst.Name):  # zeros = ops.Zeros(); zeros((2, 3), ms.float32)
            b = self.value_binding(func.value, scope, order)
            if b is not None and isinstance(b[0], cst.Call):
                func = b[0]
        if q is None and isinstance(func, cst.Call):  # ops.Zeros()((2, 3), ms.float32): an operator that makes a tensor
            inner = dotted_name(func.func)
            if inner and known.mindspore_tensor_primitive(self.imports.qualify(inner)):
                return Kind(Tag.MS_TENSOR, "mindspore")
            # builder = Builder(...); builder(...): what the imported class's own ``__call__`` returns
            got = self._instance_call(self.imports.qualify(inner) if inner else None, "__call__")
            if got is not OTHER:
                return got
        if q is not None:
            if q in known.TORCH_TENSOR_FACTORIES or q in known.TORCH_VARIABLE:
                return Kind(Tag.GRAD_TENSOR if _requires_grad(e) else Tag.TENSOR, "torch")
            if q in known.TORCH_PARAMETER:
                return Kind(Tag.PARAMETER, "torch")
            if q in known.MINDSPORE_PARAMETER:
                return Kind(Tag.PARAMETER, "mindspore")
            if q in known.TORCH_BUFFER:
                return Kind(Tag.BUFFER, "torch")
            if q in known.TORCH_REGISTERING:
                return Kind(Tag.REGISTERED, "torch")
            if q in known.MINDSPORE_REGISTERING:  # elems: what it holds, when that is not Cells (ParameterTuple)
                held = frozenset({Kind(Tag.PARAMETER, "mindspore")}) if q in known.MINDSPORE_PARAMETER_CONTAINERS else frozenset()
                return Kind(Tag.REGISTERED, "mindspore", held)
            if q in known.MINDSPORE_TENSOR_FACTORIES:
                return Kind(Tag.MS_TENSOR, "mindspore")
            if known.mindspore_function_of_tensors(q):  # ops.exp(t), mnp.sqrt(t); ops.ReLU() is an operator
                args = [self._sub(x.value, scope, order, shadow) for x in e.args if x.keyword is None]
                return Kind(Tag.MS_TENSOR, "mindspore") if any(x.tag is Tag.MS_TENSOR for x in args) else OTHER
            fw = known.framework_of_class(q)
            if fw:
                return Kind(Tag.LAYER, fw)
            if known.torch_function_of_tensors(q):  # torch.exp(t), torch.outer(a, b), F.normalize(t)
                args = [self._sub(x.value, scope, order, shadow) for x in e.args if x.keyword is None]
                tags = {x.tag for x in args}
                if Tag.GRAD_TENSOR in tags:
                    return Kind(Tag.GRAD_TENSOR, "torch")
                if Tag.TENSOR in tags:
                    return Kind(Tag.TENSOR, "torch")
            if q == "copy.deepcopy" and e.args:
                return self._sub(e.args[0].value, scope, order, shadow)
            if q in ("collections.OrderedDict",):
                return self._dict_call(e, scope, order, shadow)
            return self._resolved_call(q)
        if isinstance(func, cst.Name) and func.value not in self.imports:
            name = func.value
            local = self._by_name.get(name)
            if local is not None and local.framework:
                return Kind(Tag.LAYER, local.framework)
            fn = self.callee_scope(func, scope)
            if fn is not None:
                return self._returns_kind(fn)
            fw = self.class_value_framework(func, scope, order)
            if fw is not None:  # norm_layer(dim) with norm_layer=nn.LayerNorm; Norm = nn.LayerNorm; partial(...)
                return Kind(Tag.LAYER, fw)
            if name in ("list", "tuple") and scope_free(name, scope):
                if not e.args:
                    return Kind(Tag.LIST)
                inner = self._sub(e.args[0].value, scope, order, shadow)
                return Kind(Tag.LIST, elems=inner.elems) if inner.tag in (Tag.LIST, Tag.DICT) else Kind(Tag.LIST, elems=frozenset({OTHER}))
            if name in ("dict", "OrderedDict") and scope_free(name, scope):
                return self._dict_call(e, scope, order, shadow)
            if name == "getattr" and e.args and isinstance(e.args[0].value, cst.Name) and e.args[0].value.value == "self":
                return SELF
            return OTHER
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            helper = self.callee_scope(func, scope)
            if helper is not None:
                return self._returns_kind(helper)
            if isinstance(func.value, cst.Name) and func.value.value not in self.imports:
                # builder = Builder(...); builder.build(...): a method of the imported class's own body
                b = self.value_binding(func.value.value, scope, order)
                made = dotted_name(b[0].func) if b is not None and isinstance(b[0], cst.Call) else None
                got = self._instance_call(self.imports.qualify(made) if made else None, method)
                if got is not OTHER:
                    return got
            base = self._sub(func.value, scope, order, shadow)
            if base.tag in (Tag.TENSOR, Tag.GRAD_TENSOR):
                if method == "requires_grad_":
                    flag = e.args[0].value if e.args else None
                    if flag is None or (isinstance(flag, cst.Name) and flag.value == "True"):
                        return Kind(Tag.GRAD_TENSOR, "torch")
                    if isinstance(flag, cst.Name) and flag.value == "False":
                        return Kind(Tag.TENSOR, "torch")
                    return OTHER  # requires_grad_(trainable): not known
                if method == "detach":
                    return Kind(Tag.TENSOR, "torch")
                if known.tensor_method_of_tensor(method):
                    return Kind(base.tag, "torch")
            if base.tag is Tag.MS_TENSOR and (method in known.TENSOR_METHODS or method in known.MS_TENSOR_METHODS):
                return base
        if isinstance(func, cst.Subscript):
            return self._table_call_kind(e, func, scope, order, shadow)
        return OTHER

    def _table_call_kind(self, e: cst.Call, func: cst.Subscript, scope, order, shadow) -> Kind:
        """``{"2": dct2, "3": dct3}[k](n)`` / ``kernels[k](n)`` with ``kernels = {...}``: a function picked from a
        dict display; the tensor calling any of them returns, when they all agree. Only tensors: a layer picked
        this way is often also kept in a registering container (``self.mods[name] = m``), which MRG101 cannot see."""
        table = func.value
        if isinstance(table, cst.Name):
            b = self.value_binding(table.value, scope, order)
            table = b[0] if b is not None else None
        if not isinstance(table, cst.Dict) or not table.elements or \
                not all(isinstance(el, cst.DictElement) for el in table.elements):
            return OTHER
        kinds = {self._call_kind(e.with_changes(func=el.value), scope, order, shadow) for el in table.elements}
        k = kinds.pop() if len(kinds) == 1 else OTHER
        return k if k.tag in (Tag.TENSOR, Tag.GRAD_TENSOR, Tag.MS_TENSOR) else OTHER

    def value_binding(
        self, name: str, scope: Scope | None, order: int | None = None
    ) -> tuple[cst.BaseExpression, Scope, int] | None:
        """The value ``name = <value>`` that ``name`` holds at ``order`` in ``scope`` (or an enclosing scope).

        Returns (value, the scope it is bound in, its order), or None for a
        parameter, a loop variable, an unpackable target or an unbound name.
        """
        got = self._last_binding(name, scope, order)
        if got is None or got[2] != "value" or got[3] is _UNKNOWN:
            return None
        return got[3], got[0], got[1]

    def instance_of(
        self, expr: cst.BaseExpression, scope: Scope | None, order: int | None = None, cls: ClassFacts | None = None
    ) -> tuple[str, ClassFacts | None] | None:
        """The framework, and the same-file class if any, of the Module/Cell instance ``expr`` evaluates to.

        ``cls`` is the class whose method ``expr`` is in: ``self`` then is an
        instance of it, and ``self.attr`` one of what is assigned to ``attr``.
        Library layers (``nn.Dense(...)``) give ``(framework, None)``.  None
        when unknown, or when the answer is ambiguous (a class name defined
        twice with different frameworks, attributes assigned different kinds).
        """
        return self._instance_of(expr, scope, order, cls, 0)

    def _instance_of(self, e, scope, order, cls, depth):
        if depth > 8:
            return None
        meth = None
        if cls is not None and scope is not None and scope.owner is cls:
            meth = next((m for m in cls.methods.values() if m.scope is scope), None)
        self_name = meth.self_name if meth is not None and not meth.is_classmethod else None
        if isinstance(e, cst.Name) and self_name == e.value:
            return (cls.framework, cls) if cls.framework else None
        if isinstance(e, cst.Attribute):
            if self_name is None or not (isinstance(e.value, cst.Name) and e.value.value == self_name):
                return None
            found: dict[tuple, tuple[str, ClassFacts | None] | None] = {}
            for a in cls.self_assigns:
                if a.attr == e.attr.value and self.kind_of(a.value, a.scope, a.order).tag is not Tag.NONE:
                    r = self._instance_of(a.value, a.scope, a.order, cls, depth + 1)
                    found[(r[0], id(r[1])) if r else None] = r
            return next(iter(found.values())) if len(found) == 1 else None
        if isinstance(e, cst.Name):
            b = self.value_binding(e.value, scope, order)
            return self._instance_of(b[0], b[1], b[2], cls, depth + 1) if b is not None else None
        if isinstance(e, cst.IfExp):  # DropPath(p) if p > 0 else nn.Identity(): every non-None branch agrees
            found = {}
            for x in (e.body, e.orelse):
                if not (isinstance(x, cst.Name) and x.value == "None"):
                    r = self._instance_of(x, scope, order, cls, depth + 1)
                    found[(r[0], id(r[1])) if r else None] = r
            return next(iter(found.values())) if len(found) == 1 else None
        if isinstance(e, cst.Call):
            func = e.func
            if isinstance(func, cst.Name) and func.value not in self.imports:
                if not scope_free(func.value, scope):
                    fw = self.class_value_framework(func, scope, order)  # norm_layer(dim), Norm = nn.LayerNorm
                    return (fw, None) if fw else None
                same = [c for c in self.classes if c.name == func.value]
                fws = {c.framework for c in same}
                if same and len(fws) == 1 and None not in fws:
                    return same[-1].framework, same[-1]
                return None
            q = self.qualify(func)
            fw = self.class_framework(q)
            if fw:
                return fw, None
            k = self._resolved_call(q) if q else OTHER  # a function of another file that returns a layer
            if k.tag is Tag.LAYER and k.framework:
                return k.framework, None
        return None

    def callee_scope(self, func: cst.BaseExpression, scope: Scope | None) -> Scope | None:
        """The scope of the same-file function a call of ``func`` runs: ``self.helper`` / ``Class.helper`` (a method
        of a class of this file), or a bare name bound only to a module-level ``def`` of this file."""
        if isinstance(func, cst.Attribute):
            return self._helper_scope(func, scope)
        if isinstance(func, cst.Name) and func.value not in self.imports and func.value in self.functions \
                and scope_free(func.value, scope):
            return self.functions[func.value]
        return None

    def _helper_scope(self, func: cst.Attribute, scope: Scope | None) -> Scope | None:
        """``self.helper(...)`` / ``Class.helper(...)``: the scope of a method of a class of this file."""
        if not isinstance(func.value, cst.Name):
            return None
        name = func.value.value
        owners: list[ClassFacts] = []
        if name in ("self", "cls"):
            s = scope
            while s is not None and s.owner is None:
                s = s.parent
            owners = [s.owner] if s is not None else []
        elif name in self._by_name and name not in self.imports:
            owners = [self._by_name[name]]
        for owner in owners:
            for c in (owner, *owner.ancestors()):
                meth = c.methods.get(func.attr.value)
                if meth is not None:
                    return meth.scope
        return None

    def _returns_kind(self, scope: Scope) -> Kind:
        """What a same-file helper returns, when all its returns agree (``None`` ignored)."""
        kinds = {self.kind_of(r, scope) for r in scope.returns} - {NONE}
        if len(kinds) == 1:
            k = kinds.pop()
            if k.tag is not Tag.SELF:
                return k
        return OTHER

    def _dict_call(self, e: cst.Call, scope, order, shadow) -> Kind:
        elems = set()
        for a in e.args:
            if a.keyword is not None:
                elems.add(self._sub(a.value, scope, order, shadow))
            else:
                k = self._sub(a.value, scope, order, shadow)
                elems |= set(k.elems) if k.tag in (Tag.DICT, Tag.LIST) else {OTHER}
        return Kind(Tag.DICT, elems=frozenset(elems))


def scope_free(name: str, scope: Scope | None) -> bool:
    """Is ``name`` unbound in ``scope`` and its parents (so a builtin)?"""
    s = scope
    while s is not None:
        if name in s.bindings or name in s.params:
            return False
        s = s.parent
    return True


def _requires_grad(call: cst.Call) -> bool:
    for a in call.args:
        if a.keyword is not None and a.keyword.value == "requires_grad":
            return isinstance(a.value, cst.Name) and a.value.value == "True"
    return False


def _comp_targets(for_in: cst.CompFor | None) -> frozenset[str]:
    out: set[str] = set()
    while for_in is not None:
        out |= _target_names(for_in.target)
        for_in = for_in.inner_for_in
    return frozenset(out)


#: Fields that hold only whitespace, punctuation or flags: never walked.
_SKIP_FIELD = re.compile(
    r"^(?:whitespace_\w+|leading_lines|lines_after_decorators|header|footer|lpar|rpar|lbracket|rbracket|"
    r"lbrace|rbrace|comma|dot|equal|semicolon|colon|trailing_whitespace|indent|default_indent|default_newline|"
    r"has_trailing_newline|encoding|asynchronous|star|operator|first_newline|empty_lines|newline)$"
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
#: field types that never hold a node (``Name.value``, ``Module.encoding``...): never read
_SCALAR_FIELD_TYPES = (str, bool, int)
#: class -> is it a libcst node (``isinstance`` on libcst's abstract base is ~10x a dict lookup)
_IS_NODE: dict[type, bool] = {}


def _child_fields(t: type) -> tuple[str, ...]:
    names = [f.name for f in dataclasses.fields(t) if not _SKIP_FIELD.match(f.name) and f.type not in _SCALAR_FIELD_TYPES]
    if "decorators" in names:  # walk in source order: decorators come before the def/class body
        names.remove("decorators")
        names.insert(0, "decorators")
    out = _CHILD_FIELDS[t] = tuple(names)
    return out


def _is_node_class(c: type) -> bool:
    out = _IS_NODE[c] = issubclass(c, cst.CSTNode)
    return out


def node_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes that carry code (whitespace and punctuation skipped), in source order.

    Much cheaper than libcst's ``node.children``, which runs a visitor per call.
    """
    t = node.__class__
    is_node = _IS_NODE
    out: list[cst.CSTNode] = []
    names = _CHILD_FIELDS.get(t)
    for name in _child_fields(t) if names is None else names:
        v = getattr(node, name)
        c = v.__class__
        if c is tuple or c is list:
            for x in v:
                xc = x.__class__
                if is_node.get(xc) or (xc not in is_node and _is_node_class(xc)):
                    out.append(x)
        elif is_node.get(c) or (c not in is_node and _is_node_class(c)):
            out.append(v)
    return out


def _own_method(visitor: cst.CSTVisitor, name: str) -> Any:
    """``visitor``'s method ``name``, or None where it is libcst's no-op default (nothing to call)."""
    method = getattr(visitor, name, None)
    if method is None or getattr(method, "__func__", None) is getattr(cst.CSTVisitor, name, None):
        return None
    return method


def walk(visitor: cst.CSTVisitor, root: cst.CSTNode) -> None:
    """Call ``visitor``'s ``visit_<Node>``/``leave_<Node>`` methods over ``root``, in source order (see :func:`walker`)."""
    walker(visitor)(root)


def walker(visitor: cst.CSTVisitor) -> Callable[[cst.CSTNode], None]:
    """A function that calls ``visitor``'s ``visit_<Node>``/``leave_<Node>`` methods over a root, in source order.

    The same protocol as ``root.visit(visitor)`` for a read-only visitor
    (``visit_X`` returning False skips the children), but without libcst's
    rebuilding of every node on the way back up, which read-only visitors
    pay for too, and iterative, so deep nesting cannot exhaust the stack.
    The visitor's methods that libcst's ``CSTVisitor`` defines as no-ops are
    not called at all, and nodes with neither a method to call nor children
    (names, numbers, strings: about half of a module's nodes) are not visited.
    """
    plans: dict[type, tuple] = {}  # node class -> (visit, leave, child fields)
    trivial: set[type] = set()  # node classes with nothing to call and no children
    is_node = _IS_NODE

    def plan(t: type) -> tuple:
        visit = _own_method(visitor, "visit_" + t.__name__)
        leave = _own_method(visitor, "leave_" + t.__name__)
        names = _CHILD_FIELDS.get(t)
        if names is None:
            names = _child_fields(t)
        out = plans[t] = (visit, leave, names)
        if visit is None and leave is None and not names:
            trivial.add(t)
        return out

    def run(root: cst.CSTNode) -> None:
        stack: list = [root]
        pop, push = stack.pop, stack.append
        while stack:
            item = pop()
            t = item.__class__
            if t is tuple:
                item[0](item[1])
                continue
            visit, leave, names = plans.get(t) or plan(t)
            if leave is not None:
                push((leave, item))
            if visit is not None and visit(item) is False:
                continue
            children = []
            for name in names:
                v = getattr(item, name)
                c = v.__class__
                if c is tuple or c is list:
                    for x in v:
                        xc = x.__class__
                        if xc in trivial:
                            continue
                        if is_node.get(xc) or (xc not in is_node and _is_node_class(xc)):
                            children.append(x)
                elif c in trivial:
                    continue
                elif is_node.get(c) or (c not in is_node and _is_node_class(c)):
                    children.append(v)
            if children:
                children.reverse()
                stack.extend(children)

    return run


def absolutize(qualified: str, module_name: str | None, is_package: bool) -> str:
    """``..base.Head`` in module ``pkg.models.head`` -> ``pkg.base.Head`` (unchanged if absolute or unknown)."""
    if not qualified.startswith(".") or module_name is None:
        return qualified
    level = len(qualified) - len(qualified.lstrip("."))
    parts = module_name.split(".")
    keep = len(parts) - level + (1 if is_package else 0)
    if keep < 0:
        return qualified
    rest = qualified[level:]
    return ".".join([*parts[:keep], rest] if rest else parts[:keep])


def build_model(
    module: cst.Module,
    module_bases: Sequence[str] = (),
    project_bases: Mapping[str, str] | None = None,
    module_name: str | None = None,
    is_package: bool = False,
    resolver: "Resolver | None" = None,
    *,
    whole: cst.Module | None = None,
    statement_attrs: dict[int, set[str]] | None = None,
) -> FileModel:
    """One pass over ``module``; the result answers every rule's questions.

    ``whole``: the file's module, when ``module`` holds only some of its
    top-level statements (:mod:`flake8_modreg.reuse`).  ``statement_attrs``
    is filled with the attribute names each top-level statement accesses (by
    statement id), what :attr:`FileModel.attr_names` is the union of.
    """
    if resolver is not None and module_name is None:
        module_name, is_package = resolver.module_name, resolver.is_package
    model = FileModel(module, module_bases, project_bases, module_name, is_package, resolver)
    if whole is not None:
        model.whole = whole
    visitor = _Visitor(model)
    if statement_attrs is None:
        walk(visitor, module)
    else:  # the same walk, one top-level statement at a time (a Module has no visit_/leave_ of its own)
        run = walker(visitor)
        for stmt in module.body:
            model.attr_names = statement_attrs[id(stmt)] = set()
            run(stmt)
        model.attr_names = set().union(*statement_attrs.values())
    model._finalize()
    return model
