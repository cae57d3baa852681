from __future__ import annotations

import re

import libcst as cst

from .. import known
from ..model import ClassFacts, FileModel, Tag
from ..uses import _param_for, use_index, walk_nodes
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._tensors import plain_tensors

_ASSIGN_OPS = frozenset({"mindspore.ops.assign", "mindspore.ops.assign_add", "mindspore.ops.assign_sub"})
#: the operator classes behind them: ``P.Assign()(self.x, v)``, or ``self.assign = P.Assign()`` then ``self.assign(self.x, v)``
_ASSIGN_PRIMITIVES = frozenset({"Assign", "AssignAdd", "AssignSub"})


def _ops_class(q: str | None, names: frozenset[str]) -> bool:
    """``q`` is one of the MindSpore operator classes ``names``, however imported: ``mindspore.ops.Assign``,
    ``mindspore.ops.operations.AssignAdd`` (``from mindspore.ops import operations as P``), ``...math_ops.MatMul``."""
    if not q:
        return False
    head, _, name = q.rpartition(".")
    return name in names and (head == "mindspore.ops" or head.startswith("mindspore.ops.operations"))


def _self_attr(node: cst.BaseExpression, self_name: str | None) -> str | None:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == self_name:
        return node.attr.value
    return None


def _in_place(method: str) -> bool:
    """``set_data`` (a Parameter's) and the in-place Tensor methods ``add_``, ``copy_``, ``fill_``, ``zero_``, ..."""
    return method == "set_data" or (method.endswith("_") and not method.startswith("_"))


def _updated(model: FileModel, cls: ClassFacts) -> set[str]:
    """Attributes written after ``__init__``: reassigned, mutated, updated in place or assigned by an operator.

    In any method but ``__init__``: ``self.x = <a value computed from self.x>``, ``self.x += ...``,
    ``self.x[i] = ...``, ``self.x.add_(...)``/``.copy_(...)``/``.set_data(...)``,
    ``ops.assign(self.x, ...)`` (``assign_add``/``assign_sub``),
    ``P.Assign()(self.x, ...)``, or ``self.assign(self.x, ...)`` where
    ``self.assign = P.Assign()`` (``ops.Assign``/``AssignAdd``/``AssignSub``).
    """
    out = {a.attr for a in cls.self_assigns if a.method != "__init__" and _reads_old_value(cls, a)}
    out |= {m.attr for m in cls.mutations if m.method != "__init__"}
    assigners = {
        a.attr
        for c in (cls, *cls.ancestors())
        for a in c.self_assigns
        if isinstance(a.value, cst.Call) and _ops_class(model.qualify(a.value.func), _ASSIGN_PRIMITIVES)
    }
    for site in model.calls:
        if site.cls is not cls or site.method is None or site.method.name == "__init__":
            continue
        func, self_name = site.node.func, site.method.self_name
        if isinstance(func, cst.Attribute) and _in_place(func.attr.value):
            attr = _self_attr(func.value, self_name)
            if attr is not None:
                out.add(attr)
                continue
        if not site.node.args:
            continue
        if (
            model.qualify(func) in _ASSIGN_OPS
            or (isinstance(func, cst.Call) and _ops_class(model.qualify(func.func), _ASSIGN_PRIMITIVES))
            or _self_attr(func, self_name) in assigners
        ):
            attr = _self_attr(site.node.args[0].value, self_name)
            if attr is not None:
                out.add(attr)
    return out


def _reads_old_value(cls: ClassFacts, a) -> bool:
    """``self.x = f(self.x, ...)`` computes the new value from the old one (a counter, a running statistic); a value
    made without it is a cache rebuilt from the inputs or from other state (``self.w = self.embedding(max_len)``,
    ``self.q = split(self.proj.weight)``), and ``self.x = self.x`` changes nothing."""
    meth = cls.methods.get(a.method)
    me = meth.self_name if meth is not None else "self"
    if _self_attr(a.value, me) == a.attr:
        return False
    return any(_self_attr(n, me) == a.attr for n in walk_nodes(a.value))


def _set_data_targets(model: FileModel, cls: ClassFacts) -> set[str]:
    """Attributes ``self.x.set_data(...)`` is called on in any method, ``__init__`` included: on a plain tensor it
    raises ``AttributeError`` (``set_data`` exists only on Parameters)."""
    out = set()
    for site in model.calls:
        func = site.node.func
        if site.cls is cls and site.method is not None and isinstance(func, cst.Attribute) and func.attr.value == "set_data":
            attr = _self_attr(func.value, site.method.self_name)
            if attr is not None:
                out.add(attr)
    return out


_INITIALIZER = "mindspore.common.initializer.initializer"


_TENSOR_CLASSES = frozenset({"mindspore.Tensor", "mindspore.common.tensor.Tensor"})


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    return next((a.value for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _random_init(model: FileModel, init: cst.BaseExpression | None) -> bool:
    """An initializer that draws random values: ``Normal(...)``, ``TruncatedNormal(...)``, ``'xavier_uniform'``."""
    if init is None:
        return False
    if isinstance(init, cst.SimpleString) and isinstance(init.evaluated_value, str):
        return init.evaluated_value.lower() in known.MINDSPORE_RANDOM_INITIALIZERS
    func = init.func if isinstance(init, cst.Call) else init
    iq = model.qualify(func)
    return bool(iq and iq.startswith("mindspore.common.initializer.") and iq.rsplit(".", 1)[1] in known.MINDSPORE_RANDOM_INITIALIZERS)


def random_value(model: FileModel, e: cst.BaseExpression, scope, order=None, depth: int = 0) -> bool:
    """Does ``e`` hold values drawn at random when ``__init__`` runs?

    ``initializer(Normal(...), shape)`` (or a random alias: ``'xavier_uniform'``),
    ``ops.randn``/``mint.rand``/``mindspore.numpy.randn``, ``Tensor(np.random.randn(...))``,
    and anything computed from these (``ops.tanh(t)``, ``t.astype(...)``, ``0.02 * t``, a local).
    """
    if depth > 6:
        return False
    if isinstance(e, cst.Call):
        q = model.qualify(e.func)
        if q is None and isinstance(e.func, cst.Attribute):  # t.astype(...), t.expand_dims(...)
            return random_value(model, e.func.value, scope, order, depth + 1)
        if q is None:
            return False
        if q in known.MINDSPORE_RANDOM_CALLS or q.startswith("numpy.random."):
            return True
        if q in _TENSOR_CLASSES and _random_init(model, _keyword(e, "init")):  # Tensor(shape=..., init=Normal())
            return True
        args = [a.value for a in e.args if a.keyword is None]
        if q == _INITIALIZER and args:
            return _random_init(model, args[0])
        if q in known.MINDSPORE_TENSOR_FACTORIES or known.mindspore_function_of_tensors(q):
            return any(random_value(model, a, scope, order, depth + 1) for a in args)
        return False
    if isinstance(e, cst.BinaryOperation):
        return random_value(model, e.left, scope, order, depth + 1) or random_value(model, e.right, scope, order, depth + 1)
    if isinstance(e, cst.Name):
        b = model.value_binding(e.value, scope, order)
        return b is not None and random_value(model, b[0], b[1], b[2], depth + 1)
    return False


def lazy_initializer(model: FileModel, e: cst.BaseExpression, scope, order=None, depth: int = 0) -> bool:
    """Is ``e`` the lazy tensor ``initializer(...)`` returns (not ``initializer(...).init_data()``)?

    Through a local (``w = initializer(...); self.w = w``) and either branch of ``a if c else b``.
    """
    if depth > 6:
        return False
    if isinstance(e, cst.Call):  # initializer(...), or Tensor(shape=..., dtype=..., init=...)
        q = model.qualify(e.func)
        return q == _INITIALIZER or (q in _TENSOR_CLASSES and _keyword(e, "init") is not None)
    if isinstance(e, cst.IfExp):
        return any(lazy_initializer(model, b, scope, order, depth + 1) for b in (e.body, e.orelse))
    if isinstance(e, cst.Name):
        b = model.value_binding(e.value, scope, order)
        return b is not None and lazy_initializer(model, b[0], b[1], b[2], depth + 1)
    return False


#: functions that fill a new tensor (of a given shape) with one value
_FILL_FUNCTIONS = frozenset(
    f"{head}.{n}" for head in ("mindspore.ops", "mindspore.mint", "mindspore.numpy", "numpy") for n in ("zeros", "ones", "full", "fill", "fills")
)
#: operator classes that do the same when called: ``ops.Zeros()(shape, dtype)``, ``P.Fill()(dtype, shape, v)``
_FILL_PRIMITIVES = frozenset({"Zeros", "Ones", "Fill"})


def _fill_primitive(q: str | None) -> bool:
    return known.mindspore_tensor_primitive(q) and q.rpartition(".")[2] in _FILL_PRIMITIVES


#: calls whose result is filled with one value when their first argument is: tensor constructors and elementwise functions
_KEEPS_FILL = frozenset(
    {"mindspore.Tensor", "mindspore.tensor", "mindspore.from_numpy", "numpy.array", "numpy.asarray"}
    | {f"{head}.{n}" for head in ("numpy", "mindspore.ops", "mindspore.mint") for n in ("log", "exp", "sqrt", "abs")}
)


_INTEGER_DTYPE = re.compile(r"u?int\d*|bool_?|long")


def _integer_dtype(call: cst.Call) -> bool:
    """An argument names an integer or bool dtype (``mindspore.int32``, ``np.int64``, ``"bool"``, ``dtype=ms.uint8``)."""
    for a in call.args:
        v = a.value
        name = v.attr.value if isinstance(v, cst.Attribute) else v.value if isinstance(v, cst.Name) else None
        if isinstance(v, cst.SimpleString) and isinstance(v.evaluated_value, str):
            name = v.evaluated_value
        if name is not None and _INTEGER_DTYPE.fullmatch(name):
            return True
    return False


def _sized(args: list[cst.BaseExpression]) -> bool:
    """A shape that depends on the model's arguments: some name or attribute in it (``(1, n, dim)``), not only literals."""
    return any(isinstance(n, (cst.Name, cst.Attribute)) for a in args for n in walk_nodes(a))


def filled_value(model: FileModel, e: cst.BaseExpression, scope, order=None, depth: int = 0) -> bool:
    """Is ``e`` a tensor filled with one value, of a shape taken from the model's arguments?

    ``ops.zeros((1, n, dim))``, ``mint.ones(dim)``, ``ops.Zeros()((1, 1, dim), dtype)``,
    ``Tensor(np.zeros([1, dim]))``, and what is computed from one with numbers (``eta * ops.ones(dim)``,
    ``Tensor(np.log(10 * np.ones((h, 1, 1))))``), through a local and either branch of ``a if c else b``.
    """
    if depth > 6:
        return False
    if isinstance(e, cst.Call):
        if _integer_dtype(e):  # an integer or bool tensor is no weight: indices, masks, counters
            return False
        args = [a.value for a in e.args if a.keyword is None or a.keyword.value in ("shape", "size")]
        q = model.qualify(e.func)
        func = e.func
        if q is None and isinstance(func, cst.Name):  # zeros = ops.Zeros(); zeros(shape, dtype)
            b = model.value_binding(func.value, scope, order)
            func = b[0] if b is not None and isinstance(b[0], cst.Call) else func
        if q is None and isinstance(func, cst.Call):  # ops.Zeros()(shape, dtype)
            return _fill_primitive(model.qualify(func.func)) and _sized(args)
        if q is None and isinstance(e.func, cst.Attribute):  # t.astype(...)
            return filled_value(model, e.func.value, scope, order, depth + 1)
        if q in _FILL_FUNCTIONS:
            return _sized(args[:1] if not q.endswith(("fill", "fills")) else args)
        if q in _KEEPS_FILL:  # Tensor(np.ones(...)), np.log(c * np.ones(...)): still one value everywhere
            return any(filled_value(model, a, scope, order, depth + 1) for a in args[:1])
        return False
    if isinstance(e, cst.BinaryOperation):
        return filled_value(model, e.left, scope, order, depth + 1) or filled_value(model, e.right, scope, order, depth + 1)
    if isinstance(e, cst.UnaryOperation):
        return filled_value(model, e.expression, scope, order, depth + 1)
    if isinstance(e, cst.IfExp):
        return any(filled_value(model, b, scope, order, depth + 1) for b in (e.body, e.orelse))
    if isinstance(e, cst.Name):  # a local: unless its items are set afterwards (`w = np.zeros(...); w[i, j] = 1`)
        b = model.value_binding(e.value, scope, order)
        return b is not None and e.value not in b[1].adds and filled_value(model, b[0], b[1], b[2], depth + 1)
    return False


_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.MatrixMultiply)
#: the same arithmetic written in place (``x += self.pos``)
_AUG_ARITHMETIC = (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign, cst.DivideAssign, cst.MatrixMultiplyAssign)
#: MindSpore functions that do the same arithmetic as the operators
_ARITHMETIC_CALLS = frozenset(
    f"{head}.{n}" for head in ("mindspore.ops", "mindspore.mint") for n in ("add", "sub", "mul", "div", "matmul", "bmm", "addcmul")
)


#: MindSpore operator classes that do that arithmetic (``self.mul = ops.Mul()``, then ``self.mul(x, self.w)``), or
#: that use a tensor as a weight: a table lookup (``ops.Gather``), a normalisation's gamma and beta (``ops.LayerNorm``)
_ARITHMETIC_OPERATORS = frozenset(
    {"Add", "TensorAdd", "Sub", "Mul", "Div", "RealDiv", "MatMul", "BatchMatMul", "BiasAdd", "Gather", "GatherV2",
     "LayerNorm"}
)


#: MindSpore functions that concatenate their first argument's items (``ops.concat((token, x), 1)``)
_CONCAT_CALLS = frozenset(f"{head}.{n}" for head in ("mindspore.ops", "mindspore.mint") for n in ("concat", "cat", "hstack", "vstack"))


def _operator_attrs(model: FileModel, cls: ClassFacts) -> set[str]:
    """Attributes holding MindSpore operators (``self.expand_dims = ops.ExpandDims()``, ``self.concat = P.Concat(1)``)."""
    out = set()
    for c in (cls, *cls.ancestors()):
        for a in c.self_assigns:
            if isinstance(a.value, cst.Call):
                q = model.qualify(a.value.func) or ""
                if q.startswith("mindspore.ops.") and q.rpartition(".")[2][:1].isupper():
                    out.add(a.attr)
    return out


def _arithmetic_operand(model: FileModel, cls: ClassFacts, attr: str) -> bool:
    """Is ``self.<attr>``, or a value derived from it, an operand of arithmetic in a method other than ``__init__``?

    Arithmetic: ``+ - * / @``, ``ops.add/sub/mul/div/matmul``, the operators doing the same or using it as a
    weight (``self.mul = ops.Mul()``, ``ops.MatMul()``, ``ops.Gather()``, ``ops.LayerNorm()``: ``self.mul(x, self.w)``),
    and a concatenation (``ops.concat``, an ``ops.Concat`` operator) of it with other values.  Derived: reshaped, tiled or transformed by a MindSpore
    function or operator or a tensor method (``ops.reshape(self.g, ...)``, ``self.expand_dims(self.g, -1)``,
    ``self.g.astype(...)``, ``ops.tile(self.token, ...)``, its first argument), indexed, a local holding one, or
    what a method of the class returns when given one (``self._get_pos_embed(self.pos_embed2, h, w)``).
    """
    operators = _operator_attrs(model, cls)
    memo: dict[tuple[int, str, int], tuple[bool, bool]] = {}
    for c in (cls, *cls.ancestors()):
        for name, m in c.methods.items():
            if name == "__init__" or attr not in m.self_attrs:
                continue
            if _flow(model, cls, m, operators, lambda e, m=m: _self_attr(e, m.self_name) == attr, 0, memo)[0]:
                return True
    return False


def _flow(model: FileModel, cls: ClassFacts, m, operators: set[str], seed, depth: int,
          memo: dict[tuple[int, str, int], tuple[bool, bool]]) -> tuple[bool, bool]:
    """In method ``m``, values derived from those ``seed(expr)`` accepts: (are they arithmetic operands, does ``m``
    return one). ``memo``: the answers already found for a helper's parameter, by (id of its def, parameter, depth):
    the assignments of a method are re-derived until nothing grows, asking about the same helper call each time."""
    derived_locals: set[str] = set()
    idx = use_index(model)

    def helper_returns(call: cst.Call) -> bool:
        """``self.<method>(..., <derived>, ...)`` / ``function(..., <derived>, ...)`` (a method of the class, a function
        of the file, as ``UseIndex`` finds them for MRG201): it returns a value derived from that argument (and a
        derived value it computes with counts as met here too)."""
        f = call.func
        if depth >= 3 or _self_attr(f, m.self_name) in operators:
            return False
        if isinstance(f, cst.Name):
            helper, skip = idx.toplevel(f), False
        elif _self_attr(f, m.self_name) is not None:
            found = idx._helper(cls, idx.method(m), f)
            helper, skip = (found[1] if found is not None else None), True
        else:
            return False
        if helper is None:
            return False
        for a in call.args:
            if a.star or not derived(a.value):
                continue
            param = _param_for(helper.meth.node, call, a, skip_self=skip)
            if param is None:
                continue
            key = (id(helper.meth.node), param, depth + 1)
            if key not in memo:
                memo[key] = _flow(model, cls, helper.meth, operators,
                                  lambda e, p=param: isinstance(e, cst.Name) and e.value == p, depth + 1, memo)
            arith, returned = memo[key]
            met[0] = met[0] or arith
            if returned:
                return True
        return False

    def derived(e: cst.BaseExpression, d: int = 0) -> bool:
        if d > 8:
            return False
        if seed(e):
            return True
        if isinstance(e, cst.Name):
            return e.value in derived_locals
        if isinstance(e, cst.Subscript):
            return derived(e.value, d + 1)
        if isinstance(e, cst.UnaryOperation):
            return derived(e.expression, d + 1)
        if isinstance(e, cst.Call):
            f = e.func
            if isinstance(f, cst.Attribute) and derived(f.value, d + 1):  # self.g.astype(...), .exp()
                return True
            if helper_returns(e):
                return True
            first = next((a.value for a in e.args if a.keyword is None), None)
            if first is None:
                return False
            q = model.qualify(f) or ""
            ms_function = q.startswith(("mindspore.ops.", "mindspore.mint.", "mindspore.numpy."))
            operator = _self_attr(f, m.self_name) in operators or (
                isinstance(f, cst.Call) and (model.qualify(f.func) or "").startswith("mindspore.ops.")
            )
            return (ms_function or operator) and derived(first, d + 1)
        return False

    def op_class(f: cst.BaseExpression) -> str | None:
        """The operator class a callee is: ``P.Concat(1)(...)``, or ``self.concat(...)`` with ``self.concat =
        P.Concat(1)``."""
        if isinstance(f, cst.Call):
            return model.qualify(f.func)
        return _operator_class(model, cls, f, m.self_name) if _self_attr(f, m.self_name) in operators else None

    def concatenates(call: cst.Call) -> bool:
        f = call.func
        q = model.qualify(f) or ""
        concat = q in _CONCAT_CALLS or op_class(f) in _CONCAT_OPERATORS
        first = next((a.value for a in call.args if a.keyword is None), None)
        return concat and isinstance(first, (cst.Tuple, cst.List)) and any(derived(el.value) for el in first.elements)

    met = [False]
    nodes = list(walk_nodes(m.node))
    assigns = [
        (n.targets[0].target.value, n.value)
        for n in nodes
        if isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name)
    ]
    for _ in range(4):  # locals holding derived values, chains of them included
        grown = {t for t, v in assigns if t not in derived_locals and derived(v)}
        if not grown:
            break
        derived_locals |= grown
    for node in nodes:
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, _ARITHMETIC):
            if derived(node.left) or derived(node.right):
                return True, True
        elif isinstance(node, cst.AugAssign) and isinstance(node.operator, _AUG_ARITHMETIC):
            if derived(node.value):
                return True, True
        elif isinstance(node, cst.Call):
            if model.qualify(node.func) in _ARITHMETIC_CALLS and any(derived(a.value) for a in node.args):
                return True, True
            if _ops_class(op_class(node.func), _ARITHMETIC_OPERATORS) and any(derived(a.value) for a in node.args):
                return True, True  # self.mul(x, self.w), P.MatMul()(x, self.w), self.gather(self.table, ids, 0)
            if concatenates(node):
                return True, True
            helper_returns(node)  # a helper or function handed a derived value may compute with it (sets met)
            if met[0]:
                return True, True
    returned = any(isinstance(n, cst.Return) and n.value is not None and derived(n.value) for n in nodes)
    return met[0], returned


#: MindSpore operator classes that concatenate (``P.Concat(axis)``)
_CONCAT_OPERATORS = frozenset({"mindspore.ops.Concat", "mindspore.ops.operations.Concat", "mindspore.ops.operations.array_ops.Concat"})


def _operator_class(model: FileModel, cls: ClassFacts, func: cst.BaseExpression, self_name: str | None) -> str | None:
    """The operator class of ``self.<x>`` when ``self.x = ops.Concat(...)``-style (qualified), else None."""
    name = _self_attr(func, self_name)
    for c in (cls, *cls.ancestors()):
        for a in c.self_assigns:
            if a.attr == name and isinstance(a.value, cst.Call):
                return model.qualify(a.value.func)
    return None


def _read_after_init(cls: ClassFacts, attr: str) -> bool:
    return any(attr in m.self_attrs for c in (cls, *cls.ancestors()) for name, m in c.methods.items() if name != "__init__")


class MsTensorAsPlainAttribute(Rule):
    """
    ## What it does
    Finds state of a MindSpore `nn.Cell` kept in a plain tensor: a tensor
    created in `__init__` (`Tensor(...)`, `mindspore.tensor(...)`,
    `ops.zeros/ones/full/randn/...(...)`, `mint.zeros/ones/arange/...(...)`,
    `mindspore.numpy.*(...)`, `initializer(...)`, or one computed from these:
    `ops.exp(t)`, `t.astype(...)`) and stored as a plain attribute that
    another method then updates: `self.x = <a value computed from self.x>`
    (`self.step = self.step + 1`), `self.x += ...`,
    `self.x[i] = ...`, in place (`self.x.copy_(...)`, `.add_(...)`,
    `.set_data(...)`), or with an assign operator (`ops.assign(self.x, ...)`,
    `ops.assign_add`, `P.Assign()(self.x, ...)`, or `self.assign(self.x, ...)`
    with `self.assign = P.Assign()`). A value made without the old one is
    no update: a table rebuilt from the input's length (`self.weights =
    self.get_embedding(max_len)`) or split again from a Parameter after
    loading is a cache that every load rebuilds, and `self.x = self.x`
    changes nothing.

    ## Why is this bad?
    MindSpore has one kind of persistent state: `Parameter`. A plain tensor
    attribute is not in `get_parameters()`/`parameters_dict()` and not in the
    checkpoint `mindspore.save_checkpoint(net, ...)` writes, so the values it
    accumulates (running statistics, a step counter, an online-updated table)
    are silently lost on save/load, and `Cell.to(mindspore.float16)` leaves it
    behind (measured with MindSpore 2.10: `Float16` for a Parameter, `Float32`
    for the plain tensor). This is exactly why MindSpore keeps BatchNorm's
    `moving_mean` and `moving_variance` as `Parameter(..., requires_grad=False)`.
    Runtime truth (MindSpore 2.10, PyNative): `tests/test_mindspore_truth.py`
    and `tests/test_mindspore_probes.py::test_mrg203_*` run each example, see
    the state change after `__init__` (`copy_`, `P.AssignAdd`, a stored
    `P.Assign`, `ops.assign`, `+=`), and find it in neither
    `parameters_dict()` nor the checkpoint, while the `Parameter` twin has it.
    Worse, measured with 2.10 on CPU: a plain `initializer(...)` tensor is
    initialised lazily and silently drops `ops.assign`/`P.Assign` updates;
    `t.add_(v)` on a plain tensor returns a new tensor and leaves `t` as it
    was; and `set_data` exists only on Parameters (`AttributeError` on a
    plain tensor). As a `Parameter` every one of these updates works.

    Also reported: a plain tensor of **random values** that another method
    reads (and no method but `__init__` replaces: a random stand-in that
    `process_weights_after_loading()` overwrites is not what runs) -- `initializer(Normal(...)/TruncatedNormal(...)/'xavier_uniform', ...)`
    (the random initializers are generated from the 2.10 wheel: two draws
    differ; also `Tensor(shape=..., init=Normal())`), `ops.randn`/`mint.rand`,
    `Tensor(np.random.randn(...))`, or one
    computed from these. Typically a learnable weight (a position embedding, a
    class token) ported as a plain tensor: it is never trained, and since no
    checkpoint holds it, a model restored with `load_checkpoint` draws other
    values and gives other outputs (measured:
    `tests/test_mindspore_probes.py::test_mrg203_random_plain_tensors_are_not_restored`).
    (Without `.init_data()`, a plain `initializer(...)` tensor is not even
    usable in 2.10: it is initialised lazily, `construct` raises `RuntimeError:
    ... is uninitialized`, and `ops.assign` to it is silently dropped.)

    Also reported, when another method uses it in arithmetic -- an operand of
    `+ - * / @` (in place too, `x += self.segment`) or of
    `ops.add/sub/mul/div/matmul`, an argument of an operator
    doing the same or using it as a weight (`self.mul = ops.Mul()` then
    `self.mul(x, self.weight)`; `ops.MatMul`, `ops.BatchMatMul`, `ops.Add`,
    `ops.RealDiv`, `ops.BiasAdd`, the table of `ops.Gather`, the gamma/beta of
    `ops.LayerNorm`), or concatenated with other
    values (`ops.concat`, an `ops.Concat` operator), directly or after
    MindSpore functions, operators or tensor methods reshaped or transformed
    it (`ops.reshape(self.g, ...)`, `self.expand_dims(self.g, -1)`,
    `self.tile(self.cls_token, ...)`, `.astype(...)`), also through locals
    and through a method of the class, or a function of the file, that
    returns it (or computes with it) when handed it (`pos =
    self._get_pos_embed(self.pos_embed, h, w)`, `add_rel(attn, q,
    self.rel_pos)`; a helper that only reads its shape does not count):

    - a **constant fill**: a floating tensor filled with one value, of a shape
      taken from the model's arguments -- `ops.zeros((1, n, dim))`,
      `mint.ones(dim)`, `ops.Zeros()((1, 1, dim), dtype)` (also through a
      local `zeros = ops.Zeros()`),
      `Tensor(np.zeros([1, dim]))`, `eta * ops.ones(dim)`. `x + zeros` and
      `x * ones` compute nothing a Python number would not: such a tensor is a
      learnable weight (a position embedding, a layer scale, a bias table)
      left without `Parameter` -- never trained -- or state a checkpoint
      should restore (a vocoder's `mean`/`scale`): either way the values that
      matter are not in `get_parameters()` nor in the checkpoint (probe:
      `tests/test_mindspore_truth.py` runs the example; silent twin:
      `Parameter(ops.zeros(...))`). Silent: integer or bool tensors (indices,
      masks), shapes of literals only (`ops.zeros((1,))`), fills whose items
      are set afterwards (`w = np.zeros(...); w[i, j] = 1`), masks computed
      from a fill (`ops.tril(ops.ones(...))`), and fills only passed to
      layers or other functions (an RNN's initial state).
    - a tensor that any method, `__init__` included, gives **`.set_data(...)`**
      (a weight re-initialised by an init routine): `set_data` exists only
      on Parameters, so the call raises `AttributeError` (measured:
      `tests/test_mindspore_probes.py::test_mrg203_set_data_exists_only_on_parameters`
      and `::test_mrg203_set_data_in_init_raises`);
    - **lazy `initializer(...)` data** (or `Tensor(shape=..., init=...)`,
      without `.init_data()`): in PyNative
      mode, MindSpore's default, `construct` raises `RuntimeError: ... is
      uninitialized` (measured with 2.10:
      `tests/test_mindspore_probes.py::test_mrg203_lazy_initializer_tensor_raises_in_pynative`;
      graph mode initialises it when compiling).

    Measured on six MindSpore libraries before any mutation (mindcv, mindyolo,
    mindocr, mindaudio, mindone, mindformers: 1.24 million lines), these two
    checks report one attribute pair: mindone's `SpeechT5HifiGan.mean`/`scale`,
    which the PyTorch original registers as buffers and loads from the
    checkpoint (the port never restores them).

    Constants are not reported: tensors that only `__init__` writes
    (`self.eps = Tensor(np.array([eps]))`, masks, padding tables) are
    recreated by `__init__` and need no checkpoint, and MindSpore code
    (MindSpore's own `nn` package included: 9 such attributes, all constants)
    keeps them as attributes for graph mode. Also silent: names registered with
    `self.register_buffer(...)`/`self.insert_param_to_cell(...)`, Parameters,
    operators such as `ops.ReLU()` (a primitive, not a tensor), and tensors
    built in `construct`.

    ## Example
    ```python
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.running_mean = Tensor(np.zeros(4), mindspore.float32)

        def construct(self, x):
            self.running_mean = 0.9 * self.running_mean + 0.1 * x.mean(0)
            return x - self.running_mean
    ```

    ## Use instead
    ```python
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.running_mean = Parameter(Tensor(np.zeros(4), mindspore.float32), requires_grad=False)

        def construct(self, x):
            ops.assign(self.running_mean, 0.9 * self.running_mean + 0.1 * x.mean(0))
            return x - self.running_mean
    ```
    `Parameter(..., requires_grad=False)` is in `get_parameters()` and in
    checkpoints; give the optimizer `trainable_params()` then (see MRG503).
    MindSpore 2.10 also has `Cell.register_buffer(name, tensor)` (older
    MindSpore lacked it): a buffer is in `buffers()` and `state_dict()` and
    is cast by `Cell.to()`, but `save_checkpoint(net, ...)` does not write it
    (measured; `save_checkpoint(net.state_dict(), ...)` does), and assigning a
    new Tensor to a buffer's name raises `TypeError` in 2.10 (measured), so
    update buffers in place.

    ## Fix safety
    No automatic fix. Wrapping the tensor in
    `Parameter(..., requires_grad=False)` would be unsafe: it adds a
    checkpoint key (old checkpoints lack it and `load_checkpoint` reports it
    as not loaded), a `get_parameters()`-fed optimizer with weight decay
    starts changing it (MRG503), and reassigning a Parameter attribute in
    `construct` must become `ops.assign(...)`.

    ## References
    - [mindspore.Parameter](https://www.mindspore.cn/docs/en/master/api_python/mindspore/mindspore.Parameter.html)
    - [mindspore.nn.Cell.register_buffer](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    - [mindspore.nn.BatchNorm2d (moving_mean, moving_variance)](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.BatchNorm2d.html)
    """

    code = "MRG203"
    name = "ms-tensor-as-plain-attribute"
    summary = "State of a Cell (updated after `__init__`, random values, a constant fill used as a weight) kept in a plain MindSpore tensor"
    frameworks = frozenset({"mindspore"})
    message = "MindSpore tensor 'self.{attr}' holds {what}, not saved"
    fix_hint = "it is in neither get_parameters() nor checkpoints: use Parameter(..., requires_grad=False) (how BatchNorm keeps moving_mean) or self.register_buffer('{attr}', ...)"
    fix_summary = "`Parameter(Tensor(...), requires_grad=False)` or `self.register_buffer(name, ...)`"

    invalid = (
        Invalid(
            """
            import numpy as np
            import mindspore
            from mindspore import nn, ops, Tensor

            class RunningNorm(nn.Cell):
                def __init__(self, dim=4):
                    super().__init__()
                    self.running_mean = Tensor(np.zeros(dim), mindspore.float32)
                    self.running_var = ops.ones((dim,), mindspore.float32)
                    self.count = mindspore.tensor(0)
                    self.eps = Tensor(np.array([1e-5]), mindspore.float32)

                def construct(self, x):
                    self.running_mean = 0.9 * self.running_mean + 0.1 * x.mean(0)
                    ops.assign(self.running_var, 0.9 * self.running_var + 0.1 * x.var(0))
                    self.count += 1
                    return (x - self.running_mean) / ops.sqrt(self.running_var + self.eps)
            """,
            at=[(8, 8), (9, 8), (10, 8)],
            title="running statistics kept as plain tensors (the constant eps is not reported)",
            probe=Probe(
                cls="RunningNorm",
                attr="running_mean",
                framework="mindspore",
                twin="""
                import numpy as np
                import mindspore
                from mindspore import nn, ops, Tensor, Parameter

                class RunningNorm(nn.Cell):
                    def __init__(self, dim=4):
                        super().__init__()
                        self.running_mean = Parameter(Tensor(np.zeros(dim), mindspore.float32), requires_grad=False)
                        self.running_var = Parameter(ops.ones((dim,), mindspore.float32), requires_grad=False)
                        self.count = Parameter(mindspore.tensor(0), requires_grad=False)
                        self.eps = Tensor(np.array([1e-5]), mindspore.float32)

                    def construct(self, x):
                        ops.assign(self.running_mean, 0.9 * self.running_mean + 0.1 * x.mean(0))
                        ops.assign(self.running_var, 0.9 * self.running_var + 0.1 * x.var(0))
                        ops.assign_add(self.count, mindspore.tensor(1))
                        return (x - self.running_mean) / ops.sqrt(self.running_var + self.eps)
                """,
            ),
        ),
        Invalid(
            """
            import mindspore as ms
            import mindspore.numpy as mnp
            from mindspore import ops

            class Memory(ms.nn.Cell):
                def __init__(self, n=8, d=4):
                    super().__init__()
                    table = mnp.randn(n, d)
                    self.table = ops.tanh(table).astype(ms.float32)
                    self.mask = mnp.ones((n,)).astype(ms.int32)

                def write(self, idx, value):
                    self.table[idx] = value

                def construct(self, idx):
                    return self.table[idx] * self.mask[idx].expand_dims(-1)
            """,
            at=[(9, 8)],
            title="mindspore.numpy through a local, an ops function and a method; written in another method",
            probe=Probe(
                cls="Memory",
                attr="table",
                framework="mindspore",
                twin="""
                import mindspore as ms
                import mindspore.numpy as mnp
                from mindspore import ops

                class Memory(ms.nn.Cell):
                    def __init__(self, n=8, d=4):
                        super().__init__()
                        table = mnp.randn(n, d)
                        self.table = ms.Parameter(ops.tanh(table).astype(ms.float32), requires_grad=False)
                        self.register_buffer("mask", mnp.ones((n,)).astype(ms.int32))

                    def write(self, idx, value):
                        self.table[idx] = value

                    def construct(self, idx):
                        return self.table[idx] * self.mask[idx].expand_dims(-1)
                """,
            ),
        ),
        Invalid(
            """
            import mindspore
            from mindspore import nn, mint
            from mindspore.ops import operations as P
            from mindspore.common.initializer import initializer, Zero

            class Tracker(nn.Cell):
                def __init__(self, dim=4):
                    super().__init__()
                    self.last = mint.zeros((dim,))
                    self.total = mint.zeros((dim,))
                    self.peak = initializer(Zero(), (dim,), mindspore.float32)
                    self.assign = P.Assign()
                    self.fc = mint.nn.Linear(dim, dim)

                def construct(self, x):
                    self.last.copy_(x.mean(0))
                    P.AssignAdd()(self.total, x.sum(0))
                    self.assign(self.peak, x.mean(0) * 2)
                    return self.fc(x)
            """,
            at=[(9, 8), (10, 8), (11, 8)],
            title="mint.zeros and initializer(...), updated in place, by P.AssignAdd()(...) and by a stored P.Assign()",
            probe=Probe(
                cls="Tracker",
                attr="total",
                framework="mindspore",
                twin="""
                import mindspore
                from mindspore import nn, mint, Parameter
                from mindspore.ops import operations as P
                from mindspore.common.initializer import initializer, Zero

                class Tracker(nn.Cell):
                    def __init__(self, dim=4):
                        super().__init__()
                        self.last = Parameter(mint.zeros((dim,)), requires_grad=False)
                        self.total = Parameter(mint.zeros((dim,)), requires_grad=False)
                        self.peak = Parameter(initializer(Zero(), (dim,), mindspore.float32), requires_grad=False)
                        self.assign = P.Assign()
                        self.fc = mint.nn.Linear(dim, dim)

                    def construct(self, x):
                        self.last.copy_(x.mean(0))
                        P.AssignAdd()(self.total, x.sum(0))
                        self.assign(self.peak, x.mean(0) * 2)
                        return self.fc(x)
                """,
            ),
        ),
        Invalid(
            """
            import numpy as np
            import mindspore as ms
            from mindspore import nn, ops, Tensor
            from mindspore.common.initializer import initializer, TruncatedNormal

            class Embed(nn.Cell):
                def __init__(self, n=4, dim=8):
                    super().__init__()
                    self.pos_embed = initializer(TruncatedNormal(0.02), (1, n, dim), ms.float32).init_data()
                    self.cls_token = Tensor(np.random.randn(1, 1, dim), ms.float32)
                    self.proj = ops.eye(dim, dim, ms.float32)
                    self.offset = ops.zeros((1, 1, dim), ms.float32)
                    seed = Tensor(np.random.randn(dim), ms.float32)
                    self.norm = float(ops.norm(seed).asnumpy())

                def construct(self, x):
                    cls = ops.broadcast_to(self.cls_token, (x.shape[0], -1, -1))
                    x = ops.concat((cls, x + self.pos_embed), axis=1)
                    return ops.matmul(x, self.proj) + self.offset
            """,
            at=[(9, 8), (10, 8), (12, 8)],
            title="random values (learnable embeddings ported as plain tensors), and a zero offset added to the output "
            "(a constant fill); the constant eye is not reported",
            probe=Probe(
                cls="Embed",
                attr="pos_embed",
                framework="mindspore",
                twin="""
                import numpy as np
                import mindspore as ms
                from mindspore import nn, ops, Tensor, Parameter
                from mindspore.common.initializer import initializer, TruncatedNormal

                class Embed(nn.Cell):
                    def __init__(self, n=4, dim=8):
                        super().__init__()
                        self.pos_embed = Parameter(initializer(TruncatedNormal(0.02), (1, n, dim), ms.float32))
                        self.cls_token = Parameter(Tensor(np.random.randn(1, 1, dim), ms.float32))
                        self.proj = ops.eye(dim, dim, ms.float32)
                        self.offset = Parameter(ops.zeros((1, 1, dim), ms.float32))
                        seed = Tensor(np.random.randn(dim), ms.float32)
                        self.norm = float(ops.norm(seed).asnumpy())

                    def construct(self, x):
                        cls = ops.broadcast_to(self.cls_token, (x.shape[0], -1, -1))
                        x = ops.concat((cls, x + self.pos_embed), axis=1)
                        return ops.matmul(x, self.proj) + self.offset
                """,
            ),
        ),
        Invalid(
            """
            import numpy as np
            import mindspore as ms
            from mindspore import nn, ops, Tensor
            from mindspore.common.initializer import initializer, TruncatedNormal

            class Block(nn.Cell):
                def __init__(self, n=4, dim=8, eta=1e-5):
                    super().__init__()
                    self.pos_embed = ops.zeros((1, n, dim), ms.float32)
                    self.gamma = eta * ops.ones(dim, ms.float32)
                    self.bias_table = Tensor(np.zeros((n, dim)), ms.float32)
                    self.scale = initializer("ones", (dim,), ms.float32)
                    self.rel = Tensor(shape=(n, dim), dtype=ms.float32, init=TruncatedNormal(0.02))
                    self.fc = nn.Dense(dim, dim)

                def construct(self, x):
                    x = x + self.pos_embed
                    x = x + self.gamma * self.fc(x) + ops.matmul(ops.ones((4, 4), ms.float32), self.bias_table)
                    return x * self.scale + self.rel
            """,
            at=[(9, 8), (10, 8), (11, 8), (12, 8), (13, 8)],
            title="weights ported without Parameter: constant fills used in arithmetic, and lazy initializer() data "
            "(PyNative: RuntimeError)",
            probe=Probe(
                cls="Block",
                attr="pos_embed",
                framework="mindspore",
                twin="""
                import numpy as np
                import mindspore as ms
                from mindspore import nn, ops, Tensor, Parameter
                from mindspore.common.initializer import initializer, TruncatedNormal

                class Block(nn.Cell):
                    def __init__(self, n=4, dim=8, eta=1e-5):
                        super().__init__()
                        self.pos_embed = Parameter(ops.zeros((1, n, dim), ms.float32))
                        self.gamma = Parameter(eta * ops.ones(dim, ms.float32))
                        self.bias_table = Parameter(Tensor(np.zeros((n, dim)), ms.float32))
                        self.scale = Parameter(initializer("ones", (dim,), ms.float32))
                        self.rel = Parameter(Tensor(shape=(n, dim), dtype=ms.float32, init=TruncatedNormal(0.02)))
                        self.fc = nn.Dense(dim, dim)

                    def construct(self, x):
                        x = x + self.pos_embed
                        x = x + self.gamma * self.fc(x) + ops.matmul(ops.ones((4, 4), ms.float32), self.bias_table)
                        return x * self.scale + self.rel
                """,
            ),
        ),
        Invalid(
            """
            import mindspore as ms
            from mindspore import nn, ops
            from mindspore.common.initializer import initializer, TruncatedNormal

            class Stage(nn.Cell):
                def __init__(self, dim=8):
                    super().__init__()
                    self.cls_token = ops.Zeros()((1, 1, dim), ms.float32)
                    self.cls_token.set_data(initializer(TruncatedNormal(0.02), self.cls_token.shape))

                def construct(self, x):
                    return ops.concat((ops.broadcast_to(self.cls_token, (x.shape[0], -1, -1)), x), 1)
            """,
            at=[(8, 8)],
            title="set_data() on a plain tensor (an init routine re-initialising a weight): AttributeError",
        ),
        Invalid(
            """
            import mindspore as ms
            from mindspore import nn, ops, Parameter

            class Norm(nn.Cell):
                def __init__(self, dim=8):
                    super().__init__()
                    self.layer_norm = ops.LayerNorm(begin_norm_axis=-1, begin_params_axis=-1)
                    self.mul = ops.Mul()
                    self.gamma = Parameter(ops.ones((dim,), ms.float32))
                    self.beta = ops.zeros((dim,), ms.float32)
                    self.scale = ops.ones((dim,), ms.float32)

                def construct(self, x):
                    out, _, _ = self.layer_norm(x, self.gamma, self.beta)
                    return self.mul(out, self.scale)
            """,
            at=[(10, 8), (11, 8)],
            title="constant fills used through stored operators (ops.LayerNorm's beta, ops.Mul): weights never trained",
            probe=Probe(
                cls="Norm",
                attr="beta",
                framework="mindspore",
                twin="""
                import mindspore as ms
                from mindspore import nn, ops, Parameter

                class Norm(nn.Cell):
                    def __init__(self, dim=8):
                        super().__init__()
                        self.layer_norm = ops.LayerNorm(begin_norm_axis=-1, begin_params_axis=-1)
                        self.mul = ops.Mul()
                        self.gamma = Parameter(ops.ones((dim,), ms.float32))
                        self.beta = Parameter(ops.zeros((dim,), ms.float32))
                        self.scale = Parameter(ops.ones((dim,), ms.float32))

                    def construct(self, x):
                        out, _, _ = self.layer_norm(x, self.gamma, self.beta)
                        return self.mul(out, self.scale)
                """,
            ),
        ),
        Invalid(
            """
            import mindspore as ms
            from mindspore import nn, ops

            class Embed(nn.Cell):
                def __init__(self, n=4, dim=8):
                    super().__init__()
                    self.n = n
                    self.proj = nn.Dense(dim, dim)
                    self.pos_embed = ops.zeros((1, n, dim), ms.float32)

                def _get_pos_embed(self, pos_embed, n):
                    if n == self.n:
                        return pos_embed
                    return ops.interpolate(pos_embed.transpose(0, 2, 1), size=n).transpose(0, 2, 1)

                def construct(self, x):
                    pos = self._get_pos_embed(self.pos_embed, x.shape[1])
                    return self.proj(x + pos)
            """,
            at=[(9, 8)],
            title="a constant fill handed to a helper method that returns it, then added to the input: never trained",
            probe=Probe(
                cls="Embed",
                attr="pos_embed",
                framework="mindspore",
                twin="""
                import mindspore as ms
                from mindspore import nn, ops, Parameter

                class Embed(nn.Cell):
                    def __init__(self, n=4, dim=8):
                        super().__init__()
                        self.n = n
                        self.proj = nn.Dense(dim, dim)
                        self.pos_embed = Parameter(ops.zeros((1, n, dim), ms.float32))

                    def _get_pos_embed(self, pos_embed, n):
                        if n == self.n:
                            return pos_embed
                        return ops.interpolate(pos_embed.transpose(0, 2, 1), size=n).transpose(0, 2, 1)

                    def construct(self, x):
                        pos = self._get_pos_embed(self.pos_embed, x.shape[1])
                        return self.proj(x + pos)
                """,
            ),
        ),
        Invalid(
            """
            import mindspore as ms
            from mindspore import nn, ops

            class Segment(nn.Cell):
                def __init__(self, dim=8):
                    super().__init__()
                    self.proj = nn.Dense(dim, dim)
                    self.segment = ops.zeros((dim,), ms.float32)

                def construct(self, x):
                    x = self.proj(x)
                    x += self.segment
                    return x
            """,
            at=[(8, 8)],
            title="a constant fill added in place (`x += self.segment`): never trained",
            probe=Probe(
                cls="Segment",
                attr="segment",
                framework="mindspore",
                twin="""
                import mindspore as ms
                from mindspore import nn, ops, Parameter

                class Segment(nn.Cell):
                    def __init__(self, dim=8):
                        super().__init__()
                        self.proj = nn.Dense(dim, dim)
                        self.segment = Parameter(ops.zeros((dim,), ms.float32))

                    def construct(self, x):
                        x = self.proj(x)
                        x += self.segment
                        return x
                """,
            ),
        ),
        Invalid(
            """
            import mindspore as ms
            from mindspore import nn, ops

            def rel_table(rel_pos, n):
                return rel_pos[:n]

            def add_rel(attn, q, rel_pos):
                r = rel_table(rel_pos, q.shape[1])
                return attn + ops.matmul(q, r.transpose(1, 0))

            class Attention(nn.Cell):
                def __init__(self, n=4, dim=8):
                    super().__init__()
                    self.qkv = nn.Dense(dim, dim)
                    self.rel_pos = ops.Zeros()((2 * n - 1, dim), ms.float32)

                def construct(self, x):
                    q = self.qkv(x)
                    attn = ops.matmul(q, q.transpose(0, 2, 1))
                    return add_rel(attn, q, self.rel_pos)
            """,
            at=[(15, 8)],
            title="a constant fill handed to functions of the file that compute with it (a relative position table)",
            probe=Probe(
                cls="Attention",
                attr="rel_pos",
                framework="mindspore",
                twin="""
                import mindspore as ms
                from mindspore import nn, ops, Parameter

                def rel_table(rel_pos, n):
                    return rel_pos[:n]

                def add_rel(attn, q, rel_pos):
                    r = rel_table(rel_pos, q.shape[1])
                    return attn + ops.matmul(q, r.transpose(1, 0))

                class Attention(nn.Cell):
                    def __init__(self, n=4, dim=8):
                        super().__init__()
                        self.qkv = nn.Dense(dim, dim)
                        self.rel_pos = Parameter(ops.Zeros()((2 * n - 1, dim), ms.float32))

                    def construct(self, x):
                        q = self.qkv(x)
                        attn = ops.matmul(q, q.transpose(0, 2, 1))
                        return add_rel(attn, q, self.rel_pos)
                """,
            ),
        ),
    )

    valid = (
        Valid(
            """
            import mindspore as ms
            from mindspore import nn, ops

            class Embed(nn.Cell):
                def __init__(self, n=4, dim=8):
                    super().__init__()
                    self.proj = nn.Dense(dim, dim)
                    self.template = ops.zeros((1, n, dim), ms.float32)

                def _length(self, t):
                    return t.shape[1]

                def construct(self, x):
                    return self.proj(x) * self._length(self.template)
            """,
            why="a constant fill a helper only measures (its shape), never computes with",
        ),
        Valid(
            """
            import numpy as np
            import mindspore as ms
            from mindspore import nn, ops, Tensor

            class Absorb(nn.Cell):
                def __init__(self, dim=4):
                    super().__init__()
                    self.up = nn.Dense(dim, 2 * dim, has_bias=False)
                    self.q_absorb = Tensor(np.random.randn(dim, dim), ms.float32)

                def process_weights_after_loading(self):
                    self.q_absorb = ops.split(self.up.weight, self.up.weight.shape[0] // 2, 0)[0]

                def construct(self, x):
                    return ops.matmul(x, self.q_absorb)
            """,
            why="a random stand-in that a later method replaces from the Parameters (after loading): not what runs",
        ),
        Valid(
            """
            import numpy as np
            import mindspore as ms
            from mindspore import nn, ops, Tensor

            class Sinusoid(nn.Cell):
                def __init__(self, n=4, dim=8):
                    super().__init__()
                    self.dim = dim
                    self.weights = self.table(n)

                def table(self, n):
                    pos = np.arange(n)[:, None] / 10000 ** (np.arange(self.dim)[None] / self.dim)
                    return Tensor(np.sin(pos), ms.float32)

                def construct(self, x):
                    if x.shape[1] > self.weights.shape[0]:
                        self.weights = self.table(x.shape[1])
                    return x + self.weights[: x.shape[1]]
            """,
            why="a table rebuilt from the input's length is a cache, not state: a fresh instance computes the same",
        ),
        Valid(
            """
            import math
            import numpy as np
            import mindspore
            from mindspore import nn, ops, Tensor, Parameter
            from mindspore import dtype as mstype

            class Attention(nn.Cell):
                def __init__(self, dim=4, beta1=0.9):
                    super().__init__()
                    self.moving_mean = Parameter(Tensor(np.zeros(dim), mindspore.float32), requires_grad=False)
                    self.register_buffer("mask", ops.ones((dim, dim)))
                    self.insert_param_to_cell("bias", Parameter(ops.zeros(dim), name="bias"))
                    self.scale = Tensor(1.0 / math.sqrt(dim), mstype.float32)
                    self.beta1 = Tensor(np.array([beta1]).astype(np.float32))
                    self.causal = Tensor(np.triu(np.ones((dim, dim)), 1), mstype.bool_)
                    self.softmax = ops.Softmax(-1)
                    self.matmul = ops.BatchMatMul()

                def construct(self, q, k):
                    noise = ops.zeros_like(q)
                    ops.assign(self.moving_mean, self.beta1 * self.moving_mean)
                    scores = self.softmax(self.matmul(q, k) * self.scale)
                    return scores + noise + self.moving_mean + self.mask + self.bias
            """,
            why="a Parameter updated with ops.assign, a registered buffer and param, constants only __init__ "
            "writes, ops primitives, and construct locals",
        ),
        Valid(
            """
            import numpy as np
            import torch
            from mindspore import Tensor

            class Points(torch.utils.data.Dataset):
                def __init__(self):
                    self.data = Tensor(np.ones((10, 2)))

                def add(self, i, v):
                    self.data[i] = v

                def __getitem__(self, i):
                    return self.data[i]
            """,
            why="not a Cell: tensors on a dataset are fine",
        ),
        Valid(
            """
            import numpy as np
            import mindspore as ms
            from mindspore import nn, ops, Tensor

            class Decoder(nn.Cell):
                def __init__(self, beam=4, n=6, dim=8):
                    super().__init__()
                    self.beam_right = Tensor(np.ones((beam, 1)), ms.int32)
                    self.causal = ops.tril(ops.ones((n, n), ms.float32))
                    self.h0 = ops.zeros((1, beam, dim), ms.float32)
                    self.one = ops.ones((1,), ms.float32)
                    kernel = np.zeros((dim, 1, 3, 3))
                    kernel[:, 0, 1, 1] = 1
                    self.kernel = Tensor(kernel, ms.float32)
                    self.rnn = nn.GRU(dim, dim, batch_first=True)

                def construct(self, x, length):
                    index = self.beam_right * length
                    scores = ops.matmul(x, x.swapaxes(1, 2)) * self.causal
                    out, _ = self.rnn(x, self.h0)
                    return out * self.one + ops.conv2d(out.expand_dims(1), self.kernel, pad_mode="same") + scores.sum() + index
            """,
            why="constants: an integer tensor, a mask computed from a fill, an initial state passed to a layer, "
            "a fill of literal shape and a kernel whose items are set after the fill",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        updated: dict[int, set[str]] = {}
        for cls, a in plain_tensors(model, Tag.MS_TENSOR, framework="mindspore"):
            if id(cls) not in updated:
                updated[id(cls)] = _updated(model, cls)
            if a.attr in updated[id(cls)]:
                report(a.node, attr=a.attr, what="updated state")
            elif a.attr in _set_data_targets(model, cls):
                report(a.node, attr=a.attr, what="state set by set_data()")
            elif random_value(model, a.value, a.scope, a.order) and _read_after_init(cls, a.attr) and \
                    not any(b.attr == a.attr and b.method != "__init__" for b in cls.self_assigns):
                # (a random stand-in that a later method replaces, such as weights split again after loading, is
                # not what the model computes with)
                report(a.node, attr=a.attr, what="random values")
            elif _arithmetic_operand(model, cls, a.attr):
                if lazy_initializer(model, a.value, a.scope, a.order):
                    report(a.node, attr=a.attr, what="lazy initializer() data")
                elif filled_value(model, a.value, a.scope, a.order):
                    report(a.node, attr=a.attr, what="a weight left constant")
