"""Every surface sees the same cross-file facts: flake8 per file, ``modreg check`` on one file and on
the tree, the pre-commit hook on staged files, and the language server, on a package whose Modules
derive from classes of sibling files and of an installed package (``tests/parity_fixture``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_modreg import Config, check

ROOT = Path(__file__).parent / "parity_fixture"
SITE = ROOT / "site"
ZOO = ROOT / "zoo"
FILES = sorted(ZOO.glob("*.py"))
EXPECT = re.compile(r"# (MRG\d{3}): (\d+)")
ROW = re.compile(r"^(?P<path>[^\s:]+\.py):(?P<line>\d+):(?P<col>\d+): (?P<code>MRG\d{3}) ", re.M)


def expected() -> set[tuple[str, int, int, str]]:
    want = set()
    for path in FILES:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for code, col in EXPECT.findall(line):
                want.add((path.name, n, int(col) + 1, code))
    return want


def env() -> dict[str, str]:
    """The "installed" package on the interpreter's path; a private summary cache."""
    return dict(os.environ, PYTHONPATH=str(SITE))


def rows(text: str) -> set[tuple[str, int, int, str]]:
    return {(Path(m["path"]).name, int(m["line"]), int(m["col"]), m["code"]) for m in ROW.finditer(text)}


@pytest.fixture
def site_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(SITE))


def test_the_fixture_marks_findings_in_both_files():
    want = expected()
    assert {f for f, *_ in want} == {"head.py", "net.py"}
    assert len(want) >= 6


def test_in_process_check_with_a_path(site_on_path):
    got = set()
    for path in FILES:
        got |= {(path.name, f.line, f.col + 1, f.code) for f in check(path.read_bytes(), path=str(path), config=Config(strict=True))}
    assert got == expected()


def test_without_a_path_the_file_is_alone():
    """``check(source)`` has no file to resolve from: the other files' classes are unknown."""
    head = (ZOO / "head.py").read_bytes()
    assert check(head, config=Config(strict=True)) == []


def test_the_single_file_view_can_be_asked_for(monkeypatch, site_on_path):
    monkeypatch.setenv("MODREG_CROSS_FILE", "0")
    assert check((ZOO / "head.py").read_bytes(), path=str(ZOO / "head.py"), config=Config(strict=True)) == []


def test_flake8_per_file():
    got = set()
    for path in FILES:
        proc = subprocess.run(
            [sys.executable, "-m", "flake8", "--isolated", "--select", "MRG", str(path)],
            capture_output=True, text=True, env=env(), timeout=300,
        )
        assert proc.returncode in (0, 1), proc.stderr
        got |= rows(proc.stdout)
    assert got == expected()


def test_flake8_stdin_with_display_name():
    """Editors run ``flake8 --stdin-display-name PATH -``: resolution starts from that path."""
    got = set()
    for path in FILES:
        proc = subprocess.run(
            [sys.executable, "-m", "flake8", "--isolated", "--select", "MRG", "--stdin-display-name", str(path), "-"],
            input=path.read_text(), capture_output=True, text=True, env=env(), timeout=300,
        )
        got |= rows(proc.stdout)
    assert got == expected()


def modreg(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", *args],
        capture_output=True, text=True, env=env(), cwd=cwd, timeout=300,
    )


def test_modreg_check_one_changed_file_and_the_whole_tree():
    one = set()
    for path in FILES:
        one |= rows(modreg(str(path)).stdout)
    assert one == expected()
    assert rows(modreg(str(ROOT)).stdout) == expected()
    assert rows(modreg("-j1", str(ZOO)).stdout) == expected()


def test_modreg_check_stdin_filename():
    path = ZOO / "head.py"
    proc = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "--stdin-filename", str(path)],
        input=path.read_text(), capture_output=True, text=True, env=env(), timeout=300,
    )
    assert rows(proc.stdout) == {e for e in expected() if e[0] == "head.py"}


def test_precommit_hook_on_staged_files_resolves_against_the_repository(tmp_path):
    """The hook's own command line, on the one staged file, in a repository where the base is untouched."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    hooks = (Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text()
    entry = re.search(r"- id: modreg\n(?:  .*\n)*?  entry: (.*)\n", hooks)[1].split()
    assert entry[:2] == ["modreg", "check"]
    repo = tmp_path / "repo"
    shutil.copytree(ZOO, repo / "zoo")
    git = dict(env(), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=git)
    subprocess.run(["git", "add", "zoo/__init__.py", "zoo/base.py"], cwd=repo, check=True, env=git)
    subprocess.run(["git", "commit", "-qm", "base"], cwd=repo, check=True, env=git)
    subprocess.run(["git", "add", "zoo/head.py"], cwd=repo, check=True, env=git)
    staged = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()
    assert staged == ["zoo/head.py"]
    proc = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", *entry[1:], *staged], capture_output=True, text=True, env=git, cwd=repo, timeout=300
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert rows(proc.stdout) == {e for e in expected() if e[0] == "head.py"}


@pytest.mark.asyncio
async def test_language_server_reports_the_same():
    pytest.importorskip("pygls")
    pytest_lsp = pytest.importorskip("pytest_lsp")
    from lsp_helpers import SERVER, make_client, open_doc, start_session, wait_for_version

    client = make_client()
    await client.start_io(*SERVER, env=env())
    try:
        await start_session(client, str(ROOT))
        got = set()
        for path in FILES:
            uri = path.as_uri()
            open_doc(client, uri, path.read_text())
            for d in await wait_for_version(client, uri, 1):
                got.add((path.name, d.range.start.line + 1, d.range.start.character + 1, d.code))
        assert got == expected()
    finally:
        await client.shutdown_session()
    del pytest_lsp


def test_the_reported_patterns_are_real_bugs_under_torch(torch, site_on_path, monkeypatch):
    """Runtime truth: what is reported is not registered; what is not reported is."""
    monkeypatch.syspath_prepend(str(ROOT))
    for name in [m for m in sys.modules if m == "zoo" or m.startswith(("zoo.", "tinylib"))]:
        monkeypatch.delitem(sys.modules, name)
    from zoo.head import Head, NotAModule
    from zoo.net import Net

    head = Head(4)
    names = {n.split(".")[0] for n, _ in head.named_parameters()}
    assert names == {"kept"}  # blocks, norms, extra: plain lists, their parameters are lost
    assert {type(m).__name__ for m in head.extra} == {"Block"}
    assert not isinstance(NotAModule(2), torch.nn.Module)
    net = Net(4)
    names = {n.split(".")[0] for n, _ in net.named_parameters()}
    assert names == {"fc", "body"}  # heads: lost
    calls = []
    net.body.register_forward_hook(lambda *a: calls.append(1))
    net(torch.zeros(1, 4))
    assert calls == []  # .forward() skipped the hook
    head.kept.register_forward_hook(lambda *a: calls.append(1))
    head(torch.zeros(1, 4))
    assert calls == []


@pytest.mark.asyncio
async def test_language_server_rechecks_open_buffers_when_another_file_is_saved(tmp_path):
    """Editing base.py in the editor (and saving it) changes what head.py's diagnostics say."""
    pytest.importorskip("pygls")
    pytest.importorskip("pytest_lsp")
    from lsprotocol import types as lsp
    from lsp_helpers import SERVER, make_client, open_doc, start_session, wait_for_version, wait_until

    shutil.copytree(ZOO, tmp_path / "zoo")
    base = tmp_path / "zoo" / "base.py"
    real = base.read_text()
    base.write_text(real.replace("class Base(nn.Module):", "class Base:"))
    head = tmp_path / "zoo" / "head.py"
    client = make_client()
    await client.start_io(*SERVER, env=env())
    try:
        await start_session(client, str(tmp_path))
        open_doc(client, head.as_uri(), head.read_text())
        assert await wait_for_version(client, head.as_uri(), 1) == []
        open_doc(client, base.as_uri(), base.read_text())
        await wait_for_version(client, base.as_uri(), 1)
        base.write_text(real)
        client.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=base.as_uri())))

        def head_has_findings() -> bool:
            return any(u == head.as_uri() and diags for u, _v, diags, _t in client.published)

        await wait_until(head_has_findings, what="head.py re-checked after base.py was saved")
        got = {(d.range.start.line + 1, d.code) for u, _v, diags, _t in client.published if u == head.as_uri() for d in diags}
        assert got == {(n, code) for name, n, _c, code in expected() if name == "head.py"}
    finally:
        await client.shutdown_session()
