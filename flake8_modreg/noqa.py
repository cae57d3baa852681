"""``# noqa`` exactly as flake8 reads it, for the adapters that are not flake8 (CLI, LSP).

flake8's own rules, reproduced with its own regular expressions:

- ``# noqa`` alone silences every code on the line; ``# noqa: MRG101,MRG2``
  silences the codes listed and every code they are a prefix of (the codes
  are compared case-sensitively, the ``noqa`` marker is not);
- the comment is searched in the whole *token range* of the line: a
  multi-line string or a backslash-continued line is one range, so a
  ``# noqa`` on its last line covers all its lines (brackets do not join
  lines: flake8 ends a range at every ``NL`` token too);
- a line that is only ``# flake8: noqa`` silences the whole file.
"""

from __future__ import annotations

import functools
import io
import tokenize
from typing import Sequence

from flake8 import defaults, utils

from .findings import Finding


class Noqa:
    """The ``noqa`` view of one file's lines (with their line endings)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        self.file_ignored = any(defaults.NOQA_FILE.match(line) for line in self.lines)
        self._mapping: dict[int, str] | None = None
        self._spans: dict[int, tuple[int, int]] = {}
        self._mentioned: bool | None = None

    @classmethod
    def from_source(cls, source: str) -> "Noqa":
        # Lines as flake8 reads a file (universal newlines): ``str.splitlines``
        # would also break at form feeds and U+2028, shifting line numbers.
        return cls(io.StringIO(source, newline=None).readlines())

    def _line_mapping(self) -> dict[int, str]:
        if self._mapping is not None:
            return self._mapping
        ret: dict[int, str] = {}
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO("".join(self.lines)).readline))
        except (tokenize.TokenError, SyntaxError, ValueError):
            tokens = []
        lo, hi = len(self.lines) + 2, -1
        for tp, _text, (s_line, _), (e_line, _), _ in tokens:
            if tp in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            lo, hi = min(lo, s_line), max(hi, e_line)
            if tp in (tokenize.NL, tokenize.NEWLINE):
                joined = "".join(self.lines[lo - 1 : hi])
                for n in range(lo, hi + 1):
                    ret[n] = joined
                    self._spans[n] = (lo, hi)
                lo, hi = len(self.lines) + 2, -1
        self._mapping = ret
        return ret

    def comment_for(self, line: int) -> str:
        """The text searched for ``# noqa`` when reporting on ``line`` (1-based)."""
        mapping = self._line_mapping()
        if line in mapping:
            return mapping[line]
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def span(self, line: int) -> tuple[int, int]:
        """The first and last line (1-based) of the range searched for ``line``'s ``# noqa``."""
        self._line_mapping()
        return self._spans.get(line, (line, line))

    def _mentions_noqa(self) -> bool:
        if self._mentioned is None:
            self._mentioned = any("noqa" in line.lower() for line in self.lines)
        return self._mentioned

    def suppresses(self, code: str, line: int) -> bool:
        if self.file_ignored:
            return True
        if not self._mentions_noqa():
            return False  # nothing can match: no need to tokenize the file (about 0.3x a parse)
        match = defaults.NOQA_INLINE_REGEXP.search(self.comment_for(line))
        if match is None:
            return False
        codes_str = match.groupdict()["codes"]
        if codes_str is None:
            return True
        codes = set(utils.parse_comma_separated_list(codes_str))
        return code in codes or code.startswith(tuple(codes))

    def filter(self, findings: Sequence[Finding]) -> list[Finding]:
        return [f for f in findings if not self.suppresses(f.code, f.line)]


@functools.lru_cache(maxsize=8)
def _noqa_for(text: str | bytes) -> Noqa:
    if isinstance(text, bytes):
        from .core import decode

        text = decode(text)
    return Noqa.from_source(text)


def keep_unsuppressed(finding: Finding, text: str | bytes) -> bool:
    """A ``keep`` callback for :func:`flake8_modreg.fixer.fix`: skip what ``# noqa`` silences."""
    return not _noqa_for(text).suppresses(finding.code, finding.line)
