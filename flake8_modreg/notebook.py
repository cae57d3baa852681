"""Jupyter notebooks (``.ipynb``): their code cells as one Python source, and back.

As ruff does, the code cells are joined in order into one module, so a class
defined in cell 2 and used in cell 5 is one program; each cell starts on a new
line.  Between two cells the joined source holds one marker comment (never
reported, and the way a fixed source is split back into its cells).  IPython
syntax that is not Python is masked with ``pass`` at the same indentation:
line magics and shell escapes (``%timeit``, ``!pip install``, ``x = !ls``),
help (``?obj``, ``obj?``), and whole cells run by a cell magic (``%%bash``)
— so the rest of the cell still parses and positions do not move.  A notebook
whose kernel language is not Python (R, Julia) has nothing to check.

Positions map back to ``(cell, line)`` (1-based; cells are counted as the
notebook shows them, markdown and raw cells included).  :meth:`Notebook.with_source`
puts a fixed source back into the code cells' ``source`` only: outputs,
execution counts and metadata are left as they are.  Reading and writing go
through ``nbformat``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .findings import ModregError

SUFFIX = ".ipynb"
_MARK = "# modreg-cell-boundary"
_MASKED = re.compile(r"^(\s*)pass  # modreg-masked (\d+)$")
_MAGIC = re.compile(r"^\s*(?:[%!?]|[\w.,\s\[\]()*]+=\s*[%!]|[\w.]+\?{1,2}\s*$)")


def is_notebook(path: str | None) -> bool:
    return bool(path) and str(path).endswith(SUFFIX)


def _masked(line: str) -> bool:
    return bool(_MAGIC.match(line))


def join_cells(cells: list[tuple[int, str]]) -> tuple[str, list[tuple[int, int] | None], dict[int, str]]:
    """Join ``(cell number, source)`` pairs: the source, each line's ``(cell, line)`` (index 0 unused), the masks."""
    lines: list[str] = []
    line_map: list[tuple[int, int] | None] = [None]
    masks: dict[int, str] = {}
    for k, (number, src) in enumerate(cells):
        if k:
            lines.append(_MARK + "\n")
            line_map.append(None)
        cell_lines = src.splitlines()
        whole = bool(cell_lines) and cell_lines[0].lstrip().startswith("%%")
        for n, line in enumerate(cell_lines, 1):
            if whole or _masked(line):
                mask_id = len(masks)
                masks[mask_id] = line
                indent = line[: len(line) - len(line.lstrip())] if not whole else ""
                line = f"{indent}pass  # modreg-masked {mask_id}"
            lines.append(line + "\n")
            line_map.append((number, n))
    return "".join(lines), line_map, masks


def language_of(node: Any) -> str | None:
    """The notebook's kernel language (``metadata.language_info.name``, else ``kernelspec.language``), lower-case."""
    meta = node.get("metadata", {}) or {}
    for value in ((meta.get("language_info") or {}).get("name"), (meta.get("kernelspec") or {}).get("language")):
        if isinstance(value, str) and value:
            return value.lower()
    return None


@dataclass
class Notebook:
    """A parsed notebook and its joined code."""

    node: Any  # nbformat.NotebookNode
    #: indices (into ``node.cells``) of the code cells, in order
    code_cells: list[int]
    #: the joined, masked Python source
    source: str
    #: for each line of ``source`` (1-based: index 0 unused): (cell number 1-based, line in cell 1-based) or None
    line_map: list[tuple[int, int] | None] = field(default_factory=list)
    #: the original text of masked lines, by mask id
    masks: dict[int, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes | str) -> "Notebook":
        import nbformat

        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            node = nbformat.reads(text, as_version=4)
        except Exception as e:  # invalid JSON / not a notebook: one line
            raise ModregError(f"not a readable notebook: {' '.join(str(e).split())[:200]}") from None
        language = language_of(node)
        if language is not None and language != "python":  # an R or Julia notebook: no Python to check
            return cls(node, [], "", [None], {})
        code_cells = [i for i, cell in enumerate(node.cells) if cell.get("cell_type") == "code"]
        texts = []
        for i in code_cells:
            src = node.cells[i].get("source", "")
            texts.append((i + 1, "".join(src) if isinstance(src, list) else src))
        source, line_map, masks = join_cells(texts)
        return cls(node, code_cells, source, line_map, masks)

    def position(self, line: int) -> tuple[int, int] | None:
        """``(cell, line in cell)`` of a line of :attr:`source`, or None for a boundary."""
        return self.line_map[line] if 0 < line < len(self.line_map) else None

    def cell_sources(self) -> list[str]:
        """Every cell's source text (all cells, as the notebook numbers them)."""
        out = []
        for cell in self.node.cells:
            src = cell.get("source", "")
            out.append("".join(src) if isinstance(src, list) else src)
        return out

    def with_source(self, new: str) -> bytes:
        """The notebook with the code cells' sources taken from ``new`` (a fixed :attr:`source`)."""
        import copy

        import nbformat

        node = copy.deepcopy(self.node)
        olds = []
        for index in self.code_cells:
            old = node.cells[index].get("source", "")
            olds.append("".join(old) if isinstance(old, list) else old)
        for index, old_text, text in zip(self.code_cells, olds, split_source(new, self.masks, olds)):
            if text != old_text:
                node.cells[index]["source"] = text
        return (nbformat.writes(node) + "\n").encode("utf-8")


def split_source(new: str, masks: dict[int, str], old_texts: list[str]) -> list[str]:
    """The code cells' texts of ``new`` (a joined source, fixed): masked lines restored, each cell keeping
    its old final newline and line ending.  ``old_texts`` are the code cells' texts ``new`` was joined from."""
    chunks: list[list[str]] = [[]]
    for line in new.splitlines():
        if line == _MARK:
            chunks.append([])
        else:
            m = _MASKED.match(line)
            chunks[-1].append(masks[int(m.group(2))] if m and int(m.group(2)) in masks else line)
    if len(chunks) != len(old_texts):
        raise ModregError("the fix moved a cell boundary; the notebook is left unchanged")
    out = []
    for lines, old in zip(chunks, old_texts):
        eol = "\r\n" if "\r\n" in old else "\n"
        out.append(eol.join(lines) + (eol if old.endswith(("\n", "\r")) else ""))
    return out


def cell_sources(data: bytes) -> list[str]:
    """The source of every cell of the notebook ``data`` (for source snippets)."""
    return Notebook.parse(data).cell_sources()


def map_finding(nb: Notebook, d: dict) -> dict:
    """A finding dict in cell coordinates: ``cell``, and ``line``/``end_line`` inside that cell."""
    start = nb.position(d["line"]) or (0, d["line"])
    end = nb.position(d["end_line"])
    out = dict(d, cell=start[0], line=start[1])
    if end is not None and end[0] == start[0]:
        out["end_line"] = end[1]
    else:  # ends past its cell (cannot happen for one statement): clamp to the start line
        out["end_line"], out["end_col"] = start[1], max(d["end_col"], d["col"] + 1) if d["end_line"] == d["line"] else d["col"] + 1
    return out


def file_lines(text: str) -> list[list[int]] | None:
    """For each cell (numbered as the notebook shows them), the line of the ``.ipynb`` file that holds each line
    of its source (1-based; ``str.splitlines`` of the joined source), or None when the JSON is not a v4 notebook's.

    What GitLab and other file views number: ``nbformat`` writes one source line per JSON string, so a code line
    has its own file line; a source written as one string (all its lines on one file line) maps every line there.
    """
    import bisect
    import json

    decoder = json.JSONDecoder()
    ws = re.compile(r"[ \t\n\r]*")
    newlines = [i for i, c in enumerate(text) if c == "\n"]

    def line_of(pos: int) -> int:
        return bisect.bisect_left(newlines, pos) + 1

    def skip(i: int) -> int:
        return ws.match(text, i).end()  # type: ignore[union-attr]

    def items(i: int, close: str) -> list[tuple[str | None, int, int]]:
        """(key or None, value start, value end) of the object or array opening at ``i``."""
        out: list[tuple[str | None, int, int]] = []
        i = skip(i + 1)
        if text[i] == close:
            return out
        while True:
            key = None
            if close == "}":
                key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
                i = skip(i)
                if text[i] != ":":
                    raise ValueError("expected ':'")
                i = skip(i + 1)
            end = decoder.raw_decode(text, i)[1]
            out.append((key, i, end))
            i = skip(end)
            if text[i] == close:
                return out
            if text[i] != ",":
                raise ValueError("expected ','")
            i = skip(i + 1)

    def value(i: int, close: str, key: str) -> int | None:
        found = [start for k, start, _end in items(i, close) if k == key]
        return found[-1] if found else None  # a repeated key: the last wins, as in json.loads

    try:
        top = skip(0)
        cells = value(top, "}", "cells") if text[top] == "{" else None
        if cells is None or text[cells] != "[":
            return None
        out = []
        for _k, cell, _end in items(cells, "]"):
            src = value(cell, "}", "source") if text[cell] == "{" else None
            pieces: list[tuple[str, int]] = []  # (text, file line of its JSON string)
            if src is not None and text[src] == "[":
                pieces = [(json.loads(text[s:e]), line_of(s)) for _k2, s, e in items(src, "]")]
            elif src is not None and text[src] == '"':
                pieces = [(decoder.raw_decode(text, src)[0], line_of(src))]
            starts, at = [], 0
            for piece, _line in pieces:
                starts.append(at)
                at += len(piece)
            joined = "".join(p for p, _ in pieces)
            lines, offset = [], 0
            for line in joined.splitlines(keepends=True):
                lines.append(pieces[bisect.bisect_right(starts, offset) - 1][1])
                offset += len(line)
            out.append(lines)
        return out
    except (ValueError, IndexError, TypeError):
        return None
