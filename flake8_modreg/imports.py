"""A light alias table: local name -> qualified name, built from import statements.

This replaces libcst's ``QualifiedNameProvider`` (measured at about 4x the cost
of a parse) with a dict lookup.  It is deliberately flow-insensitive: every
import in the file counts, wherever it stands (inside ``try``/``if`` or a
function), because the code that uses the name usually runs after all of them.
"""

from __future__ import annotations

from .known import normalize

_AMBIGUOUS = object()


class ImportTable:
    __slots__ = ("_names",)

    def __init__(self) -> None:
        self._names: dict[str, object] = {}

    # -- building -------------------------------------------------------
    def bind(self, local: str, qualified: str) -> None:
        """Record ``local`` as a name for ``qualified``.

        A name bound to two different qualified names (``import torch.nn as
        nn`` in one branch, ``from mindspore import nn`` in another) becomes
        ambiguous and resolves to nothing.
        """
        old = self._names.get(local)
        if old is None:
            self._names[local] = qualified
        elif old != qualified:
            self._names[local] = _AMBIGUOUS

    def rebind(self, local: str) -> None:
        """A module-level assignment to an imported name: stop trusting it."""
        if local in self._names:
            self._names[local] = _AMBIGUOUS

    # -- queries ---------------------------------------------------------
    def __contains__(self, local: str) -> bool:
        return local in self._names

    def names(self) -> dict[str, str]:
        return {k: v for k, v in self._names.items() if isinstance(v, str)}

    def qualify(self, dotted: str | None) -> str | None:
        """``nn.Linear`` -> ``torch.nn.Linear`` (normalized), or None."""
        if not dotted:
            return None
        head, sep, rest = dotted.partition(".")
        q = self._names.get(head)
        if not isinstance(q, str):
            return None
        return normalize(q + sep + rest)

    def alias_for(self, qualified: str) -> str:
        """The shortest local spelling of ``qualified`` in this file, or ``qualified`` itself."""
        best: str | None = None
        for local, q in self._names.items():
            if not isinstance(q, str):
                continue
            if qualified == q:
                cand = local
            elif qualified.startswith(q + "."):
                cand = local + qualified[len(q) :]
            else:
                continue
            if best is None or len(cand) < len(best):
                best = cand
        return best or qualified
