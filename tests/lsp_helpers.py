"""Helpers for the language-server tests: a pytest-lsp client that records every
``publishDiagnostics`` with its version, and a client-side applier of edits."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from lsprotocol import types as lsp
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES
from pytest_lsp.client import register_lsp_features

SERVER = [sys.executable, "-m", "flake8_modreg.lsp", "--log-level", "debug"]


def capabilities(
    *, encodings: list[str] | None = None, resolve: bool = False, document_changes: bool = True, watch: bool = False
) -> lsp.ClientCapabilities:
    """A client that offers ``encodings`` (None: says nothing, so UTF-16), maybe lazy code-action edits, maybe file watching."""
    return lsp.ClientCapabilities(
        general=lsp.GeneralClientCapabilities(position_encodings=encodings) if encodings else None,
        workspace=lsp.WorkspaceClientCapabilities(
            workspace_edit=lsp.WorkspaceEditClientCapabilities(document_changes=document_changes),
            did_change_watched_files=lsp.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True) if watch else None,
        ),
        text_document=lsp.TextDocumentClientCapabilities(
            code_action=lsp.CodeActionClientCapabilities(
                resolve_support=lsp.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None,
                data_support=True,
            ),
            publish_diagnostics=lsp.PublishDiagnosticsClientCapabilities(version_support=True),
        ),
    )


async def start_session(client: LanguageClient, root: str, *, folders: list[str] | None = None, **caps: Any) -> lsp.InitializeResult:
    """Initialise with ``root`` as the root and the only workspace folder, or with the workspace ``folders``."""
    from pathlib import Path

    return await client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(**caps),
            root_uri=Path(root).as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=Path(f).as_uri(), name=Path(f).name) for f in folders or [root]],
        )
    )


def analyses(client: LanguageClient, uri: str) -> list[str]:
    """The server's debug log lines, one per analysis of ``uri``."""
    return [m.message for m in client.log_messages if m.message.startswith(f"analysed {uri} ")]


def make_client() -> LanguageClient:
    """pytest-lsp's client, plus a log of (uri, version, diagnostics, monotonic time)."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []  # type: ignore[attr-defined]

    def publish(c: LanguageClient, params: lsp.PublishDiagnosticsParams) -> None:
        c.diagnostics[params.uri] = params.diagnostics
        c.published.append((params.uri, params.version, params.diagnostics, time.monotonic()))  # type: ignore[attr-defined]

    client.registrations = []  # type: ignore[attr-defined]

    def register(c: LanguageClient, params: lsp.RegistrationParams) -> None:
        c.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    features = dict(DEFAULT_CLIENT_FEATURES)
    features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    features[lsp.CLIENT_REGISTER_CAPABILITY] = register
    register_lsp_features(client, features)
    return client


async def wait_for_version(client: LanguageClient, uri: str, version: int, timeout: float = 20.0) -> list[Any]:
    """The diagnostics the server published for ``uri`` at ``version``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for u, v, diags, _ in reversed(client.published):  # type: ignore[attr-defined]
            if u == uri and v == version:
                return list(diags)
        await asyncio.sleep(0.005)
    raise AssertionError(f"no diagnostics for {uri} v{version}; got {[(u, v) for u, v, *_ in client.published]}")  # type: ignore[attr-defined]


async def wait_until(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
        )
    )


def change_doc(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def utf16_offset(line: str, character: int) -> int:
    """Code-point index of a UTF-16 ``character`` offset in ``line``."""
    units = 0
    for i, ch in enumerate(line):
        if units >= character:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def apply_text_edits(text: str, edits: list[lsp.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 positions) the way a client does: last edit first."""
    lines = text.splitlines(True)

    def offset(pos: lsp.Position) -> int:
        if pos.line >= len(lines):
            return len(text)
        return sum(len(ln) for ln in lines[: pos.line]) + utf16_offset(lines[pos.line], pos.character)

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_of(edit: lsp.WorkspaceEdit, uri: str) -> list[lsp.TextEdit]:
    if edit.document_changes:
        return [e for dc in edit.document_changes if dc.text_document.uri == uri for e in dc.edits]
    return list((edit.changes or {}).get(uri, []))


async def wait_for_publish(client: LanguageClient, uri: str, after: int, timeout: float = 20.0) -> list[Any]:
    """The first diagnostics published for ``uri`` after the first ``after`` entries of ``client.published``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for u, _v, diags, _ in client.published[after:]:  # type: ignore[attr-defined]
            if u == uri:
                return list(diags)
        await asyncio.sleep(0.005)
    raise AssertionError(f"no new diagnostics for {uri}")
