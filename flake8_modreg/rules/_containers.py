"""Shared by MRG101-103: plain containers assigned to ``self`` and what they hold."""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from .. import known
from ..findings import Applicability, Fix
from ..resolver import constant_module
from ..uses import exclusive_branches, self_call_closure, use_index
from ..model import ClassFacts, FileModel, Kind, SelfAssign, Tag, dotted_name
from ._fixes import MINDSPORE_CELLDICT_ATTRS, TORCH_MODULE_ATTRS, ancestry_takes_children, call, simple_assign, spell

_REGISTERED_TAGS = (Tag.LAYER, Tag.REGISTERED, Tag.PARAMETER, Tag.BUFFER)


@dataclass
class PlainContainer:
    cls: ClassFacts
    assign: SelfAssign
    kind: Kind  # LIST or DICT, with the elements added later merged in
    spelling: str  # "list", "tuple" or "dict"


def _spelling(value: cst.BaseExpression, kind: Kind) -> str:
    if kind.tag is Tag.DICT:
        return "dict"
    if isinstance(value, cst.Tuple) or (
        isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "tuple"
    ):
        return "tuple"
    return "list"


#: overriding one of each pair means the class collects its state itself
_STATE_COLLECTORS = (frozenset({"state_dict", "_save_to_state_dict"}), frozenset({"named_parameters", "parameters"}))


def takes_over_state(cls) -> bool:
    """The class (or a same-file base) overrides both ``state_dict`` and ``named_parameters``/``parameters``.

    Such a class walks its plain containers itself (sharded or fused lookups
    that must not be auto-registered): what torch would miss, it reports.
    """
    defined = set()
    for c in (cls, *cls.ancestors()):
        defined |= c.methods.keys()
    return all(defined & names for names in _STATE_COLLECTORS)


def plain_containers(model: FileModel) -> Iterator[PlainContainer]:
    """Each ``self.x = <plain list/tuple/dict>`` whose binding survives.

    Skipped: attributes registered some other way (a later ``nn.ModuleList``
    assignment, ``register_*``/``add_module``/``setattr`` under the same name,
    or every element registered in a loop), and assignments overwritten later
    in the same method.
    """
    for cls in model.modules:
        if takes_over_state(cls):
            continue
        registered = cls.registered_names() | cls.elements_registered
        kinds = {id(a): model.self_kind(cls, a) for a in cls.self_assigns}
        state: dict[str, list] = {}
        for a in cls.self_assigns:
            if kinds[id(a)].tag in _REGISTERED_TAGS:
                state.setdefault(a.attr, []).append(a)
        for a in cls.self_assigns:
            k = kinds[id(a)]
            if k.tag not in (Tag.LIST, Tag.DICT) or a.attr in registered:
                continue
            if declared_plain(cls, a.attr):
                continue
            # a registering container in the other branch of an if does not register this one
            if any(_replaces(model, cls, a, b) for b in state.get(a.attr, ()) if not exclusive_branches(model, cls, a.method, a.node, b.method, b.node)):
                continue
            if any(
                b.attr == a.attr and b.method == a.method and b.order > a.order and not exclusive_branches(model, cls, a.method, a.node, b.method, b.node)
                for b in cls.self_assigns
            ):
                continue
            elems = set(k.elems)
            for m in cls.mutations:
                if m.attr != a.attr:
                    continue
                mk = model.kind_of(m.value, m.scope, m.order)
                if m.op == "elem":
                    elems.add(mk)
                else:
                    elems |= set(mk.elems) if mk.tag in (Tag.LIST, Tag.DICT) else {Kind(Tag.OTHER)}
            kind = Kind(k.tag, elems=frozenset(elems))
            if _only_stateless_modules(model, cls, a) or (k.tag is Tag.DICT and _keyword_config(model, cls, a.attr)) \
                    or _constants_converted_at_use(model, cls, a):
                continue
            if _wrapped_whole(model, cls, a) or _handed_to_submodules(model, cls, a) or _construction_only(model, cls, a):
                continue
            yield PlainContainer(cls, a, kind, _spelling(a.value, kind))


#: registering containers that take their items from one list (``*items`` for the Sequentials) or dict
_WRAPPING = frozenset({"torch.nn.ModuleList", "torch.nn.Sequential", "torch.nn.ModuleDict", "torch.nn.ParameterList",
                       "torch.nn.ParameterDict", "mindspore.nn.CellList", "mindspore.nn.SequentialCell",
                       "mindspore.nn.CellDict", "mindspore.ParameterTuple"})


def _wrapped_whole(model: FileModel, cls: ClassFacts, a: SelfAssign) -> bool:
    """The finished container is handed whole to a registering container later in the same method.

    ``self.blocks_list = [...]`` (filled), then ``self.blocks =
    nn.ModuleList(self.blocks_list)`` (or ``nn.Sequential(*self.blocks_list)``):
    the very same layer objects are registered under ``blocks``, so
    ``parameters()``, ``state_dict()``, ``.to()``/``.half()`` and
    ``.train()``/``.eval()`` reach them whichever attribute ``forward``
    iterates. Not when the plain container is filled after that (the
    registering one copied its items at construction), nor when any other
    method fills it.
    """
    names = {f"self.{a.attr}"}
    if isinstance(a.value, cst.Name):
        names.add(a.value.value)  # self.x = layers ... nn.Sequential(*layers)
    wraps = []
    for b in cls.self_assigns:
        if b.method != a.method or b.order <= a.order or b.attr == a.attr:
            continue
        v = b.value
        if not (isinstance(v, cst.Call) and model.qualify(v.func) in _WRAPPING and len(v.args) == 1):
            continue
        arg = v.args[0]
        if arg.keyword is not None or arg.star == "**":
            continue
        if model.module.code_for_node(arg.value) in names and \
                not exclusive_branches(model, cls, a.method, a.node, b.method, b.node):
            wraps.append(b)
    if not wraps:
        return False
    first = min(b.order for b in wraps)
    return all(m.method == a.method and m.order < first for m in cls.mutations if m.attr == a.attr)


def _handed_to_submodules(model: FileModel, cls: ClassFacts, a: SelfAssign) -> bool:
    """Every read of the container hands it to the constructor of a sub-module in ``__init__``.

    ``self.prescalers = {...}``, then ``self.vsn = VariableSelection(...,
    prescalers=self.prescalers)`` (and no other read): the layers reach the
    model only through the sub-modules, which keep the ones they use
    (registered there, or reported there); the class itself never runs them.
    """
    kinds = {id(b.value): model.self_kind(cls, b).tag for b in cls.self_assigns if b.method == "__init__"}
    reads = 0
    for m, occ in use_index(model).family_reads(cls, a.attr):
        p = m.parent.get(id(occ))
        if isinstance(p, cst.AssignTarget) and p.target is occ:
            continue
        if m.meth.name != "__init__" or not (isinstance(p, cst.Arg) and p.value is occ and p.star != "*"):
            return False
        call = m.parent.get(id(p))
        if kinds.get(id(call)) not in (Tag.LAYER, Tag.REGISTERED):
            return False  # handed to a function, or a call whose result is not stored as a sub-module
        reads += 1
    return reads > 0


def _construction_only(model: FileModel, cls: ClassFacts, a: SelfAssign) -> bool:
    """Only the methods that build the module read the container (``__init__`` and the methods only it calls),
    and no code of this file reads an attribute of that name on anything but ``self``.

    ``self.models = [GP(...) for ...]`` used in ``__init__`` to select the training data, then never again:
    once built, nothing runs those layers, so ``parameters()``, ``state_dict()`` and ``.to()`` lose nothing
    the module uses.
    """
    idx = use_index(model)
    build = idx.construction_methods(cls)
    reads = 0
    for m, occ in idx.family_reads(cls, a.attr):
        p = m.parent.get(id(occ))
        if isinstance(p, (cst.AssignTarget, cst.AnnAssign)) and p.target is occ:
            continue
        if m.meth.name not in build:
            return False
        if _uses_items(m, occ):
            reads += 1  # filling or reordering it is not using it: a container only ever filled is reported
    return reads > 0 and a.attr not in _foreign_attribute_names(model)


def _uses_items(m, occ: cst.Attribute) -> bool:
    """``self.x[i]`` read, ``f(self.x)`` / ``f(*self.x)``, ``for v in self.x``: the container's layers are used."""
    p = m.parent.get(id(occ))
    if isinstance(p, cst.Subscript) and p.value is occ:
        t = m.parent.get(id(p))
        return not (isinstance(t, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.Del)) and t.target is p)
    if isinstance(p, cst.Arg) and p.value is occ:
        return True
    return isinstance(p, (cst.For, cst.CompFor)) and p.iter is occ


_ATTRIBUTE = re.compile(r"(\w*)\s*\.\s*([A-Za-z_]\w*)")
_IMPORT_LINE = re.compile(r"^[ \t]*(?:from|import)[ \t][^\n]*", re.M)


def _foreign_attribute_names(model: FileModel) -> frozenset[str]:
    """Attribute names this file reads on something other than ``self`` (``net.blocks``), memoised per file.

    Read from the whole text (``source_code()``: an editor's incremental check never reuses a finding that
    depends on it); names in strings and comments count too, which only keeps the exemption from applying.
    """
    got = model.__dict__.get("_foreign_attrs")
    if got is None:
        text = _IMPORT_LINE.sub("", model.source_code())  # dotted module paths are not attribute reads
        got = model._foreign_attrs = frozenset(m.group(2) for m in _ATTRIBUTE.finditer(text) if m.group(1) != "self")
    return got


def _keyword_config(model: FileModel, cls: ClassFacts, attr: str) -> bool:
    """Every read of the dict is ``**self.<attr>`` in a call: keyword arguments handed to constructors.

    ``self.kw = dict(act=act_layer, k=3)`` then ``Block(**self.kw)``: a layer
    in it reaches the model only through the callee, which registers it as its
    own attribute; the dict itself is configuration.
    """
    reads = 0
    for m, occ in use_index(model).family_reads(cls, attr):
        p = m.parent.get(id(occ))
        if isinstance(p, cst.AssignTarget) and p.target is occ:
            continue
        if not (isinstance(p, cst.Arg) and p.star == "**" and p.value is occ):
            return False
        reads += 1
    return reads > 0


def container_items(e: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The element expressions of a container display, comprehension or ``list(...)``; None when unknown."""
    if isinstance(e, (cst.List, cst.Tuple, cst.Set)):
        if any(isinstance(el, cst.StarredElement) for el in e.elements):
            return None
        return [el.value for el in e.elements]
    if isinstance(e, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        return [e.elt]
    if isinstance(e, cst.Dict):
        if any(isinstance(el, cst.StarredDictElement) for el in e.elements):
            return None
        return [el.value for el in e.elements]
    if isinstance(e, cst.DictComp):
        return [e.value]
    if isinstance(e, cst.Call) and isinstance(e.func, cst.Name) and e.func.value in ("list", "tuple", "dict"):
        if not e.args:
            return []
        if e.func.value == "dict" and all(a.keyword is not None for a in e.args):
            return [a.value for a in e.args]
        return container_items(e.args[0].value) if len(e.args) == 1 and e.args[0].keyword is None else None
    return None


def _only_stateless_modules(model: FileModel, cls: ClassFacts, a: SelfAssign) -> bool:
    """Every module the container ever holds is a stateless, mode-free torch layer (``nn.ReLU()``, ``nn.Identity()``).

    Such layers have no parameters or buffers and behave the same in
    ``train()`` and ``eval()``: registering them would change nothing that
    ``.to()``, ``.half()``, ``state_dict()`` or ``.eval()`` does.
    """
    if any(c.name == a.attr for c in cls.self_calls):
        return False  # `self.pool = (nn.AvgPool2d(2),)` then `self.pool(x)`: the container itself is called
    items = container_items(a.value)
    if items is None:
        return False
    exprs = [(e, a.scope, a.order) for e in items]
    for m in cls.mutations:
        if m.attr == a.attr:
            more = [m.value] if m.op == "elem" else container_items(m.value)
            if more is None:
                return False
            exprs.extend((e, m.scope, m.order) for e in more)
    modules = 0
    for e, scope, order in exprs:
        k = model.kind_of(e, scope, order)
        if k.tag in (Tag.LIST, Tag.DICT):
            return False  # nested containers: keep it simple
        if k.tag not in (Tag.LAYER, Tag.REGISTERED):
            continue
        if not _stateless_call(model, e):
            return False
        modules += 1
    return modules > 0


def _stateless_call(model: FileModel, e: cst.BaseExpression) -> bool:
    """A call that builds a stateless, mode-free torch layer (``known.stateless_layer`` for its arguments)."""
    return isinstance(e, cst.Call) and known.stateless_layer(
        model.qualify(e.func), positional=sum(1 for x in e.args if x.keyword is None and not x.star),
        keywords=frozenset(x.keyword.value for x in e.args if x.keyword is not None),
        star=any(x.star for x in e.args))


def _constants_converted_at_use(model: FileModel, cls: ClassFacts, a: SelfAssign) -> bool:
    """A plain list of *constant modules* (``resolver.constant_module``: only buffers and stateless layers made in
    ``__init__``, no Parameter, nothing written later -- a filter bank) that every read after construction
    iterates, converting each item to a tensor before any other use (``for f in self.banks: f.to(x).analysis(x)``,
    or ``.to(device=..., dtype=...)``).

    Registering it would change nothing: there is no weight to train, a new instance rebuilds every buffer from
    the same arguments (so ``state_dict()`` has nothing to restore), the items have no ``train()``/``eval()``
    behaviour, and each use moves and casts the item itself (``Module.to(tensor)`` takes the tensor's device and
    dtype). One item moved but not cast (``f.to(x.device)``) is still reported: after ``.half()`` its fp32 buffers
    meet half inputs.
    """
    items = container_items(a.value)
    if not items or any(c.name == a.attr for c in cls.self_calls) or any(m.attr == a.attr for m in cls.mutations):
        return False
    constants = 0
    for e in items:
        if not isinstance(e, cst.Call):
            return False
        if _stateless_call(model, e):
            continue
        if not _constant_class(model, e.func, model.qualify(e.func)):
            return False
        constants += 1
    if not constants:
        return False
    idx = use_index(model)
    runtime = {id(meth) for _, meth in idx.runtime_methods(cls)}
    reads = 0
    for m, occ in idx.family_reads(cls, a.attr):
        if id(m.meth) not in runtime:
            continue
        loop = m.parent.get(id(occ))
        if not (isinstance(loop, (cst.For, cst.CompFor)) and loop.iter is occ and isinstance(loop.target, cst.Name)):
            return False
        var = loop.target.value
        scope = loop.body if isinstance(loop, cst.For) else loop  # [b.to(x).f(x) for b in self.banks]
        while isinstance(loop, cst.CompFor) and isinstance(m.parent.get(id(scope)), cst.CompFor):
            scope = m.parent[id(scope)]
        if isinstance(loop, cst.CompFor):
            scope = m.parent.get(id(scope), scope)  # the comprehension: its element reads the variable
        first, last = m.index[id(scope)], m.end[id(scope)]
        for n in m.nodes[first:last + 1]:
            if isinstance(n, cst.Name) and n.value == var and not _converted(m, n) and n is not loop.target:
                return False
        reads += 1
    return reads > 0


def _converted(m, name: cst.Name) -> bool:
    """``name.to(x)`` (a tensor: its device and dtype) or ``name.to(device=..., dtype=...)``."""
    attr = m.parent.get(id(name))
    call = m.parent.get(id(attr)) if isinstance(attr, cst.Attribute) else None
    if not (isinstance(attr, cst.Attribute) and attr.value is name and attr.attr.value == "to"
            and isinstance(call, cst.Call) and call.func is attr):
        return False
    pos = [x.value for x in call.args if x.keyword is None and not x.star]
    kws = {x.keyword.value for x in call.args if x.keyword is not None}
    if {"device", "dtype"} <= kws and not pos:
        return True
    if len(pos) != 1 or kws - {"non_blocking", "copy"}:
        return False
    arg = pos[0]
    if isinstance(arg, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Integer)):
        return False  # "cuda", 0: a device only
    if isinstance(arg, cst.Attribute) and arg.attr.value in ("device", "dtype"):
        return False  # x.device: moved, not cast
    if isinstance(arg, cst.Call) or (isinstance(arg, cst.Attribute) and isinstance(arg.value, cst.Name)
                                     and arg.value.value in ("torch",)):
        return False  # torch.device(...), torch.float16
    return True


def _constant_class(model: FileModel, func: cst.BaseExpression, q: str | None) -> bool:
    """Is the called class a constant module, read from disk (another file) or from this file's source?"""
    if isinstance(func, cst.Name) and func.value not in model.imports:
        local = next((c for c in model.modules if c.name == func.value), None)
        if local is None or local.in_function:
            return False
        try:  # the class's own code (not the whole file's: edits elsewhere leave this answer alone)
            tree = ast.parse(textwrap.dedent(cst.Module(body=[]).code_for_node(local.node)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
        node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == func.value), None)
        imports = model.imports

        def qualify(e: ast.expr) -> str:
            d = ast.unparse(e) if isinstance(e, (ast.Name, ast.Attribute)) else ""
            return (imports.qualify(d) or d) if d else "?"

        return node is not None and constant_module(node, qualify)
    return bool(q) and model.resolver is not None and model.resolver.constant_module(q)


#: annotations that declare a plain container (``typing`` and builtin spellings)
_PLAIN_ANNOTATIONS = frozenset({"List", "list", "Tuple", "tuple", "Dict", "dict", "Sequence", "MutableSequence",
                                "Mapping", "MutableMapping", "DefaultDict", "defaultdict", "OrderedDict", "Iterable"})


def _plain_annotation(ann: cst.BaseExpression) -> bool:
    """``List[nn.Module]``, ``list[Layer]``, ``Dict[str, nn.Module]``, ``Optional[List[...]]``, ``typing.List[...]``."""
    if isinstance(ann, cst.Subscript):
        head = dotted_name(ann.value) or ""
        last = head.rsplit(".", 1)[-1]
        if last == "Optional" and len(ann.slice) == 1 and isinstance(ann.slice[0].slice, cst.Index):
            return _plain_annotation(ann.slice[0].slice.value)
        return last in _PLAIN_ANNOTATIONS and head.split(".")[0] in (last, "typing", "collections")
    if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):  # List[X] | None
        sides = [x for x in (ann.left, ann.right) if not (isinstance(x, cst.Name) and x.value == "None")]
        return len(sides) == 1 and _plain_annotation(sides[0])
    return False


def declared_plain(cls: ClassFacts, attr: str) -> bool:
    """The class declares ``self.<attr>`` a plain container: ``self.x: List[nn.Module] = []`` (in any method).

    An explicit plain-container annotation is the author's statement that the
    container is deliberately not registered (sharded models keep per-rank
    copies, communication modules and fused kernels' views out of the
    registry this way). torch treats it like any plain list — the annotation is
    taken as the author's opt-out, like a ``noqa`` with a reason.
    """
    for a in cls.self_assigns:
        if a.attr == attr and isinstance(a.node, cst.AnnAssign) and _plain_annotation(a.node.annotation.annotation):
            return True
    return False


def _replaces(model: FileModel, cls: ClassFacts, a: SelfAssign, b: SelfAssign) -> bool:
    """May the registered value ``b`` (same attribute) take the place of the plain container ``a``?

    Not when ``b`` comes earlier in the same method (assigning the list then raises ``TypeError:
    cannot assign 'list' as child module``), nor when ``a`` is in ``__init__`` and ``b`` in a method that
    ``__init__`` never calls (a ``reset``/``reset_classifier`` run later, if ever: right after construction
    the Module holds the unregistered list) -- followed through ``self.<name>(...)`` calls of the class and
    its same-file bases, and only when every base is in the file or a framework class (a base we cannot see
    may call the method).
    """
    if b.method == a.method:
        return b.order > a.order
    if a.method != "__init__":
        return True
    chain = (cls, *cls.ancestors())
    if any(c.unknown_bases or any(not known.framework_of_class(q) for q in c.framework_bases) for c in chain):
        return True
    if any(sc.name == "setattr" and _may_name(sc.node, a.attr) for c in chain for sc in c.self_calls):
        return True
    reached = self_call_closure(chain, {"__init__"})
    for c in chain:  # self.apply(self._init_weights) runs that method too; another function passed to apply may do anything
        for sc in c.self_calls:
            if sc.name == "apply" and sc.method in reached:
                fn = sc.node.args[0].value if sc.node.args else None
                if not (isinstance(fn, cst.Attribute) and isinstance(fn.value, cst.Name) and fn.value.value == "self"):
                    return True
                reached |= self_call_closure(chain, {fn.attr.value})
    return b.method in reached


def _may_name(node: cst.Call, attr: str) -> bool:
    """May ``setattr(self, <name>, ...)`` set ``attr``? Not when the name is another literal, nor an f-string
    whose literal start ``attr`` does not have (``f"pos_embed_{i}"``)."""
    args = [x for x in node.args if x.keyword is None]
    if len(args) < 2 or args[1].star:
        return True
    name = args[1].value
    if isinstance(name, cst.SimpleString):
        return name.evaluated_value == attr
    if isinstance(name, cst.FormattedString) and name.parts and isinstance(name.parts[0], cst.FormattedStringText):
        return attr.startswith(name.parts[0].value)
    return True


# --- the fix: wrap the container expression in the registering container -------------------------


@dataclass(frozen=True)
class Wrapper:
    """A registering container a plain one can be wrapped in, and what it accepts."""

    qualified: str
    #: every element must be one of these (ModuleList([1]) raises; ParameterList turns tensors into Parameters)
    elems: frozenset[Tag]
    #: list/tuple/dict methods the wrapper lacks: a call of one on the attribute would raise after the fix
    lacks: frozenset[str]
    #: for dict wrappers: attribute names refused as keys (``KeyError: attribute 'keys' already exists``)
    reserved: frozenset[str] | None = None
    #: ParameterTuple is immutable: no fix when the attribute is appended to
    mutable: bool = True


_LAYER = frozenset({Tag.LAYER})
_PARAM = frozenset({Tag.PARAMETER})
# measured: public methods of list/tuple (dict) that the wrapper lacks, torch 2.13 and MindSpore 2.10
WRAPPERS = {
    w.qualified: w
    for w in (
        Wrapper("torch.nn.ModuleList", _LAYER, frozenset("clear copy count index remove reverse sort".split())),
        Wrapper("torch.nn.ParameterList", _PARAM, frozenset("clear copy count index insert pop remove reverse sort".split())),
        Wrapper("torch.nn.ModuleDict", _LAYER, frozenset("copy fromkeys get popitem setdefault".split()), TORCH_MODULE_ATTRS),
        Wrapper("torch.nn.ParameterDict", _PARAM, frozenset(), TORCH_MODULE_ATTRS),
        Wrapper("mindspore.nn.CellList", _LAYER, frozenset("clear copy count index pop remove reverse sort".split())),
        Wrapper("mindspore.nn.CellDict", _LAYER, frozenset("copy fromkeys get popitem setdefault".split()), MINDSPORE_CELLDICT_ATTRS),
        Wrapper(
            "mindspore.ParameterTuple",
            _PARAM,
            frozenset("append clear copy extend insert pop remove reverse sort".split()),
            mutable=False,
        ),
    )
}

_ADDING = ("append", "extend", "insert", "setdefault")


def _key_ok(key: cst.BaseExpression, reserved: frozenset[str]) -> bool:
    """A literal key the registering dict would refuse (not a string, empty, dotted, an attribute name)?"""
    if isinstance(key, cst.SimpleString):
        k = key.evaluated_value
        return isinstance(k, str) and bool(k) and "." not in k and not k.startswith("_") and k not in reserved
    if isinstance(key, (cst.Integer, cst.Float, cst.Imaginary)):
        return False
    if isinstance(key, cst.Name) and key.value in ("True", "False", "None"):
        return False
    return True  # a variable or f-string: not knowable, the fix is unsafe anyway


def _keys_ok(pc: PlainContainer, reserved: frozenset[str]) -> bool:
    value = pc.assign.value
    keys: list[cst.BaseExpression] = []
    if isinstance(value, cst.Dict):
        keys += [el.key for el in value.elements if isinstance(el, cst.DictElement)]
    elif isinstance(value, cst.DictComp):
        keys.append(value.key)
    elif isinstance(value, cst.Call):
        for arg in value.args:
            if arg.keyword is not None:
                keys.append(cst.SimpleString(repr(arg.keyword.value)))
    for m in pc.cls.mutations:
        if m.attr == pc.assign.attr and isinstance(m.node, cst.Assign):
            target = m.node.targets[0].target
            if isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                keys.append(target.slice[0].slice.value)
    return all(_key_ok(k, reserved) for k in keys)


def _self_attr_method(func: cst.BaseExpression, self_name: str | None, attr: str) -> str | None:
    """``self.<attr>.<method>`` -> method."""
    if (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Attribute)
        and func.value.attr.value == attr
        and isinstance(func.value.value, cst.Name)
        and func.value.value.value == self_name
    ):
        return func.attr.value
    return None


def _uses_missing_method(model: FileModel, pc: PlainContainer, w: Wrapper) -> bool:
    for cs in model.calls:
        if cs.cls is pc.cls and cs.method is not None:
            m = _self_attr_method(cs.node.func, cs.method.self_name, pc.assign.attr)
            if m is not None and (m in w.lacks or (not w.mutable and m in _ADDING)):
                return True
    return False


def _settled(model: FileModel, name: str, a: SelfAssign) -> bool:
    """``self.x = name``: does the list ``name`` stay as it is once assigned?

    ``nn.ModuleList(name)`` copies the list; later ``name.append(...)`` would
    no longer reach the attribute.  Certain only when every element added to
    ``name`` is added by a call before the assignment and nothing calls a
    method on ``name`` afterwards.
    """
    bound = model.value_binding(name, a.scope, a.order)
    if bound is None:
        return False
    _, scope, _ = bound
    calls = [
        cs
        for cs in model.calls
        if cs.scope is scope and isinstance(cs.node.func, cst.Attribute)
        and isinstance(cs.node.func.value, cst.Name) and cs.node.func.value.value == name
    ]
    if scope is not a.scope:
        return not calls and name not in scope.adds
    if any(cs.order > a.order for cs in calls):
        return False
    adds = [cs for cs in calls if cs.node.func.attr.value in _ADDING]  # type: ignore[union-attr]
    return len(adds) == len(scope.adds.get(name, ()))


def _as_argument(value: cst.BaseExpression) -> cst.BaseExpression | None:
    """What goes inside ``Wrapper(...)``: None for an empty display, a list for a tuple display."""
    if isinstance(value, (cst.List, cst.Dict)) and not value.elements and not value.lpar:
        ws = value.lbracket.whitespace_after if isinstance(value, cst.List) else value.lbrace.whitespace_after
        if isinstance(ws, cst.SimpleWhitespace) and not ws.value:
            return None
    if isinstance(value, cst.Call) and not value.args and isinstance(value.func, cst.Name):
        return None  # list() / dict() / OrderedDict()
    if isinstance(value, cst.Tuple) and len(value.lpar) <= 1:
        if value.lpar:
            return cst.List(
                value.elements,
                lbracket=cst.LeftSquareBracket(whitespace_after=value.lpar[0].whitespace_after),
                rbracket=cst.RightSquareBracket(whitespace_before=value.rpar[0].whitespace_before),
            )
        return cst.List(value.elements)
    return value


def _fresh_container_call(model: FileModel, value: cst.Call) -> bool:
    """``list(...)``, ``tuple(...)``, ``dict(...)``, ``OrderedDict(...)``: a new container."""
    if isinstance(value.func, cst.Name) and value.func.value in ("list", "tuple", "dict") and value.func.value not in model.imports:
        return value.func.value not in model.module_scope.bindings and value.func.value not in model.functions
    return model.qualify(value.func) == "collections.OrderedDict"


def registered_parameters(kind: Kind) -> bool:
    """A registering container that holds Parameters and is no Module/Cell (MindSpore's ``ParameterTuple``)."""
    return kind.tag is Tag.REGISTERED and kind.holds(Tag.PARAMETER) and kind.framework == "mindspore"


def _fits(elem: Kind, w: Wrapper, framework: str | None) -> bool:
    """Can the wrapper hold this element? torch's registering containers (``nn.Sequential()``) are Modules too."""
    if elem.framework not in (None, framework):
        return False
    if elem.tag is Tag.REGISTERED:  # a registering container is a Module/Cell, but MindSpore's ParameterTuple is not
        return Tag.LAYER in w.elems and not registered_parameters(elem)
    return elem.tag in w.elems


_FIXABLE_VALUES = (cst.List, cst.Tuple, cst.ListComp, cst.Dict, cst.DictComp, cst.Call, cst.BinaryOperation, cst.Name)


def wrap_fix(model: FileModel, pc: PlainContainer, qualified: str) -> Fix | None:
    """``self.x = <plain container>`` -> ``self.x = Wrapper(<plain container>)``, when certain."""
    w = WRAPPERS[qualified]
    a = pc.assign
    if simple_assign(a) is None or not isinstance(a.value, _FIXABLE_VALUES):
        return None
    if (pc.kind.tag is Tag.DICT) != (w.reserved is not None):
        return None  # MindSpore has no ParameterDict: ParameterTuple({...}) would hold the keys
    if not ancestry_takes_children(pc.cls):
        return None
    if not pc.kind.elems or not all(_fits(e, w, pc.cls.framework) for e in pc.kind.elems):
        return None
    if isinstance(a.value, cst.Call) and not _fresh_container_call(model, a.value):
        return None  # a helper function's result: is it a fresh list, or one kept (and changed) elsewhere too?
    if not w.mutable and any(m.attr == a.attr for m in pc.cls.mutations):
        return None
    if w.reserved is not None and not _keys_ok(pc, w.reserved):
        return None
    if isinstance(a.value, cst.Name) and not _settled(model, a.value.value, a):
        return None
    if _uses_missing_method(model, pc, w):
        return None
    spelled = spell(model, qualified, a.scope)
    if spelled is None:
        return None
    text, imports = spelled
    arg = _as_argument(a.value)
    new = call(text, *(() if arg is None else (arg,)))
    return Fix(((a.value, new),), Applicability.UNSAFE, title=f"wrap 'self.{a.attr}' in {text}(...)", imports=imports)
