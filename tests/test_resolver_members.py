"""What the bases in other files define (``Resolver.class_defines``), for MRG301/MRG302 (the wrong entry
point's name) and MRG501 (torch API on a Cell): exact findings through bases read from disk, silent
look-alikes where a base we read (or cannot read) may provide the name, and runtime truth under torch."""

from __future__ import annotations

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


BASES = {
    "pkg/__init__.py": "",
    "pkg/base.py": """
        import torch.nn as nn
        from .mixins import Plain


        class CheckpointLayer(nn.Module):
            gradient_checkpointing = False

            def __call__(self, *args, **kwargs):
                return super().__call__(*args, **kwargs)


        class Deeper(Plain, CheckpointLayer):
            pass


        class WithForward(nn.Module):
            def forward(self, x):
                return self.construct(x)


        def deco(cls):
            cls.forward = lambda self, x: x
            return cls


        @deco
        class Decorated(nn.Module):
            pass


        class Seq(nn.Sequential):
            pass


        class Looped(nn.Module):
            for _n in ("forward",):
                pass
    """,
    "pkg/mixins.py": """
        class Plain:
            def helper(self):
                return 1
    """,
    "pkg/unread.py": """
        from elsewhere_not_installed import Foreign


        class Via(Foreign):
            pass
    """,
}

USER = """\
from .base import CheckpointLayer, Deeper, WithForward, Decorated, Seq, Looped
from .unread import Via


class A(CheckpointLayer):
    def construct(self, x):
        return x


class B(Deeper):
    def construct(self, x):
        return x


class C(WithForward):
    def construct(self, x):
        return x


class D(Decorated):
    def construct(self, x):
        return x


class E(Seq):
    def construct(self, x):
        return x


class F(Looped):
    def construct(self, x):
        return x
"""


def findings(path: Path) -> set[tuple[int, int, str]]:
    return {(f.line, f.col, f.code) for f in check(path.read_bytes(), path=str(path), config=Config(strict=True))}


def test_torch_construct_through_bases_in_other_files(tmp_path):
    write(tmp_path, BASES)
    user = tmp_path / "pkg" / "user.py"
    user.write_text(USER)
    # A: the base defines only __call__ (it calls Module.__call__, which calls forward); B: through a mixin and
    # a second file; C: the base defines forward (the override is dead, nothing raises); D: a decorated base whose decorator
    # sets an attribute (it may add forward: here it does); E: nn.Sequential has its own forward; F: a base body that binds names in a loop
    # (E: MRG307 instead -- its construct never runs, nn.Sequential's forward does)
    assert findings(user) == {(6, 8, "MRG301"), (11, 8, "MRG301"), (26, 8, "MRG307")}


def test_an_unreadable_base_and_no_path_stay_silent(tmp_path):
    write(tmp_path, BASES)
    user = tmp_path / "pkg" / "user2.py"
    user.write_text("from .unread import Via\n\n\nclass G(Via):\n    def construct(self, x):\n        return x\n")
    assert findings(user) == set()
    assert check(USER, config=Config(strict=True)) == []  # flake8's unnamed stdin: no other file is read


MS_BASES = {
    "mspkg/__init__.py": "",
    "mspkg/base.py": """
        from mindspore import nn


        class BaseCell(nn.Cell):
            def helper(self):
                return 1


        class WithConstruct(nn.Cell):
            def construct(self, x):
                return self.forward(x)


        class HasParameters(nn.Cell):
            def parameters(self):
                return self.get_parameters()
    """,
}


def test_mindspore_forward_and_torch_api_through_bases_in_other_files(tmp_path):
    write(tmp_path, MS_BASES)
    user = tmp_path / "mspkg" / "user.py"
    user.write_text(
        "from .base import BaseCell, WithConstruct, HasParameters\n\n\n"
        "class A(BaseCell):\n    def forward(self, x):\n        return x\n\n\n"
        "class B(WithConstruct):\n    def forward(self, x):\n        return x\n\n\n"
        "class C(BaseCell):\n    def construct(self, x):\n        return self.parameters()\n\n\n"
        "class D(HasParameters):\n    def construct(self, x):\n        return self.parameters()\n"
    )
    # B's base has construct; D's base defines parameters() (a compatibility shim)
    assert findings(user) == {(5, 8, "MRG302"), (16, 15, "MRG501")}


def test_class_defines_answers(tmp_path):
    write(tmp_path, BASES)
    r = R.for_file(str(tmp_path / "pkg" / "user.py"))
    assert r.class_defines(".base.CheckpointLayer", "forward") is False
    assert r.class_defines(".base.CheckpointLayer", "__call__") is True
    assert r.class_defines(".base.Deeper", "helper") is True
    assert r.class_defines(".base.Deeper", "forward") is False
    assert r.class_defines(".base.WithForward", "forward") is True
    assert r.class_defines(".base.Decorated", "forward") is None
    assert r.class_defines(".base.Seq", "forward") is None
    assert r.class_defines(".base.Looped", "forward") is None
    assert r.class_defines(".unread.Via", "forward") is None
    assert r.class_defines(".base.Missing", "forward") is None


def test_runtime_truth_a_construct_under_a_call_only_base_raises(torch):
    ns: dict = {}
    src = textwrap.dedent(BASES["pkg/base.py"]).replace("from .mixins import Plain", "class Plain:\n    pass")
    exec(compile(src, "base.py", "exec"), ns)

    class A(ns["CheckpointLayer"]):
        def construct(self, x):
            return x

    class B(ns["Deeper"]):
        def construct(self, x):
            return x

    class C(ns["WithForward"]):
        def construct(self, x):
            return x

    for cls in (A, B):
        with pytest.raises(NotImplementedError):
            cls()(torch.ones(1))
    assert C()(torch.ones(1)).tolist() == [1.0]  # the look-alike runs


def test_a_call_override_that_hands_on_to_module_call_still_runs_hooks_so_forward_calls_are_reported(tmp_path):
    """MRG306's own-``__call__`` exemption needs a ``__call__`` that *replaces* Module.__call__; one that calls
    ``super().__call__`` (a gradient-checkpointing layer) keeps the hooks, so ``.forward(...)`` still skips them."""
    write(tmp_path, {**BASES, "pkg/lazy.py": """
        import torch.nn as nn


        class LazyKernel(nn.Module):
            def __call__(self, x):
                return {"raw": self.forward(x)}

            def forward(self, x):
                return x
    """})
    r = R.for_file(str(tmp_path / "pkg" / "user.py"))
    assert r.class_defines(".base.CheckpointLayer", R.CALLS_SUPER) is True
    assert not r.class_defines(".base.CheckpointLayer", R.CALLS_OWN)
    assert r.class_defines(".lazy.LazyKernel", R.CALLS_OWN) is True
    user = tmp_path / "pkg" / "calls.py"
    user.write_text(
        "import torch.nn as nn\nfrom .base import CheckpointLayer\nfrom .lazy import LazyKernel\n\n\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.block = CheckpointLayer()\n        self.kernel = LazyKernel()\n\n"
        "    def forward(self, x):\n        return self.block.forward(x), self.kernel.forward(x)\n"
    )
    assert {c for c in findings(user) if c[2] == "MRG306"} == {(13, 15, "MRG306")}


def test_a_call_that_hands_on_to_a_base_call_which_replaces_module_call_runs_no_hooks(tmp_path):
    """gpytorch's shape: Kernel.__call__ -> super().__call__ -> Module.__call__ of the library, which calls forward
    itself: no torch hooks anywhere on the way, so .forward is the library's idiom (not reported)."""
    write(tmp_path, {"lib/__init__.py": "", "lib/module.py": """
        import torch.nn as nn


        class Module(nn.Module):
            def __call__(self, *inputs, **kwargs):
                return self.forward(*inputs, **kwargs)
    """, "lib/kernel.py": """
        from .module import Module


        class Kernel(Module):
            def __call__(self, x):
                return super().__call__(x)

            def forward(self, x):
                return x
    """})
    user = tmp_path / "lib" / "use.py"
    user.write_text(
        "import torch.nn as nn\nfrom .kernel import Kernel\n\n\n"
        "class Sum(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.k = Kernel()\n\n"
        "    def forward(self, x):\n        return self.k.forward(x)\n"
    )
    assert {c for c in findings(user) if c[2] == "MRG306"} == set()
