"""MRG403 on the values modern model code builds layers from: ``**dd`` keyword mappings, factory
parameters judged by their defaults (``norm_layer=nn.LayerNorm``, ``partial(...)``, ``x or Y``), and
Module classes of other files (``Resolver.class_state``). Exact findings, silent look-alikes, and
runtime truth under torch: what is reported really holds fresh, unregistered weights."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flake8_modreg import Config, check
from flake8_modreg import resolver as R


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODREG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(R, "_STORE", R._Store())
    monkeypatch.setattr(R, "_WORLDS", {})


VALUES = """\
from functools import partial
import torch.nn as nn


class Net(nn.Module):
    def forward(self, x, norm_layer=nn.LayerNorm, act_layer=nn.GELU, opt=None, **kwargs):
        dd = {"device": x.device, "dtype": x.dtype}
        kk = dict(device=x.device)
        off = {"affine": False, "track_running_stats": False}
        changed = {"device": x.device}
        changed.update(kwargs)
        bn_off = partial(nn.BatchNorm2d, affine=False, track_running_stats=False)
        layer = opt or nn.LayerNorm
        a = nn.BatchNorm2d(4, **dd)(x)
        b = nn.BatchNorm2d(4, **kk)(x)
        c = norm_layer(4)(x)
        d = layer(4)(x)
        e = partial(nn.BatchNorm2d, eps=1e-3)(4)(x)
        f = nn.BatchNorm2d(4, **kwargs)(x)
        g = nn.BatchNorm2d(4, **off)(x)
        h = nn.BatchNorm2d(4, **changed)(x)
        i = act_layer()(x)
        j = bn_off(4)(x)
        k = opt(4)(x)
        return a
"""


def findings(src: str, path: str | None = None) -> set[tuple[int, int, str]]:
    return {(f.line, f.col, f.code) for f in check(src, path=path, config=Config(strict=True))}


def test_keyword_mappings_factory_defaults_and_or_values():
    # a: **dd of known keys; b: dict(...); c: a factory parameter's default; d: `opt or nn.LayerNorm` with
    # opt=None; e: partial(...) called -- each a stateful layer per call. Silent: **kwargs (any key), a mapping
    # holding the switches, a mapping changed in place, a stateless default (GELU), a partial that switches the
    # state off, a parameter whose default is None (k)
    assert findings(VALUES) == {(14, 12, "MRG403"), (15, 12, "MRG403"), (16, 12, "MRG403"), (17, 12, "MRG403"), (18, 12, "MRG403")}


OTHER = {
    "pkg/__init__.py": "",
    "pkg/layers.py": """
        import torch
        import torch.nn as nn


        class Scale(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.register_buffer("s", torch.ones(dim))


        class Mlp(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.fc = nn.Linear(dim, dim)

            def forward(self, x):
                return self.fc(x)


        class Wrapped(Mlp):
            pass


        class Maybe(nn.Module):
            def __init__(self, dim, use=True):
                super().__init__()
                if use:
                    self.fc = nn.Linear(dim, dim)


        class Early(nn.Module):
            def __init__(self, dim):
                super().__init__()
                if dim == 0:
                    return
                self.fc = nn.Linear(dim, dim)


        class Act(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = nn.GELU()


        class Norm(nn.Module):
            def __init__(self, dim, **kw):
                super().__init__()
                self.bn = nn.BatchNorm1d(dim, **kw)
    """,
}

USER = """\
from .layers import Scale, Mlp, Wrapped, Maybe, Early, Act, Norm
import torch.nn as nn


class Net(nn.Module):
    def forward(self, x):
        x = Scale(4)(x)
        x = Mlp(4)(x)
        x = Wrapped(4)(x)
        x = Maybe(4)(x)
        x = Early(4)(x)
        x = Act()(x)
        x = Norm(4)(x)
        return x
"""


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


ON_SELF = """\
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, dim, norm_layer=nn.LayerNorm, device=None, **kwargs):
        super().__init__()
        self.dim = dim
        self.dd = {"device": device}
        self.kw = kwargs
        self.off = dict(affine=False, track_running_stats=False)
        self.grown = {"device": device}
        self.norm_layer = norm_layer

    def add(self, **more):
        self.grown.update(more)

    def forward(self, x):
        a = self.norm_layer(self.dim, **self.dd)(x)
        b = nn.BatchNorm1d(self.dim, **self.dd)(x)
        c = nn.BatchNorm1d(self.dim, **self.kw)(x)
        d = nn.BatchNorm1d(self.dim, **self.off)(x)
        e = nn.BatchNorm1d(self.dim, **self.grown)(x)
        return a + b + c + d + e
"""


def test_mappings_and_factories_kept_on_self():
    # a, b: the mapping stored in __init__ passes known keys only; silent: c, a **kwargs dict (any key);
    # d, the switches themselves; e, a mapping another method updates in place
    assert findings(ON_SELF) == {(18, 12, "MRG403"), (19, 12, "MRG403")}


CONTAINERS = """\
import torch.nn as nn


class Stage(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3)


class Encoder(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.stages = nn.ModuleList([])
        for i in range(n):
            stage = Stage(i)
            self.stages.append(stage)


class Proj(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.p = nn.Sequential(nn.Linear(d, d), nn.ReLU())


class Acts(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.p = nn.Sequential(nn.ReLU(), nn.GELU())


class Net(nn.Module):
    def forward(self, x):
        a = Encoder(2)(x)
        b = Proj(4)(x)
        c = Acts(4)(x)
        return a + b + c
"""


def test_classes_whose_state_is_in_registered_containers(torch):
    # Encoder appends a stateful Stage to a ModuleList, Proj builds a Sequential holding a Linear: both hold
    # weights, so building them in forward is reported; Acts' Sequential holds only activations: silent
    assert findings(CONTAINERS) == {(33, 12, "MRG403"), (34, 12, "MRG403")}
    ns: dict = {}
    exec(compile(CONTAINERS, "containers.py", "exec"), ns)
    assert len(list(ns["Encoder"](2).parameters())) > 0 and len(list(ns["Proj"](4).parameters())) > 0
    assert len(list(ns["Acts"](4).parameters())) + len(list(ns["Acts"](4).buffers())) == 0


def test_module_classes_of_other_files(tmp_path):
    write(tmp_path, OTHER)
    user = tmp_path / "pkg" / "user.py"
    user.write_text(USER)
    # Scale registers a buffer, Mlp stores a Linear, Wrapped inherits Mlp's __init__, Maybe stores one under
    # `if use:` and the call keeps use=True; silent: a layer after an early return, a stateless layer, a layer
    # whose flags come through **kw
    assert findings(USER, str(user)) == {(7, 12, "MRG403"), (8, 12, "MRG403"), (9, 12, "MRG403"), (10, 12, "MRG403")}
    assert findings(USER) == set()  # without the path the classes are unknown


def test_runtime_truth(torch):
    from functools import partial

    nn = torch.nn
    x = torch.ones(2, 4, 3, 3)
    dd = {"device": x.device, "dtype": x.dtype}
    stateful = [nn.BatchNorm2d(4, **dd), nn.BatchNorm2d(4, **dict(device=x.device)), nn.LayerNorm(4), partial(nn.BatchNorm2d, eps=1e-3)(4)]
    assert all(len(list(m.parameters())) + len(list(m.buffers())) > 0 for m in stateful)
    stateless = [nn.BatchNorm2d(4, **{"affine": False, "track_running_stats": False}), nn.GELU(),
                 partial(nn.BatchNorm2d, affine=False, track_running_stats=False)(4)]
    assert all(len(list(m.parameters())) + len(list(m.buffers())) == 0 for m in stateless)

    ns: dict = {}
    exec(compile(textwrap.dedent(OTHER["pkg/layers.py"]), "layers.py", "exec"), ns)
    for name in ("Scale", "Mlp", "Wrapped"):
        m = ns[name](4)
        assert len(list(m.parameters())) + len(list(m.buffers())) > 0
    assert len(list(ns["Maybe"](4, use=False).parameters())) == 0
    assert len(list(ns["Maybe"](4).parameters())) == 2  # the default keeps the branch: what is reported
    assert len(list(ns["Early"](0).parameters())) == 0
    assert len(list(ns["Act"]().parameters())) == 0
    assert len(list(ns["Norm"](4, affine=False, track_running_stats=False).buffers())) == 0

    class Net(nn.Module):  # what is reported: each call builds new weights that the Module never holds
        def forward(self, x, norm_layer=nn.LayerNorm):
            return ns["Mlp"](4)(norm_layer(4)(x))

    net = Net()
    y = torch.ones(2, 4)
    assert list(net.parameters()) == [] and not torch.equal(net(y), net(y))
