from __future__ import annotations

import libcst as cst

from .. import known
from ..findings import Applicability, Fix
from ..model import ClassFacts, FileModel, MethodFacts, Tag, dotted_name
from ._base import Invalid, Reporter, Rule, Valid

#: values whose assignment to ``self`` raises before ``Module.__init__``/``Cell.__init__`` has run
STATE_TAGS = (Tag.LAYER, Tag.PARAMETER, Tag.BUFFER, Tag.REGISTERED)
#: ``self.<call>(...)`` that raise before ``Module.__init__``/``Cell.__init__`` has run
STATE_CALLS = frozenset(
    {"register_buffer", "register_parameter", "add_module", "register_module", "insert_param_to_cell", "insert_child_to_cell"}
)
_BASE_OF = {"torch": "torch.nn.Module", "mindspore": "mindspore.nn.Cell"}
_CLASS = {"torch": "Module", "mindspore": "Cell"}


def _calls_some_init(meth: MethodFacts) -> bool:
    """``super().__init__()``, ``Base.__init__(self)``, or any other ``<expr>.__init__(...)`` call."""
    if meth.super_init is not None:
        return True
    return any(isinstance(c.func, cst.Attribute) and c.func.attr.value == "__init__" for c in meth.calls)


def first_state_write(model: FileModel, cls: ClassFacts, method: str = "__init__", before: int | None = None):
    """The first statement of ``method`` (before order ``before``) that stores a sub-module, Parameter or buffer on ``self``.

    Returns ``(node, attr, what)`` in source order, or None.
    """
    found = _state_writes(model, cls, method, before)
    return min(found, key=lambda f: f[0])[1:] if found else None


def _first_state_order(model: FileModel, cls: ClassFacts, method: str = "__init__") -> int | None:
    found = _state_writes(model, cls, method, None)
    return min(f[0] for f in found) if found else None


def _state_writes(model: FileModel, cls: ClassFacts, method: str, before: int | None) -> list:
    found = []
    for a in cls.self_assigns:
        if a.method != method or (before is not None and a.order >= before):
            continue
        tag = model.kind_of(a.value, a.scope, a.order).tag
        if tag in STATE_TAGS:
            found.append((a.order, a.node, a.attr, _WHAT[tag]))
    for c in cls.self_calls:
        if c.method != method or c.name not in STATE_CALLS or (before is not None and c.order >= before):
            continue
        what = "buffer" if "buffer" in c.name else "parameter" if "param" in c.name else "module"
        found.append((c.order, c.node, c.literal_arg(0) or "?", what))
    return found


_WHAT = {Tag.LAYER: "module", Tag.PARAMETER: "parameter", Tag.BUFFER: "buffer", Tag.REGISTERED: "module"}


def _delegates(model: FileModel, cls: ClassFacts, meth: MethodFacts) -> bool:
    """Does ``__init__`` call a helper that may run the base initialiser for it (``self._build()``)?

    Only a helper called before the first sub-module/Parameter/buffer is
    stored can: that store raises without the initialiser, so a helper called
    after it (Hugging Face's ``self.post_init()``, last in ``__init__``) never
    runs in a working class.
    """
    first = _first_state_order(model, cls, meth.name)
    for c in cls.self_calls:
        if c.method != meth.name or c.name in STATE_CALLS or c.name == "setattr":
            continue
        if first is not None and c.order > first:
            continue
        for owner in (cls, *cls.ancestors()):
            helper = owner.methods.get(c.name)
            if helper is not None:
                if _calls_some_init(helper):
                    return True
                break
        else:
            if cls.may_inherit(c.name) and any(o.unknown_bases for o in (cls, *cls.ancestors())):
                return True  # a helper of a base we cannot see
    return False


def _touches_self(cls: ClassFacts, meth: MethodFacts) -> bool:
    return (
        meth.uses_self_attr
        or any(a.method == meth.name for a in cls.self_assigns)
        or any(c.method == meth.name for c in cls.self_calls)
    )


def _has_entry(model: FileModel, cls: ClassFacts) -> bool:
    """Is there surely a ``forward``/``construct`` to call: in the class or a same-file base, in a framework
    layer base (``nn.LayerNorm``), or in a base of another file that the resolver reads?"""
    entry = "construct" if cls.framework == "mindspore" else "forward"
    if cls.defines(entry):
        return True
    for c in (cls, *cls.ancestors()):
        for b in c.framework_bases:
            if known.framework_of_class(b):
                if known.forward_providing(b):
                    return True
            elif model.resolver is not None and model.resolver.class_defines(b, entry):
                return True
    return False


def _insert_super_fix(model: FileModel, cls: ClassFacts, meth: MethodFacts) -> Fix | None:
    """Insert ``super().__init__()`` as the first statement (after a docstring).

    Offered only when every base is exactly ``nn.Module``/``nn.Cell`` (whose
    ``__init__`` needs no arguments) and the original raises at construction.
    """
    body = meth.node.body
    if not isinstance(body, cst.IndentedBlock):
        return None
    want = _BASE_OF[cls.framework]
    if not cls.bases or any(model.imports.qualify(b) != want for b in cls.bases):
        return None
    stmts = list(body.body)
    at = 0
    if stmts and isinstance(stmts[0], cst.SimpleStatementLine) and len(stmts[0].body) == 1:
        first = stmts[0].body[0]
        if isinstance(first, cst.Expr) and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString)):
            at = 1
    call = cst.parse_statement("super().__init__()\n")
    new = body.with_changes(body=[*stmts[:at], call, *stmts[at:]])
    return Fix(((body, new),), Applicability.SAFE, title="call super().__init__() first")


def _registry_decorator(node: cst.BaseExpression) -> bool:
    """``@register``, ``@MODELS.register_module()``, ``@ClassFactory.register(ModuleType.BACKBONE)``.

    A registry decorator records the class under a name and returns it
    unchanged: its last name component contains ``register``.
    """
    func = node.func if isinstance(node, cst.Call) else node
    name = dotted_name(func)
    return name is not None and "register" in name.rsplit(".", 1)[-1].lower()


def _passes_through(model: FileModel, node: cst.BaseExpression) -> bool:
    """A decorator that hands the class back unchanged: a registry's, or one the resolver reads
    (``Resolver.passes_through``: ``return cls`` after setting its ``__doc__``, a factory returning such a
    function, the dual-use ``@auto_doc`` / ``@auto_doc(...)``), in this file or another."""
    if _registry_decorator(node):
        return True
    if model.resolver is None:
        return False
    func = node.func if isinstance(node, cst.Call) else node
    q = model.qualify(func)
    name = dotted_name(func)
    if q is None and name in model.functions and model.module_name:
        q = f"{model.module_name}.{name}"  # a function of this file, read from disk like the others
    return q is not None and model.resolver.passes_through(q)


def _initialised_by_hand(model: FileModel, cls: ClassFacts) -> bool:
    """A cooperative mixin: every class of this file that lists it as a base calls ``Mixin.__init__(self, ...)``
    and the ``__init__`` of another of its bases (which initialises the Module), and its own ``__init__``
    stores no sub-module, Parameter or buffer (plain values may be set before ``Module.__init__``).  Adding
    ``super().__init__()`` to it would run the next class in the MRO without that class's arguments."""
    subs = [c for c in model.descendants(cls) if cls in c.local_bases]
    if not subs or first_state_write(model, cls) is not None:
        return False
    for sub in subs:
        init = sub.methods.get("__init__")
        if init is None:
            return False
        called = {
            dotted_name(c.func.value)
            for c in init.calls
            if isinstance(c.func, cst.Attribute) and c.func.attr.value == "__init__" and c.args
            and isinstance(c.args[0].value, cst.Name) and c.args[0].value.value == init.self_name
        }
        if cls.name not in called or not (called & set(sub.bases)) - {cls.name}:
            return False
    return True


class MissingSuperInit(Rule):
    """
    ## What it does
    Finds an `__init__` of a torch `nn.Module` or MindSpore `nn.Cell` subclass
    that uses `self` but never calls the base initialiser: no
    `super().__init__()`, `super(Net, self).__init__()` or
    `nn.Module.__init__(self)`.

    It stays silent when `__init__` calls some other `X.__init__(...)`, or a
    helper (`self._build()`) that calls the base initialiser or that comes from a
    base we cannot see, made before the first sub-module, Parameter or buffer
    is stored (a helper called after that store, like Hugging Face's
    `self.post_init()` in MindSpore ports, cannot have initialised anything:
    the store raised first); when the class is only guessed to be a Module (its base
    is imported from a file we do not see and nothing else says it is a Module);
    for classes with a decorator that may replace the class or its `__init__`.
    A decorator is known to hand the class back unchanged when its last name
    contains `register` (`@MODELS.register_module()`,
    `@ClassFactory.register(...)`, which record the class and return it), or
    when the resolver reads its function, in this file or another, and every
    `return` gives back the decorated object (`return cls` after recording it
    or setting its `__doc__`), a function that does (a factory's `return
    deco`), or a call passing it on to one (the dual-use `@auto_doc` /
    `@auto_doc(intro=...)`), with no attribute other than `__doc__`,
    `__name__`, `__qualname__` or `__module__` set on it (`cls.__init__ = ...`
    changes the class: silent). A decorator that cannot be read (no path, a
    name bound twice, a package that is not installed) keeps the class silent;
    for a cooperative mixin -- every class of the file that derives from it
    calls `Mixin.__init__(self, ...)` and another base's `__init__` (which
    initialises the Module), and the mixin's own `__init__` stores only plain
    values, which may be set before `Module.__init__` (there, adding
    `super().__init__()` would run the next class in the MRO without its
    arguments: `TypeError`; `tests/test_init_stub.py`);
    and for an `__init__` that never touches `self` in a class with no
    `forward`/`construct` to call. With one -- in the class, a same-file
    base, a framework layer base (`class LayerNorm2d(nn.LayerNorm)` whose
    `__init__` lost its `super().__init__(num_channels, ...)`), or a base of
    another file the resolver reads -- the instance builds, and calling it
    or `parameters()` raises `AttributeError` (`tests/test_init_stub.py`).
    Runtime truth for the MindSpore cases (a registry-decorated Cell and a
    port calling `self.post_init()`, both raising `AttributeError` when
    built): `tests/test_mindspore_probes.py::test_mrg401_*`.

    ## Why is this bad?
    `Module.__init__` creates the dictionaries that hold parameters, buffers,
    sub-modules and hooks. Without it, the first `self.fc = nn.Linear(...)`,
    `nn.Parameter` or `register_buffer` raises `AttributeError: cannot assign
    module before Module.__init__() call`. Plain attributes (`self.dim = 4`)
    still work, so a class that only stores numbers builds fine -- and then
    `model(x)`, `model.parameters()` and even `repr(model)` raise
    `AttributeError: 'Net' object has no attribute '_modules'` (measured with
    torch 2.13). MindSpore 2.10 behaves the same way: assigning a Cell raises
    `AttributeError: ... no attribute '_auto_prefix'`, a Parameter `please call
    Cell.__init__() firstly`, and calling the cell raises too.

    ## Example
    ```python
    class Net(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(4, 2)
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
    ```

    ## Fix safety
    The fix inserts `super().__init__()` as the first statement of `__init__`
    and is **safe**: it is offered only when the original raises while
    constructing (it stores a sub-module, Parameter or buffer on `self`), and
    only when every base is exactly `nn.Module`/`nn.Cell`, whose `__init__`
    takes no arguments. A subclass of a layer (`nn.Linear`) needs its arguments,
    which only you know.

    ## References
    - [torch.nn.Module](https://pytorch.org/docs/stable/generated/torch.nn.Module.html) ("`__init__()` call to the parent class must be made before assignment on the child")
    - [mindspore.nn.Cell](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    """

    code = "MRG401"
    name = "missing-super-init"
    summary = "A Module/Cell `__init__` that never calls `super().__init__()`"
    message = "'{cls}.__init__' never calls super().__init__()"
    fix_hint = "call super().__init__() first in __init__: {consequence}"
    fix_summary = "call super().__init__() first in __init__"
    fix_safety = Applicability.SAFE

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self, dim=4):
                    self.fc = nn.Linear(dim, 2)

                def forward(self, x):
                    return self.fc(x)

            class Scaled(nn.Module):
                def __init__(self):
                    \"\"\"A learnable scale.\"\"\"
                    self.scale = nn.Parameter(torch.ones(1))
            """,
            at=[(5, 8), (12, 8)],
            fixed="""
            import torch
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self, dim=4):
                    super().__init__()
                    self.fc = nn.Linear(dim, 2)

                def forward(self, x):
                    return self.fc(x)

            class Scaled(nn.Module):
                def __init__(self):
                    \"\"\"A learnable scale.\"\"\"
                    super().__init__()
                    self.scale = nn.Parameter(torch.ones(1))
            """,
            title="a sub-module and a Parameter assigned without the base initialiser: construction raises",
        ),
        Invalid(
            """
            import torch.nn as nn

            class Gain(nn.Module):
                def __init__(self, k):
                    self.k = k

                def forward(self, x):
                    return x * self.k

            class Head(nn.Linear):
                def __init__(self):
                    self.fc = nn.Linear(2, 2)
            """,
            at=[(4, 8), (11, 8)],
            fixed=None,
            title="no fix: plain attributes build fine but every call raises; a layer base needs its arguments",
        ),
        Invalid(
            """
            from mindspore import nn

            class Net(nn.Cell):
                def __init__(self):
                    self.dense = nn.Dense(4, 2)

                def construct(self, x):
                    return self.dense(x)
            """,
            at=[(4, 8)],
            fixed="""
            from mindspore import nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = nn.Dense(4, 2)

                def construct(self, x):
                    return self.dense(x)
            """,
            title="MindSpore: the same for a Cell",
        ),
        Invalid(
            """
            from mindspore import nn

            MODELS = {}

            def register_model(cls):
                MODELS[cls.__name__] = cls
                return cls

            class PreTrainedModel(nn.Cell):
                def post_init(self):
                    self.init_weights = True

            @register_model
            class Encoder(nn.Cell):
                def __init__(self, dim=4):
                    self.dense = nn.Dense(dim, dim)

                def construct(self, x):
                    return self.dense(x)

            class Model(PreTrainedModel):
                def __init__(self, dim=4):
                    self.encoder = Encoder(dim)
                    self.post_init()

                def construct(self, x):
                    return self.encoder(x)
            """,
            at=[(15, 8), (22, 8)],
            fixed="""
            from mindspore import nn

            MODELS = {}

            def register_model(cls):
                MODELS[cls.__name__] = cls
                return cls

            class PreTrainedModel(nn.Cell):
                def post_init(self):
                    self.init_weights = True

            @register_model
            class Encoder(nn.Cell):
                def __init__(self, dim=4):
                    super().__init__()
                    self.dense = nn.Dense(dim, dim)

                def construct(self, x):
                    return self.dense(x)

            class Model(PreTrainedModel):
                def __init__(self, dim=4):
                    self.encoder = Encoder(dim)
                    self.post_init()

                def construct(self, x):
                    return self.encoder(x)
            """,
            title="MindSpore: a registry-decorated Cell, and a Hugging-Face-style port whose post_init() comes after the first store",
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn

            class A(nn.Module):
                def __init__(self):
                    super(A, self).__init__()
                    self.fc = nn.Linear(2, 2)

            class B(nn.Module):
                def __init__(self):
                    nn.Module.__init__(self)
                    self.fc = nn.Linear(2, 2)

            class C(A):
                def __init__(self):
                    A.__init__(self)
                    self.k = 2

            class D(nn.Module):
                def __init__(self):
                    self.__class__.__bases__[0].__init__(self)
                    self.fc = nn.Linear(2, 2)

            class E(nn.Module):
                def __init__(self, *args):
                    self._setup(*args)

                def _setup(self, *args):
                    super().__init__()
                    self.fc = nn.Linear(2, 2)
            """,
            why="every spelling of the base initialiser, and a helper that calls it",
        ),
        Valid(
            """
            import torch.nn as nn
            from mylib import Backbone, wrap_module

            class F(Backbone):
                def __init__(self):
                    self.build()

                def forward(self, x):
                    return x

            class G(nn.Module):
                def __init__(self, *args, **kwargs):
                    pass

            @wrap_module
            class H(nn.Module):
                def __init__(self):
                    self.k = 1

            class Config:
                def __init__(self):
                    self.k = 1
            """,
            why="a helper from an unseen base; an __init__ that never touches self; a class with a decorator that is not a "
            "registry's (it may replace __init__); not a Module",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls in model.modules:
            meth = cls.methods.get("__init__")
            if meth is None or meth.is_static or meth.is_classmethod or cls.evidence:
                continue
            if not all(_passes_through(model, d.decorator) for d in cls.node.decorators):
                continue  # a decorator may replace the class or its __init__
            if _calls_some_init(meth) or meth.ends_in_raise:
                continue
            if not _touches_self(cls, meth) and not _has_entry(model, cls):
                continue
            if _delegates(model, cls, meth) or _initialised_by_hand(model, cls):
                continue
            kind = _CLASS[cls.framework]
            write = first_state_write(model, cls)
            if write is not None:
                consequence = f"assigning the {write[2]} 'self.{write[1]}' raises AttributeError"
                fix = _insert_super_fix(model, cls, meth)
            else:
                consequence = f"the {kind} internals are missing, so calling it or its parameters() raises AttributeError"
                fix = None
            report(meth.node.name, fix=fix, cls=cls.name, consequence=consequence)
