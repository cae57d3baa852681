"""Class decorators that hand the class back unchanged (``Resolver.passes_through``): a decorated class is
judged like an undecorated one (MRG401, and the members of decorated bases for MRG301), while a decorator
that may replace the class or its ``__init__`` keeps it silent. Exact findings through files read from disk,
silent look-alikes, and runtime truth under torch: the pass-through decorators really return the class, so
the missing ``super().__init__()`` really breaks it."""

from __future__ import annotations

import importlib
import sys
import pytest

from flake8_modreg import Config, check
from flake8_modreg import resolver as R

from conftest import write_tree


@pytest.fixture(autouse=True)
def _private(private_resolver):
    return private_resolver


FILES = {
    "deco_pkg/__init__.py": "",
    "deco_pkg/docs.py": '''
        REGISTRY = {}


        def class_doc(cls, intro=None):
            cls.__doc__ = (intro or "") + (cls.__doc__ or "")
            return cls


        def method_doc(func, intro=None):
            func.__doc__ = intro
            return func


        def auto_doc(obj=None, *, intro=None):
            """Dual use: @auto_doc and @auto_doc(intro=...)."""

            def decorator(obj):
                if "." in obj.__qualname__:
                    return method_doc(obj, intro)
                return class_doc(obj, intro)

            if obj:
                return decorator(obj)
            return decorator


        def remember(name):
            def deco(cls):
                REGISTRY[name] = cls
                return cls

            return deco


        def kernelize(cls):
            """Replaces the class's __init__: not a pass-through."""
            cls.__init__ = lambda self, *a, **k: None
            return cls


        def wrap(cls):
            class Wrapped(cls):
                pass

            return Wrapped


        def loops(cls, depth=1):
            """Passes through, but only by way of itself: not followed (a cycle is not known to end)."""
            if depth:
                return loops(cls, depth - 1)
            return cls


        if REGISTRY:
            def twice(cls):
                return cls
        else:
            def twice(cls):
                return None
    ''',
    "deco_pkg/models.py": '''
        import torch.nn as nn

        from .docs import auto_doc, kernelize, loops, remember, twice, wrap


        def local_doc(cls):
            cls.__qualname__ = cls.__name__
            return cls


        @auto_doc
        class Bare(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(2, 2)


        @auto_doc(intro="A head.")
        class Called(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(2, 2)


        @remember("net")
        class Remembered(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(2, 2)


        @local_doc
        class Local(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(2, 2)


        @kernelize
        class Kernelized(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(2, 2)


        @wrap
        class Wrapped(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(2, 2)


        @loops
        class Loops(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(2, 2)


        @twice
        class Twice(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(2, 2)
    ''',
}


def test_mrg401_through_pass_through_decorators(tmp_path):
    write_tree(tmp_path, FILES)
    path = tmp_path / "deco_pkg" / "models.py"
    got = {(f.line, f.col, f.code) for f in check(path.read_text(), path=str(path), config=Config(strict=True))}
    # found: @auto_doc, @auto_doc(...), a registry factory without "register" in its name, a same-file decorator;
    # silent: a decorator that sets __init__, one that returns a subclass, a self-recursive one, one bound twice
    assert got == {(14, 8, "MRG401"), (20, 8, "MRG401"), (26, 8, "MRG401"), (32, 8, "MRG401")}


def test_without_a_path_decorated_classes_stay_silent(tmp_path):
    write_tree(tmp_path, FILES)
    src = (tmp_path / "deco_pkg" / "models.py").read_text()
    assert not [f for f in check(src, config=Config(strict=True)) if f.code == "MRG401"]


def test_passes_through_answers(tmp_path):
    write_tree(tmp_path, FILES)
    r = R.for_file(str(tmp_path / "deco_pkg" / "models.py"))
    assert r is not None
    assert r.passes_through("deco_pkg.docs.auto_doc")
    assert r.passes_through("deco_pkg.docs.remember")
    assert r.passes_through("deco_pkg.docs.class_doc")
    assert r.passes_through(".docs.auto_doc")  # relative to the checked file
    for name in ("kernelize", "wrap", "loops", "twice", "REGISTRY", "missing"):
        assert not r.passes_through(f"deco_pkg.docs.{name}"), name
    assert str(tmp_path / "deco_pkg" / "docs.py") in r.consulted()


def test_members_of_a_decorated_base_in_another_file(tmp_path):
    """MRG301 (a torch Module defining ``construct``): a base of another file with a pass-through decorator is
    read like an undecorated one; with a decorator that may add ``forward`` it stays silent."""
    write_tree(tmp_path, {
        **FILES,
        "deco_pkg/heads.py": '''
            from .models import Called, Kernelized


            class Head(Called):
                def construct(self, x):
                    return x


            class Other(Kernelized):
                def construct(self, x):
                    return x
        ''',
    })
    path = tmp_path / "deco_pkg" / "heads.py"
    got = {(f.line, f.code) for f in check(path.read_text(), path=str(path)) if f.code.startswith("MRG3")}
    assert got == {(6, "MRG301")}


def test_runtime_truth(torch, tmp_path, monkeypatch):
    """The pass-through decorators return the class itself, so the missing ``super().__init__()`` raises when the
    class is built; the replaced ``__init__`` of ``@kernelize`` builds (what the decorator does cannot be read)."""
    write_tree(tmp_path, FILES)
    monkeypatch.syspath_prepend(str(tmp_path))
    models = importlib.import_module("deco_pkg.models")
    try:
        for name in ("Bare", "Called", "Remembered", "Local"):
            cls = getattr(models, name)
            assert isinstance(cls, type) and cls.__name__ == name
            with pytest.raises(AttributeError, match="before Module.__init__"):
                cls()
        models.Kernelized()  # the decorator's __init__ ran instead: nothing raised
        assert models.Twice is None  # the second binding of `twice` won: the class is gone
    finally:
        for mod in [m for m in sys.modules if m == "deco_pkg" or m.startswith("deco_pkg.")]:
            del sys.modules[mod]
