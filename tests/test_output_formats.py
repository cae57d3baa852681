"""Output formats and messages of ``modreg check``, through ``main()``: syntax errors located by Python's parser,
GitHub annotations' levels and escaping, JSON fix edits, the summary line for empty and missing paths."""

from __future__ import annotations

import io
import json

import pytest

from flake8_modreg.cli import main
from flake8_modreg.edits import apply_edits
from flake8_modreg.output import gh_data, gh_property

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


def run(argv, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", "--no-cache", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "source,line,col,msg",
    [
        ("import torch\nx = 1\ndef f(:\n    pass\n", 3, 7, "invalid syntax"),
        ("import torch\n\nclass A:\n    def f(self):\n        return (1,\n", 5, 16, "'(' was never closed"),
        ("import torch\nif True:\nx = 1\n", 3, 1, "expected an indented block after 'if' statement on line 2"),
    ],
)
def test_syntax_errors_are_located_by_pythons_parser(tmp_path, monkeypatch, source, line, col, msg):
    (tmp_path / "bad.py").write_text(source)
    try:
        compile(source, "bad.py", "exec")
    except SyntaxError as e:  # the place Python itself (and flake8's E999) gives
        assert (e.lineno, e.offset) == (line, col)
    code, out, err = run(["bad.py"], tmp_path, monkeypatch)
    assert code == 1
    assert err == f"bad.py:{line}:{col}: error: syntax error: {msg}\n"
    doc = json.loads(run(["--format", "json", "bad.py"], tmp_path, monkeypatch)[1])
    assert doc["errors"] == [{"path": "bad.py", "message": f"syntax error: {msg}", "line": line, "column": col}]
    gh = run(["--format", "github", "bad.py"], tmp_path, monkeypatch)[1]
    assert gh.startswith(f"::error file=bad.py,line={line},col={col},title=modreg::syntax error")


def test_github_levels_follow_the_rule_severity_and_properties_are_escaped(tmp_path, monkeypatch):
    d = tmp_path / "a,b: 100%"
    d.mkdir()
    (d / "m.py").write_text(BUGGY)
    code, out, _ = run(["--format", "github", "."], tmp_path, monkeypatch)
    assert code == 1
    lines = out.splitlines()
    assert [ln.split(" ", 1)[0] for ln in lines] == ["::warning", "::warning", "::error"]
    assert all(ln.startswith("::warning file=a%2Cb%3A 100%25/m.py,line=") or ln.startswith("::error file=a%2Cb%3A 100%25/m.py,") for ln in lines)
    assert gh_data("50%\r\nx") == "50%25%0D%0Ax"
    assert gh_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_json_fixes_carry_edits_that_reproduce_the_fix(tmp_path, monkeypatch):
    (tmp_path / "m.py").write_text(BUGGY)
    doc = json.loads(run(["--format", "json", "m.py"], tmp_path, monkeypatch)[1])
    by_code = {f["code"]: f for f in doc["findings"]}
    assert by_code["MRG201"]["fix"] is None or "edits" in by_code["MRG201"]["fix"]
    edits = by_code["MRG301"]["fix"]["edits"]
    assert apply_edits(BUGGY, edits) == BUGGY.replace("def construct", "def forward")
    unsafe = by_code["MRG101"]["fix"]
    assert unsafe["applicability"] == "unsafe"
    fixed = apply_edits(BUGGY, unsafe["edits"])
    assert "nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])" in fixed
    compile(fixed, "m.py", "exec")
    # a cached run (written by a text run, without edits) still gives them
    monkeypatch.chdir(tmp_path)
    main(["check", "m.py"], stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()
    main(["check", "--format", "json", "m.py"], stdout=out, stderr=io.StringIO())
    assert {f["code"]: f for f in json.loads(out.getvalue())["findings"]}["MRG301"]["fix"]["edits"] == edits


def test_empty_folder_and_missing_path_are_not_all_checks_passed(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    code, out, err = run(["empty"], tmp_path, monkeypatch)
    assert (code, out, err) == (0, "No Python files found under the given path(s).\n", "")
    code, out, err = run(["missing.py"], tmp_path, monkeypatch)
    assert code == 1 and "All checks passed" not in out
    assert out == "No file was checked; 1 path could not be checked.\n"
    assert err == "missing.py: error: no such file or directory\n"
    (tmp_path / "ok.py").write_text("import torch\n")
    code, out, _ = run(["missing.py", "ok.py"], tmp_path, monkeypatch)
    assert code == 1 and out == "No problems in 1 checked file; 1 path could not be checked.\n"


def test_rule_pages_show_the_message_as_one_inline_code_span():
    """A message holding backticks (MRG205, MRG305) must not end the span early (CommonMark: a longer fence)."""
    import re

    from flake8_modreg.docs import render_rule
    from flake8_modreg.rules import all_rules

    for rule in all_rules():
        (line,) = [ln for ln in render_rule(rule).splitlines() if ln.startswith("Message: ")]
        span = line[len("Message: ") :]
        fence = re.match(r"`+", span).group()
        assert span.endswith(fence), rule.code
        inner = span[len(fence) : -len(fence)]
        assert fence not in [m.group() for m in re.finditer(r"`+", inner)], rule.code
        assert inner.strip() == f"{rule.code} {rule.message}: {rule.fix_hint}"


def test_progress_shows_during_indexing_on_a_tty(tmp_path, monkeypatch):
    import sys

    class Tty(io.StringIO):
        def isatty(self):
            return True

    for i in range(60):
        (tmp_path / f"m{i}.py").write_text("import torch\n")
    fake = Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    code, _, _ = run(["-j", "1", "."], tmp_path, monkeypatch)
    assert code == 0 and "modreg: indexing" in fake.getvalue()


def test_fix_edits_reproduce_each_fix_of_every_rule_example():
    """The cheap per-node edits give exactly the text of applying that one fix to the module."""
    from flake8_modreg import edits as edits_mod
    from flake8_modreg.core import check_module
    from flake8_modreg.fixer import apply_fixes
    from flake8_modreg.rules import all_rules
    from flake8_modreg.settings import Config

    checked = 0
    for rule in all_rules():
        for inv in rule.invalid:
            module, findings = check_module(inv.code, config=Config(select=("ALL",)))
            fixes = [f.fix for f in findings if f.fix is not None]
            for fix, e in zip(fixes, edits_mod.fix_edits(module, fixes)):
                assert e is not None
                assert apply_edits(module.code, e) == apply_fixes(module, [fix]).code, rule.code
                checked += 1
    assert checked >= 20


def test_json_edits_stay_linear_on_a_file_with_hundreds_of_fixes(tmp_path, monkeypatch):
    """300 fixable findings, each with its own edits (computed per node: regenerating the module per fix took minutes)."""
    src = ["import torch.nn as nn", ""]
    for i in range(150):
        src += [f"class Net{i}(nn.Module):", "    def __init__(self):", "        super().__init__()",
                "        self.layers = [nn.Linear(2, 2)]", "", "    def construct(self, x):", "        return x", ""]
    (tmp_path / "many.py").write_text("\n".join(src))
    doc = json.loads(run(["--format", "json", "many.py"], tmp_path, monkeypatch)[1])
    assert len(doc["findings"]) == 300 and all(f["fix"]["edits"] for f in doc["findings"])
    fixed = apply_edits((tmp_path / "many.py").read_text(), [e for f in doc["findings"] for e in f["fix"]["edits"]])
    assert fixed.count("def forward") == 150 and fixed.count("nn.ModuleList([") == 150
