"""The language server's incremental re-parse gives what a full parse gives: code, findings, positions."""

from __future__ import annotations

import random

import libcst as cst
import pytest

from flake8_modreg import incremental
from flake8_modreg.core import check_module, parse
from flake8_modreg.findings import ModregError
from flake8_modreg.settings import Config

HEAD = "import torch\nimport torch.nn as nn\n\n# helpers\nSCALE = 2\n"
BLOCK = '''

class Block{i}(nn.Module):
    """Block {i}."""

    def __init__(self, c=4):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3)
        self.layers = [nn.Linear(c, c), nn.ReLU()]
        self.scale = torch.ones(c)
        # a comment inside

    def forward(self, x):
        return self.conv(x) * self.scale


def helper{i}(n):
    return [nn.Linear(n, n) for _ in range(n)]
'''
#: edits an editor makes: type inside a line, new lines (indented, dedented, blank), delete ranges, comments,
#: brackets and quotes left open, decorators, whole statements moved
SNIPPETS = [
    "x", " ", "\n", "\n    ", "\n\n", "    self.extra = torch.zeros(3)\n", "# note\n", "    # note\n", "(", ")", "[",
    '"""', "'", "\\\n", "@property\n", "class X(nn.Module):\n    pass\n", "def f():\n", "        ",
    "self.more = [nn.Conv2d(1, 1, 1)]\n        ", "\t", "\r\n", "):", "nn.Paramter(torch.ones(1))",
]


def big_source(blocks: int = 60) -> str:
    return HEAD + "".join(BLOCK.format(i=i) for i in range(blocks))


def full_result(text: str, config: Config):
    try:
        module, findings = check_module(text, config=config)
    except ModregError as e:
        return "error", str(e)
    return module.code, [(f.code, f.line, f.col, f.end_line, f.end_col, f.message) for f in findings]


def edit(rng: random.Random, text: str) -> str:
    kind = rng.random()
    at = rng.randrange(len(text) + 1)
    if kind < 0.45:  # insert
        return text[:at] + rng.choice(SNIPPETS) + text[at:]
    if kind < 0.8:  # delete a few characters or a few lines
        n = rng.choice([1, 2, 5, 30, 200])
        return text[:at] + text[at + n :]
    lines = text.splitlines(keepends=True)  # move/duplicate a line
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines.insert(j, lines[i])
    return "".join(lines)


@pytest.fixture
def small_threshold(monkeypatch):
    """Splice files from 2,000 characters on, so that small (fast) texts exercise it."""
    monkeypatch.setattr(incremental, "MIN_CHARS", 2000)


@pytest.mark.parametrize("seed", range(8))
def test_random_edit_sequences_match_a_full_check(seed, small_threshold):
    rng = random.Random(seed)
    config = Config()
    text = big_source(blocks=6)
    assert len(text) > incremental.MIN_CHARS
    previous = incremental.reparse(None, text, parse)
    spliced = 0
    for _ in range(40):
        before, text = text, edit(rng, text)
        expected = full_result(text, config)
        used, full_parses = [], []

        def parser(source: str, previous=previous):
            parsed = incremental.reparse(previous, source, lambda s: full_parses.append(s) or parse(s))
            used.append(parsed)
            return parsed.module

        try:
            module, findings = check_module(text, config=config, parser=parser)
        except ModregError as e:
            got = ("error", str(e))
        else:
            got = (module.code, [(f.code, f.line, f.col, f.end_line, f.end_col, f.message) for f in findings])
        assert got == expected
        if used:
            spliced += not full_parses
            previous = used[0]
            # (not always == text: libcst accepts a few invalid texts, e.g. a lone "\\" line, and drops it)
            assert not previous.lengths or sum(previous.lengths) == len(previous.module.code)
        if expected[0] == "error":
            text = before  # the user fixes what they broke (the broken text was compared above)
    assert spliced >= 3  # the test exercises the splice, not only the fallback


def test_an_edit_inside_one_class_reparses_that_class_only():
    text = big_source()
    assert len(text) > incremental.MIN_CHARS
    first = incremental.reparse(None, text, parse)
    assert first.lengths and sum(first.lengths) == len(text)
    new = text.replace("class Block30(nn.Module):", "class Block30(nn.Module):\n    extra = 1", 1)
    calls = []

    def counting_parse(source):
        calls.append(len(source))
        return parse(source)

    second = incremental.reparse(first, new, counting_parse)
    assert calls == []  # no full parse
    assert second.module.code == new
    kept = sum(1 for a, b in zip(first.module.body, second.module.body) if a is b)
    assert kept == len(first.module.body) - 1  # every other top-level statement is the very same node
    module, findings = check_module(new, config=Config(), parser=lambda s: second.module)
    assert full_result(new, Config())[1] == [(f.code, f.line, f.col, f.end_line, f.end_col, f.message) for f in findings]
    assert findings  # the blocks have findings: positions after the edit are compared


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t + "x = 1\n",  # the footer/end of file
        lambda t: "# top\n" + t,  # the header
        lambda t: t.replace("    def forward(self, x):\n        return self.conv(x) * self.scale\n", "    def forward(self, x):\n        return (\n", 1),
        lambda t: t.replace("\n\ndef helper3(n):", "\n@property\n\ndef helper3(n):", 1),
        lambda t: t.replace("class Block7(nn.Module):", "    class Block7(nn.Module):", 1),
    ],
)
def test_edits_a_slice_cannot_decide_fall_back_to_a_full_parse(change, small_threshold):
    text = big_source(blocks=10)
    first = incremental.reparse(None, text, parse)
    new = change(text)
    try:
        expected = parse(new).code
    except ModregError:
        with pytest.raises(ModregError):
            incremental.reparse(first, new, parse)
        return
    assert incremental.reparse(first, new, parse).module.code == expected


def test_small_files_are_parsed_whole():
    text = HEAD + BLOCK.format(i=0)
    parsed = incremental.reparse(None, text, parse)
    assert parsed.lengths == () and parsed.module.code == text


def test_the_language_server_analysis_builds_on_the_previous_version(small_threshold):
    from pygls.workspace import PositionCodec

    from flake8_modreg import lsp

    codec = PositionCodec()
    text = big_source(blocks=8)
    first = lsp.analyse(text, version=1, path=None, config=Config(), codec=codec)
    assert first.parsed is not None and first.parsed.lengths
    new = text.replace("class Block5(nn.Module):\n", "class Block5(nn.Module):\n    cache = None\n", 1)
    second = lsp.analyse(new, version=2, path=None, config=Config(), codec=codec, previous=first)
    fresh = lsp.analyse(new, version=2, path=None, config=Config(), codec=codec)
    assert second.diagnostics == fresh.diagnostics and second.diagnostics
    assert second.module.body[0] is first.module.body[0]  # spliced, not parsed again
    broken = lsp.analyse(new + "def (\n", version=3, path=None, config=Config(), codec=codec, previous=second)
    assert broken.error and broken.parsed is second.parsed  # the next version builds on the last good parse


@pytest.mark.parametrize("seed", range(6))
def test_language_server_edit_sequences_match_a_full_check(seed, small_threshold, monkeypatch):
    """Through ``lsp.analyse`` chained version to version: the per-statement positions (cached by statement) and
    the per-method facts carried over (``NodeMemo``) give exactly a full check's findings and positions."""
    from pygls.workspace import PositionCodec

    from flake8_modreg import lsp, positions
    from flake8_modreg.model import NodeMemo

    regenerated, rebuilt, reused = [], [], []
    spans, get, put = positions._statement_spans, NodeMemo.get, NodeMemo.put
    monkeypatch.setattr(positions, "_statement_spans", lambda stmt, module: regenerated.append(stmt) or spans(stmt, module))
    monkeypatch.setattr(NodeMemo, "put", lambda self, kind, node, value: rebuilt.append(node) or put(self, kind, node, value))
    monkeypatch.setattr(NodeMemo, "get", lambda self, kind, node: (lambda v: v is not None and reused.append(node) or v)(get(self, kind, node)))
    rng = random.Random(100 + seed)
    config, codec = Config(), PositionCodec()
    text = big_source(blocks=6)
    last = lsp.analyse(text, version=1, path=None, config=config, codec=codec)
    statements = len(last.module.body)
    reused_positions = reused_methods = 0
    for v in range(2, 32):
        before, text = text, edit(rng, text)
        expected = full_result(text, config)
        regenerated.clear()
        rebuilt.clear()
        reused.clear()
        result = lsp.analyse(text, version=v, path=None, config=config, codec=codec, previous=last)
        if result.error is not None:
            assert expected[0] == "error"
            text = before  # the user fixes what they broke
            continue
        got = [(f.code, f.line, f.col, f.end_line, f.end_col, f.message) for f in result.findings]
        assert (result.module.code, got) == expected
        if got and len(regenerated) < statements // 2:
            reused_positions += 1
        if reused:
            reused_methods += 1
        last = result
    assert reused_positions >= 3 and reused_methods >= 3  # the caches are exercised, not only rebuilt


# -- findings reused per top-level statement (flake8_modreg.reuse) ------------------------------------------------

#: classes whose findings depend on other statements: a base defined in the file, a class instantiated in a list,
#: a module-level helper and list, a misspelled method whose fix an attribute access elsewhere (``m.forwrd``) takes away,
#: a module-level list changed by a call, a subclass defining what its base lacks (Base's ``forwad``), an ``_apply`` override read by every class
LINKED = '''import torch
import torch.nn as nn

LAYERS = [nn.Linear(2, 2), nn.ReLU()]
EXTRA = []
EXTRA.append(nn.Linear(2, 2))


def make(n):
    return [nn.Linear(n, n) for _ in range(n)]


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = [Encoder(), Encoder()]

    def forwad(self, x):
        return x


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x)


class Child(Base):
    def __init__(self):
        super().__init__()
        self.layers = make(3)
        self.table = LAYERS
        self.extra = EXTRA
        self.scale = torch.ones(3)

    def forward(self, x):
        return x * self.scale


class Grandchild(Child):
    def construct(self, x):
        return x


class Mover(nn.Module):
    def __init__(self):
        super().__init__()
        self.cache = torch.zeros(2)

    def forward(self, x):
        return x + self.cache


class Slip(nn.Module):
    def __init__(self):
        super().__init__()

    def forwrd(self, x):
        return x


def use(m):
    return m.forwrd_unrelated


class Lone{i}(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(1, 1)]

    def forward(self, x):
        return x
'''
#: edits that change what other statements' findings depend on (each a (old, new) replacement of its first match)
LINKING_EDITS = [
    ("class Base(nn.Module):", "class Base(object):"),  # Child and Grandchild stop being Modules
    ("class Base(object):", "class Base(nn.Module):"),
    ("class Encoder(nn.Module):", "class Encoder:"),  # Base's list no longer holds layers
    ("class Encoder:", "class Encoder(nn.Module):"),
    ("import torch.nn as nn\n", ""),  # the import table: every class
    ("import torch\n", "import torch\nimport torch.nn as nn\n"),
    ("    return [nn.Linear(n, n) for _ in range(n)]", "    return [n for _ in range(n)]"),  # the helper's value
    ("    return [n for _ in range(n)]", "    return [nn.Linear(n, n) for _ in range(n)]"),
    ("LAYERS = [nn.Linear(2, 2), nn.ReLU()]", "LAYERS = [2, 3]"),  # a module-level list
    ("LAYERS = [2, 3]", "LAYERS = [nn.Linear(2, 2), nn.ReLU()]"),
    ("EXTRA.append(nn.Linear(2, 2))", "EXTRA.append(2)"),  # a module-level call changes a list
    ("EXTRA.append(2)", "EXTRA.append(nn.Linear(2, 2))"),
    ("    return m.forwrd_unrelated", "    return m.forwrd"),  # an attribute access elsewhere: the misspelling's fix
    ("    return m.forwrd", "    return m.forwrd_unrelated"),
    ("class Grandchild(Child):\n    def construct", "class Grandchild(Child):\n    def forward"),  # a subclass
    ("class Grandchild(Child):\n    def forward", "class Grandchild(Child):\n    def construct"),
    ("class Grandchild(Child):", "class Grandchild(Mover):"),
    ("class Grandchild(Mover):", "class Grandchild(Child):"),
    ("class Mover(nn.Module):", "class Mover(nn.Module):\n    def _apply(self, fn):\n        self.cache = fn(self.cache)\n        return super()._apply(fn)\n"),
    ("class Mover(nn.Module):\n    def _apply(self, fn):\n        self.cache = fn(self.cache)\n        return super()._apply(fn)\n", "class Mover(nn.Module):"),
    ("\n\nclass Child(Base):", "\n\nclass Extra(Child):\n    def forward(self, x):\n        return x\n\n\nclass Child(Base):"),  # add a class
    ("\n\nclass Extra(Child):\n    def forward(self, x):\n        return x\n", ""),  # remove it
    ("\n\nclass Encoder(nn.Module):", "\n\nclass Encoder(nn.Module):\n    pass\n\n\nclass Encoder(nn.Module):"),  # defined twice
    ("\n\nclass Encoder(nn.Module):\n    pass\n", ""),
    ("\n\nclass Lone3(nn.Module):", "\n\nclass Lone3(Child):"),  # a class that was alone gets a base of the file
    # an _apply override that converts any sub-module's `cache` (Mover's MRG201), naming no class
    ("\n\ndef use(m):", "\n\nclass Walker(nn.Module):\n    def _apply(self, fn):\n        for m in self.modules():\n"
     "            m.cache = fn(m.cache)\n        return super()._apply(fn)\n\n\ndef use(m):"),
    ("\n\nclass Walker(nn.Module):\n    def _apply(self, fn):\n        for m in self.modules():\n"
     "            m.cache = fn(m.cache)\n        return super()._apply(fn)\n", ""),
]


def linked_source(lone: int = 8) -> str:
    head, lone_block = LINKED.split("\n\nclass Lone{i}")
    return head + "".join("\n\nclass Lone{i}".format(i=i) + lone_block.format(i=i) for i in range(lone))


def _result(findings):
    return [
        (f.code, f.line, f.col, f.end_line, f.end_col, f.message, f.fix_hint, f.fix.title if f.fix else None)
        for f in findings
    ]


def _names(module):
    """The names the top-level statements of ``module`` define (classes, functions, assigned names)."""
    out = set()
    for stmt in module.body:
        if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
            out.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign):
            out.update(t.target.value for t in stmt.body[0].targets if isinstance(t.target, cst.Name))
    return out


@pytest.fixture
def sub_models(monkeypatch):
    """Each model built: (the module it covers, the whole module)."""
    from flake8_modreg import core

    built: list[tuple[cst.Module, cst.Module]] = []
    model = core._model

    def recording(module, *a, **kw):
        built.append((module, kw.get("whole", module)))
        return model(module, *a, **kw)

    monkeypatch.setattr(core, "_model", recording)
    return built


def _chained(texts, config):
    """Each text checked with the previous version's parse and memo, as the language server does."""
    from flake8_modreg.model import NodeMemo

    previous, memo = None, None
    for text in texts:
        parsed = []

        def parser(source, base=previous):
            parsed.append(incremental.reparse(base, source, parse))
            return parsed[-1].module

        new_memo = NodeMemo(memo)
        try:
            _, findings = check_module(text, config=config, parser=parser, memo=new_memo)
        except ModregError as e:
            yield ("error", str(e))
            continue  # the next version builds on the last good one
        previous, memo = parsed[-1], new_memo
        yield _result(findings)


def _full(text, config):
    try:
        return _result(check_module(text, config=config)[1])
    except ModregError as e:
        return ("error", str(e))


def test_an_edit_inside_one_class_analyses_that_class_and_what_it_reads(small_threshold, sub_models):
    config = Config()
    text = linked_source()
    new = text.replace("class Lone5(nn.Module):\n", "class Lone5(nn.Module):\n    cache = None\n", 1)
    results = list(_chained([text, new], config))
    (first, whole), (second, _) = sub_models
    assert results == [_full(text, config), _full(new, config)]
    assert results[1]  # there are findings to compare
    assert first is whole  # nothing to reuse yet
    assert _names(second) == {"Lone5"} and len(second.body) == 3  # and the two imports: what it reads


@pytest.mark.parametrize(
    "old, new, analysed",
    [
        # a base: the classes below it and what they read
        ("class Base(nn.Module):", "class Base(object):", {"Base", "Child", "Grandchild", "Encoder", "make", "LAYERS"}),
        # a class another instantiates: that one too, and its subclasses
        ("        self.fc = nn.Linear(2, 2)\n", "        self.fc = [nn.Linear(2, 2)]\n", {"Encoder", "Base", "Child", "Grandchild"}),
        # a module-level list
        ("LAYERS = [nn.Linear(2, 2), nn.ReLU()]", "LAYERS = [2, 3]", {"LAYERS", "Child"}),
        # a module-level call that changes a list another statement binds
        ("EXTRA.append(nn.Linear(2, 2))", "EXTRA.append(2)", {"EXTRA", "Child"}),
    ],
)
def test_an_edit_re_analyses_the_statements_that_read_it(old, new, analysed, small_threshold, sub_models):
    config = Config()
    text = linked_source()
    edited = text.replace(old, new, 1)
    assert edited != text
    results = list(_chained([text, edited], config))
    last, whole = sub_models[-1]
    assert results == [_full(text, config), _full(edited, config)]
    assert results[0] != results[1]  # the edit changes findings of statements it does not touch
    assert last is not whole
    assert analysed <= _names(last)
    assert not any(n.startswith("Lone") for n in _names(last))  # classes that read nothing of it are reused


def test_a_changed_answer_to_a_file_wide_question_re_analyses_who_asked(small_threshold, sub_models):
    """``m.forwrd`` typed in a function takes away the rename fix of Slip's misspelled ``forwrd`` (an attribute of
    that name would break): Slip reads nothing of the function by name, but its analysis asked whether the file
    accesses ``.forwrd`` anywhere, so it is analysed again; Lone5, analysed on its own since, asked nothing."""
    config = Config()
    text = linked_source()
    lone = text.replace("class Lone5(nn.Module):\n", "class Lone5(nn.Module):\n    cache = None\n", 1)
    edited = lone.replace("    return m.forwrd_unrelated", "    return m.forwrd", 1)
    back = edited.replace("    return m.forwrd", "    return m.forwrd_unrelated", 1)
    results, builds = [], []
    for got in _chained([text, lone, edited, back], config):  # one version at a time
        results.append(got)
        builds.append([module for module, _ in sub_models])
        sub_models.clear()
    assert results == [_full(t, config) for t in (text, lone, edited, back)]
    fixes = [[f[-1] for f in r if "'forwrd'" in f[5]] for r in results]
    assert fixes[1] == ["rename 'forwrd' to 'forward'"] and fixes[2] == [None] and fixes[3] == fixes[1]
    for version in (2, 3):
        first, last = _names(builds[version][0]), _names(builds[version][-1])
        assert "use" in first and "Slip" not in first  # what the edit touched, by name
        assert {"use", "Slip"} <= last and "Lone5" not in last  # then who asked


@pytest.mark.parametrize("seed", range(6))
def test_linking_edit_sequences_match_a_full_check(seed, small_threshold, sub_models):
    """Random sequences of edits to bases, imports, subclassed and instantiated classes, helpers, file-wide
    attribute names, added and removed classes, mixed with typing: every version's findings (messages and fixes
    included) are a full check's, and most versions analyse part of the file only."""
    rng = random.Random(300 + seed)
    config = Config()
    texts = [linked_source()]
    text = texts[0]
    for _ in range(40):
        before = text
        if rng.random() < 0.5:
            old, new = rng.choice([(o, n) for o, n in LINKING_EDITS if o in text])
            text = text.replace(old, new, 1)
        else:
            text = edit(rng, text)
        texts.append(text)
        if isinstance(_full(text, config), tuple):
            text = before  # the user fixes what they broke (the broken version is checked too)
    results = list(_chained(texts, config))
    partial = sum(1 for module, whole in sub_models if module is not whole)
    for text, got in zip(texts, results):
        assert got == _full(text, config)
    assert partial >= 8


def test_an_answer_from_another_file_is_asked_again(tmp_path, small_threshold, sub_models):
    """A class whose base lives in another file: when that file changes on disk, the resolver's new answer is what
    the reused findings are checked against (the text of this file did not change there)."""
    import os

    base = tmp_path / "base.py"
    base.write_text("import torch.nn as nn\n\n\nclass Base(nn.Module):\n    pass\n")
    path = tmp_path / "net.py"
    head = "from base import Base\n\n\nclass Head(Base):\n    def __init__(self):\n        super().__init__()\n        self.layers = [nn.Linear(1, 1)]\n"
    text = linked_source().replace("import torch\n", "import torch\n" + head.split("\n\n\n")[0] + "\n", 1)
    text += "\n\n" + head.split("\n\n\n")[1]
    lone = text.replace("class Lone5(nn.Module):\n", "class Lone5(nn.Module):\n    cache = None\n", 1)
    config = Config()

    def full(t):
        return _result(check_module(t, path=str(path), config=config)[1])

    from flake8_modreg.model import NodeMemo

    previous, memo, results = None, None, []
    for version, t in enumerate([text, lone, lone]):
        if version == 2:  # the base file stops being a Module
            base.write_text("class Base:\n    pass\n")
            os.utime(base, (1, 1))
        parsed = []
        memo = NodeMemo(memo)
        _, findings = check_module(
            t, path=str(path), config=config, memo=memo,
            parser=lambda s, b=previous: parsed.append(incremental.reparse(b, s, parse)) or parsed[-1].module,
        )
        previous = parsed[-1]
        results.append((_result(findings), full(t)))
    assert all(got == expected for got, expected in results)
    line = 1 + lone.count("\n", 0, lone.index("self.layers = [nn.Linear(1, 1)]", lone.index("class Head")))
    heads = [[f for f in got if f[1] == line] for got, _ in results]
    assert heads[1] and not heads[2]  # Head's MRG101 went with its Module base


def test_a_fix_that_read_the_whole_file_is_never_reused(small_threshold):
    """MRG101's fix imports ``nn`` only when no other use of the name ``nn`` exists anywhere in the file (comments and
    strings included, so not a name another statement binds): typing ``nn = 1`` in another class takes the fixes away."""
    src = linked_source().replace("import torch\nimport torch.nn as nn\n", "from torch.nn import Linear, Module, ReLU\n", 1)
    src = src.replace("nn.Module", "Module").replace("nn.Linear", "Linear").replace("nn.ReLU", "ReLU")
    assert "nn." not in src
    typed = src.replace("class Lone5(Module):\n", "class Lone5(Module):\n    nn = 1\n", 1)
    config = Config()
    results = list(_chained([src, typed], config))
    assert results == [_full(src, config), _full(typed, config)]
    titles = [{f[-1] for f in r if f[-1] and "ModuleList" in f[-1]} for r in results]
    assert "wrap 'self.layers' in nn.ModuleList(...)" in titles[0]
    assert not titles[1]  # `torch` is used too: no free spelling is left, no fix
