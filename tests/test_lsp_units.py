"""The language server's pure parts: noqa edits, minimal edits, the [tool.modreg] loader, analysis."""

from __future__ import annotations

import textwrap

import pytest

pytest.importorskip("pygls", reason="the language server needs the `lsp` extra (pygls)")

from pygls.workspace import PositionCodec  # noqa: E402

from flake8_modreg.core import check  # noqa: E402
from flake8_modreg.lsp import analyse, minimal_edit, noqa_edit, read_config, split_lines  # noqa: E402
from flake8_modreg.noqa import Noqa  # noqa: E402
from flake8_modreg.settings import Config  # noqa: E402


def apply(lines, edit):
    line = lines[edit.line]
    lines = list(lines)
    lines[edit.line] = line[: edit.start] + edit.text + line[edit.end :]
    return "".join(lines)


def silenced_after_edit(src, code):
    """Apply the noqa edit for every `code` finding; return the text and whether flake8's noqa now drops them all."""
    findings = [f for f in check(src) if f.code == code]
    assert findings
    text = src
    for f in findings:
        lines = split_lines(text)
        edit = noqa_edit(Noqa(lines), f.line, code)
        if edit is not None:
            text = apply(lines, edit)
    new_findings = [f for f in check(text) if f.code == code]
    return text, Noqa(split_lines(text)).filter(new_findings) == []


HEAD = "import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"


@pytest.mark.parametrize(
    "body, expected_line",
    [
        ("        self.layers = [nn.Linear(2, 2)]\n", "        self.layers = [nn.Linear(2, 2)]  # noqa: MRG101"),
        # an existing ordinary comment stays; noqa goes after it
        ("        self.layers = [nn.Linear(2, 2)]  # keep me\n", "        self.layers = [nn.Linear(2, 2)]  # keep me  # noqa: MRG101"),
        # trailing spaces are replaced, CRLF kept
        ("        self.layers = [nn.Linear(2, 2)]   \r\n", "        self.layers = [nn.Linear(2, 2)]  # noqa: MRG101"),
        # an existing code list is extended
        ("        self.layers = [nn.Linear(2, 2)]  # noqa:E501\n", "        self.layers = [nn.Linear(2, 2)]  # noqa:E501, MRG101"),
        # brackets do not join lines for flake8: the noqa belongs on the reported (first) line
        ("        self.layers = [\n            nn.Linear(2, 2),\n        ]\n", "        self.layers = [  # noqa: MRG101"),
    ],
)
def test_noqa_edit_silences_the_finding(body, expected_line):
    text, silenced = silenced_after_edit(HEAD + body, "MRG101")
    assert silenced
    assert expected_line in text.splitlines()
    assert text.count("MRG101") == 1


def test_noqa_edit_after_a_backslash_continuation_goes_on_the_last_line():
    src = HEAD + "        self.layers = \\\n            [nn.Linear(2, 2)]\n"
    text, silenced = silenced_after_edit(src, "MRG101")
    assert silenced
    assert text.splitlines()[-1] == "            [nn.Linear(2, 2)]  # noqa: MRG101"
    assert text.splitlines()[-2].endswith("\\")  # never a comment after a backslash


def test_no_noqa_edit_when_already_covered():
    lines = split_lines(HEAD + "        self.layers = [nn.Linear(2, 2)]  # noqa\n")
    assert noqa_edit(Noqa(lines), 6, "MRG101") is None
    lines = split_lines(HEAD + "        self.layers = [nn.Linear(2, 2)]  # noqa: MRG1\n")
    assert noqa_edit(Noqa(lines), 6, "MRG101") is None


@pytest.mark.parametrize(
    "old, new",
    [
        ("a\r\nb\r\n", "a\r\nc\r\nb\r\n"),
        ("abc", "abc"),
        ("x = 1\n", ""),
        ("", "x\n"),
        ("def construct(self):\n", "def forward(self):\n"),
        ("a\r\n", "a\n"),
    ],
)
def test_minimal_edit_reproduces_the_new_text_and_never_splits_crlf(old, new):
    change = minimal_edit(old, new)
    if old == new:
        assert change is None
        return
    start, end, text = change
    assert old[:start] + text + old[end:] == new
    for cut in (start, end):
        assert not (0 < cut < len(old) and old[cut - 1] == "\r" and old[cut] == "\n")


def test_split_lines_matches_lsp_not_str_splitlines():
    assert split_lines("a\x0cb\u2028c\r\nd\re\nf") == ["a\x0cb\u2028c\r\n", "d\r", "e\n", "f"]


def test_config_loader(tmp_path):
    assert read_config(tmp_path) == (Config(), [])
    (tmp_path / "pyproject.toml").write_text(
        '[tool.modreg]\nselect = ["MRG1", "MRG3"]\nignore = "MRG102"\nmodule-bases = ["mylib.Base"]\n',
        encoding="utf-8",
    )
    config, warnings = read_config(tmp_path)
    assert warnings == []
    assert config == Config.make(select=["MRG1", "MRG3"], ignore=["MRG102"], module_bases=["mylib.Base"])
    (tmp_path / "pyproject.toml").write_text("[tool.modreg]\nselect = 3\n", encoding="utf-8")
    config, warnings = read_config(tmp_path)
    assert config == Config() and "select must be a list of strings" in warnings[0]
    (tmp_path / "pyproject.toml").write_text("[tool.modreg\n", encoding="utf-8")
    config, warnings = read_config(tmp_path)
    assert config == Config() and "cannot read" in warnings[0] and "\n" not in warnings[0]
    (tmp_path / "pyproject.toml").write_text("[tool.modreg]\nunknown = 1\n", encoding="utf-8")
    config, warnings = read_config(tmp_path)
    assert config == Config() and "unknown key in [tool.modreg]: 'unknown'" in warnings[0]


SRC = textwrap.dedent(
    """\
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]
    """
)


@pytest.mark.parametrize(
    "text",
    ["", "\x00", "import torch\n" + "(" * 300 + ")" * 300 + "\n", "import torch\nclass A(torch.nn.Module:\n", "import torch\n\tif x:\n  y\n"],
    ids=["empty", "nul", "deep", "syntax", "indent"],
)
def test_analysis_never_raises(text):
    result = analyse(text, version=1, path=None, config=Config(), codec=PositionCodec())
    assert result.diagnostics == []
    assert result.error is None or "\n" not in result.error


def test_a_bom_shifts_first_line_columns_only():
    plain = analyse(SRC, version=1, path=None, config=Config(), codec=PositionCodec())
    bom = analyse("\ufeff" + SRC, version=1, path=None, config=Config(), codec=PositionCodec())
    assert [d.range for d in plain.diagnostics] == [d.range for d in bom.diagnostics]  # the finding is on line 6
    assert plain.diagnostics and plain.diagnostics[0].range.start.line == 5
