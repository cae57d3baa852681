"""Text edits between two versions of a source, in ruff's JSON shape.

``fix.edits`` of ``modreg check --format json`` are what ruff prints: each
edit replaces the text from ``location`` to ``end_location`` (1-based row,
1-based column in code points) with ``content``.  Edits are minimal per block
of changed lines, in order and non-overlapping, so a bot can apply them
bottom-up to the original text.
"""

from __future__ import annotations

import difflib
import re

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split where libcst and editors split (``\\r\\n``, ``\\r``, ``\\n``)."""
    return _LINE.findall(text)


def _position(lines: list[str], starts: list[int], offset: int) -> dict[str, int]:
    import bisect

    i = max(bisect.bisect_right(starts, offset) - 1, 0)
    return {"row": i + 1, "column": offset - starts[i] + 1}


def text_edits(old: str, new: str) -> list[dict]:
    """``[{"content", "location", "end_location"}]`` turning ``old`` into ``new``."""
    if old == new:
        return []
    a, b = split_lines(old), split_lines(new)
    starts, acc = [], 0
    for ln in a:
        starts.append(acc)
        acc += len(ln)
    if not a or a[-1].endswith(("\n", "\r")):
        starts.append(acc)  # the empty line after the last line ending
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        old_block, new_block = "".join(a[i1:i2]), "".join(b[j1:j2])
        p = 0  # trim what the block keeps at both ends
        n = min(len(old_block), len(new_block))
        while p < n and old_block[p] == new_block[p]:
            p += 1
        s = 0
        while s < n - p and old_block[-1 - s] == new_block[-1 - s]:
            s += 1
        lo, hi = starts[i1] + p, starts[i1] + len(old_block) - s
        edits.append(
            {
                "content": new_block[p : len(new_block) - s],
                "location": _position(a, starts, lo),
                "end_location": _position(a, starts, hi),
            }
        )
    return edits


def apply_edits(old: str, edits: list[dict]) -> str:
    """``old`` with ``edits`` applied (the inverse of :func:`text_edits`; tests and bots use it)."""
    starts, acc = [], 0
    for ln in split_lines(old):
        starts.append(acc)
        acc += len(ln)
    starts.append(acc)

    def offset(pos: dict[str, int]) -> int:
        return starts[pos["row"] - 1] + pos["column"] - 1

    out = old
    for e in sorted(edits, key=lambda e: (e["location"]["row"], e["location"]["column"]), reverse=True):
        out = out[: offset(e["location"])] + e["content"] + out[offset(e["end_location"]) :]
    return out
