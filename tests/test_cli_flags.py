"""The ruff/flake8 flags of ``modreg check``, through ``main()``: --show-source, --color/NO_COLOR, --statistics,
--output-file, --show-files, --fix-only, --unsafe-fixes on its own."""

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
        self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]
        self.scale = torch.ones(1)

    def construct(self, x):
        return x * self.scale
"""


class Tty(io.StringIO):
    def isatty(self):
        return True


def run(argv, cwd, monkeypatch, out=None):
    monkeypatch.chdir(cwd)
    out = out if out is not None else io.StringIO()
    err = io.StringIO()
    code = main(["check", "--no-cache", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "m.py").write_text(BUGGY)
    return tmp_path


def test_show_source_prints_the_line_and_carets_under_the_node(tree, monkeypatch):
    code, out, _ = run(["--show-source", "--select", "MRG301", "m.py"], tree, monkeypatch)
    assert code == 1
    assert out.splitlines()[:6] == [
        "m.py:11:9: MRG301 torch Module 'Net' defines MindSpore's 'construct' but no 'forward': rename 'construct' to 'forward' (calling the module raises NotImplementedError)",
        "   |",
        "10 | ",
        "11 |     def construct(self, x):",
        "   |         ^^^^^^^^^ MRG301",
        "   |",
    ]


def test_colour_on_a_tty_unless_no_color_or_never(tree, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert "\x1b[" in run(["m.py"], tree, monkeypatch, Tty())[1]
    assert "\x1b[" not in run(["m.py"], tree, monkeypatch)[1]  # not a terminal
    assert "\x1b[" not in run(["--color", "never", "m.py"], tree, monkeypatch, Tty())[1]
    assert "\x1b[" in run(["--color", "always", "m.py"], tree, monkeypatch)[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run(["m.py"], tree, monkeypatch, Tty())[1]


def test_statistics_counts_per_rule(tree, monkeypatch):
    (tree / "n.py").write_text(BUGGY)
    code, out, _ = run(["--statistics", "."], tree, monkeypatch)
    assert code == 1
    assert out.splitlines() == [
        "    2\tMRG101\t    layers-in-plain-list",
        "    2\tMRG201\t    tensor-as-plain-attribute",
        "    2\tMRG301\t[*] torch-module-defines-construct",
    ]


def test_output_file_gets_the_findings_and_stdout_the_summary(tree, monkeypatch):
    code, out, _ = run(["--format", "json", "--output-file", "report.json", "m.py"], tree, monkeypatch)
    assert code == 1 and out == ""
    import json

    assert len(json.loads((tree / "report.json").read_text())["findings"]) == 3
    code, out, _ = run(["-o", "report.txt", "m.py"], tree, monkeypatch)
    assert out.startswith("Found 3 problems") and (tree / "report.txt").read_text().count("m.py:") == 3
    code, _, err = run(["-o", str(tree / "nope" / "x.txt"), "m.py"], tree, monkeypatch)
    assert code == 2 and err.startswith("modreg: error: --output-file")


def test_show_files_lists_what_would_be_checked(tree, monkeypatch):
    (tree / "sub").mkdir()
    (tree / "sub" / "a.py").write_text("x = 1\n")
    (tree / "sub" / "skip.py").write_text("x = 1\n")
    code, out, _ = run(["--show-files", "--exclude", "skip.py", "."], tree, monkeypatch)
    assert code == 0 and out.split() == ["m.py", "sub/a.py"]


def test_fix_only_fixes_and_reports_nothing(tree, monkeypatch):
    code, out, err = run(["--fix-only", "m.py"], tree, monkeypatch)
    assert code == 0 and out == "Fixed 1 problem.\n" and err == ""
    assert "def forward" in (tree / "m.py").read_text()


def test_unsafe_fixes_alone_marks_the_findings_that_have_one(tree, monkeypatch):
    code, out, _ = run(["--unsafe-fixes", "m.py"], tree, monkeypatch)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("m.py:8:9: MRG101") and lines[0].endswith(" [unsafe fix available]")
    assert not lines[2].endswith("]")  # MRG301's fix is safe
    assert (tree / "m.py").read_text() == BUGGY  # nothing written


def test_rule_by_code_or_name_prints_its_sections_without_the_test_examples():
    out = io.StringIO()
    assert main(["rule", "layers-in-plain-list"], stdout=out) == 0
    text = out.getvalue()
    assert text.startswith("# layers-in-plain-list (MRG101)\n")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert section in text
    assert "Examples checked by the test suite" not in text.split("\n")[0] and "Not reported —" not in text
    by_code = io.StringIO()
    assert main(["rule", "mrg101"], stdout=by_code) == 0 and by_code.getvalue() == text
    err = io.StringIO()
    assert main(["rule", "no-such-rule"], stdout=io.StringIO(), stderr=err) == 2 and err.getvalue().count("\n") == 1


def test_rule_is_paged_on_a_terminal(monkeypatch):
    import pydoc
    import sys

    paged = []
    monkeypatch.setattr(pydoc, "pager", paged.append)
    tty = Tty()
    monkeypatch.setattr(sys, "stdout", tty)
    assert main(["rule", "MRG301"]) == 0
    assert paged and paged[0].startswith("# torch-module-defines-construct (MRG301)") and tty.getvalue() == ""


def test_rules_as_json():
    import json

    out = io.StringIO()
    assert main(["rules", "--format", "json"], stdout=out) == 0
    rules = {r["code"]: r for r in json.loads(out.getvalue())}
    assert rules["MRG301"]["name"] == "torch-module-defines-construct" and rules["MRG301"]["fix"] == "safe"
    assert rules["MRG301"]["severity"] == "error" and rules["MRG101"]["severity"] == "warning"
    assert "## What it does" in rules["MRG101"]["explanation"]


def test_watch_rechecks_when_a_file_changes(tmp_path):
    import os
    import subprocess
    import sys
    import time

    (tmp_path / "m.py").write_text("import torch\n")
    env = dict(os.environ, MODREG_WATCH_INTERVAL="0.1", NO_COLOR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "--watch", "."],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = []

        def wait_for(needle):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                lines.append(line)
                if needle in line:
                    return
            raise AssertionError(f"no {needle!r} in {lines}")

        wait_for("watching for changes")
        assert "All checks passed." in "".join(lines)
        time.sleep(0.3)
        (tmp_path / "m.py").write_text(BUGGY)
        wait_for("File change detected")
        wait_for("watching for changes")
        assert "m.py:11:9: MRG301" in "".join(lines)
    finally:
        proc.kill()
        proc.wait(timeout=30)
