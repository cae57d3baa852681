"""What ``modreg check`` prints: text (with source snippets and colour), GitHub annotations, JSON, SARIF, GitLab.

Every format takes the same rows: ``(path, finding dict)`` (the dicts of
``cli._finding_dict``; a notebook finding also carries ``cell``, its 1-based
cell number, with ``line``/``end_line`` counted inside that cell) and the
files that could not be checked, ``(path, message, line | None, col | None)``.
One severity table (:func:`flake8_modreg.findings.severity`) decides
``error``/``warning`` for SARIF, GitHub and the editor alike.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from . import __version__
from .findings import severity

#: a file that could not be checked: path, message, line, 0-based column, notebook cell (each None when unknown)
FileError = tuple[str, str, "int | None", "int | None", "int | None"]


@dataclass(frozen=True)
class TextOptions:
    show_source: bool = False
    color: bool = False
    statistics: bool = False
    #: ``--unsafe-fixes`` without ``--fix``: mark the findings that have an unsafe fix
    unsafe: bool = False


def _rule_index() -> dict[str, Any]:
    from .rules import all_rules

    return {r.code: r for r in all_rules()}


def _docs_url(code: str) -> str:
    from .docs import DOCS_URL

    return DOCS_URL.format(code=code)


def where(path: str, d: dict) -> str:
    """``path:line:col`` (1-based column), or ``nb.ipynb:cell 3:line:col`` for a notebook cell."""
    cell = f"cell {d['cell']}:" if d.get("cell") is not None else ""
    return f"{path}:{cell}{d['line']}:{d['col'] + 1}"


def error_where(path: str, line: int | None, col: int | None, cell: int | None = None) -> str:
    if line is None:
        return path
    return f"{path}:{'' if cell is None else f'cell {cell}:'}{line}:{(col or 0) + 1}"


# --- text -----------------------------------------------------------------------------------------

_BOLD, _RED, _CYAN, _BLUE, _RESET = "\x1b[1m", "\x1b[31m", "\x1b[36m", "\x1b[34m", "\x1b[0m"


def _paint(text: str, *styles: str, on: bool) -> str:
    return f"{''.join(styles)}{text}{_RESET}" if on else text


class _Sources:
    """The lines of the files findings point into, read once (a notebook's lines are its cells')."""

    def __init__(self) -> None:
        self._lines: dict[tuple[str, int | None], list[str] | None] = {}

    def lines(self, path: str, cell: int | None = None) -> list[str] | None:
        key = (path, cell)
        if key not in self._lines:
            self._lines[key] = self._read(path, cell)
        return self._lines[key]

    @staticmethod
    def _read(path: str, cell: int | None) -> list[str] | None:
        try:
            if cell is not None:
                from .notebook import cell_sources

                cells = cell_sources(Path(path).read_bytes())
                return cells[cell - 1].splitlines() if 0 < cell <= len(cells) else None
            from .core import decode

            return decode(Path(path).read_bytes()).splitlines()
        except Exception:
            return None


def snippet(lines: list[str], d: dict, color: bool) -> list[str]:
    """ruff's source snippet: the reported line (and one before) with a caret line under the node."""
    line = d["line"]
    if not 0 < line <= len(lines):
        return []
    first = max(1, line - 1)
    width = len(str(line))
    gutter = _paint(" " * width + " |", _BLUE, _BOLD, on=color)
    out = [gutter]
    for n in range(first, line + 1):
        out.append(_paint(f"{n:>{width}} |", _BLUE, _BOLD, on=color) + " " + lines[n - 1].rstrip("\r\n"))
    text = lines[line - 1]
    start = min(d["col"], len(text))
    end = d["end_col"] if d["end_line"] == line else len(text.rstrip())
    carets = "^" * max(1, min(end, len(text)) - start)
    out.append(gutter + " " + " " * start + _paint(f"{carets} {d['code']}", _RED, _BOLD, on=color))
    out.append(gutter)
    return out


def emit_text(rows: list[tuple[str, dict]], opts: TextOptions, out: Any) -> None:
    if opts.statistics:
        counts = Counter(d["code"] for _, d in rows)
        names = {d["code"]: d["name"] for _, d in rows}
        fixable = {d["code"] for _, d in rows if d["fix"] == "safe" or (opts.unsafe and d["fix"] == "unsafe")}
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            mark = "[*]" if code in fixable else "   "
            out.write(f"{n:>5}\t{_paint(code, _RED, _BOLD, on=opts.color)}\t{mark} {names[code]}\n")
        return
    sources = _Sources()
    for path, d in rows:
        loc = _paint(where(path, d), _BOLD, on=opts.color)
        code = _paint(d["code"], _RED, _BOLD, on=opts.color)
        mark = " [unsafe fix available]" if opts.unsafe and d["fix"] == "unsafe" else ""
        out.write(f"{loc}: {code} {d['message']}: {d['fix_hint']}{mark}\n")
        if opts.show_source:
            lines = sources.lines(path, d.get("cell"))
            if lines:
                for ln in snippet(lines, d, opts.color):
                    out.write(ln + "\n")
                out.write("\n")


class _NotebookLines:
    """Where a notebook position lies in the ``.ipynb`` file itself.

    The tools that show files -- GitHub's annotations and code scanning, GitLab's Code Quality -- number the
    lines of the file in the repository, and a notebook is JSON there: a finding at line 7 of cell 3 is shown
    at the line of the ``.ipynb`` file that holds that code line (:func:`notebook.file_lines`; nbformat writes
    one source line per JSON string).  No column: one inside a JSON string is not the code's.  The cell and
    the position inside it go into the text, as the text output writes them.
    """

    def __init__(self) -> None:
        self._files: dict[str, list[list[int]] | None] = {}

    def line(self, path: str, cell: int, line: int) -> int:
        """The line of ``path`` holding ``line`` of ``cell`` (1 when the file does not tell)."""
        if path not in self._files:
            from .notebook import file_lines

            try:
                self._files[path] = file_lines(Path(path).read_bytes().decode("utf-8", "replace"))
            except OSError:
                self._files[path] = None
        cells = self._files[path]
        if cells is None or not 0 < cell <= len(cells) or not cells[cell - 1]:
            return 1
        lines = cells[cell - 1]
        return lines[min(max(line, 1), len(lines)) - 1]

    def span(self, path: str, d: dict) -> tuple[int, int]:
        """(first, last) line of the file for a finding of a notebook cell."""
        begin = self.line(path, d["cell"], d["line"])
        return begin, max(begin, self.line(path, d["cell"], d["end_line"]))


def cell_where(cell: int, line: int | None, col: int | None) -> str:
    """``cell 3, line 7, column 9`` (1-based column), or ``cell 3`` without a line."""
    return f"cell {cell}" + ("" if line is None else f", line {line}, column {(col or 0) + 1}")


# --- GitHub Actions -------------------------------------------------------------------------------


def gh_data(text: str) -> str:
    """Escape a workflow command's message (``%``, ``\\r``, ``\\n``), as @actions/core does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def gh_property(text: str) -> str:
    """Escape a workflow command's property value (also ``:`` and ``,``)."""
    return gh_data(text).replace(":", "%3A").replace(",", "%2C")


def emit_github(rows: list[tuple[str, dict]], file_errors: list[FileError], out: Any) -> None:
    """A notebook's annotation sits on the ``.ipynb`` file's line (:class:`_NotebookLines`), its title names the cell."""
    notebooks = _NotebookLines()
    for path, d in rows:
        title = f"{d['code']} ({d['name']})"
        if d.get("cell") is not None:
            begin, end = notebooks.span(path, d)
            where = [f"line={begin}", f"endLine={end}"]
            title += f" ({cell_where(d['cell'], d['line'], d['col'])})"
        else:
            where = [f"line={d['line']}", f"col={d['col'] + 1}", f"endLine={d['end_line']}", f"endColumn={d['end_col'] + 1}"]
        props = [f"file={gh_property(path)}", *where, f"title={gh_property(title)}"]
        msg = gh_data(f"{d['code']} {d['message']}: {d['fix_hint']}")
        out.write(f"::{severity(d['code'])} {','.join(props)}::{msg}\n")
    for path, msg, line, col, cell in file_errors:
        props = [f"file={gh_property(path)}"]
        if cell is not None:
            props.append(f"line={notebooks.line(path, cell, line or 1)}")
            props.append("title=" + gh_property(f"modreg ({cell_where(cell, line, col)})"))
        else:
            if line is not None:
                props += [f"line={line}", f"col={(col or 0) + 1}"]
            props.append("title=modreg")
        out.write(f"::error {','.join(props)}::{gh_data(msg)}\n")


# --- JSON -----------------------------------------------------------------------------------------


def json_doc(rows: list[tuple[str, dict]], file_errors: list[FileError]) -> dict:
    findings = []
    for path, d in rows:
        fix = None
        if d["fix"] is not None:
            fix = {"applicability": d["fix"], "title": d["fix_title"], "message": d["fix_title"]}
            if d.get("edits") is not None:
                fix["edits"] = d["edits"]
        item = {
            "path": path,
            "code": d["code"],
            "name": d["name"],
            "message": d["message"],
            "fix_hint": d["fix_hint"],
            "severity": severity(d["code"]),
            "line": d["line"],
            "column": d["col"] + 1,
            "end_line": d["end_line"],
            "end_column": d["end_col"] + 1,
            "fix": fix,
            "url": _docs_url(d["code"]),
        }
        if d.get("cell") is not None:
            item["cell"] = d["cell"]
        findings.append(item)
    errors = []
    for path, msg, line, col, cell in file_errors:
        e: dict[str, Any] = {"path": path, "message": msg}
        if line is not None:
            e["line"], e["column"] = line, (col or 0) + 1
        if cell is not None:
            e["cell"] = cell
        errors.append(e)
    return {"version": 1, "tool": {"name": "modreg", "version": __version__}, "findings": findings, "errors": errors}


# --- SARIF ----------------------------------------------------------------------------------------


def repository_root(start: Path | None = None) -> Path | None:
    """The nearest folder holding ``.git`` (a folder, or a file in a worktree), from ``start`` (cwd) up."""
    here = (start or Path.cwd()).resolve()
    for d in [here, *here.parents]:
        if (d / ".git").exists():
            return d
    return None


def _help(rule: Any) -> dict:
    fix = rule.fix_summary or rule.fix_hint
    return {
        "text": f"{rule.summary}. Fix: {fix}. See {_docs_url(rule.code)}",
        "markdown": rule.doc(),
    }


class _Fingerprints:
    """A finding's identity that survives unrelated edits: the rule, the file (as ``uri`` names it), the cell and
    the stripped text of the reported line, plus its rank among identical ones, never the line number."""

    def __init__(self) -> None:
        self.sources = _Sources()
        self.seen: Counter = Counter()

    def of(self, path: str, uri: str, d: dict) -> str:
        lines = self.sources.lines(path, d.get("cell"))
        text = lines[d["line"] - 1].strip() if lines and 0 < d["line"] <= len(lines) else ""
        key = (d["code"], uri, d.get("cell"), text)
        self.seen[key] += 1
        return hashlib.sha256(json.dumps([*key, self.seen[key]], ensure_ascii=False).encode()).hexdigest()


def sarif(rows: list[tuple[str, dict]], file_errors: Iterable[FileError], root: Path | None = None) -> dict:
    """A SARIF 2.1.0 log that GitHub code scanning accepts.

    Columns are code points, 1-based.  URIs are relative to ``root`` (the
    repository root: the run's folder does not matter) with ``uriBaseId``
    ``%SRCROOT%``, or absolute ``file://`` URIs outside it or without a repository.
    Each result has a ``partialFingerprints`` entry that survives unrelated
    edits: the rule, the file and the stripped text of the reported line
    (plus its rank among identical ones), not the line number.
    """
    rules = _rule_index()
    root = root if root is not None else repository_root()
    used = sorted({d["code"] for _, d in rows} | set(rules))
    order = {c: i for i, c in enumerate(used)}
    descriptors = []
    for code in used:
        r = rules.get(code)
        desc: dict[str, Any] = {
            "id": code,
            "name": r.name if r else code,
            "shortDescription": {"text": r.summary if r else code},
            "fullDescription": {"text": (r.message if r else code).replace("{", "").replace("}", "")},
            "helpUri": _docs_url(code),
            "defaultConfiguration": {"level": severity(code)},
        }
        if r is not None:
            desc["help"] = _help(r)
        descriptors.append(desc)

    def location(path: str) -> dict:
        absolute = Path(os.path.abspath(path))
        if root is not None:
            try:
                return {"uri": absolute.relative_to(root).as_posix(), "uriBaseId": "%SRCROOT%"}
            except ValueError:
                pass
        return {"uri": absolute.as_uri()}

    fingerprints = _Fingerprints()
    notebooks = _NotebookLines()
    results = []
    for path, d in rows:
        loc = location(path)
        digest = fingerprints.of(path, loc["uri"], d)
        region: dict[str, int]
        if d.get("cell") is not None:  # the .ipynb file's lines, as code scanning shows the file
            begin, end = notebooks.span(path, d)
            region = {"startLine": begin, "endLine": end}
        else:
            region = {"startLine": d["line"], "startColumn": d["col"] + 1, "endLine": d["end_line"], "endColumn": d["end_col"] + 1}
        physical: dict[str, Any] = {"artifactLocation": loc, "region": region}
        result: dict[str, Any] = {
            "ruleId": d["code"],
            "ruleIndex": order[d["code"]],
            "level": severity(d["code"]),
            "message": {"text": f"{d['code']} {d['message']}: {d['fix_hint']}"},
            "locations": [{"physicalLocation": physical}],
            "partialFingerprints": {"modregLineHash/v1": digest[:32]},
        }
        if d.get("cell") is not None:
            result["properties"] = {"cell": d["cell"], "cellLine": d["line"], "cellColumn": d["col"] + 1}
            result["locations"][0]["message"] = {"text": cell_where(d["cell"], d["line"], d["col"])}
        results.append(result)
    notifications = []
    for path, msg, line, col, cell in file_errors:
        physical = {"artifactLocation": location(path)}
        if cell is not None:
            physical["region"] = {"startLine": notebooks.line(path, cell, line or 1)}
            msg = f"{msg} ({cell_where(cell, line, col)})"
        elif line is not None:
            physical["region"] = {"startLine": line, "startColumn": (col or 0) + 1}
        notifications.append({"level": "error", "message": {"text": msg}, "locations": [{"physicalLocation": physical}]})
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "modreg",
                "semanticVersion": __version__,
                "informationUri": "https://github.com/flake8-modreg/flake8-modreg",
                "rules": descriptors,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
    }
    if root is not None:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": root.as_uri() + "/"}}
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}


# --- GitLab Code Quality ----------------------------------------------------------------------------

#: GitLab's severities for ours: code that cannot run is critical, silently lost state is major
GITLAB_SEVERITY = {"error": "critical", "warning": "major"}


def gitlab(rows: list[tuple[str, dict]], file_errors: Iterable[FileError], root: Path | None = None) -> list[dict]:
    """A GitLab Code Quality report (``artifacts: reports: codequality:``), as ruff's ``--output-format gitlab``.

    Paths are relative to ``$CI_PROJECT_DIR`` (else the repository root, else as given); each issue has a
    stable ``fingerprint`` (the SARIF one: unrelated edits do not make it a new issue in the merge request).
    A notebook's issue is located by the lines of the ``.ipynb`` file that hold the reported code lines (what
    GitLab's file view and its ``#L`` links number: :func:`notebook.file_lines`), with ``lines`` rather than
    ``positions`` (a column inside a JSON string is not the code's column); the description names the cell and
    the position inside it, as the text output does (``cell 2, line 4, column 9``).
    """
    project = os.environ.get("CI_PROJECT_DIR")
    base = Path(project).resolve() if project else (root if root is not None else repository_root())

    def relative(path: str) -> str:
        absolute = Path(os.path.abspath(path))
        if base is not None:
            try:
                return absolute.relative_to(base).as_posix()
            except ValueError:
                pass
        return Path(path).as_posix()

    notebooks = _NotebookLines()

    fingerprints = _Fingerprints()
    issues = []
    for path, d in rows:
        rel = relative(path)
        location: dict[str, Any] = {"path": rel}
        description = f"({d['code']}) {d['message']}: {d['fix_hint']}"
        if d.get("cell") is not None:
            begin, end = notebooks.span(path, d)
            location["lines"] = {"begin": begin, "end": end}
            description += f" ({cell_where(d['cell'], d['line'], d['col'])})"
        else:
            location["positions"] = {
                "begin": {"line": d["line"], "column": d["col"] + 1},
                "end": {"line": d["end_line"], "column": d["end_col"] + 1},
            }
        issues.append({
            "type": "issue",
            "check_name": d["code"],
            "description": description,
            "categories": ["Bug Risk"],
            "severity": GITLAB_SEVERITY[severity(d["code"])],
            "fingerprint": fingerprints.of(path, rel, d)[:32],
            "location": location,
        })
    for path, msg, line, col, cell in file_errors:
        rel = relative(path)
        begin, where = line or 1, ""
        if cell is not None:
            begin = notebooks.line(path, cell, line or 1)
            where = f" ({cell_where(cell, line, col)})"
        issues.append({
            "type": "issue",
            "check_name": "modreg-error",
            "description": f"{msg}{where}",
            "categories": ["Bug Risk"],
            "severity": "critical",
            "fingerprint": hashlib.sha256(json.dumps(["error", rel, cell, msg]).encode()).hexdigest()[:32],
            "location": {"path": rel, "lines": {"begin": begin}},
        })
    return issues


# --- all formats ----------------------------------------------------------------------------------


def emit(
    rows: list[tuple[str, dict]], file_errors: list[FileError], fmt: str, out: Any, text: TextOptions | None = None
) -> None:
    if fmt == "text":
        emit_text(rows, text or TextOptions(), out)
    elif fmt == "github":
        emit_github(rows, file_errors, out)
    elif fmt == "json":
        json.dump(json_doc(rows, file_errors), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "sarif":
        json.dump(sarif(rows, file_errors), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "gitlab":
        json.dump(gitlab(rows, file_errors), out, indent=2, ensure_ascii=False)
        out.write("\n")
