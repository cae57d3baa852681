"""``modreg check`` gives each file the nearest ``[tool.modreg]`` above it (as ruff does, and as the language
server does for an open document), so a monorepo's sub-project keeps its own selection, ``exclude`` and
``per-file-ignores`` in a whole-tree run.  ``--config FILE`` and ``--isolated`` use one configuration for all."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# MRG101 (a plain list of layers) on line 7, MRG301 (construct instead of forward) on line 9
BUGGY = textwrap.dedent(
    """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2), nn.ReLU()]

        def construct(self, x):
            return x
    """
)
NAMES = ("net.py", "gen/net.py", "tests/net.py", "sub/net.py", "sub/gen/net.py", "sub/tests/net.py", "sub/pkg/net.py")


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.modreg]\nignore = ["MRG301"]\n')
    write(
        tmp_path / "sub" / "pyproject.toml",
        '[tool.modreg]\nignore = ["MRG101"]\nexclude = ["gen/"]\nper-file-ignores = { "tests/*" = ["MRG3"] }\n',
    )
    write(tmp_path / "sub" / "pkg" / "pyproject.toml", "[tool.black]\nline-length = 100\n")  # no [tool.modreg]
    for name in NAMES:
        write(tmp_path / name, BUGGY)
    return tmp_path


def modreg(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def findings(*args, cwd):
    proc = modreg("--format", "json", *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    out: dict[str, list[str]] = {}
    for d in json.loads(proc.stdout)["findings"]:
        out.setdefault(d["path"], []).append(d["code"])
    return out


def test_a_whole_tree_run_gives_each_file_its_nearest_config(repo):
    assert findings(".", cwd=repo) == {
        "net.py": ["MRG101"],  # the root's config: MRG301 ignored
        "gen/net.py": ["MRG101"],  # sub's exclude is relative to sub/
        "tests/net.py": ["MRG101"],  # and so are its per-file-ignores
        "sub/net.py": ["MRG301"],  # sub's own config, not the root's
        # sub/gen/net.py: excluded by sub's config
        # sub/tests/net.py: per-file-ignores of sub's config
        "sub/pkg/net.py": ["MRG301"],  # a pyproject.toml without [tool.modreg] is passed over
    }
    # the same from inside the sub-project, and for the sub-project named from the root
    assert findings(".", cwd=repo / "sub") == {"net.py": ["MRG301"], "pkg/net.py": ["MRG301"]}
    assert findings("sub", cwd=repo) == {"sub/net.py": ["MRG301"], "sub/pkg/net.py": ["MRG301"]}


def test_show_files_and_force_exclude_follow_the_nested_exclude(repo):
    listed = modreg("--show-files", ".", cwd=repo).stdout.split()
    assert listed == sorted(n for n in NAMES if n != "sub/gen/net.py")
    # a file named on the command line is checked (as ruff does), unless --force-exclude (pre-commit)
    assert findings("sub/gen/net.py", cwd=repo) == {"sub/gen/net.py": ["MRG301"]}
    assert findings("--force-exclude", "sub/gen/net.py", cwd=repo) == {}


def test_command_line_options_apply_on_top_of_each_config(repo):
    got = findings("--extend-ignore", "MRG3", ".", cwd=repo)
    assert got == {"net.py": ["MRG101"], "gen/net.py": ["MRG101"], "tests/net.py": ["MRG101"]}
    got = findings("--select", "MRG1", ".", cwd=repo)  # --select replaces every file's selection; ignores stay
    assert got == {"net.py": ["MRG101"], "gen/net.py": ["MRG101"], "tests/net.py": ["MRG101"]}


@pytest.mark.parametrize("flag", ["--isolated", "--config=pyproject.toml"])
def test_config_and_isolated_use_one_configuration_for_every_file(repo, flag):
    got = findings(flag, ".", cwd=repo)
    if flag == "--isolated":
        assert got == {name: ["MRG101", "MRG301"] for name in NAMES}
    else:
        assert got == {name: ["MRG101"] for name in NAMES}


def test_a_broken_nested_config_stops_the_run_with_one_line(repo):
    write(repo / "sub" / "pyproject.toml", '[tool.modreg]\nselect = ["MRG1O1"]\n')  # letter O
    proc = modreg(".", cwd=repo)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "sub/pyproject.toml" in line and "'MRG1O1'" in line
