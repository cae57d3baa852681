"""``--output-format gitlab``: a GitLab Code Quality report (``artifacts: reports: codequality:``), as ruff writes it.

Driven through the real command on a repository with a Python file, a notebook and a file that does not parse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

nbformat = pytest.importorskip("nbformat")
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402

NET = textwrap.dedent(
    """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]

        def construct(self, x):
            return x
    """
)


def modreg(*args, cwd, env=None):
    proc = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "--output-format", "gitlab", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
    )
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / ".git").mkdir()
    src = tmp_path / "src"
    src.mkdir()
    (src / "net.py").write_text(NET, encoding="utf-8")
    (src / "broken.py").write_text("import torch.nn as nn\ndef f(:\n", encoding="utf-8")
    nb = new_notebook()
    nb.cells = [new_code_cell("import torch.nn as nn"), new_code_cell(NET.split("\n", 1)[1].lstrip("\n"))]
    nbformat.write(nb, str(src / "nb.ipynb"))
    return tmp_path


def test_issues_carry_the_fields_gitlab_reads(repo):
    rc, issues = modreg(".", cwd=repo / "src")  # run from a sub-folder: paths are still the repository's
    assert rc == 1
    got = [
        (i["check_name"], i["severity"], i["location"]["path"], i["location"].get("positions", {}).get("begin"))
        for i in issues
    ]
    assert got == [
        ("MRG101", "major", "src/nb.ipynb", None),  # a warning: state silently lost
        ("MRG301", "critical", "src/nb.ipynb", None),  # an error: the code cannot run
        ("MRG101", "major", "src/net.py", {"line": 7, "column": 9}),
        ("MRG301", "critical", "src/net.py", {"line": 9, "column": 9}),
        ("modreg-error", "critical", "src/broken.py", None),
    ]
    # a notebook's issue points at the line of the .ipynb file that holds the code (what GitLab numbers);
    # the cell and the position inside it are in the description, as the text output writes them
    nb_lines = (repo / "src" / "nb.ipynb").read_text(encoding="utf-8").splitlines()
    layers = 1 + next(i for i, line in enumerate(nb_lines) if "self.layers = [nn.Linear(2, 2)]" in line)
    construct = 1 + next(i for i, line in enumerate(nb_lines) if "def construct(self, x):" in line)
    assert issues[0]["location"]["lines"] == {"begin": layers, "end": layers}
    assert issues[1]["location"]["lines"] == {"begin": construct, "end": construct}
    assert issues[0]["description"] == (
        "(MRG101) sub-modules in plain list 'self.layers' are not registered: wrap it in nn.ModuleList(...) "
        "(cell 2, line 4, column 9)"
    )
    assert issues[2]["location"]["positions"]["end"] == {"line": 7, "column": 40}
    assert issues[4]["location"]["lines"] == {"begin": 2} and "syntax error" in issues[4]["description"]
    assert all(i["type"] == "issue" and i["categories"] == ["Bug Risk"] for i in issues)
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_fingerprints_survive_unrelated_edits_and_ci_project_dir_anchors_paths(repo):
    _rc, before = modreg("src/net.py", cwd=repo)
    (repo / "src" / "net.py").write_text("# a comment\n\n" + NET, encoding="utf-8")
    _rc, after = modreg("src/net.py", cwd=repo, env={"CI_PROJECT_DIR": str(repo / "src")})
    assert [i["location"]["positions"]["begin"]["line"] for i in after] == [9, 11]  # moved down by two
    assert [i["location"]["path"] for i in after] == ["net.py", "net.py"]  # relative to $CI_PROJECT_DIR
    _rc, again = modreg("src/net.py", cwd=repo)
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in before]


def test_a_clean_tree_is_an_empty_report(tmp_path):
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    assert modreg(".", cwd=tmp_path) == (0, [])


def test_notebook_lines_agree_with_the_text_output_and_a_syntax_error_in_a_cell(tmp_path):
    """The same finding in text (``nb.ipynb:cell 3:2:9``) and GitLab (the file line of cell 3's second line); a
    syntax error in a cell likewise; a notebook stored without line breaks has every code line on line 1."""
    nb = new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A model\nwith notes"),
        new_code_cell("import torch.nn as nn\n%matplotlib inline"),
        new_code_cell("class Net(nn.Module):\n    def construct(self, x):\n        return x"),
    ]
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    bad = new_notebook()
    bad.cells = [new_code_cell("import torch.nn as nn"), new_code_cell("x = 1\ndef f(:\n    pass")]
    nbformat.write(bad, str(tmp_path / "bad.ipynb"))
    text = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "nb.ipynb"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert "nb.ipynb:cell 3:2:9: MRG301" in text
    _rc, issues = modreg("nb.ipynb", "bad.ipynb", cwd=tmp_path)
    lines = (tmp_path / "nb.ipynb").read_text(encoding="utf-8").splitlines()
    construct = 1 + next(i for i, line in enumerate(lines) if '"    def construct(self, x):\\n"' in line)
    (issue,) = [i for i in issues if i["check_name"] == "MRG301"]
    assert issue["location"] == {"path": "nb.ipynb", "lines": {"begin": construct, "end": construct}}
    assert issue["description"].endswith("(cell 3, line 2, column 9)")
    (error,) = [i for i in issues if i["check_name"] == "modreg-error"]
    bad_lines = (tmp_path / "bad.ipynb").read_text(encoding="utf-8").splitlines()
    def_f = 1 + next(i for i, line in enumerate(bad_lines) if '"def f(:\\n"' in line)
    assert error["location"] == {"path": "bad.ipynb", "lines": {"begin": def_f}}
    assert "(cell 2, line 2, column" in error["description"]
    # the same notebook as one line of JSON (a tool that does not pretty-print): the file has only line 1
    (tmp_path / "nb.ipynb").write_text(json.dumps(json.loads("\n".join(lines))), encoding="utf-8")
    _rc, issues = modreg("nb.ipynb", cwd=tmp_path)
    (issue,) = [i for i in issues if i["check_name"] == "MRG301"]
    assert issue["location"]["lines"] == {"begin": 1, "end": 1}
    assert issue["description"].endswith("(cell 3, line 2, column 9)")


def test_file_lines_point_at_each_source_line_of_any_notebook_nbformat_writes():
    """Property: for notebooks of random cells (kinds, empty cells, blank lines, quotes, backslashes, non-ASCII,
    CRLF, no final newline), written by nbformat and also minified, the file line given for each line of each
    cell holds that line's JSON string."""
    import json

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from flake8_modreg.notebook import file_lines

    line = st.text(alphabet=st.sampled_from(list('ab "\\\t#=é中')), max_size=12)
    source = st.tuples(st.lists(line, max_size=5), st.sampled_from(["\n", "\r\n"]), st.booleans()).map(
        lambda t: t[1].join(t[0]) + (t[1] if t[2] and t[0] else "")
    )
    cell = st.tuples(st.sampled_from(["code", "markdown", "raw"]), source)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(cell, max_size=5))
    def check(cells):
        nb = new_notebook()
        make = {"code": new_code_cell, "markdown": nbformat.v4.new_markdown_cell, "raw": nbformat.v4.new_raw_cell}
        nb.cells = [make[kind](text) for kind, text in cells]
        text = nbformat.writes(nb)
        got = file_lines(text)
        assert got is not None and len(got) == len(cells)
        physical = text.splitlines()
        for (_kind, src), lines in zip(cells, got):
            code_lines = src.splitlines()
            assert len(lines) == len(code_lines)
            for code, at in zip(code_lines, lines):
                assert json.dumps(code, ensure_ascii=False)[1:-1] in physical[at - 1]
            assert lines == sorted(lines)
        minified = json.dumps(json.loads(text))
        assert all(set(ls) <= {1} for ls in file_lines(minified))

    check()
