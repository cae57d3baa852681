"""``modreg``: check a tree, fix it, print machine-readable output, serve editors.

    modreg check [PATHS...]        lint (default: .); exit 1 when anything is found
    modreg check --fix             apply safe fixes (--unsafe-fixes: also unsafe ones)
    modreg check --diff            show the fixes as a unified diff, write nothing
    modreg rules                   list every rule
    modreg rule MRG101             print a rule's documentation
    modreg lsp                     run the language server on stdio

Exit codes: 0 clean, 1 findings (or files that could not be checked), 2 usage
or configuration error.  Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import functools
import gc
import hashlib
import json
import os
import stat
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from . import __version__
from .config import ConfigError, ProjectConfig, discover, load
from .context import FileContext
from .findings import Applicability, Finding, ModregError
from . import output
from .notebook import is_notebook
from .output import FileError, TextOptions, error_where, sarif  # noqa: F401  (sarif: the public name it had here)
from .project import ClassSummary, FileSummary, ProjectIndex, ast_summary, module_name_for
from .settings import VERSION_SETTINGS, Config, check_codes, check_version

SKIP_DIRS = {
    ".git", ".hg", ".svn", ".bzr", "__pycache__", ".tox", ".nox", ".eggs", "build", "dist", "node_modules",
    ".venv", "venv", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".modreg_cache", "site-packages",
}  # fmt: skip
FORMATS = ("text", "json", "sarif", "github", "gitlab")
#: what a directory walk checks: Python files and Jupyter notebooks (their code cells)
SUFFIXES = (".py", ".pyi", ".ipynb")
CACHE_DIR_NAME = ".modreg_cache"


class UsageError(Exception):
    pass


# --- files ---------------------------------------------------------------------------------------


class _Ignores:
    """gitignore-style patterns, each set anchored at its own directory (``.gitignore`` files, excludes)."""

    def __init__(self) -> None:
        self.specs: list[tuple[Path, Any]] = []
        self._seen: set[Path] = set()
        self._gitignored: set[Path] = set()  # bases whose specs come from .gitignore files

    def add(self, base: Path, patterns: Iterable[str]) -> None:
        import pathspec

        patterns = [p for p in patterns if p.strip()]
        if patterns:
            self.specs.append((base.resolve(), pathspec.GitIgnoreSpec.from_lines(patterns)))

    def without_gitignores(self) -> "_Ignores":
        out = _Ignores()
        out.specs = [(b, s) for b, s in self.specs if b not in self._gitignored]
        return out

    def add_gitignore(self, directory: Path) -> None:
        directory = directory.resolve()
        if directory in self._seen:
            return
        self._seen.add(directory)
        gi = directory / ".gitignore"
        if gi.is_file():
            try:
                self.add(directory, gi.read_text(encoding="utf-8", errors="replace").splitlines())
                self._gitignored.add(directory)
            except OSError:
                pass

    def ignored(self, path: Path, is_dir: bool) -> bool:
        if not path.is_absolute():  # resolve the folder, not the entry: a symlink loop must not raise
            path = Path(os.path.realpath(path.parent)) / path.name
        for base, spec in self.specs:
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if rel in ("", "."):
                continue
            if spec.match_file(rel + ("/" if is_dir else "")):
                return True
        return False


def _skip_dir(entry: os.DirEntry) -> bool:
    return entry.name in SKIP_DIRS or entry.name.endswith(".egg-info") or os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is not read (reading a FIFO or a device blocks or never ends), or None."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "not a regular file (a FIFO)"
    if stat.S_ISSOCK(mode):
        return "not a regular file (a socket)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "not a regular file (a device)"
    return "not a regular file"


def _stat_error(path: str, e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "symbolic link loop"
    if isinstance(e, FileNotFoundError):
        return "broken symbolic link" if os.path.islink(path) else "no such file or directory"
    if isinstance(e, PermissionError):
        return "permission denied"
    return f"cannot stat: {e.strerror or e}"


def iter_files(
    paths: Sequence[str],
    ignores: _Ignores,
    errors: list[tuple[str, str]],
    force_exclude: bool = False,
    skipped: list[tuple[str, str]] | None = None,
) -> Iterator[str]:
    """Python files under ``paths``; files named explicitly are included unless ``force_exclude``.

    Only regular files are read: a FIFO, socket or device named ``x.py`` in a
    walked folder is skipped (and listed in ``skipped``); named explicitly it
    is an error, as is a symbolic link that cannot be followed.
    """
    for arg in paths:
        p = Path(arg)
        try:
            st = os.stat(arg)
        except OSError as e:
            errors.append((arg, _stat_error(arg, e)))
            continue
        if not stat.S_ISDIR(st.st_mode):
            why = _not_regular(st.st_mode)
            if why is not None:
                errors.append((arg, why))
                continue
            if force_exclude:
                real = Path(os.path.realpath(arg))
                for parent in real.parents:
                    ignores.add_gitignore(parent)
                if ignores.ignored(real, False) or any(ignores.ignored(d, True) or d.name in SKIP_DIRS for d in real.parents):
                    continue
            yield os.path.normpath(arg)
            continue
        top = p.resolve()
        for parent in [*reversed(top.parents), top]:  # .gitignore files above the walk root count too
            ignores.add_gitignore(parent)
        if any(ignores.ignored(d, True) for d in [top, *top.parents] if d != Path(d.anchor)):
            # the user named an ignored directory (a cache, a vendored tree): check it anyway,
            # with only the command-line/config excludes and the .gitignore files inside it
            local = ignores.without_gitignores()
        else:
            local = ignores
        stack = [os.path.normpath(arg)]
        while stack:
            d = stack.pop()
            local.add_gitignore(Path(d))
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except OSError as e:
                errors.append((d, f"cannot list directory: {e.strerror or e}"))
                continue
            subdirs = []
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not _skip_dir(entry) and not local.ignored(Path(entry.path), True):
                            subdirs.append(entry.path)
                    elif entry.name.endswith(SUFFIXES) and not local.ignored(Path(entry.path), False):
                        try:
                            why = _not_regular(entry.stat().st_mode)  # follows a symlink
                        except OSError as e:
                            errors.append((os.path.normpath(entry.path), _stat_error(entry.path, e)))
                            continue
                        if why is None:
                            yield os.path.normpath(entry.path)
                        elif skipped is not None:
                            skipped.append((os.path.normpath(entry.path), why))
                except OSError as e:
                    errors.append((os.path.normpath(entry.path), _stat_error(entry.path, e)))
            stack.extend(reversed(subdirs))


# --- per-file work (runs in worker processes) ----------------------------------------------------


@dataclass
class FileReport:
    path: str
    findings: list[dict] = field(default_factory=list)
    error: str | None = None
    fixed: int = 0
    diff: str | None = None
    written: bool = False
    #: where the error is (a syntax error), 1-based line and 0-based column, else None
    error_line: int | None = None
    error_col: int | None = None
    error_cell: int | None = None
    refused: bool = False  # --fix would not write what the user may not write in place (exit 2)
    #: other files whose summaries the check consulted: path -> summary digest (what the cache re-validates)
    deps: dict[str, str] = field(default_factory=dict)


def _finding_dict(f: Finding) -> dict:
    return {
        "code": f.code,
        "name": f.name,
        "message": f.message,
        "fix_hint": f.fix_hint,
        "line": f.line,
        "col": f.col,
        "end_line": f.end_line,
        "end_col": f.end_col,
        "fix": f.fix.applicability.value if f.fix is not None else None,
        "fix_title": f.fix.title if f.fix is not None else None,
    }


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _summarize(task: tuple[str, tuple[str, ...]]) -> tuple[str, FileSummary | None, str | None, str | None]:
    """(path, summary, error, digest of the bytes Python's parser accepted: None for a notebook or when it refused them)."""
    path, module_bases = task
    try:
        data = _read(path)
        if is_notebook(path):
            from .notebook import Notebook

            try:
                data = Notebook.parse(data).source.encode("utf-8")
            except ModregError:
                return path, None, None, None  # reported when the file is checked
            return path, ast_summary(path, data, module_bases), None, None
        summary = ast_summary(path, data, module_bases)
        return path, summary, None, Cache.digest(data) if summary is not None else None
    except OSError as e:
        return path, None, _os_error(e), None


def _os_error(e: OSError) -> str:
    if isinstance(e, _NotWrittenOSError):
        return str(e)
    if isinstance(e, FileNotFoundError):
        return "file vanished during the run"
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, IsADirectoryError):
        return "is a directory"
    return f"cannot read: {e.strerror or e}"


@dataclass(frozen=True)
class Task:
    path: str
    config: Config
    context: FileContext | None
    mode: str = "check"  # check | fix | diff
    unsafe: bool = False
    display: str | None = None
    #: attach each fix's text edits to its finding (``--format json``)
    edits: bool = False
    #: digest of the bytes of this file Python's parser accepted in the index pass (the check skips its own ``ast`` pass when they are still the file's bytes)
    parsed_digest: str | None = None


class NotWritten(Exception):
    """The fixed text was not written: one line saying why (``refused``: exit 2)."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


def write_refusal(st: os.stat_result, uid: int, gids: Iterable[int]) -> str | None:
    """Why a user (``uid``, groups ``gids``) may not rewrite this file in place, or None.

    The mode bits decide, as for anyone but root: a file without a write bit
    for the user's class (owner, group or others) is read-only, even to root
    (``chmod 444`` says "do not touch"); a writable folder, which lets one replace
    a file one could not write, is not enough.  A file owned by someone else would
    change owner when replaced: only root can give it back, so others are refused.
    """
    mode = st.st_mode
    if not mode & 0o222:
        return _read_only(st)
    if uid != 0:
        if st.st_uid == uid:
            ok = mode & stat.S_IWUSR
        elif st.st_gid in gids:
            ok = mode & stat.S_IWGRP
        else:
            ok = mode & stat.S_IWOTH
        if not ok:
            return "no write permission; not fixed"
        if st.st_uid != uid:
            return "owned by another user (replacing it would change its owner); not fixed"
    return None


def _atomic_write(path: str, data: bytes) -> None:
    """:func:`write_fixed` for a writer that holds no earlier read; ``OSError`` (one line) when not written."""
    try:
        write_fixed(path, _read(path), data)
    except NotWritten as e:
        raise _NotWrittenOSError(str(e)) from None


class _NotWrittenOSError(OSError):
    """:class:`NotWritten` for callers that handle ``OSError`` (its message is the whole line)."""


def _read_only(st: os.stat_result) -> str | None:
    return None if st.st_mode & 0o222 else "read-only file (no write permission); not fixed"


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def write_fixed(path: str, original: bytes, data: bytes, before: os.stat_result | None = None) -> None:
    """Replace the file at ``path`` (holding ``original``, as ``before`` stat'ed it) with ``data``, atomically.

    * a symbolic link is kept: its target is replaced;
    * what the user could not write in place is refused (:func:`write_refusal`);
    * the file is checked again just before the rename: if it changed since it
      was read (an editor saved it meanwhile), nothing is written;
    * the mode (and, for root, the owner) is kept.

    Raises :class:`NotWritten` with one line.
    """
    real = os.path.realpath(path)
    d = os.path.dirname(real)
    uid = os.geteuid() if hasattr(os, "geteuid") else -1  # -1: no POSIX owners (Windows)
    gids = {os.getegid(), *os.getgroups()} if uid >= 0 else set()
    try:
        st = os.stat(real)
        refusal = write_refusal(st, uid, gids) if uid >= 0 else _read_only(st)
    except OSError as e:
        raise NotWritten(f"cannot write: {e.strerror or e}") from None
    if refusal:
        raise NotWritten(refusal, refused=True)
    if before is not None and _identity(st) != _identity(before):
        raise NotWritten("changed while being fixed; not written (run again)")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".modreg-", suffix=".tmp", dir=d)
    except OSError as e:
        raise NotWritten(f"cannot write: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if uid >= 0 and (st.st_uid != uid or st.st_gid != os.getegid()):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except PermissionError:
                if st.st_uid != uid:
                    raise NotWritten("owned by another user (replacing it would change its owner); not fixed", refused=True)
        # the last moment before the rename: is the file still what was read and fixed?
        now = os.stat(real)
        if _identity(now) != _identity(st) or _read(real) != original:
            raise NotWritten("changed while being fixed; not written (run again)")
        os.replace(tmp, real)
    except OSError as e:
        raise NotWritten(f"cannot write: {e.strerror or e}") from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def process(task: Task, source: bytes | None = None) -> FileReport:
    """Check (and fix) one file; every failure becomes ``FileReport.error``, one line."""
    # the checker is imported by the first file that needs it: a warm run (all cached) imports no libcst
    from .core import decode, on_deep_stack, python_syntax_error, run
    from .noqa import Noqa, keep_unsuppressed

    path = task.path
    display = task.display or path
    gc_was_enabled = gc.isenabled()
    gc.disable()  # libcst builds ~100k nodes per 1,000 lines, no cycles: collections meanwhile cost 10-50%
    try:
        before = None
        if source is None:
            with open(path, "rb") as fh:
                before = os.fstat(fh.fileno())
                source = fh.read()
        if is_notebook(path):
            return _process_notebook(task, source, before)
        context = task.context
        if context is None and task.display is None:
            context = FileContext(*module_name_for(path))
        if task.mode in ("fix", "diff"):
            from .fixer import fix  # libcst's codemod machinery: only when fixing

            result = fix(source, path=path, config=task.config, unsafe=task.unsafe, keep=keep_unsuppressed, context=context)
            findings = result.remaining
            new = result.source
            report = FileReport(display, fixed=len(result.applied))
            if new != source:
                assert isinstance(new, bytes)
                if task.mode == "diff":
                    a = decode(source).splitlines(keepends=True)
                    b = decode(new).splitlines(keepends=True)
                    report.diff = "".join(difflib.unified_diff(a, b, f"a/{display}", f"b/{display}"))
                elif task.display is None:
                    try:
                        write_fixed(path, source, new, before)
                        report.written = True
                    except NotWritten as e:
                        report.error, report.refused, report.fixed = str(e), e.refused, 0
                        report.findings = []
                        return report
                else:
                    report.diff = new.decode("utf-8", "surrogateescape")  # stdin: the fixed text
            text = decode(new)
        else:
            parsed = task.parsed_digest is not None and Cache.digest(source) == task.parsed_digest
            module, model, findings = run(source, path=path, config=task.config, context=context, python_parsed=parsed)
            if module is None and not parsed:
                # skipped unparsed by the prefilter (no framework name in it): a file Python cannot parse is
                # still one we could not check, never "All checks passed" (ast only: ~0.08x a libcst parse)
                error = python_syntax_error(source)
                if error is not None:
                    raise error
            report = FileReport(display, deps=_consulted(model))
            text = decode(source) if findings else ""
        if findings:
            findings = Noqa.from_source(text).filter(findings)
        report.findings = [_finding_dict(f) for f in findings]
        if task.edits and task.mode == "check" and findings:
            on_deep_stack(_attach_edits, module, findings, report.findings)
        return report
    except ModregError as e:
        return FileReport(display, error=str(e), error_line=e.line, error_col=e.col)
    except OSError as e:
        return FileReport(display, error=_os_error(e))
    except RecursionError:
        return FileReport(display, error="too deeply nested to analyse")
    except Exception as e:  # an internal error must not end the run: report it for this file
        if os.environ.get("MODREG_STRICT") == "1":
            raise
        return FileReport(display, error=f"internal error: {type(e).__name__}: {' '.join(str(e).split())}")
    finally:
        if gc_was_enabled:
            gc.enable()


def _process_notebook(task: Task, data: bytes, before: os.stat_result | None = None) -> FileReport:
    """:func:`process` for a ``.ipynb``: the joined code cells are checked (and fixed), findings map to cells."""
    from .core import run
    from .noqa import Noqa, keep_unsuppressed
    from .notebook import Notebook, map_finding

    display = task.display or task.path
    nb = Notebook.parse(data)
    try:
        if task.mode in ("fix", "diff"):
            from .fixer import fix

            result = fix(nb.source, path=task.path, config=task.config, unsafe=task.unsafe, keep=keep_unsuppressed)
            findings, new = result.remaining, result.source
            assert isinstance(new, str)
            report = FileReport(display, fixed=len(result.applied))
            if new != nb.source:
                fixed_bytes = nb.with_source(new)
                if task.mode == "diff":
                    after = Notebook.parse(fixed_bytes).cell_sources()
                    chunks = []
                    for n, (a, b) in enumerate(zip(nb.cell_sources(), after), 1):
                        if a != b:
                            name = f"{display}:cell {n}"
                            chunks.append("".join(difflib.unified_diff(
                                a.splitlines(keepends=True), b.splitlines(keepends=True), f"a/{name}", f"b/{name}"
                            )))
                    report.diff = "".join(c if c.endswith("\n") else c + "\n" for c in chunks)
                elif task.display is None:
                    try:
                        write_fixed(task.path, data, fixed_bytes, before)
                        report.written = True
                    except NotWritten as e:
                        return FileReport(display, error=str(e), refused=e.refused)
                else:
                    report.diff = fixed_bytes.decode("utf-8")
            text = new
            module = None
        else:
            module, _model, findings = run(nb.source, path=task.path, config=task.config)
            report = FileReport(display)
            text = nb.source
    except ModregError as e:
        where = nb.position(e.line) if e.line else None
        if where is None:
            return FileReport(display, error=str(e))
        return FileReport(display, error=str(e), error_line=where[1], error_col=e.col, error_cell=where[0])
    if findings:
        findings = Noqa.from_source(text).filter(findings)
    dicts = [_finding_dict(f) for f in findings]
    if task.edits and task.mode == "check" and findings:
        _attach_edits(module, findings, dicts)
        for d in dicts:
            if d.get("edits"):
                d["edits"] = _cell_edits(nb, d["edits"])
    report.findings = [map_finding(nb, d) for d in dicts]
    return report


def _cell_edits(nb: Any, edits: list[dict]) -> list[dict] | None:
    """Edits of the joined source in cell coordinates (``cell``, row inside it); None if one spans cells."""
    out = []
    for e in edits:
        a, b = nb.position(e["location"]["row"]), nb.position(e["end_location"]["row"])
        if a is None or b is None or a[0] != b[0]:
            return None
        out.append({
            "content": e["content"],
            "cell": a[0],
            "location": {"row": a[1], "column": e["location"]["column"]},
            "end_location": {"row": b[1], "column": e["end_location"]["column"]},
        })
    return out


def _consulted(model: Any) -> dict[str, str]:
    """The files (path -> summary digest) a lazy cross-file resolver read for this model, if it has one."""
    resolver = getattr(model, "resolver", None)
    consulted = getattr(resolver, "consulted", None)
    return dict(consulted()) if callable(consulted) else {}


def _dep_digest(path: str) -> str | None:
    """The current summary digest of a file a cached result consulted (None: cannot tell, a miss)."""
    try:
        from .resolver import summary_digest
    except ImportError:
        return None
    digest = summary_digest(path)
    return "" if digest is None else digest  # as Resolver.consulted() records a file it could not read


def _attach_edits(module: Any, findings: list[Finding], dicts: list[dict]) -> None:
    """``d["edits"]``: the text edits of each finding's own fix, in ruff's shape (see :mod:`flake8_modreg.edits`)."""
    from .edits import fix_edits

    if module is None:
        return
    fixable = [(f, d) for f, d in zip(findings, dicts) if f.fix is not None and f.fix.applicability is not Applicability.NONE]
    try:
        edits = fix_edits(module, [f.fix for f, _d in fixable])
    except Exception:  # no edits rather than no report
        edits = [None] * len(fixable)
    for (_f, d), e in zip(fixable, edits):
        d["edits"] = e


# --- cache ----------------------------------------------------------------------------------------


_FINDING_KEYS = {
    "code": str, "name": str, "message": str, "fix_hint": str,
    "line": int, "col": int, "end_line": int, "end_col": int,
    "fix": (str, type(None)), "fix_title": (str, type(None)),
}  # fmt: skip


def _valid_findings(findings: Any) -> bool:
    return isinstance(findings, list) and all(
        isinstance(d, dict)
        and all(isinstance(d.get(k, ...), t) for k, t in _FINDING_KEYS.items())
        and isinstance(d.get("edits"), (list, type(None)))
        for d in findings
    )


def _summary_from(s: Any) -> FileSummary:
    """A :class:`FileSummary` from its JSON form; ``TypeError``/``KeyError``/``ValueError`` if it is not one."""
    classes = [ClassSummary(**c) for c in s["classes"]]
    ok = (
        isinstance(s["path"], str)
        and isinstance(s["module"], str)
        and isinstance(s["is_package"], bool)
        and isinstance(s["exports"], dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in s["exports"].items())
        and all(
            isinstance(c.qualname, str)
            and isinstance(c.bases, list)
            and all(isinstance(b, str) for b in c.bases)
            and isinstance(c.framework, (str, type(None)))
            for c in classes
        )
    )
    if not ok:
        raise ValueError("not a summary")
    return FileSummary(s["path"], s["module"], s["is_package"], classes, s["exports"])


@functools.lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """A hash of this package's own source files (computed once per process, about 1 ms).

    Two installs with the same version but other rules (a git commit, a
    pre-commit ``rev:`` between releases) must not share cached results.
    """
    h = hashlib.blake2b(digest_size=8)
    root = Path(__file__).resolve().parent
    for p in sorted(root.rglob("*.py")):
        try:
            data = p.read_bytes()
        except OSError:
            data = b"?"
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def findings_key(module: tuple[str, bool], ctx: FileContext | None) -> str:
    """What a file's findings depend on beyond its bytes and the configuration: its module name and the
    facts the run's other files gave it (the bases they define, with their frameworks)."""
    return json.dumps([module[0], module[1], [list(b) for b in ctx.bases] if ctx is not None else []])


class Cache:
    """Content-hash cache of summaries and findings, one JSON file per code and configuration.

    The file is named after the package version, a hash of the package's own
    sources (:func:`code_fingerprint`) and a fingerprint of the configuration.
    In it, an entry per path is used only when everything its result depends
    on is unchanged:

    * a summary: the file's bytes and its dotted module name;
    * findings: the bytes, plus :func:`findings_key` (module name, the
      cross-file bases), plus ``deps``: every other file whose summary the
      check consulted, with that summary's digest, re-validated through
      ``dep_digest(path)`` (a file that cannot be read has the digest ``""``).

    The file starts with a checksum of its entries: a truncated or edited
    file is a miss as a whole.  An entry of an unexpected shape (another
    writer's bug) is a miss, never an error; the run rewrites it.  Written
    atomically.
    """

    def __init__(self, directory: Path, config: Config) -> None:
        from . import known  # the default API tables follow the installed frameworks' releases

        releases = (known.default_torch_release(), known.default_mindspore_release())
        fingerprint = hashlib.sha256(repr((__version__, config, releases)).encode()).hexdigest()[:16]
        self.directory = directory
        self.prefix = f"v{__version__}-{code_fingerprint()}-"
        self.file = directory / f"{self.prefix}{fingerprint}.json"
        self.entries: dict[str, dict] = {}
        self.dirty = False
        try:
            self.entries = self.decode(self.file.read_bytes())
        except OSError:
            pass

    @staticmethod
    def encode(entries: dict) -> bytes:
        """The file's bytes: a checksum line, then the entries as JSON."""
        body = json.dumps(entries, separators=(",", ":")).encode()
        return hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b"\n" + body

    @staticmethod
    def decode(data: bytes) -> dict:
        """The entries of a cache file; ``{}`` for anything that is not what :meth:`encode` wrote."""
        check, _, body = data.partition(b"\n")
        if hashlib.blake2b(body, digest_size=16).hexdigest().encode() != check:
            return {}  # truncated, edited by hand, written by another program
        try:
            entries = json.loads(body)
        except (ValueError, RecursionError):
            return {}
        return entries if isinstance(entries, dict) else {}

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.blake2b(data, digest_size=16).hexdigest()

    def _entry(self, path: str, digest: str, module: tuple[str, bool]) -> dict | None:
        e = self.entries.get(path)
        if isinstance(e, dict) and e.get("hash") == digest and e.get("module") == [module[0], module[1]]:
            return e
        return None

    def summary(self, path: str, digest: str, module: tuple[str, bool]) -> tuple[bool, FileSummary | None]:
        e = self._entry(path, digest, module)
        if e is None or "summary" not in e:
            return False, None
        if e["summary"] is None:
            return True, None
        try:
            return True, _summary_from(e["summary"])
        except (TypeError, KeyError, ValueError, AttributeError):
            return False, None

    def findings(
        self, path: str, digest: str, module: tuple[str, bool], key: str, dep_digest: Callable[[str], str | None] | None = None
    ) -> list[dict] | None:
        e = self._entry(path, digest, module)
        if e is None or e.get("key") != key or not _valid_findings(e.get("findings")):
            return None
        deps = e.get("deps", {})
        if not isinstance(deps, dict):
            return None
        for dep, dep_hash in deps.items():
            if dep_digest is None or dep_digest(dep) != dep_hash:
                return None
        return [dict(d) for d in e["findings"]]

    def _put(self, path: str, digest: str, module: tuple[str, bool]) -> dict:
        e = self._entry(path, digest, module)
        if e is None:
            e = self.entries[path] = {"hash": digest, "module": [module[0], module[1]]}
        self.dirty = True
        return e

    def put_summary(self, path: str, digest: str, module: tuple[str, bool], summary: FileSummary | None) -> None:
        self._put(path, digest, module)["summary"] = asdict(summary) if summary is not None else None

    def put_findings(
        self, path: str, digest: str, module: tuple[str, bool], key: str, findings: list[dict], deps: dict[str, str] | None = None
    ) -> None:
        e = self._put(path, digest, module)
        e["key"], e["findings"], e["deps"] = key, findings, dict(deps or {})

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tag = self.directory / "CACHEDIR.TAG"
            if not tag.exists():
                tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# modreg's result cache\n")
                (self.directory / ".gitignore").write_text("*\n")
            for old in self.directory.glob("v*.json"):  # caches of other code are dead weight
                if not old.name.startswith(self.prefix):
                    old.unlink(missing_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".cache-", suffix=".tmp", dir=self.directory)
            with os.fdopen(fd, "wb") as fh:
                fh.write(self.encode(self.entries))
            os.replace(tmp, self.file)
        except OSError:
            pass  # a cache that cannot be written is only slower


# --- the run --------------------------------------------------------------------------------------


def _chunks(items: list, sizes: list[int], jobs: int) -> list[list]:
    """``items`` in chunks for ``jobs`` workers: the biggest files first, chunks shrinking toward the end.

    A file's cost is about proportional to its size.  Biggest first (the
    longest-processing-time rule) keeps one large file from starting last
    and running alone; each chunk takes about ``1 / (4 * jobs)`` of the bytes
    still to go (guided self-scheduling), so the many small files at the end
    travel in few round trips yet the last chunks are small enough to even
    out the workers.
    """
    order = sorted(range(len(items)), key=lambda i: -sizes[i])
    remaining = sum(max(s, 1) for s in sizes)
    out: list[list] = []
    chunk: list = []
    budget = 0.0
    for i in order:
        if not chunk:
            budget = remaining / (4 * jobs)
        chunk.append(items[i])
        budget -= max(sizes[i], 1)
        remaining -= max(sizes[i], 1)
        if budget <= 0 or len(chunk) >= 64:
            out.append(chunk)
            chunk = []
    if chunk:
        out.append(chunk)
    return out


def _run_chunk(job: tuple[Callable, list]) -> list:
    fn, items = job
    return [fn(x) for x in items]


class _Workers:
    """A process pool created on first use, after the parent has imported the checker.

    Forked workers then inherit libcst, the model and the rules instead of
    each importing them again (less CPU in total on a shared machine; where
    processes are spawned, they import them themselves).  Runs with nothing
    to check (all cached) never create the pool nor import the checker.
    """

    def __init__(self, jobs: int, config: Config) -> None:
        self.jobs = jobs
        self.config = config
        self.pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable, items: list, sizes: list[int], progress: Any = None) -> Iterator:
        if self.jobs <= 1 or len(items) < 4:
            for x in items:
                yield fn(x)
                if progress is not None:
                    progress.update(1)
            return
        if self.pool is None:
            from . import core, noqa  # noqa: F401  (before the fork: the workers inherit them)

            core.enabled_rules(self.config)  # imports every rule module
            self.pool = ProcessPoolExecutor(max_workers=self.jobs)
        futures = [self.pool.submit(_run_chunk, (fn, chunk)) for chunk in _chunks(items, sizes, self.jobs)]
        for fut in as_completed(futures):
            results = fut.result()
            yield from results
            if progress is not None:
                progress.update(len(results))

    def shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _progress(total: int, desc: str, enabled: bool) -> Any:
    if not enabled or total < 50 or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, desc=desc, unit="file", file=sys.stderr, leave=False)


def _per_file_ignored(pc: ProjectConfig, path: str, code: str) -> bool:
    return pc.per_file_ignored(path, code)


class _Nearest:
    """Each file's ``[tool.modreg]``: the nearest ``pyproject.toml`` with that table above it, as ruff finds a
    file's configuration (the editor's language server does the same).  ``base`` (the configuration found for
    the first path) is used for files with none above them, and for every file under ``--config``/``--isolated``."""

    def __init__(self, base: ProjectConfig, fixed: bool) -> None:
        self.base = base
        self.fixed = fixed
        self._dirs: dict[str, ProjectConfig] = {}
        self._real: dict[str, str] = {}
        self._files: dict[Path, ProjectConfig] = {}
        if base.path is not None:
            self._files[base.path.resolve()] = base

    def _of_dir(self, d: str) -> ProjectConfig:
        hit = self._dirs.get(d)
        if hit is None:
            from .config import has_modreg_table

            candidate = Path(d) / "pyproject.toml"
            if has_modreg_table(candidate):
                key = candidate.resolve()
                hit = self._files.get(key)
                if hit is None:
                    hit = self._files[key] = load(candidate)
            else:
                parent = os.path.dirname(d)
                hit = self.base if parent == d else self._of_dir(parent)
            self._dirs[d] = hit
        return hit

    def of(self, path: str) -> ProjectConfig:
        if self.fixed:
            return self.base
        folder = os.path.dirname(path)
        real = self._real.get(folder)
        if real is None:  # one realpath per folder, not per file
            real = self._real[folder] = os.path.realpath(folder or ".")
        return self._of_dir(real)


def list_files(
    args: argparse.Namespace,
    pc: ProjectConfig,
    skipped: list[tuple[str, str]] | None = None,
    nearest: _Nearest | None = None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """The files a run checks (``--show-files`` prints them), and the paths that could not be listed.

    Files of a walked folder that are not regular files (FIFOs, sockets,
    devices) are never read; they are appended to ``skipped`` with the reason.
    A walked file is also left out when the ``exclude`` of its own (nested) configuration names it.
    """
    errors: list[tuple[str, str]] = []
    ignores = _Ignores()
    ignores.add(pc.root, pc.exclude)
    ignores.add(Path.cwd(), [p for e in args.exclude for p in e.split(",")])
    files = sorted(set(iter_files(args.paths, ignores, errors, args.force_exclude, skipped)))
    nearest = nearest or _Nearest(pc, fixed=bool(args.isolated or args.config))
    if not nearest.fixed:
        named = set() if args.force_exclude else {os.path.normpath(p) for p in args.paths}
        kept = []
        for f in files:
            own = nearest.of(f)
            if own is pc or f in named or not own.excluded(f):
                kept.append(f)
        files = kept
    return files, errors


def check_paths(args: argparse.Namespace, pc: ProjectConfig, config: Config) -> tuple[list[FileReport], list[tuple[str, str]]]:
    """Check the files of the run, each with its own configuration (the nearest ``[tool.modreg]`` above it)."""
    nearest = _Nearest(pc, fixed=bool(args.isolated or args.config))
    files, errors = list_files(args, pc, nearest=nearest)
    groups: dict[int, tuple[ProjectConfig, list[str]]] = {}
    for f in files:
        own = nearest.of(f)
        groups.setdefault(id(own), (own, []))[1].append(f)
    cache_dir = Path(os.environ.get("MODREG_CACHE_DIR") or (pc.root if pc.path else Path.cwd()) / CACHE_DIR_NAME)
    reports: dict[str, FileReport] = {}
    for own, group in groups.values():
        own_config = config if own is pc else own.config(**options_config(args, own))
        reports.update(_check_files(args, own, own_config, group, cache_dir))
    return [reports[f] for f in files], errors


def _check_files(
    args: argparse.Namespace, pc: ProjectConfig, config: Config, files: list[str], cache_dir: Path
) -> dict[str, FileReport]:
    """Check ``files``, which share the configuration ``pc`` (``config``, with the command line's overrides)."""
    want_edits = args.format == "json"
    jobs = args.jobs or os.cpu_count() or 1
    use_cache = not args.no_cache and args.mode == "check"
    cache = Cache(cache_dir, config) if use_cache else None
    workers = _Workers(jobs, config)
    try:
        # phase 1: what classes each file defines (cheap ast pass; cached by content)
        digests: dict[str, str] = {}
        modules: dict[str, tuple[str, bool]] = {}
        summaries: dict[str, FileSummary | None] = {}
        parsed: dict[str, str] = {}  # file -> digest of the bytes ``ast`` parsed (a summary exists only then)
        todo = []
        for f in files:
            if cache is not None:
                try:
                    digests[f] = Cache.digest(_read(f))
                except OSError:
                    todo.append(f)
                    continue
                modules[f] = module_name_for(f)
                hit, s = cache.summary(f, digests[f], modules[f])
                if hit:
                    summaries[f] = s
                    if s is not None and not is_notebook(f):
                        parsed[f] = digests[f]
                    continue
            todo.append(f)
        index_bar = _progress(len(todo), "modreg: indexing", not args.quiet)  # the first phase shows progress too
        summarize = [(f, config.module_bases) for f in todo]
        for path, s, _err, digest in workers.map(_summarize, summarize, [_size(f) for f in todo], index_bar):
            summaries[path] = s
            if digest is not None:
                parsed[path] = digest
            if cache is not None and path in digests:
                cache.put_summary(path, digests[path], modules[path], s)
        if index_bar is not None:
            index_bar.close()
        # in the files' order, whichever came from the cache or finished first
        index = ProjectIndex(s for s in (summaries.get(f) for f in files) if s is not None)
        # phase 2: check every file once, knowing the Module classes of the other files
        reports: dict[str, FileReport] = {}
        tasks = []
        ctx_keys: dict[str, str] = {}
        for f in files:
            ctx = index.context_for(f)
            if cache is not None and f in digests:
                ctx_keys[f] = findings_key(modules[f], ctx)
                cached = cache.findings(f, digests[f], modules[f], ctx_keys[f], _dep_digest)
                if cached is not None and want_edits and any(d["fix"] and "edits" not in d for d in cached):
                    cached = None  # cached by a run that did not compute the fixes' edits
                if cached is not None:
                    reports[f] = FileReport(f, cached)
                    continue
            tasks.append(Task(f, config, ctx, args.mode, args.unsafe_fixes, edits=want_edits, parsed_digest=parsed.get(f)))
        bar = _progress(len(tasks), "modreg", not args.quiet)
        for report in workers.map(process, tasks, [_size(t.path) for t in tasks], bar):
            reports[report.path] = report
            if cache is not None and report.error is None and report.path in digests:
                f = report.path
                cache.put_findings(f, digests[f], modules[f], ctx_keys[f], report.findings, report.deps)
        if bar is not None:
            bar.close()
    finally:
        workers.shutdown()
    if cache is not None:
        cache.save()
    for r in reports.values():
        r.findings = [d for d in r.findings if not _per_file_ignored(pc, r.path, d["code"])]
    return reports


# --- output ---------------------------------------------------------------------------------------


def _rule_index() -> dict[str, Any]:
    from .rules import all_rules

    return {r.code: r for r in all_rules()}


def file_errors(reports: list[FileReport], errors: list[tuple[str, str]]) -> list[FileError]:
    """Files that could not be checked: ``(path, message, line, col)`` (a syntax error has a place)."""
    return [(r.path, r.error, r.error_line, r.error_col, r.error_cell) for r in reports if r.error] + [
        (p, m, None, None, None) for p, m in errors
    ]


def emit(
    reports: list[FileReport], errors: list[tuple[str, str]], fmt: str, out: Any, text: TextOptions | None = None
) -> None:
    rows = [(r.path, d) for r in reports for d in sorted(r.findings, key=lambda d: (d.get("cell") or 0, d["line"], d["col"], d["code"]))]
    output.emit(rows, file_errors(reports, errors), fmt, out, text)


# --- commands -------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="modreg", description="Catch unregistered state in PyTorch Modules and MindSpore Cells.")
    ap.add_argument("--version", action="version", version=f"modreg {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    c = sub.add_parser("check", help="check files and directories (default: .)")
    c.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories; '-' reads stdin")
    c.add_argument("--select", help="codes or prefixes to report (comma list), e.g. MRG1,MRG301")
    c.add_argument("--ignore", help="codes or prefixes not to report")
    c.add_argument("--extend-select", help="codes or prefixes to add to the selection (e.g. the off-by-default MRG9)")
    c.add_argument("--extend-ignore", help="codes or prefixes to ignore on top of the configured ones")
    c.add_argument("--config", metavar="FILE", help="read settings from FILE (a pyproject.toml's [tool.modreg], or a TOML file of the same keys)")
    c.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    c.add_argument("--exclude", action="append", default=[], help="gitignore-style patterns to skip (repeatable)")
    c.add_argument("--force-exclude", action="store_true", help="apply excludes to files named on the command line too (pre-commit)")
    c.add_argument("--module-bases", help="extra base classes that make a class a torch Module (comma list)")
    c.add_argument("--torch-version", metavar="X.Y", help="the torch release MRG502 and MRG404 judge names by (default: the installed one, else the newest known)")
    c.add_argument("--mindspore-version", metavar="X.Y", help="the MindSpore release MRG501 and MRG404 judge names by (default: the installed one, else the newest known)")
    c.add_argument("--format", "--output-format", dest="format", choices=FORMATS, default="text", help="output format (default: text)")
    c.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    c.add_argument("--unsafe-fixes", action="store_true", help="with --fix/--diff: also apply unsafe fixes; alone: mark the findings that have one")
    c.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    c.add_argument("-j", "--jobs", type=int, default=0, help="worker processes (default: all cores)")
    c.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    c.add_argument("--stdin-filename", help="read the source from stdin and report it under this name")
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even when problems are found")
    c.add_argument("-q", "--quiet", action="store_true", help="no summary line, no progress bar")
    c.add_argument("--show-source", action="store_true", help="show the source line under each finding, with carets at the node")
    c.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour the text output (auto: on a terminal, unless NO_COLOR is set)")
    c.add_argument("--statistics", action="store_true", help="count the findings per rule instead of listing them")
    c.add_argument("--output-file", "-o", metavar="FILE", help="write the findings to FILE instead of stdout")
    c.add_argument("--show-files", action="store_true", help="list the files that would be checked, and stop")
    c.add_argument("--watch", action="store_true", help="check again whenever a checked file changes (Ctrl-C to stop)")
    c.add_argument("--add-noqa", action="store_true", help="add '# noqa: CODE' to every line with a finding (existing noqa codes are kept)")
    c.add_argument("--baseline", metavar="FILE", help="report only findings that FILE (a baseline) does not hold")
    c.add_argument("--update-baseline", action="store_true", help="with --baseline: write the current findings to FILE")
    c.add_argument("--fix-only", action="store_true", help="apply fixes, report nothing that remains (exit 0 unless a file failed)")
    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument("--format", "--output-format", dest="format", choices=("text", "json"), default="text", help="output format (default: text)")
    r = sub.add_parser("rule", help="print a rule's documentation (by code or name), paged on a terminal")
    r.add_argument("code", metavar="CODE|NAME")
    lsp = sub.add_parser("lsp", help="run the language server on stdio", add_help=False)
    lsp.add_argument("rest", nargs=argparse.REMAINDER)
    return ap


def _cmd_rules(out: Any, fmt: str = "text") -> int:
    if fmt == "json":
        from .docs import DOCS_URL
        from .findings import severity

        doc = [
            {
                "code": code,
                "name": r.name,
                "summary": r.summary,
                "message": r.message,
                "fix_hint": r.fix_hint,
                "fix": r.fix_safety.value,
                "default_enabled": r.default_enabled,
                "frameworks": sorted(r.frameworks),
                "severity": severity(code),
                "url": DOCS_URL.format(code=code),
                "explanation": r.doc(),
            }
            for code, r in _rule_index().items()
        ]
        json.dump(doc, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    for code, r in _rule_index().items():
        fix = {Applicability.SAFE: "fix", Applicability.UNSAFE: "unsafe fix"}.get(r.fix_safety, "-")
        on = "" if r.default_enabled else " (off by default)"
        out.write(f"{code}  {r.name:<36} {fix:<10} {r.summary}{on}\n")
    return 0


def rule_text(rule: Any) -> str:
    """What ``modreg rule`` prints: the rule's sections (what, why, example, fix), not the test examples."""
    from .docs import DOCS_URL, code_span, status_line

    return "\n".join(
        [
            f"# {rule.name} ({rule.code})",
            "",
            status_line(rule),
            "",
            f"Message: {code_span(f'{rule.code} {rule.message}: {rule.fix_hint}')}",
            "",
            rule.doc(),
            "",
            f"Suppress: `# noqa: {rule.code}` on the reported line, or `--extend-ignore {rule.code}`.",
            f"Examples checked by the test suite: {DOCS_URL.format(code=rule.code)}",
            "",
        ]
    )


def _cmd_rule(code: str, out: Any) -> int:
    rules = _rule_index()
    rule = rules.get(code.upper()) or next((r for r in rules.values() if r.name == code.lower()), None)
    if rule is None:
        raise UsageError(f"unknown rule {code!r}; `modreg rules` lists them (codes like MRG101 or names like layers-in-plain-list)")
    text = rule_text(rule)
    isatty = getattr(out, "isatty", None)
    if out is sys.stdout and callable(isatty) and isatty():  # a terminal: page it, as `ruff rule` does
        import pydoc

        pydoc.pager(text)
    else:
        out.write(text)
    return 0


def _summary(reports: list[FileReport], errors: list[tuple[str, str]], args: argparse.Namespace) -> str:
    n = sum(len(r.findings) for r in reports)
    fixed = sum(r.fixed for r in reports)
    safe = sum(1 for r in reports for d in r.findings if d["fix"] == "safe")
    unsafe = sum(1 for r in reports for d in r.findings if d["fix"] == "unsafe")
    bad = sum(1 for r in reports if r.error) + len(errors)
    parts = []
    if args.mode == "fix" and args.fix_only:
        parts.append(f"Fixed {fixed} problem{'s' * (fixed != 1)}")
    elif args.mode == "fix":
        parts.append(f"Fixed {fixed} problem{'s' * (fixed != 1)}; {n} remaining")
    elif args.mode == "diff":
        parts.append(f"Would fix {fixed} problem{'s' * (fixed != 1)}; {n} remaining")
    elif n:
        parts.append(f"Found {n} problem{'s' * (n != 1)}")
    elif not reports and not bad:
        return "No Python files found under the given path(s)."
    elif bad:  # never "All checks passed" when something was not checked
        ok = sum(1 for r in reports if r.error is None)
        parts.append(f"No problems in {ok} checked file{'s' * (ok != 1)}" if ok else "No file was checked")
    else:
        parts.append("All checks passed")
    if args.mode == "check" and (safe or unsafe):
        hints = []
        if safe:
            hints.append(f"{safe} fixable with --fix")
        if unsafe:
            hints.append(f"{unsafe} with --fix --unsafe-fixes")
        parts[-1] += f" ({', '.join(hints)})"
    known = getattr(args, "baselined", 0)
    if known:
        parts.append(f"{known} known finding{'s' * (known != 1)} in the baseline {args.baseline}")
    if bad:
        parts.append(f"{bad} path{'s' * (bad != 1)} could not be checked")
    return "; ".join(parts) + "."


def project_config(args: argparse.Namespace) -> ProjectConfig:
    """``--isolated``: none; ``--config FILE``: that file; else the nearest ``[tool.modreg]`` above the first path."""
    start = Path(args.stdin_filename).parent if args.stdin_filename else Path(args.paths[0] if args.paths else ".")
    if args.isolated:
        return ProjectConfig(root=Path.cwd().resolve())
    if args.config is not None:
        path = Path(args.config)
        if not path.is_file():
            raise UsageError(f"--config {args.config}: no such file")
        return load(path)
    return discover(start if start.exists() else Path.cwd())


def options_config(args: argparse.Namespace, pc: ProjectConfig) -> dict[str, Any]:
    """The command line's selection, validated by the same :func:`check_codes` as ``[tool.modreg]``."""
    kw: dict[str, Any] = {}
    if args.select is not None:
        kw["select"] = check_codes(args.select, "--select")
    ignore = None
    if args.ignore is not None:
        ignore = check_codes(args.ignore, "--ignore")
    if args.extend_ignore is not None:  # adds to the configured (or given) ignore list, as in flake8/ruff
        ignore = (pc.ignore if ignore is None else ignore) + check_codes(args.extend_ignore, "--extend-ignore")
    kw["ignore"] = ignore
    if args.extend_select is not None:
        kw["extend_select"] = pc.extend_select + check_codes(args.extend_select, "--extend-select")
    if args.module_bases is not None:
        kw["module_bases"] = args.module_bases.split(",")
    for setting in VERSION_SETTINGS:
        value = getattr(args, setting.replace("-", "_"), None)
        if value is not None:
            kw[setting.replace("-", "_")] = check_version(value, f"--{setting}", setting)
    return kw


def _cmd_check(args: argparse.Namespace, out: Any, err: Any, stdin: Any) -> int:
    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (all cores) or more")
    if args.fix_only:
        args.fix = True
    args.mode = "diff" if args.diff else "fix" if args.fix else "check"
    use_stdin = args.stdin_filename is not None or args.paths == ["-"]
    pc = project_config(args)
    config = pc.config(**options_config(args, pc))
    if args.show_files:
        skipped: list[tuple[str, str]] = []
        files, errors = list_files(args, pc, skipped)
        for f in files:
            out.write(f + "\n")
        for path, why in skipped:
            err.write(f"{path}: skipped: {why}\n")
        for path, msg in errors:
            err.write(f"{path}: error: {msg}\n")
        return 1 if errors else 0
    if args.update_baseline and args.baseline is None:
        raise UsageError("--update-baseline needs --baseline FILE")
    if args.add_noqa and (args.mode != "check" or use_stdin):
        raise UsageError("--add-noqa works on files, without --fix/--diff")
    if args.watch:
        if use_stdin or args.mode != "check" or args.add_noqa or args.update_baseline:
            raise UsageError("--watch re-checks files: not with stdin, --fix, --diff, --add-noqa or --update-baseline")
        return _watch(args, pc, config, out, err, stdin)
    if args.output_file is not None:
        try:
            with open(args.output_file, "w", encoding="utf-8", newline="") as fh:
                return _run_check(args, pc, config, fh, out, err, stdin)
        except OSError as e:
            raise UsageError(f"--output-file {args.output_file}: {e.strerror or e}") from None
    return _run_check(args, pc, config, out, out, err, stdin)


def _add_noqa(reports: list[FileReport], errors: list[tuple[str, str]], console: Any, err: Any) -> int:
    """``--add-noqa``: silence every current finding on its line (existing noqa codes kept)."""
    from .baseline import add_noqa_file
    from .rules import rule_by_code

    added, files, left = 0, 0, 0
    for r in reports:
        # a finding about the noqa comments themselves (MRG902) is not silenced by one more code: that would keep the
        # stale code forever; it is left for the user to remove
        wanted = [d for d in r.findings if not getattr(rule_by_code(d["code"]), "judges_findings", False)]
        left += len(r.findings) - len(wanted)
        if wanted and not r.error:
            try:
                n = add_noqa_file(r.path, wanted)
            except (OSError, ModregError) as e:
                r.error = str(e) if isinstance(e, ModregError) else _os_error(e)
                continue
            added += n
            files += 1 if n else 0
    for path, msg, line, col, cell in file_errors(reports, errors):
        err.write(f"{error_where(path, line, col, cell)}: error: {msg}\n")
    console.write(f"Added {added} noqa directive{'s' * (added != 1)} in {files} file{'s' * (files != 1)}.\n")
    if left:
        console.write(f"Left {left} unused-noqa finding{'s' * (left != 1)} (MRG902): remove those codes by hand.\n")
    return 1 if any(r.error for r in reports) or errors else 0


def _apply_baseline(args: argparse.Namespace, reports: list[FileReport], errors: list[tuple[str, str]], console: Any) -> int | None:
    """``--baseline FILE``: drop the findings FILE holds; with ``--update-baseline``, write FILE and stop."""
    from . import baseline

    path = Path(args.baseline)
    rows = [(r.path, d) for r in reports for d in r.findings]
    if args.update_baseline:
        try:
            n = baseline.write(path, rows)
        except OSError as e:
            raise UsageError(f"--baseline {path}: cannot write: {e.strerror or e}") from None
        console.write(f"Wrote {n} finding{'s' * (n != 1)} to the baseline {path}.\n")
        return 1 if any(r.error for r in reports) or errors else 0
    try:
        kept, _matched = baseline.new_only(rows, path)
    except ModregError as e:
        raise UsageError(str(e)) from None
    keep = {id(d) for _, d in kept}
    for r in reports:
        r.findings = [d for d in r.findings if id(d) in keep]
    args.baselined = _matched  # the summary says how many the baseline holds back
    return None


def _snapshot(args: argparse.Namespace, pc: ProjectConfig) -> dict[str, tuple[int, int]]:
    stamps = {}
    for f in list_files(args, pc)[0]:
        try:
            st = os.stat(f)
            stamps[f] = (st.st_mtime_ns, st.st_size)
        except OSError:
            pass
    return stamps


def _watch(args: argparse.Namespace, pc: ProjectConfig, config: Config, out: Any, err: Any, stdin: Any) -> int:
    """``--watch``: check, then re-check whenever a checked file changes, appears or goes (Ctrl-C ends it)."""
    import time

    interval = float(os.environ.get("MODREG_WATCH_INTERVAL", "0.5"))
    while True:
        stamps = _snapshot(args, pc)
        _run_check(args, pc, config, out, out, err, stdin)
        out.write(f"[{time.strftime('%H:%M:%S')}] watching for changes (Ctrl-C to stop)\n")
        out.flush()
        while _snapshot(args, pc) == stamps:
            time.sleep(interval)
        out.write("\nFile change detected; checking again.\n")


def _text_options(args: argparse.Namespace, out: Any) -> TextOptions:
    """``--color auto`` colours a terminal unless ``NO_COLOR`` is set (no-color.org); ``FORCE_COLOR`` forces it."""
    if args.color == "always":
        color = True
    elif args.color == "never":
        color = False
    else:
        isatty = getattr(out, "isatty", None)
        color = bool(os.environ.get("FORCE_COLOR")) or (
            not os.environ.get("NO_COLOR") and callable(isatty) and isatty() and os.environ.get("TERM") != "dumb"
        )
    return TextOptions(show_source=args.show_source, color=color, statistics=args.statistics, unsafe=args.unsafe_fixes)


def _run_check(args: argparse.Namespace, pc: ProjectConfig, config: Config, out: Any, console: Any, err: Any, stdin: Any) -> int:
    """The check itself: findings to ``out`` (stdout or ``--output-file``), the summary to ``console``."""
    use_stdin = args.stdin_filename is not None or args.paths == ["-"]
    text = _text_options(args, out)
    if use_stdin:
        name = args.stdin_filename or "-"
        source = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        task = Task(name, config, None, args.mode, args.unsafe_fixes, display=name, edits=args.format == "json")
        report = process(task, source)
        if args.mode == "fix":  # like ruff: the fixed source goes to stdout, findings to stderr
            out.write(report.diff if report.diff is not None else source.decode("utf-8", "surrogateescape"))
            if not args.fix_only:
                emit([report], [], "text" if args.format == "text" else args.format, err)
            if report.error:
                err.write(f"{error_where(name, report.error_line, report.error_col)}: error: {report.error}\n")
            if args.fix_only:
                return 0 if not report.error else 1
            return 0 if (args.exit_zero or not report.findings) and not report.error else 1
        reports, errors = [report], []
    else:
        reports, errors = check_paths(args, pc, config)
    if args.add_noqa:
        return _add_noqa(reports, errors, console, err)
    if args.baseline is not None:
        done = _apply_baseline(args, reports, errors, console)
        if done is not None:
            return done
    if args.mode == "diff":
        for r in reports:
            if r.diff:
                out.write(r.diff)
    elif not args.fix_only:
        emit(reports, errors, args.format, out, text)
    for path, msg, line, col, cell in file_errors(reports, errors):
        err.write(f"{error_where(path, line, col, cell)}: error: {msg}\n")
    if not args.quiet and args.format == "text" and args.mode != "diff" and not args.statistics:
        console.write(_summary(reports, errors, args) + "\n")
    elif not args.quiet and args.mode == "diff":
        err.write(_summary(reports, errors, args) + "\n")
    if any(r.refused for r in reports):
        return 2  # --fix was asked to write what the user may not write
    if args.exit_zero:
        return 0
    if args.fix_only:  # ruff's --fix-only: what is left is not reported and does not fail the run
        return 1 if any(r.error for r in reports) or errors else 0
    problems = any(r.findings or r.error for r in reports) or bool(errors)
    if args.mode == "diff":
        problems = problems or any(r.diff for r in reports)
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None, *, stdout: Any = None, stderr: Any = None, stdin: Any = None) -> int:
    out, err, inp = stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "lsp":
        try:
            from . import lsp
        except ImportError:
            err.write("modreg lsp needs the 'lsp' extra: pip install 'flake8-modreg[lsp]'\n")
            return 2
        return lsp.main(argv[1:])
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse printed the usage error
        return int(e.code or 0) and 2
    try:
        if args.command == "rules":
            return _cmd_rules(out, args.format)
        if args.command == "rule":
            return _cmd_rule(args.code, out)
        if args.command == "check":
            return _cmd_check(args, out, err, inp)
        parser.print_help(out)
        return 2
    except (UsageError, ConfigError) as e:
        err.write(f"modreg: error: {e}\n")
        return 2
    except KeyboardInterrupt:
        err.write("modreg: interrupted\n")
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
