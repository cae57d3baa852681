"""The language server: ``python -m flake8_modreg.lsp`` (``modreg lsp`` once the CLI lands).

A thin adapter over :func:`flake8_modreg.core.check_module` on pygls, over stdio.

* **Diagnostics** on open and save (at once) and on change (debounced: the
  analysis starts ``--debounce-ms`` after the last change, default 150), for
  Python documents; cleared on close.  Source ``modreg``; ``code`` is the rule
  code with ``codeDescription.href`` its docs page; the range covers the
  reported node; the message is what is wrong (one short line) and, on a
  second line, the remedy; severity Warning, or Error for rules whose code cannot run
  (:data:`CANNOT_RUN`).  The core's columns are code points; they are
  converted to the position encoding negotiated with the client (UTF-16
  unless the client offers UTF-8 or UTF-32 first) by pygls' position codec.
  ``# noqa`` is honoured exactly as flake8 reads it (:mod:`flake8_modreg.noqa`).
* **Scheduling.**  Analyses run on one worker thread, never overlap and never
  queue: a change only (re)arms the document's debounce timer; a change that
  arrives while an analysis runs makes that analysis stale (its result is
  dropped, never published for the wrong text) and one analysis of the latest
  text follows.  A burst of 100 edits costs one analysis.
* **Half-typed code.**  When the text does not parse, the server publishes an
  empty list for that version: no MRG diagnostic may point at a line that has
  moved.  The syntax error itself is the Python language server's business.
* **Code actions.**  A finding's own fix ("quick fix", the rule's fix title),
  computed by applying that one :class:`~flake8_modreg.findings.Fix` to the
  module the analysis parsed; "Fix all modreg issues in file" (safe fixes
  only, via :func:`flake8_modreg.fixer.fix`, skipping what ``# noqa``
  silences); "Disable MRG### for this line" (``# noqa: MRG###``, or the code
  added to an existing ``# noqa: ...`` list).  Edits are minimal ``TextEdit``s
  and are computed lazily (``codeAction/resolve``) when the client can.
* **Configuration**: for each document, the ``[tool.modreg]`` that ``modreg
  check FILE`` uses for it: the nearest ``pyproject.toml`` with that table,
  from the document's folder upwards (so each folder of a multi-root
  workspace, and each sub-project of a monorepo, has its own).  The
  selection, ``module-bases``, ``exclude`` and ``per-file-ignores`` (patterns
  relative to that file's folder) are read and validated as the CLI does.
  A change is picked up at the next analysis (every ``pyproject.toml`` on the
  way up is watched by mtime); saving a ``pyproject.toml`` in the editor, or
  a change the client reports with ``workspace/didChangeWatchedFiles``
  (registered for ``**/pyproject.toml`` when the client can), re-checks the
  open documents at once.  An error in the file is shown to the user
  (``window/showMessage``) and the defaults are used meanwhile.
* **Notebooks** (LSP 3.17 notebook documents, as VS Code's Jupyter sends
  them): the Python code cells are joined and masked exactly as ``modreg
  check`` joins a ``.ipynb`` (:mod:`flake8_modreg.notebook`), analysed on
  each change of any cell (debounced), and each cell gets the diagnostics
  that fall in it, with its own line numbers.  A cell's code actions are
  those of a ``.py`` document (the finding's fix, "Disable MRG### for this
  line" in the cell, "Fix all modreg issues in notebook", also as
  ``source.fixAll.modreg`` and VS Code's ``notebook.source.fixAll.modreg``),
  computed on the joined source and split back into one ``TextEdit`` per
  cell that changed (:func:`flake8_modreg.notebook.split_source`, as
  ``modreg check --fix nb.ipynb`` writes the cells).
* **Never a traceback to the client**: a handler error becomes one line in the
  editor's LSP log (``window/logMessage``).

Documents are synchronised in full: pygls' incremental sync splits lines with
``str.splitlines``, which also breaks at form feeds and ``\\u2028`` where LSP
clients do not, and would corrupt such files.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import concurrent.futures
import dataclasses
import gc
import logging
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import libcst as cst
from flake8.defaults import NOQA_INLINE_REGEXP

from . import __version__
from . import incremental
from .core import check_module, on_deep_stack, parse
from .docs import DOCS_URL
from .findings import CANNOT_RUN, Applicability, Finding, ModregError  # CANNOT_RUN: published as errors
from .fixer import apply_fixes, fix
from .noqa import Noqa, keep_unsuppressed
from .model import NodeMemo
from .positions import node_positions, statement_positions
from .settings import Config

try:  # the server needs the optional `lsp` extra
    from lsprotocol import types as lsp
    from pygls.lsp.server import LanguageServer

    _MISSING: ImportError | None = None
except ImportError as e:  # pragma: no cover - reported by main()
    lsp = None  # type: ignore[assignment]
    LanguageServer = object  # type: ignore[assignment,misc]
    _MISSING = e

log = logging.getLogger("flake8_modreg.lsp")

SOURCE = "modreg"
FIX_ALL_KIND = "source.fixAll.modreg"
#: VS Code's notebook-wide kind (``notebook.codeActionsOnSave``), as ruff's server offers ``notebook.source.fixAll.ruff``
NOTEBOOK_FIX_ALL_KIND = "notebook.source.fixAll.modreg"
PYTHON_SUFFIXES = (".py", ".pyi", ".pyw")
DEFAULT_DEBOUNCE_MS = 150
#: larger documents are not analysed (libcst needs about 0.3 s and 30 MB per 1,000 lines)
DEFAULT_MAX_KB = 1024

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


# ---------------------------------------------------------------------------
# Text helpers (pure)
# ---------------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split where LSP clients and libcst split (``\\r\\n``, ``\\r``, ``\\n``).

    Unlike ``str.splitlines``, form feeds and ``\\u2028`` stay inside their line.
    """
    return _LINE.findall(text)


@dataclasses.dataclass(frozen=True)
class LineEdit:
    """Replace ``[start, end)`` (0-based code points) of 0-based ``line`` with ``text``."""

    line: int
    start: int
    end: int
    text: str


def noqa_edit(noqa: Noqa, line: int, code: str) -> LineEdit | None:
    """The edit that makes flake8 (and this server) ignore ``code`` reported on 1-based ``line``.

    * no ``# noqa`` where flake8 looks: append ``  # noqa: CODE`` to the last
      line of that range (so never inside a multi-line string or after a
      backslash), after any comment already there;
    * ``# noqa: X, Y``: add ``, CODE`` after the last listed code;
    * a blanket ``# noqa``, or one that already covers the code: ``None``.
    """
    lines = noqa.lines
    if not 0 < line <= len(lines) or noqa.suppresses(code, line):
        return None
    first, last = noqa.span(line)
    text = "".join(lines[first - 1 : last])
    m = NOQA_INLINE_REGEXP.search(text)
    if m is not None and m.group("codes") is not None:
        offset = m.start("codes") + len(m.group("codes").rstrip(", \t\r\n\f\v"))
        n = first  # the physical line holding that offset
        while n < last and offset >= len(lines[n - 1]):
            offset -= len(lines[n - 1])
            n += 1
        return LineEdit(n - 1, offset, offset, f", {code}")
    content = lines[last - 1].rstrip("\r\n")
    kept = content.rstrip()
    return LineEdit(last - 1, len(kept), len(content), f"  # noqa: {code}")


def minimal_edit(old: str, new: str) -> tuple[int, int, str] | None:
    """``(start, end, text)``: the one replacement of ``old[start:end]`` that gives ``new``.

    Trims the common prefix and suffix, never splitting a ``\\r\\n``.
    """
    if old == new:
        return None
    n = min(len(old), len(new))
    p = 0
    while p < n and old[p] == new[p]:
        p += 1
    if p and old[p - 1] == "\r" and p < len(old) and old[p] == "\n":
        p -= 1
    s = 0
    while s < n - p and old[-1 - s] == new[-1 - s]:
        s += 1
    end = len(old) - s
    if s and end > 0 and old[end - 1] == "\r" and old[end] == "\n":
        end += 1
        s -= 1
    return p, end, new[p : len(new) - s]


def _offset_position(starts: list[int], offset: int) -> tuple[int, int]:
    """0-based (line, code-point column) of a text offset, given the lines' start offsets."""
    i = max(bisect.bisect_right(starts, offset) - 1, 0)
    return i, offset - starts[i]


# ---------------------------------------------------------------------------
# Configuration: the CLI's ``[tool.modreg]`` (flake8_modreg.config)
# ---------------------------------------------------------------------------


def read_project(start: str | os.PathLike[str] | None) -> tuple[Any, list[str]]:
    """The :class:`~flake8_modreg.config.ProjectConfig` that applies at ``start`` (a document or a folder), plus errors.

    Found exactly as ``modreg check FILE`` finds it (:func:`flake8_modreg.config.discover`):
    the nearest ``pyproject.toml`` with a ``[tool.modreg]`` table, from ``start``
    upwards.  Never raises: the editor keeps linting with the defaults when
    the file is broken (and shows the error as a message); the CLI stops with
    exit 2 on the same problem.
    """
    from .config import ConfigError, ProjectConfig, discover

    if start is None:
        return None, []
    path = Path(os.path.abspath(start))
    try:
        return discover(path), []
    except ConfigError as e:
        return ProjectConfig(root=path if path.is_dir() else path.parent), [f"modreg: {e}; using the defaults"]


def read_config(start: str | os.PathLike[str] | None) -> tuple[Config, list[str]]:
    """``Config`` from the ``[tool.modreg]`` that applies at ``start``, plus warnings (never raises)."""
    project, warnings = read_project(start)
    return (project.config() if project is not None else Config()), warnings


def _stamp(directory: str) -> tuple[Any, ...]:
    """What :func:`read_project` depends on for files in ``directory``: every ``pyproject.toml`` on the way up."""
    out = []
    d = directory
    while True:
        try:
            st = os.stat(os.path.join(d, "pyproject.toml"))
            out.append((d, st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            pass
        parent = os.path.dirname(d)
        if parent == d:
            return tuple(out)
        d = parent


class _ConfigCache:
    """:func:`read_project` per folder, found again when a ``pyproject.toml`` on the way up changes.

    A folder's entry is valid while the ``pyproject.toml`` files (mtime, size,
    inode) of it and of every folder above it are unchanged: a configuration
    that is edited, created nearer the document or deleted is picked up on
    the next analysis, whether the editor saved it or another program wrote it.
    ``on_error`` receives each configuration error once per version of the files.
    """

    def __init__(self, on_error: Callable[[str], None] | None = None) -> None:
        self._seen: dict[str, tuple[object, Any, Config]] = {}
        self._shown: set[tuple[str, object]] = set()
        self.on_error = on_error

    def _entry(self, path: str | None) -> tuple[object, Any, Config]:
        if path is None:
            return None, None, Config()
        path = os.path.abspath(path)
        directory = path if os.path.isdir(path) else os.path.dirname(path)
        stamp = _stamp(directory)
        hit = self._seen.get(directory)
        if hit is not None and hit[0] == stamp:
            return hit
        project, warnings = read_project(directory)
        for w in warnings:
            if (w, stamp) in self._shown:
                continue
            self._shown.add((w, stamp))
            log.warning("%s", w)
            if self.on_error is not None:
                self.on_error(w)
        entry = (stamp, project, project.config() if project is not None else Config())
        if len(self._seen) > 4096:  # a long session across many folders
            self._seen.clear()
        self._seen[directory] = entry
        return entry

    def get(self, path: str | None) -> Config:
        """The ``Config`` for a document at ``path`` (a folder: for the documents in it); defaults for None."""
        return self._entry(path)[2]

    def project(self, path: str | None) -> Any:
        """The ``ProjectConfig`` (``exclude``, ``per-file-ignores``) for ``path``, or None without one."""
        return self._entry(path)[1]


# ---------------------------------------------------------------------------
# Analysis (runs on the worker thread)
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Analysis:
    """One analysis of one version of a document."""

    version: int | None
    text: str
    lines: list[str]
    #: the parsed module (the findings' fixes refer to its nodes), or None
    module: cst.Module | None = None
    #: findings that ``# noqa`` does not silence
    findings: list[Finding] = dataclasses.field(default_factory=list)
    diagnostics: list[Any] = dataclasses.field(default_factory=list)
    #: why nothing could be analysed (a syntax error), or None
    error: str | None = None
    seconds: float = 0.0
    #: the parse to build the next version's on (:mod:`flake8_modreg.incremental`); the last good one on errors
    parsed: Any = None
    #: per-node facts for the next version's analysis (:class:`~flake8_modreg.model.NodeMemo`)
    memo: Any = None
    #: a notebook: its code cells (uri, version), each joined line's (cell, line), cell number -> uri
    cells: list[tuple[str, int]] | None = None
    cell_lines: list[Any] = dataclasses.field(default_factory=list)
    cell_numbers: dict[int, str] | None = None
    #: a notebook: the code cells' texts (as joined) and the masked IPython lines, to split a fixed source back
    cell_texts: list[str] = dataclasses.field(default_factory=list)
    masks: dict[int, str] = dataclasses.field(default_factory=dict)


def analyse(
    text: str,
    *,
    version: int | None,
    path: str | None,
    config: Config,
    codec: Any,
    project: Any = None,
    previous: Analysis | None = None,
) -> Analysis:
    """Check ``text``; turn the findings ``# noqa`` and ``per-file-ignores`` keep into LSP diagnostics.

    With ``previous`` (an analysis of an earlier version of the document),
    only the top-level statements the edit touched are parsed again.
    """
    t0 = time.perf_counter()
    lines = split_lines(text)
    result = Analysis(version, text, lines)
    bom = 1 if text.startswith("\ufeff") else 0  # the core drops a BOM; the editor's text may keep it
    gc_was_enabled = gc.isenabled()
    gc.disable()  # libcst builds ~100k nodes per 1,000 lines: collections during the parse cost 10-30%
    base = previous.parsed if previous is not None else None
    parsed: list[incremental.Parsed] = []

    def parser(source: str) -> cst.Module:
        parsed.append(incremental.reparse(base, source, parse))
        return parsed[-1].module

    def positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict:
        p = parsed[-1] if parsed else None
        if p is None or p.module is not module or not p.lengths:
            return node_positions(module, nodes)
        return statement_positions(module, nodes, p.text, p.lengths, p.spans, base.spans if base is not None else None)

    memo = NodeMemo(previous.memo if previous is not None else None)
    try:
        module, findings = check_module(text[bom:], path=path, config=config, parser=parser, positions=positions, memo=memo)
    except ModregError as e:
        result.error = str(e)
    except Exception as e:  # a bug of ours: one line in the log, no diagnostics, server alive
        log.error("internal error while checking %s: %s: %s", path, type(e).__name__, " ".join(str(e).split()))
        result.error = f"internal error: {type(e).__name__}"
    else:
        if findings:
            findings = Noqa(split_lines(text[bom:])).filter(findings)
        if findings and project is not None and path:
            findings = [f for f in findings if not project.per_file_ignored(path, f.code)]
        result.module, result.findings = module, findings
        result.diagnostics = [to_diagnostic(f, lines, codec, bom) for f in findings]
    finally:
        if gc_was_enabled:
            gc.enable()
    result.parsed = parsed[-1] if parsed else base
    result.memo = memo if result.error is None or previous is None else previous.memo
    result.seconds = time.perf_counter() - t0
    return result


def to_diagnostic(f: Finding, lines: Sequence[str], codec: Any, bom: int = 0) -> Any:
    """An LSP diagnostic for ``f``; ``lines`` are the document's, ``codec`` converts code points to client units."""
    col = f.col + (bom if f.line == 1 else 0)
    end_col = f.end_col + (bom if f.end_line == 1 else 0)
    rng = codec.range_to_client_units(
        lines, lsp.Range(start=lsp.Position(f.line - 1, col), end=lsp.Position(f.end_line - 1, end_col))
    )
    fixable = f.fix is not None and f.fix.applicability is not Applicability.NONE
    data = {"fix": f.fix.applicability.value} if fixable else None  # type: ignore[union-attr]
    return lsp.Diagnostic(
        range=rng,
        # what is wrong (at most 80 characters) on the first line, which editors' inline text shows; the remedy
        # on the second, for the hover / problems list (Neovim's virtual text joins the lines)
        message=f"{f.message}\n{f.fix_hint}",
        severity=lsp.DiagnosticSeverity.Error if f.code in CANNOT_RUN else lsp.DiagnosticSeverity.Warning,
        code=f.code,
        code_description=lsp.CodeDescription(href=DOCS_URL.format(code=f.code)),
        source=SOURCE,
        data=data,
    )


def single_fix_text(analysis: Analysis, finding: Finding) -> str | None:
    """The document text with only ``finding``'s fix applied, or None if that would not parse."""
    assert analysis.module is not None and finding.fix is not None
    try:
        new = on_deep_stack(lambda: apply_fixes(analysis.module, [finding.fix]).code)
        on_deep_stack(cst.parse_module, new)
    except Exception:
        log.warning("the fix of %s at line %d would break the syntax; not offered", finding.code, finding.line)
        return None
    return ("\ufeff" + new) if analysis.text.startswith("\ufeff") else new


def fix_all_text(text: str, *, path: str | None, config: Config) -> str | None:
    """The document text with every safe fix applied (what ``# noqa`` silences is left alone)."""
    try:
        result = fix(text, path=path, config=config, keep=keep_unsuppressed)
    except ModregError as e:
        log.info("no fix-all for %s: %s", path, e)
        return None
    return result.source if isinstance(result.source, str) else None


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Doc:
    """Scheduling state and the last result for one open document."""

    timer: Any = None
    running: bool = False
    dirty: bool = False
    last_change: float = 0.0
    #: the last published analysis (whose version may be older than the text)
    last: Analysis | None = None


class _LspLogHandler(logging.Handler):
    """Log records to the client as ``window/logMessage``, one line each."""

    def __init__(self, server: "ModregServer") -> None:
        super().__init__()
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = record.levelno
            kind = (
                lsp.MessageType.Error
                if level >= logging.ERROR
                else lsp.MessageType.Warning
                if level >= logging.WARNING
                else lsp.MessageType.Info
                if level >= logging.INFO
                else lsp.MessageType.Log
            )
            self.server.send_log(kind, " ".join(record.getMessage().split()))
        except Exception:  # logging must never raise
            pass


def _guard(default: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Handlers never raise: an error is logged as one line and ``default`` returned."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as e:
                log.error("internal error in %s: %s: %s", fn.__name__, type(e).__name__, e)
                return default

        wrapper.__name__ = fn.__name__
        return wrapper

    return wrap


def _release_memory() -> None:
    """Collect now (analyses run with the collector off) and hand freed heap pages back to the system."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc keeps freed memory otherwise
        except (OSError, AttributeError):
            pass


_IGNORED = object()  # a message answered (or dropped) while it was read: nothing to dispatch


def _make_protocol() -> Any:
    """pygls' protocol, hardened for a long-lived server:

    * a request whose params do not fit the LSP schema gets a JSON-RPC error
      response (``Invalid Params``) instead of silence and a traceback on
      stderr (a notification of that kind is one line in the log);
    * pygls keeps the future of every handled notification in
      ``_request_futures`` forever (about 2.9 kB per edit): finished ones are
      dropped as they accumulate.
    """
    from pygls.exceptions import JsonRpcException
    from pygls.protocol import LanguageServerProtocol

    pygls_log = logging.getLogger("pygls.protocol.json_rpc")

    class Protocol(LanguageServerProtocol):  # type: ignore[misc,valid-type]
        def structure_message(self, data: dict[str, Any]) -> Any:
            if "jsonrpc" not in data:
                return data
            was = pygls_log.disabled
            pygls_log.disabled = True  # it logs the whole traceback as the message
            try:
                return super().structure_message(data)
            except JsonRpcException as e:
                method = data.get("method") if isinstance(data.get("method"), str) else "?"
                log.error("invalid %s message: %s", method, e.message)
                if "id" in data and "method" in data:
                    self._send_response(
                        data["id"], error=lsp.ResponseError(code=e.code, message=f"{e.message} for {method}")
                    )
                return _IGNORED
            finally:
                pygls_log.disabled = was

        def handle_message(self, message: Any) -> Any:
            if message is _IGNORED:
                return None
            try:
                return super().handle_message(message)
            finally:
                futures = self._request_futures
                if len(futures) > 32:
                    for key in [k for k, f in futures.items() if f.done()]:
                        del futures[key]

    return Protocol


class ModregServer(LanguageServer):  # type: ignore[misc,valid-type]
    def __init__(self, *, debounce: float = DEFAULT_DEBOUNCE_MS / 1000, max_bytes: int = DEFAULT_MAX_KB * 1024) -> None:
        super().__init__(
            "modreg",
            __version__,
            protocol_cls=_make_protocol(),
            text_document_sync_kind=lsp.TextDocumentSyncKind.Full,
            notebook_document_sync=lsp.NotebookDocumentSyncOptions(
                notebook_selector=[
                    lsp.NotebookDocumentFilterWithCells(
                        cells=[lsp.NotebookCellLanguage(language="python")], notebook="jupyter-notebook"
                    )
                ]
            ),
        )
        #: open notebooks -> the cell documents last published for them
        self.notebooks: dict[str, list[str]] = {}
        self.debounce = debounce
        self.max_bytes = max_bytes
        self._warned: tuple[str | None, int | None] | None = None
        self.docs: dict[str, _Doc] = {}
        self.configs = _ConfigCache(on_error=self._show_error)
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="modreg-analysis")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._register()

    # -- plumbing ---------------------------------------------------------

    def _register(self) -> None:
        def on(method: str, handler: Callable[..., Any], options: Any = None) -> None:
            async def fn(params: Any) -> Any:  # pygls tags handlers; a bound method cannot carry attributes
                return await handler(params)

            self.feature(method, options)(fn)

        on(lsp.INITIALIZED, self._initialized)
        on(lsp.TEXT_DOCUMENT_DID_OPEN, self._did_open)
        on(lsp.TEXT_DOCUMENT_DID_CHANGE, self._did_change)
        on(lsp.TEXT_DOCUMENT_DID_SAVE, self._did_save, lsp.SaveOptions(include_text=False))
        on(lsp.TEXT_DOCUMENT_DID_CLOSE, self._did_close)
        on(lsp.NOTEBOOK_DOCUMENT_DID_OPEN, self._nb_did_open)
        on(lsp.NOTEBOOK_DOCUMENT_DID_CHANGE, self._nb_did_change)
        on(lsp.NOTEBOOK_DOCUMENT_DID_SAVE, self._nb_did_save)
        on(lsp.NOTEBOOK_DOCUMENT_DID_CLOSE, self._nb_did_close)
        on(
            lsp.TEXT_DOCUMENT_CODE_ACTION,
            self._code_action,
            lsp.CodeActionOptions(
                code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL_KIND, NOTEBOOK_FIX_ALL_KIND], resolve_provider=True
            ),
        )
        on(lsp.CODE_ACTION_RESOLVE, self._resolve_code_action)
        on(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES, self._did_change_watched_files)
        on(lsp.SHUTDOWN, self._shutdown)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls' default pops up "Error in server" in the editor; a log line is enough
        log.error("server error (%s): %s", getattr(source, "__name__", source), " ".join(str(error).split()))

    def send_log(self, kind: Any, message: str) -> None:
        """``window/logMessage`` from any thread (the protocol writer belongs to the loop)."""
        params = lsp.LogMessageParams(type=kind, message=message)
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread:
            self.window_log_message(params)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self.window_log_message, params)

    def _show_error(self, message: str) -> None:
        """A problem the user must act on (a broken configuration): ``window/showMessage``, from any thread."""
        params = lsp.ShowMessageParams(type=lsp.MessageType.Error, message=message)
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread:
            self.window_show_message(params)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self.window_show_message, params)

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop_thread = threading.get_ident()
        return self._loop

    def _settings(self, path: str | None) -> tuple[Config, Any]:
        """``(Config, ProjectConfig)`` for a document: the nearest ``[tool.modreg]`` above it, as ``modreg check``
        finds it; a document that is not a file (``untitled:``) gets the first workspace folder's."""
        start = path if path and os.path.isabs(path) else self._first_folder()
        return self.configs.get(start), self.configs.project(start)

    def _first_folder(self) -> str | None:
        from pygls.uris import to_fs_path

        ws = self.workspace
        roots = [p for p in (to_fs_path(f.uri) for f in ws.folders.values()) if p]
        return ws.root_path or (roots[0] if roots else None)

    def _is_python(self, uri: str) -> bool:
        doc = self.workspace.get_text_document(uri)
        return doc.language_id == "python" or (doc.path or uri).endswith(PYTHON_SUFFIXES)

    def _publish(self, uri: str, diagnostics: list[Any], version: int | None = None) -> None:
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    # -- lifecycle --------------------------------------------------------

    @_guard(None)
    async def _initialized(self, params: Any) -> None:
        self._bind_loop()
        log.info(
            "modreg %s language server; position encoding %s; debounce %d ms",
            __version__,
            getattr(self.workspace.position_encoding, "value", self.workspace.position_encoding),
            round(self.debounce * 1000),
        )
        # a pyproject.toml changed by another program (git checkout, a script): the client tells us when it can watch
        ws = self.client_capabilities.workspace
        watched = ws.did_change_watched_files if ws is not None else None
        if watched is not None and watched.dynamic_registration:
            fut = self.client_register_capability(
                lsp.RegistrationParams(
                    registrations=[
                        lsp.Registration(
                            id="modreg-pyproject",
                            method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(
                                watchers=[lsp.FileSystemWatcher(glob_pattern="**/pyproject.toml")]
                            ),
                        )
                    ]
                )
            )
            # a refusal costs nothing: saving pyproject.toml in the editor and the mtime check still work
            fut.add_done_callback(lambda f: f.cancelled() or f.exception() is None or log.info("no file watching: %s", f.exception()))

    def _recheck_all(self) -> None:
        """The configuration may have changed: every open document (and notebook) is checked again."""
        for uri in list(self.docs):
            self._changed(uri, 0.0)

    @_guard(None)
    async def _did_change_watched_files(self, params: Any) -> None:
        self._bind_loop()
        if any(c.uri.endswith("/pyproject.toml") for c in params.changes):
            self._recheck_all()

    @_guard(None)
    async def _shutdown(self, params: Any) -> None:
        for doc in self.docs.values():
            if doc.timer is not None:
                doc.timer.cancel()
        self.docs.clear()
        self._worker.shutdown(wait=False, cancel_futures=True)

    # -- document events --------------------------------------------------

    @_guard(None)
    async def _did_open(self, params: Any) -> None:
        self._bind_loop()
        uri = params.text_document.uri
        old = self.docs.pop(uri, None)
        if old is not None and old.timer is not None:
            old.timer.cancel()
        self.docs[uri] = _Doc()
        self._changed(uri, 0.0)

    @_guard(None)
    async def _did_change(self, params: Any) -> None:
        self._bind_loop()
        self._changed(params.text_document.uri, self.debounce)

    @_guard(None)
    async def _did_save(self, params: Any) -> None:
        self._bind_loop()
        uri = params.text_document.uri
        if uri.endswith("/pyproject.toml"):  # the configuration may have changed
            self._recheck_all()
        elif uri.endswith(PYTHON_SUFFIXES) and len(self.docs) > 1:
            # other buffers may import what was just saved: they are checked again (the resolver reads the
            # new summary, its size or mtime changed; a new file is found once the module memo is forgotten)
            from .resolver import invalidate

            invalidate()
            for other in list(self.docs):
                if other != uri:
                    self._changed(other, self.debounce)
        self._changed(uri, 0.0)

    @_guard(None)
    async def _did_close(self, params: Any) -> None:
        uri = params.text_document.uri
        doc = self.docs.pop(uri, None)
        if doc is not None:
            if doc.timer is not None:
                doc.timer.cancel()
            doc.last = None
            _release_memory()
        self._publish(uri, [])

    # -- scheduling -------------------------------------------------------

    def _changed(self, uri: str, delay: float) -> None:
        """The text of ``uri`` changed: (re)arm its timer; a running analysis is now stale."""
        doc = self.docs.get(uri)
        if doc is None:
            return
        loop = self._bind_loop()
        doc.dirty = True
        doc.last_change = loop.time()
        if doc.timer is not None:
            doc.timer.cancel()
            doc.timer = None
        if not doc.running:
            doc.timer = loop.call_later(delay, self._start, uri, doc)
        # else: _finished() re-arms the timer for the latest text

    def _start(self, uri: str, doc: _Doc) -> None:
        doc.timer = None
        if self.docs.get(uri) is not doc or doc.running:
            return
        try:
            doc.dirty = False
            if uri in self.notebooks:
                return self._start_notebook(uri, doc)
            if not self._is_python(uri):
                return
            text_doc = self.workspace.get_text_document(uri)
            text, version, path = text_doc.source, text_doc.version, text_doc.path
            if self._too_large(text, path, version):
                doc.last = None  # drop the last analysis (its tree) too
                self._publish(uri, [], version)
                return
            config, project = self._settings(path)
            if project is not None and path and project.excluded(path):
                self._publish(uri, [], version)  # `exclude`d: the CLI never reports it, nor does the editor
                return
            codec = self.workspace.position_codec
            doc.running = True
            fut = self._bind_loop().run_in_executor(
                self._worker,
                lambda: analyse(text, version=version, path=path, config=config, codec=codec, project=project, previous=doc.last),
            )
            fut.add_done_callback(lambda f: self._finished(uri, doc, f))
        except Exception as e:  # e.g. the worker was shut down
            doc.running = False
            log.error("internal error before checking %s: %s: %s", uri, type(e).__name__, e)

    def _finished(self, uri: str, doc: _Doc, fut: Any) -> None:
        doc.running = False
        try:
            if self.docs.get(uri) is not doc or fut.cancelled():
                return  # closed (or reopened) meanwhile, or shutting down
            exc = fut.exception()
            if exc is not None:
                log.error("internal error while checking %s: %s: %s", uri, type(exc).__name__, exc)
                return
            result: Analysis = fut.result()
            outcome = f"{len(result.diagnostics)} finding(s)" if result.error is None else result.error
            log.debug("analysed %s v%s in %.1f ms: %s", uri, result.version, result.seconds * 1000, outcome)
            if doc.dirty:
                return  # the text changed meanwhile: never publish for the wrong text
            doc.last = result
            if result.cells is not None:
                self._publish_cells(uri, result)
            else:
                self._publish(uri, result.diagnostics, result.version)
        except Exception as e:
            log.error("internal error after checking %s: %s: %s", uri, type(e).__name__, e)
        finally:
            if self.docs.get(uri) is doc and doc.dirty and doc.timer is None:
                assert self._loop is not None
                delay = max(0.0, doc.last_change + self.debounce - self._loop.time())
                doc.timer = self._loop.call_later(delay, self._start, uri, doc)

    # -- notebooks --------------------------------------------------------

    @_guard(None)
    async def _nb_did_open(self, params: Any) -> None:
        self._bind_loop()
        uri = params.notebook_document.uri
        old = self.docs.pop(uri, None)
        if old is not None and old.timer is not None:
            old.timer.cancel()
        self.docs[uri] = _Doc()
        self.notebooks[uri] = []
        self._changed(uri, 0.0)

    @_guard(None)
    async def _nb_did_change(self, params: Any) -> None:
        self._bind_loop()
        self._changed(params.notebook_document.uri, self.debounce)

    @_guard(None)
    async def _nb_did_save(self, params: Any) -> None:
        self._bind_loop()
        self._changed(params.notebook_document.uri, 0.0)

    @_guard(None)
    async def _nb_did_close(self, params: Any) -> None:
        uri = params.notebook_document.uri
        doc = self.docs.pop(uri, None)
        if doc is not None and doc.timer is not None:
            doc.timer.cancel()
        cells = self.notebooks.pop(uri, [])
        log.debug("closed notebook %s: clearing %d cell(s)", uri, len(cells))
        for cell_uri in cells:
            self._publish(cell_uri, [])

    def _notebook_job(self, uri: str) -> tuple[list[tuple[str, int]], Any, Callable[[], Analysis] | None] | None:
        """``(cells, excluded analysis or None, work)`` for the notebook ``uri`` as it is now, or None if it is not open.

        ``cells`` are the Python code cells' ``(uri, version)``, what an analysis is current for.

        ``work`` (run on the worker) joins the Python code cells as ``modreg check`` joins a ``.ipynb`` and
        analyses them; an ``exclude``d notebook gets an empty analysis instead.
        """
        from pygls.uris import to_fs_path

        from .notebook import join_cells

        nb = self.workspace.get_notebook_document(notebook_uri=uri)
        if nb is None:
            return None
        cells = []  # (cell number as the notebook shows it, cell document uri, its version, its text)
        for n, cell in enumerate(nb.cells, 1):
            if cell.kind != lsp.NotebookCellKind.Code:
                continue
            cell_doc = self.workspace.get_text_document(cell.document)
            if cell_doc.language_id not in (None, "python"):
                continue
            cells.append((n, cell.document, cell_doc.version, cell_doc.source))
        path = to_fs_path(uri)
        config, project = self._settings(path)
        snapshot = [(c[1], c[2]) for c in cells]
        if project is not None and path and project.excluded(path):
            return snapshot, Analysis(nb.version, "", [], cells=snapshot, cell_lines=[None]), None
        codec = self.workspace.position_codec
        version = nb.version

        def work() -> Analysis:
            source, line_map, masks = join_cells([(n, text) for n, _u, _v, text in cells])
            result = analyse(source, version=version, path=path, config=config, codec=codec, project=project)
            result.cells = [(cell_uri, v) for _n, cell_uri, v, _t in cells]
            result.cell_lines = line_map
            result.cell_numbers = {n: cell_uri for n, cell_uri, _v, _t in cells}
            result.cell_texts = [text for _n, _u, _v, text in cells]
            result.masks = masks
            return result

        return snapshot, None, work

    def _start_notebook(self, uri: str, doc: _Doc) -> None:
        """Analyse a notebook's code cells joined (as ``modreg check`` does); diagnostics go to each cell."""
        job = self._notebook_job(uri)
        if job is None:
            return
        _cells, excluded, work = job
        if work is None:
            self._publish_cells(uri, excluded)
            return
        doc.running = True
        fut = self._bind_loop().run_in_executor(self._worker, work)
        fut.add_done_callback(lambda f: self._finished(uri, doc, f))

    @staticmethod
    def _cell_diagnostics(result: Analysis) -> dict[str, list[tuple[Any, int]]]:
        """Each code cell's diagnostics, their lines counted inside the cell, with the index of their finding."""
        import attrs  # lsprotocol's types are attrs classes

        assert result.cells is not None
        per_cell: dict[str, list[tuple[Any, int]]] = {cell_uri: [] for cell_uri, _v in result.cells}
        numbers = result.cell_numbers or {}
        for i, d in enumerate(result.diagnostics):
            where = result.cell_lines[d.range.start.line + 1] if d.range.start.line + 1 < len(result.cell_lines) else None
            end = result.cell_lines[d.range.end.line + 1] if d.range.end.line + 1 < len(result.cell_lines) else None
            if where is None or where[0] not in numbers:
                continue
            start = lsp.Position(where[1] - 1, d.range.start.character)
            stop = lsp.Position(end[1] - 1, d.range.end.character) if end and end[0] == where[0] else start
            per_cell[numbers[where[0]]].append((attrs.evolve(d, range=lsp.Range(start=start, end=stop)), i))
        return per_cell

    def _publish_cells(self, uri: str, result: Analysis) -> None:
        """Each code cell gets the diagnostics that fall in it, with its own line numbers."""
        per_cell = self._cell_diagnostics(result)
        versions = dict(result.cells or [])
        for cell_uri in self.notebooks.get(uri, []):  # cells that left the notebook: clear them
            if cell_uri not in per_cell:
                self._publish(cell_uri, [])
        self.notebooks[uri] = list(per_cell)
        for cell_uri, diags in per_cell.items():
            self._publish(cell_uri, [d for d, _i in diags], versions[cell_uri])

    # -- code actions -----------------------------------------------------

    async def _in_worker(self, fn: Callable[[], Any]) -> Any:
        return await self._bind_loop().run_in_executor(self._worker, fn)

    def _too_large(self, text: str, path: str | None, version: int | None) -> bool:
        """Documents beyond ``--max-document-kb`` are not analysed (one log line per version)."""
        if len(text) <= self.max_bytes:  # code points: a lower bound of the UTF-8 size, and cheap
            return False
        size = len(text.encode("utf-8", "surrogatepass"))
        if size <= self.max_bytes:
            return False
        key = (path, version)
        if key != self._warned:
            self._warned = key
            log.warning(
                "%s: %.1f MB is larger than the %d kB limit (--max-document-kb): not analysed",
                path, size / 1e6, self.max_bytes // 1024,
            )
        return True

    async def _current(self, uri: str) -> Analysis:
        """The analysis of the document's current text (the published one when it is current)."""
        text_doc = self.workspace.get_text_document(uri)
        doc = self.docs.get(uri)
        if doc is not None and doc.last is not None and doc.last.version == text_doc.version and doc.last.text == text_doc.source:
            return doc.last
        text, version, path = text_doc.source, text_doc.version, text_doc.path
        if self._too_large(text, path, version):
            return Analysis(version, text, [], error="too large to analyse")
        config, project = self._settings(path)
        codec = self.workspace.position_codec
        return await self._in_worker(
            lambda: analyse(text, version=version, path=path, config=config, codec=codec, project=project)
        )

    async def _current_notebook(self, uri: str) -> Analysis | None:
        """The analysis of the notebook's current cells (the published one when it is current), None if not open."""
        job = self._notebook_job(uri)
        if job is None:
            return None
        cells, excluded, work = job
        if work is None:
            return excluded
        doc = self.docs.get(uri)
        last = doc.last if doc is not None else None
        if last is not None and last.cells == cells and last.cell_texts == [
            self.workspace.get_text_document(u).source for u, _v in cells
        ]:
            return last
        return await self._in_worker(work)

    def _noqa_action(self, uri: str, version: int | None, lines: Any, noqa: Any, d: Any, code: str) -> Any:
        """"Disable CODE for this line" for diagnostic ``d`` of document ``uri`` (a file or a notebook cell),
        or None when the line cannot take a ``# noqa``."""
        edit = noqa_edit(noqa, d.range.start.line + 1, code)
        if edit is None:
            return None
        rng = self.workspace.position_codec.range_to_client_units(
            lines, lsp.Range(start=lsp.Position(edit.line, edit.start), end=lsp.Position(edit.line, edit.end))
        )
        return lsp.CodeAction(
            title=f"Disable {code} for this line",
            kind=lsp.CodeActionKind.QuickFix,
            diagnostics=[d],
            edit=self._workspace_edit(uri, version, [lsp.TextEdit(range=rng, new_text=edit.text)]),
        )

    def _workspace_edit(self, uri: str, version: int | None, edits: list[Any]) -> Any:
        return self._documents_edit([(uri, version, edits)])

    def _documents_edit(self, changes: list[tuple[str, int | None, list[Any]]]) -> Any:
        """One ``WorkspaceEdit`` of ``(uri, version, edits)`` for several documents (a notebook's cells)."""
        caps = self.client_capabilities
        ws = caps.workspace
        if ws and ws.workspace_edit and ws.workspace_edit.document_changes:
            return lsp.WorkspaceEdit(
                document_changes=[
                    lsp.TextDocumentEdit(
                        text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                        edits=edits,
                    )
                    for uri, version, edits in changes
                ]
            )
        return lsp.WorkspaceEdit(changes={uri: edits for uri, _v, edits in changes})

    def _cells_edit(self, analysis: Analysis, new: str) -> Any | None:
        """The edit of the notebook's cells that turns its joined source into ``new`` (a fixed one), or None."""
        from .notebook import split_source

        assert analysis.cells is not None
        try:
            before = split_source(analysis.text, analysis.masks, analysis.cell_texts)
            after = split_source(new, analysis.masks, analysis.cell_texts)
        except ModregError as e:
            log.warning("%s", e)
            return None
        changes = []
        for (cell_uri, version), old, b, a in zip(analysis.cells, analysis.cell_texts, before, after):
            edit = self._replacement(old, a) if a != b else None
            if edit is not None:
                changes.append((cell_uri, version, [edit]))
        return self._documents_edit(changes) if changes else None

    def _replacement(self, old: str, new: str) -> Any | None:
        """The minimal ``TextEdit`` (client units) turning ``old`` into ``new``."""
        change = minimal_edit(old, new)
        if change is None:
            return None
        start, end, text = change
        lines = split_lines(old)
        starts, acc = [], 0
        for ln in lines:
            starts.append(acc)
            acc += len(ln)
        starts.append(acc)  # the (possibly empty) line after the last line ending
        lines.append("")
        (l1, c1), (l2, c2) = _offset_position(starts, start), _offset_position(starts, end)
        rng = self.workspace.position_codec.range_to_client_units(
            lines, lsp.Range(start=lsp.Position(l1, c1), end=lsp.Position(l2, c2))
        )
        return lsp.TextEdit(range=rng, new_text=text)

    def _lazy(self) -> bool:
        try:
            props = self.client_capabilities.text_document.code_action.resolve_support.properties  # type: ignore[union-attr]
        except AttributeError:
            return False
        return "edit" in (props or ())

    @staticmethod
    def _wants(only: Sequence[str] | None, kind: str) -> bool:
        return not only or any(kind == k or kind.startswith(k + ".") for k in only)

    @_guard([])
    async def _code_action(self, params: Any) -> list[Any]:
        uri = params.text_document.uri
        if uri not in self.docs:
            nb = self.workspace.get_notebook_document(cell_uri=uri)
            if nb is not None and nb.uri in self.docs:
                return await self._cell_actions(uri, nb.uri, params)
            return []
        only = params.context.only
        ours = [d for d in params.context.diagnostics if d.source == SOURCE and isinstance(d.code, str)]
        quick = self._wants(only, lsp.CodeActionKind.QuickFix)
        fix_all_kind = FIX_ALL_KIND if only and self._wants(only, FIX_ALL_KIND) else None
        if not (ours and quick) and fix_all_kind is None:
            return []
        current = await self._current(uri)
        if current.error is not None:
            return []
        lazy = self._lazy()
        actions: list[Any] = []

        # the diagnostics the client sent, matched to findings of the current text
        matched: list[tuple[Any, int, Finding]] = []
        for d in ours if quick else ():
            for i, (f, cd) in enumerate(zip(current.findings, current.diagnostics)):
                if cd.code == d.code and cd.range == d.range:
                    matched.append((d, i, f))
                    break

        for d, i, f in matched:  # the finding's own fix
            if f.fix is None or f.fix.applicability is Applicability.NONE:
                continue
            unsafe = f.fix.applicability is Applicability.UNSAFE
            what = f.fix.title or f.fix_hint
            title = f"{what[:1].upper()}{what[1:]} ({f.code})" + (" [unsafe fix]" if unsafe else "")
            action = lsp.CodeAction(
                title=title,
                kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[d],
                is_preferred=not unsafe,
                data={"uri": uri, "version": current.version, "fix": "one", "index": i},
            )
            actions.append(action if lazy else await self._resolve(action))

        noqa = Noqa(current.lines) if matched else None
        seen = set()
        for d, _i, f in matched:  # "Disable MRG### for this line"
            if (f.code, f.line) in seen:
                continue
            seen.add((f.code, f.line))
            assert noqa is not None
            action = self._noqa_action(uri, current.version, current.lines, noqa, d, f.code)
            if action is not None:
                actions.append(action)

        if any(f.fix is not None and f.fix.applicability is Applicability.SAFE for f in current.findings):
            kinds = ([lsp.CodeActionKind.QuickFix] if matched else []) + ([fix_all_kind] if fix_all_kind else [])
            for kind in kinds:
                action = lsp.CodeAction(
                    title="Fix all modreg issues in file",
                    kind=kind,
                    data={"uri": uri, "version": current.version, "fix": "all"},
                )
                actions.append(action if lazy else await self._resolve(action))
        return actions

    async def _cell_actions(self, uri: str, nb_uri: str, params: Any) -> list[Any]:
        """A notebook cell: the finding's own fix, "Disable MRG### for this line" (``# noqa`` in the cell, as
        ``--add-noqa`` writes it) and "Fix all modreg issues in notebook" (also as ``source.fixAll.modreg`` and
        VS Code's ``notebook.source.fixAll.modreg``), their edits spread over the cells they touch."""
        only = params.context.only
        ours = [d for d in params.context.diagnostics if d.source == SOURCE and isinstance(d.code, str)]
        quick = self._wants(only, lsp.CodeActionKind.QuickFix)
        fix_all_kinds = [k for k in (FIX_ALL_KIND, NOTEBOOK_FIX_ALL_KIND) if only and self._wants(only, k)]
        if not (ours and quick) and not fix_all_kinds:
            return []
        current = await self._current_notebook(nb_uri)
        if current is None or current.error is not None or current.cells is None:
            return []
        lazy = self._lazy()
        stamp = [list(c) for c in current.cells]
        mine = self._cell_diagnostics(current).get(uri, [])
        matched: list[tuple[Any, int, Finding]] = []
        for d in ours if quick else ():
            for cd, i in mine:
                if cd.code == d.code and cd.range == d.range:
                    matched.append((d, i, current.findings[i]))
                    break
        actions: list[Any] = []
        for d, i, f in matched:  # the finding's own fix
            if f.fix is None or f.fix.applicability is Applicability.NONE:
                continue
            unsafe = f.fix.applicability is Applicability.UNSAFE
            what = f.fix.title or f.fix_hint
            action = lsp.CodeAction(
                title=f"{what[:1].upper()}{what[1:]} ({f.code})" + (" [unsafe fix]" if unsafe else ""),
                kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[d],
                is_preferred=not unsafe,
                data={"notebook": nb_uri, "cells": stamp, "fix": "one", "index": i},
            )
            actions.append(action if lazy else await self._resolve(action))

        cell = self.workspace.get_text_document(uri)
        lines = split_lines(cell.source)
        noqa = Noqa(lines)
        seen = set()
        for d, _i, f in matched:  # "Disable MRG### for this line", in the cell
            if (f.code, d.range.start.line) in seen:
                continue
            seen.add((f.code, d.range.start.line))
            action = self._noqa_action(uri, cell.version, lines, noqa, d, f.code)
            if action is not None:
                actions.append(action)

        if any(f.fix is not None and f.fix.applicability is Applicability.SAFE for f in current.findings):
            for kind in ([lsp.CodeActionKind.QuickFix] if matched else []) + fix_all_kinds:
                action = lsp.CodeAction(
                    title="Fix all modreg issues in notebook",
                    kind=kind,
                    data={"notebook": nb_uri, "cells": stamp, "fix": "all"},
                )
                actions.append(action if lazy else await self._resolve(action))
        return actions

    @_guard(None)
    async def _resolve_code_action(self, action: Any) -> Any:
        return await self._resolve(action)

    async def _resolve(self, action: Any) -> Any:
        data = action.data if isinstance(action.data, dict) else {}
        if isinstance(data.get("notebook"), str):
            return await self._resolve_notebook(action, data)
        uri = data.get("uri")
        if not uri or uri not in self.docs:
            return action
        current = await self._current(uri)
        if current.error is not None or current.version != data.get("version"):
            return action  # the text changed since the action was offered: no edit
        if data.get("fix") == "one":
            i = data.get("index")
            if not isinstance(i, int) or not 0 <= i < len(current.findings):
                return action
            new = await self._in_worker(lambda: single_fix_text(current, current.findings[i]))
        elif data.get("fix") == "all":
            path = self.workspace.get_text_document(uri).path
            config = self._settings(path)[0]
            new = await self._in_worker(lambda: fix_all_text(current.text, path=path, config=config))
        else:
            return action
        edit = self._replacement(current.text, new) if new is not None else None
        if edit is not None:
            action.edit = self._workspace_edit(uri, current.version, [edit])
        return action

    async def _resolve_notebook(self, action: Any, data: dict[str, Any]) -> Any:
        """The cell edits of a notebook action, if no cell changed since it was offered."""
        from pygls.uris import to_fs_path

        nb_uri = data["notebook"]
        current = await self._current_notebook(nb_uri)
        if current is None or current.error is not None or current.cells is None:
            return action
        if [list(c) for c in current.cells] != data.get("cells"):
            return action  # a cell changed since the action was offered: no edit
        if data.get("fix") == "one":
            i = data.get("index")
            if not isinstance(i, int) or not 0 <= i < len(current.findings):
                return action
            new = await self._in_worker(lambda: single_fix_text(current, current.findings[i]))
        elif data.get("fix") == "all":
            path = to_fs_path(nb_uri)
            config = self._settings(path)[0]
            new = await self._in_worker(lambda: fix_all_text(current.text, path=path, config=config))
        else:
            return action
        edit = self._cells_edit(current, new) if new is not None else None
        if edit is not None:
            action.edit = edit
        return action


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="modreg lsp", description="Language server for flake8-modreg diagnostics and quick fixes, over stdio."
    )
    p.add_argument("--stdio", action="store_true", help="use stdio (the default and only transport)")
    p.add_argument(
        "--debounce-ms",
        type=int,
        default=DEFAULT_DEBOUNCE_MS,
        metavar="MS",
        help=f"wait this long after the last change before analysing (default: {DEFAULT_DEBOUNCE_MS})",
    )
    p.add_argument(
        "--max-document-kb",
        type=int,
        default=DEFAULT_MAX_KB,
        metavar="KB",
        help=f"do not analyse documents larger than this (default: {DEFAULT_MAX_KB}; libcst needs ~30 MB per 1,000 lines)",
    )
    p.add_argument(
        "--log-level",
        choices=["error", "warning", "info", "debug"],
        default="info",
        help="what to send to the editor's LSP log (default: info; debug adds one line per analysis)",
    )
    p.add_argument("--version", action="version", version=f"modreg-lsp {__version__}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if _MISSING is not None:
        print(f"modreg lsp: needs pygls ({_MISSING}); pip install 'flake8-modreg[lsp]'", file=sys.stderr)
        return 2
    if args.debounce_ms < 0:
        print("modreg lsp: --debounce-ms must be >= 0", file=sys.stderr)
        return 2
    # stderr: warnings from pygls etc., one line each (never a traceback)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("modreg-lsp %(levelname)s %(name)s: %(message)s"))
    stderr.addFilter(lambda r: setattr(r, "exc_info", None) or setattr(r, "exc_text", None) or True)
    logging.getLogger().addHandler(stderr)
    logging.getLogger().setLevel(logging.WARNING)

    if args.max_document_kb <= 0:
        print("modreg lsp: --max-document-kb must be > 0", file=sys.stderr)
        return 2
    server = ModregServer(debounce=args.debounce_ms / 1000, max_bytes=args.max_document_kb * 1024)
    gc.freeze()  # what is imported by now lives as long as the server: keep it out of every collection
    ours = logging.getLogger("flake8_modreg")
    ours.setLevel(getattr(logging, args.log_level.upper()))
    ours.propagate = False  # to the editor's LSP log, not (also) to stderr
    handler = _LspLogHandler(server)
    ours.addHandler(handler)
    try:
        server.start_io()
    finally:
        ours.removeHandler(handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
