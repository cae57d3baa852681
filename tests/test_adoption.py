"""Adopting modreg on an existing code base, through ``main()``: ``--add-noqa`` and ``--baseline``."""

from __future__ import annotations

import io

import pytest

from flake8_modreg.cli import main

BUGGY = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]  # noqa: E501
        self.scale = torch.ones(1)
        self.doc = '''a
        multi-line string'''; self.more = [nn.Linear(2, 2)]

    def construct(self, x):
        return x * self.scale
"""


def run(argv, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", "--no-cache", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_add_noqa_silences_every_finding_and_keeps_existing_codes(tmp_path, monkeypatch):
    (tmp_path / "m.py").write_text(BUGGY)
    assert run(["m.py"], tmp_path, monkeypatch)[0] == 1
    code, out, _ = run(["--add-noqa", "m.py"], tmp_path, monkeypatch)
    assert code == 0 and out == "Added 4 noqa directives in 1 file.\n"
    text = (tmp_path / "m.py").read_text()
    lines = text.splitlines()
    assert lines[7].endswith("  # noqa: E501, MRG101")  # the existing code is kept, ours added to the list
    assert lines[8].endswith("self.scale = torch.ones(1)  # noqa: MRG201")
    assert lines[10].endswith("multi-line string'''; self.more = [nn.Linear(2, 2)]  # noqa: MRG101")  # where flake8 reads it
    assert lines[12].endswith("def construct(self, x):  # noqa: MRG301")
    compile(text, "m.py", "exec")
    assert run(["m.py"], tmp_path, monkeypatch)[:2] == (0, "All checks passed.\n")
    # idempotent
    assert run(["--add-noqa", "m.py"], tmp_path, monkeypatch)[1] == "Added 0 noqa directives in 0 files.\n"
    assert (tmp_path / "m.py").read_text() == text


def test_add_noqa_in_a_notebook(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\n" + BUGGY)])
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    code, out, _ = run(["--add-noqa", "nb.ipynb"], tmp_path, monkeypatch)
    assert code == 0 and out.startswith("Added 4 noqa directives")
    src = nbformat.read(str(tmp_path / "nb.ipynb"), as_version=4).cells[0].source
    assert src.startswith("%matplotlib inline\n") and "def construct(self, x):  # noqa: MRG301" in src
    assert run(["nb.ipynb"], tmp_path, monkeypatch)[0] == 0


def test_baseline_reports_only_new_findings(tmp_path, monkeypatch):
    (tmp_path / "m.py").write_text(BUGGY)
    code, _, err = run(["--baseline", "modreg-baseline.json", "m.py"], tmp_path, monkeypatch)
    assert code == 2 and "--update-baseline" in err  # a missing baseline is an error, not a green run
    code, out, _ = run(["--baseline", "modreg-baseline.json", "--update-baseline", "."], tmp_path, monkeypatch)
    assert code == 0 and out == "Wrote 4 findings to the baseline modreg-baseline.json.\n"
    assert run(["--baseline", "modreg-baseline.json", "."], tmp_path, monkeypatch)[:2] == (
        0, "All checks passed; 4 known findings in the baseline modreg-baseline.json.\n"
    )
    # lines added above: old findings still match (by the line's text, not its number); a new one is reported
    (tmp_path / "m.py").write_text("# header\n\n" + BUGGY + "\n\nclass B(nn.Module):\n    def construct(self, x):\n        return x\n")
    code, out, _ = run(["--baseline", "modreg-baseline.json", "."], tmp_path, monkeypatch)
    assert code == 1
    assert [ln.split(": ")[0] for ln in out.splitlines()[:-1]] == ["m.py:20:9"]
    assert out.splitlines()[-1].endswith("; 4 known findings in the baseline modreg-baseline.json.")
    # from a sub-folder, with another path spelling: same entries
    (tmp_path / "sub").mkdir()
    code, out, _ = run(["--baseline", "../modreg-baseline.json", "../m.py"], tmp_path / "sub", monkeypatch)
    assert code == 1 and out.count("MRG301") == 1
