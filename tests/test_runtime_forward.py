"""Ground truth for the forward/construct slips (MRG303-306), under real PyTorch.

Each test runs a rule's own INVALID example (and its ``fixed`` text) so the
documented claim and the executed code are the same text.
"""

import pytest


pytestmark = pytest.mark.torch


from examples_runtime import rule as _rule  # noqa: E402
from examples_runtime import run_example as _exec  # noqa: E402


def test_mrg303_misspelled_forward_and_init_really_break(torch):
    case = _rule("MRG303").invalid[0]
    with pytest.raises(NotImplementedError, match="forward"):
        _exec(case.code)["Net"]()(torch.zeros(1, 4))
    assert _exec(case.fixed)["Net"]()(torch.zeros(1, 4)).shape == (1, 2)

    case = _rule("MRG303").invalid[1]
    ns = _exec(case.code)
    with pytest.raises(TypeError):  # Module.__init__ gets the argument meant for the misspelled __init__
        ns["Block"](4)
    head = ns["Head"]()  # `_init_` never runs: an empty module, no parameters
    assert list(head.parameters()) == []
    with pytest.raises(AttributeError):
        head.fc
    fixed = _exec(case.fixed)
    assert fixed["Head"]()(torch.zeros(1, 4)).shape == (1, 4)
    assert len(list(fixed["Head"]().parameters())) == 2


def test_mrg304_forward_without_self_really_breaks(torch):
    case = _rule("MRG304").invalid[0]
    net = _exec(case.code)["myNet"]()
    with pytest.raises(TypeError, match="positional argument"):
        net(torch.zeros(1, 5, 8, 8))
    assert _exec(case.fixed)["myNet"]()(torch.zeros(1, 5, 8, 8)).shape == (1, 5, 6, 6)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_mrg304_an_overridden_placeholder_forward_never_runs_and_the_bare_base_fails_loudly(torch):
    """MRG304's look-alike: the subclasses of a base whose `forward(x): pass` stub they all override run their own
    forward; only the bare base would run the stub, and that raises TypeError at once (nothing silent)."""
    case = next(v for v in _rule("MRG304").valid if "placeholder forward" in v.why)
    ns = _exec(case.code)
    x = torch.ones(2)
    assert ns["Up"](3)(x).tolist() == [2.0, 2.0]
    assert ns["Down"](3)(x).tolist() == [0.5, 0.5]
    with pytest.raises(TypeError):
        ns["Transition"](3)(x)


def test_mrg304_static_forward_runs_eagerly_but_not_under_jit_or_fx(torch, tmp_path, monkeypatch):
    """Why a staticmethod forward is reported although eager torch calls it fine."""
    import importlib

    (tmp_path / "modreg_static_example.py").write_text(_rule("MRG304").invalid[2].code)
    monkeypatch.syspath_prepend(str(tmp_path))  # TorchScript needs the source in a real file
    flat = importlib.import_module("modreg_static_example").Flatten()
    x = torch.zeros(2, 3, 4)
    assert flat(x).shape == (2, 12)
    with pytest.raises(RuntimeError, match="flatten"):  # the module itself is passed as `x`
        torch.jit.script(flat)
    import torch.fx

    with pytest.raises((TypeError, AttributeError)):
        torch.fx.symbolic_trace(flat)


def test_mrg305_forward_without_return_gives_none(torch):
    ns = _exec(_rule("MRG305").invalid[1].code)
    x = torch.zeros(1, 4)
    assert ns["Net"]()(x) is None
    assert ns["Show"]()(x) is None
    # in nn.Sequential the next layer receives None
    with pytest.raises((TypeError, AttributeError)):
        torch.nn.Sequential(ns["Act"](), torch.nn.Linear(4, 2))(x)


def test_mrg306_direct_forward_skips_the_submodule_hooks(torch):
    case = _rule("MRG306").invalid[0]
    x = torch.ones(1, 4)
    for code, expected in ((case.code, 0), (case.fixed, 3)):
        net = _exec(code)["Net"]()
        fired = []
        for sub in (*net.layers, net.head):
            sub.register_forward_hook(lambda mod, inp, out: fired.append(type(mod).__name__))
        out = net(x)
        assert out.shape == (1, 2)
        assert len(fired) == expected, code
    # same numbers either way while no hook changes the output
    torch.manual_seed(0)
    a = _exec(case.code)["Net"]()
    torch.manual_seed(0)
    b = _exec(case.fixed)["Net"]()
    assert torch.equal(a(x), b(x))


def test_mrg306_interface_typed_attribute_must_be_called_through_forward_under_torchscript(torch, tmp_path, monkeypatch):
    """MRG306's exemption: with a @torch.jit.interface-typed attribute, `.forward(x)` scripts and `(x)` does not."""
    import importlib

    ok = next(v for v in _rule("MRG306").valid if "jit.interface" in v.why).code
    (tmp_path / "modreg_iface_ok.py").write_text(ok)
    assert "return m.forward(self.impl.forward(x))" in ok
    (tmp_path / "modreg_iface_call.py").write_text(ok.replace("return m.forward(", "return m("))
    monkeypatch.syspath_prepend(str(tmp_path))
    scripted = torch.jit.script(importlib.import_module("modreg_iface_ok").Wrapper())
    assert torch.equal(scripted(torch.ones(2), "a"), torch.full((2,), 4.0))
    with pytest.raises(Exception):  # calling the interface-typed module directly does not compile
        torch.jit.script(importlib.import_module("modreg_iface_call").Wrapper())


def test_a_forward_ending_in_a_library_effect_runs_for_it_and_a_dropped_value_breaks_the_next_layer(caplog):
    import logging

    import torch

    from flake8_modreg import check
    from flake8_modreg.rules.forward_returns_nothing import ForwardReturnsNothing

    code = next(v.code for v in ForwardReturnsNothing.valid if "library function" in v.why)
    assert [f for f in check(code) if f.code == "MRG305"] == []
    ns = {"__name__": "modreg_effect_probe"}
    exec(compile(code, "<probe>", "exec"), ns)
    with caplog.at_level(logging.INFO):
        assert ns["Guide"]()(torch.ones(2, 4), ["z"]) is None
    assert any(r.getMessage().startswith("z: ") for r in caplog.records)  # the effect is what it is for
    bad = next(i.code for i in ForwardReturnsNothing.invalid if "called last" in i.title)
    exec(compile(bad, "<bad>", "exec"), ns2 := {"__name__": "modreg_dropped_probe"})
    with pytest.raises((TypeError, AttributeError)):
        torch.nn.Sequential(ns2["B"](), torch.nn.Linear(4, 4))(torch.ones(2, 4))


def test_a_submodule_with_its_own_call_runs_no_hooks_and_forward_is_its_raw_result():
    import torch

    from flake8_modreg import check
    from flake8_modreg.rules.direct_forward_call import DirectForwardCall

    code = next(v.code for v in DirectForwardCall.valid if "own __call__" in v.why)
    assert [f for f in check(code) if f.code == "MRG306"] == []
    ns = {"__name__": "modreg_owncall_probe"}
    exec(compile(code, "<probe>", "exec"), ns)
    m = ns["SumKernel"]()
    fired = []
    m.k.register_forward_hook(lambda *a: fired.append(1))
    x = torch.ones(2)
    assert torch.equal(m(x), x * 4)
    m.k(x)
    assert fired == []  # its own __call__ replaces Module.__call__: hooks never run
    assert isinstance(m.k(x), dict)  # the "fix" (calling it) would change the result


def test_a_blockwise_visitor_hands_every_block_to_its_callback_and_a_layer_in_a_final_loop_loses_them():
    import torch

    from flake8_modreg import check
    from flake8_modreg.rules.forward_returns_nothing import ForwardReturnsNothing

    code = next(v.code for v in ForwardReturnsNothing.valid if v.why.startswith("each block handed to a callable"))
    assert [f for f in check(code) if f.code == "MRG305"] == []
    ns = {"__name__": "modreg_visitor_probe"}
    exec(compile(code, "<probe>", "exec"), ns)
    blocks = []
    m = ns["Blockwise"](torch.cdist, iter_fn=lambda mat, s, e: blocks.append((s, e, mat)), batch_size=2)
    q = torch.randn(5, 3)
    assert m(q, q) is None
    assert [(s, e) for s, e, _ in blocks] == [(0, 2), (2, 4), (4, 6)]
    assert torch.allclose(torch.cat([b for _, _, b in blocks]), torch.cdist(q, q))  # every result reached its sink

    bad = next(i.code for i in ForwardReturnsNothing.invalid if i.title.startswith("a layer in a final loop"))
    assert [(f.code, f.line) for f in check(bad) if f.code == "MRG305"] == [("MRG305", 9)]
    exec(compile(bad, "<bad>", "exec"), ns2 := {"__name__": "modreg_loop_dropped_probe"})
    assert ns2["Blockwise"]()(torch.ones(4, 4)) is None  # the layer's outputs are gone


def test_a_call_override_that_calls_super_still_runs_hooks_which_forward_skips():
    """MRG306: a ``__call__`` handing on to ``super().__call__`` keeps Module.__call__'s hooks; ``.forward`` skips
    them, so it is reported (unlike a ``__call__`` that replaces Module.__call__)."""
    import torch

    from flake8_modreg import check

    code = """
import torch.nn as nn

class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def __call__(self, *args, **kwargs):
        return super().__call__(*args, **kwargs)

    def forward(self, x):
        return self.fc(x)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = Layer()

    def forward(self, x):
        return self.layer.forward(x)
"""
    assert [(f.code, f.line) for f in check(code) if f.code == "MRG306"] == [("MRG306", 21)]
    ns = {"__name__": "modreg_supercall_probe"}
    exec(compile(code, "<probe>", "exec"), ns)
    m = ns["Net"]()
    fired = []
    m.layer.register_forward_hook(lambda *a: fired.append(1))
    m.layer(torch.ones(1, 4))
    assert fired == [1]  # called: the hook runs
    m(torch.ones(1, 4))
    assert fired == [1]  # through .forward: skipped
