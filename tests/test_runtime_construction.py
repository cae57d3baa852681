"""Ground truth for the construction rules (MRG401-404), under real PyTorch.

Each test runs a rule's own INVALID example (and its ``fixed`` text) so the
documented claim and the executed code are the same text.
"""

import pytest


pytestmark = pytest.mark.torch


from examples_runtime import rule as _rule  # noqa: E402
from examples_runtime import run_example as _exec  # noqa: E402


def test_mrg401_missing_super_init_raises_or_leaves_a_broken_module(torch):
    case = _rule("MRG401").invalid[0]
    ns = _exec(case.code)
    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\) call"):
        ns["Net"]()
    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        ns["Scaled"]()
    fixed = _exec(case.fixed)
    assert fixed["Net"]()(torch.zeros(1, 4)).shape == (1, 2)
    assert len(list(fixed["Scaled"]().parameters())) == 1

    ns = _exec(_rule("MRG401").invalid[1].code)
    gain = ns["Gain"](2)  # plain attributes: construction works ...
    assert gain.k == 2
    with pytest.raises(AttributeError, match="_backward_hooks|_modules|_parameters"):
        gain(torch.ones(1))  # ... but the module cannot be called
    with pytest.raises(AttributeError, match="_parameters"):
        list(gain.parameters())
    with pytest.raises(AttributeError):
        ns["Head"]()


def test_mrg401_valid_spellings_really_initialise(torch):
    ns = _exec(_rule("MRG401").valid[0].code)
    for name in "ABCDE":
        m = ns[name]()
        list(m.parameters())  # would raise without Module.__init__


def test_mrg402_state_before_super_init_raises(torch):
    ns = _exec(_rule("MRG402").invalid[0].code)
    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\) call"):
        ns["Net"](4)
    ns = _exec(_rule("MRG402").invalid[1].code)
    with pytest.raises(AttributeError, match="cannot assign module before"):
        ns["Block"]([torch.nn.ReLU()])
    # plain values before super().__init__() are kept and work
    net = _exec(_rule("MRG402").valid[0].code)["Net"](4)
    assert net.dim == 4 and net.head is None and net(torch.zeros(1, 4)).shape == (1, 2)
    assert "mask" in net.state_dict()


def test_mrg402_buffer_and_parameter_before_super_init_raise(torch):
    nn = torch.nn

    class P(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(torch.ones(1))
            super().__init__()

    class B(nn.Module):
        def __init__(self):
            self.register_buffer("b", torch.ones(1))
            super().__init__()

    with pytest.raises(AttributeError, match="cannot assign parameters before"):
        P()
    with pytest.raises(AttributeError, match="cannot assign buffer before"):
        B()


def test_mrg403_layer_built_in_forward_is_fresh_and_unregistered(torch):
    torch.manual_seed(0)
    net = _exec(_rule("MRG403").invalid[0].code)["Net"]()
    x = torch.ones(1, 4)
    assert not torch.equal(net(x), net(x))  # new random weights on every call
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias"]  # the head is invisible
    ns = _exec(_rule("MRG403").invalid[1].code)
    out = ns["Net"]()(torch.randn(2, 4, 5))
    assert out.shape == (2, 4, 5) and list(ns["Net"]().parameters()) == []


def test_mrg403_valid_layers_are_deterministic_or_registered(torch):
    code = _rule("MRG403").valid[0].code.replace("from mylib import Adapter\n", "Adapter = lambda n: (lambda t: t)\n")
    net = _exec(code)["Net"]()
    x = torch.ones(2, 4)
    first = net(x)
    assert torch.equal(first, net(x))  # stateless layers built in forward change nothing
    assert "head.weight" in dict(net.named_parameters())  # lazy initialisation registers the layer
    ns = _exec(next(v.code for v in _rule("MRG403").valid if "add_module" in v.code))
    net = ns["Net"]()
    net(x)
    assert {"extra.weight", "blocks.0.weight"} <= set(dict(net.named_parameters()))


def test_mrg403_stateless_flags_match_the_real_layers(torch):
    """The generated state table agrees with torch for the layers used in the examples."""
    from flake8_modreg import known

    nn = torch.nn
    for name, inst in {
        "Linear": nn.Linear(2, 2),
        "BatchNorm1d": nn.BatchNorm1d(2),
        "ReLU": nn.ReLU(),
        "Dropout": nn.Dropout(),
        "InstanceNorm1d": nn.InstanceNorm1d(2),
    }.items():
        state = bool(list(inst.parameters()) or list(inst.buffers()))
        assert known.layer_state(f"torch.nn.{name}")[0] is state
    assert not list(nn.LayerNorm(2, elementwise_affine=False).parameters())
    assert known.layer_state("torch.nn.LayerNorm")[1] == [["elementwise_affine"]]


def test_mrg404_typos_raise_and_the_fix_runs(torch):
    case = _rule("MRG404").invalid[0]
    with pytest.raises(AttributeError, match="has no attribute 'Paramter'"):
        _exec(case.code)["Net"]()
    net = _exec(case.fixed)["Net"]()
    assert len(list(net.parameters())) == 2 + 2  # w, b and the BatchNorm's weight and bias
    with pytest.raises(ImportError, match="Relu"):
        _exec(_rule("MRG404").invalid[1].code)
    with pytest.raises(ImportError, match="Relu"):  # the fix leaves the un-aliased import alone
        _exec(_rule("MRG404").invalid[1].fixed)
    ns = _exec(_rule("MRG404").invalid[1].fixed.replace("Relu, ", ""))
    assert ns["head"](torch.ones(1, 2)).shape == (1, 2)
    for name in ("Relu", "Batchnorm2d", "Modulelist", "Sequnetial"):
        assert not hasattr(torch.nn, name)


def test_mrg404_every_suggestion_and_known_name_is_real(torch):
    """The generated tables match the installed torch: known names exist, reported ones do not."""
    import importlib

    from flake8_modreg import known

    for module in ("torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.parameter"):
        mod = importlib.import_module(module)
        missing = [n for n in known.ATTR_NAMES[module] if not hasattr(mod, n) and not _is_submodule(module, n)]
        assert missing == []


def _is_submodule(module, name):
    import importlib

    try:
        importlib.import_module(f"{module}.{name}")
        return True
    except ImportError:
        return False


def test_mrg404_policy_would_not_flag_names_a_newer_version_adds():
    """Leave-one-out on the generated tables: a real name, unknown to us, is almost never taken for a typo.

    This is how a layer added in a newer torch/MindSpore than our tables would be judged.
    """
    from flake8_modreg import known
    from flake8_modreg.rules.misspelled_nn_name import CHECKED, close_names

    flagged = {}
    for module in CHECKED:
        names = known.ATTR_NAMES.get(module, frozenset())
        flagged[module] = sorted(n for n in names if not n.startswith("_") and close_names(n, names - {n}))
    assert flagged["torch.nn"] == [] and flagged["torch.nn.init"] == [] and flagged["mindspore.nn"] == []
    assert flagged["torch.nn.functional"] == ["rrelu_"]  # against relu_: the one known collision


def test_mrg403_a_layer_factory_kept_on_self_builds_fresh_unregistered_weights(torch):
    """The factory-attribute example: the LayerNorm built in forward is not in parameters(), so an optimizer step
    never changes it; the look-alike whose attribute another method replaces stays silent (unknowable)."""
    inv = next(i for i in _rule("MRG403").invalid if i.title.startswith("a layer factory kept on self"))
    ns = _exec(inv.code)
    net = ns["Block"](4)
    assert sorted(n for n, _ in net.named_parameters()) == ["fc.bias", "fc.weight"]
    seen = []
    orig = torch.nn.LayerNorm.__init__

    def spy(self, *a, **k):
        orig(self, *a, **k)
        seen.append(self)

    torch.nn.LayerNorm.__init__ = spy
    try:
        net(torch.randn(2, 4))
        net(torch.randn(2, 4))
    finally:
        torch.nn.LayerNorm.__init__ = orig
    assert len(seen) == 2 and seen[0] is not seen[1]  # a new LayerNorm, with new weights, on every call
    assert not {id(p) for m in seen for p in m.parameters()} & {id(p) for p in net.parameters()}


def test_mrg403_attributes_applied_to_the_input_hold_layers_not_factories(torch):
    """The look-alike: a layer passed in is registered when stored and applied in forward; the class default
    could never be what forward calls -- building a LayerNorm from a tensor raises."""
    code = next(v.code for v in _rule("MRG403").valid if v.why.startswith("attributes that hold layers passed in"))
    Mega = _exec(code)["Mega"]
    m = Mega(4, normalization=torch.nn.LayerNorm(4), act=torch.nn.LayerNorm(4))
    assert {"normalization.weight", "act.weight"} <= set(dict(m.named_parameters()))
    assert m(torch.randn(2, 4)).shape == (2, 4)
    with pytest.raises(TypeError):
        Mega(4)(torch.randn(2, 4))


def test_mrg403_a_class_registering_its_layers_with_add_module_builds_fresh_unregistered_weights(torch):
    """`self.add_module("c", nn.Conv2d(...))` registers a layer like `self.c = ...`: such a class built in forward
    brings new weights on every call, none of them in the caller's parameters()."""
    inv = next(i for i in _rule("MRG403").invalid if "add_module" in i.title)
    ns = _exec(inv.code)
    stem = ns["Stem"](2)
    assert list(stem.parameters()) == []
    assert len(list(ns["ConvNorm"](2, 2).parameters())) == 3  # conv weight, bn weight and bias
    stem.eval()
    x = torch.randn(1, 2, 3, 3)
    assert not torch.equal(stem(x), stem(x))  # a new random conv on each call


def test_mrg403_a_nested_construction_is_one_bug_all_its_weights_are_fresh(torch):
    """Residual(nn.Sequential(nn.Linear(...))) built in forward: the Residual's gamma and the Linear inside are all
    new on each call and none is the Block's: one finding for the whole expression."""
    inv = next(i for i in _rule("MRG403").invalid if i.title.startswith("one finding for a layer built"))
    ns = _exec(inv.code)
    block = ns["Block"](4)
    assert list(block.parameters()) == []
    x = torch.randn(2, 4)
    assert not torch.equal(block(x), block(x))


def test_mrg403_a_class_adding_its_layers_in_a_loop_built_in_forward_brings_fresh_weights(torch):
    """timm's MixedConv2d shape (`for i, k in enumerate(kernels): self.add_module(str(i), Conv(...))`): the resolver
    counts a loop's layers as the class's state (tests/test_resolver.py); built in forward, they are new random
    weights on every call and none is in the caller's parameters()."""
    ns = _exec("""
import torch.nn as nn

class MixedConv(nn.ModuleDict):
    def __init__(self, c, kernels=(3, 5)):
        super().__init__()
        for i, k in enumerate(kernels):
            self.add_module(str(i), nn.Conv2d(c, c, k, padding=k // 2))

    def forward(self, x):
        return sum(conv(x) for conv in self.values())

class Net(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c

    def forward(self, x):
        return MixedConv(self.c)(x)
""")
    assert len(list(ns["MixedConv"](2).parameters())) == 4  # two convs, weight and bias each
    net = ns["Net"](2)
    assert list(net.parameters()) == []
    x = torch.randn(1, 2, 5, 5)
    assert not torch.equal(net(x), net(x))
