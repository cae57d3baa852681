"""Apply the rules' fixes: one transformer per round, imports via libcst, loop until stable.

A rule attaches a :class:`~flake8_modreg.findings.Fix` to a finding: node
replacements (by identity, on the module the check parsed) and imports to
add.  :func:`fix` checks the source, applies every applicable fix whose
nodes do not overlap another fix of the same round, and re-checks the result
until nothing applicable is left (or ``max_rounds`` is reached).  Everything
outside the replaced nodes is kept byte for byte, including the encoding, the
BOM-less/BOM form the caller gave and the line endings (libcst round-trips
them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from .core import _RECURSION_LIMIT, TOO_DEEP, FileContext, check_module, on_deep_stack
from .findings import Applicability, Finding, Fix, ModregError
from .settings import Config


@dataclass
class FixResult:
    """The outcome of :func:`fix`.

    ``source`` has the same type as the input (``str`` or ``bytes``);
    ``applied`` lists the findings whose fix went in (over all rounds);
    ``remaining`` is what a check of the final text still reports.
    """

    source: str | bytes
    applied: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def applicable(finding: Finding, *, unsafe: bool = False) -> bool:
    f = finding.fix
    if f is None:
        return False
    return f.applicability is Applicability.SAFE or (unsafe and f.applicability is Applicability.UNSAFE)


class _Replace(cst.CSTTransformer):
    def __init__(self, table: dict[int, tuple[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel]]) -> None:
        super().__init__()
        self.table = table

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        hit = self.table.get(id(original_node))
        if hit is not None and hit[0] is original_node:
            return hit[1]
        return updated_node


def _subtree_ids(node: cst.CSTNode) -> set[int]:
    out: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        out.add(id(n))
        stack.extend(n.children)
    return out


def _disjoint(fixes: list[tuple[Finding, Fix]]) -> list[tuple[Finding, Fix]]:
    """Keep fixes whose replaced nodes neither coincide with nor contain another's."""
    taken: set[int] = set()
    chosen = []
    for finding, f in fixes:
        ids: set[int] = set()
        for old, _new in f.replacements:
            ids |= _subtree_ids(old)
        if ids & taken:
            continue
        taken |= ids
        chosen.append((finding, f))
    return chosen


def apply_fixes(module: cst.Module, fixes: list[Fix]) -> cst.Module:
    """Apply non-overlapping ``fixes`` to ``module`` (a pure function)."""
    table = {id(old): (old, new) for f in fixes for old, new in f.replacements}
    old_limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
        new = module.visit(_Replace(table))
        imports = [imp for f in fixes for imp in f.imports]
        if imports:
            context = CodemodContext()
            for mod, obj, asname in imports:
                AddImportsVisitor.add_needed_import(context, mod, obj, asname)
            new = AddImportsVisitor(context).transform_module(new)
    finally:
        sys.setrecursionlimit(old_limit)
    assert isinstance(new, cst.Module)
    return new


def fix(
    source: str | bytes,
    *,
    path: str | None = None,
    config: Config | None = None,
    unsafe: bool = False,
    keep: Callable[[Finding, str | bytes], bool] | None = None,
    max_rounds: int = 8,
    context: FileContext | None = None,
) -> FixResult:
    """Fix what can be fixed in ``source``; see the module docstring.

    ``keep(finding, text)`` filters findings (of the current round's ``text``)
    before their fixes are considered; the CLI passes its ``# noqa`` filter.  Raises :class:`ModregError` when the
    source does not parse, or when a fix would produce text that does not
    re-parse (then nothing is changed: the caller must not write).
    """
    try:
        return on_deep_stack(_fix, source, path, config, unsafe, keep, max_rounds, context)
    except RecursionError:
        raise ModregError(TOO_DEEP) from None


def _fix(
    source: str | bytes,
    path: str | None,
    config: Config | None,
    unsafe: bool,
    keep: Callable[[Finding, str | bytes], bool] | None,
    max_rounds: int,
    context: FileContext | None,
) -> FixResult:
    bom = isinstance(source, str) and source.startswith("\ufeff")
    text = source[1:] if bom else source  # type: ignore[index]
    applied: list[Finding] = []
    findings: list[Finding] = []
    for _ in range(max_rounds):
        module, findings = check_module(text, path=path, config=config, context=context)
        todo = [(f, f.fix) for f in findings if applicable(f, unsafe=unsafe) and (keep is None or keep(f, text))]
        if module is None or not todo:
            break
        if (module.bytes if isinstance(text, bytes) else module.code) != text:
            # libcst does not round-trip every input (e.g. bare-CR line endings
            # lose their last CR): refuse rather than change bytes we did not mean to
            raise ModregError("cannot fix this file safely: the parser does not reproduce it byte for byte (bare CR line endings?)")
        chosen = _disjoint(todo)  # type: ignore[arg-type]
        new_module = apply_fixes(module, [f for _, f in chosen])
        new_text: str | bytes = new_module.bytes if isinstance(text, bytes) else new_module.code
        if new_text == text:
            break
        try:
            cst.parse_module(new_text)
        except Exception as e:  # a fix must never turn valid code into invalid code
            raise ModregError(f"internal error: fixes {sorted({f.code for f, _ in chosen})} broke the syntax: {e}") from None
        text = new_text
        applied.extend(f for f, _ in chosen)
    else:
        module, findings = check_module(text, path=path, config=config, context=context)
    if bom:
        text = "\ufeff" + text  # type: ignore[operator]
    return FixResult(text, applied, findings)
