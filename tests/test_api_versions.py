"""Per-release API tables (``flake8_modreg/_api_versions.py``) and the ``torch-version`` / ``mindspore-version``
settings, in every surface: the CLI, ``[tool.modreg]``, the flake8 plugin (the language server's side is in
tests/test_lsp.py, the MindSpore 2.10 table against a real Cell in tests/test_mindspore_api_versions.py)."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import pytest

from flake8_modreg import _api_versions, known
from flake8_modreg.cli import main
from flake8_modreg.config import ConfigError, load
from flake8_modreg.core import check
from flake8_modreg.settings import Config, check_version

CELL = textwrap.dedent(
    """\
    import mindspore
    from mindspore import nn


    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(2, 2)

        def construct(self, x):
            return self.fc(x)


    net = Net()
    net.to(mindspore.float16)
    net.register_buffer("b", mindspore.Tensor([1.0]))
    net.parameters()
    """
)

MODULE = textwrap.dedent(
    """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x)


    net = Net()
    net.compile()
    net.get_parameters()
    """
)

TO = "MRG501 torch-only method '.to()' on MindSpore {v} Cell 'Net'"
REGISTER_BUFFER = "MRG501 torch-only method '.register_buffer()' on MindSpore {v} Cell 'Net'"
PARAMETERS = "MRG501 torch-only method '.parameters()' on MindSpore {v} Cell 'Net'"
COMPILE = "MRG502 MindSpore-only method '.compile()' on torch {v} Module 'Net'"
GET_PARAMETERS = "MRG502 MindSpore-only method '.get_parameters()' on torch {v} Module 'Net'"


def findings(source: str, **kw) -> list[tuple[int, int, str]]:
    return [(f.line, f.col, f"{f.code} {f.message}") for f in check(source, config=Config(**kw))]


# -- the tables ---------------------------------------------------------------------------------


def test_tables_cover_the_releases_and_the_defaults_are_the_newest():
    assert list(_api_versions.TORCH_MODULE) == [f"2.{i}" for i in range(14)]
    assert list(_api_versions.MINDSPORE_CELL) == ["2.0", "2.7", "2.8", "2.9", "2.10"]  # what PyPI holds
    assert (known.NEWEST_TORCH, known.NEWEST_MINDSPORE) == ("2.13", "2.10")
    assert known.TORCH_ONLY_MODULE_METHODS == known.torch_only_methods("2.10")[1]
    assert known.MINDSPORE_ONLY_CELL_METHODS == known.mindspore_only_methods("2.13")[1]
    assert set(_api_versions.WHEELS) == {f"torch {v}" for v in _api_versions.TORCH_MODULE} | {
        f"mindspore {v}" for v in _api_versions.MINDSPORE_CELL
    }


def test_every_candidate_is_the_other_frameworks_real_method():
    """A torch-style name is a method of torch's newest Module, a MindSpore-style one of MindSpore's newest Cell."""
    assert set(known.TORCH_STYLE_METHODS) <= set(_api_versions.TORCH_MODULE[known.NEWEST_TORCH])
    assert set(known.MINDSPORE_STYLE_METHODS) <= set(_api_versions.MINDSPORE_CELL[known.NEWEST_MINDSPORE])


def test_releases_differ_where_the_wheels_say_so():
    assert "to" not in known.torch_only_methods("2.10")[1] and "to" in known.torch_only_methods("2.9")[1]
    old = known.torch_only_methods("2.0")[1]
    assert {"register_buffer", "buffers", "state_dict", "load_state_dict"} <= set(old)
    assert "apply" not in old  # Cell.apply exists since 2.0
    assert "compile" in known.mindspore_only_methods("2.0")[1] and "compile" not in known.mindspore_only_methods("2.1")[1]


@pytest.mark.torch
def test_torch_2_13_table_is_the_installed_torch(torch):
    assert torch.__version__.startswith("2.13.")
    public = {n for n in vars(torch.nn.Module) if not n.startswith("_")}
    assert set(_api_versions.TORCH_MODULE["2.13"]) == public
    for name in known.MINDSPORE_ONLY_CELL_METHODS:
        assert not hasattr(torch.nn.Module, name)


# -- what the rules report for a release ----------------------------------------------------------


def test_default_is_the_newest_table():
    assert findings(CELL) == [(17, 0, PARAMETERS.format(v="2.10"))]
    assert findings(MODULE) == [(15, 0, GET_PARAMETERS.format(v="2.13"))]


def test_older_releases_lack_more_methods():
    assert findings(CELL, mindspore_version="2.9") == [(15, 0, TO.format(v="2.9")), (17, 0, PARAMETERS.format(v="2.9"))]
    assert findings(CELL, mindspore_version="2.0") == [
        (15, 0, TO.format(v="2.0")),
        (16, 0, REGISTER_BUFFER.format(v="2.0")),
        (17, 0, PARAMETERS.format(v="2.0")),
    ]
    assert findings(MODULE, torch_version="2.0") == [(14, 0, COMPILE.format(v="2.0")), (15, 0, GET_PARAMETERS.format(v="2.0"))]
    assert findings(MODULE, torch_version="2.1") == [(15, 0, GET_PARAMETERS.format(v="2.1"))]


# -- validation --------------------------------------------------------------------------------

KNOWN_TORCH = "2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7, 2.8, 2.9, 2.10, 2.11, 2.12, 2.13"


@pytest.mark.parametrize(
    "value,setting,expected",
    [("2.10", "mindspore-version", "2.10"), ("2.10.0", "mindspore-version", "2.10"), (" 2.0.0 ", "mindspore-version", "2.0"),
     ("2.13.0+cpu", "torch-version", "2.13"), ("2.1", "torch-version", "2.1"), ("2.12.1", "torch-version", "2.12"),
     # MindSpore 2.1 -- 2.6 are not on PyPI: the nearest newer table judges them
     ("2.1", "mindspore-version", "2.7"), ("2.5.0", "mindspore-version", "2.7"), ("2.6", "mindspore-version", "2.7")],
)  # fmt: skip
def test_versions_are_normalised_to_the_minor_release(value, setting, expected):
    assert check_version(value, "x", setting) == expected


@pytest.mark.parametrize(
    "value,setting,message",
    [
        ("2.11", "mindspore-version", "w: no API table for MindSpore 2.11 (known: 2.0, 2.7, 2.8, 2.9, 2.10)"),
        ("1.10", "mindspore-version", "w: no API table for MindSpore 1.10 (known: 2.0, 2.7, 2.8, 2.9, 2.10)"),
        ("1.13", "torch-version", f"w: no API table for torch 1.13 (known: {KNOWN_TORCH})"),
        ("abc", "torch-version", f"w: 'abc' is not a version (expected major.minor, one of {KNOWN_TORCH})"),
        ("", "mindspore-version", "w: '' is not a version (expected major.minor, one of 2.0, 2.7, 2.8, 2.9, 2.10)"),
        (2.1, "torch-version", 'w: must be a string such as "2.13" (a number like 2.10 reads as 2.1)'),
    ],
)
def test_bad_versions_are_one_exact_error(value, setting, message):
    with pytest.raises(ConfigError) as e:
        check_version(value, "w", setting)
    assert str(e.value) == message


def run_cli(argv, cwd, monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.chdir(cwd)
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_options(tmp_path, monkeypatch):
    (tmp_path / "ms_net.py").write_text(CELL)
    (tmp_path / "pt_net.py").write_text(MODULE)
    argv = ["check", "--no-cache", "--mindspore-version", "2.0.0", "--torch-version=2.0", "ms_net.py", "pt_net.py"]
    code, out, err = run_cli(argv, tmp_path, monkeypatch)
    assert code == 1 and err == ""
    got = [line.split(": ", 1)[0] + ": " + line.split(": ", 2)[1] for line in out.splitlines() if "MRG5" in line]
    assert got == [
        "ms_net.py:15:1: " + TO.format(v="2.0"),
        "ms_net.py:16:1: " + REGISTER_BUFFER.format(v="2.0"),
        "ms_net.py:17:1: " + PARAMETERS.format(v="2.0"),
        "pt_net.py:14:1: " + COMPILE.format(v="2.0"),
        "pt_net.py:15:1: " + GET_PARAMETERS.format(v="2.0"),
    ]


@pytest.mark.parametrize(
    "flag,value,message",
    [
        ("--mindspore-version", "2.99", "--mindspore-version: no API table for MindSpore 2.99 (known: 2.0, 2.7, 2.8, 2.9, 2.10)"),
        ("--torch-version", "abc", f"--torch-version: 'abc' is not a version (expected major.minor, one of {KNOWN_TORCH})"),
    ],
)
def test_cli_rejects_a_bad_version_with_exit_2_and_one_line(tmp_path, monkeypatch, flag, value, message):
    (tmp_path / "m.py").write_text(MODULE)
    code, out, err = run_cli(["check", "--no-cache", flag, value, "m.py"], tmp_path, monkeypatch)
    assert (code, out, err) == (2, "", f"modreg: error: {message}\n")


def test_pyproject_settings_are_used_and_the_cli_wins(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\ntorch-version = "2.0"\nmindspore-version = "2.9.0"\n')
    pc = load(tmp_path / "pyproject.toml")
    assert (pc.torch_version, pc.mindspore_version) == ("2.0", "2.9")
    assert (pc.config().torch_version, pc.config(torch_version="2.5").torch_version) == ("2.0", "2.5")
    (tmp_path / "pt_net.py").write_text(MODULE)
    code, out, _ = run_cli(["check", "--no-cache", "pt_net.py"], tmp_path, monkeypatch)
    assert "pt_net.py:14:1: " + COMPILE.format(v="2.0") in out
    code, out, _ = run_cli(["check", "--no-cache", "--torch-version", "2.13", "pt_net.py"], tmp_path, monkeypatch)
    assert "MRG502" in out and "compile" not in out and "torch 2.13" in out


@pytest.mark.parametrize(
    "toml,message",
    [
        ("mindspore-version = 2.10\n", '[tool.modreg] mindspore-version: must be a string such as "2.10" (a number like 2.10 reads as 2.1)'),
        ('torch-version = "3.0"\n', f"[tool.modreg] torch-version: no API table for torch 3.0 (known: {KNOWN_TORCH})"),
    ],
)  # fmt: skip
def test_bad_pyproject_version_is_one_clear_error(tmp_path, monkeypatch, toml, message):
    (tmp_path / "pyproject.toml").write_text("[tool.modreg]\n" + toml)
    (tmp_path / "m.py").write_text(MODULE)
    code, out, err = run_cli(["check", "--no-cache", "m.py"], tmp_path, monkeypatch)
    assert (code, out) == (2, "")
    assert err == f"modreg: error: {tmp_path / 'pyproject.toml'}: {message}\n"


def test_flake8_plugin_reads_the_versions_and_warns_about_a_bad_one(tmp_path):
    pytest.importorskip("flake8")
    (tmp_path / "pt_net.py").write_text(MODULE)
    (tmp_path / "ms_net.py").write_text(CELL)
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\ntorch-version = "2.0"\n')

    def flake8(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "flake8", "--select", "MRG5", *args, "pt_net.py", "ms_net.py"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    proc = flake8()  # [tool.modreg] torch-version, the newest MindSpore
    assert "pt_net.py:14:1: " + COMPILE.format(v="2.0") in proc.stdout
    assert "ms_net.py:15:1" not in proc.stdout and PARAMETERS.format(v="2.10") in proc.stdout
    proc = flake8("--modreg-torch-version", "2.13", "--modreg-mindspore-version", "2.9")  # flake8's own options win
    assert "compile" not in proc.stdout and "ms_net.py:15:1: " + TO.format(v="2.9") in proc.stdout
    (tmp_path / "setup.cfg").write_text("[flake8]\nmodreg-mindspore-version = 2.11\n")
    proc = flake8()
    assert (
        "flake8-modreg: --modreg-mindspore-version: no API table for MindSpore 2.11 (known: 2.0, 2.7, 2.8, 2.9, 2.10); "
        "using the newest table" in proc.stderr
    )
    assert PARAMETERS.format(v="2.10") in proc.stdout


NN_NEW = textwrap.dedent(
    """\
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.RMSNorm(4)
            self.ln = nn.LayerNorm(4)
            self.pad = nn.ZeroPad2d(1)
    """
)


@pytest.mark.parametrize("module", sorted(_api_versions.TORCH_NAMESPACES))
def test_namespace_tables_of_the_installed_release_match_the_modules_themselves(module):
    """The static read of the sources (torch/nn/__init__.py with modules' __all__; functional.py, ...) is dir()."""
    import importlib

    torch = pytest.importorskip("torch")
    release = ".".join(torch.__version__.split(".")[:2])
    public = {n for n in dir(importlib.import_module(module)) if not n.startswith("_")}
    table = set(_api_versions.TORCH_NAMESPACES[module][release])
    # extras: sub-packages torch.nn does not import, and imports under `if`/`try` (numpy when absent)
    assert public - table <= {"np"} and len(table - public) <= 3, sorted(table ^ public)


def test_mrg404_reports_a_torch_nn_name_of_a_later_release_with_the_chosen_one():
    tables = _api_versions.TORCH_NAMESPACES["torch.nn"]
    assert "RMSNorm" not in tables["2.3"] and "RMSNorm" in tables["2.4"]
    got = [(f.line, f.col, f.code, f.message) for f in check(NN_NEW, config=Config(torch_version="2.3")) if f.code == "MRG404"]
    assert got == [(6, 20, "MRG404", "'RMSNorm' does not exist in torch.nn (torch 2.3)")]
    hint = [f.fix_hint for f in check(NN_NEW, config=Config(torch_version="2.3")) if f.code == "MRG404"]
    assert hint == ["added in torch 2.4 (AttributeError at run time)"]
    assert [f for f in check(NN_NEW, config=Config(torch_version="2.4")) if f.code == "MRG404"] == []
    assert [f for f in check(NN_NEW) if f.code == "MRG404"] == []  # the installed (newest) release has it


def test_mrg404_follows_the_release_for_torch_nn_functional_too():
    src = "import torch.nn.functional as F\n\ndef f(x):\n    return F.rms_norm(x, (4,))\n"
    tables = _api_versions.TORCH_NAMESPACES["torch.nn.functional"]
    first = min((v for v in tables if "rms_norm" in tables[v]), key=lambda v: tuple(map(int, v.split("."))))
    older = [v for v in tables if tuple(map(int, v.split("."))) < tuple(map(int, first.split(".")))][-1]
    got = [(f.line, f.col, f.message, f.fix_hint) for f in check(src, config=Config(torch_version=older)) if f.code == "MRG404"]
    assert got == [(4, 11, f"'rms_norm' does not exist in torch.nn.functional (torch {older})",
                    f"added in torch {first} (AttributeError at run time)")]
    assert [f for f in check(src, config=Config(torch_version=first)) if f.code == "MRG404"] == []


# -- MRG404 and mindspore-version ---------------------------------------------------------------

MS_NN = textwrap.dedent(
    """\
    from mindspore import nn
    from mindspore.nn import CellDict


    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.dense = nn.Dense(2, 2)
            self.resize = nn.ResizeBilinear()
            self.act = nn.Relu()

        def construct(self, x):
            return self.act(self.dense(x))
    """
)


def mrg404(source: str, **kw) -> list[tuple[int, int, str, str]]:
    return [(f.line, f.col, f.message, f.fix_hint) for f in check(source, config=Config(**kw)) if f.code == "MRG404"]


def test_mindspore_nn_tables_cover_the_releases_of_the_cell_tables():
    tables = _api_versions.MINDSPORE_NAMESPACES["mindspore.nn"]
    assert list(tables) == list(_api_versions.MINDSPORE_CELL)
    assert "Linear" not in tables["2.0"] and all("Linear" in tables[v] for v in ("2.7", "2.8", "2.9", "2.10"))
    assert "ResizeBilinear" in tables["2.0"] and "ResizeBilinear" not in tables["2.10"]  # removed after 2.0
    assert set(tables["2.10"]) == known.ATTR_NAMES["mindspore.nn"]  # what gen_known read from MindSpore 2.10


def test_mrg404_reports_a_mindspore_nn_name_of_a_later_release_with_the_chosen_one():
    typo = (11, 19, "'Relu' does not exist in mindspore.nn ({v})", "did you mean 'ReLU'? (AttributeError at run time)")
    # 2.0: nn.Linear and nn.CellDict came later (2.1 -- 2.6 have no table, so the hint gives the span);
    # nn.ResizeBilinear is real in 2.0 (removed later) and stays silent
    assert mrg404(MS_NN, mindspore_version="2.0") == [
        (2, 25, "'CellDict' does not exist in mindspore.nn (MindSpore 2.0)", "added in MindSpore 2.1-2.7 (ImportError at run time)"),
        (8, 18, "'Linear' does not exist in mindspore.nn (MindSpore 2.0)", "added in MindSpore 2.1-2.7 (AttributeError at run time)"),
        (typo[0], typo[1], typo[2].format(v="MindSpore 2.0"), typo[3]),
    ]  # fmt: skip
    for v in ("2.7", "2.9"):
        assert mrg404(MS_NN, mindspore_version=v) == [(typo[0], typo[1], typo[2].format(v=f"MindSpore {v}"), typo[3])]
    newest = mrg404(MS_NN, mindspore_version="2.10")
    assert newest == mrg404(MS_NN) == [(typo[0], typo[1], typo[2].format(v=known.ATTR_VERSIONS["mindspore.nn"]), typo[3])]


def test_mindspore_releases_without_a_table_are_judged_by_the_nearest_newer_one(tmp_path, monkeypatch):
    """MindSpore 2.1 -- 2.6 (not on PyPI) use the 2.7 table in every surface: nn.Linear (in 2.7) is not reported,
    and MRG501's message names the table judged."""
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nmindspore-version = "2.3"\n')
    (tmp_path / "ms_nn.py").write_text(MS_NN)
    (tmp_path / "ms_net.py").write_text(CELL)
    code, out, err = run_cli(["check", "--no-cache", "ms_nn.py", "ms_net.py"], tmp_path, monkeypatch)
    assert code == 1 and err == ""
    assert "'Linear'" not in out and "'CellDict'" not in out
    assert "ms_nn.py:11:20: MRG404 'Relu' does not exist in mindspore.nn (MindSpore 2.7)" in out
    assert "ms_net.py:15:1: " + TO.format(v="2.7") in out
    code, out, _ = run_cli(["check", "--no-cache", "--mindspore-version", "2.0", "ms_nn.py"], tmp_path, monkeypatch)
    assert "ms_nn.py:8:19: MRG404 'Linear' does not exist in mindspore.nn (MindSpore 2.0)" in out
    assert "added in MindSpore 2.1-2.7" in out


def test_added_in_names_one_release_when_the_tables_are_consecutive():
    assert known.added_in("torch.nn", "RMSNorm", "2.0") == "2.4"  # 2.1 -- 2.3 lack it, 2.4 has it
    assert known.added_in("mindspore.nn", "Linear", "2.0") == "2.1-2.7"
    assert known.added_in("mindspore.nn", "ResizeBilinear", "2.7") is None  # no later table has it


def _gen_api_versions():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parent.parent / "scripts" / "gen_api_versions.py"
    spec = importlib.util.spec_from_file_location("gen_api_versions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_static_package_reads_star_imports_as_python_binds_them(tmp_path):
    """The generator's static reader on a small wheel shaped like mindspore/nn, checked against a real import
    of the same files: star-imports through ``__all__`` (literal, ``+``, ``.extend(x.__all__)``, ``.append``),
    through public names when there is no ``__all__``, relative imports, and sub-modules."""
    import importlib
    import zipfile

    files = {
        "fakepkg/__init__.py": "",
        "fakepkg/nn/__init__.py": (
            "from __future__ import annotations\n__all__ = ['Cell']\n"
            "from fakepkg.nn import layer, loss\nfrom fakepkg.nn.cell import Cell\nfrom fakepkg.nn.layer import *\n"
            "from .loss import *\nfrom .plain import *\n__all__.extend(layer.__all__)\n__all__ += loss.__all__\n"
            "__all__.sort()\n"
        ),
        "fakepkg/nn/cell.py": "class Cell:\n    pass\nclass _Hidden:\n    pass\n",
        "fakepkg/nn/layer/__init__.py": "from .basic import *\nfrom . import basic\n__all__ = [] + basic.__all__\n__all__.append('Extra')\nExtra = 1\n",
        "fakepkg/nn/layer/basic.py": "__all__ = ['Dense', 'ReLU']\nclass Dense: pass\nclass ReLU: pass\nclass NotExported: pass\n",
        "fakepkg/nn/loss.py": "__all__ = ('MSELoss',)\nclass MSELoss: pass\ntry:\n    import json as _json\nexcept ImportError:\n    pass\n",
        "fakepkg/nn/plain.py": "import os\nfor name in ('a',):\n    pass\ndef helper(): pass\n_private = 1\n",
        "fakepkg/nn/unimported.py": "X = 1\n",
    }
    wheel = tmp_path / "fakepkg.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text)
    with zipfile.ZipFile(wheel) as z:
        got = _gen_api_versions().StaticPackage(z).public("fakepkg.nn")
    import pkgutil
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        nn = importlib.import_module("fakepkg.nn")
        real = {n for n in dir(nn) if not n.startswith("_")}
        real |= {m.name for m in pkgutil.iter_modules(nn.__path__)}
    finally:
        sys.path.remove(str(tmp_path))
        for m in [m for m in sys.modules if m == "fakepkg" or m.startswith("fakepkg.")]:
            del sys.modules[m]
    assert set(got) == real
    assert {"Cell", "Dense", "ReLU", "Extra", "MSELoss", "os", "name", "helper", "unimported", "annotations"} <= set(got)
    assert "NotExported" not in got and "_private" not in got
