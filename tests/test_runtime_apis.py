"""Ground truth under real PyTorch for the API claims of MRG204 and MRG502.

MRG204: which tensor operations turn an ``nn.Parameter`` into a plain tensor.
MRG502: MindSpore-only ``Cell`` methods do not exist on a torch ``nn.Module``.
"""

import pytest

from flake8_modreg import known
from flake8_modreg.rules import all_rules


def _rule(code):
    return next(r for r in all_rules() if r.code == code)


@pytest.mark.torch
@pytest.mark.parametrize(
    "op",
    [
        lambda p, torch: p.double(),
        lambda p, torch: p.half(),
        lambda p, torch: p.to(torch.float64),
        lambda p, torch: p * 1,
        lambda p, torch: p.view(-1),
        lambda p, torch: p.clone(),
        lambda p, torch: p.data,
        lambda p, torch: p.long(),
    ],
    ids=["double", "half", "to-float64", "times-1", "view", "clone", "data", "long"],
)
def test_mrg204_conversions_lose_the_parameter(torch, op):
    p = torch.nn.Parameter(torch.randn(3))
    out = op(p, torch)
    assert type(out) is torch.Tensor
    assert not isinstance(out, torch.nn.Parameter)


@pytest.mark.torch
@pytest.mark.parametrize(
    "op",
    [
        lambda p, torch: p.to("cpu"),
        lambda p, torch: p.to(torch.float32),
        lambda p, torch: p.float(),
        lambda p, torch: p.cpu(),
        lambda p, torch: p.requires_grad_(False),
        lambda p, torch: p.share_memory_(),
    ],
    ids=["to-same-device", "to-same-dtype", "float-on-float", "cpu-on-cpu", "requires_grad_", "share_memory_"],
)
def test_mrg204_no_op_conversions_return_the_parameter_itself(torch, op):
    """The same-device subtlety the docs explain: nothing converted, nothing lost."""
    p = torch.nn.Parameter(torch.randn(3))
    assert op(p, torch) is p


@pytest.mark.torch
def test_mrg204_in_place_init_on_a_parameter_raises(torch):
    """Why `nn.Parameter(t).normal_()` is not a silent case: autograd refuses it."""
    with pytest.raises(RuntimeError, match="leaf Variable"):
        torch.nn.Parameter(torch.empty(3)).normal_()


@pytest.mark.torch
def test_mrg204_seed_shape_loses_the_parameter_but_to_cpu_keeps_it(torch):
    ns = {}
    exec(_rule("MRG204").invalid[0].code, ns)
    m = ns["Scale"]()
    names = dict(m.named_parameters())
    assert "gain" not in names  # .double() converted: lost
    assert "bias" in names  # .to("cpu") on a CPU tensor converted nothing: kept (on a GPU it would be lost)
    assert not m.gain.is_leaf


@pytest.mark.torch
@pytest.mark.parametrize("method", sorted(known.MINDSPORE_ONLY_CELL_METHODS))
def test_mrg502_mindspore_methods_do_not_exist_on_torch_modules(torch, method):
    import inspect

    modules = [getattr(torch.nn, n) for n in dir(torch.nn) if inspect.isclass(getattr(torch.nn, n))]
    modules = [c for c in modules if issubclass(c, torch.nn.Module)]
    assert not hasattr(torch.nn.Module, method)
    assert [c.__name__ for c in modules if hasattr(c, method)] == []
    with pytest.raises(AttributeError):
        getattr(torch.nn.Linear(2, 2), method)


def _torch_only(code):
    return "mindspore" not in code and "mylib" not in code


@pytest.mark.torch
@pytest.mark.parametrize(
    "i", [i for i, c in enumerate(_rule("MRG502").invalid) if _torch_only(c.code)]
)
def test_mrg502_invalid_examples_raise_attribute_error(torch, i):
    """Torch-only invalid programs of MRG502 (the others hold MindSpore cells: tests/test_mindspore_truth.py)."""
    case = _rule("MRG502").invalid[i]
    with pytest.raises(AttributeError):
        exec(compile(case.code, f"<MRG502 invalid {i}>", "exec"), {"__name__": "modreg_probe"})


@pytest.mark.torch
@pytest.mark.parametrize(
    "rule,i",
    [(code, i) for code in ("MRG501", "MRG502") for i, c in enumerate(_rule(code).valid) if _torch_only(c.code)],
)
def test_torch_only_valid_lookalikes_run(torch, rule, i):
    """The torch-only VALID examples of MRG501/502 run under real torch without error."""
    case = _rule(rule).valid[i]
    exec(compile(case.code, f"<{rule} valid {i}>", "exec"), {"__name__": "modreg_probe"})


def test_the_default_release_is_the_installed_one_when_a_table_exists(monkeypatch):
    """`torch-version` unset: MRG502 judges by the installed torch's table (read from metadata), else the newest."""
    import importlib.metadata

    from flake8_modreg import known

    installed = ".".join(importlib.metadata.version("torch").split(".")[:2])
    assert known.default_torch_release() == (installed if installed in known._api_versions.TORCH_MODULE else known.NEWEST_TORCH)
    known.installed_release.cache_clear()
    monkeypatch.setattr(importlib.metadata, "version", lambda dist: "2.0.1" if dist == "torch" else "2.7.0")
    try:
        assert known.default_torch_release() == "2.0"
        assert known.default_mindspore_release() == "2.7"
        assert known.mindspore_only_methods()[0] == "2.0" and known.torch_only_methods()[0] == "2.7"
        monkeypatch.setattr(importlib.metadata, "version", lambda dist: "2.5.0")  # MindSpore 2.5: no table
        known.installed_release.cache_clear()
        assert known.default_mindspore_release() == "2.7"  # the nearest newer one
        monkeypatch.setattr(importlib.metadata, "version", lambda dist: "9.9.0")
        known.installed_release.cache_clear()
        assert known.default_torch_release() == known.NEWEST_TORCH  # no table for it: the newest
    finally:
        known.installed_release.cache_clear()
