"""A new user's way from ``pip install`` to a green CI on an existing code base, with the README's own commands.

The commands are read from README.md (the adoption block, the GitHub workflow's ``run:`` steps, the
notebook example) and run as written, with the installed ``modreg``, on a small repository that has
registration bugs in a package and in a notebook.  After either adoption route the workflow's steps
pass; a new bug then fails the annotation step with one annotation and one SARIF result, for it alone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")  # pre-commit's dependency, in the `test` extra
nbformat = pytest.importorskip("nbformat")
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BASELINE_FLAG = "--baseline .modreg-baseline.json"


def block(heading: str, lang: str) -> str:
    """The first fenced ``lang`` block after ``heading`` in the README."""
    start = README.index(heading)
    m = re.compile(rf"```{lang}\n(.*?)```", re.S).search(README, start)
    assert m is not None, f"no {lang} block after {heading!r}"
    return m.group(1)


def adoption_commands() -> list[str]:
    lines = [ln.split("  #")[0].strip() for ln in block("### Adopting it on an existing code base", "bash").splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def workflow_steps() -> list[str]:
    workflow = yaml.safe_load(block("### In CI", "yaml"))
    (job,) = workflow["jobs"].values()
    return [s["run"] for s in job["steps"] if "run" in s and not s["run"].startswith("pip install")]


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""), NO_COLOR="1")
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


MODELS = textwrap.dedent(
    """\
    import torch
    import torch.nn as nn

    from .base import Backbone


    class Net(Backbone):
        def __init__(self, dims):
            super().__init__()
            self.layers = [nn.Linear(d, d) for d in dims]

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x


    class Head(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

        def construct(self, x):
            return self.fc(x)
    """
)
NEW_BUG = "import torch.nn as nn\n\n\nclass Extra(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.blocks = [nn.Linear(2, 2)]\n"


@pytest.fixture
def codebase(tmp_path):
    """An existing repository: a package with a base class in a sibling file, and an exploration notebook."""
    pkg = tmp_path / "src" / "mypkg"
    pkg.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "mypkg"\nversion = "0.1"\n', encoding="utf-8")
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "base.py").write_text("import torch.nn as nn\n\n\nclass Backbone(nn.Module):\n    pass\n", encoding="utf-8")
    (pkg / "models.py").write_text(MODELS, encoding="utf-8")
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}})
    nb.cells = [
        new_markdown_cell("# Exploring"),
        new_code_cell("%pip install torch\nimport torch.nn as nn", execution_count=1, outputs=[new_output("stream", name="stdout", text="ok\n")]),
        new_code_cell("class Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.blocks = [nn.Linear(2, 2)]\n\n    def construct(self, x):\n        return x"),
    ]
    nbformat.write(nb, str(tmp_path / "src" / "explore.ipynb"))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    before = shell("modreg check .", tmp_path)
    assert before.returncode == 1 and before.stdout.count(": MRG") == 5, before.stdout  # 3 in models.py, 2 in the notebook
    return tmp_path


def run_ci(repo: Path, extra: str = "") -> list[subprocess.CompletedProcess]:
    steps = [s.replace("modreg check", f"modreg check {extra}".rstrip()) for s in workflow_steps()]
    assert len(steps) == 2 and "--output-format github" in steps[0] and "--output-file modreg.sarif" in steps[1]
    return [shell(s, repo) for s in steps]


def assert_green_then_one_new_finding(repo: Path, extra: str = "") -> None:
    annotations, sarif = run_ci(repo, extra)
    assert (annotations.returncode, annotations.stdout, sarif.returncode) == (0, "", 0), annotations.stderr + sarif.stderr
    assert json.loads((repo / "modreg.sarif").read_text())["runs"][0]["results"] == []
    (repo / "src" / "mypkg" / "extra.py").write_text(NEW_BUG, encoding="utf-8")
    annotations, sarif = run_ci(repo, extra)
    assert annotations.returncode == 1 and sarif.returncode == 0
    assert annotations.stdout.splitlines() == [
        "::warning file=src/mypkg/extra.py,line=7,col=9,endLine=7,endColumn=40,title=MRG101 (layers-in-plain-list)"
        "::MRG101 sub-modules in plain list 'self.blocks' are not registered: wrap it in nn.ModuleList(...)"
    ]
    (result,) = json.loads((repo / "modreg.sarif").read_text())["runs"][0]["results"]
    where = result["locations"][0]["physicalLocation"]
    assert result["ruleId"] == "MRG101" and where["artifactLocation"]["uri"] == "src/mypkg/extra.py"
    assert where["region"]["startLine"] == 7


def test_adoption_with_noqa_then_the_readme_workflow_is_green(codebase):
    add_noqa = adoption_commands()[0]
    assert add_noqa == "modreg check --add-noqa src/"
    done = shell(add_noqa, codebase)
    assert done.returncode == 0 and "Added 5 noqa directives in 2 files." in done.stdout
    cell = nbformat.read(str(codebase / "src" / "explore.ipynb"), as_version=4).cells[2]
    assert "self.blocks = [nn.Linear(2, 2)]  # noqa: MRG101" in cell.source
    assert_green_then_one_new_finding(codebase)


def test_adoption_with_a_baseline_then_the_readme_workflow_is_green(codebase):
    update, check = adoption_commands()[1:]
    assert BASELINE_FLAG in update and "--update-baseline" in update and BASELINE_FLAG in check
    assert shell(update, codebase).returncode == 0
    assert shell(check, codebase).returncode == 0
    assert f"Add `{BASELINE_FLAG}` to both `modreg check` steps" in README
    assert_green_then_one_new_finding(codebase, BASELINE_FLAG)


def test_the_readme_notebook_example_is_what_modreg_prints(tmp_path):
    example = block("### Notebooks", "console")
    command, expected = example.splitlines()[:2]
    assert command == "$ modreg check nb.ipynb"
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}})
    nb.cells = [
        new_markdown_cell("A model"),
        new_code_cell("import torch.nn as nn", execution_count=1, outputs=[new_output("stream", name="stdout", text="ok\n")]),
        new_code_cell("%matplotlib inline\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n\n    def construct(self, x):\n        return x"),
    ]
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    got = shell(command[2:], tmp_path)
    assert got.returncode == 1 and got.stdout.splitlines()[0] == expected
    fix = example.splitlines()[2].split("  #")[0].strip()
    assert fix == "$ modreg check --fix nb.ipynb" and shell(fix[2:], tmp_path).returncode == 0
    after = nbformat.read(str(tmp_path / "nb.ipynb"), as_version=4)
    assert "def forward(self, x):" in after.cells[2].source and after.cells[2].source.startswith("%matplotlib inline\n")
    assert after.cells[1].outputs == nb.cells[1].outputs and after.metadata == nb.metadata


def test_the_readme_gitlab_job_writes_a_code_quality_report(codebase):
    job = yaml.safe_load(block("On GitLab, the merge request's Code Quality widget", "yaml"))["modreg"]
    report = codebase / job["artifacts"]["reports"]["codequality"]
    (script,) = [s for s in job["script"] if not s.startswith("pip install")]
    assert shell(adoption_commands()[0], codebase).returncode == 0  # adopted with --add-noqa
    assert shell(script, codebase).returncode == 0 and json.loads(report.read_text()) == []
    (codebase / "src" / "mypkg" / "extra.py").write_text(NEW_BUG, encoding="utf-8")
    assert shell(script, codebase).returncode == 1
    (issue,) = json.loads(report.read_text())
    assert (issue["check_name"], issue["location"]["path"], issue["location"]["positions"]["begin"]) == (
        "MRG101", "src/mypkg/extra.py", {"line": 7, "column": 9}
    )
