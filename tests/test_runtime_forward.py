"""Ground truth for the forward/construct slips (MRG303-306), under real PyTorch.

Each test runs a rule's own INVALID example (and its ``fixed`` text) so the
documented claim and the executed code are the same text.
"""

import pytest

from flake8_modreg.rules import all_rules

pytestmark = pytest.mark.torch


def _rule(code):
    return next(r for r in all_rules() if r.code == code)


def _exec(code):
    ns = {"__name__": "modreg_runtime"}
    exec(compile(code, "<example>", "exec"), ns)
    return ns


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
