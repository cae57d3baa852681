"""The language server, end to end: pytest-lsp's client talks JSON-RPC to ``python -m flake8_modreg.lsp``."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

pytest.importorskip("pygls", reason="the language server needs the `lsp` extra (pygls)")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="end-to-end LSP tests need pytest-lsp (in the `test` extra)")

from lsprotocol import types as lsp  # noqa: E402

from lsp_helpers import (  # noqa: E402
    SERVER,
    analyses,
    apply_text_edits,
    change_doc,
    edits_of,
    make_client,
    open_doc,
    start_session,
    wait_for_version,
    wait_until,
)

pytestmark = pytest.mark.asyncio

# MRG101 on line 7 behind Chinese text and an emoji (an astral char: 2 UTF-16 units, 4 UTF-8 bytes);
# MRG301 (safe fix: rename to forward) at the method name on line 9.
BUGGY = textwrap.dedent(
    """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            note = "中文😀"; self.layers = [nn.Linear(2, 2), nn.ReLU()]

        def construct(self, x):
            return x
    """
)
CLEAN = BUGGY.replace("self.layers = [nn.Linear(2, 2), nn.ReLU()]", "self.layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])").replace(
    "def construct", "def forward"
)
PREFIX = '        note = "中文😀"; '
# code points 22..64 on line 7; UTF-16 adds one unit for the emoji; UTF-8 adds 2+2 for 中文 and 3 for 😀
COLS = {"utf-16": (23, 65), "utf-8": (29, 71), "utf-32": (22, 64)}


def rng(line: int, start: int, end: int) -> lsp.Range:
    return lsp.Range(start=lsp.Position(line, start), end=lsp.Position(line, end))


@pytest_lsp.fixture(config=pytest_lsp.ClientServerConfig(server_command=SERVER, client_factory=make_client))
async def client(lsp_client: pytest_lsp.LanguageClient):
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def uri(tmp_path):
    return (tmp_path / "net.py").as_uri()


async def diagnostics_for(client, tmp_path, uri, text, **caps):
    await start_session(client, str(tmp_path), **caps)
    open_doc(client, uri, text)
    return await wait_for_version(client, uri, 1)


def triples(diags):
    return [(d.code, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character) for d in diags]


# -- diagnostics -------------------------------------------------------------


async def test_diagnostics_have_exact_utf16_ranges_codes_and_docs(client, tmp_path, uri):
    result = await start_session(client, str(tmp_path))
    assert result.capabilities.position_encoding in (None, lsp.PositionEncodingKind.Utf16)
    open_doc(client, uri, BUGGY)
    diags = await wait_for_version(client, uri, 1)
    start, end = COLS["utf-16"]
    assert triples(diags) == [("MRG101", 6, start, 6, end), ("MRG301", 8, 8, 8, 17)]
    assert BUGGY.splitlines()[6].startswith(PREFIX)
    by_code = {d.code: d for d in diags}
    assert by_code["MRG101"].severity == lsp.DiagnosticSeverity.Warning
    assert by_code["MRG301"].severity == lsp.DiagnosticSeverity.Error  # a torch Module with no forward cannot run
    for d in diags:
        assert d.source == "modreg"
        assert d.code_description.href.endswith(f"/docs/rules/{d.code}.md")
    assert by_code["MRG301"].message.startswith("torch Module 'Net' defines MindSpore's 'construct'")


@pytest.mark.parametrize("offered, chosen", [(["utf-8", "utf-16"], "utf-8"), (["utf-32"], "utf-32")])
async def test_columns_follow_the_negotiated_position_encoding(client, tmp_path, uri, offered, chosen):
    result = await start_session(client, str(tmp_path), encodings=offered)
    assert result.capabilities.position_encoding == chosen
    open_doc(client, uri, BUGGY)
    diags = await wait_for_version(client, uri, 1)
    start, end = COLS[chosen]
    assert triples(diags)[0] == ("MRG101", 6, start, 6, end)


async def test_diagnostics_vanish_after_the_edit_that_fixes_them(client, tmp_path, uri):
    assert len(await diagnostics_for(client, tmp_path, uri, BUGGY)) == 2
    change_doc(client, uri, CLEAN, 2)
    assert await wait_for_version(client, uri, 2) == []


async def test_a_non_python_document_gets_no_diagnostics(client, tmp_path):
    await start_session(client, str(tmp_path))
    txt = (tmp_path / "notes.txt").as_uri()
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=txt, language_id="plaintext", version=1, text=BUGGY))
    )
    py = (tmp_path / "other.py").as_uri()
    open_doc(client, py, BUGGY)  # a later Python document is analysed, the text file never was
    await wait_for_version(client, py, 1)
    assert txt not in client.diagnostics


async def test_noqa_is_honoured(client, tmp_path, uri):
    text = BUGGY.replace("def construct(self, x):", "def construct(self, x):  # noqa: MRG301")
    assert triples(await diagnostics_for(client, tmp_path, uri, text))[0][0] == "MRG101"
    assert [d.code for d in client.diagnostics[uri]] == ["MRG101"]


async def test_workspace_config_is_read(client, tmp_path, uri):
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nignore = ["MRG1"]\n', encoding="utf-8")
    assert [d.code for d in await diagnostics_for(client, tmp_path, uri, BUGGY)] == ["MRG301"]
    # edited config: re-read on the next analysis
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nselect = ["MRG1"]  # changed\n', encoding="utf-8")
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    await wait_until(lambda: [d.code for d in client.diagnostics[uri]] == ["MRG101"], what="MRG101 only")


async def test_close_clears_the_diagnostics(client, tmp_path, uri):
    assert await diagnostics_for(client, tmp_path, uri, BUGGY)
    n = len(client.published)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    await wait_until(lambda: len(client.published) > n, what="a publish after close")
    assert client.published[-1][0] == uri and list(client.published[-1][2]) == []


# -- half-typed code ---------------------------------------------------------


async def test_syntax_error_mid_edit_publishes_nothing_then_recovers(client, tmp_path, uri):
    assert len(await diagnostics_for(client, tmp_path, uri, BUGGY)) == 2
    half = BUGGY.replace("    def construct(self, x):\n", "    def construct(self, x\n")  # unbalanced bracket
    change_doc(client, uri, half, 2)
    assert await wait_for_version(client, uri, 2) == []  # no squiggle may point at a moved line
    broken = BUGGY + "\nclass Half(nn.Module):\n    def __init__(self\n"  # an unfinished def at the end
    change_doc(client, uri, broken, 3)
    assert await wait_for_version(client, uri, 3) == []
    change_doc(client, uri, "\n\n" + BUGGY, 4)  # recovered, and two lines lower
    assert [(c, line) for c, line, *_ in triples(await wait_for_version(client, uri, 4))] == [("MRG101", 8), ("MRG301", 10)]
    assert not [m for m in client.log_messages if m.type == lsp.MessageType.Error]


async def test_a_burst_of_edits_is_analysed_once_and_only_the_latest_version_published(client, tmp_path, uri):
    await diagnostics_for(client, tmp_path, uri, BUGGY)
    assert len(analyses(client, uri)) == 1
    for v in range(2, 102):  # 100 edits, as fast as the client can send them
        change_doc(client, uri, BUGGY + "\n" * (v % 3), v)
        await asyncio.sleep(0)
    diags = await wait_for_version(client, uri, 101)
    assert len(diags) == 2
    await asyncio.sleep(0.5)  # nothing else is on its way
    done = analyses(client, uri)
    assert 2 <= len(done) <= 3, done
    versions = [v for u, v, *_ in client.published if u == uri]
    assert versions[0] == 1 and versions[-1] == 101 and versions == sorted(versions) and len(versions) <= 3, versions


# -- code actions ------------------------------------------------------------


async def actions_for(client, uri, diag, only=None):
    return await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=lsp.CodeActionContext(diagnostics=[diag], only=only),
        )
    )


@pytest.mark.parametrize("resolve", [False, True], ids=["eager", "resolved"])
async def test_quick_fix_through_the_client_gives_the_fixed_text(client, tmp_path, uri, resolve):
    diags = await diagnostics_for(client, tmp_path, uri, BUGGY, resolve=resolve)
    mrg301 = next(d for d in diags if d.code == "MRG301")
    actions = await actions_for(client, uri, mrg301)
    titles = [a.title for a in actions]
    assert titles == ["Rename 'construct' to 'forward' (MRG301)", "Disable MRG301 for this line", "Fix all modreg issues in file"], titles
    action = actions[0]
    assert action.kind == lsp.CodeActionKind.QuickFix and action.is_preferred
    if resolve:
        assert action.edit is None
        action = await client.code_action_resolve_async(action)
    edits = edits_of(action.edit, uri)
    assert len(edits) == 1 and edits[0].range == lsp.Range(start=lsp.Position(8, 8), end=lsp.Position(8, 17))  # minimal
    fixed = apply_text_edits(BUGGY, edits)
    assert fixed == BUGGY.replace("def construct", "def forward")
    change_doc(client, uri, fixed, 2)
    assert [d.code for d in await wait_for_version(client, uri, 2)] == ["MRG101"]


async def test_a_finding_without_a_fix_offers_only_the_noqa_action(client, tmp_path, uri):
    diags = await diagnostics_for(client, tmp_path, uri, BUGGY)
    mrg101 = next(d for d in diags if d.code == "MRG101")
    titles = [a.title for a in await actions_for(client, uri, mrg101)]
    # MRG101's fix (ModuleList) is unsafe-only when it exists; fix-all is offered because MRG301 is fixable
    assert "Disable MRG101 for this line" in titles
    assert "Fix all modreg issues in file" in titles


async def test_fix_all_applies_the_safe_fixes(client, tmp_path, uri):
    await diagnostics_for(client, tmp_path, uri, BUGGY)
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=rng(0, 0, 0),
            context=lsp.CodeActionContext(diagnostics=[], only=[lsp.CodeActionKind.SourceFixAll]),
        )
    )
    assert [(a.title, a.kind) for a in actions] == [("Fix all modreg issues in file", "source.fixAll.modreg")]
    fixed = apply_text_edits(BUGGY, edits_of(actions[0].edit, uri))
    assert fixed == BUGGY.replace("def construct", "def forward")  # the unsafe ModuleList wrap is not applied


async def test_disable_for_this_line_appends_noqa_and_silences_it(client, tmp_path, uri):
    diags = await diagnostics_for(client, tmp_path, uri, BUGGY)
    mrg101 = next(d for d in diags if d.code == "MRG101")
    action = next(a for a in await actions_for(client, uri, mrg101) if a.title == "Disable MRG101 for this line")
    text = apply_text_edits(BUGGY, edits_of(action.edit, uri))
    assert text.splitlines()[6] == PREFIX + "self.layers = [nn.Linear(2, 2), nn.ReLU()]  # noqa: MRG101"
    change_doc(client, uri, text, 2)
    assert [d.code for d in await wait_for_version(client, uri, 2)] == ["MRG301"]


async def test_disable_extends_an_existing_noqa_list(client, tmp_path, uri):
    text = BUGGY.replace("def construct(self, x):", "def construct(self, x):  # noqa: E501,W291  ")
    diags = await diagnostics_for(client, tmp_path, uri, text)
    mrg301 = next(d for d in diags if d.code == "MRG301")
    action = next(a for a in await actions_for(client, uri, mrg301) if a.title.startswith("Disable"))
    new = apply_text_edits(text, edits_of(action.edit, uri))
    assert new.splitlines()[8] == "    def construct(self, x):  # noqa: E501,W291, MRG301  "
    change_doc(client, uri, new, 2)
    assert [d.code for d in await wait_for_version(client, uri, 2)] == ["MRG101"]


async def test_actions_for_a_stale_diagnostic_are_not_offered(client, tmp_path, uri):
    diags = await diagnostics_for(client, tmp_path, uri, BUGGY)
    mrg301 = next(d for d in diags if d.code == "MRG301")
    change_doc(client, uri, "\n" + BUGGY, 2)  # the finding moved down one line; the client still holds the old one
    await wait_for_version(client, uri, 2)
    assert list(await actions_for(client, uri, mrg301)) == []


async def test_unanalysable_documents_never_kill_the_server(client, tmp_path):
    await start_session(client, str(tmp_path))
    odd = {
        "empty.py": "",
        "nul.py": "import torch\x00\n",
        "deep.py": "import torch\nx = " + "(" * 400 + "1" + ")" * 400 + "\n",
        "indent.py": "import torch\n\tif x:\n  y\n",
    }
    for name, text in odd.items():
        open_doc(client, (tmp_path / name).as_uri(), text)
    for name in odd:
        assert await wait_for_version(client, (tmp_path / name).as_uri(), 1) == []
    uri = (tmp_path / "net.py").as_uri()
    open_doc(client, uri, BUGGY)
    assert len(await wait_for_version(client, uri, 1)) == 2
    assert not [m for m in client.log_messages if m.type == lsp.MessageType.Error]


async def test_quick_fix_keeps_crlf_line_endings(client, tmp_path, uri):
    text = BUGGY.replace("\n", "\r\n")
    diags = await diagnostics_for(client, tmp_path, uri, text)
    mrg301 = next(d for d in diags if d.code == "MRG301")
    action = (await actions_for(client, uri, mrg301))[0]
    assert apply_text_edits(text, edits_of(action.edit, uri)) == text.replace("def construct", "def forward")


# -- [tool.modreg]: the CLI's validation, exclude and per-file-ignores --------------------------


async def test_select_mrg_from_the_readme_is_honoured(client, tmp_path, uri):
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nselect = ["MRG"]\nignore = ["MRG301"]\n', encoding="utf-8")
    assert [d.code for d in await diagnostics_for(client, tmp_path, uri, BUGGY)] == ["MRG101"]
    assert client.messages == []


@pytest.mark.parametrize(
    "toml,needle",
    [
        ('[tool.modreg]\nselect = ["MRG9999"]\n', "'MRG9999'"),
        ("tool = 1\n", "'tool' must be a table"),
        (
            '[tool.modreg]\nmindspore-version = "2.11"\n',
            "[tool.modreg] mindspore-version: no API table for MindSpore 2.11 (known: 2.0, 2.7, 2.8, 2.9, 2.10)",
        ),
        ("[tool.modreg]\ntorch-version = 2.10\n", '[tool.modreg] torch-version: must be a string such as "2.13"'),
    ],
)
async def test_a_bad_config_is_shown_to_the_user(client, tmp_path, uri, toml, needle):
    (tmp_path / "pyproject.toml").write_text(toml, encoding="utf-8")
    assert len(await diagnostics_for(client, tmp_path, uri, BUGGY)) == 2  # the defaults meanwhile
    await wait_until(lambda: client.messages, what="window/showMessage")
    (msg,) = client.messages
    assert msg.type == lsp.MessageType.Error and needle in msg.message and "\n" not in msg.message


async def test_torch_version_from_the_config_is_honoured(client, tmp_path, uri):
    text = BUGGY.replace("def construct(self, x):\n", "def construct(self, x):\n        self.compile()\n")
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\ntorch-version = "2.0"\n', encoding="utf-8")
    diags = await diagnostics_for(client, tmp_path, uri, text)
    assert [(d.code, d.message) for d in diags if d.code == "MRG502"] == [
        ("MRG502", "MindSpore-only method '.compile()' on torch 2.0 Module 'Net'\n"
         "torch: torch.compile(module) (nn.Module.compile() arrived in torch 2.1)")
    ]  # fmt: skip
    assert client.messages == []


async def test_mindspore_version_from_the_config_decides_mrg404s_names(client, tmp_path, uri):
    """`mindspore-version = "2.0"` in the editor: nn.Linear (added in 2.1-2.7) is missing there."""
    text = "from mindspore import nn\n\nfc = nn.Linear(2, 2)\n"
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nmindspore-version = "2.0"\n', encoding="utf-8")
    diags = await diagnostics_for(client, tmp_path, uri, text)
    assert [(d.code, d.range.start.line, d.range.start.character, d.message) for d in diags] == [
        ("MRG404", 2, 5, "'Linear' does not exist in mindspore.nn (MindSpore 2.0)\n"
         "added in MindSpore 2.1-2.7 (AttributeError at run time)")
    ]  # fmt: skip
    assert client.messages == []


async def test_unused_noqa_follows_the_edits(client, tmp_path, uri):
    """MRG902 (opted in through [tool.modreg]) in the editor: judged on the whole document after every edit,
    including the incremental re-analysis of a changed statement."""
    (tmp_path / "pyproject.toml").write_text('[tool.modreg]\nextend-select = ["MRG902"]\n', encoding="utf-8")
    used = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n" \
        "        self.layers = [nn.Linear(2, 2)]  # noqa: MRG101\n"
    assert await diagnostics_for(client, tmp_path, uri, used) == []
    change_doc(client, uri, used.replace("[nn.Linear(2, 2)]", "nn.Linear(2, 2)"), 2)
    diags = await wait_for_version(client, uri, 2)
    assert [(d.code, d.range.start.line, d.range.start.character, d.message) for d in diags] == [
        ("MRG902", 6, 39, "unused code MRG101 in '# noqa'\nremove MRG101 from the comment")
    ]
    change_doc(client, uri, used, 3)
    assert await wait_for_version(client, uri, 3) == []


async def test_exclude_and_per_file_ignores_are_honoured(client, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.modreg]\nexclude = ["gen/"]\nper-file-ignores = { "tests/*" = ["MRG1"] }\n', encoding="utf-8"
    )
    await start_session(client, str(tmp_path))
    uris = {name: (tmp_path / name).as_uri() for name in ("gen/net.py", "tests/test_net.py", "src/net.py")}
    for u in uris.values():
        open_doc(client, u, BUGGY)
    assert await wait_for_version(client, uris["gen/net.py"], 1) == []
    assert [d.code for d in await wait_for_version(client, uris["tests/test_net.py"], 1)] == ["MRG301"]
    assert [d.code for d in await wait_for_version(client, uris["src/net.py"], 1)] == ["MRG101", "MRG301"]


# -- notebooks (LSP 3.17 notebook documents, as VS Code sends them) ------------------------------


async def test_notebook_cells_get_their_own_diagnostics(client, tmp_path):
    await start_session(client, str(tmp_path))
    nb_uri = (tmp_path / "nb.ipynb").as_uri()
    cells = {
        "md": "# A model",
        "imports": "%matplotlib inline\nimport torch.nn as nn",
        "model": "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        !echo hi\n"
        "        note = '中文😀'; self.layers = [nn.Linear(2, 2)]\n\n    def construct(self, x):\n        return x",
    }
    uris = {k: f"vscode-notebook-cell:{tmp_path / 'nb.ipynb'}#{k}" for k in cells}
    kinds = {"md": lsp.NotebookCellKind.Markup}
    client.notebook_document_did_open(
        lsp.DidOpenNotebookDocumentParams(
            notebook_document=lsp.NotebookDocument(
                uri=nb_uri,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[lsp.NotebookCell(kind=kinds.get(k, lsp.NotebookCellKind.Code), document=uris[k]) for k in cells],
            ),
            cell_text_documents=[
                lsp.TextDocumentItem(uri=uris[k], language_id="markdown" if k == "md" else "python", version=1, text=t)
                for k, t in cells.items()
            ],
        )
    )
    model = await wait_for_version(client, uris["model"], 1)
    # line 5 of the cell (0-based 4); UTF-16 columns: the emoji is two units
    assert triples(model) == [("MRG101", 4, 23, 4, 54), ("MRG301", 6, 8, 6, 17)]
    assert await wait_for_version(client, uris["imports"], 1) == []
    # an edit of the model cell: the diagnostics follow
    fixed = cells["model"].replace("def construct", "def forward")
    client.notebook_document_did_change(
        lsp.DidChangeNotebookDocumentParams(
            notebook_document=lsp.VersionedNotebookDocumentIdentifier(version=2, uri=nb_uri),
            change=lsp.NotebookDocumentChangeEvent(
                cells=lsp.NotebookDocumentCellChanges(
                    text_content=[
                        lsp.NotebookDocumentCellContentChanges(
                            document=lsp.VersionedTextDocumentIdentifier(uri=uris["model"], version=2),
                            changes=[lsp.TextDocumentContentChangeWholeDocument(text=fixed)],
                        )
                    ]
                )
            ),
        )
    )
    (mrg101,) = await wait_for_version(client, uris["model"], 2)
    assert mrg101.code == "MRG101"
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uris["model"]),
            range=mrg101.range,
            context=lsp.CodeActionContext(diagnostics=[mrg101]),
        )
    )
    (disable,) = [a for a in actions if a.title == "Disable MRG101 for this line"]
    edited = apply_text_edits(fixed, edits_of(disable.edit, uris["model"]))
    assert edited.splitlines()[4].endswith("self.layers = [nn.Linear(2, 2)]  # noqa: MRG101")
    client.notebook_document_did_close(
        lsp.DidCloseNotebookDocumentParams(
            notebook_document=lsp.NotebookDocumentIdentifier(uri=nb_uri),
            cell_text_documents=[lsp.TextDocumentIdentifier(uri=u) for u in uris.values()],
        )
    )
    await wait_until(lambda: list(client.diagnostics.get(uris["model"], [None])) == [], what="cleared on close")
