"""MRG307 (an override that lost its name): runtime truth under torch, and the base read from another file
through the resolver (exact findings, silent look-alikes)."""

from __future__ import annotations

import pytest

from flake8_modreg import check
from flake8_modreg.rules import rule_by_code

from conftest import write_tree


def _example(title_start: str):
    return next(i for i in rule_by_code("MRG307").invalid if i.title.startswith(title_start))


def test_the_renamed_override_never_runs_and_the_fix_restores_it(torch):
    inv = _example("a torch override renamed construct")
    ns: dict = {}
    exec(compile(inv.code, "renamed.py", "exec"), ns)
    torch.manual_seed(0)
    m = ns["GatedAttention"](4)
    x = torch.randn(2, 4)
    assert torch.equal(m(x), m.proj(x))  # the base's forward ran: the gate was never applied
    m(x).sum().backward()
    assert m.gate.weight.grad is None  # ...and its weights get no gradient: they never train
    fixed: dict = {}
    exec(compile(inv.fixed, "fixed.py", "exec"), fixed)
    f = fixed["GatedAttention"](4)
    f.load_state_dict(m.state_dict())
    assert torch.allclose(f(x), f.gate(x).sigmoid() * f.proj(x))


def test_valid_template_method_really_calls_construct(torch):
    code = rule_by_code("MRG307").valid[0].code
    ns: dict = {}
    exec(compile(code, "valid.py", "exec"), ns)
    x = torch.ones(2)
    assert torch.equal(ns["Impl"]()(x), x * 2)  # the base's forward hands on to construct: it runs


def test_base_in_another_file(tmp_path, private_resolver):
    files = {
        "pkg/__init__.py": "",
        "pkg/base.py": """
            import torch.nn as nn


            class Attention(nn.Module):
                def forward(self, hidden_states, attention_mask=None, **kwargs):
                    return hidden_states


            class Template(nn.Module):
                def forward(self, x):
                    return self.construct(x)
        """,
        "pkg/model.py": """
            from .base import Attention, Template


            class Gated(Attention):
                def construct(self, hidden_states, attention_mask=None, **kwargs):
                    return hidden_states * 2


            class Other(Attention):
                def construct(self, features):
                    return features


            class Impl(Template):
                def construct(self, x):
                    return x
        """,
    }
    write_tree(tmp_path, files)
    path = tmp_path / "pkg" / "model.py"
    got = [(f.line, f.col, f.code, f.message) for f in check(path.read_text(), path=str(path)) if f.code == "MRG307"]
    # Other renames its parameter, as overrides often do: still the same slip; Impl: the base's forward calls construct
    msg = "'construct' never runs: torch calls the 'forward' inherited from 'Attention'"
    assert got == [(6, 8, "MRG307", msg), (11, 8, "MRG307", msg)]
    # without a path (flake8 on stdin) the base cannot be read: silent
    assert not [f for f in check(path.read_text()) if f.code == "MRG307"]


def test_a_framework_layer_base(torch):
    """``class LayerNorm2d(nn.LayerNorm)`` with its forward renamed: torch runs LayerNorm's own forward (over the
    last dimension, not the channels) and nothing raises."""
    src = (
        "import torch.nn as nn\n"
        "import torch.nn.functional as F\n\n\n"
        "class LayerNorm2d(nn.LayerNorm):\n"
        "    def construct(self, x):\n"
        "        x = x.permute(0, 2, 3, 1)\n"
        "        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps).permute(0, 3, 1, 2)\n"
    )
    assert [(f.line, f.col, f.code) for f in check(src)] == [(6, 8, "MRG307")]
    ns: dict = {}
    exec(compile(src, "ln2d.py", "exec"), ns)
    with pytest.raises(RuntimeError):  # LayerNorm.forward normalises the last dim (W=5), not the 3 channels
        ns["LayerNorm2d"](3)(torch.randn(1, 3, 4, 5))
