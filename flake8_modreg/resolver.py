"""What an imported name is, read lazily from disk: one resolver for every surface.

The flake8 plugin, the language server, ``modreg check`` and the pre-commit
hook all check one file at a time, but the file's imports point elsewhere:
``from .conv_bn_act import ConvNormAct``, ``class Head(Base)`` with ``Base``
in a sibling, ``class Net(timm.layers.Mlp)`` from an installed package.  Given
the checked file's path, a :class:`Resolver` answers the model's questions
about such names:

* :meth:`Resolver.class_framework` -- is ``pkg.mod.Name`` a Module/Cell class
  (directly, through a chain of bases in any number of files, through a
  module-level alias ``Norm = nn.LayerNorm`` or ``partial(nn.X, ...)``)?
* :meth:`Resolver.call_kind` -- what does calling it return: a layer, a
  registering container, a tensor (a function whose every non-``None``
  return is such a call), or unknown.
* :meth:`Resolver.class_defines` -- does a class of another file (or one of
  its bases) bind a method or attribute name (MRG301/302/501)?
* :meth:`Resolver.class_state` -- does every instance of it hold parameters
  or buffers (its ``__init__`` stores them on every run; MRG403)?

Where names are looked for, in order: the directory holding the checked
file's top package (the ``__init__.py`` chain above it; the file's own
directory for a script), the project directory above it (the nearest
``pyproject.toml``/``setup.py``/``setup.cfg``/``.git``) and its ``src/``,
then the running interpreter's ``sys.path`` (installed packages).  torch,
MindSpore and the standard library are never read: their names are known
(``known.py``) or define no Modules.

Only the names the model asks about are resolved.  Each file read is reduced
to a small summary by Python's ``ast`` (imports, top-level classes and their
bases, module-level aliases, what top-level functions return), memoised per
process (re-validated by ``stat``) and kept in an on-disk cache keyed by path,
size, mtime, the module name the ``__init__.py`` files above the file give it,
and tool version, shared by flake8's workers, the CLI and the language server
(other versions' entries, and entries unused for 30 days, are pruned once a
day).  Every answer is certain or ``None``: an unresolvable import,
a decorated function, a return of a parameter all make the answer unknown.

Each per-file resolver records which files (and which summary of each) it
consulted: :meth:`Resolver.consulted` is what a result cache must key on.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import sys
import tempfile
import time
import warnings
from typing import Any, Callable, Iterable

from . import __version__, known

#: bump when the summary format or its meaning changes
SUMMARY_FORMAT = 21
_MAX_DEPTH = 24
_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
#: top-level packages never read from disk: their names are known, or they define no Module/Cell
_NOT_READ = frozenset({"torch", "mindspore", "__future__", "builtins"}) | frozenset(getattr(sys, "stdlib_module_names", ()))
_UNKNOWN = "?"
#: summary cache upkeep: a used entry is re-stamped after a day; unused for 30 days it goes; checked daily
_TOUCH_AFTER = 86400
_PRUNE_AFTER = 30 * 86400
_PRUNE_EVERY = 86400
_NONE = "None"

# --- summaries ------------------------------------------------------------------------------------


def module_name_for(path: str) -> tuple[str, bool]:
    """``(dotted module name, is_package)`` of a file, from the ``__init__.py`` files above it."""
    p = os.path.abspath(path)
    d, name = os.path.split(p)
    is_package = name == "__init__.py"
    parts = [] if is_package else [os.path.splitext(name)[0]]
    while os.path.isfile(os.path.join(d, "__init__.py")) and os.path.basename(d).isidentifier():
        parts.append(os.path.basename(d))
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    if not parts:  # a top-level __init__.py outside any package
        parts = [os.path.basename(os.path.dirname(p))]
    return ".".join(reversed(parts)), is_package


def _absolutize(qualified: str, module: str, is_package: bool) -> str:
    if not qualified.startswith("."):
        return qualified
    level = len(qualified) - len(qualified.lstrip("."))
    parts = module.split(".")
    keep = len(parts) - level + (1 if is_package else 0)
    if keep < 1:  # beyond the top-level package: an ImportError at run time
        return _UNKNOWN
    rest = qualified[level:]
    return ".".join([*parts[:keep], rest] if rest else parts[:keep])


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _walk_body(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Top-level statements, through ``if``/``try``/``with`` blocks (not into defs)."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)) or node.__class__.__name__ == "TryStar":
            yield from _walk_body(getattr(node, "body", []))
            yield from _walk_body(getattr(node, "orelse", []))
            for h in getattr(node, "handlers", []):
                yield from _walk_body(h.body)
            yield from _walk_body(getattr(node, "finalbody", []))


_ENTRY_NAMES = frozenset({"forward", "construct"})


#: the attributes a decorator may set on the class it hands back without changing what the class does
_DOC_ATTRS = frozenset({"__doc__", "__name__", "__qualname__", "__module__"})


def _bound_targets(n: ast.AST) -> list[ast.expr]:
    """The assignment targets of a statement (``a = b = v``, ``for t in``, ``with ... as t``, ``del t``), flattened."""
    if isinstance(n, ast.Assign):
        roots = list(n.targets)
    elif isinstance(n, (ast.AnnAssign, ast.AugAssign, ast.For, ast.comprehension, ast.NamedExpr)):
        roots = [n.target]
    elif isinstance(n, ast.Delete):
        roots = list(n.targets)
    elif isinstance(n, ast.With):
        roots = [i.optional_vars for i in n.items if i.optional_vars is not None]
    else:
        return []
    out: list[ast.expr] = []
    while roots:
        t = roots.pop()
        if isinstance(t, (ast.Tuple, ast.List)):
            roots.extend(t.elts)
        elif isinstance(t, ast.Starred):
            roots.append(t.value)
        else:
            out.append(t)
    return out


def _bound_names(n: ast.AST) -> list[str]:
    """Names an import or an ``except ... as`` binds."""
    if isinstance(n, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".", 1)[0] for a in n.names]
    if isinstance(n, ast.ExceptHandler) and n.name:
        return [n.name]
    return []


def _statements(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """The statements of a body and of the blocks nested in it (``if``/``for``/``with``/``try``...), not entering
    nested defs or classes, nor expressions (cheaper than a walk of every node)."""
    stack = list(reversed(body))
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            stack.extend(reversed(getattr(n, field, ())))
        for h in getattr(n, "handlers", ()):
            stack.extend(reversed(h.body))
        for c in getattr(n, "cases", ()):
            stack.extend(reversed(c.body))


def _init_binds(fn: ast.FunctionDef) -> list[tuple[str, ast.expr | None]]:
    """``(attr, value)`` for every ``self.<attr>`` a statement of ``__init__`` binds (nested blocks included):
    ``value`` is what ``self.<attr> = value`` (annotated or not) assigns, None for any other binding (augmented,
    part of a tuple target, chained through a subscript)."""
    if not fn.args.args:
        return []
    me = fn.args.args[0].arg
    out: list[tuple[str, ast.expr | None]] = []
    for n in _statements(fn.body):
        if isinstance(n, ast.Assign):
            targets = n.targets
        elif isinstance(n, (ast.AnnAssign, ast.AugAssign)) and n.value is not None:
            targets = [n.target]
        else:
            continue
        for t in targets:
            for x in ast.walk(t):
                if isinstance(x, ast.Attribute) and isinstance(x.value, ast.Name) and x.value.id == me:
                    out.append((x.attr, n.value if x is t and not isinstance(n, ast.AugAssign) else None))
    return out


def _function_nodes(fn: ast.AST) -> Iterable[ast.AST]:
    """Every node of a function's body, not entering nested defs, classes or lambdas."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(n))


#: a member marker (not an identifier): the class's ``__call__`` hands on to ``super().__call__`` / ``Base.__call__``
CALLS_SUPER = "__call__:super"
#: and one whose ``__call__`` replaces it (no ``super().__call__``): Module.__call__'s hooks never run
CALLS_OWN = "__call__:own"


_RANDOM_TORCH = frozenset({"rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial", "poisson",
                           "rand_like", "randn_like", "randint_like"})
_RANDOM_METHODS = frozenset({"normal_", "uniform_", "random_", "bernoulli_", "exponential_", "geometric_",
                             "cauchy_", "log_normal_"})


def _random_call(q: str, func: ast.expr) -> bool:
    """A call that draws random numbers (``torch.randn``, ``np.random.*``, ``random.*``, ``nn.init.*``, ``t.normal_()``)."""
    if q.startswith(("numpy.random.", "random.", "torch.nn.init.", "torch.distributions.")):
        return True
    if q.startswith("torch.") and q.rsplit(".", 1)[-1] in _RANDOM_TORCH:
        return True
    return isinstance(func, ast.Attribute) and func.attr in _RANDOM_METHODS


def constant_module(node: ast.ClassDef, qualify: Callable[[ast.expr], str]) -> bool:
    """Does every instance of this ``nn.Module`` subclass hold only constants its ``__init__`` makes from the
    arguments -- buffers (at least one, nothing random drawn), plain values and stateless torch layers -- with no
    Parameter, no sub-module that may hold one, and nothing written after ``__init__``? (A filter bank: registering it or not
    changes no trained value, and a fresh instance rebuilds every buffer; ``.to(x)`` at the use converts it whole.)

    Only a class whose bases are ``torch.nn.Module`` itself and that is not decorated; every method is read:
    ``register_parameter``/``add_module``/``register_module``/``nn.Parameter`` anywhere, ``register_buffer``
    or any ``self.<x> = ...`` / ``self.<x>[i] = ...`` outside ``__init__``, an in-place call on ``self.<x>``
    (``self.f.copy_(...)``, ``nn.init.zeros_(self.f)``) outside ``__init__``, and a call stored in ``__init__``
    that is neither a stateless torch layer nor a function of torch/numpy/math make it not one."""
    if node.decorator_list or not node.bases or any(known.normalize(qualify(b)) != "torch.nn.Module" for b in node.bases):
        return False
    init = _init_def(node, qualify)
    if init is None or not init.args.args:
        return False
    buffers = 0
    for fn in node.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not fn.args.args:
            continue
        me, in_init = fn.args.args[0].arg, fn is init
        for n in _function_nodes(fn):
            if isinstance(n, ast.Call):
                f = n.func
                on_self = isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == me
                if on_self and f.attr in ("register_parameter", "add_module", "register_module", "register_forward_hook"):
                    return False
                if on_self and f.attr == "register_buffer":
                    if not in_init:
                        return False
                    buffers += 1
                q = known.normalize(qualify(f))
                if q in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
                    return False
                if _random_call(q, f):
                    return False  # a random buffer is state: a new instance would not rebuild it
                if not in_init:
                    receiver = f.value if isinstance(f, ast.Attribute) else None
                    if (isinstance(receiver, ast.Attribute) and isinstance(receiver.value, ast.Name)
                            and receiver.value.id == me and f.attr.endswith("_") and not f.attr.startswith("_")):
                        return False  # self.f.copy_(...): written in place
                    if q.startswith("torch.nn.init.") and any(
                            isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name) and a.value.id == me
                            for a in n.args):
                        return False
            elif isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                for t in targets:
                    for x in ast.walk(t):
                        if not (isinstance(x, ast.Attribute) and isinstance(x.value, ast.Name) and x.value.id == me):
                            continue
                        if not in_init or x is not t:
                            return False
                        value = n.value
                        if isinstance(value, ast.Call):
                            q = known.normalize(qualify(value.func))
                            if known.framework_of_class(q):
                                if not known.stateless_layer(q, sum(1 for a in value.args if not isinstance(a, ast.Starred)),
                                                             frozenset(k.arg for k in value.keywords if k.arg),
                                                             any(isinstance(a, ast.Starred) for a in value.args)
                                                             or any(k.arg is None for k in value.keywords)):
                                    return False
                            elif not q.startswith(("torch.", "numpy.", "math.")):
                                return False
    return buffers > 0


def _delegates_call(fn: ast.AST) -> bool:
    """Does ``def __call__`` call ``super().__call__(...)`` or ``<Base>.__call__(self, ...)`` (hooks still run)?"""
    for n in ast.walk(fn):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "__call__":
            recv = n.func.value
            if isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "super":
                return True
            if isinstance(recv, (ast.Name, ast.Attribute)) and n.args and isinstance(n.args[0], ast.Name):
                return True  # nn.Module.__call__(self, ...)
    return False


def _init_def(node: ast.ClassDef, qualify: Callable[[ast.expr], str]) -> ast.FunctionDef | None:
    """The class's one ``def __init__(self, ...)`` (None when absent, repeated or decorated by anything but a
    framework wrapper that runs it unchanged, ``known.INIT_WRAPPERS``: MindSpore's ``@cell_attr_register``)."""
    init = [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    if len(init) != 1 or not init[0].args.args:
        return None
    for d in init[0].decorator_list:
        if qualify(d.func if isinstance(d, ast.Call) else d) not in known.INIT_WRAPPERS:
            return None
    return init[0]


def _class_members(node: ast.ClassDef) -> list[str]:
    """The names a class body binds (defs, assignments, imports, through ``if``/``try``), sorted; ``"@"`` first
    when the class is decorated (a decorator may add or replace any of them), ``"?"`` when the body binds names
    it cannot list (``exec``, ``locals()[...] = ...``, a star import)."""
    out: set[str] = set()
    for n in _walk_body(node.body):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
            if n.name == "__call__":
                out.add(CALLS_SUPER if _delegates_call(n) else CALLS_OWN)
        elif isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for t in n.targets if isinstance(n, ast.Assign) else [n.target]:
                if isinstance(t, ast.Name):
                    out.add(t.id)
                elif isinstance(t, (ast.Tuple, ast.List)):
                    out.update(x.id for x in ast.walk(t) if isinstance(x, ast.Name))
                else:
                    out.add(_UNKNOWN)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                out.add(_UNKNOWN if a.name == "*" else (a.asname or a.name).split(".", 1)[0])
        elif isinstance(n, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.While)) or (
            isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
        ):
            out.add(_UNKNOWN)  # names bound by loops or by calls in the class body: not listed
    return (["@"] if node.decorator_list else []) + sorted(out)


#: reads of a tensor that give Python metadata, not a tensor: ``t.shape``, ``t.requires_grad``, ``t.size()``, ...
_METADATA_ATTRS = frozenset({"shape", "dtype", "device", "requires_grad", "ndim", "is_cuda", "grad_fn", "layout",
                             "size", "dim", "numel", "item", "tolist", "is_contiguous", "data_ptr", "element_size",
                             "is_floating_point", "is_complex", "nelement", "get_device", "stride", "storage_offset"})
_METADATA_CALLS = frozenset({"len", "int", "float", "bool", "str", "isinstance", "type", "id", "hasattr", "getattr",
                             "range", "print", "repr"})
#: calls that make a tensor from sizes and a fill value (on a device of their own or the receiver's): no meet
_FACTORY_CALLS = frozenset({"new_full", "new_zeros", "new_ones", "new_empty", "new_tensor", "full", "zeros", "ones",
                            "empty", "arange", "linspace", "logspace", "eye", "tensor", "as_tensor", "full_like",
                            "zeros_like", "ones_like", "empty_like", "rand_like", "randn_like", "randint_like"})
_MEETING_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)


def _param_meets(fn: ast.FunctionDef | ast.AsyncFunctionDef, qualify: Callable[[ast.expr], str]) -> dict[str, Any] | None:
    """Which parameters of ``fn`` meet which others in a tensor operation: ``{"a": [names], "m": {i: [j, ...]}}``.

    Meet: values derived from two different parameters are the operands of arithmetic (``x * weight``, ``x += b``,
    ``x @ w``) or tensor arguments of one ``torch.*`` call or tensor method (``F.layer_norm(x, s, weight)``,
    ``x.mul(w)``). Derived: through locals and loop variables (flow-insensitive); a parameter read only as metadata
    (``w.shape``, ``w.requires_grad``, ``len(w)``, ``int(w)``, ``w.item()``) derives nothing. None without meets.
    """
    a = fn.args
    names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    if len(names) < 2 or len(names) > 64:
        return None
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(fn):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    taint: dict[str, set[int]] = {n: {i} for i, n in enumerate(names)}

    def metadata(n: ast.Name) -> bool:
        cur: ast.AST = n
        up, above = n, parents.get(id(n))
        while above is not None and above is not fn:  # an index (`table[idx]`): the result lives where the table does
            if isinstance(above, ast.Subscript) and up is above.slice:
                return True
            up, above = above, parents.get(id(above))
        p = parents.get(id(cur))
        while isinstance(p, ast.Subscript) and p.value is cur:  # feats[i].shape
            cur, p = p, parents.get(id(p))
        if isinstance(p, ast.Attribute) and p.attr in _METADATA_ATTRS:
            return True
        return isinstance(p, ast.Call) and isinstance(p.func, ast.Name) and p.func.id in _METADATA_CALLS and cur in p.args

    def tainted(e: ast.AST | None) -> set[int]:
        out: set[int] = set()
        if e is None:
            return out
        for n in ast.walk(e):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in taint and not metadata(n):
                out |= taint[n.id]
        return out

    def guarded(node: ast.AST) -> set[int]:
        """The parameters whose ``.requires_grad`` an enclosing ``if`` (or conditional expression) tests true on the
        way to ``node``: a plain tensor's is False, so such a branch never uses it (``if bias.requires_grad: return
        x + bias``)."""
        out: set[int] = set()
        cur, p = node, parents.get(id(node))
        while p is not None and p is not fn:
            if isinstance(p, (ast.If, ast.IfExp)) and (cur in p.body if isinstance(p, ast.If) else cur is p.body):
                tests = p.test.values if isinstance(p.test, ast.BoolOp) and isinstance(p.test.op, ast.And) else [p.test]
                for t in tests:
                    if isinstance(t, ast.Attribute) and t.attr == "requires_grad" and isinstance(t.value, ast.Name):
                        out |= taint.get(t.value.id, set())
            cur, p = p, parents.get(id(p))
        return out

    binds: list[tuple[ast.AST, ast.AST]] = []  # (target, value)
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            binds += [(t, node.value) for t in node.targets]
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
            binds.append((node.target, node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            binds.append((node.target, node.iter))
    for _ in range(6):  # locals holding derived values, chains of them included
        grown = False
        for target, value in binds:
            got = tainted(value) - guarded(value)
            if not got:
                continue
            for n in ast.walk(target):
                if isinstance(n, ast.Name) and not got <= taint.setdefault(n.id, set()):
                    taint[n.id] |= got
                    grown = True
        if not grown:
            break
    meets: dict[int, set[int]] = {}

    def meet(groups: list[set[int]], at: ast.AST) -> None:
        skip = guarded(at)
        groups = [g - skip for g in groups]
        for x in range(len(groups)):
            for y in range(len(groups)):
                if x != y:
                    for i in groups[x]:
                        meets.setdefault(i, set()).update(j for j in groups[y] if j != i)

    for node in ast.walk(fn):
        if isinstance(node, ast.BinOp) and isinstance(node.op, _MEETING_OPS):
            meet([tainted(node.left), tainted(node.right)], node)
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, _MEETING_OPS):
            target = set(taint.get(node.target.id, ())) if isinstance(node.target, ast.Name) else tainted(node.target)
            meet([target, tainted(node.value)], node)
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in _FACTORY_CALLS:
                continue  # x.new_full(size, v), torch.full(size, v): sizes and a fill value, the receiver's device
            q = qualify(node.func) if not isinstance(node.func, ast.Attribute) or isinstance(node.func.value, ast.Name) else ""
            torch_call = isinstance(q, str) and q.startswith("torch.")
            receiver = tainted(node.func.value) if isinstance(node.func, ast.Attribute) and not torch_call else set()
            if torch_call or receiver:
                args = [x for x in node.args if not isinstance(x, ast.Starred)] + [k.value for k in node.keywords if k.arg]
                meet([receiver, *(tainted(x) for x in args)], node)
    meets = {i: js for i, js in meets.items() if js}
    if not meets:
        return None
    return {"a": names, "m": {str(i): sorted(js) for i, js in sorted(meets.items())}}


class _Summarizer:
    def __init__(self, tree: ast.Module, module: str, is_package: bool) -> None:
        self.tree, self.module, self.is_package = tree, module, is_package
        self.imports: dict[str, str] = {}
        self.stars: list[str] = []
        self.classes: dict[str, list[str]] = {}
        #: class -> the names its body binds (methods, class attributes), "@" first when it is decorated
        self.members: dict[str, list[str]] = {}
        self.functions: dict[str, list[str]] = {}
        #: class -> what its ``__init__`` surely stores (see ``_init_state``)
        self.state: dict[str, list] = {}
        self.aliases: dict[str, str] = {}
        #: function -> the functions that must also hand back what they are given, when it does (``_pass_through``)
        self.passes: dict[str, list[str]] = {}
        #: decorated class -> each decorator's qualified callee (``@d`` and ``@d(...)`` alike)
        self.decorators: dict[str, list[str]] = {}
        #: class -> entry point (``forward``/``construct``) defined in its body -> the entry names its body reads
        self.entries: dict[str, dict[str, list]] = {}
        #: class -> how its ``__init__`` calls ``super().__init__(...)`` (``_super_call``)
        self.supers: dict[str, dict[str, Any]] = {}
        #: class -> attribute its ``__init__`` binds to a call -> the qualified callee (``?`` when bound otherwise too)
        self.attrs: dict[str, dict[str, str]] = {}
        #: classes whose instances hold only constants made in ``__init__`` (``constant_module``)
        self.constants: list[str] = []
        #: class -> attribute its ``__init__`` binds to a ``device=None`` parameter -> every binding is one
        self.devices: dict[str, dict[str, bool]] = {}
        stmts = list(_walk_body(tree.body))
        bound: dict[str, int] = {}
        for node in stmts:
            if isinstance(node, ast.Import):
                for a in node.names:
                    local = a.asname or a.name.split(".", 1)[0]
                    self._bind(a.name if a.asname else local, local)
                    bound[local] = bound.get(local, 0) + 1
            elif isinstance(node, ast.ImportFrom):
                base = _absolutize("." * node.level + (node.module or ""), module, is_package) if node.level else node.module or ""
                for a in node.names:
                    if a.name == "*":
                        self.stars.append(base)
                        continue
                    local = a.asname or a.name
                    self._bind(f"{base}.{a.name}" if base != _UNKNOWN else _UNKNOWN, local)
                    bound[local] = bound.get(local, 0) + 1
            elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                bound[node.name] = bound.get(node.name, 0) + 1
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            bound[n.id] = bound.get(n.id, 0) + 1
        # names bound once at module level (a second binding makes the name unknown)
        self.local = {n for n, c in bound.items() if c == 1}
        self.defined = {n.name for n in stmts if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))}
        for node in stmts:
            if isinstance(node, ast.ClassDef) and node.name in self.local:
                self.classes[node.name] = [self.qualify(b) for b in node.bases]
                self.members[node.name] = _class_members(node)
                self.state[node.name] = self._init_state(node)
                sup = self._super_call(node)
                if sup is not None:
                    self.supers[node.name] = sup
                entries = {
                    f.name: sorted(_ENTRY_NAMES & {a.attr for a in ast.walk(f) if isinstance(a, ast.Attribute)})
                    for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name in _ENTRY_NAMES
                }
                if entries:
                    self.entries[node.name] = entries
                init = _init_def(node, self.qualify)
                binds = _init_binds(init) if init is not None else []
                attrs = self._init_attrs(binds)
                if attrs:
                    self.attrs[node.name] = attrs
                if constant_module(node, self.qualify):
                    self.constants.append(node.name)
                devices = self._init_devices(init, binds) if binds else {}
                if devices:
                    self.devices[node.name] = devices
                if node.decorator_list:
                    self.decorators[node.name] = [
                        self.qualify(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list
                    ]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in self.local:
                self.functions[node.name] = self._returns(node)
                needs = self._pass_through(node, 0)
                if needs is not None:
                    self.passes[node.name] = sorted(set(needs))
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id in self.local:
                    q = self._class_expr(node.value)
                    if q is not None:
                        self.aliases[targets[0].id] = q

    def _bind(self, qualified: str, local: str) -> None:
        old = self.imports.get(local)
        self.imports[local] = qualified if old in (None, qualified) else _UNKNOWN

    def qualify(self, node: ast.expr) -> str:
        if isinstance(node, ast.Subscript):  # Generic[T], Base[int]
            node = node.value
        dotted = _dotted(node)
        if dotted is None:
            return _UNKNOWN
        head, sep, rest = dotted.partition(".")
        if head in self.imports:
            q = self.imports[head]
            return _UNKNOWN if q == _UNKNOWN or head not in self.local else known.normalize(q + sep + rest)
        if head in self.defined or head in self.local:
            return f"{self.module}.{dotted}" if head in self.local else _UNKNOWN
        if self.stars:
            return "*" + dotted  # looked up in the star-imported modules, in order
        return dotted  # a builtin (object, Exception) or unbound

    def _init_state(self, node: ast.ClassDef) -> list:
        """What ``__init__`` stores on ``self`` on every run: its top-level statements up to the first that
        holds a ``return``. ``"!"`` for a ``register_buffer``/``register_parameter`` of a value other than
        ``None``; ``[callee, keyword names, has */**, positional count]`` for ``self.x = callee(...)`` (and for
        ``self.add_module(name, callee(...))``); ``["if", param, items]`` for the items of a top-level
        ``if <param>:`` / ``if self.<a>:`` block, ``self.<a> = <param>`` assigned before it (``if affine:
        self.weight = nn.Parameter(...)``): stored when the call keeps ``param`` at a True default; ``["for",
        items]`` for the items of a top-level ``for`` loop's body (layers added per element)."""
        fn = _init_def(node, self.qualify)
        if fn is None:
            return []
        me = fn.args.args[0].arg
        params = {x.arg for x in (*fn.args.posonlyargs, *fn.args.args[1:], *fn.args.kwonlyargs)}
        flags: dict[str, str] = {}  # self.<a> -> the parameter it was set from
        # parameters ``__init__`` binds again: their value at an ``if`` is no longer the caller's
        rebound = {t.id for x in ast.walk(fn) if isinstance(x, (ast.Assign, ast.AugAssign))
                   for t in (x.targets if isinstance(x, ast.Assign) else [x.target]) if isinstance(t, ast.Name)}
        out: list = []
        for stmt in fn.body:
            if any(isinstance(x, ast.Return) for x in ast.walk(stmt)):
                break
            if isinstance(stmt, ast.If):
                test = stmt.test
                param = test.id if isinstance(test, ast.Name) and test.id in params else None
                if (isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == me
                        and test.attr in flags):
                    param = flags[test.attr]
                if param is not None and param not in rebound:
                    inner = [i for st in stmt.body for i in self._stored(st, me)]
                    if inner:
                        out.append(["if", param, inner])
                continue
            if isinstance(stmt, (ast.For, ast.AsyncFor)) and not stmt.orelse:
                # layers added in a loop (``for k in kernel_sizes: self.add_module(str(i), Conv(...))``): stored for
                # every element; a module built over nothing would have nothing to compute with
                inner = [i for st in stmt.body for i in self._stored(st, me)]
                if inner:
                    out.append(["for", inner])
                continue
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Name)
                    and stmt.value.id in params and isinstance(stmt.targets[0], ast.Attribute)
                    and isinstance(stmt.targets[0].value, ast.Name) and stmt.targets[0].value.id == me):
                flags[stmt.targets[0].attr] = stmt.value.id
            out.extend(self._stored(stmt, me))
        return out

    def _init_attrs(self, binds: list[tuple[str, ast.expr | None]]) -> dict[str, str]:
        """``self.<attr> = <callee>(...)`` anywhere in ``__init__`` (``self.rotary_emb = RotaryEmbedding(cfg)``):
        attribute -> qualified callee; an attribute also bound to something else there is left out."""
        out: dict[str, str] = {}
        for attr, value in binds:
            q = self.qualify(value.func) if isinstance(value, ast.Call) else _UNKNOWN
            out[attr] = q if out.get(attr, q) == q else _UNKNOWN
        return {k: v for k, v in out.items() if v != _UNKNOWN}

    def _init_devices(self, fn: ast.FunctionDef, binds: list[tuple[str, ast.expr | None]]) -> dict[str, bool]:
        """Attributes ``__init__`` binds to a device: attribute -> True when every binding is a ``device=None``
        parameter (as is, ``torch.device(device)``, or ``device if device is not None else <cpu>``: PyTorch's
        factory-kwargs convention, built on the CPU unless asked), False when some binding is anything else. Only
        attributes bound to such a parameter at least once are listed."""
        a = fn.args
        pos = [*a.posonlyargs, *a.args]
        defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
        none = {x.arg for x, d in (*zip(pos, defaults), *zip(a.kwonlyargs, a.kw_defaults))
                if isinstance(d, ast.Constant) and d.value is None}

        def cpu(e: ast.expr) -> bool:
            if isinstance(e, ast.Constant):
                return e.value is None or e.value == "cpu"
            return (isinstance(e, ast.Call) and known.normalize(self.qualify(e.func)) == "torch.device" and len(e.args) == 1
                    and cpu(e.args[0]))

        def from_none(e: ast.expr) -> bool:
            if isinstance(e, ast.Name):
                return e.id in none
            if isinstance(e, ast.IfExp):
                return (from_none(e.body) or cpu(e.body)) and (from_none(e.orelse) or cpu(e.orelse)) and \
                    (from_none(e.body) or from_none(e.orelse))
            return (isinstance(e, ast.Call) and known.normalize(self.qualify(e.func)) == "torch.device"
                    and len(e.args) == 1 and from_none(e.args[0]))

        if not none:
            return {}
        out: dict[str, bool] = {}
        seen: set[str] = set()
        for attr, value in binds:
            ok = value is not None and from_none(value)
            out[attr] = ok and out.get(attr, True)
            if ok:
                seen.add(attr)
        return {k: v for k, v in out.items() if k in seen}

    def _stored(self, stmt: ast.stmt, me: str) -> list:
        """The state items of one statement of ``__init__`` (see ``_init_state``)."""
        value = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            t, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            t, value = stmt.target, stmt.value
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            f = stmt.value.func
            if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == me):
                return []
            args = stmt.value.args
            if (f.attr in ("register_buffer", "register_parameter") and len(args) >= 2
                    and not isinstance(args[1], ast.Starred)
                    and not (isinstance(args[1], ast.Constant) and args[1].value is None)):
                return ["!"]
            if f.attr in ("add_module", "register_module") and len(args) == 2 and not stmt.value.keywords \
                    and isinstance(args[1], ast.Call):
                t, value = ast.Attribute(value=ast.Name(id=me), attr="_"), args[1]  # as self.<name> = callee(...)
            else:
                return []
        else:
            return []
        if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me):
            return []
        if isinstance(value, ast.Call):
            q = self.qualify(value.func)
            if q != _UNKNOWN:
                star = any(isinstance(a, ast.Starred) for a in value.args) or any(k.arg is None for k in value.keywords)
                return [[q, sorted(k.arg for k in value.keywords if k.arg), star, len(value.args)]]
        return []

    def _super_call(self, node: ast.ClassDef) -> dict[str, Any] | None:
        """``class LayerNorm(nn.LayerNorm)`` whose ``__init__(self, c, eps=1e-6, affine=True, **kwargs)`` runs
        ``super().__init__(c, eps=eps, elementwise_affine=affine, **kwargs)`` as a top-level statement before any
        ``return``: ``{"k": {keyword: ["p", param] | ["c", literal] | "?"}, "s": passes *args/**kwargs, "n": positional
        count, "a": the parameters (``self`` aside) in order, "d": {param: its literal default}}`` (a bool, number,
        string or None literal; other defaults are left out). None when there is no such call."""
        fn = _init_def(node, self.qualify)
        if fn is None:
            return None
        a = fn.args
        pos = [x.arg for x in (*a.posonlyargs, *a.args)][1:]
        params = set(pos) | {x.arg for x in a.kwonlyargs}
        defaults: dict[str, Any] = {}
        for name, d in [*zip([x.arg for x in (*a.posonlyargs, *a.args)][-len(a.defaults):] if a.defaults else [],
                                a.defaults), *zip([x.arg for x in a.kwonlyargs], a.kw_defaults)]:
            if isinstance(d, ast.Constant) and (d.value is None or isinstance(d.value, (bool, int, float, str))):
                defaults[name] = d.value
        for stmt in fn.body:
            if any(isinstance(x, ast.Return) for x in ast.walk(stmt)):
                return None
            if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
                continue
            call = stmt.value
            f = call.func
            if not (isinstance(f, ast.Attribute) and f.attr == "__init__" and isinstance(f.value, ast.Call)
                    and isinstance(f.value.func, ast.Name) and f.value.func.id == "super"):
                continue
            kws: dict[str, Any] = {}
            for k in call.keywords:
                if k.arg is None:
                    continue
                v = k.value
                if isinstance(v, ast.Name) and v.id in params:
                    kws[k.arg] = ["p", v.id]
                elif isinstance(v, ast.Constant) and (v.value is None or isinstance(v.value, (bool, int, float, str))):
                    kws[k.arg] = ["c", v.value]
                else:
                    kws[k.arg] = "?"
            star = any(isinstance(x, ast.Starred) for x in call.args) or any(k.arg is None for k in call.keywords)
            return {"k": kws, "s": star, "n": len(call.args), "a": pos, "d": defaults}
        return None

    def _class_expr(self, value: ast.expr) -> str | None:
        """``nn.LayerNorm`` / ``partial(nn.BatchNorm2d, eps=1e-5)``: the class the value stands for."""
        if isinstance(value, ast.Call) and value.args and not isinstance(value.args[0], ast.Starred):
            if self.qualify(value.func) == "functools.partial":
                return self._class_expr(value.args[0])
            return None
        if isinstance(value, (ast.Name, ast.Attribute)):
            q = self.qualify(value)
            return None if q == _UNKNOWN else q
        return None

    def _returns(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
        """What the function returns: the qualified callee of each returned call, ``None``, or ``?``."""
        if fn.decorator_list or isinstance(fn, ast.AsyncFunctionDef):
            return [_UNKNOWN]  # a decorator may replace the function
        a = fn.args
        params = {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
        params |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
        assigned: dict[str, list[ast.expr]] = {}
        opaque: set[str] = set()
        returns: list[ast.expr | None] = []
        #: local name -> the values ``name.append(v)`` adds (a list built item by item and returned)
        appended: dict[str, list[ast.expr]] = {}
        for n in _function_nodes(fn):
            if isinstance(n, (ast.Yield, ast.YieldFrom)):
                return [_UNKNOWN]
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
                    and n.func.attr in ("append", "extend", "insert")):
                if n.func.attr == "append" and len(n.args) == 1 and not n.keywords:
                    appended.setdefault(n.func.value.id, []).append(n.args[0])
                else:
                    appended.setdefault(n.func.value.id, []).append(ast.Constant(value=...))  # items not followed
            if isinstance(n, ast.Return):
                returns.append(n.value)
            elif isinstance(n, ast.Assign):
                for t in n.targets:
                    if isinstance(t, ast.Name):
                        assigned.setdefault(t.id, []).append(n.value)
                    else:
                        opaque.update(x.id for x in ast.walk(t) if isinstance(x, ast.Name))
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                if n.value is None:
                    continue
                assigned.setdefault(n.target.id, []).append(n.value)
            elif isinstance(n, (ast.AugAssign, ast.For, ast.AsyncFor, ast.comprehension)):
                opaque.update(x.id for x in ast.walk(n.target) if isinstance(x, ast.Name))
            elif isinstance(n, (ast.withitem,)) and n.optional_vars is not None:
                opaque.update(x.id for x in ast.walk(n.optional_vars) if isinstance(x, ast.Name))
            elif isinstance(n, ast.NamedExpr):
                opaque.add(n.target.id)
            elif isinstance(n, (ast.Global, ast.Nonlocal)):
                opaque.update(n.names)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                opaque.update((x.asname or x.name).split(".", 1)[0] for x in n.names)
            elif isinstance(n, ast.ExceptHandler) and n.name:
                opaque.add(n.name)
        if not returns:
            return [_UNKNOWN]
        out: list[str] = []

        def callee(v: ast.Call) -> str:
            rg = any(k.arg == "requires_grad" for k in v.keywords)
            q = _UNKNOWN if rg else self.qualify(v.func)
            # a local function's name called inside this one could be shadowed by a local: check
            head = (_dotted(v.func) or "").split(".", 1)[0]
            return _UNKNOWN if head in params or head in assigned or head in opaque else q

        def value(v: ast.expr | None, via_name: bool, name: str | None = None) -> None:
            if v is None or (isinstance(v, ast.Constant) and v.value is None):
                out.append(_NONE)
            elif isinstance(v, ast.List) and name is not None:
                # a list the function fills and returns (``stages = []`` ... ``stages.append(Stage(...))``):
                # ``[`` + the callee of each item it may hold, ``[?`` for an item not followed
                items = [*v.elts, *appended.get(name, ())]
                for x in items:
                    out.append("[" + (callee(x) if isinstance(x, ast.Call) else _UNKNOWN))
                if not items:
                    out.append(_UNKNOWN)
            elif isinstance(v, ast.IfExp):
                value(v.body, via_name)
                value(v.orelse, via_name)
            elif isinstance(v, ast.Call):
                out.append(callee(v))
            elif isinstance(v, ast.Name) and not via_name and v.id not in params and v.id not in opaque and v.id in assigned:
                for x in assigned[v.id]:
                    value(x, True, v.id)
            else:
                out.append(_UNKNOWN)

        for r in returns:
            value(r, False)
        return sorted(set(out))

    def _pass_through(self, fn: ast.AST, depth: int) -> list[str] | None:
        """Does ``fn`` hand back the object it is given, so that ``@fn`` / ``@fn(...)`` leaves a class as it is?

        The shape of documentation and registry decorators (``return cls`` after recording it or setting its
        ``__doc__``), of decorator factories (``def register(name): def deco(cls): ...; return cls;
        return deco``) and of the dual-use form (``@auto_doc`` and ``@auto_doc(intro=...)``: ``return
        deco(obj) if obj else deco``).  Every ``return`` must give back the first parameter, a call that
        passes it first to a function doing the same, such a function itself, or ``lambda c: c``; nothing
        may rebind the parameter or set an attribute on it other than the documentation ones (``__doc__``,
        ``__name__``, ``__qualname__``, ``__module__``).  None when it may not; else the module-level or
        imported functions (qualified) that must pass through too, for the resolver to follow.
        """
        if depth > 8 or isinstance(fn, ast.AsyncFunctionDef) or getattr(fn, "decorator_list", None):
            return None
        a = fn.args
        first = [*a.posonlyargs, *a.args]
        if not first:
            return None
        x = first[0].arg
        nested: dict[str, ast.FunctionDef | None] = {}
        local: set[str] = {p.arg for p in (*first, *a.kwonlyargs)} | {p.arg for p in (a.vararg, a.kwarg) if p}
        returns: list[ast.expr | None] = []
        for n in _function_nodes(fn):
            if isinstance(n, (ast.Yield, ast.YieldFrom, ast.Global, ast.Nonlocal)):
                return None
            if isinstance(n, ast.FunctionDef):
                nested[n.name] = None if n.name in nested else n
            elif isinstance(n, (ast.AsyncFunctionDef, ast.ClassDef)):
                local.add(n.name)
            elif isinstance(n, ast.Return):
                returns.append(n.value)
            elif isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Delete, ast.For, ast.With, ast.NamedExpr,
                                ast.comprehension, ast.Import, ast.ImportFrom, ast.ExceptHandler)):
                for t in _bound_targets(n):
                    if isinstance(t, ast.Name):
                        if t.id == x:
                            return None  # the parameter rebound: what is returned is something else
                        local.add(t.id)
                    elif isinstance(t, (ast.Attribute, ast.Subscript)) and isinstance(t.value, ast.Name) and t.value.id == x:
                        if not (isinstance(t, ast.Attribute) and t.attr in _DOC_ATTRS):
                            return None  # cls.__init__ = ..., cls.forward = ...: the class is changed
                for name in _bound_names(n):
                    if name == x:
                        return None
                    local.add(name)
            elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("setattr", "delattr")
                  and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == x):
                return None
        if not returns:
            return None
        needs: list[str] = []

        def function(f: ast.expr) -> bool:  # a function that passes through: nested (checked here) or a requirement
            if isinstance(f, ast.Name) and f.id in nested:
                inner = nested[f.id]
                got = None if inner is None or f.id in local else self._pass_through(inner, depth + 1)
                if got is None:
                    return False
                needs.extend(got)
                return True
            head = (_dotted(f) or "").split(".", 1)[0]
            if not head or head in local or head in nested:
                return False
            q = self.qualify(f)
            if q == _UNKNOWN or not ("." in q or q.startswith("*")):
                return False
            needs.append(q)
            return True

        def ok(v: ast.expr | None) -> bool:
            if isinstance(v, ast.Name) and v.id == x:
                return True
            if isinstance(v, ast.IfExp):
                return ok(v.body) and ok(v.orelse)
            if isinstance(v, ast.Lambda):
                la = [*v.args.posonlyargs, *v.args.args]
                return bool(la) and isinstance(v.body, ast.Name) and v.body.id == la[0].arg
            if isinstance(v, ast.Call):
                return (bool(v.args) and isinstance(v.args[0], ast.Name) and v.args[0].id == x
                        and not any(isinstance(g, ast.Starred) for g in v.args[:1]) and function(v.func))
            if isinstance(v, (ast.Name, ast.Attribute)):
                return function(v)
            return False

        return needs if all(ok(r) for r in returns) else None

    def result(self) -> dict[str, Any]:
        return {
            "m": self.module,
            "p": self.is_package,
            "i": {k: v for k, v in self.imports.items() if k in self.local},
            "s": self.stars,
            "c": self.classes,
            "k": self.members,
            "st": self.state,
            "f": self.functions,
            "a": self.aliases,
            "d": self.passes,
            "dc": self.decorators,
            "e": self.entries,
            "sp": self.supers,
            "ak": self.attrs,
            "cm": self.constants,
            "dv": self.devices,
        }


def _summarizer(source: bytes | str, path: str) -> _Summarizer | None:
    """The file's source parsed and read (``None`` when it does not parse or nests too deeply)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    module, is_package = module_name_for(path)
    try:
        return _Summarizer(tree, module, is_package)
    except RecursionError:
        return None


def _meets_in_tree(summarizer: _Summarizer, name: str) -> dict[str, Any] | None:
    """``_param_meets`` of the module-level function ``name`` of a parsed file (None when absent)."""
    for node in _walk_body(summarizer.tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return _param_meets(node, summarizer.qualify)
    return None


def _method_returns_in_tree(summarizer: _Summarizer, cname: str, meth: str) -> list[str]:
    """``_returns`` of the method ``meth`` defined (once) in the body of the module-level class ``cname`` of a parsed
    file; ``[?]`` when absent or defined twice."""
    classes = [n for n in _walk_body(summarizer.tree.body) if isinstance(n, ast.ClassDef) and n.name == cname]
    defs = [f for c in classes[-1:] for f in c.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == meth]
    if len(classes) == 1 and len(defs) == 1 and defs[0].args.args:
        return summarizer._returns(defs[0])
    return [_UNKNOWN]


@functools.lru_cache(maxsize=8)
def _parsed_file(path: str, digest: str) -> _Summarizer | None:
    """The file at ``path`` parsed and read again (``digest``, the summary's, keys the version); None when unreadable."""
    try:
        with open(path, "rb") as f:
            return _summarizer(f.read(), path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def summarize(source: bytes | str, path: str) -> dict[str, Any] | None:
    """The summary of one file's source (``None`` when it does not parse)."""
    summarizer = _summarizer(source, path)
    return summarizer.result() if summarizer is not None else None


# --- the shared store: per-process memo over an on-disk cache --------------------------------------


def _default_cache_dir() -> str | None:
    env = os.environ.get("MODREG_CACHE_DIR")
    if env:
        return os.path.join(env, "summaries")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "modreg", "summaries")


class _Store:
    """path -> (stat key, summary, digest); memoised, backed by a directory of small JSON files."""

    def __init__(self) -> None:
        self.memo: dict[str, tuple[tuple, dict | None, str]] = {}
        self.disk = os.environ.get("MODREG_NO_SUMMARY_CACHE") != "1"
        self.directory: str | None = None
        self.stats = {"parsed": 0, "disk": 0, "memo": 0}
        self.pruned = False

    def _dir(self) -> str | None:
        if self.directory is None:
            self.directory = _default_cache_dir() or ""
        return self.directory or None

    def _file(self, path: str) -> str | None:
        d = self._dir()
        if d is None:
            return None
        h = hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()
        return os.path.join(d, f"v{__version__}-{SUMMARY_FORMAT}", h[:2], h + ".json")

    def get(self, path: str) -> tuple[dict | None, str] | None:
        """The summary of the file at ``path`` (absolute) and its digest; None when unreadable."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (st.st_size, st.st_mtime_ns)
        hit = self.memo.get(path)
        if hit is not None and hit[0] == key:
            self.stats["memo"] += 1
            return hit[1], hit[2]
        cache_file = self._file(path) if self.disk else None
        # the summary holds the file's module name, which the __init__.py files above it decide: part of the key
        disk_key = [path, *key, *module_name_for(path)]
        if cache_file is not None:
            try:
                with open(cache_file, encoding="utf-8") as fh:
                    data = json.load(fh)
                if data.get("k") == disk_key:
                    self.memo[path] = (key, data["s"], data["d"])
                    self.stats["disk"] += 1
                    self._keep(cache_file)
                    return data["s"], data["d"]
            except (OSError, ValueError, KeyError, AttributeError):
                pass
        try:
            with open(path, "rb") as fh:
                source = fh.read()
        except OSError:
            return None
        summary = summarize(source, path)
        self.stats["parsed"] += 1
        digest = hashlib.blake2b(json.dumps(summary, sort_keys=True).encode(), digest_size=8).hexdigest()
        self.memo[path] = (key, summary, digest)
        if cache_file is not None:
            self._write(cache_file, {"k": disk_key, "s": summary, "d": digest})
        return summary, digest

    @staticmethod
    def _keep(cache_file: str) -> None:
        """Mark a used entry as recent (at most daily): :meth:`prune` removes entries unused for long."""
        try:
            if time.time() - os.stat(cache_file).st_mtime > _TOUCH_AFTER:
                os.utime(cache_file)
        except OSError:
            pass

    def prune(self, now: float | None = None) -> int:
        """Remove other versions' summaries and entries unused for ``_PRUNE_AFTER`` seconds; at most once a day
        per cache directory (a stamp file). Returns how many files went."""
        d = self._dir()
        if d is None:
            return 0
        now = time.time() if now is None else now
        stamp = os.path.join(d, ".pruned")
        try:
            if now - os.stat(stamp).st_mtime < _PRUNE_EVERY:
                return 0
        except OSError:
            pass
        removed = 0
        current = f"v{__version__}-{SUMMARY_FORMAT}"
        try:
            os.makedirs(d, exist_ok=True)
            with open(stamp, "w", encoding="utf-8"):
                pass
            for entry in os.scandir(d):
                if entry.is_dir(follow_symlinks=False) and entry.name.startswith("v") and entry.name != current:
                    for root, _dirs, files in os.walk(entry.path, topdown=False):
                        for f in files:
                            removed += _unlink(os.path.join(root, f))
                        try:
                            os.rmdir(root)
                        except OSError:
                            pass
            for root, _dirs, files in os.walk(os.path.join(d, current)):
                for f in files:
                    p = os.path.join(root, f)
                    try:
                        old = now - os.stat(p).st_mtime > _PRUNE_AFTER
                    except OSError:
                        continue
                    if old:
                        removed += _unlink(p)
        except OSError:
            pass
        return removed

    def _write(self, cache_file: str, data: dict) -> None:
        if not self.pruned:
            self.pruned = True
            self.prune()
        try:
            d = os.path.dirname(cache_file)
            os.makedirs(d, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".s-", suffix=".tmp", dir=d)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, separators=(",", ":"))
            os.replace(tmp, cache_file)
        except OSError:
            pass  # a cache that cannot be written is only slower


def _unlink(path: str) -> int:
    try:
        os.unlink(path)
        return 1
    except OSError:
        return 0


_STORE = _Store()


def set_disk_cache(enabled: bool) -> None:
    """Use (or not) the on-disk summary cache in this process (``MODREG_NO_SUMMARY_CACHE=1`` turns it off)."""
    _STORE.disk = enabled


def summary_digest(path: str) -> str | None:
    """The current digest of the summary of the file at ``path`` (None when it cannot be read).

    A result computed with :meth:`Resolver.consulted` files still holds while
    each of them has the digest recorded then.
    """
    got = _STORE.get(os.path.abspath(path))
    return got[1] if got is not None else None


def store_stats() -> dict[str, int]:
    return dict(_STORE.stats)


# --- a world: the answers for one list of search roots ---------------------------------------------


def _project_roots(path: str) -> list[str]:
    p = os.path.abspath(path)
    d = os.path.dirname(p)
    top = d
    while os.path.isfile(os.path.join(top, "__init__.py")):
        parent = os.path.dirname(top)
        if parent == top:
            break
        top = parent
    roots = [top]
    up = top
    for _ in range(8):  # the project directory: the nearest marker at or above the package root
        if any(os.path.exists(os.path.join(up, m)) for m in _PROJECT_MARKERS):
            for r in (up, os.path.join(up, "src")):
                if r not in roots and os.path.isdir(r):
                    roots.append(r)
            break
        parent = os.path.dirname(up)
        if parent == up:
            break
        up = parent
    return roots


class _World:
    """Module lookup and memoised answers for one tuple of search roots."""

    def __init__(self, roots: tuple[str, ...], module_bases: tuple[str, ...]) -> None:
        self.roots = roots
        self.module_bases = module_bases
        self.modules: dict[str, str | None] = {}
        self.tops: dict[str, tuple[str, ...]] = {}
        #: memoised answers with the files (and their summary digests) they depended on
        self.classes: dict[str, tuple[Any, dict[str, str]]] = {}
        self.calls: dict[str, tuple[Any, dict[str, str]]] = {}
        self.passes: dict[str, tuple[Any, dict[str, str]]] = {}
        #: the file each summary read was made from; (path, its summary digest, question...) -> what ``_from_tree``
        #: computed from that file (``_param_meets`` of a function, ``_returns`` of a method)
        self._paths: dict[int, str] = {}
        self._lazy: dict[tuple, Any] = {}

    @staticmethod
    def _fresh(hit: tuple[Any, dict[str, str]] | None) -> bool:
        """A memoised answer still holds when every file it read still has the same summary."""
        if hit is None:
            return False
        for p, digest in hit[1].items():
            got = _STORE.get(p)
            if (got[1] if got is not None else "") != digest:
                return False
        return True

    @staticmethod
    def _pin(deps: set[str]) -> dict[str, str]:
        out = {}
        for p in deps:
            got = _STORE.get(p)
            out[p] = got[1] if got is not None else ""
        return out

    # -- files -----------------------------------------------------------------
    def _top_roots(self, top: str) -> tuple[str, ...]:
        """The roots that provide top-level name ``top`` (a regular package or module wins, as in Python)."""
        got = self.tops.get(top)
        if got is not None:
            return got
        found: list[str] = []
        for r in self.roots:
            base = os.path.join(r, top)
            if os.path.isfile(os.path.join(base, "__init__.py")) or os.path.isfile(base + ".py"):
                found = [r]
                break
            if os.path.isdir(base):
                found.append(r)  # a namespace package portion
        self.tops[top] = got = tuple(found)
        return got

    def find_module(self, module: str) -> str | None:
        if module in self.modules:
            return self.modules[module]
        out = None
        parts = module.split(".")
        if parts[0] not in _NOT_READ and all(p.isidentifier() for p in parts):
            for r in self._top_roots(parts[0]):
                base = os.path.join(r, *parts)
                for cand in (base + ".py", os.path.join(base, "__init__.py")):
                    if os.path.isfile(cand):
                        out = cand
                        break
                if out:
                    break
        self.modules[module] = out
        return out

    # -- names -----------------------------------------------------------------
    def _find(self, q: str, deps: set[str], depth: int) -> tuple | None:
        """Follow ``q`` to ("class"|"func", summary, name), ("module", summary) or ("known", framework name).

        As Python does: the module named by all but the last part when there is
        one (``from X import Y``), else from the top-level module down; each
        step a name bound in the module's namespace (imports, classes,
        functions, aliases) or, in a package, a submodule.
        """
        if depth > _MAX_DEPTH or not q or q == _UNKNOWN or q.startswith((".", "*")):
            return None
        parts = q.split(".")
        if parts[0] in _NOT_READ:
            return None
        if len(parts) > 1:  # ``from X import Y`` / ``X.Y``: module X found by path, then Y in its namespace
            prefix = ".".join(parts[:-1])
            path = self.find_module(prefix)
            if path:
                return self._in_module(prefix, path, parts[-1:], deps, depth)
        path = self.find_module(parts[0])
        return self._in_module(parts[0], path, parts[1:], deps, depth) if path else None

    def _in_module(self, module: str, path: str, rest: list[str], deps: set[str], depth: int) -> tuple | None:
        got = _STORE.get(path)
        if got is None or got[0] is None:
            return None
        deps.add(path)
        s = got[0]
        self._paths[id(s)] = path
        if not rest:
            return ("module", s)
        head, tail = rest[0], rest[1:]
        if head in s["c"]:
            if not tail:
                return ("class", s, head)
            # a method defined in the class's own body (``Builder.__call__``: what calling an instance returns)
            return ("meth", s, head, tail[0]) if len(tail) == 1 and tail[0] in s["k"].get(head, ()) else None
        if head in s["f"]:
            return ("func", s, head) if not tail else None
        target = s["a"].get(head) or s["i"].get(head)
        if target is not None:
            q = ".".join([target, *tail])
            if q.split(".", 1)[0] in _NOT_READ:
                return ("known", q)  # a framework name re-exported or aliased (Norm = partial(nn.LayerNorm, ...))
            return self._find(q, deps, depth + 1)
        if path.endswith("__init__.py"):  # a submodule of a package
            sub = self.find_module(f"{module}.{head}")
            if sub is not None:
                return self._in_module(f"{module}.{head}", sub, tail, deps, depth + 1)
        for star in s["s"]:
            found = self._find(".".join([star, *rest]), deps, depth + 1)
            if found is not None:
                return found
        return None

    def _names(self, s: dict, q: str, deps: set[str], depth: int) -> list[str]:
        """``q`` as written in summary ``s``: itself, or for a ``*name`` what ``_star`` finds (at most one)."""
        return self._star(s, q, deps, depth) if q.startswith("*") else [q]

    def _star(self, s: dict, q: str, deps: set[str], depth: int) -> list[str]:
        """The absolute names a ``*name`` of summary ``s`` may stand for (one per star import that has it)."""
        name = q[1:]
        out = []
        for star in s["s"]:
            if self._find(f"{star}.{name}", deps, depth + 1) is not None:
                out.append(f"{star}.{name}")
                break
        return out

    def class_framework(self, q: str, deps: set[str], depth: int = 0) -> str | None:
        fw = known.framework_of_class(q)
        if fw:
            return fw
        if q in self.module_bases:
            return "torch"
        hit = self.classes.get(q)
        if self._fresh(hit):
            deps.update(hit[1])
            return hit[0]
        if depth > _MAX_DEPTH:
            return None
        self.classes[q] = (None, {})  # cycle guard
        mine: set[str] = set()
        ent = self._find(q, mine, depth)
        fw = None
        if ent is not None and ent[0] == "known":
            fw = known.framework_of_class(ent[1])
        elif ent is not None and ent[0] == "class":
            s, name = ent[1], ent[2]
            for b in s["c"][name]:
                for cand in self._names(s, b, mine, depth):
                    fw = self.class_framework(cand, mine, depth + 1)
                    if fw:
                        break
                if fw:
                    break
        self.classes[q] = (fw, self._pin(mine))
        deps |= mine
        return fw

    def class_state(self, q: str, deps: set[str], depth: int = 0, call: tuple | None = None) -> bool | None:
        """Does every instance of class ``q`` hold parameters or buffers? True when certain, else None.
        For a function ``q``: does every value a call of it returns (each ``return`` a call of such a class)?

        Certain: its ``__init__`` (or a base's) registers a buffer/parameter or stores a Parameter or
        a layer that surely holds state, on every run (``_init_state``), or a framework base is a
        stateful layer (``nn.Linear``).
        """
        if depth > _MAX_DEPTH:
            return None
        if known.framework_of_class(q):
            state, switches = known.layer_state(q)
            return True if state and not switches else None
        mine: set[str] = set()
        ent = self._find(q, mine, depth)
        deps |= mine
        if ent is not None and ent[0] == "func":
            # a factory function (create_conv2d(...)): every value it returns surely holds state
            s, name = ent[1], ent[2]
            rets = s["f"][name]
            if not rets or any(r in (_NONE, _UNKNOWN) for r in rets):
                return None
            for r in rets:
                cands = self._names(s, r, deps, depth)
                if not cands or not self.class_state(cands[0], deps, depth + 1):
                    return None
            return True
        if ent is None or ent[0] != "class":
            return self.class_state(ent[1], deps, depth + 1) if ent is not None and ent[0] == "known" else None
        s, cname = ent[1], ent[2]
        if (s.get("k", {}).get(cname) or [""])[0] == "@" and not self.decorations_pass(s, cname, deps, depth):
            return None  # a decorator may replace the class
        sup = s.get("sp", {}).get(cname)
        items = list(s.get("st", {}).get(cname, ()))
        while items:
            item = items.pop(0)
            if item == "!":
                return True
            if item[0] == "if":  # ["if", param, inner]: stored when the call keeps param at its True default
                if call is not None and sup is not None and self._keeps_param(sup, item[1], call):
                    items[:0] = item[2]
                continue
            if item[0] == "for":  # ["for", inner]: stored by each pass of a loop of __init__
                items[:0] = item[1]
                continue
            callee, kws, star, npos = item
            cands = self._names(s, callee, deps, depth)
            if not cands:
                continue
            k = known_call(cands[0])
            if k is not None and k[0] in ("parameter", "buffer"):
                return True
            if k is not None and k[0] == "layer" and known.framework_of_class(cands[0]):
                state, switches = known.layer_state(cands[0])
                if state and (not switches or (not star and npos < 3 and not {n for sw in switches for n in sw} & set(kws))):
                    return True
                continue
            if self.class_state(cands[0], deps, depth + 1):
                return True
        for b in s["c"][cname]:
            cands = self._names(s, b, deps, depth)
            if cands and self.class_state(cands[0], deps, depth + 1):
                return True
            if cands and call is not None and self._switched_base_state(s, cname, cands[0], call):
                return True
        return None

    @staticmethod
    def _switched_base_state(s: dict, cname: str, base: str, call: tuple) -> bool:
        """A framework base whose state a flag can switch off (``nn.LayerNorm``'s ``elementwise_affine``), reached
        through the class's ``super().__init__(...)`` (``_super_call``): stateful when, for every switch, some flag
        of it surely keeps its state -- passed on from a parameter whose default is True that the call leaves alone
        (``affine=True`` -> ``elementwise_affine=affine``; ``call`` is (keyword names, may pass more, positional
        count) of the call site), passed as a literal True, or not passed at all with nothing forwarded."""
        if not known.framework_of_class(base):
            return False
        state, switches = known.layer_state(base)
        sup = s.get("sp", {}).get(cname)
        if not state or not switches or sup is None or sup["n"] >= 3:
            return False
        kws, more, npos, true = call

        def keeps(flag: str) -> bool:
            src = sup["k"].get(flag)
            if src is None:
                return not sup["s"] or flag in true or (not more and flag not in kws)  # **kwargs forwarded
            if src == "?" or src[0] == "c":
                return src != "?" and src[1] is True
            return _World._keeps_param(sup, src[1], call)

        return all(any(keeps(f) for f in sw) for sw in switches)

    @staticmethod
    def _keeps_param(sup: dict, param: str, call: tuple) -> bool:
        """The call (keyword names, may pass more, positional count) leaves ``__init__``'s ``param`` at its
        default, and that default is True."""
        kws, more, npos, true = call
        if param in true:
            return True  # affine=True at the call
        if more or param in kws or (param in sup["a"] and sup["a"].index(param) < npos):
            return False
        return sup["d"].get(param, None) is True

    def _class_step(self, q: str, deps: set[str], depth: int) -> tuple | None:
        """One step up a class's bases: ``("framework",)`` for a torch/MindSpore class, ``("root",)`` for
        ``object`` and the neutral bases, ``("class", summary, name)``, ``("known", q)`` for a framework name
        reached through an alias, or None when ``q`` cannot be read."""
        if known.framework_of_class(q):
            return ("framework",)
        if q in ("object", "builtins.object") or q in known.NEUTRAL_BASES:
            return ("root",)
        mine: set[str] = set()
        ent = self._find(q, mine, depth)
        deps |= mine
        return ent if ent is not None and ent[0] in ("class", "known") else None

    def class_defines(self, q: str, name: str, deps: set[str], depth: int = 0, framework=None) -> bool | None:
        """Does class ``q`` (or a base, through any number of files) bind ``name`` in its body?

        False only when every class on the way is read and none binds it, down
        to framework bases that do not provide it: ``torch.nn.Module`` and
        ``mindspore.nn.Cell`` (and the other bases of ``known.forward_providing``)
        for the entry points ``forward``/``construct``, ``object`` and the
        neutral bases for any name.  None when some step is unknown (a base
        that cannot be read, a decorated class, a name bound by a loop).
        """
        if depth > _MAX_DEPTH:
            return None
        ent = self._class_step(q, deps, depth)
        if ent is None or ent[0] == "root":
            return None if ent is None else False
        if ent[0] == "framework":
            if framework is not None:
                return framework(q)
            if name in ("forward", "construct") and not known.forward_providing(q):
                return False
            return None
        if ent[0] == "known":
            return self.class_defines(ent[1], name, deps, depth + 1, framework)
        s, cname = ent[1], ent[2]
        members = s.get("k", {}).get(cname)
        if members is None:
            return None
        if name in members:
            return True
        if _UNKNOWN in members or (members[:1] == ["@"] and not self.decorations_pass(s, cname, deps, depth)):
            return None
        answers = set()
        for b in s["c"][cname]:
            cands = self._names(s, b, deps, depth)
            if not cands:
                return None
            answers.add(self.class_defines(cands[0], name, deps, depth + 1, framework))
            if True in answers:
                return True
        return None if None in answers else False

    def param_meets(self, q: str, deps: set[str]) -> dict[str, Any] | None:
        """The function ``q``'s parameter names and which of them meet which in a tensor operation (``_param_meets``:
        ``{"a": names, "m": {index: [indices]}}``); None when ``q`` is no function read from disk, or none meet."""
        mine: set[str] = set()
        ent = self._find(q, mine, 0)
        deps |= mine
        if ent is None or ent[0] != "func":
            return None
        # asked rarely (a plain tensor handed to an imported function): computed then, not kept in every summary
        return self._from_tree(ent[1], ("meets", ent[2]), lambda t: _meets_in_tree(t, ent[2]), None)

    def _method_returns(self, s: dict, cname: str, meth: str) -> list[str]:
        """``_returns`` of method ``meth`` of class ``cname`` of summary ``s``: asked rarely (a builder object's call),
        so read from the file then, not kept in every summary."""
        return self._from_tree(s, ("returns", cname, meth), lambda t: _method_returns_in_tree(t, cname, meth), [_UNKNOWN])

    def _from_tree(self, s: dict, key: tuple, compute: Callable[[_Summarizer], Any], default: Any) -> Any:
        """``compute`` over the parsed file that summary ``s`` was made from, memoised per file version and ``key``;
        ``default`` when the file cannot be read again. Each file is parsed once for all the questions asked of it
        (the last few parsed files are kept)."""
        path = self._paths.get(id(s))
        got = _STORE.get(path) if path else None
        if got is None:
            return default
        k = (path, got[1], *key)
        if k not in self._lazy:
            tree = _parsed_file(path, got[1])
            try:
                self._lazy[k] = default if tree is None else compute(tree)
            except (RecursionError, MemoryError, ValueError):
                self._lazy[k] = default
        return self._lazy[k]

    def passes_through(self, q: str, deps: set[str], depth: int = 0) -> bool:
        """Does the function ``q`` hand back the object it is given (``_Summarizer._pass_through``), through
        every function it relies on, in any number of files? False when unknown."""
        hit = self.passes.get(q)
        if self._fresh(hit):
            deps.update(hit[1])
            return bool(hit[0])
        if depth > _MAX_DEPTH:
            return False
        self.passes[q] = (False, {})  # cycle guard: a function that relies on itself is not known to pass through
        mine: set[str] = set()
        ent = self._find(q, mine, depth)
        out = False
        if ent is not None and ent[0] == "func" and ent[2] in ent[1].get("d", {}):
            s = ent[1]
            out = True
            for r in s["d"][ent[2]]:
                cands = self._names(s, r, mine, depth)
                if not cands or not self.passes_through(cands[0], mine, depth + 1):
                    out = False
                    break
        self.passes[q] = (out, self._pin(mine))
        deps |= mine
        return out

    def decorations_pass(self, s: dict, cname: str, deps: set[str], depth: int) -> bool:
        """Does every decorator of class ``cname`` of summary ``s`` hand the class back unchanged?"""
        decos = s.get("dc", {}).get(cname)
        if not decos:
            return False
        for d in decos:
            cands = self._names(s, d, deps, depth)
            if not cands or not self.passes_through(cands[0], deps, depth + 1):
                return False
        return True

    def inherited_entry(self, q: str, name: str, deps: set[str], depth: int = 0):
        """The ``name`` method (``forward``/``construct``) class ``q`` has, from its body or the first base (in
        order, depth first) that binds it: the entry names its body reads (a list); False when no class on
        the way binds it (down to ``nn.Module``/``nn.Cell``); None when that cannot be read (a framework layer
        that provides it, a base that cannot be read, a decorator that may add it, a name bound otherwise)."""
        if depth > _MAX_DEPTH:
            return None
        ent = self._class_step(q, deps, depth)
        if ent is None or ent[0] == "root":
            return None if ent is None else False
        if ent[0] == "framework":
            return [] if known.forward_providing(q) else False  # a framework layer's entry point reads neither name
        if ent[0] == "known":
            return self.inherited_entry(ent[1], name, deps, depth + 1)
        s, cname = ent[1], ent[2]
        members = s.get("k", {}).get(cname)
        if members is None or _UNKNOWN in members or (members[:1] == ["@"] and not self.decorations_pass(s, cname, deps, depth)):
            return None
        if name in members:
            return s.get("e", {}).get(cname, {}).get(name)  # None: bound some other way (an assignment)
        for b in s["c"][cname]:
            cands = self._names(s, b, deps, depth)
            if not cands:
                return None
            got = self.inherited_entry(cands[0], name, deps, depth + 1)
            if got is not False:
                return got
        return False

    def call_kind(self, q: str, deps: set[str], depth: int = 0) -> tuple[str, str] | None:
        """What calling ``q`` returns: (tag value of ``model.Tag``, framework), or None when unknown."""
        k = known_call(q)
        if k is not None:
            return k
        hit = self.calls.get(q)
        if self._fresh(hit):
            deps.update(hit[1])
            return hit[0]
        if depth > _MAX_DEPTH:
            return None
        self.calls[q] = (None, {})  # cycle guard
        mine: set[str] = set()
        out = None
        fw = self.class_framework(q, mine, depth)
        if fw:
            out = ("layer", fw)
        else:
            ent = self._find(q, mine, depth)
            if ent is not None and ent[0] == "known":
                out = known_call(ent[1])
            elif ent is not None and ent[0] in ("func", "meth"):
                s = ent[1]
                rets = s["f"][ent[2]] if ent[0] == "func" else self._method_returns(s, ent[2], ent[3])
                kinds = set()
                items = set()  # what a returned list holds (``[`` entries)
                for r in rets:
                    if r == _NONE:
                        continue
                    if r.startswith("["):
                        cands = self._names(s, r[1:], mine, depth) if r[1:] != _UNKNOWN else []
                        item = self.call_kind(cands[0], mine, depth + 1) if cands else None
                        if item is not None and item[0] in ("layer", "registered-container"):
                            items.add(item)
                        continue
                    cands = self._names(s, r, mine, depth)
                    kinds.add(self.call_kind(cands[0], mine, depth + 1) if cands else None)
                if len(kinds) == 1 and None not in kinds and not items:
                    out = kinds.pop()
                elif not kinds and len(items) == 1:
                    tag, fw = items.pop()
                    out = ("list/" + tag, fw)  # a plain list holding layers
        self.calls[q] = (out, self._pin(mine))
        deps |= mine
        return out


    def constant_module(self, q: str, deps: set[str]) -> bool:
        """Is ``q`` a class read from disk whose instances hold only constants made in ``__init__`` (``constant_module``)?"""
        ent = self._find(q, deps, 0)
        return ent is not None and ent[0] == "class" and ent[2] in ent[1].get("cm", ())

    def unplaced_device(self, q: str, attr: str, deps: set[str], depth: int = 0) -> bool:
        """Does class ``q`` (or its nearest base that binds it) keep a ``device=None`` parameter in ``self.<attr>``
        (``_init_devices``), and nothing else there?"""
        if depth > _MAX_DEPTH or known.framework_of_class(q):
            return False
        ent = self._find(q, deps, depth)
        if ent is None or ent[0] != "class":
            return False
        s, cname = ent[1], ent[2]
        got = s.get("dv", {}).get(cname, {}).get(attr)
        if got is not None:
            return got
        if attr in s.get("ak", {}).get(cname, {}) or attr in s.get("k", {}).get(cname, ()):
            return False
        return any(self.unplaced_device(cand, attr, deps, depth + 1)
                   for b in s["c"][cname] for cand in self._names(s, b, deps, depth))

    def attr_kind(self, q: str, attr: str, deps: set[str], depth: int = 0) -> tuple[str, str] | None:
        """What ``__init__`` of class ``q`` (or of a base, nearest first) binds ``self.<attr>`` to, as ``call_kind``
        says of its callee; None when not certain (bound otherwise, in a base not read, not bound there)."""
        if depth > _MAX_DEPTH or known.framework_of_class(q):
            return None
        ent = self._find(q, deps, depth)
        if ent is None or ent[0] != "class":
            return None
        s, cname = ent[1], ent[2]
        if (s.get("k", {}).get(cname) or [""])[0] == "@" and not self.decorations_pass(s, cname, deps, depth):
            return None
        if attr in s.get("k", {}).get(cname, ()):
            return None  # a class attribute or method of that name
        callee = s.get("ak", {}).get(cname, {}).get(attr)
        if callee is not None:
            cands = self._names(s, callee, deps, depth)
            return self.call_kind(cands[0], deps, depth + 1) if cands else None
        for b in s["c"][cname]:
            for cand in self._names(s, b, deps, depth):
                got = self.attr_kind(cand, attr, deps, depth + 1)
                if got is not None:
                    return got
        return None


def known_call(q: str) -> tuple[str, str] | None:
    """The framework names whose call result is certain (as ``model._call_kind`` knows them)."""
    if q in known.TORCH_TENSOR_FACTORIES or q in known.TORCH_VARIABLE:
        return ("tensor", "torch")
    if q in known.TORCH_PARAMETER:
        return ("parameter", "torch")
    if q in known.MINDSPORE_PARAMETER:
        return ("parameter", "mindspore")
    if q in known.TORCH_BUFFER:
        return ("buffer", "torch")
    if q in known.TORCH_REGISTERING:
        return ("registered-container", "torch")
    if q in known.MINDSPORE_REGISTERING:
        return ("registered-container", "mindspore")
    if q in known.MINDSPORE_TENSOR_FACTORIES:
        return ("ms-tensor", "mindspore")
    fw = known.framework_of_class(q)
    if fw:
        return ("layer", fw)
    return None


_WORLDS: dict[tuple, _World] = {}


def invalidate() -> None:
    """Forget which modules exist where (a long-running process calls this when files appear or vanish).

    The memoised summaries go too: a new ``__init__.py`` changes the module name of the files below it.
    """
    _WORLDS.clear()
    _STORE.memo.clear()


_SYS_PATH: tuple[tuple[str, ...], tuple[str, ...]] | None = None


def _sys_path_roots() -> tuple[str, ...]:
    global _SYS_PATH
    key = tuple(sys.path)
    if _SYS_PATH is None or _SYS_PATH[0] != key:
        _SYS_PATH = (key, tuple(os.path.abspath(p) for p in key if p and os.path.isdir(p)))
    return _SYS_PATH[1]


def for_file(path: str | None, module_bases: Iterable[str] = ()) -> "Resolver | None":
    """The resolver of the file at ``path`` (flake8's filename, the editor buffer's path, the CLI's path).

    None without a path (``check(source)``), for flake8's unnamed stdin, or
    when ``MODREG_CROSS_FILE=0`` asks for the single-file view.
    """
    if not path or path in ("-", "stdin", "<stdin>") or os.environ.get("MODREG_CROSS_FILE") == "0":
        return None
    try:
        return Resolver(path, module_bases)
    except (OSError, ValueError):
        return None


class Resolver:
    """The cross-file questions of one checked file, answered from disk (see the module docstring)."""

    def __init__(self, path: str, module_bases: Iterable[str] = ()) -> None:
        self.path = os.path.abspath(path)
        self.module_name, self.is_package = module_name_for(self.path)
        roots = tuple(_project_roots(self.path)) + _sys_path_roots()
        key = (tuple(dict.fromkeys(roots)), tuple(module_bases))
        world = _WORLDS.get(key)
        if world is None:
            world = _WORLDS[key] = _World(*key)
        self.world = world
        self._deps: set[str] = set()

    def _ask(self, question: Callable[[str], Any], qualified: str, default: Any) -> Any:
        """``question`` of the absolute name, or ``default`` when the files behind it cannot be read (too deep,
        unreadable, undecodable)."""
        try:
            return question(self.absolute(qualified))
        except (RecursionError, OSError, ValueError):
            return default

    def absolute(self, qualified: str) -> str:
        return _absolutize(qualified, self.module_name, self.is_package)

    def class_framework(self, qualified: str) -> str | None:
        """'torch'/'mindspore' when ``qualified`` (absolute, or relative to this file) names a Module/Cell class."""
        return self._ask(lambda q: self.world.class_framework(q, self._deps), qualified, None)

    def call_kind(self, qualified: str) -> tuple[str, str] | None:
        """(tag, framework) of what calling ``qualified`` returns, when certain."""
        return self._ask(lambda q: self.world.call_kind(q, self._deps), qualified, None)

    def class_state(self, qualified: str, call: tuple | None = None) -> bool | None:
        """True when every instance of the class ``qualified`` surely holds parameters or buffers, else None.

        ``call``: (keyword names, may pass more, positional count, keyword names given a literal True) of the call
        site, when known: a subclass of a framework layer whose state a flag switches (``nn.LayerNorm``), or a
        class that stores state under ``if <flag>:``, is then judged for that call."""
        return self._ask(lambda q: self.world.class_state(q, self._deps, 0, call), qualified, None)

    def unplaced_device(self, qualified: str, attr: str) -> bool:
        """Does the class's ``__init__`` (or a base's) keep a ``device=None`` parameter in ``self.<attr>``?"""
        return self._ask(lambda q: self.world.unplaced_device(q, attr, self._deps), qualified, False)

    def constant_module(self, qualified: str) -> bool:
        """Does every instance of the class hold only constants its ``__init__`` makes (no Parameter, nothing written later)?"""
        return self._ask(lambda q: self.world.constant_module(q, self._deps), qualified, False)

    def attr_kind(self, qualified: str, attr: str) -> tuple[str, str] | None:
        """(tag, framework) of what the class's ``__init__`` (or a base's) binds ``self.<attr>`` to, when certain."""
        return self._ask(lambda q: self.world.attr_kind(q, attr, self._deps), qualified, None)

    def class_defines(self, qualified: str, name: str, framework=None) -> bool | None:
        """Does the class ``qualified`` or a base bind ``name`` (a method or class attribute)? None: cannot tell.

        ``framework(q)`` answers for the framework classes reached (``torch.nn.Linear``); by default
        only the entry points are known (absent from ``nn.Module``/``nn.Cell``, see ``World.class_defines``).
        """
        return self._ask(lambda q: self.world.class_defines(q, name, self._deps, 0, framework), qualified, None)

    def param_meets(self, qualified: str) -> dict[str, Any] | None:
        """The parameters of the function ``qualified`` that meet others in a tensor operation (``World.param_meets``)."""
        return self._ask(lambda q: self.world.param_meets(q, self._deps), qualified, None)

    def passes_through(self, qualified: str) -> bool:
        """Does the function ``qualified`` hand back what it decorates (``@qualified`` / ``@qualified(...)``
        leaves a class as it is)? False when that cannot be read."""
        return self._ask(lambda q: self.world.passes_through(q, self._deps), qualified, False)

    def inherited_entry(self, qualified: str, name: str):
        """The entry names read by the ``name`` method class ``qualified`` has (its own or the first base's that
        binds it); False: none on the way; None: cannot tell (``World.inherited_entry``)."""
        return self._ask(lambda q: self.world.inherited_entry(q, name, self._deps), qualified, None)

    def consulted(self) -> dict[str, str]:
        """The files whose summaries the answers so far depended on: absolute path -> summary digest."""
        out = {}
        for p in sorted(self._deps):
            if p == self.path:
                continue
            got = _STORE.get(p)
            out[p] = got[1] if got is not None else ""
        return out

    def source_defines_modules(self, source: bytes | str) -> bool:
        """Does this file's own text define a class whose base resolves to a Module/Cell elsewhere?

        Used when the cheap prefilter finds no framework name in the text (a
        file whose only Modules derive from another file's classes).
        """
        s = summarize(source, self.path)
        if not s or not s["c"]:
            return False
        for name in s["c"]:
            for b in s["c"][name]:
                if b.startswith(f"{s['m']}."):
                    continue  # a same-file base: its own base decides
                cands = self.world._names(s, b, self._deps, 0)
                if any(self.world.class_framework(c, self._deps) for c in cands):
                    return True
        return False
