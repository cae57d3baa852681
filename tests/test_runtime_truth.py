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
    if case.probe is not None and case.fixed is not None
]


@pytest.mark.torch
@pytest.mark.parametrize("rule,case", FIXED_PROBES)
def test_autofixed_example_really_registers_its_state(torch, rule, case):
    """The text our fix produces, run under torch, holds the state where it belongs."""
    model = _instantiate(torch, case.fixed, case.probe.cls)
    for where in case.probe.where:
        tensors = _tensors(torch, getattr(model, case.probe.attr), where)
        assert tensors and all(_present(torch, model, tensors, where)), f"{rule.code}: fixed code still misses {where}()"
