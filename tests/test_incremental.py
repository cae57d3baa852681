"""The language server's incremental re-parse gives what a full parse gives: code, findings, positions."""

from __future__ import annotations

import random
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
