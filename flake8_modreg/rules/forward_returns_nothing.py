from __future__ import annotations

from typing import Sequence

import libcst as cst

from ..model import ClassFacts, FileModel, MethodFacts, dotted_name
from ._base import Invalid, Reporter, Rule, Valid
from ._entry import entry_points

_ABSTRACT = ("abstractmethod", "abstractproperty", "overload")
#: calls that store their argument somewhere else: a forward made of them returns nothing on purpose
_STORE_CALLS = frozenset(
    "append extend insert update add put put_nowait write send emit log setdefault "
    "register_buffer register_parameter add_module insert_param_to_cell".split()
)


def _root(node: cst.BaseExpression) -> str | None:
    while isinstance(node, (cst.Attribute, cst.Subscript, cst.Call)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node.value if isinstance(node, cst.Name) else None


def _side_effects(model: FileModel, cls: ClassFacts, meth: MethodFacts) -> bool:
    """Does the method store its results instead of returning them (an EMA update, a feature cache)?"""
    if any(a.method == meth.name for a in cls.self_assigns) or any(m.method == meth.name for m in cls.mutations):
        return True
    chain = (cls, *cls.ancestors())
    for site in model.calls:
        if site.method is not meth or not isinstance(site.node.func, cst.Attribute):
            continue
        func = site.node.func
        name = func.attr.value
        if name.endswith("_") and not name.startswith("_"):
            return True  # an in-place tensor operation: x.add_(...), nn.init.normal_(...)
        root = _root(func.value)
        if name in _STORE_CALLS and (root is None or root not in meth.scope.bindings):
            return True  # stored into self, an argument or a global, not into a local
        if root == meth.self_name and isinstance(func.value, cst.Name):
            helper = next((c.methods[name] for c in chain if name in c.methods), None)
            if helper is not None and not helper.returns_value:
                return True  # delegates to a procedure of the class
    return False


#: namespaces whose functions compute values: a call of one as the last statement drops a result
_VALUE_NAMESPACES = ("torch", "math", "numpy", "mindspore", "einops", "functools", "operator", "builtins")


def _ends_in_library_effect(model: FileModel, cls: ClassFacts, meth: MethodFacts) -> bool:
    """The last statement is a call of an imported library function used as a statement (``pyro.sample(...)``).

    A forward whose final act is handing something to a library function,
    with its result discarded, is run for that effect (recording a sample
    site, logging, emitting an event); a forgotten ``return`` leaves a
    *value* behind instead (``x = self.fc(x)``, ``self.fc(x)``, ``F.relu(x)``).
    Found by descending into the last statement of ``with``/``for`` blocks
    and of every branch of a final ``if``; calls of torch/math/numpy functions, builtins and the class's own
    methods still count as dropped values. Inside a final loop, a call of a callable the constructor was handed
    (``self.iter_fn = iter_fn``, never a layer or a registered value) hands each iteration's result to it.
    """
    return _last_is_effect(model, _statements(meth.node.body), 0, _callbacks(cls))


def _callbacks(cls: ClassFacts) -> frozenset[str]:
    """``self.<name>`` callables the class was handed: attributes assigned only from ``__init__``'s parameters,
    never a layer, a registered value or a method of the class (``self.iter_fn = iter_fn``)."""
    chain = (cls, *cls.ancestors())
    handed: dict[str, bool] = {}
    for c in chain:
        init = c.methods.get("__init__")
        params = {p.name.value for p in init.node.params.params} if init is not None else set()
        for a in c.self_assigns:
            given = a.method == "__init__" and isinstance(a.value, cst.Name) and a.value.value in params
            handed[a.attr] = handed.get(a.attr, True) and given
    methods = set().union(*(c.methods.keys() for c in chain))
    return frozenset(a for a, ok in handed.items() if ok and a not in methods and a not in cls.registered_names())


def _statements(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    """The statements of an indented block; a one-line suite (``for x in y: f(x)``) counts as one."""
    return suite.body if isinstance(suite, cst.IndentedBlock) else (suite,)


def _last_is_effect(model: FileModel, stmts: Sequence[cst.CSTNode], depth: int, callbacks: frozenset[str] = frozenset(),
                    in_loop: bool = False) -> bool:
    if not stmts or depth > 8:
        return False
    stmt = stmts[-1]
    if isinstance(stmt, (cst.With, cst.For, cst.While)) and not getattr(stmt, "orelse", None):
        return _last_is_effect(model, _statements(stmt.body), depth + 1, callbacks, in_loop or not isinstance(stmt, cst.With))
    if isinstance(stmt, cst.If):  # every branch ends in an effect
        if not _last_is_effect(model, _statements(stmt.body), depth + 1, callbacks, in_loop):
            return False
        other = stmt.orelse
        if other is None:  # the path around the if ends in the statement before it
            return len(stmts) == 1 or _last_is_effect(model, stmts[-2:-1], depth + 1, callbacks, in_loop)
        return _last_is_effect(model, _statements(other.body) if isinstance(other, cst.Else) else (other,), depth + 1,
                               callbacks, in_loop)
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 or not isinstance(stmt.body[0], cst.Expr):
        return False
    call = stmt.body[0].value
    if in_loop and isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and \
            isinstance(call.func.value, cst.Name) and call.func.value.value == "self" and call.func.attr.value in callbacks:
        return True  # for ...: self.iter_fn(block): each iteration's result handed to a callable the class was given
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return False
    dotted = dotted_name(call.func)
    q = model.imports.qualify(dotted) if dotted else None
    return q is not None and q.split(".")[0] not in _VALUE_NAMESPACES


class ForwardReturnsNothing(Rule):
    """
    ## What it does
    Finds a torch `forward` or MindSpore `construct` that never returns a value:
    no `return <expr>` and no `yield` on any path (a `return` inside a nested
    function or lambda does not count).

    Not reported, because the `None` result is deliberate:
    - a `forward` annotated `-> None`: it declares that it returns nothing
      (a module called for its in-place effect);
    - a body whose last *reachable* statement is a `raise` (statements after
      it, like a leftover `return`, are dead code) (`raise NotImplementedError`: an abstract or
      disabled entry point);
    - a `pass`/`...`/docstring-only body, anywhere: a placeholder, not a
      forgotten `return` (an abstract base, a `torch.jit.interface`, a blank
      module to trace -- torch's own `export/_unlift.py` and
      `ao/ns/fx/n_shadows_utils.py` have such forwards on purpose), and any
      `@abstractmethod` or `@overload`;
    - a method that stores its results instead of returning them: it assigns or
      appends to `self` (`self.cache = x`, `self.features.append(x)`), calls an
      in-place tensor method (`self.avg.mul_(m).add_(x)`), stores into an
      argument or global (`outputs.append(x)`), or delegates to a method of the
      class that itself returns nothing. Such forwards exist (EMA updaters,
      feature collectors); when in doubt the rule stays silent;
    - a method whose last statement hands something to an imported library
      function and drops its result (`pyro.sample("z", d)`, also inside a
      final `with`/`for` block): it runs for that effect. Calls of torch,
      math or numpy functions, builtins and the class's own layers there are
      dropped values and are reported;
    - a method whose final loop ends by handing each iteration's result to a
      callable the constructor was given (`self.iter_fn = iter_fn`, then
      `for ...: self.iter_fn(block, s, e)`; never a layer, a registered value
      or a method of the class): a block-wise visitor, whose results go to
      the callback. A layer called there (`for ...: self.fc(x)`) drops its
      value and is reported.

    ## Why is this bad?
    Calling the module returns `None`. Nothing raises there: the next layer or
    the loss then fails with a confusing `TypeError: ... 'NoneType'`, or, in
    `nn.Sequential`, every layer after it receives `None`. The usual cause is a
    forgotten `return x` after a loop (`for layer in self.layers: x = layer(x)`).

    MindSpore runtime truth:
    `tests/test_mindspore_probes.py::test_mrg305_construct_without_return_gives_none`
    (the Cell example returns `None` in PyNative mode).

    ## Example
    ```python
    class Net(nn.Module):
        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x
    ```

    ## Fix safety
    No automatic fix: which value the method should return is the author's
    decision (the last assigned name is a guess).

    ## References
    - [torch.nn.Module.forward](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.forward)
    - [mindspore.nn.Cell.construct](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    """

    code = "MRG305"
    name = "forward-returns-nothing"
    summary = "`forward`/`construct` that never returns a value"
    message = "'{method}' of '{cls}' never returns a value: calling the {unit} gives None"
    fix_hint = "return its output (`return x`)"

    invalid = (
        Invalid(
            """
            import torch.nn as nn

            layer_list = [nn.Conv2d(5, 5, 3), nn.BatchNorm2d(5), nn.Linear(5, 2)]

            class myNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = layer_list

                def forward(x):
                    for layer in self.layers:
                        x = layer(x)
            """,
            at=[(10, 8)],
            also=(("MRG101", 8, 8), ("MRG304", 10, 8)),
            title="the seed: `def forward(x)` without a return gives MRG304 and MRG305",
        ),
        Invalid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 2)

                def forward(self, x):
                    x = self.fc(x)

            class Act(nn.Module):
                def forward(self, x):
                    x.relu()

            class Show(nn.Module):
                def forward(self, x):
                    print(x.shape)
            """,
            at=[(8, 8), (12, 8), (16, 8)],
            title="a dropped result, a result computed and lost, a debug print layer",
        ),
        Invalid(
            """
            import mindspore.nn as nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = nn.Dense(4, 2)

                def construct(self, x, skip=False):
                    if skip:
                        return
                    out = self.dense(x)

                    def head():
                        return out

                    fn = lambda: out
            """,
            at=[(8, 8)],
            title="MindSpore: a bare `return`, and returns only in a nested def and a lambda",
        ),
        Invalid(
            """
            import logging
            import torch
            import torch.nn.functional as F
            from torch import nn

            class A(nn.Module):
                def forward(self, x):
                    F.relu(x)

            class B(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)

                def forward(self, x):
                    with torch.no_grad():
                        self.fc(x)

            class C(nn.Module):
                def forward(self, x, debug=False):
                    x = x * 2
                    if debug:
                        logging.info("x: %s", x)
            """,
            at=[(7, 8), (15, 8), (20, 8)],
            title="a torch function or a layer called last, a value computed before a conditional log: dropped",
        ),
        Invalid(
            """
            import torch.nn as nn

            class Blockwise(nn.Module):
                def __init__(self, n=4, batch_size=2):
                    super().__init__()
                    self.fc = nn.Linear(n, n)
                    self.batch_size = batch_size

                def forward(self, q):
                    for s in range(0, q.shape[0], self.batch_size):
                        self.fc(q[s : s + self.batch_size])
            """,
            at=[(9, 8)],
            title="a layer in a final loop: each value is dropped",
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn

            class Update(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.register_buffer("table", torch.zeros(4))

                def forward(self, rows: torch.Tensor) -> None:
                    self.table[rows] += 1
            """,
            why="declared `-> None`: called for its in-place update",
        ),
        Valid(
            """
            import torch.nn as nn

            class Base(nn.Module):
                def forward(self, x):
                    raise NotImplementedError
                    print("unreachable")
                    return
            """,
            why="a raise followed by dead statements: the body still ends in raise",
        ),
        Valid(
            """
            import logging

            import torch.nn as nn

            log = logging.getLogger(__name__)

            class Guide(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.loc = nn.Linear(4, 2)

                def forward(self, x, names):
                    loc = self.loc(x)
                    for name in names:
                        logging.info("%s: %s", name, loc.mean())
            """,
            why="the last statement hands the value to an imported library function (run for that effect)",
        ),
        Valid(
            """
            import abc
            import torch.nn as nn

            class Base(nn.Module):
                def forward(self, x):
                    raise NotImplementedError

            class Disabled(nn.Module):
                def forward(self, x):
                    '''Use encode() instead.'''
                    raise RuntimeError("call encode()")

            class Template(nn.Module):
                def forward(self, x):
                    ...

            class Impl(Template):
                def forward(self, x):
                    return x

            class Abstract(nn.Module, abc.ABC):
                @abc.abstractmethod
                def forward(self, x):
                    pass

            class Gen(nn.Module):
                def forward(self, xs):
                    for x in xs:
                        yield x * 2

            class GuardsFn(nn.Module):
                def forward(self, *args):
                    pass
            """,
            why="raises, placeholder stubs (one completed by a subclass, one used as a blank module), an abstract method, a generator",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class EMA(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.register_buffer("avg", torch.zeros(4))

                @torch.no_grad()
                def forward(self, x):
                    self.avg.mul_(0.9).add_(x.mean(0), alpha=0.1)

            class Cache(nn.Module):
                def forward(self, x):
                    self.last = x.detach()

            class Collect(nn.Module):
                def forward(self, x, outputs):
                    outputs.append(x)

            class Update(nn.Module):
                def forward(self, x):
                    self._update(x)

                def _update(self, x):
                    self.seen = x
            """,
            why="forwards that store their results on purpose: in-place updates, self attributes, arguments, a procedure",
        ),
        Valid(
            """
            import typing
            import mindspore.nn as nn
            import torch.nn as tnn

            class Net(nn.Cell):
                def construct(self, x):
                    self.forward(x)
                    return x

                def forward(self, x):
                    print(x)

            class Typed(tnn.Module):
                @typing.overload
                def forward(self, x: int) -> int: ...
                def forward(self, x):
                    return x
            """,
            why="`forward` is only a helper in a Cell; `@overload` stubs",
        ),
        Valid(
            """
            import torch.nn as nn

            class Blockwise(nn.Module):
                def __init__(self, distance, iter_fn=None, batch_size=2):
                    super().__init__()
                    self.distance = distance
                    self.iter_fn = iter_fn
                    self.batch_size = batch_size

                def forward(self, q, ref):
                    for s in range(0, q.shape[0], self.batch_size):
                        e = s + self.batch_size
                        self.iter_fn(self.distance(q[s:e], ref), s, e)
            """,
            why="each block handed to a callable the constructor was given: a visitor, not a lost value",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for cls, meth in entry_points(model):
            if meth.returns_value or meth.yields or meth.is_async or meth.ends_in_raise:
                continue
            ret = meth.node.returns
            if ret is not None and isinstance(ret.annotation, cst.Name) and ret.annotation.value == "None":
                continue  # `-> None`: declared to return nothing (a module that updates state in place)
            if any(d.rsplit(".", 1)[-1] in _ABSTRACT for d in meth.decorators):
                continue
            if meth.is_stub or _side_effects(model, cls, meth) or _ends_in_library_effect(model, cls, meth):
                continue
            report(meth.node.name, method=meth.name, cls=cls.name, unit="module" if cls.framework == "torch" else "cell")
