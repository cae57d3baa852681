"""Quick fixes in notebook cells, through the real language server (pytest-lsp) on notebooks written by nbformat.

A cell's finding offers its own fix, "Disable ... for this line" and "Fix all modreg issues in notebook"
(also as ``source.fixAll.modreg`` and VS Code's ``notebook.source.fixAll.modreg``).  The edits are spread
over the cells they touch (a fix in cell 3 may add an import to cell 2), each cell at its version; applied
to the notebook they give exactly what ``modreg check --fix`` writes into the same notebook.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("pygls", reason="the language server needs the `lsp` extra (pygls)")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="end-to-end LSP tests need pytest-lsp (in the `test` extra)")
nbformat = pytest.importorskip("nbformat")

from lsprotocol import types as lsp  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402

from lsp_helpers import SERVER, apply_text_edits, make_client, start_session, wait_for_version  # noqa: E402

pytestmark = pytest.mark.asyncio

IMPORTS = "%matplotlib inline\nfrom torch.nn import Module, Linear"
# MRG101 (unsafe fix: nn.ModuleList, importing nn at the top: cell 2) on line 5, MRG301 (safe: rename) on line 7
NET = (
    "class Net(Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        !echo building\n"
    "        self.layers = [Linear(2, 2)]\n"
    "\n"
    "    def construct(self, x):\n"
    "        return x"
)
# MRG401 (safe: call super().__init__() first) on line 2
HEAD = "class Head(Module):\n    def __init__(self):\n        self.fc = Linear(2, 2)\n\n    def forward(self, x):\n        return self.fc(x)"


@pytest_lsp.fixture(config=pytest_lsp.ClientServerConfig(server_command=SERVER, client_factory=make_client))
async def client(lsp_client: pytest_lsp.LanguageClient):
    yield
    await lsp_client.shutdown_session()


def write_notebook(path):
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}})
    nb.cells = [
        new_markdown_cell("# Models"),
        new_code_cell(IMPORTS, execution_count=1, outputs=[new_output("stream", name="stdout", text="ok\n")]),
        new_code_cell(NET, execution_count=2),
        new_code_cell(HEAD, execution_count=3),
    ]
    nbformat.write(nb, str(path))
    return nb


def cell_uri(path, i):
    return f"vscode-notebook-cell:{path}#W{i}"


def open_notebook(client, path):
    """Open the notebook on disk as VS Code's Jupyter does; the cells' uris and texts (by index in the notebook)."""
    nb = nbformat.read(str(path), as_version=4)
    uris = [cell_uri(path, i) for i in range(len(nb.cells))]
    texts = {uris[i]: c.source for i, c in enumerate(nb.cells)}
    code = lsp.NotebookCellKind.Code
    client.notebook_document_did_open(
        lsp.DidOpenNotebookDocumentParams(
            notebook_document=lsp.NotebookDocument(
                uri=path.as_uri(),
                notebook_type="jupyter-notebook",
                version=1,
                cells=[
                    lsp.NotebookCell(kind=code if c.cell_type == "code" else lsp.NotebookCellKind.Markup, document=uris[i])
                    for i, c in enumerate(nb.cells)
                ],
            ),
            cell_text_documents=[
                lsp.TextDocumentItem(
                    uri=uris[i], language_id="python" if c.cell_type == "code" else "markdown", version=1, text=c.source
                )
                for i, c in enumerate(nb.cells)
            ],
        )
    )
    return uris, texts


def apply_cells(edit, texts, versions):
    """Apply a WorkspaceEdit to the cells' texts as a client does, checking each cell's version."""
    out = dict(texts)
    assert edit is not None and edit.document_changes
    for dc in edit.document_changes:
        assert dc.text_document.version == versions[dc.text_document.uri]
        out[dc.text_document.uri] = apply_text_edits(out[dc.text_document.uri], dc.edits)
    return out


def save_into(path, uris, texts):
    """Write the edited cell texts back into the notebook file (as the editor saves it)."""
    nb = nbformat.read(str(path), as_version=4)
    for i, cell in enumerate(nb.cells):
        cell.source = texts[uris[i]]
    nbformat.write(nb, str(path))
    return nb


def cli(*args, cwd):
    proc = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc


def cli_findings(path):
    out = json.loads(cli("--format", "json", str(path), cwd=path.parent).stdout)
    return sorted((d["code"], d["cell"], d["line"], d["column"]) for d in out["findings"])


async def actions_for(client, uri, diagnostics, only=None):
    return await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=diagnostics[0].range if diagnostics else lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(0, 0)),
            context=lsp.CodeActionContext(diagnostics=diagnostics, only=only),
        )
    )


async def resolved(client, action, lazy):
    if lazy:
        assert action.edit is None  # computed on resolve
        return await client.code_action_resolve_async(action)
    return action


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "resolve"])
async def test_a_cells_own_fix_applies_in_the_cell(client, tmp_path, lazy):
    path = tmp_path / "nb.ipynb"
    write_notebook(path)
    await start_session(client, str(tmp_path), resolve=lazy)
    uris, texts = open_notebook(client, path)
    net = await wait_for_version(client, uris[2], 1)
    assert [(d.code, d.range.start.line, d.range.start.character) for d in net] == [("MRG101", 4, 8), ("MRG301", 6, 8)]
    mrg301 = net[1]
    actions = await actions_for(client, uris[2], [mrg301])
    assert [a.title for a in actions] == [
        "Rename 'construct' to 'forward' (MRG301)",
        "Disable MRG301 for this line",
        "Fix all modreg issues in notebook",
    ]
    rename = await resolved(client, actions[0], lazy)
    assert [dc.text_document.uri for dc in rename.edit.document_changes] == [uris[2]]  # only this cell
    after = apply_cells(rename.edit, texts, {u: 1 for u in uris})
    assert after[uris[2]] == NET.replace("def construct", "def forward")  # the `!echo` line untouched
    save_into(path, uris, after)
    assert cli_findings(path) == [("MRG101", 3, 5, 9), ("MRG401", 4, 2, 9)]


async def test_an_unsafe_fix_that_adds_an_import_edits_two_cells(client, tmp_path):
    path = tmp_path / "nb.ipynb"
    write_notebook(path)
    await start_session(client, str(tmp_path))
    uris, texts = open_notebook(client, path)
    mrg101 = (await wait_for_version(client, uris[2], 1))[0]
    (wrap,) = [a for a in await actions_for(client, uris[2], [mrg101]) if a.title.endswith("[unsafe fix]")]
    assert wrap.title == "Wrap 'self.layers' in nn.ModuleList(...) (MRG101) [unsafe fix]" and not wrap.is_preferred
    after = apply_cells(wrap.edit, texts, {u: 1 for u in uris})
    assert after[uris[1]] == "from torch import nn\n\n" + IMPORTS  # the import lands at the top of the first code cell
    assert after[uris[2]] == NET.replace("[Linear(2, 2)]", "nn.ModuleList([Linear(2, 2)])")
    assert after[uris[3]] == HEAD


@pytest.mark.parametrize("only", [["notebook.source.fixAll"], ["source.fixAll"], ["notebook.source.fixAll.modreg"]])
async def test_fix_all_gives_what_modreg_check_fix_writes(client, tmp_path, only):
    path = tmp_path / "nb.ipynb"
    write_notebook(path)
    reference = tmp_path / "ref" / "nb.ipynb"
    reference.parent.mkdir()
    shutil.copy(path, reference)
    cli("--fix", str(reference), cwd=reference.parent)  # safe fixes only, as the editor's fix-all
    await start_session(client, str(tmp_path), resolve=True)
    uris, texts = open_notebook(client, path)
    await wait_for_version(client, uris[3], 1)
    # asked on the first code cell, with no diagnostic (as VS Code does on save)
    (action,) = await actions_for(client, uris[1], [], only=only)
    expected_kind = "notebook.source.fixAll.modreg" if only[0].startswith("notebook") else "source.fixAll.modreg"
    assert (action.title, action.kind) == ("Fix all modreg issues in notebook", expected_kind)
    action = await client.code_action_resolve_async(action)
    assert sorted(dc.text_document.uri for dc in action.edit.document_changes) == [uris[2], uris[3]]
    after = apply_cells(action.edit, texts, {u: 1 for u in uris})
    saved = save_into(path, uris, after)
    ref = nbformat.read(str(reference), as_version=4)
    assert [c.source for c in saved.cells] == [c.source for c in ref.cells]
    assert saved.cells[1].outputs == ref.cells[1].outputs and saved.cells[1].outputs[0].text == "ok\n"
    assert cli_findings(path) == [("MRG101", 3, 5, 9)]  # only the unsafe one is left


async def test_an_action_offered_before_a_cell_changed_gets_no_edit(client, tmp_path):
    path = tmp_path / "nb.ipynb"
    write_notebook(path)
    await start_session(client, str(tmp_path), resolve=True)
    uris, texts = open_notebook(client, path)
    mrg401 = (await wait_for_version(client, uris[3], 1))[0]
    (fix_one,) = [a for a in await actions_for(client, uris[3], [mrg401]) if "(MRG401)" in a.title]
    client.notebook_document_did_change(
        lsp.DidChangeNotebookDocumentParams(
            notebook_document=lsp.VersionedNotebookDocumentIdentifier(version=2, uri=path.as_uri()),
            change=lsp.NotebookDocumentChangeEvent(
                cells=lsp.NotebookDocumentCellChanges(
                    text_content=[
                        lsp.NotebookDocumentCellContentChanges(
                            document=lsp.VersionedTextDocumentIdentifier(uri=uris[2], version=2),
                            changes=[lsp.TextDocumentContentChangeWholeDocument(text="x = 1\n" + NET)],
                        )
                    ]
                )
            ),
        )
    )
    assert (await client.code_action_resolve_async(fix_one)).edit is None
    # asked again, it is offered for the new text, and its edit is right
    mrg401 = (await wait_for_version(client, uris[3], 1))[0]
    (fix_one,) = [a for a in await actions_for(client, uris[3], [mrg401]) if "(MRG401)" in a.title]
    fix_one = await client.code_action_resolve_async(fix_one)
    texts[uris[2]] = "x = 1\n" + NET
    after = apply_cells(fix_one.edit, texts, {**{u: 1 for u in uris}, uris[2]: 2})
    assert after[uris[3]] == HEAD.replace("    def __init__(self):\n", "    def __init__(self):\n        super().__init__()\n")


async def test_a_cell_that_does_not_parse_offers_nothing_and_keeps_the_server(client, tmp_path):
    path = tmp_path / "nb.ipynb"
    nb = new_notebook()
    nb.cells = [new_code_cell("import torch.nn as nn\ndef broken(:\n    pass")]
    nbformat.write(nb, str(path))
    await start_session(client, str(tmp_path))
    uris, _texts = open_notebook(client, path)
    assert await wait_for_version(client, uris[0], 1) == []
    assert not await actions_for(client, uris[0], [], only=["notebook.source.fixAll"])
    assert not await actions_for(client, uris[0], [], only=["source.fixAll"])  # still answering
