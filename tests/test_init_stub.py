"""MRG401 on an ``__init__`` that never touches ``self`` (only forwarded its arguments to the removed
``super().__init__(...)``): reported when there is a forward to call, silent otherwise. Runtime truth."""

from __future__ import annotations

import pytest

from flake8_modreg import Config, check

SRC = """\
import torch
import torch.nn as nn
from mylib import Base


class LayerNorm2d(nn.LayerNorm):
    def __init__(self, num_channels, eps=1e-6, affine=True):
        pass


class Net(nn.Module):
    def __init__(self, dim):
        \"\"\"Does nothing.\"\"\"

    def forward(self, x):
        return x


class Child(Net):
    def __init__(self):
        pass


class Abstract(nn.Module):
    def __init__(self, *args, **kwargs):
        pass


class Unseen(Base):
    def __init__(self):
        pass
"""


def test_findings_and_look_alikes():
    got = {(f.line, f.col, f.code) for f in check(SRC, config=Config(strict=True))}
    # silent: no forward anywhere (Abstract), a base we cannot see (Unseen); no fix offered for any of them
    assert got == {(7, 8, "MRG401"), (12, 8, "MRG401"), (20, 8, "MRG401")}
    assert all(f.fix is None for f in check(SRC, config=Config(strict=True)))


def test_runtime_truth(torch):
    ns: dict = {}
    exec(compile(SRC.replace("from mylib import Base\n", "Base = object\n"), "src.py", "exec"), ns)
    for make in (lambda: ns["LayerNorm2d"](4), lambda: ns["Net"](4), lambda: ns["Child"]()):
        m = make()  # builds
        with pytest.raises(AttributeError):
            m(torch.ones(1, 4, 2, 2))
        with pytest.raises(AttributeError):
            list(m.parameters())


MIXIN = """\
import torch
import torch.nn as nn


class Sampler(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.expand(*self.shape)


class PairwiseMixin(Sampler):
    def __init__(self, k=2):
        self.k = k

    def forward(self, x):
        return super().forward(x)[: self.k]


class Pairwise(PairwiseMixin, Sampler):
    def __init__(self, shape, k=2):
        PairwiseMixin.__init__(self, k=k)
        Sampler.__init__(self, shape)


class ChainedMixin(Sampler):
    def __init__(self, k=2):
        self.k = k

    def forward(self, x):
        return x


class Chained(ChainedMixin):
    def __init__(self, k=2):
        ChainedMixin.__init__(self, k=k)


class StatefulMixin(Sampler):
    def __init__(self, k=2):
        self.proj = nn.Linear(k, k)

    def forward(self, x):
        return self.proj(x)


class Stateful(StatefulMixin, Sampler):
    def __init__(self, shape, k=2):
        StatefulMixin.__init__(self, k=k)
        Sampler.__init__(self, shape)
"""


def test_cooperative_mixin_is_silent_and_its_look_alikes_fire():
    got = {(f.line, f.col, f.code) for f in check(MIXIN, config=Config(strict=True))}
    # silent: PairwiseMixin (its only subclass initialises it by hand beside Sampler);
    # reported: ChainedMixin (its subclass calls no other base's __init__) and StatefulMixin (stores a layer)
    assert got == {(29, 8, "MRG401"), (42, 8, "MRG401")}


def test_cooperative_mixin_runtime_truth(torch):
    ns: dict = {}
    exec(compile(MIXIN, "mixin.py", "exec"), ns)
    m = ns["Pairwise"]((3, 2), k=1)  # the mixin's plain values set before Module.__init__ survive it
    assert m.k == 1 and m(torch.ones(2)).shape == (1, 2)
    fixed: dict = {}  # the "fix" MRG401 would suggest breaks the subclass
    exec(compile(MIXIN.replace("        self.k = k\n\n    def forward(self, x):\n        return super()",
                               "        super().__init__()\n        self.k = k\n\n    def forward(self, x):\n        return super()"),
                 "mixin_fixed.py", "exec"), fixed)
    with pytest.raises(TypeError, match="shape"):
        fixed["Pairwise"]((3, 2), k=1)
    with pytest.raises(AttributeError):  # the look-alike that stores a layer first really breaks
        ns["Stateful"]((3, 2))
