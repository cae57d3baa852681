"""A real editor: Debian's Neovim (0.7+, built-in LSP client) run headless against the server.

Neovim decodes the server's UTF-16 positions into byte columns itself, so the
columns asserted here are UTF-8 byte offsets: an independent check of our
code point -> UTF-16 conversion on a line with Chinese text and an emoji.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("pygls", reason="the language server needs the `lsp` extra (pygls)")

from test_lsp import BUGGY  # noqa: E402

NVIM = shutil.which("nvim")
SCRIPT = pathlib.Path(__file__).parent / "editors" / "neovim_diagnostics.lua"

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim is not installed (`apt-get install -y neovim`; .ci/run does it)")


def test_neovim_receives_exact_diagnostics_and_applies_the_quick_fix(tmp_path):
    src = tmp_path / "net.py"
    src.write_text(BUGGY, encoding="utf-8")
    out = tmp_path / "out.json"
    env = dict(os.environ, MODREG_NVIM_OUT=str(out), MODREG_NVIM_CMD=json.dumps([sys.executable, "-m", "flake8_modreg.lsp"]))
    proc = subprocess.run(
        [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {SCRIPT}", str(src)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    assert out.exists(), f"nvim wrote nothing (exit {proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}"
    got = json.loads(out.read_text(encoding="utf-8"))
    assert got["got_diagnostics"] is True
    docs = "https://github.com/flake8-modreg/flake8-modreg/blob/main/docs/rules/{}.md"
    # vim.diagnostic: 0-based lines, byte columns; severity 1 = Error, 2 = Warning
    assert [(d["code"], d["lnum"], d["col"], d["end_lnum"], d["end_col"], d["severity"]) for d in got["first"]] == [
        ("MRG101", 6, 29, 6, 71, 2),
        ("MRG301", 8, 8, 8, 17, 1),
    ]
    line7 = BUGGY.splitlines()[6].encode("utf-8")
    assert line7[29:71].decode() == "self.layers = [nn.Linear(2, 2), nn.ReLU()]"
    assert all(d["source"] == "modreg" and d["href"] == docs.format(d["code"]) for d in got["first"])
    assert "Rename 'construct' to 'forward' (MRG301)" in got["titles"]
    assert got.get("applied") is True
    assert got["text"] == BUGGY.replace("def construct", "def forward")
    assert got["settled"] is True
    assert [(d["code"], d["lnum"], d["col"]) for d in got["after"]] == [("MRG101", 6, 29)]


def test_the_documented_neovim_07_block_attaches_modreg(tmp_path):
    """docs/editors.md's Neovim 0.7 block, unchanged, as the user's init.lua: the diagnostics arrive."""
    docs = (pathlib.Path(__file__).parent.parent / "docs" / "editors.md").read_text(encoding="utf-8")
    block = docs.split("<!-- neovim-0.7:start -->")[1].split("<!-- neovim-0.7:end -->")[0]
    init = tmp_path / "init.lua"
    init.write_text(block.split("```lua\n")[1].split("```")[0], encoding="utf-8")
    (tmp_path / "net.py").write_text(BUGGY, encoding="utf-8")
    out = tmp_path / "codes.txt"
    wait = (
        "lua local ok = vim.wait(20000, function() return #vim.diagnostic.get(0) >= 2 end, 20); "
        "local codes = {}; for _, d in ipairs(vim.diagnostic.get(0)) do "
        "table.insert(codes, ((d.user_data or {}).lsp or {}).code or d.source) end; table.sort(codes); "
        f"local f = io.open('{out}', 'w'); f:write(table.concat(codes, ',')); f:close()"
    )
    env = dict(os.environ, PATH=os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")]))
    proc = subprocess.run(
        [NVIM, "--headless", "-u", str(init), "-i", "NONE", "-n", "net.py", "-c", wait, "-c", "qa!"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    assert out.exists(), f"nvim wrote nothing (exit {proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}"
    assert out.read_text() == "MRG101,MRG301"
