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


def fix_edits(module, fixes: list) -> list[list[dict] | None]:
    """The edits of each fix, without regenerating the module per fix (a file with hundreds of fixes stays linear).

    A fix that only replaces expressions becomes one edit per replacement: the
    replaced node's span (as the positions module computes it, in one pass for
    every fix) and the new node's code.  Other fixes (statements, imports) are
    applied to the module and diffed, at most :data:`MAX_FULL` of them per file;
    beyond that their edits are ``None``.
    """
    import libcst as cst

    from .positions import node_positions

    direct = [
        f is not None and not f.imports and all(
            # a parenthesised node's position excludes its parentheses, which its code includes
            isinstance(old, cst.BaseExpression) and isinstance(new, cst.BaseExpression) and not getattr(old, "lpar", ())
            for old, new in f.replacements
        )
        for f in fixes
    ]
    nodes = [old for f, ok in zip(fixes, direct) if ok for old, _new in f.replacements]
    positions = node_positions(module, nodes) if nodes else {}
    out: list[list[dict] | None] = []
    full = 0
    for f, ok in zip(fixes, direct):
        if f is None:
            out.append(None)
        elif ok:
            edits = []
            for old, new in f.replacements:
                rng = positions[old]
                edits.append(
                    {
                        "content": module.code_for_node(new),
                        "location": {"row": rng.start.line, "column": rng.start.column + 1},
                        "end_location": {"row": rng.end.line, "column": rng.end.column + 1},
                    }
                )
            edits.sort(key=lambda e: (e["location"]["row"], e["location"]["column"]))
            out.append(edits)
        elif full < MAX_FULL:
            from .fixer import apply_fixes

            full += 1
            out.append(text_edits(module.code, apply_fixes(module, [f]).code))
        else:
            out.append(None)
    return out


#: fixes per file whose edits are computed by applying them to the whole module
MAX_FULL = 20
