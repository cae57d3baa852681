"""Which rules run, and which extra classes count as Module bases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


def _codes(values: Iterable[str] | None) -> tuple[str, ...]:
    if not values:
        return ()
    out = []
    for v in values:
        out.extend(p.strip().upper() for p in str(v).split(",") if p.strip())
    return tuple(out)


@dataclass(frozen=True)
class Config:
    """Settings shared by every adapter.

    ``select``/``ignore``/``extend_select`` take codes or prefixes (``MRG1``)
    and follow flake8's rule: the longest matching prefix decides.  A rule
    that is off by default (MRG9xx) behaves as if ``MRG9`` were ignored, so
    ``MRG`` does not switch it on but ``MRG9`` or ``MRG901`` does.
    ``select=None`` means the default set; ``("ALL",)`` means every rule.
    """

    module_bases: tuple[str, ...] = ()
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    #: re-raise exceptions from rules instead of logging them (tests use it)
    strict: bool = False

    @classmethod
    def make(cls, **kw: Any) -> "Config":
        for key in ("select", "ignore", "extend_select"):
            if key in kw and kw[key] is not None:
                kw[key] = _codes(kw[key])
        if "module_bases" in kw:
            kw["module_bases"] = tuple(b.strip() for b in kw["module_bases"] or () if b and b.strip())
        return cls(**kw)

    def enabled(self, code: str, default_enabled: bool = True) -> bool:
        def best(prefixes: Iterable[str]) -> int:
            return max((len(p) for p in prefixes if code.startswith(p)), default=-1)

        if self.select == ("ALL",):
            return True
        if self.select is None:
            sel = 3 if default_enabled else -1  # the implicit default selection is "MRG"
        else:
            sel = best(self.select)
        sel = max(sel, best(self.extend_select))
        ign = best(self.ignore)
        if not default_enabled:
            # as flake8's extend-default-ignore of "MRG9": only a prefix of four or more characters beats it
            ign = max(ign, 3)
        return sel >= 0 and sel > ign

    @property
    def everything(self) -> "Config":
        """Every rule on: the flake8 adapter leaves selection to flake8."""
        return Config(self.module_bases, ("ALL",), (), (), self.strict)
