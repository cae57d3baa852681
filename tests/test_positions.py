"""flake8_modreg.positions must agree with libcst's PositionProvider on every node."""

import pathlib
import textwrap

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from flake8_modreg.positions import node_positions
from flake8_modreg.rules import all_rules

ROOT = pathlib.Path(__file__).resolve().parent.parent

EDGE_CASES = {
    "empty": "",
    "blank lines only": "\n\n\n",
    "no trailing newline": "import torch\nx = torch.ones(1)",
    "crlf": "import torch\r\nclass A(torch.nn.Module):\r\n    def f(self):\r\n        return 1\r\n",
    "lone cr": "x = 1\ry = 2\r",
    "tabs": "if True:\n\tx = 1\n\tif x:\n\t\ty = (1,\n\t\t     2)\n",
    "non-ascii and astral": "名字 = '🙂'; x = 1  # 中文\ny = '\U0001f600' + \"ü\"\n",
    "continuations and strings": 'x = 1 + \\\n    2\ns = """a\nb"""; t = (\n  s,\n)\n',
    "decorators and comments": "# c\n\n@d  # x\n@e(\n  1)\nclass A:  # y\n    # z\n    def f(self): pass\n",
    "semicolons and lambda": "a = 1; b = lambda: (yield); c = [i async for i in g()]\n",
}


def sources():
    for name, src in EDGE_CASES.items():
        yield name, src
    for rule in all_rules():
        for i, ex in enumerate(rule.invalid + rule.valid):
            yield f"{rule.code}#{i}", textwrap.dedent(ex.code)
    for path in sorted((ROOT / "tests" / "fixtures").glob("*.py")) + sorted((ROOT / "examples").rglob("*.py")):
        yield path.name, path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name,src", list(sources()), ids=lambda v: v if len(v) < 40 else None)
def test_every_node_matches_position_provider(name, src):
    module = cst.parse_module(src)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert expected, name
    got = node_positions(module, list(expected))
    mismatches = [(type(n).__name__, expected[n], got[n]) for n in expected if got[n] != expected[n]]
    assert mismatches == []


def test_only_requested_nodes_are_returned_and_foreign_nodes_raise():
    module = cst.parse_module("x = 1\ny = 2\n")
    second = module.body[1]
    got = node_positions(module, [second])
    assert list(got) == [second]
    assert (got[second].start.line, got[second].start.column, got[second].end.column) == (2, 0, 5)
    with pytest.raises(KeyError):
        node_positions(module, [cst.parse_module("z = 3\n").body[0]])
