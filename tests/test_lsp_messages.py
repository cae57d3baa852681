"""Editor diagnostics: what is wrong on a short first line (inline text shows it), the remedy on the second
(hover, problems list), through the real language server (pytest-lsp)."""

from __future__ import annotations

import pytest

pytest.importorskip("pygls", reason="the language server needs the `lsp` extra (pygls)")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="end-to-end LSP tests need pytest-lsp (in the `test` extra)")

from lsp_helpers import SERVER, make_client, open_doc, start_session, wait_for_version  # noqa: E402

BUGGY = (
    "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.layers = [nn.Linear(2, 2), nn.ReLU()]\n\n    def construct(self, x):\n        return x\n"
)

pytestmark = pytest.mark.asyncio


@pytest_lsp.fixture(config=pytest_lsp.ClientServerConfig(server_command=SERVER, client_factory=make_client))
async def client(lsp_client: pytest_lsp.LanguageClient):
    yield
    await lsp_client.shutdown_session()


async def test_the_first_line_says_what_is_wrong_the_second_what_to_do(client, tmp_path):
    await start_session(client, str(tmp_path))
    uri = (tmp_path / "net.py").as_uri()
    open_doc(client, uri, BUGGY)
    got = {d.code: d.message.split("\n") for d in await wait_for_version(client, uri, 1)}
    assert got == {
        "MRG101": ["sub-modules in plain list 'self.layers' are not registered", "wrap it in nn.ModuleList(...)"],
        "MRG301": [
            "torch Module 'Net' defines MindSpore's 'construct' but no 'forward'",
            "rename 'construct' to 'forward' (calling the module raises NotImplementedError)",
        ],
    }
    assert all(len(lines[0]) <= 80 for lines in got.values())
