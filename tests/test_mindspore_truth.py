"""Ground truth under real MindSpore for MRG203, MRG501 and MRG503 (CI runs them in a MindSpore venv).

MindSpore is an ~800 MB wheel that needs numpy<2, so these tests run in a venv
of their own (.ci/run builds it after the main suite; see the README)::

    python3 -m venv .msvenv
    .msvenv/bin/pip install mindspore==2.10.0 "numpy<2" -e ".[test]"
    .msvenv/bin/python -m pytest -m mindspore -q tests/test_mindspore_*.py

The main suite skips them; CI's ``-m mindspore`` run fails without MindSpore.
"""

from __future__ import annotations

import inspect
import os
import tempfile

import pytest

from flake8_modreg import known
from conftest import import_mindspore
from flake8_modreg.rules import all_rules

pytestmark = pytest.mark.mindspore


_mindspore = import_mindspore()


@pytest.fixture(scope="module")
def ms():
    _mindspore.set_seed(0)
    return _mindspore


def _rule(code):
    return next(r for r in all_rules() if r.code == code)


def _run(code: str, name: str) -> dict:
    ns = {"__name__": "modreg_probe"}
    exec(compile(code, name, "exec"), ns)
    return ns


def _mindspore_only(code: str) -> bool:
    return "torch" not in code and "mylib" not in code


# -- the method tables --------------------------------------------------------------


def _cell_classes(ms):
    nn = ms.nn
    return [getattr(nn, n) for n in dir(nn) if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Cell)]


@pytest.mark.parametrize("method", sorted(known.TORCH_ONLY_MODULE_METHODS))
def test_torch_only_methods_are_missing_from_every_cell(ms, method):
    assert not hasattr(ms.nn.Cell, method)
    assert [c.__name__ for c in _cell_classes(ms) if hasattr(c, method)] == []


@pytest.mark.parametrize(
    "method",
    "register_buffer buffers named_buffers state_dict load_state_dict to apply get_parameters trainable_params "
    "untrainable_params parameters_and_names parameters_dict insert_child_to_cell insert_param_to_cell cells "
    "cells_and_names name_cells set_train".split(),
)
def test_methods_mrg501_does_not_flag_exist_on_cell(ms, method):
    assert hasattr(ms.nn.Cell, method)


@pytest.mark.parametrize("method", sorted(known.MINDSPORE_ONLY_CELL_METHODS))
def test_mrg502_methods_are_real_cell_methods(ms, method):
    """The hint maps a real MindSpore method (not a misspelling) to torch."""
    assert hasattr(ms.nn.Cell, method)


def test_optimizer_names_match_mindspore(ms):
    nn = ms.nn
    for q in known.MINDSPORE_OPTIMIZERS:
        cls = getattr(nn, q.rsplit(".", 1)[-1])
        assert issubclass(cls, nn.Optimizer), q


# -- MRG203 -----------------------------------------------------------------------

PROBED = [
    pytest.param(rule, case, id=f"{rule.code}-invalid-{i}")
    for rule in all_rules()
    for i, case in enumerate(rule.invalid)
    if case.probe is not None and case.probe.framework == "mindspore"
]


def _checkpoint_keys(ms, net) -> set[str]:
    if not list(net.get_parameters()):
        return set()  # load_checkpoint refuses an empty checkpoint
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "net.ckpt")
        ms.save_checkpoint(net, path)
        return set(ms.load_checkpoint(path))


def _held(ms, net, attr, where) -> bool:
    """A tensor attribute: the tensor itself; layers (a list or a container): any parameter named ``attr.<...>``."""
    value = getattr(net, attr)
    if isinstance(value, ms.Tensor):
        if where == "parameters":
            return any(p is value for p in net.get_parameters())
        return attr in _checkpoint_keys(ms, net)
    names = [p.name for p in net.get_parameters()] if where == "parameters" else _checkpoint_keys(ms, net)
    return any(n.startswith(f"{attr}.") for n in names)


def test_mrg203_has_mindspore_probes():
    assert any(p.values[0].code == "MRG203" for p in PROBED)


@pytest.mark.parametrize("rule,case", PROBED)
def test_reported_tensor_is_not_cell_state(ms, rule, case):
    probe = case.probe
    net = _run(case.code, f"<{rule.code}>")[probe.cls]()
    twin = _run(probe.twin, f"<{rule.code} twin>")[probe.cls]()
    if rule.code != "MRG101":
        assert isinstance(getattr(net, probe.attr), ms.Tensor)
    for where in probe.where:
        assert not _held(ms, net, probe.attr, where), f"{probe.attr} is in {where} after all"
        assert _held(ms, twin, probe.attr, where), f"the twin lacks {probe.attr} in {where}"


def test_mrg203_plain_tensor_is_not_cast_by_cell_to(ms):
    case = _rule("MRG203").invalid[0]
    net = _run(case.code, "<MRG203>")["RunningNorm"]()
    twin = _run(case.probe.twin, "<MRG203 twin>")["RunningNorm"]()
    net.to(ms.float16)
    twin.to(ms.float16)
    assert net.running_mean.dtype == ms.float32
    assert twin.running_mean.dtype == ms.float16


def test_register_buffer_is_in_state_dict_but_not_in_save_checkpoint(ms):
    """What MRG203's docs say about register_buffer in MindSpore 2.10."""
    code = _rule("MRG203").invalid[1].probe.twin
    net = _run(code, "<twin>")["Memory"]()
    assert "mask" in dict(net.named_buffers())
    assert "mask" in net.state_dict()
    assert "mask" not in _checkpoint_keys(ms, net)
    assert "table" in _checkpoint_keys(ms, net)


# -- MRG501 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "i", [i for i, c in enumerate(_rule("MRG501").invalid) if _mindspore_only(c.code)]
)
def test_mrg501_invalid_examples_raise_attribute_error(ms, i):
    with pytest.raises(AttributeError):
        _run(_rule("MRG501").invalid[i].code, f"<MRG501 invalid {i}>")


@pytest.mark.parametrize(
    "rule,i",
    [(code, i) for code in ("MRG501", "MRG502", "MRG503") for i, c in enumerate(_rule(code).valid) if _mindspore_only(c.code)],
)
def test_mindspore_only_valid_lookalikes_run(ms, rule, i):
    _run(_rule(rule).valid[i].code, f"<{rule} valid {i}>")


# -- MRG503 -----------------------------------------------------------------------


def _one_step(ms, net, opt):
    import numpy as np

    step = ms.nn.TrainOneStepCell(ms.nn.WithLossCell(net, ms.nn.MSELoss()), opt)
    step.set_train(True)
    net.set_train(False)  # keep BatchNorm from updating its own statistics: only the optimizer acts
    x = ms.Tensor(np.random.randn(8, 4).astype(np.float32))
    step(x, ms.Tensor(np.zeros((8, 4), np.float32)))
    return float(net.bn.moving_variance.asnumpy()[0])


def test_mrg503_weight_decay_changes_batchnorm_statistics(ms):
    ns = _run(_rule("MRG503").invalid[0].code, "<MRG503>")
    assert len(ns["opt"].parameters) == 6  # fc weight/bias, bn gamma/beta, moving_mean, moving_variance
    assert _one_step(ms, ns["net"], ns["opt"]) == pytest.approx(0.95)


def test_mrg503_trainable_params_leave_statistics_alone(ms):
    ns = _run(_rule("MRG503").valid[0].code, "<MRG503 valid>")
    assert len(ns["opt"].parameters) == 4
    assert _one_step(ms, ns["net"], ns["opt"]) == pytest.approx(1.0)


def test_mrg503_without_weight_decay_statistics_stay(ms):
    """Why the rule is silent without weight decay: the statistics get zero gradients."""
    ns = _run(_rule("MRG503").valid[0].code, "<MRG503 valid>")
    assert len(ns["opt2"].parameters) == 6
    assert _one_step(ms, ns["net"], ns["opt2"]) == pytest.approx(1.0)


def test_mrg203_updated_state_is_lost_from_the_checkpoint(ms):
    import numpy as np

    net = _run(_rule("MRG203").invalid[0].code, "<MRG203>")["RunningNorm"]()
    net(ms.Tensor(np.ones((3, 4)), ms.float32))  # PyNative: construct runs as Python
    assert float(net.running_mean.asnumpy()[0]) == pytest.approx(0.1)
    assert int(net.count.asnumpy()) == 1
    assert not {"running_mean", "running_var", "count"} & set(net.parameters_dict())


def test_assigning_a_tensor_to_a_buffer_name_raises_in_2_10(ms):
    """MRG203's docs: unlike torch, MindSpore 2.10 refuses `self.buf = Tensor(...)` for a registered buffer."""
    import numpy as np

    class Net(ms.nn.Cell):
        def __init__(self):
            super().__init__()
            self.register_buffer("buf", ms.Tensor(np.zeros(2), ms.float32))

        def construct(self, x):
            return x

    net = Net()
    with pytest.raises(TypeError, match="Buffer"):
        net.buf = ms.Tensor(np.ones(2), ms.float32)


# -- MRG401/402: state stored before Cell.__init__ -------------------------------------------


def test_mrg401_cell_without_super_init_raises(ms):
    case = _rule("MRG401").invalid[2]
    with pytest.raises(AttributeError):
        _run(case.code, "mrg401")["Net"]()
    fixed = _run(case.fixed, "mrg401-fixed")["Net"]()
    assert [p.name for p in fixed.get_parameters()] == ["dense.weight", "dense.bias"]


def test_mrg402_parameter_before_cell_init_raises(ms):
    with pytest.raises(AttributeError, match="Cell.__init__"):
        _run(_rule("MRG402").invalid[2].code, "mrg402")["Net"]()


def test_mrg403_dense_built_in_construct_is_fresh_and_unregistered(ms):
    import numpy as np

    net = _run(_rule("MRG403").invalid[2].code, "mrg403")["Net"]()
    x = ms.Tensor(np.ones((1, 4), np.float32))
    assert not np.array_equal(net(x).asnumpy(), net(x).asnumpy())
    assert list(net.get_parameters()) == []


def test_mrg101_items_registered_with_dunder_setattr_are_cell_state(ms):
    """MRG101's valid example: each list item registered with self.__setattr__ is in get_parameters()."""
    case = next(v for v in _rule("MRG101").valid if "__setattr__" in v.code)
    net = _run(case.code, "<MRG101 valid>")["Unit"]()
    names = {p.name for p in net.get_parameters()}
    assert {"branch1.0.weight", "branch3.0.weight", "branch3.1.gamma"} <= names


def test_mrg307_cell_forward_never_runs_the_inherited_construct_does(ms):
    """MRG307's MindSpore example: calling the Cell runs the construct inherited two levels up, never the renamed
    override; after the rename the subclass's own computation runs."""
    inv = next(i for i in _rule("MRG307").invalid if i.title.startswith("a MindSpore Cell"))
    x = ms.Tensor([1.0, 2.0], ms.float32)
    got = _run(inv.code, "renamed_cell.py")["Scaled"]()(x)
    assert got.asnumpy().tolist() == [1.0, 2.0]  # Block.construct ran: `* 2` never happened
    fixed = _run(inv.fixed, "fixed_cell.py")["Scaled"]()(x)
    assert fixed.asnumpy().tolist() == [2.0, 4.0]


def test_mrg203_constant_fills_used_by_stored_operators_run_but_are_never_trained(ms):
    """The stored-operator example runs (ops.LayerNorm with a plain beta, ops.Mul with a plain scale), and only the
    Parameter twin offers beta and scale to an optimizer: as plain tensors they stay zeros and ones forever."""
    import numpy as np

    case = next(i for i in _rule("MRG203").invalid if i.title.startswith("constant fills used through stored operators"))
    net = _run(case.code, "<MRG203>")["Norm"]()
    twin = _run(case.probe.twin, "<MRG203 twin>")["Norm"]()
    x = ms.Tensor(np.random.randn(2, 8).astype(np.float32))
    assert net(x).shape == (2, 8)
    assert np.allclose(net(x).asnumpy(), twin(x).asnumpy(), atol=1e-5)  # same values: the bug is silent
    trained = {p.name for p in net.trainable_params()}
    assert not any(n.endswith(("beta", "scale")) for n in trained)
    assert {n for n in (p.name for p in twin.trainable_params()) if n.endswith(("beta", "scale"))} == {"beta", "scale"}


def test_mrg203_a_table_rebuilt_from_the_input_length_is_a_cache_nothing_to_restore(ms):
    """The silent look-alike: the grown table equals the one a fresh instance computes for that length, so no
    checkpoint needs it (the rule counts `self.x = ...` as an update only when the new value reads the old one)."""
    import numpy as np

    case = next(v for v in _rule("MRG203").valid if "rebuilt from the input's length" in v.why)
    cls = _run(case.code, "<MRG203 valid>")["Sinusoid"]
    net = cls()
    x = ms.Tensor(np.zeros((1, 6, 8), np.float32))
    out = net(x)
    assert net.weights.shape == (6, 8)
    assert np.allclose(net.weights.asnumpy(), cls().table(6).asnumpy())
    assert np.allclose(out.asnumpy(), cls()(x).asnumpy())


def test_mrg203_a_random_stand_in_replaced_from_the_parameters_after_loading_loses_nothing(ms):
    """The silent look-alike: the random `q_absorb` of `__init__` is replaced by a split of a registered weight; two
    instances that load the same parameters compute the same once `process_weights_after_loading()` ran."""
    import numpy as np

    case = next(v for v in _rule("MRG203").valid if "random stand-in" in v.why)
    cls = _run(case.code, "<MRG203 valid>")["Absorb"]
    a, b = cls(), cls()
    ms.load_param_into_net(b, a.parameters_dict())
    for net in (a, b):
        net.process_weights_after_loading()
    x = ms.Tensor(np.ones((2, 4), np.float32))
    assert np.allclose(a(x).asnumpy(), b(x).asnumpy())
    assert "q_absorb" not in a.parameters_dict()


@pytest.mark.parametrize("title,cls,attr,shape", [
    ("a constant fill handed to a helper", "Embed", "pos_embed", (2, 4, 8)),
    ("a constant fill handed to functions of the file", "Attention", "rel_pos", (2, 4, 8)),
    ("a constant fill added in place", "Segment", "segment", (2, 8)),
])
def test_mrg203_a_constant_fill_followed_through_helpers_runs_but_is_never_trained(ms, title, cls, attr, shape):
    """The helper examples: `self._get_pos_embed(self.pos_embed, n)` hands the fill back and `construct` adds it to
    the input; `add_rel(attn, q, self.rel_pos)` multiplies it with the query in a function of the file. Each runs and
    gives the Parameter twin's output, but only the twin offers the table to an optimizer."""
    import numpy as np

    case = next(i for i in _rule("MRG203").invalid if i.title.startswith(title))
    net = _run(case.code, "<MRG203>")[cls]()
    twin = _run(case.probe.twin, "<MRG203 twin>")[cls]()
    for name, p in twin.parameters_and_names():
        if hasattr(net, name.split(".")[0]) and name != attr:
            ref = dict(net.parameters_and_names())[name]
            p.set_data(ref.value())
    x = ms.Tensor(np.random.randn(*shape).astype(np.float32))
    assert np.allclose(net(x).asnumpy(), twin(x).asnumpy(), atol=1e-5)  # same values: the bug is silent
    assert not any(p.name.endswith(attr) for p in net.trainable_params())
    assert any(p.name.endswith(attr) for p in twin.trainable_params())


def test_cell_attr_register_runs_the_init_it_decorates_unchanged(ms):
    """known.INIT_WRAPPERS: `@cell_attr_register` on `__init__` runs it with the same arguments (then records them),
    so what it stores -- the Parameters -- is the Cell's state, as if undecorated (the resolver relies on this)."""
    ns = _run("""
from mindspore import nn, Parameter
from mindspore.common.initializer import initializer
from mindspore._extends import cell_attr_register

class Linear(nn.Cell):
    @cell_attr_register
    def __init__(self, cin, cout, scale=2):
        super().__init__()
        self.scale = scale
        self.weight = Parameter(initializer("normal", [cout, cin]), name="weight")

    def construct(self, x):
        return x
""", "<cell_attr_register>")
    lin = ns["Linear"](3, 4, scale=5)
    assert lin.scale == 5 and [p.name for p in lin.get_parameters()] == ["weight"]
    assert tuple(lin.weight.shape) == (4, 3)
