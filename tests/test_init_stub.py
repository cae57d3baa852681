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
