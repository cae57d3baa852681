"""The flake8 route, tested through real flake8 processes (not only the class)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from flake8_modreg import Config, check

BUGGY = textwrap.dedent(
    """\
    import torch
    import torch.nn as nn

    layer_list = [nn.Conv2d(5, 5, 3), nn.BatchNorm2d(5), nn.Linear(5, 2)]


    class MyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = layer_list
            self.my_tensor = torch.randn(1)

        def construct(self, x):
            return x
    """
)


def flake8(*args, stdin=None, cwd=None):
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def parse(out):
    """'path:line:col: CODE text' -> [(line, col, code)]"""
    rows = []
    for line in out.splitlines():
        _, ln, col, rest = line.split(":", 3)
        rows.append((int(ln), int(col), rest.split()[0]))
    return rows


def test_file_and_stdin_report_the_same(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(BUGGY, encoding="utf-8")
    from_file = flake8("--select", "MRG", str(path))
    from_stdin = flake8("--select", "MRG", "--stdin-display-name", "net.py", "-", stdin=BUGGY)
    assert from_file.returncode == 1
    assert parse(from_file.stdout) == parse(from_stdin.stdout) == [(10, 9, "MRG101"), (11, 9, "MRG201"), (13, 9, "MRG301")]
    assert from_stdin.stdout.startswith("net.py:10:9: MRG101 ")


def test_columns_are_flake8_core_column_plus_one():
    """flake8 adds 1 to the 0-based column we give it (TorchFix adds 1 itself and is off by one)."""
    core = [(f.line, f.col + 1, f.code) for f in check(BUGGY)]
    assert parse(flake8("--select", "MRG", "-", stdin=BUGGY).stdout) == core


def test_message_carries_code_problem_and_hint():
    out = flake8("--select", "MRG", "-", stdin=BUGGY).stdout.splitlines()[0]
    assert out.endswith(
        "MRG101 sub-modules in plain list 'self.layers' are not registered: wrap it in nn.ModuleList(...)"
    )


def test_noqa_is_honoured_and_disable_noqa_brings_it_back():
    src = BUGGY.replace("self.layers = layer_list", "self.layers = layer_list  # noqa: MRG101")
    assert (10, 9, "MRG101") not in parse(flake8("--select", "MRG", "-", stdin=src).stdout)
    other = BUGGY.replace("self.layers = layer_list", "self.layers = layer_list  # noqa: E501")
    assert (10, 9, "MRG101") in parse(flake8("--select", "MRG", "-", stdin=other).stdout)
    back = flake8("--select", "MRG", "--disable-noqa", "-", stdin=src)
    assert (10, 9, "MRG101") in parse(back.stdout)


def test_non_ascii_line_gives_code_point_column():
    src = BUGGY.replace("        self.layers = layer_list", "        名字 = 1; self.layers = layer_list")
    assert src != BUGGY
    rows = parse(flake8("--select", "MRG", "-", stdin=src).stdout)
    # `名字 = 1; ` is 8 code points (but 12 UTF-8 bytes): the statement starts at column 8 + 8 + 1
    assert (10, 17, "MRG101") in rows


def test_ignore_and_extend_ignore_work_through_flake8():
    rows = parse(flake8("--select", "MRG", "--extend-ignore", "MRG2", "-", stdin=BUGGY).stdout)
    assert [r[2] for r in rows] == ["MRG101", "MRG301"]


DROPOUT = textwrap.dedent(
    """\
    import torch.nn as nn
    import torch.nn.functional as F


    class Head(nn.Module):
        def forward(self, x):
            return F.dropout(x, 0.1)  # noqa: MRG101
    """
)


@pytest.mark.parametrize(
    "args,codes",
    [
        (("--select", "MRG"), []),  # the README's command: flake8 alone would let it switch MRG9xx on
        ((), []),
        (("--extend-select", "MRG901"), ["MRG901"]),
        (("--select", "MRG9"), ["MRG901"]),  # MRG101 is not selected: its noqa code is not judged
        (("--select", "MRG", "--extend-select", "MRG902"), ["MRG902"]),
    ],
)
def test_off_by_default_rules_need_a_selection_that_names_them_as_in_the_cli(tmp_path, args, codes):
    (tmp_path / "head.py").write_text(DROPOUT, encoding="utf-8")
    got = [r[2] for r in parse(flake8(*args, "head.py", cwd=tmp_path).stdout) if r[2].startswith("MRG")]
    assert got == codes
    cli = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--isolated", "--no-cache", "--output-format", "json", *args,
         "head.py"], cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert [f["code"] for f in json.loads(cli.stdout)["findings"]] == codes  # the CLI agrees


def test_syntax_error_gives_e999_and_no_traceback():
    proc = flake8("-", stdin="import torch\nclass A(torch.nn.Module:\n    pass\n")
    assert "E999" in proc.stdout
    assert "MRG" not in proc.stdout


def test_deep_nesting_does_not_abort_the_run():
    src = "import torch\nx = " + "(" * 150 + "1" + ")" * 150 + "\n"
    proc = flake8("--select", "MRG,E999", "-", stdin=src)
    assert proc.returncode in (0, 1)


def test_module_bases_option_from_config_file(tmp_path):
    src = textwrap.dedent(
        """\
        import torch
        from mylib.base import BaseModel


        class Net(BaseModel):
            def __init__(self):
                super().__init__()
                self.scale = torch.ones(3)

            def forward(self, x):
                return x * self.scale
        """
    )
    (tmp_path / "net.py").write_text(src, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "MRG", "net.py"], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.stdout == ""  # an unknown imported base with no evidence: skipped
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nmodule-bases = ["mylib.base.BaseModel"]\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "MRG", "net.py"], capture_output=True, text=True, cwd=tmp_path
    )
    assert parse(proc.stdout) == [(8, 9, "MRG201")]  # flake8 has no own setting: [tool.modreg] counts
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "setup.cfg").write_text("[flake8]\nmodreg-module-bases = mylib.base.BaseModel\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "MRG", "net.py"], capture_output=True, text=True, cwd=tmp_path
    )
    assert parse(proc.stdout) == [(8, 9, "MRG201")]


def test_plugin_does_no_work_when_no_mrg_code_is_selected(monkeypatch):
    """`flake8 --select E,W,F` must not pay for our parse."""
    import argparse

    from flake8_modreg import core
    from flake8_modreg import plugin as plugin_mod
    from flake8.main.application import Application

    calls = []
    monkeypatch.setattr(core, "check", lambda *a, **k: calls.append(a) or [])

    def options_for(argv):
        app = Application()
        app.initialize(argv)
        return app.options

    plugin_mod.Plugin.parse_options(options_for(["--select", "E,W,F", "-"]))
    assert list(plugin_mod.Plugin(None, BUGGY.splitlines(True), "x.py").run()) == []
    assert calls == []

    plugin_mod.Plugin.parse_options(options_for(["--select", "MRG1", "-"]))
    assert plugin_mod.Plugin._config.select == ("MRG101", "MRG102", "MRG103")
    list(plugin_mod.Plugin(None, BUGGY.splitlines(True), "x.py").run())
    assert len(calls) == 1
    assert isinstance(plugin_mod.Plugin._config, Config)
    assert argparse  # imported for the options namespace type


RUN_FLAKE8_AND_LIST_MODULES = """
import atexit, json, runpy, sys
atexit.register(lambda: sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = ["flake8", *sys.argv[1:]]
runpy.run_module("flake8", run_name="__main__", alter_sys=True)
"""


def imported_modules(*flake8_args, cwd):
    """The modules a real ``flake8 -j1`` run has imported when it exits, and its output."""
    proc = subprocess.run(
        [sys.executable, "-c", RUN_FLAKE8_AND_LIST_MODULES, "--isolated", "-j1", "--exit-zero", *flake8_args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return set(json.loads(proc.stderr.rsplit("MODULES ", 1)[1])), proc.stdout


def test_installed_but_unselected_plugin_imports_nothing_heavy(tmp_path):
    """flake8 imports every installed plugin before it reads --select: ours must cost (almost) nothing then."""
    (tmp_path / "net.py").write_text(BUGGY, encoding="utf-8")
    modules, out = imported_modules("--select", "E,W,F", "net.py", cwd=tmp_path)
    assert "flake8_modreg.plugin" in modules  # flake8 did load the plugin
    checker = ("flake8_modreg.core", "flake8_modreg.model", "flake8_modreg.rules", "flake8_modreg.fixer")
    assert sorted(m for m in modules if m.split(".")[0] == "libcst" or m.startswith(checker)) == []
    assert "MRG" not in out
    # the same process with an MRG code selected does import them (the check above can fail)
    modules, out = imported_modules("--select", "E,W,F,MRG", "net.py", cwd=tmp_path)
    assert {"libcst", "flake8_modreg.core", "flake8_modreg.model"} <= modules
    assert "MRG101" in out


def test_plugin_survives_an_internal_error(monkeypatch):
    from flake8_modreg import core
    from flake8_modreg import plugin as plugin_mod

    def boom(*a, **k):
        raise RuntimeError("bug")

    monkeypatch.setattr(core, "check", boom)
    monkeypatch.setattr(plugin_mod.Plugin, "_config", Config(select=("ALL",)))
    assert list(plugin_mod.Plugin(None, BUGGY.splitlines(True), "x.py").run()) == []


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_crlf_and_bom_through_flake8(tmp_path, newline):
    path = tmp_path / "net.py"
    path.write_bytes(b"\xef\xbb\xbf" + BUGGY.replace("\n", newline).encode("utf-8"))
    rows = parse(flake8("--select", "MRG", str(path)).stdout.replace(str(path), "p"))
    assert rows == [(10, 9, "MRG101"), (11, 9, "MRG201"), (13, 9, "MRG301")]


def test_stdin_as_editors_call_it_uses_the_display_name_for_project_config(tmp_path):
    """Editors (vscode-flake8, python-lsp-server, efm) pipe the unsaved buffer to `flake8 -` with
    `--stdin-display-name <path>` from the project root: the project's config applies, and
    per-file-ignores match the display name, not "stdin"."""
    (tmp_path / ".flake8").write_text("[flake8]\nselect = MRG\nper-file-ignores =\n    legacy/*.py: MRG301\n", encoding="utf-8")
    fmt = "--format=%(path)s:%(row)d:%(col)d: %(code)s %(text)s"

    def run(display):
        proc = subprocess.run(
            [sys.executable, "-m", "flake8", fmt, "--stdin-display-name", display, "-"],
            input=BUGGY, capture_output=True, text=True, encoding="utf-8", cwd=tmp_path,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    new = run("models/net.py")
    assert new.returncode == 1
    assert new.stdout.splitlines()[0].startswith("models/net.py:10:9: MRG101 ")
    assert parse(new.stdout) == [(10, 9, "MRG101"), (11, 9, "MRG201"), (13, 9, "MRG301")]
    assert parse(run("legacy/net.py").stdout) == [(10, 9, "MRG101"), (11, 9, "MRG201")]
