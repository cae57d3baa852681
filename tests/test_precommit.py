"""The pre-commit hooks, run by the real pre-commit against this repository (``try-repo``)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUGGY = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def construct(self, x):\n        return x\n"


@pytest.mark.slow
def test_hooks_fail_on_a_bug_and_fix_it(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    pytest.importorskip("pre_commit")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=work, check=True, env=env)
    (work / "model.py").write_text(BUGGY)
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A model"), nbformat.v4.new_code_cell(BUGGY)])
    nbformat.write(nb, str(work / "nb.ipynb"))  # the `jupyter` type: notebooks are checked too
    subprocess.run(["git", "add", "model.py", "nb.ipynb"], cwd=work, check=True, env=env)

    def hook(name):
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), name, "--all-files"],
            cwd=work, env=env, capture_output=True, text=True, timeout=900,
        )

    first = hook("modreg")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "model.py:5:9: MRG301" in first.stdout
    assert "nb.ipynb:cell 2:5:9: MRG301" in first.stdout
    fix = hook("modreg-fix")
    assert fix.returncode == 1  # files were modified: pre-commit reports it
    assert (work / "model.py").read_text() == BUGGY.replace("def construct", "def forward")
    assert nbformat.read(str(work / "nb.ipynb"), as_version=4).cells[1].source == BUGGY.replace("def construct", "def forward")
    again = hook("modreg")
    assert again.returncode == 0, again.stdout + again.stderr
