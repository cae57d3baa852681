"""Every rule lives in its own module here; this package finds them all.

Adding a rule means adding a module with one ``Rule`` subclass: discovery,
the example tests, the docs pages and the README table pick it up.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from ._base import AtLine, Invalid, Probe, Reporter, Rule, Valid, registry

__all__ = ["AtLine", "Invalid", "Probe", "Reporter", "Rule", "Valid", "all_rules", "rule_by_code"]


@lru_cache(maxsize=None)
def all_rules() -> tuple[type[Rule], ...]:
    """All rule classes, sorted by code."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return tuple(sorted(registry().values(), key=lambda r: r.code))


def rule_by_code(code: str) -> type[Rule] | None:
    return next((r for r in all_rules() if r.code == code.upper()), None)
