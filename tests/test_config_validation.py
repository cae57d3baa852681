"""One validator of rule codes and settings for every surface: the CLI, ``[tool.modreg]``, the flake8 plugin
(the language server's side is in tests/test_lsp.py)."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import pytest

from flake8_modreg.cli import main
from flake8_modreg.config import ConfigError, discover, load
from flake8_modreg.settings import check_codes, code_problem

BUGGY = textwrap.dedent(
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


def run(argv, cwd=None, monkeypatch=None):
    out, err = io.StringIO(), io.StringIO()
    if cwd is not None and monkeypatch is not None:
        monkeypatch.chdir(cwd)
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("code", ["MRG", "mrg", "ALL", "MRG1", "MRG9", "MRG10", "MRG101", "mrg301"])
def test_known_codes_and_prefixes_are_accepted(code):
    assert code_problem(code) is None


@pytest.mark.parametrize("code", ["MRG9999", "E501", "MRG1O1", "", " ", "MRG999", "MRG99", "MRG6", "F"])
def test_unknown_codes_are_rejected(code):
    assert code_problem(code) is not None
    with pytest.raises(ConfigError):
        check_codes([code], "--select")


@pytest.mark.parametrize("flag", ["--select", "--ignore", "--extend-select", "--extend-ignore"])
@pytest.mark.parametrize("value", ["MRG9999", "E501", "MRG1O1", ""])
def test_cli_rejects_unknown_codes_with_exit_2_and_one_line(tmp_path, monkeypatch, flag, value):
    (tmp_path / "m.py").write_text(BUGGY)
    code, out, err = run(["check", f"{flag}={value}", str(tmp_path / "m.py")], tmp_path, monkeypatch)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"modreg: error: {flag}: ")


def test_readme_example_select_mrg_is_accepted_everywhere(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nselect = ["MRG"]\nignore = ["MRG301"]\n')
    (tmp_path / "m.py").write_text(BUGGY)
    code, out, err = run(["check", "--no-cache", str(tmp_path / "m.py")], tmp_path, monkeypatch)
    assert code == 1 and err == ""
    assert "MRG101" in out and "MRG301" not in out  # the config is read, not dropped
    assert load(tmp_path / "pyproject.toml").select == ("MRG",)


@pytest.mark.parametrize(
    "toml,needle",
    [
        ('[tool.modreg]\nselect = ["MRG9999"]\n', "select: 'MRG9999'"),
        ('[tool.modreg]\nignore = ["E501"]\n', "ignore: 'E501'"),
        ('[tool.modreg]\nextend-select = [""]\n', "extend-select: an empty code"),
        ('[tool.modreg]\nper-file-ignores = { "t/*" = ["MRG1O1"] }\n', "per-file-ignores 't/*': 'MRG1O1'"),
        ("tool = 3\n", "'tool' must be a table"),
        ('[tool]\nmodreg = "on"\n', "[tool.modreg] must be a table"),
        ("[tool.modreg]\nselect = 3\n", "select must be a list of strings"),
        ("[tool.modreg]\nmodule-bases = [1]\n", "module-bases must be a list of strings"),
        ('[tool.modreg]\nper-file-ignores = ["x"]\n', "per-file-ignores must be a table"),
        ("[tool.modreg]\nselct = []\n", "unknown key in [tool.modreg]: 'selct'"),
    ],
)
def test_bad_pyproject_is_one_clear_error_never_a_traceback(tmp_path, monkeypatch, toml, needle):
    (tmp_path / "pyproject.toml").write_text(toml)
    (tmp_path / "m.py").write_text(BUGGY)
    code, out, err = run(["check", str(tmp_path / "m.py")], tmp_path, monkeypatch)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_extend_ignore_adds_to_the_configured_ignores(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nignore = ["MRG301"]\n')
    (tmp_path / "m.py").write_text(BUGGY)
    code, out, _ = run(["check", "--no-cache", "--extend-ignore", "MRG1", str(tmp_path / "m.py")], tmp_path, monkeypatch)
    assert code == 0 and "MRG" not in out
    code, out, _ = run(["check", "--no-cache", "--ignore", "MRG1", str(tmp_path / "m.py")], tmp_path, monkeypatch)
    assert code == 1 and "MRG301" in out and "MRG101" not in out  # --ignore replaces the configured list


def test_config_file_and_isolated(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nselect = ["MRG3"]\n')
    (tmp_path / "other.toml").write_text('select = ["MRG1"]\n')
    (tmp_path / "m.py").write_text(BUGGY)
    m = str(tmp_path / "m.py")
    _, out, _ = run(["check", "--no-cache", m], tmp_path, monkeypatch)
    assert "MRG301" in out and "MRG101" not in out
    _, out, _ = run(["check", "--no-cache", "--config", str(tmp_path / "other.toml"), m], tmp_path, monkeypatch)
    assert "MRG101" in out and "MRG301" not in out
    _, out, _ = run(["check", "--no-cache", "--isolated", m], tmp_path, monkeypatch)
    assert "MRG101" in out and "MRG301" in out
    code, _, err = run(["check", "--config", str(tmp_path / "missing.toml"), m], tmp_path, monkeypatch)
    assert code == 2 and "no such file" in err


def test_project_config_exclude_and_per_file_ignores(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.modreg]\nexclude = ["gen/", "*_pb2.py"]\nper-file-ignores = { "tests/*" = ["MRG1"] }\n'
    )
    pc = discover(tmp_path)
    assert pc.excluded(tmp_path / "gen" / "a.py") and pc.excluded(tmp_path / "x_pb2.py")
    assert not pc.excluded(tmp_path / "src" / "a.py")
    assert pc.per_file_ignored(tmp_path / "tests" / "t.py", "MRG101")
    assert not pc.per_file_ignored(tmp_path / "tests" / "t.py", "MRG301")
    assert not pc.per_file_ignored(tmp_path / "src" / "t.py", "MRG101")


def test_flake8_plugin_reads_select_mrg_config_and_warns_about_unknown_mrg_codes(tmp_path):
    pytest.importorskip("flake8")
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nselect = ["MRG"]\nmodule-bases = ["mylib.Base"]\n')
    (tmp_path / "m.py").write_text(
        "import torch\nfrom mylib import Base\n\n\nclass Net(Base):\n    def __init__(self):\n"
        "        super().__init__()\n        self.w = torch.zeros(3)\n\n"
        "    def forward(self, x):\n        return x + self.w\n"
    )
    (tmp_path / "setup.cfg").write_text("[flake8]\nextend-select = MRG999\nper-file-ignores = m.py: MRG77\n")
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "MRG", "m.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert "m.py:8:9: MRG201" in proc.stdout  # module-bases from [tool.modreg] is honoured (not dropped)
    assert "'MRG999' is not a modreg rule" in proc.stderr
    assert "--per-file-ignores: 'MRG77'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cache_lands_in_the_current_directory_without_a_config(tmp_path, monkeypatch):
    monkeypatch.delenv("MODREG_CACHE_DIR", raising=False)
    checked = tmp_path / "checked"
    checked.mkdir()
    (checked / "m.py").write_text(BUGGY)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    run(["check", str(checked)], cwd, monkeypatch)
    assert (cwd / ".modreg_cache").is_dir() and not (checked / ".modreg_cache").exists()
