"""MRG101 when the same attribute also gets a registered value: a layer list in ``__init__`` is reported
unless the registered value really takes its place (later in the same method, in a method ``__init__``
calls, or where a base we cannot see may call it). Exact findings, silent look-alikes, runtime truth."""

from __future__ import annotations

import textwrap

from flake8_modreg import Config, check

SRC = """\
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, use_conv):
        super().__init__()
        if use_conv:
            self.last = [nn.Linear(2, 2), nn.ReLU()]
        else:
            self.last = nn.Identity()
        for i in range(2):
            setattr(self, f"extra_{i}", nn.Linear(2, 2))
        self.norm = [nn.LayerNorm(2)]
        self.apply(self._init)

    def _init(self, m):
        pass

    def reset(self):
        self.last = nn.Identity()
        self.norm = nn.ModuleList([nn.Identity()])


class Rebuilt(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = [nn.Linear(2, 2)]
        self.build()
        self.tail = [nn.Linear(2, 2)]
        self.tail = nn.Sequential(*self.tail)

    def build(self):
        self.blocks = nn.Sequential(*self.blocks)


class Dynamic(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.head = [nn.Linear(2, 2)]
        setattr(self, name, None)

    def reset(self):
        self.head = nn.Identity()


class P(nn.Module):
    def __init__(self, conv):
        super().__init__()
        self.proj = nn.Identity()
        if conv:
            self.proj = [nn.Linear(2, 2)]
"""


def test_findings_and_look_alikes():
    got = {(f.line, f.col, f.code) for f in check(SRC, config=Config(strict=True))}
    # Head: the list in one branch (the Identity is in the other), a list that only a later reset() replaces
    # (setattr with other names, apply() of a method that does not assign it); P: a list after a registered
    # value of the same method (assigning it raises).
    # Silent: Rebuilt (build() called from __init__ replaces it; a later assignment in __init__), Dynamic
    # (setattr with a computed name may set 'head').
    assert got == {(8, 12, "MRG101"), (13, 8, "MRG101"), (51, 12, "MRG101")}


def test_runtime_truth(torch):
    ns: dict = {}
    exec(compile(SRC, "src.py", "exec"), ns)
    head = ns["Head"](use_conv=True)
    params = {n.split(".")[0] for n, _ in head.named_parameters()}
    assert "last" not in params and "norm" not in params and isinstance(head.last, list) and isinstance(head.norm, list)
    import pytest

    with pytest.raises(TypeError, match="cannot assign 'list' as child module 'proj'"):
        ns["P"](conv=True)
    rebuilt = ns["Rebuilt"]()
    assert {n.split(".")[0] for n, _ in rebuilt.named_parameters()} == {"blocks", "tail"}
