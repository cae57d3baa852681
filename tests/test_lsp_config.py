"""The language server finds each document's ``[tool.modreg]`` as ``modreg check FILE`` does (pytest-lsp, real server).

Nearest ``pyproject.toml`` with a ``[tool.modreg]`` table from the document upwards, per document (nested
projects, multi-root workspaces); ``exclude``/``per-file-ignores`` relative to that file's folder; changes
picked up on save, on ``workspace/didChangeWatchedFiles`` and, without either, by mtime at the next analysis.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("pygls", reason="the language server needs the `lsp` extra (pygls)")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="end-to-end LSP tests need pytest-lsp (in the `test` extra)")

from lsprotocol import types as lsp  # noqa: E402

from lsp_helpers import (  # noqa: E402
    SERVER,
    change_doc,
    make_client,
    open_doc,
    start_session,
    wait_for_publish,
    wait_for_version,
    wait_until,
)

pytestmark = pytest.mark.asyncio

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


@pytest_lsp.fixture(config=pytest_lsp.ClientServerConfig(server_command=SERVER, client_factory=make_client))
async def client(lsp_client: pytest_lsp.LanguageClient):
    yield
    await lsp_client.shutdown_session()


def codes(diags):
    return sorted(d.code for d in diags)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def cli_codes(path, cwd):
    """What ``modreg check FILE`` reports for ``path`` (run from ``cwd``)."""
    proc = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "--output-format", "json", str(path)],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return sorted(d["code"] for d in json.loads(proc.stdout)["findings"])


def nested_project(tmp_path):
    """A repository whose root config ignores MRG301 and whose sub-project ``sub`` has its own config."""
    write(tmp_path / "pyproject.toml", '[tool.modreg]\nignore = ["MRG301"]\n')
    write(
        tmp_path / "sub" / "pyproject.toml",
        '[tool.modreg]\nignore = ["MRG101"]\nexclude = ["gen/"]\nper-file-ignores = { "tests/*" = ["MRG3"] }\n',
    )
    # a pyproject.toml without [tool.modreg] is passed over, as the CLI passes over it
    write(tmp_path / "sub" / "pkg" / "pyproject.toml", "[tool.black]\nline-length = 100\n")
    files = {
        name: write(tmp_path / name, BUGGY)
        for name in ("net.py", "gen/net.py", "tests/net.py", "sub/net.py", "sub/gen/net.py", "sub/tests/net.py", "sub/pkg/net.py")
    }
    return files


async def test_each_document_gets_its_nearest_config_as_the_cli_does(client, tmp_path):
    files = nested_project(tmp_path)
    await start_session(client, str(tmp_path))
    got = {}
    for name, path in files.items():
        open_doc(client, path.as_uri(), BUGGY)
        got[name] = codes(await wait_for_version(client, path.as_uri(), 1))
    assert got == {
        "net.py": ["MRG101"],  # the root config: MRG301 ignored
        "gen/net.py": ["MRG101"],  # sub's `exclude = ["gen/"]` is relative to sub/, not the root
        "tests/net.py": ["MRG101"],  # sub's per-file-ignores neither
        "sub/net.py": ["MRG301"],  # sub's config, not the root's
        "sub/gen/net.py": [],  # excluded
        "sub/tests/net.py": [],  # per-file-ignores: MRG3
        "sub/pkg/net.py": ["MRG301"],  # pkg/pyproject.toml has no [tool.modreg]: sub's applies
    }
    # exactly what `modreg check FILE` reports for each file (excluded files are not walked, but a file
    # named on the command line is checked unless --force-exclude: the editor follows the walk, as ruff's server does)
    for name, path in files.items():
        if name != "sub/gen/net.py":
            assert cli_codes(path, tmp_path) == got[name], name


async def test_multi_root_workspace_each_folder_has_its_own_config(client, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write(a / "pyproject.toml", '[tool.modreg]\nselect = ["MRG1"]\n')
    write(b / "pyproject.toml", '[tool.modreg]\nselect = ["MRG3"]\n')
    await start_session(client, str(a), folders=[str(a), str(b)])
    for folder, expected in ((a, ["MRG101"]), (b, ["MRG301"])):
        uri = (folder / "net.py").as_uri()
        open_doc(client, uri, BUGGY)
        assert codes(await wait_for_version(client, uri, 1)) == expected
    # an untitled buffer gets the first folder's configuration
    open_doc(client, "untitled:Untitled-1", BUGGY)
    assert codes(await wait_for_version(client, "untitled:Untitled-1", 1)) == ["MRG101"]


async def test_saving_pyproject_rechecks_open_documents(client, tmp_path):
    toml = write(tmp_path / "pyproject.toml", "[tool.modreg]\n")
    await start_session(client, str(tmp_path))
    uri = (tmp_path / "net.py").as_uri()
    open_doc(client, uri, BUGGY)
    assert codes(await wait_for_version(client, uri, 1)) == ["MRG101", "MRG301"]
    n = len(client.published)
    toml.write_text('[tool.modreg]\nignore = ["MRG101"]\n', encoding="utf-8")
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=toml.as_uri())))
    assert codes(await wait_for_publish(client, uri, n)) == ["MRG301"]


async def test_a_change_on_disk_is_picked_up_through_watched_files(client, tmp_path):
    toml = write(tmp_path / "pyproject.toml", "[tool.modreg]\n")
    await start_session(client, str(tmp_path), watch=True)
    await wait_until(lambda: client.registrations, what="client/registerCapability")
    (reg,) = client.registrations
    assert reg.method == lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert [w["globPattern"] for w in reg.register_options["watchers"]] == ["**/pyproject.toml"]
    uri = (tmp_path / "sub" / "net.py").as_uri()
    open_doc(client, uri, BUGGY)
    assert codes(await wait_for_version(client, uri, 1)) == ["MRG101", "MRG301"]
    # a nearer config appears (a `git checkout`, say): the client reports it, the document is checked again
    n = len(client.published)
    nearer = write(tmp_path / "sub" / "pyproject.toml", '[tool.modreg]\nselect = ["MRG3"]\n')
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(uri=nearer.as_uri(), type=lsp.FileChangeType.Created)])
    )
    assert codes(await wait_for_publish(client, uri, n)) == ["MRG301"]
    # and it goes away again
    n = len(client.published)
    nearer.unlink()
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(uri=nearer.as_uri(), type=lsp.FileChangeType.Deleted)])
    )
    assert codes(await wait_for_publish(client, uri, n)) == ["MRG101", "MRG301"]
    del toml


async def test_without_any_event_the_next_analysis_sees_the_new_config(client, tmp_path):
    toml = write(tmp_path / "pyproject.toml", "[tool.modreg]\n")
    await start_session(client, str(tmp_path))
    uri = (tmp_path / "net.py").as_uri()
    open_doc(client, uri, BUGGY)
    assert codes(await wait_for_version(client, uri, 1)) == ["MRG101", "MRG301"]
    toml.write_text('[tool.modreg]\nper-file-ignores = { "net.py" = ["MRG301"] }\n', encoding="utf-8")
    change_doc(client, uri, BUGGY + "\n", 2)
    assert codes(await wait_for_version(client, uri, 2)) == ["MRG101"]


async def test_a_broken_nested_config_is_shown_once_and_the_defaults_are_used(client, tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.modreg]\nignore = ["MRG301"]\n')
    write(tmp_path / "sub" / "pyproject.toml", '[tool.modreg]\nselect = ["MRG1O1"]\n')  # letter O
    await start_session(client, str(tmp_path))
    for k, name in enumerate(("a.py", "b.py"), 1):
        uri = (tmp_path / "sub" / name).as_uri()
        open_doc(client, uri, BUGGY, version=k)
        assert codes(await wait_for_version(client, uri, k)) == ["MRG101", "MRG301"]  # defaults, not the root's
    await wait_until(lambda: client.messages, what="window/showMessage")
    (msg,) = client.messages  # once, though two documents use it
    assert msg.type == lsp.MessageType.Error and "sub/pyproject.toml" in msg.message and "'MRG1O1'" in msg.message
