"""Ground truth from the framework: run each probed example under real PyTorch.

For every invalid example with a ``probe``, the state the rule reports (the
tensors reachable from the flagged attribute) must be missing from
``parameters()``/``state_dict()``; in the registered twin it must be present.
"""

import pytest

from flake8_modreg.rules import all_rules

PROBED = [
    pytest.param(rule, case, id=f"{rule.code}-invalid-{i}")
    for rule in all_rules()
    for i, case in enumerate(rule.invalid)
    if case.probe is not None and case.probe.framework == "torch"
]


def _instantiate(torch, code: str, cls: str):
    namespace = {"__name__": "modreg_probe"}
    exec(compile(code, f"<probe {cls}>", "exec"), namespace)
    torch.manual_seed(0)
    return namespace[cls]()


def _tensors(torch, value, where):
    """The tensors reachable from an attribute value that belong in ``where``.

    Sub-modules contribute their parameters (and, for state_dict, their buffers).
    """
    if isinstance(value, torch.nn.Module):
        return list(value.parameters()) + (list(value.buffers()) if where == "state_dict" else [])
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(torch, v, where)]
    return []


def _present(torch, model, tensors, where):
    params = {id(p) for p in model.parameters()}
    state = {t.data_ptr() for t in model.state_dict().values()}
    out = []
    for t in tensors:
        if where == "parameters":
            out.append(id(t) in params)
        else:
            out.append(t.data_ptr() in state)
    return out


def test_there_are_probes_for_every_registration_rule():
    probed = {rule.code for rule in all_rules() for case in rule.invalid if case.probe}
    assert {"MRG101", "MRG102", "MRG103", "MRG201", "MRG202"} <= probed


@pytest.mark.torch
@pytest.mark.parametrize("rule,case", PROBED)
def test_reported_state_is_really_unregistered(torch, rule, case):
    probe = case.probe
    model = _instantiate(torch, case.code, probe.cls)
    twin = _instantiate(torch, probe.twin, probe.cls)
    for where in probe.where:
        tensors = _tensors(torch, getattr(model, probe.attr), where)
        assert tensors, "the probed attribute holds no tensor at all"
        assert not any(_present(torch, model, tensors, where)), f"{rule.code}: state is in {where}() after all"
        twin_tensors = _tensors(torch, getattr(twin, probe.attr), where)
        assert twin_tensors
        assert all(_present(torch, twin, twin_tensors, where)), f"{rule.code}: registered twin lacks it in {where}()"


@pytest.mark.torch
def test_seed_construct_really_raises(torch):
    """MRG301's claim: a torch Module with only `construct` cannot be called."""
    rule = next(r for r in all_rules() if r.code == "MRG301")
    ns = {}
    exec(rule.invalid[0].code, ns)
    net = ns["MyNet"]()
    with pytest.raises(NotImplementedError, match="forward"):
        net(torch.zeros(1, 3, 8, 8))


@pytest.mark.torch
def test_tensor_attribute_is_left_behind_by_to(torch):
    """MRG201's claim: .to()/.double() moves buffers but not plain tensor attributes."""
    rule = next(r for r in all_rules() if r.code == "MRG201")
    case = rule.invalid[0]
    ns = {}
    exec(case.code, ns)
    model = ns["MyModel"]().double()
    assert model.my_buffer.dtype == torch.float64
    assert model.my_tensor.dtype == torch.float32


FIXED_PROBES = [
    pytest.param(rule, case, id=f"{rule.code}-fixed-{i}")
    for rule in all_rules()
    for i, case in enumerate(rule.invalid)
    if case.probe is not None and case.fixed is not None and case.probe.framework == "torch"
]  # MindSpore fixes: tests/test_mindspore_fix_truth.py


@pytest.mark.torch
@pytest.mark.parametrize("rule,case", FIXED_PROBES)
def test_autofixed_example_really_registers_its_state(torch, rule, case):
    """The text our fix produces, run under torch, holds the state where it belongs."""
    model = _instantiate(torch, case.fixed, case.probe.cls)
    for where in case.probe.where:
        tensors = _tensors(torch, getattr(model, case.probe.attr), where)
        assert tensors and all(_present(torch, model, tensors, where)), f"{rule.code}: fixed code still misses {where}()"


# -- the registration fixes' facts about torch -------------------------------------------------


def _public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


@pytest.mark.torch
def test_reserved_key_names_are_torch_module_attributes(torch):
    """register_buffer / ModuleDict / ParameterDict refuse exactly these names ("attribute 'x' already exists")."""
    from flake8_modreg.rules._fixes import TORCH_MODULE_ATTRS

    nn = torch.nn
    assert TORCH_MODULE_ATTRS == _public(nn.Module()) | _public(nn.ModuleDict()) | _public(nn.ParameterDict())
    for name in ("train", "keys", "forward"):
        with pytest.raises(KeyError, match="already exists"):
            nn.ModuleDict({name: nn.Linear(1, 1)})
    for name in ("train", "forward", "training"):
        with pytest.raises(KeyError, match="already exists"):
            nn.Module().register_buffer(name, torch.zeros(1))


@pytest.mark.torch
def test_wrappers_lack_exactly_the_listed_container_methods(torch):
    """A call of one of these on the attribute would raise after the fix: the fix is then withheld."""
    from flake8_modreg.rules._containers import WRAPPERS

    plain = {"torch.nn.ModuleList": list, "torch.nn.ParameterList": list, "torch.nn.ModuleDict": dict, "torch.nn.ParameterDict": dict}
    for qualified, base in plain.items():
        wrapper = getattr(torch.nn, qualified.rpartition(".")[2])
        extra = _public(tuple) if base is list else set()
        assert WRAPPERS[qualified].lacks == (_public(base) | extra) - _public(wrapper()), qualified


@pytest.mark.torch
def test_fixed_repeated_list_shares_one_layer_as_the_plain_list_did(torch):
    """MRG101's fix keeps `[Linear()] * 2` as it was: one layer registered under two names."""
    rule = next(r for r in all_rules() if r.code == "MRG101")
    case = next(c for c in rule.invalid if c.fixed and "* 2" in c.fixed)
    plain = _instantiate(torch, case.code, "Tower")
    fixed = _instantiate(torch, case.fixed, "Tower")
    assert plain.extra[0] is plain.extra[1] and fixed.extra[0] is fixed.extra[1]
    keys = fixed.state_dict().keys()
    assert {"extra.0.weight", "extra.1.weight"} <= set(keys)
    assert fixed.state_dict()["extra.0.weight"].data_ptr() == fixed.state_dict()["extra.1.weight"].data_ptr()
    x = torch.randn(2, 4)
    assert torch.equal(plain(x), fixed(x))  # same seed, same computation
