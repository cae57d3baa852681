"""Re-parse only the top-level statements an edit touched (the language server's keystrokes on big files).

libcst's parse is most of a check (a 5,000-line model file: ~350 ms to parse,
~35 ms for the model and the rules).  An editor changes a few characters at a
time, so :func:`reparse` keeps the previous :class:`libcst.Module`, finds the
top-level statements the changed characters fall in, parses the new text of
just those statements, and splices the new nodes between the unchanged ones.
libcst nodes are immutable, so the result is an ordinary module; the model
and the rules then run over it as over a full parse.

Why the splice is the module a full parse would give (the same findings):
a top-level statement starts at column 0 outside any bracket or string,
where Python's tokenizer carries no state from the text before it.  So when
the new text of the touched statements parses *on its own* into complete
statements, the untouched statements after it tokenise exactly as before.
Anything else (the slice does not parse, the edit reaches the file's header
or footer, the slice would guess a different indentation or newline) falls
back to a full parse.  ``tests/test_incremental.py`` checks the equality
(code, findings and positions) after random edit sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import libcst as cst

from .core import unvalidated

#: below this many characters a full parse is cheap enough: no bookkeeping
MIN_CHARS = 20_000


@dataclass(frozen=True)
class Parsed:
    """A parsed text and the length of each piece of its code: header, each top-level statement, footer."""

    text: str
    module: cst.Module
    #: ``len(code)`` of the header, of every statement of ``module.body`` and of the footer
    lengths: tuple[int, ...]
    #: positions inside each top-level statement, by statement identity (``positions.statement_positions``)
    spans: dict[int, Any] = field(default_factory=dict, compare=False, repr=False)


def _lines_length(lines, module: cst.Module) -> int:
    if not lines:
        return 0
    return len(cst.Module(body=(), header=lines, default_indent=module.default_indent, default_newline=module.default_newline).code)


def _lengths(module: cst.Module) -> tuple[int, ...]:
    return (
        _lines_length(module.header, module),
        *(len(module.code_for_node(stmt)) for stmt in module.body),
        _lines_length(module.footer, module),
    )


def full(text: str, parse: Callable[[str], cst.Module]) -> Parsed:
    """A full parse; the pieces' lengths are kept for big files only (they cost a code generation)."""
    module = parse(text)
    keep = len(text) >= MIN_CHARS and module.has_trailing_newline and bool(module.body)
    return Parsed(text, module, _lengths(module) if keep else ())


def _common_prefix(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # binary search with C-speed slice comparisons
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def reparse(previous: Parsed | None, text: str, parse: Callable[[str], cst.Module]) -> Parsed:
    """``text`` parsed, reusing ``previous`` (the parse of an earlier version) where the text is unchanged.

    ``parse`` is the full parser (``core.parse``): it is used, and its errors
    propagate, whenever the splice cannot be trusted.
    """
    if previous is None or not previous.lengths or len(text) < MIN_CHARS:
        return full(text, parse)
    if text == previous.text:
        return previous
    spliced = _splice(previous, text)
    return spliced if spliced is not None else full(text, parse)


def _splice(previous: Parsed, text: str) -> Parsed | None:
    old, module, lengths = previous.text, previous.module, previous.lengths
    if sum(lengths) != len(old) or len(lengths) != len(module.body) + 2:
        return None
    # the changed characters: old[lo:hi] became text[lo:hi + delta]
    p = _common_prefix(old, text)
    s = _common_suffix(old, text, min(len(old), len(text)) - p)
    delta = len(text) - len(old)
    lo, hi = p, len(old) - s
    starts = []  # offset of each top-level statement in the old text
    offset = lengths[0]
    for n in lengths[1:-1]:
        starts.append(offset)
        offset += n
    if lo <= lengths[0] or hi >= offset:
        return None  # the edit reaches the header or the footer: rare; a full parse decides
    first = max(i for i, start in enumerate(starts) if start <= lo)
    if starts[first] == lo and first > 0:
        first -= 1  # text inserted at a statement's start may continue the statement before it
    last = first
    while last + 1 < len(starts) and starts[last + 1] <= hi:
        last += 1  # every statement the region holds or touches
    a, b = starts[first], starts[last] + lengths[last + 1]
    try:
        with unvalidated():
            sub = cst.parse_module(text[a : b + delta])
    except Exception:  # not complete statements on its own (an open bracket, a lone decorator): full parse
        return None
    if (
        not sub.body
        or not sub.has_trailing_newline
        or sub.default_indent != module.default_indent
        or sub.default_newline != module.default_newline
    ):
        return None
    body = list(sub.body)
    after = list(module.body[last + 1 :])
    tail = list(lengths[last + 2 : -1])
    if sub.footer:  # lines after the slice's last statement lead the next statement of the whole file
        if not after:
            return None
        after[0] = after[0].with_changes(leading_lines=[*sub.footer, *after[0].leading_lines])
        tail[0] += _lines_length(sub.footer, module)
    new_lengths = [len(sub.code_for_node(stmt)) for stmt in body]
    if sub.header:  # lines before the slice's first statement lead that statement in the whole file
        body[0] = body[0].with_changes(leading_lines=[*sub.header, *body[0].leading_lines])
        new_lengths[0] += _lines_length(sub.header, module)
    out = (*lengths[: first + 1], *new_lengths, *tail, lengths[-1])
    if sum(out) != len(text):
        return None
    return Parsed(text, module.with_changes(body=[*module.body[:first], *body, *after]), out)
