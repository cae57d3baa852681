"""Ground truth for the opinionated rules (MRG9xx), under real PyTorch: the rule's own examples are run."""

import pytest

pytestmark = pytest.mark.torch

from examples_runtime import rule as _rule  # noqa: E402
from examples_runtime import run_example as _exec  # noqa: E402


def _zeroes_after_eval(torch, module, x) -> bool:
    module.eval()
    with torch.no_grad():
        out = module(x)
    return bool((out == 0).any())


def test_mrg901_reported_dropout_stays_on_after_eval_and_the_valid_forms_switch_off(torch):
    torch.manual_seed(0)
    x = torch.ones(64, 4)
    ns = _exec(_rule("MRG901").invalid[0].code)
    head = ns["Head"]()
    with torch.no_grad():
        head.fc.weight.copy_(torch.eye(4))
        head.fc.bias.zero_()
    assert _zeroes_after_eval(torch, head, x)  # nn.Dropout built per call and F.dropout: still dropping
    ns = _exec(_rule("MRG901").invalid[1].code)
    assert _zeroes_after_eval(torch, ns["Block"](), x)

    ns = _exec(_rule("MRG901").valid[0].code)
    head = ns["Head"]()
    with torch.no_grad():
        head.fc.weight.copy_(torch.eye(4))
        head.fc.bias.zero_()
    head.eval()
    with torch.no_grad():
        assert torch.equal(head(x), x)  # .eval() switched every form off
    head.train()
    with torch.no_grad():
        assert (head(x) == 0).any()  # and they do drop in training
