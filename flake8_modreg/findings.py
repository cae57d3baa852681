"""What the checker reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Applicability(enum.Enum):
    """Fix safety, with ruff's meanings."""

    NONE = "none"  # no automatic fix
    SAFE = "safe"  # keeps the program's meaning apart from the bug it removes
    UNSAFE = "unsafe"  # right in intent, but may change behaviour beyond the bug (e.g. state_dict keys)


@dataclass(frozen=True)
class Fix:
    """An automatic fix: libcst node replacements plus imports to add.

    ``replacements`` map nodes of the parsed module (by identity) to new
    nodes; ``imports`` are ``(module, obj, asname)`` triples for libcst's
    ``AddImportsVisitor``.  The fixer applies them in one transformer.
    """

    replacements: tuple[tuple[Any, Any], ...]
    applicability: Applicability
    title: str = ""
    imports: tuple[tuple[str, str | None, str | None], ...] = ()


@dataclass(frozen=True)
class Finding:
    """One problem at one place.

    ``line``/``end_line`` are 1-based; ``col``/``end_col`` are 0-based code
    points (what flake8 expects before it adds 1, and what libcst produces).
    """

    code: str
    name: str
    message: str
    fix_hint: str
    line: int
    col: int
    end_line: int
    end_col: int
    fix: Fix | None = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        """The one-line form used by flake8: code, problem, remedy."""
        return f"{self.code} {self.message}: {self.fix_hint}"

    def sort_key(self) -> tuple[int, int, str]:
        return (self.line, self.col, self.code)


#: rules whose finding means the code cannot run at all (it raises, or a method is never called):
#: ``error`` in SARIF, ``::error`` in GitHub annotations and Error in the editor; every other rule is a warning
CANNOT_RUN = frozenset({"MRG301", "MRG302", "MRG304", "MRG404"})


def severity(code: str) -> str:
    """``"error"`` or ``"warning"``: the one severity every output (SARIF, GitHub, editor) gives ``code``."""
    return "error" if code in CANNOT_RUN else "warning"


class ModregError(Exception):
    """The input cannot be checked (it does not parse, or is nested too deep).

    ``str()`` is always a single line.
    """

    def __init__(self, message: str, *, line: int | None = None, col: int | None = None) -> None:
        message = " ".join(str(message).split())
        super().__init__(message)
        self.line = line
        self.col = col
