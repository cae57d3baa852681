"""Adoption on an existing code base: ``--add-noqa`` and ``--baseline FILE``.

``--add-noqa`` writes ``# noqa: CODE`` on the line flake8 reads for each
current finding (the last line of a multi-line string or backslash
continuation), adding the code to an existing ``# noqa: X`` list instead of a
second comment; existing codes are kept.  Notebooks get it in their cell
sources.

``--baseline FILE`` reports only findings that are not in ``FILE``;
``--update-baseline`` (re)writes ``FILE`` with the current findings.  An
entry is the rule, the path (relative to the baseline's folder) and the
stripped text of the reported line (plus the cell of a notebook) — not the
line number, so edits elsewhere in the file keep old findings matched.  Each
entry is used once: a second identical finding on a new line is reported.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from .findings import ModregError

VERSION = 1


def _key_path(path: str, base: Path) -> str:
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(base.resolve()).as_posix()
    except ValueError:
        return absolute.as_posix()


def _line_text(lines: list[str] | None, line: int) -> str:
    return lines[line - 1].strip() if lines and 0 < line <= len(lines) else ""


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def entries(rows: Iterable[tuple[str, dict]], base: Path) -> list[dict]:
    """Baseline entries for ``rows`` (``(path, finding dict)``)."""
    from .output import _Sources

    sources = _Sources()
    out = []
    for path, d in rows:
        e = {
            "path": _key_path(path, base),
            "code": d["code"],
            "line_hash": _hash(_line_text(sources.lines(path, d.get("cell")), d["line"])),
            "line": d["line"],  # for people reading the file; not matched
            "message": d["message"],
        }
        if d.get("cell") is not None:
            e["cell"] = d["cell"]
        out.append(e)
    return out


def _match_key(e: dict) -> tuple:
    return (e["path"], e["code"], e.get("cell"), e["line_hash"])


def load(path: Path) -> Counter:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
            raise ValueError("not a modreg baseline (version 1)")
        return Counter(_match_key(e) for e in data["findings"])
    except FileNotFoundError:
        raise ModregError(f"--baseline {path}: no such file (create it with --update-baseline)") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModregError(f"--baseline {path}: cannot read: {' '.join(str(e).split())}") from None


def write(path: Path, rows: list[tuple[str, dict]]) -> int:
    items = entries(rows, path.parent)
    items.sort(key=lambda e: (e["path"], e.get("cell") or 0, e["line"], e["code"]))
    doc = {"version": VERSION, "tool": "modreg", "findings": items}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return len(items)


def new_only(rows: list[tuple[str, dict]], path: Path) -> tuple[list[tuple[str, dict]], int]:
    """The rows the baseline at ``path`` does not hold, and how many it matched."""
    known = load(path)
    kept = []
    matched = 0
    for (p, d), e in zip(rows, entries(rows, path.parent)):
        k = _match_key(e)
        if known[k] > 0:
            known[k] -= 1
            matched += 1
        else:
            kept.append((p, d))
    return kept, matched


# --- --add-noqa -----------------------------------------------------------------------------------


def add_noqa_text(text: str, findings: Iterable[tuple[int, str]]) -> tuple[str, int]:
    """``text`` with ``# noqa: CODE`` for each ``(line, code)``; and how many codes were added."""
    from .lsp import noqa_edit, split_lines
    from .noqa import Noqa

    added = 0
    for line, code in sorted(set(findings)):
        lines = split_lines(text)
        edit = noqa_edit(Noqa(lines), line, code)
        if edit is None:
            continue
        ln = lines[edit.line]
        lines[edit.line] = ln[: edit.start] + edit.text + ln[edit.end :]
        text = "".join(lines)
        added += 1
    return text, added


def add_noqa_file(path: str, report_findings: list[dict[str, Any]]) -> int:
    """Write the ``# noqa`` comments for one file's findings into it; the number of codes added."""
    from .cli import _atomic_write
    from .core import decode
    from .notebook import Notebook, is_notebook

    data = Path(path).read_bytes()
    if is_notebook(path):
        nb = Notebook.parse(data)
        back = {pos: n for n, pos in enumerate(nb.line_map) if pos is not None}
        wanted = [(back[(d["cell"], d["line"])], d["code"]) for d in report_findings if (d.get("cell"), d["line"]) in back]
        new, added = add_noqa_text(nb.source, wanted)
        if added:
            _atomic_write(path, nb.with_source(new))
        return added
    text = decode(data)
    new, added = add_noqa_text(text, [(d["line"], d["code"]) for d in report_findings])
    if added:
        import io
        import tokenize

        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        if encoding == "utf-8-sig":
            encoding = "utf-8"
        bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
        _atomic_write(path, bom + new.encode(encoding, "surrogateescape"))
    return added
