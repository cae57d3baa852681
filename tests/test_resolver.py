"""The resolver (what an imported name is, from disk) and the values the model now knows:
calls of classes and functions of other files, parameter defaults and annotations, conditional
expressions. Each new inference has a look-alike that stays unknown, and runtime truth under torch."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from flake8_modreg import Config, check
from flake8_modreg import resolver as R


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODREG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(R, "_STORE", R._Store())
    monkeypatch.setattr(R, "_WORLDS", {})


LIB = {
    "lib/__init__.py": """
        from .layers import Mlp, make, Norm, BN
        from . import blocks
    """,
    "lib/layers.py": """
        from functools import partial
        import torch
        import torch.nn as nn
        from torch.nn import Linear as Lin

        Norm = nn.LayerNorm
        BN = partial(nn.BatchNorm2d, eps=1e-5)
        NotAClass = 3


        class Mlp(nn.Module):
            pass


        class Mixin:
            pass


        def make(d):
            if d:
                layer = Mlp()
            else:
                layer = Lin(d, d)
            return layer


        def maybe(d):
            return Mlp() if d else None


        def passthrough(m):
            return m


        @staticmethod
        def decorated():
            return Mlp()


        def gen():
            yield Mlp()


        def table(n):
            return torch.zeros(n)


        def grad_table(n):
            return torch.zeros(n, requires_grad=True)


        def rebinds(d):
            Mlp = dict
            return Mlp()
    """,
    "lib/blocks.py": """
        from .layers import *


        class Block(Mlp):
            pass


        class Plain(Mixin):
            pass
    """,
    "lib/cycle_a.py": """
        from .cycle_b import B


        class A(B):
            pass
    """,
    "lib/cycle_b.py": """
        from .cycle_a import A


        class B(A):
            pass
    """,
}


def test_classes_functions_aliases_and_their_look_alikes(tmp_path):
    write(tmp_path, LIB)
    r = R.Resolver(str(tmp_path / "lib" / "blocks.py"))
    assert r.module_name == "lib.blocks"
    assert r.class_framework("lib.Mlp") == "torch"  # re-exported
    assert r.class_framework(".blocks.Block") == "torch"  # relative, a base through a star import
    assert r.class_framework(".Block") is None  # lib.Block: not there
    assert r.class_framework("lib.blocks.Plain") is None
    assert r.class_framework("lib.layers.Mixin") is None
    assert r.class_framework("lib.Norm") == "torch"  # Norm = nn.LayerNorm
    assert r.class_framework("lib.BN") == "torch"  # partial(nn.BatchNorm2d, ...)
    assert r.class_framework("lib.layers.NotAClass") is None
    assert r.class_framework("lib.cycle_a.A") is None  # a cycle of bases ends, unknown
    assert r.call_kind("lib.make") == ("layer", "torch")  # every return path, through a local name
    assert r.call_kind("lib.layers.maybe") == ("layer", "torch")  # None aside
    assert r.call_kind("lib.layers.table") == ("tensor", "torch")
    for unknown in ("passthrough", "decorated", "gen", "grad_table", "rebinds", "Mixin", "NotAClass", "nothing"):
        assert r.call_kind(f"lib.layers.{unknown}") is None, unknown
    assert r.call_kind("lib.blocks.Block") == ("layer", "torch")
    assert r.call_kind("...outside.package") is None  # beyond the top package


def test_consulted_files_and_their_summaries(tmp_path):
    write(tmp_path, LIB)
    r = R.Resolver(str(tmp_path / "lib" / "blocks.py"))
    assert r.consulted() == {}
    r.class_framework("lib.Mlp")
    got = r.consulted()
    assert set(got) == {str(tmp_path / "lib" / "__init__.py"), str(tmp_path / "lib" / "layers.py")}
    assert all(len(d) == 16 for d in got.values())
    r2 = R.Resolver(str(tmp_path / "lib" / "blocks.py"))
    r2.class_framework("lib.Mlp")  # a memoised answer still records what it depended on
    assert r2.consulted() == got


def test_an_edited_file_is_read_again(tmp_path):
    write(tmp_path, LIB)
    r = R.Resolver(str(tmp_path / "lib" / "blocks.py"))
    assert r.class_framework("lib.layers.Mixin") is None
    layers = tmp_path / "lib" / "layers.py"
    layers.write_text(layers.read_text().replace("class Mixin:", "class Mixin(nn.Module):"))
    os.utime(layers, ns=(1, 10**18))  # a different mtime even on a coarse clock
    assert R.Resolver(str(tmp_path / "lib" / "blocks.py")).class_framework("lib.layers.Mixin") == "torch"


def test_summaries_are_kept_on_disk_and_shared(tmp_path):
    write(tmp_path, LIB)
    R.Resolver(str(tmp_path / "lib" / "blocks.py")).class_framework("lib.Mlp")
    parsed = R.store_stats()["parsed"]
    assert parsed == 2
    cached = list((tmp_path / "cache" / "summaries").rglob("*.json"))
    assert len(cached) == 2
    fresh = R._Store()  # another process: a new memo, the same directory
    assert fresh.get(str(tmp_path / "lib" / "layers.py")) is not None
    assert fresh.stats == {"parsed": 0, "disk": 1, "memo": 0}
    fresh.disk = False  # MODREG_NO_SUMMARY_CACHE=1
    fresh.memo.clear()
    fresh.get(str(tmp_path / "lib" / "layers.py"))
    assert fresh.stats["parsed"] == 1


def test_src_layout_and_installed_packages(tmp_path, monkeypatch):
    write(tmp_path / "proj", {
        "pyproject.toml": "",
        "src/mypkg/__init__.py": "import torch.nn as nn\n\nclass Base(nn.Module):\n    pass\n",
        "tests/test_x.py": "",
    })
    write(tmp_path / "site", {"extlib/__init__.py": "from .core import Layer\n", "extlib/core.py": "import torch\n\nclass Layer(torch.nn.Module):\n    pass\n"})
    r = R.Resolver(str(tmp_path / "proj" / "tests" / "test_x.py"))
    assert r.class_framework("mypkg.Base") == "torch"  # the project's src/ directory
    assert r.class_framework("extlib.Layer") is None  # not installed (yet)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    r = R.Resolver(str(tmp_path / "proj" / "tests" / "test_x.py"))
    assert r.class_framework("extlib.Layer") == "torch"


def test_the_standard_library_and_the_frameworks_are_never_read(tmp_path):
    r = R.Resolver(str(tmp_path / "x.py"))
    assert r.call_kind("collections.OrderedDict") is None
    assert r.class_framework("torch.nn.Linear") == "torch"  # known.py answers
    assert r.world.find_module("torch.nn") is None and r.world.find_module("os") is None
    assert R.store_stats()["parsed"] == 0


# --- the model's values ----------------------------------------------------------------------------------

HEADER = """\
from functools import partial
from typing import Callable, Optional, Type, Union

import torch
import torch.nn as nn
from torch import Tensor

"""


def findings(src: str, path: str | None = None) -> set[tuple[int, int, str]]:
    return {(f.line, f.col, f.code) for f in check(HEADER + textwrap.dedent(src), path=path, config=Config(strict=True))}


def line(n: int) -> int:
    return HEADER.count("\n") + n


PARAMS = """\
class Net(nn.Module):
    def __init__(self, d, norm_layer=nn.LayerNorm, act: Type[nn.Module] = nn.GELU, mk: Callable[..., nn.Module] = None,
                 bn=partial(nn.BatchNorm2d, eps=1e-5), opt: Optional[Type[nn.Module]] = None, w: Optional[Tensor] = None,
                 u: "Tensor" = None, any_layer=None, kind: Union[str, Callable] = "relu", *blocks: nn.Module):
        super().__init__()
        self.a = [norm_layer(d)]
        self.b = [act()]
        self.c = [mk()]
        self.d = [bn(d)]
        self.e = [opt()]
        self.w = w
        self.u = u
        self.f = [any_layer(d)]
        self.g = [kind()]
        self.h = blocks
        self.i = [nn.Dropout(0.1) if d > 0 else nn.Identity()]
        self.j = [nn.Dropout(0.1) if d > 0 else None]
        self.k = [nn.Dropout(0.1) if d > 0 else d]
        self.l = self.m = [nn.LayerNorm(d)]

    def forward(self, x):
        return x * self.w + self.u
"""


def test_parameters_annotations_and_conditional_values():
    got = findings(PARAMS)
    want = {(line(n), 8, "MRG101") for n in (6, 7, 8, 9, 10, 16, 17, 19)} | {(line(11), 8, "MRG201")}
    # not f (no default), g (Union[str, Callable]), k (a branch that is not a layer), u (a string annotation),
    # h (layers passed in are the caller's: wrapping them in a tuple/list is how one avoids registering them twice)
    assert got == want


def test_parameter_look_alikes_stay_unknown():
    src = """\
    class Net(nn.Module):
        def __init__(self, d, norm_layer=None, act=nn.GELU):
            super().__init__()
            norm_layer = norm_layer or nn.LayerNorm
            self.a = [norm_layer(d)]  # the caller's value is unknown
            self.b = act  # the class itself, not an instance
            self.c = [act]

        def attach(self, discriminator: nn.Module, *blocks: nn.Module):
            self.d = [discriminator]  # passed in: the caller owns (and registers) it
            self.e = blocks

        def forward(self, x: Tensor):
            self.last = x  # a tensor, but not in __init__: not MRG201's business
            return x
    """
    assert findings(src) == set()


def test_layer_classes_bound_to_module_level_names():
    src = """\
    Norm = nn.LayerNorm
    BN = partial(nn.BatchNorm2d, eps=1e-5)
    if torch.cuda.is_available():
        Act = nn.ReLU
    else:
        Act = None
    Other = dict


    class Net(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.a = [Norm(d), BN(d)]
            self.b = [Act()]
            self.c = [Other()]
    """
    assert findings(src) == {(line(13), 8, "MRG101"), (line(14), 8, "MRG101")}


def test_mindspore_factories_and_annotations():
    src = """\
    import mindspore as ms
    from mindspore import nn as msnn
    from mindspore.common.initializer import initializer, Normal


    class Net(msnn.Cell):
        def __init__(self, d, act=msnn.ReLU, w: ms.Tensor = None):
            super().__init__()
            self.acts = [act(), act()]
            self.w = w
            self.v = initializer(Normal(), (d,), ms.float32)

        def construct(self, x):
            self.w = self.w + 1
            self.v = self.v * 2
            return x
    """
    got = findings(src)
    assert (line(9), 8, "MRG101") in got
    assert {(line(10), 8, "MRG203"), (line(11), 8, "MRG203")} <= got


def test_imported_values_in_flake8s_view(tmp_path):
    write(tmp_path, LIB)
    user = tmp_path / "lib" / "user.py"
    user.write_text(
        "import torch.nn as nn\nfrom .layers import make, maybe, passthrough, table, Mlp\nfrom .blocks import Block\n\n\n"
        "class Net(Block):\n    def __init__(self):\n        super().__init__()\n"
        "        self.a = [make(2), maybe(1), Mlp()]\n        self.b = [passthrough(nn.ReLU())]\n        self.t = table(3)\n\n"
        "    def forward(self, x):\n        return x + self.t\n"
    )
    got = {(f.line, f.col, f.code) for f in check(user.read_bytes(), path=str(user), config=Config(strict=True))}
    assert got == {(9, 8, "MRG101"), (11, 8, "MRG201")}
    assert check(user.read_bytes(), config=Config(strict=True)) == []  # without a path: Block's base is unknown


# --- runtime truth ----------------------------------------------------------------------------------------


def test_what_is_reported_is_lost_at_run_time(torch):
    ns: dict = {}
    exec(compile(HEADER + PARAMS, "params.py", "exec"), ns)
    nn = torch.nn
    net = ns["Net"](4, nn.LayerNorm, nn.GELU, nn.ReLU, ns["partial"](nn.BatchNorm2d, eps=1e-5), nn.Tanh, torch.ones(2),
                    torch.ones(2), nn.LayerNorm, nn.ReLU, nn.Linear(2, 2))
    reported = {"a", "b", "c", "d", "e", "i", "j", "l", "m", "w"}
    state = {k.split(".")[0] for k in net.state_dict()} | {n for n, _ in net.named_children()}
    assert not reported & state  # every reported attribute is missing from the Module's state
    assert isinstance(net.h, tuple) and isinstance(net.w, torch.Tensor)
    assert all(isinstance(x, torch.nn.Module) for x in (*net.a, *net.b, *net.c, *net.d, *net.e, *net.i, *net.l))


def test_instances_from_factories_aliases_and_conditionals_are_modules_for_forward_calls():
    src = """\
    class DropPath(nn.Module):
        def forward(self, x):
            return x


    Norm = nn.LayerNorm


    class Block(nn.Module):
        def __init__(self, dim, p=0.1, norm_layer=nn.LayerNorm, act=None):
            super().__init__()
            self.drop = DropPath() if p > 0 else nn.Identity()
            self.norm = norm_layer(dim)
            self.norm2 = Norm(dim)
            self.act = act()
            self.maybe = nn.Dropout(p) if p > 0 else None

        def forward(self, x):
            x = self.drop.forward(x)
            x = self.norm.forward(x)
            x = self.norm2.forward(x)
            x = self.act.forward(x)
            return self.maybe.forward(x)
    """
    assert findings(src) == {(line(n), 12 if n < 23 else 15, "MRG306") for n in (19, 20, 21, 23)}


def test_a_parameter_or_a_default_class():
    src = """\
    class ConvNormAct(nn.Module):
        pass


    class A(nn.Module):
        def __init__(self, conv_block: Optional[Type[nn.Module]] = None, norm=None):
            super().__init__()
            conv_block = conv_block or ConvNormAct
            norm = norm or nn.LayerNorm
            self.a = [conv_block(1), conv_block(2)]
            self.b = [norm(2)]  # the caller's norm is unknown
    """
    assert findings(src) == {(line(10), 8, "MRG101")}


def test_a_new_init_py_above_a_file_is_a_new_summary_across_processes(tmp_path):
    write(tmp_path, {"top/sub/m.py": "from .base import B\n", "top/sub/base.py": ""})
    path = str(tmp_path / "top" / "sub" / "m.py")
    first = R._STORE.get(path)[0]
    assert first["m"] == "m" and first["i"]["B"] == "?"  # not a package: the relative import goes nowhere
    for d in ("top", "top/sub"):
        (tmp_path / d / "__init__.py").write_text("")
    other = R._Store()  # another process, the same cache directory, the file itself unchanged
    second = other.get(path)[0]
    assert second["m"] == "top.sub.m" and second["i"]["B"] == "top.sub.base.B"
    assert other.stats == {"parsed": 1, "disk": 0, "memo": 0}
    R.invalidate()  # a long-running process (the language server) forgets its memo too
    assert R._STORE.get(path)[0]["m"] == "top.sub.m"


def test_the_summary_cache_is_pruned(tmp_path):
    write(tmp_path, LIB)
    store = R._Store()
    store.get(str(tmp_path / "lib" / "layers.py"))  # the first write prunes (nothing yet) and stamps
    root = tmp_path / "cache" / "summaries"
    old_version = root / "v0.0.0-1" / "ab" / "x.json"
    old_version.parent.mkdir(parents=True)
    old_version.write_text("{}")
    current = next(p for p in root.rglob("*.json") if p != old_version)
    unused = current.with_name("unused.json")
    unused.write_text("{}")
    month = 31 * 86400
    os.utime(unused, (current.stat().st_mtime - month, current.stat().st_mtime - month))
    assert store.prune() == 0  # checked at most once a day
    assert store.prune(now=(root / ".pruned").stat().st_mtime + 2 * 86400) == 2
    assert not old_version.exists() and not (root / "v0.0.0-1").exists() and not unused.exists() and current.exists()


def test_a_class_of_another_file_registering_layers_with_add_module_holds_state(tmp_path, private_resolver):
    """`self.add_module("c", nn.Conv2d(...))` in another file's class counts as state, like `self.c = nn.Conv2d(...)`;
    `add_module` of a layer without weights (or of something unknown) proves nothing."""
    from conftest import write_tree

    write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/blocks.py": """
            import torch.nn as nn

            class ConvNorm(nn.Sequential):
                def __init__(self, c):
                    super().__init__()
                    self.add_module("c", nn.Conv2d(c, c, 1))

            class Act(nn.Sequential):
                def __init__(self, make):
                    super().__init__()
                    self.add_module("a", nn.ReLU())
                    self.add_module("b", make())
            """,
        "pkg/net.py": """
            import torch.nn as nn
            from .blocks import ConvNorm, Act

            class Net(nn.Module):
                def __init__(self, c):
                    super().__init__()
                    self.c = c

                def forward(self, x):
                    return ConvNorm(self.c)(x) + Act(nn.Identity)(x)
            """,
    })
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(11, 15, "MRG403")]  # ConvNorm(...); Act holds no weights that are known


def test_a_class_of_another_file_adding_layers_in_a_loop_holds_state(tmp_path, private_resolver):
    """`for i, k in enumerate(kernels): self.add_module(str(i), nn.Conv2d(...))` in another file's class (timm's
    MixedConv2d): a pass of the loop stores a stateful layer, so the class holds state (a mixed conv over no kernel
    sizes would compute nothing); a loop storing layers without weights, or one with an `else`, proves nothing."""
    from conftest import write_tree

    write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/blocks.py": """
            import torch.nn as nn

            class MixedConv(nn.ModuleDict):
                def __init__(self, c, kernels=(3, 5)):
                    super().__init__()
                    for i, k in enumerate(kernels):
                        self.add_module(str(i), nn.Conv2d(c, c, k, padding=k // 2))

            class Acts(nn.ModuleDict):
                def __init__(self, n=2):
                    super().__init__()
                    for i in range(n):
                        self.add_module(str(i), nn.ReLU())

            class Odd(nn.ModuleDict):
                def __init__(self, c, kernels=(3,)):
                    super().__init__()
                    for i, k in enumerate(kernels):
                        self.add_module(str(i), nn.Conv2d(c, c, k))
                    else:
                        pass
            """,
        "pkg/net.py": """
            import torch.nn as nn
            from .blocks import MixedConv, Acts, Odd

            class Net(nn.Module):
                def __init__(self, c):
                    super().__init__()
                    self.c = c

                def forward(self, x):
                    y = MixedConv(self.c)
                    return y["0"](x) + Acts()["0"](x) + Odd(self.c)["0"](x)
            """,
    })
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(11, 12, "MRG403")]  # MixedConv(...) only


def test_an_init_run_unchanged_by_mindspores_cell_attr_register_still_stores_state(tmp_path, private_resolver):
    """`@cell_attr_register` on a Cell's `__init__` (MindSpore's own layers and ports of them) calls it as it is and
    records the arguments (truth: tests/test_mindspore_truth.py), so its Parameters are state; any other decorator
    of `__init__` may replace it and proves nothing."""
    from conftest import write_tree

    write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/layers.py": """
            from mindspore import nn, Parameter
            from mindspore.common.initializer import initializer
            from mindspore._extends import cell_attr_register
            from .util import wrapped

            class Linear(nn.Cell):
                @cell_attr_register
                def __init__(self, cin, cout):
                    super().__init__()
                    self.weight = Parameter(initializer("normal", [cout, cin]), name="weight")

            class Odd(nn.Cell):
                @wrapped
                def __init__(self, cin, cout):
                    super().__init__()
                    self.weight = Parameter(initializer("normal", [cout, cin]), name="weight")
            """,
        "pkg/util.py": """
            def wrapped(fn):
                return fn
            """,
        "pkg/net.py": """
            from mindspore import nn
            from .layers import Linear, Odd

            class Net(nn.Cell):
                def __init__(self, d):
                    super().__init__()
                    self.d = d

                def construct(self, x):
                    return Linear(self.d, self.d)(x) + Odd(self.d, self.d)(x)
            """,
    })
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(11, 15, "MRG403")]  # Linear(...) only


def test_a_factory_function_of_another_file_whose_every_return_holds_state(tmp_path, private_resolver):
    """`create_conv(...)` returning `nn.Conv2d(...)` or a stateful class on every path is a layer with weights; a
    factory that may return a stateless layer (or None) proves nothing."""
    from conftest import write_tree

    write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/factory.py": """
            import torch.nn as nn

            class SameConv(nn.Conv2d):
                pass

            def create_conv(c, same=False):
                if same:
                    return SameConv(c, c, 3)
                return nn.Conv2d(c, c, 3)

            def maybe_act(c, act=True):
                if act:
                    return nn.Linear(c, c)
                return nn.Identity()
            """,
        "pkg/net.py": """
            import torch.nn as nn
            from .factory import create_conv, maybe_act

            class Net(nn.Module):
                def __init__(self, c):
                    super().__init__()
                    self.c = c

                def forward(self, x):
                    return create_conv(self.c)(x) + maybe_act(self.c)(x)
            """,
    })
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(11, 15, "MRG403")]
    r = private_resolver.for_file(str(net))
    assert r.class_state("pkg.factory.create_conv") is True
    assert r.class_state("pkg.factory.maybe_act") is None


def _imported_pkg(tmp_path, files):
    """Write the package and import ``pkg.norm`` and ``pkg.net`` from it, then forget them (a context manager)."""
    import contextlib
    import importlib
    import sys

    from conftest import write_tree

    @contextlib.contextmanager
    def imported():
        write_tree(tmp_path, files)
        sys.path.insert(0, str(tmp_path))
        try:
            yield importlib.import_module("pkg.norm"), importlib.import_module("pkg.net")
        finally:
            sys.path.remove(str(tmp_path))
            for name in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
                del sys.modules[name]

    return imported()


_NORM_PKG = {
    "pkg/__init__.py": "",
    "pkg/norm.py": """
        import torch.nn as nn

        class LayerNorm(nn.LayerNorm):
            def __init__(self, num_channels, eps=1e-6, affine=True, **kwargs):
                super().__init__(num_channels, eps=eps, elementwise_affine=affine, **kwargs)

        class PlainNorm(nn.LayerNorm):
            def __init__(self, num_channels, **kwargs):
                super().__init__(num_channels, **kwargs)

        class FixedNorm(nn.LayerNorm):
            def __init__(self, num_channels):
                super().__init__(num_channels, elementwise_affine=False)
        """,
    "pkg/net.py": """
        import torch.nn as nn
        from .norm import LayerNorm, PlainNorm, FixedNorm

        class Net(nn.Module):
            def __init__(self, c, norm_layer=LayerNorm, device=None, **kwargs):
                super().__init__()
                self.c = c
                self.norm_layer = norm_layer
                self.dd = {"device": device}
                self.kwargs = kwargs

            def forward(self, x):
                x = self.norm_layer(self.c, **self.dd)(x)
                x = LayerNorm(self.c, affine=False)(x)
                x = LayerNorm(self.c, **self.kwargs)(x)
                x = PlainNorm(self.c)(x)
                x = PlainNorm(self.c, elementwise_affine=False)(x)
                return FixedNorm(self.c)(x)
        """,
}


def test_a_subclass_of_a_switched_layer_is_judged_through_its_super_init_flags(tmp_path, private_resolver):
    """`class LayerNorm(nn.LayerNorm)` passing `elementwise_affine=affine` (default True) on: a call that leaves
    `affine` alone builds weights; `affine=False`, unknown `**kwargs`, a forwarded `elementwise_affine=False` or a
    literal False do not (or may not)."""
    from conftest import write_tree

    write_tree(tmp_path, _NORM_PKG)
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(14, 12, "MRG403"), (17, 12, "MRG403")]  # norm_layer(c, **dd) and PlainNorm(c)


def test_the_flags_a_subclass_passes_on_really_switch_the_weights(tmp_path, torch):
    """Runtime truth for the look-alikes above: the same classes, built as the calls build them."""
    with _imported_pkg(tmp_path, _NORM_PKG) as (norm, net):
        assert len(list(norm.LayerNorm(4).parameters())) == 2
        assert list(norm.LayerNorm(4, affine=False).parameters()) == []
        assert list(norm.PlainNorm(4, elementwise_affine=False).parameters()) == []
        assert len(list(norm.PlainNorm(4).parameters())) == 2
        assert list(norm.FixedNorm(4).parameters()) == []
        assert list(net.Net(4).parameters()) == []  # whatever forward builds is never registered


_FLAG_PKG = {
    "pkg/__init__.py": "",
    "pkg/norm.py": """
        import torch
        import torch.nn as nn

        class RmsNorm(nn.Module):
            def __init__(self, c, eps=1e-6, affine=True):
                super().__init__()
                self.eps = eps
                self.elementwise_affine = affine
                if self.elementwise_affine:
                    self.weight = nn.Parameter(torch.ones(c))
                else:
                    self.register_parameter("weight", None)

            def forward(self, x):
                x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
                return x if self.weight is None else x * self.weight

        class OffNorm(nn.Module):
            def __init__(self, c, learn=False):
                super().__init__()
                if learn:
                    self.weight = nn.Parameter(torch.ones(c))

            def forward(self, x):
                return x
        """,
    "pkg/net.py": """
        import torch.nn as nn
        from .norm import RmsNorm, OffNorm

        class Net(nn.Module):
            def __init__(self, c, **kwargs):
                super().__init__()
                self.c = c
                self.kwargs = kwargs

            def forward(self, x):
                x = RmsNorm(self.c)(x)
                x = RmsNorm(self.c, affine=True)(x)
                x = RmsNorm(self.c, affine=False)(x)
                x = RmsNorm(self.c, **self.kwargs)(x)
                return OffNorm(self.c)(x)
        """,
}


def test_state_stored_under_a_flag_counts_for_a_call_that_keeps_the_flag(tmp_path, private_resolver):
    """`if self.elementwise_affine: self.weight = nn.Parameter(...)` with `self.elementwise_affine = affine` (default
    True): a call that leaves `affine` alone, or passes `affine=True`, builds weights; `affine=False`, unknown
    `**kwargs` or a flag whose default is False do not (or may not)."""
    from conftest import write_tree

    write_tree(tmp_path, _FLAG_PKG)
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(12, 12, "MRG403"), (13, 12, "MRG403")]


def test_the_flag_really_decides_the_weights(tmp_path, torch):
    with _imported_pkg(tmp_path, _FLAG_PKG) as (norm, net):
        assert len(list(norm.RmsNorm(4).parameters())) == 1
        assert len(list(norm.RmsNorm(4, affine=True).parameters())) == 1
        assert list(norm.RmsNorm(4, affine=False).parameters()) == []
        assert list(norm.OffNorm(4).parameters()) == []
        assert list(net.Net(4).parameters()) == []  # the weights forward builds are never registered


def test_a_function_summary_says_which_parameters_meet_in_a_tensor_operation():
    """`_param_meets` (computed when asked, from the function's file): operands of arithmetic and tensor arguments of one torch call or tensor method, through locals
    and loop variables; a parameter read only as metadata (shape, requires_grad, len, int, item) meets nothing."""
    import ast

    from flake8_modreg.resolver import _param_meets, _Summarizer

    src = textwrap.dedent('''
        import torch
        import torch.nn.functional as F

        def rms_norm(x, shape, weight=None, eps=1e-6):
            v = x.pow(2).mean(-1, keepdim=True)
            x = x * torch.rsqrt(v + eps)
            if weight is not None:
                x = x * weight
            return x

        def layer_norm(x, shape, weight, bias):
            return F.layer_norm(x, shape, weight, bias)

        def checked(x, bias):
            if bias.requires_grad and len(bias) == x.shape[-1] and int(bias.sum().item()) > 0:
                return x
            return x.clone()

        def anchors(feats, strides):
            out = []
            for i, stride in enumerate(strides):
                _, _, h, w = feats[i].shape
                out.append(torch.full((h * w, 1), stride))
            return out

        def scaled(x, scales):
            y = x
            for s in scales:
                y += s
            return y

        def guarded(x, weight, bias, scale):
            out = x @ weight
            if scale.requires_grad:
                k = weight * scale
            else:
                k = weight
            if bias.requires_grad:
                return out + bias
            return out @ k

        def rel(q, table, coords):
            r = table[coords]
            return q @ r

        def strided(feats, strides):
            return [feats[0].new_full((4, 1), strides[i]) for i in range(len(feats))]
    ''')
    tree = ast.parse(src)
    qualify = _Summarizer(tree, "ops", False).qualify
    pm = {f.name: got for f in tree.body if isinstance(f, ast.FunctionDef) and (got := _param_meets(f, qualify))}
    assert pm["rms_norm"]["a"] == ["x", "shape", "weight", "eps"]
    assert pm["rms_norm"]["m"]["2"] == [0, 3]  # weight meets x (and eps, a number: no partner at a call site)
    assert 2 in pm["layer_norm"]["m"]["0"] and 3 in pm["layer_norm"]["m"]["2"]
    assert "checked" not in pm and "anchors" not in pm  # metadata reads and a fill value meet nothing
    assert pm["scaled"]["m"]["1"] == [0]  # through a loop variable and an augmented assignment
    # an operation (or a binding) under `if t.requires_grad:` never runs for a plain tensor: not a meet of t's
    assert "2" not in pm["guarded"]["m"] and "3" not in pm["guarded"]["m"] and pm["guarded"]["m"]["0"] == [1]
    # an index lives wherever (a CPU index works on any device); a fill value of a factory is a number
    assert pm["rel"]["m"] == {"0": [1], "1": [0]} and "strided" not in pm


def test_a_plain_tensor_handed_to_an_imported_function_is_judged_by_its_body(tmp_path, private_resolver):
    """`rms_norm(x, self.weight)` of another file, whose body computes `x * weight`: the plain weight meets the
    input unmoved; a function that only tests `requires_grad` (or cannot be read) is not a use that breaks."""
    from conftest import write_tree

    write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/ops.py": """
            import torch

            def rms_norm(x, weight, eps=1e-6):
                x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
                return x * weight

            def frozen(x, bias):
                return x if not bias.requires_grad else x.clone()
            """,
        "pkg/net.py": """
            import torch
            import torch.nn as nn
            from .ops import rms_norm, frozen
            from elsewhere import unknown_op

            class Norm(nn.Module):
                def __init__(self, d):
                    super().__init__()
                    self.weight = torch.ones(d)
                    self.bias = torch.zeros(d)
                    self.scale = torch.ones(d)

                def forward(self, x):
                    return unknown_op(frozen(rms_norm(x, self.weight), self.bias), self.scale)
            """,
    })
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(10, 8, "MRG201")]  # self.weight only


_BUILDER_PKG = {
    "pkg/__init__.py": "",
    "pkg/norm.py": "",
    "pkg/builder.py": """
        import functools
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.fc = nn.Linear(c, c)

            def forward(self, x):
                return self.fc(x)

        class Builder:
            def __init__(self, c):
                self.c = c
                self.names = []

            def __call__(self, depths):
                stages = []
                for d in depths:
                    blocks = [Block(self.c) for _ in range(d)]
                    stages.append(nn.Sequential(*blocks))
                return stages

            def build(self, depths):
                return self(depths)

            def heads(self, n):
                out = [nn.Linear(self.c, 1)]
                for _ in range(n):
                    out.append(Block(self.c))
                return out

            def labels(self, n):
                names = []
                for i in range(n):
                    names.append(str(i))
                return names

        class Cached:
            @functools.lru_cache()
            def __call__(self, c):
                return [Block(c)]
        """,
    "pkg/net.py": """
        import torch.nn as nn
        from .builder import Builder, Cached

        class Net(nn.Module):
            def __init__(self, c, depths):
                super().__init__()
                builder = Builder(c)
                self.stages = list(builder(depths))
                self.heads = builder.heads(2)
                self.ok = nn.Sequential(*builder(depths))
                self.names = builder.labels(2)
                self.built = builder.build(depths)
                self.cached = Cached()(c)

            def forward(self, x):
                for s in self.stages:
                    x = s(x)
                return self.ok(x) + sum(h(x) for h in self.heads)
        """,
}


def test_a_list_of_layers_a_builder_object_of_another_file_returns(tmp_path, private_resolver):
    """`builder = Builder(c)` (a plain class of another file) then `list(builder(depths))`: its own `__call__` fills a
    list with layers and returns it, so the attribute is a plain list of layers; so is what one of its methods returns
    (`builder.heads(2)`). Silent: the same list registered (`nn.Sequential(*builder(...))`), a method that returns a
    list of strings, one that returns another call's result (`self(depths)`: not followed), a decorated `__call__`."""
    from conftest import write_tree

    write_tree(tmp_path, _BUILDER_PKG)
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(9, 8, "MRG101"), (10, 8, "MRG101")]


def test_a_builders_plain_list_really_loses_the_layers(tmp_path, torch):
    """Runtime truth for the two findings above: the layers of `list(builder(...))` and `builder.heads(2)` are not in
    `parameters()`/`state_dict()` and stay behind on `.to()`, while `nn.Sequential(*builder(...))` registers them."""
    with _imported_pkg(tmp_path, _BUILDER_PKG) as (_, net_mod):
        net = net_mod.Net(4, [1, 2])
        keys = net.state_dict().keys()
        assert not any(k.startswith(("stages.", "heads.")) for k in keys)
        assert any(k.startswith("ok.") for k in keys)
        net.to("meta")
        assert next(net.stages[0].parameters()).device.type == "cpu"
        assert next(net.heads[1].parameters()).device.type == "cpu"
        assert next(net.ok.parameters()).device.type == "meta"


_BASE_ATTR_PKG = {
    "pkg/__init__.py": "",
    "pkg/norm.py": """
        import torch
        import torch.nn as nn

        class Rotary(nn.Module):
            def __init__(self, dim=8):
                super().__init__()
                self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, dim, 2).float() / dim)))

            def forward(self, x, position_ids):
                freqs = position_ids[..., None].float() * self.inv_freq.to(x.device)
                return x + freqs.sum()

        def make(dim):
            return dim

        class Attention(nn.Module):
            def __init__(self, dim=8, plain=False):
                super().__init__()
                self.rotary_emb = Rotary(dim)
                self.scale = make(dim)
                self.either = Rotary(dim)
                if plain:
                    self.either = make
        """,
    "pkg/net.py": """
        import torch
        from .norm import Attention

        class EdgeAttention(Attention):
            def __init__(self, n=4):
                super().__init__()
                self.position_ids = torch.arange(n * n).view(n, n)
                self.ids_scaled = torch.arange(n * n).view(n, n)
                self.ids_either = torch.arange(n * n).view(n, n)

            def forward(self, x):
                y = self.rotary_emb(x, self.position_ids)
                z = self.scale(x, self.ids_scaled)
                return y + z + self.either(x, self.ids_either)
        """,
}


def test_a_tensor_handed_to_a_layer_an_other_file_base_stores(tmp_path, private_resolver):
    """`self.rotary_emb = Rotary(dim)` in the `__init__` of a base in another file makes `self.rotary_emb(x, ids)` a
    layer call with the input: the plain `ids` is used unmoved there. Silent: an attribute the base binds to a function's
    result (`make(dim)`) or binds twice (a layer, then a function)."""
    from conftest import write_tree

    write_tree(tmp_path, _BASE_ATTR_PKG)
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(8, 8, "MRG201")]
    r = private_resolver.for_file(str(net))
    assert r.attr_kind("pkg.norm.Attention", "rotary_emb") == ("layer", "torch")
    assert r.attr_kind("pkg.norm.Attention", "scale") is None
    assert r.attr_kind("pkg.norm.Attention", "either") is None


def test_a_plain_tensor_handed_to_a_base_files_layer_really_stays_behind(tmp_path, torch):
    """Runtime truth for the finding above: after `.to("meta")` the layer's buffer moved and the plain ids did not, so
    the layer call fails; registered, the same ids move with it."""
    with _imported_pkg(tmp_path, _BASE_ATTR_PKG) as (_, net_mod):
        m = net_mod.EdgeAttention().to("meta")
        x = torch.zeros(4, 4, device="meta")
        with pytest.raises(RuntimeError):
            m.rotary_emb(x, m.position_ids)
        m = net_mod.EdgeAttention()
        m.register_buffer("position_ids", m.__dict__.pop("position_ids"))
        m.to("meta")
        assert m.rotary_emb(x, m.position_ids).device.type == "meta"


def test_constant_modules_of_another_file(tmp_path, private_resolver):
    """`constant_module`: a class of another file whose instances hold only deterministic buffers and stateless
    layers made in `__init__` (espnet's PQMF filter bank) -- a plain list of them converted at each use, `f.to(x)`,
    is silent; a Parameter, a random buffer, a buffer written after `__init__`, a sub-module of unknown state, a
    decorator or a base other than `nn.Module` make a class no constant module (and the same list is reported)."""
    from conftest import write_tree

    write_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/banks.py": """
            import functools
            import math
            import torch
            import torch.nn as nn
            from .other import Helper

            class Bank(nn.Module):
                def __init__(self, n=4, taps=3):
                    super().__init__()
                    h = torch.hann_window(taps) * math.pi
                    self.register_buffer("filt", h.repeat(n, 1, 1))
                    self.pad = nn.ConstantPad1d(taps // 2, 0.0)
                    self.n = n

                def analysis(self, x):
                    return torch.nn.functional.conv1d(self.pad(x), self.filt)

            class Learned(Bank):
                pass

            class WithParam(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.register_buffer("filt", torch.ones(1, 1, 3))
                    self.scale = nn.Parameter(torch.ones(1))

            class Random(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.register_buffer("filt", torch.randn(1, 1, 3))

            class Updated(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.register_buffer("filt", torch.ones(1, 1, 3))

                def forward(self, x):
                    self.filt.mul_(0.9)
                    return x

            class WithHelper(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.register_buffer("filt", torch.ones(1, 1, 3))
                    self.helper = Helper()

            @functools.lru_cache()
            def nothing():
                pass
            """,
        "pkg/other.py": "class Helper:\n    pass\n",
        "pkg/net.py": """
            import torch.nn as nn
            from .banks import Bank, WithParam

            class D(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.banks = [Bank(4), Bank(2)]
                    self.learned = [WithParam()]

                def forward(self, x):
                    return [b.to(x).analysis(x) for b in self.banks] + [w.to(x)(x) for w in self.learned]
            """,
    })
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(9, 8, "MRG101")]
    r = private_resolver.for_file(str(net))
    assert r.constant_module("pkg.banks.Bank") is True
    for name in ("Learned", "WithParam", "Random", "Updated", "WithHelper"):
        assert r.constant_module(f"pkg.banks.{name}") is False, name


_DEVICE_PKG = {
    "pkg/__init__.py": "",
    "pkg/norm.py": """
        import torch
        import torch.nn as nn

        class Task(nn.Module):
            def __init__(self, device=None):
                super().__init__()
                self.device = device if device is not None else torch.device("cpu")

        class Placed(nn.Module):
            def __init__(self, device):
                super().__init__()
                self.device = device
        """,
    "pkg/net.py": """
        import torch
        import torch.nn as nn
        from .norm import Placed, Task

        class Distill(Task):
            def __init__(self, device=None):
                super().__init__(device=device)
                self.head = nn.Linear(3, 3)
                self.mean = torch.tensor([0.5, 0.5, 0.5], device=self.device)

            def forward(self, x):
                return self.head(x - self.mean)

        class OnItsDevice(Placed):
            def __init__(self, device):
                super().__init__(device)
                self.head = nn.Linear(3, 3, device=device)
                self.mean = torch.tensor([0.5, 0.5, 0.5], device=self.device)

            def forward(self, x):
                return self.head(x - self.mean)
        """,
}


def test_a_device_none_parameter_a_base_of_another_file_keeps_on_self_names_no_device(tmp_path, private_resolver):
    """`self.device` set by a base of another file from its `device=None` parameter (timm's `TrainingTask`): a tensor
    made on it in `__init__` follows the factory-kwargs convention (the CPU unless asked, moved later) and is judged
    like one made with `device=device`; a base that keeps a *required* device there places it."""
    from conftest import write_tree

    write_tree(tmp_path, _DEVICE_PKG)
    net = tmp_path / "pkg" / "net.py"
    got = [(f.line, f.col, f.code) for f in check(net.read_bytes(), path=str(net))]
    assert got == [(10, 8, "MRG201")]
    r = private_resolver.for_file(str(net))
    assert r.unplaced_device("pkg.norm.Task", "device") is True
    assert r.unplaced_device("pkg.norm.Placed", "device") is False


def test_a_tensor_made_on_a_bases_default_device_stays_behind(tmp_path, torch):
    """Runtime truth: built with the default device and moved, `Distill` fails (its mean stayed on the CPU); built on
    the device it runs on, `OnItsDevice` works there."""
    with _imported_pkg(tmp_path, _DEVICE_PKG) as (_, net_mod):
        x = torch.ones(2, 3, device="meta")
        with pytest.raises(RuntimeError):
            net_mod.Distill().to("meta")(x)
        assert net_mod.OnItsDevice("meta")(x).device.type == "meta"
