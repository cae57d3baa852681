"""The result cache never changes an answer: a warm run equals ``--no-cache``, whatever happened in between."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flake8_modreg import cli

from test_cli import run  # noqa: E402

BASE_MODULE = "import torch.nn as nn\n\n\nclass Base(nn.Module):\n    pass\n"
BASE_PLAIN = "class Base:\n    pass\n"
HEAD = (
    "import torch\n{imp}\n\n\nclass Head(Base):\n    def __init__(self):\n        super().__init__()\n"
    "        self.scale = torch.ones(3)\n\n    def forward(self, x):\n        return x * self.scale\n"
)
IMPORTS = ("from .base import Base", "from pkg.base import Base", "from top.pkg.base import Base", "from .mid import Base")


class Tree:
    """``top/pkg/{base,mid,head}.py``: Head's Module-ness comes from another file, through the module names."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pkg = root / "top" / "pkg"
        self.pkg.mkdir(parents=True)
        (self.pkg / "__init__.py").write_text("")
        self.write("base.py", BASE_MODULE)
        self.write("mid.py", "x = 1\n")
        self.write("head.py", HEAD.format(imp=IMPORTS[0]))

    def write(self, name: str, text: str) -> None:
        (self.pkg / name).write_text(text)

    def apply(self, op: tuple[str, int]) -> None:
        kind, n = op
        if kind == "toggle top/__init__.py":
            f = self.root / "top" / "__init__.py"
            f.unlink() if f.exists() else f.write_text("")
        elif kind == "toggle pkg/__init__.py":
            f = self.pkg / "__init__.py"
            f.unlink() if f.exists() else f.write_text("from .base import Base\n")
        elif kind == "base is a Module":
            self.write("base.py", BASE_MODULE if n % 2 else BASE_PLAIN)
        elif kind == "move the base":  # Base defined in mid.py; base.py re-exports it, or not
            self.write("mid.py", BASE_MODULE if n % 2 else "x = 1\n")
            self.write("base.py", "from .mid import Base\n" if n % 3 else BASE_PLAIN)
        elif kind == "head imports":
            self.write("head.py", HEAD.format(imp=IMPORTS[n % len(IMPORTS)]))
        elif kind == "head registers":
            text = (self.pkg / "head.py").read_text()
            self.write("head.py", text.replace("self.scale = torch.ones(3)", "self.register_buffer('scale', torch.ones(3))"))
        elif kind == "edit a file":  # new bytes, same meaning
            f = self.pkg / ("base.py", "mid.py", "head.py")[n % 3]
            if f.exists():
                f.write_text(f.read_text() + f"# edit {n}\n")
        elif kind == "touch":
            for f in self.pkg.glob("*.py"):
                f.write_text(f.read_text())

    def check(self, *extra: str) -> tuple[int, str, str]:
        return run("check", "-j1", *extra, "top", cwd=self.root)


OPS = st.tuples(
    st.sampled_from(
        ["toggle top/__init__.py", "toggle pkg/__init__.py", "base is a Module", "move the base", "head imports", "head registers", "edit a file", "touch"]
    ),
    st.integers(0, 11),
)


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, min_size=1, max_size=8))
@example(ops=[("toggle top/__init__.py", 0), ("edit a file", 0)])  # the issue's reproduction
@example(ops=[("toggle pkg/__init__.py", 0), ("edit a file", 2), ("toggle pkg/__init__.py", 0)])
def test_warm_result_equals_no_cache_after_any_edits(tmp_path_factory, ops):
    root = tmp_path_factory.mktemp("proj")
    os.environ["MODREG_CACHE_DIR"] = str(root / "cache")
    try:
        tree = Tree(root)
        assert tree.check() == tree.check("--no-cache")
        for op in ops:
            tree.apply(op)
            assert tree.check() == tree.check("--no-cache"), op
    finally:
        del os.environ["MODREG_CACHE_DIR"]


def test_the_issue_reproduction(tmp_path, monkeypatch):
    """Adding ``top/__init__.py`` renames every module: cached summaries and findings must not survive it."""
    monkeypatch.setenv("MODREG_CACHE_DIR", str(tmp_path / "cache"))
    tree = Tree(tmp_path)
    assert "MRG201" in tree.check()[1]
    tree.apply(("toggle top/__init__.py", 0))
    (tree.pkg / "base.py").write_text(BASE_MODULE + "# touched\n")
    warm = tree.check()
    assert warm[0] == 1 and "MRG201" in warm[1] and warm == tree.check("--no-cache")


def test_other_code_with_the_same_version_does_not_reuse_results(tmp_path, monkeypatch):
    monkeypatch.setenv("MODREG_CACHE_DIR", str(tmp_path / "cache"))
    tree = Tree(tmp_path)
    tree.check()
    calls = []
    real = cli.process
    monkeypatch.setattr(cli, "process", lambda *a, **k: calls.append(a[0].path) or real(*a, **k))
    tree.check()
    assert calls == []
    monkeypatch.setattr(cli, "code_fingerprint", lambda: "0123456789abcdef")  # the rules' code changed
    tree.check()
    assert len(calls) == 4
    assert sorted(p.name.split("-")[1] for p in (tmp_path / "cache").glob("v*.json")) == ["0123456789abcdef"]


def test_code_fingerprint_is_cheap_and_covers_the_rules():
    import time

    cli.code_fingerprint.cache_clear()
    t0 = time.perf_counter()
    fp = cli.code_fingerprint()
    assert time.perf_counter() - t0 < 0.5 and len(fp) == 16
    assert cli.code_fingerprint() is fp  # once per process


def test_consulted_files_are_revalidated(tmp_path, monkeypatch):
    """Findings that depended on another file's summary are reused only while that summary is unchanged."""
    monkeypatch.setenv("MODREG_CACHE_DIR", str(tmp_path / "cache"))
    tree = Tree(tmp_path)
    digests = {"/elsewhere/lib.py": "d1"}
    monkeypatch.setattr(cli, "_consulted", lambda model: dict(digests) if model is not None else {})
    monkeypatch.setattr(cli, "_dep_digest", lambda path: digests.get(path, ""))
    tree.check()
    calls = []
    real = cli.process
    monkeypatch.setattr(cli, "process", lambda *a, **k: calls.append(a[0].path) or real(*a, **k))
    tree.check()
    assert calls == []
    digests["/elsewhere/lib.py"] = "d2"  # the consulted file changed what it says
    tree.check()
    assert calls  # the files that consulted it are checked again


# --- a cache of any shape is a miss, never an error ------------------------------------------------

GOOD_FINDING = {
    "code": "MRG201", "name": "x", "message": "m", "fix_hint": "h", "line": 1, "col": 0,
    "end_line": 1, "end_col": 1, "fix": None, "fix_title": None,
}  # fmt: skip


def _cache_files(root: Path) -> list[Path]:
    return sorted((root / "cache").glob("v*.json"))


def _variants(entry: dict) -> dict[str, object]:
    missing_key = {k: v for k, v in GOOD_FINDING.items() if k != "line"}
    return {
        "entry is a string": "oops",
        "findings is a string": {**entry, "findings": "oops"},
        "finding missing a key": {**entry, "findings": [missing_key]},
        "finding of wrong types": {**entry, "findings": [{**GOOD_FINDING, "line": "1"}]},
        "summary missing keys": {**entry, "summary": {"path": "x"}},
        "summary classes of strings": {**entry, "summary": {**(entry.get("summary") or {}), "classes": ["Base"]}},
        "deps a list": {**entry, "deps": ["a"]},
        "module of wrong shape": {**entry, "module": "top.pkg.head"},
    }


@pytest.mark.parametrize("variant", list(_variants({})))
def test_a_cache_entry_of_the_wrong_shape_is_a_miss(tmp_path, monkeypatch, variant):
    monkeypatch.setenv("MODREG_CACHE_DIR", str(tmp_path / "cache"))
    tree = Tree(tmp_path)
    cold = tree.check("--no-cache")
    tree.check()
    (cache_file,) = _cache_files(tmp_path)
    data = cli.Cache.decode(cache_file.read_bytes())
    for path, entry in list(data.items()):
        data[path] = _variants(entry)[variant]
    cache_file.write_bytes(cli.Cache.encode(data))  # a well-formed file of badly shaped entries
    assert tree.check() == cold  # a miss: checked again
    assert tree.check() == cold  # ...and the entry rewritten
    assert all(isinstance(e, dict) for e in cli.Cache.decode(cache_file.read_bytes()).values())


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(["hash", "module", "summary", "key", "findings", "deps", "x"])


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_cache_files_never_break_a_run(tmp_path_factory, data):
    """A damaged file (bytes changed, checksum stale) never changes an answer; well-formed entries of any
    shape (another writer's bug: the checksum is recomputed) never give an error or a traceback."""
    root = tmp_path_factory.mktemp("fuzz")
    os.environ["MODREG_CACHE_DIR"] = str(root / "cache")
    try:
        tree = Tree(root)
        cold = tree.check("--no-cache")
        tree.check()
        (cache_file,) = _cache_files(root)
        raw = cache_file.read_bytes()
        real = cli.Cache.decode(raw)
        assert real
        fuzzed: object
        how = data.draw(st.sampled_from(["bytes", "any json", "entries", "fields"]))
        if how == "bytes":  # a flipped, cut or inserted byte
            i = data.draw(st.integers(0, len(raw) - 1))
            cut = data.draw(st.booleans())
            cache_file.write_bytes(raw[:i] if cut else raw[:i] + bytes([raw[i] ^ 1]) + raw[i + 1 :])
            assert tree.check() == cold
            return
        if how == "any json":
            fuzzed = data.draw(JSON)
        elif how == "entries":
            fuzzed = {p: data.draw(JSON) for p in real}
        else:  # keep the entries' own hash and module (so they are looked at), fuzz one field each
            fuzzed = {p: {**e, data.draw(KEYS): data.draw(JSON)} for p, e in real.items()}
        body = json.dumps(fuzzed).encode()
        cache_file.write_bytes(cli.hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b"\n" + body)
        code, out, err = tree.check()
        assert code in (0, 1) and err == "" and out.endswith(".\n")
        assert tree.check("--no-cache") == cold
    finally:
        del os.environ["MODREG_CACHE_DIR"]


def test_a_base_outside_the_run_read_by_the_resolver_is_revalidated(tmp_path, monkeypatch):
    """Only head.py is checked: its base is read from disk by the resolver; an edit there must show."""
    monkeypatch.setenv("MODREG_CACHE_DIR", str(tmp_path / "cache"))
    tree = Tree(tmp_path)
    head = os.path.join("top", "pkg", "head.py")

    def both() -> tuple:
        warm = run("check", "-j1", head, cwd=tmp_path)
        assert warm == run("check", "-j1", "--no-cache", head, cwd=tmp_path)
        return warm

    assert "MRG201" in both()[1]
    tree.apply(("base is a Module", 0))  # Base is a plain class now
    assert "MRG201" not in both()[1]
    tree.apply(("toggle top/__init__.py", 0))
    tree.apply(("base is a Module", 1))
    assert "MRG201" in both()[1]
