"""Hostile inputs through every surface: the real ``modreg`` command, flake8, and the language server.

Each case asserts the exit code, a one-line message, no traceback and a generous time bound (these
inputs parse in well under a second; the bound is there to catch hangs, not to measure speed).
The deepest nesting analysed is what CPython's own parser accepts (``core.check_nesting``):
200 nested brackets are analysed, 201 are "too deeply nested to analyse" -- tested on both sides.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

BUG = textwrap.dedent(
    """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]
    """
)
TIME_BOUND = 60.0


def parens(n: int) -> str:
    return f"x = {'(' * n}1{')' * n}\n"


# name -> (file bytes, what each surface says).  "MRG101": the bug in BUG is still found (at ``line``);
# "": nothing at all; anything else: the text of the one error line (for flake8: its own E999/E902).
# The language server gets text, not bytes: undecodable bytes arrive already decoded by the editor.
CASES: dict[str, tuple[bytes, dict[str, str], int]] = {
    "200 nested brackets (the deepest Python accepts)": ((BUG + parens(200)).encode(), {}, 7),
    "201 nested brackets": ((BUG + parens(201)).encode(), {"all": "too deeply nested to analyse"}, 7),
    "1,500 nested brackets": ((BUG + parens(1500)).encode(), {"all": "too deeply nested to analyse"}, 7),
    "50,000 nested lists": (
        (BUG + "x = " + "[" * 50_000 + "]" * 50_000 + "\n").encode(), {"all": "too deeply nested to analyse"}, 7
    ),
    "100,000 unary minus": ((BUG + "x = " + "-" * 100_000 + "1\n").encode(), {"all": "too deeply nested to analyse"}, 7),
    "2,900 chained 'not'": ((BUG + "x = " + "not " * 2900 + "1\n").encode(), {}, 7),
    "300 nested blocks": (
        (BUG + "".join(" " * i + "if x:\n" for i in range(300)) + " " * 300 + "pass\n").encode(),
        {"all": "too deeply nested to analyse"},
        7,
    ),
    "NUL byte": ((BUG + "x = 1\x00\n").encode(), {"all": "error"}, 7),
    "invalid UTF-8": ((BUG + "x = '\xff'\n").encode("latin-1"), {"cli": "cannot decode"}, 7),
    "unknown coding cookie": (("# -*- coding: klingon -*-\n" + BUG).encode(), {"cli": "cannot decode"}, 8),
    "only a BOM": (b"\xef\xbb\xbf", {"all": ""}, 0),
    "empty": (b"", {"all": ""}, 0),
}


def expected(case: str, surface: str) -> str:
    want = CASES[case][1]
    return want.get(surface, want.get("all", "MRG101"))


def _run(cmd: list[str], cwd: Path, stdin: bytes | None = None) -> tuple[int, str, str, float]:
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, timeout=TIME_BOUND * 2)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), time.monotonic() - t0


MODREG = [sys.executable, "-m", "flake8_modreg", "check", "--no-cache"]


@pytest.mark.parametrize("case", list(CASES))
def test_modreg_command(tmp_path, case):
    data, _, line = CASES[case]
    want = expected(case, "cli")
    (tmp_path / "hostile.py").write_bytes(data)
    code, out, err, seconds = _run([*MODREG, "hostile.py"], tmp_path)
    assert "Traceback" not in out + err and seconds < TIME_BOUND
    if want == "MRG101":
        assert code == 1 and f"hostile.py:{line}:9: MRG101" in out and err == ""
    elif want == "":
        assert code == 0 and err == ""
    else:
        (one,) = err.splitlines()  # one line
        assert code == 1 and one.startswith("hostile.py") and ": error: " in one and want in one


@pytest.mark.parametrize("case", list(CASES))
def test_modreg_stdin_fix(tmp_path, case):
    """``--stdin-filename --fix`` (what editors run on save): the text back unchanged or fixed, one line on error."""
    data, _, _ = CASES[case]
    want = expected(case, "cli")
    code, out, err, seconds = _run([*MODREG, "--fix", "--stdin-filename", "hostile.py"], tmp_path, stdin=data)
    assert "Traceback" not in out + err and seconds < TIME_BOUND
    if want not in ("MRG101", ""):
        assert code == 1 and len(err.splitlines()) == 1 and want in err


@pytest.mark.parametrize("case", list(CASES))
def test_flake8(tmp_path, case):
    """flake8 parses first (E999 for what Python refuses); the plugin must never take the run down."""
    data, _, line = CASES[case]
    want = expected(case, "flake8")
    (tmp_path / "hostile.py").write_bytes(data)
    code, out, err, seconds = _run([sys.executable, "-m", "flake8", "--select", "MRG,E999,E902", "hostile.py"], tmp_path)
    assert seconds < TIME_BOUND and "flake8-modreg: internal error" not in err
    if "Traceback" in err or "failed during execution" in out + err:
        # flake8's own ast.parse (MemoryError) or pyflakes (RecursionError) gives up: never us, and the same without us
        assert "flake8_modreg" not in err and "flake8-modreg" not in err
        alone = _run([sys.executable, "-m", "flake8", "--select", "E999", "hostile.py"], tmp_path)
        assert alone[0] == code and (out + err).strip().splitlines()[-1] == (alone[1] + alone[2]).strip().splitlines()[-1]
        return
    if want == "MRG101":
        assert code == 1 and f"hostile.py:{line}:9: MRG101" in out
    elif want == "":
        assert code == 0 and out == ""
    else:
        assert code == 1 and "MRG" not in out and ("E999" in out or "E902" in out)


# --- the file system ------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(BUG)
    return tmp_path


def test_a_fifo_in_a_walked_folder_is_skipped_without_blocking(tree):
    os.mkfifo(tree / "pkg" / "pipe.py")
    for extra in ([], ["--no-cache"]):
        code, out, err, seconds = _run([sys.executable, "-m", "flake8_modreg", "check", *extra, "pkg"], tree)
        assert code == 1 and "pkg/model.py:7:9: MRG101" in out and err == "" and seconds < TIME_BOUND
    code, out, err, _ = _run([sys.executable, "-m", "flake8_modreg", "check", "--show-files", "pkg"], tree)
    assert out.splitlines() == ["pkg/model.py"] and err == "pkg/pipe.py: skipped: not a regular file (a FIFO)\n"


def test_a_fifo_named_explicitly_is_one_error_line(tree):
    os.mkfifo(tree / "pipe.py")
    code, out, err, seconds = _run([*MODREG, "pipe.py", "pkg"], tree)
    assert code == 1 and err == "pipe.py: error: not a regular file (a FIFO)\n" and seconds < TIME_BOUND
    assert "MRG101" in out


def test_symlink_loops_walked_and_named(tree):
    (tree / "pkg" / "a.py").symlink_to("b.py")
    (tree / "pkg" / "b.py").symlink_to("a.py")
    code, out, err, _ = _run([*MODREG, "pkg"], tree)
    assert code == 1 and "Traceback" not in err and "MRG101" in out
    assert sorted(err.splitlines()) == ["pkg/a.py: error: symbolic link loop", "pkg/b.py: error: symbolic link loop"]
    code, out, err, _ = _run([*MODREG, "pkg/a.py"], tree)
    assert code == 1 and err == "pkg/a.py: error: symbolic link loop\n"


def test_ten_thousand_tiny_files(tmp_path):
    pkg = tmp_path / "many"
    pkg.mkdir()
    for i in range(10_000):
        (pkg / f"m{i}.py").write_text("x = 1\n")
    (pkg / "model.py").write_text(BUG)
    code, out, err, seconds = _run([sys.executable, "-m", "flake8_modreg", "check", "-q", "many"], tmp_path)
    assert code == 1 and out.count("MRG101") == 1 and err == "" and seconds < TIME_BOUND
    code, out, err, seconds = _run([sys.executable, "-m", "flake8_modreg", "check", "-q", "many"], tmp_path)  # warm
    assert code == 1 and out.count("MRG101") == 1 and seconds < TIME_BOUND


def test_a_broken_pyproject_is_one_line(tree):
    (tree / "pyproject.toml").write_text("[tool.modreg\nselect = \n")
    code, out, err, _ = _run([*MODREG, "pkg"], tree)
    assert code == 2 and len(err.splitlines()) == 1 and "pyproject.toml" in err and "Traceback" not in err


def test_a_non_table_tool_section_is_one_line(tree):
    (tree / "pyproject.toml").write_text("tool = 5\n")
    code, out, err, _ = _run([*MODREG, "pkg"], tree)
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1 and "'tool' must be a table" in err


# --- the configuration reader, fuzzed -------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SCALARS = st.one_of(
    st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["MRG", "MRG101", "mrg1", "ALL", "E501", "", "x.y.Base", "*.py", "MRG9999"]),
    st.text(alphabet="abcMRG019._-*/ ", max_size=8),
)  # fmt: skip
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3), st.dictionaries(st.sampled_from(["a.py", "*"]), _SCALARS, max_size=2))
_KEYS = st.sampled_from(["select", "ignore", "extend-select", "extend-ignore", "module-bases", "exclude", "per-file-ignores", "bogus"])


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + "}"


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.dictionaries(_KEYS, _VALUES, max_size=4), header=st.sampled_from(["[tool.modreg]", "[tool]\nmodreg = 1", "tool = 5", ""]))
def test_any_configuration_is_findings_or_one_line(tmp_path_factory, table, header):
    from test_cli import run

    root = tmp_path_factory.mktemp("cfg")
    (root / "m.py").write_text(BUG)
    body = "\n".join(f"{_toml(k)} = {_toml(v)}" for k, v in table.items())
    (root / "pyproject.toml").write_text(header + "\n" + (body if header == "[tool.modreg]" else ""))
    code, out, err = run("check", "--no-cache", "-j1", "m.py", cwd=root)
    assert code in (0, 1, 2) and "Traceback" not in err
    if code == 2:
        assert len(err.splitlines()) == 1 and err.startswith("modreg: error: ")
    else:
        assert err == ""


# --- the language server -------------------------------------------------------------------------

pytest.importorskip("pygls", reason="the language server needs the `lsp` extra (pygls)")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="end-to-end LSP tests need pytest-lsp (in the `test` extra)")

from lsprotocol import types as lsp  # noqa: E402

from lsp_helpers import make_client, open_doc, change_doc, start_session, wait_for_version  # noqa: E402

LSP_SERVER = [sys.executable, "-m", "flake8_modreg.lsp", "--debounce-ms", "0"]


@pytest_lsp.fixture(config=pytest_lsp.ClientServerConfig(server_command=LSP_SERVER, client_factory=make_client))
async def client(lsp_client: pytest_lsp.LanguageClient):
    yield
    await lsp_client.shutdown_session()


def _rss_mb(client) -> float:
    with open(f"/proc/{client._server.pid}/status") as fh:
        return next(int(ln.split()[1]) for ln in fh if ln.startswith("VmRSS")) / 1024


@pytest.mark.asyncio
@pytest.mark.parametrize("case", list(CASES))
async def test_language_server_survives(client, tmp_path, case):
    """Each hostile document: diagnostics (or none, for what cannot be analysed), and the server keeps answering."""
    data, _, line = CASES[case]
    await start_session(client, str(tmp_path))
    uri = (tmp_path / "hostile.py").as_uri()
    open_doc(client, uri, data.decode("utf-8", "replace"))
    diags = await wait_for_version(client, uri, 1, timeout=TIME_BOUND)
    if expected(case, "lsp") == "MRG101":
        assert [(d.code, d.range.start.line + 1) for d in diags] == [("MRG101", line)]
    else:
        assert diags == []
    change_doc(client, uri, BUG, 2)  # still alive, and right
    assert [d.code for d in await wait_for_version(client, uri, 2, timeout=TIME_BOUND)] == ["MRG101"]


async def _raw_request(client, msg_id: int, method: str, params: object) -> object:
    import asyncio

    fut = asyncio.get_running_loop().create_future()
    client.protocol._request_futures[msg_id] = fut
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(fut, TIME_BOUND)


@pytest.mark.asyncio
async def test_a_request_with_invalid_params_gets_an_error_response(client, tmp_path):
    from pygls.exceptions import JsonRpcInvalidParams

    await start_session(client, str(tmp_path))
    for i, (method, params) in enumerate([("textDocument/codeAction", {"textDocument": 5}), ("textDocument/hover", {})]):
        with pytest.raises(JsonRpcInvalidParams):
            await _raw_request(client, 9000 + i, method, params)
    uri = (tmp_path / "net.py").as_uri()
    open_doc(client, uri, BUG)
    assert [d.code for d in await wait_for_version(client, uri, 1)] == ["MRG101"]


async def _in_process_server(protocol_cls=None):
    """A real ModregServer driven in this process (its protocol swapped for ``protocol_cls`` when given), initialised:
    (server, send(message), the bytes it wrote)."""
    import asyncio

    from flake8_modreg.lsp import ModregServer

    server = ModregServer(debounce=0)
    proto = server.protocol
    if protocol_cls is not None:
        proto.__class__ = protocol_cls
    sent: list[bytes] = []

    class Writer:
        def write(self, data: bytes) -> None:
            sent.append(data)

        def close(self) -> None:
            pass

    proto.set_writer(Writer())

    def send(msg: dict) -> None:
        proto.handle_message(proto.structure_message({"jsonrpc": "2.0", **msg}))

    send({"id": 1, "method": "initialize", "params": {"capabilities": {}, "processId": None, "rootUri": None}})
    await asyncio.sleep(0.05)
    send({"method": "initialized", "params": {}})
    return server, send, sent


async def _edit_in_process(protocol_cls, edits: int) -> tuple[int, list[bytes]]:
    """Open a document in an in-process server, then send ``edits`` didChange notifications; returns how many futures
    pygls still holds, and what the server wrote."""
    import asyncio

    server, send, sent = await _in_process_server(protocol_cls)
    uri = "file:///nowhere/net.py"
    doc = {"uri": uri, "languageId": "python", "version": 1, "text": BUG}
    send({"method": "textDocument/didOpen", "params": {"textDocument": doc}})
    for v in range(2, edits + 2):
        change = {"textDocument": {"uri": uri, "version": v}, "contentChanges": [{"text": BUG + f"# {v}\n"}]}
        send({"method": "textDocument/didChange", "params": change})
        await asyncio.sleep(0)
    await asyncio.sleep(0.3)
    return len(server.protocol._request_futures), sent


@pytest.mark.asyncio
async def test_finished_notification_futures_are_dropped():
    """pygls keeps every handled notification's future (2.9 kB per edit, without bound; a server left open for a
    day of typing grew by megabytes): the server drops the finished ones. Counted, not measured by RSS (allocator
    noise on a loaded CI machine made an RSS bound flaky)."""
    from pygls.protocol import LanguageServerProtocol

    held, sent = await _edit_in_process(None, 400)
    assert held <= 64, held
    assert b"MRG101" in sent[-1]  # the server did the work: the last publish carries the finding
    held_by_plain_pygls, _ = await _edit_in_process(LanguageServerProtocol, 400)
    assert held_by_plain_pygls >= 400  # the leak this guards against is real in the pygls we run


@pytest.mark.asyncio
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's RSS from /proc")
async def test_a_5_mb_document_is_refused_quickly_and_memory_comes_back_on_close(client, tmp_path):
    await start_session(client, str(tmp_path))
    base = _rss_mb(client)
    big = (tmp_path / "big.py").as_uri()
    t0 = time.monotonic()
    open_doc(client, big, BUG * (5_000_000 // len(BUG)))
    assert await wait_for_version(client, big, 1, timeout=TIME_BOUND) == []
    assert time.monotonic() - t0 < 10
    assert any("larger than the 1024 kB limit" in m.message for m in client.log_messages)
    assert _rss_mb(client) - base < 100  # the text itself (a few copies), never a 5 MB parse (2 GB)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=big)))
    assert await wait_for_version(client, big, None, timeout=TIME_BOUND) == []


@pytest.mark.asyncio
async def test_a_closed_document_leaves_nothing_behind_and_memory_is_handed_back(monkeypatch):
    """An analysed document of 2,000 lines, opened and closed again and again: after each close the server keeps
    no reference to its analysis (text, parsed module, findings) and hands freed memory back to the system
    (``_release_memory``: a collection and ``malloc_trim``). Checked on the objects, in-process: an RSS bound on
    the server's process (as before) failed on a loaded CI machine without any leak (8.5 MB over an 8 MB bound)."""
    import asyncio
    import gc
    import importlib.util
    import weakref

    from flake8_modreg import lsp as lsp_module

    released = []
    real_release = lsp_module._release_memory
    monkeypatch.setattr(lsp_module, "_release_memory", lambda: (released.append(1), real_release()))
    spec = importlib.util.spec_from_file_location("scaling", Path(__file__).parent.parent / "bench" / "scaling.py")
    scaling = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scaling)
    text = scaling.generate(2000)
    server, send, _ = await _in_process_server()
    refs = []
    for i in range(3):
        uri = f"file:///nowhere/m{i}.py"
        send({"method": "textDocument/didOpen",
              "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}})
        deadline = time.monotonic() + TIME_BOUND
        while (server.docs.get(uri) is None or server.docs[uri].last is None) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        last = server.docs[uri].last
        assert last is not None and last.version == 1 and len(last.diagnostics) > 100
        # the analysis holds the text, the parsed module (libcst nodes cannot be weakly referenced), the findings,
        # and what the next version would be built on: the incremental parse and the node memo
        refs.append((weakref.ref(last), weakref.ref(last.parsed), weakref.ref(last.memo)))
        del last
        send({"method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}})
        await asyncio.sleep(0.05)
        assert uri not in server.docs and uri not in server.workspace.text_documents
        assert len(released) == i + 1
    gc.collect()
    assert all(ref() is None for group in refs for ref in group)
