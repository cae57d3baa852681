"""Positions of a few nodes, at a fraction of ``PositionProvider``'s cost.

libcst's ``PositionProvider`` regenerates the module and, for every token,
splits it on newlines to keep a running (line, column); on a 1,000-line file
that costs about 2.5x the parse itself, and it dominated the time to check a
file with any finding (the editor's latency).  Here the same code generation
records only *token indices* (``len(tokens)``) where ``PositionProvider``
records positions, with the same rules (syntactic positions, the
``start_node``/``end_node`` hoisting, whitespace-inclusive fallback), and
turns the indices of the requested nodes into (line, column) once at the end.
The result is identical to ``PositionProvider`` for every node
(``tests/test_positions.py`` compares them node by node).
"""

from __future__ import annotations

import bisect
import itertools
import re
from contextlib import contextmanager
from typing import Iterable, Iterator

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

try:  # libcst internals; every supported libcst is tested against PositionProvider
    from libcst._nodes.internal import CodegenState
except ImportError:  # pragma: no cover - a future libcst moved it: use the public provider
    CodegenState = None  # type: ignore[assignment,misc]

_NEWLINE = re.compile(r"\r\n?|\n")  # the split libcst's own provider uses


class _IndexState(CodegenState or object):  # type: ignore[misc]
    """Code generation that records node spans as token indices."""

    __slots__ = ("spans", "stack")

    def __init__(self, default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.spans: dict[int, tuple[int, int]] = {}
        self.stack: list[int] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        # a syntactic position recorded inside wins over the whitespace-inclusive one
        self.spans.setdefault(id(node), (start, len(self.tokens)))

    def pop_trailing_newline(self) -> None:
        # PositionProvider counts the newline before it is popped; keep it so offsets agree.
        pass

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        start = len(self.tokens)
        try:
            yield
        finally:
            end = len(self.tokens)
            if start_node is not None:
                start = self.spans[id(start_node)][0]
            if end_node is not None:
                end = self.spans[id(end_node)][1]
            self.spans[id(node)] = (start, end)


def node_positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, CodeRange]:
    """``{node: CodeRange}`` for ``nodes`` of ``module``, as ``PositionProvider`` gives them.

    Nodes are keyed by identity; a node that is not part of ``module`` raises ``KeyError``.
    """
    if CodegenState is None:  # pragma: no cover
        return dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
    state = _IndexState(module.default_indent, module.default_newline)
    module._codegen(state)
    tokens = state.tokens
    offsets = [0, *itertools.accumulate(map(len, tokens))]
    code = "".join(tokens)
    line_starts = [0, *(m.end() for m in _NEWLINE.finditer(code))]

    def at(index: int) -> CodePosition:
        off = offsets[index]
        line = bisect.bisect_right(line_starts, off)
        return CodePosition(line, off - line_starts[line - 1])

    out: dict[cst.CSTNode, CodeRange] = {}
    for node in nodes:
        start, end = state.spans[id(node)]
        out[node] = CodeRange(at(start), at(end))
    return out


#: a statement's own spans: (the statement, node id -> token span, token offsets, line starts of its code)
StatementSpans = tuple[cst.CSTNode, dict[int, tuple[int, int]], list[int], list[int]]


def _statement_spans(stmt: cst.CSTNode, module: cst.Module) -> StatementSpans:
    state = _IndexState(module.default_indent, module.default_newline)
    stmt._codegen(state)
    tokens = state.tokens
    offsets = [0, *itertools.accumulate(map(len, tokens))]
    line_starts = [0, *(m.end() for m in _NEWLINE.finditer("".join(tokens)))]
    return stmt, state.spans, offsets, line_starts


def _newlines(text: str, start: int, end: int) -> int:
    """Line breaks in ``text[start:end]`` as libcst counts them (``\\r\\n``, ``\\r``, ``\\n``)."""
    return text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)


def statement_positions(
    module: cst.Module,
    nodes: Iterable[cst.CSTNode],
    text: str,
    lengths: tuple[int, ...],
    cache: dict[int, StatementSpans],
    previous: dict[int, StatementSpans] | None = None,
) -> dict[cst.CSTNode, CodeRange]:
    """:func:`node_positions` for a module whose code is ``text``, one top-level statement at a time.

    ``lengths`` are the code lengths of the header, of each statement of
    ``module.body`` and of the footer (``incremental.Parsed``).  A top-level
    statement starts at column 0 of a line whose number the text before it
    gives, and its code does not depend on the statements around it, so the
    positions inside it are those of its own code generation shifted by that
    line.  Those are kept in ``cache`` (filled here) by statement identity,
    and taken from ``previous`` (an earlier version's cache) for statements
    an edit left alone: a keystroke regenerates only the statements it
    touched.  Nodes found in no statement fall back to :func:`node_positions`.
    """
    wanted = {id(n): n for n in nodes}
    out: dict[cst.CSTNode, CodeRange] = {}
    if len(lengths) != len(module.body) + 2 or sum(lengths) != len(text):
        return node_positions(module, wanted.values())
    if previous is not None and previous is not cache:
        for stmt in module.body:  # what an edit left alone carries over, needed now or not
            entry = previous.get(id(stmt))
            if entry is not None and entry[0] is stmt:
                cache.setdefault(id(stmt), entry)
    offset = lengths[0]
    line = 1 + _newlines(text, 0, offset)
    for stmt, size in zip(module.body, lengths[1:-1]):
        if not wanted:
            break
        entry = cache.get(id(stmt))
        if entry is None or entry[0] is not stmt:
            entry = cache[id(stmt)] = _statement_spans(stmt, module)
        _, spans, offsets, line_starts = entry
        found = [k for k in wanted if k in spans]
        for k in found:
            start, end = spans[k]
            positions = []
            for index in (start, end):
                off = offsets[index]
                rel = bisect.bisect_right(line_starts, off)
                positions.append(CodePosition(line + rel - 1, off - line_starts[rel - 1]))
            out[wanted.pop(k)] = CodeRange(positions[0], positions[1])
        line += _newlines(text, offset, offset + size)
        offset += size
    if wanted:
        out.update(node_positions(module, wanted.values()))
    return out
