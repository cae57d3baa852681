"""Runtime truth for the containers of stateless layers that MRG101/MRG102 leave alone.

``known.TORCH_STATELESS_LAYERS`` claims: no parameters or buffers whatever
the arguments, and the same behaviour in ``train()`` and ``eval()``.  Checked
against the installed torch, class by class; then a module holding such
layers in a plain list and dict is shown to survive ``.to()``, ``.half()``,
``.eval()`` and ``state_dict()`` exactly like its registered twin.
"""

import importlib.util
import inspect
import pathlib

import pytest

from flake8_modreg import check, known

torch = pytest.importorskip("torch")
nn = torch.nn

_spec = importlib.util.spec_from_file_location(
    "gen_known", pathlib.Path(__file__).resolve().parent.parent / "scripts" / "gen_known.py"
)
gen_known = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_known)

#: constructor parameters through which a layer could take state
_STATEFUL_ARGS = {"weight", "bias", "affine", "elementwise_affine", "track_running_stats", "num_parameters",
                  "init", "device", "dtype", "pos_weight"}


@pytest.mark.parametrize("name", sorted(known.TORCH_STATELESS_LAYERS))
def test_listed_layer_has_no_state_and_no_mode(name):
    cls = getattr(nn, name)
    inst = gen_known._build(cls, {})
    assert inst is not None, f"nn.{name} could not be built from small arguments"
    assert list(inst.parameters()) == [] and list(inst.buffers()) == []
    assert not _STATEFUL_ARGS & set(inspect.signature(cls).parameters)
    for klass in cls.__mro__:
        if klass is nn.Module or not klass.__module__.startswith("torch.nn"):
            continue
        assert "training" not in inspect.getsource(klass), f"nn.{name} reads self.training"


CODE = """
import torch
import torch.nn as nn

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.acts = [nn.ReLU(), nn.Identity(), nn.GELU()]
        self.pools = {"avg": nn.AdaptiveAvgPool1d(2), "max": nn.AdaptiveMaxPool1d(2)}

    def forward(self, x):
        y = self.proj(x)
        for act in self.acts:
            y = act(y)
        return self.pools["avg"](y.unsqueeze(1)) + self.pools["max"](y.unsqueeze(1))
"""


def test_plain_containers_of_stateless_layers_are_silent_and_behave_like_registered_ones():
    assert [f.code for f in check(CODE) if f.code in ("MRG101", "MRG102")] == []
    ns = {"__name__": "modreg_stateless_probe"}
    exec(compile(CODE, "<probe>", "exec"), ns)
    twin_code = CODE.replace("self.acts = [", "self.acts = nn.ModuleList([").replace("nn.GELU()]", "nn.GELU()])")
    twin_code = twin_code.replace('self.pools = {', 'self.pools = nn.ModuleDict({').replace("(2)}", "(2)})")
    exec(compile(twin_code, "<twin>", "exec"), tw := {"__name__": "modreg_stateless_twin"})
    plain, twin = ns["Head"](), tw["Head"]()
    assert plain.state_dict().keys() == twin.state_dict().keys()  # nothing more to save
    twin.load_state_dict(plain.state_dict())
    x = torch.randn(2, 4)
    assert torch.equal(plain.eval()(x), twin.eval()(x))
    assert plain.to("meta")(torch.ones(2, 4, device="meta")).device.type == "meta"
    half = ns["Head"]().half()
    assert half(torch.ones(2, 4, dtype=torch.float16)).dtype == torch.float16
    # one stateful or mode-dependent layer in the list and it is reported again
    for other in ("nn.Dropout(0.5)", "nn.LayerNorm(4)"):
        assert [f.code for f in check(CODE.replace("nn.Identity()", other)) if f.code == "MRG101"] == ["MRG101"]


def test_a_keyword_config_dict_reaches_the_model_through_the_callee():
    from flake8_modreg.rules.layers_in_plain_dict import LayersInPlainDict

    code = next(v.code for v in LayersInPlainDict.valid if "**keyword" in v.why)
    assert [f for f in check(code) if f.code == "MRG102"] == []
    ns = {"__name__": "modreg_kwcfg_probe"}
    exec(compile(code, "<probe>", "exec"), ns)
    shared = nn.Linear(4, 4)
    m = ns["Stack"](act=shared)
    assert any(p is shared.weight for p in m.parameters())  # registered by the Block that received it
    m = m.to(torch.float64)
    assert m.kw["act"].weight.dtype == torch.float64  # the dict holds that same, converted object
    assert m(torch.ones(2, 4, 4, dtype=torch.float64)).dtype == torch.float64


def test_a_called_container_of_a_stateless_layer_is_still_reported_and_raises():
    code = """
import torch.nn as nn

class Down(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = (nn.AvgPool1d(2),)

    def forward(self, x):
        return self.pool(x)
"""
    assert [(f.code, f.line) for f in check(code) if f.code == "MRG101"] == [("MRG101", 7)]
    ns = {"__name__": "modreg_called_probe"}
    exec(compile(code, "<probe>", "exec"), ns)
    with pytest.raises(TypeError):
        ns["Down"]()(torch.ones(1, 1, 4))


@pytest.mark.parametrize("name", sorted(known.TORCH_STATELESS_UNLESS))
def test_weighted_loss_is_stateless_without_its_weight_and_holds_it_with_one(name):
    """``known.TORCH_STATELESS_UNLESS``: built without a weight, nothing is held; given one, it is a buffer (moved by
    ``.to()`` only when the loss is registered); no class on the way reads ``self.training``."""
    cls = getattr(nn, name)
    position, keywords = known.TORCH_STATELESS_UNLESS[name]
    plain = cls()
    assert list(plain.parameters()) == [] and list(plain.buffers()) == []
    params = list(inspect.signature(cls).parameters)
    assert set(params[: position + 1]) & keywords == {params[position]}  # the first state-taking parameter
    assert set(keywords) <= set(params)
    weighted = cls(**{k: torch.ones(3) for k in keywords})
    assert len(list(weighted.buffers())) == len(keywords)
    for klass in cls.__mro__:
        if klass is nn.Module or not klass.__module__.startswith("torch.nn"):
            continue
        assert "self.training" not in inspect.getsource(klass)


def test_a_dict_of_unweighted_losses_is_silent_and_a_weighted_one_is_reported_and_left_behind():
    code = """
import torch
import torch.nn as nn

class Heads(nn.Module):
    def __init__(self, w=None):
        super().__init__()
        self.proj = nn.Linear(4, 3)
        self.losses = {"ce": nn.CrossEntropyLoss(WEIGHT), "mse": nn.MSELoss(), "bce": nn.BCEWithLogitsLoss()}

    def forward(self, x, y):
        out = self.proj(x)
        return self.losses["ce"](out, y) + self.losses["mse"](out, out.detach())
"""
    plain = code.replace("WEIGHT", "")
    assert [f.code for f in check(plain) if f.code in ("MRG101", "MRG102")] == []
    ns = {"__name__": "modreg_losses_probe"}
    exec(compile(plain, "<probe>", "exec"), ns)
    m = ns["Heads"]().to("meta")
    out = m(torch.ones(2, 4, device="meta"), torch.zeros(2, dtype=torch.long, device="meta"))
    assert out.device.type == "meta"
    assert ns["Heads"]().state_dict().keys() == {"proj.weight", "proj.bias"}

    weighted = code.replace("WEIGHT", "weight=torch.ones(3)")
    assert [(f.code, f.line) for f in check(weighted) if f.code in ("MRG101", "MRG102")] == [("MRG102", 9)]
    exec(compile(weighted, "<probe>", "exec"), ns)
    m = ns["Heads"]().to("meta")
    assert m.losses["ce"].weight.device.type == "cpu"  # left behind by .to()
    with pytest.raises((RuntimeError, NotImplementedError)):
        m(torch.ones(2, 4, device="meta"), torch.zeros(2, dtype=torch.long, device="meta"))


def test_a_dict_handed_only_to_submodule_constructors_is_registered_there_and_one_run_by_the_owner_is_not():
    """MRG102's exemption, under torch: sub-modules that take the layers they use register them, so everything the
    model runs is in parameters()/state_dict() and follows ``.to()``; the look-alike runs a layer no sub-module took."""
    from flake8_modreg.rules.layers_in_plain_dict import LayersInPlainDict

    valid = next(v.code for v in LayersInPlainDict.valid if v.why.startswith("handed only to sub-module constructors"))
    assert [f.code for f in check(valid) if f.code == "MRG102"] == []
    ns = {"__name__": "modreg_handed_probe"}
    exec(compile(valid, "<probe>", "exec"), ns)
    m = ns["Model"]()
    ran = {id(p) for layer in m.prescalers.values() for p in layer.parameters()}
    assert ran <= {id(p) for p in m.parameters()}
    assert {k.split(".")[0] for k in m.state_dict()} == {"enc", "dec"}
    m.to("meta")
    xs = {"a": torch.ones(2, 1, device="meta"), "b": torch.ones(2, 1, device="meta")}
    assert m(xs).device.type == "meta"

    invalid = next(i.code for i in LayersInPlainDict.invalid if i.title.startswith("also run by the class itself"))
    assert [(f.code, f.line) for f in check(invalid) if f.code == "MRG102"] == [("MRG102", 14)]
    exec(compile(invalid, "<probe>", "exec"), ns)
    k = ns["Model"]()
    assert not {id(p) for p in k.prescalers["b"].parameters()} & {id(p) for p in k.parameters()}
    k.to("meta")
    with pytest.raises((RuntimeError, NotImplementedError)):
        k(xs)


def test_a_list_read_only_while_the_module_is_built_loses_nothing_and_one_run_in_forward_does():
    """MRG101's construction-only exemption, under torch: the layers read only by ``__init__`` (and a method only it
    calls) are never run again, so the module survives ``.to()``/``.to(float64)`` and a state_dict round trip gives
    the same outputs; the look-alike whose ``forward`` runs the plain list breaks after ``.to(torch.float64)``."""
    from flake8_modreg.rules.layers_in_plain_list import LayersInPlainList

    valid = next(v.code for v in LayersInPlainList.valid if v.why.startswith("read only while the module is built"))
    assert [f.code for f in check(valid) if f.code == "MRG101"] == []
    ns = {"__name__": "modreg_construction_probe"}
    exec(compile(valid, "<probe>", "exec"), ns)
    torch.manual_seed(0)
    m = ns["Fitted"]()
    x = torch.randn(3, 4)
    twin = ns["Fitted"]()
    twin.load_state_dict(m.state_dict())  # everything the module runs is saved and restored
    assert torch.equal(twin(x), m(x))
    m.to(torch.float64)
    assert m(x.double()).dtype == torch.float64
    m.to("meta")
    assert m(torch.ones(3, 4, device="meta", dtype=torch.float64)).device.type == "meta"

    run_later = valid.replace("return self.proj(x)", "return self.proj(x) + self.teachers[0](x)")
    assert [(f.code, f.line) for f in check(run_later) if f.code == "MRG101"] == [("MRG101", 7)]
    exec(compile(run_later, "<probe>", "exec"), ns)
    k = ns["Fitted"]()
    k.to(torch.float64)
    with pytest.raises(RuntimeError):
        k(x.double())


def _rule_ns(code: str) -> dict:
    import textwrap

    ns: dict = {}
    exec(compile(textwrap.dedent(code), "<MRG101 example>", "exec"), ns)
    return ns


def test_constant_modules_converted_at_every_use_lose_nothing_and_moved_only_ones_break():
    """MRG101's filter-bank look-alike: a plain list of constant modules (deterministic buffers made in `__init__`,
    a stateless pad, nothing written later), each converted with `b.to(x)` where it is used. Its output equals the
    registered twin's after `.to(torch.float64)` and on a second device (`meta`), it adds no parameter, and a new
    instance rebuilds every buffer (`state_dict()` has nothing to restore). The reported twin moves the banks with
    `b.to(x.device)` only: after `.to(torch.float64)` their fp32 buffers meet float64 inputs and conv1d raises."""
    from flake8_modreg.rules.layers_in_plain_list import LayersInPlainList as R

    valid = next(v for v in R.valid if "constant modules" in v.why)
    invalid = next(i for i in R.invalid if i.title.startswith("constant modules moved but not cast"))
    assert [f for f in check(valid.code) if f.code == "MRG101"] == []
    plain = _rule_ns(valid.code)
    registered = _rule_ns(valid.code.replace("self.banks = [Bank(4), Bank(2)]",
                                             "self.banks = nn.ModuleList([Bank(4), Bank(2)])"))
    torch.manual_seed(0)
    a = plain["Discriminator"]()
    b = registered["Discriminator"]()
    b.head.load_state_dict(a.head.state_dict())
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]  # nothing to train
    fresh = registered["Discriminator"]()
    for k, v in b.state_dict().items():
        if k.startswith("banks."):
            assert torch.equal(v, fresh.state_dict()[k])  # rebuilt by construction: nothing to restore
    x = torch.randn(2, 1, 16, dtype=torch.float64)
    a.to(torch.float64)
    b.to(torch.float64)
    for ya, yb in zip(a(x), b(x)):
        assert ya.dtype == torch.float64 and torch.allclose(ya, yb)
    a.to("meta")
    assert all(y.device.type == "meta" for y in a(x.to("meta")))

    (f,) = [f for f in check(invalid.code) if f.code == "MRG101"]
    broken = _rule_ns(invalid.code)["Discriminator"]().to(torch.float64)
    with pytest.raises(RuntimeError):
        broken(x)
    fixed = _rule_ns(invalid.fixed)["Discriminator"]().to(torch.float64)
    assert all(y.dtype == torch.float64 for y in fixed(x))
