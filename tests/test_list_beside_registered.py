"""MRG101 when the same attribute also gets a registered value: a layer list in ``__init__`` is reported
unless the registered value really takes its place (later in the same method, in a method ``__init__``
calls, or where a base we cannot see may call it). Exact findings, silent look-alikes, runtime truth."""

from __future__ import annotations


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


def test_a_finished_list_handed_whole_to_a_module_list_is_registered_and_one_filled_later_is_not(torch):
    """MRG101's exemption, under torch: ``nn.ModuleList(self.blocks_list)`` registers the very same layer objects,
    so parameters, state_dict, ``.to()`` and ``.half()`` reach the ones forward iterates through the plain list;
    a layer appended to the plain list after the wrap is in none of them."""
    from flake8_modreg.rules.layers_in_plain_list import LayersInPlainList

    valid = next(v.code for v in LayersInPlainList.valid if v.why.startswith("the finished list is handed whole"))
    assert check(valid, config=Config(strict=True)) == []
    ns: dict = {}
    exec(compile(valid, "valid.py", "exec"), ns)
    m = ns["Stack"](depth=3)
    assert {id(p) for b in m.blocks_list for p in b.parameters()} <= {id(p) for p in m.parameters()}
    assert len([k for k in m.state_dict() if k.startswith("blocks.")]) == 6
    m.to("meta")
    assert all(p.device.type == "meta" for b in m.blocks_list for p in b.parameters())
    m2 = ns["Stack"]().half()
    assert all(p.dtype == torch.float16 for b in m2.blocks_list for p in b.parameters())

    invalid = next(i.code for i in LayersInPlainList.invalid if i.title.startswith("filled after it was wrapped"))
    assert [(f.line, f.code) for f in check(invalid, config=Config(strict=True))] == [(6, "MRG101")]
    ns = {}
    exec(compile(invalid, "invalid.py", "exec"), ns)
    k = ns["Stack"]()
    lost = k.blocks_list[-1]
    assert not {id(p) for p in lost.parameters()} & {id(p) for p in k.parameters()}
    k.to("meta")
    assert lost.weight.device.type == "cpu"  # left behind: forward then mixes devices


SLICED = """\
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, reps, start_with_relu=True):
        super().__init__()
        rep = []
        for i in range(reps):
            rep.append(nn.ReLU())
            rep.append(nn.Conv2d(4, 4, 3))
        if not start_with_relu:
            rep = rep[1:]
        self.rep = list(rep)

    def forward(self, x):
        for m in self.rep:
            x = m(x)
        return x
"""


def test_a_slice_of_a_list_of_layers_is_a_list_of_the_same_layers(torch):
    """``rep = rep[1:]`` keeps the layers it holds: ``self.rep = list(rep)`` is still a plain list of them."""
    assert [(f.line, f.col, f.code) for f in check(SLICED)] == [(13, 8, "MRG101")]
    ns: dict = {}
    exec(compile(SLICED, "sliced.py", "exec"), ns)
    m = ns["Block"](2, start_with_relu=False)
    assert list(m.parameters()) == []  # the convs the forward runs are invisible to parameters()
